#!/bin/sh
# SPDX-License-Identifier: MIT
# What opening a warehouse costs every tool at its first statement, when
# SQLite parses the schema: the sqlite3 shell's one-row SELECT on a
# warehouse as gpuingest makes it, and on a copy without the view
# gpu_usage_fact and its triggers (which decode packed samples in SQL),
# interleaved run by run. Prints the median wall milliseconds of each
# and, when valgrind is there, their instructions by callgrind.
# usage: bench/schema-cost.sh   (B: build dir; RUNS: default 40)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest
command -v sqlite3 >/dev/null || { echo "bench: no sqlite3 shell" >&2; exit 1; }
runs=${RUNS:-40}
export TZ=UTC LC_ALL=C
w=$(mktemp -d "${TMPDIR:-/tmp}/schema-cost.XXXXXX")
trap 'rm -rf "$w"' EXIT INT TERM
"$bin/gpugen" -n 2 -g 2 -i 300 -S 1 -t epoch_ms -H 2 -o "$w/s.csv"
"$bin/gpuingest" -q --interval 300 -d "$w/with.db" "$w/s.csv"
sqlite3 "$w/with.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
cp "$w/with.db" "$w/without.db"
sqlite3 "$w/without.db" 'DROP VIEW gpu_usage_fact' >/dev/null # and its triggers
sql='SELECT 1 FROM nodes_dim LIMIT 1'
: >"$w/times"
i=1
while [ "$i" -le "$runs" ]; do
	for t in with without; do
		t0=$(date +%s%N)
		sqlite3 "$w/$t.db" "$sql" >/dev/null
		t1=$(date +%s%N)
		echo "$t $(((t1 - t0) / 1000))" >>"$w/times"
	done
	i=$((i + 1))
done
echo "sqlite3 '$sql', $runs interleaved runs each; schema bytes:" \
	"$(sqlite3 "$w/with.db" 'SELECT sum(length(sql)) FROM sqlite_schema') with the view," \
	"$(sqlite3 "$w/without.db" 'SELECT sum(length(sql)) FROM sqlite_schema') without"
for t in with without; do
	printf '%-8s median %6.2f ms' "$t" "$(awk -v t="$t" '$1 == t { print $2 / 1000 }' "$w/times" |
		sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
	if command -v valgrind >/dev/null; then
		valgrind --tool=callgrind --callgrind-out-file="$w/cg" \
			sqlite3 "$w/$t.db" "$sql" >/dev/null 2>"$w/vg"
		awk '/refs:/ { gsub(",", "", $NF); printf "  %.1f million instructions", $NF / 1e6 }' "$w/vg"
	fi
	echo
done
