#!/bin/sh
# SPDX-License-Identifier: MIT
# gpucollect's CSV is SPEC section 1 as gpuingest reads it: every row of a
# pass (jobs from cgroups, environ, an array task, a shared GPU, a job map,
# absent values) is inserted, none rejected, the jobs kept.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpucollect gpuingest sqlite3
F=$(cd "$(dirname "$0")/../fixtures/gpucollect" && pwd)

TZ=CST-8 FAKE_NVSMI_EXTRA_APPS="$F/apps-shared.csv" gpucollect -q \
	-n dsw-753014 --nvidia-smi "$F/nvidia-smi" --proc "$F/proc" \
	-o "$T/out.csv"
check "one pass to out.csv" $?
FAKE_NVSMI_TIME='2026/06/22 00:12:49.512' gpucollect -q -n dsw-753015 \
	--nvidia-smi "$F/nvidia-smi" --proc "$F/proc" \
	--job-map "$F/job-map" --interval 30 >"$T/map.csv"
check "one pass with a job map to stdout" $?

gpuingest --db "$T/t.db" "$T/out.csv" "$T/map.csv" >"$T/summary" 2>"$T/err"
check "gpuingest takes both" $?
cat "$T/summary" "$T/err"
grep -q '^samples: read 16, inserted 16, .* rejected 0$' "$T/summary"
check "16 rows read and inserted, 0 rejected" $?
[ ! -s "$T/err" ]
check "no warning (no unknown column)" $?

jobs=$(sqlite3 "$T/t.db" 'SELECT group_concat(job_id, " ") FROM
	(SELECT DISTINCT j.job_id FROM gpu_usage_fact f
	 JOIN jobs_dim j USING (job_key) ORDER BY j.job_id)')
[ "$jobs" = "11811379 12 1392969 1400000_7 22902023 280678 5 748468" ]
check "jobs kept: $jobs" $?
n=$(sqlite3 "$T/t.db" 'SELECT count(*) FROM gpu_usage_fact
	WHERE job_key IS NULL')
[ "$n" -eq 4 ]
check "two unallocated GPUs a pass ($n)" $?
exit "$failed"
