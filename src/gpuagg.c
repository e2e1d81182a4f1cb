/* SPDX-License-Identifier: MIT */
/* gpuagg: GPU usage aggregates by period and dimension (SPEC.md section 3). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpu/agg.h"
#include "gpu/heap.h"
#include "gpu/query.h"
#include "gpu/rollup.h"
#include "gpu/db.h"
#include "gpu/money.h"
#include "gpu/diag.h"
#include "gpu/interval.h"
#include "gpu/num.h"
#include "gpu/opt.h"
#include "gpu/outfile.h"
#include "gpu/readahead.h"
#include "gpu/reader.h"
#include "gpu/time.h"
#include "gpu/writer.h"
#include "gpuagg.h"

static const char usage_line[] =
    "usage: gpuagg [--db PATH | --input FILE|-] [-p hour|day|week|month|all]"
    "\n              [-b DIM[,DIM...]] [--from T] [--to T | --last DUR]"
    "\n              [-m LIST]"
    "\n              [-f csv|json|jsonl|table|prometheus] [-o FILE]"
    "\n              [-n N] [-s METRIC] [-w COND]"
    "\n              [--interval S] [--node NAME] [--at T]"
    "\n              [--mem-threshold-gb GB] [--rates FILE]"
    "\n              [FILE...]"
    "\n       gpuagg --refresh [--db PATH]\n";

static const char help_text[] =
    "Aggregate GPU usage by period and dimension.\n"
    "\n"
    "Reads the warehouse (default), or raw or fact samples (CSV or JSON\n"
    "Lines) streamed from files or standard input with --input.\n"
    "\n"
    "  -d, --db PATH            warehouse (default $GPUUSAGE_DB or\n"
    "                           ./gpuusage.db), read-only\n"
    "  -i, --input FILE|-       aggregate samples from FILE (- = stdin)\n"
    "                           as given, without a warehouse\n"
    "  -p, --period P           hour, day, week, month or all (default)\n"
    "  -b, --by DIM[,DIM...]    node, gpu, job, user, project, model,\n"
    "                           profile (MIG), usage_category (idle,\n"
    "                           low, medium, high utilization of each\n"
    "                           sample; read from the facts, slower)\n"
    "                           (default: none, the cluster total)\n"
    "      --from T, --to T     half-open range [from, to): timestamps,\n"
    "                           dates like 2026-11-01, now, today,\n"
    "                           yesterday or -7d (docs/FORMAT.md 1.1)\n"
    "      --last DUR           the range [now - DUR, now): 24h, 7d, 2w\n"
    "  -m, --metrics LIST       metrics to print (default all)\n"
    "  -f, --format F           csv (default), json, jsonl, table or\n"
    "                           prometheus (counters and latest-hour\n"
    "                           gauges by node, gpu, user, project, model;\n"
    "                           see docs/FORMAT.md)\n"
    "  -o, --output FILE        write to FILE (atomically: a temporary\n"
    "                           file renamed into place)\n"
    "  -n, --top N              keep the first N groups of each bucket\n"
    "  -s, --sort METRIC        order each bucket by METRIC, descending\n"
    "  -w, --where COND         keep groups with COND: user=alice,\n"
    "                           project!= (has one), util<5, METRIC>=N;\n"
    "                           repeatable, all must hold\n"
    "      --interval S         seconds of samples without interval_s\n"
    "                           (--input; default: inferred per series)\n"
    "      --input-tz ZONE      read streamed timestamps without an offset\n"
    "                           as local times of the IANA zone\n"
    "      --node NAME          host of streamed input without a node\n"
    "                           (nvidia-smi's own CSV)\n"
    "      --at T               time of streamed input without one (a\n"
    "                           dcgm-exporter scrape read from a pipe)\n"
    "      --mem-threshold-gb GB  memory-overage threshold (default\n"
    "                           $MEMORY_OVERAGE_THRESHOLD_GB or 16)\n"
    "      --rates FILE         rate card for -f prometheus's cost\n"
    "                           (gpubill's; rates also from the\n"
    "                           environment, see gpubill(1))\n"
    "      --refresh            only bring the rollups up to date (the one\n"
    "                           option that writes to the warehouse)\n"
    "      --scan               read the fact table, not the rollup\n"
    "                           (slow; gives the same output)\n"
    "      --csv-safe           quote names beginning with = + - @ tab\n"
    "                           or CR with ' (for spreadsheets)\n"
    "  -v, --verbose            with --refresh, report the hours rebuilt\n"
    "  -h, --help               print this help and exit\n"
    "  -V, --version            print the version and exit\n"
    "\n";

enum {
	OPT_FROM = 256,
	OPT_TO,
	OPT_LAST,
	OPT_INTERVAL,
	OPT_THRESHOLD,
	OPT_REFRESH,
	OPT_SCAN,
	OPT_INPUT_TZ,
	OPT_RATES,
	OPT_CSV_SAFE,
	OPT_NODE,
	OPT_AT,
};

static const struct option long_opts[] = {
    {"by", required_argument, NULL, 'b'},
    {"db", required_argument, NULL, 'd'},
    {"format", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {"input", required_argument, NULL, 'i'},
    {"metrics", required_argument, NULL, 'm'},
    {"top", required_argument, NULL, 'n'},
    {"output", required_argument, NULL, 'o'},
    {"period", required_argument, NULL, 'p'},
    {"sort", required_argument, NULL, 's'},
    {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, 'V'},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"last", required_argument, NULL, OPT_LAST},
    {"where", required_argument, NULL, 'w'},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"mem-threshold-gb", required_argument, NULL, OPT_THRESHOLD},
    {"refresh", no_argument, NULL, OPT_REFRESH},
    {"scan", no_argument, NULL, OPT_SCAN},
    {"input-tz", required_argument, NULL, OPT_INPUT_TZ},
    {"rates", required_argument, NULL, OPT_RATES},
    {"csv-safe", no_argument, NULL, OPT_CSV_SAFE},
    {"node", required_argument, NULL, OPT_NODE},
    {"at", required_argument, NULL, OPT_AT},
    {NULL, 0, NULL, 0},
};

struct opts {
	struct gpu_agg_query q;
	const char *db;
	const char **inputs;
	size_t ninputs;
	const char *input; /* --input */
	unsigned metrics;
	bool has_metrics;
	enum gpu_ofmt fmt;
	bool prom;	    /* -f prometheus */
	unsigned prom_dims; /* its labels: --by as given */
	const char *output;
	const char *rates;     /* --rates */
	const char *threshold; /* --mem-threshold-gb as given */
	bool has_sort;
	enum gpu_metric sort;
	size_t top;
	bool has_top;
	int interval_s;
	bool has_interval; /* --interval given: nothing is inferred */
	struct gpu_tz *tz; /* --input-tz */
	bool refresh;
	bool scan;
	bool verbose;
	bool has_from_to; /* --from or --to */
	const char *last; /* --last */
	struct agg_where where[AGG_MAX_WHERE];
	size_t nwhere;
	bool csv_safe;
	const char *node; /* --node */
	bool has_at;	  /* --at */
	int64_t at_ms;
};

