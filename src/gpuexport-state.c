/* SPDX-License-Identifier: MIT */
/* gpuexport: the export state in the warehouse, and its two-step commit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/db.h"
#include "gpu/sha256.h"
#include "gpuexport.h"

/*
 * gpuexport keeps what it exported in tables of its own, created here
 * rather than by a schema migration so that the warehouse's version does
 * not change for them. Every row is scoped by (lake, tbl): the absolute
 * lake directory and the table. A commit is recorded as a pending version
 * first (new rows carry added_in = the version, replaced rows get
 * removed_in), then the lake commits, then the version is promoted. A kill
 * in between leaves a pending version that the next run settles by
 * looking at the lake (exp_state_recover).
 */
static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS lake_export_tables("
    " lake TEXT NOT NULL, tbl TEXT NOT NULL, uuid TEXT NOT NULL,"
    " location TEXT NOT NULL, PRIMARY KEY(lake, tbl));"
    "CREATE TABLE IF NOT EXISTS lake_export_versions("
    " lake TEXT NOT NULL, tbl TEXT NOT NULL, version INTEGER NOT NULL,"
    " snapshot_id INTEGER, parent_id INTEGER, seq INTEGER NOT NULL,"
    " ts_ms INTEGER NOT NULL, watermark INTEGER NOT NULL,"
    " manifest_list TEXT, summary TEXT, metadata_file TEXT NOT NULL,"
    " sha256 TEXT NOT NULL, pending INTEGER NOT NULL,"
    " PRIMARY KEY(lake, tbl, version));"
    "CREATE TABLE IF NOT EXISTS lake_export_files("
    " lake TEXT NOT NULL, tbl TEXT NOT NULL, path TEXT NOT NULL,"
    " manifest TEXT NOT NULL, day INTEGER NOT NULL, rows INTEGER NOT NULL,"
    " size INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " file_seq INTEGER NOT NULL, snapshot_id INTEGER NOT NULL,"
    " data_file BLOB NOT NULL, added_in INTEGER NOT NULL,"
    " removed_in INTEGER, PRIMARY KEY(lake, tbl, path, added_in));"
    "CREATE TABLE IF NOT EXISTS lake_export_manifests("
    " lake TEXT NOT NULL, tbl TEXT NOT NULL, path TEXT NOT NULL,"
    " record BLOB NOT NULL, live INTEGER NOT NULL,"
    " added_in INTEGER NOT NULL, removed_in INTEGER,"
    " PRIMARY KEY(lake, tbl, path));"
    "CREATE TABLE IF NOT EXISTS lake_export_days("
    " lake TEXT NOT NULL, tbl TEXT NOT NULL, day INTEGER NOT NULL,"
    " digest TEXT NOT NULL, watermark INTEGER NOT NULL,"
    " version INTEGER NOT NULL, PRIMARY KEY(lake, tbl, day, version));";

static int
begin(sqlite3 *db, struct gpu_err *err)
{
	return gpu_db_begin(db, sqlite3_db_filename(db, "main"), err);
}

int
exp_state_init(sqlite3 *db, struct gpu_err *err)
{
	return gpu_db_exec(db, schema_sql, err);
}

static int
step_done(sqlite3 *db, sqlite3_stmt *st, struct gpu_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return gpu_err_set(err, "database error: %s",
				   sqlite3_errmsg(db));
	return 0;
}

static sqlite3_stmt *
prep(sqlite3 *db, const char *sql, const char *lake, const struct exp_table *t,
     struct gpu_err *err)
{
	sqlite3_stmt *st = gpu_db_prepare(db, sql, err);

	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, lake, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, t->name, -1, SQLITE_TRANSIENT);
	return st;
}

/* Run a statement of no rows with (lake, tbl, i3) bound. */
static int
run3(sqlite3 *db, const char *sql, const char *lake, const struct exp_table *t,
     int64_t i3, struct gpu_err *err)
{
	sqlite3_stmt *st = prep(db, sql, lake, t, err);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 3, i3);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return gpu_err_set(err, "database error: %s",
				   sqlite3_errmsg(db));
	return 0;
}

