/* SPDX-License-Identifier: MIT */
/* The rollup writer: dirty hours rebuilt from the facts, then their days. */
#include "gpu/rollup.h"

#include <stdlib.h>

#include "gpu/db.h"
#include "gpu/hrow.h"
#include "gpu/retention.h"

/* Whether dirty_hours has a row; -1 on error. */
static int
has_dirty(sqlite3 *db, struct gpu_err *err)
{
	sqlite3_stmt *st =
	    gpu_db_prepare(db, "SELECT 1 FROM dirty_hours LIMIT 1", err);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return gpu_db_error(db, err);
}

/*
 * Job owners of the dirty hours' facts, interned so that the scan can
 * resolve the effective owner to a key (gpu_pending replays it).
 */
static const char INTERN_SQL[] =
    "INSERT OR IGNORE INTO names_dim(name) " GPU_HROW_DIRTY_OWNERS_SQL;

/* Run a statement that takes one time bound and returns no rows. */
static int
step_one(sqlite3_stmt *st, int64_t t, struct gpu_err *err)
{
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, t);
	if (sqlite3_step(st) != SQLITE_DONE)
		return gpu_db_error(sqlite3_db_handle(st), err);
	return 0;
}

/* Insert or add a job row of a day (a gpu_hrow_fn; ctx: the statement). */
static int
put_job_day(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	return gpu_hrow_insert(ctx, GPU_ROLLUP_JOB_DAY, r, err);
}

/*
 * Summing the hour rows of one hour, in key order, into node rows and
 * owner rows: each is exactly the group a query by hour and node, or by
 * hour, user and project, builds from them (same rows, same order).
 */
struct gpu_rollup_fold {
	bool nodes; /* false: owner rows only */
	/*
	 * The hour's node rows, held to be written after its hour rows: the
	 * node table's leaves for one hour then lie in consecutive pages,
	 * which a reader takes in one read (written as each node ended, they
	 * would interleave with the hour rows' leaves). Hour rows come in key
	 * order, so a node's rows follow one another and each adds to the
	 * table's last row, without a lookup.
	 */
	struct gpu_hrows node_rows;
	struct gpu_hrows owners;
	struct gpu_hrow_batch *ins_node, *ins_owner;
	sqlite3_stmt *del_node, *del_owner;
};

static struct gpu_rollup_fold *
fold_new(sqlite3 *db, bool nodes, struct gpu_err *err)
{
	struct gpu_rollup_fold *f = gpu_xcalloc(1, sizeof(*f));

	f->nodes = nodes;
	gpu_hrows_init(&f->node_rows);
	gpu_hrows_init(&f->owners);
	if ((f->del_node = gpu_db_prepare(
		 db, "DELETE FROM usage_hourly_node WHERE hour_ms = ?", err)) ==
		NULL ||
	    (f->del_owner = gpu_db_prepare(
		 db, "DELETE FROM usage_hourly_owner WHERE hour_ms = ?",
		 err)) == NULL ||
	    (f->ins_node = gpu_hrow_batch_new(db, GPU_ROLLUP_NODE, err)) ==
		NULL ||
	    (f->ins_owner = gpu_hrow_batch_new(db, GPU_ROLLUP_OWNER, err)) ==
		NULL) {
		gpu_rollup_fold_free(f);
		return NULL;
	}
	return f;
}

struct gpu_rollup_fold *
gpu_rollup_fold_new(sqlite3 *db, struct gpu_err *err)
{
	return fold_new(db, true, err);
}

void
gpu_rollup_fold_free(struct gpu_rollup_fold *f)
{
	if (f == NULL)
		return;
	gpu_hrow_batch_free(f->ins_node);
	gpu_hrow_batch_free(f->ins_owner);
	sqlite3_finalize(f->del_node);
	sqlite3_finalize(f->del_owner);
	gpu_hrows_release(&f->node_rows);
	gpu_hrows_release(&f->owners);
	free(f);
}

int
gpu_rollup_fold_begin(struct gpu_rollup_fold *f, int64_t hour,
		      struct gpu_err *err)
{
	gpu_hrows_clear(&f->node_rows);
	gpu_hrows_clear(&f->owners);
	if (f->nodes && step_one(f->del_node, hour, err) != 0)
		return -1;
	return step_one(f->del_owner, hour, err);
}

