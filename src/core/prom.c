/* SPDX-License-Identifier: MIT */
/* dcgm-exporter's Prometheus text as raw samples (SPEC.md 1.5). */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "gpu/attrib.h"
#include "gpu/buf.h"
#include "gpu/hashmap.h"
#include "gpu/num.h"
#include "gpu/prom.h"

/* The metrics read; every other one is ignored. */
enum metric {
	M_UTIL,
	M_GR,
	M_FB_USED,
	M_FB_FREE,
	M_FB_RES,
	M_POWER,
	M_TEMP,
	NMETRIC
};

static const char *const metric_names[NMETRIC] = {
    "DCGM_FI_DEV_GPU_UTIL",    "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    "DCGM_FI_DEV_FB_USED",     "DCGM_FI_DEV_FB_FREE",
    "DCGM_FI_DEV_FB_RESERVED", "DCGM_FI_DEV_POWER_USAGE",
    "DCGM_FI_DEV_GPU_TEMP",
};

static const char *const negative[NMETRIC] = {
    "negative DCGM_FI_DEV_GPU_UTIL",
    "negative DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    "negative DCGM_FI_DEV_FB_USED",
    "negative DCGM_FI_DEV_FB_FREE",
    "negative DCGM_FI_DEV_FB_RESERVED",
    "negative DCGM_FI_DEV_POWER_USAGE",
    "",
};

/* DCGM's "blank" values start here: the field is unsupported. */
#define SENTINEL 9223372036854775794.0

/* One (node, gpu) series of the current scrape. */
struct series {
	char *node, *model, *uuid, *job, *raw;
	char *mig, *profile; /* GPU_I_ID and GPU_I_PROFILE, or NULL */
	int gpu;
	long line;
	bool has[NMETRIC];
	double v[NMETRIC];
	bool has_ts;
	int64_t ts_ms;
	int first_metric; /* of its first line; -1 before */
	int njobs;	  /* its lines with an hpc_job: one per job */
	const char *bad;  /* a reject reason, or NULL */
};

struct gpu_prom {
	FILE *fp;
	const char *source;
	char *node; /* opts.node copy, or NULL */
	bool has_time;
	int64_t time_ms; /* --at, else the file's mtime */
	char *line;
	size_t cap;
	long lineno;
	long long offset;
	bool any_series; /* a line with a value was read */
	bool any_gpu;	 /* a series of a metric read was kept */
	bool eof;
	bool complete;		 /* the series hold a whole scrape */
	struct gpu_hashmap keys; /* node, NUL, gpu: index into series */
	struct gpu_hashmap seen; /* metric, labels of this scrape */
	struct series *series;
	size_t nseries, cap_series, next; /* next: the one to hand out */
	struct gpu_buf node_buf, raw_buf;
};

/* A label of the line being parsed: borrowed from the line. */
struct label {
	const char *name, *val;
	size_t name_len, val_len;
};

bool
gpu_prom_detect(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && isspace((unsigned char)p[i]))
		i++;
	if (i < n && p[i] == '#')
		return true;
	return n - i >= 8 && strncasecmp(p + i, "DCGM_FI_", 8) == 0;
}

static int64_t
file_mtime_ms(FILE *fp, bool *ok)
{
	struct stat st;

	*ok = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) &&
	      st.st_nlink > 0; /* a spooled pipe is unlinked: no time */
	if (!*ok)
		return 0;
	return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

struct gpu_prom *
gpu_prom_new(FILE *fp, const char *source, const struct gpu_reader_opts *opts,
	     int *code, struct gpu_err *err)
{
	struct gpu_prom *p = gpu_xcalloc(1, sizeof(*p));

	p->fp = fp;
	p->source = source;
	if (opts->node != NULL)
		p->node = gpu_xstrdup(opts->node);
	p->has_time = opts->has_at;
	p->time_ms = opts->at_ms;
	if (!p->has_time)
		p->time_ms = file_mtime_ms(fp, &p->has_time);
	gpu_hashmap_init(&p->keys);
	gpu_hashmap_init(&p->seen);
	gpu_buf_init(&p->node_buf);
	gpu_buf_init(&p->raw_buf);
	(void)code;
	(void)err;
	return p;
}

