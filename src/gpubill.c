/* SPDX-License-Identifier: MIT */
/* gpubill: bill allocated GPU time exactly, from the warehouse or gpuagg. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/diag.h"
#include "gpu/hashmap.h"
#include "gpu/heap.h"
#include "gpu/money.h"
#include "gpu/opt.h"
#include "gpu/time.h"
#include "gpubill.h"

static const char usage_line[] =
    "usage: gpubill [--db PATH | --input FILE|-] [--period month|all]\n"
    "               [--month YYYY-MM|last|this | --from T --to T | "
    "--last DUR]\n"
    "               [--by job|user|project] [--rates FILE] "
    "[--gpu-rate X] [--mem-rate X]\n"
    "               [--mem-threshold-gb X] [--overhead-rate X] "
    "[--share-idle]\n"
    "               [--format csv|json|table|invoice|focus] "
    "[--user U | --project P]\n";

static void
help(void)
{
	fputs(usage_line, stdout);
	fputs("\nBill allocated GPU time and memory overage exactly "
	      "(docs/FORMAT.md section 4).\n\n"
	      "  -d, --db PATH            warehouse (default $GPUUSAGE_DB "
	      "or ./gpuusage.db)\n"
	      "  -i, --input FILE         read the CSV of 'gpuagg --by job' "
	      "('-': stdin)\n"
	      "  -p, --period month|all   bill one month (default: the "
	      "current one) or all time\n"
	      "  -m, --month YYYY-MM      bill this month (or last, this)\n"
	      "      --from T, --to T     bill the range [from, to); T may be\n"
	      "                           relative: now, today, -7d\n"
	      "      --last DUR           bill [now - DUR, now): 24h, 7d\n"
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
	      "  -f, --format FMT         csv (default), json, table, "
	      "invoice or focus\n"
	      "                           (FOCUS 1.1 CSV, by job; see "
	      "docs/FORMAT.md)\n"
	      "      --provider NAME      focus: the site named as provider, "
	      "publisher,\n"
	      "                           invoice issuer and billing account "
	      "(gpuusage)\n"
	      "      --csv-safe           quote names beginning with = + - "
	      "@ tab or CR with '\n"
	      "  -u, --user U             only this user's lines\n"
	      "  -P, --project P          only this project's lines\n"
	      "  -h, --help               print this help and exit\n"
	      "  -V, --version            print the version and exit\n",
	      stdout);
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
	       const char *from, const char *to, const char *last)
{
	const char *why = NULL;
	char cur[32];
	int64_t now;

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
	if (last != NULL && (month != NULL || from != NULL ||
			     (period != NULL && strcmp(period, "all") == 0)))
		return gpu_usage_error(
		    usage_line,
		    "--last excludes --month, --from, --to and --period all");
	o->mode = MODE_FIXED;
	if (last != NULL) {
		if (gpu_time_last(last, &o->from, &o->to, &why) != 0)
			return gpu_usage_error(usage_line, "%s in --last: '%s'",
					       why, last);
		o->has_range = true;
		return set_fixed_label(o, NULL);
	}
	if (month != NULL &&
	    (strcmp(month, "last") == 0 || strcmp(month, "this") == 0)) {
		if (gpu_time_now(&now, &why) != 0)
			return gpu_usage_error(usage_line, "%s", why);
		now = gpu_period_start(GPU_PERIOD_MONTH, now);
		if (strcmp(month, "last") == 0)
			now = gpu_period_start(GPU_PERIOD_MONTH, now - 1);
		gpu_period_label(GPU_PERIOD_MONTH, now, cur);
		month = cur;
	}
	if (month != NULL) {
		if (gpu_period_label_parse(GPU_PERIOD_MONTH, month,
					   strlen(month), &o->from) != 0)
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
	if (gpu_time_now(&now, &why) != 0)
		return gpu_usage_error(usage_line, "%s", why);
	o->from = gpu_period_start(GPU_PERIOD_MONTH, now);
	o->to = gpu_period_next(GPU_PERIOD_MONTH, o->from);
	o->has_range = true;
	gpu_period_label(GPU_PERIOD_MONTH, o->from, cur);
	return set_fixed_label(o, cur);
}

enum {
	OPT_FROM = 256,
	OPT_TO,
	OPT_LAST,
	OPT_GPU_RATE,
	OPT_MEM_RATE,
	OPT_THRESHOLD,
	OPT_OVERHEAD,
	OPT_SHARE_IDLE,
	OPT_CSV_SAFE,
	OPT_PROVIDER
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
    {"last", required_argument, NULL, OPT_LAST},
    {"gpu-rate", required_argument, NULL, OPT_GPU_RATE},
    {"mem-rate", required_argument, NULL, OPT_MEM_RATE},
    {"mem-threshold-gb", required_argument, NULL, OPT_THRESHOLD},
    {"overhead-rate", required_argument, NULL, OPT_OVERHEAD},
    {"share-idle", no_argument, NULL, OPT_SHARE_IDLE},
    {"csv-safe", no_argument, NULL, OPT_CSV_SAFE},
    {"provider", required_argument, NULL, OPT_PROVIDER},
    {NULL, 0, NULL, 0}};

static int
parse_format(const char *s, enum out_fmt *f)
{
	static const char *const names[] = {"csv", "json", "table", "invoice",
					    "focus"};
	size_t i;

	for (i = 0; i < 5; i++)
		if (strcmp(s, names[i]) == 0) {
			*f = (enum out_fmt)i;
			return 0;
		}
	return -1;
}

/* Parse the command line into o. Returns -1 to go on, or an exit code. */
/* The period options, resolved together once all options are read. */
struct args {
	struct opts *o;
	const char *period, *month, *from, *to, *last;
};

