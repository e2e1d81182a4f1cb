#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuingest crash safety: SIGKILL a large run at random moments; after each
# kill the warehouse passes PRAGMA integrity_check and holds none or all of
# the run; a re-run completes it.
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
echo "ok: $kills kills, $full completed before the kill"
