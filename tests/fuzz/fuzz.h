/* SPDX-License-Identifier: MIT */
/* What every fuzz target shares: the entry point and a FILE over the input. */
#ifndef GPU_FUZZ_H
#define GPU_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A stream that reads data[0..size). fmemopen() of 0 bytes fails on some
 * libcs, so an empty input is read from a temporary file instead. Abort
 * when neither works: that is the harness, not the code under test.
 */
static inline FILE *
fuzz_file(const uint8_t *data, size_t size)
{
	FILE *fp;

	if (size > 0)
		fp = fmemopen((void *)(uintptr_t)data, size, "rb");
	else
		fp = tmpfile();
	if (fp == NULL)
		__builtin_trap();
	return fp;
}

#endif
