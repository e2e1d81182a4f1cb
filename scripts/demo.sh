#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: a 24-hour demo backfill of gpu-pipeline into a fresh demo/
# warehouse, then a short summary in the terminal and the report's path.
#
# B names the build folder (default build); its binaries go first on PATH.
# DEMO_DAY (default 2026-11-27) picks the simulated UTC day.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
case $B in /*) bin=$B ;; *) bin=$top/$B ;; esac
PATH="$bin:$top/scripts:$PATH"
export PATH TZ=UTC LC_ALL=C
day=${DEMO_DAY:-2026-11-27}

for t in gpugen gpuingest gpuagg gpubill gpureport; do
	if [ ! -x "$bin/$t" ]; then
		echo "demo: '$bin/$t' is missing; run 'make' first" >&2
		exit 1
	fi
done
next=$(date -u -d "$day + 1 day" +%Y-%m-%d 2>/dev/null) || {
	echo "demo: invalid DEMO_DAY '$day'" >&2
	exit 2
}

demo=$top/demo
rm -rf "$demo"
mkdir -p "$demo"

# Every pipeline setting from the environment, inside demo/.
GPU_PIPELINE_CONF=/dev/null
MODE=demo
GPUUSAGE_DB=$demo/gpuusage.db
SPOOL_DIR=$demo/spool
STATE_DIR=$demo/state
LOG_DIR=$demo/log
REPORT_PATH=$demo/report.html
BILL_PATH=$demo/bill-month-to-date.csv
REPORT_SPAN=day
DEMO_NODES=${DEMO_NODES:-8}
DEMO_GPUS_PER_NODE=${DEMO_GPUS_PER_NODE:-8}
DEMO_INTERVAL=${DEMO_INTERVAL:-60}
RETRIES=0
export GPU_PIPELINE_CONF MODE GPUUSAGE_DB SPOOL_DIR STATE_DIR LOG_DIR \
	REPORT_PATH BILL_PATH REPORT_SPAN DEMO_NODES DEMO_GPUS_PER_NODE \
	DEMO_INTERVAL RETRIES

echo "demo: simulating $DEMO_NODES nodes x $DEMO_GPUS_PER_NODE GPUs for $day, hour by hour..."
start=$(date +%s)
if ! gpu-pipeline --quiet --backfill "${day}T00" "${day}T23" >"$demo/summary.txt"; then
	cat "$demo/summary.txt"
	echo "demo: the pipeline failed; see the logs in $LOG_DIR" >&2
	exit 1
fi
secs=$(($(date +%s) - start))
rejects=$(sed -n 's/.* \([0-9][0-9]*\) rejected,.*/\1/p' "$demo/summary.txt")

gpuagg --db "$GPUUSAGE_DB" --period all --from "$day" --to "$next" \
	--format csv >"$demo/usage.csv" || exit 1
gpubill --db "$GPUUSAGE_DB" --from "$day" --to "$next" --by user \
	--format csv >"$demo/bill-by-user.csv" || exit 1

echo
echo "gpuusage demo: $day, $DEMO_NODES x $DEMO_GPUS_PER_NODE GPUs, 24 hours backfilled in ${secs}s"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	{
		printf "  %-22s %s\n", "samples", $c["samples"]
		printf "  %-22s %.1f (allocated %.1f, %.1f%%)\n", "GPU-hours",
			$c["gpu_hours"], $c["alloc_gpu_hours"],
			($c["gpu_hours"] > 0 ? 100 * $c["alloc_gpu_hours"] / $c["gpu_hours"] : 0)
		printf "  %-22s %.1f%% average, %.1f%% of allocated time\n",
			"GPU utilization", $c["avg_util_pct"], $c["alloc_util_pct"]
		printf "  %-22s %.1f\n", "idle GPU-hours", $c["idle_gpu_hours"]
	}' "$demo/usage.csv"
echo "  rejected rows          ${rejects:-?}"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["user"] == "TOTAL" { total = $c["total"]; cur = $c["currency"]; next }
	{ print $c["total"] "," ($c["user"] == "" ? "(unknown)" : $c["user"]) }
	END { print "~TOTAL," total " " cur }' "$demo/bill-by-user.csv" >"$demo/users.txt"
echo "  top 5 users by cost:"
grep -v '^~TOTAL,' "$demo/users.txt" | sort -t, -k1,1 -rn | head -n 5 |
	awk -F, '{ printf "    %-20s %12s\n", $2, $1 }'
sed -n 's/^~TOTAL,/  total cost             /p' "$demo/users.txt"
echo
echo "report: $REPORT_PATH"
echo "bill:   $BILL_PATH"
echo "logs:   $LOG_DIR"
