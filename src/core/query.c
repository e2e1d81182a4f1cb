/* SPDX-License-Identifier: MIT */
/* Warehouse queries: rollup rows and facts merged into named groups. */
#include "gpu/query.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/db.h"
#include "gpu/hrow.h"
#include "gpu/pages.h"
#include "gpu/retention.h"
#include "gpu/strpool.h"
#include "gpu/time.h"
#include "gpu/writer.h"

/*
 * Merging rows into groups in integer key space, resolving keys to names
 * once per distinct key and only for the finished groups.
 */

struct name {
	char *s; /* NULL: not looked up yet */
	size_t len;
	bool plain; /* gpu_writer_plain_ok() */
};

/* The largest key a name cache takes (a larger one is a damaged file). */
#define GPU_KEY_MAX (INT64_C(1) << 40)

/*
 * Names by key, looked up once: v[i] is key base + i, a window over the
 * keys a query meets (a day's jobs in a year's warehouse are a few
 * thousand keys near the top, not every key from 1).
 */
struct namecache {
	struct name *v;
	size_t n;
	int64_t base;
	sqlite3 *db;
	/* Prepared at the first fill: many queries use one or two caches. */
	sqlite3_stmt *st;
	const struct gpu_pending *pending; /* names a refresh would intern */
	/*
	 * The names' table read from its pages (gpu/pages.h) from the second
	 * fill on, 40% of the statement's cost a name (a day of jobs is
	 * thousands); the statement reads when the pages cannot.
	 */
	const char *table, *key_col, *name_col;
	struct gpu_pages *pg;
	bool filled;	/* a fill ran before */
	bool no_pages;	/* the pages refused: the statement reads */
	int name_field; /* the name's field in pg's records */
	struct gpu_strpool bytes; /* the names' bytes */
};

/* The owner of an integer group (keys of names_dim; 0: none). */
struct iown {
	int64_t user_ms, project_ms;
	int64_t user, project;
};

struct dbq {
	sqlite3 *db;
	struct gpu_agg_query q;
	struct gpu_hrows groups;
	struct iown *own; /* parallel to groups.rows */
	size_t own_cap;
	int64_t last_in, last_bucket; /* query_bucket() cache */
	struct namecache nodes, jobs, names;
	struct gpu_pending pending;
	int64_t *dirty; /* the dirty hours of the range, ascending */
	size_t ndirty;
	int64_t horizon; /* facts before it were deleted (gpu/retention.h) */
	struct gpu_hrow_sink sink;
	gpu_query_fn *fn; /* gpu_query_each(): a finished bucket's receiver */
	void *fn_ctx;
	int64_t cur_bucket; /* the bucket of the groups held (fn only) */
	/*
	 * Rows that are groups of their own, added as they came
	 * (take_group()), before the integer groups are; NULL when none.
	 * taken: how many agg holds; hint: how many the last such agg held,
	 * the room the next one is given.
	 */
	struct gpu_agg *agg;
	size_t taken, hint;
};

static void
cache_release(struct namecache *c)
{
	gpu_strpool_release(&c->bytes);
	free(c->v);
	gpu_pages_close(c->pg);
	sqlite3_finalize(c->st);
}

/* The entry of key k (1 <= k <= GPU_KEY_MAX), made room for. */
static struct name *
cache_slot(struct namecache *c, int64_t k)
{
	int64_t lo, hi;
	struct name *v;

	if (c->n > 0 && k >= c->base && k - c->base < (int64_t)c->n)
		return &c->v[k - c->base];
	if (c->n == 0) {
		lo = k;
		hi = k + 16;
	} else if (k < c->base) {
		lo = c->base - (int64_t)c->n < k ? c->base - (int64_t)c->n : k;
		lo = lo < 1 ? 1 : lo;
		hi = c->base + (int64_t)c->n;
	} else {
		lo = c->base;
		hi = c->base + 2 * (int64_t)c->n > k + 1
			 ? c->base + 2 * (int64_t)c->n
			 : k + 1;
	}
	v = gpu_xcalloc((size_t)(hi - lo), sizeof(*v));
	if (c->n > 0)
		memcpy(v + (c->base - lo), c->v, c->n * sizeof(*v));
	free(c->v);
	c->v = v;
	c->n = (size_t)(hi - lo);
	c->base = lo;
	return &c->v[k - c->base];
}

/* Set e to the n bytes at s (up to a NUL), copied into c's pool. */
static void
cache_set(struct namecache *c, struct name *e, const char *s, size_t n)
{
	e->len = s != NULL ? strnlen(s, n) : 0;
	e->s = gpu_strpool_add(&c->bytes, s, e->len);
	e->plain = gpu_writer_plain_ok(e->s, e->len);
}

/*
 * cache_fill() from the table's pages: the names of keys k.. below end, at
 * most 32. Returns false when the pages cannot give them (then never
 * again: the statement reads), having set none or some.
 */
