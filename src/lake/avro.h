/* SPDX-License-Identifier: MIT */
/* Avro binary encoding and object container files (codec "null"). */
#ifndef LAKE_AVRO_H
#define LAKE_AVRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/buf.h"

/* Avro values: int and long are zig-zag varints, a union is its branch
 * index, bytes and strings are a length and the bytes, a boolean a byte. */
void lake_avro_long(struct gpu_buf *b, int64_t v);
void lake_avro_bytes(struct gpu_buf *b, const void *p, size_t n);
void lake_avro_string(struct gpu_buf *b, const char *s);
void lake_avro_bool(struct gpu_buf *b, bool v);

/*
 * Write a whole container file into out: the header with schema (JSON
 * text, stored verbatim as avro.schema so that attributes such as field-id
 * survive), codec "null" and the pairs meta[0..2*nmeta) (key, value), then
 * one block of count records whose encodings are concatenated in records.
 * sync is the file's 16-byte marker.
 */
void lake_avro_file(struct gpu_buf *out, const char *schema,
		    const char *const *meta, size_t nmeta,
		    const struct gpu_buf *records, size_t count,
		    const unsigned char sync[16]);

#endif
