/* SPDX-License-Identifier: MIT */
/* Job records (SPEC.md 1.3): CSV/JSON Lines job files and Slurm sacct output.
 */
#ifndef GPU_JOBS_H
#define GPU_JOBS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gpu/diag.h"
#include "gpu/table.h"
#include "gpu/sample.h"

/*
 * One job record. Step rows (123.batch, 123.extern, 123.0) are folded into
 * their job: job_id is the job part, and a step fills user, project and gpus
 * the job row lacks (never the times, which are the step's own). Array
 * (123_4) and heterogeneous (1853+0) IDs are kept whole. Strings are
 * borrowed until the next gpu_jobs_next(); len 0 means absent.
 */
struct gpu_job {
	struct gpu_str job_id;
	struct gpu_str user;
	struct gpu_str project;
	bool has_start, has_end, has_gpus;
	int64_t start_ms, end_ms;
	int64_t gpus;	/* whole GPUs */
	int64_t slices; /* MIG slices (with has_gpus) */
};

struct gpu_jobs_opts {
	/*
	 * Comma-separated column names for input without a header row (sacct
	 * --noheader). Ignored when the input has a header. A trailing '|'
	 * on every line (sacct -p) needs no name of its own.
	 */
	const char *columns;
};

struct gpu_jobs;

/*
 * What gpu_jobs_open() found, beyond -1, so that a tool can say how to
 * supply it: sacct output without a header row, and no column names.
 */
enum { GPU_JOBS_NO_HEADER = -2 };

/*
 * Open a job reader over fp (not closed; must be seekable: the first line
 * is read to detect the format, then fp is rewound). Detects JSON Lines
 * ('{'), sacct output ('|' delimited, with a JobID header or opts.columns)
 * or CSV job records. Returns 0 with *out set, or fills err and returns
 * GPU_JOBS_NO_HEADER for headerless sacct output without opts.columns
 * ("missing required column 'JobID'"), else -1: empty input, a missing
 * job_id/JobID column, an I/O error. Free with gpu_jobs_free().
 */
int gpu_jobs_open(FILE *fp, const char *source,
		  const struct gpu_jobs_opts *opts, struct gpu_jobs **out,
		  struct gpu_err *err);

/* gpu_jobs_open() for a caller with no use for the code: NULL on failure. */
struct gpu_jobs *gpu_jobs_new(FILE *fp, const char *source,
			      const struct gpu_jobs_opts *opts,
			      struct gpu_err *err);
void gpu_jobs_free(struct gpu_jobs *j);

/*
 * Read the next job: GPU_READ_SAMPLE fills job and *line (the line of its
 * first row), GPU_READ_REJECT fills rej, GPU_READ_EOF at the end, -1 on a
 * fatal error with err filled. Everything filled is borrowed until the
 * next call.
 */
int gpu_jobs_next(struct gpu_jobs *j, struct gpu_job *job, long *line,
		  struct gpu_reject *rej, struct gpu_err *err);

/* True when the input is sacct output. */
bool gpu_jobs_is_sacct(const struct gpu_jobs *j);

/*
 * Comma-separated names of the input's columns the reader ignores ("" if
 * none). Borrowed, valid for the reader's life.
 */
const char *gpu_jobs_unknown(const struct gpu_jobs *j);

/*
 * The GPU count of a Slurm TRES string such as AllocTRES
 * "billing=64,cpu=9,gres/gpu:h100=1,gres/gpu=1,mem=60G": the untyped
 * gres/gpu=N total when present, else the sum of the typed gres/gpu:T=N
 * entries, else 0. A type naming a MIG profile ("a100_3g.20gb") counts
 * slices, not GPUs: they go to *slices (when not NULL) and out of the
 * total. Returns 0 and sets *gpus, or -1 when a gres/gpu value is not a
 * non-negative integer.
 */
int gpu_tres_gpus(const char *s, size_t len, int64_t *gpus, int64_t *slices);

/* Length of the job part of a Slurm job ID ("123_4.batch" -> 5). */
size_t gpu_job_base_len(const char *id, size_t len);

#endif
