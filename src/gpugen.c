/* SPDX-License-Identifier: MIT */
/* gpugen: write realistic, reproducible raw GPU samples for a simulated
 * cluster. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/diag.h"
#include "gpu/num.h"
#include "gpu/opt.h"
#include "gpu/outfile.h"
#include "gpu/sample.h"
#include "gpu/time.h"
#include "gpugen.h"

#define OUT_BUF_SIZE (1024 * 1024)
#define MAX_TOTAL_GPUS 1000000
#define MAX_MODELS 32
#define DEFAULT_MODELS "a100-80:4,a100-40:2,h100:2,h200:1,v100:1"

enum { OPT_NODE = 256, OPT_LOAD, OPT_FAULTS, OPT_MIG };

static const char usage_text[] =
    "usage: gpugen [-n nodes] [-g gpus] [-s start] [-H hours | -e end] "
    "[-i seconds]\n"
    "              [-S seed] [-f csv|jsonl|nvidia-smi] "
    "[-t iso|epoch_ms|mixed]\n"
    "              [-m model[:weight][,...]] [-x column[,column]] "
    "[--node name]\n"
    "              [--load fraction] [--faults rate] [-j jobs-file] "
    "[-o file]\n"
    "              [--mig profile[,profile...]]\n";

static const char help_text[] =
    "Write realistic raw GPU samples (docs/FORMAT.md section 1) for a "
    "simulated\n"
    "cluster: jobs arrive over time, hold GPUs on one node, and drive\n"
    "utilization, memory, power and temperature. The same options and seed\n"
    "always give the same bytes.\n"
    "\n"
    "  -n, --nodes N            nodes in the cluster (default 4)\n"
    "  -g, --gpus-per-node N    GPUs per node, 1-1024 (default 8)\n"
    "  -s, --start TIME         first sample time (default 2026-11-01)\n"
    "  -H, --hours H            hours of samples, may be fractional "
    "(default 24)\n"
    "  -e, --end TIME           stop before TIME instead of --hours\n"
    "  -i, --interval S         seconds between samples, 1-86400 "
    "(default 60)\n"
    "  -S, --seed N             random seed (default 1)\n"
    "  -f, --format F           csv (default), jsonl or nvidia-smi\n"
    "  -t, --ts FORM            timestamps: iso (default), epoch_ms, or\n"
    "                           mixed (epoch ms, epoch s, ISO Z, ISO offset)\n"
    "  -m, --models LIST        node models with weights, from a100-40,\n"
    "                           a100-80, h100, h200, v100 (default\n"
    "                           " DEFAULT_MODELS ")\n"
    "  -x, --extra LIST         add columns interval_s and/or gpu_uuid\n"
    "      --mig PROFILE,...    carve every GPU into these MIG instances\n"
    "                           (e.g. 3g.40gb,2g.20gb,2g.20gb; at most 7\n"
    "                           slices; only models that can hold them):\n"
    "                           rows per slice, columns mig and\n"
    "                           mig_profile (docs/FORMAT.md 1.6)\n"
    "      --node NAME          write only this node (nvidia-smi: default\n"
    "                           the first node)\n"
    "      --load F             target allocated share, 0-1 (default 0.7)\n"
    "      --faults RATE        fraction of rows, 0-1, given a fault: "
    "duplicate,\n"
    "                           corrected re-send, malformed line, late "
    "row,\n"
    "                           or [N/A] in an optional field (default 0)\n"
    "  -j, --jobs-out FILE      also write the job records (docs/FORMAT.md "
    "1.3)\n"
    "  -o, --output FILE        write to FILE (atomically) instead of "
    "stdout\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n";

struct opts {
	int nodes;
	int gpn;
	int64_t start_ms;
	int64_t end_ms; /* 0: from hours */
	int64_t hours_micro;
	int64_t interval_s;
	uint64_t seed;
	enum gen_format format;
	enum gen_ts ts;
	bool ts_set;
	bool hours_set;
	const char *models;
	bool models_set; /* -m given */
	const char *extra;
	const char *node;
	double load;
	double faults;
	const char *jobs_out;
	const char *output;
	const char *mig;
};

static bool
parse_fraction(const char *s, double *out)
{
	return gpu_num_parse_double(s, strlen(s), out) == 0 && *out >= 0 &&
	       *out <= 1;
}

