/* SPDX-License-Identifier: MIT */
/* Rows of sums in integer key space: the rollups' rows and the fact scan. */
#ifndef GPU_HROW_H
#define GPU_HROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "gpu/diag.h"
#include "gpu/hashmap.h"
#include "gpu/sums.h"

/* Length of a UTC day in ms. */
#define GPU_DAY_MS INT64_C(86400000)

/*
 * The keys of a row, in the rollups' key order: the time bucket (the hour
 * of an hour row, the day of a day row), then integer keys of the
 * dimension tables (node_id, gpu, the MIG instance id or -1 for a whole
 * GPU, job_key, and names_dim keys of the effective user and project, of
 * the model and of the MIG profile; 0: none). The rollups hold the keys
 * before GPU_HK_CATEGORY; the usage category (1 + enum gpu_usage_cat; 0:
 * not split by it) comes only from a fact scan by category,
 * gpu_hrow_scan_category().
 */
enum gpu_hkey {
	GPU_HK_TIME,
	GPU_HK_NODE,
	GPU_HK_GPU,
	GPU_HK_MIG,
	GPU_HK_JOB,
	GPU_HK_USER,
	GPU_HK_PROJECT,
	GPU_HK_MODEL,
	GPU_HK_PROFILE,
	GPU_HK_CATEGORY,
	GPU_HK_N
};

/* A row: its keys and its sums. */
struct gpu_hrow {
	int64_t k[GPU_HK_N];
	struct gpu_sums s;
};

/* Receives rows in key order; returns 0, or -1 with err filled to stop. */
typedef int gpu_hrow_fn(void *ctx, const struct gpu_hrow *r,
			struct gpu_err *err);

/* A table of rows by key (keys in the map, rows in a parallel array). */
struct gpu_hrows {
	struct gpu_hashmap map;
	struct gpu_hrow *rows;
	size_t n, cap;
	/*
	 * A key came that was not above every key before it. Until one does,
	 * keys come in order (a rollup's rows by its key, as queries whose
	 * groups are its rows read them) and each new one is appended, the
	 * map left empty: the first such key puts every row's key in it.
	 */
	bool unordered;
};

/* An empty table; release with gpu_hrows_release(). */
void gpu_hrows_init(struct gpu_hrows *t);
void gpu_hrows_release(struct gpu_hrows *t);

/* The number of rows. */
size_t gpu_hrows_count(const struct gpu_hrows *t);

/*
 * The row of key k, created with empty sums when new (*created, may be
 * NULL). Borrowed until the next put or flush.
 */
struct gpu_hrow *gpu_hrows_put(struct gpu_hrows *t, const int64_t *k,
			       bool *created);

/*
 * Merge s into the row of key k (gpu_sums_merge()), made as a copy of s
 * when new (*created, may be NULL). Borrowed as gpu_hrows_put()'s.
 */
struct gpu_hrow *gpu_hrows_add(struct gpu_hrows *t, const int64_t *k,
			       const struct gpu_sums *s, bool *created);

/* Forget every row, keeping the memory. */
void gpu_hrows_clear(struct gpu_hrows *t);

/*
 * Hand the rows to fn in key order, then empty the table (keeping its
 * memory). Returns 0, or fn's -1.
 */
int gpu_hrows_flush(struct gpu_hrows *t, gpu_hrow_fn *fn, void *ctx,
		    struct gpu_err *err);

/* What a sink sums its hour rows into (enum gpu_hrow_fold). */
enum gpu_hrow_fold {
	GPU_FOLD_NONE,	 /* nothing: hour rows pass through */
	GPU_FOLD_DAY,	 /* day rows, as usage_daily holds them */
	GPU_FOLD_OWNER,	 /* hour and owner rows, as usage_hourly_owner does */
	GPU_FOLD_JOB_DAY /* hour rows by job, day rows of them, as */
			 /* usage_daily_job holds them */
};

/*
 * Where hour rows go on their way to a query or a rollup. Folded, hour
 * rows (which must come in hour, then key order) are summed into day rows
 * (GPU_FOLD_DAY: every key but the time kept) or into hour rows of an
 * owner (GPU_FOLD_OWNER: the time, user and project kept, the other keys
 * 0) in that order, and those handed on in key order when the day (hour)
 * ends: usage_daily and usage_hourly_owner hold exactly those rows, so
 * that reading them gives the same doubles as summing their hours. A row
 * of those tables passes through a fold unchanged (0 + x is x).
 * GPU_FOLD_JOB_DAY first sums each hour's rows by the keys of
 * usage_daily_job (node, GPU and MIG instance dropped), in key order,
 * then adds those to the day's rows hour by hour: so a day's rows are
 * its stored rows plus a later hour's, and a writer adds an hour to them
 * (gpu_hrow_add_prepare()) instead of summing the day again.
 */
