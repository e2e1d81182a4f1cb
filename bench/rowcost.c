/* SPDX-License-Identifier: MIT */
/*
 * What SQLite charges per stored row for a table's shape: ROWS synthetic
 * samples inserted into a new table made by CREATE (any shape), in
 * multi-row INSERTs of 64 rows as gpuingest stores its facts, inside one
 * transaction, in a new WAL database at PATH. Prints the seconds from the
 * first INSERT to the end of the COMMIT.
 *
 * Each column is bound by its name, with what gpugen writes for the
 * comparison dataset (200 nodes of 8 GPUs, a sample every 300 s, rows in
 * key order): ts_ms, node_id, gpu, mig, util_pct, mem_used_mib,
 * mem_total_mib, job_key, user_key, project_key, model_key, interval_s,
 * ingest_id, power_w, temp_c (job_src, profile_key, share28 and any other
 * name: NULL); k, one integer of the time, node and GPU; v, a blob of
 * BLOB_BYTES bytes (the other columns as a 20-byte record of one's own).
 * Values repeat as the dataset's do, so a slot's binding is kept when its
 * value did not change, through gpuingest's own binder (gpu/bind.h).
 *
 * Build: make bench (build/rowcost), or cc -O2 bench/rowcost.c -lsqlite3
 * Run:   build/rowcost PATH ROWS 'CREATE TABLE t(...)'   (bench/row-cost.sh)
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu/bind.h"

#define BATCH 64
#define MAXCOLS 64
#define BLOB_BYTES 20
#define GPUS 1600

enum kind {
	C_TS,
	C_NODE,
	C_GPU,
	C_MIG,
	C_UTIL,
	C_USED,
	C_TOTAL,
	C_JOB,
	C_USER,
	C_PROJECT,
	C_MODEL,
	C_INTERVAL,
	C_INGEST,
	C_POWER,
	C_TEMP,
	C_K,
	C_V,
	C_NULL
};

static const char *const names[] = {
    "ts_ms",	   "node_id",	  "gpu",      "mig",	   "util_pct",
    "mem_used_mib", "mem_total_mib", "job_key", "user_key", "project_key",
    "model_key",   "interval_s",  "ingest_id", "power_w", "temp_c",
    "k",	   "v",
};

static int
fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "rowcost: %s: %s\n", what, sqlite3_errmsg(db));
	return 1;
}

/* Bind column k of sample j to parameter p (when it changed). */
static void
bind(const struct gpu_binder *b, int p, enum kind k, long j)
{
	static const unsigned char blob[BLOB_BYTES] = {1, 2, 3};
	int64_t ts = INT64_C(1793491200000) + (int64_t)(j / GPUS) * 300000;
	int node = (int)(j % GPUS) / 8 + 1, gpu = (int)(j % 8);
	/* About half the GPUs busy, each with a job for a few hours. */
	long job = (j % GPUS) % 2 ? (j % GPUS) + (j / GPUS) / 36 * GPUS : 0;
	unsigned x = (unsigned)j * 2654435761u;

	switch (k) {
	case C_TS:
		gpu_bind_i64(b, p, ts);
		break;
	case C_NODE:
		gpu_bind_i64(b, p, node);
		break;
	case C_GPU:
		gpu_bind_i64(b, p, gpu);
		break;
	case C_MIG:
		if (!gpu_bind_held(b, p, SQLITE_TEXT, 0))
			sqlite3_bind_text(b->st, p, "", 0, SQLITE_STATIC);
		break;
	case C_UTIL:
		gpu_bind_double(b, p, job ? (double)(x % 1000) / 10.0 : 0.0);
		break;
	case C_USED:
		gpu_bind_i64(b, p, job ? 1000 + x % 70000 : 39 + x % 300);
		break;
	case C_TOTAL:
		gpu_bind_i64(b, p, 81920);
		break;
	case C_JOB:
		if (job)
			gpu_bind_i64(b, p, job);
		else
			gpu_bind_null(b, p);
		break;
	case C_USER:
	case C_PROJECT:
		if (job)
			gpu_bind_i64(b, p, 2 + job % 40);
		else
			gpu_bind_null(b, p);
		break;
	case C_MODEL:
		gpu_bind_i64(b, p, 1);
		break;
	case C_INTERVAL:
		gpu_bind_i64(b, p, 300);
		break;
	case C_INGEST:
		gpu_bind_i64(b, p, 1);
		break;
	case C_POWER:
		gpu_bind_double(b, p, 55.0 + (double)(x % 30000) / 100.0);
		break;
	case C_TEMP:
		gpu_bind_double(b, p, 30.0 + x % 40);
		break;
	case C_K:
		gpu_bind_i64(b, p, ts / 1000 * 16384 + node * 8 + gpu);
		break;
	case C_V:
		sqlite3_bind_blob(b->st, p, blob, BLOB_BYTES, SQLITE_STATIC);
		break;
	case C_NULL:
		gpu_bind_null(b, p);
		break;
	}
}

int
main(int argc, char **argv)
{
	static struct gpu_bound held[BATCH * MAXCOLS];
	enum kind kinds[MAXCOLS];
	struct timespec t0, t1;
	sqlite3 *db;
	sqlite3_stmt *st;
	char *sql, wal[4096];
	size_t len;
	long rows;
	int ncols = 0;

	if (argc != 4 || (rows = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: rowcost PATH ROWS 'CREATE TABLE t(...)'\n");
		return 2;
	}
	snprintf(wal, sizeof(wal), "%s-wal", argv[1]);
	remove(argv[1]);
	remove(wal);
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		return fail(db, argv[1]);
	if (sqlite3_exec(db,
			 "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, argv[3], NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, "create");
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('t')",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(db, "table_info");
	while (sqlite3_step(st) == SQLITE_ROW && ncols < MAXCOLS) {
		const char *n = (const char *)sqlite3_column_text(st, 0);
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(n, names[i]) == 0)
				break;
		kinds[ncols++] = (enum kind)i; /* past the names: C_NULL */
	}
	sqlite3_finalize(st);
	if (ncols == 0) {
		fprintf(stderr, "rowcost: no table t\n");
		return 1;
	}
	len = (size_t)BATCH * ((size_t)ncols * 2 + 3) + 32;
	sql = malloc(len);
	if (sql == NULL)
		return 1;
	strcpy(sql, "INSERT INTO t VALUES");
	for (int r = 0; r < BATCH; r++) {
		strcat(sql, r ? ",(" : "(");
		for (int c = 0; c < ncols; c++)
			strcat(sql, c ? ",?" : "?");
		strcat(sql, ")");
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(db, "insert");
	free(sql);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, "begin");
	for (long j = 0; j + BATCH <= rows; j += BATCH) {
		for (int r = 0; r < BATCH; r++)
			for (int c = 0; c < ncols; c++)
				bind(&(struct gpu_binder){st, held},
				     r * ncols + c + 1, kinds[c], j + r);
		if (sqlite3_step(st) != SQLITE_DONE)
			return fail(db, "step");
		sqlite3_reset(st);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, "commit");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	printf("%.3f\n", (double)(t1.tv_sec - t0.tv_sec) +
			     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
