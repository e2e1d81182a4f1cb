/* SPDX-License-Identifier: MIT */
/* Unit tests for the Avro encoder and the Iceberg metadata and commit
 * (src/lake/avro.h, src/lake/iceberg.h). Readers' views of the same files
 * are checked by tests/e2e/lake-export.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lake/avro.h"
#include "lake/iceberg.h"

static const struct lake_field fields[] = {
    {"ts", 1, LAKE_TIMESTAMPTZ, true},
    {"user", 2, LAKE_STRING, false},
};
static const struct lake_schema schema = {fields, 2, 1, false};

static void
test_lake_iceberg_avro_values(void **state)
{
	static const unsigned char want[] = {0x00, 0x01, 0x02, 0x80, 0x01,
					     0x04, 'h',	 'i',  0x01, 0x00};
	struct gpu_buf b;

	(void)state;
	gpu_buf_init(&b);
	lake_avro_long(&b, 0);
	lake_avro_long(&b, -1);
	lake_avro_long(&b, 1);
	lake_avro_long(&b, 64);
	lake_avro_string(&b, "hi");
	lake_avro_bool(&b, true);
	lake_avro_bool(&b, false);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	gpu_buf_release(&b);
}

static void
test_lake_iceberg_avro_container(void **state)
{
	static const unsigned char sync[16] = {1, 2,  3,  4,  5,  6,  7,  8,
					       9, 10, 11, 12, 13, 14, 15, 16};
	const char *meta[2] = {"k", "v"};
	struct gpu_buf out, recs;
	const char *schema_text = "{\"type\":\"long\",\"field-id\":7}";
	size_t n;

	(void)state;
	gpu_buf_init(&out);
	gpu_buf_init(&recs);
	lake_avro_long(&recs, 5);
	lake_avro_long(&recs, 6);
	lake_avro_file(&out, schema_text, meta, 1, &recs, 2, sync);
	assert_memory_equal(out.data, "Obj\x01", 4);
	/* the map: 3 pairs, avro.schema first, verbatim */
	assert_int_equal((unsigned char)out.data[4], 6);
	assert_non_null(strstr(out.data + 4, "\"field-id\":7"));
	/* the block: 2 records, 2 bytes, the records, the sync marker */
	n = out.len;
	assert_memory_equal(out.data + n - 16, sync, 16);
	assert_memory_equal(out.data + n - 20, "\x04\x04\x0a\x0c", 4);
	assert_memory_equal(out.data + n - 36, sync, 16);
	gpu_buf_release(&out);
	gpu_buf_release(&recs);
}

static void
test_lake_iceberg_metadata(void **state)
{
	struct lake_ice_snapshot snaps[2] = {
	    {11, 0, 1, 1000, "file:///t/metadata/snap-11.avro",
	     "\"operation\":\"append\""},
	    {22, 11, 2, 2000, "file:///t/metadata/snap-22.avro",
	     "\"operation\":\"overwrite\""},
	};
	struct lake_ice_logent log[1] = {{500, "file:///t/metadata/v1.json"}};
	struct lake_ice_meta m = {"u-1", "file:///t", 2000, &schema,
				  snaps, 2,	      log,  1};
	struct gpu_buf b;

	(void)state;
	gpu_buf_init(&b);
	lake_ice_metadata(&b, &m);
	assert_non_null(strstr(b.data, "\"format-version\" : 2,"));
	assert_non_null(strstr(b.data, "\"last-sequence-number\" : 2,"));
	assert_non_null(strstr(b.data, "\"last-column-id\" : 2,"));
	assert_non_null(strstr(b.data, "\"current-snapshot-id\" : 22,"));
	assert_non_null(strstr(b.data, "\"main\":{\"snapshot-id\":22,"));
	assert_non_null(strstr(b.data, "\"parent-snapshot-id\":11"));
	assert_non_null(strstr(b.data, "\"transform\":\"day\",\"source-id\":1,"
				       "\"field-id\":1000"));
	assert_non_null(strstr(b.data, "\"last-partition-id\" : 1000,"));
	assert_non_null(strstr(b.data, "{\"id\":1,\"name\":\"ts\",\"required\""
				       ":true,\"type\":\"timestamptz\"}"));
	assert_non_null(strstr(b.data, "\"metadata-file\":\"file:///t/"
				       "metadata/v1.json\""));
	/* The first snapshot has no parent. */
	assert_null(strstr(b.data, "\"parent-snapshot-id\":0"));
	gpu_buf_release(&b);
}

static void
test_lake_iceberg_json_escape(void **state)
{
	struct gpu_buf b;

	(void)state;
	gpu_buf_init(&b);
	lake_json_str(&b, "a\"b\\c\n");
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\u000a\"");
	gpu_buf_release(&b);
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *p = calloc(1, 4096);

	assert_non_null(fp);
	assert_true(fread(p, 1, 4095, fp) > 0);
	fclose(fp);
	return p;
}

