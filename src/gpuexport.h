/* SPDX-License-Identifier: MIT */
/* gpuexport's private interface: tables, export state, commits. */
#ifndef GPUEXPORT_H
#define GPUEXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "gpu/buf.h"
#include "gpu/diag.h"
#include "gpu/money.h"
#include "gpu/pages.h"
#include "lake/iceberg.h"
#include "lake/parquet.h"

/* Day number of "no partition" (the jobs table). */
#define EXP_NO_DAY INT32_MIN

struct exp_opts {
	const char *db_path;
	const char *lake;	/* absolute path of the lake directory */
	int64_t from_ms, to_ms; /* days to look at: [from, to) */
	bool rewrite;		/* overwrite every day of [from, to) */
	bool verbose;
	struct lake_pq_opts pq;
	uint64_t file_bytes;	       /* roll data files past this size */
	size_t max_manifests;	       /* merge the manifests past this many */
	const struct gpu_rates *rates; /* bills: resolved as gpubill does */
	bool expire;		       /* expire snapshots after the export */
	int64_t expire_ms;	       /* those older than this */
	size_t retain_last;	       /* but always the last this many */
	size_t threads;		       /* reader and encoder threads */
	int lock_timeout_ms;	       /* for the snapshot's pin */
};

/* One value of a row, as a source produces it. */
struct exp_val {
	const char *s; /* strings: borrowed until the next row */
	size_t n;
	union {
		int64_t i; /* integers; timestamps in epoch ms */
		double d;
	};
	bool null;
	bool stable; /* s lives as long as the dimensions (a name) */
};

/* A dimension's name and its length. */
struct exp_name {
	char *s; /* NULL: no such key */
	size_t n;
};

/* Names of the integer keys of the dimensions, loaded once per run, and
 * the rates the bills are priced with. */
struct exp_dims {
	struct exp_name *node, *name, *job; /* indexed by key */
	size_t nnode, nname, njob;
	const struct gpu_rates *rates;
};

struct exp_table;
struct exp_bills;

/*
 * A row source over one partition (a day, or the whole table): prepared
 * with the day's bounds, then stepped. digest selects the rows that
 * identify the partition's content (hourly: usage_daily) instead of those
 * exported.
 */
struct exp_source {
	const struct exp_table *t;
	const struct exp_dims *dims;
	sqlite3_stmt *st;
	struct exp_val *vals;
	unsigned char *ops; /* how each column is read (read_cols) */
	/*
	 * Rows read as the arguments of a function of the connection
	 * (exp_source_read_cols() only), put where into says.
	 */
	bool by_fn;
	struct exp_into *into;
	bool has_job_src;
	bool packed; /* the range reaches packed samples: no pages */
	struct exp_bills *bills; /* the bills table: rows computed, not read */
	/*
	 * Rows read from the table's pages (t->page_table) while pages is
	 * open: each column's record field (-1: NULL), the range [lo, hi) of
	 * the first key column, rows given since the range began. A page or
	 * value the reader does not take closes it, and st goes on from there.
	 */
	struct gpu_pages *pages;
	struct gpu_pval *pv;
	int *fmap;
	int new_field;
	bool new_only, pages_end;
	int64_t lo, hi, watermark;
	size_t given;
	uint64_t page_rows; /* rows given from the pages in all */
	const char *why;    /* why not, or not throughout (static) */
};

/*
 * Rows that the sources closed since the last call read from their
 * table's pages, and why one did not, or not throughout (NULL: none).
 */
uint64_t exp_pages_taken(const char **why);

/*
 * How new data is found: by watermark (facts: days of ingests newer than
 * the last export, appended or overwritten per the ingest counts), or by a
 * digest of each partition's rows (hourly, jobs), overwritten on change.
 */
enum exp_mode { EXP_BY_INGEST, EXP_BY_DIGEST };

/*
 * How a selected column becomes a value: as it is, a key's name, a MIG
 * instance ('' is NULL, else an integer) or a share in 28ths (NULL: 1).
 */
