/* SPDX-License-Identifier: MIT */
/* Unit tests for raw-sample retention (gpu/retention.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/db.h"
#include "gpu/ingest.h"
#include "gpu/query.h"
#include "gpu/retention.h"
#include "gpu/rollup.h"

#include "warehouse-fixture.h"

#define H INT64_C(3600000)
#define D (24 * H)
/* 2026-11-01T00:00:00Z */
#define DAY0 INT64_C(1793491200000)

static char path[64]; /* wh_tmp_path(), set by main() */

static void
remove_db(void)
{
	wh_remove(path);
}


/* One fact at ts on node 1 (job 1), loaded by ingest 1. */
static void
fact(sqlite3 *db, int64_t ts)
{
	struct gpu_err err = {0};
	sqlite3_stmt *st = gpu_db_prepare(
	    db,
	    "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu, util_pct,"
	    " mem_used_mib, job_key, interval_s, ingest_id) VALUES(?1, 1, 0,"
	    " 50, 20000, 1, 60, 1)",
	    &err);

	assert_non_null(st);
	sqlite3_bind_int64(st, 1, ts);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/*
 * A warehouse with facts every 20 minutes over three days from DAY0, every
 * hour dirty; open in a write transaction.
 */
static sqlite3 *
warehouse(void)
{
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;

	remove_db();
	assert_int_equal(gpu_db_open(path, &o, &db, &err), 0);
	wh_exec(db, "INSERT INTO nodes_dim(node_id, node) VALUES(1, 'n1');"
		 "INSERT INTO jobs_dim(job_key, job_id, user, project)"
		 " VALUES(1, 'j1', 'ann', 'p1');"
		 "INSERT INTO ingest_log(ingest_id, started_ms, source,"
		 " status, rows_read, inserted, min_ts_ms, max_ts_ms)"
		 " VALUES(1, 0, 's.csv', 'ok', 216, 216, 1793491200000,"
		 " 1793749800000);");
	for (int64_t t = DAY0; t < DAY0 + 3 * D; t += H / 3)
		fact(db, t);
	wh_exec(db, "INSERT INTO dirty_hours SELECT DISTINCT"
		 " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact;"
		 "BEGIN IMMEDIATE");
	return db;
}

static void
done(sqlite3 *db)
{
	struct gpu_err err = {0};

	gpu_db_rollback(db);
	assert_int_equal(gpu_db_close(db, &err), 0);
	remove_db();
}

/* The start of the hour at or before now - keep; messages name it. */
static void
test_retention_target_and_check(void **state)
{
	struct gpu_err err = {0};

	(void)state;
	assert_true(gpu_retention_target(DAY0 + 10 * H + 1, 2 * D) ==
		    DAY0 - 2 * D + 10 * H);
	assert_true(gpu_retention_target(DAY0 + 10 * H, 90 * D) ==
		    DAY0 - 90 * D + 10 * H);
	assert_true(gpu_retention_target(DAY0 + 10 * H - 1, H) == DAY0 + 8 * H);
	assert_int_equal(
	    gpu_retention_check(GPU_RETENTION_NONE, INT64_MIN, "x", &err), 0);
	assert_int_equal(gpu_retention_check(DAY0, DAY0, "x", &err), 0);
	assert_int_equal(gpu_retention_check(DAY0, DAY0 - 1,
					     "grouping by usage_category",
					     &err),
			 -1);
	assert_string_equal(err.msg,
			    "grouping by usage_category needs raw samples, "
			    "deleted before 2026-11-01T00:00:00Z (gpuingest "
			    "--keep-raw)");
}

/*
 * Whole hours before the target go, after their rollups were brought up
 * to date; the rollups keep them; the horizon and the pass are recorded;
 * the same pass again, or one asking for less, changes nothing.
 */
static void
test_retention_apply_purges_rolled_up_hours(void **state)
{
	struct gpu_retention r;
	struct gpu_err err = {0};
	sqlite3 *db = warehouse();
	int64_t h, busy;

	(void)state;
	assert_int_equal(gpu_retention_horizon(db, &h, &err), 0);
	assert_true(h == GPU_RETENTION_NONE);
	assert_int_equal(gpu_retention_apply(db, DAY0 + 30 * H, 30 * H,
					     DAY0 + 3 * D, &r, &err),
			 0);
	assert_int_equal(r.purged, 90);
	assert_int_equal(r.hours, 30);
	assert_int_equal(r.kept_hours, 0);
	assert_true(r.old_ms == GPU_RETENTION_NONE);
	assert_true(r.horizon_ms == DAY0 + 30 * H);
	gpu_retention_release(&r);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM gpu_usage_fact"),
			 216 - 90);
	assert_true(wh_count(db, "SELECT min(ts_ms) FROM gpu_usage_fact") ==
		    DAY0 + 30 * H);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM dirty_hours"), 0);
	/* Every hour is still rolled up: 3 samples of 60 s each. */
	assert_int_equal(wh_count(db, "SELECT count(*) FROM usage_hourly"), 72);
	assert_int_equal(wh_count(db, "SELECT sum(gpu_seconds) FROM usage_daily"),
			 216 * 60);
	busy = wh_count(db, "SELECT sum(busy) FROM usage_hourly");
	assert_int_equal(gpu_retention_horizon(db, &h, &err), 0);
	assert_true(h == DAY0 + 30 * H);
	assert_int_equal(wh_count(db,
			       "SELECT purged FROM ingest_log WHERE source ="
			       " '--keep-raw'"),
			 90);
	assert_int_equal(wh_count(db, "SELECT keep_ms FROM retention"), 30 * H);

	/* Again, and asking for less: nothing deleted, nothing logged. */
	assert_int_equal(gpu_retention_apply(db, DAY0 + 30 * H, 30 * H,
					     DAY0 + 3 * D, &r, &err),
			 0);
	assert_int_equal(r.purged, 0);
	assert_true(r.horizon_ms == DAY0 + 30 * H);
	assert_int_equal(gpu_retention_apply(db, DAY0 + 2 * H, 70 * H,
					     DAY0 + 3 * D, &r, &err),
			 0);
	assert_int_equal(r.purged, 0);
	assert_true(r.horizon_ms == DAY0 + 30 * H);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM ingest_log"), 2);
	assert_int_equal(wh_count(db, "SELECT sum(busy) FROM usage_hourly"), busy);
	done(db);
}

