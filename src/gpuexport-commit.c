/* SPDX-License-Identifier: MIT */
/* gpuexport: one table's export: find what changed, write Parquet files,
 * manifests, the manifest list and the metadata, and commit. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpu/db.h"
#include "gpu/diag.h"
#include "gpu/retention.h"
#include "gpu/sha256.h"
#include "gpu/time.h"
#include "gpuexport.h"

#define DAY_MS INT64_C(86400000)

/* A day with more live files than this is rewritten whole, not appended
 * to, so that hourly runs leave few small files. */
#define MAX_DAY_FILES 8

struct work {
	int32_t day;
	bool overwrite;
	int64_t mark;	 /* facts: rows of ingests after this are new */
	char digest[65]; /* digest tables: the partition's new digest */
};

struct run {
	sqlite3 *db;
	const struct exp_opts *o;
	const struct exp_table *t;
	struct exp_dims dims_store;
	const struct exp_dims *dims;
	struct gpu_buf dir, loc, schema_json;
	struct exp_state s;
	struct work *work;
	size_t nwork;
	int64_t watermark, snapshot, seq, now;
	bool ranged;
	struct exp_file *files; /* written by this run, then moved copies */
	size_t nfiles, nnew;
	int64_t *ingests; /* distinct ingest ids of the rows written */
	size_t ningests;
	size_t last_ingest; /* index of the last id noted */
	uint64_t rows;
	size_t file_no;
	int ingest_col;	   /* the ingest_id column, or -1 */
	sqlite3 **readers; /* on db's snapshot, for the reader threads */
	size_t nreaders;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
add_work(struct run *r, int32_t day, bool overwrite)
{
	size_t i;

	for (i = 0; i < r->nwork; i++) {
		if (r->work[i].day == day) {
			r->work[i].overwrite |= overwrite;
			return 0;
		}
	}
	r->work = gpu_xreallocarray(r->work, r->nwork + 1, sizeof(*r->work));
	memset(&r->work[r->nwork], 0, sizeof(r->work[0]));
	r->work[r->nwork].day = day;
	r->work[r->nwork].overwrite = overwrite;
	r->nwork++;
	return 0;
}

/* Add every day of [from, to] (ms) inside the option's range. */
static void
add_days(struct run *r, int64_t from, int64_t to, bool overwrite)
{
	int64_t d;

	if (from < r->o->from_ms)
		from = r->o->from_ms;
	if (to >= r->o->to_ms)
		to = r->o->to_ms - 1;
	for (d = from / DAY_MS; from <= to && d <= to / DAY_MS; d++)
		add_work(r, (int32_t)d, overwrite);
}

static int
cmp_work(const void *a, const void *b)
{
	const struct work *x = a, *y = b;

	return (x->day > y->day) - (x->day < y->day);
}

static bool
has_column(sqlite3 *db, const char *table, const char *col)
{
	char sql[128];
	sqlite3_stmt *st;
	bool has = false;

	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *n = sqlite3_column_text(st, 1);

		if (n != NULL && strcmp((const char *)n, col) == 0)
			has = true;
	}
	sqlite3_finalize(st);
	return has;
}

