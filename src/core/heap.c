/* SPDX-License-Identifier: MIT */
/* The heap of a tool that builds tables of many megabytes. */
#define _DEFAULT_SOURCE /* sbrk(), madvise() */
#include "gpu/heap.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "gpu/diag.h"

/* glibc's largest mapping threshold on 64-bit systems. */
#define MMAP_THRESHOLD ((size_t)32 << 20)

/* A transparent huge page on x86-64 and arm64 (4 KiB base pages). */
#define HUGE_PAGE ((uintptr_t)2 << 20)

const struct gpu_heap_plan gpu_heap_query = {.huge = GPU_HEAP_HUGE_MAX,
					     .keep = (size_t)64 << 20};

/*
 * The heap's first bytes, up to its first huge page: kept allocated and
 * never touched, so that the small blocks of a run start on a huge page
 * too (only the heap's address space is spent, under 2 MiB of it).
 */
static void *head;

/*
 * Grow the heap by n bytes and give them back to the allocator as free
 * space at its top, kept there by the trim threshold; advise its whole
 * huge pages, and set the part before the first one aside. Pages are
 * not touched here: each is made on its first use.
 */
static void
reserve_huge(size_t n)
{
#if defined(M_MMAP_THRESHOLD) && defined(MADV_HUGEPAGE)
	char *p = malloc(n);
	uintptr_t lo, hi, brk;

	if (p == NULL)
		return;
	brk = (uintptr_t)sbrk(0);
	lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	hi = brk & ~(HUGE_PAGE - 1);
	free(p);
	/* Only a block of the heap: a mapped one is gone with the free. */
	if ((uintptr_t)p >= brk || (uintptr_t)p + n > brk || lo >= hi)
		return;
	if (madvise((void *)lo, hi - lo, MADV_HUGEPAGE) != 0)
		return;
	/*
	 * The free space now starts at p's block, which a request of its
	 * size less glibc's 8-byte size word fills up to lo exactly.
	 */
	if (head == NULL && lo - (uintptr_t)p > 64)
		head = malloc(lo - (uintptr_t)p - sizeof(size_t));
#else
	(void)n;
#endif
}

void
gpu_heap_setup(const struct gpu_heap_plan *plan)
{
	size_t huge =
	    plan->huge < GPU_HEAP_HUGE_MAX ? plan->huge : GPU_HEAP_HUGE_MAX;
	size_t keep = plan->keep;

	/* The reserve must survive its own free. */
	if (keep < huge + plan->pad + HUGE_PAGE)
		keep = huge + plan->pad + HUGE_PAGE;
#ifdef M_MMAP_THRESHOLD
	if (mallopt(M_MMAP_THRESHOLD, (int)MMAP_THRESHOLD) == 0 ||
	    mallopt(M_TRIM_THRESHOLD, (int)keep) == 0)
		return;
	if (plan->pad > 0)
		(void)mallopt(M_TOP_PAD, (int)plan->pad);
#endif
	if (huge > 0 && !gpu_env_off("GPUUSAGE_HUGEPAGES"))
		reserve_huge(huge);
}
