/* SPDX-License-Identifier: MIT */
/* gpucollect: which Slurm job holds a GPU (/proc, DCGM job map). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/attrib.h"
#include "gpucollect.h"

/* /proc/PID/environ may be large (ARG_MAX); cgroup files are small. */
#define PROC_FILE_MAX (4 * 1024 * 1024)

static bool
has_prefix(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(p, prefix, k) == 0;
}

static bool
has_suffix(const char *p, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(p + n - k, suffix, k) == 0;
}

static bool
all_digits(const char *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* "PREFIX" followed by at least one digit and nothing else. */
static bool
is_numbered(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return has_prefix(p, n, prefix) && all_digits(p + k, n - k);
}

/* One path component. */
struct comp {
	const char *p;
	size_t n;
};

bool
collect_cgroup_line_job(const char *line, size_t len, const char **job,
			size_t *jlen)
{
	const char *end = line + len, *c1, *c2, *p;
	struct comp prev2 = {NULL, 0}, prev = {NULL, 0};

	c1 = memchr(line, ':', len);
	if (c1 == NULL || c1 == line || !all_digits(line, (size_t)(c1 - line)))
		return false;
	c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
	if (c2 == NULL || c2 + 1 >= end || c2[1] != '/')
		return false;
	for (p = c2 + 1; p < end;) {
		const char *s = p + 1, *e = memchr(s, '/', (size_t)(end - s));
		struct comp cur;

		if (e == NULL)
			e = end;
		while (e > s && (e[-1] == '\r' || e[-1] == '\n'))
			e--;
		cur.p = s;
		cur.n = (size_t)(e - s);
		if (is_numbered(cur.p, cur.n, "job_")) {
			bool v1 = prev.p != NULL &&
				  is_numbered(prev.p, prev.n, "uid_") &&
				  prev2.p != NULL &&
				  has_prefix(prev2.p, prev2.n, "slurm");
			bool v2 =
			    prev.p != NULL &&
			    has_suffix(prev.p, prev.n, "slurmstepd.scope");

			if (v1 || v2) {
				*job = cur.p + 4;
				*jlen = cur.n - 4;
				return true;
			}
		}
		prev2 = prev;
		prev = cur;
		p = e;
		if (p < end && *p != '/')
			break;
	}
	return false;
}

bool
collect_cgroup_job(const char *text, size_t len, const char **job, size_t *jlen)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl != NULL ? nl : end;

		if (collect_cgroup_line_job(p, (size_t)(e - p), job, jlen))
			return true;
		p = e + 1;
	}
	return false;
}

bool
collect_environ_get(const char *env, size_t len, const char *name,
		    const char **val, size_t *vlen)
{
	const char *p = env, *end = env + len;
	size_t k = strlen(name);

	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		const char *e = nul != NULL ? nul : end;
		size_t n = (size_t)(e - p);

		if (n > k && memcmp(p, name, k) == 0 && p[k] == '=') {
			*val = p + k + 1;
			*vlen = n - k - 1;
			return true;
		}
		p = e + 1;
	}
	return false;
}

bool
collect_job_valid(const char *s, size_t n)
{
	if (n == 0 || n > COLLECT_TEXT_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
		      c == '+' || c == '-'))
			return false;
	}
	return true;
}

/* Read path whole (up to PROC_FILE_MAX) into b. Returns 0, or -1 with errno. */
static int
read_file(const char *path, struct gpu_buf *b)
{
	char chunk[8192];
	int fd = open(path, O_RDONLY);
	int e = 0;

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			break;
		}
		if (n == 0 || b->len >= PROC_FILE_MAX)
			break;
		gpu_buf_add(b, chunk, (size_t)n);
	}
	close(fd);
	errno = e;
	return e == 0 ? 0 : -1;
}

static int
read_proc_file(const char *proc_dir, long pid, const char *name,
	       struct gpu_buf *b)
{
	struct gpu_buf path;
	int rc, e;

	gpu_buf_init(&path);
	gpu_buf_addf(&path, "%s/%ld/%s", proc_dir, pid, name);
	rc = read_file(path.data, b);
	e = errno;
	gpu_buf_release(&path);
	errno = e;
	return rc;
}

/* A copy of environ's NAME when it is usable text, else NULL. */
static char *
env_text(const struct gpu_buf *env, const char *name)
{
	const char *v;
	size_t n;

	if (!collect_environ_get(env->data, env->len, name, &v, &n) || n == 0 ||
	    n > COLLECT_TEXT_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return NULL;
	return gpu_xstrndup(v, n);
}

static bool
env_job(const struct gpu_buf *env, const char *name, const char **v, size_t *n)
{
	return collect_environ_get(env->data, env->len, name, v, n) &&
	       collect_job_valid(*v, *n);
}

/* "A_T" for an array task, else NULL. */
static char *
array_name(const struct gpu_buf *env)
{
	const char *a, *t;
	size_t na, nt;
	struct gpu_buf b;

	if (!collect_environ_get(env->data, env->len, "SLURM_ARRAY_JOB_ID", &a,
				 &na) ||
	    !collect_environ_get(env->data, env->len, "SLURM_ARRAY_TASK_ID", &t,
				 &nt) ||
	    !all_digits(a, na) || !all_digits(t, nt) ||
	    na + nt + 1 > COLLECT_TEXT_MAX)
		return NULL;
	gpu_buf_init(&b);
	gpu_buf_add(&b, a, na);
	gpu_buf_addc(&b, '_');
	gpu_buf_add(&b, t, nt);
	return b.data;
}

void
collect_proc_read(const char *proc_dir, long pid, struct collect_proc *p)
{
	struct gpu_buf cg, env;
	const char *cj = NULL, *ej = NULL;
	size_t cn = 0, en = 0;
	bool has_cg, has_env;

	memset(p, 0, sizeof(*p));
	gpu_buf_init(&cg);
	gpu_buf_init(&env);
	if (read_proc_file(proc_dir, pid, "cgroup", &cg) != 0 &&
	    (errno == ENOENT || errno == ESRCH)) {
		p->gone = true;
		goto out;
	}
	has_cg = collect_cgroup_job(cg.data, cg.len, &cj, &cn);
	has_env = read_proc_file(proc_dir, pid, "environ", &env) == 0 &&
		  env_job(&env, "SLURM_JOB_ID", &ej, &en);
	if (has_cg && has_env && (cn != en || memcmp(cj, ej, cn) != 0))
		has_env = false; /* an environ inherited from another job */
	if (has_env) {
		p->job = array_name(&env);
		if (p->job == NULL)
			p->job = gpu_xstrndup(ej, en);
		p->user = env_text(&env, "SLURM_JOB_USER");
		p->project = env_text(&env, "SLURM_JOB_ACCOUNT");
	} else if (has_cg) {
		p->job = gpu_xstrndup(cj, cn);
	}
out:
	gpu_buf_release(&cg);
	gpu_buf_release(&env);
}

/* Append the distinct jobs of a list as "a, b, c". */
static void
list_jobs(struct gpu_buf *b, char *const *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			gpu_buf_adds(b, ", ");
		gpu_buf_adds(b, jobs[i]);
	}
}

