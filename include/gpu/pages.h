/* SPDX-License-Identifier: MIT */
/*
 * A table's records read straight from its b-tree pages, in key order,
 * without SQLite's virtual machine: for scans over every column of
 * millions of rows (the lake export), where decoding each row through a
 * statement costs several times what the rest of the work does. The table
 * is a WITHOUT ROWID table (its key: its PRIMARY KEY's columns), or a
 * rowid table whose key is an INTEGER PRIMARY KEY (the rowid itself: the
 * dimension tables' names by their integer keys).
 *
 * The pages are read through the connection's own file handle, inside its
 * read transaction, and only when that transaction's snapshot is the
 * database file itself: a rollback-journal database, or a WAL database
 * whose WAL frames have all been copied into the file (checkpointed).
 * While the transaction lasts no checkpoint may
 * copy later frames into the file, so the pages stay those of the
 * snapshot. Anything else (frames in the WAL, a record that spills onto an
 * overflow page, a page or record that is not what the file format
 * allows) makes open or next refuse, and the caller reads the table with
 * a statement instead.
 */
#ifndef GPU_PAGES_H
#define GPU_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

/* The most fields a record may have here. */
#define GPU_PAGES_MAXFIELDS 64

enum gpu_pval_type {
	GPU_PV_NULL,
	GPU_PV_INT,
	GPU_PV_REAL,
	GPU_PV_TEXT,
	GPU_PV_BLOB
};

/* One field of a record; p points into the page (until the next call). */
struct gpu_pval {
	enum gpu_pval_type type;
	int64_t i;
	double d;
	const unsigned char *p;
	size_t n;
};

struct gpu_pages;

/*
 * Whether pages may be read at all: not when the environment variable
 * GPUUSAGE_PAGES is 0 (every read then goes through a statement, to
 * compare).
 */
bool gpu_pages_allowed(void);

/* How many cursors this process has opened (for tests and diagnostics). */
unsigned long gpu_pages_opened(void);

/* How many read calls pg has made (for tests and diagnostics). */
unsigned long gpu_pages_reads(const struct gpu_pages *pg);

/*
 * Open a cursor over table, a table of db's main database as above, which
 * must be in a transaction (BEGIN) that lasts until gpu_pages_close() and
 * has not written: a read transaction (begun here if need be). Returns
 * NULL when its pages cannot be read this way, with *why (may be NULL)
 * set to a static phrase that says why.
 */
struct gpu_pages *gpu_pages_open(sqlite3 *db, const char *table,
				 const char **why);

/* The record field that holds column (by its declared name), or -1. */
int gpu_pages_field(const struct gpu_pages *pg, const char *column);

/*
 * How many fields a record has: the table's stored columns (a WITHOUT
 * ROWID table's key columns first; a rowid table's in declared order, its
 * INTEGER PRIMARY KEY holding the rowid).
 */
size_t gpu_pages_nfields(const struct gpu_pages *pg);

/*
 * Decode only the first n fields of each record from now on (the rest of
 * v is left as it was; a record with fewer is refused as damaged): n from
 * 1 (past a rowid table's INTEGER PRIMARY KEY) to gpu_pages_nfields().
 * Returns 0, or -1 for an n outside those bounds.
 */
int gpu_pages_limit(struct gpu_pages *pg, size_t n);

/*
 * Go to the first record whose first key field, an integer, is at least
 * lo (a rowid table's: its rowid). Returns 0, or -1 when a page is not as
 * expected.
 */
int gpu_pages_seek(struct gpu_pages *pg, int64_t lo);

/*
 * Go to the first record whose first nkey fields are at least key[0..nkey)
 * in the table's order (BINARY collation, every key column ascending; a
 * rowid table: nkey 1, an integer rowid). Returns 0, or -1 when a page is
 * not as expected, a field sought by an integer holds none, or nkey is 0
 * or more than the record's fields.
 * gpu_pages_seek() is this with the one integer lo.
 */
int gpu_pages_seek_key(struct gpu_pages *pg, const struct gpu_pval *key,
		       size_t nkey);

/*
 * The next record in key order, its gpu_pages_nfields() fields decoded
 * into v (a field added to the table after the record was written reads as
 * NULL). Returns 1, 0 at the end, -1 when a page or record is not as
 * expected (then only a seek or gpu_pages_close() may follow).
 */
int gpu_pages_next(struct gpu_pages *pg, struct gpu_pval *v);

/*
 * Where gpu_pages_next_nums() puts a field: at byte off of its
 * destination, as an int64_t (GPU_PN_INT; GPU_PN_KEY takes only an
 * integer, not NULL nor a REAL) or a double (GPU_PN_REAL); GPU_PN_SKIP
 * passes over it, whatever its type.
 */
enum gpu_pnum_kind { GPU_PN_SKIP, GPU_PN_INT, GPU_PN_KEY, GPU_PN_REAL };

struct gpu_pnum {
	unsigned short off;
	unsigned char kind;
};

/*
 * gpu_pages_next() for a table of numbers: the next record's fields
 * decoded straight into dst by map[0..gpu_pages_nfields()), converted as
 * gpu_pval_int64() and gpu_pval_double() convert them, a NULL or a field
 * the record lacks as 0. Returns 1, 0 at the end, -1 when a page or
 * record is not as expected or a field is not as map wants (text, a blob,
 * a key that is not an integer): then dst holds garbage, and the caller
 * falls back to a statement. Only for a WITHOUT ROWID table read whole
 * (no limit).
 */
int gpu_pages_next_nums(struct gpu_pages *pg, const struct gpu_pnum *map,
			void *dst);

void gpu_pages_close(struct gpu_pages *pg);

/*
 * Decode the record at rec[0..n) into v[0..nfields): its fields, then NULL
 * for those it lacks. Returns how many fields it has, or -1 when it is not
 * a record of at most nfields fields. (gpu_pages_next() uses it; tests and
 * fuzzing call it alone.)
 */
int gpu_pages_record(const unsigned char *rec, size_t n, struct gpu_pval *v,
		     size_t nfields);

/*
 * A field as SQLite's sqlite3_value_int64() and sqlite3_value_double()
 * give it (NULL: 0; a REAL as an integer: truncated, clamped, a NaN,
 * which no valid record holds, as 0). Return 0,
 * or -1 for text and blobs, which SQLite would parse.
 */
static inline int
gpu_pval_int64(const struct gpu_pval *x, int64_t *v)
{
	switch (x->type) {
	case GPU_PV_INT:
		*v = x->i;
		return 0;
	case GPU_PV_REAL:
		*v = x->d != x->d		 ? 0
		     : x->d <= (double)INT64_MIN ? INT64_MIN
		     : x->d >= (double)INT64_MAX ? INT64_MAX
						 : (int64_t)x->d;
		return 0;
	case GPU_PV_NULL:
		*v = 0;
		return 0;
	default:
		return -1;
	}
}

static inline int
gpu_pval_double(const struct gpu_pval *x, double *v)
{
	switch (x->type) {
	case GPU_PV_INT:
		*v = (double)x->i;
		return 0;
	case GPU_PV_REAL:
		*v = x->d;
		return 0;
	case GPU_PV_NULL:
		*v = 0.0;
		return 0;
	default:
		return -1;
	}
}

#endif
