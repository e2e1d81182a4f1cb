/* SPDX-License-Identifier: MIT */
/* Generic rows of CSV (libcsv) or JSON Lines (cJSON) input, streamed. */
#include "gpu/table.h"

#include <cjson/cJSON.h>
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/hashmap.h"

#define CHUNK (64 * 1024)   /* bytes per fread */
#define RAW_MAX (64 * 1024) /* longest raw row text handed out */
#define MAX_COLS 1024
#define NUMTXT 40   /* a JSON number printed as text */
#define KEYCACHE 64 /* JSON key positions remembered */
#define KEYLEN 48
#define UNKNOWN_MAX 4096 /* bytes of the unknown-column list */

static const char BAD_QUOTING[] = "malformed CSV quoting";
static const char BAD_COUNT[] = "wrong number of fields";
static const char BAD_JSON[] = "invalid JSON";
static const char BAD_OBJECT[] = "JSON line is not an object";
static const char BAD_NESTED[] = "nested JSON value";
static const char BAD_BOOL[] = "JSON boolean value";
static const char BAD_NUL[] = "NUL character (\\u0000) in JSON string";
static const char BAD_DUPKEY[] = "duplicate key in JSON object";
static const char BAD_INEXACT[] =
    "JSON number of 2^53 or more (write it as a string)";

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
	char last; /* the last byte read, '\n' before any */
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
	struct gpu_hashmap seen; /* the object's keys that name no column */

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
	else if (strcmp(s, "prometheus") == 0)
		*f = GPU_FMT_PROMETHEUS; /* samples only: see gpu/prom.h */
	else
		return -1;
	return 0;
}

static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool
gpu_table_name_eq(const char *p, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || ascii_lower(p[i]) != ascii_lower(s[i]))
			return false;
	return s[n] == '\0';
}

struct gpu_str
gpu_row_field(const struct gpu_row *row, int col)
{
	struct gpu_str none = {"", 0};

	if (col < 0 || (size_t)col >= row->nfields || !row->present[col])
		return none;
	return row->fields[col];
}

bool
gpu_value_absent(struct gpu_str v, bool is_time)
{
	static const char *const tokens[] = {"[N/A]", "N/A", "[Not Supported]"};

	if (v.len == 0)
		return true;
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
		if (gpu_table_name_eq(v.p, v.len, tokens[i]))
			return true;
	return is_time && (gpu_table_name_eq(v.p, v.len, "Unknown") ||
			   gpu_table_name_eq(v.p, v.len, "None"));
}

const char *
gpu_text_check(struct gpu_str v, const char *too_long, const char *ctrl)
{
	for (size_t i = 0; i < v.len; i++)
		if ((unsigned char)v.p[i] < 0x20 || v.p[i] == 0x7f)
			return ctrl;
	return v.len > GPU_TEXT_MAX ? too_long : NULL;
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
	if (n > 0)
		t->last = t->buf[t->len - 1];
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

/*
 * The first d in [s, end), or end. Eight bytes a step where the machine is
 * little-endian: in x = word ^ (d in every byte), (x - 0x01..) & ~x &
 * 0x80.. flags the bytes that are zero, and its lowest flag is exact (a
 * false one can only follow a true one), so it is the first d.
 */
static inline const char *
find_delim(const char *s, const char *end, char d)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t pat = ones * (unsigned char)d;

	while (end - s >= 8) {
		uint64_t w, x, m;

		memcpy(&w, s, sizeof(w));
		x = w ^ pat;
		m = (x - ones) & ~x & (ones << 7);
		if (m != 0)
			return s + (__builtin_ctzll(m) >> 3);
		s += 8;
	}
#endif
	while (s < end && *s != d)
		s++;
	return s;
}

