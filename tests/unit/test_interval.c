/* SPDX-License-Identifier: MIT */
/* Unit tests for inferred sample intervals (gpu/interval.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/buf.h"
#include "gpu/interval.h"

static struct gpu_sample
sample(const char *node, int gpu, int64_t ts_ms)
{
	struct gpu_sample s;

	memset(&s, 0, sizeof(s));
	s.node.p = node;
	s.node.len = strlen(node);
	s.gpu = gpu;
	s.ts_ms = ts_ms;
	return s;
}

static void
add(struct gpu_interval *iv, const char *node, int gpu, int64_t ts_ms)
{
	struct gpu_sample s = sample(node, gpu, ts_ms);

	gpu_interval_add(iv, &s);
}

static int
of(struct gpu_interval *iv, const char *node, int gpu)
{
	struct gpu_sample s = sample(node, gpu, 0);

	return gpu_interval_of(iv, &s);
}

/* Each series takes its most frequent gap; a gap rounds to whole seconds. */
static void
test_interval_mode_per_series(void **state)
{
	struct gpu_interval *iv = gpu_interval_new();
	int64_t t = 1700000000000;

	(void)state;
	add(iv, "a", 0, t);
	add(iv, "a", 0, t + 5003);
	add(iv, "a", 0, t + 9998);
	add(iv, "a", 0, t + 30000);
	add(iv, "a", 1, t);
	add(iv, "a", 1, t + 10000);
	add(iv, "b", 0, t);
	gpu_interval_finish(iv);
	assert_int_equal(of(iv, "a", 0), 5);
	assert_int_equal(of(iv, "a", 1), 10);
	/* one sample, or unseen: the input's most frequent gap (5 s twice) */
	assert_int_equal(of(iv, "b", 0), 5);
	assert_int_equal(of(iv, "c", 3), 5);
	gpu_interval_free(iv);
}

/* Ties take the smaller gap; 0 s is a duplicate, not an interval. */
static void
test_interval_ties_and_duplicates(void **state)
{
	struct gpu_interval *iv = gpu_interval_new();
	int64_t t = 1700000000000;

	(void)state;
	add(iv, "a", 0, t);
	add(iv, "a", 0, t);
	add(iv, "a", 0, t + 300);
	add(iv, "a", 0, t + 20000);
	add(iv, "a", 0, t + 30000);
	add(iv, "a", 0, t + 30000);
	gpu_interval_finish(iv);
	assert_int_equal(of(iv, "a", 0), 10);
	gpu_interval_free(iv);
}

/* No series with two samples: 60; long gaps clamp to 3600, short to 1. */
static void
test_interval_defaults_and_clamps(void **state)
{
	struct gpu_interval *iv = gpu_interval_new();
	int64_t t = 1700000000000;

	(void)state;
	add(iv, "a", 0, t);
	add(iv, "b", 0, t);
	gpu_interval_finish(iv);
	assert_int_equal(of(iv, "a", 0), 60);
	gpu_interval_free(iv);

	iv = gpu_interval_new();
	add(iv, "a", 0, t);
	add(iv, "a", 0, t + 7200000);
	add(iv, "b", 0, t);
	add(iv, "b", 0, t + 700);
	add(iv, "b", 0, t + 1400);
	gpu_interval_finish(iv);
	assert_int_equal(of(iv, "a", 0), 3600);
	assert_int_equal(of(iv, "b", 0), 1);
	gpu_interval_free(iv);
	gpu_interval_free(NULL);
}

/*
 * A CSV input in time order: n1/0 every 10 s with a rejected row (a bad
 * number) 5 s after each of its first 30 samples, which would make 5 s
 * its gap if they counted; n1/1 every 30 s with each sample twice; n2/0
 * once; n3/0 every 7 s for a while. Series take turns, so that pieces of
 * a few lines cut each of them many times.
 */
static void
scan_input(struct gpu_buf *b)
{
	const long t = 1764547200;

	gpu_buf_adds(b, "junk before the input\n"
			"timestamp,node,gpu,util_pct,mem_used_mib\n");
	for (int i = 0; i < 400; i++) {
		long ts = t + i;

		if (i % 10 == 0)
			gpu_buf_addf(b, "%ld,n1,0,50,1\n", ts);
		if (i % 10 == 5 && i < 300)
			gpu_buf_addf(b, "%ld,n1,0,abc,1\n", ts);
		if (i % 30 == 0)
			gpu_buf_addf(b, "%ld,n1,1,50,1\n%ld,n1,1,60,1\n", ts,
				     ts);
		if (i == 200)
			gpu_buf_addf(b, "%ld,n2,0,50,1\n", ts);
		if (i % 7 == 0 && i < 100)
			gpu_buf_addf(b, "%ld,n3,0,50,1\n", ts);
	}
}

/*
 * The first pass on one thread and on several, in pieces of a few lines
 * or of the default size, from a file read part way: the same intervals,
 * rejected rows not counted.
 */
static void
test_interval_scan(void **state)
{
	static const struct gpu_reader_opts opts;
	struct gpu_buf in;
	char path[] = "/tmp/test_interval.XXXXXX";
	int fd;

	(void)state;
	gpu_buf_init(&in);
	scan_input(&in);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, in.data, in.len), (ssize_t)in.len);
	assert_int_equal(close(fd), 0);
	for (int threads = 1; threads <= 3; threads++)
		for (long lines = 0; lines <= 5; lines += lines == 0 ? 1 : 2) {
			FILE *fp = fopen(path, "rb");
			struct gpu_interval *iv;
			char junk[64];

			assert_non_null(fp);
			assert_non_null(fgets(junk, sizeof(junk), fp));
			iv = gpu_interval_scan(fp, "t.csv", &opts, NULL,
					       threads, lines);
			assert_int_equal(of(iv, "n1", 0), 10);
			assert_int_equal(of(iv, "n1", 1), 30);
			assert_int_equal(of(iv, "n2", 0), 10);
			assert_int_equal(of(iv, "n3", 0), 7);
			assert_int_equal(of(iv, "n4", 0), 10);
			gpu_interval_free(iv);
			fclose(fp);
		}
	unlink(path);
	gpu_buf_release(&in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_interval_mode_per_series),
	    cmocka_unit_test(test_interval_ties_and_duplicates),
	    cmocka_unit_test(test_interval_defaults_and_clamps),
	    cmocka_unit_test(test_interval_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
