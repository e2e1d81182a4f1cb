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

static void
exec(sqlite3 *db, const char *sql)
{
	struct gpu_err err = {0};

	if (gpu_db_exec(db, sql, &err) != 0)
		fail_msg("%s: %s", sql, err.msg);
}

#define remove_db wh_remove
#define count wh_count

/* Facts on two nodes over three hours of two days; their hours dirty. */
static void
facts(sqlite3 *db)
{
	exec(db, "INSERT INTO nodes_dim(node_id, node) VALUES(1, 'n1'),"
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
	struct gpu_db_opts o = {false, 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	size_t hours = 99;

	(void)state;
	assert_int_equal(gpu_db_open(":memory:", &o, &db, &err), 0);
	facts(db);
	assert_int_equal(gpu_db_begin(db, "mem", &err), 0);
	assert_int_equal(gpu_rollup_update(db, &hours, &err), 0);
	assert_int_equal(hours, 3);
	assert_int_equal(count(db, "SELECT count(*) FROM dirty_hours"), 0);
	assert_int_equal(count(db, "SELECT sum(samples) FROM usage_hourly"), 4);
	assert_int_equal(count(db, "SELECT sum(samples) FROM usage_daily"), 4);
	assert_int_equal(count(db, "SELECT count(*) FROM usage_hourly_node"),
			 4);
	assert_int_equal(count(db, "SELECT count(*) FROM usage_daily"), 4);
	assert_int_equal(count(db, "SELECT count(*) FROM names_dim"
				   " WHERE name IN ('ann', 'p1')"),
			 2);
	assert_int_equal(
	    count(db, "SELECT overage FROM usage_hourly WHERE job_key = 1"
		      " AND hour_ms = 1795906800000"),
	    60 * (20000 - 16384));
	gpu_db_rollback(db);
	assert_int_equal(count(db, "SELECT count(*) FROM dirty_hours"), 3);
	assert_int_equal(count(db, "SELECT count(*) FROM usage_hourly"), 0);
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/* Nothing dirty: nothing to do, and no write (a reader's handle will do). */
static void
test_rollup_refresh_clean(void **state)
{
	char path[] = "/tmp/test_rollup.XXXXXX";
	struct gpu_db_opts rw = {false, 1000}, ro = {true, 1000};
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
	remove_db(path);
}

/* A refresh waits for another writer, then reports the busy warehouse. */
static void
test_rollup_refresh_busy(void **state)
{
	char path[] = "/tmp/test_rollup.XXXXXX";
	struct gpu_db_opts rw = {false, 1000}, quick = {false, 10};
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
	assert_int_equal(count(a, "SELECT count(*) FROM dirty_hours"), 0);
	assert_int_equal(gpu_db_close(b, &err), 0);
	assert_int_equal(gpu_db_close(a, &err), 0);
	remove_db(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rollup_update_in_transaction),
	    cmocka_unit_test(test_rollup_refresh_clean),
	    cmocka_unit_test(test_rollup_refresh_busy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
