#!/bin/sh
# SPDX-License-Identifier: MIT
# A whole simulated day on two nodes of four GPUs each, billed from
# telemetry that names no job: nvidia-smi captures of both nodes, and two
# scontrol show job -d snapshots (multi-line at 13:00, -o at 23:00) with a
# job on two nodes holding other GPU indices on each, a job still running
# (EndTime=Unknown), an array task, a pending job, and a job whose end the
# second snapshot corrects (it ended before its time limit). Loaded in
# three orders, the warehouses hold the same rows and bill each job the
# hand-computed amount to the cent; re-running every input changes
# nothing.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpuingest gpubill

# A day of samples every 5 minutes, as nvidia-smi --format=csv prints them.
# Utilization is 80 inside the allocations below, 0 outside; job 1001 uses
# 20000 MiB on gpu02 (3616 MiB over the 16 GiB threshold), 8000 elsewhere.
for node in gpu01 gpu02; do
	awk -v node="$node" 'BEGIN {
		print "timestamp, index, uuid, name, utilization.gpu [%],"\
		    " memory.used [MiB], memory.total [MiB], power.draw [W],"\
		    " temperature.gpu"
		for (m = 0; m < 1440; m += 5) {
			for (g = 0; g < 4; g++) {
				busy = 0; mem = 8000
				if (m >= 120 && m < 360 && ((node == "gpu01" && g <= 1) ||
				    (node == "gpu02" && g >= 2))) {
					busy = 1
					if (node == "gpu02") mem = 20000
				}
				if (node == "gpu02" && g == 0 && m >= 480 && m < 720) busy = 1
				if (node == "gpu01" && g == 3 && m >= 720 && m < 870) busy = 1
				if (node == "gpu01" && g == 2 && m >= 1200) busy = 1
				printf "2026/11/28 %02d:%02d:00.000, %d, GPU-%s-%d, NVIDIA A100-SXM4-40GB, %d %%, %d MiB, 40960 MiB, %.2f W, %d\n",
					int(m / 60), m % 60, g, node, g, busy ? 80 : 0,
					mem, busy ? 310.5 : 55.25, busy ? 71 : 33
			}
		}
	}' >"$T/$node.csv"
done

cat >"$T/snap1.txt" <<'SNAP'
JobId=1001 JobName=train
   UserId=alice(1001) GroupId=alice(1001) MCS_label=N/A
   Priority=100 Nice=0 Account=physics QOS=normal
   JobState=COMPLETED Reason=None Dependency=(null)
   RunTime=04:00:00 TimeLimit=1-00:00:00 TimeMin=N/A
   SubmitTime=2026-11-28T01:58:00 EligibleTime=2026-11-28T01:58:00
   StartTime=2026-11-28T02:00:00 EndTime=2026-11-28T06:00:00 Deadline=N/A
   Partition=gpu AllocNode:Sid=login1:1234
   NodeList=gpu[01-02]
   BatchHost=gpu01
   NumNodes=2 NumCPUs=8 NumTasks=2 CPUs/Task=4 ReqB:S:C:T=0:0:*:*
   TRES=cpu=8,mem=8G,node=2,billing=8,gres/gpu=4
   JOB_GRES=gpu:a100:4
     Nodes=gpu01 CPU_IDs=0-3 Mem=4096 GRES=gpu:a100:2(IDX:0-1)
     Nodes=gpu02 CPU_IDs=0-3 Mem=4096 GRES=gpu:a100:2(IDX:2-3)
   MinCPUsNode=4 MinMemoryNode=4G MinTmpDiskNode=0

JobId=1010 ArrayJobId=1003 ArrayTaskId=7 JobName=sweep
   UserId=carol(1003) GroupId=carol(1003) MCS_label=N/A
   Priority=100 Nice=0 Account=bio QOS=normal
   JobState=COMPLETED Reason=None Dependency=(null)
   RunTime=04:00:00 TimeLimit=08:00:00 TimeMin=N/A
   StartTime=2026-11-28T08:00:00 EndTime=2026-11-28T12:00:00 Deadline=N/A
   NodeList=gpu02
   TRES=cpu=1,mem=1G,node=1,billing=1,gres/gpu=1
     Nodes=gpu02 CPU_IDs=4 Mem=1024 GRES=gpu(IDX:0)

JobId=1004 JobName=eval
   UserId=dave(1004) GroupId=dave(1004) MCS_label=N/A
   Priority=100 Nice=0 Account=(null) QOS=normal
   JobState=RUNNING Reason=None Dependency=(null)
   RunTime=01:00:00 TimeLimit=04:00:00 TimeMin=N/A
   StartTime=2026-11-28T12:00:00 EndTime=2026-11-28T16:00:00 Deadline=N/A
   NodeList=gpu01
   TRES=cpu=2,mem=2G,node=1,billing=2,gres/gpu=1
     Nodes=gpu01 CPU_IDs=4-5 Mem=2048 GRES=gpu:1(IDX:3)

JobId=1006 JobName=waiting
   UserId=erin(1006) GroupId=erin(1006) MCS_label=N/A
   Priority=100 Nice=0 Account=chem QOS=normal
   JobState=PENDING Reason=Resources Dependency=(null)
   StartTime=Unknown EndTime=Unknown Deadline=N/A
   NodeList=(null)
   TRES=cpu=1,mem=1G,node=1,billing=1,gres/gpu=1

