/* SPDX-License-Identifier: MIT */
/* Timestamps (SPEC.md section 1.1): strict parsing, formatting, periods. */
#include "gpu/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)
/* Epoch integers from 1e11 on are milliseconds, below are seconds. */
#define EPOCH_MS_THRESHOLD INT64_C(100000000000)
/* Any magnitude past this is far outside the accepted range. */
#define EPOCH_SATURATE INT64_C(1000000000000000)

static const char WHY_INVALID[] = "invalid timestamp";
static const char WHY_RANGE[] = "timestamp out of range";
static const char WHY_NOW[] = "invalid GPUUSAGE_NOW";

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parse exactly n digits at s into *out. */
static bool
get_digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && (a < 0) != (b < 0))
		q--;
	return q;
}

static int64_t
floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31};

	if (m == 2 && is_leap(y))
		return 29;
	return mdays[m - 1];
}

/* Howard Hinnant's days_from_civil, valid for any year an int64 ms holds. */
int64_t
gpu_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
gpu_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
check_range(int64_t ms, int64_t *out, const char **why)
{
	if (ms < GPU_TIME_MIN_MS || ms >= GPU_TIME_MAX_MS) {
		*why = WHY_RANGE;
		return -1;
	}
	*out = ms;
	return 0;
}

/*
 * Epoch seconds or milliseconds: [+-]digits[.digits]. The magnitude
 * saturates instead of overflowing, so that a 30-digit integer is simply
 * out of range.
 */
static int
parse_epoch(const char *s, size_t len, int64_t *out, const char **why)
{
	size_t i = 0, nd = 0, nf = 0;
	bool neg = false, has_frac = false;
	int64_t v = 0, frac = 0, ms;

	if (i < len && (s[i] == '-' || s[i] == '+')) {
		neg = s[i] == '-';
		i++;
	}
	for (; i < len && is_digit(s[i]); i++, nd++)
		if (v < EPOCH_SATURATE)
			v = v * 10 + (s[i] - '0');
	if (i < len && s[i] == '.') {
		has_frac = true;
		for (i++; i < len && is_digit(s[i]); i++, nf++)
			if (nf < 3)
				frac = frac * 10 + (s[i] - '0');
		if (nf == 0)
			goto invalid;
		for (size_t k = nf; k < 3; k++)
			frac *= 10;
	}
	if (nd == 0 || i != len)
		goto invalid;
	if (v >= EPOCH_MS_THRESHOLD) {
		if (has_frac)
			goto invalid;
		if (v >= EPOCH_SATURATE) {
			*why = WHY_RANGE;
			return -1;
		}
		ms = v;
	} else {
		ms = v * 1000 + frac;
	}
	return check_range(neg ? -ms : ms, out, why);
invalid:
	*why = WHY_INVALID;
	return -1;
}

/* Parse "+01:00", "-0530", "Z" at s[*i..len) into offset milliseconds. */
static bool
parse_offset(const char *s, size_t len, size_t *i, int64_t *off_ms)
{
	size_t j = *i;
	int sign, oh, om;

	if (s[j] == 'Z' || s[j] == 'z') {
		*off_ms = 0;
		*i = j + 1;
		return true;
	}
	if (s[j] != '+' && s[j] != '-')
		return false;
	sign = s[j] == '-' ? -1 : 1;
	j++;
	if (len - j < 2 || !get_digits(s + j, 2, &oh))
		return false;
	j += 2;
	if (j < len && s[j] == ':')
		j++;
	if (len - j < 2 || !get_digits(s + j, 2, &om))
		return false;
	j += 2;
	if (oh > 23 || om > 59)
		return false;
	*off_ms = sign * ((int64_t)oh * 60 + om) * 60000;
	*i = j;
	return true;
}

/*
 * "YYYY-MM-DD[Tt ]HH:MM:SS[.f+][Z|+HH:MM|+HHMM]" or the slash form
 * "YYYY/MM/DD HH:MM:SS[.f+]". With is_arg, also "YYYY-MM-DD" and
 * "YYYY-MM-DD[Tt ]HH:MM[offset]". Returns false on any other shape or an
 * impossible date or time; the result may still be out of range.
 */
