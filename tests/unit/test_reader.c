/* SPDX-License-Identifier: MIT */
/* Unit tests of the raw sample reader (gpu/reader.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/buf.h"
#include "gpu/reader.h"

#define HDR                                                                    \
	"timestamp,node,gpu,util_pct,mem_used_mib,mem_total_mib,job_id,user,"  \
	"project,model,power_w,temp_c,interval_s,gpu_uuid\n"
#define TS "2026-11-28T16:00:00Z"
#define TS_MS INT64_C(1795881600000)

static FILE *
mk(const char *s, size_t n)
{
	FILE *fp = tmpfile();

	assert_non_null(fp);
	if (n > 0)
		assert_int_equal(fwrite(s, 1, n, fp), n);
	rewind(fp);
	return fp;
}

struct rd {
	FILE *fp;
	struct gpu_reader *r;
	struct gpu_err err;
	struct gpu_sample s;
	struct gpu_reject rej;
	long line;
};

static const struct gpu_reader_opts no_opts;

static struct gpu_reader *
rd_try(struct rd *d, const char *in, size_t n, const struct gpu_reader_opts *o)
{
	memset(d, 0, sizeof(*d));
	d->fp = mk(in, n);
	d->r =
	    gpu_reader_new(d->fp, "t.csv", o != NULL ? o : &no_opts, &d->err);
	if (d->r == NULL) {
		fclose(d->fp);
		d->fp = NULL;
	}
	return d->r;
}

static void
rd_open(struct rd *d, const char *in, size_t n, const struct gpu_reader_opts *o)
{
	assert_non_null(rd_try(d, in, n, o));
}

static int
rd_next(struct rd *d)
{
	return gpu_reader_next(d->r, &d->s, &d->line, &d->rej, &d->err);
}

static void
rd_close(struct rd *d)
{
	gpu_reader_free(d->r);
	if (d->fp != NULL)
		fclose(d->fp);
}

/* The reason the one row of HDR + row is rejected, or "ok". */
static char reason_buf[128];

static const char *
reason(const char *row)
{
	struct rd d;
	struct gpu_buf in;
	int rc;

	gpu_buf_init(&in);
	gpu_buf_adds(&in, HDR);
	gpu_buf_adds(&in, row);
	rd_open(&d, in.data, in.len, NULL);
	rc = rd_next(&d);
	assert_true(rc == GPU_READ_SAMPLE || rc == GPU_READ_REJECT);
	snprintf(reason_buf, sizeof(reason_buf), "%s",
		 rc == GPU_READ_SAMPLE ? "ok" : d.rej.reason);
	if (rc == GPU_READ_REJECT)
		assert_int_equal(d.rej.line, 2);
	assert_int_equal(rd_next(&d), GPU_READ_EOF);
	rd_close(&d);
	gpu_buf_release(&in);
	return reason_buf;
}

static bool
str_is(struct gpu_str s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

static void
test_reader_full_row(void **state)
{
	static const char in[] =
	    HDR TS ",n1,3,45.5,1023.5,81559,j1,alice,p1,"
		   "NVIDIA H100 80GB HBM3,250.5,65,30,GPU-a4\n";
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, NULL);
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(d.line, 2);
	assert_true(d.s.ts_ms == TS_MS);
	assert_true(str_is(d.s.node, "n1"));
	assert_int_equal(d.s.gpu, 3);
	assert_true(d.s.util_pct == 45.5);
	assert_int_equal(d.s.mem_used_mib, 1024);
	assert_int_equal(d.s.mem_total_mib, 81559);
	assert_true(d.s.has_mem_total);
	assert_true(str_is(d.s.job_id, "j1"));
	assert_true(str_is(d.s.user, "alice"));
	assert_true(str_is(d.s.project, "p1"));
	assert_true(str_is(d.s.model, "NVIDIA H100 80GB HBM3"));
	assert_true(d.s.has_power && d.s.power_w == 250.5);
	assert_true(d.s.has_temp && d.s.temp_c == 65);
	assert_int_equal(d.s.interval_s, 30);
	assert_true(str_is(d.s.gpu_uuid, "GPU-a4"));
	assert_int_equal(rd_next(&d), GPU_READ_EOF);
	assert_string_equal(gpu_reader_unknown(d.r), "");
	assert_true(gpu_reader_offset(d.r) == (long long)sizeof(in) - 1);
	rd_close(&d);
}

