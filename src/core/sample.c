/* SPDX-License-Identifier: MIT */
/* Usage categories of a sample. */
#include "gpu/sample.h"

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
