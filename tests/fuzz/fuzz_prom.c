/* SPDX-License-Identifier: MIT */
/*
 * The dcgm-exporter reader (Prometheus text, docs/FORMAT.md 1.5) through
 * the sample reader: the first byte picks whether --node and --at are
 * given; every sample handed out must satisfy the reader's invariants.
 */
#include <string.h>

#include "fuzz.h"
#include "gpu/diag.h"
#include "gpu/reader.h"
#include "gpu/sample.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpu_reader_opts ro;
	struct gpu_reader *r;
	struct gpu_err err;
	struct gpu_sample s;
	struct gpu_reject rej;
	long line;
	FILE *fp;
	int rc;

	if (size < 1)
		return 0;
	memset(&ro, 0, sizeof(ro));
	ro.format = GPU_FMT_PROMETHEUS;
	if (data[0] & 1)
		ro.node = "fuzz-node";
	/* 2026-11-28T16:00:00Z; without it a scrape takes its series' times. */
	ro.has_at = (data[0] & 2) != 0;
	ro.at_ms = INT64_C(1795881600000);
	fp = fuzz_file(data + 1, size - 1);
	r = gpu_reader_new(fp, "fuzz", &ro, &err);
	while (r != NULL &&
	       (rc = gpu_reader_next(r, &s, &line, &rej, &err)) > 0) {
		if (rc == GPU_READ_REJECT) {
			if (rej.reason == NULL || rej.line < 1)
				__builtin_trap();
			continue;
		}
		if (s.node.len == 0 || s.gpu < 0 || s.util_pct < 0 ||
		    s.util_pct > 100 || s.mem_used_mib < 0)
			__builtin_trap();
	}
	gpu_reader_free(r);
	fclose(fp);
	return 0;
}
