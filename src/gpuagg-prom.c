/* SPDX-License-Identifier: MIT */
/* gpuagg's Prometheus text exposition output (docs/FORMAT.md). */
#include <stdlib.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/hashmap.h"
#include "gpu/num.h"
#include "gpuagg.h"

/* An allocated GPU below this utilization (percent) in an hour is idle. */
#define IDLE_PCT 5.0

/*
 * One label set: its counters over everything, its gauges of the latest
 * hour it has groups in (hour_ms), and its label values (g: its texts
 * point into the series key the map keeps).
 */
struct series {
	struct gpu_group g;
	struct gpu_sums total;
	struct gpu_sums hour;
	int64_t hour_ms;
	gpu_i128 gpu_rate_s; /* allocated seconds x micro-units per hour */
	int64_t idle_gpus;
};

/* The series of the groups folded so far (struct prom, gpuagg.h). */
struct prom {
	unsigned k; /* the label mask */
	const struct gpu_rates *r;
	struct series *s;
	size_t n, cap;
	int64_t latest; /* the latest hour folded */
	struct gpu_hashmap map;
	struct gpu_buf key;
};

static const char *const label_names[] = {"node",  "gpu", "user",   "project",
					  "model", "mig", "profile"};
#define NLABELS 7

/* Which labels print (bits of label_names) for the --by dims. */
static unsigned
label_mask(unsigned dims)
{
	unsigned k = 0;

	if (dims & (GPU_DIM_NODE | GPU_DIM_GPU))
		k |= 1u;
	if (dims & GPU_DIM_GPU)
		k |= 2u | 32u;
	if (dims & GPU_DIM_PROFILE)
		k |= 64u;
	if (dims & GPU_DIM_USER)
		k |= 4u;
	if (dims & GPU_DIM_PROJECT)
		k |= 8u;
	if (dims & GPU_DIM_MODEL)
		k |= 16u;
	return k;
}

/* Label i's value of g into b (the gpu index as a number). */
static void
label_value(struct gpu_buf *b, const struct gpu_group *g, int i)
{
	const char *v[] = {g->node,  NULL, g->user,	 g->project,
			   g->model, NULL, g->profile};

	if (i == 1)
		gpu_num_fmt_i64(b, g->gpu);
	else if (i == 5 && g->mig >= 0)
		gpu_num_fmt_i64(b, g->mig);
	else if (i != 5)
		gpu_buf_adds(b, v[i]);
}

/* The series key of g: its label values, each ended by a NUL byte. */
static void
series_key(struct gpu_buf *b, const struct gpu_group *g, unsigned k)
{
	gpu_buf_reset(b);
	for (int i = 0; i < NLABELS; i++) {
		if ((k & (1u << i)) == 0)
			continue;
		label_value(b, g, i);
		gpu_buf_addc(b, '\0');
	}
}

static unsigned cmp_mask; /* the label mask while sorting (qsort has no ctx) */

static int
cmp_series(const void *x, const void *y)
{
	const struct gpu_group *a = &((const struct series *)x)->g;
	const struct gpu_group *b = &((const struct series *)y)->g;
	const char *va[] = {a->node,  "", a->user, a->project,
			    a->model, "", a->profile};
	const char *vb[] = {b->node,  "", b->user, b->project,
			    b->model, "", b->profile};
	int c;

	for (int i = 0; i < NLABELS; i++) {
		if ((cmp_mask & (1u << i)) == 0)
			continue;
		if (i == 1 && a->gpu != b->gpu)
			return a->gpu < b->gpu ? -1 : 1;
		if (i == 5 && a->mig != b->mig)
			return a->mig < b->mig ? -1 : 1;
		if ((c = strcmp(va[i], vb[i])) != 0)
			return c;
	}
	return 0;
}

