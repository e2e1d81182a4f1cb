/* SPDX-License-Identifier: MIT */
/* gpuingest: load raw GPU samples and job records into the warehouse. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpu/alloc.h"
#include "gpu/buf.h"
#include "gpu/db.h"
#include "gpu/diag.h"
#include "gpu/flusher.h"
#include "gpu/ingest.h"
#include "gpu/interval.h"
#include "gpu/jobs.h"
#include "gpu/num.h"
#include "gpu/opt.h"
#include "gpu/readahead.h"
#include "gpu/reader.h"
#include "gpu/pack.h"
#include "gpu/retention.h"
#include "gpu/rollup.h"
#include "gpu/table.h"
#include "gpu/time.h"
#include "gpuingest.h"

enum {
	OPT_INTERVAL = 256,
	OPT_SOURCE,
	OPT_AT,
	OPT_MAX_REJECT,
	OPT_LOCK_TIMEOUT,
	OPT_DRY_RUN,
	OPT_SUMMARY,
	OPT_PROGRESS,
	OPT_JOB_COLUMNS,
	OPT_INPUT_TZ,
	OPT_ALLOCATIONS,
	OPT_KEEP_RAW,
	OPT_PACK_RAW,
};

/* Rejected rows printed per input before the rest are only counted. */
#define SHOW_REJECTS 10

static const char usage_text[] =
    "usage: gpuingest [-q] [-d db] [-f csv|jsonl|prometheus|auto] [-n node] "
    "[-c column[,column...]]\n"
    "                 [--at time] [-j jobs-file] [--job-columns list] "
    "[--interval s]\n"
    "                 [-a allocations-file ...] [--input-tz zone]\n"
    "                 [--source name] [--max-reject-pct p] "
    "[--lock-timeout s]\n"
    "                 [--dry-run] [--summary text|json] [--progress] "
    "[--keep-raw dur]\n"
    "                 [--pack-raw dur] [file ...]\n";

static const char help_text[] =
    "Load raw GPU samples (docs/FORMAT.md section 1) into the SQLite "
    "warehouse,\n"
    "idempotently: a new (timestamp, node, gpu) is inserted, a known one\n"
    "with other values is updated, an identical one is left unchanged.\n"
    "All inputs of one invocation are one transaction. Bad rows go to the\n"
    "table 'rejects'. '-' reads standard input, as does no file at all\n"
    "unless --jobs or --allocations is given.\n"
    "\n"
    "  -d, --db PATH            warehouse (default $GPUUSAGE_DB, else\n"
    "                           ./gpuusage.db); created when missing\n"
    "  -f, --format F           csv, jsonl, prometheus (dcgm-exporter) or\n"
    "                           auto (default: from the first bytes)\n"
    "      --interval S         seconds a sample stands for when it has no\n"
    "                           interval_s, 1-86400 (default: inferred\n"
    "                           per series, docs/FORMAT.md 1.2)\n"
    "      --input-tz ZONE      read timestamps without an offset as local\n"
    "                           times of the IANA zone (Europe/Copenhagen)\n"
    "      --source NAME        name of standard input in the log and "
    "messages\n"
    "  -j, --jobs FILE          also load job records or Slurm sacct "
    "output\n"
    "                           (docs/FORMAT.md 1.3); without a file "
    "operand,\n"
    "                           only them\n"
    "  -n, --node NAME          host of inputs without a node column "
    "(nvidia-smi)\n"
    "  -c, --columns LIST       column names of input without a header row\n"
    "      --job-columns LIST   column names of a job file without a header\n"
    "                           (default: --columns)\n"
    "  -a, --allocations FILE   also load allocations (docs/FORMAT.md 1.4:\n"
    "                           CSV/JSON Lines, scontrol show job -d,\n"
    "                           prolog/epilog lines) and attribute samples\n"
    "                           to their jobs; may be repeated\n"
    "      --at TIME            timestamp of inputs without a timestamp "
    "column\n"
    "      --max-reject-pct P   fail (roll back) when more than P percent "
    "of an\n"
    "                           input's rows are rejected (default 5)\n"
    "      --lock-timeout S     wait S seconds for a busy warehouse "
    "(default 60)\n"
    "      --keep-raw DUR       then delete the raw samples older than "
    "DUR\n"
    "                           (90d; whole hours, rolled up and exported "
    "to\n"
    "                           any lake first); rollups and bills stay\n"
    "                           (docs/WAREHOUSE.md, Retention); without a "
    "file\n"
    "                           operand, only that\n"
    "      --pack-raw DUR       then pack the raw samples older than DUR,\n"
    "                           a GPU-hour to a row (7d; whole hours, "
    "rolled\n"
    "                           up first); every sample stays readable "
    "in\n"
    "                           gpu_usage_fact, none before it is loaded\n"
    "                           again (docs/WAREHOUSE.md, Packing); "
    "without\n"
    "                           a file operand, only that\n"
    "      --dry-run            validate and count, write nothing\n"
    "      --summary FORM       counts on stdout as text (default) or json\n"
    "  -q, --quiet              no warnings, rejected rows, progress or "
    "text summary\n"
    "      --progress           show progress even when stderr is not a "
    "terminal\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n";

