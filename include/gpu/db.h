/* SPDX-License-Identifier: MIT */
/* The warehouse (SPEC.md section 2): opening, schema, migrations, locking. */
#ifndef GPU_DB_H
#define GPU_DB_H

#include <stdbool.h>
#include <sqlite3.h>

#include "gpu/diag.h"

/* The schema version this build writes and understands. */
#define GPU_DB_VERSION 4

/* Hour length in ms, the rollup's bucket. */
#define GPU_HOUR_MS INT64_C(3600000)

struct gpu_db_opts {
	bool readonly;	     /* open without creating or migrating */
	int lock_timeout_ms; /* wait this long for a busy warehouse */
};

/*
 * The warehouse path: path if not NULL, else $GPUUSAGE_DB if set and not
 * empty, else "./gpuusage.db". Borrowed.
 */
const char *gpu_db_path(const char *path);

/*
 * Open the warehouse at path, creating it (unless readonly) and migrating an
 * older schema forward in one transaction. A newer schema is refused and the
 * file is left untouched. Sets WAL journaling, synchronous=FULL and the busy
 * timeout. The handle has no mutex: use it from one thread at a time. On
 * success *out is the handle (close with gpu_db_close()); on failure
 * returns -1 with err filled and *out NULL.
 */
int gpu_db_open(const char *path, const struct gpu_db_opts *opts,
		sqlite3 **out, struct gpu_err *err);

/* Close a handle from gpu_db_open(); NULL is a no-op. Returns 0 or -1. */
int gpu_db_close(sqlite3 *db, struct gpu_err *err);

/* The schema version recorded in db (PRAGMA user_version). */
int gpu_db_version(sqlite3 *db);

/*
 * Create the schema of an older version (1..GPU_DB_VERSION) in an empty
 * database, as that version's tool would have. For migration tests.
 */
int gpu_db_create_version(sqlite3 *db, int version, struct gpu_err *err);

/* Run SQL without results. Returns 0, or -1 with err naming the error. */
int gpu_db_exec(sqlite3 *db, const char *sql, struct gpu_err *err);

/*
 * Begin a write transaction (BEGIN IMMEDIATE), waiting up to the busy
 * timeout. Returns 0, or -1 with err "warehouse busy: ..." when another
 * writer holds it, or another error.
 */
int gpu_db_begin(sqlite3 *db, const char *path, struct gpu_err *err);

/* Commit, or roll back (ignoring errors: used on failure paths). */
int gpu_db_commit(sqlite3 *db, struct gpu_err *err);
void gpu_db_rollback(sqlite3 *db);

/*
 * Prepare sql, filling err with the SQLite message on failure. Returns the
 * statement (finalize with sqlite3_finalize()) or NULL.
 */
sqlite3_stmt *gpu_db_prepare(sqlite3 *db, const char *sql,
			     struct gpu_err *err);

#endif
