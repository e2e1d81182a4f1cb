/* SPDX-License-Identifier: MIT */
/* Packed samples: the block format, its SQL decoding, the packing pass. */
#include "gpu/pack.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/db.h"
#include "gpu/retention.h"
#include "gpu/rollup.h"
#include "gpu/time.h"

/* How a stored column is packed. */
enum { K_INT, K_REAL, K_TIME };

/* The stored columns of a sample that a block holds, after its key. */
static const struct pcol {
	const char *col; /* gpu_usage_fact_rows' name */
	const char *pre; /* the block's PRE_b, PRE_d */
	int kind;
} cols[] = {
    {"ts_ms", "ts", K_TIME},
    {"util_pct", "util", K_REAL},
    {"mem_used_mib", "used", K_INT},
    {"mem_total_mib", "total", K_INT},
    {"job_key", "job", K_INT},
    {"user_key", "user", K_INT},
    {"project_key", "project", K_INT},
    {"model_key", "model", K_INT},
    {"interval_s", "interval", K_INT},
    {"ingest_id", "ingest", K_INT},
    {"power_w", "power", K_REAL},
    {"temp_c", "temp", K_REAL},
    {"job_src", "src", K_INT},
    {"profile_key", "profile", K_INT},
    {"share28", "share", K_INT},
};
#define NCOLS ((int)(sizeof(cols) / sizeof(cols[0])))

/* A residual takes at most 4 digits of base 127. */
#define MAX_DIGITS 4
#define BASE 127
#define RESIDUAL_LIMIT ((int64_t)BASE * BASE * BASE * BASE)

/* The stored columns of gpu_usage_fact_rows, in the order the view reads. */
#define STORED                                                                 \
	"ts_ms, node_id, gpu, mig, util_pct, mem_used_mib, mem_total_mib,"     \
	" job_key, user_key, project_key, model_key, interval_s, ingest_id,"   \
	" power_w, temp_c, job_src, profile_key, share28"

/* Where a sample's hour is packed: EXISTS of the block of R's key. */
#define PACKED_KEY(R)                                                          \
	"EXISTS(SELECT 1 FROM gpu_usage_fact_packed WHERE hour_ms = " R        \
	".ts_ms - (" R ".ts_ms % 3600000 + 3600000) % 3600000 AND node_id = "  \
	R ".node_id AND gpu = " R ".gpu AND mig = coalesce(" R ".mig, ''))"
#define PACKED_RAISE(R)                                                        \
	" SELECT RAISE(ABORT, 'gpu_usage_fact: the sample''s hour is packed"   \
	" (gpuingest --pack-raw) and its samples cannot change') WHERE "       \
	PACKED_KEY(R) ";"

/*
 * The triggers that keep writes to the view working, as version 9's do;
 * INS, UPD and DEL are put before the write of each (the refusals of a
 * write to a packed sample, or nothing). A copy of migration 9's text on
 * purpose, not a shared macro: a released migration keeps making the
 * schema its version had (gpu_db_create_version() builds it in tests).
 */
#define TRIGGERS_WITH(INS, UPD, DEL)                                           \
	"CREATE TRIGGER gpu_usage_fact_insert INSTEAD OF INSERT ON"            \
	" gpu_usage_fact BEGIN"                                                \
	" SELECT RAISE(ABORT, 'cannot INSERT into a derived column of"         \
	" gpu_usage_fact') WHERE NEW.mem_util_pct IS NOT NULL OR"              \
	"  NEW.usage_category IS NOT NULL OR NEW.allocated IS NOT NULL OR"     \
	"  NEW.job_source IS NOT NULL;" INS                                    \
	" INSERT INTO gpu_usage_fact_rows(" STORED ") VALUES(NEW.ts_ms,"       \
	"  NEW.node_id, NEW.gpu, coalesce(NEW.mig, ''), NEW.util_pct,"         \
	"  NEW.mem_used_mib, NEW.mem_total_mib, NEW.job_key, NEW.user_key,"    \
	"  NEW.project_key, NEW.model_key, NEW.interval_s, NEW.ingest_id,"     \
	"  NEW.power_w, NEW.temp_c, NEW.job_src, NEW.profile_key,"             \
	"  NEW.share28);"                                                      \
	" END;"                                                                \
	"CREATE TRIGGER gpu_usage_fact_update INSTEAD OF UPDATE ON"            \
	" gpu_usage_fact BEGIN"                                                \
	" SELECT RAISE(ABORT, 'cannot UPDATE a derived column of"              \
	" gpu_usage_fact') WHERE NEW.mem_util_pct IS NOT OLD.mem_util_pct"     \
	"  OR NEW.usage_category IS NOT OLD.usage_category OR"                 \
	"  NEW.allocated IS NOT OLD.allocated OR"                              \
	"  NEW.job_source IS NOT OLD.job_source;" UPD                          \
	" UPDATE gpu_usage_fact_rows SET ts_ms = NEW.ts_ms,"                   \
	"  node_id = NEW.node_id, gpu = NEW.gpu, mig = NEW.mig,"               \
	"  util_pct = NEW.util_pct, mem_used_mib = NEW.mem_used_mib,"          \
	"  mem_total_mib = NEW.mem_total_mib, job_key = NEW.job_key,"          \
	"  user_key = NEW.user_key, project_key = NEW.project_key,"            \
	"  model_key = NEW.model_key, interval_s = NEW.interval_s,"            \
	"  ingest_id = NEW.ingest_id, power_w = NEW.power_w,"                  \
	"  temp_c = NEW.temp_c, job_src = NEW.job_src,"                        \
	"  profile_key = NEW.profile_key, share28 = NEW.share28"               \
	"  WHERE ts_ms = OLD.ts_ms AND node_id = OLD.node_id AND"              \
	"  gpu = OLD.gpu AND mig = OLD.mig;"                                   \
	" END;"                                                                \
	"CREATE TRIGGER gpu_usage_fact_delete INSTEAD OF DELETE ON"            \
	" gpu_usage_fact BEGIN" DEL                                            \
	" DELETE FROM gpu_usage_fact_rows WHERE ts_ms = OLD.ts_ms AND"         \
	"  node_id = OLD.node_id AND gpu = OLD.gpu AND mig = OLD.mig;"         \
	" END;"

