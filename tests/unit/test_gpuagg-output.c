/* SPDX-License-Identifier: MIT */
/* Unit tests of gpuagg's output: columns, order and rows (src/gpuagg.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuagg.h"

/* 2026-11-28T16:00:00Z */
#define T INT64_C(1795881600000)
#define HOUR INT64_C(3600000)

static struct gpu_str
str(const char *s)
{
	struct gpu_str r = {s, strlen(s)};

	return r;
}

static void
add(struct gpu_agg *a, int64_t ts, const char *node, double util)
{
	struct gpu_sample s;

	memset(&s, 0, sizeof(s));
	s.ts_ms = ts;
	s.node = str(node);
	s.util_pct = util;
	s.mem_used_mib = 1;
	s.job_id = s.user = s.project = s.model = str("");
	gpu_agg_add_sample(a, &s, 60);
}

static void
test_gpuagg_output_columns(void **state)
{
	struct gpu_agg_query q;
	const char *cols[AGG_MAX_COLS];
	size_t n;

	(void)state;
	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_WEEK;
	q.dims = GPU_DIM_MODEL | GPU_DIM_GPU | GPU_DIM_JOB;
	n = agg_columns(&q, 1u << GPU_M_SAMPLES, cols);
	assert_int_equal(n, 9);
	assert_string_equal(cols[0], "week");
	assert_string_equal(cols[1], "node");
	assert_string_equal(cols[2], "gpu");
	assert_string_equal(cols[3], "mig");
	assert_string_equal(cols[4], "job_id");
	assert_string_equal(cols[5], "user");
	assert_string_equal(cols[6], "project");
	assert_string_equal(cols[7], "model");
	assert_string_equal(cols[8], "samples");
	q.period = GPU_PERIOD_ALL;
	q.dims = 0;
	assert_int_equal(agg_columns(&q, GPU_METRICS_ALL, cols), GPU_M_COUNT);
}

/* Each bucket by the metric, descending; the first top of each kept. */
static void
test_gpuagg_output_order_top(void **state)
{
	struct gpu_agg_query q;
	struct gpu_agg *a;
	const struct gpu_group *g[8];

	(void)state;
	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_HOUR;
	q.dims = GPU_DIM_NODE;
	a = gpu_agg_new(&q);
	add(a, T, "a", 10);
	add(a, T, "b", 90);
	add(a, T, "c", 50);
	add(a, T + HOUR, "a", 70);
	add(a, T + HOUR, "b", 70);
	gpu_agg_finish(a);
	assert_int_equal(agg_order(a, false, GPU_M_SAMPLES, 0, NULL, 0, g), 5);
	assert_string_equal(g[0]->node, "a");
	assert_string_equal(g[2]->node, "c");
	assert_int_equal(
	    agg_order(a, true, GPU_M_BUSY_GPU_HOURS, 2, NULL, 0, g), 4);
	assert_string_equal(g[0]->node, "b");
	assert_string_equal(g[1]->node, "c");
	assert_string_equal(g[2]->node, "a"); /* a tie keeps key order */
	assert_string_equal(g[3]->node, "b");
	gpu_agg_free(a);
}

static char *
render(const struct gpu_agg *a, enum gpu_ofmt fmt, unsigned metrics)
{
	const struct gpu_group *g[8];
	size_t n = agg_order(a, false, GPU_M_SAMPLES, 0, NULL, 0, g), len = 0;
	struct gpu_agg_query qq;
	char *p = NULL;
	FILE *fp = open_memstream(&p, &len);

	gpu_agg_query_init(&qq);
	qq.period = GPU_PERIOD_DAY;
	qq.dims = GPU_DIM_NODE;
	assert_non_null(fp);
	assert_int_equal(agg_write(g, n, &qq, fp, fmt, metrics, 0, false), 0);
	fclose(fp);
	return p;
}

/* Rows: the day's label, the keys, exact integers, nulls as empty. */
static void
test_gpuagg_output_rows(void **state)
{
	unsigned m = (1u << GPU_M_SAMPLES) | (1u << GPU_M_GPU_HOURS) |
		     (1u << GPU_M_AVG_POWER_W);
	struct gpu_agg_query q;
	struct gpu_agg *a;
	char *out;

	(void)state;
	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_DAY;
	q.dims = GPU_DIM_NODE;
	a = gpu_agg_new(&q);
	add(a, T, "n\"1", 10);
	add(a, T + 30 * HOUR, "n2", 10);
	gpu_agg_finish(a);
	out = render(a, GPU_OUT_CSV, m);
	assert_string_equal(out, "day,node,samples,gpu_hours,avg_power_w\n"
				 "2026-11-28,\"n\"\"1\",1,0.016667,\n"
				 "2026-11-29,n2,1,0.016667,\n");
	free(out);
	out = render(a, GPU_OUT_JSONL, 1u << GPU_M_SAMPLES);
	assert_string_equal(out, "{\"day\":\"2026-11-28\",\"node\":\"n\\\"1\","
				 "\"samples\":1}\n"
				 "{\"day\":\"2026-11-29\",\"node\":\"n2\","
				 "\"samples\":1}\n");
	free(out);
	gpu_agg_free(a);
}

static void
test_gpuagg_output_help_metrics(void **state)
{
	char *p = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&p, &len);

	(void)state;
	assert_non_null(fp);
	agg_print_metrics(fp);
	fclose(fp);
	assert_string_equal(
	    p,
	    "Metrics: samples, gpu_seconds, alloc_gpu_seconds, gpu_hours,\n"
	    "alloc_gpu_hours, busy_gpu_hours, avg_util_pct, alloc_util_pct,\n"
	    "idle_gpu_hours, alloc_idle_gpu_hours, avg_mem_used_mib,\n"
	    "max_mem_used_mib, avg_mem_util_pct, avg_power_w, energy_kwh,\n"
	    "mem_overage_mib_seconds.\n");
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gpuagg_output_columns),
	    cmocka_unit_test(test_gpuagg_output_order_top),
	    cmocka_unit_test(test_gpuagg_output_rows),
	    cmocka_unit_test(test_gpuagg_output_help_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
