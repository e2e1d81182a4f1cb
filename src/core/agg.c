/* SPDX-License-Identifier: MIT */
/* Aggregation: group tables, the hourly rollup and queries. */
#include "gpu/agg.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/db.h"
#include "gpu/num.h"

static const char *const dim_names[] = {"node", "gpu",	   "job",
					"user", "project", "model"};

int
gpu_dims_parse(const char *list, unsigned *dims, struct gpu_err *err)
{
	if (*list == '\0' || strcmp(list, "none") == 0) {
		*dims = 0;
		return 0;
	}
	return gpu_names_parse(list, "dimension", dim_names, 6, dims, err);
}

/* A hash set of byte keys, mapping each to its insertion index. */

struct kent {
	uint64_t hash;
	char *key;
	size_t len;
};

struct kset {
	struct kent *ents;
	size_t n, cap;
	uint32_t *slots; /* index + 1; 0: empty */
	size_t nslots;	 /* a power of two */
};

/* A word-at-a-time multiplicative hash (keys are short byte strings). */
static uint64_t
hash_bytes(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
	return h ^ (h >> 29);
}

static void
kset_release(struct kset *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->ents[i].key);
	free(k->ents);
	free(k->slots);
	memset(k, 0, sizeof(*k));
}

static void
kset_rehash(struct kset *k)
{
	size_t ns = k->nslots == 0 ? 64 : k->nslots * 2;

	free(k->slots);
	k->slots = gpu_xcalloc(ns, sizeof(*k->slots));
	k->nslots = ns;
	for (size_t i = 0; i < k->n; i++) {
		size_t j = k->ents[i].hash & (ns - 1);

		while (k->slots[j] != 0)
			j = (j + 1) & (ns - 1);
		k->slots[j] = (uint32_t)(i + 1);
	}
}

/* Index of key, inserting a copy when new (*created set). */
static size_t
kset_put(struct kset *k, const void *key, size_t len, bool *created)
{
	uint64_t h = hash_bytes(key, len);
	size_t j;

	*created = false;
	if ((k->n + 1) * 2 > k->nslots)
		kset_rehash(k);
	for (j = h & (k->nslots - 1); k->slots[j] != 0;
	     j = (j + 1) & (k->nslots - 1)) {
		const struct kent *e = &k->ents[k->slots[j] - 1];

		if (e->hash == h && e->len == len &&
		    memcmp(e->key, key, len) == 0)
			return k->slots[j] - 1;
	}
	if (k->n == k->cap) {
		k->cap = k->cap == 0 ? 64 : k->cap * 2;
		k->ents = gpu_xreallocarray(k->ents, k->cap, sizeof(*k->ents));
	}
	k->ents[k->n].hash = h;
	k->ents[k->n].key = gpu_xmalloc(len + 1);
	memcpy(k->ents[k->n].key, key, len);
	k->ents[k->n].key[len] = '\0';
	k->ents[k->n].len = len;
	k->slots[j] = (uint32_t)(k->n + 1);
	*created = true;
	return k->n++;
}

/* The aggregate. */

struct grp {
	struct gpu_group g;
	int64_t user_ms, project_ms; /* of the owner seen latest (JOB dims) */
	const char *own_user, *own_project;
};

struct gpu_agg {
	struct gpu_agg_query q;
	struct kset keys; /* group keys; entry i is group i */
	struct grp *grps; /* one per key */
	size_t ngrps, grps_cap;
	struct grp **order; /* output order after finish */
	size_t norder;
	struct kset names; /* interned owner names */
	struct gpu_buf kb; /* key under construction */
	size_t last;	   /* group of the previous sample, if has_last */
	bool has_last;
};

void
gpu_agg_query_init(struct gpu_agg_query *q)
{
	q->period = GPU_PERIOD_ALL;
	q->dims = 0;
	q->from_ms = INT64_MIN;
	q->to_ms = INT64_MAX;
	q->threshold_mib = GPU_DEFAULT_THRESHOLD_MIB;
}

struct gpu_agg *
gpu_agg_new(const struct gpu_agg_query *q)
{
	struct gpu_agg *a = gpu_xcalloc(1, sizeof(*a));

	a->q = *q;
	gpu_buf_init(&a->kb);
	return a;
}

void
gpu_agg_free(struct gpu_agg *a)
{
	if (a == NULL)
		return;
	kset_release(&a->keys);
	kset_release(&a->names);
	free(a->grps);
	free(a->order);
	gpu_buf_release(&a->kb);
	free(a);
}

static const char *
intern(struct gpu_agg *a, struct gpu_str s)
{
	bool created;
	size_t i = kset_put(&a->names, s.p, s.len, &created);

	return a->names.ents[i].key;
}

static void
key_str(struct gpu_buf *b, bool on, struct gpu_str s)
{
	uint32_t len = on ? (uint32_t)s.len : 0;

	gpu_buf_grow(b, sizeof(len) + len + 1);
	memcpy(b->data + b->len, &len, sizeof(len));
	b->len += sizeof(len);
	if (len > 0)
		memcpy(b->data + b->len, s.p, len);
	b->len += len;
	b->data[b->len++] = '\0';
	b->data[b->len] = '\0';
}

/* Point the group's key strings into its stored key. */
static void
key_split(struct gpu_group *g, const char *key)
{
	const char **f[5] = {&g->node, &g->job_id, &g->user, &g->project,
			     &g->model};
	const char *p = key + sizeof(int64_t) + sizeof(int32_t);
	int32_t gpu;

	memcpy(&g->bucket_ms, key, sizeof(int64_t));
	memcpy(&gpu, key + sizeof(int64_t), sizeof(gpu));
	g->gpu = gpu;
	for (int i = 0; i < 5; i++) {
		uint32_t len;

		memcpy(&len, p, sizeof(len));
		*f[i] = p + sizeof(len);
		p += sizeof(len) + len + 1;
	}
}

/* Find or create the group of these keys (dims not grouped are ignored). */
static struct grp *
agg_group(struct gpu_agg *a, int64_t bucket, struct gpu_str node, int gpu,
	  struct gpu_str job, struct gpu_str user, struct gpu_str project,
	  struct gpu_str model)
{
	unsigned d = a->q.dims;
	int32_t g32 = (d & GPU_DIM_GPU) ? gpu : -1;
	struct grp *g;
	size_t i;
	bool created;

