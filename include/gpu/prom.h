/* SPDX-License-Identifier: MIT */
/* dcgm-exporter's Prometheus text as raw samples (SPEC.md 1.5). */
#ifndef GPU_PROM_H
#define GPU_PROM_H

#include <stdbool.h>
#include <stdio.h>

#include "gpu/diag.h"
#include "gpu/reader.h"

struct gpu_prom;

/*
 * True when the first bytes of an input, p[0..n), look like Prometheus
 * text: a '#' first, or a DCGM_FI_ metric (any case) starting the first
 * non-blank line.
 */
bool gpu_prom_detect(const char *p, size_t n);

/*
 * Open a reader of one or more concatenated dcgm-exporter scrapes over fp
 * (not closed), named source in messages. opts.node, when set, names the
 * host (over the Hostname label); a scrape's time is a series' own
 * timestamp, else opts.at_ms, else the mtime of a regular, linked file.
 * Returns NULL with err filled (GPU_READER_NO_TIME in *code when no time
 * can be had, else -1). Free with gpu_prom_free().
 */
struct gpu_prom *gpu_prom_new(FILE *fp, const char *source,
			      const struct gpu_reader_opts *opts, int *code,
			      struct gpu_err *err);
void gpu_prom_free(struct gpu_prom *p);

/*
 * Next sample, as gpu_reader_next(): one per (node, gpu) series of a
 * scrape, handed out when the scrape ends (a series repeats, or the input
 * ends), so memory grows with the series of one scrape. -1 with err
 * filled for input that is not exposition format, or that holds no DCGM
 * GPU series at all.
 */
int gpu_prom_next(struct gpu_prom *p, struct gpu_sample *s, long *line,
		  struct gpu_reject *rej, struct gpu_err *err);

/* Bytes consumed so far (for a progress display). */
long long gpu_prom_offset(const struct gpu_prom *p);

#endif