static bool
fill_pages(struct namecache *c, int64_t k, int64_t end)
{
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];
	int got = 0, rc = 0;

	if (c->no_pages)
		return false;
	if (c->pg == NULL) {
		c->pg = gpu_pages_open(c->db, c->table, NULL);
		if (c->pg == NULL ||
		    gpu_pages_field(c->pg, c->key_col) != 0 ||
		    (c->name_field = gpu_pages_field(c->pg, c->name_col)) < 0 ||
		    gpu_pages_limit(c->pg, (size_t)c->name_field + 1) != 0)
			goto refuse;
	}
	if (gpu_pages_seek(c->pg, k) != 0)
		goto refuse;
	while (got < 32 && (rc = gpu_pages_next(c->pg, v)) == 1) {
		const struct gpu_pval *name = &v[c->name_field];
		int64_t key = v[0].i;
		struct name *e;

		if (key >= end)
			break;
		/* A name of another type: the statement's conversion. */
		if (name->type != GPU_PV_TEXT)
			goto refuse;
		got++;
		if (key <= 0 || key > GPU_KEY_MAX)
			continue;
		e = cache_slot(c, key);
		if (e->s == NULL)
			cache_set(c, e, (const char *)name->p, name->n);
	}
	if (rc < 0)
		goto refuse;
	return true;
refuse:
	gpu_pages_close(c->pg);
	c->pg = NULL;
	c->no_pages = true;
	return false;
}

/*
 * Read the names of k and of the keys after it (a query's keys are
 * mostly dense: keys are given in order of first appearance), one
 * statement for 32 of them (the LIMIT of the cache's SELECT) instead of
 * one each, up to the next key already read: keys met out of order
 * would otherwise read the same names again.
 */
static int
cache_fill(struct namecache *c, int64_t k, struct gpu_err *err)
{
	int64_t end = INT64_MAX;
	int rc;

	for (int64_t j = k + 1; j - c->base < (int64_t)c->n && j < k + 32; j++)
		if (j >= c->base && c->v[j - c->base].s != NULL) {
			end = j;
			break;
		}
	/* One fill (a handful of names) is not worth opening the pages. */
	if (c->filled && fill_pages(c, k, end))
		return 0;
	c->filled = true;
	if (c->st == NULL) {
		char sql[160];

		snprintf(sql, sizeof(sql),
			 "SELECT %s, %s FROM %s WHERE %s >= ?1 AND %s < ?2"
			 " ORDER BY %s LIMIT 32",
			 c->key_col, c->name_col, c->table, c->key_col,
			 c->key_col, c->key_col);
		if ((c->st = gpu_db_prepare(c->db, sql, err)) == NULL)
			return -1;
	}
	sqlite3_reset(c->st);
	sqlite3_bind_int64(c->st, 1, k);
	sqlite3_bind_int64(c->st, 2, end);
	while ((rc = sqlite3_step(c->st)) == SQLITE_ROW) {
		int64_t key = sqlite3_column_int64(c->st, 0);
		struct name *e;

		if (key <= 0 || key > GPU_KEY_MAX)
			continue;
		e = cache_slot(c, key);
		if (e->s == NULL) {
			/* The text first, then its length (SQLite's order). */
			const char *t =
			    (const char *)sqlite3_column_text(c->st, 1);

			cache_set(c, e, t,
				  (size_t)sqlite3_column_bytes(c->st, 1));
		}
	}
	if (rc != SQLITE_DONE)
		return gpu_err_set(err, "database error: %s",
				   sqlite3_errmsg(c->db));
	return 0;
}

/* cache_get() of a key not looked up yet. */
static int
cache_miss(struct namecache *c, int64_t k, struct name *out,
	   struct gpu_err *err)
{
	static const struct name none = {"", 0, false};
	struct name *e;
	const char *t;

	*out = none;
	if (k <= 0)
		return 0;
	if (k > GPU_KEY_MAX)
		return gpu_err_set(err, "database error: bad key %" PRId64, k);
	e = cache_slot(c, k);
	if (e->s == NULL && c->pending != NULL &&
	    (t = gpu_pending_name(c->pending, k)) != NULL)
		cache_set(c, e, t, strlen(t));
	if (e->s == NULL) {
		if (cache_fill(c, k, err) != 0)
			return -1;
		e = cache_slot(c, k); /* the fill may have moved the entries */
		if (e->s == NULL)     /* not in the table */
			cache_set(c, e, "", 0);
	}
	*out = *e;
	return 0;
}

/*
 * The name of key k (0, negative or absent: ""), looked up once. *out is
 * a copy: the cache's entries move as it grows, their strings do not.
 * Inline: a key looked up before, or none (0), is most calls.
 */
static inline int
cache_get(struct namecache *c, int64_t k, struct name *out, struct gpu_err *err)
{
	if ((uint64_t)k - (uint64_t)c->base < c->n && c->v[k - c->base].s) {
		*out = c->v[k - c->base];
		return 0;
	}
	if (k == 0) {
		out->s = "";
		out->len = 0;
		out->plain = false;
		return 0;
	}
	return cache_miss(c, k, out, err);
}

/*
 * The canonical key of k: 0 when its name is empty, so that integer keys
 * group exactly as names do (names are unique in their tables).
 */
