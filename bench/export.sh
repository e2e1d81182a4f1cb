#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark gpuexport against DuckDB's COPY ... TO parquet (zstd) of the
# same fact rows: 5 million gpugen rows in a warehouse (loaded, not
# timed); gpuexport writes the gpu_usage_fact table from scratch (median
# wall and CPU seconds, data bytes, peak RSS by /usr/bin/time -v, also with
# 16 MiB row groups); DuckDB (npm @duckdb/node-api in tests/lake) copies the
# same rows, as names, from an in-memory table and from a CSV of them, in
# the same run; the ratios close the report, with the load average (the
# figures of a shared machine are noisy).
# usage: bench/export.sh   (B names the build directory; RUNS, default 3;
#        ROWS, default 5000000)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
for t in gpugen gpuingest gpuexport; do
	[ -x "$bin/$t" ] || { echo "bench: $bin/$t not built (run make)" >&2; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "bench: no sqlite3 shell" >&2; exit 1; }
runs=${RUNS:-3}
rows=${ROWS:-5000000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/export-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

hours=$(awk -v r="$rows" 'BEGIN { printf "%.4f", r / 1600 / 60 }')
"$bin/gpugen" -n 200 -g 8 -H "$hours" -S 1 -o "$tmp/a.csv"
"$bin/gpuingest" -q -d "$tmp/w.db" "$tmp/a.csv"
rm -f "$tmp/a.csv"
n=$(sqlite3 "$tmp/w.db" "SELECT count(*) FROM gpu_usage_fact")

# One export from scratch: no lake, no export state.
fresh() {
	rm -rf "$tmp/lake"
	sqlite3 "$tmp/w.db" "DELETE FROM lake_export_versions;
		DELETE FROM lake_export_files; DELETE FROM lake_export_manifests;
		DELETE FROM lake_export_days; DELETE FROM lake_export_tables" \
		2>/dev/null || true
}
# median COMMAND: "wall cpu", the medians of wall and CPU (user + sys)
# seconds over the runs; CPU time shows the work when the machine is shared.
median() {
	i=0
	: >"$tmp/times"
	while [ "$i" -lt "$runs" ]; do
		fresh
		{ /usr/bin/time -p sh -c "$1 >/dev/null 2>&1"; } 2>&1 |
			awk '$1 == "real" { r = $2 } $1 == "user" { u = $2 }
			     $1 == "sys" { s = $2 } END { print r, u + s }' \
			>>"$tmp/times"
		i=$((i + 1))
	done
	awk '{ print $1 }' "$tmp/times" | sort -n |
		awk '{ t[NR] = $1 } END { printf "%s ", t[int((NR + 1) / 2)] }'
	awk '{ print $2 }' "$tmp/times" | sort -n |
		awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
}
rss() { # peak RSS in KB of one fresh export with extra options
	fresh
	{ /usr/bin/time -v "$bin/gpuexport" -d "$tmp/w.db" -l "$tmp/lake" \
		-t gpu_usage_fact "$@"; } 2>&1 |
		awk -F: '/Maximum resident/ { print $2 + 0 }'
}
load0=$(cut -d' ' -f1-3 /proc/loadavg)
exp="$bin/gpuexport -d $tmp/w.db -l $tmp/lake -t gpu_usage_fact"
tc=$(median "$exp")
t1=${tc% *}
c1=${tc#* }
size1=$(find "$tmp/lake/gpu_usage_fact/data" -name '*.parquet' -exec cat {} + | wc -c)
r1=$(rss)
r16=$(rss --row-group-mb 16)

duck=""
if [ -d "$top/tests/lake/node_modules/@duckdb/node-api" ]; then
	sqlite3 -csv -header "$tmp/w.db" "SELECT f.ts_ms, n.node, f.gpu,
		f.util_pct, f.mem_used_mib, f.mem_total_mib, j.job_id,
		u.name AS user, p.name AS project, m.name AS model, f.interval_s,
		f.ingest_id, f.power_w, f.temp_c, f.job_src
		FROM gpu_usage_fact f JOIN nodes_dim n USING (node_id)
		LEFT JOIN jobs_dim j ON j.job_key = f.job_key
		LEFT JOIN names_dim u ON u.name_key = f.user_key
		LEFT JOIN names_dim p ON p.name_key = f.project_key
		LEFT JOIN names_dim m ON m.name_key = f.model_key
		ORDER BY f.ts_ms, f.node_id, f.gpu" >"$tmp/facts.csv"
	duck=$(cd "$top/tests/lake" && node duck-copy.mjs "$tmp/facts.csv" "$tmp" "$runs")
else
	echo "bench: DuckDB not installed (npm ci in tests/lake): gpuexport only" >&2
fi

load1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "gpuexport benchmark, $n facts, median of $runs runs ($(nproc) CPUs;"
echo "load average $load0 before, $load1 after)"
printf '%-44s %9s %7s %11s %12s %8s\n' "export" "median s" "CPU s" "rows/s" "bytes" "RSS MB"
awk -v n="$n" -v t="$t1" -v c="$c1" -v s="$size1" -v r="$r1" 'BEGIN {
	printf "%-44s %9.2f %7.2f %11.0f %12d %8.1f\n", "gpuexport (SQLite to Iceberg, zstd)", t, c, n / t, s, r / 1024 }'
awk -v r="$r16" 'BEGIN { printf "%-44s %9s %7s %11s %12s %8.1f\n", "gpuexport --row-group-mb 16", "-", "-", "-", "-", r / 1024 }'
echo "$duck" | awk -v n="$n" -v s="$size1" -v t="$t1" -v c="$c1" 'NF == 4 {
	name = $1 == "table" ? "DuckDB COPY from an in-memory table" : "DuckDB COPY from the CSV"
	printf "%-44s %9.2f %7.2f %11.0f %12d %8s\n", name, $2, $4, n / $2, $3, "-"
	ratio[NR] = sprintf("gpuexport vs %s: %.2fx the time, %.2fx the CPU, %+.1f%% bytes",
		name, t / $2, c / $4, (s - $3) * 100 / $3) }
	END { for (i = 1; i <= NR; i++) if (i in ratio) print ratio[i] }'
