#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark gpuingest against the sqlite3 shell's .import of the same CSV
# into a plain table (no validation, keys or dimensions): (1) 5 million
# gpugen rows into an empty warehouse; (2) a further 1 million rows, 10% of
# them corrected re-sends of rows already loaded, into that warehouse.
# Prints median wall seconds, rows/s, the ratio, and gpuingest's peak RSS.
# usage: bench/ingest.sh   (B names the build directory; RUNS, default 3;
#        ROWS scales the first file, default 5000000)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest
command -v sqlite3 >/dev/null || { echo "bench: no sqlite3 shell" >&2; exit 1; }
runs=${RUNS:-3}
rows=${ROWS:-5000000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ingest-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# 200 nodes x 8 GPUs, one sample a minute: hours for the wanted rows.
hours=$(awk -v r="$rows" 'BEGIN { printf "%.4f", r / 1600 / 60 }')
"$bin/gpugen" -n 200 -g 8 -H "$hours" -S 1 -o "$tmp/a.csv"
end=$(tail -1 "$tmp/a.csv" | cut -d, -f1)
# The next 900000 rows follow on; 100000 re-send rows of the last hours of
# a.csv with another utilization (corrected re-sends).
"$bin/gpugen" -n 200 -g 8 -s "$end" -H 9.375 -S 2 -o "$tmp/next.csv"
{
	head -1 "$tmp/a.csv"
	tail -n +2 "$tmp/next.csv" | awk -F, '$1 != "'"$end"'"' | head -900000
	tail -n 100000 "$tmp/a.csv" | awk -F, -v OFS=, '{ $4 = ($4 + 0 >= 50) ? $4 - 1 : $4 + 1; print }'
} >"$tmp/b.csv"
na=$(($(wc -l <"$tmp/a.csv") - 1))
nb=$(($(wc -l <"$tmp/b.csv") - 1))


ing="$bin/gpuingest -q"
imp1=$(median "rm -f $tmp/i.db*" \
	"sqlite3 $tmp/i.db -cmd '.mode csv' '.import $tmp/a.csv t'")
ing1=$(median "rm -f $tmp/w.db*" "$ing -d $tmp/w.db $tmp/a.csv")
cp "$tmp/w.db" "$tmp/w5.db"
cp "$tmp/i.db" "$tmp/i5.db"
imp2=$(median "cp $tmp/i5.db $tmp/i.db" \
	"sqlite3 $tmp/i.db -cmd '.mode csv' '.import --skip 1 $tmp/b.csv t'")
ing2=$(median "rm -f $tmp/w.db-*; cp $tmp/w5.db $tmp/w.db" "$ing -d $tmp/w.db $tmp/b.csv")
rm -f "$tmp"/w.db*
rss1=$({ command time -v "$bin/gpuingest" -q -d "$tmp/w.db" "$tmp/a.csv"; } 2>&1 |
	awk -F: '/Maximum resident/ { print $2 + 0 }')
summary=$("$bin"/gpuingest -d "$tmp/w.db" --summary json "$tmp/b.csv")
rm -f "$tmp"/w.db-*; cp "$tmp/w5.db" "$tmp/w.db"
rss2=$({ command time -v "$bin/gpuingest" -q -d "$tmp/w.db" "$tmp/b.csv"; } 2>&1 |
	awk -F: '/Maximum resident/ { print $2 + 0 }')

echo "gpuingest benchmark, median of $runs runs ($(nproc) CPUs)"
echo "second load: $summary"
awk -v na="$na" -v nb="$nb" -v i1="$ing1" -v s1="$imp1" -v i2="$ing2" \
	-v s2="$imp2" -v r1="$rss1" -v r2="$rss2" 'BEGIN {
	printf "%-34s %9s %11s %9s %8s\n", "load", "median s", "rows/s",
		"vs import", "RSS MB"
	printf "%-34s %9.2f %11.0f %9s %8s\n", "sqlite3 .import, " na " rows", s1, na / s1, "1.00", "-"
	printf "%-34s %9.2f %11.0f %9.2f %8.1f\n", "gpuingest, empty warehouse", i1, na / i1, s1 / i1, r1 / 1024
	printf "%-34s %9.2f %11.0f %9s %8s\n", "sqlite3 .import, +" nb " rows", s2, nb / s2, "1.00", "-"
	printf "%-34s %9.2f %11.0f %9.2f %8.1f\n", "gpuingest, +" nb " (10% re-sends)", i2, nb / i2, s2 / i2, r2 / 1024
}'
