/* SPDX-License-Identifier: MIT */
/* Timestamps (SPEC.md section 1.1): parsing, formatting and period buckets. */
#ifndef GPU_TIME_H
#define GPU_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The accepted range: [2000-01-01, 2100-01-01) UTC, in epoch ms. */
#define GPU_TIME_MIN_MS INT64_C(946684800000)
#define GPU_TIME_MAX_MS INT64_C(4102444800000)

/*
 * Parse a sample timestamp s[0..len) (epoch s/ms, ISO 8601, nvidia-smi slash
 * form) into epoch milliseconds UTC. Returns 0, or -1 with *why (may be NULL)
 * pointing to one of two static reasons: "invalid timestamp" (bad shape,
 * impossible date or time, bad offset, fraction on epoch ms) or "timestamp
 * out of range" (well formed, but outside [2000, 2100), including integers
 * too large for int64). The caller quotes the field itself. Whitespace is
 * not trimmed; fractions are truncated to ms; locale and TZ play no part.
 */
int gpu_time_parse(const char *s, size_t len, int64_t *ms, const char **why);

/*
 * The same, except that a civil time is not checked against the range: it
 * is a wall-clock time still to be placed in a zone (--input-tz), whose
 * UTC instant is what the range applies to.
 */
int gpu_time_parse_unplaced(const char *s, size_t len, int64_t *ms,
			    const char **why);

/*
 * Parse a command-line time argument: everything gpu_time_parse() takes, plus
 * a plain date "2026-11-01" (00:00 UTC) and minutes "2026-11-01T16:00" (which
 * may carry an offset), and times relative to gpu_time_now(): "now",
 * "today" and "yesterday" (00:00 UTC), "-7d" (a duration ago, as
 * gpu_time_parse_duration() reads it). s is NUL-terminated. Returns 0, or
 * -1 with *why set as gpu_time_parse() does ("invalid GPUUSAGE_NOW" too).
 */
int gpu_time_parse_arg(const char *s, int64_t *ms, const char **why);

/*
 * The current time in ms since the epoch: $GPUUSAGE_NOW when it is set and
 * not empty (any form of gpu_time_parse_arg() but the relative ones, so
 * that tests fix "now"), else the clock. Returns 0, or -1 with *why set
 * when GPUUSAGE_NOW is invalid.
 */
int gpu_time_now(int64_t *ms, const char **why);

/*
 * Parse a duration: a whole number from 1 to 1000000 and a unit, s, m
 * (minutes), h, d or w ("24h", "7d"), into ms. Returns 0, or -1 when s is
 * not one.
 */
int gpu_time_parse_duration(const char *s, int64_t *ms);

/*
 * The range of --last DUR: [now - DUR, now), now as gpu_time_now() says.
 * Returns 0, or -1 with *why set ("invalid duration", or as
 * gpu_time_now()).
 */
int gpu_time_last(const char *dur, int64_t *from, int64_t *to,
		  const char **why);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12); the date
 * is not validated (day 0 or 32 count on from the month's first day). */
int64_t gpu_days_from_civil(int64_t y, int m, int d);

/* The civil date of a day number (inverse of gpu_days_from_civil). */
void gpu_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Write "2026-11-28T16:00:00Z" (no fraction when ms % 1000 == 0, else
 * ".123") into out, which must hold 32 bytes. */
void gpu_time_fmt_iso(int64_t ms, char out[32]);

enum gpu_period {
	GPU_PERIOD_HOUR,
	GPU_PERIOD_DAY,
	GPU_PERIOD_WEEK,
	GPU_PERIOD_MONTH,
	GPU_PERIOD_ALL
};

/* Map "hour", "day", "week", "month", "all" to a period. Returns 0 or -1. */
int gpu_period_parse(const char *s, enum gpu_period *p);

/* The name of a period ("hour" ...); static, "?" for an invalid value. */
const char *gpu_period_name(enum gpu_period p);

/* Start (epoch ms) of the bucket that holds ms; ISO weeks start on Monday.
 * For GPU_PERIOD_ALL it returns 0. */
int64_t gpu_period_start(enum gpu_period p, int64_t ms);

/* Start of the bucket after the one that starts at start (INT64_MAX for
 * GPU_PERIOD_ALL). */
int64_t gpu_period_next(enum gpu_period p, int64_t start);

/* Write the bucket label of ms ("2026-11-28T16", "2026-11-28", "2026-W48",
 * "2026-11"; "" for all) into out (32 bytes). */
void gpu_period_label(enum gpu_period p, int64_t ms, char out[32]);

/*
 * The inverse of gpu_period_label(): parse the label s[0..len) of a bucket
 * of period p into the bucket's start. Only what gpu_period_label() writes
 * is a label ("2026-11-28T16", "2026-W48", ...; never for
 * GPU_PERIOD_ALL). Returns 0, or -1 when s is not a label of p.
 */
int gpu_period_label_parse(enum gpu_period p, const char *s, size_t len,
			   int64_t *start);

#endif
