/* SPDX-License-Identifier: MIT */
/* Unit tests for IANA time zones (gpu/tz.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gpu/time.h"
#include "gpu/tz.h"

/* local time "YYYY-MM-DD HH:MM:SS" in zone, as UTC ISO-ish epoch ms */
static int
conv(struct gpu_tz *tz, const char *local, int64_t *utc, const char **why)
{
	int64_t l;

	assert_int_equal(gpu_time_parse(local, strlen(local), &l, NULL), 0);
	return gpu_tz_to_utc(tz, l, utc, why);
}

static int64_t
at(const char *iso)
{
	int64_t ms;

	assert_int_equal(gpu_time_parse(iso, strlen(iso), &ms, NULL), 0);
	return ms;
}

static void
check(struct gpu_tz *tz, const char *local, const char *utc)
{
	int64_t v;
	const char *why = NULL;

	assert_int_equal(conv(tz, local, &v, &why), 0);
	assert_int_equal(v, at(utc));
}

/* Winter and summer offsets, the fall-back hour's first occurrence. */
static void
test_tz_copenhagen(void **state)
{
	struct gpu_err err;
	struct gpu_tz *tz = gpu_tz_load("Europe/Copenhagen", &err);
	const char *why = NULL;
	int64_t v;

	(void)state;
	assert_non_null(tz);
	check(tz, "2026-01-15 12:00:00.250", "2026-01-15T11:00:00.250Z");
	check(tz, "2026-07-01 12:00:00", "2026-07-01T10:00:00Z");
	check(tz, "2026-03-29 01:59:59", "2026-03-29T00:59:59Z");
	check(tz, "2026-03-29 03:00:00", "2026-03-29T01:00:00Z");
	assert_int_equal(conv(tz, "2026-03-29 02:30:00", &v, &why), -1);
	assert_string_equal(why,
			    "nonexistent local time (skipped by a DST change)");
	check(tz, "2026-10-25 02:30:00", "2026-10-25T00:30:00Z");
	check(tz, "2026-10-25 03:00:00", "2026-10-25T02:00:00Z");
	/* past the zoneinfo table: the footer rule */
	check(tz, "2050-07-01 12:00:00", "2050-07-01T10:00:00Z");
	check(tz, "2050-12-01 12:00:00", "2050-12-01T11:00:00Z");
	assert_int_equal(conv(tz, "2050-03-27 02:30:00", &v, &why), -1);
	gpu_tz_free(tz);
}

/* Southern and western zones; bad names. */
static void
test_tz_others(void **state)
{
	struct gpu_err err;
	struct gpu_tz *tz = gpu_tz_load("America/New_York", &err);

	(void)state;
	assert_non_null(tz);
	check(tz, "2026-11-28 16:00:00", "2026-11-28T21:00:00Z");
	check(tz, "2026-11-01 01:30:00", "2026-11-01T05:30:00Z");
	gpu_tz_free(tz);
	tz = gpu_tz_load("Australia/Sydney", &err);
	assert_non_null(tz);
	check(tz, "2026-01-15 12:00:00", "2026-01-15T01:00:00Z");
	check(tz, "2060-01-15 12:00:00", "2060-01-15T01:00:00Z");
	check(tz, "2060-07-15 12:00:00", "2060-07-15T02:00:00Z");
	gpu_tz_free(tz);
	tz = gpu_tz_load("UTC", &err);
	assert_non_null(tz);
	check(tz, "2026-11-28 16:00:00", "2026-11-28T16:00:00Z");
	gpu_tz_free(tz);
	assert_null(gpu_tz_load("../etc/passwd", &err));
	assert_null(gpu_tz_load("Mars/Olympus", &err));
	gpu_tz_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tz_copenhagen),
	    cmocka_unit_test(test_tz_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
