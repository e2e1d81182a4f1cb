/* SPDX-License-Identifier: MIT */
/* Raw GPU samples (SPEC.md 1): columns, validation and reject reasons. */
#include "gpu/reader.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/num.h"
#include "gpu/prom.h"
#include "gpu/time.h"
#include "gpu/utf8.h"

#define TEXT_MAX 128 /* bytes of a text field */

enum {
	F_TS,
	F_NODE,
	F_GPU,
	F_UTIL,
	F_MEM_USED,
	F_MEM_TOTAL,
	F_JOB,
	F_USER,
	F_PROJECT,
	F_MODEL,
	F_POWER,
	F_TEMP,
	F_INTERVAL,
	F_UUID,
	F_MIG,
	F_PROFILE,
	NFID,
	F_IGNORE = NFID,
	F_UNKNOWN
};

struct fmeta {
	const char *name, *missing, *invalid, *range, *toolong, *ctrl, *utf8;
};

#define META(n)                                                                \
	{                                                                      \
		n, "missing " n, "invalid " n, n " out of range",              \
		    n " too long", "control character in " n,                  \
		    "invalid UTF-8 in " n                                      \
	}

static const struct fmeta meta[NFID] = {
    META("timestamp"),	META("node"),	      META("gpu"),
    META("util_pct"),	META("mem_used_mib"), META("mem_total_mib"),
    META("job_id"),	META("user"),	      META("project"),
    META("model"),	META("power_w"),      META("temp_c"),
    META("interval_s"), META("gpu_uuid"),     META("mig"),
    META("mig_profile"),
};

static const char ABOVE_TOTAL[] = "mem_used_mib above mem_total_mib";

/* Our names first (in field order: JSON keys), then nvidia-smi's. */
static const struct {
	const char *name;
	int fid;
} colmap[] = {
    {"timestamp", F_TS},
    {"node", F_NODE},
    {"gpu", F_GPU},
    {"util_pct", F_UTIL},
    {"mem_used_mib", F_MEM_USED},
    {"mem_total_mib", F_MEM_TOTAL},
    {"job_id", F_JOB},
    {"user", F_USER},
    {"project", F_PROJECT},
    {"model", F_MODEL},
    {"power_w", F_POWER},
    {"temp_c", F_TEMP},
    {"interval_s", F_INTERVAL},
    {"gpu_uuid", F_UUID},
    {"mig", F_MIG},
    {"mig_profile", F_PROFILE},
    /* Columns of the warehouse export that are derived: ignored. */
    {"mem_util_pct", F_IGNORE},
    {"usage_category", F_IGNORE},
    {"allocated", F_IGNORE},
    {"ingest_id", F_IGNORE},
    {"ts_ms", F_IGNORE},
    /* nvidia-smi --query-gpu names; a "[unit]" suffix is dropped. */
    {"index", F_GPU},
    {"utilization.gpu", F_UTIL},
    {"memory.used", F_MEM_USED},
    {"memory.total", F_MEM_TOTAL},
    {"name", F_MODEL},
    {"uuid", F_UUID},
    {"power.draw", F_POWER},
    {"temperature.gpu", F_TEMP},
};

#define NCOLMAP (sizeof(colmap) / sizeof(colmap[0]))
#define NJSONKEYS 21 /* our names and the ignored ones: the JSON keys */

static const char *const json_keys[NJSONKEYS + 1] = {
    "timestamp",      "node",	    "gpu",	   "util_pct",
    "mem_used_mib",   "mem_total_mib", "job_id",	   "user",
    "project",	      "model",	    "power_w",	   "temp_c",
    "interval_s",     "gpu_uuid",   "mig",	   "mig_profile",
    "mem_util_pct",   "usage_category", "allocated", "ingest_id",
    "ts_ms",	      NULL,
};

