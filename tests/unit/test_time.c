/* SPDX-License-Identifier: MIT */
/* Unit tests for timestamps, calendar arithmetic and periods (gpu/time.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/time.h"

#define INVALID "invalid timestamp"
#define RANGE "timestamp out of range"

/* 2026-11-28T16:00:00Z */
#define T INT64_C(1795881600000)
#define HOUR INT64_C(3600000)
#define DAY INT64_C(86400000)

/* Data timestamp that must parse to want; the arg parser must agree. */
static void
ok(const char *s, int64_t want)
{
	int64_t ms = -1;
	const char *why = NULL;
	int rc = gpu_time_parse(s, strlen(s), &ms, &why);

	if (rc != 0 || ms != want)
		fail_msg("'%s': rc=%d ms=%lld want=%lld why=%s", s, rc,
			 (long long)ms, (long long)want,
			 why == NULL ? "-" : why);
	ms = -1;
	rc = gpu_time_parse_arg(s, &ms, &why);
	if (rc != 0 || ms != want)
		fail_msg("arg '%s': rc=%d ms=%lld want=%lld", s, rc,
			 (long long)ms, (long long)want);
}

/* Data timestamp that must be rejected with reason want_why. */
static void
bad(const char *s, const char *want_why)
{
	int64_t ms = 42;
	const char *why = NULL;
	int rc = gpu_time_parse(s, strlen(s), &ms, &why);

	if (rc != -1 || why == NULL || strcmp(why, want_why) != 0 || ms != 42)
		fail_msg("'%s': rc=%d ms=%lld why=%s, want '%s'", s, rc,
			 (long long)ms, why == NULL ? "-" : why, want_why);
}

/* Rejected both as data and as an argument. */
static void
bad_both(const char *s, const char *want_why)
{
	int64_t ms = 42;
	const char *why = NULL;
	int rc;

	bad(s, want_why);
	rc = gpu_time_parse_arg(s, &ms, &why);
	if (rc != -1 || why == NULL || strcmp(why, want_why) != 0 || ms != 42)
		fail_msg("arg '%s': rc=%d why=%s, want '%s'", s, rc,
			 why == NULL ? "-" : why, want_why);
}

static void
ok_arg(const char *s, int64_t want)
{
	int64_t ms = -1;
	const char *why = NULL;
	int rc = gpu_time_parse_arg(s, &ms, &why);

	if (rc != 0 || ms != want)
		fail_msg("arg '%s': rc=%d ms=%lld want=%lld why=%s", s, rc,
			 (long long)ms, (long long)want,
			 why == NULL ? "-" : why);
}

static void
bad_arg(const char *s, const char *want_why)
{
	int64_t ms = 42;
	const char *why = NULL;
	int rc = gpu_time_parse_arg(s, &ms, &why);

	if (rc != -1 || why == NULL || strcmp(why, want_why) != 0 || ms != 42)
		fail_msg("arg '%s': rc=%d why=%s, want '%s'", s, rc,
			 why == NULL ? "-" : why, want_why);
}

static void
iso_is(int64_t ms, const char *want)
{
	char out[32];

	gpu_time_fmt_iso(ms, out);
	assert_string_equal(out, want);
}

static void
label_is(enum gpu_period p, int64_t ms, const char *want)
{
	char out[32];

	gpu_period_label(p, ms, out);
	assert_string_equal(out, want);
}

/* ---- epoch integers ---- */

static void
test_time_epoch_seconds(void **state)
{
	(void)state;
	ok("1732800000", INT64_C(1732800000000));
	ok("1795881600", T);
}

static void
test_time_epoch_seconds_plus_sign(void **state)
{
	(void)state;
	ok("+1732800000", INT64_C(1732800000000));
}

static void
test_time_epoch_seconds_leading_zeros(void **state)
{
	(void)state;
	ok("01732800000", INT64_C(1732800000000));
	ok("0001795881600000", T);
}

static void
test_time_epoch_ms(void **state)
{
	(void)state;
	ok("1732800000123", INT64_C(1732800000123));
	ok("1795881600000", T);
}

static void
test_time_epoch_ms_threshold(void **state)
{
	(void)state;
	/* Below 1e11 seconds (year 5138), from 1e11 on ms (1973). */
	bad("99999999999", RANGE);
	bad("100000000000", RANGE);
	bad("-100000000000", RANGE);
	/* The smallest ms value in range is well above the threshold. */
	ok("946684800000", INT64_C(946684800000));
}

static void
test_time_epoch_negative_seconds(void **state)
{
	(void)state;
	bad("-1732800000", RANGE);
	bad("-1", RANGE);
	bad("-0", RANGE);
	bad("0", RANGE);
}

static void
test_time_epoch_negative_ms(void **state)
{
	(void)state;
	bad("-1732800000000", RANGE);
	bad("-1.5", RANGE);
}

static void
test_time_epoch_fraction(void **state)
{
	(void)state;
	ok("1732800000.250", INT64_C(1732800000250));
	ok("1732800000.5", INT64_C(1732800000500));
	ok("1732800000.05", INT64_C(1732800000050));
	ok("1732800000.000", INT64_C(1732800000000));
}

static void
test_time_epoch_fraction_truncated(void **state)
{
	(void)state;
	ok("1732800000.9999", INT64_C(1732800000999));
	ok("1732800000.1239", INT64_C(1732800000123));
	ok("1732800000.123456789012345678901234567890",
	   INT64_C(1732800000123));
}

static void
test_time_epoch_fraction_on_ms_rejected(void **state)
{
	(void)state;
	bad("1732800000000.5", INVALID);
	bad("1732800000000.0", INVALID);
	bad("100000000000.0", INVALID);
	bad("99999999999999999999.5", INVALID);
}

static void
test_time_epoch_fraction_shape(void **state)
{
	(void)state;
	bad("1732800000.", INVALID);
	bad(".5", INVALID);
	bad("-.5", INVALID);
	bad("1732800000.2.5", INVALID);
	bad("1732800000,250", INVALID);
}

static void
test_time_epoch_seconds_limits(void **state)
{
	(void)state;
	ok("946684800", GPU_TIME_MIN_MS);
	bad("946684799", RANGE);
	bad("946684799.999", RANGE);
	ok("4102444799", INT64_C(4102444799000));
	ok("4102444799.999", GPU_TIME_MAX_MS - 1);
	bad("4102444800", RANGE);
	bad("4102444800.0", RANGE);
}

static void
test_time_epoch_ms_limits(void **state)
{
	(void)state;
	ok("946684800000", GPU_TIME_MIN_MS);
	bad("946684799999", RANGE);
	ok("4102444799999", GPU_TIME_MAX_MS - 1);
	bad("4102444800000", RANGE);
}

static void
test_time_epoch_overflow(void **state)
{
	(void)state;
	bad("99999999999999999999", RANGE);
	bad("123456789012345678901234567890", RANGE);
	bad("-99999999999999999999", RANGE);
	bad("9223372036854775807", RANGE);
	bad("9223372036854775808", RANGE);
	bad("18446744073709551616", RANGE);
}

