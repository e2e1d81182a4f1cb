/* SPDX-License-Identifier: MIT */
/* Unit tests of the CSV, JSON, JSON Lines and table writers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/writer.h"

static const char *const cols3[] = {"name", "n", "x"};

static FILE *out;
static char got[4096];

static struct gpu_writer *
start(enum gpu_ofmt fmt, const char *const *cols, size_t ncols)
{
	out = tmpfile();
	assert_non_null(out);
	return gpu_writer_new(out, fmt, cols, ncols);
}

/* Finish, free, and read back what was written into got. */
static const char *
done(struct gpu_writer *w)
{
	size_t n;

	assert_int_equal(gpu_writer_finish(w), 0);
	gpu_writer_free(w);
	rewind(out);
	n = fread(got, 1, sizeof(got) - 1, out);
	got[n] = '\0';
	fclose(out);
	return got;
}

/* Rows: ("a", 1, 2.5), ("b,c", -7, null). */
static const char *
two_rows(enum gpu_ofmt fmt)
{
	struct gpu_writer *w = start(fmt, cols3, 3);

	gpu_writer_str(w, "a", 1);
	gpu_writer_i64(w, 1);
	gpu_writer_double(w, 2.5);
	gpu_writer_end_row(w);
	gpu_writer_str(w, "b,c", 3);
	gpu_writer_i64(w, -7);
	gpu_writer_null(w);
	gpu_writer_end_row(w);
	return done(w);
}

static void
test_writer_csv(void **state)
{
	(void)state;
	assert_string_equal(two_rows(GPU_OUT_CSV),
			    "name,n,x\na,1,2.5\n\"b,c\",-7,\n");
}

static void
test_writer_csv_safe(void **state)
{
	static const char *const c2[] = {"=name", "n"};
	static const char *const cells[] = {"=1+1", "+a",  "-b",  "@c",
					    "\tt",  "\rr", "a=b", "\"=q"};
	struct gpu_writer *w;
	size_t i;

	(void)state;
	w = start(GPU_OUT_CSV, c2, 2);
	gpu_writer_csv_safe(w, true);
	for (i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		gpu_writer_str(w, cells[i], strlen(cells[i]));
		gpu_writer_i64(w, -1);
		gpu_writer_end_row(w);
	}
	assert_string_equal(done(w), "=name,n\n\"'=1+1\",-1\n\"'+a\",-1\n"
				     "\"'-b\",-1\n\"'@c\",-1\n\"'\tt\",-1\n"
				     "\"'\rr\",-1\na=b,-1\n\"\"\"=q\",-1\n");
	w = start(GPU_OUT_CSV, c2, 2);
	gpu_writer_str(w, "=1+1", 4);
	gpu_writer_end_row(w);
	assert_string_equal(done(w), "=name,n\n=1+1,\n");
}

static void
test_writer_csv_quoting(void **state)
{
	static const char *const c1[] = {"v"};
	static const char *const cq[] = {"a,b", "q\"", "ok"};
	struct gpu_writer *w;

	(void)state;
	w = start(GPU_OUT_CSV, c1, 1);
	gpu_writer_str(w, "say \"hi\"", 8);
	gpu_writer_end_row(w);
	gpu_writer_str(w, "two\nlines", 9);
	gpu_writer_end_row(w);
	gpu_writer_str(w, "cr\r", 3);
	gpu_writer_end_row(w);
	gpu_writer_str(w, " lead", 5);
	gpu_writer_end_row(w);
	gpu_writer_str(w, "trail ", 6);
	gpu_writer_end_row(w);
	gpu_writer_str(w, "in side", 7);
	gpu_writer_end_row(w);
	gpu_writer_str(w, "", 0);
	gpu_writer_end_row(w);
	assert_string_equal(done(w), "v\n\"say \"\"hi\"\"\"\n\"two\nlines\"\n"
				     "\"cr\r\"\n\" lead\"\n\"trail \"\n"
				     "in side\n\n");

	w = start(GPU_OUT_CSV, cq, 3);
	assert_string_equal(done(w), "\"a,b\",\"q\"\"\",ok\n");
}

