/* SPDX-License-Identifier: MIT */
/*
 * A table's records straight from its b-tree pages (see pages.h). The
 * layout is SQLite's documented file format. A WITHOUT ROWID table is an
 * index b-tree whose interior pages (type 2) and leaf pages (type 10)
 * both hold records, read in order as child 0, cell 0, child 1, ..., the
 * right-most child. A rowid table is a table b-tree: its leaves (type 13)
 * hold each record after its rowid, its interior pages (type 5) only the
 * rowids that divide their children, which are read in order.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gpu/diag.h"
#include "gpu/pages.h"

#define MAXDEPTH 32
#define PAGE_INTERIOR 0x02
#define PAGE_LEAF 0x0a
#define PAGE_TABLE_INTERIOR 0x05
#define PAGE_TABLE_LEAF 0x0d

struct level {
	unsigned char *buf;
	uint64_t pgno; /* the page in buf (0: none) */
	unsigned ncells;
	unsigned hdr; /* 8 (leaf) or 12 (interior) */
	bool leaf;
	unsigned i; /* leaf: next cell; interior: next child */
	bool emit;  /* interior: cell i - 1 is due before child i */
};

struct gpu_pages {
	sqlite3_file *f;
	uint32_t page_size, usable;
	uint64_t npages;
	uint32_t root;
	size_t max_local; /* the largest record kept on its page */
	bool rowid;	  /* a table b-tree: its key the rowid */
	size_t ipk;	  /* then the field of its INTEGER PRIMARY KEY */
	size_t limit;	  /* decode only the first limit fields (0: all) */
	size_t nfields;
	char **names;
	size_t need; /* fields every record must have (the key, defaults) */
	uint64_t loads, max_loads;
	struct level lv[MAXDEPTH];
	int depth;
	/*
	 * Read-ahead: a page whose parent's next children lie in the pages
	 * after it is read with them, up to RA_BYTES in one read call, not
	 * one call a page (a table appended in key order keeps runs of its
	 * leaves in consecutive pages).
	 */
	unsigned char *ra; /* pages ra_first.. ra_first + ra_n - 1 */
	uint64_t ra_first;
	unsigned ra_n, ra_max;
	unsigned long reads; /* read calls */
};

#define RA_BYTES 65536

/*
 * Bytes past a page's buffer that record_nums() may read: 8 for each
 * field of a record that ends at the page's end, and the 8 of a load.
 */
#define PAGE_SPARE (8 * (GPU_PAGES_MAXFIELDS + 1))

static inline uint32_t
be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The 8 bytes at p as a big-endian integer. */
static inline uint64_t
load_be64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
	v = (uint64_t)be32(p) << 32 | be32(p + 4);
#endif
	return v;
}

/* A varint at p (before end): its length, or 0 when it runs past end. */
static inline int
varint(const unsigned char *p, const unsigned char *end, uint64_t *v)
{
	uint64_t x = 0;
	int i;

	if (p < end && p[0] < 0x80) {
		*v = p[0];
		return 1;
	}
	for (i = 0; i < 8; i++) {
		if (p + i >= end)
			return 0;
		x = x << 7 | (p[i] & 0x7f);
		if ((p[i] & 0x80) == 0) {
			*v = x;
			return i + 1;
		}
	}
	if (p + 8 >= end)
		return 0;
	*v = x << 8 | p[8];
	return 9;
}

/* The body length of each serial type below 12 (-1: reserved). */
static const signed char serial_len[12] = {0, 1, 2, 3, 4,  6,
					   8, 8, 0, 0, -1, -1};

/*
 * Field x of serial type t, its body at b with avail bytes left in the
 * record. Returns the body's length, or -1 for a reserved type or a body
 * past the record's end. Inlined whole: it runs once per field read.
 */
static inline __attribute__((always_inline)) long
field(uint64_t t, const unsigned char *b, size_t avail, struct gpu_pval *x)
{
	size_t l;

	if (t >= 12) {
		l = (size_t)((t - 12) / 2);
		if (l > avail)
			return -1;
		x->type = (t & 1) != 0 ? GPU_PV_TEXT : GPU_PV_BLOB;
		x->p = b;
		x->n = l;
		return (long)l;
	}
	if (serial_len[t] < 0 || (size_t)serial_len[t] > avail)
		return -1;
	x->type = GPU_PV_INT;
	switch (t) {
	case 0:
		x->type = GPU_PV_NULL;
		break;
	case 1:
		x->i = (int8_t)b[0];
		break;
	case 2:
		x->i = (int16_t)(uint16_t)(b[0] << 8 | b[1]);
		break;
	case 3:
		x->i = (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
				 (uint32_t)b[2] << 8) >>
		       8;
		break;
	case 4:
		x->i = (int32_t)be32(b);
		break;
	case 5:
		x->i = (int64_t)((uint64_t)be32(b) << 32 | (uint64_t)be16(b + 4)
							       << 16) >>
		       16;
		break;
	case 6:
		x->i = (int64_t)((uint64_t)be32(b) << 32 | be32(b + 4));
		break;
	case 7: {
		uint64_t u = (uint64_t)be32(b) << 32 | be32(b + 4);

		x->type = GPU_PV_REAL;
		memcpy(&x->d, &u, sizeof(x->d));
		break;
	}
	default: /* 8, 9: the integers 0 and 1 */
		x->i = (int64_t)t - 8;
		break;
	}
	return serial_len[t];
}

