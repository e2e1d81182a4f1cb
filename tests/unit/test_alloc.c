/* SPDX-License-Identifier: MIT */
/* Unit tests for the allocation reader and GPU index sets (gpu/alloc.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gpu/alloc.h"
#include "gpu/buf.h"

#define FIXTURES "tests/fixtures/real/slurm/"
#define MAX_GOT 32

/* 2026-11-28T16:00:00Z and 18:00:00Z */
#define T16 INT64_C(1795881600000)
#define T18 INT64_C(1795888800000)

struct got {
	char job[160], node[160], user[160], project[160], gpus[160];
	int64_t start, end; /* -1: absent */
	long line;
};

struct rejected {
	long line;
	char reason[128];
	char raw[256];
};

struct result {
	enum gpu_alloc_src src;
	int n, nrej;
	struct got a[MAX_GOT];
	struct rejected rej[MAX_GOT];
	char err[600];
	long errline;
};

static void
copy_str(char *dst, size_t cap, struct gpu_str s)
{
	snprintf(dst, cap, "%.*s", (int)s.len, s.p);
}

/* The indices of a set as "0,2,3"; "-" when the record has none. */
static void
fmt_gpus(char *dst, size_t cap, const struct gpu_alloc *a)
{
	struct gpu_buf b;

	gpu_buf_init(&b);
	if (!a->has_gpus)
		gpu_buf_addc(&b, '-');
	for (int g = 0; a->has_gpus && g < GPU_GPUSET_MAX; g++) {
		if (!gpu_gpuset_has(&a->gpus, g))
			continue;
		if (b.len > 0)
			gpu_buf_addc(&b, ',');
		gpu_buf_addf(&b, "%d", g);
	}
	snprintf(dst, cap, "%s", b.data);
	gpu_buf_release(&b);
}

/* Read all of fp into res; returns the allocations, or -1 (res->err). */
static int
read_fp(FILE *fp, struct result *res)
{
	struct gpu_alloc_reader *r;
	struct gpu_err err;
	struct gpu_alloc a;
	struct gpu_reject rej;
	long line;
	int rc;

	memset(res, 0, sizeof(*res));
	r = gpu_alloc_reader_new(fp, "t", &err);
	if (r == NULL) {
		snprintf(res->err, sizeof(res->err), "%s", err.msg);
		res->errline = err.line;
		return -1;
	}
	res->src = gpu_alloc_reader_src(r);
	while ((rc = gpu_alloc_next(r, &a, &line, &rej, &err)) != 0) {
		assert_true(rc > 0);
		if (rc == GPU_READ_REJECT) {
			struct rejected *j = &res->rej[res->nrej++];

			assert_true(res->nrej <= MAX_GOT);
			j->line = rej.line;
			snprintf(j->reason, sizeof(j->reason), "%s",
				 rej.reason);
			copy_str(j->raw, sizeof(j->raw), rej.raw);
			continue;
		}
		assert_int_equal(rc, GPU_READ_SAMPLE);
		assert_true(res->n < MAX_GOT);
		copy_str(res->a[res->n].job, 160, a.job_id);
		copy_str(res->a[res->n].node, 160, a.node);
		copy_str(res->a[res->n].user, 160, a.user);
		copy_str(res->a[res->n].project, 160, a.project);
		fmt_gpus(res->a[res->n].gpus, 160, &a);
		res->a[res->n].start = a.has_start ? a.start_ms : -1;
		res->a[res->n].end = a.has_end ? a.end_ms : -1;
		res->a[res->n].line = line;
		res->n++;
	}
	gpu_alloc_reader_free(r);
	return res->n;
}

static int
read_text(const char *text, struct result *res)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int n;

	assert_non_null(fp);
	n = read_fp(fp, res);
	fclose(fp);
	return n;
}

static int
read_file(const char *path, struct result *res)
{
	FILE *fp = fopen(path, "r");
	int n;

	if (fp == NULL)
		fail_msg("cannot open '%s' (run from the repository root)",
			 path);
	n = read_fp(fp, res);
	fclose(fp);
	return n;
}

static void
assert_reject(const struct result *res, int i, long line, const char *reason)
{
	assert_true(i < res->nrej);
	assert_string_equal(res->rej[i].reason, reason);
	assert_int_equal(res->rej[i].line, line);
}

/* ---- GPU index sets ---- */

static const char *
parse_why(const char *s, struct gpu_gpuset *set)
{
	const char *why = NULL;

	if (gpu_gpuset_parse(s, strlen(s), set, &why) == 0)
		return NULL;
	assert_non_null(why);
	return why;
}

static void
test_alloc_gpuset_parse(void **state)
{
	struct gpu_gpuset set;

	(void)state;
	assert_null(parse_why("0-3,6", &set));
	assert_int_equal(gpu_gpuset_count(&set), 5);
	for (int g = 0; g <= 3; g++)
		assert_true(gpu_gpuset_has(&set, g));
	assert_false(gpu_gpuset_has(&set, 4));
	assert_true(gpu_gpuset_has(&set, 6));
	assert_null(parse_why("5", &set));
	assert_int_equal(gpu_gpuset_count(&set), 1); /* cleared first */
	assert_true(gpu_gpuset_has(&set, 5));
	assert_null(parse_why("0,2-3,5", &set));
	assert_int_equal(gpu_gpuset_count(&set), 4);
	assert_null(parse_why("1023,63-64", &set));
	assert_true(gpu_gpuset_has(&set, 1023));
	assert_true(gpu_gpuset_has(&set, 63) && gpu_gpuset_has(&set, 64));
	assert_null(parse_why("0-1023", &set));
	assert_int_equal(gpu_gpuset_count(&set), 1024);
	assert_null(parse_why("007", &set));
	assert_true(gpu_gpuset_has(&set, 7));
}

