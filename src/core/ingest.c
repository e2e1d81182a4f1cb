/* SPDX-License-Identifier: MIT */
/* The warehouse loader: fact upsert, interned dimensions, log and rejects. */
#include "gpu/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/alloc.h"
#include "gpu/attrib.h"
#include "gpu/bind.h"
#include "gpu/buf.h"
#include "gpu/db.h"
#include "gpu/hashmap.h"
#include "gpu/pages.h"
#include "gpu/prebuild.h"
#include "gpu/retention.h"

/*
 * The run's maps (gpu/hashmap.h): dimension keys by name, and entries by
 * integer code (a (node_id, gpu) pair, a job key) as 8-byte keys. Memory
 * grows with the distinct nodes, GPUs, names, jobs and hours, never with
 * the rows.
 */

/* The value of key in m, added as 0 when absent; valid until the next put. */
static uint64_t *
slot_of(struct gpu_hashmap *m, const void *key, size_t len, bool *added)
{
	return &gpu_hashmap_at(m, gpu_hashmap_put(m, key, len, added))->val;
}

static uint64_t *
code_slot(struct gpu_hashmap *m, uint64_t code, bool *added)
{
	return slot_of(m, &code, sizeof(code), added);
}

/* The value of code in m, or NULL when absent. */
static uint64_t *
code_find(struct gpu_hashmap *m, uint64_t code)
{
	size_t i = gpu_hashmap_find(m, &code, sizeof(code));

	return i == GPU_HASHMAP_NONE ? NULL : &gpu_hashmap_at(m, i)->val;
}

static uint64_t
gpu_code(int64_t node_id, int gpu)
{
	return (uint64_t)node_id * 1024 + (uint64_t)gpu + 1;
}

/* The code of a billable unit: a whole GPU (mig < 0) or one MIG slice. */
static uint64_t
unit_code(int64_t node_id, int gpu, int mig)
{
	return gpu_code(node_id, gpu) * (GPU_MIG_MAX + 2) +
	       (uint64_t)(mig < 0 ? 0 : mig + 1);
}

/* A node, job or GPU seen in this run, and the time range of its samples. */
struct seen {
	int64_t key; /* node_id or job_key */
	int64_t min_ms, max_ms;
	bool has_ts;
	/*
	 * A node's whole GPUs by index: their entry in gpus + 1, 0 for none
	 * yet (two array reads where a hash lookup missed the cache on
	 * every row: the row before is another GPU).
	 */
	uint32_t *unit;
	size_t nunit;
};

/* The names a sample carries: names_dim's roles, then its job. */
enum role { ROLE_USER, ROLE_PROJECT, ROLE_MODEL, ROLE_PROFILE, ROLE_JOB,
	    N_ROLES };

struct gpu_seen {
	int64_t node_id;
	int gpu;
	int mig;	   /* -1: the whole GPU */
	int64_t profile_key; /* the latest sample's, 0: none */
	int64_t min_ms, max_ms;
	int64_t model_key; /* 0: none seen */
	bool loaded;	   /* a sample of it was loaded */
	int64_t mem_total;
	bool has_mem_total;
	char *uuid;
	size_t attr;	 /* its entry in attrs, or NO_ATTR */
	/*
	 * The keys of this unit the current source found unchanged, while
	 * they form one arithmetic progression of times (seen_n of them from
	 * seen_lo, seen_step apart); the rest go to temp.run_seen
	 * (seen_spilled). Valid when seen_gen is the run's source_gen.
	 */
	int64_t seen_lo, seen_step, seen_n;
	unsigned seen_gen;
	bool seen_spilled;
	int64_t job_key; /* the job it was last attributed to, and */
	size_t job;	 /* that job's entry in jobs */
	/*
	 * Its latest sample's job and names (enum role), as entries + 1 of
	 * their maps (0: none): the next sample of a unit usually repeats
	 * them, and comparing one key costs less than a lookup.
	 */
	uint32_t last_ent[N_ROLES];
	unsigned newest_gen; /* loaded at hi_ms when newest_gen is the run's */
	struct gpu_prebuild_hint hint; /* its row of its open hour */
};

#define NO_ATTR SIZE_MAX

/* The column list of the fact table, in bind order. */
#define FACT_COLS                                                              \
	"gpu_usage_fact_rows(ts_ms, node_id, gpu, util_pct, mem_used_mib,"     \
	" mem_total_mib, job_key, user_key, project_key, model_key,"           \
	" interval_s, ingest_id, power_w, temp_c, job_src, mig, profile_key,"  \
	" share28)"

/* Parameters of one fact row. */
#define FACT_NCOLS 18

/* A stored row's values, in the order read_stored() takes them. */
#define STORED_COLS                                                            \
	"util_pct, mem_used_mib, mem_total_mib, job_key, user_key,"            \
	" project_key, model_key, interval_s, power_w, temp_c, job_src,"       \
	" profile_key, share28, ingest_id"

/* The temporary tables of a run's record of its keys. */
static const char RUN_TABLES[] =
    "CREATE TEMP TABLE IF NOT EXISTS run_pre(ts_ms, node_id, gpu,"
    " util_pct, mem_used_mib, mem_total_mib, job_key, user_key,"
    " project_key, model_key, interval_s, ingest_id, power_w, temp_c,"
    " job_src, mig, profile_key, share28,"
    " PRIMARY KEY(ts_ms, node_id, gpu, mig)) WITHOUT ROWID;"
    "CREATE TEMP TABLE IF NOT EXISTS run_seen(ts_ms, node_id, gpu, mig,"
    " PRIMARY KEY(ts_ms, node_id, gpu, mig)) WITHOUT ROWID;";

enum {
	S_FACT_INS,
	S_FACT_UPD,
	S_FACT_SCAN,
	S_PRE_PUT,
	S_PRE_GET,
	S_SEEN_PUT,
	S_SEEN_GET,
	S_DIRTY,
	S_NODE_INS,
	S_NODE_SEL,
	S_NAME_INS,
	S_NAME_SEL,
	S_JOB_INS,
	S_JOB_SEL,
	S_JOB_GET,
	S_JOB_OWNER,
	S_JOB_NEW,
	S_JOB_SET,
	S_REJECT,
	S_LOG_INS,
	S_LOG_END,
	S_GPU_UPSERT,
	S_NODE_UPD,
	S_JOB_RANGE,
	S_ALLOC_ANY,
	S_ALLOC_GET,
	S_ALLOC_DEL,
	S_ALLOC_PUT,
	S_SEGS,
	S_FACT_ATTR,
	S_FACT_NEXT,
	S_N
};

static const char *const sql[S_N] = {
    [S_FACT_INS] = "INSERT OR IGNORE INTO " FACT_COLS " VALUES(?1, ?2, ?3,"
		   " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
		   " ?16, ?17, ?18)",
    [S_FACT_UPD] = "UPDATE gpu_usage_fact_rows SET util_pct = ?4,"
		   " mem_used_mib = ?5, mem_total_mib = ?6, job_key = ?7,"
		   " user_key = ?8, project_key = ?9, model_key = ?10,"
		   " interval_s = ?11, ingest_id = ?12, power_w = ?13,"
		   " temp_c = ?14, job_src = ?15, profile_key = ?17,"
		   " share28 = ?18 WHERE ts_ms = ?1 AND node_id = ?2 AND"
		   " gpu = ?3 AND mig = ?16",
    /* The stored rows in key order from a key on (struct cursor). */
    [S_FACT_SCAN] = "SELECT gpu_fact_take(" STORED_COLS ", ts_ms, node_id,"
		    " gpu, mig) FROM gpu_usage_fact_rows WHERE (ts_ms,"
		    " node_id, gpu, mig) >= (?1, ?2, ?3, ?4)"
		    " ORDER BY ts_ms, node_id, gpu, mig",
    /*
     * The run's own record of the keys it has seen (docs/WAREHOUSE.md):
     * the stored row a run first rewrote, and the keys it found
     * unchanged. Temporary tables: on disk past the page cache.
     */
    [S_PRE_PUT] = "INSERT OR IGNORE INTO temp.run_pre VALUES(?1, ?2, ?3,"
		  " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
		  " ?16, ?17, ?18)",
    [S_PRE_GET] = "SELECT " STORED_COLS " FROM temp.run_pre"
		  " WHERE ts_ms = ?1 AND node_id = ?2 AND gpu = ?3"
		  " AND mig = ?4",
    [S_SEEN_PUT] = "INSERT OR IGNORE INTO temp.run_seen VALUES(?1, ?2,"
		   " ?3, ?4)",
    [S_SEEN_GET] = "SELECT 1 FROM temp.run_seen WHERE ts_ms = ?1 AND"
		   " node_id = ?2 AND gpu = ?3 AND mig = ?4",
    [S_DIRTY] = "INSERT OR IGNORE INTO dirty_hours(hour_ms) VALUES(?1)",
    [S_NODE_INS] = "INSERT OR IGNORE INTO nodes_dim(node) VALUES(?1)",
    [S_NODE_SEL] = "SELECT node_id FROM nodes_dim WHERE node = ?1",
    [S_NAME_INS] = "INSERT OR IGNORE INTO names_dim(name) VALUES(?1)",
    [S_NAME_SEL] = "SELECT name_key FROM names_dim WHERE name = ?1",
    [S_JOB_INS] = "INSERT OR IGNORE INTO jobs_dim(job_id) VALUES(?1)",
    [S_JOB_SEL] = "SELECT job_key FROM jobs_dim WHERE job_id = ?1",
    [S_JOB_GET] = "SELECT job_key, user, project, gpu_count, start_ms,"
		  " end_ms, first_sample_ms, last_sample_ms, mig_slices"
		  " FROM jobs_dim"
		  " WHERE job_id = ?1",
    [S_JOB_OWNER] = "SELECT user, project FROM jobs_dim WHERE job_key = ?1",
    [S_JOB_NEW] = "INSERT INTO jobs_dim(job_id, user, project, gpu_count,"
		  " start_ms, end_ms, mig_slices) VALUES(?1, ?2, ?3, ?4, ?5,"
		  " ?6, ?7)",
    [S_JOB_SET] = "UPDATE jobs_dim SET user = ?2, project = ?3,"
		  " gpu_count = ?4, start_ms = ?5, end_ms = ?6,"
		  " mig_slices = ?7 WHERE job_id = ?1",
    [S_REJECT] = "INSERT INTO rejects(ingest_id, source, line, reason,"
		 " raw) VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_LOG_INS] = "INSERT INTO ingest_log(started_ms, source, status)"
		  " VALUES(?1, ?2, 'running')",
    [S_LOG_END] = "UPDATE ingest_log SET ended_ms = ?2, rows_read = ?3,"
		  " inserted = ?4, updated = ?5, unchanged = ?6,"
		  " rejected = ?7, min_ts_ms = ?8, max_ts_ms = ?9,"
		  " sha256 = ?10, attributed = ?11, overlaps = ?12,"
		  " superseded = ?13,"
		  " status = 'ok' WHERE ingest_id = ?1",
    /* The latest sample's model, memory size and UUID win. */
    [S_GPU_UPSERT] =
	"INSERT INTO gpus_dim(node_id, gpu, model, mem_total_mib,"
	" gpu_uuid, first_seen_ms, last_seen_ms, mig, profile) VALUES(?1,"
	" ?2, (SELECT name FROM names_dim WHERE name_key = ?3), ?4, ?5,"
	" ?6, ?7, ?8, (SELECT name FROM names_dim WHERE name_key = ?9))"
	" ON CONFLICT(node_id, gpu, mig) DO UPDATE SET"
	" profile = CASE WHEN excluded.last_seen_ms >= last_seen_ms"
	"  THEN coalesce(excluded.profile, profile)"
	"  ELSE coalesce(profile, excluded.profile) END,"
	" model = CASE WHEN excluded.last_seen_ms >= last_seen_ms"
	"  THEN coalesce(excluded.model, model)"
	"  ELSE coalesce(model, excluded.model) END,"
	" mem_total_mib = CASE WHEN excluded.last_seen_ms >= last_seen_ms"
	"  THEN coalesce(excluded.mem_total_mib, mem_total_mib)"
	"  ELSE coalesce(mem_total_mib, excluded.mem_total_mib) END,"
	" gpu_uuid = CASE WHEN excluded.last_seen_ms >= last_seen_ms"
	"  THEN coalesce(excluded.gpu_uuid, gpu_uuid)"
	"  ELSE coalesce(gpu_uuid, excluded.gpu_uuid) END,"
	" first_seen_ms = min(coalesce(first_seen_ms,"
	"  excluded.first_seen_ms), excluded.first_seen_ms),"
	" last_seen_ms = max(coalesce(last_seen_ms,"
	"  excluded.last_seen_ms), excluded.last_seen_ms)",
    [S_NODE_UPD] =
	"UPDATE nodes_dim SET"
	" first_seen_ms = min(coalesce(first_seen_ms, ?2), ?2),"
	" last_seen_ms = max(coalesce(last_seen_ms, ?3), ?3),"
	" gpu_count = (SELECT count(DISTINCT gpu) FROM gpus_dim"
	"  WHERE node_id = ?1),"
	" models = (SELECT group_concat(model, ',') FROM (SELECT DISTINCT"
	"  model FROM gpus_dim WHERE node_id = ?1 AND model IS NOT NULL"
	"  ORDER BY model)) WHERE node_id = ?1",
    [S_JOB_RANGE] = "UPDATE jobs_dim SET"
		    " first_sample_ms = min(coalesce(first_sample_ms, ?2), ?2),"
		    " last_sample_ms = max(coalesce(last_sample_ms, ?3), ?3)"
		    " WHERE job_key = ?1",
    [S_ALLOC_ANY] = "SELECT EXISTS(SELECT 1 FROM allocations)",
    [S_ALLOC_GET] = "SELECT gpu, start_ms, end_ms FROM allocations"
		    " WHERE job_key = ?1 AND node_id = ?2 ORDER BY gpu",
    [S_ALLOC_DEL] = "DELETE FROM allocations WHERE job_key = ?1 AND"
		    " node_id = ?2 AND gpu = ?3",
    [S_ALLOC_PUT] = "INSERT INTO allocations(job_key, node_id, gpu,"
		    " start_ms, end_ms, ingest_id) VALUES(?1, ?2, ?3, ?4,"
		    " ?5, ?6) ON CONFLICT(job_key, node_id, gpu) DO UPDATE"
		    " SET start_ms = excluded.start_ms, end_ms ="
		    " excluded.end_ms, ingest_id = excluded.ingest_id",
    [S_SEGS] = "SELECT a.job_key, j.job_id, a.start_ms, a.end_ms FROM"
	       " allocations a JOIN jobs_dim j ON j.job_key = a.job_key"
	       " WHERE a.node_id = ?1 AND a.gpu = ?2 AND a.start_ms IS NOT"
	       " NULL",
    [S_FACT_NEXT] =
	"SELECT ts_ms FROM gpu_usage_fact_rows WHERE ts_ms >= ?1 AND"
	" ts_ms < ?2 ORDER BY ts_ms LIMIT 1",
    /* gpu_attr() is sql_attr(): the job a row should have. */
    [S_FACT_ATTR] = "UPDATE gpu_usage_fact_rows SET"
		    " job_key = gpu_attr(node_id, gpu, ts_ms, job_key),"
		    " job_src = CASE WHEN gpu_attr(node_id, gpu, ts_ms,"
		    " job_key) IS NULL THEN NULL ELSE 1 END"
		    " WHERE ts_ms >= ?1 AND ts_ms < ?2 AND mig = '' AND"
		    " (job_key IS NULL"
		    " OR job_src IS NOT NULL) AND job_key IS NOT"
		    " gpu_attr(node_id, gpu, ts_ms, job_key)",
};

