/* SPDX-License-Identifier: MIT */
/* Job records and Slurm sacct output: detection, step folding, AllocTRES. */
#include "gpu/jobs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "gpu/buf.h"
#include "gpu/num.h"
#include "gpu/time.h"

#define FIRST_LINE_MAX (1024 * 1024)

enum {
	C_ID,
	C_IDRAW,
	C_USER,
	C_PROJECT,
	C_ACCOUNT,
	C_START,
	C_END,
	C_GPUS,
	C_TRES,
	C_N
};

/* Column names by role; the first of a role's aliases wins. */
static const struct {
	const char *name;
	int role;
} known[] = {
    {"job_id", C_ID},	   {"jobid", C_ID},	   {"jobidraw", C_IDRAW},
    {"user", C_USER},	   {"project", C_PROJECT}, {"account", C_ACCOUNT},
    {"start", C_START},	   {"end", C_END},	   {"gpus", C_GPUS},
    {"alloctres", C_TRES},
};

static const char *const json_names[] = {"job_id", "user", "project", "start",
					 "end",	   "gpus", NULL};

/* A job being assembled from its job row and step rows; owns its text. */
struct rec {
	struct gpu_buf id, user, project;
	bool has_start, has_end, has_gpus;
	int64_t start_ms, end_ms, gpus, slices;
	long line;
	bool from_step; /* no job row seen yet, only steps */
};

struct gpu_jobs {
	struct gpu_table *t;
	bool sacct;
	int col[C_N];
	struct gpu_buf unknown;
	struct rec rec[2];
	int held; /* index into rec of the job being assembled, or -1 */
	bool eof;
};

/* One row's values, borrowed from the table. */
struct vals {
	struct gpu_str id, user, project;
	bool has_start, has_end, has_gpus;
	int64_t start_ms, end_ms, gpus, slices;
};

size_t
gpu_job_base_len(const char *id, size_t len)
{
	const char *dot = memchr(id, '.', len);

	return dot != NULL ? (size_t)(dot - id) : len;
}

static bool
key_is(const char *s, size_t len, const char *key)
{
	return strlen(key) == len && strncasecmp(s, key, len) == 0;
}

int
gpu_tres_gpus(const char *s, size_t len, int64_t *gpus, int64_t *slices)
{
	int64_t total = -1, typed = 0, mig = 0;
	size_t i = 0;

	while (i < len) {
		size_t end = i, eq;
		int64_t n;

		while (end < len && s[end] != ',')
			end++;
		for (eq = i; eq < end && s[eq] != '='; eq++)
			;
		if (eq < end &&
		    (key_is(s + i, eq - i, "gres/gpu") ||
		     (eq - i > 9 && strncasecmp(s + i, "gres/gpu:", 9) == 0))) {
			if (gpu_num_parse_i64(s + eq + 1, end - eq - 1, &n) !=
				0 ||
			    n < 0 || s[eq + 1] == '+' || s[eq + 1] == '-')
				return -1;
			if (eq - i == 8)
				total = n;
			else if (gpu_gres_is_mig(s + i + 9, eq - i - 9) &&
				 mig <= INT64_MAX - n)
				mig += n;
			else if (typed <= INT64_MAX - n)
				typed += n;
			else
				return -1;
		}
		i = end + 1;
	}
	/* The untyped total counts each MIG device as a GPU: take them out. */
	*gpus = total >= 0 ? (total > mig ? total - mig : 0) : typed;
	if (slices != NULL)
		*slices = mig;
	return 0;
}

static const char *
parse_time(struct gpu_str v, bool *has, int64_t *ms, const char *bad,
	   const char *range)
{
	const char *why = NULL;

	*has = false;
	if (gpu_value_absent(v, true))
		return NULL;
	if (gpu_time_parse(v.p, v.len, ms, &why) != 0)
		return why != NULL && strstr(why, "range") != NULL ? range
								   : bad;
	*has = true;
	return NULL;
}