/* Schema 10's and 12's triggers: no write reaches a packed sample. */
static const char TRIGGERS[] =
    TRIGGERS_WITH(PACKED_RAISE("NEW"), PACKED_RAISE("OLD") PACKED_RAISE("NEW"),
		  PACKED_RAISE("OLD"));

/* Schema 13's while no sample is packed: they look at no packed one. */
static const char ROWS_TRIGGERS[] = TRIGGERS_WITH("", "", "");

/* The derived columns of SPEC.md 2, over the stored ones. */
#define DERIVED                                                                \
	" CASE WHEN mem_total_mib > 0 THEN mem_used_mib * 100.0 /"             \
	"  mem_total_mib END AS mem_util_pct,"                                 \
	" CASE WHEN util_pct < 5 THEN 'idle' WHEN util_pct < 30 THEN 'low'"    \
	"  WHEN util_pct < 70 THEN 'medium' ELSE 'high' END"                   \
	"  AS usage_category,"                                                 \
	" job_key IS NOT NULL AS allocated,"                                   \
	" CASE WHEN job_key IS NULL THEN NULL WHEN job_src = 1"                \
	"  THEN 'allocation' ELSE 'sample' END AS job_source"

/* Make room for cap values in each column of v and isnull. */
static void
grow_cols(int64_t *v[NCOLS], bool *isnull[NCOLS], int cap)
{
	for (int c = 0; c < NCOLS; c++) {
		v[c] = gpu_xreallocarray(v[c], (size_t)cap, sizeof(*v[c]));
		isnull[c] = gpu_xreallocarray(isnull[c], (size_t)cap,
					      sizeof(*isnull[c]));
	}
}

/* Which reading with a fraction column c is: its bits of scale. */
static int
real_index(int c)
{
	int r = 0;

	for (int i = 0; i < c; i++)
		r += cols[i].kind == K_REAL;
	return r;
}

/*
 * Residual k of p.PRE_d: its w = length / n digits, least significant
 * first, each a byte 1 to 127 standing for 0 to 126 (no NUL: unicode()
 * reads a byte as its character). Schema 10's view (v10) has a branch
 * for each w, each spelling its digits out again; schema 12's reads
 * digit j only when w > j, in Horner's order, with w the column p.PRE_w
 * (add_view_select()): under half the text, and every connection parses
 * the view with the schema.
 */
static void
add_residual(struct gpu_buf *b, const char *pre, bool v10)
{
	static const char *const scale[MAX_DIGITS] = {"", " + 127 * ",
						      " + 16129 * ",
						      " + 2048383 * "};

	/* Most columns hold no residuals: decide that first. */
	gpu_buf_addf(b, "CASE WHEN p.%s_d IS NULL THEN 0 ELSE", pre);
	if (!v10) {
		/* Horner's order: digit j is read only when w > j. */
		for (int j = 0; j < MAX_DIGITS; j++) {
			if (j > 0)
				gpu_buf_addf(b, " + 127 * CASE WHEN p.%s_w > %d"
						" THEN",
					     pre, j);
			gpu_buf_addf(b,
				     " unicode(substr(p.%s_d, s.k * p.%s_w + %d,"
				     " 1)) - 1",
				     pre, pre, j + 1);
		}
		for (int j = 1; j < MAX_DIGITS; j++)
			gpu_buf_adds(b, " ELSE 0 END");
		gpu_buf_adds(b, " END");
		return;
	}
	gpu_buf_addf(b, " CASE length(p.%s_d) / p.n", pre);
	for (int w = 1; w <= MAX_DIGITS; w++) {
		gpu_buf_addf(b, w < MAX_DIGITS ? " WHEN %d THEN " : " ELSE ", w);
		for (int j = 0; j < w; j++)
			gpu_buf_addf(b,
				     "%s(unicode(substr(p.%s_d, s.k * %d + %d,"
				     " 1)) - 1)",
				     scale[j], pre, w, j + 1);
	}
	gpu_buf_adds(b, " END END");
}

/*
 * Append to b a SELECT of every packed sample, decoded in SQL, with the
 * columns of gpu_usage_fact_rows in STORED's order: the view's half, as
 * schema 10 (v10) or 12 made it.
 */
