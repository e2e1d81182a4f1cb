#!/bin/sh
# SPDX-License-Identifier: MIT
# The warm queries of bench/compare.sh (gpuagg hour x node, month x user,
# day x job; gpubill --by job over all time), this build against another
# (BASE), on one warehouse, interleaved run by run (base, this; then
# again) so that both see the same machine. Prints each one's median wall
# milliseconds, the median of the paired ratios (this over base), and,
# with INSTR=1, each one's instructions by valgrind's callgrind (exact:
# the same on every run, whatever the machine's load); with THREADS=1,
# callgrind's instructions of each thread (the one that reads the
# rollups, then the one that writes the rows). Both builds must
# print the same bytes; a difference fails the run.
# Each build reads a warehouse it loaded itself from compare.sh's CSV
# (200 nodes x 8 GPUs, a sample every 300 s), so that builds of different
# schema versions compare.
# usage: bench/warm-ab.sh   (B: build dir; BASE: the other build dir,
#        required; ROWS: default 5000000; RUNS: default 40; INSTR: 0;
#        THREADS: 0)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${B:-build}"
base=${BASE:?"BASE: the build dir to compare with"}
base=$(cd "$base" && pwd)
# shellcheck source=lib.inc
. "$top/bench/lib.inc"
need_built "$bin" gpugen gpuingest gpuagg gpubill
need_built "$base" gpuingest gpuagg gpubill
rows=${ROWS:-5000000}
runs=${RUNS:-40}
export TZ=UTC LC_ALL=C
w=$(mktemp -d "${TMPDIR:-/tmp}/warm-ab.XXXXXX")
trap 'rm -rf "$w"' EXIT INT TERM
comparison_csv "$bin" "$rows" "$w/s.csv"
# w.db: this build's warehouse; base.db: the other's.
for d in "$bin:w" "$base:base"; do
	"${d%:*}/gpuingest" -q --interval 300 -d "$w/${d##*:}.db" "$w/s.csv"
	sqlite3 "$w/${d##*:}.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null 2>&1 || true
done
rm -f "$w/s.csv"
sync

# name and arguments of each query, the tool first
set -- "hour-node|gpuagg --period hour --by node" \
	"month-user|gpuagg --period month --by user" \
	"day-job|gpuagg --period day --by job" \
	"bill|gpubill --by job --period all"

now_ns() { date +%s%N; }
: >"$w/times"
for q in "$@"; do
	name=${q%%|*}
	cmd=${q#*|}
	tool=${cmd%% *}
	args=${cmd#* }
	# shellcheck disable=SC2086 # args are words
	"$base/$tool" --db "$w/base.db" $args >"$w/base.out"
	# shellcheck disable=SC2086
	"$bin/$tool" --db "$w/w.db" $args >"$w/new.out"
	if ! cmp -s "$w/base.out" "$w/new.out"; then
		echo "bench: FAIL: $name: the builds print different bytes" >&2
		exit 1
	fi
	i=1
	while [ "$i" -le "$runs" ]; do
		for t in base new; do
			d=$base db=$w/base.db
			[ "$t" = new ] && d=$bin db=$w/w.db
			t0=$(now_ns)
			# shellcheck disable=SC2086
			"$d/$tool" --db "$db" $args >"$w/out"
			t1=$(now_ns)
			echo "$name $t $i $(((t1 - t0) / 1000))" >>"$w/times"
		done
		i=$((i + 1))
	done
done

cat >"$w/report.awk" <<'EOF'
$1 == q {
	us[$2 "," $3] = $4
	if ($2 == "base")
		n++
}
END {
	for (i = 1; i <= n; i++) {
		b[i] = us["base," i]
		t[i] = us["new," i]
		r[i] = t[i] / b[i]
	}
	printf "%-11s %10.1f %10.1f %14.3f", q, median(b, n) / 1000,
	    median(t, n) / 1000, median(r, n)
}
EOF
echo "$(($(sqlite3 "$w/w.db" 'SELECT count(*) FROM gpu_usage_fact_rows'))) samples; $runs interleaved runs each; medians:"
printf '%-11s %10s %10s %14s' query "base ms" "this ms" "this / base"
[ "${INSTR:-0}" = 1 ] && printf ' %14s %14s' "base Minstr" "this Minstr"
[ "${THREADS:-0}" = 1 ] && printf ' %16s %16s' "base M by thread" "this M by thread"
echo
for q in "$@"; do
	name=${q%%|*}
	cmd=${q#*|}
	tool=${cmd%% *}
	args=${cmd#* }
	awk -v q="$name" -f "$top/bench/median.awk" -f "$w/report.awk" "$w/times"
	if [ "${INSTR:-0}" = 1 ]; then
		for d in "$base:base" "$bin:w"; do
			# shellcheck disable=SC2086
			valgrind --tool=callgrind --callgrind-out-file="$w/cg" \
				"${d%:*}/$tool" --db "$w/${d##*:}.db" $args >/dev/null 2>"$w/vg"
			awk '/refs:/ { gsub(",", "", $NF); printf " %14.1f", $NF / 1e6 }' "$w/vg"
		done
	fi
	if [ "${THREADS:-0}" = 1 ]; then
		for d in "$base:base" "$bin:w"; do
			rm -f "$w"/cgt*
			# shellcheck disable=SC2086
			valgrind --tool=callgrind --separate-threads=yes \
				--callgrind-out-file="$w/cgt" \
				"${d%:*}/$tool" --db "$w/${d##*:}.db" $args >/dev/null 2>&1
			for f in "$w"/cgt-*; do
				callgrind_annotate "$f" 2>/dev/null |
					awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 / 1e6 }'
			done | awk '{ s = s (NR > 1 ? "/" : "") sprintf("%.1f", $1) }
				END { printf " %16s", s }'
		done
	fi
	echo
done
