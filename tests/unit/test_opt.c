/* SPDX-License-Identifier: MIT */
/* Unit tests for the option loop and its error wording (gpu/opt.h). */
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
#include "gpu/opt.h"

static const char usage[] = "usage: t [-v] [-d path]\n";

static const struct option longopts[] = {
    {"db", required_argument, NULL, 'd'},
    {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

struct seen {
	char got[64];
	const char *db;
};

static int
take(void *ctx, int c, const char *arg)
{
	struct seen *s = ctx;
	size_t n = strlen(s->got);

	if (n + 1 < sizeof(s->got)) {
		s->got[n] = (char)c;
		s->got[n + 1] = '\0';
	}
	if (c == 'd')
		s->db = arg;
	return c == 'V' ? GPU_EXIT_OK : -1;
}

/*
 * Parse the NULL-terminated arguments after "t" with a fresh getopt; fill
 * s, put stderr into err (4 KiB) and return gpu_opt_parse()'s result.
 */
static int
parse(struct seen *s, char *err, const char *a0, ...)
{
	char *argv[16];
	int argc = 0, rc, saved;
	FILE *tmp = tmpfile();
	size_t n;
	va_list ap;

	argv[argc++] = (char *)"t";
	va_start(ap, a0);
	for (const char *a = a0; a != NULL; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	memset(s, 0, sizeof(*s));
	optind = 0; /* glibc: start over */
	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	rc = gpu_opt_parse(argc, argv, ":d:vV", longopts, usage, take, s);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(err, 1, 4095, tmp);
	err[n] = '\0';
	fclose(tmp);
	return rc;
}

static void
test_opt_takes_options(void **state)
{
	struct seen s;
	char err[4096];

	(void)state;
	gpu_diag_init("t");
	assert_int_equal(parse(&s, err, "-v", "--db=w.db", "--verb", "x", NULL),
			 -1);
	assert_string_equal(s.got, "vdv");
	assert_string_equal(s.db, "w.db");
	assert_string_equal(err, "");
	assert_int_equal(parse(&s, err, "--version", "-v", NULL), GPU_EXIT_OK);
	assert_string_equal(s.got, "V"); /* fn's status stops the loop */
}

static void
test_opt_errors(void **state)
{
	static const char tail[] =
	    "usage: t [-v] [-d path]\nTry 't --help' for more information.\n";
	struct seen s;
	char err[4096], want[256];

	(void)state;
	gpu_diag_init("t");
	assert_int_equal(parse(&s, err, "--nope", NULL), GPU_EXIT_USAGE);
	snprintf(want, sizeof(want), "t: unknown option '--nope'\n%s", tail);
	assert_string_equal(err, want);
	assert_int_equal(parse(&s, err, "-x", NULL), GPU_EXIT_USAGE);
	snprintf(want, sizeof(want), "t: unknown option '-x'\n%s", tail);
	assert_string_equal(err, want);
	assert_int_equal(parse(&s, err, "--ver", NULL), GPU_EXIT_USAGE);
	snprintf(want, sizeof(want), "t: option '--ver' is ambiguous\n%s",
		 tail);
	assert_string_equal(err, want);
	assert_int_equal(parse(&s, err, "-d", NULL), GPU_EXIT_USAGE);
	snprintf(want, sizeof(want), "t: option '-d' requires an argument\n%s",
		 tail);
	assert_string_equal(err, want);
	assert_int_equal(parse(&s, err, "--db", NULL), GPU_EXIT_USAGE);
	snprintf(want, sizeof(want),
		 "t: option '--db' requires an argument\n%s", tail);
	assert_string_equal(err, want);
	assert_int_equal(parse(&s, err, "--verbose=1", NULL), GPU_EXIT_USAGE);
	snprintf(want, sizeof(want),
		 "t: option '--verbose' doesn't allow an argument\n%s", tail);
	assert_string_equal(err, want);
	fflush(stderr);
}

/*
 * The listing names every long option with what it takes and its letter,
 * then the letters without a long name; a table option whose val is no
 * letter of the optstring has no letter.
 */
static void
test_opt_list(void **state)
{
	static const struct option table[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"color", optional_argument, NULL, 256},
	    {NULL, 0, NULL, 0},
	};
	char out[256];
	FILE *tmp = tmpfile();
	size_t n;

	(void)state;
	assert_non_null(tmp);
	assert_int_equal(gpu_opt_list(tmp, ":d:vqx:", table), 0);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	assert_string_equal(out, "--db\targ\t-d\n"
				 "--verbose\tnone\t-v\n"
				 "--color\toptional\t-\n"
				 "-\tnone\t-q\n"
				 "-\targ\t-x\n");
}

/* The hidden option is taken only alone: not abbreviated, not with others. */
static void
test_opt_list_option(void **state)
{
	struct seen s;
	char err[4096];

	(void)state;
	assert_int_equal(parse(&s, err, "--list-opt", NULL), GPU_EXIT_USAGE);
	assert_int_equal(parse(&s, err, "-v", "--list-options", NULL),
			 GPU_EXIT_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_opt_takes_options),
	    cmocka_unit_test(test_opt_errors),
	    cmocka_unit_test(test_opt_list),
	    cmocka_unit_test(test_opt_list_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