static void
test_alloc_gpuset_refused(void **state)
{
	static const char *const invalid[] = {"0,,1", "1-",    "-1", "3-1",
					      "a",    " 1",    "1 ", "0-3,",
					      ",0",   "1-2-3", "+1", "0x1"};
	struct gpu_gpuset set;

	(void)state;
	assert_string_equal(parse_why("", &set), "empty GPU index list");
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		assert_string_equal(parse_why(invalid[i], &set),
				    "invalid GPU index list");
	assert_string_equal(parse_why("1024", &set), "GPU index out of range");
	assert_string_equal(parse_why("0-1024", &set),
			    "GPU index out of range");
	assert_string_equal(parse_why("99999999999999999999999", &set),
			    "GPU index out of range");
}

static void
test_alloc_gpuset_add_has_count(void **state)
{
	struct gpu_gpuset set;

	(void)state;
	memset(&set, 0, sizeof(set));
	assert_int_equal(gpu_gpuset_count(&set), 0);
	gpu_gpuset_add(&set, 0);
	gpu_gpuset_add(&set, 1023);
	gpu_gpuset_add(&set, 1023);
	gpu_gpuset_add(&set, -1);   /* ignored */
	gpu_gpuset_add(&set, 1024); /* ignored */
	assert_int_equal(gpu_gpuset_count(&set), 2);
	assert_true(gpu_gpuset_has(&set, 1023));
	assert_false(gpu_gpuset_has(&set, -1));
	assert_false(gpu_gpuset_has(&set, 1024));
	assert_false(gpu_gpuset_has(&set, 1));
}

/* ---- detection and open errors ---- */

static void
test_alloc_detect(void **state)
{
	struct result res;

	(void)state;
	read_text("job_id,node,gpus,start\n", &res);
	assert_int_equal(res.src, GPU_ALLOC_SRC_TABLE);
	read_text("\n{\"job_id\":\"1\"}\n", &res);
	assert_int_equal(res.src, GPU_ALLOC_SRC_TABLE);
	read_text("\n\nJobId=1 JobName=x\n", &res);
	assert_int_equal(res.src, GPU_ALLOC_SRC_SCONTROL);
	read_text("# prolog log\ngpuusage-alloc 1 end time=1 job=1 node=a\n",
		  &res);
	assert_int_equal(res.src, GPU_ALLOC_SRC_EVENTS);
	read_text("\xef\xbb\xbfgpuusage-alloc 1 end\n", &res);
	assert_int_equal(res.src, GPU_ALLOC_SRC_EVENTS);
	/* Only comments: prolog lines, none yet. */
	assert_int_equal(read_text("# nothing yet\n", &res), 0);
	assert_int_equal(res.src, GPU_ALLOC_SRC_EVENTS);
}

static void
test_alloc_open_errors(void **state)
{
	struct result res;
	int fds[2];
	FILE *fp;

	(void)state;
	assert_int_equal(read_text("", &res), -1);
	assert_string_equal(res.err, "empty input");
	assert_int_equal(read_text(" \n\n", &res), -1);
	assert_string_equal(res.err, "empty input");
	assert_int_equal(read_text("job_id,node,start,end\n", &res), -1);
	assert_string_equal(res.err, "missing required column 'gpus'");
	assert_int_equal(res.errline, 1);
	assert_int_equal(read_text("JOB_ID,Gpus,Start\n", &res), -1);
	assert_string_equal(res.err, "missing required column 'node'");
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "JobId=1\n", 8), 8);
	close(fds[1]);
	fp = fdopen(fds[0], "r");
	assert_non_null(fp);
	assert_int_equal(read_fp(fp, &res), -1);
	assert_string_equal(res.err,
			    "allocation input must be a seekable file");
	fclose(fp);
}

/* ---- CSV and JSON Lines ---- */

static void
test_alloc_csv_records(void **state)
{
	struct result res;
	int n = read_text(
	    "Project,START,end,NODE,Job_ID,gpus,User,extra\r\n"
	    "ml,2026-11-28T16:00:00Z,2026-11-28T18:00:00Z,gpu[01-02],123,"
	    "\"0-3,6\",alice,x\r\n"
	    "\r\n"
	    ",1795881600,,gpu07,124_3,5,,x\n"
	    "N/A,2026-11-28 16:00:00,Unknown,gpu08,1853+0,0,[N/A],x\n",
	    &res);

	(void)state;
	assert_int_equal(res.nrej, 0);
	assert_int_equal(n, 4);
	assert_string_equal(res.a[0].job, "123");
	assert_string_equal(res.a[0].node, "gpu01");
	assert_string_equal(res.a[1].node, "gpu02");
	for (int i = 0; i < 2; i++) {
		assert_string_equal(res.a[i].gpus, "0,1,2,3,6");
		assert_string_equal(res.a[i].user, "alice");
		assert_string_equal(res.a[i].project, "ml");
		assert_true(res.a[i].start == T16);
		assert_true(res.a[i].end == T18);
		assert_int_equal(res.a[i].line, 2);
	}
	assert_string_equal(res.a[2].job, "124_3");
	assert_string_equal(res.a[2].gpus, "5");
	assert_string_equal(res.a[2].user, "");
	assert_string_equal(res.a[2].project, "");
	assert_true(res.a[2].start == T16);
	assert_true(res.a[2].end == -1); /* empty: still held */
	assert_int_equal(res.a[2].line, 4);
	assert_string_equal(res.a[3].job, "1853+0");
	assert_true(res.a[3].end == -1); /* Unknown: still held */
	assert_string_equal(res.a[3].user, "");
}

