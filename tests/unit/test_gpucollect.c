/* SPDX-License-Identifier: MIT */
/* Unit tests for gpucollect's private parts (src/gpucollect-*.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu/time.h"
#include "gpucollect.h"

/* Run from the top of the tree, as make check does. */
#define PROC "tests/fixtures/gpucollect/proc"

/* The job a cgroup line names, or "" for none. */
static const char *
line_job(const char *line)
{
	static char out[64];
	const char *job;
	size_t n;

	if (!collect_cgroup_line_job(line, strlen(line), &job, &n))
		return "";
	assert_true(n < sizeof(out));
	memcpy(out, job, n);
	out[n] = '\0';
	return out;
}

static void
test_gpucollect_cgroup_v1(void **state)
{
	(void)state;
	/* Real lines: eX3 (freezer only), UDel (task/cgroup). */
	assert_string_equal(line_job("13:freezer:/slurm/uid_7319/job_748468/"
				     "step_0"),
			    "748468");
	assert_string_equal(line_job("9:memory:/slurm/uid_2179/job_11811379/"
				     "step_0/task_0"),
			    "11811379");
	assert_string_equal(line_job("3:cpuacct,cpu:/slurm/uid_2179/"
				     "job_11811379/step_0/task_0\n"),
			    "11811379");
	/* A node-named slurmd tree, the job's own cgroup, step_extern. */
	assert_string_equal(line_job("4:devices:/slurm_gpu01/uid_0/job_5"),
			    "5");
	assert_string_equal(line_job("6:cpuset:/slurm/uid_1/job_42/"
				     "step_extern/task_0"),
			    "42");
}

static void
test_gpucollect_cgroup_v2(void **state)
{
	(void)state;
	assert_string_equal(line_job("0::/system.slice/slurmstepd.scope/"
				     "job_1392969/step_0/user/task_0"),
			    "1392969");
	assert_string_equal(line_job("0::/system.slice/gpu01_slurmstepd.scope/"
				     "job_1400007/step_batch/user/task_0\r\n"),
			    "1400007");
	assert_string_equal(line_job("0::/system.slice/slurmstepd.scope/"
				     "job_7"),
			    "7");
}

static void
test_gpucollect_cgroup_step_interactive(void **state)
{
	(void)state;
	assert_string_equal(line_job("10:devices:/slurm/uid_2101171/"
				     "job_280678/step_interactive/task_0"),
			    "280678");
}

static void
test_gpucollect_cgroup_no_job(void **state)
{
	(void)state;
	assert_string_equal(line_job("12:cpu,cpuacct:/system.slice/"
				     "slurmd.service"),
			    "");
	assert_string_equal(line_job("11:hugetlb:/"), "");
	assert_string_equal(line_job("0::/user.slice/user-1000.slice/"
				     "session-4.scope"),
			    "");
	/* The slurmstepd scope itself, or a job_ without Slurm above it. */
	assert_string_equal(line_job("0::/system.slice/slurmstepd.scope/"
				     "system"),
			    "");
	assert_string_equal(line_job("0::/system.slice/job_5/step_0"), "");
	assert_string_equal(line_job("4:memory:/slurm/job_5"), "");
	assert_string_equal(line_job("4:memory:/other/uid_1/job_5"), "");
}

static void
test_gpucollect_cgroup_garbage(void **state)
{
	(void)state;
	assert_string_equal(line_job(""), "");
	assert_string_equal(line_job("garbage"), "");
	assert_string_equal(line_job("0::"), "");
	assert_string_equal(line_job("1:memory"), "");
	assert_string_equal(line_job("x:memory:/slurm/uid_1/job_2"), "");
	assert_string_equal(line_job(":memory:/slurm/uid_1/job_2"), "");
	assert_string_equal(line_job("1:memory:slurm/uid_1/job_2"), "");
	assert_string_equal(line_job("1:memory:/slurm/uid_1/job_"), "");
	assert_string_equal(line_job("1:memory:/slurm/uid_1/job_12a"), "");
	assert_string_equal(line_job("1:memory:/slurm/uid_x/job_12"), "");
	assert_string_equal(line_job("0::/slurmstepd.scope/job_-1"), "");
}