static void
add_view_select(struct gpu_buf *b, bool v10)
{
	gpu_buf_adds(b, "SELECT ");
	for (int c = 0; c < NCOLS; c++) {
		const struct pcol *pc = &cols[c];

		if (c == 1)
			gpu_buf_adds(b, ", p.node_id AS node_id, p.gpu AS gpu,"
					" p.mig AS mig");
		if (c > 0)
			gpu_buf_adds(b, ", ");
		if (pc->kind == K_TIME) {
			gpu_buf_addf(b, "p.hour_ms + p.%s_b + s.k * p.%s_s + ",
				     pc->pre, pc->pre);
			add_residual(b, pc->pre, v10);
		} else {
			/* F, the column's bit of nulls: residual 0 is NULL. */
			gpu_buf_addf(b,
				     "%sp.%s_b - (p.nulls >> %d & 1) + nullif(",
				     pc->kind == K_REAL ? "(" : "", pc->pre, c);
			add_residual(b, pc->pre, v10);
			gpu_buf_addf(b, ", (p.nulls >> %d & 1) - 1)", c);
			if (pc->kind == K_REAL)
				gpu_buf_addf(b,
					     ") / CASE p.scale >> %d & 3 WHEN 0"
					     " THEN 1.0 WHEN 1 THEN 10.0 WHEN 2"
					     " THEN 100.0 ELSE 1000.0 END",
					     2 * real_index(c));
		}
		gpu_buf_addf(b, " AS %s", pc->col);
	}
	/* CROSS JOIN: the blocks outside, each block's k by rowid inside. */
	if (v10) {
		gpu_buf_adds(b, " FROM gpu_usage_fact_packed p");
	} else {
		/* Each width beside its block (flattened: the same plan). */
		gpu_buf_adds(b, " FROM (SELECT *");
		for (int c = 0; c < NCOLS; c++)
			gpu_buf_addf(b, ", length(%s_d) / n AS %s_w",
				     cols[c].pre, cols[c].pre);
		gpu_buf_adds(b, " FROM gpu_usage_fact_packed) p");
	}
	gpu_buf_adds(b, " CROSS JOIN gpu_pack_seq s WHERE s.k < p.n");
}

int
gpu_pack_facts_sql(sqlite3 *db, int64_t from_ms, int64_t to_ms,
		   const char *sql, struct gpu_buf *out, bool *packed,
		   struct gpu_err *err)
{
	static const char rows[] = "gpu_usage_fact_rows";
	const char *at = strstr(sql, rows);

	if (gpu_pack_reaches(db, from_ms, to_ms, packed, err) != 0)
		return -1;
	if (!*packed || at == NULL) {
		gpu_buf_adds(out, sql);
		return 0;
	}
	gpu_buf_add(out, sql, (size_t)(at - sql));
	/* The packed half through gpu_packed: decoded in C. */
	gpu_buf_adds(out, "(SELECT " STORED " FROM gpu_usage_fact_rows"
			  " WHERE ts_ms >= ?1 AND ts_ms < ?2 UNION ALL"
			  " SELECT " STORED " FROM gpu_packed"
			  " WHERE lo = ?1 AND hi = ?2)");
	gpu_buf_adds(out, at + sizeof(rows) - 1);
	return 0;
}

/*
 * The virtual table gpu_packed: the packed samples with ts_ms in [lo, hi)
 * (hidden columns, both required), decoded in C, a block at a time.
 */
struct pvtab {
	sqlite3_vtab base;
	sqlite3 *db;
};

struct pcur {
	sqlite3_vtab_cursor base;
	sqlite3_stmt *st; /* the blocks that may hold samples in range */
	int64_t lo, hi, row;
	bool eof;
	/* The current block, decoded; k its current sample. */
	int n, k, cap;
	int64_t hour, node, gpu;
	int64_t *v[NCOLS];
	bool *isnull[NCOLS];
	int scale[NCOLS]; /* decimals of a reading */
};

/* The block columns gpu_packed reads, after the key, n, ts_s, nulls, scale. */
#define BLOCK_HEAD 8

static int
pv_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
	   sqlite3_vtab **out, char **msg)
{
	struct pvtab *t;
	int rc;

	(void)aux;
	(void)argc;
	(void)argv;
	(void)msg;
	rc = sqlite3_declare_vtab(
	    db, "CREATE TABLE x(" STORED ", lo HIDDEN, hi HIDDEN)");
	if (rc != SQLITE_OK)
		return rc;
	t = sqlite3_malloc(sizeof(*t));
	if (t == NULL)
		return SQLITE_NOMEM;
	memset(t, 0, sizeof(*t));
	t->db = db;
	*out = &t->base;
	return SQLITE_OK;
}

static int
pv_disconnect(sqlite3_vtab *vt)
{
	sqlite3_free(vt);
	return SQLITE_OK;
}

/* The stored columns' count: lo and hi follow them. */
#define PV_LO (NCOLS + 3)
#define PV_HI (NCOLS + 4)

static int
pv_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
	int lo = -1, hi = -1;

	(void)vt;
	for (int i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];

		if (!c->usable || c->op != SQLITE_INDEX_CONSTRAINT_EQ)
			continue;
		if (c->iColumn == PV_LO)
			lo = i;
		else if (c->iColumn == PV_HI)
			hi = i;
	}
	if (lo < 0 || hi < 0)
		return SQLITE_CONSTRAINT;
	info->aConstraintUsage[lo].argvIndex = 1;
	info->aConstraintUsage[lo].omit = 1;
	info->aConstraintUsage[hi].argvIndex = 2;
	info->aConstraintUsage[hi].omit = 1;
	info->estimatedCost = 1000;
	return SQLITE_OK;
}

static int
pv_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
	struct pvtab *t = (struct pvtab *)vt;
	struct pcur *c = sqlite3_malloc(sizeof(*c));
	struct gpu_buf b;
	int rc;

	if (c == NULL)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	gpu_buf_init(&b);
	gpu_buf_adds(&b, "SELECT hour_ms, node_id, gpu, mig, n, ts_s, nulls,"
			 " scale");
	for (int i = 0; i < NCOLS; i++)
		gpu_buf_addf(&b, ", %s_b, %s_d", cols[i].pre, cols[i].pre);
	gpu_buf_adds(&b, " FROM gpu_usage_fact_packed WHERE hour_ms > ?1 AND"
			 " hour_ms < ?2 ORDER BY hour_ms, node_id, gpu, mig");
	rc = sqlite3_prepare_v2(t->db, b.data, -1, &c->st, NULL);
	gpu_buf_release(&b);
	if (rc != SQLITE_OK) {
		sqlite3_free(c);
		return rc;
	}
	*out = &c->base;
	return SQLITE_OK;
}