static void
clear_series(struct gpu_prom *p)
{
	for (size_t i = 0; i < p->nseries; i++) {
		struct series *se = &p->series[i];

		free(se->node);
		free(se->model);
		free(se->uuid);
		free(se->mig);
		free(se->profile);
		free(se->job);
		free(se->raw);
	}
	p->nseries = p->next = 0;
	gpu_hashmap_clear(&p->keys);
	gpu_hashmap_clear(&p->seen);
}

void
gpu_prom_free(struct gpu_prom *p)
{
	if (p == NULL)
		return;
	clear_series(p);
	free(p->series);
	gpu_hashmap_release(&p->keys);
	gpu_hashmap_release(&p->seen);
	gpu_buf_release(&p->node_buf);
	gpu_buf_release(&p->raw_buf);
	free(p->line);
	free(p->node);
	free(p);
}

long long
gpu_prom_offset(const struct gpu_prom *p)
{
	return p->offset;
}

static const char *
skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static bool
name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' ||
	       (!first && isdigit((unsigned char)c));
}

/*
 * Split line into metric name, labels (up to max; the rest are dropped),
 * value and optional timestamp. Label values are unescaped in place (\\,
 * \" and \n, as the exposition format writes them; the bytes after a
 * shortened value are left as they were). Returns NULL, or why the line
 * is not a series line.
 */
static const char *
parse_line(char *line, struct label *labels, size_t max, size_t *nlabels,
	   const char **name, size_t *name_len, const char **val,
	   size_t *val_len, const char **ts, size_t *ts_len)
{
	const char *s = line;

	*nlabels = 0;
	*name = s;
	if (!name_char(*s, true))
		return "malformed series line";
	while (name_char(*s, false))
		s++;
	*name_len = (size_t)(s - *name);
	if (*s == '{') {
		s = skip_space(s + 1);
		while (*s != '}') {
			struct label l;

			l.name = s;
			while (name_char(*s, false))
				s++;
			l.name_len = (size_t)(s - l.name);
			s = skip_space(s);
			if (l.name_len == 0 || *s != '=')
				return "malformed label";
			s = skip_space(s + 1);
			if (*s != '"')
				return "malformed label";
			l.val = ++s;
			{
				char *w = (char *)s;

				while (*s != '"' && *s != '\0') {
					if (*s == '\\' && s[1] != '\0') {
						s++;
						*w++ = *s == 'n' ? '\n' : *s;
						s++;
					} else {
						*w++ = *s++;
					}
				}
				l.val_len = (size_t)(w - l.val);
			}
			if (*s != '"')
				return "malformed label";
			s = skip_space(s + 1);
			if (*nlabels < max)
				labels[(*nlabels)++] = l;
			if (*s == ',')
				s = skip_space(s + 1);
			else if (*s != '}')
				return "malformed label";
		}
		s++;
	}
	if (*s != ' ' && *s != '\t')
		return *s == '\0' ? "series without a value"
				  : "malformed series line";
	s = skip_space(s);
	*val = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	*val_len = (size_t)(s - *val);
	if (*val_len == 0)
		return "series without a value";
	s = skip_space(s);
	*ts = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	*ts_len = (size_t)(s - *ts);
	return *skip_space(s) == '\0' ? NULL : "malformed series line";
}

static bool
label_is(const struct label *l, const char *name)
{
	return strlen(name) == l->name_len &&
	       strncasecmp(l->name, name, l->name_len) == 0;
}

static char *
dup_val(const struct label *l)
{
	char *s = gpu_xmalloc(l->val_len + 1);

	memcpy(s, l->val, l->val_len);
	s[l->val_len] = '\0';
	return s;
}

