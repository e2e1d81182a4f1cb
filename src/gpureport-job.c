/* SPDX-License-Identifier: MIT */
/* gpureport --job: one job's efficiency, as compact text. */
#include <stdlib.h>
#include <string.h>

#include "gpu/agg.h"
#include "gpu/num.h"
#include "gpu/query.h"
#include "gpu/time.h"
#include "gpureport.h"

/* One GPU of the job: its hours in output order (bucket, then keys). */
struct jgpu {
	const char *node;
	int gpu;
	const char *model;
	struct gpu_sums sums;
	size_t first; /* index of its first group */
};

static void
fmt_num(FILE *fp, double v)
{
	char num[GPU_NUM_FMT_MAX];

	if (gpu_num_fmt_double_str(v, num) > 0)
		fputs(num, fp);
	else
		fputs("?", fp);
}

static void
metric(FILE *fp, const struct gpu_sums *s, enum gpu_metric m)
{
	struct gpu_value v;

	gpu_metric_value(s, m, &v);
	if (v.kind == GPU_VAL_NULL)
		fputs("-", fp);
	else if (v.kind == GPU_VAL_INT)
		fprintf(fp, "%lld", (long long)v.i);
	else
		fmt_num(fp, v.d);
}

static double
util_pct(const struct gpu_sums *s)
{
	return s->alloc_seconds > 0 ? s->alloc_busy / (double)s->alloc_seconds
				    : 0;
}

static void
cents(FILE *fp, int64_t c)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	gpu_num_fmt_cents(&b, c);
	fputs(b.data, fp);
	gpu_buf_release(&b);
}

/* The GPUs of the job's groups g[0..n), in key order, into out. */
static size_t
job_gpus(const struct gpu_group *const *g, size_t n, struct jgpu *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < k; j++)
			if (out[j].gpu == g[i]->gpu &&
			    strcmp(out[j].node, g[i]->node) == 0 &&
			    strcmp(out[j].model, g[i]->model) == 0)
				break;
		if (j == k) {
			out[k].node = g[i]->node;
			out[k].gpu = g[i]->gpu;
			out[k].model = g[i]->model;
			out[k].first = i;
			gpu_sums_init(&out[k].sums);
			k++;
		}
		gpu_sums_merge(&out[j].sums, &g[i]->sums);
	}
	return k;
}

static int
cmp_jgpu(const void *x, const void *y)
{
	const struct jgpu *a = x, *b = y;
	int c = strcmp(a->node, b->node);

	if (c != 0)
		return c;
	if (a->gpu != b->gpu)
		return a->gpu < b->gpu ? -1 : 1;
	return strcmp(a->model, b->model);
}

/* The charge of the job: each model's allocated time, overage in all. */
static void
job_charge(const struct jgpu *gp, size_t k, const struct gpu_rates *r,
	   struct gpu_charge *c)
{
	struct gpu_str *models = gpu_xcalloc(k + 1, sizeof(*models));
	int64_t *parts = gpu_xcalloc(k + 1, sizeof(*parts));
	int64_t overage = 0;
	size_t n = 0;

	for (size_t i = 0; i < k; i++) {
		size_t j;

		for (j = 0; j < n; j++)
			if (strcmp(models[j].p, gp[i].model) == 0)
				break;
		if (j == n) {
			models[n].p = gp[i].model;
			models[n++].len = strlen(gp[i].model);
		}
		parts[j] += gp[i].sums.alloc_seconds;
		overage += gp[i].sums.overage;
	}
	gpu_charge_job(c, r, models, parts, n > 0 ? n : 1, overage);
	free(models);
	free(parts);
}

static void
findings(FILE *fp, const struct jgpu *gp, size_t k, const struct gpu_sums *t,
	 const struct report_job_limits *lim)
{
	size_t low = 0;
	int64_t peak = -1;
	double idle_share;

	fputs("findings:\n", fp);
	for (size_t i = 0; i < k; i++) {
		if (util_pct(&gp[i].sums) < lim->low_util_pct)
			low++;
		if (gp[i].sums.max_mem > peak)
			peak = gp[i].sums.max_mem;
	}
	if (low > 0) {
		fprintf(fp, "  - held %zu GPU%s, %zu stayed below ", k,
			k == 1 ? "" : "s", low);
		fmt_num(fp, lim->low_util_pct);
		fputs("% utilization\n", fp);
	}
	idle_share = t->alloc_seconds > 0 ? (double)t->idle_seconds /
						(double)t->alloc_seconds * 100
					  : 0;
	if (idle_share >= lim->idle_share_pct) {
		fputs("  - ", fp);
		fmt_num(fp, idle_share);
		fputs("% of the allocated GPU time was idle (below 5% "
		      "utilization)\n",
		      fp);
	}
	if (peak >= 0 && peak < lim->small_mem_mib) {
		fputs("  - peak memory ", fp);
		fmt_num(fp, (double)peak / 1024.0);
		fputs(" GiB, below ", fp);
		fmt_num(fp, (double)lim->small_mem_mib / 1024.0);
		fputs(" GiB: a smaller GPU or a MIG slice would do\n", fp);
	}
	if (low == 0 && idle_share < lim->idle_share_pct &&
	    !(peak >= 0 && peak < lim->small_mem_mib))
		fputs("  - none: the GPUs were used as allocated\n", fp);
}

