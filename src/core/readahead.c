/* SPDX-License-Identifier: MIT */
/*
 * A sample reader run ahead on threads of its own: one reader on one
 * thread, or a CSV file cut into pieces that several threads parse.
 */
#define _GNU_SOURCE /* fopencookie() */
#include "gpu/readahead.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "gpu/buf.h"

/*
 * Each thread fills a ring of blocks of rows; the caller takes them in
 * order. A row's strings are copied into its block's text (the reader's
 * own are borrowed only until its next call), kept as offsets while the
 * text may still grow and turned into pointers when the row is taken.
 *
 * Split mode (gpu_readahead_start_split()): the rows after the header are
 * cut into pieces of at most PIECE_LINES lines, each ending at a line end
 * within SCAN bytes of its start; piece k
 * goes to thread k % nw, which reads it with a reader of its own over the
 * header and the piece, and its rows' lines are moved by the lines of the
 * pieces before it. A row of CSV ends at a line end unless a quoted field
 * holds the line end, so pieces are cut only while no '"' has been seen:
 * the piece that holds the first one, or a line longer than a piece, runs
 * to the end of the file. The caller takes piece 0 from thread 0, then
 * piece 1 from thread 1, and so on: the rows come in the file's order, with
 * the values, rejects and lines one reader gives.
 */
#define RA_ROWS 256
#define RA_BLOCKS 16
#define EAGER 64 /* blocks without a wait that make the caller the slower */
#define NO_STR SIZE_MAX /* the string's pointer was NULL */
#define MAX_THREADS 8
#define SLOTS (2 * MAX_THREADS)
/*
 * A piece holds at most PIECE_LINES lines, so that a thread's ring holds
 * more than two of its pieces: each thread parses its next piece while the
 * caller takes the others' (with pieces larger than the ring, the threads
 * would take turns). A piece is cut within the first SCAN bytes.
 */
#define PIECE_LINES (6 * RA_ROWS)
#define SCAN (256u << 10)
#define CHUNK (64u << 10) /* a read of the last piece */

enum { F_NODE, F_JOB, F_USER, F_PROJECT, F_MODEL, F_UUID, F_PROFILE, F_N };

struct row {
	int rc;
	long line;
	long long offset;
	struct gpu_sample s;
	struct gpu_reject rej;
	size_t str[F_N];    /* offsets of the sample's strings */
	size_t reason, raw; /* of a reject's */
};

struct block {
	struct row rows[RA_ROWS];
	size_t n;
	bool last;	    /* ends with the end of the input or an error */
	bool piece_end;	    /* split mode: the piece's rows end here */
	struct gpu_err err; /* of a last row < 0 */
	struct gpu_buf text;
};

/* A piece of the file: bytes [start, end), or to the end when end < 0. */
struct piece {
	off_t start, end;
	long lines; /* line ends before it, after the header */
};

struct worker {
	struct gpu_readahead *ra;
	int id;
	pthread_t th;
	bool started;
	struct block blocks[RA_BLOCKS];
	size_t filled, taken;	   /* blocks handed over, blocks given back */
	pthread_cond_t room, data; /* filled - taken fell, filled rose */
	bool full;		   /* the thread waits in room() */
	struct gpu_reader *rd;	   /* the one reader, or that of the piece */
	long line_base;		   /* lines to add to the piece's */
	long long off_base;	   /* bytes to add to the piece's offsets */
	struct gpu_buf piece;	   /* the header and a piece's bytes */
	char *iobuf;		   /* the last piece's stream's buffer */
};

struct gpu_readahead {
	pthread_mutex_t mu;
	bool stop;
	int nw;
	struct worker *w; /* nw of them */
	/* The caller's side: the block being read and the next row of it. */
	unsigned since_wait; /* blocks taken since it waited for one */
	int cur_w;
	struct block *cur;
	size_t pos;