struct gpu_hrow_sink {
	enum gpu_hrow_fold fold;
	struct gpu_hrows day; /* the rows of the day (hour) being summed */
	struct gpu_hrows job; /* GPU_FOLD_JOB_DAY: the hour's, by job */
	int64_t day_ms;	      /* that day's (hour's) start */
	int64_t hour_ms;      /* GPU_FOLD_JOB_DAY: the hour in job */
	gpu_hrow_fn *fn;
	void *ctx;
};

/* A sink that hands rows to fn(ctx, ...); release it after the flush. */
void gpu_hrow_sink_init(struct gpu_hrow_sink *s, enum gpu_hrow_fold fold,
			gpu_hrow_fn *fn, void *ctx);
void gpu_hrow_sink_release(struct gpu_hrow_sink *s);

/* An hour row (a gpu_hrow_fn; ctx: the sink). */
int gpu_hrow_sink_hour(void *ctx, const struct gpu_hrow *r,
		       struct gpu_err *err);

/*
 * A row of the fold's own shape (a gpu_hrow_fn; ctx: the sink): a day row
 * of usage_daily or usage_daily_job, an owner row of usage_hourly_owner,
 * after the rows of
 * earlier days (hours). The rows summed so far are handed on first, then
 * r as it is.
 */
int gpu_hrow_sink_folded(void *ctx, const struct gpu_hrow *r,
			 struct gpu_err *err);

/* Hand on the rows summed so far. Returns 0, or fn's -1. */
int gpu_hrow_sink_flush(struct gpu_hrow_sink *s, struct gpu_err *err);

/* Forget the rows summed so far, without handing them on. */
void gpu_hrow_sink_clear(struct gpu_hrow_sink *s);

/*
 * Names that a refresh would intern (the job owners of
 * GPU_HROW_DIRTY_OWNERS_SQL that names_dim lacks), with the keys it would
 * give them, so that a reader can resolve them without writing. Loaded on
 * first use.
 */
struct gpu_pending {
	sqlite3 *db;
	bool loaded;
	int64_t base;		  /* names_dim's largest key when loaded */
	struct gpu_hashmap names; /* entry i has key base + 1 + i */
};

/* Pending names of db, not yet loaded; release with gpu_pending_release(). */
void gpu_pending_init(struct gpu_pending *p, sqlite3 *db);
void gpu_pending_release(struct gpu_pending *p);

/*
 * The key that name[0..len) would get (0 when a refresh would not intern
 * it). Returns 0, or -1 with err filled on a database error.
 */
int gpu_pending_key(struct gpu_pending *p, const char *name, size_t len,
		    int64_t *key, struct gpu_err *err);

/*
 * The name of pending key k (NUL-terminated), or NULL when k is not one.
 * Borrowed until gpu_pending_release().
 */
const char *gpu_pending_name(const struct gpu_pending *p, int64_t k);

/*
 * The job owners a refresh interns (a SELECT of one column, name): those
 * of the jobs whose sample window meets a dirty hour or is not known. The
 * window bounds every sample of its job (docs/WAREHOUSE.md), so this holds
 * the owners of every fact of those hours, without reading the facts.
 * gpu_pending and the rollup writer share it so that both give a name the
 * same key.
 */
#define GPU_HROW_DIRTY_OWNERS_SQL                                              \
	"SELECT j.user FROM jobs_dim j WHERE j.user <> '' AND"                 \
	" (j.first_sample_ms IS NULL OR j.last_sample_ms IS NULL OR EXISTS"    \
	"  (SELECT 1 FROM dirty_hours d"                                       \
	"   WHERE d.hour_ms >= j.first_sample_ms / 3600000 * 3600000"          \
	"   AND d.hour_ms <= j.last_sample_ms))"                               \
	" UNION SELECT j.project FROM jobs_dim j WHERE j.project <> '' AND"    \
	" (j.first_sample_ms IS NULL OR j.last_sample_ms IS NULL OR EXISTS"    \
	"  (SELECT 1 FROM dirty_hours d"                                       \
	"   WHERE d.hour_ms >= j.first_sample_ms / 3600000 * 3600000"          \
	"   AND d.hour_ms <= j.last_sample_ms))"

/*
 * Scan the facts of [from, to) into hour rows with the effective owner
 * (the sample's, else its job record's), overage over threshold_mib,
 * handing them to fn hour by hour, each hour in key order. A job owner
 * that names_dim lacks resolves through pending when given (a reader of a
 * warehouse with dirty hours), else to 0 (the writer interns them first).
 * Returns 0, or -1 with err filled.
 */