/* A fact row ready to bind: the sample with its dimension keys. */
struct fact {
	int64_t ts_ms, node_id, mem_used, mem_total;
	int64_t key[5]; /* job, user, project, model, profile; 0: none */
	double util, power, temp;
	int gpu, interval_s;
	int mig;	/* -1: the whole GPU */
	int share28;	/* 0: the whole GPU */
	char mig_text[4]; /* mig as stored: "" or its digits */
	bool has_mem_total, has_power, has_temp;
	bool from_alloc; /* the job was attributed from an allocation */
};

/* The attribution segments of one GPU, built when first needed. */
struct gpu_attr {
	struct gpu_segs segs;
	size_t hint;
};

/*
 * A time window of one GPU whose attribution an allocation change may
 * have changed: its stored samples are attributed again.
 */
struct dirty_win {
	uint64_t code; /* gpu_code(node_id, gpu) */
	int64_t lo, hi;
};

/* A fact's key, in the fact table's order. */
struct fkey {
	int64_t ts_ms, node_id;
	int gpu;
	char mig[4];
};

/*
 * A cursor over the stored facts in key order that looks up the keys of
 * an input sent again at the cost of a step, not a seek, when the input
 * comes in the table's order. When valid, row (with its values, copied)
 * is the stored row after gap: no stored key lies strictly between gap
 * and row's key (nor equals gap when gap_in); at_end: none after gap.
 */
struct cursor {
	bool valid, at_end, gap_in;
	bool took; /* gpu_fact_take() filled key and row for this step */
	struct fkey gap, key;
	struct fact row;
	int64_t row_id;
};

/* Rows per multi-row INSERT of rows known to be new. */
#define BATCH 64

/* The fact columns the snapshot cursor reads: the key, then STORED_COLS. */
static const char *const snap_cols[] = {
    "ts_ms",	  "node_id",  "gpu",	     "mig",	    "util_pct",
    "mem_used_mib", "mem_total_mib", "job_key", "user_key", "project_key",
    "model_key",  "interval_s", "power_w",   "temp_c",	    "job_src",
    "profile_key", "share28",   "ingest_id"};
#define SNAP_NFIELDS (sizeof(snap_cols) / sizeof(snap_cols[0]))

struct gpu_ingest {
	sqlite3 *db;
	sqlite3_stmt *st[S_N];
	sqlite3_stmt *batch_st;
	/* What batch_st holds (gpu/bind.h): most values repeat. */
	struct gpu_bound batch_held[BATCH * FACT_NCOLS];
	int interval_s;

	/*
	 * Rows known to be new go into batch without a lookup: every key in
	 * the table has ts_ms <= hi_ms, and when hi_from_run, the units whose
	 * newest_gen is newest_gen have a row at hi_ms (all loaded by this
	 * run). A newer hi_ms starts a new generation.
	 */
	bool has_hi, hi_from_run;
	int64_t hi_ms;
	unsigned newest_gen;
	struct fact batch[BATCH];
	size_t nbatch;
	struct cursor cur;
	/*
	 * The stored facts as the run found them, read from their pages on
	 * a read-only connection of its own (a WAL warehouse whose snapshot
	 * is its file): a cursor like cur, several times cheaper a row. It
	 * answers for keys this run cannot have written (outside the times
	 * it loaded for the unit) until the run changes stored facts it did
	 * not load (a re-attribution: snap_off).
	 */
	sqlite3 *snap_db;
	struct gpu_pages *snap;
	int snap_field[SNAP_NFIELDS];
	bool snap_off;
	struct cursor pcur;

	struct gpu_hashmap node_map, name_map[4], job_map, hour_map;
	struct gpu_hashmap gpu_map; /* a MIG slice's unit_code() -> gpus */

	/*
	 * Attribution: has_allocs says whether any allocation is stored;
	 * attr_map maps a GPU's code to its entry in attrs; jobkey_map maps
	 * a job_key to its entry in jobs (samples attributed by key).
	 * dirty holds the windows that this input's allocations changed.
	 */
	bool has_allocs;
	bool run_keys; /* run_pre or run_seen hold rows of this run */
	unsigned source_gen; /* counts sources, for gpu_seen's seen_* */
	struct gpu_hashmap attr_map, jobkey_map;
	struct gpu_attr *attrs;
	size_t nattrs;
	struct dirty_win *dirty;
	size_t ndirty;
	struct gpu_hashmap dirty_gpus; /* GPU code -> its first window */
	struct attr_call {
		bool valid;
		int64_t ts_ms, node_id, job_key;
		int gpu;
	} call;		/* sql_attr()'s last row */
	int64_t *hours; /* hours of rows it changed, for dirty_hours */
	size_t nhours;
	struct seen *nodes, *jobs; /* indexed by the maps' values */
	size_t nnodes, njobs;
	struct gpu_seen *gpus;
	size_t ngpus;
	int64_t last_hour;
	struct gpu_prebuild pre; /* hourly rollup rows of new hours */
	int64_t horizon_ms; /* raw-sample horizon (gpu/retention.h) */
	int64_t deleted_ms; /* the facts before it were deleted */

	char *source;
	int64_t ingest_id;
	struct gpu_ingest_counts c;
};

static int
db_fail(struct gpu_ingest *ing, struct gpu_err *err)
{
	return gpu_db_error(ing->db, err);
}

/* Step a statement that returns no rows, then reset it. */
static int
run(struct gpu_ingest *ing, sqlite3_stmt *st, struct gpu_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(ing, err);
	return 0;
}

/* Step a one-integer query; *found says whether it returned a row. */
static int
query_i64(struct gpu_ingest *ing, sqlite3_stmt *st, int64_t *v, bool *found,
	  struct gpu_err *err)
{
	int rc = sqlite3_step(st);

	*found = rc == SQLITE_ROW;
	if (*found)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(ing, err);
	return 0;
}

static void
bind_str(sqlite3_stmt *st, int i, struct gpu_str v)
{
	if (v.len == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v.p, (int)v.len, SQLITE_STATIC);
}

static void
bind_opt_i64(sqlite3_stmt *st, int i, bool has, int64_t v)
{
	if (has)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/* Forget every GPU's segments: the allocations changed. */
static void
drop_attrs(struct gpu_ingest *ing)
{
	for (size_t i = 0; i < ing->nattrs; i++)
		gpu_segs_release(&ing->attrs[i].segs);
	free(ing->attrs);
	ing->attrs = NULL;
	ing->nattrs = 0;
	for (size_t i = 0; i < ing->ngpus; i++)
		ing->gpus[i].attr = NO_ATTR;
	gpu_hashmap_release(&ing->attr_map);
}

/* Read the stored allocations of one GPU into its segments. */
static int
load_segs(struct gpu_ingest *ing, int64_t node_id, int gpu,
	  struct gpu_segs *segs, struct gpu_err *err)
{
	sqlite3_stmt *st = ing->st[S_SEGS];
	struct gpu_span *spans = NULL;
	size_t n = 0, cap = 0;
	int rc;

	sqlite3_bind_int64(st, 1, node_id);
	sqlite3_bind_int(st, 2, gpu);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			spans = gpu_xreallocarray(spans, cap, sizeof(*spans));
		}
		spans[n].job_key = sqlite3_column_int64(st, 0);
		spans[n].job_id =
		    gpu_xstrdup((const char *)sqlite3_column_text(st, 1));
		spans[n].start_ms = sqlite3_column_int64(st, 2);
		spans[n].end_ms = sqlite3_column_type(st, 3) == SQLITE_NULL
				      ? GPU_TIME_OPEN
				      : sqlite3_column_int64(st, 3);
		n++;
	}
	sqlite3_reset(st);
	/* gpu_segs_build() may drop and reorder spans: free all n of them. */
	if (rc == SQLITE_DONE)
		gpu_segs_build(spans, n, segs);
	for (size_t i = 0; i < n; i++)
		free((char *)spans[i].job_id);
	free(spans);
	return rc == SQLITE_DONE ? 0 : db_fail(ing, err);
}

