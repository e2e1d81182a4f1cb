/* SPDX-License-Identifier: MIT */
/* The one string escaper of the core: JSON strings, optionally HTML-safe. */
#ifndef GPU_ESCAPE_H
#define GPU_ESCAPE_H

#include <stddef.h>

#include "gpu/buf.h"

/* Also escape '<', '>' and '&' (JSON inside an HTML script element). */
#define GPU_ESCAPE_HTML 1u

/*
 * Append p[0..n) to b as a quoted JSON string: '"' and '\' escaped,
 * control characters as \n, \r, \t, \b, \f or \u00XX, valid UTF-8 as is,
 * and each byte that is not valid UTF-8 as \ufffd, so that the output is
 * always valid UTF-8 and valid JSON. flags is 0 or GPU_ESCAPE_HTML.
 */
void gpu_escape_json(struct gpu_buf *b, const char *p, size_t n,
		     unsigned flags);

#endif
