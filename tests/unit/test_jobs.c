/* SPDX-License-Identifier: MIT */
/* Unit tests for job records and sacct parsing (gpu/jobs.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gpu/jobs.h"

static int64_t
tres(const char *s)
{
	int64_t n = -1;

	if (gpu_tres_gpus(s, strlen(s), &n, NULL) != 0)
		return -2;
	return n;
}

static void
test_jobs_tres_total_not_summed(void **state)
{
	(void)state;
	/*
	 * slurm-mail #142: typed + untyped entries name the same device, and
	 * a type naming a MIG profile counts a slice, not a GPU.
	 */
	assert_int_equal(tres("billing=64,cpu=9,gres/cpu=9,"
			      "gres/gpu:a100_3g.20gb=1,gres/gpu=1,mem=60G,"
			      "node=1"),
			 0);
	{
		const char *t = "gres/gpu:a100_3g.20gb=2,gres/gpu:a100=1,"
				"gres/gpu=3";
		int64_t n = -1, m = -1;

		assert_int_equal(gpu_tres_gpus(t, strlen(t), &n, &m), 0);
		assert_int_equal(n, 1);
		assert_int_equal(m, 2);
		t = "gres/gpu:1g.10gb=3";
		assert_int_equal(gpu_tres_gpus(t, strlen(t), &n, &m), 0);
		assert_int_equal(n, 0);
		assert_int_equal(m, 3);
		t = "gres/gpu:h100=1,gres/gpu=1";
		assert_int_equal(gpu_tres_gpus(t, strlen(t), &n, &m), 0);
		assert_int_equal(n, 1);
		assert_int_equal(m, 0);
	}
	/* jobstats #6 */
	assert_int_equal(tres("billing=112,cpu=36,gres/gpu:rtx2080ti=4,"
			      "gres/gpu=4,mem=180G,node=1"),
			 4);
	/* xdmod docs */
	assert_int_equal(tres("billing=10,cpu=10,gres/gpu=4,mem=374000M,"
			      "node=2"),
			 4);
	/* Typed only: their sum. No GPU at all: 0. */
	assert_int_equal(tres("cpu=2,gres/gpu:a100=2,gres/gpu:h100=1"), 3);
	assert_int_equal(tres("cpu=2,mem=256,node=1"), 0);
	/* gpumem / gpuutil are other TRES, not GPU counts. */
	assert_int_equal(tres("gres/gpumem=1648M,gres/gpuutil=66"), 0);
	assert_int_equal(tres("gres/gpu=x"), -2);
	assert_int_equal(tres("gres/gpu=-1"), -2);
	assert_int_equal(tres("gres/gpu="), -2);
}

static void
test_jobs_base_len(void **state)
{
	(void)state;
	assert_int_equal(gpu_job_base_len("123.batch", 9), 3);
	assert_int_equal(gpu_job_base_len("123.extern", 10), 3);
	assert_int_equal(gpu_job_base_len("123.0", 5), 3);
	assert_int_equal(gpu_job_base_len("123_4", 5), 5);
	assert_int_equal(gpu_job_base_len("123_4.batch", 11), 5);
	assert_int_equal(gpu_job_base_len("1853+0", 6), 6);
	assert_int_equal(gpu_job_base_len("1853+0.0", 8), 6);
}

struct got {
	char id[64], user[64], project[64];
	int64_t gpus, start, end; /* -1: absent */
};

/* Read all of text; jobs into got (up to 8), returns jobs, counts rejects. */
static int
read_all(const char *text, const char *columns, struct got *got, int *rejects,
	 char *why, size_t whylen)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	struct gpu_jobs_opts o = {columns};
	struct gpu_err err;
	struct gpu_jobs *j;
	struct gpu_job job;
	struct gpu_reject rej;
	long line;
	int n = 0, rc;

	assert_non_null(fp);
	*rejects = 0;
	j = gpu_jobs_new(fp, "t", &o, &err);
	if (j == NULL) {
		snprintf(why, whylen, "%s", err.msg);
		fclose(fp);
		return -1;
	}
	while ((rc = gpu_jobs_next(j, &job, &line, &rej, &err)) != 0) {
		assert_true(rc > 0);
		if (rc == GPU_READ_REJECT) {
			snprintf(why, whylen, "%ld: %s", rej.line, rej.reason);
			(*rejects)++;
			continue;
		}
		assert_true(n < 8);
		snprintf(got[n].id, 64, "%.*s", (int)job.job_id.len,
			 job.job_id.p);
		snprintf(got[n].user, 64, "%.*s", (int)job.user.len,
			 job.user.p);
		snprintf(got[n].project, 64, "%.*s", (int)job.project.len,
			 job.project.p);
		got[n].gpus = job.has_gpus ? job.gpus : -1;
		got[n].start = job.has_start ? job.start_ms : -1;
		got[n].end = job.has_end ? job.end_ms : -1;
		n++;
	}
	gpu_jobs_free(j);
	fclose(fp);
	return n;
}