/* The segments of (node_id, gpu), loaded when first asked for. */
static struct gpu_attr *
attr_of(struct gpu_ingest *ing, int64_t node_id, int gpu, struct gpu_err *err)
{
	uint64_t code = gpu_code(node_id, gpu);
	bool added;
	uint64_t *slot = code_slot(&ing->attr_map, code, &added);
	struct gpu_attr *a;

	if (!added)
		return &ing->attrs[*slot];
	*slot = ing->nattrs;
	ing->attrs = gpu_xreallocarray(ing->attrs, ing->nattrs + 1,
				       sizeof(*ing->attrs));
	a = &ing->attrs[ing->nattrs++];
	memset(a, 0, sizeof(*a));
	if (load_segs(ing, node_id, gpu, &a->segs, err) != 0)
		return NULL;
	return a;
}

/*
 * The allocation holding GPU g at ts_ms: its segment, or NULL (*seg) when
 * none does. Returns 0 or -1.
 */
static int
gpu_holder(struct gpu_ingest *ing, struct gpu_seen *g, int64_t ts_ms,
	   const struct gpu_seg **seg, struct gpu_err *err)
{
	struct gpu_attr *a;

	if (g->attr == NO_ATTR) {
		a = attr_of(ing, g->node_id, g->gpu, err);
		if (a == NULL)
			return -1;
		g->attr = (size_t)(a - ing->attrs);
	}
	a = &ing->attrs[g->attr];
	*seg = gpu_segs_find(&a->segs, ts_ms, &a->hint);
	return 0;
}

/* The run's entry for the job of key job_key (samples attributed to it). */
static struct seen *
job_by_key(struct gpu_ingest *ing, int64_t job_key)
{
	bool added;
	uint64_t *slot = code_slot(&ing->jobkey_map, (uint64_t)job_key,
				   &added);

	if (added) {
		ing->jobs = gpu_xreallocarray(ing->jobs, ing->njobs + 1,
					      sizeof(*ing->jobs));
		ing->jobs[ing->njobs] = (struct seen){.key = job_key};
		*slot = ing->njobs++;
	}
	return &ing->jobs[*slot];
}

static void sql_attr(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* Does the warehouse hold any allocation? */
static int
load_has_allocs(struct gpu_ingest *ing, struct gpu_err *err)
{
	int64_t v = 0;
	bool found;

	if (query_i64(ing, ing->st[S_ALLOC_ANY], &v, &found, err) != 0)
		return -1;
	ing->has_allocs = v != 0;
	return 0;
}

static gpu_owner_fn owner_of;
static void sql_fact_take(sqlite3_context *ctx, int argc,
			  sqlite3_value **argv);

/*
 * The newest sample time in the warehouse bounds the keys it holds; the
 * hours after it and after every rollup row (and from 1970 on) are new,
 * and their rollup rows are built as they load (gpu/prebuild.h).
 */
static int
load_hi(struct gpu_ingest *ing, struct gpu_err *err)
{
	sqlite3_stmt *st = gpu_db_prepare(
	    ing->db,
	    "SELECT max(ts_ms), (SELECT max(hour_ms) FROM usage_hourly)"
	    " FROM gpu_usage_fact_rows",
	    err);
	int64_t fresh = 0;
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		ing->has_hi = true;
		ing->hi_ms = sqlite3_column_int64(st, 0);
		if (ing->hi_ms >= 0)
			fresh = ing->hi_ms / GPU_HOUR_MS * GPU_HOUR_MS +
				GPU_HOUR_MS;
	}
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 1) != SQLITE_NULL &&
	    sqlite3_column_int64(st, 1) + GPU_HOUR_MS > fresh)
		fresh = sqlite3_column_int64(st, 1) + GPU_HOUR_MS;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_fail(ing, err);
	ing->pre.fresh_from = fresh;
	return 0;
}

static void snap_open(struct gpu_ingest *ing);
static void snap_close(struct gpu_ingest *ing);

struct gpu_ingest *
gpu_ingest_new(sqlite3 *db, const struct gpu_ingest_opts *opts,
	       struct gpu_err *err)
{
	struct gpu_ingest *ing = gpu_xcalloc(1, sizeof(*ing));

	ing->db = db;
	ing->interval_s = opts->interval_s;
	ing->last_hour = -1;
	gpu_prebuild_init(&ing->pre, db, INT64_MAX, owner_of, ing);
	if (sqlite3_create_function_v2(db, "gpu_fact_take", 18,
				       SQLITE_UTF8 | SQLITE_DIRECTONLY, ing,
				       sql_fact_take, NULL, NULL,
				       NULL) != SQLITE_OK) {
		db_fail(ing, err);
		goto fail;
	}
	if (sqlite3_create_function_v2(db, "gpu_attr", 4,
				       SQLITE_UTF8 | SQLITE_DIRECTONLY, ing,
				       sql_attr, NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(ing, err);
		goto fail;
	}
	/*
	 * The run's record of its keys grows with a self-contradicting or
	 * re-sent input: on disk (the writer's temp_store, gpu/db.h) past a
	 * small cache, never all in memory.
	 */
	if (gpu_db_exec(db, RUN_TABLES, err) != 0 ||
	    gpu_db_exec(db, "PRAGMA temp.cache_size = -2048", err) != 0)
		goto fail;
	/* An earlier run on this connection may have left its keys. */
	ing->run_keys = true;
	for (int i = 0; i < S_N; i++) {
		ing->st[i] = gpu_db_prepare(db, sql[i], err);
		if (ing->st[i] == NULL)
			goto fail;
	}
	ing->batch_st = gpu_db_prepare_rows(db, "INSERT INTO " FACT_COLS,
					    FACT_NCOLS, BATCH, err);
	if (ing->batch_st == NULL || load_hi(ing, err) != 0 ||
	    load_has_allocs(ing, err) != 0 ||
	    gpu_retention_horizon(db, &ing->horizon_ms, err) != 0 ||
	    gpu_retention_deleted(db, &ing->deleted_ms, err) != 0)
		goto fail;
	snap_open(ing);
	return ing;
fail:
	gpu_ingest_free(ing);
	return NULL;
}

void
gpu_ingest_free(struct gpu_ingest *ing)
{
	if (ing == NULL)
		return;
	snap_close(ing);
	for (int i = 0; i < S_N; i++)
		sqlite3_finalize(ing->st[i]);
	sqlite3_finalize(ing->batch_st);
	sqlite3_create_function_v2(ing->db, "gpu_attr", 4, SQLITE_UTF8, NULL,
				   NULL, NULL, NULL, NULL);
	sqlite3_create_function_v2(ing->db, "gpu_fact_take", 18, SQLITE_UTF8,
				   NULL, NULL, NULL, NULL, NULL);
	gpu_hashmap_release(&ing->node_map);
	for (int i = 0; i < 4; i++)
		gpu_hashmap_release(&ing->name_map[i]);
	gpu_hashmap_release(&ing->job_map);
	gpu_hashmap_release(&ing->gpu_map);
	gpu_hashmap_release(&ing->hour_map);
	gpu_prebuild_release(&ing->pre);
	drop_attrs(ing);
	gpu_hashmap_release(&ing->jobkey_map);
	gpu_hashmap_release(&ing->dirty_gpus);
	free(ing->hours);
	free(ing->dirty);
	for (size_t i = 0; i < ing->ngpus; i++)
		free(ing->gpus[i].uuid);
	free(ing->gpus);
	for (size_t i = 0; i < ing->nnodes; i++)
		free(ing->nodes[i].unit);
	free(ing->nodes);
	free(ing->jobs);
	free(ing->source);
	free(ing);
}

int
gpu_ingest_begin_source(struct gpu_ingest *ing, const char *source,
			int64_t now_ms, struct gpu_err *err)
{
	sqlite3_stmt *st = ing->st[S_LOG_INS];

	memset(&ing->c, 0, sizeof(ing->c));
	if (ing->run_keys &&
	    gpu_db_exec(ing->db,
			"DELETE FROM temp.run_pre; DELETE FROM temp.run_seen",
			err) != 0)
		return -1;
	ing->run_keys = false;
	ing->source_gen++;
	free(ing->source);
	ing->source = gpu_xstrdup(source);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, ing->source, -1, SQLITE_STATIC);
	if (run(ing, st, err) != 0)
		return -1;
	ing->ingest_id = sqlite3_last_insert_rowid(ing->db);
	return 0;
}

/* Look up v's key in a dimension table, adding v when it is new. */
static int
db_intern(struct gpu_ingest *ing, int ins, int sel, struct gpu_str v,
	  int64_t *key, struct gpu_err *err)
{
	bool found;

	bind_str(ing->st[ins], 1, v);
	if (run(ing, ing->st[ins], err) != 0)
		return -1;
	bind_str(ing->st[sel], 1, v);
	if (query_i64(ing, ing->st[sel], key, &found, err) != 0)
		return -1;
	if (!found)
		return gpu_err_set(err, "database error: cannot intern '%.*s'",
				   (int)v.len, v.p);
	return 0;
}

/*
 * The entry + 1 of v in m: *last when that entry holds v, else a lookup
 * (adding v, *added) whose entry is then *last. last may be NULL.
 */
static size_t
entry_of(struct gpu_hashmap *m, struct gpu_str v, uint32_t *last,
	 bool *added)
{
	size_t i;

	*added = false;
	if (last != NULL && *last != 0) {
		const struct gpu_hashmap_ent *e = gpu_hashmap_at(m, *last - 1);

		if (e->len == v.len && memcmp(e->key, v.p, v.len) == 0)
			return *last;
	}
	i = gpu_hashmap_put(m, v.p, v.len, added) + 1;
	if (last != NULL)
		*last = (uint32_t)i;
	return i;
}

/*
 * The names_dim key of v (0 when v is empty), cached in the map of its
 * role; *last (may be NULL) as entry_of() has it.
 */
static int
name_key(struct gpu_ingest *ing, enum role role, struct gpu_str v,
	 uint32_t *last, int64_t *key, struct gpu_err *err)
{
	struct gpu_hashmap *m = &ing->name_map[role];
	bool added;
	size_t i;

	*key = 0;
	if (v.len == 0)
		return 0;
	i = entry_of(m, v, last, &added) - 1;
	if (!added) {
		*key = (int64_t)gpu_hashmap_at(m, i)->val;
		return 0;
	}
	if (db_intern(ing, S_NAME_INS, S_NAME_SEL, v, key, err) != 0)
		return -1;
	gpu_hashmap_at(m, i)->val = (uint64_t)*key;
	return 0;
}

/* The owner of a job for the rollups (a gpu_owner_fn; ctx: the run). */
static int
owner_of(void *ctx, int64_t job_key, int64_t *user, int64_t *project,
	 struct gpu_err *err)
{
	struct gpu_ingest *ing = ctx;
	sqlite3_stmt *st = ing->st[S_JOB_OWNER];
	struct gpu_str v[2] = {{0}, {0}};
	char *names[2] = {NULL, NULL};
	int rc;