static void
test_alloc_csv_rejects(void **state)
{
	static const struct {
		const char *row, *reason;
	} cases[] = {
	    {",gpu01,0,2026-11-28T16:00:00Z,,,", "missing job_id"},
	    {"1,,0,2026-11-28T16:00:00Z,,,", "missing node"},
	    {"1,gpu01,,2026-11-28T16:00:00Z,,,", "missing gpus"},
	    {"1,gpu01,0,,,,", "missing start"},
	    {"1,gpu01,0,Unknown,,,", "missing start"},
	    {"1,gpu01,0,yesterday,,,", "invalid start time"},
	    {"1,gpu01,0,1999-12-31T23:59:59Z,,,", "start time out of range"},
	    {"1,gpu01,0,2026-11-28T16:00:00Z,soon,,", "invalid end time"},
	    {"1,gpu01,0,2026-11-28T16:00:00Z,2100-01-01T00:00:00Z,,",
	     "end time out of range"},
	    {"1,gpu01,0,2026-11-28T16:00:00Z,2026-11-28T15:00:00Z,,",
	     "allocation does not end after it starts"},
	    {"1,gpu01,0,2026-11-28T16:00:00Z,2026-11-28T16:00:00Z,,",
	     "allocation does not end after it starts"},
	    {"1,gpu01,0-x,2026-11-28T16:00:00Z,,,", "invalid GPU index list"},
	    {"1,gpu01,1024,2026-11-28T16:00:00Z,,,", "GPU index out of range"},
	    /* Unquoted, the comma of an index list splits the field. */
	    {"1,gpu01,0,2,2026-11-28T16:00:00Z,,,", "wrong number of fields"},
	    {"1,\"gpu[01-02\",0,2026-11-28T16:00:00Z,,,",
	     "unbalanced '[' in hostlist"},
	    {"1,\"a,,b\",0,2026-11-28T16:00:00Z,,,",
	     "empty host name in hostlist"},
	    {"1,gpu[3-1],0,2026-11-28T16:00:00Z,,,",
	     "descending range in hostlist"},
	    {"1,n[0-99999],0,2026-11-28T16:00:00Z,,,",
	     "hostlist expands to more than 65536 names"},
	    {"1,gpu01,0,2026-11-28T16:00:00Z,,", "wrong number of fields"},
	    {"1,\"gpu\x01\",0,2026-11-28T16:00:00Z,,,",
	     "control character in node"},
	    {"1,gpu01,0,2026-11-28T16:00:00Z,,\"a\tb\",",
	     "control character in user"},
	    {"\"1\n2\",gpu01,0,2026-11-28T16:00:00Z,,,",
	     "control character in job_id"},
	};
	char longtext[200];
	struct gpu_buf in;
	struct result res;
	long line = 2;

	(void)state;
	memset(longtext, 'x', 129);
	longtext[129] = '\0';
	gpu_buf_init(&in);
	gpu_buf_adds(&in, "job_id,node,gpus,start,end,user,project\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gpu_buf_adds(&in, cases[i].row);
		gpu_buf_addc(&in, '\n');
	}
	gpu_buf_addf(&in, "%s,gpu01,0,2026-11-28T16:00:00Z,,,\n", longtext);
	gpu_buf_addf(&in, "1,%s,0,2026-11-28T16:00:00Z,,,\n", longtext);
	gpu_buf_addf(&in, "1,gpu01,0,2026-11-28T16:00:00Z,,%s,\n", longtext);
	gpu_buf_addf(&in, "1,gpu01,0,2026-11-28T16:00:00Z,,,%s\n", longtext);
	gpu_buf_adds(&in, "ok,gpu01,0,2026-11-28T16:00:00Z,,,\n");
	assert_int_equal(read_text(in.data, &res), 1);
	assert_string_equal(res.a[0].job, "ok");
	assert_int_equal(res.nrej, sizeof(cases) / sizeof(cases[0]) + 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_reject(&res, (int)i, line, cases[i].reason);
		line += strchr(cases[i].row, '\n') != NULL ? 2 : 1;
	}
	assert_reject(&res, res.nrej - 4, line, "job_id too long");
	assert_reject(&res, res.nrej - 3, line + 1, "node too long");
	assert_reject(&res, res.nrej - 2, line + 2, "user too long");
	assert_reject(&res, res.nrej - 1, line + 3, "project too long");
	/* The raw text is the row as read. */
	assert_string_equal(res.rej[0].raw, cases[0].row);
	gpu_buf_release(&in);
}

static void
test_alloc_jsonl(void **state)
{
	struct result res;
	int n = read_text(
	    "{\"job_id\":\"7\",\"node\":\"gpu[01-02]\",\"gpus\":3,"
	    "\"start\":\"2026-11-28T16:00:00Z\",\"user\":\"ann\","
	    "\"project\":\"p\",\"other\":1}\n"
	    "{\"job_id\":8,\"node\":\"gpu03\",\"gpus\":\"0,2-3\","
	    "\"start\":1795881600000,\"end\":\"2026-11-28T18:00:00Z\","
	    "\"user\":null}\n"
	    "{\"job_id\":\"9\",\"node\":\"gpu03\",\"gpus\":2.5,"
	    "\"start\":\"2026-11-28T16:00:00Z\"}\n"
	    "{\"job_id\":\"9\",\"node\":\"gpu03\","
	    "\"start\":\"2026-11-28T16:00:00Z\"}\n"
	    "{\"job_id\":\"9\",\"node\":\"gpu03\",\"gpus\":-1,"
	    "\"start\":\"2026-11-28T16:00:00Z\"}\n"
	    "{\"job_id\":\"9\",\"node\":[\"gpu03\"],\"gpus\":1,"
	    "\"start\":\"2026-11-28T16:00:00Z\"}\n"
	    "{\"job_id\":\"9\",\n",
	    &res);

	(void)state;
	assert_int_equal(n, 3);
	assert_string_equal(res.a[0].job, "7");
	assert_string_equal(res.a[0].node, "gpu01");
	assert_string_equal(res.a[1].node, "gpu02");
	assert_string_equal(res.a[1].gpus, "3");
	assert_string_equal(res.a[1].user, "ann");
	assert_string_equal(res.a[1].project, "p");
	assert_true(res.a[1].end == -1);
	assert_string_equal(res.a[2].job, "8");
	assert_string_equal(res.a[2].gpus, "0,2,3");
	assert_string_equal(res.a[2].user, "");
	assert_true(res.a[2].start == T16);
	assert_true(res.a[2].end == T18);
	assert_int_equal(res.a[2].line, 2);
	assert_int_equal(res.nrej, 5);
	assert_reject(&res, 0, 3, "invalid GPU index list");
	assert_reject(&res, 1, 4, "missing gpus");
	assert_reject(&res, 2, 5, "invalid GPU index list");
	assert_reject(&res, 3, 6, "nested JSON value");
	assert_reject(&res, 4, 7, "invalid JSON");
}

/* ---- scontrol show job -d ---- */