/* The series of (node, gpu, MIG instance mig), added when new. */
static struct series *
series_of(struct gpu_prom *p, const char *node, size_t node_len, int gpu,
	  const struct label *mig)
{
	bool added;
	size_t i;
	int32_t g = gpu;

	gpu_buf_reset(&p->node_buf);
	gpu_buf_add(&p->node_buf, node, node_len);
	gpu_buf_addc(&p->node_buf, '\0');
	gpu_buf_add(&p->node_buf, &g, sizeof(g));
	if (mig != NULL && mig->val_len > 0)
		gpu_buf_add(&p->node_buf, mig->val, mig->val_len);
	i = gpu_hashmap_put(&p->keys, p->node_buf.data, p->node_buf.len,
			    &added);
	if (added) {
		struct series *se;

		if (p->nseries == p->cap_series) {
			p->cap_series =
			    p->cap_series == 0 ? 16 : 2 * p->cap_series;
			p->series = gpu_xreallocarray(p->series, p->cap_series,
						      sizeof(*p->series));
		}
		se = &p->series[p->nseries++];
		memset(se, 0, sizeof(*se));
		se->gpu = gpu;
		if (mig != NULL && mig->val_len > 0)
			se->mig = dup_val(mig);
		se->first_metric = -1;
		se->node = gpu_xmalloc(node_len + 1);
		memcpy(se->node, node, node_len);
		se->node[node_len] = '\0';
	}
	return &p->series[i];
}

/*
 * Read one series line into the current scrape. Returns 0, 1 when the
 * line begins a new scrape (it is kept for the next call), or a reject
 * reason through *why.
 */
