/* SPDX-License-Identifier: MIT */
/*
 * Allocations (SPEC.md 1.4): which job held which GPUs of one node, and
 * when. Read from allocation CSV/JSON Lines, Slurm's scontrol show job -d
 * (multi-line or -o), or the lines of the project's Slurm prolog/epilog.
 */
#ifndef GPU_ALLOC_H
#define GPU_ALLOC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gpu/diag.h"
#include "gpu/reader.h"
#include "gpu/sample.h"

/* GPU indices are 0..GPU_GPUSET_MAX-1 (SPEC.md 1). */
#define GPU_GPUSET_MAX 1024

/* A set of GPU indices of one node. */
struct gpu_gpuset {
	uint64_t w[GPU_GPUSET_MAX / 64];
};

/*
 * Parse an index list such as "0-3,6" or "5" into set (which is cleared
 * first). Returns 0, or -1 with *why a static reason ("invalid GPU index
 * list", "GPU index out of range", "empty GPU index list").
 */
int gpu_gpuset_parse(const char *s, size_t len, struct gpu_gpuset *set,
		     const char **why);

/* Is gpu (any int) in set? */
bool gpu_gpuset_has(const struct gpu_gpuset *set, int gpu);

/* Add gpu (0..GPU_GPUSET_MAX-1) to set. */
void gpu_gpuset_add(struct gpu_gpuset *set, int gpu);

/* Number of indices in set. */
int gpu_gpuset_count(const struct gpu_gpuset *set);

/*
 * One allocation record: job_id held gpus of node from start to end. Which
 * fields are present depends on the source: a prolog line has no end, an
 * epilog line no start; an absent end on a full record means "still
 * held". Strings are borrowed until the next gpu_alloc_next(); len 0 means
 * absent. Array tasks are named ARRAYJOB_TASK and heterogeneous components
 * JOB+OFFSET, as sacct names them (SPEC.md 1.3).
 */
struct gpu_alloc {
	struct gpu_str job_id;
	struct gpu_str node;
	struct gpu_str user;
	struct gpu_str project;
	bool has_gpus, has_start, has_end;
	struct gpu_gpuset gpus;
	int64_t start_ms, end_ms;
};

/* Where allocations come from. */
enum gpu_alloc_src {
	GPU_ALLOC_SRC_AUTO,
	GPU_ALLOC_SRC_TABLE,    /* CSV or JSON Lines records */
	GPU_ALLOC_SRC_SCONTROL, /* scontrol show job -d [-o] */
	GPU_ALLOC_SRC_EVENTS,   /* gpuusage prolog/epilog lines */
};

struct gpu_alloc_reader;

/*
 * Open an allocation reader over fp (not closed; must be seekable: the
 * first line decides the format, then fp is rewound). Detection: a first
 * line that is neither blank nor a '#' comment starting "JobId=" is
 * scontrol output, "gpuusage-alloc" the prolog/epilog lines, '{' JSON
 * Lines, anything else CSV with a header; comments alone are prolog/epilog
 * lines. Returns NULL with err filled (source and line) for empty input, a
 * CSV without a job_id, node, gpus or start column, an unseekable fp, or
 * an I/O error. Free with gpu_alloc_reader_free() (NULL is a no-op).
 */
struct gpu_alloc_reader *gpu_alloc_reader_new(FILE *fp, const char *source,
					      struct gpu_err *err);
void gpu_alloc_reader_free(struct gpu_alloc_reader *r);

/* The format detected. */
enum gpu_alloc_src gpu_alloc_reader_src(const struct gpu_alloc_reader *r);

/*
 * Read the next allocation of one (job, node): GPU_READ_SAMPLE fills a and
 * *line (the line of the record: the detail line of scontrol output),
 * GPU_READ_REJECT fills rej (line, reason, raw text), GPU_READ_EOF at the
 * end, -1 on a fatal error with err filled. A record naming several nodes
 * (a hostlist) yields one allocation per node. Records that hold no GPU
 * (pending jobs, CPU-only nodes) yield nothing. Everything filled is
 * borrowed until the next call.
 */
int gpu_alloc_next(struct gpu_alloc_reader *r, struct gpu_alloc *a,
		   long *line, struct gpu_reject *rej, struct gpu_err *err);

#endif
