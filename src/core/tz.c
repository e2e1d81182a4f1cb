/* SPDX-License-Identifier: MIT */
/* IANA time zones for timestamps written in local time (--input-tz). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/time.h"
#include "gpu/tz.h"

#define ZONEINFO "/usr/share/zoneinfo/"
#define HOUR_MS INT64_C(3600000)
#define DAY_S INT64_C(86400)

/* A POSIX TZ rule date: month m, week w (5: last), weekday d, at secs. */
struct rule_date {
	int m, w, d;
	int32_t secs;
};

struct gpu_tz {
	int64_t *at;  /* transition instants, epoch seconds, increasing */
	int32_t *off; /* UTC offset in seconds from at[i] on */
	size_t n;
	int32_t off0;  /* before the first transition */
	bool has_rule; /* the footer rule, after the last transition */
	int32_t std_off, dst_off;
	bool has_dst;
	struct rule_date start, end;
	/* cache: the offset of one whole local hour, or none */
	int64_t cache_hour;
	int32_t cache_off;
	bool cached;
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static bool
valid_name(const char *name)
{
	if (*name == '\0' || *name == '/' || strstr(name, "..") != NULL ||
	    strlen(name) > 200)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("/_+-", *p) != NULL))
			return false;
	return true;
}

/* "[+-]hh[:mm[:ss]]" at *s; returns seconds, advancing *s. */
static bool
rule_time(const char **s, int32_t *secs)
{
	int sign = 1, part[3] = {0, 0, 0};
	const char *p = *s;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int k = 0; k < 3; k++) {
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9' && part[k] < 1000)
			part[k] = part[k] * 10 + (*p++ - '0');
		if (k == 2 || *p != ':')
			break;
		p++;
	}
	*secs = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	*s = p;
	return true;
}

static bool
rule_name(const char **s)
{
	const char *p = *s;

	if (*p == '<') {
		while (*p != '\0' && *p != '>')
			p++;
		if (*p != '>')
			return false;
		*s = p + 1;
		return true;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	if (p - *s < 3)
		return false;
	*s = p;
	return true;
}

static bool
rule_date(const char **s, struct rule_date *d)
{
	const char *p = *s;
	char *end;
	long m, w, wd;

	if (*p != 'M')
		return false; /* Jn and n rules: no zone in use needs them */
	m = strtol(p + 1, &end, 10);
	if (*end != '.' || m < 1 || m > 12)
		return false;
	w = strtol(end + 1, &end, 10);
	if (*end != '.' || w < 1 || w > 5)
		return false;
	wd = strtol(end + 1, &end, 10);
	if (wd < 0 || wd > 6)
		return false;
	d->m = (int)m;
	d->w = (int)w;
	d->d = (int)wd;
	d->secs = 7200;
	p = end;
	if (*p == '/') {
		p++;
		if (!rule_time(&p, &d->secs))
			return false;
	}
	*s = p;
	return true;
}

/* The POSIX TZ string of a TZif footer; false leaves no rule. */
static bool
parse_rule(struct gpu_tz *tz, const char *s)
{
	int32_t t;

	if (!rule_name(&s) || !rule_time(&s, &t))
		return false;
	tz->std_off = -t;
	if (*s == '\0')
		return true;
	if (!rule_name(&s))
		return false;
	tz->dst_off = tz->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if (!rule_time(&s, &t))
			return false;
		tz->dst_off = -t;
	}
	if (*s++ != ',' || !rule_date(&s, &tz->start) || *s++ != ',' ||
	    !rule_date(&s, &tz->end) || *s != '\0')
		return false;
	tz->has_dst = true;
	return true;
}

/* Epoch seconds of a rule's date in year y, in the local time it names. */
static int64_t
rule_local(const struct rule_date *r, int64_t y)
{
	int64_t first = gpu_days_from_civil(y, r->m, 1), day;
	int wd1 = (int)(((first % 7) + 11) % 7); /* 1970-01-01: Thursday */
	int dim = r->m == 2
		      ? (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) ? 29 : 28)
		  : (r->m == 4 || r->m == 6 || r->m == 9 || r->m == 11) ? 30
									: 31;

	day = (r->d - wd1 + 7) % 7 + (r->w - 1) * 7;
	while (day >= dim)
		day -= 7;
	return (first + day) * DAY_S + r->secs;
}

static int32_t
rule_offset(const struct gpu_tz *tz, int64_t t)
{
	int64_t y, start, end;
	int m, d;

	if (!tz->has_dst)
		return tz->std_off;
	gpu_civil_from_days((t + tz->std_off) / DAY_S, &y, &m, &d);
	start = rule_local(&tz->start, y) - tz->std_off;
	end = rule_local(&tz->end, y) - tz->dst_off;
	if (start < end)
		return t >= start && t < end ? tz->dst_off : tz->std_off;
	return t >= end && t < start ? tz->std_off : tz->dst_off;
}

