/* SPDX-License-Identifier: MIT */
/* Streaming CSV (libcsv) and JSON Lines (cJSON) rows, and raw GPU samples. */
#include "gpu/reader.h"

#include <cjson/cJSON.h>
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/num.h"
#include "gpu/time.h"
#include "gpu/utf8.h"

#define CHUNK (64 * 1024)   /* bytes per fread */
#define RAW_MAX (64 * 1024) /* longest raw row text handed out */
#define MAX_COLS 1024
#define NUMTXT 40   /* a JSON number printed as text */
#define KEYCACHE 64 /* JSON key positions remembered */
#define KEYLEN 48
#define UNKNOWN_MAX 4096 /* bytes of the unknown-column list */
#define TEXT_MAX 128

static const char BAD_QUOTING[] = "malformed CSV quoting";
static const char BAD_COUNT[] = "wrong number of fields";
static const char BAD_JSON[] = "invalid JSON";
static const char BAD_OBJECT[] = "JSON line is not an object";
static const char BAD_NESTED[] = "nested JSON value";

struct keycache {
	char name[KEYLEN];
	int col; /* -1: no such column; -2: slot unused */
};

struct gpu_table {
	FILE *fp;
	char *source;
	enum gpu_format format;
	char delim;

	/* Input: buf[pos..len) is unread; base is the offset of buf[0]. */
	char *buf;
	size_t pos, len;
	bool eof;
	long long base;
	long line; /* physical line of buf[pos] */

	/* Columns. */
	char **names;
	size_t ncols;
	long header_line;
	bool in_header;
	bool trail_ok; /* a trailing empty field is a trailing delimiter */

	/* The current row. */
	struct gpu_str *fields;
	size_t *foff; /* libcsv path: offsets into rowbuf */
	bool *present;
	size_t fcap; /* allocated entries of fields/foff/present */
	size_t fmax; /* fields kept per row; more are only counted */
	size_t nf;   /* fields seen */
	struct gpu_buf rowbuf;
	struct gpu_buf raw;
	struct gpu_buf linebuf; /* a JSON line longer than the buffer */

	/* libcsv state for rows that hold quotes or long lines. */
	struct csv_parser csv;
	bool in_csv;
	bool row_done;
	bool field_long;
	bool skip_rest; /* drop the rest of a line after a quoting error */
	long row_line;

	/* JSON Lines. */
	cJSON *json;
	char (*numtxt)[NUMTXT];
	struct keycache cache[KEYCACHE];
	int bad_col;

	/* Unknown names (JSON keys, or header names the reader ignores). */
	bool collect_unknown;
	struct gpu_buf unknown;
};

int
gpu_format_parse(const char *s, enum gpu_format *f)
{
	if (strcmp(s, "auto") == 0)
		*f = GPU_FMT_AUTO;
	else if (strcmp(s, "csv") == 0)
		*f = GPU_FMT_CSV;
	else if (strcmp(s, "jsonl") == 0 || strcmp(s, "json") == 0)
		*f = GPU_FMT_JSONL;
	else
		return -1;
	return 0;
}

static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive (ASCII) equality of p[0..n) and the C string s. */
static bool
name_eq(const char *p, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || ascii_lower(p[i]) != ascii_lower(s[i]))
			return false;
	return s[n] == '\0';
}

static bool
is_blank_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool
is_blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_blank_byte(p[i]))
			return false;
	return true;
}

/* Spaces libcsv drops around unquoted fields; only '\n' ends a record. */
static int
csv_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int
csv_is_term(unsigned char c)
{
	return c == '\n';
}

static void
add_unknown(struct gpu_table *t, const char *p, size_t n)
{
	const char *s = t->unknown.data;
	size_t len = t->unknown.len, i = 0;

	if (n == 0)
		return;
	while (i < len) {
		const char *c = memchr(s + i, ',', len - i);
		size_t e = c != NULL ? (size_t)(c - s) : len;

		if (e - i == n && memcmp(s + i, p, n) == 0)
			return;
		i = e + 1;
	}
	if (len + n + 1 > UNKNOWN_MAX)
		return;
	if (len > 0)
		gpu_buf_addc(&t->unknown, ',');
	gpu_buf_add(&t->unknown, p, n);
}

