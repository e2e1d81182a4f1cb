#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuingest: two concurrent runs of different files end with the union, as
# if run one after the other (also when the second comes while the first
# run into a new warehouse holds its lock in rollback mode); a run that
# waits past --lock-timeout exits 1 with "warehouse busy" and changes
# nothing.
set -eu
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

gen() { # gen FILE START: 8 nodes x 4 GPUs x 300 minutes from START
	awk -v s="$2" 'BEGIN { print "timestamp,node,gpu,util_pct,mem_used_mib,job_id";
		for (t = 0; t < 300; t++) for (n = 1; n <= 8; n++) for (g = 0; g < 4; g++)
			printf "%d,n%d,%d,%d,%d,%s\n", s + 60 * t, n, g, (t + n + g) % 101,
				t * 10 + g, (n + int(t / 50)) % 2 ? "j" n "_" int(t / 50) : "" }' >"$1"
}
gen "$d/a.csv" 1795881600
gen "$d/b.csv" 1795899600
both() { # both DB: a.csv and b.csv into DB at once
	gpuingest -q -d "$1" --lock-timeout 60 "$d/a.csv" &
	pa=$!
	gpuingest -q -d "$1" --lock-timeout 60 "$d/b.csv" &
	pb=$!
	wait $pa || fail "run a into $1 failed"
	wait $pb || fail "run b into $1 failed"
}
gpuingest -q -d "$d/w.db" </dev/null 2>/dev/null || true # create it

both "$d/w.db"

gpuingest -q -d "$d/seq.db" "$d/a.csv"
gpuingest -q -d "$d/seq.db" "$d/b.csv"
q="SELECT f.ts_ms, n.node, f.gpu, f.util_pct, f.mem_used_mib, j.job_id
   FROM gpu_usage_fact f JOIN nodes_dim n USING (node_id)
   LEFT JOIN jobs_dim j USING (job_key) ORDER BY 1, 2, 3"
sqlite3 "$d/w.db" "$q" >"$d/conc.txt"
sqlite3 "$d/seq.db" "$q" >"$d/seq.txt"
[ "$(wc -l <"$d/conc.txt")" -eq 19200 ] || fail "union has $(wc -l <"$d/conc.txt") rows"
cmp -s "$d/conc.txt" "$d/seq.txt" || fail "concurrent result differs from sequential"
[ "$(sqlite3 "$d/w.db" "PRAGMA integrity_check")" = ok ] || fail "integrity"

# Two first runs into a missing warehouse: the one that creates it writes
# with a rollback journal, the other waits for it; the union, in WAL mode.
both "$d/new.db"
sqlite3 "$d/new.db" "$q" >"$d/new.txt"
cmp -s "$d/new.txt" "$d/seq.txt" || fail "concurrent first runs differ from sequential"
[ "$(sqlite3 "$d/new.db" "PRAGMA integrity_check")" = ok ] || fail "new: integrity"
gpuingest -q -d "$d/new.db" </dev/null 2>/dev/null || true # WAL if a run could not
[ "$(sqlite3 "$d/new.db" "PRAGMA journal_mode")" = wal ] || fail "new: not in WAL mode"

# The first run into a new warehouse holds its lock while it reads a slow
# pipe, in rollback mode; a second run that opens it meanwhile must wait
# (switching to WAL needs the lock too) and load after it, not give up.
{ cat "$d/a.csv"; sleep 3; } | gpuingest -q -d "$d/slow.db" &
holder=$!
i=0
while [ ! -s "$d/slow.db" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.3
gpuingest -q -d "$d/slow.db" --lock-timeout 30 "$d/b.csv" 2>"$d/err" ||
	fail "second run into a new warehouse exited $?: $(cat "$d/err")"
wait $holder || fail "first run into a new warehouse failed"
sqlite3 "$d/slow.db" "$q" >"$d/slow.txt"
cmp -s "$d/slow.txt" "$d/seq.txt" || fail "slow first run and second differ from sequential"
[ "$(sqlite3 "$d/slow.db" "PRAGMA journal_mode")" = wal ] || fail "slow: not in WAL mode"

# Another program's database is refused before anything is written to it.
sqlite3 "$d/other.db" "CREATE TABLE t(x); INSERT INTO t VALUES (1)"
cp "$d/other.db" "$d/other.orig"
set +e
gpuingest -q -d "$d/other.db" "$d/a.csv" 2>"$d/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "foreign database: gpuingest exited $rc"
grep -q "is not a warehouse" "$d/err" || fail "foreign database: $(cat "$d/err")"
for t in "gpuagg -d $d/other.db" "gpuagg -d $d/other.db --refresh" \
	"gpubill -d $d/other.db"; do
	set +e
	$t >/dev/null 2>"$d/err"
	rc=$?
	set -e
	[ "$rc" -eq 1 ] && grep -q "is not a warehouse" "$d/err" ||
		fail "foreign database: $t exited $rc: $(cat "$d/err")"
done
cmp -s "$d/other.db" "$d/other.orig" || fail "foreign database changed"
[ ! -e "$d/other.db-wal" ] || fail "foreign database got a WAL"

# A run holding the lock (it reads a slow pipe inside its transaction)
# makes a second one give up after --lock-timeout.
before=$(sqlite3 "$d/w.db" "SELECT count(*) FROM gpu_usage_fact; SELECT count(*) FROM ingest_log")
gen "$d/c.csv" 1795917600
{ cat "$d/c.csv"; sleep 4; } | gpuingest -q -d "$d/w.db" &
holder=$!
sleep 1
set +e
gpuingest -q -d "$d/w.db" --lock-timeout 0.5 "$d/b.csv" 2>"$d/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "busy run exited $rc"
grep -q "warehouse busy" "$d/err" || fail "no busy message: $(cat "$d/err")"
wait $holder || fail "lock holder failed"
after=$(sqlite3 "$d/w.db" "SELECT count(*) FROM gpu_usage_fact; SELECT count(*) FROM ingest_log")
[ "$after" = "$(echo "$before" | awk 'NR == 1 { print $1 + 9600 } NR == 2 { print $1 + 1 }')" ] ||
	fail "after busy: '$after' (before '$before')"
echo ok
