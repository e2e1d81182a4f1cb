/* SPDX-License-Identifier: MIT */
/* Diagnostics: error records, messages to stderr, checked allocation. */
#include "gpu/diag.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *progname = "gpuusage";

static void
copy_source(struct gpu_err *err, const char *source)
{
	size_t n = source != NULL ? strlen(source) : 0;

	if (n >= sizeof(err->source))
		n = sizeof(err->source) - 1;
	if (n > 0)
		memcpy(err->source, source, n);
	err->source[n] = '\0';
}

int
gpu_err_set(struct gpu_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->source[0] = '\0';
	err->line = 0;
	return -1;
}

int
gpu_err_at(struct gpu_err *err, const char *source, long line, const char *fmt,
	   ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	copy_source(err, source);
	err->line = line;
	return -1;
}

void
gpu_diag_init(const char *argv0)
{
	const char *slash;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	progname = slash != NULL ? slash + 1 : argv0;
}

const char *
gpu_progname(void)
{
	return progname;
}

/* Print "PROG: PREFIXmessage\n" to stderr. */
static void vmsg(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", progname, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
gpu_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void
gpu_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void
gpu_msg_at(const char *source, long line, const char *fmt, ...)
{
	va_list ap;

	if (line > 0)
		fprintf(stderr, "%s: %s:%ld: ", progname, source, line);
	else
		fprintf(stderr, "%s: %s: ", progname, source);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
gpu_msg_err(const struct gpu_err *err)
{
	if (err->source[0] == '\0')
		gpu_msg("%s", err->msg);
	else
		gpu_msg_at(err->source, err->line, "%s", err->msg);
}

void
gpu_msg_err_hint(const struct gpu_err *err, const char *hint)
{
	struct gpu_err e = *err;

	if (hint != NULL && snprintf(e.msg, sizeof(e.msg), "%s (%s)", err->msg,
				     hint) >= (int)sizeof(e.msg))
		e = *err; /* too long for the hint: the fact alone */
	gpu_msg_err(&e);
}

int
gpu_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	fputs(usage, stderr);
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	return GPU_EXIT_USAGE;
}

int
gpu_usage_error_err(const char *usage, const struct gpu_err *err)
{
	gpu_msg_err(err);
	fputs(usage, stderr);
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	return GPU_EXIT_USAGE;
}

bool
gpu_env_off(const char *name)
{
	const char *e = getenv(name);

	return e != NULL && strcmp(e, "0") == 0;
}

int
gpu_close_stdout(int status)
{
	int failed = fflush(stdout) != 0 || ferror(stdout);

	if (fclose(stdout) != 0)
		failed = 1;
	if (failed) {
		gpu_msg("write error: %s", strerror(errno));
		return GPU_EXIT_FAIL;
	}
	return status;
}

static void *
oom(void)
{
	fprintf(stderr, "%s: out of memory\n", progname);
	exit(GPU_EXIT_FAIL);
}

void *
gpu_xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	return p != NULL ? p : oom();
}

void *
gpu_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);

	return p != NULL ? p : oom();
}

void *
gpu_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n == 0 ? 1 : n);

	return q != NULL ? q : oom();
}

void *
gpu_xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return oom();
	return gpu_xrealloc(p, n * size);
}

char *
gpu_xstrdup(const char *s)
{
	return gpu_xstrndup(s, strlen(s));
}

char *
gpu_xstrndup(const char *s, size_t n)
{
	char *p = gpu_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
