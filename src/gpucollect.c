/* SPDX-License-Identifier: MIT */
/* gpucollect: sample this node's GPUs with nvidia-smi and name their jobs. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpu/buf.h"
#include "gpu/diag.h"
#include "gpu/num.h"
#include "gpu/opt.h"
#include "gpu/outfile.h"
#include "gpu/time.h"
#include "gpu/writer.h"
#include "gpucollect.h"

enum {
	OPT_SPOOL = 256,
	OPT_FLUSH,
	OPT_EVERY,
	OPT_INTERVAL,
	OPT_NVSMI,
	OPT_PROC,
	OPT_JOB_MAP,
	OPT_TIMEOUT,
};

#define QUERY_GPU                                                              \
	"--query-gpu=timestamp,index,uuid,name,utilization.gpu,memory.used,"   \
	"memory.total,power.draw,temperature.gpu"
#define QUERY_APPS "--query-compute-apps=gpu_uuid,pid,used_memory"
#define FORMAT "--format=csv,noheader,nounits"
#define MAX_DURATION 86400

static const char usage_text[] =
    "usage: gpucollect [-q] [-n node] [-o file | --spool dir [--flush]]\n"
    "                  [--every duration | --interval duration] "
    "[--job-map dir]\n"
    "                  [--nvidia-smi path] [--proc dir] "
    "[--timeout duration]\n";

static const char help_text[] =
    "Sample this node's GPUs with nvidia-smi and write one raw sample per\n"
    "GPU (docs/FORMAT.md section 1), naming the Slurm job that holds each GPU from\n"
    "a DCGM job map or from the cgroup and environment of its processes.\n"
    "One pass per call, or a pass every --every duration. Durations are\n"
    "seconds, or a number with s, m or h (30, 30s, 5m, 1h).\n"
    "\n"
    "  -n, --node NAME          node name (default: the short host name)\n"
    "  -o, --output FILE        write to FILE (atomically) instead of "
    "stdout\n"
    "      --spool DIR          append to DIR/tmp/.NODE-YYYYMMDDTHH00.csv."
    "part,\n"
    "                           moved to DIR/incoming/ when its hour ends\n"
    "      --flush              with --spool: also move the current hour's\n"
    "                           file (done when a loop ends)\n"
    "      --every DURATION     loop: a pass at each multiple of DURATION\n"
    "                           on the clock, until SIGTERM or SIGINT\n"
    "      --interval DURATION  interval_s of one pass (default 60)\n"
    "      --job-map DIR        DCGM job-mapping directory (file per GPU "
    "index)\n"
    "      --nvidia-smi PATH    the nvidia-smi to run (default from PATH)\n"
    "      --proc DIR           read processes from DIR (default /proc)\n"
    "      --timeout DURATION   kill nvidia-smi after DURATION (default "
    "20s)\n"
    "  -q, --quiet              no warnings\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n";

static const char *const columns[] = {
    "timestamp",     "node",   "gpu",	     "util_pct", "mem_used_mib",
    "mem_total_mib", "job_id", "user",	     "project",	 "model",
    "power_w",	     "temp_c", "interval_s", "gpu_uuid",
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

struct opts {
	const char *node;
	const char *output;
	const char *spool;
	const char *nvsmi;
	const char *proc;
	const char *job_map;
	bool flush;
	bool quiet;
	int64_t every_s; /* 0: one pass */
	int64_t interval_s;
	bool interval_set;
	int64_t timeout_s;
};

/* The run: options, spool, and whether stdout has had its header. */
struct run {
	const struct opts *o;
	const char *node;
	struct collect_spool spool;
	bool has_spool;
	bool header_done;
	bool fatal; /* stdout failed: a loop cannot go on */
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * Parse "30", "30s", "5m" or "1h" into seconds, 1..MAX_DURATION. Returns
 * 0, or -1.
 */
static int
parse_duration(const char *s, int64_t *out)
{
	size_t n = strspn(s, "0123456789");
	int64_t v, mult = 1;

	if (n == 0 || n > 9 || gpu_num_parse_i64(s, n, &v) != 0)
		return -1;
	if (strcmp(s + n, "m") == 0)
		mult = 60;
	else if (strcmp(s + n, "h") == 0)
		mult = 3600;
	else if (strcmp(s + n, "") != 0 && strcmp(s + n, "s") != 0)
		return -1;
	v *= mult;
	if (v < 1 || v > MAX_DURATION)
		return -1;
	*out = v;
	return 0;
}

/* Node names end up in file names and in the node column. */
static bool
node_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > COLLECT_TEXT_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f ||
		    s[i] == '/' || s[i] == ',' || s[i] == '"')
			return false;
	return true;
}

