/* SPDX-License-Identifier: MIT */
/* Growable byte buffer. */
#include "gpu/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/diag.h"

static char empty[1];

void
gpu_buf_init(struct gpu_buf *b)
{
	b->data = empty;
	b->len = 0;
	b->cap = 0;
}

void
gpu_buf_release(struct gpu_buf *b)
{
	if (b->cap > 0)
		free(b->data);
	gpu_buf_init(b);
}

void
gpu_buf_reset(struct gpu_buf *b)
{
	b->len = 0;
	if (b->cap > 0)
		b->data[0] = '\0';
}

void
gpu_buf_grow(struct gpu_buf *b, size_t n)
{
	size_t want = b->len + n + 1;
	size_t cap;

	if (want <= b->cap)
		return;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < want)
		cap *= 2;
	if (b->cap == 0) {
		b->data = gpu_xmalloc(cap);
		b->data[0] = '\0';
	} else {
		b->data = gpu_xrealloc(b->data, cap);
	}
	b->cap = cap;
}

void
gpu_buf_adds(struct gpu_buf *b, const char *s)
{
	gpu_buf_add(b, s, strlen(s));
}

void
gpu_buf_addf(struct gpu_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	gpu_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}
