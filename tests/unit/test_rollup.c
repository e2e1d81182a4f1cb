/* SPDX-License-Identifier: MIT */
/* Unit tests for the rollup writer (gpu/rollup.h). */
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
#include "gpu/rollup.h"

#include "warehouse-fixture.h"

/* Facts on two nodes over three hours of two days; their hours dirty. */
static void
facts(sqlite3 *db)
{
	wh_exec(db, "INSERT INTO nodes_dim(node_id, node) VALUES(1, 'n1'),"
		 " (2, 'n2');"
		 "INSERT INTO jobs_dim(job_key, job_id, user, project)"
		 " VALUES(1, 'j1', 'ann', 'p1');"
		 "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu, util_pct,"
		 " mem_used_mib, job_key, interval_s, ingest_id) VALUES"
		 " (1795906800000, 1, 0, 50, 20000, 1, 60, 1),"
		 " (1795906800000, 2, 0, 3, 10, NULL, 60, 1),"
		 " (1795910400000, 1, 1, 80, 100, 1, 60, 1),"
		 " (1795914000000, 2, 0, 10, 10, NULL, 60, 1);"
		 "INSERT INTO dirty_hours SELECT DISTINCT"
		 " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact;");
}

/*
 * In the caller's transaction: every dirty hour rebuilt, its node and day
 * rows too, the job owners interned, dirty_hours emptied; a rollback
 * undoes it all.
 */
static void
test_rollup_update_in_transaction(void **state)
{
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	size_t hours = 99;

	(void)state;
	assert_int_equal(gpu_db_open(":memory:", &o, &db, &err), 0);
	facts(db);
	assert_int_equal(gpu_db_begin(db, "mem", &err), 0);
	assert_int_equal(gpu_rollup_update(db, &hours, &err), 0);
	assert_int_equal(hours, 3);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM dirty_hours"), 0);
	assert_int_equal(wh_count(db, "SELECT sum(samples) FROM usage_hourly"), 4);
	assert_int_equal(wh_count(db, "SELECT sum(samples) FROM usage_daily"), 4);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM usage_hourly_node"),
			 4);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM usage_daily"), 4);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM names_dim"
				   " WHERE name IN ('ann', 'p1')"),
			 2);
	assert_int_equal(
	    wh_count(db, "SELECT overage FROM usage_hourly WHERE job_key = 1"
		      " AND hour_ms = 1795906800000"),
	    60 * (20000 - 16384));
	gpu_db_rollback(db);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM dirty_hours"), 3);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM usage_hourly"), 0);
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/* Nothing dirty: nothing to do, and no write (a reader's handle will do). */
static void
test_rollup_refresh_clean(void **state)
{
	char path[] = "/tmp/test_rollup.XXXXXX";
	struct gpu_db_opts rw = {.lock_timeout_ms = 1000},
			   ro = {.readonly = true, .lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	size_t hours = 99;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gpu_db_open(path, &rw, &db, &err), 0);
	facts(db);
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	assert_int_equal(hours, 3);
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	assert_int_equal(hours, 0);
	assert_int_equal(gpu_db_close(db, &err), 0);
	assert_int_equal(gpu_db_open(path, &ro, &db, &err), 0);
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	assert_int_equal(hours, 0);
	assert_int_equal(sqlite3_total_changes(db), 0);
	assert_int_equal(gpu_db_close(db, &err), 0);
	wh_remove(path);
}

/* A refresh waits for another writer, then reports the busy warehouse. */
static void
test_rollup_refresh_busy(void **state)
{
	char path[] = "/tmp/test_rollup.XXXXXX";
	struct gpu_db_opts rw = {.lock_timeout_ms = 1000},
			   quick = {.lock_timeout_ms = 10};
	struct gpu_err err = {0};
	sqlite3 *a = NULL, *b = NULL;
	char want[128];
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gpu_db_open(path, &rw, &a, &err), 0);
	facts(a);
	assert_int_equal(gpu_db_open(path, &quick, &b, &err), 0);
	assert_int_equal(gpu_db_begin(a, path, &err), 0);
	assert_int_equal(gpu_rollup_refresh(b, NULL, &err), -1);
	snprintf(want, sizeof(want),
		 "warehouse busy: '%s' is locked by another process", path);
	assert_string_equal(err.msg, want);
	assert_int_equal(gpu_db_commit(a, &err), 0);
	assert_int_equal(gpu_rollup_refresh(b, NULL, &err), 0);
	assert_int_equal(wh_count(a, "SELECT count(*) FROM dirty_hours"), 0);
	assert_int_equal(gpu_db_close(b, &err), 0);
	assert_int_equal(gpu_db_close(a, &err), 0);
	wh_remove(path);
}

