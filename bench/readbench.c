/* SPDX-License-Identifier: MIT */
/* Time gpu_reader over a sample file: rows per second on one core. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gpu/diag.h"
#include "gpu/reader.h"
#include "gpu/tz.h"

/*
 * Build: cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude \
 *   bench/readbench.c build/libgpucore.a -lcjson -lcsv -lm -o build/readbench
 * Run:   build/readbench FILE [NODE [ZONE]] (ZONE: as --input-tz)
 */
int
main(int argc, char **argv)
{
	struct gpu_reader_opts opts = {GPU_FMT_AUTO, NULL, NULL, false, 0};
	struct gpu_err err;
	struct gpu_reader *r;
	struct gpu_tz *tz = NULL;
	struct gpu_sample s;
	struct gpu_reject rej;
	struct timespec a, b;
	long line, nsamp = 0, nrej = 0;
	double secs, sum = 0;
	FILE *fp;
	int rc;

	gpu_diag_init(argv[0]);
	if (argc < 2) {
		gpu_msg("usage: readbench FILE [NODE [ZONE]]");
		return GPU_EXIT_USAGE;
	}
	opts.node = argc > 2 && argv[2][0] != '\0' ? argv[2] : NULL;
	if (argc > 3 && (tz = gpu_tz_load(argv[3], &err)) == NULL) {
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	fp = fopen(argv[1], "rb");
	if (fp == NULL) {
		gpu_msg("cannot open '%s'", argv[1]);
		gpu_tz_free(tz);
		return GPU_EXIT_FAIL;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = gpu_reader_new(fp, argv[1], &opts, &err);
	if (r == NULL) {
		gpu_msg_err(&err);
		fclose(fp);
		gpu_tz_free(tz);
		return GPU_EXIT_FAIL;
	}
	gpu_reader_set_tz(r, tz);
	while ((rc = gpu_reader_next(r, &s, &line, &rej, &err)) > 0) {
		if (rc == GPU_READ_SAMPLE) {
			nsamp++;
			sum += s.util_pct;
		} else {
			nrej++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (rc < 0)
		gpu_msg_err(&err);
	gpu_reader_free(r);
	gpu_tz_free(tz);
	fclose(fp);
	secs = (double)(b.tv_sec - a.tv_sec) +
	       (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf(
	    "%ld samples, %ld rejects, %.3f s, %.0f rows/s (util sum %.1f)\n",
	    nsamp, nrej, secs, (double)(nsamp + nrej) / secs, sum);
	return rc < 0 ? GPU_EXIT_FAIL : GPU_EXIT_OK;
}
