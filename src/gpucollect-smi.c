/* SPDX-License-Identifier: MIT */
/* gpucollect: run nvidia-smi with a timeout and parse its CSV. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpu/num.h"
#include "gpucollect.h"

/* nvidia-smi prints kilobytes; anything past this is not its output. */
#define OUT_MAX (8 * 1024 * 1024)
/* After SIGKILL, how long to wait for a child stuck in the kernel. */
#define REAP_MS 2000

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
cloexec(int fd)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* In the child: never returns. */
static void
child(char *const argv[], int out, int err, int report)
{
	int null = open("/dev/null", O_RDONLY);
	ssize_t n;
	int e;

	setpgid(0, 0);
	if (null >= 0 && null != STDIN_FILENO) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	e = errno;
	n = write(report, &e, sizeof(e));
	(void)n; /* the parent reads a short report as a failure too */
	_exit(127);
}

/* Wait for pid without blocking past deadline (monotonic ms). */
static bool
reap(pid_t pid, int64_t deadline, int *st)
{
	for (;;) {
		pid_t r = waitpid(pid, st, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return r == pid;
		if (mono_ms() >= deadline)
			return false;
		sleep_ms(5);
	}
}

/* Read what is ready on fd into b; false at end of file or error. */
static bool
drain(int fd, struct gpu_buf *b)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	if (b->len < OUT_MAX)
		gpu_buf_add(b, chunk, (size_t)n);
	return true;
}

/* Collect stdout and stderr until both close, the deadline or too much. */
static void
collect_output(struct collect_cmd *c, int out, int err, int64_t deadline)
{
	struct pollfd p[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		int64_t left = deadline - mono_ms();
		int r;

		if (left <= 0) {
			c->timed_out = true;
			return;
		}
		r = poll(p, 2, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno != EINTR)
			return;
		for (int i = 0; i < 2 && r > 0; i++) {
			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			if (!drain(p[i].fd, i == 0 ? &c->out : &c->err))
				p[i].fd = -1;
		}
		if (c->out.len >= OUT_MAX || c->err.len >= OUT_MAX) {
			c->too_big = true;
			return;
		}
	}
}

/* Start argv; the three pipes' parent ends go to fds. Returns the pid. */
static pid_t
start(char *const argv[], int fds[3], struct collect_cmd *c)
{
	int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
	pid_t pid = -1;
	int e = 0;

	for (int i = 0; i < 3; i++) {
		if (pipe(p[i]) != 0) {
			e = errno;
			goto out;
		}
		cloexec(p[i][0]);
		cloexec(p[i][1]);
	}
	pid = fork();
	if (pid < 0) {
		e = errno;
		goto out;
	}
	if (pid == 0)
		child(argv, p[0][1], p[1][1], p[2][1]);
	setpgid(pid, pid);
	for (int i = 0; i < 3; i++) {
		fds[i] = p[i][0];
		p[i][0] = -1;
	}
out:
	for (int i = 0; i < 3; i++) {
		if (p[i][0] >= 0)
			close(p[i][0]);
		if (p[i][1] >= 0)
			close(p[i][1]);
	}
	if (e != 0)
		c->exec_errno = e;
	return pid;
}

