/* SPDX-License-Identifier: MIT */
/*
 * A main() for the fuzz targets without libFuzzer: runs each file named on
 * the command line (or standard input) through LLVMFuzzerTestOneInput().
 * For AFL++ (afl-clang-fast ... standalone.c, input from stdin) and for
 * replaying a corpus under any compiler.
 */
#include <stdlib.h>

#include "fuzz.h"

static int
run(FILE *fp)
{
	size_t n = 0, cap = 4096;
	uint8_t *buf = malloc(cap);
	size_t got;

	if (buf == NULL)
		return -1;
	while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap * 2);

			if (nb == NULL) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	int i;

	if (argc < 2)
		return run(stdin) == 0 ? 0 : 1;
	for (i = 1; i < argc; i++) {
		FILE *fp = fopen(argv[i], "rb");

		if (fp == NULL || run(fp) != 0) {
			fprintf(stderr, "standalone: cannot read '%s'\n",
				argv[i]);
			return 1;
		}
		fclose(fp);
	}
	return 0;
}
