/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for reading a table from its pages (gpu/pages.h), WITHOUT
 * ROWID or keyed by an INTEGER PRIMARY KEY: every record compared with
 * what SQLite's own statement gives, seeks, and the cases the reader must
 * refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/db.h"
#include "gpu/hrow.h"
#include "gpu/pages.h"
#include "gpu/rollup.h"

#include "warehouse-fixture.h"

static char path[64]; /* wh_tmp_path(), set by main() */

static void
remove_db(void)
{
	wh_remove(path);
}

static sqlite3 *
open_db(const char *journal)
{
	sqlite3 *db;
	char sql[64];

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode=%s", journal);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static void
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static void
begin_read(sqlite3 *db)
{
	exec(db, "BEGIN; SELECT count(*) FROM sqlite_schema");
}

/* Field f of a record against column f of the statement's row. */
static void
check_field(const struct gpu_pval *v, sqlite3_stmt *st, int f, bool real)
{
	switch (sqlite3_column_type(st, f)) {
	case SQLITE_NULL:
		assert_int_equal(v->type, GPU_PV_NULL);
		break;
	case SQLITE_INTEGER:
		assert_int_equal(v->type, GPU_PV_INT);
		assert_true(v->i == sqlite3_column_int64(st, f));
		break;
	case SQLITE_FLOAT:
		/* A REAL column keeps a whole value as an integer. */
		if (real && v->type == GPU_PV_INT) {
			assert_true((double)v->i ==
				    sqlite3_column_double(st, f));
			break;
		}
		assert_int_equal(v->type, GPU_PV_REAL);
		assert_memory_equal(&v->d,
				    &(double){sqlite3_column_double(st, f)},
				    sizeof(double));
		break;
	case SQLITE_TEXT:
		assert_int_equal(v->type, GPU_PV_TEXT);
		assert_int_equal(v->n, sqlite3_column_bytes(st, f));
		assert_memory_equal(v->p, sqlite3_column_text(st, f), v->n);
		break;
	default:
		assert_int_equal(v->type, GPU_PV_BLOB);
		assert_int_equal(v->n, sqlite3_column_bytes(st, f));
		if (v->n > 0)
			assert_memory_equal(v->p, sqlite3_column_blob(st, f),
					    v->n);
		break;
	}
}

/*
 * Every record of t from lo on, against "SELECT cols FROM t WHERE k >= lo
 * ORDER BY key" (cols in record order); returns how many.
 */
static long
compare(sqlite3 *db, const char *table, const char *cols, const char *key,
	int64_t lo, const char *real_col)
{
	struct gpu_pages *pg;
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];
	sqlite3_stmt *st;
	char sql[512];
	const char *why = NULL;
	long n = 0;
	int rc, real = -1;

	begin_read(db);
	pg = gpu_pages_open(db, table, &why);
	if (pg == NULL)
		fail_msg("gpu_pages_open: %s", why);
	if (real_col != NULL)
		real = gpu_pages_field(pg, real_col);
	assert_int_equal(gpu_pages_seek(pg, lo), 0);
	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM %s WHERE %s >= ?1 ORDER BY %s", cols, table,
		 key, key);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, lo);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int f;

		assert_int_equal(gpu_pages_next(pg, v), 1);
		assert_int_equal(sqlite3_column_count(st),
				 (int)gpu_pages_nfields(pg));
		for (f = 0; f < sqlite3_column_count(st); f++)
			check_field(&v[f], st, f, f == real);
		n++;
	}
	assert_int_equal(rc, SQLITE_DONE);
	assert_int_equal(gpu_pages_next(pg, v), 0);
	sqlite3_finalize(st);
	gpu_pages_close(pg);
	exec(db, "COMMIT");
	return n;
}

/* Every serial type of the file format, and the REAL column's integers. */
static void
test_every_type(void **state)
{
	static const char *const vals[] = {
	    "NULL",
	    "0",
	    "1",
	    "-5",
	    "127",
	    "-300",
	    "32767",
	    "-70000",
	    "8388607",
	    "-3000000",
	    "2147483647",
	    "-2147483648",
	    "140737488355327",
	    "-140737488355328",
	    "9223372036854775807",
	    "-9223372036854775808",
	    "1.5",
	    "-0.0",
	    "1e300",
	    "''",
	    "'abc'",
	    "x''",
	    "x'00ff10'",
	    "'" /* a long text, up to the page's local limit */
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "'",
	};
	sqlite3 *db;
	size_t i;
	char sql[512];

	(void)state;
	remove_db();
	db = open_db("wal");
	exec(db, "CREATE TABLE t(k INTEGER NOT NULL, a, r REAL, b TEXT,"
		 " PRIMARY KEY(k)) WITHOUT ROWID");
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO t VALUES(%zu, %s, %s, 'x%zu')", i,
			 vals[i],
			 i % 3 == 0   ? "2.0"
			 : i % 3 == 1 ? "-7.25"
				      : "NULL",
			 i);
		exec(db, sql);
	}
	/* Negative keys, and the key at each integer width. */
	exec(db, "INSERT INTO t VALUES(-1, 1, 1, 'n'), (-129, 2, 2, 'n'),"
		 " (100000, 3, 3, 'n'), (5000000000, 4, 4, 'n'),"
		 " (9223372036854775807, 5, 5, 'n')");
	exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(compare(db, "t", "k, a, r, b", "k", INT64_MIN, "r"),
			 (long)(sizeof(vals) / sizeof(vals[0])) + 5);
	assert_int_equal(compare(db, "t", "k, a, r, b", "k", 10, "r"),
			 (long)(sizeof(vals) / sizeof(vals[0])) - 10 + 3);
	sqlite3_close(db);
	remove_db();
}

