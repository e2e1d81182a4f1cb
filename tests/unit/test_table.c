/* SPDX-License-Identifier: MIT */
/* Unit tests of the generic CSV/JSONL table reader (gpu/table.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/table.h"

static FILE *
mk(const char *s, size_t n)
{
	FILE *fp = tmpfile();

	assert_non_null(fp);
	if (n > 0)
		assert_int_equal(fwrite(s, 1, n, fp), n);
	rewind(fp);
	return fp;
}

static bool
str_is(struct gpu_str v, const char *s)
{
	return v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

/*
 * Fields of every length from 0 to 19, with and without blanks around
 * them, so that the delimiters fall at every place of an 8-byte word:
 * each field is split where a byte-by-byte scan would split it.
 */
static void
test_table_field_lengths(void **state)
{
	static const char alpha[] = "abcdefghijklmnopqrst";
	struct gpu_table_opts o = {GPU_FMT_CSV, ',', false, NULL, false, NULL};
	struct gpu_err err;
	struct gpu_row row;
	struct gpu_table *t;
	char in[4096];
	size_t n = 0;
	FILE *fp;

	(void)state;
	n += (size_t)snprintf(in + n, sizeof(in) - n, "a,b,c,d,e,f,g\n");
	for (int r = 0; r < 20; r++) {
		for (int c = 0; c < 7; c++) {
			int len = (r + c * 3) % 20;

			n += (size_t)snprintf(in + n, sizeof(in) - n,
					      "%s%.*s%s%s", c == 2 ? "  " : "",
					      len, alpha, c == 4 ? "\t " : "",
					      c == 6 ? "\n" : ",");
		}
	}
	assert_true(n < sizeof(in));
	fp = mk(in, n);
	t = gpu_table_new(fp, "lengths.csv", &o, &err);
	assert_non_null(t);
	for (int r = 0; r < 20; r++) {
		assert_int_equal(gpu_table_next(t, &row, &err), 1);
		assert_null(row.bad);
		assert_int_equal(row.nfields, 7);
		for (int c = 0; c < 7; c++) {
			int len = (r + c * 3) % 20;

			assert_int_equal(row.fields[c].len, len);
			assert_memory_equal(row.fields[c].p, alpha,
					    (size_t)len);
		}
	}
	assert_int_equal(gpu_table_next(t, &row, &err), 0);
	gpu_table_free(t);
	fclose(fp);
}

static void
test_table_sacct_trailing_pipe(void **state)
{
	static const char in[] = "JobID|User|Account|AllocTRES|\n"
				 "123|alice|proj|gres/gpu=2|\n"
				 "123.batch||||\n"
				 "124|bob|p|x|extra|\n";
	struct gpu_table_opts o = {GPU_FMT_AUTO, '|', false, NULL, false, NULL};
	struct gpu_err err;
	struct gpu_row row;
	struct gpu_table *t;
	FILE *fp = mk(in, sizeof(in) - 1);

	(void)state;
	t = gpu_table_new(fp, "sacct", &o, &err);
	assert_non_null(t);
	assert_int_equal(gpu_table_ncols(t), 4);
	assert_string_equal(gpu_table_colname(t, 3), "AllocTRES");
	assert_int_equal(gpu_table_col(t, "account"), 2);
	assert_int_equal(gpu_table_col(t, "nope"), -1);
	assert_int_equal(gpu_table_next(t, &row, &err), 1);
	assert_null(row.bad);
	assert_int_equal(row.line, 2);
	assert_int_equal(row.nfields, 4);
	assert_true(str_is(row.fields[1], "alice"));
	assert_true(str_is(row.fields[3], "gres/gpu=2"));
	assert_true(row.present[3]);
	assert_true(str_is(row.raw, "123|alice|proj|gres/gpu=2|"));
	assert_int_equal(gpu_table_next(t, &row, &err), 1);
	assert_null(row.bad);
	assert_true(str_is(row.fields[0], "123.batch"));
	assert_int_equal(row.fields[1].len, 0);
	assert_int_equal(gpu_table_next(t, &row, &err), 1);
	assert_string_equal(row.bad, "wrong number of fields");
	assert_int_equal(row.line, 4);
	assert_int_equal(gpu_table_next(t, &row, &err), 0);
	gpu_table_free(t);
	fclose(fp);
}

