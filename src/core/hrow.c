/* SPDX-License-Identifier: MIT */
/* Hour and day rows: tables of them, the day sink, the fact scan, SQL. */
#include "gpu/hrow.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/bind.h"
#include "gpu/db.h"
#include "gpu/diag.h"
#include "gpu/pack.h"
#include "gpu/pages.h"
#include "gpu/sample.h"
#include "gpu/time.h"

void
gpu_hrows_init(struct gpu_hrows *t)
{
	gpu_hashmap_init(&t->map);
	t->rows = NULL;
	t->n = t->cap = 0;
	t->unordered = false;
}

void
gpu_hrows_release(struct gpu_hrows *t)
{
	gpu_hashmap_release(&t->map);
	free(t->rows);
	gpu_hrows_init(t);
}

size_t
gpu_hrows_count(const struct gpu_hrows *t)
{
	return t->n;
}

/*
 * Key a against key b (GPU_HK_N integers, the first first): below 0, 0
 * or above 0 as a comes before, with or after b.
 */
static int
key_cmp(const int64_t *a, const int64_t *b)
{
	for (int i = 0; i < GPU_HK_N; i++)
		if (a[i] != b[i])
			return a[i] > b[i] ? 1 : -1;
	return 0;
}

/*
 * The index of the row of key k, a new one at the end when absent
 * (*added): appended without the map while keys come in order, then
 * through it (entry i of the map is row i).
 */
static size_t
row_of(struct gpu_hrows *t, const int64_t *k, bool *added)
{
	size_t i;
	/* k against the last key while all came in order (-1: not) */
	int c = t->unordered ? -1
		: t->n == 0  ? 1
			     : key_cmp(k, t->rows[t->n - 1].k);

	/*
	 * Above every key so far: new, without a lookup. Equal to the
	 * last: the last (rows of one group come together when the keys
	 * left out of it are the table's last columns, as a day's rows by
	 * job with their users and models).
	 */
	*added = c > 0;
	if (c > 0)
		return t->n;
	if (c == 0)
		return t->n - 1;
	if (!t->unordered) {
		t->unordered = true;
		for (i = 0; i < t->n; i++)
			gpu_hashmap_append(&t->map, t->rows[i].k,
					   sizeof(t->rows[i].k));
	}
	return gpu_hashmap_put(&t->map, k, GPU_HK_N * sizeof(*k), added);
}

/* Row i, new: room for it, its key set. */
static struct gpu_hrow *
new_row(struct gpu_hrows *t, size_t i, const int64_t *k)
{
	if (i == t->cap) {
		t->cap = t->cap == 0 ? 256 : t->cap * 2;
		t->rows = gpu_xreallocarray(t->rows, t->cap, sizeof(*t->rows));
	}
	t->n = i + 1;
	memcpy(t->rows[i].k, k, sizeof(t->rows[i].k));
	return &t->rows[i];
}

struct gpu_hrow *
gpu_hrows_put(struct gpu_hrows *t, const int64_t *k, bool *created)
{
	bool added;
	size_t i = row_of(t, k, &added);
	struct gpu_hrow *r;

	if (created != NULL)
		*created = added;
	if (!added)
		return &t->rows[i];
	r = new_row(t, i, k);
	gpu_sums_init(&r->s);
	return r;
}

struct gpu_hrow *
gpu_hrows_add(struct gpu_hrows *t, const int64_t *k, const struct gpu_sums *s,
	      bool *created)
{
	bool added;
	size_t i = row_of(t, k, &added);
	struct gpu_hrow *r;

	if (created != NULL)
		*created = added;
	if (!added) {
		gpu_sums_merge(&t->rows[i].s, s);
		return &t->rows[i];
	}
	r = new_row(t, i, k);
	r->s = *s; /* the same as merged into empty sums */
	return r;
}

void
gpu_hrows_clear(struct gpu_hrows *t)
{
	if (t->unordered)
		gpu_hashmap_clear(&t->map);
	t->n = 0;
	t->unordered = false;
}

static int
cmp_hrow(const void *x, const void *y)
{
	const struct gpu_hrow *a = x, *b = y;

	for (int i = 0; i < GPU_HK_N; i++)
		if (a->k[i] != b->k[i])
			return a->k[i] < b->k[i] ? -1 : 1;
	return 0;
}

int
gpu_hrows_flush(struct gpu_hrows *t, gpu_hrow_fn *fn, void *ctx,
		struct gpu_err *err)
{
	size_t n = gpu_hrows_count(t);
	int rc = 0;

	qsort(t->rows, n, sizeof(*t->rows), cmp_hrow);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = fn(ctx, &t->rows[i], err);
	gpu_hrows_clear(t);
	return rc;
}