static void
test_alloc_scontrol_fixture_gres_idx(void **state)
{
	struct result res;

	(void)state;
	/*
	 * A 3-node CPU-only job (empty GRES_IDX=), a CPU-only array task, a
	 * GPU job and a pending job: one allocation.
	 */
	assert_int_equal(
	    read_file(FIXTURES
		      "huji-slurm-scripts-scontrol-dd-2019-gres-idx.txt",
		      &res),
	    1);
	assert_int_equal(res.src, GPU_ALLOC_SRC_SCONTROL);
	assert_int_equal(res.nrej, 0);
	assert_string_equal(res.a[0].job, "153291");
	assert_string_equal(res.a[0].node, "node-06");
	assert_string_equal(res.a[0].user, "user3");
	assert_string_equal(res.a[0].project, "oabend");
	assert_string_equal(res.a[0].gpus, "0,2,3,5");
	assert_true(res.a[0].start == INT64_C(1549555509000));
	assert_true(res.a[0].end == INT64_C(1550160309000));
	assert_int_equal(res.a[0].line, 81);
}

static void
test_alloc_scontrol_fixture_gres_typed(void **state)
{
	struct result res;

	(void)state;
	assert_int_equal(
	    read_file(
		FIXTURES
		"huji-slurm-scripts-scontrol-dd-2019-2025-gres-typed-cnt.txt",
		&res),
	    3);
	assert_int_equal(res.nrej, 0);
	/* GRES=gpu(IDX:5) on an array task. */
	assert_string_equal(res.a[0].job, "2423430_72");
	assert_string_equal(res.a[0].node, "cortex-08");
	assert_string_equal(res.a[0].user, "user4");
	assert_string_equal(res.a[0].project, "account4");
	assert_string_equal(res.a[0].gpus, "5");
	assert_true(res.a[0].start == INT64_C(1575300490000));
	assert_true(res.a[0].end == INT64_C(1575473290000));
	assert_int_equal(res.a[0].line, 20);
	/* The CPU-only job with CPU_IDs cut short (line 51) holds nothing. */
	/* GRES=gg:g0(CNT:1),gpu:1(IDX:3): the GPU entry second. */
	assert_string_equal(res.a[1].job, "25686416");
	assert_string_equal(res.a[1].node, "node-005");
	assert_string_equal(res.a[1].user, "user6");
	assert_string_equal(res.a[1].project, "account6");
	assert_string_equal(res.a[1].gpus, "3");
	assert_true(res.a[1].start == INT64_C(1742398879000));
	assert_true(res.a[1].end == INT64_C(1742406079000));
	assert_int_equal(res.a[1].line, 81);
	/* GRES=gpu:rtx2080:1(IDX:1),gg:g0(CNT:1); the file has no last
	 * blank line. */
	assert_string_equal(res.a[2].job, "25687666");
	assert_string_equal(res.a[2].node, "node-001");
	assert_string_equal(res.a[2].project, "system");
	assert_string_equal(res.a[2].gpus, "1");
	assert_true(res.a[2].start == INT64_C(1742401861000));
	assert_true(res.a[2].end == INT64_C(1742409061000));
	assert_int_equal(res.a[2].line, 109);
}

static void
test_alloc_scontrol_fixture_elided(void **state)
{
	static const char path[] =
	    FIXTURES "unity-umass-scontrol-d-a100x4-job-gres-dots-stripped.txt";
	struct result res;
	struct gpu_buf in;
	char text[1024];
	size_t n, first;
	FILE *fp;

	(void)state;
	/* An excerpt: the record lacks UserId and the times. */
	assert_int_equal(read_file(path, &res), 0);
	assert_int_equal(res.nrej, 1);
	assert_reject(&res, 0, 1, "truncated record: no UserId");
	assert_string_equal(res.rej[0].raw, "JobId=... JobName=...");
	/* With them given, its detail line reads as four A100s. */
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	first = (size_t)(strchr(text, '\n') - text) + 1;
	gpu_buf_init(&in);
	gpu_buf_add(&in, text, first);
	gpu_buf_adds(&in, "   UserId=u(1) Account=(null) JobState=RUNNING\n"
			  "   StartTime=2026-11-28T16:00:00 EndTime=Unknown\n");
	gpu_buf_adds(&in, text + first);
	assert_int_equal(read_text(in.data, &res), 1);
	assert_string_equal(res.a[0].job, "...");
	assert_string_equal(res.a[0].node, "uri-gpu003");
	assert_string_equal(res.a[0].gpus, "0,1,2,3");
	assert_string_equal(res.a[0].project, "");
	assert_true(res.a[0].end == -1);
	assert_int_equal(res.a[0].line, 7);
	gpu_buf_release(&in);
}

/* A running two-node job, one detail line per node, GPUs differing. */
static const char multi_node[] =
    "JobId=500 JobName=train\n"
    "   UserId=alice(1001) GroupId=alice(1001) MCS_label=N/A\n"
    "   Priority=1 Nice=0 Account=(null) QOS=normal\n"
    "   JobState=RUNNING Reason=None Dependency=(null)\n"
    "   StartTime=2026-11-28T16:00:00 EndTime=Unknown Deadline=N/A\n"
    "   ReqNodeList=gpu01 ExcNodeList=(null)\n"
    "   NodeList=gpu[01-03]\n"
    "   BatchHost=gpu01\n"
    "   TRES=cpu=8,mem=64G,node=3,billing=8,gres/gpu=7\n"
    "     Nodes=gpu01 CPU_IDs=0-3 Mem=32768 GRES=gpu:a100:3(IDX:0,2-3)\n"
    "     Nodes=gpu[02-03] CPU_IDs=0-1 Mem=16384 GRES=gpu:a100:2(IDX:1,5)\n"
    "   MinCPUsNode=1 MinMemoryNode=16G MinTmpDiskNode=0\n"
    "\n";

