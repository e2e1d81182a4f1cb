/* SPDX-License-Identifier: MIT */
/* The warehouse: schema, forward migrations, pragmas and transactions. */
#include "gpu/db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gpu/buf.h"
#include "gpu/hrow.h"
#include "gpu/pack.h"
#include "gpu/rollup.h"

/*
 * The additive sums of struct gpu_sums (agg.h) as rollup columns, and the
 * group key columns after the time bucket; shared by the rollup tables.
 */
#define GROUP_KEY_COLUMNS                                                     \
	" node_id INTEGER NOT NULL,"                                          \
	" gpu INTEGER NOT NULL,"                                              \
	" job_key INTEGER NOT NULL,"                                          \
	" user_key INTEGER NOT NULL,"                                         \
	" project_key INTEGER NOT NULL,"                                      \
	" model_key INTEGER NOT NULL,"
#define SUMS_COLUMNS                                                          \
	" samples INTEGER NOT NULL,"                                          \
	" gpu_seconds INTEGER NOT NULL,"                                      \
	" alloc_seconds INTEGER NOT NULL,"                                    \
	" busy REAL NOT NULL,"                                                \
	" alloc_busy REAL NOT NULL,"                                          \
	" idle_seconds INTEGER NOT NULL,"                                     \
	" mem_used_s INTEGER NOT NULL,"                                       \
	" max_mem INTEGER NOT NULL,"                                          \
	" mem_util_s REAL NOT NULL,"                                          \
	" mem_util_seconds INTEGER NOT NULL,"                                 \
	" power_s REAL NOT NULL,"                                             \
	" power_seconds INTEGER NOT NULL,"                                    \
	" overage INTEGER NOT NULL,"                                          \
	" last_ms INTEGER NOT NULL,"

/* The same from schema version 6 on: MIG keys, share-weighted sums. */
#define GROUP_KEY_COLUMNS_V6                                                  \
	" node_id INTEGER NOT NULL,"                                          \
	" gpu INTEGER NOT NULL,"                                              \
	" mig INTEGER NOT NULL,"                                              \
	" job_key INTEGER NOT NULL,"                                          \
	" user_key INTEGER NOT NULL,"                                         \
	" project_key INTEGER NOT NULL,"                                      \
	" model_key INTEGER NOT NULL,"                                        \
	" profile_key INTEGER NOT NULL,"
#define SUMS_COLUMNS_V6                                                       \
	SUMS_COLUMNS                                                          \
	" alloc_idle_seconds INTEGER NOT NULL,"                               \
	" gpu_w INTEGER NOT NULL,"                                            \
	" alloc_w INTEGER NOT NULL,"                                          \
	" busy_w REAL NOT NULL,"                                              \
	" alloc_busy_w REAL NOT NULL,"                                        \
	" idle_w INTEGER NOT NULL,"                                           \
	" alloc_idle_w INTEGER NOT NULL,"

/*
 * Schema history. Each entry moves a warehouse from version i to i + 1 and
 * runs inside the migration transaction. Never edit a released entry; add
 * one. The fact table is keyed in arrival order (time first), so loading
 * appends; names are interned to integer keys to keep its rows small.
 * Derived columns of SPEC.md 2 are computed on read, never stored: virtual
 * columns up to version 8, the view gpu_usage_fact over the stored rows
 * (gpu_usage_fact_rows) from version 9.
 * Owner resolution: the fact row keeps only the user/project its sample
 * carried; the effective owner is that, else the job record's (jobs_dim).
 * The fact table has no secondary index: one on (job_key, ts_ms) cost a
 * quarter of the load time. A per-job query scans the clustered key over
 * the job's [first_sample_ms, last_sample_ms] from jobs_dim, which bounds
 * every sample of the job (see docs/WAREHOUSE.md).
 */
/* A migration's SQL in parts (C99 bounds one string literal's length). */
#define MIGRATION_PARTS 2

