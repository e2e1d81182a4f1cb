/* SPDX-License-Identifier: MIT */
/* gpureport's page data: aggregates and charges as one line of JSON. */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/agg.h"
#include "gpu/query.h"
#include "gpu/db.h"
#include "gpu/escape.h"
#include "gpu/hashmap.h"
#include "gpu/num.h"
#include "gpu/time.h"
#include "gpureport.h"

#define DAY_MS INT64_C(86400000)

/* A sorted set of names, looked up by binary search. */
struct names {
	char **v;
	size_t n;
};

/* One cell of a job's cost: its time on one node in one day. */
struct cell {
	size_t job;
	size_t day;
	size_t node;
	int64_t alloc_s;
	int64_t alloc_busy; /* sum d * util_pct, rounded */
	int64_t overage;    /* MiB-seconds */
	int64_t idle_s;	    /* allocated GPU-seconds at util < 5 */
	int64_t weight;	    /* unrounded charge, for sharing the job's cents */
	int64_t cents;
};

/* One owner's hour: allocated GPU-seconds and busy percent-seconds. */
struct owner_hour {
	size_t owner;
	size_t hour;
	int64_t alloc_s;
	double busy;
};

/* Everything the page embeds, before it is printed. */
struct page {
	const struct report_range *range;
	const struct gpu_rates *rates;
	int64_t hour0, day0;
	size_t nhours, ndays;
	struct names nodes, users, projects, jobs;
	int64_t *nh;   /* [node][hour][3]: gpu_s, alloc_s, busy_s */
	int64_t *nd;   /* [node][day][5]: gpu_s, alloc_s, busy, idle_s, cents */
	int64_t *nd_w; /* [node][day]: idle cents weight */
	size_t *job_user; /* by job index (sorted job ids) */
	size_t *job_proj;
	int64_t *job_cents;
	struct cell *cells;
	size_t ncells;
	struct gpu_agg *by_owner;   /* hour x user x project, until printed */
	struct gpu_bill *bill;	    /* holds the strings of rep */
	struct gpu_bill_report rep; /* the job lines, until indexed */
	struct gpu_agg *by_cell;    /* day x job x node x model, until shared */
	struct gpu_agg *by_day;	    /* day x node x model, until summed */
	bool days_with_bill;	    /* by_day read with the bill's rows */
	int64_t rejects;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names_add(struct names *s, const char *name)
{
	s->v = gpu_xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = gpu_xstrdup(name);
}

/* Sort and drop duplicates. */
static void
names_seal(struct names *s)
{
	size_t i, k = 0;

	if (s->n == 0)
		return; /* qsort() must not be given a null list */
	qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	for (i = 0; i < s->n; i++) {
		if (k > 0 && strcmp(s->v[k - 1], s->v[i]) == 0) {
			free(s->v[i]);
			continue;
		}
		s->v[k++] = s->v[i];
	}
	s->n = k;
}

/* The index of name, or SIZE_MAX. */
static size_t
names_find(const struct names *s, const char *name)
{
	char *const *p;

	if (s->n == 0)
		return SIZE_MAX;
	p = bsearch(&name, s->v, s->n, sizeof(*s->v), cmp_str);
	return p == NULL ? SIZE_MAX : (size_t)(p - s->v);
}

static void
names_release(struct names *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* ---- the period ---- */

int
report_range_choose(sqlite3 *db, int64_t from_ms, int64_t to_ms,
		    struct report_range *range, struct gpu_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (to_ms == INT64_MAX) {
		/* A packed hour's start is on its samples' day. */
		st = gpu_db_prepare(
		    db,
		    "SELECT max(t) FROM (SELECT max(ts_ms) AS t FROM"
		    " gpu_usage_fact_rows UNION ALL SELECT max(hour_ms) FROM"
		    " gpu_usage_fact_packed)",
		    err);
		if (st == NULL)
			return -1;
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			gpu_err_set(err, "cannot read the warehouse: %s",
				    sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return -1;
		}
		if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
			sqlite3_finalize(st);
			return gpu_err_set(err,
					   "the warehouse holds no samples; "
					   "give --from and --to");
		}
		to_ms = gpu_period_next(
		    GPU_PERIOD_DAY,
		    gpu_period_start(GPU_PERIOD_DAY,
				     sqlite3_column_int64(st, 0)));
		sqlite3_finalize(st);
	}
	if (from_ms == INT64_MIN)
		from_ms = gpu_period_start(GPU_PERIOD_MONTH, to_ms - 1);
	if (from_ms >= to_ms)
		return gpu_err_set(err, "empty period: --from is not before "
					"--to");
	range->from_ms = from_ms;
	range->to_ms = to_ms;
	return 0;
}

/* ---- reading the aggregates ---- */

static void
query_of(const struct report_range *range, enum gpu_period period,
	 unsigned dims, int64_t threshold, struct gpu_agg_query *q)
{
	gpu_agg_query_init(q);
	q->period = period;
	q->dims = dims;
	q->from_ms = range->from_ms;
	q->to_ms = range->to_ms;
	q->threshold_mib = threshold;
}

static int
run(sqlite3 *db, const struct report_range *range, enum gpu_period period,
    unsigned dims, int64_t threshold, struct gpu_agg **out, struct gpu_err *err)
{
	struct gpu_agg_query q;

	query_of(range, period, dims, threshold, &q);
	return gpu_query_run(db, &q, out, err);
}

static int64_t
round_busy(double busy)
{
	return (int64_t)llround(busy);
}

/*
 * GPU-seconds that count a MIG slice at its share, rounded: a _w sum (in
 * 28ths of a GPU-second) over 28. A whole GPU's are its seconds exactly.
 */
static int64_t
wsec(int64_t w)
{
	return (w + GPU_SHARE_WHOLE / 2) / GPU_SHARE_WHOLE;
}

/* One node's hour, kept by load_hours() until every node is known. */
struct node_hour {
	uint32_t node; /* its entry in the nodes map: first seen, first */
	uint32_t hour;
	int64_t c[3];
};

struct node_hours {
	int64_t hour0;
	struct gpu_hashmap nodes;
	struct node_hour *v;
	size_t n, cap;
};

/* Keep one hour's node groups (a gpu_query_fn). */
static int
take_hours(void *ctx, struct gpu_agg *a, struct gpu_err *err)
{
	struct node_hours *nh = ctx;

	(void)err;
	for (size_t i = 0; i < gpu_agg_count(a); i++) {
		const struct gpu_group *g = gpu_agg_group(a, i);
		struct node_hour *e;

		if (nh->n == nh->cap) {
			nh->cap = nh->cap == 0 ? 1024 : nh->cap * 2;
			nh->v =
			    gpu_xreallocarray(nh->v, nh->cap, sizeof(*nh->v));
		}
		e = &nh->v[nh->n++];
		e->node = (uint32_t)gpu_hashmap_put(&nh->nodes, g->node,
						    strlen(g->node), NULL);
		e->hour = (uint32_t)((g->bucket_ms - nh->hour0) / GPU_HOUR_MS);
		/* A slice at its share, as every GPU-hour metric counts it. */
		e->c[0] = wsec(g->sums.gpu_w);
		e->c[1] = wsec(g->sums.alloc_w);
		/* Busy GPU-seconds: enough for a chart, and short. */
		e->c[2] = round_busy(g->sums.busy_w / GPU_SHARE_WHOLE / 100);
	}
	return 0;
}

/*
 * Node x hour: the hourly series and the heat map. The query hands over
 * an hour at a time; each node's hour is kept in 32 bytes (a group holds
 * about 800) until the sorted node list gives the series their order.
 */
static int
load_hours(sqlite3 *db, struct page *pg, struct gpu_err *err)
{
	struct node_hours nh = {pg->hour0, {0}, NULL, 0, 0};
	struct gpu_agg_query q;
	size_t *order = NULL, nodes;
	int rc;

	gpu_hashmap_init(&nh.nodes);
	query_of(pg->range, GPU_PERIOD_HOUR, GPU_DIM_NODE,
		 GPU_DEFAULT_THRESHOLD_MIB, &q);
	rc = gpu_query_each(db, &q, false, take_hours, &nh, err);
	if (rc == 0) {
		nodes = gpu_hashmap_count(&nh.nodes);
		for (size_t i = 0; i < nodes; i++)
			names_add(&pg->nodes, gpu_hashmap_key(&nh.nodes, i));
		names_seal(&pg->nodes);
		order = gpu_xcalloc(nodes + 1, sizeof(*order));
		for (size_t i = 0; i < nodes; i++)
			order[i] = names_find(&pg->nodes,
					      gpu_hashmap_key(&nh.nodes, i));
		pg->nh =
		    gpu_xcalloc(pg->nodes.n * pg->nhours * 3, sizeof(*pg->nh));
		for (size_t i = 0; i < nh.n; i++) {
			const struct node_hour *e = &nh.v[i];
			int64_t *c =
			    &pg->nh[(order[e->node] * pg->nhours + e->hour) *
				    3];

			for (int k = 0; k < 3; k++)
				c[k] += e->c[k];
		}
	}
	free(order);
	free(nh.v);
	gpu_hashmap_release(&nh.nodes);
	return rc;
}

/* Idle seconds per GPU model (a cluster has few models). */
struct models {
	char **name;
	int64_t *rate;
	int64_t *seconds;
	size_t n;
};

static void
model_add(struct models *m, const char *name, int64_t rate, int64_t secs)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->name[i], name) == 0)
			break;
	if (i == m->n) {
		m->name = gpu_xreallocarray(m->name, i + 1, sizeof(*m->name));
		m->rate = gpu_xreallocarray(m->rate, i + 1, sizeof(*m->rate));
		m->seconds =
		    gpu_xreallocarray(m->seconds, i + 1, sizeof(*m->seconds));
		m->name[i] = gpu_xstrdup(name);
		m->rate[i] = rate;
		m->seconds[i] = 0;
		m->n++;
	}
	m->seconds[i] += secs;
}

