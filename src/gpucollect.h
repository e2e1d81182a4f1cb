/* SPDX-License-Identifier: MIT */
/* gpucollect's private interface: nvidia-smi, /proc, job map and spool. */
#ifndef GPUCOLLECT_H
#define GPUCOLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/buf.h"
#include "gpu/diag.h"

/* Longest text value written to a sample (SPEC.md section 1). */
#define COLLECT_TEXT_MAX 128

/* What a command run by collect_run() did. */
struct collect_cmd {
	struct gpu_buf out; /* its standard output */
	struct gpu_buf err; /* its standard error */
	int exec_errno;	    /* it could not be started: errno, else 0 */
	bool timed_out;	    /* killed after the timeout */
	bool too_big;	    /* killed: output past the limit */
	int exit_code;	    /* exit status when it exited, else -1 */
	int signo;	    /* signal that ended it, else 0 */
};

/*
 * Run argv (argv[0] looked up in PATH when it has no '/') without a shell,
 * stdin from /dev/null, in its own process group, and wait at most
 * timeout_ms for it to exit; on expiry the group is killed. Fills c (the
 * caller releases it with collect_cmd_release()). Returns 0 when the
 * command ran and exited 0, else -1 with the reason in c.
 */
int collect_run(char *const argv[], long timeout_ms, struct collect_cmd *c);

/* Free what collect_run() put in c. */
void collect_cmd_release(struct collect_cmd *c);

/*
 * Describe a failed run: "failed (exit 9): FIRST LINE", "failed (killed by
 * signal 9)", "failed (timed out after 20 s)" or "cannot run 'PATH': ...".
 * name is what the message calls the command, path what it ran. The first
 * line comes from stderr, else stdout (nvidia-smi prints some errors
 * there). Appends to msg.
 */
void collect_cmd_describe(const struct collect_cmd *c, const char *name,
			  const char *path, long timeout_ms,
			  struct gpu_buf *msg);

/* One GPU of a pass: what nvidia-smi said and who holds it. Owned text. */
struct collect_gpu {
	int64_t ts_ms;
	long index;
	char *uuid, *model;
	char *util, *mem_used, *mem_total, *power, *temp; /* NULL: absent */
	char *job, *user, *project;			  /* NULL: unknown */
	long line;
};

/* One process on a GPU (nvidia-smi --query-compute-apps). */
struct collect_app {
	char *uuid;
	long pid;
};

/* What /proc says about one process. Owned text, NULL when unknown. */
struct collect_proc {
	bool gone; /* vanished before it could be read */
	char *job, *user, *project;
};

/*
 * Parse the output of --query-gpu=timestamp,index,uuid,name,
 * utilization.gpu,memory.used,memory.total,power.draw,temperature.gpu
 * --format=csv,noheader,nounits into *gpus (grown, *n counts them).
 * The timestamp is read as local time (collect_local_time()); a missing
 * one takes now_ms. Lines that lack the GPU index, utilization or memory
 * used are skipped with a warning (unless quiet), as are malformed ones;
 * other unusable values are absent. Never fails. The caller releases each
 * record with collect_gpu_release() and frees the array.
 */
void collect_parse_gpus(const char *text, size_t len, int64_t now_ms,
			bool quiet, struct collect_gpu **gpus, size_t *n);

/*
 * Parse the output of --query-compute-apps=gpu_uuid,pid,used_memory
 * --format=csv,noheader,nounits into *apps (grown, *n counts them); lines
 * without a usable UUID or PID are skipped. The caller releases each with
 * collect_app_release() and frees the array.
 */
void collect_parse_apps(const char *text, size_t len, struct collect_app **apps,
			size_t *n);

/* Free the owned strings of a GPU or process record. */
void collect_gpu_release(struct collect_gpu *g);
void collect_app_release(struct collect_app *a);
void collect_proc_release(struct collect_proc *p);

/*
 * Convert nvidia-smi's "YYYY/MM/DD HH:MM:SS[.fff]" (the node's local time,
 * no offset) to epoch ms UTC, truncated to whole seconds. In the hour that
 * a change from summer time repeats, the reading nearer to now_ms wins.
 * Returns 0, or -1 when s[0..len) has another shape or is not a valid
 * local time.
 */
