/* SPDX-License-Identifier: MIT */
/*
 * Binding a reused statement's parameters only where their values
 * changed. SQLite keeps a parameter's binding across sqlite3_reset(), so
 * a multi-row INSERT stepped batch after batch need not bind again what
 * the same parameter held for the batch before: its GPU's number, the
 * run, the hour, the many repeated sums. A bind costs about a hundred
 * instructions; the comparison a few.
 */
#ifndef GPU_BIND_H
#define GPU_BIND_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* What a parameter holds: a type (0: not known yet) and its bits. */
struct gpu_bound {
	int type; /* SQLITE_INTEGER, _FLOAT, _NULL, _TEXT; 0: not known */
	uint64_t v;
};

/*
 * Parameters of st and what they hold, held[i - 1] for parameter i
 * (NULL: nothing kept, every put binds). held starts zeroed.
 */
struct gpu_binder {
	sqlite3_stmt *st;
	struct gpu_bound *held;
};

/* Whether parameter i holds (type, v) already; else it is noted as such. */
static inline bool
gpu_bind_held(const struct gpu_binder *b, int i, int type, uint64_t v)
{
	struct gpu_bound *h;

	if (b->held == NULL)
		return false;
	h = &b->held[i - 1];
	if (h->type == type && h->v == v)
		return true;
	h->type = type;
	h->v = v;
	return false;
}

static inline void
gpu_bind_i64(const struct gpu_binder *b, int i, int64_t v)
{
	if (!gpu_bind_held(b, i, SQLITE_INTEGER, (uint64_t)v))
		sqlite3_bind_int64(b->st, i, v);
}

static inline void
gpu_bind_null(const struct gpu_binder *b, int i)
{
	if (!gpu_bind_held(b, i, SQLITE_NULL, 0))
		sqlite3_bind_null(b->st, i);
}

static inline void
gpu_bind_double(const struct gpu_binder *b, int i, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits)); /* -0.0 and 0.0 differ: exact */
	if (!gpu_bind_held(b, i, SQLITE_FLOAT, bits))
		sqlite3_bind_double(b->st, i, v);
}

#endif