void
gpu_hrow_sink_init(struct gpu_hrow_sink *s, enum gpu_hrow_fold fold,
		   gpu_hrow_fn *fn, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->fold = fold;
	gpu_hrows_init(&s->day);
	gpu_hrows_init(&s->job);
	s->fn = fn;
	s->ctx = ctx;
}

void
gpu_hrow_sink_release(struct gpu_hrow_sink *s)
{
	gpu_hrows_release(&s->day);
	gpu_hrows_release(&s->job);
}

void
gpu_hrow_sink_clear(struct gpu_hrow_sink *s)
{
	gpu_hrows_clear(&s->day);
	gpu_hrows_clear(&s->job);
}

/* An hour's job row added to its day's (a gpu_hrow_fn; ctx: the sink). */
static int
add_job_hour(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	struct gpu_hrow_sink *s = ctx;
	int64_t k[GPU_HK_N];

	(void)err;
	memcpy(k, r->k, sizeof(k));
	k[GPU_HK_TIME] = s->day_ms;
	gpu_hrows_add(&s->day, k, &r->s, NULL);
	return 0;
}

/*
 * GPU_FOLD_JOB_DAY: add the hour's job rows to their day's, in key order,
 * handing on the rows of the day before when the hour starts another.
 */
static int
job_hour_end(struct gpu_hrow_sink *s, struct gpu_err *err)
{
	int64_t d;

	if (gpu_hrows_count(&s->job) == 0)
		return 0;
	d = gpu_period_start(GPU_PERIOD_DAY, s->hour_ms);
	if (d != s->day_ms && gpu_hrows_count(&s->day) > 0 &&
	    gpu_hrows_flush(&s->day, s->fn, s->ctx, err) != 0)
		return -1;
	s->day_ms = d;
	return gpu_hrows_flush(&s->job, add_job_hour, s, err);
}

int
gpu_hrow_sink_flush(struct gpu_hrow_sink *s, struct gpu_err *err)
{
	if (s->fold == GPU_FOLD_JOB_DAY && job_hour_end(s, err) != 0)
		return -1;
	if (gpu_hrows_count(&s->day) == 0)
		return 0;
	return gpu_hrows_flush(&s->day, s->fn, s->ctx, err);
}

int
gpu_hrow_sink_hour(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	struct gpu_hrow_sink *s = ctx;
	int64_t k[GPU_HK_N] = {0};

	switch (s->fold) {
	case GPU_FOLD_NONE:
		return s->fn(s->ctx, r, err);
	case GPU_FOLD_DAY:
		memcpy(k, r->k, sizeof(k));
		k[GPU_HK_TIME] =
		    gpu_period_start(GPU_PERIOD_DAY, r->k[GPU_HK_TIME]);
		break;
	case GPU_FOLD_JOB_DAY:
		if (r->k[GPU_HK_TIME] != s->hour_ms &&
		    job_hour_end(s, err) != 0)
			return -1;
		s->hour_ms = r->k[GPU_HK_TIME];
		memcpy(k, r->k, sizeof(k));
		k[GPU_HK_NODE] = k[GPU_HK_GPU] = k[GPU_HK_MIG] = 0;
		gpu_hrows_add(&s->job, k, &r->s, NULL);
		return 0;
	case GPU_FOLD_OWNER: /* as gpu_rollup_fold_row() */
		k[GPU_HK_TIME] = r->k[GPU_HK_TIME];
		k[GPU_HK_USER] = r->k[GPU_HK_USER];
		k[GPU_HK_PROJECT] = r->k[GPU_HK_PROJECT];
		break;
	}
	if (k[GPU_HK_TIME] != s->day_ms && gpu_hrow_sink_flush(s, err) != 0)
		return -1;
	s->day_ms = k[GPU_HK_TIME];
	gpu_hrows_add(&s->day, k, &r->s, NULL);
	return 0;
}

int
gpu_hrow_sink_folded(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	struct gpu_hrow_sink *s = ctx;

	if (gpu_hrow_sink_flush(s, err) != 0)
		return -1;
	return s->fn(s->ctx, r, err);
}

/*
 * Facts in [from, to) in key order, with the effective owner (the sample's,
 * else its job record's as interned in names_dim, else 0 and the job
 * record's name in the last two columns), and what the sums read of a
 * sample.
 */