/* One option for gpu_opt_parse(): -1 to go on, else an exit status. */
static int
take_opt(void *ctx, int c, const char *arg)
{
	struct args *a = ctx;
	struct opts *o = a->o;

	switch (c) {
	case 'b':
		if (gpu_bill_by_parse(arg, &o->by) != 0)
			return gpu_usage_error(
			    usage_line,
			    "invalid --by '%s' (valid: job, user, "
			    "project)",
			    arg);
		return -1;
	case 'd':
		o->db = arg;
		return -1;
	case 'f':
		if (parse_format(arg, &o->fmt) != 0)
			return gpu_usage_error(
			    usage_line,
			    "invalid format '%s' (valid: csv, "
			    "json, table, invoice, focus)",
			    arg);
		return -1;
	case 'h':
		help();
		return GPU_EXIT_OK;
	case 'i':
		o->input = arg;
		return -1;
	case 'm':
		a->month = arg;
		return -1;
	case 'p':
		a->period = arg;
		return -1;
	case 'P':
		if (*arg == '\0') /* names no owner: not a name to look up */
			return gpu_usage_error(usage_line,
					       "empty --project name");
		o->project = arg;
		return -1;
	case 'r':
		o->rates = arg;
		return -1;
	case 'u':
		if (*arg == '\0')
			return gpu_usage_error(usage_line, "empty --user name");
		o->user = arg;
		return -1;
	case 'V':
		printf("gpubill %s\n", GPU_VERSION);
		return GPU_EXIT_OK;
	case OPT_FROM:
		a->from = arg;
		return -1;
	case OPT_TO:
		a->to = arg;
		return -1;
	case OPT_LAST:
		a->last = arg;
		return -1;
	case OPT_GPU_RATE:
	case OPT_MEM_RATE:
	case OPT_THRESHOLD:
	case OPT_OVERHEAD:
		o->flag[c - OPT_GPU_RATE] = arg;
		return -1;
	case OPT_SHARE_IDLE:
		o->share_idle = true;
		return -1;
	case OPT_CSV_SAFE:
		o->csv_safe = true;
		return -1;
	case OPT_PROVIDER:
		if (*arg == '\0')
			return gpu_usage_error(usage_line,
					       "empty --provider name");
		o->provider = arg;
		return -1;
	default:
		return GPU_EXIT_USAGE; /* getopt_long() returns no other */
	}
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	struct args a = {o, NULL, NULL, NULL, NULL, NULL};
	int c = gpu_opt_parse(argc, argv, ":b:d:f:hi:m:p:P:r:u:V", longopts,
			      usage_line, take_opt, &a);

	if (c >= 0)
		return c;
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
	if (o->fmt == OUT_FOCUS && o->share_idle)
		return gpu_usage_error(usage_line,
				       "--format focus has no --share-idle");
	if (o->fmt == OUT_FOCUS)
		o->by = GPU_BILL_JOB; /* a row's resource is its job */
	if (o->input != NULL && o->flag[GPU_RATE_THRESHOLD] != NULL)
		return gpu_usage_error(
		    usage_line,
		    "--mem-threshold-gb cannot apply to --input: its "
		    "mem_overage_mib_seconds was computed by gpuagg; set "
		    "the threshold there");
	c = resolve_period(o, a.period, a.month, a.from, a.to, a.last);
	if (c == 0 && o->fmt == OUT_FOCUS && !o->has_range)
		return gpu_usage_error(usage_line,
				       "--format focus needs a billing period: "
				       "--month or --from and --to");
	return c == 0 ? -1 : c;
}

