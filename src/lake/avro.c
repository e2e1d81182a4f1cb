/* SPDX-License-Identifier: MIT */
/* Avro binary encoding and single-block object container files. */
#include <string.h>

#include "lake/avro.h"
#include "lake/thrift.h"

void
lake_avro_long(struct gpu_buf *b, int64_t v)
{
	lake_zigzag(b, v);
}

void
lake_avro_bytes(struct gpu_buf *b, const void *p, size_t n)
{
	lake_zigzag(b, (int64_t)n);
	gpu_buf_add(b, p, n);
}

void
lake_avro_string(struct gpu_buf *b, const char *s)
{
	lake_avro_bytes(b, s, strlen(s));
}

void
lake_avro_bool(struct gpu_buf *b, bool v)
{
	gpu_buf_addc(b, v ? 1 : 0);
}

void
lake_avro_file(struct gpu_buf *out, const char *schema, const char *const *meta,
	       size_t nmeta, const struct gpu_buf *records, size_t count,
	       const unsigned char sync[16])
{
	size_t i;

	gpu_buf_add(out, "Obj\x01", 4);
	lake_avro_long(out, (int64_t)nmeta + 2);
	lake_avro_string(out, "avro.schema");
	lake_avro_string(out, schema);
	lake_avro_string(out, "avro.codec");
	lake_avro_string(out, "null");
	for (i = 0; i < nmeta; i++) {
		lake_avro_string(out, meta[2 * i]);
		lake_avro_string(out, meta[2 * i + 1]);
	}
	lake_avro_long(out, 0);
	gpu_buf_add(out, sync, 16);
	if (count == 0)
		return;
	lake_avro_long(out, (int64_t)count);
	lake_avro_long(out, (int64_t)records->len);
	gpu_buf_add(out, records->data, records->len);
	gpu_buf_add(out, sync, 16);
}
