/* SPDX-License-Identifier: MIT */
/* Streaming Parquet writer: dictionary or PLAIN values, RLE levels. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "lake/parquet.h"
#include "lake/thrift.h"

/* Parquet enum values (parquet.thrift). */
enum {
	PT_INT32 = 1,
	PT_INT64 = 2,
	PT_DOUBLE = 5,
	PT_BYTE_ARRAY = 6,
	ENC_PLAIN = 0,
	ENC_RLE = 3,
	ENC_RLE_DICTIONARY = 8,
	PAGE_DATA = 0,
	PAGE_DICTIONARY = 2,
	CT_UTF8 = 0,
	CT_DECIMAL = 5,
	CT_DATE = 6,
	CT_TIMESTAMP_MICROS = 10
};

/* A column falls back to PLAIN past these dictionary sizes. */
#define DICT_MAX_ENTRIES 65536
#define DICT_MAX_BYTES (1u << 20)

struct stats {
	bool has;
	int64_t imin, imax;
	double dmin, dmax;
	struct gpu_buf smin, smax;
	uint64_t nulls, nans;
};

struct col {
	struct lake_field f;
	/* the row group being buffered */
	struct gpu_buf defs; /* one byte per row: 1 value, 0 null */
	struct gpu_buf vals; /* PLAIN values (numbers; strings past fallback) */
	size_t nvals;	     /* non-null values */
	bool dict;	     /* dictionary-encoded so far */
	struct gpu_buf dvals; /* dictionary entries, PLAIN */
	uint32_t *doff;	      /* offset of each entry's length in dvals */
	uint64_t *dnum;	      /* each entry's key: a number, a string's hash */
	size_t ndict, dcap;
	uint32_t *slots; /* hash slots: entry index + 1, 0 empty */
	size_t nslots;
	uint32_t *idx; /* entry index of each value */
	size_t icap;
	const char *last_p; /* the last value, if by lake_pq_str_stable() */
	size_t last_n;
	size_t maxlen; /* the longest string of the row group */
	size_t bytes;  /* its share of the row group's buffered bytes */
	struct stats rg;
	/* the file */
	struct stats file;
	struct lake_pq_colstats out;
};

struct rowgroup {
	int64_t rows, offset, bytes, compressed;
	struct gpu_buf cols; /* its ColumnChunk structs, concatenated */
};

/* An encoding thread's compressor and page buffers. */
struct enc {
	ZSTD_CCtx *zctx;
	struct gpu_buf page, comp, hdr;
};

/* Where a data page of a column's chunk ends: its rows, values, bytes. */
struct cut {
	size_t r, v, off;
};

/*
 * One page of a row group's column chunk: what it holds, then, once
 * encoded, its header and compressed body.
 */
struct page {
	size_t col;
	bool dict;	    /* the dictionary page */
	size_t r0, r1;	    /* rows [r0, r1) */
	size_t v0, v1;	    /* values [v0, v1) */
	size_t off0, off1;  /* PLAIN bytes [off0, off1) of the column's vals */
	size_t weight;	    /* its bytes before compression, about */
	struct gpu_buf out; /* header and compressed body */
	int64_t usize, csize;
	int rc;
	struct gpu_err err;
};

/* A page to encode: its weight, its index in pages. */
struct ord {
	size_t weight, page;
};

/* One column's chunk of a row group: where its data pages end, its pages. */
struct chunk {
	struct cut *cuts;
	size_t ncuts, ccap;
	size_t first, npages; /* pages[first, first + npages) */
};

/*
 * The helpers that append a run of rows with the caller, column by column
 * (see put_run()). ticket is gen << 32 | the next column to take.
 */
struct putter {
	pthread_t th[LAKE_PQ_MAX_THREADS - 1];
	size_t nth;
	bool tried, stop;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	uint32_t gen; /* the run's number (under mu) */
	_Atomic uint64_t ticket;
	_Atomic size_t ndone; /* columns of the run appended */
	const struct lake_pq_col *cols;
	size_t first, end;
};

struct lake_pq {
	FILE *fp;
	char *path;
	struct lake_pq_opts o;
	struct col *cols;
	size_t ncols;
	uint64_t pos;	  /* bytes written */
	uint64_t rows;	  /* rows ended */
	uint64_t rg_rows; /* rows in the buffered group */
	struct rowgroup *rgs;
	size_t nrgs;
	int64_t *offsets;
	struct enc *enc; /* one per encoding thread */
	size_t nenc;
	struct chunk *chunks; /* one per column */
	struct page *pages;   /* the row group's, column by column */
	size_t npages, pcap;
	struct ord *order; /* pages to encode, the biggest first */
	size_t next;	   /* the next item for an encoding thread (under mu) */
	pthread_mutex_t mu;
	struct putter put;
	bool failed, finished;
};

static bool
is_i32(enum lake_type t)
{
	return t == LAKE_INT || t == LAKE_DATE;
}

static bool
is_i64(enum lake_type t)
{
	return t == LAKE_LONG || t == LAKE_TIMESTAMPTZ || t == LAKE_DECIMAL;
}

static int
physical(enum lake_type t)
{
	if (is_i32(t))
		return PT_INT32;
	if (is_i64(t))
		return PT_INT64;
	return t == LAKE_DOUBLE ? PT_DOUBLE : PT_BYTE_ARRAY;
}

int
lake_codec_parse(const char *s, enum lake_codec *c)
{
	if (strcmp(s, "zstd") == 0)
		*c = LAKE_CODEC_ZSTD;
	else if (strcmp(s, "snappy") == 0)
		*c = LAKE_CODEC_SNAPPY;
	else if (strcmp(s, "none") == 0)
		*c = LAKE_CODEC_NONE;
	else
		return -1;
	return 0;
}

/* ---- RLE/bit-packed hybrid ---- */

static inline uint32_t
elem(const void *v, size_t size, size_t i)
{
	if (size == 1)
		return ((const unsigned char *)v)[i];
	return ((const uint32_t *)v)[i];
}

static size_t
run_at(const void *v, size_t size, size_t n, size_t i)
{
	size_t j = i + 1;
	uint32_t x = elem(v, size, i);

	while (j < n && elem(v, size, j) == x)
		j++;
	return j - i;
}

/* Whether a run of at least 8 equal values starts at i. */
static inline bool
run8_at(const void *v, size_t size, size_t n, size_t i)
{
	uint32_t x;
	size_t j;

	if (n - i < 8)
		return false;
	x = elem(v, size, i);
	for (j = i + 1; j < i + 8; j++)
		if (elem(v, size, j) != x)
			return false;
	return true;
}

/* Bit-pack v[start..start + 8 * groups) (zero past end) at width bw. */
static void
bit_pack(struct gpu_buf *out, const void *v, size_t size, size_t start,
	 size_t end, size_t groups, int bw)
{
	unsigned char *p;
	uint64_t acc = 0;
	size_t k;
	int bits = 0;

	gpu_buf_grow(out, groups * (size_t)bw);
	p = (unsigned char *)out->data + out->len;
	for (k = start; k < start + groups * 8; k++) {
		acc |= (uint64_t)(k < end ? elem(v, size, k) : 0) << bits;
		bits += bw;
		while (bits >= 8) {
			*p++ = (unsigned char)acc;
			acc >>= 8;
			bits -= 8;
		}
	}
	out->len += groups * (size_t)bw;
	out->data[out->len] = '\0';
}

