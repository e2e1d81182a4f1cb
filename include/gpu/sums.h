/* SPDX-License-Identifier: MIT */
/* The additive sums of a group and the metrics of SPEC.md section 3. */
#ifndef GPU_SUMS_H
#define GPU_SUMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/diag.h"
#include "gpu/sample.h"

/* The default memory-overage threshold: 16 GiB. */
#define GPU_DEFAULT_THRESHOLD_MIB INT64_C(16384)

/*
 * The sums, named once: X(name, C type, SQL type, merge, empty value), in
 * the column order of the rollup tables. d is a sample's duration in
 * seconds and w its share of a GPU in 28ths (28 for a whole GPU, less for
 * a MIG slice: gpu/sample.h); the _w sums count a slice at its share, the
 * others count its seconds as seconds. merge is SUM (added) or MAX (the larger kept), so that hour
 * rows combine into any period exactly. The struct, the merge, the
 * rollups' column lists, placeholders, binding and reading are generated
 * from this list; gpu_sums_add() says how a sample adds to each sum. A new
 * sum also needs a migration adding its column to the rollup tables
 * (src/core/db.c; test_sums.c checks that they agree).
 */
#define GPU_SUMS(X)                                                            \
	X(samples, int64_t, "INTEGER", SUM, 0)                                 \
	X(gpu_seconds, int64_t, "INTEGER", SUM, 0)   /* d */                   \
	X(alloc_seconds, int64_t, "INTEGER", SUM, 0) /* d, allocated */        \
	X(busy, double, "REAL", SUM, 0)		     /* d * util_pct */        \
	X(alloc_busy, double, "REAL", SUM, 0)	     /* the same, allocated */ \
	X(idle_seconds, int64_t, "INTEGER", SUM, 0)  /* d, util < 5 */         \
	X(mem_used_s, int64_t, "INTEGER", SUM, 0)    /* d * mem_used_mib */    \
	X(max_mem, int64_t, "INTEGER", MAX, -1)	     /* -1: no samples */      \
	X(mem_util_s, double, "REAL", SUM, 0)	     /* d * mem_util_pct */    \
	X(mem_util_seconds, int64_t, "INTEGER", SUM, 0) /* d, with a total */  \
	X(power_s, double, "REAL", SUM, 0)		/* d * power_w */      \
	X(power_seconds, int64_t, "INTEGER", SUM, 0)	/* d, with power */    \
	X(overage, int64_t, "INTEGER", SUM, 0) /* d * over threshold, alloc */ \
	X(last_ms, int64_t, "INTEGER", MAX, INT64_MIN)	  /* latest start */   \
	X(alloc_idle_seconds, int64_t, "INTEGER", SUM, 0) /* d, idle, alloc */ \
	X(gpu_w, int64_t, "INTEGER", SUM, 0)	  /* d * w */                  \
	X(alloc_w, int64_t, "INTEGER", SUM, 0)	  /* d * w, allocated */       \
	X(busy_w, double, "REAL", SUM, 0)	  /* d * w * util_pct */       \
	X(alloc_busy_w, double, "REAL", SUM, 0)	  /* the same, allocated */    \
	X(idle_w, int64_t, "INTEGER", SUM, 0)	  /* d * w, util < 5 */        \
	X(alloc_idle_w, int64_t, "INTEGER", SUM, 0) /* d * w, idle, alloc */

#define GPU_SUMS_FIELD_(name, ctype, sqltype, merge, empty) ctype name;

/* The additive sums of a group, from which every metric is derived. */
struct gpu_sums {
	GPU_SUMS(GPU_SUMS_FIELD_)
};

#define GPU_SUMS_COUNT_(name, ctype, sqltype, merge, empty) +1

/* The number of sums (rollup columns). */
enum { GPU_SUMS_N = 0 GPU_SUMS(GPU_SUMS_COUNT_) };

/* Empty sums. */
void gpu_sums_init(struct gpu_sums *s);

/*
 * Add one sample, the one place a sample enters the sums: its duration
 * is smp->interval_s when > 0, else interval_s. It is allocated when
 * smp->job_id is not empty; mem_util_pct is counted when it has a total
 * > 0; overage is over threshold_mib.
 */
