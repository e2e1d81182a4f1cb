/* SPDX-License-Identifier: MIT */
/* gpureport: write one self-contained HTML dashboard of a warehouse period. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/db.h"
#include "gpu/diag.h"
#include "gpu/heap.h"
#include "gpu/money.h"
#include "gpu/num.h"
#include "gpu/opt.h"
#include "gpu/outfile.h"
#include "gpu/time.h"
#include "gpureport.h"

enum {
	OPT_FROM = 256,
	OPT_TO,
	OPT_LAST,
	OPT_RATES,
	OPT_GPU_RATE,
	OPT_MEM_RATE,
	OPT_THRESHOLD,
	OPT_OVERHEAD,
	OPT_JOB,
	OPT_LOW_UTIL,
	OPT_IDLE_SHARE,
	OPT_SMALL_MEM,
	OPT_REFRESH,
	OPT_TEXT
};

static const char usage_text[] =
    "usage: gpureport [-d path] [--from time] [--to time | --last dur]\n"
    "                 [-o file] [--rates file] [--gpu-rate X] [--mem-rate X]\n"
    "                 [--mem-threshold-gb X] [--overhead-rate X]\n"
    "                 [--refresh SECONDS]\n"
    "       gpureport --job ID [--text] [--low-util-pct P]\n"
    "                 [--idle-share-pct P] [--small-mem-gb GB]\n"
    "                 [options above]\n";

static const char help_text[] =
    "Write one self-contained HTML page (no network, works from file://)\n"
    "with the usage, utilization and cost of a period of the warehouse:\n"
    "key figures, hourly series, cost by user, project and day, a node\n"
    "heat map and the jobs, with filters applied in the page. Figures come\n"
    "from the same code as gpuagg and amounts from the same code as\n"
    "gpubill, priced with the same rates.\n"
    "\n"
    "  -d, --db PATH             warehouse (default $GPUUSAGE_DB or\n"
    "                            ./gpuusage.db)\n"
    "      --from TIME           start of the period, included (default\n"
    "                            the first day of the month of --to)\n"
    "      --to TIME             end of the period, excluded (default the\n"
    "                            day after the latest sample); times may\n"
    "                            be relative: now, today, -7d\n"
    "      --last DUR            the period [now - DUR, now): 24h, 7d\n"
    "  -o, --output FILE         write to FILE (atomically) instead of\n"
    "                            stdout (never a terminal)\n"
    "      --rates FILE          rate card, as gpubill reads it\n"
    "      --gpu-rate X          per allocated GPU-hour "
    "($GPU_HOURLY_RATE, 2.50)\n"
    "      --mem-rate X          per GiB-hour above the threshold\n"
    "                            ($MEMORY_OVERAGE_RATE, 0.10)\n"
    "      --mem-threshold-gb X  memory-overage threshold, GiB\n"
    "                            ($MEMORY_OVERAGE_THRESHOLD_GB, 16)\n"
    "      --overhead-rate X     fraction of the subtotal\n"
    "                            ($CLUSTER_OVERHEAD_RATE, 0.05)\n"
    "      --refresh SECONDS     the page reloads itself every SECONDS\n"
    "                            (for a wall screen), keeping its filters\n"
    "      --job ID              instead of the period's page, one job's\n"
    "                            efficiency: a page with a chart, or\n"
    "                            compact text on a terminal or with\n"
    "                            --text (all of the warehouse unless\n"
    "                            --from, --to)\n"
    "      --text                with --job, text even into a file\n"
    "      --low-util-pct P      findings: a GPU below P% utilization is\n"
    "                            unused (default 5)\n"
    "      --idle-share-pct P    findings: report idle allocated time from\n"
    "                            P% of the allocation (default 25)\n"
    "      --small-mem-gb GB     findings: a peak below GB GiB fits a\n"
    "                            smaller GPU or a MIG slice (default 20)\n"
    "  -h, --help                show this help and exit\n"
    "  -V, --version             show the version and exit\n";

static const struct option long_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"db", required_argument, NULL, 'd'},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"last", required_argument, NULL, OPT_LAST},
    {"rates", required_argument, NULL, OPT_RATES},
    {"gpu-rate", required_argument, NULL, OPT_GPU_RATE},
    {"mem-rate", required_argument, NULL, OPT_MEM_RATE},
    {"mem-threshold-gb", required_argument, NULL, OPT_THRESHOLD},
    {"overhead-rate", required_argument, NULL, OPT_OVERHEAD},
    {"job", required_argument, NULL, OPT_JOB},
    {"refresh", required_argument, NULL, OPT_REFRESH},
    {"text", no_argument, NULL, OPT_TEXT},
    {"low-util-pct", required_argument, NULL, OPT_LOW_UTIL},
    {"idle-share-pct", required_argument, NULL, OPT_IDLE_SHARE},
    {"small-mem-gb", required_argument, NULL, OPT_SMALL_MEM},
    {NULL, 0, NULL, 0}};

struct opts {
	const char *db;
	const char *output;
	const char *rates;
	const char *rate_flag[GPU_RATE_NKEYS];
	int64_t from_ms;
	int64_t to_ms;
	const char *job;
	struct report_job_limits lim;
	int refresh_s;
	bool text; /* --text */
	const char *last;
};

