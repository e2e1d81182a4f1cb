/* SPDX-License-Identifier: MIT */
/* The aggregate: an in-memory table of groups with their sums and owners. */
#include "gpu/agg.h"

#include <stdlib.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/hashmap.h"
#include "gpu/num.h"
#include "gpu/strpool.h"

static const char *const dim_names[] = {"node",	   "gpu",	    "job",
					"user",	   "project",	    "model",
					"profile", "usage_category"};

int
gpu_dims_parse(const char *list, unsigned *dims, struct gpu_err *err)
{
	if (*list == '\0' || strcmp(list, "none") == 0) {
		*dims = 0;
		return 0;
	}
	return gpu_names_parse(list, "dimension", dim_names,
			       sizeof(dim_names) / sizeof(dim_names[0]), dims,
			       err);
}

struct grp {
	struct gpu_group g;
	int64_t user_ms, project_ms; /* of the owner seen latest (JOB dims) */
	const char *own_user, *own_project;
	unsigned dims; /* the aggregate's, for the sort */
};

struct gpu_agg {
	struct gpu_agg_query q;
	struct gpu_hashmap keys; /* group keys; entry i is group i */
	struct grp *grps;	 /* one per key */
	size_t ngrps, grps_cap;
	struct grp **order; /* output order after finish */
	size_t norder;
	struct gpu_hashmap names; /* interned owner names */
	struct gpu_buf kb;	  /* key under construction */
	/*
	 * gpu_agg_add_distinct(): the groups' strings, and how many groups
	 * have no entry in keys yet (the first lookup makes them).
	 */
	struct gpu_strpool text;
	size_t unkeyed;
	unsigned kept; /* the key strings the dims keep, by bit (text_dims) */
	/*
	 * agg_group(): the last group found and its key's parts, the texts
	 * pointing into its stored key (which never moves), so that rows of
	 * one group in a row (a node's GPUs) skip the key and the lookup.
	 */
	struct {
		bool ok;
		size_t i;
		int64_t bucket;
		int32_t ints[3];
		struct gpu_str text[GPU_KT_N];
	} last;
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

/* The dims that keep each key string (enum gpu_key_text): else "". */
static const unsigned text_dims[GPU_KT_N] = {
    [GPU_KT_NODE] = GPU_DIM_NODE | GPU_DIM_GPU,
    [GPU_KT_JOB] = GPU_DIM_JOB,
    [GPU_KT_USER] = GPU_DIM_USER,
    [GPU_KT_PROJECT] = GPU_DIM_PROJECT,
    [GPU_KT_MODEL] = GPU_DIM_MODEL,
    [GPU_KT_PROFILE] = GPU_DIM_PROFILE};

struct gpu_agg *
gpu_agg_new(const struct gpu_agg_query *q)
{
	struct gpu_agg *a = gpu_xcalloc(1, sizeof(*a));

	a->q = *q;
	for (int k = 0; k < GPU_KT_N; k++)
		if (q->dims & text_dims[k])
			a->kept |= 1u << k;
	gpu_hashmap_init(&a->keys);
	gpu_hashmap_init(&a->names);
	gpu_buf_init(&a->kb);
	return a;
}

void
gpu_agg_free(struct gpu_agg *a)
{
	if (a == NULL)
		return;
	gpu_hashmap_release(&a->keys);
	gpu_hashmap_release(&a->names);
	free(a->grps);
	free(a->order);
	gpu_buf_release(&a->kb);
	gpu_strpool_release(&a->text);
	free(a);
}

static const char *
intern(struct gpu_agg *a, struct gpu_str s)
{
	return gpu_hashmap_key(&a->names,
			       gpu_hashmap_put(&a->names, s.p, s.len, NULL));
}

/*
 * The key of a group in kb: bucket, GPU, MIG id and category, then each
 * of the six texts (empty when off) as its length, bytes and a NUL. Sized
 * first and written in one pass: it is built for every row of a stream.
 */
static void
group_key(struct gpu_buf *kb, int64_t bucket, const int32_t ints[3],
	  struct gpu_str text[GPU_KT_N])
{
	size_t n = sizeof(bucket) + 3 * sizeof(int32_t);
	char *p;