/* Validate a row into v; returns a static reject reason or NULL. */
static const char *
parse_row(const struct gpu_jobs *j, const struct gpu_row *row, struct vals *v)
{
	struct gpu_str gpus, tres;
	const char *why;

	memset(v, 0, sizeof(*v));
	v->id = gpu_row_field(row, j->col[C_ID]);
	if (v->id.len == 0)
		v->id = gpu_row_field(row, j->col[C_IDRAW]);
	if (gpu_value_absent(v->id, false))
		return "missing job_id";
	if (gpu_job_base_len(v->id.p, v->id.len) == 0)
		return "invalid job_id";
	if ((why = gpu_text_check(v->id, "job_id too long",
			      "control character in job_id")) != NULL)
		return why;
	v->user = gpu_row_field(row, j->col[C_USER]);
	if (gpu_value_absent(v->user, false))
		v->user.len = 0;
	if ((why = gpu_text_check(v->user, "user too long",
			      "control character in user")) != NULL)
		return why;
	v->project = gpu_row_field(row, j->col[C_PROJECT]);
	if (gpu_value_absent(v->project, false))
		v->project = gpu_row_field(row, j->col[C_ACCOUNT]);
	if (gpu_value_absent(v->project, false))
		v->project.len = 0;
	if ((why = gpu_text_check(v->project, "project too long",
			      "control character in project")) != NULL)
		return why;
	if ((why = parse_time(gpu_row_field(row, j->col[C_START]), &v->has_start,
			      &v->start_ms, "invalid start time",
			      "start time out of range")) != NULL)
		return why;
	if ((why = parse_time(gpu_row_field(row, j->col[C_END]), &v->has_end, &v->end_ms,
			      "invalid end time", "end time out of range")) !=
	    NULL)
		return why;
	gpus = gpu_row_field(row, j->col[C_GPUS]);
	tres = gpu_row_field(row, j->col[C_TRES]);
	if (!gpu_value_absent(gpus, false)) {
		if (gpu_num_parse_i64(gpus.p, gpus.len, &v->gpus) != 0 ||
		    v->gpus < 0)
			return "invalid gpus";
		v->has_gpus = true;
	} else if (!gpu_value_absent(tres, false)) {
		if (gpu_tres_gpus(tres.p, tres.len, &v->gpus, &v->slices) != 0)
			return "invalid AllocTRES";
		v->has_gpus = true;
	}
	return NULL;
}

static void
rec_set(struct gpu_buf *b, struct gpu_str s)
{
	gpu_buf_reset(b);
	gpu_buf_add(b, s.p, s.len);
}

/* Start a record from a row whose job part is base. */
static void
rec_start(struct rec *r, const struct vals *v, size_t base, bool step,
	  long line)
{
	struct gpu_str id = {v->id.p, base};

	rec_set(&r->id, id);
	rec_set(&r->user, v->user);
	rec_set(&r->project, v->project);
	r->has_start = !step && v->has_start;
	r->has_end = !step && v->has_end;
	r->start_ms = v->start_ms;
	r->end_ms = v->end_ms;
	r->has_gpus = v->has_gpus;
	r->gpus = v->gpus;
	r->slices = v->slices;
	r->line = line;
	r->from_step = step;
}

/*
 * Fold a row of the same job into r: a step fills what the job lacks; the
 * job row itself (after steps) wins over what steps gave.
 */
static void
rec_merge(struct rec *r, const struct vals *v, bool step)
{
	bool wins = !step && r->from_step;

	if (v->user.len > 0 && (wins || r->user.len == 0))
		rec_set(&r->user, v->user);
	if (v->project.len > 0 && (wins || r->project.len == 0))
		rec_set(&r->project, v->project);
	if (v->has_gpus && (wins || !r->has_gpus)) {
		r->gpus = v->gpus;
		r->slices = v->slices;
		r->has_gpus = true;
	}
	if (!step) {
		r->has_start = v->has_start;
		r->start_ms = v->start_ms;
		r->has_end = v->has_end;
		r->end_ms = v->end_ms;
		r->from_step = false;
	}
}