int
gpu_pages_record(const unsigned char *rec, size_t n, struct gpu_pval *v,
		 size_t nfields)
{
	const unsigned char *end = rec + n, *h, *hend, *b;
	uint64_t hsz;
	size_t f = 0, k;
	int w = varint(rec, end, &hsz);

	if (w == 0 || hsz < (uint64_t)w || hsz > n)
		return -1;
	h = rec + w;
	hend = rec + hsz;
	b = hend;
	for (; h < hend; f++) {
		uint64_t t;
		long l;

		if (h[0] < 0x80) {
			t = *h++;
		} else {
			w = varint(h, hend, &t);
			if (w == 0)
				return -1;
			h += w;
		}
		if (f >= nfields ||
		    (l = field(t, b, (size_t)(end - b), &v[f])) < 0)
			return -1;
		b += l;
	}
	for (k = f; k < nfields; k++)
		v[k].type = GPU_PV_NULL;
	return (int)f;
}

/* The first k fields of a record, which has at least k. Returns 0 or -1. */
static int
key_prefix(const unsigned char *rec, size_t n, struct gpu_pval *v, size_t k)
{
	const unsigned char *end = rec + n, *h, *hend, *b;
	uint64_t hsz;
	size_t f;
	int w = varint(rec, end, &hsz);

	if (w == 0 || hsz < (uint64_t)w || hsz > n)
		return -1;
	h = rec + w;
	hend = rec + hsz;
	b = hend;
	for (f = 0; f < k; f++) {
		uint64_t t;
		long l;

		if (h >= hend || (w = varint(h, hend, &t)) == 0)
			return -1;
		h += w;
		if ((l = field(t, b, (size_t)(end - b), &v[f])) < 0)
			return -1;
		b += l;
	}
	return 0;
}

/* A field's rank in SQLite's order: NULL, numbers, text, blobs. */
static int
pval_class(const struct gpu_pval *x)
{
	switch (x->type) {
	case GPU_PV_NULL:
		return 0;
	case GPU_PV_INT:
	case GPU_PV_REAL:
		return 1;
	case GPU_PV_TEXT:
		return 2;
	default:
		return 3;
	}
}

/*
 * Compare two fields as an index of BINARY collation orders them (numbers
 * by value, an integer against a REAL as doubles; text and blobs by their
 * bytes, then length).
 */
static int
pval_cmp(const struct gpu_pval *a, const struct gpu_pval *b)
{
	int ca = pval_class(a), cb = pval_class(b), c;
	size_t n;

	if (ca != cb)
		return ca < cb ? -1 : 1;
	switch (ca) {
	case 0:
		return 0;
	case 1:
		if (a->type == GPU_PV_INT && b->type == GPU_PV_INT)
			return a->i < b->i ? -1 : a->i > b->i;
		{
			double x = a->type == GPU_PV_INT ? (double)a->i : a->d;
			double y = b->type == GPU_PV_INT ? (double)b->i : b->d;

			return x < y ? -1 : x > y;
		}
	default:
		n = a->n < b->n ? a->n : b->n;
		c = n > 0 ? memcmp(a->p, b->p, n) : 0;
		if (c != 0)
			return c < 0 ? -1 : 1;
		return a->n < b->n ? -1 : a->n > b->n;
	}
}

/*
 * Is the record's key prefix below key[0..nkey)? 1, 0, or -1 (bad: also a
 * field sought by an integer that holds none, as a key of another type
 * cannot be sought by time).
 */
static int
below(const unsigned char *rec, size_t n, const struct gpu_pval *key,
      size_t nkey)
{
	struct gpu_pval v[GPU_PAGES_MAXFIELDS];

	if (key_prefix(rec, n, v, nkey) != 0)
		return -1;
	for (size_t i = 0; i < nkey; i++) {
		int c;

		if (key[i].type == GPU_PV_INT && v[i].type != GPU_PV_INT)
			return -1;
		c = pval_cmp(&v[i], &key[i]);

		if (c != 0)
			return c < 0;
	}
	return 0;
}

/*
 * Where cell i of l starts, past its left child on an interior page (put
 * in *child); NULL when the cell lies outside the page.
 */
