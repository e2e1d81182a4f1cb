/* SPDX-License-Identifier: MIT */
/* gpubill's private interface: options, the two inputs, the output. */
#ifndef GPUBILL_H
#define GPUBILL_H

#include <stdbool.h>
#include <stdint.h>

#include "gpu/diag.h"
#include "gpu/money.h"

enum out_fmt { OUT_CSV, OUT_JSON, OUT_TABLE, OUT_INVOICE, OUT_FOCUS };

enum period_mode {
	MODE_FIXED,   /* one period [from, to) with one label */
	MODE_BUCKET,  /* --input: the row's own bucket, or "all" */
	MODE_MONTHLY, /* --input --period month: the month of the bucket */
};

/* The parsed command line and the billing period chosen from it. */
struct opts {
	const char *db;
	const char *input;
	const char *rates;
	const char *flag[GPU_RATE_NKEYS];
	const char *user;
	const char *project;
	enum gpu_bill_by by;
	enum out_fmt fmt;
	bool share_idle;
	bool csv_safe; /* --csv-safe */
	const char *provider; /* --provider: the site in FOCUS files */
	enum period_mode mode;
	bool has_range; /* from/to restrict the samples */
	int64_t from, to;
	char label[80];
	char range_text[80]; /* "FROM to TO" for the invoice */
};

struct gpu_hashmap;

/*
 * Both readers put into known (when o->user or o->project is set) every
 * name of that kind the input holds, in or out of the period, so that a
 * name that matches nothing can be told from a typo.
 */

/*
 * Add the rows of gpuagg's CSV named by o->input ('-': stdin) to bill,
 * only those whose bucket lies in a fixed period. Returns 0, or -1 with
 * err filled (unreadable input, bad row, no bucket column for a period).
 */
int bill_read_input(struct gpu_bill *bill, const struct opts *o,
		    const struct gpu_rates *r, struct gpu_hashmap *known,
		    struct gpu_err *err);

/*
 * Add the warehouse's usage in o's period to bill. Returns 0, or -1 with
 * err filled on a missing warehouse or a database error.
 */
int bill_read_db(struct gpu_bill *bill, const struct opts *o,
		 const struct gpu_rates *r, struct gpu_hashmap *known,
		 struct gpu_err *err);

/* Write rep as csv, json or table to stdout; returns 0, or -1 on an error. */
int bill_write_rows(const struct gpu_bill_report *rep, const struct opts *o,
		    const struct gpu_rates *r);

/*
 * Write rep as a FOCUS 1.1 CSV (docs/FORMAT.md) to stdout: one row per
 * line and charge kind, billing and charge period o->from to o->to.
 * Returns 0, or -1 on a write error.
 */
int bill_write_focus(const struct gpu_bill_report *rep, const struct opts *o,
		     const struct gpu_rates *r);

/* Print rep as an invoice for o->user or o->project to stdout. */
void bill_write_invoice(const struct gpu_bill_report *rep, const struct opts *o,
			const struct gpu_rates *r);

#endif