static int
canon(struct namecache *c, int64_t k, int64_t *out, struct gpu_err *err)
{
	struct name n;

	if (cache_get(c, k, &n, err) != 0)
		return -1;
	*out = n.len > 0 ? k : 0;
	return 0;
}

static struct gpu_str
name_str(const struct name *n)
{
	struct gpu_str r = {n->s, n->len};

	return r;
}

/* Is (ms, name of key k) later than the owner (cur_ms, key cur)? */
static int
later_key(struct namecache *c, int64_t ms, int64_t k, int64_t cur_ms,
	  int64_t cur, bool *yes, struct gpu_err *err)
{
	struct name a, b;

	*yes = ms > cur_ms;
	if (ms != cur_ms)
		return 0;
	if (cache_get(c, k, &a, err) != 0 || cache_get(c, cur, &b, err) != 0)
		return -1;
	*yes = gpu_owner_later(ms, name_str(&a), cur_ms, b.s);
	return 0;
}

/* Track the job owner of group i, as the aggregate does for samples. */
static int
merge_owner(struct dbq *q, size_t i, int64_t ms, int64_t user, int64_t project,
	    struct gpu_err *err)
{
	struct iown *o = &q->own[i];
	bool yes;

	if (user != 0) {
		if (later_key(&q->names, ms, user, o->user_ms, o->user, &yes,
			      err) != 0)
			return -1;
		if (yes) {
			o->user_ms = ms;
			o->user = user;
		}
	}
	if (project != 0) {
		if (later_key(&q->names, ms, project, o->project_ms, o->project,
			      &yes, err) != 0)
			return -1;
		if (yes) {
			o->project_ms = ms;
			o->project = project;
		}
	}
	return 0;
}

static int64_t
query_bucket(struct dbq *q, int64_t ms)
{
	if (q->q.period == GPU_PERIOD_ALL)
		return 0;
	if (ms != q->last_in) {
		q->last_in = ms;
		q->last_bucket = gpu_period_start(q->q.period, ms);
	}
	return q->last_bucket;
}

static int flush_bucket(struct dbq *q, struct gpu_err *err);

/*
 * The bucket of a row at ms into *b; for gpu_query_each(), a row of a
 * later bucket first hands the bucket held to fn.
 */
static inline int
enter_bucket(struct dbq *q, int64_t ms, int64_t *b, struct gpu_err *err)
{
	*b = query_bucket(q, ms);
	if (q->fn != NULL && *b != q->cur_bucket) {
		/* Rows come in time order: the bucket held is complete. */
		if (*b < q->cur_bucket)
			return gpu_err_set(err, "internal error: rows out of"
						" time order");
		if (flush_bucket(q, err) != 0)
			return -1;
		q->cur_bucket = *b;
	}
	return 0;
}

/*
 * Merge an hour or day row into its group (a gpu_hrow_fn). Rows come in
 * key order, so often to the group of the row before: the map's last hit.
 */
static int
merge_row(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	struct dbq *q = ctx;
	unsigned d = q->q.dims;
	int64_t k[GPU_HK_N] = {0};
	int64_t user = 0, project = 0;
	struct gpu_hrow *g;
	bool created;
	size_t i;

	if (enter_bucket(q, r->k[GPU_HK_TIME], &k[GPU_HK_TIME], err) != 0)
		return -1;
	k[GPU_HK_GPU] = (d & GPU_DIM_GPU) ? (int32_t)r->k[GPU_HK_GPU] : -1;
	k[GPU_HK_MIG] = (d & GPU_DIM_GPU) ? (int32_t)r->k[GPU_HK_MIG] : -1;
	if ((d & (GPU_DIM_NODE | GPU_DIM_GPU)) &&
	    canon(&q->nodes, r->k[GPU_HK_NODE], &k[GPU_HK_NODE], err) != 0)
		return -1;
	if ((d & GPU_DIM_JOB) &&
	    (canon(&q->jobs, r->k[GPU_HK_JOB], &k[GPU_HK_JOB], err) != 0 ||
	     canon(&q->names, r->k[GPU_HK_USER], &user, err) != 0 ||
	     canon(&q->names, r->k[GPU_HK_PROJECT], &project, err) != 0))
		return -1;
	if ((d & GPU_DIM_USER) &&
	    canon(&q->names, r->k[GPU_HK_USER], &k[GPU_HK_USER], err) != 0)
		return -1;
	if ((d & GPU_DIM_PROJECT) && canon(&q->names, r->k[GPU_HK_PROJECT],
					   &k[GPU_HK_PROJECT], err) != 0)
		return -1;
	if ((d & GPU_DIM_MODEL) &&
	    canon(&q->names, r->k[GPU_HK_MODEL], &k[GPU_HK_MODEL], err) != 0)
		return -1;
	if ((d & GPU_DIM_PROFILE) && canon(&q->names, r->k[GPU_HK_PROFILE],
					   &k[GPU_HK_PROFILE], err) != 0)
		return -1;
	if (d & GPU_DIM_CATEGORY)
		k[GPU_HK_CATEGORY] = r->k[GPU_HK_CATEGORY];
	g = gpu_hrows_add(&q->groups, k, &r->s, &created);
	i = (size_t)(g - q->groups.rows);
	if (created) {
		if (i >= q->own_cap) {
			q->own_cap = q->groups.cap;
			q->own = gpu_xreallocarray(q->own, q->own_cap,
						   sizeof(*q->own));
		}
		q->own[i].user_ms = q->own[i].project_ms = INT64_MIN;
		q->own[i].user = q->own[i].project = 0;
	}
	if (k[GPU_HK_JOB] != 0)
		return merge_owner(q, i, r->s.last_ms, user, project, err);
	return 0;
}

