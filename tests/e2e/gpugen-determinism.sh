#!/bin/sh
# SPDX-License-Identifier: MIT
# gpugen: the same flags and seed give the same bytes, in every format; a
# different seed gives different data; formats and node selection agree.
set -u
command -v gpugen >/dev/null 2>&1 || { echo "skip: gpugen not built"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
check() {
	if [ "$2" -ne 0 ]; then
		echo "FAIL: $1"
		fail=1
	else
		echo "ok: $1"
	fi
}

base="-n 6 -g 4 -H 6 -i 120"
for fmt in csv jsonl nvidia-smi; do
	# shellcheck disable=SC2086
	gpugen $base -S 11 -f "$fmt" --faults 0.02 >"$tmp/a.$fmt"
	# shellcheck disable=SC2086
	gpugen $base -S 11 -f "$fmt" --faults 0.02 >"$tmp/b.$fmt"
	cmp -s "$tmp/a.$fmt" "$tmp/b.$fmt"
	check "$fmt: two runs are byte-identical" $?
	# shellcheck disable=SC2086
	gpugen $base -S 12 -f "$fmt" --faults 0.02 >"$tmp/c.$fmt"
	! cmp -s "$tmp/a.$fmt" "$tmp/c.$fmt"
	check "$fmt: another seed differs" $?
done

# shellcheck disable=SC2086
gpugen $base -S 11 -t mixed >"$tmp/m1" && gpugen $base -S 11 -t mixed >"$tmp/m2"
cmp -s "$tmp/m1" "$tmp/m2"
check "mixed timestamps are deterministic" $?

# -o writes the same bytes as stdout, and leaves no temporary file.
mkdir "$tmp/out"
# shellcheck disable=SC2086
gpugen $base -S 11 -f csv --faults 0.02 -o "$tmp/out/s.csv" -j "$tmp/out/j.csv"
check "-o and -j succeed" $?
cmp -s "$tmp/a.csv" "$tmp/out/s.csv"
check "-o FILE equals stdout" $?
[ "$(find "$tmp/out" -type f | wc -l)" -eq 2 ]
check "no temporary files left behind" $?

# The job simulation does not depend on the sampling interval or format.
gpugen -n 6 -g 4 -H 6 -i 60 -S 11 -j "$tmp/j60.csv" >/dev/null
gpugen -n 6 -g 4 -H 6 -i 300 -S 11 -f jsonl -j "$tmp/j300.csv" >/dev/null
cmp -s "$tmp/j60.csv" "$tmp/j300.csv"
check "jobs are the same at 60 s and 300 s and across formats" $?
gpugen -n 6 -g 4 -H 6 -i 60 -S 12 -j "$tmp/j12.csv" >/dev/null
! cmp -s "$tmp/j60.csv" "$tmp/j12.csv"
check "jobs differ with another seed" $?

# --node keeps exactly that node's rows of the full output.
# shellcheck disable=SC2086
gpugen $base -S 11 --node node003 >"$tmp/n3.csv"
# shellcheck disable=SC2086
gpugen $base -S 11 | awk -F, 'NR == 1 || $2 == "node003"' | cmp -s - "$tmp/n3.csv"
check "--node NAME selects that node's rows" $?

# nvidia-smi output carries the same samples as CSV for the node.
# shellcheck disable=SC2086
gpugen $base -S 11 -x gpu_uuid --node node002 |
	awk -F, 'NR > 1 { printf "%d %s %s %s %s %s %s\n", $4 + 0.5, $13, $5, $6, $10, $11, $12 }' >"$tmp/from-csv"
# shellcheck disable=SC2086
gpugen $base -S 11 -f nvidia-smi --node node002 |
	awk -F', ' 'NR > 1 { sub(/ %$/, "", $5); sub(/ MiB$/, "", $6); sub(/ MiB$/, "", $7); sub(/ W$/, "", $8); print $5, $4, $6, $7, $3, $8, $9 }' >"$tmp/from-smi"
cmp -s "$tmp/from-csv" "$tmp/from-smi"
check "nvidia-smi and CSV agree on node002" $?
[ -s "$tmp/from-smi" ]
check "nvidia-smi output is not empty" $?
head -1 "$tmp/c.nvidia-smi" | grep -qx 'timestamp, index, name, uuid, utilization.gpu \[%\], memory.used \[MiB\], memory.total \[MiB\], power.draw \[W\], temperature.gpu'
check "nvidia-smi header" $?
grep -v '^timestamp' "$tmp/c.nvidia-smi" | grep -v '\[N/A\]' | grep -v '9x7' | grep -v '"' |
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
} END { exit !(ms > 0 && s > 0 && z > 0 && off > 0 && other == 0) }' "$tmp/m1"
check "mixed: epoch ms, epoch s, ISO Z and ISO offset all present" $?

exit $fail
