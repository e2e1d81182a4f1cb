/* SPDX-License-Identifier: MIT */
/* gpuingest's inputs: opening, spooling pipes, SHA-256 thread, progress. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "gpu/buf.h"
#include "gpu/diag.h"
#include "gpu/jobs.h"
#include "gpu/reader.h"
#include "gpu/sha256.h"
#include "gpuingest.h"

static double
elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void
ingest_progress_start(struct progress *p, const struct opts *o,
		      const char *source, long long size)
{
	p->on = !o->quiet && (o->progress || isatty(STDERR_FILENO));
	p->source = source;
	p->size = size;
	p->width = 0;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	p->last = p->t0;
}

void
ingest_progress_draw(struct progress *p, long long rows, long long offset,
		     bool final)
{
	struct timespec now;
	struct gpu_buf b;
	double secs, rate;

	if (!p->on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && elapsed(&p->last, &now) < 0.25)
		return;
	p->last = now;
	secs = elapsed(&p->t0, &now);
	rate = secs > 0 ? (double)rows / secs : 0;
	gpu_buf_init(&b);
	gpu_buf_addf(&b, "%s: %s: %lld rows, %.0f rows/s", gpu_progname(),
		     p->source, rows, rate);
	if (p->size > 0 && offset >= 0) {
		double frac = (double)offset / (double)p->size;

		if (frac > 1)
			frac = 1;
		gpu_buf_addf(&b, ", %d%%", (int)(frac * 100));
		if (!final && frac > 0) {
			long long eta = (long long)(secs / frac - secs + 0.5);

			gpu_buf_addf(&b, ", ETA %lld:%02lld", eta / 60,
				     eta % 60);
		}
	}
	while (b.len < p->width)
		gpu_buf_addc(&b, ' ');
	p->width = b.len;
	fprintf(stderr, "\r%s%s", b.data, final ? "\n" : "");
	fflush(stderr);
	gpu_buf_release(&b);
}

/* Copy fp to a temporary file while hashing it (input from a pipe). */
static int
spool(struct input *in, FILE *fp)
{
	struct gpu_sha256 h;
	char block[65536];
	size_t n;
	FILE *tmp = tmpfile();

	if (tmp == NULL) {
		gpu_msg("cannot create a temporary file: %s", strerror(errno));
		goto fail;
	}
	gpu_sha256_init(&h);
	in->size = 0;
	while ((n = fread(block, 1, sizeof(block), fp)) > 0) {
		gpu_sha256_update(&h, block, n);
		in->size += (long long)n;
		if (fwrite(block, 1, n, tmp) != n)
			break;
	}
	if (ferror(fp) || ferror(tmp) || fflush(tmp) != 0) {
		gpu_msg("%s: cannot read or spool input: %s", in->source,
			strerror(errno));
		fclose(tmp);
		goto fail;
	}
	gpu_sha256_hex(&h, in->sha);
	rewind(tmp);
	if (in->owned != NULL)
		fclose(in->owned);
	in->owned = tmp;
	in->fp = tmp;
	return 0;
fail:
	if (in->owned != NULL)
		fclose(in->owned);
	in->owned = NULL;
	in->fp = NULL;
	return -1;
}

/*
 * Hash a regular file from in->pos to its end with pread(), which leaves
 * the stream's offset alone, on a second thread while the main one loads.
 */
static void *
hash_thread(void *arg)
{
	struct input *in = arg;
	struct gpu_sha256 h;
	char *block = gpu_xmalloc(65536);
	off_t off = in->pos;
	ssize_t n;

	gpu_sha256_init(&h);
	while (!atomic_load(&in->stop) &&
	       (n = pread(in->fd, block, 65536, off)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			in->hash_errno = errno;
			break;
		}
		gpu_sha256_update(&h, block, (size_t)n);
		off += n;
	}
	gpu_sha256_hex(&h, in->sha);
	free(block);
	return NULL;
}

int
ingest_open_input(struct input *in, const char *name, const char *stdin_name)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	atomic_init(&in->stop, false);
	if (strcmp(name, "-") == 0) {
		in->source = stdin_name != NULL ? stdin_name : "<stdin>";
		in->fp = stdin;
	} else {
		in->source = name;
		in->fp = in->owned = fopen(name, "rb");
		if (in->fp == NULL) {
			gpu_msg("cannot open '%s': %s", name, strerror(errno));
			return -1;
		}
	}
	if (fstat(fileno(in->fp), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (in->pos = ftello(in->fp)) < 0)
		return spool(in, in->fp);
	in->fd = fileno(in->fp);
	in->size = (long long)(st.st_size - in->pos);
	if (pthread_create(&in->th, NULL, hash_thread, in) != 0) {
		hash_thread(in);
		return 0;
	}
	in->threaded = true;
	return 0;
}

const char *
ingest_input_sha(struct input *in)
{
	if (in->threaded) {
		pthread_join(in->th, NULL);
		in->threaded = false;
	}
	if (in->hash_errno != 0) {
		gpu_msg("%s: read error: %s", in->source,
			strerror(in->hash_errno));
		return NULL;
	}
	return in->sha;
}

void
ingest_close_input(struct input *in)
{
	if (in->threaded) {
		atomic_store(&in->stop, true);
		pthread_join(in->th, NULL);
		in->threaded = false;
	}
	if (in->owned != NULL)
		fclose(in->owned);
	in->owned = NULL;
}

void
ingest_open_failed(int rc, bool jobs, const struct gpu_err *err)
{
	const char *hint = gpu_reader_open_hint(rc);

	if (jobs)
		hint = rc == GPU_JOBS_NO_HEADER
			   ? "sacct output without a header needs --columns"
			   : NULL;
	gpu_msg_err_hint(err, hint);
}
