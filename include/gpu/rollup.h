/* SPDX-License-Identifier: MIT */
/* The rollup writer: brings the hourly and daily rollups up to date. */
#ifndef GPU_ROLLUP_H
#define GPU_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "gpu/diag.h"

/*
 * Bring the rollups up to date inside the caller's write transaction:
 * rebuild every hour in dirty_hours from the fact table (usage_hourly),
 * its node and owner rows (usage_hourly_node, usage_hourly_owner) and its
 * day's rows (usage_daily and usage_daily_job), then clear dirty_hours. An
 * hour before the raw-sample horizon (gpu/retention.h) is never rebuilt: its
 * facts were deleted, its rollup rows are final, and it leaves dirty_hours as
 * it is. Interns the job owners of those hours' facts into names_dim so that
 * rollup rows carry the effective owner. Sets *hours
 * (may be NULL) to the number of hours rebuilt. Returns 0, or -1 with err
 * filled (the caller rolls back).
 */
int gpu_rollup_update(sqlite3 *db, size_t *hours, struct gpu_err *err);

/*
 * Whether the caller already wrote the usage_hourly rows of the dirty
 * hour starting at hour (gpu/prebuild.h): its facts are not read again.
 */
typedef bool gpu_rollup_built_fn(void *ctx, int64_t hour);

/* What a caller did with the usage_daily rows of the day starting at day. */
enum gpu_rollup_day {
	GPU_ROLLUP_DAY_NONE,	/* nothing */
	GPU_ROLLUP_DAY_WRITTEN, /* wrote them from every hour row of the day */
	GPU_ROLLUP_DAY_STALE	/* wrote them, and an hour changed since */
};
typedef enum gpu_rollup_day gpu_rollup_day_fn(void *ctx, int64_t day);

/*
 * gpu_rollup_update(), but the hours for which built(ctx, hour) is true
 * keep the usage_hourly, usage_hourly_node and usage_hourly_owner rows
 * the caller wrote (gpu_rollup_fold_*()), and a day for which day(ctx,
 * day) says GPU_ROLLUP_DAY_WRITTEN keeps its usage_daily and
 * usage_daily_job rows (gpu_rollup_days_*()) when every dirty hour of it
 * is built (else it is summed again from all its hour
 * rows, as is a GPU_ROLLUP_DAY_STALE one). The other days' rows are
 * brought up to date from their hour rows. built, day NULL: none.
 */
int gpu_rollup_update_built(sqlite3 *db, gpu_rollup_built_fn *built,
			    gpu_rollup_day_fn *day, void *ctx, size_t *hours,
			    struct gpu_err *err);

/*
 * The node and owner rows of one hour (usage_hourly_node,
 * usage_hourly_owner), summed from its usage_hourly rows as
 * gpu_rollup_update() sums them when it reads them back: for a writer of
 * an hour's rows. gpu_rollup_fold_begin() deletes the hour's stored node
 * and owner rows; hand each of its hour rows, in the key order of
 * usage_hourly, to gpu_rollup_fold_row() (a gpu_hrow_fn; ctx: the fold);
 * gpu_rollup_fold_end() writes the hour's node rows, then its owner rows
 * (a writer that writes the hour rows first keeps each table's rows of
 * the hour in consecutive pages). Each returns 0, or -1 with err filled;
 * gpu_rollup_fold_new() returns NULL on error.
 */
struct gpu_hrow;
struct gpu_rollup_fold;
struct gpu_rollup_fold *gpu_rollup_fold_new(sqlite3 *db, struct gpu_err *err);
int gpu_rollup_fold_begin(struct gpu_rollup_fold *f, int64_t hour,
			  struct gpu_err *err);
int gpu_rollup_fold_row(void *ctx, const struct gpu_hrow *r,
			struct gpu_err *err);
int gpu_rollup_fold_end(struct gpu_rollup_fold *f, struct gpu_err *err);
void gpu_rollup_fold_free(struct gpu_rollup_fold *f);

/*
 * The day rows of one day (usage_daily and usage_daily_job), summed from
 * its hour rows as gpu_rollup_update() sums them: for the refresh and
 * for a writer of a day's rows. Hand the day's hour rows, hour by hour in
 * the key order of usage_hourly, to gpu_rollup_days_row() (a gpu_hrow_fn;
 * ctx: the writer); gpu_rollup_days_end() replaces the day's stored rows
 * of both tables with them. gpu_rollup_days_clear() forgets the rows
 * summed (a day given up). Each returns 0, or -1 with err filled;
 * gpu_rollup_days_new() returns NULL on error.
 */
struct gpu_rollup_days;
struct gpu_rollup_days *gpu_rollup_days_new(sqlite3 *db, struct gpu_err *err);
int gpu_rollup_days_row(void *ctx, const struct gpu_hrow *r,
			struct gpu_err *err);
int gpu_rollup_days_end(struct gpu_rollup_days *w, int64_t day,
			struct gpu_err *err);
void gpu_rollup_days_clear(struct gpu_rollup_days *w);
void gpu_rollup_days_free(struct gpu_rollup_days *w);

/*
 * The same in a write transaction of its own (nothing is written when no
 * hour is dirty). Returns 0, or -1 with err filled ("warehouse busy: ..."
 * when another writer holds the warehouse past the busy timeout).
 */
int gpu_rollup_refresh(sqlite3 *db, size_t *hours, struct gpu_err *err);

/*
 * Rebuild usage_hourly_owner of every hour from its usage_hourly rows, in
 * the caller's write transaction (the migration to schema version 8; the
 * hours still dirty are rebuilt again by the next update). Returns 0, or
 * -1 with err filled.
 */
int gpu_rollup_fill_owners(sqlite3 *db, struct gpu_err *err);

/*
 * Fill usage_daily_job from the usage_hourly rows of every hour, in the
 * caller's write transaction (the migration to schema version 11).
 * Returns 0, or -1 with err filled.
 */
int gpu_rollup_fill_job_days(sqlite3 *db, struct gpu_err *err);

#endif