/* Compact the buffer and read more. Returns 0, or -1 on a read error. */
static int
fill(struct gpu_table *t, struct gpu_err *err)
{
	size_t n, want;

	if (t->pos > 0) {
		memmove(t->buf, t->buf + t->pos, t->len - t->pos);
		t->base += (long long)t->pos;
		t->len -= t->pos;
		t->pos = 0;
	}
	want = CHUNK - t->len;
	n = fread(t->buf + t->len, 1, want, t->fp);
	t->len += n;
	if (n < want) {
		if (ferror(t->fp))
			return gpu_err_at(err, t->source, t->line,
					  "read error: %s", strerror(errno));
		t->eof = true;
	}
	return 0;
}

/*
 * The next piece of input: a whole line without its '\n' (the last one may
 * lack it), or a part of a line longer than the buffer (*partial set).
 * Returns 1, 0 at the end of input, -1 on a read error.
 */
static int
next_piece(struct gpu_table *t, const char **p, size_t *n, bool *partial,
	   struct gpu_err *err)
{
	for (;;) {
		char *s = t->buf + t->pos;
		char *nl = memchr(s, '\n', t->len - t->pos);

		*p = s;
		*partial = false;
		if (nl != NULL) {
			*n = (size_t)(nl - s);
			t->pos += *n + 1;
			return 1;
		}
		if (t->eof) {
			if (t->pos == t->len)
				return 0;
			*n = t->len - t->pos;
			t->pos = t->len;
			return 1;
		}
		if (t->pos == 0 && t->len == CHUNK) {
			*n = t->len;
			*partial = true;
			t->pos = t->len;
			return 1;
		}
		if (fill(t, err) != 0)
			return -1;
	}
}

static void
grow_fields(struct gpu_table *t)
{
	size_t cap = t->fcap < 16 ? 16 : t->fcap * 2;

	t->fields = gpu_xreallocarray(t->fields, cap, sizeof(*t->fields));
	t->foff = gpu_xreallocarray(t->foff, cap, sizeof(*t->foff));
	t->present = gpu_xreallocarray(t->present, cap, sizeof(*t->present));
	t->fcap = cap;
}

static inline void
keep_field(struct gpu_table *t, const char *p, size_t n)
{
	if (t->nf < t->fmax) {
		if (t->nf == t->fcap)
			grow_fields(t);
		t->fields[t->nf].p = p;
		t->fields[t->nf].len = n;
		t->present[t->nf] = true;
	}
	t->nf++;
}

static void
on_field(void *s, size_t n, void *data)
{
	struct gpu_table *t = data;
	size_t nf = t->nf;

	if (n > GPU_FIELD_MAX)
		t->field_long = true;
	keep_field(t, NULL, n);
	if (nf < t->fmax) {
		t->foff[nf] = t->rowbuf.len;
		gpu_buf_add(&t->rowbuf, s, n);
	}
}

static void
on_row(int c, void *data)
{
	struct gpu_table *t = data;

	(void)c;
	t->row_done = true;
}

/* Split a line without quotes the way libcsv would (spaces trimmed). */
static void
split_fast(struct gpu_table *t, const char *p, size_t n)
{
	const char *end = p + n, *s = p;
	char d = t->delim;

	t->nf = 0;
	for (;;) {
		const char *e = s, *a, *b;

		while (e < end && *e != d)
			e++;
		a = s;
		b = e;
		while (a < b && is_blank_byte(*a) && *a != d)
			a++;
		while (b > a && is_blank_byte(b[-1]) && b[-1] != d)
			b--;
		keep_field(t, a, (size_t)(b - a));
		if (e == end)
			break;
		s = e + 1;
	}
}

