/* SPDX-License-Identifier: MIT */
/*
 * Packed samples (gpuingest --pack-raw, schema version 10): the samples of
 * one GPU (or slice) in one hour stored as one row of
 * gpu_usage_fact_packed, column by column, instead of one row each of
 * gpu_usage_fact_rows.
 *
 * Each stored column of the samples becomes two columns of the block,
 * PRE_b and PRE_d. Sample k (0..n-1, in time order) holds
 *
 *	PRE_b + k * PRE_s + r(k)
 *
 * where PRE_s is 0 except for the time (ts_s), r(k) is the k-th of the n
 * residuals in PRE_d (all 0 when PRE_d is NULL), each w = length / n
 * base-127 digits, least significant first, a byte 1 to 127 standing for
 * digit 0 to 126 (text SQL reads with unicode(), no NUL).
 *
 * The time is stored from the hour's start (ts_b) and is never NULL. A
 * column NULL in every sample has a NULL PRE_b. One NULL in some samples
 * has bit c of the block's nulls set (c its place in the block: the time
 * 0, util_pct 1, ..., share28 14, gpu_usage_fact_rows' order): its
 * residual 0 is NULL, the others one more than above.
 *
 * Readings with a fraction (util_pct, power_w, temp_c) are stored as
 * integers of the fewest decimals e (0 to 3) that hold every reading of
 * the block, and read back as that integer / 10^e; bits 2r and 2r + 1 of
 * the block's scale hold e of the r-th of the three. The quotient is the
 * stored double only when the reading has at most e decimals: a block is
 * packed only when every value reads back bit for bit as stored.
 *
 * Plain SQL decodes it all: the view gpu_usage_fact adds the packed
 * samples to the stored rows.
 */
#ifndef GPU_PACK_H
#define GPU_PACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "gpu/buf.h"
#include "gpu/diag.h"

/* The most samples one block holds (rows of gpu_pack_seq). */
#define GPU_PACK_MAX_N 3600

/* The retention row (tbl) whose horizon_ms is the packed horizon. */
#define GPU_PACK_TABLE "gpu_usage_fact_packed"

/*
 * Create the packed table, gpu_pack_seq, and the view gpu_usage_fact with
 * its triggers over the stored and the packed rows (migration 9 -> 10).
 * The caller has dropped the older view. Returns 0, or -1 with err filled.
 */
int gpu_pack_create(sqlite3 *db, struct gpu_err *err);

/*
 * Create the view gpu_usage_fact and its triggers as schema 12 has them
 * (migration 11 -> 12): the same rows as schema 10's view, from a
 * decoding of the packed samples under half as long, which every
 * connection parses with the schema, the older view dropped. Returns 0,
 * or -1 with err filled.
 */
int gpu_pack_create_view(sqlite3 *db, struct gpu_err *err);

/*
 * Migration 12 -> 13: while no sample is packed, make the view
 * gpu_usage_fact again over the stored rows alone, with triggers that
 * look at no packed sample: a sixth of the text, and every connection
 * parses the view with the schema. gpu_pack_apply() makes it read the
 * packed samples again (schema 12's form) before it packs the first.
 * Returns 0, or -1 with err filled.
 */
int gpu_pack_rows_view(sqlite3 *db, struct gpu_err *err);

/*
 * Append sql to out; when [from_ms, to_ms) reaches packed hours
 * (gpu_pack_reaches()), its first "gpu_usage_fact_rows" becomes a
 * parenthesized subquery of every sample whose ts_ms is in [?1, ?2),
 * stored or packed, with the stored table's columns: the packed ones
 * read through gpu_packed (gpu_pack_register()), decoded in C, many
 * times as fast as the view's SQL. *packed says whether it did. For the
 * readers of samples (gpu/hrow.h, gpuexport). Returns 0, or -1 with err
 * filled.
 */
int gpu_pack_facts_sql(sqlite3 *db, int64_t from_ms, int64_t to_ms,
		       const char *sql, struct gpu_buf *out, bool *packed,
		       struct gpu_err *err);