void
lake_rle_encode(struct gpu_buf *out, const void *v, size_t size, size_t n,
		int bw)
{
	size_t i = 0, nbytes = ((size_t)bw + 7) / 8;

	while (i < n) {
		size_t start, end, k;

		if (run8_at(v, size, n, i)) {
			size_t run = run_at(v, size, n, i);
			uint32_t x = elem(v, size, i);

			lake_varint(out, (uint64_t)run << 1);
			for (k = 0; k < nbytes; k++)
				gpu_buf_addc(out, (char)(x >> (8 * k)));
			i += run;
			continue;
		}
		/* Bit-pack groups of 8 until a run of 8 starts a group. */
		start = i;
		do
			i += 8;
		while (i < n && !run8_at(v, size, n, i));
		end = i < n ? i : n;
		lake_varint(out, (uint64_t)((i - start) / 8) << 1 | 1);
		bit_pack(out, v, size, start, end, (i - start) / 8, bw);
		i = end;
	}
}

/* ---- statistics ---- */

static void
stats_i64(struct stats *s, int64_t v)
{
	if (!s->has || v < s->imin)
		s->imin = v;
	if (!s->has || v > s->imax)
		s->imax = v;
	s->has = true;
}

static void
stats_double(struct stats *s, double v)
{
	if (isnan(v)) {
		s->nans++;
		return;
	}
	if (!s->has || v < s->dmin)
		s->dmin = v;
	if (!s->has || v > s->dmax)
		s->dmax = v;
	s->has = true;
}