static int
parse_time(const char *arg, const char *opt, int64_t *ms)
{
	const char *why = NULL;

	if (gpu_time_parse_arg(arg, ms, &why) != 0)
		return gpu_usage_error(usage_line, "%s in %s: '%s'",
				       why != NULL ? why : "invalid timestamp",
				       opt, arg);
	return 0;
}

/* A threshold in GiB, within gpubill's bounds (gpu_rate_parse()). */
static int
parse_threshold(const char *arg, const char *what, int64_t *mib)
{
	struct gpu_err err = {0};
	int64_t micro;

	if (gpu_rate_parse(arg, strlen(arg), "memory_overage_threshold_gb",
			   &micro, &err) != 0)
		return gpu_usage_error(usage_line, "%s: %s", what, err.msg);
	*mib = gpu_num_div_round((gpu_i128)micro * 1024, 1000000);
	return 0;
}

static int
parse_count(const char *arg, const char *opt, int64_t lo, int64_t hi,
	    int64_t *v)
{
	if (gpu_num_parse_range(arg, lo, hi, v) != 0)
		return gpu_usage_error(
		    usage_line,
		    "invalid value for %s: '%s' (expected an "
		    "integer from %" PRId64 " to %" PRId64 ")",
		    opt, arg, lo, hi);
	return 0;
}

