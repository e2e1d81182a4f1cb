/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the rollup rows built as new facts load (gpu/prebuild.h):
 * whatever a load does, the rollups it leaves equal a rebuild from the
 * facts, and the hours it could build it did build.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/buf.h"
#include "gpu/db.h"
#include "gpu/ingest.h"
#include "gpu/prebuild.h"
#include "gpu/rollup.h"

#include "warehouse-fixture.h"

/* 2026-11-28T16:00:00Z */
#define T INT64_C(1795881600000)
#define MIN INT64_C(60000)
#define HOUR INT64_C(3600000)

static struct gpu_str
str(const char *s)
{
	struct gpu_str v = {s, strlen(s)};

	return v;
}

static struct gpu_sample
sample(int64_t ts, const char *node, int gpu, double util, const char *job)
{
	struct gpu_sample s;

	memset(&s, 0, sizeof(s));
	s.ts_ms = ts;
	s.node = str(node);
	s.gpu = gpu;
	s.util_pct = util;
	s.mem_used_mib = 17000 + (int64_t)util * 10;
	s.mem_total_mib = 81920;
	s.has_mem_total = true;
	s.job_id = str(job);
	s.model = str("NVIDIA H100");
	s.power_w = 100.25 + util / 3.0;
	s.has_power = true;
	return s;
}

/* Every row of the five rollups, as text with the doubles' exact bits. */
static void
dump(sqlite3 *db, struct gpu_buf *b)
{
	static const char *const tables[] = {
	    "usage_hourly", "usage_daily", "usage_hourly_node",
	    "usage_hourly_owner", "usage_daily_job"};
	char sql[128];

	gpu_buf_init(b);
	for (size_t t = 0; t < sizeof(tables) / sizeof(*tables); t++) {
		sqlite3_stmt *st;

		snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1, 2, 3",
			 tables[t]);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
				 SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				char cell[64];

				if (sqlite3_column_type(st, c) == SQLITE_FLOAT)
					snprintf(cell, sizeof(cell), "%a|",
						 sqlite3_column_double(st, c));
				else
					snprintf(cell, sizeof(cell), "%s|",
						 sqlite3_column_type(st, c) ==
							 SQLITE_NULL
						     ? "-"
						     : (const char *)
							   sqlite3_column_text(
							       st, c));
				gpu_buf_adds(b, cell);
			}
			gpu_buf_addc(b, '\n');
		}
		sqlite3_finalize(st);
	}
}

/*
 * Load the samples and job records as one run, as gpuingest does (jobs
 * first unless jobs_last); count the hours it built into *built.
 */