	*user = *project = 0;
	sqlite3_bind_int64(st, 1, job_key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		for (int i = 0; i < 2; i++) {
			const unsigned char *t = sqlite3_column_text(st, i);

			if (t == NULL)
				continue;
			names[i] = gpu_xstrndup((const char *)t,
					(size_t)sqlite3_column_bytes(st, i));
			v[i].p = names[i];
			v[i].len = strlen(names[i]);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(names[0]);
		free(names[1]);
		return db_fail(ing, err);
	}
	rc = name_key(ing, ROLE_USER, v[0], NULL, user, err) != 0 ||
			     name_key(ing, ROLE_PROJECT, v[1], NULL, project,
				      err) != 0
		 ? -1
		 : 0;
	free(names[0]);
	free(names[1]);
	return rc;
}

/*
 * The run's entry for node or job v: m maps the name to an index into
 * *arr, which grows by one entry (holding the dimension key) per new name.
 */
static struct seen *
seen_of(struct gpu_ingest *ing, struct gpu_hashmap *m, struct seen **arr, size_t *n,
	int ins, int sel, struct gpu_str v, uint32_t *last, struct gpu_err *err)
{
	bool added;
	size_t i = entry_of(m, v, last, &added) - 1;
	int64_t key;

	if (!added)
		return &(*arr)[gpu_hashmap_at(m, i)->val];
	if (db_intern(ing, ins, sel, v, &key, err) != 0)
		return NULL;
	*arr = gpu_xreallocarray(*arr, *n + 1, sizeof(**arr));
	(*arr)[*n] = (struct seen){.key = key};
	gpu_hashmap_at(m, i)->val = (uint64_t)*n;
	return &(*arr)[(*n)++];
}

static void
widen(struct seen *e, int64_t ts)
{
	if (!e->has_ts) {
		e->min_ms = e->max_ms = ts;
		e->has_ts = true;
	} else if (ts < e->min_ms) {
		e->min_ms = ts;
	} else if (ts > e->max_ms) {
		e->max_ms = ts;
	}
}

/* A new entry in gpus for unit (gpu, mig) of node node_id, seen at ts. */
static size_t
new_unit(struct gpu_ingest *ing, int64_t node_id, int gpu, int mig, int64_t ts)
{
	struct gpu_seen *g;

	ing->gpus =
	    gpu_xreallocarray(ing->gpus, ing->ngpus + 1, sizeof(*ing->gpus));
	g = &ing->gpus[ing->ngpus];
	memset(g, 0, sizeof(*g));
	g->node_id = node_id;
	g->gpu = gpu;
	g->mig = mig;
	g->min_ms = g->max_ms = ts;
	g->attr = NO_ATTR;
	return ing->ngpus++;
}

/*
 * The run's entry for unit (gpu, mig) of node (node_id), first seen at
 * ts: a whole GPU by the node's index, a MIG slice by its code.
 */
static struct gpu_seen *
gpu_entry(struct gpu_ingest *ing, struct seen *node, int64_t node_id, int gpu,
	  int mig, int64_t ts)
{
	bool added;
	uint64_t *slot;

	if (mig < 0 && gpu >= 0) {
		size_t i = (size_t)gpu;

		if (i < node->nunit && node->unit[i] != 0)
			return &ing->gpus[node->unit[i] - 1];
		if (i >= node->nunit) {
			size_t n = i + 1 > 2 * node->nunit ? i + 1
							   : 2 * node->nunit;

			node->unit = gpu_xreallocarray(node->unit, n,
						       sizeof(*node->unit));
			memset(node->unit + node->nunit, 0,
			       (n - node->nunit) * sizeof(*node->unit));
			node->nunit = n;
		}
		node->unit[i] = (uint32_t)new_unit(ing, node_id, gpu, mig, ts) + 1;
		return &ing->gpus[node->unit[i] - 1];
	}
	slot = code_slot(&ing->gpu_map, unit_code(node_id, gpu, mig), &added);
	if (added)
		*slot = new_unit(ing, node_id, gpu, mig, ts);
	return &ing->gpus[*slot];
}

static void
note_gpu(struct gpu_seen *g, const struct gpu_sample *s, int64_t model_key,
	 int64_t profile_key)
{
	bool latest;

	g->loaded = true;
	latest = s->ts_ms >= g->max_ms;
	if (s->ts_ms < g->min_ms)
		g->min_ms = s->ts_ms;
	if (latest)
		g->max_ms = s->ts_ms;
	if (model_key != 0 && (latest || g->model_key == 0))
		g->model_key = model_key;
	if (profile_key != 0 && (latest || g->profile_key == 0))
		g->profile_key = profile_key;
	if (s->has_mem_total && (latest || !g->has_mem_total)) {
		g->mem_total = s->mem_total_mib;
		g->has_mem_total = true;
	}
	if (s->gpu_uuid.len > 0 && (latest || g->uuid == NULL) &&
	    (g->uuid == NULL || strlen(g->uuid) != s->gpu_uuid.len ||
	     memcmp(g->uuid, s->gpu_uuid.p, s->gpu_uuid.len) != 0)) {
		free(g->uuid);
		g->uuid = gpu_xstrndup(s->gpu_uuid.p, s->gpu_uuid.len);
	}
}

/*
 * Mark the hour of ts dirty. built: by a new fact whose hour rows are
 * built as they load; else the hour's rollup rows are read from its facts.
 */
static int
mark_hour(struct gpu_ingest *ing, int64_t ts, bool built, struct gpu_err *err)
{
	int64_t hour = ts / GPU_HOUR_MS * GPU_HOUR_MS;
	bool added;

	if (!built)
		gpu_prebuild_off(&ing->pre, hour);
	/*
	 * Where the facts were deleted the rollups are final
	 * (gpu/retention.h); a packed hour is rebuilt from its packed
	 * samples (a job record's new owner). No sample reaches here before
	 * the raw-sample horizon: gpuingest rejects it.
	 */
	if (hour == ing->last_hour || hour < ing->deleted_ms)
		return 0;
	ing->last_hour = hour;
	slot_of(&ing->hour_map, &hour, sizeof(hour), &added);
	if (!added)
		return 0;
	sqlite3_bind_int64(ing->st[S_DIRTY], 1, hour);
	return run(ing, ing->st[S_DIRTY], err);
}

static void
put_opt_i64(const struct gpu_binder *b, int i, bool has, int64_t v)
{
	if (has)
		gpu_bind_i64(b, i, v);
	else
		gpu_bind_null(b, i);
}

static void
put_opt_double(const struct gpu_binder *b, int i, bool has, double v)
{
	if (has)
		gpu_bind_double(b, i, v);
	else
		gpu_bind_null(b, i);
}

static void
put_key(const struct gpu_binder *b, int i, int64_t key)
{
	put_opt_i64(b, i, key != 0, key);
}

/*
 * A fact's MIG text (at most 3 bytes), bound without a copy: f outlives
 * the statement's step, and a kept binding's f is the same batch entry,
 * so an equal text that is not bound again is still read from live memory.
 */
static void
put_mig(const struct gpu_binder *b, int i, const char *text)
{
	uint64_t v = 0;
	size_t n = strlen(text);

	memcpy(&v, text, n < sizeof(v) ? n : sizeof(v) - 1);
	if (!gpu_bind_held(b, i, SQLITE_TEXT, v))
		sqlite3_bind_text(b->st, i, text, (int)n, SQLITE_STATIC);
}

/* Bind f, written by run ingest_id, to parameters first.. of b. */
static void
put_fact(const struct gpu_binder *b, int first, const struct fact *f,
	 int64_t ingest_id)
{
	gpu_bind_i64(b, first, f->ts_ms);
	gpu_bind_i64(b, first + 1, f->node_id);
	gpu_bind_i64(b, first + 2, f->gpu);
	gpu_bind_double(b, first + 3, f->util);
	gpu_bind_i64(b, first + 4, f->mem_used);
	put_opt_i64(b, first + 5, f->has_mem_total, f->mem_total);
	for (int i = 0; i < 4; i++)
		put_key(b, first + 6 + i, f->key[i]);
	gpu_bind_i64(b, first + 10, f->interval_s);
	gpu_bind_i64(b, first + 11, ingest_id);
	put_opt_double(b, first + 12, f->has_power, f->power);
	put_opt_double(b, first + 13, f->has_temp, f->temp);
	put_opt_i64(b, first + 14, f->from_alloc, 1);
	put_mig(b, first + 15, f->mig_text);
	put_key(b, first + 16, f->key[4]);
	put_opt_i64(b, first + 17, f->share28 > 0, f->share28);
}

/* Bind f, written by run ingest_id, to parameters first.. of st. */
static void
bind_fact_id(sqlite3_stmt *st, int first, const struct fact *f,
	     int64_t ingest_id)
{
	put_fact(&(struct gpu_binder){st, NULL}, first, f, ingest_id);
}

/* Bind f to parameters first..first+FACT_NCOLS-1 of st. */
static void
bind_fact(struct gpu_ingest *ing, sqlite3_stmt *st, int first,
	  const struct fact *f)
{
	bind_fact_id(st, first, f, ing->ingest_id);
}

/* Bind f's key to parameters 1-4 of st (ts, node, gpu, mig). */
static void
bind_fact_key(sqlite3_stmt *st, const struct fact *f)
{
	sqlite3_bind_int64(st, 1, f->ts_ms);
	sqlite3_bind_int64(st, 2, f->node_id);
	sqlite3_bind_int(st, 3, f->gpu);
	sqlite3_bind_text(st, 4, f->mig_text, -1, SQLITE_STATIC);
}

/*
 * A stored row's values, STORED_COLS in order at v[0..13], into out (whose
 * key is kept), and the run that wrote them.
 */
static void
stored_values(sqlite3_value **v, struct fact *out, int64_t *ingest_id)
{
	out->util = sqlite3_value_double(v[0]);
	out->mem_used = sqlite3_value_int64(v[1]);
	out->has_mem_total = sqlite3_value_type(v[2]) != SQLITE_NULL;
	out->mem_total = sqlite3_value_int64(v[2]);
	for (int i = 0; i < 4; i++)
		out->key[i] = sqlite3_value_int64(v[3 + i]);
	out->interval_s = sqlite3_value_int(v[7]);
	out->has_power = sqlite3_value_type(v[8]) != SQLITE_NULL;
	out->power = sqlite3_value_double(v[8]);
	out->has_temp = sqlite3_value_type(v[9]) != SQLITE_NULL;
	out->temp = sqlite3_value_double(v[9]);
	out->from_alloc = sqlite3_value_type(v[10]) != SQLITE_NULL;
	out->key[4] = sqlite3_value_int64(v[11]);
	out->share28 = sqlite3_value_int(v[12]);
	*ingest_id = sqlite3_value_int64(v[13]);
}

/* The values of the current row of st, whose first columns are STORED_COLS. */
static void
row_values(sqlite3_stmt *st, const struct fact *f, struct fact *out,
	   int64_t *ingest_id)
{
	sqlite3_value *v[14];

	for (int i = 0; i < 14; i++)
		v[i] = sqlite3_column_value(st, i);
	if (out != f)
		*out = *f;
	stored_values(v, out, ingest_id);
}

/*
 * Look up the stored values (STORED_COLS) of f's key with st into *out,
 * which keeps f's key, and the run that wrote them. *found says whether
 * the key is stored.
 */
static int
read_stored(struct gpu_ingest *ing, sqlite3_stmt *st, const struct fact *f,
	    struct fact *out, int64_t *ingest_id, bool *found,
	    struct gpu_err *err)
{
	int rc;

