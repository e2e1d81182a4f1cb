#!/bin/sh
# SPDX-License-Identifier: MIT
# Bytes per stored sample: the warehouse gpuingest builds from a gpugen CSV,
# by table (SQLite's dbstat: pages in use, so free pages are not counted),
# against the same CSV in a plain sqlite3 table and in DuckDB's file.
# usage: bench/size.sh [ROWS]   (default 1000000; B: build dir; the CSV is
#        cached as bench/compare.sh caches its datasets)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
rows=${1:-1000000}
export TZ=UTC LC_ALL=C
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest
command -v sqlite3 >/dev/null || { echo "bench: sqlite3 missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/size-bench.XXXXXX")
trap 'rm -rf "$w"' EXIT INT TERM
# 200 nodes x 8 GPUs, a sample every 300 s (bench/compare.sh's datasets).
hours=$(((rows + 19199) / 19200))
"$bin/gpugen" -n 200 -g 8 -i 300 -S 1 -t epoch_ms -H "$hours" -o "$w/s.csv"
n=$(($(wc -l <"$w/s.csv") - 1))
"$bin/gpuingest" -q --interval 300 -d "$w/w.db" "$w/s.csv"
sqlite3 "$w/w.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
# tables DB EXTRA: DB's bytes per sample by table and in all (pages in
# use), the line the SQL EXTRA prints, and the file's.
tables() {
	sqlite3 -separator ' ' "$1" "
	 SELECT printf('  %-28s %8.2f', name, sum(pgsize) * 1.0 / $n) FROM dbstat
	  GROUP BY name HAVING sum(pgsize) * 1.0 / $n >= 0.05 ORDER BY sum(pgsize) DESC;
	 SELECT printf('  %-28s %8.2f', 'warehouse, pages in use', sum(pgsize) * 1.0 / $n)
	  FROM dbstat;
	 $2;"
	printf '  %-28s %8.2f\n' "warehouse file" "$(awk -v b="$(wc -c <"$1")" -v n="$n" 'BEGIN { print b / n }')"
}
echo "$n samples (gpugen -n 200 -g 8 -i 300 -S 1 -H $hours), bytes per sample:"
tables "$w/w.db" "SELECT printf('  %-28s %8.2f', 'gpu_usage_fact_rows, payload',
  sum(payload) * 1.0 / $n) FROM dbstat WHERE name = 'gpu_usage_fact_rows'"
# The same warehouse with every sample packed (gpuingest --pack-raw: the
# dataset ends before the hour of the run), then VACUUMed so that the
# file holds only the pages in use.
cp "$w/w.db" "$w/packed.db"
"$bin/gpuingest" -q --pack-raw 1s -d "$w/packed.db"
sqlite3 "$w/packed.db" "PRAGMA wal_checkpoint(TRUNCATE); VACUUM" >/dev/null
echo "packed (gpuingest --pack-raw), bytes per sample:"
tables "$w/packed.db" "SELECT printf('  %-28s %8d', 'samples left as rows',
  count(*)) FROM gpu_usage_fact_rows"
# The floor of one SQLite row a sample (docs/PERFORMANCE.md): the
# natural key alone; the key with the four measurements but none of the
# warehouse's keys into the dimensions; the same with the measurements
# as integers (hundredths of a percent and of a watt, whole degrees),
# each in a table of its own.
sqlite3 "$w/w.db" "ATTACH '$w/k.db' AS k;
 CREATE TABLE k.key_only(ts_ms INTEGER, node_id INTEGER, gpu INTEGER,
  mig INTEGER, PRIMARY KEY(ts_ms, node_id, gpu, mig)) WITHOUT ROWID;
 INSERT INTO k.key_only SELECT ts_ms, node_id, gpu, mig FROM gpu_usage_fact;
 CREATE TABLE k.measured(ts_ms INTEGER, node_id INTEGER, gpu INTEGER,
  mig INTEGER, util_pct REAL, mem_used_mib INTEGER, power_w REAL,
  temp_c REAL, PRIMARY KEY(ts_ms, node_id, gpu, mig)) WITHOUT ROWID;
 INSERT INTO k.measured SELECT ts_ms, node_id, gpu, mig, util_pct,
  mem_used_mib, power_w, temp_c FROM gpu_usage_fact;
 CREATE TABLE k.measured_int(ts_ms INTEGER, node_id INTEGER, gpu INTEGER,
  mig INTEGER, util_c INTEGER, mem_used_mib INTEGER, power_cw INTEGER,
  temp_c INTEGER, PRIMARY KEY(ts_ms, node_id, gpu, mig)) WITHOUT ROWID;
 INSERT INTO k.measured_int SELECT ts_ms, node_id, gpu, mig,
  CAST(round(util_pct * 100) AS INTEGER), mem_used_mib,
  CAST(round(power_w * 100) AS INTEGER), CAST(round(temp_c) AS INTEGER)
  FROM gpu_usage_fact;"
sqlite3 -separator ' ' "$w/k.db" "
 SELECT printf('  %-28s %8.2f', 'floor: ' || name, sum(pgsize) * 1.0 / $n)
  FROM dbstat WHERE name IN ('key_only', 'measured', 'measured_int') GROUP BY name
  ORDER BY sum(pgsize);"
sqlite3 "$w/p.db" "CREATE TABLE samples(timestamp INTEGER, node TEXT,
 gpu INTEGER, util_pct REAL, mem_used_mib INTEGER, mem_total_mib INTEGER,
 job_id TEXT, user TEXT, project TEXT, model TEXT, power_w REAL,
 temp_c REAL)" ".mode csv" ".import --skip 1 $w/s.csv samples"
printf '  %-28s %8.2f\n' "sqlite3 .import, plain table" "$(awk -v b="$(wc -c <"$w/p.db")" -v n="$n" 'BEGIN { print b / n }')"
duck="node $top/bench/duck.mjs"
if [ -d "$top/bench/node_modules/@duckdb" ]; then
	printf "CREATE TABLE samples AS SELECT * FROM read_csv('%s');\nCHECKPOINT;\n" \
		"$w/s.csv" >"$w/d.sql"
	$duck "$w/d.duckdb" "$w/d.sql" >/dev/null 2>&1
	printf '  %-28s %8.2f\n' "DuckDB file" "$(awk -v b="$(wc -c <"$w/d.duckdb")" -v n="$n" 'BEGIN { print b / n }')"
else
	echo "  DuckDB: not installed (cd bench && npm ci)"
fi
