/* SPDX-License-Identifier: MIT */
/* Atomic output files: write under a temporary name, rename when done. */
#ifndef GPU_OUTFILE_H
#define GPU_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "gpu/diag.h"

/*
 * An output file being written. Write to fp; path is the target as given
 * ("<stdout>" for standard output); tmp is the temporary name, or NULL when
 * the target is written in place.
 */
struct gpu_outfile {
	const char *path;
	char *tmp;
	FILE *fp;
	FILE *target; /* held back (gpu_outfile_hold()): where fp goes */
	char *mem;    /* where held data went when no file could be made */
	size_t memlen;
	char *buf;	/* the held stream's buffer */
	bool cut;	/* standard output written in place, which */
	long long cut_to; /* gpu_outfile_abort() truncates to cut_to */
};

/*
 * Open path for writing. NULL or "-" is standard output, and a path that
 * exists but is not a regular file (/dev/null, /dev/stdout, a FIFO) is
 * opened and written in place. Otherwise the data go to a new hidden file
 * ".NAME.XXXXXX" in the target's directory (mode 0666 less the umask),
 * which gpu_outfile_commit() renames to path, so no reader ever sees a
 * partial file; a run killed by a signal leaves at most that dotted file
 * behind, and the target untouched. path is borrowed and must outlive of.
 * Returns 0, or -1 with err filled ("cannot create 'PATH': ...") and of
 * holding nothing.
 */
int gpu_outfile_open(struct gpu_outfile *of, const char *path,
		     struct gpu_err *err);

/*
 * For a tool that writes as it goes and may fail part way: when of is
 * written in place (standard output, a device, a FIFO), write to a
 * temporary file instead (unlinked at once, in $TMPDIR or /tmp; in
 * memory when none can be made), which gpu_outfile_commit() copies to
 * the target and gpu_outfile_abort() drops, so that a run that fails
 * prints nothing. A no-op on a regular file, which the rename keeps whole
 * already. Two cases of standard output need no copy and are written in
 * place: /dev/null, and a regular file that is not open for appending
 * and is not also standard error, which gpu_outfile_abort() cuts back to
 * where the run found its end of data. Call it before anything is
 * written to of (it sets the stream's buffer).
 */
void gpu_outfile_hold(struct gpu_outfile *of);

/*
 * Finish the file: flush, fsync (temporary files only), close and rename
 * it into place; held data are copied to their target first. Standard
 * output is left open and unchecked, for the tool to close with
 * gpu_close_stdout(). Returns 0, or -1 with err filled ("write error on
 * 'PATH': ...", "cannot rename ...", "cannot hold the output in a
 * temporary file: ...") after removing the temporary file. Either way of
 * holds nothing afterwards.
 */
int gpu_outfile_commit(struct gpu_outfile *of, struct gpu_err *err);

/*
 * Give up: close the file and remove the temporary one, leaving the target
 * as it was. A no-op on an outfile that holds nothing (zeroed, committed
 * or aborted) and on standard output.
 */
void gpu_outfile_abort(struct gpu_outfile *of);

#endif
