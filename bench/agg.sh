#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark gpuagg on ~5 million samples: warehouse queries cold (every
# hour's rollup stale, so read from the facts) and warm, the incremental
# refresh after one new hour against a full rebuild, and --input streaming;
# side by side with DuckDB over the CSV and the sqlite3 shell over a plain
# table. Prints medians (seconds) and ratios.
# usage: bench/agg.sh   (B: build dir; RUNS: runs per median, default 3;
#        SCALE=small for a quick check; DUCKDB_DIR: where @duckdb/node-api is
#        installed, default bench/, by `npm ci` there)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
for t in gpugen gpuingest gpuagg; do
	[ -x "$bin/$t" ] || { echo "bench: $bin/$t not built (run make)" >&2; exit 1; }
done
PATH="$bin:$PATH"
runs=${RUNS:-3}
# 200 nodes x 8 GPUs x 3120 five-minute samples (10.8 days) = 4,992,000.
args="-n 200 -g 8 -H 260 -i 300 -S 1 -t epoch_ms"
if [ "${SCALE:-}" = small ]; then
	args="-n 10 -g 4 -H 48 -i 300 -S 1 -t epoch_ms"
fi
duck=${DUCKDB_DIR:-$top/bench}
tmp=${TMPDIR:-/tmp}/gpuagg-bench.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"

now() { date +%s%N; }
# Median wall seconds of a shell command line over $runs runs; $2 (optional)
# is run before each (not timed).
median() {
	: >times.txt
	i=0
	while [ "$i" -lt "$runs" ]; do
		[ -n "${2:-}" ] && sh -c "$2" >/dev/null && sync
		s=$(now)
		sh -c "$1" >/dev/null
		e=$(now)
		echo $(((e - s) / 1000000)) >>times.txt
		i=$((i + 1))
	done
	sort -n times.txt | awk '{ t[NR] = $1 } END { printf "%.3f\n", t[int((NR + 1) / 2)] / 1000 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "-" }'; }

echo "generating: gpugen $args"
# shellcheck disable=SC2086 # $args is a list of options: split on purpose.
gpugen $args -j jobs.csv -o s.csv
rows=$(($(wc -l <s.csv) - 1))
echo "rows: $rows ($(($(wc -c <s.csv) / 1048576)) MiB CSV)"
s=$(now)
gpuingest -q --interval 300 -d w.db -j jobs.csv s.csv
e=$(now)
echo "gpuingest: $(((e - s) / 1000000)) ms (not part of the comparison)"
sqlite3 w.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp w.db cold.db
# gpuingest built the rollups; cold queries find every hour stale.
sqlite3 cold.db "INSERT OR IGNORE INTO dirty_hours SELECT DISTINCT hour_ms
	FROM usage_hourly" >/dev/null
# A plain table for the sqlite3 shell.
sqlite3 plain.db <<'SQL'
CREATE TABLE samples(timestamp INTEGER, node TEXT, gpu INTEGER,
 util_pct REAL, mem_used_mib INTEGER, mem_total_mib INTEGER, job_id TEXT,
 user TEXT, project TEXT, model TEXT, power_w REAL, temp_c REAL);
.mode csv
.import --skip 1 s.csv samples
SQL

# The three queries, as gpuagg options and as SQL over the raw columns.
q1="--period hour --by node"
q2="--period month --by user"
q3="--period day --by job"
cols="count(*) AS samples, sum(300) AS gpu_seconds,
 sum(CASE WHEN coalesce(CAST(job_id AS TEXT), '') <> '' THEN 300 ELSE 0 END) AS alloc_gpu_seconds,
 sum(300 * util_pct) / 360000.0 AS busy_gpu_hours,
 avg(util_pct) AS avg_util_pct, max(mem_used_mib) AS max_mem_used_mib,
 sum(CASE WHEN coalesce(CAST(job_id AS TEXT), '') <> '' AND mem_used_mib > 16384
  THEN 300 * (mem_used_mib - 16384) ELSE 0 END) AS mem_overage_mib_seconds,
 avg(power_w) AS avg_power_w"
sq1="SELECT timestamp / 3600000 AS h, node, $cols FROM samples GROUP BY 1, 2"
sq2="SELECT strftime('%Y-%m', timestamp / 1000, 'unixepoch') AS m, user,
 $cols FROM samples GROUP BY 1, 2"
sq3="SELECT timestamp / 86400000 AS d, job_id, max(user), max(project),
 $cols FROM samples GROUP BY 1, 2"
