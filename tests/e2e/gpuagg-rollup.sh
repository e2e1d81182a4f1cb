#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuagg: the rollup gives exactly the direct scan's output on randomized
# data with late, duplicate and corrected rows; totals match independent
# SQL; a refresh rebuilds only dirty hours.
set -eu
command -v gpuagg >/dev/null || { echo "skip: gpuagg not built"; exit 77; }
command -v gpugen >/dev/null || { echo "skip: gpugen not built"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }

# Load a CSV of epoch-ms samples into the warehouse with plain SQL (an
# upsert, last write wins), marking the hours it touched as gpuingest does.
# A third of the rows lose their owner; job records supply one, prefixed
# "rec-" for even jobs so that a sample's own owner visibly wins.
load() {
	sqlite3 w.db <<SQL
.import --csv $1 raw
UPDATE raw SET user = '', project = '' WHERE rowid % 3 = 0;
INSERT OR IGNORE INTO nodes_dim(node) SELECT DISTINCT node FROM raw;
INSERT OR IGNORE INTO jobs_dim(job_id) SELECT DISTINCT job_id FROM raw
 WHERE job_id <> '';
UPDATE jobs_dim SET
 user = (SELECT CASE WHEN job_key % 2 = 0 THEN 'rec-' ELSE '' END || max(user)
  FROM orig WHERE orig.job_id = jobs_dim.job_id),
 project = (SELECT max(project) FROM orig WHERE orig.job_id = jobs_dim.job_id);
INSERT OR IGNORE INTO names_dim(name) SELECT user FROM raw WHERE user <> ''
 UNION SELECT project FROM raw WHERE project <> ''
 UNION SELECT model FROM raw WHERE model <> '';
INSERT OR IGNORE INTO dirty_hours
 SELECT DISTINCT CAST(timestamp AS INTEGER) / 3600000 * 3600000 FROM raw;
INSERT OR REPLACE INTO gpu_usage_fact(ts_ms, node_id, gpu, util_pct,
 mem_used_mib, mem_total_mib, job_key, user_key, project_key, model_key,
 interval_s, ingest_id, power_w, temp_c)
SELECT CAST(timestamp AS INTEGER), n.node_id, CAST(gpu AS INTEGER),
 CAST(util_pct AS REAL), CAST(mem_used_mib AS INTEGER),
 CAST(nullif(mem_total_mib, '') AS INTEGER),
 (SELECT job_key FROM jobs_dim WHERE job_id = r.job_id),
 (SELECT name_key FROM names_dim WHERE name = r.user AND r.user <> ''),
 (SELECT name_key FROM names_dim WHERE name = r.project AND r.project <> ''),
 (SELECT name_key FROM names_dim WHERE name = r.model AND r.model <> ''),
 CAST(interval_s AS INTEGER), 1,
 CAST(nullif(power_w, '') AS REAL), CAST(nullif(temp_c, '') AS REAL)
FROM raw r JOIN nodes_dim n ON n.node = r.node ORDER BY r.rowid;
DROP TABLE raw;
SQL
}

gpugen -n 3 -g 4 -H 30 -S 42 -t epoch_ms -x interval_s >all.csv
# Vary durations and drop some power readings and totals.
awk -F, 'BEGIN { OFS = "," } NR > 1 { if (NR % 5 == 0) $13 = 30;
	if (NR % 11 == 0) $11 = ""; if (NR % 13 == 0) $6 = "" } { print }' \
	all.csv >v.csv
head -1 v.csv >early.csv
head -1 v.csv >late.csv
cut=1793548800000 # 16 hours in
awk -F, -v c=$cut 'NR > 1 && $1 < c' v.csv >>early.csv
awk -F, -v c=$cut 'NR > 1 && $1 >= c' v.csv >>late.csv
# Late corrections of early rows, and exact duplicates.
awk -F, -v c=$cut 'BEGIN { OFS = "," } NR > 1 && $1 < c && $1 >= c - 10800000 {
	if (NR % 17 == 0) { $4 = ($4 + 41) % 100; $5 = $5 + 9000; print }
	else if (NR % 23 == 0) print }' v.csv >>late.csv

# An empty warehouse: only gpuingest creates one.
printf 'timestamp,node,gpu,util_pct,mem_used_mib,mem_total_mib\n' |
	gpuingest -q --db w.db
sqlite3 w.db ".import --csv v.csv orig"
load early.csv
gpuagg --refresh --db w.db
n=$(sqlite3 w.db "SELECT count(*) FROM dirty_hours")
[ "$n" -eq 0 ] || fail "dirty hours left after refresh: $n"
load late.csv

