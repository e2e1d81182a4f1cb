/* SPDX-License-Identifier: MIT */
/* Iceberg v2: Avro manifests and lists, metadata JSON, atomic commits. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lake/avro.h"
#include "lake/iceberg.h"

/* Field ids of the manifest's map keys and values (Iceberg spec). */
#define MAP(name, k, v)                                                        \
	"{\"name\":\"" name "\",\"type\":[\"null\",{\"type\":\"array\","       \
	"\"items\":{\"type\":\"record\",\"name\":\"k" #k "_v" #v "\","         \
	"\"fields\":[{\"name\":\"key\",\"type\":\"int\",\"field-id\":" #k "}," \
	"{\"name\":\"value\",\"type\":"

#define MAP_END(id)                                                            \
	"\"logicalType\":\"map\"}],\"default\":null,\"field-id\":" #id "}"

/* The manifest_entry schema around the partition record r102. */
static const char entry_head[] =
    "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
    "{\"name\":\"status\",\"type\":\"int\",\"field-id\":0},"
    "{\"name\":\"snapshot_id\",\"type\":[\"null\",\"long\"],"
    "\"default\":null,\"field-id\":1},"
    "{\"name\":\"sequence_number\",\"type\":[\"null\",\"long\"],"
    "\"default\":null,\"field-id\":3},"
    "{\"name\":\"file_sequence_number\",\"type\":[\"null\",\"long\"],"
    "\"default\":null,\"field-id\":4},"
    "{\"name\":\"data_file\",\"type\":{\"type\":\"record\",\"name\":\"r2\","
    "\"fields\":["
    "{\"name\":\"content\",\"type\":\"int\",\"doc\":\"Contents of the file: "
    "0=data, 1=position deletes, 2=equality deletes\",\"field-id\":134},"
    "{\"name\":\"file_path\",\"type\":\"string\",\"doc\":\"Location URI "
    "with FS scheme\",\"field-id\":100},"
    "{\"name\":\"file_format\",\"type\":\"string\",\"doc\":\"File format "
    "name: avro, orc, or parquet\",\"field-id\":101},"
    "{\"name\":\"partition\",\"type\":{\"type\":\"record\",\"name\":"
    "\"r102\",\"fields\":[";

static const char
    entry_tail[] = "]},\"doc\":\"Partition data tuple, schema based on the "
		   "partition "
		   "spec\",\"field-id\":102},"
		   "{\"name\":\"record_count\",\"type\":\"long\",\"doc\":"
		   "\"Number of "
		   "records in the file\",\"field-id\":103},"
		   "{\"name\":\"file_size_in_bytes\",\"type\":\"long\",\"doc\":"
		   "\"Total "
		   "file size in bytes\",\"field-id\":104}," MAP(
		       "column_sizes", 117,
		       118) "\"long\",\"field-id\":118}]}," MAP_END(108) "," MAP("value_counts",
										 119,
										 120) "\"long\",\"field-id\":120}]}," MAP_END(109) "," MAP("null_value_counts", 121, 122) "\"long\",\"field-id\":122}]}," MAP_END(110) "," MAP("nan_value_counts", 138, 139) "\"long\",\"field-id\":139}]}," MAP_END(137) "," MAP("lower_bounds",
																																						  126,
																																						  127) "\"bytes\",\"field-id\":127}]}," MAP_END(125) "," MAP("upper_bounds",
																																													     129, 130) "\"bytes\",\"field-id\":130}]}," MAP_END(128) ","
																																																				     "{\"name\":\"key_metadata\",\"type\":[\"null\",\"bytes\"],"
																																																				     "\"default\":null,\"field-id\":131},"
																																																				     "{\"name\":\"split_offsets\",\"type\":[\"null\",{\"type\":\"array\","
																																																				     "\"items\":\"long\",\"element-id\":133}],\"default\":null,"
																																																				     "\"field-id\":132},"
																																																				     "{\"name\":\"equality_ids\",\"type\":[\"null\",{\"type\":\"array\","
																																																				     "\"items\":\"int\",\"element-id\":136}],\"default\":null,"
																																																				     "\"field-id\":135},"
																																																				     "{\"name\":\"sort_order_id\",\"type\":[\"null\",\"int\"],"
																																																				     "\"default\":null,\"field-id\":140}"
																																																				     "]},\"field-id\":2}]}";

