/* SPDX-License-Identifier: MIT */
/* gpuexport: the warehouse as Apache Iceberg tables (Parquet data files). */
#define _XOPEN_SOURCE 700 /* realpath() */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpu/agg.h"
#include "gpu/heap.h"
#include "gpu/rollup.h"
#include "gpu/db.h"
#include "gpu/diag.h"
#include "gpu/num.h"
#include "gpu/opt.h"
#include "gpu/time.h"
#include "gpuexport.h"

#define LOCK_TIMEOUT_MS 60000

static const char usage_line[] =
    "usage: gpuexport [--db PATH] --lake DIR\n"
    "                 [-t gpu_usage_fact|hourly|jobs|bills|all] [-r FILE]\n"
    "                 [--from T] [--to T] [--rewrite] [-c zstd|snappy|none] "
    "[-v]\n"
    "                 [--expire-snapshots T] [--retain-last N]\n";

static const char help_text[] =
    "Export the warehouse to Apache Iceberg tables (format version 2,\n"
    "Parquet data files) under a directory, incrementally: each run\n"
    "commits one snapshot per table with what changed since the last.\n"
    "\n"
    "  -d, --db PATH            warehouse (default $GPUUSAGE_DB or\n"
    "                           ./gpuusage.db)\n"
    "  -l, --lake DIR           the lake directory; table T is DIR/T\n"
    "  -t, --table NAME         gpu_usage_fact, hourly, jobs, bills, or\n"
    "                           all (default: all but bills)\n"
    "      --from T, --to T     only rewrite the days of [from, to)\n"
    "      --rewrite            rewrite every day (of the range) from the\n"
    "                           warehouse, changed or not\n"
    "  -c, --codec C            zstd (default), snappy or none\n"
    "  -r, --rates FILE         rate card of the bills (as gpubill's)\n"
    "      --row-group-mb N     buffered MiB per row group (default 128)\n"
    "      --file-mb N          data file size to roll at (default 512)\n"
    "      --max-manifests N    merge a table's manifests into one past N\n"
    "                           (default 100)\n"
    "  -j, --threads N          reader and encoder threads (default: the\n"
    "                           CPUs online, at most 8)\n"
    "      --expire-snapshots T expire the snapshots older than T (after\n"
    "                           the export), deleting the files only they\n"
    "                           reached\n"
    "      --retain-last N      but keep the last N (default 1); alone:\n"
    "                           expire all but the last N\n"
    "  -v, --verbose            report each table's snapshot on stderr\n"
    "  -h, --help               print this help and exit\n"
    "  -V, --version            print the version and exit\n"
    "\n"
    "The table layout, the snapshots and how Spark, Trino and DuckDB\n"
    "read them: docs/LAKE.md.\n";

enum {
	OPT_FROM = 256,
	OPT_TO,
	OPT_REWRITE,
	OPT_ROW_GROUP,
	OPT_FILE,
	OPT_MANIFESTS,
	OPT_EXPIRE,
	OPT_RETAIN
};

static const struct option long_opts[] = {
    {"codec", required_argument, NULL, 'c'},
    {"db", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},
    {"threads", required_argument, NULL, 'j'},
    {"lake", required_argument, NULL, 'l'},
    {"rates", required_argument, NULL, 'r'},
    {"table", required_argument, NULL, 't'},
    {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, 'V'},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"rewrite", no_argument, NULL, OPT_REWRITE},
    {"row-group-mb", required_argument, NULL, OPT_ROW_GROUP},
    {"file-mb", required_argument, NULL, OPT_FILE},
    {"max-manifests", required_argument, NULL, OPT_MANIFESTS},
    {"expire-snapshots", required_argument, NULL, OPT_EXPIRE},
    {"retain-last", required_argument, NULL, OPT_RETAIN},
    {NULL, 0, NULL, 0},
};

struct opts {
	struct exp_opts e;
	const char *lake_arg;
	const char *table; /* NULL: all */
	const char *rates; /* rate card path, or NULL */
};

static int
parse_time(const char *arg, const char *opt, int64_t *ms)
{
	const char *why = NULL;

	if (gpu_time_parse_arg(arg, ms, &why) != 0)
		return gpu_usage_error(usage_line, "%s in %s: '%s'",
				       why != NULL ? why : "invalid timestamp",
				       opt, arg);
	return -1;
}

/* An integer option in [lo, hi]; *bytes is it times 2^20 (MiB). */
static int
parse_mib(const char *arg, const char *opt, int64_t lo, int64_t hi,
	  uint64_t *bytes)
{
	int64_t v;

	if (gpu_num_parse_range(arg, lo, hi, &v) != 0)
		return gpu_usage_error(usage_line,
				       "invalid value for %s: '%s' (expected "
				       "an integer from %" PRId64 " to %" PRId64
				       ")",
				       opt, arg, lo, hi);
	*bytes = (uint64_t)v << 20;
	return -1;
}

