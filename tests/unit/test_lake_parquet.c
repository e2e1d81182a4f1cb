/* SPDX-License-Identifier: MIT */
/* Unit tests for the Parquet writer (src/lake/parquet.h): file framing,
 * row groups, dictionary fallback and the statistics Iceberg reads. The
 * readers' view of the same files is checked by tests/e2e/lake-*.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lake/parquet.h"

static const struct lake_field fields[] = {
    {"ts", 1, LAKE_TIMESTAMPTZ, true}, {"gpu", 2, LAKE_INT, true},
    {"util", 3, LAKE_DOUBLE, false},   {"user", 4, LAKE_STRING, false},
    {"mem", 5, LAKE_LONG, false},
};

/* A file name under $LAKE_TEST_DIR (kept for the readers) or /tmp. */
static void
path_for(char *out, size_t n, const char *name)
{
	const char *dir = getenv("LAKE_TEST_DIR");
	int k;

	k = snprintf(out, n, "%s/%s%s.parquet", dir != NULL ? dir : "/tmp",
		     dir != NULL ? "" : "lake-unit-", name);
	assert_true(k > 0 && (size_t)k < n);
	unlink(out);
}

static unsigned char *
slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *p;
	long len;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len > 0);
	rewind(fp);
	p = malloc((size_t)len);
	assert_int_equal(fread(p, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	*n = (size_t)len;
	return p;
}

static int64_t
le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return (int64_t)v;
}

/* Write rows rows of a fixed pattern with codec c; return the writer. */
static struct lake_pq *
write_rows(const char *path, enum lake_codec c, size_t rows, size_t rg_bytes,
	   bool many_users)
{
	struct lake_pq_opts o = {0};
	struct gpu_err err;
	struct lake_pq *pq;
	char user[32];
	size_t i;

	o.codec = c;
	o.row_group_bytes = rg_bytes;
	o.page_bytes = 4096;
	o.kv_key = "iceberg.schema";
	o.kv_value = "{}";
	pq = lake_pq_open(path, fields, 5, &o, &err);
	assert_non_null(pq);
	for (i = 0; i < rows; i++) {
		int n;

		lake_pq_i64(pq, 0,
			    INT64_C(1732800000000000) + (int64_t)i * 1000000);
		lake_pq_i32(pq, 1, (int32_t)(i % 8));
		if (i % 10 == 3)
			lake_pq_null(pq, 2);
		else
			lake_pq_double(pq, 2, i % 7 == 0 ? 0.0 : (double)i / 4);
		if (i % 5 == 4) {
			lake_pq_null(pq, 3);
		} else {
			n = snprintf(user, sizeof(user), "user%zu",
				     many_users ? i : i % 3);
			lake_pq_str(pq, 3, user, (size_t)n);
		}
		lake_pq_i64(pq, 4, -(int64_t)i);
		assert_int_equal(lake_pq_end_row(pq, &err), 0);
	}
	assert_int_equal(lake_pq_finish(pq, &err), 0);
	return pq;
}

static void
check_file(const char *path, const struct lake_pq *pq)
{
	size_t n;
	unsigned char *p = slurp(path, &n);

	assert_int_equal(n, lake_pq_file_size(pq));
	assert_memory_equal(p, "PAR1", 4);
	assert_memory_equal(p + n - 4, "PAR1", 4);
	assert_true(le(p + n - 8, 4) < (int64_t)n - 12);
	free(p);
}

static void
test_lake_parquet_stats(void **state)
{
	char path[512];
	struct lake_pq *pq;
	const struct lake_pq_colstats *s;
	size_t nrg;
	double d;

	(void)state;
	path_for(path, sizeof(path), "stats");
	pq = write_rows(path, LAKE_CODEC_ZSTD, 100, 0, false);
	check_file(path, pq);
	assert_int_equal(lake_pq_rows(pq), 100);
	lake_pq_row_groups(pq, &nrg);
	assert_int_equal(nrg, 1);
	s = lake_pq_stats(pq, 0);
	assert_int_equal(s->values, 100);
	assert_int_equal(s->nulls, 0);
	assert_true(s->has_bounds);
	assert_int_equal(le((const unsigned char *)s->lower.data, 8),
			 INT64_C(1732800000000000));
	assert_int_equal(le((const unsigned char *)s->upper.data, 8),
			 INT64_C(1732800099000000));
	s = lake_pq_stats(pq, 2);
	assert_int_equal(s->nulls, 10);
	assert_int_equal(s->lower.len, 8);
	memcpy(&d, s->lower.data, 8);
	assert_true(d == 0 && signbit(d));
	memcpy(&d, s->upper.data, 8);
	assert_true(d == 99.0 / 4);
	s = lake_pq_stats(pq, 3);
	assert_int_equal(s->nulls, 20);
	assert_int_equal(s->lower.len, 5);
	assert_memory_equal(s->lower.data, "user0", 5);
	assert_memory_equal(s->upper.data, "user2", 5);
	s = lake_pq_stats(pq, 4);
	assert_int_equal(le((const unsigned char *)s->lower.data, 8), -99);
	assert_int_equal(le((const unsigned char *)s->upper.data, 8), 0);
	assert_true(s->bytes > 0);
	lake_pq_free(pq);
	if (getenv("LAKE_TEST_DIR") == NULL)
		unlink(path);
}

/* Small row groups, many pages, a dictionary that overflows to PLAIN. */
static void
test_lake_parquet_groups(void **state)
{
	static const enum lake_codec codecs[] = {
	    LAKE_CODEC_NONE, LAKE_CODEC_SNAPPY, LAKE_CODEC_ZSTD};
	static const char *const names[] = {"groups-none", "groups-snappy",
					    "groups-zstd"};
	size_t k;

	(void)state;
	for (k = 0; k < 3; k++) {
		char path[512];
		struct lake_pq *pq;
		const int64_t *off;
		size_t nrg, i;

		path_for(path, sizeof(path), names[k]);
		pq = write_rows(path, codecs[k], 200000, (size_t)4 << 20, true);
		check_file(path, pq);
		off = lake_pq_row_groups(pq, &nrg);
		assert_true(nrg > 1);
		assert_int_equal(off[0], 4);
		for (i = 1; i < nrg; i++)
			assert_true(off[i] > off[i - 1]);
		assert_int_equal(lake_pq_stats(pq, 3)->nulls, 40000);
		assert_memory_equal(lake_pq_stats(pq, 3)->upper.data,
				    "user99998", 9);
		lake_pq_free(pq);
		if (getenv("LAKE_TEST_DIR") == NULL)
			unlink(path);
	}
}

static void
test_lake_parquet_exists(void **state)
{
	struct lake_pq_opts o = {0};
	struct gpu_err err;
	char path[512];
	struct lake_pq *pq;

	(void)state;
	path_for(path, sizeof(path), "exists");
	pq = write_rows(path, LAKE_CODEC_NONE, 1, 0, false);
	lake_pq_free(pq);
	assert_null(lake_pq_open(path, fields, 5, &o, &err));
	assert_non_null(strstr(err.msg, "File exists"));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lake_parquet_stats),
	    cmocka_unit_test(test_lake_parquet_groups),
	    cmocka_unit_test(test_lake_parquet_exists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
