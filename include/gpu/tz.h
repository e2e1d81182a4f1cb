/* SPDX-License-Identifier: MIT */
/* IANA time zones for timestamps written in local time (--input-tz). */
#ifndef GPU_TZ_H
#define GPU_TZ_H

#include <stdint.h>

#include "gpu/diag.h"

/* A zone read from the system's zoneinfo (TZif) files. */
struct gpu_tz;

/*
 * Load the IANA zone name ("Europe/Copenhagen", "UTC") from
 * /usr/share/zoneinfo; neither TZ nor TZDIR is consulted. Returns the
 * zone (free with gpu_tz_free()), or NULL with err filled: an invalid
 * name, no such zone, or a file that is not TZif.
 */
struct gpu_tz *gpu_tz_load(const char *name, struct gpu_err *err);
void gpu_tz_free(struct gpu_tz *tz);

/*
 * The UTC instant of a local wall-clock time, local_ms being that time
 * read as if it were UTC. A time that occurs twice (the hour after a
 * fall-back) takes its first occurrence; one that never occurs (the hour
 * a spring-forward skips) returns -1 with *why "nonexistent local time
 * (skipped by a DST change)". Results are cached per local hour, so the
 * zone is not const.
 */
int gpu_tz_to_utc(struct gpu_tz *tz, int64_t local_ms, int64_t *utc_ms,
		  const char **why);

#endif
