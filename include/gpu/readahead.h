/* SPDX-License-Identifier: MIT */
/*
 * A sample reader run ahead on threads of its own: parsing and checking
 * rows while the caller stores (or adds up) the ones before them.
 */
#ifndef GPU_READAHEAD_H
#define GPU_READAHEAD_H

#include <stdio.h>
#include <sys/types.h>

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
 * Read rd's rows on several threads when it can: rd was just opened by
 * gpu_reader_open() over fp at byte start of the file, which is a regular
 * file, and reads CSV without a time zone (gpu_reader_splittable()). Its
 * header is read from there; the rows after it are cut into pieces at line
 * ends, each parsed by a reader of its own (opened as opts and source
 * say) on one of `threads` threads (0: one per CPU, at most 8), of at most
 * piece_lines lines (0: the default, 1,536; tests cut smaller). The rows
 * come in the file's order with the values, rejects and lines that rd
 * would give. Otherwise as gpu_readahead_start(rd). rd is not read; it
 * belongs to the threads until gpu_readahead_stop() all the same, and
 * source and opts' strings must last until then too.
 */
struct gpu_readahead *gpu_readahead_start_split(
    struct gpu_reader *rd, FILE *fp, off_t start, const char *source,
    const struct gpu_reader_opts *opts, int threads, long piece_lines);

/*
 * The next row, as gpu_reader_next() returns it (the same values, in the
 * same order), and in *offset the bytes consumed after it (for a progress
 * display). What it fills is borrowed until the next call.
 */
int gpu_readahead_next(struct gpu_readahead *ra, struct gpu_sample *s,
		       long *line, struct gpu_reject *rej, long long *offset,
		       struct gpu_err *err);

/*
 * Stop the threads (at any point: rows not taken are dropped) and free ra;
 * the reader is the caller's again. Accepts NULL.
 */
void gpu_readahead_stop(struct gpu_readahead *ra);

#endif
