/* SPDX-License-Identifier: MIT */
/* Unit tests for the warehouse query (gpu/query.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpu/db.h"
#include "gpu/pages.h"
#include "gpu/query.h"
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

/* clang-format off */
#define DUMP_SUM_(name, ctype, sqltype, merge, empty)                          \
	fprintf(fp, _Generic(g->sums.name, int64_t: ",%" PRId64,               \
			     double: ",%a"), g->sums.name);
/* clang-format on */

/* Every group, its keys and its sums exactly (floats in hex). */
static char *
render(struct gpu_agg *a)
{
	char *p = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&p, &n);

	assert_non_null(fp);
	for (size_t i = 0; i < gpu_agg_count(a); i++) {
		const struct gpu_group *g = gpu_agg_group(a, i);

		fprintf(fp, "%" PRId64 ",%s,%d,%s,%s,%s,%s,%d", g->bucket_ms,
			g->node, g->gpu, g->job_id, g->user, g->project,
			g->model, g->category);
		GPU_SUMS(DUMP_SUM_)
		fputc('\n', fp);
	}
	fclose(fp);
	return p;
}

/* An empty warehouse with two nodes, names and job j1 owned by bob/p2. */
static sqlite3 *
fixture_db(const struct gpu_db_opts *o)
{
	struct gpu_err err = {0};
	sqlite3 *db = NULL;

	assert_int_equal(gpu_db_open(":memory:", o, &db, &err), 0);
	exec(db, "INSERT INTO nodes_dim(node_id, node) VALUES(1, 'n1'),"
		 "(2, 'n2');"
		 "INSERT INTO names_dim(name_key, name) VALUES(1, 'alice'),"
		 "(2, 'p1'), (3, 'A100');"
		 "INSERT INTO jobs_dim(job_key, job_id, user, project)"
		 " VALUES(1, 'j1', 'bob', 'p2');");
	return db;
}

/*
 * The rollup, the direct scan and a partial-hour range agree; the
 * effective owner comes from the job record only when the sample has none.
 */
static void
test_query_rollup_matches_scan(void **state)
{
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_agg_query q;
	struct gpu_agg *r = NULL, *s = NULL;
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	size_t hours = 0;
	char *x, *y;
	char sql[256];

	(void)state;
	db = fixture_db(&o);
	for (int i = 0; i < 300; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu,"
			 " util_pct, mem_used_mib, mem_total_mib, job_key,"
			 " user_key, project_key, model_key, interval_s,"
			 " ingest_id, power_w) VALUES(%lld, %d, %d, %d.%d,"
			 " %d, 40960, %s, %s, NULL, 3, 60, 1, %s)",
			 (long long)(T + (int64_t)i * 37000), 1 + i % 2, i % 3,
			 i % 100, i % 7, 15000 + i * 13,
			 i % 4 == 0 ? "NULL" : "1", i % 5 == 0 ? "1" : "NULL",
			 i % 6 == 0 ? "NULL" : "123.4");
		exec(db, sql);
	}
	exec(db, "INSERT INTO dirty_hours SELECT DISTINCT"
		 " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact");
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	assert_int_equal(hours, 4);
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	assert_int_equal(hours, 0);
	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_HOUR;
	q.dims = GPU_DIM_JOB | GPU_DIM_NODE;
	q.from_ms = T + 600000;
	q.to_ms = T + 3 * HOUR + 1;
	for (int round = 0; round < 2; round++) {
		assert_int_equal(gpu_query_run(db, &q, &r, &err), 0);
		assert_int_equal(gpu_query_scan(db, &q, &s, &err), 0);
		x = render(r);
		y = render(s);
		assert_string_equal(x, y);
		assert_non_null(
		    strstr(x, round == 0 ? "n2,-1,j1,bob,p2," : ",-1,,bob,,"));
		free(x);
		free(y);
		gpu_agg_free(r);
		gpu_agg_free(s);
		q.dims = GPU_DIM_USER;
		q.period = GPU_PERIOD_ALL;
		q.from_ms = INT64_MIN;
		q.to_ms = INT64_MAX;
	}
	assert_int_equal(gpu_query_run(db, &q, &r, &err), 0);
	x = render(r);
	assert_non_null(strstr(x, ",-1,,alice,,"));
	assert_non_null(strstr(x, ",-1,,bob,,"));
	assert_int_equal(strncmp(x, "0,,-1,,,,,", 10), 0); /* "" first */
	free(x);
	gpu_agg_free(r);
	q.from_ms = T;
	q.to_ms = T;
	assert_int_equal(gpu_query_run(db, &q, &r, &err), -1);
	assert_null(r);
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/* Insert nfacts samples, 1200 s apart on two nodes, from t. */
static void
add_facts(sqlite3 *db, int64_t t, int nfacts)
{
	char sql[320];

	for (int i = 0; i < nfacts; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu,"
			 " util_pct, mem_used_mib, mem_total_mib, job_key,"
			 " user_key, project_key, model_key, interval_s,"
			 " ingest_id, power_w) VALUES(%lld, %d, %d, %d.%d3,"
			 " %d, 40960, %s, %s, NULL, %s, 60, 1, %d.%d7)",
			 (long long)(t + (int64_t)(i / 6) * 1200000), 1 + i % 2,
			 i % 3, (i * 7) % 100, i % 9, 15000 + (i * 37) % 9000,
			 i % 5 == 0 ? "NULL" : "1", i % 3 == 0 ? "1" : "NULL",
			 i % 4 == 0 ? "NULL" : "3", 100 + i % 250, i % 10);
		exec(db, sql);
	}
}