	gpu_buf_reset(&a->kb);
	gpu_buf_grow(&a->kb, sizeof(bucket) + sizeof(g32));
	memcpy(a->kb.data, &bucket, sizeof(bucket));
	memcpy(a->kb.data + sizeof(bucket), &g32, sizeof(g32));
	a->kb.len = sizeof(bucket) + sizeof(g32);
	key_str(&a->kb, (d & (GPU_DIM_NODE | GPU_DIM_GPU)) != 0, node);
	key_str(&a->kb, (d & GPU_DIM_JOB) != 0, job);
	key_str(&a->kb, (d & GPU_DIM_USER) != 0, user);
	key_str(&a->kb, (d & GPU_DIM_PROJECT) != 0, project);
	key_str(&a->kb, (d & GPU_DIM_MODEL) != 0, model);
	/* Samples of one group often come in runs: skip the hash then. */
	if (a->has_last && a->keys.ents[a->last].len == a->kb.len &&
	    memcmp(a->keys.ents[a->last].key, a->kb.data, a->kb.len) == 0)
		return &a->grps[a->last];
	i = kset_put(&a->keys, a->kb.data, a->kb.len, &created);
	a->last = i;
	a->has_last = true;
	if (!created)
		return &a->grps[i];
	if (a->ngrps == a->grps_cap) {
		a->grps_cap = a->keys.cap;
		a->grps =
		    gpu_xreallocarray(a->grps, a->grps_cap, sizeof(*a->grps));
	}
	a->ngrps++;
	g = &a->grps[i];
	memset(g, 0, sizeof(*g));
	key_split(&g->g, a->keys.ents[i].key);
	gpu_sums_init(&g->g.sums);
	g->user_ms = g->project_ms = INT64_MIN;
	g->own_user = g->own_project = "";
	return g;
}

static struct gpu_str
cstr(const char *s)
{
	struct gpu_str r = {s, strlen(s)};

	return r;
}

/* Is (ms, name) later than (cur_ms, cur), ties to the greater name? */
static bool
later(int64_t ms, struct gpu_str name, int64_t cur_ms, const char *cur)
{
	size_t cl;
	int c;

	if (ms != cur_ms)
		return ms > cur_ms;
	cl = strlen(cur);
	c = memcmp(name.p, cur, name.len < cl ? name.len : cl);
	return c > 0 || (c == 0 && name.len > cl);
}

/* Track the job owner: the latest sample carrying a user / project. */
static void
agg_owner(struct gpu_agg *a, struct grp *g, int64_t ms, struct gpu_str job,
	  struct gpu_str user, struct gpu_str project)
{
	if ((a->q.dims & GPU_DIM_JOB) == 0 || job.len == 0)
		return;
	if (user.len > 0 && later(ms, user, g->user_ms, g->own_user)) {
		g->user_ms = ms;
		if (strlen(g->own_user) != user.len ||
		    memcmp(g->own_user, user.p, user.len) != 0)
			g->own_user = intern(a, user);
	}
	if (project.len > 0 &&
	    later(ms, project, g->project_ms, g->own_project)) {
		g->project_ms = ms;
		if (strlen(g->own_project) != project.len ||
		    memcmp(g->own_project, project.p, project.len) != 0)
			g->own_project = intern(a, project);
	}
}

static int64_t
bucket_of(const struct gpu_agg *a, int64_t ms)
{
	return a->q.period == GPU_PERIOD_ALL
		   ? 0
		   : gpu_period_start(a->q.period, ms);
}

void
gpu_agg_add_sample(struct gpu_agg *a, const struct gpu_sample *smp,
		   int interval_s)
{
	struct grp *g;

	if (smp->ts_ms < a->q.from_ms || smp->ts_ms >= a->q.to_ms)
		return;
	g = agg_group(a, bucket_of(a, smp->ts_ms), smp->node, smp->gpu,
		      smp->job_id, smp->user, smp->project, smp->model);
	gpu_sums_add(&g->g.sums, smp, interval_s, a->q.threshold_mib);
	agg_owner(a, g, smp->ts_ms, smp->job_id, smp->user, smp->project);
}

static int
cmp_group(const struct gpu_group *x, const struct gpu_group *y)
{
	int c;

	if (x->bucket_ms != y->bucket_ms)
		return x->bucket_ms < y->bucket_ms ? -1 : 1;
	if ((c = strcmp(x->node, y->node)) != 0)
		return c;
	if (x->gpu != y->gpu)
		return x->gpu < y->gpu ? -1 : 1;
	if ((c = strcmp(x->job_id, y->job_id)) != 0)
		return c;
	if ((c = strcmp(x->user, y->user)) != 0)
		return c;
	if ((c = strcmp(x->project, y->project)) != 0)
		return c;
	return strcmp(x->model, y->model);
}

static int
cmp_grp_ptr(const void *x, const void *y)
{
	const struct grp *const *a = x;
	const struct grp *const *b = y;

	return cmp_group(&(*a)->g, &(*b)->g);
}

/* The owner of each (bucket, job): the latest over the job's groups. */
struct owner {
	int64_t user_ms, project_ms;
	const char *user, *project;
};

static void
fill_owners(struct gpu_agg *a)
{
	struct kset jobs = {0};
	struct owner *own;
	size_t *jix;
	struct gpu_buf b;

	if ((a->q.dims & GPU_DIM_JOB) == 0)
		return;
	gpu_buf_init(&b);
	own = gpu_xcalloc(a->ngrps + 1, sizeof(*own));
	jix = gpu_xcalloc(a->ngrps + 1, sizeof(*jix));
	for (size_t i = 0; i < a->ngrps; i++) {
		const struct grp *g = &a->grps[i];
		struct owner *o;
		bool created;

		gpu_buf_reset(&b);
		gpu_buf_add(&b, &g->g.bucket_ms, sizeof(int64_t));
		gpu_buf_adds(&b, g->g.job_id);
		jix[i] = kset_put(&jobs, b.data, b.len + 1, &created);
		o = &own[jix[i]];
		if (created) {
			o->user_ms = o->project_ms = INT64_MIN;
			o->user = o->project = "";
		}
		if (*g->own_user != '\0' &&
		    later(g->user_ms, cstr(g->own_user), o->user_ms, o->user)) {
			o->user_ms = g->user_ms;
			o->user = g->own_user;
		}
		if (*g->own_project != '\0' &&
		    later(g->project_ms, cstr(g->own_project), o->project_ms,
			  o->project)) {
			o->project_ms = g->project_ms;
			o->project = g->own_project;
		}
	}
	for (size_t i = 0; i < a->ngrps; i++) {
		struct grp *g = &a->grps[i];

		if ((a->q.dims & GPU_DIM_USER) == 0)
			g->g.user = own[jix[i]].user;
		if ((a->q.dims & GPU_DIM_PROJECT) == 0)
			g->g.project = own[jix[i]].project;
	}
	free(own);
	free(jix);
	kset_release(&jobs);
	gpu_buf_release(&b);
}

