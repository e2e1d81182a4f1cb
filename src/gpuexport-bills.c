/* SPDX-License-Identifier: MIT */
/* gpuexport: the bills table's rows, one month's bill as gpubill makes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/agg.h"
#include "gpu/money.h"
#include "gpu/query.h"
#include "gpu/time.h"
#include "gpuexport.h"

#define DAY_MS INT64_C(86400000)

/* Column order of the bills table (gpuexport-tables.c). */
enum {
	B_PERIOD,
	B_PERIOD_START,
	B_JOB,
	B_USER,
	B_PROJECT,
	B_ALLOC,
	B_OVERAGE,
	B_GPU,
	B_MEM,
	B_OVERHEAD,
	B_TOTAL,
	B_CURRENCY,
	B_NCOLS
};

/* The largest amount DECIMAL(18,2) holds, in cents. */
#define MAX_CENTS INT64_C(999999999999999999)

struct exp_bills {
	struct gpu_bill *bill;
	struct gpu_bill_report rep;
	bool has_rep;
	char label[32];
	int64_t start_day;
	size_t next;
};

int64_t
exp_month_start_ms(int32_t month)
{
	int64_t y = 1970 + (month >= 0 ? month / 12 : -((11 - month) / 12));
	int m = (int)(month - (y - 1970) * 12) + 1;

	return gpu_days_from_civil(y, m, 1) * DAY_MS;
}

static void
bills_free(struct exp_bills *b)
{
	if (b == NULL)
		return;
	if (b->has_rep)
		gpu_bill_report_release(&b->rep);
	gpu_bill_free(b->bill);
	free(b);
}

/* Whether an amount fits the table's decimal(18,2). */
static bool
fits(int64_t cents)
{
	return cents <= MAX_CENTS && cents >= -MAX_CENTS;
}

int
exp_bills_open(struct exp_source *src, sqlite3 *db, int32_t month,
	       struct gpu_err *err)
{
	const struct gpu_rates *r = src->dims->rates;
	struct exp_bills *b = gpu_xcalloc(1, sizeof(*b));
	struct gpu_agg_query q;
	struct gpu_agg *a = NULL;
	size_t i;
	int rc = -1;

	/*
	 * Exactly gpubill --month: the job-by-model-and-profile groups of the
	 * month (a MIG slice at its profile's rate, else at its share of its
	 * model's), priced with the same rates and threshold, billed by job.
	 */
	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_ALL;
	q.dims = GPU_DIM_JOB | GPU_DIM_MODEL | GPU_DIM_PROFILE;
	q.from_ms = exp_month_start_ms(month);
	q.to_ms = gpu_period_next(GPU_PERIOD_MONTH, q.from_ms);
	q.threshold_mib = gpu_rates_threshold_mib(r);
	gpu_period_label(GPU_PERIOD_MONTH, q.from_ms, b->label);
	b->start_day = q.from_ms / DAY_MS;
	b->bill = gpu_bill_new(r);
	if (gpu_query_run(db, &q, &a, err) != 0 ||
	    gpu_bill_add_agg(b->bill, a, b->label, err) != 0)
		goto out;
	gpu_bill_report(b->bill, GPU_BILL_JOB, false, NULL, NULL, &b->rep);
	b->has_rep = true;
	for (i = 0; i < b->rep.nlines; i++) {
		const struct gpu_charge *c = &b->rep.lines[i].c;

		if (c->overflow || !fits(c->gpu_cents) || !fits(c->mem_cents) ||
		    !fits(c->overhead_cents) || !fits(c->total_cents)) {
			gpu_err_set(err,
				    "bills: amount too large for job '%s' in "
				    "period '%s'",
				    b->rep.lines[i].job_id, b->label);
			goto out;
		}
	}
	rc = 0;
out:
	gpu_agg_free(a);
	if (rc != 0) {
		bills_free(b);
		return -1;
	}
	src->bills = b;
	return 0;
}

static void
set_str(struct exp_val *v, const char *s)
{
	/* An unknown owner is "" in gpubill's output and NULL here. */
	v->null = s == NULL || s[0] == '\0';
	v->stable = false;
	v->s = s;
	v->n = s != NULL ? strlen(s) : 0;
}

static void
set_int(struct exp_val *v, int64_t i)
{
	v->null = false;
	v->i = i;
}

int
exp_bills_next(struct exp_source *src)
{
	struct exp_bills *b = src->bills;
	const struct gpu_bill_line *l;
	struct exp_val *v = src->vals;

	if (b->next == b->rep.nlines)
		return 0;
	l = &b->rep.lines[b->next++];
	set_str(&v[B_PERIOD], l->period);
	set_int(&v[B_PERIOD_START], b->start_day);
	set_str(&v[B_JOB], l->job_id);
	set_str(&v[B_USER], l->user);
	set_str(&v[B_PROJECT], l->project);
	set_int(&v[B_ALLOC], l->c.alloc_seconds);
	set_int(&v[B_OVERAGE], l->c.overage);
	set_int(&v[B_GPU], l->c.gpu_cents);
	set_int(&v[B_MEM], l->c.mem_cents);
	set_int(&v[B_OVERHEAD], l->c.overhead_cents);
	set_int(&v[B_TOTAL], l->c.total_cents);
	set_str(&v[B_CURRENCY], src->dims->rates->currency);
	return 1;
}

void
exp_bills_close(struct exp_source *src)
{
	bills_free(src->bills);
	src->bills = NULL;
}