/*
 * One option for gpu_opt_parse(): -1 to go on, else an exit status
 * (GPU_EXIT_OK after --help or --version).
 */
static int
set_opt(void *ctx, int c, const char *arg)
{
	struct opts *o = ctx;

	switch (c) {
	case 'h':
		fputs(usage_text, stdout);
		fputs(help_text, stdout);
		return GPU_EXIT_OK;
	case 'V':
		puts("gpucollect " GPU_VERSION);
		return GPU_EXIT_OK;
	case 'n':
		if (!node_valid(arg))
			return gpu_usage_error(usage_text,
					       "invalid node name '%s'", arg);
		o->node = arg;
		break;
	case 'o':
		o->output = arg;
		break;
	case 'q':
		o->quiet = true;
		break;
	case OPT_SPOOL:
		o->spool = arg;
		break;
	case OPT_FLUSH:
		o->flush = true;
		break;
	case OPT_EVERY:
		if (parse_duration(arg, &o->every_s) != 0)
			return gpu_usage_error(usage_text,
					       "invalid duration '%s'", arg);
		break;
	case OPT_INTERVAL:
		if (parse_duration(arg, &o->interval_s) != 0)
			return gpu_usage_error(usage_text,
					       "invalid interval '%s'", arg);
		o->interval_set = true;
		break;
	case OPT_NVSMI:
		o->nvsmi = arg;
		break;
	case OPT_PROC:
		o->proc = arg;
		break;
	case OPT_JOB_MAP:
		o->job_map = arg;
		break;
	case OPT_TIMEOUT:
		if (parse_duration(arg, &o->timeout_s) != 0)
			return gpu_usage_error(usage_text,
					       "invalid timeout '%s'", arg);
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
	    {"node", required_argument, NULL, 'n'},
	    {"output", required_argument, NULL, 'o'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"spool", required_argument, NULL, OPT_SPOOL},
	    {"flush", no_argument, NULL, OPT_FLUSH},
	    {"every", required_argument, NULL, OPT_EVERY},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    {"nvidia-smi", required_argument, NULL, OPT_NVSMI},
	    {"proc", required_argument, NULL, OPT_PROC},
	    {"job-map", required_argument, NULL, OPT_JOB_MAP},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {NULL, 0, NULL, 0},
	};
	int rc = gpu_opt_parse(argc, argv, ":hVn:o:q", longopts, usage_text,
			       set_opt, o);

	if (rc >= 0)
		return rc;
	if (optind < argc)
		return gpu_opt_operand_error(usage_text, argv[optind]);
	if (o->output != NULL && o->spool != NULL)
		return gpu_usage_error(usage_text,
				       "-o and --spool exclude each other");
	if (o->flush && o->spool == NULL)
		return gpu_usage_error(usage_text, "--flush needs --spool");
	if (o->every_s != 0 && o->interval_set)
		return gpu_usage_error(usage_text,
				       "--every and --interval exclude each "
				       "other");
	return -1;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The short host name (up to the first dot) into buf; false if none. */
static bool
short_hostname(char *buf, size_t size)
{
	if (gethostname(buf, size) != 0)
		return false;
	buf[size - 1] = '\0';
	buf[strcspn(buf, ".")] = '\0';
	return node_valid(buf);
}

static void
put_text(struct gpu_writer *w, const char *s)
{
	if (s == NULL)
		gpu_writer_null(w);
	else
		gpu_writer_str(w, s, strlen(s));
}

static void
put_num(struct gpu_writer *w, const char *s)
{
	gpu_writer_num_text(w, s != NULL ? s : "");
}

static void
put_row(struct gpu_writer *w, const struct run *r, const struct collect_gpu *g)
{
	char ts[32];

	gpu_time_fmt_iso(g->ts_ms, ts);
	put_text(w, ts);
	put_text(w, r->node);
	gpu_writer_i64(w, g->index);
	put_num(w, g->util);
	put_num(w, g->mem_used);
	put_num(w, g->mem_total);
	put_text(w, g->job);
	put_text(w, g->user);
	put_text(w, g->project);
	put_text(w, g->model);
	put_num(w, g->power);
	put_num(w, g->temp);
	gpu_writer_i64(w,
		       r->o->every_s != 0 ? r->o->every_s : r->o->interval_s);
	put_text(w, g->uuid);
	gpu_writer_end_row(w);
}

/*
 * The CSV of the GPUs whose hour starts at hour (all when hour is
 * INT64_MIN), header first, into out; *hlen is the header's length.
 */
static void
render(const struct run *r, const struct collect_gpu *gpus, size_t n,
       int64_t hour, struct gpu_buf *out, size_t *hlen)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&mem, &len);
	struct gpu_writer *w;

	if (fp == NULL) {
		gpu_msg("out of memory");
		exit(GPU_EXIT_FAIL);
	}
	w = gpu_writer_new(fp, GPU_OUT_CSV, columns, NCOLUMNS);
	fflush(fp);
	*hlen = len;
	for (size_t i = 0; i < n; i++)
		if (hour == INT64_MIN ||
		    collect_hour_start(gpus[i].ts_ms) == hour)
			put_row(w, r, &gpus[i]);
	/* A memory stream fails only when memory runs out. */
	if (gpu_writer_finish(w) != 0) {
		gpu_msg("out of memory");
		exit(GPU_EXIT_FAIL);
	}
	gpu_writer_free(w);
	if (fclose(fp) != 0 || mem == NULL) {
		gpu_msg("out of memory");
		exit(GPU_EXIT_FAIL);
	}
	gpu_buf_add(out, mem, len);
	free(mem);
}

