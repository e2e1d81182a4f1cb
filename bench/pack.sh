#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark packing (gpuingest --pack-raw, docs/WAREHOUSE.md "Packing"):
# the time of the pass over a warehouse of ROWS samples (bench/size.sh's
# dataset: 200 nodes x 8 GPUs, a sample every 300 s), against its first
# load; then the same reads of the warehouse as loaded and packed: the
# view read whole by sqlite3, a query that reads samples (gpuagg --by
# usage_category), one that reads the rollups (gpuagg --period hour --by
# node), and the lake export of the fact table. Prints median wall
# seconds, the ratios packed / stored, and the bytes per sample; and the
# peak RSS of the pass (GNU time).
# usage: bench/pack.sh   (B names the build directory; RUNS, default 3;
#        ROWS, default 1000000)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest gpuagg gpuexport
command -v sqlite3 >/dev/null || { echo "bench: sqlite3 missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
runs=${RUNS:-3}
rows=${ROWS:-1000000}
export TZ=UTC LC_ALL=C
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pack-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

hours=$(((rows + 19199) / 19200))
"$bin/gpugen" -n 200 -g 8 -i 300 -S 1 -t epoch_ms -H "$hours" -o "$tmp/s.csv"
n=$(($(wc -l <"$tmp/s.csv") - 1))

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
per() { # bytes per sample of a warehouse: its pages in use
	sqlite3 "$1" "SELECT printf('%.2f', sum(pgsize) * 1.0 / $n) FROM dbstat"
}

ing="$bin/gpuingest -q --interval 300"
t_load=$(median "rm -f $tmp/w.db*" "$ing -d $tmp/w.db $tmp/s.csv")
sqlite3 "$tmp/w.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$tmp/w.db" "$tmp/stored.db"
# The dataset ends before the hour of the run: 1s packs every sample.
t_pack=$(median "rm -f $tmp/p.db*; cp $tmp/stored.db $tmp/p.db" \
	"$ing -d $tmp/p.db --pack-raw 1s")
cp "$tmp/p.db" "$tmp/packed.db"
sqlite3 "$tmp/packed.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
rm -f "$tmp"/p.db*
cp "$tmp/stored.db" "$tmp/p.db"
# shellcheck disable=SC2086 # $ing: a command and its options
rss=$( { /usr/bin/time -f '%M' $ing -d "$tmp/p.db" --pack-raw 1s; } 2>&1 | tail -n 1)

echo "$n samples (gpugen -n 200 -g 8 -i 300 -S 1 -H $hours), $runs runs, median s"
printf '  %-34s %8s\n' "first load (gpuingest)" "$t_load"
printf '  %-34s %8s  (%s of the load; peak RSS %s MB)\n' \
	"--pack-raw, every sample" "$t_pack" "$(ratio "$t_pack" "$t_load")" \
	"$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '  %-34s %8s %8s %8s\n' "" stored packed ratio
# The last hour's samples by ts_ms: the view decodes every packed time.
last=$(sqlite3 "$tmp/stored.db" "SELECT max(ts_ms) - 3600000 FROM gpu_usage_fact_rows")
for q in "view|sqlite3 @ 'SELECT count(*), sum(util_pct), sum(power_w) FROM gpu_usage_fact'" \
	"view, the last hour by ts_ms|sqlite3 @ 'SELECT count(*) FROM gpu_usage_fact WHERE ts_ms >= $last'" \
	"usage_category|$bin/gpuagg -d @ --by usage_category" \
	"hour x node (rollups)|$bin/gpuagg -d @ --period hour --by node"; do
	name=${q%%|*}
	cmd=${q#*|}
	a=$(median : "$(echo "$cmd" | sed "s|@|$tmp/stored.db|")")
	b=$(median : "$(echo "$cmd" | sed "s|@|$tmp/packed.db|")")
	printf '  %-34s %8s %8s %8s\n' "$name" "$a" "$b" "$(ratio "$b" "$a")"
done
# The export records its state in the warehouse: each run on a fresh copy.
for w in stored packed; do
	eval "t_$w=\$(median \"rm -rf $tmp/x.db* $tmp/lake; cp $tmp/$w.db $tmp/x.db\" \
		\"$bin/gpuexport -d $tmp/x.db -l $tmp/lake -t gpu_usage_fact\")"
done
# shellcheck disable=SC2154 # set by the eval above
printf '  %-34s %8s %8s %8s\n' "gpuexport -t gpu_usage_fact" "$t_stored" \
	"$t_packed" "$(ratio "$t_packed" "$t_stored")"
printf '  %-34s %8s %8s\n' "bytes per sample (pages in use)" \
	"$(per "$tmp/stored.db")" "$(per "$tmp/packed.db")"
