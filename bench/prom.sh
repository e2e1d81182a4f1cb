#!/bin/sh
# SPDX-License-Identifier: MIT
# The pipeline's metrics step (gpuagg -f prometheus, counters from the
# first sample) as the warehouse ages: one warehouse of PROM_DAYS days of
# PROM_NODES x 8 GPUs, a sample every 300 s (loaded with gpuingest, not
# timed), queried with --to at the end of day 1, 3, 10, ... so that each
# run sees a warehouse of that age. Prints the median wall seconds of RUNS
# runs at each age, and the same for the BASE build when given,
# alternating the two, with the ratio.
# usage: bench/prom.sh   (B: build dir; BASE: another build dir; RUNS,
#        default 5; PROM_DAYS, default 90; PROM_NODES, default 50)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
base=${BASE:-}
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest gpuagg
[ -z "$base" ] || [ -x "$base/gpuagg" ] ||
	{ echo "bench: $base/gpuagg not built" >&2; exit 1; }
export TZ=UTC LC_ALL=C
runs=${RUNS:-5}
days=${PROM_DAYS:-90}
nodes=${PROM_NODES:-50}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/prom-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

"$bin/gpugen" -n "$nodes" -g 8 -i 300 -s 2026-11-01 -H $((days * 24)) -S 42 \
	-j "$tmp/jobs.csv" -o "$tmp/s.csv"
"$bin/gpuingest" -q --interval 300 -d "$tmp/w.db" -j "$tmp/jobs.csv" "$tmp/s.csv"
rm -f "$tmp/s.csv" "$tmp/jobs.csv"
sync

# ms COMMAND...: the wall milliseconds of one run (its output dropped).
ms() {
	s=$(date +%s%N)
	"$@" >/dev/null || { echo "bench: $* failed" >&2; exit 1; }
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}
med() {
	tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 }
		END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "gpuagg -f prometheus -b node,user,project,model: $nodes nodes x 8 GPUs," \
	"a sample every 300 s, median of $runs runs ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
if [ -n "$base" ]; then
	printf '%6s %12s %12s %8s\n' days "this ms" "base ms" "ratio"
else
	printf '%6s %12s\n' days "this ms"
fi
for d in 1 3 10 30 90 365; do
	[ "$d" -le "$days" ] || break
	to=$(date -u -d "2026-11-01 +$d days" +%Y-%m-%dT%H:%M)
	this='' old=''
	i=1
	while [ "$i" -le "$runs" ]; do
		this="$this $(ms "$bin/gpuagg" --db "$tmp/w.db" --to "$to" \
			-f prometheus -b node,user,project,model)"
		[ -z "$base" ] || old="$old $(ms "$base/gpuagg" --db "$tmp/w.db" \
			--to "$to" -f prometheus -b node,user,project,model)"
		i=$((i + 1))
	done
	t=$(echo $this | med)
	if [ -n "$base" ]; then
		o=$(echo $old | med)
		printf '%6s %12s %12s %8.2f\n' "$d" "$t" "$o" \
			"$(awk -v a="$t" -v b="$o" 'BEGIN { print (b > 0 ? a / b : 0) }')"
	else
		printf '%6s %12s\n' "$d" "$t"
	fi
done