void
gpu_agg_finish(struct gpu_agg *a)
{
	fill_owners(a);
	free(a->order);
	a->order = gpu_xcalloc(a->ngrps + 1, sizeof(*a->order));
	for (size_t i = 0; i < a->ngrps; i++)
		a->order[i] = &a->grps[i];
	a->norder = a->ngrps;
	qsort(a->order, a->norder, sizeof(*a->order), cmp_grp_ptr);
}

size_t
gpu_agg_count(const struct gpu_agg *a)
{
	return a->norder;
}

const struct gpu_group *
gpu_agg_group(const struct gpu_agg *a, size_t i)
{
	return &a->order[i]->g;
}

/* Sorting by a metric. */

struct ranked {
	struct grp *g;
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

	if (a->g->g.bucket_ms != b->g->g.bucket_ms)
		return a->g->g.bucket_ms < b->g->g.bucket_ms ? -1 : 1;
	if ((c = cmp_value_desc(&a->v, &b->v)) != 0)
		return c;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

void
gpu_agg_sort(struct gpu_agg *a, enum gpu_metric m, size_t top)
{
	struct ranked *r = gpu_xcalloc(a->norder + 1, sizeof(*r));
	size_t n = 0, run = 0;

	for (size_t i = 0; i < a->norder; i++) {
		r[i].g = a->order[i];
		r[i].pos = i;
		gpu_metric_value(&r[i].g->g.sums, m, &r[i].v);
	}
	qsort(r, a->norder, sizeof(*r), cmp_ranked);
	for (size_t i = 0; i < a->norder; i++) {
		if (i > 0 && r[i].g->g.bucket_ms != r[i - 1].g->g.bucket_ms)
			run = 0;
		if (top == 0 || run < top)
			a->order[n++] = r[i].g;
		run++;
	}
	a->norder = n;
	free(r);
}

/* Output. */

static const char *const key_cols[] = {"node", "gpu",	  "job_id",
				       "user", "project", "model"};

/* Which key columns print: node, gpu, job_id, user, project, model. */
static unsigned
key_mask(unsigned d)
{
	unsigned k = 0;

	if (d & (GPU_DIM_NODE | GPU_DIM_GPU))
		k |= 1u;
	if (d & GPU_DIM_GPU)
		k |= 2u;
	if (d & GPU_DIM_JOB)
		k |= 4u | 8u | 16u;
	if (d & GPU_DIM_USER)
		k |= 8u;
	if (d & GPU_DIM_PROJECT)
		k |= 16u;
	if (d & GPU_DIM_MODEL)
		k |= 32u;
	return k;
}

size_t
gpu_agg_columns(const struct gpu_agg_query *q, unsigned metrics,
		const char *cols[GPU_AGG_MAX_COLS])
{
	unsigned k = key_mask(q->dims);
	size_t n = 0;

	if (q->period != GPU_PERIOD_ALL)
		cols[n++] = gpu_period_name(q->period);
	for (int i = 0; i < 6; i++)
		if (k & (1u << i))
			cols[n++] = key_cols[i];
	for (int i = 0; i < GPU_M_COUNT; i++)
		if (metrics & (1u << i))
			cols[n++] = gpu_metric_name((enum gpu_metric)i);
	return n;
}

static void
write_text(struct gpu_writer *w, const char *s)
{
	if (*s == '\0')
		gpu_writer_null(w);
	else
		gpu_writer_str(w, s, strlen(s));
}

/* The bucket label of the previous row, reused while the bucket repeats. */
struct label {
	int64_t bucket_ms;
	char text[32];
};

static void
write_group(struct gpu_writer *w, const struct gpu_agg_query *q,
	    const struct gpu_group *g, unsigned metrics, struct label *lb)
{
	unsigned k = key_mask(q->dims);
	char num[GPU_NUM_FMT_MAX];

	if (q->period != GPU_PERIOD_ALL) {
		if (g->bucket_ms != lb->bucket_ms || lb->text[0] == '\0') {
			gpu_period_label(q->period, g->bucket_ms, lb->text);
			lb->bucket_ms = g->bucket_ms;
		}
		gpu_writer_str(w, lb->text, strlen(lb->text));
	}
	if (k & 1u)
		write_text(w, g->node);
	if (k & 2u)
		gpu_writer_i64(w, g->gpu);
	if (k & 4u)
		write_text(w, g->job_id);
	if (k & 8u)
		write_text(w, g->user);
	if (k & 16u)
		write_text(w, g->project);
	if (k & 32u)
		write_text(w, g->model);
	for (int i = 0; i < GPU_M_COUNT; i++) {
		struct gpu_value v;

		if ((metrics & (1u << i)) == 0)
			continue;
		gpu_metric_value(&g->sums, (enum gpu_metric)i, &v);
		if (v.kind == GPU_VAL_NULL) {
			gpu_writer_null(w);
		} else if (v.kind == GPU_VAL_INT) {
			gpu_num_fmt_i64_str(v.i, num);
			gpu_writer_num_text(w, num);
		} else if (gpu_num_fmt_double_str(v.d, num) > 0) {
			gpu_writer_num_text(w, num);
		} else {
			gpu_writer_double(w, v.d);
		}
	}
	gpu_writer_end_row(w);
}

int
gpu_agg_write(const struct gpu_agg *a, FILE *fp, enum gpu_ofmt fmt,
	      unsigned metrics, struct gpu_err *err)
{
	const char *cols[GPU_AGG_MAX_COLS];
	size_t n = gpu_agg_columns(&a->q, metrics, cols);
	struct gpu_writer *w = gpu_writer_new(fp, fmt, cols, n);
	struct label lb = {0, ""};
	int rc;

	for (size_t i = 0; i < a->norder; i++)
		write_group(w, &a->q, &a->order[i]->g, metrics, &lb);
	rc = gpu_writer_finish(w);
	gpu_writer_free(w);
	if (rc != 0)
		return gpu_err_set(err, "write error");
	return 0;
}

/* The warehouse: rows in integer key space. */

#define DAY_MS INT64_C(86400000)

/* K_TIME is the hour (hour rows) or the day (day rows, usage_daily). */
enum { K_TIME, K_NODE, K_GPU, K_JOB, K_USER, K_PROJECT, K_MODEL, NKEYS };

struct hrow {
	int64_t k[NKEYS];
	struct gpu_sums s;
};

/* Receives rows in rollup key order. */
typedef int hrow_fn(void *ctx, const struct hrow *r, struct gpu_err *err);

/* A hash table of rows by integer key; rows are not allocated one by one. */
struct rtab {
	struct hrow *rows;
	size_t n, cap;
	uint32_t *slots; /* index + 1; 0: empty */
	size_t nslots;	 /* a power of two */
};

static uint64_t
hash_keys(const int64_t *k)
{
	uint64_t h = 0;

	for (int i = 0; i < NKEYS; i++) {
		h = (h ^ (uint64_t)k[i]) * UINT64_C(0x9E3779B97F4A7C15);
		h ^= h >> 29;
	}
	return h;
}

static void
rtab_release(struct rtab *t)
{
	free(t->rows);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* Empty t, keeping its memory. */
static void
rtab_clear(struct rtab *t)
{
	if (t->n > 0)
		memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	t->n = 0;
}

static void
rtab_rehash(struct rtab *t)
{
	size_t ns = t->nslots == 0 ? 256 : t->nslots * 2;

	free(t->slots);
	t->slots = gpu_xcalloc(ns, sizeof(*t->slots));
	t->nslots = ns;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = hash_keys(t->rows[i].k) & (ns - 1);

		while (t->slots[j] != 0)
			j = (j + 1) & (ns - 1);
		t->slots[j] = (uint32_t)(i + 1);
	}
}

/* Index of the row of key k, created with empty sums when new. */
static size_t
rtab_put(struct rtab *t, const int64_t *k, bool *created)
{
	size_t j;

	*created = false;
	if ((t->n + 1) * 2 > t->nslots)
		rtab_rehash(t);
	for (j = hash_keys(k) & (t->nslots - 1); t->slots[j] != 0;
	     j = (j + 1) & (t->nslots - 1)) {
		size_t i = t->slots[j] - 1;

		if (memcmp(t->rows[i].k, k, sizeof(t->rows[i].k)) == 0)
			return i;
	}
	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 256 : t->cap * 2;
		t->rows = gpu_xreallocarray(t->rows, t->cap, sizeof(*t->rows));
	}
	memcpy(t->rows[t->n].k, k, sizeof(t->rows[t->n].k));
	gpu_sums_init(&t->rows[t->n].s);
	t->slots[j] = (uint32_t)(t->n + 1);
	*created = true;
	return t->n++;
}

