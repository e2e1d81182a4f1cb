/* SPDX-License-Identifier: MIT */
/* Unit tests for packed samples (gpu/pack.h). */
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

#include "gpu/buf.h"
#include "gpu/db.h"
#include "gpu/pack.h"
#include "gpu/retention.h"

#include "warehouse-fixture.h"

#define H INT64_C(3600000)
/* 2026-11-01T00:00:00Z */
#define DAY0 INT64_C(1793491200000)

static void
test_decimal(void **state)
{
	static const struct {
		double x;
		int e;
		bool ok;
		int64_t v;
	} cases[] = {
	    {87.3, 1, true, 873},     {87.3, 0, false, 0},
	    {87.3, 2, true, 8730},    {0.29, 2, true, 29},
	    {0.29, 1, false, 0},      {302.206, 3, true, 302206},
	    {302.206, 2, false, 0},   {100, 0, true, 100},
	    {-12.5, 1, true, -125},   {0, 0, true, 0},
	    {0.0625, 3, false, 0},    {-0.0, 0, false, 0},
	    {1e13, 0, false, 0},      {1.0 / 3, 3, false, 0},
	    {1e12, 3, true, INT64_C(1000000000000000)},
	    {5, 4, false, 0},	      {5, -1, false, 0},
	};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -7;
		assert_int_equal(gpu_pack_decimal(cases[i].x, cases[i].e, &v),
				 cases[i].ok);
		if (cases[i].ok)
			assert_int_equal(v, cases[i].v);
	}
	assert_false(gpu_pack_decimal(NAN, 0, &v));
	assert_false(gpu_pack_decimal(INFINITY, 3, &v));
}

static void
test_column(void **state)
{
	int64_t v[4] = {5, 5, 5, 5}, t[4] = {100, 300100, 600100, 900100};
	bool no[4] = {false, false, false, false}, some[4] = {false, true,
							     false, true};
	bool all[4] = {true, true, true, true};
	struct gpu_pack_col c;
	struct gpu_buf d;

	(void)state;
	gpu_buf_init(&d);
	/* A constant: its base, no digits. */
	assert_true(gpu_pack_column(v, no, 4, false, &c, &d));
	assert_int_equal(c.base, 5);
	assert_int_equal(d.len, 0);
	assert_false(c.nulls || c.allnull);
	/* Regular times: a slope, no digits. */
	assert_true(gpu_pack_column(t, no, 4, true, &c, &d));
	assert_int_equal(c.base, 100);
	assert_int_equal(c.slope, 300000);
	assert_int_equal(d.len, 0);
	/* One late sample: residuals of 3 digits each, a byte 1 + digit. */
	t[2] += 20000;
	assert_true(gpu_pack_column(t, no, 4, true, &c, &d));
	assert_int_equal(c.slope, 300000);
	assert_int_equal(c.base, 100);
	assert_int_equal(d.len, 12);
	assert_int_equal((d.data[6] - 1) + (d.data[7] - 1) * 127 +
			     (d.data[8] - 1) * 127 * 127,
			 20000);
	assert_int_equal(d.data[0], 1);
	/* NULL in part: 0 is NULL, the values from 1; in all: no base. */
	v[0] = 10;
	v[2] = 137;
	assert_true(gpu_pack_column(v, some, 4, false, &c, &d));
	assert_true(c.nulls);
	assert_int_equal(c.base, 10);
	assert_int_equal(d.len, 4 * 2);
	assert_int_equal(d.data[0], 1 + 1);
	assert_int_equal(d.data[2], 1 + 0);
	assert_int_equal((d.data[4] - 1) + (d.data[5] - 1) * 127, 128);
	assert_int_equal(d.data[6], 1 + 0);
	assert_true(gpu_pack_column(v, all, 4, false, &c, &d));
	assert_true(c.allnull);
	/* Every byte is 1 to 127 (text SQL reads, no NUL). */
	v[0] = 0;
	v[1] = INT64_C(127) * 127 * 127 * 127 - 1;
	v[2] = 12345678;
	v[3] = 3;
	assert_true(gpu_pack_column(v, no, 4, false, &c, &d));
	assert_int_equal(d.len, 16);
	for (size_t i = 0; i < d.len; i++)
		assert_true(d.data[i] >= 1 && d.data[i] <= 127);
	/* A range of 127^4 or more, or one that overflows, is refused. */
	v[1] = INT64_C(127) * 127 * 127 * 127;
	assert_false(gpu_pack_column(v, no, 4, false, &c, &d));
	v[0] = INT64_MIN;
	v[1] = INT64_MAX;
	assert_false(gpu_pack_column(v, no, 4, false, &c, &d));
	gpu_buf_release(&d);
}

