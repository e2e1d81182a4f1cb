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

# exits WHAT RC PATTERN: the run just made (its status in $r, its
# standard error in $T/err) exited RC with a message matching PATTERN.
exits() {
	[ "$r" -eq "$2" ] || fail "$1 exited $r, expected $2"
	grep -q "$3" "$T/err" || fail "$1: no message: $(cat "$T/err")"
}

# The warehouse's folder is missing: exit 1, nothing made.
GPUUSAGE_DB=$T/nosuch/wh.db STATE_DIR=$T/nosuch/state \
	LOG_DIR=$T/nosuch/state/log bash "$PIPELINE" --hour 2026-11-26T08 \
	>"$T/out" 2>"$T/err"
r=$?
exits "missing warehouse folder" 1 "warehouse folder '$T/nosuch' does not exist"
[ ! -e "$T/nosuch" ] || fail "the missing folder was made"

# A configuration with a bad value: exit 2 before any work.
echo 'MODE=nosuch' >"$T/bad.conf"
bash "$PIPELINE" -c "$T/bad.conf" --hour 2026-11-26T08 >"$T/out" 2>"$T/err"
r=$?
exits "bad configuration" 2 "invalid MODE 'nosuch'"

# A bad rate: exit 2 before the ingest (the demo warehouse is not made).
GPU_HOURLY_RATE=abc MODE=demo bash "$PIPELINE" --hour 2026-11-26T08 \
	>"$T/out" 2>"$T/err"
r=$?
exits "bad rate" 2 "configuration: gpubill: .*invalid rate 'abc'"
[ ! -e "$GPUUSAGE_DB" ] || fail "a step ran before the bad rate was found"

# Bad option values: usage errors, with the synopsis.
for a in "-m nosuch" "-r x" "-r 21" "--retry-delay -1"; do
	# shellcheck disable=SC2086 # the option and its value
	bash "$PIPELINE" $a --hour 2026-11-26T08 >"$T/out" 2>"$T/err"
	r=$?
	exits "$a" 2 "^Try 'gpu-pipeline --help'"
done

# -f is not force (it is --format in the tools): a usage error.
bash "$PIPELINE" -f --hour 2026-11-26T08 >"$T/out" 2>"$T/err"
r=$?
exits "-f" 2 "use -F or --force"

# No warehouse for the refresh (spool mode, empty spool): no retry.
bash "$PIPELINE" --hour 2026-11-26T08 >"$T/out" 2>"$T/err"
r=$?
exits "missing warehouse" 1 "cannot open warehouse"
grep -q 'retry' "$T/err" && fail "a permanent error was retried: $(cat "$T/err")"
echo "ok: permanent errors fail at once"
exit 0