/* ---- garbage ---- */

static void
test_time_empty(void **state)
{
	const char *why = NULL;
	int64_t ms = 42;

	(void)state;
	bad_both("", INVALID);
	assert_int_equal(gpu_time_parse(NULL, 0, &ms, &why), -1);
	assert_string_equal(why, INVALID);
	assert_int_equal(gpu_time_parse_arg(NULL, &ms, &why), -1);
	assert_int_equal(ms, 42);
}

static void
test_time_spaces_not_trimmed(void **state)
{
	(void)state;
	bad_both(" ", INVALID);
	bad_both(" 1732800000", INVALID);
	bad_both("1732800000 ", INVALID);
	bad_both("1732800000\n", INVALID);
	bad_both(" 2026-11-28T16:00:00Z", INVALID);
	bad_both("2026-11-28T16:00:00Z ", INVALID);
	bad_both("2026-11-28T16:00:00 Z", INVALID);
}

static void
test_time_letters(void **state)
{
	(void)state;
	bad_both("abc", INVALID);
	/* In data only: arguments take them (test_time_relative_args). */
	bad("now", INVALID);
	bad("today", INVALID);
	bad_both("Sat Nov 28 16:00:00 UTC 2026", INVALID);
	bad_both("N/A", INVALID);
}

static void
test_time_trailing_junk(void **state)
{
	(void)state;
	bad_both("1732800000x", INVALID);
	bad_both("1732800000.250s", INVALID);
	bad_both("2026-11-28T16:00:00Zx", INVALID);
	bad_both("2026-11-28T16:00:00+01:00:00", INVALID);
	bad_both("2026-11-28T16:00:00UTC", INVALID);
	bad_both("2026/11/28 16:00:00.123 ", INVALID);
}

static void
test_time_exponent_rejected(void **state)
{
	(void)state;
	bad_both("1e9", INVALID);
	bad_both("1.7328e9", INVALID);
	bad_both("1732800000E0", INVALID);
}

static void
test_time_hex_rejected(void **state)
{
	(void)state;
	bad_both("0x10", INVALID);
	bad_both("0X6757A800", INVALID);
}

static void
test_time_signs(void **state)
{
	(void)state;
	bad_both("+-1", INVALID);
	bad_both("--1", INVALID);
	bad_both("++1732800000", INVALID);
	bad_both("-", INVALID);
	bad_both("+", INVALID);
	bad_both("-2026-11-28T16:00:00Z", INVALID);
}

static void
test_time_len_respected(void **state)
{
	int64_t ms = 0;
	const char *why = NULL;

	(void)state;
	assert_int_equal(
		gpu_time_parse("2026-11-28T16:00:00Zjunk", 20, &ms, &why), 0);
	assert_int_equal(ms, T);
	assert_int_equal(gpu_time_parse("1795881600123", 10, &ms, &why), 0);
	assert_int_equal(ms, T);
	/* A 3-byte prefix "179" is seconds in 1970. */
	assert_int_equal(gpu_time_parse("1795881600", 3, &ms, &why), -1);
	assert_string_equal(why, RANGE);
}

/* ---- ISO 8601 ---- */

static void
test_time_iso_z(void **state)
{
	(void)state;
	ok("2026-11-28T16:00:00Z", T);
}

static void
test_time_iso_no_offset_is_utc(void **state)
{
	(void)state;
	ok("2026-11-28T16:00:00", T);
}

static void
test_time_iso_space_separator(void **state)
{
	(void)state;
	ok("2026-11-28 16:00:00", T);
	ok("2026-11-28 16:00:00Z", T);
}

static void
test_time_iso_lower_case(void **state)
{
	(void)state;
	ok("2026-11-28t16:00:00z", T);
	ok("2026-11-28t16:00:00", T);
	ok("2026-11-28T16:00:00z", T);
}

static void
test_time_iso_offset_colon(void **state)
{
	(void)state;
	ok("2026-11-28T17:00:00+01:00", T);
	ok("2026-11-28T15:00:00-01:00", T);
}

static void
test_time_iso_offset_compact(void **state)
{
	(void)state;
	ok("2026-11-28T17:00:00+0100", T);
	ok("2026-11-28T10:30:00-0530", T);
	ok("2026-11-28T10:30:00-05:30", T);
	ok("2026-11-28T21:30:00+0530", T);
}

static void
test_time_iso_offset_zero(void **state)
{
	(void)state;
	ok("2026-11-28T16:00:00+00:00", T);
	ok("2026-11-28T16:00:00-00:00", T);
	ok("2026-11-28T16:00:00+0000", T);
}

static void
test_time_iso_offset_with_space_separator(void **state)
{
	(void)state;
	ok("2026-11-28 17:00:00+01:00", T);
}

static void
test_time_iso_offset_crosses_midnight(void **state)
{
	(void)state;
	/* 2026-11-28T23:30Z */
	ok("2026-11-29T00:30:00+01:00", T + 7 * HOUR + HOUR / 2);
	/* 2026-11-29T01:00Z */
	ok("2026-11-28T23:00:00-02:00", T + 9 * HOUR);
}

static void
test_time_iso_offset_crosses_year_end(void **state)
{
	(void)state;
	/* 2027-01-01T00:30Z */
	ok("2026-12-31T23:30:00-01:00", INT64_C(1798763400000));
	/* 2026-12-31T23:30Z */
	ok("2027-01-01T00:30:00+01:00", INT64_C(1798759800000));
}

static void
test_time_iso_offset_extremes(void **state)
{
	(void)state;
	ok("2026-11-29T15:59:00+23:59", T);
	ok("2026-11-27T16:01:00-23:59", T);
}

static void
test_time_iso_offset_hours_invalid(void **state)
{
	(void)state;
	bad_both("2026-11-28T16:00:00+24:00", INVALID);
	bad_both("2026-11-28T16:00:00-25:00", INVALID);
	bad_both("2026-11-28T16:00:00+9900", INVALID);
}

static void
test_time_iso_offset_minutes_invalid(void **state)
{
	(void)state;
	bad_both("2026-11-28T16:00:00+01:60", INVALID);
	bad_both("2026-11-28T16:00:00+0160", INVALID);
	bad_both("2026-11-28T16:00:00-05:99", INVALID);
}

static void
test_time_iso_offset_malformed(void **state)
{
	(void)state;
	bad_both("2026-11-28T16:00:00+1:00", INVALID);
	bad_both("2026-11-28T16:00:00+01", INVALID);
	bad_both("2026-11-28T16:00:00+01:0", INVALID);
	bad_both("2026-11-28T16:00:00+010", INVALID);
	bad_both("2026-11-28T16:00:00+01::00", INVALID);
	bad_both("2026-11-28T16:00:00+01:00Z", INVALID);
	bad_both("2026-11-28T16:00:00Z+01:00", INVALID);
	bad_both("2026-11-28T16:00:00ZZ", INVALID);
	bad_both("2026-11-28T16:00:00+", INVALID);
	bad_both("2026-11-28T16:00:00+ab:cd", INVALID);
}

