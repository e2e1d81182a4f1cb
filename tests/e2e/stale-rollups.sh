#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuagg, gpubill and gpureport over stale rollups (hours listed in
# dirty_hours, as an older gpuingest leaves them): they read the stale hours
# from the facts and write nothing (the file keeps its bytes and mtime, the
# hours stay dirty), and print exactly what they print once a writer
# (gpuagg --refresh) has brought the rollups up to date, job owners that
# only a refresh would intern included.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuagg gpubill gpureport sqlite3
cd "$T" || exit 1
gpugen -n 3 -g 2 -s 2026-11-30T00:00 -H 50 -S 11 -i 300 -x interval_s \
	-j jobs.csv -o s.csv || fail gpugen
gpuingest -q -d w.db -j jobs.csv s.csv >/dev/null || fail gpuingest
[ "$(sqlite3 w.db 'SELECT count(*) FROM dirty_hours')" -eq 0 ]
check "gpuingest brings the rollups up to date" $?

# What an older writer leaves behind: corrected facts, job records with
# owners names_dim has never seen, and the hours they touch marked dirty.
sqlite3 w.db <<'SQL' || fail "cannot make the rollups stale"
UPDATE gpu_usage_fact SET util_pct = 100 - util_pct,
 mem_used_mib = mem_used_mib + 20000
 WHERE ts_ms % 900000 = 0 AND ts_ms < 1764547200000;
UPDATE jobs_dim SET user = 'late-' || job_key, project = 'lateproj'
 WHERE job_key % 3 = 0;
UPDATE gpu_usage_fact SET user_key = NULL, project_key = NULL
 WHERE job_key % 3 = 0;
INSERT OR IGNORE INTO dirty_hours SELECT DISTINCT ts_ms / 3600000 * 3600000
 FROM gpu_usage_fact
 WHERE (ts_ms % 900000 = 0 AND ts_ms < 1764547200000) OR job_key % 3 = 0;
SQL
dirty=$(sqlite3 w.db "SELECT count(*) FROM dirty_hours")
[ "$dirty" -gt 0 ] || fail "no dirty hours"
sqlite3 w.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
sum=$(cksum <w.db)
mtime=$(stat -c %y w.db)

queries() { # $1: warehouse, $2: output prefix
	i=0
	for args in "" "--by user" "--period hour --by node" \
		"--period day --by job" "--period week --by project,model" \
		"--period month --by gpu" "--by job --mem-threshold-gb 8" \
		"--period day --by user --from 2026-11-30T05:30 --to 2026-12-01T20:15" \
		"--period hour --by node --from 2026-11-30T22:00" \
		"--by user --scan" "--period day --by node -f json"; do
		i=$((i + 1))
		# shellcheck disable=SC2086
		gpuagg --db "$1" $args >"$2.agg$i" || fail "gpuagg $args on $1"
	done
	gpubill --db "$1" --month 2026-11 --by user >"$2.bill1" &&
		gpubill --db "$1" --from 2026-11-30T10:00 --to 2026-12-02 \
			--by project --share-idle >"$2.bill2" ||
		fail "gpubill on $1"
	gpureport --db "$1" --from 2026-11-30 --to 2026-12-03 -o "$2.html" ||
		fail "gpureport on $1"
}

queries w.db stale
[ "$(cksum <w.db)" = "$sum" ] && [ "$(stat -c %y w.db)" = "$mtime" ]
check "the queries leave the warehouse file as it was" $?
[ "$(sqlite3 w.db 'SELECT count(*) FROM dirty_hours')" -eq "$dirty" ]
check "the hours stay dirty" $?
grep -q '^late-' stale.agg2
check "owners only a refresh would intern are named" $?

cp w.db fresh.db
gpuagg --refresh -v --db fresh.db 2>err || fail "refresh: $(cat err)"
grep -q "refreshed $dirty hours" err
check "gpuagg --refresh rebuilds the dirty hours" $?
queries fresh.db fresh
for f in stale.*; do
	cmp -s "$f" "fresh.${f#stale.}"
	check "stale and refreshed give the same ${f#stale.}" $?
done
exit "$failed"
