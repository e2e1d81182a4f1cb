/* SPDX-License-Identifier: MIT */
/* gpuexport: read a partition on reader threads of their own, in batches,
 * so that SQLite's stepping and the Parquet encoding use several cores. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/db.h"
#include "gpu/pack.h"
#include "gpuexport.h"

#define BATCH_ROWS 1024
#define NBATCH 4
#define DAY_MS INT64_C(86400000)
/*
 * A day is read as chunks of this many ms of its ordering key (ts_ms,
 * hour_ms), chunk k by reader k % nreaders, and handed on in chunk order:
 * the rows come out in the order one statement gives them.
 */
#define CHUNK_MS (INT64_C(5) * 60 * 1000)
/*
 * How long to wait for a writer to let go before reading on one thread
 * (gpuingest holds the lock for a whole load).
 */
#define PIN_WAIT_MS 1000

/*
 * BATCH_ROWS rows as column arrays, the form lake_pq_put_batch() takes;
 * names point into the dimensions, other strings into text.
 */
struct batch {
	bool last;	      /* the chunk's last batch */
	bool copied;	      /* some strings are in text */
	struct exp_batch pub; /* rows, and cols pointing into c */
	struct exp_col *c;
	struct lake_pq_col *cols;
	struct gpu_buf text;
};

/*
 * A reader thread and its ring, each with a lock of its own: the reader
 * and the consumer meet only over this ring, and each wakes the other
 * only when it waits (a lock and a broadcast shared by every ring woke
 * every thread at every batch: 22,000 futex calls on the consumer's
 * thread for a day of 5M facts).
 */
struct rd {
	struct exp_pipe *p;
	size_t index;
	struct exp_source src;
	bool opened, started;
	struct batch b[NBATCH];
	pthread_mutex_t mu;
	pthread_cond_t room, data; /* the reader's wait, the consumer's */
	bool sync;		   /* mu, room and data are initialized */
	size_t head, count; /* full batches: b[head], ... (ring) */
	bool done;	    /* the thread has nothing more to give */
	bool stop;	    /* exp_pipe_stop(): give up */
	bool rd_waits, cons_waits;
	int rc;
	struct gpu_err err;
	pthread_t thread;
};

struct exp_pipe {
	const struct exp_table *t;
	size_t ncols;
	size_t *strs, nstrs; /* the string columns */
	struct rd *rd;
	size_t nrd;
	int64_t lo;	/* first chunk's start (ranged) */
	bool ranged;	/* chunks rebind the statement's ?1, ?2 */
	size_t nchunks; /* 1 when not ranged */
	/* the consumer's place */
	size_t chunk;
	struct batch *cur;
};

/* Fill one batch from the reader's chunk; returns rows read, or -1. */
static long
fill(struct rd *d, struct batch *b)
{
	size_t r;
	int rc = 1;

	b->pub.rows = 0;
	b->last = false;
	b->copied = false;
	gpu_buf_reset(&b->text);
	for (r = 0; r < BATCH_ROWS; r++) {
		rc = exp_source_read_cols(&d->src, b->c, r, &b->text,
					  &b->copied, &d->err);
		if (rc <= 0)
			break;
		b->pub.rows++;
	}
	b->last = rc <= 0;
	return rc < 0 ? -1 : (long)b->pub.rows;
}

