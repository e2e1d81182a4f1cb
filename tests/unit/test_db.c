/* SPDX-License-Identifier: MIT */
/* Unit tests for opening the warehouse and its transactions (gpu/db.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/db.h"

static const struct gpu_db_opts rw = {.lock_timeout_ms = 1000},
				ro = {.readonly = true,
				      .lock_timeout_ms = 1000};

/* A fresh folder for a test's files, removed by cleanup(). */
static char dir[64];
static char path[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_db.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/w.db", dir);
	return 0;
}

static int
cleanup(void **state)
{
	char p[160];

	(void)state;
	for (const char *const *s =
		 (const char *const[]){"", "-wal", "-shm", NULL};
	     *s != NULL; s++) {
		snprintf(p, sizeof(p), "%s%s", path, *s);
		unlink(p);
	}
	return rmdir(dir);
}

static void
test_db_path(void **state)
{
	(void)state;
	assert_string_equal(gpu_db_path("x.db"), "x.db");
	setenv("GPUUSAGE_DB", "/var/lib/w.db", 1);
	assert_string_equal(gpu_db_path(NULL), "/var/lib/w.db");
	setenv("GPUUSAGE_DB", "", 1);
	assert_string_equal(gpu_db_path(NULL), "./gpuusage.db");
	unsetenv("GPUUSAGE_DB");
	assert_string_equal(gpu_db_path(NULL), "./gpuusage.db");
}

/* A writer creates and migrates; a reader opens read-only, never creates. */
static void
test_db_open_writer_reader(void **state)
{
	struct gpu_err err = {0};
	char want[256];
	sqlite3 *db = NULL;

	(void)state;
	assert_int_equal(gpu_db_open(path, &ro, &db, &err), -1);
	assert_null(db);
	snprintf(want, sizeof(want),
		 "cannot open warehouse '%s': No such file or directory", path);
	assert_string_equal(err.msg, want);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(gpu_db_open(path, &rw, &db, &err), 0);
	assert_int_equal(gpu_db_version(db), GPU_DB_VERSION);
	assert_int_equal(sqlite3_db_readonly(db, "main"), 0);
	assert_int_equal(gpu_db_close(db, &err), 0);
	assert_int_equal(gpu_db_open(path, &ro, &db, &err), 0);
	assert_int_equal(sqlite3_db_readonly(db, "main"), 1);
	assert_int_equal(gpu_db_exec(db, "DELETE FROM names_dim", &err), -1);
	assert_non_null(strstr(err.msg, "readonly"));
	assert_int_equal(gpu_db_close(db, &err), 0);
	assert_int_equal(gpu_db_close(NULL, &err), 0);
}

/* A reader leaves an older schema to a writer; nobody opens a newer one. */
static void
test_db_schema_versions(void **state)
{
	struct gpu_err err = {0};
	char want[256];
	sqlite3 *db = NULL;

	(void)state;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(gpu_db_create_version(db, 2, &err), 0);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	db = NULL;
	assert_int_equal(gpu_db_open(path, &ro, &db, &err), GPU_DB_OUTDATED);
	assert_null(db);
	snprintf(want, sizeof(want),
		 "'%s' has schema version 2 and needs a migration to %d", path,
		 GPU_DB_VERSION);
	assert_string_equal(err.msg, want);
	assert_int_equal(gpu_db_open(path, &rw, &db, &err), 0);
	assert_int_equal(gpu_db_version(db), GPU_DB_VERSION);
	assert_int_equal(gpu_db_exec(db, "PRAGMA user_version = 999", &err), 0);
	assert_int_equal(gpu_db_close(db, &err), 0);
	db = NULL;
	assert_int_equal(gpu_db_open(path, &rw, &db, &err), -1);
	assert_non_null(strstr(err.msg, "has schema version 999, newer"));
	assert_int_equal(gpu_db_open(path, &ro, &db, &err), -1);
	assert_null(db);
	assert_int_equal(gpu_db_create_version(NULL, 0, &err), -1);
	assert_string_equal(err.msg, "no schema version 0");
}

