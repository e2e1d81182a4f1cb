/* SPDX-License-Identifier: MIT */
/*
 * Timestamps and the period/range arguments: gpu_time_parse() on the raw
 * bytes, gpu_time_parse_arg() (--from, --to), gpu_period_parse() (--period)
 * and gpu_period_label_parse() (bucket labels, --month) on them as a
 * string. A time parsed must give back the same time once printed as a
 * label of its own hour and parsed again.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gpu/time.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;
	enum gpu_period p;
	int64_t ms, start;
	char *s;
	int i;

	if (size > 4096)
		return 0;
	if (gpu_time_parse((const char *)data, size, &ms, &why) == 0) {
		char label[32];
		int64_t h = gpu_period_start(GPU_PERIOD_HOUR, ms);

		gpu_period_label(GPU_PERIOD_HOUR, h, label);
		if (gpu_period_label_parse(GPU_PERIOD_HOUR, label,
					   strlen(label), &start) != 0 ||
		    start != h)
			__builtin_trap();
	}
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)gpu_time_parse_arg(s, &ms, &why);
	(void)gpu_period_parse(s, &p);
	for (i = 0; i <= (int)GPU_PERIOD_ALL; i++)
		(void)gpu_period_label_parse((enum gpu_period)i, s, size,
					     &start);
	free(s);
	return 0;
}