/* A query: period, dimensions, range in hours after T (-1: open). */
struct qspec {
	enum gpu_period p;
	unsigned dims;
	int64_t from, to;
};

/* q for spec, its start (when not open) shift ms into its hour. */
static void
qspec_query(const struct qspec *spec, int64_t shift, struct gpu_agg_query *q)
{
	gpu_agg_query_init(q);
	q->period = spec->p;
	q->dims = spec->dims;
	if (spec->from >= 0)
		q->from_ms = T + spec->from * HOUR + shift;
	if (spec->to >= 0)
		q->to_ms = T + spec->to * HOUR;
}

/* The fixture with 1,300 facts over 73 hours from T, rolled up. */
static sqlite3 *
rolled_up_db(const struct gpu_db_opts *o)
{
	struct gpu_err err = {0};
	sqlite3 *db = fixture_db(o);
	size_t hours = 0;

	add_facts(db, T, 1300);
	exec(db, "INSERT INTO dirty_hours SELECT DISTINCT"
		 " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact");
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	assert_int_equal(hours, 73);
	return db;
}

/*
 * Whole days come from usage_daily (usage_daily_job by job, model or
 * profile), whole hours by node from usage_hourly_node, by user, project,
 * both or neither (any period) from usage_hourly_owner: still exactly the
 * scan's bytes, for aligned and unaligned ranges, and after an
 * incremental refresh of one late hour.
 */
static void
test_query_daily_matches_scan(void **state)
{
	static const struct qspec qs[] = {
	    {GPU_PERIOD_ALL, 0, -1, -1},
	    {GPU_PERIOD_DAY, GPU_DIM_NODE | GPU_DIM_JOB, -1, -1},
	    {GPU_PERIOD_WEEK, GPU_DIM_USER, 3, 70},
	    {GPU_PERIOD_MONTH, GPU_DIM_GPU | GPU_DIM_MODEL, 8, -1},
	    {GPU_PERIOD_DAY, GPU_DIM_PROJECT, -1, 55},
	    {GPU_PERIOD_HOUR, GPU_DIM_NODE, 5, 60},
	    {GPU_PERIOD_HOUR, GPU_DIM_NODE, -1, -1},
	    {GPU_PERIOD_HOUR, GPU_DIM_USER | GPU_DIM_PROJECT, 5, 60},
	    {GPU_PERIOD_HOUR, GPU_DIM_USER | GPU_DIM_PROJECT, -1, -1},
	    {GPU_PERIOD_ALL, GPU_DIM_JOB, 8, 56}, /* day-aligned: T is 16h */
	    {GPU_PERIOD_HOUR, GPU_DIM_USER, 5, 60},
	    {GPU_PERIOD_HOUR, 0, -1, -1},
	    {GPU_PERIOD_MONTH, GPU_DIM_USER | GPU_DIM_PROJECT, 3, -1},
	    {GPU_PERIOD_WEEK, GPU_DIM_JOB | GPU_DIM_MODEL | GPU_DIM_PROFILE, 3,
	     70},
	    {GPU_PERIOD_DAY, GPU_DIM_JOB | GPU_DIM_USER | GPU_DIM_PROJECT, -1,
	     -1},
	};
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	size_t hours = 0;

	(void)state;
	db = rolled_up_db(&o);
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
			struct gpu_agg_query q;
			struct gpu_agg *r = NULL, *s = NULL;
			char *x, *y;

			qspec_query(&qs[i], 60000 * (int64_t)round, &q);
			assert_int_equal(gpu_query_run(db, &q, &r, &err), 0);
			assert_int_equal(gpu_query_scan(db, &q, &s, &err), 0);
			assert_true(gpu_agg_count(r) > 0);
			x = render(r);
			y = render(s);
			if (strcmp(x, y) != 0)
				fail_msg("query %zu round %d differs:\n%s\n%s",
					 i, round, x, y);
			free(x);
			free(y);
			gpu_agg_free(r);
			gpu_agg_free(s);
		}
		/* A late hour in the middle of day 2: only it is rebuilt. */
		add_facts(db, T + 30 * HOUR + 1000 + 2000 * round, 12);
		exec(db, "INSERT INTO dirty_hours VALUES(1795989600000)");
		assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
		assert_int_equal(hours, 1);
	}
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/* What gpu_query_each() handed over: the buckets' groups, rendered. */
struct each {
	FILE *fp;
	int calls, stop_at; /* stop_at: fail that call (0: none) */
	int64_t last_bucket;
	/* keep: each aggregate kept (GPU_QUERY_KEPT), rendered after */
	bool keep;
	struct gpu_agg **kept;
	size_t nkept;
};

static int
each_bucket(void *ctx, struct gpu_agg *a, struct gpu_err *err)
{
	struct each *e = ctx;
	int64_t b = gpu_agg_group(a, 0)->bucket_ms;
	char *x;

	if (++e->calls == e->stop_at)
		return gpu_err_set(err, "stop");
	/* One bucket a call, each after the one before. */
	assert_true(gpu_agg_count(a) > 0);
	assert_true(e->calls == 1 || b > e->last_bucket);
	for (size_t i = 0; i < gpu_agg_count(a); i++)
		assert_true(gpu_agg_group(a, i)->bucket_ms == b);
	e->last_bucket = b;
	if (e->keep) {
		e->kept = realloc(e->kept, (e->nkept + 1) * sizeof(*e->kept));
		assert_non_null(e->kept);
		e->kept[e->nkept++] = a;
		return GPU_QUERY_KEPT;
	}
	x = render(a);
	fputs(x, e->fp);
	free(x);
	return 0;
}