static void
model_release(struct models *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->name[i]);
	free(m->name);
	free(m->rate);
	free(m->seconds);
}

/* The query of the node days: day x node (and model, for idle time). */
static void
days_query(const struct page *pg, struct gpu_agg_query *q)
{
	query_of(pg->range, GPU_PERIOD_DAY, GPU_DIM_NODE | GPU_DIM_MODEL,
		 GPU_DEFAULT_THRESHOLD_MIB, q);
}

/* The node days of pg->by_day (read, the node list known) into nd. */
static void
sum_days(struct page *pg)
{
	const struct gpu_agg *a = pg->by_day;
	struct models models = {NULL, NULL, NULL, 0};
	size_t i, n, cells = pg->nodes.n * pg->ndays;
	int64_t idle_cents = 0, *shares;

	pg->nd = gpu_xcalloc(cells * 5, sizeof(*pg->nd));
	pg->nd_w = gpu_xcalloc(cells, sizeof(*pg->nd_w));
	n = gpu_agg_count(a);
	for (i = 0; i < n; i++) {
		const struct gpu_group *g = gpu_agg_group(a, i);
		size_t node = names_find(&pg->nodes, g->node);
		size_t d = (size_t)((g->bucket_ms - pg->day0) / DAY_MS);
		int64_t rate =
		    gpu_rates_gpu_rate(pg->rates, g->model, strlen(g->model));
		int64_t *c;

		if (node == SIZE_MAX)
			continue; /* cannot happen: same samples as hours */
		c = &pg->nd[(node * pg->ndays + d) * 5];
		c[0] += wsec(g->sums.gpu_w);
		c[1] += wsec(g->sums.alloc_w);
		c[2] += round_busy(g->sums.busy_w / GPU_SHARE_WHOLE);
		c[3] += wsec(g->sums.idle_w);
		/* A slice's idle time at its share of its model's rate. */
		pg->nd_w[node * pg->ndays + d] +=
		    (int64_t)((gpu_i128)g->sums.idle_w * rate /
			      (1024 * GPU_SHARE_WHOLE));
		model_add(&models, g->model, rate, g->sums.idle_w);
	}
	gpu_agg_free(pg->by_day);
	pg->by_day = NULL;
	/* Idle time at its model's GPU-hour rate, rounded per model over the
	 * whole period as a job's GPU charge is. */
	for (i = 0; i < models.n; i++)
		idle_cents +=
		    gpu_money_gpu_w_cents(models.seconds[i], models.rate[i]);
	model_release(&models);
	shares = gpu_xcalloc(cells == 0 ? 1 : cells, sizeof(*shares));
	if (gpu_money_share(idle_cents, pg->nd_w, cells, shares) !=
		idle_cents &&
	    cells > 0)
		shares[0] += idle_cents;
	for (i = 0; i < cells; i++)
		pg->nd[i * 5 + 4] = shares[i];
	free(shares);
}