static void
test_reader_optional_absent(void **state)
{
	static const char in[] = HDR TS ",n1,0,0,0,[N/A],,,,[Not Supported],"
					"N/A,[Not Supported],,\n";
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, NULL);
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_false(d.s.has_mem_total);
	assert_false(d.s.has_power);
	assert_false(d.s.has_temp);
	assert_int_equal(d.s.model.len, 0);
	assert_int_equal(d.s.job_id.len, 0);
	assert_int_equal(d.s.interval_s, 0);
	rd_close(&d);
}

static void
test_reader_rounding(void **state)
{
	(void)state;
	assert_string_equal(reason(TS ",n,0,1,1023.4,1023.5,,,,,,,,\n"), "ok");
	assert_string_equal(reason(TS ",n,0,1,1023.5,1023.4,,,,,,,,\n"),
			    "mem_used_mib above mem_total_mib");
	assert_string_equal(reason(TS ",n,0,1,0.4,,,,,,,,,\n"), "ok");
	assert_string_equal(reason(TS ",n,0,1,1,0.4,,,,,,,,\n"),
			    "mem_total_mib out of range");
}

static void
test_reader_reject_reasons(void **state)
{
	char longtext[200];

	(void)state;
	memset(longtext, 'x', 129);
	longtext[129] = '\0';
	assert_string_equal(reason(",n,0,1,1,,,,,,,,,\n"), "missing timestamp");
	assert_string_equal(reason("yesterday,n,0,1,1,,,,,,,,,\n"),
			    "invalid timestamp");
	assert_string_equal(reason("1990-01-01T00:00:00Z,n,0,1,1,,,,,,,,,\n"),
			    "timestamp out of range");
	assert_string_equal(reason(TS ",,0,1,1,,,,,,,,,\n"), "missing node");
	assert_string_equal(reason(TS ",a\tb,0,1,1,,,,,,,,,\n"),
			    "control character in node");
	assert_string_equal(reason(TS ",a\xff,0,1,1,,,,,,,,,\n"),
			    "invalid UTF-8 in node");
	assert_string_equal(reason(TS ",n,,1,1,,,,,,,,,\n"), "missing gpu");
	assert_string_equal(reason(TS ",n,1a,1,1,,,,,,,,,\n"), "invalid gpu");
	assert_string_equal(reason(TS ",n,-1,1,1,,,,,,,,,\n"), "invalid gpu");
	assert_string_equal(reason(TS ",n,1.0,1,1,,,,,,,,,\n"), "invalid gpu");
	assert_string_equal(reason(TS ",n,1024,1,1,,,,,,,,,\n"),
			    "gpu out of range");
	assert_string_equal(reason(TS ",n,1023,1,1,,,,,,,,,\n"), "ok");
	assert_string_equal(reason(TS ",n,0,,1,,,,,,,,,\n"),
			    "missing util_pct");
	assert_string_equal(reason(TS ",n,0,abc,1,,,,,,,,,\n"),
			    "invalid util_pct");
	assert_string_equal(reason(TS ",n,0,100.5,1,,,,,,,,,\n"),
			    "util_pct out of range");
	assert_string_equal(reason(TS ",n,0,-1,1,,,,,,,,,\n"),
			    "util_pct out of range");
	assert_string_equal(reason(TS ",n,0,1,,,,,,,,,,\n"),
			    "missing mem_used_mib");
	assert_string_equal(reason(TS ",n,0,1,1x,,,,,,,,,\n"),
			    "invalid mem_used_mib");
	assert_string_equal(reason(TS ",n,0,1,-5,,,,,,,,,\n"),
			    "mem_used_mib out of range");
	assert_string_equal(reason(TS ",n,0,1,1,big,,,,,,,,\n"),
			    "invalid mem_total_mib");
	assert_string_equal(reason(TS ",n,0,1,1,0,,,,,,,,\n"),
			    "mem_total_mib out of range");
	assert_string_equal(reason(TS ",n,0,1,100,50,,,,,,,,\n"),
			    "mem_used_mib above mem_total_mib");
	assert_string_equal(reason(TS ",n,0,1,1,,j\x7f,,,,,,,\n"),
			    "control character in job_id");
	assert_string_equal(reason(TS ",n,0,1,1,,,u\x01,,,,,,\n"),
			    "control character in user");
	assert_string_equal(reason(TS ",n,0,1,1,,,,,,watts,,,\n"),
			    "invalid power_w");
	assert_string_equal(reason(TS ",n,0,1,1,,,,,,-1,,,\n"),
			    "power_w out of range");
	assert_string_equal(reason(TS ",n,0,1,1,,,,,,,hot,,\n"),
			    "invalid temp_c");
	assert_string_equal(reason(TS ",n,0,1,1,,,,,,,,1.5,\n"),
			    "invalid interval_s");
	assert_string_equal(reason(TS ",n,0,1,1,,,,,,,,0,\n"),
			    "interval_s out of range");
	assert_string_equal(reason(TS ",n,0,1,1,,,,,,,,86401,\n"),
			    "interval_s out of range");
	assert_string_equal(reason(TS ",n,0,1,1,,,,,,,,86400,\n"), "ok");
	assert_string_equal(reason(TS ",n,0,1,1,,,,\"a,b\",,,,,\n"), "ok");
	assert_string_equal(reason(TS ",n,0,1,1,,,,,,,,\n"),
			    "wrong number of fields");
	assert_string_equal(reason(TS ",n,0,1,1,,,,,,,,,,\n"),
			    "wrong number of fields");
	assert_string_equal(reason(TS ",n,0,1,1,,a\"b,,,,,,,\n"),
			    "malformed CSV quoting");
	assert_string_equal(reason(TS ",n,0,1,1,,\"a\"b,,,,,,,\n"),
			    "malformed CSV quoting");
	assert_string_equal(reason(TS ",n,0,1,1,,\"open,,,,,,,\n"),
			    "malformed CSV quoting");

	{
		char row[400];

		snprintf(row, sizeof(row), TS ",%s,0,1,1,,,,,,,,,\n", longtext);
		assert_string_equal(reason(row), "node too long");
		snprintf(row, sizeof(row), TS ",n,0,1,1,,,,%s,,,,,\n",
			 longtext);
		assert_string_equal(reason(row), "project too long");
		snprintf(row, sizeof(row), TS ",n,0,1,1,,,,,%s,,,,\n",
			 longtext);
		assert_string_equal(reason(row), "model too long");
		snprintf(row, sizeof(row), TS ",n,0,1,1,,,,,,,,,%s\n",
			 longtext);
		assert_string_equal(reason(row), "gpu_uuid too long");
		longtext[128] = '\0';
		snprintf(row, sizeof(row), TS ",n,0,1,1,,%s,,,,,,,\n",
			 longtext);
		assert_string_equal(reason(row), "ok");
	}
}