static void
test_time_iso_fraction_ms(void **state)
{
	(void)state;
	ok("2026-11-28T16:00:00.123Z", T + 123);
	ok("2026-11-28T16:00:00.123", T + 123);
	ok("2026-11-28 16:00:00.001", T + 1);
}

static void
test_time_iso_fraction_short(void **state)
{
	(void)state;
	ok("2026-11-28T16:00:00.5Z", T + 500);
	ok("2026-11-28T16:00:00.05Z", T + 50);
	ok("2026-11-28T16:00:00.0Z", T);
}

static void
test_time_iso_fraction_truncated_not_rounded(void **state)
{
	(void)state;
	ok("2026-11-28T16:00:00.9999Z", T + 999);
	ok("2026-11-28T16:00:00.1239Z", T + 123);
	ok("2026-11-28T16:00:59.999999999Z", T + 59999);
}

static void
test_time_iso_fraction_any_precision(void **state)
{
	(void)state;
	ok("2026-11-28T16:00:00.123456Z", T + 123);
	ok("2026-11-28T16:00:00.123456789Z", T + 123);
	ok("2026-11-28T16:00:00.1234567890123456789012345678901234567890Z",
	   T + 123);
}

static void
test_time_iso_fraction_with_offset(void **state)
{
	(void)state;
	ok("2026-11-28T17:00:00.750+01:00", T + 750);
	ok("2026-11-28T10:30:00.25-0530", T + 250);
}

static void
test_time_iso_fraction_malformed(void **state)
{
	(void)state;
	bad_both("2026-11-28T16:00:00.", INVALID);
	bad_both("2026-11-28T16:00:00.Z", INVALID);
	bad_both("2026-11-28T16:00:00,5", INVALID);
	bad_both("2026-11-28T16:00:00.5.5", INVALID);
	bad_both("2026-11-28T16:00:00.-5", INVALID);
}

static void
test_time_iso_requires_seconds(void **state)
{
	(void)state;
	bad("2026-11-28T16:00", INVALID);
	bad("2026-11-28T16:00Z", INVALID);
	bad("2026-11-28 16:00", INVALID);
	bad("2026-11-28T16:00+01:00", INVALID);
}

static void
test_time_iso_date_only_rejected(void **state)
{
	(void)state;
	bad("2026-11-28", INVALID);
	bad_both("2026-11-28T", INVALID);
	bad_both("2026-11-28T16", INVALID);
	bad_both("2026-11-28T16:", INVALID);
	bad_both("2026-11-28T16:00:", INVALID);
	bad_both("2026-11-28T16:00:0", INVALID);
}

static void
test_time_iso_bad_separators(void **state)
{
	(void)state;
	bad_both("2026-11-28X16:00:00", INVALID);
	bad_both("2026-11-28_16:00:00", INVALID);
	bad_both("2026-11-28  16:00:00", INVALID);
	bad_both("2026-11-28T16-00-00", INVALID);
	bad_both("2026-11-28T16.00.00", INVALID);
	bad_both("2026-11/28T16:00:00", INVALID);
	bad_both("2026/11-28 16:00:00", INVALID);
	bad_both("2026.11.28 16:00:00", INVALID);
	bad_both("20261128T160000Z", INVALID);
}

static void
test_time_iso_field_widths(void **state)
{
	(void)state;
	bad_both("2026-1-28T16:00:00", INVALID);
	bad_both("2026-11-8T16:00:00", INVALID);
	bad_both("26-11-28T16:00:00", INVALID);
	bad_both("02026-11-28T16:00:00", INVALID);
	bad_both("2026-11-28T6:00:00", INVALID);
	bad_both("2026-11-28T16:0:00", INVALID);
	bad_both("2026-011-28T16:00:00", INVALID);
}

static void
test_time_iso_non_digit_fields(void **state)
{
	(void)state;
	bad_both("2026-1a-28T16:00:00", INVALID);
	bad_both("2026-11-2bT16:00:00", INVALID);
	bad_both("2026-11-28T1x:00:00", INVALID);
	bad_both("2026-11-28T16:+0:00", INVALID);
	bad_both("2026-11-28T16:00:-1", INVALID);
	bad_both("2026-+1-28T16:00:00", INVALID);
}

static void
test_time_iso_month_range(void **state)
{
	(void)state;
	bad_both("2026-00-10T00:00:00", INVALID);
	bad_both("2026-13-10T00:00:00", INVALID);
	ok("2026-12-10T00:00:00", INT64_C(1796083200000) + 9 * DAY);
	ok("2026-01-01T00:00:00", INT64_C(1767225600000));
}

static void
test_time_iso_day_zero(void **state)
{
	(void)state;
	bad_both("2026-11-00T00:00:00", INVALID);
	bad_both("2026-11-32T00:00:00", INVALID);
}

static void
test_time_iso_day31_in_30_day_months(void **state)
{
	static const char *const bad31[] = {
		"2026-04-31T00:00:00", "2026-06-31T00:00:00",
		"2026-09-31T00:00:00", "2026-11-31T00:00:00"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad31) / sizeof(bad31[0]); i++)
		bad_both(bad31[i], INVALID);
	ok("2026-11-30T00:00:00", INT64_C(1796083200000) - DAY);
	ok("2026-12-31T00:00:00", INT64_C(1798761600000) - DAY);
	ok("2026-01-31T00:00:00", INT64_C(1767225600000) + 30 * DAY);
}

static void
test_time_iso_leap_day_2024(void **state)
{
	(void)state;
	ok("2024-02-29T00:00:00Z", INT64_C(1709164800000));
	ok_arg("2024-02-29", INT64_C(1709164800000));
}

static void
test_time_iso_leap_day_2026_rejected(void **state)
{
	(void)state;
	bad_both("2026-02-29T00:00:00Z", INVALID);
	bad_both("2026-02-29", INVALID);
	bad_both("2026-02-30T00:00:00Z", INVALID);
	ok("2026-02-28T23:59:59Z", INT64_C(1772323200000) - 1000);
}

static void
test_time_iso_leap_day_2000(void **state)
{
	(void)state;
	ok("2000-02-29T00:00:00Z", INT64_C(951782400000));
}

static void
test_time_iso_leap_day_2100_rejected(void **state)
{
	(void)state;
	/* 2100 is no leap year: the date does not exist at all. */
	bad_both("2100-02-29T00:00:00Z", INVALID);
	bad_both("2100-02-28T00:00:00Z", RANGE);
	bad_both("2024-02-30T00:00:00Z", INVALID);
}

static void
test_time_iso_hour24_rejected(void **state)
{
	(void)state;
	bad_both("2026-11-28T24:00:00", INVALID);
	bad_both("2026-11-28T24:00", INVALID);
	bad_both("2026-11-28T99:00:00", INVALID);
	ok("2026-11-28T23:59:59", T + 8 * HOUR - 1000);
}