/*
 * Rows of usage_daily_job whose sums differ from their day rows' totals
 * (the integer sums and the maxima; the reals are checked for order by
 * the migration's test), or that no day row has.
 */
#define JOB_DAY_MISMATCH                                                       \
	"SELECT count(*) FROM (SELECT * FROM (SELECT day_ms, job_key,"          \
	" user_key, project_key, model_key, profile_key, sum(samples),"        \
	" sum(gpu_seconds), sum(alloc_seconds), sum(idle_seconds),"            \
	" sum(overage), max(max_mem), max(last_ms) FROM usage_daily"           \
	" GROUP BY 1, 2, 3, 4, 5, 6 EXCEPT SELECT day_ms, job_key, user_key,"  \
	" project_key, model_key, profile_key, samples, gpu_seconds,"          \
	" alloc_seconds, idle_seconds, overage, max_mem, last_ms"              \
	" FROM usage_daily_job) UNION ALL SELECT * FROM (SELECT day_ms,"       \
	" job_key, user_key, project_key, model_key, profile_key, samples,"    \
	" gpu_seconds, alloc_seconds, idle_seconds, overage, max_mem,"         \
	" last_ms FROM usage_daily_job EXCEPT SELECT day_ms, job_key,"         \
	" user_key, project_key, model_key, profile_key, sum(samples),"        \
	" sum(gpu_seconds), sum(alloc_seconds), sum(idle_seconds),"            \
	" sum(overage), max(max_mem), max(last_ms) FROM usage_daily"           \
	" GROUP BY 1, 2, 3, 4, 5, 6))"

/*
 * The owner rows of each hour: its hour rows summed by (user, project),
 * in key order; the job's owner taken from its record. The job rows of
 * each day: its day rows summed by job, owner, model and profile. Both
 * kept in step as an hour changes.
 */
static void
test_rollup_owner_rows(void **state)
{
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;

	(void)state;
	assert_int_equal(gpu_db_open(":memory:", &o, &db, &err), 0);
	facts(db);
	/* A second row of (ann, p1) in the first hour, on the other node. */
	wh_exec(db, "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu, util_pct,"
		 " mem_used_mib, job_key, interval_s, ingest_id) VALUES"
		 " (1795906860000, 2, 1, 25, 30000, 1, 60, 1)");
	assert_int_equal(gpu_rollup_refresh(db, NULL, &err), 0);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM usage_hourly_owner"),
			 4);
	assert_int_equal(
	    wh_count(db, "SELECT count(*) FROM usage_hourly_owner o"
		      " JOIN names_dim u ON u.name_key = o.user_key"
		      " JOIN names_dim p ON p.name_key = o.project_key"
		      " WHERE u.name = 'ann' AND p.name = 'p1'"
		      " AND o.hour_ms = 1795906800000 AND o.samples = 2"
		      " AND o.alloc_seconds = 120 AND o.busy = 4500"
		      " AND o.max_mem = 30000 AND o.last_ms = 1795906860000"
		      " AND o.overage = 60 * (20000 - 16384)"
		      "  + 60 * (30000 - 16384)"),
	    1);
	/* Every sum of every hour equals its hour rows' total. */
	assert_int_equal(
	    wh_count(db, "SELECT count(*) FROM (SELECT hour_ms, user_key,"
		      " project_key, sum(samples), sum(gpu_seconds),"
		      " sum(alloc_seconds), sum(idle_seconds),"
		      " sum(overage), max(max_mem), max(last_ms)"
		      " FROM usage_hourly GROUP BY 1, 2, 3 EXCEPT"
		      " SELECT hour_ms, user_key, project_key, samples,"
		      " gpu_seconds, alloc_seconds, idle_seconds, overage,"
		      " max_mem, last_ms FROM usage_hourly_owner)"),
	    0);
	assert_int_equal(wh_count(db, JOB_DAY_MISMATCH), 0);
	/* Day 1: job 1's two GPUs in one row, and the unallocated one. */
	assert_int_equal(wh_count(db, "SELECT count(*) FROM usage_daily_job"
				   " WHERE day_ms = 1795824000000"),
			 2);
	assert_int_equal(wh_count(db, "SELECT samples FROM usage_daily_job"
				   " WHERE day_ms = 1795824000000"
				   " AND job_key = 1"),
			 2);
	/* A hour's facts replaced: its owner and job rows follow. */
	wh_exec(db, "UPDATE gpu_usage_fact SET job_key = NULL"
		 " WHERE ts_ms = 1795910400000;"
		 "INSERT INTO dirty_hours VALUES(1795910400000)");
	assert_int_equal(gpu_rollup_refresh(db, NULL, &err), 0);
	assert_int_equal(
	    wh_count(db, "SELECT user_key + project_key + alloc_seconds FROM"
		      " usage_hourly_owner WHERE hour_ms = 1795910400000"),
	    0);
	assert_int_equal(wh_count(db, JOB_DAY_MISMATCH), 0);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM usage_daily_job"
				   " WHERE day_ms = 1795910400000"
				   " AND job_key <> 0"),
			 0);
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/*
 * Four rollup rows after their time column's name: three of job 1 (user
 * 5, project 6) in the hour starting at 1795906800000, one unallocated
 * in the next hour (the same day).
 */
