/* SPDX-License-Identifier: MIT */
/* Unit tests for the usage categories of a sample (gpu/sample.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gpu/sample.h"

/* idle < 5 <= low < 30 <= medium < 70 <= high (SPEC.md 2). */
static void
test_sample_category_bounds(void **state)
{
	(void)state;
	assert_int_equal(gpu_usage_category(0), GPU_CAT_IDLE);
	assert_int_equal(gpu_usage_category(4.999), GPU_CAT_IDLE);
	assert_int_equal(gpu_usage_category(5), GPU_CAT_LOW);
	assert_int_equal(gpu_usage_category(29.99), GPU_CAT_LOW);
	assert_int_equal(gpu_usage_category(30), GPU_CAT_MEDIUM);
	assert_int_equal(gpu_usage_category(69.5), GPU_CAT_MEDIUM);
	assert_int_equal(gpu_usage_category(70), GPU_CAT_HIGH);
	assert_int_equal(gpu_usage_category(100), GPU_CAT_HIGH);
}

static void
test_sample_category_names(void **state)
{
	(void)state;
	assert_string_equal(gpu_usage_cat_name(GPU_CAT_IDLE), "idle");
	assert_string_equal(gpu_usage_cat_name(GPU_CAT_LOW), "low");
	assert_string_equal(gpu_usage_cat_name(GPU_CAT_MEDIUM), "medium");
	assert_string_equal(gpu_usage_cat_name(GPU_CAT_HIGH), "high");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample_category_bounds),
	    cmocka_unit_test(test_sample_category_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
