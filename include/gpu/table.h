/* SPDX-License-Identifier: MIT */
/* The generic table reader: rows of CSV or JSON Lines input, streamed. */
#ifndef GPU_TABLE_H
#define GPU_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#include "gpu/diag.h"
#include "gpu/sample.h"

enum gpu_format {
	GPU_FMT_AUTO,
	GPU_FMT_CSV,
	GPU_FMT_JSONL,
	GPU_FMT_PROMETHEUS
};

/* Map "auto", "csv", "jsonl" (also "json") to a format. Returns 0 or -1. */
int gpu_format_parse(const char *s, enum gpu_format *f);

/* Longest accepted field, in bytes; longer is a fatal error for the file. */
#define GPU_FIELD_MAX (1024 * 1024)

/*
 * Generic rows of a CSV (RFC 4180, any one-byte delimiter) or JSON Lines
 * input, in constant memory. Columns are named by the header row, by
 * opts.columns for headerless input, or (JSON Lines) by the names passed in
 * opts.names. Used for job records, sacct output and gpuagg's CSV.
 */
struct gpu_table_opts {
	enum gpu_format format;
	char delim;		  /* 0: ',' */
	bool no_header;		  /* CSV without a header row: use columns */
	const char *columns;	  /* comma-separated names for headerless CSV */
	bool trim_space;	  /* unused: spaces and tabs around unquoted
				   * fields are always dropped (nvidia-smi) */
	const char *const *names; /* JSONL: the known keys, NULL-terminated */
};

/* One row. Everything is borrowed until the next gpu_table_next(). */
struct gpu_row {
	long line; /* physical line where the row starts */
	size_t nfields;
	const struct gpu_str
	    *fields; /* by column index; absent JSON key: len 0 */
	const bool
	    *present;	    /* JSONL: key present and not null; CSV: all true */
	struct gpu_str raw; /* the row's raw text, without line end */
	const char *bad;    /* non-NULL: a structural reject reason */
	int nested_col;	    /* bad for a nested or boolean JSON value: the first
			     * column holding one; else -1 */
};

struct gpu_table;

/*
 * A rejected row, as the record readers over a table (samples, job
 * records, allocations) hand it out: physical line where it starts, static
 * reason text, raw row text. Reasons name the column ("missing util_pct",
 * "invalid gpu", ...; see each reader) or are the structural ones of
 * gpu_table_next().
 */
struct gpu_reject {
	long line;
	const char *reason; /* borrowed; e.g. "util_pct out of range" */
	struct gpu_str raw; /* borrowed until the next call */
};

/* What a record reader's next() returns (besides -1: a fatal error). */
enum { GPU_READ_EOF = 0, GPU_READ_SAMPLE = 1, GPU_READ_REJECT = 2 };

/*
 * Open a table over fp (not closed by the table) named source in messages.
 * Reads the header row (CSV); header names are trimmed, and an empty last
 * name (a trailing delimiter, as in sacct -p) is dropped, after which a
 * trailing empty field of a row is dropped too (also for headerless input
 * with a delimiter other than ','). Skips a UTF-8 BOM and blank lines.
 * Returns NULL with err filled for an empty input, an unreadable header
 * (bad quoting, binary data, over 1024 columns), or a field longer than
 * GPU_FIELD_MAX. Free with gpu_table_free(); gpu_table_free(NULL) is a no-op.
 */
struct gpu_table *gpu_table_new(FILE *fp, const char *source,
				const struct gpu_table_opts *opts,
				struct gpu_err *err);
void gpu_table_free(struct gpu_table *t);

/* Column count and names (borrowed, valid for the table's life). */
size_t gpu_table_ncols(const struct gpu_table *t);
const char *gpu_table_colname(const struct gpu_table *t, size_t i);

/* Index of a column by case-insensitive name, or -1. */
int gpu_table_col(const struct gpu_table *t, const char *name);

/*
 * Read the next row. Returns 1 and fills row, 0 at end of input, -1 on a
 * fatal error (I/O, field over GPU_FIELD_MAX, JSON line over 1 MiB) with
 * err filled. A row with bad structure is returned with row->bad set to a
 * static reason ("wrong number of fields", "malformed CSV quoting",
 * "invalid JSON", "JSON line is not an object", "nested JSON value"); the
 * caller rejects it and goes on. Blank lines are skipped. Raw text is
 * capped at 64 KiB. Memory stays bounded whatever the input size.
 */
int gpu_table_next(struct gpu_table *t, struct gpu_row *row,
		   struct gpu_err *err);

/*
 * Check a list of column names as opts.columns takes it, so that a tool
 * can refuse a bad --columns before reading any input. Returns 0, or -1
 * with err filled as gpu_table_new() would fill it ("empty column name in
 * 'a,,b'", "too many columns in '...'").
 */
int gpu_table_check_columns(const char *list, struct gpu_err *err);

/* Case-insensitive (ASCII) equality of p[0..n) and the C string name. */
bool gpu_table_name_eq(const char *p, size_t n, const char *name);

/* The longest text value of a record (job ID, user, project), in bytes. */
#define GPU_TEXT_MAX 128

/*
 * Field col of row, or an empty value when col is negative (no such
 * column), past the row's end, or absent (a JSON key missing or null).
 * Borrowed as row is.
 */
struct gpu_str gpu_row_field(const struct gpu_row *row, int col);

/*
 * Is v absent: empty, "[N/A]", "N/A" or "[Not Supported]" (any case), and
 * with is_time also "Unknown" or "None", as Slurm prints a time not set?
 */
bool gpu_value_absent(struct gpu_str v, bool is_time);

/*
 * Check a text value of a record: ctrl when it holds a control character,
 * else too_long when over GPU_TEXT_MAX bytes (NULL: no length limit), else
 * NULL. The reasons are the caller's static strings.
 */
const char *gpu_text_check(struct gpu_str v, const char *too_long,
			   const char *ctrl);

/*
 * Whether the bytes read so far end with '\n' (true before any). Once
 * gpu_table_next() has returned 0, false means the input was cut short
 * of its final newline, as a producer killed mid-write leaves it.
 */
bool gpu_table_ends_in_newline(const struct gpu_table *t);

/* The format read (never GPU_FMT_AUTO after gpu_table_new()). */
enum gpu_format gpu_table_format(const struct gpu_table *t);

/* The source name given to gpu_table_new() (borrowed). */
const char *gpu_table_source(const struct gpu_table *t);

/* The line of the header row (0 for JSON Lines and headerless input). */
long gpu_table_header_line(const struct gpu_table *t);

/* Bytes consumed so far (for a progress display). */
long long gpu_table_offset(const struct gpu_table *t);

/*
 * From now on, collect the JSON keys that are not in opts.names as
 * unknown, starting with those of the first line (read ahead, not
 * consumed), so that a tool can warn before reading.
 */
void gpu_table_collect_unknown(struct gpu_table *t);

/*
 * The names collected as unknown, comma-separated ("" if none): JSON keys
 * (see gpu_table_collect_unknown()) and the names given to
 * gpu_table_add_unknown(). Borrowed until the next gpu_table_next(). The
 * list is capped at 4 KiB.
 */
const char *gpu_table_unknown(const struct gpu_table *t);

/* Add name (a column the caller ignores) to the unknown list, once. */
void gpu_table_add_unknown(struct gpu_table *t, const char *name);

#endif
