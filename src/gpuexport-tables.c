/* SPDX-License-Identifier: MIT */
/* gpuexport: the exported tables, their Iceberg schemas and row sources. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/db.h"
#include "gpu/pack.h"
#include "gpuexport.h"

#define DAY_MS INT64_C(86400000)

/*
 * Field ids follow the warehouse's column order and never change: a column
 * the warehouse lacks (job_src before schema version 4) is exported as
 * NULL, so that one lake table serves warehouses of every version.
 */
static const struct lake_field fact_fields[] = {
    {"ts", 1, LAKE_TIMESTAMPTZ, true},
    {"node", 2, LAKE_STRING, true},
    {"gpu", 3, LAKE_INT, true},
    {"util_pct", 4, LAKE_DOUBLE, true},
    {"mem_used_mib", 5, LAKE_LONG, true},
    {"mem_total_mib", 6, LAKE_LONG, false},
    {"job_id", 7, LAKE_STRING, false},
    {"user", 8, LAKE_STRING, false},
    {"project", 9, LAKE_STRING, false},
    {"model", 10, LAKE_STRING, false},
    {"interval_s", 11, LAKE_INT, true},
    {"ingest_id", 12, LAKE_LONG, true},
    {"power_w", 13, LAKE_DOUBLE, false},
    {"temp_c", 14, LAKE_DOUBLE, false},
    {"job_src", 15, LAKE_INT, false},
    /* MIG slices (schema version 6): NULL, NULL and 1 for a whole GPU. */
    {"mig", 16, LAKE_INT, false},
    {"mig_profile", 17, LAKE_STRING, false},
    {"gpu_share", 18, LAKE_DOUBLE, true},
};
static const unsigned char fact_kinds[] = {
    EXP_RAW, EXP_NODE, EXP_RAW,	 EXP_RAW,  EXP_RAW,  EXP_RAW,
    EXP_JOB, EXP_NAME, EXP_NAME, EXP_NAME, EXP_RAW,  EXP_RAW,
    EXP_RAW, EXP_RAW,  EXP_RAW,	 EXP_MIG,  EXP_NAME, EXP_SHARE28};

/*
 * mig and share28 are read as stored and converted as they are read (as
 * CAST(nullif(mig, '') AS INTEGER) and coalesce(share28, 28) / 28.0 would):
 * two expressions less for SQLite to evaluate per row.
 */
#define FACT_COLS                                                              \
	"SELECT ts_ms, node_id, gpu, util_pct, mem_used_mib, mem_total_mib,"   \
	" job_key, user_key, project_key, model_key, interval_s, ingest_id,"   \
	" power_w, temp_c, @JOB_SRC@, mig, profile_key, share28"               \
	" FROM gpu_usage_fact_rows"                                            \
	" WHERE ts_ms >= ?1 AND ts_ms < ?2"

/* FACT_COLS' columns, as gpu_usage_fact_rows names them. */
static const char *const fact_page_cols[] = {
    "ts_ms",	     "node_id",	    "gpu",	"util_pct",    "mem_used_mib",
    "mem_total_mib", "job_key",	    "user_key", "project_key", "model_key",
    "interval_s",    "ingest_id",   "power_w",	"temp_c",      "job_src",
    "mig",	     "profile_key", "share28"};
_Static_assert(sizeof(fact_page_cols) / sizeof(fact_page_cols[0]) ==
		   sizeof(fact_fields) / sizeof(fact_fields[0]),
	       "a page column for each exported field");

static const struct lake_field hourly_fields[] = {
    {"hour_start", 1, LAKE_TIMESTAMPTZ, true},
    {"node", 2, LAKE_STRING, true},
    {"gpu", 3, LAKE_INT, true},
    {"job_id", 4, LAKE_STRING, false},
    {"user", 5, LAKE_STRING, false},
    {"project", 6, LAKE_STRING, false},
    {"model", 7, LAKE_STRING, false},
    {"samples", 8, LAKE_LONG, true},
    {"gpu_seconds", 9, LAKE_LONG, true},
    {"alloc_seconds", 10, LAKE_LONG, true},
    {"busy", 11, LAKE_DOUBLE, true},
    {"alloc_busy", 12, LAKE_DOUBLE, true},
    {"idle_seconds", 13, LAKE_LONG, true},
    {"mem_used_s", 14, LAKE_LONG, true},
    {"max_mem", 15, LAKE_LONG, true},
    {"mem_util_s", 16, LAKE_DOUBLE, true},
    {"mem_util_seconds", 17, LAKE_LONG, true},
    {"power_s", 18, LAKE_DOUBLE, true},
    {"power_seconds", 19, LAKE_LONG, true},
    {"overage", 20, LAKE_LONG, true},
    {"last_ts", 21, LAKE_TIMESTAMPTZ, true},
    /*
     * MIG slices (schema version 6): the instance (NULL: a whole GPU),
     * its profile, and GPU time counting a slice at its share, in 28ths
     * of a GPU-second.
     */
    {"mig", 22, LAKE_INT, false},
    {"mig_profile", 23, LAKE_STRING, false},
    {"gpu_w", 24, LAKE_LONG, true},
    {"alloc_w", 25, LAKE_LONG, true},
};
static const unsigned char hourly_kinds[] = {
    EXP_RAW, EXP_NODE, EXP_RAW, EXP_JOB, EXP_NAME, EXP_NAME, EXP_NAME,
    EXP_RAW, EXP_RAW,  EXP_RAW, EXP_RAW, EXP_RAW,  EXP_RAW,  EXP_RAW,
    EXP_RAW, EXP_RAW,  EXP_RAW, EXP_RAW, EXP_RAW,  EXP_RAW,  EXP_RAW,
    EXP_RAW, EXP_NAME, EXP_RAW, EXP_RAW};