/*
 * A table of several levels (interior pages hold records too, read
 * between their children), the key's columns first in the record.
 */
static void
test_tree(void **state)
{
	sqlite3 *db;
	struct gpu_pages *pg;
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];
	long n;
	int64_t seeks[] = {INT64_MIN, -1,    0,	    1,	   999,
			   1000,      12345, 49999, 50000, INT64_MAX};
	size_t i;

	(void)state;
	remove_db();
	db = open_db("delete");
	exec(db, "CREATE TABLE f(ts INTEGER NOT NULL, note TEXT,"
		 " node INTEGER NOT NULL, v REAL, PRIMARY KEY(ts, node))"
		 " WITHOUT ROWID");
	exec(db,
	     "WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM"
	     " s WHERE x < 99999) INSERT INTO f SELECT x / 2, printf('%0*d',"
	     " x % 40, x), x % 2, x * 0.25 FROM s");
	begin_read(db);
	pg = gpu_pages_open(db, "f", NULL);
	assert_non_null(pg);
	/* The record: the key (ts, node), then the others as declared. */
	assert_int_equal(gpu_pages_nfields(pg), 4);
	assert_int_equal(gpu_pages_field(pg, "ts"), 0);
	assert_int_equal(gpu_pages_field(pg, "node"), 1);
	assert_int_equal(gpu_pages_field(pg, "note"), 2);
	assert_int_equal(gpu_pages_field(pg, "v"), 3);
	assert_int_equal(gpu_pages_field(pg, "nope"), -1);
	/* Seeks: the first record at or after each key, then one more. */
	for (i = 0; i < sizeof(seeks) / sizeof(seeks[0]); i++) {
		int64_t want = seeks[i] < 0 ? 0 : seeks[i];

		assert_int_equal(gpu_pages_seek(pg, seeks[i]), 0);
		if (want > 49999) {
			assert_int_equal(gpu_pages_next(pg, v), 0);
			continue;
		}
		assert_int_equal(gpu_pages_next(pg, v), 1);
		assert_true(v[0].i == want && v[1].i == 0);
		assert_int_equal(gpu_pages_next(pg, v), 1);
		assert_true(v[0].i == want && v[1].i == 1);
	}
	gpu_pages_close(pg);
	exec(db, "COMMIT");
	n = compare(db, "f", "ts, node, note, v", "ts", INT64_MIN, "v");
	assert_int_equal(n, 100000);
	assert_int_equal(
	    compare(db, "f", "ts, node, note, v", "ts", 31337, "v"),
	    2 * (50000 - 31337));
	sqlite3_close(db);
	remove_db();
}

/*
 * Seeks by a whole key (an integer, a text and an integer, as the fact
 * table's time, node and MIG slice): the first record at or after each of
 * many keys, against SQL's row-value comparison, including keys stored in
 * interior pages, keys between two stored ones, shorter prefixes, and
 * keys before the first and after the last.
 */
static void
test_seek_key(void **state)
{
	sqlite3 *db;
	struct gpu_pages *pg;
	struct gpu_pval v[GPU_PAGES_MAXFIELDS], key[3];
	sqlite3_stmt *st;
	char text[16];
	unsigned seed = 12345;

	(void)state;
	remove_db();
	db = open_db("delete");
	exec(db, "CREATE TABLE k(a INTEGER NOT NULL, b TEXT NOT NULL,"
		 " c INTEGER NOT NULL, v REAL, PRIMARY KEY(a, b, c))"
		 " WITHOUT ROWID");
	exec(db, "WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM"
		 " s WHERE x < 29999) INSERT INTO k SELECT x / 60,"
		 " printf('n%d', x / 6 % 10), x % 6 * 2, x * 0.5 FROM s");
	begin_read(db);
	pg = gpu_pages_open(db, "k", NULL);
	assert_non_null(pg);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT a, b, c FROM k WHERE (a, b,"
					    " c) >= (?1, ?2, ?3) ORDER BY a,"
					    " b, c LIMIT 1",
					    -1, &st, NULL),
			 SQLITE_OK);
	for (int i = 0; i < 3000; i++) {
		int64_t a, c;
		int rc;

		seed = seed * 1103515245u + 12345u;
		a = (int64_t)(seed >> 8) % 510 - 5;
		c = (int64_t)(seed >> 4) % 13;
		snprintf(text, sizeof(text), "n%u", (seed >> 12) % 11);
		key[0] = (struct gpu_pval){.type = GPU_PV_INT, .i = a};
		key[1] = (struct gpu_pval){.type = GPU_PV_TEXT,
					   .p = (const unsigned char *)text,
					   .n = strlen(text)};
		key[2] = (struct gpu_pval){.type = GPU_PV_INT, .i = c};
		assert_int_equal(gpu_pages_seek_key(pg, key, 3), 0);
		sqlite3_bind_int64(st, 1, a);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, c);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			assert_int_equal(gpu_pages_next(pg, v), 0);
		} else {
			assert_int_equal(rc, SQLITE_ROW);
			assert_int_equal(gpu_pages_next(pg, v), 1);
			for (int f = 0; f < 3; f++)
				check_field(&v[f], st, f, false);
		}
		sqlite3_reset(st);
	}
	/* A prefix: the first record of a time. */
	key[0].i = 100;
	assert_int_equal(gpu_pages_seek_key(pg, key, 1), 0);
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_true(v[0].i == 100 && v[1].n == 2 && v[2].i == 0);
	assert_int_equal(gpu_pages_seek_key(pg, key, 0), -1);
	assert_int_equal(gpu_pages_seek_key(pg, key, 5), -1);
	sqlite3_finalize(st);
	gpu_pages_close(pg);
	exec(db, "COMMIT");
	sqlite3_close(db);
	remove_db();
}

