/* SPDX-License-Identifier: MIT */
/*
 * Attribution (SPEC.md 1.4): the allocations of one GPU turned into
 * disjoint time segments, each held by one job, for a sample-time lookup.
 */
#ifndef GPU_ATTRIB_H
#define GPU_ATTRIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An end that is not known yet: the allocation is still held. */
#define GPU_TIME_OPEN INT64_MAX

/* One allocation of one GPU: [start_ms, end_ms) held by job_key. */
struct gpu_span {
	int64_t start_ms, end_ms; /* end_ms GPU_TIME_OPEN: still held */
	int64_t job_key;
	const char *job_id; /* borrowed; breaks ties of equal starts */
};

/* [lo, hi) held by job_key; overlap: more than one allocation covers it. */
struct gpu_seg {
	int64_t lo, hi;
	int64_t job_key;
	bool overlap;
};

/* The segments of one GPU, sorted by time and disjoint. */
struct gpu_segs {
	struct gpu_seg *v;
	size_t n;
};

/*
 * Order two Slurm job IDs: runs of digits as numbers, leading zeros aside
 * ("9" < "10", "007" < "10", "123_4" < "123_10"), the rest bytewise, and
 * ids equal as numbers by their bytes ("007" < "7"): 0 only for equal
 * strings. Returns <0, 0 or >0.
 */
int gpu_job_id_cmp(const char *a, const char *b);

/*
 * Build the segments of the spans of one GPU (sorted in place by start,
 * then job ID). Where spans overlap, the one that started first holds the
 * GPU until it ends, then the next by the same order (SPEC.md 1.4); spans
 * with end <= start are ignored. out is replaced; release it with
 * gpu_segs_release().
 */
void gpu_segs_build(struct gpu_span *spans, size_t n, struct gpu_segs *out);

/* Free the segments of s and empty it. */
void gpu_segs_release(struct gpu_segs *s);

/*
 * The segment holding time t, or NULL when no allocation covers it. *hint
 * (start it at 0) remembers the last position, so that lookups in time
 * order cost O(1) each; any order stays correct (binary search).
 */
const struct gpu_seg *gpu_segs_find(const struct gpu_segs *s, int64_t t,
				    size_t *hint);

#endif
