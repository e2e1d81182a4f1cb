#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline: running the same backfill again leaves the warehouse as it
# was (byte for byte); --force redoes the hours and still changes no data.
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup

bash "$PIPELINE" --mode demo --backfill 2026-11-27T10 2026-11-27T12 \
	>/dev/null 2>"$T/err" || fail "first backfill exited $?: $(cat "$T/err")"
dump >"$T/dump1" || fail "cannot dump the warehouse"
[ -s "$T/dump1" ] || fail "empty dump"
sum1=$(cksum <"$GPUUSAGE_DB")
cp "$REPORT_PATH" "$T/report1"

bash "$PIPELINE" --mode demo --backfill 2026-11-27T10 2026-11-27T12 \
	>"$T/out2" 2>"$T/err" || fail "second backfill exited $?: $(cat "$T/err")"
grep -q 'nothing to do: 2026-11-27T10\.\.2026-11-27T12 already done' "$T/out2" ||
	fail "second backfill did not skip: $(cat "$T/out2")"
[ "$(cksum <"$GPUUSAGE_DB")" = "$sum1" ] || fail "warehouse file changed"
cmp -s "$REPORT_PATH" "$T/report1" || fail "report changed"
dump >"$T/dump2"
cmp -s "$T/dump1" "$T/dump2" || fail "warehouse dump changed"

# --force redoes every hour: each file is ingested again and finds every
# row unchanged.
bash "$PIPELINE" --mode demo --backfill 2026-11-27T10 2026-11-27T12 --force \
	>"$T/out3" 2>"$T/err" || fail "forced backfill exited $?: $(cat "$T/err")"
grep -q '3 of 3 hour(s) done' "$T/out3" || fail "forced backfill: $(cat "$T/out3")"
n=$(grep -c "ingested 'demo-2026-11-27T1[0-2].csv': read 480 inserted 0 updated 0 rejected 0" "$LOG_DIR"/*.log |
	awk -F: '{ s += $NF } END { print s }')
[ "$n" -eq 3 ] || fail "forced re-ingest was not all unchanged ($n of 3 lines)"
dump >"$T/dump3"
cmp -s "$T/dump1" "$T/dump3" || fail "warehouse dump changed after --force"
echo "ok"
