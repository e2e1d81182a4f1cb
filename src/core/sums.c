/* SPDX-License-Identifier: MIT */
/* The additive sums of a group, and the metrics derived from them. */
#include "gpu/sums.h"

#include <string.h>

#include "gpu/buf.h"

#define INIT_(name, ctype, sqltype, merge, empty) s->name = (empty);

void
gpu_sums_init(struct gpu_sums *s)
{
	GPU_SUMS(INIT_)
}

void
gpu_sums_add(struct gpu_sums *s, const struct gpu_sample *smp, int interval_s,
	     int64_t threshold_mib)
{
	int64_t d = smp->interval_s > 0 ? smp->interval_s : interval_s;
	int64_t used = smp->mem_used_mib;
	int64_t dw = d * (smp->share28 > 0 ? smp->share28 : GPU_SHARE_WHOLE);
	double util = smp->util_pct;

	s->samples++;
	s->gpu_seconds += d;
	s->gpu_w += dw;
	s->busy += (double)d * util;
	s->busy_w += (double)dw * util;
	if (smp->job_id.len > 0) {
		s->alloc_seconds += d;
		s->alloc_w += dw;
		s->alloc_busy += (double)d * util;
		s->alloc_busy_w += (double)dw * util;
		if (used > threshold_mib)
			s->overage += d * (used - threshold_mib);
	}
	if (gpu_usage_category(util) == GPU_CAT_IDLE) {
		s->idle_seconds += d;
		s->idle_w += dw;
		if (smp->job_id.len > 0) {
			s->alloc_idle_seconds += d;
			s->alloc_idle_w += dw;
		}
	}
	s->mem_used_s += d * used;
	if (used > s->max_mem)
		s->max_mem = used;
	if (smp->has_mem_total && smp->mem_total_mib > 0) {
		s->mem_util_s += (double)d * ((double)used * 100.0 /
					      (double)smp->mem_total_mib);
		s->mem_util_seconds += d;
	}
	if (smp->has_power) {
		s->power_s += (double)d * smp->power_w;
		s->power_seconds += d;
	}
	if (smp->ts_ms > s->last_ms)
		s->last_ms = smp->ts_ms;
}

#define W ((double)GPU_SHARE_WHOLE)

/* Does a weighted sum count whole GPUs only (plain seconds times 28)? */
static bool
whole(int64_t w, int64_t seconds)
{
	return w == seconds * GPU_SHARE_WHOLE;
}

#define MERGE_SUM_(into, from) (into) += (from)
#define MERGE_MAX_(into, from)                                                 \
	if ((from) > (into))                                                   \
	(into) = (from)
#define MERGE_(name, ctype, sqltype, merge, empty)                             \
	MERGE_##merge##_(into->name, from->name);

void
gpu_sums_merge(struct gpu_sums *into, const struct gpu_sums *from)
{
	GPU_SUMS(MERGE_)
}

#define NAME_(id, name) [id] = name,

static const char *const metric_names[GPU_M_COUNT] = {GPU_METRICS(NAME_)};

const char *
gpu_metric_name(enum gpu_metric m)
{
	if ((unsigned)m >= GPU_M_COUNT)
		return "?";
	return metric_names[m];
}

static void
list_names(struct gpu_buf *b, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			gpu_buf_adds(b, ", ");
		gpu_buf_adds(b, names[i]);
	}
}

static int
bad_name(struct gpu_err *err, const char *what, const char *p, size_t len,
	 const char *const *names, size_t n)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	list_names(&b, names, n);
	gpu_err_set(err, "unknown %s '%.*s' (valid: %s)", what,
		    (int)(len > 128 ? 128 : len), p, b.data);
	gpu_buf_release(&b);
	return -1;
}

static int
find_name(const char *p, size_t len, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], p, len) == 0)
			return (int)i;
	return -1;
}

int
gpu_metric_parse(const char *name, enum gpu_metric *m, struct gpu_err *err)
{
	int i = find_name(name, strlen(name), metric_names, GPU_M_COUNT);

	if (i < 0)
		return bad_name(err, "metric", name, strlen(name), metric_names,
				GPU_M_COUNT);
	*m = (enum gpu_metric)i;
	return 0;
}

