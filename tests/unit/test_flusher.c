/* SPDX-License-Identifier: MIT */
/* Unit tests for the background flusher of a warehouse (gpu/flusher.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpu/flusher.h"

static const char *self; /* this program, for run_child() */
static char dir[64];
static char path[128], log_path[160];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_flusher.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/w.db", dir);
	snprintf(log_path, sizeof(log_path), "%s-wal", path);
	return 0;
}

static int
cleanup(void **state)
{
	char p[200];

	(void)state;
	for (const char *const *s =
		 (const char *const[]){"", "-wal", "-shm", "-journal", NULL};
	     *s != NULL; s++) {
		snprintf(p, sizeof(p), "%s%s", path, *s);
		unlink(p);
	}
	return rmdir(dir);
}

static void
write_file(const char *p, size_t n)
{
	char buf[4096];
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	memset(buf, 'x', sizeof(buf));
	for (size_t i = 0; i < n; i += sizeof(buf))
		assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(close(fd), 0);
}

static void
pause_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&t, NULL);
}

/*
 * Wait until f has synced at least syncs times with files open (a
 * minute at most, for a loaded machine: the test is of what, not when).
 */
static struct gpu_flusher_stats
wait_for(struct gpu_flusher *f, unsigned long syncs, int files)
{
	struct gpu_flusher_stats st;

	for (int i = 0; i < 6000; i++) {
		gpu_flusher_stats(f, &st);
		if (st.syncs >= syncs && st.files >= files)
			break;
		pause_ms(10);
	}
	return st;
}

/* Nothing to flush, or asked not to: no flusher, and nothing fails. */
static void
test_flusher_none(void **state)
{
	struct gpu_flusher_stats st;

	(void)state;
	assert_null(gpu_flusher_start(NULL));
	assert_null(gpu_flusher_start(":memory:"));
	assert_null(gpu_flusher_start(path)); /* missing */
	assert_null(gpu_flusher_start(dir));  /* not a regular file */
	write_file(path, 4096);
	setenv("GPUUSAGE_FLUSH", "0", 1);
	assert_null(gpu_flusher_start(path));
	unsetenv("GPUUSAGE_FLUSH");
	gpu_flusher_stats(NULL, &st);
	assert_int_equal(st.syncs, 0);
	assert_int_equal(st.writebacks, 0);
	assert_int_equal(st.files, 0);
	gpu_flusher_end(NULL);
}

/*
 * It ticks: write-backs, then a sync every GPU_FLUSH_SYNC_TICKS ticks;
 * the log is taken up once it appears.
 */
static void
test_flusher_ticks(void **state)
{
	struct gpu_flusher *f;
	struct gpu_flusher_stats st;

	(void)state;
	write_file(path, 1 << 20);
	f = gpu_flusher_start(path);
#if defined(__linux__)
	assert_non_null(f);
	st = wait_for(f, 1, 1);
	assert_true(st.syncs >= 1);
	assert_true(st.writebacks >= GPU_FLUSH_SYNC_TICKS - 1);
	assert_int_equal(st.files, 1);
	write_file(log_path, 1 << 16);
	st = wait_for(f, 0, 2);
	assert_int_equal(st.files, 2);
#endif
	gpu_flusher_end(f);
}

/*
 * The child's half of test_flusher_keeps_locks: 0 when the database at
 * p is locked (a write cannot begin), 1 when it is not, 2 on an error.
 */
static int
try_lock(const char *p)
{
	sqlite3 *db = NULL;
	int rc;

	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return 2;
	}
	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_BUSY ? 0 : rc == SQLITE_OK ? 1 : 2;
}

static int
run_child(const char *arg, const char *p)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execl(self, self, arg, p, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * A run's lock on the database outlives the flusher's ticks: its
 * descriptors of the file stay open until gpu_flusher_end() (closing
 * one would drop the process's POSIX locks, SQLite's included).
 */
static void
test_flusher_keeps_locks(void **state)
{
	struct gpu_flusher *f;
	sqlite3 *db = NULL;

	(void)state;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "CREATE TABLE t(x); BEGIN EXCLUSIVE;"
				      " INSERT INTO t VALUES(1);",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	f = gpu_flusher_start(path);
	if (f != NULL) /* (none where the platform has no flusher) */
		(void)wait_for(f, 2, 1);
	assert_int_equal(run_child("--try-lock", path), 0);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	gpu_flusher_end(f);
	/* Unlocked once the run is over. */
	assert_int_equal(run_child("--try-lock", path), 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_flusher_none, setup,
					    cleanup),
	    cmocka_unit_test_setup_teardown(test_flusher_ticks, setup,
					    cleanup),
	    cmocka_unit_test_setup_teardown(test_flusher_keeps_locks, setup,
					    cleanup),
	};

	if (argc == 3 && strcmp(argv[1], "--try-lock") == 0)
		return try_lock(argv[2]);
	self = argv[0];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
