/* SPDX-License-Identifier: MIT */
/* The heap of a tool that builds tables of many megabytes. */
#ifndef GPU_HEAP_H
#define GPU_HEAP_H

#include <stddef.h>

/* What a tool asks of its heap (gpu_heap_setup()). */
struct gpu_heap_plan {
	/*
	 * Bytes of heap to set aside at start and advise for transparent
	 * huge pages (0: none): the main thread's blocks come from them
	 * while they last (other threads allocate from arenas of their
	 * own), the first touch of each 2 MiB costing one page fault
	 * instead of 512. At most GPU_HEAP_HUGE_MAX; none when the
	 * environment sets GPUUSAGE_HUGEPAGES to 0.
	 */
	size_t huge;
	/* Bytes freed that the heap keeps for reuse (M_TRIM_THRESHOLD). */
	size_t keep;
	/* Bytes added to every growth of the heap (M_TOP_PAD; 0: glibc's). */
	size_t pad;
};

/* The largest reserve: below the heap's mapping threshold, 32 MiB. */
#define GPU_HEAP_HUGE_MAX ((size_t)24 << 20)

/*
 * The plan of the tools that build a query's tables (gpuagg, gpubill,
 * gpureport): the largest reserve, and 64 MiB freed kept for reuse.
 */
extern const struct gpu_heap_plan gpu_heap_query;

/*
 * Lay out the heap as plan says, first thing in main(). Blocks under 32
 * MiB come from the heap, not from mappings of their own: a table that
 * doubles as it grows then reuses the pages it freed instead of having
 * the kernel zero new ones at every move. Where the C library or the
 * kernel lacks a feature, its part is skipped: the tools run the same,
 * only slower.
 */
void gpu_heap_setup(const struct gpu_heap_plan *plan);

#endif