struct gpu_reader {
	struct gpu_table *t;
	int col_of[NFID]; /* column of each field, -1 when absent */
	char *node;	  /* opts.node copy, or NULL */
	size_t node_len;
	bool has_at;
	int64_t at_ms;
	bool jsonl;
	struct gpu_prom *prom; /* Prometheus text: it reads, not t */
	struct gpu_tz *tz;     /* gpu_reader_set_tz(), borrowed */
};

static int
fid_of(const char *name)
{
	size_t n = strlen(name), i;
	const char *br;

	for (i = 0; i < NCOLMAP; i++)
		if (gpu_table_name_eq(name, n, colmap[i].name))
			return colmap[i].fid;
	/* "utilization.gpu [%]": drop a bracketed unit and retry. */
	br = strrchr(name, '[');
	if (br == NULL || n == 0 || name[n - 1] != ']')
		return F_UNKNOWN;
	n = (size_t)(br - name);
	while (n > 0 && name[n - 1] == ' ')
		n--;
	for (i = 0; i < NCOLMAP; i++)
		if (gpu_table_name_eq(name, n, colmap[i].name))
			return colmap[i].fid;
	return F_UNKNOWN;
}

/* Whether the 8 bytes of w are all printable ASCII (0x20 to 0x7e). */
static inline bool
printable8(uint64_t w)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), high = ones << 7;
	uint64_t del = w ^ (ones * 0x7f);

	/* Bytes from 0x80, bytes under 0x20, bytes equal to 0x7f. */
	return ((w & high) | ((w - ones * 0x20) & ~w & high) |
		((del - ones) & ~del & high)) == 0;
}

static const char *
check_text(int fid, struct gpu_str v)
{
	size_t i = 0;
	bool high = false;

	if (v.len > TEXT_MAX)
		return meta[fid].toolong;
	/* Whole words of printable ASCII first; the rest byte by byte. */
	for (; i + 8 <= v.len; i += 8) {
		uint64_t w;

		memcpy(&w, v.p + i, sizeof(w));
		if (!printable8(w))
			break;
	}
	for (; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];

		/* Printable ASCII is the common case: one comparison. */
		if ((unsigned char)(c - 0x20) < 0x5f)
			continue;
		if (c < 0x20 || c == 0x7f)
			return meta[fid].ctrl;
		high = true;
	}
	if (high && !gpu_utf8_valid(v.p, v.len))
		return meta[fid].utf8;
	return NULL;
}

static inline bool
is_absent(const char *p, size_t n)
{
	static const struct gpu_str na[] = {
	    {"[N/A]", 5},
	    {"[Not Supported]", 15},
	    {"[Not Found]", 11},
	    {"[Unknown Error]", 15},
	    {"[Insufficient Permissions]", 26},
	};
	size_t i;

	if (n == 0)
		return true;
	if (p[0] == 'N')
		return n == 3 && p[1] == '/' && p[2] == 'A';
	if (p[0] != '[' || p[n - 1] != ']')
		return false;
	for (i = 0; i < sizeof(na) / sizeof(na[0]); i++)
		if (na[i].len == n && memcmp(na[i].p, p, n) == 0)
			return true;
	return false;
}

/* The value of field fid in row, false when the column or value is absent. */
static inline bool
value(const struct gpu_reader *r, const struct gpu_row *row, int fid,
      struct gpu_str *v)
{
	int c = r->col_of[fid];

	if (c < 0 || !row->present[c])
		return false;
	*v = row->fields[c];
	return !is_absent(v->p, v->len);
}

/* Drop a trailing unit ("45 %", "45%"). */
static inline struct gpu_str
strip_unit(struct gpu_str v, const char *unit, size_t ul)
{
	if (v.len > ul && v.p[v.len - 1] == unit[ul - 1] &&
	    memcmp(v.p + v.len - ul, unit, ul) == 0) {
		v.len -= ul;
		if (v.p[v.len - 1] == ' ')
			v.len--;
	}
	return v;
}

#define STRIP(v, unit) strip_unit((v), (unit), sizeof(unit) - 1)

