#!/bin/sh
# SPDX-License-Identifier: MIT
# gpugen -o: the target is replaced only when the data are complete; a run
# killed half-way leaves the old target and at most a hidden temporary file.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen

# The names in $T/out: visible ones, then hidden ones.
visible() { (cd "$T/out" && echo *); }
hidden() { (cd "$T/out" && for f in .[!.]*; do [ -e "$f" ] && echo "$f"; done); }

mkdir "$T/out"
echo old >"$T/out/s.csv"
gpugen -n 2 -H 2 -S 5 -o "$T/out/s.csv" -j "$T/out/j.csv"
check "write -o and -j" $?
gpugen -n 2 -H 2 -S 5 | cmp -s - "$T/out/s.csv"
check "-o holds the bytes of standard output" $?
[ "$(visible)" = "j.csv s.csv" ] && [ -z "$(hidden)" ]
check "no temporary file left" $?

# A long run, killed once its temporary file exists.
echo old >"$T/out/s.csv"
gpugen -n 200 -H 5000 -o "$T/out/s.csv" &
pid=$!
i=0
while [ $i -lt 100 ] && [ -z "$(hidden)" ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$pid"
if wait "$pid"; then status=0; else status=$?; fi
[ "$status" -eq 143 ]
check "the run is killed (status $status)" $?
[ "$(cat "$T/out/s.csv")" = old ]
check "a killed run leaves the target as it was" $?
[ "$(visible)" = "j.csv s.csv" ]
check "and nothing visible beside it" $?
hidden | grep -q '^\.s\.csv\.[A-Za-z0-9]\{6\}$'
check "but a temporary file named .s.csv.XXXXXX" $?
exit $failed