static void
test_time_iso_minute60_rejected(void **state)
{
	(void)state;
	bad_both("2026-11-28T16:60:00", INVALID);
	bad_both("2026-11-28T16:60", INVALID);
}

static void
test_time_iso_leap_second_rejected(void **state)
{
	(void)state;
	bad_both("2016-12-31T23:59:60Z", INVALID);
	bad_both("2026-11-28T16:00:60", INVALID);
	bad_both("2026-11-28T16:00:99", INVALID);
	ok("2016-12-31T23:59:59Z", INT64_C(1483228799000));
}

static void
test_time_iso_range_min(void **state)
{
	(void)state;
	ok("2000-01-01T00:00:00Z", GPU_TIME_MIN_MS);
	bad_both("1999-12-31T23:59:59.999Z", RANGE);
	bad_both("1999-12-31T23:59:59Z", RANGE);
	bad_both("1970-01-01T00:00:00Z", RANGE);
}

static void
test_time_iso_range_max(void **state)
{
	(void)state;
	ok("2099-12-31T23:59:59.999Z", GPU_TIME_MAX_MS - 1);
	ok("2099-12-31T23:59:59.999999Z", GPU_TIME_MAX_MS - 1);
	bad_both("2100-01-01T00:00:00Z", RANGE);
	bad_both("9999-12-31T23:59:59Z", RANGE);
	bad_both("0000-01-01T00:00:00Z", RANGE);
}

static void
test_time_iso_range_after_offset(void **state)
{
	(void)state;
	bad_both("2000-01-01T00:30:00+01:00", RANGE);
	ok("1999-12-31T23:30:00-01:00", GPU_TIME_MIN_MS + HOUR / 2);
	bad_both("2099-12-31T23:30:00-01:00", RANGE);
	ok("2100-01-01T00:30:00+01:00", GPU_TIME_MAX_MS - HOUR / 2);
}

/* ---- nvidia-smi slash form ---- */

static void
test_time_slash_fraction(void **state)
{
	(void)state;
	ok("2026/11/28 16:00:00.123", T + 123);
}

static void
test_time_slash_without_fraction(void **state)
{
	(void)state;
	ok("2026/11/28 16:00:00", T);
}

static void
test_time_slash_fraction_truncated(void **state)
{
	(void)state;
	ok("2026/11/28 16:00:00.9999", T + 999);
	ok("2026/11/28 16:00:00.5", T + 500);
	bad_both("2026/11/28 16:00:00.", INVALID);
}

static void
test_time_slash_offset_rejected(void **state)
{
	(void)state;
	bad_both("2026/11/28 16:00:00+01:00", INVALID);
	bad_both("2026/11/28 16:00:00.123+0100", INVALID);
	bad_both("2026/11/28 16:00:00Z", INVALID);
	bad_both("2026/11/28 16:00:00z", INVALID);
}

static void
test_time_slash_needs_space_and_seconds(void **state)
{
	(void)state;
	bad_both("2026/11/28T16:00:00", INVALID);
	bad_both("2026/11/28t16:00:00", INVALID);
	bad_both("2026/11/28 16:00", INVALID);
	bad_both("2026/11/28", INVALID);
}

static void
test_time_slash_invalid_date(void **state)
{
	(void)state;
	bad_both("2026/02/29 00:00:00", INVALID);
	bad_both("2026/13/01 00:00:00", INVALID);
	bad_both("2026/11/28 24:00:00", INVALID);
	bad_both("1999/12/31 23:59:59.999", RANGE);
}

/* ---- command-line arguments ---- */

static void
test_time_arg_plain_date(void **state)
{
	(void)state;
	ok_arg("2026-11-01", INT64_C(1793491200000));
	ok_arg("2000-01-01", GPU_TIME_MIN_MS);
	ok_arg("2099-12-31", GPU_TIME_MAX_MS - DAY);
}

static void
test_time_arg_minutes(void **state)
{
	(void)state;
	ok_arg("2026-11-01T16:00", INT64_C(1793548800000));
	ok_arg("2026-11-01 16:00", INT64_C(1793548800000));
	ok_arg("2026-11-01t16:00", INT64_C(1793548800000));
	ok_arg("2026-11-01T16:00Z", INT64_C(1793548800000));
}

static void
test_time_arg_minutes_with_offset(void **state)
{
	(void)state;
	ok_arg("2026-11-01T17:00+01:00", INT64_C(1793548800000));
	ok_arg("2026-11-01T10:30-0530", INT64_C(1793548800000));
	bad_arg("2026-11-01T16:00+24:00", INVALID);
}

static void
test_time_arg_accepts_data_forms(void **state)
{
	(void)state;
	ok_arg("1795881600", T);
	ok_arg("1795881600000", T);
	ok_arg("2026-11-28T16:00:00Z", T);
	ok_arg("2026/11/28 16:00:00.123", T + 123);
}

static void
test_time_arg_rejects(void **state)
{
	(void)state;
	bad_arg("2026-11", INVALID);
	bad_arg("2026", RANGE); /* an epoch-seconds integer */
	bad_arg("2026-11-01T", INVALID);
	bad_arg("2026-11-01T16", INVALID);
	bad_arg("2026-11-01T16:00.5", INVALID);
	bad_arg("2026-11-01Z", INVALID);
	bad_arg("2026-11-01+01:00", INVALID);
	bad_arg("2026-11-01 ", INVALID);
	bad_arg("2026/11/01", INVALID);
}

static void
test_time_arg_range(void **state)
{
	(void)state;
	bad_arg("1999-12-31", RANGE);
	bad_arg("2100-01-01", RANGE);
	bad_arg("1999-12-31T23:59", RANGE);
	ok_arg("2099-12-31T23:59", GPU_TIME_MAX_MS - 60000);
}

static void
test_time_why_strings(void **state)
{
	const char *w1 = NULL, *w2 = NULL, *w3 = NULL;
	int64_t ms;

	(void)state;
	assert_int_equal(gpu_time_parse("x", 1, &ms, &w1), -1);
	assert_int_equal(gpu_time_parse("y", 1, &ms, &w2), -1);
	assert_int_equal(gpu_time_parse("1", 1, &ms, &w3), -1);
	assert_string_equal(w1, "invalid timestamp");
	assert_string_equal(w3, "timestamp out of range");
	/* Static texts: the same storage every time. */
	assert_ptr_equal(w1, w2);
}

static void
test_time_why_may_be_null(void **state)
{
	int64_t ms = 42;

	(void)state;
	assert_int_equal(gpu_time_parse("x", 1, &ms, NULL), -1);
	assert_int_equal(gpu_time_parse("1", 1, &ms, NULL), -1);
	assert_int_equal(gpu_time_parse_arg("2100-01-01", &ms, NULL), -1);
	assert_int_equal(ms, 42);
	assert_int_equal(gpu_time_parse("1795881600", 10, &ms, NULL), 0);
	assert_int_equal(ms, T);
}