/*
 * One option for gpu_opt_parse(): -1 to go on, else an exit status
 * (GPU_EXIT_OK after --help or --version).
 */
static int
set_opt(void *ctx, int c, const char *arg)
{
	struct opts *o = ctx;
	int64_t v;
	const char *why;

	switch (c) {
	case 'h':
		fputs(usage_text, stdout);
		fputs(help_text, stdout);
		return GPU_EXIT_OK;
	case 'V':
		puts("gpugen " GPU_VERSION);
		return GPU_EXIT_OK;
	case 'n':
		if (gpu_num_parse_range(arg, 1, GEN_MAX_NODES, &v) != 0)
			return gpu_usage_error(
			    usage_text, "invalid number of nodes '%s'", arg);
		o->nodes = (int)v;
		break;
	case 'g':
		if (gpu_num_parse_range(arg, 1, GEN_MAX_GPUS, &v) != 0)
			return gpu_usage_error(
			    usage_text, "invalid GPUs per node '%s'", arg);
		o->gpn = (int)v;
		break;
	case 's':
		if (gpu_time_parse_arg(arg, &o->start_ms, &why) != 0)
			return gpu_usage_error(usage_text,
					       "invalid start time '%s': %s",
					       arg, why);
		break;
	case 'H':
		if (gpu_num_parse_micro(arg, strlen(arg), &o->hours_micro) !=
			0 ||
		    o->hours_micro <= 0 ||
		    o->hours_micro > INT64_C(900000) * 1000000)
			return gpu_usage_error(
			    usage_text, "invalid number of hours '%s'", arg);
		o->hours_set = true;
		break;
	case 'e':
		if (gpu_time_parse_arg(arg, &o->end_ms, &why) != 0)
			return gpu_usage_error(
			    usage_text, "invalid end time '%s': %s", arg, why);
		break;
	case 'i':
		if (gpu_num_parse_range(arg, 1, 86400, &o->interval_s) != 0)
			return gpu_usage_error(usage_text,
					       "invalid interval '%s'", arg);
		break;
	case 'S':
		if (gpu_num_parse_range(arg, 0, INT64_MAX, &v) != 0)
			return gpu_usage_error(usage_text, "invalid seed '%s'",
					       arg);
		o->seed = (uint64_t)v;
		break;
	case 'f':
		if (strcmp(arg, "csv") == 0)
			o->format = GEN_CSV;
		else if (strcmp(arg, "jsonl") == 0)
			o->format = GEN_JSONL;
		else if (strcmp(arg, "nvidia-smi") == 0)
			o->format = GEN_SMI;
		else
			return gpu_usage_error(usage_text,
					       "unknown format '%s'", arg);
		break;
	case 't':
		if (strcmp(arg, "iso") == 0)
			o->ts = GEN_TS_ISO;
		else if (strcmp(arg, "epoch_ms") == 0)
			o->ts = GEN_TS_MS;
		else if (strcmp(arg, "mixed") == 0)
			o->ts = GEN_TS_MIXED;
		else
			return gpu_usage_error(
			    usage_text, "unknown timestamp form '%s'", arg);
		o->ts_set = true;
		break;
	case 'o':
		o->output = arg;
		break;
	case 'j':
		o->jobs_out = arg;
		break;
	case 'm':
		o->models = arg;
		o->models_set = true;
		break;
	case 'x':
		o->extra = arg;
		break;
	case OPT_NODE:
		o->node = arg;
		break;
	case OPT_MIG:
		o->mig = arg;
		break;
	case OPT_LOAD:
		if (!parse_fraction(arg, &o->load))
			return gpu_usage_error(usage_text, "invalid load '%s'",
					       arg);
		break;
	case OPT_FAULTS:
		if (!parse_fraction(arg, &o->faults))
			return gpu_usage_error(usage_text,
					       "invalid fault rate '%s'", arg);
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
	    {"nodes", required_argument, NULL, 'n'},
	    {"gpus-per-node", required_argument, NULL, 'g'},
	    {"start", required_argument, NULL, 's'},
	    {"hours", required_argument, NULL, 'H'},
	    {"end", required_argument, NULL, 'e'},
	    {"interval", required_argument, NULL, 'i'},
	    {"seed", required_argument, NULL, 'S'},
	    {"format", required_argument, NULL, 'f'},
	    {"ts", required_argument, NULL, 't'},
	    {"output", required_argument, NULL, 'o'},
	    {"jobs-out", required_argument, NULL, 'j'},
	    {"models", required_argument, NULL, 'm'},
	    {"extra", required_argument, NULL, 'x'},
	    {"node", required_argument, NULL, OPT_NODE},
	    {"mig", required_argument, NULL, OPT_MIG},
	    {"load", required_argument, NULL, OPT_LOAD},
	    {"faults", required_argument, NULL, OPT_FAULTS},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int rc = gpu_opt_parse(argc, argv, ":n:g:s:H:e:i:S:f:t:o:j:m:x:hV",
			       longopts, usage_text, set_opt, o);

	if (rc >= 0)
		return rc;
	if (optind < argc)
		return gpu_opt_operand_error(usage_text, argv[optind]);
	return -1;
}

/* Work out the sample grid from start, end or hours, and interval. */
static int
check_range(struct opts *o, struct gen_conf *c)
{
	int64_t end = o->end_ms;

	if (end != 0 && o->hours_set)
		return gpu_usage_error(usage_text,
				       "--hours and --end exclude each other");
	if (end == 0)
		end =
		    o->start_ms + o->hours_micro * 36 / 10; /* micro-h to ms */
	if (end <= o->start_ms)
		return gpu_usage_error(usage_text,
				       "--end must be after --start");
	if (end > GPU_TIME_MAX_MS)
		return gpu_usage_error(usage_text,
				       "samples would run past 2099");
	c->start_ms = o->start_ms;
	c->interval_ms = o->interval_s * 1000;
	c->nsteps = (end - o->start_ms + c->interval_ms - 1) / c->interval_ms;
	return 0;
}

static int
parse_extra(const char *list, struct gen_conf *c)
{
	const char *p = list;

	/* An empty list, or an empty name in it, is a mistake too. */
	for (;;) {
		size_t n = strcspn(p, ",");

		if (n == 10 && memcmp(p, "interval_s", n) == 0)
			c->col_interval = true;
		else if (n == 8 && memcmp(p, "gpu_uuid", n) == 0)
			c->col_uuid = true;
		else
			return gpu_usage_error(
			    usage_text, "unknown extra column in '%s'", list);
		p += n;
		if (*p == '\0')
			return 0;
		p++;
	}
}

/*
 * The MIG instances of --mig: profiles a 7-slice GPU (A100, H100, H200)
 * offers, whose compute slices fit in one GPU.
 */
static int
parse_mig(const char *list, struct gen_conf *c)
{
	const char *p = list;
	int total = 0;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		struct gpu_str prof = {p, n}, none = {"", 0};
		int share, gb = 0;
		size_t i = 0;

		if (c->mig_k == 7)
			return gpu_usage_error(usage_text,
					       "--mig: more than 7 instances");
		if (n == 0 || gpu_mig_share(prof, none, &share) != 0)
			return gpu_usage_error(usage_text,
					       "--mig: unknown MIG profile "
					       "'%.*s' (such as 3g.40gb)",
					       (int)n, p);
		/* The memory of "3g.40gb" (or "1c.3g.40gb") is 40 GiB. */
		while (i + 1 < n && !(p[i] == 'g' && p[i + 1] == '.'))
			i++;
		for (i += 2; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			gb = gb * 10 + (p[i] - '0');
		total += share;
		if (total > 28)
			return gpu_usage_error(
			    usage_text,
			    "--mig: '%s' needs more than the 7 compute slices "
			    "of a GPU",
			    list);
		c->mig_prof[c->mig_k] = p;
		c->mig_plen[c->mig_k] = (int)n;
		c->mig_mem[c->mig_k] = gb * 1024;
		c->mig_share[c->mig_k] = share;
		c->mig_k++;
		p += n;
		if (*p == ',')
			p++;
	}
	if (c->mig_k == 0)
		return gpu_usage_error(usage_text, "--mig: empty list");
	return 0;
}

/*
 * Whether model m can be carved into c's MIG instances: it offers MIG,
 * and their memory (in the profiles' whole GiB) fits its own.
 */
static bool
holds_mig(const struct gen_model *m, const struct gen_conf *c)
{
	int mib = 0;

	for (int i = 0; i < c->mig_k; i++)
		mib += c->mig_mem[i];
	return m->mig && mib <= (m->mem_mib + 1023) / 1024 * 1024;
}

/*
 * Give each node a model: contiguous blocks, as racks of one kind are, sized
 * by weight with largest remainders. With --mig, a model that cannot hold
 * the instances is refused when -m names it (named), else left out of the
 * default mix.
 */
static int
assign_models(const char *list, bool named, int nodes, const struct gen_conf *c,
	      const struct gen_model **out)
{
	const struct gen_model *m[MAX_MODELS];
	int64_t w[MAX_MODELS], share[MAX_MODELS], total = 0, given = 0;
	int nm = 0, node = 0;
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, ","), k = strcspn(p, ":,");

		if (nm == MAX_MODELS)
			return gpu_usage_error(usage_text,
					       "too many models in '%s'", list);
		m[nm] = gen_model_find(p, k);
		w[nm] = 1;
		if (m[nm] == NULL ||
		    (k < n &&
		     (gpu_num_parse_i64(p + k + 1, n - k - 1, &w[nm]) != 0 ||
		      w[nm] < 1 || w[nm] > 1000000)))
			return gpu_usage_error(usage_text,
					       "invalid model list '%s'", list);
		if (c->mig_k > 0 && !holds_mig(m[nm], c) && named)
			return gpu_usage_error(
			    usage_text,
			    "--mig: model %s cannot hold these instances "
			    "(%s)",
			    m[nm]->key,
			    m[nm]->mig ? "too little memory" : "no MIG");
		if (c->mig_k == 0 || holds_mig(m[nm], c))
			total += w[nm++];
		p += n;
		if (*p == ',')
			p++;
	}
	if (nm == 0 && c->mig_k > 0)
		return gpu_usage_error(usage_text,
				       "--mig: no model of '%s' can hold these "
				       "instances",
				       list);
	if (nm == 0)
		return gpu_usage_error(usage_text, "invalid model list '%s'",
				       list);
	for (int i = 0; i < nm; i++) {
		share[i] = w[i] * nodes / total;
		given += share[i];
	}
	while (given < nodes) {
		int best = 0;
		int64_t br = -1;

		for (int i = 0; i < nm; i++) {
			int64_t r = w[i] * nodes - share[i] * total;

			if (r > br) {
				br = r;
				best = i;
			}
		}
		share[best]++;
		given++;
	}
	for (int i = 0; i < nm; i++)
		for (int64_t k = 0; k < share[i]; k++)
			out[node++] = m[i];
	return 0;
}