/*
 * Register on db the virtual table gpu_packed (eponymous: no CREATE
 * needed): the columns of gpu_usage_fact_rows (ts_ms, node_id, gpu, mig,
 * util_pct, mem_used_mib, mem_total_mib, job_key, user_key, project_key,
 * model_key, interval_s, ingest_id, power_w, temp_c, job_src,
 * profile_key, share28) and the hidden lo and hi;
 * "SELECT ... FROM gpu_packed WHERE lo = A AND hi = B" reads the packed
 * samples with ts_ms in [A, B), by hour, GPU and slice, then time.
 * gpu_db_open() registers it. Returns 0, or -1.
 */
int gpu_pack_register(sqlite3 *db);

/*
 * The packed horizon: the hours before it were packed (or deleted, when
 * the raw-sample horizon has since passed it); GPU_RETENTION_NONE when
 * the warehouse never packed. Returns 0, or -1 with err filled.
 */
int gpu_pack_horizon(sqlite3 *db, int64_t *horizon_ms, struct gpu_err *err);

/*
 * Whether samples in [from_ms, to_ms) may be packed: the range reaches
 * before the packed horizon and after the deletion horizon (what
 * gpu_retention_deleted() returns). *yes is false on a warehouse that
 * never packed. Returns 0, or -1 with err filled.
 */
int gpu_pack_reaches(sqlite3 *db, int64_t from_ms, int64_t to_ms, bool *yes,
		     struct gpu_err *err);

/* What gpu_pack_apply() did. */
struct gpu_pack {
	int64_t target_ms;  /* the horizon asked for */
	int64_t old_ms;	    /* the horizon that froze samples before */
	int64_t horizon_ms; /* the packed horizon after */
	int64_t packed;	    /* samples packed */
	int64_t blocks;	    /* rows of gpu_usage_fact_packed written */
	int64_t kept;	    /* samples left unpacked (see gpu/pack.h) */
	int64_t hours;	    /* hours read */
};

/*
 * Pack the samples before target_ms (an hour start) inside the caller's
 * write transaction, an hour at a time. First brings the rollups up to
 * date (gpu_rollup_update()). No sample is loaded into the hours packed
 * again, nor attributed again (the raw-sample horizon); a job record's
 * new owner rebuilds their rollups from the packed samples. A block
 * that cannot be stored exactly stays as rows (out->kept). When the
 * horizon moves, records it (table retention, row GPU_PACK_TABLE, keep_ms
 * as given) and adds an ingest_log row (source '--pack-raw', started at
 * now_ms) counting the samples packed. Returns 0, or -1 with err filled
 * (the caller rolls back).
 */
int gpu_pack_apply(sqlite3 *db, int64_t target_ms, int64_t keep_ms,
		   int64_t now_ms, struct gpu_pack *out, struct gpu_err *err);

/* One column of a block, as gpu_pack_column() encodes it. */
struct gpu_pack_col {
	int64_t base;  /* PRE_b */
	int64_t slope; /* ts_s for the time, else 0 */
	bool allnull;  /* NULL in every sample: PRE_b is NULL */
	bool nulls;    /* NULL in some: residual 0 is NULL (bit of nulls) */
};

/*
 * Encode n values (v, the null flags in isnull) as one column of a block
 * into *out and the residuals' digits into d (empty for none); step asks
 * for the time's slope. Returns false when the values cannot be stored
 * (a residual of 127^4 or more). For the unit tests and gpu_pack_apply().
 */
bool gpu_pack_column(const int64_t *v, const bool *isnull, int n, bool step,
		     struct gpu_pack_col *out, struct gpu_buf *d);

/* The most decimals of a reading a block holds. */
#define GPU_PACK_MAX_DECIMALS 3

/*
 * A reading with a fraction as an integer of e decimals (0 to
 * GPU_PACK_MAX_DECIMALS), into *v, when *v / 10^e is x bit for bit;
 * false otherwise.
 */
bool gpu_pack_decimal(double x, int e, int64_t *v);

#endif
