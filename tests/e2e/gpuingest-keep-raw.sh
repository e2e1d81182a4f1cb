#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuingest --keep-raw: raw samples older than the duration are deleted,
# whole hours once rolled up, and every aggregate and bill at the default
# threshold over whole hours keeps its bytes; what needs the deleted
# samples refuses; a late sample before the horizon is rejected; with a
# lake only exported days go; a second pass changes nothing.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuagg gpubill gpureport gpuexport sqlite3
cd "$T" || exit 1
gpugen -n 3 -g 2 -s 2026-11-01 -H 144 -S 7 -i 300 -j jobs.csv -o s.csv ||
	fail gpugen
gpuingest -q -d w.db -j jobs.csv s.csv >/dev/null || fail gpuingest
cp w.db lake.db || fail "cannot copy the warehouse"

# The samples end before 2026-11-07; the late load adds some after.
outputs() { # $1: warehouse, $2: output prefix
	for p in hour day month; do
		for b in node user job project; do
			gpuagg -d "$1" --period "$p" --by "$b" --to 2026-11-07 \
				>"$2.$p.$b" ||
				fail "gpuagg --period $p --by $b on $1"
		done
	done
	gpuagg -d "$1" --period day --by node,model \
		--from 2026-11-03T07:00 --to 2026-11-05T13:00 >"$2.range" ||
		fail "gpuagg over whole hours on $1"
	gpubill -d "$1" --by job --from 2026-11-01 --to 2026-11-07 >"$2.bill" ||
		fail "gpubill --by job on $1"
	gpubill -d "$1" --by user --from 2026-11-01 --to 2026-11-04 \
		>"$2.bill2" || fail "gpubill --by user on $1"
	# By hour and owner: usage_hourly_owner, kept as the facts go.
	gpuagg -d "$1" --period hour --by user,project --to 2026-11-07 \
		>"$2.hour.owner" || fail "gpuagg --by user,project on $1"
	gpureport -d "$1" --from 2026-11-01 --to 2026-11-07 -o "$2.page" ||
		fail "gpureport on $1"
}
facts() { sqlite3 "$1" "SELECT count(*) FROM gpu_usage_fact"; }
bytes() {
	sqlite3 "$1" "SELECT sum(pgsize) FROM dbstat WHERE name='gpu_usage_fact_rows'"
}

outputs w.db before
n0=$(facts w.db)
b0=$(bytes w.db)
s0=$(wc -c <w.db)

# Now 2026-11-06T10:20Z: keep 2 days, so the horizon is 2026-11-04T10:00Z.
GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -d w.db --keep-raw 2d \
	>out 2>err
check "--keep-raw alone exits 0" $?
[ ! -s out ]
check "--keep-raw alone prints no summary" $?
n1=$(facts w.db)
[ "$n1" -lt "$n0" ]
check "the fact count dropped ($n0 -> $n1)" $?
[ "$(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact
 WHERE ts_ms < 1793786400000")" -eq 0 ] &&
	[ "$(sqlite3 w.db "SELECT min(ts_ms) FROM gpu_usage_fact")" \
		-eq 1793786400000 ]
check "every sample before the horizon is gone, none after it" $?
grep -qx "gpuingest: keep-raw: deleted $((n0 - n1)) samples of 82 hours before 2026-11-04T10:00:00Z" err
check "the deletion is reported on stderr" $?
[ "$(sqlite3 w.db "SELECT horizon_ms FROM retention")" = 1793786400000 ] &&
	[ "$(sqlite3 w.db "SELECT purged FROM ingest_log
 WHERE source = '--keep-raw'")" -eq $((n0 - n1)) ]
check "the horizon and the count are recorded" $?
outputs w.db after
same_outputs before after
check "aggregates and bills keep their bytes" $?

b1=$(bytes w.db)
s1=$(wc -c <w.db)
[ "$b1" -lt "$b0" ]
check "the fact table's pages shrink ($b0 -> $b1 bytes)" $?
echo "note: file $s0 -> $s1 bytes (freed pages stay in the file)"

