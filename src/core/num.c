/* SPDX-License-Identifier: MIT */
/* Strict number parsing and deterministic number printing. */
#include "gpu/num.h"

#include "numfmt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
gpu_num_parse_i64(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0, limit;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		return -1;
	if (len - i <= 18) {
		/* At most 18 digits: below 10^18, no overflow to check. */
		for (; i < len; i++) {
			if (!is_digit(s[i]))
				return -1;
			v = v * 10 + (unsigned)(s[i] - '0');
		}
		*out = neg ? -(int64_t)v : (int64_t)v;
		return 0;
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		unsigned d;

		if (!is_digit(s[i]))
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (limit - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

/* Check the shape: [sign] digits [. digits] [e [sign] digits]. */
static bool
is_plain_number(const char *s, size_t len)
{
	size_t i = 0, nd = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	for (; i < len && is_digit(s[i]); i++)
		nd++;
	if (i < len && s[i] == '.')
		for (i++; i < len && is_digit(s[i]); i++)
			nd++;
	if (nd == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t ne = 0;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		for (; i < len && is_digit(s[i]); i++)
			ne++;
		if (ne == 0)
			return false;
	}
	return i == len;
}

int
gpu_num_parse_range(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	int64_t v;

	if (gpu_num_parse_i64(s, strlen(s), &v) != 0 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int
gpu_num_parse_double(const char *s, size_t len, double *out)
{
	char tmp[64];
	char *end;
	double v;

	if (len == 0 || len >= sizeof(tmp) || !is_plain_number(s, len))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	v = strtod(tmp, &end);
	/*
	 * Overflow gives HUGE_VAL and is rejected; underflow (ERANGE with a
	 * result near 0, e.g. "1e-400") is a finite number and is kept.
	 */
	if (end != tmp + len || !isfinite(v) ||
	    (errno == ERANGE && fabs(v) >= 1.0))
		return -1;
	*out = v;
	return 0;
}

int
gpu_num_parse_micro(const char *s, size_t len, int64_t *micro)
{
	size_t i = 0, nfrac = 0;
	bool neg = false, any = false;
	int64_t v = 0;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	for (; i < len && is_digit(s[i]); i++) {
		if (v > (INT64_MAX / 1000000 - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
		any = true;
	}
	v *= 1000000;
	if (i < len && s[i] == '.') {
		int64_t scale = 100000;

		for (i++; i < len && is_digit(s[i]); i++) {
			if (++nfrac > 6)
				return -1;
			v += (s[i] - '0') * scale;
			scale /= 10;
			any = true;
		}
	}
	if (!any || i != len)
		return -1;
	*micro = neg ? -v : v;
	return 0;
}

static gpu_i128
div_round(gpu_i128 num, int64_t den)
{
	gpu_i128 q, r;

	q = num / den;
	r = num % den;
	if (r < 0)
		r = -r;
	if (2 * r >= den)
		q += num < 0 ? -1 : 1;
	return q;
}

int64_t
gpu_num_div_round(gpu_i128 num, int64_t den)
{
	return (int64_t)div_round(num, den);
}

int
gpu_num_div_round_fit(gpu_i128 num, int64_t den, int64_t *out)
{
	gpu_i128 q = div_round(num, den);

	if (q > INT64_MAX || q < INT64_MIN)
		return -1;
	*out = (int64_t)q;
	return 0;
}

size_t
gpu_num_fmt_double_str(double v, char out[GPU_NUM_FMT_MAX])
{
	return numfmt_double(v, out);
}

void
gpu_num_fmt_double(struct gpu_buf *b, double v)
{
	char tmp[512];
	size_t n = gpu_num_fmt_double_str(v, tmp);
	int k;

	if (n > 0 || !isfinite(v)) {
		gpu_buf_add(b, tmp, n);
		return;
	}
	/* |v| >= 9.2e18: no fraction is left to round; printf is exact. */
	k = snprintf(tmp, sizeof(tmp), "%.0f", v);
	if (k > 0 && (size_t)k < sizeof(tmp))
		gpu_buf_add(b, tmp, (size_t)k);
}

size_t
gpu_num_fmt_i64_str(int64_t v, char out[GPU_NUM_FMT_MAX])
{
	return numfmt_i64(v, out);
}

void
gpu_num_fmt_i64(struct gpu_buf *b, int64_t v)
{
	char tmp[GPU_NUM_FMT_MAX];

	gpu_buf_add(b, tmp, gpu_num_fmt_i64_str(v, tmp));
}

size_t
gpu_num_fmt_cents_str(int64_t cents, char out[GPU_NUM_FMT_MAX])
{
	uint64_t a = cents < 0 ? -(uint64_t)cents : (uint64_t)cents;
	size_t n = 0;

	if (cents < 0)
		out[n++] = '-';
	n += put_u64(out + n, a / 100);
	out[n++] = '.';
	out[n++] = (char)('0' + a % 100 / 10);
	out[n++] = (char)('0' + a % 10);
	out[n] = '\0';
	return n;
}

void
gpu_num_fmt_cents(struct gpu_buf *b, int64_t cents)
{
	char tmp[GPU_NUM_FMT_MAX];

	gpu_buf_add(b, tmp, gpu_num_fmt_cents_str(cents, tmp));
}

void
gpu_num_fmt_micro(struct gpu_buf *b, int64_t micro)
{
	uint64_t a = micro < 0 ? -(uint64_t)micro : (uint64_t)micro;
	char frac[8];
	int n;

	gpu_buf_addf(b, "%s%llu", micro < 0 ? "-" : "",
		     (unsigned long long)(a / 1000000));
	n = snprintf(frac, sizeof(frac), "%06llu",
		     (unsigned long long)(a % 1000000));
	while (n > 0 && frac[n - 1] == '0')
		n--;
	if (n > 0) {
		gpu_buf_addc(b, '.');
		gpu_buf_add(b, frac, (size_t)n);
	}
}