enum exp_kind { EXP_RAW, EXP_NODE, EXP_NAME, EXP_JOB, EXP_MIG, EXP_SHARE28 };

struct exp_table {
	const char *name; /* --table name and directory name */
	struct lake_schema schema;
	enum exp_mode mode;
	const unsigned char *kinds; /* one per field */
	/*
	 * rows of [?1, ?2) in a stable order; "@JOB_SRC@": job_src or NULL;
	 * NULL: the rows are a month's bill (exp_bills_open())
	 */
	const char *sql;
	const char *sql_new;	/* the same, of ingests after ?3 only */
	const char *digest_sql; /* rows whose digest stands for the day */
	const char *days_sql;	/* partition values with rows in [?1, ?2) */
	bool on_request;	/* exported when named, not by "all" */
	/*
	 * The WITHOUT ROWID table whose pages sql reads, in its key order,
	 * and its columns in sql's order ("job_src" NULL without it), with
	 * sql_new's "ingest_id > ?3" on page_new; NULL: read by statement.
	 */
	const char *page_table;
	const char *const *page_cols;
	const char *page_new;
};

/* The tables, in export order, and their lookup by name (NULL: none). */
extern const struct exp_table exp_tables[];
extern const size_t exp_ntables;
const struct exp_table *exp_table_find(const char *name);

/* Load and free the dimension names. Returns 0 or -1 with err. */
int exp_dims_load(sqlite3 *db, struct exp_dims *d, struct gpu_err *err);
void exp_dims_free(struct exp_dims *d);

/*
 * Open a source over the rows of partition day (EXP_NO_DAY: all) of t;
 * new_only: only rows of ingests after watermark (facts). digest: the
 * rows that fingerprint the partition, read with exp_source_next(); else
 * the rows exported, read with exp_source_read_cols() (which registers a
 * function on db for the source's life). Returns 0 or -1 with err.
 */
int exp_source_open(struct exp_source *src, sqlite3 *db,
		    const struct exp_table *t, const struct exp_dims *dims,
		    int32_t day, bool digest, bool new_only, int64_t watermark,
		    struct gpu_err *err);

/*
 * The bills of month (months since 1970-01) as src's rows: gpubill's job
 * lines of that month, priced with src->dims->rates. Returns 0, or -1 with
 * err filled (database error, an amount beyond decimal(18,2)).
 */
int exp_bills_open(struct exp_source *src, sqlite3 *db, int32_t month,
		   struct gpu_err *err);
int exp_bills_next(struct exp_source *src);
void exp_bills_close(struct exp_source *src);

/* Epoch ms of the first instant of month (months since 1970-01). */
int64_t exp_month_start_ms(int32_t month);

/* Next row into src->vals: 1, 0 at the end, -1 on error (err filled). */
int exp_source_next(struct exp_source *src, struct gpu_err *err);

/*
 * One column of a batch being read: an array per row of NULL flags and of
 * values of the column's type (i also holds copied strings' offsets).
 */
struct exp_col {
	unsigned char *present; /* 1 value, 0 NULL */
	int64_t *i;		/* integers (timestamps in microseconds) */
	double *d;
	struct lake_str *s; /* strings; p NULL: copied, at text + i */
};

/* Where a row of exp_source_read_cols() goes. */
struct exp_into {
	struct exp_col *cols;
	size_t r;
	struct gpu_buf *text;
	bool *copied;
};

/*
 * Read the next row into row r of cols (nfields of them), as the writer
 * takes it (timestamps in microseconds, names resolved); a string that
 * does not live as long as the dimensions is copied into text (and
 * *copied set). Returns 1, 0 at the end, -1 on error (err filled).
 */
int exp_source_read_cols(struct exp_source *src, struct exp_col *cols, size_t r,
			 struct gpu_buf *text, bool *copied,
			 struct gpu_err *err);

/* The same, into out (nfields values) instead of src->vals. */
int exp_source_read(struct exp_source *src, struct exp_val *out,
		    struct gpu_err *err);
void exp_source_close(struct exp_source *src);