/* The run: options, warehouse, loader, totals. */
struct run {
	const struct opts *o;
	const char *path;
	sqlite3 *db;
	struct gpu_flusher *flusher; /* NULL: none (gpu/flusher.h) */
	struct gpu_ingest *ing;
	struct gpu_ingest_counts samples, jobs, allocs;
	int nsamples;	     /* sample inputs loaded */
	long long *inferred; /* samples by inferred interval, or NULL */
	long long shared;    /* samples of a GPU several jobs held (hpc_job) */

	/* --keep-raw, --pack-raw: given without input, its now, what they did */
	bool keep_only;
	int64_t now;
	struct gpu_retention ret;
	struct gpu_pack pack;
	/* Samples before the raw-sample horizon are rejected: why. */
	int64_t horizon;
	const char *horizon_did; /* "deleted" or "packed" */
	char horizon_why[96];

	bool failed;
	bool db_failed; /* stop at once: the transaction is broken */
};

/*
 * One option for gpu_opt_parse(): -1 to go on, else an exit status
 * (GPU_EXIT_OK after --help or --version).
 */
static int
set_opt(void *ctx, int c, const char *arg)
{
	struct opts *o = ctx;
	struct gpu_err err = {0};
	double d;
	const char *why;

	switch (c) {
	case 'h':
		fputs(usage_text, stdout);
		fputs(help_text, stdout);
		return GPU_EXIT_OK;
	case 'V':
		puts("gpuingest " GPU_VERSION);
		return GPU_EXIT_OK;
	case 'd':
		o->db = arg;
		break;
	case 'f':
		if (gpu_format_parse(arg, &o->format) != 0)
			return gpu_usage_error(usage_text,
					       "unknown format '%s'", arg);
		break;
	case 'j':
		o->jobs = arg;
		break;
	case 'a':
		o->allocs = gpu_xreallocarray(o->allocs, (size_t)o->nallocs + 1,
					      sizeof(*o->allocs));
		o->allocs[o->nallocs++] = arg;
		break;
	case 'n':
		if (gpu_reader_check_node(arg, &err) != 0)
			return gpu_usage_error(usage_text, "%s", err.msg);
		o->node = arg;
		break;
	case 'c':
		if (gpu_table_check_columns(arg, &err) != 0)
			return gpu_usage_error(usage_text, "--columns: %s",
					       err.msg);
		o->columns = arg;
		break;
	case 'q':
		o->quiet = true;
		break;
	case OPT_INTERVAL:
		if (gpu_num_parse_range(arg, 1, 86400, &o->interval_s) != 0)
			return gpu_usage_error(usage_text,
					       "invalid interval '%s'", arg);
		o->has_interval = true;
		break;
	case OPT_SOURCE:
		if (*arg == '\0')
			return gpu_usage_error(usage_text,
					       "invalid source name ''");
		o->source = arg;
		break;
	case OPT_AT:
		if (gpu_time_parse_arg(arg, &o->at_ms, &why) != 0)
			return gpu_usage_error(
			    usage_text, "invalid time for --at '%s'", arg);
		o->has_at = true;
		break;
	case OPT_MAX_REJECT:
		/* Exact: compared in integers (check_rejects()). */
		if (gpu_num_parse_micro(arg, strlen(arg),
					&o->max_reject_micro) != 0 ||
		    o->max_reject_micro < 0 ||
		    o->max_reject_micro > INT64_C(100000000))
			return gpu_usage_error(
			    usage_text, "invalid reject percentage '%s'", arg);
		break;
	case OPT_LOCK_TIMEOUT:
		if (gpu_num_parse_double(arg, strlen(arg), &d) != 0 || d < 0 ||
		    d > 86400)
			return gpu_usage_error(
			    usage_text, "invalid lock timeout '%s'", arg);
		o->lock_timeout_ms = (int64_t)(d * 1000 + 0.5);
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_SUMMARY:
		if (strcmp(arg, "json") == 0)
			o->json = true;
		else if (strcmp(arg, "text") == 0)
			o->json = false;
		else
			return gpu_usage_error(
			    usage_text, "unknown summary format '%s'", arg);
		o->summary_set = true;
		break;
	case OPT_PROGRESS:
		o->progress = true;
		break;
	case OPT_JOB_COLUMNS:
		if (gpu_table_check_columns(arg, &err) != 0)
			return gpu_usage_error(usage_text, "--job-columns: %s",
					       err.msg);
		o->job_columns = arg;
		break;
	case OPT_INPUT_TZ:
		o->input_tz = arg;
		break;
	case OPT_KEEP_RAW:
		if (gpu_time_parse_duration(arg, &o->keep_ms) != 0)
			return gpu_usage_error(
			    usage_text, "invalid duration for --keep-raw '%s'",
			    arg);
		o->keep = arg;
		o->has_keep = true;
		break;
	case OPT_PACK_RAW:
		if (gpu_time_parse_duration(arg, &o->pack_ms) != 0)
			return gpu_usage_error(
			    usage_text, "invalid duration for --pack-raw '%s'",
			    arg);
		o->has_pack = true;
		break;
	default:
		return GPU_EXIT_USAGE;
	}
	return -1;
}

