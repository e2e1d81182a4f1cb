/* SPDX-License-Identifier: MIT */
/* One raw GPU sample (SPEC.md section 1), as the reader hands it out. */
#ifndef GPU_SAMPLE_H
#define GPU_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A text value: pointer and length; len 0 means absent or empty. */
struct gpu_str {
	const char *p;
	size_t len;
};

/*
 * A validated sample. Text fields are borrowed from the reader and valid
 * until the next gpu_reader_next() call. Optional numbers carry has_ flags.
 */
struct gpu_sample {
	int64_t ts_ms;
	struct gpu_str node;
	int gpu;
	double util_pct;
	int64_t mem_used_mib;
	int64_t mem_total_mib;
	bool has_mem_total;
	struct gpu_str job_id; /* empty: unallocated */
	struct gpu_str user;
	struct gpu_str project;
	struct gpu_str model;
	struct gpu_str gpu_uuid;
	double power_w;
	bool has_power;
	double temp_c;
	bool has_temp;
	int interval_s; /* 0: absent, the tool applies its default */
	int njobs;	/* jobs that shared the GPU (dcgm-exporter hpc_job) */
};

/* Usage categories of SPEC.md section 2. */
enum gpu_usage_cat { GPU_CAT_IDLE, GPU_CAT_LOW, GPU_CAT_MEDIUM, GPU_CAT_HIGH };

/* The category of a utilization: idle < 5 <= low < 30 <= medium < 70. */
enum gpu_usage_cat gpu_usage_category(double util_pct);

/* "idle", "low", "medium" or "high". */
const char *gpu_usage_cat_name(enum gpu_usage_cat c);

#endif
