#!/bin/sh
# SPDX-License-Identifier: MIT
# gpugen: statistical properties of a generated cluster (shares, ranges,
# ordering, job placement) and consistency with --jobs-out.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen

nodes=32 gpus=8 hours=48 interval=600
for seed in 1 2 3; do
	gpugen -n $nodes -g $gpus -H $hours -i $interval -S $seed \
		-j "$T/jobs$seed.csv" >"$T/s$seed.csv"
	check "seed $seed: exit status" $?

	want=$((nodes * gpus * hours * 3600 / interval + 1))
	got=$(wc -l <"$T/s$seed.csv")
	[ "$got" -eq "$want" ]
	check "seed $seed: $got lines, want $want" $?

	head -1 "$T/s$seed.csv" | grep -qx 'timestamp,node,gpu,util_pct,mem_used_mib,mem_total_mib,job_id,user,project,model,power_w,temp_c'
	check "seed $seed: header" $?

	awk -F, -v seed="$seed" '
	BEGIN {
		idle["NVIDIA A100-SXM4-40GB"] = 52;  tdp["NVIDIA A100-SXM4-40GB"] = 400
		idle["NVIDIA A100-SXM4-80GB"] = 60;  tdp["NVIDIA A100-SXM4-80GB"] = 400
		idle["NVIDIA H100 80GB HBM3"] = 70;  tdp["NVIDIA H100 80GB HBM3"] = 700
		idle["NVIDIA H200"] = 75;            tdp["NVIDIA H200"] = 700
		idle["Tesla V100-SXM2-32GB"] = 40;   tdp["Tesla V100-SXM2-32GB"] = 300
		bad = 0
	}
	function err(msg) { if (bad < 10) print "seed " seed ": line " NR ": " msg; bad++ }
	NR == 1 { next }
	{
		if (NF != 12) err("fields " NF)
		key = $1 SUBSEP $2 SUBSEP sprintf("%04d", $3)
		if (NR > 2 && key <= prev) err("out of order")
		prev = key
		if ($4 < 0 || $4 > 100) err("util " $4)
		if ($5 < 0 || $5 > $6) err("mem " $5 " of " $6)
		if (!($10 in idle)) err("model " $10)
		if ($11 < 0.9 * idle[$10] || $11 > tdp[$10]) err("power " $11 " for " $10)
		if ($12 < 20 || $12 > 95) err("temp " $12)
		n++
		if ($7 == "") {
			if ($4 > 1) err("unallocated util " $4)
			if ($5 > 500) err("unallocated mem " $5)
			if ($8 != "" || $9 != "") err("owner without job")
			iu += $4
			next
		}
		a++; au += $4
		if ($5 > 16384) big++
		if ($8 == "" || $9 == "") err("job without owner")
		if (($7 in node) && node[$7] != $2) err("job " $7 " on two nodes")
		node[$7] = $2
		if (($7 in owner) && owner[$7] != $8 "," $9) err("job " $7 " changes owner")
		owner[$7] = $8 "," $9
		if (!(($7, $2, $3) in seen)) { seen[$7, $2, $3] = 1; ng[$7]++ }
		byuser[$8]++
		if ($4 >= 80) { hp += $11; hn++ }
		if ($4 < 5) { lp += $11; ln++ }
	}
	END {
		for (j in ng) if (ng[j] > 8) err("job " j " holds " ng[j] " GPUs")
		share = a / n; memshare = big / a
		top = 0
		for (u in byuser) if (byuser[u] > top) top = byuser[u]
		printf "seed %s: allocated %.3f, mem>16GiB %.3f, top user %.3f, alloc util %.1f, idle util %.2f\n", seed, share, memshare, top / a, au / a, iu / (n - a)
		if (share < 0.5 || share > 0.9) err("allocated share " share)
		if (memshare <= 0.05 || memshare >= 0.99) err("mem>16GiB share " memshare)
		if (top / a < 0.1) err("no heavy user: top share " top / a)
		if (au / a < 40 || iu / (n - a) > 1) err("utilization levels")
		if (hn == 0 || ln == 0 || hp / hn <= 1.5 * lp / ln) err("power does not follow utilization")
		exit bad > 0
	}' "$T/s$seed.csv"
	check "seed $seed: values, shares and job placement" $?

	# Every sampled job is in --jobs-out, with its GPU count, owner and times.
	awk -F, '
	function iso(s) { return s }
	NR == FNR {
		if (FNR == 1) { if ($0 != "job_id,user,project,start,end,gpus") { print "jobs header"; bad++ } next }
		if ($1 in gpus) { print "job " $1 " listed twice"; bad++ }
		gpus[$1] = $6; own[$1] = $2 "," $3; st[$1] = $4; en[$1] = $5
		if ($6 < 1 || $6 > 8) { print "job " $1 " gpus " $6; bad++ }
		if ($5 != "" && $5 <= $4) { print "job " $1 " ends before it starts"; bad++ }
		if (FNR > 2 && $1 + 0 <= last + 0) { print "jobs not sorted by id"; bad++ }
		last = $1
		next
	}
	FNR > 1 && $7 != "" {
		if (!($7 in gpus)) { if (miss++ < 5) print "job " $7 " not in jobs-out"; bad++; next }
		if (own[$7] != $8 "," $9) { print "job " $7 " owner differs"; bad++ }
		if ($1 < st[$7] || (en[$7] != "" && $1 >= en[$7])) { print "sample of " $7 " at " $1 " outside job"; bad++ }
		if (!(($7, $2, $3) in seen)) { seen[$7, $2, $3] = 1; ng[$7]++ }
	}
	END {
		for (j in ng) if (ng[j] != gpus[j]) { print "job " j " sampled on " ng[j] " GPUs, lists " gpus[j]; bad++ }
		exit bad > 0
	}' "$T/jobs$seed.csv" "$T/s$seed.csv"
	check "seed $seed: jobs-out agrees with the samples" $?
done

# A fractional number of hours and a non-default interval.
gpugen -n 3 -g 2 -H 1.5 -i 45 >"$T/f.csv"
got=$(wc -l <"$T/f.csv")
[ "$got" -eq $((3 * 2 * 120 + 1)) ]
check "1.5 hours at 45 s: $got lines" $?

# Every model the flag names appears with its memory size.
gpugen -n 5 -g 1 -H 0.1 -m a100-40,a100-80,h100,h200,v100 |
	awk -F, 'NR > 1 { print $10 "=" $6 }' | sort -u >"$T/models"
printf '%s\n' 'NVIDIA A100-SXM4-40GB=40960' 'NVIDIA A100-SXM4-80GB=81920' \
	'NVIDIA H100 80GB HBM3=81559' 'NVIDIA H200=143771' \
	'Tesla V100-SXM2-32GB=32768' | cmp -s - "$T/models"
check "models and memory sizes" $?

# --load 0 leaves the cluster idle.
n=$(gpugen -n 4 -g 8 -H 2 --load 0 | awk -F, 'NR > 1 && $7 != ""' | wc -l)
[ "$n" -eq 0 ]
check "--load 0: no allocated samples ($n)" $?

exit $failed
