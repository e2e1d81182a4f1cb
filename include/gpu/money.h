/* SPDX-License-Identifier: MIT */
/* Money (SPEC.md section 4): exact rates, rate cards, charges, bills. */
#ifndef GPU_MONEY_H
#define GPU_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gpu/diag.h"
#include "gpu/num.h"
#include "gpu/sample.h"

/* The four scalar rates, in the order flags, variables and keys list them. */
enum gpu_rate_key {
	GPU_RATE_GPU,	    /* gpu_hourly_rate: per allocated GPU-hour */
	GPU_RATE_MEM,	    /* memory_overage_rate: per GiB-hour over */
	GPU_RATE_THRESHOLD, /* memory_overage_threshold_gb: GiB */
	GPU_RATE_OVERHEAD,  /* cluster_overhead_rate: fraction of subtotal */
	GPU_RATE_NKEYS
};

/*
 * The largest rate, in currency units (per GPU-hour, per GiB-hour, GiB or
 * fraction): at most 10^12 millionths, so that any product of a rate and
 * a 64-bit quantity fits in 128 bits and a misplaced digit is caught.
 */
#define GPU_RATE_MAX INT64_C(1000000)
#define GPU_RATE_MAX_TEXT "1000000"

/* Where a rate came from, in increasing precedence. */
enum gpu_rate_src { GPU_SRC_DEFAULT, GPU_SRC_FILE, GPU_SRC_ENV, GPU_SRC_FLAG };

/* A per-model GPU-hour rate from a rate card. */
struct gpu_model_rate {
	char *model;
	int64_t rate; /* micro-units per GPU-hour */
};

/*
 * A rate card. Every amount is an exact integer in millionths (micro-units
 * of the currency, micro-GiB, or millionths of one), never a float.
 */
struct gpu_rates {
	int64_t v[GPU_RATE_NKEYS];
	enum gpu_rate_src src[GPU_RATE_NKEYS];
	char currency[16];
	struct gpu_model_rate *models;
	size_t nmodels;
	struct gpu_model_rate *profiles; /* per MIG slice-hour, by profile */
	size_t nprofiles;
};

/* The rate file key ("gpu_hourly_rate" ...) and environment variable
 * ("GPU_HOURLY_RATE" ...) of a rate. Static strings. */
const char *gpu_rate_key_name(enum gpu_rate_key k);
const char *gpu_rate_env_name(enum gpu_rate_key k);

/* "default", "rate file", "environment" or "option". Static. */
const char *gpu_rate_src_name(enum gpu_rate_src s);

/* Fill r with the defaults of SPEC.md section 4 (2.50, 0.10, 16, 0.05,
 * USD, no model rates). Release with gpu_rates_release(). */
void gpu_rates_init(struct gpu_rates *r);
void gpu_rates_release(struct gpu_rates *r);

/*
 * Parse text s[0..len) as an exact non-negative decimal with at most 6
 * fractional digits into millionths. Returns 0, or -1 with err saying why
 * and quoting the text ("invalid rate '-1' for gpu_hourly_rate: negative");
 * what names the rate in the message.
 */
int gpu_rate_parse(const char *s, size_t len, const char *what, int64_t *micro,
		   struct gpu_err *err);

/*
 * Set rate k from text if src is at least as strong as the rate's current
 * source. Returns 0, or -1 with err filled (the value is left unchanged).
 */
int gpu_rates_set(struct gpu_rates *r, enum gpu_rate_key k, const char *s,
		  size_t len, enum gpu_rate_src src, struct gpu_err *err);

/*
 * Read a rate card (docs/BILLING.md): "key = value" lines, '#' comments,
 * keys gpu_hourly_rate, memory_overage_rate, memory_overage_threshold_gb,
 * cluster_overhead_rate, currency and "model.NAME". Values set from the
 * file do not override stronger sources. Returns 0, or -1 with err naming
 * source and line (unknown or repeated key, bad value, read error).
 */
