/* SPDX-License-Identifier: MIT */
/* gpuagg's output: an aggregate's groups, ordered, as CSV, JSON or a table. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/num.h"
#include "gpu/time.h"
#include "gpuagg.h"

/* Key columns by bit of key_mask(); they print in key_order. */
static const char *const key_cols[] = {"node", "gpu",	  "job_id",
				       "user", "project", "model",
				       "mig",  "profile", "usage_category"};
static const int key_order[] = {0, 1, 6, 2, 3, 4, 5, 7, 8};
#define NKEYS ((int)(sizeof(key_order) / sizeof(key_order[0])))

/* The usage_category key of g ("" when not grouped by it). */
static const char *
category_name(const struct gpu_group *g)
{
	return g->category >= 0
		   ? gpu_usage_cat_name((enum gpu_usage_cat)g->category)
		   : "";
}

static unsigned key_mask(unsigned d);

/* Filtering. */

int
agg_where_parse(const char *s, struct agg_where *w, struct gpu_err *err)
{
	static const char *const ops[] = {"!=", "<=", ">=", "=", "<", ">"};
	size_t n = strcspn(s, "!=<>"), i;
	char name[64];
	const char *v;

	memset(w, 0, sizeof(*w));
	w->arg = s;
	if (n == 0 || n >= sizeof(name) || s[n] == '\0')
		return gpu_err_set(err, "want COLUMN=TEXT, COLUMN!=TEXT or "
					"METRIC<N (also <=, >, >=)");
	memcpy(name, s, n);
	name[n] = '\0';
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strncmp(s + n, ops[i], strlen(ops[i])) == 0)
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		return gpu_err_set(err, "unknown operator in '%s'", s);
	snprintf(w->op, sizeof(w->op), "%s", ops[i]);
	v = s + n + strlen(ops[i]);
	/* Short names people type. */
	if (strcmp(name, "job") == 0)
		snprintf(name, sizeof(name), "job_id");
	else if (strcmp(name, "util") == 0)
		snprintf(name, sizeof(name), "avg_util_pct");
	w->key = -1;
	for (i = 0; i < (size_t)NKEYS; i++)
		if (i != 1 && i != 6 && strcmp(name, key_cols[i]) == 0)
			w->key = (int)i;
	if (w->key >= 0) {
		if (strcmp(w->op, "=") != 0 && strcmp(w->op, "!=") != 0)
			return gpu_err_set(err, "'%s' takes = or != only",
					   name);
		w->text = v;
		return 0;
	}
	if (gpu_metric_parse(name, &w->metric, err) != 0)
		return -1;
	if (strcmp(w->op, "=") == 0 || strcmp(w->op, "!=") == 0)
		return gpu_err_set(err,
				   "metric '%s' takes <, <=, > or >=", name);
	if (gpu_num_parse_double(v, strlen(v), &w->num) != 0)
		return gpu_err_set(err, "invalid number '%s' in '%s'", v, s);
	return 0;
}

bool
agg_has_key(const struct gpu_agg_query *q, int k)
{
	return (key_mask(q->dims) & (1u << k)) != 0;
}

static const char *
group_key(const struct gpu_group *g, int k)
{
	const char *const keys[] = {g->node, g->node,	 g->job_id,
				    g->user, g->project, g->model,
				    g->node, g->profile, category_name(g)};

	return keys[k] != NULL ? keys[k] : "";
}

static bool
where_match(const struct gpu_group *g, const struct agg_where *w)
{
	struct gpu_value v;
	double x;

	if (w->key >= 0)
		return (strcmp(group_key(g, w->key), w->text) == 0) ==
		       (w->op[0] == '=');
	gpu_metric_value(&g->sums, w->metric, &v);
	if (v.kind == GPU_VAL_NULL)
		return false;
	x = v.kind == GPU_VAL_INT ? (double)v.i : v.d;
	if (w->op[0] == '<')
		return w->op[1] == '=' ? x <= w->num : x < w->num;
	return w->op[1] == '=' ? x >= w->num : x > w->num;
}

static bool
where_all(const struct gpu_group *g, const struct agg_where *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!where_match(g, &w[i]))
			return false;
	return true;
}

/* Ordering by a metric. */

struct ranked {
	const struct gpu_group *g;
	struct gpu_value v;
	size_t pos;
};

static int
cmp_value_desc(const struct gpu_value *x, const struct gpu_value *y)
{
	if (x->kind == GPU_VAL_NULL || y->kind == GPU_VAL_NULL)
		return (x->kind == GPU_VAL_NULL) - (y->kind == GPU_VAL_NULL);
	if (x->kind == GPU_VAL_INT && y->kind == GPU_VAL_INT)
		return x->i > y->i ? -1 : x->i < y->i;
	return x->d > y->d ? -1 : x->d < y->d;
}