static void
raw_add(struct gpu_table *t, const char *p, size_t n)
{
	if (t->raw.len >= RAW_MAX)
		return;
	if (n > RAW_MAX - t->raw.len)
		n = RAW_MAX - t->raw.len;
	gpu_buf_add(&t->raw, p, n);
}

static void
reset_csv(struct gpu_table *t)
{
	csv_fini(&t->csv, NULL, NULL, NULL);
	t->in_csv = false;
	t->row_done = false;
	t->field_long = false;
}

/* Fill row from the current fields; check the field count. */
static void
finish_row(struct gpu_table *t, struct gpu_row *row, long line, const char *raw,
	   size_t rawlen)
{
	size_t kept;

	if (t->trail_ok && t->nf == t->ncols + 1 && t->nf <= t->fmax &&
	    t->fields[t->ncols].len == 0)
		t->nf = t->ncols;
	kept = t->nf < t->fmax ? t->nf : t->fmax;
	while (rawlen > 0 && raw[rawlen - 1] == '\r')
		rawlen--;
	if (rawlen > RAW_MAX)
		rawlen = RAW_MAX;
	row->line = line;
	row->nfields = kept;
	row->fields = t->fields;
	row->present = t->present;
	row->raw.p = raw;
	row->raw.len = rawlen;
	row->bad = NULL;
	if (!t->in_header && t->nf != t->ncols)
		row->bad = BAD_COUNT;
}

static void
bad_row(struct gpu_table *t, struct gpu_row *row, const char *why)
{
	row->line = t->row_line;
	row->nfields = 0;
	row->fields = t->fields;
	row->present = t->present;
	row->raw.p = t->raw.data;
	row->raw.len = t->raw.len;
	while (row->raw.len > 0 && row->raw.p[row->raw.len - 1] == '\r')
		row->raw.len--;
	row->bad = why;
}

static int
field_too_long(struct gpu_table *t, struct gpu_err *err)
{
	return gpu_err_at(err, t->source, t->row_line,
			  "field longer than 1 MiB");
}

/*
 * Feed one piece of a row that holds quotes (or a line too long for the
 * buffer) to libcsv. Returns 1 when a row or a reject is ready, 0 to go on
 * reading, -1 on a fatal error.
 */
static int
csv_piece(struct gpu_table *t, struct gpu_row *row, const char *p, size_t n,
	  bool partial, long here, struct gpu_err *err)
{
	size_t k;

	if (!t->in_csv) {
		t->in_csv = true;
		t->row_done = false;
		t->field_long = false;
		t->row_line = here;
		t->nf = 0;
		gpu_buf_reset(&t->rowbuf);
		gpu_buf_reset(&t->raw);
	}
	raw_add(t, p, n);
	k = csv_parse(&t->csv, p, n, on_field, on_row, t);
	if (k == n && !partial)
		k = csv_parse(&t->csv, "\n", 1, on_field, on_row, t) == 1 ? n
									  : 0;
	if (t->field_long || t->csv.entry_pos > GPU_FIELD_MAX)
		return field_too_long(t, err);
	if (k != n) {
		if (csv_error(&t->csv) != CSV_EPARSE)
			return gpu_err_at(err, t->source, here,
					  "out of memory parsing CSV");
		reset_csv(t);
		t->skip_rest = partial;
		bad_row(t, row, BAD_QUOTING);
		return 1;
	}
	if (partial)
		return 0;
	if (t->row_done) {
		size_t i, kept = t->nf < t->fmax ? t->nf : t->fmax;

		for (i = 0; i < kept; i++)
			t->fields[i].p = t->rowbuf.data + t->foff[i];
		t->in_csv = false;
		t->row_done = false;
		finish_row(t, row, t->row_line, t->raw.data, t->raw.len);
		return 1;
	}
	if (t->csv.quoted) {
		raw_add(t, "\n", 1);
		return 0;
	}
	/* A blank line (only spaces): no row. */
	t->in_csv = false;
	return 0;
}