/* Split a line without quotes the way libcsv would (spaces trimmed). */
static void
split_fast(struct gpu_table *t, const char *p, size_t n)
{
	const char *end = p + n, *s = p;
	char d = t->delim;

	t->nf = 0;
	for (;;) {
		const char *e = find_delim(s, end, d), *a, *b;

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

/*
 * A JSON number as the text that writes its value: an integer in digits,
 * else the shortest of 15 to 17 significant digits that reads back as the
 * same double (1795881600.001, not 1795881600.0009999). False for an
 * integer of 2^53 or more, whose digits the double may have lost.
 */
static bool
json_number(double v, char out[NUMTXT])
{
	int n = -1;

	if (v == floor(v)) {
		if (!(fabs(v) < 9007199254740992.0))
			return false;
		n = snprintf(out, NUMTXT, "%lld", (long long)v);
	} else {
		for (int prec = 15; prec <= 17; prec++) {
			n = snprintf(out, NUMTXT, "%.*g", prec, v);
			if (n > 0 && n < NUMTXT && strtod(out, NULL) == v)
				break;
		}
	}
	if (n < 0 || n >= NUMTXT)
		out[0] = '\0';
	return true;
}

static int
json_col(struct gpu_table *t, size_t idx, const char *key)
{
	size_t klen = strlen(key), i;
	const char *name = key;
	size_t nlen = klen;
	int col = -1;

	if (idx < KEYCACHE && t->cache[idx].col != -2 &&
	    strcmp(t->cache[idx].name, key) == 0)
		return t->cache[idx].col;
	/* Spaces around a key are ignored, as around a CSV header name. */
	while (nlen > 0 && (*name == ' ' || *name == '\t'))
		name++, nlen--;
	while (nlen > 0 && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
		nlen--;
	for (i = 0; i < t->ncols; i++) {
		if (gpu_table_name_eq(name, nlen, t->names[i])) {
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
	if (gpu_hashmap_count(&t->seen) > 0)
		gpu_hashmap_clear(&t->seen);
	for (it = t->json->child; it != NULL; it = it->next, idx++) {
		struct gpu_str *f;
		int col;

		if (it->string == NULL)
			continue;
		col = json_col(t, idx, it->string);
		if (col < 0) {
			bool added;

			gpu_hashmap_put(&t->seen, it->string,
					strlen(it->string), &added);
			if (added)
				continue;
		}
		if (col < 0 || t->fields[col].p != NULL) {
			/* The first value would win silently, as CSV cannot. */
			row->bad = BAD_DUPKEY;
			row->nested_col = -1;
			row->nfields = 0;
			return;
		}
		f = &t->fields[col];
		f->p = "";
		if (cJSON_IsString(it)) {
			f->p = it->valuestring;
			f->len = strlen(it->valuestring);
		} else if (cJSON_IsNumber(it)) {
			if (!json_number(it->valuedouble, t->numtxt[col])) {
				/* Inexact: a bad value of its column. */
				if (row->nested_col < 0 ||
				    col < row->nested_col) {
					row->bad = BAD_INEXACT;
					row->nested_col = col;
				}
				continue;
			}
			f->p = t->numtxt[col];
			f->len = strlen(f->p);
		} else if (!cJSON_IsNull(it)) {
			/*
			 * An array, an object, or true or false: no column
			 * takes one (a user named "true" is a mistake, not
			 * a user). Keep the first column: the reader names it.
			 */
			if (row->nested_col < 0 || col < row->nested_col) {
				row->bad = cJSON_IsBool(it) ? BAD_BOOL
							    : BAD_NESTED;
				row->nested_col = col;
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

/*
 * Whether the line holds the escape \u0000. cJSON decodes it into a NUL
 * byte that ends the C string, so "n1\u0000a" would be read as "n1": such
 * a line is rejected, as a raw NUL in CSV is. A backslash outside a string
 * is invalid JSON anyway, so skipping each escaped character is enough.
 */
static bool
has_nul_escape(const char *p, size_t n)
{
	const char *e = p + n, *b;

	while ((b = memchr(p, '\\', (size_t)(e - p))) != NULL) {
		if (e - b >= 6 && b[1] == 'u' && memcmp(b + 2, "0000", 4) == 0)
			return true;
		p = b + 2;
		if (p >= e)
			break;
	}
	return false;
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
		if (has_nul_escape(p, n)) {
			row->bad = BAD_NUL;
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
	row->nested_col = -1;
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

int
gpu_table_check_columns(const char *list, struct gpu_err *err)
{
	struct gpu_table *t = gpu_xcalloc(1, sizeof(*t));
	int rc = names_from_list(t, list, err);

	gpu_table_free(t);
	return rc;
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
	gpu_buf_init(&t->rowbuf);
	gpu_buf_init(&t->raw);
	gpu_buf_init(&t->linebuf);
	t->last = '\n';
	gpu_hashmap_init(&t->seen);
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
	gpu_hashmap_release(&t->seen);
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
		if (gpu_table_name_eq(name, n, t->names[i]))
			return (int)i;
	return -1;
}

void
gpu_table_collect_unknown(struct gpu_table *t)
{
	t->collect_unknown = true;
	if (t->format == GPU_FMT_JSONL)
		peek_json_keys(t);
}

void
gpu_table_add_unknown(struct gpu_table *t, const char *name)
{
	add_unknown(t, name, strlen(name));
}

const char *
gpu_table_unknown(const struct gpu_table *t)
{
	return t->unknown.data;
}

bool
gpu_table_ends_in_newline(const struct gpu_table *t)
{
	return t->last == '\n';
}

enum gpu_format
gpu_table_format(const struct gpu_table *t)
{
	return t->format;
}

const char *
gpu_table_source(const struct gpu_table *t)
{
	return t->source;
}

long
gpu_table_header_line(const struct gpu_table *t)
{
	return t->header_line;
}

long long
gpu_table_offset(const struct gpu_table *t)
{
	return t->base + (long long)t->pos;
}