gpuagg -d w.db --by usage_category >/dev/null 2>err
[ $? -eq 1 ] && grep -qx "gpuagg: grouping by usage_category needs raw samples, deleted before 2026-11-04T10:00:00Z (gpuingest --keep-raw)" err
check "usage_category over the deleted range refuses, exit 1" $?
gpuagg -d w.db --by usage_category --from 2026-11-04T10:00 >/dev/null
check "usage_category after the horizon answers" $?
gpubill -d w.db --by job --from 2026-11-01 --to 2026-11-07 \
	--mem-threshold-gb 8 >/dev/null 2>err
[ $? -eq 1 ] && grep -q "memory-overage threshold other than the default needs raw samples" err
check "another memory threshold over the deleted range refuses" $?
gpuagg -d w.db --from 2026-11-02T10:30 >/dev/null 2>err
[ $? -eq 1 ] && grep -q "starts or ends inside an hour needs raw samples" err
check "a partial hour before the horizon refuses" $?

# A late sample before the horizon, among new ones: rejected, named.
late_csv s.csv >late.csv
gpuingest -q -d w.db late.csv >/dev/null
check "a load with a late sample succeeds" $?
[ "$(sqlite3 w.db "SELECT line || ' ' || reason FROM rejects")" = \
	"2 timestamp before the raw-sample horizon 2026-11-04T10:00:00Z (gpuingest --keep-raw)" ]
check "the late sample is rejected with the horizon" $?
[ "$(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact
 WHERE ts_ms < 1793786400000")" -eq 0 ]
check "the late sample was not stored" $?
outputs w.db late
same_outputs before late
check "aggregates and bills are unchanged by the late load" $?

n2=$(facts w.db)
GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -q -d w.db --keep-raw 2d \
	--summary json >sum.json || fail "second --keep-raw"
[ "$(facts w.db)" -eq "$n2" ] &&
	grep -q '"keep_raw":{"deleted":0,"hours":0,"horizon":"2026-11-04T10:00:00Z","kept_hours":0}' sum.json &&
	[ "$(sqlite3 w.db "SELECT count(*) FROM ingest_log
 WHERE source = '--keep-raw'")" -eq 1 ]
check "a second --keep-raw is a no-op" $?
GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -q -d w.db --keep-raw 4d ||
	fail "--keep-raw 4d"
[ "$(sqlite3 w.db "SELECT horizon_ms FROM retention")" = 1793786400000 ]
check "a longer --keep-raw never moves the horizon back" $?

# A warehouse with a lake: days 1-3 exported, so only they may go.
gpuexport -d lake.db --lake "$T/lake" -t gpu_usage_fact \
	--from 2026-11-01 --to 2026-11-04 >/dev/null || fail gpuexport
GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -d lake.db --keep-raw 1d \
	2>err
check "--keep-raw with a lake exits 0" $?
[ "$(sqlite3 lake.db "SELECT min(ts_ms) FROM gpu_usage_fact")" \
	-eq 1793750400000 ]
check "only the exported days are deleted" $?
grep -qx "gpuingest: warning: keep-raw: kept 24 hours of samples before 2026-11-05T00:00:00Z: day 2026-11-04 is not exported to the lake '$T/lake', or changed since (run gpuexport)" err
check "the days kept are named with the reason" $?
outputs lake.db lakeout
same_outputs before lakeout
check "aggregates and bills of the lake warehouse keep their bytes" $?
gpuexport -d lake.db --lake "$T/lake" -t gpu_usage_fact \
	--from 2026-11-01 --to 2026-11-07 >/dev/null 2>err
[ $? -eq 1 ] && grep -q "cannot export gpu_usage_fact before 2026-11-04" err
check "gpuexport refuses to rewrite deleted days" $?
gpuexport -d lake.db --lake "$T/lake" -t gpu_usage_fact >/dev/null ||
	fail "incremental gpuexport"
GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -q -d lake.db --keep-raw 1d ||
	fail "--keep-raw after the export"
[ "$(sqlite3 lake.db "SELECT min(ts_ms) FROM gpu_usage_fact")" \
	-eq 1793836800000 ]
check "once exported, the other days go too" $?

[ "$(sqlite3 w.db "PRAGMA integrity_check")" = ok ] &&
	[ "$(sqlite3 lake.db "PRAGMA integrity_check")" = ok ]
check "both warehouses pass the integrity check" $?
exit "$failed"
