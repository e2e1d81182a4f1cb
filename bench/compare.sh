#!/bin/sh
# SPDX-License-Identifier: MIT
# The side-by-side comparison of make bench: for each dataset size, the
# gpuusage tools and their peers on the same gpugen CSV, interleaved (run
# 1 of every tool, then run 2, ...), each command's wall time and peak RSS
# taken by /usr/bin/time. Tasks:
#   ingest  gpuingest; sqlite3 .import into a plain typed table; DuckDB
#           CREATE TABLE AS SELECT * FROM read_csv(...) into a file
#   agg     hour x node, month x user, day x job: gpuagg on the warm
#           warehouse, gpuagg --input (streaming, no warehouse), the pandas
#           reference, DuckDB over the CSV and over its own table, sqlite3
#           over the plain table, GNU datamash (awk | datamash -s, so with
#           its sort) and Miller
#   startup the floor of the peers: node with DuckDB running SELECT 42,
#           python3 importing pandas
#   bill    gpubill --by job --period all against the pandas reference,
#           whose bill must be the same bytes, and DuckDB over the CSV
#           (the same charges in SQL, bench/duck-bill.sql), whose seconds,
#           owners and cents must be the same (both checked, exit 1 if not)
#   warm-*  the three warm queries and the bill again, ours and DuckDB
#           over the CSV, timed by hyperfine without a shell (when it is
#           installed): /usr/bin/time, sh and date cost measure's every
#           run about as much as a warm query itself (the harness line)
# Raw results go to BENCH_OUT/results-SIZE.tsv (size rows task tool run
# seconds rss_kb); bench/summarize.sh prints the tables of all sizes.
# usage: bench/compare.sh   (B: build dir; BENCH_SIZES, default "1M 5M 20M";
#        BENCH_RUNS, default 3; BENCH_WARM_RUNS, our warm queries' runs
#        by hyperfine in each round, default 10; BENCH_CACHE, default
#        ${TMPDIR:-/tmp}/gpuusage-bench: the datasets, kept between runs;
#        BENCH_OUT, default bench/out; BENCH_TASKS: "ingest" to stop after
#        the loads, default all; BENCH_SKIP: tools to leave out, e.g.
#        "mlr datamash"; BENCH_MLR_MAX: the most rows Miller is given,
#        default 1M, since it holds about 1.2 GB per million rows here;
#        BENCH_PEER_MB: the address-space limit of the pandas and Miller
#        commands, default 60% of the memory available at the start, so
#        that they fail rather than push the shared machine into swap or
#        the OOM killer)
# The awk and Miller programs below are single-quoted: their $ are theirs.
# shellcheck disable=SC2016
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest gpuagg gpubill
sizes=${BENCH_SIZES:-1M 5M 20M}
runs=${BENCH_RUNS:-3}
cache=${BENCH_CACHE:-${TMPDIR:-/tmp}/gpuusage-bench}
out=${BENCH_OUT:-$top/bench/out}
skip=" ${BENCH_SKIP:-} "
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
mkdir -p "$cache" "$out"
export TZ=UTC LC_ALL=C

# The peers present; a missing one is said once and left out.
have() { command -v "$1" >/dev/null 2>&1; }
py=""
for p in python3 /usr/bin/python3; do
	if have "$p" && "$p" -c 'import pandas' 2>/dev/null; then py=$p; break; fi
done
duck=""
if have node && [ -d "$top/bench/node_modules/@duckdb/node-api" ]; then
	duck="node $top/bench/duck.mjs"
fi
for t in sqlite3 datamash mlr; do
	have "$t" || echo "bench: $t not found: left out (scripts/install-deps.sh --bench)" >&2
done
[ -n "$py" ] || echo "bench: no python3 with pandas: left out (scripts/install-deps.sh --bench)" >&2
[ -n "$duck" ] || echo "bench: DuckDB not installed: left out (cd bench && npm ci)" >&2

peer_mb=${BENCH_PEER_MB:-$(awk '/^MemAvailable/ { printf "%d", $2 / 1024 * 0.6 }' /proc/meminfo)}
# pandas and Miller run under this limit (ulimit -v, KB).
lim="ulimit -v $((peer_mb * 1024));"
ver=$("$bin/gpugen" --version | awk '{ print $2 }')
# Every dataset: 200 nodes x 8 GPUs, a sample every 300 s, epoch ms.
gen_args="-n 200 -g 8 -i 300 -S 1 -t epoch_ms"

rows_of() { # 1M, 500k, 20000000 -> a number of rows
	case $1 in
	*[Mm]) echo $((${1%?} * 1000000)) ;;
	*[Kk]) echo $((${1%?} * 1000)) ;;
	*) echo "$1" ;;
	esac
}
mlr_max=$(rows_of "${BENCH_MLR_MAX:-1M}")