SNAP
cat >"$T/snap2.txt" <<'SNAP'
JobId=1004 JobName=eval UserId=dave(1004) GroupId=dave(1004) MCS_label=N/A Priority=100 Nice=0 Account=(null) QOS=normal JobState=COMPLETED Reason=None Dependency=(null) RunTime=02:30:00 TimeLimit=04:00:00 TimeMin=N/A StartTime=2026-11-28T12:00:00 EndTime=2026-11-28T14:30:00 Deadline=N/A NodeList=gpu01 TRES=cpu=2,mem=2G,node=1,billing=2,gres/gpu=1 Nodes=gpu01 CPU_IDs=4-5 Mem=2048 GRES=gpu:1(IDX:3) MinCPUsNode=1
JobId=1002 JobName=serve UserId=bob(1002) GroupId=bob(1002) MCS_label=N/A Priority=100 Nice=0 Account=chem QOS=normal JobState=RUNNING Reason=None Dependency=(null) RunTime=03:00:00 TimeLimit=UNLIMITED TimeMin=N/A StartTime=2026-11-28T20:00:00 EndTime=Unknown Deadline=N/A NodeList=gpu01 TRES=cpu=1,mem=1G,node=1,billing=1,gres/gpu=1 Nodes=gpu01 CPU_IDs=6 Mem=1024 GRES=gg:g0(CNT:1),gpu:1(IDX:2) MinCPUsNode=1
SNAP

smi() { # smi DB NODE: load one node's capture
	gpuingest -q -d "$1" --node "$2" --interval 300 "$T/$2.csv"
}
bill() { # bill DB: job, user, project and total of each line
	gpubill -d "$1" --from 2026-11-28 --to 2026-11-29 --by job |
		awk -F, '{ print $2 "," $3 "," $4 "," $(NF - 1) }'
}
dump() { # dump DB: every fact row with its job and where it came from
	sqlite3 "$1" "SELECT f.ts_ms, n.node, f.gpu, coalesce(j.job_id, ''),
		coalesce(f.job_source, '') FROM gpu_usage_fact f
		JOIN nodes_dim n USING (node_id) LEFT JOIN jobs_dim j
		USING (job_key) ORDER BY 1, 2, 3"
}

# Order 1: allocations first, then the samples.
gpuingest -q -d "$T/a.db" -a "$T/snap1.txt" -a "$T/snap2.txt" </dev/null
check "order 1 allocations load" $?
smi "$T/a.db" gpu01 && smi "$T/a.db" gpu02
check "order 1 samples load" $?
# Order 2: samples first, then the snapshots in turn (the correction last).
smi "$T/b.db" gpu02 && smi "$T/b.db" gpu01 &&
	gpuingest -q -d "$T/b.db" -a "$T/snap1.txt" </dev/null &&
	gpuingest -d "$T/b.db" --summary json -a "$T/snap2.txt" \
		</dev/null >"$T/b2.json"
check "order 2 loads" $?
# Order 3: the first snapshot, the samples, the second snapshot together.
gpuingest -q -d "$T/c.db" -a "$T/snap1.txt" </dev/null &&
	gpuingest -q -d "$T/c.db" -a "$T/snap2.txt" --node gpu01 \
		--interval 300 "$T/gpu01.csv" && smi "$T/c.db" gpu02
check "order 3 loads" $?

cat >"$T/expected" <<'EXP'
job_id,user,project,total
1001,alice,physics,44.97
1002,bob,chem,10.50
1003_7,carol,bio,10.50
1004,dave,,6.56
TOTAL,,,72.53
EXP
for db in a b c; do
	bill "$T/$db.db" >"$T/bill.$db"
	cmp -s "$T/expected" "$T/bill.$db"
	check "bill of order $db equals the hand-computed one" $?
done
cat "$T/bill.b"
grep -q '"allocations":{"read":2,"inserted":1,"updated":1,"unchanged":0,"superseded":0,"rejected":0,"attributed":48,"overlaps":0}' "$T/b2.json"
check "the correction and the running job attribute 48 stored samples" $?

if command -v sqlite3 >/dev/null 2>&1; then
	dump "$T/a.db" >"$T/dump.a"
	for db in b c; do
		dump "$T/$db.db" | cmp -s "$T/dump.a" -
		check "order $db stores the same rows as order a" $?
	done
	n=$(grep -c '|allocation$' "$T/dump.a")
	[ "$n" -eq $((48 * 4 + 48 + 48 + 30)) ]
	check "attributed samples: $n" $?
else
	echo "skip: no sqlite3 shell for the row comparison"
fi

# Re-running everything changes nothing: the newest snapshot and a
# capture again are all unchanged; every input again in the order of
# order 1 leaves the same rows and bills.
gpuingest -d "$T/b.db" --summary json -a "$T/snap2.txt" \
	--node gpu01 --interval 300 "$T/gpu01.csv" >"$T/re.json"
grep -q '^{"read":1152,"inserted":0,"updated":0,"unchanged":1152,"superseded":0,"rejected":0,"attributed":0,"overlaps":0,.*"allocations":{"read":2,"inserted":0,"updated":0,"unchanged":2,"superseded":0,"rejected":0,"attributed":0,"overlaps":0}' "$T/re.json"
check "re-run: nothing inserted, updated or attributed" $?
gpuingest -q -d "$T/b.db" -a "$T/snap1.txt" -a "$T/snap2.txt" </dev/null &&
	smi "$T/b.db" gpu01 && smi "$T/b.db" gpu02
check "re-run of every input" $?
bill "$T/b.db" | cmp -s "$T/expected" -
check "bill after the re-run is the same" $?
if command -v sqlite3 >/dev/null 2>&1; then
	dump "$T/b.db" | cmp -s "$T/dump.a" -
	check "rows after the re-run are the same" $?
fi
exit "$failed"