/*
 * Take a row of usage_hourly_node for a query by hour and node (a
 * gpu_hrow_fn). Each row is a group of its own: its hour and node differ
 * from every other row's, and so does its node's name (names are unique
 * in nodes_dim). So it goes to the aggregate as it comes, without an
 * integer group (merge_row()), which would hold it only to copy it there.
 * A node without a name is no exception in a warehouse the tools wrote;
 * any such rows go to merge_row(), which makes them one group.
 */
static int
take_group(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	static const struct gpu_owner own = {INT64_MIN, INT64_MIN, {"", 0},
					     {"", 0}};
	struct dbq *q = ctx;
	struct gpu_dgroup g;
	struct name n;

	if (cache_get(&q->nodes, r->k[GPU_HK_NODE], &n, err) != 0)
		return -1;
	if (n.len == 0)
		return merge_row(q, r, err);
	if (enter_bucket(q, r->k[GPU_HK_TIME], &g.bucket_ms, err) != 0)
		return -1;
	if (q->agg == NULL) {
		q->agg = gpu_agg_new(&q->q);
		gpu_agg_reserve(q->agg, q->hint);
	}
	q->taken++;
	g.text[GPU_KT_NODE] = name_str(&n);
	g.plain = (unsigned)n.plain << GPU_KT_NODE;
	g.gpu = g.mig = g.category = -1;
	g.sums = &r->s;
	gpu_agg_add_distinct(q->agg, &g, &own);
	return 0;
}

/*
 * The hourly rollup q's whole hours come from: usage_hourly_node by hour
 * and node; usage_hourly_owner by user, project, both or neither, at any
 * period (its rows are those groups summed as merge_row() sums them, and
 * a quarter as many as usage_daily's at 1,600 GPUs); else usage_hourly,
 * and usage_daily for whole days when q is not by hour.
 */
static enum gpu_rollup
hour_source(const struct gpu_agg_query *q)
{
	if (q->period == GPU_PERIOD_HOUR && q->dims == GPU_DIM_NODE)
		return GPU_ROLLUP_NODE;
	if ((q->dims & ~(GPU_DIM_USER | GPU_DIM_PROJECT)) == 0)
		return GPU_ROLLUP_OWNER;
	return GPU_ROLLUP_HOURLY;
}

/* Whether q reads day rows for its whole days (by no hour or owner). */
static bool
reads_days(const struct gpu_agg_query *q)
{
	return q->period != GPU_PERIOD_HOUR &&
	       hour_source(q) == GPU_ROLLUP_HOURLY;
}

/*
 * The daily rollup q's whole days come from: usage_daily_job when q
 * groups by none of node and GPU (by job, model or profile, with or
 * without the owner), else usage_daily.
 */
static enum gpu_rollup
day_source(const struct gpu_agg_query *q)
{
	if ((q->dims & (GPU_DIM_NODE | GPU_DIM_GPU)) == 0)
		return GPU_ROLLUP_JOB_DAY;
	return GPU_ROLLUP_DAILY;
}

/* How q's sink folds hour rows: as the rows q reads are summed. */
static enum gpu_hrow_fold
sink_fold(const struct gpu_agg_query *q)
{
	if (hour_source(q) == GPU_ROLLUP_OWNER)
		return GPU_FOLD_OWNER;
	if (!reads_days(q))
		return GPU_FOLD_NONE;
	return day_source(q) == GPU_ROLLUP_JOB_DAY ? GPU_FOLD_JOB_DAY
						   : GPU_FOLD_DAY;
}

/*
 * Set up q for aq on db: name lookups, the day sink into the groups, and
 * fn (NULL: one aggregate at the end).
 */
static int
dbq_init(struct dbq *q, sqlite3 *db, const struct gpu_agg_query *aq,
	 gpu_query_fn *fn, void *ctx, struct gpu_err *err)
{
	memset(q, 0, sizeof(*q));
	q->db = db;
	q->q = *aq;
	q->fn = fn;
	q->fn_ctx = ctx;
	q->cur_bucket = INT64_MIN;
	gpu_hrows_init(&q->groups);
	gpu_pending_init(&q->pending, db);
	q->names.pending = &q->pending;
	gpu_hrow_sink_init(&q->sink, sink_fold(aq), merge_row, q);
	q->last_in = INT64_MIN;
	q->last_bucket = query_bucket(q, INT64_MIN);
	q->nodes.table = "nodes_dim";
	q->nodes.key_col = "node_id";
	q->nodes.name_col = "node";
	q->jobs.table = "jobs_dim";
	q->jobs.key_col = "job_key";
	q->jobs.name_col = "job_id";
	q->names.table = "names_dim";
	q->names.key_col = "name_key";
	q->names.name_col = "name";
	q->nodes.db = q->jobs.db = q->names.db = db;
	return gpu_retention_deleted(db, &q->horizon, err);
}

