/* SPDX-License-Identifier: MIT */
/* gpubill: bill allocated GPU time exactly, from the warehouse or gpuagg. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gpu/agg.h"
#include "gpu/buf.h"
#include "gpu/db.h"
#include "gpu/diag.h"
#include "gpu/money.h"
#include "gpu/num.h"
#include "gpu/opt.h"
#include "gpu/reader.h"
#include "gpu/time.h"
#include "gpu/writer.h"

static const char usage_line[] =
    "usage: gpubill [--db PATH | --input FILE|-] [--period month|all] "
    "[--month YYYY-MM | --from T --to T]\n"
    "               [--by job|user|project] [--rates FILE] "
    "[--gpu-rate X] [--mem-rate X]\n"
    "               [--mem-threshold-gb X] [--overhead-rate X] "
    "[--share-idle]\n"
    "               [--format csv|json|table|invoice] "
    "[--user U | --project P]\n";

static void
help(void)
{
	fputs(usage_line, stdout);
	fputs("\nBill allocated GPU time and memory overage exactly "
	      "(SPEC.md section 4).\n\n"
	      "  -d, --db PATH            warehouse (default $GPUUSAGE_DB "
	      "or ./gpuusage.db)\n"
	      "  -i, --input FILE         read the CSV of 'gpuagg --by job' "
	      "('-': stdin)\n"
	      "  -p, --period month|all   bill one month (default: the "
	      "current one) or all time\n"
	      "  -m, --month YYYY-MM      bill this month\n"
	      "      --from T, --to T     bill the range [from, to)\n"
	      "  -b, --by job|user|project  one line per job (default), "
	      "user or project\n"
	      "  -r, --rates FILE         rate card (see gpubill(1))\n"
	      "      --gpu-rate X         per allocated GPU-hour "
	      "(GPU_HOURLY_RATE, 2.50)\n"
	      "      --mem-rate X         per GiB-hour over the threshold "
	      "(MEMORY_OVERAGE_RATE, 0.10)\n"
	      "      --mem-threshold-gb X memory threshold, GiB "
	      "(MEMORY_OVERAGE_THRESHOLD_GB, 16)\n"
	      "      --overhead-rate X    fraction of the subtotal "
	      "(CLUSTER_OVERHEAD_RATE, 0.05)\n"
	      "      --share-idle         share the price of unallocated "
	      "GPU time among the lines\n"
	      "  -f, --format FMT         csv (default), json, table or "
	      "invoice\n"
	      "  -u, --user U             only this user's lines\n"
	      "  -P, --project P          only this project's lines\n"
	      "  -h, --help               print this help and exit\n"
	      "  -V, --version            print the version and exit\n",
	      stdout);
}

enum out_fmt { OUT_CSV, OUT_JSON, OUT_TABLE, OUT_INVOICE };

enum period_mode {
	MODE_FIXED,   /* one period [from, to) with one label */
	MODE_BUCKET,  /* --input: the row's own bucket, or "all" */
	MODE_MONTHLY, /* --input --period month: the month of the bucket */
};

struct opts {
	const char *db;
	const char *input;
	const char *rates;
	const char *flag[GPU_RATE_NKEYS];
	const char *user;
	const char *project;
	enum gpu_bill_by by;
	enum out_fmt fmt;
	bool share_idle;
	enum period_mode mode;
	bool has_range; /* from/to restrict the samples */
	int64_t from, to;
	char label[80];
	char range_text[80]; /* "FROM to TO" for the invoice */
};

