/* SPDX-License-Identifier: MIT */
/* Unit tests for strict number parsing and number printing (gpu/num.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/num.h"

static void
i64_ok(const char *s, int64_t want)
{
	int64_t v = 42;

	if (gpu_num_parse_i64(s, strlen(s), &v) != 0 || v != want)
		fail_msg("'%s': got %lld, want %lld", s, (long long)v,
			 (long long)want);
}

static void
i64_bad(const char *s)
{
	int64_t v = 42;

	if (gpu_num_parse_i64(s, strlen(s), &v) != -1 || v != 42)
		fail_msg("'%s': accepted as %lld", s, (long long)v);
}

static void
dbl_ok(const char *s, double want)
{
	double v = 42;

	if (gpu_num_parse_double(s, strlen(s), &v) != 0 || v != want)
		fail_msg("'%s': got %.17g, want %.17g", s, v, want);
}

static void
dbl_bad(const char *s)
{
	double v = 42;

	if (gpu_num_parse_double(s, strlen(s), &v) != -1 || v != 42)
		fail_msg("'%s': accepted as %.17g", s, v);
}

static void
micro_ok(const char *s, int64_t want)
{
	int64_t v = 42;

	if (gpu_num_parse_micro(s, strlen(s), &v) != 0 || v != want)
		fail_msg("'%s': got %lld, want %lld", s, (long long)v,
			 (long long)want);
}

static void
micro_bad(const char *s)
{
	int64_t v = 42;

	if (gpu_num_parse_micro(s, strlen(s), &v) != -1 || v != 42)
		fail_msg("'%s': accepted as %lld", s, (long long)v);
}

static void
fmt_double_is(double v, const char *want)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	gpu_num_fmt_double(&b, v);
	if (strcmp(b.data, want) != 0 || b.len != strlen(want)) {
		char got[64];

		snprintf(got, sizeof(got), "%s", b.data);
		gpu_buf_release(&b);
		fail_msg("%.17g: got '%s', want '%s'", v, got, want);
	}
	gpu_buf_release(&b);
}

static void
fmt_cents_is(int64_t v, const char *want)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	gpu_num_fmt_cents(&b, v);
	assert_string_equal(b.data, want);
	assert_int_equal(b.len, strlen(want));
	gpu_buf_release(&b);
}

static void
fmt_micro_is(int64_t v, const char *want)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	gpu_num_fmt_micro(&b, v);
	assert_string_equal(b.data, want);
	assert_int_equal(b.len, strlen(want));
	gpu_buf_release(&b);
}

static void
fmt_i64_is(int64_t v, const char *want)
{
	struct gpu_buf b;
	char out[GPU_NUM_FMT_MAX];

	gpu_buf_init(&b);
	gpu_num_fmt_i64(&b, v);
	assert_string_equal(b.data, want);
	gpu_buf_release(&b);
	assert_int_equal(gpu_num_fmt_i64_str(v, out), strlen(want));
	assert_string_equal(out, want);
}

/* ---- gpu_num_parse_i64 ---- */

static void
test_num_i64_plain(void **state)
{
	(void)state;
	i64_ok("0", 0);
	i64_ok("7", 7);
	i64_ok("1732800000", INT64_C(1732800000));
	i64_ok("007", 7);
}

static void
test_num_i64_signs(void **state)
{
	(void)state;
	i64_ok("-5", -5);
	i64_ok("+5", 5);
	i64_ok("-0", 0);
	i64_bad("+-1");
	i64_bad("--1");
	i64_bad("++1");
	i64_bad("-");
	i64_bad("+");
	i64_bad("1-");
}

static void
test_num_i64_limits(void **state)
{
	(void)state;
	i64_ok("9223372036854775807", INT64_MAX);
	i64_ok("-9223372036854775808", INT64_MIN);
	i64_ok("-9223372036854775807", -INT64_MAX);
	i64_ok("+9223372036854775807", INT64_MAX);
	/* 18 digits take the way without overflow checks, 19 the other. */
	i64_ok("999999999999999999", INT64_C(999999999999999999));
	i64_ok("-999999999999999999", -INT64_C(999999999999999999));
	i64_ok("+000000000000000001", 1);
	i64_ok("1000000000000000000", INT64_C(1000000000000000000));
	i64_ok("-0000000000000000000000009", -9);
	i64_bad("99999999999999999x");
	i64_bad("9999999999999999999x");
}