static bool
parse_civil(const char *s, size_t len, bool is_arg, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	int64_t off_ms = 0;
	size_t i;
	bool slash;

	if (len < 10 || !get_digits(s, 4, &y) || !get_digits(s + 5, 2, &mo) ||
	    !get_digits(s + 8, 2, &d))
		return false;
	slash = s[4] == '/';
	if (s[7] != s[4] || (s[4] != '-' && !slash))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return false;
	if (len == 10) {
		if (!is_arg || slash)
			return false;
		goto done;
	}
	if (slash ? s[10] != ' '
		  : s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return false;
	if (len < 16 || !get_digits(s + 11, 2, &h) || s[13] != ':' ||
	    !get_digits(s + 14, 2, &mi) || h > 23 || mi > 59)
		return false;
	i = 16;
	if (i < len && s[i] == ':') {
		if (len - i < 3 || !get_digits(s + i + 1, 2, &sec) || sec > 59)
			return false;
		i += 3;
		if (i < len && s[i] == '.') {
			size_t nf = 0;

			for (i++; i < len && is_digit(s[i]); i++, nf++)
				if (nf < 3)
					ms = ms * 10 + (s[i] - '0');
			if (nf == 0)
				return false;
			for (; nf < 3; nf++)
				ms *= 10;
		}
	} else if (!is_arg || slash) {
		return false;
	}
	if (i < len && (slash || !parse_offset(s, len, &i, &off_ms)))
		return false;
	if (i != len)
		return false;
done:
	*out = ((gpu_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) *
		       INT64_C(60000) +
	       (int64_t)sec * 1000 + ms - off_ms;
	return true;
}

static bool
looks_civil(const char *s, size_t len)
{
	return len >= 5 && is_digit(s[0]) && is_digit(s[1]) &&
	       is_digit(s[2]) && is_digit(s[3]) && (s[4] == '-' || s[4] == '/');
}

static int
parse_any(const char *s, size_t len, bool is_arg, int64_t *ms,
	  const char **why)
{
	const char *dummy;
	int64_t v;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || len == 0) {
		*why = WHY_INVALID;
		return -1;
	}
	if (!looks_civil(s, len))
		return parse_epoch(s, len, ms, why);
	if (!parse_civil(s, len, is_arg, &v)) {
		*why = WHY_INVALID;
		return -1;
	}
	return check_range(v, ms, why);
}

int
gpu_time_parse(const char *s, size_t len, int64_t *ms, const char **why)
{
	return parse_any(s, len, false, ms, why);
}

int
gpu_time_parse_unplaced(const char *s, size_t len, int64_t *ms,
			const char **why)
{
	if (s != NULL && looks_civil(s, len) && parse_civil(s, len, false, ms))
		return 0;
	return parse_any(s, len, false, ms, why);
}

int
gpu_time_now(int64_t *ms, const char **why)
{
	const char *env = getenv("GPUUSAGE_NOW");

	if (env == NULL || *env == '\0') {
		*ms = (int64_t)time(NULL) * 1000;
		return 0;
	}
	if (parse_any(env, strlen(env), true, ms, why) != 0) {
		if (why != NULL)
			*why = WHY_NOW;
		return -1;
	}
	return 0;
}

int
gpu_time_parse_duration(const char *s, int64_t *ms)
{
	static const char units[] = "smhdw";
	static const int64_t unit_ms[] = {1000, 60000, MS_PER_HOUR, MS_PER_DAY,
					  7 * MS_PER_DAY};
	size_t len = s == NULL ? 0 : strlen(s), i;
	const char *u;
	int64_t n = 0;

	if (len < 2 || (u = strchr(units, s[len - 1])) == NULL)
		return -1;
	for (i = 0; i + 1 < len; i++) {
		if (!is_digit(s[i]) || n > INT64_C(1000000))
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	if (n <= 0 || n > INT64_C(1000000))
		return -1;
	*ms = n * unit_ms[u - units];
	return 0;
}

int
gpu_time_last(const char *dur, int64_t *from, int64_t *to, const char **why)
{
	int64_t d;

	if (gpu_time_parse_duration(dur, &d) != 0) {
		*why = "invalid duration";
		return -1;
	}
	if (gpu_time_now(to, why) != 0)
		return -1;
	*from = *to - d;
	return 0;
}

/* now, today, yesterday, -DURATION: relative to gpu_time_now(). */
static int
parse_relative(const char *s, int64_t *ms, const char **why)
{
	int64_t now, d;

	if (gpu_time_now(&now, why) != 0)
		return -1;
	if (strcmp(s, "now") == 0)
		return check_range(now, ms, why);
	if (strcmp(s, "today") == 0)
		return check_range(now - floor_mod(now, MS_PER_DAY), ms, why);
	if (strcmp(s, "yesterday") == 0)
		return check_range(
		    now - floor_mod(now, MS_PER_DAY) - MS_PER_DAY, ms, why);
	if (s[0] == '-' && gpu_time_parse_duration(s + 1, &d) == 0)
		return check_range(now - d, ms, why);
	*why = WHY_INVALID;
	return -1;
}

int
gpu_time_parse_arg(const char *s, int64_t *ms, const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (s != NULL &&
	    (s[0] == '-' || strcmp(s, "now") == 0 || strcmp(s, "today") == 0 ||
	     strcmp(s, "yesterday") == 0))
		return parse_relative(s, ms, why);
	return parse_any(s, s == NULL ? 0 : strlen(s), true, ms, why);
}

struct tm_utc {
	int64_t y;
	int mo, d, h, mi, s, ms;
	int64_t days;
};

static void
split_ms(int64_t ms, struct tm_utc *t)
{
	int64_t secs = floor_div(ms, 1000);
	int64_t sod = floor_mod(secs, 86400);

	t->ms = (int)floor_mod(ms, 1000);
	t->days = floor_div(secs, 86400);
	t->h = (int)(sod / 3600);
	t->mi = (int)(sod / 60 % 60);
	t->s = (int)(sod % 60);
	gpu_civil_from_days(t->days, &t->y, &t->mo, &t->d);
}

/* Write at most 31 bytes; the buffers are sized so truncation cannot occur. */
static void
put(char out[32], int n)
{
	if (n < 0 || n >= 32)
		out[0] = '\0';
}

void
gpu_time_fmt_iso(int64_t ms, char out[32])
{
	struct tm_utc t;

	split_ms(ms, &t);
	if (t.ms != 0)
		put(out, snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
				  (long long)t.y, t.mo, t.d, t.h, t.mi, t.s,
				  t.ms));
	else
		put(out, snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
				  (long long)t.y, t.mo, t.d, t.h, t.mi, t.s));
}