static int
strcmp_n(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

static void
stats_str(struct stats *s, const char *p, size_t n)
{
	if (!s->has || strcmp_n(p, n, s->smin.data, s->smin.len) < 0) {
		gpu_buf_reset(&s->smin);
		gpu_buf_add(&s->smin, p, n);
	}
	if (!s->has || strcmp_n(p, n, s->smax.data, s->smax.len) > 0) {
		gpu_buf_reset(&s->smax);
		gpu_buf_add(&s->smax, p, n);
	}
	s->has = true;
}

/* Fold a row group's statistics into the file's. */
static void
stats_merge(struct stats *f, const struct stats *g, enum lake_type t)
{
	f->nulls += g->nulls;
	f->nans += g->nans;
	if (!g->has)
		return;
	if (is_i32(t) || is_i64(t)) {
		stats_i64(f, g->imin);
		stats_i64(f, g->imax);
	} else if (t == LAKE_DOUBLE) {
		stats_double(f, g->dmin);
		stats_double(f, g->dmax);
	} else {
		stats_str(f, g->smin.data, g->smin.len);
		stats_str(f, g->smax.data, g->smax.len);
	}
}

static void
put_le(struct gpu_buf *b, uint64_t v, int n)
{
	char tmp[8];
	int i;

	for (i = 0; i < n; i++)
		tmp[i] = (char)(v >> (8 * i));
	gpu_buf_add(b, tmp, (size_t)n);
}

static void
put_double(struct gpu_buf *b, double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	put_le(b, u, 8);
}

/* The PLAIN bytes of the minimum (upper false) or maximum of s. */
static void
stats_bytes(const struct stats *s, enum lake_type t, bool upper,
	    struct gpu_buf *b)
{
	gpu_buf_reset(b);
	if (is_i32(t)) {
		put_le(b, (uint64_t)(upper ? s->imax : s->imin), 4);
	} else if (is_i64(t)) {
		put_le(b, (uint64_t)(upper ? s->imax : s->imin), 8);
	} else if (t == LAKE_DOUBLE) {
		double d = upper ? s->dmax : s->dmin;

		/* An extreme of zero is written as -0.0 (min), +0.0 (max). */
		if (d == 0)
			d = upper ? 0.0 : -0.0;
		put_double(b, d);
	} else {
		const struct gpu_buf *x = upper ? &s->smax : &s->smin;

		gpu_buf_add(b, x->data, x->len);
	}
}

static void
stats_release(struct stats *s)
{
	gpu_buf_release(&s->smin);
	gpu_buf_release(&s->smax);
}

static void
stats_reset(struct stats *s)
{
	s->has = false;
	s->nulls = s->nans = 0;
	gpu_buf_reset(&s->smin);
	gpu_buf_reset(&s->smax);
}

/* ---- values ---- */

static inline void
add_def(struct col *c, bool present)
{
	struct gpu_buf *d = &c->defs;

	if (c->f.required)
		return;
	/* A byte per value: grow by pages, not per call. */
	if (d->len + 2 > d->cap)
		gpu_buf_grow(d, 65536);
	d->data[d->len++] = present ? 1 : 0;
	d->data[d->len] = '\0';
	c->bytes++;
}

void
lake_pq_null(struct lake_pq *pq, size_t col)
{
	struct col *c = &pq->cols[col];

	add_def(c, false);
	c->rg.nulls++;
}

/* Width of a fixed-size value, 0 for strings. */
static size_t
width(enum lake_type t)
{
	if (is_i32(t))
		return 4;
	return t == LAKE_STRING ? 0 : 8;
}

/*
 * The slot hash of a dictionary key. The index is not the core hash map:
 * it stores no keys of its own, only entry numbers into the page's
 * dictionary buffer, which is what the page writes out. A number's key is
 * its bits (doubles differ in their high bits: splitmix64's finalizer
 * mixes them down); a string's key is its FNV-1a hash.
 */
static inline uint32_t
slot_hash(uint64_t v)
{
	v ^= v >> 30;
	v *= UINT64_C(0xbf58476d1ce4e5b9);
	v ^= v >> 27;
	v *= UINT64_C(0x94d049bb133111eb);
	return (uint32_t)(v ^ v >> 31);
}

static inline uint64_t
str_key(const char *p, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * UINT64_C(1099511628211);
	return h;
}

/* An entry's value bytes and length (strings: without the prefix). */
static const char *
dict_entry(const struct col *c, uint32_t e, size_t *n)
{
	const unsigned char *p =
	    (const unsigned char *)c->dvals.data + c->doff[e];
	size_t w = width(c->f.type);

	if (w != 0) {
		*n = w;
		return (const char *)p;
	}
	*n = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 |
	     (size_t)p[3] << 24;
	return (const char *)p + 4;
}

/*
 * Whether entry e holds the value of key (and, for a string, p[0..len)):
 * a number's key is its value, a string's key its hash, so that only
 * strings of equal hash are compared.
 */
static inline bool
entry_is(const struct col *c, uint32_t e, uint64_t key, const char *p,
	 size_t len)
{
	const char *q;
	size_t n;

	if (c->dnum[e] != key)
		return false;
	if (p == NULL)
		return true;
	q = dict_entry(c, e, &n);
	return n == len && memcmp(q, p, len) == 0;
}

static void
dict_rehash(struct col *c)
{
	size_t i, mask;

	free(c->slots);
	c->nslots = c->nslots == 0 ? 1024 : c->nslots * 2;
	c->slots = gpu_xcalloc(c->nslots, sizeof(*c->slots));
	mask = c->nslots - 1;
	for (i = 0; i < c->ndict; i++) {
		size_t h = slot_hash(c->dnum[i]) & mask;

		while (c->slots[h] != 0)
			h = (h + 1) & mask;
		c->slots[h] = (uint32_t)i + 1;
	}
}

/*
 * Append the PLAIN encoding of a value to b: a number's w little-endian
 * bytes of key (p NULL), or a string's length and bytes. Returns its size.
 */
static inline size_t
put_plain(struct gpu_buf *b, uint64_t key, size_t w, const char *p, size_t len)
{
	size_t i, n = p == NULL ? w : 4 + len;

	if (b->len + n + 1 > b->cap)
		gpu_buf_grow(b, n > 65536 ? n : 65536);
	if (p == NULL) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(b->data + b->len, &key, w);
#else
		for (i = 0; i < w; i++)
			b->data[b->len + i] = (char)(key >> (8 * i));
#endif
	} else {
		for (i = 0; i < 4; i++)
			b->data[b->len + i] = (char)(len >> (8 * i));
		memcpy(b->data + b->len + 4, p, len);
	}
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Turn the buffered dictionary-encoded values into PLAIN ones. */
static void
dict_fallback(struct col *c)
{
	size_t i, n, w = width(c->f.type);

	c->bytes -= c->dvals.len + c->nvals * 4;
	for (i = 0; i < c->nvals; i++) {
		const char *p;

		if (w != 0) {
			c->bytes +=
			    put_plain(&c->vals, c->dnum[c->idx[i]], w, NULL, 0);
			continue;
		}
		p = dict_entry(c, c->idx[i], &n);
		c->bytes += put_plain(&c->vals, 0, 0, p, n);
	}
	c->dict = false;
	gpu_buf_reset(&c->dvals);
	free(c->slots);
	c->slots = NULL;
	c->nslots = 0;
	c->ndict = 0;
}

static void
grow_idx(struct col *c)
{
	c->icap = c->icap == 0 ? 4096 : c->icap * 2;
	c->idx = gpu_xreallocarray(c->idx, c->icap, sizeof(*c->idx));
}

static void
grow_dict(struct col *c)
{
	c->dcap = c->dcap == 0 ? 256 : c->dcap * 2;
	c->doff = gpu_xreallocarray(c->doff, c->dcap, sizeof(*c->doff));
	c->dnum = gpu_xreallocarray(c->dnum, c->dcap, sizeof(*c->dnum));
}

/*
 * Add one value: a number (p NULL) as the w bytes of key, or the string
 * p[0..len) whose str_key() is key. Its index in the dictionary, or its
 * PLAIN bytes once the dictionary has grown too big or does not pay
 * (after 16384 values, more than one distinct value in four). Returns
 * whether the value may be new to the statistics (a new entry, or a
 * PLAIN value). add_value() is the common cases of it, inline.
 */
static bool
dict_add(struct col *c, uint64_t key, size_t w, const char *p, size_t len)
{
	size_t h, mask;

	if (p != NULL && len > c->maxlen)
		c->maxlen = len;
	if (c->dict && c->nvals == 16384 && c->ndict > c->nvals / 4)
		dict_fallback(c);
	if (!c->dict) {
		c->bytes += put_plain(&c->vals, key, w, p, len);
		c->nvals++;
		return true;
	}
	/*
	 * The value of the row before, as sorted keys, nodes and owners
	 * often are: its entry without hashing.
	 */
	if (c->nvals > 0 && c->nvals < c->icap &&
	    entry_is(c, c->idx[c->nvals - 1], key, p, len)) {
		c->idx[c->nvals] = c->idx[c->nvals - 1];
		c->nvals++;
		c->bytes += 4;
		return false;
	}
	if (c->ndict * 2 >= c->nslots)
		dict_rehash(c);
	mask = c->nslots - 1;
	h = slot_hash(key) & mask;
	while (c->slots[h] != 0 && !entry_is(c, c->slots[h] - 1, key, p, len))
		h = (h + 1) & mask;
	if (c->slots[h] == 0) {
		size_t n = p == NULL ? w : 4 + len;

		if (c->ndict >= DICT_MAX_ENTRIES ||
		    c->dvals.len + n + 4 > DICT_MAX_BYTES) {
			dict_fallback(c);
			c->bytes += put_plain(&c->vals, key, w, p, len);
			c->nvals++;
			return true;
		}
		if (c->ndict == c->dcap)
			grow_dict(c);
		c->doff[c->ndict] = (uint32_t)c->dvals.len;
		c->dnum[c->ndict] = key;
		c->bytes += put_plain(&c->dvals, key, w, p, len);
		c->slots[h] = (uint32_t)++c->ndict;
		if (c->nvals == c->icap)
			grow_idx(c);
		c->idx[c->nvals++] = c->slots[h] - 1;
		c->bytes += 4;
		return true;
	}
	if (c->nvals == c->icap)
		grow_idx(c);
	c->idx[c->nvals++] = c->slots[h] - 1;
	c->bytes += 4;
	return false;
}

static inline bool
add_value(struct col *c, uint64_t key, size_t w, const char *p, size_t len)
{
	/* A repeat of the value before (16384: the time to weigh it). */
	if (c->dict && c->nvals > 0 && c->nvals < c->icap &&
	    c->nvals != 16384 &&
	    entry_is(c, c->idx[c->nvals - 1], key, p, len)) {
		c->idx[c->nvals] = c->idx[c->nvals - 1];
		c->nvals++;
		c->bytes += 4;
		return false;
	}
	if (!c->dict && p == NULL) {
		c->bytes += put_plain(&c->vals, key, w, NULL, 0);
		c->nvals++;
		return true;
	}
	return dict_add(c, key, w, p, len);
}

static inline void
add_i32(struct col *c, int32_t v)
{
	if (add_value(c, (uint64_t)(uint32_t)v, 4, NULL, 0))
		stats_i64(&c->rg, v);
}

static inline void
add_i64(struct col *c, int64_t v)
{
	if (add_value(c, (uint64_t)v, 8, NULL, 0))
		stats_i64(&c->rg, v);
}

static inline void
add_double(struct col *c, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	/* NaNs are counted per value, not per entry. */
	if (add_value(c, u, 8, NULL, 0) || isnan(v))
		stats_double(&c->rg, v);
}

static inline void
add_str(struct col *c, const char *p, size_t len)
{
	if (add_value(c, str_key(p, len), 0, p, len))
		stats_str(&c->rg, p, len);
	c->last_p = NULL;
}

/* add_str() of an interned string (lake_pq_str_stable()). */
static inline void
add_stable(struct col *c, const char *p, size_t len)
{
	/* The same string as the value before: its entry, unread. */
	if (p == c->last_p && len == c->last_n && c->dict && c->nvals > 0 &&
	    c->nvals < c->icap && c->nvals != 16384) {
		c->idx[c->nvals] = c->idx[c->nvals - 1];
		c->nvals++;
		c->bytes += 4;
		return;
	}
	add_str(c, p, len);
	c->last_p = p;
	c->last_n = len;
}

void
lake_pq_i32(struct lake_pq *pq, size_t col, int32_t v)
{
	struct col *c = &pq->cols[col];

	add_def(c, true);
	add_i32(c, v);
}

void
lake_pq_i64(struct lake_pq *pq, size_t col, int64_t v)
{
	struct col *c = &pq->cols[col];

	add_def(c, true);
	add_i64(c, v);
}

void
lake_pq_double(struct lake_pq *pq, size_t col, double v)
{
	struct col *c = &pq->cols[col];

	add_def(c, true);
	add_double(c, v);
}

void
lake_pq_str(struct lake_pq *pq, size_t col, const char *p, size_t len)
{
	struct col *c = &pq->cols[col];

	add_def(c, true);
	add_str(c, p, len);
}

void
lake_pq_str_stable(struct lake_pq *pq, size_t col, const char *p, size_t len)
{
	struct col *c = &pq->cols[col];

	add_def(c, true);
	add_stable(c, p, len);
}

/* ---- output ---- */

static int
out(struct lake_pq *pq, const void *p, size_t n, struct gpu_err *err)
{
	if (n > 0 && fwrite(p, 1, n, pq->fp) != n) {
		pq->failed = true;
		return gpu_err_set(err, "cannot write '%s': %s", pq->path,
				   strerror(errno));
	}
	pq->pos += n;
	return 0;
}

/* Compress e->page into e->comp per the codec. */
static int
compress(const struct lake_pq_opts *o, struct enc *e, struct gpu_err *err)
{
	const struct gpu_buf *body = &e->page;

	gpu_buf_reset(&e->comp);
	if (o->codec == LAKE_CODEC_ZSTD) {
		size_t cap = ZSTD_compressBound(body->len), n;

		gpu_buf_grow(&e->comp, cap);
		n = ZSTD_compressCCtx(e->zctx, e->comp.data, cap, body->data,
				      body->len, o->zstd_level);
		if (ZSTD_isError(n))
			return gpu_err_set(err, "zstd: %s",
					   ZSTD_getErrorName(n));
		e->comp.len = n;
	} else if (o->codec == LAKE_CODEC_SNAPPY) {
		size_t n = snappy_max_compressed_length(body->len);

		gpu_buf_grow(&e->comp, n);
		if (snappy_compress(body->data, body->len, e->comp.data, &n) !=
		    SNAPPY_OK)
			return gpu_err_set(err, "snappy: compression failed");
		e->comp.len = n;
	} else {
		gpu_buf_add(&e->comp, body->data, body->len);
	}
	return 0;
}

/*
 * Compress e->page, the body of page p, of type type (with its
 * sub-header's num_values and encoding), into p->out behind its header.
 */
static int
finish_page(const struct lake_pq *pq, struct enc *e, struct page *p, int type,
	    int64_t nvalues, int encoding)
{
	struct lake_thrift t;

	if (compress(&pq->o, e, &p->err) != 0)
		return -1;
	gpu_buf_reset(&e->hdr);
	lake_thrift_init(&t, &e->hdr);
	lake_thrift_i32(&t, 1, type);
	lake_thrift_i32(&t, 2, (int32_t)e->page.len);
	lake_thrift_i32(&t, 3, (int32_t)e->comp.len);
	if (type == PAGE_DATA) {
		lake_thrift_struct_begin(&t, 5);
		lake_thrift_i32(&t, 1, (int32_t)nvalues);
		lake_thrift_i32(&t, 2, encoding);
		lake_thrift_i32(&t, 3, ENC_RLE);
		lake_thrift_i32(&t, 4, ENC_RLE);
		lake_thrift_struct_end(&t);
	} else {
		lake_thrift_struct_begin(&t, 7);
		lake_thrift_i32(&t, 1, (int32_t)nvalues);
		lake_thrift_i32(&t, 2, ENC_PLAIN);
		lake_thrift_struct_end(&t);
	}
	lake_thrift_struct_end(&t);
	p->usize = (int64_t)(e->hdr.len + e->page.len);
	p->csize = (int64_t)(e->hdr.len + e->comp.len);
	gpu_buf_reset(&p->out);
	gpu_buf_add(&p->out, e->hdr.data, e->hdr.len);
	gpu_buf_add(&p->out, e->comp.data, e->comp.len);
	return 0;
}

static int
bit_width(size_t n)
{
	int bw = 1;

	while (bw < 32 && ((size_t)1 << bw) < n)
		bw++;
	return bw;
}

/* Bytes of the PLAIN value at *off in c->vals; advances *off. */
static size_t
value_size(const struct col *c, size_t *off)
{
	size_t n;

	if (is_i32(c->f.type))
		n = 4;
	else if (c->f.type != LAKE_STRING)
		n = 8;
	else
		n = 4 + ((size_t)(unsigned char)c->vals.data[*off] |
			 (size_t)(unsigned char)c->vals.data[*off + 1] << 8 |
			 (size_t)(unsigned char)c->vals.data[*off + 2] << 16 |
			 (size_t)(unsigned char)c->vals.data[*off + 3] << 24);
	*off += n;
	return n;
}

/*
 * Advance *r (rows), *v (values) and *voff (PLAIN bytes) over the next
 * page of column c: rows until its values hold page_bytes (bw bits each
 * when dictionary-encoded, else their PLAIN bytes).
 */
static void
page_rows(const struct lake_pq *pq, const struct col *c, int bw, size_t *r,
	  size_t *v, size_t *voff)
{
	size_t rows = pq->rg_rows, bits = 0, lim = 8 * pq->o.page_bytes;
	size_t w = c->dict ? 0 : width(c->f.type);
	size_t vb = c->dict ? (size_t)bw : 8 * w, i = *r, nv = 0;

	if (c->f.required && vb != 0) {
		/* Fixed bits a row: the first count that reaches the limit. */
		nv = (lim + vb - 1) / vb;
		if (nv > rows - i)
			nv = rows - i;
		i += nv;
	} else {
		for (; i < rows && bits < lim; i++) {
			if (!c->f.required && c->defs.data[i] == 0)
				continue;
			bits += vb != 0 ? vb : 8 * value_size(c, voff);
			nv++;
		}
	}
	*r = i;
	*v += nv;
	*voff += nv * w;
}

static void
chunk_stats(struct lake_thrift *t, const struct col *c, struct gpu_buf *tmp)
{
	lake_thrift_struct_begin(t, 12);
	lake_thrift_i64(t, 3, (int64_t)c->rg.nulls);
	if (c->rg.has) {
		stats_bytes(&c->rg, c->f.type, true, tmp);
		lake_thrift_binary(t, 5, tmp->data, tmp->len);
		stats_bytes(&c->rg, c->f.type, false, tmp);
		lake_thrift_binary(t, 6, tmp->data, tmp->len);
	}
	lake_thrift_struct_end(t);
}

/*
 * Cut column i's chunk of the buffered row group into data pages of about
 * page_bytes of values each; reads only the column and the group's row
 * count, so that columns are cut in parallel.
 */
static void
cut_chunk(struct lake_pq *pq, struct enc *e, size_t i)
{
	const struct col *c = &pq->cols[i];
	struct chunk *k = &pq->chunks[i];
	struct cut at = {0, 0, 0};
	int bw = c->dict ? bit_width(c->ndict) : 0;

	(void)e;
	k->ncuts = 0;
	while (at.r < pq->rg_rows) {
		page_rows(pq, c, bw, &at.r, &at.v, &at.off);
		if (k->ncuts == k->ccap) {
			k->ccap = k->ccap == 0 ? 16 : 2 * k->ccap;
			k->cuts = gpu_xreallocarray(k->cuts, k->ccap,
						    sizeof(*k->cuts));
		}
		k->cuts[k->ncuts++] = at;
	}
}

/* A new page of column col in pq->pages, its buffer kept from before. */
static struct page *
add_page(struct lake_pq *pq, size_t col)
{
	struct page *p;

	if (pq->npages == pq->pcap) {
		size_t i, n = pq->pcap == 0 ? 64 : 2 * pq->pcap;

		pq->pages = gpu_xreallocarray(pq->pages, n, sizeof(*pq->pages));
		for (i = pq->pcap; i < n; i++)
			gpu_buf_init(&pq->pages[i].out);
		pq->order = gpu_xreallocarray(pq->order, n, sizeof(*pq->order));
		pq->pcap = n;
	}
	p = &pq->pages[pq->npages];
	p->col = col;
	p->dict = false;
	p->r0 = p->r1 = p->v0 = p->v1 = p->off0 = p->off1 = 0;
	p->weight = 0;
	p->usize = p->csize = 0;
	p->rc = 0;
	pq->npages++;
	return p;
}

/* The row group's pages from the columns' cuts: dictionary, data pages. */
static void
list_pages(struct lake_pq *pq)
{
	size_t i, j;

	pq->npages = 0;
	for (i = 0; i < pq->ncols; i++) {
		const struct col *c = &pq->cols[i];
		struct chunk *k = &pq->chunks[i];
		struct cut prev = {0, 0, 0};
		int bw = c->dict ? bit_width(c->ndict) : 0;

		k->first = pq->npages;
		if (c->dict) {
			struct page *p = add_page(pq, i);

			p->dict = true;
			p->weight = c->dvals.len;
		}
		for (j = 0; j < k->ncuts; j++) {
			struct page *p = add_page(pq, i);

			p->r0 = prev.r;
			p->v0 = prev.v;
			p->off0 = prev.off;
			prev = k->cuts[j];
			p->r1 = prev.r;
			p->v1 = prev.v;
			p->off1 = prev.off;
			p->weight = (c->f.required ? 0 : p->r1 - p->r0) +
				    (c->dict ? (p->v1 - p->v0) * (size_t)bw / 8
					     : p->off1 - p->off0);
		}
		k->npages = pq->npages - k->first;
	}
	for (j = 0; j < pq->npages; j++) {
		pq->order[j].weight = pq->pages[j].weight;
		pq->order[j].page = j;
	}
}

/* The biggest page first; equal ones in file order. */
static int
cmp_weight(const void *a, const void *b)
{
	const struct ord *p = a, *q = b;

	if (p->weight != q->weight)
		return p->weight > q->weight ? -1 : 1;
	return p->page < q->page ? -1 : p->page > q->page;
}

/* Encode and compress page pq->order[j]; reads its column only. */
static void
encode_page(struct lake_pq *pq, struct enc *e, size_t j)
{
	struct page *p = &pq->pages[pq->order[j].page];
	const struct col *c = &pq->cols[p->col];
	int bw = c->dict ? bit_width(c->ndict) : 0;

	gpu_buf_reset(&e->page);
	if (p->dict) {
		gpu_buf_add(&e->page, c->dvals.data, c->dvals.len);
		p->rc = finish_page(pq, e, p, PAGE_DICTIONARY,
				    (int64_t)c->ndict, 0);
		return;
	}
	if (!c->f.required) {
		size_t i, n;

		put_le(&e->page, 0, 4);
		lake_rle_encode(&e->page, c->defs.data + p->r0, 1,
				p->r1 - p->r0, 1);
		n = e->page.len - 4;
		for (i = 0; i < 4; i++)
			e->page.data[i] = (char)(n >> (8 * i));
	}
	if (c->dict) {
		gpu_buf_addc(&e->page, (char)bw);
		lake_rle_encode(&e->page, c->idx + p->v0, 4, p->v1 - p->v0, bw);
	} else {
		gpu_buf_add(&e->page, c->vals.data + p->off0,
			    p->off1 - p->off0);
	}
	p->rc = finish_page(pq, e, p, PAGE_DATA, (int64_t)(p->r1 - p->r0),
			    c->dict ? ENC_RLE_DICTIONARY : ENC_PLAIN);
}

/*
 * Write column c's encoded pages (chunk k) at the file's position; append
 * its ColumnChunk struct to rg->cols.
 */
static int
write_chunk(struct lake_pq *pq, struct col *c, const struct chunk *k,
	    struct rowgroup *rg, struct gpu_err *err)
{
	int64_t base = (int64_t)pq->pos, usize = 0, csize = 0;
	int64_t data_at = c->dict ? pq->pages[k->first].csize : 0;
	struct lake_thrift t;
	struct gpu_buf tmp;
	size_t j;

	for (j = k->first; j < k->first + k->npages; j++) {
		const struct page *p = &pq->pages[j];

		if (p->rc != 0) {
			*err = p->err;
			pq->failed = true;
			return -1;
		}
		if (out(pq, p->out.data, p->out.len, err) != 0)
			return -1;
		usize += p->usize;
		csize += p->csize;
	}
	gpu_buf_init(&tmp);
	lake_thrift_init(&t, &rg->cols);
	lake_thrift_i64(&t, 2, 0);
	lake_thrift_struct_begin(&t, 3);
	lake_thrift_i32(&t, 1, physical(c->f.type));
	lake_thrift_list(&t, 2, LAKE_TT_I32, c->dict ? 3 : 2);
	lake_thrift_elem_i32(&t, ENC_PLAIN);
	lake_thrift_elem_i32(&t, ENC_RLE);
	if (c->dict)
		lake_thrift_elem_i32(&t, ENC_RLE_DICTIONARY);
	lake_thrift_list(&t, 3, LAKE_TT_BINARY, 1);
	lake_thrift_elem_binary(&t, c->f.name, strlen(c->f.name));
	lake_thrift_i32(&t, 4, pq->o.codec);
	lake_thrift_i64(&t, 5, (int64_t)pq->rg_rows);
	lake_thrift_i64(&t, 6, usize);
	lake_thrift_i64(&t, 7, csize);
	lake_thrift_i64(&t, 9, base + data_at);
	if (c->dict)
		lake_thrift_i64(&t, 11, base);
	chunk_stats(&t, c, &tmp);
	lake_thrift_struct_end(&t);
	lake_thrift_struct_end(&t);
	gpu_buf_release(&tmp);
	rg->bytes += usize;
	rg->compressed += csize;
	c->out.bytes += (uint64_t)csize;
	return 0;
}

/* One encoding thread of a flush: takes items until none is left. */
struct worker {
	struct lake_pq *pq;
	struct enc *e;
	void (*fn)(struct lake_pq *, struct enc *, size_t);
	size_t n;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct lake_pq *pq = w->pq;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&pq->mu);
		i = pq->next++;
		pthread_mutex_unlock(&pq->mu);
		if (i >= w->n)
			break;
		w->fn(pq, w->e, i);
	}
	return NULL;
}