static const char list_schema[] =
    "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":["
    "{\"name\":\"manifest_path\",\"type\":\"string\",\"doc\":\"Location "
    "URI with FS scheme\",\"field-id\":500},"
    "{\"name\":\"manifest_length\",\"type\":\"long\",\"field-id\":501},"
    "{\"name\":\"partition_spec_id\",\"type\":\"int\",\"field-id\":502},"
    "{\"name\":\"content\",\"type\":\"int\",\"field-id\":517},"
    "{\"name\":\"sequence_number\",\"type\":\"long\",\"field-id\":515},"
    "{\"name\":\"min_sequence_number\",\"type\":\"long\","
    "\"field-id\":516},"
    "{\"name\":\"added_snapshot_id\",\"type\":\"long\",\"field-id\":503},"
    "{\"name\":\"added_files_count\",\"type\":\"int\",\"field-id\":504},"
    "{\"name\":\"existing_files_count\",\"type\":\"int\","
    "\"field-id\":505},"
    "{\"name\":\"deleted_files_count\",\"type\":\"int\","
    "\"field-id\":506},"
    "{\"name\":\"added_rows_count\",\"type\":\"long\",\"field-id\":512},"
    "{\"name\":\"existing_rows_count\",\"type\":\"long\","
    "\"field-id\":513},"
    "{\"name\":\"deleted_rows_count\",\"type\":\"long\","
    "\"field-id\":514},"
    "{\"name\":\"partitions\",\"type\":[\"null\",{\"type\":\"array\","
    "\"items\":{\"type\":\"record\",\"name\":\"r508\",\"fields\":["
    "{\"name\":\"contains_null\",\"type\":\"boolean\",\"field-id\":509},"
    "{\"name\":\"contains_nan\",\"type\":[\"null\",\"boolean\"],"
    "\"default\":null,\"field-id\":518},"
    "{\"name\":\"lower_bound\",\"type\":[\"null\",\"bytes\"],"
    "\"default\":null,\"field-id\":510},"
    "{\"name\":\"upper_bound\",\"type\":[\"null\",\"bytes\"],"
    "\"default\":null,\"field-id\":511}]},\"element-id\":508}],"
    "\"default\":null,\"field-id\":507},"
    "{\"name\":\"key_metadata\",\"type\":[\"null\",\"bytes\"],"
    "\"default\":null,\"field-id\":519}]}";

static const char *
type_name(enum lake_type t)
{
	switch (t) {
	case LAKE_INT:
		return "int";
	case LAKE_LONG:
		return "long";
	case LAKE_DOUBLE:
		return "double";
	case LAKE_STRING:
		return "string";
	case LAKE_TIMESTAMPTZ:
		return "timestamptz";
	case LAKE_DATE:
		return "date";
	case LAKE_DECIMAL:
		return "decimal(18,2)";
	}
	return "?";
}

void
lake_json_str(struct gpu_buf *b, const char *s)
{
	gpu_buf_addc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			gpu_buf_addc(b, '\\');
			gpu_buf_addc(b, (char)c);
		} else if (c < 0x20) {
			gpu_buf_addf(b, "\\u%04x", c);
		} else {
			gpu_buf_addc(b, (char)c);
		}
	}
	gpu_buf_addc(b, '"');
}

static const struct lake_field *
part_field(const struct lake_schema *s)
{
	size_t i;

	for (i = 0; i < s->nfields; i++)
		if (s->part_source != 0 && s->fields[i].id == s->part_source)
			return &s->fields[i];
	return NULL;
}

