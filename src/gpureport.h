/* SPDX-License-Identifier: MIT */
/* gpureport's private interface: the page data, the page, the template. */
#ifndef GPUREPORT_H
#define GPUREPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>

#include "gpu/buf.h"
#include "gpu/diag.h"
#include "gpu/money.h"

/*
 * The template lines (src/report/), embedded by scripts/embed-assets.sh in
 * src/gpureport-assets.c; each array ends with NULL.
 */
extern const char *const report_asset_html[];
extern const char *const report_asset_css[];
extern const char *const report_asset_js[];

/* The report's period [from_ms, to_ms) and where its data comes from. */
struct report_range {
	int64_t from_ms;
	int64_t to_ms;
};

/*
 * Choose the period: the given ends (INT64_MIN / INT64_MAX when absent),
 * completing a missing start with the first day of the month of the end
 * and a missing end with the day after the latest sample of the warehouse.
 * Returns 0, or -1 with err filled (a database error, an empty warehouse
 * with no --to, or an empty range).
 */
int report_range_choose(sqlite3 *db, int64_t from_ms, int64_t to_ms,
			struct report_range *range, struct gpu_err *err);

/*
 * Append the page data of SPEC.md-conforming aggregates for range to json
 * (one line, the shape documented in docs/gpureport.1): every usage figure
 * from the aggregation core, every amount from the billing core priced with
 * rates. Returns 0, or -1 with err filled on a database error.
 */
int report_build_data(sqlite3 *db, const struct report_range *range,
		      const struct gpu_rates *rates, struct gpu_buf *json,
		      struct gpu_err *err);

/*
 * Write the page: the template with the style, the data and the script in
 * place of its marker lines; with refresh_s > 0, the page reloads itself
 * every refresh_s seconds, keeping its filters (in the URL fragment).
 * Returns 0, or -1 when fp reports an error.
 */
int report_write_page(FILE *fp, const struct gpu_buf *json, int refresh_s);

/* The thresholds of a job report's findings (docs/gpureport.1). */
struct report_job_limits {
	double low_util_pct;   /* a GPU below this utilization is unused */
	double idle_share_pct; /* idle share of the allocation worth a word */
	/* Peak memory below this (GiB) fits a smaller GPU. */
	double small_mem_gb;
};

/*
 * Write the efficiency of job in [from_ms, to_ms) to fp as compact text,
 * or with as_html as a page with a chart: GPUs and nodes, allocated, busy
 * and idle GPU-hours, energy, cost at r with its parts, utilization by
 * hour and memory peak per GPU, and the findings by lim. Figures come
 * from gpu_query_run() (as gpuagg's) and gpu_charge_parts() (as gpubill's).
 * Returns 0, or -1 with err filled (a database error, no samples of the
 * job).
 */
int report_job(sqlite3 *db, int64_t from_ms, int64_t to_ms, const char *job,
	       const struct gpu_rates *r, const struct report_job_limits *lim,
	       bool as_html, FILE *fp, struct gpu_err *err);

#endif
