#!/bin/sh
# SPDX-License-Identifier: MIT
# Soak: load SOAK_SAMPLES samples into one warehouse in hourly batches, as
# the hourly pipeline would (gpugen writes each hour; gpuingest loads it
# and brings that hour's rollups up to date in the same transaction), and
# record each batch's wall time, gpuingest's peak RSS and the warehouse's
# size in a CSV: batch,hour,rows,seconds,rss_kb,db_bytes,pack_seconds
# (with SOAK_PACK, a duration: each batch then runs gpuingest --pack-raw,
# as the pipeline's PACK_RAW would, "now" the end of the batch's hour;
# its time is the last column, not in seconds). Prints how flat
# the per-batch time stays (least-squares slope, medians of the first and
# last tenth of the batches) and the largest RSS. bench/soak-plot.sh draws
# the CSV.
# usage: bench/soak.sh   (B: build dir; SOAK_SAMPLES, default 50000000;
#        SOAK_NODES, default 200; SOAK_GPUS, default 8; SOAK_INTERVAL in
#        seconds, default 60 (so 96,000 samples a batch); SOAK_CSV, default
#        bench/out/soak.csv; SOAK_DB: the warehouse, default a temporary
#        one, removed at the end; SOAK_PACK: see above)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
export TZ=UTC LC_ALL=C
samples=${SOAK_SAMPLES:-50000000}
nodes=${SOAK_NODES:-200}
gpus=${SOAK_GPUS:-8}
interval=${SOAK_INTERVAL:-60}
csv=${SOAK_CSV:-$top/bench/out/soak.csv}
per=$((nodes * gpus * (3600 / interval)))
batches=$(((samples + per - 1) / per))
tmp=$(mktemp -d "${TMPDIR:-/tmp}/soak-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
db=${SOAK_DB:-$tmp/w.db}
mkdir -p "$(dirname "$csv")"
t0=1793491200 # 2026-11-01T00:00:00Z
echo "soak: $batches hourly batches of $per samples ($nodes nodes x $gpus GPUs, every $interval s) into $db" >&2
pack=${SOAK_PACK:-}
echo "batch,hour,rows,seconds,rss_kb,db_bytes,pack_seconds" >"$csv"
i=1
while [ "$i" -le "$batches" ]; do
	start=$(date -u -d "@$((t0 + (i - 1) * 3600))" +%Y-%m-%dT%H:%M:%SZ)
	"$bin/gpugen" -n "$nodes" -g "$gpus" -i "$interval" -s "$start" -H 1 \
		-S "$i" -o "$tmp/b.csv"
	rows=$(($(wc -l <"$tmp/b.csv") - 1))
	s=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$tmp/time" "$bin/gpuingest" -q \
		--interval "$interval" -d "$db" "$tmp/b.csv"
	e=$(date +%s%N)
	p=$e
	if [ -n "$pack" ]; then
		GPUUSAGE_NOW=$(date -u -d "@$((t0 + i * 3600))" +%Y-%m-%dT%H:%M:%SZ) \
			"$bin/gpuingest" -q -d "$db" --pack-raw "$pack"
		p=$(date +%s%N)
	fi
	size=$(($(stat -c %s "$db") + $(stat -c %s "$db-wal" 2>/dev/null || echo 0)))
	printf '%d,%s,%d,%.3f,%d,%d,%.3f\n' "$i" "$start" "$rows" \
		"$(awk -v a="$s" -v b="$e" 'BEGIN { print (b - a) / 1e9 }')" \
		"$(tail -n 1 "$tmp/time")" "$size" \
		"$(awk -v a="$e" -v b="$p" 'BEGIN { print (b - a) / 1e9 }')" >>"$csv"
	[ $((i % 50)) -eq 0 ] && echo "soak: batch $i of $batches: $(tail -n 1 "$csv")" >&2
	i=$((i + 1))
done
sh "$top/bench/soak-stats.sh" "$csv"
# What the warehouse takes per sample at the end: its pages in use (dbstat)
# and its file, with the packed and stored samples.
if command -v sqlite3 >/dev/null; then
	sqlite3 "$db" "SELECT printf('soak: %d samples stored as rows, %d'
	  || ' packed; %.2f bytes per sample in use, %.2f in the file',
	  r, p, u * 1.0 / (r + p), f * 1.0 / (r + p)) FROM
	  (SELECT (SELECT count(*) FROM gpu_usage_fact_rows) AS r,
	   (SELECT coalesce(sum(n), 0) FROM gpu_usage_fact_packed) AS p,
	   (SELECT sum(pgsize) FROM dbstat) AS u,
	   (SELECT page_count * page_size FROM pragma_page_count,
	    pragma_page_size) AS f)"
fi
