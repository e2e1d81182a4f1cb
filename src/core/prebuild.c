/* SPDX-License-Identifier: MIT */
/* Hourly rollup rows summed as new facts load (gpu/prebuild.h). */
#include "gpu/prebuild.h"

#include <string.h>

#include "gpu/db.h"
#include "gpu/time.h"

/* What became of an hour the load wrote facts into. */
enum state {
	OPEN,	 /* summed in memory, in open[] */
	WRITTEN, /* its usage_hourly rows are written */
	OFF	 /* the refresh reads its facts */
};

/* What became of a day the load wrote hours of (days). */
enum day_state {
	DAY_SUMMING = 1, /* p->day_ms, its rows in p->day */
	DAY_WRITTEN,	 /* its usage_daily rows are written */
	DAY_STALE	 /* the refresh sums it again */
};

void
gpu_prebuild_init(struct gpu_prebuild *p, sqlite3 *db, int64_t fresh_from,
		  gpu_owner_fn *owner, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->db = db;
	p->fresh_from = fresh_from;
	p->owner = owner;
	p->owner_ctx = ctx;
	gpu_hashmap_init(&p->state);
	for (int i = 0; i < GPU_PREBUILD_OPEN; i++)
		gpu_hrows_init(&p->open[i].rows);
	gpu_hashmap_init(&p->days);
}

void
gpu_prebuild_release(struct gpu_prebuild *p)
{
	gpu_hashmap_release(&p->state);
	for (int i = 0; i < GPU_PREBUILD_OPEN; i++)
		gpu_hrows_release(&p->open[i].rows);
	sqlite3_finalize(p->del);
	gpu_hrow_batch_free(p->ins);
	p->del = NULL;
	p->ins = NULL;
	gpu_rollup_fold_free(p->fold);
	p->fold = NULL;
	gpu_hashmap_release(&p->days);
	gpu_rollup_days_free(p->day);
	p->day = NULL;
}

/* The day of an hour, as the day rows have it. */
static int64_t
day_of(int64_t hour)
{
	return gpu_period_start(GPU_PERIOD_DAY, hour);
}

/* The state slot of day d, added as 0 when new (*added says so). */
static uint64_t *
day_slot(struct gpu_prebuild *p, int64_t d, bool *added)
{
	return &gpu_hashmap_at(&p->days,
			       gpu_hashmap_put(&p->days, &d, sizeof(d), added))
		    ->val;
}

/* Day d's rows would not hold its hours: the refresh sums it again. */
static void
day_stale(struct gpu_prebuild *p, int64_t d)
{
	if (d < p->fresh_from)
		return; /* never summed here */
	*day_slot(p, d, NULL) = DAY_STALE;
	if (p->summing && p->day_ms == d) {
		p->summing = p->feeding = false;
		gpu_rollup_days_clear(p->day);
	}
}

/* Write the rows of the day summed (its stored rows replaced). */
static int
day_write(struct gpu_prebuild *p, struct gpu_err *err)
{
	p->summing = p->feeding = false;
	if (gpu_rollup_days_end(p->day, p->day_ms, err) != 0)
		return -1;
	*day_slot(p, p->day_ms, NULL) = DAY_WRITTEN;
	return 0;
}

/*
 * Hour is about to be written: whether its rows go to its day's sums
 * (p->feeding). A day is summed from its first hour written on, while
 * its hours come in order; a day before fresh_from never is.
 */
static int
day_hour(struct gpu_prebuild *p, int64_t hour, struct gpu_err *err)
{
	int64_t d = day_of(hour);
	uint64_t *st;
	bool added;

	p->feeding = false;
	if (p->summing && p->day_ms != d && day_write(p, err) != 0)
		return -1;
	if (d < p->fresh_from)
		return 0;
	st = day_slot(p, d, &added);
	if (added) {
		if (p->day == NULL &&
		    (p->day = gpu_rollup_days_new(p->db, err)) == NULL)
			return -1;
		*st = DAY_SUMMING;
		p->summing = p->feeding = true;
		p->day_ms = d;
		p->day_last = hour;
		return 0;
	}
	if (*st == DAY_WRITTEN)
		*st = DAY_STALE; /* an hour after its rows */
	if (*st != DAY_SUMMING)
		return 0;
	if (hour <= p->day_last) {
		day_stale(p, d); /* out of order: the sums would differ */
		return 0;
	}
	p->day_last = hour;
	p->feeding = true;
	return 0;
}

