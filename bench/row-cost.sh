#!/bin/sh
# SPDX-License-Identifier: MIT
# What SQLite charges a load for the shape of the fact row: the stored
# table gpu_usage_fact_rows (its CREATE from a warehouse gpuingest makes)
# and shapes it might have instead, each filled by build/rowcost with the
# same synthetic samples in gpuingest's 64-row INSERTs:
#   stored        the table as the warehouse has it
#   no-not-null   the same without its NOT NULL constraints
#   fewer         without interval_s, ingest_id, job_src, profile_key and
#                 share28 (the same in most rows of a load)
#   rowid         a rowid table keyed by one integer of time, node and GPU,
#                 holding the other columns
#   key+blob      the key and one 20-byte blob (the other columns encoded
#                 by the loader, not by SQLite)
# Prints each one's median seconds over RUNS loads of ROWS rows, its time
# against stored's, the file's bytes per row and, when valgrind is there,
# the instructions a row costs (callgrind over 200,000 rows less 100,000,
# so the setup cancels out).
# usage: bench/row-cost.sh   (B: build dir; ROWS: default 1000000; RUNS:
#        default 5; INSTR=0: no callgrind)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest rowcost
command -v sqlite3 >/dev/null || { echo "bench: no sqlite3 shell" >&2; exit 1; }
rows=${ROWS:-1000000}
runs=${RUNS:-5}
export TZ=UTC LC_ALL=C
tmp=$(mktemp -d "${TMPDIR:-/tmp}/row-cost.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$bin/gpugen" -n 1 -g 1 -i 300 -S 1 -t epoch_ms -H 1 -o "$tmp/s.csv"
"$bin/gpuingest" -q --interval 300 -d "$tmp/w.db" "$tmp/s.csv"
stored=$(sqlite3 "$tmp/w.db" "SELECT sql FROM sqlite_schema WHERE name = 'gpu_usage_fact_rows'" |
	sed 's/^CREATE TABLE "*gpu_usage_fact_rows"*/CREATE TABLE t/')
case $stored in
"CREATE TABLE t("*"PRIMARY KEY(ts_ms, node_id, gpu, mig)) WITHOUT ROWID") ;;
*) echo "bench: gpu_usage_fact_rows is not as this script knows it: $stored" >&2; exit 1 ;;
esac
key="ts_ms INTEGER NOT NULL, node_id INTEGER NOT NULL, gpu INTEGER NOT NULL, mig TEXT NOT NULL DEFAULT '',"
printf '%s\n' "$stored" >"$tmp/stored"
printf '%s\n' "$stored" | sed 's/ NOT NULL//g' >"$tmp/no-not-null"
printf '%s\n' "$stored" | sed -E 's/ (interval_s|ingest_id|job_src|profile_key|share28) [A-Z]+( NOT NULL)?,//g' >"$tmp/fewer"
printf '%s\n' "$stored" | sed -e "s/( *$key/(k INTEGER PRIMARY KEY, mig TEXT NOT NULL DEFAULT '',/" \
	-e 's/, PRIMARY KEY(ts_ms, node_id, gpu, mig)) WITHOUT ROWID/)/' >"$tmp/rowid"
printf 'CREATE TABLE t(%s v BLOB, PRIMARY KEY(ts_ms, node_id, gpu, mig)) WITHOUT ROWID\n' "$key" >"$tmp/key+blob"
shapes="stored no-not-null fewer rowid key+blob"
cols() { # the columns of a shape
	sqlite3 ":memory:" "$(cat "$tmp/$1")" "SELECT count(*) FROM pragma_table_info('t')"
}
: >"$tmp/times"
i=1
while [ "$i" -le "$runs" ]; do
	for s in $shapes; do
		echo "$s $("$bin/rowcost" "$tmp/t.db" "$rows" "$(cat "$tmp/$s")")" >>"$tmp/times"
		[ "$i" -eq 1 ] && echo "$s $(wc -c <"$tmp/t.db")" >>"$tmp/bytes"
	done
	i=$((i + 1))
done
instr() { # instructions a row of shape $1 costs, or -
	if [ "${INSTR:-1}" = 0 ] || ! command -v valgrind >/dev/null; then
		echo -
		return
	fi
	for n in 100000 200000; do
		valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			"$bin/rowcost" "$tmp/t.db" "$n" "$(cat "$tmp/$1")" 2>&1 >/dev/null |
			awk '/refs:/ { gsub(",", "", $NF); print $NF }'
	done | awk 'NR == 1 { a = $1 } NR == 2 { printf "%.0f", ($1 - a) / 100000 }'
}
echo "SQLite $(sqlite3 --version | cut -d' ' -f1): $rows rows a load, $runs loads each, interleaved"
printf '%-12s %7s %9s %9s %9s %10s\n' shape columns "median s" "vs stored" "bytes/row" "instr/row"
base=""
for s in $shapes; do
	m=$(awk -v s="$s" '$1 == s { print $2 }' "$tmp/times" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	[ -n "$base" ] || base=$m
	printf '%-12s %7s %9s %9s %9s %10s\n' "$s" "$(cols "$s")" "$m" \
		"$(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2f", a / b }')" \
		"$(awk -v s="$s" -v r="$rows" '$1 == s { printf "%.1f", $2 / r }' "$tmp/bytes")" \
		"$(instr "$s")"
done
