/* SPDX-License-Identifier: MIT */
/* SHA-256 (FIPS 180-4), streaming, for the ingest log's input digests. */
#ifndef GPU_SHA256_H
#define GPU_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gpu_sha256 {
	uint32_t h[8];
	uint64_t nbytes;
	unsigned char block[64];
	size_t fill;
	bool ni; /* the CPU's SHA extensions compress */
};

/*
 * Start a new digest in ctx, which the caller owns, with the CPU's SHA
 * extensions when it has them. Cannot fail.
 */
void gpu_sha256_init(struct gpu_sha256 *ctx);

/* After gpu_sha256_init(): use the portable code (for tests). */
void gpu_sha256_portable(struct gpu_sha256 *ctx);

/* Feed n bytes of p (n may be 0). Cannot fail. */
void gpu_sha256_update(struct gpu_sha256 *ctx, const void *p, size_t n);

/*
 * Finish the digest and write it as 64 lowercase hex digits and a NUL into
 * hex. ctx must be initialized again before reuse.
 */
void gpu_sha256_hex(struct gpu_sha256 *ctx, char hex[65]);

#endif
