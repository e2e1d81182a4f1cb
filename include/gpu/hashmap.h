/* SPDX-License-Identifier: MIT */
/* The hash map of the core: byte-string keys to 64-bit values. */
#ifndef GPU_HASHMAP_H
#define GPU_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/strpool.h"

/* What gpu_hashmap_find() returns for an absent key. */
#define GPU_HASHMAP_NONE SIZE_MAX

/* One entry; its key is a copy, NUL-terminated, at a fixed address. */
struct gpu_hashmap_ent {
	const char *key;
	size_t len;
	uint64_t hash;
	uint64_t val;
};

/*
 * Entries are numbered 0, 1, ... in insertion order; the number stays
 * valid until the map is cleared, so a caller can keep its own data in a
 * parallel array. A hit remembers its entry: a lookup of the same key
 * next (rows that repeat their neighbour's key) costs one comparison and
 * no hash. A set of 64-bit codes is a map whose keys are the codes'
 * 8 bytes. The fields are private.
 */
struct gpu_hashmap {
	struct gpu_hashmap_ent *ents;
	size_t n, cap;
	uint32_t *slots;		  /* entry + 1; 0: empty */
	size_t nslots;			  /* 0 or a power of two */
	struct gpu_strpool keys;	  /* the keys' bytes */
	size_t last;			  /* last hit + 1; 0: none */
	size_t nslotted; /* entries in slots; those after: appended */
};

/* An empty map (no allocation until the first key). */
void gpu_hashmap_init(struct gpu_hashmap *m);

/* Free everything m holds and leave it empty. */
void gpu_hashmap_release(struct gpu_hashmap *m);

/*
 * Remove every entry, keeping the memory for the next keys. Keys handed
 * out before are no longer valid.
 */
void gpu_hashmap_clear(struct gpu_hashmap *m);

/* The number of entries. */
size_t gpu_hashmap_count(const struct gpu_hashmap *m);

/* The entry of key[0..len), or GPU_HASHMAP_NONE. */
size_t gpu_hashmap_find(struct gpu_hashmap *m, const void *key, size_t len);

/*
 * The entry of key[0..len), added with value 0 when absent (*added, which
 * may be NULL, tells which). Copies the key. Never fails (out of memory
 * exits, as gpu_xmalloc() does).
 */
size_t gpu_hashmap_put(struct gpu_hashmap *m, const void *key, size_t len,
		       bool *added);

/*
 * Add key[0..len), which the caller knows is absent, as the next entry
 * (value 0), without hashing or probing: a caller adding many keys known
 * to be distinct pays for the index only if it looks one up later (the
 * first find or put indexes the entries appended). Copies the key.
 */
size_t gpu_hashmap_append(struct gpu_hashmap *m, const void *key, size_t len);

/*
 * Entry i (below gpu_hashmap_count()). Borrowed: the key stays valid until
 * the map is cleared or released, the entry itself (its val) only until
 * the next gpu_hashmap_put().
 */
struct gpu_hashmap_ent *gpu_hashmap_at(struct gpu_hashmap *m, size_t i);

/* The key of entry i, NUL-terminated; borrowed as gpu_hashmap_at()'s. */
const char *gpu_hashmap_key(const struct gpu_hashmap *m, size_t i);

#endif
