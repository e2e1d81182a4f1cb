#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuingest: a re-run changes nothing (fact table byte-identical), a
# corrected re-send updates exactly the changed rows, and the warehouse
# agrees with the same CSV loaded and deduplicated by the sqlite3 shell.
set -eu
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ~20000 rows: gpugen when built, else awk.
if command -v gpugen >/dev/null; then
	gpugen -n 10 -g 4 -H 8 -S 7 -o "$d/a.csv"
else
	awk 'BEGIN { print "timestamp,node,gpu,util_pct,mem_used_mib,mem_total_mib,job_id,user,project,model";
		for (t = 0; t < 480; t++) for (n = 1; n <= 10; n++) for (g = 0; g < 4; g++)
			printf "%d,node%02d,%d,%d.%d,%d,81920,%s,u%d,p%d,H100\n",
				1795881600 + 60 * t, n, g, (t * 7 + n * 3 + g) % 100, t % 10,
				(t * 13 + g) % 81920, (t / 60 + n) % 3 ? "j" n "_" int(t / 60) : "", n % 4, g % 2 }' >"$d/a.csv"
fi
rows=$(($(wc -l <"$d/a.csv") - 1))

dump() { sqlite3 "$d/w.db" ".dump gpu_usage_fact" >"$1"; }

gpuingest -q -d "$d/w.db" --summary json "$d/a.csv" >"$d/s1"
grep -q "\"read\":$rows,\"inserted\":$rows,\"updated\":0,\"unchanged\":0,\"superseded\":0,\"rejected\":0" "$d/s1" ||
	fail "first load: $(cat "$d/s1")"
dump "$d/dump1"

# Re-run: nothing inserted or updated, fact table byte for byte the same.
gpuingest -q -d "$d/w.db" --summary json "$d/a.csv" >"$d/s2"
grep -q "\"read\":$rows,\"inserted\":0,\"updated\":0,\"unchanged\":$rows," "$d/s2" ||
	fail "re-run: $(cat "$d/s2")"
dump "$d/dump2"
cmp -s "$d/dump1" "$d/dump2" || fail "re-run changed the fact table"
[ "$(sqlite3 "$d/w.db" "SELECT inserted || ' ' || updated || ' ' || unchanged FROM ingest_log WHERE ingest_id = 2")" = "0 0 $rows" ] ||
	fail "ingest_log counts of the re-run"

# Corrected re-send: every 97th data row gets another utilization.
awk -F, -v OFS=, 'NR > 1 && NR % 97 == 0 { $4 = ($4 + 0 >= 50) ? 1.5 : 98.5; n++ } { print }
	END { print n > "/dev/stderr" }' "$d/a.csv" >"$d/b.csv" 2>"$d/nchanged"
changed=$(cat "$d/nchanged")
gpuingest -q -d "$d/w.db" --summary json "$d/b.csv" >"$d/s3"
grep -q "\"read\":$rows,\"inserted\":0,\"updated\":$changed,\"unchanged\":$((rows - changed))," "$d/s3" ||
	fail "corrected re-send ($changed changed): $(cat "$d/s3")"
[ "$(sqlite3 "$d/w.db" "SELECT count(*) FROM gpu_usage_fact WHERE ingest_id = 3")" = "$changed" ] ||
	fail "updated rows do not carry the new ingest id"

# Independent computation: the sqlite3 shell loads a.csv then b.csv into a
# plain table and keeps the last row of each key (last write wins).
sqlite3 "$d/ref.db" <<SQL
.mode csv
.import $d/a.csv t
.import $d/b.csv t2
INSERT INTO t SELECT * FROM t2;
CREATE TABLE last AS SELECT * FROM t WHERE rowid IN
  (SELECT max(rowid) FROM t GROUP BY timestamp, node, gpu);
SQL
ref=$(sqlite3 "$d/ref.db" "SELECT count(*), printf('%.3f', sum(CAST(util_pct AS REAL))),
	sum(CAST(mem_used_mib AS INTEGER)), sum(job_id <> ''), count(DISTINCT node)
	FROM last")
got=$(sqlite3 "$d/w.db" "SELECT count(*), printf('%.3f', sum(util_pct)), sum(mem_used_mib),
	sum(allocated), count(DISTINCT node_id) FROM gpu_usage_fact")
refj=$(sqlite3 "$d/ref.db" "SELECT count(DISTINCT job_id) FROM last WHERE job_id <> ''")
gotj=$(sqlite3 "$d/w.db" "SELECT count(*) FROM jobs_dim")
[ "$ref" = "$got" ] || fail "warehouse '$got' != sqlite3 shell '$ref'"
[ "$refj" = "$gotj" ] || fail "jobs: warehouse $gotj != sqlite3 shell $refj"
pernode_ref=$(sqlite3 "$d/ref.db" "SELECT node, count(*), sum(CAST(mem_used_mib AS INTEGER)) FROM last GROUP BY node ORDER BY node")
pernode_got=$(sqlite3 "$d/w.db" "SELECT n.node, count(*), sum(mem_used_mib) FROM gpu_usage_fact f JOIN nodes_dim n USING (node_id) GROUP BY n.node ORDER BY n.node")
[ "$pernode_ref" = "$pernode_got" ] || fail "per-node sums differ"
echo "ok: $rows rows, $changed corrected"
