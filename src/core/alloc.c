/* SPDX-License-Identifier: MIT */
/*
 * Allocations (SPEC.md 1.4) from CSV/JSON Lines, scontrol show job -d
 * (multi-line or -o) and the gpuusage prolog/epilog lines.
 *
 * The prolog/epilog lines, format version 1, one event a line:
 *
 *   gpuusage-alloc 1 start time=2026-11-28T16:00:00Z job=123 node=gpu01
 *     gpus=0,2-3 user=alice project=ml
 *   gpuusage-alloc 1 end time=2026-11-28T18:00:00Z job=123 node=gpu01
 *     gpus=0,2-3
 *
 * (each on one line). Tokens are separated by one or more spaces or tabs.
 * The magic word "gpuusage-alloc" comes first, then the format version
 * (only 1 is known: a line of another version is rejected), then the
 * event: "start" (the job was given the GPUs of the node) or "end" (it
 * released them). key=value tokens follow in any order; values hold no
 * whitespace, and a key may appear once:
 *
 *   time     when the event happened (SPEC.md 1.1; no offset means UTC);
 *            required
 *   job      the job as sacct names it: SLURM_JOB_ID, or
 *            ARRAYJOB_TASK for an array task, JOB+OFFSET for a component
 *            of a heterogeneous job; required
 *   node     the host (SLURMD_NODENAME; a hostlist expression is
 *            expanded); required
 *   gpus     the physical GPU indices of the node, as SLURM_JOB_GPUS
 *            lists them ("0,2-3"), never CUDA_VISIBLE_DEVICES; required
 *            on start; empty ("gpus=") when the job holds no GPU on the
 *            node, and the line then yields nothing
 *   user     the job's user (SLURM_JOB_USER); optional, may be empty
 *   project  the account charged (SLURM_JOB_ACCOUNT); optional, may be
 *            empty
 *
 * Unknown keys are ignored, so that later versions of the format can add
 * some. Blank lines and lines starting with '#' are skipped.
 */
#include "gpu/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "gpu/buf.h"
#include "gpu/hostlist.h"
#include "gpu/jobs.h"
#include "gpu/time.h"

/* Longest line, and longest scontrol record, held in memory. */
#define LINE_MAX_LEN (1024 * 1024)
#define REC_MAX_LEN (1024 * 1024)
/* Raw text handed out with a reject, as the table reader caps it. */
#define RAW_MAX (64 * 1024)

#define MAGIC "gpuusage-alloc"

enum { STEP_SKIP = 3 };

/* A position in a record: offset, line index and that line's start. */
struct cursor {
	size_t pos, line, line_start;
};

enum { C_ID, C_NODE, C_GPUS, C_START, C_END, C_USER, C_PROJECT, C_N };

/* Column names by role; the first four are required. */
static const char *const col_names[C_N + 1] = {
    "job_id", "node", "gpus", "start", "end", "user", "project", NULL};

struct gpu_alloc_reader {
	enum gpu_alloc_src src;
	FILE *fp;
	char *source;
	/* CSV/JSON Lines */
	struct gpu_table *t;
	int col[C_N];
	/* scontrol and prolog/epilog lines */
	struct gpu_buf line; /* the current physical line, without its end */
	long lineno;
	bool line_long; /* line was cut at LINE_MAX_LEN */
	bool held;	/* line is the next record's first line, not used yet */
	bool eof;
	/* scontrol: the record being read, its lines joined by '\n' */
	struct gpu_buf rec;
	long rec_line;
	bool in_rec;	    /* detail groups of rec remain to be read */
	struct cursor det;  /* where the search for the next one resumes */
	struct gpu_str raw; /* the last detail line handed out as raw text */
	/* the allocation being handed out, one node at a time */
	struct gpu_buf job, user, project;
	struct gpu_alloc cur;
	long cur_line;
	struct gpu_hostlist hosts;
	size_t next_host;
};

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
str_is(struct gpu_str v, const char *s)
{
	return v.p != NULL && strlen(s) == v.len && memcmp(v.p, s, v.len) == 0;
}

/* Parse a time that is present; returns a static reject reason or NULL. */
static const char *
parse_time(struct gpu_str v, int64_t *ms, const char *bad, const char *range)
{
	const char *why = NULL;

	if (gpu_time_parse(v.p, v.len, ms, &why) == 0)
		return NULL;
	return why != NULL && strstr(why, "range") != NULL ? range : bad;
}

