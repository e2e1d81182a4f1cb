#!/bin/sh
# SPDX-License-Identifier: MIT
# gpubill --by job against bench/reference_pandas.py, the Python reference
# of docs/FORMAT.md section 4: on the same gpugen samples both print the
# same bill, line for line and to the cent: all time and one month of
# samples that cross a month's end, at the default rates and at rates
# whose charges round (halves away from zero). Skipped (exit 77) without
# python3 and pandas (scripts/install-deps.sh --bench).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpubill
ref="$(cd "$(dirname "$0")/../.." && pwd)/bench/reference_pandas.py"
py=""
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import pandas' 2>/dev/null; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	echo "skip: no python3 with pandas (scripts/install-deps.sh --bench)"
	exit 77
fi

# 6 nodes x 4 GPUs, every 300 s, 30 hours from 2026-11-30T06 (so across
# the end of November); ISO timestamps, and the same rows in epoch ms.
gpugen -n 6 -g 4 -i 300 -s 2026-11-30T06:00:00Z -H 30 -S 7 -o "$T/s.csv"
check "gpugen" $?
gpugen -n 6 -g 4 -i 300 -s 2026-11-30T06:00:00Z -H 30 -S 7 -t epoch_ms \
	-o "$T/e.csv"
check "gpugen, epoch ms" $?
gpuingest -q --interval 300 -d "$T/w.db" "$T/s.csv"
check "gpuingest" $?

# same NAME GPUBILL-ARGS REFERENCE-ARGS: both bills, compared byte for byte.
# shellcheck disable=SC2086 # the arguments are option lists: split on purpose
same() {
	gpubill --db "$T/w.db" --by job $2 >"$T/c.csv"
	check "$1: gpubill" $?
	"$py" "$ref" bill --interval 300 $3 >"$T/p.csv"
	check "$1: reference" $?
	jobs=$(($(wc -l <"$T/c.csv") - 2))
	[ "$jobs" -gt 10 ]
	check "$1: $jobs jobs billed" $?
	cmp -s "$T/c.csv" "$T/p.csv"
	check "$1: the same bill" $?
	cmp -s "$T/c.csv" "$T/p.csv" || diff "$T/c.csv" "$T/p.csv" | head -n 6
}
same "all time" "--period all" "--period all $T/s.csv"
same "all time, epoch ms" "--period all" "--period all $T/e.csv"
same "November" "--month 2026-11" "--month 2026-11 $T/s.csv"
same "December" "--month 2026-12" "--month 2026-12 $T/s.csv"
GPU_HOURLY_RATE=2.345678 MEMORY_OVERAGE_RATE=0.123457 \
	CLUSTER_OVERHEAD_RATE=0.075 MEMORY_OVERAGE_THRESHOLD_GB=15.9995
export GPU_HOURLY_RATE MEMORY_OVERAGE_RATE CLUSTER_OVERHEAD_RATE \
	MEMORY_OVERAGE_THRESHOLD_GB
same "odd rates" "--period all" "--period all $T/s.csv"
exit $failed
