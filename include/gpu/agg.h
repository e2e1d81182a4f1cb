/* SPDX-License-Identifier: MIT */
/* The aggregate (SPEC.md section 3): an in-memory table of groups. */
#ifndef GPU_AGG_H
#define GPU_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/diag.h"
#include "gpu/sample.h"
#include "gpu/sums.h"
#include "gpu/time.h"

/*
 * Group-by dimensions (a bit mask). GPU_DIM_GPU groups by node and GPU.
 * Key columns print in this fixed order: node (NODE or GPU), gpu (GPU),
 * job_id (JOB), user (JOB or USER), project (JOB or PROJECT), model (MODEL),
 * usage_category (CATEGORY: the utilization class of each sample,
 * gpu_usage_category(); no rollup holds it, so the warehouse query reads
 * the facts).
 * With JOB but not USER (PROJECT), user (project) is not a key but the
 * job's owner in the bucket: that of its latest sample there carrying one
 * (ties: the greater name).
 */
#define GPU_DIM_NODE 1u
#define GPU_DIM_GPU 2u
#define GPU_DIM_JOB 4u
#define GPU_DIM_USER 8u
#define GPU_DIM_PROJECT 16u
#define GPU_DIM_MODEL 32u
#define GPU_DIM_PROFILE 64u
#define GPU_DIM_CATEGORY 128u

/*
 * Parse "node,gpu,job,user,project,model,profile,usage_category" (any
 * subset, any order; "" or "none" is the cluster total) into a mask. Returns 0,
 * or -1 with err naming the bad entry and listing the valid names.
 */
int gpu_dims_parse(const char *list, unsigned *dims, struct gpu_err *err);

/* What to compute. */
struct gpu_agg_query {
	enum gpu_period period;
	unsigned dims;	       /* GPU_DIM_x mask; 0: cluster total */
	int64_t from_ms;       /* inclusive; INT64_MIN: open */
	int64_t to_ms;	       /* exclusive; INT64_MAX: open */
	int64_t threshold_mib; /* memory-overage threshold */
};

/* Defaults: period all, no dims, open range, GPU_DEFAULT_THRESHOLD_MIB. */
void gpu_agg_query_init(struct gpu_agg_query *q);

/*
 * A group's key strings by index: the order of gpu_group's string fields,
 * of gpu_dgroup's text[] and of the bits of their plain.
 */
enum gpu_key_text {
	GPU_KT_NODE,
	GPU_KT_JOB,
	GPU_KT_USER,
	GPU_KT_PROJECT,
	GPU_KT_MODEL,
	GPU_KT_PROFILE,
	GPU_KT_N
};

/*
 * One output row. Key strings are "" for none (unallocated, unknown owner,
 * no model) and for dimensions not grouped by; gpu and category are -1
 * when not grouped by. bucket_ms is the bucket start (0 for GPU_PERIOD_ALL).
 * All borrowed from the aggregate.
 */
struct gpu_group {
	int64_t bucket_ms;
	const char *node;
	int gpu;
	int mig; /* the MIG instance id, -1: the whole GPU (or not grouped) */
	const char *job_id;
	const char *user;
	const char *project;
	const char *model;
	const char *profile; /* MIG profile, "" for a whole GPU */
	int category;	     /* enum gpu_usage_cat */
	/*
	 * Bit k (enum gpu_key_text): that key string is known to pass
	 * gpu_writer_plain_ok(), so a writer may skip its checks; 0: not
	 * known.
	 */
	unsigned plain;
	struct gpu_sums sums;
};

struct gpu_agg;

/*
 * A streaming aggregate for q (copied). Memory grows with the number of
 * groups, not samples. Free with gpu_agg_free().
 */
struct gpu_agg *gpu_agg_new(const struct gpu_agg_query *q);
void gpu_agg_free(struct gpu_agg *a);

/*
 * Add one sample as given (no upsert: a repeated sample counts twice; the
 * owner is the sample's own). interval_s is the duration of samples without
 * their own. Samples outside [from, to) are ignored.
 */
void gpu_agg_add_sample(struct gpu_agg *a, const struct gpu_sample *smp,
			int interval_s);

/*
 * End adding: fill job owners and sort groups by bucket, then keys (byte
 * order, "" first; gpu numerically; category from idle to high), the
 * output order of SPEC.md 3. Call
 * once, before gpu_agg_count().
 */
void gpu_agg_finish(struct gpu_agg *a);

/* The number of groups and group i in output order (borrowed). */
size_t gpu_agg_count(const struct gpu_agg *a);
const struct gpu_group *gpu_agg_group(const struct gpu_agg *a, size_t i);

/*
 * A group's job owner: the user (project) of the latest sample that
 * carries one, and that sample's start (ties: the greater name). len 0:
 * none.
 */
struct gpu_owner {
	int64_t user_ms, project_ms;
	struct gpu_str user, project;
};

/* Is (ms, name) later than the owner (cur_ms, cur) by that rule? */
bool gpu_owner_later(int64_t ms, struct gpu_str name, int64_t cur_ms,
		     const char *cur);

/*
 * Add the group g (its keys and sums; keys of dimensions not grouped by are
 * ignored) with its job owner own to a, merging it into the group of the
 * same keys if there is one. For the warehouse queries, which build
 * groups from rollup rows. Copies what it keeps.
 */
void gpu_agg_add_group(struct gpu_agg *a, const struct gpu_group *g,
		       const struct gpu_owner *own);

/* Make room for n groups in all (a caller that knows how many come). */
void gpu_agg_reserve(struct gpu_agg *a, size_t n);

/*
 * A group for gpu_agg_add_distinct(): its keys, its key strings with
 * their lengths (by enum gpu_key_text: only those of the dims grouped by
 * are read, and only their bits of plain), and its sums.
 */
struct gpu_dgroup {
	int64_t bucket_ms;
	int gpu, mig, category;
	struct gpu_str text[GPU_KT_N];
	unsigned plain; /* as gpu_group's, for text */
	const struct gpu_sums *sums;
};

/*
 * Add g as gpu_agg_add_group() does, for a caller that knows a holds no
 * group of g's keys (the warehouse query's groups are distinct by
 * construction): no lookup. Copies what it keeps. The groups so added
 * get no lookup key until a later gpu_agg_add_group() or
 * gpu_agg_add_sample() needs one: a query's thousands of groups a bucket
 * are copied, not hashed.
 */
void gpu_agg_add_distinct(struct gpu_agg *a, const struct gpu_dgroup *g,
			  const struct gpu_owner *own);

#endif