/* Render the aggregates kept, after the query ended, and free them. */
static void
each_kept(struct each *e)
{
	for (size_t i = 0; i < e->nkept; i++) {
		char *x = render(e->kept[i]);

		fputs(x, e->fp);
		free(x);
		gpu_agg_free(e->kept[i]);
	}
	free(e->kept);
	e->kept = NULL;
	e->nkept = 0;
}

/*
 * gpu_query_each() hands over the groups of gpu_query_run() (and of
 * gpu_query_scan() with scan_all), bucket by bucket in order, each bucket
 * whole; a receiver's -1 stops the query with its error.
 */
static void
test_query_each(void **state)
{
	static const struct qspec qs[] = {
	    {GPU_PERIOD_ALL, 0, -1, -1},
	    {GPU_PERIOD_DAY, GPU_DIM_NODE | GPU_DIM_JOB, -1, -1},
	    {GPU_PERIOD_WEEK, GPU_DIM_USER, 3, 170},
	    {GPU_PERIOD_HOUR, GPU_DIM_NODE, 5, 60},
	    {GPU_PERIOD_HOUR, GPU_DIM_USER | GPU_DIM_PROJECT, -1, -1},
	    {GPU_PERIOD_DAY, GPU_DIM_GPU | GPU_DIM_MODEL, 8, 56},
	};
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;

	(void)state;
	db = rolled_up_db(&o);
	/* One hour stale: it comes from the facts, inside its bucket. */
	add_facts(db, T + 30 * HOUR + 1000, 12);
	exec(db, "INSERT INTO dirty_hours VALUES(1795989600000)");
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		for (int scan_all = 0; scan_all < 2; scan_all++) {
			struct gpu_agg_query q;
			struct gpu_agg *r = NULL;
			struct each e = {NULL, 0, 0, 0, false, NULL, 0};
			char *want, *got = NULL;
			size_t len = 0;
			int buckets = 0;

			qspec_query(&qs[i], 60000, &q);
			assert_int_equal(scan_all
					     ? gpu_query_scan(db, &q, &r, &err)
					     : gpu_query_run(db, &q, &r, &err),
					 0);
			want = render(r);
			for (size_t g = 0; g < gpu_agg_count(r); g++)
				if (g == 0 ||
				    gpu_agg_group(r, g)->bucket_ms !=
					gpu_agg_group(r, g - 1)->bucket_ms)
					buckets++;
			gpu_agg_free(r);
			e.fp = open_memstream(&got, &len);
			assert_non_null(e.fp);
			/* Half the queries keep their aggregates past the end. */
			e.keep = (i + (size_t)scan_all) % 2 == 1;
			assert_int_equal(gpu_query_each(db, &q, scan_all != 0,
							each_bucket, &e, &err),
					 0);
			assert_int_equal(e.nkept, e.keep ? (size_t)e.calls : 0);
			each_kept(&e);
			fclose(e.fp);
			if (strcmp(want, got) != 0)
				fail_msg("query %zu (scan %d) differs:\n%s\n%s",
					 i, scan_all, want, got);
			assert_int_equal(e.calls, buckets);
			/* 73 hours of facts: many buckets by hour. */
			assert_true(q.period != GPU_PERIOD_HOUR ||
				    buckets > 50);
			free(want);
			free(got);

			/* Stopped at its second bucket: no third call. */
			if (buckets < 2)
				continue;
			got = NULL;
			e = (struct each){open_memstream(&got, &len), 0, 2, 0,
					  true, NULL, 0};
			assert_int_equal(gpu_query_each(db, &q, scan_all != 0,
							each_bucket, &e, &err),
					 -1);
			assert_int_equal(e.nkept, 1); /* the first, kept */
			each_kept(&e);
			fclose(e.fp);
			free(got);
			assert_string_equal(err.msg, "stop");
			assert_int_equal(e.calls, 2);
		}
	}
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/*
 * Hour by node from usage_hourly_node, whose rows are groups of their
 * own, except nodes without a name (keys nodes_dim lacks): those are one
 * group an hour, as the scan makes them, in a fresh hour, in a stale one
 * (from the facts) and bucket by bucket.
 */
static void
test_query_nodes_unnamed(void **state)
{
	static const int nodes[] = {1, 7, 2, 8};
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_agg_query q;
	struct gpu_agg *r = NULL, *s = NULL;
	struct gpu_err err = {0};
	struct each e = {NULL, 0, 0, 0, false, NULL, 0};
	sqlite3 *db = NULL;
	size_t hours = 0, len = 0;
	char *x, *y, *got = NULL;
	char sql[320];

	(void)state;
	db = fixture_db(&o);
	for (int i = 0; i < 48; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu,"
			 " util_pct, mem_used_mib, mem_total_mib, interval_s,"
			 " ingest_id) VALUES(%lld, %d, 0, %d.5, %d, 40960, 60,"
			 " 1)",
			 (long long)(T + (int64_t)(i / 4) * 900000),
			 nodes[i % 4], i % 100, 1000 + i);
		exec(db, sql);
	}
	exec(db, "INSERT INTO dirty_hours SELECT DISTINCT"
		 " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact");
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	assert_int_equal(hours, 3);
	/* The middle hour stale: read from its facts. */
	exec(db, "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu, util_pct,"
		 " mem_used_mib, interval_s, ingest_id) VALUES(1795885230000,"
		 " 8, 1, 10, 10, 60, 1);"
		 "INSERT INTO dirty_hours VALUES(1795885200000)");
	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_HOUR;
	q.dims = GPU_DIM_NODE;
	assert_int_equal(gpu_query_run(db, &q, &r, &err), 0);
	assert_int_equal(gpu_query_scan(db, &q, &s, &err), 0);
	/* Three groups an hour: "" (nodes 7 and 8), n1, n2. */
	assert_int_equal(gpu_agg_count(r), 9);
	for (size_t i = 0; i < 9; i++)
		assert_string_equal(gpu_agg_group(r, i)->node,
				    i % 3 == 0 ? "" : i % 3 == 1 ? "n1" : "n2");
	assert_int_equal(gpu_agg_group(r, 0)->sums.samples, 8);
	assert_int_equal(gpu_agg_group(r, 3)->sums.samples, 9);
	x = render(r);
	y = render(s);
	assert_string_equal(x, y);
	e.fp = open_memstream(&got, &len);
	assert_non_null(e.fp);
	assert_int_equal(gpu_query_each(db, &q, false, each_bucket, &e, &err),
			 0);
	fclose(e.fp);
	assert_int_equal(e.calls, 3);
	assert_string_equal(got, x);
	free(got);
	free(x);
	free(y);
	gpu_agg_free(r);
	gpu_agg_free(s);
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/* A query's receiver that lets a writer commit at its first bucket. */
struct snap {
	struct each e;
	sqlite3 *w;
};

