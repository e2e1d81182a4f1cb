#!/bin/sh
# SPDX-License-Identifier: MIT
# gpureport --job: the job's figures equal gpuagg's (--by job) and its cost
# equals gpubill's job line, for every job of a random warehouse; the
# findings follow their thresholds.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuagg gpubill gpureport
gpugen -n 2 -g 4 -s 2026-11-27T10:00 -H 6 -S 3 -i 120 --load 0.7 \
	>"$T/s.csv" 2>/dev/null || fail "gpugen"
gpuingest --db "$T/wh.db" "$T/s.csv" >/dev/null 2>&1 || fail "gpuingest"
gpuagg --db "$T/wh.db" --by job \
	-m alloc_gpu_hours,busy_gpu_hours,alloc_util_pct,idle_gpu_hours,energy_kwh \
	>"$T/agg.csv" || fail "gpuagg"
gpubill --db "$T/wh.db" --month 2026-11 >"$T/bill.csv" || fail "gpubill"
n=0
while IFS=, read -r job user project alloc busy util idle kwh; do
	[ "$job" = job_id ] || [ -z "$job" ] && continue
	gpureport --db "$T/wh.db" --text --job "$job" >"$T/r.txt" 2>"$T/err" ||
		fail "job $job: $(cat "$T/err")"
	for want in "job $job: user $user, project $project" \
		"allocated GPU-hours: $alloc" "busy GPU-hours: $busy" \
		"utilization while allocated: $util%" \
		"allocated but idle GPU-hours: $idle" "energy: $kwh kWh"; do
		grep -qxF "$want" "$T/r.txt" ||
			fail "job $job: no line '$want' in: $(cat "$T/r.txt")"
	done
	total=$(awk -F, -v j="$job" '$2 == j { print $(NF - 1) " " $NF }' "$T/bill.csv")
	grep -q "^cost: .* = $total\$" "$T/r.txt" ||
		fail "job $job: cost is not gpubill's $total: $(grep cost "$T/r.txt")"
	n=$((n + 1))
	last=$job
done <"$T/agg.csv"
[ "$n" -gt 0 ] || fail "no jobs"
# The loop's last read empties job: the thresholds below use the last job.
job=$last

# Thresholds: every GPU is below 101% and any peak is below 10^6 GiB.
gpureport --db "$T/wh.db" --text --job "$job" --low-util-pct 100 \
	--small-mem-gb 1000000 --idle-share-pct 0 >"$T/r.txt" || fail "limits"
grep -q '^  - held [0-9]* GPUs*, [0-9]* stayed below 100% utilization$' "$T/r.txt" ||
	fail "no low-utilization finding: $(cat "$T/r.txt")"
grep -q 'a smaller GPU or a MIG slice would do$' "$T/r.txt" ||
	fail "no memory finding"
gpureport --db "$T/wh.db" --text --job "$job" --low-util-pct 0 --small-mem-gb 0 \
	--idle-share-pct 100 >"$T/r.txt" || fail "limits 0"
grep -q '^  - none' "$T/r.txt" || fail "findings without cause: $(cat "$T/r.txt")"
gpureport --db "$T/wh.db" --job no-such-job 2>"$T/err" && fail "unknown job passed"
grep -q "no samples of job 'no-such-job'" "$T/err" || fail "message: $(cat "$T/err")"
echo "ok"