static int
parse_index(const char *s, size_t n, int *v)
{
	if (n == 0)
		return -1;
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		/* Saturate: any value past the last index is out of range. */
		if (*v < GPU_GPUSET_MAX)
			*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
gpu_gpuset_parse(const char *s, size_t len, struct gpu_gpuset *set,
		 const char **why)
{
	size_t i = 0;

	memset(set, 0, sizeof(*set));
	if (len == 0) {
		*why = "empty GPU index list";
		return -1;
	}
	for (;;) {
		const char *comma = memchr(s + i, ',', len - i);
		size_t end = comma != NULL ? (size_t)(comma - s) : len;
		const char *dash = memchr(s + i, '-', end - i);
		size_t lo_end = dash != NULL ? (size_t)(dash - s) : end;
		int lo, hi;

		if (parse_index(s + i, lo_end - i, &lo) != 0 ||
		    (dash != NULL &&
		     parse_index(dash + 1, end - lo_end - 1, &hi) != 0)) {
			*why = "invalid GPU index list";
			return -1;
		}
		if (dash == NULL)
			hi = lo;
		if (hi < lo) {
			*why = "invalid GPU index list";
			return -1;
		}
		if (hi >= GPU_GPUSET_MAX) {
			*why = "GPU index out of range";
			return -1;
		}
		for (int g = lo; g <= hi; g++)
			gpu_gpuset_add(set, g);
		if (comma == NULL)
			return 0;
		i = end + 1;
	}
}

bool
gpu_gpuset_has(const struct gpu_gpuset *set, int gpu)
{
	if (gpu < 0 || gpu >= GPU_GPUSET_MAX)
		return false;
	return (set->w[gpu / 64] >> (gpu % 64) & 1) != 0;
}

void
gpu_gpuset_add(struct gpu_gpuset *set, int gpu)
{
	if (gpu >= 0 && gpu < GPU_GPUSET_MAX)
		set->w[gpu / 64] |= UINT64_C(1) << (gpu % 64);
}

int
gpu_gpuset_count(const struct gpu_gpuset *set)
{
	int n = 0;

	for (size_t i = 0; i < GPU_GPUSET_MAX / 64; i++)
		for (uint64_t w = set->w[i]; w != 0; w &= w - 1)
			n++;
	return n;
}

static void
set_buf(struct gpu_buf *b, struct gpu_str s)
{
	gpu_buf_reset(b);
	gpu_buf_add(b, s.p, s.len);
}

static struct gpu_str
cap_raw(const char *p, size_t len)
{
	struct gpu_str s = {p, len > RAW_MAX ? RAW_MAX : len};

	return s;
}

/*
 * Check and expand a node expression into r->hosts; returns a static reject
 * reason or NULL. A plain name over GPU_TEXT_MAX is "node too long" whatever
 * the hostlist guard on names says.
 */
static const char *
expand_nodes(struct gpu_alloc_reader *r, struct gpu_str v)
{
	const char *why = gpu_text_check(v, NULL, "control character in node");

	if (why != NULL)
		return why;
	if (v.len > GPU_TEXT_MAX && memchr(v.p, '[', v.len) == NULL &&
	    memchr(v.p, ',', v.len) == NULL)
		return "node too long";
	if (gpu_hostlist_expand(v.p, v.len, &r->hosts, &why) != 0)
		return why;
	for (size_t i = 0; i < r->hosts.n; i++) {
		if (strlen(r->hosts.names[i]) > GPU_TEXT_MAX) {
			gpu_hostlist_release(&r->hosts);
			return "node too long";
		}
	}
	return NULL;
}

/* Start handing out the allocation held in r->cur for each r->hosts. */
static int
ready(struct gpu_alloc_reader *r, struct gpu_str job, struct gpu_str user,
      struct gpu_str project, long line)
{
	set_buf(&r->job, job);
	set_buf(&r->user, user);
	set_buf(&r->project, project);
	r->cur_line = line;
	r->next_host = 0;
	return GPU_READ_SAMPLE;
}

static int
reject(struct gpu_reject *rej, long line, const char *why, struct gpu_str raw)
{
	rej->line = line;
	rej->reason = why;
	rej->raw = raw;
	return GPU_READ_REJECT;
}

/* ---- CSV / JSON Lines ---- */

/* Validate a row into r->cur (not its node); a static reason or NULL. */
static const char *
table_row(struct gpu_alloc_reader *r, const struct gpu_row *row,
	  struct gpu_str *id, struct gpu_str *user, struct gpu_str *project)
{
	struct gpu_alloc *a = &r->cur;
	struct gpu_str v;
	const char *why;

	*id = gpu_row_field(row, r->col[C_ID]);
	if (gpu_value_absent(*id, false))
		return "missing job_id";
	if ((why = gpu_text_check(*id, "job_id too long",
			      "control character in job_id")) != NULL)
		return why;
	if (gpu_value_absent(gpu_row_field(row, r->col[C_NODE]), false))
		return "missing node";
	v = gpu_row_field(row, r->col[C_GPUS]);
	if (gpu_value_absent(v, false))
		return "missing gpus";
	if (gpu_gpuset_parse(v.p, v.len, &a->gpus, &why) != 0)
		return why;
	a->has_gpus = true;
	v = gpu_row_field(row, r->col[C_START]);
	if (gpu_value_absent(v, true))
		return "missing start";
	if ((why = parse_time(v, &a->start_ms, "invalid start time",
			      "start time out of range")) != NULL)
		return why;
	a->has_start = true;
	v = gpu_row_field(row, r->col[C_END]);
	if (!gpu_value_absent(v, true)) {
		if ((why = parse_time(v, &a->end_ms, "invalid end time",
				      "end time out of range")) != NULL)
			return why;
		if (a->end_ms <= a->start_ms)
			return "allocation does not end after it starts";
		a->has_end = true;
	}
	*user = gpu_row_field(row, r->col[C_USER]);
	if (gpu_value_absent(*user, false))
		user->len = 0;
	if ((why = gpu_text_check(*user, "user too long",
			      "control character in user")) != NULL)
		return why;
	*project = gpu_row_field(row, r->col[C_PROJECT]);
	if (gpu_value_absent(*project, false))
		project->len = 0;
	if ((why = gpu_text_check(*project, "project too long",
			      "control character in project")) != NULL)
		return why;
	return expand_nodes(r, gpu_row_field(row, r->col[C_NODE]));
}

static int
table_step(struct gpu_alloc_reader *r, struct gpu_reject *rej,
	   struct gpu_err *err)
{
	struct gpu_str id, user, project;
	struct gpu_row row;
	const char *why;
	int rc = gpu_table_next(r->t, &row, err);

	if (rc <= 0)
		return rc < 0 ? -1 : GPU_READ_EOF;
	memset(&r->cur, 0, sizeof(r->cur));
	why = row.bad != NULL ? row.bad
			      : table_row(r, &row, &id, &user, &project);
	if (why != NULL)
		return reject(rej, row.line, why,
			      cap_raw(row.raw.p, row.raw.len));
	return ready(r, id, user, project, row.line);
}

static int
table_open(struct gpu_alloc_reader *r, bool jsonl, struct gpu_err *err)
{
	struct gpu_table_opts to = {0};

	to.format = jsonl ? GPU_FMT_JSONL : GPU_FMT_CSV;
	to.names = col_names;
	r->t = gpu_table_new(r->fp, r->source, &to, err);
	if (r->t == NULL)
		return -1;
	for (int c = 0; c < C_N; c++) {
		r->col[c] = gpu_table_col(r->t, col_names[c]);
		if (!jsonl && c <= C_START && r->col[c] < 0)
			return gpu_err_at(err, r->source, 1,
					  "missing required column '%s'",
					  col_names[c]);
	}
	return 0;
}

/* ---- lines ---- */

/*
 * Read the next physical line into r->line (without "\n" or "\r\n"), at
 * most LINE_MAX_LEN bytes of it (r->line_long says it was longer). Returns
 * 1, 0 at the end of the input, or -1 on a read error.
 */
static int
read_line(struct gpu_alloc_reader *r, struct gpu_err *err)
{
	int c;

	gpu_buf_reset(&r->line);
	r->line_long = false;
	if (r->eof)
		return 0;
	while ((c = getc(r->fp)) != EOF && c != '\n') {
		if (r->line.len < LINE_MAX_LEN)
			gpu_buf_addc(&r->line, (char)c);
		else
			r->line_long = true;
	}
	if (ferror(r->fp))
		return gpu_err_at(err, r->source, r->lineno + 1, "read error");
	if (c == EOF) {
		r->eof = true;
		if (r->line.len == 0 && !r->line_long)
			return 0;
	}
	r->lineno++;
	if (r->lineno == 1 && r->line.len >= 3 &&
	    memcmp(r->line.data, "\xef\xbb\xbf", 3) == 0) {
		memmove(r->line.data, r->line.data + 3, r->line.len - 2);
		r->line.len -= 3;
	}
	if (r->line.len > 0 && r->line.data[r->line.len - 1] == '\r')
		r->line.data[--r->line.len] = '\0';
	return 1;
}

/* Offset of the first byte of s[0..len) that is not a space or tab. */
static size_t
skip_blanks(const char *s, size_t len, size_t i)
{
	while (i < len && is_blank(s[i]))
		i++;
	return i;
}

/* One whitespace-separated token; val.p is NULL when it has no '='. */
struct tok {
	struct gpu_str key, val, all;
	size_t line;	   /* index of its line in the record */
	size_t line_start; /* offset of that line */
	bool first;	   /* first token of its line */
};

/* Read the token at c in s[0..len), advancing c. False at the end. */
static bool
next_tok(const char *s, size_t len, struct cursor *c, struct tok *t)
{
	size_t b, e;
	const char *eq;

	for (;;) {
		c->pos = skip_blanks(s, len, c->pos);
		if (c->pos == len)
			return false;
		if (s[c->pos] != '\n')
			break;
		c->pos++;
		c->line++;
		c->line_start = c->pos;
	}
	b = c->pos;
	for (e = b; e < len && !is_blank(s[e]) && s[e] != '\n'; e++)
		;
	t->all.p = s + b;
	t->all.len = e - b;
	t->first = skip_blanks(s, len, c->line_start) == b;
	t->line = c->line;
	t->line_start = c->line_start;
	eq = memchr(s + b, '=', e - b);
	t->key.p = s + b;
	t->key.len = eq != NULL ? (size_t)(eq - s) - b : e - b;
	t->val.p = eq != NULL ? eq + 1 : NULL;
	t->val.len = eq != NULL ? e - (size_t)(eq - s) - 1 : 0;
	c->pos = e;
	return true;
}

/* The text of the line that starts at offset start of s[0..len). */
static struct gpu_str
line_at(const char *s, size_t len, size_t start)
{
	const char *nl = memchr(s + start, '\n', len - start);

	return cap_raw(s + start,
		       nl != NULL ? (size_t)(nl - s) - start : len - start);
}

/* ---- scontrol show job -d ---- */

/* What the header pass learns of a record; p NULL: key not seen. */
struct job {
	struct gpu_str id, array_id, task_id, het_id, het_off, user, account;
	struct gpu_str state, start, end;
	bool gpu_asked;	   /* TRES, Gres or JOB_GRES name GPUs */
	size_t ndetail;	   /* detail groups */
	size_t ngpudetail; /* detail groups whose GRES names a GPU */
};

static bool
key_in(struct gpu_str key, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if (str_is(key, names[i]))
			return true;
	return false;
}

static const char *const detail_keys[] = {"CPU_IDs", "Mem", "GRES", "GRES_IDX",
					  NULL};

/*
 * Is the token t a detail group's "Nodes=": the first token of its line
 * (multi-line output) or followed by CPU_IDs= (one-line output)?
 */
static bool
is_detail(const char *s, size_t len, const struct tok *t, struct cursor c)
{
	struct tok next;

	if (!str_is(t->key, "Nodes") || t->val.p == NULL)
		return false;
	if (t->first)
		return true;
	return next_tok(s, len, &c, &next) && next.line == t->line &&
	       str_is(next.key, "CPU_IDs");
}

/* Split a GRES list at commas outside parentheses; false at the end. */
static bool
next_entry(struct gpu_str v, size_t *i, struct gpu_str *e)
{
	int depth = 0;
	size_t b = *i, k;

	if (b > v.len)
		return false;
	for (k = b; k < v.len; k++) {
		if (v.p[k] == '(')
			depth++;
		else if (v.p[k] == ')')
			depth--;
		else if (v.p[k] == ',' && depth == 0)
			break;
	}
	e->p = v.p + b;
	e->len = k - b;
	*i = k + 1;
	return true;
}

/* Does a GRES or TRES entry name the GPU resource ("gpu", "gres/gpu:a100")? */
static bool
entry_is_gpu(struct gpu_str e)
{
	size_t n = 0;

	if (e.len >= 5 &&
	    (memcmp(e.p, "gres/", 5) == 0 || memcmp(e.p, "gres:", 5) == 0)) {
		e.p += 5;
		e.len -= 5;
	}
	while (n < e.len && e.p[n] != ':' && e.p[n] != '(' && e.p[n] != '=')
		n++;
	return n == 3 && memcmp(e.p, "gpu", 3) == 0;
}

/*
 * Does a detail GRES entry hold whole GPUs? A MIG-typed one
 * ("gpu:a100_3g.40gb:1(IDX:0)") holds a slice, whose IDX numbers MIG
 * devices, not GPUs: slices are not attributed by allocations
 * (docs/FORMAT.md 7), so it holds none here.
 */
static bool
entry_holds_gpus(struct gpu_str e)
{
	const char *open = memchr(e.p, '(', e.len);

	return entry_is_gpu(e) &&
	       !gpu_gres_is_mig(e.p,
				open != NULL ? (size_t)(open - e.p) : e.len);
}

static bool
gres_names_gpu(struct gpu_str v)
{
	struct gpu_str e;
	size_t i = 0;

	while (next_entry(v, &i, &e))
		if (entry_holds_gpus(e))
			return true;
	return false;
}

/*
 * The GPUs of a detail GRES value such as "gpu:a100:4(IDX:0-3)" or
 * "gg:g0(CNT:1),gpu:1(IDX:3)" into set. Returns 1 when it names GPUs, 0
 * when it does not (CPU-only), or -1 with *why.
 */
static int
gres_gpus(struct gpu_str v, struct gpu_gpuset *set, const char **why)
{
	struct gpu_str e;
	size_t i = 0;
	int found = 0;

	memset(set, 0, sizeof(*set));
	while (next_entry(v, &i, &e)) {
		const char *open;
		struct gpu_gpuset one;

		if (!entry_holds_gpus(e))
			continue;
		open = memchr(e.p, '(', e.len);
		if (open == NULL || e.p[e.len - 1] != ')' ||
		    (size_t)(e.p + e.len - open) < 6 ||
		    memcmp(open, "(IDX:", 5) != 0) {
			*why = "no GPU indices in GRES";
			return -1;
		}
		if (gpu_gpuset_parse(open + 5, (size_t)(e.p + e.len - open) - 6,
				     &one, why) != 0)
			return -1;
		for (size_t w = 0; w < GPU_GPUSET_MAX / 64; w++)
			set->w[w] |= one.w[w];
		found = 1;
	}
	return found;
}

/* The GRES (or GRES_IDX) value of the detail group starting at token d. */
static struct gpu_str
detail_gres(const char *s, size_t len, const struct tok *d, struct cursor c)
{
	struct gpu_str none = {NULL, 0};
	struct tok t;

	while (next_tok(s, len, &c, &t) && t.line == d->line &&
	       key_in(t.key, detail_keys))
		if ((str_is(t.key, "GRES") || str_is(t.key, "GRES_IDX")) &&
		    t.val.p != NULL)
			return t.val;
	return none;
}

static void
header_tok(struct job *j, const struct tok *t)
{
	static const char *const gres_keys[] = {"Gres",	       "JOB_GRES",
						"TresPerNode", "TresPerJob",
						"TresPerTask", NULL};
	struct {
		const char *key;
		struct gpu_str *dst;
	} keys[] = {
	    {"JobId", &j->id},
	    {"ArrayJobId", &j->array_id},
	    {"ArrayTaskId", &j->task_id},
	    {"HetJobId", &j->het_id},
	    {"HetJobOffset", &j->het_off},
	    {"UserId", &j->user},
	    {"Account", &j->account},
	    {"JobState", &j->state},
	    {"StartTime", &j->start},
	    {"EndTime", &j->end},
	};
	int64_t n, m;

	if (t->val.p == NULL)
		return;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (str_is(t->key, keys[i].key)) {
			if (keys[i].dst->p == NULL)
				*keys[i].dst = t->val;
			return;
		}
	}
	if ((str_is(t->key, "TRES") || str_is(t->key, "AllocTRES")) &&
	    gpu_tres_gpus(t->val.p, t->val.len, &n, &m) == 0 &&
	    n + m > 0)
		j->gpu_asked = true;
	else if (key_in(t->key, gres_keys) && gres_names_gpu(t->val))
		j->gpu_asked = true;
}

