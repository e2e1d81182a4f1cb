/* SPDX-License-Identifier: MIT */
/* Unit tests for the Thrift compact encoder and the RLE/bit-packed hybrid
 * (src/lake/thrift.h, src/lake/parquet.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lake/parquet.h"
#include "lake/thrift.h"

static void
assert_bytes(const struct gpu_buf *b, const unsigned char *want, size_t n)
{
	assert_int_equal(b->len, n);
	assert_memory_equal(b->data, want, n);
}

static void
test_lake_thrift_varints(void **state)
{
	static const unsigned char want[] = {0x00, 0x7f, 0x80, 0x01, 0xac,
					     0x02, 0x01, 0x02, 0x03, 0xfe,
					     0xff, 0xff, 0xff, 0x0f};
	struct gpu_buf b;

	(void)state;
	gpu_buf_init(&b);
	lake_varint(&b, 0);
	lake_varint(&b, 127);
	lake_varint(&b, 128);
	lake_varint(&b, 300);
	lake_zigzag(&b, -1);
	lake_zigzag(&b, 1);
	lake_zigzag(&b, -2);
	lake_zigzag(&b, INT32_MAX);
	assert_bytes(&b, want, sizeof(want));
	gpu_buf_release(&b);
}

/* Field deltas, long jumps, bools, lists and nested structs. */
static void
test_lake_thrift_struct(void **state)
{
	static const unsigned char want[] = {
	    0x15, 0x02,		    /* 1: i32 1 */
	    0x29, 0x25, 0x02, 0x04, /* 3: list<i32>[1, 2] */
	    0x05, 0x28, 0x06,	    /* 20 (long form): i32 3 */
	    0x1c,		    /* 21: struct */
	    0x11,		    /*   1: true */
	    0x22,		    /*   3: false */
	    0x18, 0x02, 'h',  'i',  /*   4: "hi" */
	    0x00,		    /* end of 21 */
	    0x16, 0x80, 0x01,	    /* 22: i64 64 */
	    0x19, 0xfc, 0x0f,	    /* 23: list of 15 structs */
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 15 empty structs */
	    0x00};
	struct lake_thrift t;
	struct gpu_buf b;
	int i;

	(void)state;
	gpu_buf_init(&b);
	lake_thrift_init(&t, &b);
	lake_thrift_i32(&t, 1, 1);
	lake_thrift_list(&t, 3, LAKE_TT_I32, 2);
	lake_thrift_elem_i32(&t, 1);
	lake_thrift_elem_i32(&t, 2);
	lake_thrift_i32(&t, 20, 3);
	lake_thrift_struct_begin(&t, 21);
	lake_thrift_bool(&t, 1, 1);
	lake_thrift_bool(&t, 3, 0);
	lake_thrift_string(&t, 4, "hi");
	lake_thrift_struct_end(&t);
	lake_thrift_i64(&t, 22, 64);
	lake_thrift_list(&t, 23, LAKE_TT_STRUCT, 15);
	for (i = 0; i < 15; i++) {
		lake_thrift_struct_begin(&t, 0);
		lake_thrift_struct_end(&t);
	}
	lake_thrift_struct_end(&t);
	assert_bytes(&b, want, sizeof(want));
	gpu_buf_release(&b);
}

/* Decode n values of the hybrid encoding (the reader's side of it). */
static void
rle_decode(const unsigned char *p, size_t len, int bw, uint32_t *v, size_t n)
{
	size_t i = 0, at = 0;

	while (i < n) {
		uint64_t h = 0;
		int shift = 0;

		assert_true(at < len);
		do {
			h |= (uint64_t)(p[at] & 0x7f) << shift;
			shift += 7;
		} while (p[at++] & 0x80);
		if ((h & 1) == 0) {
			uint32_t x = 0;
			int k;

			for (k = 0; k < (bw + 7) / 8; k++)
				x |= (uint32_t)p[at++] << (8 * k);
			for (uint64_t r = 0; r < h >> 1 && i < n; r++)
				v[i++] = x;
		} else {
			size_t m = (size_t)(h >> 1) * 8, bit = 0;

			for (size_t k = 0; k < m; k++) {
				uint32_t x = 0;

				for (int b = 0; b < bw; b++, bit++)
					if (p[at + bit / 8] >> (bit % 8) & 1)
						x |= 1u << b;
				if (i < n)
					v[i++] = x;
			}
			at += (m * (size_t)bw + 7) / 8;
		}
	}
	assert_int_equal(at, len);
}

static void
roundtrip(const uint32_t *v, size_t n, int bw)
{
	struct gpu_buf b;
	uint32_t *got = calloc(n + 1, sizeof(*got));

	gpu_buf_init(&b);
	lake_rle_encode(&b, v, 4, n, bw);
	rle_decode((const unsigned char *)b.data, b.len, bw, got, n);
	assert_memory_equal(got, v, n * sizeof(*v));
	gpu_buf_release(&b);
	free(got);
}

static void
test_lake_thrift_rle_known(void **state)
{
	/* 10 ones: one RLE run. */
	static const unsigned char ones[] = {0x14, 0x01};
	/* 1,0,1,1,0,0,0,1: one bit-packed group. */
	static const unsigned char mixed[] = {0x03, 0x8d};
	static const unsigned char ones_in[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
	static const unsigned char mixed_in[8] = {1, 0, 1, 1, 0, 0, 0, 1};
	struct gpu_buf b;

	(void)state;
	gpu_buf_init(&b);
	lake_rle_encode(&b, ones_in, 1, 10, 1);
	assert_bytes(&b, ones, sizeof(ones));
	gpu_buf_reset(&b);
	lake_rle_encode(&b, mixed_in, 1, 8, 1);
	assert_bytes(&b, mixed, sizeof(mixed));
	gpu_buf_release(&b);
}

static void
test_lake_thrift_rle_roundtrip(void **state)
{
	uint32_t v[1000];
	size_t i;

	(void)state;
	for (i = 0; i < 1000; i++)
		v[i] = (uint32_t)((i * 7919) % 1000);
	roundtrip(v, 1000, 10);
	roundtrip(v, 3, 10);
	for (i = 0; i < 1000; i++)
		v[i] = (i / 100) % 2 == 0 ? 5 : (uint32_t)i % 3;
	roundtrip(v, 1000, 3);
	roundtrip(v, 13, 3);
	for (i = 0; i < 1000; i++)
		v[i] = i < 995 ? 70000 : (uint32_t)i;
	roundtrip(v, 1000, 17);
	v[0] = 0xffffffffu;
	roundtrip(v, 1, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lake_thrift_varints),
	    cmocka_unit_test(test_lake_thrift_struct),
	    cmocka_unit_test(test_lake_thrift_rle_known),
	    cmocka_unit_test(test_lake_thrift_rle_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