static void
test_writer_numbers(void **state)
{
	static const char *const c[] = {"d", "c", "t", "e"};
	struct gpu_writer *w;

	(void)state;
	w = start(GPU_OUT_CSV, c, 4);
	gpu_writer_double(w, 1.0 / 3.0);
	gpu_writer_cents(w, -1234);
	gpu_writer_num_text(w, "12.50");
	gpu_writer_num_text(w, "");
	gpu_writer_end_row(w);
	gpu_writer_double(w, -0.0000001);
	gpu_writer_cents(w, 5);
	gpu_writer_num_text(w, "1e3");
	gpu_writer_double(w, 2.0);
	gpu_writer_end_row(w);
	assert_string_equal(done(w),
			    "d,c,t,e\n0.333333,-12.34,12.50,\n0,0.05,1e3,2\n");

	w = start(GPU_OUT_JSONL, c, 4);
	gpu_writer_double(w, 0.1 / 0.0);
	gpu_writer_cents(w, 100);
	gpu_writer_num_text(w, "abc");
	gpu_writer_num_text(w, "-0.5");
	gpu_writer_end_row(w);
	assert_string_equal(
	    done(w), "{\"d\":null,\"c\":1.00,\"t\":\"abc\",\"e\":-0.5}\n");
}

/*
 * Numbers are formatted in the row itself: first in a row and after text,
 * at every length (1e20 takes printf's way), with JSON's keys, and one
 * too many in a row is dropped as a string would be.
 */
static void
test_writer_numbers_in_place(void **state)
{
	static const char *const c[] = {"a", "b", "c"};
	struct gpu_writer *w;

	(void)state;
	w = start(GPU_OUT_CSV, c, 3);
	gpu_writer_i64(w, INT64_MIN);
	gpu_writer_double(w, 1e20);
	gpu_writer_double(w, -9.1e18);
	gpu_writer_i64(w, 4); /* one too many */
	gpu_writer_end_row(w);
	gpu_writer_str(w, "x", 1);
	gpu_writer_double(w, 0.0000005);
	gpu_writer_double(w, 1.0 / 0.0);
	gpu_writer_end_row(w);
	gpu_writer_double(w, 2.0);
	gpu_writer_end_row(w);
	assert_string_equal(done(w), "a,b,c\n"
				     "-9223372036854775808,"
				     "100000000000000000000,"
				     "-9100000000000000000\n"
				     "x,0,\n"
				     "2,,\n");

	w = start(GPU_OUT_JSON, c, 3);
	gpu_writer_double(w, 0.0000015);
	gpu_writer_i64(w, -12);
	gpu_writer_double(w, 1e20);
	gpu_writer_double(w, 5.0); /* one too many */
	gpu_writer_end_row(w);
	gpu_writer_null(w);
	gpu_writer_i64(w, 0);
	gpu_writer_end_row(w);
	assert_string_equal(done(w), "[\n{\"a\":0.000002,\"b\":-12,"
				     "\"c\":100000000000000000000},\n"
				     "{\"a\":null,\"b\":0,\"c\":null}\n]\n");
}

/* The rows of values_same(), each value by its own call. */
static void
each_value(struct gpu_writer *w, const struct gpu_value *v, size_t n)
{
	for (const struct gpu_value *end = v + n; v < end; v++) {
		switch (v->kind) {
		case GPU_VAL_INT:
			gpu_writer_i64(w, v->i);
			break;
		case GPU_VAL_DOUBLE:
			gpu_writer_double(w, v->d);
			break;
		case GPU_VAL_CENTS:
			gpu_writer_cents(w, v->i);
			break;
		default:
			gpu_writer_null(w);
			break;
		}
	}
}

/*
 * gpu_writer_values() writes the bytes of one call a value, in every
 * format: integers at both ends, doubles in place and the long way,
 * non-finite and null values, amounts in cents, and more values than
 * columns.
 */
