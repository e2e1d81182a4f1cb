/* SPDX-License-Identifier: MIT */
/* Unit tests for the heap's layout (gpu/heap.h). */
#define _DEFAULT_SOURCE /* sbrk() */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpu/heap.h"

#define MIB ((size_t)1 << 20)
#define HUGE_PAGE ((uintptr_t)2 << 20)

/*
 * Whether the heap is glibc's own: sanitizers and valgrind replace it,
 * with blocks that sbrk() knows nothing of.
 */
static bool
glibc_heap(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
	return false;
#endif
#endif
#ifdef __GLIBC__
	/* valgrind's blocks lie far above the break */
	void *p = malloc(64);
	bool ok = p != NULL && (uintptr_t)p < (uintptr_t)sbrk(0);

	free(p);
	return ok;
#else
	return false;
#endif
}

/* Whether the kernel has transparent huge pages to advise. */
static bool
have_thp(void)
{
	return access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0;
}

/*
 * Whether the mapping that holds address a is advised for huge pages:
 * its VmFlags in /proc/self/smaps name "hg".
 */
static bool
advised(uintptr_t a)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false, yes = false;

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;

		/* A mapping's first line: "lo-hi perms ..." */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = a >= lo && a < hi;
		else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			yes = strstr(line, " hg") != NULL;
			break;
		}
	}
	fclose(f);
	return yes;
}

/* A block freed is kept in the heap for the next request of its size. */
static void
test_heap_keeps_freed(void **state)
{
	const struct gpu_heap_plan plan = {.keep = 64 * MIB};
	char *p, *q;

	(void)state;
	if (!glibc_heap())
		skip();
	gpu_heap_setup(&plan);
	/* Past glibc's first threshold (128 KiB), yet from the heap. */
	p = malloc(4 * MIB);
	assert_non_null(p);
	assert_true((uintptr_t)p + 4 * MIB <= (uintptr_t)sbrk(0));
	memset(p, 1, 4 * MIB);
	free(p);
	q = malloc(4 * MIB);
	assert_ptr_equal(q, p);
	free(q);
}

/*
 * What a tool sees when the plan comes first in main(): the run's first
 * block starts a huge page, and a block of megabytes lies in advised
 * memory. Checked in a process of its own (this binary run with
 * "--huge", a reserve of 8 MiB, or "--huge-past", one of 1 GiB that
 * must be clamped to be kept in the heap), whose heap nothing has used
 * before.
 */
static int
huge_child(bool want, size_t huge)
{
	const struct gpu_heap_plan plan = {.huge = huge, .keep = 16 * MIB};
	char *first, *big;
	uintptr_t in;

	gpu_heap_setup(&plan);
	first = malloc(100);
	big = malloc(3 * MIB);
	if (first == NULL || big == NULL)
		return 2;
	if (!want) {
		/* GPUUSAGE_HUGEPAGES=0: nothing advised, nothing set aside */
		if (advised((uintptr_t)first) || advised((uintptr_t)big)) {
			fprintf(stderr, "advised, though turned off\n");
			return 1;
		}
		return 0;
	}
	if ((uintptr_t)first % HUGE_PAGE != 0) {
		fprintf(stderr, "first block %p: not on a huge page\n",
			(void *)first);
		return 1;
	}
	in = ((uintptr_t)big + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	if (!advised((uintptr_t)first) || !advised(in)) {
		fprintf(stderr, "blocks %p, %p: not advised\n", (void *)first,
			(void *)big);
		return 1;
	}
	free(big);
	free(first);
	return 0;
}

static const char *self;

/* Run this binary with mode ("--huge"...), env (NULL: none) set. */
static int
run_child(const char *mode, const char *env)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (env != NULL)
			putenv((char *)env);
		execl(self, self, mode, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_heap_huge(void **state)
{
	(void)state;
	if (!glibc_heap() || !have_thp())
		skip();
	assert_int_equal(run_child("--huge", NULL), 0);
	assert_int_equal(run_child("--huge", "GPUUSAGE_HUGEPAGES=0"), 0);
}

/*
 * A reserve past the largest is clamped: kept in the heap and advised
 * (unclamped, glibc would map it apart and unmap it at its free); the
 * heap still serves.
 */
static void
test_heap_clamped(void **state)
{
	const struct gpu_heap_plan plan = {.huge = 1024 * MIB, .keep = 0};
	char *p;

	(void)state;
	if (glibc_heap() && have_thp())
		assert_int_equal(run_child("--huge-past", NULL), 0);
	gpu_heap_setup(&plan);
	p = malloc(GPU_HEAP_HUGE_MAX);
	assert_non_null(p);
	memset(p, 7, GPU_HEAP_HUGE_MAX);
	assert_int_equal(p[GPU_HEAP_HUGE_MAX - 1], 7);
	free(p);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_heap_huge),
	    cmocka_unit_test(test_heap_keeps_freed),
	    cmocka_unit_test(test_heap_clamped),
	};

	if (argc == 2 && strcmp(argv[1], "--huge") == 0)
		return huge_child(getenv("GPUUSAGE_HUGEPAGES") == NULL,
				  8 * MIB);
	if (argc == 2 && strcmp(argv[1], "--huge-past") == 0)
		return huge_child(true, 1024 * MIB);
	self = argv[0];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
