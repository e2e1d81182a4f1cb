/* SPDX-License-Identifier: MIT */
/* Unit tests for diagnostics: errors, messages, allocation (gpu/diag.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/diag.h"

/* Run fn with stderr going to a string; the caller frees the result. */
static char *
captured(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	char *out = calloc(4096, 1);
	size_t n;

	assert_non_null(tmp);
	assert_non_null(out);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, 4095, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void
test_diag_err_records(void **state)
{
	struct gpu_err err;

	(void)state;
	assert_int_equal(
	    gpu_err_at(&err, "in.csv", 17, "invalid number '%s'", "abc"), -1);
	assert_string_equal(err.msg, "invalid number 'abc'");
	assert_string_equal(err.source, "in.csv");
	assert_int_equal(err.line, 17);
	assert_int_equal(gpu_err_set(&err, "x %d", 1), -1);
	assert_string_equal(err.msg, "x 1");
	assert_string_equal(err.source, ""); /* no location */
	assert_int_equal(err.line, 0);
	assert_int_equal(gpu_err_set(NULL, "ignored"), -1);
	assert_int_equal(gpu_err_at(NULL, "s", 1, "ignored"), -1);
}

static void
messages(void)
{
	struct gpu_err err;

	gpu_msg("cannot open '%s'", "x");
	gpu_warn("%d rows skipped", 2);
	gpu_msg_at("<stdin>", 3, "bad row");
	gpu_msg_at("<stdin>", 0, "no line");
	gpu_err_at(&err, "a.csv", 9, "missing column");
	gpu_msg_err(&err);
	gpu_err_set(&err, "database error");
	gpu_msg_err(&err);
}

/* Messages name the program, then the source and line when known. */
static void
test_diag_messages(void **state)
{
	char *out;

	(void)state;
	gpu_diag_init("/usr/local/bin/gpuagg");
	assert_string_equal(gpu_progname(), "gpuagg");
	out = captured(messages);
	assert_string_equal(out, "gpuagg: cannot open 'x'\n"
				 "gpuagg: warning: 2 rows skipped\n"
				 "gpuagg: <stdin>:3: bad row\n"
				 "gpuagg: <stdin>: no line\n"
				 "gpuagg: a.csv:9: missing column\n"
				 "gpuagg: database error\n");
	free(out);
	gpu_diag_init(""); /* keeps the name */
	assert_string_equal(gpu_progname(), "gpuagg");
}

static void
usage(void)
{
	assert_int_equal(
	    gpu_usage_error("usage: gpuagg [-h]\n", "bad '%s'", "x"),
	    GPU_EXIT_USAGE);
}

static void
test_diag_usage_error(void **state)
{
	char *out;

	(void)state;
	gpu_diag_init("gpuagg");
	out = captured(usage);
	assert_string_equal(out, "gpuagg: bad 'x'\n"
				 "usage: gpuagg [-h]\n"
				 "Try 'gpuagg --help' for more information.\n");
	free(out);
}

static void
test_diag_alloc(void **state)
{
	char *s;
	int *v;

	(void)state;
	s = gpu_xstrndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
	s = gpu_xstrdup("");
	assert_string_equal(s, "");
	free(s);
	v = gpu_xcalloc(4, sizeof(*v));
	assert_int_equal(v[3], 0);
	v = gpu_xreallocarray(v, 1000, sizeof(*v));
	v[999] = 7;
	free(v);
	free(gpu_xmalloc(0)); /* a valid pointer, freed */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_diag_err_records),
	    cmocka_unit_test(test_diag_messages),
	    cmocka_unit_test(test_diag_usage_error),
	    cmocka_unit_test(test_diag_alloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