static const double pow10_tab[] = {1e0,	 1e1,  1e2,  1e3, 1e4,	1e5,
				   1e6,	 1e7,  1e8,  1e9, 1e10, 1e11,
				   1e12, 1e13, 1e14, 1e15};

/*
 * Parse a number. Plain "123.45" with at most 15 digits is exact as an
 * integer divided by a power of ten (one correctly rounded division, the
 * same double strtod gives); the rest goes to gpu_num_parse_double.
 */
static int
parse_double(struct gpu_str v, double *out)
{
	size_t i = 0, nd = 0, nfrac = 0;
	bool neg = false, dot = false;
	uint64_t m = 0;

	if (v.len > 0 && v.p[0] == '-') {
		neg = true;
		i = 1;
	}
	for (; i < v.len; i++) {
		char c = v.p[i];

		if (c >= '0' && c <= '9') {
			m = m * 10 + (uint64_t)(c - '0');
			nd++;
			nfrac += dot;
		} else if (c == '.' && !dot) {
			dot = true;
		} else {
			break;
		}
	}
	if (i == v.len && nd > 0 && nd <= 15) {
		double d = (double)m / pow10_tab[nfrac];

		*out = neg ? -d : d;
		return 0;
	}
	return gpu_num_parse_double(v.p, v.len, out);
}

/* MiB: an integer, or a number rounded half away from zero. 0 ok, -1
 * invalid, -2 out of range. */
static int
parse_mib(struct gpu_str v, int64_t *out)
{
	double d;

	v = STRIP(v, "MiB");
	if (gpu_num_parse_i64(v.p, v.len, out) == 0)
		return 0;
	if (parse_double(v, &d) != 0)
		return -1;
	if (fabs(d) >= 9007199254740992.0)
		return -2;
	d = d < 0 ? -floor(-d + 0.5) : floor(d + 0.5);
	*out = (int64_t)d;
	return 0;
}

static const char *
parse_gpu(struct gpu_str v, int *gpu)
{
	size_t i;
	int g = 0;

	if (v.len == 0)
		return meta[F_GPU].invalid;
	for (i = 0; i < v.len; i++)
		if (v.p[i] < '0' || v.p[i] > '9')
			return meta[F_GPU].invalid;
	for (i = 0; i < v.len; i++) {
		g = g * 10 + (v.p[i] - '0');
		if (g > 1023)
			return meta[F_GPU].range;
	}
	*gpu = g;
	return NULL;
}

static const char *
text_field(const struct gpu_reader *r, const struct gpu_row *row, int fid,
	   struct gpu_str *out)
{
	struct gpu_str v;

	if (!value(r, row, fid, &v))
		return NULL;
	*out = v;
	return check_text(fid, v);
}

static const char *
opt_double(const struct gpu_reader *r, const struct gpu_row *row, int fid,
	   char unit, double *out, bool *has)
{
	struct gpu_str v;

	if (!value(r, row, fid, &v))
		return NULL;
	if (parse_double(strip_unit(v, &unit, 1), out) != 0)
		return meta[fid].invalid;
	*has = true;
	return NULL;
}

/* A date and time ("2026-11-28 16:00:00", "2026/11/28 ...") with no offset. */
static bool
names_no_offset(struct gpu_str v)
{
	if (v.len < 11 || (v.p[4] != '-' && v.p[4] != '/') ||
	    v.p[v.len - 1] == 'Z' || v.p[v.len - 1] == 'z')
		return false;
	for (size_t i = 11; i < v.len; i++)
		if (v.p[i] == '+' || v.p[i] == '-')
			return false;
	return true;
}

/* Read *ms, a local time of tz, as UTC; NULL or a reject reason. */
static const char *
from_local(struct gpu_tz *tz, int64_t *ms)
{
	const char *why;

	if (gpu_tz_to_utc(tz, *ms, ms, &why) != 0)
		return why;
	if (*ms < GPU_TIME_MIN_MS || *ms >= GPU_TIME_MAX_MS)
		return "timestamp out of range";
	return NULL;
}

