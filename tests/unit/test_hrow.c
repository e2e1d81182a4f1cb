/* SPDX-License-Identifier: MIT */
/* Unit tests for rows in integer key space (gpu/hrow.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gpu/db.h"
#include "gpu/hrow.h"
#include "gpu/rollup.h"

/* 2026-11-28T16:00:00Z */
#define T INT64_C(1795881600000)
#define HOUR INT64_C(3600000)

static void
exec(sqlite3 *db, const char *sql)
{
	struct gpu_err err = {0};

	if (gpu_db_exec(db, sql, &err) != 0)
		fail_msg("%s: %s", sql, err.msg);
}

/* Rows handed to collect(): their keys and sums. */
struct got {
	struct gpu_hrow r[64];
	size_t n;
};

static int
collect(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	struct got *g = ctx;

	(void)err;
	assert_true(g->n < 64);
	g->r[g->n++] = *r;
	return 0;
}

static void
key(int64_t k[GPU_HK_N], int64_t t, int64_t node, int64_t user)
{
	memset(k, 0, GPU_HK_N * sizeof(*k));
	k[GPU_HK_TIME] = t;
	k[GPU_HK_NODE] = node;
	k[GPU_HK_USER] = user;
}

/* A table sums rows by key and hands them on in key order, then empties. */
static void
test_hrow_table_flush_order(void **state)
{
	struct gpu_hrows t;
	struct got g = {.n = 0};
	struct gpu_err err = {0};
	int64_t k[GPU_HK_N];
	bool created;

	(void)state;
	gpu_hrows_init(&t);
	key(k, T, 2, 0);
	gpu_hrows_put(&t, k, &created)->s.samples += 1;
	assert_true(created);
	key(k, T, 1, 5);
	gpu_hrows_put(&t, k, NULL)->s.samples += 2;
	key(k, T, 1, 3);
	gpu_hrows_put(&t, k, NULL)->s.samples += 4;
	key(k, T, 2, 0);
	gpu_hrows_put(&t, k, &created)->s.samples += 8;
	assert_false(created);
	assert_int_equal(gpu_hrows_count(&t), 3);
	assert_int_equal(gpu_hrows_flush(&t, collect, &g, &err), 0);
	assert_int_equal(gpu_hrows_count(&t), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.r[0].k[GPU_HK_USER], 3);
	assert_int_equal(g.r[1].k[GPU_HK_USER], 5);
	assert_int_equal(g.r[2].k[GPU_HK_NODE], 2);
	assert_int_equal(g.r[2].s.samples, 9);
	key(k, T, 7, 0); /* the emptied table takes new rows */
	assert_int_equal(gpu_hrows_put(&t, k, &created)->s.samples, 0);
	assert_true(created);
	gpu_hrows_release(&t);
}

/*
 * Keys in order are appended without a lookup until one is not above the
 * rest; from then on every key is looked up, those appended included, so
 * that no key gets two rows (after the table is emptied, appending
 * again).
 */
static void
test_hrow_table_ordered_keys(void **state)
{
	struct gpu_hrows t;
	int64_t k[GPU_HK_N];
	bool created;

	(void)state;
	gpu_hrows_init(&t);
	for (int round = 0; round < 2; round++) {
		for (int n = 1; n <= 300; n++) {
			key(k, T + (n / 100) * 3600000, n % 100, 0);
			gpu_hrows_put(&t, k, &created)->s.samples += n;
			assert_true(created);
		}
		assert_false(t.unordered);
		/*
		 * The last key again: its row, still in order (no lookup);
		 * then one in the middle, which is looked up.
		 */
		key(k, T + 3 * 3600000, 0, 0);
		assert_int_equal(gpu_hrows_put(&t, k, &created)->s.samples, 300);
		assert_false(created);
		assert_false(t.unordered);
		key(k, T + 3600000, 50, 0);
		assert_int_equal(gpu_hrows_put(&t, k, &created)->s.samples, 150);
		assert_false(created);
		assert_true(t.unordered);
		/* A new key above the rest, now looked up first. */
		key(k, T + 9 * 3600000, 1, 0);
		gpu_hrows_put(&t, k, &created);
		assert_true(created);
		gpu_hrows_put(&t, k, &created);
		assert_false(created);
		assert_int_equal(gpu_hrows_count(&t), 301);
		gpu_hrows_clear(&t);
		assert_false(t.unordered);
	}
	gpu_hrows_release(&t);
}