static void
rec_emit(const struct rec *r, struct gpu_job *job, long *line)
{
	job->job_id.p = r->id.data;
	job->job_id.len = r->id.len;
	job->user.p = r->user.data;
	job->user.len = r->user.len;
	job->project.p = r->project.data;
	job->project.len = r->project.len;
	job->has_start = r->has_start;
	job->start_ms = r->start_ms;
	job->has_end = r->has_end;
	job->end_ms = r->end_ms;
	job->has_gpus = r->has_gpus;
	job->gpus = r->gpus;
	job->slices = r->slices;
	*line = r->line;
}

/* Read the first line of fp into b (without its end) and rewind. */
static int
first_line(FILE *fp, const char *source, struct gpu_buf *b, struct gpu_err *err)
{
	off_t pos = ftello(fp);
	int c;

	if (pos < 0)
		return gpu_err_at(err, source, 0,
				  "job input must be a seekable file");
	while ((c = getc(fp)) != EOF && c != '\n' && b->len < FIRST_LINE_MAX)
		gpu_buf_addc(b, (char)c);
	if (ferror(fp))
		return gpu_err_at(err, source, 0, "read error");
	if (fseeko(fp, pos, SEEK_SET) != 0)
		return gpu_err_at(err, source, 0, "cannot rewind input");
	if (b->len == 0 && c == EOF)
		return gpu_err_at(err, source, 0, "empty input");
	if (b->len > 0 && b->data[b->len - 1] == '\r')
		b->data[--b->len] = '\0';
	return 0;
}

/* Does the header line name a job ID column? */
static bool
names_job_id(const char *s, size_t len, char delim)
{
	size_t i = 0;

	while (i <= len) {
		size_t end = i, a, z;

		while (end < len && s[end] != delim)
			end++;
		for (a = i, z = end; a < z && (s[a] == ' ' || s[a] == '"');)
			a++;
		while (z > a && (s[z - 1] == ' ' || s[z - 1] == '"'))
			z--;
		if (key_is(s + a, z - a, "job_id") ||
		    key_is(s + a, z - a, "jobid") ||
		    key_is(s + a, z - a, "jobidraw"))
			return true;
		i = end + 1;
	}
	return false;
}

static int
map_columns(struct gpu_jobs *j, const char *source, bool named,
	    struct gpu_err *err)
{
	size_t n = gpu_table_ncols(j->t);

	for (int r = 0; r < C_N; r++)
		j->col[r] = -1;
	for (size_t i = 0; i < n; i++) {
		const char *name = gpu_table_colname(j->t, i);
		bool found = false;

		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
			if (strcasecmp(name, known[k].name) != 0)
				continue;
			found = true;
			if (j->col[known[k].role] < 0)
				j->col[known[k].role] = (int)i;
		}
		if (!found && *name != '\0') {
			if (j->unknown.len > 0)
				gpu_buf_addc(&j->unknown, ',');
			gpu_buf_adds(&j->unknown, name);
		}
	}
	if (j->col[C_ID] < 0 && j->col[C_IDRAW] < 0) {
		gpu_err_at(err, source, 1, "missing required column '%s'",
			   j->sacct ? "JobID" : "job_id");
		return j->sacct && !named ? GPU_JOBS_NO_HEADER : -1;
	}
	return 0;
}

int
gpu_jobs_open(FILE *fp, const char *source, const struct gpu_jobs_opts *opts,
	      struct gpu_jobs **out, struct gpu_err *err)
{
	struct gpu_jobs *j = gpu_xcalloc(1, sizeof(*j));
	struct gpu_table_opts to = {0};
	struct gpu_buf line;
	const char *p;
	bool header;
	int rc = -1;