/* Read the whole record in r->rec for what it says of the job. */
static void
header_pass(const struct gpu_alloc_reader *r, struct job *j)
{
	const char *s = r->rec.data;
	struct cursor c = {0, 0, 0};
	bool in_detail = false;
	size_t detail_line = 0;
	struct tok t;

	memset(j, 0, sizeof(*j));
	while (next_tok(s, r->rec.len, &c, &t)) {
		if (is_detail(s, r->rec.len, &t, c)) {
			struct gpu_str g = detail_gres(s, r->rec.len, &t, c);

			j->ndetail++;
			if (g.p != NULL && gres_names_gpu(g))
				j->ngpudetail++;
			in_detail = true;
			detail_line = t.line;
			continue;
		}
		if (in_detail && t.line == detail_line &&
		    key_in(t.key, detail_keys))
			continue;
		in_detail = false;
		header_tok(j, &t);
	}
}

/* Has a job in this state held its nodes (so -d must show them)? */
static bool
state_ran(struct gpu_str s)
{
	static const char *const ran[] = {
	    "RUNNING",	     "SUSPENDED",   "COMPLETING", "COMPLETED",
	    "FAILED",	     "TIMEOUT",	    "NODE_FAIL",  "PREEMPTED",
	    "OUT_OF_MEMORY", "CONFIGURING", NULL};

	return key_in(s, ran);
}

