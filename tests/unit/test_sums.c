/* SPDX-License-Identifier: MIT */
/* Unit tests for the sums and metrics (gpu/sums.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gpu/db.h"
#include "gpu/sums.h"

#include "sample-fixture.h"

/* 2026-11-28T16:00:00Z */
#define T INT64_C(1795881600000)

static void
test_sums_add_merge_metrics(void **state)
{
	struct gpu_sums a, b;
	struct gpu_sample s = smp(T, "n", 0, 50, 20000, "j", "u");
	struct gpu_value v;

	(void)state;
	gpu_sums_init(&a);
	gpu_metric_value(&a, GPU_M_AVG_UTIL_PCT, &v);
	assert_int_equal(v.kind, GPU_VAL_NULL);
	gpu_metric_value(&a, GPU_M_MAX_MEM_USED_MIB, &v);
	assert_int_equal(v.kind, GPU_VAL_NULL);
	s.has_power = true;
	s.power_w = 300;
	s.has_mem_total = true;
	s.mem_total_mib = 40000;
	gpu_sums_add(&a, &s, 60, GPU_DEFAULT_THRESHOLD_MIB);
	s = smp(T + 60000, "n", 0, 2, 100, "", "");
	s.interval_s = 30;
	gpu_sums_init(&b);
	gpu_sums_add(&b, &s, 60, GPU_DEFAULT_THRESHOLD_MIB);
	gpu_sums_merge(&a, &b);
	assert_int_equal(a.samples, 2);
	assert_int_equal(a.gpu_seconds, 90);
	assert_int_equal(a.alloc_seconds, 60);
	assert_int_equal(a.idle_seconds, 30);
	assert_int_equal(a.max_mem, 20000);
	assert_int_equal(a.overage, 60 * (20000 - 16384));
	assert_true(a.last_ms == T + 60000);
	gpu_metric_value(&a, GPU_M_AVG_UTIL_PCT, &v);
	assert_int_equal(v.kind, GPU_VAL_DOUBLE);
	assert_true(fabs(v.d - (60 * 50 + 30 * 2) / 90.0) < 1e-12);
	gpu_metric_value(&a, GPU_M_ALLOC_UTIL_PCT, &v);
	assert_true(fabs(v.d - 50) < 1e-12);
	gpu_metric_value(&a, GPU_M_AVG_POWER_W, &v);
	assert_true(fabs(v.d - 300) < 1e-12); /* only the sample with power */
	gpu_metric_value(&a, GPU_M_AVG_MEM_UTIL_PCT, &v);
	assert_true(fabs(v.d - 50) < 1e-12);
	gpu_metric_value(&a, GPU_M_ENERGY_KWH, &v);
	assert_true(fabs(v.d - 60 * 300 / 3.6e6) < 1e-12);
	gpu_metric_value(&a, GPU_M_MEM_OVERAGE_MIB_SECONDS, &v);
	assert_int_equal(v.kind, GPU_VAL_INT);
	/* Idle time inside allocations only: alloc_idle_gpu_hours. */
	gpu_sums_init(&b);
	s = smp(T, "n", 0, 1, 100, "j", "u");
	gpu_sums_add(&b, &s, 60, GPU_DEFAULT_THRESHOLD_MIB);
	s = smp(T, "n", 1, 1, 100, "", "");
	gpu_sums_add(&b, &s, 60, GPU_DEFAULT_THRESHOLD_MIB);
	s = smp(T, "n", 2, 50, 100, "j", "u");
	gpu_sums_add(&b, &s, 60, GPU_DEFAULT_THRESHOLD_MIB);
	assert_int_equal(b.idle_seconds, 120);
	assert_int_equal(b.alloc_idle_seconds, 60);
	gpu_metric_value(&b, GPU_M_ALLOC_IDLE_GPU_HOURS, &v);
	assert_true(fabs(v.d - 60 / 3600.0) < 1e-12);
}