static inline __attribute__((always_inline)) const unsigned char *
cell_at(const struct gpu_pages *pg, const struct level *l, unsigned i,
	uint32_t *child)
{
	size_t off = be16(l->buf + l->hdr + 2 * (size_t)i);
	const unsigned char *p = l->buf + off;

	if (off < l->hdr + 2 * (size_t)l->ncells || off >= pg->usable)
		return NULL;
	if (!l->leaf) {
		if (pg->usable - off < 5)
			return NULL;
		*child = be32(p);
		p += 4;
	}
	return p;
}

/* Child i of interior page l (i == ncells: the right-most); 0 if none. */
static inline uint32_t
child_at(const struct gpu_pages *pg, const struct level *l, unsigned i)
{
	uint32_t c = 0;

	if (i > l->ncells)
		return 0;
	if (i == l->ncells)
		return be32(l->buf + 8);
	return cell_at(pg, l, i, &c) != NULL ? c : 0;
}

/*
 * How many pages from pgno on to read at once: pgno and the children of
 * up (pgno's parent; NULL at the root) from its child next on while they
 * lie in the pages after it, at most ra_max and the file's end.
 */
static unsigned
run_from(const struct gpu_pages *pg, const struct level *up, unsigned next,
	 uint64_t pgno)
{
	uint64_t left = pg->npages - pgno + 1;
	unsigned k = 1, max = left < pg->ra_max ? (unsigned)left : pg->ra_max;

	if (up == NULL)
		return 1;
	while (k < max && child_at(pg, up, next + k - 1) == pgno + k)
		k++;
	return k;
}

/*
 * Read page pgno into l: the child of up (NULL at the root) before its
 * child next. Returns 0, or -1 when it is not a page of the table's kind
 * of b-tree.
 */
static int
load(struct gpu_pages *pg, struct level *l, uint64_t pgno,
     const struct level *up, unsigned next)
{
	const struct sqlite3_io_methods *m = pg->f->pMethods;

	if (pgno < 2 || pgno > pg->npages || ++pg->loads > pg->max_loads)
		return -1;
	if (l->buf == NULL) /* more: record_nums() reads past a record */
		l->buf = gpu_xcalloc(1, (size_t)pg->page_size + PAGE_SPARE);
	/* The file holds one snapshot: a page read once stays as it is. */
	if (l->pgno != pgno) {
		l->pgno = 0;
		if (pgno - pg->ra_first >= pg->ra_n) {
			/* A run goes to ra, a page alone straight to l. */
			unsigned k = run_from(pg, up, next, pgno);
			unsigned char *to = l->buf;

			if (k > 1) {
				if (pg->ra == NULL)
					pg->ra = gpu_xmalloc((size_t)pg->ra_max *
							     pg->page_size);
				to = pg->ra;
			}
			pg->reads++;
			if (m->xRead(pg->f, to, (int)(k * pg->page_size),
				     (sqlite3_int64)((pgno - 1) *
						     pg->page_size)) != SQLITE_OK)
				return -1;
			if (k > 1) {
				pg->ra_first = pgno;
				pg->ra_n = k;
			}
		}
		if (pgno - pg->ra_first < pg->ra_n)
			memcpy(l->buf,
			       pg->ra + (pgno - pg->ra_first) * pg->page_size,
			       pg->page_size);
		l->pgno = pgno;
	}
	if (l->buf[0] == (pg->rowid ? PAGE_TABLE_LEAF : PAGE_LEAF))
		l->hdr = 8;
	else if (l->buf[0] == (pg->rowid ? PAGE_TABLE_INTERIOR : PAGE_INTERIOR))
		l->hdr = 12;
	else
		return -1;
	l->leaf = l->hdr == 8;
	l->ncells = be16(l->buf + 3);
	l->i = 0;
	l->emit = false;
	if (l->hdr + 2 * (size_t)l->ncells > pg->usable)
		return -1;
	return 0;
}

/*
 * Cell i of l: its left child on an interior page; its record (none on a
 * rowid table's interior page: *n is 0); a rowid table's rowid. table is
 * pg->rowid, given apart so that a caller's loop is made once for each.
 */
static inline __attribute__((always_inline)) int
cell(const struct gpu_pages *pg, const struct level *l, unsigned i,
     uint32_t *child, const unsigned char **rec, size_t *n, int64_t *rowid,
     bool table)
{
	const unsigned char *p = cell_at(pg, l, i, child);
	const unsigned char *end = l->buf + pg->usable;
	uint64_t len, r;
	int w;

	if (p == NULL)
		return -1;
	if (table && !l->leaf) {
		if (varint(p, end, &r) == 0)
			return -1;
		*rowid = (int64_t)r;
		*rec = NULL;
		*n = 0;
		return 0;
	}
	w = varint(p, end, &len);
	if (w == 0)
		return -1;
	p += w;
	if (table) {
		if ((w = varint(p, end, &r)) == 0)
			return -1;
		*rowid = (int64_t)r;
		p += w;
	}
	/* A record that spills onto overflow pages is not read here. */
	if (len > pg->max_local || len > (uint64_t)(end - p))
		return -1;
	*rec = p;
	*n = (size_t)len;
	return 0;
}

