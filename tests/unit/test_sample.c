/* SPDX-License-Identifier: MIT */
/* Unit tests for the usage categories of a sample (gpu/sample.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
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

/* MIG profiles and their shares in 28ths; what no GPU offers is refused. */
static void
test_sample_mig_share(void **state)
{
	static const struct {
		const char *profile, *model;
		int share; /* -1: refused */
	} cases[] = {
	    {"3g.40gb", "NVIDIA A100 80GB PCIe", 12},
	    {"4g.40gb", "", 16},
	    {"7g.80gb", "NVIDIA H100 80GB HBM3", 28},
	    {"1g.10gb+me", "", 4},
	    {"1g.20gb", "NVIDIA H100 80GB HBM3", 4},
	    {"1c.3g.40gb", "", 4},
	    {"2g.12gb", "NVIDIA A30", 14},
	    {"1g.6gb+me", "NVIDIA A30", 7},
	    {"3g.24gb", "NVIDIA A30", -1},
	    {"5g.50gb", "", -1},
	    {"4c.3g.40gb", "", -1},
	    {"3g.40", "", -1},
	    {"3g.40gb+xx", "", -1},
	    {"g.40gb", "", -1},
	    {"", "", -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gpu_str p = {cases[i].profile, strlen(cases[i].profile)};
		struct gpu_str m = {cases[i].model, strlen(cases[i].model)};
		int share = -1;

		if (gpu_mig_share(p, m, &share) != 0)
			share = -1;
		assert_int_equal(share, cases[i].share);
	}
}

/* A sample becomes a slice with an id and a known profile, else a reason. */
static void
test_sample_set_mig(void **state)
{
	struct gpu_sample s;
	struct gpu_str id = {"12", 2}, prof = {"3g.40gb", 7}, none = {"", 0};

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_null(gpu_sample_set_mig(&s, id, prof));
	assert_true(s.has_mig);
	assert_int_equal(s.mig, 12);
	assert_int_equal(s.share28, 12);
	memset(&s, 0, sizeof(s));
	assert_string_equal(gpu_sample_set_mig(&s, id, none),
			    "MIG instance without a profile (mig_profile)");
	assert_string_equal(
	    gpu_sample_set_mig(&s, (struct gpu_str){"64", 2}, prof),
	    "mig out of range");
	assert_string_equal(
	    gpu_sample_set_mig(&s, (struct gpu_str){"1a", 2}, prof),
	    "invalid mig");
	assert_false(s.has_mig);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample_mig_share),
	    cmocka_unit_test(test_sample_set_mig),
	    cmocka_unit_test(test_sample_category_bounds),
	    cmocka_unit_test(test_sample_category_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