static int
snap_bucket(void *ctx, struct gpu_agg *a, struct gpu_err *err)
{
	struct snap *s = ctx;

	if (s->e.calls == 0)
		exec(s->w, "UPDATE usage_hourly_node SET samples ="
			   " samples + 1000000 WHERE hour_ms >= 1796097600000");
	return each_bucket(&s->e, a, err);
}

/*
 * A query reads one snapshot: a writer that commits new rollup rows
 * while the query hands over its first bucket changes none of its later
 * buckets (read after a stale hour, by another statement), only the next
 * query's.
 */
static void
test_query_one_snapshot(void **state)
{
	char path[64];
	struct gpu_db_opts rw = {.lock_timeout_ms = 1000};
	struct gpu_db_opts ro = {.lock_timeout_ms = 1000, .readonly = true};
	struct gpu_err err = {0};
	struct gpu_agg_query q;
	struct gpu_agg *r = NULL;
	struct snap s = {{NULL, 0, 0, 0, false, NULL, 0}, NULL};
	sqlite3 *db = NULL, *rd = NULL;
	char *want, *after, *got = NULL, sql[128];
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_query_snapshot.%ld.db",
		 (long)getpid());
	unlink(path);
	db = rolled_up_db(&rw);
	/* A stale hour in the middle: the rollup is read in two parts. */
	add_facts(db, T + 30 * HOUR + 1000, 12);
	exec(db, "INSERT INTO dirty_hours VALUES(1795989600000)");
	snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", path);
	exec(db, sql);
	assert_int_equal(gpu_db_close(db, &err), 0);
	assert_int_equal(gpu_db_open(path, &rw, &s.w, &err), 0);
	assert_int_equal(gpu_db_open(path, &ro, &rd, &err), 0);
	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_HOUR;
	q.dims = GPU_DIM_NODE;
	assert_int_equal(gpu_query_run(rd, &q, &r, &err), 0);
	want = render(r);
	gpu_agg_free(r);
	s.e.fp = open_memstream(&got, &len);
	assert_non_null(s.e.fp);
	assert_int_equal(gpu_query_each(rd, &q, false, snap_bucket, &s, &err),
			 0);
	fclose(s.e.fp);
	assert_string_equal(got, want);
	/* The next query sees the write. */
	assert_int_equal(gpu_query_run(rd, &q, &r, &err), 0);
	after = render(r);
	gpu_agg_free(r);
	assert_string_not_equal(after, want);
	free(want);
	free(after);
	free(got);
	assert_int_equal(gpu_db_close(rd, &err), 0);
	assert_int_equal(gpu_db_close(s.w, &err), 0);
	unlink(path);
}

/*
 * A sample of job key job on GPU gpu at ts, and the job's record unless
 * record is false.
 */
static void
put_job_sample(sqlite3 *db, int64_t job, bool record, int64_t ts, int gpu)
{
	char sql[256];

	if (record) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO jobs_dim(job_key, job_id)"
			 " VALUES(%lld, 'job%lld')",
			 (long long)job, (long long)job);
		exec(db, sql);
	}
	snprintf(sql, sizeof(sql),
		 "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu, util_pct,"
		 " mem_used_mib, job_key, interval_s, ingest_id)"
		 " VALUES(%lld, 1, %d, 50, 100, %lld, 60, 1)",
		 (long long)ts, gpu, (long long)job);
	exec(db, sql);
}

/* The hour of T rolled up, then the query by job over all time. */
static struct gpu_agg *
by_job(sqlite3 *db, struct gpu_agg_query *q)
{
	struct gpu_err err = {0};
	struct gpu_agg *r = NULL;
	size_t hours = 0;

	exec(db, "INSERT INTO dirty_hours VALUES(1795881600000)");
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	gpu_agg_query_init(q);
	q->dims = GPU_DIM_JOB;
	assert_int_equal(gpu_query_run(db, q, &r, &err), 0);
	return r;
}

/*
 * Names of keys met in any order and far from 1 (a day's jobs in a big
 * warehouse): each resolves to its own name, a key the table lacks to
 * the empty one, and a key no warehouse could hold is an error.
 */