	/* Split mode. */
	int fd;
	char *head; /* the bytes before the first row */
	size_t head_len;
	long head_lines;  /* the line ends in head */
	long piece_lines; /* at most PIECE_LINES */
	const char *source;
	struct gpu_reader_opts opts;
	pthread_mutex_t cut_mu;
	pthread_cond_t cut_cv; /* a thread took its piece, or stop */
	bool cut_stop;
	long want[MAX_THREADS];	  /* the piece each thread takes next */
	struct piece slot[SLOTS]; /* piece k in slot k % SLOTS */
	long ncut;		  /* pieces cut */
	bool cut_all;		  /* the last piece is cut */
	off_t first;		  /* where the header starts */
	off_t next;		  /* where the next piece starts */
	long next_lines;
	char *scan; /* SCAN bytes: where a piece is cut */
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

/* keep() for each string of r's sample, with one check for room. */
static void
keep_sample(struct gpu_buf *t, struct row *r)
{
	size_t need = F_N;
	char *d;

	for (int f = 0; f < F_N; f++)
		need += field(&r->s, f)->len;
	if (t->len + need + 1 > t->cap)
		gpu_buf_grow(t, need);
	d = t->data + t->len;
	for (int f = 0; f < F_N; f++) {
		const struct gpu_str *v = field(&r->s, f);

		if (v->p == NULL) {
			r->str[f] = NO_STR;
			continue;
		}
		r->str[f] = (size_t)(d - t->data);
		memcpy(d, v->p, v->len);
		d += v->len;
		*d++ = '\0';
	}
	t->len = (size_t)(d - t->data);
	t->data[t->len] = '\0';
}

static const char *
at(const struct block *b, size_t off)
{
	return off == NO_STR ? NULL : b->text.data + off;
}

/* Read up to RA_ROWS rows of w's reader into b. */
static void
fill(struct worker *w, struct block *b, bool last_piece)
{
	b->n = 0;
	b->last = false;
	b->piece_end = false;
	gpu_buf_reset(&b->text);
	while (b->n < RA_ROWS) {
		struct row *r = &b->rows[b->n++];

		r->rc =
		    gpu_reader_next(w->rd, &r->s, &r->line, &r->rej, &b->err);
		r->offset = w->off_base + gpu_reader_offset(w->rd);
		if (r->rc == GPU_READ_SAMPLE) {
			r->line += w->line_base;
			keep_sample(&b->text, r);
		} else if (r->rc == GPU_READ_REJECT) {
			r->line += w->line_base;
			r->rej.line += w->line_base;
			r->reason = keep(
			    &b->text, r->rej.reason,
			    r->rej.reason != NULL ? strlen(r->rej.reason) : 0);
			r->raw = keep(&b->text, r->rej.raw.p, r->rej.raw.len);
		} else if (r->rc == GPU_READ_EOF && !last_piece) {
			b->n--;
			b->piece_end = true;
			return;
		} else {
			if (r->rc < 0 && b->err.line > 0)
				b->err.line += w->line_base;
			b->last = true;
			return;
		}
	}
}

/* Wait for room in w's ring; the next block to fill, or NULL to stop. */
static struct block *
room(struct worker *w)
{
	struct gpu_readahead *ra = w->ra;
	struct block *b = NULL;

	pthread_mutex_lock(&ra->mu);
	while (w->filled - w->taken == RA_BLOCKS && !ra->stop) {
		w->full = true;
		pthread_cond_wait(&w->room, &ra->mu);
	}
	if (!ra->stop)
		b = &w->blocks[w->filled % RA_BLOCKS];
	pthread_mutex_unlock(&ra->mu);
	return b;
}

static void
hand_over(struct worker *w)
{
	pthread_mutex_lock(&w->ra->mu);
	w->filled++;
	pthread_cond_signal(&w->data);
	pthread_mutex_unlock(&w->ra->mu);
}

/* Fill blocks from w's reader until its rows end; false when stopped. */
static bool
drain(struct worker *w, bool last_piece)
{
	for (;;) {
		struct block *b = room(w);

		if (b == NULL)
			return false;
		fill(w, b, last_piece);
		hand_over(w);
		if (b->last || b->piece_end)
			return true;
	}
}

static void *
run(void *arg)
{
	drain(arg, true);
	return NULL;
}

/* The stream of the last piece: the header's bytes, then the file's. */
struct stream {
	const struct gpu_readahead *ra;
	size_t head_pos;
	off_t pos;
};

/*
 * Up to n bytes of fd at off into buf, fewer only at the end of the file:
 * the count, or -1 (errno set).
 */
static ssize_t
pread_full(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k =
		    pread(fd, (char *)buf + got, n - got, off + (off_t)got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static ssize_t
stream_read(void *cookie, char *buf, size_t size)
{
	struct stream *st = cookie;
	ssize_t n;

	if (st->head_pos < st->ra->head_len) {
		size_t k = st->ra->head_len - st->head_pos;

		if (k > size)
			k = size;
		memcpy(buf, st->ra->head + st->head_pos, k);
		st->head_pos += k;
		return (ssize_t)k;
	}
	n = pread_full(st->ra->fd, buf, size, st->pos);
	if (n > 0)
		st->pos += n;
	return n;
}

/*
 * Cut pieces (ra->cut_mu held) until piece k is cut or the last one is.
 * A read error ends the cutting: the piece then runs to the end, where its
 * reader meets the error and reports it.
 */
static void
cut_to(struct gpu_readahead *ra, long k)
{
	while (ra->ncut <= k && !ra->cut_all) {
		struct piece *pc = &ra->slot[ra->ncut % SLOTS];
		const char *p = ra->scan, *e, *nl = NULL;
		ssize_t n;
		long lines = 0;

		n = pread_full(ra->fd, ra->scan, SCAN, ra->next);
		pc->start = ra->next;
		pc->lines = ra->next_lines;
		pc->end = -1;
		ra->ncut++;
		if (n <= 0) {
			ra->cut_all = true;
			continue;
		}
		for (e = ra->scan + n; lines < ra->piece_lines; lines++) {
			const char *q = memchr(p, '\n', (size_t)(e - p));

			if (q == NULL)
				break;
			nl = q;
			p = q + 1;
		}
		/*
		 * The rest of the file is one piece at its end (a short read),
		 * at a line longer than SCAN, and from the first quote on.
		 */
		if ((lines < ra->piece_lines && n < (ssize_t)SCAN) ||
		    nl == NULL ||
		    memchr(ra->scan, '"', (size_t)(nl - ra->scan)) != NULL) {
			ra->cut_all = true;
			continue;
		}
		pc->end = ra->next + (nl - ra->scan) + 1;
		ra->next = pc->end;
		ra->next_lines += lines;
	}
}

/* A reader over piece pc, or NULL with err filled. */
static struct gpu_reader *
open_piece(struct worker *w, struct stream *st, const struct piece *pc,
	   FILE **fp, struct gpu_err *err)
{
	struct gpu_readahead *ra = w->ra;
	cookie_io_functions_t io = {.read = stream_read};
	struct gpu_reader *rd = NULL;

	if (pc->end >= 0) {
		/* The header and the piece in memory, read at once. */
		size_t len = (size_t)(pc->end - pc->start);
		ssize_t n;

		gpu_buf_reset(&w->piece);
		gpu_buf_add(&w->piece, ra->head, ra->head_len);
		gpu_buf_grow(&w->piece, len);
		n = pread_full(ra->fd, w->piece.data + ra->head_len, len,
			       pc->start);
		if (n != (ssize_t)len) {
			gpu_err_at(err, ra->source,
				   ra->head_lines + pc->lines + 1,
				   "read error: %s",
				   n < 0 ? strerror(errno) : "file shrank");
			return NULL;
		}
		*fp = fmemopen(w->piece.data, ra->head_len + len, "r");
	} else {
		st->ra = ra;
		st->head_pos = 0;
		st->pos = pc->start;
		/* Read in CHUNKs: glibc takes a size only with a buffer. */
		if ((*fp = fopencookie(st, "r", io)) != NULL) {
			if (w->iobuf == NULL)
				w->iobuf = gpu_xmalloc(CHUNK);
			setvbuf(*fp, w->iobuf, _IOFBF, CHUNK);
		}
	}
	if (*fp == NULL) {
		gpu_err_at(err, ra->source, ra->head_lines + pc->lines + 1,
			   "cannot read: %s", strerror(errno));
		return NULL;
	}
	if (gpu_reader_open(*fp, ra->source, &ra->opts, &rd, err) != 0) {
		fclose(*fp);
		*fp = NULL;
		return NULL;
	}
	return rd;
}

/* Hand over a block that ends the input with err. */
static void
fail(struct worker *w, const struct gpu_err *err)
{
	struct block *b = room(w);

	if (b == NULL)
		return;
	b->n = 1;
	b->last = true;
	b->piece_end = false;
	b->rows[0].rc = -1;
	b->rows[0].offset = 0;
	b->err = *err;
	hand_over(w);
}

/* The first piece cut and not yet taken (ra->cut_mu held). */
static long
first_wanted(const struct gpu_readahead *ra)
{
	long k = LONG_MAX;

	for (int i = 0; i < ra->nw; i++)
		if (ra->want[i] < k)
			k = ra->want[i];
	return k;
}

/* w takes no more pieces. */
static void
leave(struct worker *w)
{
	struct gpu_readahead *ra = w->ra;

	pthread_mutex_lock(&ra->cut_mu);
	ra->want[w->id] = LONG_MAX;
	pthread_cond_broadcast(&ra->cut_cv);
	pthread_mutex_unlock(&ra->cut_mu);
}

static void *
run_pieces(void *arg)
{
	struct worker *w = arg;
	struct gpu_readahead *ra = w->ra;

	for (long k = w->id;; k += ra->nw) {
		struct piece pc;
		struct stream st;
		struct gpu_err err = {0};
		FILE *fp;
		bool last, go;

		pthread_mutex_lock(&ra->cut_mu);
		/*
		 * The slots hold the pieces cut and not yet taken: cut no
		 * further than SLOTS pieces past the first of those. (Its
		 * thread is never made to wait, so one always goes on.)
		 */
		while (k >= first_wanted(ra) + SLOTS && !ra->cut_stop)
			pthread_cond_wait(&ra->cut_cv, &ra->cut_mu);
		if (!ra->cut_stop)
			cut_to(ra, k);
		if (ra->cut_stop || k >= ra->ncut) {
			/* Stopped, or the input ends in an earlier piece. */
			pthread_mutex_unlock(&ra->cut_mu);
			leave(w);
			return NULL;
		}
		pc = ra->slot[k % SLOTS];
		ra->want[w->id] = k + ra->nw;
		pthread_cond_broadcast(&ra->cut_cv);
		pthread_mutex_unlock(&ra->cut_mu);
		last = pc.end < 0;

		if ((w->rd = open_piece(w, &st, &pc, &fp, &err)) == NULL) {
			fail(w, &err);
			leave(w);
			return NULL;
		}
		w->line_base = pc.lines;
		w->off_base =
		    (long long)(pc.start - ra->first) - (long long)ra->head_len;
		go = drain(w, last);
		gpu_reader_free(w->rd);
		w->rd = NULL;
		fclose(fp);
		if (!go || last) {
			leave(w);
			return NULL;
		}
	}
}

/* A read-ahead of nw threads, none started yet. */
static struct gpu_readahead *
ra_new(int nw)
{
	struct gpu_readahead *ra = gpu_xcalloc(1, sizeof(*ra));
	int i;

	ra->fd = -1;
	ra->nw = nw;
	ra->w = gpu_xcalloc((size_t)nw, sizeof(*ra->w));
	if (pthread_mutex_init(&ra->mu, NULL) != 0)
		goto fail_mu;
	if (pthread_mutex_init(&ra->cut_mu, NULL) != 0)
		goto fail_cut;
	if (pthread_cond_init(&ra->cut_cv, NULL) != 0) {
		pthread_mutex_destroy(&ra->cut_mu);
		goto fail_cut;
	}
	for (i = 0; i < nw; i++) {
		struct worker *w = &ra->w[i];

		if (pthread_cond_init(&w->room, NULL) != 0)
			goto fail_cv;
		if (pthread_cond_init(&w->data, NULL) != 0) {
			pthread_cond_destroy(&w->room);
			goto fail_cv;
		}
		w->ra = ra;
		w->id = i;
		for (int j = 0; j < RA_BLOCKS; j++)
			gpu_buf_init(&w->blocks[j].text);
		gpu_buf_init(&w->piece);
	}
	return ra;
fail_cv:
	while (i-- > 0) {
		pthread_cond_destroy(&ra->w[i].room);
		pthread_cond_destroy(&ra->w[i].data);
	}
	pthread_cond_destroy(&ra->cut_cv);
	pthread_mutex_destroy(&ra->cut_mu);
fail_cut:
	pthread_mutex_destroy(&ra->mu);
fail_mu:
	free(ra->w);
	free(ra);
	return NULL;
}

/* Join the threads started and free ra. */
static void
ra_free(struct gpu_readahead *ra)
{
	pthread_mutex_lock(&ra->mu);
	ra->stop = true;
	for (int i = 0; i < ra->nw; i++)
		pthread_cond_broadcast(&ra->w[i].room);
	pthread_mutex_unlock(&ra->mu);
	pthread_mutex_lock(&ra->cut_mu);
	ra->cut_stop = true;
	pthread_cond_broadcast(&ra->cut_cv);
	pthread_mutex_unlock(&ra->cut_mu);
	for (int i = 0; i < ra->nw; i++)
		if (ra->w[i].started)
			pthread_join(ra->w[i].th, NULL);
	for (int i = 0; i < ra->nw; i++) {
		pthread_cond_destroy(&ra->w[i].room);
		pthread_cond_destroy(&ra->w[i].data);
		for (int j = 0; j < RA_BLOCKS; j++)
			gpu_buf_release(&ra->w[i].blocks[j].text);
		gpu_buf_release(&ra->w[i].piece);
		free(ra->w[i].iobuf);
	}
	pthread_cond_destroy(&ra->cut_cv);
	pthread_mutex_destroy(&ra->cut_mu);
	pthread_mutex_destroy(&ra->mu);
	free(ra->head);
	free(ra->scan);
	free(ra->w);
	free(ra);
}

struct gpu_readahead *
gpu_readahead_start(struct gpu_reader *rd)
{
	struct gpu_readahead *ra = ra_new(1);

	if (ra == NULL)
		return NULL;
	ra->w[0].rd = rd;
	if (pthread_create(&ra->w[0].th, NULL, run, &ra->w[0]) != 0) {
		ra_free(ra);
		return NULL;
	}
	ra->w[0].started = true;
	return ra;
}

/* The bytes [start, start + n) of fd into a new buffer, or NULL. */
static char *
read_at(int fd, off_t start, size_t n)
{
	char *p = gpu_xmalloc(n + 1);

	if (pread_full(fd, p, n, start) != (ssize_t)n) {
		free(p);
		return NULL;
	}
	return p;
}

struct gpu_readahead *
gpu_readahead_start_split(struct gpu_reader *rd, FILE *fp, off_t start,
			  const char *source,
			  const struct gpu_reader_opts *opts, int threads,
			  long piece_lines)
{
	struct gpu_readahead *ra;
	struct stat st;
	long long head = gpu_reader_offset(rd);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (threads <= 0)
		threads = cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	if (threads < 2 || !gpu_reader_splittable(rd) || start < 0 ||
	    head < 0 || fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode))
		return gpu_readahead_start(rd);
	if ((ra = ra_new(threads)) == NULL)
		return NULL;
	ra->fd = fileno(fp);
	ra->source = source;
	ra->opts = *opts;
	ra->opts.format = GPU_FMT_CSV;
	ra->piece_lines = piece_lines > 0 && piece_lines < PIECE_LINES
			      ? piece_lines
			      : PIECE_LINES;
	ra->head_len = (size_t)head;
	ra->first = start;
	ra->next = start + (off_t)head;
	ra->scan = gpu_xmalloc(SCAN);
	if ((ra->head = read_at(ra->fd, start, ra->head_len)) == NULL) {
		ra_free(ra);
		return gpu_readahead_start(rd);
	}
	for (size_t i = 0; i < ra->head_len; i++)
		ra->head_lines += ra->head[i] == '\n';
	/* Piece k belongs to thread k % nw: all start, or none reads. */
	for (int i = 0; i < threads; i++)
		ra->want[i] = i;
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&ra->w[i].th, NULL, run_pieces, &ra->w[i]) !=
		    0) {
			ra_free(ra);
			return gpu_readahead_start(rd);
		}
		ra->w[i].started = true;
	}
	return ra;
}

