/* SPDX-License-Identifier: MIT */
/* gpubill's inputs: gpuagg's CSV (--input) or the warehouse (--db). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gpu/agg.h"
#include "gpu/query.h"
#include "gpu/db.h"
#include "gpu/diag.h"
#include "gpu/hashmap.h"
#include "gpu/money.h"
#include "gpu/num.h"
#include "gpu/table.h"
#include "gpu/time.h"
#include "gpubill.h"

/* Columns of gpuagg's CSV that gpubill reads. */
struct incols {
	int job, user, project, model, alloc, overage, gpu_seconds, bucket;
	int profile, alloc_hours, hours;
	enum gpu_period bucket_period;
};

static int
need_col(struct gpu_table *t, const char *name, const char *source,
	 struct gpu_err *err)
{
	int c = gpu_table_col(t, name);

	if (c < 0)
		gpu_err_at(err, source, 1, "missing column '%s'", name);
	return c;
}

/* The coarsest gpuagg period whose buckets tile [o->from, o->to). */
static const char *
finest_period(const struct opts *o)
{
	static const enum gpu_period ps[] = {GPU_PERIOD_MONTH, GPU_PERIOD_DAY};
	size_t i;

	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		if (gpu_period_start(ps[i], o->from) == o->from &&
		    gpu_period_start(ps[i], o->to) == o->to)
			return gpu_period_name(ps[i]);
	return gpu_period_name(GPU_PERIOD_HOUR);
}

static int
find_cols(struct gpu_table *t, const struct opts *o, const char *source,
	  struct incols *c, struct gpu_err *err)
{
	static const enum gpu_period ps[] = {GPU_PERIOD_HOUR, GPU_PERIOD_DAY,
					     GPU_PERIOD_WEEK, GPU_PERIOD_MONTH};
	size_t i;

	if ((c->job = need_col(t, "job_id", source, err)) < 0 ||
	    (c->alloc = need_col(t, "alloc_gpu_seconds", source, err)) < 0 ||
	    (c->overage = need_col(t, "mem_overage_mib_seconds", source, err)) <
		0)
		return -1;
	c->user = gpu_table_col(t, "user");
	c->project = gpu_table_col(t, "project");
	c->model = gpu_table_col(t, "model");
	c->profile = gpu_table_col(t, "profile");
	c->alloc_hours = gpu_table_col(t, "alloc_gpu_hours");
	c->hours = gpu_table_col(t, "gpu_hours");
	c->gpu_seconds = gpu_table_col(t, "gpu_seconds");
	if (o->share_idle && c->gpu_seconds < 0)
		return gpu_err_at(err, source, 1,
				  "missing column 'gpu_seconds' (needed by "
				  "--share-idle)");
	c->bucket = -1;
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		int k = gpu_table_col(t, gpu_period_name(ps[i]));

		if (k >= 0) {
			c->bucket = k;
			c->bucket_period = ps[i];
		}
	}
	if (o->mode == MODE_FIXED && o->has_range && c->bucket < 0)
		return gpu_err_at(err, source, 1,
				  "no bucket column (hour, day, week or "
				  "month) to bill only %s; aggregate with "
				  "'gpuagg --period %s'",
				  o->label, finest_period(o));
	if (o->mode == MODE_MONTHLY && c->bucket < 0)
		return gpu_err_at(err, source, 1,
				  "--period month needs a bucket column "
				  "(hour, day, week or month) in the input");
	return 0;
}

static struct gpu_str
field(const struct gpu_row *row, int col)
{
	struct gpu_str none = {"", 0};

	if (col < 0 || (size_t)col >= row->nfields || !row->present[col])
		return none;
	return row->fields[col];
}

/*
 * Do a row's hours (col: alloc_gpu_hours, gpu_hours) and its seconds
 * (alloc_gpu_seconds, gpu_seconds) agree, as they do when no MIG slice,
 * counted at its share in the hours, is in it?
 */
static bool
whole_gpus(const struct gpu_row *row, int col, int64_t seconds)
{
	struct gpu_str v = field(row, col);
	double h;

	if (v.len == 0 || gpu_num_parse_double(v.p, v.len, &h) != 0)
		return true;
	return fabs(h * 3600 - (double)seconds) < 0.01;
}

static int
int_field(const struct gpu_row *row, int col, const char *name,
	  const char *source, int64_t *v, struct gpu_err *err)
{
	struct gpu_str f = field(row, col);

	if (gpu_num_parse_i64(f.p, f.len, v) != 0 || *v < 0)
		return gpu_err_at(err, source, row->line,
				  "invalid integer '%.*s' in column '%s'",
				  (int)(f.len > 64 ? 64 : f.len), f.p, name);
	return 0;
}

