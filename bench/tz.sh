#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark --input-tz: the sample reader over ~5 million nvidia-smi rows
# (local times without an offset), read as UTC and as Europe/Copenhagen
# local time (build/readbench, built by make bench). The conversion should
# cost at most 10%. Prints medians (seconds) and the ratio; no test checks
# timings.
# usage: bench/tz.sh   (B: build dir; RUNS: runs per median, default 3;
#        SCALE=small for a quick check)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
for t in gpugen readbench; do
	[ -x "$bin/$t" ] || { echo "bench: $bin/$t not built (make bench)" >&2; exit 1; }
done
runs=${RUNS:-3}
# nvidia-smi output is one node's: 8 GPUs x 624,960 five-second samples
# (868 hours, across both 2026 DST changes) = 4,999,680 rows.
args="-g 8 -H 868 -i 5 -s 2026-03-01 -S 1"
if [ "${SCALE:-}" = small ]; then
	args="-g 4 -H 48 -i 300 -S 1"
fi
tmp=${TMPDIR:-/tmp}/tz-bench.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
# shellcheck disable=SC2086
"$bin/gpugen" -f nvidia-smi $args >"$tmp/smi.csv"

now() { date +%s%N; }
median() {
	: >"$tmp/times.txt"
	i=0
	while [ "$i" -lt "$runs" ]; do
		s=$(now)
		sh -c "$1" >/dev/null
		e=$(now)
		echo $(((e - s) / 1000000)) >>"$tmp/times.txt"
		i=$((i + 1))
	done
	sort -n "$tmp/times.txt" | awk '{ a[NR] = $1 } END {
		printf "%.3f", a[int((NR + 1) / 2)] / 1000 }'
}
utc=$(median "'$bin/readbench' '$tmp/smi.csv' bench")
tz=$(median "'$bin/readbench' '$tmp/smi.csv' bench Europe/Copenhagen")
rows=$(($(wc -l <"$tmp/smi.csv") - 1))
echo "rows: $rows"
echo "read as UTC:                 $utc s"
echo "read as Europe/Copenhagen:   $tz s"
awk -v a="$utc" -v b="$tz" 'BEGIN { printf "cost of --input-tz: %+.1f%%\n", (b / a - 1) * 100 }'
