/* SPDX-License-Identifier: MIT */
/* Unit tests for the string pool (gpu/strpool.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gpu/strpool.h"

/*
 * Copies keep their bytes and addresses while the pool grows past many
 * chunks, each ends in a NUL, a string longer than any chunk gets its
 * own, and an emptied pool takes new copies.
 */
static void
test_strpool_copies_stay(void **state)
{
	static char big[3 * 1024 * 1024];
	struct gpu_strpool p;
	char *kept[5000], want[32];

	(void)state;
	gpu_strpool_init(&p);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 5000; i++) {
			int n = snprintf(want, sizeof(want), "name%d", i);

			kept[i] = gpu_strpool_add(&p, want, (size_t)n);
		}
		memset(big, 'x', sizeof(big));
		assert_int_equal(strlen(gpu_strpool_add(&p, big, sizeof(big))),
				 sizeof(big));
		for (int i = 0; i < 5000; i++) {
			snprintf(want, sizeof(want), "name%d", i);
			assert_string_equal(kept[i], want);
		}
		/* Embedded bytes are copied as given; none is a string's end. */
		assert_memory_equal(gpu_strpool_add(&p, "a\0b", 3), "a\0b", 4);
		assert_string_equal(gpu_strpool_add(&p, NULL, 0), "");
		gpu_strpool_clear(&p);
	}
	gpu_strpool_release(&p);
	assert_null(p.chunks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strpool_copies_stay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