	*out = NULL;
	gpu_buf_init(&line);
	gpu_buf_init(&j->unknown);
	for (int i = 0; i < 2; i++) {
		gpu_buf_init(&j->rec[i].id);
		gpu_buf_init(&j->rec[i].user);
		gpu_buf_init(&j->rec[i].project);
	}
	j->held = -1;
	if (first_line(fp, source, &line, err) != 0)
		goto fail;
	p = line.data;
	if (line.len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '{') {
		to.format = GPU_FMT_JSONL;
		to.names = json_names;
	} else {
		j->sacct = strchr(p, '|') != NULL;
		to.format = GPU_FMT_CSV;
		to.delim = j->sacct ? '|' : ',';
		header = names_job_id(p, strlen(p), to.delim);
		if (!header && opts->columns != NULL) {
			/* The table drops sacct -p's trailing '|' itself. */
			to.no_header = true;
			to.columns = opts->columns;
		}
	}
	j->t = gpu_table_new(fp, source, &to, err);
	if (j->t == NULL)
		goto fail;
	if (to.format == GPU_FMT_JSONL) {
		for (int r = 0; r < C_N; r++)
			j->col[r] = -1;
		for (int i = 0; json_names[i] != NULL; i++)
			for (size_t k = 0; k < sizeof(known) / sizeof(known[0]);
			     k++)
				if (strcmp(json_names[i], known[k].name) == 0)
					j->col[known[k].role] =
					    gpu_table_col(j->t, json_names[i]);
	} else if ((rc = map_columns(j, source, to.no_header, err)) != 0) {
		goto fail;
	}
	gpu_buf_release(&line);
	*out = j;
	return 0;
fail:
	gpu_buf_release(&line);
	gpu_jobs_free(j);
	return rc;
}

struct gpu_jobs *
gpu_jobs_new(FILE *fp, const char *source, const struct gpu_jobs_opts *opts,
	     struct gpu_err *err)
{
	struct gpu_jobs *j;

	gpu_jobs_open(fp, source, opts, &j, err);
	return j;
}

void
gpu_jobs_free(struct gpu_jobs *j)
{
	if (j == NULL)
		return;
	gpu_table_free(j->t);
	gpu_buf_release(&j->unknown);
	for (int i = 0; i < 2; i++) {
		gpu_buf_release(&j->rec[i].id);
		gpu_buf_release(&j->rec[i].user);
		gpu_buf_release(&j->rec[i].project);
	}
	free(j);
}

bool
gpu_jobs_is_sacct(const struct gpu_jobs *j)
{
	return j->sacct;
}

const char *
gpu_jobs_unknown(const struct gpu_jobs *j)
{
	return j->unknown.data;
}

int
gpu_jobs_next(struct gpu_jobs *j, struct gpu_job *job, long *line,
	      struct gpu_reject *rej, struct gpu_err *err)
{
	for (;;) {
		struct gpu_row row;
		struct vals v;
		const char *why;
		size_t base;
		int rc, slot;

		if (j->eof) {
			if (j->held < 0)
				return GPU_READ_EOF;
			rec_emit(&j->rec[j->held], job, line);
			j->held = -1;
			return GPU_READ_SAMPLE;
		}
		rc = gpu_table_next(j->t, &row, err);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			j->eof = true;
			continue;
		}
		why = row.bad != NULL ? row.bad : parse_row(j, &row, &v);
		if (why != NULL) {
			rej->line = row.line;
			rej->reason = why;
			rej->raw = row.raw;
			return GPU_READ_REJECT;
		}
		base = gpu_job_base_len(v.id.p, v.id.len);
		if (j->held >= 0 && j->rec[j->held].id.len == base &&
		    memcmp(j->rec[j->held].id.data, v.id.p, base) == 0) {
			rec_merge(&j->rec[j->held], &v, base < v.id.len);
			continue;
		}
		slot = j->held >= 0 ? 1 - j->held : 0;
		rec_start(&j->rec[slot], &v, base, base < v.id.len, row.line);
		if (j->held < 0) {
			j->held = slot;
			continue;
		}
		rec_emit(&j->rec[j->held], job, line);
		j->held = slot;
		return GPU_READ_SAMPLE;
	}
}
