#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline: a failing step stops the run with a nonzero exit and a log
# line naming the step; a spool file gpuingest refuses lands in failed/; a
# transient failure is retried; the next run catches up the failed hour.
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup

mkdir -p "$SPOOL_DIR/incoming"
gpugen --nodes 2 --gpus-per-node 2 --seed 3 --start 2026-11-26T08:00 \
	--hours 1 -o "$T/good.csv" || fail "gpugen failed"
# Without its required util_pct column gpuingest refuses the whole file.
awk -F, -v OFS=, '{ $4 = ""; sub(/,,/, ","); print }' "$T/good.csv" >"$T/bad.csv"
head -n 1 "$T/bad.csv" | grep -q util_pct && fail "test set-up: util_pct still there"
cp "$T/good.csv" "$SPOOL_DIR/incoming/good.csv"
cp "$T/bad.csv" "$SPOOL_DIR/incoming/bad.csv"
# Files still being written are never claimed.
cp "$T/good.csv" "$SPOOL_DIR/incoming/late.csv.tmp"
cp "$T/good.csv" "$SPOOL_DIR/incoming/.late.csv"

bash "$PIPELINE" --hour 2026-11-26T08 >"$T/out1" 2>"$T/err1"
r=$?
[ "$r" -eq 1 ] || fail "run with a bad file exited $r, expected 1"
grep -q 'error: hour 2026-11-26T08 step ingest failed' "$T/err1" ||
	fail "no error naming the step on stderr: $(cat "$T/err1")"
grep -q "error: hour 2026-11-26T08 step ingest: 'bad.csv' failed: .*util_pct.*; moved to failed/" "$LOG_DIR"/*.log ||
	fail "no log line naming the step and file"
grep -q 'FAILED' "$T/out1" || fail "summary does not say FAILED: $(cat "$T/out1")"
[ -f "$SPOOL_DIR/failed/bad.csv" ] || fail "bad.csv not in failed/"
[ -f "$SPOOL_DIR/done/good.csv" ] || fail "good.csv not in done/"
[ -f "$SPOOL_DIR/incoming/late.csv.tmp" ] || fail "a .tmp file was claimed"
[ -f "$SPOOL_DIR/incoming/.late.csv" ] || fail "a dotfile was claimed"
[ ! -f "$STATE_DIR/done/2026-11-26T08" ] || fail "failed hour marked done"
[ "$(samples)" -eq 240 ] || fail "good.csv not in the warehouse ($(samples) samples)"

# A transient failure: gpuagg fails on its first call only, and a retry
# with back-off gets through. The wrapper calls the real gpuagg.
mkdir "$T/flaky"
real=$(command -v gpuagg)
cat >"$T/flaky/gpuagg" <<EOS
#!/bin/sh
if [ ! -e "$T/flaky/failed-once" ]; then
	: >"$T/flaky/failed-once"
	echo "gpuagg: simulated failure" >&2
	exit 1
fi
exec "$real" "\$@"
EOS
chmod +x "$T/flaky/gpuagg"
GPU_BIN_DIR=$T/flaky RETRIES=2 GPU_PIPELINE_NOW=2026-11-26T09:05 \
	bash "$PIPELINE" >"$T/out2" 2>"$T/err2" ||
	fail "catch-up run with a retry exited $?: $(cat "$T/err2")"
grep -q "warning: 'gpuagg' exited 1; retry 1 of 2 in 0s" "$T/err2" ||
	fail "no retry message: $(cat "$T/err2")"
grep -q 'simulated failure' "$LOG_DIR"/*.log || fail "tool message not in the log"
grep -q 'hour 2026-11-26T08: 1 of 1 hour(s) done' "$T/out2" ||
	fail "catch-up did not redo the failed hour: $(cat "$T/out2")"
[ -f "$STATE_DIR/done/2026-11-26T08" ] || fail "hour not marked after catch-up"
[ -f "$SPOOL_DIR/failed/bad.csv" ] || fail "bad.csv left failed/"

# A failing later step: the report cannot be written (its folder is a file).
: >"$T/notadir"
REPORT_PATH=$T/notadir/report.html bash "$PIPELINE" --hour 2026-11-26T10 \
	>"$T/out3" 2>"$T/err3"
r=$?
[ "$r" -eq 1 ] || fail "run with an unwritable report exited $r"
grep -q 'error: hour 2026-11-26T10 step report failed' "$T/err3" ||
	fail "no error naming the report step: $(cat "$T/err3")"
[ ! -f "$STATE_DIR/done/2026-11-26T10" ] || fail "hour with a failed report marked done"
echo "ok"
