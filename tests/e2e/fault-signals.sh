#!/bin/sh
# SPDX-License-Identifier: MIT
# Faults during writes. SIGTERM and SIGINT during a gpuingest run: the run
# dies with the signal's status (143, 130) and the warehouse holds none of
# it, or it had committed (status 0, or the signal's after the commit) and
# holds all of it. SIGKILL at 30
# moments spread over an ingest and at 30 over a rollup refresh (gpuagg
# --refresh of every hour): after each, PRAGMA integrity_check is ok and
# the warehouse is as before the run or as after it, never in between.
set -eu
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# A background command of a non-interactive shell ignores SIGINT; give the
# tool the default handling back where env can.
if env --default-signal=INT true 2>/dev/null; then
	dflt="env --default-signal=INT"
else
	dflt=
fi

awk 'BEGIN { print "timestamp,node,gpu,util_pct,mem_used_mib";
	for (g = 0; g < 100; g++) printf "1795881600,base,%d,1,1\n", g }' >"$d/base.csv"
gpugen -n 20 -g 8 -H 10 -S 5 -o "$d/big.csv"
big=$(($(wc -l <"$d/big.csv") - 1))
gpuingest -q -d "$d/w.db" "$d/base.csv"
cp "$d/w.db" "$d/base.db"

t0=$(date +%s%N)
gpuingest -q -d "$d/w.db" "$d/big.csv"
ms=$((($(date +%s%N) - t0) / 1000000))
cp "$d/w.db" "$d/full.db"

facts() { sqlite3 "$1" "SELECT count(*) FROM gpu_usage_fact"; }
ok_db() {
	[ "$(sqlite3 "$1" 'PRAGMA integrity_check')" = ok ] || fail "$2: integrity_check"
}
at() { awk -v i="$1" -v n="$2" -v ms="$3" 'BEGIN { printf "%.3f", ms * (i - 0.5) / n / 1000 }'; }

# SIGTERM and SIGINT, three moments each.
signalled=0
for sig in TERM INT; do
	want=143
	[ "$sig" = INT ] && want=130
	[ "$sig" = INT ] && [ -z "$dflt" ] && { echo "note: no env --default-signal, SIGINT not tested"; continue; }
	for i in 1 2 3; do
		rm -f "$d"/s.db*
		cp "$d/base.db" "$d/s.db"
		# shellcheck disable=SC2086
		$dflt gpuingest -q -d "$d/s.db" "$d/big.csv" 2>/dev/null &
		pid=$!
		sleep "$(at "$i" 4 "$ms")"
		kill -s "$sig" "$pid" 2>/dev/null || true
		s=0
		wait "$pid" || s=$?
		ok_db "$d/s.db" "SIG$sig $i"
		n=$(facts "$d/s.db")
		case "$s:$n" in
		"$want:100") signalled=$((signalled + 1)) ;;
		# Done, or stopped after its commit (the checkpoint, the
		# summary): the run is wholly in, never in part.
		"0:$((100 + big))" | "$want:$((100 + big))") ;;
		*) fail "SIG$sig $i: status $s with $n facts" ;;
		esac
		[ "$(sqlite3 "$d/s.db" "SELECT count(*) FROM ingest_log WHERE status <> 'ok'")" = 0 ] ||
			fail "SIG$sig $i: a running ingest_log row survived"
	done
done
[ "$signalled" -gt 0 ] || fail "no run was stopped by a signal (too fast a machine?)"

# SIGKILL at 30 moments of an ingest.
kills=0
for i in $(seq 1 30); do
	rm -f "$d"/k.db*
	cp "$d/base.db" "$d/k.db"
	gpuingest -q -d "$d/k.db" "$d/big.csv" 2>/dev/null &
	pid=$!
	sleep "$(at "$i" 30 "$ms")"
	kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
	wait "$pid" 2>/dev/null || true
	ok_db "$d/k.db" "ingest kill $i"
	case $(facts "$d/k.db") in
	100 | $((100 + big))) ;;
	*) fail "ingest kill $i: $(facts "$d/k.db") facts" ;;
	esac
done

# SIGKILL at 30 moments of a rollup refresh of every hour.
sqlite3 "$d/full.db" "INSERT OR IGNORE INTO dirty_hours SELECT DISTINCT ts_ms / 3600000 * 3600000 FROM gpu_usage_fact"
dirty=$(sqlite3 "$d/full.db" "SELECT count(*) FROM dirty_hours")
[ "$dirty" -gt 1 ] || fail "no dirty hours to refresh"
cp "$d/full.db" "$d/r.db"
t0=$(date +%s%N)
gpuagg --refresh -d "$d/r.db"
rms=$((($(date +%s%N) - t0) / 1000000))
want=$(sqlite3 "$d/r.db" "SELECT sum(samples) FROM usage_hourly")
rkills=0
for i in $(seq 1 30); do
	rm -f "$d"/r.db*
	cp "$d/full.db" "$d/r.db"
	gpuagg --refresh -d "$d/r.db" 2>/dev/null &
	pid=$!
	sleep "$(at "$i" 30 "$rms")"
	kill -9 "$pid" 2>/dev/null && rkills=$((rkills + 1))
	wait "$pid" 2>/dev/null || true
	ok_db "$d/r.db" "refresh kill $i"
	case $(sqlite3 "$d/r.db" "SELECT count(*) FROM dirty_hours") in
	"$dirty" | 0) ;;
	*) fail "refresh kill $i: $(sqlite3 "$d/r.db" "SELECT count(*) FROM dirty_hours") of $dirty hours left dirty" ;;
	esac
	[ "$(gpuagg -d "$d/r.db" -m samples | tail -n 1)" = "$want" ] ||
		fail "refresh kill $i: readers see another total"
done
echo "ok: $signalled runs stopped by SIGTERM/SIGINT; $kills ingest and $rkills refresh SIGKILLs left the warehouse before or after"