static int
take_line(struct gpu_prom *p, const char **why)
{
	struct label labels[32];
	const struct label *gpu_l = NULL, *host_l = NULL, *model_l = NULL,
			   *uuid_l = NULL, *job_l = NULL, *mig_l = NULL,
			   *prof_l = NULL;
	const char *name, *val, *ts;
	size_t nl, name_len, val_len, ts_len, node_len;
	const char *node;
	struct series *se;
	int metric = -1;
	int64_t gpu, ts_ms = 0;
	double v;
	bool added;

	*why = parse_line(p->line, labels, 32, &nl, &name, &name_len, &val,
			  &val_len, &ts, &ts_len);
	if (*why != NULL)
		return 0;
	p->any_series = true;
	for (int m = 0; m < NMETRIC; m++)
		if (strlen(metric_names[m]) == name_len &&
		    strncasecmp(name, metric_names[m], name_len) == 0)
			metric = m;
	if (metric < 0)
		return 0;
	/* A metric and label set seen before starts the next scrape. */
	gpu_hashmap_put(&p->seen, p->line, (size_t)(val - p->line), &added);
	if (!added)
		return 1;
	for (size_t i = 0; i < nl; i++) {
		const struct label *l = &labels[i];
		const struct label **slot =
		    label_is(l, "gpu")		   ? &gpu_l
		    : label_is(l, "Hostname")	   ? &host_l
		    : label_is(l, "modelName")	   ? &model_l
		    : label_is(l, "UUID")	   ? &uuid_l
		    : label_is(l, "hpc_job")	   ? &job_l
		    : label_is(l, "GPU_I_ID")	   ? &mig_l
		    : label_is(l, "GPU_I_PROFILE") ? &prof_l
						   : NULL;

		if (slot == NULL)
			continue;
		/* A series names each label once: which one would be meant? */
		if (*slot != NULL) {
			*why = "malformed label: a label given twice";
			return 0;
		}
		*slot = l;
	}
	if (gpu_l == NULL) {
		*why = "series without a gpu label";
		return 0;
	}
	if (gpu_num_parse_i64(gpu_l->val, gpu_l->val_len, &gpu) != 0 ||
	    gpu < 0 || gpu > 1023 || !isdigit((unsigned char)*gpu_l->val)) {
		*why = "invalid gpu";
		return 0;
	}
	if (ts_len > 0 && gpu_num_parse_i64(ts, ts_len, &ts_ms) != 0) {
		*why = "invalid series timestamp";
		return 0;
	}
	node = p->node != NULL ? p->node : host_l != NULL ? host_l->val : "";
	node_len = p->node != NULL  ? strlen(p->node)
		   : host_l != NULL ? host_l->val_len
				    : 0;
	se = series_of(p, node, node_len, (int)gpu, mig_l);
	p->any_gpu = true;
	if (se->raw == NULL) {
		se->raw = gpu_xstrdup(p->line);
		se->line = p->lineno;
	}
	if (ts_len > 0 && !se->has_ts) {
		se->has_ts = true;
		se->ts_ms = ts_ms;
	}
	if (se->model == NULL && model_l != NULL && model_l->val_len > 0)
		se->model = dup_val(model_l);
	if (se->uuid == NULL && uuid_l != NULL && uuid_l->val_len > 0)
		se->uuid = dup_val(uuid_l);
	if (se->profile == NULL && prof_l != NULL && prof_l->val_len > 0)
		se->profile = dup_val(prof_l);
	if (se->first_metric < 0)
		se->first_metric = metric;
	if (job_l != NULL && job_l->val_len > 0) {
		char *job = dup_val(job_l);

		/* each job repeats every metric: count one metric's lines */
		se->njobs += se->first_metric == metric;

		if (se->job == NULL || gpu_job_id_cmp(job, se->job) < 0) {
			free(se->job);
			se->job = job;
		} else {
			free(job);
		}
	}
	if (gpu_num_parse_double(val, val_len, &v) != 0 || isnan(v)) {
		se->bad = se->bad != NULL ? se->bad : "invalid metric value";
		return 0;
	}
	if (v >= SENTINEL)
		return 0; /* unsupported: absent */
	if (v < 0 && metric != M_TEMP)
		se->bad = se->bad != NULL ? se->bad : negative[metric];
	se->has[metric] = true;
	se->v[metric] = v;
	return 0;
}

/* Read lines until a scrape is complete; -1 on a fatal error. */
static int
fill(struct gpu_prom *p, struct gpu_reject *rej, bool *rejected,
     struct gpu_err *err)
{
	ssize_t n;
	const char *why;

	*rejected = false;
	for (;;) {
		if (p->line == NULL || p->line[0] == '\0') {
			n = getline(&p->line, &p->cap, p->fp);
			if (n < 0) {
				if (ferror(p->fp))
					return gpu_err_at(err, p->source,
							  p->lineno,
							  "read error");
				p->eof = true;
				return 0;
			}
			p->offset += n;
			p->lineno++;
			while (n > 0 && (p->line[n - 1] == '\n' ||
					 p->line[n - 1] == '\r'))
				p->line[--n] = '\0';
			if (*skip_space(p->line) == '#' ||
			    *skip_space(p->line) == '\0') {
				p->line[0] = '\0';
				continue;
			}
		}
		if (take_line(p, &why) == 1)
			return 0; /* the line stays for the next scrape */
		if (why != NULL && !p->any_series &&
		    strcmp(why, "series without a value") == 0)
			return gpu_err_at(
			    err, p->source, p->lineno,
			    "not Prometheus exposition format: a series "
			    "without "
			    "a value, as a Prometheus query shows it; give "
			    "gpuingest what the exporter serves "
			    "(http://HOST:9400/metrics)");
		if (why != NULL) {
			gpu_buf_reset(&p->raw_buf);
			gpu_buf_adds(&p->raw_buf, p->line);
			p->line[0] = '\0';
			rej->line = p->lineno;
			rej->reason = why;
			rej->raw.p = p->raw_buf.data;
			rej->raw.len = p->raw_buf.len;
			*rejected = true;
			return 0;
		}
		p->line[0] = '\0';
	}
}

