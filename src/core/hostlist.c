/* SPDX-License-Identifier: MIT */
/* Slurm hostlist expressions expanded as scontrol show hostnames does. */
#include "gpu/hostlist.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/diag.h"

/*
 * A guard on each expanded name (DNS names stop at 253 bytes): with
 * GPU_HOSTLIST_MAX it bounds the memory of one expansion.
 */
#define NAME_MAX_LEN 255
/* Digits of a bound in a range; more cannot be a node number. */
#define DIGITS_MAX 18

static const char WHY_OPEN[] = "unbalanced '[' in hostlist";
static const char WHY_CLOSE[] = "unbalanced ']' in hostlist";
static const char WHY_NESTED[] = "nested '[' in hostlist";
static const char WHY_EMPTY_NAME[] = "empty host name in hostlist";
static const char WHY_EMPTY_RANGE[] = "empty range in hostlist";
static const char WHY_RANGE[] = "invalid range in hostlist";
static const char WHY_DESC[] = "descending range in hostlist";
static const char WHY_CHAR[] = "invalid character in hostlist";
static const char WHY_LONG[] = "host name too long in hostlist";
static const char WHY_MANY[] = "hostlist expands to more than 65536 names";

/* One range of a bracket group: lo..hi, printed at least width digits. */
struct range {
	uint64_t lo, hi;
	size_t width;
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t
num_digits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static const char *
parse_bound(const char *s, size_t n, uint64_t *v)
{
	*v = 0;
	if (n == 0)
		return WHY_EMPTY_RANGE;
	if (n > DIGITS_MAX)
		return WHY_RANGE;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return WHY_RANGE;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return NULL;
}

/* Parse "7" or "01-03" (s[0..n)); the width is the low bound's. */
static const char *
parse_range(const char *s, size_t n, struct range *r)
{
	const char *dash = memchr(s, '-', n);
	const char *why;
	size_t lo_len = dash != NULL ? (size_t)(dash - s) : n;

	if (n == 0)
		return WHY_EMPTY_RANGE;
	if ((why = parse_bound(s, lo_len, &r->lo)) != NULL)
		return why;
	r->width = lo_len;
	r->hi = r->lo;
	if (dash != NULL &&
	    (why = parse_bound(dash + 1, n - lo_len - 1, &r->hi)) != NULL)
		return why;
	if (r->hi < r->lo)
		return WHY_DESC;
	return NULL;
}

/*
 * Check the bracket group g[0..n) (without its brackets): its number of
 * values, capped at GPU_HOSTLIST_MAX + 1, and its widest value.
 */
static const char *
scan_group(const char *g, size_t n, uint64_t *count, size_t *width)
{
	size_t i = 0;

	*count = 0;
	*width = 0;
	for (;;) {
		const char *comma = memchr(g + i, ',', n - i);
		size_t end = comma != NULL ? (size_t)(comma - g) : n;
		struct range r;
		const char *why = parse_range(g + i, end - i, &r);
		size_t w;

		if (why != NULL)
			return why;
		*count += r.hi - r.lo + 1;
		if (*count > GPU_HOSTLIST_MAX)
			*count = GPU_HOSTLIST_MAX + 1;
		w = num_digits(r.hi) > r.width ? num_digits(r.hi) : r.width;
		if (w > *width)
			*width = w;
		if (comma == NULL)
			return NULL;
		i = end + 1;
	}
}

/* Check one item s[0..n) (no top-level comma): count its names. */
static const char *
scan_item(const char *s, size_t n, uint64_t *count)
{
	size_t i = 0, longest = 0;

	if (n == 0)
		return WHY_EMPTY_NAME;
	*count = 1;
	while (i < n) {
		const char *close;
		uint64_t c;
		size_t w;
		const char *why;

		if (s[i] != '[') {
			longest++;
			i++;
			continue;
		}
		close = memchr(s + i, ']', n - i);
		why =
		    scan_group(s + i + 1, (size_t)(close - s) - i - 1, &c, &w);
		if (why != NULL)
			return why;
		if (c > GPU_HOSTLIST_MAX || *count * c > GPU_HOSTLIST_MAX)
			return WHY_MANY;
		*count *= c;
		longest += w;
		i = (size_t)(close - s) + 1;
	}
	return longest > NAME_MAX_LEN ? WHY_LONG : NULL;
}

/* Bracket structure and characters of the whole expression. */
static const char *
check_syntax(const char *s, size_t len)
{
	bool open = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '[') {
			if (open)
				return WHY_NESTED;
			open = true;
		} else if (c == ']') {
			if (!open)
				return WHY_CLOSE;
			open = false;
		} else if (c <= ' ' || c == 0x7f) {
			return WHY_CHAR;
		}
	}
	return open ? WHY_OPEN : NULL;
}

/* End of the item that starts at s[i]: the next comma outside brackets. */
static size_t
item_end(const char *s, size_t len, size_t i)
{
	bool open = false;

	for (; i < len; i++) {
		if (s[i] == '[')
			open = true;
		else if (s[i] == ']')
			open = false;
		else if (s[i] == ',' && !open)
			break;
	}
	return i;
}

static size_t
put_number(char *out, uint64_t v, size_t width)
{
	size_t n = num_digits(v), pad = width > n ? width - n : 0;

	memset(out, '0', pad);
	for (size_t i = pad + n; i > pad; i--) {
		out[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	return pad + n;
}

/*
 * Append the names of s[i..n) to h, each prefixed with name[0..len).
 * Recursion goes one level per bracket group, at most NAME_MAX_LEN deep.
 */
static void
emit(const char *s, size_t n, size_t i, char *name, size_t len,
     struct gpu_hostlist *h)
{
	const char *close;
	size_t g;

	while (i < n && s[i] != '[')
		name[len++] = s[i++];
	if (i == n) {
		h->names[h->n++] = gpu_xstrndup(name, len);
		return;
	}
	close = memchr(s + i, ']', n - i);
	g = i + 1;
	while (g < (size_t)(close - s)) {
		const char *comma = memchr(s + g, ',', (size_t)(close - s) - g);
		size_t end =
		    comma != NULL ? (size_t)(comma - s) : (size_t)(close - s);
		struct range r;

		(void)parse_range(s + g, end - g, &r);
		for (uint64_t v = r.lo;; v++) {
			size_t k = put_number(name + len, v, r.width);

			emit(s, n, (size_t)(close - s) + 1, name, len + k, h);
			if (v == r.hi)
				break;
		}
		g = end + 1;
	}
}

int
gpu_hostlist_expand(const char *s, size_t len, struct gpu_hostlist *h,
		    const char **why)
{
	char name[NAME_MAX_LEN + 1];
	uint64_t total = 0;
	size_t i;

	gpu_hostlist_release(h);
	if ((*why = check_syntax(s, len)) != NULL)
		return -1;
	for (i = 0;; i++) {
		size_t end = item_end(s, len, i);
		uint64_t c;

		if ((*why = scan_item(s + i, end - i, &c)) != NULL)
			return -1;
		total += c;
		if (total > GPU_HOSTLIST_MAX) {
			*why = WHY_MANY;
			return -1;
		}
		if (end == len)
			break;
		i = end;
	}
	h->names = gpu_xreallocarray(NULL, (size_t)total, sizeof(*h->names));
	for (i = 0;; i++) {
		size_t end = item_end(s, len, i);

		emit(s + i, end - i, 0, name, 0, h);
		if (end == len)
			break;
		i = end;
	}
	return 0;
}

void
gpu_hostlist_release(struct gpu_hostlist *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->names[i]);
	free(h->names);
	h->names = NULL;
	h->n = 0;
}
