/* SPDX-License-Identifier: MIT */
/* Atomic output files: write under a temporary name, rename when done. */
#include "gpu/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "DIR/.BASE.XXXXXX" for path "DIR/BASE"; caller frees. */
static char *
temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir = slash != NULL ? (size_t)(slash - path) + 1 : 0;
	size_t base = strlen(path) - dir;
	char *tmp = gpu_xmalloc(dir + 1 + base + 8);

	memcpy(tmp, path, dir);
	tmp[dir] = '.';
	memcpy(tmp + dir + 1, path + dir, base);
	memcpy(tmp + dir + 1 + base, ".XXXXXX", 8);
	return tmp;
}

/* errno, or EIO when a stream error left none. */
static int
io_errno(void)
{
	return errno != 0 ? errno : EIO;
}

int
gpu_outfile_open(struct gpu_outfile *of, const char *path, struct gpu_err *err)
{
	struct stat sb;
	mode_t mask;
	int fd, e;

	memset(of, 0, sizeof(*of));
	if (path == NULL || strcmp(path, "-") == 0) {
		of->path = "<stdout>";
		of->fp = stdout;
		return 0;
	}
	of->path = path;
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		of->fp = fopen(path, "w");
		if (of->fp == NULL)
			goto fail;
		return 0;
	}
	of->tmp = temp_name(path);
	fd = mkstemp(of->tmp);
	if (fd < 0)
		goto fail;
	/* mkstemp() makes 0600; give the file what open() would have. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0 ||
	    (of->fp = fdopen(fd, "w")) == NULL) {
		e = errno;
		close(fd);
		unlink(of->tmp);
		errno = e;
		goto fail;
	}
	return 0;
fail:
	e = errno;
	free(of->tmp);
	memset(of, 0, sizeof(*of));
	return gpu_err_set(err, "cannot create '%s': %s", path, strerror(e));
}

/* The size of the buffers of held and in-place output (stdio's: 4 KiB). */
#define HOLD_BUF 65536

/*
 * Can standard output be written in place and still be taken back? Yes
 * for /dev/null; for a regular file, when it is not opened for appending
 * (another writer's data could follow ours), is not also standard error
 * (a message could follow ours) and is written at its end, with *end set
 * to that offset.
 */
static bool
stdout_in_place(long long *end)
{
	struct stat so, se, sn;
	off_t off;
	int fl;

	*end = -1;
	if (fstat(STDOUT_FILENO, &so) != 0)
		return false;
	if (S_ISCHR(so.st_mode))
		return stat("/dev/null", &sn) == 0 && S_ISCHR(sn.st_mode) &&
		       sn.st_rdev == so.st_rdev;
	if (!S_ISREG(so.st_mode) ||
	    (fl = fcntl(STDOUT_FILENO, F_GETFL)) < 0 || (fl & O_APPEND) ||
	    (fstat(STDERR_FILENO, &se) == 0 && se.st_dev == so.st_dev &&
	     se.st_ino == so.st_ino) ||
	    (off = lseek(STDOUT_FILENO, 0, SEEK_CUR)) < 0 ||
	    off != so.st_size) /* bytes after ours would be cut too */
		return false;
	*end = (long long)off;
	return true;
}

void
gpu_outfile_hold(struct gpu_outfile *of)
{
	const char *dir = getenv("TMPDIR");
	FILE *fp = NULL;
	long long end;
	char *name;
	int fd;

	if (of->fp == NULL || of->tmp != NULL || of->target != NULL)
		return;
	if (of->fp == stdout && stdout_in_place(&end)) {
		static char big[HOLD_BUF]; /* glibc takes no size without one */

		setvbuf(stdout, big, _IOFBF, sizeof(big));
		of->cut = end >= 0;
		of->cut_to = end;
		return;
	}
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	name = gpu_xmalloc(strlen(dir) + sizeof("/gpuusage.XXXXXX"));
	strcpy(name, dir);
	strcat(name, "/gpuusage.XXXXXX");
	fd = mkstemp(name);
	if (fd >= 0) {
		unlink(name);
		fp = fdopen(fd, "w+");
		if (fp == NULL) {
			close(fd);
		} else {
			of->buf = gpu_xmalloc(HOLD_BUF);
			setvbuf(fp, of->buf, _IOFBF, HOLD_BUF);
		}
	}
	free(name);
	if (fp == NULL) {
		of->mem = NULL;
		of->memlen = 0;
		fp = open_memstream(&of->mem, &of->memlen);
	}
	if (fp != NULL) { /* else nowhere to hold it: write as it comes */
		of->target = of->fp;
		of->fp = fp;
	}
}