/*
 * The rowid of cell i of a rowid table's page l (a divider on an interior
 * page), its record not looked at: a search passes over records that
 * spill onto overflow pages.
 */
static int
cell_rowid(const struct gpu_pages *pg, const struct level *l, unsigned i,
	   int64_t *rowid)
{
	uint32_t child;
	const unsigned char *p = cell_at(pg, l, i, &child);
	const unsigned char *end = l->buf + pg->usable;
	uint64_t v;
	int w;

	if (p == NULL)
		return -1;
	if (l->leaf) { /* past the record's length */
		if ((w = varint(p, end, &v)) == 0)
			return -1;
		p += w;
	}
	if (varint(p, end, &v) == 0)
		return -1;
	*rowid = (int64_t)v;
	return 0;
}

/* The first cell of l whose record's key is at least key[0..nkey). */
static int
lower_bound(const struct gpu_pages *pg, const struct level *l,
		const struct gpu_pval *key, size_t nkey, unsigned *at)
{
	unsigned a = 0, b = l->ncells;

	while (a < b) {
		unsigned mid = a + (b - a) / 2;
		const unsigned char *rec;
		size_t n;
		uint32_t child;
		int64_t rowid;
		int lt;

		if (pg->rowid) {
			if (cell_rowid(pg, l, mid, &rowid) != 0)
				return -1;
			lt = rowid < key[0].i; /* a divider: the child's last */
		} else if (cell(pg, l, mid, &child, &rec, &n, &rowid, false) !=
			       0 ||
			   (lt = below(rec, n, key, nkey)) < 0) {
			return -1;
		}
		if (lt)
			a = mid + 1;
		else
			b = mid;
	}
	*at = a;
	return 0;
}

int
gpu_pages_seek_key(struct gpu_pages *pg, const struct gpu_pval *key,
		   size_t nkey)
{
	uint64_t pgno = pg->root;
	const struct level *up = NULL; /* pgno's parent */
	unsigned next = 0;	       /* the parent's child after pgno */

	if (nkey == 0 || nkey > pg->nfields ||
	    (pg->rowid && (nkey != 1 || key[0].type != GPU_PV_INT)))
		return -1;
	pg->depth = 0;
	pg->loads = 0;
	for (;;) {
		struct level *l;
		unsigned at;
		uint32_t child = 0;

		if (pg->depth == MAXDEPTH)
			goto bad;
		l = &pg->lv[pg->depth++];
		if (load(pg, l, pgno, up, next) != 0 ||
		    lower_bound(pg, l, key, nkey, &at) != 0)
			goto bad;
		if (l->leaf) {
			l->i = at;
			return 0;
		}
		if (at < l->ncells) {
			const unsigned char *rec;
			size_t n;
			int64_t rowid;

			if (cell(pg, l, at, &child, &rec, &n, &rowid,
				 pg->rowid) != 0)
				goto bad;
		} else {
			child = be32(l->buf + 8);
		}
		l->i = at + 1;
		l->emit = !pg->rowid && at < l->ncells;
		pgno = child;
		up = l;
		next = l->i;
	}
bad:
	pg->depth = 0;
	return -1;
}

int
gpu_pages_seek(struct gpu_pages *pg, int64_t lo)
{
	struct gpu_pval key = {.type = GPU_PV_INT, .i = lo};

	return gpu_pages_seek_key(pg, &key, 1);
}

/*
 * gpu_pages_next_nums()' decoding of record rec into dst by map (see
 * there): gpu_pages_record() and the conversions of gpu_pval_int64() and
 * gpu_pval_double() in one pass, with no gpu_pval between. Inlined into
 * the scan: it runs once per rollup row.
 */
