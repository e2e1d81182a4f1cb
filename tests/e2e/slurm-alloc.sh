#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/slurm/prolog and epilog: one allocation line per job start and
# end, written to the spool's tmp/ and renamed into incoming/; nothing for
# a job without GPUs; always exit 0, quickly, even when they cannot write.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup sh
S=$(cd "$(dirname "$0")/../../scripts/slurm" && pwd)
time_re='time=20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'

# run SCRIPT VAR=VALUE...: run a script as slurmd would, with only the
# given variables (and PATH); sets rc and took (seconds).
run() {
	script=$1
	shift
	t0=$(date +%s)
	env -i PATH="$PATH" "$@" /bin/sh "$S/$script"
	rc=$?
	took=$(($(date +%s) - t0))
}

# body FILE: the line without its time token; time_ok FILE: that token.
body() { sed "s/ $time_re//" "$1"; }
time_ok() { grep -q "^gpuusage-alloc 1 [a-z]* $time_re job=" "$1"; }

# files: what the spool holds, hidden files too.
files() { (cd "$T/spool" && find . -type f | LC_ALL=C sort); }

job="SLURM_JOB_ID=123 SLURM_JOB_GPUS=0,2-3 SLURM_JOB_USER=alice"
job="$job SLURM_JOB_ACCOUNT=ml GPUUSAGE_SPOOL=$T/spool GPUUSAGE_NODE=gpu01"
# shellcheck disable=SC2086 # $job is a list of assignments
run prolog $job
[ "$rc" -eq 0 ] && [ "$(files)" = "./incoming/gpu01-123-start.alloc" ]
check "prolog: exit 0, one file in incoming/" $?
f=$T/spool/incoming/gpu01-123-start.alloc
[ "$(body "$f")" = "gpuusage-alloc 1 start job=123 node=gpu01 gpus=0,2-3 user=alice project=ml" ] &&
	time_ok "$f" && [ "$(wc -l <"$f")" -eq 1 ]
check "prolog: the start line" $?
cat "$f"

# shellcheck disable=SC2086
run epilog $job
f=$T/spool/incoming/gpu01-123-end.alloc
[ "$rc" -eq 0 ] && [ "$(body "$f")" = "gpuusage-alloc 1 end job=123 node=gpu01 gpus=0,2-3" ] &&
	time_ok "$f"
check "epilog: the end line" $?
cat "$f"

# A requeued job starts again before the first file is ingested.
# shellcheck disable=SC2086
run prolog $job
[ "$(files | tr '\n' ' ')" = "./incoming/gpu01-123-end.alloc ./incoming/gpu01-123-start-1.alloc ./incoming/gpu01-123-start.alloc " ]
check "prolog again: a new name, the old file kept" $?
rm -rf "$T/spool"

# An array task is named as sacct names it; odd values are dropped.
run prolog SLURM_JOB_ID=107 SLURM_ARRAY_JOB_ID=100 SLURM_ARRAY_TASK_ID=7 \
	SLURM_JOB_GPUS=1 "SLURM_JOB_USER=a b" SLURM_JOB_ACCOUNT=x=y \
	GPUUSAGE_SPOOL="$T/spool" GPUUSAGE_NODE=gpu02.cluster.example
f=$T/spool/incoming/gpu02-100_7-start.alloc
[ "$rc" -eq 0 ] && [ "$(body "$f")" = "gpuusage-alloc 1 start job=100_7 node=gpu02 gpus=1" ]
check "array task 100_7, short node name, no user or project" $?
rm -rf "$T/spool"

# The host name when GPUUSAGE_NODE is not set.
host=$(uname -n)
host=${host%%.*}
run epilog SLURM_JOB_ID=5 SLURM_JOB_GPUS=7 GPUUSAGE_SPOOL="$T/spool"
[ "$(body "$T/spool/incoming/$host-5-end.alloc")" = "gpuusage-alloc 1 end job=5 node=$host gpus=7" ]
check "node: the short host name" $?
rm -rf "$T/spool"

# No GPUs: nothing at all.
run prolog SLURM_JOB_ID=9 SLURM_JOB_USER=alice GPUUSAGE_SPOOL="$T/spool"
[ "$rc" -eq 0 ] && [ ! -e "$T/spool" ]
check "prolog: no SLURM_JOB_GPUS, nothing written" $?
run epilog SLURM_JOB_ID=9 SLURM_JOB_GPUS= GPUUSAGE_SPOOL="$T/spool"
[ "$rc" -eq 0 ] && [ ! -e "$T/spool" ]
check "epilog: empty SLURM_JOB_GPUS, nothing written" $?

# A spool that cannot be written: exit 0 at once, no output.
: >"$T/file"
run prolog SLURM_JOB_ID=9 SLURM_JOB_GPUS=0 GPUUSAGE_SPOOL="$T/file/spool" \
	>"$T/out" 2>&1
[ "$rc" -eq 0 ] && [ "$took" -le 3 ] && [ ! -s "$T/out" ]
check "unwritable spool: exit 0 after ${took}s, silent" $?

# Something that hangs (here date): killed at the time limit, exit 0.
mkdir "$T/bin"
printf '#!/bin/sh\nsleep 30\n' >"$T/bin/date"
chmod +x "$T/bin/date"
t0=$(date +%s)
env -i PATH="$T/bin:$PATH" SLURM_JOB_ID=9 SLURM_JOB_GPUS=0 \
	GPUUSAGE_SPOOL="$T/spool" GPUUSAGE_ALLOC_TIMEOUT=1 /bin/sh "$S/epilog"
rc=$?
took=$(($(date +%s) - t0))
[ "$rc" -eq 0 ] && [ "$took" -le 4 ] && [ -z "$(files 2>/dev/null)" ]
check "a hang is cut off: exit 0 after ${took}s, nothing in the spool" $?
exit "$failed"