void
lake_ice_schema_json(struct gpu_buf *b, const struct lake_schema *s)
{
	size_t i;

	gpu_buf_adds(b, "{\"type\":\"struct\",\"schema-id\":0,\"fields\":[");
	for (i = 0; i < s->nfields; i++) {
		const struct lake_field *f = &s->fields[i];

		gpu_buf_addf(b, "%s{\"id\":%d,\"name\":", i > 0 ? "," : "",
			     f->id);
		lake_json_str(b, f->name);
		gpu_buf_addf(b, ",\"required\":%s,\"type\":\"%s\"}",
			     f->required ? "true" : "false",
			     type_name(f->type));
	}
	gpu_buf_adds(b, "]}");
}

const char *
lake_ice_transform(const struct lake_schema *s)
{
	return s->by_month ? "month" : "day";
}

/* The partition spec's fields array. */
static void
spec_fields(struct gpu_buf *b, const struct lake_schema *s)
{
	const struct lake_field *f = part_field(s);
	const char *tr = lake_ice_transform(s);

	gpu_buf_addc(b, '[');
	if (f != NULL) {
		gpu_buf_addf(b,
			     "{\"name\":\"%s_%s\",\"transform\":\"%s\","
			     "\"source-id\":%d,\"field-id\":%d}",
			     f->name, tr, tr, f->id, LAKE_PART_FIELD_ID);
	}
	gpu_buf_addc(b, ']');
}

/* An Avro map<int,long> of one statistic per column, as the union's
 * second branch. which: 0 sizes, 1 values, 2 nulls, 3 NaNs. */
static void
count_map(struct gpu_buf *out, const struct lake_schema *s,
	  const struct lake_pq *pq, int which)
{
	size_t i, n = 0;

	for (i = 0; i < s->nfields; i++)
		if (which != 3 || s->fields[i].type == LAKE_DOUBLE)
			n++;
	lake_avro_long(out, 1);
	lake_avro_long(out, (int64_t)n);
	for (i = 0; i < s->nfields; i++) {
		const struct lake_pq_colstats *c = lake_pq_stats(pq, i);
		uint64_t v = which == 0	  ? c->bytes
			     : which == 1 ? c->values
			     : which == 2 ? c->nulls
					  : c->nans;

		if (which == 3 && s->fields[i].type != LAKE_DOUBLE)
			continue;
		lake_avro_long(out, s->fields[i].id);
		lake_avro_long(out, (int64_t)v);
	}
	if (n > 0)
		lake_avro_long(out, 0);
}

/*
 * A decimal's bound as Iceberg serializes it: the unscaled value in
 * big-endian two's complement, in as few bytes as hold it (Parquet's
 * statistics have it as 8 little-endian bytes).
 */
static void
decimal_bound(struct gpu_buf *out, const struct gpu_buf *le)
{
	unsigned char be[8];
	size_t i, skip = 0;

	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)le->data[7 - i];
	/* Drop a leading byte that only repeats the next one's sign. */
	while (skip < 7 && ((be[skip] == 0x00 && !(be[skip + 1] & 0x80)) ||
			    (be[skip] == 0xff && (be[skip + 1] & 0x80))))
		skip++;
	lake_avro_bytes(out, be + skip, 8 - skip);
}

static void
bound_map(struct gpu_buf *out, const struct lake_schema *s,
	  const struct lake_pq *pq, bool upper)
{
	size_t i, n = 0;

	for (i = 0; i < s->nfields; i++)
		if (lake_pq_stats(pq, i)->has_bounds)
			n++;
	lake_avro_long(out, 1);
	lake_avro_long(out, (int64_t)n);
	for (i = 0; i < s->nfields; i++) {
		const struct lake_pq_colstats *c = lake_pq_stats(pq, i);
		const struct gpu_buf *b = upper ? &c->upper : &c->lower;

		if (!c->has_bounds)
			continue;
		lake_avro_long(out, s->fields[i].id);
		if (s->fields[i].type == LAKE_DECIMAL)
			decimal_bound(out, b);
		else
			lake_avro_bytes(out, b->data, b->len);
	}
	if (n > 0)
		lake_avro_long(out, 0);
}

