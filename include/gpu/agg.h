/* SPDX-License-Identifier: MIT */
/* Aggregation (SPEC.md section 3): additive sums, metrics, group tables. */
#ifndef GPU_AGG_H
#define GPU_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "gpu/diag.h"
#include "gpu/sample.h"
#include "gpu/time.h"
#include "gpu/writer.h"

/* The default memory-overage threshold: 16 GiB. */
#define GPU_DEFAULT_THRESHOLD_MIB INT64_C(16384)

/*
 * The additive sums of a group, from which every metric is derived. d is
 * a sample's duration in seconds. Merging two groups adds their sums (and
 * takes the larger maximum), so hour rows combine into any period exactly.
 */
struct gpu_sums {
	int64_t samples;
	int64_t gpu_seconds;	  /* sum d */
	int64_t alloc_seconds;	  /* sum d, allocated samples */
	int64_t idle_seconds;	  /* sum d, util < 5 */
	double busy;		  /* sum d * util_pct */
	double alloc_busy;	  /* sum d * util_pct, allocated */
	int64_t mem_used_s;	  /* sum d * mem_used_mib */
	int64_t max_mem;	  /* max mem_used_mib; -1: no samples */
	double mem_util_s;	  /* sum d * mem_util_pct, samples with a total */
	int64_t mem_util_seconds; /* sum d, samples with a total */
	double power_s;		  /* sum d * power_w */
	int64_t power_seconds;	  /* sum d, samples with power */
	int64_t overage;	  /* sum d * max(0, used - threshold), allocated */
};

/* Empty sums. */
void gpu_sums_init(struct gpu_sums *s);

/* Add one sample of duration interval_s with the overage threshold. */
void gpu_sums_add(struct gpu_sums *s, const struct gpu_sample *smp,
		  int interval_s, int64_t threshold_mib);

/* Add the sums of another group. */
void gpu_sums_merge(struct gpu_sums *into, const struct gpu_sums *from);

#endif