static void
test_num_i64_overflow(void **state)
{
	(void)state;
	i64_bad("9223372036854775808");
	i64_bad("-9223372036854775809");
	i64_bad("9223372036854775810");
	i64_bad("18446744073709551616");
	i64_bad("99999999999999999999");
	i64_bad("123456789012345678901234567890");
}

static void
test_num_i64_empty(void **state)
{
	int64_t v = 42;

	(void)state;
	i64_bad("");
	assert_int_equal(gpu_num_parse_i64(NULL, 0, &v), -1);
	assert_int_equal(v, 42);
}

static void
test_num_i64_spaces(void **state)
{
	(void)state;
	i64_bad(" 1");
	i64_bad("1 ");
	i64_bad(" ");
	i64_bad("1 2");
	i64_bad("\t1");
	i64_bad("1\n");
}

static void
test_num_i64_not_integer(void **state)
{
	(void)state;
	i64_bad("1.0");
	i64_bad("1.");
	i64_bad("1e3");
	i64_bad("0x10");
	i64_bad("abc");
	i64_bad("12a");
	i64_bad("1,000");
	i64_bad("1_000");
}

static void
test_num_i64_len_respected(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(gpu_num_parse_i64("12345", 3, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(gpu_num_parse_i64("12x45", 2, &v), 0);
	assert_int_equal(v, 12);
}

static void
test_num_range(void **state)
{
	int64_t v = 7;

	(void)state;
	assert_int_equal(gpu_num_parse_range("1", 1, 86400, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(gpu_num_parse_range("86400", 1, 86400, &v), 0);
	assert_int_equal(v, 86400);
	v = 7;
	assert_int_equal(gpu_num_parse_range("0", 1, 86400, &v), -1);
	assert_int_equal(gpu_num_parse_range("86401", 1, 86400, &v), -1);
	assert_int_equal(gpu_num_parse_range("", 0, 10, &v), -1);
	assert_int_equal(gpu_num_parse_range("5x", 0, 10, &v), -1);
	assert_int_equal(gpu_num_parse_range(" 5", 0, 10, &v), -1);
	assert_int_equal(v, 7); /* unchanged on failure */
	assert_int_equal(
	    gpu_num_parse_range("-9223372036854775808", INT64_MIN, 0, &v), 0);
	assert_true(v == INT64_MIN);
}

/* ---- gpu_num_parse_double ---- */

static void
test_num_double_plain(void **state)
{
	(void)state;
	dbl_ok("0", 0.0);
	dbl_ok("1.5", 1.5);
	dbl_ok("-2.25", -2.25);
	dbl_ok("+3", 3.0);
	dbl_ok("100", 100.0);
	dbl_ok("0.1", 0.1);
	dbl_ok("250.00", 250.0);
}

static void
test_num_double_bare_point(void **state)
{
	(void)state;
	/* Accepted by decision: "1." and ".5", but not a lone point. */
	dbl_ok("1.", 1.0);
	dbl_ok(".5", 0.5);
	dbl_ok("-.5", -0.5);
	dbl_ok("+.25", 0.25);
	dbl_bad(".");
	dbl_bad("-.");
	dbl_bad("+.");
}

static void
test_num_double_exponent(void **state)
{
	(void)state;
	dbl_ok("1e3", 1000.0);
	dbl_ok("1E-3", 0.001);
	dbl_ok("1.5e+2", 150.0);
	dbl_ok("-2.5E1", -25.0);
	dbl_bad("e5");
	dbl_bad("1e");
	dbl_bad("1e+");
	dbl_bad("1e-");
	dbl_bad("1e5.5");
	dbl_bad("1ee5");
}

static void
test_num_double_negative_zero(void **state)
{
	double v = 1;

	(void)state;
	assert_int_equal(gpu_num_parse_double("-0", 2, &v), 0);
	assert_true(v == 0.0 && signbit(v));
}

static void
test_num_double_rejects_inf_nan(void **state)
{
	(void)state;
	dbl_bad("inf");
	dbl_bad("-inf");
	dbl_bad("INF");
	dbl_bad("infinity");
	dbl_bad("nan");
	dbl_bad("NaN");
	dbl_bad("-nan");
}

static void
test_num_double_rejects_hex(void **state)
{
	(void)state;
	dbl_bad("0x10");
	dbl_bad("0X1p3");
	dbl_bad("0x1.8p1");
}

static void
test_num_double_overflow(void **state)
{
	(void)state;
	dbl_bad("1e999");
	dbl_bad("-1e400");
	dbl_ok("1e308", 1e308);
}

static void
test_num_double_underflow_is_zero(void **state)
{
	double v = 42;

	(void)state;
	/* A tiny decimal is still a finite number: it is not an error. */
	assert_int_equal(gpu_num_parse_double("1e-400", 6, &v), 0);
	assert_true(v == 0.0);
	assert_int_equal(gpu_num_parse_double("5e-324", 6, &v), 0);
	assert_true(v > 0.0 && v < 1e-300);
}

static void
test_num_double_empty(void **state)
{
	double v = 42;

	(void)state;
	dbl_bad("");
	assert_int_equal(gpu_num_parse_double(NULL, 0, &v), -1);
	assert_true(v == 42);
	dbl_bad("-");
	dbl_bad("+");
}

static void
test_num_double_garbage(void **state)
{
	(void)state;
	dbl_bad(" 1");
	dbl_bad("1 ");
	dbl_bad("1,5");
	dbl_bad("1.2.3");
	dbl_bad("1..2");
	dbl_bad("--1");
	dbl_bad("+-1");
	dbl_bad("abc");
	dbl_bad("45 %");
	dbl_bad("1d");
	dbl_bad("1f");
}

static void
test_num_double_len_respected(void **state)
{
	double v = 0;

	(void)state;
	assert_int_equal(gpu_num_parse_double("1.25 W", 4, &v), 0);
	assert_true(v == 1.25);
	assert_int_equal(gpu_num_parse_double("1.25e9", 4, &v), 0);
	assert_true(v == 1.25);
}

/* ---- gpu_num_parse_micro ---- */

static void
test_num_micro_plain(void **state)
{
	(void)state;
	micro_ok("2.5", 2500000);
	micro_ok("2.50", 2500000);
	micro_ok("0", 0);
	micro_ok("1", 1000000);
	micro_ok("0.10", 100000);
	micro_ok("16", 16000000);
}

static void
test_num_micro_six_digits(void **state)
{
	(void)state;
	micro_ok("0.000001", 1);
	micro_ok("1.123456", 1123456);
	micro_ok("0.999999", 999999);
}

static void
test_num_micro_seven_digits_rejected(void **state)
{
	(void)state;
	micro_bad("1.1234567");
	micro_bad("0.0000001");
	/* Even a trailing zero: the text has more than 6 fractional digits. */
	micro_bad("1.1234560");
}

static void
test_num_micro_negative(void **state)
{
	(void)state;
	micro_ok("-2.5", -2500000);
	micro_ok("-0.000001", -1);
	micro_ok("-0", 0);
	micro_ok("+1", 1000000);
}

static void
test_num_micro_bare_point(void **state)
{
	(void)state;
	micro_ok("1.", 1000000);
	micro_ok(".5", 500000);
	micro_bad(".");
	micro_bad("-.");
}

static void
test_num_micro_non_numeric(void **state)
{
	(void)state;
	micro_bad("");
	micro_bad("-");
	micro_bad("+");
	micro_bad("abc");
	micro_bad("2.5x");
	micro_bad("1e3");
	micro_bad("1,5");
	micro_bad(" 1");
	micro_bad("1 ");
	micro_bad("0x1");
	micro_bad("1.2.3");
	micro_bad("--1");
	micro_bad("inf");
	micro_bad("nan");
}

static void
test_num_micro_overflow(void **state)
{
	(void)state;
	micro_ok("9223372036849.999999", INT64_C(9223372036849999999));
	micro_ok("-9223372036849.999999", -INT64_C(9223372036849999999));
	micro_bad("9223372036855");
	micro_bad("99999999999999999999");
	micro_bad("-99999999999999999999");
}

static void
test_num_micro_round_trip(void **state)
{
	static const char *const texts[] = {"2.5", "0.1", "0.000001", "-2.5",
					    "16", "1234567.654321", "0"};
	struct gpu_buf b;

	(void)state;
	gpu_buf_init(&b);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		int64_t v;

		assert_int_equal(
			gpu_num_parse_micro(texts[i], strlen(texts[i]), &v), 0);
		gpu_buf_reset(&b);
		gpu_num_fmt_micro(&b, v);
		assert_string_equal(b.data, texts[i]);
	}
	gpu_buf_release(&b);
}

/* ---- gpu_num_div_round ---- */

static void
test_num_div_round_fit_refuses_overflow(void **state)
{
	int64_t v = 42;

	(void)state;
	assert_int_equal(gpu_num_div_round_fit((gpu_i128)INT64_MAX, 1, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(
	    gpu_num_div_round_fit((gpu_i128)INT64_MAX * 2, 1, &v), -1);
	assert_int_equal(
	    gpu_num_div_round_fit((gpu_i128)INT64_MIN * 3, 2, &v), -1);
	assert_true(v == INT64_MAX);
	assert_int_equal(gpu_num_div_round_fit(-7, 2, &v), 0);
	assert_true(v == -4);
}

static void
test_num_div_round_exact(void **state)
{
	(void)state;
	assert_int_equal(gpu_num_div_round(0, 5), 0);
	assert_int_equal(gpu_num_div_round(10, 5), 2);
	assert_int_equal(gpu_num_div_round(-10, 5), -2);
	assert_int_equal(gpu_num_div_round(7, 1), 7);
}

static void
test_num_div_round_half_away_positive(void **state)
{
	(void)state;
	assert_int_equal(gpu_num_div_round(5, 2), 3);
	assert_int_equal(gpu_num_div_round(1, 2), 1);
	assert_int_equal(gpu_num_div_round(3, 2), 2);
	assert_int_equal(gpu_num_div_round(250, 100), 3);
	assert_int_equal(gpu_num_div_round(249, 100), 2);
	assert_int_equal(gpu_num_div_round(1, 3), 0);
	assert_int_equal(gpu_num_div_round(2, 3), 1);
}

static void
test_num_div_round_half_away_negative(void **state)
{
	(void)state;
	assert_int_equal(gpu_num_div_round(-5, 2), -3);
	assert_int_equal(gpu_num_div_round(-1, 2), -1);
	assert_int_equal(gpu_num_div_round(-3, 2), -2);
	assert_int_equal(gpu_num_div_round(-250, 100), -3);
	assert_int_equal(gpu_num_div_round(-249, 100), -2);
	assert_int_equal(gpu_num_div_round(-1, 3), 0);
	assert_int_equal(gpu_num_div_round(-2, 3), -1);
}

static void
test_num_div_round_wide(void **state)
{
	gpu_i128 big = (gpu_i128)INT64_MAX * 3600;

	(void)state;
	/* Intermediates past int64 are exact. */
	assert_true(gpu_num_div_round(big, 3600) == INT64_MAX);
	assert_true(gpu_num_div_round(-big, 3600) == -INT64_MAX);
	assert_true(gpu_num_div_round(big + 1799, 3600) == INT64_MAX);
	/* 1e12 GPU-s at 2.50 $/h in micro-dollars, to cents. */
	assert_true(gpu_num_div_round((gpu_i128)INT64_C(1000000000000) *
					      2500000,
				      INT64_C(3600) * 10000) ==
		    INT64_C(69444444444));
}

/* ---- printing ---- */

static void
test_num_fmt_double_trims_zeros(void **state)
{
	(void)state;
	fmt_double_is(2.5, "2.5");
	fmt_double_is(1.0, "1");
	fmt_double_is(0.0, "0");
	fmt_double_is(0.125, "0.125");
	fmt_double_is(-1.5, "-1.5");
}

static void
test_num_fmt_double_keeps_integer_zeros(void **state)
{
	(void)state;
	fmt_double_is(100.0, "100");
	fmt_double_is(1000000.0, "1000000");
	fmt_double_is(-10.0, "-10");
	fmt_double_is(1e20, "100000000000000000000");
}

static void
test_num_fmt_double_negative_zero(void **state)
{
	(void)state;
	fmt_double_is(-0.0, "0");
	fmt_double_is(-0.0000001, "0");
	fmt_double_is(-0.0000004, "0");
}

static void
test_num_fmt_double_six_decimals(void **state)
{
	(void)state;
	fmt_double_is(1.0 / 3.0, "0.333333");
	fmt_double_is(2.0 / 3.0, "0.666667");
	fmt_double_is(-2.0 / 3.0, "-0.666667");
	fmt_double_is(0.1234564, "0.123456");
	fmt_double_is(0.1234566, "0.123457");
	fmt_double_is(0.9999996, "1");
	fmt_double_is(0.000001, "0.000001");
	fmt_double_is(0.0000015, "0.000002");
	fmt_double_is(0.0000001, "0");
}

static void
test_num_fmt_double_non_finite(void **state)
{
	struct gpu_buf b;

	(void)state;
	gpu_buf_init(&b);
	gpu_buf_adds(&b, "x");
	gpu_num_fmt_double(&b, INFINITY);
	gpu_num_fmt_double(&b, -INFINITY);
	gpu_num_fmt_double(&b, NAN);
	assert_string_equal(b.data, "x");
	gpu_buf_release(&b);
}

static void
test_num_fmt_double_huge(void **state)
{
	struct gpu_buf b;

	(void)state;
	gpu_buf_init(&b);
	gpu_num_fmt_double(&b, 1.7976931348623157e308);
	assert_int_equal(b.len, 309);
	assert_true(b.data[0] == '1' && b.data[1] == '7');
	gpu_buf_release(&b);
}

static void
test_num_fmt_double_appends(void **state)
{
	struct gpu_buf b;

	(void)state;
	gpu_buf_init(&b);
	gpu_num_fmt_double(&b, 1.5);
	gpu_buf_addc(&b, ',');
	gpu_num_fmt_double(&b, -0.0);
	assert_string_equal(b.data, "1.5,0");
	gpu_buf_release(&b);
}

static void
test_num_fmt_i64(void **state)
{
	(void)state;
	char want[32];

	fmt_i64_is(0, "0");
	fmt_i64_is(-42, "-42");
	/* Every length, at both ends of it: the digit count is exact. */
	for (int64_t p = 1, d = 1; d <= 18; p *= 10, d++) {
		snprintf(want, sizeof(want), "%lld", (long long)p);
		fmt_i64_is(p, want);
		snprintf(want, sizeof(want), "%lld", (long long)(p * 10 - 1));
		fmt_i64_is(p * 10 - 1, want);
	}
	/* Every bit length, at both ends: the count starts from the bits. */
	for (int k = 1; k <= 62; k++) {
		int64_t p = INT64_C(1) << k;

		snprintf(want, sizeof(want), "%lld", (long long)p);
		fmt_i64_is(p, want);
		snprintf(want, sizeof(want), "%lld", (long long)(p - 1));
		fmt_i64_is(p - 1, want);
	}
	fmt_i64_is(INT64_MAX, "9223372036854775807");
	fmt_i64_is(INT64_MIN, "-9223372036854775808");
	/* Zeros inside: 9 to 16 digits are written as two runs of 8. */
	fmt_i64_is(INT64_C(100000001), "100000001");
	fmt_i64_is(INT64_C(1200000034), "1200000034");
	fmt_i64_is(INT64_C(1000000000000000), "1000000000000000");
	fmt_i64_is(INT64_C(9000000000000009), "9000000000000009");
	/* Many lengths and digits, against printf. */
	for (uint64_t x = 88172645463325252u, i = 0; i < 20000; i++) {
		int64_t v;

		x ^= x << 13; /* xorshift64 */
		x ^= x >> 7;
		x ^= x << 17;
		v = (int64_t)(x >> (i % 63));
		snprintf(want, sizeof(want), "%lld", (long long)v);
		fmt_i64_is(v, want);
	}
}

static void
test_num_fmt_cents(void **state)
{
	(void)state;
	fmt_cents_is(0, "0.00");
	fmt_cents_is(5, "0.05");
	fmt_cents_is(50, "0.50");
	fmt_cents_is(1234, "12.34");
	fmt_cents_is(100, "1.00");
}

static void
test_num_fmt_cents_negative(void **state)
{
	(void)state;
	fmt_cents_is(-5, "-0.05");
	fmt_cents_is(-1234, "-12.34");
	fmt_cents_is(-100, "-1.00");
}

static void
test_num_fmt_cents_limits(void **state)
{
	(void)state;
	fmt_cents_is(INT64_MAX, "92233720368547758.07");
	fmt_cents_is(INT64_MIN, "-92233720368547758.08");
}

static void
test_num_fmt_micro(void **state)
{
	(void)state;
	fmt_micro_is(2500000, "2.5");
	fmt_micro_is(0, "0");
	fmt_micro_is(1, "0.000001");
	fmt_micro_is(1000000, "1");
	fmt_micro_is(100000, "0.1");
	fmt_micro_is(1123456, "1.123456");
	fmt_micro_is(10000000, "10");
}

static void
test_num_fmt_micro_negative(void **state)
{
	(void)state;
	fmt_micro_is(-2500000, "-2.5");
	fmt_micro_is(-1, "-0.000001");
	fmt_micro_is(-1000000, "-1");
}

static void
test_num_fmt_micro_limits(void **state)
{
	(void)state;
	fmt_micro_is(INT64_MAX, "9223372036854.775807");
	fmt_micro_is(INT64_MIN, "-9223372036854.775808");
}

/* printf's "%.6f", trimmed: the reference for the formatter. */
static void
ref_fmt(double v, char *out, size_t size)
{
	int n = snprintf(out, size, "%.6f", v);

	while (n > 0 && out[n - 1] == '0')
		n--;
	if (n > 0 && out[n - 1] == '.')
		n--;
	out[n] = '\0';
	if (strcmp(out, "-0") == 0)
		snprintf(out, size, "0");
}

/* The formatter prints exactly what printf's rounding gives. */
static void
check_fmt(double v)
{
	char out[GPU_NUM_FMT_MAX], want[512];
	size_t n = gpu_num_fmt_double_str(v, out);

	if (n == 0) {
		assert_true(!isfinite(v) || fabs(v) >= 9.2e18);
		return;
	}
	ref_fmt(v, want, sizeof(want));
	if (strcmp(out, want) != 0 || strlen(out) != n)
		fail_msg("%.17g: '%s', want '%s'", v, out, want);
}

/* gpu_num_fmt_i64_str(v) against printf. */
static void
fmt_i64_matches(int64_t v)
{
	char out[GPU_NUM_FMT_MAX], want[32];
	size_t n = gpu_num_fmt_i64_str(v, out);

	snprintf(want, sizeof(want), "%lld", (long long)v);
	if (strcmp(out, want) != 0 || strlen(out) != n)
		fail_msg("%lld: '%s'", (long long)v, out);
}

static void
test_num_fmt_double_exact(void **state)
{
	static const double fixed[] = {
	    0, -0.0, 1, -1, 0.5, 0.0078125, 0.0234375, -0.0078125,
	    1.0000005, 0.0000005, 0.00000049999, 0.0000015, 123456.789,
	    99.9999995, 1e-300, 5e-324, 1e15, 9.1e18, 9.3e18, 1e300,
	    INFINITY, -INFINITY, NAN, 4503599627370495.5, 0.1, 0.3,
	    2.675, 1234.5678905,
	};
	uint64_t x = UINT64_C(88172645463325252);

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_fmt(fixed[i]);
	/* Exact ties at the sixth decimal: j / 128, j odd. */
	for (int j = -2001; j <= 2001; j += 2)
		check_fmt(j / 128.0);
	for (int i = 0; i < 200000; i++) {
		double v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (i % 4) {
		case 0: /* any bit pattern */
			memcpy(&v, &x, sizeof(v));
			break;
		case 1: /* metric-like magnitudes */
			v = (double)(x % 100000000000u) / 3600.0;
			break;
		case 2: /* near a rounding boundary */
			v = (double)(x % 10000000u) / 1e6 + 5e-7;
			break;
		default:
			v = ldexp((double)(x >> 11), (int)(x % 90) - 100);
		}
		check_fmt(i % 8 < 4 ? v : -v);
	}
}

/*
 * Around the ties at the seventh decimal, at every magnitude the quick
 * rounding (the double product) handles and past it: a double just below,
 * at and just above (k + 0.5) / 10^6.
 */
static void
test_num_fmt_double_near_ties(void **state)
{
	uint64_t x = UINT64_C(0x9e3779b97f4a7c15);

	(void)state;
	for (int i = 0; i < 300000; i++) {
		double v;
		uint64_t k;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = x >> (11 + (unsigned)(i % 53)); /* 1 to 53 bits */
		v = ((double)k + 0.5) / 1e6;
		check_fmt(v);
		check_fmt(nextafter(v, 0));
		check_fmt(nextafter(v, INFINITY));
		check_fmt(-v);
	}
}

/* Integers print as printf's "%lld" does, at every length and sign. */
static void
test_num_fmt_i64_exact(void **state)
{
	uint64_t x = UINT64_C(2463534242);
	int64_t p = 1;

	(void)state;
	for (int64_t v = -1000; v <= 1000; v++)
		fmt_i64_matches(v);
	for (int i = 0; i < 19; i++) { /* 1 to 10^18 */
		for (int64_t d = -1; d <= 1; d++) {
			fmt_i64_matches(p + d);
			fmt_i64_matches(-(p + d));
		}
		if (i < 18)
			p *= 10;
	}
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		fmt_i64_matches((int64_t)(x >> (i % 64)));
		fmt_i64_matches(-(int64_t)(x >> (i % 63 + 1)));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_num_fmt_double_exact),
	    cmocka_unit_test(test_num_fmt_double_near_ties),
	    cmocka_unit_test(test_num_fmt_i64_exact),
		cmocka_unit_test(test_num_i64_plain),
		cmocka_unit_test(test_num_i64_signs),
		cmocka_unit_test(test_num_i64_limits),
		cmocka_unit_test(test_num_i64_overflow),
		cmocka_unit_test(test_num_i64_empty),
		cmocka_unit_test(test_num_i64_spaces),
		cmocka_unit_test(test_num_i64_not_integer),
		cmocka_unit_test(test_num_i64_len_respected),
		cmocka_unit_test(test_num_range),
		cmocka_unit_test(test_num_double_plain),
		cmocka_unit_test(test_num_double_bare_point),
		cmocka_unit_test(test_num_double_exponent),
		cmocka_unit_test(test_num_double_negative_zero),
		cmocka_unit_test(test_num_double_rejects_inf_nan),
		cmocka_unit_test(test_num_double_rejects_hex),
		cmocka_unit_test(test_num_double_overflow),
		cmocka_unit_test(test_num_double_underflow_is_zero),
		cmocka_unit_test(test_num_double_empty),
		cmocka_unit_test(test_num_double_garbage),
		cmocka_unit_test(test_num_double_len_respected),
		cmocka_unit_test(test_num_micro_plain),
		cmocka_unit_test(test_num_micro_six_digits),
		cmocka_unit_test(test_num_micro_seven_digits_rejected),
		cmocka_unit_test(test_num_micro_negative),
		cmocka_unit_test(test_num_micro_bare_point),
		cmocka_unit_test(test_num_micro_non_numeric),
		cmocka_unit_test(test_num_micro_overflow),
		cmocka_unit_test(test_num_micro_round_trip),
		cmocka_unit_test(test_num_div_round_fit_refuses_overflow),
		cmocka_unit_test(test_num_div_round_exact),
		cmocka_unit_test(test_num_div_round_half_away_positive),
		cmocka_unit_test(test_num_div_round_half_away_negative),
		cmocka_unit_test(test_num_div_round_wide),
		cmocka_unit_test(test_num_fmt_double_trims_zeros),
		cmocka_unit_test(test_num_fmt_double_keeps_integer_zeros),
		cmocka_unit_test(test_num_fmt_double_negative_zero),
		cmocka_unit_test(test_num_fmt_double_six_decimals),
		cmocka_unit_test(test_num_fmt_double_non_finite),
		cmocka_unit_test(test_num_fmt_double_huge),
		cmocka_unit_test(test_num_fmt_double_appends),
		cmocka_unit_test(test_num_fmt_i64),
		cmocka_unit_test(test_num_fmt_cents),
		cmocka_unit_test(test_num_fmt_cents_negative),
		cmocka_unit_test(test_num_fmt_cents_limits),
		cmocka_unit_test(test_num_fmt_micro),
		cmocka_unit_test(test_num_fmt_micro_negative),
		cmocka_unit_test(test_num_fmt_micro_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
