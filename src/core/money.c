/* SPDX-License-Identifier: MIT */
/* Money: exact rates, rate cards, charges, and reconciling bills. */
#include "gpu/money.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/agg.h"
#include "gpu/buf.h"
#include "gpu/hashmap.h"

static const char *const key_names[GPU_RATE_NKEYS] = {
    "gpu_hourly_rate", "memory_overage_rate", "memory_overage_threshold_gb",
    "cluster_overhead_rate"};
static const char *const env_names[GPU_RATE_NKEYS] = {
    "GPU_HOURLY_RATE", "MEMORY_OVERAGE_RATE", "MEMORY_OVERAGE_THRESHOLD_GB",
    "CLUSTER_OVERHEAD_RATE"};
static const char *const flag_names[GPU_RATE_NKEYS] = {
    "gpu-rate", "mem-rate", "mem-threshold-gb", "overhead-rate"};
static const int64_t defaults[GPU_RATE_NKEYS] = {2500000, 100000, 16000000,
						 50000};

const char *
gpu_rate_key_name(enum gpu_rate_key k)
{
	return (unsigned)k < GPU_RATE_NKEYS ? key_names[k] : "?";
}

const char *
gpu_rate_env_name(enum gpu_rate_key k)
{
	return (unsigned)k < GPU_RATE_NKEYS ? env_names[k] : "?";
}

const char *
gpu_rate_src_name(enum gpu_rate_src s)
{
	switch (s) {
	case GPU_SRC_DEFAULT:
		return "default";
	case GPU_SRC_FILE:
		return "rate file";
	case GPU_SRC_ENV:
		return "environment";
	case GPU_SRC_FLAG:
		return "option";
	}
	return "?";
}

void
gpu_rates_init(struct gpu_rates *r)
{
	size_t k;

	for (k = 0; k < GPU_RATE_NKEYS; k++) {
		r->v[k] = defaults[k];
		r->src[k] = GPU_SRC_DEFAULT;
	}
	memcpy(r->currency, "USD", 4);
	r->models = NULL;
	r->nmodels = 0;
	r->profiles = NULL;
	r->nprofiles = 0;
}

void
gpu_rates_release(struct gpu_rates *r)
{
	size_t i;

	for (i = 0; i < r->nmodels; i++)
		free(r->models[i].model);
	free(r->models);
	r->models = NULL;
	r->nmodels = 0;
	for (i = 0; i < r->nprofiles; i++)
		free(r->profiles[i].model);
	free(r->profiles);
	r->profiles = NULL;
	r->nprofiles = 0;
}

/*
 * The digits after the point of a plain decimal ("+12.5"), or -1 when s is
 * not one: it then tells an overflow from text that is no number.
 */
static long
decimals_of(const char *s, size_t len)
{
	size_t i = len > 0 && (s[0] == '+' || s[0] == '-') ? 1 : 0, nd = 0;
	const char *dot = NULL;

	for (; i < len; i++) {
		if (s[i] == '.' && dot == NULL)
			dot = s + i;
		else if (s[i] >= '0' && s[i] <= '9')
			nd++;
		else
			return -1;
	}
	if (nd == 0)
		return -1;
	return dot == NULL ? 0 : (long)(len - (size_t)(dot - s) - 1);
}

int
gpu_rate_parse(const char *s, size_t len, const char *what, int64_t *micro,
	       struct gpu_err *err)
{
	const char *why;
	long nfrac;
	int64_t v;

	if (gpu_num_parse_micro(s, len, &v) == 0) {
		if (v < 0 || (len > 0 && s[0] == '-'))
			why = "negative";
		else if (v > GPU_RATE_MAX * INT64_C(1000000))
			why = "too large (at most " GPU_RATE_MAX_TEXT ")";
		else
			goto ok;
	} else if (len == 0) {
		why = "empty";
	} else if ((nfrac = decimals_of(s, len)) < 0) {
		why = "not a decimal number";
	} else if (s[0] == '-') {
		why = "negative";
	} else if (nfrac > 6) {
		why = "more than 6 decimals";
	} else {
		why = "too large (at most " GPU_RATE_MAX_TEXT ")";
	}
	return gpu_err_set(err, "invalid rate '%.*s' for %s: %s",
			   (int)(len > 200 ? 200 : len), s, what, why);
ok:
	*micro = v;
	return 0;
}

