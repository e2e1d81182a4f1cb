/* SPDX-License-Identifier: MIT */
/* The hash map: open addressing over an insertion-ordered entry array. */
#include "gpu/hashmap.h"

#include <stdlib.h>
#include <string.h>

#include "gpu/diag.h"

/* A word-at-a-time multiplicative hash: keys are short byte strings. */
static uint64_t
hash_bytes(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 32;
	}
	w = 0;
	if (len > 0)
		memcpy(&w, s, len);
	h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
	return h ^ (h >> 29);
}

void
gpu_hashmap_init(struct gpu_hashmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
gpu_hashmap_release(struct gpu_hashmap *m)
{
	free(m->ents);
	free(m->slots);
	gpu_strpool_release(&m->keys);
	gpu_hashmap_init(m);
}

void
gpu_hashmap_clear(struct gpu_hashmap *m)
{
	if (m->nslots > 0)
		memset(m->slots, 0, m->nslots * sizeof(*m->slots));
	m->n = m->nslotted = 0;
	m->last = 0;
	gpu_strpool_clear(&m->keys);
}

size_t
gpu_hashmap_count(const struct gpu_hashmap *m)
{
	return m->n;
}

/* Put entry i, known absent from the slots, in the first free one. */
static void
place(struct gpu_hashmap *m, size_t i)
{
	size_t mask = m->nslots - 1, j = m->ents[i].hash & mask;

	while (m->slots[j] != 0)
		j = (j + 1) & mask;
	m->slots[j] = (uint32_t)(i + 1);
}

static void
rehash(struct gpu_hashmap *m)
{
	size_t ns = m->nslots == 0 ? 64 : m->nslots * 2;

	free(m->slots);
	m->slots = gpu_xcalloc(ns, sizeof(*m->slots));
	m->nslots = ns;
	for (size_t i = 0; i < m->nslotted; i++)
		place(m, i);
}

static bool
is_key(const struct gpu_hashmap_ent *e, const void *key, size_t len)
{
	return e->len == len && (len == 0 || memcmp(e->key, key, len) == 0);
}

/*
 * The entry of key, or GPU_HASHMAP_NONE with *slot (when the map has
 * slots) the empty slot where it would go.
 */
static size_t
lookup(struct gpu_hashmap *m, const void *key, size_t len, uint64_t h,
       size_t *slot)
{
	size_t j;

	*slot = 0;
	if (m->nslots == 0)
		return GPU_HASHMAP_NONE;
	for (j = h & (m->nslots - 1); m->slots[j] != 0;
	     j = (j + 1) & (m->nslots - 1)) {
		size_t i = m->slots[j] - 1;

		if (m->ents[i].hash == h && is_key(&m->ents[i], key, len)) {
			m->last = i + 1;
			return i;
		}
	}
	*slot = j;
	return GPU_HASHMAP_NONE;
}

/*
 * Entry n (not yet counted) for a copy of key[0..len), value 0; the
 * caller sets its hash and counts it.
 */
static struct gpu_hashmap_ent *
new_entry(struct gpu_hashmap *m, const void *key, size_t len)
{
	struct gpu_hashmap_ent *e;

	if (m->n == m->cap) {
		m->cap = m->cap == 0 ? 64 : m->cap * 2;
		m->ents = gpu_xreallocarray(m->ents, m->cap, sizeof(*m->ents));
	}
	e = &m->ents[m->n];
	e->key = gpu_strpool_add(&m->keys, key, len);
	e->len = len;
	e->val = 0;
	return e;
}

/* Hash the entries appended and put them in slots. */
static void
index_appended(struct gpu_hashmap *m)
{
	for (; m->nslotted < m->n; m->nslotted++) {
		struct gpu_hashmap_ent *e = &m->ents[m->nslotted];

		if ((m->nslotted + 1) * 2 > m->nslots)
			rehash(m);
		e->hash = hash_bytes(e->key, e->len);
		place(m, m->nslotted);
	}
}

size_t
gpu_hashmap_find(struct gpu_hashmap *m, const void *key, size_t len)
{
	size_t slot;

	if (m->last != 0 && is_key(&m->ents[m->last - 1], key, len))
		return m->last - 1;
	if (m->nslotted < m->n)
		index_appended(m);
	return lookup(m, key, len, hash_bytes(key, len), &slot);
}

size_t
gpu_hashmap_put(struct gpu_hashmap *m, const void *key, size_t len, bool *added)
{
	uint64_t h;
	size_t i, slot;
	struct gpu_hashmap_ent *e;

	if (added != NULL)
		*added = false;
	if (m->last != 0 && is_key(&m->ents[m->last - 1], key, len))
		return m->last - 1;
	if (m->nslotted < m->n)
		index_appended(m);
	h = hash_bytes(key, len);
	i = lookup(m, key, len, h, &slot);
	if (i != GPU_HASHMAP_NONE)
		return i;
	/* At most half full, so that probes stay short. */
	if ((m->n + 1) * 2 > m->nslots) {
		rehash(m);
		lookup(m, key, len, h, &slot);
	}
	e = new_entry(m, key, len);
	e->hash = h;
	m->slots[slot] = (uint32_t)(m->n + 1);
	m->last = ++m->n;
	m->nslotted = m->n;
	if (added != NULL)
		*added = true;
	return m->n - 1;
}

size_t
gpu_hashmap_append(struct gpu_hashmap *m, const void *key, size_t len)
{
	new_entry(m, key, len)->hash = 0; /* hashed when indexed */
	return m->n++;
}

struct gpu_hashmap_ent *
gpu_hashmap_at(struct gpu_hashmap *m, size_t i)
{
	return &m->ents[i];
}

const char *
gpu_hashmap_key(const struct gpu_hashmap *m, size_t i)
{
	return m->ents[i].key;
}
