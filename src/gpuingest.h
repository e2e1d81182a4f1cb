/* SPDX-License-Identifier: MIT */
/* gpuingest's private interface: options, inputs, digests, progress. */
#ifndef GPUINGEST_H
#define GPUINGEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "gpu/reader.h"

/* The parsed command line. */
struct opts {
	const char *db;
	enum gpu_format format;
	int64_t interval_s;
	bool has_interval;    /* --interval given: nothing is inferred */
	const char *input_tz; /* --input-tz ZONE */
	struct gpu_tz *tz;    /* its zone, loaded by main() */
	const char *source;
	const char *jobs;
	const char **allocs; /* --allocations files, in order */
	int nallocs;
	const char *node;
	const char *columns;
	const char *job_columns;
	bool has_at;
	int64_t at_ms;
	int64_t max_reject_micro; /* --max-reject-pct, in millionths */
	int64_t lock_timeout_ms;
	bool dry_run;
	bool json;
	bool summary_set;
	bool quiet;
	bool progress;
	bool has_keep;	  /* --keep-raw given */
	const char *keep; /* its argument */
	int64_t keep_ms;
	bool has_pack;	  /* --pack-raw given */
	int64_t pack_ms;
};

/* One input; fp is a regular file (pipes are spooled to one). */
struct input {
	const char *source;
	FILE *fp;
	FILE *owned; /* closed at the end, or NULL (stdin) */
	long long size;
	int fd;
	off_t pos; /* where the input starts in fd */
	pthread_t th;
	bool threaded;
	atomic_bool stop;
	int hash_errno;
	char sha[65];
};

/* The progress line of one input on stderr. */
struct progress {
	bool on;
	struct timespec t0, last;
	const char *source;
	long long size;
	size_t width;
};

/*
 * Open name ("-": standard input, named stdin_name when not NULL) and start
 * hashing it, so that the ingest log can name exactly what was loaded. Input
 * that is not a regular file is spooled to a temporary one first. Returns 0
 * (release with ingest_close_input()) or -1 (message printed, nothing left
 * open).
 */
int ingest_open_input(struct input *in, const char *name,
		      const char *stdin_name);

/*
 * Wait for the input's digest; returns it (borrowed from in), or NULL on a
 * read error (message printed).
 */
const char *ingest_input_sha(struct input *in);

/* Stop the hashing thread and close what ingest_open_input() opened. */
void ingest_close_input(struct input *in);

/*
 * Report why an input could not be opened as samples (jobs false) or job
 * records: rc and err as gpu_reader_open() or gpu_jobs_open() left them,
 * with how to give what the input lacks.
 */
void ingest_open_failed(int rc, bool jobs, const struct gpu_err *err);

/* Start one input's progress line: shown on a tty or with --progress. */
void ingest_progress_start(struct progress *p, const struct opts *o,
			   const char *source, long long size);

/* Redraw the progress line at most four times a second (or when final). */
void ingest_progress_draw(struct progress *p, long long rows, long long offset,
			  bool final);

#endif
