#!/bin/sh
# SPDX-License-Identifier: MIT
# A first load, this build against another (BASE) and the sqlite3 shell's
# .import of the same CSV into a plain typed table, interleaved run by run
# (base, this, .import; then again) after a sync each, so that the three
# see the same machine. Prints each one's median wall and user seconds,
# and the medians of the paired ratios (this over base, .import over
# this): on a shared machine the pairs move together, the seconds do not.
# With DUCK=1, DuckDB's load of the CSV (compare.sh's statement, through
# bench/duck.mjs) runs in each round too, and its ratio to this build.
# With INFER=1 both builds load without --interval 300, so that each
# infers the intervals in a first pass over the input (the default).
# The CSV is compare.sh's (200 nodes x 8 GPUs, a sample every 300 s),
# generated here when missing.
# usage: bench/ingest-ab.sh   (B: build dir; BASE: the other build dir,
#        required; ROWS: default 1000000; RUNS: default 7; DUCK: 0;
#        INFER: 0)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
base=${BASE:?"BASE: the build dir to compare with"}
base=$(cd "$base" && pwd)
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest
need_built "$base" gpuingest
command -v sqlite3 >/dev/null || { echo "bench: no sqlite3 shell" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
rows=${ROWS:-1000000}
tools="base new import"
if [ "${DUCK:-0}" = 1 ]; then
	if ! [ -d "$top/bench/node_modules/@duckdb/node-api" ] || ! command -v node >/dev/null; then
		echo "bench: DuckDB not installed (cd bench && npm ci)" >&2
		exit 1
	fi
	tools="$tools duck"
fi
runs=${RUNS:-7}
iv="--interval 300"
[ "${INFER:-0}" = 1 ] && iv=""
export TZ=UTC LC_ALL=C
w=$(mktemp -d "${TMPDIR:-/tmp}/ingest-ab.XXXXXX")
trap 'rm -rf "$w"' EXIT INT TERM
comparison_csv "$bin" "$rows" "$w/s.csv"
echo "CREATE TABLE samples AS SELECT * FROM read_csv('$w/s.csv');" >"$w/duck.sql"
n=$(($(wc -l <"$w/s.csv") - 1))
plain="CREATE TABLE samples(timestamp INTEGER, node TEXT, gpu INTEGER,
 util_pct REAL, mem_used_mib INTEGER, mem_total_mib INTEGER, job_id TEXT,
 user TEXT, project TEXT, model TEXT, power_w REAL, temp_c REAL);"
: >"$w/times"
i=1
while [ "$i" -le "$runs" ]; do
	for t in $tools; do
		rm -f "$w"/w.db* "$w"/p.db* "$w"/d.duckdb*
		[ "$t" = import ] && sqlite3 "$w/p.db" "$plain"
		sync
		# shellcheck disable=SC2086 # $iv: two words or none
		case $t in
		base) set -- "$base/gpuingest" -q $iv -d "$w/w.db" "$w/s.csv" ;;
		new) set -- "$bin/gpuingest" -q $iv -d "$w/w.db" "$w/s.csv" ;;
		import) set -- sqlite3 "$w/p.db" -cmd '.mode csv' ".import --skip 1 $w/s.csv samples" ;;
		duck) set -- node "$top/bench/duck.mjs" "$w/d.duckdb" "$w/duck.sql" ;;
		esac
		# (DuckDB's client says how many rows on standard error)
		/usr/bin/time -f "$t $i %e %U" -a -o "$w/times" "$@" 2>"$w/err" ||
			{ cat "$w/err" >&2; exit 1; }
	done
	i=$((i + 1))
done
echo "$n rows (gpugen $gen_args), $runs runs each, interleaved"
cat >"$w/report.awk" <<'EOF'
	{ wall[$1, $2] = $3; user[$1, $2] = $4; if ($2 > runs) runs = $2 }
	END {
		printf "%-8s %10s %10s\n", "load", "median s", "user s"
		nt = split(tools, names, " ")
		for (k = 1; k <= nt; k++) {
			for (r = 1; r <= runs; r++) {
				a[r] = wall[names[k], r]; b[r] = user[names[k], r]
			}
			printf "%-8s %10.2f %10.2f\n", names[k], median(a, runs), median(b, runs)
		}
		for (r = 1; r <= runs; r++) {
			a[r] = wall["new", r] / wall["base", r]
			b[r] = wall["import", r] / wall["new", r]
			c[r] = ("duck", r) in wall ? wall["duck", r] / wall["new", r] : 0
		}
		printf "paired, median: new / base %.2f, import / new %.2f", median(a, runs), median(b, runs)
		if (nt > 3)
			printf ", duck / new %.2f", median(c, runs)
		printf "\n"

	}
EOF
awk -v tools="$tools" -f "$top/bench/median.awk" -f "$w/report.awk" "$w/times"
