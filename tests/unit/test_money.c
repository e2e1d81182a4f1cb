/* SPDX-License-Identifier: MIT */
/* Unit tests of the money module: rates, rate cards, charges, bills. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/agg.h"
#include "gpu/money.h"

static struct gpu_str
str(const char *s)
{
	struct gpu_str v = {s, strlen(s)};

	return v;
}

static void
test_money_rate_parse(void **state)
{
	struct gpu_err err;
	int64_t v = -7;

	(void)state;
	assert_int_equal(gpu_rate_parse("2.50", 4, "x", &v, &err), 0);
	assert_int_equal(v, 2500000);
	assert_int_equal(gpu_rate_parse("0.000001", 8, "x", &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(gpu_rate_parse("7", 1, "x", &v, &err), 0);
	assert_int_equal(v, 7000000);
	assert_int_equal(gpu_rate_parse("-1", 2, "gpu_hourly_rate", &v, &err),
			 -1);
	assert_string_equal(err.msg,
			    "invalid rate '-1' for gpu_hourly_rate: negative");
	assert_int_equal(gpu_rate_parse("1.1234567", 9, "r", &v, &err), -1);
	assert_string_equal(err.msg,
			    "invalid rate '1.1234567' for r: more than 6 "
			    "decimals");
	assert_int_equal(gpu_rate_parse("abc", 3, "r", &v, &err), -1);
	assert_string_equal(err.msg,
			    "invalid rate 'abc' for r: not a decimal number");
	assert_int_equal(gpu_rate_parse("1e3", 3, "r", &v, &err), -1);
	assert_int_equal(gpu_rate_parse("", 0, "r", &v, &err), -1);
	assert_int_equal(gpu_rate_parse(" 1", 2, "r", &v, &err), -1);
	assert_int_equal(v, 7000000);
}

static void
test_money_defaults_threshold(void **state)
{
	struct gpu_rates r;
	struct gpu_err err;

	(void)state;
	gpu_rates_init(&r);
	assert_int_equal(r.v[GPU_RATE_GPU], 2500000);
	assert_int_equal(r.v[GPU_RATE_MEM], 100000);
	assert_int_equal(r.v[GPU_RATE_OVERHEAD], 50000);
	assert_string_equal(r.currency, "USD");
	assert_int_equal(gpu_rates_threshold_mib(&r), 16384);
	/* 15.9995 GiB = 16383.488 MiB -> 16383; 0.0005 GiB = 0.512 -> 1 */
	assert_int_equal(gpu_rates_set(&r, GPU_RATE_THRESHOLD, "15.9995", 7,
				       GPU_SRC_FLAG, &err),
			 0);
	assert_int_equal(gpu_rates_threshold_mib(&r), 16383);
	assert_int_equal(gpu_rates_set(&r, GPU_RATE_THRESHOLD, "0.0005", 6,
				       GPU_SRC_FLAG, &err),
			 0);
	assert_int_equal(gpu_rates_threshold_mib(&r), 1);
	/* A weaker source does not override a stronger one. */
	assert_int_equal(
	    gpu_rates_set(&r, GPU_RATE_THRESHOLD, "8", 1, GPU_SRC_ENV, &err),
	    0);
	assert_int_equal(gpu_rates_threshold_mib(&r), 1);
	gpu_rates_release(&r);
}

static int
load_text(struct gpu_rates *r, const char *text, struct gpu_err *err)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(fp);
	rc = gpu_rates_load(r, fp, "card", err);
	fclose(fp);
	return rc;
}

