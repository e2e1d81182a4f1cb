/* SPDX-License-Identifier: MIT */
/*
 * The sample reader (CSV, JSON Lines, nvidia-smi CSV): the first byte picks
 * the format (auto, csv, jsonl) and whether --node is given; every sample
 * handed out must satisfy the reader's own invariants.
 */
#include <string.h>

#include "fuzz.h"
#include "gpu/diag.h"
#include "gpu/reader.h"
#include "gpu/sample.h"

static int
has_nul(struct gpu_str v)
{
	return v.len > 0 && memchr(v.p, '\0', v.len) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum gpu_format fmts[] = {GPU_FMT_AUTO, GPU_FMT_CSV,
					       GPU_FMT_JSONL};
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
	ro.format = fmts[data[0] % 3];
	if (data[0] & 4)
		ro.node = "fuzz-node";
	fp = fuzz_file(data + 1, size - 1);
	r = gpu_reader_new(fp, "fuzz", &ro, &err);
	while (r != NULL &&
	       (rc = gpu_reader_next(r, &s, &line, &rej, &err)) > 0) {
		if (rc == GPU_READ_REJECT) {
			if (rej.reason == NULL || rej.line < 1)
				__builtin_trap();
			continue;
		}
		/* A sample's text never holds a NUL: it would be cut short. */
		if (has_nul(s.node) || has_nul(s.user) || has_nul(s.job_id) ||
		    has_nul(s.project) || s.gpu < 0 || s.node.len == 0)
			__builtin_trap();
	}
	gpu_reader_free(r);
	fclose(fp);
	return 0;
}
