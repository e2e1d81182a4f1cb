#!/bin/sh
# SPDX-License-Identifier: MIT
# How flat the soak stayed (bench/soak.sh's CSV): the batches and rows,
# the least-squares slope of per-batch seconds against the batch number
# (ms per batch, and over the whole soak as a share of the mean), the
# median per-batch seconds of the first and the last tenth of the
# batches, the smallest and largest peak RSS of gpuingest, and both by
# the batch's hour of the UTC day (means over the days).
# usage: bench/soak-stats.sh [CSV]   (default bench/out/soak.csv)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
csv=${1:-$top/bench/out/soak.csv}
tail -n +2 "$csv" | awk -F, '
function median(lo, hi,    a, n, i, j, t) {
	n = 0
	for (i = lo; i <= hi; i++) a[++n] = s[i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ n++; s[n] = $4 + 0; r = $5 + 0; rows += $3
  if (n == 1 || r < rmin) rmin = r; if (r > rmax) rmax = r
  sx += n; sy += $4; sxx += n * n; sxy += n * $4; db = $6
  h = substr($2, 12, 2) + 0; hs[h] += $4; hr[h] += r; hc[h]++ }
END {
	if (n < 2) { print "soak: fewer than 2 batches"; exit }
	slope = (n * sxy - sx * sy) / (n * sxx - sx * sx); mean = sy / n
	d = int(n / 10); if (d < 1) d = 1
	f = median(1, d); l = median(n - d + 1, n)
	printf "soak: %d batches, %d rows, %.1f s loading in all, warehouse %.0f MB\n", n, rows, sy, db / 1e6
	printf "per-batch seconds: mean %.3f, slope %.3f ms per batch (%+.1f%% of the mean over the soak)\n", mean, slope * 1000, 100 * slope * (n - 1) / mean
	printf "median of the first %d batches %.3f s, of the last %d %.3f s (last / first %.2f)\n", d, f, d, l, l / f
	printf "gpuingest peak RSS: %.1f to %.1f MB\n", rmin / 1024, rmax / 1024
	printf "by hour of the day (mean s, mean RSS MB):"
	for (h = 0; h < 24; h++)
		if (hc[h]) printf "%s %02d %.2f %.1f", h % 6 ? ";" : "\n ", h, hs[h] / hc[h], hr[h] / hc[h] / 1024
	printf "\n"
}'