/*
 * The queries of the hourly series (by node, and by user and project, the
 * series of an owner filter), and of the node days unless they share the
 * bill's read: about half of the page's reading, so they run on a
 * connection and in a thread of their own while the bill and the cells
 * are read (the queries were separate read transactions before, so the
 * page is no less consistent).
 */
static int
load_series(sqlite3 *db, struct page *pg, struct gpu_err *err)
{
	struct gpu_agg_query q;

	if (run(db, pg->range, GPU_PERIOD_HOUR, GPU_DIM_USER | GPU_DIM_PROJECT,
		GPU_DEFAULT_THRESHOLD_MIB, &pg->by_owner, err) != 0)
		return -1;
	if (load_hours(db, pg, err) != 0)
		return -1;
	if (pg->days_with_bill)
		return 0;
	days_query(pg, &q);
	return gpu_query_run(db, &q, &pg->by_day, err);
}

struct series_task {
	const char *path; /* the warehouse; NULL: run on db, in line */
	sqlite3 *db;
	struct page *pg;
	struct gpu_err err;
	int rc;
	bool opened; /* false: the second connection failed; run in line */
};

static void *
series_task_run(void *arg)
{
	struct series_task *t = arg;
	struct gpu_db_opts dbo = {.readonly = true,
				  .lock_timeout_ms = GPU_DB_LOCK_TIMEOUT_MS};
	sqlite3 *db = t->db;

	t->rc = -1;
	t->opened =
	    t->path == NULL || gpu_db_open(t->path, &dbo, &db, &t->err) == 0;
	if (!t->opened)
		return NULL;
	t->rc = load_series(db, t->pg, &t->err);
	if (t->path != NULL &&
	    gpu_db_close(db, t->rc == 0 ? &t->err : NULL) != 0)
		t->rc = -1;
	return NULL;
}

