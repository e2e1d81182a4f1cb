/* SPDX-License-Identifier: MIT */
/* Sample intervals inferred from an input's series (SPEC.md 1.2). */
#ifndef GPU_INTERVAL_H
#define GPU_INTERVAL_H

#include "gpu/sample.h"

/* The bounds of an inferred interval, and the one of an input without gaps. */
enum { GPU_INTERVAL_MIN = 1, GPU_INTERVAL_MAX = 3600, GPU_INTERVAL_NONE = 60 };

/*
 * A first pass over one input: the gaps of each (node, gpu) series, in
 * memory that grows with the number of series (and at most 3601 distinct
 * gaps each), never with the number of rows.
 */
struct gpu_interval;

/* An empty set of series. Free with gpu_interval_free(). Never fails. */
struct gpu_interval *gpu_interval_new(void);
void gpu_interval_free(struct gpu_interval *iv);

/*
 * Count the gap between s and the previous sample of its series, in whole
 * seconds (rounded to the nearest), gaps above GPU_INTERVAL_MAX counted as
 * one above it. A gap that rounds to 0 s is a duplicate, not an interval:
 * it is not counted and the series keeps its previous timestamp. Must not
 * be called after gpu_interval_finish().
 */
void gpu_interval_add(struct gpu_interval *iv, const struct gpu_sample *s);

/*
 * Fix each series' interval: its most frequent gap (ties: the smaller),
 * or, for a series without gaps, the input's most frequent gap, or
 * GPU_INTERVAL_NONE when no series has one; clamped to GPU_INTERVAL_MIN
 * to GPU_INTERVAL_MAX.
 */
void gpu_interval_finish(struct gpu_interval *iv);

/*
 * The interval of s's series after gpu_interval_finish(); a series the
 * first pass did not see takes the input's.
 */
int gpu_interval_of(struct gpu_interval *iv, const struct gpu_sample *s);

#endif