static void
test_money_rate_card(void **state)
{
	struct gpu_rates r;
	struct gpu_err err;

	(void)state;
	gpu_rates_init(&r);
	assert_int_equal(load_text(&r,
				   "# card\n\n  gpu_hourly_rate = 3.25  \n"
				   "currency=EUR\r\n"
				   "model.NVIDIA H100 80GB HBM3 = 4.000001\n"
				   "model. A100 = 1\n"
				   "cluster_overhead_rate = 0\n",
				   &err),
			 0);
	assert_int_equal(r.v[GPU_RATE_GPU], 3250000);
	assert_int_equal(r.src[GPU_RATE_GPU], GPU_SRC_FILE);
	assert_int_equal(r.v[GPU_RATE_OVERHEAD], 0);
	assert_string_equal(r.currency, "EUR");
	assert_int_equal(r.nmodels, 2);
	assert_int_equal(gpu_rates_gpu_rate(&r, "NVIDIA H100 80GB HBM3", 21),
			 4000001);
	assert_int_equal(gpu_rates_gpu_rate(&r, "A100", 4), 1000000);
	assert_int_equal(gpu_rates_gpu_rate(&r, "V100", 4), 3250000);
	assert_int_equal(gpu_rates_gpu_rate(&r, "", 0), 3250000);
	gpu_rates_release(&r);

	gpu_rates_init(&r);
	assert_int_equal(load_text(&r, "\n\ngpu_hourly_rate = -2\n", &err), -1);
	assert_string_equal(err.source, "card");
	assert_int_equal(err.line, 3);
	assert_string_equal(err.msg, "invalid rate '-2' for gpu_hourly_rate: "
				     "negative");
	assert_int_equal(r.v[GPU_RATE_GPU], 2500000);
	assert_int_equal(load_text(&r, "gpu_rate = 2\n", &err), -1);
	assert_non_null(strstr(err.msg, "unknown key 'gpu_rate'"));
	assert_int_equal(load_text(&r, "currency = usd\n", &err), -1);
	assert_int_equal(load_text(&r, "just words\n", &err), -1);
	assert_int_equal(load_text(&r, "model.X = 1\nmodel.X = 2\n", &err), -1);
	assert_int_equal(err.line, 2);
	assert_int_equal(load_text(&r, "mem_overage_rate = 1\n", &err), -1);
	assert_int_equal(load_text(&r,
				   "memory_overage_rate = 1\n"
				   "memory_overage_rate = 2\n",
				   &err),
			 -1);
	gpu_rates_release(&r);
}

static void
test_money_precedence(void **state)
{
	const char *flag[GPU_RATE_NKEYS] = {NULL, "0.2", NULL, NULL};
	char path[] = "/tmp/test_money_XXXXXX";
	struct gpu_rates r;
	struct gpu_err err;
	bool bad = false;
	FILE *fp;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs("gpu_hourly_rate = 9\nmemory_overage_rate = 9\n"
	      "cluster_overhead_rate = 0.5\n",
	      fp);
	fclose(fp);
	setenv("GPU_HOURLY_RATE", "3", 1);
	setenv("MEMORY_OVERAGE_RATE", "4", 1);
	unsetenv("CLUSTER_OVERHEAD_RATE");
	unsetenv("MEMORY_OVERAGE_THRESHOLD_GB");
	gpu_rates_init(&r);
	assert_int_equal(gpu_rates_resolve(&r, path, flag, &bad, &err), 0);
	assert_int_equal(r.v[GPU_RATE_GPU], 3000000);	     /* env > file */
	assert_int_equal(r.v[GPU_RATE_MEM], 200000);	     /* flag > env */
	assert_int_equal(r.v[GPU_RATE_OVERHEAD], 500000);    /* file > def */
	assert_int_equal(r.v[GPU_RATE_THRESHOLD], 16000000); /* default */
	assert_int_equal(r.src[GPU_RATE_MEM], GPU_SRC_FLAG);
	gpu_rates_release(&r);

	setenv("GPU_HOURLY_RATE", "x", 1);
	gpu_rates_init(&r);
	assert_int_equal(gpu_rates_resolve(&r, NULL, NULL, &bad, &err), -1);
	assert_true(bad);
	assert_string_equal(err.msg, "environment GPU_HOURLY_RATE: invalid "
				     "rate 'x' for gpu_hourly_rate: not a "
				     "decimal number");
	unsetenv("GPU_HOURLY_RATE");
	unsetenv("MEMORY_OVERAGE_RATE");
	assert_int_equal(
	    gpu_rates_resolve(&r, "/nonexistent/x", NULL, &bad, &err), -1);
	assert_false(bad);
	gpu_rates_release(&r);
	unlink(path);
}