/* "name(uid)" -> "name"; "(null)" and "" -> absent. */
static struct gpu_str
user_name(struct gpu_str v)
{
	const char *open = v.p != NULL ? memchr(v.p, '(', v.len) : NULL;

	if (open != NULL)
		v.len = (size_t)(open - v.p);
	if (v.p == NULL || str_is(v, "(null)"))
		v.len = 0;
	return v;
}

/* Build the job's name as sacct gives it into r->job. */
static void
job_name(struct gpu_alloc_reader *r, const struct job *j)
{
	gpu_buf_reset(&r->job);
	if (j->array_id.p != NULL && j->task_id.p != NULL) {
		gpu_buf_add(&r->job, j->array_id.p, j->array_id.len);
		gpu_buf_addc(&r->job, '_');
		gpu_buf_add(&r->job, j->task_id.p, j->task_id.len);
	} else if (j->het_id.p != NULL && j->het_off.p != NULL) {
		gpu_buf_add(&r->job, j->het_id.p, j->het_id.len);
		gpu_buf_addc(&r->job, '+');
		gpu_buf_add(&r->job, j->het_off.p, j->het_off.len);
	} else {
		gpu_buf_add(&r->job, j->id.p, j->id.len);
	}
}

/*
 * Check the job part of a record and set r->cur, r->job, r->user and
 * r->project for its detail groups. Returns a static reject reason, or
 * NULL with *holds false when the record holds no GPU (pending, not
 * started, CPU-only).
 */
