#!/bin/sh
# SPDX-License-Identifier: MIT
# gpugen: the same flags and seed give the same bytes, in every format; a
# different seed gives different data; formats and node selection agree.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen

base="-n 6 -g 4 -H 6 -i 120"
for fmt in csv jsonl nvidia-smi; do
	# shellcheck disable=SC2086
	gpugen $base -S 11 -f "$fmt" --faults 0.02 >"$T/a.$fmt"
	# shellcheck disable=SC2086
	gpugen $base -S 11 -f "$fmt" --faults 0.02 >"$T/b.$fmt"
	cmp -s "$T/a.$fmt" "$T/b.$fmt"
	check "$fmt: two runs are byte-identical" $?
	# shellcheck disable=SC2086
	gpugen $base -S 12 -f "$fmt" --faults 0.02 >"$T/c.$fmt"
	! cmp -s "$T/a.$fmt" "$T/c.$fmt"
	check "$fmt: another seed differs" $?
done

# shellcheck disable=SC2086
gpugen $base -S 11 -t mixed >"$T/m1" && gpugen $base -S 11 -t mixed >"$T/m2"
cmp -s "$T/m1" "$T/m2"
check "mixed timestamps are deterministic" $?

# -o writes the same bytes as stdout, and leaves no temporary file.
mkdir "$T/out"
# shellcheck disable=SC2086
gpugen $base -S 11 -f csv --faults 0.02 -o "$T/out/s.csv" -j "$T/out/j.csv"
check "-o and -j succeed" $?
cmp -s "$T/a.csv" "$T/out/s.csv"
check "-o FILE equals stdout" $?
[ "$(find "$T/out" -type f | wc -l)" -eq 2 ]
check "no temporary files left behind" $?

# The job simulation does not depend on the sampling interval or format.
gpugen -n 6 -g 4 -H 6 -i 60 -S 11 -j "$T/j60.csv" >/dev/null
gpugen -n 6 -g 4 -H 6 -i 300 -S 11 -f jsonl -j "$T/j300.csv" >/dev/null
cmp -s "$T/j60.csv" "$T/j300.csv"
check "jobs are the same at 60 s and 300 s and across formats" $?
gpugen -n 6 -g 4 -H 6 -i 60 -S 12 -j "$T/j12.csv" >/dev/null
! cmp -s "$T/j60.csv" "$T/j12.csv"
check "jobs differ with another seed" $?

# --node keeps exactly that node's rows of the full output.
# shellcheck disable=SC2086
gpugen $base -S 11 --node node003 >"$T/n3.csv"
# shellcheck disable=SC2086
gpugen $base -S 11 | awk -F, 'NR == 1 || $2 == "node003"' | cmp -s - "$T/n3.csv"
check "--node NAME selects that node's rows" $?

# nvidia-smi output carries the same samples as CSV for the node.
# shellcheck disable=SC2086
gpugen $base -S 11 -x gpu_uuid --node node002 |
	awk -F, 'NR > 1 { printf "%d %s %s %s %s %s %s\n", $4 + 0.5, $13, $5, $6, $10, $11, $12 }' >"$T/from-csv"
# shellcheck disable=SC2086
gpugen $base -S 11 -f nvidia-smi --node node002 |
	awk -F', ' 'NR > 1 { sub(/ %$/, "", $5); sub(/ MiB$/, "", $6); sub(/ MiB$/, "", $7); sub(/ W$/, "", $8); print $5, $4, $6, $7, $3, $8, $9 }' >"$T/from-smi"
cmp -s "$T/from-csv" "$T/from-smi"
check "nvidia-smi and CSV agree on node002" $?
[ -s "$T/from-smi" ]
check "nvidia-smi output is not empty" $?
head -1 "$T/c.nvidia-smi" | grep -qx 'timestamp, index, name, uuid, utilization.gpu \[%\], memory.used \[MiB\], memory.total \[MiB\], power.draw \[W\], temperature.gpu'
check "nvidia-smi header" $?
grep -v '^timestamp' "$T/c.nvidia-smi" | grep -v '\[N/A\]' | grep -v '9x7' | grep -v '"' |
	grep -Evq '^20[0-9][0-9]/[01][0-9]/[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}, [0-9]+, [^,]+, GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}, [0-9]+ %, [0-9]+ MiB, [0-9]+ MiB, [0-9]+\.[0-9][0-9] W(, [0-9]+)?$'
[ $? -eq 1 ]
check "nvidia-smi rows have nvidia-smi's shape" $?

# Mixed timestamps use all four forms.
awk -F, 'NR > 1 {
	if ($1 ~ /^[0-9]+$/ && length($1) == 13) ms++
	else if ($1 ~ /^[0-9]+$/ && length($1) == 10) s++
	else if ($1 ~ /Z$/) z++
	else if ($1 ~ /T[0-9:]+[+-][0-9][0-9]:[0-9][0-9]$/) off++
	else other++
} END { exit !(ms > 0 && s > 0 && z > 0 && off > 0 && other == 0) }' "$T/m1"
check "mixed: epoch ms, epoch s, ISO Z and ISO offset all present" $?

exit $failed
