#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline: a run killed with SIGKILL in the middle of its ingest step,
# then run again, leaves the warehouse complete and every spool file in
# done/ exactly once (none lost, none doubled).
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup
need setsid pgrep

# Six spool files, one hour each, 8 nodes x 8 GPUs at 30 s (7680 rows).
for h in 00 01 02 03 04 05; do
	gpugen --nodes 8 --gpus-per-node 8 --interval 30 --seed 7 \
		--start "2026-11-26T$h:00" --hours 1 -o "$T/in-$h.csv" ||
		fail "gpugen failed"
done
# The reference: the same files ingested directly into another warehouse.
gpuingest --db "$T/ref.db" --quiet "$T"/in-*.csv >/dev/null ||
	fail "reference ingest failed"
dump_ref=$(GPUUSAGE_DB=$T/ref.db dump) || fail "cannot dump the reference"

mkdir -p "$SPOOL_DIR/incoming"
cp "$T"/in-*.csv "$SPOOL_DIR/incoming/"

# Kill the whole process group (pipeline and gpuingest) with SIGKILL while
# a gpuingest runs and at least one file is through: mid-ingest-step. On a
# machine so fast that the poll never sees a gpuingest running, kill between
# two files instead, once three are through: still mid-step.
setsid bash "$PIPELINE" --hour 2026-11-26T05 >"$T/out1" 2>"$T/err1" &
pid=$!
killed=no
i=0
while [ "$i" -lt 3000 ] && kill -0 "$pid" 2>/dev/null; do
	d=$(count "$SPOOL_DIR/done")
	if { [ "$d" -ge 1 ] && pgrep -x -P "$pid" gpuingest >/dev/null 2>&1; } ||
		{ [ "$d" -ge 3 ] && [ "$(count "$SPOOL_DIR/processing")" -ge 1 ]; }; then
		kill -KILL "-$pid" 2>/dev/null && killed=yes
		break
	fi
	sleep 0.01
	i=$((i + 1))
done
wait "$pid" 2>/dev/null
[ "$killed" = yes ] || fail "never caught the run during ingest: $(cat "$T/err1")"
in_done=$(count "$SPOOL_DIR/done")
in_proc=$(count "$SPOOL_DIR/processing")
echo "killed with $in_done file(s) in done/, $in_proc in processing/"
[ "$in_done" -lt 6 ] || fail "the kill came after the ingest step"
[ ! -f "$STATE_DIR/done/2026-11-26T05" ] || fail "killed hour marked done"
[ $((in_done + in_proc + $(count "$SPOOL_DIR/incoming"))) -eq 6 ] ||
	fail "a spool file went missing after the kill"

# Wait for the killed gpuingest to be gone before the re-run (the lock
# would make the re-run exit, correctly, as "already running").
flock -w 20 "$STATE_DIR/lock" true || fail "lock still held after the kill"
bash "$PIPELINE" --hour 2026-11-26T05 >"$T/out2" 2>"$T/err2" ||
	fail "re-run exited $?: $(cat "$T/err2")"
grep -q 'left in processing/ by an interrupted run' "$T/err2" ||
	[ "$in_proc" -eq 0 ] || fail "re-run did not recover processing/"
[ -f "$STATE_DIR/done/2026-11-26T05" ] || fail "re-run did not mark the hour"
[ "$(count "$SPOOL_DIR/incoming")" -eq 0 ] || fail "files left in incoming/"
[ "$(count "$SPOOL_DIR/processing")" -eq 0 ] || fail "files left in processing/"
[ "$(count "$SPOOL_DIR/failed")" -eq 0 ] || fail "files in failed/"
[ "$(count "$SPOOL_DIR/done")" -eq 6 ] || fail "expected 6 files in done/, found $(count "$SPOOL_DIR/done")"
for h in 00 01 02 03 04 05; do
	[ -f "$SPOOL_DIR/done/in-$h.csv" ] || fail "in-$h.csv not in done/"
	cmp -s "$T/in-$h.csv" "$SPOOL_DIR/done/in-$h.csv" || fail "in-$h.csv changed"
done
[ "$(samples)" -eq $((6 * 7680)) ] || fail "warehouse holds $(samples) samples, expected $((6 * 7680))"
[ "$(dump)" = "$dump_ref" ] || fail "warehouse differs from the reference"
echo "ok"