static void
test_money_half_cents(void **state)
{
	(void)state;
	/* 36 s at 2.50/h = 2.5 cents -> 3; 35 s = 2.43 -> 2 */
	assert_int_equal(gpu_money_gpu_cents(36, 2500000), 3);
	assert_int_equal(gpu_money_gpu_cents(35, 2500000), 2);
	assert_int_equal(gpu_money_gpu_cents(-36, 2500000), -3);
	/* 1800 s at 0.01/h = 0.5 cent -> 1; 1799 s -> 0 */
	assert_int_equal(gpu_money_gpu_cents(1800, 10000), 1);
	assert_int_equal(gpu_money_gpu_cents(1799, 10000), 0);
	assert_int_equal(gpu_money_gpu_cents(3600, 2500000), 250);
	/* 1 GiB-hour at 0.10 = 10 cents; half a cent both sides */
	assert_int_equal(gpu_money_mem_cents(1024 * 3600, 100000), 10);
	assert_int_equal(gpu_money_mem_cents(1024 * 180, 100000), 1);
	assert_int_equal(gpu_money_mem_cents(1024 * 180 - 1, 100000), 0);
	/* 5% of 10, 30, 50 cents: 0.5 -> 1, 1.5 -> 2, 2.5 -> 3 */
	assert_int_equal(gpu_money_overhead_cents(10, 50000), 1);
	assert_int_equal(gpu_money_overhead_cents(30, 50000), 2);
	assert_int_equal(gpu_money_overhead_cents(50, 50000), 3);
	assert_int_equal(gpu_money_overhead_cents(9, 50000), 0);
	/* Big values need 128-bit intermediates: a year of 100k GPUs. */
	assert_int_equal(
	    gpu_money_gpu_cents(INT64_C(3153600000000), 999999999999),
	    INT64_C(87599999999912400));
}

static void
test_money_charge_job_models(void **state)
{
	struct gpu_str models[3] = {str("H100"), str("A100"), str("")};
	int64_t parts[3] = {36, 36, 3600};
	struct gpu_rates r;
	struct gpu_charge c;
	struct gpu_err err;
	FILE *fp;
	static const char card[] = "model.H100 = 4.25\nmodel.A100 = 1.25\n";

	(void)state;
	gpu_rates_init(&r);
	fp = fmemopen((void *)card, strlen(card), "r");
	assert_int_equal(gpu_rates_load(&r, fp, "c", &err), 0);
	fclose(fp);
	/*
	 * H100: 36 s * 4.25 / 3600 = 4.25 -> 4; A100: 1.25 -> 1; rest 250.
	 * Pricing the 72 s together at one rate would differ: the model
	 * charges are rounded one by one and summed.
	 */
	gpu_charge_job(&c, &r, models, parts, 3, 1024 * 3600 * 2);
	assert_int_equal(c.alloc_seconds, 3672);
	assert_int_equal(c.gpu_cents, 255);
	assert_int_equal(c.mem_cents, 20);
	assert_int_equal(c.overhead_cents, 14); /* 5% of 275 = 13.75 */
	assert_int_equal(c.total_cents, 289);
	gpu_rates_release(&r);
}

static void
test_money_share(void **state)
{
	int64_t w[4] = {1, 1, 1, 0}, s[4];
	int64_t w2[3] = {2, 1, 1}, z[2] = {0, 0};

	(void)state;
	assert_int_equal(gpu_money_share(100, w, 4, s), 100);
	assert_int_equal(s[0], 34);
	assert_int_equal(s[1], 33);
	assert_int_equal(s[2], 33);
	assert_int_equal(s[3], 0);
	/* 7 * 2/4 = 3.5, 1.75, 1.75: floors 3,1,1 then +1 to 0.75s, in order */
	assert_int_equal(gpu_money_share(7, w2, 3, s), 7);
	assert_int_equal(s[0], 3);
	assert_int_equal(s[1], 2);
	assert_int_equal(s[2], 2);
	assert_int_equal(gpu_money_share(5, z, 2, s), 0);
	assert_int_equal(s[0] + s[1], 0);
}

static void
add(struct gpu_bill *b, const char *period, const char *job, const char *user,
    const char *project, const char *model, int64_t alloc, int64_t overage,
    int64_t rank)
{
	struct gpu_bill_usage u = {period,	 str(job),   str(user),
				   str(project), str(model), alloc,
				   overage,	 alloc,	     rank, {"", 0}, 0};
	struct gpu_err err;

	assert_int_equal(gpu_bill_add(b, &u, &err), 0);
}