static void
test_query_sparse_keys(void **state)
{
	/* Job keys in the order their facts come: up, down, across. */
	static const int64_t jobs[] = {5000000, 4999990, 5000050,
				       4999000, 5000001, 1000};
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_agg_query q;
	struct gpu_agg *r = NULL;
	struct gpu_err err = {0};
	sqlite3 *db = NULL;

	(void)state;
	db = fixture_db(&o);
	/* 5000050 is a key without a record. */
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
		put_job_sample(db, jobs[i], jobs[i] != 5000050,
			       T + (int64_t)i * 60000, 0);
	r = by_job(db, &q);
	/* Sorted by name: "", then job123456789, job4999000, ... */
	assert_int_equal(gpu_agg_count(r), 6);
	assert_string_equal(gpu_agg_group(r, 0)->job_id, "");
	assert_string_equal(gpu_agg_group(r, 1)->job_id, "job1000");
	assert_string_equal(gpu_agg_group(r, 2)->job_id, "job4999000");
	assert_string_equal(gpu_agg_group(r, 3)->job_id, "job4999990");
	assert_string_equal(gpu_agg_group(r, 4)->job_id, "job5000000");
	assert_string_equal(gpu_agg_group(r, 5)->job_id, "job5000001");
	gpu_agg_free(r);
	/* A damaged key: refused, not a huge allocation. */
	exec(db, "UPDATE usage_daily SET job_key = 1 << 50"
		 " WHERE job_key = 5000000;"
		 "UPDATE usage_daily_job SET job_key = 1 << 50"
		 " WHERE job_key = 5000000;"
		 "UPDATE usage_hourly SET job_key = 1 << 50"
		 " WHERE job_key = 5000000");
	assert_int_equal(gpu_query_run(db, &q, &r, &err), -1);
	assert_non_null(strstr(err.msg, "bad key"));
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/*
 * Keys met in descending order, more than a fill's 32 apart: each miss
 * reads up to the keys read before it, and every name resolves.
 */
static void
test_query_keys_descending(void **state)
{
	enum { NJOBS = 80 };
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_agg_query q;
	struct gpu_agg *r;
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	char name[32];

	(void)state;
	db = fixture_db(&o);
	/* GPU i runs job 1000 + NJOBS - i: rows by GPU meet keys downward. */
	for (int i = 0; i < NJOBS; i++)
		put_job_sample(db, 1000 + NJOBS - i, true, T, i);
	r = by_job(db, &q);
	assert_int_equal(gpu_agg_count(r), NJOBS);
	for (int i = 0; i < NJOBS; i++) {
		snprintf(name, sizeof(name), "job%d", 1001 + i);
		assert_string_equal(gpu_agg_group(r, (size_t)i)->job_id, name);
	}
	gpu_agg_free(r);
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/*
 * The query by job over a warehouse file of njobs jobs in one hour (ids
 * of 1 to 199 characters), copied by VACUUM so that its pages hold it
 * all, and how many page cursors the query opened; *out gets
 * render()'s text of its groups.
 */
static unsigned long
by_job_file(int njobs, char **out)
{
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_agg_query q;
	struct gpu_agg *r = NULL;
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	char path[64], sql[512];
	unsigned long before;
	size_t hours = 0;

	snprintf(path, sizeof(path), "/tmp/test_query_names.%ld.db",
		 (long)getpid());
	unlink(path);
	db = fixture_db(&o);
	for (int i = 0; i < njobs; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO jobs_dim(job_key, job_id) VALUES(%d,"
			 " printf('%%0*d', 1 + %d %% 199, %d));"
			 "INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu,"
			 " util_pct, mem_used_mib, job_key, interval_s,"
			 " ingest_id) VALUES(%lld, 1, %d, 50, 100, %d, 60, 1)",
			 10 + i, i, i, (long long)T, i, 10 + i);
		exec(db, sql);
	}
	exec(db, "INSERT INTO dirty_hours VALUES(1795881600000)");
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", path);
	exec(db, sql);
	assert_int_equal(gpu_db_close(db, &err), 0);
	assert_int_equal(gpu_db_open(path, &o, &db, &err), 0);
	gpu_agg_query_init(&q);
	q.dims = GPU_DIM_JOB;
	before = gpu_pages_opened();
	assert_int_equal(gpu_query_run(db, &q, &r, &err), 0);
	before = gpu_pages_opened() - before;
	assert_int_equal(gpu_agg_count(r), njobs);
	*out = render(r);
	gpu_agg_free(r);
	assert_int_equal(gpu_db_close(db, &err), 0);
	unlink(path);
	return before;
}

/*
 * Names read from their table's pages: past a first fill of 32 the job
 * names come from jobs_dim's pages (one cursor more than for 20 jobs,
 * whose one fill is a statement's), and the groups are those every name
 * read by a statement gives (GPUUSAGE_PAGES=0).
 */
static void
test_query_names_from_pages(void **state)
{
	char *few, *many, *by_statement;
	unsigned long opened_few, opened_many;

	(void)state;
	unsetenv("GPUUSAGE_PAGES");
	opened_few = by_job_file(20, &few);
	opened_many = by_job_file(300, &many);
	assert_true(opened_few > 0);
	assert_int_equal(opened_many, opened_few + 1);
	setenv("GPUUSAGE_PAGES", "0", 1);
	assert_int_equal(by_job_file(300, &by_statement), 0);
	unsetenv("GPUUSAGE_PAGES");
	assert_string_equal(many, by_statement);
	assert_non_null(strstr(many, ",000005,"));
	free(few);
	free(many);
	free(by_statement);
}

/* The samples of all of a's groups. */
static int64_t
agg_samples(const struct gpu_agg *a)
{
	int64_t n = 0;

	for (size_t i = 0; i < gpu_agg_count(a); i++)
		n += gpu_agg_group(a, i)->sums.samples;
	return n;
}

/* The number of rows of table (a literal) in db. */
#define TABLE_ROWS(db, table) (count_rows((db), "SELECT count(*) FROM " table))

static int64_t
count_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Where a query's whole hours or days come from. */
enum source { FROM_HOURLY, FROM_OWNER, FROM_JOB_DAY };

/*
 * Which rollup answers: queries by user, project, both or neither read
 * usage_hourly_owner at any period (its samples, inflated here by 1,000 a
 * row, show it); queries by job, model or profile (with or without the
 * owner) over whole days usage_daily_job (inflated by 100,000 a row);
 * others usage_daily or usage_hourly. Queries of different sources do
 * not share one read in gpu_query_run_many().
 */
static void
test_query_owner_rollup(void **state)
{
	static const struct {
		struct qspec q;
		enum source from;
	} qs[] = {
	    {{GPU_PERIOD_MONTH, GPU_DIM_USER, -1, -1}, FROM_OWNER},
	    {{GPU_PERIOD_ALL, 0, -1, -1}, FROM_OWNER},
	    {{GPU_PERIOD_DAY, GPU_DIM_PROJECT, -1, -1}, FROM_OWNER},
	    {{GPU_PERIOD_HOUR, GPU_DIM_USER, -1, -1}, FROM_OWNER},
	    {{GPU_PERIOD_WEEK, GPU_DIM_USER | GPU_DIM_PROJECT, -1, -1},
	     FROM_OWNER},
	    {{GPU_PERIOD_ALL, GPU_DIM_JOB, -1, -1}, FROM_JOB_DAY},
	    {{GPU_PERIOD_DAY, GPU_DIM_USER | GPU_DIM_NODE, -1, -1},
	     FROM_HOURLY},
	    {{GPU_PERIOD_HOUR, GPU_DIM_USER | GPU_DIM_MODEL, -1, -1},
	     FROM_HOURLY},
	    {{GPU_PERIOD_DAY, GPU_DIM_JOB | GPU_DIM_USER, -1, -1},
	     FROM_JOB_DAY},
	    {{GPU_PERIOD_MONTH, GPU_DIM_MODEL | GPU_DIM_PROFILE, -1, -1},
	     FROM_JOB_DAY},
	    {{GPU_PERIOD_HOUR, GPU_DIM_JOB, -1, -1}, FROM_HOURLY},
	    {{GPU_PERIOD_DAY, GPU_DIM_JOB | GPU_DIM_GPU, -1, -1}, FROM_HOURLY},
	};
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	struct gpu_agg_query q[2];
	struct gpu_agg *a[2] = {NULL, NULL}, *r = NULL;
	int64_t nown, njob, extra[3];
	sqlite3 *db;

	(void)state;
	db = rolled_up_db(&o);
	exec(db, "UPDATE usage_hourly_owner SET samples = samples + 1000;"
		 "UPDATE usage_daily_job SET samples = samples + 100000");
	nown = TABLE_ROWS(db, "usage_hourly_owner");
	njob = TABLE_ROWS(db, "usage_daily_job");
	assert_true(nown > 0 && njob > 0);
	extra[FROM_HOURLY] = 0;
	extra[FROM_OWNER] = 1000 * nown;
	extra[FROM_JOB_DAY] = 100000 * njob;
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		qspec_query(&qs[i].q, 0, &q[0]);
		assert_int_equal(gpu_query_run(db, &q[0], &r, &err), 0);
		if (agg_samples(r) != 1300 + extra[qs[i].from])
			fail_msg("query %zu: %lld samples", i,
				 (long long)agg_samples(r));
		gpu_agg_free(r);
	}
	/* By job (job-day rows) and by month and user (owner rows). */
	qspec_query(&qs[5].q, 0, &q[0]);
	qspec_query(&qs[0].q, 0, &q[1]);
	assert_int_equal(gpu_query_run_many(db, q, 2, a, &err), 0);
	assert_int_equal(agg_samples(a[0]), 1300 + extra[FROM_JOB_DAY]);
	assert_int_equal(agg_samples(a[1]), 1300 + extra[FROM_OWNER]);
	gpu_agg_free(a[0]);
	gpu_agg_free(a[1]);
	/* By job and user (job-day rows), by day, user and node (day rows). */
	qspec_query(&qs[8].q, 0, &q[0]);
	qspec_query(&qs[6].q, 0, &q[1]);
	assert_int_equal(gpu_query_run_many(db, q, 2, a, &err), 0);
	assert_int_equal(agg_samples(a[0]), 1300 + extra[FROM_JOB_DAY]);
	assert_int_equal(agg_samples(a[1]), 1300);
	gpu_agg_free(a[0]);
	gpu_agg_free(a[1]);
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/* Every query of qs on db, rendered one after the other. */
static char *
run_all(sqlite3 *db)
{
	static const struct qspec qs[] = {
	    {GPU_PERIOD_ALL, GPU_DIM_USER, -1, -1},
	    {GPU_PERIOD_DAY, GPU_DIM_NODE | GPU_DIM_JOB, -1, -1},
	    {GPU_PERIOD_HOUR, GPU_DIM_NODE, 2, 40},
	    {GPU_PERIOD_HOUR, GPU_DIM_PROJECT, -1, -1},
	    {GPU_PERIOD_WEEK, GPU_DIM_GPU | GPU_DIM_MODEL, 1, 70},
	    {GPU_PERIOD_ALL, GPU_DIM_JOB, 8, 56},
	};
	struct gpu_err err = {0};
	char *all = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&all, &len);

	assert_non_null(fp);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		struct gpu_agg_query q;
		struct gpu_agg *a = NULL;
		char *x;

		qspec_query(&qs[i], 60000, &q);
		if (gpu_query_run(db, &q, &a, &err) != 0)
			fail_msg("query %zu: %s", i, err.msg);
		x = render(a);
		fprintf(fp, "%zu:\n%s", i, x);
		free(x);
		gpu_agg_free(a);
	}
	fclose(fp);
	return all;
}

