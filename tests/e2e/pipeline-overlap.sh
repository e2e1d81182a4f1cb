#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline: of two overlapping starts one runs and the other exits 0
# saying "already running"; with --wait the second waits its turn.
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup

# The first run is slowed down (its gpuingest starts after a pause) so
# that the other starts surely overlap it.
mkdir "$T/slow"
real=$(command -v gpuingest)
printf '#!/bin/sh\nsleep 0.5\nexec "%s" "$@"\n' "$real" >"$T/slow/gpuingest"
chmod +x "$T/slow/gpuingest"
GPU_BIN_DIR=$T/slow bash "$PIPELINE" --mode demo \
	--backfill 2026-11-27T00 2026-11-27T03 >"$T/outa" 2>"$T/erra" &
a=$!
# Wait until the first run holds the lock: it logs "start" right after
# taking it. (Probing with flock here could make the first run itself find
# the lock held.)
i=0
until cat "$LOG_DIR"/*.log 2>/dev/null | grep -q ' info: start gpu-pipeline'; do
	i=$((i + 1))
	[ "$i" -lt 1000 ] || fail "first run never took the lock"
	kill -0 "$a" 2>/dev/null || fail "first run ended early: $(cat "$T/erra")"
	sleep 0.01
done
bash "$PIPELINE" --mode demo --backfill 2026-11-27T00 2026-11-27T03 \
	>"$T/outb" 2>"$T/errb"
rb=$?
bash "$PIPELINE" --mode demo --backfill 2026-11-27T00 2026-11-27T03 --wait \
	>"$T/outc" 2>"$T/errc" &
c=$!
wait "$a"
ra=$?
wait "$c"
rc=$?
[ "$ra" -eq 0 ] || fail "first run exited $ra: $(cat "$T/erra")"
grep -q '4 of 4 hour(s) done' "$T/outa" || fail "first run: $(cat "$T/outa")"
[ "$rb" -eq 0 ] || fail "overlapping run exited $rb"
grep -q 'already running' "$T/errb" || fail "no 'already running' message: $(cat "$T/errb")"
[ ! -s "$T/outb" ] || fail "overlapping run printed a summary: $(cat "$T/outb")"
grep -l 'already running' "$LOG_DIR"/*.log >/dev/null || fail "'already running' not logged"
[ "$rc" -eq 0 ] || fail "waiting run exited $rc: $(cat "$T/errc")"
grep -q 'nothing to do: 2026-11-27T00\.\.2026-11-27T03 already done' "$T/outc" ||
	fail "waiting run did not find the hours done: $(cat "$T/outc")"
[ "$(count "$STATE_DIR/done")" -eq 4 ] || fail "expected 4 done markers"
[ "$(samples)" -eq 1920 ] || fail "warehouse holds $(samples) samples, expected 1920"
echo "ok"
