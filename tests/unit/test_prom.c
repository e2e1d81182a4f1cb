/* SPDX-License-Identifier: MIT */
/* Unit tests for dcgm-exporter's Prometheus text (gpu/prom.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gpu/prom.h"

/* A '#' or a DCGM_FI_ metric in any case starts Prometheus text. */
static void
test_prom_detect(void **state)
{
	(void)state;
	assert_true(gpu_prom_detect("# HELP x\n", 9));
	assert_true(gpu_prom_detect("\n dcgm_fi_prof_x{} 1\n", 21));
	assert_false(gpu_prom_detect("timestamp,node\n", 15));
	assert_false(gpu_prom_detect("{\"a\":1}", 7));
	assert_false(gpu_prom_detect("DCGM", 4));
}

static const char two_scrapes[] =
    "# TYPE dcgm_fi_prof_gr_engine_active gauge\n"
    "dcgm_fi_prof_gr_engine_active{gpu=\"0\", uuid=\"GPU-x\"} 0.25 "
    "1764345600000\n"
    "DCGM_FI_DEV_FB_USED{gpu=\"0\",uuid=\"GPU-x\"} 10.5 1764345600000\n"
    "DCGM_FI_DEV_GPU_TEMP{gpu=\"0\",uuid=\"GPU-x\"} "
    "9223372036854775794 1764345600000\n"
    "dcgm_fi_prof_gr_engine_active{gpu=\"0\", uuid=\"GPU-x\"} 0.5 "
    "1764345605000\n"
    "DCGM_FI_DEV_FB_USED{gpu=\"0\",uuid=\"GPU-x\"} 11 1764345605000\n";

/* 1.x names, GR_ENGINE_ACTIVE as percent, the sentinel absent, two scrapes. */
static void
test_prom_scrapes(void **state)
{
	struct gpu_reader_opts o = {GPU_FMT_PROMETHEUS, "n1", NULL, false, 0};
	struct gpu_err err = {{0}, {0}, 0};
	struct gpu_sample s;
	struct gpu_reject rej;
	long line;
	int code = 0;
	FILE *fp = fmemopen((void *)two_scrapes, strlen(two_scrapes), "r");
	struct gpu_prom *p;

	(void)state;
	assert_non_null(fp);
	p = gpu_prom_new(fp, "t", &o, &code, &err);
	assert_non_null(p);
	assert_int_equal(gpu_prom_next(p, &s, &line, &rej, &err),
			 GPU_READ_SAMPLE);
	assert_int_equal(line, 2);
	assert_int_equal(s.ts_ms, 1764345600000);
	assert_true(s.util_pct == 25.0);
	assert_int_equal(s.mem_used_mib, 11); /* 10.5 rounds away from 0 */
	assert_false(s.has_temp);
	assert_int_equal(s.gpu_uuid.len, 5);
	assert_int_equal(gpu_prom_next(p, &s, &line, &rej, &err),
			 GPU_READ_SAMPLE);
	assert_int_equal(line, 5);
	assert_true(s.util_pct == 50.0);
	assert_int_equal(gpu_prom_next(p, &s, &line, &rej, &err), GPU_READ_EOF);
	gpu_prom_free(p);
	fclose(fp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prom_detect),
	    cmocka_unit_test(test_prom_scrapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
