/* SPDX-License-Identifier: MIT */
/* gpuagg's private interface: the output of an aggregate. */
#ifndef GPUAGG_H
#define GPUAGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "gpu/agg.h"
#include "gpu/writer.h"

/* Most columns an output row can have. */
#define AGG_MAX_COLS (7 + GPU_M_COUNT)

/*
 * Fill cols with the output column names for q and the metric mask (static
 * strings): bucket (named after the period; none for all), keys, metrics.
 * Returns the number of columns.
 */
size_t agg_columns(const struct gpu_agg_query *q, unsigned metrics,
		   const char *cols[AGG_MAX_COLS]);

/*
 * The groups of a finished aggregate in output order, into out (room for
 * gpu_agg_count(a) pointers, borrowed from a): bucket, then keys; with
 * sort, within each bucket by metric by descending (null last, ties in key
 * order), keeping the first top groups of each bucket (top 0: all).
 * Returns how many.
 */
size_t agg_order(const struct gpu_agg *a, bool sort, enum gpu_metric by,
		 size_t top, const struct gpu_group **out);

/*
 * Write the header and the n groups g of an aggregate for q to fp in fmt
 * with the metric mask; csv_safe as gpu_writer_csv_safe() says. Returns 0,
 * or -1 when fp reports an error.
 */
int agg_write(const struct gpu_group *const *g, size_t n,
	      const struct gpu_agg_query *q, FILE *fp, enum gpu_ofmt fmt,
	      unsigned metrics, bool csv_safe);

/* Print the metric names for --help, wrapped: "Metrics: samples, ...". */
void agg_print_metrics(FILE *fp);

#endif
