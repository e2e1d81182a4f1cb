#!/bin/sh
# SPDX-License-Identifier: MIT
# Embed gpureport's page template (src/report/) as C string arrays in
# src/gpureport-assets.c. Run by hand after editing src/report/ and commit
# the output: the build does not run it.
# usage: scripts/embed-assets.sh [--check]
#   --check  exit 1 when the committed file is not what this script writes
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/src/gpureport-assets.c"
export LC_ALL=C

# One C string per line of the file, so no literal exceeds what C11
# compilers must accept; backslashes, quotes and '?' (trigraphs) escaped.
emit() {
	printf 'const char *const %s[] = {\n' "$1"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
		-e 's/	/\\t/g' -e 's/^/\t"/' -e 's/$/\\n",/' "$2"
	printf '\tNULL\n};\n\n'
}

generate() {
	cat <<'HEAD'
/* SPDX-License-Identifier: MIT */
/* gpureport's page template, embedded: GENERATED from src/report/ by
 * scripts/embed-assets.sh. Do not edit; edit src/report/, run the script
 * and commit both. tests/e2e/gpureport-assets.sh checks it is current. */
#include <stddef.h>

#include "gpureport.h"

/* clang-format off */
HEAD
	emit report_asset_html "$top/src/report/report.html.in"
	emit report_asset_css "$top/src/report/report.css"
	emit report_asset_js "$top/src/report/report.js"
}

if [ "${1:-}" = "--check" ]; then
	tmp=$(mktemp)
	trap 'rm -f "$tmp"' EXIT
	generate >"$tmp"
	if ! cmp -s "$tmp" "$out"; then
		echo "embed-assets: $out is stale; run scripts/embed-assets.sh" >&2
		exit 1
	fi
	exit 0
fi
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
generate >"$tmp"
mv "$tmp" "$out"
trap - EXIT
