#!/bin/sh
# SPDX-License-Identifier: MIT
# Where gpuingest puts the rollups' rows in the file: an hour's rows of
# usage_hourly_node are written after its usage_hourly rows, so that
# they lie in consecutive pages (a query by hour and node then reads
# each hour's leaves with one call). Written as each node ended, they
# would fall between the hour rows' leaves, a run for each leaf.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuagg sqlite3
cd "$T" || exit 1

# 120 nodes: about three leaves of node rows an hour.
gpugen -n 120 -g 2 -s 2026-11-01 -H 8 -S 3 -i 600 -o s.csv || fail gpugen
gpuingest -q -d w.db s.csv >/dev/null || fail gpuingest

# runs TABLE: "LEAVES RUNS", the runs being the leaves (in key order) that
# do not follow the leaf before in the file.
runs() {
	sqlite3 w.db "SELECT pageno FROM dbstat WHERE name = '$1' AND
		pagetype = 'leaf' ORDER BY path" |
		awk 'NR > 1 && $1 != p + 1 { r++ } { p = $1; n++ }
			END { print n, r + 1 }'
}
hours=$(sqlite3 w.db "SELECT count(DISTINCT hour_ms) FROM usage_hourly_node")
r=$(runs usage_hourly_node)
leaves=${r% *}
[ "$hours" -eq 8 ] && [ "$leaves" -gt $((2 * hours)) ] &&
	[ "${r#* }" -le "$hours" ]
check "usage_hourly_node: $leaves leaves in ${r#* } runs, at most one an hour" $?

# The layout changes no answer: the same rows by pages and by statement.
gpuagg -d w.db --period hour --by node >pages.csv &&
	GPUUSAGE_PAGES=0 gpuagg -d w.db --period hour --by node >sql.csv &&
	[ "$(wc -l <pages.csv)" -eq $((120 * 8 + 1)) ] && cmp -s pages.csv sql.csv
check "hour x node reads the same rows by pages and by statement" $?
exit "$failed"
