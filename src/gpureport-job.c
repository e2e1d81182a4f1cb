/* SPDX-License-Identifier: MIT */
/* gpureport --job: one job's efficiency, as compact text or a page. */
#include <stdbool.h>
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
	int mig;	     /* MIG instance, -1: the whole GPU */
	const char *profile; /* its MIG profile, "" for a whole GPU */
	const char *model;
	struct gpu_sums sums;
	size_t first; /* index of its first group */
};

/* A MIG slice's instance and profile after its GPU ("/mig2 3g.40gb"). */
static void
mig_suffix(FILE *fp, const struct jgpu *g)
{
	if (g->mig >= 0)
		fprintf(fp, "/mig%d %s", g->mig, g->profile);
}

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
			if (out[j].gpu == g[i]->gpu && out[j].mig == g[i]->mig &&
			    strcmp(out[j].node, g[i]->node) == 0 &&
			    strcmp(out[j].model, g[i]->model) == 0 &&
			    strcmp(out[j].profile, g[i]->profile) == 0)
				break;
		if (j == k) {
			out[k].node = g[i]->node;
			out[k].gpu = g[i]->gpu;
			out[k].mig = g[i]->mig;
			out[k].profile = g[i]->profile;
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

/*
 * The charge of the job: the allocated time of each model (and MIG
 * profile, priced as gpubill prices it), overage in all.
 */
static void
job_charge(const struct jgpu *gp, size_t k, const struct gpu_rates *r,
	   struct gpu_charge *c)
{
	struct gpu_bill_part *parts = gpu_xcalloc(k + 1, sizeof(*parts));
	int64_t overage = 0;
	size_t n = 0;

	for (size_t i = 0; i < k; i++) {
		struct gpu_str model = {gp[i].model, strlen(gp[i].model)};
		struct gpu_str prof = {gp[i].profile, strlen(gp[i].profile)};
		int share = 0;
		size_t j;

		/* As gpubill: a slice as large as its GPU keeps its profile. */
		if (prof.len > 0 && gpu_mig_share(prof, model, &share) != 0)
			prof.len = 0, share = 0;
		if (share == GPU_SHARE_WHOLE)
			share = 0;
		for (j = 0; j < n; j++)
			if (strcmp(parts[j].model.p, gp[i].model) == 0 &&
			    parts[j].profile.len == prof.len &&
			    strncmp(parts[j].profile.p, prof.p, prof.len) == 0)
				break;
		if (j == n) {
			parts[n].model = model;
			parts[n].profile = prof;
			parts[n++].share28 = share;
		}
		parts[j].seconds += gp[i].sums.alloc_seconds;
		overage += gp[i].sums.overage;
	}
	gpu_charge_parts(c, r, parts, n, overage);
	free(parts);
}

/* Item markup of the findings: text ("  - ", "\n") or HTML. */
struct marks {
	const char *pre, *post;
};

static void
findings(FILE *fp, const struct jgpu *gp, size_t k, const struct gpu_sums *t,
	 const struct report_job_limits *lim, const struct marks *mk)
{
	size_t low = 0;
	int64_t peak = -1;
	double idle_share;
	bool small_mem;

	for (size_t i = 0; i < k; i++) {
		if (util_pct(&gp[i].sums) < lim->low_util_pct)
			low++;
		if (gp[i].sums.max_mem > peak)
			peak = gp[i].sums.max_mem;
	}
	if (low > 0) {
		fprintf(fp, "%sheld %zu GPU%s, %zu stayed below ", mk->pre, k,
			k == 1 ? "" : "s", low);
		fmt_num(fp, lim->low_util_pct);
		fprintf(fp, "%% utilization%s", mk->post);
	}
	idle_share = t->alloc_seconds > 0 ? (double)t->idle_seconds /
						(double)t->alloc_seconds * 100
					  : 0;
	if (idle_share >= lim->idle_share_pct) {
		fputs(mk->pre, fp);
		fmt_num(fp, idle_share);
		fprintf(fp,
			"%% of the allocated GPU time was idle (below 5%% "
			"utilization)%s",
			mk->post);
	}
	small_mem = peak >= 0 && (double)peak / 1024.0 < lim->small_mem_gb;
	if (small_mem) {
		fprintf(fp, "%speak memory ", mk->pre);
		fmt_num(fp, (double)peak / 1024.0);
		fputs(" GiB, below ", fp);
		fmt_num(fp, lim->small_mem_gb);
		fprintf(fp, " GiB: a smaller GPU or a MIG slice would do%s",
			mk->post);
	}
	if (low == 0 && idle_share < lim->idle_share_pct && !small_mem)
		fprintf(fp, "%snone: the GPUs were used as allocated%s",
			mk->pre, mk->post);
}

/* A job's figures, for either form. */
struct jview {
	const char *job;
	const struct gpu_group *const *g; /* its hour groups, by bucket */
	size_t n;
	struct jgpu *gp; /* its GPUs, in key order */
	size_t k, nodes;
	struct gpu_sums t;
	struct gpu_charge c;
	char from[32], to[32];
};

static void
view_init(struct jview *v, const char *job, const struct gpu_group *const *g,
	  size_t n, const struct gpu_rates *r)
{
	v->job = job;
	v->g = g;
	v->n = n;
	v->gp = gpu_xcalloc(n + 1, sizeof(*v->gp));
	v->k = job_gpus(g, n, v->gp);
	v->nodes = 0;
	if (v->k > 0)
		qsort(v->gp, v->k, sizeof(*v->gp), cmp_jgpu);
	gpu_sums_init(&v->t);
	for (size_t i = 0; i < v->k; i++) {
		gpu_sums_merge(&v->t, &v->gp[i].sums);
		if (i == 0 || strcmp(v->gp[i].node, v->gp[i - 1].node) != 0)
			v->nodes++;
	}
	job_charge(v->gp, v->k, r, &v->c);
	gpu_time_fmt_iso(g[0]->bucket_ms, v->from);
	gpu_time_fmt_iso(gpu_period_next(GPU_PERIOD_HOUR, g[n - 1]->bucket_ms),
			 v->to);
}

/* Is hour group h one of GPU gp's? */
static bool
of_gpu(const struct gpu_group *h, const struct jgpu *gp)
{
	return h->gpu == gp->gpu && h->mig == gp->mig &&
	       strcmp(h->node, gp->node) == 0 &&
	       strcmp(h->model, gp->model) == 0 &&
	       strcmp(h->profile, gp->profile) == 0;
}

static void
write_text(FILE *fp, const struct jview *v, const struct gpu_rates *r,
	   const struct report_job_limits *lim)
{
	static const struct marks mk = {"  - ", "\n"};
	const struct gpu_group *const *g = v->g;
	const struct jgpu *gp = v->gp;
	const struct gpu_sums t = v->t;
	const struct gpu_charge c = v->c;
	size_t n = v->n, k = v->k, nodes = v->nodes;

	fprintf(fp, "job %s: user %s, project %s\n", v->job,
		*g[0]->user != '\0' ? g[0]->user : "-",
		*g[0]->project != '\0' ? g[0]->project : "-");
	fprintf(fp, "hours: %s to %s\n", v->from, v->to);
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
		fprintf(fp, "  %s:%d", gp[i].node, gp[i].gpu);
		mig_suffix(fp, &gp[i]);
		fprintf(fp, " %s util ",
			*gp[i].model != '\0' ? gp[i].model : "-");
		metric(fp, &gp[i].sums, GPU_M_ALLOC_UTIL_PCT);
		fputs("% [", fp);
		for (size_t j = 0; j < n; j++) {
			if (!of_gpu(g[j], &gp[i]))
				continue;
			fputs(j == gp[i].first ? "" : " ", fp);
			fmt_num(fp, util_pct(&g[j]->sums));
		}
		fputs("] mem peak ", fp);
		metric(fp, &gp[i].sums, GPU_M_MAX_MEM_USED_MIB);
		fputs(" MiB\n", fp);
	}
	fputs("findings:\n", fp);
	findings(fp, gp, k, &t, lim, &mk);
}