static const char *const period_names[] = {"hour", "day", "week", "month",
					   "all"};

int
gpu_period_parse(const char *s, enum gpu_period *p)
{
	if (s == NULL)
		return -1;
	for (int i = 0; i <= GPU_PERIOD_ALL; i++) {
		if (strcmp(s, period_names[i]) == 0) {
			*p = (enum gpu_period)i;
			return 0;
		}
	}
	return -1;
}

const char *
gpu_period_name(enum gpu_period p)
{
	if ((int)p < 0 || p > GPU_PERIOD_ALL)
		return "?";
	return period_names[p];
}

/* Monday-based weekday, 0 = Monday; 1970-01-01 was a Thursday. */
static int64_t
weekday(int64_t days)
{
	return floor_mod(days + 3, 7);
}

int64_t
gpu_period_start(enum gpu_period p, int64_t ms)
{
	int64_t days = floor_div(ms, MS_PER_DAY);
	int64_t y;
	int m, d;

	switch (p) {
	case GPU_PERIOD_HOUR:
		return floor_div(ms, MS_PER_HOUR) * MS_PER_HOUR;
	case GPU_PERIOD_DAY:
		return days * MS_PER_DAY;
	case GPU_PERIOD_WEEK:
		return (days - weekday(days)) * MS_PER_DAY;
	case GPU_PERIOD_MONTH:
		gpu_civil_from_days(days, &y, &m, &d);
		return gpu_days_from_civil(y, m, 1) * MS_PER_DAY;
	case GPU_PERIOD_ALL:
		break;
	}
	return 0;
}