/* One option for gpu_opt_parse(): -1 to go on, else an exit status. */
static int
take_opt(void *ctx, int c, const char *arg)
{
	struct opts *o = ctx;
	struct gpu_err err = {0};
	int64_t v;

	switch (c) {
	case 'b':
		if (gpu_dims_parse(arg, &o->q.dims, &err) != 0)
			return gpu_usage_error(usage_line, "--by: %s", err.msg);
		return -1;
	case 'd':
		o->db = arg;
		return -1;
	case 'f':
		o->prom = strcmp(arg, "prometheus") == 0;
		if (!o->prom && gpu_ofmt_parse(arg, &o->fmt) != 0)
			return gpu_usage_error(
			    usage_line,
			    "unknown format '%s' (valid: csv, "
			    "json, jsonl, table, prometheus)",
			    arg);
		return -1;
	case 'h':
		printf("%s\n%s", usage_line, help_text);
		agg_print_metrics(stdout);
		return gpu_close_stdout(GPU_EXIT_OK);
	case 'i':
		o->input = arg;
		return -1;
	case 'm':
		if (gpu_metrics_parse(arg, &o->metrics, &err) != 0)
			return gpu_usage_error(usage_line, "--metrics: %s",
					       err.msg);
		o->has_metrics = true;
		return -1;
	case 'n':
		if (parse_count(arg, "--top", 1, INT64_C(1000000000), &v) != 0)
			return GPU_EXIT_USAGE;
		o->top = (size_t)v;
		o->has_top = true;
		return -1;
	case 'o':
		o->output = arg;
		return -1;
	case 'p':
		if (gpu_period_parse(arg, &o->q.period) != 0)
			return gpu_usage_error(
			    usage_line,
			    "unknown period '%s' (valid: hour, "
			    "day, week, month, all)",
			    arg);
		return -1;
	case 's':
		if (gpu_metric_parse(arg, &o->sort, &err) != 0)
			return gpu_usage_error(usage_line, "--sort: %s",
					       err.msg);
		o->has_sort = true;
		return -1;
	case 'v':
		o->verbose = true;
		return -1;
	case 'V':
		printf("gpuagg %s\n", GPU_VERSION);
		return gpu_close_stdout(GPU_EXIT_OK);
	case 'w':
		if (o->nwhere == AGG_MAX_WHERE)
			return gpu_usage_error(usage_line,
					       "at most %d --where conditions",
					       AGG_MAX_WHERE);
		if (agg_where_parse(arg, &o->where[o->nwhere], &err) != 0)
			return gpu_usage_error(usage_line, "--where '%s': %s",
					       arg, err.msg);
		o->nwhere++;
		return -1;
	case OPT_FROM:
		o->has_from_to = true;
		return parse_time(arg, "--from", &o->q.from_ms) != 0
			   ? GPU_EXIT_USAGE
			   : -1;
	case OPT_TO:
		o->has_from_to = true;
		return parse_time(arg, "--to", &o->q.to_ms) != 0
			   ? GPU_EXIT_USAGE
			   : -1;
	case OPT_LAST:
		o->last = arg;
		return -1;
	case OPT_INTERVAL:
		if (parse_count(arg, "--interval", 1, 86400, &v) != 0)
			return GPU_EXIT_USAGE;
		o->interval_s = (int)v;
		o->has_interval = true;
		return -1;
	case OPT_THRESHOLD:
		o->threshold = arg;
		return parse_threshold(arg, "--mem-threshold-gb",
				       &o->q.threshold_mib) != 0
			   ? GPU_EXIT_USAGE
			   : -1;
	case OPT_REFRESH:
		o->refresh = true;
		return -1;
	case OPT_SCAN:
		o->scan = true;
		return -1;
	case OPT_INPUT_TZ:
		gpu_tz_free(o->tz);
		if ((o->tz = gpu_tz_load(arg, &err)) == NULL)
			return gpu_usage_error(usage_line, "%s", err.msg);
		return -1;
	case OPT_RATES:
		o->rates = arg;
		return -1;
	case OPT_CSV_SAFE:
		o->csv_safe = true;
		return -1;
	case OPT_NODE:
		if (*arg == '\0')
			return gpu_usage_error(usage_line, "empty --node");
		o->node = arg;
		return -1;
	case OPT_AT:
		o->has_at = true;
		return parse_time(arg, "--at", &o->at_ms) != 0 ? GPU_EXIT_USAGE
							       : -1;
	default:
		return GPU_EXIT_USAGE; /* getopt_long() returns no other */
	}
}

/*
 * Prometheus output: counters from the first sample, labels of bounded
 * cardinality. o->q becomes the query of the latest hour's gauges (by
 * hour, GPU and model); the counters' query is prom_totals_query().
 */
