/* SPDX-License-Identifier: MIT */
/*
 * A sample reader run ahead on a thread of its own: parsing and checking
 * rows while the caller stores the ones before them.
 */
#ifndef GPU_READAHEAD_H
#define GPU_READAHEAD_H

#include "gpu/diag.h"
#include "gpu/reader.h"

struct gpu_readahead;

/*
 * Read rd on a second thread from here on. rd belongs to that thread
 * until gpu_readahead_stop(): the caller must not touch it before. Returns
 * NULL when no thread could be started (the caller reads rd itself).
 */
struct gpu_readahead *gpu_readahead_start(struct gpu_reader *rd);

/*
 * The next row, as gpu_reader_next() returns it (the same values, in the
 * same order), and in *offset the bytes consumed after it (for a progress
 * display). What it fills is borrowed until the next call.
 */
int gpu_readahead_next(struct gpu_readahead *ra, struct gpu_sample *s,
		       long *line, struct gpu_reject *rej, long long *offset,
		       struct gpu_err *err);

/*
 * Stop the thread (at any point: rows not taken are dropped) and free ra;
 * the reader is the caller's again. Accepts NULL.
 */
void gpu_readahead_stop(struct gpu_readahead *ra);

#endif
