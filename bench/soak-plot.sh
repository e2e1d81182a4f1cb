#!/bin/sh
# SPDX-License-Identifier: MIT
# Plot bench/soak.sh's CSV with gnuplot: per-batch seconds (left axis) and
# gpuingest's peak RSS in MB (right axis) against the batch number, as a
# PNG (docs/soak.png is this plot of the run that docs/PERFORMANCE.md
# describes).
# usage: bench/soak-plot.sh [CSV [PNG]]   (default bench/out/soak.csv and
#        bench/out/soak.png)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
csv=${1:-$top/bench/out/soak.csv}
png=${2:-$top/bench/out/soak.png}
command -v gnuplot >/dev/null 2>&1 ||
	{ echo "soak-plot: gnuplot not found (scripts/install-deps.sh --bench)" >&2; exit 1; }
[ -s "$csv" ] || { echo "soak-plot: no '$csv' (run bench/soak.sh)" >&2; exit 1; }
rows=$(awk -F, 'NR > 1 { r += $3 } END { print r }' "$csv")
per=$(awk -F, 'NR == 2 { print $3 }' "$csv")
gnuplot <<EOF2
set terminal pngcairo size 900,480 font ',10' noenhanced
set output '$png'
set datafile separator ','
set key top left
set title 'gpuingest soak: $rows samples in hourly batches of $per'
set xlabel 'batch (hour)'
set ylabel 'seconds per batch'
set y2label 'peak RSS, MB'
set yrange [0:*]
set y2range [0:*]
set ytics nomirror
set y2tics
set grid ytics
plot '$csv' every ::1 using 1:4 with points pt 7 ps 0.4 lc rgb '#1f77b4' title 'seconds per batch', \
     '$csv' every ::1 using 1:(\$5 / 1024) axes x1y2 with lines lw 2 lc rgb '#d62728' title 'peak RSS (MB, right axis)'
EOF2
echo "soak-plot: wrote $png" >&2