/* ---- civil calendar ---- */

static void
test_time_days_from_civil_known(void **state)
{
	(void)state;
	assert_int_equal(gpu_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(gpu_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(gpu_days_from_civil(2000, 1, 1), 10957);
	assert_int_equal(gpu_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(gpu_days_from_civil(2099, 12, 31), 47481);
	assert_int_equal(gpu_days_from_civil(2100, 1, 1) * DAY,
			 GPU_TIME_MAX_MS);
}

static void
test_time_civil_from_days_known(void **state)
{
	int64_t y;
	int m, d;

	(void)state;
	gpu_civil_from_days(0, &y, &m, &d);
	assert_true(y == 1970 && m == 1 && d == 1);
	gpu_civil_from_days(-1, &y, &m, &d);
	assert_true(y == 1969 && m == 12 && d == 31);
	gpu_civil_from_days(11016, &y, &m, &d);
	assert_true(y == 2000 && m == 2 && d == 29);
	gpu_civil_from_days(47481, &y, &m, &d);
	assert_true(y == 2099 && m == 12 && d == 31);
}

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static void
test_time_civil_round_trip(void **state)
{
	int64_t first = gpu_days_from_civil(2000, 1, 1);
	int64_t last = gpu_days_from_civil(2101, 1, 1);
	int64_t py = 1999;
	int pm = 12, pd = 31;

	(void)state;
	for (int64_t n = first; n < last; n++) {
		int64_t y;
		int m, d;

		gpu_civil_from_days(n, &y, &m, &d);
		assert_int_equal(gpu_days_from_civil(y, m, d), n);
		/* Each day follows the previous one on the calendar. */
		if (d == 1) {
			if (m == 1)
				assert_true(y == py + 1 && pm == 12 &&
					    pd == 31);
			else
				assert_true(y == py && m == pm + 1);
		} else {
			assert_true(y == py && m == pm && d == pd + 1);
		}
		py = y;
		pm = m;
		pd = d;
	}
	assert_true(py == 2100 && pm == 12 && pd == 31);
}

static void
test_time_civil_month_lengths(void **state)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};

	(void)state;
	for (int64_t y = 2000; y <= 2100; y++) {
		int64_t year = gpu_days_from_civil(y + 1, 1, 1) -
			       gpu_days_from_civil(y, 1, 1);

		assert_int_equal(year, leap(y) ? 366 : 365);
		for (int m = 1; m <= 12; m++) {
			int64_t next = m == 12 ? gpu_days_from_civil(y + 1, 1, 1)
					       : gpu_days_from_civil(y, m + 1, 1);
			int want = len[m - 1] + (m == 2 && leap(y));

			assert_int_equal(next - gpu_days_from_civil(y, m, 1),
					 want);
		}
	}
}

/* ---- formatting ---- */

static void
test_time_fmt_iso_whole_seconds(void **state)
{
	(void)state;
	iso_is(T, "2026-11-28T16:00:00Z");
	iso_is(GPU_TIME_MIN_MS, "2000-01-01T00:00:00Z");
}

static void
test_time_fmt_iso_milliseconds(void **state)
{
	(void)state;
	iso_is(T + 123, "2026-11-28T16:00:00.123Z");
	iso_is(T + 5, "2026-11-28T16:00:00.005Z");
	iso_is(T + 50, "2026-11-28T16:00:00.050Z");
	iso_is(GPU_TIME_MAX_MS - 1, "2099-12-31T23:59:59.999Z");
}

static void
test_time_fmt_iso_before_epoch(void **state)
{
	(void)state;
	iso_is(0, "1970-01-01T00:00:00Z");
	iso_is(-1, "1969-12-31T23:59:59.999Z");
	iso_is(-DAY, "1969-12-31T00:00:00Z");
}

static void
test_time_fmt_iso_round_trip(void **state)
{
	char out[32];

	(void)state;
	for (int64_t ms = GPU_TIME_MIN_MS; ms < GPU_TIME_MAX_MS;
	     ms += INT64_C(7919) * 3600 * 1000 + 4567) {
		int64_t back = 0;
		const char *why;

		gpu_time_fmt_iso(ms, out);
		assert_int_equal(gpu_time_parse(out, strlen(out), &back, &why),
				 0);
		assert_int_equal(back, ms);
	}
}

/* ---- periods ---- */

static void
test_time_period_parse(void **state)
{
	static const char *const names[] = {"hour", "day", "week", "month",
					    "all"};
	enum gpu_period p;

	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(gpu_period_parse(names[i], &p), 0);
		assert_int_equal(p, i);
	}
}

static void
test_time_period_parse_rejects(void **state)
{
	enum gpu_period p = GPU_PERIOD_DAY;

	(void)state;
	assert_int_equal(gpu_period_parse("Hour", &p), -1);
	assert_int_equal(gpu_period_parse("", &p), -1);
	assert_int_equal(gpu_period_parse("days", &p), -1);
	assert_int_equal(gpu_period_parse("hourly", &p), -1);
	assert_int_equal(gpu_period_parse("hour ", &p), -1);
	assert_int_equal(gpu_period_parse("year", &p), -1);
	assert_int_equal(gpu_period_parse(NULL, &p), -1);
	assert_int_equal(p, GPU_PERIOD_DAY);
}

static void
test_time_period_name(void **state)
{
	enum gpu_period p;

	(void)state;
	assert_string_equal(gpu_period_name(GPU_PERIOD_HOUR), "hour");
	assert_string_equal(gpu_period_name(GPU_PERIOD_DAY), "day");
	assert_string_equal(gpu_period_name(GPU_PERIOD_WEEK), "week");
	assert_string_equal(gpu_period_name(GPU_PERIOD_MONTH), "month");
	assert_string_equal(gpu_period_name(GPU_PERIOD_ALL), "all");
	for (int i = 0; i <= GPU_PERIOD_ALL; i++) {
		assert_int_equal(
			gpu_period_parse(gpu_period_name((enum gpu_period)i),
					 &p),
			0);
		assert_int_equal(p, i);
	}
}

static void
test_time_period_start_hour(void **state)
{
	(void)state;
	assert_int_equal(gpu_period_start(GPU_PERIOD_HOUR, T), T);
	assert_int_equal(gpu_period_start(GPU_PERIOD_HOUR, T + HOUR - 1), T);
	assert_int_equal(gpu_period_start(GPU_PERIOD_HOUR, T + HOUR),
			 T + HOUR);
	assert_int_equal(gpu_period_start(GPU_PERIOD_HOUR, T - 1), T - HOUR);
}

static void
test_time_period_start_day(void **state)
{
	int64_t day = INT64_C(1795824000000); /* 2026-11-28 */

	(void)state;
	assert_int_equal(gpu_period_start(GPU_PERIOD_DAY, T), day);
	assert_int_equal(gpu_period_start(GPU_PERIOD_DAY, day), day);
	assert_int_equal(gpu_period_start(GPU_PERIOD_DAY, day + DAY - 1), day);
	assert_int_equal(gpu_period_start(GPU_PERIOD_DAY, -1), -DAY);
}