int
gpu_rates_set(struct gpu_rates *r, enum gpu_rate_key k, const char *s,
	      size_t len, enum gpu_rate_src src, struct gpu_err *err)
{
	int64_t v;

	if (gpu_rate_parse(s, len, key_names[k], &v, err) != 0)
		return -1;
	if (src < r->src[k])
		return 0;
	r->v[k] = v;
	r->src[k] = src;
	return 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim spaces at both ends of p[0..*len); returns the new start. */
static const char *
trim(const char *p, size_t *len)
{
	while (*len > 0 && is_space(p[0])) {
		p++;
		(*len)--;
	}
	while (*len > 0 && is_space(p[*len - 1]))
		(*len)--;
	return p;
}

static bool
key_is(const char *k, size_t klen, const char *name)
{
	return strlen(name) == klen && memcmp(k, name, klen) == 0;
}

static int
set_currency(struct gpu_rates *r, const char *v, size_t vlen,
	     const char *source, long line, struct gpu_err *err)
{
	size_t i;

	if (vlen != 3)
		goto bad;
	for (i = 0; i < vlen; i++)
		if (v[i] < 'A' || v[i] > 'Z')
			goto bad;
	memcpy(r->currency, v, 3);
	r->currency[3] = '\0';
	return 0;
bad:
	return gpu_err_at(err, source, line,
			  "invalid currency '%.*s': want a three-letter code "
			  "such as USD",
			  (int)(vlen > 64 ? 64 : vlen), v);
}

/*
 * Add the rate of a model or (kind "profile") of a MIG profile, which must
 * be one that some GPU offers.
 */
static int
add_model(struct gpu_rates *r, const char *kind, const char *m, size_t mlen,
	  const char *v, size_t vlen, const char *source, long line,
	  struct gpu_err *err)
{
	bool prof = strcmp(kind, "profile") == 0;
	struct gpu_model_rate **arr = prof ? &r->profiles : &r->models;
	size_t *n = prof ? &r->nprofiles : &r->nmodels;
	struct gpu_str name = {m, mlen}, none = {"", 0}, a30 = {"A30", 3};
	char what[200];
	struct gpu_err e;
	int64_t rate;
	int share;
	size_t i;

	if (mlen == 0 || mlen > 128)
		return gpu_err_at(err, source, line,
				  "invalid %s name in '%s.%.*s'", kind, kind,
				  (int)(mlen > 128 ? 128 : mlen), m);
	if (prof && gpu_mig_share(name, none, &share) != 0 &&
	    gpu_mig_share(name, a30, &share) != 0)
		return gpu_err_at(err, source, line,
				  "unknown MIG profile '%.*s' (such as "
				  "3g.40gb or 1g.10gb+me)",
				  (int)mlen, m);
	for (i = 0; i < *n; i++)
		if (strlen((*arr)[i].model) == mlen &&
		    memcmp((*arr)[i].model, m, mlen) == 0)
			return gpu_err_at(err, source, line,
					  "%s '%.*s' given twice", kind,
					  (int)mlen, m);
	snprintf(what, sizeof(what), "%s '%.*s'", kind, (int)mlen, m);
	if (gpu_rate_parse(v, vlen, what, &rate, &e) != 0)
		return gpu_err_at(err, source, line, "%s", e.msg);
	*arr = gpu_xreallocarray(*arr, *n + 1, sizeof(**arr));
	(*arr)[*n].model = gpu_xstrndup(m, mlen);
	(*arr)[*n].rate = rate;
	(*n)++;
	return 0;
}

/* Handle one "key = value" line of a rate card. */
static int
load_line(struct gpu_rates *r, const char *p, size_t len, bool seen[5],
	  const char *source, long line, struct gpu_err *err)
{
	const char *eq, *k, *v;
	size_t klen, vlen, i;
	struct gpu_err e;

	eq = NULL;
	for (i = len; i > 0; i--)
		if (p[i - 1] == '=') {
			eq = p + i - 1;
			break;
		}
	if (eq == NULL)
		return gpu_err_at(err, source, line,
				  "expected 'key = value', got '%.*s'",
				  (int)(len > 80 ? 80 : len), p);
	klen = (size_t)(eq - p);
	k = trim(p, &klen);
	vlen = len - (size_t)(eq - p) - 1;
	v = trim(eq + 1, &vlen);
	if (klen > 6 && memcmp(k, "model.", 6) == 0) {
		size_t mlen = klen - 6;
		const char *m = trim(k + 6, &mlen);

		return add_model(r, "model", m, mlen, v, vlen, source, line,
				 err);
	}
	if (klen > 8 && memcmp(k, "profile.", 8) == 0) {
		size_t mlen = klen - 8;
		const char *m = trim(k + 8, &mlen);

		return add_model(r, "profile", m, mlen, v, vlen, source, line,
				 err);
	}
	for (i = 0; i < GPU_RATE_NKEYS; i++) {
		if (!key_is(k, klen, key_names[i]))
			continue;
		if (seen[i])
			return gpu_err_at(err, source, line,
					  "key '%s' given twice", key_names[i]);
		seen[i] = true;
		if (gpu_rates_set(r, (enum gpu_rate_key)i, v, vlen,
				  GPU_SRC_FILE, &e) != 0)
			return gpu_err_at(err, source, line, "%s", e.msg);
		return 0;
	}
	if (key_is(k, klen, "currency")) {
		if (seen[GPU_RATE_NKEYS])
			return gpu_err_at(err, source, line,
					  "key 'currency' given twice");
		seen[GPU_RATE_NKEYS] = true;
		return set_currency(r, v, vlen, source, line, err);
	}
	return gpu_err_at(err, source, line,
			  "unknown key '%.*s' (valid: gpu_hourly_rate, "
			  "memory_overage_rate, memory_overage_threshold_gb, "
			  "cluster_overhead_rate, currency, model.NAME, "
			  "profile.NAME)",
			  (int)(klen > 80 ? 80 : klen), k);
}

int
gpu_rates_load(struct gpu_rates *r, FILE *fp, const char *source,
	       struct gpu_err *err)
{
	bool seen[GPU_RATE_NKEYS + 1] = {false};
	struct gpu_buf line;
	long lineno = 0;
	int c, rc = 0;

	gpu_buf_init(&line);
	for (;;) {
		const char *p;
		size_t len;

		gpu_buf_reset(&line);
		while ((c = getc(fp)) != EOF && c != '\n')
			gpu_buf_addc(&line, (char)c);
		if (c == EOF && line.len == 0)
			break;
		lineno++;
		len = line.len;
		p = trim(line.data, &len);
		if (len == 0 || p[0] == '#')
			continue;
		if (memchr(p, '\0', len) != NULL) {
			rc = gpu_err_at(err, source, lineno, "NUL byte");
			goto out;
		}
		rc = load_line(r, p, len, seen, source, lineno, err);
		if (rc != 0)
			goto out;
	}
	if (ferror(fp))
		rc = gpu_err_at(err, source, 0, "read error: %s",
				strerror(errno));
out:
	gpu_buf_release(&line);
	return rc;
}

int
gpu_rates_resolve(struct gpu_rates *r, const char *path,
		  const char *const flag[GPU_RATE_NKEYS], bool *bad_usage,
		  struct gpu_err *err)
{
	struct gpu_err e;
	size_t k;

	*bad_usage = true;
	for (k = 0; k < GPU_RATE_NKEYS; k++) {
		const char *env = getenv(env_names[k]);

		if (flag != NULL && flag[k] != NULL) {
			if (gpu_rates_set(r, (enum gpu_rate_key)k, flag[k],
					  strlen(flag[k]), GPU_SRC_FLAG,
					  &e) != 0)
				return gpu_err_set(err, "option --%s: %s",
						   flag_names[k], e.msg);
			continue;
		}
		if (env != NULL && *env != '\0' &&
		    gpu_rates_set(r, (enum gpu_rate_key)k, env, strlen(env),
				  GPU_SRC_ENV, &e) != 0)
			return gpu_err_set(err, "environment %s: %s",
					   env_names[k], e.msg);
	}
	if (path != NULL) {
		FILE *fp = fopen(path, "r");
		int rc;

		if (fp == NULL) {
			*bad_usage = false;
			return gpu_err_set(err, "cannot open '%s': %s", path,
					   strerror(errno));
		}
		rc = gpu_rates_load(r, fp, path, err);
		if (rc != 0 && ferror(fp))
			*bad_usage = false;
		fclose(fp);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int64_t
gpu_rates_threshold_mib(const struct gpu_rates *r)
{
	return gpu_num_div_round((gpu_i128)r->v[GPU_RATE_THRESHOLD] * 1024,
				 1000000);
}

int64_t
gpu_rates_gpu_rate(const struct gpu_rates *r, const char *model, size_t len)
{
	size_t i;

	for (i = 0; i < r->nmodels && len > 0; i++)
		if (strlen(r->models[i].model) == len &&
		    memcmp(r->models[i].model, model, len) == 0)
			return r->models[i].rate;
	return r->v[GPU_RATE_GPU];
}

/*
 * Cents from micro-units: x * rate (micro) / unit * 100 / 1e6, that is
 * x * rate / (unit * 10000), rounded once. The product fits in 128 bits
 * (both factors are int64_t); a quotient beyond int64_t sets *ovf and
 * gives 0.
 */
static int64_t
cents_of(gpu_i128 num, int64_t den, bool *ovf)
{
	int64_t c;

	if (gpu_num_div_round_fit(num, den, &c) != 0) {
		*ovf = true;
		return 0;
	}
	return c;
}

/* a + b, or 0 with *ovf set when the sum does not fit. */
static int64_t
add_of(int64_t a, int64_t b, bool *ovf)
{
	int64_t s;

	if (__builtin_add_overflow(a, b, &s)) {
		*ovf = true;
		return 0;
	}
	return s;
}

static int64_t
gpu_cents(int64_t seconds, int64_t rate, bool *ovf)
{
	return cents_of((gpu_i128)seconds * rate, INT64_C(3600) * 10000, ovf);
}

static int64_t
mem_cents(int64_t mib_seconds, int64_t rate, bool *ovf)
{
	return cents_of((gpu_i128)mib_seconds * rate,
			INT64_C(1024) * 3600 * 10000, ovf);
}

static int64_t
overhead_cents(int64_t cents, int64_t rate, bool *ovf)
{
	return cents_of((gpu_i128)cents * rate, 1000000, ovf);
}

int64_t
gpu_money_gpu_cents(int64_t seconds, int64_t rate)
{
	bool ovf = false;
	int64_t c = gpu_cents(seconds, rate, &ovf);

	return ovf ? INT64_MAX : c;
}

int64_t
gpu_money_gpu_w_cents(int64_t w, int64_t rate)
{
	bool ovf = false;
	int64_t c = cents_of((gpu_i128)w * rate,
			     INT64_C(3600) * 10000 * GPU_SHARE_WHOLE, &ovf);

	return ovf ? INT64_MAX : c;
}

int64_t
gpu_money_mem_cents(int64_t mib_seconds, int64_t rate)
{
	bool ovf = false;
	int64_t c = mem_cents(mib_seconds, rate, &ovf);

	return ovf ? INT64_MAX : c;
}

int64_t
gpu_money_overhead_cents(int64_t cents, int64_t rate)
{
	bool ovf = false;
	int64_t c = overhead_cents(cents, rate, &ovf);

	return ovf ? (cents < 0 ? INT64_MIN : INT64_MAX) : c;
}

struct rem {
	gpu_i128 rem;
	size_t i;
};

static int
rem_cmp(const void *a, const void *b)
{
	const struct rem *x = a, *y = b;

	if (x->rem != y->rem)
		return x->rem > y->rem ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

int64_t
gpu_money_share(int64_t amount, const int64_t *weights, size_t n,
		int64_t *shares)
{
	gpu_i128 total = 0;
	int64_t left = amount;
	struct rem *rems;
	size_t i;

	for (i = 0; i < n; i++) {
		shares[i] = 0;
		total += weights[i];
	}
	if (total <= 0 || amount <= 0)
		return 0;
	rems = gpu_xreallocarray(NULL, n, sizeof(*rems));
	for (i = 0; i < n; i++) {
		gpu_i128 p = (gpu_i128)amount * weights[i];

		shares[i] = (int64_t)(p / total);
		rems[i].rem = p % total;
		rems[i].i = i;
		left -= shares[i];
	}
	qsort(rems, n, sizeof(*rems), rem_cmp);
	for (i = 0; i < n && left > 0; i++, left--)
		shares[rems[i].i]++;
	free(rems);
	return amount;
}

double
gpu_charge_gpu_hours(const struct gpu_charge *c)
{
	if (c->alloc_w == c->alloc_seconds * GPU_SHARE_WHOLE)
		return (double)c->alloc_seconds / 3600.0;
	return (double)c->alloc_w / (3600.0 * GPU_SHARE_WHOLE);
}

void
gpu_charge_add(struct gpu_charge *into, const struct gpu_charge *from)
{
	bool *ovf = &into->overflow;

	*ovf = *ovf || from->overflow;
	into->alloc_seconds =
	    add_of(into->alloc_seconds, from->alloc_seconds, ovf);
	into->alloc_w = add_of(into->alloc_w, from->alloc_w, ovf);
	into->overage = add_of(into->overage, from->overage, ovf);
	into->gpu_cents = add_of(into->gpu_cents, from->gpu_cents, ovf);
	into->mem_cents = add_of(into->mem_cents, from->mem_cents, ovf);
	into->overhead_cents =
	    add_of(into->overhead_cents, from->overhead_cents, ovf);
	into->total_cents = add_of(into->total_cents, from->total_cents, ovf);
	into->idle_cents = add_of(into->idle_cents, from->idle_cents, ovf);
}

/* The rate of MIG profile p from the card; false when it has none. */
static bool
profile_rate(const struct gpu_rates *r, struct gpu_str p, int64_t *rate)
{
	for (size_t i = 0; i < r->nprofiles && p.len > 0; i++)
		if (strlen(r->profiles[i].model) == p.len &&
		    memcmp(r->profiles[i].model, p.p, p.len) == 0) {
			*rate = r->profiles[i].rate;
			return true;
		}
	return false;
}

/* The rounded charge of one part, adding its seconds to c. */
static int64_t
part_cents(struct gpu_charge *c, const struct gpu_rates *r,
	   const struct gpu_bill_part *p)
{
	bool *ovf = &c->overflow;
	int w = p->share28 > 0 ? p->share28 : GPU_SHARE_WHOLE;
	int64_t rate, dw;

	if (__builtin_mul_overflow(p->seconds, (int64_t)w, &dw)) {
		*ovf = true;
		dw = 0;
	}
	c->alloc_seconds = add_of(c->alloc_seconds, p->seconds, ovf);
	c->alloc_w = add_of(c->alloc_w, dw, ovf);
	/* A slice's card rate, also for one as large as its GPU (7g.80gb). */
	if (profile_rate(r, p->profile, &rate))
		return gpu_cents(p->seconds, rate, ovf);
	rate = gpu_rates_gpu_rate(r, p->model.p, p->model.len);
	if (w == GPU_SHARE_WHOLE)
		return gpu_cents(p->seconds, rate, ovf);
	return cents_of((gpu_i128)dw * rate,
			INT64_C(3600) * 10000 * GPU_SHARE_WHOLE, ovf);
}

static void charge_rest(struct gpu_charge *c, const struct gpu_rates *r,
			int64_t overage);

void
gpu_charge_parts(struct gpu_charge *c, const struct gpu_rates *r,
		 const struct gpu_bill_part *parts, size_t n, int64_t overage)
{
	bool *ovf = &c->overflow;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++)
		c->gpu_cents =
		    add_of(c->gpu_cents, part_cents(c, r, &parts[i]), ovf);
	charge_rest(c, r, overage);
}

void
gpu_charge_job(struct gpu_charge *c, const struct gpu_rates *r,
	       const struct gpu_str *models, const int64_t *parts, size_t n,
	       int64_t overage)
{
	bool *ovf = &c->overflow;
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < n; i++) {
		struct gpu_bill_part p = {models[i], {"", 0}, 0, parts[i]};

		c->gpu_cents = add_of(c->gpu_cents, part_cents(c, r, &p), ovf);
	}
	charge_rest(c, r, overage);
}

/* The memory charge, overhead and total of c, whose GPU charge is set. */
static void
charge_rest(struct gpu_charge *c, const struct gpu_rates *r, int64_t overage)
{
	bool *ovf = &c->overflow;

	c->overage = overage;
	c->mem_cents = mem_cents(overage, r->v[GPU_RATE_MEM], ovf);
	c->overhead_cents =
	    overhead_cents(add_of(c->gpu_cents, c->mem_cents, ovf),
			   r->v[GPU_RATE_OVERHEAD], ovf);
	c->total_cents = add_of(add_of(c->gpu_cents, c->mem_cents, ovf),
				c->overhead_cents, ovf);
}

int
gpu_bill_by_parse(const char *s, enum gpu_bill_by *by)
{
	if (strcmp(s, "job") == 0)
		*by = GPU_BILL_JOB;
	else if (strcmp(s, "user") == 0)
		*by = GPU_BILL_USER;
	else if (strcmp(s, "project") == 0)
		*by = GPU_BILL_PROJECT;
	else
		return -1;
	return 0;
}

struct period {
	char *label;
	struct gpu_bill_part *idle;
	size_t nidle;
};

struct job {
	size_t period;	    /* index into bill->periods */
	const char *job_id; /* in the key of bill->job_of */
	const char *user;   /* owners: "" or in bill->names */
	const char *project;
	int64_t user_rank, project_rank;
	struct gpu_bill_part *parts;
	size_t nparts;
	int64_t overage;
};

struct gpu_bill {
	const struct gpu_rates *rates;
	struct period *periods;
	size_t nperiods;
	struct job *jobs;
	size_t njobs, jobs_cap;
	struct gpu_hashmap job_of; /* (period, job id) -> index into jobs */
	struct gpu_buf key;
	/*
	 * Owners, models and profiles, each name once: a bill has a few
	 * of them and a part or owner for every job.
	 */
	struct gpu_hashmap names;
};

struct gpu_bill *
gpu_bill_new(const struct gpu_rates *r)
{
	struct gpu_bill *b = gpu_xcalloc(1, sizeof(*b));

	b->rates = r;
	gpu_hashmap_init(&b->job_of);
	gpu_buf_init(&b->key);
	gpu_hashmap_init(&b->names);
	return b;
}

/* The copy of v that b keeps, for as long as b lives. */
static struct gpu_str
intern(struct gpu_bill *b, struct gpu_str v)
{
	size_t i;

	if (v.len == 0)
		return (struct gpu_str){"", 0};
	i = gpu_hashmap_put(&b->names, v.p, v.len, NULL);
	return (struct gpu_str){gpu_hashmap_key(&b->names, i), v.len};
}

void
gpu_bill_free(struct gpu_bill *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nperiods; i++) {
		free(b->periods[i].label);
		free(b->periods[i].idle);
	}
	for (i = 0; i < b->njobs; i++)
		free(b->jobs[i].parts);
	free(b->periods);
	free(b->jobs);
	gpu_hashmap_release(&b->job_of);
	gpu_buf_release(&b->key);
	gpu_hashmap_release(&b->names);
	free(b);
}

static size_t
find_period(struct gpu_bill *b, const char *label)
{
	size_t i;

	for (i = 0; i < b->nperiods; i++)
		if (strcmp(b->periods[i].label, label) == 0)
			return i;
	b->periods =
	    gpu_xreallocarray(b->periods, b->nperiods + 1, sizeof(*b->periods));
	b->periods[i].label = gpu_xstrdup(label);
	b->periods[i].idle = NULL;
	b->periods[i].nidle = 0;
	return b->nperiods++;
}

static struct job *
find_job(struct gpu_bill *b, size_t period, struct gpu_str id)
{
	struct job *j;
	bool added;
	size_t i;

	gpu_buf_reset(&b->key);
	gpu_buf_add(&b->key, &period, sizeof(period));
	gpu_buf_add(&b->key, id.p, id.len);
	i = gpu_hashmap_put(&b->job_of, b->key.data, b->key.len, &added);
	if (!added)
		return &b->jobs[gpu_hashmap_at(&b->job_of, i)->val];
	gpu_hashmap_at(&b->job_of, i)->val = b->njobs;
	if (b->njobs == b->jobs_cap) {
		b->jobs_cap = b->jobs_cap == 0 ? 64 : 2 * b->jobs_cap;
		b->jobs =
		    gpu_xreallocarray(b->jobs, b->jobs_cap, sizeof(*b->jobs));
	}
	j = &b->jobs[b->njobs++];
	memset(j, 0, sizeof(*j));
	j->period = period;
	/* The map's copy of the key (period, then the id) never moves. */
	j->job_id = gpu_hashmap_key(&b->job_of, i) + sizeof(period);
	j->user = j->project = "";
	j->user_rank = j->project_rank = INT64_MIN;
	return j;
}

static bool
str_eq(struct gpu_str a, struct gpu_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/*
 * Add seconds to the part of (model, profile, share) of u in *parts,
 * making it if new. A slice keeps its profile, for the card's rate, also
 * one as large as its GPU, whose share is that of a whole GPU (0).
 */
static int
add_part(struct gpu_bill *b, struct gpu_bill_part **parts, size_t *n,
	 const struct gpu_bill_usage *u, int64_t secs)
{
	int w = u->share28 > 0 && u->share28 < GPU_SHARE_WHOLE ? u->share28 : 0;
	struct gpu_str prof =
	    u->share28 > 0 ? u->profile : (struct gpu_str){"", 0};
	size_t i;

	for (i = 0; i < *n; i++)
		if (str_eq((*parts)[i].model, u->model) &&
		    str_eq((*parts)[i].profile, prof) &&
		    (*parts)[i].share28 == w)
			break;
	if (i == *n) {
		*parts = gpu_xreallocarray(*parts, *n + 1, sizeof(**parts));
		(*parts)[i].model = intern(b, u->model);
		(*parts)[i].profile = intern(b, prof);
		(*parts)[i].share28 = w;
		(*parts)[i].seconds = 0;
		(*n)++;
	}
	if (__builtin_add_overflow((*parts)[i].seconds, secs,
				   &(*parts)[i].seconds))
		return -1;
	return 0;
}

static void
take_owner(struct gpu_bill *b, const char **dst, int64_t *rank,
	   struct gpu_str v, int64_t new_rank)
{
	if (v.len == 0 || new_rank < *rank)
		return;
	*dst = intern(b, v).p;
	*rank = new_rank;
}

int
gpu_bill_add(struct gpu_bill *b, const struct gpu_bill_usage *u,
	     struct gpu_err *err)
{
	size_t p = find_period(b, u->period);
	struct period *per;
	struct job *j;
	int64_t idle;

	if (u->alloc_seconds < 0 || u->overage < 0 || u->gpu_seconds < 0)
		return gpu_err_set(err, "negative usage");
	idle = u->gpu_seconds - u->alloc_seconds;
	per = &b->periods[p];
	if (idle > 0 && add_part(b, &per->idle, &per->nidle, u, idle) != 0)
		goto overflow;
	if (u->job_id.len == 0)
		return 0;
	j = find_job(b, p, u->job_id);
	take_owner(b, &j->user, &j->user_rank, u->user, u->owner_rank);
	take_owner(b, &j->project, &j->project_rank, u->project, u->owner_rank);
	if (add_part(b, &j->parts, &j->nparts, u, u->alloc_seconds) != 0 ||
	    __builtin_add_overflow(j->overage, u->overage, &j->overage))
		goto overflow;
	return 0;
overflow:
	return gpu_err_set(err, "usage sum overflows");
}

static struct gpu_str
str_of(const char *s)
{
	return (struct gpu_str){s, strlen(s)};
}

int
gpu_bill_add_agg(struct gpu_bill *b, const struct gpu_agg *a,
		 const char *period, struct gpu_err *err)
{
	size_t i, n = gpu_agg_count(a);

	for (i = 0; i < n; i++) {
		const struct gpu_group *g = gpu_agg_group(a, i);
		struct gpu_bill_usage u = {
		    .period = period,
		    .job_id = str_of(g->job_id),
		    .user = str_of(g->user),
		    .project = str_of(g->project),
		    .model = str_of(g->model),
		    .profile = str_of(g->profile != NULL ? g->profile : ""),
		    .alloc_seconds = g->sums.alloc_seconds,
		    .overage = g->sums.overage,
		    .gpu_seconds = g->sums.gpu_seconds,
		    .owner_rank = 0,
		};

		/* A profile the warehouse holds is one its model offers. */
		if (u.profile.len > 0 &&
		    gpu_mig_share(u.profile, u.model, &u.share28) != 0)
			return gpu_err_set(err, "unknown MIG profile '%s'",
					   g->profile);
		if (gpu_bill_add(b, &u, err) != 0)
			return -1;
	}
	return 0;
}

static void
price_job(const struct gpu_rates *r, const struct job *j, struct gpu_charge *c)
{
	gpu_charge_parts(c, r, j->parts, j->nparts, j->overage);
}

static int
job_cmp(const void *a, const void *b)
{
	const struct job *x = *(const struct job *const *)a;
	const struct job *y = *(const struct job *const *)b;

	/* Periods are compared by index here; lines sort by label later. */
	if (x->period != y->period)
		return x->period < y->period ? -1 : 1;
	return strcmp(x->job_id, y->job_id);
}

static const char *
line_key(const struct gpu_bill_line *l, enum gpu_bill_by by)
{
	return by == GPU_BILL_USER ? l->user : l->project;
}

static int
line_cmp(const struct gpu_bill_line *x, const struct gpu_bill_line *y,
	 enum gpu_bill_by by)
{
	int c = strcmp(x->period, y->period);

	if (c != 0)
		return c;
	if (by == GPU_BILL_JOB)
		return strcmp(x->job_id, y->job_id);
	return strcmp(line_key(x, by), line_key(y, by));
}

static int
line_cmp_job(const void *a, const void *b)
{
	return line_cmp(a, b, GPU_BILL_JOB);
}

static int
line_cmp_user(const void *a, const void *b)
{
	return line_cmp(a, b, GPU_BILL_USER);
}

static int
line_cmp_project(const void *a, const void *b)
{
	return line_cmp(a, b, GPU_BILL_PROJECT);
}

/*
 * qsort() v, unless it is in order already: jobs come from an aggregate
 * sorted by job, so they mostly are, and a check costs n comparisons
 * where the sort costs n log n. An input in order is left as a stable
 * sort (glibc's) leaves it.
 */
static void
sort_unsorted(void *v, size_t n, size_t size,
	      int (*cmp)(const void *, const void *))
{
	const char *p = v;

	for (size_t i = 1; i < n; i++)
		if (cmp(p + (i - 1) * size, p + i * size) > 0) {
			qsort(v, n, size, cmp);
			return;
		}
}

static void
sort_lines(struct gpu_bill_line *lines, size_t n, enum gpu_bill_by by)
{
	sort_unsorted(lines, n, sizeof(*lines),
		      by == GPU_BILL_JOB    ? line_cmp_job
		      : by == GPU_BILL_USER ? line_cmp_user
					    : line_cmp_project);
}

static bool
keep_line(const struct gpu_bill_line *l, const char *user, const char *project)
{
	if (user != NULL && strcmp(l->user, user) != 0)
		return false;
	if (project != NULL && strcmp(l->project, project) != 0)
		return false;
	return true;
}

/* Fold sorted job lines into one line per (period, user|project). */
static size_t
fold_lines(struct gpu_bill_line *lines, size_t n, enum gpu_bill_by by)
{
	size_t i, out = 0;

	sort_lines(lines, n, by);
	for (i = 0; i < n; i++) {
		struct gpu_bill_line l = lines[i];

		l.job_id = NULL;
		l.parts = NULL;
		l.nparts = 0;
		if (by == GPU_BILL_USER)
			l.project = NULL;
		else
			l.user = NULL;
		if (out > 0 && strcmp(lines[out - 1].period, l.period) == 0 &&
		    strcmp(line_key(&lines[out - 1], by), line_key(&l, by)) ==
			0) {
			gpu_charge_add(&lines[out - 1].c, &l.c);
			continue;
		}
		lines[out++] = l;
	}
	return out;
}

void
gpu_bill_report(const struct gpu_bill *b, enum gpu_bill_by by, bool share_idle,
		const char *user, const char *project,
		struct gpu_bill_report *rep)
{
	const struct job **jobs;
	struct gpu_bill_line *lines;
	int64_t *w, *shares;
	size_t i, n = 0, start;
	bool *ovf = &rep->overflow;

	memset(rep, 0, sizeof(*rep));
	jobs = gpu_xreallocarray(NULL, b->njobs + 1, sizeof(*jobs));
	lines = gpu_xreallocarray(NULL, b->njobs + 1, sizeof(*lines));
	w = gpu_xreallocarray(NULL, b->njobs + 1, sizeof(*w));
	shares = gpu_xreallocarray(NULL, b->njobs + 1, sizeof(*shares));
	for (i = 0; i < b->njobs; i++)
		jobs[i] = &b->jobs[i];
	sort_unsorted(jobs, b->njobs, sizeof(*jobs), job_cmp);
	for (i = 0; i < b->njobs; i++) {
		lines[i].period = b->periods[jobs[i]->period].label;
		lines[i].job_id = jobs[i]->job_id;
		lines[i].user = jobs[i]->user;
		lines[i].project = jobs[i]->project;
		lines[i].parts = jobs[i]->parts;
		lines[i].nparts = jobs[i]->nparts;
		price_job(b->rates, jobs[i], &lines[i].c);
		w[i] = lines[i].c.alloc_seconds;
	}
	/* Idle price and shares, one period (a run of jobs) at a time. */
	for (start = 0, i = 0; i < b->nperiods; i++) {
		const struct period *per = &b->periods[i];
		int64_t cents = 0;
		size_t j, end;

		for (j = 0; j < per->nidle; j++) {
			struct gpu_charge part = {0};

			rep->idle_seconds = add_of(rep->idle_seconds,
						   per->idle[j].seconds, ovf);
			cents = add_of(
			    cents, part_cents(&part, b->rates, &per->idle[j]),
			    ovf);
			*ovf = *ovf || part.overflow;
		}
		rep->idle_cents = add_of(rep->idle_cents, cents, ovf);
		for (end = start; end < b->njobs && jobs[end]->period == i;)
			end++;
		if (share_idle) {
			gpu_money_share(cents, w + start, end - start,
					shares + start);
			for (j = start; j < end; j++)
				lines[j].c.idle_cents = shares[j];
		}
		start = end;
	}
	for (i = 0; i < b->njobs; i++)
		if (keep_line(&lines[i], user, project))
			lines[n++] = lines[i];
	if (by == GPU_BILL_JOB) {
		sort_lines(lines, n, by);
	} else {
		n = fold_lines(lines, n, by);
	}
	for (i = 0; i < n; i++)
		gpu_charge_add(&rep->total, &lines[i].c);
	rep->overflow = rep->overflow || rep->total.overflow;
	rep->lines = lines;
	rep->nlines = n;
	free(jobs);
	free(w);
	free(shares);
}

void
gpu_bill_report_release(struct gpu_bill_report *rep)
{
	free(rep->lines);
	memset(rep, 0, sizeof(*rep));
}
