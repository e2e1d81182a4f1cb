/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 (FIPS 180-4): a small portable implementation, and the x86 SHA
 * extensions where the CPU has them (about five times as fast).
 */
#include "gpu/sha256.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_NI 1
#endif

static const uint32_t k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t
ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void
compress(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 =
		    ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 =
		    ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3];
	e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t s1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t t1 = hh + s1 + ch + k[i] + w[i];
		uint32_t s0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t2 = s0 + maj;

		hh = g, g = f, f = e, e = d + t1;
		d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d;
	h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

/* Compress n blocks of p into h, one at a time. */
static void
compress_blocks(uint32_t h[8], const unsigned char *p, size_t n)
{
	for (; n > 0; n--, p += 64)
		compress(h, p);
}

#ifdef HAVE_SHA_NI
/* Whether the CPU has the SHA extensions and the SSE4.1 they use here. */
static bool
cpu_has_sha(void)
{
	unsigned a, b, c, d;

	if (__get_cpuid(1, &a, &b, &c, &d) == 0 || (c & bit_SSE4_1) == 0 ||
	    (c & bit_SSSE3) == 0)
		return false;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0)
		return false;
	return (b & (1u << 29)) != 0; /* CPUID.(EAX=7,ECX=0):EBX.SHA */
}

/*
 * The same compression with the SHA extensions: the state is held as the
 * word pairs ABEF and CDGH that sha256rnds2 works on, two rounds per
 * instruction, the message schedule four words at a time.
 */
__attribute__((target("sha,sse4.1,ssse3"))) static void
compress_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
	const __m128i swap =
	    _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i abef, cdgh, t;

	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);
	cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);
	abef = _mm_alignr_epi8(t, cdgh, 8);
	cdgh = _mm_blend_epi16(cdgh, t, 0xF0);
	for (; n > 0; n--, p += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh, w[4];

		for (int i = 0; i < 16; i++) {
			__m128i m, wk;

			if (i < 4) {
				m = _mm_shuffle_epi8(
				    _mm_loadu_si128(
					(const __m128i *)(p + 16 * i)),
				    swap);
			} else {
				/* W[4i..4i+3] from the 16 words before. */
				m = _mm_sha256msg1_epu32(w[i % 4],
							 w[(i + 1) % 4]);
				m = _mm_add_epi32(
				    m, _mm_alignr_epi8(w[(i + 3) % 4],
						       w[(i + 2) % 4], 4));
				m = _mm_sha256msg2_epu32(m, w[(i + 3) % 4]);
			}
			w[i % 4] = m;
			wk = _mm_add_epi32(
			    m, _mm_loadu_si128((const __m128i *)&k[4 * i]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
			abef = _mm_sha256rnds2_epu32(
			    abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	t = _mm_shuffle_epi32(abef, 0x1B);
	cdgh = _mm_shuffle_epi32(cdgh, 0xB1);
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, cdgh, 0xF0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(cdgh, t, 8));
}
#endif

/* Compress n blocks with the fastest code this CPU runs. */
static void
compress_n(const struct gpu_sha256 *ctx, uint32_t h[8], const unsigned char *p,
	   size_t n)
{
#ifdef HAVE_SHA_NI
	if (ctx->ni) {
		compress_ni(h, p, n);
		return;
	}
#endif
	(void)ctx;
	compress_blocks(h, p, n);
}

void
gpu_sha256_portable(struct gpu_sha256 *ctx)
{
	ctx->ni = false;
}

void
gpu_sha256_init(struct gpu_sha256 *ctx)
{
	static const uint32_t iv[8] = {
	    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(ctx->h, iv, sizeof(iv));
	ctx->nbytes = 0;
	ctx->fill = 0;
#ifdef HAVE_SHA_NI
	ctx->ni = cpu_has_sha();
#else
	ctx->ni = false;
#endif
}

void
gpu_sha256_update(struct gpu_sha256 *ctx, const void *data, size_t n)
{
	const unsigned char *p = data;

	ctx->nbytes += n;
	if (ctx->fill > 0) {
		size_t take = 64 - ctx->fill < n ? 64 - ctx->fill : n;

		memcpy(ctx->block + ctx->fill, p, take);
		ctx->fill += take;
		p += take;
		n -= take;
		if (ctx->fill < 64)
			return;
		compress_n(ctx, ctx->h, ctx->block, 1);
		ctx->fill = 0;
	}
	if (n >= 64) {
		compress_n(ctx, ctx->h, p, n / 64);
		p += n / 64 * 64;
		n %= 64;
	}
	if (n > 0)
		memcpy(ctx->block, p, n);
	ctx->fill = n;
}

void
gpu_sha256_hex(struct gpu_sha256 *ctx, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	uint64_t bits = ctx->nbytes * 8;
	unsigned char pad[72] = {0x80};
	size_t padlen = ctx->fill < 56 ? 56 - ctx->fill : 120 - ctx->fill;

	for (int i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	gpu_sha256_update(ctx, pad, padlen + 8);
	for (int i = 0; i < 32; i++) {
		unsigned char byte =
		    (unsigned char)(ctx->h[i / 4] >> (24 - 8 * (i % 4)));

		hex[2 * i] = digits[byte >> 4];
		hex[2 * i + 1] = digits[byte & 15];
	}
	hex[64] = '\0';
}
