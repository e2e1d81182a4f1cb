/* SPDX-License-Identifier: MIT */
/* Unit tests for Slurm hostlist expansion (gpu/hostlist.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/hostlist.h"

/* Expand s; the names joined by spaces into out, or "!" and the reason. */
static void
expand(const char *s, char *out, size_t outlen)
{
	struct gpu_hostlist h = {NULL, 0};
	struct gpu_buf b;
	const char *why = NULL;

	gpu_buf_init(&b);
	if (gpu_hostlist_expand(s, strlen(s), &h, &why) != 0) {
		assert_non_null(why);
		assert_null(h.names);
		assert_int_equal(h.n, 0);
		gpu_buf_addc(&b, '!');
		gpu_buf_adds(&b, why);
	}
	for (size_t i = 0; i < h.n; i++) {
		if (i > 0)
			gpu_buf_addc(&b, ' ');
		gpu_buf_adds(&b, h.names[i]);
	}
	assert_true(b.len < outlen);
	memcpy(out, b.data, b.len + 1);
	gpu_buf_release(&b);
	gpu_hostlist_release(&h);
	assert_null(h.names);
	assert_int_equal(h.n, 0);
}

#define assert_expands(s, want)                                                \
	do {                                                                   \
		char got_[512];                                                \
		expand((s), got_, sizeof(got_));                               \
		assert_string_equal(got_, (want));                             \
	} while (0)

static void
test_hostlist_plain_names(void **state)
{
	(void)state;
	assert_expands("gpu01", "gpu01");
	assert_expands("a,b", "a b");
	assert_expands("node-005.cluster.example", "node-005.cluster.example");
	/* Duplicates are kept, as scontrol show hostnames keeps them. */
	assert_expands("a,a", "a a");
}

static void
test_hostlist_ranges(void **state)
{
	(void)state;
	assert_expands("gpu[01-03,07]", "gpu01 gpu02 gpu03 gpu07");
	assert_expands("node-[63-65]", "node-63 node-64 node-65");
	assert_expands("gpu[5]", "gpu5");
	assert_expands("[1-3]", "1 2 3");
}

static void
test_hostlist_padding(void **state)
{
	(void)state;
	/* No padding: the numbers grow. */
	assert_expands("gpu[1-10]", "gpu1 gpu2 gpu3 gpu4 gpu5 gpu6 gpu7 gpu8 "
				    "gpu9 gpu10");
	/* The low bound's width is kept. */
	assert_expands("gpu[08-10]", "gpu08 gpu09 gpu10");
	assert_expands("n[098-101]", "n098 n099 n100 n101");
	assert_expands("n[0-1,007]", "n0 n1 n007");
}

static void
test_hostlist_groups_and_suffix(void **state)
{
	(void)state;
	assert_expands("r[1-2]-ib", "r1-ib r2-ib");
	assert_expands("r[1-2]n[1-2]", "r1n1 r1n2 r2n1 r2n2");
	assert_expands("r[1-2]n[3,5]x", "r1n3x r1n5x r2n3x r2n5x");
	assert_expands("gpu[01-02],cpu[1-2]-ib,login",
		       "gpu01 gpu02 cpu1-ib cpu2-ib login");
}

static void
test_hostlist_brackets_refused(void **state)
{
	(void)state;
	assert_expands("gpu[01-03", "!unbalanced '[' in hostlist");
	assert_expands("gpu01-03]", "!unbalanced ']' in hostlist");
	assert_expands("gpu[1-2]]", "!unbalanced ']' in hostlist");
	assert_expands("gpu[1-[2-3]]", "!nested '[' in hostlist");
	assert_expands("gpu[1,2", "!unbalanced '[' in hostlist");
}