static void
write_job(FILE *fp, const char *job, const struct gpu_group *const *g, size_t n,
	  const struct gpu_rates *r, const struct report_job_limits *lim)
{
	struct jgpu *gp = gpu_xcalloc(n + 1, sizeof(*gp));
	size_t k = job_gpus(g, n, gp), nodes = 0;
	struct gpu_sums t;
	struct gpu_charge c;
	char a[32], b[32];

	qsort(gp, k, sizeof(*gp), cmp_jgpu);
	gpu_sums_init(&t);
	for (size_t i = 0; i < k; i++) {
		gpu_sums_merge(&t, &gp[i].sums);
		if (i == 0 || strcmp(gp[i].node, gp[i - 1].node) != 0)
			nodes++;
	}
	gpu_time_fmt_iso(g[0]->bucket_ms, a);
	gpu_time_fmt_iso(gpu_period_next(GPU_PERIOD_HOUR, g[n - 1]->bucket_ms),
			 b);
	fprintf(fp, "job %s: user %s, project %s\n", job,
		*g[0]->user != '\0' ? g[0]->user : "-",
		*g[0]->project != '\0' ? g[0]->project : "-");
	fprintf(fp, "hours: %s to %s\n", a, b);
	fprintf(fp, "GPUs: %zu on %zu node%s\n", k, nodes,
		nodes == 1 ? "" : "s");
	fputs("allocated GPU-hours: ", fp);
	metric(fp, &t, GPU_M_ALLOC_GPU_HOURS);
	fputs("\nbusy GPU-hours: ", fp);
	metric(fp, &t, GPU_M_BUSY_GPU_HOURS);
	fputs("\nutilization while allocated: ", fp);
	metric(fp, &t, GPU_M_ALLOC_UTIL_PCT);
	fputs("%\nallocated but idle GPU-hours: ", fp);
	metric(fp, &t, GPU_M_IDLE_GPU_HOURS);
	fputs("\nenergy: ", fp);
	metric(fp, &t, GPU_M_ENERGY_KWH);
	fputs(" kWh\n", fp);
	job_charge(gp, k, r, &c);
	fputs("cost: GPU time ", fp);
	cents(fp, c.gpu_cents);
	fputs(" + memory overage ", fp);
	cents(fp, c.mem_cents);
	fputs(" + overhead ", fp);
	cents(fp, c.overhead_cents);
	fputs(" = ", fp);
	cents(fp, c.total_cents);
	fprintf(fp, " %s\n", r->currency);
	fputs("per GPU (utilization % by hour, memory peak):\n", fp);
	for (size_t i = 0; i < k; i++) {
		fprintf(fp, "  %s:%d %s util ", gp[i].node, gp[i].gpu,
			*gp[i].model != '\0' ? gp[i].model : "-");
		metric(fp, &gp[i].sums, GPU_M_ALLOC_UTIL_PCT);
		fputs("% [", fp);
		for (size_t j = 0; j < n; j++) {
			if (g[j]->gpu != gp[i].gpu ||
			    strcmp(g[j]->node, gp[i].node) != 0 ||
			    strcmp(g[j]->model, gp[i].model) != 0)
				continue;
			fputs(j == gp[i].first ? "" : " ", fp);
			fmt_num(fp, util_pct(&g[j]->sums));
		}
		fputs("] mem peak ", fp);
		metric(fp, &gp[i].sums, GPU_M_MAX_MEM_USED_MIB);
		fputs(" MiB\n", fp);
	}
	findings(fp, gp, k, &t, lim);
	free(gp);
}

int
report_job_text(sqlite3 *db, int64_t from_ms, int64_t to_ms, const char *job,
		const struct gpu_rates *r, const struct report_job_limits *lim,
		FILE *fp, struct gpu_err *err)
{
	struct gpu_agg_query q;
	struct gpu_agg *a = NULL;
	const struct gpu_group **g;
	size_t n = 0, count;

	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_HOUR;
	q.dims = GPU_DIM_JOB | GPU_DIM_GPU | GPU_DIM_MODEL;
	q.from_ms = from_ms;
	q.to_ms = to_ms;
	q.threshold_mib = gpu_rates_threshold_mib(r);
	if (gpu_query_run(db, &q, &a, err) != 0)
		return -1;
	count = gpu_agg_count(a);
	g = gpu_xcalloc(count + 1, sizeof(*g));
	for (size_t i = 0; i < count; i++)
		if (strcmp(gpu_agg_group(a, i)->job_id, job) == 0)
			g[n++] = gpu_agg_group(a, i);
	if (n == 0) {
		gpu_err_set(err, "no samples of job '%s' in the warehouse",
			    job);
		free(g);
		gpu_agg_free(a);
		return -1;
	}
	write_job(fp, job, g, n, r, lim);
	free(g);
	gpu_agg_free(a);
	return 0;
}
