/* SPDX-License-Identifier: MIT */
/*
 * The b-tree page reader (gpu/pages.h) over damaged pages: a small
 * database of a WITHOUT ROWID table and a rowid table (512-byte pages,
 * trees of two levels or more), its bytes after page 1 overwritten by the
 * input from an offset the input gives (read in memory); each table is
 * read, sought and read to its end, and t also as numbers
 * (gpu_pages_next_nums()). The reader may refuse, never read outside its
 * page or loop. The input is also decoded as one record.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "gpu/pages.h"

static unsigned char *base;
static size_t nbase;
static char path[64];

/* The database every input damages, built once. */
static void
build(void)
{
	sqlite3 *db;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "/tmp/fuzz_pages.%ld.db", (long)getpid());
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(
		db,
		"PRAGMA page_size = 512; PRAGMA journal_mode = DELETE;"
		" CREATE TABLE t(ts INTEGER NOT NULL, n INTEGER NOT NULL, s "
		"TEXT,"
		" r REAL, b, PRIMARY KEY(ts, n)) WITHOUT ROWID;"
		" WITH RECURSIVE q(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM "
		"q"
		" WHERE x < 1499) INSERT INTO t SELECT x * 7919 - 5000000, x % "
		"3,"
		" substr('abcdefghijklmnopqrstuvwxyz', 1, x % 27), x * 0.5,"
		" CASE x % 4 WHEN 0 THEN NULL WHEN 1 THEN x * 1000003"
		" WHEN 2 THEN zeroblob(x % 9) ELSE -x END FROM q;"
		" CREATE TABLE u(k INTEGER PRIMARY KEY, s TEXT, r REAL);"
		" WITH RECURSIVE q(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM "
		"q WHERE x < 1499) INSERT INTO u SELECT x * 7 + 1,"
		" substr('abcdefghijklmnopqrstuvwxyz', 1, x % 27), x * 0.25"
		" FROM q",
		NULL, NULL, NULL) != SQLITE_OK)
		__builtin_trap();
	sqlite3_close(db);
	fp = fopen(path, "rb");
	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 1024)
		__builtin_trap();
	rewind(fp);
	nbase = (size_t)n;
	base = malloc(nbase);
	if (base == NULL || fread(base, 1, nbase, fp) != nbase)
		__builtin_trap();
	fclose(fp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];
	struct gpu_pages *pg;
	sqlite3 *db;
	unsigned char *img;
	size_t off, n;
	long rows = 0;

	if (base == NULL)
		build();
	gpu_pages_record(data, size, v, GPU_PAGES_MAXFIELDS);
	if (size < 2)
		return 0;
	/* Page 1 (the schema) stays whole: SQLite reads it, not the reader. */
	off = 512 + ((size_t)data[0] << 8 | data[1]) * 7 % (nbase - 512);
	n = size - 2 < nbase - off ? size - 2 : nbase - off;
	/* The damaged file, read in memory (SQLite's memdb file). */
	img = sqlite3_malloc64(nbase);
	if (img == NULL)
		__builtin_trap();
	memcpy(img, base, nbase);
	memcpy(img + off, data + 2, n);
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_deserialize(db, "main", img, (sqlite3_int64)nbase,
				(sqlite3_int64)nbase,
				SQLITE_DESERIALIZE_FREEONCLOSE |
				    SQLITE_DESERIALIZE_READONLY) != SQLITE_OK) {
		sqlite3_close(db);
		return 0;
	}
	if (sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_schema", NULL,
			 NULL, NULL) == SQLITE_OK) {
		static const char *const tables[] = {"t", "u"};

		for (int i = 0; i < 2; i++) {
			if ((pg = gpu_pages_open(db, tables[i], NULL)) == NULL)
				continue;
			/*
			 * Damaged pointers may read a page twice, but a
			 * scan loads each page at most once over: more
			 * records is a loop.
			 */
			rows = 0;
			while (gpu_pages_next(pg, v) > 0)
				if (++rows > (long)(nbase / 512 + 32) * 256)
					__builtin_trap();
			if (gpu_pages_seek(pg, size > 3 ? (int64_t)data[2] *
								  40000 -
							      5000000
							: 0) == 0)
				while (gpu_pages_next(pg, v) > 0)
					;
			gpu_pages_close(pg);
		}
		/* t as numbers: its text and blobs passed over. */
		if ((pg = gpu_pages_open(db, "t", NULL)) != NULL) {
			static const struct gpu_pnum map[] = {
			    {0, GPU_PN_KEY},  {8, GPU_PN_INT},
			    {0, GPU_PN_SKIP}, {16, GPU_PN_REAL},
			    {0, GPU_PN_SKIP}};
			int64_t dst[3];

			rows = 0;
			while (gpu_pages_next_nums(pg, map, dst) > 0)
				if (++rows > (long)(nbase / 512 + 32) * 256)
					__builtin_trap();
			gpu_pages_close(pg);
		}
	}
	sqlite3_close(db);
	return 0;
}