/* One option for gpu_opt_parse(): -1 to go on, else an exit status. */
static int
take_opt(void *ctx, int c, const char *arg)
{
	struct opts *o = ctx;
	uint64_t b = 0;
	int rc;

	switch (c) {
	case 'c':
		if (lake_codec_parse(arg, &o->e.pq.codec) != 0)
			return gpu_usage_error(usage_line,
					       "invalid codec '%s' (expected "
					       "zstd, snappy or none)",
					       arg);
		return -1;
	case 'd':
		o->e.db_path = arg;
		return -1;
	case 'h':
		fputs(usage_line, stdout);
		fputs(help_text, stdout);
		return GPU_EXIT_OK;
	case 'j':
		rc = parse_mib(arg, "--threads", 1, 64, &b);
		o->e.threads = (size_t)(b >> 20);
		return rc;
	case 'l':
		o->lake_arg = arg;
		return -1;
	case 'r':
		o->rates = arg;
		return -1;
	case 't':
		if (strcmp(arg, "all") != 0 && exp_table_find(arg) == NULL)
			return gpu_usage_error(usage_line,
					       "unknown table '%s' (expected "
					       "gpu_usage_fact, hourly, jobs, "
					       "bills or all)",
					       arg);
		o->table = strcmp(arg, "all") == 0 ? NULL : arg;
		return -1;
	case 'v':
		o->e.verbose = true;
		return -1;
	case 'V':
		printf("gpuexport %s\n", GPU_VERSION);
		return GPU_EXIT_OK;
	case OPT_FROM:
		return parse_time(arg, "--from", &o->e.from_ms);
	case OPT_TO:
		return parse_time(arg, "--to", &o->e.to_ms);
	case OPT_REWRITE:
		o->e.rewrite = true;
		return -1;
	case OPT_ROW_GROUP:
		rc = parse_mib(arg, "--row-group-mb", 1, 4096, &b);
		o->e.pq.row_group_bytes = (size_t)b;
		return rc;
	case OPT_FILE:
		return parse_mib(arg, "--file-mb", 1, 1 << 20,
				 &o->e.file_bytes);
	case OPT_MANIFESTS:
		rc = parse_mib(arg, "--max-manifests", 1, 100000, &b);
		o->e.max_manifests = (size_t)(b >> 20);
		return rc;
	case OPT_EXPIRE:
		o->e.expire = true;
		return parse_time(arg, "--expire-snapshots", &o->e.expire_ms);
	case OPT_RETAIN:
		o->e.expire = true;
		rc = parse_mib(arg, "--retain-last", 1, 1000000, &b);
		o->e.retain_last = (size_t)(b >> 20);
		return rc;
	}
	return GPU_EXIT_USAGE;
}

/* The CPUs online, 1 to 8. */
static size_t
default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 8 ? 8 : (size_t)n;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	o->e.from_ms = INT64_MIN;
	o->e.to_ms = INT64_MAX;
	o->e.pq.codec = LAKE_CODEC_ZSTD;
	o->e.file_bytes = (uint64_t)512 << 20;
	o->e.max_manifests = 100;
	o->e.expire_ms = INT64_MAX; /* --retain-last alone: all but N */
	o->e.retain_last = 1;
	o->e.threads = default_threads();
	o->e.lock_timeout_ms = LOCK_TIMEOUT_MS;
	rc = gpu_opt_parse(argc, argv, ":c:d:hj:l:r:t:vV", long_opts,
			   usage_line, take_opt, o);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return gpu_opt_operand_error(usage_line, argv[optind]);
	if (o->lake_arg == NULL)
		return gpu_usage_error(usage_line, "missing --lake DIR");
	if (o->lake_arg[0] == '\0')
		return gpu_usage_error(usage_line, "--lake: empty path");
	if (o->e.from_ms >= o->e.to_ms)
		return gpu_usage_error(usage_line,
				       "--from must be before --to");
	return -1;
}

/* The lake directory made absolute (created when missing). */
static char *
lake_path(const char *arg, struct gpu_err *err)
{
	char *abs;

	if (lake_mkdirs(arg, err) != 0)
		return NULL;
	abs = realpath(arg, NULL);
	if (abs == NULL)
		gpu_err_set(err, "cannot resolve '%s': %s", arg,
			    strerror(errno));
	return abs;
}

/*
 * Resolve the bills' rates as gpubill does (environment over the rate
 * card over the defaults). Returns -1, or an exit status on failure.
 */
static int
resolve_rates(const struct opts *o, struct gpu_rates *r)
{
	static const char *const none[GPU_RATE_NKEYS];
	struct gpu_err err;
	bool bad_usage = false;

	if (gpu_rates_resolve(r, o->rates, none, &bad_usage, &err) == 0)
		return -1;
	if (bad_usage)
		return gpu_usage_error_err(usage_line, &err);
	gpu_msg_err(&err);
	return GPU_EXIT_FAIL;
}