/* Maxima keep the larger, empty sums merge as nothing. */
static void
test_sums_init_merge(void **state)
{
	struct gpu_sums a, b, e;

	(void)state;
	gpu_sums_init(&a);
	assert_int_equal(a.samples, 0);
	assert_int_equal(a.max_mem, -1);
	assert_true(a.last_ms == INT64_MIN);
	assert_true(a.busy == 0);
	gpu_sums_init(&b);
	b.samples = 2;
	b.busy = 0.5;
	b.max_mem = 7;
	b.last_ms = T;
	gpu_sums_merge(&a, &b);
	gpu_sums_merge(&a, &b);
	assert_int_equal(a.samples, 4);
	assert_true(a.busy == 1.0);
	assert_int_equal(a.max_mem, 7);
	assert_true(a.last_ms == T);
	gpu_sums_init(&e);
	gpu_sums_merge(&a, &e);
	assert_int_equal(a.max_mem, 7);
	assert_true(a.last_ms == T);
	assert_int_equal(GPU_SUMS_N, 21);
}

static void
test_sums_parse_metrics(void **state)
{
	static const char *const dims[] = {"a", "b", "c"};
	struct gpu_err err = {0};
	unsigned m = 0;
	enum gpu_metric one;

	(void)state;
	assert_int_equal(gpu_metrics_parse("gpu_hours,samples", &m, &err), 0);
	assert_int_equal(m, (1u << GPU_M_GPU_HOURS) | (1u << GPU_M_SAMPLES));
	assert_int_equal(gpu_metrics_parse("gpu_hours,,samples", &m, &err), -1);
	assert_int_equal(gpu_metrics_parse("util", &m, &err), -1);
	assert_non_null(strstr(err.msg, "'util'"));
	assert_non_null(strstr(err.msg, "mem_overage_mib_seconds"));
	assert_int_equal(gpu_metric_parse("energy_kwh", &one, &err), 0);
	assert_int_equal(one, GPU_M_ENERGY_KWH);
	assert_string_equal(gpu_metric_name(GPU_M_COUNT), "?");
	assert_string_equal(gpu_metric_name(GPU_M_SAMPLES), "samples");
	assert_string_equal(gpu_metric_name(GPU_M_MEM_OVERAGE_MIB_SECONDS),
			    "mem_overage_mib_seconds");
	assert_int_equal(gpu_names_parse("c,a", "x", dims, 3, &m, &err), 0);
	assert_int_equal(m, 5u);
	assert_int_equal(gpu_names_parse("d", "thing", dims, 3, &m, &err), -1);
	assert_string_equal(err.msg, "unknown thing 'd' (valid: a, b, c)");
}

#define SUM_NAME_(name, ctype, sqltype, merge, empty) #name,
#define SUM_TYPE_(name, ctype, sqltype, merge, empty) sqltype,

/*
 * The rollup tables of the warehouse hold the sums of GPU_SUMS, in its
 * order and with its types, after their keys: a new sum needs a
 * migration.
 */
static void
test_sums_match_rollup_schema(void **state)
{
	static const char *const names[] = {GPU_SUMS(SUM_NAME_)};
	static const char *const types[] = {GPU_SUMS(SUM_TYPE_)};
	static const struct {
		const char *table;
		int nkeys;
	} tabs[] = {{"usage_hourly", 9},
		    {"usage_daily", 9},
		    {"usage_hourly_node", 2},
		    {"usage_hourly_owner", 3}};
	struct gpu_db_opts o = {.lock_timeout_ms = 1000};
	struct gpu_err err = {0};
	sqlite3 *db = NULL;
	char sql[128];

	(void)state;
	assert_int_equal(gpu_db_open(":memory:", &o, &db, &err), 0);
	for (size_t t = 0; t < sizeof(tabs) / sizeof(tabs[0]); t++) {
		sqlite3_stmt *st;
		int i = 0;

		snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)",
			 tabs[t].table);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
				 SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			int k = i++ - tabs[t].nkeys;

			if (k < 0)
				continue;
			assert_true(k < GPU_SUMS_N);
			assert_string_equal(sqlite3_column_text(st, 1),
					    names[k]);
			assert_string_equal(sqlite3_column_text(st, 2),
					    types[k]);
		}
		sqlite3_finalize(st);
		assert_int_equal(i, tabs[t].nkeys + GPU_SUMS_N);
	}
	assert_int_equal(gpu_db_close(db, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sums_add_merge_metrics),
	    cmocka_unit_test(test_sums_init_merge),
	    cmocka_unit_test(test_sums_parse_metrics),
	    cmocka_unit_test(test_sums_match_rollup_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