#define SUMS                                                                   \
	" node_id, gpu, job_key, user_key, project_key, model_key, samples,"   \
	" gpu_seconds, alloc_seconds, busy, alloc_busy, idle_seconds,"         \
	" mem_used_s, max_mem, mem_util_s, mem_util_seconds, power_s,"         \
	" power_seconds, overage, last_ms, nullif(mig, -1), profile_key,"      \
	" gpu_w, alloc_w"
#define SUMS_ORDER                                                             \
	" node_id, gpu, mig, job_key, user_key, project_key, model_key,"       \
	" profile_key"

static const struct lake_field job_fields[] = {
    {"job_id", 1, LAKE_STRING, true},
    {"user", 2, LAKE_STRING, false},
    {"project", 3, LAKE_STRING, false},
    {"first_sample", 4, LAKE_TIMESTAMPTZ, false},
    {"last_sample", 5, LAKE_TIMESTAMPTZ, false},
    {"gpu_count", 6, LAKE_INT, false},
    {"start_time", 7, LAKE_TIMESTAMPTZ, false},
    {"end_time", 8, LAKE_TIMESTAMPTZ, false},
};
static const unsigned char job_kinds[] = {EXP_RAW, EXP_RAW, EXP_RAW, EXP_RAW,
					  EXP_RAW, EXP_RAW, EXP_RAW, EXP_RAW};

#define JOBS_SQL                                                               \
	"SELECT job_id, user, project, first_sample_ms, last_sample_ms,"       \
	" gpu_count, start_ms, end_ms FROM jobs_dim WHERE ?1 <= ?2"            \
	" ORDER BY job_key"

/*
 * gpubill's job lines, one month per partition (month(period_start)):
 * money as decimal(18,2), exactly the cents gpubill prints.
 */
static const struct lake_field bill_fields[] = {
    {"period", 1, LAKE_STRING, true},
    {"period_start", 2, LAKE_DATE, true},
    {"job_id", 3, LAKE_STRING, true},
    {"user", 4, LAKE_STRING, false},
    {"project", 5, LAKE_STRING, false},
    {"alloc_gpu_seconds", 6, LAKE_LONG, true},
    {"mem_overage_mib_seconds", 7, LAKE_LONG, true},
    {"gpu_charge", 8, LAKE_DECIMAL, true},
    {"mem_charge", 9, LAKE_DECIMAL, true},
    {"overhead", 10, LAKE_DECIMAL, true},
    {"total", 11, LAKE_DECIMAL, true},
    {"currency", 12, LAKE_STRING, true},
};
static const unsigned char bill_kinds[] = {EXP_RAW, EXP_RAW, EXP_RAW, EXP_RAW,
					   EXP_RAW, EXP_RAW, EXP_RAW, EXP_RAW,
					   EXP_RAW, EXP_RAW, EXP_RAW, EXP_RAW};

/* Months since 1970-01 of a day_ms. */
#define MONTH_OF(ms)                                                           \
	"(CAST(strftime('%Y', " ms " / 1000, 'unixepoch') AS INTEGER) - 1970)" \
	" * 12 + CAST(strftime('%m', " ms " / 1000, 'unixepoch') AS INTEGER)"  \
	" - 1"