/* fn(pq, e, i) for each i < n, on up to o.threads threads. */
static void
run_workers(struct lake_pq *pq, size_t n,
	    void (*fn)(struct lake_pq *, struct enc *, size_t))
{
	struct worker w[LAKE_PQ_MAX_THREADS];
	pthread_t th[LAKE_PQ_MAX_THREADS];
	size_t i, nw = pq->nenc < n ? pq->nenc : n, started;

	pq->next = 0;
	for (i = 0; i < nw; i++) {
		w[i].pq = pq;
		w[i].e = &pq->enc[i];
		w[i].fn = fn;
		w[i].n = n;
	}
	/* This thread is the first worker; a thread not started is done by
	 * the others. */
	for (started = 1; started < nw; started++)
		if (pthread_create(&th[started], NULL, work, &w[started]) != 0)
			break;
	if (nw > 0)
		work(&w[0]);
	for (i = 1; i < started; i++)
		pthread_join(th[i], NULL);
}

/*
 * Encode the buffered row group: cut each column into pages, then encode
 * and compress the pages, the biggest first, so that one big column does
 * not keep the other threads waiting.
 */
static void
encode_group(struct lake_pq *pq)
{
	run_workers(pq, pq->ncols, cut_chunk);
	list_pages(pq);
	qsort(pq->order, pq->npages, sizeof(*pq->order), cmp_weight);
	run_workers(pq, pq->npages, encode_page);
}

