/* SPDX-License-Identifier: MIT */
/* A streaming Parquet writer: flat schemas, data page v1, one row group
 * buffered at a time. */
#ifndef LAKE_PARQUET_H
#define LAKE_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/buf.h"
#include "gpu/diag.h"

/* Column types, as Iceberg names them. */
enum lake_type {
	LAKE_INT,	  /* INT32 */
	LAKE_LONG,	  /* INT64 */
	LAKE_DOUBLE,	  /* DOUBLE */
	LAKE_STRING,	  /* BYTE_ARRAY, STRING (UTF8) */
	LAKE_TIMESTAMPTZ, /* INT64, TIMESTAMP(MICROS, isAdjustedToUTC) */
	LAKE_DATE,	  /* INT32, DATE */
	LAKE_DECIMAL	  /* INT64, DECIMAL(18, 2): money as exact cents */
};

/*
 * The one decimal type: Iceberg decimal(18,2), an INT64 of hundredths (the
 * physical type Iceberg's writers use up to 18 digits), so that Spark,
 * Trino and DuckDB read money as exact DECIMAL(18,2) amounts.
 */
#define LAKE_DECIMAL_PRECISION 18
#define LAKE_DECIMAL_SCALE 2

/* Parquet codec ids. */
enum lake_codec {
	LAKE_CODEC_NONE = 0,
	LAKE_CODEC_SNAPPY = 1,
	LAKE_CODEC_ZSTD = 6
};

/* One column of a flat schema; id is the Iceberg field id. */
struct lake_field {
	const char *name;
	int id;
	enum lake_type type;
	bool required;
};

struct lake_pq_opts {
	enum lake_codec codec;
	int zstd_level;		/* 0: 1 */
	size_t row_group_bytes; /* buffered bytes per row group; 0: 128 MiB */
	size_t page_bytes;	/* value bytes per data page; 0: 1 MiB */
	const char *created_by; /* "APP version X.Y.Z" form */
	const char *kv_key;	/* one key-value pair for the footer, or NULL */
	const char *kv_value;
	size_t threads; /* encode a row group's columns on this many; 0: 1 */
};

/* The most encoding threads a writer uses. */
#define LAKE_PQ_MAX_THREADS 64

/* Whole-file statistics of one column, as Iceberg's manifest wants them. */
struct lake_pq_colstats {
	uint64_t values; /* rows, nulls included */
	uint64_t nulls;
	uint64_t nans;
	uint64_t
	    bytes; /* compressed size of its chunks, page headers included */
	bool has_bounds;
	struct gpu_buf lower; /* PLAIN bytes (no length prefix for strings) */
	struct gpu_buf upper;
};

struct lake_pq;

/*
 * Create the file path (it must not exist) and start writing fields[0..n)
 * (the array and its strings must outlive the writer). Returns the writer
 * (free with lake_pq_free()), or NULL with err filled.
 */
struct lake_pq *lake_pq_open(const char *path, const struct lake_field *fields,
			     size_t n, const struct lake_pq_opts *opts,
			     struct gpu_err *err);

/*
 * Set column col of the current row. Each column takes exactly one value
 * per row; lake_pq_null() is for optional columns only. The setter must
 * match the column's type (LAKE_TIMESTAMPTZ takes microseconds, LAKE_DATE
 * days, LAKE_DECIMAL hundredths through lake_pq_i64()). A string is copied.
 */
void lake_pq_null(struct lake_pq *pq, size_t col);
void lake_pq_i32(struct lake_pq *pq, size_t col, int32_t v);
void lake_pq_i64(struct lake_pq *pq, size_t col, int64_t v);
void lake_pq_double(struct lake_pq *pq, size_t col, double v);
void lake_pq_str(struct lake_pq *pq, size_t col, const char *p, size_t len);

/*
 * lake_pq_str() of a string that stays valid and unchanged for the
 * writer's life and is passed at the same address whenever it is equal
 * (an interned name): a repeat of the value before costs no comparison.
 */
void lake_pq_str_stable(struct lake_pq *pq, size_t col, const char *p,
			size_t len);

/*
 * End the current row; writes out the row group once it has grown to
 * opts->row_group_bytes. Returns 0, or -1 with err filled (write error).
 */
int lake_pq_end_row(struct lake_pq *pq, struct gpu_err *err);

/* A string of a batch column: its bytes and length. */
struct lake_str {
	const char *p;
	size_t n;
};

/*
 * One column of a row batch for lake_pq_put_batch(): one element per row
 * in i (integer types; LAKE_INT and LAKE_DATE within int32, LAKE_TIMESTAMPTZ
 * in microseconds, LAKE_DECIMAL in hundredths), d (LAKE_DOUBLE) or s
 * (LAKE_STRING), per the column's type. present[r] is 1 for a value, 0 for
 * a NULL (optional columns only); present NULL: no NULLs. stable: the
 * strings are interned, as lake_pq_str_stable() takes them.
 */
struct lake_pq_col {
	const unsigned char *present;
	const int64_t *i;
	const double *d;
	const struct lake_str *s;
	bool stable;
};

/*
 * Append rows [first, first + n) of a batch given as one array per column
 * (cols[0..ncols)): the same file as the row-wise setters and
 * lake_pq_end_row() row by row (the same row group cuts), with each
 * column's values appended in a loop of their own. Stops after the row
 * that brings lake_pq_size() to stop (0: never), as a caller that rolls
 * files checks after each row. *taken counts the rows appended. Returns 0,
 * or -1 with err filled (write error).
 */
int lake_pq_put_batch(struct lake_pq *pq, const struct lake_pq_col *cols,
		      size_t first, size_t n, uint64_t stop, size_t *taken,
		      struct gpu_err *err);

/* Rows ended so far, and bytes written plus bytes buffered. */
uint64_t lake_pq_rows(const struct lake_pq *pq);
uint64_t lake_pq_size(const struct lake_pq *pq);

/*
 * Write the last row group and the footer, fsync and close the file.
 * Returns 0, or -1 with err filled; either way only lake_pq_free() and the
 * accessors below may follow.
 */
int lake_pq_finish(struct lake_pq *pq, struct gpu_err *err);

/* After lake_pq_finish(): the file's size, its row group offsets (borrowed,
 * *n of them) and one column's statistics (borrowed). */
uint64_t lake_pq_file_size(const struct lake_pq *pq);
const int64_t *lake_pq_row_groups(const struct lake_pq *pq, size_t *n);
const struct lake_pq_colstats *lake_pq_stats(const struct lake_pq *pq,
					     size_t col);

/* Close (if still open) and free the writer; the file is left as it is.
 * NULL is a no-op. */
void lake_pq_free(struct lake_pq *pq);

/*
 * Append n values (elements of elem_size 1 or 4 bytes) in Parquet's
 * RLE/bit-packed hybrid encoding with bit width bw (1..32), no length
 * prefix.
 */
void lake_rle_encode(struct gpu_buf *out, const void *v, size_t elem_size,
		     size_t n, int bw);

/* Parse "zstd", "snappy" or "none". Returns 0 or -1. */
int lake_codec_parse(const char *s, enum lake_codec *c);

#endif