/*
 * The name of key k by c into g's text[i] (and whether it is plain into
 * bit i of g->plain) when dims d has one of the dims on.
 */
static inline int
dim_name(unsigned d, unsigned on, struct namecache *c, int64_t k,
	 struct gpu_dgroup *g, enum gpu_key_text i, struct gpu_err *err)
{
	struct name n;

	if ((d & on) == 0)
		return 0;
	if (cache_get(c, k, &n, err) != 0)
		return -1;
	g->text[i] = name_str(&n);
	g->plain |= (unsigned)n.plain << i;
	return 0;
}

/*
 * Add integer group i to a as a named group with its sums and owner: the
 * names only of the dims grouped by (the others are not read).
 */
static int
build_group(struct dbq *q, size_t i, struct gpu_agg *a, struct gpu_err *err)
{
	const struct gpu_hrow *r = &q->groups.rows[i];
	const struct iown *o = &q->own[i];
	unsigned d = q->q.dims;
	struct name user, project;
	struct gpu_owner own = {INT64_MIN, INT64_MIN, {"", 0}, {"", 0}};
	struct gpu_dgroup g;

	g.plain = 0;
	if (dim_name(d, GPU_DIM_NODE | GPU_DIM_GPU, &q->nodes,
		     r->k[GPU_HK_NODE], &g, GPU_KT_NODE, err) != 0 ||
	    dim_name(d, GPU_DIM_JOB, &q->jobs, r->k[GPU_HK_JOB], &g,
		     GPU_KT_JOB, err) != 0 ||
	    dim_name(d, GPU_DIM_USER, &q->names, r->k[GPU_HK_USER], &g,
		     GPU_KT_USER, err) != 0 ||
	    dim_name(d, GPU_DIM_PROJECT, &q->names, r->k[GPU_HK_PROJECT], &g,
		     GPU_KT_PROJECT, err) != 0 ||
	    dim_name(d, GPU_DIM_MODEL, &q->names, r->k[GPU_HK_MODEL], &g,
		     GPU_KT_MODEL, err) != 0 ||
	    dim_name(d, GPU_DIM_PROFILE, &q->names, r->k[GPU_HK_PROFILE], &g,
		     GPU_KT_PROFILE, err) != 0)
		return -1;
	g.bucket_ms = r->k[GPU_HK_TIME];
	g.gpu = (int)r->k[GPU_HK_GPU];
	g.mig = (int)r->k[GPU_HK_MIG];
	g.category = (int)r->k[GPU_HK_CATEGORY] - 1;
	g.sums = &r->s;
	if (o->user != 0) {
		if (cache_get(&q->names, o->user, &user, err) != 0)
			return -1;
		own.user_ms = o->user_ms;
		own.user = name_str(&user);
	}
	if (o->project != 0) {
		if (cache_get(&q->names, o->project, &project, err) != 0)
			return -1;
		own.project_ms = o->project_ms;
		own.project = name_str(&project);
	}
	/* Integer keys name distinct groups: names are unique by table. */
	gpu_agg_add_distinct(a, &g, &own);
	return 0;
}

/* Turn the integer groups into the named groups of a new aggregate. */
static int
dbq_build(struct dbq *q, struct gpu_agg **out, struct gpu_err *err)
{
	struct gpu_agg *a = q->agg;

	/* After the groups taken as they came, if any: no key is in both. */
	if (a == NULL) {
		a = gpu_agg_new(&q->q);
		gpu_agg_reserve(a, gpu_hrows_count(&q->groups));
	} else {
		q->agg = NULL;
		q->hint = q->taken;
		q->taken = 0;
	}
	for (size_t i = 0; i < gpu_hrows_count(&q->groups); i++)
		if (build_group(q, i, a, err) != 0) {
			gpu_agg_free(a);
			return -1;
		}
	gpu_agg_finish(a);
	*out = a;
	return 0;
}

/*
 * For gpu_query_each(): hand the groups held, those of one bucket, to fn
 * as a finished aggregate, and forget them.
 */
static int
flush_bucket(struct dbq *q, struct gpu_err *err)
{
	struct gpu_agg *a;
	int rc;

	if (gpu_hrows_count(&q->groups) == 0 && q->agg == NULL)
		return 0;
	if (dbq_build(q, &a, err) != 0)
		return -1;
	rc = q->fn(q->fn_ctx, a, err);
	if (rc == GPU_QUERY_KEPT)
		rc = 0;
	else
		gpu_agg_free(a);
	gpu_hrows_clear(&q->groups);
	return rc;
}