/* Parse "YYYY-MM" strictly into the month's first instant. */
static int
parse_month(const char *s, int64_t *ms)
{
	char tmp[16];
	const char *why;
	size_t i;

	if (strlen(s) != 7 || s[4] != '-')
		return -1;
	for (i = 0; i < 7; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return -1;
	memcpy(tmp, s, 7);
	memcpy(tmp + 7, "-01", 4);
	return gpu_time_parse_arg(tmp, ms, &why);
}

/* The period of a bucket label written by gpuagg, and its start. */
static int
parse_bucket(enum gpu_period p, const char *s, size_t len, int64_t *start)
{
	char tmp[40], back[32];
	const char *why;
	int64_t ms;

	if (len == 0 || len > 20)
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	switch (p) {
	case GPU_PERIOD_MONTH:
		memcpy(tmp + len, "-01", 4);
		break;
	case GPU_PERIOD_HOUR:
		memcpy(tmp + len, ":00", 4);
		break;
	case GPU_PERIOD_WEEK: {
		int64_t y, w, jan4, wd;

		if (len != 8 || tmp[4] != '-' || tmp[5] != 'W' ||
		    gpu_num_parse_i64(tmp, 4, &y) != 0 ||
		    gpu_num_parse_i64(tmp + 6, 2, &w) != 0 || w < 1 || w > 53)
			return -1;
		jan4 = gpu_days_from_civil(y, 1, 4);
		wd = ((jan4 + 3) % 7 + 7) % 7; /* 0 = Monday */
		ms = (jan4 - wd + 7 * (w - 1)) * 86400000;
		goto check;
	}
	default:
		break;
	}
	if (gpu_time_parse_arg(tmp, &ms, &why) != 0)
		return -1;
check:
	gpu_period_label(p, ms, back);
	if (strlen(back) != len || memcmp(back, s, len) != 0)
		return -1;
	*start = ms;
	return 0;
}

static int
set_fixed_label(struct opts *o, const char *month)
{
	char a[32], b[32];

	if (month != NULL) {
		snprintf(o->label, sizeof(o->label), "%s", month);
	} else if (!o->has_range) {
		snprintf(o->label, sizeof(o->label), "all");
		snprintf(o->range_text, sizeof(o->range_text), "all time");
		return 0;
	} else {
		gpu_time_fmt_iso(o->from, a);
		gpu_time_fmt_iso(o->to, b);
		snprintf(o->label, sizeof(o->label), "%s/%s", a, b);
	}
	gpu_time_fmt_iso(o->from, a);
	gpu_time_fmt_iso(o->to, b);
	snprintf(o->range_text, sizeof(o->range_text), "%s to %s", a, b);
	return 0;
}

/* Decide the billing period from the options. Returns 0 or an exit code. */
static int
resolve_period(struct opts *o, const char *period, const char *month,
	       const char *from, const char *to)
{
	const char *why = NULL;
	char cur[32];

	if (period != NULL && strcmp(period, "month") != 0 &&
	    strcmp(period, "all") != 0)
		return gpu_usage_error(
		    usage_line, "invalid period '%s' (valid: month, all)",
		    period);
	if (month != NULL && (from != NULL || to != NULL))
		return gpu_usage_error(
		    usage_line,
		    "--month cannot be combined with --from or --to");
	if ((from == NULL) != (to == NULL))
		return gpu_usage_error(usage_line,
				       "--from and --to go together");
	if (period != NULL && strcmp(period, "all") == 0 &&
	    (month != NULL || from != NULL))
		return gpu_usage_error(
		    usage_line,
		    "--period all takes no --month, --from or --to");
	o->mode = MODE_FIXED;
	if (month != NULL) {
		if (parse_month(month, &o->from) != 0)
			return gpu_usage_error(
			    usage_line, "invalid month '%s' (want YYYY-MM)",
			    month);
		o->to = gpu_period_next(GPU_PERIOD_MONTH, o->from);
		o->has_range = true;
		return set_fixed_label(o, month);
	}
	if (from != NULL) {
		if (gpu_time_parse_arg(from, &o->from, &why) != 0)
			return gpu_usage_error(usage_line, "%s '%s' for --from",
					       why, from);
		if (gpu_time_parse_arg(to, &o->to, &why) != 0)
			return gpu_usage_error(usage_line, "%s '%s' for --to",
					       why, to);
		if (o->from >= o->to)
			return gpu_usage_error(
			    usage_line,
			    "empty billing period: --from '%s' is not "
			    "before --to '%s'",
			    from, to);
		o->has_range = true;
		return set_fixed_label(o, NULL);
	}
	if (period != NULL && strcmp(period, "all") == 0)
		return set_fixed_label(o, NULL);
	if (o->input != NULL) {
		o->mode = period != NULL ? MODE_MONTHLY : MODE_BUCKET;
		return 0;
	}
	/* The warehouse with no period: the current month, to date. */
	o->from =
	    gpu_period_start(GPU_PERIOD_MONTH, (int64_t)time(NULL) * 1000);
	o->to = gpu_period_next(GPU_PERIOD_MONTH, o->from);
	o->has_range = true;
	gpu_period_label(GPU_PERIOD_MONTH, o->from, cur);
	return set_fixed_label(o, cur);
}

/* Columns of gpuagg's CSV that gpubill reads. */
struct incols {
	int job, user, project, model, alloc, overage, gpu_seconds, bucket;
	enum gpu_period bucket_period;
};

static int
need_col(struct gpu_table *t, const char *name, const char *source,
	 struct gpu_err *err)
{
	int c = gpu_table_col(t, name);

	if (c < 0)
		gpu_err_at(err, source, 1, "missing column '%s'", name);
	return c;
}

static int
find_cols(struct gpu_table *t, const struct opts *o, const char *source,
	  struct incols *c, struct gpu_err *err)
{
	static const enum gpu_period ps[] = {GPU_PERIOD_HOUR, GPU_PERIOD_DAY,
					     GPU_PERIOD_WEEK, GPU_PERIOD_MONTH};
	size_t i;

	if ((c->job = need_col(t, "job_id", source, err)) < 0 ||
	    (c->alloc = need_col(t, "alloc_gpu_seconds", source, err)) < 0 ||
	    (c->overage = need_col(t, "mem_overage_mib_seconds", source, err)) <
		0)
		return -1;
	c->user = gpu_table_col(t, "user");
	c->project = gpu_table_col(t, "project");
	c->model = gpu_table_col(t, "model");
	c->gpu_seconds = gpu_table_col(t, "gpu_seconds");
	if (o->share_idle && c->gpu_seconds < 0)
		return gpu_err_at(err, source, 1,
				  "missing column 'gpu_seconds' (needed by "
				  "--share-idle)");
	c->bucket = -1;
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		int k = gpu_table_col(t, gpu_period_name(ps[i]));

		if (k >= 0) {
			c->bucket = k;
			c->bucket_period = ps[i];
		}
	}
	if (o->mode == MODE_MONTHLY && c->bucket < 0)
		return gpu_err_at(err, source, 1,
				  "--period month needs a bucket column "
				  "(hour, day, week or month) in the input");
	return 0;
}

