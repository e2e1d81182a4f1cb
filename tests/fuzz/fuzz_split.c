/* SPDX-License-Identifier: MIT */
/*
 * The split reader against the plain one: the input, written to a file,
 * is read by gpu_reader_next() and by gpu_readahead_start_split() in tiny
 * pieces on several threads (the first byte picks 2 to 4 threads, 1 to 4
 * lines a piece, --node and --columns); every row, line, reject and error
 * must be the same.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "gpu/diag.h"
#include "gpu/readahead.h"
#include "gpu/reader.h"
#include "gpu/sample.h"

static bool
str_eq(struct gpu_str a, struct gpu_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static bool
same(const struct gpu_sample *a, const struct gpu_sample *b)
{
	return a->ts_ms == b->ts_ms && str_eq(a->node, b->node) &&
	       a->gpu == b->gpu &&
	       memcmp(&a->util_pct, &b->util_pct, sizeof(double)) == 0 &&
	       a->mem_used_mib == b->mem_used_mib &&
	       a->mem_total_mib == b->mem_total_mib &&
	       str_eq(a->job_id, b->job_id) && str_eq(a->user, b->user) &&
	       str_eq(a->project, b->project) && str_eq(a->model, b->model) &&
	       str_eq(a->gpu_uuid, b->gpu_uuid) &&
	       str_eq(a->profile, b->profile) && a->mig == b->mig &&
	       a->has_mig == b->has_mig && a->interval_s == b->interval_s;
}

static char input_path[64];

static void
remove_input(void)
{
	unlink(input_path);
}

/* The file the input is written to, made once, removed at exit. */
static const char *
input_file(void)
{
	if (input_path[0] == '\0') {
		int fd;

		strcpy(input_path, "/tmp/fuzz_split.XXXXXX");
		if ((fd = mkstemp(input_path)) < 0)
			__builtin_trap();
		close(fd);
		atexit(remove_input);
	}
	return input_path;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpu_reader_opts ro;
	struct gpu_reader *plain = NULL, *split = NULL;
	struct gpu_readahead *ra;
	struct gpu_err e1, e2;
	const char *path = input_file();
	FILE *fa, *fb;
	int rc;

	if (size < 1)
		return 0;
	fa = fopen(path, "wb");
	if (fa == NULL || fwrite(data + 1, 1, size - 1, fa) != size - 1 ||
	    fclose(fa) != 0)
		__builtin_trap();
	memset(&ro, 0, sizeof(ro));
	ro.format = GPU_FMT_CSV;
	if (data[0] & 0x40)
		ro.node = "fuzz-node";
	if (data[0] & 0x80) /* headerless: read by one thread */
		ro.columns = "timestamp,node,gpu,util_pct,mem_used_mib,"
			     "mem_total_mib,job_id";
	fa = fopen(path, "rb");
	fb = fopen(path, "rb");
	if (fa == NULL || fb == NULL)
		__builtin_trap();
	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	rc = gpu_reader_open(fa, "fuzz", &ro, &plain, &e1);
	if (gpu_reader_open(fb, "fuzz", &ro, &split, &e2) != rc)
		__builtin_trap();
	if (rc != 0)
		goto out;
	ra = gpu_readahead_start_split(split, fb, 0, "fuzz", &ro,
				       2 + data[0] % 3, 1 + (data[0] >> 2) % 4);
	if (ra == NULL)
		__builtin_trap();
	do {
		struct gpu_sample s1, s2;
		struct gpu_reject j1, j2;
		long l1 = 0, l2 = 0;
		long long off;

		rc = gpu_reader_next(plain, &s1, &l1, &j1, &e1);
		if (gpu_readahead_next(ra, &s2, &l2, &j2, &off, &e2) != rc)
			__builtin_trap();
		if (rc == GPU_READ_SAMPLE && (l1 != l2 || !same(&s1, &s2) ||
					      off != gpu_reader_offset(plain)))
			__builtin_trap();
		if (rc == GPU_READ_REJECT &&
		    (j1.line != j2.line || strcmp(j1.reason, j2.reason) != 0 ||
		     !str_eq(j1.raw, j2.raw)))
			__builtin_trap();
		if (rc < 0 &&
		    (strcmp(e1.msg, e2.msg) != 0 || e1.line != e2.line))
			__builtin_trap();
	} while (rc > 0);
	gpu_readahead_stop(ra);
out:
	gpu_reader_free(plain);
	gpu_reader_free(split);
	fclose(fa);
	fclose(fb);
	return 0;
}
