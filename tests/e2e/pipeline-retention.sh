#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline's RETENTION_DAYS: done markers whose hours retention has
# passed are not reported as pending hours; a backfill of old hours keeps
# its markers (a second --backfill skips them); a spool file is aged from
# when it was filed in done/, not from when it was written.
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup
RETENTION_DAYS=1
export RETENTION_DAYS

# Two days of hours, their markers then made three days old.
MAX_CATCHUP_HOURS=48 GPU_PIPELINE_NOW=2026-11-28T00:10:00Z \
	bash "$PIPELINE" --mode demo -q --backfill 2026-11-26T00 2026-11-27T23 \
	>/dev/null 2>"$T/err" || fail "backfill exited $?: $(cat "$T/err")"
touch -d '3 days ago' "$STATE_DIR"/done/* "$STATE_DIR/since" 2>/dev/null
echo 2026-11-26T00 >"$STATE_DIR/since"
# A day later retention removes them; the next runs must not call their
# hours pending.
for now in 2026-11-29T00:10:00Z 2026-11-29T01:10:00Z; do
	MAX_CATCHUP_HOURS=24 GPU_PIPELINE_NOW=$now \
		bash "$PIPELINE" --mode demo -q >/dev/null 2>"$T/err" ||
		fail "run at $now exited $?: $(cat "$T/err")"
done
[ ! -e "$STATE_DIR/done/2026-11-26T00" ] || fail "an old marker was kept"
grep -q 'pending hour' "$T/err" &&
	fail "hours whose markers retention removed reported as pending: $(cat "$T/err")"

# A backfill of hours older than the cutoff keeps its markers.
for i in 1 2; do
	MAX_CATCHUP_HOURS=3 GPU_PIPELINE_NOW=2026-11-29T01:10:00Z \
		bash "$PIPELINE" --mode demo -q \
		--backfill 2026-11-20T00 2026-11-20T01 >"$T/out$i" 2>"$T/err" ||
		fail "old backfill $i exited $?: $(cat "$T/err")"
done
grep -q 'nothing to do' "$T/out2" ||
	fail "the second backfill redid its hours: $(cat "$T/out2")"

# A late file written days ago stays in done/ after it is ingested.
gpugen -n 1 -g 1 -s 2026-11-29T01:00 -H 1 -S 3 -o "$SPOOL_DIR/incoming/late.csv" ||
	fail "gpugen exited $?"
touch -d '5 days ago' "$SPOOL_DIR/incoming/late.csv"
GPU_PIPELINE_NOW=2026-11-29T02:10:00Z bash "$PIPELINE" -q --hour 2026-11-29T01 \
	>/dev/null 2>"$T/err" || fail "spool run exited $?: $(cat "$T/err")"
[ -f "$SPOOL_DIR/done/late.csv" ] ||
	fail "a file filed in done/ this run was deleted by retention"
echo "ok: retention removes old markers quietly, keeps new ones and new files"