static struct gpu_str
field(const struct gpu_row *row, int col)
{
	struct gpu_str none = {"", 0};

	if (col < 0 || (size_t)col >= row->nfields || !row->present[col])
		return none;
	return row->fields[col];
}

static int
int_field(const struct gpu_row *row, int col, const char *name,
	  const char *source, int64_t *v, struct gpu_err *err)
{
	struct gpu_str f = field(row, col);

	if (gpu_num_parse_i64(f.p, f.len, v) != 0 || *v < 0)
		return gpu_err_at(err, source, row->line,
				  "invalid integer '%.*s' in column '%s'",
				  (int)(f.len > 64 ? 64 : f.len), f.p, name);
	return 0;
}

/*
 * Where a row goes: fills label and rank, or returns 1 to skip the row
 * (its bucket lies outside the period) or -1 on an error.
 */
static int
row_period(const struct opts *o, const struct incols *c,
	   const struct gpu_row *row, const char *source, char *label,
	   size_t size, int64_t *rank, struct gpu_err *err)
{
	struct gpu_str b = field(row, c->bucket);
	int64_t start, next;

	*rank = 0;
	if (c->bucket < 0) {
		snprintf(label, size, "%s",
			 o->mode == MODE_FIXED ? o->label : "all");
		return 0;
	}
	if (parse_bucket(c->bucket_period, b.p, b.len, &start) != 0)
		return gpu_err_at(err, source, row->line,
				  "invalid %s label '%.*s'",
				  gpu_period_name(c->bucket_period),
				  (int)(b.len > 64 ? 64 : b.len), b.p);
	next = gpu_period_next(c->bucket_period, start);
	*rank = start;
	switch (o->mode) {
	case MODE_FIXED:
		if (!o->has_range || (start >= o->from && next <= o->to)) {
			snprintf(label, size, "%s", o->label);
			return 0;
		}
		if (next <= o->from || start >= o->to)
			return 1;
		break;
	case MODE_BUCKET:
		snprintf(label, size, "%.*s", (int)b.len, b.p);
		return 0;
	case MODE_MONTHLY:
		if (gpu_period_start(GPU_PERIOD_MONTH, start) ==
		    gpu_period_start(GPU_PERIOD_MONTH, next - 1)) {
			gpu_period_label(GPU_PERIOD_MONTH, start, label);
			return 0;
		}
		break;
	}
	return gpu_err_at(err, source, row->line,
			  "%s '%.*s' straddles the billing period; aggregate "
			  "with a finer --period",
			  gpu_period_name(c->bucket_period), (int)b.len, b.p);
}