static int
cmp_ranked(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;
	int c;

	if (a->g->bucket_ms != b->g->bucket_ms)
		return a->g->bucket_ms < b->g->bucket_ms ? -1 : 1;
	if ((c = cmp_value_desc(&a->v, &b->v)) != 0)
		return c;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

size_t
agg_order(const struct gpu_agg *a, bool sort, enum gpu_metric by, size_t top,
	  const struct agg_where *where, size_t nwhere,
	  const struct gpu_group **out)
{
	size_t count = gpu_agg_count(a), n = 0, run = 0, kept = 0;
	struct ranked *r;

	if (!sort) {
		for (size_t i = 0; i < count; i++)
			if (where_all(gpu_agg_group(a, i), where, nwhere))
				out[n++] = gpu_agg_group(a, i);
		return n;
	}
	r = gpu_xcalloc(count + 1, sizeof(*r));
	for (size_t i = 0; i < count; i++) {
		const struct gpu_group *g = gpu_agg_group(a, i);

		if (!where_all(g, where, nwhere))
			continue;
		r[kept].g = g;
		r[kept].pos = i;
		gpu_metric_value(&g->sums, by, &r[kept].v);
		kept++;
	}
	count = kept;
	qsort(r, count, sizeof(*r), cmp_ranked);
	for (size_t i = 0; i < count; i++) {
		if (i > 0 && r[i].g->bucket_ms != r[i - 1].g->bucket_ms)
			run = 0;
		if (top == 0 || run < top)
			out[n++] = r[i].g;
		run++;
	}
	free(r);
	return n;
}

/* Output. */

/*
 * Which key columns print, by bit: node, gpu, job_id, user, project,
 * model, mig, profile, usage_category.
 */
static unsigned
key_mask(unsigned d)
{
	unsigned k = 0;

	if (d & (GPU_DIM_NODE | GPU_DIM_GPU))
		k |= 1u;
	if (d & GPU_DIM_GPU)
		k |= 2u | 64u;
	if (d & GPU_DIM_JOB)
		k |= 4u | 8u | 16u;
	if (d & GPU_DIM_USER)
		k |= 8u;
	if (d & GPU_DIM_PROJECT)
		k |= 16u;
	if (d & GPU_DIM_MODEL)
		k |= 32u;
	if (d & GPU_DIM_PROFILE)
		k |= 128u;
	if (d & GPU_DIM_CATEGORY)
		k |= 256u;
	return k;
}

size_t
agg_columns(const struct gpu_agg_query *q, unsigned metrics,
	    const char *cols[AGG_MAX_COLS])
{
	unsigned k = key_mask(q->dims);
	size_t n = 0;

	if (q->period != GPU_PERIOD_ALL)
		cols[n++] = gpu_period_name(q->period);
	for (int i = 0; i < NKEYS; i++)
		if (k & (1u << key_order[i]))
			cols[n++] = key_cols[key_order[i]];
	for (int i = 0; i < GPU_M_COUNT; i++)
		if (metrics & (1u << i))
			cols[n++] = gpu_metric_name((enum gpu_metric)i);
	return n;
}

/*
 * A key string; plain: known to pass gpu_writer_plain_ok(). PLAIN(g, k):
 * whether g's key string k (enum gpu_key_text) is.
 */
#define PLAIN(g, k) (((g)->plain >> (k)) & 1u)

static void
write_text(struct gpu_writer *w, const char *s, bool plain)
{
	if (*s == '\0')
		gpu_writer_null(w);
	else if (plain)
		gpu_writer_plain(w, s, strlen(s));
	else
		gpu_writer_str(w, s, strlen(s));
}

/* An owner or job key; a table names the empty one, CSV and JSON do not. */
static void
write_owner(struct gpu_writer *w, const char *s, bool plain, bool table)
{
	if (*s == '\0' && table)
		write_text(w, "(unallocated)", false);
	else
		write_text(w, s, plain);
}

/*
 * A float in a table, rounded for people: hours, percentages and watts to
 * 1 decimal, MiB to whole numbers, kWh to 2 decimals.
 */
static void
write_table_double(struct gpu_writer *w, enum gpu_metric m, double d)
{
	const char *name = gpu_metric_name(m);
	size_t len = strlen(name);
	int dec = 1, n;
	char num[64];

	if (len > 4 && strcmp(name + len - 4, "_mib") == 0)
		dec = 0;
	else if (m == GPU_M_ENERGY_KWH)
		dec = 2;
	n = snprintf(num, sizeof(num), "%.*f", dec, d);

	if (n < 0 || (size_t)n >= sizeof(num))
		gpu_writer_double(w, d);
	else
		gpu_writer_num_text(w, num);
}

/* The bucket label of the previous row, reused while the bucket repeats. */
struct label {
	int64_t bucket_ms;
	char text[32];
	size_t len;
	bool plain; /* gpu_writer_plain_ok() */
};

/* A group's row; k: the key columns that print (key_mask()). */
static void
write_group(struct gpu_writer *w, const struct gpu_agg_query *q,
	    const struct gpu_group *g, unsigned metrics, bool table,
	    struct label *lb, unsigned k)
{
	if (q->period != GPU_PERIOD_ALL) {
		if (g->bucket_ms != lb->bucket_ms || lb->len == 0) {
			gpu_period_label(q->period, g->bucket_ms, lb->text);
			lb->bucket_ms = g->bucket_ms;
			lb->len = strlen(lb->text);
			lb->plain = gpu_writer_plain_ok(lb->text, lb->len);
		}
		if (lb->plain)
			gpu_writer_plain(w, lb->text, lb->len);
		else
			gpu_writer_str(w, lb->text, lb->len);
	}
	if (k & 1u)
		write_text(w, g->node, PLAIN(g, GPU_KT_NODE));
	if (k & 2u)
		gpu_writer_i64(w, g->gpu);
	if ((k & 64u) && g->mig >= 0)
		gpu_writer_i64(w, g->mig);
	else if (k & 64u)
		gpu_writer_null(w);
	if (k & 4u)
		write_owner(w, g->job_id, PLAIN(g, GPU_KT_JOB), table);
	if (k & 8u)
		write_owner(w, g->user, PLAIN(g, GPU_KT_USER), table);
	if (k & 16u)
		write_owner(w, g->project, PLAIN(g, GPU_KT_PROJECT), table);
	if (k & 32u)
		write_text(w, g->model, PLAIN(g, GPU_KT_MODEL));
	if (k & 128u)
		write_text(w, g->profile, PLAIN(g, GPU_KT_PROFILE));
	if (k & 256u)
		write_text(w, category_name(g), false);
	if (table) {
		for (int i = 0; i < GPU_M_COUNT; i++) {
			struct gpu_value v;

			if ((metrics & (1u << i)) == 0)
				continue;
			gpu_metric_value(&g->sums, (enum gpu_metric)i, &v);
			if (v.kind == GPU_VAL_NULL)
				gpu_writer_null(w);
			else if (v.kind == GPU_VAL_INT)
				gpu_writer_i64(w, v.i);
			else
				write_table_double(w, (enum gpu_metric)i, v.d);
		}
	} else {
		struct gpu_value v[GPU_M_COUNT];

		gpu_writer_values(w, v, gpu_metric_values(&g->sums, metrics, v));
	}
	gpu_writer_end_row(w);
}

/*
 * Buckets handed to the writer thread: their aggregates, taken from the
 * query (agg_out_take()), and pointers to their groups in output order.
 * The writer frees the aggregates once it has written them. A batch the
 * reading thread formatted itself (see steal()) holds its rows as text.
 */
struct batch {
	const struct gpu_group **ptr;
	size_t n, cap;
	struct gpu_agg **aggs;
	size_t naggs, aggs_cap;
	struct gpu_writer *rows; /* steal()'s rows, made on first use */
	enum { B_GROUPS, B_FORMATTING, B_TEXT } state;
};

/*
 * Batches handed over and not yet written. Four, so that when the query
 * is ahead and all are queued, the writer still has two whole batches
 * before the last one, which the query formats meanwhile (steal()).
 */
#define NBATCH 4

/*
 * Buckets are gathered into a batch until it holds this many groups:
 * waking the writer for each hour's bucket took 12% of the reading
 * thread's time (hour x node, 260 hours). Up to five batches are held
 * (four handed over, one being filled), each bucket's aggregate whole.
 */
#define BATCH_GROUPS 1024

struct agg_out {
	struct gpu_writer *w;
	struct gpu_agg_query q;
	unsigned metrics;
	unsigned keys; /* key_mask(q.dims) */
	bool table;
	struct label lb;
	/* agg_out_thread(): the groups are written on a thread of their own. */
	bool threaded;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch b[NBATCH];
	size_t filled, taken; /* batches handed over, batches written */
	size_t started;	      /* batches the writer has begun */
	bool done;	      /* no batch comes after those handed over */
	bool open;	      /* b[filled % NBATCH] is being filled */
	bool can_steal;	      /* the rows are CSV or JSON Lines */
	bool steal_all;	      /* GPUUSAGE_STEAL=all: every batch (tests) */
	struct label steal_lb;
};

struct agg_out *
agg_out_new(const struct gpu_agg_query *q, FILE *fp, enum gpu_ofmt fmt,
	    unsigned metrics, size_t max_width, bool csv_safe)
{
	const char *cols[AGG_MAX_COLS];
	size_t nkeys = agg_columns(q, 0, cols);
	size_t ncols = agg_columns(q, metrics, cols);
	struct agg_out *o = gpu_xcalloc(1, sizeof(*o));
	const char *steal;

	o->w = gpu_writer_new(fp, fmt, cols, ncols);
	o->q = *q;
	o->metrics = metrics;
	o->keys = key_mask(q->dims);
	o->table = fmt == GPU_OUT_TABLE;
	o->can_steal = fmt == GPU_OUT_CSV || fmt == GPU_OUT_JSONL;
	/* Tests: 0 turns steal() off, all formats each batch at hand-over. */
	if ((steal = getenv("GPUUSAGE_STEAL")) != NULL) {
		o->can_steal = o->can_steal && strcmp(steal, "0") != 0;
		o->steal_all = o->can_steal && strcmp(steal, "all") == 0;
	}
	/* The keys and the first metric stay, however narrow the terminal. */
	gpu_writer_set_max_width(o->w, max_width, nkeys + 1);
	gpu_writer_csv_safe(o->w, csv_safe);
	return o;
}

static void
write_groups(struct agg_out *o, struct gpu_writer *w, struct label *lb,
	     const struct gpu_group *const *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		write_group(w, &o->q, g[i], o->metrics, o->table, lb, o->keys);
}

static void
free_aggs(struct batch *b)
{
	for (size_t i = 0; i < b->naggs; i++)
		gpu_agg_free(b->aggs[i]);
	b->naggs = 0;
}

static void *
writer(void *arg)
{
	struct agg_out *o = arg;

	pthread_mutex_lock(&o->mu);
	for (;;) {
		struct batch *b;

		while (o->filled == o->taken && !o->done)
			pthread_cond_wait(&o->cv, &o->mu);
		if (o->filled == o->taken)
			break;
		b = &o->b[o->taken % NBATCH];
		o->started = o->taken + 1;
		while (b->state == B_FORMATTING)
			pthread_cond_wait(&o->cv, &o->mu);
		pthread_mutex_unlock(&o->mu);
		if (b->state == B_TEXT) {
			gpu_writer_append(o->w, b->rows);
		} else {
			write_groups(o, o->w, &o->lb, b->ptr, b->n);
			free_aggs(b);
		}
		pthread_mutex_lock(&o->mu);
		b->state = B_GROUPS;
		o->taken++;
		pthread_cond_broadcast(&o->cv);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

void
agg_out_thread(struct agg_out *o)
{
	if (pthread_mutex_init(&o->mu, NULL) != 0)
		return;
	if (pthread_cond_init(&o->cv, NULL) != 0) {
		pthread_mutex_destroy(&o->mu);
		return;
	}
	if (pthread_create(&o->th, NULL, writer, o) != 0) {
		pthread_cond_destroy(&o->cv);
		pthread_mutex_destroy(&o->mu);
		return;
	}
	o->threaded = true;
}

/* Format batch b's groups into its rows, on the query's thread. */
static void
format_here(struct agg_out *o, struct batch *b)
{
	if (b->rows == NULL)
		b->rows = gpu_writer_rows_like(o->w);
	write_groups(o, b->rows, &o->steal_lb, b->ptr, b->n);
	free_aggs(b);
}

/*
 * Called with o->mu held while every batch is handed over and the query
 * would wait for the writer: format the last batch here instead, when the
 * writer has not begun it and has ahead whole batches before it (2, so
 * that the writer does not wait for it; 0 at the end, when the query has
 * nothing else to do). Returns whether it formatted one (o->mu held
 * again).
 */
static bool
steal(struct agg_out *o, size_t ahead)
{
	size_t j;
	struct batch *b;

	if (!o->can_steal || o->filled < o->started + ahead + 1)
		return false;
	/* At the end (ahead 0), the newest batch not yet formatted. */
	j = o->filled - 1;
	while (ahead == 0 && j > o->started &&
	       o->b[j % NBATCH].state != B_GROUPS)
		j--;
	b = &o->b[j % NBATCH];
	if (b->state != B_GROUPS)
		return false;
	b->state = B_FORMATTING;
	pthread_mutex_unlock(&o->mu);
	format_here(o, b);
	pthread_mutex_lock(&o->mu);
	b->state = B_TEXT;
	pthread_cond_broadcast(&o->cv);
	return true;
}

/* Give the batch being filled to the writer. */
static void
hand_over(struct agg_out *o)
{
	struct batch *b = &o->b[o->filled % NBATCH];

	if (o->steal_all) {
		format_here(o, b);
		b->state = B_TEXT; /* the writer sees it after the lock */
	}
	pthread_mutex_lock(&o->mu);
	o->filled++;
	o->open = false;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

/* The batch to fill, once the writer has a free one. */
static struct batch *
open_batch(struct agg_out *o)
{
	struct batch *b = &o->b[o->filled % NBATCH];

	if (!o->open) {
		pthread_mutex_lock(&o->mu);
		while (o->filled - o->taken == NBATCH)
			if (!steal(o, 2))
				pthread_cond_wait(&o->cv, &o->mu);
		pthread_mutex_unlock(&o->mu);
		b->n = 0;
		b->naggs = 0;
		o->open = true;
	}
	return b;
}

static void join(struct agg_out *o);

void
agg_out_groups(struct agg_out *o, const struct gpu_group *const *g, size_t n)
{
	/* Borrowed groups are written here, after all handed over. */
	join(o);
	write_groups(o, o->w, &o->lb, g, n);
}

void
agg_out_take(struct agg_out *o, struct gpu_agg *a,
	     const struct gpu_group *const *g, size_t n)
{
	struct batch *b;

	if (!o->threaded) {
		write_groups(o, o->w, &o->lb, g, n);
		gpu_agg_free(a);
		return;
	}
	b = open_batch(o);
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->ptr = gpu_xreallocarray(b->ptr, b->cap, sizeof(*b->ptr));
	}
	memcpy(b->ptr + b->n, g, n * sizeof(*g));
	b->n += n;
	if (b->naggs == b->aggs_cap) {
		b->aggs_cap = b->aggs_cap == 0 ? 64 : b->aggs_cap * 2;
		b->aggs = gpu_xreallocarray(b->aggs, b->aggs_cap,
					    sizeof(*b->aggs));
	}
	b->aggs[b->naggs++] = a;
	/* The first batches smaller: the writer begins sooner. */
	if (b->n >= (o->filled < 3 ? (size_t)BATCH_GROUPS >> (3 - o->filled)
				    : (size_t)BATCH_GROUPS))
		hand_over(o);
}

/* Let the writer thread write what it was given, and end it. */
static void
join(struct agg_out *o)
{
	if (!o->threaded)
		return;
	if (o->open)
		hand_over(o);
	pthread_mutex_lock(&o->mu);
	o->done = true;
	pthread_cond_broadcast(&o->cv);
	/* Share the batches left with the writer, from the last. */
	while (steal(o, 0))
		;
	pthread_mutex_unlock(&o->mu);
	pthread_join(o->th, NULL);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
	o->threaded = false;
	for (int i = 0; i < NBATCH; i++) {
		free(o->b[i].ptr);
		free(o->b[i].aggs);
		gpu_writer_free(o->b[i].rows);
	}
}

void
agg_out_free(struct agg_out *o)
{
	if (o == NULL)
		return;
	join(o);
	gpu_writer_free(o->w);
	free(o);
}

int
agg_out_finish(struct agg_out *o)
{
	int rc;

	join(o);
	rc = gpu_writer_finish(o->w);
	agg_out_free(o);
	return rc;
}

int
agg_write(const struct gpu_group *const *g, size_t n,
	  const struct gpu_agg_query *q, FILE *fp, enum gpu_ofmt fmt,
	  unsigned metrics, size_t max_width, bool csv_safe)
{
	struct agg_out *o =
	    agg_out_new(q, fp, fmt, metrics, max_width, csv_safe);

	agg_out_groups(o, g, n);
	return agg_out_finish(o);
}

/* Lines of the help end before this column. */
#define HELP_WIDTH 72

void
agg_print_metrics(FILE *fp)
{
	size_t col = 0;

	col = (size_t)fprintf(fp, "Metrics:");
	for (int i = 0; i < GPU_M_COUNT; i++) {
		const char *name = gpu_metric_name((enum gpu_metric)i);
		size_t len = strlen(name) + 1;

		if (col + 1 + len > HELP_WIDTH) {
			fputc('\n', fp);
			col = 0;
		} else {
			fputc(' ', fp);
			col++;
		}
		fprintf(fp, "%s%c", name, i + 1 < GPU_M_COUNT ? ',' : '.');
		col += len;
	}
	fputc('\n', fp);
}
