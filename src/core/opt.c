/* SPDX-License-Identifier: MIT */
/* Command-line options: the getopt loop and one wording for its errors. */
#include "gpu/opt.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "gpu/diag.h"

/* Whether name[0..len) abbreviates (or is) the long option o. */
static bool
abbreviates(const struct option *o, const char *name, size_t len)
{
	return strncmp(o->name, name, len) == 0;
}

/*
 * Whether the long option name[0..len) matches more than one option
 * (getopt_long() then reports it as unknown, with optopt 0).
 */
static bool
ambiguous(const struct option *longopts, const char *name, size_t len)
{
	const struct option *o, *first = NULL;

	for (o = longopts; o->name != NULL; o++) {
		if (!abbreviates(o, name, len))
			continue;
		if (strlen(o->name) == len)
			return false; /* an exact match wins */
		if (first == NULL)
			first = o;
		else if (o->val != first->val || o->has_arg != first->has_arg ||
			 o->flag != first->flag)
			return true;
	}
	return false;
}

/* Whether "--name=..." names a no_argument option whose value is val. */
static bool
takes_no_argument(const struct option *longopts, const char *name, size_t len,
		  int val)
{
	const struct option *o;

	for (o = longopts; o->name != NULL; o++)
		if (o->val == val && o->has_arg == no_argument &&
		    abbreviates(o, name, len))
			return true;
	return false;
}

int
gpu_opt_error(const char *usage, int c, char *const argv[],
	      const struct option *longopts)
{
	/*
	 * A long option is argv[optind - 1] (getopt_long() has stepped past
	 * it); a short one is only known by optopt, since optind does not
	 * move until the last letter of a cluster like "-vq".
	 */
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	bool is_long = strncmp(arg, "--", 2) == 0 && arg[2] != '\0';
	const char *eq = is_long ? strchr(arg, '=') : NULL;
	size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);

	if (c == ':') {
		if (is_long && eq == NULL)
			return gpu_usage_error(
			    usage, "option '%s' requires an argument", arg);
		return gpu_usage_error(
		    usage, "option '-%c' requires an argument", optopt);
	}
	if (is_long && optopt == 0) {
		if (ambiguous(longopts, arg + 2, len - 2))
			return gpu_usage_error(
			    usage, "option '%.*s' is ambiguous", (int)len, arg);
		return gpu_usage_error(usage, "unknown option '%.*s'", (int)len,
				       arg);
	}
	if (eq != NULL && takes_no_argument(longopts, arg + 2, len - 2, optopt))
		return gpu_usage_error(
		    usage, "option '%.*s' doesn't allow an argument", (int)len,
		    arg);
	if (optopt > 0 && optopt < 256)
		return gpu_usage_error(usage, "unknown option '-%c'", optopt);
	return gpu_usage_error(usage, "unknown option '%s'", arg);
}

int
gpu_opt_operand_error(const char *usage, const char *operand)
{
	return gpu_usage_error(usage, "unexpected operand '%s'", operand);
}

/*
 * The short letter of long option o, or 0: its val when that is a letter
 * of optstring and no flag takes it.
 */
static int
short_letter(const struct option *o, const char *optstring)
{
	if (o->flag != NULL || o->val <= 0 || o->val >= 256 || o->val == ':')
		return 0;
	return strchr(optstring, o->val) != NULL ? o->val : 0;
}

/* Whether the short option letter has a long name in longopts. */
static bool
has_long_name(const struct option *longopts, const char *optstring, int letter)
{
	const struct option *o;

	for (o = longopts; o->name != NULL; o++)
		if (short_letter(o, optstring) == letter)
			return true;
	return false;
}

int
gpu_opt_list(FILE *fp, const char *optstring, const struct option *longopts)
{
	static const char *const takes[] = {"none", "arg", "optional"};
	const struct option *o;
	const char *p;
	int letter;

	for (o = longopts; o->name != NULL; o++) {
		letter = short_letter(o, optstring);
		if (letter != 0)
			fprintf(fp, "--%s\t%s\t-%c\n", o->name,
				takes[o->has_arg], letter);
		else
			fprintf(fp, "--%s\t%s\t-\n", o->name,
				takes[o->has_arg]);
	}
	for (p = optstring; *p != '\0'; p++) {
		if (*p == ':' || has_long_name(longopts, optstring, *p))
			continue;
		fprintf(fp, "-\t%s\t-%c\n",
			p[1] == ':' ? (p[2] == ':' ? "optional" : "arg")
				    : "none",
			*p);
	}
	return ferror(fp) ? -1 : 0;
}

int
gpu_opt_parse(int argc, char *argv[], const char *optstring,
	      const struct option *longopts, const char *usage, gpu_opt_fn *fn,
	      void *ctx)
{
	int c, rc;

	/*
	 * The completion generator asks each built tool for its own table,
	 * so that the completions never drift from the options; stdout is
	 * the tool's, as with --help. It is flushed, not closed: some
	 * tools close it themselves on the way out.
	 */
	if (argc == 2 && strcmp(argv[1], GPU_OPT_LIST) == 0) {
		if (gpu_opt_list(stdout, optstring, longopts) != 0 ||
		    fflush(stdout) != 0) {
			gpu_msg("write error: %s", strerror(errno));
			clearerr(stdout); /* reported once, here */
			return GPU_EXIT_FAIL;
		}
		return GPU_EXIT_OK;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return gpu_opt_error(usage, c, argv, longopts);
		if ((rc = fn(ctx, c, optarg)) >= 0)
			return rc;
	}
	return -1;
}