static void
test_writer_values(void **state)
{
	static const char *const c[] = {"k", "a", "b", "c", "d", "e"};
	const struct gpu_value v[] = {
	    {GPU_VAL_INT, INT64_MIN, 0},    {GPU_VAL_DOUBLE, 0, 1e20},
	    {GPU_VAL_DOUBLE, 0, -9.1e18},   {GPU_VAL_DOUBLE, 0, 0.0000005},
	    {GPU_VAL_DOUBLE, 0, 0.0 / 0.0}, {GPU_VAL_NULL, 0, 0},
	    {GPU_VAL_INT, 42, 0},	    {GPU_VAL_DOUBLE, 0, -2.125},
	    {GPU_VAL_CENTS, INT64_MIN, 0},  {GPU_VAL_CENTS, -5, 0},
	    {GPU_VAL_CENTS, 123456, 0},
	};
	const enum gpu_ofmt fmts[] = {GPU_OUT_CSV, GPU_OUT_JSON, GPU_OUT_JSONL,
				      GPU_OUT_TABLE};
	char want[sizeof(got)];

	(void)state;
	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		for (int bulk = 0; bulk < 2; bulk++) {
			struct gpu_writer *w = start(fmts[f], c, 6);

			gpu_writer_str(w, "x,y", 3);
			(bulk ? gpu_writer_values : each_value)(w, v, 5);
			gpu_writer_end_row(w);
			(bulk ? gpu_writer_values : each_value)(w, v + 3, 5);
			gpu_writer_end_row(w);
			/* 8 values: past the columns, cut as by calls. */
			gpu_writer_str(w, "z", 1);
			(bulk ? gpu_writer_values : each_value)(w, v, 8);
			gpu_writer_end_row(w);
			gpu_writer_str(w, "m", 1);
			(bulk ? gpu_writer_values : each_value)(w, v + 8, 3);
			gpu_writer_end_row(w);
			done(w);
			if (bulk)
				assert_string_equal(got, want);
			else
				memcpy(want, got, sizeof(want));
			if (fmts[f] == GPU_OUT_CSV)
				assert_string_equal(
				    got, "k,a,b,c,d,e\n"
					 "\"x,y\",-9223372036854775808,"
					 "100000000000000000000,"
					 "-9100000000000000000,0,\n"
					 "0,,,42,-2.125,\n"
					 "z,-9223372036854775808,"
					 "100000000000000000000,"
					 "-9100000000000000000,0,\n"
					 "m,-92233720368547758.08,-0.05,"
					 "1234.56,,\n");
		}
	}
}

/*
 * gpu_writer_num() takes formatted text as a number (a leading '-' is not
 * defused as a formula). Rows are held, not written as each ends: a
 * caller's own line goes before the header or after the finish.
 */
static void
test_writer_num_and_row_order(void **state)
{
	static const char *const c[] = {"k", "v"};
	struct gpu_writer *w;

	(void)state;
	w = start(GPU_OUT_CSV, c, 2);
	gpu_writer_csv_safe(w, true);
	gpu_writer_str(w, "-x", 2);
	gpu_writer_num(w, "-2.5", 4);
	gpu_writer_end_row(w);
	gpu_writer_str(w, "y", 1);
	gpu_writer_num(w, "7x", 1);
	gpu_writer_end_row(w);
	assert_string_equal(done(w), "k,v\n\"'-x\",-2.5\ny,7\n");

	w = start(GPU_OUT_JSONL, c, 2);
	gpu_writer_str(w, "a", 1);
	gpu_writer_num(w, "-0.25", 5);
	gpu_writer_end_row(w);
	gpu_writer_null(w);
	gpu_writer_num(w, "3", 1);
	gpu_writer_end_row(w);
	assert_int_equal(gpu_writer_finish(w), 0);
	fputs("#\n", out);
	assert_string_equal(done(w), "{\"k\":\"a\",\"v\":-0.25}\n"
				     "{\"k\":null,\"v\":3}\n#\n");
}

/* The bytes written to out so far (flushed). */
static long
written(void)
{
	assert_int_equal(fflush(out), 0);
	return ftell(out);
}

