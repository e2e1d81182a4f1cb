/* SPDX-License-Identifier: MIT */
/* Result rows as CSV (RFC 4180), JSON, JSON Lines or an aligned table. */
#include "gpu/writer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/buf.h"
#include "gpu/diag.h"
#include "gpu/escape.h"
#include "gpu/num.h"

#include "numfmt.h"

/* The bytes of ended rows held before they go to fp in one write. */
#define HOLD 32768

enum kind { K_STR, K_NUM, K_NULL, K_PLAIN /* text without checks */ };

struct cell {
	size_t off, len;
	enum kind kind;
};

struct gpu_writer {
	FILE *fp; /* NULL: the rows stay in row (gpu_writer_rows_like()) */
	enum gpu_ofmt fmt;
	char **cols;
	size_t ncols;
	size_t col;   /* fields given in the current row */
	size_t nrows; /* rows ended */
	bool row_open;
	bool finished;
	bool csv_safe; /* defuse cells a spreadsheet would run as formulas */
	bool each_row; /* a terminal: every row handed to fp as it ends */
	struct gpu_buf num; /* number formatting scratch */
	/*
	 * CSV and JSON: the rows ended and not yet handed to fp (at most
	 * HOLD bytes of them, then one write; see gpu_writer_end_row()),
	 * then the row being written; JSON: each column's key, escaped,
	 * with its ':'.
	 */
	struct gpu_buf row;
	struct gpu_buf keys;
	size_t *key_off;
	/* Table: every cell, kept until gpu_writer_finish(). */
	struct gpu_buf text;
	struct cell *cells;
	size_t ncells, cellcap;
	size_t max_width; /* table: 0, or the widest line wanted */
	size_t keep;	  /* table: columns never dropped to fit */
};

int
gpu_ofmt_parse(const char *s, enum gpu_ofmt *f)
{
	if (strcmp(s, "csv") == 0)
		*f = GPU_OUT_CSV;
	else if (strcmp(s, "json") == 0)
		*f = GPU_OUT_JSON;
	else if (strcmp(s, "jsonl") == 0)
		*f = GPU_OUT_JSONL;
	else if (strcmp(s, "table") == 0)
		*f = GPU_OUT_TABLE;
	else
		return -1;
	return 0;
}

