#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuagg on the warehouse prints bucket by bucket: memory does not grow
# with the number of buckets, and a query that fails after some buckets
# were complete still prints nothing (standard output is held back).
set -eu
for t in gpuagg gpugen gpuingest sqlite3; do
	command -v $t >/dev/null || { echo "skip: $t not found"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }

# 20 nodes x 8 GPUs, a sample an hour: 10 and 100 hours.
gpugen -n 20 -g 8 -i 3600 -H 10 -S 3 >small.csv
gpugen -n 20 -g 8 -i 3600 -H 100 -S 3 >big.csv
gpuingest -q -d small.db small.csv
gpuingest -q -d big.db big.csv
gpuagg -d big.db -p hour -b gpu >hour-gpu.csv
[ "$(wc -l <hour-gpu.csv)" -eq 16001 ] || fail "expected 16,000 hour x GPU rows"
# The same bytes as the scan of the facts, another path to them.
gpuagg -d big.db -p hour -b gpu --scan | cmp -s - hour-gpu.csv ||
	fail "the rollup and the scan differ"
gpuagg -d big.db -p hour -b gpu -o out.csv
cmp -s out.csv hour-gpu.csv || fail "-o and standard output differ"
# Buckets are handed to the writer thread in batches of thousands of
# groups, each bucket's aggregate whole, and freed there: the same bytes
# as the stream of the CSV, which is written on the main thread.
# A regular file is written in place, a pipe through a held copy.
gpuagg -d big.db -p hour -b gpu,job >hour-gpu-job.csv
gpuagg --interval 3600 --input big.csv -p hour -b gpu,job |
	cmp -s - hour-gpu-job.csv || fail "the warehouse and the CSV differ"
gpuagg -d big.db -p hour -b gpu,job | cmp -s - hour-gpu-job.csv ||
	fail "a pipe and a file differ"
# The query's thread formats batches itself when the writer falls behind
# (CSV and JSON Lines): when that happens depends on timing, so
# GPUUSAGE_STEAL=all has it format every batch, and 0 none; the same
# bytes each way, in each format.
for f in csv jsonl json table; do
	gpuagg -d big.db -p hour -b gpu -f $f >"steal-auto.$f"
	for m in all 0; do
		GPUUSAGE_STEAL=$m gpuagg -d big.db -p hour -b gpu -f $f |
			cmp -s - "steal-auto.$f" ||
			fail "GPUUSAGE_STEAL=$m changes the $f output"
	done
done
cmp -s steal-auto.csv hour-gpu.csv || fail "the CSV differs from before"

# Memory: 10x the buckets (16,000 groups, about 13 MB when all were held)
# must not need noticeably more. The sanitizer's quarantine would keep
# every freed bucket: off.
if [ -x /usr/bin/time ]; then
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
	export ASAN_OPTIONS
	rss() {
		/usr/bin/time -f %M gpuagg -d "$1" -p hour -b gpu 2>&1 \
			>/dev/null | tail -1
	}
	small=$(rss small.db)
	big=$(rss big.db)
	[ "$big" -lt $((small + 3072)) ] ||
		fail "memory grows with buckets: ${small} KiB -> ${big} KiB"
fi

# A failure after the first buckets: hour 50 marked stale, its samples
# deleted (as gpuingest --keep-raw would), so it cannot be recomputed.
cp big.db stale.db
h=$(sqlite3 stale.db "SELECT min(ts_ms) / 3600000 * 3600000 + 50 * 3600000
	FROM gpu_usage_fact")
sqlite3 stale.db "INSERT INTO dirty_hours VALUES($h);
	DELETE FROM gpu_usage_fact WHERE ts_ms < $h + 3600000;
	INSERT OR REPLACE INTO retention(tbl, horizon_ms, updated_ms)
	VALUES('gpu_usage_fact', $h + 3600000, 0);"
if gpuagg -d stale.db -p hour -b gpu >stale.out 2>stale.err; then
	fail "a query over a stale hour without samples succeeded"
fi
[ ! -s stale.out ] || fail "a failed query printed $(wc -l <stale.out) lines"
grep -q "needs raw samples" stale.err || fail "no reason: $(cat stale.err)"
echo ok