/*
 * Where a row goes: fills label and rank, or returns 1 to skip the row
 * (its bucket lies outside the period) or -1 on an error.
 */
static int
row_period(const struct opts *o, const struct incols *c,
	   const struct gpu_row *row, const char *source, char *label,
	   size_t size, int64_t *rank, struct gpu_err *err)
{
	struct gpu_str b = field(row, c->bucket);
	int64_t start, next;

	*rank = 0;
	if (c->bucket < 0) {
		snprintf(label, size, "%s",
			 o->mode == MODE_FIXED ? o->label : "all");
		return 0;
	}
	if (gpu_period_label_parse(c->bucket_period, b.p, b.len, &start) != 0)
		return gpu_err_at(err, source, row->line,
				  "invalid %s label '%.*s'",
				  gpu_period_name(c->bucket_period),
				  (int)(b.len > 64 ? 64 : b.len), b.p);
	next = gpu_period_next(c->bucket_period, start);
	*rank = start;
	switch (o->mode) {
	case MODE_FIXED:
		if (!o->has_range || (start >= o->from && next <= o->to)) {
			snprintf(label, size, "%s", o->label);
			return 0;
		}
		if (next <= o->from || start >= o->to)
			return 1;
		break;
	case MODE_BUCKET:
		snprintf(label, size, "%.*s", (int)b.len, b.p);
		return 0;
	case MODE_MONTHLY:
		if (gpu_period_start(GPU_PERIOD_MONTH, start) ==
		    gpu_period_start(GPU_PERIOD_MONTH, next - 1)) {
			gpu_period_label(GPU_PERIOD_MONTH, start, label);
			return 0;
		}
		break;
	}
	return gpu_err_at(err, source, row->line,
			  "%s '%.*s' straddles the billing period; aggregate "
			  "with a finer --period",
			  gpu_period_name(c->bucket_period), (int)b.len, b.p);
}

static bool
is_regular(FILE *fp)
{
	struct stat sb;

	return fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode);
}

int
bill_read_input(struct gpu_bill *bill, const struct opts *o,
		const struct gpu_rates *r, struct gpu_hashmap *known,
		struct gpu_err *err)
{
	bool is_stdin = strcmp(o->input, "-") == 0;
	const char *source = is_stdin ? "<stdin>" : o->input;
	struct gpu_table_opts topts = {.format = GPU_FMT_CSV};
	struct gpu_table *t = NULL;
	FILE *fp = is_stdin ? stdin : fopen(o->input, "r");
	struct gpu_row row;
	struct incols c = {-1, -1, -1, -1, -1, -1,
			   -1, -1, -1, -1, -1, GPU_PERIOD_ALL};
	long last = 1;
	int rc = -1, n;