static void
col_reset(struct col *c)
{
	gpu_buf_reset(&c->defs);
	gpu_buf_reset(&c->vals);
	gpu_buf_reset(&c->dvals);
	c->nvals = 0;
	c->ndict = 0;
	c->dict = true;
	c->last_p = NULL;
	c->maxlen = 0;
	c->bytes = 0;
	if (c->slots != NULL)
		memset(c->slots, 0, c->nslots * sizeof(*c->slots));
	stats_reset(&c->rg);
}

/* The bytes buffered for the row group. */
static size_t
rg_bytes(const struct lake_pq *pq)
{
	size_t i, n = 0;

	for (i = 0; i < pq->ncols; i++)
		n += pq->cols[i].bytes;
	return n;
}

static int
flush_group(struct lake_pq *pq, struct gpu_err *err)
{
	struct rowgroup *rg;
	size_t i;

	if (pq->rg_rows == 0)
		return 0;
	pq->rgs = gpu_xreallocarray(pq->rgs, pq->nrgs + 1, sizeof(*pq->rgs));
	rg = &pq->rgs[pq->nrgs++];
	memset(rg, 0, sizeof(*rg));
	gpu_buf_init(&rg->cols);
	rg->rows = (int64_t)pq->rg_rows;
	rg->offset = (int64_t)pq->pos;
	encode_group(pq);
	for (i = 0; i < pq->ncols; i++) {
		struct col *c = &pq->cols[i];

		if (write_chunk(pq, c, &pq->chunks[i], rg, err) != 0)
			return -1;
		c->out.values += pq->rg_rows;
		stats_merge(&c->file, &c->rg, c->f.type);
		col_reset(c);
	}
	pq->rg_rows = 0;
	return 0;
}