/* The state slot of hour, or NULL when the load has not built it. */
static uint64_t *
state_of(struct gpu_prebuild *p, int64_t hour)
{
	size_t i = gpu_hashmap_find(&p->state, &hour, sizeof(hour));

	return i == GPU_HASHMAP_NONE ? NULL
				     : &gpu_hashmap_at(&p->state, i)->val;
}

/* Drop open hour i (its rows' memory is kept for the next hour). */
static void
close_open(struct gpu_prebuild *p, int i)
{
	struct gpu_hrows rows = p->open[i].rows;

	gpu_hrows_clear(&rows);
	p->open[i] = p->open[p->nopen - 1];
	p->open[p->nopen - 1].rows = rows;
	p->nopen--;
}

static int
open_index(const struct gpu_prebuild *p, int64_t hour)
{
	for (int i = 0; i < p->nopen; i++)
		if (p->open[i].hour == hour)
			return i;
	return -1;
}

void
gpu_prebuild_off(struct gpu_prebuild *p, int64_t hour)
{
	uint64_t *st = state_of(p, hour);
	int i;

	day_stale(p, day_of(hour));
	if (st == NULL || *st == OFF)
		return;
	if (*st == OPEN && (i = open_index(p, hour)) >= 0)
		close_open(p, i);
	*st = OFF;
}

void
gpu_prebuild_owners_changed(struct gpu_prebuild *p)
{
	size_t n = gpu_hashmap_count(&p->state);

	if (!p->written)
		return;
	for (size_t i = 0; i < n; i++) {
		struct gpu_hashmap_ent *e = gpu_hashmap_at(&p->state, i);

		if (e->val == WRITTEN)
			e->val = OFF;
	}
	p->written = false;
	/* Their days' rows too. */
	n = gpu_hashmap_count(&p->days);
	for (size_t i = 0; i < n; i++)
		gpu_hashmap_at(&p->days, i)->val = DAY_STALE;
	p->summing = p->feeding = false;
	if (p->day != NULL)
		gpu_rollup_days_clear(p->day);
}

/* Write an hour row and fold it into its node and owner rows. */
static int
insert_hour(void *ctx, const struct gpu_hrow *r, struct gpu_err *err)
{
	struct gpu_prebuild *p = ctx;

	if (gpu_hrow_batch_put(p->ins, r, err) != 0 ||
	    gpu_rollup_fold_row(p->fold, r, err) != 0)
		return -1;
	return p->feeding ? gpu_rollup_days_row(p->day, r, err) : 0;
}

/*
 * Resolve the owners of open hour i as the fact scan does (the sample's,
 * else its job record's) into out; false when two groups then meet (their
 * sums would add in another order than the scan's: the hour is read).
 */
static int
resolve(struct gpu_prebuild *p, int i, struct gpu_hrows *out, bool *ok,
	struct gpu_err *err)
{
	struct gpu_hrows *in = &p->open[i].rows;
	size_t n = gpu_hrows_count(in);

	*ok = true;
	for (size_t j = 0; j < n; j++) {
		struct gpu_hrow *r = &in->rows[j], *o;
		int64_t k[GPU_HK_N], user = 0, project = 0;
		bool created;

		memcpy(k, r->k, sizeof(k));
		if (k[GPU_HK_JOB] != 0 &&
		    (k[GPU_HK_USER] == 0 || k[GPU_HK_PROJECT] == 0)) {
			if (p->owner(p->owner_ctx, k[GPU_HK_JOB], &user,
				     &project, err) != 0)
				return -1;
			if (k[GPU_HK_USER] == 0)
				k[GPU_HK_USER] = user;
			if (k[GPU_HK_PROJECT] == 0)
				k[GPU_HK_PROJECT] = project;
		}
		o = gpu_hrows_put(out, k, &created);
		if (!created) {
			*ok = false;
			return 0;
		}
		o->s = r->s;
	}
	return 0;
}

