/* SPDX-License-Identifier: MIT */
/* Unit tests for atomic output files (gpu/outfile.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpu/outfile.h"

/* A fresh directory per test, removed with its files afterwards. */
struct fixture {
	char dir[64];
	char target[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmpdir = getenv("TMPDIR");
	int n;

	if (f == NULL)
		return -1;
	n = snprintf(f->dir, sizeof(f->dir), "%s/outfile.XXXXXX",
		     tmpdir != NULL && strlen(tmpdir) < 40 ? tmpdir : "/tmp");
	if (n < 0 || (size_t)n >= sizeof(f->dir) || mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->target, sizeof(f->target), "%s/out.csv", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char path[384];
	struct dirent *e;
	DIR *d = opendir(f->dir);

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The number of entries in dir, but "." and "..". */
static int
entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Whether path holds exactly the text want. */
static void
assert_file(const char *path, const char *want)
{
	char buf[256];
	size_t n;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	assert_string_equal(buf, want);
}

static void
put_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static void
test_outfile_commit_replaces_atomically(void **state)
{
	struct fixture *f = *state;
	struct gpu_outfile of;
	struct gpu_err err;
	struct stat sb;
	const char *base;
	mode_t mask = umask(022);

	put_file(f->target, "old\n");
	assert_int_equal(gpu_outfile_open(&of, f->target, &err), 0);
	assert_non_null(of.tmp);
	assert_string_equal(of.path, f->target);
	/* A hidden name in the target's directory. */
	assert_memory_equal(of.tmp, f->dir, strlen(f->dir));
	base = of.tmp + strlen(f->dir) + 1;
	assert_int_equal(strncmp(base, ".out.csv.", 9), 0);
	assert_true(fputs("new\n", of.fp) >= 0);
	assert_int_equal(fflush(of.fp), 0);
	/* Until the commit, readers see the old file. */
	assert_file(f->target, "old\n");
	assert_int_equal(entries(f->dir), 2);
	assert_int_equal(gpu_outfile_commit(&of, &err), 0);
	assert_null(of.fp);
	assert_null(of.tmp);
	assert_file(f->target, "new\n");
	assert_int_equal(entries(f->dir), 1);
	assert_int_equal(stat(f->target, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	umask(mask);
}

static void
test_outfile_abort_keeps_target(void **state)
{
	struct fixture *f = *state;
	struct gpu_outfile of;
	struct gpu_err err;

	put_file(f->target, "old\n");
	assert_int_equal(gpu_outfile_open(&of, f->target, &err), 0);
	assert_true(fputs("partial", of.fp) >= 0);
	gpu_outfile_abort(&of);
	assert_null(of.fp);
	assert_null(of.tmp);
	gpu_outfile_abort(&of); /* twice is harmless */
	assert_file(f->target, "old\n");
	assert_int_equal(entries(f->dir), 1);
}

static void
test_outfile_new_file(void **state)
{
	struct fixture *f = *state;
	struct gpu_outfile of;
	struct gpu_err err;

	assert_int_equal(gpu_outfile_open(&of, f->target, &err), 0);
	assert_true(fputs("a,b\n", of.fp) >= 0);
	assert_int_equal(gpu_outfile_commit(&of, &err), 0);
	assert_file(f->target, "a,b\n");
	assert_int_equal(entries(f->dir), 1);
}

static void
test_outfile_relative_path(void **state)
{
	struct fixture *f = *state;
	struct gpu_outfile of;
	struct gpu_err err;
	char cwd[512];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(gpu_outfile_open(&of, "out.csv", &err), 0);
	assert_int_equal(strncmp(of.tmp, ".out.csv.", 9), 0);
	assert_true(fputs("x\n", of.fp) >= 0);
	assert_int_equal(gpu_outfile_commit(&of, &err), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_file(f->target, "x\n");
}

static void
test_outfile_missing_directory(void **state)
{
	struct fixture *f = *state;
	struct gpu_outfile of;
	struct gpu_err err;
	char path[256], want[512];

	snprintf(path, sizeof(path), "%s/no/out.csv", f->dir);
	assert_int_equal(gpu_outfile_open(&of, path, &err), -1);
	snprintf(want, sizeof(want),
		 "cannot create '%s': No such file or directory", path);
	assert_string_equal(err.msg, want);
	assert_null(of.fp);
	assert_null(of.tmp);
	gpu_outfile_abort(&of);
	assert_int_equal(gpu_outfile_commit(&of, &err), 0);
}

static void
test_outfile_device_in_place(void **state)
{
	struct gpu_outfile of;
	struct gpu_err err;

	(void)state;
	assert_int_equal(gpu_outfile_open(&of, "/dev/null", &err), 0);
	assert_null(of.tmp);
	assert_true(fputs("gone\n", of.fp) >= 0);
	assert_int_equal(gpu_outfile_commit(&of, &err), 0);
	assert_null(of.fp);
}

static void
test_outfile_write_error(void **state)
{
	struct gpu_outfile of;
	struct gpu_err err;
	char big[8192];

	(void)state;
	if (access("/dev/full", W_OK) != 0)
		skip();
	memset(big, 'x', sizeof(big));
	assert_int_equal(gpu_outfile_open(&of, "/dev/full", &err), 0);
	fwrite(big, 1, sizeof(big), of.fp);
	assert_int_equal(gpu_outfile_commit(&of, &err), -1);
	assert_string_equal(err.msg, "write error on '/dev/full': No space "
				     "left on device");
	assert_null(of.fp);
}

static void
test_outfile_stdout(void **state)
{
	struct gpu_outfile of;
	struct gpu_err err;

	(void)state;
	assert_int_equal(gpu_outfile_open(&of, NULL, &err), 0);
	assert_ptr_equal(of.fp, stdout);
	assert_string_equal(of.path, "<stdout>");
	assert_null(of.tmp);
	assert_int_equal(gpu_outfile_commit(&of, &err), 0);
	assert_null(of.fp);
	assert_int_equal(gpu_outfile_open(&of, "-", &err), 0);
	assert_ptr_equal(of.fp, stdout);
	gpu_outfile_abort(&of); /* leaves stdout open */
	assert_int_equal(fflush(stdout), 0);
}

/* Bytes of the file behind fd, after flushing stdout into it. */
static long
fd_size(int fd)
{
	struct stat sb;

	assert_int_equal(fflush(stdout), 0);
	assert_int_equal(fstat(fd, &sb), 0);
	return (long)sb.st_size;
}

/*
 * Held standard output reaches it only on commit, whole, and never on
 * abort: in a temporary file, and in memory when $TMPDIR has no room
 * for one (here standard output is a file opened for appending, which
 * is held: see test_outfile_hold_in_place). A regular file is not held
 * (its rename keeps it whole).
 */
static void
test_outfile_hold_stdout(void **state)
{
	struct fixture *f = *state;
	const char *old = getenv("TMPDIR");
	char *saved_tmpdir = old != NULL ? strdup(old) : NULL;
	struct gpu_outfile of;
	struct gpu_err err = {{0}, {0}, 0};
	int out, saved;

	assert_int_equal(fflush(stdout), 0);
	out = open(f->target, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
	assert_true(out >= 0);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(out, STDOUT_FILENO), STDOUT_FILENO);

	for (int mem = 0; mem < 2; mem++) {
		assert_int_equal(
		    setenv("TMPDIR", mem ? "/nonexistent/dir" : f->dir, 1), 0);
		assert_int_equal(gpu_outfile_open(&of, NULL, &err), 0);
		gpu_outfile_hold(&of);
		assert_ptr_equal(of.target, stdout);
		assert_ptr_not_equal(of.fp, stdout);
		/* The spool file is unlinked at once: the folder is empty. */
		assert_int_equal(entries(f->dir), 1);
		assert_true(fputs("lost\n", of.fp) >= 0);
		gpu_outfile_abort(&of);
		assert_null(of.fp);
		assert_null(of.target);
		assert_int_equal(fd_size(out), mem ? 4 : 0);

		assert_int_equal(gpu_outfile_open(&of, "-", &err), 0);
		gpu_outfile_hold(&of);
		assert_true(fputs(mem ? "mem\n" : "a,b\n", of.fp) >= 0);
		assert_int_equal(fd_size(out), mem ? 4 : 0);
		assert_int_equal(gpu_outfile_commit(&of, &err), 0);
		assert_null(of.fp);
		assert_int_equal(fd_size(out), mem ? 8 : 4);
	}
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	close(out);
	assert_file(f->target, "a,b\nmem\n");

	/* A temporary file that cannot take the data: the commit says so. */
	{
		struct rlimit old_lim, lim = {1000, 1000};
		char big[2000]; /* buffered until the commit flushes it */
		void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);

		memset(big, 'x', sizeof(big));
		assert_int_equal(setenv("TMPDIR", f->dir, 1), 0);
		assert_int_equal(gpu_outfile_open(&of, NULL, &err), 0);
		gpu_outfile_hold(&of);
		assert_non_null(of.target);
		assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
		lim.rlim_max = old_lim.rlim_max;
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
		fwrite(big, 1, sizeof(big), of.fp);
		assert_int_equal(gpu_outfile_commit(&of, &err), -1);
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
		signal(SIGXFSZ, old_sig);
		assert_string_equal(err.msg, "cannot hold the output in a"
					     " temporary file: File too large");
		assert_null(of.fp);
	}
	if (saved_tmpdir != NULL)
		setenv("TMPDIR", saved_tmpdir, 1);
	else
		unsetenv("TMPDIR");
	free(saved_tmpdir);

	/* A regular file is not held; a device written in place is. */
	snprintf(f->target, sizeof(f->target), "%s/named.csv", f->dir);
	assert_int_equal(gpu_outfile_open(&of, f->target, &err), 0);
	gpu_outfile_hold(&of);
	assert_null(of.target);
	assert_non_null(of.tmp);
	gpu_outfile_abort(&of);
	assert_int_equal(gpu_outfile_open(&of, "/dev/null", &err), 0);
	gpu_outfile_hold(&of);
	assert_non_null(of.target);
	assert_true(fputs("x\n", of.fp) >= 0);
	assert_int_equal(gpu_outfile_commit(&of, &err), 0);
	assert_null(of.fp);
	if (access("/dev/full", W_OK) == 0) {
		char big[8192];

		memset(big, 'x', sizeof(big));
		assert_int_equal(gpu_outfile_open(&of, "/dev/full", &err), 0);
		gpu_outfile_hold(&of);
		fwrite(big, 1, sizeof(big), of.fp);
		assert_int_equal(gpu_outfile_commit(&of, &err), -1);
		assert_string_equal(err.msg, "write error on '/dev/full': No"
					     " space left on device");
		/* Dropped, the device closed: nothing left open. */
		assert_int_equal(gpu_outfile_open(&of, "/dev/full", &err), 0);
		gpu_outfile_hold(&of);
		gpu_outfile_abort(&of);
		assert_null(of.fp);
		assert_null(of.target);
	}
}

/*
 * Standard output on a regular file that only this run writes, and on
 * /dev/null, is written in place, not copied through a held file: an
 * abort cuts the file back to where the run found its end, even after
 * stdio's buffer was written out; a commit leaves the data. A file that
 * is also standard error is held, as a message could follow the data,
 * and so is one written before its end.
 */
static void
test_outfile_hold_in_place(void **state)
{
	struct fixture *f = *state;
	struct gpu_outfile of;
	struct gpu_err err = {{0}, {0}, 0};
	static char big[200000]; /* past the buffer: written out early */
	int out, saved, saved_err, null;

	assert_int_equal(fflush(stdout), 0);
	out = open(f->target, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	assert_int_equal(write(out, "keep\n", 5), 5);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(out, STDOUT_FILENO), STDOUT_FILENO);

	memset(big, 'x', sizeof(big));
	assert_int_equal(gpu_outfile_open(&of, NULL, &err), 0);
	gpu_outfile_hold(&of);
	assert_null(of.target);
	assert_ptr_equal(of.fp, stdout);
	assert_true(of.cut);
	assert_int_equal(of.cut_to, 5);
	assert_int_equal(fwrite(big, 1, sizeof(big), of.fp), sizeof(big));
	assert_true(fd_size(out) > 5); /* some went out... */
	gpu_outfile_abort(&of);
	assert_int_equal(fd_size(out), 5); /* ...and was taken back */
	assert_false(of.cut);

	assert_int_equal(gpu_outfile_open(&of, "-", &err), 0);
	gpu_outfile_hold(&of);
	assert_true(of.cut);
	assert_true(fputs("a,b\n", of.fp) >= 0);
	assert_int_equal(gpu_outfile_commit(&of, &err), 0);
	assert_false(of.cut);
	gpu_outfile_abort(&of); /* after a commit: nothing to take back */
	assert_int_equal(fd_size(out), 9);

	/* Standard error on the same file: held. */
	saved_err = dup(STDERR_FILENO);
	assert_true(saved_err >= 0);
	assert_int_equal(dup2(out, STDERR_FILENO), STDERR_FILENO);
	assert_int_equal(gpu_outfile_open(&of, NULL, &err), 0);
	gpu_outfile_hold(&of);
	assert_int_equal(dup2(saved_err, STDERR_FILENO), STDERR_FILENO);
	close(saved_err);
	assert_ptr_equal(of.target, stdout);
	assert_false(of.cut);
	assert_true(fputs("lost\n", of.fp) >= 0);
	gpu_outfile_abort(&of);
	assert_int_equal(fd_size(out), 9);

	/* Written before its end: held, as a cut would lose what follows. */
	assert_int_equal(lseek(STDOUT_FILENO, 2, SEEK_SET), 2);
	assert_int_equal(gpu_outfile_open(&of, NULL, &err), 0);
	gpu_outfile_hold(&of);
	assert_ptr_equal(of.target, stdout);
	assert_false(of.cut);
	gpu_outfile_abort(&of);
	assert_int_equal(fd_size(out), 9);
	assert_int_equal(lseek(STDOUT_FILENO, 0, SEEK_END), 9);

	/* /dev/null: in place, nothing to cut. */
	null = open("/dev/null", O_WRONLY);
	assert_true(null >= 0);
	assert_int_equal(dup2(null, STDOUT_FILENO), STDOUT_FILENO);
	close(null);
	assert_int_equal(gpu_outfile_open(&of, NULL, &err), 0);
	gpu_outfile_hold(&of);
	assert_null(of.target);
	assert_false(of.cut);
	assert_true(fputs("gone\n", of.fp) >= 0);
	assert_int_equal(gpu_outfile_commit(&of, &err), 0);

	assert_int_equal(fflush(stdout), 0);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	close(out);
	assert_file(f->target, "keep\na,b\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_outfile_commit_replaces_atomically, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outfile_abort_keeps_target,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outfile_new_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_outfile_relative_path, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_outfile_missing_directory,
					    setup, teardown),
	    cmocka_unit_test(test_outfile_device_in_place),
	    cmocka_unit_test(test_outfile_write_error),
	    cmocka_unit_test(test_outfile_stdout),
	    cmocka_unit_test_setup_teardown(test_outfile_hold_stdout, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_outfile_hold_in_place, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
