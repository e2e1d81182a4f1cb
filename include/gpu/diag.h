/* SPDX-License-Identifier: MIT */
/* Diagnostics: exit codes, error records, messages and checked allocation. */
#ifndef GPU_DIAG_H
#define GPU_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum { GPU_EXIT_OK = 0, GPU_EXIT_FAIL = 1, GPU_EXIT_USAGE = 2 };

/*
 * An error as a core function reports it: a message, and where known the
 * source name and physical line it concerns (line 0: none).
 */
struct gpu_err {
	char msg[512];
	char source[256];
	long line;
};

/*
 * Fill err (which may be NULL) with a printf-style message and no location.
 * Always returns -1, so that callers can write "return gpu_err_set(...)".
 */
int gpu_err_set(struct gpu_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Like gpu_err_set, with a source name and line. Returns -1. */
int gpu_err_at(struct gpu_err *err, const char *source, long line,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Set the program name used as message prefix from argv[0] (its base name).
 * Call once at the start of main(); this is the one global of the core.
 */
void gpu_diag_init(const char *argv0);

/* The program name set by gpu_diag_init(), or "gpuusage". Borrowed. */
const char *gpu_progname(void);

/* Print "PROG: message\n" to stderr. */
void gpu_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "PROG: warning: message\n" to stderr. */
void gpu_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "PROG: SOURCE:LINE: message\n" (no ":LINE" when line <= 0). */
void gpu_msg_at(const char *source, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print an error record as gpu_msg_at() would. */
void gpu_msg_err(const struct gpu_err *err);

/* The same with " (hint)" after the message, when it fits (NULL: none). */
void gpu_msg_err_hint(const struct gpu_err *err, const char *hint);

/*
 * Report a usage error (STYLE.md): "PROG: message", then usage (the
 * synopsis, ending in a newline), then "Try 'PROG --help' for more
 * information." on stderr. Returns GPU_EXIT_USAGE for the tool to exit
 * with; never exits itself.
 */
int gpu_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same for err, named by its source and line when it has them. */
int gpu_usage_error_err(const char *usage, const struct gpu_err *err);

/*
 * Whether the environment sets name to "0": how a user turns off one of
 * the tools' ways to go faster (GPUUSAGE_PAGES, GPUUSAGE_HUGEPAGES,
 * GPUUSAGE_FLUSH; docs/FORMAT.md section 2), which change no output.
 */
bool gpu_env_off(const char *name);

/*
 * Flush and close stdout; on failure print "write error: ..." and return
 * GPU_EXIT_FAIL, else return status unchanged. Call as the last thing.
 */
int gpu_close_stdout(int status);

/* Allocation that never returns NULL: on out-of-memory it prints and exits. */
void *gpu_xmalloc(size_t n);
void *gpu_xcalloc(size_t n, size_t size);
void *gpu_xrealloc(void *p, size_t n);
void *gpu_xreallocarray(void *p, size_t n, size_t size);
char *gpu_xstrdup(const char *s);
char *gpu_xstrndup(const char *s, size_t n);

#endif