/* Text as HTML element content or attribute value. */
static void
html(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '<')
			fputs("&lt;", fp);
		else if (*s == '>')
			fputs("&gt;", fp);
		else if (*s == '&')
			fputs("&amp;", fp);
		else if (*s == '"')
			fputs("&quot;", fp);
		else
			fputc(*s, fp);
	}
}

/* One figure: a table row whose value cell carries id and data-value. */
static void
html_row(FILE *fp, const char *label, const char *id, const struct gpu_sums *s,
	 enum gpu_metric m, const char *unit)
{
	fprintf(fp, "<tr><th>%s</th><td id=\"%s\" data-value=\"", label, id);
	metric(fp, s, m);
	fputs("\">", fp);
	metric(fp, s, m);
	fprintf(fp, "%s</td></tr>\n", unit);
}

/* Chart geometry: one column per hour, utilization 0-100% upwards. */
#define CH_W 640
#define CH_H 200

/* Each GPU's utilization by hour as an SVG line chart, one line per GPU. */
static void
html_chart(FILE *fp, const struct jview *v)
{
	int64_t h0 = v->g[0]->bucket_ms, h1 = v->g[v->n - 1]->bucket_ms;
	double span = h1 > h0 ? (double)(h1 - h0) : 1;

	fprintf(fp,
		"<svg id=\"chart-util\" viewBox=\"-40 -10 %d %d\" "
		"width=\"%d\" height=\"%d\" role=\"img\" "
		"aria-label=\"utilization per GPU by hour\">\n",
		CH_W + 60, CH_H + 40, CH_W + 60, CH_H + 40);
	for (int p = 0; p <= 100; p += 25)
		fprintf(fp,
			"<line x1=\"0\" x2=\"%d\" y1=\"%d\" y2=\"%d\" "
			"class=\"grid\"/><text x=\"-6\" y=\"%d\" "
			"text-anchor=\"end\">%d%%</text>\n",
			CH_W, CH_H - p * CH_H / 100, CH_H - p * CH_H / 100,
			CH_H - p * CH_H / 100 + 4, p);
	for (size_t i = 0; i < v->k; i++) {
		fprintf(fp, "<polyline class=\"gpu c%zu\" data-gpu=\"", i % 8);
		html(fp, v->gp[i].node);
		fprintf(fp, ":%d", v->gp[i].gpu);
		mig_suffix(fp, &v->gp[i]);
		fputs("\" data-util=\"", fp);
		for (size_t j = 0, first = 1; j < v->n; j++) {
			if (!of_gpu(v->g[j], &v->gp[i]))
				continue;
			fputs(first ? "" : " ", fp);
			fmt_num(fp, util_pct(&v->g[j]->sums));
			first = 0;
		}
		fputs("\" points=\"", fp);
		for (size_t j = 0, first = 1; j < v->n; j++) {
			if (!of_gpu(v->g[j], &v->gp[i]))
				continue;
			fprintf(fp, "%s%.1f,%.1f", first ? "" : " ",
				(double)(v->g[j]->bucket_ms - h0) / span * CH_W,
				CH_H - util_pct(&v->g[j]->sums) * CH_H / 100);
			first = 0;
		}
		fputs("\"><title>", fp);
		html(fp, v->gp[i].node);
		fprintf(fp, ":%d", v->gp[i].gpu);
		mig_suffix(fp, &v->gp[i]);
		fputs("</title></polyline>\n", fp);
	}
	fprintf(fp,
		"<text x=\"0\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" "
		"text-anchor=\"end\">%s</text>\n</svg>\n",
		CH_H + 20, v->from, CH_W, CH_H + 20, v->to);
}

