/* SPDX-License-Identifier: MIT */
/* Unit tests for attribution segments (gpu/attrib.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gpu/attrib.h"

static void
test_attrib_job_id_order(void **state)
{
	(void)state;
	assert_true(gpu_job_id_cmp("9", "10") < 0);
	assert_true(gpu_job_id_cmp("10", "9") > 0);
	assert_true(gpu_job_id_cmp("123_4", "123_10") < 0);
	/* Equal numbers, distinct ids: by their bytes, never a tie. */
	assert_true(gpu_job_id_cmp("007", "7") < 0);
	assert_true(gpu_job_id_cmp("7", "007") > 0);
	assert_true(gpu_job_id_cmp("007", "10") < 0);
	assert_true(gpu_job_id_cmp("1853+0", "1853+1") < 0);
	assert_true(gpu_job_id_cmp("abc", "abd") < 0);
	assert_true(gpu_job_id_cmp("12", "12a") < 0);
	assert_int_equal(gpu_job_id_cmp("42", "42"), 0);
	/* As gpucollect orders the jobs on one GPU. */
	assert_true(gpu_job_id_cmp("99", "100") < 0);
	assert_true(gpu_job_id_cmp("280678", "1392970") < 0);
	assert_true(gpu_job_id_cmp("07", "7") != 0); /* distinct ids */
	assert_true(gpu_job_id_cmp("07", "8") < 0);
	assert_true(gpu_job_id_cmp("12", "12") == 0);
	assert_true(gpu_job_id_cmp("12_3", "12") > 0);
	assert_true(gpu_job_id_cmp("12_3", "13") < 0);
	assert_true(gpu_job_id_cmp("5", "abc") < 0);
}

static void
test_attrib_disjoint(void **state)
{
	struct gpu_span sp[] = {
	    {200, 300, 2, "2"},
	    {100, 200, 1, "1"},
	};
	struct gpu_segs s = {0};
	size_t hint = 0;

	(void)state;
	gpu_segs_build(sp, 2, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(gpu_segs_find(&s, 100, &hint)->job_key, 1);
	assert_int_equal(gpu_segs_find(&s, 199, &hint)->job_key, 1);
	assert_int_equal(gpu_segs_find(&s, 200, &hint)->job_key, 2);
	assert_null(gpu_segs_find(&s, 300, &hint)); /* end is exclusive */
	assert_null(gpu_segs_find(&s, 99, &hint));
	assert_false(s.v[0].overlap);
	gpu_segs_release(&s);
}

/* The first started holds until it ends; then the next one in start order. */
static void
test_attrib_overlap_first_holds(void **state)
{
	struct gpu_span sp[] = {
	    {150, 400, 2, "2"},
	    {100, 250, 1, "1"},
	    {150, 500, 3, "10"},
	};
	struct gpu_segs s = {0};
	size_t hint = 0;
	const struct gpu_seg *g;

	(void)state;
	gpu_segs_build(sp, 3, &s);
	g = gpu_segs_find(&s, 120, &hint);
	assert_int_equal(g->job_key, 1);
	assert_false(g->overlap);
	g = gpu_segs_find(&s, 200, &hint);
	assert_int_equal(g->job_key, 1);
	assert_true(g->overlap);
	/* 2 and 10 started together: the smaller ID ("2" < "10") holds. */
	g = gpu_segs_find(&s, 300, &hint);
	assert_int_equal(g->job_key, 2);
	assert_true(g->overlap);
	g = gpu_segs_find(&s, 450, &hint);
	assert_int_equal(g->job_key, 3);
	assert_false(g->overlap);
	assert_null(gpu_segs_find(&s, 500, &hint));
	gpu_segs_release(&s);
}

static void
test_attrib_open_end_and_empty(void **state)
{
	struct gpu_span sp[] = {
	    {100, GPU_TIME_OPEN, 7, "7"},
	    {300, 300, 8, "8"}, /* empty: ignored */
	    {400, 350, 9, "9"}, /* ends before it starts: ignored */
	};
	struct gpu_segs s = {0};
	size_t hint = 0;

	(void)state;
	gpu_segs_build(sp, 3, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(gpu_segs_find(&s, INT64_C(4000000000000), &hint)
			     ->job_key,
			 7);
	assert_false(s.v[0].overlap);
	gpu_segs_release(&s);
	gpu_segs_build(sp, 0, &s);
	assert_int_equal(s.n, 0);
	assert_null(gpu_segs_find(&s, 100, &hint));
}

/* Lookups in any order agree with a linear search. */
static void
test_attrib_find_any_order(void **state)
{
	struct gpu_span sp[50];
	struct gpu_segs s = {0};
	size_t hint = 0;

	(void)state;
	for (int i = 0; i < 50; i++)
		sp[i] = (struct gpu_span){i * 100, i * 100 + 60, i + 1, "x"};
	gpu_segs_build(sp, 50, &s);
	assert_int_equal(s.n, 50);
	for (int64_t t = 4999; t >= 0; t -= 7) {
		const struct gpu_seg *g = gpu_segs_find(&s, t, &hint);

		if (t % 100 < 60)
			assert_int_equal(g->job_key, t / 100 + 1);
		else
			assert_null(g);
	}
	gpu_segs_release(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_attrib_job_id_order),
	    cmocka_unit_test(test_attrib_disjoint),
	    cmocka_unit_test(test_attrib_overlap_first_holds),
	    cmocka_unit_test(test_attrib_open_end_and_empty),
	    cmocka_unit_test(test_attrib_find_any_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