/*
 * Tables a and b (key k, a text of 40 digits) written in turns: turn i
 * adds rows(i) rows to b (even i) or a (odd i), keys i * 10000 on.
 */
static void
interleave(sqlite3 *db, int turns, int (*rows)(int))
{
	char sql[256];

	exec(db, "CREATE TABLE a(k INTEGER PRIMARY KEY, t TEXT) WITHOUT ROWID;"
		 "CREATE TABLE b(k INTEGER PRIMARY KEY, t TEXT) WITHOUT ROWID");
	for (int i = 0; i < turns; i++) {
		snprintf(sql, sizeof(sql),
			 "WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT"
			 " x + 1 FROM s WHERE x < %d) INSERT INTO %s SELECT"
			 " %d * 10000 + x, printf('%%040d', x) FROM s",
			 rows(i) - 1, i % 2 ? "a" : "b", i);
		exec(db, sql);
	}
}

static int
turn_rows(int i)
{
	return 50 * (i % 7 == 0 ? 59 : i % 5 + 1);
}

static int
run_rows(int i)
{
	return 80 * (i % 13) + 40;
}

/*
 * Two tables written in turns, so that their leaves alternate in the file
 * in runs of various lengths: the reader's read-ahead of consecutive
 * leaves meets runs that break, and every record still matches SQL's.
 */
static void
test_interleaved(void **state)
{
	sqlite3 *db;

	(void)state;
	remove_db();
	db = open_db("delete");
	/* 50 to 2,950 rows a turn: runs of 1 to 40 leaves. */
	interleave(db, 60, turn_rows);
	assert_true(compare(db, "a", "k, t", "k", INT64_MIN, NULL) > 1000);
	assert_true(compare(db, "b", "k, t", "k", INT64_MIN, NULL) > 1000);
	assert_true(compare(db, "a", "k, t", "k", 310000, NULL) > 100);
	sqlite3_close(db);
	remove_db();
}

/*
 * The pages of table t in the order a scan reads them (dbstat's path
 * order): *leaves of them leaves, *interior not, *runs the leaves that do
 * not follow the leaf before in the file.
 */
static void
page_runs(sqlite3 *db, const char *t, long *leaves, long *interior,
	  long *runs)
{
	sqlite3_stmt *st;
	int64_t last = -1;

	*leaves = *interior = *runs = 0;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT pageno, pagetype = 'leaf'"
					    " FROM dbstat WHERE name = ?1"
					    " ORDER BY path",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t p = sqlite3_column_int64(st, 0);

		if (!sqlite3_column_int(st, 1)) {
			(*interior)++;
			continue;
		}
		(*leaves)++;
		if (p != last + 1)
			(*runs)++;
		last = p;
	}
	sqlite3_finalize(st);
}

static long
count_rows(sqlite3 *db, const char *t)
{
	sqlite3_stmt *st;
	char sql[64];
	long n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", t);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * A scan reads a run of leaves in consecutive pages with one call (up to
 * 16 pages of 4 KiB), looking ahead in the parent: no more calls than
 * runs, interior pages and windows, and fewer than a call a page.
 */
static void
test_read_runs(void **state)
{
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];
	struct gpu_pages *pg;
	const char *why = NULL;
	sqlite3 *db;
	long leaves, interior, runs, n = 0;

	(void)state;
	remove_db();
	db = open_db("delete");
	exec(db, "PRAGMA page_size = 4096");
	/* Runs of about 1 to 12 leaves of a between b's. */
	interleave(db, 40, run_rows);
	page_runs(db, "a", &leaves, &interior, &runs);
	assert_true(leaves > 2 * runs); /* runs of more than two */
	begin_read(db);
	pg = gpu_pages_open(db, "a", &why);
	if (pg == NULL)
		fail_msg("gpu_pages_open: %s", why);
	while (gpu_pages_next(pg, v) == 1)
		n++;
	assert_true(n > 1000);
	assert_int_equal(n, count_rows(db, "a"));
	/* A run's parent may change within it: one more call each. */
	assert_true(gpu_pages_reads(pg) <=
		    (unsigned long)(runs + 2 * interior + leaves / 16 + 1));
	assert_true(gpu_pages_reads(pg) < (unsigned long)(leaves + interior));
	gpu_pages_close(pg);
	exec(db, "COMMIT");
	sqlite3_close(db);
	remove_db();
}