static int
read_input(struct gpu_bill *bill, const struct opts *o,
	   const struct gpu_rates *r, struct gpu_err *err)
{
	bool is_stdin = strcmp(o->input, "-") == 0;
	const char *source = is_stdin ? "<stdin>" : o->input;
	struct gpu_table_opts topts = {.format = GPU_FMT_CSV};
	struct gpu_table *t = NULL;
	FILE *fp = is_stdin ? stdin : fopen(o->input, "r");
	struct gpu_row row;
	struct incols c = {-1, -1, -1, -1, -1, -1, -1, -1, GPU_PERIOD_ALL};
	int rc = -1, n;

	if (fp == NULL)
		return gpu_err_set(err, "cannot open '%s': %s", o->input,
				   strerror(errno));
	t = gpu_table_new(fp, source, &topts, err);
	if (t == NULL || find_cols(t, o, source, &c, err) != 0)
		goto out;
	if (c.model < 0 && r->nmodels > 0)
		gpu_warn("%s: no 'model' column: all GPU time is billed at "
			 "gpu_hourly_rate (aggregate with --by job,model)",
			 source);
	while ((n = gpu_table_next(t, &row, err)) == 1) {
		struct gpu_bill_usage u;
		char label[80];
		int k;

		if (row.bad != NULL) {
			gpu_err_at(err, source, row.line, "%s", row.bad);
			goto out;
		}
		k = row_period(o, &c, &row, source, label, sizeof(label),
			       &u.owner_rank, err);
		if (k < 0)
			goto out;
		if (k > 0)
			continue;
		u.period = label;
		u.job_id = field(&row, c.job);
		u.user = field(&row, c.user);
		u.project = field(&row, c.project);
		u.model = field(&row, c.model);
		if (int_field(&row, c.alloc, "alloc_gpu_seconds", source,
			      &u.alloc_seconds, err) != 0 ||
		    int_field(&row, c.overage, "mem_overage_mib_seconds",
			      source, &u.overage, err) != 0)
			goto out;
		u.gpu_seconds = u.alloc_seconds;
		if (c.gpu_seconds >= 0 &&
		    int_field(&row, c.gpu_seconds, "gpu_seconds", source,
			      &u.gpu_seconds, err) != 0)
			goto out;
		if (u.gpu_seconds < u.alloc_seconds) {
			gpu_err_at(err, source, row.line,
				   "alloc_gpu_seconds exceeds gpu_seconds");
			goto out;
		}
		if (gpu_bill_add(bill, &u, err) != 0) {
			err->line = row.line;
			goto out;
		}
	}
	if (n == 0)
		rc = 0;
out:
	gpu_table_free(t);
	if (!is_stdin)
		fclose(fp);
	return rc;
}