/* Add job to the sorted, distinct list jobs[0..*n). */
static void
add_job(char ***jobs, size_t *n, const char *job, size_t len)
{
	char *j = gpu_xstrndup(job, len);
	size_t i = 0;
	int c = 1;

	while (i < *n && (c = gpu_job_id_cmp((*jobs)[i], j)) < 0)
		i++;
	if (i < *n && c == 0) {
		free(j);
		return;
	}
	*jobs = gpu_xreallocarray(*jobs, *n + 1, sizeof(**jobs));
	memmove(*jobs + i + 1, *jobs + i, (*n - i) * sizeof(**jobs));
	(*jobs)[i] = j;
	(*n)++;
}

static void
free_jobs(char **jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(jobs[i]);
	free(jobs);
}

/* The first of a sorted job list, warning about the others. */
static char *
pick_job(char **jobs, size_t n, long index, const char *where, bool quiet)
{
	struct gpu_buf b;
	char *job;

	if (n == 0)
		return NULL;
	if (n > 1 && !quiet) {
		gpu_buf_init(&b);
		list_jobs(&b, jobs, n);
		gpu_warn("GPU %ld: several jobs %s (%s): using %s", index,
			 where, b.data, jobs[0]);
		gpu_buf_release(&b);
	}
	job = jobs[0];
	jobs[0] = NULL;
	return job;
}

char *
collect_job_map_read(const char *dir, long index, bool quiet)
{
	struct gpu_buf path, text;
	char **jobs = NULL, *job = NULL;
	size_t njobs = 0;
	long lineno = 0;
	const char *p, *end;

	gpu_buf_init(&path);
	gpu_buf_init(&text);
	gpu_buf_addf(&path, "%s/%ld", dir, index);
	if (read_file(path.data, &text) != 0) {
		if (errno != ENOENT && !quiet)
			gpu_warn("cannot read '%s': %s", path.data,
				 strerror(errno));
		goto out;
	}
	for (p = text.data, end = p + text.len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl != NULL ? nl : end;
		const char *s = p;

		lineno++;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s &&
		       (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (e > s && collect_job_valid(s, (size_t)(e - s)))
			add_job(&jobs, &njobs, s, (size_t)(e - s));
		else if (e > s && !quiet)
			gpu_warn("%s:%ld: invalid job id; line ignored",
				 path.data, lineno);
		p = (nl != NULL ? nl : end) + 1;
	}
	job = pick_job(jobs, njobs, index, "in the job map", quiet);
out:
	free_jobs(jobs, njobs);
	gpu_buf_release(&path);
	gpu_buf_release(&text);
	return job;
}

static bool
on_gpu(const struct collect_gpu *g, const struct collect_app *a)
{
	return g->uuid != NULL && strcmp(g->uuid, a->uuid) == 0;
}

/* User and project from a process of g's job. */
static void
fill_owner(struct collect_gpu *g, const struct collect_app *apps,
	   const struct collect_proc *procs, size_t napps)
{
	for (size_t i = 0; i < napps; i++) {
		const struct collect_proc *p = &procs[i];

		if (!on_gpu(g, &apps[i]) || p->job == NULL ||
		    strcmp(p->job, g->job) != 0)
			continue;
		if (g->user == NULL && p->user != NULL)
			g->user = gpu_xstrdup(p->user);
		if (g->project == NULL && p->project != NULL)
			g->project = gpu_xstrdup(p->project);
	}
}

void
collect_attribute(struct collect_gpu *gpus, size_t ngpus,
		  const struct collect_app *apps,
		  const struct collect_proc *procs, size_t napps,
		  const char *job_map, bool quiet)
{
	for (size_t k = 0; k < ngpus; k++) {
		struct collect_gpu *g = &gpus[k];
		char **jobs = NULL;
		size_t njobs = 0;

		if (job_map != NULL)
			g->job = collect_job_map_read(job_map, g->index, quiet);
		if (g->job == NULL) {
			for (size_t i = 0; i < napps; i++)
				if (on_gpu(g, &apps[i]) && procs[i].job != NULL)
					add_job(&jobs, &njobs, procs[i].job,
						strlen(procs[i].job));
			g->job = pick_job(jobs, njobs, g->index,
					  "have processes on it", quiet);
			free_jobs(jobs, njobs);
		}
		if (g->job != NULL)
			fill_owner(g, apps, procs, napps);
	}
}