/* Columns added after a record was written read as NULL; a default not. */
static void
test_added_columns(void **state)
{
	sqlite3 *db;
	struct gpu_pages *pg;
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];

	(void)state;
	remove_db();
	db = open_db("delete");
	exec(db, "CREATE TABLE t(k INTEGER PRIMARY KEY, a) WITHOUT ROWID;"
		 " INSERT INTO t VALUES(1, 'old');"
		 " ALTER TABLE t ADD COLUMN b INTEGER;"
		 " INSERT INTO t VALUES(2, 'new', 7)");
	assert_int_equal(compare(db, "t", "k, a, b", "k", INT64_MIN, NULL), 2);
	exec(db, "ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 5");
	begin_read(db);
	pg = gpu_pages_open(db, "t", NULL);
	assert_non_null(pg);
	/* The record lacks c, whose value (5) is not in the file. */
	assert_int_equal(gpu_pages_next(pg, v), -1);
	gpu_pages_close(pg);
	exec(db, "COMMIT");
	sqlite3_close(db);
	remove_db();
}

/* What the reader leaves to a statement. */
static void
test_refusals(void **state)
{
	sqlite3 *db, *w;
	struct gpu_pages *pg;
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];
	const char *why = NULL;
	char sql[256];

	(void)state;
	remove_db();
	db = open_db("wal");
	exec(db, "CREATE TABLE r(k INTEGER PRIMARY KEY, a);"
		 " CREATE TABLE p(k TEXT PRIMARY KEY, a);"
		 " CREATE TABLE d(k INTEGER, a, PRIMARY KEY(k DESC))"
		 " WITHOUT ROWID;"
		 " CREATE TABLE t(k INTEGER PRIMARY KEY, a) WITHOUT ROWID;"
		 " CREATE TABLE s(k TEXT PRIMARY KEY, a) WITHOUT ROWID;"
		 " CREATE TABLE g(k INTEGER PRIMARY KEY, a,"
		 "  b AS (a + 1) STORED) WITHOUT ROWID;"
		 " INSERT INTO t VALUES(1, 'a'), (2, 'b');"
		 " INSERT INTO s VALUES('x', 1)");
	/* Outside a read transaction. */
	assert_null(gpu_pages_open(db, "t", &why));
	assert_string_equal(why, "not in a read transaction");
	/* Frames not yet copied into the file. */
	begin_read(db);
	assert_null(gpu_pages_open(db, "t", &why));
	assert_non_null(strstr(why, "WAL"));
	exec(db, "COMMIT");
	exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
	begin_read(db);
	/*
	 * Tables of other kinds, and names that are no table. A rowid table
	 * is read when its key is an INTEGER PRIMARY KEY (test_rowid()).
	 */
	pg = gpu_pages_open(db, "r", &why);
	assert_non_null(pg);
	gpu_pages_close(pg);
	assert_null(gpu_pages_open(db, "p", &why));
	assert_string_equal(why, "a rowid table without an INTEGER PRIMARY KEY");
	assert_null(gpu_pages_open(db, "d", &why));
	assert_string_equal(why, "a descending key");
	/* A stored generated column: its value is the statement's to make. */
	assert_null(gpu_pages_open(db, "g", &why));
	assert_string_equal(why, "columns this reader does not take");
	assert_null(gpu_pages_open(db, "nosuch", &why));
	/* A key that is not an integer cannot be sought. */
	assert_null(gpu_pages_open(db, "s", &why));
	pg = gpu_pages_open(db, "t", &why);
	assert_non_null(pg);
	/* A writer's frames after this snapshot leave the file as it was. */
	assert_int_equal(sqlite3_open(path, &w), SQLITE_OK);
	exec(w, "INSERT INTO t VALUES(3, 'c'); PRAGMA wal_checkpoint(PASSIVE)");
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_int_equal(gpu_pages_next(pg, v), 0);
	gpu_pages_close(pg);
	/* Frames after this snapshot: no page is read from now on. */
	assert_null(gpu_pages_open(db, "t", &why));
	exec(db, "COMMIT");
	/* The new frames: refused until copied. */
	begin_read(db);
	assert_null(gpu_pages_open(db, "t", &why));
	exec(db, "COMMIT");
	sqlite3_close(w);
	exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	/* A record too large for its page spills onto overflow pages. */
	snprintf(sql, sizeof(sql), "INSERT INTO t VALUES(4, zeroblob(%d))",
		 3000);
	exec(db, sql);
	exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	begin_read(db);
	pg = gpu_pages_open(db, "t", &why);
	assert_non_null(pg);
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_int_equal(gpu_pages_next(pg, v), -1);
	gpu_pages_close(pg);
	exec(db, "COMMIT");
	sqlite3_close(db);
	remove_db();
}

