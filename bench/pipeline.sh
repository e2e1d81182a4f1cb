#!/bin/sh
# SPDX-License-Identifier: MIT
# One hour of scripts/gpu-pipeline (demo mode: collect with gpugen, ingest,
# refresh, bill month to date, report, Prometheus metrics) on a warehouse
# that already holds 10 days: PIPE_NODES x 8 GPUs sampled every 60 s from
# 2026-11-01 to 2026-11-11 (loaded with gpuingest, not timed), then hour
# 2026-11-11T00 processed RUNS times, each on a fresh copy of that
# warehouse. Prints the median wall seconds and peak RSS (of the largest
# process) of the whole run and the median of each step from the
# pipeline's log.
# usage: bench/pipeline.sh   (B: build dir; RUNS, default 3; PIPE_NODES,
#        default 50, so 5,760,000 samples in the warehouse)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest gpuagg gpubill gpureport
command -v bash >/dev/null 2>&1 || { echo "bench: bash not found" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
export TZ=UTC LC_ALL=C
runs=${RUNS:-3}
nodes=${PIPE_NODES:-50}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipeline-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

"$bin/gpugen" -n "$nodes" -g 8 -i 60 -s 2026-11-01 -H 240 -S 42 \
	-j "$tmp/jobs.csv" -o "$tmp/s.csv"
"$bin/gpuingest" -q --interval 60 -d "$tmp/base.db" -j "$tmp/jobs.csv" "$tmp/s.csv"
rm -f "$tmp/s.csv" "$tmp/jobs.csv"
sqlite3 "$tmp/base.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null 2>&1 || true
n=$(sqlite3 "$tmp/base.db" "SELECT count(*) FROM gpu_usage_fact" 2>/dev/null || echo "?")
: >"$tmp/empty.conf"
export GPU_PIPELINE_CONF="$tmp/empty.conf" GPUUSAGE_DB="$tmp/w.db" \
	SPOOL_DIR="$tmp/spool" STATE_DIR="$tmp/state" LOG_DIR="$tmp/state/log" \
	REPORT_PATH="$tmp/out/report.html" BILL_PATH="$tmp/out/bill.csv" \
	PROM_FILE="$tmp/out/gpuusage.prom" GPU_BIN_DIR="$bin" \
	DEMO_NODES="$nodes" DEMO_GPUS_PER_NODE=8 DEMO_INTERVAL=60 \
	RETRIES=0 RETRY_DELAY=0 START_HOUR=2026-11-11T00 \
	GPU_PIPELINE_NOW=2026-11-11T01:05:00Z
: >"$tmp/results"
i=1
while [ "$i" -le "$runs" ]; do
	rm -rf "$tmp/w.db"* "$tmp/spool" "$tmp/state" "$tmp/out"
	cp "$tmp/base.db" "$tmp/w.db"
	# Written back now, not by the first fsync of the run (the ingest's),
	# which would wait for the whole copy.
	sync
	s=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$tmp/time" bash "$top/scripts/gpu-pipeline" \
		-q --mode demo --hour 2026-11-11T00 >"$tmp/stdout" 2>"$tmp/stderr" ||
		{ echo "bench: gpu-pipeline failed:" >&2; cat "$tmp/stderr" >&2; exit 1; }
	e=$(date +%s%N)
	echo "total $(((e - s) / 1000000)) $(tail -n 1 "$tmp/time")" >>"$tmp/results"
	sed -n 's/.* step \([a-z]*\) ok (\([0-9.]*\) s)$/\1 \2/p' "$tmp"/state/log/*.log |
		awk '{ printf "%s %d -\n", $1, $2 * 1000 }' >>"$tmp/results"
	i=$((i + 1))
done
echo "gpu-pipeline benchmark: one hour (2026-11-11T00, $((nodes * 8 * 60)) samples) on a warehouse of $n samples (10 days), median of $runs runs ($(nproc) CPUs)"
cat "$tmp/stdout"
awk '{ k = $1; if (!(k in c)) o[++n] = k; c[k]++; t[k, c[k]] = $2; r[k, c[k]] = $3 }
function med(k, a,    m, i, j, x, v) {
	m = c[k]
	for (i = 1; i <= m; i++) v[i] = (a == "t") ? t[k, i] : r[k, i]
	for (i = 2; i <= m; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { x = v[j]; v[j] = v[j - 1]; v[j - 1] = x }
	return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
}
END {
	printf "%-10s %10s %10s\n", "step", "median s", "RSS MB"
	for (i = 1; i <= n; i++) {
		k = o[i]
		printf "%-10s %10.3f %10s\n", k, med(k, "t") / 1000, k == "total" ? sprintf("%.1f", med(k, "r") / 1024) : "-"
	}
}' "$tmp/results"