void
lake_ice_data_file(struct gpu_buf *out, const struct lake_schema *s,
		   const char *uri, int32_t day, const struct lake_pq *pq)
{
	const int64_t *off;
	size_t n, i;

	lake_avro_long(out, 0);
	lake_avro_string(out, uri);
	lake_avro_string(out, "PARQUET");
	if (part_field(s) != NULL) {
		lake_avro_long(out, 1);
		lake_avro_long(out, day);
	}
	lake_avro_long(out, (int64_t)lake_pq_rows(pq));
	lake_avro_long(out, (int64_t)lake_pq_file_size(pq));
	count_map(out, s, pq, 0);
	count_map(out, s, pq, 1);
	count_map(out, s, pq, 2);
	count_map(out, s, pq, 3);
	bound_map(out, s, pq, false);
	bound_map(out, s, pq, true);
	lake_avro_long(out, 0); /* key_metadata: null */
	off = lake_pq_row_groups(pq, &n);
	lake_avro_long(out, 1);
	lake_avro_long(out, (int64_t)n);
	for (i = 0; i < n; i++)
		lake_avro_long(out, off[i]);
	if (n > 0)
		lake_avro_long(out, 0);
	lake_avro_long(out, 0); /* equality_ids: null */
	lake_avro_long(out, 1); /* sort_order_id: 0, unsorted */
	lake_avro_long(out, 0);
}

void
lake_ice_entry(struct gpu_buf *out, int status, int64_t snapshot_id,
	       int64_t seq, int64_t file_seq, const void *data_file, size_t len)
{
	lake_avro_long(out, status);
	lake_avro_long(out, 1);
	lake_avro_long(out, snapshot_id);
	if (seq < 0) {
		lake_avro_long(out, 0);
	} else {
		lake_avro_long(out, 1);
		lake_avro_long(out, seq);
	}
	if (file_seq < 0) {
		lake_avro_long(out, 0);
	} else {
		lake_avro_long(out, 1);
		lake_avro_long(out, file_seq);
	}
	gpu_buf_add(out, data_file, len);
}

static void
random_bytes(unsigned char *p, size_t n)
{
	static uint64_t counter;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t got = fd >= 0 ? read(fd, p, n) : -1;
	size_t i;

	if (fd >= 0)
		close(fd);
	if (got == (ssize_t)n)
		return;
	/* No /dev/urandom: time, pid and a counter, good enough for names. */
	for (i = 0; i < n; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		p[i] = (unsigned char)((uint64_t)ts.tv_nsec ^
				       (uint64_t)getpid() * 2654435761u ^
				       (++counter * 40503u) >> (i % 8));
	}
}

void
lake_uuid(char out[37])
{
	unsigned char b[16];
	size_t i, k = 0;

	random_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = "0123456789abcdef"[b[i] >> 4];
		out[k++] = "0123456789abcdef"[b[i] & 15];
	}
	out[k] = '\0';
}

int64_t
lake_random_id(void)
{
	unsigned char b[8];
	uint64_t v = 0;
	int i;

	random_bytes(b, sizeof(b));
	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	v &= (UINT64_C(1) << 53) - 1;
	return v == 0 ? 1 : (int64_t)v;
}

int
lake_write_new(const char *path, const void *data, size_t n,
	       struct gpu_err *err)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return gpu_err_set(err, "cannot create '%s': %s", path,
				   strerror(errno));
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		n -= (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0)
		return gpu_err_set(err, "cannot write '%s': %s", path,
				   strerror(errno));
	return 0;
fail:
	gpu_err_set(err, "cannot write '%s': %s", path, strerror(errno));
	close(fd);
	return -1;
}