/* The first record at or after rowid lo has key want (-1: none). */
static void
seek_rowid(struct gpu_pages *pg, int64_t lo, int64_t want)
{
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];

	assert_int_equal(gpu_pages_seek(pg, lo), 0);
	if (want < 0) {
		assert_int_equal(gpu_pages_next(pg, v), 0);
		return;
	}
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_int_equal(v[0].type, GPU_PV_INT);
	assert_true(v[0].i == want);
}

/*
 * Rowid tables keyed by an INTEGER PRIMARY KEY, on small pages so that
 * their trees have interior pages: every record, its key from the rowid
 * (the record holds NULL there), against SQL; a column added later, read
 * as NULL in the records written before it; seeks into the gaps between
 * keys, before the first and after the last; the key not the first
 * column; and the rowid tables the reader refuses.
 */
static void
test_rowid(void **state)
{
	sqlite3 *db;
	struct gpu_pages *pg;
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];
	const char *why = NULL;
	char sql[128];

	(void)state;
	remove_db();
	db = open_db("delete");
	exec(db, "PRAGMA page_size = 512;"
		 " CREATE TABLE j(k INTEGER PRIMARY KEY, name TEXT NOT NULL"
		 "  UNIQUE, n INTEGER, r REAL);"
		 " WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1"
		 "  FROM s WHERE x < 19999) INSERT INTO j SELECT 3 * x + 1,"
		 "  printf('%0*d', 1 + x % 60, x), CASE WHEN x % 7 THEN x * x"
		 "  END, x * 0.5 FROM s;"
		 " ALTER TABLE j ADD COLUMN extra TEXT;"
		 " INSERT INTO j VALUES(100000, 'late', 1, 2.0, 'x'),"
		 "  (100001, 'later', NULL, NULL, NULL);"
		 " CREATE TABLE m(a TEXT, id Integer PRIMARY KEY, b);"
		 " INSERT INTO m VALUES('p', 5, 1), ('q', 2, NULL), (NULL, 9, 'z');"
		 " CREATE TABLE h(a, b); INSERT INTO h VALUES(1, 2);"
		 " CREATE TABLE ii(k INT PRIMARY KEY, a);"
		 " CREATE TABLE dsc(k INTEGER PRIMARY KEY DESC, a);"
		 " CREATE TABLE big(k INTEGER PRIMARY KEY, b);");
	assert_int_equal(compare(db, "j", "k, name, n, r, extra", "k",
				 INT64_MIN, "r"),
			 20002);
	assert_int_equal(compare(db, "j", "k, name, n, r, extra", "k", 30001,
				 "r"),
			 20000 - 10000 + 2);
	assert_int_equal(compare(db, "m", "a, id, b", "id", INT64_MIN, NULL),
			 3);
	begin_read(db);
	pg = gpu_pages_open(db, "j", &why);
	if (pg == NULL)
		fail_msg("gpu_pages_open: %s", why);
	assert_int_equal(gpu_pages_nfields(pg), 5);
	assert_int_equal(gpu_pages_field(pg, "k"), 0);
	assert_int_equal(gpu_pages_field(pg, "extra"), 4);
	seek_rowid(pg, INT64_MIN, 1);
	seek_rowid(pg, 0, 1);
	seek_rowid(pg, 1, 1);
	seek_rowid(pg, 2, 4);
	seek_rowid(pg, 4, 4);
	seek_rowid(pg, 31337, 31339);
	seek_rowid(pg, 59998, 59998);
	seek_rowid(pg, 59999, 100000);
	seek_rowid(pg, 100001, 100001);
	seek_rowid(pg, 100002, -1);
	seek_rowid(pg, INT64_MAX, -1);
	/* By the rowid alone. */
	assert_int_equal(
	    gpu_pages_seek_key(pg, &(struct gpu_pval){.type = GPU_PV_TEXT}, 1),
	    -1);
	/* The first fields alone; the rest of v left as it was. */
	assert_int_equal(gpu_pages_limit(pg, 0), -1);
	assert_int_equal(gpu_pages_limit(pg, 6), -1);
	assert_int_equal(gpu_pages_limit(pg, 2), 0);
	v[2].type = GPU_PV_BLOB;
	assert_int_equal(gpu_pages_seek(pg, 4), 0);
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_true(v[0].type == GPU_PV_INT && v[0].i == 4);
	assert_int_equal(v[1].type, GPU_PV_TEXT);
	assert_int_equal(v[1].n, 2);
	assert_memory_equal(v[1].p, "01", 2);
	assert_int_equal(v[2].type, GPU_PV_BLOB);
	/* A record without the last field (added after it) is refused. */
	assert_int_equal(gpu_pages_limit(pg, 5), 0);
	assert_int_equal(gpu_pages_seek(pg, 100000), 0);
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_int_equal(gpu_pages_seek(pg, 1), 0);
	assert_int_equal(gpu_pages_next(pg, v), -1);
	gpu_pages_close(pg);
	/* The INTEGER PRIMARY KEY is always decoded. */
	pg = gpu_pages_open(db, "m", &why);
	assert_non_null(pg);
	assert_int_equal(gpu_pages_limit(pg, 1), -1);
	assert_int_equal(gpu_pages_limit(pg, 2), 0);
	gpu_pages_close(pg);
	/* Rowid tables keyed otherwise. */
	assert_null(gpu_pages_open(db, "h", &why));
	assert_string_equal(why, "a rowid table without an INTEGER PRIMARY KEY");
	assert_null(gpu_pages_open(db, "ii", &why));
	assert_null(gpu_pages_open(db, "dsc", &why));
	exec(db, "COMMIT");
	/* A record too large for its leaf spills onto overflow pages. */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO big VALUES(1, 1), (2, zeroblob(%d)), (3, 3)", 600);
	exec(db, sql);
	begin_read(db);
	pg = gpu_pages_open(db, "big", &why);
	assert_non_null(pg);
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_int_equal(gpu_pages_next(pg, v), -1);
	gpu_pages_close(pg);
	exec(db, "COMMIT");
	sqlite3_close(db);
	remove_db();
}