# Incremental: a canary in an hour no ingest touched must survive.
clean=$(sqlite3 w.db "SELECT min(hour_ms) FROM usage_hourly
	WHERE hour_ms NOT IN (SELECT hour_ms FROM dirty_hours)")
sqlite3 w.db "UPDATE usage_hourly SET samples = samples + 1000000
	WHERE hour_ms = $clean"
dirty=$(sqlite3 w.db "SELECT count(*) FROM dirty_hours")
gpuagg --refresh -v --db w.db 2>err
grep -q "refreshed $dirty hours" err || fail "refresh: $(cat err)"
canary=$(sqlite3 w.db "SELECT max(samples) FROM usage_hourly
	WHERE hour_ms = $clean")
[ "$canary" -gt 1000000 ] || fail "refresh rebuilt a clean hour"
# The canary reached the derived rollups of its (dirty) day: rebuild it.
sqlite3 w.db "UPDATE usage_hourly SET samples = samples - 1000000
	WHERE hour_ms = $clean; INSERT INTO dirty_hours VALUES($clean)"
gpuagg --refresh --db w.db
# The derived rollups hold exactly the sums of the hourly one.
bad=$(sqlite3 w.db "SELECT (SELECT sum(samples) || '/' || sum(overage)
	FROM usage_hourly) IS NOT (SELECT sum(samples) || '/' || sum(overage)
	FROM usage_daily) OR (SELECT sum(samples) || '/' || max(max_mem)
	FROM usage_hourly) IS NOT (SELECT sum(samples) || '/' || max(max_mem)
	FROM usage_hourly_node)")
[ "$bad" -eq 0 ] || fail "daily or node rollup differs from the hourly one"

# Rollup == direct scan, byte for byte.
for args in "" "--by node" "--period hour --by gpu" "--period day --by job" \
	"--period hour --by node" "--period hour --by node --from 2026-11-01T03:30" \
	"--period day --by node --from 2026-11-01T05:00 --to 2026-11-02T01:00" \
	"--period week --by user,project" "--period month --by model,job" \
	"--period day --by user --from 2026-11-01T03:30 --to 2026-11-02T01:15" \
	"--by job --from 2026-11-01T05:10:00Z --to 2026-11-01T05:50:00Z" \
	"--by job,model --mem-threshold-gb 20" "--period hour -f json"; do
	# shellcheck disable=SC2086
	gpuagg --db w.db $args >rollup.out
	# shellcheck disable=SC2086
	gpuagg --db w.db --scan $args >scan.out
	cmp -s rollup.out scan.out || {
		diff rollup.out scan.out | head
		fail "rollup and scan differ for '$args'"
	}
	[ -s rollup.out ] || fail "no output for '$args'"
done

# Totals against independent SQL over the fact table (effective owner).
gpuagg --db w.db --by user -m samples,gpu_seconds,alloc_gpu_seconds,max_mem_used_mib,mem_overage_mib_seconds,busy_gpu_hours \
	| tail -n +2 >agg.csv
sqlite3 -list -separator , w.db >sql.csv <<'SQL'
SELECT coalesce(un.name, ju.name, ''), count(*), sum(f.interval_s),
 sum(CASE WHEN f.job_key IS NOT NULL THEN f.interval_s ELSE 0 END),
 sum(f.interval_s * f.util_pct) / 360000.0, max(f.mem_used_mib),
 sum(CASE WHEN f.job_key IS NOT NULL AND f.mem_used_mib > 16384
  THEN f.interval_s * (f.mem_used_mib - 16384) ELSE 0 END)
FROM gpu_usage_fact f
LEFT JOIN names_dim un ON un.name_key = f.user_key
LEFT JOIN jobs_dim j ON j.job_key = f.job_key
LEFT JOIN names_dim ju ON ju.name = nullif(j.user, '')
GROUP BY 1 ORDER BY 1;
SQL
awk -F, 'NR == FNR { want[$1] = $0; next }
	{ split(want[$1], w, ","); if (w[1] != $1) { print "missing " $1; bad = 1 }
	  for (i = 2; i <= 7; i++) if (i != 5 && w[i] != $i) { print $0 " vs " want[$1]; bad = 1 }
	  d = w[5] - $5; if (d < 0) d = -d; if (d > 0.000002) { print "busy " $0; bad = 1 }
	  n++ }
	END { exit bad || n < 3 }' sql.csv agg.csv || fail "totals differ from SQL"
[ "$(wc -l <agg.csv)" -eq "$(wc -l <sql.csv)" ] || fail "group counts differ"
grep -q '^rec-' agg.csv || fail "job records gave no owner"
echo ok
