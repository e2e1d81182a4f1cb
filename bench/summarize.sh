#!/bin/sh
# SPDX-License-Identifier: MIT
# Print the tables of bench/compare.sh from its raw results: for each size
# and task, each tool's median wall seconds and median peak RSS, and its
# time relative to the gpuusage tool's (gpuingest, gpuagg, gpubill) in the
# same run; then the scaling of each tool from the smallest to the largest
# size: seconds per million rows and peak RSS at each size, and the growth
# factor from one size to the next against the growth of the rows. Before
# the scaling, the figures of issue 17's aims at each size: the loads'
# ratios, and the warm queries' shares of DuckDB over the CSV, also net
# of the harness line (what timing any command costs) and as hyperfine
# timed them (the warm-* tasks: no shell, no timing process).
# With --markdown, one Markdown table instead, as docs/PERFORMANCE.md
# quotes it: a line per task and tool, each size's median seconds, time
# relative to ours and median peak RSS.
# usage: bench/summarize.sh [--markdown] [DIR]   (DIR: where results-*.tsv
#        are, default bench/out)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
md=0
[ "${1:-}" = --markdown ] && { md=1; shift; }
dir=${1:-$top/bench/out}
set -- "$dir"/results-*.tsv
[ -f "$1" ] || { echo "summarize: no results in $dir (run bench/compare.sh)" >&2; exit 1; }
cat "$@" | sort -s -t "$(printf '\t')" -k2,2n | awk -F '\t' -v md="$md" '
function median(s,    a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	if (n == 0) return "-"
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# Peak RSS in MB from KB; "-" when not measured (the warm-* tasks).
function mb(kb) {
	return kb == "-" ? "-" : sprintf("%.1f", kb / 1024)
}
# Seconds to the millisecond; to a tenth of one for the warm-* tasks.
function secs_of(task, s) {
	return sprintf(task ~ /^warm-/ ? "%.4f" : "%.3f", s)
}
function ours(task) {
	return task ~ /ingest$/ ? "gpuingest" : task ~ /bill$/ ? "gpubill" : "gpuagg"
}
# The task whose times a task is quoted against: re-ingest, the first load.
function base(task) {
	return task == "reingest" ? "ingest" : task
}
function markdown(    i, j, k, p, t, o, h1, h2, h3, c1, c2, c3) {
	for (j = 1; j <= nr; j++) {
		h1 = h1 " " size[rows[j]] " s |"; h2 = h2 " vs ours " size[rows[j]] " |"
		h3 = h3 " RSS MB " size[rows[j]] " |"; c1 = c1 "---:|"
	}
	printf "| task | tool |%s%s%s\n|---|---|%s%s%s\n", h1, h2, h3, c1, c1, c1
	for (i = 1; i <= n; i++) {
		split(order[i], p, SUBSEP)
		if (p[1] != rows[1]) continue
		t = p[2] SUBSEP p[3]; c1 = ""; c2 = ""; c3 = ""
		for (j = 1; j <= nr; j++) {
			k = rows[j] SUBSEP t; o = rows[j] SUBSEP base(p[2]) SUBSEP ours(p[2])
			if (!(k in ms)) { c1 = c1 " – |"; c2 = c2 " – |"; c3 = c3 " – |"; continue }
			c1 = c1 " " secs_of(p[2], ms[k]) " |"
			c2 = c2 ((p[2] != "startup" && o in ms && ms[o] > 0) ? sprintf(" %.2f |", ms[k] / ms[o]) : " – |")
			c3 = c3 " " mb(mr[k]) " |"
		}
		printf "| %s | %s |%s%s%s\n", p[2], p[3], c1, c2, c3
	}
}
# a / b of the medians of keys a and b, or "-" when either is missing.
function ratio(a, b) {
	return (a in ms && b in ms && ms[b] > 0) ? sprintf("%.2f", ms[a] / ms[b]) : "-"
}
# Our time for task at size r as a share of DuckDB over the CSV, in %;
# with net, both less the harness line (the cost of timing any command).
function share(r, task, tool, net,    a, b, h) {
	a = r SUBSEP task SUBSEP tool; b = r SUBSEP task SUBSEP "duckdb-csv"
	h = net ? ms[r SUBSEP "startup" SUBSEP "harness"] : 0
	if (!(a in ms) || !(b in ms) || ms[b] - h <= 0) return "-"
	return sprintf("%.2f%%", 100 * (ms[a] - h) / (ms[b] - h))
}
# The figures of the aims of issue 17 (docs/PERFORMANCE.md), each size.
function aims(    j, r, i, t, h) {
	split("hour-node month-user day-job bill", t, " ")
	for (j = 1; j <= nr; j++) {
		r = rows[j]
		printf "\naims at %s rows:\n", size[r]
		printf "  ingest: .import %s x our time (aim at least 1.5), DuckDB %s x (aim above 1), re-ingest %s x the first load (aim at most 0.5)\n",
		    ratio(r SUBSEP "ingest" SUBSEP "sqlite3", r SUBSEP "ingest" SUBSEP "gpuingest"),
		    ratio(r SUBSEP "ingest" SUBSEP "duckdb", r SUBSEP "ingest" SUBSEP "gpuingest"),
		    ratio(r SUBSEP "reingest" SUBSEP "gpuingest", r SUBSEP "ingest" SUBSEP "gpuingest")
		h = r SUBSEP "startup" SUBSEP "harness"
		printf "  warm, share of DuckDB over the CSV (aim at most 1%%); net: both less the harness line (%s s):\n",
		    (h in ms) ? sprintf("%.3f", ms[h]) : "-"
		for (i = 1; i <= 4; i++)
			printf "    %-11s %8s   net %8s   by hyperfine %8s\n", t[i],
			    share(r, t[i], ours(t[i]), 0), share(r, t[i], ours(t[i]), 1),
			    share(r, "warm-" t[i], ours(t[i]), 0)
	}
}
$6 != "fail" {
	k = $2 SUBSEP $3 SUBSEP $4
	if (!(k in secs)) { order[++n] = k; size[$2] = $1 }
	secs[k] = secs[k] " " $6; cnt[k]++
	if ($7 != "-") rss[k] = rss[k] " " $7
	if (!($2 in seen)) { seen[$2] = 1; rows[++nr] = $2 }
}
$6 == "fail" { failed[$2 SUBSEP $3 SUBSEP $4]++ }
END {
	for (i = 1; i <= n; i++) {
		split(order[i], p, SUBSEP)
		ms[order[i]] = median(secs[order[i]]); mr[order[i]] = median(rss[order[i]])
	}
	if (md) { markdown(); exit }
	last = ""
	for (i = 1; i <= n; i++) {
		split(order[i], p, SUBSEP); k = order[i]
		if (p[1] SUBSEP p[2] != last) {
			last = p[1] SUBSEP p[2]
			printf "\n%s rows (%s), %s\n", size[p[1]], p[1], p[2]
			printf "%-14s %5s %10s %10s %9s %10s\n", "tool", "runs", "median s", "rows/s", "vs ours", "RSS MB"
		}
		o = p[1] SUBSEP base(p[2]) SUBSEP ours(p[2])
		rel = (o in ms && ms[o] > 0) ? sprintf("%.2f", ms[k] / ms[o]) : "-"
		rate = ms[k] > 0 ? sprintf("%.0f", p[1] / ms[k]) : "-"
		if (p[2] == "startup") { rel = "-"; rate = "-" }
		printf "%-14s %5d %10s %10s %9s %10s\n", p[3], cnt[k], secs_of(p[2], ms[k]),
			rate, rel, mb(mr[k])
	}
	aims()
	if (nr < 2) exit
	printf "\nscaling: seconds per million rows | peak RSS MB, at"
	for (j = 1; j <= nr; j++) printf " %s", size[rows[j]]
	printf " rows; x: growth to the next size (rows grow"
	for (j = 2; j <= nr; j++) printf " %.1fx", rows[j] / rows[j - 1]
	printf ")\n"
	for (i = 1; i <= n; i++) {
		split(order[i], p, SUBSEP)
		if (p[1] != rows[1] || p[2] == "startup" || p[2] ~ /^warm-/) continue
		t = p[2] SUBSEP p[3]
		line = sprintf("%-11s %-13s", p[2], p[3]); mem = ""
		for (j = 1; j <= nr; j++) {
			k = rows[j] SUBSEP t
			if (!(k in ms)) { line = line sprintf(" %8s%7s", "-", ""); mem = mem sprintf(" %8s%7s", "-", ""); continue }
			line = line sprintf(" %8.2f", ms[k] / (rows[j] / 1e6))
			mem = mem sprintf(" %8.1f", mr[k] / 1024)
			if (j > 1 && (rows[j - 1] SUBSEP t) in ms) {
				pk = rows[j - 1] SUBSEP t
				line = line sprintf(" x%-5.1f", ms[pk] > 0 ? ms[k] / ms[pk] : 0)
				mem = mem sprintf(" x%-5.1f", mr[pk] > 0 ? mr[k] / mr[pk] : 0)
			}
		}
		printf "%s |%s\n", line, mem
	}
	for (k in failed) { split(k, p, SUBSEP); printf "failed: %s %s %s (%d runs)\n", p[1], p[2], p[3], failed[k] }
}'
