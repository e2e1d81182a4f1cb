/* SPDX-License-Identifier: MIT */
/* gpuexport: snapshot expiry, as Iceberg's expire_snapshots does it. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuexport.h"

/*
 * The index of the first version kept: the first of the oldest snapshot
 * kept, which is newer than expire_ms or among the last retain_last (the
 * current one always). A snapshot's time is that of its first version (a
 * later one that repeats it, an expiry's, only rewrote the metadata). The
 * versions form one line of history, so what is kept is a suffix of it.
 * Returns 0 when nothing expires.
 */
static size_t
first_kept(const struct exp_state *s, int64_t expire_ms, size_t retain_last)
{
	size_t *start = gpu_xcalloc(s->nversions + 1, sizeof(*start));
	size_t i, n = 0, k, first;

	for (i = 0; i < s->nversions; i++)
		if (s->versions[i].snapshot != 0 &&
		    (n == 0 || s->versions[i].snapshot !=
				   s->versions[start[n - 1]].snapshot))
			start[n++] = i;
	if (n == 0) {
		free(start);
		return 0;
	}
	k = n > retain_last ? n - retain_last : 0;
	for (i = 0; i < k; i++)
		if (s->versions[start[i]].ts_ms >= expire_ms)
			break;
	k = i < k ? i : k;
	if (k > n - 1)
		k = n - 1;
	/* No snapshot expires: the metadata stays as it is. */
	first = k > 0 ? start[k] : 0;
	free(start);
	return first;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
exp_expire_table(sqlite3 *db, const struct exp_opts *o,
		 const struct exp_table *t, size_t *expired,
		 struct gpu_err *err)
{
	struct exp_state s;
	struct exp_change c;
	struct gpu_buf dir, meta, text;
	const struct exp_version *cur;
	size_t first, i;
	int rc = -1;

	*expired = 0;
	memset(&s, 0, sizeof(s));
	gpu_buf_init(&dir);
	gpu_buf_init(&meta);
	gpu_buf_init(&text);
	gpu_buf_addf(&dir, "%s/%s", o->lake, t->name);
	if (exp_state_recover(db, o->lake, dir.data, t, o->verbose, err) < 0 ||
	    exp_state_collect(db, o->lake, t, err) != 0 ||
	    exp_state_load(db, o->lake, t, &s, err) != 0)
		goto out;
	first =
	    s.nversions > 0 ? first_kept(&s, o->expire_ms, o->retain_last) : 0;
	if (first == 0) {
		rc = 0;
		goto out;
	}
	for (i = 0; i < first; i++)
		if (s.versions[i].snapshot != 0 &&
		    (i == 0 ||
		     s.versions[i].snapshot != s.versions[i - 1].snapshot))
			(*expired)++;
	/*
	 * A version of its own that repeats the current snapshot: the
	 * metadata without the expired snapshots, their log entries and
	 * metadata files.
	 */
	cur = &s.versions[s.nversions - 1];
	memset(&c, 0, sizeof(c));
	c.v = *cur;
	c.v.version = cur->version + 1;
	c.v.ts_ms = now_ms();
	gpu_buf_addf(&meta, "%s/metadata/v%d.metadata.json", s.location,
		     c.v.version);
	c.v.metadata_file = meta.data;
	exp_render(t, &s, first, &c.v, &text);
	/* Both steps below run again in the next run if killed between. */
	rc = exp_commit(db, o->lake, dir.data, t, &s, &c, &text, err);
	if (rc == 0)
		rc = exp_state_expire(db, o->lake, t, s.versions[first].version,
				      err);
	if (rc == 0)
		rc = exp_state_collect(db, o->lake, t, err);
	if (rc > 0)
		rc = -1;
out:
	exp_state_free(&s);
	gpu_buf_release(&dir);
	gpu_buf_release(&meta);
	gpu_buf_release(&text);
	return rc;
}
