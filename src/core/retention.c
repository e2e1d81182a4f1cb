/* SPDX-License-Identifier: MIT */
/* Raw-sample retention: the horizon, lake eligibility, the hourly purge. */
#include "gpu/retention.h"

#include <stdlib.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/db.h"
#include "gpu/hrow.h"
#include "gpu/pack.h"
#include "gpu/rollup.h"
#include "gpu/time.h"

/* The one table whose rows retention deletes. */
#define FACT_TABLE "gpu_usage_fact"

/*
 * The first fact time in [?1, ?2), stored or packed (a block by its hour:
 * the bounds are hour starts): a seek on each clustered key.
 */
static const char NEXT_SQL[] =
    "SELECT min(t) FROM (SELECT min(ts_ms) AS t FROM gpu_usage_fact_rows"
    " WHERE ts_ms >= ?1 AND ts_ms < ?2 UNION ALL SELECT min(hour_ms)"
    " FROM gpu_usage_fact_packed WHERE hour_ms >= ?1 AND hour_ms < ?2)";

/*
 * Is day [?3, ?4) (day number ?2) of the facts exported to lake ?1 and up
 * to date there? A committed export of the day, and no ingest since it
 * that gpuexport would export the day again for: one that inserted or
 * updated samples of the day, or whose allocations attributed samples
 * again over it (gpuexport-commit.c, ingest_days()).
 */
static const char EXPORTED_SQL[] =
    "SELECT EXISTS(SELECT 1 FROM lake_export_days e"
    " JOIN lake_export_versions v ON v.lake = e.lake AND v.tbl = e.tbl"
    "  AND v.version = e.version AND v.pending = 0"
    " WHERE e.lake = ?1 AND e.tbl = '" FACT_TABLE "' AND e.day = ?2"
    " AND NOT EXISTS(SELECT 1 FROM ingest_log l"
    "  WHERE l.ingest_id > e.watermark AND l.min_ts_ms IS NOT NULL"
    "  AND l.inserted + l.updated > 0 AND l.min_ts_ms < ?4"
    "  AND l.max_ts_ms >= ?3)"
    " AND NOT EXISTS(SELECT 1 FROM allocations a JOIN ingest_log l"
    "  ON l.ingest_id = a.ingest_id WHERE a.ingest_id > e.watermark"
    "  AND l.attributed > 0 AND a.start_ms IS NOT NULL"
    "  AND a.start_ms < ?4 AND coalesce(a.end_ms, ?4) >= ?3))";

/* The horizon of retention's rows a and b, the later of two. */
static int
horizon(sqlite3 *db, const char *a, const char *b, int64_t *horizon_ms,
	struct gpu_err *err)
{
	sqlite3_stmt *st = gpu_db_prepare(
	    db, "SELECT max(horizon_ms) FROM retention WHERE tbl IN (?1, ?2)",
	    err);
	int rc;

	*horizon_ms = GPU_RETENTION_NONE;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*horizon_ms = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gpu_db_error(db, err);
	return 0;
}

int
gpu_retention_horizon(sqlite3 *db, int64_t *horizon_ms, struct gpu_err *err)
{
	return horizon(db, FACT_TABLE, GPU_PACK_TABLE, horizon_ms, err);
}

int
gpu_retention_deleted(sqlite3 *db, int64_t *horizon_ms, struct gpu_err *err)
{
	return horizon(db, FACT_TABLE, FACT_TABLE, horizon_ms, err);
}

/* Declared in gpu/pack.h: the row is retention's. */
int
gpu_pack_horizon(sqlite3 *db, int64_t *horizon_ms, struct gpu_err *err)
{
	return horizon(db, GPU_PACK_TABLE, GPU_PACK_TABLE, horizon_ms, err);
}

int64_t
gpu_retention_target(int64_t now_ms, int64_t keep_ms)
{
	return gpu_period_start(GPU_PERIOD_HOUR, now_ms - keep_ms);
}

void
gpu_retention_release(struct gpu_retention *r)
{
	free(r->kept_lake);
	r->kept_lake = NULL;
}

int
gpu_retention_check(int64_t horizon_ms, int64_t from_ms, const char *what,
		    struct gpu_err *err)
{
	char t[32];

	if (horizon_ms == GPU_RETENTION_NONE || from_ms >= horizon_ms)
		return 0;
	gpu_time_fmt_iso(horizon_ms, t);
	return gpu_err_set(err,
			   "%s needs raw samples, deleted before %s "
			   "(gpuingest --keep-raw)",
			   what, t);
}