static void
test_alloc_scontrol_multi_node(void **state)
{
	struct result res;

	(void)state;
	assert_int_equal(read_text(multi_node, &res), 3);
	assert_int_equal(res.nrej, 0);
	assert_string_equal(res.a[0].node, "gpu01");
	assert_string_equal(res.a[0].gpus, "0,2,3");
	assert_int_equal(res.a[0].line, 10);
	assert_string_equal(res.a[1].node, "gpu02");
	assert_string_equal(res.a[2].node, "gpu03");
	for (int i = 1; i < 3; i++) {
		assert_string_equal(res.a[i].gpus, "1,5");
		assert_int_equal(res.a[i].line, 11);
	}
	for (int i = 0; i < 3; i++) {
		assert_string_equal(res.a[i].job, "500");
		assert_string_equal(res.a[i].user, "alice");
		assert_string_equal(res.a[i].project, ""); /* (null) */
		assert_true(res.a[i].start == T16);
		assert_true(res.a[i].end == -1); /* Unknown: still held */
	}
}

static void
test_alloc_scontrol_detail_lines(void **state)
{
	struct result res;

	(void)state;
	/*
	 * A detail line is one whose first token is Nodes=, with or without
	 * CPU_IDs=; NodeList=, ReqNodeList=, BatchHost= and a Nodes= inside
	 * another value are not.
	 */
	assert_int_equal(
	    read_text("JobId=9 JobName=run Nodes=gpu09 Mem=4 GRES=gpu(IDX:1)\n"
		      "   UserId=a(1) JobState=RUNNING Account=acct\n"
		      "   StartTime=2026-11-28T16:00:00 EndTime=Unknown\n"
		      "   NodeList=gpu[04-05] BatchHost=gpu04\n"
		      "   ReqNodeList=gpu04 ExcNodeList=(null)\n"
		      "     Nodes=gpu04 Mem=1024 GRES=gpu(IDX:7)\n"
		      "   Comment=x Nodes=gpu05 GRES=gpu(IDX:2)\n",
		      &res),
	    1);
	assert_int_equal(res.nrej, 0);
	assert_string_equal(res.a[0].node, "gpu04");
	assert_string_equal(res.a[0].gpus, "7");
	assert_int_equal(res.a[0].line, 6);
}

static void
test_alloc_scontrol_one_line(void **state)
{
	struct result res;
	int n = read_text(
	    /* Two detail groups on one line, GRES_IDX= of Slurm 18. */
	    "JobId=600 JobName=a b UserId=bob(7) GroupId=g(7) Account=phys "
	    "JobState=COMPLETED Reason=None StartTime=2026-11-28T16:00:00 "
	    "EndTime=2026-11-28T18:00:00 ReqNodeList=gpu09 NodeList=gpu[01-02] "
	    "BatchHost=gpu01 TRES=cpu=2,gres/gpu=3 Nodes=gpu01 CPU_IDs=0 "
	    "Mem=100 GRES_IDX=gpu(IDX:0-1) Nodes=gpu02 CPU_IDs=1 Mem=100 "
	    "GRES_IDX=gpu(IDX:7) MinCPUsNode=1 Gres=gpu:2\n"
	    /* Pending, with an expected start time. */
	    "JobId=601 UserId=bob(7) Account=phys JobState=PENDING "
	    "StartTime=2026-11-29T00:00:00 EndTime=2026-11-30T00:00:00 "
	    "NodeList=(null) TRES=cpu=1,gres/gpu=1\n"
	    /* A heterogeneous job's component. */
	    "JobId=1854 HetJobId=1853 HetJobOffset=1 UserId=cy(8) "
	    "Account=chem JobState=RUNNING StartTime=2026-11-28T16:00:00 "
	    "EndTime=Unknown NodeList=gpu03 Nodes=gpu03 CPU_IDs=0-1 Mem=10 "
	    "GRES=gpu:1(IDX:2)\n"
	    /* An array task, CPU_IDs cut short by Slurm. */
	    "JobId=700 ArrayJobId=690 ArrayTaskId=10 UserId=dd(9) "
	    "Account=bio JobState=RUNNING StartTime=2026-11-28T16:00:00 "
	    "EndTime=2026-11-28T18:00:00 Nodes=gpu04 CPU_IDs=0-3,115- "
	    "Mem=10 GRES=gpu(IDX:4)\n",
	    &res);

	(void)state;
	assert_int_equal(res.nrej, 0);
	assert_int_equal(n, 4);
	assert_string_equal(res.a[0].job, "600");
	assert_string_equal(res.a[0].node, "gpu01");
	assert_string_equal(res.a[0].gpus, "0,1");
	assert_string_equal(res.a[0].user, "bob");
	assert_string_equal(res.a[0].project, "phys");
	assert_true(res.a[0].start == T16);
	assert_true(res.a[0].end == T18);
	assert_int_equal(res.a[0].line, 1);
	assert_string_equal(res.a[1].node, "gpu02");
	assert_string_equal(res.a[1].gpus, "7");
	assert_string_equal(res.a[2].job, "1853+1");
	assert_string_equal(res.a[2].node, "gpu03");
	assert_string_equal(res.a[2].gpus, "2");
	assert_true(res.a[2].end == -1);
	assert_int_equal(res.a[2].line, 3);
	assert_string_equal(res.a[3].job, "690_10");
	assert_string_equal(res.a[3].gpus, "4");
	assert_int_equal(res.a[3].line, 4);
}

static void
test_alloc_scontrol_one_line_rejects(void **state)
{
	static const char line[] =
	    "JobId=8 UserId=a(1) JobState=RUNNING "
	    "StartTime=2026-11-28T16:00:00 EndTime=Unknown "
	    "Nodes=gpu01 CPU_IDs=0 Mem=1 GRES=gpu(IDX:9-1) "
	    "Nodes=gpu02 CPU_IDs=0 Mem=1 GRES=gpu(IDX:4) "
	    "Nodes=gpu]03 CPU_IDs=0 Mem=1 GRES=gpu(IDX:5)";
	struct gpu_buf in;
	struct result res;

	(void)state;
	gpu_buf_init(&in);
	gpu_buf_adds(&in, "\n");
	gpu_buf_adds(&in, line);
	gpu_buf_adds(&in, "\n");
	/* A bad group costs that group; the others are read. */
	assert_int_equal(read_text(in.data, &res), 1);
	assert_string_equal(res.a[0].node, "gpu02");
	assert_int_equal(res.a[0].line, 2);
	assert_int_equal(res.nrej, 2);
	assert_reject(&res, 0, 2, "invalid GPU index list");
	assert_reject(&res, 1, 2, "unbalanced ']' in hostlist");
	for (int i = 0; i < 2; i++)
		assert_string_equal(res.rej[i].raw, line);
	gpu_buf_release(&in);
}

