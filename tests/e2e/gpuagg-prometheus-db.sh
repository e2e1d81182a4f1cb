#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuagg -f prometheus on a warehouse: the same series as on the CSV the
# warehouse was loaded from (counters to the last printed decimal, as
# they sum in another order), gauges only for the series with samples in
# the latest hour, counters that never decrease from one hour to the
# next (across midnight, and when late samples of an earlier day come),
# counters read from the day rows, and memory that does not grow with the
# hours kept, from the warehouse or from a CSV.
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

# Counters hour by hour, the --to of each run an hour later, over
# midnight; between two runs, the samples of "gone" (the first day's
# first 5 hours) arrive late. Values compare as decimals, exactly.
gpuingest -q -d h.db -j jobs.csv a.csv || fail "gpuingest exited $?"
prev=
for to in 2026-11-01T21:00 2026-11-01T22:00 2026-11-01T23:00 2026-11-02T00:00 \
	2026-11-02T01:00 late 2026-11-02T02:00 2026-11-02T03:00; do
	if [ "$to" = late ]; then
		gpuingest -q -d h.db b.csv || fail "gpuingest exited $?"
		continue
	fi
	gpuagg --db h.db --to "$to" -f prometheus -b node,user,project,model \
		>"h-$to.prom" || fail "gpuagg --to $to exited $?"
	[ -z "$prev" ] && { prev=$to; continue; }
	awk '
	function ge(a, b,	ia, ib, fa, fb, i) {
		ia = a ""; fa = ""; ib = b ""; fb = ""
		if ((i = index(ia, ".")) > 0) { fa = substr(ia, i + 1); ia = substr(ia, 1, i - 1) }
		if ((i = index(ib, ".")) > 0) { fb = substr(ib, i + 1); ib = substr(ib, 1, i - 1) }
		if (length(ia) != length(ib)) return length(ia) > length(ib)
		if (ia != ib) return ("x" ia) > ("x" ib)
		while (length(fa) < 6) fa = fa "0"
		while (length(fb) < 6) fb = fb "0"
		return ("x" fa) >= ("x" fb)
	}
	/^#/ || !/_total[{ ]/ { next }
	{ v = $0; sub(/^.* /, "", v); k = $0; sub(/ [^ ]*$/, "", k) }
	FNR == NR { old[k] = v; next }
	{ new[k] = v }
	END {
		for (k in old) {
			if (!(k in new)) { print "gone: " k; bad = 1 }
			else if (!ge(new[k], old[k])) {
				print "decreased: " k ": " old[k] " -> " new[k]; bad = 1 }
		}
		exit bad
	}' "h-$prev.prom" "h-$to.prom" >cmp.out
	check "counters from --to $prev to $to do not decrease" $?
	[ -s cmp.out ] && head -n 5 cmp.out
	prev=$to
done
cmp -s h-2026-11-02T01:00.prom h-2026-11-02T02:00.prom
[ $? -eq 1 ]
check "the late samples and the next hour move the counters" $?
grep -q '^gpuusage_gpu_seconds_total{node="gone",' h-2026-11-02T02:00.prom
check "the late node has its counters" $?

# The counters read the whole days from usage_daily, not every hour
# row: an hour row of the first day changed by hand (a test's
# tampering) does not move them, though a query by hour sees it.
if command -v sqlite3 >/dev/null 2>&1; then
	cp w.db t.db
	sqlite3 t.db "UPDATE usage_hourly SET gpu_seconds = gpu_seconds + 1000
		WHERE hour_ms = (SELECT min(hour_ms) FROM usage_hourly)" ||
		fail "sqlite3 exited $?"
	gpuagg --db t.db -f prometheus -b node,model >t.prom ||
		fail "gpuagg exited $?"
	cmp -s db.prom t.prom
	check "counters come from the day rows" $?
	gpuagg --db w.db -p hour -b node,gpu --to 2026-11-01T01:00 >h0.csv &&
		gpuagg --db t.db -p hour -b node,gpu --to 2026-11-01T01:00 >t0.csv ||
		fail "gpuagg -p hour exited $?"
	! cmp -s h0.csv t0.csv
	check "while a query by hour reads the changed row" $?
else
	echo "skip: no sqlite3 shell: the read of day rows is not checked"
fi

# Memory: ten times the hours, about the same peak (the whole range by
# hour and GPU is 160 GPUs x 300 hours = 48,000 groups). The sanitizer's
# quarantine would keep every freed hour: off.
if [ -x /usr/bin/time ]; then
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
	export ASAN_OPTIONS
	# rss HOURS db|input: gpuagg's peak RSS in KiB over HOURS hours of
	# 160 GPUs, from a warehouse or from the CSV (where the latest
	# hour's groups replace the hour before's).
	rss() {
		rm -f m.db*
		gpugen -n 20 -g 8 -H "$1" -i 3600 -S 13 >m.csv
		if [ "$2" = db ]; then
			gpuingest -q -d m.db m.csv || fail "gpuingest exited $?"
			set -- --db m.db
		else
			set -- --input m.csv
		fi
		/usr/bin/time -f %M gpuagg "$@" -f prometheus -b node \
			2>&1 >/dev/null | tail -n 1
	}
	for from in db input; do
		small=$(rss 30 $from)
		big=$(rss 300 $from)
		[ "$big" -lt $((small + 4096)) ]
		check "memory does not grow with the hours, from $from (${small} -> ${big} KiB)" $?
	done
fi
exit "$failed"