static int
check_prom(struct opts *o)
{
	if (o->q.dims & GPU_DIM_JOB)
		return gpu_usage_error(
		    usage_line, "-f prometheus: cannot label by job (unbounded "
				"label cardinality; use node, gpu, user, "
				"project, model)");
	if (o->q.dims & GPU_DIM_CATEGORY)
		return gpu_usage_error(
		    usage_line, "-f prometheus: cannot label by "
				"usage_category (counters count every sample; "
				"use node, gpu, user, project, model)");
	if (o->q.period != GPU_PERIOD_ALL || o->q.from_ms != INT64_MIN ||
	    o->has_sort || o->has_top || o->metrics != GPU_METRICS_ALL ||
	    o->nwhere > 0)
		return gpu_usage_error(
		    usage_line, "-f prometheus: --period, --from, --sort, "
				"--top, --metrics and --where do not apply "
				"(counters count every sample)");
	o->prom_dims = o->q.dims;
	o->q.dims |= GPU_DIM_GPU | GPU_DIM_MODEL; /* the model's rate */
	o->q.period = GPU_PERIOD_HOUR;
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	const char *env;
	int rc;

	memset(o, 0, sizeof(*o));
	gpu_agg_query_init(&o->q);
	o->metrics = GPU_METRICS_ALL;
	o->fmt = GPU_OUT_CSV;
	o->interval_s = 60;
	env = getenv("MEMORY_OVERAGE_THRESHOLD_GB");
	if (env != NULL && *env != '\0' &&
	    parse_threshold(env, "MEMORY_OVERAGE_THRESHOLD_GB",
			    &o->q.threshold_mib) != 0)
		return GPU_EXIT_USAGE;
	rc = gpu_opt_parse(argc, argv, ":b:d:f:hi:m:n:o:p:s:vVw:", long_opts,
			   usage_line, take_opt, o);
	if (rc >= 0)
		return rc;
	o->inputs = (const char **)argv + optind;
	o->ninputs = (size_t)(argc - optind);
	if (o->input != NULL) {
		if (o->ninputs > 0)
			return gpu_usage_error(
			    usage_line, "--input and file operands exclude "
					"each other");
		o->inputs = &o->input;
		o->ninputs = 1;
	}
	if (o->ninputs > 0 && o->db != NULL)
		return gpu_usage_error(usage_line,
				       "--db and --input exclude each other");
	if ((o->refresh || o->scan) && o->ninputs > 0)
		return gpu_usage_error(usage_line,
				       "--refresh and --scan need a warehouse, "
				       "not --input");
	if (o->tz != NULL && o->ninputs == 0)
		return gpu_usage_error(usage_line,
				       "--input-tz needs --input: a warehouse "
				       "holds UTC (see gpuingest --input-tz)");
	if (o->has_interval && o->ninputs == 0)
		return gpu_usage_error(
		    usage_line, "--interval needs --input: the warehouse "
				"keeps each sample's interval");
	if ((o->node != NULL || o->has_at) && o->ninputs == 0)
		return gpu_usage_error(usage_line,
				       "--node and --at need --input");
	if (o->last != NULL) {
		const char *why = NULL;

		if (o->has_from_to)
			return gpu_usage_error(
			    usage_line, "--last excludes --from and --to");
		if (gpu_time_last(o->last, &o->q.from_ms, &o->q.to_ms, &why) !=
		    0)
			return gpu_usage_error(usage_line, "%s in --last: '%s'",
					       why, o->last);
	}
	if (o->q.from_ms >= o->q.to_ms)
		return gpu_usage_error(usage_line,
				       "empty time range: --from is not before "
				       "--to");
	if (o->prom && check_prom(o) != 0)
		return GPU_EXIT_USAGE;
	if (o->rates != NULL && !o->prom)
		return gpu_usage_error(usage_line,
				       "--rates needs -f prometheus");
	for (size_t i = 0; i < o->nwhere; i++)
		if (o->where[i].key >= 0 &&
		    !agg_has_key(&o->q, o->where[i].key))
			return gpu_usage_error(
			    usage_line,
			    "--where '%s' needs that column in --by",
			    o->where[i].arg);
	if (o->has_top && !o->has_sort) {
		o->has_sort = true;
		o->sort = GPU_M_GPU_SECONDS;
	}
	return -1;
}

/*
 * Make *fp seekable for a second pass: a pipe is copied to a temporary
 * file (*spooled, closed by the caller). Returns its start, or -1
 * (reported).
 */
static off_t
seekable(FILE **fp, FILE **spooled, const char *src)
{
	struct stat st;
	char block[65536];
	size_t n;
	FILE *tmp;
	off_t pos;

	if (fstat(fileno(*fp), &st) == 0 && S_ISREG(st.st_mode) &&
	    (pos = ftello(*fp)) >= 0)
		return pos;
	if ((tmp = tmpfile()) == NULL) {
		gpu_msg("cannot create a temporary file: %s", strerror(errno));
		return -1;
	}
	while ((n = fread(block, 1, sizeof(block), *fp)) > 0)
		if (fwrite(block, 1, n, tmp) != n)
			break;
	if (ferror(*fp) || ferror(tmp) || fflush(tmp) != 0) {
		gpu_msg("%s: cannot read or spool input: %s", src,
			strerror(errno));
		fclose(tmp);
		return -1;
	}
	rewind(tmp);
	*fp = *spooled = tmp;
	return 0;
}

/*
 * The first pass over an input (SPEC.md 1.2): each series' interval, or
 * NULL (reported) when the input cannot be read twice.
 */