void gpu_sums_add(struct gpu_sums *s, const struct gpu_sample *smp,
		  int interval_s, int64_t threshold_mib);

/* Add the sums of another group (maxima: the larger). */
void gpu_sums_merge(struct gpu_sums *into, const struct gpu_sums *from);

/*
 * The metrics of SPEC.md section 3, named once: X(enum constant, column
 * name), in output order. A metric set is a bit mask (1u << GPU_M_x);
 * output always keeps this order. gpu_metric_value() derives each.
 */
#define GPU_METRICS(X)                                                         \
	X(GPU_M_SAMPLES, "samples")                                            \
	X(GPU_M_GPU_SECONDS, "gpu_seconds")                                    \
	X(GPU_M_ALLOC_GPU_SECONDS, "alloc_gpu_seconds")                        \
	X(GPU_M_GPU_HOURS, "gpu_hours")                                        \
	X(GPU_M_ALLOC_GPU_HOURS, "alloc_gpu_hours")                            \
	X(GPU_M_BUSY_GPU_HOURS, "busy_gpu_hours")                              \
	X(GPU_M_AVG_UTIL_PCT, "avg_util_pct")                                  \
	X(GPU_M_ALLOC_UTIL_PCT, "alloc_util_pct")                              \
	X(GPU_M_IDLE_GPU_HOURS, "idle_gpu_hours")                              \
	X(GPU_M_ALLOC_IDLE_GPU_HOURS, "alloc_idle_gpu_hours")                  \
	X(GPU_M_AVG_MEM_USED_MIB, "avg_mem_used_mib")                          \
	X(GPU_M_MAX_MEM_USED_MIB, "max_mem_used_mib")                          \
	X(GPU_M_AVG_MEM_UTIL_PCT, "avg_mem_util_pct")                          \
	X(GPU_M_AVG_POWER_W, "avg_power_w")                                    \
	X(GPU_M_ENERGY_KWH, "energy_kwh")                                      \
	X(GPU_M_MEM_OVERAGE_MIB_SECONDS, "mem_overage_mib_seconds")

#define GPU_METRICS_ENUM_(id, name) id,

enum gpu_metric { GPU_METRICS(GPU_METRICS_ENUM_) GPU_M_COUNT };

#define GPU_METRICS_ALL ((1u << GPU_M_COUNT) - 1)

/* The column name of a metric ("gpu_hours"); static, "?" when invalid. */
const char *gpu_metric_name(enum gpu_metric m);

/* Map one metric name to m. Returns 0, or -1 with err listing valid names. */
int gpu_metric_parse(const char *name, enum gpu_metric *m, struct gpu_err *err);

/*
 * Parse a comma-separated metric list into a mask. Returns 0, or -1 with err
 * naming the bad entry and listing the valid names (also for an empty list).
 */
int gpu_metrics_parse(const char *list, unsigned *mask, struct gpu_err *err);

/*
 * Parse a comma-separated list of n names (valid, for messages, called
 * what) into a bit mask of their indexes. Returns 0, or -1 with err naming
 * the bad entry and listing the valid names ("" entries are bad).
 */
int gpu_names_parse(const char *list, const char *what,
		    const char *const *valid, size_t n, unsigned *mask,
		    struct gpu_err *err);

/*
 * A metric's value: null (empty denominator), exact integer, or float;
 * or, for a writer's row (gpu/writer.h), an amount in cents in i.
 */
enum gpu_value_kind {
	GPU_VAL_NULL,
	GPU_VAL_INT,
	GPU_VAL_DOUBLE,
	GPU_VAL_CENTS
};

struct gpu_value {
	enum gpu_value_kind kind;
	int64_t i;
	double d;
};

/* The value of metric m of s: the one place metrics are derived. */
void gpu_metric_value(const struct gpu_sums *s, enum gpu_metric m,
		      struct gpu_value *v);

/*
 * The values of the metrics in the set metrics, in output order, into v
 * (room for GPU_M_COUNT); returns how many. A row's worth in one call.
 */
size_t gpu_metric_values(const struct gpu_sums *s, unsigned metrics,
			 struct gpu_value *v);

#endif