static int
csv_next(struct gpu_table *t, struct gpu_row *row, struct gpu_err *err)
{
	const char *p;
	size_t n;
	bool partial;
	int rc;

	while (t->skip_rest) {
		rc = next_piece(t, &p, &n, &partial, err);
		if (rc <= 0)
			return rc;
		if (!partial) {
			t->line++;
			t->skip_rest = false;
		}
	}
	for (;;) {
		long here = t->line;

		rc = next_piece(t, &p, &n, &partial, err);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			if (!t->in_csv)
				return 0;
			reset_csv(t);
			bad_row(t, row, BAD_QUOTING);
			return 1;
		}
		if (!partial)
			t->line++;
		if (!t->in_csv && !partial && memchr(p, '"', n) == NULL) {
			if (is_blank(p, n))
				continue;
			split_fast(t, p, n);
			finish_row(t, row, here, p, n);
			return 1;
		}
		rc = csv_piece(t, row, p, n, partial, here, err);
		if (rc != 0)
			return rc;
	}
}

/* Print a JSON number as text that the strict parsers read back. */
static void
json_number(double v, char out[NUMTXT])
{
	int n;

	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		n = snprintf(out, NUMTXT, "%lld", (long long)v);
	else
		n = snprintf(out, NUMTXT, "%.17g", v);
	if (n < 0 || n >= NUMTXT)
		out[0] = '\0';
}

static int
json_col(struct gpu_table *t, size_t idx, const char *key)
{
	size_t klen = strlen(key), i;
	int col = -1;

	if (idx < KEYCACHE && t->cache[idx].col != -2 &&
	    strcmp(t->cache[idx].name, key) == 0)
		return t->cache[idx].col;
	for (i = 0; i < t->ncols; i++) {
		if (name_eq(key, klen, t->names[i])) {
			col = (int)i;
			break;
		}
	}
	if (col < 0 && t->collect_unknown)
		add_unknown(t, key, klen);
	if (idx < KEYCACHE && klen < KEYLEN) {
		memcpy(t->cache[idx].name, key, klen + 1);
		t->cache[idx].col = col;
	}
	return col;
}

static void
json_map(struct gpu_table *t, struct gpu_row *row)
{
	const cJSON *it;
	size_t i, idx = 0;

	for (i = 0; i < t->ncols; i++) {
		t->fields[i].p = NULL;
		t->fields[i].len = 0;
		t->present[i] = false;
	}
	for (it = t->json->child; it != NULL; it = it->next, idx++) {
		struct gpu_str *f;
		int col;

		if (it->string == NULL)
			continue;
		col = json_col(t, idx, it->string);
		if (col < 0 || t->fields[col].p != NULL)
			continue;
		f = &t->fields[col];
		f->p = "";
		if (cJSON_IsString(it)) {
			f->p = it->valuestring;
			f->len = strlen(it->valuestring);
		} else if (cJSON_IsNumber(it)) {
			json_number(it->valuedouble, t->numtxt[col]);
			f->p = t->numtxt[col];
			f->len = strlen(f->p);
		} else if (cJSON_IsTrue(it)) {
			f->p = "true";
			f->len = 4;
		} else if (cJSON_IsFalse(it)) {
			f->p = "false";
			f->len = 5;
		} else if (!cJSON_IsNull(it)) {
			/* Keep the first column: the reader names it. */
			if (t->bad_col < 0 || col < t->bad_col) {
				row->bad = BAD_NESTED;
				t->bad_col = col;
			}
			continue;
		} else {
			continue;
		}
		t->present[col] = true;
	}
	for (i = 0; i < t->ncols; i++)
		if (t->fields[i].p == NULL)
			t->fields[i].p = "";
}