static const char *
job_setup(struct gpu_alloc_reader *r, const struct job *j, bool *holds)
{
	struct gpu_alloc *a = &r->cur;
	struct gpu_str id, user, account = j->account;
	const char *why;

	memset(a, 0, sizeof(*a));
	*holds = false;
	if (j->id.p == NULL)
		return "truncated record: no JobId";
	if (str_is(j->state, "PENDING"))
		return NULL;
	if (j->user.p == NULL)
		return "truncated record: no UserId";
	if (j->start.p == NULL)
		return "truncated record: no StartTime";
	if (j->end.p == NULL)
		return "truncated record: no EndTime";
	if (gpu_value_absent(j->start, true))
		return NULL;
	if ((why = parse_time(j->start, &a->start_ms, "invalid StartTime",
			      "StartTime out of range")) != NULL)
		return why;
	a->has_start = true;
	if (!gpu_value_absent(j->end, true)) {
		if ((why = parse_time(j->end, &a->end_ms, "invalid EndTime",
				      "EndTime out of range")) != NULL)
			return why;
		a->has_end = true;
	}
	if (j->ndetail == 0 && j->gpu_asked && state_ran(j->state))
		return "no per-node detail: use scontrol show job -d";
	if (j->ngpudetail == 0)
		return NULL;
	if (a->has_end && a->end_ms <= a->start_ms)
		return "allocation does not end after it starts";
	job_name(r, j);
	id.p = r->job.data;
	id.len = r->job.len;
	user = user_name(j->user);
	if (account.p == NULL || str_is(account, "(null)"))
		account.len = 0;
	if ((why = gpu_text_check(id, "job_id too long",
			      "control character in job_id")) != NULL ||
	    (why = gpu_text_check(user, "user too long",
			      "control character in user")) != NULL ||
	    (why = gpu_text_check(account, "project too long",
			      "control character in project")) != NULL)
		return why;
	set_buf(&r->user, user);
	set_buf(&r->project, account);
	a->has_gpus = true;
	*holds = true;
	return NULL;
}