static struct gpu_interval *
infer_intervals(FILE **fp, FILE **spooled, const char *src,
		const struct gpu_reader_opts *ropts, struct gpu_tz *tz)
{
	struct gpu_interval *iv;
	off_t pos = seekable(fp, spooled, src);

	if (pos < 0)
		return NULL;
	iv = gpu_interval_scan(*fp, src, ropts, tz, 0, 0);
	clearerr(*fp);
	if (fseeko(*fp, pos, SEEK_SET) != 0) {
		gpu_msg("%s: cannot read the input again: %s", src,
			strerror(errno));
		gpu_interval_free(iv);
		return NULL;
	}
	return iv;
}

/*
 * Where read_input() adds samples: to a; with -f prometheus also to hour,
 * the groups of the latest hour seen (hour_ms), which a later hour's
 * first sample replaces, so that memory holds one hour's groups.
 */
struct feed {
	struct gpu_agg *a;
	const struct gpu_agg_query *hq; /* -f prometheus: hour's query */
	struct gpu_agg *hour;
	int64_t hour_ms;
};

static void
feed_add(struct feed *f, const struct gpu_sample *s, int interval_s)
{
	int64_t h;

	gpu_agg_add_sample(f->a, s, interval_s);
	if (f->hq == NULL || s->ts_ms < f->hq->from_ms ||
	    s->ts_ms >= f->hq->to_ms)
		return;
	h = gpu_period_start(GPU_PERIOD_HOUR, s->ts_ms);
	if (h < f->hour_ms)
		return;
	if (h > f->hour_ms) {
		gpu_agg_free(f->hour);
		f->hour = gpu_agg_new(f->hq);
		f->hour_ms = h;
	}
	gpu_agg_add_sample(f->hour, s, interval_s);
}

/* Aggregate one input file into f; returns 0 or -1 (reported). */
static int
read_input(const char *name, const struct opts *o, struct feed *f,
	   long *rejected)
{
	struct gpu_reader_opts ropts = {0};
	struct gpu_reader *r;
	struct gpu_err err = {0};
	struct gpu_sample s;
	struct gpu_reject rej;
	const char *src = name;
	FILE *fp = stdin, *in = stdin, *spooled = NULL;
	struct gpu_interval *iv = NULL;
	struct gpu_readahead *ra;
	long long offset;
	off_t start;
	size_t known;
	long line;
	int rc;

	if (strcmp(name, "-") == 0) {
		src = "<stdin>";
	} else if ((fp = fopen(name, "rb")) == NULL) {
		gpu_msg("cannot open '%s': %s", name, strerror(errno));
		return -1;
	}
	in = fp;
	ropts.format = GPU_FMT_AUTO;
	ropts.node = o->node;
	ropts.has_at = o->has_at;
	ropts.at_ms = o->at_ms;
	if (!o->has_interval &&
	    (iv = infer_intervals(&fp, &spooled, src, &ropts, o->tz)) == NULL) {
		r = NULL;
		rc = -1;
		goto out;
	}
	start = ftello(fp);
	if ((rc = gpu_reader_open(fp, src, &ropts, &r, &err)) != 0) {
		/* What the input lacks, and how to give it. */
		gpu_msg_err_hint(&err, gpu_reader_open_hint(rc));
		r = NULL;
		rc = -1;
		goto out;
	}
	gpu_reader_set_tz(r, o->tz);
	if (*gpu_reader_unknown(r) != '\0')
		gpu_warn("%s: ignoring unknown columns: %s", src,
			 gpu_reader_unknown(r));
	known = strlen(gpu_reader_unknown(r));
	/* Rows are parsed and checked on other threads while these add. */
	ra = gpu_readahead_start_split(r, fp, start, src, &ropts, 0, 0);
	while (
	    (rc = ra != NULL
		      ? gpu_readahead_next(ra, &s, &line, &rej, &offset, &err)
		      : gpu_reader_next(r, &s, &line, &rej, &err)) > 0) {
		if (rc == GPU_READ_REJECT) {
			gpu_msg_at(src, rej.line, "%s (row skipped)",
				   rej.reason);
			(*rejected)++;
			continue;
		}
		if (iv != NULL && s.interval_s == 0)
			s.interval_s = gpu_interval_of(iv, &s);
		feed_add(f, &s, o->interval_s);
	}
	gpu_readahead_stop(ra);
	/* JSON Lines: keys first met after the first line (the list grows). */
	if (strlen(gpu_reader_unknown(r)) > known)
		gpu_warn("%s: ignoring unknown columns: %s", src,
			 gpu_reader_unknown(r) + known + (known > 0));
	if (rc < 0)
		gpu_msg_err(&err);
out:
	gpu_reader_free(r);
	gpu_interval_free(iv);
	if (spooled != NULL)
		fclose(spooled);
	if (in != stdin)
		fclose(in);
	else
		clearerr(stdin);
	return rc < 0 ? -1 : 0;
}

/*
 * Read every input into f: into one aggregate of o->q, or with -f
 * prometheus into the counters' and the latest hour's. Returns an exit
 * status (reported).
 */