/*
 * A control character, DEL or a byte that is not UTF-8 at every place of
 * a 20-byte user name (the check takes whole words of printable ASCII
 * first): each is rejected with its reason; valid UTF-8 there is kept.
 */
static void
test_reader_text_every_place(void **state)
{
	(void)state;
	for (int at = 0; at < 20; at++) {
		static const struct {
			const char *put, *want;
		} cases[] = {{"\x01", "control character in user"},
			     {"\x1f", "control character in user"},
			     {"\x7f", "control character in user"},
			     {"\xff", "invalid UTF-8 in user"},
			     {"\xc3\xa9", "ok"},
			     {"~", "ok"}};

		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			char user[32], row[128];

			memset(user, 'u', 20);
			user[20] = '\0';
			memcpy(user + at, cases[c].put, strlen(cases[c].put));
			user[at + strlen(cases[c].put) > 20
				 ? at + strlen(cases[c].put)
				 : 20] = '\0';
			snprintf(row, sizeof(row), TS ",n,0,1,1,,,%s,,,,,,\n",
				 user);
			assert_string_equal(reason(row), cases[c].want);
		}
	}
}

static void
test_reader_reject_raw_and_go_on(void **state)
{
	static const char in[] =
	    HDR TS ",n,0,101,1,,,,,,,,,\n" TS ",n,1,50,1,,,,,,,,,\n";
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, NULL);
	assert_int_equal(rd_next(&d), GPU_READ_REJECT);
	assert_int_equal(d.rej.line, 2);
	assert_string_equal(d.rej.reason, "util_pct out of range");
	assert_true(str_is(d.rej.raw, TS ",n,0,101,1,,,,,,,,,"));
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(d.line, 3);
	assert_int_equal(d.s.gpu, 1);
	assert_int_equal(rd_next(&d), GPU_READ_EOF);
	rd_close(&d);
}