/*
 * Read the next record into r->rec: from a first line (the held "JobId="
 * line, or the next non-blank one) to a blank line, the next "JobId="
 * line (held for the next record) or the end. Returns 1, GPU_READ_EOF,
 * or -1 on a read error; *too_long says that the record was cut.
 */
static int
read_record(struct gpu_alloc_reader *r, bool *too_long, struct gpu_err *err)
{
	int rc;

	gpu_buf_reset(&r->rec);
	*too_long = false;
	if (!r->held) {
		do {
			if ((rc = read_line(r, err)) <= 0)
				return rc < 0 ? -1 : GPU_READ_EOF;
		} while (skip_blanks(r->line.data, r->line.len, 0) ==
			     r->line.len &&
			 !r->line_long);
	}
	r->held = false;
	r->rec_line = r->lineno;
	for (;;) {
		if (r->line_long || r->rec.len + r->line.len + 1 > REC_MAX_LEN)
			*too_long = true;
		if (!*too_long || r->rec.len == 0) {
			gpu_buf_add(&r->rec, r->line.data, r->line.len);
			gpu_buf_addc(&r->rec, '\n');
		}
		if ((rc = read_line(r, err)) < 0)
			return -1;
		if (rc == 0)
			return 1;
		if (skip_blanks(r->line.data, r->line.len, 0) == r->line.len &&
		    !r->line_long)
			return 1;
		if (strncmp(r->line.data +
				skip_blanks(r->line.data, r->line.len, 0),
			    "JobId=", 6) == 0) {
			r->held = true;
			return 1;
		}
	}
}

/*
 * Read the detail group that starts at token t into r->cur.gpus and
 * r->hosts. Returns 1, 0 for a CPU-only group, or -1 with *why.
 */
static int
detail(struct gpu_alloc_reader *r, const struct tok *t, const char **why)
{
	struct gpu_str g = detail_gres(r->rec.data, r->rec.len, t, r->det);
	int rc;

	if (g.p == NULL)
		return 0;
	rc = gres_gpus(g, &r->cur.gpus, why);
	if (rc <= 0)
		return rc;
	if (str_is(t->val, "(null)")) {
		*why = "Nodes=(null) in detail line";
		return -1;
	}
	if ((*why = expand_nodes(r, t->val)) != NULL)
		return -1;
	return 1;
}

/*
 * The raw text of a detail line, found once per line: the groups of a
 * one-line record share one long line.
 */
static struct gpu_str
detail_raw(struct gpu_alloc_reader *r, const struct tok *t)
{
	if (r->raw.p == NULL || r->raw.p != r->rec.data + t->line_start)
		r->raw = line_at(r->rec.data, r->rec.len, t->line_start);
	return r->raw;
}

