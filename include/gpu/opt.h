/* SPDX-License-Identifier: MIT */
/* Command-line options: the getopt loop and one wording for its errors. */
#ifndef GPU_OPT_H
#define GPU_OPT_H

#include <getopt.h>

/*
 * Report the error getopt_long() has just returned as c ('?' or ':'; call
 * getopt_long() with opterr = 0 and an optstring starting with ':'), read
 * from argv, optind and optopt: "unknown option '--x'", "option '--x' is
 * ambiguous", "option '-d' requires an argument" or "option '--help'
 * doesn't allow an argument", then usage and the --help hint, through
 * gpu_usage_error(). longopts is the table given to getopt_long(). Returns
 * GPU_EXIT_USAGE for the tool to exit with.
 */
int gpu_opt_error(const char *usage, int c, char *const argv[],
		  const struct option *longopts);

/*
 * Called with each option getopt_long() returns and its argument. Returns
 * -1 to go on, or an exit status to stop with (GPU_EXIT_OK after --help).
 */
typedef int gpu_opt_fn(void *ctx, int c, const char *arg);

/*
 * Run getopt_long() over argv (with opterr = 0; optstring must start with
 * ':'), hand every option to fn and report bad ones with gpu_opt_error().
 * Returns -1 when all options were taken (operands start at optind), or
 * the exit status fn or gpu_opt_error() returned.
 */
int gpu_opt_parse(int argc, char *argv[], const char *optstring,
		  const struct option *longopts, const char *usage,
		  gpu_opt_fn *fn, void *ctx);

/*
 * Report "unexpected operand 'OPERAND'" with usage and the --help hint, for
 * a tool that takes no operands. Returns GPU_EXIT_USAGE.
 */
int gpu_opt_operand_error(const char *usage, const char *operand);

#endif