/* Random samples: 3 GPUs, 3 hours, columns NULL in none, part or all. */
static void
fill(sqlite3 *db, unsigned seed)
{
	sqlite3_stmt *st;
	double frac[] = {0, 0.5, 0.3, 0.01, 0.99, 0.125, 0.0625};

	srand(seed);
	assert_int_equal(
	    sqlite3_prepare_v2(
		db,
		"INSERT INTO gpu_usage_fact_rows(ts_ms, node_id, gpu, mig,"
		" util_pct, mem_used_mib, mem_total_mib, job_key, user_key,"
		" project_key, model_key, interval_s, ingest_id, power_w,"
		" temp_c, job_src, profile_key, share28) VALUES(?, ?, ?, ?,"
		" ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		-1, &st, NULL),
	    SQLITE_OK);
	for (int g = 0; g < 3; g++) {
		for (int64_t h = 0; h < 3; h++) {
			int mode[18];

			/* Per GPU-hour: each nullable column's pattern. */
			for (int c = 0; c < 18; c++)
				mode[c] = rand() % 3;
			for (int64_t t = DAY0 + h * H + rand() % 1000; t < DAY0 + (h + 1) * H;
			     t += 1000 + rand() % (g == 2 ? 600000 : 60000)) {
				sqlite3_bind_int64(st, 1, t);
				sqlite3_bind_int(st, 2, 1 + g % 2);
				sqlite3_bind_int(st, 3, g);
				sqlite3_bind_text(st, 4, g == 1 ? "3" : "", -1,
						  SQLITE_STATIC);
				/*
				 * Whole numbers on GPU 2 in hour 0, 3 decimals
				 * on GPU 1; 4 on GPU 0 in hour 1: kept.
				 */
				sqlite3_bind_double(
				    st, 5,
				    rand() % 100 +
					(g == 2 && h == 0 ? 0 : frac[rand() % (h == 1 && g == 0 ? 7 : g == 1 ? 6 : 5)]));
				sqlite3_bind_int64(st, 6, rand() % 80000);
				sqlite3_bind_int64(st, 12, 60);
				sqlite3_bind_int64(st, 13, 1 + rand() % 3);
				for (int c = 7; c <= 18; c++) {
					if (c == 12 || c == 13)
						continue;
					if (mode[c - 1] == 1 ||
					    (mode[c - 1] == 2 && rand() % 2))
						sqlite3_bind_null(st, c);
					else if (c == 14 || c == 15)
						sqlite3_bind_double(
						    st, c,
						    rand() % 500 + frac[rand() % 5]);
					else
						/*
						 * Jobs 2^30 apart on GPU 1 in
						 * hour 1: kept; 10^8 on GPU 0
						 * in hour 0: 4 digits.
						 */
						sqlite3_bind_int64(
						    st, c,
						    c == 8 ? (int64_t)(rand() % 1000000) *
								 (h == 1 && g == 1 ? 1000
								  : h == 0 && g == 0 ? 100
										     : 1)
							   : rand() % 9);
				}
				assert_int_equal(sqlite3_step(st), SQLITE_DONE);
				sqlite3_reset(st);
			}
		}
	}
	sqlite3_finalize(st);
}

/* The view's rows, every value kept. */
struct snap {
	sqlite3_value **v;
	size_t n;
};

static void same(const struct snap *a, const struct snap *b);
static void release(struct snap *s);

/* The rows of sql, its ?1 and ?2 bound to lo and hi when it has them. */
static void
take_sql(sqlite3 *db, const char *sql, int64_t lo, int64_t hi,
	 struct snap *s)
{
	sqlite3_stmt *st;

	s->v = NULL;
	s->n = 0;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_bind_parameter_count(st) == 2) {
		sqlite3_bind_int64(st, 1, lo);
		sqlite3_bind_int64(st, 2, hi);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		int nc = sqlite3_column_count(st);

		s->v = realloc(s->v, (s->n + (size_t)nc) * sizeof(*s->v));
		assert_non_null(s->v);
		for (int c = 0; c < nc; c++)
			s->v[s->n++] = sqlite3_value_dup(sqlite3_column_value(st, c));
	}
	sqlite3_finalize(st);
}

