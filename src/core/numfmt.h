/* SPDX-License-Identifier: MIT */
/*
 * The number formatting of num.c, inline: the writer formats a row's
 * numbers with it in place, without a call for each (num.c's
 * gpu_num_fmt_*_str() are these functions). Private to src/core.
 */
#ifndef GPU_NUMFMT_H
#define GPU_NUMFMT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* "00" to "99": two decimal digits a step, half the divisions. */
static const char digits2[201] = "0001020304050607080910111213141516171819"
				 "2021222324252627282930313233343536373839"
				 "4041424344454647484950515253545556575859"
				 "6061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";

/* The number of decimal digits of u. */
static inline size_t
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
static inline size_t
put_u64_loop(char *out, uint64_t u)
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
static inline size_t
put_frac6(char *out, uint32_t f)
{
	uint64_t d = digits8(f * 100); /* six digits, then two zeros */
	uint64_t a = d + ASCII0;

	memcpy(out, &a, sizeof(a));
	return (size_t)(63 - __builtin_clzll(d)) / 8 + 1; /* to the last 1-9 */
}
#else
static inline size_t
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

#ifdef ASCII0
/* 1 <= x < 10^8 in decimal, leading zeros cut; writes 8 bytes. */
static inline size_t
put_digits8_cut(char *out, uint32_t x)
{
	uint64_t d = digits8(x);
	unsigned z = (unsigned)__builtin_ctzll(d) & ~7u;
	uint64_t a = (d >> z) + (ASCII0 >> z);

	memcpy(out, &a, sizeof(a));
	return 8 - z / 8;
}
#endif

/*
 * put_u64_loop() with quick ways for the common numbers: one or two
 * digits from the table; below 10^8 the eight digits of digits8() at
 * once, their leading zeros cut, and below 10^16 two such (it then writes
 * up to 16 bytes).
 */
static inline __attribute__((always_inline)) size_t
put_u64(char *out, uint64_t u)
{
	if (u < 10) {
		*out = (char)('0' + u);
		return 1;
	}
	if (u < 100) {
		memcpy(out, digits2 + 2 * u, 2);
		return 2;
	}
#ifdef ASCII0
	if (u < 100000000)
		return put_digits8_cut(out, (uint32_t)u); /* not 0: u >= 100 */
	if (u < UINT64_C(10000000000000000)) { /* the last 8 digits whole */
		size_t k = put_digits8_cut(out, (uint32_t)(u / 100000000));
		uint64_t a = digits8((uint32_t)(u % 100000000)) + ASCII0;

		memcpy(out + k, &a, sizeof(a));
		return k + 8;
	}
#endif
	return put_u64_loop(out, u);
}

__extension__ typedef unsigned __int128 u128;

/* round-half-even(a * 10^6), exactly, for 0 <= a < 9.2e18. */
static u128 __attribute__((noinline, unused))
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
static inline bool
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

static inline __attribute__((always_inline)) size_t
numfmt_double(double v, char *out)
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

static inline __attribute__((always_inline)) size_t
numfmt_i64(int64_t v, char *out)
{
	size_t n = 0;

	if (v < 0)
		out[n++] = '-';
	n += put_u64(out + n, v < 0 ? -(uint64_t)v : (uint64_t)v);
	out[n] = '\0';
	return n;
}


#endif