/* Rebind src's range to [lo_ms, hi_ms) of its ordering key and restart it. */
void exp_source_range(struct exp_source *src, int64_t lo_ms, int64_t hi_ms);

/*
 * Read partition day of t (as exp_source_open() does) on reader threads,
 * one per connection of dbs[0..ndbs): with more than one, the day is read
 * as chunks of its ordering key, each connection reading every ndbs-th
 * chunk (the connections must share one snapshot: exp_readers_begin()).
 * The caller must leave the connections alone until exp_pipe_stop().
 * Returns the pipe, or NULL with err filled.
 */
struct exp_pipe;
struct exp_pipe *exp_pipe_start(sqlite3 *const *dbs, size_t ndbs,
				const struct exp_table *t,
				const struct exp_dims *dims, int32_t day,
				bool new_only, int64_t watermark,
				struct gpu_err *err);

/* Rows as column arrays, the form lake_pq_put_batch() takes. */
struct exp_batch {
	size_t rows;
	const struct lake_pq_col *cols; /* one per field */
};

/*
 * The next batch of rows (borrowed until the next call), in the order one
 * statement over the day gives them, timestamps in microseconds: 1, 0 at
 * the end, -1 on error (a NULL in a required column too) with err filled.
 * exp_pipe_stop() ends the threads and frees the pipe (NULL: no-op).
 */
int exp_pipe_batch(struct exp_pipe *p, const struct exp_batch **batch,
		   struct gpu_err *err);
void exp_pipe_stop(struct exp_pipe *p);

/*
 * Begin a read transaction on db and, when n > 1, open up to n read-only
 * connections to its file reading the same snapshot (*out, *nout of them;
 * none when a writer holds the warehouse, or fewer than two could be
 * opened). Returns 0, or -1 with err filled when db's transaction could
 * not begin. exp_readers_end() rolls back, closes and frees them.
 */
int exp_readers_begin(sqlite3 *db, size_t n, int timeout_ms, sqlite3 ***out,
		      size_t *nout, struct gpu_err *err);
void exp_readers_end(sqlite3 **v, size_t n);

/* Whether the warehouse's fact table has the job_src column (v4). */
bool exp_has_job_src(sqlite3 *db);

/* One live data file of a table, as the export state holds it. */
struct exp_file {
	char *path; /* URI */
	char *manifest;
	int32_t day;
	int64_t rows, size, seq, file_seq, snapshot;
	struct gpu_buf data_file; /* its encoded data_file record */
	bool removed;		  /* overwritten by this commit */
	bool moved;		  /* rewritten into another manifest */
};

/* One live manifest and its manifest-list record. */
struct exp_manifest {
	char *path;
	struct gpu_buf record;
	int64_t live; /* ADDED + EXISTING entries */
	bool removed; /* rewritten or dropped by this commit */
};

/* One committed metadata version (v1: the table, no snapshot). */
struct exp_version {
	int version;
	int64_t snapshot, parent, seq, ts_ms, watermark;
	char *manifest_list, *summary, *metadata_file;
};

/* The export state of one table, loaded from the warehouse. */
struct exp_state {
	char uuid[37];
	char *location; /* URI of the table directory */
	struct exp_version *versions;
	size_t nversions;
	struct exp_file *files;
	size_t nfiles;
	struct exp_manifest *manifests;
	size_t nmanifests;
};

/* Create the state tables if missing. Returns 0 or -1 with err. */
int exp_state_init(sqlite3 *db, struct gpu_err *err);

/*
 * Settle an interrupted commit of table t in dir: promote it if the lake
 * has it (returns 1), else forget it and remove its files (returns 0, also
 * when there was none). Returns -1 with err on failure.
 */
int exp_state_recover(sqlite3 *db, const char *lake, const char *dir,
		      const struct exp_table *t, bool verbose,
		      struct gpu_err *err);

/*
 * Refuse to export t into lake when the warehouse records a committed
 * version of it there whose metadata file is gone (the lake's folder
 * deleted or moved): a commit on that state would name files that no
 * longer exist. Returns 0, or -1 with err saying what to do.
 */