int
lake_fsync_dir(const char *dir, struct gpu_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		gpu_err_set(err, "cannot sync directory '%s': %s", dir,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
lake_mkdirs(const char *path, struct gpu_err *err)
{
	struct gpu_buf b;
	size_t i;
	int rc = 0;

	gpu_buf_init(&b);
	gpu_buf_adds(&b, path);
	for (i = 1; i <= b.len && rc == 0; i++) {
		if (b.data[i] != '/' && b.data[i] != '\0')
			continue;
		b.data[i] = '\0';
		if (mkdir(b.data, 0755) != 0 && errno != EEXIST)
			rc =
			    gpu_err_set(err, "cannot create directory '%s': %s",
					b.data, strerror(errno));
		if (i < b.len)
			b.data[i] = '/';
	}
	gpu_buf_release(&b);
	return rc;
}

int64_t
lake_ice_write_manifest(const char *path, const struct lake_schema *s,
			const struct gpu_buf *entries, size_t count,
			struct gpu_err *err)
{
	struct gpu_buf schema, table, spec, file;
	const struct lake_field *pf = part_field(s);
	unsigned char sync[16];
	const char *meta[12];
	int64_t len = -1;

	gpu_buf_init(&schema);
	gpu_buf_init(&table);
	gpu_buf_init(&spec);
	gpu_buf_init(&file);
	gpu_buf_adds(&schema, entry_head);
	/* day() gives a date, month() an int of months since 1970-01. */
	if (pf != NULL && !s->by_month)
		gpu_buf_addf(&schema,
			     "{\"name\":\"%s_day\",\"type\":[\"null\","
			     "{\"type\":\"int\",\"logicalType\":\"date\"}],"
			     "\"default\":null,\"field-id\":%d}",
			     pf->name, LAKE_PART_FIELD_ID);
	else if (pf != NULL)
		gpu_buf_addf(&schema,
			     "{\"name\":\"%s_month\",\"type\":[\"null\","
			     "\"int\"],\"default\":null,\"field-id\":%d}",
			     pf->name, LAKE_PART_FIELD_ID);
	gpu_buf_adds(&schema, entry_tail);
	lake_ice_schema_json(&table, s);
	spec_fields(&spec, s);
	meta[0] = "schema";
	meta[1] = table.data;
	meta[2] = "schema-id";
	meta[3] = "0";
	meta[4] = "partition-spec";
	meta[5] = spec.data;
	meta[6] = "partition-spec-id";
	meta[7] = "0";
	meta[8] = "format-version";
	meta[9] = "2";
	meta[10] = "content";
	meta[11] = "data";
	random_bytes(sync, sizeof(sync));
	lake_avro_file(&file, schema.data, meta, 6, entries, count, sync);
	if (lake_write_new(path, file.data, file.len, err) == 0)
		len = (int64_t)file.len;
	gpu_buf_release(&schema);
	gpu_buf_release(&table);
	gpu_buf_release(&spec);
	gpu_buf_release(&file);
	return len;
}

static void
put_le32(struct gpu_buf *b, int32_t v)
{
	char tmp[4];
	int i;

	for (i = 0; i < 4; i++)
		tmp[i] = (char)((uint32_t)v >> (8 * i));
	lake_avro_bytes(b, tmp, 4);
}

void
lake_ice_mfile(struct gpu_buf *out, const struct lake_ice_mfile *m)
{
	lake_avro_string(out, m->path);
	lake_avro_long(out, m->length);
	lake_avro_long(out, 0); /* partition_spec_id */
	lake_avro_long(out, 0); /* content: data */
	lake_avro_long(out, m->seq);
	lake_avro_long(out, m->min_seq);
	lake_avro_long(out, m->added_snapshot);
	lake_avro_long(out, m->added_files);
	lake_avro_long(out, m->existing_files);
	lake_avro_long(out, m->deleted_files);
	lake_avro_long(out, m->added_rows);
	lake_avro_long(out, m->existing_rows);
	lake_avro_long(out, m->deleted_rows);
	lake_avro_long(out, 1);
	if (m->partitioned) {
		lake_avro_long(out, 1);
		lake_avro_bool(out, false); /* contains_null */
		lake_avro_long(out, 1);
		lake_avro_bool(out, false); /* contains_nan */
		if (m->has_bounds) {
			lake_avro_long(out, 1);
			put_le32(out, m->lower);
			lake_avro_long(out, 1);
			put_le32(out, m->upper);
		} else {
			lake_avro_long(out, 0);
			lake_avro_long(out, 0);
		}
	}
	lake_avro_long(out, 0); /* end of partitions (or empty) */
	lake_avro_long(out, 0); /* key_metadata: null */
}

int
lake_ice_write_list(const char *path, const struct gpu_buf *records,
		    size_t count, int64_t snapshot_id, int64_t parent,
		    int64_t seq, struct gpu_err *err)
{
	char sid[24], pid[24], sq[24];
	const char *meta[8];
	unsigned char sync[16];
	struct gpu_buf file;
	int rc;

	snprintf(sid, sizeof(sid), "%" PRId64, snapshot_id);
	if (parent > 0)
		snprintf(pid, sizeof(pid), "%" PRId64, parent);
	else
		snprintf(pid, sizeof(pid), "null");
	snprintf(sq, sizeof(sq), "%" PRId64, seq);
	meta[0] = "snapshot-id";
	meta[1] = sid;
	meta[2] = "parent-snapshot-id";
	meta[3] = pid;
	meta[4] = "sequence-number";
	meta[5] = sq;
	meta[6] = "format-version";
	meta[7] = "2";
	random_bytes(sync, sizeof(sync));
	gpu_buf_init(&file);
	lake_avro_file(&file, list_schema, meta, 4, records, count, sync);
	rc = lake_write_new(path, file.data, file.len, err);
	gpu_buf_release(&file);
	return rc;
}

void
lake_ice_metadata(struct gpu_buf *b, const struct lake_ice_meta *m)
{
	const struct lake_ice_snapshot *cur =
	    m->nsnaps > 0 ? &m->snaps[m->nsnaps - 1] : NULL;
	int last_id = 0;
	size_t i;

	for (i = 0; i < m->schema->nfields; i++)
		if (m->schema->fields[i].id > last_id)
			last_id = m->schema->fields[i].id;
	gpu_buf_adds(b, "{\n  \"format-version\" : 2,\n  \"table-uuid\" : ");
	lake_json_str(b, m->uuid);
	gpu_buf_adds(b, ",\n  \"location\" : ");
	lake_json_str(b, m->location);
	gpu_buf_addf(
	    b,
	    ",\n  \"last-sequence-number\" : %" PRId64
	    ",\n  \"last-updated-ms\" : %" PRId64
	    ",\n  \"last-column-id\" : %d,\n  \"current-schema-id\" : 0"
	    ",\n  \"schemas\" : [ ",
	    cur != NULL ? cur->seq : 0, m->last_updated_ms, last_id);
	lake_ice_schema_json(b, m->schema);
	gpu_buf_adds(b, " ],\n  \"default-spec-id\" : 0,\n"
			"  \"partition-specs\" : [ {\"spec-id\":0,\"fields\":");
	spec_fields(b, m->schema);
	gpu_buf_addf(b,
		     "} ],\n  \"last-partition-id\" : %d,\n"
		     "  \"default-sort-order-id\" : 0,\n"
		     "  \"sort-orders\" : [ {\"order-id\":0,\"fields\":[]} ],\n"
		     "  \"properties\" : {\"write.format.default\":\"parquet\","
		     "\"write.parquet.compression-codec\":\"zstd\"},\n"
		     "  \"current-snapshot-id\" : %" PRId64 ",\n  \"refs\" : {",
		     part_field(m->schema) != NULL ? LAKE_PART_FIELD_ID
						   : LAKE_PART_FIELD_ID - 1,
		     cur != NULL ? cur->id : -1);
	if (cur != NULL)
		gpu_buf_addf(b,
			     "\"main\":{\"snapshot-id\":%" PRId64
			     ",\"type\":\"branch\"}",
			     cur->id);
	gpu_buf_adds(b, "},\n  \"snapshots\" : [");
	for (i = 0; i < m->nsnaps; i++) {
		const struct lake_ice_snapshot *s = &m->snaps[i];

		gpu_buf_addf(b, "%s {\"snapshot-id\":%" PRId64, i ? "," : "",
			     s->id);
		if (s->parent > 0)
			gpu_buf_addf(b, ",\"parent-snapshot-id\":%" PRId64,
				     s->parent);
		gpu_buf_addf(b,
			     ",\"sequence-number\":%" PRId64
			     ",\"timestamp-ms\":%" PRId64 ",\"summary\":{%s}"
			     ",\"manifest-list\":",
			     s->seq, s->ts_ms, s->summary);
		lake_json_str(b, s->manifest_list);
		gpu_buf_adds(b, ",\"schema-id\":0}\n");
	}
	gpu_buf_adds(b, "],\n  \"snapshot-log\" : [");
	for (i = 0; i < m->nsnaps; i++)
		gpu_buf_addf(b,
			     "%s {\"timestamp-ms\":%" PRId64
			     ",\"snapshot-id\":%" PRId64 "}",
			     i ? "," : "", m->snaps[i].ts_ms, m->snaps[i].id);
	gpu_buf_adds(b, " ],\n  \"metadata-log\" : [");
	for (i = 0; i < m->nlog; i++) {
		gpu_buf_addf(
		    b, "%s {\"timestamp-ms\":%" PRId64 ",\"metadata-file\":",
		    i ? "," : "", m->log[i].ts_ms);
		lake_json_str(b, m->log[i].file);
		gpu_buf_addc(b, '}');
	}
	gpu_buf_adds(b, " ]\n}\n");
}

int
lake_ice_hint(const char *table_dir, int version, struct gpu_err *err)
{
	struct gpu_buf dir, hint, tmp, v;
	char uuid[37];
	int rc = -1;

	lake_uuid(uuid);
	gpu_buf_init(&dir);
	gpu_buf_init(&hint);
	gpu_buf_init(&tmp);
	gpu_buf_init(&v);
	gpu_buf_addf(&dir, "%s/metadata", table_dir);
	gpu_buf_addf(&hint, "%s/version-hint.text", dir.data);
	gpu_buf_addf(&tmp, "%s/.version-hint.%s.tmp", dir.data, uuid);
	gpu_buf_addf(&v, "%d", version);
	if (lake_write_new(tmp.data, v.data, v.len, err) != 0)
		goto out;
	if (rename(tmp.data, hint.data) != 0) {
		gpu_err_set(err, "cannot replace '%s': %s", hint.data,
			    strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	rc = lake_fsync_dir(dir.data, err);
out:
	gpu_buf_release(&dir);
	gpu_buf_release(&hint);
	gpu_buf_release(&tmp);
	gpu_buf_release(&v);
	return rc;
}

int
lake_ice_commit(const char *table_dir, int version, const struct gpu_buf *text,
		bool *conflict, struct gpu_err *err)
{
	struct gpu_buf dir, tmp, final;
	char uuid[37];
	int rc = -1;

	*conflict = false;
	lake_uuid(uuid);
	gpu_buf_init(&dir);
	gpu_buf_init(&tmp);
	gpu_buf_init(&final);
	gpu_buf_addf(&dir, "%s/metadata", table_dir);
	gpu_buf_addf(&tmp, "%s/.%s.metadata.json.tmp", dir.data, uuid);
	gpu_buf_addf(&final, "%s/v%d.metadata.json", dir.data, version);
	if (lake_write_new(tmp.data, text->data, text->len, err) != 0)
		goto out;
	if (link(tmp.data, final.data) != 0) {
		*conflict = errno == EEXIST;
		gpu_err_set(err, "cannot commit '%s': %s", final.data,
			    *conflict ? "another writer committed this "
					"version first"
				      : strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	unlink(tmp.data);
	if (lake_fsync_dir(dir.data, err) != 0)
		goto out;
	rc = lake_ice_hint(table_dir, version, err);
out:
	gpu_buf_release(&dir);
	gpu_buf_release(&tmp);
	gpu_buf_release(&final);
	return rc;
}