static int
find_node(const char *name, int nodes)
{
	char buf[16];

	for (int i = 0; i < nodes; i++) {
		gen_node_name(i, nodes, buf);
		if (strcmp(buf, name) == 0)
			return i;
	}
	return -1;
}

static void
put_time(FILE *fp, int64_t ms)
{
	char buf[32];

	gpu_time_fmt_iso(ms, buf);
	fputs(buf, fp);
}

static void
write_jobs(FILE *fp, struct gen_sim *sim)
{
	gen_sim_sort_recs(sim);
	fputs("job_id,user,project,start,end,gpus\n", fp);
	for (size_t i = 0; i < sim->nrecs; i++) {
		const struct gen_jobrec *r = &sim->recs[i];

		fprintf(fp, "%llu,%s,%s,", (unsigned long long)r->id,
			gen_users[r->user], gen_projects[r->project]);
		put_time(fp, r->start_ms);
		fputc(',', fp);
		if (r->end_ms >= 0)
			put_time(fp, r->end_ms);
		fprintf(fp, ",%d\n", r->gpus);
	}
}

static int
generate(const struct opts *o, struct gen_conf *c)
{
	struct gen_sim sim;
	struct gen_out out = {0};
	struct gpu_outfile of, jf = {0};
	struct gpu_err err;
	int status = GPU_EXIT_FAIL;

	if (gpu_outfile_open(&of, o->output, &err) != 0) {
		gpu_msg_err(&err);
		return GPU_EXIT_FAIL;
	}
	if (o->jobs_out != NULL &&
	    gpu_outfile_open(&jf, o->jobs_out, &err) != 0) {
		gpu_msg_err(&err);
		gpu_outfile_abort(&of);
		return GPU_EXIT_FAIL;
	}
	setvbuf(of.fp, NULL, _IONBF, 0); /* gen_out buffers */
	out.fp = of.fp;
	out.cap = OUT_BUF_SIZE;
	out.buf = gpu_xmalloc(out.cap);
	gen_sim_init(&sim, c->seed, c->nodes, c->gpn, o->load, c->start_ms,
		     c->start_ms + c->nsteps * c->interval_ms);
	if (gen_rows_run(c, &sim, &out) != 0) {
		if (of.fp == stdout)
			gpu_msg("write error: %s", strerror(out.err));
		else
			gpu_msg("write error on '%s': %s", of.path,
				strerror(out.err));
		goto out;
	}
	if (jf.fp != NULL) {
		/* List the jobs that start after the last sample too. */
		gen_sim_advance(&sim, sim.win_end - 1);
		write_jobs(jf.fp, &sim);
	}
	if (gpu_outfile_commit(&of, &err) != 0 ||
	    gpu_outfile_commit(&jf, &err) != 0) {
		gpu_msg_err(&err);
		goto out;
	}
	status = GPU_EXIT_OK;
out:
	gpu_outfile_abort(&of);
	gpu_outfile_abort(&jf);
	gen_sim_release(&sim);
	free(out.buf);
	return status;
}

