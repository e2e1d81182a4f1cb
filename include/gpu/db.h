/* SPDX-License-Identifier: MIT */
/* The warehouse (SPEC.md section 2): opening, schema, migrations, locking. */
#ifndef GPU_DB_H
#define GPU_DB_H

#include <stdbool.h>
#include <sqlite3.h>

#include "gpu/diag.h"

/* The schema version this build writes and understands. */
#define GPU_DB_VERSION 13

/* Hour length in ms, the rollup's bucket. */
#define GPU_HOUR_MS INT64_C(3600000)

/* How long every tool waits for a busy warehouse, unless told otherwise. */
#define GPU_DB_LOCK_TIMEOUT_MS 60000

struct gpu_db_opts {
	bool readonly;	     /* open without creating or migrating */
	int lock_timeout_ms; /* wait this long for a busy warehouse */
	/*
	 * A writer that creates the warehouse (a missing or empty file)
	 * keeps a rollback journal until gpu_db_use_wal(): a first load
	 * then writes its pages once, not to the WAL and again by the
	 * checkpoint.
	 */
	bool create_rollback;
};

/* gpu_db_open(): a read-only open found a schema older than this build's. */
#define GPU_DB_OUTDATED (-2)

/*
 * gpu_db_open(): a read-only open found the hot journal of a writer killed
 * while the warehouse was in rollback mode (a first run, create_rollback,
 * or its switch to WAL), which only a writer may roll back.
 */
#define GPU_DB_INTERRUPTED (-3)

/*
 * The warehouse path: path if not NULL, else $GPUUSAGE_DB if set and not
 * empty, else "./gpuusage.db". Borrowed.
 */
const char *gpu_db_path(const char *path);

/*
 * Open the warehouse at path, the one way every tool opens it. A writer
 * creates it when missing, migrates an older schema forward in one
 * transaction, and sets WAL journaling and synchronous=FULL. A reader
 * (readonly) opens it with SQLITE_OPEN_READONLY and never writes to it;
 * a file nobody may write (no write permission bits) in a folder the
 * reader cannot write is read as immutable, since SQLite cannot make its
 * WAL index there. A newer schema is refused and the file left untouched.
 * The handle has no mutex: use it from one thread at a time. On success
 * *out is the handle (close with gpu_db_close()). On failure *out is NULL
 * and err is filled ("cannot open warehouse 'PATH': ..." for a reader's
 * missing file, "'PATH' is empty, not a warehouse" for a 0-byte file
 * without a WAL, among others); only a writer creates a warehouse.
 * Returns GPU_DB_OUTDATED when a reader finds an older
 * schema that a writer must migrate first, GPU_DB_INTERRUPTED when it
 * finds a killed first run to roll back, else -1.
 */
int gpu_db_open(const char *path, const struct gpu_db_opts *opts,
		sqlite3 **out, struct gpu_err *err);

/*
 * As gpu_db_open(), but a writer too refuses a missing or empty file as a
 * reader does, so that only gpuingest creates a warehouse (gpuagg
 * --refresh opens with this).
 */
int gpu_db_open_existing(const char *path, const struct gpu_db_opts *opts,
			 sqlite3 **out, struct gpu_err *err);

/*
 * Fill err from db's last error and return -1: "database error: MESSAGE",
 * or, when the disk is full, a message naming the warehouse file.
 */
int gpu_db_error(sqlite3 *db, struct gpu_err *err);

/*
 * Turn on WAL journaling, which a writer opened with create_rollback may
 * not have yet; outside a transaction; path names the warehouse in
 * messages. A no-op on a warehouse already in WAL mode, and when another
 * process holds the warehouse (the next writer's open turns WAL on then).
 * Returns 0, or -1 with err filled.
 */
int gpu_db_use_wal(sqlite3 *db, const char *path, struct gpu_err *err);

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
 * Begin a transaction for reads only (BEGIN), so that they see one
 * snapshot, when db is in none and runs no statement. Returns whether it
 * did; gpu_db_end_read() with that answer ends it.
 */
bool gpu_db_begin_read(sqlite3 *db);
void gpu_db_end_read(sqlite3 *db, bool began);

/*
 * Prepare sql, filling err with the SQLite message on failure. Returns the
 * statement (finalize with sqlite3_finalize()) or NULL.
 */
sqlite3_stmt *gpu_db_prepare(sqlite3 *db, const char *sql,
			     struct gpu_err *err);

/*
 * Prepare the multi-row INSERT "head VALUES(?, ...), ...": nrows rows of
 * ncols parameters each, row r's column c parameter r * ncols + c + 1.
 * head is "INSERT INTO table(columns)". As gpu_db_prepare().
 */
sqlite3_stmt *gpu_db_prepare_rows(sqlite3 *db, const char *head, int ncols,
				  int nrows, struct gpu_err *err);

#endif