static const char SCAN_SQL[] =
    "SELECT f.ts_ms, f.node_id, f.gpu,"
    " CASE WHEN f.mig = '' THEN -1 ELSE CAST(f.mig AS INTEGER) END,"
    " coalesce(f.job_key, 0), coalesce(f.user_key, ju.name_key, 0),"
    " coalesce(f.project_key, jp.name_key, 0), coalesce(f.model_key, 0),"
    " coalesce(f.profile_key, 0), f.util_pct, f.mem_used_mib, f.mem_total_mib, f.interval_s,"
    " f.power_w, CASE WHEN f.job_key IS NOT NULL"
    "  THEN coalesce(j.job_id, f.job_key) END,"
    " CASE WHEN f.user_key IS NULL AND ju.name_key IS NULL"
    "  THEN nullif(j.user, '') END,"
    " CASE WHEN f.project_key IS NULL AND jp.name_key IS NULL"
    "  THEN nullif(j.project, '') END, f.share28"
    " FROM gpu_usage_fact_rows f"
    " LEFT JOIN jobs_dim j ON j.job_key = f.job_key"
    " LEFT JOIN names_dim ju ON ju.name = j.user"
    " LEFT JOIN names_dim jp ON jp.name = j.project"
    " WHERE f.ts_ms >= ?1 AND f.ts_ms < ?2"
    " ORDER BY f.ts_ms, f.node_id, f.gpu, f.mig";

/* Columns of SCAN_SQL after the keys (all but the category). */
enum {
	C_UTIL = GPU_HK_CATEGORY,
	C_USED,
	C_TOTAL,
	C_INTERVAL,
	C_POWER,
	C_JOB_ID,
	C_NEW_USER,
	C_NEW_PROJECT,
	C_SHARE
};

/* The sample of the current row of SCAN_SQL, as the sums read it. */
static void
fact_sample(sqlite3_stmt *st, struct gpu_sample *smp)
{
	const unsigned char *job = sqlite3_column_text(st, C_JOB_ID);

	memset(smp, 0, sizeof(*smp));
	smp->ts_ms = sqlite3_column_int64(st, GPU_HK_TIME);
	smp->util_pct = sqlite3_column_double(st, C_UTIL);
	smp->mem_used_mib = sqlite3_column_int64(st, C_USED);
	smp->has_mem_total = sqlite3_column_type(st, C_TOTAL) != SQLITE_NULL;
	smp->mem_total_mib = sqlite3_column_int64(st, C_TOTAL);
	smp->interval_s = sqlite3_column_int(st, C_INTERVAL);
	smp->has_power = sqlite3_column_type(st, C_POWER) != SQLITE_NULL;
	smp->power_w = sqlite3_column_double(st, C_POWER);
	smp->job_id.p = job != NULL ? (const char *)job : "";
	smp->job_id.len =
	    job != NULL ? (size_t)sqlite3_column_bytes(st, C_JOB_ID) : 0;
	smp->share28 = sqlite3_column_int(st, C_SHARE);
}

static int
db_error(sqlite3 *db, struct gpu_err *err)
{
	return gpu_err_set(err, "database error: %s", sqlite3_errmsg(db));
}

/*
 * Key k[key] of a job owner that names_dim lacks (column col of st holds
 * its name then): the key a refresh would give it.
 */
static int
pending_owner(sqlite3_stmt *st, int col, struct gpu_pending *pending,
	      int64_t *key, struct gpu_err *err)
{
	const unsigned char *name;

	if (pending == NULL || sqlite3_column_type(st, col) == SQLITE_NULL)
		return 0;
	name = sqlite3_column_text(st, col);
	return gpu_pending_key(pending, (const char *)name,
			       (size_t)sqlite3_column_bytes(st, col), key, err);
}

/*
 * SCAN_SQL over the stored rows, or over the stored and the packed ones
 * where [from, to) reaches packed hours (gpu/pack.h).
 */
static int
prepare_scan(sqlite3 *db, int64_t from, int64_t to, sqlite3_stmt **st,
	     struct gpu_err *err)
{
	struct gpu_buf b;
	bool packed;

	*st = NULL;
	gpu_buf_init(&b);
	if (gpu_pack_facts_sql(db, from, to, SCAN_SQL, &b, &packed, err) == 0)
		*st = gpu_db_prepare(db, b.data, err);
	gpu_buf_release(&b);
	return *st != NULL ? 0 : -1;
}