/*
 * Release q; when ok, hand out its aggregate finished (gpu_query_run())
 * or its last bucket to fn (gpu_query_each()).
 */
static int
dbq_done(struct dbq *q, bool ok, struct gpu_agg **out, struct gpu_err *err)
{
	int rc = !ok		 ? -1
		 : q->fn != NULL ? flush_bucket(q, err)
				 : dbq_build(q, out, err);

	gpu_agg_free(q->agg); /* NULL unless the query failed */
	cache_release(&q->nodes);
	cache_release(&q->jobs);
	cache_release(&q->names);
	gpu_hrows_release(&q->groups);
	gpu_hrow_sink_release(&q->sink);
	gpu_pending_release(&q->pending);
	free(q->dirty);
	free(q->own);
	return rc;
}

static int
check_query(const struct gpu_agg_query *q, struct gpu_err *err)
{
	if (q->from_ms >= q->to_ms)
		return gpu_err_set(err, "empty time range");
	return 0;
}

/*
 * Facts of [from, to) into the sink, as hour rows; refused before the
 * raw-sample horizon, where what (the reason the facts are read) would
 * be answered from the few facts left.
 */
static int
scan(struct dbq *q, int64_t from, int64_t to, const char *what,
     struct gpu_err *err)
{
	if (gpu_retention_check(q->horizon, from, what, err) != 0)
		return -1;
	if (q->q.dims & GPU_DIM_CATEGORY)
		return gpu_hrow_scan_category(
		    q->db, from, to, q->q.threshold_mib, &q->pending,
		    gpu_hrow_sink_hour, &q->sink, err);
	return gpu_hrow_scan(q->db, from, to, q->q.threshold_mib, &q->pending,
			     gpu_hrow_sink_hour, &q->sink, err);
}

