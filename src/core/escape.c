/* SPDX-License-Identifier: MIT */
/* JSON string escaping (RFC 8259), optionally safe inside HTML. */
#include "gpu/escape.h"

#include "gpu/utf8.h"

void
gpu_escape_json(struct gpu_buf *b, const char *p, size_t n, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, start = 0;

	gpu_buf_addc(b, '"');
	while (i < n) {
		unsigned char c = s[i];
		size_t k;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' &&
		    ((flags & GPU_ESCAPE_HTML) == 0 ||
		     (c != '<' && c != '>' && c != '&'))) {
			i++;
			continue;
		}
		if (c >= 0x80 && (k = gpu_utf8_seq(s + i, n - i)) > 0) {
			i += k;
			continue;
		}
		gpu_buf_add(b, p + start, i - start);
		if (c == '"' || c == '\\') {
			gpu_buf_addc(b, '\\');
			gpu_buf_addc(b, (char)c);
		} else if (c == '\n') {
			gpu_buf_adds(b, "\\n");
		} else if (c == '\r') {
			gpu_buf_adds(b, "\\r");
		} else if (c == '\t') {
			gpu_buf_adds(b, "\\t");
		} else if (c == '\b') {
			gpu_buf_adds(b, "\\b");
		} else if (c == '\f') {
			gpu_buf_adds(b, "\\f");
		} else if (c < 0x80) {
			gpu_buf_adds(b, "\\u00");
			gpu_buf_addc(b, hex[c >> 4]);
			gpu_buf_addc(b, hex[c & 15]);
		} else {
			gpu_buf_adds(b, "\\ufffd");
		}
		start = ++i;
	}
	gpu_buf_add(b, p + start, n - start);
	gpu_buf_addc(b, '"');
}
