/* SPDX-License-Identifier: MIT */
/*
 * The rate card: gpu_rates_load() on the input; a card that loads holds
 * rates from 0 to GPU_RATE_MAX, and pricing a long job at them must not
 * overflow silently (gpu_charge_job() flags what does not fit).
 */
#include <string.h>

#include "fuzz.h"
#include "gpu/diag.h"
#include "gpu/money.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpu_rates r;
	struct gpu_err err;
	struct gpu_charge c;
	struct gpu_str m = {"", 0};
	int64_t secs = INT64_C(1) << 40;
	FILE *fp = fuzz_file(data, size);
	int k;

	gpu_rates_init(&r);
	if (gpu_rates_load(&r, fp, "fuzz", &err) == 0) {
		for (k = 0; k < GPU_RATE_NKEYS; k++)
			if (r.v[k] < 0 || r.v[k] > GPU_RATE_MAX * 1000000)
				__builtin_trap();
		gpu_charge_job(&c, &r, &m, &secs, 1, secs);
		if (!c.overflow && (c.total_cents < 0 || c.gpu_cents < 0))
			__builtin_trap();
	}
	gpu_rates_release(&r);
	fclose(fp);
	return 0;
}