static void
take(sqlite3 *db, struct snap *s)
{
	take_sql(db,
		 "SELECT * FROM gpu_usage_fact ORDER BY ts_ms, node_id, gpu,"
		 " mig",
		 0, 0, s);
}

/*
 * gpu_pack_facts_sql()'s union, read through the virtual table, against
 * the view over [lo, hi).
 */
static void
same_range(sqlite3 *db, int64_t lo, int64_t hi)
{
	struct gpu_err err = {0};
	bool packed;
	struct gpu_buf b;
	struct snap x, y;

	gpu_buf_init(&b);
	assert_int_equal(gpu_pack_facts_sql(db, lo, hi,
					    "SELECT * FROM gpu_usage_fact_rows"
					    " ORDER BY ts_ms, node_id, gpu, mig",
					    &b, &packed, &err),
			 0);
	assert_true(packed);
	take_sql(db, b.data, lo, hi, &x);
	take_sql(db,
		 "SELECT ts_ms, node_id, gpu, mig, util_pct, mem_used_mib,"
		 " mem_total_mib, job_key, user_key, project_key, model_key,"
		 " interval_s, ingest_id, power_w, temp_c, job_src,"
		 " profile_key, share28 FROM gpu_usage_fact WHERE ts_ms >= ?1"
		 " AND ts_ms < ?2 ORDER BY ts_ms, node_id, gpu, mig",
		 lo, hi, &y);
	assert_true(x.n > 0);
	same(&x, &y);
	release(&x);
	release(&y);
	gpu_buf_release(&b);
}

static void
same(const struct snap *a, const struct snap *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		int t = sqlite3_value_type(a->v[i]);

		assert_int_equal(t, sqlite3_value_type(b->v[i]));
		if (t == SQLITE_INTEGER)
			assert_int_equal(sqlite3_value_int64(a->v[i]),
					 sqlite3_value_int64(b->v[i]));
		else if (t == SQLITE_FLOAT) {
			double x = sqlite3_value_double(a->v[i]);
			double y = sqlite3_value_double(b->v[i]);

			assert_memory_equal(&x, &y, sizeof(x));
		} else if (t == SQLITE_TEXT)
			assert_string_equal(sqlite3_value_text(a->v[i]),
					    sqlite3_value_text(b->v[i]));
	}
}

static void
release(struct snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		sqlite3_value_free(s->v[i]);
	free(s->v);
}

/* The samples of [DAY0 + 30 min, DAY0 + 90 min): part of two hours. */
#define RANGE_SQL                                                              \
	"SELECT count(*) FROM gpu_usage_fact WHERE ts_ms >= 1793493000000"     \
	" AND ts_ms < 1793496600000"