/*
 * The owners' names join the page's (a group's owner is the samples'
 * effective owner, normally also the owner of the job lines).
 */
static void
add_owners(struct page *pg)
{
	size_t i;

	for (i = 0; i < gpu_agg_count(pg->by_owner); i++) {
		const struct gpu_group *g = gpu_agg_group(pg->by_owner, i);

		if (g->sums.alloc_seconds > 0) {
			names_add(&pg->users, g->user);
			names_add(&pg->projects, g->project);
		}
	}
}

/*
 * Whole-period job lines, priced by the billing core as gpubill prices
 * them (one usage record per job and model); the job x day x node (x
 * model) groups of the cells; and, when the bill's threshold is the
 * default, the node days. The last two read the same day rows, once; the
 * job lines read usage_daily_job.
 */
static int
load_bill(sqlite3 *db, struct page *pg, struct gpu_err *err)
{
	int64_t threshold = gpu_rates_threshold_mib(pg->rates);
	struct gpu_agg_query q[3];
	struct gpu_agg *a[3] = {NULL, NULL, NULL};
	size_t n = pg->days_with_bill ? 3 : 2;
	int ret = -1;

	query_of(pg->range, GPU_PERIOD_ALL,
		 GPU_DIM_JOB | GPU_DIM_MODEL | GPU_DIM_PROFILE, threshold,
		 &q[0]);
	query_of(pg->range, GPU_PERIOD_DAY,
		 GPU_DIM_JOB | GPU_DIM_NODE | GPU_DIM_MODEL, threshold, &q[1]);
	days_query(pg, &q[2]);
	pg->bill = gpu_bill_new(pg->rates);
	if (gpu_query_run_many(db, q, n, a, err) != 0)
		goto out;
	pg->by_cell = a[1];
	if (n == 3)
		pg->by_day = a[2];
	a[1] = a[2] = NULL;
	if (gpu_bill_add_agg(pg->bill, a[0], "report", err) != 0)
		goto out;
	gpu_bill_report(pg->bill, GPU_BILL_JOB, false, NULL, NULL, &pg->rep);
	if (pg->rep.overflow) {
		gpu_err_set(err, "an amount of the bill is too large");
		goto out;
	}
	ret = 0;
out:
	gpu_agg_free(a[0]);
	return ret;
}

/* Does the bill's read carry the node days' (their thresholds agree)? */
static bool
days_with_bill(const struct gpu_rates *rates)
{
	return gpu_rates_threshold_mib(rates) == GPU_DEFAULT_THRESHOLD_MIB;
}

/* The names of the job lines join the page's; index the jobs. */
static void
index_jobs(struct page *pg)
{
	const struct gpu_bill_report *rep = &pg->rep;
	size_t i;

	for (i = 0; i < rep->nlines; i++) {
		names_add(&pg->jobs, rep->lines[i].job_id);
		names_add(&pg->users, rep->lines[i].user);
		names_add(&pg->projects, rep->lines[i].project);
	}
	names_seal(&pg->jobs);
	names_seal(&pg->users);
	names_seal(&pg->projects);
	pg->job_user = gpu_xcalloc(pg->jobs.n + 1, sizeof(*pg->job_user));
	pg->job_proj = gpu_xcalloc(pg->jobs.n + 1, sizeof(*pg->job_proj));
	pg->job_cents = gpu_xcalloc(pg->jobs.n + 1, sizeof(*pg->job_cents));
	for (i = 0; i < rep->nlines; i++) {
		const struct gpu_bill_line *l = &rep->lines[i];
		size_t j = names_find(&pg->jobs, l->job_id);

		pg->job_user[j] = names_find(&pg->users, l->user);
		pg->job_proj[j] = names_find(&pg->projects, l->project);
		pg->job_cents[j] = l->c.total_cents;
	}
}