static int
write_stdout(struct run *r, const struct collect_gpu *gpus, size_t n)
{
	struct gpu_buf b;
	size_t hlen, skip;

	gpu_buf_init(&b);
	render(r, gpus, n, INT64_MIN, &b, &hlen);
	skip = r->header_done ? hlen : 0;
	fwrite(b.data + skip, 1, b.len - skip, stdout);
	gpu_buf_release(&b);
	r->header_done = true;
	/* A loop's reader sees each pass at once; one pass is checked at
	 * exit by gpu_close_stdout(). */
	if (r->o->every_s != 0 && (fflush(stdout) != 0 || ferror(stdout))) {
		gpu_msg("write error: %s", strerror(errno));
		r->fatal = true;
		return GPU_EXIT_FAIL;
	}
	return GPU_EXIT_OK;
}

static int
write_file(struct run *r, const struct collect_gpu *gpus, size_t n)
{
	struct gpu_outfile of;
	struct gpu_err err;
	struct gpu_buf b;
	size_t hlen;

	if (gpu_outfile_open(&of, r->o->output, &err) != 0) {
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	gpu_buf_init(&b);
	render(r, gpus, n, INT64_MIN, &b, &hlen);
	fwrite(b.data, 1, b.len, of.fp);
	gpu_buf_release(&b);
	if (gpu_outfile_commit(&of, &err) != 0) {
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	return GPU_EXIT_OK;
}

/* Append each hour's rows to its staging file. */
static int
write_spool(struct run *r, const struct collect_gpu *gpus, size_t n)
{
	struct gpu_err err;
	int status = GPU_EXIT_OK;

	for (size_t i = 0; i < n; i++) {
		int64_t hour = collect_hour_start(gpus[i].ts_ms);
		struct gpu_buf b;
		size_t hlen;
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = collect_hour_start(gpus[k].ts_ms) == hour;
		if (seen)
			continue;
		gpu_buf_init(&b);
		render(r, gpus, n, hour, &b, &hlen);
		if (collect_spool_append(&r->spool, hour, b.data, hlen,
					 b.data + hlen, b.len - hlen,
					 &err) != 0) {
			gpu_msg_err(&err);
			status = GPU_EXIT_FAIL;
		}
		gpu_buf_release(&b);
	}
	return status;
}

/* Move the staging files of hours before the one that holds now_ms. */
static int
complete_hours(struct run *r, int64_t before_ms)
{
	struct gpu_err err;

	if (!r->has_spool)
		return GPU_EXIT_OK;
	if (collect_spool_complete(&r->spool, before_ms, &err) != 0) {
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	return GPU_EXIT_OK;
}

/* Run nvidia-smi with one query; report a failure (as a warning). */
static int
query(const struct run *r, const char *q, bool warn, struct collect_cmd *c)
{
	char *argv[] = {(char *)r->o->nvsmi, (char *)q, (char *)FORMAT, NULL};
	struct gpu_buf msg;
	long timeout_ms = (long)r->o->timeout_s * 1000;

	if (collect_run(argv, timeout_ms, c) == 0)
		return 0;
	gpu_buf_init(&msg);
	collect_cmd_describe(c, warn ? "nvidia-smi " QUERY_APPS : "nvidia-smi",
			     r->o->nvsmi, timeout_ms, &msg);
	if (!warn)
		gpu_msg("%s", msg.data);
	else if (!r->o->quiet)
		gpu_warn("%s; GPUs not attributed by process", msg.data);
	gpu_buf_release(&msg);
	return -1;
}

/* Read the processes on the GPUs and name each GPU's job. */
static void
attribute(const struct run *r, struct collect_gpu *gpus, size_t ngpus)
{
	struct collect_cmd c;
	struct collect_app *apps = NULL;
	struct collect_proc *procs;
	size_t napps = 0;

	if (query(r, QUERY_APPS, true, &c) == 0)
		collect_parse_apps(c.out.data, c.out.len, &apps, &napps);
	collect_cmd_release(&c);
	procs = gpu_xcalloc(napps, sizeof(*procs));
	for (size_t i = 0; i < napps; i++)
		collect_proc_read(r->o->proc, apps[i].pid, &procs[i]);
	collect_attribute(gpus, ngpus, apps, procs, napps, r->o->job_map,
			  r->o->quiet);
	for (size_t i = 0; i < napps; i++) {
		collect_app_release(&apps[i]);
		collect_proc_release(&procs[i]);
	}
	free(apps);
	free(procs);
}

/* One pass: query, attribute, write. Returns an exit status. */
static int
pass(struct run *r, bool flush)
{
	int64_t now = wall_ms(), latest = INT64_MIN;
	struct collect_gpu *gpus = NULL;
	size_t ngpus = 0;
	struct collect_cmd c;
	int status;

	if (query(r, QUERY_GPU, false, &c) != 0) {
		collect_cmd_release(&c);
		complete_hours(r, flush ? INT64_MAX : collect_hour_start(now));
		return GPU_EXIT_FAIL;
	}
	collect_parse_gpus(c.out.data, c.out.len, now, r->o->quiet, &gpus,
			   &ngpus);
	collect_cmd_release(&c);
	if (ngpus == 0 && !r->o->quiet)
		gpu_warn("nvidia-smi reported no GPUs");
	attribute(r, gpus, ngpus);
	if (r->has_spool)
		status = write_spool(r, gpus, ngpus);
	else if (r->o->output != NULL)
		status = write_file(r, gpus, ngpus);
	else
		status = write_stdout(r, gpus, ngpus);
	/* The pass's time is nvidia-smi's: an hour ends when it says so. */
	for (size_t i = 0; i < ngpus; i++)
		if (gpus[i].ts_ms > latest)
			latest = gpus[i].ts_ms;
	if (latest == INT64_MIN)
		latest = now;
	if (complete_hours(r, flush ? INT64_MAX : collect_hour_start(latest)) !=
	    GPU_EXIT_OK)
		status = GPU_EXIT_FAIL;
	for (size_t i = 0; i < ngpus; i++)
		collect_gpu_release(&gpus[i]);
	free(gpus);
	return status;
}

/* Sleep until target (epoch ms) or a stop request, a second at a time. */
static void
wait_until(int64_t target)
{
	while (!stop_requested) {
		int64_t now = wall_ms(), t = target;
		struct timespec ts;

		if (now >= target)
			return;
		if (t > now + 1000)
			t = now + 1000;
		ts.tv_sec = (time_t)(t / 1000);
		ts.tv_nsec = (long)(t % 1000) * 1000000L;
		clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
	}
}

/* --every: a pass at each boundary until SIGTERM or SIGINT, then flush. */
static int
loop(struct run *r)
{
	struct sigaction sa;
	int status = GPU_EXIT_OK;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		wait_until(collect_next_boundary(wall_ms(), r->o->every_s));
		if (stop_requested)
			break;
		pass(r, false);
		if (r->fatal) {
			status = GPU_EXIT_FAIL;
			break;
		}
		if (stop_requested)
			break;
	}
	if (complete_hours(r, INT64_MAX) != GPU_EXIT_OK)
		status = GPU_EXIT_FAIL;
	return status;
}

int
main(int argc, char **argv)
{
	struct opts o = {
	    .nvsmi = "nvidia-smi",
	    .proc = "/proc",
	    .interval_s = 60,
	    .timeout_s = 20,
	};
	struct run r = {.o = &o};
	char host[256];
	struct gpu_err err;
	int status;

	gpu_diag_init(argv[0]);
	status = parse_args(argc, argv, &o);
	if (status >= 0)
		return status == GPU_EXIT_OK ? gpu_close_stdout(status)
					     : status;
	r.node = o.node;
	if (r.node == NULL) {
		if (!short_hostname(host, sizeof(host))) {
			gpu_msg("cannot tell the host name; use --node");
			return GPU_EXIT_FAIL;
		}
		r.node = host;
	}
	tzset();
	if (o.spool != NULL) {
		if (collect_spool_init(&r.spool, o.spool, r.node, &err) != 0) {
			gpu_msg_err(&err);
			return GPU_EXIT_FAIL;
		}
		r.has_spool = true;
	}
	if (o.every_s != 0)
		status = loop(&r);
	else
		status = pass(&r, o.flush);
	if (r.has_spool)
		collect_spool_release(&r.spool);
	if (r.fatal)
		return status; /* already reported */
	return gpu_close_stdout(status);
}