static void
test_jobs_sacct_steps_folded(void **state)
{
	struct got g[8];
	char why[600];
	int rej;
	int n = read_all("JobID|User|Account|Start|End|AllocTRES\n"
			 "8117657|ann|phys|2026-11-01T00:00:00|Unknown|"
			 "gres/gpu:h100=2,gres/gpu=2\n"
			 "8117657.batch||||2026-11-01T05:00:00|gres/gpu=2\n"
			 "8117657.extern|||None||\n"
			 "123_4||chem|||\n"
			 "123_4.0|bob||||gres/gpu=1\n"
			 "1853+0|cy||||\n",
			 NULL, g, &rej, why, sizeof(why));

	(void)state;
	assert_int_equal(n, 3);
	assert_int_equal(rej, 0);
	assert_string_equal(g[0].id, "8117657");
	assert_string_equal(g[0].user, "ann");
	assert_string_equal(g[0].project, "phys");
	assert_int_equal(g[0].gpus, 2);
	assert_true(g[0].start == INT64_C(1793491200000));
	assert_true(g[0].end == -1); /* Unknown; a step's end is not used */
	assert_string_equal(g[1].id, "123_4");
	assert_string_equal(g[1].user, "bob"); /* filled from the step */
	assert_string_equal(g[1].project, "chem");
	assert_int_equal(g[1].gpus, 1);
	assert_string_equal(g[2].id, "1853+0");
}

static void
test_jobs_sacct_p_noheader(void **state)
{
	struct got g[8];
	char why[600];
	int rej;
	/* -p: every line ends with '|'; no header: --columns names them. */
	int n = read_all("18194943||\n"
			 "18194943.batch|cpu=00:56:24,gres/gpuutil=100|\n",
			 "JobID,TRESUsageInTot", g, &rej, why, sizeof(why));

	(void)state;
	assert_int_equal(n, 1);
	assert_int_equal(rej, 0);
	assert_string_equal(g[0].id, "18194943");
	assert_int_equal(g[0].gpus, -1);
}

static void
test_jobs_csv_and_rejects(void **state)
{
	struct got g[8];
	char why[600];
	int rej;
	int n = read_all("job_id,user,project,start,end,gpus\n"
			 "j1,ann,p1,2026-11-01T00:00:00Z,,4\n"
			 "j2,bob,p2,yesterday,,1\n"
			 "j3,cy,p3,,,-2\n"
			 ",dan,p4,,,1\n",
			 NULL, g, &rej, why, sizeof(why));

	(void)state;
	assert_int_equal(n, 1);
	assert_int_equal(rej, 3);
	assert_string_equal(why, "5: missing job_id");
	assert_int_equal(g[0].gpus, 4);
}

static void
test_jobs_jsonl(void **state)
{
	struct got g[8];
	char why[600];
	int rej;
	int n = read_all("{\"job_id\":\"7\",\"user\":\"ann\",\"gpus\":2}\n"
			 "{\"job_id\":\"8\",\"project\":\"p\"}\n",
			 NULL, g, &rej, why, sizeof(why));

	(void)state;
	assert_int_equal(n, 2);
	assert_string_equal(g[0].user, "ann");
	assert_int_equal(g[0].gpus, 2);
	assert_string_equal(g[1].project, "p");
}

static void
test_jobs_missing_job_id(void **state)
{
	struct got g[8];
	char why[600];
	int rej;

	(void)state;
	assert_int_equal(read_all("JobName|State\nx|COMPLETED\n", NULL, g, &rej,
				  why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "missing required column 'JobID'"));
	assert_int_equal(
	    read_all("user,project\nann,p\n", NULL, g, &rej, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "missing required column 'job_id'"));
	assert_int_equal(read_all("", NULL, g, &rej, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "empty input"));
}

/* Headerless sacct output without column names: a code for the tool. */
static void
test_jobs_open_codes(void **state)
{
	static const char noheader[] =
	    "77|rec|p|2026-11-28T15:00:00|Unknown|\n";
	static const char nojob[] = "user,project\nann,p\n";
	struct gpu_jobs_opts o = {NULL};
	struct gpu_err err;
	struct gpu_jobs *j = NULL;
	FILE *fp;

	(void)state;
	fp = fmemopen((void *)noheader, strlen(noheader), "r");
	assert_non_null(fp);
	assert_int_equal(gpu_jobs_open(fp, "t", &o, &j, &err),
			 GPU_JOBS_NO_HEADER);
	assert_null(j);
	assert_string_equal(err.msg, "missing required column 'JobID'");
	fclose(fp);
	fp = fmemopen((void *)nojob, strlen(nojob), "r");
	assert_non_null(fp);
	assert_int_equal(gpu_jobs_open(fp, "t", &o, &j, &err), -1);
	fclose(fp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jobs_tres_total_not_summed),
	    cmocka_unit_test(test_jobs_base_len),
	    cmocka_unit_test(test_jobs_sacct_steps_folded),
	    cmocka_unit_test(test_jobs_sacct_p_noheader),
	    cmocka_unit_test(test_jobs_csv_and_rejects),
	    cmocka_unit_test(test_jobs_jsonl),
	    cmocka_unit_test(test_jobs_missing_job_id),
	    cmocka_unit_test(test_jobs_open_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
