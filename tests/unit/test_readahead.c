/* SPDX-License-Identifier: MIT */
/* Unit tests of the read-ahead sample reader: the reader's rows, in order. */
#define _GNU_SOURCE /* fopencookie(): a stream that fails part way */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/buf.h"
#include "gpu/readahead.h"
#include "gpu/reader.h"

static const struct gpu_reader_opts no_opts;

static const char HEAD[] = "timestamp,node,gpu,util_pct,mem_used_mib,"
			   "mem_total_mib,job_id,user,project,model,power_w,"
			   "temp_c,gpu_uuid\n";

/*
 * Row i of an input, without its line end: a sample with every text
 * column, and now and then a row the reader rejects (a bad number, a
 * wrong field count, a control character, in quotes when `quote`).
 */
static void
add_row(struct gpu_buf *b, int i, bool quote)
{
	if (i % 97 == 13)
		gpu_buf_addf(b, "%d,n%d,0,abc,1,2,,,,,,,", 1764547200 + i,
			     i % 7);
	else if (i % 89 == 5)
		gpu_buf_addf(b, "%d,n%d,1", 1764547200 + i, i % 7);
	else if (i % 101 == 50)
		gpu_buf_addf(b,
			     quote ? "%d,\"n\x01\",1,2,3,4,,,,,,,"
				   : "%d,n\x01,1,2,3,4,,,,,,,",
			     1764547200 + i);
	else
		gpu_buf_addf(b,
			     "%d,node-%d,%d,%d.5,%d,81920,%s,u%d,p%d,m%d,%d.25,"
			     "%d,GPU-%08d",
			     1764547200 + i, i % 13, i % 8, i % 100, 1000 + i,
			     i % 3 ? "" : "job7", i % 5, i % 4, i % 6, 100 + i,
			     30 + i % 40, i);
}

/* An input of n rows, across many blocks of the read-ahead. */
static void
make_input(struct gpu_buf *b, int n)
{
	gpu_buf_adds(b, HEAD);
	for (int i = 0; i < n; i++) {
		add_row(b, i, true);
		gpu_buf_addc(b, '\n');
	}
}

static struct gpu_reader *
open_reader(const struct gpu_buf *b, FILE **fp)
{
	struct gpu_reader *r = NULL;
	struct gpu_err err = {{0}, {0}, 0};

	*fp = fmemopen(b->data, b->len, "r");
	assert_non_null(*fp);
	assert_int_equal(gpu_reader_open(*fp, "t.csv", &no_opts, &r, &err), 0);
	return r;
}

static void
str_equal(struct gpu_str a, struct gpu_str b)
{
	assert_int_equal(a.len, b.len);
	if (a.len > 0)
		assert_memory_equal(a.p, b.p, a.len);
}

static void
same_sample(const struct gpu_sample *a, const struct gpu_sample *b)
{
	assert_true(a->ts_ms == b->ts_ms);
	str_equal(a->node, b->node);
	assert_int_equal(a->gpu, b->gpu);
	assert_true(a->util_pct == b->util_pct);
	assert_true(a->mem_used_mib == b->mem_used_mib);
	assert_true(a->mem_total_mib == b->mem_total_mib);
	assert_int_equal(a->has_mem_total, b->has_mem_total);
	str_equal(a->job_id, b->job_id);
	str_equal(a->user, b->user);
	str_equal(a->project, b->project);
	str_equal(a->model, b->model);
	str_equal(a->gpu_uuid, b->gpu_uuid);
	assert_true(a->power_w == b->power_w);
	assert_int_equal(a->has_power, b->has_power);
	assert_true(a->temp_c == b->temp_c);
	assert_int_equal(a->has_temp, b->has_temp);
	assert_int_equal(a->interval_s, b->interval_s);
	assert_int_equal(a->has_mig, b->has_mig);
	str_equal(a->profile, b->profile);
}

/*
 * Read plain and ra to their end side by side: every row, field, string,
 * line and offset the same. Counts the samples and rejects; returns the
 * last code (EOF, or an error after checking that both say the same).
 */