/* The Levenshtein distance of a and b. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d;
	size_t *row = gpu_xreallocarray(NULL, lb + 1, sizeof(*row));

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

/* The up to three names of known closest to name, ", "-separated, in b. */
static void
closest_names(struct gpu_hashmap *known, const char *name, struct gpu_buf *b)
{
	size_t n = gpu_hashmap_count(known), pick[3], dist[3], k = 0, i, j;

	for (i = 0; i < n; i++) {
		const char *s = gpu_hashmap_key(known, i);
		size_t d;

		if (*s == '\0')
			continue;
		d = edit_distance(name, s);
		for (j = k; j > 0; j--) {
			const char *t = gpu_hashmap_key(known, pick[j - 1]);

			if (dist[j - 1] < d ||
			    (dist[j - 1] == d && strcmp(t, s) < 0))
				break;
			if (j < 3) {
				pick[j] = pick[j - 1];
				dist[j] = dist[j - 1];
			}
		}
		if (j < 3) {
			pick[j] = i;
			dist[j] = d;
			if (k < 3)
				k++;
		}
	}
	for (i = 0; i < k; i++) {
		if (i > 0)
			gpu_buf_adds(b, ", ");
		gpu_buf_adds(b, gpu_hashmap_key(known, pick[i]));
	}
}

/*
 * A --user or --project the input never names is a typo: exit 1 with the
 * closest names. A report with no line says so on stderr. Returns -1 to
 * go on, or an exit status.
 */
static int
check_match(const struct opts *o, struct gpu_hashmap *known,
	    const struct gpu_bill_report *rep)
{
	const char *kind = o->user != NULL ? "user" : "project";
	const char *name = o->user != NULL ? o->user : o->project;
	struct gpu_buf b;

	if (name != NULL &&
	    gpu_hashmap_find(known, name, strlen(name)) == GPU_HASHMAP_NONE) {
		gpu_buf_init(&b);
		closest_names(known, name, &b);
		if (b.len > 0)
			gpu_msg("unknown %s '%s' (closest: %s)", kind, name,
				b.data);
		else
			gpu_msg("unknown %s '%s' (the input names no %s)", kind,
				name, kind);
		gpu_buf_release(&b);
		return GPU_EXIT_FAIL;
	}
	if (rep->nlines > 0)
		return -1;
	if (name != NULL)
		gpu_warn("nothing matched: %s '%s' has no usage in %s", kind,
			 name, o->mode == MODE_FIXED ? o->label : "the input");
	else if (rep->idle_seconds == 0)
		gpu_warn("nothing matched: no usage in %s",
			 o->mode == MODE_FIXED ? o->label : "the input");
	return -1;
}