static void
test_time_period_start_week(void **state)
{
	int64_t mon = INT64_C(1795392000000); /* 2026-11-23, a Monday */

	(void)state;
	assert_int_equal(gpu_period_start(GPU_PERIOD_WEEK, T), mon);
	assert_int_equal(gpu_period_start(GPU_PERIOD_WEEK, mon), mon);
	assert_int_equal(gpu_period_start(GPU_PERIOD_WEEK, mon - 1),
			 mon - 7 * DAY);
	/* Sunday 2026-11-29T23:59:59.999 */
	assert_int_equal(
		gpu_period_start(GPU_PERIOD_WEEK, INT64_C(1795996799999)), mon);
}

static void
test_time_period_start_week_across_year(void **state)
{
	(void)state;
	/* 2027-01-01 is in the week of Monday 2026-12-28. */
	assert_int_equal(
		gpu_period_start(GPU_PERIOD_WEEK, INT64_C(1798761600000)),
		INT64_C(1798416000000));
	/* 2000-01-01 (Saturday) starts its week in 1999-12-27. */
	assert_int_equal(gpu_period_start(GPU_PERIOD_WEEK, GPU_TIME_MIN_MS),
			 GPU_TIME_MIN_MS - 5 * DAY);
}

static void
test_time_period_start_month(void **state)
{
	(void)state;
	assert_int_equal(gpu_period_start(GPU_PERIOD_MONTH, T),
			 INT64_C(1793491200000));
	assert_int_equal(
		gpu_period_start(GPU_PERIOD_MONTH, INT64_C(1793491200000)),
		INT64_C(1793491200000));
	assert_int_equal(
		gpu_period_start(GPU_PERIOD_MONTH, INT64_C(1793491200000) - 1),
		INT64_C(1793491200000) - 31 * DAY);
	assert_int_equal(gpu_period_start(GPU_PERIOD_MONTH,
					  INT64_C(1709164800000)),
			 INT64_C(1706745600000)); /* 2024-02-29 -> 02-01 */
}

static void
test_time_period_start_all(void **state)
{
	(void)state;
	assert_int_equal(gpu_period_start(GPU_PERIOD_ALL, T), 0);
	assert_int_equal(gpu_period_start(GPU_PERIOD_ALL, GPU_TIME_MIN_MS), 0);
}

static void
test_time_period_next_fixed(void **state)
{
	(void)state;
	assert_int_equal(gpu_period_next(GPU_PERIOD_HOUR, T), T + HOUR);
	assert_int_equal(gpu_period_next(GPU_PERIOD_DAY, T - 16 * HOUR),
			 T + 8 * HOUR);
	assert_int_equal(gpu_period_next(GPU_PERIOD_WEEK,
					 INT64_C(1795392000000)),
			 INT64_C(1795392000000) + 7 * DAY);
	assert_int_equal(gpu_period_next(GPU_PERIOD_ALL, 0), INT64_MAX);
}

static void
test_time_period_next_month(void **state)
{
	(void)state;
	/* 2026-11-01 -> 2026-12-01 */
	assert_int_equal(
		gpu_period_next(GPU_PERIOD_MONTH, INT64_C(1793491200000)),
		INT64_C(1796083200000));
	/* 2024-02-01 -> 2024-03-01 (29 days) */
	assert_int_equal(
		gpu_period_next(GPU_PERIOD_MONTH, INT64_C(1706745600000)),
		INT64_C(1709251200000));
	/* 2099-12-01 -> 2100-01-01 */
	assert_int_equal(
		gpu_period_next(GPU_PERIOD_MONTH, GPU_TIME_MAX_MS - 31 * DAY),
		GPU_TIME_MAX_MS);
}

static void
test_time_period_next_month_december(void **state)
{
	(void)state;
	/* 2026-12-01 -> 2027-01-01 */
	assert_int_equal(
		gpu_period_next(GPU_PERIOD_MONTH, INT64_C(1796083200000)),
		INT64_C(1798761600000));
	label_is(GPU_PERIOD_MONTH, INT64_C(1798761600000), "2027-01");
}

static void
test_time_period_label_hour(void **state)
{
	(void)state;
	label_is(GPU_PERIOD_HOUR, T, "2026-11-28T16");
	label_is(GPU_PERIOD_HOUR, T + HOUR - 1, "2026-11-28T16");
	label_is(GPU_PERIOD_HOUR, T - 16 * HOUR, "2026-11-28T00");
	label_is(GPU_PERIOD_HOUR, GPU_TIME_MAX_MS - 1, "2099-12-31T23");
}

static void
test_time_period_label_day(void **state)
{
	(void)state;
	label_is(GPU_PERIOD_DAY, T, "2026-11-28");
	label_is(GPU_PERIOD_DAY, GPU_TIME_MIN_MS, "2000-01-01");
	label_is(GPU_PERIOD_DAY, INT64_C(1709164800000), "2024-02-29");
}

static void
test_time_period_label_month(void **state)
{
	(void)state;
	label_is(GPU_PERIOD_MONTH, T, "2026-11");
	label_is(GPU_PERIOD_MONTH, INT64_C(1798761600000) - 1, "2026-12");
	label_is(GPU_PERIOD_MONTH, GPU_TIME_MIN_MS, "2000-01");
}

static void
test_time_period_label_all(void **state)
{
	char out[32] = "junk";

	(void)state;
	gpu_period_label(GPU_PERIOD_ALL, T, out);
	assert_string_equal(out, "");
}

static void
test_time_period_label_week(void **state)
{
	(void)state;
	label_is(GPU_PERIOD_WEEK, T, "2026-W48");
	label_is(GPU_PERIOD_WEEK, INT64_C(1767225600000), "2026-W01");
}

static void
test_time_period_label_week_53_spans_new_year(void **state)
{
	(void)state;
	label_is(GPU_PERIOD_WEEK, INT64_C(1798675200000), "2026-W53");
	label_is(GPU_PERIOD_WEEK, INT64_C(1798761600000), "2026-W53");
	label_is(GPU_PERIOD_WEEK, INT64_C(1798934400000) + DAY - 1,
		 "2026-W53");
	label_is(GPU_PERIOD_WEEK, INT64_C(1799020800000), "2027-W01");
}

static void
test_time_period_label_week_01_in_december(void **state)
{
	(void)state;
	/* 2024-12-30 (Monday) is already 2025-W01; 2024-12-29 is not. */
	label_is(GPU_PERIOD_WEEK, INT64_C(1735516800000), "2025-W01");
	label_is(GPU_PERIOD_WEEK, INT64_C(1735516800000) - 1, "2024-W52");
}