	bind_fact_key(st, f);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		row_values(st, f, out, ingest_id);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(ing, err);
	return 0;
}

/* Compare two keys in the fact table's order. */
static int
fkey_cmp(const struct fkey *a, const struct fkey *b)
{
	if (a->ts_ms != b->ts_ms)
		return a->ts_ms < b->ts_ms ? -1 : 1;
	if (a->node_id != b->node_id)
		return a->node_id < b->node_id ? -1 : 1;
	if (a->gpu != b->gpu)
		return a->gpu < b->gpu ? -1 : 1;
	return strcmp(a->mig, b->mig);
}

static struct fkey
fact_key(const struct fact *f)
{
	struct fkey k;

	k.ts_ms = f->ts_ms;
	k.node_id = f->node_id;
	k.gpu = f->gpu;
	memcpy(k.mig, f->mig_text, sizeof(k.mig));
	return k;
}

/*
 * gpu_fact_take(STORED_COLS, ts_ms, node_id, gpu, mig): the row S_FACT_SCAN
 * is on, into the cursor (ctx: the run). Its values come as the arguments
 * of one call, cheaper than a column call each (18 a row); the scan reads
 * in key order without a sort, so the call is for the row the step
 * returns (cursor_step() checks that no sort ran).
 */
static void
sql_fact_take(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct gpu_ingest *ing = sqlite3_user_data(ctx);
	struct cursor *c = &ing->cur;
	struct fact *r = &c->row;
	const unsigned char *mig;
	size_t len;

	if (argc != 18) {
		sqlite3_result_error(ctx, "gpu_fact_take: bad call", -1);
		return;
	}
	mig = sqlite3_value_text(argv[17]);
	len = (size_t)sqlite3_value_bytes(argv[17]);
	c->key.ts_ms = sqlite3_value_int64(argv[14]);
	c->key.node_id = sqlite3_value_int64(argv[15]);
	c->key.gpu = sqlite3_value_int(argv[16]);
	if (mig == NULL || len >= sizeof(c->key.mig))
		len = 0; /* an id is at most two digits */
	if (len > 0)
		memcpy(c->key.mig, mig, len);
	c->key.mig[len] = '\0';
	r->ts_ms = c->key.ts_ms;
	r->node_id = c->key.node_id;
	r->gpu = c->key.gpu;
	memcpy(r->mig_text, c->key.mig, sizeof(r->mig_text));
	stored_values(argv, r, &c->row_id);
	c->took = true;
}

/* Step the cursor to the next stored row (or its end), after gap. */
static int
cursor_step(struct gpu_ingest *ing, struct gpu_err *err)
{
	struct cursor *c = &ing->cur;
	sqlite3_stmt *st = ing->st[S_FACT_SCAN];
	int rc;

	c->took = false;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		c->at_end = true;
		return 0;
	}
	if (rc != SQLITE_ROW) {
		c->valid = false;
		sqlite3_reset(st);
		return db_fail(ing, err);
	}
	if (!c->took || sqlite3_stmt_status(st, SQLITE_STMTSTATUS_SORT, 0)) {
		c->valid = false;
		sqlite3_reset(st);
		return gpu_err_set(err, "database error: the fact scan did not"
				   " read in key order");
	}
	return 0;
}

/* f's key is the cursor's row: hand out its values. */
static int
cursor_hit(const struct cursor *c, const struct fact *f, struct fact *out,
	   int64_t *ingest_id, bool *found)
{
	*found = true;
	*out = c->row;
	out->mig = f->mig;
	*ingest_id = c->row_id;
	return 0;
}

/* Steps tried before a lookup seeks instead. */
#define CURSOR_STEPS 4

/*
 * The snapshot cursor's record v (fields as gpu_pages_next() gives them)
 * into pcur's key and row, as sql_fact_take() fills cur's. Returns 0, or
 * -1 for a value the statement would have converted (text in a number
 * column): the caller then reads through the statement.
 */
static int
snap_take(struct gpu_ingest *ing, const struct gpu_pval *v)
{
	struct cursor *c = &ing->pcur;
	struct fact *r = &c->row;
	const struct gpu_pval *x[SNAP_NFIELDS];
	int64_t i64[SNAP_NFIELDS] = {0};
	double util = 0, power = 0, temp = 0;

	for (size_t i = 0; i < SNAP_NFIELDS; i++)
		x[i] = &v[ing->snap_field[i]];
	if (x[0]->type != GPU_PV_INT || x[1]->type != GPU_PV_INT ||
	    x[2]->type != GPU_PV_INT || x[3]->type != GPU_PV_TEXT)
		return -1;
	for (size_t i = 4; i < SNAP_NFIELDS; i++)
		if (gpu_pval_int64(x[i], &i64[i]) != 0)
			return -1;
	if (gpu_pval_double(x[4], &util) != 0 ||
	    gpu_pval_double(x[12], &power) != 0 ||
	    gpu_pval_double(x[13], &temp) != 0)
		return -1;
	c->key.ts_ms = x[0]->i;
	c->key.node_id = x[1]->i;
	c->key.gpu = (int)x[2]->i;
	/* An id is at most two digits (as sql_fact_take() reads it). */
	if (x[3]->n < sizeof(c->key.mig)) {
		memcpy(c->key.mig, x[3]->p, x[3]->n);
		c->key.mig[x[3]->n] = '\0';
	} else {
		c->key.mig[0] = '\0';
	}
	r->ts_ms = c->key.ts_ms;
	r->node_id = c->key.node_id;
	r->gpu = c->key.gpu;
	memcpy(r->mig_text, c->key.mig, sizeof(r->mig_text));
	r->util = util;
	r->mem_used = i64[5];
	r->has_mem_total = x[6]->type != GPU_PV_NULL;
	r->mem_total = i64[6];
	for (int i = 0; i < 4; i++)
		r->key[i] = i64[7 + i];
	r->interval_s = (int)i64[11];
	r->has_power = x[12]->type != GPU_PV_NULL;
	r->power = power;
	r->has_temp = x[13]->type != GPU_PV_NULL;
	r->temp = temp;
	r->from_alloc = x[14]->type != GPU_PV_NULL;
	r->key[4] = i64[15];
	r->share28 = (int)i64[16];
	c->row_id = i64[17];
	return 0;
}

/* Step the snapshot cursor (or to its end). Returns 0, or -1 (unread). */
static int
snap_step(struct gpu_ingest *ing)
{
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];
	int rc = gpu_pages_next(ing->snap, v);

	if (rc == 0) {
		ing->pcur.at_end = true;
		return 0;
	}
	return rc < 0 ? -1 : snap_take(ing, v);
}

/*
 * Step the statement's cursor (snap false) or the snapshot's. Returns 0,
 * -1 with err filled, or 1 when the snapshot cannot be read (it is then
 * off).
 */
static int
step(struct gpu_ingest *ing, bool snap, struct gpu_err *err)
{
	if (!snap)
		return cursor_step(ing, err);
	if (snap_step(ing) == 0)
		return 0;
	ing->snap_off = true;
	ing->pcur.valid = false;
	return 1;
}

/* Seek a cursor to the first stored key at or after k; as step(). */
static int
seek(struct gpu_ingest *ing, bool snap, const struct fact *f,
     const struct fkey *k, struct gpu_err *err)
{
	struct cursor *c = snap ? &ing->pcur : &ing->cur;
	int rc;

	c->valid = false;
	c->at_end = false;
	if (snap) {
		const struct gpu_pval key[4] = {
		    {.type = GPU_PV_INT, .i = k->ts_ms},
		    {.type = GPU_PV_INT, .i = k->node_id},
		    {.type = GPU_PV_INT, .i = k->gpu},
		    {.type = GPU_PV_TEXT,
		     .p = (const unsigned char *)k->mig,
		     .n = strlen(k->mig)}};

		if (gpu_pages_seek_key(ing->snap, key, 4) != 0) {
			ing->snap_off = true;
			return 1;
		}
	} else {
		sqlite3_reset(ing->st[S_FACT_SCAN]);
		bind_fact_key(ing->st[S_FACT_SCAN], f);
	}
	if ((rc = step(ing, snap, err)) != 0)
		return rc;
	/* The gap starts at k itself. */
	c->valid = true;
	c->gap = *k;
	c->gap_in = true;
	return 0;
}

/*
 * The stored row of f's key, as read_stored() finds it, through the
 * statement's cursor or (snap) the snapshot's: found at the cursor's row,
 * known absent in its gap, or a seek. Returns as step().
 */
static int
lookup_stored(struct gpu_ingest *ing, bool snap, const struct fact *f,
	      struct fact *out, int64_t *ingest_id, bool *found,
	      struct gpu_err *err)
{
	struct cursor *c = snap ? &ing->pcur : &ing->cur;
	struct fkey k = fact_key(f);
	int d, rc;

	*found = false;
	if (c->valid) {
		d = fkey_cmp(&k, &c->gap);
		if (d > 0 || (d == 0 && c->gap_in)) {
			/* k is after the gap's start: step up to it. */
			for (int i = 0; i <= CURSOR_STEPS; i++) {
				if (c->at_end)
					return 0;
				d = fkey_cmp(&k, &c->key);
				if (d < 0)
					return 0;
				if (d == 0)
					return cursor_hit(c, f, out, ingest_id,
							  found);
				c->gap = c->key;
				c->gap_in = false;
				if (i < CURSOR_STEPS &&
				    (rc = step(ing, snap, err)) != 0)
					return rc;
			}
		}
	}
	if ((rc = seek(ing, snap, f, &k, err)) != 0)
		return rc;
	if (!c->at_end && fkey_cmp(&k, &c->key) == 0)
		return cursor_hit(c, f, out, ingest_id, found);
	return 0;
}

/*
 * Open the snapshot cursor when the warehouse is in WAL mode (a rollback
 * journal's readers would block the run's own writes) and its file is
 * the snapshot; else leave it off.
 */