int
gpu_names_parse(const char *list, const char *what, const char *const *valid,
		size_t n, unsigned *mask, struct gpu_err *err)
{
	const char *p = list;

	*mask = 0;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
		int i = find_name(p, len, valid, n);

		if (i < 0)
			return bad_name(err, what, p, len, valid, n);
		*mask |= 1u << i;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

int
gpu_metrics_parse(const char *list, unsigned *mask, struct gpu_err *err)
{
	return gpu_names_parse(list, "metric", metric_names, GPU_M_COUNT, mask,
			       err);
}

/* gpu_metric_value(), inlined into gpu_metric_values()' loop. */
static inline __attribute__((always_inline)) void
metric_value(const struct gpu_sums *s, enum gpu_metric m, struct gpu_value *v)
{
	double num = 0, den = 1;

	v->kind = GPU_VAL_DOUBLE;
	v->i = 0;
	switch (m) {
	case GPU_M_SAMPLES:
		v->kind = GPU_VAL_INT;
		v->i = s->samples;
		return;
	case GPU_M_GPU_SECONDS:
		v->kind = GPU_VAL_INT;
		v->i = s->gpu_seconds;
		return;
	case GPU_M_ALLOC_GPU_SECONDS:
		v->kind = GPU_VAL_INT;
		v->i = s->alloc_seconds;
		return;
	case GPU_M_MAX_MEM_USED_MIB:
		v->kind = s->max_mem < 0 ? GPU_VAL_NULL : GPU_VAL_INT;
		v->i = s->max_mem;
		return;
	case GPU_M_MEM_OVERAGE_MIB_SECONDS:
		v->kind = GPU_VAL_INT;
		v->i = s->overage;
		return;
	/*
	 * GPU-hours count a MIG slice at its share. A group of whole GPUs
	 * only (its weighted sum is 28 times the plain one) takes the plain
	 * sums, which give the same figures with one rounding less.
	 */
	case GPU_M_GPU_HOURS:
		if (whole(s->gpu_w, s->gpu_seconds))
			num = (double)s->gpu_seconds, den = 3600;
		else
			num = (double)s->gpu_w, den = 3600 * W;
		break;
	case GPU_M_ALLOC_GPU_HOURS:
		if (whole(s->alloc_w, s->alloc_seconds))
			num = (double)s->alloc_seconds, den = 3600;
		else
			num = (double)s->alloc_w, den = 3600 * W;
		break;
	case GPU_M_BUSY_GPU_HOURS:
		if (whole(s->gpu_w, s->gpu_seconds))
			num = s->busy, den = 360000;
		else
			num = s->busy_w, den = 360000 * W;
		break;
	case GPU_M_AVG_UTIL_PCT:
		if (whole(s->gpu_w, s->gpu_seconds))
			num = s->busy, den = (double)s->gpu_seconds;
		else
			num = s->busy_w, den = (double)s->gpu_w;
		break;
	case GPU_M_ALLOC_UTIL_PCT:
		if (whole(s->alloc_w, s->alloc_seconds))
			num = s->alloc_busy, den = (double)s->alloc_seconds;
		else
			num = s->alloc_busy_w, den = (double)s->alloc_w;
		break;
	case GPU_M_IDLE_GPU_HOURS:
		if (whole(s->idle_w, s->idle_seconds))
			num = (double)s->idle_seconds, den = 3600;
		else
			num = (double)s->idle_w, den = 3600 * W;
		break;
	case GPU_M_ALLOC_IDLE_GPU_HOURS:
		if (whole(s->alloc_idle_w, s->alloc_idle_seconds))
			num = (double)s->alloc_idle_seconds, den = 3600;
		else
			num = (double)s->alloc_idle_w, den = 3600 * W;
		break;
	case GPU_M_AVG_MEM_USED_MIB:
		num = (double)s->mem_used_s, den = (double)s->gpu_seconds;
		break;
	case GPU_M_AVG_MEM_UTIL_PCT:
		num = s->mem_util_s, den = (double)s->mem_util_seconds;
		break;
	case GPU_M_AVG_POWER_W:
		num = s->power_s, den = (double)s->power_seconds;
		break;
	case GPU_M_ENERGY_KWH:
		num = s->power_s, den = 3.6e6;
		break;
	case GPU_M_COUNT:
		break;
	}
	if (den == 0) {
		v->kind = GPU_VAL_NULL;
		v->d = 0;
		return;
	}
	v->d = num / den;
}

void
gpu_metric_value(const struct gpu_sums *s, enum gpu_metric m,
		 struct gpu_value *v)
{
	metric_value(s, m, v);
}

size_t
gpu_metric_values(const struct gpu_sums *s, unsigned metrics,
		  struct gpu_value *v)
{
	size_t n = 0;

	if (metrics == GPU_METRICS_ALL) {
		/* Each metric's case chosen here, not per call: no switch. */
#define ALL_VALUE_(m, name) metric_value(s, m, &v[m]);
		GPU_METRICS(ALL_VALUE_)
#undef ALL_VALUE_
		return GPU_M_COUNT;
	}
	for (int i = 0; i < GPU_M_COUNT; i++)
		if (metrics & (1u << i))
			metric_value(s, (enum gpu_metric)i, &v[n++]);
	return n;
}
