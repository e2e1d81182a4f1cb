/* SPDX-License-Identifier: MIT */
/* UTF-8: the one decoder of the core. */
#ifndef GPU_UTF8_H
#define GPU_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The length (1-4) of the valid UTF-8 sequence that starts s[0..n), or 0
 * when it is not one: a continuation or invalid lead byte, a truncated
 * or overlong sequence, a surrogate or a code point above U+10FFFF. n must
 * be at least 1.
 */
size_t gpu_utf8_seq(const unsigned char *s, size_t n);

/* Is p[0..n) valid UTF-8 throughout? */
bool gpu_utf8_valid(const char *p, size_t n);

#endif