const struct exp_table exp_tables[] = {
    {"gpu_usage_fact",
     {fact_fields, sizeof(fact_fields) / sizeof(fact_fields[0]), 1, false},
     EXP_BY_INGEST,
     fact_kinds,
     FACT_COLS " ORDER BY ts_ms, node_id, gpu, mig",
     FACT_COLS " AND ingest_id > ?3 ORDER BY ts_ms, node_id, gpu, mig",
     NULL,
     "SELECT DISTINCT ts_ms / 86400000 FROM gpu_usage_fact_rows"
     " WHERE ts_ms >= ?1 AND ts_ms < ?2 UNION SELECT DISTINCT"
     " hour_ms / 86400000 FROM gpu_usage_fact_packed"
     " WHERE hour_ms > ?1 - 3600000 AND hour_ms < ?2 ORDER BY 1",
     false,
     "gpu_usage_fact_rows",
     fact_page_cols,
     "ingest_id"},
    {"hourly",
     {hourly_fields, sizeof(hourly_fields) / sizeof(hourly_fields[0]), 1,
      false},
     EXP_BY_DIGEST,
     hourly_kinds,
     "SELECT hour_ms," SUMS " FROM usage_hourly WHERE hour_ms >= ?1 AND"
     " hour_ms < ?2 ORDER BY hour_ms," SUMS_ORDER,
     NULL,
     "SELECT day_ms," SUMS " FROM usage_daily WHERE day_ms >= ?1 AND"
     " day_ms < ?2 ORDER BY day_ms," SUMS_ORDER,
     "SELECT DISTINCT day_ms / 86400000 FROM usage_daily"
     " WHERE day_ms >= ?1 AND day_ms < ?2",
     false,
     NULL,
     NULL,
     NULL},
    {"jobs",
     {job_fields, sizeof(job_fields) / sizeof(job_fields[0]), 0, false},
     EXP_BY_DIGEST,
     job_kinds,
     JOBS_SQL,
     NULL,
     JOBS_SQL,
     NULL,
     false,
     NULL,
     NULL,
     NULL},
    {"bills",
     {bill_fields, sizeof(bill_fields) / sizeof(bill_fields[0]), 2, true},
     EXP_BY_DIGEST,
     bill_kinds,
     NULL,
     NULL,
     NULL,
     "SELECT DISTINCT " MONTH_OF(
	 "day_ms") " FROM usage_daily"
		   " WHERE day_ms >= ?1 AND day_ms < ?2",
     true,
     NULL,
     NULL,
     NULL},
};
const size_t exp_ntables = sizeof(exp_tables) / sizeof(exp_tables[0]);

const struct exp_table *
exp_table_find(const char *name)
{
	size_t i;

	for (i = 0; i < exp_ntables; i++)
		if (strcmp(exp_tables[i].name, name) == 0)
			return &exp_tables[i];
	return NULL;
}

bool
exp_has_job_src(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool has = false;

	/* The stored columns (the view gpu_usage_fact adds derived ones). */
	if (sqlite3_prepare_v2(db, "PRAGMA table_info(gpu_usage_fact_rows)", -1,
			       &st, NULL) != SQLITE_OK)
		return false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *n = sqlite3_column_text(st, 1);

		if (n != NULL && strcmp((const char *)n, "job_src") == 0)
			has = true;
	}
	sqlite3_finalize(st);
	return has;
}

/* Load "SELECT key, name" rows into an array indexed by key. */
static int
load_names(sqlite3 *db, const char *sql, struct exp_name **out, size_t *n,
	   struct gpu_err *err)
{
	sqlite3_stmt *st = gpu_db_prepare(db, sql, err);
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 k = sqlite3_column_int64(st, 0);
		const unsigned char *s = sqlite3_column_text(st, 1);

		if (k < 0 || s == NULL || k > INT32_MAX)
			continue;
		if ((size_t)k >= *n) {
			size_t m =
			    (size_t)k + 1 > *n * 2 ? (size_t)k + 1 : *n * 2;

			*out = gpu_xreallocarray(*out, m, sizeof(**out));
			memset(*out + *n, 0, (m - *n) * sizeof(**out));
			*n = m;
		}
		(*out)[k].s = gpu_xstrdup((const char *)s);
		(*out)[k].n = strlen((*out)[k].s);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return gpu_err_set(err, "database error: %s",
				   sqlite3_errmsg(db));
	return 0;
}

int
exp_dims_load(sqlite3 *db, struct exp_dims *d, struct gpu_err *err)
{
	memset(d, 0, sizeof(*d));
	if (load_names(db, "SELECT node_id, node FROM nodes_dim", &d->node,
		       &d->nnode, err) != 0 ||
	    load_names(db, "SELECT name_key, name FROM names_dim", &d->name,
		       &d->nname, err) != 0 ||
	    load_names(db, "SELECT job_key, job_id FROM jobs_dim", &d->job,
		       &d->njob, err) != 0)
		return -1;
	return 0;
}

static void
free_names(struct exp_name *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].s);
	free(v);
}

void
exp_dims_free(struct exp_dims *d)
{
	free_names(d->node, d->nnode);
	free_names(d->name, d->nname);
	free_names(d->job, d->njob);
	memset(d, 0, sizeof(*d));
}

