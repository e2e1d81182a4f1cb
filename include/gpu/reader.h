/* SPDX-License-Identifier: MIT */
/* The raw sample reader (SPEC.md 1), over the generic table reader. */
#ifndef GPU_READER_H
#define GPU_READER_H

#include <stdbool.h>
#include <stdio.h>

#include "gpu/diag.h"
#include "gpu/sample.h"
#include "gpu/table.h"
#include "gpu/tz.h"

/*
 * Raw sample reader. Detects CSV or JSON Lines from the first non-blank byte
 * unless opts.format says; reads nvidia-smi CSV as is (header names mapped,
 * units stripped, ", " separators); takes node from opts.node when the input
 * has none and the timestamp from opts.at_ms when it has none.
 */
struct gpu_reader_opts {
	enum gpu_format format;
	const char *node;	/* --node: host for inputs without a node column */
	const char *columns;	/* --columns: names for headerless input */
	bool has_at;		/* --at: timestamp for inputs without one */
	int64_t at_ms;
};

struct gpu_reader;

/*
 * What gpu_reader_open() found, beyond -1, so that a tool can say how to
 * supply what is missing: the input has no node (timestamp) column and
 * opts gives no node (no timestamp).
 */
enum { GPU_READER_NO_NODE = -2, GPU_READER_NO_TIME = -3 };

/*
 * Open a sample reader over fp (not closed), named source in messages
 * ("<stdin>" for standard input). Returns 0 with *out set, or fills err
 * (source and header line set) and returns GPU_READER_NO_NODE or
 * GPU_READER_NO_TIME for those missing columns ("missing required column
 * 'node'"), else -1, when the input cannot be read as samples at all:
 * empty input, another missing required column ("missing required column
 * 'util_pct'"), a duplicate column, an invalid opts.node. Header names are
 * matched case-insensitively, nvidia-smi names included (a "[unit]"
 * suffix is ignored). opts.node and opts.at_ms fill any row whose node /
 * timestamp is absent. Unknown columns are collected; see
 * gpu_reader_unknown(). Free with gpu_reader_free().
 */
int gpu_reader_open(FILE *fp, const char *source,
		    const struct gpu_reader_opts *opts, struct gpu_reader **out,
		    struct gpu_err *err);

/*
 * How to give what gpu_reader_open()'s code rc says the input lacks
 * ("use --node NAME for input without one"), or NULL.
 */
const char *gpu_reader_open_hint(int rc);

/*
 * Check a node name as opts.node takes it (not empty, no control
 * characters, valid UTF-8, at most 128 bytes), so that a tool can refuse
 * a bad --node before reading any input. Returns 0, or -1 with err
 * filled ("invalid node name 'x'").
 */
int gpu_reader_check_node(const char *node, struct gpu_err *err);

/* gpu_reader_open() for a caller with no use for the code: NULL on failure. */
struct gpu_reader *gpu_reader_new(FILE *fp, const char *source,
				  const struct gpu_reader_opts *opts,
				  struct gpu_err *err);
void gpu_reader_free(struct gpu_reader *r);

/*
 * Read the next row: GPU_READ_SAMPLE fills s (and *line), GPU_READ_REJECT
 * fills rej, GPU_READ_EOF at the end, -1 on a fatal error with err filled.
 * Reject reasons name the column: "missing util_pct", "invalid gpu",
 * "util_pct out of range", "node too long", "control character in node",
 * "invalid UTF-8 in user", "mem_used_mib above mem_total_mib", "invalid
 * timestamp", "timestamp out of range", and the structural ones of
 * gpu_table_next(). Everything filled is borrowed until the next call.
 */
int gpu_reader_next(struct gpu_reader *r, struct gpu_sample *s, long *line,
		    struct gpu_reject *rej, struct gpu_err *err);

/*
 * Read timestamps that carry no offset ("2026/11/28 16:00:00") as local
 * times of tz (borrowed; it must outlive r) instead of UTC: a time a DST
 * change skips is rejected ("nonexistent local time ..."), one it repeats
 * takes its first occurrence. Epoch numbers and times with an offset are
 * unaffected. Call before the first gpu_reader_next().
 */
void gpu_reader_set_tz(struct gpu_reader *r, struct gpu_tz *tz);

/* Comma-separated names of the columns the reader ignored ("" if none).
 * Borrowed, valid until the next gpu_reader_next(). For JSON Lines the
 * unknown keys of the first line are known after gpu_reader_new(); later
 * lines may add more (a tool may ask again at the end). Tools warn once. */
const char *gpu_reader_unknown(const struct gpu_reader *r);

/*
 * Whether r's rows after its header may be read in pieces by readers of
 * their own over the same header (gpu_readahead_start_split()): CSV (each
 * row then ends at a line end outside quotes) with a header (a reader
 * opened over a piece of headerless input would check the piece's first
 * bytes as the start of an input: empty, a BOM, dcgmi's report), and no
 * time zone set (its cache is not shared between threads).
 */
bool gpu_reader_splittable(const struct gpu_reader *r);

/* Raw text of the physical line where the current row starts is in the
 * reject; this returns how many bytes have been consumed so far (for a
 * progress display). */
long long gpu_reader_offset(const struct gpu_reader *r);

#endif