struct lake_pq *
lake_pq_open(const char *path, const struct lake_field *fields, size_t n,
	     const struct lake_pq_opts *opts, struct gpu_err *err)
{
	struct lake_pq *pq;
	size_t i;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		gpu_err_set(err, "cannot create '%s': %s", path,
			    strerror(errno));
		return NULL;
	}
	pq = gpu_xcalloc(1, sizeof(*pq));
	pq->fp = fdopen(fd, "wb");
	if (pq->fp == NULL) {
		gpu_err_set(err, "cannot open '%s': %s", path, strerror(errno));
		close(fd);
		free(pq);
		return NULL;
	}
	pq->path = gpu_xstrdup(path);
	pq->o = *opts;
	/*
	 * Level 1: pages are mostly dictionary indexes and runs, which it
	 * packs as small as level 3 does (smaller, on gpugen's facts) in
	 * less time.
	 */
	if (pq->o.zstd_level == 0)
		pq->o.zstd_level = 1;
	if (pq->o.row_group_bytes == 0)
		pq->o.row_group_bytes = (size_t)128 << 20;
	if (pq->o.page_bytes == 0)
		pq->o.page_bytes = (size_t)1 << 20;
	if (pq->o.created_by == NULL)
		pq->o.created_by = "gpuusage version " GPU_VERSION;
	pq->cols = gpu_xcalloc(n, sizeof(*pq->cols));
	pq->ncols = n;
	for (i = 0; i < n; i++) {
		struct col *c = &pq->cols[i];

		c->f = fields[i];
		gpu_buf_init(&c->defs);
		gpu_buf_init(&c->vals);
		gpu_buf_init(&c->dvals);
		gpu_buf_init(&c->rg.smin);
		gpu_buf_init(&c->rg.smax);
		gpu_buf_init(&c->file.smin);
		gpu_buf_init(&c->file.smax);
		gpu_buf_init(&c->out.lower);
		gpu_buf_init(&c->out.upper);
		col_reset(c);
	}
	pq->nenc = pq->o.threads < 1			 ? 1
		   : pq->o.threads > LAKE_PQ_MAX_THREADS ? LAKE_PQ_MAX_THREADS
							 : pq->o.threads;
	pq->enc = gpu_xcalloc(pq->nenc, sizeof(*pq->enc));
	for (i = 0; i < pq->nenc; i++) {
		struct enc *e = &pq->enc[i];

		gpu_buf_init(&e->page);
		gpu_buf_init(&e->comp);
		gpu_buf_init(&e->hdr);
		if (pq->o.codec == LAKE_CODEC_ZSTD)
			e->zctx = ZSTD_createCCtx();
	}
	pq->chunks = gpu_xcalloc(n, sizeof(*pq->chunks));
	pthread_mutex_init(&pq->mu, NULL);
	pthread_mutex_init(&pq->put.mu, NULL);
	pthread_cond_init(&pq->put.go, NULL);
	pthread_cond_init(&pq->put.done, NULL);
	if (out(pq, "PAR1", 4, err) != 0) {
		lake_pq_free(pq);
		return NULL;
	}
	return pq;
}

int
lake_pq_end_row(struct lake_pq *pq, struct gpu_err *err)
{
	pq->rows++;
	pq->rg_rows++;
	if (rg_bytes(pq) >= pq->o.row_group_bytes)
		return flush_group(pq, err);
	return 0;
}

/* ---- batches ---- */

/*
 * Whether the dictionary of column c may fall back to PLAIN within the next
 * m rows (values at most n bytes each, PLAIN): at its 16384th value, or
 * past DICT_MAX_ENTRIES or DICT_MAX_BYTES (see dict_add()).
 */
static bool
may_fall_back(const struct col *c, size_t m, size_t n)
{
	if (c->nvals <= 16384 && c->nvals + m > 16384)
		return true;
	return c->ndict + m >= DICT_MAX_ENTRIES ||
	       c->dvals.len + m * (n + 4) + 4 > DICT_MAX_BYTES;
}

/*
 * The most bytes that k <= m more rows can add to column c's share of the
 * row group's bytes, as jump + k * rate: a dictionary that may fall back
 * to PLAIN within them adds the PLAIN size of its values less its own
 * size once (the jump); then each value adds at most its PLAIN size and
 * an index (strings: at most maxlen bytes long), each row its definition
 * level.
 */
static void
col_bound(const struct col *c, size_t maxlen, size_t m, size_t *jump,
	  size_t *rate)
{
	size_t w = width(c->f.type), v = w != 0 ? w : 4 + maxlen;
	size_t plain_now, dict_now;

	*jump = 0;
	*rate = c->f.required ? 0 : 1;
	if (!c->dict) {
		*rate += v;
		return;
	}
	*rate += v + 4;
	if (!may_fall_back(c, m, v))
		return;
	plain_now = c->nvals * (w != 0 ? w : 4 + c->maxlen);
	dict_now = c->dvals.len + 4 * c->nvals;
	if (plain_now > dict_now)
		*jump = plain_now - dict_now;
}

/*
 * How many of the next m rows can be appended column by column with no
 * row group cut and no stop (lake_pq_size() reaching stop, 0: none) among
 * them: those that keep the bound on rg_bytes() below both limits.
 */
static size_t
safe_rows(const struct lake_pq *pq, const size_t *maxlen, size_t m,
	  uint64_t stop)
{
	uint64_t room = pq->o.row_group_bytes, used = rg_bytes(pq);
	size_t i, jump, rate, rates = 0;

	if (stop != 0 && (stop <= pq->pos || stop - pq->pos < room))
		room = stop > pq->pos ? stop - pq->pos : 0;
	for (i = 0; i < pq->ncols; i++) {
		col_bound(&pq->cols[i], maxlen[i], m, &jump, &rate);
		used += jump;
		rates += rate;
	}
	if (used >= room)
		return 0;
	if (rates == 0 || (room - 1 - used) / rates >= m)
		return m;
	return (size_t)((room - 1 - used) / rates);
}

/* Row r of the batch cols through the row-wise path (no end of row). */
static void
put_row_at(struct lake_pq *pq, const struct lake_pq_col *cols, size_t r)
{
	size_t i;

	for (i = 0; i < pq->ncols; i++) {
		const struct lake_pq_col *v = &cols[i];
		struct col *c = &pq->cols[i];

		if (v->present != NULL && v->present[r] == 0) {
			lake_pq_null(pq, i);
			continue;
		}
		add_def(c, true);
		if (is_i32(c->f.type))
			add_i32(c, (int32_t)v->i[r]);
		else if (is_i64(c->f.type))
			add_i64(c, v->i[r]);
		else if (c->f.type == LAKE_DOUBLE)
			add_double(c, v->d[r]);
		else if (v->stable)
			add_stable(c, v->s[r].p, v->s[r].n);
		else
			add_str(c, v->s[r].p, v->s[r].n);
	}
}