/* A label value escaped as the exposition format requires. */
static void
escape_label(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", fp);
		else if (*s == '"')
			fputs("\\\"", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

static void
write_labels(FILE *fp, const struct gpu_group *g, unsigned k)
{
	struct gpu_buf b;
	const char *sep = "{";

	if (k == 0)
		return;
	gpu_buf_init(&b);
	for (int i = 0; i < NLABELS; i++) {
		if ((k & (1u << i)) == 0)
			continue;
		gpu_buf_reset(&b);
		label_value(&b, g, i);
		/* A whole GPU has no mig label (Prometheus: empty is absent). */
		if (i == 5 && b.len == 0)
			continue;
		fprintf(fp, "%s%s=\"", sep, label_names[i]);
		escape_label(fp, b.data);
		fputc('"', fp);
		sep = ",";
	}
	fputc('}', fp);
	gpu_buf_release(&b);
}

/* The metrics, in output order. */
enum pmetric {
	P_GPU_SECONDS,
	P_ALLOC_SECONDS,
	P_BUSY_SECONDS,
	P_ENERGY,
	P_COST,
	P_UTIL,
	P_IDLE_GPUS,
	P_COUNT
};

static const struct {
	const char *name, *type, *help;
} pmetrics[P_COUNT] = {
    {"gpuusage_gpu_seconds_total", "counter",
     "GPU-seconds sampled (each sample counts its interval)."},
    {"gpuusage_alloc_gpu_seconds_total", "counter",
     "GPU-seconds sampled while the GPU was allocated to a job."},
    {"gpuusage_busy_gpu_seconds_total", "counter",
     "GPU-seconds weighted by utilization (utilization percent / 100)."},
    {"gpuusage_energy_joules_total", "counter",
     "Energy drawn by the GPUs, in joules, from samples with power."},
    {"gpuusage_cost_cents_total", "counter",
     "Cost of the allocated time at the rate card, in cents of its "
     "currency: GPU time, memory overage and overhead."},
    {"gpuusage_utilization_ratio", "gauge",
     "Average GPU utilization (0 to 1) in the latest hour with samples."},
    {"gpuusage_idle_allocated_gpus", "gauge",
     "GPUs allocated in the latest hour with samples whose utilization "
     "while allocated averaged below 5%."},
};

/*
 * The cost of s in cents, rounded once for the series (gpubill rounds each
 * billing line): GPU time at each model's rate, memory overage, overhead.
 * Each part grows with the sums, so the counter never decreases.
 */
static int64_t
series_cents(const struct series *s, const struct gpu_rates *r)
{
	int64_t gpu = gpu_num_div_round(s->gpu_rate_s, INT64_C(3600) * 10000);
	int64_t mem = gpu_money_mem_cents(s->total.overage, r->v[GPU_RATE_MEM]);

	return gpu + mem +
	       gpu_money_overhead_cents(gpu + mem, r->v[GPU_RATE_OVERHEAD]);
}

/*
 * The value of metric m for s as text into out; false: none. in_hour: s
 * has groups in the latest hour.
 */
static bool
series_value(const struct series *s, bool in_hour, enum pmetric m,
	     const struct gpu_rates *r, char out[GPU_NUM_FMT_MAX])
{
	switch (m) {
	case P_GPU_SECONDS:
		return gpu_num_fmt_i64_str(s->total.gpu_seconds, out) > 0;
	case P_ALLOC_SECONDS:
		return gpu_num_fmt_i64_str(s->total.alloc_seconds, out) > 0;
	case P_BUSY_SECONDS:
		return gpu_num_fmt_double_str(s->total.busy / 100.0, out) > 0;
	case P_ENERGY:
		return gpu_num_fmt_double_str(s->total.power_s, out) > 0;
	case P_COST:
		return gpu_num_fmt_i64_str(series_cents(s, r), out) > 0;
	case P_UTIL:
		if (!in_hour || s->hour.gpu_seconds <= 0)
			return false;
		return gpu_num_fmt_double_str(s->hour.busy / 100.0 /
						  (double)s->hour.gpu_seconds,
					      out) > 0;
	case P_IDLE_GPUS:
		if (!in_hour)
			return false;
		return gpu_num_fmt_i64_str(s->idle_gpus, out) > 0;
	case P_COUNT:
		break;
	}
	return false;
}

/* Is the GPU group g allocated and idle while allocated? */
static bool
idle_allocated(const struct gpu_group *g)
{
	return g->sums.alloc_seconds > 0 &&
	       g->sums.alloc_busy < IDLE_PCT * (double)g->sums.alloc_seconds;
}

struct prom *
prom_new(unsigned dims, const struct gpu_rates *r)
{
	struct prom *p = gpu_xcalloc(1, sizeof(*p));

	p->k = label_mask(dims);
	p->r = r;
	p->latest = INT64_MIN;
	gpu_hashmap_init(&p->map);
	gpu_buf_init(&p->key);
	return p;
}

void
prom_free(struct prom *p)
{
	if (p == NULL)
		return;
	free(p->s);
	gpu_hashmap_release(&p->map);
	gpu_buf_release(&p->key);
	free(p);
}

/*
 * Point g's label texts at key, a series key (each label of mask k,
 * NUL-ended, in label order); the labels off the mask are empty.
 */
static void
texts_from_key(struct gpu_group *g, const char *key, unsigned k)
{
	const char **text[NLABELS] = {&g->node,	 NULL, &g->user,   &g->project,
				      &g->model, NULL, &g->profile};

	for (int i = 0; i < NLABELS; i++) {
		bool on = (k & (1u << i)) != 0;

		if (text[i] != NULL)
			*text[i] = on ? key : "";
		if (on)
			key += strlen(key) + 1;
	}
}

/*
 * A new series labelled as g. key: its series key as the map keeps it,
 * which its label texts point into.
 */
static struct series *
new_series(struct prom *p, const struct gpu_group *g, const char *key)
{
	struct series *s;

	if (p->n == p->cap) {
		p->cap = p->cap == 0 ? 64 : p->cap * 2;
		p->s = gpu_xreallocarray(p->s, p->cap, sizeof(*p->s));
	}
	s = &p->s[p->n++];
	memset(s, 0, sizeof(*s));
	texts_from_key(&s->g, key, p->k);
	s->g.gpu = g->gpu;
	s->g.mig = g->mig;
	s->g.job_id = "";
	gpu_sums_init(&s->total);
	gpu_sums_init(&s->hour);
	s->hour_ms = INT64_MIN;
	return s;
}

/* The series of g, new when its labels have none yet. */
static struct series *
series_of(struct prom *p, const struct gpu_group *g)
{
	bool added;
	size_t e;

	series_key(&p->key, g, p->k);
	e = gpu_hashmap_put(&p->map, p->key.data, p->key.len, &added);
	return added ? new_series(p, g, gpu_hashmap_key(&p->map, e)) : &p->s[e];
}

void
prom_add_totals(struct prom *p, const struct gpu_agg *a)
{
	size_t count = gpu_agg_count(a);

	for (size_t i = 0; i < count; i++) {
		const struct gpu_group *g = gpu_agg_group(a, i);
		struct series *s = series_of(p, g);

		gpu_sums_merge(&s->total, &g->sums);
		s->gpu_rate_s +=
		    (gpu_i128)g->sums.alloc_seconds *
		    gpu_rates_gpu_rate(p->r, g->model, strlen(g->model));
	}
}

void
prom_add_hour(struct prom *p, const struct gpu_agg *a)
{
	size_t count = gpu_agg_count(a);

	for (size_t i = 0; i < count; i++) {
		const struct gpu_group *g = gpu_agg_group(a, i);
		struct series *s = series_of(p, g);

		if (g->bucket_ms < s->hour_ms)
			continue; /* not its latest hour */
		if (g->bucket_ms > s->hour_ms) {
			s->hour_ms = g->bucket_ms;
			gpu_sums_init(&s->hour);
			s->idle_gpus = 0;
		}
		if (g->bucket_ms > p->latest)
			p->latest = g->bucket_ms;
		gpu_sums_merge(&s->hour, &g->sums);
		if (idle_allocated(g))
			s->idle_gpus++;
	}
}

int64_t
prom_latest_ms(const struct prom *p)
{
	int64_t latest = INT64_MIN;

	for (size_t i = 0; i < p->n; i++)
		if (p->s[i].total.last_ms > latest)
			latest = p->s[i].total.last_ms;
	return latest;
}

int
prom_write(struct prom *p, FILE *fp)
{
	cmp_mask = p->k;
	if (p->n > 0)
		qsort(p->s, p->n, sizeof(*p->s), cmp_series);
	for (int m = 0; m < P_COUNT; m++) {
		fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", pmetrics[m].name,
			pmetrics[m].help, pmetrics[m].name, pmetrics[m].type);
		for (size_t i = 0; i < p->n; i++) {
			const struct series *s = &p->s[i];
			char num[GPU_NUM_FMT_MAX];

			if (!series_value(s, s->hour_ms == p->latest,
					  (enum pmetric)m, p->r, num))
				continue;
			fputs(pmetrics[m].name, fp);
			write_labels(fp, &s->g, p->k);
			fprintf(fp, " %s\n", num);
		}
	}
	return ferror(fp) ? -1 : 0;
}
