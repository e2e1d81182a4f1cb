/* SPDX-License-Identifier: MIT */
/* Strict number parsing and deterministic number printing. */
#include "gpu/num.h"

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

int64_t
gpu_num_div_round(gpu_i128 num, int64_t den)
{
	gpu_i128 q, r;

	q = num / den;
	r = num % den;
	if (r < 0)
		r = -r;
	if (2 * r >= den)
		q += num < 0 ? -1 : 1;
	return (int64_t)q;
}

void
gpu_num_fmt_double(struct gpu_buf *b, double v)
{
	char tmp[512];
	int n;

	if (!isfinite(v))
		return;
	n = snprintf(tmp, sizeof(tmp), "%.6f", v);
	if (n <= 0 || (size_t)n >= sizeof(tmp))
		return;
	while (n > 0 && tmp[n - 1] == '0')
		n--;
	if (n > 0 && tmp[n - 1] == '.')
		n--;
	tmp[n] = '\0';
	if (strcmp(tmp, "-0") == 0)
		gpu_buf_addc(b, '0');
	else
		gpu_buf_add(b, tmp, (size_t)n);
}

void
gpu_num_fmt_i64(struct gpu_buf *b, int64_t v)
{
	gpu_buf_addf(b, "%lld", (long long)v);
}

void
gpu_num_fmt_cents(struct gpu_buf *b, int64_t cents)
{
	uint64_t a = cents < 0 ? -(uint64_t)cents : (uint64_t)cents;

	gpu_buf_addf(b, "%s%llu.%02llu", cents < 0 ? "-" : "",
		     (unsigned long long)(a / 100),
		     (unsigned long long)(a % 100));
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
