/* SPDX-License-Identifier: MIT */
/* Unit tests for the hash map (gpu/hashmap.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gpu/hashmap.h"

/* Keys get entries 0, 1, ... in order; a known key keeps its entry. */
static void
test_hashmap_put_find(void **state)
{
	struct gpu_hashmap m;
	bool added;
	size_t i;

	(void)state;
	gpu_hashmap_init(&m);
	assert_int_equal(gpu_hashmap_find(&m, "a", 1), GPU_HASHMAP_NONE);
	assert_int_equal(gpu_hashmap_put(&m, "alice", 5, &added), 0);
	assert_true(added);
	assert_int_equal(gpu_hashmap_put(&m, "bob", 3, &added), 1);
	assert_true(added);
	assert_int_equal(gpu_hashmap_put(&m, "alice", 5, &added), 0);
	assert_false(added);
	assert_int_equal(gpu_hashmap_put(&m, "", 0, &added), 2);
	assert_true(added);
	assert_int_equal(gpu_hashmap_find(&m, "", 0), 2);
	assert_int_equal(gpu_hashmap_find(&m, "bob", 3), 1);
	assert_int_equal(gpu_hashmap_find(&m, "bo", 2), GPU_HASHMAP_NONE);
	/* A key is its bytes, not a C string. */
	assert_int_equal(gpu_hashmap_put(&m, "bob\0x", 5, &added), 3);
	assert_true(added);
	i = gpu_hashmap_find(&m, "alice", 5);
	assert_string_equal(gpu_hashmap_key(&m, i), "alice");
	assert_int_equal(gpu_hashmap_at(&m, i)->len, 5);
	assert_int_equal(gpu_hashmap_count(&m), 4);
	gpu_hashmap_release(&m);
	assert_int_equal(gpu_hashmap_count(&m), 0);
	gpu_hashmap_release(&m); /* twice: still fine */
}

/* Many keys: every one found, values kept, key addresses stable. */
static void
test_hashmap_grow(void **state)
{
	enum { N = 50000 };
	static const char *first;
	struct gpu_hashmap m;
	char key[32];

	(void)state;
	gpu_hashmap_init(&m);
	for (int i = 0; i < N; i++) {
		int n = snprintf(key, sizeof(key), "node%05d", i);
		size_t e = gpu_hashmap_put(&m, key, (size_t)n, NULL);

		assert_int_equal(e, (size_t)i);
		gpu_hashmap_at(&m, e)->val = (uint64_t)i * 3;
		if (i == 0)
			first = gpu_hashmap_key(&m, 0);
	}
	assert_ptr_equal(gpu_hashmap_key(&m, 0), first);
	for (int i = N - 1; i >= 0; i--) {
		int n = snprintf(key, sizeof(key), "node%05d", i);
		size_t e = gpu_hashmap_find(&m, key, (size_t)n);

		assert_int_equal(e, (size_t)i);
		assert_int_equal(gpu_hashmap_at(&m, e)->val, (uint64_t)i * 3);
	}
	gpu_hashmap_release(&m);
}

/* A set of 64-bit codes, emptied and refilled as gpuingest does. */
static void
test_hashmap_code_set(void **state)
{
	struct gpu_hashmap m;
	bool added;

	(void)state;
	gpu_hashmap_init(&m);
	for (int round = 0; round < 3; round++) {
		for (uint64_t c = 1; c <= 1000; c++) {
			uint64_t code = c * 1024 + 7;

			gpu_hashmap_put(&m, &code, sizeof(code), &added);
			assert_true(added);
			gpu_hashmap_put(&m, &code, sizeof(code), &added);
			assert_false(added);
		}
		assert_int_equal(gpu_hashmap_count(&m), 1000);
		gpu_hashmap_clear(&m);
		assert_int_equal(gpu_hashmap_count(&m), 0);
	}
	gpu_hashmap_release(&m);
}

/* The last hit answers the same key again, also after other lookups. */
static void
test_hashmap_last_hit(void **state)
{
	struct gpu_hashmap m;
	char big[5000];

	(void)state;
	gpu_hashmap_init(&m);
	memset(big, 'x', sizeof(big));
	gpu_hashmap_put(&m, "a", 1, NULL);
	gpu_hashmap_put(&m, big, sizeof(big), NULL); /* over a chunk */
	assert_int_equal(gpu_hashmap_find(&m, "a", 1), 0);
	assert_int_equal(gpu_hashmap_find(&m, "a", 1), 0);
	assert_int_equal(gpu_hashmap_find(&m, "b", 1), GPU_HASHMAP_NONE);
	assert_int_equal(gpu_hashmap_find(&m, big, sizeof(big)), 1);
	assert_memory_equal(gpu_hashmap_key(&m, 1), big, sizeof(big));
	gpu_hashmap_clear(&m);
	assert_int_equal(gpu_hashmap_find(&m, "a", 1), GPU_HASHMAP_NONE);
	assert_int_equal(gpu_hashmap_put(&m, "b", 1, NULL), 0);
	gpu_hashmap_release(&m);
}

/*
 * Appended keys take no index until a lookup: then every one is found
 * (200 of them: the slots grow while they are indexed), a put of one is
 * no addition, and entries keep their numbers; a clear forgets them.
 */
static void
test_hashmap_append(void **state)
{
	struct gpu_hashmap m;
	char k[16];
	bool added;
	int len;

	(void)state;
	gpu_hashmap_init(&m);
	gpu_hashmap_clear(&m); /* nothing held: no slots to clear */
	assert_int_equal(gpu_hashmap_put(&m, "first", 5, NULL), 0);
	for (int i = 0; i < 200; i++) {
		len = snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(gpu_hashmap_append(&m, k, (size_t)len),
				 (size_t)i + 1);
	}
	assert_int_equal(gpu_hashmap_count(&m), 201);
	assert_string_equal(gpu_hashmap_key(&m, 200), "k199");
	for (int i = 199; i >= 0; i--) {
		len = snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(gpu_hashmap_find(&m, k, (size_t)len),
				 (size_t)i + 1);
	}
	assert_int_equal(gpu_hashmap_put(&m, "k7", 2, &added), 8);
	assert_false(added);
	assert_int_equal(gpu_hashmap_put(&m, "new", 3, &added), 201);
	assert_true(added);
	assert_int_equal(gpu_hashmap_find(&m, "first", 5), 0);
	gpu_hashmap_clear(&m);
	assert_int_equal(gpu_hashmap_append(&m, "k7", 2), 0);
	assert_int_equal(gpu_hashmap_append(&m, "k8", 2), 1);
	/* A put first, not a find, also indexes them. */
	assert_int_equal(gpu_hashmap_put(&m, "k7", 2, &added), 0);
	assert_false(added);
	assert_int_equal(gpu_hashmap_find(&m, "k8", 2), 1);
	assert_int_equal(gpu_hashmap_find(&m, "k9", 2), GPU_HASHMAP_NONE);
	gpu_hashmap_release(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hashmap_put_find),
	    cmocka_unit_test(test_hashmap_grow),
	    cmocka_unit_test(test_hashmap_code_set),
	    cmocka_unit_test(test_hashmap_last_hit),
	    cmocka_unit_test(test_hashmap_append),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
