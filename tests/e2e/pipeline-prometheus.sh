#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline with PROM_FILE: the metrics file parses with a strict
# exposition-format reader (prom-check.awk) after each hour, and every
# counter is non-decreasing from one hour to the next.
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup
PROM_FILE=$T/out/textfile/gpuusage.prom
PROM_BY=node,user,project,model
GPU_HOURLY_RATE=3.00
export PROM_FILE PROM_BY GPU_HOURLY_RATE
check=$top/tests/e2e/prom-check.awk

for h in 10 11; do
	bash "$PIPELINE" --mode demo --hour "2026-11-27T$h" \
		>/dev/null 2>"$T/err" || fail "hour $h exited $?: $(cat "$T/err")"
	[ -s "$PROM_FILE" ] || fail "hour $h: no metrics file"
	[ "$(tail -c 1 "$PROM_FILE" | od -An -c | tr -d ' ')" = '\n' ] ||
		fail "hour $h: no final newline"
	awk -f "$check" "$PROM_FILE" >"$T/h$h" 2>"$T/err" ||
		fail "hour $h: $(cat "$T/err")"
done
for f in "$T"/out/textfile/.gpuusage*; do
	[ -e "$f" ] && fail "temporary file left: $f"
done
for m in gpu_seconds alloc_gpu_seconds busy_gpu_seconds energy_joules \
	cost_cents; do
	grep -q "^counter gpuusage_${m}_total{node=" "$T/h11" ||
		fail "no gpuusage_${m}_total series"
done
grep -q '^gauge gpuusage_utilization_ratio{' "$T/h11" || fail "no gauge"

# Every counter series of hour 10 is there in hour 11, not smaller.
awk 'FNR == NR { if ($1 == "counter") old[$2] = $3; next }
     $1 == "counter" { new[$2] = $3 }
     END {
	for (k in old) {
		if (!(k in new)) { print "gone: " k; bad = 1 }
		else if (new[k] + 0 < old[k] + 0) {
			print "decreased: " k " " old[k] " -> " new[k]; bad = 1
		}
	}
	exit bad
     }' "$T/h10" "$T/h11" >"$T/cmp" || fail "$(cat "$T/cmp")"
cmp -s "$T/h10" "$T/h11" && fail "counters did not grow"
echo "ok"
