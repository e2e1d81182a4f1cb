#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuingest crash safety: SIGKILL a large run at random moments; after each
# kill the warehouse passes PRAGMA integrity_check and holds none or all of
# the run; a re-run completes it. The same for the first run into a new
# warehouse, which writes with a rollback journal until it commits: a
# reader refuses the journal it leaves, and gpuagg --refresh or the next
# gpuingest rolls it back.
set -eu
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A committed baseline, then a large run (~300000 rows).
awk 'BEGIN { print "timestamp,node,gpu,util_pct,mem_used_mib";
	for (g = 0; g < 100; g++) printf "1795881600,base,%d,1,1\n", g }' >"$d/base.csv"
if command -v gpugen >/dev/null; then
	gpugen -n 50 -g 8 -H 12.5 -S 3 -o "$d/big.csv"
else
	awk 'BEGIN { print "timestamp,node,gpu,util_pct,mem_used_mib,job_id,user";
		for (t = 0; t < 750; t++) for (n = 1; n <= 50; n++) for (g = 0; g < 8; g++)
			printf "%d,node%03d,%d,%d,%d,j%d,u%d\n", 1795881600 + 60 * t, n, g,
				(t + g) % 101, t + n, (n * 7 + int(t / 90)) % 300, n % 9 }' >"$d/big.csv"
fi
big=$(($(wc -l <"$d/big.csv") - 1))
gpuingest -q -d "$d/w.db" "$d/base.csv"

# Time one full run (on a copy) to spread the kills over its length.
cp "$d/w.db" "$d/t.db"
t0=$(date +%s%N)
gpuingest -q -d "$d/t.db" "$d/big.csv"
ms=$((($(date +%s%N) - t0) / 1000000))
rm -f "$d"/t.db*

kills=0 full=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	delay=$(awk -v i="$i" -v ms="$ms" 'BEGIN { srand(); printf "%.3f", ms * ((i - 1) / 10 + rand() / 10) / 1000 }')
	gpuingest -q -d "$d/w.db" "$d/big.csv" &
	pid=$!
	sleep "$delay"
	if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
	wait "$pid" 2>/dev/null || true
	[ "$(sqlite3 "$d/w.db" "PRAGMA integrity_check")" = ok ] ||
		fail "integrity after kill at ${delay}s"
	n=$(sqlite3 "$d/w.db" "SELECT count(*) FROM gpu_usage_fact")
	case $n in
	100) ;;
	$((100 + big))) full=$((full + 1)); break ;;
	*) fail "after kill at ${delay}s the fact table holds $n rows (100 or $((100 + big)) allowed)" ;;
	esac
	[ "$(sqlite3 "$d/w.db" "SELECT count(*) FROM ingest_log WHERE status <> 'ok'")" = 0 ] ||
		fail "a half-written ingest_log row survived"
	[ "$(sqlite3 "$d/w.db" "SELECT count(*) FROM ingest_log")" = 1 ] ||
		fail "ingest_log holds a row of a killed run"
done
gpuingest -q -d "$d/w.db" --summary json "$d/big.csv" >"$d/s"
[ "$(sqlite3 "$d/w.db" "SELECT count(*) FROM gpu_usage_fact")" = $((100 + big)) ] ||
	fail "re-run did not complete the load"
[ "$(sqlite3 "$d/w.db" "PRAGMA integrity_check")" = ok ] || fail "final integrity"

# The first run into a new warehouse, killed inside its transaction once
# it has written pages: its journal is hot.
cat "$d/big.csv" "$d/big.csv" "$d/big.csv" >"$d/big3.csv" # re-sends: slower
caught=false
for try in 1 2 3; do
	rm -f "$d"/n.db*
	gpuingest -q -d "$d/n.db" "$d/big3.csv" &
	pid=$!
	until [ -s "$d/n.db-journal" ] && [ "$(wc -c <"$d/n.db")" -gt 1000000 ]; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -9 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		[ -s "$d/n.db-journal" ] && { caught=true; break; }
	fi
	wait "$pid" 2>/dev/null || true