/* Allocate b's columns for the fields of t. */
static void
batch_init(struct batch *b, const struct exp_table *t)
{
	size_t i, n = t->schema.nfields;

	b->c = gpu_xcalloc(n, sizeof(*b->c));
	b->cols = gpu_xcalloc(n, sizeof(*b->cols));
	gpu_buf_init(&b->text);
	for (i = 0; i < n; i++) {
		const struct lake_field *f = &t->schema.fields[i];
		struct exp_col *c = &b->c[i];

		c->present = gpu_xcalloc(BATCH_ROWS, 1);
		if (f->type == LAKE_DOUBLE)
			c->d = gpu_xcalloc(BATCH_ROWS, sizeof(*c->d));
		else
			c->i = gpu_xcalloc(BATCH_ROWS, sizeof(*c->i));
		if (f->type == LAKE_STRING)
			c->s = gpu_xcalloc(BATCH_ROWS, sizeof(*c->s));
		/* Required columns hold no NULL (exp_pipe_batch() checks). */
		b->cols[i].present = f->required ? NULL : c->present;
		b->cols[i].i = c->i;
		b->cols[i].d = c->d;
		b->cols[i].s = c->s;
		b->cols[i].stable = t->kinds[i] == EXP_NODE ||
				    t->kinds[i] == EXP_NAME ||
				    t->kinds[i] == EXP_JOB;
	}
	b->pub.cols = b->cols;
}

static void
batch_release(struct batch *b, size_t ncols)
{
	size_t i;

	for (i = 0; i < ncols && b->c != NULL; i++) {
		free(b->c[i].present);
		free(b->c[i].i);
		free(b->c[i].d);
		free(b->c[i].s);
	}
	free(b->c);
	free(b->cols);
	gpu_buf_release(&b->text);
}

/* Read one chunk into the ring; returns 0, or -1 (error or stopped). */
static int
read_chunk(struct rd *d, size_t chunk)
{
	struct exp_pipe *p = d->p;
	bool last = false;

	if (p->ranged) {
		int64_t lo = p->lo + (int64_t)chunk * CHUNK_MS;

		exp_source_range(&d->src, lo, lo + CHUNK_MS);
	}
	while (!last) {
		struct batch *b;
		long n;

		pthread_mutex_lock(&d->mu);
		while (d->count == NBATCH && !d->stop) {
			d->rd_waits = true;
			pthread_cond_wait(&d->room, &d->mu);
		}
		d->rd_waits = false;
		if (d->stop) {
			pthread_mutex_unlock(&d->mu);
			return -1;
		}
		b = &d->b[(d->head + d->count) % NBATCH];
		pthread_mutex_unlock(&d->mu);
		n = fill(d, b);
		pthread_mutex_lock(&d->mu);
		if (n < 0)
			d->rc = -1;
		else
			d->count++;
		if (d->cons_waits)
			pthread_cond_signal(&d->data);
		pthread_mutex_unlock(&d->mu);
		if (n < 0)
			return -1;
		last = b->last;
	}
	return 0;
}

