#!/bin/sh
# SPDX-License-Identifier: MIT
# The generated shell completions (B/completions, scripts/gen-completions.sh)
# offer every long option of each tool's struct option table in src/TOOL.c
# and of gpu-pipeline's option parser, complete option values, and load
# in bash and (when installed) zsh.
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuagg gpubill gpureport gpucollect gpuexport bash
top=$(cd "$(dirname "$0")/../.." && pwd)
comp=$top/${B:-build}/completions
tools="gpugen gpuingest gpuagg gpubill gpureport gpucollect gpuexport"

# bash_complete WORD...: the bash completions of the last WORD, one a line.
bash_complete() {
	bash --norc --noprofile -c '
		. "$1" || exit 1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		fn=$(complete -p "$1" | awk "{ print \$3 }")
		"$fn" || exit 1
		printf "%s\n" "${COMPREPLY[@]}"' bash "$comp/gpuusage.bash" "$@"
}

# The long options of a tool's table, from its source (not from the tool).
table_options() {
	sed -n 's/^[[:space:]]*{"\([a-z0-9-]*\)", *[a-z_]*argument,.*/--\1/p' \
		"$top/src/$1.c"
}

# gpu-pipeline's long options, from the case labels of its parser.
pipeline_options() {
	sed -n 's/^[[:space:]]*\(-[A-Za-z] | \)*\(--[a-z][a-z-]*\)\(=\*\)*)[[:space:]].*/\2/p' \
		"$top/scripts/gpu-pipeline" | sort -u
}

check "completions were generated" \
	"$(test -s "$comp/gpuusage.bash" && test -s "$comp/_gpuusage"; echo $?)"

out=$(bash_complete gpuagg --fo)
check "bash: gpuagg --fo completes to --format" \
	"$(test "$out" = --format; echo $?)"

for t in $tools; do
	want=$(table_options "$t")
	check "$t: its source has an option table" \
		"$(test -n "$want"; echo $?)"
	got=$(bash_complete "$t" --)
	missing=$(printf '%s\n' "$want" | grep -vxF -e "$got")
	check "bash: $t -- offers every long option of its table${missing:+ (missing: $missing)}" \
		"$(test -z "$missing"; echo $?)"
	extra=$(printf '%s\n' "$got" | grep -vxF -e "$want")
	check "bash: $t -- offers no option outside its table${extra:+ (extra: $extra)}" \
		"$(test -z "$extra"; echo $?)"
done

want=$(pipeline_options)
got=$(bash_complete gpu-pipeline --)
missing=$(printf '%s\n' "$want" | grep -vxF -e "$got")
check "bash: gpu-pipeline -- offers its options${missing:+ (missing: $missing)}" \
	"$(test -n "$want" && test -z "$missing"; echo $?)"

out=$(bash_complete gpuagg --format '' | tr '\n' ' ')
check "bash: gpuagg --format values ($out)" \
	"$(test "$out" = 'csv json jsonl table prometheus '; echo $?)"
out=$(bash_complete gpuagg -f j | tr '\n' ' ')
check "bash: gpuagg -f j ($out)" "$(test "$out" = 'json jsonl '; echo $?)"
out=$(bash_complete gpuagg --format = js | tr '\n' ' ')
check "bash: gpuagg --format=js ($out)" \
	"$(test "$out" = 'json jsonl '; echo $?)"
out=$(bash_complete gpuagg --by user,mo | tr '\n' ' ')
check "bash: gpuagg --by user,mo ($out)" \
	"$(test "$out" = 'user,model '; echo $?)"
out=$(bash_complete gpubill --period '' | tr '\n' ' ')
check "bash: gpubill --period values ($out)" \
	"$(test "$out" = 'all month '; echo $?)"
out=$(bash_complete gpu-pipeline --mode '' | tr '\n' ' ')
check "bash: gpu-pipeline --mode values ($out)" \
	"$(test "$out" = 'demo real spool '; echo $?)"
mkdir "$T/d" && : >"$T/d/warehouse.db"
out=$(cd "$T/d" && bash_complete gpuagg --db ware)
check "bash: gpuagg --db completes file names ($out)" \
	"$(test "$out" = warehouse.db; echo $?)"
out=$(cd "$T/d" && bash_complete gpuagg -o ware)
check "bash: gpuagg -o completes file names ($out)" \
	"$(test "$out" = warehouse.db; echo $?)"
out=$(cd "$T/d" && bash_complete gpuagg --scan ware)
check "bash: an operand after an option without a value is a file ($out)" \
	"$(test "$out" = warehouse.db; echo $?)"

if ! command -v zsh >/dev/null 2>&1; then
	echo "zsh not installed: the zsh completion is not checked"
	exit "$failed"
fi
zsh -n "$comp/_gpuusage"
check "zsh: _gpuusage parses" $?
out=$(zsh -f -c '
	fpath=("$1" $fpath)
	autoload -Uz compinit && compinit -u -d "$2/zcompdump"
	print -r -- $_comps[gpuagg] $_comps[gpu-pipeline]' zsh "$comp" "$T")
check "zsh: compinit binds the tools to _gpuusage ($out)" \
	"$(test "$out" = '_gpuusage _gpuusage'; echo $?)"
# zsh_specs TOOL: the _arguments specs _gpuusage gives for TOOL.
zsh_specs() {
	zsh -f -c '
		_arguments() { print -rl -- "$@" }
		service=$2
		. "$1"' zsh "$comp/_gpuusage" "$1"
}
for t in $tools; do
	specs=$(zsh_specs "$t")
	missing=""
	for o in $(table_options "$t"); do
		printf '%s\n' "$specs" | grep -q -e "^\\(([^)]*)\\)*$o\\(=\\|$\\)" ||
			missing="$missing $o"
	done
	check "zsh: $t offers every long option of its table${missing:+ (missing:$missing)}" \
		"$(test -z "$missing"; echo $?)"
done
specs=$(zsh_specs gpuagg)
check "zsh: gpuagg --format values" \
	"$(printf '%s\n' "$specs" | grep -qxF '(--format -f)--format=:value:(csv json jsonl table prometheus)'; echo $?)"
check "zsh: gpuagg --db completes files" \
	"$(printf '%s\n' "$specs" | grep -qxF '(--db -d)--db=:file:_files'; echo $?)"
exit "$failed"
