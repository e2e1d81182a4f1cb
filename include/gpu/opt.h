/* SPDX-License-Identifier: MIT */
/* Command-line errors: one wording for bad options and operands. */
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
 * Report "unexpected operand 'OPERAND'" with usage and the --help hint, for
 * a tool that takes no operands. Returns GPU_EXIT_USAGE.
 */
int gpu_opt_operand_error(const char *usage, const char *operand);

#endif
