#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuingest looks up the stored rows of a re-sent input through a cursor
# over the warehouse's pages as the run found them (a connection of its
# own), and through its statement for keys the run itself may have
# written. Every kind of re-send must leave the same warehouse, summary
# and ingest log as the statement alone (GPUUSAGE_PAGES=0): unchanged,
# changed rows, a key sent twice in one file, new rows among old ones,
# the input in node order (seeks), two files in one run, and a run that
# also loads allocations (a re-attribution).
set -eu
for t in gpugen gpuingest sqlite3; do
	command -v $t >/dev/null || { echo "skip: $t not found"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }

# 10 nodes x 4 GPUs, a sample a minute, 6 hours: 14,400 rows.
gpugen -n 10 -g 4 -i 60 -H 6 -S 7 >all.csv
head -n 1 all.csv >hdr
# The first load lacks every 50th row, which later inputs bring as new.
awk 'NR == 1 || NR % 50 != 0' all.csv >base.csv
gpuingest -q --interval 60 -d base.db base.csv

# Changed rows: every 97th row's utilization.
awk -F, -v OFS=, 'NR > 1 && NR % 97 == 0 { $4 = ($4 + 1) % 100 } 1' \
	all.csv >changed.csv
# A key sent twice: rows 2 to 400 again at the end with other values.
{ cat all.csv; awk -F, -v OFS=, 'NR > 1 && NR <= 400 { $5 = $5 + 1; print }' \
	all.csv; } >twice.csv
# Node order: sorted by node and GPU, then time (every lookup a seek).
{ cat hdr; tail -n +2 all.csv | sort -t, -k2,2 -k3,3n -k1,1; } >bynode.csv
# An allocation on node003 over the second hour (a re-attribution).
printf 'job_id,node,gpus,start,end,user,project\n' >alloc.csv
printf '9001,node003,0-3,2026-11-01T01:00:00Z,2026-11-01T02:00:00Z,zoe,px\n' \
	>>alloc.csv

# dump DB: what the warehouse holds, less the run's own clock.
dump() {
	sqlite3 "$1" "SELECT * FROM gpu_usage_fact ORDER BY ts_ms, node_id,
		gpu, mig;
		SELECT source, sha256, rows_read, inserted, updated, unchanged,
		rejected, min_ts_ms, max_ts_ms, status, attributed, overlaps,
		superseded FROM ingest_log ORDER BY ingest_id;
		SELECT * FROM usage_hourly ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
		SELECT * FROM usage_daily ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
		SELECT * FROM usage_daily_job ORDER BY 1, 2, 3, 4, 5, 6;
		SELECT * FROM dirty_hours ORDER BY 1"
}

run() { # NAME ARGS...: the same run with and without the page cursor
	name=$1
	shift
	cp base.db "$name-p.db"
	cp base.db "$name-s.db"
	gpuingest --interval 60 -d "$name-p.db" "$@" >"$name-p.out" 2>&1 ||
		fail "$name: gpuingest failed: $(cat "$name-p.out")"
	GPUUSAGE_PAGES=0 gpuingest --interval 60 -d "$name-s.db" "$@" \
		>"$name-s.out" 2>&1 || fail "$name: gpuingest (statement) failed"
	cmp -s "$name-p.out" "$name-s.out" ||
		fail "$name: the summaries differ: $(diff "$name-p.out" "$name-s.out")"
	dump "$name-p.db" >"$name-p.dump"
	dump "$name-s.db" >"$name-s.dump"
	cmp -s "$name-p.dump" "$name-s.dump" ||
		fail "$name: the warehouses differ: $(diff "$name-p.dump" \
			"$name-s.dump" | head -n 5)"
}

run same base.csv
grep -q "unchanged 14112" same-p.out || fail "same: $(cat same-p.out)"
run all all.csv
grep -q "inserted 288, updated 0, unchanged 14112" all-p.out ||
	fail "all: $(cat all-p.out)"
run changed changed.csv
run twice twice.csv
grep -q "superseded" twice-p.out || fail "twice: $(cat twice-p.out)"
run bynode bynode.csv
run two base.csv changed.csv
run alloc --allocations alloc.csv changed.csv
echo ok