/* The first fact time in [from, to) into *ts; *found says if any. */
static int
next_fact(sqlite3_stmt *st, int64_t from, int64_t to, int64_t *ts, bool *found,
	  struct gpu_err *err)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
	if (*found)
		*ts = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gpu_db_error(sqlite3_db_handle(st), err);
	return 0;
}

/*
 * The lakes that hold export state for the fact table, one per row, into
 * *lakes; NULL when gpuexport never ran here. Returns 0 or -1.
 */
static int
lakes_of(sqlite3 *db, sqlite3_stmt **lakes, struct gpu_err *err)
{
	sqlite3_stmt *st = gpu_db_prepare(
	    db,
	    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND"
	    " name IN ('lake_export_tables', 'lake_export_versions',"
	    " 'lake_export_days')",
	    err);
	int n = 0, rc;

	*lakes = NULL;
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return gpu_db_error(db, err);
	if (n < 3)
		return 0;
	*lakes = gpu_db_prepare(db,
				"SELECT DISTINCT lake FROM lake_export_tables"
				" WHERE tbl = '" FACT_TABLE "' ORDER BY lake",
				err);
	return *lakes != NULL ? 0 : -1;
}

/* Whether lakes (may be NULL) has a row. Returns 0 or -1. */
static int
any_lake(sqlite3_stmt *lakes, bool *any, struct gpu_err *err)
{
	int rc;

	*any = false;
	if (lakes == NULL)
		return 0;
	rc = sqlite3_step(lakes);
	*any = rc == SQLITE_ROW;
	sqlite3_reset(lakes);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gpu_db_error(sqlite3_db_handle(lakes), err);
	return 0;
}

/* Is day d exported to lake and up to date there? */
static int
day_exported(sqlite3_stmt *ex, const unsigned char *lake, int64_t d, bool *yes,
	     struct gpu_err *err)
{
	int rc;

	sqlite3_reset(ex);
	sqlite3_bind_text(ex, 1, (const char *)lake, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(ex, 2, d / GPU_DAY_MS);
	sqlite3_bind_int64(ex, 3, d);
	sqlite3_bind_int64(ex, 4, d + GPU_DAY_MS);
	rc = sqlite3_step(ex);
	*yes = rc == SQLITE_ROW && sqlite3_column_int(ex, 0) != 0;
	sqlite3_reset(ex);
	if (rc != SQLITE_ROW)
		return gpu_db_error(sqlite3_db_handle(ex), err);
	return 0;
}

/*
 * Lower *limit to the first day before it with facts that some lake has
 * not exported (or that changed since), noting the day and the lake in
 * out. The days are found by one seek each.
 */
static int
lake_limit(sqlite3 *db, sqlite3_stmt *next, sqlite3_stmt *lakes, int64_t *limit,
	   struct gpu_retention *out, struct gpu_err *err)
{
	sqlite3_stmt *ex = gpu_db_prepare(db, EXPORTED_SQL, err);
	int64_t cur = INT64_MIN, ts;
	bool found, yes = true;
	int rc = -1, step = SQLITE_DONE;

	if (ex == NULL)
		return -1;
	while (yes) {
		int64_t d;

		if (next_fact(next, cur, *limit, &ts, &found, err) != 0)
			goto out;
		if (!found)
			break;
		d = gpu_period_start(GPU_PERIOD_DAY, ts);
		sqlite3_reset(lakes);
		while (yes && (step = sqlite3_step(lakes)) == SQLITE_ROW) {
			const unsigned char *lake =
			    sqlite3_column_text(lakes, 0);

			if (day_exported(ex, lake, d, &yes, err) != 0)
				goto out;
			if (!yes) {
				out->kept_day_ms = d;
				out->kept_lake = gpu_xstrdup(
				    lake != NULL ? (const char *)lake : "");
			}
		}
		if (yes && step != SQLITE_DONE) {
			gpu_db_error(db, err);
			goto out;
		}
		if (!yes)
			*limit = d;
		cur = d + GPU_DAY_MS;
	}
	rc = 0;
out:
	sqlite3_reset(lakes);
	sqlite3_finalize(ex);
	return rc;
}

/*
 * Delete the facts before limit, an hour per statement (SQLite gathers the
 * keys a DELETE removes first: memory stays that of an hour), from one
 * stored hour to the next so that gaps cost nothing. With del NULL, only
 * count the hours in [from, limit) that hold facts.
 */
static int
purge_hours(sqlite3 *db, sqlite3_stmt *next, sqlite3_stmt *const *del,
	    int64_t from, int64_t limit, int64_t *rows, int64_t *hours,
	    struct gpu_err *err)
{
	int64_t cur = from, ts;
	bool found;

