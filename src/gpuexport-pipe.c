/* SPDX-License-Identifier: MIT */
/* gpuexport: read a row source on a thread of its own, in batches, so that
 * SQLite's stepping and the Parquet encoding use two cores. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gpuexport.h"

#define BATCH_ROWS 4096
#define NBATCH 4

struct batch {
	size_t rows;
	struct exp_val *vals; /* BATCH_ROWS rows of ncols */
	struct gpu_buf text;  /* strings not stable; vals hold offsets */
};

struct exp_pipe {
	struct exp_source *src;
	size_t ncols;
	size_t *strs, nstrs; /* the string columns */
	struct batch b[NBATCH];
	size_t head, count; /* full batches: b[head], ... (ring) */
	bool done, stop;
	int rc;
	struct gpu_err err;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	/* the consumer's place */
	struct batch *cur;
	size_t row;
};

/* Fill one batch; returns rows read, or -1 on error. */
static long
fill(struct exp_pipe *p, struct batch *b)
{
	const struct lake_schema *sc = &p->src->t->schema;
	size_t r, i;
	int rc = 1;

	b->rows = 0;
	gpu_buf_reset(&b->text);
	for (r = 0; r < BATCH_ROWS; r++) {
		struct exp_val *row = b->vals + r * p->ncols;

		rc = exp_source_read(p->src, row, &p->err);
		if (rc <= 0)
			break;
		for (i = 0; i < sc->nfields; i++) {
			if (sc->fields[i].type != LAKE_STRING || row[i].null ||
			    row[i].stable)
				continue;
			row[i].i = (int64_t)b->text.len;
			gpu_buf_add(&b->text, row[i].s, row[i].n);
		}
		b->rows++;
	}
	return rc < 0 ? -1 : (long)b->rows;
}

static void *
reader(void *arg)
{
	struct exp_pipe *p = arg;
	size_t slot = 0;

	for (;;) {
		long n;

		pthread_mutex_lock(&p->mu);
		while (p->count == NBATCH && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		slot = (p->head + p->count) % NBATCH;
		pthread_mutex_unlock(&p->mu);
		n = fill(p, &p->b[slot]);
		pthread_mutex_lock(&p->mu);
		if (n > 0)
			p->count++;
		if (n < 0)
			p->rc = -1;
		if (n < BATCH_ROWS)
			p->done = true;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (n < BATCH_ROWS)
			break;
	}
	return NULL;
}

struct exp_pipe *
exp_pipe_start(struct exp_source *src, struct gpu_err *err)
{
	struct exp_pipe *p = gpu_xcalloc(1, sizeof(*p));
	size_t i;

	p->src = src;
	p->ncols = src->t->schema.nfields;
	p->strs = gpu_xcalloc(p->ncols, sizeof(*p->strs));
	for (i = 0; i < p->ncols; i++)
		if (src->t->schema.fields[i].type == LAKE_STRING)
			p->strs[p->nstrs++] = i;
	for (i = 0; i < NBATCH; i++) {
		p->b[i].vals =
		    gpu_xcalloc(BATCH_ROWS * p->ncols, sizeof(*p->b[i].vals));
		gpu_buf_init(&p->b[i].text);
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->thread, NULL, reader, p) != 0) {
		gpu_err_set(err, "cannot start a reader thread");
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		for (i = 0; i < NBATCH; i++) {
			free(p->b[i].vals);
			gpu_buf_release(&p->b[i].text);
		}
		free(p->strs);
		free(p);
		return NULL;
	}
	return p;
}

/* Hand the current batch back to the reader. */
static void
release(struct exp_pipe *p)
{
	if (p->cur == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->head = (p->head + 1) % NBATCH;
	p->count--;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	p->cur = NULL;
}

int
exp_pipe_next(struct exp_pipe *p, const struct exp_val **row,
	      struct gpu_err *err)
{

	if (p->cur != NULL && p->row == p->cur->rows)
		release(p);
	if (p->cur == NULL) {
		size_t r, i;

		pthread_mutex_lock(&p->mu);
		while (p->count == 0 && !p->done)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->count == 0) {
			int rc = p->rc;

			pthread_mutex_unlock(&p->mu);
			if (rc < 0 && err != NULL)
				*err = p->err;
			return rc < 0 ? -1 : 0;
		}
		p->cur = &p->b[p->head];
		pthread_mutex_unlock(&p->mu);
		p->row = 0;
		for (r = 0; r < p->cur->rows && p->nstrs > 0; r++) {
			struct exp_val *v = p->cur->vals + r * p->ncols;

			for (i = 0; i < p->nstrs; i++) {
				struct exp_val *x = &v[p->strs[i]];

				if (!x->null && !x->stable)
					x->s = p->cur->text.data + x->i;
			}
		}
	}
	*row = p->cur->vals + p->row++ * p->ncols;
	return 1;
}

void
exp_pipe_stop(struct exp_pipe *p)
{
	size_t i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	for (i = 0; i < NBATCH; i++) {
		free(p->b[i].vals);
		gpu_buf_release(&p->b[i].text);
	}
	free(p->strs);
	free(p);
}