static void
test_time_period_label_week_2020_w53(void **state)
{
	(void)state;
	/* 2021-01-03 (Sunday) */
	label_is(GPU_PERIOD_WEEK, INT64_C(1609632000000), "2020-W53");
	label_is(GPU_PERIOD_WEEK, INT64_C(1609632000000) + DAY, "2021-W01");
	/* 2000-01-01 (Saturday) is in 1999-W52. */
	label_is(GPU_PERIOD_WEEK, GPU_TIME_MIN_MS, "1999-W52");
}

/* An independent ISO week: ordinal-day formula, then fix the year ends. */
static void
iso_week(int64_t y, int m, int d, int64_t *wy, int *wn)
{
	int64_t n = gpu_days_from_civil(y, m, d);
	int64_t jan1 = gpu_days_from_civil(y, 1, 1);
	int wd = (int)(((n + 3) % 7 + 7) % 7) + 1; /* 1 = Monday */
	int ord = (int)(n - jan1) + 1;
	int w = (ord - wd + 10) / 7;

	if (w < 1) {
		int64_t p = y - 1;
		int pj = (int)(((gpu_days_from_civil(p, 1, 1) + 3) % 7 + 7) %
			       7) + 1;
		*wy = p;
		*wn = pj == 4 || (leap(p) && pj == 3) ? 53 : 52;
		return;
	}
	int j = (int)(((jan1 + 3) % 7 + 7) % 7) + 1;
	int weeks = j == 4 || (leap(y) && j == 3) ? 53 : 52;

	if (w > weeks) {
		*wy = y + 1;
		*wn = 1;
		return;
	}
	*wy = y;
	*wn = w;
}

static void
test_time_period_label_week_every_day(void **state)
{
	(void)state;
	for (int64_t n = gpu_days_from_civil(2000, 1, 1);
	     n < gpu_days_from_civil(2100, 1, 1); n++) {
		int64_t y, wy;
		int m, d, wn;
		char want[32], got[32];

		gpu_civil_from_days(n, &y, &m, &d);
		iso_week(y, m, d, &wy, &wn);
		snprintf(want, sizeof(want), "%04lld-W%02d", (long long)wy,
			 wn);
		gpu_period_label(GPU_PERIOD_WEEK, n * DAY + 12 * HOUR, got);
		assert_string_equal(got, want);
	}
}

static void
test_time_period_buckets_consistent(void **state)
{
	uint64_t x = 88172645463325252u;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		int64_t ms;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ms = GPU_TIME_MIN_MS +
		     (int64_t)(x % (uint64_t)(GPU_TIME_MAX_MS - GPU_TIME_MIN_MS));
		for (int p = GPU_PERIOD_HOUR; p <= GPU_PERIOD_MONTH; p++) {
			enum gpu_period per = (enum gpu_period)p;
			int64_t s = gpu_period_start(per, ms);
			int64_t nx = gpu_period_next(per, s);
			char a[32], b[32], c[32];

			assert_true(s <= ms && ms < nx);
			assert_int_equal(gpu_period_start(per, nx), nx);
			assert_int_equal(gpu_period_start(per, nx - 1), s);
			gpu_period_label(per, ms, a);
			gpu_period_label(per, s, b);
			gpu_period_label(per, nx, c);
			assert_string_equal(a, b);
			assert_string_not_equal(a, c);
		}
	}
}

/* Every label parses back to its bucket's start; nothing else parses. */
static void
test_time_period_label_parse(void **state)
{
	static const enum gpu_period ps[] = {GPU_PERIOD_HOUR, GPU_PERIOD_DAY,
					     GPU_PERIOD_WEEK, GPU_PERIOD_MONTH};
	static const char *const bad[] = {
	    "2026-11-28T16:00", "2026-11-28T16Z", "2025-W53",	 "2026-W00",
	    "2026-w48",		"2026-13",	  "2026-11-28 ", "",
	    "2026-11-31",	"1999-12",	  "20261128",	 "2026-W4",
	};
	char label[32];
	int64_t start;

	(void)state;
	for (int64_t ms = INT64_C(1767225600000) - 400 * DAY;
	     ms < INT64_C(1767225600000) + 400 * DAY; ms += 7 * HOUR + 13) {
		for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
			gpu_period_label(ps[i], ms, label);
			assert_int_equal(gpu_period_label_parse(ps[i], label,
								strlen(label),
								&start),
					 0);
			assert_int_equal(start, gpu_period_start(ps[i], ms));
		}
	}
	assert_int_equal(
	    gpu_period_label_parse(GPU_PERIOD_WEEK, "2025-W53", 8, &start), -1);
	assert_int_equal(
	    gpu_period_label_parse(GPU_PERIOD_WEEK, "2020-W53", 8, &start), 0);
	assert_int_equal(
	    gpu_period_label_parse(GPU_PERIOD_ALL, "all", 3, &start), -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++)
			if (gpu_period_label_parse(ps[k], bad[i],
						   strlen(bad[i]), &start) == 0)
				fail_msg("'%s' parsed as a label", bad[i]);
}

