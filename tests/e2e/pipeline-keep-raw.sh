#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline with KEEP_RAW: after the run's last hour, gpuingest
# --keep-raw deletes the raw samples older than that (now being the
# pipeline's); the hourly aggregates and the bill keep their bytes. With
# PACK_RAW, gpuingest --pack-raw packs them instead, and gpu_usage_fact
# reads the same.
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup
need sqlite3
GPU_PIPELINE_NOW=2026-11-27T13:30:00Z
export GPU_PIPELINE_NOW
agg() {
	gpuagg --db "$GPUUSAGE_DB" --period hour --by node,job >"$T/$1" ||
		fail "gpuagg"
	gpubill --db "$GPUUSAGE_DB" --from 2026-11-01 --to 2026-11-27T13:00 \
		--by user >"$T/$1.bill" || fail "gpubill"
}

bash "$PIPELINE" --mode demo --backfill 2026-11-27T10 2026-11-27T12 \
	>/dev/null 2>"$T/err" || fail "backfill exited $?: $(cat "$T/err")"
agg before
n0=$(sqlite3 "$GPUUSAGE_DB" "SELECT count(*) FROM gpu_usage_fact")

# Keep one hour: the horizon is 2026-11-27T12:00 (1795780800000).
KEEP_RAW=1h bash "$PIPELINE" --mode demo --hour 2026-11-27T12 --force \
	>/dev/null 2>"$T/err" || fail "KEEP_RAW run exited $?: $(cat "$T/err")"
grep -q 'step keep-raw ok' "$LOG_DIR"/*.log || fail "no keep-raw step in the log"
[ "$(sqlite3 "$GPUUSAGE_DB" "SELECT min(ts_ms), count(*) < $n0 FROM
 gpu_usage_fact")" = "1795780800000|1" ] || fail "samples before 12:00 were kept"
[ "$(sqlite3 "$GPUUSAGE_DB" "SELECT horizon_ms FROM retention")" = \
	1795780800000 ] || fail "no horizon recorded"
agg after
cmp -s "$T/before" "$T/after" || fail "hourly aggregates changed"
cmp -s "$T/before.bill" "$T/after.bill" || fail "the bill changed"

# Pack what is older than 30 minutes: the hour 12:00 (13:30 less 30
# minutes, down to its hour); the samples read back as they were.
sqlite3 "$GPUUSAGE_DB" "SELECT * FROM gpu_usage_fact ORDER BY 1, 2, 3, 4" \
	>"$T/facts.before"
PACK_RAW=30m bash "$PIPELINE" --mode demo --hour 2026-11-27T12 --force \
	>/dev/null 2>"$T/err" || fail "PACK_RAW run exited $?: $(cat "$T/err")"
grep -q 'step pack-raw ok' "$LOG_DIR"/*.log || fail "no pack-raw step in the log"
[ "$(sqlite3 "$GPUUSAGE_DB" "SELECT count(*) FROM gpu_usage_fact_rows;
 SELECT sum(n) > 0 FROM gpu_usage_fact_packed")" = "0
1" ] || fail "the samples of 12:00 were not packed"
sqlite3 "$GPUUSAGE_DB" "SELECT * FROM gpu_usage_fact ORDER BY 1, 2, 3, 4" |
	cmp -s "$T/facts.before" - || fail "the packed samples read back otherwise"
agg packed
cmp -s "$T/before" "$T/packed" || fail "hourly aggregates changed (packed)"
cmp -s "$T/before.bill" "$T/packed.bill" || fail "the bill changed (packed)"
PACK_RAW=soon bash "$PIPELINE" --mode demo --hour 2026-11-27T12 --force \
	>/dev/null 2>"$T/err" && fail "PACK_RAW=soon was accepted"
grep -q "invalid PACK_RAW 'soon'" "$T/err" || fail "no message for PACK_RAW=soon"
echo "ok"