static void
test_reader_bom_crlf(void **state)
{
	static const char in[] =
	    "\xEF\xBB\xBFtimestamp,node,gpu,util_pct,"
	    "mem_used_mib\r\n" TS ",n1,0,5,7\r\n" TS ",n1,1,500,7\r\n";
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, NULL);
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(d.line, 2);
	assert_true(str_is(d.s.node, "n1"));
	assert_int_equal(d.s.mem_used_mib, 7);
	assert_int_equal(rd_next(&d), GPU_READ_REJECT);
	assert_int_equal(d.rej.line, 3);
	assert_true(str_is(d.rej.raw, TS ",n1,1,500,7"));
	assert_int_equal(rd_next(&d), GPU_READ_EOF);
	rd_close(&d);
}

static void
test_reader_quoted_newlines_lines(void **state)
{
	static const char in[] =
	    "timestamp,node,gpu,util_pct,mem_used_mib,"
	    "user\n"
	    "\n" TS ",n,0,1,1,\"multi\nline\nuser\"\n"
	    "   \n" TS ",n,1,1,1,\"x\"\"y\"\r\n" TS ",n,2,1,1,plain";
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, NULL);
	/* The user has control characters (newlines): a reject at line 3. */
	assert_int_equal(rd_next(&d), GPU_READ_REJECT);
	assert_int_equal(d.rej.line, 3);
	assert_string_equal(d.rej.reason, "control character in user");
	assert_true(str_is(d.rej.raw, TS ",n,0,1,1,\"multi\nline\nuser\""));
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(d.line, 7);
	assert_true(str_is(d.s.user, "x\"y"));
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(d.line, 8);
	assert_true(str_is(d.s.user, "plain"));
	assert_int_equal(rd_next(&d), GPU_READ_EOF);
	rd_close(&d);
}

static void
test_reader_unterminated_quote_at_eof(void **state)
{
	static const char in[] = "timestamp,node,gpu,util_pct,mem_used_mib\n" TS
				 ",n,0,1,1\n" TS ",\"n,0,1,1\nmore\n";
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, NULL);
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(rd_next(&d), GPU_READ_REJECT);
	assert_int_equal(d.rej.line, 3);
	assert_string_equal(d.rej.reason, "malformed CSV quoting");
	assert_int_equal(rd_next(&d), GPU_READ_EOF);
	rd_close(&d);
}

static void
test_reader_nvidia_smi(void **state)
{
	static const char in[] =
	    "index, uuid, memory.used [MiB], memory.total [MiB], "
	    "utilization.gpu [%], power.draw [W], temperature.gpu, name\n"
	    "0, GPU-a44622e3-2296, 130013 MiB, 143771 MiB, 100 %, "
	    "250.00 W, 65, NVIDIA H200\n"
	    "7, GPU-28780eb0-24d5, 58071 MiB, 143771 MiB, 0 %, [N/A], "
	    "[Not Supported], NVIDIA H200\n";
	struct gpu_reader_opts o = {GPU_FMT_AUTO, "gpu-node-1", NULL, true,
				    TS_MS};
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, &o);
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_true(str_is(d.s.node, "gpu-node-1"));
	assert_true(d.s.ts_ms == TS_MS);
	assert_int_equal(d.s.gpu, 0);
	assert_true(str_is(d.s.gpu_uuid, "GPU-a44622e3-2296"));
	assert_int_equal(d.s.mem_used_mib, 130013);
	assert_int_equal(d.s.mem_total_mib, 143771);
	assert_true(d.s.util_pct == 100);
	assert_true(d.s.has_power && d.s.power_w == 250);
	assert_true(d.s.has_temp && d.s.temp_c == 65);
	assert_true(str_is(d.s.model, "NVIDIA H200"));
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(d.s.gpu, 7);
	assert_true(d.s.util_pct == 0);
	assert_false(d.s.has_power);
	assert_false(d.s.has_temp);
	assert_int_equal(rd_next(&d), GPU_READ_EOF);
	rd_close(&d);
}

