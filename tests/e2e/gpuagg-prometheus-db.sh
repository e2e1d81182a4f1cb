#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuagg -f prometheus on a warehouse: the same series as on the CSV the
# warehouse was loaded from (counters to the last printed decimal, as
# they sum in another order), gauges only for the series with samples in
# the latest hour, and memory that does not grow with the hours kept
# (the query is folded hour by hour into the label sets).
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpuagg gpugen gpuingest
cd "$T" || exit 1

# Three nodes for 30 hours, a fourth ("gone") for the first 5 only.
gpugen -n 3 -g 2 -H 30 -i 600 -S 11 -j jobs.csv >a.csv
gpugen -n 1 -g 2 -H 5 -i 600 -S 12 | sed 's/node001/gone/' >b.csv
cat a.csv >all.csv
tail -n +2 b.csv >>all.csv
gpuingest -q -d w.db -j jobs.csv a.csv b.csv || fail "gpuingest exited $?"

gpuagg --db w.db -f prometheus -b node,model >db.prom ||
	fail "gpuagg --db exited $?"
gpuagg --input all.csv -f prometheus -b node,model >in.prom ||
	fail "gpuagg --input exited $?"
[ "$(wc -l <db.prom)" -eq "$(wc -l <in.prom)" ]
check "warehouse and CSV give as many lines" $?
# Label values hold spaces: a sample line is its series, a space and the
# value (the last field).
paste db.prom in.prom | awk -F '\t' '
	function series(l) { sub(/ [^ ]*$/, "", l); return l }
	function value(l) { sub(/^.* /, "", l); return l + 0 }
	/^#/ { if ($1 != $2) { print "header " $1 " vs " $2; bad = 1 }; next }
	{ if (series($1) != series($2)) {
		print "series " series($1) " vs " series($2); bad = 1; next }
	  a = value($1); b = value($2); d = a - b; if (d < 0) d = -d
	  if (d > 0.0000011 * (1 + (a < 0 ? -a : a))) {
		print series($1) ": " a " vs " b; bad = 1 } }
	END { exit bad }'
check "warehouse and CSV give the same series and values" $?
# Against gpuagg's own tables: the counters are the whole range's sums,
# the gauge the latest hour's average (util percent / 100).
gpuagg --db w.db -b node,model >all.csv || fail "gpuagg exited $?"
gpuagg --db w.db -p hour -b node,model --from 2026-11-02T05:00 >last.csv ||
	fail "gpuagg exited $?"
awk -F, 'FNR == 1 { f++; next }
	f == 1 { secs[$1] = $4; kwh[$1] = $17 }
	f == 2 { util[$2] = $10 / 100 }
	f == 3 && /^gpuusage_gpu_seconds_total/ {
		match($0, /node="[^"]*"/); n = substr($0, RSTART + 6, RLENGTH - 7)
		v = $0; sub(/^.* /, "", v)
		if (v != secs[n]) { print n ": " v " GPU-s, not " secs[n]; bad = 1 }
		seen++ }
	f == 3 && /^gpuusage_energy_joules_total/ {
		match($0, /node="[^"]*"/); n = substr($0, RSTART + 6, RLENGTH - 7)
		v = $0; sub(/^.* /, "", v); d = v / 3600000 - kwh[n]
		if (d < 0) d = -d
		if (d > 0.000002) { print n ": " v " J, not " kwh[n] " kWh"; bad = 1 } }
	f == 3 && /^gpuusage_utilization_ratio/ {
		match($0, /node="[^"]*"/); n = substr($0, RSTART + 6, RLENGTH - 7)
		v = $0; sub(/^.* /, "", v); d = v - util[n]; if (d < 0) d = -d
		if (!(n in util) || d > 0.000002) {
			print n ": utilization " v ", not " util[n]; bad = 1 } }
	END { exit bad || seen != 4 }' all.csv last.csv db.prom
check "counters and gauges agree with gpuagg's tables" $?
grep -q '^gpuusage_gpu_seconds_total{node="gone",' db.prom
check "a node gone before the latest hour keeps its counters" $?
! grep -q '^gpuusage_utilization_ratio{node="gone",' db.prom
check "and has no gauge of the latest hour" $?
[ "$(grep -c '^gpuusage_utilization_ratio{' db.prom)" -eq 3 ]
check "the nodes of the latest hour have their gauge" $?

# Memory: ten times the hours, about the same peak (the whole range by
# hour and GPU is 160 GPUs x 300 hours = 48,000 groups). The sanitizer's
# quarantine would keep every freed hour: off.
if [ -x /usr/bin/time ]; then
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
	export ASAN_OPTIONS
	rss() {
		rm -f m.db*
		gpugen -n 20 -g 8 -H "$1" -i 3600 -S 13 >m.csv
		gpuingest -q -d m.db m.csv || fail "gpuingest exited $?"
		/usr/bin/time -f %M gpuagg --db m.db -f prometheus -b node \
			2>&1 >/dev/null | tail -n 1
	}
	small=$(rss 30)
	big=$(rss 300)
	[ "$big" -lt $((small + 4096)) ]
	check "memory does not grow with the hours (${small} -> ${big} KiB)" $?
fi
exit "$failed"