static int
run_inputs(const struct opts *o, struct feed *f)
{
	long rejected = 0;
	int status = GPU_EXIT_OK;

	for (size_t i = 0; i < o->ninputs; i++)
		if (read_input(o->inputs[i], o, f, &rejected) != 0)
			status = GPU_EXIT_FAIL;
	if (rejected > 0)
		gpu_warn("%ld rejected row%s skipped", rejected,
			 rejected == 1 ? "" : "s");
	gpu_agg_finish(f->a);
	if (f->hour != NULL)
		gpu_agg_finish(f->hour);
	return status;
}

/*
 * Open the warehouse: read-only, or with --refresh as a writer once the
 * read-only open has found it. Returns 0, or -1 (reported).
 */
static int
open_db(const struct opts *o, const char *path, sqlite3 **db)
{
	struct gpu_db_opts dopts = {.readonly = true,
				    .lock_timeout_ms = GPU_DB_LOCK_TIMEOUT_MS};
	struct gpu_err err = {0};
	size_t hours = 0;
	int rc = gpu_db_open(path, &dopts, db, &err);

	/* A writer migrates, and rolls back a killed first run. */
	if (o->refresh &&
	    (rc == 0 || rc == GPU_DB_OUTDATED || rc == GPU_DB_INTERRUPTED)) {
		gpu_db_close(*db, NULL);
		dopts.readonly = false;
		rc = gpu_db_open_existing(path, &dopts, db, &err);
		if (rc == 0)
			rc = gpu_rollup_refresh(*db, &hours, &err);
		if (rc == 0 && o->verbose)
			gpu_msg("refreshed %zu hour%s", hours,
				hours == 1 ? "" : "s");
	}
	if (rc == GPU_DB_OUTDATED)
		gpu_msg("%s: run gpuingest on it", err.msg);
	else if (rc != 0)
		gpu_msg_err(&err);
	return rc == 0 ? 0 : -1;
}

/*
 * Close db (NULL: none) after work that ended in status; a failure to
 * close (reported) fails it. Returns the exit status.
 */