int
gpu_readahead_next(struct gpu_readahead *ra, struct gpu_sample *s, long *line,
		   struct gpu_reject *rej, long long *offset,
		   struct gpu_err *err)
{
	const struct row *r;
	struct block *b = ra->cur;

	for (;;) {
		struct worker *w = &ra->w[ra->cur_w];

		/* The rows of a block read through stay until this next call.
		 */
		if (b != NULL && ra->pos == b->n && !b->last) {
			bool next = b->piece_end;

			pthread_mutex_lock(&ra->mu);
			w->taken++;
			/*
			 * A thread that filled its ring waits for room. When
			 * the caller is the slower side (a load: it never
			 * waited for rows in its last EAGER blocks), the
			 * thread is woken when half of its ring is free, not
			 * at each block: a wake-up a block (256 rows) was 2%
			 * of the loading thread's time. When the threads are
			 * the slower side, each is woken at once.
			 */
			if (ra->since_wait < EAGER)
				ra->since_wait++;
			if (w->full &&
			    (ra->since_wait < EAGER ||
			     w->filled - w->taken <= RA_BLOCKS / 2)) {
				w->full = false;
				pthread_cond_signal(&w->room);
			}
			pthread_mutex_unlock(&ra->mu);
			b = ra->cur = NULL;
			if (next) {
				ra->cur_w = (ra->cur_w + 1) % ra->nw;
				w = &ra->w[ra->cur_w];
			}
		}
		if (b == NULL) {
			pthread_mutex_lock(&ra->mu);
			while (w->filled == w->taken) {
				ra->since_wait = 0;
				pthread_cond_wait(&w->data, &ra->mu);
			}
			pthread_mutex_unlock(&ra->mu);
			b = ra->cur = &w->blocks[w->taken % RA_BLOCKS];
			ra->pos = 0;
		}
		if (b->n > 0 || b->last)
			break;
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
	ra_free(ra);
}