/*
 * Ended rows reach the stream 32 KiB at a time, in one write each, and
 * the rest at the finish: the stream holds the header alone until the
 * rows held pass 32 KiB, then every row ended so far.
 */
static void
test_writer_holds_rows(void **state)
{
	static const char *const c[] = {"n"};
	struct gpu_writer *w;
	long rows = 0, seen = 0;

	(void)state;
	w = start(GPU_OUT_CSV, c, 1);
	assert_int_equal(written(), 2); /* "n\n": the header at once */
	while (seen == 0) {
		gpu_writer_i64(w, 1000000); /* "1000000\n": 8 bytes */
		gpu_writer_end_row(w);
		rows++;
		if (written() > 2)
			seen = rows;
	}
	assert_int_equal(seen, 32768 / 8);
	assert_int_equal(written(), 2 + 8 * seen);
	gpu_writer_i64(w, 7);
	gpu_writer_end_row(w);
	assert_int_equal(written(), 2 + 8 * seen); /* held */
	assert_int_equal(gpu_writer_finish(w), 0);
	assert_int_equal(written(), 2 + 8 * seen + 2);
	gpu_writer_free(w);
	fclose(out);
}

static void
test_writer_json(void **state)
{
	(void)state;
	assert_string_equal(two_rows(GPU_OUT_JSON),
			    "[\n{\"name\":\"a\",\"n\":1,\"x\":2.5},\n"
			    "{\"name\":\"b,c\",\"n\":-7,\"x\":null}\n]\n");
}

static void
test_writer_json_empty(void **state)
{
	struct gpu_writer *w;

	(void)state;
	w = start(GPU_OUT_JSON, cols3, 3);
	assert_string_equal(done(w), "[]\n");
	w = start(GPU_OUT_JSONL, cols3, 3);
	assert_string_equal(done(w), "");
	w = start(GPU_OUT_CSV, cols3, 3);
	assert_string_equal(done(w), "name,n,x\n");
}

static void
test_writer_jsonl(void **state)
{
	(void)state;
	assert_string_equal(two_rows(GPU_OUT_JSONL),
			    "{\"name\":\"a\",\"n\":1,\"x\":2.5}\n"
			    "{\"name\":\"b,c\",\"n\":-7,\"x\":null}\n");
}

static void
test_writer_json_escaping(void **state)
{
	static const char *const c[] = {"k\"ey"};
	static const char s[] = "q\" b\\ n\n r\r t\t \x01\x1f\x7f "
				"\xc3\xa9\xe2\x82\xac bad\xff\xc3";
	struct gpu_writer *w;

	(void)state;
	w = start(GPU_OUT_JSONL, c, 1);
	gpu_writer_str(w, s, sizeof(s) - 1);
	gpu_writer_end_row(w);
	assert_string_equal(done(w),
			    "{\"k\\\"ey\":\"q\\\" b\\\\ n\\n r\\r t\\t "
			    "\\u0001\\u001f\x7f \xc3\xa9\xe2\x82\xac "
			    "bad\\ufffd\\ufffd\"}\n");
	w = start(GPU_OUT_JSON, c, 1);
	gpu_writer_str(w, "\b\f", 2);
	gpu_writer_end_row(w);
	assert_string_equal(done(w), "[\n{\"k\\\"ey\":\"\\b\\f\"}\n]\n");
}

static void
test_writer_missing_and_extra_fields(void **state)
{
	struct gpu_writer *w;

	(void)state;
	w = start(GPU_OUT_CSV, cols3, 3);
	gpu_writer_str(w, "only", 4);
	gpu_writer_end_row(w);
	gpu_writer_str(w, "a", 1);
	gpu_writer_i64(w, 1);
	gpu_writer_i64(w, 2);
	gpu_writer_i64(w, 3); /* one too many: ignored */
	gpu_writer_end_row(w);
	assert_string_equal(done(w), "name,n,x\nonly,,\na,1,2\n");
}