static int
json_next(struct gpu_table *t, struct gpu_row *row, struct gpu_err *err)
{
	const char *p, *end;
	size_t n;
	bool partial;
	int rc;

	for (;;) {
		long here = t->line;

		gpu_buf_reset(&t->linebuf);
		for (;;) {
			rc = next_piece(t, &p, &n, &partial, err);
			if (rc <= 0)
				return rc;
			if (!partial && t->linebuf.len == 0)
				break;
			gpu_buf_add(&t->linebuf, p, n);
			if (t->linebuf.len > GPU_FIELD_MAX)
				return gpu_err_at(err, t->source, here,
						  "line longer than 1 MiB");
			if (!partial) {
				p = t->linebuf.data;
				n = t->linebuf.len;
				break;
			}
		}
		t->line++;
		while (n > 0 && p[n - 1] == '\r')
			n--;
		if (is_blank(p, n))
			continue;
		cJSON_Delete(t->json);
		row->line = here;
		row->raw.p = p;
		row->raw.len = n < RAW_MAX ? n : RAW_MAX;
		row->nfields = t->ncols;
		row->fields = t->fields;
		row->present = t->present;
		row->bad = NULL;
		t->bad_col = -1;
		t->json = cJSON_ParseWithLengthOpts(p, n, &end, 0);
		if (t->json == NULL || !is_blank(end, (size_t)(p + n - end))) {
			row->bad = BAD_JSON;
			row->nfields = 0;
			return 1;
		}
		if (!cJSON_IsObject(t->json)) {
			row->bad = BAD_OBJECT;
			row->nfields = 0;
			return 1;
		}
		json_map(t, row);
		return 1;
	}
}

int
gpu_table_next(struct gpu_table *t, struct gpu_row *row, struct gpu_err *err)
{
	if (t->format == GPU_FMT_JSONL)
		return json_next(t, row, err);
	return csv_next(t, row, err);
}

/*
 * Skip whole blank lines (and a UTF-8 BOM) up to the first non-blank byte,
 * which decides the format. Returns 1 if found, 0 for an empty input, -1 on
 * a read error.
 */
static int
find_start(struct gpu_table *t, char *first, struct gpu_err *err)
{
	size_t lstart;

	if (fill(t, err) != 0)
		return -1;
	if (t->len >= 3 && memcmp(t->buf, "\xEF\xBB\xBF", 3) == 0)
		t->pos = 3;
	lstart = t->pos;
	for (;;) {
		while (t->pos < t->len) {
			char c = t->buf[t->pos];

			if (c == '\n') {
				t->pos++;
				t->line++;
				lstart = t->pos;
			} else if (is_blank_byte(c)) {
				t->pos++;
			} else {
				*first = c;
				t->pos = lstart;
				return 1;
			}
		}
		if (t->eof)
			return 0;
		if (fill(t, err) != 0)
			return -1;
		lstart = 0;
	}
}

static void
set_names_from(struct gpu_table *t, const struct gpu_str *f, size_t n)
{
	size_t i;

	t->names = gpu_xcalloc(n > 0 ? n : 1, sizeof(*t->names));
	for (i = 0; i < n; i++) {
		const char *a = f[i].p;
		size_t len = f[i].len;

		while (len > 0 && is_blank_byte(*a)) {
			a++;
			len--;
		}
		while (len > 0 && is_blank_byte(a[len - 1]))
			len--;
		t->names[i] = gpu_xstrndup(a, len);
	}
	t->ncols = n;
}

