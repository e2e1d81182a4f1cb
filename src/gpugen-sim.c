/* SPDX-License-Identifier: MIT */
/* gpugen: random numbers, GPU models, and the Slurm-like job simulation. */
#include "gpugen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/diag.h"
#include "gpu/time.h"

#define PI 3.14159265358979323846
#define WARMUP_MS (INT64_C(7) * 86400 * 1000)
#define DAY_MS INT64_C(86400000)
/* Relative swing of the job arrival rate over the day (peak at 14:00). */
#define ARRIVAL_SWING 0.4

static const struct gen_model models[] = {
    {"a100-40", "NVIDIA A100-SXM4-40GB", 40960, 52.0, 400.0, true},
    {"a100-80", "NVIDIA A100-SXM4-80GB", 81920, 60.0, 400.0, true},
    {"h100", "NVIDIA H100 80GB HBM3", 81559, 70.0, 700.0, true},
    {"h200", "NVIDIA H200", 143771, 75.0, 700.0, true},
    {"v100", "Tesla V100-SXM2-32GB", 32768, 40.0, 300.0, false},
};

const char *const gen_users[GEN_NUSERS] = {
    "alice",  "bob",   "carol",	 "dave",  "erin",  "frank",   "grace",
    "heidi",  "ivan",  "judy",	 "karl",  "laura", "mallory", "niaj",
    "olivia", "peggy", "rupert", "sybil", "trent", "victor",
};

const char *const gen_projects[GEN_NPROJECTS] = {
    "proj-vision",   "proj-nlp",      "proj-climate",
    "proj-genomics", "proj-robotics", "proj-physics",
};

/* Each user's home project (index into gen_projects). */
static const int home_project[GEN_NUSERS] = {
    1, 0, 1, 2, 0, 3, 1, 4, 5, 0, 2, 1, 3, 0, 4, 5, 1, 2, 0, 3,
};

uint64_t
gen_mix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

double
gen_unit(uint64_t bits)
{
	return (double)(bits >> 11) * (1.0 / 9007199254740992.0);
}

