#!/bin/sh
# SPDX-License-Identifier: MIT
# What gpuingest's flusher (src/core/flusher.c) saves a first load: the
# load of compare.sh's CSV into a new warehouse with GPUUSAGE_FLUSH=0 and
# without, alternated run by run after a sync each. Prints, for each, the
# median wall seconds and the median of the main thread's longest
# fdatasync() (the commit's wait for the disk), from `perf trace`; and the
# median of the paired ratios of wall time (on over off).
# usage: bench/flush.sh   (B: build dir; ROWS: default 5000000;
#        RUNS: default 5; needs perf)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest
command -v perf >/dev/null || { echo "bench: perf missing (apt-get install linux-perf)" >&2; exit 1; }
rows=${ROWS:-5000000}
runs=${RUNS:-5}
export TZ=UTC LC_ALL=C
w=$(mktemp -d "${TMPDIR:-/tmp}/flush-bench.XXXXXX")
trap 'rm -rf "$w"' EXIT INT TERM
comparison_csv "$bin" "$rows" "$w/s.csv"
n=$(($(wc -l <"$w/s.csv") - 1))
: >"$w/runs"
i=1
while [ "$i" -le "$runs" ]; do
	for f in 0 1; do
		rm -f "$w"/w.db*
		sync
		t0=$(date +%s%N)
		GPUUSAGE_FLUSH=$f perf trace -o "$w/trace" -e fdatasync \
			-- "$bin/gpuingest" -q --interval 300 -d "$w/w.db" "$w/s.csv"
		t1=$(date +%s%N)
		# "  6406.983 (190.353 ms): gpuingest/31977 fdatasync(fd: 6) = 0";
		# the main thread's is the first (the new schema's commit).
		longest=$(awk '/fdatasync\(/ {
				t = $0; sub(/^[^(]*\(/, "", t); d = t + 0
				sub(/^[^:]*: */, "", t); sub(/ .*/, "", t)
				if (main == "") main = t
				if (t == main && d > m) m = d
			}
			END { printf "%.3f", m / 1000 }' "$w/trace")
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
		echo "$f $i $secs $longest" >>"$w/runs"
	done
	i=$((i + 1))
done
echo "$n rows (gpugen $gen_args), $runs runs each, alternated"
cat >"$w/report.awk" <<'EOF'
	{ wall[$1, $2] = $3; sync[$1, $2] = $4; if ($2 > runs) runs = $2 }
	END {
		printf "%-9s %10s %16s\n", "flusher", "median s", "longest sync s"
		for (f = 0; f <= 1; f++) {
			for (r = 1; r <= runs; r++) { a[r] = wall[f, r]; b[r] = sync[f, r] }
			printf "%-9s %10.2f %16.3f\n", f ? "on" : "off", median(a, runs), median(b, runs)
		}
		for (r = 1; r <= runs; r++) a[r] = wall[1, r] / wall[0, r]
		printf "paired, median: on / off %.2f\n", median(a, runs)
	}
EOF
awk -f "$top/bench/median.awk" -f "$w/report.awk" "$w/runs"
