#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuagg, gpubill and gpureport read the rollups straight from their
# tables' pages (gpu/pages.h) and print, byte for byte, what they print
# when every rollup row goes through a statement (GPUUSAGE_PAGES=0): every
# period and grouping, ranges with edge hours, stale (dirty) hours, and a
# rollup value of an unexpected type (the read goes on by statement).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuagg gpubill gpureport sqlite3
cd "$T" || exit 1
gpugen -n 4 -g 4 -s 2026-10-30T00:00 -H 80 -S 21 -i 300 -j jobs.csv \
	-o s.csv || fail gpugen
gpugen -n 1 -g 2 -s 2026-10-30T00:00 -H 80 -S 22 -i 600 \
	--mig 3g.40gb,4g.40gb -o mig.csv || fail "gpugen --mig"
gpuingest -q -d w.db -j jobs.csv s.csv mig.csv >/dev/null || fail gpuingest

# outputs TAG: every query, both ways, into TAG.1 (pages) and TAG.0.
outputs() {
	for m in 1 0; do
		{
			for p in hour day week month; do
				for b in node gpu job user project model \
					user,project node,model; do
					GPUUSAGE_PAGES=$m gpuagg -d w.db \
						--period "$p" --by "$b" ||
						echo "gpuagg $p $b failed"
				done
			done
			GPUUSAGE_PAGES=$m gpuagg -d w.db --period day \
				--by node,job --from 2026-10-30T05:30 \
				--to 2026-11-01T17:10 -f json ||
				echo "gpuagg range failed"
			GPUUSAGE_PAGES=$m gpubill -d w.db --by job \
				--month 2026-10 || echo "gpubill failed"
			GPUUSAGE_PAGES=$m gpubill -d w.db --by user \
				--from 2026-10-31 --to 2026-11-02 ||
				echo "gpubill range failed"
			GPUUSAGE_PAGES=$m gpuagg -d w.db -f prometheus ||
				echo "gpuagg -f prometheus failed"
		} >"$1.$m" 2>&1
		GPUUSAGE_PAGES=$m gpureport -d w.db --from 2026-10-30 \
			--to 2026-11-03 -o "$1.page.$m" ||
			echo "gpureport failed" >>"$1.$m"
	done
	! grep -q failed "$1.1" "$1.0"
	check "$1: every query ran" $?
	cmp -s "$1.1" "$1.0" && cmp -s "$1.page.1" "$1.page.0"
	check "$1: pages and statements print the same" $?
}
outputs fresh
[ "$(wc -l <fresh.1)" -gt 1000 ]
check "fresh: the queries printed their rows" $?

# Stale hours: read from the facts, the rest from the rollups' pages.
sqlite3 w.db <<'SQL' || fail "cannot make the rollups stale"
UPDATE gpu_usage_fact SET util_pct = 100 - util_pct
 WHERE ts_ms % 1800000 = 0 AND ts_ms < 1761955200000;
INSERT OR IGNORE INTO dirty_hours SELECT DISTINCT ts_ms / 3600000 * 3600000
 FROM gpu_usage_fact WHERE ts_ms % 1800000 = 0 AND ts_ms < 1761955200000;
SQL
outputs stale

# A rollup sum stored as text (no tool stores one): the pages give the
# rows before it, the statement the rest.
sqlite3 w.db "UPDATE usage_daily SET busy = 'x'
	WHERE day_ms = (SELECT min(day_ms) FROM usage_daily) AND node_id = 2" ||
	fail "cannot store the odd value"
# The same in the job rows that the queries by job read.
[ "$(sqlite3 w.db "UPDATE usage_daily_job SET busy = 'z'
	WHERE (day_ms, job_key) = (SELECT day_ms, job_key FROM usage_daily_job
		WHERE job_key > 0 ORDER BY day_ms DESC LIMIT 1);
	SELECT changes()")" -gt 0 ] || fail "cannot store the odd value"
sqlite3 w.db "UPDATE usage_hourly_node SET power_s = 'y'
	WHERE hour_ms = (SELECT min(hour_ms) + 7200000 FROM usage_hourly_node)" ||
	fail "cannot store the odd value"
outputs odd
exit "$failed"