/* Rows [first, end) of one column: its levels, then its values. */
static void
put_col(struct col *c, const struct lake_pq_col *v, size_t first, size_t end)
{
	const unsigned char *pr = v->present;
	size_t r, k = end - first;

	if (!c->f.required) {
		struct gpu_buf *d = &c->defs;

		gpu_buf_grow(d, k > 65536 ? k : 65536);
		if (pr != NULL)
			memcpy(d->data + d->len, pr + first, k);
		else
			memset(d->data + d->len, 1, k);
		d->len += k;
		d->data[d->len] = '\0';
		c->bytes += k;
	}
	if (pr != NULL)
		for (r = first; r < end; r++)
			c->rg.nulls += pr[r] == 0;
	switch (c->f.type) {
	case LAKE_INT:
	case LAKE_DATE:
		for (r = first; r < end; r++)
			if (pr == NULL || pr[r] != 0)
				add_i32(c, (int32_t)v->i[r]);
		break;
	case LAKE_LONG:
	case LAKE_TIMESTAMPTZ:
	case LAKE_DECIMAL:
		for (r = first; r < end; r++)
			if (pr == NULL || pr[r] != 0)
				add_i64(c, v->i[r]);
		break;
	case LAKE_DOUBLE:
		for (r = first; r < end; r++)
			if (pr == NULL || pr[r] != 0)
				add_double(c, v->d[r]);
		break;
	case LAKE_STRING:
		for (r = first; r < end; r++) {
			if (pr != NULL && pr[r] == 0)
				continue;
			if (v->stable)
				add_stable(c, v->s[r].p, v->s[r].n);
			else
				add_str(c, v->s[r].p, v->s[r].n);
		}
		break;
	}
}

/*
 * Appending a run of rows on several threads. Each column keeps its own
 * buffers, dictionary, statistics and byte count, so the columns of a run
 * can be appended at once, each by one thread, in row order; a run ends
 * before the next begins, so the bytes are the same on any number of
 * threads. The caller takes columns too: it never waits for a helper to
 * wake, only for the columns a helper has taken. A thread takes a column
 * by advancing the ticket, which names the run as well: a helper that
 * wakes late finds another run's ticket, or no column left, and takes
 * nothing. Runs smaller than this many values stay on the caller's
 * thread, where handing them over would cost more than it saves.
 */
#define PUT_MIN_VALUES 4096

/* Take and append columns of run gen until none is left. */
static void
put_cols(struct lake_pq *pq, uint32_t gen)
{
	struct putter *w = &pq->put;

	for (;;) {
		uint64_t t =
		    atomic_load_explicit(&w->ticket, memory_order_acquire);
		size_t i = (size_t)(t & UINT32_MAX);

		if ((uint32_t)(t >> 32) != gen || i >= pq->ncols)
			return;
		if (!atomic_compare_exchange_weak_explicit(
			&w->ticket, &t, t + 1, memory_order_acq_rel,
			memory_order_acquire))
			continue;
		put_col(&pq->cols[i], &w->cols[i], w->first, w->end);
		if (atomic_fetch_add_explicit(&w->ndone, 1,
					      memory_order_acq_rel) +
			1 ==
		    pq->ncols) {
			pthread_mutex_lock(&w->mu);
			pthread_cond_signal(&w->done);
			pthread_mutex_unlock(&w->mu);
		}
	}
}

static void *
put_helper(void *arg)
{
	struct lake_pq *pq = arg;
	struct putter *w = &pq->put;
	uint32_t seen = 0;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->gen == seen && !w->stop)
			pthread_cond_wait(&w->go, &w->mu);
		if (w->stop)
			break;
		seen = w->gen;
		pthread_mutex_unlock(&w->mu);
		put_cols(pq, seen);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Start the helpers, once: o.threads less the caller's. */
static void
put_start(struct lake_pq *pq)
{
	struct putter *w = &pq->put;

	w->tried = true;
	while (w->nth + 1 < pq->nenc &&
	       pthread_create(&w->th[w->nth], NULL, put_helper, pq) == 0)
		w->nth++;
}

static void
put_stop(struct lake_pq *pq)
{
	struct putter *w = &pq->put;
	size_t i;

	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->nth; i++)
		pthread_join(w->th[i], NULL);
	w->nth = 0;
}

/* Rows [first, end) of the batch cols, every column. */
static void
put_run(struct lake_pq *pq, const struct lake_pq_col *cols, size_t first,
	size_t end)
{
	struct putter *w = &pq->put;
	uint32_t gen;
	size_t i;

	if ((end - first) * pq->ncols >= PUT_MIN_VALUES && !w->tried)
		put_start(pq);
	if (w->nth == 0 || (end - first) * pq->ncols < PUT_MIN_VALUES) {
		for (i = 0; i < pq->ncols; i++)
			put_col(&pq->cols[i], &cols[i], first, end);
		return;
	}
	pthread_mutex_lock(&w->mu);
	w->cols = cols;
	w->first = first;
	w->end = end;
	atomic_store_explicit(&w->ndone, 0, memory_order_relaxed);
	gen = ++w->gen;
	atomic_store_explicit(&w->ticket, (uint64_t)gen << 32,
			      memory_order_release);
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->mu);
	put_cols(pq, gen);
	if (atomic_load_explicit(&w->ndone, memory_order_acquire) == pq->ncols)
		return;
	pthread_mutex_lock(&w->mu);
	while (atomic_load_explicit(&w->ndone, memory_order_acquire) !=
	       pq->ncols)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

int
lake_pq_put_batch(struct lake_pq *pq, const struct lake_pq_col *cols,
		  size_t first, size_t n, uint64_t stop, size_t *taken,
		  struct gpu_err *err)
{
	size_t *maxlen = gpu_xcalloc(pq->ncols, sizeof(*maxlen));
	size_t i, r = first, end = first + n;
	int rc = 0;

	/* The longest string of each column bounds what a row adds. */
	for (i = 0; i < pq->ncols; i++) {
		size_t j;

		if (pq->cols[i].f.type != LAKE_STRING)
			continue;
		for (j = first; j < end; j++)
			if ((cols[i].present == NULL ||
			     cols[i].present[j] != 0) &&
			    cols[i].s[j].n > maxlen[i])
				maxlen[i] = cols[i].s[j].n;
	}
	while (r < end) {
		size_t k = safe_rows(pq, maxlen, end - r, stop);

		if (k == 0) {
			/* Near a cut: row by row, as the row-wise path. */
			put_row_at(pq, cols, r++);
			rc = lake_pq_end_row(pq, err);
			if (rc != 0 || (stop != 0 && lake_pq_size(pq) >= stop))
				break;
			continue;
		}
		put_run(pq, cols, r, r + k);
		pq->rows += k;
		pq->rg_rows += k;
		r += k;
	}
	free(maxlen);
	*taken = r - first;
	return rc;
}

uint64_t
lake_pq_rows(const struct lake_pq *pq)
{
	return pq->rows;
}

uint64_t
lake_pq_size(const struct lake_pq *pq)
{
	return pq->pos + rg_bytes(pq);
}

