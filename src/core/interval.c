/* SPDX-License-Identifier: MIT */
/* Sample intervals inferred from an input's series (SPEC.md 1.2). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/diag.h"
#include "gpu/hashmap.h"
#include "gpu/interval.h"
#include "gpu/readahead.h"

/* Gaps above GPU_INTERVAL_MAX share one count: they clamp alike. */
#define NGAPS (GPU_INTERVAL_MAX + 2)

struct gap {
	int secs;
	int64_t n;
};

struct series {
	int64_t last_ms;
	struct gap *gaps; /* the distinct gaps seen, unordered */
	size_t ngaps;
	int secs; /* after gpu_interval_finish() */
};

struct gpu_interval {
	struct gpu_hashmap keys; /* node, NUL, gpu, mig: index into series */
	struct series *series;
	size_t cap;
	int64_t *all; /* NGAPS counts over every series */
	int secs;     /* the input's */
};

struct gpu_interval *
gpu_interval_new(void)
{
	struct gpu_interval *iv = gpu_xcalloc(1, sizeof(*iv));

	gpu_hashmap_init(&iv->keys);
	iv->all = gpu_xcalloc(NGAPS, sizeof(*iv->all));
	iv->secs = GPU_INTERVAL_NONE;
	return iv;
}

void
gpu_interval_free(struct gpu_interval *iv)
{
	if (iv == NULL)
		return;
	for (size_t i = 0; i < gpu_hashmap_count(&iv->keys); i++)
		free(iv->series[i].gaps);
	free(iv->series);
	free(iv->all);
	gpu_hashmap_release(&iv->keys);
	free(iv);
}

/* The series of s, added when new (*added). */
static struct series *
find(struct gpu_interval *iv, const struct gpu_sample *s, bool add, bool *added)
{
	char key[160];
	size_t len = s->node.len < 128 ? s->node.len : 128, i;
	int32_t gpu = s->gpu, mig = s->has_mig ? s->mig : -1;

	memcpy(key, s->node.p, len);
	key[len++] = '\0';
	memcpy(key + len, &gpu, sizeof(gpu));
	len += sizeof(gpu);
	memcpy(key + len, &mig, sizeof(mig));
	len += sizeof(mig);
	if (!add) {
		i = gpu_hashmap_find(&iv->keys, key, len);
		return i == GPU_HASHMAP_NONE ? NULL : &iv->series[i];
	}
	i = gpu_hashmap_put(&iv->keys, key, len, added);
	if (*added) {
		if (i >= iv->cap) {
			iv->cap = iv->cap == 0 ? 16 : iv->cap * 2;
			iv->series = gpu_xreallocarray(iv->series, iv->cap,
						       sizeof(*iv->series));
		}
		memset(&iv->series[i], 0, sizeof(iv->series[i]));
	}
	return &iv->series[i];
}

void
gpu_interval_add(struct gpu_interval *iv, const struct gpu_sample *s)
{
	bool added;
	struct series *se = find(iv, s, true, &added);
	int64_t d, whole;
	int secs;
	size_t k;

	if (added) {
		se->last_ms = s->ts_ms;
		return;
	}
	d = s->ts_ms - se->last_ms;
	if (d < 0)
		d = -d;
	if (d < 500)
		return; /* a duplicate: 0 s is no interval */
	se->last_ms = s->ts_ms;
	whole = (d + 500) / 1000;
	secs = whole > GPU_INTERVAL_MAX ? GPU_INTERVAL_MAX + 1 : (int)whole;
	iv->all[secs]++;
	for (k = 0; k < se->ngaps && se->gaps[k].secs != secs; k++)
		;
	if (k == se->ngaps) {
		se->gaps = gpu_xreallocarray(se->gaps, se->ngaps + 1,
					     sizeof(*se->gaps));
		se->gaps[se->ngaps++] = (struct gap){secs, 0};
	}
	se->gaps[k].n++;
}

static int
clamp(int secs)
{
	return secs > GPU_INTERVAL_MAX ? GPU_INTERVAL_MAX : secs;
}

void
gpu_interval_finish(struct gpu_interval *iv)
{
	int64_t best = 0;

	for (int secs = 1; secs < NGAPS; secs++)
		if (iv->all[secs] > best) {
			best = iv->all[secs];
			iv->secs = clamp(secs);
		}
	for (size_t i = 0; i < gpu_hashmap_count(&iv->keys); i++) {
		struct series *se = &iv->series[i];
		struct gap g = {0, 0};

		for (size_t k = 0; k < se->ngaps; k++)
			if (se->gaps[k].n > g.n ||
			    (se->gaps[k].n == g.n && se->gaps[k].secs < g.secs))
				g = se->gaps[k];
		se->secs = g.n > 0 ? clamp(g.secs) : iv->secs;
	}
}

int
gpu_interval_of(struct gpu_interval *iv, const struct gpu_sample *s)
{
	const struct series *se = find(iv, s, false, NULL);

	return se != NULL ? se->secs : iv->secs;
}

struct gpu_interval *
gpu_interval_scan(FILE *fp, const char *source,
		  const struct gpu_reader_opts *opts, struct gpu_tz *tz,
		  int threads, long piece_lines)
{
	struct gpu_interval *iv = gpu_interval_new();
	struct gpu_readahead *ra = NULL;
	struct gpu_reader *rd;
	struct gpu_sample s;
	struct gpu_reject rej;
	struct gpu_err err = {0};
	off_t start = ftello(fp);
	long long off;
	long line;
	int rc;

	if (gpu_reader_open(fp, source, opts, &rd, &err) == 0) {
		gpu_reader_set_tz(rd, tz);
		/*
		 * Parsing is most of the pass: on other threads when the
		 * input can be cut. A single thread beside this one would
		 * cost more in handing rows over than it takes off here.
		 */
		if (threads == 0)
			threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
		if (threads > 1 && gpu_reader_splittable(rd))
			ra = gpu_readahead_start_split(rd, fp, start, source,
						       opts, threads,
						       piece_lines);
		while ((rc = ra != NULL ? gpu_readahead_next(ra, &s, &line,
							     &rej, &off, &err)
					: gpu_reader_next(rd, &s, &line, &rej,
							  &err)) > 0)
			if (rc == GPU_READ_SAMPLE)
				gpu_interval_add(iv, &s);
		gpu_readahead_stop(ra);
		gpu_reader_free(rd);
	}
	gpu_interval_finish(iv);
	return iv;
}
