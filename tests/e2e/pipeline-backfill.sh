#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline: a 3-hour demo backfill processes every hour through every
# step, and running the same backfill again changes nothing.
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup

# 2 nodes x 4 GPUs at 60 s: 480 samples an hour.
bash "$PIPELINE" --mode demo --backfill 2026-11-27T10 2026-11-27T12 \
	>"$T/out1" 2>"$T/err1" || fail "backfill exited $?: $(cat "$T/err1")"
grep -q 'hour 2026-11-27T10\.\.2026-11-27T12: 3 of 3 hour(s) done, 0 skipped, rows 1440 ingested, 0 rejected, cost this month [0-9][0-9]*\.[0-9][0-9]' "$T/out1" ||
	fail "unexpected summary: $(cat "$T/out1")"
# Every hour is collected and ingested; the outputs (rollup, bill, report)
# are made once, after the run's last hour.
step_line() {
	grep -q "^20[0-9-]*T[0-9:]*Z gpu-pipeline\[[0-9]*\] info: hour 2026-11-27T$1 step $2 ok ([0-9]*\.[0-9][0-9][0-9] s)" \
		"$LOG_DIR"/*.log
}
for h in 10 11 12; do
	[ -f "$STATE_DIR/done/2026-11-27T$h" ] || fail "no done marker for hour $h"
	for s in collect ingest; do
		step_line "$h" "$s" || fail "no timed log line for step $s of hour $h"
	done
done
for s in refresh bill report; do
	step_line 12 "$s" || fail "no timed log line for step $s of hour 12"
	step_line 10 "$s" && fail "step $s ran for hour 10 too"
done
[ "$(count "$STATE_DIR/done")" -eq 3 ] || fail "expected 3 done markers"
[ "$(samples)" -eq 1440 ] || fail "warehouse holds $(samples) samples, expected 1440"
# Six spool files (samples and jobs per hour) went through to done/.
[ "$(count "$SPOOL_DIR/done")" -eq 6 ] || fail "expected 6 files in spool done/"
[ "$(count "$SPOOL_DIR/processing")" -eq 0 ] || fail "files left in processing/"
[ "$(count "$SPOOL_DIR/failed")" -eq 0 ] || fail "files in failed/"
[ -s "$REPORT_PATH" ] || fail "no report at $REPORT_PATH"
grep -qi '<html' "$REPORT_PATH" || fail "report is not HTML"
grep -q '^[^,]*,TOTAL,' "$BILL_PATH" || fail "bill has no TOTAL line"
# The summary's cost is the bill's month-to-date total.
total=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "total") t = i; next }
	$2 == "TOTAL" { print $t }' "$BILL_PATH")
grep -q "cost this month $total " "$T/out1" || fail "summary cost is not the bill total $total"

# Determinism: the demo hour regenerates byte for byte.
cp "$SPOOL_DIR/done/demo-2026-11-27T11.csv" "$T/h11.csv"
bash "$PIPELINE" --mode demo --hour 2026-11-27T11 --force >/dev/null 2>&1 ||
	fail "forced re-run of hour 11 failed"
for f in "$SPOOL_DIR"/done/*demo-2026-11-27T11.csv; do last=$f; done
cmp -s "$T/h11.csv" "$last" || fail "demo hour 11 did not regenerate identically"
echo "ok"