int gpu_rates_load(struct gpu_rates *r, FILE *fp, const char *source,
		   struct gpu_err *err);

/*
 * Resolve the rates by precedence: flags (flag[k] non-NULL) over the
 * environment over the rate card at path (NULL: none) over the defaults.
 * Returns 0, or -1 with err filled; *bad_usage tells a bad value (a usage
 * error) from an unreadable file.
 */
int gpu_rates_resolve(struct gpu_rates *r, const char *path,
		      const char *const flag[GPU_RATE_NKEYS], bool *bad_usage,
		      struct gpu_err *err);

/* The threshold in MiB: round(GiB * 1024), half away from zero. */
int64_t gpu_rates_threshold_mib(const struct gpu_rates *r);

/* The GPU-hour rate of a model: its own card entry, else gpu_hourly_rate. */
int64_t gpu_rates_gpu_rate(const struct gpu_rates *r, const char *model,
			   size_t len);

/*
 * round_cents(seconds * rate / 3600), rate in micro-units per hour. The
 * three gpu_money_*_cents() give INT64_MAX (INT64_MIN) for an amount that
 * does not fit; gpu_bill_report() flags one instead.
 */
int64_t gpu_money_gpu_cents(int64_t seconds, int64_t rate);

/* The same of w, GPU-seconds in 28ths (a MIG slice's share, the _w sums). */
int64_t gpu_money_gpu_w_cents(int64_t w, int64_t rate);

/* round_cents(mib_seconds * rate / (1024 * 3600)). */
int64_t gpu_money_mem_cents(int64_t mib_seconds, int64_t rate);

/* round_cents(cents * rate), rate in millionths. */
int64_t gpu_money_overhead_cents(int64_t cents, int64_t rate);

/*
 * Share amount (>= 0) among n lines in proportion to weights (>= 0) by the
 * largest-remainder method: floors first, then one unit each to the largest
 * remainders, ties to the earlier line. Fills shares[n], which sum exactly
 * to amount, and returns amount; with all weights 0 fills zeros, returns 0.
 */
int64_t gpu_money_share(int64_t amount, const int64_t *weights, size_t n,
			int64_t *shares);

/* The usage and money of one billing line (or of a total). */
struct gpu_charge {
	int64_t alloc_seconds;
	int64_t alloc_w;  /* alloc_seconds, MIG slices at their share (28ths) */
	int64_t overage; /* MiB-seconds */
	int64_t gpu_cents;
	int64_t mem_cents;
	int64_t overhead_cents;
	int64_t total_cents;
	int64_t idle_cents; /* --share-idle: this line's share */
	bool overflow;	    /* an amount did not fit: the others are void */
};

/* The allocated GPU-hours of c, MIG slices at their share. */
double gpu_charge_gpu_hours(const struct gpu_charge *c);

/* Add every field of from into into (a user line is a sum of job lines). */
void gpu_charge_add(struct gpu_charge *into, const struct gpu_charge *from);

/*
 * Price one job: parts[i] allocated seconds on model models[i] (n >= 1;
 * an empty model takes gpu_hourly_rate), overage MiB-seconds in all.
 * gpu_cents is the sum of each model's rounded charge. Fills c.
 */
void gpu_charge_job(struct gpu_charge *c, const struct gpu_rates *r,
		    const struct gpu_str *models, const int64_t *parts,
		    size_t n, int64_t overage);

/* One usage record for a bill: a job's (or, job_id empty, unallocated)
 * time on one model in one period. Text is copied. */
struct gpu_bill_usage {
	const char *period;    /* period label ("2026-11", "all", ...) */
	struct gpu_str job_id; /* empty: unallocated */
	struct gpu_str user;
	struct gpu_str project;
	struct gpu_str model;
	int64_t alloc_seconds;
	int64_t overage;     /* MiB-seconds, allocated */
	int64_t gpu_seconds; /* all time; gpu_seconds - alloc is idle */
	int64_t owner_rank;  /* larger = later: whose user/project wins */
	struct gpu_str profile; /* MIG profile; empty: whole GPUs */
	int share28;		/* its share in 28ths; 0 or 28: whole GPUs */
};

