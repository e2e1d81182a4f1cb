/* SPDX-License-Identifier: MIT */
/* Usage categories of a sample; MIG profiles and their shares. */
#include "gpu/sample.h"

#include <string.h>
#include <strings.h>

enum gpu_usage_cat
gpu_usage_category(double util_pct)
{
	if (util_pct < 5)
		return GPU_CAT_IDLE;
	if (util_pct < 30)
		return GPU_CAT_LOW;
	if (util_pct < 70)
		return GPU_CAT_MEDIUM;
	return GPU_CAT_HIGH;
}

const char *
gpu_usage_cat_name(enum gpu_usage_cat c)
{
	static const char *const names[] = {"idle", "low", "medium", "high"};

	return names[c];
}

/* Read a decimal number of at most 3 digits at p[*i]; -1 when none. */
static int
small_num(const char *p, size_t len, size_t *i)
{
	int n = 0;
	size_t start = *i;

	while (*i < len && p[*i] >= '0' && p[*i] <= '9' && *i - start < 3)
		n = n * 10 + (p[(*i)++] - '0');
	return *i > start ? n : -1;
}

/* Does model name an A30 (a GPU of 4 compute slices)? */
static bool
four_slice(struct gpu_str model)
{
	for (size_t i = 0; i + 3 <= model.len; i++)
		if (memcmp(model.p + i, "A30", 3) == 0 &&
		    (i + 3 == model.len || model.p[i + 3] < '0' ||
		     model.p[i + 3] > '9'))
			return true;
	return false;
}

int
gpu_mig_share(struct gpu_str profile, struct gpu_str model, int *share28)
{
	static const char *const suffix[] = {"", "+me", "-me", "+gfx",
					     "+me.all"};
	const char *p = profile.p;
	size_t len = profile.len, i = 0, rest;
	int c = -1, g, gb, total = four_slice(model) ? 4 : 7;
	bool ok = false;

	g = small_num(p, len, &i);
	if (g > 0 && i < len && p[i] == 'c') {
		/* A compute instance "Nc.Mg...": N of the GPU's slices. */
		c = g;
		if (++i >= len || p[i++] != '.')
			return -1;
		g = small_num(p, len, &i);
	}
	if (g <= 0 || i + 2 > len || p[i] != 'g' || p[i + 1] != '.')
		return -1;
	i += 2;
	gb = small_num(p, len, &i);
	if (gb <= 0 || i + 2 > len || memcmp(p + i, "gb", 2) != 0)
		return -1;
	i += 2;
	rest = len - i;
	for (size_t k = 0; k < sizeof(suffix) / sizeof(suffix[0]); k++)
		if (strlen(suffix[k]) == rest &&
		    memcmp(p + i, suffix[k], rest) == 0)
			ok = true;
	if (!ok)
		return -1;
	/* The GPU instance sizes each kind offers. */
	if (total == 7 ? (g != 1 && g != 2 && g != 3 && g != 4 && g != 7)
		       : (g != 1 && g != 2 && g != 4))
		return -1;
	if (c > g)
		return -1;
	*share28 = (c > 0 ? c : g) * GPU_SHARE_WHOLE / total;
	return 0;
}

const char *
gpu_sample_set_mig(struct gpu_sample *s, struct gpu_str id, struct gpu_str prof)
{
	int v = 0;

	if (id.len == 0 || id.len > 2)
		return id.len == 0 ? "invalid mig" : "mig out of range";
	for (size_t i = 0; i < id.len; i++) {
		if (id.p[i] < '0' || id.p[i] > '9')
			return "invalid mig";
		v = v * 10 + (id.p[i] - '0');
	}
	if (v > GPU_MIG_MAX)
		return "mig out of range";
	if (prof.len == 0)
		return "MIG instance without a profile (mig_profile)";
	if (gpu_mig_share(prof, s->model, &s->share28) != 0)
		return "unknown MIG profile";
	s->has_mig = true;
	s->mig = v;
	s->profile = prof;
	return NULL;
}

bool
gpu_gres_is_mig(const char *s, size_t len)
{
	for (size_t i = 1; i + 3 < len; i++) {
		size_t k = i + 2;

		if (s[i] != 'g' || s[i + 1] != '.' || s[i - 1] < '0' ||
		    s[i - 1] > '9')
			continue;
		while (k < len && s[k] >= '0' && s[k] <= '9')
			k++;
		if (k > i + 2 && k + 2 <= len &&
		    strncasecmp(s + k, "gb", 2) == 0)
			return true;
	}
	return false;
}
