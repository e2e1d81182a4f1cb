/* SPDX-License-Identifier: MIT */
/*
 * gpubill --input: gpuagg's CSV read by bill_read_input() (src/gpubill-
 * input.c) into a bill, then priced. The first byte picks the period mode
 * and --share-idle. A report that does not overflow reconciles: the total
 * is the sum of the lines.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "gpu/diag.h"
#include "gpu/hashmap.h"
#include "gpu/money.h"
#include "gpubill.h"

static char path[] = "/tmp/fuzz_bill_input_XXXXXX";
static char fdpath[32]; /* the file, unlinked at once, by descriptor */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum period_mode modes[] = {MODE_BUCKET, MODE_MONTHLY,
						 MODE_FIXED};
	static int fd = -1;
	struct opts o;
	struct gpu_rates r;
	struct gpu_hashmap known;
	struct gpu_bill *bill;
	struct gpu_bill_report rep;
	struct gpu_err err;
	int64_t sum = 0;
	size_t i;

	if (size < 1)
		return 0;
	if (fd < 0) {
		if ((fd = mkstemp(path)) < 0 || unlink(path) != 0)
			__builtin_trap();
		snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
		__builtin_trap();
	memset(&o, 0, sizeof(o));
	o.input = fdpath;
	o.mode = modes[data[0] % 3];
	o.share_idle = (data[0] & 4) != 0;
	o.by = (enum gpu_bill_by)((data[0] >> 3) % 3);
	snprintf(o.label, sizeof(o.label), "all");
	gpu_rates_init(&r);
	gpu_hashmap_init(&known);
	bill = gpu_bill_new(&r);
	if (bill_read_input(bill, &o, &r, &known, &err) == 0) {
		gpu_bill_report(bill, o.by, o.share_idle, NULL, NULL, &rep);
		for (i = 0; i < rep.nlines && !rep.overflow; i++)
			sum += rep.lines[i].c.total_cents;
		if (!rep.overflow && sum != rep.total.total_cents)
			__builtin_trap();
		gpu_bill_report_release(&rep);
	}
	gpu_bill_free(bill);
	gpu_hashmap_release(&known);
	gpu_rates_release(&r);
	return 0;
}