static inline __attribute__((always_inline)) int
record_nums(const unsigned char *rec, size_t n, const struct gpu_pnum *map,
	    size_t nfields, size_t need, unsigned char *dst)
{
	/*
	 * Per numeric serial type 0 to 9: the body's length, and how its
	 * value comes from the 8 bytes at the body read big-endian: shifted
	 * down with its sign by sh, masked (0 for the types without a
	 * body), or'ed with c (the 1 of type 9).
	 */
	static const struct {
		unsigned char len, sh;
		signed char mask;
		unsigned char c;
	} nt[10] = {{0, 0, 0, 0},  {1, 56, -1, 0}, {2, 48, -1, 0},
		    {3, 40, -1, 0}, {4, 32, -1, 0}, {6, 16, -1, 0},
		    {8, 0, -1, 0},  {8, 0, -1, 0},  {0, 0, 0, 0},
		    {0, 0, 0, 1}};
	const unsigned char *end = rec + n, *h, *hend, *b;
	uint64_t hsz;
	size_t f = 0;
	int w = varint(rec, end, &hsz);

	/*
	 * A number's type takes one byte: at most nfields of them (a long
	 * text's type takes more; such a record with as many bytes of types
	 * as fields is refused).
	 */
	if (w == 0 || hsz < (uint64_t)w || hsz > n ||
	    hsz - (uint64_t)w > nfields)
		return -1;
	h = rec + w;
	hend = rec + hsz;
	b = hend;
	for (; h < hend; f++) {
		unsigned t = *h++;
		uint64_t raw;
		int64_t i;
		double d;

		if (t >= 10) { /* text or a blob: passed over, if map says */
			uint64_t tt = t;

			if (t < 12 || map[f].kind != GPU_PN_SKIP)
				return -1;
			if (t >= 0x80 && (w = varint(h - 1, hend, &tt)) > 1)
				h += w - 1;
			else if (t >= 0x80)
				return -1;
			if (b > end || (tt - 12) / 2 > (uint64_t)(end - b))
				return -1;
			b += (tt - 12) / 2;
			continue;
		}
		/*
		 * No bound checked here: b runs at most 8 bytes a field past
		 * the record, into the page's buffer and its spare bytes
		 * (load()), and a record whose bodies overrun it is refused
		 * after the loop, dst then holding garbage.
		 */
		raw = load_be64(b);
		i = ((int64_t)raw >> nt[t].sh) & nt[t].mask;
		i |= nt[t].c;
		b += nt[t].len;
		switch (map[f].kind) {
		case GPU_PN_SKIP:
			break;
		case GPU_PN_KEY:
			if (t == 7 || t == 0)
				return -1;
			memcpy(dst + map[f].off, &i, sizeof(i));
			break;
		case GPU_PN_INT:
			if (t == 7) {
				struct gpu_pval x = {.type = GPU_PV_REAL};

				memcpy(&x.d, &raw, sizeof(x.d));
				(void)gpu_pval_int64(&x, &i);
			}
			memcpy(dst + map[f].off, &i, sizeof(i));
			break;
		default:
			if (t == 7)
				memcpy(&d, &raw, sizeof(d));
			else
				d = (double)i;
			memcpy(dst + map[f].off, &d, sizeof(d));
			break;
		}
	}
	if (b > end || f < need)
		return -1;
	for (; f < nfields; f++) { /* added after the record: NULL */
		if (map[f].kind == GPU_PN_KEY)
			return -1;
		if (map[f].kind != GPU_PN_SKIP)
			memset(dst + map[f].off, 0, sizeof(int64_t));
	}
	return 1;
}

/* take() for a rowid table or a limit (gpu_pages_limit()). */
static int
take_other(const struct gpu_pages *pg, const unsigned char *rec, size_t n,
	   int64_t rowid, struct gpu_pval *v)
{
	int f;

	if (pg->limit > 0) {
		if (key_prefix(rec, n, v, pg->limit) != 0)
			return -1;
	} else if ((f = gpu_pages_record(rec, n, v, pg->nfields)) < 0 ||
		   (size_t)f < pg->need) {
		return -1;
	}
	if (pg->rowid) {
		if (v[pg->ipk].type != GPU_PV_NULL)
			return -1;
		v[pg->ipk].type = GPU_PV_INT;
		v[pg->ipk].i = rowid;
	}
	return 1;
}

/*
 * Decode record rec into v, as gpu_pages_next() says; a rowid table's
 * INTEGER PRIMARY KEY, stored as NULL, is its rowid. Inlined whole for a
 * WITHOUT ROWID table's every field, the scans of millions of rows.
 */
static inline __attribute__((always_inline)) int
take(const struct gpu_pages *pg, const unsigned char *rec, size_t n,
     int64_t rowid, struct gpu_pval *v, bool table,
     const struct gpu_pnum *map, unsigned char *dst)
{
	int f;

	if (map != NULL)
		return record_nums(rec, n, map, pg->nfields, pg->need, dst);
	if (table || pg->limit > 0)
		return take_other(pg, rec, n, rowid, v);
	f = gpu_pages_record(rec, n, v, pg->nfields);
	return f < 0 || (size_t)f < pg->need ? -1 : 1;
}

/*
 * gpu_pages_next(), made once for each kind of tree (table: pg->rowid),
 * and gpu_pages_next_nums() (map not NULL).
 */
