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

/*
 * A file name under $LAKE_TEST_DIR (kept for the readers) or /tmp (with the
 * process id, so that two runs at once do not write one file).
 */
static void
path_for(char *out, size_t n, const char *name)
{
	const char *dir = getenv("LAKE_TEST_DIR");
	int k;

	if (dir != NULL)
		k = snprintf(out, n, "%s/%s.parquet", dir, name);
	else
		k = snprintf(out, n, "/tmp/lake-unit-%ld-%s.parquet",
			     (long)getpid(), name);
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

/*
 * Rows for the batch tests: nulls, long runs, strings interned and not, a
 * double column whose dictionary outgrows 65536 entries and falls back to
 * PLAIN in the middle of a batch.
 */
static const struct lake_field bfields[] = {
    {"ts", 1, LAKE_TIMESTAMPTZ, true}, {"gpu", 2, LAKE_INT, true},
    {"util", 3, LAKE_DOUBLE, false},   {"user", 4, LAKE_STRING, false},
    {"mem", 5, LAKE_LONG, false},      {"job", 6, LAKE_STRING, true},
    {"day", 7, LAKE_DATE, false},
};
#define BCOLS (sizeof(bfields) / sizeof(bfields[0]))
#define BROWS 100000

static const char *const users[] = {"alice", "bob", "carol"};

struct brows {
	unsigned char present[BCOLS][BROWS];
	int64_t i[BCOLS][BROWS];
	double d[BCOLS][BROWS];
	struct lake_str s[BCOLS][BROWS];
	char jobs[BROWS][12];
	struct lake_pq_col cols[BCOLS];
};

static struct brows *
make_rows(void)
{
	struct brows *b = calloc(1, sizeof(*b));
	size_t r, c;

	assert_non_null(b);
	for (r = 0; r < BROWS; r++) {
		uint32_t x = (uint32_t)r * 2654435761u;
		int n = snprintf(b->jobs[r], sizeof(b->jobs[r]), "j%zu",
				 r % 9 == 0 ? r : r / 500);

		for (c = 0; c < BCOLS; c++)
			b->present[c][r] = 1;
		b->i[0][r] =
		    INT64_C(1732800000000000) + (int64_t)(r / 8) * 1000;
		b->i[1][r] = (int64_t)(r % 8);
		b->present[2][r] = r % 11 != 5;
		b->d[2][r] = r < 20000 ? (double)(x % 40) : (double)x / 7;
		b->present[3][r] = r % 6 != 1;
		b->s[3][r].p = users[(r / 3) % 3];
		b->s[3][r].n = strlen(b->s[3][r].p);
		b->present[4][r] = (r / 700) % 3 != 2;
		b->i[4][r] = -(int64_t)(x % 5000);
		b->s[5][r].p = b->jobs[r];
		b->s[5][r].n = (size_t)n;
		b->present[6][r] = r % 97 != 0;
		b->i[6][r] = 20000 + (int64_t)(r / 3000);
	}
	for (c = 0; c < BCOLS; c++) {
		b->cols[c].present = bfields[c].required ? NULL : b->present[c];
		b->cols[c].i = b->i[c];
		b->cols[c].d = b->d[c];
		b->cols[c].s = b->s[c];
		b->cols[c].stable = c == 3;
	}
	return b;
}

/*
 * A file of the batch test's columns; threads > 1 also appends a batch's
 * columns on that many threads.
 */
static struct lake_pq *
open_batch_file(const char *path, size_t rg_bytes, size_t threads)
{
	struct lake_pq_opts o = {0};
	struct gpu_err err;
	struct lake_pq *pq;

	o.codec = LAKE_CODEC_ZSTD;
	o.threads = threads;
	o.row_group_bytes = rg_bytes;
	o.page_bytes = 4096;
	pq = lake_pq_open(path, bfields, BCOLS, &o, &err);
	assert_non_null(pq);
	return pq;
}

/*
 * Rows [first, BROWS) row by row, until the file reaches stop (0: never);
 * returns the rows written.
 */
static size_t
write_rowwise(struct lake_pq *pq, const struct brows *b, size_t first,
	      uint64_t stop)
{
	struct gpu_err err;
	size_t r, c;

	for (r = first; r < BROWS; r++) {
		for (c = 0; c < BCOLS; c++) {
			if (b->present[c][r] == 0)
				lake_pq_null(pq, c);
			else if (c == 0 || c == 4)
				lake_pq_i64(pq, c, b->i[c][r]);
			else if (c == 1 || c == 6)
				lake_pq_i32(pq, c, (int32_t)b->i[c][r]);
			else if (c == 2)
				lake_pq_double(pq, c, b->d[c][r]);
			else if (c == 3)
				lake_pq_str_stable(pq, c, b->s[c][r].p,
						   b->s[c][r].n);
			else
				lake_pq_str(pq, c, b->s[c][r].p, b->s[c][r].n);
		}
		assert_int_equal(lake_pq_end_row(pq, &err), 0);
		if (stop != 0 && lake_pq_size(pq) >= stop)
			return r + 1 - first;
	}
	return BROWS - first;
}

/* The same rows in batches of step rows (the last one shorter). */
static size_t
write_batches(struct lake_pq *pq, const struct brows *b, size_t first,
	      size_t step, uint64_t stop)
{
	struct gpu_err err;
	size_t r = first, taken;

	while (r < BROWS) {
		size_t n = BROWS - r < step ? BROWS - r : step;

		assert_int_equal(
		    lake_pq_put_batch(pq, b->cols, r, n, stop, &taken, &err),
		    0);
		assert_true(taken <= n);
		r += taken;
		if (taken < n) {
			/* Stopped: only when the file reached stop. */
			assert_true(lake_pq_size(pq) >= stop);
			break;
		}
	}
	return r - first;
}

/* Finish both files, check they are the same; returns the row groups. */
static size_t
finish_cmp(struct lake_pq *a, const char *pa, struct lake_pq *b, const char *pb)
{
	struct gpu_err err;
	unsigned char *x, *y;
	size_t nx, ny, c, ga, gb;

	assert_int_equal(lake_pq_finish(a, &err), 0);
	assert_int_equal(lake_pq_finish(b, &err), 0);
	x = slurp(pa, &nx);
	y = slurp(pb, &ny);
	assert_int_equal(nx, ny);
	assert_memory_equal(x, y, nx);
	lake_pq_row_groups(a, &ga);
	lake_pq_row_groups(b, &gb);
	assert_int_equal(ga, gb);
	for (c = 0; c < BCOLS; c++) {
		const struct lake_pq_colstats *s = lake_pq_stats(a, c);
		const struct lake_pq_colstats *t = lake_pq_stats(b, c);

		assert_int_equal(s->values, t->values);
		assert_int_equal(s->nulls, t->nulls);
		assert_int_equal(s->lower.len, t->lower.len);
		assert_memory_equal(s->lower.data, t->lower.data, s->lower.len);
		assert_memory_equal(s->upper.data, t->upper.data, s->upper.len);
	}
	free(x);
	free(y);
	lake_pq_free(a);
	lake_pq_free(b);
	if (getenv("LAKE_TEST_DIR") == NULL) {
		unlink(pa);
		unlink(pb);
	}
	return ga;
}

/*
 * A batch gives the bytes of the same rows set one by one, whatever the
 * batch size and however many threads append its columns: row groups cut
 * inside a batch (256 KiB and 1 MiB groups), a dictionary falling back to
 * PLAIN inside one, nulls and interned strings.
 */
static void
test_lake_parquet_batch_same(void **state)
{
	static const size_t steps[] = {1,    7,	   1024,  1024,
				       5000, 5000, BROWS, BROWS};
	static const size_t groups[] = {(size_t)256 << 10, (size_t)1 << 20, 0};
	struct brows *b = make_rows();
	size_t s, g;

	(void)state;
	for (g = 0; g < 3; g++) {
		for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			char pa[512], pb[512];
			struct lake_pq *x, *y;
			size_t nrg;

			path_for(pa, sizeof(pa), "batch-rows");
			path_for(pb, sizeof(pb), "batch-cols");
			x = open_batch_file(pa, groups[g], 1);
			/* Each size on one thread, then on three. */
			y = open_batch_file(pb, groups[g], 1 + 2 * (s % 2));
			assert_int_equal(write_rowwise(x, b, 0, 0), BROWS);
			assert_int_equal(write_batches(y, b, 0, steps[s], 0),
					 BROWS);
			assert_int_equal(lake_pq_rows(y), BROWS);
			assert_int_equal(lake_pq_size(x), lake_pq_size(y));
			nrg = finish_cmp(x, pa, y, pb);
			assert_true(groups[g] == 0 ? nrg == 1 : nrg > 1);
		}
	}
	free(b);
}

