/* SPDX-License-Identifier: MIT */
/* Unit tests for the aggregate, the in-memory group table (gpu/agg.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/agg.h"

#include "sample-fixture.h"

/* 2026-11-28T16:00:00Z */
#define T INT64_C(1795881600000)
#define HOUR INT64_C(3600000)

static void
test_agg_parse_dims(void **state)
{
	struct gpu_err err = {0};
	unsigned d = 0;

	(void)state;
	assert_int_equal(gpu_dims_parse("gpu,job", &d, &err), 0);
	assert_int_equal(d, GPU_DIM_GPU | GPU_DIM_JOB);
	assert_int_equal(gpu_dims_parse("none", &d, &err), 0);
	assert_int_equal(d, 0);
	assert_int_equal(gpu_dims_parse("node,host", &d, &err), -1);
	assert_non_null(strstr(err.msg, "valid: node, gpu, job, user"));
}

/* Groups sort by bucket then keys, "" first; owners are the latest. */
static void
test_agg_stream_groups(void **state)
{
	struct gpu_agg_query q;
	struct gpu_agg *a;
	struct gpu_sample s;
	const struct gpu_group *g;

	(void)state;
	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_DAY;
	q.dims = GPU_DIM_JOB;
	q.to_ms = T + 48 * HOUR;
	a = gpu_agg_new(&q);
	s = smp(T + 60000, "n2", 0, 10, 1, "j1", "late");
	gpu_agg_add_sample(a, &s, 60);
	s = smp(T, "n1", 0, 10, 1, "j1", "early");
	gpu_agg_add_sample(a, &s, 60);
	s = smp(T + 120000, "n1", 0, 10, 1, "j1", "");
	gpu_agg_add_sample(a, &s, 60);
	s = smp(T, "n1", 1, 10, 1, "", "nobody");
	gpu_agg_add_sample(a, &s, 60);
	s = smp(T + 48 * HOUR, "n1", 1, 10, 1, "j9", "out");
	gpu_agg_add_sample(a, &s, 60); /* at to: excluded */
	s = smp(T - 20 * HOUR, "n1", 1, 10, 1, "j0", "prev");
	gpu_agg_add_sample(a, &s, 60);
	gpu_agg_finish(a);
	assert_int_equal(gpu_agg_count(a), 3);
	g = gpu_agg_group(a, 0);
	assert_string_equal(g->job_id, "j0");
	g = gpu_agg_group(a, 1);
	assert_string_equal(g->job_id, "");
	assert_string_equal(g->user, "");
	g = gpu_agg_group(a, 2);
	assert_string_equal(g->job_id, "j1");
	assert_string_equal(g->user, "late");
	assert_int_equal(g->sums.samples, 3);
	assert_int_equal(g->gpu, -1);
	assert_string_equal(g->node, "");
	gpu_agg_free(a);
}

/*
 * By usage category each sample goes to the class of its utilization
 * (bounds 5, 30, 70 start the next class), the classes sort from idle to
 * high rather than by name, and a job's owner spans its classes.
 */