/* A percentage or GiB option: a number from 0 to max. */
static int
parse_limit(const char *opt, const char *arg, double max, double *v)
{
	if (gpu_num_parse_double(arg, strlen(arg), v) == 0 && *v >= 0 &&
	    *v <= max)
		return 0;
	return gpu_usage_error(usage_text,
			       "invalid value for option --%s: '%s' (a "
			       "number from 0 to %g)",
			       opt, arg, max);
}

static int
parse_time(const char *opt, const char *arg, int64_t *ms)
{
	const char *why = NULL;

	if (gpu_time_parse_arg(arg, ms, &why) == 0)
		return 0;
	return gpu_usage_error(usage_text, "%s for option --%s: '%s'",
			       why != NULL ? why : "invalid time", opt, arg);
}

/* One option for gpu_opt_parse(): -1 to go on, else an exit status. */
static int
take_opt(void *ctx, int c, const char *arg)
{
	struct opts *o = ctx;
	int64_t secs;
	double gb;

	switch (c) {
	case 'd':
		o->db = arg;
		return -1;
	case 'o':
		o->output = arg;
		return -1;
	case 'h':
		fputs(usage_text, stdout);
		fputs("\n", stdout);
		fputs(help_text, stdout);
		return gpu_close_stdout(GPU_EXIT_OK);
	case 'V':
		printf("%s %s\n", gpu_progname(), GPU_VERSION);
		return gpu_close_stdout(GPU_EXIT_OK);
	case OPT_FROM:
		if (parse_time("from", arg, &o->from_ms) != 0)
			return GPU_EXIT_USAGE;
		return -1;
	case OPT_TO:
		if (parse_time("to", arg, &o->to_ms) != 0)
			return GPU_EXIT_USAGE;
		return -1;
	case OPT_LAST:
		o->last = arg;
		return -1;
	case OPT_RATES:
		o->rates = arg;
		return -1;
	case OPT_GPU_RATE:
		o->rate_flag[GPU_RATE_GPU] = arg;
		return -1;
	case OPT_MEM_RATE:
		o->rate_flag[GPU_RATE_MEM] = arg;
		return -1;
	case OPT_THRESHOLD:
		o->rate_flag[GPU_RATE_THRESHOLD] = arg;
		return -1;
	case OPT_OVERHEAD:
		o->rate_flag[GPU_RATE_OVERHEAD] = arg;
		return -1;
	case OPT_JOB:
		o->job = arg;
		return -1;
	case OPT_TEXT:
		o->text = true;
		return -1;
	case OPT_REFRESH:
		if (gpu_num_parse_range(arg, 1, 86400, &secs) != 0)
			return gpu_usage_error(
			    usage_text,
			    "invalid value for option --refresh: '%s' "
			    "(an integer from 1 to 86400)",
			    arg);
		o->refresh_s = (int)secs;
		return -1;
	case OPT_LOW_UTIL:
		return parse_limit("low-util-pct", arg, 100,
				   &o->lim.low_util_pct) != 0
			   ? GPU_EXIT_USAGE
			   : -1;
	case OPT_IDLE_SHARE:
		return parse_limit("idle-share-pct", arg, 100,
				   &o->lim.idle_share_pct) != 0
			   ? GPU_EXIT_USAGE
			   : -1;
	case OPT_SMALL_MEM:
		if (parse_limit("small-mem-gb", arg, 1e6, &gb) != 0)
			return GPU_EXIT_USAGE;
		o->lim.small_mem_gb = gb; /* compared as given, not in MiB */
		return -1;
	default:
		return GPU_EXIT_USAGE; /* getopt_long() returns no other */
	}
}