/* Write rows (in key order) through batch. */
static int
fold_write(struct gpu_hrows *rows, struct gpu_hrow_batch *batch,
	   struct gpu_err *err)
{
	/* An hour with no rows: no qsort() of no list. */
	if (gpu_hrows_count(rows) > 0 &&
	    gpu_hrows_flush(rows, gpu_hrow_batch_row, batch, err) != 0)
		return -1;
	return gpu_hrow_batch_flush(batch, err);
}

int
gpu_rollup_fold_end(struct gpu_rollup_fold *f, struct gpu_err *err)
{
	if (f->nodes && fold_write(&f->node_rows, f->ins_node, err) != 0)
		return -1;
	return fold_write(&f->owners, f->ins_owner, err);
}

int
gpu_rollup_fold_row(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	struct gpu_rollup_fold *f = ctx;
	int64_t k[GPU_HK_N] = {0};

	(void)err; /* the rows are written by gpu_rollup_fold_end() */
	k[GPU_HK_TIME] = r->k[GPU_HK_TIME];
	k[GPU_HK_USER] = r->k[GPU_HK_USER];
	k[GPU_HK_PROJECT] = r->k[GPU_HK_PROJECT];
	gpu_hrows_add(&f->owners, k, &r->s, NULL);
	if (f->nodes) {
		k[GPU_HK_USER] = k[GPU_HK_PROJECT] = 0;
		k[GPU_HK_NODE] = r->k[GPU_HK_NODE];
		gpu_hrows_add(&f->node_rows, k, &r->s, NULL);
	}
	return 0;
}

/*
 * Rebuild usage_hourly_owner, and usage_hourly_node when nodes is true,
 * for the hours that hours_sql lists (one column, ascending), from their
 * usage_hourly rows; not those for which built(ctx, hour) says the
 * caller wrote them with their hour rows (built may be NULL).
 */
static int
rebuild_derived(sqlite3 *db, const char *hours_sql, bool nodes,
		gpu_rollup_built_fn *built, void *ctx, struct gpu_err *err)
{
	sqlite3_stmt *hours = gpu_db_prepare(db, hours_sql, err);
	struct gpu_rollup_fold *f = NULL;
	int rc = -1, step;

	if (hours == NULL || (f = fold_new(db, nodes, err)) == NULL)
		goto out;
	while ((step = sqlite3_step(hours)) == SQLITE_ROW) {
		int64_t h = sqlite3_column_int64(hours, 0);

		if (built != NULL && built(ctx, h))
			continue;
		if (gpu_rollup_fold_begin(f, h, err) != 0 ||
		    gpu_hrow_read(db, GPU_ROLLUP_HOURLY, h, h + GPU_HOUR_MS,
				  gpu_rollup_fold_row, f, err) != 0 ||
		    gpu_rollup_fold_end(f, err) != 0)
			goto out;
	}
	rc = step == SQLITE_DONE ? 0 : gpu_db_error(db, err);
out:
	sqlite3_finalize(hours);
	gpu_rollup_fold_free(f);
	return rc;
}

int
gpu_rollup_fill_owners(sqlite3 *db, struct gpu_err *err)
{
	return rebuild_derived(db,
			       "SELECT DISTINCT hour_ms FROM usage_hourly"
			       " ORDER BY hour_ms",
			       false, NULL, NULL, err);
}

/*
 * An hour row added to its day's row of usage_daily, and to the hour's
 * job rows, which the sink adds to usage_daily_job (a gpu_hrow_fn).
 */
struct add_day {
	sqlite3_stmt *st;
	int64_t day_ms;
	struct gpu_hrow_sink *job;
};

static int
add_day_row(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	const struct add_day *a = ctx;
	struct gpu_hrow d = *r;

	d.k[GPU_HK_TIME] = a->day_ms;
	if (gpu_hrow_insert(a->st, GPU_ROLLUP_DAILY, &d, err) != 0)
		return -1;
	return gpu_hrow_sink_hour(a->job, r, err);
}

/*
 * The dirty hours of day d, in order, into *hours (*n of them); whether
 * built() says every one's rows were written as new hours (later than
 * every other hour of the day: gpu/prebuild.h).
 */
static int
day_hours(sqlite3_stmt *st, int64_t d, gpu_rollup_built_fn *built, void *ctx,
	  int64_t **hours, size_t *n, size_t *cap, bool *all_built,
	  struct gpu_err *err)
{
	int rc;

