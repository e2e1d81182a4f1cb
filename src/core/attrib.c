/* SPDX-License-Identifier: MIT */
/* Attribution segments: which allocation holds a GPU at each instant. */
#include "gpu/attrib.h"

#include <stdlib.h>
#include <string.h>

#include "gpu/diag.h"

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* gpu_job_id_cmp() but for ties between equal numbers ("007", "7"). */
static int
natural_cmp(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		size_t na = 0, nb = 0;
		int c;

		if (!is_digit(*a) || !is_digit(*b)) {
			if (*a != *b)
				return (unsigned char)*a - (unsigned char)*b;
			a++;
			b++;
			continue;
		}
		/* Two digit runs: the longer one without zeros is larger. */
		while (*a == '0' && is_digit(a[1]))
			a++;
		while (*b == '0' && is_digit(b[1]))
			b++;
		while (is_digit(a[na]))
			na++;
		while (is_digit(b[nb]))
			nb++;
		if (na != nb)
			return na < nb ? -1 : 1;
		c = memcmp(a, b, na);
		if (c != 0)
			return c;
		a += na;
		b += nb;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int
gpu_job_id_cmp(const char *a, const char *b)
{
	int c = natural_cmp(a, b);

	return c != 0 ? c : strcmp(a, b);
}

static int
span_cmp(const void *pa, const void *pb)
{
	const struct gpu_span *a = pa, *b = pb;
	int c;

	if (a->start_ms != b->start_ms)
		return a->start_ms < b->start_ms ? -1 : 1;
	c = gpu_job_id_cmp(a->job_id, b->job_id);
	if (c != 0)
		return c;
	return (a->job_key > b->job_key) - (a->job_key < b->job_key);
}

static int
i64_cmp(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

	return (a > b) - (a < b);
}

/* Append [lo, hi) held by job, merged with the previous segment if equal. */
static void
emit(struct gpu_segs *s, size_t *cap, int64_t lo, int64_t hi, int64_t job,
     bool overlap)
{
	struct gpu_seg *last = s->n > 0 ? &s->v[s->n - 1] : NULL;

	if (last != NULL && last->hi == lo && last->job_key == job &&
	    last->overlap == overlap) {
		last->hi = hi;
		return;
	}
	if (s->n == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		s->v = gpu_xreallocarray(s->v, *cap, sizeof(*s->v));
	}
	s->v[s->n++] = (struct gpu_seg){lo, hi, job, overlap};
}

void
gpu_segs_build(struct gpu_span *spans, size_t n, struct gpu_segs *out)
{
	int64_t *pts;
	size_t *active, nact = 0, npts = 0, next = 0, cap = 0, m = 0;

	gpu_segs_release(out);
	/* Drop empty spans, then sort by start and job ID. */
	for (size_t i = 0; i < n; i++)
		if (spans[i].end_ms > spans[i].start_ms)
			spans[m++] = spans[i];
	if (m == 0)
		return;
	qsort(spans, m, sizeof(*spans), span_cmp);
	pts = gpu_xreallocarray(NULL, 2 * m, sizeof(*pts));
	active = gpu_xreallocarray(NULL, m, sizeof(*active));
	for (size_t i = 0; i < m; i++) {
		pts[npts++] = spans[i].start_ms;
		pts[npts++] = spans[i].end_ms;
	}
	qsort(pts, npts, sizeof(*pts), i64_cmp);
	for (size_t i = 0; i + 1 < npts; i++) {
		int64_t lo = pts[i], hi = pts[i + 1];
		size_t k = 0;

		if (lo == hi)
			continue;
		/* Active spans stay in start order: the first one holds. */
		for (size_t j = 0; j < nact; j++)
			if (spans[active[j]].end_ms > lo)
				active[k++] = active[j];
		nact = k;
		while (next < m && spans[next].start_ms <= lo)
			active[nact++] = next++;
		if (nact > 0)
			emit(out, &cap, lo, hi, spans[active[0]].job_key,
			     nact > 1);
	}
	free(active);
	free(pts);
}

void
gpu_segs_release(struct gpu_segs *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

const struct gpu_seg *
gpu_segs_find(const struct gpu_segs *s, int64_t t, size_t *hint)
{
	size_t lo = 0, hi = s->n;

	if (s->n == 0)
		return NULL;
	/* Samples come in time order: try the last segment and the next. */
	for (size_t i = *hint; i < s->n && i < *hint + 2; i++)
		if (s->v[i].lo <= t && t < s->v[i].hi) {
			*hint = i;
			return &s->v[i];
		}
	/* The first segment with lo > t; the one before it may hold t. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].lo <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || t >= s->v[lo - 1].hi)
		return NULL;
	*hint = lo - 1;
	return &s->v[lo - 1];
}
