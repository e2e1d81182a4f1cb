/* SPDX-License-Identifier: MIT */
/* Samples for the unit tests of the sums and the aggregate. */
#ifndef SAMPLE_FIXTURE_H
#define SAMPLE_FIXTURE_H

#include <string.h>

#include "gpu/sample.h"

static struct gpu_str
str(const char *s)
{
	struct gpu_str r = {s, strlen(s)};

	return r;
}

/* A sample of job and user (empty: none) with the given numbers. */
static struct gpu_sample
smp(int64_t ts, const char *node, int gpu, double util, int64_t used,
    const char *job, const char *user)
{
	struct gpu_sample s;

	memset(&s, 0, sizeof(s));
	s.ts_ms = ts;
	s.node = str(node);
	s.gpu = gpu;
	s.util_pct = util;
	s.mem_used_mib = used;
	s.job_id = str(job);
	s.user = str(user);
	s.project = str("");
	s.model = str("");
	return s;
}

#endif