	*n = 0;
	*all_built = built != NULL;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, d);
	sqlite3_bind_int64(st, 2, d + GPU_DAY_MS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t h = sqlite3_column_int64(st, 0);

		if (*n == *cap) {
			*cap = *cap == 0 ? 32 : *cap * 2;
			*hours =
			    gpu_xreallocarray(*hours, *cap, sizeof(**hours));
		}
		(*hours)[(*n)++] = h;
		if (*all_built && !built(ctx, h))
			*all_built = false;
	}
	if (rc != SQLITE_DONE)
		return gpu_db_error(sqlite3_db_handle(st), err);
	return 0;
}

/* The day tables, summed by a fold each (struct gpu_rollup_days). */
static const struct {
	enum gpu_rollup t;
	enum gpu_hrow_fold fold;
	const char *del;
} day_tables[] = {
    {GPU_ROLLUP_DAILY, GPU_FOLD_DAY,
     "DELETE FROM usage_daily WHERE day_ms = ?"},
    {GPU_ROLLUP_JOB_DAY, GPU_FOLD_JOB_DAY,
     "DELETE FROM usage_daily_job WHERE day_ms = ?"},
};
#define NDAY_TABLES (sizeof(day_tables) / sizeof(day_tables[0]))

struct gpu_rollup_days {
	struct gpu_hrow_sink sink[NDAY_TABLES];
	sqlite3_stmt *del[NDAY_TABLES];
	struct gpu_hrow_batch *ins[NDAY_TABLES];
};

struct gpu_rollup_days *
gpu_rollup_days_new(sqlite3 *db, struct gpu_err *err)
{
	struct gpu_rollup_days *w = gpu_xcalloc(1, sizeof(*w));

	for (size_t i = 0; i < NDAY_TABLES; i++) {
		w->ins[i] = gpu_hrow_batch_new(db, day_tables[i].t, err);
		gpu_hrow_sink_init(&w->sink[i], day_tables[i].fold,
				   gpu_hrow_batch_row, w->ins[i]);
		if (w->ins[i] == NULL ||
		    (w->del[i] = gpu_db_prepare(db, day_tables[i].del, err)) ==
			NULL) {
			gpu_rollup_days_free(w);
			return NULL;
		}
	}
	return w;
}

int
gpu_rollup_days_row(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	struct gpu_rollup_days *w = ctx;

	for (size_t i = 0; i < NDAY_TABLES; i++)
		if (gpu_hrow_sink_hour(&w->sink[i], r, err) != 0)
			return -1;
	return 0;
}

int
gpu_rollup_days_end(struct gpu_rollup_days *w, int64_t day, struct gpu_err *err)
{
	for (size_t i = 0; i < NDAY_TABLES; i++)
		if (step_one(w->del[i], day, err) != 0 ||
		    gpu_hrow_sink_flush(&w->sink[i], err) != 0 ||
		    gpu_hrow_batch_flush(w->ins[i], err) != 0)
			return -1;
	return 0;
}

void
gpu_rollup_days_clear(struct gpu_rollup_days *w)
{
	for (size_t i = 0; i < NDAY_TABLES; i++)
		gpu_hrow_sink_clear(&w->sink[i]);
}

void
gpu_rollup_days_free(struct gpu_rollup_days *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < NDAY_TABLES; i++) {
		gpu_hrow_sink_release(&w->sink[i]);
		sqlite3_finalize(w->del[i]);
		gpu_hrow_batch_free(w->ins[i]);
	}
	free(w);
}

/* Whether usage_daily holds rows of day d (any: its SELECT 1 statement). */
static int
day_stored(sqlite3_stmt *any, int64_t d, bool *yes, struct gpu_err *err)
{
	int rc;

	sqlite3_reset(any);
	sqlite3_bind_int64(any, 1, d);
	rc = sqlite3_step(any);
	*yes = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gpu_db_error(sqlite3_db_handle(any), err);
	return 0;
}

/*
 * Bring the day rows of usage_daily and usage_daily_job up to date for
 * the days of dirty hours: rebuilt from all the day's hour rows, or, when
 * every dirty hour of the day was built as new (so later than its other
 * hours) and the day has stored rows, each of those hours' rows added to
 * its stored day row, hour by hour, and the hour's job rows to the day's
 * (GPU_FOLD_JOB_DAY). Day rows sum their hours in hour order either way,
 * so both give the same doubles, and a batch touches the day rows of its
 * own hours only: a day's last batch costs what its first did. A day
 * whose rows the caller wrote (day()) is kept when every dirty hour of it
 * is built, and rebuilt otherwise.
 */
