#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline with KEEP_RAW: after the run's last hour, gpuingest
# --keep-raw deletes the raw samples older than that (now being the
# pipeline's); the hourly aggregates and the bill keep their bytes.
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
echo "ok"
