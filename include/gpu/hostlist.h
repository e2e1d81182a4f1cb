/* SPDX-License-Identifier: MIT */
/* Slurm hostlist expressions ("gpu[01-03,07]") expanded to host names. */
#ifndef GPU_HOSTLIST_H
#define GPU_HOSTLIST_H

#include <stddef.h>

/* The most names one expression may expand to (a guard, not a Slurm rule). */
#define GPU_HOSTLIST_MAX 65536

/* Expanded host names, in the order scontrol show hostnames prints them. */
struct gpu_hostlist {
	char **names; /* each NUL-terminated, owned */
	size_t n;
};

/*
 * Expand the hostlist expression s[0..len) into h (which the caller
 * initialises to {NULL, 0} and releases with gpu_hostlist_release(), also
 * after a failure). Top-level commas separate items; each item is a prefix
 * with zero or more bracket groups of comma-separated numbers and ranges
 * ("node-[63-65]", "gpu[01-03,07]", "r[1-2]n[1-2]": the product, in order);
 * a range keeps the zero padding of its low bound. Whitespace, control
 * characters and names over 255 bytes are refused. The names are counted
 * before any is allocated. Returns 0, or -1 with *why set to a static
 * reason ("unbalanced '[' in hostlist", "invalid range in hostlist",
 * "empty host name in hostlist", "hostlist expands to more than 65536
 * names", ...) and h left empty.
 */
int gpu_hostlist_expand(const char *s, size_t len, struct gpu_hostlist *h,
			const char **why);

/* Free the names of h and empty it; an empty h is a no-op. */
void gpu_hostlist_release(struct gpu_hostlist *h);

#endif