static int
same_rows(struct gpu_reader *plain, struct gpu_readahead *ra, int *rows,
	  int *rejects)
{
	int rc;

	do {
		struct gpu_sample s1, s2;
		struct gpu_reject j1, j2;
		struct gpu_err e1 = {{0}, {0}, 0}, e2 = {{0}, {0}, 0};
		long l1 = -1, l2 = -1;
		long long off = -1;

		rc = gpu_reader_next(plain, &s1, &l1, &j1, &e1);
		assert_int_equal(
		    gpu_readahead_next(ra, &s2, &l2, &j2, &off, &e2), rc);
		if (rc >= 0)
			assert_true(off == gpu_reader_offset(plain));
		if (rc == GPU_READ_SAMPLE) {
			assert_int_equal(l1, l2);
			same_sample(&s1, &s2);
			(*rows)++;
		} else if (rc == GPU_READ_REJECT) {
			assert_int_equal(j1.line, j2.line);
			assert_string_equal(j1.reason, j2.reason);
			str_equal(j1.raw, j2.raw);
			(*rejects)++;
		} else if (rc < 0) {
			assert_true(e1.msg[0] != '\0');
			assert_string_equal(e1.msg, e2.msg);
			assert_string_equal(e1.source, e2.source);
			assert_int_equal(e1.line, e2.line);
		}
	} while (rc > 0);
	return rc;
}

/* The next row's code. */
static int
next_rc(struct gpu_readahead *ra)
{
	struct gpu_sample s;
	struct gpu_reject j;
	struct gpu_err e = {{0}, {0}, 0};
	long l;
	long long off;

	return gpu_readahead_next(ra, &s, &l, &j, &off, &e);
}

/* Every row, field and string equals the plain reader's, then EOF twice. */
static void
test_readahead_same_rows(void **state)
{
	struct gpu_buf in;
	FILE *fa, *fb;
	struct gpu_reader *plain, *ahead;
	struct gpu_readahead *ra;
	int rows = 0, rejects = 0;

	(void)state;
	gpu_buf_init(&in);
	make_input(&in, 3000); /* about 12 blocks: the ring turns over */
	plain = open_reader(&in, &fa);
	ahead = open_reader(&in, &fb);
	ra = gpu_readahead_start(ahead);
	assert_non_null(ra);
	assert_int_equal(same_rows(plain, ra, &rows, &rejects), GPU_READ_EOF);
	assert_int_equal(rows + rejects, 3000);
	assert_true(rejects >= 3 * 25);
	/* The end is answered again. */
	assert_int_equal(next_rc(ra), GPU_READ_EOF);
	gpu_readahead_stop(ra);
	gpu_reader_free(plain);
	gpu_reader_free(ahead);
	fclose(fa);
	fclose(fb);
	gpu_buf_release(&in);
}

/* Stopping early, mid-input, with blocks filled and not taken. */
static void
test_readahead_stop_early(void **state)
{
	struct gpu_buf in;
	FILE *fp;
	struct gpu_reader *rd;
	struct gpu_readahead *ra;

	(void)state;
	gpu_buf_init(&in);
	make_input(&in, 5000);
	rd = open_reader(&in, &fp);
	ra = gpu_readahead_start(rd);
	assert_non_null(ra);
	for (int i = 0; i < 300; i++) {
		struct gpu_sample s;
		struct gpu_reject j;
		struct gpu_err e = {{0}, {0}, 0};
		long l;
		long long off;

		assert_true(gpu_readahead_next(ra, &s, &l, &j, &off, &e) > 0);
	}
	gpu_readahead_stop(ra);
	/* The reader is the caller's again and goes on after the blocks. */
	{
		struct gpu_sample s;
		struct gpu_reject j;
		struct gpu_err e = {{0}, {0}, 0};
		long l = 0;
		int rc = gpu_reader_next(rd, &s, &l, &j, &e);

		assert_true(rc > 0);
		assert_true((rc == GPU_READ_SAMPLE ? l : j.line) > 301);
	}
	gpu_readahead_stop(NULL);
	gpu_reader_free(rd);
	fclose(fp);
	gpu_buf_release(&in);
}

/* A stream of the first n bytes of p that then fails with EIO. */
struct failing {
	const char *p;
	size_t n, pos;
};

static ssize_t
failing_read(void *c, char *buf, size_t size)
{
	struct failing *f = c;
	size_t k = f->n - f->pos < size ? f->n - f->pos : size;

	if (k == 0) {
		errno = EIO;
		return -1;
	}
	memcpy(buf, f->p + f->pos, k);
	f->pos += k;
	return (ssize_t)k;
}

static FILE *
open_failing(struct failing *f)
{
	cookie_io_functions_t io = {failing_read, NULL, NULL, NULL};
	FILE *fp = fopencookie(f, "r", io);

	assert_non_null(fp);
	return fp;
}