static const char *const migrations[GPU_DB_VERSION][MIGRATION_PARTS] = {
	/* 0 -> 1: the first warehouse. */
	{
	"CREATE TABLE nodes_dim("
	" node_id INTEGER PRIMARY KEY,"
	" node TEXT NOT NULL UNIQUE,"
	" gpu_count INTEGER NOT NULL DEFAULT 0,"
	" models TEXT,"
	" first_seen_ms INTEGER,"
	" last_seen_ms INTEGER);"
	"CREATE TABLE gpus_dim("
	" node_id INTEGER NOT NULL,"
	" gpu INTEGER NOT NULL,"
	" model TEXT,"
	" mem_total_mib INTEGER,"
	" gpu_uuid TEXT,"
	" first_seen_ms INTEGER,"
	" last_seen_ms INTEGER,"
	" PRIMARY KEY(node_id, gpu)) WITHOUT ROWID;"
	"CREATE TABLE names_dim("
	" name_key INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE jobs_dim("
	" job_key INTEGER PRIMARY KEY,"
	" job_id TEXT NOT NULL UNIQUE,"
	" user TEXT,"
	" project TEXT,"
	" first_sample_ms INTEGER,"
	" last_sample_ms INTEGER,"
	" gpu_count INTEGER,"
	" start_ms INTEGER,"
	" end_ms INTEGER);"
	"CREATE TABLE ingest_log("
	" ingest_id INTEGER PRIMARY KEY,"
	" started_ms INTEGER NOT NULL,"
	" ended_ms INTEGER,"
	" source TEXT NOT NULL,"
	" sha256 TEXT,"
	" rows_read INTEGER NOT NULL DEFAULT 0,"
	" inserted INTEGER NOT NULL DEFAULT 0,"
	" updated INTEGER NOT NULL DEFAULT 0,"
	" unchanged INTEGER NOT NULL DEFAULT 0,"
	" rejected INTEGER NOT NULL DEFAULT 0,"
	" min_ts_ms INTEGER,"
	" max_ts_ms INTEGER,"
	" status TEXT NOT NULL);"
	"CREATE TABLE rejects("
	" reject_id INTEGER PRIMARY KEY,"
	" ingest_id INTEGER NOT NULL,"
	" source TEXT NOT NULL,"
	" line INTEGER NOT NULL,"
	" reason TEXT NOT NULL,"
	" raw TEXT);"
	"CREATE TABLE gpu_usage_fact("
	" ts_ms INTEGER NOT NULL,"
	" node_id INTEGER NOT NULL,"
	" gpu INTEGER NOT NULL,"
	" util_pct REAL NOT NULL,"
	" mem_used_mib INTEGER NOT NULL,"
	" mem_total_mib INTEGER,"
	" job_key INTEGER,"
	" user_key INTEGER,"
	" project_key INTEGER,"
	" model_key INTEGER,"
	" interval_s INTEGER NOT NULL,"
	" ingest_id INTEGER NOT NULL,"
	" mem_util_pct REAL GENERATED ALWAYS AS (CASE WHEN mem_total_mib > 0"
	"  THEN mem_used_mib * 100.0 / mem_total_mib END) VIRTUAL,"
	" usage_category TEXT GENERATED ALWAYS AS (CASE"
	"  WHEN util_pct < 5 THEN 'idle' WHEN util_pct < 30 THEN 'low'"
	"  WHEN util_pct < 70 THEN 'medium' ELSE 'high' END) VIRTUAL,"
	" allocated INTEGER GENERATED ALWAYS AS (job_key IS NOT NULL) VIRTUAL,"
	" PRIMARY KEY(ts_ms, node_id, gpu)) WITHOUT ROWID;"
	"CREATE INDEX rejects_ingest ON rejects(ingest_id);"
	},

	/* 1 -> 2: power and temperature readings (schema evolution). */
	{
	"ALTER TABLE gpu_usage_fact ADD COLUMN power_w REAL;"
	"ALTER TABLE gpu_usage_fact ADD COLUMN temp_c REAL;"
	},

	/*
	 * 2 -> 3: the hourly and daily rollups of additive sums (gpuagg)
	 * and the hours an ingest touched since they were last brought up
	 * to date.
	 * Key 0 stands for "none" in job_key, user_key, project_key and
	 * model_key; user_key and project_key are the effective owner (the
	 * sample's, else its job record's). Overage is at the default 16 GiB
	 * threshold; last_ms is the latest sample start of the row.
	 * usage_daily holds the same sums per UTC day: each row is its
	 * day's hour rows of that key added in hour order (so that queries
	 * over whole days read it and still give the hourly path's exact
	 * doubles); a refresh rebuilds the days of the hours it rebuilds.
	 * usage_hourly_node holds each (hour, node)'s hour rows added in key
	 * order: exactly the groups of a query by hour and node.
	 */
	{
	"CREATE TABLE dirty_hours(hour_ms INTEGER PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE usage_hourly("
	" hour_ms INTEGER NOT NULL,"
	GROUP_KEY_COLUMNS
	SUMS_COLUMNS
	" PRIMARY KEY(hour_ms, node_id, gpu, job_key, user_key, project_key,"
	"  model_key)) WITHOUT ROWID;"
	"CREATE TABLE usage_hourly_node("
	" hour_ms INTEGER NOT NULL,"
	" node_id INTEGER NOT NULL,"
	SUMS_COLUMNS
	" PRIMARY KEY(hour_ms, node_id)) WITHOUT ROWID;"
	"CREATE TABLE usage_daily("
	" day_ms INTEGER NOT NULL,"
	GROUP_KEY_COLUMNS
	SUMS_COLUMNS
	" PRIMARY KEY(day_ms, node_id, gpu, job_key, user_key, project_key,"
	"  model_key)) WITHOUT ROWID;"
	"INSERT INTO dirty_hours SELECT DISTINCT ts_ms / 3600000 * 3600000"
	" FROM gpu_usage_fact;"
	},

	/*
	 * 3 -> 4: allocations (SPEC.md 1.4) and where a fact row's job came
	 * from. One allocation row is one GPU of one node held by one job;
	 * start_ms NULL: not yet known (an epilog line before its prolog
	 * line), end_ms NULL: still held. job_src is 1 when the row's job
	 * was attributed from an allocation; NULL when the sample carried
	 * it (or has none), which costs no bytes in the rows already stored.
	 * ingest_log counts the samples a run attributed and those it found
	 * under overlapping allocations.
	 */
	{
	"CREATE TABLE allocations("
	" job_key INTEGER NOT NULL,"
	" node_id INTEGER NOT NULL,"
	" gpu INTEGER NOT NULL,"
	" start_ms INTEGER,"
	" end_ms INTEGER,"
	" ingest_id INTEGER NOT NULL,"
	" PRIMARY KEY(job_key, node_id, gpu)) WITHOUT ROWID;"
	"CREATE INDEX allocations_gpu ON allocations(node_id, gpu, start_ms);"
	"ALTER TABLE gpu_usage_fact ADD COLUMN job_src INTEGER;"
	"ALTER TABLE gpu_usage_fact ADD COLUMN job_source TEXT GENERATED"
	" ALWAYS AS (CASE WHEN job_key IS NULL THEN NULL WHEN job_src = 1"
	" THEN 'allocation' ELSE 'sample' END) VIRTUAL;"
	"ALTER TABLE ingest_log ADD COLUMN attributed INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE ingest_log ADD COLUMN overlaps INTEGER NOT NULL"
	" DEFAULT 0;"
	},

	/*
	 * 4 -> 5: alloc_idle_seconds, the idle time (utilization under 5 %)
	 * of allocated samples, a sum of the rollups (gpuagg's
	 * alloc_idle_gpu_hours). Every hour is marked dirty so that the
	 * writers rebuild the rollups with it; readers meanwhile compute
	 * those hours from the facts.
	 */
	{
	"ALTER TABLE usage_hourly ADD COLUMN alloc_idle_seconds INTEGER"
	" NOT NULL DEFAULT 0;"
	"ALTER TABLE usage_hourly_node ADD COLUMN alloc_idle_seconds INTEGER"
	" NOT NULL DEFAULT 0;"
	"ALTER TABLE usage_daily ADD COLUMN alloc_idle_seconds INTEGER"
	" NOT NULL DEFAULT 0;"
	"INSERT OR IGNORE INTO dirty_hours SELECT DISTINCT"
	" ts_ms / 3600000 * 3600000 FROM gpu_usage_fact;"
	},

	/*
	 * 5 -> 6: MIG slices (SPEC.md 1.6). A fact's key gains mig, the GPU
	 * instance id as text ('' for a whole GPU), and the row its profile
	 * (names_dim key) and share of the GPU in 28ths (NULL: all of it).
	 * SQLite cannot change a primary key, so the fact table and gpus_dim
	 * are rebuilt; the rollups, derived data, are made anew with the
	 * keys mig (-1: a whole GPU) and profile_key and the share-weighted
	 * sums, and every hour is marked dirty. ingest_log counts the rows
	 * a later row of the same run superseded; jobs_dim the MIG slices
	 * a job was allocated (gpu_count counts whole GPUs).
	 */
	{
	"CREATE TABLE fact_v6("
	" ts_ms INTEGER NOT NULL,"
	" node_id INTEGER NOT NULL,"
	" gpu INTEGER NOT NULL,"
	" mig TEXT NOT NULL DEFAULT '',"
	" util_pct REAL NOT NULL,"
	" mem_used_mib INTEGER NOT NULL,"
	" mem_total_mib INTEGER,"
	" job_key INTEGER,"
	" user_key INTEGER,"
	" project_key INTEGER,"
	" model_key INTEGER,"
	" interval_s INTEGER NOT NULL,"
	" ingest_id INTEGER NOT NULL,"
	" power_w REAL,"
	" temp_c REAL,"
	" job_src INTEGER,"
	" profile_key INTEGER,"
	" share28 INTEGER,"
	" mem_util_pct REAL GENERATED ALWAYS AS (CASE WHEN mem_total_mib > 0"
	"  THEN mem_used_mib * 100.0 / mem_total_mib END) VIRTUAL,"
	" usage_category TEXT GENERATED ALWAYS AS (CASE"
	"  WHEN util_pct < 5 THEN 'idle' WHEN util_pct < 30 THEN 'low'"
	"  WHEN util_pct < 70 THEN 'medium' ELSE 'high' END) VIRTUAL,"
	" allocated INTEGER GENERATED ALWAYS AS (job_key IS NOT NULL) VIRTUAL,"
	" job_source TEXT GENERATED ALWAYS AS (CASE WHEN job_key IS NULL"
	"  THEN NULL WHEN job_src = 1 THEN 'allocation' ELSE 'sample' END)"
	"  VIRTUAL,"
	" PRIMARY KEY(ts_ms, node_id, gpu, mig)) WITHOUT ROWID;"
	"INSERT INTO fact_v6(ts_ms, node_id, gpu, util_pct, mem_used_mib,"
	" mem_total_mib, job_key, user_key, project_key, model_key,"
	" interval_s, ingest_id, power_w, temp_c, job_src)"
	" SELECT ts_ms, node_id, gpu, util_pct, mem_used_mib, mem_total_mib,"
	" job_key, user_key, project_key, model_key, interval_s, ingest_id,"
	" power_w, temp_c, job_src FROM gpu_usage_fact ORDER BY ts_ms,"
	" node_id, gpu;"
	"DROP TABLE gpu_usage_fact;"
	"ALTER TABLE fact_v6 RENAME TO gpu_usage_fact;",
	"CREATE TABLE gpus_v6("
	" node_id INTEGER NOT NULL,"
	" gpu INTEGER NOT NULL,"
	" mig TEXT NOT NULL DEFAULT '',"
	" model TEXT,"
	" mem_total_mib INTEGER,"
	" gpu_uuid TEXT,"
	" profile TEXT,"
	" first_seen_ms INTEGER,"
	" last_seen_ms INTEGER,"
	" PRIMARY KEY(node_id, gpu, mig)) WITHOUT ROWID;"
	"INSERT INTO gpus_v6(node_id, gpu, model, mem_total_mib, gpu_uuid,"
	" first_seen_ms, last_seen_ms) SELECT node_id, gpu, model,"
	" mem_total_mib, gpu_uuid, first_seen_ms, last_seen_ms FROM gpus_dim;"
	"DROP TABLE gpus_dim;"
	"ALTER TABLE gpus_v6 RENAME TO gpus_dim;"
	"DROP TABLE usage_hourly;"
	"DROP TABLE usage_hourly_node;"
	"DROP TABLE usage_daily;"
	"CREATE TABLE usage_hourly("
	" hour_ms INTEGER NOT NULL,"
	GROUP_KEY_COLUMNS_V6
	SUMS_COLUMNS_V6
	" PRIMARY KEY(hour_ms, node_id, gpu, mig, job_key, user_key,"
	"  project_key, model_key, profile_key)) WITHOUT ROWID;"
	"CREATE TABLE usage_hourly_node("
	" hour_ms INTEGER NOT NULL,"
	" node_id INTEGER NOT NULL,"
	SUMS_COLUMNS_V6
	" PRIMARY KEY(hour_ms, node_id)) WITHOUT ROWID;"
	"CREATE TABLE usage_daily("
	" day_ms INTEGER NOT NULL,"
	GROUP_KEY_COLUMNS_V6
	SUMS_COLUMNS_V6
	" PRIMARY KEY(day_ms, node_id, gpu, mig, job_key, user_key,"
	"  project_key, model_key, profile_key)) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO dirty_hours SELECT DISTINCT"
	" ts_ms / 3600000 * 3600000 FROM gpu_usage_fact;"
	"ALTER TABLE ingest_log ADD COLUMN superseded INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE jobs_dim ADD COLUMN mig_slices INTEGER;"
	},

	/*
	 * 6 -> 7: raw-sample retention (gpuingest --keep-raw). retention
	 * holds, per table (only 'gpu_usage_fact' so far), the horizon:
	 * every row before it was deleted, none before it is loaded again,
	 * and the rollups of its hours are final. ingest_log counts the
	 * fact rows a retention pass deleted (its own row, source
	 * '--keep-raw').
	 */
	{
	"CREATE TABLE retention("
	" tbl TEXT PRIMARY KEY,"
	" horizon_ms INTEGER NOT NULL,"
	" keep_ms INTEGER,"
	" updated_ms INTEGER NOT NULL) WITHOUT ROWID;"
	"ALTER TABLE ingest_log ADD COLUMN purged INTEGER NOT NULL"
	" DEFAULT 0;"
	},

	/*
	 * 7 -> 8: usage_hourly_owner, each (hour, user, project)'s hour rows
	 * added in key order: exactly the groups of a query by hour, user
	 * and project (gpureport's owner series), a few rows an hour where
	 * usage_hourly has one per GPU. Filled from usage_hourly right after
	 * this SQL (see migrate()), not from the facts: the hours before a
	 * raw-sample horizon have no facts left, and their rows are final.
	 */
	{
	"CREATE TABLE usage_hourly_owner("
	" hour_ms INTEGER NOT NULL,"
	" user_key INTEGER NOT NULL,"
	" project_key INTEGER NOT NULL,"
	SUMS_COLUMNS_V6
	" PRIMARY KEY(hour_ms, user_key, project_key)) WITHOUT ROWID;"
	},

	/*
	 * 8 -> 9: the fact rows are stored in gpu_usage_fact_rows, the table
	 * of version 8 without its virtual columns, and gpu_usage_fact is a
	 * view that adds them: SQLite computes a table's virtual columns on
	 * every INSERT and UPDATE (for constraints that might name them), a
	 * tenth of a load's work for values nobody reads then. Dropping a
	 * virtual column and renaming rewrite no row. The view's triggers
	 * keep writes to gpu_usage_fact working (an INSERT's missing mig is
	 * ''; a derived column is not written); the tools write the table.
	 */
	{
	"ALTER TABLE gpu_usage_fact DROP COLUMN job_source;"
	"ALTER TABLE gpu_usage_fact DROP COLUMN allocated;"
	"ALTER TABLE gpu_usage_fact DROP COLUMN usage_category;"
	"ALTER TABLE gpu_usage_fact DROP COLUMN mem_util_pct;"
	"ALTER TABLE gpu_usage_fact RENAME TO gpu_usage_fact_rows;"
	"CREATE VIEW gpu_usage_fact AS SELECT ts_ms, node_id, gpu, mig,"
	" util_pct, mem_used_mib, mem_total_mib, job_key, user_key,"
	" project_key, model_key, interval_s, ingest_id, power_w, temp_c,"
	" job_src, profile_key, share28,"
	" CASE WHEN mem_total_mib > 0 THEN mem_used_mib * 100.0 /"
	"  mem_total_mib END AS mem_util_pct,"
	" CASE WHEN util_pct < 5 THEN 'idle' WHEN util_pct < 30 THEN 'low'"
	"  WHEN util_pct < 70 THEN 'medium' ELSE 'high' END"
	"  AS usage_category,"
	" job_key IS NOT NULL AS allocated,"
	" CASE WHEN job_key IS NULL THEN NULL WHEN job_src = 1"
	"  THEN 'allocation' ELSE 'sample' END AS job_source"
	" FROM gpu_usage_fact_rows;",
	"CREATE TRIGGER gpu_usage_fact_insert INSTEAD OF INSERT ON"
	" gpu_usage_fact BEGIN"
	" SELECT RAISE(ABORT, 'cannot INSERT into a derived column of"
	" gpu_usage_fact') WHERE NEW.mem_util_pct IS NOT NULL OR"
	"  NEW.usage_category IS NOT NULL OR NEW.allocated IS NOT NULL OR"
	"  NEW.job_source IS NOT NULL;"
	" INSERT INTO gpu_usage_fact_rows(ts_ms, node_id, gpu, mig, util_pct,"
	"  mem_used_mib, mem_total_mib, job_key, user_key, project_key,"
	"  model_key, interval_s, ingest_id, power_w, temp_c, job_src,"
	"  profile_key, share28) VALUES(NEW.ts_ms, NEW.node_id, NEW.gpu,"
	"  coalesce(NEW.mig, ''), NEW.util_pct, NEW.mem_used_mib,"
	"  NEW.mem_total_mib, NEW.job_key, NEW.user_key, NEW.project_key,"
	"  NEW.model_key, NEW.interval_s, NEW.ingest_id, NEW.power_w,"
	"  NEW.temp_c, NEW.job_src, NEW.profile_key, NEW.share28);"
	" END;"
	"CREATE TRIGGER gpu_usage_fact_update INSTEAD OF UPDATE ON"
	" gpu_usage_fact BEGIN"
	" SELECT RAISE(ABORT, 'cannot UPDATE a derived column of"
	" gpu_usage_fact') WHERE NEW.mem_util_pct IS NOT OLD.mem_util_pct"
	"  OR NEW.usage_category IS NOT OLD.usage_category OR"
	"  NEW.allocated IS NOT OLD.allocated OR"
	"  NEW.job_source IS NOT OLD.job_source;"
	" UPDATE gpu_usage_fact_rows SET ts_ms = NEW.ts_ms,"
	"  node_id = NEW.node_id, gpu = NEW.gpu, mig = NEW.mig,"
	"  util_pct = NEW.util_pct, mem_used_mib = NEW.mem_used_mib,"
	"  mem_total_mib = NEW.mem_total_mib, job_key = NEW.job_key,"
	"  user_key = NEW.user_key, project_key = NEW.project_key,"
	"  model_key = NEW.model_key, interval_s = NEW.interval_s,"
	"  ingest_id = NEW.ingest_id, power_w = NEW.power_w,"
	"  temp_c = NEW.temp_c, job_src = NEW.job_src,"
	"  profile_key = NEW.profile_key, share28 = NEW.share28"
	"  WHERE ts_ms = OLD.ts_ms AND node_id = OLD.node_id AND"
	"  gpu = OLD.gpu AND mig = OLD.mig;"
	" END;"
	"CREATE TRIGGER gpu_usage_fact_delete INSTEAD OF DELETE ON"
	" gpu_usage_fact BEGIN"
	" DELETE FROM gpu_usage_fact_rows WHERE ts_ms = OLD.ts_ms AND"
	"  node_id = OLD.node_id AND gpu = OLD.gpu AND mig = OLD.mig;"
	" END;"
	},

	/*
	 * 9 -> 10: packed samples (gpuingest --pack-raw, gpu/pack.h). The
	 * view gpu_usage_fact is made again over the stored rows and the
	 * packed ones (gpu_pack_create(), run after this SQL), its
	 * triggers refusing a write to a packed hour. ingest_log counts the
	 * samples a packing pass packed (its own row, source '--pack-raw').
	 */
	{
	"DROP VIEW gpu_usage_fact;"
	"ALTER TABLE ingest_log ADD COLUMN packed INTEGER NOT NULL"
	" DEFAULT 0;"
	},

	/*
	 * 10 -> 11: usage_daily_job, per day, job, owner, model and MIG
	 * profile: each hour's usage_hourly rows summed by those keys in key
	 * order (node, GPU and MIG instance dropped), the hours added in
	 * order. What a query by job, user, project, model or profile over
	 * whole days reads: a third as many rows as usage_daily where jobs
	 * hold several GPUs. Filled from usage_hourly right after this SQL
	 * (see migrate()), as usage_hourly_owner was.
	 */
	{
	"CREATE TABLE usage_daily_job("
	" day_ms INTEGER NOT NULL,"
	" job_key INTEGER NOT NULL,"
	" user_key INTEGER NOT NULL,"
	" project_key INTEGER NOT NULL,"
	" model_key INTEGER NOT NULL,"
	" profile_key INTEGER NOT NULL,"
	SUMS_COLUMNS_V6
	" PRIMARY KEY(day_ms, job_key, user_key, project_key, model_key,"
	"  profile_key)) WITHOUT ROWID;"
	},

	/*
	 * 11 -> 12: the view gpu_usage_fact made again, by
	 * gpu_pack_create_view() right after this SQL, with the same rows
	 * and triggers: its decoding of the packed samples is under half
	 * as long, and every connection parses it with the schema (the
	 * view was half the instructions of an empty query).
	 */
	{
	"DROP VIEW gpu_usage_fact;"
	},

	/*
	 * 12 -> 13: while no sample is packed, the view gpu_usage_fact is
	 * made again over gpu_usage_fact_rows alone, by gpu_pack_rows_view()
	 * (no SQL here): the same rows from a sixth of the text; the first
	 * packing pass makes it schema 12's again.
	 */
	{NULL},
};

