/* SPDX-License-Identifier: MIT */
/* gpuagg's private interface: the output of an aggregate. */
#ifndef GPUAGG_H
#define GPUAGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "gpu/agg.h"
#include "gpu/money.h"
#include "gpu/writer.h"

/* Most columns an output row can have. */
#define AGG_MAX_COLS (10 + GPU_M_COUNT)

/*
 * Fill cols with the output column names for q and the metric mask (static
 * strings): bucket (named after the period; none for all), keys, metrics.
 * Returns the number of columns.
 */
size_t agg_columns(const struct gpu_agg_query *q, unsigned metrics,
		   const char *cols[AGG_MAX_COLS]);

/* Most --where conditions. */
#define AGG_MAX_WHERE 8

/*
 * One --where condition: a key column (node, job_id, user, project,
 * model, usage_category) = or != a text (empty: the empty key), or a metric <,
 * <=, >, >= a number.
 */
struct agg_where {
	int key; /* index of the key column in that list (gpu: 1), or -1 */
	enum gpu_metric metric;
	char op[3];
	const char *arg;  /* the whole argument, borrowed */
	const char *text; /* borrowed from the argument */
	double num;
};

/*
 * Parse s (borrowed: w keeps a pointer into it) into w. Returns 0, or -1
 * with err filled when s is no condition or names an unknown column.
 */
int agg_where_parse(const char *s, struct agg_where *w, struct gpu_err *err);

/* Whether q's groups have key column k (an agg_where key index). */
bool agg_has_key(const struct gpu_agg_query *q, int k);

/*
 * The groups of a finished aggregate in output order, into out (room for
 * gpu_agg_count(a) pointers, borrowed from a): bucket, then keys; with
 * sort, within each bucket by metric by descending (null last, ties in key
 * order), keeping the first top groups of each bucket (top 0: all) of
 * those that meet all nwhere conditions of where. Returns how many.
 */
size_t agg_order(const struct gpu_agg *a, bool sort, enum gpu_metric by,
		 size_t top, const struct agg_where *where, size_t nwhere,
		 const struct gpu_group **out);

/*
 * Write the header and the n groups g of an aggregate for q to fp in fmt
 * with the metric mask. A table rounds floats for people, names an empty
 * job, user or project "(unallocated)" and drops its last metrics while
 * wider than max_width (0: no limit); csv_safe as gpu_writer_csv_safe()
 * says. Returns 0, or -1 when fp reports an error.
 */
int agg_write(const struct gpu_group *const *g, size_t n,
	      const struct gpu_agg_query *q, FILE *fp, enum gpu_ofmt fmt,
	      unsigned metrics, size_t max_width, bool csv_safe);

/*
 * The same, group by group as they come: agg_out_new() writes the header
 * (CSV) and agg_out_groups() the rows given, in the order given;
 * agg_out_finish() ends the output (a table is printed whole there) and
 * frees o, returning 0 or -1 as agg_write(); agg_out_free() frees o
 * without ending it.
 */
struct agg_out;
struct agg_out *agg_out_new(const struct gpu_agg_query *q, FILE *fp,
			    enum gpu_ofmt fmt, unsigned metrics,
			    size_t max_width, bool csv_safe);
/*
 * Write the groups on a thread of their own from here on: agg_out_take()
 * hands over a whole aggregate and returns while the thread formats and
 * writes the ones before. Stays on the caller's thread when no thread can
 * start.
 */
void agg_out_thread(struct agg_out *o);
/* Write g[0..n), borrowed: on the caller's thread, after all handed over. */
void agg_out_groups(struct agg_out *o, const struct gpu_group *const *g,
		    size_t n);
/*
 * Write g[0..n), groups of a, which o takes: it frees a once they are
 * written. Nothing is copied: a query's bucket is handed over as it is.
 */
void agg_out_take(struct agg_out *o, struct gpu_agg *a,
		  const struct gpu_group *const *g, size_t n);
int agg_out_finish(struct agg_out *o);
void agg_out_free(struct agg_out *o);

/*
 * The Prometheus text exposition format (docs/FORMAT.md 3.6), labelled by
 * dims (not job), the cost at the rates r (which must outlive p). Counters
 * come from prom_add_totals(): groups by the labels and model, each over
 * the whole range, folded into label sets in the order given (the order
 * of their sums' additions stays the same from run to run, so they only
 * grow as hours are added). Gauges come from prom_add_hour(): the groups
 * of the latest hour, by hour, GPU and model. prom_latest_ms(): the latest
 * sample start among the totals (INT64_MIN: none). prom_write() prints,
 * last. Memory holds the label sets, not the groups.
 */
struct prom;
struct prom *prom_new(unsigned dims, const struct gpu_rates *r);
void prom_add_totals(struct prom *p, const struct gpu_agg *a);
void prom_add_hour(struct prom *p, const struct gpu_agg *a);
int64_t prom_latest_ms(const struct prom *p);
int prom_write(struct prom *p, FILE *fp);
void prom_free(struct prom *p);

/* Print the metric names for --help, wrapped: "Metrics: samples, ...". */
void agg_print_metrics(FILE *fp);

#endif