static void *
reader(void *arg)
{
	struct rd *d = arg;
	struct exp_pipe *p = d->p;
	size_t c;

	for (c = d->index; c < p->nchunks; c += p->nrd)
		if (read_chunk(d, c) != 0)
			break;
	pthread_mutex_lock(&d->mu);
	d->done = true;
	pthread_cond_signal(&d->data);
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

struct exp_pipe *
exp_pipe_start(sqlite3 *const *dbs, size_t ndbs, const struct exp_table *t,
	       const struct exp_dims *dims, int32_t day, bool new_only,
	       int64_t watermark, struct gpu_err *err)
{
	struct exp_pipe *p = gpu_xcalloc(1, sizeof(*p));
	size_t i, j;

	p->t = t;
	p->ncols = t->schema.nfields;
	p->strs = gpu_xcalloc(p->ncols, sizeof(*p->strs));
	for (i = 0; i < p->ncols; i++)
		if (t->schema.fields[i].type == LAKE_STRING)
			p->strs[p->nstrs++] = i;
	/* The bills and the unpartitioned tables: one statement. */
	p->ranged = ndbs > 1 && t->sql != NULL && day != EXP_NO_DAY;
	p->nrd = p->ranged ? ndbs : 1;
	p->nchunks = p->ranged ? (size_t)(DAY_MS / CHUNK_MS) : 1;
	p->lo = (int64_t)day * DAY_MS;
	p->rd = gpu_xcalloc(p->nrd, sizeof(*p->rd));
	for (i = 0; i < p->nrd; i++) {
		struct rd *d = &p->rd[i];

		d->p = p;
		d->index = i;
		if (pthread_mutex_init(&d->mu, NULL) != 0) {
			gpu_err_set(err, "cannot start a reader thread");
			goto fail;
		}
		if (pthread_cond_init(&d->room, NULL) != 0) {
			pthread_mutex_destroy(&d->mu);
			gpu_err_set(err, "cannot start a reader thread");
			goto fail;
		}
		if (pthread_cond_init(&d->data, NULL) != 0) {
			pthread_cond_destroy(&d->room);
			pthread_mutex_destroy(&d->mu);
			gpu_err_set(err, "cannot start a reader thread");
			goto fail;
		}
		d->sync = true;
		for (j = 0; j < NBATCH; j++)
			batch_init(&d->b[j], t);

		if (exp_source_open(&d->src, dbs[i], t, dims, day, false,
				    new_only, watermark, err) != 0)
			goto fail;
		d->opened = true;
	}
	for (i = 0; i < p->nrd; i++) {
		if (pthread_create(&p->rd[i].thread, NULL, reader, &p->rd[i]) !=
		    0) {
			gpu_err_set(err, "cannot start a reader thread");
			goto fail;
		}
		p->rd[i].started = true;
	}
	return p;
fail:
	exp_pipe_stop(p);
	return NULL;
}

/* Hand the current batch back to its reader. */
static void
release(struct exp_pipe *p, struct rd *d)
{
	pthread_mutex_lock(&d->mu);
	d->head = (d->head + 1) % NBATCH;
	d->count--;
	if (d->rd_waits)
		pthread_cond_signal(&d->room);
	pthread_mutex_unlock(&d->mu);
	p->cur = NULL;
}

/*
 * Point the copied strings of the current batch into its text; fail on a
 * NULL in a required column, as the writer takes none.
 */
static int
resolve(struct exp_pipe *p, struct gpu_err *err)
{
	const struct lake_schema *sc = &p->t->schema;
	struct batch *b = p->cur;
	size_t r, i, n = b->pub.rows;

	for (i = 0; i < p->ncols; i++) {
		if (!sc->fields[i].required ||
		    memchr(b->c[i].present, 0, n) == NULL)
			continue;
		if (err != NULL)
			gpu_err_set(err, "%s: NULL in required column '%s'",
				    p->t->name, sc->fields[i].name);
		return -1;
	}
	/* No string copied (names only): nothing to point. */
	if (!b->copied)
		return 0;
	for (i = 0; i < p->nstrs; i++) {
		struct exp_col *c = &b->c[p->strs[i]];

		for (r = 0; r < n; r++)
			if (c->present[r] != 0 && c->s[r].p == NULL)
				c->s[r].p = b->text.data + c->i[r];
	}
	return 0;
}

int
exp_pipe_batch(struct exp_pipe *p, const struct exp_batch **batch,
	       struct gpu_err *err)
{
	struct rd *d;

	if (p->cur != NULL) {
		bool last = p->cur->last;

		release(p, &p->rd[p->chunk % p->nrd]);
		if (last)
			p->chunk++;
	}
	for (;;) {
		if (p->chunk >= p->nchunks)
			return 0;
		d = &p->rd[p->chunk % p->nrd];
		pthread_mutex_lock(&d->mu);
		while (d->count == 0 && !d->done) {
			d->cons_waits = true;
			pthread_cond_wait(&d->data, &d->mu);
		}
		d->cons_waits = false;
		if (d->count == 0) {
			/* Done before its chunk ended: it failed. */
			pthread_mutex_unlock(&d->mu);
			if (err != NULL)
				*err = d->err;
			return -1;
		}
		p->cur = &d->b[d->head];
		pthread_mutex_unlock(&d->mu);
		if (p->cur->pub.rows > 0)
			break;
		/* An empty batch ends its chunk: on to the next. */
		release(p, d);
		p->chunk++;
	}
	if (resolve(p, err) != 0)
		return -1;
	*batch = &p->cur->pub;
	return 1;
}

void
exp_pipe_stop(struct exp_pipe *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrd; i++) {
		struct rd *d = &p->rd[i];

		if (!d->sync)
			continue;
		pthread_mutex_lock(&d->mu);
		d->stop = true;
		pthread_cond_signal(&d->room);
		pthread_mutex_unlock(&d->mu);
	}
	for (i = 0; i < p->nrd; i++) {
		struct rd *d = &p->rd[i];

		if (d->started)
			pthread_join(d->thread, NULL);
		if (d->opened)
			exp_source_close(&d->src);
		for (j = 0; j < NBATCH; j++)
			batch_release(&d->b[j], p->ncols);
		if (d->sync) {
			pthread_cond_destroy(&d->data);
			pthread_cond_destroy(&d->room);
			pthread_mutex_destroy(&d->mu);
		}
	}
	free(p->rd);
	free(p->strs);
	free(p);
}