/* By day, hour rows become day rows; a day row flushes the hours first. */
static void
test_hrow_sink_by_day(void **state)
{
	struct gpu_hrow_sink s;
	struct gpu_hrow r;
	struct got g = {.n = 0};
	struct gpu_err err = {0};
	int64_t day = T - 16 * HOUR;

	(void)state;
	gpu_hrow_sink_init(&s, GPU_FOLD_DAY, collect, &g);
	for (int h = 0; h < 3; h++) {
		key(r.k, day + h * HOUR, 1, 0);
		gpu_sums_init(&r.s);
		r.s.samples = 1 + h;
		r.s.busy = 0.1 * (h + 1);
		r.s.last_ms = day + h * HOUR;
		assert_int_equal(gpu_hrow_sink_hour(&s, &r, &err), 0);
	}
	assert_int_equal(g.n, 0); /* the day is still being summed */
	key(r.k, day + 24 * HOUR, 1, 0);
	r.s.samples = 100;
	assert_int_equal(gpu_hrow_sink_folded(&s, &r, &err), 0);
	assert_int_equal(gpu_hrow_sink_flush(&s, &err), 0);
	assert_int_equal(g.n, 2);
	assert_true(g.r[0].k[GPU_HK_TIME] == day);
	assert_int_equal(g.r[0].s.samples, 6);
	assert_true(g.r[0].s.busy == (0.0 + 0.1) + 0.2 + 0.30000000000000004);
	assert_true(g.r[0].s.last_ms == day + 2 * HOUR);
	assert_int_equal(g.r[1].s.samples, 100);
	gpu_hrow_sink_release(&s);
	g.n = 0;
	gpu_hrow_sink_init(&s, GPU_FOLD_NONE, collect, &g); /* passed on */
	assert_int_equal(gpu_hrow_sink_hour(&s, &r, &err), 0);
	assert_int_equal(g.n, 1);
	gpu_hrow_sink_release(&s);
}

/* Every rollup table. */
static const enum gpu_rollup tabs[] = {GPU_ROLLUP_HOURLY, GPU_ROLLUP_DAILY,
				       GPU_ROLLUP_NODE, GPU_ROLLUP_OWNER};

/* An empty warehouse in memory. */
static sqlite3 *
mem_db(void)
{
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;

	assert_int_equal(gpu_db_open(":memory:", &o, &db, &err), 0);
	return db;
}

/* Rows stored in each rollup table read back exactly. */
static void
test_hrow_insert_read(void **state)
{
	struct gpu_err err = {0};
	sqlite3 *db = mem_db();

	(void)state;
	for (size_t t = 0; t < sizeof(tabs) / sizeof(tabs[0]); t++) {
		struct gpu_hrow r;
		int64_t want[GPU_HK_N] = {0};
		struct got g = {.n = 0};
		sqlite3_stmt *ins = gpu_hrow_insert_prepare(db, tabs[t], &err);

		assert_non_null(ins);
		for (int i = 0; i < GPU_HK_N; i++)
			r.k[i] = i + 1;
		r.k[GPU_HK_TIME] = T;
		gpu_sums_init(&r.s);
		r.s.samples = 3;
		r.s.busy = 1.0 / 3;
		r.s.power_s = 1e300;
		r.s.last_ms = T + 5;
		assert_int_equal(gpu_hrow_insert(ins, tabs[t], &r, &err), 0);
		sqlite3_finalize(ins);
		assert_int_equal(
		    gpu_hrow_read(db, tabs[t], T, T + HOUR, collect, &g, &err),
		    0);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.r[0].s.samples, 3);
		assert_true(g.r[0].s.busy == 1.0 / 3);
		assert_true(g.r[0].s.power_s == 1e300);
		assert_int_equal(g.r[0].s.max_mem, -1);
		/* The table's keys come back, the others are 0. */
		for (int i = 0; i < gpu_rollup_nkeys(tabs[t]); i++)
			want[gpu_rollup_key(tabs[t], i)] =
			    r.k[gpu_rollup_key(tabs[t], i)];
		for (int i = 0; i < GPU_HK_N; i++)
			assert_int_equal(g.r[0].k[i], want[i]);
		assert_int_equal(g.r[0].k[GPU_HK_NODE],
				 tabs[t] == GPU_ROLLUP_OWNER ? 0 : 2);
		assert_int_equal(g.r[0].k[GPU_HK_USER],
				 tabs[t] == GPU_ROLLUP_NODE ? 0
							    : GPU_HK_USER + 1);
		assert_int_equal(g.r[0].k[GPU_HK_MODEL],
				 gpu_rollup_nkeys(tabs[t]) < GPU_HK_CATEGORY
				     ? 0
				     : GPU_HK_MODEL + 1);
	}
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/* Rows in rollup table t whose time is in [T, T + 1 h). */
static int
count_rows(sqlite3 *db, enum gpu_rollup t)
{
	struct gpu_err err = {0};
	struct got g = {.n = 0};

	assert_int_equal(gpu_hrow_read(db, t, T, T + HOUR, collect, &g, &err),
			 0);
	return (int)g.n;
}

