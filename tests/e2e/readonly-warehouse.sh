#!/bin/sh
# SPDX-License-Identifier: MIT
# Reads never write: gpuagg, gpubill and gpureport answer from a warehouse
# file of mode 0444 in a folder of mode 0555, as a user who may write
# neither (nobody, when this runs as root), stale rollups included, and
# from a copy of it; their output is that of the same queries on a
# writable, refreshed warehouse, and the file keeps its bytes and mtime.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuagg gpubill gpureport sqlite3

# Run "$@" as a user that cannot write the warehouse: root may write
# anything, so root runs the readers as nobody.
if [ "$(id -u)" -ne 0 ]; then
	as_reader() { "$@"; }
elif command -v setpriv >/dev/null 2>&1; then
	as_reader() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
elif command -v runuser >/dev/null 2>&1; then
	as_reader() { runuser -u nobody -- "$@"; }
else
	echo "skip: running as root without setpriv or runuser"
	exit 77
fi
chmod 0755 "$T"
if ! as_reader test -r "$T"; then
	echo "skip: cannot run as a user other than root here"
	exit 77
fi
# The readers' own copies of the tools, out of any private folder.
# The warehouse folder's name needs escaping in an SQLite URI.
wh="$T/w h%?#x"
mkdir "$T/bin" "$T/out" "$wh"
for t in gpuagg gpubill gpureport; do
	cp "$(command -v "$t")" "$T/bin/$t"
done
chmod 0755 "$T/bin" "$T/bin"/*
chmod 0777 "$T/out"

db=$wh/w.db
gpugen -n 2 -g 2 -s 2026-11-30T00:00 -H 30 -S 5 -i 300 -j "$T/jobs.csv" \
	-o "$T/s.csv" || fail gpugen
gpuingest -q -d "$db" -j "$T/jobs.csv" "$T/s.csv" >/dev/null || fail gpuingest
# Stale rollups, as an older writer leaves them.
sqlite3 "$db" "UPDATE gpu_usage_fact SET util_pct = 100 - util_pct
	WHERE ts_ms % 1800000 = 0;
	INSERT OR IGNORE INTO dirty_hours SELECT DISTINCT
	ts_ms / 3600000 * 3600000 FROM gpu_usage_fact WHERE ts_ms % 1800000 = 0;
	PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null || fail "stale rollups"
rm -f "$db-wal" "$db-shm"
cp "$db" "$T/ref.db"
gpuagg --refresh --db "$T/ref.db" || fail "refresh the reference"

queries() { # $1: warehouse, $2: output prefix; run as given by $run
	$run "$T/bin/gpuagg" --db "$1" --period day --by user >"$2.agg1" &&
		$run "$T/bin/gpuagg" --db "$1" --period hour --by node \
			>"$2.agg2" &&
		$run "$T/bin/gpuagg" --db "$1" --by job --scan >"$2.agg3" &&
		$run "$T/bin/gpubill" --db "$1" --month 2026-11 --by project \
			>"$2.bill" &&
		$run "$T/bin/gpureport" --db "$1" --from 2026-11-30 \
			--to 2026-12-02 -o "$2.html"
}

run=
queries "$T/ref.db" "$T/ref" || fail "queries of the reference"
chmod 0444 "$db"
chmod 0555 "$wh"
sum=$(cksum <"$db")
mtime=$(stat -c %y "$db")
run=as_reader
queries "$db" "$T/out/ro" 2>"$T/err" || cat "$T/err"
check "queries of a 0444 warehouse in a 0555 folder" $?
[ "$(cksum <"$db")" = "$sum" ] && [ "$(stat -c %y "$db")" = "$mtime" ] &&
	[ "$(ls "$wh")" = w.db ]
check "the warehouse and its folder are unchanged" $?
as_reader cp "$db" "$T/out/copy.db" || fail "copy"
queries "$T/out/copy.db" "$T/out/copy" 2>"$T/err" || cat "$T/err"
check "queries of a copy" $?
for f in agg1 agg2 agg3 bill html; do
	cmp -s "$T/ref.$f" "$T/out/ro.$f" && cmp -s "$T/ref.$f" "$T/out/copy.$f"
	check "read-only $f is the refreshed warehouse's" $?
done
# A file someone may write cannot be read as immutable: the reader says
# why it cannot read it.
chmod 0644 "$db"
as_reader "$T/bin/gpuagg" --db "$db" >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q "cannot read '.*w.db': its folder does not let SQLite create the WAL index beside it" "$T/err"
check "a writable file in a read-only folder is refused with a reason" $?
chmod 0755 "$wh"
exit "$failed"