/*
 * An immutable open (no locks, no WAL index) of a file beside a WAL that
 * holds frames is refused; without the frames it is read.
 */
static void
test_immutable(void **state)
{
	sqlite3 *w, *ro;
	struct gpu_pages *pg;
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];
	const char *why = NULL;
	char uri[128];

	(void)state;
	remove_db();
	w = open_db("wal");
	exec(w, "PRAGMA wal_autocheckpoint = 0;"
		" CREATE TABLE t(k INTEGER PRIMARY KEY, a) WITHOUT ROWID;"
		" INSERT INTO t VALUES(1, 'a');"
		" PRAGMA wal_checkpoint(TRUNCATE);"
		" INSERT INTO t VALUES(2, 'b')");
	snprintf(uri, sizeof(uri), "file:%s?immutable=1", path);
	assert_int_equal(sqlite3_open_v2(uri, &ro,
					 SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
					 NULL),
			 SQLITE_OK);
	begin_read(ro);
	assert_null(gpu_pages_open(ro, "t", &why));
	assert_string_equal(why, "an immutable file beside a WAL");
	exec(ro, "COMMIT");
	exec(w, "PRAGMA wal_checkpoint(TRUNCATE)");
	begin_read(ro);
	pg = gpu_pages_open(ro, "t", &why);
	assert_non_null(pg);
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_int_equal(gpu_pages_next(pg, v), 1);
	assert_true(v[0].i == 2);
	assert_int_equal(gpu_pages_next(pg, v), 0);
	gpu_pages_close(pg);
	exec(ro, "COMMIT");
	sqlite3_close(ro);
	sqlite3_close(w);
	remove_db();
}

/* Every cut of a record, and of its header, is refused, never overread. */
static void
test_record_bounds(void **state)
{
	/* header 5: types 1 (int8), 7 (real), 19 (text of 3), 0; body */
	static const unsigned char rec[] = {5, 1, 7, 19, 0, 0xfb, 0x3f, 0xf8, 0,
					    0, 0, 0, 0,	 0, 'a',  'b',	'c'};
	struct gpu_pval v[8];
	unsigned char *cut;
	size_t n;

	(void)state;
	assert_int_equal(gpu_pages_record(rec, sizeof(rec), v, 8), 4);
	assert_true(v[0].type == GPU_PV_INT && v[0].i == -5);
	assert_true(v[1].type == GPU_PV_REAL && v[1].d == 1.5);
	assert_true(v[2].type == GPU_PV_TEXT && v[2].n == 3);
	assert_true(v[3].type == GPU_PV_NULL && v[4].type == GPU_PV_NULL);
	/* More fields than the caller takes. */
	assert_int_equal(gpu_pages_record(rec, sizeof(rec), v, 3), -1);
	for (n = 0; n < sizeof(rec); n++) {
		/* A copy of exactly n bytes: ASan sees any read past it. */
		cut = malloc(n > 0 ? n : 1);
		memcpy(cut, rec, n);
		assert_int_equal(gpu_pages_record(cut, n, v, 8), -1);
		free(cut);
	}
	/* Reserved serial types 10 and 11. */
	assert_int_equal(
	    gpu_pages_record((const unsigned char *)"\2\12", 2, v, 8), -1);
	/* A header size beyond the record. */
	assert_int_equal(
	    gpu_pages_record((const unsigned char *)"\x81\x00\1", 3, v, 8), -1);
}

/* Rows a rollup read hands out, kept in order. */
struct rows {
	struct gpu_hrow r[64];
	size_t n;
};

static int
keep(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	struct rows *v = ctx;

	(void)err;
	assert_true(v->n < 64);
	v->r[v->n++] = *r;
	return 0;
}

/* gpu_hrow_read() of t over two days into v, as pages says. */
static void
read_rollup(sqlite3 *db, enum gpu_rollup t, bool pages, struct rows *v)
{
	struct gpu_err err = {0};

	v->n = 0;
	memset(v->r, 0, sizeof(v->r));
	if (!pages)
		setenv("GPUUSAGE_PAGES", "0", 1);
	assert_int_equal(gpu_hrow_read(db, t, INT64_C(1795824000000),
				       INT64_C(1795996800000), keep, v, &err),
			 0);
	unsetenv("GPUUSAGE_PAGES");
}

/*
 * The rollup reads (gpu_hrow_read()) from the pages hand out the rows and
 * sums that their statements do; a read inside a write transaction never
 * reads pages (its changes are not in the file yet), and a value of
 * another type than its column's leaves the rest to the statement.
 */