# The CSV of a size, generated once per gpugen version, seed and options.
dataset() { # dataset SIZE -> prints the path of the CSV
	n=$(rows_of "$1")
	d="$cache/gpugen-$ver-S1-n200g8i300-$n"
	if [ ! -f "$d/done" ]; then
		mkdir -p "$d"
		h=$(awk -v r="$n" 'BEGIN { printf "%.4f", r / 1600 * 300 / 3600 }')
		echo "generating $1 rows: gpugen $gen_args -H $h" >&2
		# shellcheck disable=SC2086 # a list of options: split on purpose
		"$bin/gpugen" $gen_args -H "$h" -o "$d/s.csv"
		: >"$d/done"
	fi
	echo "$d/s.csv"
}

# measure TASK TOOL PREPARE COMMAND: one timed run (after PREPARE, not
# timed), appended to the results; standard output goes to $w/out.TOOL.
# Wall time from the clock around it (ms), peak RSS from /usr/bin/time:
# of a pipeline, that of its largest process.
measure() {
	case $skip in *" $2 "*) return 0 ;; esac
	sh -c "$3"
	# Whatever the setup or the command before wrote (a warehouse copied
	# for a re-ingest, a load's pages) reaches the disk now, not inside
	# the next timed command.
	sync
	t0=$(date +%s%N)
	if /usr/bin/time -f '%M' -o "$w/time" sh -c "$4" >"$w/out.$2" 2>"$w/err"; then
		t1=$(date +%s%N)
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
		rss=$(tail -n 1 "$w/time")
	else
		echo "bench: $1 $2 failed: $(tail -n 3 "$w/err")" >&2
		secs=fail rss=fail
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$rows" "$1" "$2" "$run" \
		"$secs" "$rss" >>"$res"
	printf '  %-10s %-18s run %s: %8s s %10s KB\n' "$1" "$2" "$run" "$secs" "$rss" >&2
}

# hyper TASK TOOL RUNS WARMUP COMMAND: RUNS timed runs of COMMAND (after
# WARMUP untimed ones) by hyperfine without a shell: what the command
# itself takes, with none of measure's timing processes (the harness
# line), for commands of milliseconds. Each run's seconds are appended to
# the results, peak RSS as "-" (the task's measure rows have it).
hyper() {
	case $skip in *" $2 "*) return 0 ;; esac
	if hyperfine -N --style none --warmup "$4" --runs "$3" \
		--export-json "$w/hyper.json" "$5" >/dev/null 2>"$w/err"; then
		awk '/"times"/ { on = 1; next } on && /\]/ { exit }
			on { gsub(/[ ,]/, ""); print }' "$w/hyper.json" |
			while read -r t; do
				printf '%s\t%s\t%s\t%s\t%s\t%.6f\t-\n' "$size" \
					"$rows" "$1" "$2" "$run" "$t"
			done >>"$res"
		printf '  %-10s %-18s run %s: %s runs by hyperfine\n' "$1" "$2" "$run" "$3" >&2
	else
		echo "bench: $1 $2 failed: $(tail -n 3 "$w/err")" >&2
		printf '%s\t%s\t%s\t%s\t%s\tfail\tfail\n' "$size" "$rows" "$1" \
			"$2" "$run" >>"$res"
	fi
}

# warm NAME TOOL ARGS DUCK-SQL: the warm query NAME again, timed by
# hyper() as task warm-NAME: our TOOL with ARGS BENCH_WARM_RUNS times
# (default 10) and DuckDB over the CSV (DUCK-SQL, a file, and ARGS for
# duck.mjs after it) once, in each of the rounds.
warm() {
	have hyperfine || return 0
	run=1
	while [ "$run" -le "$runs" ]; do
		hyper "warm-$1" "$2" "$warm_runs" 2 "'$bin/$2' $3"
		[ -n "$duck" ] && hyper "warm-$1" duckdb-csv 1 0 \
			"node '$top/bench/duck.mjs' :memory: '$4' ${5:-}"
		run=$((run + 1))
	done
}
warm_runs=${BENCH_WARM_RUNS:-10}
have hyperfine || echo "bench: hyperfine not found: the warm queries' precise timing left out (scripts/install-deps.sh --bench)" >&2

# The metrics the peers compute: a subset of gpuagg's (docs/FORMAT.md
# 3.4), every sample 300 s, the overage at 16384 MiB.
cols="count(*) AS samples, sum(300) AS gpu_seconds,
 sum(CASE WHEN coalesce(CAST(job_id AS TEXT), '') <> '' THEN 300 ELSE 0 END) AS alloc_gpu_seconds,
 sum(300 * util_pct) / 360000.0 AS busy_gpu_hours,
 avg(util_pct) AS avg_util_pct, max(mem_used_mib) AS max_mem_used_mib,
 sum(CASE WHEN coalesce(CAST(job_id AS TEXT), '') <> '' AND mem_used_mib > 16384
  THEN 300 * (mem_used_mib - 16384) ELSE 0 END) AS mem_overage_mib_seconds,
 avg(power_w) AS avg_power_w"