/*
 * The MIG slice of a sample: an instance id needs its profile, which must
 * be one the GPU's model offers (docs/FORMAT.md 1.6).
 */
static const char *
mig_fields(const struct gpu_reader *r, const struct gpu_row *row,
	   struct gpu_sample *s)
{
	struct gpu_str v, prof = {NULL, 0};
	const char *why;

	if ((why = text_field(r, row, F_PROFILE, &prof)) != NULL)
		return why;
	if (!value(r, row, F_MIG, &v)) {
		if (prof.len > 0)
			return "mig_profile without a mig instance id";
		return NULL;
	}
	return gpu_sample_set_mig(s, v, prof);
}

static const char *
validate(const struct gpu_reader *r, const struct gpu_row *row,
	 struct gpu_sample *s)
{
	struct gpu_str v;
	const char *why = NULL;
	int64_t iv;
	int rc;

	memset(s, 0, sizeof(*s));
	if (value(r, row, F_TS, &v)) {
		bool local = r->tz != NULL && names_no_offset(v);

		/* A local time's range is that of its UTC instant. */
		if ((local
			 ? gpu_time_parse_unplaced(v.p, v.len, &s->ts_ms, &why)
			 : gpu_time_parse(v.p, v.len, &s->ts_ms, &why)) != 0)
			return why != NULL ? why : meta[F_TS].invalid;
		if (local && (why = from_local(r->tz, &s->ts_ms)) != NULL)
			return why;
	} else if (r->has_at) {
		s->ts_ms = r->at_ms;
	} else {
		return meta[F_TS].missing;
	}

	if (value(r, row, F_NODE, &v)) {
		if ((why = check_text(F_NODE, v)) != NULL)
			return why;
		s->node = v;
	} else if (r->node != NULL) {
		s->node.p = r->node;
		s->node.len = r->node_len;
	} else {
		return meta[F_NODE].missing;
	}

	if (!value(r, row, F_GPU, &v))
		return meta[F_GPU].missing;
	if ((why = parse_gpu(v, &s->gpu)) != NULL)
		return why;

	if (!value(r, row, F_UTIL, &v))
		return meta[F_UTIL].missing;
	if (parse_double(STRIP(v, "%"), &s->util_pct) != 0)
		return meta[F_UTIL].invalid;
	if (!(s->util_pct >= 0 && s->util_pct <= 100))
		return meta[F_UTIL].range;

	if (!value(r, row, F_MEM_USED, &v))
		return meta[F_MEM_USED].missing;
	rc = parse_mib(v, &s->mem_used_mib);
	if (rc == -1)
		return meta[F_MEM_USED].invalid;
	if (rc == -2 || s->mem_used_mib < 0)
		return meta[F_MEM_USED].range;

	if (value(r, row, F_MEM_TOTAL, &v)) {
		rc = parse_mib(v, &s->mem_total_mib);
		if (rc == -1)
			return meta[F_MEM_TOTAL].invalid;
		if (rc == -2 || s->mem_total_mib <= 0)
			return meta[F_MEM_TOTAL].range;
		if (s->mem_used_mib > s->mem_total_mib)
			return ABOVE_TOTAL;
		s->has_mem_total = true;
	}

	if ((why = text_field(r, row, F_JOB, &s->job_id)) != NULL ||
	    (why = text_field(r, row, F_USER, &s->user)) != NULL ||
	    (why = text_field(r, row, F_PROJECT, &s->project)) != NULL ||
	    (why = text_field(r, row, F_MODEL, &s->model)) != NULL)
		return why;

	if ((why = opt_double(r, row, F_POWER, 'W', &s->power_w,
			      &s->has_power)) != NULL)
		return why;
	if (s->has_power && s->power_w < 0)
		return meta[F_POWER].range;
	if ((why = opt_double(r, row, F_TEMP, 'C', &s->temp_c, &s->has_temp)) !=
	    NULL)
		return why;

