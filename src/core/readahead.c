/* SPDX-License-Identifier: MIT */
/* A sample reader run ahead on a thread of its own. */
#include "gpu/readahead.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/buf.h"

/*
 * The reader thread fills blocks of rows; the caller takes them in order.
 * A row's strings are copied into its block's text (the reader's own are
 * borrowed only until its next call), kept as offsets while the text may
 * still grow and turned into pointers when the row is taken.
 */
#define RA_ROWS 256
#define RA_BLOCKS 4
#define NO_STR SIZE_MAX /* the string's pointer was NULL */

enum { F_NODE, F_JOB, F_USER, F_PROJECT, F_MODEL, F_UUID, F_PROFILE, F_N };

struct row {
	int rc;
	long line;
	long long offset;
	struct gpu_sample s;
	struct gpu_reject rej;
	size_t str[F_N]; /* offsets of the sample's strings */
	size_t reason, raw; /* of a reject's */
};

struct block {
	struct row rows[RA_ROWS];
	size_t n;
	bool last; /* ends with the end of the input or an error */
	struct gpu_err err; /* of a last row < 0 */
	struct gpu_buf text;
};

struct gpu_readahead {
	struct gpu_reader *rd;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct block blocks[RA_BLOCKS];
	size_t filled, taken; /* blocks handed over, blocks given back */
	bool stop;
	/* The caller's side: the block being read and the next row of it. */
	struct block *cur;
	size_t pos;
};

static struct gpu_str *
field(struct gpu_sample *s, int f)
{
	switch (f) {
	case F_NODE:
		return &s->node;
	case F_JOB:
		return &s->job_id;
	case F_USER:
		return &s->user;
	case F_PROJECT:
		return &s->project;
	case F_MODEL:
		return &s->model;
	case F_UUID:
		return &s->gpu_uuid;
	default:
		return &s->profile;
	}
}

/* Copy p[0..n) and a NUL into t; its offset, or NO_STR for NULL. */
static size_t
keep(struct gpu_buf *t, const char *p, size_t n)
{
	size_t off = t->len;

	if (p == NULL)
		return NO_STR;
	gpu_buf_add(t, p, n);
	gpu_buf_addc(t, '\0');
	return off;
}

static const char *
at(const struct block *b, size_t off)
{
	return off == NO_STR ? NULL : b->text.data + off;
}

/* Read up to RA_ROWS rows into b. */
static void
fill(struct gpu_readahead *ra, struct block *b)
{
	b->n = 0;
	b->last = false;
	gpu_buf_reset(&b->text);
	while (b->n < RA_ROWS) {
		struct row *r = &b->rows[b->n++];

		r->rc = gpu_reader_next(ra->rd, &r->s, &r->line, &r->rej,
					&b->err);
		r->offset = gpu_reader_offset(ra->rd);
		if (r->rc == GPU_READ_SAMPLE) {
			for (int f = 0; f < F_N; f++) {
				const struct gpu_str *v = field(&r->s, f);

				r->str[f] = keep(&b->text, v->p, v->len);
			}
		} else if (r->rc == GPU_READ_REJECT) {
			r->reason =
			    keep(&b->text, r->rej.reason,
				 r->rej.reason != NULL ? strlen(r->rej.reason)
						       : 0);
			r->raw = keep(&b->text, r->rej.raw.p, r->rej.raw.len);
		} else {
			b->last = true;
			return;
		}
	}
}

static void *
run(void *arg)
{
	struct gpu_readahead *ra = arg;
	bool last = false;

	while (!last) {
		struct block *b;

		pthread_mutex_lock(&ra->mu);
		while (ra->filled - ra->taken == RA_BLOCKS && !ra->stop)
			pthread_cond_wait(&ra->cv, &ra->mu);
		if (ra->stop) {
			pthread_mutex_unlock(&ra->mu);
			break;
		}
		b = &ra->blocks[ra->filled % RA_BLOCKS];
		pthread_mutex_unlock(&ra->mu);
		fill(ra, b);
		last = b->last;
		pthread_mutex_lock(&ra->mu);
		ra->filled++;
		pthread_cond_broadcast(&ra->cv);
		pthread_mutex_unlock(&ra->mu);
	}
	return NULL;
}

struct gpu_readahead *
gpu_readahead_start(struct gpu_reader *rd)
{
	struct gpu_readahead *ra = gpu_xcalloc(1, sizeof(*ra));

	ra->rd = rd;
	for (int i = 0; i < RA_BLOCKS; i++)
		gpu_buf_init(&ra->blocks[i].text);
	if (pthread_mutex_init(&ra->mu, NULL) != 0) {
		free(ra);
		return NULL;
	}
	if (pthread_cond_init(&ra->cv, NULL) != 0) {
		pthread_mutex_destroy(&ra->mu);
		free(ra);
		return NULL;
	}
	if (pthread_create(&ra->th, NULL, run, ra) != 0) {
		pthread_cond_destroy(&ra->cv);
		pthread_mutex_destroy(&ra->mu);
		free(ra);
		return NULL;
	}
	return ra;
}

int
gpu_readahead_next(struct gpu_readahead *ra, struct gpu_sample *s,
		   long *line, struct gpu_reject *rej, long long *offset,
		   struct gpu_err *err)
{
	const struct row *r;
	struct block *b = ra->cur;

	/* The rows of a block read through stay until this next call. */
	if (b != NULL && ra->pos == b->n && !b->last) {
		pthread_mutex_lock(&ra->mu);
		ra->taken++;
		pthread_cond_broadcast(&ra->cv);
		pthread_mutex_unlock(&ra->mu);
		b = ra->cur = NULL;
	}
	if (b == NULL) {
		pthread_mutex_lock(&ra->mu);
		while (ra->filled == ra->taken)
			pthread_cond_wait(&ra->cv, &ra->mu);
		pthread_mutex_unlock(&ra->mu);
		b = ra->cur = &ra->blocks[ra->taken % RA_BLOCKS];
		ra->pos = 0;
	}
	/* The last row of the input is answered again, as the reader does. */
	r = &b->rows[ra->pos < b->n ? ra->pos++ : b->n - 1];
	*offset = r->offset;
	if (r->rc == GPU_READ_SAMPLE) {
		*s = r->s;
		*line = r->line;
		for (int f = 0; f < F_N; f++)
			field(s, f)->p = at(b, r->str[f]);
	} else if (r->rc == GPU_READ_REJECT) {
		*rej = r->rej;
		*line = r->line;
		rej->reason = at(b, r->reason);
		rej->raw.p = at(b, r->raw);
	} else if (r->rc < 0) {
		*err = b->err;
	}
	return r->rc;
}

void
gpu_readahead_stop(struct gpu_readahead *ra)
{
	if (ra == NULL)
		return;
	pthread_mutex_lock(&ra->mu);
	ra->stop = true;
	pthread_cond_broadcast(&ra->cv);
	pthread_mutex_unlock(&ra->mu);
	pthread_join(ra->th, NULL);
	pthread_cond_destroy(&ra->cv);
	pthread_mutex_destroy(&ra->mu);
	for (int i = 0; i < RA_BLOCKS; i++)
		gpu_buf_release(&ra->blocks[i].text);
	free(ra);
}