/*
 * A reader of stale rollups (dirty hours, a job owner names_dim lacks)
 * opens the file read-only, changes nothing, and gets exactly what it
 * gets after a refresh.
 */
static void
test_query_stale_read_only(void **state)
{
	char path[] = "/tmp/test_query.XXXXXX";
	struct gpu_db_opts rw = {.lock_timeout_ms = 1000},
			   ro = {.readonly = true, .lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	struct stat before, after;
	char *stale, *fresh;
	size_t hours = 0;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gpu_db_open(path, &rw, &db, &err), 0);
	exec(db, "INSERT INTO nodes_dim(node_id, node) VALUES(1, 'n1'),"
		 "(2, 'n2');"
		 "INSERT INTO names_dim(name_key, name) VALUES(1, 'alice'),"
		 "(2, 'p1'), (3, 'A100');"
		 "INSERT INTO jobs_dim(job_key, job_id, user, project)"
		 " VALUES(1, 'j1', 'zed', 'p1');");
	add_facts(db, T, 600);
	exec(db, "INSERT INTO dirty_hours SELECT DISTINCT"
		 " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact");
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	/* Later: corrected facts, a new owner, some hours dirty again. */
	exec(db, "UPDATE jobs_dim SET user = 'bob', project = 'p9';"
		 "UPDATE gpu_usage_fact SET util_pct = util_pct / 2"
		 " WHERE ts_ms % 3 = 0;"
		 "INSERT INTO dirty_hours SELECT DISTINCT"
		 " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact"
		 " WHERE ts_ms % 7 < 3");
	add_facts(db, T + 30 * HOUR + 7000, 30);
	exec(db, "INSERT OR IGNORE INTO dirty_hours SELECT DISTINCT"
		 " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact"
		 " WHERE ts_ms % 1000 = 7");
	assert_int_equal(gpu_db_close(db, &err), 0);

	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(gpu_db_open(path, &ro, &db, &err), 0);
	stale = run_all(db);
	assert_int_equal(sqlite3_total_changes(db), 0);
	assert_int_equal(gpu_db_close(db, &err), 0);
	assert_int_equal(stat(path, &after), 0);
	assert_true(before.st_size == after.st_size);
	assert_true(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
		    before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
	assert_non_null(strstr(stale, ",bob,"));

	assert_int_equal(gpu_db_open(path, &rw, &db, &err), 0);
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	assert_true(hours > 0);
	fresh = run_all(db);
	assert_int_equal(gpu_db_close(db, &err), 0);
	assert_string_equal(stale, fresh);
	free(stale);
	free(fresh);
	unlink(path); /* the writer removed -wal and -shm when it closed */
}

/* The sum of the samples of a's groups of bucket b and user u. */
static int64_t
samples_of(struct gpu_agg *a, int64_t b, const char *u)
{
	int64_t n = 0;

	for (size_t i = 0; i < gpu_agg_count(a); i++) {
		const struct gpu_group *g = gpu_agg_group(a, i);

		if (g->bucket_ms == b && strcmp(g->user, u) == 0)
			n += g->sums.samples;
	}
	return n;
}

/*
 * By usage category the query reads the facts, stale hours included:
 * each class holds the facts the schema's virtual column usage_category
 * puts in it, the classes of a group add up to the group without them,
 * and the rollup query and the scan agree.
 */
static void
test_query_usage_category(void **state)
{
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_agg_query q;
	struct gpu_agg *r = NULL, *s = NULL, *all = NULL;
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	size_t hours = 0;
	char *x, *y;

	(void)state;
	db = fixture_db(&o);
	add_facts(db, T, 600);
	exec(db, "INSERT INTO dirty_hours SELECT DISTINCT"
		 " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact");
	assert_int_equal(gpu_rollup_refresh(db, &hours, &err), 0);
	exec(db, "UPDATE gpu_usage_fact SET util_pct = 100 - util_pct"
		 " WHERE ts_ms % 7 = 0;"
		 "INSERT INTO dirty_hours SELECT DISTINCT"
		 " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact"
		 " WHERE ts_ms % 7 = 0");

	gpu_agg_query_init(&q);
	q.dims = GPU_DIM_CATEGORY;
	assert_int_equal(gpu_query_run(db, &q, &r, &err), 0);
	assert_int_equal(gpu_agg_count(r), 4);
	st = gpu_db_prepare(db,
			    "SELECT usage_category, count(*) FROM"
			    " gpu_usage_fact GROUP BY usage_category",
			    &err);
	assert_non_null(st);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		size_t i = 0;

		while (i < 4 &&
		       strcmp(gpu_usage_cat_name((enum gpu_usage_cat)i),
			      name) != 0)
			i++;
		assert_true(i < 4);
		assert_int_equal(gpu_agg_group(r, i)->category, (int)i);
		assert_int_equal(gpu_agg_group(r, i)->sums.samples,
				 sqlite3_column_int64(st, 1));
	}
	sqlite3_finalize(st);
	gpu_agg_free(r);

	q.period = GPU_PERIOD_HOUR;
	q.dims = GPU_DIM_USER | GPU_DIM_CATEGORY;
	q.from_ms = T + 600000;
	q.to_ms = T + 30 * HOUR;
	assert_int_equal(gpu_query_run(db, &q, &r, &err), 0);
	assert_int_equal(gpu_query_scan(db, &q, &s, &err), 0);
	x = render(r);
	y = render(s);
	assert_string_equal(x, y);
	free(x);
	free(y);
	q.dims = GPU_DIM_USER;
	assert_int_equal(gpu_query_run(db, &q, &all, &err), 0);
	assert_true(gpu_agg_count(r) > gpu_agg_count(all));
	for (size_t i = 0; i < gpu_agg_count(all); i++) {
		const struct gpu_group *g = gpu_agg_group(all, i);

		assert_int_equal(g->category, -1);
		assert_int_equal(samples_of(r, g->bucket_ms, g->user),
				 g->sums.samples);
	}
	gpu_agg_free(r);
	gpu_agg_free(s);
	gpu_agg_free(all);
	assert_int_equal(gpu_db_close(db, &err), 0);
}