/* Relative arguments, against a fixed GPUUSAGE_NOW. */
static void
test_time_relative_args(void **state)
{
	/* 2026-11-21T12:30:00Z */
	const int64_t now = INT64_C(1795264200000), day = INT64_C(86400000);
	int64_t from = 0, to = 0, d = 0;
	const char *why = NULL;

	(void)state;
	assert_int_equal(setenv("GPUUSAGE_NOW", "2026-11-21T12:30", 1), 0);
	ok_arg("now", now);
	ok_arg("today", now - 12 * 3600000 - 30 * 60000);
	ok_arg("yesterday", now - 12 * 3600000 - 30 * 60000 - day);
	ok_arg("-7d", now - 7 * day);
	ok_arg("-24h", now - day);
	ok_arg("-2w", now - 14 * day);
	ok_arg("-90m", now - 90 * 60000);
	ok_arg("-30s", now - 30000);
	assert_int_equal(gpu_time_parse_arg("-7", &d, &why), -1);
	assert_string_equal(why, INVALID);
	assert_int_equal(gpu_time_parse_arg("-0d", &d, &why), -1);
	assert_int_equal(gpu_time_parse_arg("-7y", &d, &why), -1);
	assert_int_equal(gpu_time_parse_arg("Today", &d, &why), -1);
	assert_int_equal(gpu_time_last("24h", &from, &to, &why), 0);
	assert_true(from == now - day && to == now);
	assert_int_equal(gpu_time_last("24", &from, &to, &why), -1);
	assert_string_equal(why, "invalid duration");
	assert_int_equal(gpu_time_parse_duration("1000001s", &d), -1);
	assert_int_equal(gpu_time_parse_duration("h", &d), -1);
	assert_int_equal(gpu_time_parse_duration("3h", &d), 0);
	assert_true(d == 3 * 3600000);
	assert_int_equal(setenv("GPUUSAGE_NOW", "soon", 1), 0);
	assert_int_equal(gpu_time_parse_arg("today", &d, &why), -1);
	assert_string_equal(why, "invalid GPUUSAGE_NOW");
	/* Absolute forms never read GPUUSAGE_NOW. */
	ok_arg("2026-11-01", INT64_C(1793491200000));
	assert_int_equal(unsetenv("GPUUSAGE_NOW"), 0);
	assert_int_equal(gpu_time_now(&d, &why), 0);
	assert_true(d > now);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_epoch_seconds),
		cmocka_unit_test(test_time_epoch_seconds_plus_sign),
		cmocka_unit_test(test_time_epoch_seconds_leading_zeros),
		cmocka_unit_test(test_time_epoch_ms),
		cmocka_unit_test(test_time_epoch_ms_threshold),
		cmocka_unit_test(test_time_epoch_negative_seconds),
		cmocka_unit_test(test_time_epoch_negative_ms),
		cmocka_unit_test(test_time_epoch_fraction),
		cmocka_unit_test(test_time_epoch_fraction_truncated),
		cmocka_unit_test(test_time_epoch_fraction_on_ms_rejected),
		cmocka_unit_test(test_time_epoch_fraction_shape),
		cmocka_unit_test(test_time_epoch_seconds_limits),
		cmocka_unit_test(test_time_epoch_ms_limits),
		cmocka_unit_test(test_time_epoch_overflow),
		cmocka_unit_test(test_time_empty),
		cmocka_unit_test(test_time_spaces_not_trimmed),
		cmocka_unit_test(test_time_letters),
		cmocka_unit_test(test_time_trailing_junk),
		cmocka_unit_test(test_time_exponent_rejected),
		cmocka_unit_test(test_time_hex_rejected),
		cmocka_unit_test(test_time_signs),
		cmocka_unit_test(test_time_len_respected),
		cmocka_unit_test(test_time_iso_z),
		cmocka_unit_test(test_time_iso_no_offset_is_utc),
		cmocka_unit_test(test_time_iso_space_separator),
		cmocka_unit_test(test_time_iso_lower_case),
		cmocka_unit_test(test_time_iso_offset_colon),
		cmocka_unit_test(test_time_iso_offset_compact),
		cmocka_unit_test(test_time_iso_offset_zero),
		cmocka_unit_test(test_time_iso_offset_with_space_separator),
		cmocka_unit_test(test_time_iso_offset_crosses_midnight),
		cmocka_unit_test(test_time_iso_offset_crosses_year_end),
		cmocka_unit_test(test_time_iso_offset_extremes),
		cmocka_unit_test(test_time_iso_offset_hours_invalid),
		cmocka_unit_test(test_time_iso_offset_minutes_invalid),
		cmocka_unit_test(test_time_iso_offset_malformed),
		cmocka_unit_test(test_time_iso_fraction_ms),
		cmocka_unit_test(test_time_iso_fraction_short),
		cmocka_unit_test(test_time_iso_fraction_truncated_not_rounded),
		cmocka_unit_test(test_time_iso_fraction_any_precision),
		cmocka_unit_test(test_time_iso_fraction_with_offset),
		cmocka_unit_test(test_time_iso_fraction_malformed),
		cmocka_unit_test(test_time_iso_requires_seconds),
		cmocka_unit_test(test_time_iso_date_only_rejected),
		cmocka_unit_test(test_time_iso_bad_separators),
		cmocka_unit_test(test_time_iso_field_widths),
		cmocka_unit_test(test_time_iso_non_digit_fields),
		cmocka_unit_test(test_time_iso_month_range),
		cmocka_unit_test(test_time_iso_day_zero),
		cmocka_unit_test(test_time_iso_day31_in_30_day_months),
		cmocka_unit_test(test_time_iso_leap_day_2024),
		cmocka_unit_test(test_time_iso_leap_day_2026_rejected),
		cmocka_unit_test(test_time_iso_leap_day_2000),
		cmocka_unit_test(test_time_iso_leap_day_2100_rejected),
		cmocka_unit_test(test_time_iso_hour24_rejected),
		cmocka_unit_test(test_time_iso_minute60_rejected),
		cmocka_unit_test(test_time_iso_leap_second_rejected),
		cmocka_unit_test(test_time_iso_range_min),
		cmocka_unit_test(test_time_iso_range_max),
		cmocka_unit_test(test_time_iso_range_after_offset),
		cmocka_unit_test(test_time_slash_fraction),
		cmocka_unit_test(test_time_slash_without_fraction),
		cmocka_unit_test(test_time_slash_fraction_truncated),
		cmocka_unit_test(test_time_slash_offset_rejected),
		cmocka_unit_test(test_time_slash_needs_space_and_seconds),
		cmocka_unit_test(test_time_slash_invalid_date),
		cmocka_unit_test(test_time_arg_plain_date),
		cmocka_unit_test(test_time_arg_minutes),
		cmocka_unit_test(test_time_arg_minutes_with_offset),
		cmocka_unit_test(test_time_arg_accepts_data_forms),
		cmocka_unit_test(test_time_arg_rejects),
		cmocka_unit_test(test_time_arg_range),
		cmocka_unit_test(test_time_why_strings),
		cmocka_unit_test(test_time_why_may_be_null),
		cmocka_unit_test(test_time_days_from_civil_known),
		cmocka_unit_test(test_time_civil_from_days_known),
		cmocka_unit_test(test_time_civil_round_trip),
		cmocka_unit_test(test_time_civil_month_lengths),
		cmocka_unit_test(test_time_fmt_iso_whole_seconds),
		cmocka_unit_test(test_time_fmt_iso_milliseconds),
		cmocka_unit_test(test_time_fmt_iso_before_epoch),
		cmocka_unit_test(test_time_fmt_iso_round_trip),
		cmocka_unit_test(test_time_period_parse),
		cmocka_unit_test(test_time_period_parse_rejects),
		cmocka_unit_test(test_time_period_name),
		cmocka_unit_test(test_time_period_start_hour),
		cmocka_unit_test(test_time_period_start_day),
		cmocka_unit_test(test_time_period_start_week),
		cmocka_unit_test(test_time_period_start_week_across_year),
		cmocka_unit_test(test_time_period_start_month),
		cmocka_unit_test(test_time_period_start_all),
		cmocka_unit_test(test_time_period_label_parse),
		cmocka_unit_test(test_time_period_next_fixed),
		cmocka_unit_test(test_time_period_next_month),
		cmocka_unit_test(test_time_period_next_month_december),
		cmocka_unit_test(test_time_period_label_hour),
		cmocka_unit_test(test_time_period_label_day),
		cmocka_unit_test(test_time_period_label_month),
		cmocka_unit_test(test_time_period_label_all),
		cmocka_unit_test(test_time_period_label_week),
		cmocka_unit_test(test_time_period_label_week_53_spans_new_year),
		cmocka_unit_test(test_time_period_label_week_01_in_december),
		cmocka_unit_test(test_time_period_label_week_2020_w53),
		cmocka_unit_test(test_time_period_label_week_every_day),
		cmocka_unit_test(test_time_period_buckets_consistent),
		cmocka_unit_test(test_time_relative_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