static void
test_hostlist_ranges_refused(void **state)
{
	(void)state;
	assert_expands("gpu[]", "!empty range in hostlist");
	assert_expands("gpu[1,]", "!empty range in hostlist");
	assert_expands("gpu[1-]", "!empty range in hostlist");
	assert_expands("gpu[-3]", "!empty range in hostlist");
	assert_expands("gpu[3-1]", "!descending range in hostlist");
	assert_expands("gpu[a-c]", "!invalid range in hostlist");
	assert_expands("gpu[1-2-3]", "!invalid range in hostlist");
	assert_expands("gpu[+1]", "!invalid range in hostlist");
	assert_expands("gpu[1234567890123456789]",
		       "!invalid range in hostlist");
}

static void
test_hostlist_names_refused(void **state)
{
	char longname[300], got[300];

	(void)state;
	assert_expands("a,,b", "!empty host name in hostlist");
	assert_expands(",a", "!empty host name in hostlist");
	assert_expands("a,", "!empty host name in hostlist");
	assert_expands("", "!empty host name in hostlist");
	assert_expands("gpu01 gpu02", "!invalid character in hostlist");
	assert_expands("gpu\t01", "!invalid character in hostlist");
	assert_expands("gpu\00101", "!invalid character in hostlist");
	memset(longname, 'a', 256);
	longname[256] = '\0';
	assert_expands(longname, "!host name too long in hostlist");
	longname[255] = '\0';
	expand(longname, got, sizeof(got));
	assert_string_equal(got, longname);
}

static void
test_hostlist_too_many(void **state)
{
	struct gpu_hostlist h = {NULL, 0};
	const char *why = NULL;
	const char *s;

	(void)state;
	/* Exactly the limit expands; one more does not. */
	s = "n[1-256]x[1-256]";
	assert_int_equal(gpu_hostlist_expand(s, strlen(s), &h, &why), 0);
	assert_int_equal(h.n, GPU_HOSTLIST_MAX);
	assert_string_equal(h.names[0], "n1x1");
	assert_string_equal(h.names[GPU_HOSTLIST_MAX - 1], "n256x256");
	gpu_hostlist_release(&h);
	assert_expands("n[1-256]x[1-256],a",
		       "!hostlist expands to more than 65536 names");
	assert_expands("n[0-65536]",
		       "!hostlist expands to more than 65536 names");
	/* Refused by counting, before anything is allocated. */
	assert_expands("n[0-999999999999999999]",
		       "!hostlist expands to more than 65536 names");
	assert_expands("a[1-100000]b[1-100000]c[1-100000]",
		       "!hostlist expands to more than 65536 names");
	assert_expands("n[0-1,0-65535]",
		       "!hostlist expands to more than 65536 names");
}

static void
test_hostlist_reuse_after_failure(void **state)
{
	struct gpu_hostlist h = {NULL, 0};
	const char *why = NULL;

	(void)state;
	assert_int_equal(gpu_hostlist_expand("a,b", 3, &h, &why), 0);
	assert_int_equal(h.n, 2);
	/* A failure leaves h empty, even when it held names. */
	assert_int_equal(gpu_hostlist_expand("a[", 2, &h, &why), -1);
	assert_int_equal(h.n, 0);
	assert_null(h.names);
	/* len bounds the expression: the rest of the string is not read. */
	assert_int_equal(gpu_hostlist_expand("gpu[1-2]junk", 8, &h, &why), 0);
	assert_int_equal(h.n, 2);
	assert_string_equal(h.names[1], "gpu2");
	gpu_hostlist_release(&h);
	gpu_hostlist_release(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostlist_plain_names),
	    cmocka_unit_test(test_hostlist_ranges),
	    cmocka_unit_test(test_hostlist_padding),
	    cmocka_unit_test(test_hostlist_groups_and_suffix),
	    cmocka_unit_test(test_hostlist_brackets_refused),
	    cmocka_unit_test(test_hostlist_ranges_refused),
	    cmocka_unit_test(test_hostlist_names_refused),
	    cmocka_unit_test(test_hostlist_too_many),
	    cmocka_unit_test(test_hostlist_reuse_after_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