static void
test_money_bill_user_many_jobs(void **state)
{
	struct gpu_bill_report rep, ru;
	struct gpu_rates r;
	struct gpu_bill *b;
	struct gpu_bill_usage idle = {
	    "2026-11", str(""), str(""), str(""), str(""), 0, 0, 7200, 0, {"", 0}, 0};
	struct gpu_err err;
	int64_t sum = 0;
	size_t i;

	(void)state;
	gpu_rates_init(&r);
	b = gpu_bill_new(&r);
	/* Ten jobs of 36 s: each 2.5 -> 3 cents; the user line is 30, not
	 * round(360 s) = 25. */
	for (i = 0; i < 10; i++) {
		char id[8];

		snprintf(id, sizeof(id), "j%zu", i);
		add(b, "2026-11", id, "alice", "p1", "", 36, 0, 1);
	}
	add(b, "2026-11", "k", "", "p2", "", 3600, 0, 1);
	add(b, "2026-11", "k", "bob", "", "", 0, 0, 2);
	add(b, "2026-11", "k", "carol", "", "", 0, 0, 0);
	assert_int_equal(gpu_bill_add(b, &idle, &err), 0);

	gpu_bill_report(b, GPU_BILL_JOB, true, NULL, NULL, &rep);
	assert_int_equal(rep.nlines, 11);
	assert_string_equal(rep.lines[0].job_id, "j0");
	assert_int_equal(rep.lines[0].c.gpu_cents, 3);
	assert_string_equal(rep.lines[10].job_id, "k");
	assert_string_equal(rep.lines[10].user, "bob"); /* latest owner */
	assert_string_equal(rep.lines[10].project, "p2");
	assert_int_equal(rep.idle_cents, 500);
	for (i = 0; i < rep.nlines; i++)
		sum += rep.lines[i].c.idle_cents;
	assert_int_equal(sum, 500);
	assert_int_equal(rep.total.idle_cents, 500);

	gpu_bill_report(b, GPU_BILL_USER, true, "alice", NULL, &ru);
	assert_int_equal(ru.nlines, 1);
	assert_string_equal(ru.lines[0].user, "alice");
	assert_null(ru.lines[0].job_id);
	assert_int_equal(ru.lines[0].c.alloc_seconds, 360);
	assert_int_equal(ru.lines[0].c.gpu_cents, 30);
	assert_int_equal(ru.lines[0].c.overhead_cents, 10 * 0);
	assert_int_equal(ru.total.total_cents, 30);
	sum = 0;
	for (i = 0; i < 10; i++)
		sum += rep.lines[i].c.idle_cents;
	assert_int_equal(ru.lines[0].c.idle_cents, sum);
	gpu_bill_report_release(&ru);
	gpu_bill_report_release(&rep);

	gpu_bill_report(b, GPU_BILL_PROJECT, false, NULL, NULL, &rep);
	assert_int_equal(rep.nlines, 2);
	assert_string_equal(rep.lines[0].project, "p1");
	assert_string_equal(rep.lines[1].project, "p2");
	assert_int_equal(rep.lines[1].c.gpu_cents, 250);
	assert_int_equal(rep.lines[1].c.overhead_cents, 13);
	assert_int_equal(rep.total.idle_cents, 0);
	gpu_bill_report_release(&rep);
	gpu_bill_free(b);
	gpu_rates_release(&r);
}

/*
 * Lines come in (period, job) order whatever order the usage came in,
 * and in that order already they are left as they are; owners, models
 * and profiles stay right as many more names are kept after them.
 */