static void
test_agg_usage_category(void **state)
{
	static const double util[] = {100, 70, 69.99, 30, 29.99, 5, 4.99, 0};
	static const char *const want[] = {"idle", "low", "medium", "high"};
	struct gpu_agg_query q;
	struct gpu_agg *a;
	struct gpu_sample s;
	struct gpu_err err = {0};
	const struct gpu_group *g;
	unsigned d = 0;

	(void)state;
	assert_int_equal(gpu_dims_parse("user,usage_category", &d, &err), 0);
	assert_int_equal(d, GPU_DIM_USER | GPU_DIM_CATEGORY);
	gpu_agg_query_init(&q);
	q.dims = GPU_DIM_JOB | GPU_DIM_CATEGORY;
	a = gpu_agg_new(&q);
	for (int i = 0; i < 8; i++) {
		s = smp(T + i * 60000, "n1", 0, util[i], 1, "j1",
			i == 0 ? "ann" : "");
		gpu_agg_add_sample(a, &s, 60);
	}
	gpu_agg_finish(a);
	assert_int_equal(gpu_agg_count(a), 4);
	for (size_t i = 0; i < 4; i++) {
		g = gpu_agg_group(a, i);
		assert_int_equal(g->category, (int)i);
		assert_string_equal(
		    gpu_usage_cat_name((enum gpu_usage_cat)g->category),
		    want[i]);
		assert_int_equal(g->sums.samples, 2);
		assert_string_equal(g->user, "ann");
	}
	gpu_agg_free(a);
	q.dims = GPU_DIM_JOB; /* not grouped by it: one group, category -1 */
	a = gpu_agg_new(&q);
	gpu_agg_add_sample(a, &s, 60);
	gpu_agg_finish(a);
	assert_int_equal(gpu_agg_group(a, 0)->category, -1);
	gpu_agg_free(a);
}

/* Groups added from rollup rows merge by key; the latest owner wins. */
static void
test_agg_add_group(void **state)
{
	struct gpu_agg_query q;
	struct gpu_agg *a;
	struct gpu_group g;
	struct gpu_owner none = {INT64_MIN, INT64_MIN, {"", 0}, {"", 0}};
	struct gpu_owner o1 = {T, T, {"ann", 3}, {"p1", 2}};
	struct gpu_owner o2 = {T + HOUR, INT64_MIN, {"bob", 3}, {"", 0}};
	const struct gpu_group *out;

	(void)state;
	gpu_agg_query_init(&q);
	q.dims = GPU_DIM_JOB;
	a = gpu_agg_new(&q);
	memset(&g, 0, sizeof(g));
	g.node = "n1";
	g.job_id = "j1";
	g.user = g.project = g.model = g.profile = "";
	gpu_sums_init(&g.sums);
	g.sums.samples = 2;
	gpu_agg_add_group(a, &g, &o1);
	g.node = "n2"; /* not a key: the same group */
	gpu_agg_add_group(a, &g, &o2);
	g.job_id = "j2";
	gpu_agg_add_group(a, &g, &none);
	gpu_agg_finish(a);
	assert_int_equal(gpu_agg_count(a), 2);
	out = gpu_agg_group(a, 0);
	assert_string_equal(out->job_id, "j1");
	assert_string_equal(out->node, "");
	assert_int_equal(out->sums.samples, 4);
	assert_string_equal(out->user, "bob");
	assert_string_equal(out->project, "p1");
	out = gpu_agg_group(a, 1);
	assert_string_equal(out->user, "");
	gpu_agg_free(a);
	assert_true(gpu_owner_later(T, str("b"), T, "a"));
	assert_false(gpu_owner_later(T, str("a"), T, "b"));
	assert_true(gpu_owner_later(T + 1, str("a"), T, "b"));
	assert_false(gpu_owner_later(T, str("ab"), T, "abc"));
	assert_true(gpu_owner_later(T, str("abc"), T, "ab"));
	gpu_agg_free(NULL);
}

/*
 * Groups added distinct take no lookup; a later lookup still finds them
 * (they are indexed first), and the sort and owners are as for
 * gpu_agg_add_group().
 */
