#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark gpuexport against DuckDB's COPY ... TO parquet (zstd) of the
# same fact rows: 5 million gpugen rows in a warehouse (loaded, not
# timed); gpuexport writes the gpu_usage_fact table from scratch; DuckDB
# (npm @duckdb/node-api in tests/lake, one Node process that loads the
# rows once) copies the same rows, as names, from an in-memory table and
# from a CSV of them. The runs are interleaved (round k runs each variant
# once), so that all see the same load of a shared machine; the report
# gives the median wall and CPU seconds of each, data bytes, peak RSS by
# /usr/bin/time -v (also with 16 MiB row groups), the ratios and the load
# average.
# usage: bench/export.sh   (B names the build directory; RUNS, default 3;
#        ROWS, default 5000000; BASE, another build directory whose
#        gpuexport is timed in the same rounds, e.g. the one before a
#        change)
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
# timed COMMAND: "wall cpu" seconds (CPU: user + sys) of one fresh run;
# CPU time shows the work when the machine is shared.
timed() {
	fresh
	{ /usr/bin/time -p sh -c "$1 >/dev/null 2>&1"; } 2>&1 |
		awk '$1 == "real" { r = $2 } $1 == "user" { u = $2 }
		     $1 == "sys" { s = $2 } END { print r, u + s }'
}
# median FILE COLUMN: the median of one column of a file of runs.
median() {
	awk -v k="$2" '{ print $k }' "$1" | sort -n |
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
base=""
if [ -n "${BASE:-}" ]; then
	base="$(cd "$BASE" && pwd)/gpuexport -d $tmp/w.db -l $tmp/lake -t gpu_usage_fact"
fi

duck=0
if [ -d "$top/tests/lake/node_modules/@duckdb/node-api" ]; then
	duck=1
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
	mkfifo "$tmp/duck.in" "$tmp/duck.out"
	(cd "$top/tests/lake" && exec node duck-copy.mjs "$tmp/facts.csv" "$tmp") \
		<"$tmp/duck.in" >"$tmp/duck.out" &
	exec 3>"$tmp/duck.in" 4<"$tmp/duck.out"
	read -r ready <&4
	[ "$ready" = ready ] || { echo "bench: DuckDB: $ready" >&2; exit 1; }
else
	echo "bench: DuckDB not installed (npm ci in tests/lake): gpuexport only" >&2
fi
# duck NAME: one COPY by the DuckDB process: "seconds bytes cpu".
duck() {
	echo "$1" >&3
	read -r name t b c <&4
	[ "$name" = "$1" ] || { echo "bench: DuckDB: $name $t" >&2; exit 1; }
	echo "$t $b $c"
}

: >"$tmp/t.exp"
: >"$tmp/t.base"
: >"$tmp/t.table"
: >"$tmp/t.csv"
i=0
while [ "$i" -lt "$runs" ]; do
	[ -z "$base" ] || timed "$base" >>"$tmp/t.base"
	timed "$exp" >>"$tmp/t.exp"
	if [ "$duck" = 1 ]; then
		duck table >>"$tmp/t.table"
		duck csv >>"$tmp/t.csv"
	fi
	i=$((i + 1))
done
t1=$(median "$tmp/t.exp" 1)
c1=$(median "$tmp/t.exp" 2)
size1=$(find "$tmp/lake/gpu_usage_fact/data" -name '*.parquet' -exec cat {} + | wc -c)
if [ "$duck" = 1 ]; then
	exec 3>&-
	wait
	duckres="table $(median "$tmp/t.table" 1) $(median "$tmp/t.table" 2) $(median "$tmp/t.table" 3)
csv $(median "$tmp/t.csv" 1) $(median "$tmp/t.csv" 2) $(median "$tmp/t.csv" 3)"
fi
r1=$(rss)
r16=$(rss --row-group-mb 16)

load1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "gpuexport benchmark, $n facts, median of $runs interleaved runs ($(nproc) CPUs;"
echo "load average $load0 before, $load1 after)"
printf '%-44s %9s %7s %11s %12s %8s\n' "export" "median s" "CPU s" "rows/s" "bytes" "RSS MB"
awk -v n="$n" -v t="$t1" -v c="$c1" -v s="$size1" -v r="$r1" 'BEGIN {
	printf "%-44s %9.2f %7.2f %11.0f %12d %8.1f\n", "gpuexport (SQLite to Iceberg, zstd)", t, c, n / t, s, r / 1024 }'
awk -v r="$r16" 'BEGIN { printf "%-44s %9s %7s %11s %12s %8.1f\n", "gpuexport --row-group-mb 16", "-", "-", "-", "-", r / 1024 }'
if [ -n "$base" ]; then
	tb=$(median "$tmp/t.base" 1)
	cb=$(median "$tmp/t.base" 2)
	awk -v n="$n" -v t="$tb" -v c="$cb" 'BEGIN {
		printf "%-44s %9.2f %7.2f %11.0f %12s %8s\n", "gpuexport of BASE", t, c, n / t, "-", "-" }'
fi
[ "$duck" = 1 ] && echo "$duckres" | awk -v n="$n" -v s="$size1" -v t="$t1" -v c="$c1" 'NF == 4 {
	name = $1 == "table" ? "DuckDB COPY from an in-memory table" : "DuckDB COPY from the CSV"
	printf "%-44s %9.2f %7.2f %11.0f %12d %8s\n", name, $2, $4, n / $2, $3, "-"
	ratio[NR] = sprintf("gpuexport vs %s: %.2fx the time, %.2fx the CPU, %+.1f%% bytes",
		name, t / $2, c / $4, (s - $3) * 100 / $3) }
	END { for (i = 1; i <= NR; i++) if (i in ratio) print ratio[i] }'
[ -z "$base" ] || awk -v t="$t1" -v c="$c1" -v tb="$tb" -v cb="$cb" 'BEGIN {
	printf "gpuexport vs BASE: %.2fx the time, %.2fx the CPU\n", t / tb, c / cb }'
