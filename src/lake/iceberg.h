/* SPDX-License-Identifier: MIT */
/* Apache Iceberg format version 2 on a local filesystem (Hadoop catalog
 * layout): manifests, manifest lists, table metadata and the commit. */
#ifndef LAKE_ICEBERG_H
#define LAKE_ICEBERG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/buf.h"
#include "gpu/diag.h"
#include "lake/parquet.h"

/* Manifest entry status. */
enum { LAKE_EXISTING = 0, LAKE_ADDED = 1, LAKE_DELETED = 2 };

/* Partition field id of the one partition spec, day(source). */
#define LAKE_PART_FIELD_ID 1000

/*
 * A table's shape: its columns, and the field id partitioned by day(), or
 * by month() when by_month (0: unpartitioned). The partition field is
 * named "<source>_day" ("<source>_month"); its values are days (months)
 * since 1970-01-01.
 */
struct lake_schema {
	const struct lake_field *fields;
	size_t nfields;
	int part_source;
	bool by_month;
};

/* The partition field's name suffix: "day" or "month". */
const char *lake_ice_transform(const struct lake_schema *s);

/* Append s as a JSON string (quoted and escaped). */
void lake_json_str(struct gpu_buf *b, const char *s);

/* The schema as Iceberg JSON (schema-id 0), also Parquet's iceberg.schema. */
void lake_ice_schema_json(struct gpu_buf *b, const struct lake_schema *s);

/*
 * Encode the data_file record (field 2 of a manifest entry) of a finished
 * Parquet file: uri, partition value (day or month) (ignored when
 * unpartitioned), its size, row count, per-column sizes, counts and bounds, and
 * row-group offsets.
 */
void lake_ice_data_file(struct gpu_buf *out, const struct lake_schema *s,
			const char *uri, int32_t day, const struct lake_pq *pq);

/*
 * Append one manifest entry: status, snapshot id, data and file sequence
 * numbers (negative: null, inherited on read; only for ADDED entries) and
 * an encoded data_file record.
 */
void lake_ice_entry(struct gpu_buf *out, int status, int64_t snapshot_id,
		    int64_t seq, int64_t file_seq, const void *data_file,
		    size_t len);

/* Write a manifest file of count entries (O_EXCL, fsync) at path. Returns
 * its length, or -1 with err filled. */
int64_t lake_ice_write_manifest(const char *path, const struct lake_schema *s,
				const struct gpu_buf *entries, size_t count,
				struct gpu_err *err);

/* One manifest_file record of a manifest list. */
struct lake_ice_mfile {
	const char *path; /* URI */
	int64_t length;
	int64_t seq, min_seq, added_snapshot;
	int32_t added_files, existing_files, deleted_files;
	int64_t added_rows, existing_rows, deleted_rows;
	bool partitioned;
	bool has_bounds; /* partition day range of its live entries */
	int32_t lower, upper;
};

/* Append the encoding of m. */
void lake_ice_mfile(struct gpu_buf *out, const struct lake_ice_mfile *m);

/* Write a manifest list of count encoded records at path. parent <= 0:
 * none. Returns 0 or -1 with err filled. */
int lake_ice_write_list(const char *path, const struct gpu_buf *records,
			size_t count, int64_t snapshot_id, int64_t parent,
			int64_t seq, struct gpu_err *err);

struct lake_ice_snapshot {
	int64_t id, parent, seq, ts_ms; /* parent <= 0: none */
	const char *manifest_list;	/* URI */
	const char *summary; /* members of the summary object, JSON text */
};

struct lake_ice_logent {
	int64_t ts_ms;
	const char *file; /* URI of an earlier metadata file */
};

/* The whole table metadata; the current snapshot is the last one. */
struct lake_ice_meta {
	const char *uuid, *location;
	int64_t last_updated_ms;
	const struct lake_schema *schema;
	const struct lake_ice_snapshot *snaps;
	size_t nsnaps;
	const struct lake_ice_logent *log;
	size_t nlog;
};

/* Render m as vN.metadata.json text (format-version 2). */
void lake_ice_metadata(struct gpu_buf *out, const struct lake_ice_meta *m);

/*
 * Commit text as table_dir/metadata/v<version>.metadata.json: write it to
 * a temporary file, fsync, link(2) it to the final name (which fails when
 * another writer took that version: *conflict is then true), fsync the
 * directory, then replace version-hint.text (temporary file, rename,
 * fsync). Returns 0, or -1 with err filled.
 */
int lake_ice_commit(const char *table_dir, int version,
		    const struct gpu_buf *text, bool *conflict,
		    struct gpu_err *err);

/* Replace table_dir/metadata/version-hint.text with version (temporary
 * file, rename, fsync). Returns 0 or -1 with err filled. */
int lake_ice_hint(const char *table_dir, int version, struct gpu_err *err);

/* Create path with data (O_EXCL), fsync it. Returns 0 or -1 with err. */
int lake_write_new(const char *path, const void *data, size_t n,
		   struct gpu_err *err);

/* fsync a directory. Returns 0 or -1 with err. */
int lake_fsync_dir(const char *dir, struct gpu_err *err);

/* mkdir -p. Returns 0 or -1 with err. */
int lake_mkdirs(const char *path, struct gpu_err *err);

/* A random version 4 UUID, and a random positive id below 2^53 (JSON
 * readers that parse numbers as doubles keep it exact). */
void lake_uuid(char out[37]);
int64_t lake_random_id(void);

#endif