static int
cmp_cell(const void *pa, const void *pb)
{
	const struct cell *a = pa, *b = pb;

	if (a->job != b->job)
		return a->job < b->job ? -1 : 1;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	if (a->node != b->node)
		return a->node < b->node ? -1 : 1;
	return 0;
}

/* Share each job's billed cents among its cells, to the cent. */
static void
share_cells(struct page *pg)
{
	size_t i = 0, k, n;
	int64_t *w = NULL, *s = NULL;

	if (pg->ncells > 0)
		qsort(pg->cells, pg->ncells, sizeof(*pg->cells), cmp_cell);
	while (i < pg->ncells) {
		size_t job = pg->cells[i].job;
		int64_t total = pg->job_cents[job];

		for (n = 0; i + n < pg->ncells && pg->cells[i + n].job == job;)
			n++;
		w = gpu_xreallocarray(w, n, sizeof(*w));
		s = gpu_xreallocarray(s, n, sizeof(*s));
		for (k = 0; k < n; k++)
			w[k] = pg->cells[i + k].weight;
		if (gpu_money_share(total, w, n, s) != total) {
			memset(s, 0, n * sizeof(*s));
			s[0] = total;
		}
		for (k = 0; k < n; k++)
			pg->cells[i + k].cents = s[k];
		i += n;
	}
	free(w);
	free(s);
}

/* Job x day x node cells, with the job's cents shared among them. */
static void
make_cells(struct page *pg)
{
	const struct gpu_agg *a = pg->by_cell;
	size_t i, n, cap = 0;
	int64_t mem_rate = pg->rates->v[GPU_RATE_MEM];

	n = gpu_agg_count(a);
	for (i = 0; i < n; i++) {
		const struct gpu_group *g = gpu_agg_group(a, i);
		struct cell *c =
		    pg->ncells > 0 ? &pg->cells[pg->ncells - 1] : NULL;
		size_t job = names_find(&pg->jobs, g->job_id);
		size_t day = (size_t)((g->bucket_ms - pg->day0) / DAY_MS);
		size_t node = names_find(&pg->nodes, g->node);
		int64_t rate =
		    gpu_rates_gpu_rate(pg->rates, g->model, strlen(g->model));

		if (g->job_id[0] == '\0' || job == SIZE_MAX || node == SIZE_MAX)
			continue;
		/* Groups of one job, day and node differ only by model. */
		if (c == NULL || c->job != job || c->day != day ||
		    c->node != node) {
			if (pg->ncells == cap) {
				cap = cap == 0 ? 256 : cap * 2;
				pg->cells = gpu_xreallocarray(
				    pg->cells, cap, sizeof(*pg->cells));
			}
			c = &pg->cells[pg->ncells++];
			memset(c, 0, sizeof(*c));
			c->job = job;
			c->day = day;
			c->node = node;
		}
		c->alloc_s += wsec(g->sums.alloc_w);
		c->alloc_busy +=
		    round_busy(g->sums.alloc_busy_w / GPU_SHARE_WHOLE);
		c->overage += g->sums.overage;
		c->idle_s += wsec(g->sums.idle_w);
		/* Charge before rounding, in units of 1/(1024 * 3600 * 1e6). */
		c->weight += (int64_t)(((gpu_i128)g->sums.alloc_w * rate *
					    1024 / GPU_SHARE_WHOLE +
					(gpu_i128)g->sums.overage * mem_rate) /
				       1024);
	}
	share_cells(pg);
}

/*
 * Rejected rows of the ingest runs whose samples fall in the period (or,
 * for a run that kept no sample, that ran in it).
 */
