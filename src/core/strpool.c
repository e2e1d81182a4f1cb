/* SPDX-License-Identifier: MIT */
/* Copies of byte strings in chunks that never move (gpu/strpool.h). */
#include "gpu/strpool.h"

#include <stdlib.h>
#include <string.h>

#include "gpu/diag.h"

/* Chunks double from the smallest to the largest; a longer string: its own. */
#define CHUNK_MIN 4096
#define CHUNK_MAX (1024 * 1024)

void
gpu_strpool_init(struct gpu_strpool *p)
{
	p->chunks = NULL;
}

struct gpu_strpool_chunk *
gpu_strpool_grow(struct gpu_strpool *p, size_t n)
{
	struct gpu_strpool_chunk *c = p->chunks;
	size_t cap = c == NULL ? CHUNK_MIN : c->cap * 2;

	if (cap > CHUNK_MAX)
		cap = CHUNK_MAX;
	if (cap < n)
		cap = n;
	c = gpu_xmalloc(sizeof(*c) + cap);
	c->next = p->chunks;
	c->used = 0;
	c->cap = cap;
	p->chunks = c;
	return c;
}

static void
free_chunks(struct gpu_strpool_chunk *c)
{
	while (c != NULL) {
		struct gpu_strpool_chunk *next = c->next;

		free(c);
		c = next;
	}
}

void
gpu_strpool_clear(struct gpu_strpool *p)
{
	if (p->chunks != NULL) {
		free_chunks(p->chunks->next);
		p->chunks->next = NULL;
		p->chunks->used = 0;
	}
}

void
gpu_strpool_release(struct gpu_strpool *p)
{
	free_chunks(p->chunks);
	p->chunks = NULL;
}