/* Whatever is packed, the view reads back what was stored, bit for bit. */
static void
test_round_trip(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 20; seed++) {
		struct gpu_err err = {0};
		struct gpu_pack out;
		struct snap a, b;
		sqlite3 *db;
		int64_t rows, horizon, in_range;

		assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
		assert_int_equal(
		    gpu_db_create_version(db, GPU_DB_VERSION, &err), 0);
		fill(db, seed);
		rows = wh_count(db, "SELECT count(*) FROM gpu_usage_fact_rows");
		take(db, &a);
		in_range = wh_count(db, RANGE_SQL);
		assert_int_equal(gpu_pack_apply(db, DAY0 + 2 * H, 0, DAY0,
						&out, &err),
				 0);
		/* Hours 0 and 1 read, two GPU-hours of them kept as rows. */
		assert_int_equal(out.hours, 2);
		assert_true(out.packed > 0);
		assert_true(out.kept > 0);
		assert_int_equal(out.kept,
				 wh_count(db, "SELECT count(*) FROM"
					      " gpu_usage_fact_rows"
					      " WHERE ts_ms < 1793498400000"));
		assert_int_equal(wh_count(db, "SELECT count(*) FROM"
					      " gpu_usage_fact_rows") +
				     out.packed,
				 rows);
		assert_int_equal(out.packed, wh_count(db, "SELECT sum(n) FROM"
							  " gpu_usage_fact_packed"));
		/* Utilization whole, and in hundredths or thousandths. */
		assert_int_equal(wh_count(db, "SELECT count(*) FROM"
					      " gpu_usage_fact_packed"
					      " WHERE scale & 3 = 0"),
				 1);
		assert_true(wh_count(db, "SELECT count(DISTINCT scale & 3)"
					 " FROM gpu_usage_fact_packed") >= 2);
		take(db, &b);
		same(&a, &b);
		release(&b);
		assert_int_equal(wh_count(db, RANGE_SQL), in_range);
		assert_int_equal(gpu_pack_register(db), 0);
		same_range(db, DAY0 + H / 2, DAY0 + 5 * H / 2);
		same_range(db, INT64_MIN, INT64_MAX);
		same_range(db, DAY0 + H + 1, DAY0 + H + 600000);
		assert_int_equal(gpu_pack_horizon(db, &horizon, &err), 0);
		assert_int_equal(horizon, DAY0 + 2 * H);
		assert_int_equal(gpu_retention_horizon(db, &horizon, &err), 0);
		assert_int_equal(horizon, DAY0 + 2 * H);
		assert_int_equal(gpu_retention_deleted(db, &horizon, &err), 0);
		assert_int_equal(horizon, GPU_RETENTION_NONE);
		release(&a);
		sqlite3_close(db);
	}
}