static inline __attribute__((always_inline)) int
next_in(struct gpu_pages *pg, struct gpu_pval *v, bool table,
	const struct gpu_pnum *map, unsigned char *dst)
{
	while (pg->depth > 0) {
		struct level *l = &pg->lv[pg->depth - 1];
		const unsigned char *rec;
		size_t n;
		uint32_t child = 0;
		int64_t rowid = 0;

		if (l->leaf) {
			if (l->i < l->ncells) {
				if (cell(pg, l, l->i++, &child, &rec, &n,
					 &rowid, table) != 0)
					goto bad;
				return take(pg, rec, n, rowid, v, table, map,
					    dst);
			}
			pg->depth--;
			continue;
		}
		if (l->emit) {
			l->emit = false;
			if (cell(pg, l, l->i - 1, &child, &rec, &n, &rowid,
				 table) != 0)
				goto bad;
			return take(pg, rec, n, rowid, v, table, map, dst);
		}
		if (l->i > l->ncells) {
			pg->depth--;
			continue;
		}
		if (l->i < l->ncells) {
			if (cell(pg, l, l->i, &child, &rec, &n, &rowid,
				 table) != 0)
				goto bad;
		} else {
			child = be32(l->buf + 8);
		}
		l->emit = !table && l->i < l->ncells;
		l->i++;
		if (pg->depth == MAXDEPTH ||
		    load(pg, &pg->lv[pg->depth], child, l, l->i) != 0)
			goto bad;
		pg->depth++;
	}
	return 0;
bad:
	pg->depth = 0;
	return -1;
}

int
gpu_pages_next(struct gpu_pages *pg, struct gpu_pval *v)
{
	return pg->rowid ? next_in(pg, v, true, NULL, NULL)
			 : next_in(pg, v, false, NULL, NULL);
}

int
gpu_pages_next_nums(struct gpu_pages *pg, const struct gpu_pnum *map,
		    void *dst)
{
	if (pg->rowid || pg->limit > 0)
		return -1;
	return next_in(pg, NULL, false, map, dst);
}

int
gpu_pages_field(const struct gpu_pages *pg, const char *column)
{
	size_t i;

	for (i = 0; i < pg->nfields; i++)
		if (strcmp(pg->names[i], column) == 0)
			return (int)i;
	return -1;
}

size_t
gpu_pages_nfields(const struct gpu_pages *pg)
{
	return pg->nfields;
}

int
gpu_pages_limit(struct gpu_pages *pg, size_t n)
{
	if (n == 0 || n > pg->nfields || (pg->rowid && n <= pg->ipk))
		return -1;
	pg->limit = n;
	return 0;
}

void
gpu_pages_close(struct gpu_pages *pg)
{
	size_t i;

	if (pg == NULL)
		return;
	for (i = 0; i < MAXDEPTH; i++)
		free(pg->lv[i].buf);
	free(pg->ra);
	for (i = 0; i < pg->nfields; i++)
		free(pg->names[i]);
	free(pg->names);
	free(pg);
}

/* Cursors opened (gpu_pages_opened()). */
static _Atomic unsigned long opened;

unsigned long
gpu_pages_reads(const struct gpu_pages *pg)
{
	return pg->reads;
}

unsigned long
gpu_pages_opened(void)
{
	return opened;
}

bool
gpu_pages_allowed(void)
{
	return !gpu_env_off("GPUUSAGE_PAGES");
}

/* One integer a query gives, or -1. */
static sqlite3_int64
query_int(sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	sqlite3_int64 v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) == SQLITE_INTEGER)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * The table's columns with a default (dflt[cid]) and the generated ones
 * (hidden[cid]), read once: a join of the two pragmas would read the
 * table's columns again for every column of the index. Returns 0, or -1
 * with *why set.
 */