	if (fp == NULL)
		return gpu_err_set(err, "cannot open '%s': %s", o->input,
				   strerror(errno));
	t = gpu_table_new(fp, source, &topts, err);
	if (t == NULL || find_cols(t, o, source, &c, err) != 0)
		goto out;
	if (c.model < 0 && r->nmodels > 0)
		gpu_warn("%s: no 'model' column: all GPU time is billed at "
			 "gpu_hourly_rate (aggregate with --by job,model)",
			 source);
	while ((n = gpu_table_next(t, &row, err)) == 1) {
		struct gpu_bill_usage u;
		char label[80];
		int k;

		last = row.line;
		if (row.bad != NULL) {
			gpu_err_at(err, source, row.line, "%s", row.bad);
			goto out;
		}
		if (o->user != NULL || o->project != NULL) {
			struct gpu_str nm =
			    field(&row, o->user != NULL ? c.user : c.project);

			gpu_hashmap_put(known, nm.p, nm.len, NULL);
		}
		k = row_period(o, &c, &row, source, label, sizeof(label),
			       &u.owner_rank, err);
		if (k < 0)
			goto out;
		if (k > 0)
			continue;
		u.period = label;
		u.job_id = field(&row, c.job);
		u.user = field(&row, c.user);
		u.project = field(&row, c.project);
		u.model = field(&row, c.model);
		u.profile = field(&row, c.profile);
		u.share28 = 0;
		if (u.profile.len > 0 &&
		    gpu_mig_share(u.profile, u.model, &u.share28) != 0) {
			gpu_err_at(err, source, row.line,
				   "unknown MIG profile '%.*s'",
				   (int)u.profile.len, u.profile.p);
			goto out;
		}
		if (int_field(&row, c.alloc, "alloc_gpu_seconds", source,
			      &u.alloc_seconds, err) != 0 ||
		    int_field(&row, c.overage, "mem_overage_mib_seconds",
			      source, &u.overage, err) != 0)
			goto out;
		u.gpu_seconds = u.alloc_seconds;
		if (c.gpu_seconds >= 0 &&
		    int_field(&row, c.gpu_seconds, "gpu_seconds", source,
			      &u.gpu_seconds, err) != 0)
			goto out;
		/* Idle slices show in gpu_hours, which --share-idle bills. */
		if (c.profile < 0 &&
		    ((c.alloc_hours >= 0 &&
		      !whole_gpus(&row, c.alloc_hours, u.alloc_seconds)) ||
		     (o->share_idle && c.gpu_seconds >= 0 && c.hours >= 0 &&
		      !whole_gpus(&row, c.hours, u.gpu_seconds)))) {
			gpu_err_at(err, source, row.line,
				   "the row counts MIG slices at their share: "
				   "bill them from 'gpuagg --by "
				   "job,model,profile'");
			goto out;
		}
		if (u.gpu_seconds < u.alloc_seconds) {
			gpu_err_at(err, source, row.line,
				   "alloc_gpu_seconds exceeds gpu_seconds");
			goto out;
		}
		if (gpu_bill_add(bill, &u, err) != 0) {
			err->line = row.line;
			goto out;
		}
	}
	/*
	 * Only a pipe (or socket, or terminal) can be cut short by its
	 * producer; a regular file without a final newline is an edited one.
	 */
	if (n == 0 && !gpu_table_ends_in_newline(t) && !is_regular(fp))
		gpu_err_at(err, source, last,
			   "input ends without a final newline: the producer "
			   "may have been cut short");
	else if (n == 0)
		rc = 0;
out:
	gpu_table_free(t);
	if (!is_stdin)
		fclose(fp);
	return rc;
}

/*
 * Put the warehouse's names of users (or projects) into known. The daily
 * rollup is small and holds every owner the writers have rolled up.
 */
static int
known_names(sqlite3 *db, const struct opts *o, struct gpu_hashmap *known,
	    struct gpu_err *err)
{
	const char *sql =
	    o->user != NULL ? "SELECT name FROM names_dim WHERE name_key IN "
			      "(SELECT DISTINCT user_key FROM usage_daily)"
			    : "SELECT name FROM names_dim WHERE name_key IN "
			      "(SELECT DISTINCT project_key FROM usage_daily)";
	sqlite3_stmt *st = NULL;
	int rc;

	if (o->user == NULL && o->project == NULL)
		return 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return gpu_err_set(err, "cannot list names: %s",
				   sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *p = sqlite3_column_text(st, 0);

		if (p != NULL)
			gpu_hashmap_put(known, p,
					(size_t)sqlite3_column_bytes(st, 0),
					NULL);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return gpu_err_set(err, "cannot list names: %s",
				   sqlite3_errmsg(db));
	return 0;
}

int
bill_read_db(struct gpu_bill *bill, const struct opts *o,
	     const struct gpu_rates *r, struct gpu_hashmap *known,
	     struct gpu_err *err)
{
	const char *path = gpu_db_path(o->db);
	struct gpu_db_opts dopts = {.readonly = true,
				    .lock_timeout_ms = GPU_DB_LOCK_TIMEOUT_MS};
	struct gpu_agg_query q;
	struct gpu_agg *a = NULL;
	sqlite3 *db = NULL;
	char msg[sizeof(err->msg)];
	int rc = gpu_db_open(path, &dopts, &db, err);

	if (rc == GPU_DB_OUTDATED) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return gpu_err_set(err, "%s: run gpuingest on it", msg);
	}
	if (rc != 0)
		return -1;
	rc = -1;
	gpu_agg_query_init(&q);
	q.period = GPU_PERIOD_ALL;
	q.dims = GPU_DIM_JOB | GPU_DIM_MODEL | GPU_DIM_PROFILE;
	q.from_ms = o->has_range ? o->from : INT64_MIN;
	q.to_ms = o->has_range ? o->to : INT64_MAX;
	q.threshold_mib = gpu_rates_threshold_mib(r);
	if (known_names(db, o, known, err) != 0 ||
	    gpu_query_run(db, &q, &a, err) != 0 ||
	    gpu_bill_add_agg(bill, a, o->label, err) != 0)
		goto out;
	rc = 0;
out:
	gpu_agg_free(a);
	if (gpu_db_close(db, rc == 0 ? err : NULL) != 0)
		rc = -1;
	return rc;
}
