/* SPDX-License-Identifier: MIT */
/* Sample intervals inferred from an input's series (SPEC.md 1.2). */
#ifndef GPU_INTERVAL_H
#define GPU_INTERVAL_H

#include <stdio.h>

#include "gpu/reader.h"
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

/*
 * The whole first pass over a sample input: read fp from where it stands
 * to its end with a reader opened as opts say (zone tz, or NULL), add each
 * sample as gpu_interval_add() does, in the input's order, and finish.
 * A CSV file without a zone is parsed on `threads` threads (0: one per
 * CPU) in pieces of piece_lines lines (0: the default), as
 * gpu_readahead_start_split() cuts it, when threads comes to 2 or more;
 * any other input on the caller's thread. Rejected rows and read errors
 * are left to the second pass, which must seek fp back: where fp stands
 * after this is unknown.
 * Never fails: an input that cannot be opened gives no series.
 */
struct gpu_interval *gpu_interval_scan(FILE *fp, const char *source,
				       const struct gpu_reader_opts *opts,
				       struct gpu_tz *tz, int threads,
				       long piece_lines);

#endif