/* The fact scan, its rows split by usage category or not. */
static int
scan_facts(sqlite3 *db, int64_t from, int64_t to, int64_t threshold_mib,
	   bool by_category, struct gpu_pending *pending, gpu_hrow_fn *fn,
	   void *ctx, struct gpu_err *err)
{
	struct gpu_hrows h;
	int64_t hour = 0;
	sqlite3_stmt *st;
	int rc = -1, step;

	if (prepare_scan(db, from, to, &st, err) != 0)
		return -1;
	gpu_hrows_init(&h);
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t k[GPU_HK_N];
		struct gpu_sample smp;

		k[GPU_HK_TIME] = gpu_period_start(GPU_PERIOD_HOUR,
						  sqlite3_column_int64(st, 0));
		for (int c = 1; c < GPU_HK_CATEGORY; c++)
			k[c] = sqlite3_column_int64(st, c);
		k[GPU_HK_CATEGORY] =
		    by_category ? 1 + (int64_t)gpu_usage_category(
					  sqlite3_column_double(st, C_UTIL))
				: 0;
		if (pending_owner(st, C_NEW_USER, pending, &k[GPU_HK_USER],
				  err) != 0 ||
		    pending_owner(st, C_NEW_PROJECT, pending,
				  &k[GPU_HK_PROJECT], err) != 0)
			goto out;
		if (gpu_hrows_count(&h) > 0 && k[GPU_HK_TIME] != hour &&
		    gpu_hrows_flush(&h, fn, ctx, err) != 0)
			goto out;
		hour = k[GPU_HK_TIME];
		fact_sample(st, &smp);
		gpu_sums_add(&gpu_hrows_put(&h, k, NULL)->s, &smp, 0,
			     threshold_mib);
	}
	if (step != SQLITE_DONE) {
		db_error(db, err);
		goto out;
	}
	if (gpu_hrows_count(&h) > 0 && gpu_hrows_flush(&h, fn, ctx, err) != 0)
		goto out;
	rc = 0;
out:
	gpu_hrows_release(&h);
	sqlite3_finalize(st);
	return rc;
}

int
gpu_hrow_scan(sqlite3 *db, int64_t from, int64_t to, int64_t threshold_mib,
	      struct gpu_pending *pending, gpu_hrow_fn *fn, void *ctx,
	      struct gpu_err *err)
{
	return scan_facts(db, from, to, threshold_mib, false, pending, fn, ctx,
			  err);
}

int
gpu_hrow_scan_category(sqlite3 *db, int64_t from, int64_t to,
		       int64_t threshold_mib, struct gpu_pending *pending,
		       gpu_hrow_fn *fn, void *ctx, struct gpu_err *err)
{
	return scan_facts(db, from, to, threshold_mib, true, pending, fn, ctx,
			  err);
}

void
gpu_pending_init(struct gpu_pending *p, sqlite3 *db)
{
	p->db = db;
	p->loaded = false;
	p->base = 0;
	gpu_hashmap_init(&p->names);
}

void
gpu_pending_release(struct gpu_pending *p)
{
	gpu_hashmap_release(&p->names);
}

/*
 * Replay the refresh's INSERT OR IGNORE of the dirty hours' job owners
 * without writing: in the same order, each name names_dim lacks takes the
 * next key after its largest, as an INTEGER PRIMARY KEY would.
 */