static void
schema_leaf(struct lake_thrift *t, const struct lake_field *f)
{
	lake_thrift_struct_begin(t, 0);
	lake_thrift_i32(t, 1, physical(f->type));
	lake_thrift_i32(t, 3, f->required ? 0 : 1);
	lake_thrift_string(t, 4, f->name);
	if (f->type == LAKE_STRING)
		lake_thrift_i32(t, 6, CT_UTF8);
	else if (f->type == LAKE_DATE)
		lake_thrift_i32(t, 6, CT_DATE);
	else if (f->type == LAKE_TIMESTAMPTZ)
		lake_thrift_i32(t, 6, CT_TIMESTAMP_MICROS);
	else if (f->type == LAKE_DECIMAL)
		lake_thrift_i32(t, 6, CT_DECIMAL);
	if (f->type == LAKE_DECIMAL) {
		lake_thrift_i32(t, 7, LAKE_DECIMAL_SCALE);
		lake_thrift_i32(t, 8, LAKE_DECIMAL_PRECISION);
	}
	lake_thrift_i32(t, 9, f->id);
	if (f->type == LAKE_STRING) {
		lake_thrift_struct_begin(t, 10);
		lake_thrift_struct_begin(t, 1);
		lake_thrift_struct_end(t);
		lake_thrift_struct_end(t);
	} else if (f->type == LAKE_DATE) {
		lake_thrift_struct_begin(t, 10);
		lake_thrift_struct_begin(t, 6);
		lake_thrift_struct_end(t);
		lake_thrift_struct_end(t);
	} else if (f->type == LAKE_DECIMAL) {
		lake_thrift_struct_begin(t, 10);
		lake_thrift_struct_begin(t, 5);
		lake_thrift_i32(t, 1, LAKE_DECIMAL_SCALE);
		lake_thrift_i32(t, 2, LAKE_DECIMAL_PRECISION);
		lake_thrift_struct_end(t);
		lake_thrift_struct_end(t);
	} else if (f->type == LAKE_TIMESTAMPTZ) {
		lake_thrift_struct_begin(t, 10);
		lake_thrift_struct_begin(t, 8);
		lake_thrift_bool(t, 1, 1);
		lake_thrift_struct_begin(t, 2);
		lake_thrift_struct_begin(t, 2);
		lake_thrift_struct_end(t);
		lake_thrift_struct_end(t);
		lake_thrift_struct_end(t);
		lake_thrift_struct_end(t);
	}
	lake_thrift_struct_end(t);
}

static void
footer(struct lake_pq *pq, struct gpu_buf *b)
{
	struct lake_thrift t;
	size_t i;

	lake_thrift_init(&t, b);
	lake_thrift_i32(&t, 1, 1);
	lake_thrift_list(&t, 2, LAKE_TT_STRUCT, pq->ncols + 1);
	lake_thrift_struct_begin(&t, 0);
	lake_thrift_string(&t, 4, "table");
	lake_thrift_i32(&t, 5, (int32_t)pq->ncols);
	lake_thrift_struct_end(&t);
	for (i = 0; i < pq->ncols; i++)
		schema_leaf(&t, &pq->cols[i].f);
	lake_thrift_i64(&t, 3, (int64_t)pq->rows);
	lake_thrift_list(&t, 4, LAKE_TT_STRUCT, pq->nrgs);
	for (i = 0; i < pq->nrgs; i++) {
		const struct rowgroup *rg = &pq->rgs[i];

		lake_thrift_struct_begin(&t, 0);
		lake_thrift_list(&t, 1, LAKE_TT_STRUCT, pq->ncols);
		gpu_buf_add(b, rg->cols.data, rg->cols.len);
		lake_thrift_i64(&t, 2, rg->bytes);
		lake_thrift_i64(&t, 3, rg->rows);
		lake_thrift_i64(&t, 5, rg->offset);
		lake_thrift_i64(&t, 6, rg->compressed);
		lake_thrift_field(&t, 7, LAKE_TT_I16);
		lake_zigzag(b, (int64_t)i);
		lake_thrift_struct_end(&t);
	}
	if (pq->o.kv_key != NULL) {
		lake_thrift_list(&t, 5, LAKE_TT_STRUCT, 1);
		lake_thrift_struct_begin(&t, 0);
		lake_thrift_string(&t, 1, pq->o.kv_key);
		lake_thrift_string(&t, 2, pq->o.kv_value);
		lake_thrift_struct_end(&t);
	}
	lake_thrift_string(&t, 6, pq->o.created_by);
	lake_thrift_list(&t, 7, LAKE_TT_STRUCT, pq->ncols);
	for (i = 0; i < pq->ncols; i++) {
		lake_thrift_struct_begin(&t, 0);
		lake_thrift_struct_begin(&t, 1);
		lake_thrift_struct_end(&t);
		lake_thrift_struct_end(&t);
	}
	lake_thrift_struct_end(&t);
}

int
lake_pq_finish(struct lake_pq *pq, struct gpu_err *err)
{
	struct gpu_buf b;
	size_t i;
	int rc = -1;

	if (pq->finished || pq->failed)
		return gpu_err_set(err, "'%s': writer already closed",
				   pq->path);
	pq->finished = true;
	put_stop(pq); /* no batch comes after the last row group */
	gpu_buf_init(&b);
	if (flush_group(pq, err) != 0)
		goto out;
	footer(pq, &b);
	put_le(&b, b.len, 4);
	gpu_buf_add(&b, "PAR1", 4);
	if (out(pq, b.data, b.len, err) != 0)
		goto out;
	if (fflush(pq->fp) != 0 || fsync(fileno(pq->fp)) != 0) {
		gpu_err_set(err, "cannot write '%s': %s", pq->path,
			    strerror(errno));
		goto out;
	}
	for (i = 0; i < pq->ncols; i++) {
		struct col *c = &pq->cols[i];

		c->out.nulls = c->file.nulls;
		c->out.nans = c->file.nans;
		c->out.has_bounds = c->file.has;
		if (c->file.has) {
			stats_bytes(&c->file, c->f.type, false, &c->out.lower);
			stats_bytes(&c->file, c->f.type, true, &c->out.upper);
		}
	}
	pq->offsets =
	    gpu_xreallocarray(NULL, pq->nrgs + 1, sizeof(*pq->offsets));
	for (i = 0; i < pq->nrgs; i++)
		pq->offsets[i] = pq->rgs[i].offset;
	rc = 0;
out:
	gpu_buf_release(&b);
	if (fclose(pq->fp) != 0 && rc == 0)
		rc = gpu_err_set(err, "cannot close '%s': %s", pq->path,
				 strerror(errno));
	pq->fp = NULL;
	return rc;
}

uint64_t
lake_pq_file_size(const struct lake_pq *pq)
{
	return pq->pos;
}

const int64_t *
lake_pq_row_groups(const struct lake_pq *pq, size_t *n)
{
	*n = pq->nrgs;
	return pq->offsets;
}

const struct lake_pq_colstats *
lake_pq_stats(const struct lake_pq *pq, size_t col)
{
	return &pq->cols[col].out;
}

void
lake_pq_free(struct lake_pq *pq)
{
	size_t i;

	if (pq == NULL)
		return;
	put_stop(pq);
	if (pq->fp != NULL)
		fclose(pq->fp);
	for (i = 0; i < pq->ncols; i++) {
		struct col *c = &pq->cols[i];

		gpu_buf_release(&c->defs);
		gpu_buf_release(&c->vals);
		gpu_buf_release(&c->dvals);
		gpu_buf_release(&c->out.lower);
		gpu_buf_release(&c->out.upper);
		free(c->doff);
		free(c->dnum);
		free(c->slots);
		free(c->idx);
		stats_release(&c->rg);
		stats_release(&c->file);
	}
	for (i = 0; i < pq->nrgs; i++)
		gpu_buf_release(&pq->rgs[i].cols);
	free(pq->rgs);
	free(pq->offsets);
	free(pq->cols);
	free(pq->path);
	for (i = 0; i < pq->nenc; i++) {
		ZSTD_freeCCtx(pq->enc[i].zctx);
		gpu_buf_release(&pq->enc[i].page);
		gpu_buf_release(&pq->enc[i].comp);
		gpu_buf_release(&pq->enc[i].hdr);
	}
	for (i = 0; i < pq->ncols; i++)
		free(pq->chunks[i].cuts);
	for (i = 0; i < pq->pcap; i++)
		gpu_buf_release(&pq->pages[i].out);
	free(pq->pages);
	free(pq->order);
	free(pq->enc);
	free(pq->chunks);
	pthread_mutex_destroy(&pq->mu);
	pthread_mutex_destroy(&pq->put.mu);
	pthread_cond_destroy(&pq->put.go);
	pthread_cond_destroy(&pq->put.done);
	free(pq);
}
