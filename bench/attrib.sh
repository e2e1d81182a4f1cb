#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark attribution (docs/FORMAT.md, allocations): gpuingest of 5
# million samples that name no job (200 nodes x 8 GPUs, one a minute) into
# an empty warehouse, against loading 50,000 allocations into that
# warehouse afterwards, which attributes every stored sample they cover;
# and the other order, allocations first, where samples are attributed as
# they are loaded. Prints median wall seconds and the ratios.
# usage: bench/attrib.sh   (B names the build directory; RUNS, default 3;
#        ROWS scales the samples, default 5000000; ALLOCS, default 50000)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest
runs=${RUNS:-3}
rows=${ROWS:-5000000}
allocs=${ALLOCS:-50000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/attrib-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

hours=$(awk -v r="$rows" 'BEGIN { printf "%.4f", r / 1600 / 60 }')
# The samples without their job columns (real telemetry names no job).
"$bin/gpugen" -n 200 -g 8 -H "$hours" -S 1 |
	cut -d, -f1-6,10- >"$tmp/s.csv"
n=$(($(wc -l <"$tmp/s.csv") - 1))
# Allocations: 800 pairs of GPUs (4 per node), each held by a run of
# back-to-back jobs of equal length covering the whole span.
awk -v a="$allocs" -v h="$hours" 'BEGIN {
	print "job_id,node,gpus,start,end,user,project"
	per = int((a + 799) / 800); len = int(h * 3600 / per)
	t0 = 1793491200 # 2026-11-01T00:00:00Z
	for (i = 0; i < a; i++) {
		slot = i % 800; k = int(i / 800)
		s = t0 + k * len
		printf "%d,node%03d,%d-%d,%d,%d,u%d,p%d\n", 1000 + i,
			int(slot / 4) + 1, (slot % 4) * 2, (slot % 4) * 2 + 1,
			s, s + len, i % 97, i % 13
	}
}' >"$tmp/a.csv"


ing="$bin/gpuingest -q"
t_load=$(median "rm -f $tmp/w.db*" "$ing -d $tmp/w.db $tmp/s.csv")
cp "$tmp/w.db" "$tmp/w0.db"
t_attr=$(median "rm -f $tmp/w.db*; cp $tmp/w0.db $tmp/w.db" \
	"$ing -d $tmp/w.db -a $tmp/a.csv")
after=$("$bin/gpuingest" -d "$tmp/w.db" --summary json -a "$tmp/a.csv" </dev/null)
rm -f "$tmp"/w.db*
"$bin/gpuingest" -q -d "$tmp/w.db" -a "$tmp/a.csv"
cp "$tmp/w.db" "$tmp/wa.db"
t_first=$(median "rm -f $tmp/w.db*; cp $tmp/wa.db $tmp/w.db" \
	"$ing -d $tmp/w.db $tmp/s.csv")
rm -f "$tmp"/w.db*; cp "$tmp/w0.db" "$tmp/w.db"
rss=$({ command time -v "$bin/gpuingest" -q -d "$tmp/w.db" -a "$tmp/a.csv"; } 2>&1 |
	awk -F: '/Maximum resident/ { print $2 + 0 }')
rm -f "$tmp"/w.db*; cp "$tmp/w0.db" "$tmp/w.db"
first=$("$bin/gpuingest" -d "$tmp/w.db" --summary json -a "$tmp/a.csv")

echo "attribution benchmark, median of $runs runs ($(nproc) CPUs)"
echo "allocations after the samples: $first"
echo "the same allocations again: $after"
awk -v n="$n" -v a="$allocs" -v l="$t_load" -v t="$t_attr" -v f="$t_first" \
	-v r="$rss" 'BEGIN {
	printf "%-46s %9s %9s\n", "run", "median s", "vs load"
	printf "%-46s %9.2f %9s\n", "gpuingest " n " samples, no allocations", l, "1.00"
	printf "%-46s %9.2f %9.2f\n", "then " a " allocations (attribute all)", t, t / l
	printf "%-46s %9.2f %9.2f\n", "samples after the allocations", f, f / l
	printf "peak RSS of an allocation load: %.1f MB\n", r / 1024
}'