/* Open one more connection to db's file (flags: read-only or read-write);
 * NULL on failure. */
static sqlite3 *
open_conn(sqlite3 *db, int flags, int timeout_ms)
{
	const char *path = sqlite3_db_filename(db, "main");
	sqlite3 *c = NULL;

	if (path == NULL || path[0] == '\0')
		return NULL;
	/* One handle per thread: no per-call mutex. */
	if (sqlite3_open_v2(path, &c, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(c);
		return NULL;
	}
	sqlite3_busy_timeout(c, timeout_ms);
	if (gpu_pack_register(c) != 0) {
		sqlite3_close(c);
		return NULL;
	}
	return c;
}

/* Begin a read transaction on db and take its snapshot now. */
static int
begin_read(sqlite3 *db)
{
	return sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_master",
			    NULL, NULL, NULL) == SQLITE_OK
		   ? 0
		   : -1;
}

int
exp_readers_begin(sqlite3 *db, size_t n, int timeout_ms, sqlite3 ***out,
		  size_t *nout, struct gpu_err *err)
{
	sqlite3 *pin = NULL;
	sqlite3 **v = NULL;
	size_t k = 0;
	int rc;

	*out = NULL;
	*nout = 0;
	/*
	 * No writer can commit while pin holds the write lock, so every
	 * connection that begins reading meanwhile reads the same snapshot
	 * (WAL or rollback journal alike); pin lets go as soon as they have.
	 * A warehouse busy with a writer is read by db alone.
	 */
	if (n > 1)
		pin = open_conn(db, SQLITE_OPEN_READWRITE,
				timeout_ms < PIN_WAIT_MS ? timeout_ms
							 : PIN_WAIT_MS);
	if (pin != NULL && sqlite3_exec(pin, "BEGIN IMMEDIATE", NULL, NULL,
					NULL) != SQLITE_OK) {
		sqlite3_close(pin);
		pin = NULL;
	}
	rc = gpu_db_exec(db, "BEGIN; SELECT count(*) FROM sqlite_master", err);
	if (pin != NULL && rc == 0) {
		v = gpu_xcalloc(n, sizeof(*v));
		for (k = 0; k < n; k++) {
			v[k] = open_conn(db, SQLITE_OPEN_READONLY, timeout_ms);
			if (v[k] == NULL)
				break;
			if (begin_read(v[k]) != 0) {
				sqlite3_close(v[k]);
				break;
			}
		}
		if (k < 2) {
			exp_readers_end(v, k);
			v = NULL;
			k = 0;
		}
	}
	if (pin != NULL) {
		sqlite3_exec(pin, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(pin);
	}
	*out = v;
	*nout = k;
	return rc;
}

void
exp_readers_end(sqlite3 **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sqlite3_exec(v[i], "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(v[i]);
	}
	free(v);
}