/* A read error reaches the caller with its message, after the rows. */
static void
test_readahead_error(void **state)
{
	struct gpu_buf in;
	struct failing fa, fb;
	FILE *pa, *pb;
	struct gpu_reader *plain = NULL, *ahead = NULL;
	struct gpu_readahead *ra;
	struct gpu_err err = {{0}, {0}, 0};
	int rows = 0, rejects = 0;

	(void)state;
	gpu_buf_init(&in);
	make_input(&in, 20000);
	fa = (struct failing){in.data, in.len / 2, 0};
	fb = fa;
	pa = open_failing(&fa);
	pb = open_failing(&fb);
	assert_int_equal(gpu_reader_open(pa, "t.csv", &no_opts, &plain, &err),
			 0);
	assert_int_equal(gpu_reader_open(pb, "t.csv", &no_opts, &ahead, &err),
			 0);
	ra = gpu_readahead_start(ahead);
	assert_non_null(ra);
	assert_int_equal(same_rows(plain, ra, &rows, &rejects), -1);
	assert_true(rows + rejects > 1000);
	gpu_readahead_stop(ra);
	gpu_reader_free(plain);
	gpu_reader_free(ahead);
	fclose(pa);
	fclose(pb);
	gpu_buf_release(&in);
}

/*
 * A file for the split reader: n rows (blocks of PIECE_LINES and more),
 * no quote before row quote_at (-1: none), rejects (a bad number, a wrong
 * field count, a control character), blank lines, CRLF line ends, and no
 * line end after the last row when `open_end`.
 */
static void
make_split_input(struct gpu_buf *b, const char *head, int n, int quote_at,
		 bool open_end)
{
	gpu_buf_adds(b, head);
	for (int i = 0; i < n; i++) {
		if (i == quote_at)
			gpu_buf_addf(b, "%d,\"a,\n\"\"b\",1,2,3,4,,,,,,,",
				     1764547200 + i);
		else if (i % 53 == 7)
			gpu_buf_adds(b, "  ");
		else
			add_row(b, i, false);
		if (i % 11 == 3)
			gpu_buf_addc(b, '\r');
		if (i + 1 < n || !open_end)
			gpu_buf_addc(b, '\n');
	}
}

/*
 * The split reader over file path (opened at byte `start`) gives every
 * row, reject, line and offset of the plain reader, then EOF again.
 */
static void
split_same_rows(const char *path, long start, const struct gpu_reader_opts *o,
		int threads, long piece_lines, int want_rows)
{
	FILE *fa = fopen(path, "rb"), *fb = fopen(path, "rb");
	struct gpu_reader *plain = NULL, *ahead = NULL;
	struct gpu_readahead *ra;
	struct gpu_err err = {{0}, {0}, 0};
	int rows = 0, rejects = 0;

	assert_non_null(fa);
	assert_non_null(fb);
	assert_int_equal(fseek(fa, start, SEEK_SET), 0);
	assert_int_equal(fseek(fb, start, SEEK_SET), 0);
	assert_int_equal(gpu_reader_open(fa, "t.csv", o, &plain, &err), 0);
	assert_int_equal(gpu_reader_open(fb, "t.csv", o, &ahead, &err), 0);
	/* Headerless input is read by one thread (as the plain reader). */
	assert_int_equal(gpu_reader_splittable(ahead), o->columns == NULL);
	ra = gpu_readahead_start_split(ahead, fb, start, "t.csv", o, threads,
				       piece_lines);
	assert_non_null(ra);
	assert_int_equal(same_rows(plain, ra, &rows, &rejects), GPU_READ_EOF);
	assert_int_equal(rows, want_rows);
	if (want_rows > 0) /* the input has its rejects */
		assert_true(rejects * 50 > want_rows);
	assert_int_equal(next_rc(ra), GPU_READ_EOF);
	gpu_readahead_stop(ra);
	gpu_reader_free(plain);
	gpu_reader_free(ahead);
	fclose(fa);
	fclose(fb);
}

/* Write b to a new temporary file; its path in path. */
static void
write_temp(const struct gpu_buf *b, char *path)
{
	int fd;

	strcpy(path, "/tmp/test_readahead.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b->data, b->len), (ssize_t)b->len);
	assert_int_equal(close(fd), 0);
}

/* The rows the plain reader gives of path, counted. */
static int
count_samples(const char *path, const struct gpu_reader_opts *o, long start)
{
	FILE *fp = fopen(path, "rb");
	struct gpu_reader *r = NULL;
	struct gpu_err err = {{0}, {0}, 0};
	struct gpu_sample s;
	struct gpu_reject j;
	long l;
	int rc, n = 0;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, start, SEEK_SET), 0);
	assert_int_equal(gpu_reader_open(fp, "t.csv", o, &r, &err), 0);
	while ((rc = gpu_reader_next(r, &s, &l, &j, &err)) > 0)
		n += rc == GPU_READ_SAMPLE;
	gpu_reader_free(r);
	fclose(fp);
	return n;
}

