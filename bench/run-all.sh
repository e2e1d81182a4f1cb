#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every benchmark in turn (make bench); docs/PERFORMANCE.md quotes
# their output. First the side-by-side comparison with the peers
# (bench/compare.sh: BENCH_SIZES, BENCH_RUNS; its raw results and tables
# stay in bench/out/) and one hour of the pipeline (bench/pipeline.sh),
# then the benchmarks of single tools. BENCH_ONLY="compare pipeline" runs
# only the named ones. The machine's description comes first.
# usage: bench/run-all.sh   (B names the build directory, default build)
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
all="compare pipeline prom size pack gpugen ingest attrib agg report export tz"
echo "machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
	"$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
	"Debian $(cat /etc/debian_version 2>/dev/null || echo '?'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for b in ${BENCH_ONLY:-$all}; do
	echo "== bench/$b.sh"
	sh "$dir/$b.sh"
	echo
done