	for (int i = 0; i < GPU_KT_N; i++)
		n += sizeof(uint32_t) + text[i].len + 1;
	gpu_buf_reset(kb);
	gpu_buf_grow(kb, n);
	p = kb->data;
	memcpy(p, &bucket, sizeof(bucket));
	p += sizeof(bucket);
	memcpy(p, ints, 3 * sizeof(int32_t));
	p += 3 * sizeof(int32_t);
	for (int i = 0; i < GPU_KT_N; i++) {
		uint32_t len = (uint32_t)text[i].len;

		memcpy(p, &len, sizeof(len));
		p += sizeof(len);
		if (len > 0)
			memcpy(p, text[i].p, len);
		p += len;
		*p++ = '\0';
	}
	kb->len = n;
	kb->data[n] = '\0';
}

/* Point the group's key strings into its stored key. */
static void
key_split(struct gpu_group *g, const char *key)
{
	const char **f[GPU_KT_N] = {&g->node,	 &g->job_id, &g->user,
				    &g->project, &g->model,  &g->profile};
	const char *p = key + sizeof(int64_t) + 3 * sizeof(int32_t);
	int32_t gpu, mig, cat;

	memcpy(&g->bucket_ms, key, sizeof(int64_t));
	memcpy(&gpu, key + sizeof(int64_t), sizeof(gpu));
	memcpy(&mig, key + sizeof(int64_t) + sizeof(gpu), sizeof(mig));
	memcpy(&cat, key + sizeof(int64_t) + 2 * sizeof(gpu), sizeof(cat));
	g->gpu = gpu;
	g->mig = mig;
	g->category = cat;
	for (int i = 0; i < GPU_KT_N; i++) {
		uint32_t len;

		memcpy(&len, p, sizeof(len));
		*f[i] = p + sizeof(len);
		p += sizeof(len) + len + 1;
	}
}

static struct gpu_str
cstr(const char *s)
{
	struct gpu_str r = {s, strlen(s)};

	return r;
}

/* The key parts of a group: ints and texts of dims not grouped by off. */
static void
key_parts(unsigned d, int gpu, int mig, int category, int32_t ints[3],
	  struct gpu_str text[GPU_KT_N])
{
	ints[0] = (d & GPU_DIM_GPU) ? gpu : -1;
	ints[1] = (d & GPU_DIM_GPU) ? mig : -1;
	ints[2] = (d & GPU_DIM_CATEGORY) ? category : -1;
	for (int k = 0; k < GPU_KT_N; k++)
		if ((d & text_dims[k]) == 0)
			text[k].len = 0;
}

/*
 * The next group, without an owner: the caller sets every field of its
 * g (keys, strings, sums).
 */
static struct grp *
next_grp(struct gpu_agg *a)
{
	struct grp *g;

	if (a->ngrps == a->grps_cap) {
		a->grps_cap = a->grps_cap == 0 ? 64 : a->grps_cap * 2;
		a->grps =
		    gpu_xreallocarray(a->grps, a->grps_cap, sizeof(*a->grps));
	}
	g = &a->grps[a->ngrps++];
	g->dims = a->q.dims;
	g->g.plain = 0;
	g->user_ms = g->project_ms = INT64_MIN;
	g->own_user = g->own_project = "";
	return g;
}

/* A new group, the next, of the stored key key (group_key()). */
static struct grp *
new_grp(struct gpu_agg *a, const char *key)
{
	struct grp *g = next_grp(a);

	key_split(&g->g, key);
	gpu_sums_init(&g->g.sums);
	return g;
}

/* The group's key strings, as gpu_agg_add_distinct() stored them. */
static void
group_text(const struct gpu_group *g, struct gpu_str text[GPU_KT_N])
{
	const char *f[GPU_KT_N] = {g->node,    g->job_id, g->user,
				   g->project, g->model,  g->profile};

	for (int i = 0; i < GPU_KT_N; i++)
		text[i] = cstr(f[i]);
}

/* Give the groups gpu_agg_add_distinct() added their entries in keys. */
static void
key_groups(struct gpu_agg *a)
{
	for (size_t i = a->ngrps - a->unkeyed; i < a->ngrps; i++) {
		const struct gpu_group *g = &a->grps[i].g;
		struct gpu_str text[GPU_KT_N];
		int32_t ints[3];

		group_text(g, text);
		key_parts(a->q.dims, g->gpu, g->mig, g->category, ints, text);
		group_key(&a->kb, g->bucket_ms, ints, text);
		gpu_hashmap_append(&a->keys, a->kb.data, a->kb.len);
	}
	a->unkeyed = 0;
}

/* Whether a key's parts are those of the last group found. */
static bool
same_as_last(const struct gpu_agg *a, int64_t bucket, const int32_t ints[3],
	     const struct gpu_str text[GPU_KT_N])
{
	if (bucket != a->last.bucket ||
	    memcmp(ints, a->last.ints, sizeof(a->last.ints)) != 0)
		return false;
	for (int k = 0; k < GPU_KT_N; k++)
		if (text[k].len != a->last.text[k].len ||
		    (text[k].len > 0 &&
		     memcmp(text[k].p, a->last.text[k].p, text[k].len) != 0))
			return false;
	return true;
}

/* Keep group i as the last found, its texts from its stored key. */
static void
remember(struct gpu_agg *a, size_t i, int64_t bucket, const int32_t ints[3],
	 const struct gpu_str text[GPU_KT_N])
{
	const char *p = gpu_hashmap_key(&a->keys, i) + sizeof(int64_t) +
			3 * sizeof(int32_t);

	a->last.ok = true;
	a->last.i = i;
	a->last.bucket = bucket;
	memcpy(a->last.ints, ints, sizeof(a->last.ints));
	for (int k = 0; k < GPU_KT_N; k++) {
		p += sizeof(uint32_t);
		a->last.text[k].p = p;
		a->last.text[k].len = text[k].len;
		p += text[k].len + 1;
	}
}

/*
 * Find or create the group of these keys (dims not grouped are ignored).
 * Samples of one group often come in runs: the last group found serves
 * them before any key is built (a.last; the map's own last hit would
 * need the key built first).
 */
static struct grp *
agg_group(struct gpu_agg *a, int64_t bucket, struct gpu_str node, int gpu,
	  int mig, struct gpu_str job, struct gpu_str user,
	  struct gpu_str project, struct gpu_str model, struct gpu_str profile,
	  int category)
{
	int32_t ints[3];
	struct gpu_str text[GPU_KT_N] = {node, job, user, project, model, profile};
	size_t i;
	bool created;
	struct grp *g;

	if (a->unkeyed > 0)
		key_groups(a);
	key_parts(a->q.dims, gpu, mig, category, ints, text);
	if (a->last.ok && same_as_last(a, bucket, ints, text))
		return &a->grps[a->last.i];
	group_key(&a->kb, bucket, ints, text);
	i = gpu_hashmap_put(&a->keys, a->kb.data, a->kb.len, &created);
	g = created ? new_grp(a, gpu_hashmap_key(&a->keys, i)) : &a->grps[i];
	remember(a, i, bucket, ints, text);
	return g;
}

bool
gpu_owner_later(int64_t ms, struct gpu_str name, int64_t cur_ms,
		const char *cur)
{
	size_t cl;
	int c;

	if (ms != cur_ms)
		return ms > cur_ms;
	cl = strlen(cur);
	c = name.len == 0 ? 0
			  : memcmp(name.p, cur, name.len < cl ? name.len : cl);
	return c > 0 || (c == 0 && name.len > cl);
}

/* Track the job owner: the latest sample carrying a user / project. */
static void
agg_owner(struct gpu_agg *a, struct grp *g, int64_t ms, struct gpu_str job,
	  struct gpu_str user, struct gpu_str project)
{
	if ((a->q.dims & GPU_DIM_JOB) == 0 || job.len == 0)
		return;
	if (user.len > 0 &&
	    gpu_owner_later(ms, user, g->user_ms, g->own_user)) {
		g->user_ms = ms;
		if (strlen(g->own_user) != user.len ||
		    memcmp(g->own_user, user.p, user.len) != 0)
			g->own_user = intern(a, user);
	}
	if (project.len > 0 &&
	    gpu_owner_later(ms, project, g->project_ms, g->own_project)) {
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
		      smp->has_mig ? smp->mig : -1, smp->job_id, smp->user,
		      smp->project, smp->model,
		      smp->has_mig ? smp->profile : cstr(""),
		      (int)gpu_usage_category(smp->util_pct));
	gpu_sums_add(&g->g.sums, smp, interval_s, a->q.threshold_mib);
	agg_owner(a, g, smp->ts_ms, smp->job_id, smp->user, smp->project);
}

void
gpu_agg_add_group(struct gpu_agg *a, const struct gpu_group *in,
		  const struct gpu_owner *own)
{
	struct gpu_str node = cstr(in->node), job = cstr(in->job_id);
	struct gpu_str user = cstr(in->user), project = cstr(in->project);
	struct grp *g = agg_group(a, in->bucket_ms, node, in->gpu, in->mig, job,
				  user, project, cstr(in->model),
				  cstr(in->profile), in->category);

	gpu_sums_merge(&g->g.sums, &in->sums);
	if (own->user.len > 0 &&
	    gpu_owner_later(own->user_ms, own->user, g->user_ms, g->own_user)) {
		g->user_ms = own->user_ms;
		g->own_user = intern(a, own->user);
	}
	if (own->project.len > 0 &&
	    gpu_owner_later(own->project_ms, own->project, g->project_ms,
			    g->own_project)) {
		g->project_ms = own->project_ms;
		g->own_project = intern(a, own->project);
	}
}

void
gpu_agg_reserve(struct gpu_agg *a, size_t n)
{
	if (n <= a->grps_cap)
		return;
	a->grps_cap = n;
	a->grps = gpu_xreallocarray(a->grps, a->grps_cap, sizeof(*a->grps));
}

/* A copy of text kept by a's pool, or "" (shared) when it is empty. */
static const char *
keep_text(struct gpu_agg *a, struct gpu_str text)
{
	return text.len > 0 ? gpu_strpool_add(&a->text, text.p, text.len) : "";
}

/* Key string k of in as the group keeps it: "" for a dim not grouped. */
static const char *
key_text(struct gpu_agg *a, const struct gpu_dgroup *in, enum gpu_key_text k)
{
	return (a->kept & (1u << k)) ? keep_text(a, in->text[k]) : "";
}

void
gpu_agg_add_distinct(struct gpu_agg *a, const struct gpu_dgroup *in,
		     const struct gpu_owner *own)
{
	unsigned d = a->q.dims;
	struct grp *g = next_grp(a);

	a->unkeyed++;
	/*
	 * No key is made: its strings are copied, the empty ones shared,
	 * each part as key_parts() would leave it.
	 */
	g->g.bucket_ms = in->bucket_ms;
	g->g.gpu = (d & GPU_DIM_GPU) ? in->gpu : -1;
	g->g.mig = (d & GPU_DIM_GPU) ? in->mig : -1;
	g->g.category = (d & GPU_DIM_CATEGORY) ? in->category : -1;
	g->g.node = key_text(a, in, GPU_KT_NODE);
	g->g.job_id = key_text(a, in, GPU_KT_JOB);
	g->g.user = key_text(a, in, GPU_KT_USER);
	g->g.project = key_text(a, in, GPU_KT_PROJECT);
	g->g.model = key_text(a, in, GPU_KT_MODEL);
	g->g.profile = key_text(a, in, GPU_KT_PROFILE);
	g->g.plain = in->plain & a->kept;
	g->g.sums = *in->sums; /* the same as merged into empty sums */
	/* Copied, not interned: a hash a name cost a tenth of a query. */
	if (own->user.len > 0) {
		g->user_ms = own->user_ms;
		g->own_user = keep_text(a, own->user);
	}
	if (own->project.len > 0) {
		g->project_ms = own->project_ms;
		g->own_project = keep_text(a, own->project);
	}
}

/*
 * Compare two groups of an aggregate by dims d in output order. Only the
 * keys of d are compared: the others are equal in every group (empty, or
 * with d holding the job, the job's owner, which follows from the job).
 */
static int
cmp_group(const struct gpu_group *x, const struct gpu_group *y, unsigned d)
{
	int c;

	if (x->bucket_ms != y->bucket_ms)
		return x->bucket_ms < y->bucket_ms ? -1 : 1;
	if ((d & (GPU_DIM_NODE | GPU_DIM_GPU)) &&
	    (c = strcmp(x->node, y->node)) != 0)
		return c;
	if (d & GPU_DIM_GPU) {
		if (x->gpu != y->gpu)
			return x->gpu < y->gpu ? -1 : 1;
		if (x->mig != y->mig)
			return x->mig < y->mig ? -1 : 1;
	}
	if ((d & GPU_DIM_JOB) && (c = strcmp(x->job_id, y->job_id)) != 0)
		return c;
	if ((d & GPU_DIM_USER) && (c = strcmp(x->user, y->user)) != 0)
		return c;
	if ((d & GPU_DIM_PROJECT) && (c = strcmp(x->project, y->project)) != 0)
		return c;
	if ((d & GPU_DIM_MODEL) && (c = strcmp(x->model, y->model)) != 0)
		return c;
	if ((d & GPU_DIM_PROFILE) && (c = strcmp(x->profile, y->profile)) != 0)
		return c;
	/* By utilization, as people read the classes, not by name. */
	return x->category < y->category ? -1 : x->category > y->category;
}

static int
cmp_grp_ptr(const void *x, const void *y)
{
	const struct grp *const *a = x;
	const struct grp *const *b = y;

	return cmp_group(&(*a)->g, &(*b)->g, (*a)->dims);
}

/* The owner of each (bucket, job): the latest over the job's groups. */
struct owner {
	int64_t user_ms, project_ms;
	const char *user, *project;
};

static void
fill_owners(struct gpu_agg *a)
{
	struct gpu_hashmap jobs;
	struct owner *own;
	size_t *jix;
	struct gpu_buf b;

	if ((a->q.dims & GPU_DIM_JOB) == 0)
		return;
	if (a->q.dims == GPU_DIM_JOB) {
		/* Each (bucket, job) is one group: the owner is its own. */
		for (size_t i = 0; i < a->ngrps; i++) {
			a->grps[i].g.user = a->grps[i].own_user;
			a->grps[i].g.project = a->grps[i].own_project;
		}
		return;
	}
	gpu_hashmap_init(&jobs);
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
		jix[i] = gpu_hashmap_put(&jobs, b.data, b.len + 1, &created);
		o = &own[jix[i]];
		if (created) {
			o->user_ms = o->project_ms = INT64_MIN;
			o->user = o->project = "";
		}
		if (*g->own_user != '\0' &&
		    gpu_owner_later(g->user_ms, cstr(g->own_user), o->user_ms,
				    o->user)) {
			o->user_ms = g->user_ms;
			o->user = g->own_user;
		}
		if (*g->own_project != '\0' &&
		    gpu_owner_later(g->project_ms, cstr(g->own_project),
				    o->project_ms, o->project)) {
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
	gpu_hashmap_release(&jobs);
	gpu_buf_release(&b);
}

/* A group to sort, with its first compared string's first 8 bytes. */
struct sort_key {
	int64_t bucket;
	uint64_t prefix; /* big-endian: ordered as strcmp() orders */
	struct grp *g;
};

static int
cmp_sort_key(const void *x, const void *y)
{
	const struct sort_key *a = *(const struct sort_key *const *)x;
	const struct sort_key *b = *(const struct sort_key *const *)y;

	if (a->bucket != b->bucket)
		return a->bucket < b->bucket ? -1 : 1;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	return cmp_group(&a->g->g, &b->g->g, a->g->dims);
}

/* The first string cmp_group() compares for dims d, or NULL. */
static const char *
first_text(const struct gpu_group *g, unsigned d)
{
	if (d & (GPU_DIM_NODE | GPU_DIM_GPU))
		return g->node;
	if (d & GPU_DIM_JOB)
		return g->job_id;
	if (d & GPU_DIM_USER)
		return g->user;
	if (d & GPU_DIM_PROJECT)
		return g->project;
	if (d & GPU_DIM_MODEL)
		return g->model;
	if (d & GPU_DIM_PROFILE)
		return g->profile;
	return NULL;
}

/*
 * Sort a->order as cmp_grp_ptr() orders, most comparisons made on two
 * integers: the bucket, and the first 8 bytes of the first string (as
 * job ids differ in them), the rest only when those are equal. A sort by
 * job took a tenth of a query by day and job, mostly in strcmp().
 */
static void
sort_groups(struct gpu_agg *a)
{
	struct sort_key *k = gpu_xcalloc(a->norder + 1, sizeof(*k));
	struct sort_key **kp = gpu_xcalloc(a->norder + 1, sizeof(*kp));

	for (size_t i = 0; i < a->norder; i++) {
		const char *t = first_text(&a->order[i]->g, a->q.dims);
		uint64_t p = 0;

		for (int j = 0; t != NULL && j < 8 && t[j] != '\0'; j++)
			p |= (uint64_t)(unsigned char)t[j] << (56 - 8 * j);
		k[i].bucket = a->order[i]->g.bucket_ms;
		k[i].prefix = p;
		k[i].g = a->order[i];
		kp[i] = &k[i];
	}
	/* Pointers: qsort() moves 8-byte elements the quick way. */
	qsort(kp, a->norder, sizeof(*kp), cmp_sort_key);
	for (size_t i = 0; i < a->norder; i++)
		a->order[i] = kp[i]->g;
	free(kp);
	free(k);
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
	/*
	 * Groups often come in order already (a warehouse's hour rows by
	 * node, its keys given in order of first appearance): a pass over
	 * neighbours is cheaper than the sort.
	 */
	for (size_t i = 1; i < a->norder; i++)
		if (cmp_grp_ptr(&a->order[i - 1], &a->order[i]) > 0) {
			sort_groups(a);
			break;
		}
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