static int
pv_close(sqlite3_vtab_cursor *cur)
{
	struct pcur *c = (struct pcur *)cur;

	sqlite3_finalize(c->st);
	for (int i = 0; i < NCOLS; i++) {
		free(c->v[i]);
		free(c->isnull[i]);
	}
	sqlite3_free(c);
	return SQLITE_OK;
}

/* Say that the block of cur's statement is not one gpu/pack.h describes. */
static int
corrupt(struct pcur *c)
{
	sqlite3_free(c->base.pVtab->zErrMsg);
	c->base.pVtab->zErrMsg = sqlite3_mprintf(
	    "gpu_usage_fact_packed: a block at hour %lld is corrupt",
	    (long long)c->hour);
	return SQLITE_CORRUPT;
}

/* Decode the block of the current row of c->st. */
static int
decode_block(struct pcur *c)
{
	sqlite3_stmt *st = c->st;
	int64_t slope, nulls, scale;

	c->hour = sqlite3_column_int64(st, 0);
	c->node = sqlite3_column_int64(st, 1);
	c->gpu = sqlite3_column_int64(st, 2);
	c->n = sqlite3_column_int(st, 4);
	slope = sqlite3_column_int64(st, 5);
	nulls = sqlite3_column_int64(st, 6);
	scale = sqlite3_column_int64(st, 7);
	c->k = 0;
	if (c->n < 1 || c->n > GPU_PACK_MAX_N)
		return corrupt(c);
	if (c->n > c->cap) {
		c->cap = GPU_PACK_MAX_N;
		grow_cols(c->v, c->isnull, c->cap);
	}
	for (int i = 0; i < NCOLS; i++) {
		int at = BLOCK_HEAD + 2 * i;
		const unsigned char *d = sqlite3_column_blob(st, at + 1);
		int len = sqlite3_column_bytes(st, at + 1), w = len / c->n;
		bool allnull = sqlite3_column_type(st, at) == SQLITE_NULL;
		int64_t base = sqlite3_column_int64(st, at);
		int f = (int)(nulls >> i & 1);

		if (len % c->n != 0 || w > MAX_DIGITS)
			return corrupt(c);
		if (cols[i].kind == K_REAL)
			c->scale[i] = (int)(scale >> 2 * real_index(i) & 3);
		if (cols[i].kind == K_TIME)
			base = (int64_t)((uint64_t)base + (uint64_t)c->hour);
		for (int k = 0; k < c->n; k++) {
			int64_t r = 0;

			for (int j = w - 1; j >= 0; j--) {
				if (d[k * w + j] < 1 || d[k * w + j] > BASE)
					return corrupt(c);
				r = r * BASE + d[k * w + j] - 1;
			}
			c->isnull[i][k] = allnull || (f && r == 0);
			/* Wrapping, as SQL would not: a corrupt block is no UB. */
			c->v[i][k] = (int64_t)((uint64_t)base + (uint64_t)r -
					       (uint64_t)f +
					       (cols[i].kind == K_TIME
						    ? (uint64_t)k * (uint64_t)slope
						    : 0));
		}
	}
	return SQLITE_OK;
}

/* Move c to its next sample in [lo, hi), from the one at c->k on. */
static int
seek(struct pcur *c)
{
	for (;;) {
		int rc;

		for (; c->k < c->n; c->k++)
			if (c->v[0][c->k] >= c->lo && c->v[0][c->k] < c->hi)
				return SQLITE_OK;
		rc = sqlite3_step(c->st);
		if (rc == SQLITE_DONE) {
			c->eof = true;
			return SQLITE_OK;
		}
		if (rc != SQLITE_ROW)
			return rc;
		if ((rc = decode_block(c)) != SQLITE_OK)
			return rc;
	}
}

static int
pv_filter(sqlite3_vtab_cursor *cur, int idx, const char *idx_str, int argc,
	  sqlite3_value **argv)
{
	struct pcur *c = (struct pcur *)cur;

	(void)idx;
	(void)idx_str;
	if (argc != 2)
		return SQLITE_ERROR;
	c->lo = sqlite3_value_int64(argv[0]);
	c->hi = sqlite3_value_int64(argv[1]);
	c->eof = false;
	c->n = c->k = 0;
	c->row = 0;
	sqlite3_reset(c->st);
	/* A block starts at its hour: the one holding lo starts after lo - 1h. */
	sqlite3_bind_int64(c->st, 1,
			   c->lo < INT64_MIN + GPU_HOUR_MS ? INT64_MIN
							   : c->lo - GPU_HOUR_MS);
	sqlite3_bind_int64(c->st, 2, c->hi);
	return seek(c);
}

static int
pv_next(sqlite3_vtab_cursor *cur)
{
	struct pcur *c = (struct pcur *)cur;

	c->k++;
	c->row++;
	return seek(c);
}

static int
pv_eof(sqlite3_vtab_cursor *cur)
{
	return ((struct pcur *)cur)->eof;
}

