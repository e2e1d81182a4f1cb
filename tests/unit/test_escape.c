/* SPDX-License-Identifier: MIT */
/* Unit tests for the JSON string escaper (gpu/escape.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gpu/buf.h"
#include "gpu/escape.h"

static void
check(const char *in, size_t n, unsigned flags, const char *want)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	gpu_escape_json(&b, in, n, flags);
	assert_string_equal(b.data, want);
	gpu_buf_release(&b);
}

static void
test_escape_plain(void **state)
{
	(void)state;
	check("", 0, 0, "\"\"");
	check("node01", 6, 0, "\"node01\"");
	check("a\"b\\c", 5, 0, "\"a\\\"b\\\\c\"");
	check("<b>&", 4, 0, "\"<b>&\"");
	check("\x7f", 1, 0, "\"\x7f\"");
}

static void
test_escape_controls(void **state)
{
	(void)state;
	check("a\nb\rc\td\be\ff", 11, 0, "\"a\\nb\\rc\\td\\be\\ff\"");
	check("\x01\x1f", 2, 0, "\"\\u0001\\u001f\"");
	check("a\0b", 3, 0, "\"a\\u0000b\"");
}

static void
test_escape_utf8(void **state)
{
	(void)state;
	check("caf\xc3\xa9", 5, 0, "\"caf\xc3\xa9\"");
	check("\xf0\x9f\x98\x80", 4, 0, "\"\xf0\x9f\x98\x80\"");
	/* Each byte that is not UTF-8 becomes one U+FFFD. */
	check("a\xff\xc3", 3, 0, "\"a\\ufffd\\ufffd\"");
	check("\xed\xa0\x80", 3, 0, "\"\\ufffd\\ufffd\\ufffd\"");
}

static void
test_escape_html(void **state)
{
	(void)state;
	check("</script>&amp;", 14, GPU_ESCAPE_HTML,
	      "\"\\u003c/script\\u003e\\u0026amp;\"");
	check("a\"b", 3, GPU_ESCAPE_HTML, "\"a\\\"b\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape_plain),
	    cmocka_unit_test(test_escape_controls),
	    cmocka_unit_test(test_escape_utf8),
	    cmocka_unit_test(test_escape_html),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