static struct gpu_str
str(const char *s)
{
	struct gpu_str v = {s, s != NULL ? strlen(s) : 0};

	return v;
}

/* The sample of a series, or a reject reason. */
static const char *
to_sample(const struct gpu_prom *p, const struct series *se,
	  struct gpu_sample *s)
{
	const double *v = se->v;
	const char *why;

	if (se->bad != NULL)
		return se->bad;
	memset(s, 0, sizeof(*s));
	s->node = str(se->node);
	if (s->node.len == 0)
		return "missing node (no Hostname label; use --node)";
	if (s->node.len > 128)
		return "node too long";
	s->gpu = se->gpu;
	if (se->has_ts)
		s->ts_ms = se->ts_ms;
	else
		s->ts_ms = p->time_ms;
	if (se->has[M_UTIL])
		s->util_pct = v[M_UTIL];
	else if (se->has[M_GR])
		s->util_pct = v[M_GR] * 100;
	else
		return "missing util_pct (no DCGM_FI_DEV_GPU_UTIL)";
	if (s->util_pct > 100)
		return "util_pct out of range";
	if (!se->has[M_FB_USED])
		return "missing mem_used_mib (no DCGM_FI_DEV_FB_USED)";
	s->mem_used_mib = llround(v[M_FB_USED]);
	if (se->has[M_FB_FREE]) {
		s->mem_total_mib =
		    llround(v[M_FB_USED] + v[M_FB_FREE] +
			    (se->has[M_FB_RES] ? v[M_FB_RES] : 0));
		s->has_mem_total = s->mem_total_mib > 0;
	}
	s->has_power = se->has[M_POWER];
	s->power_w = v[M_POWER];
	s->has_temp = se->has[M_TEMP];
	s->temp_c = v[M_TEMP];
	s->model = str(se->model);
	s->gpu_uuid = str(se->uuid);
	s->job_id = str(se->job);
	s->njobs = se->njobs;
	if (se->mig != NULL &&
	    (why = gpu_sample_set_mig(s, str(se->mig), str(se->profile))) !=
		NULL)
		return why;
	if (s->ts_ms < 946684800000 || s->ts_ms >= 4102444800000)
		return "timestamp out of range";
	return NULL;
}

int
gpu_prom_next(struct gpu_prom *p, struct gpu_sample *s, long *line,
	      struct gpu_reject *rej, struct gpu_err *err)
{
	const struct series *se;
	const char *why;
	bool rejected;

	while (!p->complete || p->next == p->nseries) {
		if (p->complete) {
			if (p->eof && !p->any_gpu)
				return gpu_err_at(
				    err, p->source, 0,
				    "no dcgm-exporter GPU series "
				    "(DCGM_FI_DEV_GPU_UTIL, "
				    "DCGM_FI_PROF_GR_ENGINE_ACTIVE or "
				    "DCGM_FI_DEV_FB_USED with a gpu label)");
			if (p->eof)
				return GPU_READ_EOF;
			clear_series(p);
			p->complete = false;
		}
		if (fill(p, rej, &rejected, err) != 0)
			return -1;
		if (rejected)
			return GPU_READ_REJECT;
		p->complete = true;
		if (p->nseries > 0 && !p->has_time && !p->series[0].has_ts)
			return gpu_err_at(err, p->source, p->series[0].line,
					  "a scrape without a time: no series "
					  "timestamp and not a file (use --at "
					  "TIME)");
	}
	se = &p->series[p->next++];
	why = to_sample(p, se, s);
	if (why != NULL) {
		rej->line = se->line;
		rej->reason = why;
		rej->raw = str(se->raw);
		return GPU_READ_REJECT;
	}
	if (line != NULL)
		*line = se->line;
	return GPU_READ_SAMPLE;
}
