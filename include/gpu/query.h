/* SPDX-License-Identifier: MIT */
/* Warehouse queries: aggregates of the rollups and facts for a period. */
#ifndef GPU_QUERY_H
#define GPU_QUERY_H

#include <stdbool.h>

#include <sqlite3.h>

#include "gpu/agg.h"
#include "gpu/diag.h"

/*
 * Aggregate the warehouse for q, only reading it (db may be read-only):
 * usage_daily for the whole days of [from, to) (periods other than hour),
 * usage_hourly_node (by hour and node only) or usage_hourly for the other
 * whole hours, and the fact table for partial hours at the edges. Hours
 * listed in dirty_hours (rollups not yet brought up to date by a writer)
 * and the days that hold them are computed from the facts as a refresh
 * would rebuild them, owners a refresh would intern included, so that
 * the output is the same bytes as after a refresh. Periods other than hour
 * sum hour rows into day rows before grouping, on every path, so that all
 * give the same doubles. With threshold_mib other than
 * GPU_DEFAULT_THRESHOLD_MIB (the rollup's), or grouped by
 * GPU_DIM_CATEGORY (which no rollup holds), it scans the fact table for
 * the whole range instead. Owners are effective (the sample's, else its job
 * record's). A read of the facts before the raw-sample horizon (the
 * samples were deleted, gpu/retention.h) fails with err saying what needed
 * them. On success *out is a finished aggregate (free with
 * gpu_agg_free()); on failure -1, err filled, *out NULL.
 */
int gpu_query_run(sqlite3 *db, const struct gpu_agg_query *q,
		  struct gpu_agg **out, struct gpu_err *err);

/*
 * gpu_query_run() of each of q[0..n-1] into out[0..n-1], reading the
 * warehouse once for each set of them that can share a read of day rows:
 * the same range, threshold and daily rollup (usage_daily_job for those
 * by none of node and GPU), no period by hour, none by user and project
 * alone (those read usage_hourly_owner), and none that reads its whole
 * range from the facts (another threshold, by usage_category, no whole
 * hour). Every aggregate is the same bytes as its own gpu_query_run()'s.
 * Returns 0, or -1 with err filled and every out[i] NULL.
 */
int gpu_query_run_many(sqlite3 *db, const struct gpu_agg_query *q, size_t n,
		       struct gpu_agg **out, struct gpu_err *err);

/*
 * The same from a direct scan of the fact table (no rollup read): the
 * same bytes as gpu_query_run(). For verification (gpuagg --scan) and
 * other thresholds.
 */
int gpu_query_scan(sqlite3 *db, const struct gpu_agg_query *q,
		   struct gpu_agg **out, struct gpu_err *err);

/*
 * Receives the groups of one bucket as a finished aggregate. Returns 0
 * (the query frees a after the call), GPU_QUERY_KEPT (fn keeps a, to free
 * it with gpu_agg_free() when done: a writer thread that formats it while
 * the next bucket is read), or -1 with err filled to stop the query.
 */
typedef int gpu_query_fn(void *ctx, struct gpu_agg *a, struct gpu_err *err);

#define GPU_QUERY_KEPT 1

/*
 * gpu_query_run() (gpu_query_scan() when scan_all), handing the groups to
 * fn bucket by bucket, in bucket order, as each is complete: memory holds
 * one bucket's groups, not the whole range's. A bucket's groups are
 * exactly those, in the same order, that the one aggregate would hold;
 * with GPU_PERIOD_ALL, fn is called once; with no groups, never. Returns
 * 0, or -1 with err filled (fn may have been called for earlier buckets).
 */
int gpu_query_each(sqlite3 *db, const struct gpu_agg_query *q, bool scan_all,
		   gpu_query_fn *fn, void *ctx, struct gpu_err *err);

#endif