/*
 * A warehouse of every earlier version, holding a fact, a GPU and an ingest
 * run, migrates forward in one open: the fact keeps its values and becomes
 * a whole GPU (mig ''), every hour is left for the writers to roll up
 * (by the migrations up to 6), and no sample is marked deleted (7).
 */
static void
test_db_migrate_every_version(void **state)
{
	(void)state;
	for (int v = 1; v < GPU_DB_VERSION; v++) {
		struct gpu_err err = {0};
		sqlite3 *db = NULL;
		sqlite3_stmt *st;

		unlink(path);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(gpu_db_create_version(db, v, &err), 0);
		assert_int_equal(
		    gpu_db_exec(db,
				"INSERT INTO nodes_dim(node) VALUES('n1');"
				"INSERT INTO gpus_dim(node_id, gpu, model)"
				" VALUES(1, 3, 'A100');"
				"INSERT INTO ingest_log(started_ms, source,"
				" status) VALUES(1, 's', 'ok');"
				"INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu,"
				" util_pct, mem_used_mib, interval_s, ingest_id)"
				" VALUES(7200000, 1, 3, 42.5, 100, 60, 1);",
				&err),
		    0);
		assert_int_equal(sqlite3_close(db), SQLITE_OK);
		db = NULL;
		assert_int_equal(gpu_db_open(path, &rw, &db, &err), 0);
		assert_int_equal(gpu_db_version(db), GPU_DB_VERSION);
		assert_int_equal(
		    sqlite3_prepare_v2(
			db,
			"SELECT f.mig, f.util_pct, f.mem_used_mib,"
			" f.share28 IS NULL, g.mig, g.model,"
			" (SELECT count(*) FROM dirty_hours),"
			" (SELECT superseded FROM ingest_log),"
			" (SELECT purged FROM ingest_log),"
			" (SELECT count(*) FROM retention),"
			" f.mem_util_pct IS NULL, f.usage_category,"
			" f.allocated, f.job_source IS NULL,"
			" (SELECT count(*) FROM gpu_usage_fact_rows)"
			" FROM gpu_usage_fact f JOIN gpus_dim g"
			" USING (node_id, gpu)",
			-1, &st, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal(sqlite3_column_text(st, 0), "");
		assert_true(sqlite3_column_double(st, 1) == 42.5);
		assert_int_equal(sqlite3_column_int(st, 2), 100);
		assert_int_equal(sqlite3_column_int(st, 3), 1);
		assert_string_equal(sqlite3_column_text(st, 4), "");
		assert_string_equal(sqlite3_column_text(st, 5), "A100");
		/* Up to version 6 every migration rebuilt the rollups. */
		assert_int_equal(sqlite3_column_int(st, 6), v < 6 ? 1 : 0);
		assert_int_equal(sqlite3_column_int(st, 7), 0);
		/* Version 7: nothing deleted, no horizon. */
		assert_int_equal(sqlite3_column_int(st, 8), 0);
		assert_int_equal(sqlite3_column_int(st, 9), 0);
		/* Version 9: derived by the view, stored in the table. */
		assert_int_equal(sqlite3_column_int(st, 10), 1);
		assert_string_equal(sqlite3_column_text(st, 11), "medium");
		assert_int_equal(sqlite3_column_int(st, 12), 0);
		assert_int_equal(sqlite3_column_int(st, 13), 1);
		assert_int_equal(sqlite3_column_int(st, 14), 1);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
		assert_int_equal(gpu_db_close(db, &err), 0);
	}
}

/* The text of the first column of the first row of sql, or "" (static). */
static const char *
text_of(sqlite3 *db, const char *sql)
{
	static char out[128];
	sqlite3_stmt *st;

	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof(out), "%s",
			 (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/*
 * gpu_usage_fact is a view over the stored rows; writes to it by hand
 * reach the table as they did when it was one: a missing mig is '', the
 * statement's conflict clause holds, derived columns are refused.
 */
static void
test_db_fact_view_writes(void **state)
{
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	char *msg = NULL;

	(void)state;
	assert_int_equal(gpu_db_open(path, &rw, &db, &err), 0);
	assert_int_equal(
	    gpu_db_exec(db,
			"INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu,"
			" util_pct, mem_used_mib, mem_total_mib, interval_s,"
			" ingest_id) VALUES(3600000, 1, 0, 80, 40, 80, 60, 1),"
			" (3600000, 1, 1, 2, 40, NULL, 60, 1);",
			&err),
	    0);
	assert_string_equal(text_of(db, "SELECT group_concat(gpu || ':' ||"
					" quote(mig) || ':' || usage_category"
					" || ':' || ifnull(mem_util_pct, '-'))"
					" FROM gpu_usage_fact_rows JOIN"
					" gpu_usage_fact USING (ts_ms, node_id,"
					" gpu, mig)"),
			    "0:'':high:50.0,1:'':idle:-");
	/* A repeated key: refused, kept, or replaced, as the statement says. */
	assert_int_not_equal(
	    sqlite3_exec(db,
			 "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu,"
			 " util_pct, mem_used_mib, interval_s, ingest_id)"
			 " VALUES(3600000, 1, 0, 10, 1, 60, 2)",
			 NULL, NULL, &msg),
	    SQLITE_OK);
	assert_non_null(strstr(msg, "UNIQUE constraint failed"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_equal(
	    gpu_db_exec(db,
			"INSERT OR IGNORE INTO gpu_usage_fact(ts_ms, node_id,"
			" gpu, util_pct, mem_used_mib, interval_s, ingest_id)"
			" VALUES(3600000, 1, 0, 10, 1, 60, 2);",
			&err),
	    0);
	assert_string_equal(text_of(db, "SELECT util_pct FROM gpu_usage_fact"
					" WHERE gpu = 0"),
			    "80.0");
	assert_int_equal(
	    gpu_db_exec(db,
			"INSERT OR REPLACE INTO gpu_usage_fact(ts_ms, node_id,"
			" gpu, util_pct, mem_used_mib, interval_s, ingest_id)"
			" VALUES(3600000, 1, 0, 10, 1, 60, 2);"
			"UPDATE gpu_usage_fact SET util_pct = 50, job_key = 7"
			" WHERE gpu = 1;",
			&err),
	    0);
	assert_string_equal(text_of(db, "SELECT group_concat(gpu || ':' ||"
					" usage_category || ':' || allocated"
					" || ':' || ingest_id)"
					" FROM gpu_usage_fact"),
			    "0:low:0:2,1:medium:1:1");
	/* Derived columns are not written. */
	assert_int_not_equal(sqlite3_exec(db,
					  "UPDATE gpu_usage_fact SET"
					  " usage_category = 'low'",
					  NULL, NULL, &msg),
			     SQLITE_OK);
	assert_string_equal(msg, "cannot UPDATE a derived column of"
				 " gpu_usage_fact");
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(
	    sqlite3_exec(db,
			 "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu,"
			 " util_pct, mem_used_mib, interval_s, ingest_id,"
			 " allocated) VALUES(7200000, 1, 0, 1, 1, 60, 1, 1)",
			 NULL, NULL, &msg),
	    SQLITE_OK);
	assert_string_equal(msg, "cannot INSERT into a derived column of"
				 " gpu_usage_fact");
	sqlite3_free(msg);
	assert_int_equal(
	    gpu_db_exec(db, "DELETE FROM gpu_usage_fact WHERE gpu = 0;", &err),
	    0);
	assert_string_equal(
	    text_of(db, "SELECT count(*) || ':' || max(gpu) FROM"
			" gpu_usage_fact_rows"),
	    "1:1");
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/* Writers take turns: a second BEGIN IMMEDIATE reports a busy warehouse. */
static void
test_db_transactions(void **state)
{
	struct gpu_db_opts quick = {.lock_timeout_ms = 10};
	struct gpu_err err = {0};
	char want[256];
	sqlite3 *a = NULL, *b = NULL;
	sqlite3_stmt *st;

	(void)state;
	assert_int_equal(gpu_db_open(path, &rw, &a, &err), 0);
	assert_int_equal(gpu_db_open(path, &quick, &b, &err), 0);
	assert_int_equal(gpu_db_begin(a, path, &err), 0);
	assert_int_equal(
	    gpu_db_exec(a, "INSERT INTO names_dim(name) VALUES('x')", &err), 0);
	assert_int_equal(gpu_db_begin(b, path, &err), -1);
	snprintf(want, sizeof(want),
		 "warehouse busy: '%s' is locked by another process", path);
	assert_string_equal(err.msg, want);
	gpu_db_rollback(a);
	gpu_db_rollback(a); /* no transaction: nothing */
	assert_int_equal(gpu_db_begin(b, path, &err), 0);
	assert_int_equal(
	    gpu_db_exec(b, "INSERT INTO names_dim(name) VALUES('y')", &err), 0);
	assert_int_equal(gpu_db_commit(b, &err), 0);
	st =
	    gpu_db_prepare(a, "SELECT group_concat(name) FROM names_dim", &err);
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(sqlite3_column_text(st, 0), "y");
	sqlite3_finalize(st);
	assert_null(gpu_db_prepare(a, "SELECT nope FROM names_dim", &err));
	assert_string_equal(err.msg, "database error: no such column: nope");
	assert_int_equal(gpu_db_exec(a, "NOT SQL", &err), -1);
	assert_non_null(strstr(err.msg, "database error: "));
	assert_int_equal(gpu_db_close(b, &err), 0);
	assert_int_equal(gpu_db_close(a, &err), 0);
}

/*
 * create_rollback: a writer that creates the warehouse (missing, or an
 * empty file) keeps a rollback journal until gpu_db_use_wal(); one that
 * opens an existing warehouse, or without create_rollback, uses WAL.
 */
static void
test_db_create_rollback(void **state)
{
	struct gpu_db_opts first = rw;
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	int fd;

	(void)state;
	first.create_rollback = true;
	/* An empty file counts as missing. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gpu_db_open(path, &first, &db, &err), 0);
	assert_string_equal(text_of(db, "PRAGMA journal_mode"), "delete");
	assert_int_equal(gpu_db_version(db), GPU_DB_VERSION);
	assert_int_equal(gpu_db_use_wal(db, path, &err), 0);
	assert_string_equal(text_of(db, "PRAGMA journal_mode"), "wal");
	assert_int_equal(gpu_db_use_wal(db, path, &err), 0); /* a no-op */
	assert_int_equal(gpu_db_close(db, &err), 0);
	/* An existing warehouse keeps WAL. */
	assert_int_equal(gpu_db_open(path, &first, &db, &err), 0);
	assert_string_equal(text_of(db, "PRAGMA journal_mode"), "wal");
	assert_int_equal(gpu_db_close(db, &err), 0);
	/* Without create_rollback a new warehouse starts in WAL. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(gpu_db_open(path, &rw, &db, &err), 0);
	assert_string_equal(text_of(db, "PRAGMA journal_mode"), "wal");
	assert_int_equal(gpu_db_close(db, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_db_path),
	    cmocka_unit_test_setup_teardown(test_db_open_writer_reader, setup,
					    cleanup),
	    cmocka_unit_test_setup_teardown(test_db_migrate_every_version,
					    setup, cleanup),
	    cmocka_unit_test_setup_teardown(test_db_schema_versions, setup,
					    cleanup),
	    cmocka_unit_test_setup_teardown(test_db_fact_view_writes, setup,
					    cleanup),
	    cmocka_unit_test_setup_teardown(test_db_transactions, setup,
					    cleanup),
	    cmocka_unit_test_setup_teardown(test_db_create_rollback, setup,
					    cleanup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
