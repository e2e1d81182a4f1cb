#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline: permanent errors fail at once, without retries and without
# making folders: a missing warehouse folder, a bad configuration, a
# missing warehouse that a step needs; -f (now -F) is a usage error.
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup
RETRIES=3
RETRY_DELAY=30
export RETRIES RETRY_DELAY

# The warehouse's folder is missing: exit 1, nothing made.
GPUUSAGE_DB=$T/nosuch/wh.db STATE_DIR=$T/nosuch/state \
	LOG_DIR=$T/nosuch/state/log bash "$PIPELINE" --hour 2026-11-26T08 \
	>"$T/out" 2>"$T/err"
r=$?
[ "$r" -eq 1 ] || fail "missing warehouse folder exited $r, expected 1"
grep -q "warehouse folder '$T/nosuch' does not exist" "$T/err" ||
	fail "no message naming the folder: $(cat "$T/err")"
[ ! -e "$T/nosuch" ] || fail "the missing folder was made"

# A configuration with a bad value: exit 2 before any work.
echo 'MODE=nosuch' >"$T/bad.conf"
bash "$PIPELINE" -c "$T/bad.conf" --hour 2026-11-26T08 >"$T/out" 2>"$T/err"
r=$?
[ "$r" -eq 2 ] || fail "bad configuration exited $r, expected 2"
grep -q "invalid MODE 'nosuch'" "$T/err" || fail "no message: $(cat "$T/err")"

# -f is not force (it is --format in the tools): a usage error.
bash "$PIPELINE" -f --hour 2026-11-26T08 >"$T/out" 2>"$T/err"
r=$?
[ "$r" -eq 2 ] || fail "-f exited $r, expected 2"
grep -q "use -F or --force" "$T/err" || fail "no note on -F: $(cat "$T/err")"

# No warehouse for the refresh (spool mode, empty spool): no retry.
bash "$PIPELINE" --hour 2026-11-26T08 >"$T/out" 2>"$T/err"
r=$?
[ "$r" -eq 1 ] || fail "missing warehouse exited $r, expected 1"
grep -q 'retry' "$T/err" && fail "a permanent error was retried: $(cat "$T/err")"
grep -q "cannot open warehouse" "$T/err" || fail "no message: $(cat "$T/err")"
echo "ok: permanent errors fail at once"
exit 0
