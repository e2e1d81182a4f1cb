/* SPDX-License-Identifier: MIT */
/*
 * A background flusher of a warehouse's files (gpu/flusher.h).
 *
 * A first load writes a file of hundreds of megabytes through the page
 * cache, and the kernel starts writing dirty pages back only when they
 * are 30 seconds old or fill a tenth of memory: a load of minutes or
 * less leaves them all to its commit's fdatasync(), which then waits for
 * the whole file (0.51 s of a 6.75 s load of five million samples on the
 * benchmark machine; bench/flush.sh, docs/PERFORMANCE.md). Started along
 * the way, the write-back overlaps the load, on a CPU the loading thread
 * is not using. The syncs matter as much as the write-backs: on ext4 a
 * sync of any file commits the file system's journal, which first writes
 * every data block allocated since the last commit, the write-backs'
 * included.
 */
#define _GNU_SOURCE /* sync_file_range() */
#include "gpu/flusher.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gpu/diag.h"

#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)

struct gpu_flusher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stop;
	struct gpu_flusher_stats st; /* under mu */
	int fd[2]; /* the database, its log (-1: not open yet) */
	char *log; /* the log's path */
};

/* One tick: start the write-back of both files, or sync them. */
static void
tick(struct gpu_flusher *f, bool sync)
{
	/* The log appears with the run's first write in WAL mode. */
	if (f->fd[1] < 0)
		f->fd[1] = open(f->log, O_RDONLY | O_CLOEXEC);
	for (int i = 0; i < 2; i++) {
		if (f->fd[i] < 0)
			continue;
		/* A failure costs only the head start: the commit syncs. */
		if (sync)
			(void)fdatasync(f->fd[i]);
		else
			(void)sync_file_range(f->fd[i], 0, 0,
					      SYNC_FILE_RANGE_WRITE);
	}
}

static void
after_ms(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_nsec += ms * 1000000L;
	t->tv_sec += t->tv_nsec / 1000000000L;
	t->tv_nsec %= 1000000000L;
}

static void *
run(void *arg)
{
	struct gpu_flusher *f = arg;
	struct timespec at;
	unsigned n = 0;
	bool sync;

	pthread_mutex_lock(&f->mu);
	after_ms(&at, GPU_FLUSH_TICK_MS);
	while (!f->stop) {
		if (pthread_cond_timedwait(&f->wake, &f->mu, &at) !=
			ETIMEDOUT ||
		    f->stop)
			continue;
		pthread_mutex_unlock(&f->mu);
		sync = ++n % GPU_FLUSH_SYNC_TICKS == 0;
		tick(f, sync);
		pthread_mutex_lock(&f->mu);
		if (sync)
			f->st.syncs++;
		else
			f->st.writebacks++;
		f->st.files = f->fd[1] < 0 ? 1 : 2;
		after_ms(&at, GPU_FLUSH_TICK_MS);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

struct gpu_flusher *
gpu_flusher_start(const char *path)
{
	struct gpu_flusher *f;
	pthread_condattr_t ca;
	struct stat sb;
	size_t n;
	int fd, rc;

	if (path == NULL || gpu_env_off("GPUUSAGE_FLUSH"))
		return NULL;
	/* Not the file's creation: a descriptor of what SQLite made. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return NULL;
	}
	f = gpu_xcalloc(1, sizeof(*f));
	f->fd[0] = fd;
	f->fd[1] = -1;
	f->st.files = 1;
	n = strlen(path);
	f->log = gpu_xmalloc(n + 5);
	memcpy(f->log, path, n);
	memcpy(f->log + n, "-wal", 5);
	/* The ticks keep their length when the wall clock is set. */
	if (pthread_condattr_init(&ca) != 0)
		goto fail;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&f->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0)
		goto fail;
	pthread_mutex_init(&f->mu, NULL);
	if (pthread_create(&f->thread, NULL, run, f) == 0)
		return f;
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->mu);
fail:
	close(fd);
	free(f->log);
	free(f);
	return NULL;
}

void
gpu_flusher_stats(struct gpu_flusher *f, struct gpu_flusher_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	*st = f->st;
	pthread_mutex_unlock(&f->mu);
}

void
gpu_flusher_end(struct gpu_flusher *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->mu);
	for (int i = 0; i < 2; i++)
		if (f->fd[i] >= 0)
			close(f->fd[i]);
	free(f->log);
	free(f);
}

#else /* no sync_file_range(): the commit writes everything, as before */

struct gpu_flusher *
gpu_flusher_start(const char *path)
{
	(void)path;
	return NULL;
}

void
gpu_flusher_stats(struct gpu_flusher *f, struct gpu_flusher_stats *st)
{
	(void)f;
	memset(st, 0, sizeof(*st));
}

void
gpu_flusher_end(struct gpu_flusher *f)
{
	(void)f;
}

#endif