/* How read_cols() reads a column: its kind and type, decided once. */
enum col_op {
	OP_INT,
	OP_TS,
	OP_DOUBLE,
	OP_TEXT,
	OP_NODE,
	OP_NAME,
	OP_JOB,
	OP_MIG,
	OP_SHARE28
};

static enum col_op
col_op(const struct exp_table *t, size_t i)
{
	switch (t->kinds[i]) {
	case EXP_NODE:
		return OP_NODE;
	case EXP_NAME:
		return OP_NAME;
	case EXP_JOB:
		return OP_JOB;
	case EXP_MIG:
		return OP_MIG;
	case EXP_SHARE28:
		return OP_SHARE28;
	default:
		break;
	}
	switch (t->schema.fields[i].type) {
	case LAKE_TIMESTAMPTZ:
		return OP_TS;
	case LAKE_DOUBLE:
		return OP_DOUBLE;
	case LAKE_STRING:
		return OP_TEXT;
	default:
		return OP_INT;
	}
}

/* Whether sql sorts its rows: its functions then see them in scan order. */
static bool
sorts(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	struct gpu_buf b;
	bool found = true;

	gpu_buf_init(&b);
	gpu_buf_addf(&b, "EXPLAIN %s", sql);
	if (sqlite3_prepare_v2(db, b.data, -1, &st, NULL) == SQLITE_OK) {
		found = false;
		while (!found && sqlite3_step(st) == SQLITE_ROW) {
			const unsigned char *op = sqlite3_column_text(st, 1);

			found = op != NULL &&
				strcmp((const char *)op, "SorterOpen") == 0;
		}
	}
	sqlite3_finalize(st);
	gpu_buf_release(&b);
	return found;
}