static char *
col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? gpu_xstrdup((const char *)s) : NULL;
}

/* A file:// URI's local path (borrowed), or the string itself. */
static const char *
local_path(const char *uri)
{
	return strncmp(uri, "file://", 7) == 0 ? uri + 7 : uri;
}

static int
file_sha256(const char *path, char hex[65])
{
	struct gpu_sha256 ctx;
	char buf[65536];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (fp == NULL)
		return -1;
	gpu_sha256_init(&ctx);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		gpu_sha256_update(&ctx, buf, n);
	fclose(fp);
	gpu_sha256_hex(&ctx, hex);
	return 0;
}

int
exp_state_promote(sqlite3 *db, const char *lake, const struct exp_table *t,
		  int version, struct gpu_err *err)
{
	if (begin(db, err) != 0)
		return -1;
	/*
	 * Replaced files and manifests keep their rows (removed_in set):
	 * earlier snapshots still reach them, and snapshot expiry deletes
	 * them once none that is kept does (exp_state_collect()).
	 */
	if (run3(db,
		 "UPDATE lake_export_versions SET pending = 0 WHERE lake = ?1"
		 " AND tbl = ?2 AND version = ?3",
		 lake, t, version, err) != 0 ||
	    run3(db,
		 "DELETE FROM lake_export_days WHERE lake = ?1 AND tbl = ?2"
		 " AND version < ?3 AND day IN (SELECT day FROM"
		 " lake_export_days WHERE lake = ?1 AND tbl = ?2 AND"
		 " version = ?3)",
		 lake, t, version, err) != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	return gpu_db_commit(db, err);
}

/* Whether a version other than version names manifest list list. */
static bool
list_shared(sqlite3 *db, const char *lake, const struct exp_table *t,
	    int version, const char *list)
{
	sqlite3_stmt *st;
	bool shared = true; /* when in doubt, keep the file */

	st = prep(db,
		  "SELECT count(*) FROM lake_export_versions WHERE lake = ?1"
		  " AND tbl = ?2 AND version != ?3 AND manifest_list = ?4",
		  lake, t, NULL);
	if (st == NULL)
		return true;
	sqlite3_bind_int(st, 3, version);
	sqlite3_bind_text(st, 4, list, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		shared = sqlite3_column_int64(st, 0) > 0;
	sqlite3_finalize(st);
	return shared;
}

/* Remove the files a pending version wrote and forget the version. */
static int
rollback_pending(sqlite3 *db, const char *lake, const struct exp_table *t,
		 int version, int64_t snapshot, const char *list,
		 struct gpu_err *err)
{
	sqlite3_stmt *st;

	st = prep(db,
		  "SELECT path FROM lake_export_files WHERE lake = ?1 AND"
		  " tbl = ?2 AND added_in = ?3 AND snapshot_id = ?4"
		  " UNION ALL SELECT path FROM lake_export_manifests WHERE"
		  " lake = ?1 AND tbl = ?2 AND added_in = ?3",
		  lake, t, err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 3, version);
	sqlite3_bind_int64(st, 4, snapshot);
	while (sqlite3_step(st) == SQLITE_ROW)
		unlink(local_path((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	/* An expiry's version repeats the current snapshot's list. */
	if (list != NULL && !list_shared(db, lake, t, version, list))
		unlink(local_path(list));
	if (begin(db, err) != 0)
		return -1;
	if (run3(db,
		 "DELETE FROM lake_export_files WHERE lake = ?1 AND tbl = ?2"
		 " AND added_in = ?3",
		 lake, t, version, err) != 0 ||
	    run3(db,
		 "UPDATE lake_export_files SET removed_in = NULL WHERE"
		 " lake = ?1 AND tbl = ?2 AND removed_in = ?3",
		 lake, t, version, err) != 0 ||
	    run3(db,
		 "DELETE FROM lake_export_manifests WHERE lake = ?1 AND"
		 " tbl = ?2 AND added_in = ?3",
		 lake, t, version, err) != 0 ||
	    run3(db,
		 "UPDATE lake_export_manifests SET removed_in = NULL WHERE"
		 " lake = ?1 AND tbl = ?2 AND removed_in = ?3",
		 lake, t, version, err) != 0 ||
	    run3(db,
		 "DELETE FROM lake_export_days WHERE lake = ?1 AND tbl = ?2"
		 " AND version = ?3",
		 lake, t, version, err) != 0 ||
	    run3(db,
		 "DELETE FROM lake_export_versions WHERE lake = ?1 AND"
		 " tbl = ?2 AND version = ?3",
		 lake, t, version, err) != 0 ||
	    run3(db,
		 "DELETE FROM lake_export_tables WHERE lake = ?1 AND tbl = ?2"
		 " AND ?3 = 1",
		 lake, t, version, err) != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	return gpu_db_commit(db, err);
}

int
exp_state_recover(sqlite3 *db, const char *lake, const char *dir,
		  const struct exp_table *t, bool verbose, struct gpu_err *err)
{
	sqlite3_stmt *st;
	int64_t snapshot;
	char *sha, *list, got[65];
	struct gpu_buf path;
	int version, rc;
	bool committed;

	st = prep(db,
		  "SELECT version, coalesce(snapshot_id, 0), sha256,"
		  " manifest_list FROM lake_export_versions WHERE lake = ?1"
		  " AND tbl = ?2 AND pending = 1",
		  lake, t, err);
	if (st == NULL)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return 0;
	}
	version = sqlite3_column_int(st, 0);
	snapshot = sqlite3_column_int64(st, 1);
	sha = col_str(st, 2);
	list = col_str(st, 3);
	sqlite3_finalize(st);
	gpu_buf_init(&path);
	gpu_buf_addf(&path, "%s/metadata/v%d.metadata.json", dir, version);
	committed = file_sha256(path.data, got) == 0 &&
		    strcmp(got, sha != NULL ? sha : "") == 0;
	if (committed) {
		if (verbose)
			gpu_msg("%s: completing the interrupted commit of "
				"version %d",
				t->name, version);
		rc = lake_ice_hint(dir, version, err);
		if (rc == 0)
			rc = exp_state_promote(db, lake, t, version, err);
		if (rc == 0)
			rc = 1;
	} else {
		if (verbose)
			gpu_msg("%s: undoing the interrupted commit of "
				"version %d",
				t->name, version);
		rc =
		    rollback_pending(db, lake, t, version, snapshot, list, err);
		if (rc == 0 && access(path.data, F_OK) == 0)
			rc = gpu_err_set(err,
					 "'%s' was written by another writer",
					 path.data);
	}
	gpu_buf_release(&path);
	free(sha);
	free(list);
	return rc;
}

int
exp_state_check_lake(sqlite3 *db, const char *lake, const struct exp_table *t,
		     struct gpu_err *err)
{
	sqlite3_stmt *st;
	char *file = NULL;
	int version = 0, rc = 0;

	st = prep(db,
		  "SELECT version, metadata_file FROM lake_export_versions"
		  " WHERE lake = ?1 AND tbl = ?2 AND pending = 0"
		  " ORDER BY version DESC LIMIT 1",
		  lake, t, err);
	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		version = sqlite3_column_int(st, 0);
		file = col_str(st, 1);
	}
	sqlite3_finalize(st);
	if (file != NULL && access(local_path(file), F_OK) != 0 &&
	    errno == ENOENT)
		rc =
		    gpu_err_set(err,
				"%s: the warehouse records version %d of this "
				"table in '%s', but '%s' is gone (the lake was "
				"deleted or moved): move it back, or delete "
				"the table's export state to export it anew "
				"(docs/LAKE.md, Commits and crashes)",
				t->name, version, lake, local_path(file));
	free(file);
	return rc;
}

int
exp_state_load(sqlite3 *db, const char *lake, const struct exp_table *t,
	       struct exp_state *s, struct gpu_err *err)
{
	sqlite3_stmt *st;

	memset(s, 0, sizeof(*s));
	st = prep(db,
		  "SELECT uuid, location FROM lake_export_tables WHERE"
		  " lake = ?1 AND tbl = ?2",
		  lake, t, err);
	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(s->uuid, sizeof(s->uuid), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		s->location = col_str(st, 1);
	}
	sqlite3_finalize(st);
	st = prep(db,
		  "SELECT version, coalesce(snapshot_id, 0),"
		  " coalesce(parent_id, 0), seq, ts_ms, watermark,"
		  " manifest_list, summary, metadata_file FROM"
		  " lake_export_versions WHERE lake = ?1 AND tbl = ?2 AND"
		  " pending = 0 ORDER BY version",
		  lake, t, err);
	if (st == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct exp_version *v;

		s->versions = gpu_xreallocarray(s->versions, s->nversions + 1,
						sizeof(*s->versions));
		v = &s->versions[s->nversions++];
		v->version = sqlite3_column_int(st, 0);
		v->snapshot = sqlite3_column_int64(st, 1);
		v->parent = sqlite3_column_int64(st, 2);
		v->seq = sqlite3_column_int64(st, 3);
		v->ts_ms = sqlite3_column_int64(st, 4);
		v->watermark = sqlite3_column_int64(st, 5);
		v->manifest_list = col_str(st, 6);
		v->summary = col_str(st, 7);
		v->metadata_file = col_str(st, 8);
	}
	sqlite3_finalize(st);
	st = prep(db,
		  "SELECT path, manifest, day, rows, size, seq, file_seq,"
		  " snapshot_id, data_file FROM lake_export_files WHERE"
		  " lake = ?1 AND tbl = ?2 AND removed_in IS NULL"
		  " ORDER BY day, path",
		  lake, t, err);
	if (st == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct exp_file *f;

		s->files = gpu_xreallocarray(s->files, s->nfiles + 1,
					     sizeof(*s->files));
		f = &s->files[s->nfiles++];
		memset(f, 0, sizeof(*f));
		f->path = col_str(st, 0);
		f->manifest = col_str(st, 1);
		f->day = sqlite3_column_int(st, 2);
		f->rows = sqlite3_column_int64(st, 3);
		f->size = sqlite3_column_int64(st, 4);
		f->seq = sqlite3_column_int64(st, 5);
		f->file_seq = sqlite3_column_int64(st, 6);
		f->snapshot = sqlite3_column_int64(st, 7);
		gpu_buf_init(&f->data_file);
		gpu_buf_add(&f->data_file, sqlite3_column_blob(st, 8),
			    (size_t)sqlite3_column_bytes(st, 8));
	}
	sqlite3_finalize(st);
	st = prep(db,
		  "SELECT path, record, live FROM lake_export_manifests WHERE"
		  " lake = ?1 AND tbl = ?2 AND removed_in IS NULL"
		  " ORDER BY added_in, path",
		  lake, t, err);
	if (st == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct exp_manifest *m;

		s->manifests = gpu_xreallocarray(
		    s->manifests, s->nmanifests + 1, sizeof(*s->manifests));
		m = &s->manifests[s->nmanifests++];
		memset(m, 0, sizeof(*m));
		m->path = col_str(st, 0);
		gpu_buf_init(&m->record);
		gpu_buf_add(&m->record, sqlite3_column_blob(st, 1),
			    (size_t)sqlite3_column_bytes(st, 1));
		m->live = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return 0;
}

void
exp_state_free(struct exp_state *s)
{
	size_t i;

	for (i = 0; i < s->nversions; i++) {
		free(s->versions[i].manifest_list);
		free(s->versions[i].summary);
		free(s->versions[i].metadata_file);
	}
	for (i = 0; i < s->nfiles; i++) {
		free(s->files[i].path);
		free(s->files[i].manifest);
		gpu_buf_release(&s->files[i].data_file);
	}
	for (i = 0; i < s->nmanifests; i++) {
		free(s->manifests[i].path);
		gpu_buf_release(&s->manifests[i].record);
	}
	free(s->versions);
	free(s->files);
	free(s->manifests);
	free(s->location);
	memset(s, 0, sizeof(*s));
}

int
exp_state_digest(sqlite3 *db, const char *lake, const struct exp_table *t,
		 int32_t day, char hex[65], int64_t *watermark,
		 struct gpu_err *err)
{
	sqlite3_stmt *st = prep(db,
				"SELECT digest, watermark FROM"
				" lake_export_days WHERE lake = ?1 AND"
				" tbl = ?2 AND day = ?3"
				" ORDER BY version DESC LIMIT 1",
				lake, t, err);

	hex[0] = '\0';
	*watermark = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 3, day);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(hex, 65, "%s",
			 (const char *)sqlite3_column_text(st, 0));
		*watermark = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

int
exp_state_set_watermark(sqlite3 *db, const char *lake,
			const struct exp_table *t, int version,
			int64_t watermark, struct gpu_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (begin(db, err) != 0)
		return -1;
	st = prep(db,
		  "UPDATE lake_export_versions SET watermark = ?4 WHERE"
		  " lake = ?1 AND tbl = ?2 AND version = ?3",
		  lake, t, err);
	if (st == NULL) {
		gpu_db_rollback(db);
		return -1;
	}
	sqlite3_bind_int(st, 3, version);
	sqlite3_bind_int64(st, 4, watermark);
	rc = step_done(db, st, err);
	sqlite3_finalize(st);
	if (rc != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	return gpu_db_commit(db, err);
}

static int
record_files(sqlite3 *db, const char *lake, const struct exp_table *t,
	     const struct exp_state *s, const struct exp_change *c,
	     struct gpu_err *err)
{
	sqlite3_stmt *ins, *rm;
	size_t i;
	int rc = 0;

	ins = prep(db,
		   "INSERT INTO lake_export_files(lake, tbl, path, manifest,"
		   " day, rows, size, seq, file_seq, snapshot_id, data_file,"
		   " added_in) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		   " ?10, ?11, ?12)",
		   lake, t, err);
	rm = prep(db,
		  "UPDATE lake_export_files SET removed_in = ?3 WHERE"
		  " lake = ?1 AND tbl = ?2 AND path = ?4 AND removed_in IS"
		  " NULL",
		  lake, t, err);
	if (ins == NULL || rm == NULL) {
		rc = -1;
		goto out;
	}
	sqlite3_bind_int(rm, 3, c->v.version);
	for (i = 0; i < s->nfiles && rc == 0; i++) {
		if (!s->files[i].removed && !s->files[i].moved)
			continue;
		sqlite3_bind_text(rm, 4, s->files[i].path, -1, SQLITE_STATIC);
		rc = step_done(db, rm, err);
	}
	for (i = 0; i < c->nadded && rc == 0; i++) {
		const struct exp_file *f = &c->added[i];

		sqlite3_bind_text(ins, 3, f->path, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, f->manifest, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 5, f->day);
		sqlite3_bind_int64(ins, 6, f->rows);
		sqlite3_bind_int64(ins, 7, f->size);
		sqlite3_bind_int64(ins, 8, f->seq);
		sqlite3_bind_int64(ins, 9, f->file_seq);
		sqlite3_bind_int64(ins, 10, f->snapshot);
		sqlite3_bind_blob(ins, 11, f->data_file.data,
				  (int)f->data_file.len, SQLITE_STATIC);
		sqlite3_bind_int(ins, 12, c->v.version);
		rc = step_done(db, ins, err);
	}
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(rm);
	return rc;
}

static int
record_manifests(sqlite3 *db, const char *lake, const struct exp_table *t,
		 const struct exp_state *s, const struct exp_change *c,
		 struct gpu_err *err)
{
	sqlite3_stmt *ins, *rm;
	size_t i;
	int rc = 0;

	ins = prep(db,
		   "INSERT INTO lake_export_manifests(lake, tbl, path, record,"
		   " live, added_in) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		   lake, t, err);
	rm = prep(db,
		  "UPDATE lake_export_manifests SET removed_in = ?3 WHERE"
		  " lake = ?1 AND tbl = ?2 AND path = ?4",
		  lake, t, err);
	if (ins == NULL || rm == NULL) {
		rc = -1;
		goto out;
	}
	sqlite3_bind_int(rm, 3, c->v.version);
	for (i = 0; i < s->nmanifests && rc == 0; i++) {
		if (!s->manifests[i].removed)
			continue;
		sqlite3_bind_text(rm, 4, s->manifests[i].path, -1,
				  SQLITE_STATIC);
		rc = step_done(db, rm, err);
	}
	for (i = 0; i < c->nnew && rc == 0; i++) {
		const struct exp_manifest *m = &c->new_manifests[i];

		sqlite3_bind_text(ins, 3, m->path, -1, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 4, m->record.data, (int)m->record.len,
				  SQLITE_STATIC);
		sqlite3_bind_int64(ins, 5, m->live);
		sqlite3_bind_int(ins, 6, c->v.version);
		rc = step_done(db, ins, err);
	}
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(rm);
	return rc;
}

static int
record_version(sqlite3 *db, const char *lake, const struct exp_table *t,
	       const struct exp_state *s, const struct exp_change *c,
	       struct gpu_err *err)
{
	const struct exp_version *v = &c->v;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (c->create) {
		st = prep(db,
			  "INSERT INTO lake_export_tables(lake, tbl, uuid,"
			  " location) VALUES (?1, ?2, ?3, ?4)",
			  lake, t, err);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 3, s->uuid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, s->location, -1, SQLITE_STATIC);
		rc = step_done(db, st, err);
		sqlite3_finalize(st);
		if (rc != 0)
			return -1;
	}
	st = prep(db,
		  "INSERT INTO lake_export_versions(lake, tbl, version,"
		  " snapshot_id, parent_id, seq, ts_ms, watermark,"
		  " manifest_list, summary, metadata_file, sha256, pending)"
		  " VALUES (?1, ?2, ?3, nullif(?4, 0), nullif(?5, 0), ?6, ?7,"
		  " ?8, ?9, ?10, ?11, ?12, 1)",
		  lake, t, err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 3, v->version);
	sqlite3_bind_int64(st, 4, v->snapshot);
	sqlite3_bind_int64(st, 5, v->parent);
	sqlite3_bind_int64(st, 6, v->seq);
	sqlite3_bind_int64(st, 7, v->ts_ms);
	sqlite3_bind_int64(st, 8, v->watermark);
	sqlite3_bind_text(st, 9, v->manifest_list, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, v->summary, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, v->metadata_file, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, c->sha256, -1, SQLITE_STATIC);
	rc = step_done(db, st, err);
	sqlite3_finalize(st);
	if (rc != 0)
		return -1;
	st = prep(db,
		  "INSERT INTO lake_export_days(lake, tbl, day, digest,"
		  " watermark, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		  lake, t, err);
	if (st == NULL)
		return -1;
	for (i = 0; i < c->ndigests && rc == 0; i++) {
		sqlite3_bind_int(st, 3, c->digest_days[i]);
		sqlite3_bind_text(st, 4, c->digests[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, c->day_marks[i]);
		sqlite3_bind_int(st, 6, v->version);
		rc = step_done(db, st, err);
	}
	sqlite3_finalize(st);
	return rc;
}

int
exp_state_pending(sqlite3 *db, const char *lake, const struct exp_table *t,
		  const struct exp_state *s, const struct exp_change *c,
		  struct gpu_err *err)
{
	if (begin(db, err) != 0)
		return -1;
	if (record_version(db, lake, t, s, c, err) != 0 ||
	    record_files(db, lake, t, s, c, err) != 0 ||
	    record_manifests(db, lake, t, s, c, err) != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	return gpu_db_commit(db, err);
}

int
exp_state_expire(sqlite3 *db, const char *lake, const struct exp_table *t,
		 int vmin, struct gpu_err *err)
{
	if (begin(db, err) != 0)
		return -1;
	/* pending = 2: committed once, now expired, files to collect. */
	if (run3(db,
		 "UPDATE lake_export_versions SET pending = 2 WHERE"
		 " lake = ?1 AND tbl = ?2 AND pending = 0 AND version < ?3",
		 lake, t, vmin, err) != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	return gpu_db_commit(db, err);
}

/*
 * The paths of table `what` (files or manifests) that no kept version
 * reaches: replaced at or before the oldest committed version, and not
 * live in another row (a file moved to a rewritten manifest).
 */
#define GARBAGE(what)                                                          \
	"SELECT DISTINCT path FROM " what " f WHERE lake = ?1 AND"             \
	" tbl = ?2 AND removed_in IS NOT NULL AND removed_in <= ?3 AND"        \
	" NOT EXISTS (SELECT 1 FROM " what " g WHERE g.lake = ?1 AND"          \
	" g.tbl = ?2 AND g.path = f.path AND (g.removed_in IS NULL OR"         \
	" g.removed_in > ?3))"

/* Unlink each path the query (lake, tbl, ?3 = vmin bound) returns. */
static int
unlink_rows(sqlite3 *db, const char *sql, const char *lake,
	    const struct exp_table *t, int vmin, struct gpu_err *err)
{
	sqlite3_stmt *st = prep(db, sql, lake, t, err);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 3, vmin);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);

		if (p != NULL && unlink(local_path(p)) != 0 &&
		    errno != ENOENT) {
			gpu_err_set(err, "cannot remove '%s': %s",
				    local_path(p), strerror(errno));
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return gpu_err_set(err, "database error: %s",
				   sqlite3_errmsg(db));
	return 0;
}

int
exp_state_collect(sqlite3 *db, const char *lake, const struct exp_table *t,
		  struct gpu_err *err)
{
	sqlite3_stmt *st;
	int vmin = 0;

	/* Nothing was ever expired: every replaced file is still reached. */
	st = prep(db,
		  "SELECT coalesce(min(version), 0) FROM lake_export_versions"
		  " WHERE lake = ?1 AND tbl = ?2 AND pending = 0 AND NOT"
		  " EXISTS (SELECT 1 FROM lake_export_versions WHERE"
		  " lake = ?1 AND tbl = ?2 AND version = 1 AND pending = 0)",
		  lake, t, err);
	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		vmin = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (vmin == 0)
		return 0;
	/*
	 * Files first, rows after: killed in between, the next run finds
	 * the same rows and unlinks what is left.
	 */
	if (unlink_rows(db, GARBAGE("lake_export_files"), lake, t, vmin, err) !=
		0 ||
	    unlink_rows(db, GARBAGE("lake_export_manifests"), lake, t, vmin,
			err) != 0 ||
	    unlink_rows(db,
			"SELECT manifest_list FROM lake_export_versions v"
			" WHERE lake = ?1 AND tbl = ?2 AND pending = 2 AND"
			" manifest_list IS NOT NULL AND NOT EXISTS (SELECT 1"
			" FROM lake_export_versions w WHERE w.lake = ?1 AND"
			" w.tbl = ?2 AND w.pending != 2 AND"
			" w.manifest_list = v.manifest_list) AND ?3 > 0"
			" UNION ALL SELECT metadata_file FROM"
			" lake_export_versions WHERE lake = ?1 AND tbl = ?2"
			" AND pending = 2",
			lake, t, vmin, err) != 0)
		return -1;
	if (begin(db, err) != 0)
		return -1;
	if (run3(db,
		 "DELETE FROM lake_export_files WHERE lake = ?1 AND"
		 " tbl = ?2 AND path IN (" GARBAGE("lake_export_files") ")",
		 lake, t, vmin, err) != 0 ||
	    run3(db,
		 "DELETE FROM lake_export_manifests WHERE lake = ?1 AND"
		 " tbl = ?2 AND path IN (" GARBAGE("lake_export_manifests") ")",
		 lake, t, vmin, err) != 0 ||
	    run3(db,
		 "DELETE FROM lake_export_versions WHERE lake = ?1 AND"
		 " tbl = ?2 AND pending = 2 AND ?3 > 0",
		 lake, t, vmin, err) != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	return gpu_db_commit(db, err);
}