done
$caught || fail "the first run could not be killed with its journal hot"
if gpuagg -d "$d/n.db" --period day >/dev/null 2>"$d/err"; then
	fail "a reader read a warehouse with a hot journal"
fi
grep -q "a write to it was interrupted" "$d/err" ||
	fail "reader's message: $(cat "$d/err")"
[ -s "$d/n.db-journal" ] || fail "a reader removed the journal"
# A writer rolls it back: the warehouse is then empty, and readable.
gpuagg -d "$d/n.db" --refresh || fail "gpuagg --refresh on a hot journal"
[ ! -e "$d/n.db-journal" ] || fail "gpuagg --refresh left the journal"
gpuagg -d "$d/n.db" --period all >"$d/out" || fail "a reader after the refresh"
[ "$(wc -l <"$d/out")" = 1 ] || fail "samples of the killed run: $(cat "$d/out")"
gpuingest -q -d "$d/n.db" "$d/big.csv"
[ "$(sqlite3 "$d/n.db" "SELECT count(*) FROM gpu_usage_fact")" = "$big" ] ||
	fail "new warehouse: the re-run after the kill did not load the input"
[ "$(sqlite3 "$d/n.db" "PRAGMA integrity_check")" = ok ] ||
	fail "new warehouse: integrity after the re-run"
[ "$(sqlite3 "$d/n.db" "PRAGMA journal_mode")" = wal ] ||
	fail "new warehouse: not in WAL mode after its run"

# The same, killed at random moments of a first load.
t0=$(date +%s%N)
rm -f "$d"/n.db*
gpuingest -q -d "$d/n.db" "$d/big.csv"
ms=$((($(date +%s%N) - t0) / 1000000))
nkills=0 nfull=0
for i in 1 2 3 4 5 6 7 8; do
	delay=$(awk -v i="$i" -v ms="$ms" 'BEGIN { srand(); printf "%.3f", ms * ((i - 1) / 8 + rand() / 8) / 1000 }')
	rm -f "$d"/n.db*
	gpuingest -q -d "$d/n.db" "$d/big.csv" &
	pid=$!
	sleep "$delay"
	if kill -9 "$pid" 2>/dev/null; then nkills=$((nkills + 1)); fi
	wait "$pid" 2>/dev/null || true
	[ -e "$d/n.db" ] || continue # killed before it was created
	# A reader refuses a hot journal, or a file killed before its
	# schema was written; a journal never synced is not hot (nothing was
	# written to the file yet), and the reader reads no samples.
	if gpuagg -d "$d/n.db" --period all >"$d/out" 2>"$d/err"; then
		n=$(awk -F, 'NR == 2 { print $1 }' "$d/out")
		case ${n:-0} in
		0 | "$big") ;;
		*) fail "a reader read $n samples of a killed first run" ;;
		esac
	else
		grep -q "a write to it was interrupted\|is empty, not a warehouse" "$d/err" ||
			fail "reader's message: $(cat "$d/err")"
	fi
	[ "$(sqlite3 "$d/n.db" "PRAGMA integrity_check")" = ok ] ||
		fail "new warehouse: integrity after kill at ${delay}s"
	n=$(sqlite3 "$d/n.db" "SELECT count(*) FROM gpu_usage_fact" 2>/dev/null || echo 0)
	case $n in
	0) ;;
	"$big") nfull=$((nfull + 1)) ;;
	*) fail "new warehouse: after kill at ${delay}s the fact table holds $n rows" ;;
	esac
	gpuingest -q -d "$d/n.db" "$d/big.csv"
	[ "$(sqlite3 "$d/n.db" "SELECT count(*) FROM gpu_usage_fact")" = "$big" ] ||
		fail "new warehouse: re-run after kill at ${delay}s did not complete the load"
	[ "$(sqlite3 "$d/n.db" "PRAGMA journal_mode")" = wal ] ||
		fail "new warehouse: not in WAL mode after its run"
done
echo "ok: $kills kills, $full completed before the kill; new warehouse: $nkills kills, $nfull completed"