/* A corrupt block fails the read, named; it is no crash. */
static void
test_corrupt(void **state)
{
	static const char *const bad[] = {
	    "UPDATE gpu_usage_fact_packed SET used_d = zeroblob(n * 2)",
	    "UPDATE gpu_usage_fact_packed SET used_d = x'01'",
	    "UPDATE gpu_usage_fact_packed SET n = 0",
	    "UPDATE gpu_usage_fact_packed SET used_d = zeroblob(n * 5)",
	};
	struct gpu_err err = {0};
	struct gpu_pack out;
	struct gpu_buf b;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sqlite3_stmt *st;
		sqlite3 *db;
		bool packed;

		assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
		assert_int_equal(
		    gpu_db_create_version(db, GPU_DB_VERSION, &err), 0);
		assert_int_equal(gpu_pack_register(db), 0);
		fill(db, 3);
		assert_int_equal(
		    gpu_pack_apply(db, DAY0 + H, 0, DAY0, &out, &err), 0);
		wh_exec(db, bad[i]);
		gpu_buf_init(&b);
		assert_int_equal(
		    gpu_pack_facts_sql(db, DAY0, DAY0 + H,
				       "SELECT count(*) FROM gpu_usage_fact_rows",
				       &b, &packed, &err),
		    0);
		assert_int_equal(sqlite3_prepare_v2(db, b.data, -1, &st, NULL),
				 SQLITE_OK);
		gpu_buf_release(&b);
		sqlite3_bind_int64(st, 1, DAY0);
		sqlite3_bind_int64(st, 2, DAY0 + H);
		assert_int_equal(sqlite3_step(st), SQLITE_CORRUPT);
		assert_non_null(strstr(sqlite3_errmsg(db), "is corrupt"));
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

/* 1 when the view reads gpu_usage_fact_packed. */
#define READS_PACKED                                                           \
	"SELECT instr(sql, 'gpu_usage_fact_packed') > 0 FROM sqlite_schema"    \
	" WHERE name = 'gpu_usage_fact'"

/* The widths (digits a residual) that the packed columns hold, a bit each. */
static unsigned
widths(sqlite3 *db)
{
	static const char *const pre[] = {
	    "ts",    "util",     "used",   "total", "job",  "user",
	    "project", "model",  "interval", "ingest", "power", "temp",
	    "src",   "profile",  "share"};
	unsigned bits = 0;
	char sql[160];

	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		for (int w = 1; w <= 4; w++) {
			snprintf(sql, sizeof(sql),
				 "SELECT count(*) FROM gpu_usage_fact_packed"
				 " WHERE length(%s_d) / n = %d",
				 pre[i], w);
			if (wh_count(db, sql) > 0)
				bits |= 1u << w;
		}
	return bits;
}

/*
 * Schema 12 makes the view again with a shorter decoding: a warehouse of
 * schema 11 with packed samples of every residual width reads the same
 * rows, bit for bit, once migrated, and its view is parsed from under
 * three quarters of the text.
 */
static void
test_view_migrated(void **state)
{
	static const struct gpu_db_opts rw = {.lock_timeout_ms = 1000};
	const char *path = "test_pack_view.db";
	unsigned seen = 0;

	(void)state;
	for (unsigned seed = 1; seed <= 6; seed++) {
		struct gpu_err err = {0};
		struct gpu_pack out;
		struct snap a, b;
		sqlite3 *db = NULL;
		int64_t before;

		unlink(path);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(gpu_db_create_version(db, 11, &err), 0);
		fill(db, seed);
		assert_int_equal(gpu_pack_apply(db, DAY0 + 2 * H, 0, DAY0,
						&out, &err),
				 0);
		assert_true(out.packed > 0);
		seen |= widths(db);
		take(db, &a);
		before = wh_count(db, "SELECT length(sql) FROM sqlite_schema"
				      " WHERE name = 'gpu_usage_fact'");
		assert_int_equal(sqlite3_close(db), SQLITE_OK);
		db = NULL;
		assert_int_equal(gpu_db_open(path, &rw, &db, &err), 0);
		assert_int_equal(gpu_db_version(db), GPU_DB_VERSION);
		take(db, &b);
		same(&a, &b);
		assert_true(4 * wh_count(db, "SELECT length(sql) FROM"
					     " sqlite_schema WHERE name ="
					     " 'gpu_usage_fact'") <
			    3 * before);
		/* Samples are packed: the view still reads them. */
		assert_int_equal(wh_count(db, READS_PACKED), 1);
		/* The triggers came back with the view. */
		assert_int_equal(wh_count(db, "SELECT count(*) FROM"
					      " sqlite_schema WHERE type ="
					      " 'trigger' AND tbl_name ="
					      " 'gpu_usage_fact'"),
				 3);
		release(&a);
		release(&b);
		sqlite3_close(db);
	}
	unlink(path);
	/* Every width of a residual was read both ways. */
	assert_int_equal(seen, 0x1eu);
}

/* The view's rows against a (released), and db closed. */
static void
close_same(sqlite3 *db, struct snap *a)
{
	struct snap b;

	take(db, &b);
	same(a, &b);
	release(a);
	release(&b);
	sqlite3_close(db);
}

/* The text of the view and its triggers, by name, in b (NUL-separated). */
static void
view_text(sqlite3 *db, struct gpu_buf *b)
{
	sqlite3_stmt *st;

	gpu_buf_init(b);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT sql FROM sqlite_schema"
					    " WHERE tbl_name = 'gpu_usage_fact'"
					    " ORDER BY name",
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		gpu_buf_adds(b, (const char *)sqlite3_column_text(st, 0));
		gpu_buf_add(b, "", 1);
	}
	sqlite3_finalize(st);
}