/* Write open hour i to usage_hourly (or turn it off), and close it. */
static int
write_open(struct gpu_prebuild *p, int i, struct gpu_err *err)
{
	int64_t hour = p->open[i].hour;
	struct gpu_hrows out;
	bool ok;
	int rc = -1;

	if (p->del == NULL) {
		p->del = gpu_db_prepare(
		    p->db, "DELETE FROM usage_hourly WHERE hour_ms = ?", err);
		if (p->del == NULL)
			return -1;
	}
	if (p->ins == NULL) {
		p->ins = gpu_hrow_batch_new(p->db, GPU_ROLLUP_HOURLY, err);
		if (p->ins == NULL)
			return -1;
	}
	if (p->fold == NULL &&
	    (p->fold = gpu_rollup_fold_new(p->db, err)) == NULL)
		return -1;
	gpu_hrows_init(&out);
	if (resolve(p, i, &out, &ok, err) != 0)
		goto out;
	if (ok) {
		if (day_hour(p, hour, err) != 0)
			goto out;
		sqlite3_reset(p->del);
		sqlite3_bind_int64(p->del, 1, hour);
		if (sqlite3_step(p->del) != SQLITE_DONE) {
			gpu_db_error(p->db, err);
			goto out;
		}
		/* In key order, as the refresh would read them back. */
		if (gpu_rollup_fold_begin(p->fold, hour, err) != 0 ||
		    gpu_hrows_flush(&out, insert_hour, p, err) != 0 ||
		    gpu_hrow_batch_flush(p->ins, err) != 0 ||
		    gpu_rollup_fold_end(p->fold, err) != 0)
			goto out;
		p->written = true;
	}
	*state_of(p, hour) = ok ? WRITTEN : OFF;
	if (!ok)
		day_stale(p, day_of(hour)); /* read from its facts */
	p->feeding = false;
	close_open(p, i);
	rc = 0;
out:
	gpu_hrows_release(&out);
	return rc;
}

int
gpu_prebuild_add(struct gpu_prebuild *p, const int64_t *k,
		 const struct gpu_sample *smp, struct gpu_prebuild_hint *hint,
		 bool *built, struct gpu_err *err)
{
	int64_t hour = k[GPU_HK_TIME];
	struct gpu_hrows *rows;
	struct gpu_hrow *r;
	uint64_t *st;
	bool added, created;
	int i;

	*built = false;
	if (hour < p->fresh_from)
		return 0;
	st = &gpu_hashmap_at(&p->state, gpu_hashmap_put(&p->state, &hour,
							sizeof(hour), &added))
		  ->val;
	if (added) {
		*st = OPEN;
		if (p->nopen == GPU_PREBUILD_OPEN) {
			int old = 0;

			for (int j = 1; j < p->nopen; j++)
				if (p->open[j].hour < p->open[old].hour)
					old = j;
			if (write_open(p, old, err) != 0)
				return -1;
		}
		p->open[p->nopen].hour = hour;
		p->open[p->nopen++].gen = ++p->gen;
	} else if (*st != OPEN) {
		/* A new fact in an hour already written: read it again. */
		gpu_prebuild_off(p, hour);
		return 0;
	}
	i = open_index(p, hour);
	rows = &p->open[i].rows;
	if (hint != NULL && hint->gen == p->open[i].gen &&
	    hint->row < gpu_hrows_count(rows) &&
	    memcmp(rows->rows[hint->row].k, k, sizeof(rows->rows->k)) == 0) {
		r = &rows->rows[hint->row];
		created = false;
	} else {
		r = gpu_hrows_put(rows, k, &created);
		if (hint != NULL) {
			hint->gen = p->open[i].gen;
			hint->row = (size_t)(r - rows->rows);
		}
	}
	if (!created && smp->ts_ms <= r->s.last_ms) {
		/* Out of time order within a group: sums would differ. */
		gpu_prebuild_off(p, hour);
		return 0;
	}
	gpu_sums_add(&r->s, smp, 0, GPU_DEFAULT_THRESHOLD_MIB);
	*built = true;
	return 0;
}

int
gpu_prebuild_finish(struct gpu_prebuild *p, struct gpu_err *err)
{
	while (p->nopen > 0) {
		int old = 0;

		/* Oldest first: a day's hours are summed in order. */
		for (int j = 1; j < p->nopen; j++)
			if (p->open[j].hour < p->open[old].hour)
				old = j;
		if (write_open(p, old, err) != 0)
			return -1;
	}
	return p->summing ? day_write(p, err) : 0;
}

bool
gpu_prebuild_built(void *ctx, int64_t hour)
{
	struct gpu_prebuild *p = ctx;
	uint64_t *st = state_of(p, hour);

	return st != NULL && *st == WRITTEN;
}

enum gpu_rollup_day
gpu_prebuild_day(struct gpu_prebuild *p, int64_t day)
{
	size_t i = gpu_hashmap_find(&p->days, &day, sizeof(day));

	if (i == GPU_HASHMAP_NONE)
		return GPU_ROLLUP_DAY_NONE;
	return gpu_hashmap_at(&p->days, i)->val == DAY_WRITTEN
		   ? GPU_ROLLUP_DAY_WRITTEN
		   : GPU_ROLLUP_DAY_STALE;
}