static void
snap_open(struct gpu_ingest *ing)
{
	const char *path = sqlite3_db_filename(ing->db, "main");
	sqlite3_stmt *st = NULL;
	bool wal = false;

	/*
	 * Only inside the run's transaction: no commit can come between the
	 * snapshot and the run's view of the table but the run's own.
	 */
	if (!ing->has_hi || sqlite3_get_autocommit(ing->db) || path == NULL ||
	    path[0] == '\0' || !gpu_pages_allowed() ||
	    sqlite3_prepare_v2(ing->db, "PRAGMA journal_mode", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	wal = sqlite3_step(st) == SQLITE_ROW &&
	      sqlite3_stricmp((const char *)sqlite3_column_text(st, 0),
			      "wal") == 0;
	if (!wal ||
	    sqlite3_open_v2(path, &ing->snap_db,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(ing->snap_db, "BEGIN", NULL, NULL, NULL) !=
		SQLITE_OK ||
	    (ing->snap = gpu_pages_open(ing->snap_db, "gpu_usage_fact_rows",
					NULL)) == NULL)
		goto out;
	for (size_t i = 0; i < SNAP_NFIELDS; i++)
		if ((ing->snap_field[i] =
			 gpu_pages_field(ing->snap, snap_cols[i])) < 0)
			goto out;
	sqlite3_finalize(st);
	return;
out:
	sqlite3_finalize(st);
	gpu_pages_close(ing->snap);
	ing->snap = NULL;
	sqlite3_close(ing->snap_db);
	ing->snap_db = NULL;
}

/* Close the snapshot cursor and its connection (before the commit). */
static void
snap_close(struct gpu_ingest *ing)
{
	gpu_pages_close(ing->snap);
	ing->snap = NULL;
	if (ing->snap_db != NULL) {
		sqlite3_exec(ing->snap_db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(ing->snap_db);
	}
	ing->snap_db = NULL;
	ing->snap_off = true;
}

/* A key was written: the cursor no longer knows it absent. */
static void
cursor_wrote(struct gpu_ingest *ing, const struct fact *f)
{
	struct cursor *c = &ing->cur;
	struct fkey k;
	int d;

	if (!c->valid)
		return;
	k = fact_key(f);
	d = fkey_cmp(&k, &c->gap);
	if (d > 0 || (d == 0 && c->gap_in)) {
		c->gap = k;
		c->gap_in = false;
	}
}

/* Rows were written where the cursor may have known none: forget it. */
static void
cursor_forget(struct gpu_ingest *ing)
{
	if (ing->cur.valid)
		sqlite3_reset(ing->st[S_FACT_SCAN]);
	ing->cur.valid = false;
}

/* Do two rows of one key hold the same values? */
static bool
same_values(const struct fact *a, const struct fact *b)
{
	return a->util == b->util && a->mem_used == b->mem_used &&
	       a->has_mem_total == b->has_mem_total &&
	       (!a->has_mem_total || a->mem_total == b->mem_total) &&
	       memcmp(a->key, b->key, sizeof(a->key)) == 0 &&
	       a->interval_s == b->interval_s &&
	       a->has_power == b->has_power &&
	       (!a->has_power || a->power == b->power) &&
	       a->has_temp == b->has_temp &&
	       (!a->has_temp || a->temp == b->temp) &&
	       a->from_alloc == b->from_alloc && a->share28 == b->share28;
}

/* Insert the batched rows, known to be new: one statement when full. */
static int
flush_batch(struct gpu_ingest *ing, struct gpu_err *err)
{
	size_t i = 0;

	if (ing->nbatch > 0)
		cursor_forget(ing);
	if (ing->nbatch == BATCH) {
		struct gpu_binder b = {ing->batch_st, ing->batch_held};

		for (; i < BATCH; i++)
			put_fact(&b, (int)i * FACT_NCOLS + 1, &ing->batch[i],
				 ing->ingest_id);
		if (run(ing, ing->batch_st, err) != 0)
			return -1;
	}
	for (; i < ing->nbatch; i++) {
		bind_fact(ing, ing->st[S_FACT_INS], 1, &ing->batch[i]);
		if (run(ing, ing->st[S_FACT_INS], err) != 0)
			return -1;
	}
	ing->nbatch = 0;
	return 0;
}

/*
 * Is f's key certainly absent from the table? Keeps the bound: rows at a
 * newer time than every stored row are new, as are rows at that newest
 * time whose (node, gpu) this run has not loaded yet.
 */
static bool
known_new(struct gpu_ingest *ing, struct gpu_seen *g, const struct fact *f)
{
	if (!ing->has_hi || f->ts_ms > ing->hi_ms) {
		ing->has_hi = true;
		ing->hi_from_run = true;
		ing->hi_ms = f->ts_ms;
		if (++ing->newest_gen == 0) { /* wrapped: forget every unit */
			for (size_t i = 0; i < ing->ngpus; i++)
				ing->gpus[i].newest_gen = 0;
			ing->newest_gen = 1;
		}
		g->newest_gen = ing->newest_gen;
		return true;
	}
	if (f->ts_ms != ing->hi_ms || !ing->hi_from_run ||
	    g->newest_gen == ing->newest_gen)
		return false;
	g->newest_gen = ing->newest_gen;
	return true;
}

/* Sum new fact f, of unit g, into its hour's rollup rows (gpu/prebuild.h). */
static int
prebuild(struct gpu_ingest *ing, struct gpu_seen *g, const struct fact *f,
	 bool *built, struct gpu_err *err)
{
	int64_t k[GPU_HK_N];
	struct gpu_sample smp;

	*built = false;
	if (f->ts_ms < ing->pre.fresh_from)
		return 0;
	k[GPU_HK_TIME] = f->ts_ms / GPU_HOUR_MS * GPU_HOUR_MS;
	k[GPU_HK_NODE] = f->node_id;
	k[GPU_HK_GPU] = f->gpu;
	k[GPU_HK_MIG] = f->mig;
	k[GPU_HK_JOB] = f->key[0];
	k[GPU_HK_USER] = f->key[1];
	k[GPU_HK_PROJECT] = f->key[2];
	k[GPU_HK_MODEL] = f->key[3];
	k[GPU_HK_PROFILE] = f->key[4];
	k[GPU_HK_CATEGORY] = 0;
	memset(&smp, 0, sizeof(smp));
	smp.ts_ms = f->ts_ms;
	smp.util_pct = f->util;
	smp.mem_used_mib = f->mem_used;
	smp.has_mem_total = f->has_mem_total;
	smp.mem_total_mib = f->mem_total;
	smp.interval_s = f->interval_s;
	smp.has_power = f->has_power;
	smp.power_w = f->power;
	if (f->key[0] != 0) /* the sums ask only whether there is a job */
		smp.job_id = (struct gpu_str){"?", 1};
	smp.share28 = f->share28;
	return gpu_prebuild_add(&ing->pre, k, &smp, &g->hint, built, err);
}

/* Write f over its stored row, as written by run ingest_id. */
static int
rewrite(struct gpu_ingest *ing, const struct fact *f, int64_t ingest_id,
	struct gpu_err *err)
{
	struct fkey k = fact_key(f);

	/* The cursor's copy of this row would be stale. */
	if (ing->cur.valid && !ing->cur.at_end &&
	    fkey_cmp(&k, &ing->cur.key) == 0)
		cursor_forget(ing);
	bind_fact_id(ing->st[S_FACT_UPD], 1, f, ingest_id);
	return run(ing, ing->st[S_FACT_UPD], err);
}

/* Remember that this source found f's key (of unit g) unchanged. */
static int
note_seen(struct gpu_ingest *ing, struct gpu_seen *g, const struct fact *f,
	  struct gpu_err *err)
{
	int64_t ts = f->ts_ms;

	if (g->seen_gen != ing->source_gen) {
		g->seen_gen = ing->source_gen;
		g->seen_n = 0;
		g->seen_spilled = false;
	}
	if (g->seen_n == 0) {
		g->seen_lo = ts;
		g->seen_n = 1;
		return 0;
	}
	if (g->seen_n == 1 && ts > g->seen_lo) {
		g->seen_step = ts - g->seen_lo;
		g->seen_n = 2;
		return 0;
	}
	if (g->seen_n >= 2 && ts - g->seen_lo == g->seen_step * g->seen_n) {
		g->seen_n++;
		return 0;
	}
	g->seen_spilled = true;
	bind_fact_key(ing->st[S_SEEN_PUT], f);
	ing->run_keys = true;
	return run(ing, ing->st[S_SEEN_PUT], err);
}

/* Did this source find f's key (of unit g) unchanged? */
static int
was_seen(struct gpu_ingest *ing, const struct gpu_seen *g, const struct fact *f,
	 bool *seen, struct gpu_err *err)
{
	int64_t d = f->ts_ms - g->seen_lo, one;

	*seen = false;
	if (g->seen_gen != ing->source_gen)
		return 0;
	if (g->seen_n > 0 && d >= 0 &&
	    (d == 0 || (g->seen_n >= 2 && d % g->seen_step == 0 &&
			d / g->seen_step < g->seen_n))) {
		*seen = true;
		return 0;
	}
	if (!g->seen_spilled)
		return 0;
	bind_fact_key(ing->st[S_SEEN_GET], f);
	return query_i64(ing, ing->st[S_SEEN_GET], &one, seen, err);
}

/*
 * Upsert one row whose key may exist, and count it. The last row of a key
 * in a run wins and is compared with what the warehouse held before the
 * run; the earlier ones count as superseded (docs/FORMAT.md 2.1). A key
 * this run wrote holds this run's ingest_id, and the row it replaced (if
 * any) is in run_pre; a key it found unchanged is in run_seen, looked up
 * only when maybe_seen (the row's time lies within the times this run
 * has loaded for its GPU).
 */
static int
upsert(struct gpu_ingest *ing, struct gpu_seen *g, const struct fact *f,
       bool maybe_seen, bool *changed, struct gpu_err *err)
{
	struct fact old, pre;
	int64_t old_id, pre_id;
	bool found, had_pre;

	if (flush_batch(ing, err) != 0)
		return -1;
	/* A key this run may have written is looked up where it wrote. */
	if (maybe_seen || ing->snap == NULL || ing->snap_off ||
	    lookup_stored(ing, true, f, &old, &old_id, &found, NULL) != 0) {
		if (lookup_stored(ing, false, f, &old, &old_id, &found, err) !=
		    0)
			return -1;
	}
	*changed = true;
	if (!found) {
		ing->c.inserted++;
		cursor_wrote(ing, f);
		bind_fact(ing, ing->st[S_FACT_INS], 1, f);
		return run(ing, ing->st[S_FACT_INS], err);
	}
	if (old_id == ing->ingest_id) {
		/* Written by an earlier row of this run: superseded. */
		if (read_stored(ing, ing->st[S_PRE_GET], f, &pre, &pre_id,
				&had_pre, err) != 0)
			return -1;
		ing->c.superseded++;
		if (!had_pre) /* new to the warehouse: still inserted */
			return rewrite(ing, f, ing->ingest_id, err);
		ing->c.updated--;
		if (same_values(f, &pre)) {
			ing->c.unchanged++;
			return rewrite(ing, &pre, pre_id, err) != 0 ||
					   note_seen(ing, g, f, err) != 0
				   ? -1
				   : 0;
		}
		ing->c.updated++;
		return rewrite(ing, f, ing->ingest_id, err);
	}
	if (maybe_seen) {
		if (was_seen(ing, g, f, &found, err) != 0)
			return -1;
		if (found) {
			/* Found unchanged by an earlier row of this run. */
			ing->c.superseded++;
			ing->c.unchanged--;
		}
	}
	if (same_values(f, &old)) {
		*changed = false;
		ing->c.unchanged++;
		return note_seen(ing, g, f, err);
	}
	ing->c.updated++;
	bind_fact_id(ing->st[S_PRE_PUT], 1, &old, old_id);
	ing->run_keys = true;
	if (run(ing, ing->st[S_PRE_PUT], err) != 0)
		return -1;
	return rewrite(ing, f, ing->ingest_id, err);
}

int
gpu_ingest_sample(struct gpu_ingest *ing, const struct gpu_sample *s,
		  struct gpu_err *err)
{
	struct fact f;
	struct seen *node, *job = NULL;
	struct gpu_seen *g;
	bool changed = true, overlap = false, built = false;

	node = seen_of(ing, &ing->node_map, &ing->nodes, &ing->nnodes,
		       S_NODE_INS, S_NODE_SEL, s->node, NULL, err);
	if (node == NULL)
		return -1;
	f.ts_ms = s->ts_ms;
	f.node_id = node->key;
	f.gpu = s->gpu;
	f.mig = s->has_mig ? s->mig : -1;
	g = gpu_entry(ing, node, f.node_id, f.gpu, f.mig, f.ts_ms);
	f.key[0] = 0;
	if (s->job_id.len > 0) {
		job = seen_of(ing, &ing->job_map, &ing->jobs, &ing->njobs,
			      S_JOB_INS, S_JOB_SEL, s->job_id,
			      &g->last_ent[ROLE_JOB], err);
		if (job == NULL)
			return -1;
		f.key[0] = job->key;
	}
	if (name_key(ing, ROLE_USER, s->user, &g->last_ent[ROLE_USER],
		     &f.key[1], err) != 0 ||
	    name_key(ing, ROLE_PROJECT, s->project, &g->last_ent[ROLE_PROJECT],
		     &f.key[2], err) != 0 ||
	    name_key(ing, ROLE_MODEL, s->model, &g->last_ent[ROLE_MODEL],
		     &f.key[3], err) != 0 ||
	    name_key(ing, ROLE_PROFILE,
		     s->has_mig ? s->profile : (struct gpu_str){0},
		     &g->last_ent[ROLE_PROFILE], &f.key[4], err) != 0)
		return -1;
	f.util = s->util_pct;
	f.mem_used = s->mem_used_mib;
	f.has_mem_total = s->has_mem_total;
	f.mem_total = s->mem_total_mib;
	f.interval_s = s->interval_s > 0 ? s->interval_s : ing->interval_s;
	f.has_power = s->has_power;
	f.power = s->power_w;
	f.has_temp = s->has_temp;
	f.temp = s->temp_c;
	f.from_alloc = false;
	f.share28 = s->has_mig ? s->share28 : 0;
	if (s->has_mig)
		snprintf(f.mig_text, sizeof(f.mig_text), "%d", s->mig);
	else
		f.mig_text[0] = '\0';
	/*
	 * A sample's own job wins; else the allocation holding its GPU.
	 * Allocations name whole GPUs: a MIG slice keeps the job it carries.
	 */
	if (s->job_id.len == 0 && !s->has_mig && ing->has_allocs) {
		const struct gpu_seg *seg;

		if (gpu_holder(ing, g, f.ts_ms, &seg, err) != 0)
			return -1;
		if (seg != NULL) {
			f.key[0] = seg->job_key;
			f.from_alloc = true;
			if (g->job_key != seg->job_key) {
				g->job_key = seg->job_key;
				g->job = (size_t)(job_by_key(ing, g->job_key) -
						  ing->jobs);
			}
			job = &ing->jobs[g->job];
			overlap = seg->overlap;
		}
	}

	if (known_new(ing, g, &f)) {
		ing->batch[ing->nbatch++] = f;
		ing->c.inserted++;
		if (prebuild(ing, g, &f, &built, err) != 0)
			return -1;
		if (ing->nbatch == BATCH && flush_batch(ing, err) != 0)
			return -1;
	} else if (upsert(ing, g, &f,
			  g->loaded && f.ts_ms >= g->min_ms &&
			      f.ts_ms <= g->max_ms,
			  &changed, err) != 0) {
		return -1;
	}
	ing->c.read++;
	if (!ing->c.has_ts) {
		ing->c.min_ts_ms = ing->c.max_ts_ms = s->ts_ms;
		ing->c.has_ts = true;
	} else if (s->ts_ms < ing->c.min_ts_ms) {
		ing->c.min_ts_ms = s->ts_ms;
	} else if (s->ts_ms > ing->c.max_ts_ms) {
		ing->c.max_ts_ms = s->ts_ms;
	}
	widen(node, s->ts_ms);
	if (job != NULL)
		widen(job, s->ts_ms);
	if (changed && f.from_alloc) {
		ing->c.attributed++;
		ing->c.overlaps += overlap;
	}
	note_gpu(g, s, f.key[3], f.key[4]);
	return changed ? mark_hour(ing, s->ts_ms, built, err) : 0;
}

/*
 * Bind to the SET statement the value a job field will have: the record's
 * when present, else the stored one (column col of the lookup). Sets
 * *changed when that differs from the stored value.
 */
static void
merge_text(sqlite3_stmt *get, int col, struct gpu_str v, sqlite3_stmt *set,
	   int param, bool *changed)
{
	const unsigned char *old = sqlite3_column_text(get, col);
	size_t len = (size_t)sqlite3_column_bytes(get, col);

	if (v.len == 0) {
		if (old == NULL)
			sqlite3_bind_null(set, param);
		else
			sqlite3_bind_text(set, param, (const char *)old,
					  (int)len, SQLITE_TRANSIENT);
		return;
	}
	sqlite3_bind_text(set, param, v.p, (int)v.len, SQLITE_STATIC);
	if (old == NULL || len != v.len || memcmp(old, v.p, len) != 0)
		*changed = true;
}

static void
merge_int(sqlite3_stmt *get, int col, bool has, int64_t v, sqlite3_stmt *set,
	  int param, bool *changed)
{
	bool old_null = sqlite3_column_type(get, col) == SQLITE_NULL;
	int64_t old = sqlite3_column_int64(get, col);

	if (!has) {
		bind_opt_i64(set, param, !old_null, old);
		return;
	}
	sqlite3_bind_int64(set, param, v);
	if (old_null || old != v)
		*changed = true;
}

static int
new_job(struct gpu_ingest *ing, const struct gpu_job *job, struct gpu_err *err)
{
	sqlite3_stmt *st = ing->st[S_JOB_NEW];

	bind_str(st, 1, job->job_id);
	bind_str(st, 2, job->user);
	bind_str(st, 3, job->project);
	bind_opt_i64(st, 4, job->has_gpus, job->gpus);
	bind_opt_i64(st, 5, job->has_start, job->start_ms);
	bind_opt_i64(st, 6, job->has_end, job->end_ms);
	bind_opt_i64(st, 7, job->has_gpus && job->slices > 0, job->slices);
	return run(ing, st, err);
}

/* What an upsert did to the stored record. */
enum outcome { UNCHANGED, INSERTED, UPDATED };

static void
count(struct gpu_ingest *ing, enum outcome o)
{
	ing->c.read++;
	if (o == INSERTED)
		ing->c.inserted++;
	else if (o == UPDATED)
		ing->c.updated++;
	else
		ing->c.unchanged++;
}

/*
 * Merge a job record into jobs_dim: present fields replace stored ones.
 * A job row without any field (a job only samples named) counts as new.
 */
static int
merge_job(struct gpu_ingest *ing, const struct gpu_job *job, enum outcome *o,
	  struct gpu_err *err)
{
	sqlite3_stmt *get = ing->st[S_JOB_GET], *set = ing->st[S_JOB_SET];
	bool changed = false, has_record = false, has_range;
	int64_t first, last;
	int rc;

	*o = UNCHANGED;
	bind_str(get, 1, job->job_id);
	rc = sqlite3_step(get);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(get);
		*o = INSERTED;
		return new_job(ing, job, err);
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(get);
		return db_fail(ing, err);
	}
	has_range = sqlite3_column_type(get, 6) != SQLITE_NULL &&
		    sqlite3_column_type(get, 7) != SQLITE_NULL;
	first = sqlite3_column_int64(get, 6);
	last = sqlite3_column_int64(get, 7);
	for (int col = 1; col <= 5; col++)
		if (sqlite3_column_type(get, col) != SQLITE_NULL)
			has_record = true;
	bind_str(set, 1, job->job_id);
	merge_text(get, 1, job->user, set, 2, &changed);
	merge_text(get, 2, job->project, set, 3, &changed);
	merge_int(get, 3, job->has_gpus, job->gpus, set, 4, &changed);
	merge_int(get, 4, job->has_start, job->start_ms, set, 5, &changed);
	merge_int(get, 5, job->has_end, job->end_ms, set, 6, &changed);
	merge_int(get, 8, job->has_gpus && job->slices > 0, job->slices, set,
		  7, &changed);
	sqlite3_reset(get);
	if (!changed)
		return 0;
	if (run(ing, set, err) != 0)
		return -1;
	*o = has_record ? UPDATED : INSERTED;
	/*
	 * The job's samples may now resolve to another owner: mark every hour
	 * of the window that holds them (a superset of their hours). Samples
	 * of this run are marked as they are written.
	 */
	if (!has_range)
		return 0;
	for (int64_t h = first / GPU_HOUR_MS * GPU_HOUR_MS; h <= last;
	     h += GPU_HOUR_MS)
		if (mark_hour(ing, h, false, err) != 0)
			return -1;
	return 0;
}

int
gpu_ingest_job(struct gpu_ingest *ing, const struct gpu_job *job,
	       struct gpu_err *err)
{
	enum outcome o;

	if (flush_batch(ing, err) != 0 || merge_job(ing, job, &o, err) != 0)
		return -1;
	if (o != UNCHANGED)
		gpu_prebuild_owners_changed(&ing->pre);
	count(ing, o);
	return 0;
}

/* The stored allocation of one job on one node. */
struct held {
	struct gpu_gpuset gpus;
	bool has_start, has_end;
	int64_t start_ms, end_ms;
};

static int
load_held(struct gpu_ingest *ing, int64_t job_key, int64_t node_id,
	  struct held *h, struct gpu_err *err)
{
	sqlite3_stmt *st = ing->st[S_ALLOC_GET];
	int rc;

	memset(h, 0, sizeof(*h));
	sqlite3_bind_int64(st, 1, job_key);
	sqlite3_bind_int64(st, 2, node_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gpu_gpuset_add(&h->gpus, sqlite3_column_int(st, 0));
		h->has_start = sqlite3_column_type(st, 1) != SQLITE_NULL;
		h->start_ms = sqlite3_column_int64(st, 1);
		h->has_end = sqlite3_column_type(st, 2) != SQLITE_NULL;
		h->end_ms = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(ing, err);
}

/* The time a holding covers: [*lo, *hi), empty (false) without a start. */
static bool
coverage(const struct held *h, int64_t *lo, int64_t *hi)
{
	*lo = h->start_ms;
	*hi = h->has_end ? h->end_ms : GPU_TIME_OPEN;
	return h->has_start;
}

static void
add_dirty(struct gpu_ingest *ing, uint64_t code, int64_t lo, int64_t hi)
{
	/*
	 * The samples before the raw-sample horizon were deleted or packed:
	 * nothing there is attributed again.
	 */
	if (lo < ing->horizon_ms && lo < hi) {
		ing->c.before_horizon++;
		lo = ing->horizon_ms;
	}
	if (lo >= hi)
		return;
	ing->dirty = gpu_xreallocarray(ing->dirty, ing->ndirty + 1,
				       sizeof(*ing->dirty));
	ing->dirty[ing->ndirty++] = (struct dirty_win){code, lo, hi};
}

/*
 * Note where the attribution of one GPU may change when its holding goes
 * from a to b (either may cover nothing): the times one covers and the
 * other does not.
 */
static void
note_change(struct gpu_ingest *ing, uint64_t code, const struct held *a,
	    bool in_a, const struct held *b, bool in_b)
{
	int64_t alo, ahi, blo, bhi;
	bool ha = in_a && coverage(a, &alo, &ahi);
	bool hb = in_b && coverage(b, &blo, &bhi);

	if (ha && hb) {
		add_dirty(ing, code, alo < blo ? alo : blo,
			  alo < blo ? blo : alo);
		add_dirty(ing, code, ahi < bhi ? ahi : bhi,
			  ahi < bhi ? bhi : ahi);
	} else if (ha) {
		add_dirty(ing, code, alo, ahi);
	} else if (hb) {
		add_dirty(ing, code, blo, bhi);
	}
}

static bool
same_held(const struct held *a, const struct held *b)
{
	return memcmp(&a->gpus, &b->gpus, sizeof(a->gpus)) == 0 &&
	       a->has_start == b->has_start && a->has_end == b->has_end &&
	       (!a->has_start || a->start_ms == b->start_ms) &&
	       (!a->has_end || a->end_ms == b->end_ms);
}

/* Write holding b of (job_key, node_id) over a; note what changed. */
static int
store_held(struct gpu_ingest *ing, int64_t job_key, int64_t node_id,
	   const struct held *a, const struct held *b, struct gpu_err *err)
{
	sqlite3_stmt *del = ing->st[S_ALLOC_DEL], *put = ing->st[S_ALLOC_PUT];

	for (int g = 0; g < GPU_GPUSET_MAX; g++) {
		bool in_a = gpu_gpuset_has(&a->gpus, g);
		bool in_b = gpu_gpuset_has(&b->gpus, g);
		sqlite3_stmt *st = in_b ? put : del;

		if (!in_a && !in_b)
			continue;
		sqlite3_bind_int64(st, 1, job_key);
		sqlite3_bind_int64(st, 2, node_id);
		sqlite3_bind_int(st, 3, g);
		if (in_b) {
			bind_opt_i64(st, 4, b->has_start, b->start_ms);
			bind_opt_i64(st, 5, b->has_end, b->end_ms);
			sqlite3_bind_int64(st, 6, ing->ingest_id);
		}
		if (run(ing, st, err) != 0)
			return -1;
		note_change(ing, gpu_code(node_id, g), a, in_a, b, in_b);
	}
	ing->has_allocs = true;
	return 0;
}

int
gpu_ingest_alloc(struct gpu_ingest *ing, const struct gpu_alloc *al,
		 const char **why, struct gpu_err *err)
{
	struct gpu_job owner = {al->job_id, al->user, al->project, false,
				false, false, 0, 0, 0, 0};
	struct seen *node, *job;
	struct held old, now;
	enum outcome o;

	*why = NULL;
	if (flush_batch(ing, err) != 0)
		return -1;
	node = seen_of(ing, &ing->node_map, &ing->nodes, &ing->nnodes,
		       S_NODE_INS, S_NODE_SEL, al->node, NULL, err);
	job = node == NULL ? NULL
			   : seen_of(ing, &ing->job_map, &ing->jobs,
				     &ing->njobs, S_JOB_INS, S_JOB_SEL,
				     al->job_id, NULL, err);
	if (job == NULL || load_held(ing, job->key, node->key, &old, err) != 0)
		return -1;
	/* Present fields replace stored ones, as for job records. */
	now = old;
	if (al->has_gpus)
		now.gpus = al->gpus;
	if (al->has_start) {
		now.has_start = true;
		now.start_ms = al->start_ms;
	}
	if (al->has_end) {
		now.has_end = true;
		now.end_ms = al->end_ms;
	}
	if (gpu_gpuset_count(&now.gpus) == 0) {
		*why = "allocation end without a start or GPUs";
		return 1;
	}
	if (now.has_start && now.has_end && now.end_ms <= now.start_ms) {
		*why = "allocation does not end after it starts";
		return 1;
	}
	if (merge_job(ing, &owner, &o, err) != 0)
		return -1;
	if (gpu_gpuset_count(&old.gpus) == 0)
		o = INSERTED;
	else if (!same_held(&old, &now))
		o = UPDATED;
	if (!same_held(&old, &now) &&
	    store_held(ing, job->key, node->key, &old, &now, err) != 0)
		return -1;
	count(ing, o);
	return 0;
}

/* Order dirty windows by GPU, then start. */
static int
dirty_cmp(const void *pa, const void *pb)
{
	const struct dirty_win *a = pa, *b = pb;

	if (a->code != b->code)
		return a->code < b->code ? -1 : 1;
	return (a->lo > b->lo) - (a->lo < b->lo);
}

/* Sort and merge windows that overlap or touch, per GPU when by_gpu. */
static size_t
merge_windows(struct dirty_win *w, size_t n, bool by_gpu)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		struct dirty_win *last = m > 0 ? &w[m - 1] : NULL;

		if (last != NULL && (!by_gpu || last->code == w[i].code) &&
		    w[i].lo <= last->hi) {
			if (w[i].hi > last->hi)
				last->hi = w[i].hi;
			continue;
		}
		w[m++] = w[i];
	}
	return m;
}

/* Count a stored row whose job changes to job_key (0: none) at ts. */
static void
note_reattr(struct gpu_ingest *ing, int64_t job_key,
	    const struct gpu_seg *seg, int64_t ts)
{
	int64_t hour = ts / GPU_HOUR_MS * GPU_HOUR_MS;

	if (job_key != 0) {
		ing->c.attributed++;
		ing->c.overlaps += seg->overlap;
		widen(job_by_key(ing, job_key), ts);
	}
	/* Rows come in time order: a new hour differs from the last. */
	if (ing->nhours == 0 || ing->hours[ing->nhours - 1] != hour) {
		ing->hours = gpu_xreallocarray(ing->hours, ing->nhours + 1,
					       sizeof(*ing->hours));
		ing->hours[ing->nhours++] = hour;
	}
}

/* Is ts inside one of the dirty windows of its GPU (code)? */
static bool
in_dirty(struct gpu_ingest *ing, uint64_t code, int64_t ts)
{
	uint64_t *first = code_find(&ing->dirty_gpus, code);

	if (first == NULL)
		return false;
	for (size_t i = *first; i < ing->ndirty && ing->dirty[i].code == code;
	     i++)
		if (ing->dirty[i].lo <= ts && ts < ing->dirty[i].hi)
			return true;
	return false;
}

/*
 * The SQL function gpu_attr(node_id, gpu, ts_ms, job_key): the job key a
 * stored row should have after this input's allocation changes (its own
 * job_key outside the changed windows). The pass's UPDATE calls it in its
 * WHERE clause, then for the new values: the calls after the first for
 * one row return the answer kept from it. A row whose job changes is
 * counted and its job's sample range widened; its hour is noted for the
 * dirty hours, written after the UPDATE. Segments are loaded beforehand,
 * so that the function runs no SQL.
 */
static void
sql_attr(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct gpu_ingest *ing = sqlite3_user_data(ctx);
	struct attr_call *c = &ing->call;
	int64_t node_id = sqlite3_value_int64(argv[0]);
	int gpu = sqlite3_value_int(argv[1]);
	int64_t ts = sqlite3_value_int64(argv[2]);
	int64_t old = sqlite3_value_int64(argv[3]); /* 0 for NULL */

	(void)argc;
	if (!c->valid || c->ts_ms != ts || c->node_id != node_id ||
	    c->gpu != gpu) {
		uint64_t code = gpu_code(node_id, gpu);
		uint64_t *idx = code_find(&ing->attr_map, code);
		const struct gpu_seg *seg = NULL;

		c->valid = true;
		c->ts_ms = ts;
		c->node_id = node_id;
		c->gpu = gpu;
		c->job_key = old;
		if (idx != NULL && in_dirty(ing, code, ts)) {
			struct gpu_attr *a = &ing->attrs[*idx];

			seg = gpu_segs_find(&a->segs, ts, &a->hint);
			c->job_key = seg != NULL ? seg->job_key : 0;
		}
		if (c->job_key != old)
			note_reattr(ing, c->job_key, seg, ts);
	}
	if (c->job_key == 0)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int64(ctx, c->job_key);
}

/*
 * Attribute again, in [lo, hi), the stored rows that lie in a changed
 * window of their GPU and whose job is not their own: UPDATEs that scan
 * the clustered key and rewrite only the rows that change, an hour of
 * samples at a time (SQLite first collects the keys of the rows an UPDATE
 * changes: memory then stays that of an hour, whatever the range), from
 * one stored sample time to the next, so that gaps cost nothing.
 */
static int
reattribute_range(struct gpu_ingest *ing, int64_t lo, int64_t hi,
		  struct gpu_err *err)
{
	sqlite3_stmt *st = ing->st[S_FACT_ATTR], *next = ing->st[S_FACT_NEXT];

	while (lo < hi) {
		int64_t end = lo < hi - GPU_HOUR_MS ? lo + GPU_HOUR_MS : hi;
		bool found;

		ing->call.valid = false;
		sqlite3_bind_int64(st, 1, lo);
		sqlite3_bind_int64(st, 2, end);
		if (run(ing, st, err) != 0)
			return -1;
		for (size_t i = 0; i < ing->nhours; i++)
			if (mark_hour(ing, ing->hours[i], false, err) != 0)
				return -1;
		ing->nhours = 0;
		sqlite3_bind_int64(next, 1, end);
		sqlite3_bind_int64(next, 2, hi);
		if (query_i64(ing, next, &lo, &found, err) != 0)
			return -1;
		if (!found)
			break;
	}
	return 0;
}

/* Attribute again what this input's allocation changes touched. */
static int
reattribute(struct gpu_ingest *ing, struct gpu_err *err)
{
	struct dirty_win *ranges;
	size_t nranges;
	int rc = 0;

	if (ing->ndirty == 0)
		return 0;
	/* Stored facts this run did not load change: the snapshot is old. */
	ing->snap_off = true;
	drop_attrs(ing);
	qsort(ing->dirty, ing->ndirty, sizeof(*ing->dirty), dirty_cmp);
	ing->ndirty = merge_windows(ing->dirty, ing->ndirty, true);
	gpu_hashmap_clear(&ing->dirty_gpus);
	for (size_t i = ing->ndirty; i-- > 0;) {
		uint64_t code = ing->dirty[i].code;

		*code_slot(&ing->dirty_gpus, code, NULL) = i;
		if (attr_of(ing, (int64_t)((code - 1) / 1024),
			    (int)((code - 1) % 1024), err) == NULL)
			return -1;
	}
	/* One scan over the union of the windows of all GPUs. */
	ranges = gpu_xreallocarray(NULL, ing->ndirty, sizeof(*ranges));
	memcpy(ranges, ing->dirty, ing->ndirty * sizeof(*ranges));
	for (size_t i = 0; i < ing->ndirty; i++)
		ranges[i].code = 0;
	qsort(ranges, ing->ndirty, sizeof(*ranges), dirty_cmp);
	nranges = merge_windows(ranges, ing->ndirty, false);
	for (size_t i = 0; i < nranges && rc == 0; i++)
		rc = reattribute_range(ing, ranges[i].lo, ranges[i].hi, err);
	free(ranges);
	ing->ndirty = 0;
	return rc;
}

int
gpu_ingest_reject(struct gpu_ingest *ing, long line, const char *reason,
		  struct gpu_str raw, struct gpu_err *err)
{
	sqlite3_stmt *st = ing->st[S_REJECT];

	sqlite3_bind_int64(st, 1, ing->ingest_id);
	sqlite3_bind_text(st, 2, ing->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, line);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, raw.len > 0 ? raw.p : "", (int)raw.len,
			  SQLITE_STATIC);
	if (run(ing, st, err) != 0)
		return -1;
	ing->c.rejected++;
	ing->c.read++;
	return 0;
}

int
gpu_ingest_end_source(struct gpu_ingest *ing, const char *sha256,
		      int64_t now_ms, struct gpu_err *err)
{
	sqlite3_stmt *st = ing->st[S_LOG_END];

	if (flush_batch(ing, err) != 0)
		return -1;
	cursor_forget(ing);
	if (reattribute(ing, err) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, ing->ingest_id);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_int64(st, 3, ing->c.read);
	sqlite3_bind_int64(st, 4, ing->c.inserted);
	sqlite3_bind_int64(st, 5, ing->c.updated);
	sqlite3_bind_int64(st, 6, ing->c.unchanged);
	sqlite3_bind_int64(st, 7, ing->c.rejected);
	sqlite3_bind_int64(st, 13, ing->c.superseded);
	bind_opt_i64(st, 8, ing->c.has_ts, ing->c.min_ts_ms);
	bind_opt_i64(st, 9, ing->c.has_ts, ing->c.max_ts_ms);
	if (sha256 != NULL)
		sqlite3_bind_text(st, 10, sha256, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 10);
	sqlite3_bind_int64(st, 11, ing->c.attributed);
	sqlite3_bind_int64(st, 12, ing->c.overlaps);
	return run(ing, st, err);
}

const struct gpu_ingest_counts *
gpu_ingest_source_counts(const struct gpu_ingest *ing)
{
	return &ing->c;
}

/* Widen the first/last seen times of nodes or jobs with st(key, min, max). */
static int
store_ranges(struct gpu_ingest *ing, sqlite3_stmt *st, const struct seen *v,
	     size_t n, struct gpu_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!v[i].has_ts)
			continue;
		sqlite3_bind_int64(st, 1, v[i].key);
		sqlite3_bind_int64(st, 2, v[i].min_ms);
		sqlite3_bind_int64(st, 3, v[i].max_ms);
		if (run(ing, st, err) != 0)
			return -1;
	}
	return 0;
}