/* Parse argv into o: -1 to go on, else an exit status (after --help: 0). */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'f'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"allocations", required_argument, NULL, 'a'},
	    {"node", required_argument, NULL, 'n'},
	    {"columns", required_argument, NULL, 'c'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    {"source", required_argument, NULL, OPT_SOURCE},
	    {"at", required_argument, NULL, OPT_AT},
	    {"max-reject-pct", required_argument, NULL, OPT_MAX_REJECT},
	    {"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"summary", required_argument, NULL, OPT_SUMMARY},
	    {"progress", no_argument, NULL, OPT_PROGRESS},
	    {"job-columns", required_argument, NULL, OPT_JOB_COLUMNS},
	    {"input-tz", required_argument, NULL, OPT_INPUT_TZ},
	    {"keep-raw", required_argument, NULL, OPT_KEEP_RAW},
	    {"pack-raw", required_argument, NULL, OPT_PACK_RAW},
	    {NULL, 0, NULL, 0},
	};
	return gpu_opt_parse(argc, argv, ":d:f:j:a:n:c:qhV", longopts, usage_text,
			     set_opt, o);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
add_counts(struct gpu_ingest_counts *t, const struct gpu_ingest_counts *c)
{
	t->read += c->read;
	t->inserted += c->inserted;
	t->updated += c->updated;
	t->unchanged += c->unchanged;
	t->superseded += c->superseded;
	t->rejected += c->rejected;
	t->attributed += c->attributed;
	t->overlaps += c->overlaps;
	if (c->has_ts) {
		if (!t->has_ts || c->min_ts_ms < t->min_ts_ms)
			t->min_ts_ms = c->min_ts_ms;
		if (!t->has_ts || c->max_ts_ms > t->max_ts_ms)
			t->max_ts_ms = c->max_ts_ms;
		t->has_ts = true;
	}
}

/* Store and (the first few) report a rejected row. */
static int
reject(struct run *r, const char *source, const struct gpu_reject *rej,
       struct gpu_err *err)
{
	const struct gpu_ingest_counts *c = gpu_ingest_source_counts(r->ing);

	if (!r->o->quiet && c->rejected < SHOW_REJECTS)
		gpu_msg_at(source, rej->line, "%s", rej->reason);
	return gpu_ingest_reject(r->ing, rej->line, rej->reason, rej->raw, err);
}

/* After an input: report hidden rejects; fail past the reject limit. */
static void
check_rejects(struct run *r, const char *source)
{
	const struct gpu_ingest_counts *c = gpu_ingest_source_counts(r->ing);
	struct gpu_buf b;

	if (!r->o->quiet && c->rejected > SHOW_REJECTS)
		gpu_msg("%s: %lld more rejected rows (see table 'rejects')",
			source, (long long)(c->rejected - SHOW_REJECTS));
	/* rejected x 100 > P x read, P in millionths: exactly, in integers. */
	if ((gpu_i128)c->rejected * 100 * 1000000 <=
	    (gpu_i128)r->o->max_reject_micro * c->read)
		return;
	gpu_buf_init(&b);
	gpu_num_fmt_micro(&b, r->o->max_reject_micro);
	gpu_msg("%s: %lld of %lld rows rejected, more than --max-reject-pct "
		"%s",
		source, (long long)c->rejected, (long long)c->read, b.data);
	gpu_buf_release(&b);
	r->failed = true;
}

static void
warn_unknown(const struct run *r, const char *source, const char *list)
{
	if (!r->o->quiet && *list != '\0')
		gpu_warn("%s: ignoring unknown column%s '%s'", source,
			 strchr(list, ',') != NULL ? "s" : "", list);
}

static void
db_error(struct run *r, const struct gpu_err *err)
{
	gpu_msg_err(err);
	r->failed = r->db_failed = true;
}

/* Log the input's digest and counts; -1 when the run cannot go on. */
static int
finish_input(struct run *r, struct input *in)
{
	struct gpu_err err = {{0}, {0}, 0};
	const char *sha = ingest_input_sha(in);

	if (sha == NULL) {
		r->failed = true;
		return -1;
	}
	if (gpu_ingest_end_source(r->ing, sha, now_ms(), &err) != 0) {
		db_error(r, &err);
		return -1;
	}
	return 0;
}

/*
 * The first pass over a sample input (SPEC.md 1.2): each series' interval,
 * or NULL with --interval. Rejects are left to the second pass, which
 * starts where this one did.
 */
static struct gpu_interval *
infer_intervals(struct run *r, struct input *in,
		const struct gpu_reader_opts *ro)
{
	struct gpu_interval *iv;

	if (r->o->has_interval)
		return NULL;
	iv = gpu_interval_scan(in->fp, in->source, ro, r->o->tz, 0, 0);
	clearerr(in->fp);
	if (fseeko(in->fp, in->pos, SEEK_SET) != 0) {
		gpu_msg("%s: cannot read the input again: %s", in->source,
			strerror(errno));
		gpu_interval_free(iv);
		return NULL;
	}
	return iv;
}

/* The sample's duration when it has none: its series'. */
static void
apply_interval(struct run *r, struct gpu_interval *iv, struct gpu_sample *s)
{
	if (iv == NULL || s->interval_s > 0)
		return;
	s->interval_s = gpu_interval_of(iv, s);
	if (r->inferred == NULL)
		r->inferred =
		    gpu_xcalloc(GPU_INTERVAL_MAX + 1, sizeof(*r->inferred));
	r->inferred[s->interval_s]++;
}

static void
load_samples(struct run *r, struct input *in)
{
	const struct opts *o = r->o;
	struct gpu_reader_opts ro = {o->format, o->node, o->columns, o->has_at,
				     o->at_ms};
	struct gpu_reader *rd;
	struct gpu_sample s;
	struct gpu_reject rej;
	struct gpu_err err = {{0}, {0}, 0};
	struct progress p;
	struct gpu_interval *iv = NULL;
	struct gpu_readahead *ra = NULL;
	long long off;
	long line;
	size_t known;
	int rc;

	if (!r->o->has_interval && (iv = infer_intervals(r, in, &ro)) == NULL) {
		r->failed = true;
		return;
	}
	if ((rc = gpu_reader_open(in->fp, in->source, &ro, &rd, &err)) != 0) {
		ingest_open_failed(rc, false, &err);
		r->failed = true;
		gpu_interval_free(iv);
		return;
	}
	gpu_reader_set_tz(rd, o->tz);
	warn_unknown(r, in->source, gpu_reader_unknown(rd));
	known = strlen(gpu_reader_unknown(rd));
	if (gpu_ingest_begin_source(r->ing, in->source, now_ms(), &err) != 0) {
		db_error(r, &err);
		goto out;
	}
	ingest_progress_start(&p, o, in->source, in->size);
	/* Rows are parsed and checked on a second thread while these load. */
	ra = gpu_readahead_start(rd);
	while ((rc = ra != NULL ? gpu_readahead_next(ra, &s, &line, &rej, &off,
						     &err)
				: gpu_reader_next(rd, &s, &line, &rej, &err)) !=
	       0) {
		if (rc < 0) {
			gpu_msg_err(&err);
			r->failed = true;
			break;
		}
		if (rc == GPU_READ_SAMPLE && s.ts_ms < r->horizon) {
			/* Its hour's rollup is final: never rebuilt from it. */
			rej =
			    (struct gpu_reject){line, r->horizon_why, {"", 0}};
			rc = GPU_READ_REJECT;
		}
		if (rc == GPU_READ_SAMPLE) {
			apply_interval(r, iv, &s);
			r->shared += s.njobs > 1;
		}
		if ((rc == GPU_READ_SAMPLE
			 ? gpu_ingest_sample(r->ing, &s, &err)
			 : reject(r, in->source, &rej, &err)) != 0) {
			db_error(r, &err);
			goto out;
		}
		if ((gpu_ingest_source_counts(r->ing)->read & 4095) == 0)
			ingest_progress_draw(
			    &p, gpu_ingest_source_counts(r->ing)->read,
			    ra != NULL ? off : gpu_reader_offset(rd), false);
	}
	gpu_readahead_stop(ra);
	ra = NULL;
	/* JSON Lines: keys first met after the first line (the list grows). */
	if (strlen(gpu_reader_unknown(rd)) > known)
		warn_unknown(r, in->source,
			     gpu_reader_unknown(rd) + known + (known > 0));
	ingest_progress_draw(&p, gpu_ingest_source_counts(r->ing)->read,
			     gpu_reader_offset(rd), true);
	if (finish_input(r, in) != 0)
		goto out;
	check_rejects(r, in->source);
	add_counts(&r->samples, gpu_ingest_source_counts(r->ing));
	r->samples.overlaps += r->shared; /* SPEC 1.5: shared GPUs */
	r->shared = 0;
	r->nsamples++;
out:
	gpu_readahead_stop(ra);
	gpu_interval_free(iv);
	gpu_reader_free(rd);
}

/*
 * One record of a job or allocation input: read it and store it, or
 * reject it. Returns 1 for a record handled, 0 at the end, -1 on a fatal
 * read error (err filled), -2 on a database error (err filled).
 */
typedef int record_fn(struct run *r, void *rd, const char *source,
		      struct gpu_err *err);

static int
job_record(struct run *r, void *rd, const char *source, struct gpu_err *err)
{
	struct gpu_job job;
	struct gpu_reject rej;
	long line;
	int rc = gpu_jobs_next(rd, &job, &line, &rej, err);

	if (rc <= 0)
		return rc;
	if ((rc == GPU_READ_SAMPLE ? gpu_ingest_job(r->ing, &job, err)
				   : reject(r, source, &rej, err)) != 0)
		return -2;
	return 1;
}

/*
 * One allocation; one the warehouse's state makes invalid (an end before
 * the stored start) is rejected like a bad row.
 */
static int
alloc_record(struct run *r, void *rd, const char *source,
	     struct gpu_err *err)
{
	struct gpu_alloc a;
	struct gpu_reject rej;
	long line;
	int rc = gpu_alloc_next(rd, &a, &line, &rej, err);
	const char *why;

	if (rc <= 0)
		return rc;
	if (rc == GPU_READ_SAMPLE) {
		rc = gpu_ingest_alloc(r->ing, &a, &why, err);
		if (rc < 0)
			return -2;
		if (rc == 0)
			return 1;
		rej = (struct gpu_reject){line, why, {"", 0}};
	}
	return reject(r, source, &rej, err) != 0 ? -2 : 1;
}

/* Load every record of an open job or allocation input into counts. */
static void
load_records(struct run *r, struct input *in, void *rd, record_fn *next,
	     struct gpu_ingest_counts *counts)
{
	struct gpu_err err = {{0}, {0}, 0};
	int rc;

	if (gpu_ingest_begin_source(r->ing, in->source, now_ms(), &err) != 0) {
		db_error(r, &err);
		return;
	}
	while ((rc = next(r, rd, in->source, &err)) != 0) {
		if (rc == -1) {
			gpu_msg_err(&err);
			r->failed = true;
			break;
		}
		if (rc == -2) {
			db_error(r, &err);
			return;
		}
	}
	if (finish_input(r, in) != 0)
		return;
	check_rejects(r, in->source);
	add_counts(counts, gpu_ingest_source_counts(r->ing));
}

static void
load_jobs(struct run *r, struct input *in)
{
	const struct opts *o = r->o;
	struct gpu_jobs_opts jo = {o->job_columns != NULL ? o->job_columns
							  : o->columns};
	struct gpu_jobs *jr;
	struct gpu_err err = {{0}, {0}, 0};
	int rc;

	if ((rc = gpu_jobs_open(in->fp, in->source, &jo, &jr, &err)) != 0) {
		ingest_open_failed(rc, true, &err);
		r->failed = true;
		return;
	}
	warn_unknown(r, in->source, gpu_jobs_unknown(jr));
	load_records(r, in, jr, job_record, &r->jobs);
	gpu_jobs_free(jr);
}

/* Say that an allocation input's changes reach before the horizon. */
static void
warn_horizon(const struct run *r, const char *source)
{
	const struct gpu_ingest_counts *c = gpu_ingest_source_counts(r->ing);
	char t[32];

	if (r->o->quiet || r->db_failed || c->before_horizon == 0)
		return;
	gpu_time_fmt_iso(r->horizon, t);
	gpu_warn("%s: %lld allocation change%s reach%s before the raw-sample "
		 "horizon %s: the samples there were %s and keep their "
		 "jobs in the rollups",
		 source, (long long)c->before_horizon,
		 c->before_horizon == 1 ? "" : "s",
		 c->before_horizon == 1 ? "es" : "", t, r->horizon_did);
}

static void
load_allocs(struct run *r, struct input *in)
{
	struct gpu_alloc_reader *ar;
	struct gpu_err err = {{0}, {0}, 0};

	ar = gpu_alloc_reader_new(in->fp, in->source, &err);
	if (ar == NULL) {
		gpu_msg_err(&err);
		r->failed = true;
		return;
	}
	load_records(r, in, ar, alloc_record, &r->allocs);
	gpu_alloc_reader_free(ar);
	warn_horizon(r, in->source);
}

enum input_kind { SAMPLES, JOBS, ALLOCATIONS };

static void
load(struct run *r, const char *name, enum input_kind kind)
{
	struct input in;

	if (ingest_open_input(&in, name, r->o->source) != 0) {
		r->failed = true;
		return;
	}
	if (kind == JOBS)
		load_jobs(r, &in);
	else if (kind == ALLOCATIONS)
		load_allocs(r, &in);
	else
		load_samples(r, &in);
	ingest_close_input(&in);
}

static void
print_counts_json(struct gpu_buf *b, const struct gpu_ingest_counts *c,
		  bool attribution)
{
	gpu_buf_addf(b,
		     "\"read\":%lld,\"inserted\":%lld,\"updated\":%lld,"
		     "\"unchanged\":%lld,\"superseded\":%lld,"
		     "\"rejected\":%lld",
		     (long long)c->read, (long long)c->inserted,
		     (long long)c->updated, (long long)c->unchanged,
		     (long long)c->superseded, (long long)c->rejected);
	if (attribution)
		gpu_buf_addf(b, ",\"attributed\":%lld,\"overlaps\":%lld",
			     (long long)c->attributed,
			     (long long)c->overlaps);
}

static void
print_counts_text(struct gpu_buf *b, const char *what,
		  const struct gpu_ingest_counts *c, bool attribution)
{
	gpu_buf_addf(b,
		     "%s: read %lld, inserted %lld, updated %lld, unchanged "
		     "%lld, ",
		     what, (long long)c->read, (long long)c->inserted,
		     (long long)c->updated, (long long)c->unchanged);
	/* Only a self-contradicting input has any: said only then. */
	if (c->superseded > 0)
		gpu_buf_addf(b, "superseded %lld, ",
			     (long long)c->superseded);
	gpu_buf_addf(b, "rejected %lld", (long long)c->rejected);
	if (attribution)
		gpu_buf_addf(b, ", attributed %lld, overlaps %lld",
			     (long long)c->attributed,
			     (long long)c->overlaps);
	gpu_buf_addc(b, '\n');
}

/*
 * The inferred intervals and how many samples took each (SPEC.md 1.2):
 * "5 s for 17 samples, ..." or, as JSON, [{"interval_s":5,"samples":17}].
 */
static void
print_inferred(struct gpu_buf *b, const struct run *r, bool json)
{
	const char *sep = "";

	gpu_buf_adds(b, json ? ",\"inferred_intervals\":["
			     : "intervals inferred: ");
	for (int secs = 1; secs <= GPU_INTERVAL_MAX; secs++) {
		long long n = r->inferred[secs];

		if (n == 0)
			continue;
		if (json)
			gpu_buf_addf(b,
				     "%s{\"interval_s\":%d,\"samples\":%lld}",
				     sep, secs, n);
		else
			gpu_buf_addf(b, "%s%d s for %lld sample%s", sep, secs,
				     n, n == 1 ? "" : "s");
		sep = json ? "," : ", ";
	}
	gpu_buf_adds(b, json ? "]" : "\n");
}

/* What --keep-raw did, as the summary's "keep_raw" object. */
static void
print_keep_json(struct gpu_buf *b, const struct gpu_retention *k)
{
	char t[32];

	gpu_time_fmt_iso(k->horizon_ms, t);
	gpu_buf_addf(b,
		     ",\"keep_raw\":{\"deleted\":%lld,\"hours\":%lld,"
		     "\"horizon\":\"%s\",\"kept_hours\":%lld}",
		     (long long)k->purged, (long long)k->hours, t,
		     (long long)k->kept_hours);
}

/* What --pack-raw did, as the summary's "pack_raw" object. */
static void
print_pack_json(struct gpu_buf *b, const struct gpu_pack *k)
{
	char t[32];

	gpu_time_fmt_iso(k->horizon_ms, t);
	gpu_buf_addf(b,
		     ",\"pack_raw\":{\"packed\":%lld,\"blocks\":%lld,"
		     "\"kept\":%lld,\"hours\":%lld,\"horizon\":",
		     (long long)k->packed, (long long)k->blocks,
		     (long long)k->kept, (long long)k->hours);
	if (k->horizon_ms == GPU_RETENTION_NONE)
		gpu_buf_adds(b, "null}");
	else
		gpu_buf_addf(b, "\"%s\"}", t);
}

/* Report what --pack-raw did on stderr (not with --quiet). */
static void
report_pack(const struct run *r)
{
	const struct gpu_pack *k = &r->pack;
	char t[32];

	if (r->o->quiet)
		return;
	gpu_time_fmt_iso(k->target_ms, t);
	if (k->old_ms != GPU_RETENTION_NONE && k->target_ms <= k->old_ms) {
		gpu_time_fmt_iso(k->old_ms, t);
		gpu_msg("pack-raw: nothing to pack: the samples before %s are "
			"final already",
			t);
		return;
	}
	gpu_msg("pack-raw: %s %lld sample%s of %lld hour%s before %s into "
		"%lld row%s",
		r->o->dry_run ? "would pack" : "packed", (long long)k->packed,
		k->packed == 1 ? "" : "s", (long long)k->hours,
		k->hours == 1 ? "" : "s", t, (long long)k->blocks,
		k->blocks == 1 ? "" : "s");
	if (k->kept > 0)
		gpu_msg("pack-raw: kept %lld sample%s as rows: a reading with "
			"more than %d decimals, values of one GPU-hour 127^4 or "
			"more apart, or over %d samples in one "
			"(docs/WAREHOUSE.md, Packing)",
			(long long)k->kept, k->kept == 1 ? "" : "s",
			GPU_PACK_MAX_DECIMALS, GPU_PACK_MAX_N);
}

/* Report what --keep-raw did on stderr (not with --quiet). */
static void
report_keep(const struct run *r)
{
	const struct gpu_retention *k = &r->ret;
	char t[32], d[32];

	if (r->o->quiet)
		return;
	gpu_time_fmt_iso(k->horizon_ms, t);
	gpu_msg("keep-raw: %s %lld sample%s of %lld hour%s before %s",
		r->o->dry_run ? "would delete" : "deleted",
		(long long)k->purged, k->purged == 1 ? "" : "s",
		(long long)k->hours, k->hours == 1 ? "" : "s", t);
	if (k->kept_hours == 0)
		return;
	gpu_time_fmt_iso(k->target_ms, t);
	gpu_time_fmt_iso(k->kept_day_ms, d);
	d[10] = '\0';
	gpu_warn("keep-raw: kept %lld hour%s of samples before %s: day %s is "
		 "not exported to the lake '%s', or changed since (run "
		 "gpuexport)",
		 (long long)k->kept_hours, k->kept_hours == 1 ? "" : "s", t, d,
		 k->kept_lake != NULL ? k->kept_lake : "");
}

static void
print_summary(const struct run *r)
{
	const struct opts *o = r->o;
	struct gpu_buf b;
	char t[32];
	bool attribution;

	if (o->quiet && !o->summary_set)
		return;
	/* Attribution counts show when allocations are in play. */
	attribution = o->nallocs > 0 || r->samples.attributed > 0 ||
		      r->samples.overlaps > 0;
	gpu_buf_init(&b);
	if (o->json) {
		gpu_buf_adds(&b, "{");
		print_counts_json(&b, &r->samples, attribution);
		if (r->samples.has_ts) {
			gpu_time_fmt_iso(r->samples.min_ts_ms, t);
			gpu_buf_addf(&b, ",\"min_ts\":\"%s\"", t);
			gpu_time_fmt_iso(r->samples.max_ts_ms, t);
			gpu_buf_addf(&b, ",\"max_ts\":\"%s\"", t);
		} else {
			gpu_buf_adds(&b, ",\"min_ts\":null,\"max_ts\":null");
		}
		if (r->inferred != NULL)
			print_inferred(&b, r, true);
		if (o->jobs != NULL) {
			gpu_buf_adds(&b, ",\"jobs\":{");
			print_counts_json(&b, &r->jobs, false);
			gpu_buf_adds(&b, "}");
		}
		if (o->nallocs > 0) {
			gpu_buf_adds(&b, ",\"allocations\":{");
			print_counts_json(&b, &r->allocs, true);
			gpu_buf_adds(&b, "}");
		}
		if (o->has_keep)
			print_keep_json(&b, &r->ret);
		if (o->has_pack)
			print_pack_json(&b, &r->pack);
		gpu_buf_addf(&b, ",\"dry_run\":%s}\n",
			     o->dry_run ? "true" : "false");
	} else {
		if (r->nsamples > 0 ||
		    (o->jobs == NULL && o->nallocs == 0 && !r->keep_only))
			print_counts_text(&b, "samples", &r->samples,
					  attribution);
		if (r->inferred != NULL)
			print_inferred(&b, r, false);
		if (o->jobs != NULL)
			print_counts_text(&b, "jobs", &r->jobs, false);
		if (o->nallocs > 0)
			print_counts_text(&b, "allocations", &r->allocs, true);
		if (o->dry_run)
			gpu_buf_adds(&b, "dry run: nothing was written\n");
	}
	fwrite(b.data, 1, b.len, stdout);
	gpu_buf_release(&b);
}

/*
 * Open the warehouse. A dry run writes nothing: a missing warehouse is
 * replaced by an empty one in memory, and an old one is not migrated.
 */
static int
open_db(struct run *r)
{
	/*
	 * A new warehouse's first run writes its pages once: a rollback
	 * journal, which holds nothing for pages past the file's end, until
	 * run_all() turns WAL on after the commit. Through the WAL they would
	 * be written twice (the log, then the checkpoint): 14% of a first
	 * load of a million samples (docs/PERFORMANCE.md).
	 */
	struct gpu_db_opts dopts = {.lock_timeout_ms =
					(int)r->o->lock_timeout_ms,
				    .create_rollback = !r->o->dry_run};
	struct gpu_err err = {{0}, {0}, 0};
	sqlite3 *db = NULL;

	if (r->o->dry_run) {
		if (access(r->path, F_OK) != 0) {
			r->path = ":memory:";
		} else {
			dopts.readonly = true;
			if (gpu_db_open(r->path, &dopts, &db, &err) != 0) {
				gpu_msg_err(&err);
				return -1;
			}
			gpu_db_close(db, NULL);
			dopts.readonly = false;
		}
	}
	if (gpu_db_open(r->path, &dopts, &r->db, &err) != 0) {
		gpu_msg_err(&err);
		return -1;
	}
	/*
	 * Loads append at the right edge of the fact tree, so a small page
	 * cache serves them: 16 MiB measured 15% slower than 2 MiB (page
	 * faults), and no faster on corrected re-sends. The WAL is truncated
	 * after the checkpoint so that one big run leaves no big file behind.
	 * Temporary tables stay in a file (the writer's default, gpu/db.h):
	 * the loader's record of the keys it has seen grows with the input.
	 */
	if (gpu_db_exec(r->db, "PRAGMA cache_size = -2048", &err) != 0 ||
	    gpu_db_exec(r->db, "PRAGMA journal_size_limit = 67108864", &err) !=
		0) {
		gpu_msg_err(&err);
		return -1;
	}
	return 0;
}

static int
run_all(struct run *r, char **files, int nfiles)
{
	const struct opts *o = r->o;
	struct gpu_ingest_opts io = {(int)o->interval_s};
	struct gpu_err err = {{0}, {0}, 0};

	if (open_db(r) != 0)
		return GPU_EXIT_FAIL;
	/*
	 * A long run's pages go to the disk as it writes them, so that its
	 * commit waits for its last ones only (docs/PERFORMANCE.md): the
	 * file SQLite opened, the path's links resolved.
	 */
	if (!o->dry_run)
		r->flusher =
		    gpu_flusher_start(sqlite3_db_filename(r->db, "main"));
	if (gpu_db_begin(r->db, r->path, &err) != 0) {
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	r->ing = gpu_ingest_new(r->db, &io, &err);
	if (r->ing == NULL) {
		db_error(r, &err);
		goto out;
	}
	r->horizon = gpu_ingest_horizon(r->ing);
	r->horizon_did = "deleted";
	if (r->horizon != GPU_RETENTION_NONE) {
		int64_t deleted;
		char t[32];

		if (gpu_retention_deleted(r->db, &deleted, &err) != 0) {
			db_error(r, &err);
			goto out;
		}
		if (deleted < r->horizon)
			r->horizon_did = "packed";
		gpu_time_fmt_iso(r->horizon, t);
		snprintf(r->horizon_why, sizeof(r->horizon_why),
			 "timestamp before the raw-sample horizon %s "
			 "(gpuingest %s)",
			 t, deleted < r->horizon ? "--pack-raw" : "--keep-raw");
	}
	/*
	 * Allocations before samples: the samples of this run are then
	 * attributed as they are written, and only stored ones need a pass.
	 */
	if (o->jobs != NULL)
		load(r, o->jobs, JOBS);
	for (int i = 0; i < o->nallocs && !r->db_failed; i++)
		load(r, o->allocs[i], ALLOCATIONS);
	for (int i = 0; i < nfiles && !r->db_failed; i++)
		load(r, files[i], SAMPLES);
	if (!r->failed && gpu_ingest_finish(r->ing, &err) != 0)
		db_error(r, &err);
	if (!r->failed &&
	    gpu_rollup_update_built(r->db, gpu_ingest_built, gpu_ingest_day,
				    r->ing, NULL, &err) != 0)
		db_error(r, &err);
	if (!r->failed && o->has_keep &&
	    gpu_retention_apply(r->db,
				gpu_retention_target(r->now, o->keep_ms),
				o->keep_ms, r->now, &r->ret, &err) != 0)
		db_error(r, &err);
	if (!r->failed && o->has_pack &&
	    gpu_pack_apply(r->db, gpu_retention_target(r->now, o->pack_ms),
			   o->pack_ms, r->now, &r->pack, &err) != 0)
		db_error(r, &err);
out:
	gpu_ingest_free(r->ing);
	r->ing = NULL;
	if (r->failed || o->dry_run) {
		gpu_db_rollback(r->db);
		if (r->failed)
			gpu_msg("nothing ingested: the run was rolled back");
	} else if (gpu_db_commit(r->db, &err) != 0) {
		gpu_msg("cannot commit to '%s': %s", r->path, err.msg);
		r->failed = true;
	}
	/* A new warehouse's first run ends in WAL mode (open_db()). */
	if (!o->dry_run && gpu_db_use_wal(r->db, r->path, &err) != 0)
		gpu_msg("warning: %s", err.msg);
	if (!r->failed && o->has_keep)
		report_keep(r);
	if (!r->failed && o->has_pack)
		report_pack(r);
	if (!r->failed)
		print_summary(r);
	return r->failed ? GPU_EXIT_FAIL : GPU_EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	struct run r = {0};
	struct gpu_err err = {{0}, {0}, 0};
	char *stdin_only[] = {(char *)"-"};
	char **files;
	const char *why;
	int nfiles, status, dashes = 0;

	gpu_diag_init(argv[0]);
	o.format = GPU_FMT_AUTO;
	o.interval_s = 60;
	o.max_reject_micro = INT64_C(5000000);
	o.lock_timeout_ms = GPU_DB_LOCK_TIMEOUT_MS;
	status = parse_args(argc, argv, &o);
	if (status >= 0) {
		free(o.allocs);
		return status == GPU_EXIT_OK ? gpu_close_stdout(status)
					     : status;
	}
	files = argv + optind;
	nfiles = argc - optind;
	r.keep_only = nfiles == 0 && o.jobs == NULL && o.nallocs == 0 &&
		      (o.has_keep || o.has_pack);
	if (nfiles == 0 && o.jobs == NULL && o.nallocs == 0 && !r.keep_only) {
		files = stdin_only;
		nfiles = 1;
	}
	for (int i = 0; i < nfiles; i++)
		dashes += strcmp(files[i], "-") == 0;
	if (o.jobs != NULL && strcmp(o.jobs, "-") == 0)
		dashes++;
	for (int i = 0; i < o.nallocs; i++)
		dashes += strcmp(o.allocs[i], "-") == 0;
	if (dashes > 1) {
		free(o.allocs);
		return gpu_usage_error(usage_text,
				       "standard input named more than once");
	}
	if (o.input_tz != NULL &&
	    (o.tz = gpu_tz_load(o.input_tz, &err)) == NULL) {
		free(o.allocs);
		return gpu_usage_error(usage_text, "%s", err.msg);
	}
	if ((o.has_keep || o.has_pack) && gpu_time_now(&r.now, &why) != 0) {
		free(o.allocs);
		gpu_tz_free(o.tz);
		return gpu_usage_error(usage_text, "%s", why);
	}
	r.o = &o;
	r.path = gpu_db_path(o.db);
	status = run_all(&r, files, nfiles);
	if (gpu_db_close(r.db, &err) != 0) {
		gpu_msg_err(&err);
		status = GPU_EXIT_FAIL;
	}
	/* After the close: its descriptors hold no locks of SQLite's then. */
	gpu_flusher_end(r.flusher);
	free(o.allocs);
	free(r.inferred);
	gpu_retention_release(&r.ret);
	gpu_tz_free(o.tz);
	/* The run is stored: say so if only the summary could not be. */
	if (status == GPU_EXIT_OK && !o.dry_run &&
	    (fflush(stdout) != 0 || ferror(stdout))) {
		gpu_msg("write error: %s (the run was stored; only its "
			"summary was lost)",
			strerror(errno));
		fclose(stdout);
		return GPU_EXIT_FAIL;
	}
	return gpu_close_stdout(status);
}