#define ROLLUP_COLS                                                            \
	", node_id, gpu, mig, job_key,"                                        \
	" user_key, project_key, model_key, profile_key, samples,"             \
	" gpu_seconds, alloc_seconds, busy, alloc_busy, idle_seconds,"         \
	" mem_used_s, max_mem, mem_util_s, mem_util_seconds, power_s,"         \
	" power_seconds, overage, last_ms, alloc_idle_seconds, gpu_w,"         \
	" alloc_w, busy_w, alloc_busy_w, idle_w, alloc_idle_w) VALUES"
#define ROLLUP_ROWS                                                            \
	ROLLUP_COLS                                                            \
	" (1795906800000, 1, 0, -1, 1, 5, 6, 0, 0, 1, 60, 60, 0.1,"            \
	"  0.1, 0, 0, 10, 0, 0, 0, 0, 0, 1795906800000, 0, 1680,"               \
	"  1680, 2.8, 2.8, 0, 0),"                                             \
	" (1795906800000, 1, 1, -1, 1, 5, 6, 0, 0, 1, 60, 60, 0.2,"            \
	"  0.2, 0, 0, 30, 0, 0, 0, 0, 0, 1795906860000, 0, 1680,"              \
	"  1680, 5.6, 5.6, 0, 0),"                                             \
	" (1795906800000, 2, 0, -1, 1, 5, 6, 0, 0, 1, 60, 60, 0.3,"            \
	"  0.3, 0, 0, 20, 0, 0, 0, 0, 0, 1795906800000, 0, 1680,"               \
	"  1680, 8.4, 8.4, 0, 0),"                                             \
	" (1795910400000, 2, 0, -1, 0, 0, 0, 0, 0, 1, 60, 0, 3.0,"             \
	"  0, 60, 0, 5, 0, 0, 0, 0, 0, 1795910400000, 0, 1680, 0,"             \
	"  84, 0, 1680, 0);"

/*
 * A warehouse of schema version (made at path, a mkstemp() template),
 * holding the rows that sql writes, then opened as a writer: migrated to
 * this version, with no hour marked dirty.
 */
static sqlite3 *
migrated(char *path, int version, const char *sql)
{
	struct gpu_db_opts rw = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(gpu_db_create_version(db, version, &err), 0);
	wh_exec(db, sql);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	db = NULL;
	assert_int_equal(gpu_db_open(path, &rw, &db, &err), 0);
	assert_int_equal(gpu_db_version(db), GPU_DB_VERSION);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM dirty_hours"), 0);
	return db;
}

/*
 * The row of job 1's owner that sql selects (samples, alloc_seconds,
 * max_mem, last_ms, gpu_w, busy): the first three rows of ROLLUP_ROWS
 * added in key order.
 */
static void
assert_owner_sum(sqlite3 *db, const char *sql)
{
	struct gpu_err err = {0};
	sqlite3_stmt *st = gpu_db_prepare(db, sql, &err);

	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 3);
	assert_int_equal(sqlite3_column_int(st, 1), 180);
	assert_int_equal(sqlite3_column_int(st, 2), 30);
	assert_true(sqlite3_column_int64(st, 3) == INT64_C(1795906860000));
	assert_int_equal(sqlite3_column_int(st, 4), 3 * 1680);
	/* In key order, exactly: (0.1 + 0.2) + 0.3, not 0.1 + (0.2 + 0.3). */
	assert_true(sqlite3_column_double(st, 5) == (0.1 + 0.2) + 0.3);
	assert_true(sqlite3_column_double(st, 5) != 0.1 + (0.2 + 0.3));
	sqlite3_finalize(st);
}