static int
read_db(struct gpu_bill *bill, const struct opts *o, const struct gpu_rates *r,
	struct gpu_err *err)
{
	const char *path = gpu_db_path(o->db);
	struct gpu_db_opts dopts = {.readonly = false,
				    .lock_timeout_ms = 10000};
	struct gpu_agg_query q;
	struct gpu_agg *a = NULL;
	sqlite3 *db = NULL;
	struct stat st;
	int rc = -1;

	if (stat(path, &st) != 0)
		return gpu_err_set(err, "cannot open warehouse '%s': %s", path,
				   strerror(errno));
	if (gpu_db_open(path, &dopts, &db, err) != 0)
		return -1;
	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_ALL;
	q.dims = GPU_DIM_JOB | GPU_DIM_MODEL;
	q.from_ms = o->has_range ? o->from : INT64_MIN;
	q.to_ms = o->has_range ? o->to : INT64_MAX;
	q.threshold_mib = gpu_rates_threshold_mib(r);
	if (gpu_agg_run_db(db, &q, &a, err) != 0 ||
	    gpu_bill_add_agg(bill, a, o->label, err) != 0)
		goto out;
	rc = 0;
out:
	gpu_agg_free(a);
	if (gpu_db_close(db, rc == 0 ? err : NULL) != 0)
		rc = -1;
	return rc;
}

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