static int
pv_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	static const double p10[] = {1.0, 10.0, 100.0, 1000.0};
	struct pcur *c = (struct pcur *)cur;
	int i;

	/* STORED's order: ts_ms, node_id, gpu, mig, then cols[1..]. */
	switch (col) {
	case 1:
		sqlite3_result_int64(ctx, c->node);
		return SQLITE_OK;
	case 2:
		sqlite3_result_int64(ctx, c->gpu);
		return SQLITE_OK;
	case 3:
		sqlite3_result_value(ctx, sqlite3_column_value(c->st, 3));
		return SQLITE_OK;
	default:
		if (col >= PV_LO) {
			sqlite3_result_int64(ctx, col == PV_LO ? c->lo : c->hi);
			return SQLITE_OK;
		}
		i = col == 0 ? 0 : col - 3;
	}
	if (c->isnull[i][c->k])
		sqlite3_result_null(ctx);
	else if (cols[i].kind == K_REAL)
		sqlite3_result_double(ctx, (double)c->v[i][c->k] /
					       p10[c->scale[i]]);
	else
		sqlite3_result_int64(ctx, c->v[i][c->k]);
	return SQLITE_OK;
}

static int
pv_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	*rowid = ((struct pcur *)cur)->row;
	return SQLITE_OK;
}

static const sqlite3_module pv_module = {
    .iVersion = 0,
    .xConnect = pv_connect,
    .xBestIndex = pv_best_index,
    .xDisconnect = pv_disconnect,
    .xOpen = pv_open,
    .xClose = pv_close,
    .xFilter = pv_filter,
    .xNext = pv_next,
    .xEof = pv_eof,
    .xColumn = pv_column,
    .xRowid = pv_rowid,
};

int
gpu_pack_register(sqlite3 *db)
{
	return sqlite3_create_module_v2(db, "gpu_packed", &pv_module, NULL,
					NULL) == SQLITE_OK
		   ? 0
		   : -1;
}

/* The forms of the view gpu_usage_fact. */
enum view_form {
	VIEW_V10,  /* the stored and the packed samples, as schema 10 */
	VIEW_V12,  /* the same, decoded as schema 12 */
	VIEW_ROWS  /* the stored samples only: none is packed (schema 13) */
};

/* The view gpu_usage_fact and its triggers in form f. */
static void
add_view(struct gpu_buf *b, enum view_form f)
{
	if (f == VIEW_ROWS) {
		gpu_buf_adds(b, "CREATE VIEW gpu_usage_fact AS SELECT " STORED
				"," DERIVED " FROM gpu_usage_fact_rows;");
		gpu_buf_adds(b, ROWS_TRIGGERS);
		return;
	}
	gpu_buf_adds(b, "CREATE VIEW gpu_usage_fact AS SELECT " STORED
			"," DERIVED " FROM (SELECT " STORED
			" FROM gpu_usage_fact_rows UNION ALL ");
	add_view_select(b, f == VIEW_V10);
	gpu_buf_adds(b, ");");
	gpu_buf_adds(b, TRIGGERS);
}

/* Drop the view (its triggers go with it) and make it in form f. */
static int
remake_view(sqlite3 *db, enum view_form f, struct gpu_err *err)
{
	struct gpu_buf b;
	int rc;

	gpu_buf_init(&b);
	gpu_buf_adds(&b, "DROP VIEW IF EXISTS gpu_usage_fact;");
	add_view(&b, f);
	rc = gpu_db_exec(db, b.data, err);
	gpu_buf_release(&b);
	return rc;
}

/* *yes: the view reads the packed samples (of the forms VIEW_V10, V12). */
static int
view_reads_packed(sqlite3 *db, bool *yes, struct gpu_err *err)
{
	sqlite3_stmt *st = gpu_db_prepare(
	    db,
	    "SELECT instr(sql, 'gpu_usage_fact_packed') > 0 FROM sqlite_schema"
	    " WHERE type = 'view' AND name = 'gpu_usage_fact'",
	    err);
	int rc;

	if (st == NULL)
		return -1;
	*yes = false;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*yes = sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gpu_db_error(db, err);
	return 0;
}

int
gpu_pack_create(sqlite3 *db, struct gpu_err *err)
{
	struct gpu_buf b;
	int rc;

	gpu_buf_init(&b);
	gpu_buf_adds(&b, "CREATE TABLE gpu_usage_fact_packed("
			 " hour_ms INTEGER NOT NULL, node_id INTEGER NOT NULL,"
			 " gpu INTEGER NOT NULL, mig TEXT NOT NULL,"
			 " n INTEGER NOT NULL, ts_s INTEGER NOT NULL,"
			 " nulls INTEGER NOT NULL, scale INTEGER NOT NULL");
	for (int c = 0; c < NCOLS; c++)
		gpu_buf_addf(&b, ", %s_b INTEGER, %s_d BLOB", cols[c].pre,
			     cols[c].pre);
	gpu_buf_adds(&b, ", PRIMARY KEY(hour_ms, node_id, gpu, mig))"
			 " WITHOUT ROWID;"
			 "CREATE TABLE gpu_pack_seq(k INTEGER PRIMARY KEY);");
	gpu_buf_addf(&b,
		     "WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL SELECT k + 1"
		     " FROM s WHERE k < %d) INSERT INTO gpu_pack_seq SELECT k"
		     " FROM s;",
		     GPU_PACK_MAX_N - 1);
	add_view(&b, VIEW_V10);
	rc = gpu_db_exec(db, b.data, err);
	gpu_buf_release(&b);
	return rc;
}

int
gpu_pack_create_view(sqlite3 *db, struct gpu_err *err)
{
	return remake_view(db, VIEW_V12, err);
}