static void
test_alloc_scontrol_held_nothing(void **state)
{
	struct result res;

	(void)state;
	assert_int_equal(
	    read_text(
		/* Pending: an expected start, no detail. */
		"JobId=1 UserId=a(1) JobState=PENDING "
		"StartTime=2026-11-29T00:00:00 EndTime=2026-11-30T00:00:00 "
		"TRES=cpu=1,gres/gpu=4\n"
		/* Never started. */
		"JobId=2 UserId=a(1) JobState=CANCELLED StartTime=Unknown "
		"EndTime=Unknown TRES=cpu=1,gres/gpu=4\n"
		"JobId=3 UserId=a(1) JobState=RUNNING StartTime=None "
		"EndTime=None Nodes=gpu01 CPU_IDs=0 Mem=1 GRES=gpu(IDX:0)\n"
		/* Cancelled while pending: start = end, no detail. */
		"JobId=4 UserId=a(1) JobState=CANCELLED "
		"StartTime=2026-11-28T16:00:00 EndTime=2026-11-28T16:00:00 "
		"TRES=cpu=1,gres/gpu=4\n"
		/* CPU-only nodes; an empty GRES=, and no GRES at all. */
		"JobId=5 UserId=a(1) JobState=RUNNING "
		"StartTime=2026-11-28T16:00:00 EndTime=Unknown "
		"Nodes=cpu[01-02] CPU_IDs=0 Mem=1 GRES= "
		"Nodes=cpu03 CPU_IDs=0 Mem=1 "
		"Nodes=cpu04 CPU_IDs=0 Mem=1 GRES=gg:g0(CNT:1)\n"
		/* No GPU asked and no detail: a CPU job without -d. */
		"JobId=6 UserId=a(1) JobState=RUNNING "
		"StartTime=2026-11-28T16:00:00 EndTime=Unknown "
		"TRES=cpu=1,mem=1G\n",
		&res),
	    0);
	assert_int_equal(res.nrej, 0);
}

static void
test_alloc_scontrol_truncated(void **state)
{
	struct result res;
	int n = read_text(
	    "JobId=1 JobName=x\n"
	    "   UserId=a(1) GroupId=a(1)\n"
	    "   JobState=RUNNING Reason=None\n"
	    "JobId=2 JobName=y\n"
	    "   UserId=a(1) Account=p\n"
	    "   JobState=RUNNING\n"
	    "   StartTime=2026-11-28T16:00:00 EndTime=2026-11-28T18:00:00\n"
	    "     Nodes=gpu01 CPU_IDs=0 Mem=1 GRES=gpu(IDX:1)\n"
	    "\n"
	    "   NodeList=gpu02\n"
	    "     Nodes=gpu02 CPU_IDs=0 Mem=1 GRES=gpu(IDX:1)\n"
	    "\n"
	    "JobId=3 JobName=z\n"
	    "   JobState=RUNNING\n"
	    "   StartTime=2026-11-28T16:00:00 EndTime=2026-11-28T18:00:00\n"
	    "\n"
	    "JobId=4 JobName=w\n"
	    "   UserId=a(1) JobState=RUNNING\n"
	    "   StartTime=2026-11-28T16:00:00\n"
	    "JobId=5 UserId=a(1) JobState=RUNNING "
	    "StartTime=2026-11-28T16:00:00",
	    &res);

	(void)state;
	assert_int_equal(n, 1);
	assert_string_equal(res.a[0].job, "2");
	assert_int_equal(res.a[0].line, 8);
	assert_int_equal(res.nrej, 5);
	/* Cut by the next JobId= line. */
	assert_reject(&res, 0, 1, "truncated record: no StartTime");
	assert_string_equal(res.rej[0].raw, "JobId=1 JobName=x");
	/* Lines after a blank line without a JobId= of their own. */
	assert_reject(&res, 1, 10, "truncated record: no JobId");
	assert_string_equal(res.rej[1].raw, "   NodeList=gpu02");
	assert_reject(&res, 2, 13, "truncated record: no UserId");
	assert_reject(&res, 3, 17, "truncated record: no EndTime");
	/* Cut by the end of the input. */
	assert_reject(&res, 4, 20, "truncated record: no EndTime");
}