static void
test_gpucollect_cgroup_file(void **state)
{
	/* UDel's file: the first line with a job wins, any controller. */
	static const char text[] =
	    "11:pids:/system.slice/slurmd.service\n"
	    "10:net_prio,net_cls:/\n"
	    "9:memory:/slurm/uid_2179/job_11811379/step_0/task_0\n"
	    "8:devices:/system.slice/slurmd.service\n";
	const char *job;
	size_t n;

	(void)state;
	assert_true(collect_cgroup_job(text, strlen(text), &job, &n));
	assert_int_equal(n, 8);
	assert_memory_equal(job, "11811379", 8);
	assert_false(collect_cgroup_job(text, 40, &job, &n));
	assert_false(collect_cgroup_job("", 0, &job, &n));
}

static void
test_gpucollect_environ(void **state)
{
	static const char env[] = "PATH=/bin\0SLURM_JOB_ID_X=1\0"
				  "SLURM_JOB_ID=123\0EMPTY=\0"
				  "SLURM_JOB_ID=999\0LAST=x";
	size_t len = sizeof(env) - 1; /* the last entry has no NUL */
	const char *v;
	size_t n;

	(void)state;
	assert_true(collect_environ_get(env, len, "SLURM_JOB_ID", &v, &n));
	assert_int_equal(n, 3);
	assert_memory_equal(v, "123", 3);
	assert_true(collect_environ_get(env, len, "EMPTY", &v, &n));
	assert_int_equal(n, 0);
	assert_true(collect_environ_get(env, len, "LAST", &v, &n));
	assert_int_equal(n, 1);
	assert_memory_equal(v, "x", 1);
	assert_false(collect_environ_get(env, len, "SLURM_JOB", &v, &n));
	assert_false(collect_environ_get(env, len, "PATH=/bin", &v, &n));
	assert_false(collect_environ_get(env, len, "NONE", &v, &n));
	assert_false(collect_environ_get("", 0, "PATH", &v, &n));
}

static void
test_gpucollect_job_ids(void **state)
{
	(void)state;
	/* Their order is gpu_job_id_cmp()'s (test_attrib.c). */
	assert_true(collect_job_valid("1400000_7", 9));
	assert_true(collect_job_valid("1853+0", 6));
	assert_false(collect_job_valid("", 0));
	assert_false(collect_job_valid("1 2", 3));
	assert_false(collect_job_valid("a/b", 3));
}

static void
test_gpucollect_proc_read(void **state)
{
	struct collect_proc p;

	(void)state;
	/* Array task: named A_T, with its owner. */
	collect_proc_read(PROC, 1425259, &p);
	assert_false(p.gone);
	assert_string_equal(p.job, "1400000_7");
	assert_string_equal(p.user, "carol");
	assert_string_equal(p.project, "chem");
	collect_proc_release(&p);
	/* Environ only (a real srun step's). */
	collect_proc_read(PROC, 1328669, &p);
	assert_string_equal(p.job, "22902023");
	assert_string_equal(p.user, "viggiano");
	assert_string_equal(p.project, "euan");
	collect_proc_release(&p);
	/* Cgroup only: no environ file. */
	collect_proc_read(PROC, 1328668, &p);
	assert_string_equal(p.job, "11811379");
	assert_null(p.user);
	collect_proc_release(&p);
	/* Gone. */
	collect_proc_read(PROC, 1425261, &p);
	assert_true(p.gone);
	assert_null(p.job);
	collect_proc_release(&p);
	/* Not Slurm. */
	collect_proc_read(PROC, 1758887, &p);
	assert_false(p.gone);
	assert_null(p.job);
	collect_proc_release(&p);
}

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static int64_t
iso(const char *s)
{
	int64_t ms;

	assert_int_equal(gpu_time_parse(s, strlen(s), &ms, NULL), 0);
	return ms;
}

