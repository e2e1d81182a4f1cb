#!/bin/sh
# SPDX-License-Identifier: MIT
# gpucollect --every: passes on the clock's seconds, a failing nvidia-smi
# pass logged and survived, SIGTERM ends the loop after flushing the spool,
# and gpuingest takes every row that reached incoming/.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpucollect gpuingest
F=$(cd "$(dirname "$0")/../fixtures/gpucollect" && pwd)

# A wrapper around the fake nvidia-smi: the second --query-gpu call fails;
# each call reports the current time, as the real one does.
cat >"$T/nvidia-smi" <<EOS
#!/bin/sh
case "\$1" in
--query-gpu=*)
	n=\$(cat "$T/count" 2>/dev/null || echo 0)
	n=\$((n + 1))
	echo "\$n" >"$T/count"
	[ "\$n" -eq 2 ] && exec "$F/nvidia-smi-fail"
	;;
esac
FAKE_NVSMI_TIME=\$(date '+%Y/%m/%d %H:%M:%S.000') exec "$F/nvidia-smi" "\$@"
EOS
chmod +x "$T/nvidia-smi"

# wait_count N: wait (at most 30 s) until N --query-gpu calls were made.
wait_count() {
	i=0
	while [ "$(cat "$T/count" 2>/dev/null || echo 0)" -lt "$1" ]; do
		[ $i -lt 300 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.3 # let the pass finish
}

gpucollect --every 1s -n gpu01 --nvidia-smi "$T/nvidia-smi" \
	--proc "$F/proc" --spool "$T/spool" 2>"$T/err" &
pid=$!
wait_count 4 || fail "the loop did not make 4 passes"
kill -TERM "$pid"
if wait "$pid"; then status=0; else status=$?; fi
[ "$status" -eq 0 ]
check "SIGTERM ends the loop with status 0 (got $status)" $?
passes=$(cat "$T/count")
good=$((passes - 1))

n=$(grep -c 'nvidia-smi failed (exit 9): NVIDIA-SMI has failed' "$T/err")
[ "$n" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ]
check "the failing pass is logged once, nothing else" $?
cat "$T/err"

[ -z "$(find "$T/spool/tmp" -type f)" ]
check "no staging file left after SIGTERM" $?
rows=$(cat "$T/spool/incoming/"*.csv | grep -vc '^timestamp,')
[ "$rows" -eq $((8 * good)) ]
check "incoming/ holds 8 rows for each of the $good good passes ($rows)" $?
stamps=$(cat "$T/spool/incoming/"*.csv | grep -v '^timestamp,' |
	cut -d, -f1 | sort -u | wc -l)
[ "$stamps" -eq "$good" ]
check "one timestamp per pass ($stamps)" $?
cat "$T/spool/incoming/"*.csv | grep -v '^timestamp,' | cut -d, -f1 |
	sort -u | sed -n 's/^.*:\([0-9][0-9]\)Z$/\1/p' >"$T/secs"
[ "$(sort -u "$T/secs" | wc -l)" -eq "$good" ]
check "passes in distinct seconds" $?

gpuingest -d "$T/w.db" "$T/spool/incoming/"*.csv >"$T/ingest.out" 2>&1
check "gpuingest takes the spooled files" $?
grep -q "read $rows, inserted $rows, .* rejected 0" "$T/ingest.out"
check "all $rows rows inserted, none rejected" $?
cat "$T/ingest.out"

# On standard output: one header, then each pass's rows as they come.
rm -f "$T/count"
gpucollect --every 1s -n gpu01 --nvidia-smi "$T/nvidia-smi" \
	--proc "$F/proc" >"$T/out.csv" 2>"$T/err" &
pid=$!
wait_count 3 || fail "the stdout loop did not make 3 passes"
kill -INT "$pid"
if wait "$pid"; then status=0; else status=$?; fi
[ "$status" -eq 0 ]
check "SIGINT ends the loop with status 0 (got $status)" $?
good=$(($(cat "$T/count") - 1))
[ "$(grep -c '^timestamp,' "$T/out.csv")" -eq 1 ] &&
	[ "$(sed -n 1p "$T/out.csv" | cut -d, -f1)" = timestamp ]
check "one header, first" $?
[ "$(grep -vc '^timestamp,' "$T/out.csv")" -eq $((8 * good)) ]
check "8 rows for each good pass" $?
exit "$failed"
