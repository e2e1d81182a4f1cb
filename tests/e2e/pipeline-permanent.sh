#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline: permanent errors fail at once, without retries and without
# making folders: a missing warehouse folder, a bad configuration (a bad
# rate too, before the ingest), a missing warehouse that a step needs; -f
# (now -F) and bad option values are usage errors.
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

# A bad rate: exit 2 before the ingest (the demo warehouse is not made).
GPU_HOURLY_RATE=abc MODE=demo bash "$PIPELINE" --hour 2026-11-26T08 \
	>"$T/out" 2>"$T/err"
r=$?
[ "$r" -eq 2 ] || fail "bad rate exited $r, expected 2"
grep -q "configuration: gpubill: .*invalid rate 'abc'" "$T/err" ||
	fail "no rate message: $(cat "$T/err")"
[ ! -e "$GPUUSAGE_DB" ] || fail "a step ran before the bad rate was found"

# Bad option values: usage errors, with the synopsis.
for a in "-m nosuch" "-r x" "-r 21" "--retry-delay -1"; do
	# shellcheck disable=SC2086 # the option and its value
	bash "$PIPELINE" $a --hour 2026-11-26T08 >"$T/out" 2>"$T/err"
	r=$?
	[ "$r" -eq 2 ] || fail "$a exited $r, expected 2"
	grep -q "^Try 'gpu-pipeline --help'" "$T/err" ||
		fail "$a: no usage hint: $(cat "$T/err")"
done

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
