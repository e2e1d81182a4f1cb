#!/bin/sh
# SPDX-License-Identifier: MIT
# Size and time of gpureport's page for a month of 1,000 GPUs (125 nodes x
# 8 GPUs, hourly samples): the page must stay under 3 MB.
# usage: bench/report.sh   (B names the build directory, default build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest gpureport
tmp=$(mktemp -d "${TMPDIR:-/tmp}/report-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

"$bin/gpugen" -n 125 -g 8 -s 2026-11-01 -H 720 -i 3600 -S 3 \
	-j "$tmp/jobs.csv" -o "$tmp/s.csv"
"$bin/gpuingest" -q --interval 3600 -d "$tmp/w.db" -j "$tmp/jobs.csv" "$tmp/s.csv"
# Peak RSS from /usr/bin/time when there is one (Debian's time package).
rss=
[ -x /usr/bin/time ] && rss="/usr/bin/time -f %M -o $tmp/rss"
s=$(date +%s%N)
$rss "$bin/gpureport" --db "$tmp/w.db" --from 2026-11-01 --to 2026-12-01 \
	-o "$tmp/report.html"
e=$(date +%s%N)
bytes=$(wc -c <"$tmp/report.html")
jobs=$(($(wc -l <"$tmp/jobs.csv") - 1))
echo "gpureport benchmark: 125 nodes x 8 GPUs, 720 h hourly, $jobs jobs"
awk -v b="$bytes" -v t="$(((e - s) / 1000000))" 'BEGIN {
	printf "page %d bytes (%.2f MB, limit 3 MB), written in %.2f s\n",
	    b, b / 1e6, t / 1000
}'
if [ -f "$tmp/rss" ]; then
	awk '{ printf "gpureport peak RSS %.1f MB\n", $1 / 1024 }' "$tmp/rss"
fi