static void
test_writer_table(void **state)
{
	static const char *const c[] = {"user", "gpu_hours", "note"};
	struct gpu_writer *w;

	(void)state;
	w = start(GPU_OUT_TABLE, c, 3);
	gpu_writer_str(w, "alice", 5);
	gpu_writer_double(w, 12.5);
	gpu_writer_str(w, "x", 1);
	gpu_writer_end_row(w);
	gpu_writer_str(w, "b\xc3\xa9", 3);
	gpu_writer_double(w, 1234567.25);
	gpu_writer_null(w);
	gpu_writer_end_row(w);
	gpu_writer_null(w);
	gpu_writer_null(w);
	gpu_writer_str(w, "two\nlines", 9);
	gpu_writer_end_row(w);
	assert_string_equal(done(w), "user    gpu_hours  note\n"
				     "alice        12.5  x\n"
				     "b\xc3\xa9     1234567.25\n"
				     "                   two lines\n");

	w = start(GPU_OUT_TABLE, c, 3);
	assert_string_equal(done(w), "user  gpu_hours  note\n");
}

static void
test_writer_table_max_width(void **state)
{
	static const char *const c[] = {"user", "gpu_hours", "note"};
	struct gpu_writer *w;

	(void)state;
	/* "alice  12.5  x" is 20 wide with its header: 19 drops "note". */
	w = start(GPU_OUT_TABLE, c, 3);
	gpu_writer_set_max_width(w, 19, 1);
	gpu_writer_str(w, "alice", 5);
	gpu_writer_double(w, 12.5);
	gpu_writer_str(w, "x", 1);
	gpu_writer_end_row(w);
	assert_string_equal(done(w), "user   gpu_hours\n"
				     "alice       12.5\n");
	/* The kept columns stay, however narrow. */
	w = start(GPU_OUT_TABLE, c, 3);
	gpu_writer_set_max_width(w, 3, 2);
	gpu_writer_str(w, "alice", 5);
	gpu_writer_double(w, 12.5);
	gpu_writer_end_row(w);
	assert_string_equal(done(w), "user   gpu_hours\n"
				     "alice       12.5\n");
}

static void
test_writer_write_error(void **state)
{
	struct gpu_writer *w;
	FILE *fp = fopen("/dev/full", "w");
	int i;

	(void)state;
	if (fp == NULL)
		skip();
	w = gpu_writer_new(fp, GPU_OUT_CSV, cols3, 3);
	for (i = 0; i < 10000; i++) {
		gpu_writer_str(w, "row", 3);
		gpu_writer_end_row(w);
	}
	assert_int_equal(gpu_writer_finish(w), -1);
	gpu_writer_free(w);
	fclose(fp);
}

/* The row ("x", n, n / 4.0) as text, with the csv_safe cell "=1". */
static void
some_row(struct gpu_writer *w, int n)
{
	struct gpu_value v[2] = {{GPU_VAL_INT, n, 0},
				 {GPU_VAL_DOUBLE, 0, n / 4.0}};

	gpu_writer_str(w, n % 2 ? "=1" : "x,y", n % 2 ? 2 : 3);
	gpu_writer_values(w, v, 2);
	gpu_writer_end_row(w);
}

/*
 * Rows made by a gpu_writer_rows_like() writer and appended come out as
 * the same rows written straight (CSV with csv_safe, JSON Lines); the
 * writer of rows is emptied by each append and writes no header; JSON
 * and tables have none.
 */