	if (value(r, row, F_INTERVAL, &v)) {
		if (gpu_num_parse_i64(v.p, v.len, &iv) != 0)
			return meta[F_INTERVAL].invalid;
		if (iv < 1 || iv > 86400)
			return meta[F_INTERVAL].range;
		s->interval_s = (int)iv;
	}
	if ((why = text_field(r, row, F_UUID, &s->gpu_uuid)) != NULL)
		return why;
	return mig_fields(r, row, s);
}

static int
map_columns(struct gpu_reader *r, struct gpu_err *err)
{
	struct gpu_table *t = r->t;
	const char *src = gpu_table_source(t);
	long line = gpu_table_header_line(t);
	size_t i;

	for (i = 0; i < NFID; i++)
		r->col_of[i] = -1;
	for (i = 0; i < gpu_table_ncols(t); i++) {
		const char *name = gpu_table_colname(t, i);
		int fid = fid_of(name);

		if (fid == F_UNKNOWN) {
			gpu_table_add_unknown(t, name);
			continue;
		}
		if (fid == F_IGNORE)
			continue;
		if (r->col_of[fid] >= 0)
			return gpu_err_at(err, src, line,
					  "duplicate column '%s'",
					  meta[fid].name);
		r->col_of[fid] = (int)i;
	}
	if (r->jsonl)
		return 0;
	if (r->col_of[F_TS] < 0 && !r->has_at) {
		gpu_err_at(err, src, line,
			   "missing required column 'timestamp'");
		return GPU_READER_NO_TIME;
	}
	if (r->col_of[F_NODE] < 0 && r->node == NULL) {
		gpu_err_at(err, src, line, "missing required column 'node'");
		return GPU_READER_NO_NODE;
	}
	if (r->col_of[F_GPU] < 0)
		return gpu_err_at(err, src, line,
				  "missing required column 'gpu'");
	if (r->col_of[F_UTIL] < 0)
		return gpu_err_at(err, src, line,
				  "missing required column 'util_pct'");
	if (r->col_of[F_MEM_USED] < 0)
		return gpu_err_at(err, src, line,
				  "missing required column 'mem_used_mib'");
	return 0;
}

/*
 * The first bytes of fp, put back: their count, or -1 when fp cannot be
 * read twice (then one byte was peeked into head, 0 at the end).
 */
static long
peek(FILE *fp, char *head, size_t size)
{
	off_t pos = ftello(fp);
	size_t n;
	int c;

	if (pos >= 0) {
		n = fread(head, 1, size, fp);
		clearerr(fp);
		if (fseeko(fp, pos, SEEK_SET) == 0)
			return (long)n;
	}
	c = getc(fp);
	if (c == EOF)
		return 0;
	ungetc(c, fp);
	head[0] = (char)c;
	return -1;
}

/*
 * Whether to read Prometheus text: asked for, or detected from the first
 * bytes of a seekable input, or from a first '#' of another.
 */
static bool
is_prom(enum gpu_format format, const char *head, long n)
{
	if (format != GPU_FMT_AUTO)
		return format == GPU_FMT_PROMETHEUS;
	if (n < 0)
		return head[0] == '#';
	return gpu_prom_detect(head, (size_t)n);
}

/* dcgmi stats -j output: a per-job report, not samples (FORMAT.md 1.7). */
static bool
is_dcgmi_stats(const char *head, long n)
{
	static const char tag[] = "Successfully retrieved statistics for";

	return n >= (long)sizeof(tag) - 1 &&
	       memcmp(head, tag, sizeof(tag) - 1) == 0;
}

int
gpu_reader_check_node(const char *node, struct gpu_err *err)
{
	struct gpu_str v = {node, strlen(node)};

	if (v.len == 0 || check_text(F_NODE, v) != NULL)
		return gpu_err_set(err, "invalid node name '%s'", node);
	return 0;
}

int
gpu_reader_open(FILE *fp, const char *source,
		const struct gpu_reader_opts *opts, struct gpu_reader **out,
		struct gpu_err *err)
{
	struct gpu_reader *r = gpu_xcalloc(1, sizeof(*r));
	struct gpu_table_opts to;
	char head[512];
	long nhead;
	int rc = -1;