static int
write_rows(const struct gpu_bill_report *rep, const struct opts *o,
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

static void
write_invoice(const struct gpu_bill_report *rep, const struct opts *o,
	      const struct gpu_rates *r)
{
	const char *who = o->user != NULL ? "User" : "Project";
	int64_t subtotal = rep->total.gpu_cents + rep->total.mem_cents;
	char a[40], b[40], c[40], d[40], name[160];
	size_t i;

	printf("INVOICE\n\n");
	printf("%-9s %s\n", who, o->user != NULL ? o->user : o->project);
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
		printf("%-20s %-12s %-9s %10s %10s %10s %10s %10s %10s\n",
		       l->job_id, o->user != NULL ? l->project : l->user,
		       l->period, h.data, g.data, a, b, c, d);
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

enum {
	OPT_FROM = 256,
	OPT_TO,
	OPT_GPU_RATE,
	OPT_MEM_RATE,
	OPT_THRESHOLD,
	OPT_OVERHEAD,
	OPT_SHARE_IDLE
};

static const struct option longopts[] = {
    {"by", required_argument, NULL, 'b'},
    {"db", required_argument, NULL, 'd'},
    {"format", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {"input", required_argument, NULL, 'i'},
    {"month", required_argument, NULL, 'm'},
    {"period", required_argument, NULL, 'p'},
    {"project", required_argument, NULL, 'P'},
    {"rates", required_argument, NULL, 'r'},
    {"user", required_argument, NULL, 'u'},
    {"version", no_argument, NULL, 'V'},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"gpu-rate", required_argument, NULL, OPT_GPU_RATE},
    {"mem-rate", required_argument, NULL, OPT_MEM_RATE},
    {"mem-threshold-gb", required_argument, NULL, OPT_THRESHOLD},
    {"overhead-rate", required_argument, NULL, OPT_OVERHEAD},
    {"share-idle", no_argument, NULL, OPT_SHARE_IDLE},
    {NULL, 0, NULL, 0}};

static int
parse_format(const char *s, enum out_fmt *f)
{
	static const char *const names[] = {"csv", "json", "table", "invoice"};
	size_t i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*f = (enum out_fmt)i;
			return 0;
		}
	return -1;
}

/* Parse the command line into o. Returns -1 to go on, or an exit code. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	const char *period = NULL, *month = NULL, *from = NULL, *to = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:d:f:hi:m:p:P:r:u:V", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'b':
			if (gpu_bill_by_parse(optarg, &o->by) != 0)
				return gpu_usage_error(
				    usage_line,
				    "invalid --by '%s' (valid: job, user, "
				    "project)",
				    optarg);
			break;
		case 'd':
			o->db = optarg;
			break;
		case 'f':
			if (parse_format(optarg, &o->fmt) != 0)
				return gpu_usage_error(
				    usage_line,
				    "invalid format '%s' (valid: csv, "
				    "json, table, invoice)",
				    optarg);
			break;
		case 'h':
			help();
			return GPU_EXIT_OK;
		case 'i':
			o->input = optarg;
			break;
		case 'm':
			month = optarg;
			break;
		case 'p':
			period = optarg;
			break;
		case 'P':
			o->project = optarg;
			break;
		case 'r':
			o->rates = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'V':
			printf("gpubill %s\n", GPU_VERSION);
			return GPU_EXIT_OK;
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_TO:
			to = optarg;
			break;
		case OPT_GPU_RATE:
		case OPT_MEM_RATE:
		case OPT_THRESHOLD:
		case OPT_OVERHEAD:
			o->flag[c - OPT_GPU_RATE] = optarg;
			break;
		case OPT_SHARE_IDLE:
			o->share_idle = true;
			break;
		default:
			return gpu_opt_error(usage_line, c, argv, longopts);
		}
	}
	if (optind < argc)
		return gpu_opt_operand_error(usage_line, argv[optind]);
	if (o->db != NULL && o->input != NULL)
		return gpu_usage_error(usage_line,
				       "--db and --input cannot be combined");
	if (o->user != NULL && o->project != NULL)
		return gpu_usage_error(
		    usage_line, "--user and --project cannot be combined");
	if (o->fmt == OUT_INVOICE) {
		if (o->user == NULL && o->project == NULL)
			return gpu_usage_error(
			    usage_line,
			    "--format invoice needs --user or --project");
		o->by = GPU_BILL_JOB;
	}
	if (o->input != NULL && o->flag[GPU_RATE_THRESHOLD] != NULL)
		return gpu_usage_error(
		    usage_line,
		    "--mem-threshold-gb cannot apply to --input: its "
		    "mem_overage_mib_seconds was computed by gpuagg; set "
		    "the threshold there");
	c = resolve_period(o, period, month, from, to);
	return c == 0 ? -1 : c;
}

int
main(int argc, char **argv)
{
	struct opts o = {.by = GPU_BILL_JOB, .fmt = OUT_CSV};
	struct gpu_bill_report rep;
	struct gpu_bill *bill = NULL;
	struct gpu_rates r;
	struct gpu_err err;
	bool bad_usage;
	int status;

	gpu_diag_init(argv[0]);
	status = parse_args(argc, argv, &o);
	if (status >= 0)
		return gpu_close_stdout(status);
	gpu_rates_init(&r);
	if (gpu_rates_resolve(&r, o.rates, o.flag, &bad_usage, &err) != 0) {
		gpu_msg_err(&err);
		status = bad_usage ? GPU_EXIT_USAGE : GPU_EXIT_FAIL;
		goto out;
	}
	/* gpuagg reads the same variable, but not the rate card. */
	if (o.input != NULL && r.src[GPU_RATE_THRESHOLD] == GPU_SRC_FILE)
		gpu_warn("memory_overage_threshold_gb of '%s' is not applied "
			 "to --input: its mem_overage_mib_seconds is billed "
			 "as aggregated",
			 o.rates);
	bill = gpu_bill_new(&r);
	if ((o.input != NULL ? read_input(bill, &o, &r, &err)
			     : read_db(bill, &o, &r, &err)) != 0) {
		gpu_msg_err(&err);
		status = GPU_EXIT_FAIL;
		goto out;
	}
	gpu_bill_report(bill, o.by, o.share_idle, o.user, o.project, &rep);
	status = GPU_EXIT_OK;
	if (o.fmt == OUT_INVOICE)
		write_invoice(&rep, &o, &r);
	else if (write_rows(&rep, &o, &r) != 0)
		status = GPU_EXIT_FAIL;
	gpu_bill_report_release(&rep);
out:
	gpu_bill_free(bill);
	gpu_rates_release(&r);
	return gpu_close_stdout(status);
}
