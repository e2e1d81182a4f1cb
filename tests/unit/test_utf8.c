/* SPDX-License-Identifier: MIT */
/* Unit tests for the UTF-8 decoder (gpu/utf8.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gpu/utf8.h"

static size_t
seq(const char *s)
{
	return gpu_utf8_seq((const unsigned char *)s, strlen(s));
}

static void
test_utf8_seq_lengths(void **state)
{
	(void)state;
	assert_int_equal(seq("a"), 1);
	assert_int_equal(seq("\xc3\xa9"), 2);	      /* U+00E9 */
	assert_int_equal(seq("\xe2\x82\xac"), 3);     /* U+20AC */
	assert_int_equal(seq("\xf0\x9f\x98\x80"), 4); /* U+1F600 */
	assert_int_equal(seq("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
}

static void
test_utf8_seq_invalid(void **state)
{
	(void)state;
	assert_int_equal(seq("\x80"), 0);	      /* continuation */
	assert_int_equal(seq("\xc0\xaf"), 0);	      /* overlong lead */
	assert_int_equal(seq("\xe0\x80\xaf"), 0);     /* overlong */
	assert_int_equal(seq("\xed\xa0\x80"), 0);     /* surrogate */
	assert_int_equal(seq("\xf4\x90\x80\x80"), 0); /* above U+10FFFF */
	assert_int_equal(seq("\xf5\x80\x80\x80"), 0);
	assert_int_equal(seq("\xc3"), 0); /* truncated */
	assert_int_equal(seq("\xe2\x82"), 0);
	assert_int_equal(seq("\xc3("), 0);
}

static void
test_utf8_valid(void **state)
{
	(void)state;
	assert_true(gpu_utf8_valid("", 0));
	assert_true(gpu_utf8_valid("caf\xc3\xa9 \xe2\x82\xac", 9));
	assert_false(gpu_utf8_valid("caf\xc3", 4));
	assert_false(gpu_utf8_valid("a\xffz", 3));
	assert_true(gpu_utf8_valid("a\0b", 3)); /* NUL is ASCII */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_seq_lengths),
	    cmocka_unit_test(test_utf8_seq_invalid),
	    cmocka_unit_test(test_utf8_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