static bool
csv_needs_quotes(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	if (p[0] == ' ' || p[0] == '\t' || p[n - 1] == ' ' || p[n - 1] == '\t')
		return true;
	for (i = 0; i < n; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n')
			return true;
	return false;
}

bool
gpu_csv_is_formula(const char *p, size_t n)
{
	if (n == 0)
		return false;
	return p[0] == '=' || p[0] == '+' || p[0] == '-' || p[0] == '@' ||
	       p[0] == '\t' || p[0] == '\r';
}

static void
csv_str(struct gpu_buf *b, const char *p, size_t n, bool safe)
{
	size_t i, start = 0;
	bool defuse = safe && gpu_csv_is_formula(p, n);

	if (!defuse && !csv_needs_quotes(p, n)) {
		gpu_buf_add(b, p, n);
		return;
	}
	gpu_buf_addc(b, '"');
	if (defuse)
		gpu_buf_addc(b, '\'');
	for (i = 0; i < n; i++) {
		if (p[i] == '"') {
			gpu_buf_add(b, p + start, i + 1 - start);
			gpu_buf_addc(b, '"');
			start = i + 1;
		}
	}
	gpu_buf_add(b, p + start, n - start);
	gpu_buf_addc(b, '"');
}

/* Whether text is a number as JSON writes it. */
static bool
json_number_ok(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else {
		for (d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
		if (d == 0)
			return false;
	}
	if (i < n && s[i] == '.') {
		for (i++, d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
		if (d == 0)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
		if (d == 0)
			return false;
	}
	return i == n;
}

struct gpu_writer *
gpu_writer_new(FILE *fp, enum gpu_ofmt fmt, const char *const *cols,
	       size_t ncols)
{
	struct gpu_writer *w = gpu_xcalloc(1, sizeof(*w));
	size_t i;

	w->fp = fp;
	w->fmt = fmt;
	w->ncols = ncols;
	w->cols = gpu_xcalloc(ncols > 0 ? ncols : 1, sizeof(*w->cols));
	for (i = 0; i < ncols; i++)
		w->cols[i] = gpu_xstrdup(cols[i]);
	gpu_buf_init(&w->num);
	gpu_buf_init(&w->row);
	gpu_buf_init(&w->keys);
	gpu_buf_init(&w->text);
	w->key_off = gpu_xcalloc(ncols + 1, sizeof(*w->key_off));
	for (i = 0; i < ncols; i++) {
		w->key_off[i] = w->keys.len;
		gpu_escape_json(&w->keys, w->cols[i], strlen(w->cols[i]), 0);
		gpu_buf_addc(&w->keys, ':');
	}
	w->key_off[ncols] = w->keys.len;
	if (fmt == GPU_OUT_CSV && ncols > 0 && fp != NULL) {
		for (i = 0; i < ncols; i++) {
			if (i > 0)
				gpu_buf_addc(&w->row, ',');
			csv_str(&w->row, w->cols[i], strlen(w->cols[i]), false);
		}
		gpu_buf_addc(&w->row, '\n');
		fwrite(w->row.data, 1, w->row.len, fp);
		gpu_buf_reset(&w->row);
	}
	w->each_row = fp != NULL && isatty(fileno(fp));
	return w;
}

void
gpu_writer_csv_safe(struct gpu_writer *w, bool on)
{
	w->csv_safe = on;
}

void
gpu_writer_free(struct gpu_writer *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->ncols; i++)
		free(w->cols[i]);
	free(w->cols);
	free(w->cells);
	free(w->key_off);
	gpu_buf_release(&w->num);
	gpu_buf_release(&w->row);
	gpu_buf_release(&w->keys);
	gpu_buf_release(&w->text);
	free(w);
}

/* Hand the rows held in w->row (no row open) to fp. */
static void
hand_over(struct gpu_writer *w)
{
	if (w->row.len > 0 && w->fp != NULL) {
		fwrite(w->row.data, 1, w->row.len, w->fp);
		gpu_buf_reset(&w->row);
	}
}

static void
open_row(struct gpu_writer *w)
{
	if (w->row_open)
		return;
	w->row_open = true;
	if (w->fmt == GPU_OUT_JSON)
		gpu_buf_adds(&w->row, w->nrows == 0 ? "[\n{" : ",\n{");
	else if (w->fmt == GPU_OUT_JSONL)
		gpu_buf_addc(&w->row, '{');
}

static void
table_cell(struct gpu_writer *w, const char *p, size_t n, enum kind kind)
{
	struct cell *c;
	size_t i;

	if (w->ncells == w->cellcap) {
		w->cellcap = w->cellcap < 64 ? 64 : w->cellcap * 2;
		w->cells =
		    gpu_xreallocarray(w->cells, w->cellcap, sizeof(*w->cells));
	}
	c = &w->cells[w->ncells++];
	c->off = w->text.len;
	c->len = n;
	c->kind = kind;
	gpu_buf_add(&w->text, p, n);
	/* A terminal table stays on one line per row. */
	for (i = c->off; i < c->off + n; i++)
		if ((unsigned char)w->text.data[i] < 0x20)
			w->text.data[i] = ' ';
}

static void
field(struct gpu_writer *w, const char *p, size_t n, enum kind kind)
{
	struct gpu_buf *b = &w->row;

	if (w->finished || w->col >= w->ncols)
		return;
	open_row(w);
	switch (w->fmt) {
	case GPU_OUT_CSV:
		if (w->col > 0)
			gpu_buf_addc(b, ',');
		if (kind == K_STR)
			csv_str(b, p, n, w->csv_safe);
		else if (kind == K_NUM || kind == K_PLAIN)
			gpu_buf_add(b, p, n);
		break;
	case GPU_OUT_JSON:
	case GPU_OUT_JSONL:
		if (w->col > 0)
			gpu_buf_addc(b, ',');
		gpu_buf_add(b, w->keys.data + w->key_off[w->col],
			    w->key_off[w->col + 1] - w->key_off[w->col]);
		if (kind == K_STR) {
			gpu_escape_json(b, p, n, 0);
		} else if (kind == K_PLAIN) {
			gpu_buf_addc(b, '"');
			gpu_buf_add(b, p, n);
			gpu_buf_addc(b, '"');
		} else if (kind == K_NUM) {
			gpu_buf_add(b, p, n);
		} else {
			gpu_buf_add(b, "null", 4);
		}
		break;
	case GPU_OUT_TABLE:
		table_cell(w, p, n, kind == K_PLAIN ? K_STR : kind);
		break;
	}
	w->col++;
}

void
gpu_writer_str(struct gpu_writer *w, const char *p, size_t len)
{
	field(w, p != NULL ? p : "", p != NULL ? len : 0, K_STR);
}

bool
gpu_writer_plain_ok(const char *p, size_t n)
{
	if (n == 0 || gpu_csv_is_formula(p, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		      (c >= 'a' && c <= 'z') || c == '-' || c == '.' ||
		      c == ':' || c == '_' || c == '/'))
			return false;
	}
	return true;
}

void
gpu_writer_plain(struct gpu_writer *w, const char *p, size_t len)
{
	field(w, p, len, K_PLAIN);
}

/*
 * A number's field begun in the row, as field() begins it: the separator
 * and, in JSON, the key, with room for GPU_NUM_FMT_MAX bytes after them.
 * NULL when the number takes field() (a table, a row already full).
 */
static char *
num_field(struct gpu_writer *w)
{
	struct gpu_buf *b = &w->row;
	size_t klen = 0;

	if (w->fmt == GPU_OUT_TABLE || w->finished || w->col >= w->ncols)
		return NULL;
	open_row(w);
	if (w->fmt != GPU_OUT_CSV)
		klen = w->key_off[w->col + 1] - w->key_off[w->col];
	if (b->len + 1 + klen + GPU_NUM_FMT_MAX > b->cap)
		gpu_buf_grow(b, 1 + klen + GPU_NUM_FMT_MAX);
	if (w->col > 0)
		b->data[b->len++] = ',';
	if (klen > 0)
		memcpy(b->data + b->len, w->keys.data + w->key_off[w->col],
		       klen);
	b->len += klen;
	w->col++;
	return b->data + b->len;
}

void
gpu_writer_i64(struct gpu_writer *w, int64_t v)
{
	char num[GPU_NUM_FMT_MAX], *p = num_field(w);

	if (p != NULL)
		w->row.len += numfmt_i64(v, p);
	else
		field(w, num, numfmt_i64(v, num), K_NUM);
}

void
gpu_writer_double(struct gpu_writer *w, double v)
{
	char num[GPU_NUM_FMT_MAX], *p;
	size_t n;

	if (!isfinite(v)) {
		gpu_writer_null(w);
		return;
	}
	/* Formatted in place; |v| >= 9.2e18 takes the long way. */
	if ((p = num_field(w)) != NULL) {
		if ((n = numfmt_double(v, p)) > 0)
			w->row.len += n;
		else
			gpu_num_fmt_double(&w->row, v);
		return;
	}
	n = numfmt_double(v, num);
	if (n > 0) {
		field(w, num, n, K_NUM);
		return;
	}
	gpu_buf_reset(&w->num);
	gpu_num_fmt_double(&w->num, v);
	field(w, w->num.data, w->num.len, K_NUM);
}

void
gpu_writer_values(struct gpu_writer *w, const struct gpu_value *v, size_t n)
{
	struct gpu_buf *b = &w->row;
	size_t i = 0;

	if (w->fmt == GPU_OUT_CSV && !w->finished && w->col + n <= w->ncols) {
		/*
		 * Room for all, then the bytes written through a local
		 * pointer: a store through b->data would make the compiler
		 * load b's fields again after each byte.
		 */
		size_t room = n * (1 + GPU_NUM_FMT_MAX);
		size_t first; /* where the first field begins */
		char *d;

		open_row(w);
		if (b->len + room + 1 > b->cap)
			gpu_buf_grow(b, room);
		first = b->len;
		d = b->data + b->len;
		for (; i < n; i++) {
			*d++ = ','; /* taken back below before a row's first */
			if (v[i].kind == GPU_VAL_INT) {
				d += numfmt_i64(v[i].i, d);
			} else if (v[i].kind == GPU_VAL_DOUBLE) {
				size_t k = numfmt_double(v[i].d, d);

				if (k > 0) {
					d += k;
					continue;
				}
				if (!isfinite(v[i].d))
					continue; /* null: an empty field */
				/* |v| >= 9.2e18 takes the long way. */
				b->len = (size_t)(d - b->data);
				gpu_num_fmt_double(b, v[i].d);
				if (b->len + room + 1 > b->cap)
					gpu_buf_grow(b, room);
				d = b->data + b->len;
			} else if (v[i].kind == GPU_VAL_CENTS) {
				d += gpu_num_fmt_cents_str(v[i].i, d);
			} /* else null: an empty field */
		}
		if (w->col == 0 && n > 0) { /* the row's first field */
			char *f = b->data + first;

			memmove(f, f + 1, (size_t)(d - f - 1));
			d--;
		}
		b->len = (size_t)(d - b->data);
		b->data[b->len] = '\0';
		w->col += n;
		return;
	}
	for (; i < n; i++)
		if (v[i].kind == GPU_VAL_INT)
			gpu_writer_i64(w, v[i].i);
		else if (v[i].kind == GPU_VAL_CENTS)
			gpu_writer_cents(w, v[i].i);
		else if (v[i].kind == GPU_VAL_DOUBLE)
			gpu_writer_double(w, v[i].d);
		else
			gpu_writer_null(w);
}

void
gpu_writer_cents(struct gpu_writer *w, int64_t cents)
{
	gpu_buf_reset(&w->num);
	gpu_num_fmt_cents(&w->num, cents);
	field(w, w->num.data, w->num.len, K_NUM);
}

void
gpu_writer_num_text(struct gpu_writer *w, const char *text)
{
	size_t n = text != NULL ? strlen(text) : 0;

	if (n == 0)
		gpu_writer_null(w);
	else if (json_number_ok(text, n))
		field(w, text, n, K_NUM);
	else
		field(w, text, n, K_STR);
}

void
gpu_writer_num(struct gpu_writer *w, const char *p, size_t n)
{
	field(w, p, n, K_NUM);
}

void
gpu_writer_null(struct gpu_writer *w)
{
	field(w, "", 0, K_NULL);
}

void
gpu_writer_end_row(struct gpu_writer *w)
{
	if (w->finished)
		return;
	while (w->col < w->ncols)
		gpu_writer_null(w);
	open_row(w);
	if (w->fmt == GPU_OUT_CSV)
		gpu_buf_addc(&w->row, '\n');
	else if (w->fmt == GPU_OUT_JSON)
		gpu_buf_addc(&w->row, '}');
	else if (w->fmt == GPU_OUT_JSONL)
		gpu_buf_add(&w->row, "}\n", 2);
	/*
	 * Rows are handed to fp HOLD bytes at a time, not in one fwrite()
	 * a row (about 130 instructions of stdio's each: 52,200 rows in a
	 * warm hour x node query).
	 */
	if (w->fp != NULL && (w->row.len >= HOLD || w->each_row))
		hand_over(w);
	w->nrows++;
	w->col = 0;
	w->row_open = false;
}

/* Display width: UTF-8 code points. */
static size_t
width(const char *p, size_t n)
{
	size_t i, wd = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)p[i] & 0xc0) != 0x80)
			wd++;
	return wd;
}

