/* SPDX-License-Identifier: MIT */
/*
 * The allocation reader (include/gpu/alloc.h): CSV/JSON Lines, scontrol
 * show job -d and prolog/epilog lines.
 */
#include "fuzz.h"
#include "gpu/alloc.h"
#include "gpu/diag.h"
#include "gpu/reader.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpu_alloc_reader *r;
	struct gpu_alloc a;
	struct gpu_reject rej;
	struct gpu_err err;
	long line;
	FILE *fp = fuzz_file(data, size);

	r = gpu_alloc_reader_new(fp, "fuzz", &err);
	while (r != NULL && gpu_alloc_next(r, &a, &line, &rej, &err) > 0)
		;
	gpu_alloc_reader_free(r);
	fclose(fp);
	return 0;
}