/* Whether to export t: named by --table, or one of "all". */
static bool
wanted(const struct opts *o, const struct exp_table *t)
{
	if (o->table == NULL)
		return !t->on_request;
	return strcmp(o->table, t->name) == 0;
}

/*
 * How many of t's rows the last export read from its table's pages, and
 * why not the others (-v, when it exported any).
 */
static void
pages_note(const struct exp_table *t, bool say)
{
	const char *why;
	uint64_t n = exp_pages_taken(&why);

	if (!say)
		return;
	if (why == NULL)
		gpu_msg("%s: %" PRIu64 " row%s read from the pages of %s",
			t->name, n, n == 1 ? "" : "s", t->page_table);
	else
		gpu_msg("%s: %" PRIu64 " row%s read from the pages of %s, "
			"others by statement (%s)",
			t->name, n, n == 1 ? "" : "s", t->page_table, why);
}

static int
run(struct opts *o)
{
	const char *path = gpu_db_path(o->e.db_path);
	struct gpu_db_opts dopts = {.lock_timeout_ms = LOCK_TIMEOUT_MS};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	char *lake = NULL;
	struct gpu_rates rates;
	struct stat st;
	size_t i;
	int status = GPU_EXIT_FAIL;

	gpu_rates_init(&rates);
	if (o->table != NULL && strcmp(o->table, "bills") == 0 &&
	    (status = resolve_rates(o, &rates)) >= 0) {
		gpu_rates_release(&rates);
		return status;
	}
	status = GPU_EXIT_FAIL;
	o->e.rates = &rates;
	if (stat(path, &st) != 0) {
		gpu_msg("cannot open warehouse '%s': %s", path,
			strerror(errno));
		gpu_rates_release(&rates);
		return GPU_EXIT_FAIL;
	}
	lake = lake_path(o->lake_arg, &err);
	/* Only gpuingest makes a warehouse: an empty file is refused. */
	if (lake == NULL ||
	    gpu_db_open_existing(path, &dopts, &db, &err) != 0 ||
	    exp_state_init(db, &err) != 0)
		goto fail;
	o->e.lake = lake;
	for (i = 0; i < exp_ntables; i++) {
		const struct exp_table *t = &exp_tables[i];
		uint64_t rows = 0;
		size_t expired = 0;

		if (!wanted(o, t))
			continue;
		/* Rollups and bills are read from the refreshed rollups. */
		if ((strcmp(t->name, "hourly") == 0 ||
		     strcmp(t->name, "bills") == 0) &&
		    gpu_rollup_refresh(db, NULL, &err) != 0)
			goto fail;
		if (exp_run_table(db, &o->e, t, &rows, &err) != 0)
			goto fail;
		if (o->e.verbose)
			gpu_msg("%s: %" PRIu64 " row%s exported", t->name, rows,
				rows == 1 ? "" : "s");
		if (t->page_table != NULL)
			pages_note(t, o->e.verbose && rows > 0);
		if (o->e.expire &&
		    exp_expire_table(db, &o->e, t, &expired, &err) != 0)
			goto fail;
		if (o->e.expire && o->e.verbose)
			gpu_msg("%s: %zu snapshot%s expired", t->name, expired,
				expired == 1 ? "" : "s");
	}
	status = GPU_EXIT_OK;
	goto out;
fail:
	gpu_msg_err(&err);
out:
	if (gpu_db_close(db, &err) != 0) {
		gpu_msg_err(&err);
		status = GPU_EXIT_FAIL;
	}
	free(lake);
	gpu_rates_release(&rates);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct gpu_heap_plan heap = {.keep = 512 << 20,
						  .pad = 64 << 20};
	struct opts o;
	int status;

	/*
	 * Each data file's writer grows buffers of many megabytes and frees
	 * them at the file's end. Mapped afresh for every file, their pages
	 * were zeroed by the kernel again each time (half the system time of
	 * an export of 5M facts). From the heap, kept when freed, the next
	 * file reuses them (docs/PERFORMANCE.md, the eighth round). Huge
	 * pages made no difference here (the fourteenth round).
	 */
	gpu_heap_setup(&heap);
#ifdef M_ARENA_MAX
	/*
	 * The readers, the append helpers and the encoders grow buffers on
	 * threads of their own. With an arena per thread, each kept what was
	 * freed in it: peak RSS varied from 211 to 273 MB between runs of the
	 * same export, against 190 to 198 MB with one arena, at the same
	 * speed (the threads allocate rarely: buffers grow by doubling).
	 */
	mallopt(M_ARENA_MAX, 1);
#endif
	gpu_diag_init(argv[0]);
	if ((status = parse_args(argc, argv, &o)) >= 0)
		return gpu_close_stdout(status);
	return gpu_close_stdout(run(&o));
}
