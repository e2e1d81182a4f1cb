/* SPDX-License-Identifier: MIT */
/* gpugen: per-sample values, injected faults, and fast row formatting. */
#include "gpugen.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/diag.h"
#include "gpu/time.h"

#define PI 3.14159265358979323846
#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)
/* Room one formatted row always fits in. */
#define ROW_MAX 2048

enum { FAULT_NONE, FAULT_DUP, FAULT_RESEND, FAULT_BAD, FAULT_LATE, FAULT_NA };
enum { NA_NONE, NA_POWER, NA_TEMP, NA_TOTAL };

struct step {
	int64_t index;
	uint64_t base;	/* random base of this step's rows */
	double infer;	/* inference load factor, daily cycle 0..1 */
	char ts[5][40]; /* ISO Z, epoch ms, epoch s, ISO offset, nvidia-smi */
	size_t tslen[5];
};

struct row {
	const struct gen_job *job;
	const struct gen_model *model;
	int node;
	int gpu;       /* the slot: a GPU, or a MIG slice with --mig */
	int mem_total; /* MiB */
	int util10; /* tenths of a percent */
	int mem_used;
	int power_cw; /* hundredths of a watt */
	int temp;
	int na;
	int bad; /* malformation kind + 1, or 0 */
	int tsform;
};

struct late {
	int64_t due;
	char *text;
	size_t len;
};

struct gen {
	const struct gen_conf *c;
	struct gen_sim *sim;
	struct gen_out *out;
	struct step st;
	char (*names)[16];
	size_t *name_len;
	char (*uuids)[48]; /* per GPU, "GPU-xxxxxxxx-..." (40 bytes) */
	uint64_t *gpu_key; /* per GPU random key */
	int *idle_mem;	   /* per GPU memory use when unallocated */
	struct late *late;
	size_t nlate;
	size_t caplate;
	uint64_t nrow;
	char interval[24];
	size_t interval_len;
};

/* A splitmix64 stream for one row: draws are independent of output order. */
struct draw {
	uint64_t s;
};

static uint64_t
next(struct draw *d)
{
	d->s += GOLDEN;
	return gen_mix64(d->s);
}

static double
unit(struct draw *d)
{
	return gen_unit(next(d));
}

/* Triangular noise in (-1, 1). */
static double
tri(struct draw *d)
{
	return unit(d) + unit(d) - 1.0;
}

int
gen_out_flush(struct gen_out *out)
{
	if (out->failed)
		return -1;
	if (out->len > 0 &&
	    fwrite(out->buf, 1, out->len, out->fp) != out->len) {
		out->failed = true;
		out->err = errno != 0 ? errno : EIO;
		return -1;
	}
	out->len = 0;
	return 0;
}

/* Make room for one row; returns where to write it. */
static char *
room(struct gen_out *out)
{
	if (out->cap - out->len < ROW_MAX)
		gen_out_flush(out);
	if (out->failed)
		out->len = 0; /* keep going quietly; the caller stops soon */
	return out->buf + out->len;
}

static char *
put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUTS(p, lit) put((p), (lit), sizeof(lit) - 1)