	for (;;) {
		int64_t h, end;

		if (next_fact(next, cur, limit, &ts, &found, err) != 0)
			return -1;
		if (!found)
			return 0;
		h = gpu_period_start(GPU_PERIOD_HOUR, ts);
		end = h + GPU_HOUR_MS < limit ? h + GPU_HOUR_MS : limit;
		(*hours)++;
		cur = end;
		if (del == NULL)
			continue;
		/* The stored rows, then the blocks, which return their n. */
		for (int i = 0; i < 2; i++) {
			int rc;

			sqlite3_bind_int64(del[i], 1, h);
			sqlite3_bind_int64(del[i], 2, end);
			while ((rc = sqlite3_step(del[i])) == SQLITE_ROW)
				*rows += sqlite3_column_int64(del[i], 0);
			sqlite3_reset(del[i]);
			if (rc != SQLITE_DONE)
				return gpu_db_error(db, err);
			if (i == 0)
				*rows += sqlite3_changes(db);
		}
	}
}

int
gpu_retention_record(sqlite3 *db, const char *tbl, int64_t horizon_ms,
		     int64_t keep_ms, int64_t now_ms, const char *source,
		     const char *count_col, int64_t count, struct gpu_err *err)
{
	sqlite3_stmt *st = gpu_db_prepare(
	    db,
	    "INSERT INTO retention(tbl, horizon_ms, keep_ms, updated_ms)"
	    " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(tbl) DO UPDATE SET"
	    " horizon_ms = excluded.horizon_ms, keep_ms = excluded.keep_ms,"
	    " updated_ms = excluded.updated_ms",
	    err);
	struct gpu_buf sql;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, horizon_ms);
	sqlite3_bind_int64(st, 3, keep_ms);
	sqlite3_bind_int64(st, 4, now_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return gpu_db_error(db, err);
	gpu_buf_init(&sql);
	gpu_buf_addf(&sql,
		     "INSERT INTO ingest_log(started_ms, ended_ms, source,"
		     " status, %s) VALUES(?1, ?1, ?2, 'ok', ?3)",
		     count_col);
	st = gpu_db_prepare(db, sql.data, err);
	gpu_buf_release(&sql);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, count);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return gpu_db_error(db, err);
	return 0;
}

int
gpu_retention_apply(sqlite3 *db, int64_t target_ms, int64_t keep_ms,
		    int64_t now_ms, struct gpu_retention *out,
		    struct gpu_err *err)
{
	sqlite3_stmt *next = NULL, *del[2] = {NULL, NULL}, *lakes = NULL;
	int64_t limit;
	bool has_lake;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (gpu_rollup_update(db, NULL, err) != 0 ||
	    gpu_retention_deleted(db, &out->old_ms, err) != 0)
		return -1;
	out->horizon_ms = out->old_ms;
	next = gpu_db_prepare(db, NEXT_SQL, err);
	del[0] = gpu_db_prepare(db,
				"DELETE FROM gpu_usage_fact_rows WHERE"
				" ts_ms >= ?1 AND ts_ms < ?2",
				err);
	del[1] = gpu_db_prepare(db,
				"DELETE FROM gpu_usage_fact_packed WHERE"
				" hour_ms >= ?1 AND hour_ms < ?2 RETURNING n",
				err);
	if (next == NULL || del[0] == NULL || del[1] == NULL)
		goto out;
	if (lakes_of(db, &lakes, err) != 0 ||
	    any_lake(lakes, &has_lake, err) != 0)
		goto out;
	/* A lake's files are days: never export half a deleted day. */
	if (has_lake)
		target_ms = gpu_period_start(GPU_PERIOD_DAY, target_ms);
	out->target_ms = target_ms;
	limit = target_ms;
	if (has_lake && lake_limit(db, next, lakes, &limit, out, err) != 0)
		goto out;
	if (limit > out->old_ms) {
		out->horizon_ms = limit;
		if (purge_hours(db, next, del, INT64_MIN, limit, &out->purged,
				&out->hours, err) != 0 ||
		    gpu_retention_record(db, FACT_TABLE, out->horizon_ms,
					 keep_ms, now_ms, "--keep-raw",
					 "purged", out->purged, err) != 0)
			goto out;
	}
	if (out->horizon_ms < target_ms &&
	    purge_hours(db, next, NULL, out->horizon_ms, target_ms, NULL,
			&out->kept_hours, err) != 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(next);
	sqlite3_finalize(del[0]);
	sqlite3_finalize(del[1]);
	sqlite3_finalize(lakes);
	return rc;
}