static void
test_alloc_scontrol_rejects(void **state)
{
	struct result res;
	int n = read_text(
	    /* 1: GPUs in TRES, no -d. */
	    "JobId=1 UserId=a(1) JobState=RUNNING "
	    "StartTime=2026-11-28T16:00:00 EndTime=Unknown "
	    "TRES=cpu=1,gres/gpu=2\n"
	    /* 2: the same with Gres= (Slurm 18), completed. */
	    "JobId=2 UserId=a(1) JobState=COMPLETED "
	    "StartTime=2026-11-28T16:00:00 EndTime=2026-11-28T18:00:00 "
	    "Gres=gpu:4\n"
	    /* 3-4: ends before it starts, or when it starts. */
	    "JobId=3 UserId=a(1) JobState=COMPLETED "
	    "StartTime=2026-11-28T18:00:00 EndTime=2026-11-28T16:00:00 "
	    "Nodes=gpu01 CPU_IDs=0 Mem=1 GRES=gpu(IDX:0)\n"
	    "JobId=4 UserId=a(1) JobState=COMPLETED "
	    "StartTime=2026-11-28T16:00:00 EndTime=2026-11-28T16:00:00 "
	    "Nodes=gpu01 CPU_IDs=0 Mem=1 GRES=gpu(IDX:0)\n"
	    /* 5-6: bad times. */
	    "JobId=5 UserId=a(1) JobState=RUNNING StartTime=now "
	    "EndTime=Unknown Nodes=gpu01 CPU_IDs=0 Mem=1 GRES=gpu(IDX:0)\n"
	    "JobId=6 UserId=a(1) JobState=RUNNING "
	    "StartTime=2026-11-28T16:00:00 EndTime=2100-01-01T00:00:00 "
	    "Nodes=gpu01 CPU_IDs=0 Mem=1 GRES=gpu(IDX:0)\n"
	    /* 7-13: multi-line, one bad detail line each, then a good one. */
	    "JobId=7 JobName=x\n"
	    "   UserId=a(1) Account=acct\n"
	    "   JobState=RUNNING\n"
	    "   StartTime=2026-11-28T16:00:00 EndTime=Unknown\n"
	    "     Nodes=gpu01 CPU_IDs=0 Mem=1 GRES=gpu(IDX:0-x)\n"
	    "     Nodes=gpu02 CPU_IDs=0 Mem=1 GRES=gpu:1(IDX:1024)\n"
	    "     Nodes=gpu03 CPU_IDs=0 Mem=1 GRES=gpu:2\n"
	    "     Nodes=gpu04 CPU_IDs=0 Mem=1 GRES=gpu(IDX:)\n"
	    "     Nodes=gpu[05 CPU_IDs=0 Mem=1 GRES=gpu(IDX:0)\n"
	    "     Nodes=(null) CPU_IDs=0 Mem=1 GRES=gpu(IDX:0)\n"
	    "     Nodes= CPU_IDs=0 Mem=1 GRES=gpu(IDX:0)\n"
	    "     Nodes=gpu06 CPU_IDs=0 Mem=1 GRES=gpu(IDX:0\n"
	    "     Nodes=gpu07 CPU_IDs=0 Mem=1 GRES=gpu:1(IDX:6)\n",
	    &res);

	(void)state;
	assert_int_equal(n, 1);
	assert_string_equal(res.a[0].node, "gpu07");
	assert_string_equal(res.a[0].project, "acct");
	assert_int_equal(res.a[0].line, 19);
	assert_int_equal(res.nrej, 14);
	assert_reject(&res, 0, 1,
		      "no per-node detail: use scontrol show job -d");
	assert_reject(&res, 1, 2,
		      "no per-node detail: use scontrol show job -d");
	assert_reject(&res, 2, 3, "allocation does not end after it starts");
	assert_reject(&res, 3, 4, "allocation does not end after it starts");
	assert_reject(&res, 4, 5, "invalid StartTime");
	assert_reject(&res, 5, 6, "EndTime out of range");
	assert_reject(&res, 6, 11, "invalid GPU index list");
	assert_string_equal(
	    res.rej[6].raw,
	    "     Nodes=gpu01 CPU_IDs=0 Mem=1 GRES=gpu(IDX:0-x)");
	assert_reject(&res, 7, 12, "GPU index out of range");
	assert_reject(&res, 8, 13, "no GPU indices in GRES");
	assert_reject(&res, 9, 14, "empty GPU index list");
	assert_reject(&res, 10, 15, "unbalanced '[' in hostlist");
	assert_reject(&res, 11, 16, "Nodes=(null) in detail line");
	assert_reject(&res, 12, 17, "empty host name in hostlist");
	assert_reject(&res, 13, 18, "no GPU indices in GRES");
}

static void
test_alloc_scontrol_record_too_long(void **state)
{
	struct result res;
	struct gpu_buf in;

	(void)state;
	gpu_buf_init(&in);
	gpu_buf_adds(&in, "JobId=1 UserId=a(1) JobState=RUNNING\n");
	for (int i = 0; i < 20000; i++)
		gpu_buf_adds(&in, "   Comment=padding-padding-padding-padding-"
				  "padding-padding-padding\n");
	gpu_buf_adds(&in, "JobId=2 UserId=a(1) JobState=RUNNING "
			  "StartTime=2026-11-28T16:00:00 EndTime=Unknown "
			  "Nodes=gpu01 CPU_IDs=0 Mem=1 GRES=gpu(IDX:0)\n");
	assert_true(in.len > 1024 * 1024);
	assert_int_equal(read_text(in.data, &res), 1);
	assert_string_equal(res.a[0].job, "2");
	assert_int_equal(res.a[0].line, 20002);
	assert_int_equal(res.nrej, 1);
	assert_reject(&res, 0, 1, "record too long");
	assert_string_equal(res.rej[0].raw,
			    "JobId=1 UserId=a(1) JobState=RUNNING");
	gpu_buf_release(&in);
}

/* ---- prolog/epilog lines ---- */

static void
test_alloc_events(void **state)
{
	struct result res;
	int n = read_text(
	    "# gpuusage prolog/epilog log\n"
	    "gpuusage-alloc 1 start time=2026-11-28T16:00:00Z job=123 "
	    "node=gpu01 gpus=0,2-3 user=alice project=ml\n"
	    "\n"
	    "  # an indented comment\n"
	    "gpuusage-alloc\t1  end \t project=ml future=x gpus=0,2-3 "
	    "node=gpu01 job=123 time=2026-11-28T18:00:00Z\r\n"
	    "gpuusage-alloc 1 start time=1795881600 job=124_3 node=gpu[02-03] "
	    "gpus=7 user= project=\n"
	    "gpuusage-alloc 1 end time=2026-11-28T18:00:00Z job=124_3 "
	    "node=gpu02\n"
	    /* SLURM_JOB_GPUS empty: a CPU-only job, nothing to say. */
	    "gpuusage-alloc 1 start time=2026-11-28T16:00:00Z job=125 "
	    "node=gpu04 gpus= user=bob\n",
	    &res);

	(void)state;
	assert_int_equal(res.nrej, 0);
	assert_int_equal(n, 5);
	assert_string_equal(res.a[0].job, "123");
	assert_string_equal(res.a[0].node, "gpu01");
	assert_string_equal(res.a[0].gpus, "0,2,3");
	assert_string_equal(res.a[0].user, "alice");
	assert_string_equal(res.a[0].project, "ml");
	assert_true(res.a[0].start == T16);
	assert_true(res.a[0].end == -1);
	assert_int_equal(res.a[0].line, 2);
	assert_string_equal(res.a[1].job, "123");
	assert_string_equal(res.a[1].gpus, "0,2,3");
	assert_true(res.a[1].start == -1);
	assert_true(res.a[1].end == T18);
	assert_string_equal(res.a[1].user, "");
	assert_string_equal(res.a[1].project, "ml");
	assert_int_equal(res.a[1].line, 5);
	assert_string_equal(res.a[2].node, "gpu02");
	assert_string_equal(res.a[3].node, "gpu03");
	assert_string_equal(res.a[3].gpus, "7");
	assert_string_equal(res.a[3].user, "");
	assert_true(res.a[3].start == T16);
	assert_int_equal(res.a[3].line, 6);
	/* An end without gpus: all the job's GPUs on the node. */
	assert_string_equal(res.a[4].gpus, "-");
	assert_true(res.a[4].end == T18);
}

