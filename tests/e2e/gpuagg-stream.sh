#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuagg: on clean data the warehouse (via gpuingest) and the streaming
# --input path agree: keys and integers exactly, floats to the last printed
# decimal (they sum in another order); streaming memory does not grow with
# the number of rows.
set -eu
for t in gpuagg gpugen gpuingest; do
	command -v $t >/dev/null || { echo "skip: $t not built"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }

gpugen -n 3 -g 2 -H 30 -S 5 -x interval_s -j jobs.csv >s.csv
gpuingest -q -d w.db -j jobs.csv s.csv
for args in "" "--by job" "--period hour --by gpu,model" \
	"--period day --by user,project" "--period week --by job,model" \
	"--period month --by node --from 2026-11-01T02:30 --to 2026-11-02" \
	"--by usage_category" "--period hour --by user,usage_category" \
	"--period day --by job,model,usage_category --from 2026-11-01T05:30"; do
	# shellcheck disable=SC2086
	gpuagg --db w.db $args >db.out
	# shellcheck disable=SC2086
	gpuagg --input s.csv $args >in.out
	[ "$(wc -l <db.out)" -eq "$(wc -l <in.out)" ] ||
		fail "row counts differ for '$args'"
	paste -d '\n' db.out in.out | awk -F, '
		NR % 2 == 1 { split($0, a, ","); next }
		{ for (i = 1; i <= NF; i++) {
			if (a[i] == $i) continue
			d = a[i] - $i; if (d < 0) d = -d
			if ($i !~ /\./ && a[i] !~ /\./ || d > 0.0000011) {
				print "line " NR / 2 ": " a[i] " vs " $i; bad = 1 } } }
		END { exit bad }' || fail "warehouse and --input differ for '$args'"
done
# A pipe works, and JSON Lines input gives the same as CSV.
gpugen -n 2 -g 2 -H 3 -S 6 | gpuagg --input - --period hour --by node >a.out
gpugen -n 2 -g 2 -H 3 -S 6 -f jsonl | gpuagg -i - --period hour --by node >b.out
cmp -s a.out b.out || fail "csv and jsonl input differ"
[ "$(wc -l <a.out)" -eq 7 ] || fail "expected 6 hour-node rows"

# Memory: 10x the rows must not need noticeably more memory. The input is
# read in pieces of up to 1,536 lines, each by a reader of its own, on one
# thread per CPU (at most 8): the smaller input is already 9 pieces (12,800
# rows), so that every thread works in both. The sanitizer's quarantine
# would keep every freed reader: off.
if [ -x /usr/bin/time ]; then
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
	export ASAN_OPTIONS
	rss() {
		gpugen -n 4 -g 4 -H "$1" -S 7 |
			/usr/bin/time -f %M gpuagg -i - --by gpu 2>&1 >/dev/null |
			tail -1
	}
	small=$(rss 200)
	big=$(rss 2000)
	[ "$big" -lt $((small + 2048)) ] ||
		fail "memory grows with rows: ${small} KiB -> ${big} KiB"
fi
echo ok
