/* SPDX-License-Identifier: MIT */
/*
 * The ingest invariant, reader -> ingest -> rollup on an in-memory
 * warehouse: every row read is counted once, as inserted, updated,
 * unchanged, superseded or rejected (see count_sum(): a new outcome is one
 * more term there), the rollups then hold no dirty hour, their sample
 * count is that of the facts, and they are the same bytes as a rebuild of
 * every hour from the facts (the rows gpuingest sums as it loads, and the
 * day rows it sums from them, included). Loaded again, the input, even
 * one that contradicts itself, inserts and updates nothing. Queries that
 * share one read of the rollups (gpu_query_run_many()) get what each gets
 * on its own.
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "gpu/buf.h"
#include "gpu/db.h"
#include "gpu/diag.h"
#include "gpu/ingest.h"
#include "gpu/query.h"
#include "gpu/reader.h"
#include "gpu/rollup.h"

/* The outcomes of gpu_ingest_counts, each row counted in exactly one. */
static int64_t
count_sum(const struct gpu_ingest_counts *c)
{
	return c->inserted + c->updated + c->unchanged + c->superseded +
	       c->rejected;
}

static int64_t
one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Column c of st's row, a double exactly. */
static void
add_value(struct gpu_buf *b, sqlite3_stmt *st, int c)
{
	if (sqlite3_column_type(st, c) == SQLITE_FLOAT)
		gpu_buf_addf(b, "%a|", sqlite3_column_double(st, c));
	else
		gpu_buf_addf(b, "%lld|",
			     (long long)sqlite3_column_int64(st, c));
}

/* Every row of the five rollups into b; -1 on error. */
static int
dump_rollups(sqlite3 *db, struct gpu_buf *b)
{
	static const char *const sql[] = {
	    "SELECT * FROM usage_hourly", "SELECT * FROM usage_hourly_node",
	    "SELECT * FROM usage_hourly_owner", "SELECT * FROM usage_daily",
	    "SELECT * FROM usage_daily_job"};

	gpu_buf_reset(b);
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = NULL;
		int rc;

		if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return -1;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++)
				add_value(b, st, c);
			gpu_buf_addc(b, '\n');
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return 0;
}

/* Every hour of the facts marked for a rebuild. */
static const char REBUILD_ALL[] =
    "INSERT OR IGNORE INTO dirty_hours SELECT DISTINCT"
    " ts_ms / 3600000 * 3600000 FROM gpu_usage_fact_rows;";

