#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline: without --hour or --backfill a run processes the last
# complete hour, and a later run catches up every hour missed in between;
# a START_HOUR still to come leaves nothing to do.
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup
export MODE=demo

GPU_PIPELINE_NOW=2026-11-27T12:05 bash "$PIPELINE" >"$T/out1" 2>"$T/err1" ||
	fail "first run exited $?: $(cat "$T/err1")"
grep -q 'hour 2026-11-27T11: 1 of 1 hour(s) done' "$T/out1" || fail "first run: $(cat "$T/out1")"
# Log names carry the start second and the PID, which need not sort in
# the order of the runs: keep each run's log apart.
log1=$(find "$LOG_DIR" -name '*.log')
# Cron missed two runs; the next one does 12, 13 and 14, oldest first.
GPU_PIPELINE_NOW=2026-11-27T15:05 bash "$PIPELINE" >"$T/out2" 2>"$T/err2" ||
	fail "catch-up run exited $?: $(cat "$T/err2")"
grep -q 'hour 2026-11-27T12\.\.2026-11-27T14: 3 of 3 hour(s) done, 1 skipped' "$T/out2" ||
	fail "catch-up run: $(cat "$T/out2")"
log2=$(find "$LOG_DIR" -name '*.log' ! -path "$log1")
grep -h 'hour 2026-11-27T1[0-9] begin' "$log1" "$log2" | sed 's/.*hour \([^ ]*\) begin/\1/' >"$T/order"
printf '%s\n' 2026-11-27T11 2026-11-27T12 2026-11-27T13 2026-11-27T14 | cmp -s - "$T/order" ||
	fail "hours processed out of order: $(cat "$T/order")"
GPU_PIPELINE_NOW=2026-11-27T15:35 bash "$PIPELINE" >"$T/out3" 2>/dev/null ||
	fail "idle run failed"
grep -q 'nothing to do: 2026-11-27T11\.\.2026-11-27T14 already done' "$T/out3" ||
	fail "idle run: $(cat "$T/out3")"
[ "$(samples)" -eq $((4 * 480)) ] || fail "warehouse holds $(samples) samples"
# A START_HOUR still to come: nothing to do, said as such (not as a
# reversed range of hours "already done").
START_HOUR=2026-11-28T00 GPU_PIPELINE_NOW=2026-11-27T15:40 bash "$PIPELINE" \
	>"$T/out4" 2>/dev/null || fail "run before START_HOUR failed"
grep -q 'nothing to do: catch-up starts at 2026-11-28T00, after the last complete hour 2026-11-27T14' "$T/out4" ||
	fail "run before START_HOUR: $(cat "$T/out4")"
[ "$(samples)" -eq $((4 * 480)) ] || fail "run before START_HOUR loaded samples"
# Usage errors exit 2.
bash "$PIPELINE" --hour 2026-11-27T15:30 >/dev/null 2>&1
[ $? -eq 2 ] || fail "an hour off the hour is not a usage error"
bash "$PIPELINE" --no-such-option >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown option is not a usage error"
echo "ok"