const char *
gpu_db_path(const char *path)
{
	const char *env;

	if (path != NULL)
		return path;
	env = getenv("GPUUSAGE_DB");
	if (env != NULL && *env != '\0')
		return env;
	return "./gpuusage.db";
}

int
gpu_db_error(sqlite3 *db, struct gpu_err *err)
{
	const char *path = sqlite3_db_filename(db, "main");

	if ((sqlite3_errcode(db) & 0xff) == SQLITE_FULL && path != NULL &&
	    *path != '\0')
		return gpu_err_set(err,
				   "database or disk is full: cannot write "
				   "warehouse '%s' (or its -wal or -journal, or "
				   "the temporary folder)",
				   path);
	return gpu_err_set(err, "database error: %s", sqlite3_errmsg(db));
}

int
gpu_db_exec(sqlite3 *db, const char *sql, struct gpu_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	if (msg == NULL || (sqlite3_errcode(db) & 0xff) == SQLITE_FULL)
		gpu_db_error(db, err);
	else
		gpu_err_set(err, "database error: %s", msg);
	sqlite3_free(msg);
	return -1;
}

sqlite3_stmt *
gpu_db_prepare(sqlite3 *db, const char *sql, struct gpu_err *err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		gpu_err_set(err, "database error: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

sqlite3_stmt *
gpu_db_prepare_rows(sqlite3 *db, const char *head, int ncols, int nrows,
		    struct gpu_err *err)
{
	struct gpu_buf b;
	sqlite3_stmt *st;

	gpu_buf_init(&b);
	gpu_buf_adds(&b, head);
	gpu_buf_adds(&b, " VALUES");
	for (int r = 0; r < nrows; r++) {
		gpu_buf_adds(&b, r == 0 ? "(?" : ",(?");
		for (int c = 1; c < ncols; c++)
			gpu_buf_adds(&b, ",?");
		gpu_buf_addc(&b, ')');
	}
	st = gpu_db_prepare(db, b.data, err);
	gpu_buf_release(&b);
	return st;
}

int
gpu_db_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
set_version(sqlite3 *db, int v, struct gpu_err *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	return gpu_db_exec(db, sql, err);
}

/*
 * Run migrations from..to-1 in the current transaction. The rows of
 * usage_hourly_owner (7 -> 8) and usage_daily_job (10 -> 11) are sums of
 * rollup rows in a fixed order, which SQL's sum() does not promise: the
 * rollup writer adds them.
 */
static int
migrate(sqlite3 *db, int from, int to, struct gpu_err *err)
{
	for (int v = from; v < to; v++) {
		for (int i = 0; i < MIGRATION_PARTS; i++)
			if (migrations[v][i] != NULL &&
			    gpu_db_exec(db, migrations[v][i], err) != 0)
				return -1;
		if (v == 7 && gpu_rollup_fill_owners(db, err) != 0)
			return -1;
		if (v == 9 && gpu_pack_create(db, err) != 0)
			return -1;
		if (v == 10 && gpu_rollup_fill_job_days(db, err) != 0)
			return -1;
		if (v == 11 && gpu_pack_create_view(db, err) != 0)
			return -1;
		if (v == 12 && gpu_pack_rows_view(db, err) != 0)
			return -1;
	}
	return set_version(db, to, err);
}

int
gpu_db_create_version(sqlite3 *db, int version, struct gpu_err *err)
{
	if (version < 1 || version > GPU_DB_VERSION)
		return gpu_err_set(err, "no schema version %d", version);
	if (gpu_db_exec(db, "BEGIN IMMEDIATE", err) != 0)
		return -1;
	if (migrate(db, 0, version, err) != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	return gpu_db_commit(db, err);
}

/*
 * Run sql, which needs a lock on the warehouse at path. Returns 0; 1 with
 * "warehouse busy: ..." in err when another process holds the lock; else
 * -1 with "cannot WHAT 'PATH': ...".
 */
static int
exec_locking(sqlite3 *db, const char *path, const char *sql, const char *what,
	     struct gpu_err *err)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		gpu_err_set(err,
			    "warehouse busy: '%s' is locked by another process",
			    path);
		return 1;
	}
	return gpu_err_set(err, "cannot %s '%s': %s", what, path,
			   sqlite3_errmsg(db));
}

int
gpu_db_begin(sqlite3 *db, const char *path, struct gpu_err *err)
{
	return exec_locking(db, path, "BEGIN IMMEDIATE", "begin transaction on",
			    err) == 0
		   ? 0
		   : -1;
}

int
gpu_db_commit(sqlite3 *db, struct gpu_err *err)
{
	return gpu_db_exec(db, "COMMIT", err);
}

void
gpu_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

bool
gpu_db_begin_read(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;

	if (!sqlite3_get_autocommit(db))
		return false;
	/* A running statement's own transaction would become this one. */
	while ((st = sqlite3_next_stmt(db, st)) != NULL)
		if (sqlite3_stmt_busy(st))
			return false;
	return sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
}

void
gpu_db_end_read(sqlite3 *db, bool began)
{
	/* A read transaction: its end cannot lose anything. */
	if (began && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Refuse another program's database: schema version 0 (no warehouse yet)
 * with tables of its own, which a migration would add ours to. Before
 * anything is written to it.
 */
static int
refuse_foreign(sqlite3 *db, const char *path, struct gpu_err *err)
{
	sqlite3_stmt *st;
	bool foreign = false;

	if (gpu_db_version(db) != 0)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master LIMIT 1", -1,
			       &st, NULL) != SQLITE_OK)
		return gpu_err_set(err, "cannot read '%s': %s", path,
				   sqlite3_errmsg(db));
	foreign = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (foreign)
		return gpu_err_set(
		    err,
		    "'%s' is not a warehouse: an SQLite database "
		    "with tables of its own and no gpuusage "
		    "schema version",
		    path);
	return 0;
}

/* Bring the schema to GPU_DB_VERSION, or refuse a newer one. */
static int
check_schema(sqlite3 *db, const char *path, bool readonly,
	     struct gpu_err *err)
{
	int v = gpu_db_version(db);

	if (v < 0)
		return gpu_err_set(err, "cannot read '%s': %s", path,
				   sqlite3_errmsg(db));
	if (v > GPU_DB_VERSION)
		return gpu_err_set(err,
				   "'%s' has schema version %d, newer than "
				   "this tool's %d: upgrade gpuusage",
				   path, v, GPU_DB_VERSION);
	if (v == GPU_DB_VERSION)
		return 0;
	if (readonly) {
		gpu_err_set(err,
			    "'%s' has schema version %d and needs a migration "
			    "to %d",
			    path, v, GPU_DB_VERSION);
		return GPU_DB_OUTDATED;
	}
	if (gpu_db_begin(db, path, err) != 0)
		return -1;
	/* Another process may have migrated it while we waited. */
	v = gpu_db_version(db);
	if (v > GPU_DB_VERSION) {
		gpu_db_rollback(db);
		return gpu_err_set(err, "'%s' has schema version %d, newer "
				   "than this tool's %d", path, v,
				   GPU_DB_VERSION);
	}
	if (v < GPU_DB_VERSION && migrate(db, v, GPU_DB_VERSION, err) != 0) {
		gpu_db_rollback(db);
		return -1;
	}
	return gpu_db_commit(db, err);
}

/* Open name with flags (no mutex), the busy timeout and our pragmas. */
static int
open_handle(const char *name, int flags, const char *path,
	    const struct gpu_db_opts *opts, sqlite3 **out, struct gpu_err *err)
{
	/*
	 * SQLite's memory statistics take a global mutex at every allocation
	 * (several a row stored), and no tool reads them. Only a library not
	 * yet initialized takes the setting: later calls fail harmlessly.
	 */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* One handle is used by one thread: skip SQLite's per-call mutex. */
	if (sqlite3_open_v2(name, out, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		return gpu_err_set(err, "cannot open warehouse '%s': %s", path,
				   *out != NULL ? sqlite3_errmsg(*out)
						: "out of memory");
	sqlite3_busy_timeout(*out, opts->lock_timeout_ms);
	sqlite3_extended_result_codes(*out, 0);
	if (gpu_hrow_register(*out) != 0 || gpu_pack_register(*out) != 0)
		return gpu_err_set(err, "cannot open warehouse '%s': %s", path,
				   sqlite3_errmsg(*out));
	return gpu_db_exec(*out, "PRAGMA foreign_keys = OFF", err);
}

/* "file:PATH?immutable=1", PATH percent-encoded as URIs want it. */
static void
immutable_uri(struct gpu_buf *b, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";

	gpu_buf_adds(b, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p != 0;
	     p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/._~-", *p) != NULL) {
			gpu_buf_addc(b, (char)*p);
		} else {
			gpu_buf_addc(b, '%');
			gpu_buf_addc(b, hex[*p >> 4]);
			gpu_buf_addc(b, hex[*p & 15]);
		}
	}
	gpu_buf_adds(b, "?immutable=1");
}

/*
 * Whether the file whose stat is sb is no warehouse yet: a regular file
 * of 0 bytes. (A WAL beside it holds nothing: a database in WAL mode has
 * its first page in the main file, and SQLite deletes the WAL of an empty
 * one when it opens it.)
 */
static bool
empty_file(const struct stat *sb)
{
	return S_ISREG(sb->st_mode) && sb->st_size == 0;
}

/*
 * Refuse what only a writer that creates may turn into a warehouse: a
 * missing file, or an empty one.
 */
static int
check_exists(const char *path, struct stat *sb, struct gpu_err *err)
{
	if (stat(path, sb) != 0)
		return gpu_err_set(err, "cannot open warehouse '%s': %s", path,
				   strerror(errno));
	if (!empty_file(sb))
		return 0;
	return gpu_err_set(err,
			   "'%s' is empty, not a warehouse: gpuingest creates "
			   "one",
			   path);
}

/*
 * A reader's handle, which never writes to path. SQLite reads a WAL
 * database only where it can create the WAL index beside it; a file that
 * nobody may write cannot change under us, so it is read as immutable
 * when the folder refuses the index.
 */
static int
open_reader(const char *path, const struct gpu_db_opts *opts, sqlite3 **out,
	    struct gpu_err *err)
{
	struct stat sb;
	struct gpu_buf uri;
	int rc;

	if (check_exists(path, &sb, err) != 0)
		return -1;
	if (open_handle(path, SQLITE_OPEN_READONLY, path, opts, out, err) != 0)
		return -1;
	rc = gpu_db_version(*out) < 0 ? sqlite3_extended_errcode(*out)
				      : SQLITE_OK;
	/*
	 * A hot rollback journal: a writer of a warehouse still in rollback
	 * mode (the first run into a new one, create_rollback, or its switch
	 * to WAL) was killed. Only a writer may roll it back.
	 */
	if (rc == SQLITE_READONLY_ROLLBACK) {
		gpu_err_set(err,
			    "cannot read '%s': a write to it was interrupted; "
			    "the next gpuingest (or gpuagg --refresh) on it "
			    "rolls back what was not committed",
			    path);
		return GPU_DB_INTERRUPTED;
	}
	if (rc == SQLITE_READONLY_DIRECTORY) {
		if ((sb.st_mode & 0222) != 0)
			return gpu_err_set(err,
					   "cannot read '%s': its folder does "
					   "not let SQLite create the WAL "
					   "index beside it",
					   path);
		sqlite3_close(*out);
		*out = NULL;
		gpu_buf_init(&uri);
		immutable_uri(&uri, path);
		rc = open_handle(uri.data,
				 SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, path,
				 opts, out, err);
		gpu_buf_release(&uri);
		if (rc != 0)
			return -1;
	}
	if (refuse_foreign(*out, path, err) != 0)
		return -1;
	return check_schema(*out, path, true, err);
}

/* Whether path is missing, or empty: no warehouse yet. */
static bool
is_new(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return errno == ENOENT;
	return empty_file(&sb);
}

/*
 * Set journal mode mode ("WAL" or "DELETE"); returns as exec_locking().
 * The switch reads under a shared lock, then asks for the exclusive one,
 * which SQLite refuses at once instead of calling the busy handler (that
 * could deadlock), so a busy switch is retried here, the lock released
 * in between, for up to wait_ms.
 */
static int
set_journal(sqlite3 *db, const char *path, const char *mode, int wait_ms,
	    struct gpu_err *err)
{
	char sql[40];
	int rc, pause = 1;

	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = %s", mode);
	while ((rc = exec_locking(db, path, sql, "set the journal mode of",
				  err)) == 1 &&
	       wait_ms > 0) {
		if (pause > wait_ms)
			pause = wait_ms;
		sqlite3_sleep(pause);
		wait_ms -= pause;
		if (pause < 64)
			pause *= 2;
	}
	return rc;
}

int
gpu_db_use_wal(sqlite3 *db, const char *path, struct gpu_err *err)
{
	/*
	 * Not waiting: a reader's lock would hold up a run that has
	 * committed. Busy is left to the next writer's open, which sets WAL.
	 */
	return set_journal(db, path, "WAL", 0, err) < 0 ? -1 : 0;
}

/*
 * A writer's handle: created when missing, migrated forward. A new one
 * keeps a rollback journal when opts asks (create_rollback).
 */
static int
open_writer(const char *path, const struct gpu_db_opts *opts, sqlite3 **out,
	    struct gpu_err *err)
{
	bool rollback = opts->create_rollback && is_new(path);

	/*
	 * In rollback mode a commit deletes the journal: EXTRA syncs the
	 * folder after that, so that the journal cannot come back and roll
	 * the committed run back after a power cut.
	 */
	if (open_handle(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, path,
			opts, out, err) != 0 ||
	    refuse_foreign(*out, path, err) != 0 ||
	    set_journal(*out, path, rollback ? "DELETE" : "WAL",
			opts->lock_timeout_ms, err) != 0 ||
	    gpu_db_exec(*out,
			rollback ? "PRAGMA synchronous = EXTRA"
				 : "PRAGMA synchronous = FULL",
			err) != 0 ||
	    /* Temporary tables (the loader's, 2.1) spill to disk. */
	    gpu_db_exec(*out, "PRAGMA temp_store = FILE", err) != 0)
		return -1;
	return check_schema(*out, path, false, err);
}

int
gpu_db_open(const char *path, const struct gpu_db_opts *opts, sqlite3 **out,
	    struct gpu_err *err)
{
	int rc;

	*out = NULL;
	rc = opts->readonly ? open_reader(path, opts, out, err)
			    : open_writer(path, opts, out, err);
	if (rc == 0)
		return 0;
	if (err != NULL && strncmp(err->msg, "database error: ", 16) == 0) {
		char tmp[sizeof(err->msg)];

		snprintf(tmp, sizeof(tmp), "'%s': %s", path, err->msg + 16);
		snprintf(err->msg, sizeof(err->msg), "%s", tmp);
	}
	sqlite3_close(*out);
	*out = NULL;
	return rc;
}

int
gpu_db_open_existing(const char *path, const struct gpu_db_opts *opts,
		     sqlite3 **out, struct gpu_err *err)
{
	struct stat sb;

	*out = NULL;
	if (check_exists(path, &sb, err) != 0)
		return -1;
	return gpu_db_open(path, opts, out, err);
}

int
gpu_db_close(sqlite3 *db, struct gpu_err *err)
{
	if (db == NULL)
		return 0;
	if (sqlite3_close(db) != SQLITE_OK)
		return gpu_err_set(err, "cannot close warehouse: %s",
				   sqlite3_errmsg(db));
	return 0;
}
