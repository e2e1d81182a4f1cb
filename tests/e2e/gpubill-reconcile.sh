#!/bin/sh
# SPDX-License-Identifier: MIT
# On random usage, every gpubill report reconciles: the lines add up to the
# TOTAL row to the cent, for job, user and project lines alike, and all
# three groupings bill the same total (idle shares included).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuagg gpubill
for seed in 1 2 3; do
	gpugen -n 2 -g 4 -s 2026-11-30T12:00 -H 24 -S $seed -i 120 \
		--load 0.6 | gpuagg --input - --period day --by job,model \
		>"$T/agg.csv" || fail "gpuagg seed $seed"
	prev=
	for by in job user project; do
		gpubill --input "$T/agg.csv" --period month --by $by \
			--gpu-rate 3.333333 --mem-rate 0.777777 \
			--overhead-rate 0.123457 --share-idle \
			>"$T/out.csv" || fail "gpubill $by"
		# Columns from the end: total, currency, idle_share, with_idle.
		sums=$(awk -F, 'NR > 1 && $0 !~ /TOTAL/ {
			for (i = 0; i < 4; i++) s[i] += $(NF - 7 + i) * 100
			w += $(NF - 1) * 100
		}
		/TOTAL/ { for (i = 0; i < 4; i++) t[i] = $(NF - 7 + i) * 100
			tw = $(NF - 1) * 100 }
		END {
			for (i = 0; i < 4; i++)
				if (int(s[i] + 0.5) != int(t[i] + 0.5)) bad = 1
			if (int(w + 0.5) != int(tw + 0.5)) bad = 1
			printf "%s %d %d\n", bad ? "bad" : "ok", t[3], tw
		}' "$T/out.csv")
		case $sums in ok*) ;; *) fail "seed $seed by $by: $sums" ;; esac
		tot=${sums#ok }
		[ -z "$prev" ] || [ "$prev" = "$tot" ] ||
			fail "seed $seed: $by total $tot != $prev"
		prev=$tot
	done
done
echo "ok"