static void
write_html(FILE *fp, const struct jview *v, const struct gpu_rates *r,
	   const struct report_job_limits *lim)
{
	static const struct marks mk = {"<li>", "</li>\n"};
	const struct gpu_group *g0 = v->g[0];

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
	      "charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-"
	      "Policy\" content=\"default-src 'none'; style-src "
	      "'unsafe-inline'\">\n<title>Job ",
	      fp);
	html(fp, v->job);
	fputs("</title>\n<style>body{font:14px system-ui,sans-serif;margin:"
	      "2em}th{text-align:left;padding-right:1em}td{text-align:right}"
	      "svg text{font-size:11px}.grid{stroke:#ddd}polyline{fill:none;"
	      "stroke-width:2}.c0{stroke:#1f77b4}.c1{stroke:#ff7f0e}.c2{"
	      "stroke:#2ca02c}.c3{stroke:#d62728}.c4{stroke:#9467bd}.c5{"
	      "stroke:#8c564b}.c6{stroke:#e377c2}.c7{stroke:#7f7f7f}</style>\n"
	      "</head>\n<body>\n<h1>Job <span id=\"job\">",
	      fp);
	html(fp, v->job);
	fputs("</span></h1>\n<p>User <span id=\"user\">", fp);
	html(fp, *g0->user != '\0' ? g0->user : "-");
	fputs("</span>, project <span id=\"project\">", fp);
	html(fp, *g0->project != '\0' ? g0->project : "-");
	fprintf(fp, "</span>; hours %s to %s (UTC).</p>\n<table>\n", v->from,
		v->to);
	fprintf(fp,
		"<tr><th>GPUs</th><td id=\"gpus\" data-value=\"%zu\">%zu on "
		"%zu node%s</td></tr>\n",
		v->k, v->k, v->nodes, v->nodes == 1 ? "" : "s");
	html_row(fp, "Allocated GPU-hours", "alloc-gpu-hours", &v->t,
		 GPU_M_ALLOC_GPU_HOURS, "");
	html_row(fp, "Busy GPU-hours", "busy-gpu-hours", &v->t,
		 GPU_M_BUSY_GPU_HOURS, "");
	html_row(fp, "Utilization while allocated", "alloc-util", &v->t,
		 GPU_M_ALLOC_UTIL_PCT, "%");
	html_row(fp, "Allocated but idle GPU-hours", "idle-gpu-hours", &v->t,
		 GPU_M_IDLE_GPU_HOURS, "");
	html_row(fp, "Energy", "energy-kwh", &v->t, GPU_M_ENERGY_KWH, " kWh");
	fputs("<tr><th>Cost</th><td id=\"cost\" data-value=\"", fp);
	cents(fp, v->c.total_cents);
	fputs("\">GPU time ", fp);
	cents(fp, v->c.gpu_cents);
	fputs(" + memory overage ", fp);
	cents(fp, v->c.mem_cents);
	fputs(" + overhead ", fp);
	cents(fp, v->c.overhead_cents);
	fputs(" = ", fp);
	cents(fp, v->c.total_cents);
	fputs(" ", fp);
	html(fp, r->currency);
	fputs("</td></tr>\n</table>\n<h2>Utilization per GPU by hour</h2>\n",
	      fp);
	html_chart(fp, v);
	fputs("<h2>GPUs</h2>\n<table id=\"gpus-table\">\n<tr><th>GPU</th>"
	      "<th>Model</th><th>Utilization</th><th>Memory peak (MiB)</th>"
	      "</tr>\n",
	      fp);
	for (size_t i = 0; i < v->k; i++) {
		fputs("<tr><th>", fp);
		html(fp, v->gp[i].node);
		fprintf(fp, ":%d", v->gp[i].gpu);
		mig_suffix(fp, &v->gp[i]);
		fputs("</th><td>", fp);
		html(fp, *v->gp[i].model != '\0' ? v->gp[i].model : "-");
		fputs("</td><td>", fp);
		metric(fp, &v->gp[i].sums, GPU_M_ALLOC_UTIL_PCT);
		fputs("%</td><td class=\"mem-peak\">", fp);
		metric(fp, &v->gp[i].sums, GPU_M_MAX_MEM_USED_MIB);
		fputs("</td></tr>\n", fp);
	}
	fputs("</table>\n<h2>Findings</h2>\n<ul id=\"findings\">\n", fp);
	findings(fp, v->gp, v->k, &v->t, lim, &mk);
	fputs("</ul>\n</body>\n</html>\n", fp);
}

int
report_job(sqlite3 *db, int64_t from_ms, int64_t to_ms, const char *job,
	   const struct gpu_rates *r, const struct report_job_limits *lim,
	   bool as_html, FILE *fp, struct gpu_err *err)
{
	struct jview v;
	struct gpu_agg_query q;
	struct gpu_agg *a = NULL;
	const struct gpu_group **g;
	size_t n = 0, count;

	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_HOUR;
	q.dims = GPU_DIM_JOB | GPU_DIM_GPU | GPU_DIM_MODEL | GPU_DIM_PROFILE;
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
	view_init(&v, job, g, n, r);
	if (as_html)
		write_html(fp, &v, r, lim);
	else
		write_text(fp, &v, r, lim);
	free(v.gp);
	free(g);
	gpu_agg_free(a);
	return 0;
}
