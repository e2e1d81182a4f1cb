#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline in real mode: a collector's hourly file (samples naming no
# job), prolog/epilog allocation lines in the spool, and a scontrol
# snapshot taken by SCONTROL_CMD are ingested, allocations first, and the
# month's bill charges each job its allocated GPU time; a failing snapshot
# fails the hour, which the next run redoes.
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup
in=$SPOOL_DIR/incoming
mkdir -p "$in"

# node1's GPUs 0-3, one sample a minute from 10:00 to 10:59, as the
# collector writes them (no job).
awk 'BEGIN {
	print "timestamp,node,gpu,util_pct,mem_used_mib,mem_total_mib,job_id,user,project,model,power_w,temp_c,interval_s,gpu_uuid"
	for (m = 0; m < 60; m++)
		for (g = 0; g < 4; g++)
			printf "2026-11-27T10:%02d:00Z,node1,%d,90,1000,40960,,,,NVIDIA A100,300,60,60,GPU-%d\n", m, g, g
}' >"$in/node1-20261127T1000.csv"
# Job 7 held GPUs 0,1 from 10:00 to 10:30 (prolog and epilog lines).
echo "gpuusage-alloc 1 start time=2026-11-27T10:00:00Z job=7 node=node1 gpus=0,1 user=ann project=astro" \
	>"$in/node1-7-start.alloc"
echo "gpuusage-alloc 1 end time=2026-11-27T10:30:00Z job=7 node=node1 gpus=0,1" \
	>"$in/node1-7-end.alloc"
# Job 8 holds GPU 3 from 10:15 on: only the scontrol snapshot says so.
cat >"$T/scontrol" <<'SH'
#!/bin/sh
[ -e "${0%/*}/broken" ] && { echo "slurm_load_jobs error: timeout" >&2; exit 1; }
echo "JobId=8 JobName=x UserId=bo(8) GroupId=bo(8) Account=geo JobState=RUNNING StartTime=2026-11-27T10:15:00 EndTime=Unknown NodeList=node1 TRES=cpu=1,gres/gpu=1 Nodes=node1 CPU_IDs=0 Mem=1 GRES=gpu:1(IDX:3)"
SH
chmod +x "$T/scontrol"
MODE=real SCONTROL_CMD="$T/scontrol" GPU_PIPELINE_NOW=2026-11-27T11:05:00Z
export MODE SCONTROL_CMD GPU_PIPELINE_NOW

# A failing snapshot fails the hour and leaves the spool as it was.
: >"$T/broken"
bash "$PIPELINE" --hour 2026-11-27T10 >"$T/stdout" 2>"$T/err" &&
	fail "a failing scontrol did not fail the run"
grep -q "step collect failed.*slurm_load_jobs error" "$T/err" ||
	fail "no collect error: $(cat "$T/err")"
[ "$(count "$in")" -eq 3 ] || fail "the spool was touched: $(ls "$in")"

rm "$T/broken"
bash "$PIPELINE" --hour 2026-11-27T10 >"$T/stdout" 2>"$T/err" ||
	fail "real run exited $?: $(cat "$T/err")"
grep -q "ingested 3 allocation file(s)" "$LOG_DIR"/*.log ||
	fail "allocation files not ingested"
[ "$(count "$SPOOL_DIR/done")" -eq 4 ] || fail "done/: $(ls "$SPOOL_DIR/done")"
gpubill --db "$GPUUSAGE_DB" --from 2026-11-27 --to 2026-11-28 --by job |
	awk -F, '{ print $2 "," $3 "," $4 "," $5 "," $(NF - 1) }' >"$T/bill"
# Job 7: 2 GPUs x 30 min = 3600 s, 2.50 + 0.13 overhead; job 8: 45 min.
cat >"$T/want" <<'EXP'
job_id,user,project,alloc_gpu_seconds,total
7,ann,astro,3600,2.63
8,bo,geo,2700,1.97
TOTAL,,,6300,4.60
EXP
cmp -s "$T/want" "$T/bill" || fail "bill: $(cat "$T/bill")"
echo "ok"