/* Whether the rollups are those of a rebuild of every hour. */
static bool
as_rebuilt(sqlite3 *db)
{
	struct gpu_buf a, b;
	struct gpu_err err;
	size_t hours;
	bool same;

	gpu_buf_init(&a);
	gpu_buf_init(&b);
	same = dump_rollups(db, &a) == 0 &&
	       gpu_db_exec(db, REBUILD_ALL, &err) == 0 &&
	       gpu_rollup_update(db, &hours, &err) == 0 &&
	       dump_rollups(db, &b) == 0 && a.len == b.len &&
	       (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
	gpu_buf_release(&a);
	gpu_buf_release(&b);
	return same;
}

/* a's groups, keys and sums exactly, into b. */
static void
add_groups(struct gpu_buf *b, const struct gpu_agg *a)
{
	for (size_t i = 0; i < gpu_agg_count(a); i++) {
		const struct gpu_group *g = gpu_agg_group(a, i);

		gpu_buf_addf(b, "%lld|%s|%d|%d|%s|%s|%s|%s|%s|",
			     (long long)g->bucket_ms, g->node, g->gpu, g->mig,
			     g->job_id, g->user, g->project, g->model,
			     g->profile);
		gpu_buf_add(b, &g->sums, sizeof(g->sums));
	}
}

/*
 * Whether three queries of one range (gpureport's bill, cells and node
 * days), run on one read, equal each run on its own; over all time, and
 * over a range whose edges fall inside hours.
 */
static bool
shared_reads_agree(sqlite3 *db)
{
	static const struct {
		enum gpu_period p;
		unsigned dims;
	} qs[] = {
	    {GPU_PERIOD_ALL, GPU_DIM_JOB | GPU_DIM_MODEL | GPU_DIM_PROFILE},
	    {GPU_PERIOD_DAY, GPU_DIM_JOB | GPU_DIM_NODE | GPU_DIM_MODEL},
	    {GPU_PERIOD_DAY, GPU_DIM_NODE | GPU_DIM_MODEL},
	};
	int64_t lo = one_int(db, "SELECT min(ts_ms) FROM gpu_usage_fact_rows");
	int64_t hi = one_int(db, "SELECT max(ts_ms) FROM gpu_usage_fact_rows");
	bool same = true;

	for (int edges = 0; edges < 2 && same; edges++) {
		struct gpu_agg_query q[3];
		struct gpu_agg *many[3], *one;
		struct gpu_err err;

		for (int i = 0; i < 3; i++) {
			gpu_agg_query_init(&q[i]);
			q[i].period = qs[i].p;
			q[i].dims = qs[i].dims;
			if (edges) {
				q[i].from_ms = lo + 90000;
				q[i].to_ms = hi - 30000;
			}
		}
		if (edges && q[0].from_ms >= q[0].to_ms)
			break;
		if (gpu_query_run_many(db, q, 3, many, &err) != 0)
			return false;
		for (int i = 0; i < 3; i++) {
			struct gpu_buf a, b;

			gpu_buf_init(&a);
			gpu_buf_init(&b);
			if (gpu_query_run(db, &q[i], &one, &err) != 0) {
				same = false;
			} else {
				add_groups(&a, many[i]);
				add_groups(&b, one);
				same = same && a.len == b.len &&
				       (a.len == 0 ||
					memcmp(a.data, b.data, a.len) == 0);
				gpu_agg_free(one);
			}
			gpu_agg_free(many[i]);
			gpu_buf_release(&a);
			gpu_buf_release(&b);
		}
	}
	return same;
}

/* Load the input once (again: it was loaded before); 0 fine, 1 broken. */
static int
load(sqlite3 *db, const uint8_t *data, size_t size, bool again)
{
	struct gpu_ingest_opts io = {.interval_s = 60};
	struct gpu_reader_opts ro;
	struct gpu_ingest *ing = NULL;
	struct gpu_reader *r = NULL;
	struct gpu_err err;
	struct gpu_sample s;
	struct gpu_reject rej;
	const struct gpu_ingest_counts *c;
	size_t hours;
	long line;
	int rc, bad = 0;
	FILE *fp = fuzz_file(data, size);

	memset(&ro, 0, sizeof(ro));
	ro.format = GPU_FMT_AUTO;
	if (gpu_db_exec(db, "BEGIN IMMEDIATE", &err) != 0)
		__builtin_trap();
	ing = gpu_ingest_new(db, &io, &err);
	r = gpu_reader_new(fp, "fuzz", &ro, &err);
	if (ing == NULL || r == NULL ||
	    gpu_ingest_begin_source(ing, "fuzz", 0, &err) != 0)
		goto out;
	while ((rc = gpu_reader_next(r, &s, &line, &rej, &err)) > 0) {
		if (rc == GPU_READ_REJECT)
			rc = gpu_ingest_reject(ing, rej.line, rej.reason,
					       rej.raw, &err);
		else
			rc = gpu_ingest_sample(ing, &s, &err);
		if (rc != 0)
			goto out;
	}
	/* As gpuingest does: the hours it summed as it loaded are kept. */
	if (rc < 0 || gpu_ingest_end_source(ing, NULL, 0, &err) != 0 ||
	    gpu_ingest_finish(ing, &err) != 0 ||
	    gpu_rollup_update_built(db, gpu_ingest_built, gpu_ingest_day, ing,
				    &hours, &err) != 0)
		goto out;
	c = gpu_ingest_source_counts(ing);
	if (c->read != count_sum(c))
		bad = 1;
	if (again && (c->inserted != 0 || c->updated != 0))
		bad = 1;
	if (one_int(db, "SELECT count(*) FROM dirty_hours") != 0)
		bad = 1;
	if (one_int(db, "SELECT count(*) FROM gpu_usage_fact") !=
	    one_int(db, "SELECT coalesce(sum(samples), 0) FROM usage_hourly"))
		bad = 1;
	if (!bad && (!shared_reads_agree(db) || !as_rebuilt(db)))
		bad = 1;
out:
	gpu_reader_free(r);
	gpu_ingest_free(ing);
	fclose(fp);
	if (gpu_db_exec(db, bad ? "ROLLBACK" : "COMMIT", &err) != 0)
		(void)gpu_db_exec(db, "ROLLBACK", &err);
	return bad;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpu_db_opts dopts = {.readonly = false, .lock_timeout_ms = 0};
	struct gpu_err err;
	sqlite3 *db;

	if (size > 65536)
		return 0;
	if (gpu_db_open(":memory:", &dopts, &db, &err) != 0)
		__builtin_trap();
	/* Twice: the second run finds every sample known (idempotency). */
	if (load(db, data, size, false) != 0 || load(db, data, size, true) != 0)
		__builtin_trap();
	gpu_db_close(db, NULL);
	return 0;
}