/* The next detail group of r->rec that holds GPUs. */
static int
next_detail(struct gpu_alloc_reader *r, struct gpu_reject *rej)
{
	struct tok t;

	while (next_tok(r->rec.data, r->rec.len, &r->det, &t)) {
		long line = r->rec_line + (long)t.line;
		const char *why;
		int rc;

		if (!is_detail(r->rec.data, r->rec.len, &t, r->det))
			continue;
		rc = detail(r, &t, &why);
		if (rc < 0)
			return reject(rej, line, why, detail_raw(r, &t));
		if (rc == 0)
			continue;
		r->cur_line = line;
		r->next_host = 0;
		return GPU_READ_SAMPLE;
	}
	r->in_rec = false;
	return STEP_SKIP;
}

static int
scontrol_step(struct gpu_alloc_reader *r, struct gpu_reject *rej,
	      struct gpu_err *err)
{
	struct job j;
	const char *why;
	bool too_long, holds = false;
	int rc;

	if (r->in_rec)
		return next_detail(r, rej);
	rc = read_record(r, &too_long, err);
	if (rc != 1)
		return rc;
	if (too_long) {
		why = "record too long";
	} else {
		header_pass(r, &j);
		why = job_setup(r, &j, &holds);
	}
	if (why != NULL)
		return reject(rej, r->rec_line, why,
			      line_at(r->rec.data, r->rec.len, 0));
	if (holds) {
		r->in_rec = true;
		memset(&r->det, 0, sizeof(r->det));
		r->raw.p = NULL;
	}
	return STEP_SKIP;
}

/* ---- prolog/epilog lines ---- */

enum { E_TIME, E_JOB, E_NODE, E_GPUS, E_USER, E_PROJECT, E_N };

/*
 * Parse an event line (not blank, not a comment) into r->cur, v and
 * r->hosts. Returns a static reject reason, or NULL with *holds false for
 * "gpus=" with no index: the job holds no GPU on the node.
 */
static const char *
event_line(struct gpu_alloc_reader *r, struct gpu_str v[E_N], bool *holds)
{
	static const char *const keys[E_N] = {"time", "job",  "node",
					      "gpus", "user", "project"};
	const char *s = r->line.data, *why;
	struct cursor c = {0, 0, 0};
	struct gpu_alloc *a = &r->cur;
	struct tok t;
	bool start;

	*holds = false;
	if (r->line_long)
		return "line too long";
	if (!next_tok(s, r->line.len, &c, &t) || !str_is(t.all, MAGIC))
		return "not a gpuusage-alloc line";
	if (!next_tok(s, r->line.len, &c, &t) || !str_is(t.all, "1"))
		return "unsupported gpuusage-alloc version";
	if (!next_tok(s, r->line.len, &c, &t) ||
	    !(str_is(t.all, "start") || str_is(t.all, "end")))
		return "unknown event";
	start = str_is(t.all, "start");
	for (int k = 0; k < E_N; k++) {
		v[k].p = NULL;
		v[k].len = 0;
	}
	while (next_tok(s, r->line.len, &c, &t)) {
		if (t.val.p == NULL || t.key.len == 0)
			return "invalid key=value token";
		for (int k = 0; k < E_N; k++) {
			if (!str_is(t.key, keys[k]))
				continue;
			if (v[k].p != NULL)
				return "duplicate key";
			v[k] = t.val;
		}
	}
	if (v[E_TIME].len == 0)
		return "missing time";
	if (v[E_JOB].len == 0)
		return "missing job";
	if (v[E_NODE].len == 0)
		return "missing node";
	if (start && v[E_GPUS].p == NULL)
		return "missing gpus";
	if ((why = parse_time(v[E_TIME], start ? &a->start_ms : &a->end_ms,
			      "invalid time", "time out of range")) != NULL)
		return why;
	a->has_start = start;
	a->has_end = !start;
	if ((why = gpu_text_check(v[E_JOB], "job_id too long",
			      "control character in job_id")) != NULL ||
	    (why = gpu_text_check(v[E_USER], "user too long",
			      "control character in user")) != NULL ||
	    (why = gpu_text_check(v[E_PROJECT], "project too long",
			      "control character in project")) != NULL)
		return why;
	if (v[E_GPUS].p != NULL) {
		if (v[E_GPUS].len == 0)
			return NULL;
		if (gpu_gpuset_parse(v[E_GPUS].p, v[E_GPUS].len, &a->gpus,
				     &why) != 0)
			return why;
		a->has_gpus = true;
	}
	if ((why = expand_nodes(r, v[E_NODE])) != NULL)
		return why;
	*holds = true;
	return NULL;
}

static int
events_step(struct gpu_alloc_reader *r, struct gpu_reject *rej,
	    struct gpu_err *err)
{
	struct gpu_str v[E_N];
	const char *why;
	bool holds;
	size_t b;
	int rc;