static void
pad(struct gpu_buf *b, size_t n)
{
	while (n-- > 0)
		gpu_buf_addc(b, ' ');
}

/* One table line, without trailing spaces. */
static void
table_line(struct gpu_writer *w, const struct cell *row, const size_t *wid,
	   const bool *right, bool header, size_t shown)
{
	struct gpu_buf *b = &w->num;
	size_t i;

	gpu_buf_reset(b);
	for (i = 0; i < shown; i++) {
		const char *p = header ? w->cols[i] : w->text.data + row[i].off;
		size_t n = header ? strlen(w->cols[i]) : row[i].len;
		size_t fill = wid[i] - width(p, n);

		if (i > 0)
			gpu_buf_add(b, "  ", 2);
		if (right[i])
			pad(b, fill);
		gpu_buf_add(b, p, n);
		if (!right[i])
			pad(b, fill);
	}
	while (b->len > 0 && b->data[b->len - 1] == ' ')
		b->len--;
	gpu_buf_addc(b, '\n');
	fwrite(b->data, 1, b->len, w->fp);
}

static void
print_table(struct gpu_writer *w)
{
	size_t *wid = gpu_xcalloc(w->ncols + 1, sizeof(*wid));
	bool *right = gpu_xcalloc(w->ncols + 1, sizeof(*right));
	bool *text = gpu_xcalloc(w->ncols + 1, sizeof(*text));
	size_t i, r, shown = w->ncols, line;

	if (w->ncols == 0)
		goto out;
	for (i = 0; i < w->ncols; i++)
		wid[i] = width(w->cols[i], strlen(w->cols[i]));
	for (r = 0; r < w->nrows; r++) {
		const struct cell *row = w->cells + r * w->ncols;

		for (i = 0; i < w->ncols; i++) {
			size_t wd =
			    width(w->text.data + row[i].off, row[i].len);

			if (wd > wid[i])
				wid[i] = wd;
			if (row[i].kind == K_NUM)
				right[i] = true;
			else if (row[i].kind == K_STR && row[i].len > 0)
				text[i] = true;
		}
	}
	/* A column is right-aligned when all its values are numbers. */
	for (i = 0; i < w->ncols; i++)
		right[i] = right[i] && !text[i];
	for (line = 0, i = 0; i < w->ncols; i++)
		line += wid[i] + (i > 0 ? 2 : 0);
	while (w->max_width > 0 && line > w->max_width && shown > 1 &&
	       shown > w->keep) {
		shown--;
		line -= wid[shown] + 2;
	}
	table_line(w, NULL, wid, right, true, shown);
	for (r = 0; r < w->nrows; r++)
		table_line(w, w->cells + r * w->ncols, wid, right, false,
			   shown);
out:
	free(wid);
	free(right);
	free(text);
}