/* A commit links vN, replaces the hint, leaves no temporary file; a
 * second commit of the same version fails with a conflict. */
static void
test_lake_iceberg_commit(void **state)
{
	char dir[] = "/tmp/lake-unit-XXXXXX";
	char path[256], *p;
	struct gpu_buf text;
	struct gpu_err err;
	bool conflict;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/metadata", dir);
	assert_int_equal(lake_mkdirs(path, &err), 0);
	gpu_buf_init(&text);
	gpu_buf_adds(&text, "{\"v\":1}");
	assert_int_equal(lake_ice_commit(dir, 1, &text, &conflict, &err), 0);
	assert_false(conflict);
	snprintf(path, sizeof(path), "%s/metadata/version-hint.text", dir);
	p = slurp(path);
	assert_string_equal(p, "1");
	free(p);
	snprintf(path, sizeof(path), "%s/metadata/v1.metadata.json", dir);
	p = slurp(path);
	assert_string_equal(p, "{\"v\":1}");
	free(p);
	assert_int_equal(lake_ice_commit(dir, 1, &text, &conflict, &err), -1);
	assert_true(conflict);
	assert_non_null(strstr(err.msg, "another writer"));
	/* Only v1 and the hint are left. */
	snprintf(path, sizeof(path), "ls -A %s/metadata | wc -l | grep -qx 2",
		 dir);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
	gpu_buf_release(&text);
}

static bool
has_bytes(const struct gpu_buf *b, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i + n <= b->len; i++)
		if (memcmp(b->data + i, p, n) == 0)
			return true;
	return false;
}

/* The bills' shape: month(date) partitions, decimal(18,2) money whose
 * manifest bounds are big-endian two's complement in the fewest bytes. */
static void
test_lake_iceberg_month_decimal(void **state)
{
	static const struct lake_field bf[] = {
	    {"day", 1, LAKE_DATE, true},
	    {"total", 2, LAKE_DECIMAL, true},
	};
	static const struct lake_schema bs = {bf, 2, 1, true};
	struct lake_ice_meta m = {"u-2", "file:///b", 1, &bs, NULL, 0, NULL, 0};
	char path[] = "/tmp/lake-unit-XXXXXX";
	struct lake_pq_opts o = {0};
	struct lake_pq *pq;
	struct gpu_buf b;
	struct gpu_err err;
	int fd;

	(void)state;
	gpu_buf_init(&b);
	lake_ice_metadata(&b, &m);
	assert_non_null(strstr(b.data, "{\"name\":\"day_month\",\"transform\":"
				       "\"month\",\"source-id\":1,"));
	assert_non_null(strstr(b.data, "\"type\":\"decimal(18,2)\"}"));
	assert_string_equal(lake_ice_transform(&bs), "month");
	gpu_buf_reset(&b);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	pq = lake_pq_open(path, bf, 2, &o, &err);
	assert_non_null(pq);
	lake_pq_i32(pq, 0, 20393);
	lake_pq_i64(pq, 1, -5);
	assert_int_equal(lake_pq_end_row(pq, &err), 0);
	lake_pq_i32(pq, 0, 20393);
	lake_pq_i64(pq, 1, 12345);
	assert_int_equal(lake_pq_end_row(pq, &err), 0);
	assert_int_equal(lake_pq_finish(pq, &err), 0);
	lake_ice_data_file(&b, &bs, "file:///b/x.parquet", 670, pq);
	/* -5: one byte 0xfb; 123.45: 0x30 0x39 (Avro bytes: length first). */
	assert_true(has_bytes(&b, "\x04\x02\xfb", 3));
	assert_true(has_bytes(&b, "\x04\x04\x30\x39", 4));
	lake_pq_free(pq);
	unlink(path);
	gpu_buf_release(&b);
}

static void
test_lake_iceberg_ids(void **state)
{
	char a[37], b[37];
	int i;

	(void)state;
	lake_uuid(a);
	lake_uuid(b);
	assert_int_equal(strlen(a), 36);
	assert_true(a[14] == '4' && a[8] == '-' && a[23] == '-');
	assert_string_not_equal(a, b);
	for (i = 0; i < 100; i++) {
		int64_t id = lake_random_id();

		assert_true(id > 0 && id < (INT64_C(1) << 53));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lake_iceberg_avro_values),
	    cmocka_unit_test(test_lake_iceberg_avro_container),
	    cmocka_unit_test(test_lake_iceberg_metadata),
	    cmocka_unit_test(test_lake_iceberg_json_escape),
	    cmocka_unit_test(test_lake_iceberg_commit),
	    cmocka_unit_test(test_lake_iceberg_month_decimal),
	    cmocka_unit_test(test_lake_iceberg_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