	if ((rc = read_line(r, err)) <= 0)
		return rc < 0 ? -1 : GPU_READ_EOF;
	b = skip_blanks(r->line.data, r->line.len, 0);
	if ((b == r->line.len && !r->line_long) || r->line.data[b] == '#')
		return STEP_SKIP;
	memset(&r->cur, 0, sizeof(r->cur));
	if ((why = event_line(r, v, &holds)) != NULL)
		return reject(rej, r->lineno, why,
			      cap_raw(r->line.data, r->line.len));
	if (!holds)
		return STEP_SKIP;
	return ready(r, v[E_JOB], v[E_USER], v[E_PROJECT], r->lineno);
}

/* ---- the reader ---- */

/*
 * Find the format from the first line that is neither blank nor a
 * comment, then rewind fp.
 */
static int
detect(struct gpu_alloc_reader *r, bool *jsonl, struct gpu_err *err)
{
	off_t pos = ftello(r->fp);
	bool comments = false;
	int rc;

	if (pos < 0)
		return gpu_err_at(err, r->source, 0,
				  "allocation input must be a seekable file");
	r->src = GPU_ALLOC_SRC_AUTO;
	while (r->src == GPU_ALLOC_SRC_AUTO && (rc = read_line(r, err)) == 1) {
		const char *p =
		    r->line.data + skip_blanks(r->line.data, r->line.len, 0);

		if (*p == '\0')
			continue;
		if (*p == '#') {
			comments = true;
			continue;
		}
		if (strncmp(p, "JobId=", 6) == 0)
			r->src = GPU_ALLOC_SRC_SCONTROL;
		else if (strncmp(p, MAGIC, strlen(MAGIC)) == 0 &&
			 (is_blank(p[strlen(MAGIC)]) ||
			  p[strlen(MAGIC)] == '\0'))
			r->src = GPU_ALLOC_SRC_EVENTS;
		else
			r->src = GPU_ALLOC_SRC_TABLE;
		*jsonl = *p == '{';
	}
	if (rc < 0)
		return -1;
	if (r->src == GPU_ALLOC_SRC_AUTO && comments)
		r->src = GPU_ALLOC_SRC_EVENTS;
	if (r->src == GPU_ALLOC_SRC_AUTO)
		return gpu_err_at(err, r->source, 0, "empty input");
	if (fseeko(r->fp, pos, SEEK_SET) != 0)
		return gpu_err_at(err, r->source, 0, "cannot rewind input");
	r->eof = false;
	r->lineno = 0;
	return 0;
}

struct gpu_alloc_reader *
gpu_alloc_reader_new(FILE *fp, const char *source, struct gpu_err *err)
{
	struct gpu_alloc_reader *r = gpu_xcalloc(1, sizeof(*r));
	bool jsonl = false;

	r->fp = fp;
	r->source = gpu_xstrdup(source);
	gpu_buf_init(&r->line);
	gpu_buf_init(&r->rec);
	gpu_buf_init(&r->job);
	gpu_buf_init(&r->user);
	gpu_buf_init(&r->project);
	if (detect(r, &jsonl, err) != 0)
		goto fail;
	if (r->src == GPU_ALLOC_SRC_TABLE && table_open(r, jsonl, err) != 0)
		goto fail;
	return r;
fail:
	gpu_alloc_reader_free(r);
	return NULL;
}

void
gpu_alloc_reader_free(struct gpu_alloc_reader *r)
{
	if (r == NULL)
		return;
	gpu_table_free(r->t);
	gpu_hostlist_release(&r->hosts);
	gpu_buf_release(&r->line);
	gpu_buf_release(&r->rec);
	gpu_buf_release(&r->job);
	gpu_buf_release(&r->user);
	gpu_buf_release(&r->project);
	free(r->source);
	free(r);
}

enum gpu_alloc_src
gpu_alloc_reader_src(const struct gpu_alloc_reader *r)
{
	return r->src;
}

int
gpu_alloc_next(struct gpu_alloc_reader *r, struct gpu_alloc *a, long *line,
	       struct gpu_reject *rej, struct gpu_err *err)
{
	for (;;) {
		int rc;

		if (r->next_host < r->hosts.n) {
			*a = r->cur;
			a->job_id.p = r->job.data;
			a->job_id.len = r->job.len;
			a->user.p = r->user.data;
			a->user.len = r->user.len;
			a->project.p = r->project.data;
			a->project.len = r->project.len;
			a->node.p = r->hosts.names[r->next_host];
			a->node.len = strlen(a->node.p);
			r->next_host++;
			*line = r->cur_line;
			return GPU_READ_SAMPLE;
		}
		gpu_hostlist_release(&r->hosts);
		r->next_host = 0;
		if (r->src == GPU_ALLOC_SRC_TABLE)
			rc = table_step(r, rej, err);
		else if (r->src == GPU_ALLOC_SRC_SCONTROL)
			rc = scontrol_step(r, rej, err);
		else
			rc = events_step(r, rej, err);
		if (rc != STEP_SKIP && rc != GPU_READ_SAMPLE)
			return rc;
	}
}