/*
 * Schema 13: while no sample is packed, the view reads the stored rows
 * alone (its text a sixth as long, with triggers that look at no packed
 * sample) and passes writes on; the first packing pass makes it schema
 * 12's again, text for text; a dry run (rolled back) leaves it; schema
 * 12 without packed samples migrates to the short view, rows the same.
 */
static void
test_view_forms(void **state)
{
	static const struct gpu_db_opts rw = {.lock_timeout_ms = 1000};
	const char *path = "test_pack_forms.db";
	struct gpu_err err = {0};
	struct gpu_pack out;
	struct gpu_buf v12, now;
	struct snap a;
	sqlite3 *db, *old;
	int64_t len;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &old), SQLITE_OK);
	assert_int_equal(gpu_db_create_version(old, 12, &err), 0);
	view_text(old, &v12);
	len = wh_count(old, "SELECT length(sql) FROM sqlite_schema"
			    " WHERE name = 'gpu_usage_fact'");
	sqlite3_close(old);

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(gpu_db_create_version(db, GPU_DB_VERSION, &err), 0);
	assert_int_equal(wh_count(db, READS_PACKED), 0);
	assert_true(6 * wh_count(db, "SELECT length(sql) FROM sqlite_schema"
				     " WHERE name = 'gpu_usage_fact'") <
		    len);
	assert_int_equal(wh_count(db, "SELECT count(*) FROM sqlite_schema"
				      " WHERE type = 'trigger' AND"
				      " tbl_name = 'gpu_usage_fact'"),
			 3);
	/* Writes pass through; a derived column is refused. */
	wh_exec(db, "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu,"
		    " util_pct, mem_used_mib, interval_s, ingest_id)"
		    " VALUES(1793491200000, 1, 0, 50, 10, 60, 1)");
	wh_exec(db, "UPDATE gpu_usage_fact SET util_pct = 3");
	assert_int_equal(wh_count(db, "SELECT count(*) FROM gpu_usage_fact"
				      " WHERE mig = '' AND usage_category ="
				      " 'idle'"),
			 1);
	assert_int_not_equal(sqlite3_exec(db,
					  "UPDATE gpu_usage_fact SET"
					  " usage_category = 'high'",
					  NULL, NULL, NULL),
			     SQLITE_OK);
	wh_exec(db, "DELETE FROM gpu_usage_fact");
	assert_int_equal(wh_count(db, "SELECT count(*) FROM"
				      " gpu_usage_fact_rows"),
			 0);

	fill(db, 4);
	take(db, &a);
	/* A pass rolled back leaves the view. */
	wh_exec(db, "SAVEPOINT dry");
	assert_int_equal(
	    gpu_pack_apply(db, DAY0 + 2 * H, 0, DAY0, &out, &err), 0);
	assert_true(out.packed > 0);
	assert_int_equal(wh_count(db, READS_PACKED), 1);
	wh_exec(db, "ROLLBACK TO dry; RELEASE dry");
	assert_int_equal(wh_count(db, READS_PACKED), 0);
	assert_int_equal(
	    gpu_pack_apply(db, DAY0 + 2 * H, 0, DAY0, &out, &err), 0);
	assert_true(out.packed > 0);
	view_text(db, &now);
	assert_int_equal(now.len, v12.len);
	assert_memory_equal(now.data, v12.data, v12.len);
	gpu_buf_release(&now);
	close_same(db, &a);

	/* Schema 12, nothing packed: migrated to the short view. */
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(gpu_db_create_version(db, 12, &err), 0);
	fill(db, 5);
	take(db, &a);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	db = NULL;
	assert_int_equal(gpu_db_open(path, &rw, &db, &err), 0);
	assert_int_equal(gpu_db_version(db), GPU_DB_VERSION);
	assert_int_equal(wh_count(db, READS_PACKED), 0);
	close_same(db, &a);
	unlink(path);
	gpu_buf_release(&v12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decimal),
	    cmocka_unit_test(test_column),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_corrupt),
	    cmocka_unit_test(test_view_migrated),
	    cmocka_unit_test(test_view_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
