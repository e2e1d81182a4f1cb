#!/bin/sh
# SPDX-License-Identifier: MIT
# Run end-to-end test scripts (each exits 0 on success): those named as
# arguments, else every tests/e2e/*.sh. B names the build directory, SUITE
# the summary line ("e2e" unless set). Scripts that need a missing tool
# print "skip: ..." and exit 77.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
export B
PATH="$top/$B:$top/scripts:$PATH"
export PATH TZ=UTC LC_ALL=C
pass=0 fail=0 skip=0
[ $# -gt 0 ] || set -- "$top"/tests/e2e/*.sh
for t in "$@"; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	log=$(mktemp)
	sh "$t" >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
	elif [ "$rc" -eq 77 ]; then
		skip=$((skip + 1))
		echo "SKIP $name: $(tail -1 "$log")"
	else
		fail=$((fail + 1))
		echo "FAIL $name (exit $rc)"
		tail -30 "$log"
	fi
	rm -f "$log"
done
echo "${SUITE:-e2e}: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
