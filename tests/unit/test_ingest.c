/* SPDX-License-Identifier: MIT */
/* Unit tests for the warehouse loader (gpu/ingest.h) on real warehouses. */
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
#include "gpu/ingest.h"

#include "warehouse-fixture.h"

/* 2026-11-28T16:00:00Z */
#define T INT64_C(1795881600000)
#define MIN INT64_C(60000)

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
	s.mem_used_mib = 1000;
	s.mem_total_mib = 81920;
	s.has_mem_total = true;
	s.job_id = str(job);
	s.model = str("NVIDIA H100");
	return s;
}

static int64_t
q(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL
			? -99
			: sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}


/* Load n samples as one input in one transaction; return its counts. */
static struct gpu_ingest_counts
load(sqlite3 *db, const struct gpu_sample *s, int n)
{
	struct gpu_ingest_opts o = {60};
	struct gpu_err err;
	struct gpu_ingest *ing;
	struct gpu_ingest_counts c;

	assert_int_equal(gpu_db_begin(db, "t", &err), 0);
	ing = gpu_ingest_new(db, &o, &err);
	assert_non_null(ing);
	assert_int_equal(gpu_ingest_begin_source(ing, "t", 1, &err), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(gpu_ingest_sample(ing, &s[i], &err), 0);
	assert_int_equal(gpu_ingest_end_source(ing, "ab", 2, &err), 0);
	assert_int_equal(gpu_ingest_finish(ing, &err), 0);
	c = *gpu_ingest_source_counts(ing);
	gpu_ingest_free(ing);
	assert_int_equal(gpu_db_commit(db, &err), 0);
	assert_true(c.read == c.inserted + c.updated + c.unchanged +
				  c.superseded + c.rejected);
	return c;
}

static void
test_ingest_upsert_counts(void **state)
{
	struct fixture *f = *state;
	struct gpu_sample s[40];
	struct gpu_ingest_counts c;
	int n = 0;

	/* 36 rows over 3 timestamps, 2 nodes, 6 GPUs; 4 in-run repeats. */
	for (int t = 0; t < 3; t++)
		for (int node = 0; node < 2; node++)
			for (int g = 0; g < 6; g++)
				s[n++] = sample(T + t * MIN, node ? "n2" : "n1",
						g, 50, "");
	s[n++] = sample(T, "n1", 0, 50, "");	   /* identical */
	s[n++] = sample(T + MIN, "n2", 1, 60, ""); /* differs */
	s[n++] = sample(T + 2 * MIN, "n2", 5, 50, "j"); /* job */
	s[n++] = sample(T + 2 * MIN, "n2", 5, 50, "j"); /* and again */
	/* The last row of a key wins; the earlier ones are superseded. */
	c = load(f->db, s, n);
	assert_int_equal(c.read, 40);
	assert_int_equal(c.inserted, 36);
	assert_int_equal(c.updated, 0);
	assert_int_equal(c.unchanged, 0);
	assert_int_equal(c.superseded, 4);
	assert_true(c.min_ts_ms == T && c.max_ts_ms == T + 2 * MIN);
	assert_int_equal(q(f->db, "SELECT count(*) FROM gpu_usage_fact"), 36);
	assert_int_equal(q(f->db, "SELECT util_pct FROM gpu_usage_fact WHERE"
				  " gpu = 1 AND node_id = 2 AND ts_ms ="
				  " 1795881660000"),
			 60);

	/*
	 * The same input again changes nothing, though it contradicts
	 * itself: every key's last row equals what is stored.
	 */
	c = load(f->db, s, n);
	assert_int_equal(c.inserted, 0);
	assert_int_equal(c.updated, 0);
	assert_int_equal(c.unchanged, 36);
	assert_int_equal(c.superseded, 4);
	assert_int_equal(q(f->db, "SELECT util_pct FROM gpu_usage_fact WHERE"
				  " gpu = 1 AND node_id = 2 AND ts_ms ="
				  " 1795881660000"),
			 60);
	/* Out of time order, a repeat of a row found unchanged. */
	{
		struct gpu_sample r[3] = {s[13], s[0], s[13]};

		c = load(f->db, r, 3);
		assert_int_equal(c.unchanged, 2);
		assert_int_equal(c.superseded, 1);
		assert_int_equal(c.updated, 0);
	}
	c = load(f->db, s, 36);
	assert_int_equal(c.inserted, 0);
	/* Rows 13 and 35 were corrected by the repeats; loading the
	 * originals alone sets them back. */
	assert_int_equal(c.updated, 2);
	assert_int_equal(c.unchanged, 34);
	assert_int_equal(q(f->db, "SELECT count(*) FROM gpu_usage_fact"), 36);
	assert_int_equal(q(f->db, "SELECT sum(rows_read) FROM ingest_log"
				  " WHERE status = 'ok' AND sha256 = 'ab'"),
			 119);
	assert_int_equal(q(f->db, "SELECT sum(superseded) FROM ingest_log"),
			 9);
}

/*
 * Rows loaded 64 to a statement keep the values of their own sample
 * whatever the row in the same place of the batch before held: a value
 * equal to it, a different one, NULL after a value and back, a MIG id
 * of the same length. (The loader binds only what changed.)
 */
static void
test_ingest_batch_values(void **state)
{
	struct fixture *f = *state;
	static const char *const migs[] = {"1", "2", "11", "2"};
	struct gpu_sample s[6 * 64];
	char jobs[6 * 64][8];
	sqlite3_stmt *st;
	int n = 0;

	for (int b = 0; b < 6; b++) {
		for (int slot = 0; slot < 64; slot++) {
			struct gpu_sample *x = &s[n];
			const char *node[] = {"n1", "n2", "n3", "n4",
					      "n5", "n6", "n7", "n8"};

			snprintf(jobs[n], sizeof(jobs[n]), "j%d", slot % 5);
			*x = sample(T + b * MIN, node[slot / 8], slot % 8,
				    (b / 2 * 10 + slot) % 100,
				    b % 4 < 2 ? "" : jobs[n]);
			x->mem_used_mib = b % 3 == 0 ? 1000 : 2000 + slot;
			x->has_mem_total = b != 2;
			x->mem_total_mib = x->has_mem_total ? 81920 : 0;
			x->has_power = b % 3 != 1;
			x->power_w = x->has_power ? 100.5 + b : 0;
			x->has_temp = b % 2 == 0;
			x->temp_c = x->has_temp ? 40 + slot : 0;
			if (slot == 63)
				assert_null(gpu_sample_set_mig(
				    x, str(migs[b % 4]), str("1g.10gb")));
			n++;
		}
	}
	load(f->db, s, n);
	assert_int_equal(q(f->db, "SELECT count(*) FROM gpu_usage_fact"), n);
	assert_int_equal(
	    sqlite3_prepare_v2(
		f->db,
		"SELECT f.util_pct, f.mem_used_mib, f.mem_total_mib,"
		" f.power_w, f.temp_c, f.mig, j.job_id"
		" FROM gpu_usage_fact f JOIN nodes_dim d USING (node_id)"
		" LEFT JOIN jobs_dim j USING (job_key)"
		" WHERE f.ts_ms = ? AND d.node = ? AND f.gpu = ?",
		-1, &st, NULL),
	    SQLITE_OK);
	for (int i = 0; i < n; i++) {
		const struct gpu_sample *x = &s[i];
		const char *job;
		char mig[4];

		sqlite3_bind_int64(st, 1, x->ts_ms);
		sqlite3_bind_text(st, 2, x->node.p, (int)x->node.len,
				  SQLITE_STATIC);
		sqlite3_bind_int(st, 3, x->gpu);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_true(sqlite3_column_double(st, 0) == x->util_pct);
		assert_int_equal(sqlite3_column_int64(st, 1), x->mem_used_mib);
		if (x->has_mem_total)
			assert_int_equal(sqlite3_column_int64(st, 2), 81920);
		else
			assert_int_equal(sqlite3_column_type(st, 2),
					 SQLITE_NULL);
		if (x->has_power)
			assert_true(sqlite3_column_double(st, 3) == x->power_w);
		else
			assert_int_equal(sqlite3_column_type(st, 3),
					 SQLITE_NULL);
		if (x->has_temp)
			assert_true(sqlite3_column_double(st, 4) == x->temp_c);
		else
			assert_int_equal(sqlite3_column_type(st, 4),
					 SQLITE_NULL);
		snprintf(mig, sizeof(mig), "%d", x->mig);
		assert_string_equal((const char *)sqlite3_column_text(st, 5),
				    x->has_mig ? mig : "");
		job = (const char *)sqlite3_column_text(st, 6);
		if (x->job_id.len > 0)
			assert_string_equal(job, x->job_id.p);
		else
			assert_null(job);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
}

/* A small deterministic generator (xorshift64). */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Loads in every order against a model of the rules (docs/FORMAT.md 2.1:
 * the last row of a key wins and is compared with the warehouse before
 * the input; earlier rows are superseded): sorted runs the loader's
 * cursor follows, jumps back, keys between stored ones, repeats, and
 * regular times that its record of unchanged keys holds in memory.
 */
static void
test_ingest_reload_orders(void **state)
{
	enum { TS = 40, GPUS = 4, KEYS = 2 * TS * GPUS, ROWS = 500 };
	struct fixture *f = *state;
	static struct gpu_sample in[ROWS];
	static double stored[KEYS], last[KEYS];
	static bool has[KEYS], hit[KEYS];
	uint64_t x = 88172645463325252u;

	/* Keys: time slot (half a minute apart) x GPU; stored: even slots. */
	for (int k = 0; k < KEYS; k++)
		has[k] = false;
	for (int round = 0; round < 12; round++) {
		struct gpu_ingest_counts c, want = {0};
		int n = 0, k = (int)(rnd(&x) % KEYS);

		for (int i = 0; i < KEYS; i++)
			hit[i] = false;
		while (n < ROWS) {
			int mode = (int)(rnd(&x) % 10);

			if (mode < 6)
				k = (k + 1) % KEYS; /* the table's order */
			else if (mode < 8)
				k = (k + GPUS) % KEYS; /* one GPU's next */
			else
				k = (int)(rnd(&x) % KEYS); /* a jump */
			if (round == 0 && k % (2 * GPUS) >= GPUS)
				continue; /* the first load: even slots */
			in[n] = sample(T + (k / GPUS) * 30000, "n1", k % GPUS,
				       rnd(&x) % 4 == 0 ? 70 : 20, "");
			n++;
			if (hit[k])
				want.superseded++;
			hit[k] = true;
			last[k] = in[n - 1].util_pct;
		}
		for (int i = 0; i < KEYS; i++) {
			if (!hit[i])
				continue;
			if (!has[i])
				want.inserted++;
			else if (stored[i] == last[i])
				want.unchanged++;
			else
				want.updated++;
			has[i] = true;
			stored[i] = last[i];
		}
		c = load(f->db, in, n);
		assert_int_equal(c.inserted, want.inserted);
		assert_int_equal(c.updated, want.updated);
		assert_int_equal(c.unchanged, want.unchanged);
		assert_int_equal(c.superseded, want.superseded);
		for (int i = 0; i < KEYS; i++) {
			char sql[160];

			snprintf(sql, sizeof(sql),
				 "SELECT util_pct FROM gpu_usage_fact WHERE"
				 " ts_ms = %lld AND gpu = %d",
				 (long long)(T + (i / GPUS) * 30000), i % GPUS);
			assert_int_equal(q(f->db, sql),
					 has[i] ? (int64_t)stored[i] : -1);
		}
	}
	/*
	 * Keys new to the warehouse between two stored ones, one of them
	 * twice while the cursor has not moved: inserted once, then
	 * superseded, not taken for absent again.
	 */
	{
		struct gpu_ingest_counts c;

		in[0] = sample(T + 1000, "n1", 0, 30, "");
		in[1] = sample(T + 1000, "n1", 1, 30, "");
		in[2] = sample(T + 1000, "n1", 0, 40, "");
		in[3] = sample(T + 1000, "n1", 1, 30, "");
		c = load(f->db, in, 4);
		assert_int_equal(c.inserted, 2);
		assert_int_equal(c.superseded, 2);
		assert_int_equal(q(f->db, "SELECT util_pct FROM gpu_usage_fact"
					  " WHERE ts_ms = 1795881601000 AND"
					  " gpu = 0"),
				 40);
	}
}

static void
test_ingest_dims_and_dirty_hours(void **state)
{
	struct fixture *f = *state;
	struct gpu_sample s[3];
	struct gpu_ingest_counts c;

	s[0] = sample(T, "n1", 0, 10, "j1");
	s[1] = sample(T + 60 * MIN, "n1", 1, 10, "j1");
	s[2] = sample(T + 61 * MIN, "n1", 1, 10, "j1");
	s[2].model = str("NVIDIA A100");
	c = load(f->db, s, 3);
	assert_int_equal(c.inserted, 3);
	assert_int_equal(q(f->db, "SELECT count(*) FROM dirty_hours"), 2);
	assert_int_equal(q(f->db, "SELECT gpu_count FROM nodes_dim"), 2);
	assert_int_equal(q(f->db, "SELECT models = 'NVIDIA A100,NVIDIA H100'"
				  " FROM nodes_dim"),
			 1);
	assert_int_equal(q(f->db, "SELECT model = 'NVIDIA A100' FROM gpus_dim"
				  " WHERE gpu = 1"),
			 1);
	assert_true(q(f->db, "SELECT first_sample_ms FROM jobs_dim") == T);
	assert_true(q(f->db, "SELECT last_sample_ms FROM jobs_dim") ==
		    T + 61 * MIN);
	/* An unchanged re-load marks nothing. */
	assert_int_equal(gpu_db_exec(f->db, "DELETE FROM dirty_hours", NULL),
			 0);
	c = load(f->db, s, 3);
	assert_int_equal(c.unchanged, 3);
	assert_int_equal(q(f->db, "SELECT count(*) FROM dirty_hours"), 0);
}

static void
test_ingest_job_records(void **state)
{
	struct fixture *f = *state;
	struct gpu_sample s = sample(T, "n1", 0, 10, "42");
	struct gpu_ingest_opts o = {60};
	struct gpu_job job;
	struct gpu_err err;
	struct gpu_ingest *ing;
	const struct gpu_ingest_counts *c;

	s.user = str("sam"); /* the sample's own owner */
	load(f->db, &s, 1);
	assert_int_equal(gpu_db_exec(f->db, "DELETE FROM dirty_hours", NULL),
			 0);
	memset(&job, 0, sizeof(job));
	job.job_id = str("42");
	job.user = str("rec");
	job.project = str("p");
	job.has_gpus = true;
	job.gpus = 1;
	assert_int_equal(gpu_db_begin(f->db, "t", &err), 0);
	ing = gpu_ingest_new(f->db, &o, &err);
	assert_non_null(ing);
	assert_int_equal(gpu_ingest_begin_source(ing, "jobs", 1, &err), 0);
	assert_int_equal(gpu_ingest_job(ing, &job, &err), 0); /* inserted */
	assert_int_equal(gpu_ingest_job(ing, &job, &err), 0); /* unchanged */
	job.user.len = 0; /* absent: keeps "rec" */
	job.gpus = 2;
	assert_int_equal(gpu_ingest_job(ing, &job, &err), 0); /* updated */
	job.job_id = str("43");
	assert_int_equal(gpu_ingest_job(ing, &job, &err), 0); /* inserted */
	assert_int_equal(gpu_ingest_reject(ing, 7, "bad", str("x|y"), &err), 0);
	c = gpu_ingest_source_counts(ing);
	assert_int_equal(c->read, 5);
	assert_int_equal(c->inserted, 2);
	assert_int_equal(c->updated, 1);
	assert_int_equal(c->unchanged, 1);
	assert_int_equal(c->rejected, 1);
	assert_int_equal(gpu_ingest_end_source(ing, NULL, 2, &err), 0);
	gpu_ingest_free(ing);
	assert_int_equal(gpu_db_commit(f->db, &err), 0);
	assert_int_equal(q(f->db, "SELECT count(*) FROM jobs_dim WHERE"
				  " job_id = '42' AND user = 'rec' AND"
				  " gpu_count = 2"),
			 1);
	/* The record never overrides the sample's owner in the fact row. */
	assert_int_equal(q(f->db, "SELECT n.name = 'sam' FROM gpu_usage_fact"
				  " f JOIN names_dim n ON n.name_key ="
				  " f.user_key"),
			 1);
	/* The job's hours are dirty: its effective owner may change. */
	assert_true(q(f->db, "SELECT hour_ms FROM dirty_hours") == T);
	assert_int_equal(q(f->db, "SELECT line FROM rejects WHERE raw = 'x|y'"
				  " AND reason = 'bad'"),
			 7);
}

static void
test_ingest_v1_migration(void **state)
{
	struct fixture *f = *state;
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_sample s = sample(T + 5 * MIN, "n1", 0, 10, "");
	struct gpu_err err;
	sqlite3 *db;

	gpu_db_close(f->db, NULL);
	f->db = NULL;
	unlink(f->path);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(gpu_db_create_version(db, 1, &err), 0);
	assert_int_equal(
	    gpu_db_exec(db,
			"INSERT INTO nodes_dim(node) VALUES('n1');"
			"INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu,"
			" util_pct, mem_used_mib, interval_s, ingest_id)"
			" VALUES(1795881600000, 1, 0, 5, 10, 60, 0)",
			&err),
	    0);
	assert_int_equal(gpu_db_version(db), 1);
	sqlite3_close(db);

	assert_int_equal(gpu_db_open(f->path, &o, &f->db, &err), 0);
	assert_int_equal(gpu_db_version(f->db), GPU_DB_VERSION);
	s.has_power = true;
	s.power_w = 312.5;
	assert_int_equal(load(f->db, &s, 1).inserted, 1);
	assert_int_equal(q(f->db, "SELECT count(*) FROM gpu_usage_fact"), 2);
	assert_int_equal(q(f->db, "SELECT power_w FROM gpu_usage_fact WHERE"
				  " ts_ms = 1795881600000"),
			 -99); /* NULL: the old row had no reading */
	assert_int_equal(q(f->db, "SELECT power_w * 10 FROM gpu_usage_fact"
				  " WHERE ts_ms > 1795881600000"),
			 3125);
}


/* An allocation of job on node: gpus from a list, times in minutes from T. */
static struct gpu_alloc
alloc(const char *job, const char *node, const char *gpus, int start_min,
      int end_min)
{
	struct gpu_alloc a;

	memset(&a, 0, sizeof(a));
	a.job_id = str(job);
	a.node = str(node);
	for (const char *p = gpus; *p != '\0'; p++)
		if (*p >= '0' && *p <= '9')
			gpu_gpuset_add(&a.gpus, *p - '0');
	a.has_gpus = *gpus != '\0';
	a.has_start = start_min >= 0;
	a.start_ms = T + start_min * MIN;
	a.has_end = end_min >= 0;
	a.end_ms = T + end_min * MIN;
	return a;
}

/* Load allocations as one input; rejected ones count as rejected. */
static struct gpu_ingest_counts
load_allocs(sqlite3 *db, const struct gpu_alloc *a, int n)
{
	struct gpu_ingest_opts o = {60};
	struct gpu_err err;
	struct gpu_ingest *ing;
	struct gpu_ingest_counts c;
	const char *why;

	assert_int_equal(gpu_db_begin(db, "t", &err), 0);
	ing = gpu_ingest_new(db, &o, &err);
	assert_non_null(ing);
	assert_int_equal(gpu_ingest_begin_source(ing, "a", 1, &err), 0);
	for (int i = 0; i < n; i++) {
		int rc = gpu_ingest_alloc(ing, &a[i], &why, &err);

		assert_int_not_equal(rc, -1);
		if (rc == 1)
			assert_int_equal(gpu_ingest_reject(ing, i + 1, why,
							   str("x"), &err),
					 0);
	}
	assert_int_equal(gpu_ingest_end_source(ing, NULL, 2, &err), 0);
	assert_int_equal(gpu_ingest_finish(ing, &err), 0);
	c = *gpu_ingest_source_counts(ing);
	gpu_ingest_free(ing);
	assert_int_equal(gpu_db_commit(db, &err), 0);
	return c;
}

/* Ten minutes of samples without a job on n1 GPUs 0 and 1, one own job. */
static void
load_minutes(sqlite3 *db, struct gpu_ingest_counts *c)
{
	struct gpu_sample s[20];

	for (int i = 0; i < 10; i++) {
		s[2 * i] = sample(T + i * MIN, "n1", 0, 50, "");
		s[2 * i + 1] = sample(T + i * MIN, "n1", 1, 50, "");
	}
	s[6] = sample(T + 3 * MIN, "n1", 0, 50, "own"); /* its own job */
	*c = load(db, s, 20);
}

/* job_id per sample of GPU g in minute order, as one string ("-": none). */
static void
jobs_of(sqlite3 *db, int gpu, char *out, size_t n)
{
	sqlite3_stmt *st;
	size_t len = 0;

	assert_int_equal(
	    sqlite3_prepare_v2(db,
			       "SELECT coalesce(j.job_id, '-'),"
			       " coalesce(f.job_source, '-') FROM"
			       " gpu_usage_fact f LEFT JOIN jobs_dim j USING"
			       " (job_key) WHERE gpu = ?1 ORDER BY ts_ms",
			       -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_int(st, 1, gpu);
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		int w = snprintf(out + len, n - len, "%s%s:%c",
				 len > 0 ? " " : "",
				 (const char *)sqlite3_column_text(st, 0),
				 sqlite3_column_text(st, 1)[0]);

		assert_true(w > 0 && (size_t)w < n - len);
		len += (size_t)w;
	}
	sqlite3_finalize(st);
}

#define GPU0_EXPECTED                                                         \
	"-:- -:- 100:a own:s 100:a -:- -:- -:- -:- -:-"

/* Allocations loaded after the samples attribute them, and vice versa. */
static void
test_ingest_attribution_either_order(void **state)
{
	struct fixture *f = *state;
	struct gpu_alloc a[] = {alloc("100", "n1", "0", 2, 5),
				alloc("200", "n1", "1", 8, -1)};
	struct gpu_ingest_counts c;
	char got[512];

	load_minutes(f->db, &c);
	assert_int_equal(c.attributed, 0);
	assert_int_equal(gpu_db_exec(f->db, "DELETE FROM dirty_hours", NULL),
			 0);
	c = load_allocs(f->db, a, 2);
	assert_int_equal(c.inserted, 2);
	assert_int_equal(c.attributed, 4); /* 2 of GPU 0 (own kept), 2 of 1 */
	assert_int_equal(c.overlaps, 0);
	jobs_of(f->db, 0, got, sizeof(got));
	assert_string_equal(got, GPU0_EXPECTED);
	jobs_of(f->db, 1, got, sizeof(got));
	assert_string_equal(got,
			    "-:- -:- -:- -:- -:- -:- -:- -:- 200:a 200:a");
	assert_int_equal(q(f->db, "SELECT count(*) FROM dirty_hours"), 1);
	assert_int_equal(q(f->db, "SELECT attributed FROM ingest_log WHERE"
				  " ingest_id = 2"),
			 4);
	assert_int_equal(q(f->db, "SELECT last_sample_ms - first_sample_ms"
				  " FROM jobs_dim WHERE job_id = '100'"),
			 2 * MIN);
	/* Nothing changes on a re-run of either input. */
	c = load_allocs(f->db, a, 2);
	assert_int_equal(c.unchanged, 2);
	assert_int_equal(c.attributed, 0);
	load_minutes(f->db, &c);
	assert_int_equal(c.inserted + c.updated, 0);
	jobs_of(f->db, 0, got, sizeof(got));
	assert_string_equal(got, GPU0_EXPECTED);

	/* The other order, in a fresh warehouse, gives the same rows. */
	assert_int_equal(gpu_db_exec(f->db,
				     "DELETE FROM gpu_usage_fact;"
				     " DELETE FROM allocations;",
				     NULL),
			 0);
	c = load_allocs(f->db, a, 2);
	assert_int_equal(c.attributed, 0);
	load_minutes(f->db, &c);
	assert_int_equal(c.attributed, 4);
	jobs_of(f->db, 0, got, sizeof(got));
	assert_string_equal(got, GPU0_EXPECTED);
}

/* A corrected end re-attributes; an epilog line sets only the end. */
static void
test_ingest_attribution_corrected(void **state)
{
	struct fixture *f = *state;
	struct gpu_alloc a = alloc("100", "n1", "0", 2, 5);
	struct gpu_alloc end = alloc("100", "n1", "", -1, 8);
	struct gpu_alloc shorter = alloc("100", "n1", "0", -1, 3);
	struct gpu_ingest_counts c;
	char got[512];

	load_minutes(f->db, &c);
	load_allocs(f->db, &a, 1);
	c = load_allocs(f->db, &end, 1);
	assert_int_equal(c.updated, 1);
	assert_int_equal(c.attributed, 3); /* minutes 5, 6, 7 */
	jobs_of(f->db, 0, got, sizeof(got));
	assert_string_equal(
	    got, "-:- -:- 100:a own:s 100:a 100:a 100:a 100:a -:- -:-");
	c = load_allocs(f->db, &shorter, 1);
	assert_int_equal(c.attributed, 0);
	jobs_of(f->db, 0, got, sizeof(got));
	assert_string_equal(got,
			    "-:- -:- 100:a own:s -:- -:- -:- -:- -:- -:-");
	assert_int_equal(q(f->db, "SELECT count(*) FROM allocations"), 1);
}

/* Overlapping allocations: the first started holds, overlaps counted. */
static void
test_ingest_attribution_overlap(void **state)
{
	struct fixture *f = *state;
	struct gpu_alloc a[] = {alloc("300", "n1", "1", 0, 6),
				alloc("301", "n1", "1", 4, 10),
				alloc("302", "n1", "01", 3, 2), /* bad */
				alloc("303", "n1", "", -1, 4)}; /* no start */
	struct gpu_ingest_counts c;
	char got[512];

	load_minutes(f->db, &c);
	c = load_allocs(f->db, a, 4);
	assert_int_equal(c.rejected, 2);
	assert_int_equal(c.inserted, 2);
	assert_int_equal(c.attributed, 10);
	assert_int_equal(c.overlaps, 2); /* minutes 4 and 5 */
	jobs_of(f->db, 1, got, sizeof(got));
	assert_string_equal(got, "300:a 300:a 300:a 300:a 300:a 300:a 301:a"
				 " 301:a 301:a 301:a");
	assert_int_equal(q(f->db, "SELECT count(*) FROM rejects WHERE"
				  " reason = 'allocation does not end after"
				  " it starts'"),
			 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ingest_reload_orders, wh_setup,
					    wh_teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_batch_values, wh_setup,
					    wh_teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_upsert_counts, wh_setup,
					    wh_teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_dims_and_dirty_hours,
					    wh_setup, wh_teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_job_records, wh_setup,
					    wh_teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_v1_migration, wh_setup,
					    wh_teardown),
	    cmocka_unit_test_setup_teardown(
		test_ingest_attribution_either_order, wh_setup, wh_teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_attribution_corrected,
					    wh_setup, wh_teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_attribution_overlap,
					    wh_setup, wh_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
