/* SPDX-License-Identifier: MIT */
/* Writers of result rows: CSV (RFC 4180), JSON, JSON Lines, aligned tables. */
#ifndef GPU_WRITER_H
#define GPU_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gpu/sums.h"

enum gpu_ofmt { GPU_OUT_CSV, GPU_OUT_JSON, GPU_OUT_JSONL, GPU_OUT_TABLE };

/* Map "csv", "json", "jsonl", "table" to a format. Returns 0 or -1. */
int gpu_ofmt_parse(const char *s, enum gpu_ofmt *f);

struct gpu_writer;

/*
 * A writer of rows with the given column names (copied) to fp (not closed).
 * CSV prints the header row at once (RFC 4180, "\n" line ends, quotes only
 * around a comma, quote, CR, LF or a leading/trailing space). JSON prints
 * "[\n{...},\n{...}\n]\n" (or "[]\n"), keys in column order; JSON Lines
 * one object per line; strings are escaped (\u00XX for control bytes, an
 * invalid UTF-8 byte as U+FFFD). A table buffers rows to align them at
 * finish: two spaces between columns, a column of numbers right-aligned,
 * text left-aligned, nulls blank. Never fails (allocation exits); free with
 * gpu_writer_free(), which accepts NULL.
 */
struct gpu_writer *gpu_writer_new(FILE *fp, enum gpu_ofmt fmt,
				  const char *const *cols, size_t ncols);
void gpu_writer_free(struct gpu_writer *w);

/*
 * Whether text would be read as a formula by a spreadsheet: it begins
 * with '=', '+', '-', '@', a tab or a carriage return (OWASP, CSV
 * injection).
 */
bool gpu_csv_is_formula(const char *p, size_t n);

/*
 * With on, a CSV text cell for which gpu_csv_is_formula() holds is written
 * quoted with a "'" before its text ("=1+1" becomes "'=1+1"), which
 * spreadsheets show as text. Numbers and the header are never changed.
 * Set it before the first row.
 */
void gpu_writer_csv_safe(struct gpu_writer *w, bool on);

/* Add the next field of the current row, in column order (fields past the
 * last column are ignored). A string is quoted as needed; numbers print as
 * numbers in JSON; null is an empty CSV field and JSON null; a non-finite
 * double is null. num_text is an already formatted number: "" is null, and
 * text that is not a JSON number is written as a string. */
void gpu_writer_str(struct gpu_writer *w, const char *p, size_t len);
void gpu_writer_i64(struct gpu_writer *w, int64_t v);
void gpu_writer_double(struct gpu_writer *w, double v); /* <= 6 decimals */
void gpu_writer_cents(struct gpu_writer *w, int64_t cents); /* "12.34" */
void gpu_writer_num_text(struct gpu_writer *w, const char *text);
/* p[0..n): a number as gpu_num_fmt_*_str() writes it, taken as it is. */
void gpu_writer_num(struct gpu_writer *w, const char *p, size_t n);
void gpu_writer_null(struct gpu_writer *w);

/*
 * Whether text p[0..n) is plain: not empty, only ASCII letters, digits
 * and "-.:_/", not a formula (gpu_csv_is_formula()), so that every format
 * writes it as it is, quoted in JSON. gpu_writer_plain() writes such
 * text as gpu_writer_str() does, without looking at each byte again: a
 * bucket's label checked once for its rows, a name once when loaded.
 */
bool gpu_writer_plain_ok(const char *p, size_t n);
void gpu_writer_plain(struct gpu_writer *w, const char *p, size_t len);

/*
 * The next n fields: v[i] as gpu_writer_i64(), gpu_writer_double(),
 * gpu_writer_cents() or gpu_writer_null() writes it, by its kind. The same bytes as those
 * calls, in one: a CSV row makes room for the numbers once, not at each.
 */
void gpu_writer_values(struct gpu_writer *w, const struct gpu_value *v,
		       size_t n);

/*
 * End the current row; missing fields are null. CSV, JSON and JSON Lines
 * rows reach fp 32 KiB at a time (each at once when fp is a terminal),
 * the rest at gpu_writer_append() or gpu_writer_finish(): whatever else
 * writes to fp comes before the header or after the finish.
 */
void gpu_writer_end_row(struct gpu_writer *w);

/*
 * A table drops its last columns, but never the first keep, while its
 * lines would be wider than width characters (0: no limit, the default).
 * The other formats ignore it.
 */
void gpu_writer_set_max_width(struct gpu_writer *w, size_t width, size_t keep);

/*
 * A writer of w's rows (format, columns, csv_safe) that keeps them in
 * memory, without a header, for gpu_writer_append() to write to w's
 * stream later: rows made on another thread. Only for CSV and JSON Lines,
 * whose rows do not depend on the rows before them; NULL for the others.
 */
struct gpu_writer *gpu_writer_rows_like(const struct gpu_writer *w);

/* Write the rows that rows (from gpu_writer_rows_like()) holds to w's
 * stream, after w's rows so far, and empty rows. Such a writer is freed
 * with gpu_writer_free(); gpu_writer_finish() ends it without output. */
void gpu_writer_append(struct gpu_writer *w, struct gpu_writer *rows);

/* Finish the output (close the JSON array, print the table). Returns 0, or
 * -1 when fp reports a write error. */
int gpu_writer_finish(struct gpu_writer *w);

#endif
