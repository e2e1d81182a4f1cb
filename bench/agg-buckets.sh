#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuagg's memory by the number of buckets: a year of a 160-GPU cluster
# (20 nodes x 8 GPUs, a sample an hour: 1,401,600 samples) in a
# warehouse, queried by hour and GPU (one group a sample), hour and node,
# day and job, and month and user. Prints the median wall seconds and the
# largest peak RSS of RUNS runs each, interleaved with the BASE build's
# gpuagg when given (the same warehouse), and the ratios.
# usage: bench/agg-buckets.sh   (B: build dir; BASE: another build dir,
#        its gpuagg compared;
#        RUNS: runs each, default 3; HOURS: default 8760)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest gpuagg
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
base=${BASE:+$(cd "$BASE" && pwd)}
[ -z "$base" ] || [ -x "$base/gpuagg" ] || { echo "bench: $base/gpuagg not built" >&2; exit 1; }
runs=${RUNS:-3}
hours=${HOURS:-8760}
export TZ=UTC LC_ALL=C
w=$(mktemp -d "${TMPDIR:-/tmp}/agg-buckets.XXXXXX")
trap 'rm -rf "$w"' EXIT INT TERM
"$bin/gpugen" -n 20 -g 8 -i 3600 -S 1 -t epoch_ms -H "$hours" -o "$w/s.csv"
"$bin/gpuingest" -q -d "$w/w.db" "$w/s.csv"
echo "$(($(wc -l <"$w/s.csv") - 1)) samples (gpugen -n 20 -g 8 -i 3600 -S 1 -H $hours); $runs runs each"
printf '%-22s %-6s %9s %10s %9s\n' query build "median s" "peak MB" rows
for q in "hour gpu" "hour node" "day job" "month user"; do
	set -- $q
	for b in new ${base:+base}; do : >"$w/t.$b"; done
	i=0
	while [ "$i" -lt "$runs" ]; do
		for b in new ${base:+base}; do
			d=$bin
			[ "$b" = base ] && d=$base
			/usr/bin/time -f '%e %M' -o "$w/one" \
				"$d/gpuagg" -d "$w/w.db" -p "$1" -b "$2" >"$w/out.$b"
			cat "$w/one" >>"$w/t.$b"
		done
		i=$((i + 1))
	done
	if [ -n "$base" ] && ! cmp -s "$w/out.new" "$w/out.base"; then
		echo "bench: FAIL: $q: the two builds print different bytes" >&2
		exit 1
	fi
	rows=$(($(wc -l <"$w/out.new") - 1))
	for b in new ${base:+base}; do
		sort -n "$w/t.$b" | awk -v q="$1-$2" -v b="$b" -v r="$rows" '
			{ s[NR] = $1; if ($2 > m) m = $2 }
			END { printf "%-22s %-6s %9.2f %10.1f %9d\n", q, b,
				s[int((NR + 1) / 2)], m / 1024, r }'
	done | tee -a "$w/table"
done
if [ -n "$base" ]; then
	echo "new / base:"
	awk '{ k = $1; if ($2 == "new") { ts[k] = $3; ms[k] = $4 }
		else { tb[k] = $3; mb[k] = $4; order[++n] = k } }
		END { for (i = 1; i <= n; i++) { k = order[i]
			printf "  %-20s time %.2fx, peak RSS %.3fx\n", k,
				(tb[k] > 0 ? ts[k] / tb[k] : 0), ms[k] / mb[k] } }' "$w/table"
fi
