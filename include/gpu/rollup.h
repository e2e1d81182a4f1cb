/* SPDX-License-Identifier: MIT */
/* The rollup writer: brings the hourly and daily rollups up to date. */
#ifndef GPU_ROLLUP_H
#define GPU_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "gpu/diag.h"

/*
 * Bring the rollups up to date inside the caller's write transaction:
 * rebuild every hour in dirty_hours from the fact table (usage_hourly),
 * its node and owner rows (usage_hourly_node, usage_hourly_owner) and its
 * day's rows (usage_daily), then clear dirty_hours. An hour before the
 * raw-sample horizon (gpu/retention.h) is never rebuilt: its facts were
 * deleted, its rollup rows are final, and it leaves dirty_hours as it is.
 * Interns the job owners of those hours' facts into names_dim so that
 * rollup rows carry the effective owner. Sets *hours
 * (may be NULL) to the number of hours rebuilt. Returns 0, or -1 with err
 * filled (the caller rolls back).
 */
int gpu_rollup_update(sqlite3 *db, size_t *hours, struct gpu_err *err);

/*
 * Whether the caller already wrote the usage_hourly rows of the dirty
 * hour starting at hour (gpu/prebuild.h): its facts are not read again.
 */
typedef bool gpu_rollup_built_fn(void *ctx, int64_t hour);

/*
 * gpu_rollup_update(), but the hours for which built(ctx, hour) is true
 * keep the usage_hourly rows the caller wrote (their node, owner and day
 * rows are rebuilt from them). built NULL: none.
 */
int gpu_rollup_update_built(sqlite3 *db, gpu_rollup_built_fn *built,
			    void *ctx, size_t *hours, struct gpu_err *err);

/*
 * The same in a write transaction of its own (nothing is written when no
 * hour is dirty). Returns 0, or -1 with err filled ("warehouse busy: ..."
 * when another writer holds the warehouse past the busy timeout).
 */
int gpu_rollup_refresh(sqlite3 *db, size_t *hours, struct gpu_err *err);

/*
 * Rebuild usage_hourly_owner of every hour from its usage_hourly rows, in
 * the caller's write transaction (the migration to schema version 8; the
 * hours still dirty are rebuilt again by the next update). Returns 0, or
 * -1 with err filled.
 */
int gpu_rollup_fill_owners(sqlite3 *db, struct gpu_err *err);

#endif