int
gpu_pack_rows_view(sqlite3 *db, struct gpu_err *err)
{
	sqlite3_stmt *st = gpu_db_prepare(
	    db, "SELECT 1 FROM gpu_usage_fact_packed LIMIT 1", err);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0; /* samples are packed: the view reads them */
	if (rc != SQLITE_DONE)
		return gpu_db_error(db, err);
	return remake_view(db, VIEW_ROWS, err);
}

int
gpu_pack_reaches(sqlite3 *db, int64_t from_ms, int64_t to_ms, bool *yes,
		 struct gpu_err *err)
{
	int64_t packed, deleted;

	*yes = false;
	if (gpu_pack_horizon(db, &packed, err) != 0)
		return -1;
	if (packed == GPU_RETENTION_NONE || from_ms >= packed)
		return 0;
	if (gpu_retention_deleted(db, &deleted, err) != 0)
		return -1;
	*yes = packed > deleted && to_ms > deleted;
	return 0;
}

bool
gpu_pack_decimal(double x, int e, int64_t *v)
{
	static const double p10[] = {1.0, 10.0, 100.0, 1000.0};
	double back;
	int64_t i;

	/* i stays below 2^53, where every integer is a double. */
	if (e < 0 || e > GPU_PACK_MAX_DECIMALS || !(fabs(x) <= 1e12))
		return false;
	i = llround(x * p10[e]);
	back = (double)i / p10[e];
	if (memcmp(&back, &x, sizeof(x)) != 0)
		return false;
	*v = i;
	return true;
}

bool
gpu_pack_column(const int64_t *v, const bool *isnull, int n, bool step,
		struct gpu_pack_col *out, struct gpu_buf *d)
{
	int64_t s = 0, lo = INT64_MAX, hi = INT64_MIN, range, shift;
	int nulls = 0, w;

	gpu_buf_reset(d);
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < n; k++)
		nulls += isnull[k];
	out->allnull = nulls == n;
	if (out->allnull)
		return true;
	/* A slope only over a whole column (the time's). */
	if (step && n > 1 && nulls == 0) {
		int64_t span;

		if (__builtin_sub_overflow(v[n - 1], v[0], &span))
			return false;
		s = span / (n - 1);
	}
	for (int k = 0; k < n; k++) {
		int64_t ks, r;

		if (isnull[k])
			continue;
		if (__builtin_mul_overflow((int64_t)k, s, &ks) ||
		    __builtin_sub_overflow(v[k], ks, &r))
			return false;
		lo = r < lo ? r : lo;
		hi = r > hi ? r : hi;
	}
	/* With NULLs, residual 0 is NULL and the values start at 1. */
	out->nulls = nulls > 0;
	shift = out->nulls ? 1 : 0;
	if (__builtin_sub_overflow(hi, lo, &range) ||
	    range >= RESIDUAL_LIMIT - shift)
		return false;
	range += shift;
	out->base = lo;
	out->slope = s;
	if (range == 0)
		return true;
	w = range < BASE		 ? 1
	    : range < BASE * BASE	 ? 2
	    : range < BASE * BASE * BASE ? 3
					 : 4;
	for (int k = 0; k < n; k++) {
		int64_t r = isnull[k] ? 0 : v[k] - (int64_t)k * s - lo + shift;

		for (int j = 0; j < w; j++, r /= BASE)
			gpu_buf_addc(d, (char)(1 + r % BASE));
	}
	return true;
}

/* The samples of one GPU (or slice) in the hour being packed. */
struct group {
	int64_t node, gpu;
	char *mig;
	int n, cap;
	bool ok; /* every value so far can be stored exactly */
	int64_t *v[NCOLS];
	bool *isnull[NCOLS];
};

/* Start g on the key of st's row. */
static void
group_start(struct group *g, sqlite3_stmt *st)
{
	const unsigned char *mig = sqlite3_column_text(st, 2);

	g->node = sqlite3_column_int64(st, 0);
	g->gpu = sqlite3_column_int64(st, 1);
	free(g->mig);
	g->mig = gpu_xstrdup(mig != NULL ? (const char *)mig : "");
	g->n = 0;
	g->ok = sqlite3_column_type(st, 2) == SQLITE_TEXT;
}

/* Whether st's row is of g's key. */
static bool
group_same(const struct group *g, sqlite3_stmt *st)
{
	const unsigned char *mig = sqlite3_column_text(st, 2);

	return g->node == sqlite3_column_int64(st, 0) &&
	       g->gpu == sqlite3_column_int64(st, 1) && mig != NULL &&
	       strcmp(g->mig, (const char *)mig) == 0;
}

/* Add st's row (columns 3.. in cols' order) to g. */
static void
group_add(struct group *g, sqlite3_stmt *st)
{
	if (g->n == GPU_PACK_MAX_N)
		g->ok = false;
	if (!g->ok) {
		g->n++;
		return;
	}
	if (g->n == g->cap) {
		g->cap = g->cap == 0 ? 64 : g->cap * 2;
		grow_cols(g->v, g->isnull, g->cap);
	}
	for (int c = 0; c < NCOLS; c++) {
		int type = sqlite3_column_type(st, 3 + c);
		int64_t x = 0;

		g->isnull[c][g->n] = type == SQLITE_NULL;
		if (type != SQLITE_NULL && cols[c].kind == K_REAL) {
			/* The double's bits, scaled by group_end(). */
			double f = sqlite3_column_double(st, 3 + c);

			g->ok = g->ok && type == SQLITE_FLOAT;
			memcpy(&x, &f, sizeof(x));
		} else if (type != SQLITE_NULL) {
			g->ok = g->ok && type == SQLITE_INTEGER;
			x = sqlite3_column_int64(st, 3 + c);
		}
		g->v[c][g->n] = x;
	}
	g->n++;
}