static void
load_days(sqlite3 *db, const struct gpu_sample *s, int n,
	  const struct gpu_job *j, int nj, bool jobs_last, int *built,
	  int *kept)
{
	struct gpu_ingest_opts o = {60};
	struct gpu_err err;
	struct gpu_ingest *ing;
	sqlite3_stmt *st;

	assert_int_equal(gpu_db_begin(db, "t", &err), 0);
	ing = gpu_ingest_new(db, &o, &err);
	assert_non_null(ing);
	assert_int_equal(gpu_ingest_begin_source(ing, "t", 1, &err), 0);
	for (int i = 0; i < nj && !jobs_last; i++)
		assert_int_equal(gpu_ingest_job(ing, &j[i], &err), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(gpu_ingest_sample(ing, &s[i], &err), 0);
	for (int i = 0; i < nj && jobs_last; i++)
		assert_int_equal(gpu_ingest_job(ing, &j[i], &err), 0);
	assert_int_equal(gpu_ingest_end_source(ing, "ab", 2, &err), 0);
	assert_int_equal(gpu_ingest_finish(ing, &err), 0);
	*built = 0;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT hour_ms FROM dirty_hours",
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		*built += gpu_ingest_built(ing, sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	*kept = 0;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT DISTINCT hour_ms / 86400000"
					    " * 86400000 FROM dirty_hours",
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		*kept += gpu_ingest_day(ing, sqlite3_column_int64(st, 0)) ==
			 GPU_ROLLUP_DAY_WRITTEN;
	sqlite3_finalize(st);
	assert_int_equal(gpu_rollup_update_built(db, gpu_ingest_built,
						 gpu_ingest_day, ing, NULL,
						 &err),
			 0);
	gpu_ingest_free(ing);
	assert_int_equal(gpu_db_commit(db, &err), 0);
}

static void
load(sqlite3 *db, const struct gpu_sample *s, int n, const struct gpu_job *j,
     int nj, bool jobs_last, int *built)
{
	int kept;

	load_days(db, s, n, j, nj, jobs_last, built, &kept);
}

/*
 * The facts grouped by hour and effective owner (the sample's, else its
 * job record's), with their counts, whole-number sums and maxima, and the
 * busy sum: usage_hourly_owner holds exactly these groups (busy within
 * rounding, as SQL adds in an order of its own).
 */
static const char OWNER_GROUPS_SQL[] =
    "WITH g AS (SELECT f.ts_ms / 3600000 * 3600000 AS h,"
    " coalesce(f.user_key, ju.name_key, 0) AS u,"
    " coalesce(f.project_key, jp.name_key, 0) AS p, count(*) AS n,"
    " sum(f.interval_s) AS s,"
    " sum(CASE WHEN f.job_key IS NULL THEN 0 ELSE f.interval_s END) AS a,"
    " sum(f.interval_s * f.util_pct) AS b, max(f.mem_used_mib) AS m,"
    " max(f.ts_ms) AS l"
    " FROM gpu_usage_fact f LEFT JOIN jobs_dim j ON j.job_key = f.job_key"
    " LEFT JOIN names_dim ju ON ju.name = j.user"
    " LEFT JOIN names_dim jp ON jp.name = j.project GROUP BY 1, 2, 3)"
    " SELECT (SELECT count(*) FROM g),"
    " (SELECT count(*) FROM usage_hourly_owner),"
    " (SELECT count(*) FROM g JOIN usage_hourly_owner o"
    "  ON o.hour_ms = g.h AND o.user_key = g.u AND o.project_key = g.p"
    "  AND o.samples = g.n AND o.gpu_seconds = g.s AND o.alloc_seconds = g.a"
    "  AND abs(o.busy - g.b) < 1e-6 * (1 + abs(g.b)) AND o.max_mem = g.m"
    "  AND o.last_ms = g.l)";

static void
assert_owners_grouped(sqlite3 *db)
{
	sqlite3_stmt *st;

	assert_int_equal(
	    sqlite3_prepare_v2(db, OWNER_GROUPS_SQL, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_true(sqlite3_column_int(st, 0) > 0);
	assert_int_equal(sqlite3_column_int(st, 1), sqlite3_column_int(st, 0));
	assert_int_equal(sqlite3_column_int(st, 2), sqlite3_column_int(st, 0));
	sqlite3_finalize(st);
}

/*
 * The rollups equal a rebuild of every hour from the facts, and the owner
 * rollup the facts grouped by hour and owner.
 */
static void
assert_as_rebuilt(sqlite3 *db)
{
	struct gpu_buf a, b;
	struct gpu_err err;

	assert_owners_grouped(db);
	dump(db, &a);
	assert_true(a.len > 0);
	assert_int_equal(
	    gpu_db_exec(db,
			"INSERT OR IGNORE INTO dirty_hours SELECT DISTINCT"
			" ts_ms / 3600000 * 3600000 FROM gpu_usage_fact",
			&err),
	    0);
	assert_int_equal(gpu_rollup_refresh(db, NULL, &err), 0);
	dump(db, &b);
	assert_string_equal(a.data, b.data);
	gpu_buf_release(&a);
	gpu_buf_release(&b);
}

/* Five hours of 3 GPUs a minute, some on jobs, some without an owner. */
static int
fill(struct gpu_sample *s, int64_t from, int hours)
{
	static const char *const jobs[] = {"", "7", "8"};
	int n = 0;

	for (int64_t t = from; t < from + hours * HOUR; t += 5 * MIN)
		for (int g = 0; g < 3; g++) {
			s[n] = sample(t, g < 2 ? "a1" : "b2", g,
				      (double)((t / MIN + g * 7) % 101) * 0.97,
				      jobs[g]);
			if (g == 1)
				s[n].user = str("sam");
			n++;
		}
	return n;
}

static struct gpu_job
job(const char *id, const char *user, const char *project)
{
	struct gpu_job j;

	memset(&j, 0, sizeof(j));
	j.job_id = str(id);
	j.user = str(user);
	j.project = str(project);
	return j;
}

static void
test_prebuild_first_load(void **state)
{
	struct fixture *f = *state;
	struct gpu_sample s[600];
	struct gpu_job j[] = {job("7", "ann", "p1"), job("8", "bob", "")};
	int n = fill(s, T + 10 * MIN, 5), built;

	/* Six hours touched (the first and last partly): all built. */
	load(f->db, s, n, j, 2, false, &built);
	assert_int_equal(built, 6);
	assert_as_rebuilt(f->db);
}

static void
test_prebuild_appends_and_overlaps(void **state)
{
	struct fixture *f = *state;
	struct gpu_sample s[600];
	int n = fill(s, T, 3), built;

	load(f->db, s, n, NULL, 0, false, &built);
	assert_int_equal(built, 3);
	/*
	 * A load that starts inside the last stored hour: that hour held
	 * facts before, so it is read; the hours after it are built.
	 */
	n = fill(s, T + 2 * HOUR + 30 * MIN, 3);
	load(f->db, s, n, NULL, 0, false, &built);
	assert_int_equal(built, 3);
	assert_as_rebuilt(f->db);
}

static void
test_prebuild_adds_to_the_day(void **state)
{
	struct fixture *f = *state;
	struct gpu_sample s[600];
	int n = fill(s, T, 3), built;

	/*
	 * Hours appended to a stored day, one load an hour as the pipeline
	 * runs: the day rows are the stored ones plus the new hours'.
	 */
	load(f->db, s, n, NULL, 0, false, &built);
	for (int h = 3; h < 6; h++) {
		n = fill(s, T + h * HOUR, 1);
		s[n - 1].user = str("late"); /* a group new to the day */
		load(f->db, s, n, NULL, 0, false, &built);
		assert_int_equal(built, 1);
	}
	assert_as_rebuilt(f->db);
}

static void
test_prebuild_falls_back(void **state)
{
	struct fixture *f = *state;
	struct gpu_sample s[700];
	struct gpu_job j[] = {job("7", "ann", "p1"), job("8", "bob", "p2")};
	int n = fill(s, T, 5), built;

	/*
	 * Job records after the samples: the two hours already written
	 * with their jobs' owners are read again; the three still in
	 * memory take the records' owners when written.
	 */
	load(f->db, s, n, j, 2, true, &built);
	assert_int_equal(built, GPU_PREBUILD_OPEN);
	assert_as_rebuilt(f->db);
}

static void
test_prebuild_repeat_and_order(void **state)
{
	struct fixture *f = *state;
	struct gpu_sample s[700];
	struct gpu_job j[] = {job("7", "ann", "p1")};
	int n = fill(s, T, 4), built;

	/* A fact repeated in hour 2 and one out of time order in hour 3. */
	s[n] = s[2 * 36 + 4];
	s[n++].util_pct = 3;
	s[n] = s[3 * 36 + 1];
	s[n].ts_ms += 2 * MIN;
	n++;
	load(f->db, s, n, j, 1, false, &built);
	assert_int_equal(built, 2);
	assert_as_rebuilt(f->db);
}

/*
 * Days summed as their hours are written: kept when their hours came in
 * order, summed again when an hour came late, out of order, or changed
 * after the day's rows were written.
 */
static void
test_prebuild_days(void **state)
{
	struct fixture *f = *state;
	static struct gpu_sample s[1300];
	int n, built, kept;

	/* 22:00 on the 28th to 04:00 on the 30th, in order: three days. */
	n = fill(s, T + 6 * HOUR, 30);
	load_days(f->db, s, n, NULL, 0, false, &built, &kept);
	assert_int_equal(built, 30);
	assert_int_equal(kept, 3);
	assert_as_rebuilt(f->db);
	/* Appended: the 30th had rows (summed as before), the 1st is new. */
	n = fill(s, T + 36 * HOUR, 24);
	load_days(f->db, s, n, NULL, 0, false, &built, &kept);
	assert_int_equal(built, 24);
	assert_int_equal(kept, 1);
	assert_as_rebuilt(f->db);
}

static void
test_prebuild_days_late(void **state)
{
	struct fixture *f = *state;
	static struct gpu_sample s[2700];
	const int64_t d = T + 8 * HOUR; /* 2026-11-29T00:00Z */
	int n = 0, built, kept;

	/*
	 * The 29th in order; the 30th with its 05:00 after its 09:00; the
	 * 1st in order; then a sample of the 29th's 23:00, whose hour was
	 * written long before (read again from its facts).
	 */
	n += fill(s + n, d, 24);
	n += fill(s + n, d + 24 * HOUR, 5);
	n += fill(s + n, d + 30 * HOUR, 4);
	n += fill(s + n, d + 29 * HOUR, 1);
	n += fill(s + n, d + 34 * HOUR, 14);
	n += fill(s + n, d + 48 * HOUR, 24);
	s[n] = sample(d + 23 * HOUR + MIN, "a1", 0, 50, "");
	n++;
	load_days(f->db, s, n, NULL, 0, false, &built, &kept);
	assert_int_equal(kept, 1); /* the 1st */
	assert_as_rebuilt(f->db);
}

static void
test_prebuild_days_changed(void **state)
{
	struct fixture *f = *state;
	static struct gpu_sample s[2000];
	struct gpu_job j[] = {job("7", "ann", "p1"), job("8", "bob", "p2")};
	const int64_t d = T + 8 * HOUR; /* 2026-11-29T00:00Z */
	int n = 0, built, kept;

	/*
	 * The 29th without its 23:00, the 30th, then the 29th's 23:00 (read
	 * from its facts: the 29th is summed again).
	 */
	n += fill(s + n, d, 23);
	n += fill(s + n, d + 24 * HOUR, 6);
	n += fill(s + n, d + 23 * HOUR, 1);
	load_days(f->db, s, n, NULL, 0, false, &built, &kept);
	assert_int_equal(built, 29); /* not the late hour */
	assert_int_equal(kept, 1);   /* the 30th */
	assert_as_rebuilt(f->db);

	/* Job records after the samples: no day rows are kept. */
	n = fill(s, d + 48 * HOUR, 30);
	load_days(f->db, s, n, j, 2, true, &built, &kept);
	assert_int_equal(kept, 0);
	assert_as_rebuilt(f->db);

	/*
	 * Two groups of an hour of the 3rd that meet once job 8's owner is
	 * resolved (a GPU's samples without, then with, their owner): that
	 * hour is read from its facts, and its day summed again.
	 */
	n = fill(s, d + 96 * HOUR, 30);
	for (int i = 0; i < n; i++)
		if (s[i].ts_ms >= d + 100 * HOUR &&
		    s[i].ts_ms < d + 101 * HOUR && s[i].gpu == 2 &&
		    s[i].ts_ms >= d + 100 * HOUR + 30 * MIN) {
			s[i].user = str("bob");
			s[i].project = str("p2");
		}
	load_days(f->db, s, n, j, 2, false, &built, &kept);
	assert_int_equal(built, 29);
	assert_int_equal(kept, 1); /* the 4th */
	assert_as_rebuilt(f->db);
}

/* The module alone: a group summed out of time order is not built. */
static void
test_prebuild_group_order(void **state)
{
	struct fixture *f = *state;
	struct gpu_prebuild p;
	struct gpu_sample a = sample(T + 5 * MIN, "a1", 0, 10, "");
	struct gpu_sample b = sample(T + 1 * MIN, "a1", 0, 20, "");
	int64_t k[GPU_HK_N] = {T, 1, 0, -1, 0, 0, 0, 0, 0, 0};
	struct gpu_err err;
	bool built;

	gpu_prebuild_init(&p, f->db, T, NULL, NULL);
	assert_int_equal(gpu_prebuild_add(&p, k, &a, NULL, &built, &err), 0);
	assert_true(built);
	assert_int_equal(gpu_prebuild_add(&p, k, &b, NULL, &built, &err), 0);
	assert_false(built);
	/* Before fresh_from: never built. */
	k[GPU_HK_TIME] = T - HOUR;
	a.ts_ms = T - 30 * MIN;
	assert_int_equal(gpu_prebuild_add(&p, k, &a, NULL, &built, &err), 0);
	assert_false(built);
	assert_int_equal(gpu_prebuild_finish(&p, &err), 0);
	assert_false(gpu_prebuild_built(&p, T));
	gpu_prebuild_release(&p);
}

/*
 * The module alone, hours handed over out of order (which a load's new
 * facts never are): an hour written before an earlier one of its day, or
 * after its day's rows, leaves the day to the refresh.
 */
/* Hand hours to a prebuild from day d, as a new fact each, then finish. */
static void
add_hours(struct gpu_prebuild *p, int64_t d, const int *hours, size_t n)
{
	int64_t k[GPU_HK_N] = {0, 1, 0, -1, 0, 0, 0, 0, 0, 0};
	struct gpu_err err;
	bool built;

	for (size_t i = 0; i < n; i++) {
		struct gpu_sample a =
		    sample(d + hours[i] * HOUR + MIN, "a1", 0, 10, "");

		k[GPU_HK_TIME] = d + hours[i] * HOUR;
		assert_int_equal(gpu_prebuild_add(p, k, &a, NULL, &built, &err),
				 0);
		assert_true(built);
	}
	assert_int_equal(gpu_prebuild_finish(p, &err), 0);
}

static void
test_prebuild_day_order(void **state)
{
	struct fixture *f = *state;
	struct gpu_prebuild p;
	const int64_t d = T + 8 * HOUR; /* 2026-11-29T00:00Z */
	static const int late[] = {10, 11, 12, 13, 9, 30, 31, 32};
	static const int after[] = {6, 7, 8, 30, 31, 32, 9};

	/*
	 * Three hours open, the oldest written to make room: the 29th's
	 * 09:00 is written after its 11:00, so the 29th is left to the
	 * refresh; the 30th's hours came in order.
	 */
	gpu_prebuild_init(&p, f->db, d, NULL, NULL);
	add_hours(&p, d, late, sizeof(late) / sizeof(late[0]));
	assert_int_equal(gpu_prebuild_day(&p, d), GPU_ROLLUP_DAY_STALE);
	assert_int_equal(gpu_prebuild_day(&p, d + 24 * HOUR),
			 GPU_ROLLUP_DAY_WRITTEN);
	assert_int_equal(gpu_prebuild_day(&p, d + 48 * HOUR),
			 GPU_ROLLUP_DAY_NONE);
	gpu_prebuild_release(&p);
	/*
	 * The 2nd's 09:00 is written after the 3rd's 06:00 (so after the
	 * 2nd's rows), and the 3rd's 07:00 after the 3rd's rows.
	 */
	gpu_prebuild_init(&p, f->db, d + 96 * HOUR, NULL, NULL);
	add_hours(&p, d + 96 * HOUR, after, sizeof(after) / sizeof(after[0]));
	assert_int_equal(gpu_prebuild_day(&p, d + 96 * HOUR),
			 GPU_ROLLUP_DAY_STALE);
	assert_int_equal(gpu_prebuild_day(&p, d + 120 * HOUR),
			 GPU_ROLLUP_DAY_STALE);
	gpu_prebuild_release(&p);
}

/* No job has an owner (a gpu_owner_fn). */
static int
no_owner(void *ctx, int64_t job_key, int64_t *user, int64_t *project,
	 struct gpu_err *err)
{
	(void)ctx;
	(void)job_key;
	(void)err;
	*user = *project = 0;
	return 0;
}

/* The four rollups as text (dump()), then emptied. */
static void
take_rollups(sqlite3 *db, struct gpu_buf *out)
{
	struct gpu_err err;

	dump(db, out);
	assert_int_equal(gpu_db_exec(db,
				     "DELETE FROM usage_hourly;"
				     "DELETE FROM usage_hourly_node;"
				     "DELETE FROM usage_hourly_owner;"
				     "DELETE FROM usage_daily;",
				     &err),
			 0);
}

/*
 * Hints (a unit's row of its open hour, tried before the hash) change no
 * sum: units taking turns, a unit whose job changes within an hour and
 * back, and hours closed and their slots reused.
 */
static void
test_prebuild_hint(void **state)
{
	struct fixture *f = *state;
	struct gpu_prebuild_hint hints[3];
	struct gpu_buf with, without;
	struct gpu_err err;

	for (int pass = 0; pass < 2; pass++) {
		struct gpu_prebuild p;

		memset(hints, 0, sizeof(hints));
		gpu_prebuild_init(&p, f->db, T, no_owner, NULL);
		for (int64_t t = T; t < T + 6 * HOUR; t += 5 * MIN)
			for (int u = 0; u < 3; u++) {
				int64_t k[GPU_HK_N] = {0, 1, u, -1, 0,
						       0, 0, 0, 0,  0};
				struct gpu_sample a = sample(
				    t, "a1", u, (double)(t / MIN % 97), "");
				bool built;

				k[GPU_HK_TIME] = t / HOUR * HOUR;
				/* Unit 1 runs job 5 for 20 minutes an hour. */
				if (u == 1 && t % HOUR >= 20 * MIN &&
				    t % HOUR < 40 * MIN)
					k[GPU_HK_JOB] = 5;
				assert_int_equal(
				    gpu_prebuild_add(
					&p, k, &a, pass == 0 ? &hints[u] : NULL,
					&built, &err),
				    0);
				assert_true(built);
			}
		assert_int_equal(gpu_prebuild_finish(&p, &err), 0);
		gpu_prebuild_release(&p);
		take_rollups(f->db, pass == 0 ? &with : &without);
	}
	assert_true(with.len > 0);
	assert_string_equal(with.data, without.data);
	gpu_buf_release(&with);
	gpu_buf_release(&without);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_prebuild_first_load, wh_setup,
					    wh_teardown),
	    cmocka_unit_test_setup_teardown(test_prebuild_days, wh_setup,
					    wh_teardown),
	    cmocka_unit_test_setup_teardown(test_prebuild_days_late, wh_setup,
					    wh_teardown),
	    cmocka_unit_test_setup_teardown(test_prebuild_days_changed,
					    wh_setup, wh_teardown),
	    cmocka_unit_test_setup_teardown(test_prebuild_day_order, wh_setup,
					    wh_teardown),
	    cmocka_unit_test_setup_teardown(test_prebuild_hint, wh_setup,
					    wh_teardown),
	    cmocka_unit_test_setup_teardown(test_prebuild_appends_and_overlaps,
					    wh_setup, wh_teardown),
	    cmocka_unit_test_setup_teardown(test_prebuild_adds_to_the_day,
					    wh_setup, wh_teardown),
	    cmocka_unit_test_setup_teardown(test_prebuild_falls_back, wh_setup,
					    wh_teardown),
	    cmocka_unit_test_setup_teardown(test_prebuild_repeat_and_order,
					    wh_setup, wh_teardown),
	    cmocka_unit_test_setup_teardown(test_prebuild_group_order, wh_setup,
					    wh_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