static void
test_money_bill_order_and_names(void **state)
{
	struct gpu_bill_report rep;
	struct gpu_rates r;
	struct gpu_bill *b;
	char id[16], user[16];

	(void)state;
	gpu_rates_init(&r);
	b = gpu_bill_new(&r);
	add(b, "2026-12", "b", "u1", "p1", "m1", 60, 0, 1);
	add(b, "2026-11", "c", "u2", "p1", "m1", 60, 0, 1);
	add(b, "2026-11", "a", "u1", "p1", "m1", 60, 0, 1);
	add(b, "2026-11", "a", "u3", "p2", "m2", 60, 0, 2);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "z%03d", i);
		snprintf(user, sizeof(user), "x%d", i);
		add(b, "2026-11", id, user, user, user, 60, 0, 1);
	}
	gpu_bill_report(b, GPU_BILL_JOB, false, NULL, NULL, &rep);
	assert_int_equal(rep.nlines, 303);
	assert_string_equal(rep.lines[0].job_id, "a");
	assert_string_equal(rep.lines[0].user, "u3");
	assert_string_equal(rep.lines[0].project, "p2");
	assert_int_equal(rep.lines[0].nparts, 2);
	assert_string_equal(rep.lines[0].parts[0].model.p, "m1");
	assert_string_equal(rep.lines[0].parts[1].model.p, "m2");
	assert_string_equal(rep.lines[1].job_id, "c");
	assert_string_equal(rep.lines[2].job_id, "z000");
	assert_string_equal(rep.lines[301].user, "x299");
	assert_string_equal(rep.lines[301].parts[0].model.p, "x299");
	assert_string_equal(rep.lines[302].period, "2026-12");
	assert_string_equal(rep.lines[302].job_id, "b");
	assert_string_equal(rep.lines[302].user, "u1");
	for (size_t i = 1; i < rep.nlines; i++)
		assert_true(
		    strcmp(rep.lines[i - 1].period, rep.lines[i].period) < 0 ||
		    strcmp(rep.lines[i - 1].job_id, rep.lines[i].job_id) < 0);
	gpu_bill_report_release(&rep);
	/* By user: u1 and u3 (jobs a, b), u2, then x0, x1, x10, ... */
	gpu_bill_report(b, GPU_BILL_USER, false, NULL, NULL, &rep);
	assert_int_equal(rep.nlines, 303);
	assert_string_equal(rep.lines[0].user, "u2");
	assert_string_equal(rep.lines[1].user, "u3");
	assert_string_equal(rep.lines[2].user, "x0");
	assert_string_equal(rep.lines[3].user, "x1");
	assert_string_equal(rep.lines[4].user, "x10");
	assert_string_equal(rep.lines[302].user, "u1");
	gpu_bill_report_release(&rep);
	gpu_bill_free(b);
	gpu_rates_release(&r);
}

static void
test_money_bill_empty(void **state)
{
	struct gpu_bill_report rep;
	struct gpu_rates r;
	struct gpu_bill *b;

	(void)state;
	gpu_rates_init(&r);
	b = gpu_bill_new(&r);
	gpu_bill_report(b, GPU_BILL_USER, true, NULL, NULL, &rep);
	assert_int_equal(rep.nlines, 0);
	assert_int_equal(rep.total.total_cents, 0);
	gpu_bill_report_release(&rep);
	gpu_bill_free(NULL);
	gpu_bill_free(b);
	gpu_rates_release(&r);
}

/* Add n one-minute samples of one GPU from t (ms) to a. */
static void
add_samples(struct gpu_agg *a, int64_t t, int gpu, int n, const char *job,
	    const char *user, int64_t used)
{
	struct gpu_sample s;

	memset(&s, 0, sizeof(s));
	s.node = str("n1");
	s.gpu = gpu;
	s.util_pct = 50;
	s.mem_used_mib = used;
	s.job_id = str(job);
	s.user = str(user);
	s.project = str(job[0] != '\0' ? "p1" : "");
	s.model = str("h100");
	for (int i = 0; i < n; i++) {
		s.ts_ms = t + (int64_t)i * 60000;
		gpu_agg_add_sample(a, &s, 60);
	}
}