	*out = NULL;
	if (opts->node != NULL) {
		if (gpu_reader_check_node(opts->node, err) != 0)
			goto fail;
		r->node = gpu_xstrdup(opts->node);
		r->node_len = strlen(opts->node);
	}
	r->has_at = opts->has_at;
	r->at_ms = opts->at_ms;
	nhead = peek(fp, head, sizeof(head));
	if (is_dcgmi_stats(head, nhead)) {
		gpu_err_at(err, source, 1,
			   "dcgmi stats output is a per-job summary, not "
			   "samples: it is not loaded (docs/FORMAT.md 1.7)");
		goto fail;
	}
	if (is_prom(opts->format, head, nhead)) {
		r->prom = gpu_prom_new(fp, source, opts, &rc, err);
		*out = r;
		return 0;
	}
	memset(&to, 0, sizeof(to));
	to.format = opts->format;
	to.delim = ',';
	to.no_header = opts->columns != NULL;
	to.columns = opts->columns;
	to.names = json_keys;
	r->t = gpu_table_new(fp, source, &to, err);
	if (r->t == NULL)
		goto fail;
	r->jsonl = gpu_table_format(r->t) == GPU_FMT_JSONL;
	gpu_table_collect_unknown(r->t);
	if ((rc = map_columns(r, err)) != 0)
		goto fail;
	*out = r;
	return 0;
fail:
	gpu_reader_free(r);
	return rc;
}

const char *
gpu_reader_open_hint(int rc)
{
	if (rc == GPU_READER_NO_NODE)
		return "use --node NAME for input without one";
	if (rc == GPU_READER_NO_TIME)
		return "use --at TIME for input without one";
	return NULL;
}

struct gpu_reader *
gpu_reader_new(FILE *fp, const char *source, const struct gpu_reader_opts *opts,
	       struct gpu_err *err)
{
	struct gpu_reader *r;

	gpu_reader_open(fp, source, opts, &r, err);
	return r;
}

void
gpu_reader_free(struct gpu_reader *r)
{
	if (r == NULL)
		return;
	gpu_table_free(r->t);
	gpu_prom_free(r->prom);
	free(r->node);
	free(r);
}

int
gpu_reader_next(struct gpu_reader *r, struct gpu_sample *s, long *line,
		struct gpu_reject *rej, struct gpu_err *err)
{
	struct gpu_row row;
	const char *why;
	int rc;

	if (r->prom != NULL)
		return gpu_prom_next(r->prom, s, line, rej, err);
	rc = gpu_table_next(r->t, &row, err);
	if (rc <= 0)
		return rc;
	why = row.bad;
	/* A nested JSON value only matters in a column the reader uses. */
	if (row.nested_col >= 0)
		why =
		    row.nested_col < NFID ? meta[row.nested_col].invalid : NULL;
	if (why == NULL)
		why = validate(r, &row, s);
	if (why != NULL) {
		rej->line = row.line;
		rej->reason = why;
		rej->raw = row.raw;
		return GPU_READ_REJECT;
	}
	if (line != NULL)
		*line = row.line;
	return GPU_READ_SAMPLE;
}

void
gpu_reader_set_tz(struct gpu_reader *r, struct gpu_tz *tz)
{
	r->tz = tz;
}

bool
gpu_reader_splittable(const struct gpu_reader *r)
{
	return r->prom == NULL && !r->jsonl && r->tz == NULL &&
	       gpu_table_format(r->t) == GPU_FMT_CSV &&
	       gpu_table_header_line(r->t) > 0;
}

const char *
gpu_reader_unknown(const struct gpu_reader *r)
{
	if (r->prom != NULL)
		return "";
	return gpu_table_unknown(r->t);
}

long long
gpu_reader_offset(const struct gpu_reader *r)
{
	if (r->prom != NULL)
		return gpu_prom_offset(r->prom);
	return gpu_table_offset(r->t);
}