void
gen_rng_seed(struct gen_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		seed += UINT64_C(0x9e3779b97f4a7c15);
		r->s[i] = gen_mix64(seed);
	}
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
gen_rng_next(struct gen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double
gen_rng_unit(struct gen_rng *r)
{
	return gen_unit(gen_rng_next(r));
}

const struct gen_model *
gen_model_find(const char *key, size_t len)
{
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (strlen(models[i].key) == len &&
		    memcmp(models[i].key, key, len) == 0)
			return &models[i];
	return NULL;
}

static double
normal(struct gen_rng *r)
{
	double u1 = 1.0 - gen_rng_unit(r); /* (0, 1] */
	double u2 = gen_rng_unit(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * PI * u2);
}

/* Seconds, lognormal around median, clipped to [lo, hi]. */
static int64_t
lognormal_s(struct gen_rng *r, double median, double sigma, double lo,
	    double hi)
{
	double v = median * exp(sigma * normal(r));

	if (v < lo)
		v = lo;
	if (v > hi)
		v = hi;
	return (int64_t)v;
}

static int
pick_gpus(struct gen_rng *r, int type, int gpn)
{
	double u = gen_rng_unit(r);
	int k;

	if (type == GEN_TRAIN)
		k = u < 0.25 ? 1 : u < 0.45 ? 2 : u < 0.70 ? 4 : 8;
	else if (type == GEN_INFER)
		k = u < 0.7 ? 1 : 2;
	else
		k = u < 0.8 ? 1 : 2;
	return k < gpn ? k : gpn;
}

/* A user drawn with Zipf-like weights 1/rank^1.1: a few heavy users. */
static int
pick_user(struct gen_sim *s)
{
	double u = gen_rng_unit(&s->rng);

	for (int i = 0; i < GEN_NUSERS - 1; i++)
		if (u < s->user_cum[i])
			return i;
	return GEN_NUSERS - 1;
}

/* Draw type, size and duration of a job; returns the duration in ms. */
static int64_t
draw_shape(struct gen_rng *r, int gpn, struct gen_job *j)
{
	double u = gen_rng_unit(r);
	int64_t secs;

	j->type = u < 0.40 ? GEN_TRAIN : u < 0.65 ? GEN_INFER : GEN_DEBUG;
	j->gpus = pick_gpus(r, j->type, gpn);
	if (j->type == GEN_TRAIN)
		secs = lognormal_s(r, 5 * 3600.0, 1.3, 600.0, 7 * 86400.0);
	else if (j->type == GEN_INFER)
		secs = lognormal_s(r, 10 * 3600.0, 1.0, 900.0, 5 * 86400.0);
	else
		secs = lognormal_s(r, 2400.0, 0.9, 120.0, 12 * 3600.0);
	return secs * 1000;
}

static void
draw_job(struct gen_sim *s, struct gen_job *j)
{
	struct gen_rng *r = &s->rng;

	j->user = pick_user(s);
	j->project = gen_rng_unit(r) < 0.85
			 ? home_project[j->user]
			 : (int)(gen_rng_next(r) % GEN_NPROJECTS);
	j->util_base = j->type == GEN_TRAIN ? 85.0 + 14.0 * gen_rng_unit(r)
					    : 40.0 + 50.0 * gen_rng_unit(r);
	/* Most training fills the GPU; fine-tuning small models does not. */
	if (j->type == GEN_TRAIN && gen_rng_unit(r) < 0.3)
		j->mem_frac = 0.06 + 0.30 * gen_rng_unit(r);
	else if (j->type == GEN_TRAIN)
		j->mem_frac = 0.55 + 0.42 * gen_rng_unit(r);
	else
		j->mem_frac = 0.20 + 0.40 * gen_rng_unit(r);
	j->mem_base_mib = 300 + (int)(gen_rng_next(r) % 7700);
	/* Slurm ids grow by one, with gaps left by CPU-only jobs. */
	s->next_id += 1 + (gen_rng_unit(r) < 0.3 ? gen_rng_next(r) % 4 : 0);
	j->id = s->next_id;
	j->id_len = 0;
	for (uint64_t v = j->id; v > 0; v /= 10)
		j->id_len++;
	uint64_t v = j->id;
	for (int i = j->id_len - 1; i >= 0; i--, v /= 10)
		j->id_str[i] = (char)('0' + v % 10);
	j->id_str[j->id_len] = '\0';
}

/* Mean GPU-milliseconds per job, estimated on a fixed-seed sample. */
static double
mean_job_load(int gpn)
{
	struct gen_rng r;
	struct gen_job j;
	double sum = 0;
	const int n = 8192;

	gen_rng_seed(&r, 12345);
	for (int i = 0; i < n; i++) {
		int64_t d = draw_shape(&r, gpn, &j);

		sum += (double)d * j.gpus;
	}
	return sum / n;
}

static int64_t
arrival_gap(struct gen_sim *s)
{
	double u = 1.0 - gen_rng_unit(&s->rng);
	double gap = -log(u) / (s->rate_per_ms * (1.0 + ARRIVAL_SWING));
	int64_t secs = (int64_t)ceil(gap / 1000.0);

	return (secs < 1 ? 1 : secs) * 1000;
}

static bool
accept_arrival(struct gen_sim *s, int64_t t)
{
	double hod = (double)(((t % DAY_MS) + DAY_MS) % DAY_MS) / 3600000.0;
	double rel = 1.0 + ARRIVAL_SWING * sin(2.0 * PI * (hod - 8.0) / 24.0);

	return gen_rng_unit(&s->rng) * (1.0 + ARRIVAL_SWING) < rel;
}

void
gen_sim_init(struct gen_sim *s, uint64_t seed, int nodes, int gpn, double load,
	     int64_t win_start, int64_t win_end)
{
	size_t ngpu = (size_t)nodes * (size_t)gpn;
	int64_t t0 = win_start - WARMUP_MS;
	double total = 0;

	memset(s, 0, sizeof(*s));
	gen_rng_seed(&s->rng, seed ^ UINT64_C(0x6a09e667f3bcc909));
	s->nodes = nodes;
	s->gpn = gpn;
	s->rate_per_ms = load * (double)ngpu / mean_job_load(gpn);
	if (s->rate_per_ms <= 0)
		s->rate_per_ms = 1e-12;
	if (t0 < GPU_TIME_MIN_MS)
		t0 = GPU_TIME_MIN_MS;
	t0 -= ((t0 % 1000) + 1000) % 1000;
	s->now_ms = t0;
	s->win_start = win_start;
	s->win_end = win_end;
	s->next_id = 1000000 + gen_rng_next(&s->rng) % 8000000;
	s->free_job = -1;
	for (int i = 0; i < GEN_NUSERS; i++) {
		total += 1.0 / pow(i + 1, 1.1);
		s->user_cum[i] = total;
	}
	for (int i = 0; i < GEN_NUSERS; i++)
		s->user_cum[i] /= total;
	s->gpu_job = gpu_xreallocarray(NULL, ngpu, sizeof(int));
	for (size_t i = 0; i < ngpu; i++)
		s->gpu_job[i] = -1;
	s->node_free = gpu_xreallocarray(NULL, (size_t)nodes, sizeof(int));
	for (int i = 0; i < nodes; i++)
		s->node_free[i] = gpn;
	s->free_count = gpu_xcalloc((size_t)gpn + 1, sizeof(int));
	s->free_count[gpn] = nodes;
	s->heap = gpu_xreallocarray(NULL, ngpu, sizeof(int));
	s->queue =
	    gpu_xreallocarray(NULL, (size_t)(16 + nodes / 2), sizeof(int));
	s->next_arrival = t0 + arrival_gap(s);
}

void
gen_sim_release(struct gen_sim *s)
{
	free(s->jobs);
	free(s->gpu_job);
	free(s->node_free);
	free(s->free_count);
	free(s->heap);
	free(s->queue);
	free(s->recs);
	memset(s, 0, sizeof(*s));
}

static int
job_new(struct gen_sim *s)
{
	int i = s->free_job;

	if (i >= 0) {
		s->free_job = s->jobs[i].next_free;
		return i;
	}
	s->jobs =
	    gpu_xreallocarray(s->jobs, (size_t)s->njobs + 1, sizeof(*s->jobs));
	return s->njobs++;
}

static void
job_drop(struct gen_sim *s, int i)
{
	s->jobs[i].next_free = s->free_job;
	s->free_job = i;
}

static int64_t
end_of(const struct gen_sim *s, int h)
{
	return s->jobs[s->heap[h]].end_ms;
}

static void
heap_swap(struct gen_sim *s, int a, int b)
{
	int t = s->heap[a];

	s->heap[a] = s->heap[b];
	s->heap[b] = t;
}

static void
heap_push(struct gen_sim *s, int job)
{
	int i = s->nheap++;

	s->heap[i] = job;
	while (i > 0 && end_of(s, (i - 1) / 2) > end_of(s, i)) {
		heap_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static int
heap_pop(struct gen_sim *s)
{
	int top = s->heap[0], i = 0;

	s->heap[0] = s->heap[--s->nheap];
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->nheap && end_of(s, l) < end_of(s, m))
			m = l;
		if (r < s->nheap && end_of(s, r) < end_of(s, m))
			m = r;
		if (m == i)
			break;
		heap_swap(s, i, m);
		i = m;
	}
	return top;
}

static void
set_node_free(struct gen_sim *s, int node, int nfree)
{
	s->free_count[s->node_free[node]]--;
	s->node_free[node] = nfree;
	s->free_count[nfree]++;
}

static void
record(struct gen_sim *s, const struct gen_job *j)
{
	struct gen_jobrec *r;

	if (j->start_ms >= s->win_end || j->end_ms <= s->win_start)
		return;
	if (s->nrecs == s->caprecs) {
		s->caprecs = s->caprecs == 0 ? 256 : 2 * s->caprecs;
		s->recs =
		    gpu_xreallocarray(s->recs, s->caprecs, sizeof(*s->recs));
	}
	r = &s->recs[s->nrecs++];
	r->id = j->id;
	r->start_ms = j->start_ms;
	r->end_ms = j->end_ms >= s->win_end ? -1 : j->end_ms;
	r->user = j->user;
	r->project = j->project;
	r->gpus = j->gpus;
}

/*
 * Start job ji at now on the node that fits it most tightly (like Slurm's
 * best fit), searching from a random node so that ties spread out.
 */
static bool
place(struct gen_sim *s, int ji, int64_t now, int64_t dur_ms)
{
	struct gen_job *j = &s->jobs[ji];
	int k = j->gpus, best = -1, left = k;
	bool fits = false;

	for (int f = k; f <= s->gpn && !fits; f++)
		fits = s->free_count[f] > 0;
	if (!fits)
		return false;
	int off = (int)(gen_rng_next(&s->rng) % (uint64_t)s->nodes);
	for (int n = 0; n < s->nodes; n++) {
		int node = (off + n) % s->nodes, f = s->node_free[node];

		if (f >= k && (best < 0 || f < s->node_free[best]))
			best = node;
		if (f == k)
			break;
	}
	int *g = &s->gpu_job[(size_t)best * (size_t)s->gpn];
	for (int i = 0; i < s->gpn && left > 0; i++)
		if (g[i] < 0) {
			g[i] = ji;
			left--;
		}
	set_node_free(s, best, s->node_free[best] - k);
	j->node = best;
	j->start_ms = now;
	j->end_ms = now + dur_ms;
	heap_push(s, ji);
	record(s, j);
	return true;
}

static void
try_queue(struct gen_sim *s, int64_t now)
{
	int kept = 0;

	for (int q = 0; q < s->nqueue; q++) {
		int ji = s->queue[q];
		struct gen_job *j = &s->jobs[ji];

		/* A queued job keeps its run time in end_ms until it starts. */
		if (!place(s, ji, now, j->end_ms))
			s->queue[kept++] = ji;
	}
	s->nqueue = kept;
}

static void
finish(struct gen_sim *s, int ji)
{
	struct gen_job *j = &s->jobs[ji];
	int *g = &s->gpu_job[(size_t)j->node * (size_t)s->gpn];

	for (int i = 0; i < s->gpn; i++)
		if (g[i] == ji)
			g[i] = -1;
	set_node_free(s, j->node, s->node_free[j->node] + j->gpus);
	job_drop(s, ji);
}

static void
submit(struct gen_sim *s, int64_t now)
{
	int ji = job_new(s);
	struct gen_job *j = &s->jobs[ji];
	int64_t dur = draw_shape(&s->rng, s->gpn, j);

	draw_job(s, j);
	if (place(s, ji, now, dur))
		return;
	if (s->nqueue < 16 + s->nodes / 2) {
		j->end_ms = dur;
		s->queue[s->nqueue++] = ji;
		return;
	}
	job_drop(s, ji); /* the queue is full: the user gives up */
}

void
gen_sim_advance(struct gen_sim *s, int64_t t)
{
	for (;;) {
		int64_t e = s->nheap > 0 ? end_of(s, 0) : INT64_MAX;
		int64_t a = s->next_arrival;

		if (e > t && a > t)
			break;
		if (e <= a) {
			finish(s, heap_pop(s));
			try_queue(s, e);
			continue;
		}
		if (accept_arrival(s, a))
			submit(s, a);
		s->next_arrival = a + arrival_gap(s);
	}
	s->now_ms = t;
}

const struct gen_job *
gen_sim_job(const struct gen_sim *s, int node, int gpu)
{
	int ji = s->gpu_job[(size_t)node * (size_t)s->gpn + (size_t)gpu];

	return ji < 0 ? NULL : &s->jobs[ji];
}

static int
cmp_rec(const void *a, const void *b)
{
	const struct gen_jobrec *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

void
gen_sim_sort_recs(struct gen_sim *s)
{
	if (s->nrecs > 1)
		qsort(s->recs, s->nrecs, sizeof(*s->recs), cmp_rec);
}
