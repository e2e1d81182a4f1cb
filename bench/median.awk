# SPDX-License-Identifier: MIT
# Sourced by the A/B benchmarks' awk programs (awk -f bench/median.awk
# -f PROGRAM; bench/ingest-ab.sh, warm-ab.sh): not a program itself. The
# shell side of what the benchmarks share is bench/lib.inc.

# The median of a[1..n] (sorts a in place; n is small: insertion sort).
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