int
gpu_ingest_finish(struct gpu_ingest *ing, struct gpu_err *err)
{
	sqlite3_stmt *st = ing->st[S_GPU_UPSERT];
	char mig_buf[16];

	/* Its read transaction would hold the commit's checkpoint back. */
	snap_close(ing);
	if (flush_batch(ing, err) != 0)
		return -1;
	for (size_t i = 0; i < ing->ngpus; i++) {
		const struct gpu_seen *g = &ing->gpus[i];

		sqlite3_bind_int64(st, 1, g->node_id);
		sqlite3_bind_int(st, 2, g->gpu);
		sqlite3_bind_int64(st, 3, g->model_key);
		bind_opt_i64(st, 4, g->has_mem_total, g->mem_total);
		if (g->uuid != NULL)
			sqlite3_bind_text(st, 5, g->uuid, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 5);
		sqlite3_bind_int64(st, 6, g->min_ms);
		sqlite3_bind_int64(st, 7, g->max_ms);
		if (g->mig >= 0)
			sqlite3_bind_text(st, 8, mig_buf, snprintf(mig_buf,
				sizeof(mig_buf), "%d", g->mig), SQLITE_TRANSIENT);
		else
			sqlite3_bind_text(st, 8, "", 0, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, g->profile_key);
		if (run(ing, st, err) != 0)
			return -1;
	}
	if (store_ranges(ing, ing->st[S_NODE_UPD], ing->nodes, ing->nnodes,
			 err) != 0 ||
	    store_ranges(ing, ing->st[S_JOB_RANGE], ing->jobs, ing->njobs,
			 err) != 0)
		return -1;
	return gpu_prebuild_finish(&ing->pre, err);
}

bool
gpu_ingest_built(void *ctx, int64_t hour)
{
	struct gpu_ingest *ing = ctx;

	return gpu_prebuild_built(&ing->pre, hour);
}

enum gpu_rollup_day
gpu_ingest_day(void *ctx, int64_t day)
{
	struct gpu_ingest *ing = ctx;

	return gpu_prebuild_day(&ing->pre, day);
}

int64_t
gpu_ingest_horizon(const struct gpu_ingest *ing)
{
	return ing->horizon_ms;
}