static void
test_rollup_reads(void **state)
{
	static const enum gpu_rollup ts[] = {GPU_ROLLUP_HOURLY,
					     GPU_ROLLUP_DAILY, GPU_ROLLUP_NODE,
					     GPU_ROLLUP_OWNER};
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	struct rows a, b;
	sqlite3 *db = NULL;
	unsigned long before;
	size_t i, hours;

	(void)state;
	remove_db();
	assert_int_equal(gpu_db_open(path, &o, &db, &err), 0);
	wh_exec(db,
		"INSERT INTO nodes_dim(node_id, node) VALUES(1, 'n1'),"
		" (2, 'n2');"
		"INSERT INTO jobs_dim(job_key, job_id, user, project)"
		" VALUES(1, 'j1', 'ann', 'p1');"
		"INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu, util_pct,"
		" mem_used_mib, mem_total_mib, job_key, interval_s,"
		" ingest_id, power_w) VALUES"
		" (1795906800000, 1, 0, 50.5, 20000, 40000, 1, 60, 1, 250.25),"
		" (1795906800000, 2, 0, 3, 10, 40000, NULL, 60, 1, 80),"
		" (1795910400000, 1, 1, 80, 100, NULL, 1, 60, 1, NULL),"
		" (1795914000000, 2, 0, 10.125, 10, 40000, NULL, 60, 1, 99.5);"
		"INSERT INTO dirty_hours SELECT DISTINCT"
		" ts_ms / 3600000 * 3600000 FROM gpu_usage_fact;");
	assert_int_equal(gpu_db_begin(db, path, &err), 0);
	assert_int_equal(gpu_rollup_update(db, &hours, &err), 0);
	/* In the write transaction: its rows, never from the file. */
	before = gpu_pages_opened();
	read_rollup(db, GPU_ROLLUP_HOURLY, true, &a);
	assert_int_equal(a.n, 4);
	assert_int_equal(gpu_pages_opened(), before);
	assert_int_equal(gpu_db_commit(db, &err), 0);
	wh_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		before = gpu_pages_opened();
		read_rollup(db, ts[i], true, &a);
		assert_int_equal(gpu_pages_opened(), before + 1);
		read_rollup(db, ts[i], false, &b);
		assert_int_equal(gpu_pages_opened(), before + 1);
		assert_true(a.n > 0);
		assert_int_equal(a.n, b.n);
		assert_memory_equal(a.r, b.r, a.n * sizeof(a.r[0]));
	}
	/* A sum stored as text: the statement goes on after the rows given. */
	wh_exec(db, "UPDATE usage_hourly_node SET busy = 'x'"
		    " WHERE hour_ms = 1795910400000;"
		    " PRAGMA wal_checkpoint(TRUNCATE)");
	read_rollup(db, GPU_ROLLUP_NODE, true, &a);
	read_rollup(db, GPU_ROLLUP_NODE, false, &b);
	assert_int_equal(a.n, 4);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.r, b.r, a.n * sizeof(a.r[0]));
	assert_true(a.r[2].s.busy == 0.0);
	assert_int_equal(gpu_db_close(db, &err), 0);
	remove_db();
}

/* What gpu_pages_next_nums() puts in a row of test_nums()' table. */
struct nums {
	int64_t k, a, c, d;
	double b, e;
};

/*
 * gpu_pages_next_nums() against gpu_pages_next() and the conversions of
 * gpu_pval_int64() and gpu_pval_double(): integers of every width, the
 * constants 0 and 1, REALs in an integer column (truncated, clamped),
 * integers in a REAL one, NULLs, a column added later; many rows, so
 * that records end at the end of their page (the loads past a record's
 * last field stay in the page's buffer: ASan); what it refuses.
 */