# awk's side of datamash: the key columns, then a (allocated seconds),
# o (overage), util, mem, power.
awk_pre='NR > 1 { a = $7 != "" ? 300 : 0
	o = (a && $5 > 16384) ? 300 * ($5 - 16384) : 0'
dm_ops="count 3 sum 4 sum 3 mean 3 max 6 sum 5 mean 7"
mlr_put='$a = is_empty($job_id) ? 0 : 300;
 $o = ($a > 0 && $mem_used_mib > 16384) ? 300 * ($mem_used_mib - 16384) : 0'
mlr_stats="stats1 -a count,sum,mean,max -f a,o,util_pct,mem_used_mib,power_w"

# query NAME PERIOD BY SQLITE-KEYS DUCK-KEYS AWK-KEYS MLR-KEY-EXPR MLR-GROUP
query() {
	printf 'SELECT %s, %s FROM read_csv('"'%s'"') GROUP BY ALL;\n' "$5" "$cols" "$csv" >"$w/$1-csv.sql"
	printf 'SELECT %s, %s FROM samples GROUP BY ALL;\n' "$5" "$cols" >"$w/$1-tab.sql"
	run=1
	while [ "$run" -le "$runs" ]; do
		measure "$1" gpuagg : "'$bin/gpuagg' --db '$w/w.db' --period $2 --by $3"
		measure "$1" gpuagg-input : "'$bin/gpuagg' --interval 300 --input '$csv' --period $2 --by $3"
		[ -n "$py" ] && measure "$1" pandas : \
			"$lim $py '$top/bench/reference_pandas.py' agg --interval 300 --period $2 --by $3 '$csv'"
		if [ -n "$duck" ]; then
			measure "$1" duckdb-csv : "$duck :memory: '$w/$1-csv.sql'"
			measure "$1" duckdb-table : "$duck '$w/d.duckdb' '$w/$1-tab.sql'"
		fi
		have sqlite3 && measure "$1" sqlite3 : \
			"sqlite3 '$w/p.db' \"SELECT $4, $cols FROM samples GROUP BY 1, 2\""
		have datamash && measure "$1" datamash : \
			"awk -F, -v OFS=, '$awk_pre; print $6, \$4, a, o, \$5, \$11 }' '$csv' |
			datamash -s -t, -g 1,2 $dm_ops"
		have mlr && [ "$rows" -le "$mlr_max" ] && measure "$1" mlr : \
			"$lim mlr --icsv --ocsv put '$mlr_put; $7' then $mlr_stats -g $8 '$csv'"
		run=$((run + 1))
	done
}