static bool
has_control(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

static int
read_header(struct gpu_table *t, struct gpu_err *err)
{
	struct gpu_row row;
	size_t i;
	int rc;

	t->in_header = true;
	t->fmax = MAX_COLS + 1;
	rc = csv_next(t, &row, err);
	t->in_header = false;
	if (rc < 0)
		return -1;
	if (rc == 0)
		return gpu_err_at(err, t->source, t->line, "empty input");
	t->header_line = row.line;
	if (row.bad != NULL)
		return gpu_err_at(err, t->source, row.line, "%s in header",
				  row.bad);
	if (t->nf > MAX_COLS)
		return gpu_err_at(err, t->source, row.line,
				  "too many columns (more than %d)", MAX_COLS);
	for (i = 0; i < row.nfields; i++)
		if (has_control(row.fields[i].p, row.fields[i].len))
			return gpu_err_at(err, t->source, row.line,
					  "binary data in header");
	set_names_from(t, row.fields, row.nfields);
	if (t->ncols > 1 && t->names[t->ncols - 1][0] == '\0') {
		free(t->names[t->ncols - 1]);
		t->ncols--;
		t->trail_ok = true;
	}
	return 0;
}

static int
names_from_list(struct gpu_table *t, const char *list, struct gpu_err *err)
{
	size_t n = 0, i;
	struct gpu_str f[MAX_COLS];
	const char *s = list;

	for (;;) {
		const char *c = strchr(s, ',');
		size_t len = c != NULL ? (size_t)(c - s) : strlen(s);

		if (n == MAX_COLS)
			return gpu_err_set(err, "too many columns in '%s'",
					   list);
		f[n].p = s;
		f[n].len = len;
		n++;
		if (c == NULL)
			break;
		s = c + 1;
	}
	set_names_from(t, f, n);
	if (t->ncols > 1 && t->names[t->ncols - 1][0] == '\0') {
		free(t->names[t->ncols - 1]);
		t->ncols--;
	}
	for (i = 0; i < t->ncols; i++)
		if (t->names[i][0] == '\0')
			return gpu_err_set(err, "empty column name in '%s'",
					   list);
	return 0;
}

static void
alloc_row(struct gpu_table *t, size_t n)
{
	t->fcap = n;
	t->fields = gpu_xreallocarray(t->fields, n, sizeof(*t->fields));
	t->foff = gpu_xreallocarray(t->foff, n, sizeof(*t->foff));
	t->present = gpu_xreallocarray(t->present, n, sizeof(*t->present));
}

struct gpu_table *
gpu_table_new(FILE *fp, const char *source, const struct gpu_table_opts *opts,
	      struct gpu_err *err)
{
	struct gpu_table *t = gpu_xcalloc(1, sizeof(*t));
	char first = 0;
	size_t i;
	int rc;

	t->fp = fp;
	t->source = gpu_xstrdup(source != NULL ? source : "<stdin>");
	t->delim = opts->delim != 0 ? opts->delim : ',';
	t->buf = gpu_xmalloc(CHUNK);
	t->line = 1;
	t->bad_col = -1;
	gpu_buf_init(&t->rowbuf);
	gpu_buf_init(&t->raw);
	gpu_buf_init(&t->linebuf);
	gpu_buf_init(&t->unknown);
	for (i = 0; i < KEYCACHE; i++)
		t->cache[i].col = -2;
	csv_init(&t->csv, CSV_STRICT);
	csv_set_delim(&t->csv, (unsigned char)t->delim);
	csv_set_space_func(&t->csv, csv_is_space);
	csv_set_term_func(&t->csv, csv_is_term);
	csv_set_blk_size(&t->csv, 4096);

	rc = find_start(t, &first, err);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		gpu_err_at(err, t->source, t->line, "empty input");
		goto fail;
	}
	t->format = opts->format;
	if (t->format == GPU_FMT_AUTO)
		t->format = first == '{' ? GPU_FMT_JSONL : GPU_FMT_CSV;

	if (t->format == GPU_FMT_JSONL) {
		const char *const *nm = opts->names;

		if (nm == NULL) {
			gpu_err_set(err, "JSON Lines input needs column names");
			goto fail;
		}
		while (nm[t->ncols] != NULL)
			t->ncols++;
		t->names = gpu_xcalloc(t->ncols + 1, sizeof(*t->names));
		for (i = 0; i < t->ncols; i++)
			t->names[i] = gpu_xstrdup(nm[i]);
		t->numtxt = gpu_xcalloc(t->ncols + 1, sizeof(*t->numtxt));
	} else if (opts->no_header) {
		if (opts->columns == NULL) {
			gpu_err_set(err, "input without a header needs a "
					 "list of columns");
			goto fail;
		}
		if (names_from_list(t, opts->columns, err) != 0)
			goto fail;
		t->trail_ok = t->delim != ',';
	} else if (read_header(t, err) != 0) {
		goto fail;
	}
	t->fmax = t->ncols + 1;
	alloc_row(t, t->fmax);
	for (i = 0; i < t->fmax; i++)
		t->present[i] = true;
	return t;
fail:
	gpu_table_free(t);
	return NULL;
}

