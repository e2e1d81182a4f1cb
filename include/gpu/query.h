/* SPDX-License-Identifier: MIT */
/* Warehouse queries: aggregates of the rollups and facts for a period. */
#ifndef GPU_QUERY_H
#define GPU_QUERY_H

#include <sqlite3.h>

#include "gpu/agg.h"
#include "gpu/diag.h"

/*
 * Aggregate the warehouse for q: refreshes the rollups first (so db must be
 * writable when hours are dirty), then reads usage_daily for the whole
 * days of [from, to) (periods other than hour), usage_hourly_node (by hour
 * and node only) or usage_hourly for the other whole hours, and the fact
 * table for partial hours at the edges. Periods other than hour sum hour
 * rows into day rows before grouping, on every path, so that all give the
 * same doubles.
 * With threshold_mib other than GPU_DEFAULT_THRESHOLD_MIB (the rollup's) it
 * scans the fact table for the whole range instead. Owners are effective
 * (the sample's, else its job record's). On success *out is a finished
 * aggregate (free with gpu_agg_free()); on failure -1, err filled, *out NULL.
 */
int gpu_query_run(sqlite3 *db, const struct gpu_agg_query *q,
		  struct gpu_agg **out, struct gpu_err *err);

/*
 * The same from a direct scan of the fact table (no rollup read, no
 * refresh): gives the same bytes as gpu_query_run(), provided the job
 * owners were interned by a rollup refresh since the last job records
 * arrived. For verification (gpuagg --scan) and other thresholds.
 */
int gpu_query_scan(sqlite3 *db, const struct gpu_agg_query *q,
		   struct gpu_agg **out, struct gpu_err *err);

#endif
