#!/bin/sh
# SPDX-License-Identifier: MIT
# What a first load would take if the warehouse stored its samples in
# another shape: the committed tree (git archive HEAD) with a prototype
# patch of bench/proto/ applied, built apart, then loading against this
# build (B) and DuckDB, paired and interleaved (bench/ingest-ab.sh with
# DUCK=1). The patches measure and nothing more: they write the new
# facts to a table of their own shape, keep the rollups as the load
# builds them, and leave a warehouse whose gpu_usage_fact reads none of
# those samples back.
#   keyblob  one row per sample: the key and one blob of varints
#            (proto_fact; bench/row-cost.sh's key+blob, in the loader)
#   blocks   one row per GPU-hour of gpu_usage_fact_packed (the layout
#            of --pack-raw), each written when its hour ends in the input
# Prints ingest-ab.sh's table for each: "new" is the patched build. With
# INSTR=1, also the instructions a sample costs the loading thread (the
# main one) of each build: callgrind over loads of 200,000 and 100,000
# rows, the difference over the difference in rows, so that the set-up
# cancels out; and the bytes a sample of the warehouse the 200,000-row
# load leaves (the file after the load's checkpoint, rollups included).
# usage: bench/shape-proto.sh [keyblob] [blocks]   (B: this build dir;
#        ROWS: default 5000000; RUNS: default 5; INSTR: 0; KEEP=1 keeps
#        the patched trees in $TMPDIR)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest
if ! command -v git >/dev/null || ! git -C "$top" rev-parse HEAD >/dev/null 2>&1; then
	echo "bench: $top is not a git checkout" >&2
	exit 1
fi
command -v patch >/dev/null || { echo "bench: no patch(1)" >&2; exit 1; }
if [ "${INSTR:-0}" = 1 ] && ! command -v valgrind >/dev/null; then
	echo "bench: INSTR=1 needs valgrind" >&2
	exit 1
fi
[ $# -gt 0 ] || set -- keyblob blocks

# loading_instr BIN DIR: the instructions a row costs BIN's gpuingest on
# its main thread, from DIR's i1.csv and i2.csv; then, after a slash, the
# bytes a row of the warehouse the second load left.
loading_instr() {
	for li_n in 1 2; do
		rm -f "$2"/i.db*
		valgrind --tool=callgrind --separate-threads=yes \
			--callgrind-out-file="$2/cg" "$1/gpuingest" -q \
			--interval 300 -d "$2/i.db" "$2/i$li_n.csv" 2>/dev/null
		awk '/^summary:/ { print $2 }' "$2/cg-01"
		echo $(($(wc -l <"$2/i$li_n.csv") - 1))
		rm -f "$2"/cg*
	done | awk 'NR == 1 { a = $1 } NR == 2 { r = $1 } NR == 3 { b = $1 }
		NR == 4 { printf "%.0f", (b - a) / ($1 - r) }'
	li_w="$2/i.db-wal"
	[ -f "$li_w" ] || li_w=/dev/null
	printf ' / %s' "$(cat "$2/i.db" "$li_w" | wc -c |
		awk -v n="$(($(wc -l <"$2/i2.csv") - 1))" '{ printf "%.1f", $1 / n }')"
}
for s in "$@"; do
	[ -f "$top/bench/proto/$s.patch" ] ||
		{ echo "bench: no prototype '$s' (bench/proto/*.patch)" >&2; exit 2; }
done
for s in "$@"; do
	t=$(mktemp -d "${TMPDIR:-/tmp}/shape-$s.XXXXXX")
	[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$t"' EXIT INT TERM
	git -C "$top" archive HEAD | tar -x -C "$t"
	if ! patch -s -p1 -d "$t" <"$top/bench/proto/$s.patch"; then
		echo "bench: bench/proto/$s.patch no longer applies to this tree;" \
			"see its first line for the commit it was made on" >&2
		exit 1
	fi
	make -s -C "$t" -j2 all >"$t/make.log" 2>&1 ||
		{ tail -20 "$t/make.log" >&2; exit 1; }
	[ -d "$top/bench/node_modules" ] && ln -s "$top/bench/node_modules" "$t/bench/node_modules"
	echo "== $s (bench/proto/$s.patch), base: $bin"
	BASE="$bin" DUCK=1 ROWS="${ROWS:-5000000}" RUNS="${RUNS:-5}" sh "$t/bench/ingest-ab.sh"
	if [ "${INSTR:-0}" = 1 ]; then
		comparison_csv "$bin" 100000 "$t/i1.csv"
		comparison_csv "$bin" 200000 "$t/i2.csv"
		echo "loading thread, instructions a row / warehouse bytes a row:" \
			"base $(loading_instr "$bin" "$t"), $s $(loading_instr "$t/build" "$t")"
	fi
	[ "${KEEP:-0}" = 1 ] && echo "(kept: $t)"
	[ "${KEEP:-0}" = 1 ] || { rm -rf "$t"; trap - EXIT INT TERM; }
done
