/* SPDX-License-Identifier: MIT */
/* Unit tests for inferred sample intervals (gpu/interval.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_interval_mode_per_series),
	    cmocka_unit_test(test_interval_ties_and_duplicates),
	    cmocka_unit_test(test_interval_defaults_and_clamps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