static int
configure(struct opts *o, struct gen_conf *c)
{
	int rc;

	c->seed = o->seed;
	c->nodes = o->nodes;
	c->gpn = o->gpn;
	c->format = o->format;
	c->ts = o->ts;
	c->faults = o->faults;
	c->only_node = -1;
	if ((int64_t)o->nodes * o->gpn > MAX_TOTAL_GPUS)
		return gpu_usage_error(usage_text,
				       "too many GPUs (at most 1000000)");
	if (o->format == GEN_SMI &&
	    (o->ts_set || o->extra != NULL || o->mig != NULL))
		return gpu_usage_error(usage_text,
				       "--ts, --extra and --mig do not apply "
				       "to --format nvidia-smi");
	if (o->mig != NULL && (rc = parse_mig(o->mig, c)) != 0)
		return rc;
	if (c->mig_k > 0 && (int64_t)o->nodes * o->gpn * c->mig_k >
				MAX_TOTAL_GPUS)
		return gpu_usage_error(usage_text,
				       "too many MIG slices (at most 1000000)");
	if (c->mig_k > 0)
		c->gpn = o->gpn * c->mig_k;
	rc = check_range(o, c);
	if (rc == 0 && o->extra != NULL)
		rc = parse_extra(o->extra, c);
	if (rc != 0)
		return rc;
	if (o->node != NULL) {
		c->only_node = find_node(o->node, o->nodes);
		if (c->only_node < 0)
			return gpu_usage_error(usage_text, "unknown node '%s'",
					       o->node);
	} else if (o->format == GEN_SMI) {
		c->only_node = 0;
	}
	return assign_models(o->models, o->models_set, o->nodes, c,
			     c->node_model);
}

int
main(int argc, char **argv)
{
	struct opts o = {
	    .nodes = 4,
	    .gpn = 8,
	    .hours_micro = INT64_C(24000000),
	    .interval_s = 60,
	    .seed = 1,
	    .format = GEN_CSV,
	    .ts = GEN_TS_ISO,
	    .models = DEFAULT_MODELS,
	    .load = 0.7,
	};
	struct gen_conf c = {0};
	const char *why;
	int status;

	gpu_diag_init(argv[0]);
	if (gpu_time_parse_arg("2026-11-01", &o.start_ms, &why) != 0)
		return GPU_EXIT_FAIL;
	status = parse_args(argc, argv, &o);
	if (status >= 0)
		return status == GPU_EXIT_OK ? gpu_close_stdout(status)
					     : status;
	c.node_model =
	    gpu_xreallocarray(NULL, (size_t)o.nodes, sizeof(*c.node_model));
	status = configure(&o, &c);
	if (status == 0)
		status = generate(&o, &c);
	free(c.node_model);
	if (status == GPU_EXIT_OK &&
	    (o.output == NULL || strcmp(o.output, "-") == 0))
		return gpu_close_stdout(status);
	return status;
}
