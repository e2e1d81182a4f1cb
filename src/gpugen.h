/* SPDX-License-Identifier: MIT */
/* gpugen private interface: random numbers, GPU models, job simulation, rows.
 */
#ifndef GPUGEN_H
#define GPUGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gpu/buf.h"

/* A node never holds more GPUs than SPEC's gpu index allows. */
#define GEN_MAX_GPUS 1024
#define GEN_MAX_NODES 100000
#define GEN_NUSERS 20
#define GEN_NPROJECTS 6

/* xoshiro256** state; the job simulation draws from one of these. */
struct gen_rng {
	uint64_t s[4];
};

/* Seed r from one 64-bit value through splitmix64. */
void gen_rng_seed(struct gen_rng *r, uint64_t seed);

/* The next 64 random bits of r. */
uint64_t gen_rng_next(struct gen_rng *r);

/* A uniform double in [0, 1). */
double gen_rng_unit(struct gen_rng *r);

/* splitmix64's output function: a strong 64-bit mix of x. */
uint64_t gen_mix64(uint64_t x);

/* A uniform double in [0, 1) from 64 random bits. */
double gen_unit(uint64_t bits);

struct gen_model {
	const char *key;  /* short name for --models */
	const char *name; /* as nvidia-smi prints it */
	int mem_mib;
	double idle_w;
	double tdp_w;
	bool mig; /* offers MIG, 7 compute slices */
};

/* The model with short name key[0..len), or NULL. Borrowed, static. */
const struct gen_model *gen_model_find(const char *key, size_t len);

enum gen_job_type { GEN_TRAIN, GEN_INFER, GEN_DEBUG };

struct gen_job {
	int64_t start_ms;
	int64_t end_ms;
	uint64_t id;
	double util_base; /* training level, inference peak */
	double mem_frac;  /* of the GPU's memory (training, inference) */
	int mem_base_mib; /* interactive jobs */
	int type;
	int user;
	int project;
	int gpus;
	int node;
	int next_free; /* pool free list */
	char id_str[24];
	int id_len;
};

/* A job as --jobs-out lists it (SPEC 1.3). */
struct gen_jobrec {
	uint64_t id;
	int64_t start_ms;
	int64_t end_ms; /* -1: still running at the end of the window */
	int user;
	int project;
	int gpus;
};

struct gen_sim {
	struct gen_rng rng;
	double user_cum[GEN_NUSERS]; /* cumulative user weights */
	int nodes;
	int gpn;
	double rate_per_ms;   /* mean job arrival rate */
	int64_t now_ms;	      /* simulated up to here */
	int64_t next_arrival; /* candidate arrival (thinning) */
	int64_t win_start;
	int64_t win_end;
	uint64_t next_id;
	struct gen_job *jobs; /* pool */
	int njobs;
	int free_job;
	int *gpu_job;	 /* nodes * gpn: job index or -1 */
	int *node_free;	 /* free GPUs per node */
	int *free_count; /* free_count[f]: nodes with f free GPUs */
	int *heap;	 /* running jobs, min-heap by end_ms */
	int nheap;
	int *queue; /* pending jobs, FIFO */
	int nqueue;
	struct gen_jobrec *recs;
	size_t nrecs;
	size_t caprecs;
};

/* Names of users and projects, and a user's home project. */
extern const char *const gen_users[GEN_NUSERS];
extern const char *const gen_projects[GEN_NPROJECTS];

/*
 * Set up a simulated cluster of nodes x gpn GPUs whose jobs keep about load
 * (0..1) of it allocated, and run it up to win_start so that the window opens
 * in a steady state. Jobs overlapping [win_start, win_end) are recorded.
 * Release with gen_sim_release().
 */
void gen_sim_init(struct gen_sim *s, uint64_t seed, int nodes, int gpn,
		  double load, int64_t win_start, int64_t win_end);

/* Advance the simulation: process every job arrival and end up to t. */
void gen_sim_advance(struct gen_sim *s, int64_t t);

/* The job holding GPU gpu of node, or NULL. Borrowed. */
const struct gen_job *gen_sim_job(const struct gen_sim *s, int node, int gpu);

/* Sort the job records by job id. */
void gen_sim_sort_recs(struct gen_sim *s);

/* Free what gen_sim_init() allocated. */
void gen_sim_release(struct gen_sim *s);

/* Output format and timestamp forms. */
enum gen_format { GEN_CSV, GEN_JSONL, GEN_SMI };
enum gen_ts { GEN_TS_ISO, GEN_TS_MS, GEN_TS_MIXED };

/* A buffered output stream; failed sticks once a write fails. */
struct gen_out {
	FILE *fp;
	char *buf;
	size_t len;
	size_t cap;
	bool failed;
	int err; /* errno of the failure */
};

/* Write out's buffer to its FILE. Returns 0, or -1 with out->err set. */
int gen_out_flush(struct gen_out *out);

/* The settings the row generator needs. */
struct gen_conf {
	uint64_t seed;
	int nodes;
	int gpn;
	int64_t start_ms;
	int64_t interval_ms;
	int64_t nsteps;
	enum gen_format format;
	enum gen_ts ts;
	bool col_interval;
	bool col_uuid;
	double faults;
	int only_node;			     /* -1: every node */
	const struct gen_model **node_model; /* per node */
	/*
	 * --mig: every GPU carved into mig_k MIG instances; a node's gpn
	 * slots are then its GPUs' slices (slot / mig_k is the GPU).
	 */
	int mig_k; /* 0: whole GPUs */
	const char *mig_prof[7];
	int mig_plen[7];
	int mig_mem[7];	  /* MiB */
	int mig_share[7]; /* 28ths */
};

/*
 * Run the generator: advance sim step by step and write every sample row
 * (header first) to out. Returns 0, or -1 when a write failed (out->err).
 */
int gen_rows_run(const struct gen_conf *c, struct gen_sim *sim,
		 struct gen_out *out);

/* Write node i's name ("node001") into buf (>= 16 bytes); returns length. */
int gen_node_name(int i, int nodes, char *buf);

#endif
