/* SPDX-License-Identifier: MIT */
/*
 * Copies of byte strings, each with a NUL after it, in chunks that never
 * move: a copy keeps its address until the pool is cleared or released.
 * For strings held by the thousand and freed together (a map's keys, a
 * query's names), one allocation a chunk instead of one a string.
 */
#ifndef GPU_STRPOOL_H
#define GPU_STRPOOL_H

#include <stddef.h>
#include <string.h>

struct gpu_strpool_chunk {
	struct gpu_strpool_chunk *next;
	size_t used, cap;
	char data[];
};

struct gpu_strpool {
	struct gpu_strpool_chunk *chunks; /* newest (largest) first */
};

/* An empty pool (no allocation until the first copy); also = {0}. */
void gpu_strpool_init(struct gpu_strpool *p);

/* A new chunk with room for n bytes at least. Exits on out-of-memory. */
struct gpu_strpool_chunk *gpu_strpool_grow(struct gpu_strpool *p, size_t n);

/*
 * A copy of s[0..n) with a NUL after it. Inline: a map stores every key
 * it is given through it.
 */
static inline char *
gpu_strpool_add(struct gpu_strpool *p, const void *s, size_t n)
{
	struct gpu_strpool_chunk *c = p->chunks;
	char *d;

	if (c == NULL || c->cap - c->used < n + 1)
		c = gpu_strpool_grow(p, n + 1);
	d = c->data + c->used;
	if (n > 0)
		memcpy(d, s, n);
	d[n] = '\0';
	c->used += n + 1;
	return d;
}

/* Forget every copy, keeping the newest chunk for the next ones. */
void gpu_strpool_clear(struct gpu_strpool *p);

/* Free everything; the pool is left empty. */
void gpu_strpool_release(struct gpu_strpool *p);

#endif