for size in $sizes; do
	rows=$(rows_of "$size")
	csv=$(dataset "$size")
	res="$out/results-$size.tsv"
	: >"$res"
	w=$(mktemp -d "${TMPDIR:-/tmp}/compare-bench.XXXXXX")
	trap 'rm -rf "$w"' EXIT INT TERM
	echo "== $size rows ($rows, $(($(wc -c <"$csv") / 1048576)) MiB of CSV), $runs runs each" >&2
	if have mlr && [ "$rows" -gt "$mlr_max" ]; then
		echo "bench: Miller left out above $mlr_max rows (BENCH_MLR_MAX)" >&2
	fi

	# Ingest. The last run of each leaves the database the queries read.
	echo "CREATE TABLE samples AS SELECT * FROM read_csv('$csv');" >"$w/ingest.sql"
	echo "SELECT 42;" >"$w/floor.sql"
	plain="CREATE TABLE samples(timestamp INTEGER, node TEXT, gpu INTEGER,
	 util_pct REAL, mem_used_mib INTEGER, mem_total_mib INTEGER, job_id TEXT,
	 user TEXT, project TEXT, model TEXT, power_w REAL, temp_c REAL);"
	run=1
	while [ "$run" -le "$runs" ]; do
		measure ingest gpuingest "rm -f '$w'/w.db*" \
			"'$bin/gpuingest' -q --interval 300 -d '$w/w.db' '$csv'"
		# The same input again into a copy of that warehouse: every
		# row unchanged (summarize.sh quotes it against the first load).
		measure reingest gpuingest \
			"sqlite3 '$w/w.db' 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null;
			 rm -f '$w'/w2.db*; cp '$w/w.db' '$w/w2.db'" \
			"'$bin/gpuingest' -q --interval 300 -d '$w/w2.db' '$csv'"
		have sqlite3 && measure ingest sqlite3 \
			"rm -f '$w'/p.db*; sqlite3 '$w/p.db' '$plain'" \
			"sqlite3 '$w/p.db' -cmd '.mode csv' '.import --skip 1 $csv samples'"
		[ -n "$duck" ] && measure ingest duckdb "rm -f '$w'/d.duckdb*" \
			"$duck '$w/d.duckdb' '$w/ingest.sql'"
		# What starting the peers costs before any work (a floor), and
		# what the timing itself costs every command (date, time, sh).
		measure startup harness : "true"
		[ -n "$duck" ] && measure startup duckdb : "$duck :memory: '$w/floor.sql'"
		[ -n "$py" ] && measure startup pandas : "$py -c 'import pandas'"
		run=$((run + 1))
	done
	sqlite3 "$w/w.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null 2>&1 || true
	if [ "${BENCH_TASKS:-all}" = ingest ]; then
		rm -rf "$w"
		trap - EXIT INT TERM
		continue
	fi

	query hour-node hour node "timestamp / 3600000, node" \
		"timestamp // 3600000 AS h, node" 'int($1 / 3600000), $2' \
		'$h = int($timestamp / 3600000)' h,node
	query month-user month user "strftime('%Y-%m', timestamp / 1000, 'unixepoch'), user" \
		"strftime(make_timestamp(timestamp * 1000), '%Y-%m') AS m, \"user\"" \
		'strftime("%Y-%m", int($1 / 1000), 1), $8' \
		'$m = strftime(int($timestamp / 1000), "%Y-%m")' m,user
	query day-job day job "timestamp / 86400000, job_id" \
		"timestamp // 86400000 AS d, job_id" 'int($1 / 86400000), $7' \
		'$d = int($timestamp / 86400000)' d,job_id

	# Billing by job, and the checks of the peers' cents.
	sed "s|@CSV@|$csv|" "$top/bench/duck-bill.sql" >"$w/bill.sql"
	# The warm queries again, timed without the harness.
	warm hour-node gpuagg "--db '$w/w.db' --period hour --by node" "$w/hour-node-csv.sql"
	warm month-user gpuagg "--db '$w/w.db' --period month --by user" "$w/month-user-csv.sql"
	warm day-job gpuagg "--db '$w/w.db' --period day --by job" "$w/day-job-csv.sql"
	warm bill gpubill "--db '$w/w.db' --by job --period all" "$w/bill.sql" --print
	run=1
	while [ "$run" -le "$runs" ]; do
		measure bill gpubill : "'$bin/gpubill' --db '$w/w.db' --by job --period all"
		[ -n "$py" ] && measure bill pandas : \
			"$lim $py '$top/bench/reference_pandas.py' bill --interval 300 --period all '$csv'"
		[ -n "$duck" ] && measure bill duckdb-csv : \
			"$duck :memory: '$w/bill.sql' --print"
		run=$((run + 1))
	done
	if [ -s "$w/out.duckdb-csv" ]; then
		# job, user, project, seconds, overage, then the three charges
		# in cents: gpubill prints them as 12.34, DuckDB as cents.
		awk -F, 'NR > 1 && $2 != "TOTAL" { c = ""
			for (i = 9; i <= 11; i++) { v = $i; sub(/\./, "", v); c = c "," v + 0 }
			print $2 "," $3 "," $4 "," $5 "," $7 c }' "$w/out.gpubill" |
			sort >"$w/bill.ours"
		awk -F, '{ print $2 "," $3 "," $4 "," $5 "," $7 "," $9 "," $10 "," $11 }' \
			"$w/out.duckdb-csv" | sort >"$w/bill.duck"
		if cmp -s "$w/bill.ours" "$w/bill.duck"; then
			echo "bill check: DuckDB's charges = gpubill --by job, $(wc -l <"$w/bill.ours") jobs" >&2
		else
			echo "bench: FAIL: DuckDB's bill differs from gpubill's:" >&2
			diff "$w/bill.ours" "$w/bill.duck" | head -n 10 >&2
			exit 1
		fi
	fi
	if [ -n "$py" ] && [ -s "$w/out.pandas" ]; then
		if cmp -s "$w/out.gpubill" "$w/out.pandas"; then
			echo "bill check: pandas reference = gpubill --by job, $(($(wc -l <"$w/out.gpubill") - 2)) jobs, total $(awk -F, '$2 == "TOTAL" { print $12 }' "$w/out.gpubill")" >&2
		else
			echo "bench: FAIL: the pandas reference's bill differs from gpubill's:" >&2
			diff "$w/out.gpubill" "$w/out.pandas" | head -n 10 >&2
			exit 1
		fi
	fi
	du -sh "$w"/w.db "$w"/p.db "$w"/d.duckdb 2>/dev/null | sed 's/^/  size: /' >&2 || true
	rm -rf "$w"
	trap - EXIT INT TERM
done
sh "$top/bench/summarize.sh" "$out"