static int
pending_load(struct gpu_pending *p, struct gpu_err *err)
{
	sqlite3_stmt *max = NULL, *owners = NULL, *known = NULL;
	int rc = -1, step;

	max = gpu_db_prepare(
	    p->db, "SELECT coalesce(max(name_key), 0) FROM names_dim", err);
	owners = gpu_db_prepare(p->db, GPU_HROW_DIRTY_OWNERS_SQL, err);
	known = gpu_db_prepare(p->db, "SELECT 1 FROM names_dim WHERE name = ?",
			       err);
	if (max == NULL || owners == NULL || known == NULL)
		goto out;
	if (sqlite3_step(max) != SQLITE_ROW) {
		db_error(p->db, err);
		goto out;
	}
	p->base = sqlite3_column_int64(max, 0);
	while ((step = sqlite3_step(owners)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(owners, 0);
		int len = sqlite3_column_bytes(owners, 0);

		sqlite3_reset(known);
		sqlite3_bind_text(known, 1, (const char *)name, len,
				  SQLITE_STATIC);
		step = sqlite3_step(known);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			break;
		if (step == SQLITE_DONE)
			gpu_hashmap_put(&p->names, name, (size_t)len, NULL);
		step = SQLITE_ROW;
	}
	if (step != SQLITE_DONE) {
		db_error(p->db, err);
		goto out;
	}
	p->loaded = true;
	rc = 0;
out:
	sqlite3_finalize(max);
	sqlite3_finalize(owners);
	sqlite3_finalize(known);
	return rc;
}

int
gpu_pending_key(struct gpu_pending *p, const char *name, size_t len,
		int64_t *key, struct gpu_err *err)
{
	size_t i;

	*key = 0;
	if (!p->loaded && pending_load(p, err) != 0)
		return -1;
	i = gpu_hashmap_find(&p->names, name, len);
	if (i != GPU_HASHMAP_NONE)
		*key = p->base + 1 + (int64_t)i;
	return 0;
}

const char *
gpu_pending_name(const struct gpu_pending *p, int64_t k)
{
	if (!p->loaded || k <= p->base ||
	    k - p->base > (int64_t)gpu_hashmap_count(&p->names))
		return NULL;
	return gpu_hashmap_key(&p->names, (size_t)(k - p->base - 1));
}

/*
 * Column lists and placeholders, each item with a leading comma: the key
 * columns after the time bucket, and the sums (generated from GPU_SUMS).
 */
#define KEY_COLS                                                               \
	", node_id, gpu, mig, job_key, user_key, project_key, model_key,"      \
	" profile_key"
#define KEY_PARAMS ",?,?,?,?,?,?,?,?"
/* The key columns of usage_daily_job after the day. */
#define JOB_KEY_COLS ", job_key, user_key, project_key, model_key, profile_key"
#define JOB_KEY_PARAMS ",?,?,?,?,?"
#define SUM_COL_(name, ctype, sqltype, merge, empty) ", " #name
#define SUM_PARAM_(name, ctype, sqltype, merge, empty) ",?"
#define SUM_COLS GPU_SUMS(SUM_COL_)
#define SUM_PARAMS GPU_SUMS(SUM_PARAM_)

/*
 * The SQL function a rollup read hands its rows to (gpu_hrow_read()),
 * and the type of the pointer it is bound with.
 */
#define TAKE "gpu_hrow_take"

/*
 * Each rollup table: its name and time column, how to read its rows of a
 * time range (to TAKE, in key order: the order of the table's key, so that
 * no sort runs between the function and the result), how to add one,
 * and which keys of a row (enum gpu_hkey) its key columns hold, in order.
 */
static const struct {
	const char *table, *time;
	const char *select, *insert;
	int nkeys;
	int key[GPU_HK_CATEGORY];
} rollups[] = {
    [GPU_ROLLUP_HOURLY] = {"usage_hourly", "hour_ms",
			   "SELECT " TAKE "(?3, hour_ms" KEY_COLS SUM_COLS
			   ") FROM usage_hourly"
			   " WHERE hour_ms >= ?1 AND hour_ms < ?2"
			   " ORDER BY hour_ms" KEY_COLS,
			   "INSERT INTO usage_hourly(hour_ms" KEY_COLS SUM_COLS
			   ") VALUES(?" KEY_PARAMS SUM_PARAMS ")",
			   GPU_HK_CATEGORY,
			   {0, 1, 2, 3, 4, 5, 6, 7, 8}},
    [GPU_ROLLUP_DAILY] = {"usage_daily", "day_ms",
			  "SELECT " TAKE "(?3, day_ms" KEY_COLS SUM_COLS
			  ") FROM usage_daily"
			  " WHERE day_ms >= ?1 AND day_ms < ?2"
			  " ORDER BY day_ms" KEY_COLS,
			  "INSERT INTO usage_daily(day_ms" KEY_COLS SUM_COLS
			  ") VALUES(?" KEY_PARAMS SUM_PARAMS ")",
			  GPU_HK_CATEGORY,
			  {0, 1, 2, 3, 4, 5, 6, 7, 8}},
    [GPU_ROLLUP_NODE] =
	{"usage_hourly_node", "hour_ms",
	 "SELECT " TAKE "(?3, hour_ms, node_id" SUM_COLS
	 ") FROM usage_hourly_node"
	 " WHERE hour_ms >= ?1 AND hour_ms < ?2"
	 " ORDER BY hour_ms, node_id",
	 "INSERT INTO usage_hourly_node(hour_ms, node_id" SUM_COLS
	 ") VALUES(?,?" SUM_PARAMS ")",
	 2,
	 {GPU_HK_TIME, GPU_HK_NODE}},
    [GPU_ROLLUP_OWNER] =
	{"usage_hourly_owner", "hour_ms",
	 "SELECT " TAKE "(?3, hour_ms, user_key, project_key" SUM_COLS
	 ") FROM usage_hourly_owner"
	 " WHERE hour_ms >= ?1 AND hour_ms < ?2"
	 " ORDER BY hour_ms, user_key, project_key",
	 "INSERT INTO usage_hourly_owner(hour_ms, user_key, project_key" SUM_COLS
	 ") VALUES(?,?,?" SUM_PARAMS ")",
	 3,
	 {GPU_HK_TIME, GPU_HK_USER, GPU_HK_PROJECT}},
    [GPU_ROLLUP_JOB_DAY] =
	{"usage_daily_job", "day_ms",
	 "SELECT " TAKE "(?3, day_ms" JOB_KEY_COLS SUM_COLS
	 ") FROM usage_daily_job"
	 " WHERE day_ms >= ?1 AND day_ms < ?2"
	 " ORDER BY day_ms" JOB_KEY_COLS,
	 "INSERT INTO usage_daily_job(day_ms" JOB_KEY_COLS SUM_COLS
	 ") VALUES(?" JOB_KEY_PARAMS SUM_PARAMS ")",
	 6,
	 {GPU_HK_TIME, GPU_HK_JOB, GPU_HK_USER, GPU_HK_PROJECT, GPU_HK_MODEL,
	  GPU_HK_PROFILE}},
};

/* Each sum merged into a stored day row (SQLite adds REALs as doubles). */
#define SUM_ADD_SUM(name) ", " #name " = " #name " + excluded." #name
#define SUM_ADD_MAX(name) ", " #name " = max(" #name ", excluded." #name ")"
#define SUM_ADD_(name, ctype, sqltype, merge, empty) SUM_ADD_##merge(name)

/* The upsert of a day table's row: its stored row's sums added to. */
#define ADD_SQL(table, keys, params)                                           \
	"INSERT INTO " table "(day_ms" keys SUM_COLS ") VALUES(?" params       \
	    SUM_PARAMS ") ON CONFLICT(day_ms" keys                             \
	    ") DO UPDATE SET day_ms = excluded.day_ms" GPU_SUMS(SUM_ADD_)

sqlite3_stmt *
gpu_hrow_add_prepare(sqlite3 *db, enum gpu_rollup t, struct gpu_err *err)
{
	return gpu_db_prepare(
	    db,
	    t == GPU_ROLLUP_JOB_DAY
		? ADD_SQL("usage_daily_job", JOB_KEY_COLS, JOB_KEY_PARAMS)
		: ADD_SQL("usage_daily", KEY_COLS, KEY_PARAMS),
	    err);
}

int
gpu_rollup_nkeys(enum gpu_rollup t)
{
	return rollups[t].nkeys;
}

int
gpu_rollup_key(enum gpu_rollup t, int i)
{
	return rollups[t].key[i];
}

/* Bind or read a sum by its C type (clang-format does not know _Generic). */
/* clang-format off */
#define BIND_SUM_(name, ctype, sqltype, merge, empty)                          \
	_Generic(s->name, int64_t: gpu_bind_i64,                               \
		 double: gpu_bind_double)(b, c++, s->name);
#define READ_SUM_(name, ctype, sqltype, merge, empty)                          \
	s->name = _Generic(s->name, int64_t: sqlite3_value_int64,              \
			   double: sqlite3_value_double)(argv[c++]);
/* clang-format on */
#define COUNT_SUM_(name, ctype, sqltype, merge, empty) +1

/* The sums of a row: its columns after the key columns. */
enum { NSUMS = 0 GPU_SUMS(COUNT_SUM_) };

sqlite3_stmt *
gpu_hrow_insert_prepare(sqlite3 *db, enum gpu_rollup t, struct gpu_err *err)
{
	return gpu_db_prepare(db, rollups[t].insert, err);
}

/* Bind r, a row of t, to parameters first.. of b. */
static void
bind_row(const struct gpu_binder *b, int first, enum gpu_rollup t,
	 const struct gpu_hrow *r)
{
	const struct gpu_sums *s = &r->s;
	int c = first;

	for (int i = 0; i < rollups[t].nkeys; i++)
		gpu_bind_i64(b, c++, r->k[rollups[t].key[i]]);
	GPU_SUMS(BIND_SUM_)
}

int
gpu_hrow_insert(sqlite3_stmt *st, enum gpu_rollup t, const struct gpu_hrow *r,
		struct gpu_err *err)
{
	sqlite3_reset(st);
	bind_row(&(struct gpu_binder){st, NULL}, 1, t, r);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(sqlite3_db_handle(st), err);
	return 0;
}

/*
 * Rows per multi-row INSERT of a batch writer. A single-row INSERT costs
 * a statement's start and a descent from the root per row; 16 rows of a
 * 30-column table take 480 parameters.
 */
#define HROW_BATCH 16

struct gpu_hrow_batch {
	sqlite3 *db;
	enum gpu_rollup t;
	int ncols;		/* parameters per row */
	sqlite3_stmt *one;	/* a row at a time: the rows a flush leaves */
	sqlite3_stmt *many;	/* HROW_BATCH rows, prepared when first full */
	struct gpu_bound *held; /* what many's parameters hold */
	size_t n;
	struct gpu_hrow rows[HROW_BATCH];
};

struct gpu_hrow_batch *
gpu_hrow_batch_new(sqlite3 *db, enum gpu_rollup t, struct gpu_err *err)
{
	struct gpu_hrow_batch *w = gpu_xcalloc(1, sizeof(*w));

	w->db = db;
	w->t = t;
	w->ncols = rollups[t].nkeys + NSUMS;
	w->one = gpu_db_prepare(db, rollups[t].insert, err);
	if (w->one == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

void
gpu_hrow_batch_free(struct gpu_hrow_batch *w)
{
	if (w == NULL)
		return;
	sqlite3_finalize(w->one);
	sqlite3_finalize(w->many);
	free(w->held);
	free(w);
}

/* The INSERT of HROW_BATCH rows: the single row's up to its VALUES. */
static sqlite3_stmt *
prepare_many(sqlite3 *db, enum gpu_rollup t, int ncols, struct gpu_err *err)
{
	const char *sql = rollups[t].insert;
	char *head = gpu_xstrndup(sql, (size_t)(strstr(sql, " VALUES") - sql));
	sqlite3_stmt *st =
	    gpu_db_prepare_rows(db, head, ncols, HROW_BATCH, err);

	free(head);
	return st;
}

/* Write the HROW_BATCH rows held with one INSERT. */
static int
write_many(struct gpu_hrow_batch *w, struct gpu_err *err)
{
	struct gpu_binder b;

	if (w->many == NULL) {
		w->many = prepare_many(w->db, w->t, w->ncols, err);
		if (w->many == NULL)
			return -1;
		w->held = gpu_xcalloc((size_t)w->ncols * HROW_BATCH,
				      sizeof(*w->held));
	}
	b.st = w->many;
	b.held = w->held;
	for (int i = 0; i < HROW_BATCH; i++)
		bind_row(&b, 1 + i * w->ncols, w->t, &w->rows[i]);
	w->n = 0;
	if (sqlite3_step(w->many) != SQLITE_DONE) {
		db_error(w->db, err);
		sqlite3_reset(w->many);
		return -1;
	}
	sqlite3_reset(w->many);
	return 0;
}

int
gpu_hrow_batch_put(struct gpu_hrow_batch *w, const struct gpu_hrow *r,
		   struct gpu_err *err)
{
	w->rows[w->n++] = *r;
	return w->n == HROW_BATCH ? write_many(w, err) : 0;
}

int
gpu_hrow_batch_row(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	return gpu_hrow_batch_put(ctx, r, err);
}

int
gpu_hrow_batch_flush(struct gpu_hrow_batch *w, struct gpu_err *err)
{
	size_t n = w->n;

	w->n = 0;
	for (size_t i = 0; i < n; i++)
		if (gpu_hrow_insert(w->one, w->t, &w->rows[i], err) != 0)
			return -1;
	return 0;
}

/* Where a rollup read's rows go: gpu_hrow_read() binds it to TAKE. */
struct take {
	enum gpu_rollup t;
	gpu_hrow_fn *fn;
	void *ctx;
	struct gpu_err *err;
	int rc;	     /* fn's -1 */
	size_t skip; /* rows already handed to fn (from the pages) */
};

/* The column of each key but the time, as KEY_COLS names them. */
static const char *const key_cols[GPU_HK_CATEGORY] = {
    [GPU_HK_NODE] = "node_id",	  [GPU_HK_GPU] = "gpu",
    [GPU_HK_MIG] = "mig",	  [GPU_HK_JOB] = "job_key",
    [GPU_HK_USER] = "user_key",	  [GPU_HK_PROJECT] = "project_key",
    [GPU_HK_MODEL] = "model_key", [GPU_HK_PROFILE] = "profile_key",
};

#define SUM_NAME_(name, ctype, sqltype, merge, empty) #name,
static const char *const sum_names[] = {GPU_SUMS(SUM_NAME_)};

/* Where each sum goes in a gpu_hrow, read from the pages. */
#define SUM_PLACE_(name, ctype, sqltype, merge, empty)                         \
	{(unsigned short)(offsetof(struct gpu_hrow, s) +                       \
			  offsetof(struct gpu_sums, name)),                    \
	 _Generic(((struct gpu_sums *)NULL)->name, int64_t: GPU_PN_INT,        \
		  double: GPU_PN_REAL)},
static const struct gpu_pnum sum_place[] = {GPU_SUMS(SUM_PLACE_)};
_Static_assert(sizeof(struct gpu_hrow) <= 65535,
	       "a gpu_pnum's offset does not reach every field of a gpu_hrow");

/* read_pages(): the pages cannot give the rest of the rows. */
#define BY_STATEMENT 1

/*
 * Hand the rows of rollup t in [from, to) to fn from the table's pages
 * (gpu/pages.h), counting them in *given. Returns 0, -1 when fn failed,
 * or BY_STATEMENT when the pages cannot give the rows from *given on.
 */
static int
read_pages(sqlite3 *db, enum gpu_rollup t, int64_t from, int64_t to,
	   gpu_hrow_fn *fn, void *ctx, struct gpu_err *err, size_t *given)
{
	struct gpu_pnum map[GPU_PAGES_MAXFIELDS] = {{0, GPU_PN_SKIP}};
	int nk = rollups[t].nkeys, i, f, rc = -1;
	struct gpu_pages *pg = gpu_pages_open(db, rollups[t].table, NULL);

	if (pg == NULL)
		return BY_STATEMENT;
	/*
	 * Each column's place in a gpu_hrow: the keys, then the sums. The
	 * time is the key's first column, the seek is by it, and it must be
	 * an integer.
	 */
	for (i = 0; i < nk; i++) {
		int k = rollups[t].key[i];

		f = gpu_pages_field(
		    pg, k == GPU_HK_TIME ? rollups[t].time : key_cols[k]);
		if (f < 0 || (i == 0) != (f == 0) || map[f].kind != GPU_PN_SKIP)
			goto refuse;
		map[f].off = (unsigned short)(offsetof(struct gpu_hrow, k) +
					      (size_t)k * sizeof(int64_t));
		map[f].kind = k == GPU_HK_TIME ? GPU_PN_KEY : GPU_PN_INT;
	}
	for (i = 0; i < GPU_SUMS_N; i++) {
		f = gpu_pages_field(pg, sum_names[i]);
		if (f < 0 || map[f].kind != GPU_PN_SKIP)
			goto refuse;
		map[f] = sum_place[i];
	}
	if (gpu_pages_seek(pg, from) != 0)
		goto refuse;
	for (;;) {
		struct gpu_hrow r;

		memset(r.k, 0, sizeof(r.k));
		if ((rc = gpu_pages_next_nums(pg, map, &r)) != 1)
			break;
		if (r.k[GPU_HK_TIME] >= to)
			break;
		if (r.k[GPU_HK_TIME] < from)
			continue;
		if (fn(ctx, &r, err) != 0) {
			gpu_pages_close(pg);
			return -1;
		}
		(*given)++;
	}
	if (rc < 0)
		goto refuse;
	gpu_pages_close(pg);
	return 0;
refuse:
	gpu_pages_close(pg);
	return BY_STATEMENT;
}

/*
 * TAKE(pointer, keys..., sums...): one row of a rollup read, handed to
 * the read's fn. The row's values come as the arguments of one call,
 * cheaper than a column call each (about 30 a row).
 */
static void
sql_take(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct take *tk =
	    argc > 0 ? sqlite3_value_pointer(argv[0], TAKE) : NULL;
	struct gpu_hrow r;
	struct gpu_sums *s = &r.s;
	int c = 1;

	if (tk == NULL || argc != 1 + rollups[tk->t].nkeys + GPU_SUMS_N) {
		sqlite3_result_error(cx, TAKE ": bad call", -1);
		return;
	}
	if (tk->skip > 0) {
		tk->skip--;
		return;
	}
	memset(r.k, 0, sizeof(r.k));
	for (int i = 0; i < rollups[tk->t].nkeys; i++)
		r.k[rollups[tk->t].key[i]] = sqlite3_value_int64(argv[c++]);
	GPU_SUMS(READ_SUM_)
	if (tk->fn(tk->ctx, &r, tk->err) != 0) {
		tk->rc = -1;
		sqlite3_result_error(cx, TAKE ": stopped", -1);
	}
}

int
gpu_hrow_register(sqlite3 *db)
{
	int rc = sqlite3_create_function_v2(db, TAKE, -1,
					    SQLITE_UTF8 | SQLITE_DIRECTONLY,
					    NULL, sql_take, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : -1;
}

/* The rows by statement, after the first tk->skip. */
static int
read_statement(sqlite3 *db, enum gpu_rollup t, int64_t from, int64_t to,
	       struct take *tk)
{
	sqlite3_stmt *st = gpu_db_prepare(db, rollups[t].select, tk->err);
	int step = SQLITE_DONE;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	sqlite3_bind_pointer(st, 3, tk, TAKE, NULL);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (tk->rc == 0 && step != SQLITE_DONE)
		tk->rc = db_error(db, tk->err);
	/* A sort would have run after TAKE: the rows went out of order. */
	if (tk->rc == 0 && sqlite3_stmt_status(st, SQLITE_STMTSTATUS_SORT, 0))
		tk->rc = gpu_err_set(tk->err,
				     "internal error: a rollup read sorted");
	/* Fewer rows than the pages gave: they disagree. */
	if (tk->rc == 0 && tk->skip > 0)
		tk->rc = gpu_err_set(tk->err, "internal error: a rollup's "
					      "pages and statement differ");
	sqlite3_finalize(st);
	return tk->rc;
}

int
gpu_hrow_read(sqlite3 *db, enum gpu_rollup t, int64_t from, int64_t to,
	      gpu_hrow_fn *fn, void *ctx, struct gpu_err *err)
{
	struct take tk = {t, fn, ctx, err, 0, 0};
	/* One snapshot for the pages and the statement that may follow. */
	bool own = gpu_pages_allowed() && gpu_db_begin_read(db);
	int rc = read_pages(db, t, from, to, fn, ctx, err, &tk.skip);

	if (rc == BY_STATEMENT)
		rc = read_statement(db, t, from, to, &tk);
	gpu_db_end_read(db, own);
	return rc;
}
