/* SPDX-License-Identifier: MIT */
/* Thrift compact protocol: the encoder subset Parquet's footer needs. */
#ifndef LAKE_THRIFT_H
#define LAKE_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "gpu/buf.h"

/* Compact protocol element types. */
enum lake_thrift_type {
	LAKE_TT_BOOL_TRUE = 1,
	LAKE_TT_BOOL_FALSE = 2,
	LAKE_TT_BYTE = 3,
	LAKE_TT_I16 = 4,
	LAKE_TT_I32 = 5,
	LAKE_TT_I64 = 6,
	LAKE_TT_DOUBLE = 7,
	LAKE_TT_BINARY = 8,
	LAKE_TT_LIST = 9,
	LAKE_TT_SET = 10,
	LAKE_TT_MAP = 11,
	LAKE_TT_STRUCT = 12
};

#define LAKE_THRIFT_DEPTH 16

/*
 * An encoder appending to a caller-owned buffer. It keeps the last field id
 * of every open struct, since compact field headers are deltas. Nesting is
 * limited to LAKE_THRIFT_DEPTH structs; Parquet needs five.
 */
struct lake_thrift {
	struct gpu_buf *out;
	int16_t last[LAKE_THRIFT_DEPTH];
	int depth;
};

/* Start encoding into out (not emptied). The top level is a struct body. */
void lake_thrift_init(struct lake_thrift *t, struct gpu_buf *out);

/* Unsigned LEB128 varint and zig-zag signed varint, also used by Avro. */
void lake_varint(struct gpu_buf *b, uint64_t v);
void lake_zigzag(struct gpu_buf *b, int64_t v);

/* Field header of type type and id id in the open struct. */
void lake_thrift_field(struct lake_thrift *t, int16_t id, int type);

/* Whole fields: header and value. */
void lake_thrift_bool(struct lake_thrift *t, int16_t id, int v);
void lake_thrift_i32(struct lake_thrift *t, int16_t id, int32_t v);
void lake_thrift_i64(struct lake_thrift *t, int16_t id, int64_t v);
void lake_thrift_binary(struct lake_thrift *t, int16_t id, const void *p,
			size_t n);
void lake_thrift_string(struct lake_thrift *t, int16_t id, const char *s);

/*
 * A struct-valued field (id > 0) or a struct list element (id 0): opens a
 * nested struct, closed by lake_thrift_struct_end() (which writes the stop
 * byte). lake_thrift_struct_end() also ends the top-level struct.
 */
void lake_thrift_struct_begin(struct lake_thrift *t, int16_t id);
void lake_thrift_struct_end(struct lake_thrift *t);

/*
 * A list field of n elements of type elem. Elements follow: structs via
 * lake_thrift_struct_begin(t, 0), scalars via the lake_thrift_elem_*
 * functions. Lists need no end marker.
 */
void lake_thrift_list(struct lake_thrift *t, int16_t id, int elem, size_t n);
void lake_thrift_elem_i32(struct lake_thrift *t, int32_t v);
void lake_thrift_elem_binary(struct lake_thrift *t, const void *p, size_t n);

#endif