void
gpu_table_free(struct gpu_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncols; i++)
		free(t->names[i]);
	free(t->names);
	free(t->fields);
	free(t->foff);
	free(t->present);
	free(t->numtxt);
	free(t->buf);
	free(t->source);
	gpu_buf_release(&t->rowbuf);
	gpu_buf_release(&t->raw);
	gpu_buf_release(&t->linebuf);
	gpu_buf_release(&t->unknown);
	csv_free(&t->csv);
	cJSON_Delete(t->json);
	free(t);
}

size_t
gpu_table_ncols(const struct gpu_table *t)
{
	return t->ncols;
}

const char *
gpu_table_colname(const struct gpu_table *t, size_t i)
{
	return i < t->ncols ? t->names[i] : NULL;
}

int
gpu_table_col(const struct gpu_table *t, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < t->ncols; i++)
		if (name_eq(name, n, t->names[i]))
			return (int)i;
	return -1;
}

/* ---- Samples ---------------------------------------------------------- */

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
    META("interval_s"), META("gpu_uuid"),
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
#define NJSONKEYS 19 /* our names and the ignored ones: the JSON keys */

static const char *const json_keys[NJSONKEYS + 1] = {
    "timestamp",      "node",	   "gpu",	 "util_pct", "mem_used_mib",
    "mem_total_mib",  "job_id",	   "user",	 "project",  "model",
    "power_w",	      "temp_c",	   "interval_s", "gpu_uuid", "mem_util_pct",
    "usage_category", "allocated", "ingest_id",	 "ts_ms",    NULL,
};

struct gpu_reader {
	struct gpu_table *t;
	int col_of[NFID]; /* column of each field, -1 when absent */
	char *node;	  /* opts.node copy, or NULL */
	size_t node_len;
	bool has_at;
	int64_t at_ms;
	bool jsonl;
};

static int
fid_of(const char *name)
{
	size_t n = strlen(name), i;
	const char *br;

	for (i = 0; i < NCOLMAP; i++)
		if (name_eq(name, n, colmap[i].name))
			return colmap[i].fid;
	/* "utilization.gpu [%]": drop a bracketed unit and retry. */
	br = strrchr(name, '[');
	if (br == NULL || n == 0 || name[n - 1] != ']')
		return F_UNKNOWN;
	n = (size_t)(br - name);
	while (n > 0 && name[n - 1] == ' ')
		n--;
	for (i = 0; i < NCOLMAP; i++)
		if (name_eq(name, n, colmap[i].name))
			return colmap[i].fid;
	return F_UNKNOWN;
}

