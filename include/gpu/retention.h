/* SPDX-License-Identifier: MIT */
/* Raw-sample retention (gpuingest --keep-raw): the horizon and the purge. */
#ifndef GPU_RETENTION_H
#define GPU_RETENTION_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "gpu/diag.h"

/* The horizon of a warehouse that never deleted a sample. */
#define GPU_RETENTION_NONE INT64_MIN

/*
 * The raw-sample horizon of db (schema version 7): no sample before it is
 * loaded again or attributed again. Every fact before it was deleted
 * (gpuingest --keep-raw) or packed (--pack-raw, schema version 10,
 * gpu/pack.h): the later of the two horizons. GPU_RETENTION_NONE when no
 * sample was ever deleted or packed. Returns 0, or -1 with err filled.
 */
int gpu_retention_horizon(sqlite3 *db, int64_t *horizon_ms,
			  struct gpu_err *err);

/*
 * The deletion horizon: every fact before it was deleted (--keep-raw), and
 * the rollups of its hours are final; GPU_RETENTION_NONE when none was.
 * At or before gpu_retention_horizon(). Returns 0, or -1 with err filled.
 */
int gpu_retention_deleted(sqlite3 *db, int64_t *horizon_ms,
			  struct gpu_err *err);

/*
 * The horizon that --keep-raw keep_ms asks for at now_ms: the start of the
 * UTC hour at or before now_ms - keep_ms, so that no hour is ever half
 * deleted.
 */
int64_t gpu_retention_target(int64_t now_ms, int64_t keep_ms);

/* What gpu_retention_apply() did. */
struct gpu_retention {
	int64_t target_ms; /* the horizon asked for (a day start with a lake) */
	int64_t old_ms;	   /* the horizon before, or GPU_RETENTION_NONE */
	int64_t horizon_ms;  /* the horizon after, or GPU_RETENTION_NONE */
	int64_t purged;	     /* fact rows deleted */
	int64_t hours;	     /* hours whose facts were deleted */
	int64_t kept_hours;  /* hours with facts before target_ms kept */
	int64_t kept_day_ms; /* when kept_hours: the first day kept, */
	char *kept_lake;     /* not exported (or changed since) to this lake */
};

/* Free what r holds (kept_lake); r itself is the caller's. */
void gpu_retention_release(struct gpu_retention *r);

/*
 * Delete the facts before target_ms (gpu_retention_target()), stored and
 * packed, inside the caller's write transaction, an hour per statement. First brings the
 * rollups up to date (gpu_rollup_update()), so that every hour deleted is
 * rolled up. Where the warehouse holds lake export state for the fact
 * table (gpuexport), target_ms is rounded down to a UTC day and only the
 * days before the first day that some lake has not exported, or that
 * changed since, are deleted. The horizon never moves back. When it
 * moves, records it (table retention, keep_ms as given) and adds an
 * ingest_log row (source '--keep-raw', started at now_ms) counting the
 * rows deleted. Fills *out (release with gpu_retention_release()).
 * Returns 0, or -1 with err filled (the caller rolls back).
 */
int gpu_retention_apply(sqlite3 *db, int64_t target_ms, int64_t keep_ms,
			int64_t now_ms, struct gpu_retention *out,
			struct gpu_err *err);

/*
 * Record horizon_ms of retention row tbl (keep_ms the pass's duration)
 * and log the pass that moved it: an ingest_log row started at now_ms
 * with source (the pass's option) and count in its column count_col
 * (purged, packed). Returns 0, or -1 with err filled.
 */
int gpu_retention_record(sqlite3 *db, const char *tbl, int64_t horizon_ms,
			 int64_t keep_ms, int64_t now_ms, const char *source,
			 const char *count_col, int64_t count,
			 struct gpu_err *err);

/*
 * Refuse a read of raw samples from from_ms on, which what (a phrase:
 * "grouping by usage_category") needs, when from_ms is before horizon_ms.
 * Returns 0, or -1 with err filled ("grouping by usage_category needs raw
 * samples, deleted before 2026-09-01T00:00:00Z (gpuingest --keep-raw)").
 */
int gpu_retention_check(int64_t horizon_ms, int64_t from_ms, const char *what,
			struct gpu_err *err);

#endif