static int64_t
local(const char *s, int64_t now)
{
	int64_t ms = -1;

	assert_int_equal(collect_local_time(s, strlen(s), now, &ms), 0);
	return ms;
}

static void
test_gpucollect_local_time(void **state)
{
	const char *cet = "CET-1CEST,M3.5.0,M10.5.0/3";
	int64_t ms, now = iso("2026-06-22T00:00:00Z");

	(void)state;
	set_tz("UTC0");
	assert_int_equal(local("2026/06/22 00:11:49.512", now),
			 iso("2026-06-22T00:11:49Z"));
	set_tz("CST-8");
	assert_int_equal(local("2026/06/22 00:11:49.512", now),
			 iso("2026-06-21T16:11:49Z"));
	set_tz(cet);
	assert_int_equal(local("2026/06/22 00:11:49", now),
			 iso("2026-06-21T22:11:49Z"));
	assert_int_equal(local("2026/01/22 00:11:49", now),
			 iso("2026-01-21T23:11:49Z"));
	/* 02:30 happens twice on 2026-10-25: the reading nearer now wins. */
	assert_int_equal(
	    local("2026/10/25 02:30:00", iso("2026-10-25T00:31:00Z")),
	    iso("2026-10-25T00:30:00Z"));
	assert_int_equal(
	    local("2026/10/25 02:30:00", iso("2026-10-25T01:31:00Z")),
	    iso("2026-10-25T01:30:00Z"));
	/* 02:30 never happens on 2026-03-29. */
	assert_int_equal(
	    collect_local_time("2026/03/29 02:30:00", 19, now, &ms), -1);
	set_tz("UTC0");
	assert_int_equal(
	    collect_local_time("2026-06-22 00:11:49", 19, now, &ms), -1);
	assert_int_equal(
	    collect_local_time("2026/06/22 00:11:49.", 20, now, &ms), -1);
	assert_int_equal(
	    collect_local_time("2026/13/22 00:11:49", 19, now, &ms), -1);
	assert_int_equal(collect_local_time("[N/A]", 5, now, &ms), -1);
}

static void
test_gpucollect_parse_gpus(void **state)
{
	static const char text[] =
	    "[N/A], 0, GPU-0, NVIDIA H200, 3, 4, 5, 100.5, 40\n"
	    "\n"
	    "2026/06/22 00:11:49, 1, [N/A], [N/A], 0, 0, [N/A], [N/A], N/A";
	int64_t now = iso("2026-06-22T01:02:03Z") + 456;
	struct collect_gpu *g = NULL;
	size_t n = 0;

	(void)state;
	set_tz("UTC0");
	collect_parse_gpus(text, strlen(text), now, true, &g, &n);
	assert_int_equal(n, 2);
	/* No timestamp: the pass's clock, whole seconds. */
	assert_int_equal(g[0].ts_ms, iso("2026-06-22T01:02:03Z"));
	assert_string_equal(g[0].uuid, "GPU-0");
	assert_string_equal(g[0].power, "100.5");
	assert_int_equal(g[1].index, 1);
	assert_int_equal(g[1].line, 3);
	assert_null(g[1].uuid);
	assert_null(g[1].model);
	assert_null(g[1].mem_total);
	assert_null(g[1].temp);
	for (size_t i = 0; i < n; i++)
		collect_gpu_release(&g[i]);
	free(g);
}

