/* SPDX-License-Identifier: MIT */
/* Unit tests for the growable byte buffer (gpu/buf.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gpu/buf.h"

/* An empty buffer is "" before and after anything is added. */
static void
test_buf_empty(void **state)
{
	struct gpu_buf b;

	(void)state;
	gpu_buf_init(&b);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	gpu_buf_add(&b, NULL, 0);
	assert_string_equal(b.data, "");
	gpu_buf_release(&b);
	assert_string_equal(b.data, "");
	gpu_buf_release(&b); /* twice: still fine */
}

static void
test_buf_append(void **state)
{
	struct gpu_buf b;

	(void)state;
	gpu_buf_init(&b);
	gpu_buf_adds(&b, "gpu");
	gpu_buf_addc(&b, '-');
	gpu_buf_add(&b, "hours!", 5);
	gpu_buf_addf(&b, "=%d.%02d", 3, 5);
	assert_string_equal(b.data, "gpu-hours=3.05");
	assert_int_equal(b.len, 14);
	gpu_buf_add(&b, "a\0b", 3); /* bytes, not a C string */
	assert_int_equal(b.len, 17);
	assert_memory_equal(b.data + 14, "a\0b", 4);
	gpu_buf_reset(&b);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	gpu_buf_release(&b);
}

/* Growth keeps the content and the NUL; grow makes room ahead. */
static void
test_buf_grow(void **state)
{
	static char big[10000];
	struct gpu_buf b;
	size_t cap;

	(void)state;
	memset(big, 'x', sizeof(big));
	gpu_buf_init(&b);
	for (int i = 0; i < 10000; i++)
		gpu_buf_addc(&b, (char)('a' + i % 26));
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.data[10000], '\0');
	assert_int_equal(b.data[9999], 'a' + 9999 % 26);
	gpu_buf_grow(&b, 100000);
	cap = b.cap;
	assert_true(cap >= b.len + 100000 + 1);
	for (int i = 0; i < 5; i++)
		gpu_buf_add(&b, big, sizeof(big)); /* within the room made */
	assert_int_equal(b.cap, cap);
	assert_int_equal(b.len, 60000);
	assert_memory_equal(b.data + 50000, big, sizeof(big));
	gpu_buf_addf(&b, "%s", ""); /* nothing */
	assert_int_equal(b.len, 60000);
	gpu_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_empty),
	    cmocka_unit_test(test_buf_append),
	    cmocka_unit_test(test_buf_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