static void
group_release(struct group *g)
{
	free(g->mig);
	for (int c = 0; c < NCOLS; c++) {
		free(g->v[c]);
		free(g->isnull[c]);
	}
}

/* The statements of a packing pass. */
struct pass {
	sqlite3 *db;
	sqlite3_stmt *next, *hour, *ins, *keep, *del, *del_kept, *forget;
	struct gpu_buf d[NCOLS];
	int64_t nkept; /* groups of the hour kept as rows */
	struct gpu_pack *out;
};

/*
 * The fewest decimals (0 to GPU_PACK_MAX_DECIMALS) that hold every
 * reading of column c of g exactly, its values (doubles' bits until now)
 * turned into integers of that scale; -1 when none does.
 */
static int
scale_real(struct group *g, int c)
{
	for (int e = 0; e <= GPU_PACK_MAX_DECIMALS; e++) {
		int k;

		for (k = 0; k < g->n; k++) {
			double x;
			int64_t v;

			if (g->isnull[c][k])
				continue;
			memcpy(&x, &g->v[c][k], sizeof(x));
			if (!gpu_pack_decimal(x, e, &v))
				break;
		}
		if (k < g->n)
			continue;
		for (k = 0; k < g->n; k++) {
			double x;

			if (g->isnull[c][k])
				continue;
			memcpy(&x, &g->v[c][k], sizeof(x));
			gpu_pack_decimal(x, e, &g->v[c][k]);
		}
		return e;
	}
	return -1;
}