static void
test_gpucollect_time_grid(void **state)
{
	int64_t t = iso("2026-11-28T16:00:10Z");

	(void)state;
	assert_int_equal(collect_next_boundary(t, 30),
			 iso("2026-11-28T16:00:30Z"));
	assert_int_equal(collect_next_boundary(t + 20000, 30),
			 iso("2026-11-28T16:01:00Z"));
	assert_int_equal(collect_next_boundary(iso("2026-11-28T16:00:00Z"), 30),
			 iso("2026-11-28T16:00:30Z"));
	assert_int_equal(collect_next_boundary(t, 3600),
			 iso("2026-11-28T17:00:00Z"));
	assert_int_equal(collect_hour_start(t), iso("2026-11-28T16:00:00Z"));
}

static int
run(const char *script, long timeout_ms, struct collect_cmd *c,
    struct gpu_buf *msg)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	int rc = collect_run(argv, timeout_ms, c);

	gpu_buf_init(msg);
	collect_cmd_describe(c, "tool", "/bin/sh", timeout_ms, msg);
	return rc;
}

static void
test_gpucollect_run(void **state)
{
	struct collect_cmd c;
	struct gpu_buf msg;
	char *missing[] = {"/nonexistent/nvidia-smi", NULL};

	(void)state;
	assert_int_equal(run("echo out; echo err >&2", 5000, &c, &msg), 0);
	assert_string_equal(c.out.data, "out\n");
	assert_string_equal(c.err.data, "err\n");
	collect_cmd_release(&c);
	gpu_buf_release(&msg);

	assert_int_equal(run("echo; echo ' first  '; echo second >&2; exit 9",
			     5000, &c, &msg),
			 -1);
	assert_string_equal(msg.data, "tool failed (exit 9): second");
	collect_cmd_release(&c);
	gpu_buf_release(&msg);

	/* nvidia-smi prints some failures on stdout. */
	assert_int_equal(run("echo; echo ' first  '; exit 6", 5000, &c, &msg),
			 -1);
	assert_string_equal(msg.data, "tool failed (exit 6): first");
	collect_cmd_release(&c);
	gpu_buf_release(&msg);

	assert_int_equal(run("kill -9 $$", 5000, &c, &msg), -1);
	assert_string_equal(msg.data, "tool failed (killed by signal 9)");
	collect_cmd_release(&c);
	gpu_buf_release(&msg);

	/* The group is killed: the sleep does not hold the pipes open. */
	assert_int_equal(run("sleep 20 & sleep 20", 300, &c, &msg), -1);
	assert_true(c.timed_out);
	assert_string_equal(msg.data, "tool failed (timed out after 1 s)");
	collect_cmd_release(&c);
	gpu_buf_release(&msg);

	/* Closed its output, kept running. */
	assert_int_equal(run("exec >&- 2>&-; sleep 20", 300, &c, &msg), -1);
	assert_true(c.timed_out);
	collect_cmd_release(&c);
	gpu_buf_release(&msg);

	assert_int_equal(collect_run(missing, 5000, &c), -1);
	gpu_buf_init(&msg);
	collect_cmd_describe(&c, "nvidia-smi", missing[0], 5000, &msg);
	assert_string_equal(msg.data, "cannot run '/nonexistent/nvidia-smi': "
				      "No such file or directory");
	collect_cmd_release(&c);
	gpu_buf_release(&msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gpucollect_cgroup_v1),
	    cmocka_unit_test(test_gpucollect_cgroup_v2),
	    cmocka_unit_test(test_gpucollect_cgroup_step_interactive),
	    cmocka_unit_test(test_gpucollect_cgroup_no_job),
	    cmocka_unit_test(test_gpucollect_cgroup_garbage),
	    cmocka_unit_test(test_gpucollect_cgroup_file),
	    cmocka_unit_test(test_gpucollect_environ),
	    cmocka_unit_test(test_gpucollect_job_ids),
	    cmocka_unit_test(test_gpucollect_proc_read),
	    cmocka_unit_test(test_gpucollect_local_time),
	    cmocka_unit_test(test_gpucollect_parse_gpus),
	    cmocka_unit_test(test_gpucollect_time_grid),
	    cmocka_unit_test(test_gpucollect_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
