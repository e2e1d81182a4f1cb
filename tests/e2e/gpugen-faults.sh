#!/bin/sh
# SPDX-License-Identifier: MIT
# gpugen --faults: each kind of fault appears, at about the asked rate, and
# the rows without a fault are those of the clean run.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen

args="-n 8 -g 8 -H 6 -i 60 -S 21"
# shellcheck disable=SC2086
gpugen $args >"$T/clean.csv"
# shellcheck disable=SC2086
gpugen $args --faults 0.05 >"$T/faulty.csv"
check "generate with --faults" $?

# Without faults: 12 fields, no duplicates, no [N/A], ordered.
awk -F, 'NR > 1 {
	if (NF != 12 || $0 ~ /N\/A|"|9x7/) bad++
	if ($0 in seen) dup++
	seen[$0] = 1
	key = $1 SUBSEP $2 SUBSEP sprintf("%04d", $3)
	if (NR > 2 && key <= prev) order++
	prev = key
} END { exit (bad + dup + order) > 0 }' "$T/clean.csv"
check "--faults 0 gives clean, ordered rows" $?

awk -F, '
NR == FNR { clean[$0] = 1; n++; next }
FNR == 1 { next }
{
	rows++
	if ($0 in clean) kept++
	if ($0 == last) dup++
	last = $0
	if (NF != 12) fields++
	if ($0 ~ /\[N\/A\]/) na++
	if ($0 ~ /9x7/) garbage++
	if ($0 ~ /"/) quote++
	key = $1 SUBSEP $2 SUBSEP $3
	if (NF == 12 && $0 !~ /"/ && $1 < prevts) late++
	if (NF == 12 && $0 !~ /"/ && (key in util) && util[key] != $4) resend++
	util[key] = $4
	if (NF == 12) prevts = $1
}
END {
	printf "rows %d (clean %d): kept %d dup %d fields %d na %d garbage %d quote %d late %d resend %d\n", rows, n - 1, kept, dup, fields, na, garbage, quote, late, resend
	faults = dup + fields + na + garbage + quote + late + resend
	bad = 0
	if (dup == 0 || fields == 0 || na == 0 || garbage == 0 || quote == 0 || late == 0 || resend == 0) bad++
	if (faults < 0.02 * (n - 1) || faults > 0.08 * (n - 1)) bad++
	if (kept < 0.9 * (n - 1)) bad++
	exit bad
}' "$T/clean.csv" "$T/faulty.csv"
check "every fault kind appears, at about 5%, other rows unchanged" $?

# JSON Lines faults: truncated objects, numbers as text, broken quoting.
# shellcheck disable=SC2086
gpugen $args -f jsonl --faults 0.05 >"$T/faulty.jsonl"
n=$(grep -c '"temp_c":[0-9]*$' "$T/faulty.jsonl")
[ "$n" -gt 0 ]
check "jsonl: truncated objects ($n)" $?
n=$(grep -c '"util_pct":"9x7"' "$T/faulty.jsonl")
[ "$n" -gt 0 ]
check "jsonl: garbage numbers ($n)" $?
n=$(grep -c '"power_w":"\[N/A\]"\|"temp_c":"\[N/A\]"\|"mem_total_mib":"\[N/A\]"' "$T/faulty.jsonl")
[ "$n" -gt 0 ]
check "jsonl: [N/A] values ($n)" $?

# The fault pattern is itself deterministic.
# shellcheck disable=SC2086
gpugen $args --faults 0.05 | cmp -s - "$T/faulty.csv"
check "faults are deterministic" $?

exit $failed