static void
test_agg_add_distinct(void **state)
{
	struct gpu_agg_query q;
	struct gpu_agg *a;
	struct gpu_group g;
	struct gpu_dgroup dg;
	struct gpu_owner none = {INT64_MIN, INT64_MIN, {"", 0}, {"", 0}};
	struct gpu_owner o1 = {T, T, {"ann", 3}, {"p1", 2}};
	struct gpu_str text[GPU_KT_N] = {{"n1", 2}, {"j2", 2}, {"", 0},
				  {"", 0},   {"m", 1},	{"", 0}};
	const struct gpu_group *out;

	(void)state;
	gpu_agg_query_init(&q);
	q.dims = GPU_DIM_JOB;
	a = gpu_agg_new(&q);
	gpu_agg_reserve(a, 1);
	memset(&g, 0, sizeof(g));
	gpu_sums_init(&g.sums);
	g.sums.samples = 2;
	memset(&dg, 0, sizeof(dg));
	memcpy(dg.text, text, sizeof(text));
	dg.gpu = 3; /* not a key: read as -1 */
	dg.plain = ~0u; /* kept only for the texts grouped by */
	dg.sums = &g.sums;
	gpu_agg_add_distinct(a, &dg, &o1); /* j2, ann */
	dg.text[1].p = "j1";
	gpu_agg_add_distinct(a, &dg, &none); /* j1, grows past 1 */
	/* A lookup of j2 after them merges into the first group. */
	g.node = "n9";
	g.job_id = "j2";
	g.user = g.project = g.model = g.profile = "";
	gpu_agg_add_group(a, &g, &none);
	g.job_id = "j3";
	gpu_agg_add_group(a, &g, &none);
	/* Distinct again after lookups: the next lookup finds it too. */
	dg.text[1].p = "j4";
	gpu_agg_add_distinct(a, &dg, &none);
	g.job_id = "j4";
	gpu_agg_add_group(a, &g, &none);
	gpu_agg_finish(a);
	assert_int_equal(gpu_agg_count(a), 4);
	assert_string_equal(gpu_agg_group(a, 3)->job_id, "j4");
	assert_int_equal(gpu_agg_group(a, 3)->sums.samples, 4);
	out = gpu_agg_group(a, 0);
	assert_string_equal(out->job_id, "j1");
	assert_string_equal(out->node, "");  /* not a key */
	assert_string_equal(out->model, ""); /* not a key */
	assert_int_equal(out->gpu, -1);	     /* not a key */
	assert_int_equal(out->sums.samples, 2);
	out = gpu_agg_group(a, 1);
	assert_string_equal(out->job_id, "j2");
	assert_int_equal(out->sums.samples, 4);
	assert_string_equal(out->user, "ann");
	assert_string_equal(out->project, "p1");
	/* The owner is not a key: its plainness is not known. */
	assert_int_equal(out->plain, 1u << GPU_KT_JOB);
	assert_string_equal(gpu_agg_group(a, 2)->job_id, "j3");
	gpu_agg_free(a);
}

/*
 * Groups out of order are sorted as strcmp() orders their keys, whether
 * they differ in the first 8 bytes or after them, or are prefixes of one
 * another; bytes above 0x7f sort after ASCII; buckets come first.
 */
static void
test_agg_sort(void **state)
{
	static const char *const ids[] = {
	    "job-00000002", "j10", "job-00000001", "\xc3\xa9t\xc3\xa9", "j2",
	    "job-0000",	    "j1",  "job-00000010", "",			 "job-000"};
	static const char *const want[] = {
	    "",		    "j1",	    "j10",	    "j2",	"job-000",
	    "job-0000",	    "job-00000001", "job-00000002", "job-00000010",
	    "\xc3\xa9t\xc3\xa9"};
	struct gpu_agg_query q;
	struct gpu_owner none = {INT64_MIN, INT64_MIN, {"", 0}, {"", 0}};
	struct gpu_agg *a;
	struct gpu_group g;
	size_t n = sizeof(ids) / sizeof(ids[0]);

	(void)state;
	gpu_agg_query_init(&q);
	q.dims = GPU_DIM_JOB;
	a = gpu_agg_new(&q);
	memset(&g, 0, sizeof(g));
	gpu_sums_init(&g.sums);
	g.node = g.user = g.project = g.model = g.profile = "";
	for (int b = 1; b >= 0; b--) /* the later bucket first */
		for (size_t i = 0; i < n; i++) {
			g.bucket_ms = T + b * 3600000;
			g.job_id = ids[i];
			gpu_agg_add_group(a, &g, &none);
		}
	gpu_agg_finish(a);
	assert_int_equal(gpu_agg_count(a), 2 * n);
	for (size_t i = 0; i < 2 * n; i++) {
		assert_int_equal(gpu_agg_group(a, i)->bucket_ms,
				 T + (int64_t)(i / n) * 3600000);
		assert_string_equal(gpu_agg_group(a, i)->job_id, want[i % n]);
	}
	gpu_agg_free(a);
}

