/* SPDX-License-Identifier: MIT */
/* Unit tests for SHA-256 against FIPS 180-4 / NIST vectors (gpu/sha256.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gpu/sha256.h"

/*
 * Digest of s fed in pieces of step bytes (0: all at once), with the
 * portable code or the CPU's SHA extensions where it has them.
 */
static void
digest_with(const char *s, size_t len, size_t step, bool portable,
	    char hex[65])
{
	struct gpu_sha256 ctx;

	gpu_sha256_init(&ctx);
	if (portable)
		gpu_sha256_portable(&ctx);
	if (step == 0) {
		gpu_sha256_update(&ctx, s, len);
	} else {
		for (size_t i = 0; i < len; i += step)
			gpu_sha256_update(&ctx, s + i,
					  len - i < step ? len - i : step);
	}
	gpu_sha256_hex(&ctx, hex);
}

/* The digest both ways, which must agree. */
static void
digest(const char *s, size_t len, size_t step, char hex[65])
{
	char portable[65];

	digest_with(s, len, step, false, hex);
	digest_with(s, len, step, true, portable);
	assert_string_equal(hex, portable);
}

static void
check(const char *s, const char *want)
{
	static const size_t steps[] = {0, 1, 3, 63, 64, 65};
	char hex[65];

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		digest(s, strlen(s), steps[i], hex);
		assert_string_equal(hex, want);
	}
}

static void
test_sha256_empty(void **state)
{
	(void)state;
	check(
	    "",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void
test_sha256_abc(void **state)
{
	(void)state;
	check(
	    "abc",
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_sha256_two_blocks(void **state)
{
	(void)state;
	check(
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check(
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void
test_sha256_padding_edges(void **state)
{
	char buf[130];

	(void)state;
	/* 55, 56 and 64 bytes straddle the length field's block boundary. */
	memset(buf, 'a', sizeof(buf));
	buf[55] = '\0';
	check(
	    buf,
	    "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	memset(buf, 'a', sizeof(buf));
	buf[56] = '\0';
	check(
	    buf,
	    "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
	memset(buf, 'a', sizeof(buf));
	buf[64] = '\0';
	check(
	    buf,
	    "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

static void
test_sha256_million_a(void **state)
{
	struct gpu_sha256 ctx;
	char block[1000], hex[65];

	(void)state;
	memset(block, 'a', sizeof(block));
	gpu_sha256_init(&ctx);
	for (int i = 0; i < 1000; i++)
		gpu_sha256_update(&ctx, block, sizeof(block));
	gpu_sha256_hex(&ctx, hex);
	assert_string_equal(
	    hex,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_empty),
	    cmocka_unit_test(test_sha256_abc),
	    cmocka_unit_test(test_sha256_two_blocks),
	    cmocka_unit_test(test_sha256_padding_edges),
	    cmocka_unit_test(test_sha256_million_a),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