/*
 * The migration to version 8 fills usage_hourly_owner from usage_hourly,
 * hours whose facts were deleted included, adding each group's rows in
 * key order, and marks nothing dirty.
 */
static void
test_rollup_migrate_owners(void **state)
{
	char path[] = "/tmp/test_rollup.XXXXXX";
	struct gpu_err err = {0};
	sqlite3 *db;

	(void)state;
	/* No facts: a horizon after both hours deleted them. */
	db = migrated(path, 7,
		      "INSERT INTO retention VALUES('gpu_usage_fact',"
		      " 1795914000000, 3600000, 1);"
		      "INSERT INTO usage_hourly(hour_ms" ROLLUP_ROWS);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM usage_hourly_owner"),
			 2);
	assert_owner_sum(db, "SELECT samples, alloc_seconds, max_mem, last_ms,"
			     " gpu_w, busy FROM usage_hourly_owner"
			     " WHERE hour_ms = 1795906800000 AND user_key = 5"
			     " AND project_key = 6");
	assert_int_equal(gpu_db_close(db, &err), 0);
	wh_remove(path);
}

/*
 * The migration to version 11 fills usage_daily_job from usage_hourly,
 * each hour's rows of a (job, owner, model, profile) added in key order.
 */
static void
test_rollup_migrate_job_days(void **state)
{
	char path[] = "/tmp/test_rollup.XXXXXX";
	struct gpu_err err = {0};
	sqlite3 *db;

	(void)state;
	/* Job 1's three rows on the first day, the fourth row the next. */
	db = migrated(path, 10, "INSERT INTO usage_hourly(hour_ms" ROLLUP_ROWS);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM usage_daily_job"),
			 2);
	assert_owner_sum(db, "SELECT samples, alloc_seconds, max_mem, last_ms,"
			     " gpu_w, busy FROM usage_daily_job"
			     " WHERE day_ms = 1795824000000 AND job_key = 1"
			     " AND user_key = 5 AND project_key = 6");
	assert_int_equal(gpu_db_close(db, &err), 0);
	wh_remove(path);
}

/* The hours of facts(): one late on the first day, two on the second. */
#define H1 INT64_C(1795906800000)
#define H2 INT64_C(1795910400000)
#define DAY2 H2

/* built(): the hours a caller wrote, as a bit per hour of facts(). */
static bool
built_hours(void *ctx, int64_t hour)
{
	const unsigned *mask = ctx;

	return hour >= H1 && hour <= H2 + 3600000 &&
	       (*mask >> ((hour - H1) / 3600000) & 1) != 0;
}

/* day(): the caller wrote the second day's rows, none of the first's. */
static enum gpu_rollup_day
wrote_day2(void *ctx, int64_t day)
{
	(void)ctx;
	return day == DAY2 ? GPU_ROLLUP_DAY_WRITTEN : GPU_ROLLUP_DAY_NONE;
}

/*
 * A day whose rows the caller wrote keeps them only when the caller also
 * built every dirty hour of it: with one of its two hours read from the
 * facts instead, the day is summed again from its hour rows.
 */