static int
cmp_hrow(const void *x, const void *y)
{
	const struct hrow *a = x, *b = y;

	for (int i = 0; i < NKEYS; i++)
		if (a->k[i] != b->k[i])
			return a->k[i] < b->k[i] ? -1 : 1;
	return 0;
}

/* Hand t's rows to fn in key order, then empty t. */
static int
rtab_flush(struct rtab *t, hrow_fn *fn, void *ctx, struct gpu_err *err)
{
	int rc = 0;

	qsort(t->rows, t->n, sizeof(*t->rows), cmp_hrow);
	for (size_t i = 0; i < t->n && rc == 0; i++)
		rc = fn(ctx, &t->rows[i], err);
	rtab_clear(t);
	return rc;
}

static int64_t
hour_floor(int64_t ms)
{
	return gpu_period_start(GPU_PERIOD_HOUR, ms);
}

static int64_t
day_floor(int64_t ms)
{
	return gpu_period_start(GPU_PERIOD_DAY, ms);
}

/*
 * Where hour rows go. Every period but hour sums them into day rows first
 * (in hour order, then merged in day key order): usage_daily holds exactly
 * those day rows, so whole days can be read from it and still give the
 * same doubles as summing the hours.
 */
struct sink {
	bool by_day;
	struct rtab day; /* the day rows being summed */
	int64_t day_ms;
	hrow_fn *fn;
	void *ctx;
};

static void
sink_init(struct sink *s, bool by_day, hrow_fn *fn, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->by_day = by_day;
	s->fn = fn;
	s->ctx = ctx;
}

/* Hand on the day rows summed so far. */
static int
sink_flush(struct sink *s, struct gpu_err *err)
{
	return s->day.n > 0 ? rtab_flush(&s->day, s->fn, s->ctx, err) : 0;
}

/* An hour row (hrow_fn); hour rows must come in hour, then key order. */
static int
sink_hour(void *ctx, const struct hrow *r, struct gpu_err *err)
{
	struct sink *s = ctx;
	int64_t k[NKEYS];
	bool created;
	size_t i;

	if (!s->by_day)
		return s->fn(s->ctx, r, err);
	memcpy(k, r->k, sizeof(k));
	k[K_TIME] = day_floor(r->k[K_TIME]);
	if (k[K_TIME] != s->day_ms && sink_flush(s, err) != 0)
		return -1;
	s->day_ms = k[K_TIME];
	i = rtab_put(&s->day, k, &created);
	gpu_sums_merge(&s->day.rows[i].s, &r->s);
	return 0;
}

/* A finished day row (hrow_fn), after the hour rows of earlier days. */
static int
sink_day(void *ctx, const struct hrow *r, struct gpu_err *err)
{
	struct sink *s = ctx;

	if (sink_flush(s, err) != 0)
		return -1;
	return s->fn(s->ctx, r, err);
}

/*
 * Facts in [from, to) in key order, with the effective owner (the sample's,
 * else its job record's, interned in names_dim by the refresh), and what
 * the sums read of a sample.
 */
static const char SCAN_SQL[] =
    "SELECT f.ts_ms, f.node_id, f.gpu, coalesce(f.job_key, 0),"
    " coalesce(f.user_key, ju.name_key, 0),"
    " coalesce(f.project_key, jp.name_key, 0), coalesce(f.model_key, 0),"
    " f.util_pct, f.mem_used_mib, f.mem_total_mib, f.interval_s,"
    " f.power_w, CASE WHEN f.job_key IS NOT NULL"
    "  THEN coalesce(j.job_id, f.job_key) END"
    " FROM gpu_usage_fact f"
    " LEFT JOIN jobs_dim j ON j.job_key = f.job_key"
    " LEFT JOIN names_dim ju ON ju.name = j.user"
    " LEFT JOIN names_dim jp ON jp.name = j.project"
    " WHERE f.ts_ms >= ?1 AND f.ts_ms < ?2"
    " ORDER BY f.ts_ms, f.node_id, f.gpu";

/* Columns of SCAN_SQL after the keys. */
enum { C_UTIL = NKEYS, C_USED, C_TOTAL, C_INTERVAL, C_POWER, C_JOB_ID };