/* Store g as a block of hour h, or note it as kept. */
static int
group_end(struct pass *p, struct group *g, int64_t h, struct gpu_err *err)
{
	sqlite3_stmt *st = p->ins;
	struct gpu_pack_col pc[NCOLS];
	int64_t nulls = 0, scale = 0;

	for (int c = 0; c < NCOLS && g->ok; c++) {
		if (cols[c].kind == K_REAL) {
			int e = scale_real(g, c);

			g->ok = e >= 0;
			scale |= (int64_t)(e < 0 ? 0 : e) << 2 * real_index(c);
		}
		g->ok = g->ok &&
			gpu_pack_column(g->v[c], g->isnull[c], g->n,
					cols[c].kind == K_TIME, &pc[c],
					&p->d[c]);
		nulls |= (int64_t)pc[c].nulls << c;
	}
	/* The time, the key's order, is never NULL. */
	if (g->ok && (pc[0].nulls || pc[0].allnull))
		g->ok = false;
	if (!g->ok) {
		st = p->keep;
		sqlite3_bind_int64(st, 1, g->node);
		sqlite3_bind_int64(st, 2, g->gpu);
		sqlite3_bind_text(st, 3, g->mig, -1, SQLITE_STATIC);
		p->out->kept += g->n;
		p->nkept++;
	} else {
		sqlite3_bind_int64(st, 1, h);
		sqlite3_bind_int64(st, 2, g->node);
		sqlite3_bind_int64(st, 3, g->gpu);
		sqlite3_bind_text(st, 4, g->mig, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, g->n);
		sqlite3_bind_int64(st, 6, pc[0].slope);
		sqlite3_bind_int64(st, 7, nulls);
		sqlite3_bind_int64(st, 8, scale);
		for (int c = 0; c < NCOLS; c++) {
			int at = 9 + 2 * c;

			if (pc[c].allnull)
				sqlite3_bind_null(st, at);
			else
				sqlite3_bind_int64(st, at,
						   cols[c].kind == K_TIME
						       ? pc[c].base - h
						       : pc[c].base);
			if (p->d[c].len == 0)
				sqlite3_bind_null(st, at + 1);
			else
				sqlite3_bind_blob(st, at + 1, p->d[c].data,
						  (int)p->d[c].len,
						  SQLITE_STATIC);
		}
		p->out->packed += g->n;
		p->out->blocks++;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		return gpu_db_error(p->db, err);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return 0;
}

/* Run st, bound to hour h when h is not INT64_MIN, to its end. */
static int
run_hour(struct pass *p, sqlite3_stmt *st, int64_t h, struct gpu_err *err)
{
	int rc;

	if (h != INT64_MIN) {
		sqlite3_bind_int64(st, 1, h);
		sqlite3_bind_int64(st, 2, h + GPU_HOUR_MS);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return gpu_db_error(p->db, err);
	return 0;
}

/* Pack the samples of hour h. */
static int
pack_hour(struct pass *p, int64_t h, struct gpu_err *err)
{
	struct group g = {0};
	int rc = -1, step;

	p->nkept = 0;
	sqlite3_bind_int64(p->hour, 1, h);
	sqlite3_bind_int64(p->hour, 2, h + GPU_HOUR_MS);
	while ((step = sqlite3_step(p->hour)) == SQLITE_ROW) {
		if (g.mig == NULL || !group_same(&g, p->hour)) {
			if (g.mig != NULL && group_end(p, &g, h, err) != 0)
				goto out;
			group_start(&g, p->hour);
		}
		group_add(&g, p->hour);
	}
	if (step != SQLITE_DONE) {
		gpu_db_error(p->db, err);
		goto out;
	}
	if (g.mig != NULL && group_end(p, &g, h, err) != 0)
		goto out;
	sqlite3_reset(p->hour);
	p->out->hours++;
	if (p->nkept == 0)
		rc = run_hour(p, p->del, h, err);
	else if (run_hour(p, p->del_kept, h, err) == 0)
		rc = run_hour(p, p->forget, INT64_MIN, err);
out:
	sqlite3_reset(p->hour);
	group_release(&g);
	return rc;
}

/* Prepare p's statements. */
static int
pass_prepare(struct pass *p, struct gpu_err *err)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	gpu_buf_adds(&b, "SELECT node_id, gpu, mig");
	for (int c = 0; c < NCOLS; c++)
		gpu_buf_addf(&b, ", %s", cols[c].col);
	gpu_buf_adds(&b, " FROM gpu_usage_fact_rows WHERE ts_ms >= ?1 AND"
			 " ts_ms < ?2 ORDER BY node_id, gpu, mig, ts_ms");
	p->hour = gpu_db_prepare(p->db, b.data, err);
	gpu_buf_reset(&b);
	gpu_buf_adds(&b, "INSERT INTO gpu_usage_fact_packed(hour_ms, node_id,"
			 " gpu, mig, n, ts_s, nulls, scale");
	for (int c = 0; c < NCOLS; c++)
		gpu_buf_addf(&b, ", %s_b, %s_d", cols[c].pre, cols[c].pre);
	gpu_buf_adds(&b, ") VALUES(?, ?, ?, ?, ?, ?, ?, ?");
	for (int c = 0; c < NCOLS; c++)
		gpu_buf_adds(&b, ", ?, ?");
	gpu_buf_adds(&b, ")");
	p->ins = p->hour == NULL ? NULL : gpu_db_prepare(p->db, b.data, err);
	gpu_buf_release(&b);
	if (p->ins == NULL ||
	    gpu_db_exec(p->db,
			"CREATE TEMP TABLE IF NOT EXISTS pack_keep("
			" node_id INTEGER, gpu INTEGER, mig TEXT,"
			" PRIMARY KEY(node_id, gpu, mig)) WITHOUT ROWID",
			err) != 0)
		return -1;
	p->next = gpu_db_prepare(p->db,
				 "SELECT ts_ms FROM gpu_usage_fact_rows WHERE"
				 " ts_ms >= ?1 AND ts_ms < ?2 ORDER BY ts_ms"
				 " LIMIT 1",
				 err);
	p->keep = gpu_db_prepare(p->db,
				 "INSERT INTO temp.pack_keep VALUES(?1, ?2, ?3)",
				 err);
	p->del = gpu_db_prepare(p->db,
				"DELETE FROM gpu_usage_fact_rows WHERE"
				" ts_ms >= ?1 AND ts_ms < ?2",
				err);
	p->del_kept = gpu_db_prepare(
	    p->db,
	    "DELETE FROM gpu_usage_fact_rows AS f WHERE ts_ms >= ?1 AND"
	    " ts_ms < ?2 AND NOT EXISTS(SELECT 1 FROM temp.pack_keep k"
	    " WHERE k.node_id = f.node_id AND k.gpu = f.gpu AND"
	    " k.mig = f.mig)",
	    err);
	p->forget = gpu_db_prepare(p->db, "DELETE FROM temp.pack_keep", err);
	return p->next == NULL || p->keep == NULL || p->del == NULL ||
		       p->del_kept == NULL || p->forget == NULL
		   ? -1
		   : 0;
}

int
gpu_pack_apply(sqlite3 *db, int64_t target_ms, int64_t keep_ms,
	       int64_t now_ms, struct gpu_pack *out, struct gpu_err *err)
{
	struct pass p = {0};
	int64_t cur;
	bool viewed = false;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->target_ms = target_ms;
	p.db = db;
	p.out = out;
	for (int c = 0; c < NCOLS; c++)
		gpu_buf_init(&p.d[c]);
	if (gpu_rollup_update(db, NULL, err) != 0 ||
	    gpu_retention_horizon(db, &out->old_ms, err) != 0 ||
	    gpu_pack_horizon(db, &out->horizon_ms, err) != 0)
		goto out;
	if (out->old_ms != GPU_RETENTION_NONE && target_ms <= out->old_ms) {
		rc = 0;
		goto out;
	}
	if (pass_prepare(&p, err) != 0)
		goto out;
	/* Hours before the old horizon are final: what is left there stays. */
	cur = out->old_ms;
	for (;;) {
		int64_t h;
		int step;

		sqlite3_bind_int64(p.next, 1, cur);
		sqlite3_bind_int64(p.next, 2, target_ms);
		step = sqlite3_step(p.next);
		h = step == SQLITE_ROW ? gpu_period_start(
					     GPU_PERIOD_HOUR,
					     sqlite3_column_int64(p.next, 0))
				       : 0;
		sqlite3_reset(p.next);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			gpu_db_error(db, err);
			goto out;
		}
		if (!viewed) {
			/* The first packed sample: the view reads them. */
			bool yes;

			if (view_reads_packed(db, &yes, err) != 0 ||
			    (!yes && remake_view(db, VIEW_V12, err) != 0))
				goto out;
			viewed = true;
		}
		if (pack_hour(&p, h, err) != 0)
			goto out;
		cur = h + GPU_HOUR_MS;
	}
	out->horizon_ms = target_ms;
	rc = gpu_retention_record(db, GPU_PACK_TABLE, target_ms, keep_ms,
				  now_ms, "--pack-raw", "packed", out->packed,
				  err);
out:
	sqlite3_finalize(p.next);
	sqlite3_finalize(p.hour);
	sqlite3_finalize(p.ins);
	sqlite3_finalize(p.keep);
	sqlite3_finalize(p.del);
	sqlite3_finalize(p.del_kept);
	sqlite3_finalize(p.forget);
	for (int c = 0; c < NCOLS; c++)
		gpu_buf_release(&p.d[c]);
	return rc;
}