int exp_state_check_lake(sqlite3 *db, const char *lake,
			 const struct exp_table *t, struct gpu_err *err);

/* Load t's committed state (empty when never exported). */
int exp_state_load(sqlite3 *db, const char *lake, const struct exp_table *t,
		   struct exp_state *s, struct gpu_err *err);
void exp_state_free(struct exp_state *s);

/*
 * The digest stored for partition day of t ("" when none) and the ingest
 * watermark its rows were exported at (0 when none).
 */
int exp_state_digest(sqlite3 *db, const char *lake, const struct exp_table *t,
		     int32_t day, char hex[65], int64_t *watermark,
		     struct gpu_err *err);

/* Record that version of t (committed) covers ingests up to watermark. */
int exp_state_set_watermark(sqlite3 *db, const char *lake,
			    const struct exp_table *t, int version,
			    int64_t watermark, struct gpu_err *err);

/* What one commit changes, recorded as pending before the lake commit. */
struct exp_change {
	struct exp_version v;
	const char *sha256; /* of the metadata text */
	const struct exp_file *added;
	size_t nadded;
	const struct exp_manifest *new_manifests;
	size_t nnew;
	int32_t *digest_days;
	char (*digests)[65];
	int64_t *day_marks; /* ingest watermark of each day's rows */
	size_t ndigests;
	bool create; /* also record the table (uuid, location) */
};

/*
 * Record change as the pending version of t (removing, for that version,
 * the files and manifests s marks removed). Returns 0 or -1 with err.
 */
int exp_state_pending(sqlite3 *db, const char *lake, const struct exp_table *t,
		      const struct exp_state *s, const struct exp_change *c,
		      struct gpu_err *err);

/* Mark pending version of t committed. Returns 0 or -1 with err. */
int exp_state_promote(sqlite3 *db, const char *lake, const struct exp_table *t,
		      int version, struct gpu_err *err);

/*
 * Render the metadata of s's versions from index first on, plus version v
 * (the new current one), into out; a version that repeats the snapshot of
 * the one before lists it once.
 */
void exp_render(const struct exp_table *t, const struct exp_state *s,
		size_t first, const struct exp_version *v, struct gpu_buf *out);

/*
 * Record c as pending, commit text to the lake's table directory dir as
 * version c->v.version, promote. Returns 0; -1 when the lake did not take
 * the version; or 1 when it did but the warehouse could not record it (err
 * filled): the next run promotes the pending version.
 */
int exp_commit(sqlite3 *db, const char *lake, const char *dir,
	       const struct exp_table *t, const struct exp_state *s,
	       struct exp_change *c, const struct gpu_buf *text,
	       struct gpu_err *err);

/*
 * Expire the snapshots of t older than o->expire_ms but the last
 * o->retain_last (and the current one): commit metadata without them,
 * then delete the files only they reached. *expired counts the snapshots
 * expired. Returns 0 or -1 with err.
 */
int exp_expire_table(sqlite3 *db, const struct exp_opts *o,
		     const struct exp_table *t, size_t *expired,
		     struct gpu_err *err);

/*
 * Delete what an expiry of t left to delete: the files of expired versions
 * and those no retained version reaches, then forget them. Idempotent (a
 * run killed half-way is finished by the next). Returns 0 or -1 with err.
 */
int exp_state_collect(sqlite3 *db, const char *lake, const struct exp_table *t,
		      struct gpu_err *err);

/*
 * Mark the committed versions of t before version vmin expired (gone from
 * the metadata; their files are collected by exp_state_collect()).
 */
int exp_state_expire(sqlite3 *db, const char *lake, const struct exp_table *t,
		     int vmin, struct gpu_err *err);

/* Export table t; *exported counts the rows written. Returns 0 or -1. */
int exp_run_table(sqlite3 *db, const struct exp_opts *o,
		  const struct exp_table *t, uint64_t *exported,
		  struct gpu_err *err);

#endif
