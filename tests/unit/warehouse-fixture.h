/* SPDX-License-Identifier: MIT */
/*
 * A warehouse for a unit test: a fresh file per test (setup/teardown for
 * cmocka), its removal with what SQLite leaves beside it, and one-number
 * queries. Include after <cmocka.h>.
 */
#ifndef WAREHOUSE_FIXTURE_H
#define WAREHOUSE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gpu/db.h"

/*
 * A warehouse path under /tmp for this process: "/tmp/NAME.PID.db", so
 * that two runs of the suites at once do not share a file.
 */
static inline void
wh_tmp_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "/tmp/%s.%ld.db", name, (long)getpid());
}

/* Remove a warehouse file and its -wal and -shm. */
static inline void
wh_remove(const char *path)
{
	char p[128];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* Run sql (statements), failing the test with SQLite's message if any fails. */
static inline void
wh_exec(sqlite3 *db, const char *sql)
{
	struct gpu_err err = {{0}, {0}, 0};

	if (gpu_db_exec(db, sql, &err) != 0)
		fail_msg("%s: %s", sql, err.msg);
}

/* The first column of sql's first row, stepped to (finalize it). */
static inline sqlite3_stmt *
wh_first(sqlite3 *db, const char *sql)
{
	struct gpu_err err = {{0}, {0}, 0};
	sqlite3_stmt *st = gpu_db_prepare(db, sql, &err);

	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	return st;
}

/* The first column of sql's first row as an integer. */
static inline int64_t
wh_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = wh_first(db, sql);
	int64_t n = sqlite3_column_int64(st, 0);

	sqlite3_finalize(st);
	return n;
}

/* The first column of sql's first row as a double. */
static inline double
wh_real(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = wh_first(db, sql);
	double v = sqlite3_column_double(st, 0);

	sqlite3_finalize(st);
	return v;
}

struct fixture {
	char path[64];
	sqlite3 *db;
};

/* A new, empty warehouse in a fresh temporary file. */
static inline int
wh_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err;
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/test_warehouse_XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(f->path);
	assert_int_equal(gpu_db_open(f->path, &o, &f->db, &err), 0);
	*state = f;
	return 0;
}

static inline int
wh_teardown(void **state)
{
	struct fixture *f = *state;

	gpu_db_close(f->db, NULL);
	wh_remove(f->path);
	free(f);
	return 0;
}

#endif