int
collect_run(char *const argv[], long timeout_ms, struct collect_cmd *c)
{
	int fds[3] = {-1, -1, -1}, st = 0, e;
	int64_t deadline = mono_ms() + timeout_ms;
	pid_t pid;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	gpu_buf_init(&c->out);
	gpu_buf_init(&c->err);
	c->exit_code = -1;
	/* A child that outlived an earlier timeout may be reapable now. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	pid = start(argv, fds, c);
	if (pid < 0)
		return -1;
	/* The report pipe closes on exec, or carries exec's errno. */
	do
		n = read(fds[2], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(fds[2]);
	if (n == (ssize_t)sizeof(e)) {
		c->exec_errno = e;
		reap(pid, mono_ms() + REAP_MS, &st);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	collect_output(c, fds[0], fds[1], deadline);
	close(fds[0]);
	close(fds[1]);
	if (!c->timed_out && !c->too_big && !reap(pid, deadline, &st))
		c->timed_out = true;
	if (c->timed_out || c->too_big) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		reap(pid, mono_ms() + REAP_MS, &st);
		return -1;
	}
	if (WIFEXITED(st))
		c->exit_code = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		c->signo = WTERMSIG(st);
	return c->exit_code == 0 ? 0 : -1;
}

void
collect_cmd_release(struct collect_cmd *c)
{
	gpu_buf_release(&c->out);
	gpu_buf_release(&c->err);
}

/* The first non-blank line of b, trimmed, into msg after ": ". */
static bool
add_first_line(const struct gpu_buf *b, struct gpu_buf *msg)
{
	const char *p = b->data, *end = b->data + b->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl != NULL ? nl : end;
		const char *q = e;

		while (p < q && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		while (q > p &&
		       (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
			q--;
		if (q > p) {
			gpu_buf_adds(msg, ": ");
			gpu_buf_add(msg, p, (size_t)(q - p));
			return true;
		}
		p = e + 1;
	}
	return false;
}

void
collect_cmd_describe(const struct collect_cmd *c, const char *name,
		     const char *path, long timeout_ms, struct gpu_buf *msg)
{
	if (c->exec_errno != 0) {
		gpu_buf_addf(msg, "cannot run '%s': %s", path,
			     strerror(c->exec_errno));
		return;
	}
	gpu_buf_addf(msg, "%s failed ", name);
	if (c->timed_out)
		gpu_buf_addf(msg, "(timed out after %ld s)",
			     (timeout_ms + 999) / 1000);
	else if (c->too_big)
		gpu_buf_adds(msg, "(output too large)");
	else if (c->signo != 0)
		gpu_buf_addf(msg, "(killed by signal %d)", c->signo);
	else
		gpu_buf_addf(msg, "(exit %d)", c->exit_code);
	if (!add_first_line(&c->err, msg))
		add_first_line(&c->out, msg);
}

void
collect_gpu_release(struct collect_gpu *g)
{
	free(g->uuid);
	free(g->model);
	free(g->util);
	free(g->mem_used);
	free(g->mem_total);
	free(g->power);
	free(g->temp);
	free(g->job);
	free(g->user);
	free(g->project);
}

void
collect_app_release(struct collect_app *a)
{
	free(a->uuid);
}

void
collect_proc_release(struct collect_proc *p)
{
	free(p->job);
	free(p->user);
	free(p->project);
}

/* A field of one CSV line, trimmed. */
struct field {
	const char *p;
	size_t n;
};

/*
 * Split line[0..len) at commas into at most max fields (nvidia-smi
 * separates them with ", " and never quotes). Returns the field count, or
 * max + 1 when there are more.
 */
static size_t
split(const char *line, size_t len, struct field *f, size_t max)
{
	size_t nf = 0;
	const char *p = line, *end = line + len;

	for (;;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c != NULL ? c : end;
		const char *s = p;

		if (nf == max)
			return max + 1;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s &&
		       (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		f[nf].p = s;
		f[nf].n = (size_t)(e - s);
		nf++;
		if (c == NULL)
			return nf;
		p = c + 1;
	}
}

static bool
is_absent(const struct field *f)
{
	static const char *const na[] = {"", "[N/A]", "N/A", "[Not Supported]"};

	for (size_t i = 0; i < sizeof(na) / sizeof(na[0]); i++)
		if (f->n == strlen(na[i]) && memcmp(f->p, na[i], f->n) == 0)
			return true;
	return false;
}

static bool
is_text(const struct field *f)
{
	if (f->n > COLLECT_TEXT_MAX)
		return false;
	for (size_t i = 0; i < f->n; i++)
		if ((unsigned char)f->p[i] < 0x20 || f->p[i] == 0x7f)
			return false;
	return true;
}

/* A number nvidia-smi printed, copied; NULL when absent or not a number. */
static char *
number(const struct field *f, double min, const char *what, long line,
       bool quiet)
{
	double v;

	if (is_absent(f))
		return NULL;
	if (gpu_num_parse_double(f->p, f->n, &v) != 0 || v < min) {
		if (!quiet)
			gpu_warn("nvidia-smi:%ld: invalid %s '%.*s'", line,
				 what, (int)f->n, f->p);
		return NULL;
	}
	return gpu_xstrndup(f->p, f->n);
}

static char *
text(const struct field *f)
{
	if (is_absent(f) || !is_text(f))
		return NULL;
	return gpu_xstrndup(f->p, f->n);
}

enum {
	Q_TS,
	Q_INDEX,
	Q_UUID,
	Q_NAME,
	Q_UTIL,
	Q_MEM_USED,
	Q_MEM_TOTAL,
	Q_POWER,
	Q_TEMP,
	Q_NFIELDS
};

/* Fill g from the fields of one line; false (g released) to skip it. */
static bool
parse_gpu_line(const struct field *f, long line, int64_t now_ms, bool quiet,
	       struct collect_gpu *g)
{
	int64_t idx;

	memset(g, 0, sizeof(*g));
	g->line = line;
	if (gpu_num_parse_i64(f[Q_INDEX].p, f[Q_INDEX].n, &idx) != 0 ||
	    idx < 0 || idx > 1023 || f[Q_INDEX].p[0] == '+' ||
	    f[Q_INDEX].p[0] == '-') {
		if (!quiet)
			gpu_warn("nvidia-smi:%ld: invalid GPU index '%.*s'; "
				 "line skipped",
				 line, (int)f[Q_INDEX].n, f[Q_INDEX].p);
		return false;
	}
	g->index = (long)idx;
	if (collect_local_time(f[Q_TS].p, f[Q_TS].n, now_ms, &g->ts_ms) != 0)
		g->ts_ms = now_ms - now_ms % 1000;
	g->uuid = text(&f[Q_UUID]);
	g->model = text(&f[Q_NAME]);
	g->util = number(&f[Q_UTIL], 0, "utilization.gpu", line, quiet);
	g->mem_used = number(&f[Q_MEM_USED], 0, "memory.used", line, quiet);
	g->mem_total = number(&f[Q_MEM_TOTAL], 0, "memory.total", line, quiet);
	g->power = number(&f[Q_POWER], 0, "power.draw", line, quiet);
	g->temp = number(&f[Q_TEMP], -300, "temperature.gpu", line, quiet);
	if (g->util == NULL || g->mem_used == NULL) {
		if (!quiet)
			gpu_warn("nvidia-smi:%ld: GPU %ld has no %s; line "
				 "skipped",
				 line, g->index,
				 g->util == NULL ? "utilization.gpu"
						 : "memory.used");
		collect_gpu_release(g);
		return false;
	}
	return true;
}

/*
 * Take the next line of [*p, end) into *line, *n (without its "\n") and
 * advance *p past it. Returns false at the end.
 */
static bool
next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	if (nl == NULL)
		nl = end;
	*line = *p;
	*n = (size_t)(nl - *p);
	*p = nl < end ? nl + 1 : end;
	return true;
}

static bool
is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

void
collect_parse_gpus(const char *text_, size_t len, int64_t now_ms, bool quiet,
		   struct collect_gpu **gpus, size_t *n)
{
	const char *p = text_, *end = text_ + len, *line;
	size_t ln;
	long lineno = 0;

	while (next_line(&p, end, &line, &ln)) {
		struct field f[Q_NFIELDS];

		lineno++;
		if (is_blank(line, ln))
			continue;
		if (split(line, ln, f, Q_NFIELDS) != Q_NFIELDS) {
			if (!quiet)
				gpu_warn("nvidia-smi:%ld: expected %d fields; "
					 "line skipped",
					 lineno, Q_NFIELDS);
			continue;
		}
		*gpus = gpu_xreallocarray(*gpus, *n + 1, sizeof(**gpus));
		if (parse_gpu_line(f, lineno, now_ms, quiet, &(*gpus)[*n]))
			(*n)++;
	}
}

void
collect_parse_apps(const char *text_, size_t len, struct collect_app **apps,
		   size_t *n)
{
	const char *p = text_, *end = text_ + len, *line;
	size_t ln;

	while (next_line(&p, end, &line, &ln)) {
		struct field f[3];
		int64_t pid;

		if (split(line, ln, f, 3) != 3 || is_absent(&f[0]) ||
		    !is_text(&f[0]) ||
		    gpu_num_parse_i64(f[1].p, f[1].n, &pid) != 0 || pid <= 0)
			continue;
		*apps = gpu_xreallocarray(*apps, *n + 1, sizeof(**apps));
		(*apps)[*n].uuid = gpu_xstrndup(f[0].p, f[0].n);
		(*apps)[*n].pid = (long)pid;
		(*n)++;
	}
}

/* Read exactly n digits at *p into *v. */
static bool
digits(const char **p, const char *end, int n, int *v)
{
	*v = 0;
	if (end - *p < n)
		return false;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

static bool
expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

/* mktime() for tm with summer time isdst, if that reading exists. */
static bool
local_reading(const struct tm *in, int isdst, time_t *out)
{
	struct tm t = *in, back;
	time_t v;

	t.tm_isdst = isdst;
	v = mktime(&t);
	if (v == (time_t)-1 || localtime_r(&v, &back) == NULL)
		return false;
	if (back.tm_year != in->tm_year || back.tm_mon != in->tm_mon ||
	    back.tm_mday != in->tm_mday || back.tm_hour != in->tm_hour ||
	    back.tm_min != in->tm_min || back.tm_sec != in->tm_sec)
		return false;
	*out = v;
	return true;
}

int
collect_local_time(const char *s, size_t len, int64_t now_ms, int64_t *ms)
{
	const char *p = s, *end = s + len;
	struct tm tm = {0};
	time_t std, dst, v;
	bool has_std, has_dst;
	int y, mo, d, h, mi, sec;

	if (!digits(&p, end, 4, &y) || !expect(&p, end, '/') ||
	    !digits(&p, end, 2, &mo) || !expect(&p, end, '/') ||
	    !digits(&p, end, 2, &d) || !expect(&p, end, ' ') ||
	    !digits(&p, end, 2, &h) || !expect(&p, end, ':') ||
	    !digits(&p, end, 2, &mi) || !expect(&p, end, ':') ||
	    !digits(&p, end, 2, &sec))
		return -1;
	if (p < end && *p == '.') {
		p++;
		if (p == end)
			return -1;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p != end || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	has_std = local_reading(&tm, 0, &std);
	has_dst = local_reading(&tm, 1, &dst);
	if (has_std && has_dst && std != dst) {
		int64_t now = now_ms / 1000;
		int64_t ds = (int64_t)std - now, dd = (int64_t)dst - now;

		v = (ds < 0 ? -ds : ds) <= (dd < 0 ? -dd : dd) ? std : dst;
	} else if (has_std) {
		v = std;
	} else if (has_dst) {
		v = dst;
	} else {
		return -1; /* the hour skipped at the change to summer time */
	}
	*ms = (int64_t)v * 1000;
	return 0;
}