/*
 * Rows of one group in a row skip the key and the lookup (the last group
 * found is kept): in runs, alternating, one name the prefix of another,
 * empty names, the same node in another hour, the names in one buffer
 * the caller overwrites (as a reader's row is), the same groups and sums
 * as the rows added in the reverse order.
 */
static void
test_agg_runs(void **state)
{
	static const struct {
		int64_t ts;
		const char *node, *user;
	} rows[] = {
	    {0, "n1", "a"},	  {0, "n1", "a"},  {0, "n1", "a"},
	    {0, "n10", "a"},  {0, "n1", "a"},  {0, "n1", ""},
	    {0, "n1", ""},	  {0, "n1", "ab"}, {0, "n1", "a"},
	    {HOUR, "n1", "a"}, {HOUR, "n1", "a"}, {0, "n1", "a"},
	    {HOUR, "", "a"},  {HOUR, "", "a"},  {HOUR, "n10", "a"},
	    {HOUR, "n1", "a"}};
	size_t nrows = sizeof(rows) / sizeof(rows[0]);
	struct gpu_agg_query q;
	struct gpu_agg *fwd, *rev;
	char node[8], user[8];

	(void)state;
	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_HOUR;
	q.dims = GPU_DIM_NODE | GPU_DIM_USER;
	fwd = gpu_agg_new(&q);
	rev = gpu_agg_new(&q);
	for (size_t k = 0; k < 2 * nrows; k++) {
		size_t i = k < nrows ? k : 2 * nrows - 1 - k;
		struct gpu_sample s;

		strcpy(node, rows[i].node);
		strcpy(user, rows[i].user);
		s = smp(T + rows[i].ts, node, (int)i, 10, 1, "", user);
		s.node.len = strlen(node); /* the buffer's text, not a copy */
		gpu_agg_add_sample(k < nrows ? fwd : rev, &s, 60);
		memset(node, 'x', sizeof(node) - 1); /* the row buffer reused */
		memset(user, 'y', sizeof(user) - 1);
	}
	gpu_agg_finish(fwd);
	gpu_agg_finish(rev);
	/* hour 0: n1/"", n1/a, n1/ab, n10/a; hour 1: ""/a, n1/a, n10/a */
	assert_int_equal(gpu_agg_count(fwd), 7);
	assert_int_equal(gpu_agg_count(rev), 7);
	for (size_t i = 0; i < 7; i++) {
		const struct gpu_group *x = gpu_agg_group(fwd, i);
		const struct gpu_group *y = gpu_agg_group(rev, i);

		assert_true(x->bucket_ms == y->bucket_ms);
		assert_string_equal(x->node, y->node);
		assert_string_equal(x->user, y->user);
		assert_true(x->sums.samples == y->sums.samples);
	}
	assert_true(gpu_agg_group(fwd, 1)->sums.samples == 6); /* n1/a, 0 */
	assert_true(gpu_agg_group(fwd, 5)->sums.samples == 3); /* n1/a, 1 */
	gpu_agg_free(fwd);
	gpu_agg_free(rev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_agg_parse_dims),
	    cmocka_unit_test(test_agg_stream_groups),
	    cmocka_unit_test(test_agg_add_group),
	    cmocka_unit_test(test_agg_add_distinct),
	    cmocka_unit_test(test_agg_sort),
	    cmocka_unit_test(test_agg_runs),
	    cmocka_unit_test(test_agg_usage_category),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