/*
 * Queries that share one read (gpu_query_run_many()) get exactly what
 * each gets on its own, from stale rollups too: dirty hours read from
 * the facts, whose job owner names_dim lacks. Queries that cannot share
 * (by hour, another threshold, another rollup) are run apart, with the
 * same result: in the first set, 1 and 2 share a read of usage_daily, 0
 * reads usage_daily_job and 3 usage_hourly_owner.
 */
static void
test_query_run_many(void **state)
{
	static const struct qspec shared[] = {
	    {GPU_PERIOD_ALL, GPU_DIM_JOB | GPU_DIM_MODEL | GPU_DIM_PROFILE, 2,
	     70},
	    {GPU_PERIOD_DAY, GPU_DIM_JOB | GPU_DIM_NODE | GPU_DIM_MODEL, 2, 70},
	    {GPU_PERIOD_DAY, GPU_DIM_NODE | GPU_DIM_MODEL, 2, 70},
	    {GPU_PERIOD_WEEK, GPU_DIM_USER, 2, 70},
	};
	static const struct qspec apart[] = {
	    {GPU_PERIOD_DAY, GPU_DIM_JOB, 2, 70},
	    {GPU_PERIOD_HOUR, GPU_DIM_NODE, 2, 70},
	};
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = rolled_up_db(&o);

	(void)state;
	/* Stale: a new owner names_dim lacks, and dirty hours. */
	exec(db, "UPDATE jobs_dim SET user = 'zed', project = 'p9';"
		 "INSERT INTO dirty_hours SELECT DISTINCT"
		 " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact"
		 " WHERE ts_ms % 7 < 3");
	for (int set = 0; set < 4; set++) {
		const struct qspec *qs = set % 2 == 0 ? shared : apart;
		size_t n = set % 2 == 0 ? 4 : 2;
		struct gpu_agg_query q[4];
		struct gpu_agg *many[4], *one;
		char *all = NULL;

		/*
		 * Sets 0 and 1: a range with edges inside hours; 2 and 3:
		 * the whole range. 1 is apart by its period by hour, 3 by a
		 * threshold other than the default.
		 */
		for (size_t i = 0; i < n; i++) {
			qspec_query(&qs[i], 60000, &q[i]);
			if (set >= 2) {
				q[i].from_ms = INT64_MIN;
				q[i].to_ms = INT64_MAX;
			}
		}
		if (set == 3) {
			q[1].period = GPU_PERIOD_DAY;
			q[1].dims = GPU_DIM_NODE;
			q[1].threshold_mib = 8192;
		}
		assert_int_equal(gpu_query_run_many(db, q, n, many, &err), 0);
		for (size_t i = 0; i < n; i++) {
			char *x, *y;

			assert_int_equal(gpu_query_run(db, &q[i], &one, &err),
					 0);
			assert_true(gpu_agg_count(many[i]) > 0);
			x = render(many[i]);
			y = render(one);
			if (strcmp(x, y) != 0)
				fail_msg("set %d query %zu differs:\n%s\n%s",
					 set, i, x, y);
			if (i == 1)
				all = x;
			else
				free(x);
			free(y);
			gpu_agg_free(many[i]);
			gpu_agg_free(one);
		}
		/* The pending owner reached a query that did not read. */
		if (set == 0)
			assert_non_null(strstr(all, ",zed,p9,"));
		free(all);
	}
	/* A failed query fails them all and leaves nothing. */
	{
		struct gpu_agg_query q[2];
		struct gpu_agg *many[2] = {NULL, NULL};

		qspec_query(&shared[0], 0, &q[0]);
		qspec_query(&shared[1], 0, &q[1]);
		q[0].to_ms = q[1].to_ms = q[0].from_ms;
		assert_int_equal(gpu_query_run_many(db, q, 2, many, &err), -1);
		assert_string_equal(err.msg, "empty time range");
		assert_null(many[0]);
		assert_null(many[1]);
	}
	assert_int_equal(gpu_db_close(db, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_query_rollup_matches_scan),
	    cmocka_unit_test(test_query_daily_matches_scan),
	    cmocka_unit_test(test_query_stale_read_only),
	    cmocka_unit_test(test_query_usage_category),
	    cmocka_unit_test(test_query_each),
	    cmocka_unit_test(test_query_nodes_unnamed),
	    cmocka_unit_test(test_query_sparse_keys),
	    cmocka_unit_test(test_query_keys_descending),
	    cmocka_unit_test(test_query_names_from_pages),
	    cmocka_unit_test(test_query_run_many),
	    cmocka_unit_test(test_query_one_snapshot),
	    cmocka_unit_test(test_query_owner_rollup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