/* Name the first line whose amount does not fit; print no bill. */
static void
report_overflow(const struct gpu_bill_report *rep, enum gpu_bill_by by)
{
	size_t i;

	for (i = 0; i < rep->nlines; i++) {
		const struct gpu_bill_line *l = &rep->lines[i];

		if (!l->c.overflow)
			continue;
		gpu_msg("amount too large for %s '%s' in period '%s'",
			by == GPU_BILL_JOB    ? "job"
			: by == GPU_BILL_USER ? "user"
					      : "project",
			by == GPU_BILL_JOB    ? l->job_id
			: by == GPU_BILL_USER ? l->user
					      : l->project,
			l->period);
		return;
	}
	gpu_msg("amount too large for the total or the idle time");
}

int
main(int argc, char **argv)
{
	struct opts o = {.by = GPU_BILL_JOB, .fmt = OUT_CSV};
	struct gpu_bill_report rep;
	struct gpu_bill *bill = NULL;
	struct gpu_hashmap known;
	struct gpu_rates r;
	struct gpu_err err;
	bool bad_usage;
	int status;

	/*
	 * A bill over all time holds every job's groups, in arrays that
	 * double as they grow: from the heap, kept when freed, and on huge
	 * pages (docs/PERFORMANCE.md, the twelfth and fourteenth rounds).
	 */
	gpu_heap_setup(&gpu_heap_query);
	gpu_diag_init(argv[0]);
	status = parse_args(argc, argv, &o);
	if (status >= 0)
		return gpu_close_stdout(status);
	gpu_rates_init(&r);
	gpu_hashmap_init(&known);
	if (gpu_rates_resolve(&r, o.rates, o.flag, &bad_usage, &err) != 0) {
		if (bad_usage) {
			status = gpu_usage_error_err(usage_line, &err);
		} else {
			gpu_msg_err(&err);
			status = GPU_EXIT_FAIL;
		}
		goto out;
	}
	/* gpuagg reads the same variable, but not the rate card. */
	if (o.input != NULL && r.src[GPU_RATE_THRESHOLD] == GPU_SRC_FILE)
		gpu_warn("memory_overage_threshold_gb of '%s' is not applied "
			 "to --input: its mem_overage_mib_seconds is billed "
			 "as aggregated",
			 o.rates);
	bill = gpu_bill_new(&r);
	if ((o.input != NULL ? bill_read_input(bill, &o, &r, &known, &err)
			     : bill_read_db(bill, &o, &r, &known, &err)) != 0) {
		gpu_msg_err(&err);
		status = GPU_EXIT_FAIL;
		goto out;
	}
	gpu_bill_report(bill, o.by, o.share_idle, o.user, o.project, &rep);
	status = check_match(&o, &known, &rep);
	if (status >= 0) {
		gpu_bill_report_release(&rep);
		goto out;
	}
	status = GPU_EXIT_OK;
	if (rep.overflow) {
		report_overflow(&rep, o.by);
		status = GPU_EXIT_FAIL;
	} else if (o.fmt == OUT_INVOICE)
		bill_write_invoice(&rep, &o, &r);
	else if (o.fmt == OUT_FOCUS && bill_write_focus(&rep, &o, &r) != 0)
		status = GPU_EXIT_FAIL;
	else if (o.fmt != OUT_FOCUS && bill_write_rows(&rep, &o, &r) != 0)
		status = GPU_EXIT_FAIL;
	gpu_bill_report_release(&rep);
out:
	gpu_hashmap_release(&known);
	gpu_bill_free(bill);
	gpu_rates_release(&r);
	return gpu_close_stdout(status);
}
