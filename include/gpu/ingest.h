/* SPDX-License-Identifier: MIT */
/* Loading samples and job records into the warehouse (SPEC.md 2.1). */
#ifndef GPU_INGEST_H
#define GPU_INGEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "gpu/alloc.h"
#include "gpu/diag.h"
#include "gpu/jobs.h"
#include "gpu/rollup.h"
#include "gpu/sample.h"

/*
 * The counts of one input. read = inserted + updated + unchanged +
 * rejected always holds. min/max_ts_ms are valid when has_ts.
 * attributed: samples written with a job from an allocation (a sample
 * input), or stored samples whose job an allocation input changed;
 * overlaps: those of them that more than one allocation covers.
 * before_horizon: allocation changes that reach before the raw-sample
 * horizon (gpu/retention.h), where no sample is attributed again.
 */
struct gpu_ingest_counts {
	int64_t read, inserted, updated, unchanged, superseded, rejected;
	int64_t attributed, overlaps;
	int64_t before_horizon;
	bool has_ts;
	int64_t min_ts_ms, max_ts_ms;
};

struct gpu_ingest_opts {
	int interval_s; /* duration of samples that carry no interval_s */
};

struct gpu_ingest;

/*
 * Prepare a loader on db, which must be open at GPU_DB_VERSION (see
 * gpu_db_open()) and inside a write transaction the caller begins and
 * later commits or rolls back (gpu_db_begin()); use one loader per
 * transaction, since its caches of dimension keys die with a rollback.
 * Returns NULL with err filled on a database error. Free with
 * gpu_ingest_free() before closing db.
 */
struct gpu_ingest *gpu_ingest_new(sqlite3 *db,
				  const struct gpu_ingest_opts *opts,
				  struct gpu_err *err);
void gpu_ingest_free(struct gpu_ingest *ing);

/*
 * Start one input named source at now_ms: adds its ingest_log row (status
 * "running") and zeroes the counts. Returns 0, or -1 with err filled.
 */
int gpu_ingest_begin_source(struct gpu_ingest *ing, const char *source,
			    int64_t now_ms, struct gpu_err *err);

/*
 * Upsert one sample by (ts_ms, node, gpu): inserted, updated (values
 * differ; last write wins) or unchanged. Marks the hour of an inserted or
 * updated row in dirty_hours. Returns 0, or -1 with err filled.
 */
int gpu_ingest_sample(struct gpu_ingest *ing, const struct gpu_sample *s,
		      struct gpu_err *err);

/*
 * Upsert one job record into jobs_dim; present fields replace stored ones,
 * absent fields keep them. A new or changed record marks the hours of the
 * job's samples dirty (their effective owner may change). Returns 0 or -1.
 */
int gpu_ingest_job(struct gpu_ingest *ing, const struct gpu_job *job,
		   struct gpu_err *err);

/*
 * Upsert one allocation of a job on a node (SPEC.md 1.4): present fields
 * replace the stored ones (an epilog line sets the end of its prolog
 * line's allocation), user and project fill the job record. Counted as
 * inserted, updated or unchanged. Returns 0; 1 with *why a static reason
 * when the merged allocation is invalid (the caller rejects the record:
 * it ends before it starts, or an end comes with no GPUs known); -1 on a
 * database error. The stored samples the change concerns are attributed
 * again by gpu_ingest_end_source().
 */
int gpu_ingest_alloc(struct gpu_ingest *ing, const struct gpu_alloc *al,
		     const char **why, struct gpu_err *err);

/* Store a rejected row in rejects and count it. Returns 0 or -1. */
int gpu_ingest_reject(struct gpu_ingest *ing, long line, const char *reason,
		      struct gpu_str raw, struct gpu_err *err);

/*
 * Finish the current input at now_ms: attributes again the stored samples
 * whose allocations the input changed (counted as attributed), then writes
 * its SHA-256 (hex, or NULL), counts and sample time range into its
 * ingest_log row with status "ok". Returns 0 or -1.
 */
int gpu_ingest_end_source(struct gpu_ingest *ing, const char *sha256,
			  int64_t now_ms, struct gpu_err *err);

/*
 * The raw-sample horizon the loader found (gpu/retention.h): samples
 * before it must not be loaded (the caller rejects them), and it neither
 * marks nor attributes again an hour before it.
 */
int64_t gpu_ingest_horizon(const struct gpu_ingest *ing);

/* The counts of the current (or last) input. Borrowed. */
const struct gpu_ingest_counts *
gpu_ingest_source_counts(const struct gpu_ingest *ing);

/*
 * Bring nodes_dim, gpus_dim and the jobs' first/last sample times up to
 * date with every sample loaded since gpu_ingest_new(). Call once, before
 * the commit. Returns 0 or -1.
 */
int gpu_ingest_finish(struct gpu_ingest *ing, struct gpu_err *err);

/*
 * Whether gpu_ingest_finish() wrote the usage_hourly rows of the hour
 * starting at hour, summed as its new facts loaded (gpu/prebuild.h): a
 * gpu_rollup_built_fn for gpu_rollup_update_built(); ctx: the run.
 */
bool gpu_ingest_built(void *ctx, int64_t hour);

/*
 * What the run did with the usage_daily rows of the day starting at day
 * (gpu/prebuild.h): a gpu_rollup_day_fn for gpu_rollup_update_built();
 * ctx: the run.
 */
enum gpu_rollup_day gpu_ingest_day(void *ctx, int64_t day);

#endif