static void
test_reader_nvidia_smi_timestamp_unknown(void **state)
{
	static const char in[] =
	    "index, timestamp, utilization.gpu [%], utilization.memory "
	    "[%], memory.total [MiB], memory.used [MiB], memory.free "
	    "[MiB]\n"
	    "0, 2020/11/12 13:48:11.412, 99 %, 52 %, 32480 MiB, 30994 MiB, "
	    "1486 MiB\n";
	struct gpu_reader_opts o = {GPU_FMT_CSV, "v100", NULL, false, 0};
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, &o);
	assert_string_equal(gpu_reader_unknown(d.r),
			    "utilization.memory [%],memory.free [MiB]");
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_true(d.s.ts_ms == INT64_C(1605188891412));
	assert_true(d.s.util_pct == 99);
	assert_int_equal(d.s.mem_used_mib, 30994);
	rd_close(&d);
}

static void
test_reader_headerless_columns(void **state)
{
	/* nvidia-smi --format=csv,noheader,nounits */
	static const char in[] = "0, 2004, 2004, 44, [N/A], 37\n"
				 "1, 2004, 0, 44, [Not Supported], 0\n";
	struct gpu_reader_opts o = {
	    GPU_FMT_AUTO, "n9",
	    "index,memory.total,memory.used,temperature.gpu,fan.speed,"
	    "utilization.gpu",
	    true, TS_MS};
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, &o);
	assert_string_equal(gpu_reader_unknown(d.r), "fan.speed");
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(d.line, 1);
	assert_int_equal(d.s.mem_used_mib, 2004);
	assert_true(d.s.util_pct == 37);
	assert_true(d.s.temp_c == 44);
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(d.line, 2);
	assert_int_equal(d.s.gpu, 1);
	assert_int_equal(rd_next(&d), GPU_READ_EOF);
	rd_close(&d);
}

static void
test_reader_open_errors(void **state)
{
	static const char nonode[] = "timestamp,gpu,util_pct,mem_used_mib\n";
	static const char nots[] = "node,gpu,util_pct,mem_used_mib\n";
	static const char noutil[] = "timestamp,node,gpu,mem_used_mib\n";
	static const char dup[] = "timestamp,node,gpu,index,util_pct,"
				  "mem_used_mib\n";
	static const char bin[] = "\x01\x02\x03,\x00\x05\n1,2\n";
	struct gpu_reader_opts cols = {GPU_FMT_AUTO, "n",
				       "memory.used,"
				       "utilization.gpu",
				       true, TS_MS};
	struct rd d;

	(void)state;
	assert_null(rd_try(&d, "", 0, NULL));
	assert_string_equal(d.err.msg, "empty input");
	assert_string_equal(d.err.source, "t.csv");
	assert_null(rd_try(&d, "\n  \r\n\n", 6, NULL));
	assert_string_equal(d.err.msg, "empty input");
	assert_null(rd_try(&d, "\xEF\xBB\xBF", 3, NULL));
	assert_string_equal(d.err.msg, "empty input");

	assert_null(rd_try(&d, nonode, sizeof(nonode) - 1, NULL));
	assert_string_equal(d.err.msg, "missing required column 'node'");
	assert_int_equal(d.err.line, 1);
	assert_null(rd_try(&d, nots, sizeof(nots) - 1, NULL));
	assert_string_equal(d.err.msg, "missing required column 'timestamp'");
	/* The tool learns which, to say how to give it (gpuingest --node). */
	{
		static const char *const in[] = {nonode, nots, noutil};
		static const int want[] = {GPU_READER_NO_NODE,
					   GPU_READER_NO_TIME, -1};

		for (int i = 0; i < 3; i++) {
			FILE *fp = mk(in[i], strlen(in[i]));
			struct gpu_reader *r = NULL;

			assert_int_equal(
			    gpu_reader_open(fp, "t.csv", &no_opts, &r, &d.err),
			    want[i]);
			assert_null(r);
			fclose(fp);
		}
	}
	assert_null(rd_try(&d, noutil, sizeof(noutil) - 1, NULL));
	assert_string_equal(d.err.msg, "missing required column 'util_pct'");
	assert_int_equal(d.err.line, 1);
	assert_string_equal(d.err.source, "t.csv");
	assert_null(rd_try(&d, dup, sizeof(dup) - 1, NULL));
	assert_string_equal(d.err.msg, "duplicate column 'gpu'");
	assert_null(rd_try(&d, bin, sizeof(bin) - 1, NULL));
	assert_string_equal(d.err.msg, "binary data in header");
	assert_null(rd_try(&d, "0,1\n", 4, &cols));
	assert_string_equal(d.err.msg, "missing required column 'gpu'");

	/* With --node and --at, a header-only input has no rows. */
	{
		struct gpu_reader_opts o = {GPU_FMT_AUTO, "n", NULL, true,
					    TS_MS};

		rd_open(&d, nonode, sizeof(nonode) - 1, &o);
		assert_int_equal(rd_next(&d), GPU_READ_EOF);
		rd_close(&d);
		rd_open(&d, nots, sizeof(nots) - 1, &o);
		assert_int_equal(rd_next(&d), GPU_READ_EOF);
		rd_close(&d);
	}
}

