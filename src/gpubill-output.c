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
	const struct gpu_value v[] = {
	    {GPU_VAL_INT, c->alloc_seconds, 0},
	    {GPU_VAL_DOUBLE, 0, gpu_charge_gpu_hours(c)},
	    {GPU_VAL_INT, c->overage, 0},
	    {GPU_VAL_DOUBLE, 0, (double)c->overage / (1024.0 * 3600.0)},
	    {GPU_VAL_CENTS, c->gpu_cents, 0},
	    {GPU_VAL_CENTS, c->mem_cents, 0},
	    {GPU_VAL_CENTS, c->overhead_cents, 0},
	    {GPU_VAL_CENTS, c->total_cents, 0},
	};
	const struct gpu_value idle[] = {
	    {GPU_VAL_CENTS, c->idle_cents, 0},
	    {GPU_VAL_CENTS, c->total_cents + c->idle_cents, 0},
	};

	gpu_writer_values(w, v, sizeof(v) / sizeof(v[0]));
	put_str(w, currency);
	if (o->share_idle)
		gpu_writer_values(w, idle, sizeof(idle) / sizeof(idle[0]));
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
rate_line(int wid, const char *what, int64_t micro, const char *unit,
	  enum gpu_rate_src src)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	gpu_num_fmt_micro(&b, micro);
	printf("  %-*s %s%s (%s)\n", wid, what, b.data, unit,
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

/* The width of s, or min when s is narrower. */
static int
text_width(int min, const char *s)
{
	int n = (int)strlen(s);

	return n > min ? n : min;
}

/* The width of a name with its mark, or min when narrower. */
static int
marked_width(int min, const char *s)
{
	int n = (int)(strlen(mark(s)) + strlen(s));

	return n > min ? n : min;
}

/* Hours of a charge, always with 2 decimals so that the column aligns. */
static void
hours_text(char *out, size_t size, double hours)
{
	int n = snprintf(out, size, "%.2f", hours);

	if (n < 0 || (size_t)n >= size)
		snprintf(out, size, "?");
}

void
bill_write_invoice(const struct gpu_bill_report *rep, const struct opts *o,
		   const struct gpu_rates *r)
{
	const char *who = o->user != NULL ? "User" : "Project";
	int64_t subtotal = rep->total.gpu_cents + rep->total.mem_cents;
	char a[40], b[40], c[40], d[40], name[160];
	int rw = 30, wj = 20, wo = 12, wp = 9;
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
	/* Columns as wide as their longest text: long names shift nothing. */
	for (i = 0; i < r->nmodels; i++) {
		snprintf(name, sizeof(name), "GPU-hour, %s",
			 r->models[i].model);
		rw = text_width(rw, name);
	}
	for (i = 0; i < r->nprofiles; i++) {
		snprintf(name, sizeof(name), "slice-hour, MIG %s",
			 r->profiles[i].model);
		rw = text_width(rw, name);
	}
	rate_line(rw, "GPU-hour", r->v[GPU_RATE_GPU], "", r->src[GPU_RATE_GPU]);
	for (i = 0; i < r->nmodels; i++) {
		snprintf(name, sizeof(name), "GPU-hour, %s",
			 r->models[i].model);
		rate_line(rw, name, r->models[i].rate, "", GPU_SRC_FILE);
	}
	for (i = 0; i < r->nprofiles; i++) {
		snprintf(name, sizeof(name), "slice-hour, MIG %s",
			 r->profiles[i].model);
		rate_line(rw, name, r->profiles[i].rate, "", GPU_SRC_FILE);
	}
	rate_line(rw, "memory overage GiB-hour", r->v[GPU_RATE_MEM], "",
		  r->src[GPU_RATE_MEM]);
	if (o->input == NULL)
		rate_line(rw, "memory threshold", r->v[GPU_RATE_THRESHOLD],
			  " GiB", r->src[GPU_RATE_THRESHOLD]);
	else
		printf("  %-*s as aggregated by gpuagg\n", rw,
		       "memory threshold");
	rate_line(rw, "overhead, fraction of subtotal", r->v[GPU_RATE_OVERHEAD],
		  "", r->src[GPU_RATE_OVERHEAD]);
	for (i = 0; i < rep->nlines; i++) {
		const struct gpu_bill_line *l = &rep->lines[i];

		wj = marked_width(wj, l->job_id);
		wo = marked_width(wo, o->user != NULL ? l->project : l->user);
		wp = text_width(wp, l->period);
	}
	printf("\n%-*s %-*s %-*s %10s %10s %10s %10s %10s %10s\n", wj, "Job",
	       wo, o->user != NULL ? "Project" : "User", wp, "Period",
	       "GPU-hours", "GiB-hours", "GPU", "Memory", "Overhead", "Total");
	for (i = 0; i < rep->nlines; i++) {
		const struct gpu_bill_line *l = &rep->lines[i];
		char h[40], g[40];

		hours_text(h, sizeof(h), gpu_charge_gpu_hours(&l->c));
		hours_text(g, sizeof(g),
			   (double)l->c.overage / (1024.0 * 3600.0));
		money_text(a, sizeof(a), l->c.gpu_cents);
		money_text(b, sizeof(b), l->c.mem_cents);
		money_text(c, sizeof(c), l->c.overhead_cents);
		money_text(d, sizeof(d), l->c.total_cents);
		const char *owner = o->user != NULL ? l->project : l->user;

		printf("%s%-*s %s%-*s %-*s %10s %10s %10s %10s %10s %10s\n",
		       mark(l->job_id), wj - (int)strlen(mark(l->job_id)),
		       l->job_id, mark(owner), wo - (int)strlen(mark(owner)),
		       owner, wp, l->period, h, g, a, b, c, d);
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
