#!/bin/sh
# SPDX-License-Identifier: MIT
# gpubill gives the same cents from the warehouse (--db) as from gpuagg's
# job CSV (--input), for every grouping, month and rate card; a sample
# exactly at --to is not billed; an empty period bills zero.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuagg gpubill
db=$T/w.db
# Two days across a month boundary, with several models.
gpugen -n 3 -g 4 -s 2026-11-30T00:00 -H 48 -S 7 -i 300 >"$T/s.csv" ||
	fail gpugen
gpuingest --db "$db" --quiet "$T/s.csv" >/dev/null || fail gpuingest
cat >"$T/rates.card" <<'CARD'
# e2e rate card
gpu_hourly_rate = 2.10
memory_overage_rate = 0.333333
cluster_overhead_rate = 0.07
model.NVIDIA H100 80GB HBM3 = 4.05
model.NVIDIA A100-SXM4-40GB = 1.15
CARD
for m in 2026-11 2026-12; do
	gpuagg --db "$db" --period month --by job,model >"$T/agg.csv" ||
		fail "gpuagg $m"
	for by in job user project; do
		for card in "" "--rates $T/rates.card"; do
			# shellcheck disable=SC2086
			gpubill --db "$db" --month $m --by $by $card \
				--share-idle >"$T/db.out" || fail "db $m $by"
			# shellcheck disable=SC2086
			gpubill --input "$T/agg.csv" --month $m --by $by \
				$card --share-idle >"$T/in.out" ||
				fail "input $m $by"
			cmp -s "$T/db.out" "$T/in.out" || {
				diff "$T/db.out" "$T/in.out" | head
				fail "--db and --input differ ($m, $by, $card)"
			}
			grep -q ',TOTAL,' "$T/db.out" || fail "no TOTAL row"
		done
	done
done
# A sample exactly at --to is excluded; the hour before it is billed.
a=$(gpubill --db "$db" --from 2026-11-30T23:00 --to 2026-12-01T00:00 |
	awk -F, '$2 == "TOTAL" { print $5 }')
b=$(gpuagg --db "$db" --from 2026-11-30T23:00 --to 2026-12-01T00:00 \
	--metrics alloc_gpu_seconds | tail -1)
if [ "$a" != "$b" ] || [ "$a" -le 0 ]; then fail "range sum $a != $b"; fi
# Zero usage: header and a zero total, exit 0.
gpubill --db "$db" --month 2027-01 >"$T/zero.out" || fail "zero exit"
[ "$(wc -l <"$T/zero.out")" -eq 2 ] || fail "zero lines"
grep -q '^2027-01,TOTAL,,,0,0,0,0,0.00,0.00,0.00,0.00,USD$' "$T/zero.out" ||
	fail "zero total"
# Threshold: a different threshold changes the overage only via --db.
gpubill --db "$db" --month 2026-11 --mem-threshold-gb 8 >"$T/t8.out" ||
	fail "threshold 8"
MEMORY_OVERAGE_THRESHOLD_GB=8 gpuagg --db "$db" --period month \
	--by job,model >"$T/agg8.csv" || fail "gpuagg threshold"
MEMORY_OVERAGE_THRESHOLD_GB=8 gpubill --input "$T/agg8.csv" --month 2026-11 \
	>"$T/i8.out" || fail "input threshold"
cmp -s "$T/t8.out" "$T/i8.out" || fail "threshold 8 differs"
echo "ok"
