#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuingest --pack-raw: the samples older than the duration are packed, a
# GPU-hour (or slice-hour) to a row, and gpu_usage_fact reads back every
# one of them bit for bit: values, types, derived columns. Aggregates and
# bills keep their bytes, and so do the ones that read samples (usage
# category, another memory threshold, hours cut in part, --scan), as does a lake
# export. What cannot be stored exactly stays as rows. A late sample
# before the horizon is rejected; writes to a packed sample through the
# view are refused; --keep-raw deletes packed samples; a dry run and a
# second pass change nothing.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuagg gpubill gpureport gpuexport sqlite3 md5sum
fx="$(cd "$(dirname "$0")/../fixtures/real" && pwd)" || exit 1
cd "$T" || exit 1

gpugen -n 3 -g 2 -s 2026-11-01 -H 144 -S 7 -i 300 -j jobs.csv -o s.csv ||
	fail gpugen
# Slices on a fourth node.
gpugen -n 4 -g 2 -s 2026-11-01 -H 144 -S 8 -i 600 \
	--mig 3g.40gb,2g.20gb,1g.10gb -o mig4.csv || fail "gpugen --mig"
awk -F, 'NR == 1 || $2 == "node004"' mig4.csv >mig.csv
# Values a block cannot hold exactly: a utilization with four decimals
# (node001 GPU 0, 2026-11-02T05); a power reading missing in part of an
# hour is held (its NULLs are coded), as is one missing in all of it.
awk -F, -v OFS=, '
	NR > 1 && /^2026-11-02T05:.*,node001,0,/ { $4 = $4 + 0.0625 }
	NR > 1 && /^2026-11-02T06:[0-2].*,node002,1,/ { $11 = "" }
	NR > 1 && /^2026-11-02T07:.*,node003,0,/ { $11 = "" }
	1' s.csv >odd.csv
gpuingest -q -d w.db -j jobs.csv odd.csv mig.csv >/dev/null || fail gpuingest
cp w.db plain.db || fail "cannot copy the warehouse"
cp w.db keep.db || fail "cannot copy the warehouse"

# dump DB: every column of every sample, doubles to the last bit.
dump() {
	sqlite3 "$1" "SELECT ts_ms, node_id, gpu, quote(mig),
		printf('%!.17g', util_pct), typeof(util_pct), mem_used_mib,
		typeof(mem_used_mib), quote(mem_total_mib), quote(job_key),
		quote(user_key), quote(project_key), quote(model_key),
		interval_s, ingest_id, printf('%!.17g', power_w),
		typeof(power_w), printf('%!.17g', temp_c), typeof(temp_c),
		quote(job_src), quote(profile_key), quote(share28),
		printf('%!.17g', mem_util_pct), usage_category, allocated,
		quote(job_source)
		FROM gpu_usage_fact ORDER BY ts_ms, node_id, gpu, mig"
}
outputs() { # $1: warehouse, $2: output prefix
	for p in hour day month; do
		for b in node user job gpu; do
			gpuagg -d "$1" --period "$p" --by "$b" --to 2026-11-07 \
				>"$2.$p.$b" ||
				fail "gpuagg --period $p --by $b on $1"
		done
	done
	gpuagg -d "$1" --by usage_category,node >"$2.cat" ||
		fail "gpuagg --by usage_category on $1"
	gpuagg -d "$1" --scan --period day --by job >"$2.scan" ||
		fail "gpuagg --scan on $1"
	gpuagg -d "$1" --period day --by node,model \
		--from 2026-11-02T10:30 --to 2026-11-05T13:20 >"$2.part" ||
		fail "gpuagg over part hours on $1"
	gpubill -d "$1" --by job --from 2026-11-01 --to 2026-11-07 >"$2.bill" ||
		fail "gpubill --by job on $1"
	gpubill -d "$1" --by user --from 2026-11-01 --to 2026-11-07 \
		--mem-threshold-gb 8 >"$2.bill8" ||
		fail "gpubill --mem-threshold-gb 8 on $1"
	gpureport -d "$1" --from 2026-11-01 --to 2026-11-07 -o "$2.page" ||
		fail "gpureport on $1"
}
rows() { sqlite3 "$1" "SELECT count(*) FROM gpu_usage_fact_rows"; }
# reads_packed DB: 1 when the view gpu_usage_fact reads packed samples.
reads_packed() {
	sqlite3 "$1" "SELECT instr(sql, 'gpu_usage_fact_packed') > 0
		FROM sqlite_schema WHERE name = 'gpu_usage_fact'"
}
[ "$(reads_packed w.db)" -eq 0 ] &&
	[ "$(sqlite3 w.db "SELECT count(*) FROM sqlite_schema
	 WHERE type = 'trigger' AND tbl_name = 'gpu_usage_fact'")" -eq 3 ]
check "before a sample is packed, the view reads the stored rows alone" $?

