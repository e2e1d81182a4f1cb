/* SPDX-License-Identifier: MIT */
/* Thrift compact protocol encoder (the subset Parquet's footer needs). */
#include <assert.h>
#include <string.h>

#include "lake/thrift.h"

void
lake_thrift_init(struct lake_thrift *t, struct gpu_buf *out)
{
	t->out = out;
	t->depth = 0;
	t->last[0] = 0;
}

void
lake_varint(struct gpu_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (unsigned char)v;
	gpu_buf_add(b, tmp, n);
}

void
lake_zigzag(struct gpu_buf *b, int64_t v)
{
	lake_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void
lake_thrift_field(struct lake_thrift *t, int16_t id, int type)
{
	int delta = id - t->last[t->depth];

	if (delta > 0 && delta <= 15) {
		gpu_buf_addc(t->out, (char)(delta << 4 | type));
	} else {
		gpu_buf_addc(t->out, (char)type);
		lake_zigzag(t->out, id);
	}
	t->last[t->depth] = id;
}

void
lake_thrift_bool(struct lake_thrift *t, int16_t id, int v)
{
	lake_thrift_field(t, id,
			  v != 0 ? LAKE_TT_BOOL_TRUE : LAKE_TT_BOOL_FALSE);
}

void
lake_thrift_i32(struct lake_thrift *t, int16_t id, int32_t v)
{
	lake_thrift_field(t, id, LAKE_TT_I32);
	lake_zigzag(t->out, v);
}

void
lake_thrift_i64(struct lake_thrift *t, int16_t id, int64_t v)
{
	lake_thrift_field(t, id, LAKE_TT_I64);
	lake_zigzag(t->out, v);
}

void
lake_thrift_binary(struct lake_thrift *t, int16_t id, const void *p, size_t n)
{
	lake_thrift_field(t, id, LAKE_TT_BINARY);
	lake_thrift_elem_binary(t, p, n);
}

void
lake_thrift_string(struct lake_thrift *t, int16_t id, const char *s)
{
	lake_thrift_binary(t, id, s, strlen(s));
}

void
lake_thrift_struct_begin(struct lake_thrift *t, int16_t id)
{
	assert(t->depth + 1 < LAKE_THRIFT_DEPTH);
	if (id > 0)
		lake_thrift_field(t, id, LAKE_TT_STRUCT);
	t->last[++t->depth] = 0;
}

void
lake_thrift_struct_end(struct lake_thrift *t)
{
	gpu_buf_addc(t->out, 0);
	if (t->depth > 0)
		t->depth--;
}

void
lake_thrift_list(struct lake_thrift *t, int16_t id, int elem, size_t n)
{
	lake_thrift_field(t, id, LAKE_TT_LIST);
	if (n < 15) {
		gpu_buf_addc(t->out, (char)(n << 4 | (size_t)elem));
	} else {
		gpu_buf_addc(t->out, (char)(0xf0 | elem));
		lake_varint(t->out, n);
	}
}

void
lake_thrift_elem_i32(struct lake_thrift *t, int32_t v)
{
	lake_zigzag(t->out, v);
}

void
lake_thrift_elem_binary(struct lake_thrift *t, const void *p, size_t n)
{
	lake_varint(t->out, n);
	gpu_buf_add(t->out, p, n);
}