/* An hour before the horizon marked dirty is dropped, never rebuilt. */
static void
test_retention_rollup_keeps_purged_hours(void **state)
{
	struct gpu_retention r;
	struct gpu_err err = {0};
	sqlite3 *db = warehouse();
	size_t n = 0;

	(void)state;
	assert_int_equal(
	    gpu_retention_apply(db, DAY0 + D, D, DAY0 + 2 * D, &r, &err), 0);
	wh_exec(db, "INSERT INTO dirty_hours VALUES(1793491200000),"
		 " (1793581200000)"); /* DAY0 (purged), DAY0 + 25 h */
	assert_int_equal(gpu_rollup_update(db, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM dirty_hours"), 0);
	assert_int_equal(
	    wh_count(db, "SELECT samples FROM usage_hourly WHERE hour_ms ="
		      " 1793491200000"),
	    3);
	assert_int_equal(wh_count(db,
			       "SELECT samples FROM usage_daily WHERE day_ms ="
			       " 1793491200000"),
			 72);
	done(db);
}

/*
 * Queries that need facts before the horizon refuse; whole hours and days
 * still come from the rollups.
 */
static void
test_retention_queries_refuse_purged_facts(void **state)
{
	struct gpu_retention r;
	struct gpu_agg_query q;
	struct gpu_agg *a = NULL;
	struct gpu_err err = {0};
	sqlite3 *db = warehouse();

	(void)state;
	assert_int_equal(
	    gpu_retention_apply(db, DAY0 + D, D, DAY0 + 2 * D, &r, &err), 0);
	gpu_agg_query_init(&q);
	assert_int_equal(gpu_query_run(db, &q, &a, &err), 0);
	assert_int_equal(gpu_agg_count(a), 1);
	assert_int_equal(gpu_agg_group(a, 0)->sums.samples, 216);
	gpu_agg_free(a);
	q.dims = GPU_DIM_CATEGORY;
	assert_int_equal(gpu_query_run(db, &q, &a, &err), -1);
	assert_null(a);
	assert_string_equal(err.msg,
			    "grouping by usage_category needs raw samples, "
			    "deleted before 2026-11-02T00:00:00Z (gpuingest "
			    "--keep-raw)");
	q.from_ms = DAY0 + D;
	assert_int_equal(gpu_query_run(db, &q, &a, &err), 0);
	gpu_agg_free(a);
	gpu_agg_query_init(&q);
	q.threshold_mib = 8192;
	assert_int_equal(gpu_query_run(db, &q, &a, &err), -1);
	assert_non_null(strstr(err.msg, "memory-overage threshold"));
	gpu_agg_query_init(&q);
	q.from_ms = DAY0 + 90 * 60000; /* inside an hour */
	assert_int_equal(gpu_query_run(db, &q, &a, &err), -1);
	assert_non_null(strstr(err.msg, "inside an hour"));
	q.from_ms = DAY0 + 2 * H;
	q.to_ms = DAY0 + 2 * H + 60000;
	assert_int_equal(gpu_query_run(db, &q, &a, &err), -1);
	assert_non_null(strstr(err.msg, "no whole hour"));
	gpu_agg_query_init(&q);
	assert_int_equal(gpu_query_scan(db, &q, &a, &err), -1);
	assert_non_null(strstr(err.msg, "a scan of the facts"));
	done(db);
}

/* gpuexport's state tables, as src/gpuexport-state.c creates them. */
static const char LAKE_SQL[] =
    "CREATE TABLE lake_export_tables(lake TEXT NOT NULL, tbl TEXT NOT NULL,"
    " uuid TEXT NOT NULL, location TEXT NOT NULL, PRIMARY KEY(lake, tbl));"
    "CREATE TABLE lake_export_versions(lake TEXT NOT NULL, tbl TEXT NOT"
    " NULL, version INTEGER NOT NULL, snapshot_id INTEGER, parent_id"
    " INTEGER, seq INTEGER NOT NULL, ts_ms INTEGER NOT NULL, watermark"
    " INTEGER NOT NULL, manifest_list TEXT, summary TEXT, metadata_file"
    " TEXT NOT NULL, sha256 TEXT NOT NULL, pending INTEGER NOT NULL,"
    " PRIMARY KEY(lake, tbl, version));"
    "CREATE TABLE lake_export_days(lake TEXT NOT NULL, tbl TEXT NOT NULL,"
    " day INTEGER NOT NULL, digest TEXT NOT NULL, watermark INTEGER NOT"
    " NULL, version INTEGER NOT NULL, PRIMARY KEY(lake, tbl, day,"
    " version));"
    "INSERT INTO lake_export_tables VALUES('/l', 'gpu_usage_fact', 'u',"
    " 'file:///l/gpu_usage_fact');"
    "INSERT INTO lake_export_versions VALUES"
    " ('/l', 'gpu_usage_fact', 1, 1, NULL, 1, 0, 1, '', '', 'm', 's', 0),"
    " ('/l', 'gpu_usage_fact', 2, 2, 1, 2, 0, 1, '', '', 'm', 's', 1);"
    /* Day 0 exported; day 1 only by a version still pending. */
    "INSERT INTO lake_export_days VALUES"
    " ('/l', 'gpu_usage_fact', 20758, '', 1, 1),"
    " ('/l', 'gpu_usage_fact', 20759, '', 1, 2);";

/*
 * With lake state for the fact table: the target is a day, and only the
 * days before the first one not exported (or changed since) go.
 */
static void
test_retention_lake_days_only(void **state)
{
	struct gpu_retention r;
	struct gpu_err err = {0};
	sqlite3 *db = warehouse();

	(void)state;
	wh_exec(db, LAKE_SQL);
	assert_int_equal(gpu_retention_apply(db, DAY0 + 2 * D + 5 * H, 0,
					     DAY0 + 3 * D, &r, &err),
			 0);
	assert_true(r.target_ms == DAY0 + 2 * D);
	assert_true(r.horizon_ms == DAY0 + D);
	assert_int_equal(r.purged, 72);
	assert_int_equal(r.kept_hours, 24);
	assert_true(r.kept_day_ms == DAY0 + D);
	assert_string_equal(r.kept_lake, "/l");
	gpu_retention_release(&r);
	assert_null(r.kept_lake);
	done(db);
}

/* A day exported, then changed by a later ingest, is kept. */
static void
test_retention_lake_changed_day_kept(void **state)
{
	struct gpu_retention r;
	struct gpu_err err = {0};
	sqlite3 *db = warehouse();

	(void)state;
	wh_exec(db, LAKE_SQL);
	wh_exec(db, "INSERT INTO ingest_log(ingest_id, started_ms, source,"
		 " status, rows_read, updated, min_ts_ms, max_ts_ms)"
		 " VALUES(2, 0, 'fix.csv', 'ok', 1, 1, 1793500000000,"
		 " 1793500000000)");
	assert_int_equal(
	    gpu_retention_apply(db, DAY0 + D, 0, DAY0 + 3 * D, &r, &err), 0);
	assert_int_equal(r.purged, 0);
	assert_int_equal(r.kept_hours, 24);
	assert_true(r.kept_day_ms == DAY0);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM gpu_usage_fact"), 216);
	gpu_retention_release(&r);
	done(db);
}

/*
 * The loader reports the horizon, and a changed job record marks no hour
 * before it dirty.
 */
static void
test_retention_loader_skips_purged_hours(void **state)
{
	struct gpu_ingest_opts io = {60};
	struct gpu_retention r;
	struct gpu_err err = {0};
	struct gpu_job job;
	struct gpu_ingest *ing;
	sqlite3 *db = warehouse();

	(void)state;
	wh_exec(db, "UPDATE jobs_dim SET first_sample_ms = 1793491200000,"
		 " last_sample_ms = 1793749800000");
	assert_int_equal(
	    gpu_retention_apply(db, DAY0 + D, D, DAY0 + 2 * D, &r, &err), 0);
	ing = gpu_ingest_new(db, &io, &err);
	assert_non_null(ing);
	assert_true(gpu_ingest_horizon(ing) == DAY0 + D);
	assert_int_equal(gpu_ingest_begin_source(ing, "j.csv", 0, &err), 0);
	memset(&job, 0, sizeof(job));
	job.job_id = (struct gpu_str){"j1", 2};
	job.user = (struct gpu_str){"bob", 3};
	job.project = (struct gpu_str){"", 0};
	assert_int_equal(gpu_ingest_job(ing, &job, &err), 0);
	assert_int_equal(gpu_ingest_end_source(ing, NULL, 0, &err), 0);
	gpu_ingest_free(ing);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM dirty_hours"), 48);
	assert_true(wh_count(db, "SELECT min(hour_ms) FROM dirty_hours") ==
		    DAY0 + D);
	done(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retention_target_and_check),
	    cmocka_unit_test(test_retention_apply_purges_rolled_up_hours),
	    cmocka_unit_test(test_retention_rollup_keeps_purged_hours),
	    cmocka_unit_test(test_retention_queries_refuse_purged_facts),
	    cmocka_unit_test(test_retention_lake_days_only),
	    cmocka_unit_test(test_retention_lake_changed_day_kept),
	    cmocka_unit_test(test_retention_loader_skips_purged_hours),
	};
	wh_tmp_path(path, sizeof(path), "test_retention");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