static void
test_writer_rows_like(void **state)
{
	static const enum gpu_ofmt fmts[] = {GPU_OUT_CSV, GPU_OUT_JSONL};
	char want[4096];

	(void)state;
	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		struct gpu_writer *w = start(fmts[f], cols3, 3), *r;

		gpu_writer_csv_safe(w, true);
		for (int i = 0; i < 7; i++)
			some_row(w, i);
		strcpy(want, done(w));
		w = start(fmts[f], cols3, 3);
		gpu_writer_csv_safe(w, true);
		r = gpu_writer_rows_like(w);
		assert_non_null(r);
		some_row(w, 0);
		some_row(r, 1);
		some_row(r, 2);
		gpu_writer_append(w, r);
		some_row(w, 3);
		gpu_writer_append(w, r); /* empty: nothing */
		some_row(r, 4);
		some_row(r, 5);
		some_row(r, 6);
		gpu_writer_append(w, r);
		assert_int_equal(gpu_writer_finish(r), 0); /* writes nothing */
		gpu_writer_free(r);
		assert_string_equal(done(w), want);
	}
	{
		struct gpu_writer *w = start(GPU_OUT_JSON, cols3, 3);

		assert_null(gpu_writer_rows_like(w));
		done(w);
		w = start(GPU_OUT_TABLE, cols3, 3);
		assert_null(gpu_writer_rows_like(w));
		done(w);
	}
}

/*
 * Plain text: what gpu_writer_plain_ok() takes, and gpu_writer_plain()
 * writing it as gpu_writer_str() does in every format.
 */
static void
test_writer_plain(void **state)
{
	static const char *const yes[] = {"2026-11-01T00", "2026-W44", "all",
					  "a.b:c_d/e"};
	static const char *const no[] = {"",	"-7d", "=1",  "+1", "@a",
					 "a b", "a,b", "a\"b", "\xc3\xa9"};
	static const enum gpu_ofmt fmts[] = {GPU_OUT_CSV, GPU_OUT_JSON,
					     GPU_OUT_JSONL, GPU_OUT_TABLE};
	char want[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(gpu_writer_plain_ok(yes[i], strlen(yes[i])));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(gpu_writer_plain_ok(no[i], strlen(no[i])));
	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		struct gpu_writer *w = start(fmts[f], cols3, 3);

		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			gpu_writer_str(w, yes[i], strlen(yes[i]));
			gpu_writer_i64(w, (int64_t)i);
			gpu_writer_end_row(w);
		}
		strcpy(want, done(w));
		w = start(fmts[f], cols3, 3);
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			gpu_writer_plain(w, yes[i], strlen(yes[i]));
			gpu_writer_i64(w, (int64_t)i);
			gpu_writer_end_row(w);
		}
		assert_string_equal(done(w), want);
	}
}

static void
test_writer_ofmt_parse(void **state)
{
	enum gpu_ofmt f;

	(void)state;
	assert_int_equal(gpu_ofmt_parse("csv", &f), 0);
	assert_int_equal(f, GPU_OUT_CSV);
	assert_int_equal(gpu_ofmt_parse("json", &f), 0);
	assert_int_equal(f, GPU_OUT_JSON);
	assert_int_equal(gpu_ofmt_parse("jsonl", &f), 0);
	assert_int_equal(f, GPU_OUT_JSONL);
	assert_int_equal(gpu_ofmt_parse("table", &f), 0);
	assert_int_equal(f, GPU_OUT_TABLE);
	assert_int_equal(gpu_ofmt_parse("xml", &f), -1);
	gpu_writer_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writer_csv),
	    cmocka_unit_test(test_writer_values),
	    cmocka_unit_test(test_writer_csv_quoting),
	    cmocka_unit_test(test_writer_csv_safe),
	    cmocka_unit_test(test_writer_numbers),
	    cmocka_unit_test(test_writer_numbers_in_place),
	    cmocka_unit_test(test_writer_num_and_row_order),
	    cmocka_unit_test(test_writer_holds_rows),
	    cmocka_unit_test(test_writer_json),
	    cmocka_unit_test(test_writer_json_empty),
	    cmocka_unit_test(test_writer_jsonl),
	    cmocka_unit_test(test_writer_json_escaping),
	    cmocka_unit_test(test_writer_missing_and_extra_fields),
	    cmocka_unit_test(test_writer_table),
	    cmocka_unit_test(test_writer_table_max_width),
	    cmocka_unit_test(test_writer_write_error),
	    cmocka_unit_test(test_writer_ofmt_parse),
	    cmocka_unit_test(test_writer_rows_like),
	    cmocka_unit_test(test_writer_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