static void
test_reader_binary_row_rejected(void **state)
{
	static const char in[] = "timestamp,node,gpu,util_pct,mem_used_mib\n" TS
				 ",n\0x,0,1,1\n\x80\x81\xfe\n" TS ",n,0,1,1\n";
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, NULL);
	assert_int_equal(rd_next(&d), GPU_READ_REJECT);
	assert_string_equal(d.rej.reason, "control character in node");
	assert_int_equal(d.rej.raw.len, sizeof(TS ",n\0x,0,1,1") - 1);
	assert_int_equal(rd_next(&d), GPU_READ_REJECT);
	assert_string_equal(d.rej.reason, "wrong number of fields");
	assert_int_equal(d.rej.line, 3);
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(d.line, 4);
	rd_close(&d);
}

static void
test_reader_unknown_columns(void **state)
{
	static const char in[] =
	    "timestamp,Node,GPU,Util_Pct,mem_used_mib,"
	    "colour, mem_util_pct ,usage_category,"
	    "allocated,ingest_id,shoe size\n" TS ",n,0,1,1,red,1,idle,0,7,42\n";
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, NULL);
	assert_string_equal(gpu_reader_unknown(d.r), "colour,shoe size");
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_true(str_is(d.s.node, "n"));
	rd_close(&d);
}

static void
test_reader_jsonl(void **state)
{
	static const char in[] =
	    "\n{\"timestamp\":\"" TS "\",\"node\":\"n1\",\"gpu\":\"2\","
	    "\"util_pct\":\"12.5\",\"mem_used_mib\":\"100\","
	    "\"mem_total_mib\":null,\"power_w\":\"300 W\",\"extra\":1}\n"
	    "{\"timestamp\":1795881600,\"node\":\"n1\",\"gpu\":3,"
	    "\"util_pct\":7,\"mem_used_mib\":1.5,\"interval_s\":60,"
	    "\"Extra\":[1]}\r\n"
	    "{not json}\n"
	    "[1,2]\n"
	    "{\"timestamp\":1795881600123,\"node\":{\"a\":1},\"gpu\":0,"
	    "\"util_pct\":1,\"mem_used_mib\":1}\n"
	    "{\"timestamp\":1795881600,\"gpu\":0,\"util_pct\":1,"
	    "\"mem_used_mib\":1} trailing\n"
	    "{\"timestamp\":1795881600,\"gpu\":0,\"util_pct\":1,"
	    "\"mem_used_mib\":1}\n";
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, NULL);
	assert_string_equal(gpu_reader_unknown(d.r), "extra");
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(d.line, 2);
	assert_true(d.s.ts_ms == TS_MS);
	assert_int_equal(d.s.gpu, 2);
	assert_true(d.s.util_pct == 12.5);
	assert_false(d.s.has_mem_total);
	assert_true(d.s.has_power && d.s.power_w == 300);
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_int_equal(d.line, 3);
	assert_true(d.s.ts_ms == TS_MS);
	assert_int_equal(d.s.gpu, 3);
	assert_int_equal(d.s.mem_used_mib, 2);
	assert_int_equal(d.s.interval_s, 60);
	assert_int_equal(rd_next(&d), GPU_READ_REJECT);
	assert_string_equal(d.rej.reason, "invalid JSON");
	assert_int_equal(d.rej.line, 4);
	assert_true(str_is(d.rej.raw, "{not json}"));
	assert_int_equal(rd_next(&d), GPU_READ_REJECT);
	assert_string_equal(d.rej.reason, "JSON line is not an object");
	assert_int_equal(rd_next(&d), GPU_READ_REJECT);
	assert_string_equal(d.rej.reason, "invalid node");
	assert_int_equal(rd_next(&d), GPU_READ_REJECT);
	assert_string_equal(d.rej.reason, "invalid JSON");
	assert_int_equal(rd_next(&d), GPU_READ_REJECT);
	assert_string_equal(d.rej.reason, "missing node");
	assert_int_equal(d.rej.line, 8);
	assert_int_equal(rd_next(&d), GPU_READ_EOF);
	assert_string_equal(gpu_reader_unknown(d.r), "extra,Extra");
	rd_close(&d);
}