struct gpu_writer *
gpu_writer_rows_like(const struct gpu_writer *w)
{
	struct gpu_writer *r;

	if (w->fmt != GPU_OUT_CSV && w->fmt != GPU_OUT_JSONL)
		return NULL;
	r = gpu_writer_new(NULL, w->fmt, (const char *const *)w->cols,
			   w->ncols);
	r->csv_safe = w->csv_safe;
	return r;
}

void
gpu_writer_append(struct gpu_writer *w, struct gpu_writer *rows)
{
	if (rows->row.len > 0 && !w->finished) {
		hand_over(w);
		fwrite(rows->row.data, 1, rows->row.len, w->fp);
	}
	w->nrows += rows->nrows;
	gpu_buf_reset(&rows->row);
	rows->nrows = 0;
}

void
gpu_writer_set_max_width(struct gpu_writer *w, size_t width, size_t keep)
{
	w->max_width = width;
	w->keep = keep;
}

int
gpu_writer_finish(struct gpu_writer *w)
{
	if (w->fp == NULL) { /* gpu_writer_rows_like(): nothing to finish */
		w->finished = true;
		return 0;
	}
	if (!w->finished) {
		if (w->row_open || w->col > 0)
			gpu_writer_end_row(w);
		hand_over(w);
		if (w->fmt == GPU_OUT_JSON)
			fputs(w->nrows == 0 ? "[]\n" : "\n]\n", w->fp);
		else if (w->fmt == GPU_OUT_TABLE)
			print_table(w);
		w->finished = true;
	}
	if (fflush(w->fp) != 0 || ferror(w->fp))
		return -1;
	return 0;
}