static int
rebuild_days(sqlite3 *db, gpu_rollup_built_fn *built, gpu_rollup_day_fn *day,
	     void *ctx, struct gpu_err *err)
{
	sqlite3_stmt *days = NULL, *dh = NULL, *any = NULL, *add_job = NULL;
	struct gpu_rollup_days *w = NULL;
	struct gpu_hrow_sink add_sink;
	struct add_day ad = {NULL, 0, &add_sink};
	int64_t *hours = NULL;
	size_t nh = 0, cap = 0;
	bool add;
	int rc = -1, step;

	days = gpu_db_prepare(db,
			      "SELECT DISTINCT hour_ms / 86400000 * 86400000"
			      " FROM dirty_hours ORDER BY 1",
			      err);
	if (days == NULL)
		goto out;
	w = gpu_rollup_days_new(db, err);
	ad.st = gpu_hrow_add_prepare(db, GPU_ROLLUP_DAILY, err);
	add_job = gpu_hrow_add_prepare(db, GPU_ROLLUP_JOB_DAY, err);
	dh = gpu_db_prepare(db,
			    "SELECT hour_ms FROM dirty_hours WHERE hour_ms >= ?"
			    " AND hour_ms < ? ORDER BY hour_ms",
			    err);
	any = gpu_db_prepare(db, "SELECT 1 FROM usage_daily WHERE day_ms = ?",
			     err);
	if (w == NULL || ad.st == NULL || add_job == NULL || dh == NULL ||
	    any == NULL)
		goto out;
	gpu_hrow_sink_init(&add_sink, GPU_FOLD_JOB_DAY, put_job_day, add_job);
	while ((step = sqlite3_step(days)) == SQLITE_ROW) {
		int64_t d = sqlite3_column_int64(days, 0);
		int r =
		    day_hours(dh, d, built, ctx, &hours, &nh, &cap, &add, err);
		enum gpu_rollup_day wr =
		    day != NULL ? day(ctx, d) : GPU_ROLLUP_DAY_NONE;

		if (r == 0 && add && wr == GPU_ROLLUP_DAY_WRITTEN)
			continue;
		if (wr != GPU_ROLLUP_DAY_NONE)
			add = false; /* the caller's rows: the day again */
		/*
		 * A day with no stored rows yet (a first load, a new day) is
		 * summed in memory and written once, however many hours.
		 */
		if (r == 0 && add)
			r = day_stored(any, d, &add, err);
		ad.day_ms = d;
		/* Each hour's job rows added before the next hour's. */
		for (size_t i = 0; r == 0 && add && i < nh; i++)
			if ((r = gpu_hrow_read(db, GPU_ROLLUP_HOURLY, hours[i],
					       hours[i] + GPU_HOUR_MS,
					       add_day_row, &ad, err)) == 0)
				r = gpu_hrow_sink_flush(&add_sink, err);
		if (r == 0 && !add &&
		    (r = gpu_hrow_read(db, GPU_ROLLUP_HOURLY, d, d + GPU_DAY_MS,
				       gpu_rollup_days_row, w, err)) == 0)
			r = gpu_rollup_days_end(w, d, err);
		if (r != 0)
			goto release;
	}
	rc = step == SQLITE_DONE ? 0 : gpu_db_error(db, err);
release:
	gpu_hrow_sink_release(&add_sink);
out:
	sqlite3_finalize(days);
	gpu_rollup_days_free(w);
	sqlite3_finalize(ad.st);
	sqlite3_finalize(add_job);
	sqlite3_finalize(any);
	sqlite3_finalize(dh);
	free(hours);
	return rc;
}

int
gpu_rollup_fill_job_days(sqlite3 *db, struct gpu_err *err)
{
	sqlite3_stmt *days = gpu_db_prepare(
	    db,
	    "SELECT DISTINCT hour_ms / 86400000 * 86400000 FROM usage_hourly"
	    " ORDER BY 1",
	    err);
	sqlite3_stmt *ins =
	    gpu_hrow_insert_prepare(db, GPU_ROLLUP_JOB_DAY, err);
	struct gpu_hrow_sink s;
	int rc = -1, step;

	gpu_hrow_sink_init(&s, GPU_FOLD_JOB_DAY, put_job_day, ins);
	if (days == NULL || ins == NULL)
		goto out;
	while ((step = sqlite3_step(days)) == SQLITE_ROW) {
		int64_t d = sqlite3_column_int64(days, 0);

		if (gpu_hrow_read(db, GPU_ROLLUP_HOURLY, d, d + GPU_DAY_MS,
				  gpu_hrow_sink_hour, &s, err) != 0 ||
		    gpu_hrow_sink_flush(&s, err) != 0)
			goto out;
	}
	rc = step == SQLITE_DONE ? 0 : gpu_db_error(db, err);
out:
	gpu_hrow_sink_release(&s);
	sqlite3_finalize(days);
	sqlite3_finalize(ins);
	return rc;
}