static int
load_rejects(sqlite3 *db, struct page *pg, struct gpu_err *err)
{
	sqlite3_stmt *st;
	int rc;

	st = gpu_db_prepare(db,
			    "SELECT COALESCE(SUM(rejected), 0) FROM ingest_log"
			    " WHERE (min_ts_ms IS NOT NULL AND min_ts_ms < ?2"
			    "  AND max_ts_ms >= ?1) OR (min_ts_ms IS NULL"
			    "  AND started_ms >= ?1 AND started_ms < ?2)",
			    err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, pg->range->from_ms);
	sqlite3_bind_int64(st, 2, pg->range->to_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		pg->rejects = sqlite3_column_int64(st, 0);
	else
		gpu_err_set(err, "cannot read the ingest log: %s",
			    sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* ---- printing ---- */

/* A JSON string, safe inside an HTML script element. */
static void
json_str(struct gpu_buf *b, const char *s)
{
	gpu_escape_json(b, s, strlen(s), GPU_ESCAPE_HTML);
}

static void
json_key(struct gpu_buf *b, const char *key)
{
	json_str(b, key);
	gpu_buf_addc(b, ':');
}

static void
json_time(struct gpu_buf *b, const char *key, int64_t ms)
{
	char t[32];

	gpu_time_fmt_iso(ms, t);
	json_key(b, key);
	json_str(b, t);
	gpu_buf_addc(b, ',');
}

static void
json_i64(struct gpu_buf *b, const char *key, int64_t v)
{
	json_key(b, key);
	gpu_num_fmt_i64(b, v);
	gpu_buf_addc(b, ',');
}

static void
json_names(struct gpu_buf *b, const char *key, const struct names *s)
{
	size_t i;

	json_key(b, key);
	gpu_buf_addc(b, '[');
	for (i = 0; i < s->n; i++) {
		if (i > 0)
			gpu_buf_addc(b, ',');
		json_str(b, s->v[i]);
	}
	gpu_buf_adds(b, "],");
}

/* Rows of width numbers per node: [[...],[...]]. */
static void
json_matrix(struct gpu_buf *b, const char *key, const int64_t *m, size_t rows,
	    size_t width)
{
	size_t r, i;

	json_key(b, key);
	gpu_buf_addc(b, '[');
	for (r = 0; r < rows; r++) {
		gpu_buf_adds(b, r > 0 ? ",[" : "[");
		for (i = 0; i < width; i++) {
			if (i > 0)
				gpu_buf_addc(b, ',');
			gpu_num_fmt_i64(b, m[r * width + i]);
		}
		gpu_buf_addc(b, ']');
	}
	gpu_buf_adds(b, "],");
}

/* n numbers, comma-separated (printf's work without its parsing). */
static void
put_nums(struct gpu_buf *b, const int64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			gpu_buf_addc(b, ',');
		gpu_num_fmt_i64(b, v[i]);
	}
}

/* "x,y". */
static void
put_pair(struct gpu_buf *b, int64_t x, int64_t y)
{
	const int64_t v[2] = {x, y};

	put_nums(b, v, 2);
}

/*
 * Column col of rows of width numbers per node: a row's values as
 * run-length pairs [count,value,...], since a node's GPU time is the same
 * hour after hour.
 */
static void
json_runs(struct gpu_buf *b, const char *key, const int64_t *m, size_t rows,
	  size_t n, size_t width, size_t col)
{
	size_t r, i, k;

	json_key(b, key);
	gpu_buf_addc(b, '[');
	for (r = 0; r < rows; r++) {
		const int64_t *row = m + r * n * width;

		gpu_buf_adds(b, r > 0 ? ",[" : "[");
		for (i = 0; i < n; i = k) {
			for (k = i + 1; k < n && row[k * width + col] ==
						     row[i * width + col];)
				k++;
			if (i > 0)
				gpu_buf_addc(b, ',');
			put_pair(b, (int64_t)(k - i), row[i * width + col]);
		}
		gpu_buf_addc(b, ']');
	}
	gpu_buf_adds(b, "],");
}

/* Columns from..width-1 of rows of width numbers per node, flattened. */
static void
json_cols(struct gpu_buf *b, const char *key, const int64_t *m, size_t rows,
	  size_t n, size_t width, size_t from)
{
	size_t r, i, c;

	json_key(b, key);
	gpu_buf_addc(b, '[');
	for (r = 0; r < rows; r++) {
		const int64_t *row = m + r * n * width;

		gpu_buf_adds(b, r > 0 ? ",[" : "[");
		for (i = 0; i < n; i++)
			for (c = from; c < width; c++) {
				if (i > 0 || c > from)
					gpu_buf_addc(b, ',');
				gpu_num_fmt_i64(b, row[i * width + c]);
			}
		gpu_buf_addc(b, ']');
	}
	gpu_buf_adds(b, "],");
}

static void
json_rates(struct gpu_buf *b, const struct gpu_rates *r)
{
	int k;

	json_key(b, "rates");
	gpu_buf_addc(b, '{');
	for (k = 0; k < GPU_RATE_NKEYS; k++) {
		if (k > 0)
			gpu_buf_addc(b, ',');
		json_key(b, gpu_rate_key_name((enum gpu_rate_key)k));
		gpu_buf_addc(b, '"');
		gpu_num_fmt_micro(b, r->v[k]);
		gpu_buf_addc(b, '"');
	}
	gpu_buf_adds(b, "},");
}

static int
cmp_owner_hour(const void *pa, const void *pb)
{
	const struct owner_hour *a = pa, *b = pb;

	if (a->owner != b->owner)
		return a->owner < b->owner ? -1 : 1;
	if (a->hour != b->hour)
		return a->hour < b->hour ? -1 : 1;
	return 0;
}

/*
 * An owner's hours with allocated time, one row per name of s (user when
 * user is true, else project): [hour, allocated GPU-seconds, busy
 * GPU-seconds, ...], summed over the groups of the other owner.
 */
static void
json_owner_hours(struct gpu_buf *b, const char *key, const struct page *pg,
		 const struct gpu_agg *a, const struct names *s, bool user)
{
	size_t i, k = 0, n = gpu_agg_count(a), r;
	struct owner_hour *v = gpu_xcalloc(n + 1, sizeof(*v));

	for (i = 0; i < n; i++) {
		const struct gpu_group *g = gpu_agg_group(a, i);
		size_t o = names_find(s, user ? g->user : g->project);

		if (g->sums.alloc_seconds == 0 || o == SIZE_MAX)
			continue;
		v[k].owner = o;
		v[k].hour = (size_t)((g->bucket_ms - pg->hour0) / GPU_HOUR_MS);
		v[k].alloc_s = wsec(g->sums.alloc_w);
		v[k].busy = g->sums.alloc_busy_w / GPU_SHARE_WHOLE;
		k++;
	}
	if (k > 0)
		qsort(v, k, sizeof(*v), cmp_owner_hour);
	json_key(b, key);
	gpu_buf_addc(b, '[');
	for (r = 0, i = 0; r < s->n; r++) {
		bool first = true;

		gpu_buf_adds(b, r > 0 ? ",[" : "[");
		while (i < k && v[i].owner == r) {
			size_t h = v[i].hour;
			int64_t alloc_s = 0;
			double busy = 0;

			for (; i < k && v[i].owner == r && v[i].hour == h;
			     i++) {
				alloc_s += v[i].alloc_s;
				busy += v[i].busy;
			}
			if (!first)
				gpu_buf_addc(b, ',');
			put_pair(b, (int64_t)h, alloc_s);
			gpu_buf_addc(b, ',');
			/* Percent-seconds: a user's hour reads to 0.1%. */
			gpu_num_fmt_i64(b, round_busy(busy));
			first = false;
		}
		gpu_buf_addc(b, ']');
	}
	gpu_buf_adds(b, "],");
	free(v);
}

static void
print_page(const struct page *pg, struct gpu_buf *b)
{
	size_t i;

	gpu_buf_addc(b, '{');
	json_i64(b, "format", 2);
	json_key(b, "tool");
	json_str(b, "gpureport " GPU_VERSION);
	gpu_buf_addc(b, ',');
	json_time(b, "from", pg->range->from_ms);
	json_time(b, "to", pg->range->to_ms);
	json_key(b, "currency");
	json_str(b, pg->rates->currency);
	gpu_buf_addc(b, ',');
	json_rates(b, pg->rates);
	json_i64(b, "hour0", pg->hour0);
	json_i64(b, "nhours", (int64_t)pg->nhours);
	json_i64(b, "day0", pg->day0);
	json_i64(b, "ndays", (int64_t)pg->ndays);
	json_i64(b, "rejects", pg->rejects);
	json_names(b, "nodes", &pg->nodes);
	json_names(b, "users", &pg->users);
	json_names(b, "projects", &pg->projects);
	json_runs(b, "ng", pg->nh, pg->nodes.n, pg->nhours, 3, 0);
	json_cols(b, "nh", pg->nh, pg->nodes.n, pg->nhours, 3, 1);
	json_matrix(b, "nd", pg->nd, pg->nodes.n, pg->ndays * 5);
	json_owner_hours(b, "uh", pg, pg->by_owner, &pg->users, true);
	json_owner_hours(b, "ph", pg, pg->by_owner, &pg->projects, false);
	json_key(b, "jobs");
	gpu_buf_addc(b, '[');
	for (i = 0; i < pg->jobs.n; i++) {
		gpu_buf_adds(b, i > 0 ? ",[" : "[");
		json_str(b, pg->jobs.v[i]);
		gpu_buf_addc(b, ',');
		put_pair(b, (int64_t)pg->job_user[i], (int64_t)pg->job_proj[i]);
		gpu_buf_addc(b, ']');
	}
	gpu_buf_adds(b, "],");
	/* The cells are in job order: each job index as the step from the
	 * one before, mostly 0, which keeps the largest array short. */
	json_key(b, "jc");
	gpu_buf_addc(b, '[');
	for (i = 0; i < pg->ncells; i++) {
		const struct cell *c = &pg->cells[i];
		const int64_t v[] = {
		    (int64_t)(c->job - (i > 0 ? pg->cells[i - 1].job : 0)),
		    (int64_t)c->day,
		    (int64_t)c->node,
		    c->alloc_s,
		    c->alloc_busy,
		    c->overage,
		    c->cents,
		    c->idle_s};

		if (i > 0)
			gpu_buf_addc(b, ',');
		put_nums(b, v, sizeof(v) / sizeof(v[0]));
	}
	gpu_buf_adds(b, "]}");
}

static void
page_release(struct page *pg)
{
	names_release(&pg->nodes);
	names_release(&pg->users);
	names_release(&pg->projects);
	names_release(&pg->jobs);
	free(pg->nh);
	free(pg->nd);
	free(pg->nd_w);
	free(pg->job_user);
	free(pg->job_proj);
	free(pg->job_cents);
	free(pg->cells);
	gpu_agg_free(pg->by_owner);
	gpu_agg_free(pg->by_cell);
	gpu_agg_free(pg->by_day);
	gpu_bill_report_release(&pg->rep);
	gpu_bill_free(pg->bill);
}

int
report_build_data(sqlite3 *db, const struct report_range *range,
		  const struct gpu_rates *rates, struct gpu_buf *json,
		  struct gpu_err *err)
{
	struct page pg;
	struct series_task task;
	pthread_t thread;
	const char *path = sqlite3_db_filename(db, "main");
	bool threaded = false, ok;
	int64_t t;
	int ret = -1;

	memset(&pg, 0, sizeof(pg));
	pg.range = range;
	pg.rates = rates;
	pg.days_with_bill = days_with_bill(rates);
	pg.hour0 = gpu_period_start(GPU_PERIOD_HOUR, range->from_ms);
	pg.nhours =
	    (size_t)((range->to_ms - pg.hour0 + GPU_HOUR_MS - 1) / GPU_HOUR_MS);
	pg.day0 = gpu_period_start(GPU_PERIOD_DAY, range->from_ms);
	for (t = pg.day0; t < range->to_ms;
	     t = gpu_period_next(GPU_PERIOD_DAY, t))
		pg.ndays++;
	/* The series in a thread when the warehouse is a file. */
	memset(&task, 0, sizeof(task));
	task.pg = &pg;
	task.db = db;
	if (path != NULL && path[0] != '\0') {
		task.path = path;
		threaded =
		    pthread_create(&thread, NULL, series_task_run, &task) == 0;
	}
	if (!threaded) {
		task.path = NULL;
		series_task_run(&task);
	}
	ok = load_bill(db, &pg, err) == 0 && load_rejects(db, &pg, err) == 0;
	if (threaded)
		pthread_join(thread, NULL);
	if (ok && !task.opened) {
		task.path = NULL;
		series_task_run(&task);
	}
	if (!ok)
		goto out;
	if (task.rc != 0) {
		*err = task.err;
		goto out;
	}
	sum_days(&pg);
	add_owners(&pg);
	index_jobs(&pg);
	make_cells(&pg);
	print_page(&pg, json);
	ret = 0;
out:
	page_release(&pg);
	return ret;
}

/* ---- the page ---- */

static void
put_lines(FILE *fp, const char *const *lines)
{
	for (; *lines != NULL; lines++)
		fputs(*lines, fp);
}

/*
 * The script without its indentation, blank lines and comment lines: the
 * page carries the code, not its explanation (src/report/report.js keeps
 * that), in a quarter fewer bytes. Safe, as the script has no template literals
 * (no string spans lines).
 */
static void
put_script(FILE *fp, const char *const *lines)
{
	for (; *lines != NULL; lines++) {
		const char *l = *lines + strspn(*lines, " \t");

		if (strncmp(l, "//", 2) != 0 && l[0] != '\n')
			fputs(l, fp);
	}
}

int
report_write_page(FILE *fp, const struct gpu_buf *json, int refresh_s)
{
	const char *const *l;

	for (l = report_asset_html; *l != NULL; l++) {
		if (strcmp(*l, "@REFRESH@\n") == 0) {
			if (refresh_s > 0)
				fprintf(fp,
					"<meta name=\"gpu-refresh\" "
					"content=\"%d\">\n<noscript><meta "
					"http-equiv=\"refresh\" "
					"content=\"%d\"></noscript>\n",
					refresh_s, refresh_s);
		} else if (strcmp(*l, "@CSS@\n") == 0)
			put_lines(fp, report_asset_css);
		else if (strcmp(*l, "@JS@\n") == 0)
			put_script(fp, report_asset_js);
		else if (strcmp(*l, "@DATA@\n") == 0) {
			fwrite(json->data, 1, json->len, fp);
			fputc('\n', fp);
		} else
			fputs(*l, fp);
	}
	return ferror(fp) ? -1 : 0;
}