static void
test_table_sacct_headerless(void **state)
{
	static const char in[] = "1853+0|echo-0|compute||1|\n"
				 "1853+0.batch|batch|||1\n";
	struct gpu_table_opts o = {
	    GPU_FMT_CSV, '|', true, "JobID,JobName,Partition,Account,AllocCPUS",
	    false,	 NULL};
	struct gpu_err err;
	struct gpu_row row;
	struct gpu_table *t;
	FILE *fp = mk(in, sizeof(in) - 1);

	(void)state;
	t = gpu_table_new(fp, "<stdin>", &o, &err);
	assert_non_null(t);
	assert_int_equal(gpu_table_ncols(t), 5);
	assert_int_equal(gpu_table_next(t, &row, &err), 1);
	assert_null(row.bad);
	assert_int_equal(row.line, 1);
	assert_true(str_is(row.fields[0], "1853+0"));
	assert_int_equal(row.fields[3].len, 0);
	assert_int_equal(gpu_table_next(t, &row, &err), 1);
	assert_null(row.bad);
	assert_int_equal(row.line, 2);
	assert_true(str_is(row.fields[4], "1"));
	assert_int_equal(gpu_table_next(t, &row, &err), 0);
	gpu_table_free(t);
	fclose(fp);

	o.columns = NULL;
	fp = mk(in, sizeof(in) - 1);
	assert_null(gpu_table_new(fp, "<stdin>", &o, &err));
	fclose(fp);
}

static void
test_table_jsonl_names(void **state)
{
	static const char *const names[] = {"job_id", "user", "gpus", NULL};
	static const char in[] = "{\"JOB_ID\":\"7\",\"user\":null,\"gpus\":4,"
				 "\"x\":{}}\n";
	struct gpu_table_opts o = {GPU_FMT_AUTO, 0, false, NULL, false, names};
	struct gpu_err err;
	struct gpu_row row;
	struct gpu_table *t;
	FILE *fp = mk(in, sizeof(in) - 1);

	(void)state;
	t = gpu_table_new(fp, "jobs.jsonl", &o, &err);
	assert_non_null(t);
	assert_int_equal(gpu_table_ncols(t), 3);
	assert_int_equal(gpu_table_next(t, &row, &err), 1);
	assert_null(row.bad);
	assert_int_equal(row.nfields, 3);
	assert_true(row.present[0]);
	assert_true(str_is(row.fields[0], "7"));
	assert_false(row.present[1]);
	assert_int_equal(row.fields[1].len, 0);
	assert_true(row.present[2]);
	assert_true(str_is(row.fields[2], "4"));
	assert_int_equal(gpu_table_next(t, &row, &err), 0);
	gpu_table_free(t);
	fclose(fp);
}

static void
test_format_parse(void **state)
{
	enum gpu_format f;

	(void)state;
	assert_int_equal(gpu_format_parse("csv", &f), 0);
	assert_int_equal(f, GPU_FMT_CSV);
	assert_int_equal(gpu_format_parse("json", &f), 0);
	assert_int_equal(f, GPU_FMT_JSONL);
	assert_int_equal(gpu_format_parse("auto", &f), 0);
	assert_int_equal(f, GPU_FMT_AUTO);
	assert_int_equal(gpu_format_parse("xml", &f), -1);
	gpu_table_free(NULL);
}

/*
 * Unknown JSON keys, from the first line on; a nested or boolean value
 * names its column.
 */
static void
test_table_jsonl_unknown_nested(void **state)
{
	static const char *const names[] = {"a", "b", "c", NULL};
	static const char in[] = "{\"a\":1,\"zz\":2}\n"
				 "\n"
				 "{\"c\":[1],\"b\":{},\"yy\":3}\n"
				 "{\"a\":null,\"c\":false,\"b\":true,\"yy\":true}\n";
	struct gpu_table_opts o = {GPU_FMT_AUTO, 0, false, NULL, false, names};
	struct gpu_err err;
	struct gpu_row row;
	struct gpu_table *t;
	FILE *fp = mk(in, sizeof(in) - 1);

	(void)state;
	t = gpu_table_new(fp, "x.jsonl", &o, &err);
	assert_non_null(t);
	assert_int_equal(gpu_table_format(t), GPU_FMT_JSONL);
	assert_string_equal(gpu_table_source(t), "x.jsonl");
	assert_int_equal(gpu_table_header_line(t), 0);
	assert_string_equal(gpu_table_unknown(t), "");
	gpu_table_collect_unknown(t);
	assert_string_equal(gpu_table_unknown(t), "zz");
	assert_int_equal(gpu_table_offset(t), 0);
	assert_int_equal(gpu_table_next(t, &row, &err), 1);
	assert_null(row.bad);
	assert_int_equal(row.nested_col, -1);
	assert_int_equal(gpu_table_next(t, &row, &err), 1);
	assert_int_equal(row.line, 3);
	assert_string_equal(row.bad, "nested JSON value");
	assert_int_equal(row.nested_col, 1); /* b comes before c */
	/* A boolean is no value either (an unknown key's is not read). */
	assert_int_equal(gpu_table_next(t, &row, &err), 1);
	assert_int_equal(row.line, 4);
	assert_string_equal(row.bad, "JSON boolean value");
	assert_int_equal(row.nested_col, 1);
	assert_false(row.present[0]); /* null: absent */
	assert_string_equal(gpu_table_unknown(t), "zz,yy");
	gpu_table_add_unknown(t, "zz");
	gpu_table_add_unknown(t, "ww");
	assert_string_equal(gpu_table_unknown(t), "zz,yy,ww");
	assert_int_equal(gpu_table_next(t, &row, &err), 0);
	assert_int_equal(gpu_table_offset(t), (long long)sizeof(in) - 1);
	gpu_table_free(t);
	fclose(fp);
}