/* Pieces on 2, 3 and 8 threads; a quote late; no last line end. */
static void
test_readahead_split(void **state)
{
	static const struct {
		int rows, quote_at;
		bool open_end;
	} cases[] = {
	    {20000, -1, false}, {20000, -1, true}, {20000, 15000, false},
	    {20000, 3, false},	{1000, -1, true},  {0, -1, false},
	};
	char path[64];

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct gpu_buf in;
		int want;

		gpu_buf_init(&in);
		make_split_input(&in, HEAD, cases[c].rows, cases[c].quote_at,
				 cases[c].open_end);
		write_temp(&in, path);
		want = count_samples(path, &no_opts, 0);
		if (cases[c].rows >= 1000)
			assert_true(want > cases[c].rows * 8 / 10);
		for (int t = 2; t <= 8; t += t == 3 ? 5 : 1) {
			split_same_rows(path, 0, &no_opts, t, 0, want);
		}
		unlink(path);
		gpu_buf_release(&in);
	}
}

/*
 * Pieces of 1 to 7 lines: many pieces of blank lines only, a piece per
 * row, more pieces than ring slots in flight, a quote in a late piece.
 */
static void
test_readahead_split_small_pieces(void **state)
{
	struct gpu_buf in;
	char path[64];
	int want;

	(void)state;
	gpu_buf_init(&in);
	make_split_input(&in, HEAD, 3000, 2500, true);
	write_temp(&in, path);
	want = count_samples(path, &no_opts, 0);
	for (long lines = 1; lines <= 7; lines += 2)
		for (int t = 2; t <= 4; t++)
			split_same_rows(path, 0, &no_opts, t, lines, want);
	unlink(path);
	gpu_buf_release(&in);
}

/* Headerless input (--columns), blank lines and a BOM before the rows
 * (one thread reads it), and a reader opened part way into the file. */
static void
test_readahead_split_columns(void **state)
{
	struct gpu_reader_opts o = no_opts;
	struct gpu_buf in;
	char path[64];

	(void)state;
	o.columns = "timestamp,node,gpu,util_pct,mem_used_mib,mem_total_mib,"
		    "job_id,user,project,model,power_w,temp_c,gpu_uuid";
	gpu_buf_init(&in);
	make_split_input(&in, "\xef\xbb\xbf\n  \n", 9000, -1, false);
	write_temp(&in, path);
	split_same_rows(path, 0, &o, 2, 0, count_samples(path, &o, 0));
	split_same_rows(path, 0, &o, 3, 2, count_samples(path, &o, 0));
	unlink(path);
	gpu_buf_reset(&in);
	/* Junk before the header: the reader is opened at byte 6. */
	gpu_buf_adds(&in, "junk\n\n");
	make_split_input(&in, HEAD, 9000, -1, false);
	write_temp(&in, path);
	split_same_rows(path, 6, &no_opts, 3, 5,
			count_samples(path, &no_opts, 6));
	unlink(path);
	gpu_buf_release(&in);
}

/* What cannot be split is read by one thread, as gpu_readahead_start(). */
static void
test_readahead_split_fallback(void **state)
{
	struct gpu_buf in;
	FILE *fp;
	struct gpu_reader *rd;
	struct gpu_readahead *ra;
	struct gpu_sample s;
	struct gpu_reject j;
	struct gpu_err e = {{0}, {0}, 0};
	long l;
	long long off;
	int rc, n = 0;

	(void)state;
	gpu_buf_init(&in);
	make_input(&in, 3000);
	/* Not a file: a memory stream. */
	rd = open_reader(&in, &fp);
	ra = gpu_readahead_start_split(rd, fp, 0, "t.csv", &no_opts, 2, 0);
	assert_non_null(ra);
	while ((rc = gpu_readahead_next(ra, &s, &l, &j, &off, &e)) > 0)
		n++;
	assert_int_equal(rc, GPU_READ_EOF);
	assert_int_equal(n, 3000);
	gpu_readahead_stop(ra);
	gpu_reader_free(rd);
	fclose(fp);
	gpu_buf_release(&in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_readahead_same_rows),
	    cmocka_unit_test(test_readahead_stop_early),
	    cmocka_unit_test(test_readahead_error),
	    cmocka_unit_test(test_readahead_split),
	    cmocka_unit_test(test_readahead_split_small_pieces),
	    cmocka_unit_test(test_readahead_split_columns),
	    cmocka_unit_test(test_readahead_split_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