dsrc="read_csv('s.csv', header = true, auto_detect = true)"
dq1="SELECT timestamp // 3600000 AS h, node, $cols FROM $dsrc GROUP BY ALL"
dq2="SELECT strftime(make_timestamp(timestamp * 1000), '%Y-%m') AS m,
 \"user\", $cols FROM $dsrc GROUP BY ALL"
dq3="SELECT timestamp // 86400000 AS d, job_id, arg_max(\"user\", timestamp),
 arg_max(project, timestamp), $cols FROM $dsrc GROUP BY d, job_id"

# DuckDB: bench/package.json, installed by `npm ci` in bench/.
if [ ! -d "$duck/node_modules/@duckdb/node-api" ]; then
	echo "bench: DuckDB not installed (cd bench && npm ci): skipping DuckDB"
fi
cat >duck.js <<'EOF'
const { DuckDBInstance } = require(process.env.DUCK + '/node_modules/@duckdb/node-api');
const fs = require('fs');
(async () => {
	const db = await DuckDBInstance.create(':memory:');
	const con = await db.connect();
	const sql = fs.readFileSync(process.argv[2], 'utf8');
	const runs = +process.argv[3];
	const t = [];
	for (let i = 0; i < runs; i++) {
		const s = process.hrtime.bigint();
		await con.runAndReadAll(sql);
		t.push(Number(process.hrtime.bigint() - s) / 1e9);
	}
	t.sort((a, b) => a - b);
	console.log(t[Math.floor((runs - 1) / 2)].toFixed(3));
})();
EOF
duckq() {
	if [ -d "$duck/node_modules/@duckdb/node-api" ]; then
		DUCK=$duck node duck.js "$1" "$runs" 2>/dev/null || echo "-"
	else
		echo "-"
	fi
}
reset_cold="cp cold.db w.db; rm -f w.db-wal w.db-shm"
printf '\n%-28s %10s %10s %10s %10s %10s\n' query cold warm sqlite3 duckdb warm/duck
# One line of the table: $1 gpuagg options, $2 SQL for the sqlite3 shell,
# $3 SQL for DuckDB, $4 the file to keep the DuckDB SQL in.
query_row() {
	printf '%s\n' "$3" >"$4"
	cold=$(median "gpuagg --db w.db $1" "$reset_cold")
	gpuagg --refresh --db w.db
	warm=$(median "gpuagg --db w.db $1")
	lite=$(median "sqlite3 plain.db \"$2\"")
	dt=$(duckq "$4")
	printf '%-28s %10s %10s %10s %10s %10s\n' "$1" "$cold" "$warm" "$lite" \
		"$dt" "$(ratio "$warm" "$dt")"
}
query_row "$q1" "$sq1" "$dq1" dq1.sql
query_row "$q2" "$sq2" "$dq2" dq2.sql
query_row "$q3" "$sq3" "$dq3" dq3.sql

# Streaming over the CSV, next to DuckDB over the same file.
stream=$(median "gpuagg --interval 300 --input s.csv $q1")
dt=$(duckq dq1.sql)
printf '%-28s %10s %10s %10s %10s %10s\n' "--input s.csv $q1" "-" "$stream" "-" \
	"$dt" "$(ratio "$stream" "$dt")"

# Incremental refresh after one new hour, against a full rebuild.
last=$(sqlite3 w.db "SELECT max(ts_ms) FROM gpu_usage_fact")
next=$((last / 3600000 * 3600000 + 3600000))
hargs=$(echo "$args" | sed 's/-H [0-9.]*/-H 1/')
# shellcheck disable=SC2086 # $hargs is a list of options: split on purpose.
gpugen $hargs -s "$next" -o hour.csv
full=$(median "gpuagg --refresh --db w.db" \
	"sqlite3 w.db 'INSERT OR IGNORE INTO dirty_hours SELECT DISTINCT hour_ms FROM usage_hourly'")
sqlite3 w.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp w.db base.db
# gpuingest refreshes the hour it loads; mark it dirty again to time that.
incr=$(median "gpuagg --refresh --db w.db" \
	"cp base.db w.db; rm -f w.db-wal w.db-shm; gpuingest -q --interval 300 -d w.db hour.csv;
	sqlite3 w.db 'INSERT INTO dirty_hours SELECT DISTINCT ts_ms / 3600000 * 3600000
	FROM gpu_usage_fact WHERE ts_ms >= $next'")
printf '\nrefresh: full rebuild %s s, one new hour %s s (%s)\n' "$full" "$incr" \
	"$(ratio "$incr" "$full")"
echo "runs per median: $runs"