/*
 * Forget the dirty hours before the deletion horizon: their facts were
 * deleted (gpuingest --keep-raw), so their rollups are final and a
 * rebuild from the facts left would lose them. Packed hours are rebuilt
 * from their packed samples (gpu/pack.h).
 */
static int
drop_purged(sqlite3 *db, struct gpu_err *err)
{
	sqlite3_stmt *st;
	int64_t horizon;
	int rc;

	if (gpu_retention_deleted(db, &horizon, err) != 0)
		return -1;
	if (horizon == GPU_RETENTION_NONE)
		return 0;
	st = gpu_db_prepare(db, "DELETE FROM dirty_hours WHERE hour_ms < ?",
			    err);
	if (st == NULL)
		return -1;
	rc = step_one(st, horizon, err);
	sqlite3_finalize(st);
	return rc;
}

int
gpu_rollup_update(sqlite3 *db, size_t *hours, struct gpu_err *err)
{
	return gpu_rollup_update_built(db, NULL, NULL, NULL, hours, err);
}

int
gpu_rollup_update_built(sqlite3 *db, gpu_rollup_built_fn *built,
			gpu_rollup_day_fn *day, void *ctx, size_t *hours,
			struct gpu_err *err)
{
	sqlite3_stmt *dirty = NULL, *del = NULL;
	struct gpu_hrow_batch *ins = NULL;
	size_t n = 0;
	int rc = -1, step;

	if (hours != NULL)
		*hours = 0;
	if (drop_purged(db, err) != 0)
		return -1;
	if ((rc = has_dirty(db, err)) <= 0)
		return rc;
	rc = -1;
	if (gpu_db_exec(db, INTERN_SQL, err) != 0)
		return -1;
	dirty = gpu_db_prepare(
	    db, "SELECT hour_ms FROM dirty_hours ORDER BY hour_ms", err);
	if (dirty == NULL)
		goto out;
	del = gpu_db_prepare(db, "DELETE FROM usage_hourly WHERE hour_ms = ?",
			     err);
	if (del == NULL)
		goto out;
	ins = gpu_hrow_batch_new(db, GPU_ROLLUP_HOURLY, err);
	if (ins == NULL)
		goto out;
	while ((step = sqlite3_step(dirty)) == SQLITE_ROW) {
		int64_t h = sqlite3_column_int64(dirty, 0);

		if (built != NULL && built(ctx, h)) {
			n++;
			continue;
		}
		if (step_one(del, h, err) != 0 ||
		    gpu_hrow_scan(db, h, h + GPU_HOUR_MS,
				  GPU_DEFAULT_THRESHOLD_MIB, NULL,
				  gpu_hrow_batch_row, ins, err) != 0 ||
		    gpu_hrow_batch_flush(ins, err) != 0)
			goto out;
		n++;
	}
	if (step != SQLITE_DONE) {
		gpu_err_set(err, "database error: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (rebuild_derived(db,
			    "SELECT hour_ms FROM dirty_hours ORDER BY hour_ms",
			    true, built, ctx, err) != 0 ||
	    rebuild_days(db, built, day, ctx, err) != 0)
		goto out;
	rc = gpu_db_exec(db, "DELETE FROM dirty_hours", err);
	if (rc == 0 && hours != NULL)
		*hours = n;
out:
	sqlite3_finalize(dirty);
	sqlite3_finalize(del);
	gpu_hrow_batch_free(ins);
	return rc;
}

int
gpu_rollup_refresh(sqlite3 *db, size_t *hours, struct gpu_err *err)
{
	const char *path = sqlite3_db_filename(db, "main");
	int d = has_dirty(db, err);

	if (hours != NULL)
		*hours = 0;
	if (d <= 0)
		return d;
	if (gpu_db_begin(db, path != NULL ? path : "?", err) != 0)
		return -1;
	if (gpu_rollup_update(db, hours, err) != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	if (gpu_db_commit(db, err) != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	return 0;
}
