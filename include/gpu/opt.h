/* SPDX-License-Identifier: MIT */
/* Command-line options: the getopt loop and one wording for its errors. */
#ifndef GPU_OPT_H
#define GPU_OPT_H

#include <getopt.h>
#include <stdio.h>

/*
 * The hidden option that makes gpu_opt_parse() list the options instead
 * of running the tool (see gpu_opt_list()). It is matched only exactly and
 * alone, so that it takes no name or abbreviation from a tool's table.
 */
#define GPU_OPT_LIST "--list-options"

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
 * Write the options of optstring and longopts to fp, one a line of three
 * fields separated by a tab: the long name ("--db", or "-" for a short
 * option without one), what it takes ("arg", "optional" or "none") and its
 * short letter ("-d", or "-" for none). Long options come in table order,
 * then the short ones without a long name. This is the single source of
 * the shell completions (scripts/gen-completions.sh). Returns 0, or -1
 * when writing failed.
 */
int gpu_opt_list(FILE *fp, const char *optstring,
		 const struct option *longopts);

/*
 * Run getopt_long() over argv (with opterr = 0; optstring must start with
 * ':'), hand every option to fn and report bad ones with gpu_opt_error().
 * Returns -1 when all options were taken (operands start at optind), or
 * the exit status fn or gpu_opt_error() returned. With GPU_OPT_LIST as
 * the only argument it prints gpu_opt_list() on stdout and returns
 * GPU_EXIT_OK instead (GPU_EXIT_FAIL after "write error: ...").
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
