#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark gpugen: CSV rows per second to /dev/null, next to the floor of
# reading the same bytes with cat and wc -l, and the reader's validated
# parse of that file (build/readbench, built by make bench). Results go to stdout only.
# usage: bench/gpugen.sh   (B names the build directory, default build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
gen="$top/${B:-build}/gpugen"
[ -x "$gen" ] || { echo "bench: $gen not built (run make)" >&2; exit 1; }
# 200 nodes x 8 GPUs x 3126 one-minute samples = 5,001,600 rows.
args="-n 200 -g 8 -H 52.1 -i 60 -S 1"
rows=5001600
runs=${RUNS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Median wall seconds of a shell command line, with hyperfine or time -p.
median() {
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine -N --style none --warmup 1 --runs "$runs" \
			--export-json "$tmp/h.json" "$1" >/dev/null 2>&1 ||
			hyperfine --style none --warmup 1 --runs "$runs" \
				--export-json "$tmp/h.json" "$1" >/dev/null
		tr ',' '\n' <"$tmp/h.json" | awk -F: '$1 ~ /"median"/ { print $2 + 0; exit }'
		return
	fi
	i=0
	: >"$tmp/times"
	while [ "$i" -lt "$runs" ]; do
		{ command time -p sh -c "$1" >/dev/null; } 2>&1 |
			awk '$1 == "real" { print $2 }' >>"$tmp/times"
		i=$((i + 1))
	done
	sort -n "$tmp/times" | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
}

# shellcheck disable=SC2086
"$gen" $args -o "$tmp/s.csv"
bytes=$(wc -c <"$tmp/s.csv")
lines=$(wc -l <"$tmp/s.csv")
[ "$lines" -eq $((rows + 1)) ] || { echo "bench: got $lines lines" >&2; exit 1; }

csv=$(median "sh -c '$gen $args >/dev/null'")
jsonl=$(median "sh -c '$gen $args -f jsonl >/dev/null'")
cat_s=$(median "sh -c 'cat $tmp/s.csv >/dev/null'")
read_s=-
if [ -x "$top/${B:-build}/readbench" ]; then
	read_s=$(median "$top/${B:-build}/readbench $tmp/s.csv")
fi
wc_s=$(median "sh -c 'wc -l $tmp/s.csv >/dev/null'")

echo "gpugen benchmark: $rows rows, $bytes bytes of CSV ($args)"
awk -v r="$rows" -v b="$bytes" -v c="$csv" -v j="$jsonl" -v k="$cat_s" -v w="$wc_s" -v rd="$read_s" 'BEGIN {
	printf "%-22s %9s %14s %10s\n", "command", "median s", "rows/s", "MB/s"
	printf "%-22s %9.3f %14.0f %10.0f\n", "gpugen csv >/dev/null", c, r / c, b / c / 1e6
	printf "%-22s %9.3f %14.0f %10s\n", "gpugen jsonl >/dev/null", j, r / j, "-"
	if (rd != "-")
		printf "%-22s %9.3f %14.0f %10.0f\n", "reader (validated)", rd, r / rd, b / rd / 1e6
	printf "%-22s %9.3f %14.0f %10.0f\n", "cat (floor)", k, r / k, b / k / 1e6
	printf "%-22s %9.3f %14.0f %10.0f\n", "wc -l (floor)", w, r / w, b / w / 1e6
}'
