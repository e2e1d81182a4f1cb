#!/bin/sh
# SPDX-License-Identifier: MIT
# gpubill --format focus on random usage: every row keeps the FOCUS 1.1
# column and value rules (focus-check.awk), and the BilledCost of the rows
# adds up to the bill's TOTAL to the cent, with and without a rate card.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuagg gpubill
check=$(dirname "$0")/focus-check.awk
printf 'model.NVIDIA A100-SXM4-80GB = 3.333333\n' >"$T/rates.txt"
for seed in 1 2 3; do
	gpugen -n 2 -g 4 -s 2026-11-30T12:00 -H 12 -S $seed -i 120 \
		--load 0.6 | gpuagg --input - --period month --by job,model \
		>"$T/agg.csv" || fail "gpuagg seed $seed"
	for rates in "" "--rates $T/rates.txt"; do
		# shellcheck disable=SC2086 # $rates is zero or two words
		gpubill --input "$T/agg.csv" --month 2026-11 $rates \
			--mem-rate 0.777777 --overhead-rate 0.123457 \
			-f focus >"$T/focus.csv" || fail "gpubill focus seed $seed"
		# shellcheck disable=SC2086
		gpubill --input "$T/agg.csv" --month 2026-11 $rates \
			--mem-rate 0.777777 --overhead-rate 0.123457 \
			>"$T/bill.csv" || fail "gpubill seed $seed"
		sum=$(awk -f "$check" "$T/focus.csv" 2>"$T/err") ||
			fail "seed $seed: $(cat "$T/err")"
		total=$(awk -F, '$2 == "TOTAL" { print int($(NF - 1) * 100 + 0.5) }' \
			"$T/bill.csv")
		[ "$sum" = "$total" ] ||
			fail "seed $seed: sum of BilledCost $sum != total $total"
		[ "$sum" -gt 0 ] || fail "seed $seed: nothing billed"
	done
done
echo "ok"
