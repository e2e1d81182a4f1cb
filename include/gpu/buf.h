/* SPDX-License-Identifier: MIT */
/* Growable byte buffer, always NUL-terminated. */
#ifndef GPU_BUF_H
#define GPU_BUF_H

#include <stddef.h>
#include <string.h>

struct gpu_buf {
	char *data; /* NUL-terminated; "" before the first append */
	size_t len;
	size_t cap;
};

/* Make b an empty buffer. Allocates nothing until the first append. */
void gpu_buf_init(struct gpu_buf *b);

/* Free b's storage; b is left empty and may be reused. */
void gpu_buf_release(struct gpu_buf *b);

/* Empty b, keeping its storage. */
void gpu_buf_reset(struct gpu_buf *b);

/* Make room for n more bytes (plus the NUL). Exits on out-of-memory. */
void gpu_buf_grow(struct gpu_buf *b, size_t n);

/*
 * Append n bytes, a C string, one byte, or printf-style text. The first
 * and third are inline: writers call them a few dozen times a row.
 */
static inline void
gpu_buf_add(struct gpu_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n + 1 > b->cap)
		gpu_buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void
gpu_buf_addc(struct gpu_buf *b, char c)
{
	if (b->len + 2 > b->cap)
		gpu_buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void gpu_buf_adds(struct gpu_buf *b, const char *s);
void gpu_buf_addf(struct gpu_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