/* Remember the dirty hours of [from, to): their rollup rows are stale. */
static int
load_dirty(struct dbq *q, int64_t from, int64_t to, struct gpu_err *err)
{
	sqlite3_stmt *st =
	    gpu_db_prepare(q->db,
			   "SELECT hour_ms FROM dirty_hours WHERE hour_ms >= ?1"
			   " AND hour_ms < ?2 ORDER BY hour_ms",
			   err);
	size_t cap = 0;
	int step;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (q->ndirty == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			q->dirty =
			    gpu_xreallocarray(q->dirty, cap, sizeof(*q->dirty));
		}
		q->dirty[q->ndirty++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return gpu_err_set(err, "database error: %s",
				   sqlite3_errmsg(q->db));
	return 0;
}

/* The index of the first dirty hour at or after t. */
static size_t
first_dirty(const struct dbq *q, int64_t t)
{
	size_t lo = 0, hi = q->ndirty;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (q->dirty[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The whole hours [from, to) into the sink as hour rows: from rollup t
 * (usage_hourly, usage_hourly_node or usage_hourly_owner), except runs of dirty
 * hours, which come from the facts as a refresh would rebuild them.
 */
static int
read_hours(struct dbq *q, enum gpu_rollup t, int64_t from, int64_t to,
	   struct gpu_err *err)
{
	/*
	 * Owner rows are what the sink folds into (sink_fold()); node rows
	 * are groups of their own, whose sink passes them on unfolded.
	 */
	gpu_hrow_fn *take = t == GPU_ROLLUP_OWNER  ? gpu_hrow_sink_folded
			    : t == GPU_ROLLUP_NODE ? take_group
						   : gpu_hrow_sink_hour;
	void *ctx = t == GPU_ROLLUP_NODE ? (void *)q : (void *)&q->sink;
	size_t i = first_dirty(q, from);
	int64_t cur = from;

	while (i < q->ndirty && q->dirty[i] < to) {
		int64_t a = q->dirty[i], b = a + GPU_HOUR_MS;

		while (++i < q->ndirty && q->dirty[i] == b && b < to)
			b += GPU_HOUR_MS;
		if (cur < a &&
		    gpu_hrow_read(q->db, t, cur, a, take, ctx, err) != 0)
			return -1;
		if (scan(q, a, b, "an hour whose rollup is out of date", err) !=
		    0)
			return -1;
		cur = b;
	}
	if (cur < to)
		return gpu_hrow_read(q->db, t, cur, to, take, ctx, err);
	return 0;
}

/*
 * The whole days [from, to) into the sink: day rows from usage_daily or
 * usage_daily_job (day_source()), except the days of dirty hours, whose
 * hours are summed as a refresh would rebuild their day rows.
 */
static int
read_days(struct dbq *q, int64_t from, int64_t to, struct gpu_err *err)
{
	enum gpu_rollup t = day_source(&q->q);
	size_t i = first_dirty(q, from);
	int64_t cur = from;

	for (; i < q->ndirty && q->dirty[i] < to; i++) {
		int64_t d = gpu_period_start(GPU_PERIOD_DAY, q->dirty[i]);

		if (d < cur)
			continue; /* another dirty hour of that day */
		if (cur < d &&
		    gpu_hrow_read(q->db, t, cur, d, gpu_hrow_sink_folded,
				  &q->sink, err) != 0)
			return -1;
		if (read_hours(q, GPU_ROLLUP_HOURLY, d, d + GPU_DAY_MS, err) !=
		    0)
			return -1;
		cur = d + GPU_DAY_MS;
	}
	if (cur < to)
		return gpu_hrow_read(q->db, t, cur, to, gpu_hrow_sink_folded,
				     &q->sink, err);
	return 0;
}

/* The whole hours [*hf, *ht) of q's range (INT64_MIN, MAX: unbounded). */
static void
whole_hours(const struct gpu_agg_query *q, int64_t *hf, int64_t *ht)
{
	*hf = q->from_ms == INT64_MIN
		  ? INT64_MIN
		  : gpu_period_start(GPU_PERIOD_HOUR, q->from_ms);
	if (*hf < q->from_ms)
		*hf += GPU_HOUR_MS;
	*ht = q->to_ms == INT64_MAX
		  ? INT64_MAX
		  : gpu_period_start(GPU_PERIOD_HOUR, q->to_ms);
}

/* Why a query reads the facts of its whole range. */
static const char *
scan_reason(const struct gpu_agg_query *q)
{
	int64_t hf, ht;

	if (q->dims & GPU_DIM_CATEGORY)
		return "grouping by usage_category";
	if (q->threshold_mib != GPU_DEFAULT_THRESHOLD_MIB)
		return "a memory-overage threshold other than the default";
	whole_hours(q, &hf, &ht);
	if (hf >= ht)
		return "a range that holds no whole hour";
	return "a scan of the facts";
}

/* gpu_query_scan(), or gpu_query_each() with scan_all, as fn says. */
static int
query_scan(sqlite3 *db, const struct gpu_agg_query *q, gpu_query_fn *fn,
	   void *ctx, struct gpu_agg **out, struct gpu_err *err)
{
	struct dbq dq;
	bool ok;

	if (check_query(q, err) != 0)
		return -1;
	ok = dbq_init(&dq, db, q, fn, ctx, err) == 0 &&
	     scan(&dq, q->from_ms, q->to_ms, scan_reason(q), err) == 0 &&
	     gpu_hrow_sink_flush(&dq.sink, err) == 0;
	return dbq_done(&dq, ok, out, err);
}

int
gpu_query_scan(sqlite3 *db, const struct gpu_agg_query *q, struct gpu_agg **out,
	       struct gpu_err *err)
{
	/* One snapshot for the whole query. */
	bool own = gpu_db_begin_read(db);
	int rc;

	*out = NULL;
	rc = query_scan(db, q, NULL, NULL, out, err);
	gpu_db_end_read(db, own);
	return rc;
}

/* Why a query reads the facts of the hours at its range's edges. */
#define EDGE "a range that starts or ends inside an hour"

/*
 * Read the rollups of q's range (whole hours and days) and the facts of
 * its edge hours into dq's sink, then flush it. dq is initialized for a
 * query of q's range, threshold and period class.
 */
static bool
read_range(struct dbq *dq, const struct gpu_agg_query *q, struct gpu_err *err)
{
	int64_t hf, ht, df, dt;
	enum gpu_rollup hourly = hour_source(q);
	bool ok;

	/* Whole hours from the rollup, partial edge hours from the facts. */
	whole_hours(q, &hf, &ht);
	/* Whole days of [hf, ht) from usage_daily. */
	df = dt = ht;
	if (reads_days(q)) {
		df = hf == INT64_MIN ? INT64_MIN
				     : gpu_period_start(GPU_PERIOD_DAY, hf);
		if (df < hf)
			df += GPU_DAY_MS;
		dt = ht == INT64_MAX ? INT64_MAX
				     : gpu_period_start(GPU_PERIOD_DAY, ht);
		if (df >= dt)
			df = dt = ht;
	}
	ok = load_dirty(dq, hf, ht, err) == 0;
	if (ok && q->from_ms < hf)
		ok = scan(dq, q->from_ms, hf, EDGE, err) == 0;
	if (ok && hf < df)
		ok = read_hours(dq, hourly, hf, df, err) == 0;
	if (ok && df < dt)
		ok = read_days(dq, df, dt, err) == 0;
	if (ok && dt < ht)
		ok = read_hours(dq, hourly, dt, ht, err) == 0;
	if (ok && ht < q->to_ms)
		ok = scan(dq, ht, q->to_ms, EDGE, err) == 0;
	return ok && gpu_hrow_sink_flush(&dq->sink, err) == 0;
}

/* Whether q reads the facts of its whole range (query_scan()). */
static bool
scans(const struct gpu_agg_query *q)
{
	int64_t hf, ht;

	/*
	 * The rollups hold the sums at the default threshold and no usage
	 * category: other queries read every fact of the range (slower).
	 */
	if (q->threshold_mib != GPU_DEFAULT_THRESHOLD_MIB ||
	    (q->dims & GPU_DIM_CATEGORY))
		return true;
	whole_hours(q, &hf, &ht);
	return hf >= ht;
}

/* gpu_query_run(), or gpu_query_each(), as fn says. */
static int
query(sqlite3 *db, const struct gpu_agg_query *q, gpu_query_fn *fn, void *ctx,
      struct gpu_agg **out, struct gpu_err *err)
{
	struct dbq dq;
	bool ok;

	if (check_query(q, err) != 0)
		return -1;
	if (scans(q))
		return query_scan(db, q, fn, ctx, out, err);
	ok = dbq_init(&dq, db, q, fn, ctx, err) == 0 && read_range(&dq, q, err);
	return dbq_done(&dq, ok, out, err);
}

/* The queries that share one read. */
struct fan {
	struct dbq *dq;
	size_t n;
};

/* Hand a row to every query's groups (the lead's sink's receiver). */
static int
fan_row(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	const struct fan *f = ctx;

	for (size_t i = 0; i < f->n; i++)
		if (merge_row(&f->dq[i], r, err) != 0)
			return -1;
	return 0;
}

/*
 * Whether q can share the read of lead: the same range and threshold,
 * and both reading day rows of the same table (neither by hour, nor from
 * usage_hourly_owner), so that the one read hands both the same rows in
 * the same order.
 */
static bool
shares_read(const struct gpu_agg_query *lead, const struct gpu_agg_query *q)
{
	return q->from_ms == lead->from_ms && q->to_ms == lead->to_ms &&
	       q->threshold_mib == lead->threshold_mib && reads_days(q) &&
	       reads_days(lead) && day_source(q) == day_source(lead) &&
	       !scans(q) && !scans(lead);
}

/*
 * Queries q[idx[0..m-1]] into out[] by one read: q[idx[0]]'s, each row
 * handed to every query's groups (all share its read: shares_read()).
 */
static bool
run_shared(sqlite3 *db, const struct gpu_agg_query *q, const size_t *idx,
	   size_t m, struct gpu_agg **out, struct gpu_err *err)
{
	const struct gpu_agg_query *lead = &q[idx[0]];
	struct dbq *dq;
	struct fan f;
	size_t i, ninit = 0;
	bool ok;

	if (m == 1)
		return gpu_query_run(db, lead, &out[idx[0]], err) == 0;
	if (check_query(lead, err) != 0)
		return false;
	dq = gpu_xcalloc(m, sizeof(*dq));
	ok = true;
	for (; ninit < m && ok; ninit++)
		ok = dbq_init(&dq[ninit], db, &q[idx[ninit]], NULL, NULL,
			      err) == 0;
	if (ok) {
		/*
		 * dq[0] reads, and hands each row to every query's groups;
		 * the owners its fact scans name but the warehouse does not
		 * yet are dq[0]'s to resolve.
		 */
		f.dq = dq;
		f.n = m;
		dq[0].sink.fn = fan_row;
		dq[0].sink.ctx = &f;
		for (i = 1; i < m; i++)
			dq[i].names.pending = &dq[0].pending;
		ok = read_range(&dq[0], lead, err);
	}
	/* dq[0] last: the others' names may be its pending ones. */
	for (i = ninit; i-- > 0;)
		if (dbq_done(&dq[i], ok, &out[idx[i]], err) != 0)
			ok = false;
	free(dq);
	return ok;
}

int
gpu_query_run_many(sqlite3 *db, const struct gpu_agg_query *q, size_t n,
		   struct gpu_agg **out, struct gpu_err *err)
{
	bool *taken = gpu_xcalloc(n + 1, sizeof(*taken));
	size_t *idx = gpu_xcalloc(n + 1, sizeof(*idx));
	bool ok = true, own = gpu_db_begin_read(db);

	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	/* Each query not yet run leads those after it that share its read. */
	for (size_t i = 0; i < n && ok; i++) {
		size_t m = 0;

		if (taken[i])
			continue;
		idx[m++] = i;
		for (size_t j = i + 1; j < n; j++)
			if (!taken[j] && shares_read(&q[i], &q[j])) {
				taken[j] = true;
				idx[m++] = j;
			}
		ok = run_shared(db, q, idx, m, out, err);
	}
	if (!ok) {
		for (size_t i = 0; i < n; i++) {
			gpu_agg_free(out[i]);
			out[i] = NULL;
		}
	}
	free(taken);
	free(idx);
	gpu_db_end_read(db, own);
	return ok ? 0 : -1;
}

int
gpu_query_run(sqlite3 *db, const struct gpu_agg_query *q, struct gpu_agg **out,
	      struct gpu_err *err)
{
	bool own = gpu_db_begin_read(db);
	int rc;

	*out = NULL;
	rc = query(db, q, NULL, NULL, out, err);
	gpu_db_end_read(db, own);
	return rc;
}

int
gpu_query_each(sqlite3 *db, const struct gpu_agg_query *q, bool scan_all,
	       gpu_query_fn *fn, void *ctx, struct gpu_err *err)
{
	bool own = gpu_db_begin_read(db);
	int rc = scan_all ? query_scan(db, q, fn, ctx, NULL, err)
			  : query(db, q, fn, ctx, NULL, err);

	gpu_db_end_read(db, own);
	return rc;
}
