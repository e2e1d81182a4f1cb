#!/bin/sh
# SPDX-License-Identifier: MIT
# Every command of README.md's sh blocks and of the man pages' EXAMPLES
# runs as written, in a scratch folder that holds the files the examples
# name, with build/ and scripts/ on PATH. Slurm and nvidia-smi are fakes
# (below); the commands of SKIP are not run, each with its reason.
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuagg gpubill gpureport gpucollect gpuexport
top=$(cd "$(dirname "$0")/../.." && pwd)

# Commands not run: a pattern (shell case syntax) and the reason.
SKIP='scripts/install-deps.sh*|installs packages, then make demo or make check
\* \* \* \* \**|a cron line, not a command
*--every*|runs until stopped
*/var/lib/gpuusage*|a deployed path (docs/DEPLOY.md)
*/var/lib/node_exporter/*|a deployed path (the node_exporter textfile folder)
*/etc/gpuusage/*|a deployed configuration (docs/DEPLOY.md)'

# extract FILE: each example command of FILE on one line.
extract() {
	case $1 in
	*.md) awk '/^```sh$/ { on = 1; next } /^```/ { on = 0; next } on' "$1" ;;
	*)
		awk '/^\.SH EXAMPLES/ { ex = 1; next } /^\.SH/ { ex = 0 }
		     ex && /^\.(nf|EX)/ { on = 1; next }
		     ex && /^\.(fi|EE)/ { on = 0; next }
		     ex && on && !/^\./' "$1" |
			sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\e/\\/g'
		;;
	esac | awk '{ if (sub(/\\$/, "")) { acc = acc $0; next }
		      print acc $0; acc = "" }'
}

# skip_reason CMD: print why CMD is not run, or fail when it is run.
skip_reason() {
	printf '%s\n' "$SKIP" | while IFS='|' read -r pat why; do
		# shellcheck disable=SC2254 # the pattern is meant
		case $1 in $pat) echo "$why"; exit 0 ;; esac
	done
}

# Fakes: sacct and scontrol print a job of the samples below; nvidia-smi
# answers gpucollect's query from the captures of tests/fixtures and a
# --format=csv query as gpugen's nvidia-smi output.
mkdir -p "$T/fake"
cat >"$T/fake/sacct" <<'EOS'
#!/bin/sh
case " $* " in *" --noheader "*) ;; *) echo 'JobID|User|Account|Start|End|AllocTRES' ;; esac
echo '4242|alice|p1|2026-11-01T00:00:00|2026-11-01T02:00:00|billing=1,cpu=1,gres/gpu=1,node=1'
EOS
cat >"$T/fake/scontrol" <<'EOS'
#!/bin/sh
echo 'JobId=4242 UserId=alice(1000) Account=p1 JobState=COMPLETED StartTime=2026-11-01T00:00:00 EndTime=2026-11-01T02:00:00 NodeList=gpu01 Nodes=gpu01 CPU_IDs=0 Mem=1024 GRES=gpu:1(IDX:0)'
EOS
cat >"$T/fake/nvidia-smi" <<EOS
#!/bin/sh
case " \$* " in
*" --format=csv,noheader,nounits "*) exec "$top/tests/fixtures/gpucollect/nvidia-smi" "\$@" ;;
esac
exec gpugen --format nvidia-smi --node node001 --hours 1 -i 3600
EOS
chmod +x "$T/fake/sacct" "$T/fake/scontrol" "$T/fake/nvidia-smi"
PATH=$T/fake:$PATH:$top/scripts
export PATH
unset GPUUSAGE_DB GPU_PIPELINE_CONF

# The files the examples name, made once; each document gets a copy.
mkdir -p "$T/seed/spool/incoming"
(
	cd "$T/seed" || exit 1
	cp -R "$top/data" "$top/scripts" .
	gpugen -n 2 -g 2 -s 2026-11-01 -H 2 -S 7 -o samples.csv -j jobs.csv &&
		cp samples.csv hour.csv &&
		cp samples.csv spool/incoming/gpu01-20261128T1600.csv &&
		gpugen -f nvidia-smi --node node001 -H 2 -i 300 >smi.csv &&
		cp data/rates.conf rates.card &&
		gpuingest -q --db man.db --jobs jobs.csv samples.csv &&
		# The job of gpureport(1)'s per-job example.
		printf '%s\n' 'timestamp,node,gpu,util_pct,mem_used_mib,job_id,user,project' \
			'2026-11-01T00:00:00Z,node009,0,3,9000,7737615,alice,p1' \
			'2026-11-01T00:01:00Z,node009,0,2,9000,7737615,alice,p1' |
		gpuingest -q --db man.db
) >"$T/seed.log" 2>&1 || { cat "$T/seed.log"; exit 1; }

n=0 nskip=0
for doc in "$top/README.md" "$top"/docs/*.1; do
	name=${doc##*/}
	rm -rf "$T/run"
	cp -R "$T/seed" "$T/run"
	# The man pages query the default warehouse; the README makes its own.
	case $name in
	*.1) mv "$T/run/man.db" "$T/run/gpuusage.db" ;;
	*) rm "$T/run/man.db" ;;
	esac
	extract "$doc" >"$T/cmds"
	while IFS= read -r cmd; do
		[ -n "$cmd" ] || continue
		why=$(skip_reason "$cmd")
		if [ -n "$why" ]; then
			echo "skip: $name: $cmd ($why)"
			nskip=$((nskip + 1))
			continue
		fi
		n=$((n + 1))
		# bash, as the docs' shell lines assume (set -o pipefail).
		(cd "$T/run" && bash -c "$cmd" >"$T/out" 2>"$T/err" </dev/null)
		r=$?
		if [ "$r" -ne 0 ]; then
			sed 's/^/    /' "$T/err" | tail -n 5
		fi
		check "$name: $cmd" "$r"
	done <"$T/cmds"
done
echo "$n example(s) run, $nskip skipped"
[ "$n" -gt 30 ] || check "extracted at least 30 examples (got $n)" 1
exit $failed
