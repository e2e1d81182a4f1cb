/* SPDX-License-Identifier: MIT */
/* gpubill's output: csv, json or table rows, or an invoice. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/money.h"
#include "gpu/num.h"
#include "gpu/writer.h"
#include "gpubill.h"

/* The period of the TOTAL row: the lines' one period, or FIRST/LAST. */
static void
total_period(const struct gpu_bill_report *rep, const struct opts *o, char *out,
	     size_t size)
{
	const char *first, *last;

	if (rep->nlines == 0) {
		snprintf(out, size, "%s",
			 o->mode == MODE_FIXED ? o->label : "all");
		return;
	}
	first = rep->lines[0].period;
	last = rep->lines[rep->nlines - 1].period;
	if (strcmp(first, last) == 0)
		snprintf(out, size, "%s", first);
	else
		snprintf(out, size, "%s/%s", first, last);
}

static void
put_str(struct gpu_writer *w, const char *s)
{
	gpu_writer_str(w, s, strlen(s));
}

static void
put_charge(struct gpu_writer *w, const struct gpu_charge *c,
	   const struct opts *o, const char *currency)
{
	gpu_writer_i64(w, c->alloc_seconds);
	gpu_writer_double(w, (double)c->alloc_seconds / 3600.0);
	gpu_writer_i64(w, c->overage);
	gpu_writer_double(w, (double)c->overage / (1024.0 * 3600.0));
	gpu_writer_cents(w, c->gpu_cents);
	gpu_writer_cents(w, c->mem_cents);
	gpu_writer_cents(w, c->overhead_cents);
	gpu_writer_cents(w, c->total_cents);
	put_str(w, currency);
	if (o->share_idle) {
		gpu_writer_cents(w, c->idle_cents);
		gpu_writer_cents(w, c->total_cents + c->idle_cents);
	}
}

/* Write the key columns of a line (or of the TOTAL row: line NULL). */
static void
put_keys(struct gpu_writer *w, const struct opts *o,
	 const struct gpu_bill_line *l)
{
	if (l == NULL) {
		put_str(w, "TOTAL");
		if (o->by == GPU_BILL_JOB && o->fmt == OUT_JSON) {
			gpu_writer_null(w);
			gpu_writer_null(w);
		} else if (o->by == GPU_BILL_JOB) {
			put_str(w, "");
			put_str(w, "");
		}
		return;
	}
	if (o->by == GPU_BILL_JOB) {
		put_str(w, l->job_id);
		put_str(w, l->user);
		put_str(w, l->project);
	} else {
		put_str(w, o->by == GPU_BILL_USER ? l->user : l->project);
	}
}

static size_t
columns(const struct opts *o, const char *cols[20])
{
	static const char *const money[] = {"alloc_gpu_seconds",
					    "alloc_gpu_hours",
					    "mem_overage_mib_seconds",
					    "mem_overage_gib_hours",
					    "gpu_charge",
					    "mem_charge",
					    "overhead",
					    "total",
					    "currency"};
	size_t n = 0, i;

	cols[n++] = "period";
	if (o->by == GPU_BILL_JOB) {
		cols[n++] = "job_id";
		cols[n++] = "user";
		cols[n++] = "project";
	} else {
		cols[n++] = o->by == GPU_BILL_USER ? "user" : "project";
	}
	for (i = 0; i < sizeof(money) / sizeof(money[0]); i++)
		cols[n++] = money[i];
	if (o->share_idle) {
		cols[n++] = "idle_share";
		cols[n++] = "total_with_idle";
	}
	return n;
}

int
bill_write_rows(const struct gpu_bill_report *rep, const struct opts *o,
		const struct gpu_rates *r)
{
	const char *cols[20];
	size_t ncols = columns(o, cols), i;
	enum gpu_ofmt f = o->fmt == OUT_TABLE  ? GPU_OUT_TABLE
			  : o->fmt == OUT_JSON ? GPU_OUT_JSON
					       : GPU_OUT_CSV;
	struct gpu_writer *w;
	char tp[200];
	int rc;

	if (o->fmt == OUT_JSON)
		fputs("{\"lines\": ", stdout);
	w = gpu_writer_new(stdout, f, cols, ncols);
	gpu_writer_csv_safe(w, o->csv_safe);
	for (i = 0; i < rep->nlines; i++) {
		put_str(w, rep->lines[i].period);
		put_keys(w, o, &rep->lines[i]);
		put_charge(w, &rep->lines[i].c, o, r->currency);
		gpu_writer_end_row(w);
	}
	total_period(rep, o, tp, sizeof(tp));
	if (o->fmt == OUT_JSON) {
		rc = gpu_writer_finish(w);
		gpu_writer_free(w);
		fputs(", \"total\": ", stdout);
		w = gpu_writer_new(stdout, GPU_OUT_JSONL, cols, ncols);
	}
	put_str(w, tp);
	put_keys(w, o, NULL);
	put_charge(w, &rep->total, o, r->currency);
	gpu_writer_end_row(w);
	rc = gpu_writer_finish(w);
	gpu_writer_free(w);
	if (o->fmt == OUT_JSON)
		fputs("}\n", stdout);
	return rc;
}