static void
test_money_bill_add_agg(void **state)
{
	/* 2026-11-28T16:00:00Z */
	const int64_t t = INT64_C(1795881600000);
	struct gpu_agg_query q;
	struct gpu_bill_report rep;
	struct gpu_rates r;
	struct gpu_bill *b;
	struct gpu_agg *a;
	struct gpu_err err;

	(void)state;
	gpu_agg_query_init(&q);
	q.dims = GPU_DIM_JOB | GPU_DIM_MODEL;
	a = gpu_agg_new(&q);
	/* An hour of j1 at 1 GiB over the 16 GiB threshold, half an hour
	 * unallocated. */
	add_samples(a, t, 0, 60, "j1", "alice", 16384 + 1024);
	add_samples(a, t, 1, 30, "", "", 0);
	gpu_agg_finish(a);
	assert_int_equal(gpu_agg_count(a), 2);
	gpu_rates_init(&r);
	b = gpu_bill_new(&r);
	assert_int_equal(gpu_bill_add_agg(b, a, "2026-11", &err), 0);
	gpu_bill_report(b, GPU_BILL_JOB, true, NULL, NULL, &rep);
	assert_int_equal(rep.nlines, 1);
	assert_string_equal(rep.lines[0].period, "2026-11");
	assert_string_equal(rep.lines[0].job_id, "j1");
	assert_string_equal(rep.lines[0].user, "alice");
	assert_string_equal(rep.lines[0].project, "p1");
	assert_int_equal(rep.lines[0].c.alloc_seconds, 3600);
	assert_int_equal(rep.lines[0].c.overage, INT64_C(1024) * 3600);
	assert_int_equal(rep.lines[0].c.gpu_cents, 250);
	assert_int_equal(rep.lines[0].c.mem_cents, 10);
	assert_int_equal(rep.lines[0].c.overhead_cents, 13);
	assert_int_equal(rep.lines[0].c.total_cents, 273);
	/* The unallocated half hour is idle: 1.25, all shared to j1. */
	assert_int_equal(rep.idle_seconds, 1800);
	assert_int_equal(rep.idle_cents, 125);
	assert_int_equal(rep.lines[0].c.idle_cents, 125);
	gpu_bill_report_release(&rep);
	gpu_bill_free(b);
	gpu_rates_release(&r);
	gpu_agg_free(a);
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Half away from zero for non-negative values, by another route. */
static int64_t
naive_round(gpu_i128 num, gpu_i128 den)
{
	return (int64_t)((2 * num + den) / (2 * den));
}

static void
check_report(const struct gpu_bill_report *rep, const struct gpu_rates *r)
{
	struct gpu_charge sum = {0};
	size_t i;

	for (i = 0; i < rep->nlines; i++) {
		const struct gpu_charge *c = &rep->lines[i].c;

		assert_int_equal(c->total_cents, c->gpu_cents + c->mem_cents +
						     c->overhead_cents);
		gpu_charge_add(&sum, c);
		if (i > 0)
			assert_true(strcmp(rep->lines[i - 1].period,
					   rep->lines[i].period) <= 0);
	}
	assert_memory_equal(&sum, &rep->total, sizeof(sum));
	(void)r;
}

static void
test_money_property_reconciles(void **state)
{
	static const char *const users[] = {"", "u1", "u2", "u3"};
	static const char *const projects[] = {"", "pa", "pb"};
	static const char *const models[] = {"", "H100", "A100"};
	static const char *const periods[] = {"2026-10", "2026-11"};
	uint64_t seed = 20261128;
	int iter;

	(void)state;
	for (iter = 0; iter < 300; iter++) {
		struct gpu_bill_report rj, ru, rp, rn;
		struct gpu_rates r;
		struct gpu_bill *b;
		struct gpu_err err;
		int64_t expect_gpu = 0, idle_by_period[2] = {0, 0};
		int64_t idle_secs[2][3] = {{0}};
		int64_t alloc_by_period[2] = {0, 0};
		size_t i, n = 1 + rnd(&seed) % 40;

		gpu_rates_init(&r);
		r.v[GPU_RATE_GPU] = (int64_t)(rnd(&seed) % 10000000);
		r.v[GPU_RATE_MEM] = (int64_t)(rnd(&seed) % 1000000);
		r.v[GPU_RATE_OVERHEAD] = (int64_t)(rnd(&seed) % 300000);
		r.models = calloc(1, sizeof(*r.models));
		r.models[0].model = strdup("H100");
		r.models[0].rate = (int64_t)(rnd(&seed) % 10000000);
		r.nmodels = 1;
		b = gpu_bill_new(&r);
		for (i = 0; i < n; i++) {
			char job[16];
			struct gpu_bill_usage u;
			size_t p = rnd(&seed) % 2;
			int64_t idle = (int64_t)(rnd(&seed) % 3) == 0
					   ? (int64_t)(rnd(&seed) % 9000)
					   : 0;

			snprintf(job, sizeof(job), "%d",
				 (int)(rnd(&seed) % 12));
			u.period = periods[p];
			u.job_id = str(rnd(&seed) % 8 == 0 ? "" : job);
			u.user = str(users[rnd(&seed) % 4]);
			u.project = str(projects[rnd(&seed) % 3]);
			u.model = str(models[rnd(&seed) % 3]);
			u.alloc_seconds = u.job_id.len == 0
					      ? 0
					      : (int64_t)(rnd(&seed) % 500000);
			u.overage = u.job_id.len == 0
					? 0
					: (int64_t)(rnd(&seed) % 3) *
					      (int64_t)(rnd(&seed) % 90000000);
			u.gpu_seconds = u.alloc_seconds + idle;
			u.owner_rank = (int64_t)i;
			idle_secs[p][u.model.len == 0	   ? 0
				     : u.model.p[0] == 'H' ? 1
							   : 2] += idle;
			assert_int_equal(gpu_bill_add(b, &u, &err), 0);
			alloc_by_period[p] += u.alloc_seconds;
		}
		/* Idle time is priced per period and model, then shared. */
		for (i = 0; i < 6; i++)
			idle_by_period[i / 3] += gpu_money_gpu_cents(
			    idle_secs[i / 3][i % 3],
			    gpu_rates_gpu_rate(&r, models[i % 3],
					       strlen(models[i % 3])));
		gpu_bill_report(b, GPU_BILL_JOB, true, NULL, NULL, &rj);
		gpu_bill_report(b, GPU_BILL_USER, true, NULL, NULL, &ru);
		gpu_bill_report(b, GPU_BILL_PROJECT, true, NULL, NULL, &rp);
		gpu_bill_report(b, GPU_BILL_JOB, false, NULL, NULL, &rn);
		check_report(&rj, &r);
		check_report(&ru, &r);
		check_report(&rp, &r);
		check_report(&rn, &r);
		/* Every grouping bills the same cents. */
		assert_memory_equal(&rj.total, &ru.total, sizeof(rj.total));
		assert_memory_equal(&rj.total, &rp.total, sizeof(rj.total));
		assert_int_equal(rn.total.total_cents, rj.total.total_cents);
		assert_int_equal(rn.total.idle_cents, 0);
		/* Job lines priced independently. */
		for (i = 0; i < rj.nlines; i++) {
			const struct gpu_charge *c = &rj.lines[i].c;
			int64_t m = naive_round((gpu_i128)c->overage *
						    r.v[GPU_RATE_MEM],
						(gpu_i128)1024 * 36000000);

			assert_int_equal(c->mem_cents, m);
			assert_int_equal(
			    c->overhead_cents,
			    naive_round((gpu_i128)(c->gpu_cents + m) *
					    r.v[GPU_RATE_OVERHEAD],
					1000000));
			expect_gpu += c->gpu_cents;
		}
		assert_int_equal(rj.total.gpu_cents, expect_gpu);
		/* Idle shares add up to the idle price, to the cent. */
		assert_int_equal(rj.idle_cents,
				 idle_by_period[0] + idle_by_period[1]);
		assert_int_equal(
		    rj.total.idle_cents,
		    (alloc_by_period[0] > 0 ? idle_by_period[0] : 0) +
			(alloc_by_period[1] > 0 ? idle_by_period[1] : 0));
		gpu_bill_report_release(&rj);
		gpu_bill_report_release(&ru);
		gpu_bill_report_release(&rp);
		gpu_bill_report_release(&rn);
		gpu_bill_free(b);
		gpu_rates_release(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_money_rate_parse),
	    cmocka_unit_test(test_money_defaults_threshold),
	    cmocka_unit_test(test_money_rate_card),
	    cmocka_unit_test(test_money_precedence),
	    cmocka_unit_test(test_money_half_cents),
	    cmocka_unit_test(test_money_charge_job_models),
	    cmocka_unit_test(test_money_share),
	    cmocka_unit_test(test_money_bill_user_many_jobs),
	    cmocka_unit_test(test_money_bill_order_and_names),
	    cmocka_unit_test(test_money_bill_empty),
	    cmocka_unit_test(test_money_bill_add_agg),
	    cmocka_unit_test(test_money_property_reconciles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