dump w.db >before.dump
outputs w.db before
n=$(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact")
# Now 2026-11-06T10:20Z: pack 2 days, so the horizon is 2026-11-04T10:00Z.
horizon=1793786400000
before_h=$(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact_rows
 WHERE ts_ms < $horizon")

GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -d w.db --pack-raw 2d --dry-run \
	>/dev/null 2>err
check "--pack-raw --dry-run exits 0" $?
[ "$(rows w.db)" -eq "$n" ] &&
	[ "$(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact_packed")" -eq 0 ]
check "a dry run packs nothing" $?
[ "$(reads_packed w.db)" -eq 0 ]
check "a dry run leaves the view as it was" $?

GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -d w.db --pack-raw 2d \
	--summary json >sum.json 2>err
check "--pack-raw alone exits 0" $?
[ "$(reads_packed w.db)" -eq 1 ]
check "the first packing pass makes the view read the packed samples" $?
kept=$(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact_rows
 WHERE ts_ms < $horizon")
packed=$(sqlite3 w.db "SELECT sum(n) FROM gpu_usage_fact_packed")
[ "$kept" -eq 12 ] && [ "$((kept + packed))" -eq "$before_h" ]
check "all but one GPU-hour's 12 samples before the horizon are packed ($packed, $kept)" $?
[ "$(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact_packed
 WHERE hour_ms >= $horizon")" -eq 0 ] &&
	[ "$(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact_rows
 WHERE ts_ms >= $horizon")" -eq $((n - before_h)) ]
check "no sample after the horizon is packed" $?
[ "$(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact_packed
 WHERE nulls != 0")" -gt 0 ] &&
	[ "$(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact_packed
 WHERE power_b IS NULL")" -gt 0 ]
check "blocks with a column NULL in part and in all of the hour" $?
grep -qx "gpuingest: pack-raw: packed $packed samples of 82 hours before 2026-11-04T10:00:00Z into $(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact_packed") rows" err &&
	grep -q "pack-raw: kept 12 samples as rows: a reading with more than 3 decimals" err
check "the packing is reported on stderr" $?
grep -q "\"pack_raw\":{\"packed\":$packed,\"blocks\":[0-9]*,\"kept\":12,\"hours\":82,\"horizon\":\"2026-11-04T10:00:00Z\"}" sum.json
check "the json summary counts the pass" $?
[ "$(sqlite3 w.db "SELECT horizon_ms FROM retention
 WHERE tbl = 'gpu_usage_fact_packed'")" = $horizon ] &&
	[ "$(sqlite3 w.db "SELECT packed FROM ingest_log
 WHERE source = '--pack-raw'")" -eq "$packed" ]
check "the horizon and the count are recorded" $?

dump w.db >after.dump
cmp -s before.dump after.dump
check "gpu_usage_fact reads every sample back bit for bit" $?
outputs w.db after
same_outputs before after
check "aggregates, bills and the report keep their bytes" $?
[ "$(sqlite3 w.db "SELECT count(*) FROM gpu_usage_fact
 WHERE ts_ms >= 1793602800000 AND ts_ms < 1793606400000 AND node_id = 1")" -eq 24 ]
check "a time range over the view finds packed samples" $?

# Writes through the view to a packed sample are refused.
for sql in "UPDATE gpu_usage_fact SET util_pct = 1 WHERE ts_ms = 1793491200000" \
	"DELETE FROM gpu_usage_fact WHERE ts_ms = 1793491200000" \
	"INSERT INTO gpu_usage_fact(ts_ms, node_id, gpu, util_pct,
 mem_used_mib, interval_s, ingest_id) VALUES(1793491230000, 1, 0, 5, 5,
 300, 1)"; do
	sqlite3 w.db "$sql" 2>err
	[ $? -ne 0 ] && grep -q "hour is packed (gpuingest --pack-raw)" err
	check "the view refuses: ${sql%% *}" $?
done
dump w.db | cmp -s before.dump -
check "the refused writes changed nothing" $?

# A late sample before the horizon, among new ones: rejected, named.
late_csv s.csv >late.csv
gpuingest -q -d w.db late.csv >/dev/null
check "a load with a late sample succeeds" $?
[ "$(sqlite3 w.db "SELECT line || ' ' || reason FROM rejects")" = \
	"2 timestamp before the raw-sample horizon 2026-11-04T10:00:00Z (gpuingest --pack-raw)" ]
check "the late sample is rejected with the packed horizon" $?

GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -d w.db --pack-raw 2d \
	>/dev/null 2>err
check "a second pass exits 0" $?
grep -qx "gpuingest: pack-raw: nothing to pack: the samples before 2026-11-04T10:00:00Z are final already" err &&
	[ "$(sqlite3 w.db "SELECT sum(n) FROM gpu_usage_fact_packed")" -eq "$packed" ]
check "a second pass packs nothing" $?

# The lake: the packed days export to the same data files.
files() {
	find "$1" -name '*.parquet' | while read -r f; do
		printf '%s %s\n' "$(basename "$(dirname "$f")")" \
			"$(md5sum <"$f" | cut -d' ' -f1)"
	done | sort
}
cp keep.db lake.db || fail "cannot copy the warehouse"
GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -q -d lake.db --pack-raw 2d ||
	fail "--pack-raw on lake.db"
for db in plain lake; do
	gpuexport -d $db.db -l $db.lake -t gpu_usage_fact \
		--from 2026-11-01 --to 2026-11-07 >/dev/null 2>err ||
		fail "gpuexport of $db.db: $(cat err)"
done
files plain.lake >plain.files
files lake.lake >lake.files
[ -s plain.files ] && cmp -s plain.files lake.files
check "the export of packed days writes the same data files" $?

# --keep-raw deletes packed samples as stored ones.
GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -d keep.db --pack-raw 2d -q ||
	fail "--pack-raw on keep.db"
GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -d keep.db --keep-raw 4d \
	>/dev/null 2>err
check "--keep-raw after --pack-raw exits 0" $?
del=$(sqlite3 keep.db "SELECT purged FROM ingest_log WHERE source = '--keep-raw'")
[ "$(sqlite3 keep.db "SELECT count(*) FROM gpu_usage_fact
 WHERE ts_ms < 1793613600000")" -eq 0 ] &&
	[ "$(sqlite3 keep.db "SELECT count(*) FROM gpu_usage_fact")" -eq \
		$((n - del)) ] &&
	[ "$(sqlite3 keep.db "SELECT count(*) FROM gpu_usage_fact_packed
 WHERE hour_ms < 1793613600000")" -eq 0 ]
check "--keep-raw deletes the packed samples before its horizon ($del)" $?
gpuagg -d keep.db --by usage_category --from 2026-11-02T09:00 >/dev/null 2>err
[ $? -eq 1 ] && grep -q "needs raw samples, deleted before 2026-11-02T10:00:00Z" err
check "what needs deleted samples refuses, naming the deletion" $?
gpuagg -d keep.db --by usage_category,node --from 2026-11-03 \
	--to 2026-11-05 >keep.cat &&
	gpuagg -d plain.db --by usage_category,node --from 2026-11-03 \
		--to 2026-11-05 >plain.cat && cmp -s keep.cat plain.cat
check "what needs packed samples after it answers as before" $?
# A job record that names another owner for packed samples (which carry
# none): their hours' rollups are rebuilt from the packed samples, as
# from stored ones.
cut -d, -f1-7,10- s.csv >noown.csv
gpuingest -q -d own.db -j jobs.csv noown.csv >/dev/null ||
	fail "gpuingest of samples without owners"
cp own.db ownrows.db || fail "cannot copy the warehouse"
GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -q -d own.db --pack-raw 2d ||
	fail "--pack-raw on own.db"
sed 's/^7757364,bob,/7757364,zed,/' jobs.csv >jobs2.csv
for db in own ownrows; do
	gpuingest -q -d $db.db -j jobs2.csv >/dev/null ||
		fail "the changed job record on $db.db"
	gpuagg -d $db.db --period day --by user,project >$db.user ||
		fail "gpuagg --by user on $db.db"
	gpuagg -d $db.db --by usage_category,user >$db.cat ||
		fail "gpuagg --by usage_category,user on $db.db"
done
grep -q '^2026-11-01,zed,' own.user && cmp -s own.user ownrows.user &&
	cmp -s own.cat ownrows.cat
check "a job's new owner reaches the rollups of its packed hours" $?

# Real readings: a dcgm-exporter scrape and nvidia-smi's queries.
gpuingest -q -d real.db --at 2026-11-02T01:00:00Z \
	"$fx/dcgm-exporter/issue363-rtx-a5000-hostname-driver-label.prom" \
	>/dev/null || fail "gpuingest of the dcgm-exporter fixture"
gpuingest -q -d real.db -n gpu01 \
	"$fx/nvidia-smi/aau-aicloud-query-gpu-v100-5s.csv" >/dev/null ||
	fail "gpuingest of the nvidia-smi fixture"
gpuingest -q -d real.db -n dsw-753014 --at 2026-06-21T16:11:49Z \
	"$fx/nvidia-smi/h200-8gpu-query-gpu-before.csv" >/dev/null ||
	fail "gpuingest of the H200 fixture"
dump real.db >real.before
GPUUSAGE_NOW=2026-11-06T10:20:00Z gpuingest -q -d real.db --pack-raw 1d \
	--summary json >real.json || fail "--pack-raw on the fixtures"
dump real.db >real.after
[ "$(rows real.db)" -eq 0 ] && grep -q '"kept":0,' real.json &&
	cmp -s real.before real.after
check "the real fixtures pack whole and read back bit for bit" $?

[ "$(sqlite3 w.db "PRAGMA integrity_check")" = ok ]
check "the packed warehouse passes the integrity check" $?
exit "$failed"