static char *
put_u(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* Tenths: "87.3", or "87" when the fraction is zero. */
static char *
put_tenths(char *p, int v)
{
	p = put_u(p, (uint64_t)(v / 10));
	if (v % 10 != 0) {
		*p++ = '.';
		*p++ = (char)('0' + v % 10);
	}
	return p;
}

/* Hundredths, always two decimals: "250.15". */
static char *
put_cents(char *p, int v)
{
	p = put_u(p, (uint64_t)(v / 100));
	*p++ = '.';
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *
put_int(char *p, int v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u(p, (uint64_t)(-(int64_t)v));
	}
	return put_u(p, (uint64_t)v);
}

int
gen_node_name(int i, int nodes, char *buf)
{
	int width = 3, n = 0;
	char digits[16];

	for (int v = nodes; v >= 1000; v /= 10)
		width++;
	memcpy(buf, "node", 4);
	for (int v = i + 1; v > 0 || n < width; v /= 10)
		digits[n++] = (char)('0' + v % 10);
	for (int k = 0; k < n; k++)
		buf[4 + k] = digits[n - 1 - k];
	buf[4 + n] = '\0';
	return 4 + n;
}

static void
fmt_uuid(uint64_t a, uint64_t b, char *out)
{
	static const char hex[] = "0123456789abcdef";
	char h[32];
	int k = 0;

	for (int i = 0; i < 16; i++)
		h[i] = hex[(a >> (4 * i)) & 15];
	for (int i = 0; i < 16; i++)
		h[16 + i] = hex[(b >> (4 * i)) & 15];
	memcpy(out, "GPU-", 4);
	char *p = out + 4;
	for (int i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			*p++ = '-';
		*p++ = h[k++];
	}
	*p = '\0';
}

/* Two-digit field. */
static char *
put2(char *p, int v)
{
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static size_t
fmt_smi_time(int64_t ms, char *out)
{
	int64_t days = ms / 86400000, y;
	int64_t rem = ms % 86400000;
	int m, d;
	char *p = out;

	gpu_civil_from_days(days, &y, &m, &d);
	p = put_u(p, (uint64_t)y);
	*p++ = '/';
	p = put2(p, m);
	*p++ = '/';
	p = put2(p, d);
	*p++ = ' ';
	p = put2(p, (int)(rem / 3600000));
	*p++ = ':';
	p = put2(p, (int)(rem / 60000 % 60));
	*p++ = ':';
	p = put2(p, (int)(rem / 1000 % 60));
	*p++ = '.';
	*p++ = (char)('0' + rem / 100 % 10);
	p = put2(p, (int)(rem % 100));
	return (size_t)(p - out);
}

static void
prepare_step(struct gen *g, int64_t index)
{
	const struct gen_conf *c = g->c;
	struct step *st = &g->st;
	int64_t t = c->start_ms + index * c->interval_ms;
	double hod = (double)(t % 86400000) / 3600000.0;
	char *p;

	st->index = index;
	st->base = gen_mix64(c->seed * 3 + (uint64_t)index);
	st->infer = 0.5 - 0.5 * cos(2.0 * PI * (hod - 3.0) / 24.0);
	if (c->format == GEN_SMI) {
		st->tslen[4] = fmt_smi_time(t, st->ts[4]);
		return;
	}
	gpu_time_fmt_iso(t, st->ts[0]);
	st->tslen[0] = strlen(st->ts[0]);
	st->tslen[1] = (size_t)(put_u(st->ts[1], (uint64_t)t) - st->ts[1]);
	p = put_u(st->ts[2], (uint64_t)(t / 1000));
	if (t % 1000 != 0) {
		*p++ = '.';
		*p++ = (char)('0' + t % 1000 / 100);
		p = put2(p, (int)(t % 100));
	}
	st->tslen[2] = (size_t)(p - st->ts[2]);
	/* The same instant as a local time with an offset. */
	bool east = index % 2 == 0;
	gpu_time_fmt_iso(t + (east ? 3600000 : -19800000), st->ts[3]);
	st->tslen[3] = strlen(st->ts[3]) - 1;
	p = put(st->ts[3] + st->tslen[3], east ? "+01:00" : "-05:30", 6);
	st->tslen[3] = (size_t)(p - st->ts[3]);
}

static int
clamp_i(double v, int lo, int hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return (int)v;
}

static double
job_util(const struct gen_job *j, double infer, struct draw *d)
{
	double u, p;

	switch (j->type) {
	case GEN_TRAIN:
		if (unit(d) < 0.02)
			return 30.0 * unit(d); /* checkpoint or evaluation */
		return j->util_base + 4.0 * tri(d);
	case GEN_INFER:
		u = j->util_base * infer + 6.0 * tri(d);
		if (unit(d) < 0.15)
			u += 40.0 * unit(d); /* request burst */
		return u;
	default:
		p = unit(d);
		if (p < 0.7)
			return 3.0 * unit(d);
		if (p < 0.95)
			return 5.0 + 35.0 * unit(d);
		return 60.0 + 40.0 * unit(d);
	}
}

static int
job_mem(const struct gen_job *j, int total, double util, struct draw *d)
{
	double m;

	switch (j->type) {
	case GEN_TRAIN:
		m = j->mem_frac * total + 128.0 * tri(d);
		break;
	case GEN_INFER:
		m = (j->mem_frac + 0.15 * util / 100.0) * total + 64.0 * tri(d);
		break;
	default:
		m = j->mem_base_mib + 200.0 * tri(d);
		break;
	}
	return clamp_i(m + 0.5, 0, total);
}

static void
make_row(struct gen *g, struct row *r, int node, int gpu, struct draw *d)
{
	const struct gen_model *mo = g->c->node_model[node];
	size_t gi = (size_t)node * (size_t)g->c->gpn + (size_t)gpu;
	double util, power;

	r->node = node;
	r->gpu = gpu;
	r->model = mo;
	r->mem_total = g->c->mig_k > 0 ? g->c->mig_mem[gpu % g->c->mig_k]
				       : mo->mem_mib;
	r->job = gen_sim_job(g->sim, node, gpu);
	r->na = NA_NONE;
	r->bad = 0;
	d->s = g->st.base ^ g->gpu_key[gi];
	if (r->job == NULL) {
		util = next(d) % 20 == 0 ? 1.0 : 0.0;
		r->mem_used = g->idle_mem[gi];
		power = mo->idle_w * (0.97 + 0.06 * unit(d));
		if (r->mem_used > r->mem_total)
			r->mem_used = r->mem_total;
	} else {
		util = job_util(r->job, g->st.infer, d);
		util = util < 0 ? 0 : util > 100 ? 100 : util;
		r->mem_used = job_mem(r->job, r->mem_total, util, d);
		power = mo->idle_w + (mo->tdp_w - mo->idle_w) *
					 (0.08 + 0.87 * util / 100.0) *
					 (0.96 + 0.08 * unit(d));
		if (power > mo->tdp_w)
			power = mo->tdp_w;
	}
	/* A slice draws its share of the board's power. */
	if (g->c->mig_k > 0)
		power = power * g->c->mig_share[gpu % g->c->mig_k] / 28.0;
	r->util10 = clamp_i(util * 10.0 + 0.5, 0, 1000);
	r->power_cw = (int)(power * 100.0 + 0.5);
	r->temp = (int)lround(27.0 + 48.0 * power / mo->tdp_w + 2.0 * tri(d));
	r->tsform = g->c->ts == GEN_TS_MS ? 1 : 0;
	if (g->c->ts == GEN_TS_MIXED) {
		static const int cycle[4] = {1, 2, 0, 3};

		r->tsform = cycle[g->nrow % 4];
	}
	g->nrow++;
}

static char *
put_ts(char *p, const struct gen *g, const struct row *r, bool json)
{
	const struct step *st = &g->st;
	bool quote = json && (r->tsform == 0 || r->tsform == 3);

	if (quote)
		*p++ = '"';
	p = put(p, st->ts[r->tsform], st->tslen[r->tsform]);
	if (quote)
		*p++ = '"';
	return p;
}

static char *
put_util(char *p, const struct row *r)
{
	if (r->bad == 2)
		return PUTS(p, "9x7");
	return put_tenths(p, r->util10);
}

/* The GPU index of a row (its slot's GPU with --mig). */
static int
phys_gpu(const struct gen *g, const struct row *r)
{
	return g->c->mig_k > 0 ? r->gpu / g->c->mig_k : r->gpu;
}

static char *
fmt_csv(char *p, const struct gen *g, const struct row *r)
{
	const struct gen_conf *c = g->c;
	const struct gen_job *j = r->job;

	p = put_ts(p, g, r, false);
	*p++ = ',';
	if (r->bad == 3)
		*p++ = '"';
	p = put(p, g->names[r->node], g->name_len[r->node]);
	if (r->bad == 3)
		p = PUTS(p, "\"x");
	*p++ = ',';
	p = put_u(p, (uint64_t)phys_gpu(g, r));
	*p++ = ',';
	p = put_util(p, r);
	*p++ = ',';
	p = put_u(p, (uint64_t)r->mem_used);
	*p++ = ',';
	if (r->na == NA_TOTAL)
		p = PUTS(p, "[N/A]");
	else
		p = put_u(p, (uint64_t)r->mem_total);
	*p++ = ',';
	if (j != NULL) {
		p = put(p, j->id_str, (size_t)j->id_len);
		*p++ = ',';
		p = put(p, gen_users[j->user], strlen(gen_users[j->user]));
		*p++ = ',';
		p = put(p, gen_projects[j->project],
			strlen(gen_projects[j->project]));
		*p++ = ',';
	} else {
		p = PUTS(p, ",,,");
	}
	p = put(p, r->model->name, strlen(r->model->name));
	*p++ = ',';
	p = r->na == NA_POWER ? PUTS(p, "[N/A]") : put_cents(p, r->power_cw);
	*p++ = ',';
	p = r->na == NA_TEMP ? PUTS(p, "[N/A]") : put_int(p, r->temp);
	if (c->col_interval) {
		*p++ = ',';
		p = put(p, g->interval, g->interval_len);
	}
	if (c->col_uuid) {
		*p++ = ',';
		p = put(
		    p,
		    g->uuids[(size_t)r->node * (size_t)c->gpn + (size_t)r->gpu],
		    40);
	}
	if (c->mig_k > 0) {
		int i = r->gpu % c->mig_k;

		*p++ = ',';
		p = put_u(p, (uint64_t)i + 1);
		*p++ = ',';
		p = put(p, c->mig_prof[i], (size_t)c->mig_plen[i]);
	}
	*p++ = '\n';
	return p;
}

static char *
put_jstr(char *p, const char *s, size_t n)
{
	*p++ = '"';
	p = put(p, s, n);
	*p++ = '"';
	return p;
}

static char *
fmt_jsonl(char *p, const struct gen *g, const struct row *r)
{
	const struct gen_conf *c = g->c;
	const struct gen_job *j = r->job;

	p = PUTS(p, "{\"timestamp\":");
	p = put_ts(p, g, r, true);
	p = PUTS(p, ",\"node\":\"");
	p = put(p, g->names[r->node], g->name_len[r->node]);
	if (r->bad != 3)
		*p++ = '"';
	p = PUTS(p, ",\"gpu\":");
	p = put_u(p, (uint64_t)phys_gpu(g, r));
	p = PUTS(p, ",\"util_pct\":");
	if (r->bad == 2)
		p = PUTS(p, "\"9x7\"");
	else
		p = put_tenths(p, r->util10);
	p = PUTS(p, ",\"mem_used_mib\":");
	p = put_u(p, (uint64_t)r->mem_used);
	p = PUTS(p, ",\"mem_total_mib\":");
	if (r->na == NA_TOTAL)
		p = PUTS(p, "\"[N/A]\"");
	else
		p = put_u(p, (uint64_t)r->mem_total);
	if (j != NULL) {
		p = PUTS(p, ",\"job_id\":");
		p = put_jstr(p, j->id_str, (size_t)j->id_len);
		p = PUTS(p, ",\"user\":");
		p = put_jstr(p, gen_users[j->user], strlen(gen_users[j->user]));
		p = PUTS(p, ",\"project\":");
		p = put_jstr(p, gen_projects[j->project],
			     strlen(gen_projects[j->project]));
	} else {
		p = PUTS(p, ",\"job_id\":null,\"user\":null,\"project\":null");
	}
	p = PUTS(p, ",\"model\":");
	p = put_jstr(p, r->model->name, strlen(r->model->name));
	p = PUTS(p, ",\"power_w\":");
	p = r->na == NA_POWER ? PUTS(p, "\"[N/A]\"")
			      : put_cents(p, r->power_cw);
	p = PUTS(p, ",\"temp_c\":");
	p = r->na == NA_TEMP ? PUTS(p, "\"[N/A]\"") : put_int(p, r->temp);
	if (c->col_interval) {
		p = PUTS(p, ",\"interval_s\":");
		p = put(p, g->interval, g->interval_len);
	}
	if (c->col_uuid) {
		p = PUTS(p, ",\"gpu_uuid\":");
		p = put_jstr(
		    p,
		    g->uuids[(size_t)r->node * (size_t)c->gpn + (size_t)r->gpu],
		    40);
	}
	if (c->mig_k > 0) {
		int i = r->gpu % c->mig_k;

		p = PUTS(p, ",\"mig\":");
		p = put_u(p, (uint64_t)i + 1);
		p = PUTS(p, ",\"mig_profile\":");
		p = put_jstr(p, c->mig_prof[i], (size_t)c->mig_plen[i]);
	}
	if (r->bad != 1)
		*p++ = '}';
	*p++ = '\n';
	return p;
}

static char *
fmt_smi(char *p, const struct gen *g, const struct row *r)
{
	const struct step *st = &g->st;

	p = put(p, st->ts[4], st->tslen[4]);
	p = PUTS(p, ", ");
	p = put_u(p, (uint64_t)r->gpu);
	p = PUTS(p, ", ");
	if (r->bad == 3)
		*p++ = '"';
	p = put(p, r->model->name, strlen(r->model->name));
	if (r->bad == 3)
		p = PUTS(p, "\"x");
	p = PUTS(p, ", ");
	p = put(p,
		g->uuids[(size_t)r->node * (size_t)g->c->gpn + (size_t)r->gpu],
		40);
	p = PUTS(p, ", ");
	if (r->bad == 2)
		p = PUTS(p, "9x7");
	else
		p = put_u(p, (uint64_t)((r->util10 + 5) / 10));
	p = PUTS(p, " %, ");
	p = put_u(p, (uint64_t)r->mem_used);
	p = PUTS(p, " MiB, ");
	if (r->na == NA_TOTAL) {
		p = PUTS(p, "[N/A], ");
	} else {
		p = put_u(p, (uint64_t)r->model->mem_mib);
		p = PUTS(p, " MiB, ");
	}
	if (r->na == NA_POWER) {
		p = PUTS(p, "[N/A], ");
	} else {
		p = put_cents(p, r->power_cw);
		p = PUTS(p, " W, ");
	}
	p = r->na == NA_TEMP ? PUTS(p, "[N/A]") : put_int(p, r->temp);
	*p++ = '\n';
	return p;
}

/* Format r at p; a malformation of kind 1 drops the last field. */
static char *
fmt_row(char *p, const struct gen *g, const struct row *r)
{
	char *start = p, *e;

	switch (g->c->format) {
	case GEN_CSV:
		p = fmt_csv(p, g, r);
		break;
	case GEN_JSONL:
		return fmt_jsonl(p, g, r);
	default:
		p = fmt_smi(p, g, r);
		break;
	}
	if (r->bad != 1)
		return p;
	for (e = p - 1; e > start && *e != ','; e--)
		;
	*e++ = '\n';
	return e;
}

static void
hold_late(struct gen *g, int64_t due, const char *text, size_t len)
{
	struct late *l;

	if (g->nlate == g->caplate) {
		g->caplate = g->caplate == 0 ? 64 : 2 * g->caplate;
		g->late =
		    gpu_xreallocarray(g->late, g->caplate, sizeof(*g->late));
	}
	l = &g->late[g->nlate++];
	l->due = due;
	l->text = gpu_xmalloc(len);
	memcpy(l->text, text, len);
	l->len = len;
}

/* Write the held rows due by step (all of them when step < 0). */
static void
emit_late(struct gen *g, int64_t step)
{
	size_t kept = 0;

	for (size_t i = 0; i < g->nlate; i++) {
		struct late *l = &g->late[i];

		if (step >= 0 && l->due > step) {
			g->late[kept++] = *l;
			continue;
		}
		char *p = room(g->out);
		memcpy(p, l->text, l->len);
		g->out->len += l->len;
		free(l->text);
	}
	g->nlate = kept;
}

static void
emit(struct gen *g, struct row *r, struct draw *d)
{
	struct gen_out *out = g->out;
	char *p = room(out), *e;
	int fault = FAULT_NONE;

	if (g->c->faults > 0 && unit(d) < g->c->faults)
		fault = 1 + (int)(next(d) % 5);
	if (fault == FAULT_NA)
		r->na = 1 + (int)(next(d) % 3);
	if (fault == FAULT_BAD)
		r->bad = 1 + (int)(next(d) % 3);
	e = fmt_row(p, g, r);
	if (fault == FAULT_LATE) {
		hold_late(g, g->st.index + 1 + (int64_t)(next(d) % 3), p,
			  (size_t)(e - p));
		return;
	}
	out->len += (size_t)(e - p);
	if (fault == FAULT_DUP) {
		memcpy(e, p, (size_t)(e - p));
		out->len += (size_t)(e - p);
	}
	if (fault == FAULT_RESEND) {
		r->util10 = (r->util10 + 10 + (int)(next(d) % 300)) % 1001;
		p = out->buf + out->len;
		e = fmt_row(p, g, r);
		hold_late(g, g->st.index + 1 + (int64_t)(next(d) % 5), p,
			  (size_t)(e - p));
	}
}

static void
header(struct gen *g)
{
	const struct gen_conf *c = g->c;
	char *p = room(g->out);

	if (c->format == GEN_JSONL)
		return;
	if (c->format == GEN_SMI) {
		p = PUTS(p, "timestamp, index, name, uuid, "
			    "utilization.gpu [%], memory.used [MiB], "
			    "memory.total [MiB], power.draw [W], "
			    "temperature.gpu\n");
	} else {
		p = PUTS(p, "timestamp,node,gpu,util_pct,mem_used_mib,"
			    "mem_total_mib,job_id,user,project,model,"
			    "power_w,temp_c");
		if (c->col_interval)
			p = PUTS(p, ",interval_s");
		if (c->col_uuid)
			p = PUTS(p, ",gpu_uuid");
		if (c->mig_k > 0)
			p = PUTS(p, ",mig,mig_profile");
		*p++ = '\n';
	}
	g->out->len = (size_t)(p - g->out->buf);
}

static void
gen_init(struct gen *g, const struct gen_conf *c, struct gen_sim *sim,
	 struct gen_out *out)
{
	size_t ngpu = (size_t)c->nodes * (size_t)c->gpn;
	uint64_t useed = gen_mix64(c->seed ^ UINT64_C(0xa54ff53a5f1d36f1));

	memset(g, 0, sizeof(*g));
	g->c = c;
	g->sim = sim;
	g->out = out;
	g->names = gpu_xreallocarray(NULL, (size_t)c->nodes, sizeof(*g->names));
	g->name_len = gpu_xreallocarray(NULL, (size_t)c->nodes, sizeof(size_t));
	for (int i = 0; i < c->nodes; i++)
		g->name_len[i] =
		    (size_t)gen_node_name(i, c->nodes, g->names[i]);
	g->gpu_key = gpu_xreallocarray(NULL, ngpu, sizeof(uint64_t));
	g->idle_mem = gpu_xreallocarray(NULL, ngpu, sizeof(int));
	g->uuids = gpu_xreallocarray(NULL, ngpu, sizeof(*g->uuids));
	for (size_t i = 0; i < ngpu; i++) {
		uint64_t k = gen_mix64(useed + i);

		g->gpu_key[i] = gen_mix64(k ^ UINT64_C(0x3c6ef372fe94f82b));
		g->idle_mem[i] = (int)(gen_mix64(k + 1) % 501);
		fmt_uuid(gen_mix64(k + 2), gen_mix64(k + 3), g->uuids[i]);
	}
	g->interval_len =
	    (size_t)(put_u(g->interval, (uint64_t)(c->interval_ms / 1000)) -
		     g->interval);
}

static void
gen_release(struct gen *g)
{
	for (size_t i = 0; i < g->nlate; i++)
		free(g->late[i].text);
	free(g->late);
	free(g->names);
	free(g->name_len);
	free(g->gpu_key);
	free(g->idle_mem);
	free(g->uuids);
}

int
gen_rows_run(const struct gen_conf *c, struct gen_sim *sim, struct gen_out *out)
{
	struct gen g;
	struct row r;
	struct draw d;
	int first = c->only_node >= 0 ? c->only_node : 0;
	int last = c->only_node >= 0 ? c->only_node + 1 : c->nodes;

	gen_init(&g, c, sim, out);
	header(&g);
	for (int64_t s = 0; s < c->nsteps && !out->failed; s++) {
		gen_sim_advance(sim, c->start_ms + s * c->interval_ms);
		prepare_step(&g, s);
		for (int n = first; n < last; n++)
			for (int k = 0; k < c->gpn; k++) {
				make_row(&g, &r, n, k, &d);
				emit(&g, &r, &d);
			}
		if (g.nlate > 0)
			emit_late(&g, s);
	}
	emit_late(&g, -1);
	gen_out_flush(out);
	gen_release(&g);
	return out->failed ? -1 : 0;
}
