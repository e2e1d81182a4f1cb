/* SPDX-License-Identifier: MIT */
/* gpubill's FOCUS 1.1 output: one CSV row per billing line and charge. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/escape.h"
#include "gpu/money.h"
#include "gpu/num.h"
#include "gpu/time.h"
#include "gpu/writer.h"
#include "gpubill.h"

static const char *const focus_cols[] = {
    "BilledCost",	 "BillingAccountId",
    "BillingAccountName", "BillingCurrency",
    "BillingPeriodEnd",	 "BillingPeriodStart",
    "ChargeCategory",	 "ChargeClass",
    "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd",	 "ChargePeriodStart",
    "ConsumedQuantity",	 "ConsumedUnit",
    "ContractedCost",	 "EffectiveCost",
    "InvoiceIssuerName", "ListCost",
    "ListUnitPrice",	 "PricingQuantity",
    "PricingUnit",	 "ProviderName",
    "PublisherName",	 "ResourceId",
    "ResourceName",
    "ResourceType",	 "ServiceCategory",
    "ServiceName",	 "SubAccountId",
    "SubAccountName",	 "Tags",
};

#define NCOLS (sizeof(focus_cols) / sizeof(focus_cols[0]))

/* The charge kinds of a line, in row order. */
enum kind { K_GPU, K_MEM, K_OVERHEAD, K_COUNT };

/* A text cell; empty text is null. */
static void
put_text(struct gpu_writer *w, const char *s)
{
	if (s == NULL || *s == '\0')
		gpu_writer_null(w);
	else
		gpu_writer_str(w, s, strlen(s));
}

static void
put_double(struct gpu_writer *w, double v)
{
	char num[GPU_NUM_FMT_MAX];

	if (gpu_num_fmt_double_str(v, num) > 0)
		gpu_writer_num_text(w, num);
	else
		gpu_writer_null(w);
}

/* Tags: a JSON object of the line's user, project and job. */
/*
 * The line's tags as a JSON object, keys in order: job, model (the models
 * the job ran on, ", "-separated: a tag's value is one string), project,
 * user; absent ones are left out.
 */
static void
put_tags(struct gpu_writer *w, const struct gpu_bill_line *l)
{
	const char *k[] = {"job", "model", "project", "user"};
	const char *v[] = {l->job_id, NULL, l->project, l->user};
	struct gpu_buf b, models;
	const char *sep = "{";

	gpu_buf_init(&b);
	gpu_buf_init(&models);
	for (size_t i = 0; i < l->nparts; i++) {
		if (l->parts[i].model.len == 0)
			continue;
		if (models.len > 0)
			gpu_buf_adds(&models, ", ");
		gpu_buf_add(&models, l->parts[i].model.p,
			    l->parts[i].model.len);
	}
	v[1] = models.data;
	for (int i = 0; i < 4; i++) {
		if (v[i] == NULL || *v[i] == '\0')
			continue;
		gpu_buf_addf(&b, "%s\"%s\": ", sep, k[i]);
		gpu_escape_json(&b, v[i], strlen(v[i]), 0);
		sep = ", ";
	}
	gpu_buf_adds(&b, *sep == '{' ? "{}" : "}");
	put_text(w, b.data);
	gpu_buf_release(&models);
	gpu_buf_release(&b);
}

/* The cents and quantity of kind k of line l; false: no row. */
static bool
kind_amount(const struct gpu_charge *c, enum kind k, int64_t *cents,
	    double *qty)
{
	switch (k) {
	case K_GPU:
		*cents = c->gpu_cents;
		*qty = gpu_charge_gpu_hours(c);
		return c->alloc_seconds > 0;
	case K_MEM:
		*cents = c->mem_cents;
		*qty = (double)c->overage / (1024.0 * 3600.0);
		return c->overage > 0;
	case K_OVERHEAD:
		*cents = c->overhead_cents;
		*qty = 0;
		return c->overhead_cents != 0;
	case K_COUNT:
		break;
	}
	return false;
}

static void
put_row(struct gpu_writer *w, const struct opts *o, const struct gpu_rates *r,
	const struct gpu_bill_line *l, enum kind k, int64_t cents, double qty)
{
	static const char *const desc[] = {"GPU time", "GPU memory overage",
					   "Cluster overhead"};
	static const char *const unit[] = {"GPU-Hours", "GiB-Hours", NULL};
	char from[32], to[32];
	bool usage = k != K_OVERHEAD;
	/* The site bills, publishes and provides: one account per site. */
	const char *site = o->provider != NULL ? o->provider : "gpuusage";

	gpu_time_fmt_iso(o->from, from);
	gpu_time_fmt_iso(o->to, to);
	gpu_writer_cents(w, cents); /* BilledCost */
	put_text(w, site);	    /* BillingAccountId */
	put_text(w, site);	    /* BillingAccountName */
	put_text(w, r->currency);
	put_text(w, to);
	put_text(w, from);
	put_text(w, usage ? "Usage" : "Adjustment");
	gpu_writer_null(w); /* ChargeClass: not a correction */
	put_text(w, desc[k]);
	put_text(w, "Usage-Based");
	put_text(w, to);
	put_text(w, from);
	if (usage) {
		put_double(w, qty); /* ConsumedQuantity */
		put_text(w, unit[k]);
	} else {
		gpu_writer_null(w);
		gpu_writer_null(w);
	}
	gpu_writer_cents(w, cents); /* ContractedCost */
	gpu_writer_cents(w, cents); /* EffectiveCost */
	put_text(w, site);	    /* InvoiceIssuerName */
	gpu_writer_cents(w, cents); /* ListCost */
	if (usage) {
		/* The line's own unit price: models' rates blend in a job. */
		put_double(w, (double)cents / 100.0 / qty); /* ListUnitPrice */
		put_double(w, qty); /* PricingQuantity */
		put_text(w, unit[k]);
	} else {
		gpu_writer_null(w);
		gpu_writer_null(w);
		gpu_writer_null(w);
	}
	put_text(w, site); /* ProviderName */
	put_text(w, site); /* PublisherName */
	put_text(w, l->job_id);
	put_text(w, l->job_id);
	put_text(w,
		 l->job_id != NULL && *l->job_id != '\0' ? "Slurm job" : NULL);
	put_text(w, "Compute");
	put_text(w, "GPU compute");
	put_text(w, l->project);
	put_text(w, l->project);
	put_tags(w, l);
	gpu_writer_end_row(w);
}

int
bill_write_focus(const struct gpu_bill_report *rep, const struct opts *o,
		 const struct gpu_rates *r)
{
	struct gpu_writer *w =
	    gpu_writer_new(stdout, GPU_OUT_CSV, focus_cols, NCOLS);
	int rc;

	/* FOCUS files go to spreadsheets: formula-like names are quoted. */
	gpu_writer_csv_safe(w, true);
	for (size_t i = 0; i < rep->nlines; i++) {
		for (int k = 0; k < K_COUNT; k++) {
			int64_t cents;
			double qty;

			if (kind_amount(&rep->lines[i].c, (enum kind)k, &cents,
					&qty))
				put_row(w, o, r, &rep->lines[i], (enum kind)k,
					cents, qty);
		}
	}
	rc = gpu_writer_finish(w);
	gpu_writer_free(w);
	return rc;
}
