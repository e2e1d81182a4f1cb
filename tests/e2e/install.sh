#!/bin/sh
# SPDX-License-Identifier: MIT
# make install DESTDIR=... PREFIX=/usr puts exactly the expected files in
# place with their modes (binaries, man pages, completions, and under
# share/gpuusage the units, cron line, Slurm scripts and samples), the
# installed completions and units work from there, and make uninstall
# removes every one of them. It installs the build of B, already made by
# check: it never rebuilds.
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuagg gpubill gpureport gpucollect gpuexport bash
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
root=$T/root
# A make run by make check must not join its jobserver or take its flags.
unset MAKEFLAGS MFLAGS MAKELEVEL

imake() {
	make -C "$top" --no-print-directory B="$B" DESTDIR="$root" PREFIX=/usr "$@"
}

if ! imake -q all; then
	echo "FAIL: $B is not up to date (make all first): install would rebuild"
	exit 1
fi
imake install >"$T/install.log" 2>&1
check "make install" $?
if grep -E '^(cc|gcc|clang|\$\(CC\)) ' "$T/install.log"; then
	check "make install compiles nothing" 1
fi

# The expected files, with their modes (symbolic links as l -> target).
{
	for t in gpugen gpuingest gpuagg gpubill gpureport gpucollect \
		gpuexport gpu-pipeline; do
		echo "usr/bin/$t 755"
		echo "usr/share/bash-completion/completions/$t l -> gpuusage"
	done
	for f in "$top"/docs/*.1; do
		echo "usr/share/man/man1/${f##*/} 644"
	done
	echo "usr/share/bash-completion/completions/gpuusage 644"
	echo "usr/share/zsh/site-functions/_gpuusage 644"
	for f in "$top"/scripts/*.service "$top"/scripts/*.timer; do
		echo "usr/share/gpuusage/systemd/${f##*/} 644"
	done
	echo "usr/share/gpuusage/gpu-pipeline.cron 644"
	echo "usr/share/gpuusage/slurm/prolog 755"
	echo "usr/share/gpuusage/slurm/epilog 755"
	for f in gpu-pipeline.conf rates.conf "$top"/data/*.csv; do
		echo "usr/share/gpuusage/examples/${f##*/} 644"
	done
} | sort >"$T/want"
(cd "$root" && find . ! -type d | sed 's|^\./||' | sort | while read -r f; do
	if [ -L "$f" ]; then
		echo "$f l -> $(readlink "$f")"
	else
		echo "$f $(stat -c %a "$f")"
	fi
done) >"$T/got"
diff "$T/want" "$T/got"
check "installed files and modes" $?

check "installed tool runs" \
	"$("$root/usr/bin/gpuagg" --version >/dev/null; echo $?)"
for f in "$top"/docs/*.1 "$top"/data/rates.conf "$top"/scripts/slurm/prolog; do
	case $f in
	*.1) i=usr/share/man/man1/${f##*/} ;;
	*/slurm/*) i=usr/share/gpuusage/slurm/${f##*/} ;;
	*) i=usr/share/gpuusage/examples/${f##*/} ;;
	esac
	cmp -s "$f" "$root/$i" || check "$i is a copy of its source" 1
done
cmp -s "$top/$B/completions/_gpuusage" \
	"$root/usr/share/zsh/site-functions/_gpuusage"
check "zsh completion is the generated one" $?

# The units and the cron line name the binaries where they now are.
bad=$(grep -l /usr/local/bin/gpu "$root"/usr/share/gpuusage/systemd/* \
	"$root/usr/share/gpuusage/gpu-pipeline.cron")
check "units and cron name /usr/bin${bad:+ (not: $bad)}" \
	"$(test -z "$bad"; echo $?)"
grep -q '^ExecStart=/usr/bin/gpu-pipeline ' \
	"$root/usr/share/gpuusage/systemd/gpu-pipeline.service"
check "gpu-pipeline.service runs /usr/bin/gpu-pipeline" $?
grep -q ' /usr/bin/gpu-pipeline --quiet' \
	"$root/usr/share/gpuusage/gpu-pipeline.cron"
check "the cron line runs /usr/bin/gpu-pipeline" $?

# bash-completion loads completions/<command>: each name works alone.
out=$(bash --norc --noprofile -c '
	. "$1/usr/share/bash-completion/completions/gpubill" || exit 1
	COMP_WORDS=(gpuagg --fo) COMP_CWORD=1
	_gpuusage_gpuagg && printf "%s\n" "${COMPREPLY[@]}"' bash "$root")
check "installed bash completion completes gpuagg --fo ($out)" \
	"$(test "$out" = --format; echo $?)"

imake uninstall >"$T/uninstall.log" 2>&1
check "make uninstall" $?
left=$(cd "$root" && find . ! -type d)
check "uninstall removes every installed file${left:+ (left: $left)}" \
	"$(test -z "$left"; echo $?)"
check "uninstall removes share/gpuusage" \
	"$(test ! -e "$root/usr/share/gpuusage"; echo $?)"
exit "$failed"