static void
test_reader_jsonl_node_option(void **state)
{
	static const char in[] = "{\"timestamp\":1795881600,\"gpu\":0,"
				 "\"util_pct\":1,\"mem_used_mib\":1}";
	struct gpu_reader_opts o = {GPU_FMT_JSONL, "fallback", NULL, false, 0};
	struct rd d;

	(void)state;
	rd_open(&d, in, sizeof(in) - 1, &o);
	assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
	assert_true(str_is(d.s.node, "fallback"));
	assert_int_equal(rd_next(&d), GPU_READ_EOF);
	rd_close(&d);
}

/* A file with a field of n bytes (quoted or not) in row 2, then a row. */
static char *
long_field_input(size_t n, bool quoted, size_t *len)
{
	struct gpu_buf b;
	size_t i;

	gpu_buf_init(&b);
	gpu_buf_adds(&b, "timestamp,node,gpu,util_pct,mem_used_mib,job_id\n");
	gpu_buf_adds(&b, TS ",n,0,1,1,");
	if (quoted)
		gpu_buf_addc(&b, '"');
	gpu_buf_grow(&b, n);
	for (i = 0; i < n; i++)
		b.data[b.len + i] = (char)('a' + i % 26);
	b.len += n;
	b.data[b.len] = '\0';
	if (quoted)
		gpu_buf_addc(&b, '"');
	gpu_buf_adds(&b, "\n" TS ",n,1,1,1,j\n");
	*len = b.len;
	return b.data;
}

static void
test_reader_long_lines(void **state)
{
	size_t len;
	char *in;
	struct rd d;
	int q;

	(void)state;
	for (q = 0; q < 2; q++) {
		/* Longer than the 64 KiB buffer, shorter than 1 MiB. */
		in = long_field_input(200000, q == 1, &len);
		rd_open(&d, in, len, NULL);
		assert_int_equal(rd_next(&d), GPU_READ_REJECT);
		assert_string_equal(d.rej.reason, "job_id too long");
		assert_int_equal(d.rej.line, 2);
		assert_int_equal(rd_next(&d), GPU_READ_SAMPLE);
		assert_int_equal(d.line, 3);
		assert_true(str_is(d.s.job_id, "j"));
		assert_int_equal(rd_next(&d), GPU_READ_EOF);
		rd_close(&d);
		free(in);

		in = long_field_input(GPU_FIELD_MAX + 10, q == 1, &len);
		rd_open(&d, in, len, NULL);
		assert_int_equal(rd_next(&d), -1);
		assert_string_equal(d.err.msg, "field longer than 1 MiB");
		assert_int_equal(d.err.line, 2);
		assert_string_equal(d.err.source, "t.csv");
		rd_close(&d);
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reader_full_row),
	    cmocka_unit_test(test_reader_optional_absent),
	    cmocka_unit_test(test_reader_rounding),
	    cmocka_unit_test(test_reader_reject_reasons),
	    cmocka_unit_test(test_reader_text_every_place),
	    cmocka_unit_test(test_reader_reject_raw_and_go_on),
	    cmocka_unit_test(test_reader_bom_crlf),
	    cmocka_unit_test(test_reader_quoted_newlines_lines),
	    cmocka_unit_test(test_reader_unterminated_quote_at_eof),
	    cmocka_unit_test(test_reader_nvidia_smi),
	    cmocka_unit_test(test_reader_nvidia_smi_timestamp_unknown),
	    cmocka_unit_test(test_reader_headerless_columns),
	    cmocka_unit_test(test_reader_open_errors),
	    cmocka_unit_test(test_reader_binary_row_rejected),
	    cmocka_unit_test(test_reader_unknown_columns),
	    cmocka_unit_test(test_reader_jsonl),
	    cmocka_unit_test(test_reader_jsonl_node_option),
	    cmocka_unit_test(test_reader_long_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