enum gpu_bill_by { GPU_BILL_JOB, GPU_BILL_USER, GPU_BILL_PROJECT };

/* Map "job", "user", "project" to a grouping. Returns 0 or -1. */
int gpu_bill_by_parse(const char *s, enum gpu_bill_by *by);

/* A line of a report; text borrowed from the bill (job_id NULL for user
 * and project lines; user or project NULL when not a key). */
/*
 * Allocated seconds on one model (a job's part, or a period's idle time),
 * of whole GPUs or of MIG slices of one profile and share (in 28ths).
 */
struct gpu_bill_part {
	struct gpu_str model;	/* owned by the bill */
	struct gpu_str profile; /* owned by the bill; empty: whole GPUs */
	int share28;		/* 0 or 28: whole GPUs */
	int64_t seconds;
};

/*
 * Price one job from its parts (n >= 0): a part of whole GPUs at its
 * model's rate; a part of MIG slices at its profile's rate from the card
 * ("profile.NAME", per slice-hour), else at its share of its model's rate.
 * gpu_cents is the sum of each part's rounded charge; alloc_w counts the
 * slices at their share. Fills c.
 */
void gpu_charge_parts(struct gpu_charge *c, const struct gpu_rates *r,
		      const struct gpu_bill_part *parts, size_t n,
		      int64_t overage);

struct gpu_bill_line {
	const char *period;
	const char *job_id;
	const char *user;
	const char *project;
	const struct gpu_bill_part *parts; /* by job: its models; borrowed */
	size_t nparts;
	struct gpu_charge c;
};

struct gpu_bill_report {
	struct gpu_bill_line *lines;
	size_t nlines;
	struct gpu_charge total; /* the sum of the lines */
	int64_t idle_seconds;	 /* unallocated GPU time of the periods */
	int64_t idle_cents;	 /* its price, shared when share_idle */
	bool overflow; /* a line, the idle time or the total did not fit */
};

struct gpu_bill;

/* A new bill priced with r (borrowed: r must outlive the bill). Free with
 * gpu_bill_free(). */
struct gpu_bill *gpu_bill_new(const struct gpu_rates *r);
void gpu_bill_free(struct gpu_bill *b);

/*
 * Add a usage record. Memory grows with the number of (period, job, model)
 * keys. Returns 0, or -1 with err filled when a sum would overflow.
 */
int gpu_bill_add(struct gpu_bill *b, const struct gpu_bill_usage *u,
		 struct gpu_err *err);

struct gpu_agg;

/*
 * Add every group of a finished aggregate a (see gpu/agg.h) to b as usage
 * in period: its job, owner, model, allocated and total GPU seconds and
 * overage, owner rank 0. Group a by job and model so that per-model rates
 * apply; a group with no job adds only unallocated time. Returns 0, or -1
 * with err filled as gpu_bill_add() does (b then holds the groups before).
 */
int gpu_bill_add_agg(struct gpu_bill *b, const struct gpu_agg *a,
		     const char *period, struct gpu_err *err);

/*
 * Build the report: job lines priced by gpu_charge_parts(), summed into user
 * or project lines, sorted by period then key; with share_idle each
 * period's idle price is shared among its job lines by allocated time
 * (user and project shares are sums of their jobs' shares). user and
 * project (NULL: any) keep only the lines of that owner; shares are
 * computed before that. Fills rep (release with
 * gpu_bill_report_release()); cannot fail, but sets rep->overflow and
 * the overflow of each line concerned when an amount does not fit in 64
 * bits (the caller must then print nothing).
 */
void gpu_bill_report(const struct gpu_bill *b, enum gpu_bill_by by,
		     bool share_idle, const char *user, const char *project,
		     struct gpu_bill_report *rep);
void gpu_bill_report_release(struct gpu_bill_report *rep);

#endif