static void
money_text(char *out, size_t size, int64_t cents)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	gpu_num_fmt_cents(&b, cents);
	snprintf(out, size, "%s", b.data);
	gpu_buf_release(&b);
}

static void
rate_line(const char *what, int64_t micro, const char *unit,
	  enum gpu_rate_src src)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	gpu_num_fmt_micro(&b, micro);
	printf("  %-30s %s%s (%s)\n", what, b.data, unit,
	       gpu_rate_src_name(src));
	gpu_buf_release(&b);
}

/*
 * What the invoice prints before a name: "'" before one that a spreadsheet
 * would run as a formula (an invoice is often pasted into one), else "".
 */
static const char *
mark(const char *name)
{
	return gpu_csv_is_formula(name, strlen(name)) ? "'" : "";
}

void
bill_write_invoice(const struct gpu_bill_report *rep, const struct opts *o,
		   const struct gpu_rates *r)
{
	const char *who = o->user != NULL ? "User" : "Project";
	int64_t subtotal = rep->total.gpu_cents + rep->total.mem_cents;
	char a[40], b[40], c[40], d[40], name[160];
	size_t i;

	printf("INVOICE\n\n");
	printf("%-9s %s%s\n", who, mark(o->user != NULL ? o->user : o->project),
	       o->user != NULL ? o->user : o->project);
	if (o->mode == MODE_FIXED)
		printf("Period    %s (%s)\n", o->label, o->range_text);
	else
		printf("Period    %s\n",
		       rep->nlines > 0 ? rep->lines[0].period : "all");
	printf("Currency  %s\n\nRates used\n", r->currency);
	rate_line("GPU-hour", r->v[GPU_RATE_GPU], "", r->src[GPU_RATE_GPU]);
	for (i = 0; i < r->nmodels; i++) {
		snprintf(name, sizeof(name), "GPU-hour, %s",
			 r->models[i].model);
		rate_line(name, r->models[i].rate, "", GPU_SRC_FILE);
	}
	rate_line("memory overage GiB-hour", r->v[GPU_RATE_MEM], "",
		  r->src[GPU_RATE_MEM]);
	if (o->input == NULL)
		rate_line("memory threshold", r->v[GPU_RATE_THRESHOLD], " GiB",
			  r->src[GPU_RATE_THRESHOLD]);
	else
		printf("  %-30s as aggregated by gpuagg\n", "memory threshold");
	rate_line("overhead, fraction of subtotal", r->v[GPU_RATE_OVERHEAD], "",
		  r->src[GPU_RATE_OVERHEAD]);
	printf("\n%-20s %-12s %-9s %10s %10s %10s %10s %10s %10s\n", "Job",
	       o->user != NULL ? "Project" : "User", "Period", "GPU-hours",
	       "GiB-hours", "GPU", "Memory", "Overhead", "Total");
	for (i = 0; i < rep->nlines; i++) {
		const struct gpu_bill_line *l = &rep->lines[i];
		struct gpu_buf h, g;

		gpu_buf_init(&h);
		gpu_buf_init(&g);
		gpu_num_fmt_double(&h, (double)l->c.alloc_seconds / 3600.0);
		gpu_num_fmt_double(&g,
				   (double)l->c.overage / (1024.0 * 3600.0));
		money_text(a, sizeof(a), l->c.gpu_cents);
		money_text(b, sizeof(b), l->c.mem_cents);
		money_text(c, sizeof(c), l->c.overhead_cents);
		money_text(d, sizeof(d), l->c.total_cents);
		const char *owner = o->user != NULL ? l->project : l->user;

		printf("%s%-*s %s%-*s %-9s %10s %10s %10s %10s %10s %10s\n",
		       mark(l->job_id), 20 - (int)strlen(mark(l->job_id)),
		       l->job_id, mark(owner), 12 - (int)strlen(mark(owner)),
		       owner, l->period, h.data, g.data, a, b, c, d);
		gpu_buf_release(&h);
		gpu_buf_release(&g);
	}
	money_text(a, sizeof(a), subtotal);
	money_text(b, sizeof(b), rep->total.overhead_cents);
	money_text(c, sizeof(c), rep->total.total_cents);
	printf("\n%-40s %14s %s\n", "Subtotal (GPU + memory)", a, r->currency);
	printf("%-40s %14s %s\n", "Overhead", b, r->currency);
	printf("%-40s %14s %s\n", "Total", c, r->currency);
	if (o->share_idle) {
		money_text(d, sizeof(d), rep->total.idle_cents);
		printf("%-40s %14s %s\n", "Idle share", d, r->currency);
		money_text(d, sizeof(d),
			   rep->total.total_cents + rep->total.idle_cents);
		printf("%-40s %14s %s\n", "Total with idle share", d,
		       r->currency);
	}
}