/* The UTC offset in effect at instant t (epoch seconds). */
static int32_t
offset_at(const struct gpu_tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->n;

	if (tz->n == 0 || t < tz->at[0])
		return tz->n == 0 && tz->has_rule ? rule_offset(tz, t)
						  : tz->off0;
	if (t >= tz->at[tz->n - 1] && tz->has_rule)
		return rule_offset(tz, t);
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (tz->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->off[lo];
}

/* Read the TZif data of f (v2 and later: its 64-bit part). */
static bool
parse_tzif(struct gpu_tz *tz, const unsigned char *p, size_t len)
{
	const unsigned char *h = p;
	uint32_t cnt[6];
	size_t tsize = 4, body;
	bool v2;

	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return false;
	v2 = p[4] >= '2';
	for (;;) {
		for (int k = 0; k < 6; k++)
			cnt[k] = be32(h + 20 + 4 * k);
		if (cnt[4] == 0 || cnt[3] > 100000 || cnt[4] > 256 ||
		    cnt[5] > 65536 || cnt[2] > 100000)
			return false;
		body = cnt[3] * tsize + cnt[3] + cnt[4] * 6 + cnt[5] +
		       cnt[2] * (tsize + 4) + cnt[1] + cnt[0];
		if ((size_t)(h + 44 - p) + body > len)
			return false;
		if (!v2 || tsize == 8)
			break;
		h += 44 + body;
		tsize = 8;
		if ((size_t)(h - p) + 44 > len || memcmp(h, "TZif", 4) != 0)
			return false;
	}
	{
		const unsigned char *t = h + 44, *idx = t + cnt[3] * tsize;
		const unsigned char *types = idx + cnt[3];

		tz->n = cnt[3];
		tz->at = gpu_xcalloc(tz->n + 1, sizeof(*tz->at));
		tz->off = gpu_xcalloc(tz->n + 1, sizeof(*tz->off));
		for (size_t i = 0; i < tz->n; i++) {
			if (idx[i] >= cnt[4])
				return false;
			tz->at[i] = tsize == 8 ? be64(t + 8 * i)
					       : (int32_t)be32(t + 4 * i);
			tz->off[i] = (int32_t)be32(types + 6 * idx[i]);
		}
		tz->off0 = (int32_t)be32(types);
		if (tsize == 8) {
			const char *foot = (const char *)(h + 44 + body);
			const char *endp = (const char *)p + len;
			struct gpu_buf b;

			if (foot < endp && *foot == '\n') {
				gpu_buf_init(&b);
				for (foot++; foot < endp && *foot != '\n';
				     foot++)
					gpu_buf_addc(&b, *foot);
				if (b.len > 0)
					tz->has_rule = parse_rule(tz, b.data);
				gpu_buf_release(&b);
			}
		}
	}
	return true;
}

struct gpu_tz *
gpu_tz_load(const char *name, struct gpu_err *err)
{
	struct gpu_tz *tz = NULL;
	struct gpu_buf path, data;
	char block[4096];
	size_t n;
	FILE *f = NULL;

	gpu_buf_init(&path);
	gpu_buf_init(&data);
	if (!valid_name(name)) {
		gpu_err_set(err, "invalid time zone name '%s'", name);
		goto out;
	}
	gpu_buf_adds(&path, ZONEINFO);
	gpu_buf_adds(&path, name);
	if ((f = fopen(path.data, "rb")) == NULL) {
		gpu_err_set(err, "unknown time zone '%s': %s", name,
			    strerror(errno));
		goto out;
	}
	while ((n = fread(block, 1, sizeof(block), f)) > 0 &&
	       data.len < (1u << 20))
		gpu_buf_add(&data, block, n);
	tz = gpu_xcalloc(1, sizeof(*tz));
	if (ferror(f) ||
	    !parse_tzif(tz, (const unsigned char *)data.data, data.len)) {
		gpu_err_set(err, "unknown time zone '%s': not a zoneinfo file",
			    name);
		gpu_tz_free(tz);
		tz = NULL;
	}
out:
	if (f != NULL)
		fclose(f);
	gpu_buf_release(&path);
	gpu_buf_release(&data);
	return tz;
}

void
gpu_tz_free(struct gpu_tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->at);
	free(tz->off);
	free(tz);
}

/*
 * The instants of local time l (seconds): none (a gap), one, or two (an
 * overlap; *utc the first). Offsets change at most once within a day,
 * so the offsets a day before and after are the only candidates.
 */
static int
resolve(const struct gpu_tz *tz, int64_t l, int64_t *utc)
{
	int32_t a = offset_at(tz, l - DAY_S), b = offset_at(tz, l + DAY_S);
	bool ok_a = offset_at(tz, l - a) == a, ok_b = offset_at(tz, l - b) == b;

	if (ok_a && ok_b && a != b) {
		*utc = l - (a > b ? a : b);
		return 2;
	}
	if (ok_a || ok_b) {
		*utc = l - (ok_a ? a : b);
		return 1;
	}
	return 0;
}

int
gpu_tz_to_utc(struct gpu_tz *tz, int64_t local_ms, int64_t *utc_ms,
	      const char **why)
{
	int64_t hour = local_ms >= 0 ? local_ms / HOUR_MS
				     : -((-local_ms + HOUR_MS - 1) / HOUR_MS);
	int64_t l = hour * 3600, s0, s1, sub = local_ms - hour * HOUR_MS;

	if (!tz->cached || tz->cache_hour != hour) {
		/* the hour is cached when it resolves to one offset throughout
		 */
		tz->cached = resolve(tz, l, &s0) == 1 &&
			     resolve(tz, l + 3599, &s1) == 1 && s1 - s0 == 3599;
		tz->cache_hour = hour;
		tz->cache_off = tz->cached ? (int32_t)(l - s0) : 0;
	}
	if (tz->cached) {
		*utc_ms = local_ms - (int64_t)tz->cache_off * 1000;
		return 0;
	}
	if (resolve(tz, l + sub / 1000, &s0) == 0) {
		*why = "nonexistent local time (skipped by a DST change)";
		return -1;
	}
	*utc_ms = s0 * 1000 + sub % 1000;
	return 0;
}
