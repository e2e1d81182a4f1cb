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

/* "00" to "99": two decimal digits a step, half the divisions. */
static const char digits2[201] = "0001020304050607080910111213141516171819"
				 "2021222324252627282930313233343536373839"
				 "4041424344454647484950515253545556575859"
				 "6061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";

/* The number of decimal digits of u. */
static size_t
ndigits(uint64_t u)
{
	static const uint64_t pow10[20] = {
	    UINT64_C(1),
	    UINT64_C(10),
	    UINT64_C(100),
	    UINT64_C(1000),
	    UINT64_C(10000),
	    UINT64_C(100000),
	    UINT64_C(1000000),
	    UINT64_C(10000000),
	    UINT64_C(100000000),
	    UINT64_C(1000000000),
	    UINT64_C(10000000000),
	    UINT64_C(100000000000),
	    UINT64_C(1000000000000),
	    UINT64_C(10000000000000),
	    UINT64_C(100000000000000),
	    UINT64_C(1000000000000000),
	    UINT64_C(10000000000000000),
	    UINT64_C(100000000000000000),
	    UINT64_C(1000000000000000000),
	    UINT64_C(10000000000000000000)};
	uint64_t v = u | 1; /* 0 has the one digit 1 has */
	/* t = floor(bits * log10(2)): v has t digits, or t + 1 */
	size_t t = (size_t)(64 - __builtin_clzll(v)) * 1233 >> 12;

	return t + (v >= pow10[t]);
}

/*
 * Write u in decimal at out (no NUL); returns the length. The digits go
 * straight to their places, two at a time, from the last.
 */
static size_t
put_u64(char *out, uint64_t u)
{
	size_t n = ndigits(u);
	char *p = out + n;

	while (u >= 100) {
		unsigned r = (unsigned)(u % 100);

		u /= 100;
		p -= 2;
		memcpy(p, digits2 + 2 * r, 2);
	}
	if (u >= 10) {
		p -= 2;
		memcpy(p, digits2 + 2 * u, 2);
	} else {
		*--p = (char)('0' + u);
	}
	return n;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ASCII0 UINT64_C(0x3030303030303030)

/*
 * The eight decimal digits of x < 10^8, leading zeros kept, as the values
 * 0 to 9 in the eight bytes of the result, the first digit in the lowest
 * (first in memory). Lane by lane in one register: x split into two
 * halves of four digits (32-bit lanes), each into two pairs (16-bit
 * lanes), each into two digits (bytes). A quotient by 100 is (v * 10486)
 * >> 20 for v < 10^4, by 10 (v * 103) >> 10 for v < 100: no lane carries
 * into the next.
 */
static inline uint64_t
digits8(uint32_t x)
{
	uint64_t z = x / 10000 | (uint64_t)(x % 10000) << 32, h;

	h = (z * 10486) >> 20 & UINT64_C(0x0000007f0000007f);
	z = h | (z - h * 100) << 16;
	h = (z * 103) >> 10 & UINT64_C(0x000f000f000f000f);
	return h | (z - h * 10) << 8;
}

/*
 * A fraction f of 1 to 999999 millionths as its digits after the point,
 * trailing zeros cut (at least one is left: f is not 0); writes 8 bytes.
 */
static size_t
put_frac6(char *out, uint32_t f)
{
	uint64_t d = digits8(f * 100); /* six digits, then two zeros */
	uint64_t a = d + ASCII0;

	memcpy(out, &a, sizeof(a));
	return (size_t)(63 - __builtin_clzll(d)) / 8 + 1; /* to the last 1-9 */
}
#else
static size_t
put_frac6(char *out, uint32_t f)
{
	size_t w = 6;

	memcpy(out, digits2 + 2 * (f / 10000), 2);
	memcpy(out + 2, digits2 + 2 * (f / 100 % 100), 2);
	memcpy(out + 4, digits2 + 2 * (f % 100), 2);
	while (out[w - 1] == '0') /* f != 0: a digit is not */
		w--;
	return w;
}
#endif

__extension__ typedef unsigned __int128 u128;

/* round-half-even(a * 10^6), exactly, for 0 <= a < 9.2e18. */
static u128
micro_exact(double a)
{
	uint64_t bits, m;
	int e;

	/* a = m * 2^e exactly (IEEE 754 binary64 fields). */
	memcpy(&bits, &a, sizeof(bits));
	m = bits & ((UINT64_C(1) << 52) - 1);
	e = (int)(bits >> 52);
	if (e == 0) {
		e = -1074; /* subnormal */
	} else {
		m |= UINT64_C(1) << 52;
		e -= 1075;
	}
	if (m == 0 || e < -120) {
		return 0;
	} else if (e >= 0) {
		return ((u128)m << e) * 1000000u;
	} else {
		u128 x = (u128)m * 1000000u, q, r, half;

		q = x >> -e;
		r = x - (q << -e);
		half = (u128)1 << (-e - 1);
		if (r > half || (r == half && (q & 1u)))
			q++;
		return q;
	}
}

/*
 * micro_exact(a) the quick way, when it can tell: below 2^51, k + 0.5 is a
 * double for every integer k, so the double product p, the exact product
 * rounded to the nearest double, is below (above) k + 0.5 only when the
 * exact product is. Only a p of exactly k + 0.5 (an exact tie, or a near
 * one rounded onto it) takes the exact way, as do larger products.
 */
static bool
micro_quick(double a, u128 *q)
{
	double p = a * 1e6, f;
	uint64_t r;

	if (!(p < 0x1p51))
		return false;
	r = (uint64_t)p;
	f = p - (double)r;
	if (f == 0.5)
		return false;
	*q = r + (f > 0.5); /* no branch: below and above come at random */
	return true;
}

size_t
gpu_num_fmt_double_str(double v, char out[GPU_NUM_FMT_MAX])
{
	double a = fabs(v);
	uint64_t ip;
	uint32_t frac;
	u128 q;
	size_t n = 0;

	if (!(a < 9.2e18)) /* also NaN and infinities */
		return 0;
	if (!micro_quick(a, &q))
		q = micro_exact(a);
	if (q == 0) {
		out[0] = '0';
		out[1] = '\0';
		return 1;
	}
	if (q <= UINT64_MAX) { /* below 1.8e13: no 128-bit division */
		ip = (uint64_t)q / 1000000u;
		frac = (uint32_t)((uint64_t)q % 1000000u);
	} else {
		ip = (uint64_t)(q / 1000000u);
		frac = (uint32_t)(q % 1000000u);
	}
	if (v < 0)
		out[n++] = '-';
	n += put_u64(out + n, ip);
	if (frac != 0) {
		out[n++] = '.';
		n += put_frac6(out + n, frac);
	}
	out[n] = '\0';
	return n;
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
	size_t n = 0;

	if (v < 0)
		out[n++] = '-';
	n += put_u64(out + n, v < 0 ? -(uint64_t)v : (uint64_t)v);
	out[n] = '\0';
	return n;
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
