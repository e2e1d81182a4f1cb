/* SPDX-License-Identifier: MIT */
/*
 * Hourly rollup rows built while a load writes new facts, so that the
 * refresh after it need not read them back (docs/WAREHOUSE.md).
 */
#ifndef GPU_PREBUILD_H
#define GPU_PREBUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "gpu/diag.h"
#include "gpu/hashmap.h"
#include "gpu/hrow.h"
#include "gpu/rollup.h"
#include "gpu/sample.h"

/* Hours summed in memory at once; an older one is written to make room. */
#define GPU_PREBUILD_OPEN 3

/*
 * The effective owner of job job_key when its facts name none: the
 * names_dim keys of its job record's user and project (0: none), interned
 * when missing. Returns 0, or -1 with err filled.
 */
typedef int gpu_owner_fn(void *ctx, int64_t job_key, int64_t *user,
			 int64_t *project, struct gpu_err *err);

/*
 * Hours at or after fresh_from held no fact when the load began. An hour
 * every fact of which the load wrote as new, in time order for each
 * group, is summed here as a refresh would sum it from the facts (the
 * same groups, each summed in the same order, so the same doubles), and
 * written to usage_hourly with its node and owner rows; any other change
 * to the hour (a row that replaced another, a job record, an attribution)
 * turns it off, and the refresh then reads its facts as before.
 *
 * A day that starts at or after fresh_from is summed too, from its hour
 * rows as they are written, and its usage_daily and usage_daily_job rows
 * written when the hours move on to the next day (or at the end): the refresh
 * keeps them when every hour of the day it finds dirty was built here. An hour
 * written out of order, an hour of the day turned off or written after
 * its rows, makes the day stale: the refresh sums it again.
 */
struct gpu_prebuild {
	sqlite3 *db;
	int64_t fresh_from;
	struct gpu_hashmap state; /* hour -> enum state */
	struct {
		int64_t hour;
		uint64_t gen; /* this hour's opening, for hints */
		struct gpu_hrows rows;
	} open[GPU_PREBUILD_OPEN];
	uint64_t gen;
	int nopen;
	bool written; /* an hour was written */
	gpu_owner_fn *owner;
	void *owner_ctx;
	sqlite3_stmt *del;
	struct gpu_hrow_batch *ins;   /* the hour rows */
	struct gpu_rollup_fold *fold; /* the node and owner rows */
	struct gpu_hashmap days;      /* day -> enum gpu_rollup_day */
	struct gpu_rollup_days *day;  /* the day being summed, */
	bool summing, feeding;	      /* its rows, this hour's rows go there */
	int64_t day_ms, day_last;     /* the day, its last hour summed */
};

/* Start with no hour; release with gpu_prebuild_release(). */
void gpu_prebuild_init(struct gpu_prebuild *p, sqlite3 *db, int64_t fresh_from,
		       gpu_owner_fn *owner, void *ctx);
void gpu_prebuild_release(struct gpu_prebuild *p);

/*
 * Where a unit's row of an open hour was: the caller keeps one per unit
 * (zeroed at first), and the next fact of the unit tries that row before
 * the hash of its keys, which misses the cache when units take turns.
 */
struct gpu_prebuild_hint {
	uint64_t gen;
	size_t row;
};

/*
 * Sum a new fact, keys k (GPU_HK_TIME its hour, the owner keys the
 * sample's own, GPU_HK_CATEGORY 0), into its hour. Sets *built when the
 * hour is still built here: then the caller marks it dirty without
 * gpu_prebuild_off(). hint (may be NULL): the fact's unit's. Returns 0,
 * or -1 with err filled.
 */
int gpu_prebuild_add(struct gpu_prebuild *p, const int64_t *k,
		     const struct gpu_sample *smp,
		     struct gpu_prebuild_hint *hint, bool *built,
		     struct gpu_err *err);

/* The hour starting at hour changed otherwise: the refresh reads it. */
void gpu_prebuild_off(struct gpu_prebuild *p, int64_t hour);

/* Job records changed: hours written with their owners are read again. */
void gpu_prebuild_owners_changed(struct gpu_prebuild *p);

/* Write the hours still in memory. Returns 0, or -1 with err filled. */
int gpu_prebuild_finish(struct gpu_prebuild *p, struct gpu_err *err);

/*
 * Whether the hour's usage_hourly, usage_hourly_node and
 * usage_hourly_owner rows were written here (a gpu_rollup_built_fn; ctx:
 * the prebuild).
 */
bool gpu_prebuild_built(void *ctx, int64_t hour);

/* What became of the usage_daily rows of the day starting at day. */
enum gpu_rollup_day gpu_prebuild_day(struct gpu_prebuild *p, int64_t day);

#endif
