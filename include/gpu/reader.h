/* SPDX-License-Identifier: MIT */
/* Streaming readers: generic CSV/JSONL rows, and raw samples (SPEC.md 1). */
#ifndef GPU_READER_H
#define GPU_READER_H

#include <stdbool.h>
#include <stdio.h>

#include "gpu/diag.h"
#include "gpu/sample.h"

enum gpu_format { GPU_FMT_AUTO, GPU_FMT_CSV, GPU_FMT_JSONL };

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
	char delim;		/* 0: ',' */
	bool no_header;		/* CSV without a header row: use columns */
	const char *columns;	/* comma-separated names for headerless CSV */
	bool trim_space;	/* unused: spaces and tabs around unquoted
				 * fields are always dropped (nvidia-smi) */
	const char *const *names; /* JSONL: the known keys, NULL-terminated */
};

/* One row. Everything is borrowed until the next gpu_table_next(). */
struct gpu_row {
	long line;		 /* physical line where the row starts */
	size_t nfields;
	const struct gpu_str *fields; /* by column index; absent JSON key: len 0 */
	const bool *present;	 /* JSONL: key present and not null; CSV: all true */
	struct gpu_str raw;	 /* the row's raw text, without line end */
	const char *bad;	 /* non-NULL: a structural reject reason */
};

struct gpu_table;

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
 * Raw sample reader. Detects CSV or JSON Lines from the first non-blank byte
 * unless opts.format says; reads nvidia-smi CSV as is (header names mapped,
 * units stripped, ", " separators); takes node from opts.node when the input
 * has none and the timestamp from opts.at_ms when it has none.
 */
struct gpu_reader_opts {
	enum gpu_format format;
	const char *node;	/* --node: host for inputs without a node column */
	const char *columns;	/* --columns: names for headerless input */
	bool has_at;		/* --at: timestamp for inputs without one */
	int64_t at_ms;
};

struct gpu_reader;

/*
 * Open a sample reader over fp (not closed), named source in messages
 * ("<stdin>" for standard input). Returns NULL with err filled (source and
 * header line set) when the input cannot be read as samples at all: empty
 * input, a missing required column ("missing required column 'util_pct'";
 * for node and timestamp the message suggests --node / --at), a duplicate
 * column, an invalid opts.node. Header names are matched case-insensitively,
 * nvidia-smi names included (a "[unit]" suffix is ignored). opts.node and
 * opts.at_ms fill any row whose node / timestamp is absent. Unknown columns
 * are collected; see gpu_reader_unknown(). Free with gpu_reader_free().
 */
struct gpu_reader *gpu_reader_new(FILE *fp, const char *source,
				  const struct gpu_reader_opts *opts,
				  struct gpu_err *err);
void gpu_reader_free(struct gpu_reader *r);

/*
 * A rejected row: physical line where it starts, static reason text, raw
 * row text. Reasons name the column: "missing util_pct", "invalid gpu",
 * "util_pct out of range", "node too long", "control character in node",
 * "invalid UTF-8 in user", "mem_used_mib above mem_total_mib", "invalid
 * timestamp", "timestamp out of range", and the structural ones of
 * gpu_table_next().
 */
struct gpu_reject {
	long line;
	const char *reason;	 /* borrowed; e.g. "util_pct out of range" */
	struct gpu_str raw;	 /* borrowed until the next call */
};

enum { GPU_READ_EOF = 0, GPU_READ_SAMPLE = 1, GPU_READ_REJECT = 2 };

/*
 * Read the next row: GPU_READ_SAMPLE fills s (and *line), GPU_READ_REJECT
 * fills rej, GPU_READ_EOF at the end, -1 on a fatal error with err filled.
 * Everything filled is borrowed until the next call.
 */
int gpu_reader_next(struct gpu_reader *r, struct gpu_sample *s, long *line,
		    struct gpu_reject *rej, struct gpu_err *err);

/* Comma-separated names of the columns the reader ignored ("" if none).
 * Borrowed, valid until the next gpu_reader_next(). For JSON Lines the
 * unknown keys of the first line are known after gpu_reader_new(); later
 * lines may add more (a tool may ask again at the end). Tools warn once. */
const char *gpu_reader_unknown(const struct gpu_reader *r);

/* Raw text of the physical line where the current row starts is in the
 * reject; this returns how many bytes have been consumed so far (for a
 * progress display). */
long long gpu_reader_offset(const struct gpu_reader *r);

#endif