static void
test_alloc_events_rejects(void **state)
{
	static const struct {
		const char *line, *reason;
	} cases[] = {
	    {"gpuusage-alloc 2 start time=1795881600 job=1 node=a gpus=0",
	     "unsupported gpuusage-alloc version"},
	    {"gpuusage-alloc start time=1795881600 job=1 node=a gpus=0",
	     "unsupported gpuusage-alloc version"},
	    {"gpuusage-alloc 1 resume time=1795881600 job=1 node=a gpus=0",
	     "unknown event"},
	    {"gpuusage-alloc 1", "unknown event"},
	    {"job=1 node=a", "not a gpuusage-alloc line"},
	    {"gpuusage-alloc 1 start job=1 node=a gpus=0", "missing time"},
	    {"gpuusage-alloc 1 start time= job=1 node=a gpus=0",
	     "missing time"},
	    {"gpuusage-alloc 1 start time=1795881600 node=a gpus=0",
	     "missing job"},
	    {"gpuusage-alloc 1 end time=1795881600 job=1", "missing node"},
	    {"gpuusage-alloc 1 start time=1795881600 job=1 node=a",
	     "missing gpus"},
	    {"gpuusage-alloc 1 start time=today job=1 node=a gpus=0",
	     "invalid time"},
	    {"gpuusage-alloc 1 end time=946684799 job=1 node=a",
	     "time out of range"},
	    {"gpuusage-alloc 1 start time=1795881600 job=1 node=a gpus=0-",
	     "invalid GPU index list"},
	    {"gpuusage-alloc 1 start time=1795881600 job=1 node=a gpus=4096",
	     "GPU index out of range"},
	    {"gpuusage-alloc 1 start time=1795881600 job=1 node=a[1 gpus=0",
	     "unbalanced '[' in hostlist"},
	    {"gpuusage-alloc 1 start time=1795881600 job=1 node=a gpus=0 x",
	     "invalid key=value token"},
	    {"gpuusage-alloc 1 start time=1795881600 job=1 job=2 node=a gpus=0",
	     "duplicate key"},
	    {"gpuusage-alloc 1 start time=1795881600 job=1 node=a gpus=0 "
	     "user=\x01",
	     "control character in user"},
	};
	char longtext[200];
	struct gpu_buf in;
	struct result res;

	(void)state;
	memset(longtext, 'x', 129);
	longtext[129] = '\0';
	gpu_buf_init(&in);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gpu_buf_adds(&in, cases[i].line);
		gpu_buf_addc(&in, '\n');
	}
	gpu_buf_addf(&in,
		     "gpuusage-alloc 1 end time=1795881600 job=%s node=a\n",
		     longtext);
	gpu_buf_addf(&in,
		     "gpuusage-alloc 1 end time=1795881600 job=1 node=%s\n",
		     longtext);
	gpu_buf_addf(&in,
		     "gpuusage-alloc 1 end time=1795881600 job=1 node=a "
		     "project=%s\n",
		     longtext);
	gpu_buf_adds(&in,
		     "gpuusage-alloc 1 end time=1795881600 job=ok node=a ");
	for (int i = 0; i < 70000; i++)
		gpu_buf_adds(&in, "pad=xxxxxxxxxxx ");
	gpu_buf_adds(&in,
		     "\ngpuusage-alloc 1 end time=1795881600 job=ok node=a\n");
	assert_int_equal(read_text(in.data, &res), 1);
	assert_string_equal(res.a[0].job, "ok");
	assert_int_equal(res.a[0].line, sizeof(cases) / sizeof(cases[0]) + 5);
	assert_int_equal(res.nrej, sizeof(cases) / sizeof(cases[0]) + 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_reject(&res, (int)i, (long)i + 1, cases[i].reason);
		assert_string_equal(res.rej[i].raw, cases[i].line);
	}
	assert_string_equal(res.rej[res.nrej - 4].reason, "job_id too long");
	assert_string_equal(res.rej[res.nrej - 3].reason, "node too long");
	assert_string_equal(res.rej[res.nrej - 2].reason, "project too long");
	assert_string_equal(res.rej[res.nrej - 1].reason, "line too long");
	gpu_buf_release(&in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alloc_gpuset_parse),
	    cmocka_unit_test(test_alloc_gpuset_refused),
	    cmocka_unit_test(test_alloc_gpuset_add_has_count),
	    cmocka_unit_test(test_alloc_detect),
	    cmocka_unit_test(test_alloc_open_errors),
	    cmocka_unit_test(test_alloc_csv_records),
	    cmocka_unit_test(test_alloc_csv_rejects),
	    cmocka_unit_test(test_alloc_jsonl),
	    cmocka_unit_test(test_alloc_scontrol_fixture_gres_idx),
	    cmocka_unit_test(test_alloc_scontrol_fixture_gres_typed),
	    cmocka_unit_test(test_alloc_scontrol_fixture_elided),
	    cmocka_unit_test(test_alloc_scontrol_multi_node),
	    cmocka_unit_test(test_alloc_scontrol_detail_lines),
	    cmocka_unit_test(test_alloc_scontrol_one_line),
	    cmocka_unit_test(test_alloc_scontrol_one_line_rejects),
	    cmocka_unit_test(test_alloc_scontrol_held_nothing),
	    cmocka_unit_test(test_alloc_scontrol_truncated),
	    cmocka_unit_test(test_alloc_scontrol_rejects),
	    cmocka_unit_test(test_alloc_scontrol_record_too_long),
	    cmocka_unit_test(test_alloc_events),
	    cmocka_unit_test(test_alloc_events_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