static void take_row(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/*
 * Rewrite "SELECT cols FROM ..." in sql as "SELECT exp_row(cols) FROM
 * ...", the function given the row as its arguments, so that a row's
 * values are read without a call into the statement per column. Kept as
 * it is when the statement would sort its rows (the function would see
 * them in another order than they are returned), and when its columns
 * are not a plain list: DISTINCT (it would apply to the function's one
 * value) or a subquery (whose FROM the first " FROM " could be). Returns
 * 0, or -1 when the function could not be registered.
 */
static int
by_function(struct exp_source *src, sqlite3 *db, struct gpu_buf *sql)
{
	const char *from = strstr(sql->data, " FROM ");
	const char *sub = strstr(sql->data + 1, "SELECT");
	struct gpu_buf b;

	if (strncmp(sql->data, "SELECT ", 7) != 0 || from == NULL ||
	    strncmp(sql->data + 7, "DISTINCT ", 9) == 0 ||
	    (sub != NULL && sub < from))
		return 0;
	gpu_buf_init(&b);
	gpu_buf_adds(&b, "SELECT exp_row(");
	gpu_buf_add(&b, sql->data + 7, (size_t)(from - sql->data) - 7);
	gpu_buf_adds(&b, ")");
	gpu_buf_adds(&b, from);
	if (sorts(db, sql->data)) {
		gpu_buf_release(&b);
		return 0;
	}
	if (sqlite3_create_function_v2(
		db, "exp_row", (int)src->t->schema.nfields,
		SQLITE_UTF8 | SQLITE_DIRECTONLY, src, take_row, NULL, NULL,
		NULL) != SQLITE_OK) {
		gpu_buf_release(&b);
		return -1;
	}
	gpu_buf_reset(sql);
	gpu_buf_add(sql, b.data, b.len);
	gpu_buf_release(&b);
	src->by_fn = true;
	return 0;
}

/* How the sources closed since exp_pages_taken() read rows (gpuexport -v). */
static _Atomic uint64_t tally_rows;
static const char *_Atomic tally_why;

static void
pages_tally(const struct exp_source *src)
{
	const char *none = NULL;

	tally_rows += src->page_rows;
	if (src->why != NULL)
		atomic_compare_exchange_strong(&tally_why, &none, src->why);
}

uint64_t
exp_pages_taken(const char **why)
{
	*why = atomic_exchange(&tally_why, NULL);
	return atomic_exchange(&tally_rows, 0);
}

static void
pages_close(struct exp_source *src)
{
	gpu_pages_close(src->pages);
	free(src->pv);
	free(src->fmap);
	src->pages = NULL;
	src->pv = NULL;
	src->fmap = NULL;
}

/*
 * Read src's rows from its table's pages when it can (gpu/pages.h): the
 * table's stored columns read as the statement would, each in its own
 * way; a value of another type than the column's makes the source go on
 * with its statement.
 */
static void
pages_open(struct exp_source *src, sqlite3 *db, int32_t day, bool new_only,
	   int64_t watermark)
{
	const struct exp_table *t = src->t;
	size_t i, n = t->schema.nfields;

	if (t->page_table == NULL)
		return;
	src->pages = gpu_pages_open(db, t->page_table, &src->why);
	if (src->pages == NULL)
		return;
	src->why = NULL;
	/*
	 * A column the table lacks reads as NULL: the statement, prepared
	 * already, names every other column (job_src before schema 4 is
	 * its NULL).
	 */
	src->fmap = gpu_xcalloc(n, sizeof(*src->fmap));
	for (i = 0; i < n; i++)
		src->fmap[i] = gpu_pages_field(src->pages, t->page_cols[i]);
	src->new_field = gpu_pages_field(src->pages, t->page_new);
	if (src->new_field < 0 || src->fmap[0] != 0)
		goto refuse;
	src->pv = gpu_xcalloc(gpu_pages_nfields(src->pages), sizeof(*src->pv));
	src->new_only = new_only;
	src->watermark = watermark;
	if (day == EXP_NO_DAY) {
		src->lo = INT64_MIN;
		src->hi = INT64_MAX;
	} else {
		src->lo = (int64_t)day * DAY_MS;
		src->hi = ((int64_t)day + 1) * DAY_MS;
	}
	if (gpu_pages_seek(src->pages, src->lo) != 0)
		goto refuse;
	return;
refuse:
	src->why = "a layout the export does not read";
	pages_close(src);
}

/*
 * Where the day (or, EXP_NO_DAY, the table) reaches packed hours
 * (gpuingest --pack-raw, gpu/pack.h), read the table's stored and packed
 * samples: its name in sql becomes their union, read through SQL.
 */
static int
packed_facts(sqlite3 *db, int32_t day, struct gpu_buf *sql, bool *packed,
	     struct gpu_err *err)
{
	int64_t lo = day == EXP_NO_DAY ? INT64_MIN : (int64_t)day * DAY_MS;
	int64_t hi = day == EXP_NO_DAY ? INT64_MAX : lo + DAY_MS;
	struct gpu_buf b;
	int rc;

	gpu_buf_init(&b);
	rc = gpu_pack_facts_sql(db, lo, hi, sql->data, &b, packed, err);
	gpu_buf_reset(sql);
	gpu_buf_add(sql, b.data, b.len);
	gpu_buf_release(&b);
	return rc;
}

int
exp_source_open(struct exp_source *src, sqlite3 *db, const struct exp_table *t,
		const struct exp_dims *dims, int32_t day, bool digest,
		bool new_only, int64_t watermark, struct gpu_err *err)
{
	const char *tmpl = digest && t->digest_sql != NULL ? t->digest_sql
			   : new_only			   ? t->sql_new
							   : t->sql;
	struct gpu_buf sql;
	const char *at;
	size_t i;

	memset(src, 0, sizeof(*src));
	src->t = t;
	src->dims = dims;
	if (t->sql == NULL) {
		src->vals = gpu_xcalloc(t->schema.nfields, sizeof(*src->vals));
		if (exp_bills_open(src, db, day, err) != 0) {
			free(src->vals);
			src->vals = NULL;
			return -1;
		}
		return 0;
	}
	src->has_job_src = exp_has_job_src(db);
	gpu_buf_init(&sql);
	at = strstr(tmpl, "@JOB_SRC@");
	if (at != NULL) {
		gpu_buf_add(&sql, tmpl, (size_t)(at - tmpl));
		gpu_buf_adds(&sql, src->has_job_src ? "job_src" : "NULL");
		gpu_buf_adds(&sql, at + strlen("@JOB_SRC@"));
	} else {
		gpu_buf_adds(&sql, tmpl);
	}
	if (t->page_table != NULL &&
	    packed_facts(db, day, &sql, &src->packed, err) != 0) {
		gpu_buf_release(&sql);
		return -1;
	}
	if (!digest && by_function(src, db, &sql) != 0) {
		gpu_buf_release(&sql);
		return gpu_err_set(err, "database error: %s",
				   sqlite3_errmsg(db));
	}
	src->st = gpu_db_prepare(db, sql.data, err);
	gpu_buf_release(&sql);
	if (src->st == NULL)
		return -1;
	if (day == EXP_NO_DAY) {
		sqlite3_bind_int64(src->st, 1, INT64_MIN);
		sqlite3_bind_int64(src->st, 2, INT64_MAX);
	} else {
		sqlite3_bind_int64(src->st, 1, (int64_t)day * DAY_MS);
		sqlite3_bind_int64(src->st, 2, ((int64_t)day + 1) * DAY_MS);
	}
	if (new_only)
		sqlite3_bind_int64(src->st, 3, watermark);
	src->vals = gpu_xcalloc(t->schema.nfields, sizeof(*src->vals));
	src->ops = gpu_xcalloc(t->schema.nfields, sizeof(*src->ops));
	for (i = 0; i < t->schema.nfields; i++)
		src->ops[i] = (unsigned char)col_op(t, i);
	if (!digest && !src->packed)
		pages_open(src, db, day, new_only, watermark);
	return 0;
}

void
exp_source_range(struct exp_source *src, int64_t lo_ms, int64_t hi_ms)
{
	sqlite3_reset(src->st);
	sqlite3_bind_int64(src->st, 1, lo_ms);
	sqlite3_bind_int64(src->st, 2, hi_ms);
	if (src->pages == NULL)
		return;
	src->lo = lo_ms;
	src->hi = hi_ms;
	src->given = 0;
	src->pages_end = false;
	if (gpu_pages_seek(src->pages, lo_ms) != 0)
		pages_close(src);
}

static const struct exp_name *
lookup(const struct exp_name *v, size_t n, int64_t k)
{
	static const struct exp_name none = {NULL, 0};

	return k >= 0 && (uint64_t)k < n ? &v[k] : &none;
}

int
exp_source_next(struct exp_source *src, struct gpu_err *err)
{
	return exp_source_read(src, src->vals, err);
}

int
exp_source_read(struct exp_source *src, struct exp_val *out,
		struct gpu_err *err)
{
	const struct exp_table *t = src->t;
	int rc;
	size_t i;

	if (t->sql == NULL) {
		rc = exp_bills_next(src);
		if (rc == 1 && out != src->vals)
			memcpy(out, src->vals,
			       t->schema.nfields * sizeof(*out));
		return rc;
	}
	rc = sqlite3_step(src->st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return gpu_err_set(err, "database error: %s",
				   sqlite3_errmsg(sqlite3_db_handle(src->st)));
	for (i = 0; i < t->schema.nfields; i++) {
		struct exp_val *v = &out[i];
		const struct exp_name *name = NULL;
		/*
		 * One call into the statement per column (each takes the
		 * connection's mutex); the value accessors take none. The
		 * value is unprotected: safe since only this thread uses
		 * the connection while the source is read.
		 */
		sqlite3_value *sv = sqlite3_column_value(src->st, (int)i);
		int type = sqlite3_value_type(sv);

		v->null = type == SQLITE_NULL;
		v->stable = false;
		if (t->kinds[i] == EXP_SHARE28) {
			v->d = v->null ? 1.0 : sqlite3_value_double(sv) / 28.0;
			v->null = false;
			continue;
		}
		if (v->null)
			continue;
		switch (t->kinds[i]) {
		case EXP_MIG:
			v->null =
			    type == SQLITE_TEXT && sqlite3_value_bytes(sv) == 0;
			v->i = sqlite3_value_int64(sv);
			continue;
		case EXP_NODE:
			name = lookup(src->dims->node, src->dims->nnode,
				      sqlite3_value_int64(sv));
			break;
		case EXP_NAME:
			name = lookup(src->dims->name, src->dims->nname,
				      sqlite3_value_int64(sv));
			break;
		case EXP_JOB:
			name = lookup(src->dims->job, src->dims->njob,
				      sqlite3_value_int64(sv));
			break;
		default:
			if (t->schema.fields[i].type == LAKE_STRING) {
				v->s = (const char *)sqlite3_value_text(sv);
				v->n = (size_t)sqlite3_value_bytes(sv);
				v->null = v->s == NULL;
			} else if (t->schema.fields[i].type == LAKE_DOUBLE) {
				v->d = sqlite3_value_double(sv);
			} else {
				v->i = sqlite3_value_int64(sv);
			}
			continue;
		}
		v->null = name->s == NULL;
		v->stable = true;
		v->s = name->s;
		v->n = name->n;
	}
	return 1;
}

/* Put a string that the next row overwrites into text, at row r of c. */
static void
copy_str(struct exp_col *c, size_t r, const char *p, size_t n,
	 struct gpu_buf *text, bool *copied)
{
	c->s[r].p = NULL;
	c->s[r].n = n;
	c->i[r] = (int64_t)text->len;
	gpu_buf_add(text, p, n);
	*copied = true;
}

/* Put the values of src->vals (a computed row) at row r of cols. */
static void
scatter(const struct exp_source *src, struct exp_col *cols, size_t r,
	struct gpu_buf *text, bool *copied)
{
	const struct lake_schema *sc = &src->t->schema;
	size_t i;

	for (i = 0; i < sc->nfields; i++) {
		const struct exp_val *x = &src->vals[i];
		struct exp_col *c = &cols[i];

		c->present[r] = x->null ? 0 : 1;
		if (x->null)
			continue;
		if (sc->fields[i].type == LAKE_STRING)
			copy_str(c, r, x->s, x->n, text, copied);
		else if (sc->fields[i].type == LAKE_DOUBLE)
			c->d[r] = x->d;
		else if (sc->fields[i].type == LAKE_TIMESTAMPTZ)
			c->i[r] = x->i * 1000;
		else
			c->i[r] = x->i;
	}
}

/* A name of a dimension at row r of c (NULL when the key has none). */
static inline void
put_name(struct exp_col *c, size_t r, const struct exp_name *v, size_t n,
	 sqlite3_int64 k)
{
	const struct exp_name *x = lookup(v, n, k);

	c->present[r] = x->s != NULL;
	c->s[r].p = x->s;
	c->s[r].n = x->n;
}

/* put_name() of key k from the dimension of op (OP_NODE, OP_NAME, OP_JOB). */
static void
put_key(struct exp_col *c, size_t r, const struct exp_dims *dm,
	enum col_op op, sqlite3_int64 k)
{
	if (op == OP_NODE)
		put_name(c, r, dm->node, dm->nnode, k);
	else if (op == OP_NAME)
		put_name(c, r, dm->name, dm->nname, k);
	else
		put_name(c, r, dm->job, dm->njob, k);
}

/*
 * Put the values v[0..n) of columns first.. at row o->r of o->cols, as the
 * writer takes them.
 */
static void
put_values(const struct exp_source *src, const struct exp_into *o,
	   sqlite3_value **v, size_t first, size_t n)
{
	const struct exp_dims *dm = src->dims;
	const unsigned char *ops = src->ops;
	size_t r = o->r, k;

	for (k = 0; k < n; k++) {
		struct exp_col *c = &o->cols[first + k];
		sqlite3_value *sv = v[k];
		int type = sqlite3_value_type(sv);

		if (ops[first + k] == OP_SHARE28) {
			c->present[r] = 1;
			c->d[r] = type == SQLITE_NULL
				      ? 1.0
				      : sqlite3_value_double(sv) / 28.0;
			continue;
		}
		c->present[r] = type != SQLITE_NULL;
		if (type == SQLITE_NULL)
			continue;
		switch ((enum col_op)ops[first + k]) {
		case OP_INT:
			c->i[r] = sqlite3_value_int64(sv);
			break;
		case OP_TS:
			c->i[r] = sqlite3_value_int64(sv) * 1000;
			break;
		case OP_DOUBLE:
			c->d[r] = sqlite3_value_double(sv);
			break;
		case OP_TEXT: {
			const char *p = (const char *)sqlite3_value_text(sv);

			c->present[r] = p != NULL;
			if (p != NULL)
				copy_str(c, r, p,
					 (size_t)sqlite3_value_bytes(sv),
					 o->text, o->copied);
			break;
		}
		case OP_NODE:
		case OP_NAME:
		case OP_JOB:
			put_key(c, r, dm, (enum col_op)ops[first + k],
				sqlite3_value_int64(sv));
			break;
		case OP_MIG:
			c->present[r] =
			    type != SQLITE_TEXT || sqlite3_value_bytes(sv) != 0;
			c->i[r] = sqlite3_value_int64(sv);
			break;
		case OP_SHARE28:
			break;
		}
	}
}

/* The function exp_row(): puts its arguments, a row, where src->into says. */
static void
take_row(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct exp_source *src = sqlite3_user_data(ctx);

	put_values(src, src->into, argv, 0, (size_t)argc);
}

/*
 * Put the record's values (src->pv) at row o->r of o->cols as put_values()
 * puts a statement's. Returns 0, or -1 for a value of a type it does not
 * read this way (text in a number column, a blob).
 */
static int
put_pvals(const struct exp_source *src, const struct exp_into *o)
{
	static const struct gpu_pval none = {GPU_PV_NULL, 0, 0, NULL, 0};
	const struct exp_dims *dm = src->dims;
	size_t r = o->r, k, n = src->t->schema.nfields;

	for (k = 0; k < n; k++) {
		const struct gpu_pval *x =
		    src->fmap[k] < 0 ? &none : &src->pv[src->fmap[k]];
		struct exp_col *c = &o->cols[k];
		int64_t v;

		if (src->ops[k] == OP_SHARE28) {
			c->present[r] = 1;
			if (x->type == GPU_PV_NULL)
				c->d[r] = 1.0;
			else if (gpu_pval_double(x, &c->d[r]) == 0)
				c->d[r] /= 28.0;
			else
				return -1;
			continue;
		}
		c->present[r] = x->type != GPU_PV_NULL;
		if (x->type == GPU_PV_NULL)
			continue;
		switch ((enum col_op)src->ops[k]) {
		case OP_INT:
			if (gpu_pval_int64(x, &c->i[r]) != 0)
				return -1;
			break;
		case OP_TS:
			if (gpu_pval_int64(x, &v) != 0)
				return -1;
			c->i[r] = v * 1000;
			break;
		case OP_DOUBLE:
			if (gpu_pval_double(x, &c->d[r]) != 0)
				return -1;
			break;
		case OP_NODE:
		case OP_NAME:
		case OP_JOB:
			if (gpu_pval_int64(x, &v) != 0)
				return -1;
			put_key(c, r, dm, (enum col_op)src->ops[k], v);
			break;
		case OP_MIG:
			/* '' is none; else a number of at most 9 digits. */
			if (x->type == GPU_PV_INT) {
				c->i[r] = x->i;
				break;
			}
			if (x->type != GPU_PV_TEXT || x->n > 9)
				return -1;
			c->present[r] = x->n != 0;
			c->i[r] = 0;
			for (size_t j = 0; j < x->n; j++) {
				if (x->p[j] < '0' || x->p[j] > '9')
					return -1;
				c->i[r] = c->i[r] * 10 + (x->p[j] - '0');
			}
			break;
		case OP_TEXT:
		case OP_SHARE28:
			return -1;
		}
	}
	return 0;
}

/*
 * The next row of src's range from its table's pages, into o: 1, 0 at the
 * range's end, -1 when the pages cannot give it (read it by statement).
 */
static int
pages_read(struct exp_source *src, const struct exp_into *o)
{
	while (!src->pages_end) {
		int rc = gpu_pages_next(src->pages, src->pv);
		int64_t ts, ingest;

		if (rc <= 0) {
			src->pages_end = rc == 0;
			return rc;
		}
		/* The range and watermark compare integers only. */
		if (src->pv[0].type != GPU_PV_INT)
			return -1;
		ts = src->pv[0].i;
		if (ts >= src->hi) {
			src->pages_end = true;
			break;
		}
		if (ts < src->lo)
			continue;
		if (src->new_only) {
			if (src->pv[src->new_field].type != GPU_PV_INT)
				return -1;
			ingest = src->pv[src->new_field].i;
			if (ingest <= src->watermark)
				continue;
		}
		if (put_pvals(src, o) != 0)
			return -1;
		src->given++;
		src->page_rows++;
		return 1;
	}
	return 0;
}

int
exp_source_read_cols(struct exp_source *src, struct exp_col *cols, size_t r,
		     struct gpu_buf *text, bool *copied, struct gpu_err *err)
{
	struct exp_into o = {cols, r, text, copied};
	size_t i;
	int rc;

	if (src->t->sql == NULL) {
		rc = exp_bills_next(src);
		if (rc == 1)
			scatter(src, cols, r, text, copied);
		return rc;
	}
	if (src->pages != NULL) {
		rc = pages_read(src, &o);
		if (rc >= 0)
			return rc;
		/* Go on with the statement, after the rows already given. */
		src->why = "a value of another type than its column's";
		pages_close(src);
		for (; src->given > 0; src->given--) {
			src->into = &o;
			rc = sqlite3_step(src->st);
			src->into = NULL;
			if (rc != SQLITE_ROW)
				return gpu_err_set(
				    err, "database error: %s",
				    rc == SQLITE_DONE
					? "fewer rows than read from pages"
					: sqlite3_errmsg(
					      sqlite3_db_handle(src->st)));
		}
	}
	src->into = &o;
	rc = sqlite3_step(src->st);
	src->into = NULL;
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return gpu_err_set(err, "database error: %s",
				   sqlite3_errmsg(sqlite3_db_handle(src->st)));
	/* exp_row() has put the row; else one call per column. */
	for (i = 0; !src->by_fn && i < src->t->schema.nfields; i++) {
		sqlite3_value *sv = sqlite3_column_value(src->st, (int)i);

		put_values(src, &o, &sv, i, 1);
	}
	return 1;
}

void
exp_source_close(struct exp_source *src)
{
	sqlite3 *db = src->st != NULL ? sqlite3_db_handle(src->st) : NULL;

	sqlite3_finalize(src->st);
	/* Unregister exp_row(): its data is this source. */
	if (src->by_fn)
		sqlite3_create_function_v2(
		    db, "exp_row", (int)src->t->schema.nfields, SQLITE_UTF8,
		    NULL, NULL, NULL, NULL, NULL);
	src->by_fn = false;
	exp_bills_close(src);
	pages_close(src);
	if (src->t->page_table != NULL && src->st != NULL)
		pages_tally(src);
	free(src->vals);
	free(src->ops);
	src->st = NULL;
	src->vals = NULL;
	src->ops = NULL;
}
