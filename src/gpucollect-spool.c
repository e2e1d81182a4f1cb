/* SPDX-License-Identifier: MIT */
/* gpucollect: hourly staging files in the spool, completed by rename. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpu/time.h"
#include "gpucollect.h"

#define HOUR_MS INT64_C(3600000)
#define PART_SUFFIX ".csv.part"
/* "YYYYMMDDTHH00" */
#define LABEL_LEN 13
/* Suffixes tried for a name already taken in incoming/. */
#define MAX_SUFFIX 1000

int64_t
collect_hour_start(int64_t ms)
{
	int64_t h = ms / HOUR_MS;

	if (ms % HOUR_MS < 0)
		h--;
	return h * HOUR_MS;
}

int64_t
collect_next_boundary(int64_t now_ms, int64_t period_s)
{
	int64_t p = period_s * 1000;
	int64_t k = now_ms / p;

	if (now_ms % p < 0)
		k--;
	return (k + 1) * p;
}

/* Write v as n decimal digits, zero-padded. */
static void
put_digits(char *out, int64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* "YYYYMMDDTHH00" of the hour that holds ms (a year 0000-9999). */
static void
hour_label(int64_t ms, char out[LABEL_LEN + 1])
{
	int64_t day = ms / 86400000, y;
	int m, d;

	if (ms % 86400000 < 0)
		day--;
	gpu_civil_from_days(day, &y, &m, &d);
	put_digits(out, y, 4);
	put_digits(out + 4, m, 2);
	put_digits(out + 6, d, 2);
	out[8] = 'T';
	put_digits(out + 9, (ms - day * 86400000) / HOUR_MS, 2);
	memcpy(out + 11, "00", 3);
}

/* The hour that a label names; false when it is not one. */
static bool
parse_label(const char *s, int64_t *ms)
{
	int v[5] = {0}, w[5] = {4, 2, 2, 1, 2};
	const char *p = s;

	for (int i = 0; i < 5; i++) {
		if (i == 3) {
			if (*p++ != 'T')
				return false;
			continue;
		}
		for (int k = 0; k < w[i]; k++, p++) {
			if (*p < '0' || *p > '9')
				return false;
			v[i] = v[i] * 10 + (*p - '0');
		}
	}
	if (p[0] != '0' || p[1] != '0' || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    v[2] > 31 || v[4] > 23)
		return false;
	*ms = gpu_days_from_civil(v[0], v[1], v[2]) * 86400000 + v[4] * HOUR_MS;
	return true;
}

static int
make_dir(const char *path, struct gpu_err *err)
{
	struct stat sb;

	if (mkdir(path, 0777) == 0 ||
	    (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	return gpu_err_set(err, "cannot create '%s': %s", path,
			   strerror(errno));
}

static char *
join(const char *dir, const char *name)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	gpu_buf_addf(&b, "%s/%s", dir, name);
	return b.data;
}

int
collect_spool_init(struct collect_spool *s, const char *dir, const char *node,
		   struct gpu_err *err)
{
	memset(s, 0, sizeof(*s));
	s->node = node;
	s->tmp = join(dir, "tmp");
	s->incoming = join(dir, "incoming");
	if (make_dir(dir, err) != 0 || make_dir(s->incoming, err) != 0 ||
	    make_dir(s->tmp, err) != 0) {
		collect_spool_release(s);
		return -1;
	}
	return 0;
}

void
collect_spool_release(struct collect_spool *s)
{
	free(s->tmp);
	free(s->incoming);
	s->tmp = NULL;
	s->incoming = NULL;
}

/* tmp/.NODE-LABEL.csv.part; caller frees. */
static char *
part_path(const struct collect_spool *s, int64_t hour_ms)
{
	char label[LABEL_LEN + 1];
	struct gpu_buf b;

	hour_label(hour_ms, label);
	gpu_buf_init(&b);
	gpu_buf_addf(&b, "%s/.%s-%s" PART_SUFFIX, s->tmp, s->node, label);
	return b.data;
}

/*
 * Cut a last line that a crash left without its "\n", so that the next
 * row does not run into it. *size is the file's size, updated.
 */
static int
cut_partial_line(int fd, off_t *size)
{
	char chunk[4096];
	off_t end = *size;

	while (end > 0) {
		size_t n =
		    end > (off_t)sizeof(chunk) ? sizeof(chunk) : (size_t)end;
		ssize_t r = pread(fd, chunk, n, end - (off_t)n);

		if (r != (ssize_t)n)
			return -1;
		for (size_t i = n; i > 0; i--) {
			if (chunk[i - 1] != '\n')
				continue;
			end -= (off_t)(n - i);
			goto found;
		}
		end -= (off_t)n;
	}
found:
	if (end != *size && ftruncate(fd, end) != 0)
		return -1;
	*size = end;
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
collect_spool_append(struct collect_spool *s, int64_t hour_ms,
		     const char *header, size_t hlen, const char *rows,
		     size_t rlen, struct gpu_err *err)
{
	char *path = part_path(s, hour_ms);
	struct stat sb;
	off_t size;
	int fd, rc = -1;

	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd < 0) {
		gpu_err_set(err, "cannot create '%s': %s", path,
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0)
		goto fail;
	size = sb.st_size;
	if (cut_partial_line(fd, &size) != 0 ||
	    (size == 0 && write_all(fd, header, hlen) != 0) ||
	    write_all(fd, rows, rlen) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	rc = 0;
	goto out;
fail:
	gpu_err_set(err, "write error on '%s': %s", path,
		    strerror(errno != 0 ? errno : EIO));
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Claim a free name for base in incoming/ and move src there. */
static int
publish(const struct collect_spool *s, const char *src, const char *base,
	struct gpu_err *err)
{
	struct gpu_buf dst;
	int rc = -1;

	gpu_buf_init(&dst);
	for (int i = 0; i < MAX_SUFFIX; i++) {
		struct stat sb;

		gpu_buf_reset(&dst);
		gpu_buf_addf(&dst, "%s/%s", s->incoming, base);
		if (i > 0)
			gpu_buf_addf(&dst, "-%d", i);
		gpu_buf_adds(&dst, ".csv");
		/* link() never replaces an existing name; rename() would. */
		if (link(src, dst.data) == 0) {
			rc = unlink(src) == 0 ? 0 : -1;
			break;
		}
		if (errno == EEXIST)
			continue;
		if (errno != EPERM && errno != ENOTSUP && errno != ENOSYS &&
		    errno != EOPNOTSUPP)
			break;
		/* A file system without hard links. */
		if (lstat(dst.data, &sb) == 0)
			continue;
		rc = rename(src, dst.data);
		break;
	}
	if (rc != 0)
		gpu_err_set(err, "cannot move '%s' to '%s': %s", src, dst.data,
			    errno != 0 ? strerror(errno) : "name taken");
	else
		sync_dir(s->incoming);
	gpu_buf_release(&dst);
	return rc;
}

/*
 * Complete one staging file: cut a torn last line, then publish it; one
 * left empty by a crash is removed.
 */
static int
complete(const struct collect_spool *s, const char *path, const char *base,
	 struct gpu_err *err)
{
	struct stat sb;
	off_t size;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		goto fail;
	if (fstat(fd, &sb) != 0)
		goto fail;
	size = sb.st_size;
	if (cut_partial_line(fd, &size) != 0)
		goto fail;
	close(fd);
	if (size > 0)
		return publish(s, path, base, err);
	if (unlink(path) != 0 && errno != ENOENT)
		return gpu_err_set(err, "cannot remove '%s': %s", path,
				   strerror(errno));
	return 0;
fail:
	gpu_err_set(err, "cannot read '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int
collect_spool_complete(struct collect_spool *s, int64_t before_ms,
		       struct gpu_err *err)
{
	size_t nlen = strlen(s->node);
	struct gpu_err e1;
	DIR *d = opendir(s->tmp);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return gpu_err_set(err, "cannot read '%s': %s", s->tmp,
				   strerror(errno));
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name, *label = n + 1 + nlen + 1;
		size_t len = strlen(n);
		int64_t hour;
		char *path, *base;

		if (len != 1 + nlen + 1 + LABEL_LEN + strlen(PART_SUFFIX) ||
		    n[0] != '.' || memcmp(n + 1, s->node, nlen) != 0 ||
		    n[1 + nlen] != '-' ||
		    strcmp(label + LABEL_LEN, PART_SUFFIX) != 0 ||
		    !parse_label(label, &hour) || hour >= before_ms)
			continue;
		path = join(s->tmp, n);
		base = gpu_xstrndup(n + 1, nlen + 1 + LABEL_LEN);
		if (complete(s, path, base, &e1) != 0 && rc == 0) {
			if (err != NULL)
				*err = e1;
			rc = -1;
		}
		free(path);
		free(base);
	}
	closedir(d);
	return rc;
}