static void
test_nums(void **state)
{
	static const struct gpu_pnum map[] = {
	    {offsetof(struct nums, k), GPU_PN_KEY},
	    {offsetof(struct nums, a), GPU_PN_INT},
	    {offsetof(struct nums, b), GPU_PN_REAL},
	    {0, GPU_PN_SKIP},
	    {offsetof(struct nums, d), GPU_PN_INT},
	    {offsetof(struct nums, e), GPU_PN_REAL}};
	static const char *const vals[] = {
	    "0",	 "1",	 "-1",	      "127",	    "-128",
	    "128",	 "32767", "-32768",   "8388607",    "-8388608",
	    "2147483647", "-2147483648", "140737488355327", "-140737488355328",
	    "9223372036854775807", "-9223372036854775808", "NULL", "2.75",
	    "-2.75",	 "1e300", "-1e300",   "0.5",	    "1e15"};
	size_t nv = sizeof(vals) / sizeof(vals[0]);
	sqlite3 *db;
	struct gpu_pages *pg, *pv;
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];
	char sql[512];
	long n = 0;
	int rc;

	(void)state;
	remove_db();
	db = open_db("delete");
	exec(db, "CREATE TABLE t(k INTEGER NOT NULL, a INTEGER, b REAL,"
		 " s TEXT, d INTEGER, PRIMARY KEY(k)) WITHOUT ROWID");
	exec(db, "BEGIN");
	for (size_t i = 0; i < nv * nv; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO t VALUES(%zu, %s, %s, %s, %s)", i,
			 vals[i % nv], vals[i / nv], i % 3 ? "NULL" : "1.5",
			 vals[(i * 7) % nv]);
		exec(db, sql);
	}
	exec(db, "COMMIT; ALTER TABLE t ADD COLUMN e REAL;"
		 " INSERT INTO t VALUES(-5, 1, 2, 3, 4, 5.5)");
	begin_read(db);
	pg = gpu_pages_open(db, "t", NULL);
	pv = gpu_pages_open(db, "t", NULL);
	assert_non_null(pg);
	assert_non_null(pv);
	assert_int_equal(gpu_pages_nfields(pg), 6);
	assert_int_equal(gpu_pages_seek(pg, INT64_MIN), 0);
	assert_int_equal(gpu_pages_seek(pv, INT64_MIN), 0);
	for (;;) {
		struct nums x, want;

		memset(&x, 0x5a, sizeof(x));
		rc = gpu_pages_next_nums(pg, map, &x);
		assert_int_equal(rc, gpu_pages_next(pv, v));
		if (rc != 1)
			break;
		want.c = x.c; /* s: passed over, c untouched */
		assert_int_equal(v[0].type, GPU_PV_INT);
		want.k = v[0].i;
		assert_int_equal(gpu_pval_int64(&v[1], &want.a), 0);
		assert_int_equal(gpu_pval_double(&v[2], &want.b), 0);
		assert_int_equal(gpu_pval_int64(&v[4], &want.d), 0);
		assert_int_equal(gpu_pval_double(&v[5], &want.e), 0);
		assert_memory_equal(&x, &want, sizeof(x));
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, (long)(nv * nv + 1));
	gpu_pages_close(pg);
	gpu_pages_close(pv);
	exec(db, "COMMIT");

	/* Text where map wants a number, a key that is NULL or REAL. */
	{
		static const char *const bad[] = {
		    "INSERT INTO t VALUES(1e6, 'x', 1, 1, 1, 1)",
		    "UPDATE t SET a = 'x' WHERE k = 3",
		    "UPDATE t SET e = x'00' WHERE k = 3",
		    "UPDATE t SET k = 3.5 WHERE k = 3",
		    /* a type of two bytes: more bytes of types than fields */
		    "UPDATE t SET s = printf('%.100c', 'x') WHERE k = 3"};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct nums x;

			exec(db, "DELETE FROM t WHERE k >= 1e6 OR k = 3.5;"
				 " INSERT OR REPLACE INTO t"
				 " VALUES(3, 1, 2, 3, 4, 5)");
			exec(db, bad[i]);
			begin_read(db);
			pg = gpu_pages_open(db, "t", NULL);
			assert_non_null(pg);
			assert_int_equal(gpu_pages_seek(pg, INT64_MIN), 0);
			while ((rc = gpu_pages_next_nums(pg, map, &x)) == 1)
				;
			assert_int_equal(rc, -1);
			gpu_pages_close(pg);
			exec(db, "COMMIT");
		}
	}
	sqlite3_close(db);
	remove_db();
}

/* Values as sqlite3_value_int64() and _double() give them. */
static void
test_pval_conversions(void **state)
{
	struct gpu_pval x = {GPU_PV_REAL, 0, -2.75, NULL, 0};
	int64_t i;
	double d;

	(void)state;
	assert_int_equal(gpu_pval_int64(&x, &i), 0);
	assert_true(i == -2);
	x.d = 1e300;
	assert_int_equal(gpu_pval_int64(&x, &i), 0);
	assert_true(i == INT64_MAX);
	x.d = -1e300;
	assert_int_equal(gpu_pval_int64(&x, &i), 0);
	assert_true(i == INT64_MIN);
	/* No valid record holds a NaN; a damaged one reads as 0. */
	x.d = NAN;
	assert_int_equal(gpu_pval_int64(&x, &i), 0);
	assert_true(i == 0);
	x.type = GPU_PV_INT;
	x.i = 7;
	assert_int_equal(gpu_pval_double(&x, &d), 0);
	assert_true(d == 7.0);
	x.type = GPU_PV_NULL;
	assert_int_equal(gpu_pval_int64(&x, &i), 0);
	assert_true(i == 0);
	assert_int_equal(gpu_pval_double(&x, &d), 0);
	assert_true(d == 0.0);
	x.type = GPU_PV_TEXT;
	assert_int_equal(gpu_pval_int64(&x, &i), -1);
	assert_int_equal(gpu_pval_double(&x, &d), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_type),
	    cmocka_unit_test(test_tree),
	    cmocka_unit_test(test_interleaved),
	    cmocka_unit_test(test_read_runs),
	    cmocka_unit_test(test_seek_key),
	    cmocka_unit_test(test_added_columns),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_rowid),
	    cmocka_unit_test(test_immutable),
	    cmocka_unit_test(test_record_bounds),
	    cmocka_unit_test(test_pval_conversions),
	    cmocka_unit_test(test_nums),
	    cmocka_unit_test(test_rollup_reads),
	};
	wh_tmp_path(path, sizeof(path), "test_pages");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