static void
test_rollup_update_built_day(void **state)
{
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	unsigned mask;

	(void)state;
	assert_int_equal(gpu_db_open(":memory:", &o, &db, &err), 0);
	facts(db);
	assert_int_equal(gpu_rollup_update(db, NULL, &err), 0);
	for (int partial = 0; partial < 2; partial++) {
		/* The caller's day rows: marked, to tell kept from summed. */
		wh_exec(db, "UPDATE usage_daily SET samples = 99"
			    " WHERE day_ms = 1795910400000;"
			    "UPDATE usage_daily_job SET samples = 99"
			    " WHERE day_ms = 1795910400000;"
			    "INSERT INTO dirty_hours VALUES(1795910400000),"
			    " (1795914000000);");
		mask = partial ? 2 : 6; /* H2 and H3, or H2 only */
		assert_int_equal(gpu_rollup_update_built(db, built_hours,
							 wrote_day2, &mask,
							 NULL, &err),
				 0);
		assert_int_equal(
		    wh_count(db, "SELECT sum(samples) FROM usage_daily"
				 " WHERE day_ms = 1795910400000"),
		    partial ? 2
			    : 99 * wh_count(db, "SELECT count(*) FROM"
						" usage_daily WHERE day_ms"
						" = 1795910400000"));
		assert_int_equal(
		    wh_count(db, "SELECT sum(samples) FROM usage_daily_job"
				 " WHERE day_ms = 1795910400000"),
		    partial ? 2
			    : 99 * wh_count(db, "SELECT count(*) FROM"
						" usage_daily_job WHERE day_ms"
						" = 1795910400000"));
		assert_int_equal(wh_count(db, "SELECT count(*) FROM"
					      " dirty_hours"),
				 0);
	}
	/* Summed, the job rows are their day rows' totals. */
	assert_int_equal(wh_count(db, JOB_DAY_MISMATCH), 0);
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/* Every hour built by the caller (a gpu_rollup_built_fn). */
static bool
all_built(void *ctx, int64_t hour)
{
	(void)ctx;
	(void)hour;
	return true;
}

/* Every day summed again (a gpu_rollup_day_fn). */
static enum gpu_rollup_day
stale_day(void *ctx, int64_t day)
{
	(void)ctx;
	(void)day;
	return GPU_ROLLUP_DAY_STALE;
}

/* An hour row of job 1 (user 5, project 6) on GPU gpu of node 1. */
static void
job_hour(sqlite3 *db, int64_t hour, int gpu, double busy)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO usage_hourly(hour_ms" ROLLUP_COLS
		 " (%lld, 1, %d, -1, 1, 5, 6, 0, 0, 1, 60, 60, %.17g, %.17g,"
		 " 0, 0, 10, 0, 0, 0, 0, 0, %lld, 0, 1680, 1680, 0, 0, 0, 0);"
		 "INSERT OR IGNORE INTO dirty_hours VALUES(%lld)",
		 (long long)hour, gpu, busy, busy, (long long)hour,
		 (long long)hour);
	wh_exec(db, sql);
}

/* busy of job 1's row of day DAY2 in usage_daily_job. */
static double
job_busy(sqlite3 *db)
{
	return wh_real(db, "SELECT busy FROM usage_daily_job"
			   " WHERE day_ms = 1795910400000 AND job_key = 1");
}

/*
 * A job row of a day sums each hour's rows first (in key order), then
 * the hours in order: so an hour added to a stored day (a later batch)
 * gives the doubles of the whole day summed again, and neither the sum
 * of the day rows nor the rows one by one.
 */
static void
test_rollup_job_day_order(void **state)
{
	/* (0.1 + 0.7) + (0.2 + 0.3) is 1.2999999999999998, the others 1.3. */
	const double want = (0.1 + 0.7) + (0.2 + 0.3);
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;

	(void)state;
	assert_true(want != (0.1 + 0.2) + (0.7 + 0.3));
	assert_true(want != ((0.1 + 0.7) + 0.2) + 0.3);
	assert_int_equal(gpu_db_open(":memory:", &o, &db, &err), 0);
	/* The day's first hour: summed in memory, written. */
	job_hour(db, DAY2, 0, 0.1);
	job_hour(db, DAY2, 1, 0.7);
	assert_int_equal(
	    gpu_rollup_update_built(db, all_built, NULL, NULL, NULL, &err), 0);
	assert_true(job_busy(db) == 0.1 + 0.7);
	/* A later hour: added to the stored rows. */
	job_hour(db, DAY2 + 3600000, 0, 0.2);
	job_hour(db, DAY2 + 3600000, 1, 0.3);
	assert_int_equal(
	    gpu_rollup_update_built(db, all_built, NULL, NULL, NULL, &err), 0);
	assert_true(job_busy(db) == want);
	/* The whole day summed again: the same double. */
	wh_exec(db, "INSERT INTO dirty_hours VALUES(1795910400000)");
	assert_int_equal(gpu_rollup_update_built(db, all_built, stale_day,
						 NULL, NULL, &err),
			 0);
	assert_true(job_busy(db) == want);
	assert_int_equal(wh_count(db, JOB_DAY_MISMATCH), 0);
	assert_int_equal(gpu_db_close(db, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rollup_update_in_transaction),
	    cmocka_unit_test(test_rollup_update_built_day),
	    cmocka_unit_test(test_rollup_refresh_clean),
	    cmocka_unit_test(test_rollup_refresh_busy),
	    cmocka_unit_test(test_rollup_owner_rows),
	    cmocka_unit_test(test_rollup_migrate_owners),
	    cmocka_unit_test(test_rollup_migrate_job_days),
	    cmocka_unit_test(test_rollup_job_day_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