int gpu_hrow_scan(sqlite3 *db, int64_t from, int64_t to, int64_t threshold_mib,
		  struct gpu_pending *pending, gpu_hrow_fn *fn, void *ctx,
		  struct gpu_err *err);

/*
 * gpu_hrow_scan(), with each hour's rows split by the usage category of
 * the facts (key GPU_HK_CATEGORY), for a query grouped by it.
 */
int gpu_hrow_scan_category(sqlite3 *db, int64_t from, int64_t to,
			   int64_t threshold_mib, struct gpu_pending *pending,
			   gpu_hrow_fn *fn, void *ctx, struct gpu_err *err);

/*
 * The rollup tables. usage_hourly_node's rows have keys time and node,
 * usage_hourly_owner's time, user and project, usage_daily_job's every
 * key of usage_daily but node, GPU and MIG instance.
 */
enum gpu_rollup {
	GPU_ROLLUP_HOURLY,
	GPU_ROLLUP_DAILY,
	GPU_ROLLUP_NODE,
	GPU_ROLLUP_OWNER,
	GPU_ROLLUP_JOB_DAY
};

/*
 * Register on db the SQL function through which gpu_hrow_read() takes its
 * rows (gpu/db.h's opens do it for every handle). Returns 0, or -1.
 */
int gpu_hrow_register(sqlite3 *db);

/* The number of key columns of a rollup table (2 to GPU_HK_CATEGORY). */
int gpu_rollup_nkeys(enum gpu_rollup t);

/* The row key (enum gpu_hkey) that key column i of rollup table t holds. */
int gpu_rollup_key(enum gpu_rollup t, int i);

/*
 * Hand the rows of rollup table t whose time is in [from, to) to fn, in
 * the order of t's key columns (the keys t lacks are 0). db must have
 * gpu_hrow_register()'s function (every gpu_db_open() handle has). Returns
 * 0, or -1 with err filled.
 */
int gpu_hrow_read(sqlite3 *db, enum gpu_rollup t, int64_t from, int64_t to,
		  gpu_hrow_fn *fn, void *ctx, struct gpu_err *err);

/*
 * Prepare the INSERT of a row into rollup table t (finalize it with
 * sqlite3_finalize()). Returns NULL with err filled on failure.
 */
sqlite3_stmt *gpu_hrow_insert_prepare(sqlite3 *db, enum gpu_rollup t,
				      struct gpu_err *err);

/*
 * Prepare the statement that adds a row to the stored row of its key in
 * rollup table t (GPU_ROLLUP_DAILY or GPU_ROLLUP_JOB_DAY), as
 * gpu_sums_merge() does (sums added, maxima kept): the row is inserted
 * when the table has none. Give it rows with gpu_hrow_insert(st, t, ...):
 * an hour's rows with the day as their time add the hour to its day.
 */
sqlite3_stmt *gpu_hrow_add_prepare(sqlite3 *db, enum gpu_rollup t,
				   struct gpu_err *err);

/*
 * Insert r with st from gpu_hrow_insert_prepare(db, t, ...). Returns 0, or
 * -1 with err filled.
 */
int gpu_hrow_insert(sqlite3_stmt *st, enum gpu_rollup t,
		    const struct gpu_hrow *r, struct gpu_err *err);

/*
 * A writer of rollup rows that inserts them several to a statement (a
 * multi-row INSERT), binding only what changed since its last batch. Rows
 * put are in the table only after the batch they fill is written, or
 * after gpu_hrow_batch_flush(): flush before reading the table, deleting
 * from it, or committing. Each returns 0, or -1 with err filled (the rows
 * pending are then dropped: roll the transaction back).
 */
struct gpu_hrow_batch;

/* A writer of rollup table t's rows into db; NULL with err filled. */
struct gpu_hrow_batch *gpu_hrow_batch_new(sqlite3 *db, enum gpu_rollup t,
					  struct gpu_err *err);

/* Forget w, and any rows it holds. */
void gpu_hrow_batch_free(struct gpu_hrow_batch *w);

/* Add r to w's pending rows, writing them when they fill a batch. */
int gpu_hrow_batch_put(struct gpu_hrow_batch *w, const struct gpu_hrow *r,
		       struct gpu_err *err);

/* gpu_hrow_batch_put() as a gpu_hrow_fn (ctx: the writer). */
int gpu_hrow_batch_row(void *ctx, const struct gpu_hrow *r,
		       struct gpu_err *err);

/* Write every row w holds. */
int gpu_hrow_batch_flush(struct gpu_hrow_batch *w, struct gpu_err *err);

#endif
