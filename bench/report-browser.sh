#!/bin/sh
# SPDX-License-Identifier: MIT
# gpureport for a month of 1,000 GPUs (125 nodes x 8 GPUs, hourly samples,
# the data set of bench/report.sh): the time to write the page (warm, and
# the first report right after an ingest of the month's last day), and in
# headless Chromium the time to interactive (navigation start to the first
# frame after the page's script has drawn everything) and the time of each
# filter change (to the frame after it), driven over the DevTools protocol
# by bench/report-browser.mjs. Prints medians of RUNS runs (default 5).
# usage: bench/report-browser.sh
#   B        the build directory (default build; relative to the top or
#            absolute)
#   RUNS     runs of each measurement (default 5)
#   WORK     keep the data set in this directory and reuse it next time
#   CHROMIUM the browser (default /usr/bin/chromium); NODE: node
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
case ${B:-build} in
/*) bin=$B ;;
*) bin="$top/${B:-build}" ;;
esac
runs=${RUNS:-5}
node=${NODE:-node}
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
for t in gpugen gpuingest gpureport; do
	[ -x "$bin/$t" ] || { echo "bench: $bin/$t not built (run make)" >&2; exit 1; }
done
[ -x "$CHROMIUM" ] || { echo "bench: no Chromium at $CHROMIUM" >&2; exit 1; }
# node 22 has a WebSocket client; node 20 and 21 behind a flag.
wsflag=
if ! "$node" -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)'
then
	wsflag=--experimental-websocket
fi
if [ -n "${WORK:-}" ]; then
	tmp=$WORK
	mkdir -p "$tmp"
else
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/report-bench.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT INT TERM
fi

ms() { date +%s%N | cut -c1-13; }
median() { sort -n | awk '{ v[NR] = $1 } END {
	printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
report() {
	"$bin/gpureport" --db "$1" --from 2026-11-01 --to 2026-12-01 -o "$2"
}

# The month, and its first 29 days loaded: each "after an ingest" run
# loads the last day into a copy of that warehouse and writes the report.
if [ ! -f "$tmp/base.db" ]; then
	"$bin/gpugen" -n 125 -g 8 -s 2026-11-01 -H 720 -i 3600 -S 3 \
		-j "$tmp/jobs.csv" -o "$tmp/s.csv"
	awk -F, -v out="$tmp/last.csv" 'NR == 1 { print > out; print; next }
		$1 >= "2026-11-30" { print > out; next } { print }' \
		"$tmp/s.csv" >"$tmp/first.csv"
	"$bin/gpuingest" -q --interval 3600 -d "$tmp/base.db" \
		-j "$tmp/jobs.csv" "$tmp/first.csv"
fi
rm -f "$tmp"/run.db*
: >"$tmp/after"
i=0
while [ $i -lt "$runs" ]; do
	cp "$tmp/base.db" "$tmp/run.db"
	"$bin/gpuingest" -q --interval 3600 -d "$tmp/run.db" \
		-j "$tmp/jobs.csv" "$tmp/last.csv"
	s=$(ms)
	report "$tmp/run.db" "$tmp/report.html"
	e=$(ms)
	echo $((e - s)) >>"$tmp/after"
	i=$((i + 1))
done
: >"$tmp/warm"
i=0
while [ $i -lt "$runs" ]; do
	s=$(ms)
	report "$tmp/run.db" "$tmp/report.html"
	e=$(ms)
	echo $((e - s)) >>"$tmp/warm"
	i=$((i + 1))
done
bytes=$(wc -c <"$tmp/report.html")
jobs=$(($(wc -l <"$tmp/jobs.csv") - 1))
"$node" $wsflag "$top/bench/report-browser.mjs" "$tmp/report.html" "$runs" \
	2>/dev/null >"$tmp/browser.json"

echo "gpureport browser benchmark: 125 nodes x 8 GPUs, 720 h hourly," \
	"$jobs jobs; medians of $runs runs"
printf 'page                        %d bytes\n' "$bytes"
printf 'write, warm                 %s s\n' \
	"$(awk '{ print $1 / 1000 }' "$tmp/warm" | median)"
printf 'write, after an ingest      %s s\n' \
	"$(awk '{ print $1 / 1000 }' "$tmp/after" | median)"
"$node" -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const med = (v) => {
	const s = [...v].sort((a, b) => a - b), n = s.length;
	return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const f = (v) => (med(v) / 1000).toFixed(3) + " s";
console.log("time to interactive         " + f(r.tti) +
	" (load event " + f(r.load) + ")");
for (const k in r.filters)
	console.log(("filter " + k).padEnd(28) + f(r.filters[k].frame) +
		" (script " + f(r.filters[k].script) + ")");
if (r.errors.length > 0) {
	console.log("page errors: " + r.errors.join("; "));
	process.exit(1);
}' "$tmp/browser.json"