/* Returns -1 to go on, else the exit status. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	o->from_ms = INT64_MIN;
	o->to_ms = INT64_MAX;
	o->lim.low_util_pct = 5;
	o->lim.idle_share_pct = 25;
	o->lim.small_mem_gb = 20;
	rc = gpu_opt_parse(argc, argv, ":d:o:hV", long_opts, usage_text,
			   take_opt, o);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return gpu_opt_operand_error(usage_text, argv[optind]);
	if (o->job != NULL && o->job[0] == '\0')
		return gpu_usage_error(usage_text, "--job: empty job id");
	if (o->text && o->job == NULL)
		return gpu_usage_error(usage_text,
				       "--text applies to --job only (the "
				       "cluster report is HTML)");
	if (o->last != NULL) {
		const char *why = NULL;

		if (o->from_ms != INT64_MIN || o->to_ms != INT64_MAX)
			return gpu_usage_error(
			    usage_text, "--last excludes --from and --to");
		if (gpu_time_last(o->last, &o->from_ms, &o->to_ms, &why) != 0)
			return gpu_usage_error(usage_text, "%s in --last: '%s'",
					       why, o->last);
	}
	if (o->from_ms != INT64_MIN && o->to_ms != INT64_MAX &&
	    o->from_ms >= o->to_ms)
		return gpu_usage_error(
		    usage_text, "empty period: --from is not before --to");
	/* 100 KB of HTML is no use on a terminal; a redirect is meant. */
	if ((o->output == NULL || strcmp(o->output, "-") == 0) &&
	    isatty(STDOUT_FILENO))
		return gpu_usage_error(usage_text,
				       "will not write HTML to a terminal: "
				       "give -o FILE or redirect standard "
				       "output");
	return -1;
}

/*
 * Write the page to path ("-": stdout) atomically: a reader never sees a
 * partial page. Returns 0, or -1 (reported).
 */
static int
write_output(const char *path, const struct gpu_buf *json, int refresh_s)
{
	struct gpu_outfile of;
	struct gpu_err err;

	if (gpu_outfile_open(&of, path, &err) != 0) {
		gpu_msg_err(&err);
		return -1;
	}
	/* A failed write leaves the stream's error flag for commit. */
	(void)report_write_page(of.fp, json, refresh_s);
	if (gpu_outfile_commit(&of, &err) != 0) {
		gpu_msg_err(&err);
		return -1;
	}
	return 0;
}

/* The job report, text to o->output; returns the exit status. */
static int
write_job(sqlite3 *db, const struct opts *o, const struct gpu_rates *rates)
{
	struct gpu_outfile of;
	struct gpu_err err;
	bool as_html;

	if (gpu_outfile_open(&of, o->output, &err) != 0) {
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	/* Text with --text or on a terminal, else the page. */
	as_html = !o->text && !(of.fp == stdout && isatty(STDOUT_FILENO));
	if (report_job(db, o->from_ms, o->to_ms, o->job, rates, &o->lim,
		       as_html, of.fp, &err) != 0) {
		gpu_msg_err(&err);
		gpu_outfile_abort(&of);
		return GPU_EXIT_FAIL;
	}
	if (gpu_outfile_commit(&of, &err) != 0) {
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	return GPU_EXIT_OK;
}

static int
report(const struct opts *o, const struct gpu_rates *rates)
{
	const char *path = gpu_db_path(o->db);
	struct gpu_db_opts dbo = {.readonly = true,
				  .lock_timeout_ms = GPU_DB_LOCK_TIMEOUT_MS};
	struct report_range range;
	struct gpu_buf json;
	struct gpu_err err;
	sqlite3 *db = NULL;
	int status = GPU_EXIT_FAIL, rc;

	gpu_buf_init(&json);
	/* A report only reads the warehouse: it never creates nor migrates
	 * it, and stale rollups are read from the facts. */
	rc = gpu_db_open(path, &dbo, &db, &err);
	if (rc == GPU_DB_OUTDATED) {
		gpu_msg("%s: run gpuingest on it", err.msg);
		goto out;
	}
	if (rc == 0 && o->job != NULL) {
		status = write_job(db, o, rates);
		goto out;
	}
	if (rc != 0 ||
	    report_range_choose(db, o->from_ms, o->to_ms, &range, &err) != 0 ||
	    report_build_data(db, &range, rates, &json, &err) != 0) {
		gpu_msg_err(&err);
		goto out;
	}
	if (gpu_db_close(db, &err) != 0) {
		db = NULL;
		gpu_msg_err(&err);
		goto out;
	}
	db = NULL;
	if (write_output(o->output, &json, o->refresh_s) == 0)
		status = GPU_EXIT_OK;
out:
	if (db != NULL)
		gpu_db_close(db, NULL);
	gpu_buf_release(&json);
	return status;
}

int
main(int argc, char **argv)
{
	struct gpu_rates rates;
	struct gpu_err err;
	struct opts o;
	bool bad_usage = false;
	int status;

	/* A month's cells and series on huge pages (docs/PERFORMANCE.md). */
	gpu_heap_setup(&gpu_heap_query);
	gpu_diag_init(argv[0]);
	status = parse_args(argc, argv, &o);
	if (status >= 0)
		return status;
	gpu_rates_init(&rates);
	if (gpu_rates_resolve(&rates, o.rates, o.rate_flag, &bad_usage, &err) !=
	    0) {
		gpu_rates_release(&rates);
		if (bad_usage)
			return gpu_usage_error_err(usage_text, &err);
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	status = report(&o, &rates);
	gpu_rates_release(&rates);
	return gpu_close_stdout(status);
}