/*
 * Copy held data to the target. Returns 0, or -1 with err filled; a
 * write error on standard output is left for gpu_close_stdout().
 */
static int
release_held(struct gpu_outfile *of, struct gpu_err *err)
{
	char buf[65536];
	size_t n;

	if (fflush(of->fp) != 0 || ferror(of->fp))
		return gpu_err_set(err,
				   "cannot hold the output in a temporary"
				   " file: %s",
				   strerror(io_errno()));
	if (of->mem != NULL) {
		if (fwrite(of->mem, 1, of->memlen, of->target) != of->memlen)
			goto write_error;
		return 0;
	}
	rewind(of->fp);
	while ((n = fread(buf, 1, sizeof(buf), of->fp)) > 0)
		if (fwrite(buf, 1, n, of->target) != n)
			goto write_error;
	if (ferror(of->fp))
		return gpu_err_set(err,
				   "cannot read the output back from a"
				   " temporary file: %s",
				   strerror(io_errno()));
	return 0;
write_error:
	if (of->target == stdout)
		return 0;
	return gpu_err_set(err, "write error on '%s': %s", of->path,
			   strerror(io_errno()));
}

/* Drop the held data; close the target unless it is standard output. */
static int
drop_held(struct gpu_outfile *of)
{
	int rc = 0;

	fclose(of->fp);
	free(of->buf);
	of->buf = NULL;
	free(of->mem);
	if (of->target != stdout && fclose(of->target) != 0)
		rc = -1;
	of->mem = NULL;
	of->target = NULL;
	of->fp = NULL;
	return rc;
}

int
gpu_outfile_commit(struct gpu_outfile *of, struct gpu_err *err)
{
	int rc = 0;

	if (of->target != NULL) {
		rc = release_held(of, err);
		/* Closing a device flushes it: its error is a write error. */
		if (drop_held(of) != 0 && rc == 0)
			rc = gpu_err_set(err, "write error on '%s': %s",
					 of->path, strerror(io_errno()));
		return rc;
	}
	if (of->fp == NULL || of->fp == stdout) {
		of->fp = NULL;
		of->cut = false;
		return 0;
	}
	if (fflush(of->fp) != 0 || ferror(of->fp) ||
	    (of->tmp != NULL && fsync(fileno(of->fp)) != 0)) {
		rc = gpu_err_set(err, "write error on '%s': %s", of->path,
				 strerror(io_errno()));
		fclose(of->fp);
	} else if (fclose(of->fp) != 0) {
		rc = gpu_err_set(err, "write error on '%s': %s", of->path,
				 strerror(io_errno()));
	} else if (of->tmp != NULL && rename(of->tmp, of->path) != 0) {
		rc = gpu_err_set(err, "cannot rename '%s' to '%s': %s", of->tmp,
				 of->path, strerror(errno));
	}
	of->fp = NULL;
	if (rc != 0 && of->tmp != NULL)
		unlink(of->tmp);
	free(of->tmp);
	of->tmp = NULL;
	return rc;
}

void
gpu_outfile_abort(struct gpu_outfile *of)
{
	if (of->target != NULL) {
		drop_held(of);
		return;
	}
	if (of->cut) {
		/* What stdio still buffers goes out first, then is cut. */
		fflush(stdout);
		if (ftruncate(STDOUT_FILENO, (off_t)of->cut_to) == 0)
			lseek(STDOUT_FILENO, (off_t)of->cut_to, SEEK_SET);
		of->cut = false;
	}
	if (of->fp != NULL && of->fp != stdout)
		fclose(of->fp);
	if (of->tmp != NULL)
		unlink(of->tmp);
	free(of->tmp);
	of->fp = NULL;
	of->tmp = NULL;
}