/*
 * Row i of test_hrow_batch: a key of its own in every table, and sums
 * some of which repeat what the same place of the batch before held
 * (the writer does not bind those again) and some of which do not.
 */
static void
batch_row(struct gpu_hrow *r, int i)
{
	int slot = i % 16, batch = i / 16;

	memset(r->k, 0, sizeof(r->k));
	r->k[GPU_HK_TIME] = T;
	r->k[GPU_HK_NODE] = i + 1;
	r->k[GPU_HK_USER] = i + 1;
	r->k[GPU_HK_PROJECT] = slot;
	gpu_sums_init(&r->s);
	r->s.samples = slot;
	r->s.gpu_seconds = 300 * (batch % 2 + 1);
	r->s.busy = slot + (batch == 1 ? 0.5 : 0.25);
	r->s.max_mem = slot == 3 ? batch : 7;
	r->s.power_s = 1.0 / (slot + 1);
	r->s.last_ms = T + i;
}

/*
 * A batch writer's rows are the rows a row at a time would store: those
 * of the whole batches at once, the rest at the flush, with each value
 * right whether it was bound again or kept from the batch before. A
 * batch that breaks the key fails with SQLite's message.
 */
static void
test_hrow_batch(void **state)
{
	struct gpu_err err = {0};
	sqlite3 *db = mem_db();

	(void)state;
	for (size_t t = 0; t < sizeof(tabs) / sizeof(tabs[0]); t++) {
		struct gpu_hrow_batch *w =
		    gpu_hrow_batch_new(db, tabs[t], &err);
		struct got g = {.n = 0};
		struct gpu_hrow r;

		assert_non_null(w);
		for (int i = 0; i < 37; i++) {
			batch_row(&r, i);
			assert_int_equal(gpu_hrow_batch_put(w, &r, &err), 0);
			/* Written a whole batch at a time. */
			assert_int_equal(count_rows(db, tabs[t]),
					 (i + 1) / 16 * 16);
		}
		assert_int_equal(gpu_hrow_batch_flush(w, &err), 0);
		assert_int_equal(gpu_hrow_batch_flush(w, &err), 0);
		assert_int_equal(
		    gpu_hrow_read(db, tabs[t], T, T + HOUR, collect, &g, &err),
		    0);
		assert_int_equal(g.n, 37);
		for (int i = 0; i < 37; i++) {
			/* In key order: by node (or user) i + 1. */
			batch_row(&r, i);
			assert_int_equal(g.r[i].k[gpu_rollup_key(tabs[t], 1)],
					 i + 1);
			assert_memory_equal(&g.r[i].s, &r.s, sizeof(r.s));
		}
		/* A batch whose first and last rows share a key: no row stays.
		 */
		exec(db, "SAVEPOINT dup");
		for (int i = 0; i < 16; i++) {
			batch_row(&r, i == 15 ? 100 : i + 100);
			r.k[GPU_HK_TIME] = T + HOUR;
			assert_int_equal(gpu_hrow_batch_put(w, &r, &err),
					 i == 15 ? -1 : 0);
		}
		assert_non_null(strstr(err.msg, "UNIQUE constraint failed"));
		exec(db, "ROLLBACK TO dup; RELEASE dup");
		g.n = 0;
		assert_int_equal(gpu_hrow_read(db, tabs[t], T + HOUR,
					       T + 2 * HOUR, collect, &g, &err),
				 0);
		assert_int_equal(g.n, 0);
		/* Nothing is left pending after the failure. */
		assert_int_equal(gpu_hrow_batch_flush(w, &err), 0);
		assert_int_equal(count_rows(db, tabs[t]), 37);
		gpu_hrow_batch_free(w);
	}
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/* collect(), stopping with an error at the second row. */
static int
collect_one(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	struct got *g = ctx;

	if (g->n == 1)
		return gpu_err_set(err, "enough");
	return collect(ctx, r, err);
}

/*
 * A read hands rows on in key order, whatever order they were stored in,
 * and stops at the receiver's -1 with the receiver's error.
 */
static void
test_hrow_read_order_stop(void **state)
{
	struct gpu_err err = {0};
	sqlite3 *db = mem_db();

	(void)state;
	for (size_t t = 0; t < sizeof(tabs) / sizeof(tabs[0]); t++) {
		struct got g = {.n = 0};
		sqlite3_stmt *ins = gpu_hrow_insert_prepare(db, tabs[t], &err);
		int k1 = gpu_rollup_key(tabs[t], 1); /* node or user */

		assert_non_null(ins);
		for (int i = 5; i >= 1; i--) {
			struct gpu_hrow r;

			memset(r.k, 0, sizeof(r.k));
			r.k[GPU_HK_TIME] = T + (i % 2) * HOUR;
			r.k[k1] = i;
			gpu_sums_init(&r.s);
			r.s.samples = i;
			assert_int_equal(
			    gpu_hrow_insert(ins, tabs[t], &r, &err), 0);
		}
		sqlite3_finalize(ins);
		assert_int_equal(gpu_hrow_read(db, tabs[t], T, T + 2 * HOUR,
					       collect, &g, &err),
				 0);
		/* Hour T: 2, 4; hour T + 1 h: 1, 3, 5. */
		assert_int_equal(g.n, 5);
		for (size_t i = 0; i < 5; i++) {
			static const int64_t order[] = {2, 4, 1, 3, 5};

			assert_int_equal(g.r[i].k[k1], order[i]);
			assert_int_equal(g.r[i].s.samples, order[i]);
			assert_int_equal(g.r[i].k[GPU_HK_TIME],
					 T + (order[i] % 2) * HOUR);
		}
		g.n = 0;
		assert_int_equal(gpu_hrow_read(db, tabs[t], T, T + 2 * HOUR,
					       collect_one, &g, &err),
				 -1);
		assert_string_equal(err.msg, "enough");
		assert_int_equal(g.n, 1);
	}
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/*
 * The keys a reader gives the owners a refresh would intern are the keys
 * the refresh gives them.
 */
static void
test_hrow_pending_keys(void **state)
{
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	struct gpu_pending p;
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	int64_t k;

	(void)state;
	assert_int_equal(gpu_db_open(":memory:", &o, &db, &err), 0);
	exec(db, "INSERT INTO names_dim(name_key, name) VALUES(4, 'ann');"
		 "INSERT INTO jobs_dim(job_key, job_id, user, project,"
		 " first_sample_ms, last_sample_ms) VALUES"
		 " (1, 'j1', 'zoe', 'ann', 1795881600000, 1795881600000),"
		 " (2, 'j2', 'bob', 'pz', 1795881660000, 1795881660000),"
		 " (3, 'j3', 'old', 'x', 1795899600000, 1795899600000),"
		 " (4, 'j4', 'nowin', '', NULL, NULL);"
		 "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu, util_pct,"
		 " mem_used_mib, job_key, interval_s, ingest_id) VALUES"
		 " (1795881600000, 1, 0, 5, 1, 1, 60, 1),"
		 " (1795881660000, 1, 0, 5, 1, 2, 60, 1),"
		 " (1795899600000, 1, 0, 5, 1, 3, 60, 1);"
		 "INSERT INTO dirty_hours VALUES(1795881600000);");
	gpu_pending_init(&p, db);
	assert_null(gpu_pending_name(&p, 5)); /* not loaded yet */
	assert_int_equal(gpu_pending_key(&p, "old", 3, &k, &err), 0);
	assert_int_equal(k, 0); /* its hour is not dirty */
	assert_int_equal(gpu_pending_key(&p, "ann", 3, &k, &err), 0);
	assert_int_equal(k, 0); /* already interned */
	assert_int_equal(gpu_pending_key(&p, "zoe", 3, &k, &err), 0);
	assert_true(k > 4);
	assert_string_equal(gpu_pending_name(&p, k), "zoe");
	/* A job of unknown window may have samples anywhere. */
	assert_int_equal(gpu_pending_key(&p, "nowin", 5, &k, &err), 0);
	assert_true(k > 4);
	assert_null(gpu_pending_name(&p, 4));
	assert_int_equal(gpu_rollup_refresh(db, NULL, &err), 0);
	st = gpu_db_prepare(db, "SELECT name_key, name FROM names_dim", &err);
	assert_non_null(st);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0 + 1);

		assert_int_equal(
		    gpu_pending_key(&p, name, strlen(name), &k, &err), 0);
		if (strcmp(name, "ann") == 0)
			assert_int_equal(k, 0);
		else
			assert_int_equal(k, sqlite3_column_int64(st, 0));
	}
	sqlite3_finalize(st);
	gpu_pending_release(&p);
	assert_int_equal(gpu_db_close(db, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hrow_table_flush_order),
	    cmocka_unit_test(test_hrow_table_ordered_keys),
	    cmocka_unit_test(test_hrow_sink_by_day),
	    cmocka_unit_test(test_hrow_insert_read),
	    cmocka_unit_test(test_hrow_read_order_stop),
	    cmocka_unit_test(test_hrow_batch),
	    cmocka_unit_test(test_hrow_pending_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
