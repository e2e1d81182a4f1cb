#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the golden end-to-end cases: tests/golden/<tool>/<NNN-name>/.
# Each case has cmd (one shell line, run inside the case directory), optional
# stdin, expected.out, optional expected.err and status (default 0).
# usage: tests/golden.sh [--update] [PATTERN]
# GOLDEN_WRAP (e.g. a valgrind command line) wraps every project binary.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
bin="$top/$B"
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
pattern=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
if [ -n "${GOLDEN_WRAP:-}" ]; then
	mkdir "$tmp/wrap"
	# Every tool the build made: each golden case's tool folder names one.
	for t in $(ls "$top/tests/golden"); do
		[ -x "$bin/$t" ] || continue
		printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$GOLDEN_WRAP" "$bin/$t" \
			>"$tmp/wrap/$t"
		chmod +x "$tmp/wrap/$t"
	done
	bin="$tmp/wrap"
fi
PATH="$bin:$top/scripts:$PATH"
export PATH
unset COLUMNS GPUUSAGE_DB GPU_HOURLY_RATE MEMORY_OVERAGE_RATE \
	MEMORY_OVERAGE_THRESHOLD_GB CLUSTER_OVERHEAD_RATE
export TZ=UTC LC_ALL=C
pass=0 fail=0
for dir in "$top"/tests/golden/*/*/; do
	dir=${dir%/}
	[ -f "$dir/cmd" ] || continue
	name=${dir#"$top"/tests/golden/}
	case "$name" in *"$pattern"*) ;; *) continue ;; esac
	want_status=0
	[ -f "$dir/status" ] && want_status=$(cat "$dir/status")
	input=/dev/null
	[ -f "$dir/stdin" ] && input="$dir/stdin"
	(cd "$dir" && sh -c "$(cat cmd)" <"$input" >"$tmp/out" 2>"$tmp/err")
	got_status=$?
	if [ "$update" -eq 1 ]; then
		cp "$tmp/out" "$dir/expected.out"
		[ -f "$dir/expected.err" ] && cp "$tmp/err" "$dir/expected.err"
		[ "$got_status" -ne 0 ] && echo "$got_status" >"$dir/status"
		[ "$got_status" -eq 0 ] && rm -f "$dir/status"
	fi
	ok=1
	if ! cmp -s "$tmp/out" "$dir/expected.out"; then
		ok=0
		echo "FAIL $name: stdout differs"
		diff -u "$dir/expected.out" "$tmp/out" | head -40
	fi
	if [ -f "$dir/expected.err" ] && ! cmp -s "$tmp/err" "$dir/expected.err"; then
		ok=0
		echo "FAIL $name: stderr differs"
		diff -u "$dir/expected.err" "$tmp/err" | head -20
	fi
	if [ "$got_status" != "$want_status" ]; then
		ok=0
		echo "FAIL $name: exit status $got_status, expected $want_status"
		head -5 "$tmp/err"
	fi
	if [ "$ok" -eq 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
