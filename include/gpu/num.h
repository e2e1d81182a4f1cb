/* SPDX-License-Identifier: MIT */
/* Strict number parsing, exact decimals, and deterministic number printing. */
#ifndef GPU_NUM_H
#define GPU_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/buf.h"

__extension__ typedef __int128 gpu_i128;

/*
 * Parse the whole of s[0..len) as a decimal integer (optional sign, digits
 * only, no spaces). Returns 0 and sets *out, or -1 on anything else,
 * including overflow and an empty field.
 */
int gpu_num_parse_i64(const char *s, size_t len, int64_t *out);

/*
 * Parse the NUL-terminated s (a command-line argument) as
 * gpu_num_parse_i64() does, and require lo <= value <= hi. Returns 0 and
 * sets *out, or -1 leaving *out unchanged.
 */
int gpu_num_parse_range(const char *s, int64_t lo, int64_t hi, int64_t *out);

/*
 * Parse the whole of s[0..len) as a finite decimal number (sign, digits,
 * optional fraction and exponent; no hex, inf or nan). Returns 0 or -1.
 */
int gpu_num_parse_double(const char *s, size_t len, double *out);

/*
 * Parse an exact decimal with at most 6 fractional digits into millionths
 * ("2.5" -> 2500000). Returns 0, or -1 when it is not a plain decimal, has
 * more than 6 fractional digits, or overflows.
 */
int gpu_num_parse_micro(const char *s, size_t len, int64_t *micro);

/*
 * Divide num by den (den > 0), rounding half away from zero.
 */
int64_t gpu_num_div_round(gpu_i128 num, int64_t den);

/*
 * As gpu_num_div_round(), into *out. Returns 0, or -1 (*out untouched) when
 * the quotient does not fit in int64_t.
 */
int gpu_num_div_round_fit(gpu_i128 num, int64_t den, int64_t *out);

/* Room for a number formatted by gpu_num_fmt_double_str(), with its NUL. */
#define GPU_NUM_FMT_MAX 48

/*
 * Format v into out with at most 6 decimals as "%.6f" rounds (exactly,
 * half to even on the binary value), trailing zeros and a bare point
 * dropped, "-0" as "0"; without printf. Returns the length, or 0 (out
 * unset) when |v| >= 9.2e18 or v is not finite.
 */
size_t gpu_num_fmt_double_str(double v, char out[GPU_NUM_FMT_MAX]);

/*
 * Append v with at most 6 decimals, trailing zeros and a trailing point
 * removed, and never "-0". Non-finite values append nothing.
 */
void gpu_num_fmt_double(struct gpu_buf *b, double v);

/* Write v in decimal into out, NUL-terminated; returns the length. */
size_t gpu_num_fmt_i64_str(int64_t v, char out[GPU_NUM_FMT_MAX]);

/* Append an integer. */
void gpu_num_fmt_i64(struct gpu_buf *b, int64_t v);

/* Append an amount in cents as "-12.34" (always two decimals). */
void gpu_num_fmt_cents(struct gpu_buf *b, int64_t cents);

/* The same into out, NUL-terminated; returns the length. */
size_t gpu_num_fmt_cents_str(int64_t cents, char out[GPU_NUM_FMT_MAX]);

/* Append millionths as a decimal with trailing zeros trimmed ("2.5"). */
void gpu_num_fmt_micro(struct gpu_buf *b, int64_t micro);

#endif