static int
close_db(sqlite3 *db, int status)
{
	struct gpu_err err = {0};

	if (gpu_db_close(db, &err) != 0) {
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	return status;
}

/*
 * --refresh: bring the rollups up to date; with --scan, then also read
 * the facts into *out. Returns an exit status (reported).
 */
static int
run_db(const struct opts *o, struct gpu_agg **out)
{
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	int status = GPU_EXIT_OK;

	*out = NULL;
	if (open_db(o, gpu_db_path(o->db), &db) != 0) {
		status = GPU_EXIT_FAIL;
	} else if (o->scan && gpu_query_scan(db, &o->q, out, &err) != 0) {
		gpu_msg_err(&err);
		status = GPU_EXIT_FAIL;
	}
	return close_db(db, status);
}

/*
 * The widest table line: none with --metrics or off a table; else COLUMNS,
 * or 80 on a terminal (where COLUMNS is seldom exported).
 */
static size_t
table_width(const struct opts *o)
{
	const char *c = getenv("COLUMNS");
	int64_t v;

	if (o->fmt != GPU_OUT_TABLE || o->has_metrics || o->output != NULL)
		return 0;
	if (c != NULL && gpu_num_parse_i64(c, strlen(c), &v) == 0 && v > 0 &&
	    v <= 100000)
		return (size_t)v;
	return isatty(STDOUT_FILENO) ? 80 : 0;
}

/* Print a's groups as the options say; returns 0 or -1 (reported). */
static int
write_groups(const struct gpu_agg *a, const struct opts *o)
{
	const struct gpu_group **g;
	struct gpu_outfile of;
	struct gpu_err err = {0};
	size_t n;
	int rc;

	if (gpu_outfile_open(&of, o->output, &err) != 0) {
		gpu_msg_err(&err);
		return -1;
	}
	g = gpu_xcalloc(gpu_agg_count(a) + 1, sizeof(*g));
	n = agg_order(a, o->has_sort, o->sort, o->top, o->where, o->nwhere, g);
	rc = agg_write(g, n, &o->q, of.fp, o->fmt, o->metrics, table_width(o),
		       o->csv_safe);
	free(g);
	/* The commit reports a file's write error; gpu_close_stdout() ours. */
	if (gpu_outfile_commit(&of, &err) != 0) {
		gpu_msg_err(&err);
		return -1;
	}
	return rc;
}

/* Where stream_db() writes each bucket's groups. */
struct stream {
	const struct opts *o;
	struct agg_out *out;
	const struct gpu_group **g; /* a bucket's groups in output order */
	size_t cap;
};

/* Write the groups of one bucket (a gpu_query_fn). */
static int
write_bucket(void *ctx, struct gpu_agg *a, struct gpu_err *err)
{
	struct stream *s = ctx;
	const struct opts *o = s->o;
	size_t n = gpu_agg_count(a);

	(void)err;
	if (n >= s->cap) {
		s->cap = n + 1;
		s->g = gpu_xreallocarray(s->g, s->cap, sizeof(*s->g));
	}
	n = agg_order(a, o->has_sort, o->sort, o->top, o->where, o->nwhere,
		      s->g);
	agg_out_take(s->out, a, s->g, n);
	return GPU_QUERY_KEPT;
}

/*
 * Run o's query on db bucket by bucket into fn (gpu_query_each()), then
 * close db. Returns an exit status (reported).
 */
static int
each_and_close(const struct opts *o, sqlite3 *db, gpu_query_fn *fn, void *ctx)
{
	struct gpu_err err = {0};

	if (gpu_query_each(db, &o->q, o->scan, fn, ctx, &err) != 0) {
		gpu_msg_err(&err);
		return close_db(db, GPU_EXIT_FAIL);
	}
	return close_db(db, GPU_EXIT_OK);
}

/*
 * Query the warehouse and print the groups bucket by bucket, holding one
 * bucket's groups at a time (a year by hour and GPU is millions of
 * groups). Standard output is held back until the query has succeeded,
 * so that a failure prints nothing. Returns an exit status (reported).
 */
static int
stream_db(const struct opts *o)
{
	const char *path = gpu_db_path(o->db);
	struct stream s = {o, NULL, NULL, 0};
	struct gpu_outfile of;
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	int status = GPU_EXIT_FAIL;

	if (open_db(o, path, &db) != 0)
		return GPU_EXIT_FAIL;
	if (gpu_outfile_open(&of, o->output, &err) != 0) {
		gpu_msg_err(&err);
		gpu_db_close(db, NULL);
		return GPU_EXIT_FAIL;
	}
	gpu_outfile_hold(&of);
	s.out = agg_out_new(&o->q, of.fp, o->fmt, o->metrics, table_width(o),
			    o->csv_safe);
	/* Formatting runs beside the query (a third of an hourly query). */
	agg_out_thread(s.out);
	status = each_and_close(o, db, write_bucket, &s);
	free(s.g);
	if (status != GPU_EXIT_OK) {
		agg_out_free(s.out);
		gpu_outfile_abort(&of);
		return status;
	}
	/* The commit reports a file's write error; gpu_close_stdout() ours. */
	status = agg_out_finish(s.out) == 0 ? GPU_EXIT_OK : GPU_EXIT_FAIL;
	if (gpu_outfile_commit(&of, &err) != 0) {
		gpu_msg_err(&err);
		status = GPU_EXIT_FAIL;
	}
	return status;
}

/*
 * -f prometheus: the counters' query, over the whole range (every sample
 * before --to) by the labels and the model (for its rate), so that the
 * warehouse answers it from its day rows.
 */
static struct gpu_agg_query
prom_totals_query(const struct opts *o)
{
	struct gpu_agg_query q = o->q;

	q.period = GPU_PERIOD_ALL;
	q.dims = o->prom_dims | GPU_DIM_MODEL;
	return q;
}

/* The latest hour's gauge query (o->q) from the hour of latest_ms. */
static struct gpu_agg_query
prom_hour_query(const struct opts *o, int64_t latest_ms)
{
	struct gpu_agg_query q = o->q;

	q.from_ms = gpu_period_start(GPU_PERIOD_HOUR, latest_ms);
	return q;
}

/* Fold the counters' groups into the series (a gpu_query_fn). */
static int
prom_totals(void *ctx, struct gpu_agg *a, struct gpu_err *err)
{
	(void)err;
	prom_add_totals(ctx, a);
	return 0;
}

/* Fold the latest hour's groups into the series' gauges (a gpu_query_fn). */
static int
prom_hour(void *ctx, struct gpu_agg *a, struct gpu_err *err)
{
	(void)err;
	prom_add_hour(ctx, a);
	return 0;
}

/*
 * p's two queries on db, in one read transaction so that they see the
 * same samples: the counters over the whole range, then the gauges of
 * the latest hour they found. Returns 0, or -1 (err set).
 */
static int
prom_query(const struct opts *o, sqlite3 *db, struct prom *p,
	   struct gpu_err *err)
{
	struct gpu_agg_query tq = prom_totals_query(o), hq;
	int64_t latest;
	int rc;

	if (gpu_db_exec(db, "BEGIN", err) != 0)
		return -1;
	rc = gpu_query_each(db, &tq, o->scan, prom_totals, p, err);
	if (rc == 0 && (latest = prom_latest_ms(p)) != INT64_MIN) {
		hq = prom_hour_query(o, latest);
		rc = gpu_query_each(db, &hq, o->scan, prom_hour, p, err);
	}
	/* A read transaction: its end cannot lose anything. */
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* Print p's series as -o says. Returns an exit status (reported). */
static int
prom_output(const struct opts *o, struct prom *p)
{
	struct gpu_outfile of;
	struct gpu_err err = {0};
	int status;

	if (gpu_outfile_open(&of, o->output, &err) != 0) {
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	status = prom_write(p, of.fp) == 0 ? GPU_EXIT_OK : GPU_EXIT_FAIL;
	/* The commit reports a file's write error; gpu_close_stdout() ours. */
	if (gpu_outfile_commit(&of, &err) != 0) {
		gpu_msg_err(&err);
		status = GPU_EXIT_FAIL;
	}
	return status;
}

/*
 * -f prometheus from the warehouse. The counters' query reads day rows
 * for the whole days, so a run reads about a row per GPU, job and day
 * kept, and the latest hour's query an hour's rows. Memory holds the
 * label sets and their groups. Returns an exit status (reported).
 */
static int
prom_db(const struct opts *o, const struct gpu_rates *r)
{
	struct prom *p = prom_new(o->prom_dims, r);
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	int status = GPU_EXIT_FAIL;

	if (open_db(o, gpu_db_path(o->db), &db) == 0) {
		if (prom_query(o, db, p, &err) == 0)
			status = GPU_EXIT_OK;
		else
			gpu_msg_err(&err);
	}
	status = close_db(db, status);
	if (status == GPU_EXIT_OK)
		status = prom_output(o, p);
	prom_free(p);
	return status;
}

/*
 * -f prometheus from the inputs: the counters' aggregate over every
 * sample, the gauges from the latest hour's. Returns an exit status
 * (reported).
 */
static int
prom_inputs(const struct opts *o, const struct gpu_rates *r)
{
	struct gpu_agg_query tq = prom_totals_query(o);
	struct feed f = {gpu_agg_new(&tq), &o->q, NULL, INT64_MIN};
	struct prom *p = prom_new(o->prom_dims, r);
	int status = run_inputs(o, &f);

	if (status == GPU_EXIT_OK) {
		prom_add_totals(p, f.a);
		if (f.hour != NULL)
			prom_add_hour(p, f.hour);
		status = prom_output(o, p);
	}
	prom_free(p);
	gpu_agg_free(f.hour);
	gpu_agg_free(f.a);
	return status;
}

/*
 * The rates of -f prometheus's cost, as gpubill resolves them; the rate
 * card's threshold also sets the query's. Returns -1 to go on, else an
 * exit status (reported).
 */
static int
resolve_rates(struct opts *o, struct gpu_rates *r)
{
	const char *flag[GPU_RATE_NKEYS] = {NULL};
	struct gpu_err err = {0};
	bool bad_usage = false;

	if (!o->prom)
		return -1;
	flag[GPU_RATE_THRESHOLD] = o->threshold;
	if (gpu_rates_resolve(r, o->rates, flag, &bad_usage, &err) != 0) {
		if (bad_usage)
			return gpu_usage_error_err(usage_line, &err);
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	o->q.threshold_mib = gpu_rates_threshold_mib(r);
	return -1;
}

int
main(int argc, char **argv)
{
	struct gpu_agg *a = NULL;
	struct gpu_rates r;
	struct opts o;
	int status;

	/* Groups of a query on huge pages (docs/PERFORMANCE.md). */
	gpu_heap_setup(&gpu_heap_query);
	gpu_diag_init(argv[0]);
	if ((status = parse_args(argc, argv, &o)) >= 0) {
		gpu_tz_free(o.tz);
		return status;
	}
	gpu_rates_init(&r);
	if ((status = resolve_rates(&o, &r)) >= 0) {
		gpu_rates_release(&r);
		gpu_tz_free(o.tz);
		return status;
	}
	if (o.prom && o.ninputs > 0) {
		status = prom_inputs(&o, &r);
	} else if (o.ninputs > 0) {
		struct feed f = {gpu_agg_new(&o.q), NULL, NULL, INT64_MIN};

		status = run_inputs(&o, &f);
		a = f.a;
	} else if (o.prom && (!o.refresh || o.scan)) {
		status = prom_db(&o, &r);
	} else if (o.refresh) {
		status = run_db(&o, &a);
	} else {
		status = stream_db(&o);
	}
	/*
	 * A tool that fails prints no data: a partial aggregate would be
	 * billed by the next stage of a pipe.
	 */
	if (a != NULL && status == GPU_EXIT_OK && write_groups(a, &o) != 0)
		status = GPU_EXIT_FAIL;
	gpu_agg_free(a);
	gpu_tz_free(o.tz);
	gpu_rates_release(&r);
	return gpu_close_stdout(status);
}
