/* SPDX-License-Identifier: MIT */
/* The job reader: job files and Slurm sacct output, with a header or not. */
#include "fuzz.h"
#include "gpu/diag.h"
#include "gpu/jobs.h"
#include "gpu/reader.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpu_jobs_opts jo = {0};
	struct gpu_jobs *j;
	struct gpu_job job;
	struct gpu_reject rej;
	struct gpu_err err;
	long line;
	FILE *fp;

	if (size < 1)
		return 0;
	/* Without a header row, the sacct columns gpu-pipeline asks for. */
	if (data[0] & 1)
		jo.columns = "JobID,User,Account,Start,End,AllocTRES";
	fp = fuzz_file(data + 1, size - 1);
	j = gpu_jobs_new(fp, "fuzz", &jo, &err);
	while (j != NULL && gpu_jobs_next(j, &job, &line, &rej, &err) > 0)
		;
	gpu_jobs_free(j);
	fclose(fp);
	return 0;
}