static int
column_flags(sqlite3 *db, const char *table, bool *dflt, bool *hidden,
	     const char **why)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT cid, dflt_value IS NOT NULL, hidden"
			       " FROM pragma_table_xinfo(?1)",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 cid = sqlite3_column_int64(st, 0);

		if (cid < 0 || cid >= GPU_PAGES_MAXFIELDS) {
			*why = "columns this reader does not take";
			rc = SQLITE_ERROR;
			break;
		}
		dflt[cid] = sqlite3_column_int(st, 1) != 0;
		hidden[cid] = sqlite3_column_int(st, 2) != 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * A rowid table's record: its columns in declared order, one of them an
 * INTEGER PRIMARY KEY (the rowid's other name, which the record holds as
 * NULL). For a table without a primary key index of its own (a rowid
 * table's other keys have one, as every WITHOUT ROWID table does).
 * Returns 0, or -1 with *why set.
 */
static int
layout_rowid(struct gpu_pages *pg, sqlite3 *db, const char *table,
	     const char **why)
{
	bool dflt[GPU_PAGES_MAXFIELDS] = {false};
	bool hidden[GPU_PAGES_MAXFIELDS] = {false};
	sqlite3_stmt *st;
	size_t last_dflt = 0, npk = 0;
	int rc;

	*why = "no such table";
	if (column_flags(db, table, dflt, hidden, why) != 0 ||
	    sqlite3_prepare_v2(db,
			       "SELECT cid, name, upper(type) = 'INTEGER', pk"
			       " FROM pragma_table_xinfo(?1) ORDER BY cid",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	pg->names = gpu_xcalloc(GPU_PAGES_MAXFIELDS, sizeof(*pg->names));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(st, 1);
		sqlite3_int64 cid = sqlite3_column_int64(st, 0);

		if (pg->nfields == GPU_PAGES_MAXFIELDS || name == NULL ||
		    cid != (sqlite3_int64)pg->nfields || hidden[cid]) {
			*why = "columns this reader does not take";
			rc = SQLITE_ERROR;
			break;
		}
		if (sqlite3_column_int(st, 3) != 0) {
			npk++;
			pg->ipk = pg->nfields;
			if (sqlite3_column_int(st, 2) == 0)
				npk++; /* not the rowid: refused below */
		}
		if (dflt[cid])
			last_dflt = pg->nfields + 1;
		pg->names[pg->nfields++] = gpu_xstrdup((const char *)name);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || pg->nfields == 0)
		return -1;
	/* No key, or a key of another kind (INTEGER only names the rowid). */
	if (npk != 1) {
		*why = "a rowid table without an INTEGER PRIMARY KEY";
		return -1;
	}
	pg->rowid = true;
	pg->need = pg->ipk + 1 > last_dflt ? pg->ipk + 1 : last_dflt;
	return 0;
}

/*
 * The record's fields: the primary key index's columns in its order (for
 * a WITHOUT ROWID table, every stored column: the key's, then the rest);
 * a rowid table's as layout_rowid() says. Returns 0, or -1 with *why set.
 */
static int
layout(struct gpu_pages *pg, sqlite3 *db, const char *table, const char **why)
{
	bool dflt[GPU_PAGES_MAXFIELDS] = {false};
	bool hidden[GPU_PAGES_MAXFIELDS] = {false};
	sqlite3_stmt *st;
	char *pk = NULL;
	int rc;
	size_t last_dflt = 0, nkey = 0;

	*why = "no such table";
	if (sqlite3_prepare_v2(db,
			       "SELECT name FROM pragma_index_list(?1)"
			       " WHERE origin = 'pk'",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		pk = gpu_xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (pk == NULL)
		return layout_rowid(pg, db, table, why);
	if (column_flags(db, table, dflt, hidden, why) != 0 ||
	    sqlite3_prepare_v2(db,
			       "SELECT seqno, name, desc, key, cid"
			       " FROM pragma_index_xinfo(?1) ORDER BY seqno",
			       -1, &st, NULL) != SQLITE_OK) {
		free(pk);
		return -1;
	}
	sqlite3_bind_text(st, 1, pk, -1, SQLITE_STATIC);
	pg->names = gpu_xcalloc(GPU_PAGES_MAXFIELDS, sizeof(*pg->names));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(st, 1);
		sqlite3_int64 cid = sqlite3_column_int64(st, 4);

		/* The rowid in the key's index: a rowid table's own key. */
		if (cid == -1) {
			*why = "a rowid table without an INTEGER PRIMARY KEY";
			rc = SQLITE_ERROR;
			break;
		}
		if (pg->nfields == GPU_PAGES_MAXFIELDS || name == NULL ||
		    sqlite3_column_int64(st, 0) != (sqlite3_int64)pg->nfields ||
		    cid < 0 || cid >= GPU_PAGES_MAXFIELDS || hidden[cid]) {
			*why = "columns this reader does not take";
			rc = SQLITE_ERROR;
			break;
		}
		/* Ascending keys: a seek assumes them. */
		if (sqlite3_column_int(st, 2) != 0) {
			*why = "a descending key";
			rc = SQLITE_ERROR;
			break;
		}
		if (sqlite3_column_int(st, 3) != 0)
			nkey = pg->nfields + 1;
		if (dflt[cid])
			last_dflt = pg->nfields + 1;
		pg->names[pg->nfields++] = gpu_xstrdup((const char *)name);
	}
	sqlite3_finalize(st);
	free(pk);
	if (rc != SQLITE_DONE || pg->nfields == 0)
		return -1;
	/*
	 * A record written before a column was added lacks it, which then
	 * reads as its default: only NULL defaults are filled in here.
	 */
	pg->need = nkey > last_dflt ? nkey : last_dflt;
	return 0;
}

/*
 * Whether the read transaction's snapshot is the database file alone: in
 * WAL mode, whether every frame of the WAL has been copied into the file
 * (the wal-index header's mxFrame, at byte 16, equals the checkpoint's
 * nBackfill, at byte 96: SQLite's documented WAL-index format). While
 * this transaction lasts, no checkpoint copies a frame past its snapshot,
 * so when the two are equal now the file holds the snapshot, and keeps
 * it until the transaction ends.
 */
static bool
file_is_snapshot(sqlite3 *db, sqlite3_file *f, const char **why)
{
	volatile void *shm = NULL;
	unsigned char h[136];
	uint32_t mx, nb;
	size_t i;
	int wal;
	const char *path = sqlite3_db_filename(db, "main");
	struct stat sb;

	/*
	 * An immutable file (a reader's warehouse in a folder it cannot
	 * write, gpu/db.h) has no WAL index: read it only without a WAL.
	 */
	if (path != NULL && sqlite3_uri_boolean(path, "immutable", 0)) {
		const char *w = sqlite3_filename_wal(path);

		*why = "an immutable file beside a WAL";
		return w != NULL && (stat(w, &sb) != 0 || sb.st_size == 0);
	}
	wal = (int)query_int(
	    db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode", NULL);
	if (wal == 0)
		return true;
	*why = "frames in the WAL not yet in the database file";
	/* In exclusive mode the wal-index lives in the heap, not here. */
	if (wal < 0 ||
	    query_int(db,
		      "SELECT locking_mode = 'normal' FROM pragma_locking_mode",
		      NULL) != 1 ||
	    f->pMethods->iVersion < 2 || f->pMethods->xShmMap == NULL ||
	    f->pMethods->xShmMap(f, 0, 32768, 0, &shm) != SQLITE_OK ||
	    shm == NULL)
		return false;
	for (i = 0; i < sizeof(h); i++)
		h[i] = ((const volatile unsigned char *)shm)[i];
	/* The header's two copies differ while a writer changes it. */
	if (memcmp(h, h + 48, 48) != 0)
		return false;
	memcpy(&mx, h + 16, sizeof(mx));
	memcpy(&nb, h + 96, sizeof(nb));
	return mx == nb;
}

struct gpu_pages *
gpu_pages_open(sqlite3 *db, const char *table, const char **why)
{
	struct gpu_pages *pg;
	const char *dummy;
	unsigned char hdr[100];
	sqlite3_int64 size = 0, psz, root;

	if (why == NULL)
		why = &dummy;
	*why = "GPUUSAGE_PAGES=0";
	if (!gpu_pages_allowed())
		return NULL;
	/*
	 * A read transaction, begun if need be; never a write transaction,
	 * whose changes are in the connection's cache, not in the file.
	 */
	*why = "not in a read transaction";
	if (sqlite3_get_autocommit(db) ||
	    sqlite3_txn_state(db, "main") == SQLITE_TXN_WRITE ||
	    sqlite3_exec(db, "SELECT 1 FROM sqlite_schema LIMIT 1", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    sqlite3_txn_state(db, "main") != SQLITE_TXN_READ)
		return NULL;
	pg = gpu_xcalloc(1, sizeof(*pg));
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER,
				 &pg->f) != SQLITE_OK ||
	    pg->f == NULL || pg->f->pMethods == NULL) {
		*why = "no database file";
		goto fail;
	}
	if (!file_is_snapshot(db, pg->f, why) ||
	    layout(pg, db, table, why) != 0)
		goto fail;
	*why = "not a database this reader takes";
	root = query_int(db,
			 "SELECT rootpage FROM sqlite_schema WHERE type ="
			 " 'table' AND name = ?1",
			 table);
	psz = query_int(db, "PRAGMA page_size", NULL);
	if (root < 2 || psz < 512 || psz > 65536 ||
	    query_int(db, "SELECT encoding = 'UTF-8' FROM pragma_encoding",
		      NULL) != 1)
		goto fail;
	if (pg->f->pMethods->xRead(pg->f, hdr, sizeof(hdr), 0) != SQLITE_OK ||
	    pg->f->pMethods->xFileSize(pg->f, &size) != SQLITE_OK ||
	    (hdr[16] << 8 | hdr[17]) != (psz == 65536 ? 1 : psz))
		goto fail;
	pg->root = (uint32_t)root;
	pg->page_size = (uint32_t)psz;
	pg->usable = pg->page_size - hdr[20];
	if (pg->usable < 480)
		goto fail;
	/* A leaf of a table b-tree keeps more of a record than an index's. */
	pg->max_local = pg->rowid ? pg->usable - 35
				  : (pg->usable - 12) * 64 / 255 - 23;
	pg->npages = (uint64_t)size / pg->page_size;
	pg->ra_max = RA_BYTES / pg->page_size;
	/* A seek and a scan read each page at most once, plus the descent. */
	pg->max_loads = pg->npages + MAXDEPTH;
	/* Each level's page buffer is allocated when first used. */
	if (gpu_pages_seek(pg, INT64_MIN) != 0)
		goto fail;
	opened++;
	return pg;
fail:
	gpu_pages_close(pg);
	return NULL;
}