/*
 * A batch stops after the row that brings the file to the stop size, as a
 * caller checking after each row would, and the rest goes on in the next
 * file.
 */
static void
test_lake_parquet_batch_stop(void **state)
{
	struct brows *b = make_rows();
	const uint64_t stop = (uint64_t)300 << 10;
	char pa[512], pb[512];
	struct lake_pq *x, *y;
	size_t na, nb;

	(void)state;
	path_for(pa, sizeof(pa), "stop-rows");
	path_for(pb, sizeof(pb), "stop-cols");
	x = open_batch_file(pa, (size_t)64 << 10, 1);
	y = open_batch_file(pb, (size_t)64 << 10, 3);
	na = write_rowwise(x, b, 0, stop);
	nb = write_batches(y, b, 0, 4096, stop);
	assert_true(na < BROWS);
	assert_int_equal(na, nb);
	assert_true(finish_cmp(x, pa, y, pb) > 1);
	/* The next file takes the rest from the row after. */
	path_for(pa, sizeof(pa), "stop-rows2");
	path_for(pb, sizeof(pb), "stop-cols2");
	x = open_batch_file(pa, (size_t)64 << 10, 1);
	y = open_batch_file(pb, (size_t)64 << 10, 3);
	assert_int_equal(write_rowwise(x, b, na, 0), BROWS - na);
	assert_int_equal(write_batches(y, b, nb, 4096, 0), BROWS - nb);
	finish_cmp(x, pa, y, pb);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lake_parquet_stats),
	    cmocka_unit_test(test_lake_parquet_groups),
	    cmocka_unit_test(test_lake_parquet_exists),
	    cmocka_unit_test(test_lake_parquet_batch_same),
	    cmocka_unit_test(test_lake_parquet_batch_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
