/* SPDX-License-Identifier: MIT */
/* Writers of result rows: CSV (RFC 4180), JSON, JSON Lines, aligned tables. */
#ifndef GPU_WRITER_H
#define GPU_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum gpu_ofmt { GPU_OUT_CSV, GPU_OUT_JSON, GPU_OUT_JSONL, GPU_OUT_TABLE };

/* Map "csv", "json", "jsonl", "table" to a format. Returns 0 or -1. */
int gpu_ofmt_parse(const char *s, enum gpu_ofmt *f);

struct gpu_writer;

/*
 * A writer of rows with the given column names (copied) to fp (not closed).
 * CSV prints the header row at once; JSON opens the array at the first row
 * or at finish; a table buffers rows to align them at finish.
 * Free with gpu_writer_free().
 */
struct gpu_writer *gpu_writer_new(FILE *fp, enum gpu_ofmt fmt,
				  const char *const *cols, size_t ncols);
void gpu_writer_free(struct gpu_writer *w);

/* Add the next field of the current row, in column order. A string is
 * quoted as needed; numbers print as numbers in JSON; null is an empty CSV
 * field and JSON null. num_text is an already formatted number. */
void gpu_writer_str(struct gpu_writer *w, const char *p, size_t len);
void gpu_writer_i64(struct gpu_writer *w, int64_t v);
void gpu_writer_double(struct gpu_writer *w, double v); /* <= 6 decimals */
void gpu_writer_cents(struct gpu_writer *w, int64_t cents); /* "12.34" */
void gpu_writer_num_text(struct gpu_writer *w, const char *text);
void gpu_writer_null(struct gpu_writer *w);

/* End the current row. */
void gpu_writer_end_row(struct gpu_writer *w);

/* Finish the output (close the JSON array, print the table). Returns 0, or
 * -1 when fp reports a write error. */
int gpu_writer_finish(struct gpu_writer *w);

#endif