int collect_local_time(const char *s, size_t len, int64_t now_ms, int64_t *ms);

/*
 * Find the Slurm job in one line of /proc/PID/cgroup, "ID:CONTROLLERS:PATH"
 * (any controller in cgroup v1, "0::PATH" in v2): a path component
 * "job_N" under ".../slurm*" + "/uid_U" (v1) or under a component ending
 * in "slurmstepd.scope" (v2, also "HOST_slurmstepd.scope"). Returns true
 * and sets *job, *jlen to the digits (inside line), else false.
 */
bool collect_cgroup_line_job(const char *line, size_t len, const char **job,
			     size_t *jlen);

/* The first job that a line of the whole cgroup file text names, as above. */
bool collect_cgroup_job(const char *text, size_t len, const char **job,
			size_t *jlen);

/*
 * Look up NAME in an environ block (NUL-separated "NAME=VALUE" entries,
 * as /proc/PID/environ holds). Returns true and points *val, *vlen into
 * env at the first match, else false.
 */
bool collect_environ_get(const char *env, size_t len, const char *name,
			 const char **val, size_t *vlen);

/* Is s[0..n) usable as a job id: 1-128 bytes of [0-9A-Za-z_.+-]. */
bool collect_job_valid(const char *s, size_t n);

/*
 * Read what proc_dir/PID/cgroup and proc_dir/PID/environ say about the
 * Slurm job of a process into p (released by the caller). The job is the
 * cgroup's; SLURM_JOB_ID from environ when the cgroup names none. An
 * array task (SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID) is named A_T. The
 * environ's user and account count only when its job is the cgroup's.
 */
void collect_proc_read(const char *proc_dir, long pid, struct collect_proc *p);

/*
 * Read the job ids of GPU index from a DCGM job-mapping directory (file
 * dir/INDEX, one id a line). Returns the smallest (caller frees), warning
 * when the file lists several, or NULL when there is no file or no job.
 */
char *collect_job_map_read(const char *dir, long index, bool quiet);

/*
 * Attribute each GPU: the job map (job_map may be NULL), else the jobs of
 * its processes (apps, with procs[i] read for apps[i]); user and project
 * come from a process of the chosen job. Warns (unless quiet) when
 * several jobs claim one GPU.
 */
void collect_attribute(struct collect_gpu *gpus, size_t ngpus,
		       const struct collect_app *apps,
		       const struct collect_proc *procs, size_t napps,
		       const char *job_map, bool quiet);

/* Start of the hour that holds ms. */
int64_t collect_hour_start(int64_t ms);

/*
 * The first instant after now_ms (epoch ms) that is a multiple of
 * period_s seconds: a 30 s loop samples at :00 and :30.
 */
int64_t collect_next_boundary(int64_t now_ms, int64_t period_s);

/*
 * The spool: DIR/tmp holds ".NODE-YYYYMMDDTHH00.csv.part" staging files,
 * DIR/incoming the completed "NODE-YYYYMMDDTHH00.csv". Owned paths.
 */
struct collect_spool {
	char *tmp;
	char *incoming;
	const char *node; /* borrowed */
};

/*
 * Set s up for DIR, creating DIR, DIR/incoming and DIR/tmp when missing.
 * Returns 0, or -1 with err filled. Release s with
 * collect_spool_release().
 */
int collect_spool_init(struct collect_spool *s, const char *dir,
		       const char *node, struct gpu_err *err);
void collect_spool_release(struct collect_spool *s);

/*
 * Append rows (CSV lines) to the staging file of the hour that starts at
 * hour_ms, writing header first when the file is new, and fsync it. A
 * line cut short by a crash is cut off first. Returns 0, or -1 with err.
 */
int collect_spool_append(struct collect_spool *s, int64_t hour_ms,
			 const char *header, size_t hlen, const char *rows,
			 size_t rlen, struct gpu_err *err);

/*
 * Move the staging files of this node whose hour starts before before_ms
 * (INT64_MAX: all) into incoming/, adding "-1", "-2"... to a name that is
 * taken. Returns 0, or -1 with err (the first failure; the other files are
 * still tried).
 */
int collect_spool_complete(struct collect_spool *s, int64_t before_ms,
			   struct gpu_err *err);

#endif