int64_t
gpu_period_next(enum gpu_period p, int64_t start)
{
	int64_t y;
	int m, d;

	switch (p) {
	case GPU_PERIOD_HOUR:
		return start + MS_PER_HOUR;
	case GPU_PERIOD_DAY:
		return start + MS_PER_DAY;
	case GPU_PERIOD_WEEK:
		return start + 7 * MS_PER_DAY;
	case GPU_PERIOD_MONTH:
		gpu_civil_from_days(floor_div(start, MS_PER_DAY), &y, &m, &d);
		if (m == 12) {
			y++;
			m = 1;
		} else {
			m++;
		}
		return gpu_days_from_civil(y, m, 1) * MS_PER_DAY;
	case GPU_PERIOD_ALL:
		break;
	}
	return INT64_MAX;
}

void
gpu_period_label(enum gpu_period p, int64_t ms, char out[32])
{
	struct tm_utc t;
	int64_t thu, wy;
	int wm, wd;

	split_ms(ms, &t);
	switch (p) {
	case GPU_PERIOD_HOUR:
		put(out, snprintf(out, 32, "%04lld-%02d-%02dT%02d",
				  (long long)t.y, t.mo, t.d, t.h));
		return;
	case GPU_PERIOD_DAY:
		put(out, snprintf(out, 32, "%04lld-%02d-%02d", (long long)t.y,
				  t.mo, t.d));
		return;
	case GPU_PERIOD_WEEK:
		/* The ISO year is the year of the week's Thursday. */
		thu = t.days - weekday(t.days) + 3;
		gpu_civil_from_days(thu, &wy, &wm, &wd);
		put(out, snprintf(out, 32, "%04lld-W%02d", (long long)wy,
				  (int)((thu - gpu_days_from_civil(wy, 1, 1)) /
					7 +
					1)));
		return;
	case GPU_PERIOD_MONTH:
		put(out,
		    snprintf(out, 32, "%04lld-%02d", (long long)t.y, t.mo));
		return;
	case GPU_PERIOD_ALL:
		break;
	}
	out[0] = '\0';
}

int
gpu_period_label_parse(enum gpu_period p, const char *s, size_t len,
		       int64_t *start)
{
	char tmp[40], back[32];
	const char *why;
	int64_t ms, jan4;
	int y, w;

	if (len == 0 || len > 20)
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	switch (p) {
	case GPU_PERIOD_HOUR:
		memcpy(tmp + len, ":00", 4);
		break;
	case GPU_PERIOD_DAY:
		break;
	case GPU_PERIOD_WEEK:
		/* Week 1 holds January 4th; weeks start on Monday. */
		if (len != 8 || tmp[4] != '-' || tmp[5] != 'W' ||
		    !get_digits(tmp, 4, &y) || !get_digits(tmp + 6, 2, &w) ||
		    w < 1 || w > 53)
			return -1;
		jan4 = gpu_days_from_civil(y, 1, 4);
		ms = (jan4 - weekday(jan4) + 7 * (int64_t)(w - 1)) * MS_PER_DAY;
		goto check;
	case GPU_PERIOD_MONTH:
		memcpy(tmp + len, "-01", 4);
		break;
	case GPU_PERIOD_ALL:
		return -1;
	}
	if (gpu_time_parse_arg(tmp, &ms, &why) != 0)
		return -1;
check:
	/* Only the labeller's own spelling: 2025-W53 of a 52-week year
	 * or 2026-11-28T16:30 are not labels. */
	gpu_period_label(p, ms, back);
	if (strlen(back) != len || memcmp(back, s, len) != 0)
		return -1;
	*start = ms;
	return 0;
}
