#!/bin/sh
# SPDX-License-Identifier: MIT
# gpureport without -o refuses a terminal (exit 2, before reading the
# warehouse) and writes the page to standard output when redirected.
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpureport
if ! command -v script >/dev/null 2>&1; then
	echo "skip: no 'script' to give gpureport a terminal"
	exit 77
fi
gpugen -n 1 -g 1 -s 2026-11-01 -H 1 -o "$T/s.csv" &&
	gpuingest -q -d "$T/w.db" "$T/s.csv" || exit 1

# script(1) runs the command on a pseudo-terminal; its exit status is the
# command's (-e).
script -qec "gpureport -d '$T/w.db' 2>'$T/err'" /dev/null >"$T/tty" </dev/null
check "a terminal is refused with exit 2" $(($? != 2))
grep -q "will not write HTML to a terminal" "$T/err"
check "the message says why" $?
grep -q "<html" "$T/tty"
check "no HTML on the terminal" $(($? == 0))
gpureport -d "$T/w.db" >"$T/page.html"
check "a redirect gets the page" $?
grep -q "<html" "$T/page.html"
check "the page is HTML" $?
exit $failed