static void
test_table_header_and_names(void **state)
{
	static const char in[] = "\n\nA ,b\n1,2\n";
	struct gpu_table_opts o = {GPU_FMT_AUTO, 0, false, NULL, false, NULL};
	struct gpu_err err;
	struct gpu_row row;
	struct gpu_table *t;
	FILE *fp = mk(in, sizeof(in) - 1);

	(void)state;
	assert_true(gpu_table_name_eq("Util", 4, "util"));
	assert_false(gpu_table_name_eq("util", 3, "util"));
	assert_false(gpu_table_name_eq("utilx", 5, "util"));
	t = gpu_table_new(fp, "h.csv", &o, &err);
	assert_non_null(t);
	assert_int_equal(gpu_table_format(t), GPU_FMT_CSV);
	assert_int_equal(gpu_table_header_line(t), 3);
	assert_int_equal(gpu_table_col(t, "a"), 0);
	assert_int_equal(gpu_table_next(t, &row, &err), 1);
	assert_int_equal(row.line, 4);
	assert_int_equal(row.nested_col, -1);
	assert_true(str_is(row.fields[1], "2"));
	gpu_table_free(t);
	fclose(fp);
	fp = mk("", 0);
	assert_null(gpu_table_new(fp, "e.csv", &o, &err));
	assert_string_equal(err.msg, "empty input");
	fclose(fp);
}

/* The record helpers the job and allocation readers share. */
static void
test_table_record_helpers(void **state)
{
	char long_text[GPU_TEXT_MAX + 2];
	struct gpu_str f[2] = {{"a", 1}, {"b", 1}};
	bool present[2] = {true, false};
	struct gpu_row row = {0};

	(void)state;
	row.nfields = 2;
	row.fields = f;
	row.present = present;
	assert_int_equal(gpu_row_field(&row, 0).len, 1);
	assert_int_equal(gpu_row_field(&row, 1).len, 0); /* absent key */
	assert_int_equal(gpu_row_field(&row, 2).len, 0); /* past the end */
	assert_int_equal(gpu_row_field(&row, -1).len, 0); /* no column */
	assert_true(gpu_value_absent((struct gpu_str){"", 0}, false));
	assert_true(gpu_value_absent((struct gpu_str){"[n/a]", 5}, false));
	assert_false(gpu_value_absent((struct gpu_str){"Unknown", 7}, false));
	assert_true(gpu_value_absent((struct gpu_str){"Unknown", 7}, true));
	assert_true(gpu_value_absent((struct gpu_str){"none", 4}, true));
	memset(long_text, 'x', sizeof(long_text));
	assert_string_equal(
	    gpu_text_check((struct gpu_str){long_text, GPU_TEXT_MAX + 1},
			   "long", "ctrl"),
	    "long");
	assert_null(gpu_text_check((struct gpu_str){long_text, GPU_TEXT_MAX},
				   "long", "ctrl"));
	long_text[3] = '\n';
	assert_string_equal(
	    gpu_text_check((struct gpu_str){long_text, GPU_TEXT_MAX + 1},
			   "long", "ctrl"),
	    "ctrl");
	assert_null(gpu_text_check((struct gpu_str){long_text, 3}, NULL, "c"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_record_helpers),
	    cmocka_unit_test(test_table_field_lengths),
	    cmocka_unit_test(test_table_sacct_trailing_pipe),
	    cmocka_unit_test(test_table_sacct_headerless),
	    cmocka_unit_test(test_table_jsonl_names),
	    cmocka_unit_test(test_format_parse),
	    cmocka_unit_test(test_table_jsonl_unknown_nested),
	    cmocka_unit_test(test_table_header_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
