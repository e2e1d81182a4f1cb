#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuexport killed with SIGKILL at random moments: after each kill the
# table reads (tests/lake/check_table.py, python3-avro) as the previous
# snapshot or the new one, never in between, with every file it names in
# place; a re-run completes the export and the table holds exactly the
# warehouse's rows. Appends and overwrites (a corrected re-send) alternate;
# every other round also expires all but the last three snapshots, whose
# files are deleted only after the new metadata is committed.
# Skips (77) without python3-avro or the binaries.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
if ! "$py" -c 'import avro' 2>/dev/null; then
	echo "skip: python3-avro is needed (scripts/install-deps.sh --lake)"
	exit 77
fi
for t in gpugen gpuingest gpuexport sqlite3; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "skip: $t is not built or installed"
		exit 77
	fi
done
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT INT TERM
db="$d/w.db"
table="$d/lake/gpu_usage_fact"
fail() {
	echo "FAIL: $*"
	exit 1
}
reads() {
	"$py" "$top/tests/lake/check_table.py" "$table" 2>&1
}
count() {
	sqlite3 "$db" "SELECT count(*) FROM gpu_usage_fact"
}

gpugen -n 4 -g 8 -s 2026-11-01 -H 96 -i 120 -S 5 -o "$d/all.csv" ||
	fail "gpugen"
head -1 "$d/all.csv" >"$d/head"
gpuingest -q --db "$db" "$d/all.csv" || fail "gpuingest"
# Start from the first day only: later rounds ingest the rest.
sqlite3 "$db" "DELETE FROM gpu_usage_fact WHERE ts_ms >= 1762041600000" ||
	fail "sqlite3"
gpuexport --db "$db" --lake "$d/lake" -t gpu_usage_fact || fail "first export"

seed=${LAKE_KILL_SEED:-$$}
echo "seed $seed"
completed=0 undone=0 before=0 after=0
i=0
while [ "$i" -lt 16 ]; do
	i=$((i + 1))
	# New data: a corrected re-send (an overwrite) every third round,
	# else the samples of the next 6 hours (an append).
	if [ $((i % 3)) -eq 0 ]; then
		{ cat "$d/head"; sed -n "$((i * 50 + 2)),$((i * 50 + 40))p" \
			"$d/all.csv" | awk -F, -v OFS=, '{ $4 = ($4 + 1) % 100; print }'
		} >"$d/fix.csv"
	else
		{ cat "$d/head"; awk -v n="$i" 'NR > 1 { print }' "$d/all.csv" |
			grep "^2026-11-0$((2 + (i - 1) / 4))T$(printf %02d \
			$(( ((i - 1) % 4) * 6 )))" ; } >"$d/fix.csv"
	fi
	gpuingest -q --db "$db" "$d/fix.csv" || fail "ingest round $i"
	old=$(reads) || fail "round $i: table unreadable before: $old"
	want=$(count)
	expire=
	[ $((i % 2)) -eq 1 ] && expire="--retain-last 3"
	# shellcheck disable=SC2086 # $expire is empty or two words
	gpuexport --db "$db" --lake "$d/lake" -t gpu_usage_fact $expire \
		--row-group-mb 1 2>"$d/err" &
	pid=$!
	delay=$(awk -v s="$seed" -v i="$i" 'BEGIN { srand(s + i);
		printf "%.3f", rand() * 0.05 }')
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	now=$(reads) || fail "round $i (kill after ${delay}s): $now"
	if [ "$now" = "$old" ]; then
		before=$((before + 1))
	elif [ "${now#* }" = "$want" ]; then
		after=$((after + 1))
	else
		fail "round $i: read '$now', expected '$old' or rows $want"
	fi
	# shellcheck disable=SC2086
	gpuexport -v --db "$db" --lake "$d/lake" -t gpu_usage_fact $expire \
		2>"$d/err2" || { cat "$d/err2"; fail "round $i: re-run"; }
	grep -q "completing the interrupted" "$d/err2" &&
		completed=$((completed + 1))
	grep -q "undoing the interrupted" "$d/err2" && undone=$((undone + 1))
	now=$(reads) || fail "round $i after the re-run: $now"
	[ "${now#* }" = "$want" ] ||
		fail "round $i: re-run reads '$now', warehouse has $want rows"
done
# After a last expiry, the metadata lists the last three snapshots and
# only the retained versions' metadata files are left. (A kill before the
# pending record leaves files no state names: those stay, as documented.)
gpuexport --db "$db" --lake "$d/lake" -t gpu_usage_fact --retain-last 3 ||
	fail "last expiry"
v=$(cat "$table/metadata/version-hint.text")
n=$("$py" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["snapshots"]))' \
	"$table/metadata/v$v.metadata.json")
[ "$n" -eq 3 ] || fail "$n snapshots after expiry, expected 3"
n=$(find "$table/metadata" -name 'v*.metadata.json' | wc -l)
[ "$n" -eq "$(sqlite3 "$db" "SELECT count(*) FROM lake_export_versions")" ] ||
	fail "$n metadata files after expiry, not those of the versions kept"
now=$(reads) || fail "after the last expiry: $now"
[ "${now#* }" = "$(count)" ] || fail "after the last expiry: read '$now'"
echo "16 kills: $before read the old snapshot, $after the new one;"
echo "re-runs completed $completed and undid $undone interrupted commits"