static const char *
check_text(int fid, struct gpu_str v)
{
	size_t i;
	bool high = false;

	if (v.len > TEXT_MAX)
		return meta[fid].toolong;
	for (i = 0; i < v.len; i++) {
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

static bool
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
		if (gpu_time_parse(v.p, v.len, &s->ts_ms, &why) != 0)
			return why != NULL ? why : meta[F_TS].invalid;
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
	return text_field(r, row, F_UUID, &s->gpu_uuid);
}

/* Collect the unknown keys of the first JSON line now, without consuming
 * it, so that a tool can warn before reading. */
static void
peek_json_keys(struct gpu_table *t)
{
	const char *s = t->buf + t->pos, *end;
	const char *nl = memchr(s, '\n', t->len - t->pos);
	size_t n = nl != NULL ? (size_t)(nl - s) : t->len - t->pos, idx = 0;
	const cJSON *it;
	cJSON *j;

	if (nl == NULL && !t->eof)
		return;
	j = cJSON_ParseWithLengthOpts(s, n, &end, 0);
	if (j == NULL)
		return;
	if (cJSON_IsObject(j))
		for (it = j->child; it != NULL; it = it->next, idx++)
			if (it->string != NULL)
				json_col(t, idx, it->string);
	cJSON_Delete(j);
}

static int
map_columns(struct gpu_reader *r, struct gpu_err *err)
{
	struct gpu_table *t = r->t;
	long line = t->header_line;
	size_t i;

	for (i = 0; i < NFID; i++)
		r->col_of[i] = -1;
	for (i = 0; i < t->ncols; i++) {
		int fid = fid_of(t->names[i]);

		if (fid == F_UNKNOWN) {
			add_unknown(t, t->names[i], strlen(t->names[i]));
			continue;
		}
		if (fid == F_IGNORE)
			continue;
		if (r->col_of[fid] >= 0)
			return gpu_err_at(err, t->source, line,
					  "duplicate column '%s'",
					  meta[fid].name);
		r->col_of[fid] = (int)i;
	}
	if (r->jsonl)
		return 0;
	if (r->col_of[F_TS] < 0 && !r->has_at)
		return gpu_err_at(err, t->source, line,
				  "missing required column 'timestamp' "
				  "(use --at TIME for input without one)");
	if (r->col_of[F_NODE] < 0 && r->node == NULL)
		return gpu_err_at(err, t->source, line,
				  "missing required column 'node' "
				  "(use --node NAME for input without one)");
	if (r->col_of[F_GPU] < 0)
		return gpu_err_at(err, t->source, line,
				  "missing required column 'gpu'");
	if (r->col_of[F_UTIL] < 0)
		return gpu_err_at(err, t->source, line,
				  "missing required column 'util_pct'");
	if (r->col_of[F_MEM_USED] < 0)
		return gpu_err_at(err, t->source, line,
				  "missing required column 'mem_used_mib'");
	return 0;
}

struct gpu_reader *
gpu_reader_new(FILE *fp, const char *source, const struct gpu_reader_opts *opts,
	       struct gpu_err *err)
{
	struct gpu_reader *r = gpu_xcalloc(1, sizeof(*r));
	struct gpu_table_opts to;

	if (opts->node != NULL) {
		struct gpu_str v = {opts->node, strlen(opts->node)};

		if (v.len == 0 || check_text(F_NODE, v) != NULL) {
			gpu_err_set(err, "invalid node name '%s'", opts->node);
			goto fail;
		}
		r->node = gpu_xstrdup(opts->node);
		r->node_len = v.len;
	}
	r->has_at = opts->has_at;
	r->at_ms = opts->at_ms;
	memset(&to, 0, sizeof(to));
	to.format = opts->format;
	to.delim = ',';
	to.no_header = opts->columns != NULL;
	to.columns = opts->columns;
	to.names = json_keys;
	r->t = gpu_table_new(fp, source, &to, err);
	if (r->t == NULL)
		goto fail;
	r->jsonl = r->t->format == GPU_FMT_JSONL;
	r->t->collect_unknown = true;
	if (r->jsonl)
		peek_json_keys(r->t);
	if (map_columns(r, err) != 0)
		goto fail;
	return r;
fail:
	gpu_reader_free(r);
	return NULL;
}

void
gpu_reader_free(struct gpu_reader *r)
{
	if (r == NULL)
		return;
	gpu_table_free(r->t);
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

	rc = gpu_table_next(r->t, &row, err);
	if (rc <= 0)
		return rc;
	why = row.bad;
	/* A nested JSON value only matters in a column the reader uses. */
	if (why == BAD_NESTED)
		why = r->t->bad_col < NFID ? meta[r->t->bad_col].invalid : NULL;
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

const char *
gpu_reader_unknown(const struct gpu_reader *r)
{
	return r->t->unknown.data;
}

long long
gpu_reader_offset(const struct gpu_reader *r)
{
	return r->t->base + (long long)r->t->pos;
}
