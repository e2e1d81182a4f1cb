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
	/*
	 * A MIG slice (has_mig): its GPU instance id, its profile
	 * ("3g.40gb") and its share of the GPU in 28ths (0 or 28: all of
	 * it). A zeroed sample is a whole GPU.
	 */
	bool has_mig;
	int mig;
	struct gpu_str profile;
	int share28;
};

/* The largest MIG GPU instance id taken. */
#define GPU_MIG_MAX 63

/*
 * Shares of a GPU are counted in 28ths: a slice of a 7-slice GPU (A100,
 * H100, ...) is a multiple of 4/28 and one of a 4-slice A30 a multiple of
 * 7/28, so every share, and every sum of seconds weighted by one, is an
 * exact integer.
 */
#define GPU_SHARE_WHOLE 28

/*
 * The share in 28ths of a MIG profile ("3g.40gb", "1g.10gb+me", the
 * compute-instance form "1c.3g.40gb") on a GPU of model (may be empty):
 * its compute slices over the GPU's (7; 4 for an A30). Returns 0, or -1
 * when the profile is not one a GPU of that kind offers.
 */
int gpu_mig_share(struct gpu_str profile, struct gpu_str model, int *share28);

/*
 * Does Slurm GRES text s[0..len) ("a100_3g.20gb", "gpu:a100_3g.40gb:1")
 * name a MIG profile ("Ng.Mgb")? Such a GRES counts slices, and its
 * indices number MIG devices, not GPUs.
 */
bool gpu_gres_is_mig(const char *s, size_t len);

/*
 * Make s (whose model is set) the MIG slice of instance id text id and
 * profile prof. Returns NULL, or the reason to reject the sample: a bad id,
 * a missing or unknown profile.
 */
const char *gpu_sample_set_mig(struct gpu_sample *s, struct gpu_str id,
			       struct gpu_str prof);

/* Usage categories of SPEC.md section 2. */
enum gpu_usage_cat { GPU_CAT_IDLE, GPU_CAT_LOW, GPU_CAT_MEDIUM, GPU_CAT_HIGH };

/* The category of a utilization: idle < 5 <= low < 30 <= medium < 70. */
enum gpu_usage_cat gpu_usage_category(double util_pct);

/* "idle", "low", "medium" or "high". */
const char *gpu_usage_cat_name(enum gpu_usage_cat c);

#endif