static int
query_int(sqlite3 *db, const char *sql, int64_t *out, struct gpu_err *err)
{
	sqlite3_stmt *st = gpu_db_prepare(db, sql, err);

	if (st == NULL)
		return -1;
	*out = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* All days with rows in the range, each to be rewritten. */
static int
all_days(struct run *r, struct gpu_err *err)
{
	sqlite3_stmt *st;

	if (r->t->days_sql == NULL)
		return add_work(r, EXP_NO_DAY, true);
	st = gpu_db_prepare(r->db, r->t->days_sql, err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, r->o->from_ms);
	sqlite3_bind_int64(st, 2, r->o->to_ms);
	while (sqlite3_step(st) == SQLITE_ROW)
		add_work(r, (int32_t)sqlite3_column_int64(st, 0), true);
	sqlite3_finalize(st);
	return 0;
}

/*
 * The days that ingests after the last export touched: appended to when
 * their inputs only inserted rows, rewritten when an input updated rows or
 * re-attributed them to jobs (allocations).
 */
static int
ingest_days(struct run *r, int64_t since, struct gpu_err *err)
{
	sqlite3_stmt *st;

	st = gpu_db_prepare(r->db,
			    "SELECT min_ts_ms, max_ts_ms, updated FROM"
			    " ingest_log WHERE ingest_id > ?1 AND"
			    " ingest_id <= ?2 AND min_ts_ms IS NOT NULL AND"
			    " inserted + updated > 0",
			    err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, r->watermark);
	while (sqlite3_step(st) == SQLITE_ROW)
		add_days(r, sqlite3_column_int64(st, 0),
			 sqlite3_column_int64(st, 1),
			 sqlite3_column_int64(st, 2) > 0);
	sqlite3_finalize(st);
	if (!has_column(r->db, "ingest_log", "attributed"))
		return 0;
	st = gpu_db_prepare(r->db,
			    "SELECT a.start_ms, coalesce(a.end_ms, (SELECT"
			    " max(ts_ms) FROM gpu_usage_fact_rows)) FROM"
			    " allocations a JOIN ingest_log l ON"
			    " l.ingest_id = a.ingest_id WHERE"
			    " a.ingest_id > ?1 AND a.ingest_id <= ?2 AND"
			    " l.attributed > 0 AND a.start_ms IS NOT NULL",
			    err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, r->watermark);
	while (sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			add_days(r, sqlite3_column_int64(st, 0),
				 sqlite3_column_int64(st, 1), true);
	sqlite3_finalize(st);
	return 0;
}

static size_t
live_files(const struct run *r, int32_t day)
{
	size_t i, n = 0;

	for (i = 0; i < r->s.nfiles; i++)
		if (r->s.files[i].day == day)
			n++;
	return n;
}

static void
hash_vals(struct gpu_sha256 *h, const struct exp_source *src)
{
	size_t i;

	for (i = 0; i < src->t->schema.nfields; i++) {
		const struct exp_val *v = &src->vals[i];
		enum lake_type ty = src->t->schema.fields[i].type;
		unsigned char tag = v->null ? 0 : (unsigned char)(ty + 1);
		uint64_t n = v->n;

		gpu_sha256_update(h, &tag, 1);
		if (v->null)
			continue;
		if (ty == LAKE_STRING) {
			gpu_sha256_update(h, &n, sizeof(n));
			gpu_sha256_update(h, v->s, v->n);
		} else if (ty == LAKE_DOUBLE) {
			gpu_sha256_update(h, &v->d, sizeof(v->d));
		} else {
			gpu_sha256_update(h, &v->i, sizeof(v->i));
		}
	}
}

/* Keep, for digest tables, only the partitions whose digest changed. */
static int
digest_filter(struct run *r, struct gpu_err *err)
{
	size_t i, k = 0;

	for (i = 0; i < r->nwork; i++) {
		struct work *w = &r->work[i];
		struct exp_source src;
		struct gpu_sha256 h;
		char old[65];
		int64_t mark;
		int rc;

		if (exp_state_digest(r->db, r->o->lake, r->t, w->day, old,
				     &mark, err) != 0 ||
		    exp_source_open(&src, r->db, r->t, r->dims, w->day, true,
				    false, 0, err) != 0)
			return -1;
		gpu_sha256_init(&h);
		while ((rc = exp_source_next(&src, err)) == 1)
			hash_vals(&h, &src);
		exp_source_close(&src);
		if (rc < 0)
			return -1;
		gpu_sha256_hex(&h, w->digest);
		if (r->o->rewrite || strcmp(old, w->digest) != 0)
			r->work[k++] = *w;
	}
	r->nwork = k;
	return 0;
}

/*
 * The facts of a day before the raw-sample horizon (gpuingest --keep-raw)
 * were deleted: exporting it again would drop from the lake what the
 * warehouse no longer holds. A range or --rewrite that
 * reaches such a day is refused; an incremental export passes over it
 * (nothing there changed: samples before the horizon are rejected and
 * allocations attribute none again), saying so with -v.
 */
static int
skip_purged(struct run *r, bool check_range, struct gpu_err *err)
{
	int64_t h, first;
	char t[32];
	size_t i, k = 0;

	if (r->t->mode != EXP_BY_INGEST)
		return 0;
	if (gpu_retention_deleted(r->db, &h, err) != 0)
		return -1;
	if (h == GPU_RETENTION_NONE)
		return 0;
	/*
	 * A day the horizon cuts was never in this lake whole: the horizon
	 * falls on a day start wherever a lake held the table when it moved
	 * (gpu/retention.h). Its rows after the horizon are exported.
	 */
	first = gpu_period_start(GPU_PERIOD_DAY, h);
	gpu_time_fmt_iso(first, t);
	t[10] = '\0';
	if (check_range && (r->ranged || r->o->rewrite) &&
	    r->o->from_ms < first)
		return gpu_err_set(err,
				   "cannot export %s before %s: its raw "
				   "samples were deleted (gpuingest "
				   "--keep-raw); give --from %s or later",
				   r->t->name, t, t);
	if (check_range)
		return 0;
	for (i = 0; i < r->nwork; i++) {
		if ((int64_t)r->work[i].day * DAY_MS >= first) {
			r->work[k++] = r->work[i];
			continue;
		}
		if (!r->o->verbose)
			continue;
		gpu_time_fmt_iso((int64_t)r->work[i].day * DAY_MS, t);
		t[10] = '\0';
		gpu_msg("%s: day %s not exported again: its raw samples were "
			"deleted (gpuingest --keep-raw)",
			r->t->name, t);
	}
	r->nwork = k;
	return 0;
}

/* Decide what to export: r->work. */
static int
find_work(struct run *r, struct gpu_err *err)
{
	const struct exp_version *cur = &r->s.versions[r->s.nversions - 1];
	size_t i;

	if (query_int(r->db,
		      "SELECT coalesce(max(ingest_id), 0) FROM ingest_log",
		      &r->watermark, err) != 0)
		return -1;
	if (r->t->mode == EXP_BY_DIGEST) {
		if (all_days(r, err) != 0)
			return -1;
		return digest_filter(r, err);
	}
	if (skip_purged(r, true, err) != 0)
		return -1;
	if (r->ranged || r->o->rewrite) {
		if (all_days(r, err) != 0)
			return -1;
		/* A day that lost all its rows still has files to drop. */
		for (i = 0; i < r->s.nfiles; i++) {
			int64_t d = (int64_t)r->s.files[i].day * DAY_MS;

			if (d >= r->o->from_ms && d < r->o->to_ms)
				add_work(r, r->s.files[i].day, true);
		}
	} else if (r->watermark > cur->watermark &&
		   ingest_days(r, cur->watermark, err) != 0) {
		return -1;
	}
	if (skip_purged(r, false, err) != 0)
		return -1;
	for (i = 0; i < r->nwork; i++) {
		struct work *w = &r->work[i];
		char unused[65];

		if (exp_state_digest(r->db, r->o->lake, r->t, w->day, unused,
				     &w->mark, err) != 0)
			return -1;
		if (w->mark < cur->watermark)
			w->mark = cur->watermark;
		if (live_files(r, w->day) >= MAX_DAY_FILES)
			w->overwrite = true;
		w->digest[0] = '\0';
	}
	return 0;
}

static void
note_ingest(struct run *r, int64_t id)
{
	size_t lo = 0, hi = r->ningests;

	/* Rows come in runs of one ingest. */
	if (r->ningests > 0 && r->ingests[r->last_ingest] == id)
		return;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (r->ingests[mid] == id) {
			r->last_ingest = mid;
			return;
		}
		if (r->ingests[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	r->ingests =
	    gpu_xreallocarray(r->ingests, r->ningests + 1, sizeof(*r->ingests));
	memmove(r->ingests + lo + 1, r->ingests + lo,
		(r->ningests - lo) * sizeof(*r->ingests));
	r->ingests[lo] = id;
	r->ningests++;
	r->last_ingest = lo;
}

/* Note the ingests of a batch's rows (they come in runs of one). */
static void
note_ingests(struct run *r, const struct exp_batch *b)
{
	const struct lake_pq_col *c;
	size_t i;

	if (r->ingest_col < 0)
		return;
	c = &b->cols[r->ingest_col];
	for (i = 0; i < b->rows; i++)
		if (c->present == NULL || c->present[i] != 0)
			note_ingest(r, c->i[i]);
}

/*
 * Partition directory of day (a month for month()) under data/ ("" when
 * unpartitioned), as Iceberg's writers name it.
 */
static void
part_dir(const struct run *r, int32_t day, struct gpu_buf *b)
{
	const struct lake_schema *sc = &r->t->schema;
	size_t i;

	for (i = 0; i < sc->nfields; i++) {
		int64_t y;
		int m, d;

		if (sc->fields[i].id != sc->part_source || day == EXP_NO_DAY)
			continue;
		if (sc->by_month) {
			gpu_civil_from_days(exp_month_start_ms(day) / DAY_MS,
					    &y, &m, &d);
			gpu_buf_addf(b, "%s_month=%04" PRId64 "-%02d/",
				     sc->fields[i].name, y, m);
			continue;
		}
		gpu_civil_from_days(day, &y, &m, &d);
		gpu_buf_addf(b, "%s_day=%04" PRId64 "-%02d-%02d/",
			     sc->fields[i].name, y, m, d);
	}
}

static struct lake_pq *
open_file(struct run *r, int32_t day, struct gpu_buf *path, struct gpu_err *err)
{
	struct lake_pq_opts po = r->o->pq;
	struct gpu_buf dir;
	char uuid[37];
	struct lake_pq *pq;

	gpu_buf_init(&dir);
	gpu_buf_addf(&dir, "%s/data/", r->dir.data);
	part_dir(r, day, &dir);
	if (lake_mkdirs(dir.data, err) != 0) {
		gpu_buf_release(&dir);
		return NULL;
	}
	lake_uuid(uuid);
	gpu_buf_reset(path);
	gpu_buf_addf(path, "%s%05zu-0-%s.parquet", dir.data, r->file_no++,
		     uuid);
	gpu_buf_release(&dir);
	po.threads = r->o->threads;
	po.kv_key = "iceberg.schema";
	po.kv_value = r->schema_json.data;
	pq = lake_pq_open(path->data, r->t->schema.fields, r->t->schema.nfields,
			  &po, err);
	return pq;
}

/* Finish pq, fsync its directory and add it to r->files. */
static int
close_file(struct run *r, struct lake_pq *pq, const char *path, int32_t day,
	   struct gpu_err *err)
{
	struct exp_file *f;
	struct gpu_buf dir, uri;
	int rc;

	if (lake_pq_finish(pq, err) != 0)
		return -1;
	/* The file's directory, and its parent (a new partition's entry). */
	gpu_buf_init(&dir);
	gpu_buf_add(&dir, path, (size_t)(strrchr(path, '/') - path));
	rc = lake_fsync_dir(dir.data, err);
	if (rc == 0 && day != EXP_NO_DAY) {
		*strrchr(dir.data, '/') = '\0';
		rc = lake_fsync_dir(dir.data, err);
	}
	gpu_buf_release(&dir);
	if (rc != 0)
		return -1;
	gpu_buf_init(&uri);
	gpu_buf_addf(&uri, "file://%s", path);
	r->files =
	    gpu_xreallocarray(r->files, r->nfiles + 1, sizeof(*r->files));
	f = &r->files[r->nfiles++];
	memset(f, 0, sizeof(*f));
	f->path = gpu_xstrdup(uri.data);
	f->day = day;
	f->rows = (int64_t)lake_pq_rows(pq);
	f->size = (int64_t)lake_pq_file_size(pq);
	f->seq = f->file_seq = r->seq;
	f->snapshot = r->snapshot;
	gpu_buf_init(&f->data_file);
	lake_ice_data_file(&f->data_file, &r->t->schema, uri.data, day, pq);
	gpu_buf_release(&uri);
	r->rows += lake_pq_rows(pq);
	return 0;
}

/* Write the rows of one work item into one or more data files. */
static int
write_day(struct run *r, const struct work *w, struct gpu_err *err)
{
	struct exp_pipe *pipe;
	const struct exp_batch *b;
	struct lake_pq *pq = NULL;
	struct gpu_buf path;
	int rc;

	if (r->nreaders > 0)
		pipe = exp_pipe_start(
		    r->readers, r->nreaders, r->t, r->dims, w->day,
		    !w->overwrite && r->t->mode == EXP_BY_INGEST, w->mark, err);
	else
		pipe = exp_pipe_start(
		    &r->db, 1, r->t, r->dims, w->day,
		    !w->overwrite && r->t->mode == EXP_BY_INGEST, w->mark, err);
	if (pipe == NULL)
		return -1;
	gpu_buf_init(&path);
	while ((rc = exp_pipe_batch(pipe, &b, err)) == 1) {
		size_t first = 0, taken;

		note_ingests(r, b);
		/* A file rolls after the row that brings it to file_bytes. */
		while (rc == 1 && first < b->rows) {
			if (pq == NULL)
				pq = open_file(r, w->day, &path, err);
			if (pq == NULL ||
			    lake_pq_put_batch(pq, b->cols, first,
					      b->rows - first, r->o->file_bytes,
					      &taken, err) != 0) {
				rc = -1;
				break;
			}
			first += taken;
			if (lake_pq_size(pq) < r->o->file_bytes)
				continue;
			if (close_file(r, pq, path.data, w->day, err) != 0)
				rc = -1;
			lake_pq_free(pq);
			pq = NULL;
		}
		if (rc != 1)
			break;
	}
	if (rc == 0 && pq != NULL)
		rc = close_file(r, pq, path.data, w->day, err);
	if (rc != 0 && pq != NULL)
		unlink(path.data);
	lake_pq_free(pq);
	exp_pipe_stop(pipe);
	gpu_buf_release(&path);
	return rc < 0 ? -1 : 0;
}

static void
new_uri(const struct run *r, struct gpu_buf *b, const char *suffix)
{
	char uuid[37];

	lake_uuid(uuid);
	gpu_buf_reset(b);
	gpu_buf_addf(b, "%s/metadata/%s%s", r->loc.data, uuid, suffix);
}

static const char *
local(const char *uri)
{
	return strncmp(uri, "file://", 7) == 0 ? uri + 7 : uri;
}

/* Write a manifest of entries and describe it for the list. */
static int
emit_manifest(struct run *r, const char *uri, const struct gpu_buf *entries,
	      size_t count, struct lake_ice_mfile *mf, struct exp_manifest *m,
	      struct gpu_err *err)
{
	int64_t len = lake_ice_write_manifest(local(uri), &r->t->schema,
					      entries, count, err);

	if (len < 0)
		return -1;
	mf->path = uri;
	mf->length = len;
	mf->seq = r->seq;
	mf->added_snapshot = r->snapshot;
	mf->partitioned = r->t->schema.part_source != 0;
	memset(m, 0, sizeof(*m));
	m->path = gpu_xstrdup(uri);
	gpu_buf_init(&m->record);
	lake_ice_mfile(&m->record, mf);
	m->live = mf->added_files + mf->existing_files;
	return 0;
}

static void
bound(struct lake_ice_mfile *mf, int32_t day)
{
	if (!mf->has_bounds || day < mf->lower)
		mf->lower = day;
	if (!mf->has_bounds || day > mf->upper)
		mf->upper = day;
	mf->has_bounds = true;
}

/*
 * Append the entries of the live files of manifest path to entries, for a
 * manifest that replaces it at uri: overwritten files DELETED, the others
 * EXISTING (their state rows move to uri).
 */
static void
rewrite_entries(struct run *r, const char *path, const char *uri,
		struct gpu_buf *entries, struct lake_ice_mfile *mf,
		size_t *count)
{
	size_t j, n = r->s.nfiles;

	for (j = 0; j < n; j++) {
		struct exp_file *f = &r->s.files[j];
		struct exp_file *c;

		if (strcmp(f->manifest, path) != 0)
			continue;
		(*count)++;
		if (f->removed) {
			lake_ice_entry(entries, LAKE_DELETED, r->snapshot,
				       f->seq, f->file_seq, f->data_file.data,
				       f->data_file.len);
			mf->deleted_files++;
			mf->deleted_rows += f->rows;
			continue;
		}
		lake_ice_entry(entries, LAKE_EXISTING, f->snapshot, f->seq,
			       f->file_seq, f->data_file.data,
			       f->data_file.len);
		mf->existing_files++;
		mf->existing_rows += f->rows;
		if (f->seq < mf->min_seq)
			mf->min_seq = f->seq;
		bound(mf, f->day);
		f->moved = true;
		r->files = gpu_xreallocarray(r->files, r->nfiles + 1,
					     sizeof(*r->files));
		c = &r->files[r->nfiles++];
		*c = *f;
		c->path = gpu_xstrdup(f->path);
		c->manifest = gpu_xstrdup(uri);
		gpu_buf_init(&c->data_file);
		gpu_buf_add(&c->data_file, f->data_file.data, f->data_file.len);
	}
}

/*
 * Build the new manifests: one of the files written (ADDED), and one for
 * every manifest that held an overwritten file (its other files EXISTING,
 * the overwritten ones DELETED); past max_manifests live manifests, all
 * old ones are merged into one instead.
 */
static int
build_manifests(struct run *r, struct exp_manifest **out, size_t *nout,
		struct gpu_err *err)
{
	struct gpu_buf entries, uri;
	struct exp_manifest *ms = NULL;
	struct lake_ice_mfile mf;
	size_t i, j, n = 0, nnew = r->nfiles, nlive = 0, count = 0;
	bool merge;
	int rc = 0;

	gpu_buf_init(&entries);
	gpu_buf_init(&uri);
	if (nnew > 0) {
		memset(&mf, 0, sizeof(mf));
		new_uri(r, &uri, "-m0.avro");
		for (i = 0; i < nnew; i++) {
			struct exp_file *f = &r->files[i];

			lake_ice_entry(&entries, LAKE_ADDED, r->snapshot, -1,
				       -1, f->data_file.data, f->data_file.len);
			f->manifest = gpu_xstrdup(uri.data);
			mf.added_files++;
			mf.added_rows += f->rows;
			bound(&mf, f->day);
		}
		mf.min_seq = r->seq;
		ms = gpu_xreallocarray(ms, n + 1, sizeof(*ms));
		rc = emit_manifest(r, uri.data, &entries, nnew, &mf, &ms[n],
				   err);
		if (rc == 0)
			n++;
	}
	/* Past max_manifests live ones, all are merged into one. */
	for (i = 0; i < r->s.nmanifests; i++)
		if (r->s.manifests[i].live > 0)
			nlive++;
	merge = nlive + (nnew > 0) > r->o->max_manifests;
	gpu_buf_reset(&entries);
	new_uri(r, &uri, "-m1.avro");
	memset(&mf, 0, sizeof(mf));
	mf.min_seq = r->seq;
	for (i = 0; i < r->s.nmanifests && rc == 0; i++) {
		struct exp_manifest *old = &r->s.manifests[i];
		bool touched = merge;

		if (old->live == 0) {
			old->removed = true; /* only deletes: shown once */
			continue;
		}
		for (j = 0; j < r->s.nfiles; j++)
			if (r->s.files[j].removed &&
			    strcmp(r->s.files[j].manifest, old->path) == 0)
				touched = true;
		if (!touched)
			continue;
		old->removed = true;
		rewrite_entries(r, old->path, uri.data, &entries, &mf, &count);
		if (merge)
			continue;
		ms = gpu_xreallocarray(ms, n + 1, sizeof(*ms));
		rc = emit_manifest(r, uri.data, &entries, count, &mf, &ms[n],
				   err);
		if (rc == 0)
			n++;
		gpu_buf_reset(&entries);
		new_uri(r, &uri, "-m1.avro");
		memset(&mf, 0, sizeof(mf));
		mf.min_seq = r->seq;
		count = 0;
	}
	if (rc == 0 && merge && count > 0) {
		ms = gpu_xreallocarray(ms, n + 1, sizeof(*ms));
		rc = emit_manifest(r, uri.data, &entries, count, &mf, &ms[n],
				   err);
		if (rc == 0)
			n++;
	}
	gpu_buf_release(&entries);
	gpu_buf_release(&uri);
	*out = ms;
	*nout = n;
	return rc;
}

/* "1-3,7": the sorted ids as ranges. */
static void
id_ranges(const struct run *r, struct gpu_buf *b)
{
	size_t i = 0;

	while (i < r->ningests) {
		size_t j = i;

		while (j + 1 < r->ningests &&
		       r->ingests[j + 1] == r->ingests[j] + 1)
			j++;
		gpu_buf_addf(b, "%s%" PRId64, i > 0 ? "," : "", r->ingests[i]);
		if (j > i)
			gpu_buf_addf(b, "-%" PRId64, r->ingests[j]);
		i = j + 1;
	}
}

static void
summary(const struct run *r, struct gpu_buf *b)
{
	int64_t add_n = 0, add_rows = 0, add_size = 0, del_n = 0, del_rows = 0;
	int64_t del_size = 0, tot_n = 0, tot_rows = 0, tot_size = 0;
	size_t i, parts = 0;

	for (i = 0; i < r->nnew; i++) {
		add_n++;
		add_rows += r->files[i].rows;
		add_size += r->files[i].size;
	}
	for (i = 0; i < r->s.nfiles; i++) {
		const struct exp_file *f = &r->s.files[i];

		if (f->removed) {
			del_n++;
			del_rows += f->rows;
			del_size += f->size;
			continue;
		}
		tot_n++;
		tot_rows += f->rows;
		tot_size += f->size;
	}
	for (i = 0; i < r->nwork; i++)
		parts++;
	gpu_buf_addf(b,
		     "\"operation\":\"%s\",\"added-data-files\":\"%" PRId64
		     "\",\"added-records\":\"%" PRId64
		     "\",\"added-files-size\":\"%" PRId64 "\"",
		     del_n > 0 ? "overwrite" : "append", add_n, add_rows,
		     add_size);
	if (del_n > 0)
		gpu_buf_addf(b,
			     ",\"deleted-data-files\":\"%" PRId64
			     "\",\"deleted-records\":\"%" PRId64
			     "\",\"removed-files-size\":\"%" PRId64
			     "\",\"replace-partitions\":\"true\"",
			     del_n, del_rows, del_size);
	gpu_buf_addf(b,
		     ",\"changed-partition-count\":\"%zu\",\"total-records\":"
		     "\"%" PRId64 "\",\"total-files-size\":\"%" PRId64
		     "\",\"total-data-files\":\"%" PRId64
		     "\",\"total-delete-files\":\"0\","
		     "\"total-position-deletes\":\"0\","
		     "\"total-equality-deletes\":\"0\","
		     "\"gpuusage.watermark\":\"%" PRId64 "\"",
		     parts, tot_rows + add_rows, tot_size + add_size,
		     tot_n + add_n, r->watermark);
	if (r->t->mode == EXP_BY_INGEST) {
		gpu_buf_adds(b, ",\"gpuusage.ingest-ids\":\"");
		id_ranges(r, b);
		gpu_buf_addc(b, '"');
	}
}

/*
 * The snapshot of version x, unless it repeats the one before (a version
 * that only rewrote the metadata, as an expiry does, keeps the current
 * snapshot: the snapshot is listed once, as first committed).
 */
static void
add_snap(struct lake_ice_snapshot *snaps, size_t *n,
	 const struct exp_version *x)
{
	if (x->snapshot == 0 || (*n > 0 && snaps[*n - 1].id == x->snapshot))
		return;
	snaps[*n].id = x->snapshot;
	snaps[*n].parent = x->parent;
	snaps[*n].seq = x->seq;
	snaps[*n].ts_ms = x->ts_ms;
	snaps[*n].manifest_list = x->manifest_list;
	snaps[*n].summary = x->summary;
	(*n)++;
}

void
exp_render(const struct exp_table *t, const struct exp_state *s, size_t first,
	   const struct exp_version *v, struct gpu_buf *out)
{
	struct lake_ice_snapshot *snaps;
	struct lake_ice_logent *log;
	struct lake_ice_meta m;
	size_t i, n = 0, nlog = 0;

	snaps = gpu_xcalloc(s->nversions + 1, sizeof(*snaps));
	log = gpu_xcalloc(s->nversions + 1, sizeof(*log));
	for (i = first; i < s->nversions; i++) {
		const struct exp_version *x = &s->versions[i];

		log[nlog].ts_ms = x->ts_ms;
		log[nlog++].file = x->metadata_file;
		add_snap(snaps, &n, x);
	}
	add_snap(snaps, &n, v);
	memset(&m, 0, sizeof(m));
	m.uuid = s->uuid;
	m.location = s->location;
	m.last_updated_ms = v->ts_ms;
	m.schema = &t->schema;
	m.snaps = snaps;
	m.nsnaps = n;
	m.log = log;
	m.nlog = nlog;
	lake_ice_metadata(out, &m);
	free(snaps);
	free(log);
}

int
exp_commit(sqlite3 *db, const char *lake, const char *dir,
	   const struct exp_table *t, const struct exp_state *s,
	   struct exp_change *c, const struct gpu_buf *text,
	   struct gpu_err *err)
{
	struct gpu_sha256 h;
	char hex[65];
	bool conflict;

	gpu_sha256_init(&h);
	gpu_sha256_update(&h, text->data, text->len);
	gpu_sha256_hex(&h, hex);
	c->sha256 = hex;
	if (exp_state_pending(db, lake, t, s, c, err) != 0)
		return -1;
	if (lake_ice_commit(dir, c->v.version, text, &conflict, err) != 0) {
		struct gpu_err e2;
		int rc;

		/*
		 * Settle the pending version as the next run would: the
		 * link may have been made before a later step failed.
		 */
		rc = exp_state_recover(db, lake, dir, t, false, &e2);
		if (rc == 1)
			return 0;
		return rc == 0 ? -1 : 1;
	}
	if (exp_state_promote(db, lake, t, c->v.version, err) != 0)
		return 1;
	return 0;
}

static void
render(const struct run *r, const struct exp_version *v, struct gpu_buf *out)
{
	exp_render(r->t, &r->s, 0, v, out);
}

static int
commit(struct run *r, struct exp_change *c, const struct gpu_buf *text,
       struct gpu_err *err)
{
	return exp_commit(r->db, r->o->lake, r->dir.data, r->t, &r->s, c, text,
			  err);
}

/* Version 1: the table with no snapshot. */
static int
create_table(struct run *r, struct gpu_err *err)
{
	struct exp_change c;
	struct gpu_buf text, uri;
	int rc;

	lake_uuid(r->s.uuid);
	free(r->s.location);
	r->s.location = gpu_xstrdup(r->loc.data);
	memset(&c, 0, sizeof(c));
	gpu_buf_init(&text);
	gpu_buf_init(&uri);
	gpu_buf_addf(&uri, "%s/metadata/v1.metadata.json", r->loc.data);
	c.create = true;
	c.v.version = 1;
	c.v.ts_ms = r->now;
	c.v.metadata_file = uri.data;
	render(r, &c.v, &text);
	rc = commit(r, &c, &text, err);
	gpu_buf_release(&text);
	gpu_buf_release(&uri);
	return rc;
}

static void
free_files(struct exp_file *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].manifest);
		gpu_buf_release(&f[i].data_file);
	}
	free(f);
}

/* Write the snapshot of everything in r->files and the removals. */
static int
snapshot(struct run *r, struct gpu_err *err)
{
	const struct exp_version *cur = &r->s.versions[r->s.nversions - 1];
	struct exp_manifest *ms = NULL;
	struct gpu_buf list, records, sum, meta, text;
	struct exp_change c;
	size_t i, nms = 0, count = 0;
	int rc = -1;

	gpu_buf_init(&list);
	gpu_buf_init(&records);
	gpu_buf_init(&sum);
	gpu_buf_init(&meta);
	gpu_buf_init(&text);
	memset(&c, 0, sizeof(c));
	if (build_manifests(r, &ms, &nms, err) != 0)
		goto out;
	for (i = 0; i < r->s.nmanifests; i++) {
		if (r->s.manifests[i].removed)
			continue;
		gpu_buf_add(&records, r->s.manifests[i].record.data,
			    r->s.manifests[i].record.len);
		count++;
	}
	for (i = 0; i < nms; i++) {
		gpu_buf_add(&records, ms[i].record.data, ms[i].record.len);
		count++;
	}
	gpu_buf_addf(&list, "%s/metadata/snap-%" PRId64 "-1-", r->loc.data,
		     r->snapshot);
	{
		char uuid[37];

		lake_uuid(uuid);
		gpu_buf_addf(&list, "%s.avro", uuid);
	}
	if (lake_ice_write_list(local(list.data), &records, count, r->snapshot,
				cur->snapshot, r->seq, err) != 0)
		goto out;
	summary(r, &sum);
	gpu_buf_addf(&meta, "%s/metadata/v%d.metadata.json", r->loc.data,
		     cur->version + 1);
	c.v.version = cur->version + 1;
	c.v.snapshot = r->snapshot;
	c.v.parent = cur->snapshot;
	c.v.seq = r->seq;
	c.v.ts_ms = r->now;
	c.v.watermark = r->ranged ? cur->watermark : r->watermark;
	c.v.manifest_list = list.data;
	c.v.summary = sum.data;
	c.v.metadata_file = meta.data;
	c.added = r->files;
	c.nadded = r->nfiles;
	c.new_manifests = ms;
	c.nnew = nms;
	c.ndigests = r->nwork;
	c.digest_days = gpu_xcalloc(r->nwork + 1, sizeof(*c.digest_days));
	c.digests = gpu_xcalloc(r->nwork + 1, sizeof(*c.digests));
	c.day_marks = gpu_xcalloc(r->nwork + 1, sizeof(*c.day_marks));
	for (i = 0; i < r->nwork; i++) {
		c.digest_days[i] = r->work[i].day;
		memcpy(c.digests[i], r->work[i].digest, 65);
		c.day_marks[i] = r->watermark;
	}
	render(r, &c.v, &text);
	rc = commit(r, &c, &text, err);
	if (rc < 0)
		unlink(local(list.data));
out:
	for (i = 0; i < nms; i++) {
		if (rc < 0)
			unlink(local(ms[i].path));
		free(ms[i].path);
		gpu_buf_release(&ms[i].record);
	}
	free(ms);
	free(c.digest_days);
	free(c.digests);
	free(c.day_marks);
	gpu_buf_release(&list);
	gpu_buf_release(&records);
	gpu_buf_release(&sum);
	gpu_buf_release(&meta);
	gpu_buf_release(&text);
	return rc;
}

static void
run_free(struct run *r)
{
	gpu_buf_release(&r->dir);
	gpu_buf_release(&r->loc);
	gpu_buf_release(&r->schema_json);
	exp_state_free(&r->s);
	exp_dims_free(&r->dims_store);
	free_files(r->files, r->nfiles);
	free(r->work);
	free(r->ingests);
}

/*
 * Read the warehouse (one read transaction, on db and the readers' own
 * connections, one snapshot) and write the data files.
 */
static int
export_data(struct run *r, struct gpu_err *err)
{
	size_t i;
	int rc = -1;

	/*
	 * Frames of this run's state in the WAL would keep the readers off
	 * the table's pages (gpu/pages.h): copy them into the file first,
	 * as far as other readers let a checkpoint that never waits.
	 */
	if (r->t->page_table != NULL)
		sqlite3_wal_checkpoint_v2(
		    r->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	/* The bills are computed by db alone. */
	if (exp_readers_begin(r->db, r->t->sql != NULL ? r->o->threads : 1,
			      r->o->lock_timeout_ms, &r->readers, &r->nreaders,
			      err) != 0)
		return -1;
	/* The names are read in the same snapshot as the rows. */
	if (exp_dims_load(r->db, &r->dims_store, err) != 0)
		goto out;
	r->dims_store.rates = r->o->rates;
	if (find_work(r, err) != 0)
		goto out;
	if (r->nwork > 1)
		qsort(r->work, r->nwork, sizeof(*r->work), cmp_work);
	rc = 0;
	for (i = 0; i < r->nwork && rc == 0; i++) {
		size_t j;

		if (r->work[i].overwrite)
			for (j = 0; j < r->s.nfiles; j++)
				if (r->s.files[j].day == r->work[i].day)
					r->s.files[j].removed = true;
		rc = write_day(r, &r->work[i], err);
	}
out:
	exp_readers_end(r->readers, r->nreaders);
	r->readers = NULL;
	r->nreaders = 0;
	gpu_db_rollback(r->db);
	r->nnew = r->nfiles;
	return rc;
}

int
exp_run_table(sqlite3 *db, const struct exp_opts *o, const struct exp_table *t,
	      uint64_t *exported, struct gpu_err *err)
{
	struct run r;
	size_t i;
	bool removed = false;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.db = db;
	r.o = o;
	r.t = t;
	r.dims = &r.dims_store;
	r.ingest_col = -1;
	for (i = 0; i < t->schema.nfields; i++)
		if (strcmp(t->schema.fields[i].name, "ingest_id") == 0)
			r.ingest_col = (int)i;
	r.now = now_ms();
	r.ranged = o->from_ms != INT64_MIN || o->to_ms != INT64_MAX;
	gpu_buf_init(&r.dir);
	gpu_buf_init(&r.loc);
	gpu_buf_init(&r.schema_json);
	gpu_buf_addf(&r.dir, "%s/%s", o->lake, t->name);
	gpu_buf_addf(&r.loc, "file://%s", r.dir.data);
	lake_ice_schema_json(&r.schema_json, &t->schema);
	*exported = 0;
	if (exp_state_check_lake(db, o->lake, t, err) != 0)
		goto out;
	{
		struct gpu_buf md;

		gpu_buf_init(&md);
		gpu_buf_addf(&md, "%s/metadata", r.dir.data);
		rc = lake_mkdirs(md.data, err);
		gpu_buf_reset(&md);
		gpu_buf_addf(&md, "%s/data", r.dir.data);
		if (rc == 0)
			rc = lake_mkdirs(md.data, err);
		/* The new directories' entries, down from the lake. */
		if (rc == 0)
			rc = lake_fsync_dir(o->lake, err);
		if (rc == 0)
			rc = lake_fsync_dir(r.dir.data, err);
		gpu_buf_release(&md);
		if (rc != 0)
			goto out;
		rc = -1;
	}
	/* An interrupted commit, then an interrupted expiry's files. */
	if (exp_state_recover(db, o->lake, r.dir.data, t, o->verbose, err) <
		0 ||
	    exp_state_collect(db, o->lake, t, err) != 0 ||
	    exp_state_load(db, o->lake, t, &r.s, err) != 0)
		goto out;
	if (r.s.nversions == 0) {
		if (create_table(&r, err) != 0)
			goto out;
		exp_state_free(&r.s);
		if (exp_state_load(db, o->lake, t, &r.s, err) != 0)
			goto out;
	}
	r.snapshot = lake_random_id();
	r.seq = r.s.versions[r.s.nversions - 1].seq + 1;
	if (export_data(&r, err) != 0)
		goto out;
	for (i = 0; i < r.s.nfiles; i++)
		removed |= r.s.files[i].removed;
	if (r.nfiles == 0 && !removed) {
		const struct exp_version *cur =
		    &r.s.versions[r.s.nversions - 1];

		rc = 0;
		if (!r.ranged && r.watermark > cur->watermark)
			rc = exp_state_set_watermark(
			    db, o->lake, t, cur->version, r.watermark, err);
		goto out;
	}
	rc = snapshot(&r, err);
	if (rc == 0)
		*exported = r.rows;
	if (rc < 0)
		for (i = 0; i < r.nnew; i++)
			unlink(local(r.files[i].path));
	if (rc > 0)
		rc = -1; /* committed; the warehouse records it next run */
out:
	run_free(&r);
	return rc;
}