/* The sample of the current row of SCAN_SQL, as the sums read it. */
static void
fact_sample(sqlite3_stmt *st, struct gpu_sample *smp)
{
	const unsigned char *job = sqlite3_column_text(st, C_JOB_ID);

	memset(smp, 0, sizeof(*smp));
	smp->ts_ms = sqlite3_column_int64(st, K_TIME);
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
}

/* Scan facts of [from, to), handing hour rows to fn hour by hour. */
static int
scan_facts(sqlite3 *db, int64_t from, int64_t to, int64_t threshold,
	   hrow_fn *fn, void *ctx, struct gpu_err *err)
{
	struct rtab h = {0};
	int64_t hour = 0;
	sqlite3_stmt *st = gpu_db_prepare(db, SCAN_SQL, err);
	int rc = -1, step;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t k[NKEYS];
		struct gpu_sample smp;
		bool created;
		size_t i;

		k[K_TIME] = hour_floor(sqlite3_column_int64(st, 0));
		for (int c = 1; c < NKEYS; c++)
			k[c] = sqlite3_column_int64(st, c);
		if (h.n > 0 && k[K_TIME] != hour &&
		    rtab_flush(&h, fn, ctx, err) != 0)
			goto out;
		hour = k[K_TIME];
		i = rtab_put(&h, k, &created);
		fact_sample(st, &smp);
		gpu_sums_add(&h.rows[i].s, &smp, 0, threshold);
	}
	if (step != SQLITE_DONE) {
		gpu_err_set(err, "database error: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (h.n > 0 && rtab_flush(&h, fn, ctx, err) != 0)
		goto out;
	rc = 0;
out:
	rtab_release(&h);
	sqlite3_finalize(st);
	return rc;
}

/* The rollups: usage_hourly (hour_ms) and usage_daily (day_ms). */

/*
 * Column lists and placeholders, each item with a leading comma: the key
 * columns after the time bucket, and the sums (generated from GPU_SUMS).
 */
#define KEY_COLS ", node_id, gpu, job_key, user_key, project_key, model_key"
#define KEY_PARAMS ",?,?,?,?,?,?"
#define SUM_COL_(name, ctype, sqltype, merge, empty) ", " #name
#define SUM_PARAM_(name, ctype, sqltype, merge, empty) ",?"
#define SUM_COLS GPU_SUMS(SUM_COL_)
#define SUM_PARAMS GPU_SUMS(SUM_PARAM_)

static const char INSERT_HOURLY_SQL[] =
    "INSERT INTO usage_hourly(hour_ms" KEY_COLS SUM_COLS ")"
    " VALUES(?" KEY_PARAMS SUM_PARAMS ")";

static const char INSERT_DAILY_SQL[] =
    "INSERT INTO usage_daily(day_ms" KEY_COLS SUM_COLS ")"
    " VALUES(?" KEY_PARAMS SUM_PARAMS ")";

static const char HOURLY_SQL[] =
    "SELECT hour_ms" KEY_COLS SUM_COLS " FROM usage_hourly"
    " WHERE hour_ms >= ?1 AND hour_ms < ?2"
    " ORDER BY hour_ms" KEY_COLS;

static const char INSERT_NODE_SQL[] =
    "INSERT INTO usage_hourly_node(hour_ms, node_id" SUM_COLS ")"
    " VALUES(?,?" SUM_PARAMS ")";

static const char NODE_SQL[] =
    "SELECT hour_ms, node_id" SUM_COLS " FROM usage_hourly_node"
    " WHERE hour_ms >= ?1 AND hour_ms < ?2 ORDER BY hour_ms, node_id";

static const char DAILY_SQL[] =
    "SELECT day_ms" KEY_COLS SUM_COLS " FROM usage_daily"
    " WHERE day_ms >= ?1 AND day_ms < ?2"
    " ORDER BY day_ms" KEY_COLS;

/* Bind or read a sum by its C type. */
#define BIND_SUM_(name, ctype, sqltype, merge, empty)                          \
	_Generic(s->name, int64_t                                              \
		 : sqlite3_bind_int64, double                                  \
		 : sqlite3_bind_double)(st, c++, s->name);
#define READ_SUM_(name, ctype, sqltype, merge, empty)                          \
	s->name = _Generic(s->name, int64_t                                    \
			   : sqlite3_column_int64, double                      \
			   : sqlite3_column_double)(st, c++);

/* Insert r into a rollup whose first nkeys columns are r's first keys. */
static int
insert_keys(sqlite3_stmt *st, const struct hrow *r, int nkeys,
	    struct gpu_err *err)
{
	const struct gpu_sums *s = &r->s;
	int c = 1;

	sqlite3_reset(st);
	for (int i = 0; i < nkeys; i++)
		sqlite3_bind_int64(st, c++, r->k[i]);
	GPU_SUMS(BIND_SUM_)
	if (sqlite3_step(st) != SQLITE_DONE)
		return gpu_err_set(err, "database error: %s",
				   sqlite3_errmsg(sqlite3_db_handle(st)));
	return 0;
}

/* Insert an hour or day row (hrow_fn; ctx: the statement). */
static int
insert_row(void *ctx, const struct hrow *r, struct gpu_err *err)
{
	return insert_keys(ctx, r, NKEYS, err);
}

/* Read a row whose first nkeys columns are keys (the others are 0). */
static void
read_row(sqlite3_stmt *st, int nkeys, struct hrow *r)
{
	struct gpu_sums *s = &r->s;
	int c = nkeys;

	for (int i = 0; i < NKEYS; i++)
		r->k[i] = i < nkeys ? sqlite3_column_int64(st, i) : 0;
	GPU_SUMS(READ_SUM_)
}

/*
 * Hand the rows of a rollup (sql, with nkeys key columns) in [from, to) to
 * fn in key order.
 */
static int
read_rollup(sqlite3 *db, const char *sql, int nkeys, int64_t from,
	    int64_t to, hrow_fn *fn, void *ctx, struct gpu_err *err)
{
	sqlite3_stmt *st = gpu_db_prepare(db, sql, err);
	int step = SQLITE_DONE, rc = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct hrow r;

		read_row(st, nkeys, &r);
		rc = fn(ctx, &r, err);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = gpu_err_set(err, "database error: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* Whether dirty_hours has a row; -1 on error. */
static int
has_dirty(sqlite3 *db, struct gpu_err *err)
{
	sqlite3_stmt *st =
	    gpu_db_prepare(db, "SELECT 1 FROM dirty_hours LIMIT 1", err);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return gpu_err_set(err, "database error: %s", sqlite3_errmsg(db));
}

/*
 * Job owners of the dirty hours' facts, interned so that the scan can
 * resolve the effective owner to a key.
 */
static const char INTERN_SQL[] =
    "INSERT OR IGNORE INTO names_dim(name)"
    " SELECT j.user FROM jobs_dim j WHERE j.user <> '' AND j.job_key IN"
    "  (SELECT f.job_key FROM dirty_hours d, gpu_usage_fact f"
    "   WHERE f.ts_ms >= d.hour_ms AND f.ts_ms < d.hour_ms + 3600000)"
    " UNION SELECT j.project FROM jobs_dim j WHERE j.project <> ''"
    "  AND j.job_key IN"
    "  (SELECT f.job_key FROM dirty_hours d, gpu_usage_fact f"
    "   WHERE f.ts_ms >= d.hour_ms AND f.ts_ms < d.hour_ms + 3600000)";

/* Run a statement that takes one time bound and returns no rows. */
static int
step_one(sqlite3_stmt *st, int64_t t, struct gpu_err *err)
{
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, t);
	if (sqlite3_step(st) != SQLITE_DONE)
		return gpu_err_set(err, "database error: %s",
				   sqlite3_errmsg(sqlite3_db_handle(st)));
	return 0;
}

/*
 * Summing the hour rows of one hour, in key order, into node rows: each is
 * exactly the group a query by hour and node builds from them.
 */
struct nodefold {
	struct hrow cur;
	bool have;
	sqlite3_stmt *ins;
};

static int
nodefold_flush(struct nodefold *f, struct gpu_err *err)
{
	if (!f->have)
		return 0;
	f->have = false;
	return insert_keys(f->ins, &f->cur, 2, err);
}

/* An hour row (hrow_fn). */
static int
nodefold_row(void *ctx, const struct hrow *r, struct gpu_err *err)
{
	struct nodefold *f = ctx;

	if (f->have && (r->k[K_TIME] != f->cur.k[K_TIME] ||
			r->k[K_NODE] != f->cur.k[K_NODE]) &&
	    nodefold_flush(f, err) != 0)
		return -1;
	if (!f->have) {
		f->cur.k[K_TIME] = r->k[K_TIME];
		f->cur.k[K_NODE] = r->k[K_NODE];
		gpu_sums_init(&f->cur.s);
		f->have = true;
	}
	gpu_sums_merge(&f->cur.s, &r->s);
	return 0;
}

/* Rebuild usage_hourly_node for the dirty hours. */
static int
rebuild_nodes(sqlite3 *db, struct gpu_err *err)
{
	sqlite3_stmt *hours = NULL, *del = NULL;
	struct nodefold f = {0};
	int rc = -1, step;

	hours = gpu_db_prepare(
	    db, "SELECT hour_ms FROM dirty_hours ORDER BY hour_ms", err);
	del = gpu_db_prepare(
	    db, "DELETE FROM usage_hourly_node WHERE hour_ms = ?", err);
	f.ins = gpu_db_prepare(db, INSERT_NODE_SQL, err);
	if (hours == NULL || del == NULL || f.ins == NULL)
		goto out;
	while ((step = sqlite3_step(hours)) == SQLITE_ROW) {
		int64_t h = sqlite3_column_int64(hours, 0);

		if (step_one(del, h, err) != 0 ||
		    read_rollup(db, HOURLY_SQL, NKEYS, h, h + GPU_HOUR_MS,
				nodefold_row, &f, err) != 0 ||
		    nodefold_flush(&f, err) != 0)
			goto out;
	}
	if (step != SQLITE_DONE) {
		gpu_err_set(err, "database error: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(hours);
	sqlite3_finalize(del);
	sqlite3_finalize(f.ins);
	return rc;
}

/* Rebuild the day rows of usage_daily for the days of dirty hours. */
static int
rebuild_days(sqlite3 *db, struct gpu_err *err)
{
	sqlite3_stmt *days = NULL, *del = NULL, *ins = NULL;
	struct sink s;
	int rc = -1, step;

	days = gpu_db_prepare(db,
			      "SELECT DISTINCT hour_ms / 86400000 * 86400000"
			      " FROM dirty_hours ORDER BY 1",
			      err);
	if (days == NULL)
		goto out;
	del = gpu_db_prepare(db, "DELETE FROM usage_daily WHERE day_ms = ?",
			     err);
	ins = gpu_db_prepare(db, INSERT_DAILY_SQL, err);
	if (del == NULL || ins == NULL)
		goto out;
	sink_init(&s, true, insert_row, ins);
	while ((step = sqlite3_step(days)) == SQLITE_ROW) {
		int64_t d = sqlite3_column_int64(days, 0);

		if (step_one(del, d, err) != 0 ||
		    read_rollup(db, HOURLY_SQL, NKEYS, d, d + DAY_MS, sink_hour, &s,
				err) != 0 ||
		    sink_flush(&s, err) != 0) {
			rtab_release(&s.day);
			goto out;
		}
	}
	rtab_release(&s.day);
	if (step != SQLITE_DONE) {
		gpu_err_set(err, "database error: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(days);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	return rc;
}

static int
rebuild_hours(sqlite3 *db, size_t *hours, struct gpu_err *err)
{
	sqlite3_stmt *dirty = NULL, *del = NULL, *ins = NULL;
	int rc = -1, step;

	if (gpu_db_exec(db, INTERN_SQL, err) != 0)
		return -1;
	dirty = gpu_db_prepare(
	    db, "SELECT hour_ms FROM dirty_hours ORDER BY hour_ms", err);
	if (dirty == NULL)
		goto out;
	del = gpu_db_prepare(db, "DELETE FROM usage_hourly WHERE hour_ms = ?",
			     err);
	if (del == NULL)
		goto out;
	ins = gpu_db_prepare(db, INSERT_HOURLY_SQL, err);
	if (ins == NULL)
		goto out;
	while ((step = sqlite3_step(dirty)) == SQLITE_ROW) {
		int64_t h = sqlite3_column_int64(dirty, 0);

		if (step_one(del, h, err) != 0 ||
		    scan_facts(db, h, h + GPU_HOUR_MS,
			       GPU_DEFAULT_THRESHOLD_MIB, insert_row, ins,
			       err) != 0)
			goto out;
		(*hours)++;
	}
	if (step != SQLITE_DONE) {
		gpu_err_set(err, "database error: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (rebuild_nodes(db, err) != 0 || rebuild_days(db, err) != 0)
		goto out;
	rc = gpu_db_exec(db, "DELETE FROM dirty_hours", err);
out:
	sqlite3_finalize(dirty);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	return rc;
}

int
gpu_agg_refresh(sqlite3 *db, size_t *hours, struct gpu_err *err)
{
	const char *path = sqlite3_db_filename(db, "main");
	size_t n = 0;
	int d = has_dirty(db, err);

	if (hours != NULL)
		*hours = 0;
	if (d <= 0)
		return d;
	if (gpu_db_begin(db, path != NULL ? path : "?", err) != 0)
		return -1;
	if (rebuild_hours(db, &n, err) != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	if (gpu_db_commit(db, err) != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	if (hours != NULL)
		*hours = n;
	return 0;
}

/*
 * Merging rows into groups in integer key space, resolving keys to names
 * once per distinct key and only for the finished groups.
 */

struct name {
	char *s; /* NULL: not looked up yet */
	size_t len;
};

struct namecache {
	struct name *v;
	size_t n;
	sqlite3_stmt *st;
};

/* The owner of an integer group (keys of names_dim; 0: none). */
struct iown {
	int64_t user_ms, project_ms;
	int64_t user, project;
};

struct dbq {
	struct gpu_agg_query q;
	struct rtab groups;
	struct iown *own; /* parallel to groups.rows */
	size_t own_cap;
	int64_t last_in, last_bucket; /* query_bucket() cache */
	int64_t last_k[NKEYS];	      /* the group of the last row */
	size_t last_i;
	struct namecache nodes, jobs, names;
};

static void
cache_release(struct namecache *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].s);
	free(c->v);
	sqlite3_finalize(c->st);
}

/* The name of key k (0, negative or absent: ""), looked up once. */
static int
cache_get(struct namecache *c, int64_t k, const struct name **out,
	  struct gpu_err *err)
{
	static const struct name none = {"", 0};
	const unsigned char *t;
	size_t i;
	int rc;

	*out = &none;
	if (k <= 0)
		return 0;
	if (k > (int64_t)(SIZE_MAX / 2 / sizeof(*c->v)))
		return gpu_err_set(err, "database error: bad key %" PRId64, k);
	i = (size_t)k;
	if (i >= c->n) {
		size_t n = i + 1 > c->n * 2 ? i + 1 : c->n * 2;

		c->v = gpu_xreallocarray(c->v, n, sizeof(*c->v));
		memset(c->v + c->n, 0, (n - c->n) * sizeof(*c->v));
		c->n = n;
	}
	if (c->v[i].s == NULL) {
		sqlite3_reset(c->st);
		sqlite3_bind_int64(c->st, 1, k);
		rc = sqlite3_step(c->st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return gpu_err_set(
			    err, "database error: %s",
			    sqlite3_errmsg(sqlite3_db_handle(c->st)));
		t = rc == SQLITE_ROW ? sqlite3_column_text(c->st, 0) : NULL;
		c->v[i].s = gpu_xstrdup(t != NULL ? (const char *)t : "");
		c->v[i].len = strlen(c->v[i].s);
	}
	*out = &c->v[i];
	return 0;
}

/*
 * The canonical key of k: 0 when its name is empty, so that integer keys
 * group exactly as names do (names are unique in their tables).
 */
static int
canon(struct namecache *c, int64_t k, int64_t *out, struct gpu_err *err)
{
	const struct name *n;

	if (cache_get(c, k, &n, err) != 0)
		return -1;
	*out = n->len > 0 ? k : 0;
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
	const struct name *a, *b;

	*yes = ms > cur_ms;
	if (ms != cur_ms)
		return 0;
	if (cache_get(c, k, &a, err) != 0 || cache_get(c, cur, &b, err) != 0)
		return -1;
	*yes = later(ms, name_str(a), cur_ms, b->s);
	return 0;
}

/* Track the job owner of group i (see agg_owner). */
static int
merge_owner(struct dbq *q, size_t i, int64_t ms, int64_t user,
	    int64_t project, struct gpu_err *err)
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
		if (later_key(&q->names, ms, project, o->project_ms,
			      o->project, &yes, err) != 0)
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

/* Merge an hour or day row into its group (hrow_fn). */
static int
merge_row(void *ctx, const struct hrow *r, struct gpu_err *err)
{
	struct dbq *q = ctx;
	unsigned d = q->q.dims;
	int64_t k[NKEYS] = {0};
	int64_t user = 0, project = 0;
	bool created;
	size_t i;

	k[K_TIME] = query_bucket(q, r->k[K_TIME]);
	k[K_GPU] = (d & GPU_DIM_GPU) ? (int32_t)r->k[K_GPU] : -1;
	if ((d & (GPU_DIM_NODE | GPU_DIM_GPU)) &&
	    canon(&q->nodes, r->k[K_NODE], &k[K_NODE], err) != 0)
		return -1;
	if ((d & GPU_DIM_JOB) &&
	    (canon(&q->jobs, r->k[K_JOB], &k[K_JOB], err) != 0 ||
	     canon(&q->names, r->k[K_USER], &user, err) != 0 ||
	     canon(&q->names, r->k[K_PROJECT], &project, err) != 0))
		return -1;
	if ((d & GPU_DIM_USER) &&
	    canon(&q->names, r->k[K_USER], &k[K_USER], err) != 0)
		return -1;
	if ((d & GPU_DIM_PROJECT) &&
	    canon(&q->names, r->k[K_PROJECT], &k[K_PROJECT], err) != 0)
		return -1;
	if ((d & GPU_DIM_MODEL) &&
	    canon(&q->names, r->k[K_MODEL], &k[K_MODEL], err) != 0)
		return -1;
	/* Rows come in key order: often the same group as the last one. */
	if (q->groups.n > 0 && memcmp(k, q->last_k, sizeof(k)) == 0) {
		i = q->last_i;
		created = false;
	} else {
		i = rtab_put(&q->groups, k, &created);
		memcpy(q->last_k, k, sizeof(k));
		q->last_i = i;
	}
	if (created) {
		if (i >= q->own_cap) {
			q->own_cap = q->groups.cap;
			q->own = gpu_xreallocarray(q->own, q->own_cap,
						   sizeof(*q->own));
		}
		q->own[i].user_ms = q->own[i].project_ms = INT64_MIN;
		q->own[i].user = q->own[i].project = 0;
	}
	gpu_sums_merge(&q->groups.rows[i].s, &r->s);
	if (k[K_JOB] != 0)
		return merge_owner(q, i, r->s.last_ms, user, project, err);
	return 0;
}

static int
dbq_init(struct dbq *q, sqlite3 *db, const struct gpu_agg_query *aq,
	 struct gpu_err *err)
{
	memset(q, 0, sizeof(*q));
	q->q = *aq;
	q->last_in = INT64_MIN;
	q->last_bucket = query_bucket(q, INT64_MIN);
	q->nodes.st = gpu_db_prepare(
	    db, "SELECT node FROM nodes_dim WHERE node_id = ?", err);
	q->jobs.st = gpu_db_prepare(
	    db, "SELECT job_id FROM jobs_dim WHERE job_key = ?", err);
	q->names.st = gpu_db_prepare(
	    db, "SELECT name FROM names_dim WHERE name_key = ?", err);
	if (q->nodes.st == NULL || q->jobs.st == NULL || q->names.st == NULL)
		return -1;
	return 0;
}

/* Add integer group i to a as a named group with its sums and owner. */
static int
build_group(struct dbq *q, size_t i, struct gpu_agg *a, struct gpu_err *err)
{
	const struct hrow *r = &q->groups.rows[i];
	const struct iown *o = &q->own[i];
	const struct name *node, *job, *user, *project, *model;
	struct grp *g;

	if (cache_get(&q->nodes, r->k[K_NODE], &node, err) != 0 ||
	    cache_get(&q->jobs, r->k[K_JOB], &job, err) != 0 ||
	    cache_get(&q->names, r->k[K_USER], &user, err) != 0 ||
	    cache_get(&q->names, r->k[K_PROJECT], &project, err) != 0 ||
	    cache_get(&q->names, r->k[K_MODEL], &model, err) != 0)
		return -1;
	g = agg_group(a, r->k[K_TIME], name_str(node), (int)r->k[K_GPU],
		      name_str(job), name_str(user), name_str(project),
		      name_str(model));
	g->g.sums = r->s;
	if (o->user != 0) {
		if (cache_get(&q->names, o->user, &user, err) != 0)
			return -1;
		g->user_ms = o->user_ms;
		g->own_user = intern(a, name_str(user));
	}
	if (o->project != 0) {
		if (cache_get(&q->names, o->project, &project, err) != 0)
			return -1;
		g->project_ms = o->project_ms;
		g->own_project = intern(a, name_str(project));
	}
	return 0;
}

/* Turn the integer groups into the named groups of a new aggregate. */
static int
dbq_build(struct dbq *q, struct gpu_agg **out, struct gpu_err *err)
{
	struct gpu_agg *a = gpu_agg_new(&q->q);

	for (size_t i = 0; i < q->groups.n; i++)
		if (build_group(q, i, a, err) != 0) {
			gpu_agg_free(a);
			return -1;
		}
	gpu_agg_finish(a);
	*out = a;
	return 0;
}

/* Release q; hand out its aggregate finished when ok. */
static int
dbq_done(struct dbq *q, bool ok, struct gpu_agg **out, struct gpu_err *err)
{
	int rc = ok ? dbq_build(q, out, err) : -1;

	cache_release(&q->nodes);
	cache_release(&q->jobs);
	cache_release(&q->names);
	rtab_release(&q->groups);
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

int
gpu_agg_scan_db(sqlite3 *db, const struct gpu_agg_query *q,
		struct gpu_agg **out, struct gpu_err *err)
{
	struct dbq dq;
	struct sink s;
	bool ok;

	*out = NULL;
	if (check_query(q, err) != 0)
		return -1;
	ok = dbq_init(&dq, db, q, err) == 0;
	sink_init(&s, q->period != GPU_PERIOD_HOUR, merge_row, &dq);
	ok = ok &&
	     scan_facts(db, q->from_ms, q->to_ms, q->threshold_mib, sink_hour,
			&s, err) == 0 &&
	     sink_flush(&s, err) == 0;
	rtab_release(&s.day);
	return dbq_done(&dq, ok, out, err);
}

int
gpu_agg_run_db(sqlite3 *db, const struct gpu_agg_query *q, struct gpu_agg **out,
	       struct gpu_err *err)
{
	int64_t hf, ht, df, dt;
	const char *hourly_sql = HOURLY_SQL;
	int hourly_keys = NKEYS;
	struct dbq dq;
	struct sink s;
	bool ok;

	*out = NULL;
	if (check_query(q, err) != 0)
		return -1;
	if (gpu_agg_refresh(db, NULL, err) != 0)
		return -1;
	if (q->threshold_mib != GPU_DEFAULT_THRESHOLD_MIB)
		return gpu_agg_scan_db(db, q, out, err);
	/* Whole hours from the rollup, partial edge hours from the facts. */
	hf = q->from_ms == INT64_MIN ? INT64_MIN : hour_floor(q->from_ms);
	if (hf < q->from_ms)
		hf += GPU_HOUR_MS;
	ht = q->to_ms == INT64_MAX ? INT64_MAX : hour_floor(q->to_ms);
	if (hf >= ht)
		return gpu_agg_scan_db(db, q, out, err);
	/* Whole days of [hf, ht) from usage_daily (periods but hour). */
	df = dt = ht;
	if (q->period != GPU_PERIOD_HOUR) {
		df = hf == INT64_MIN ? INT64_MIN : day_floor(hf);
		if (df < hf)
			df += DAY_MS;
		dt = ht == INT64_MAX ? INT64_MAX : day_floor(ht);
		if (df >= dt)
			df = dt = ht;
	}
	ok = dbq_init(&dq, db, q, err) == 0;
	sink_init(&s, q->period != GPU_PERIOD_HOUR, merge_row, &dq);
	/* By hour and node: whole hours from usage_hourly_node. */
	if (q->period == GPU_PERIOD_HOUR && q->dims == GPU_DIM_NODE)
		hourly_sql = NODE_SQL, hourly_keys = 2;
	if (ok && q->from_ms < hf)
		ok = scan_facts(db, q->from_ms, hf, q->threshold_mib,
				sink_hour, &s, err) == 0;
	if (ok && hf < df)
		ok = read_rollup(db, hourly_sql, hourly_keys, hf, df,
				 sink_hour, &s, err) == 0;
	if (ok && df < dt)
		ok = read_rollup(db, DAILY_SQL, NKEYS, df, dt, sink_day, &s, err) == 0;
	if (ok && dt < ht)
		ok = read_rollup(db, hourly_sql, hourly_keys, dt, ht,
				 sink_hour, &s, err) == 0;
	if (ok && ht < q->to_ms)
		ok = scan_facts(db, ht, q->to_ms, q->threshold_mib, sink_hour,
				&s, err) == 0;
	ok = ok && sink_flush(&s, err) == 0;
	rtab_release(&s.day);
	return dbq_done(&dq, ok, out, err);
}
