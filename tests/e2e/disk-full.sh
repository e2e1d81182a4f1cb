#!/bin/sh
# SPDX-License-Identifier: MIT
# A full disk: gpuingest into a warehouse on a small tmpfs fails with exit 1
# and a message naming the warehouse, rolls back (the warehouse keeps its
# committed rows and passes PRAGMA integrity_check), and a reader still
# reads it. Needs root to mount the tmpfs; skipped otherwise.
set -eu
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: not root, cannot mount a small tmpfs"; exit 77; }
d=$(mktemp -d)
mnt="$d/full"
mkdir "$mnt"
mount -t tmpfs -o size=400k tmpfs "$mnt" 2>/dev/null ||
	{ rmdir "$mnt"; rm -rf "$d"; echo "skip: cannot mount a tmpfs"; exit 77; }
trap 'umount "$mnt"; rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

printf 'timestamp,node,gpu,util_pct,mem_used_mib,mem_total_mib\n1795881600,base,0,1,1,2\n' >"$d/base.csv"
gpuingest -q -d "$mnt/w.db" "$d/base.csv" || fail "the baseline does not fit"
gpugen -n 4 -H 48 -S 1 -o "$d/big.csv"

# full DB ROWS: big.csv into DB on the full disk fails with exit 1, a
# message naming DB and its rollback; DB passes integrity_check, keeps
# ROWS facts, and a reader reads it.
full() {
	set +e
	TMPDIR="$mnt" SQLITE_TMPDIR="$mnt" gpuingest -q -d "$1" "$d/big.csv" 2>"$d/err"
	s=$?
	set -e
	[ "$s" = 1 ] || fail "$1: exit status $s, want 1"
	grep -q "database or disk is full: cannot write warehouse '$1'" "$d/err" ||
		fail "$1: message does not name the warehouse: $(cat "$d/err")"
	grep -q "rolled back" "$d/err" || fail "$1: no rollback message: $(cat "$d/err")"
	[ "$(sqlite3 "$1" 'PRAGMA integrity_check')" = ok ] || fail "$1: integrity_check"
	[ "$(sqlite3 "$1" 'SELECT count(*) FROM gpu_usage_fact')" = "$2" ] ||
		fail "$1: the failed run left rows behind"
	gpuagg -d "$1" -m samples >"$d/agg" || fail "$1: a reader cannot read the warehouse"
}
full "$mnt/w.db" 1
[ "$(tail -n 1 "$d/agg")" = 1 ] || fail "reader sees $(tail -n 1 "$d/agg")"

# The first run into a new warehouse (a rollback journal until it commits):
# the same, and the warehouse it leaves is empty and in WAL mode, with no
# journal left.
full "$mnt/n.db" 0
[ ! -e "$mnt/n.db-journal" ] || fail "new warehouse: its journal was left behind"
[ "$(sqlite3 "$mnt/n.db" 'PRAGMA journal_mode')" = wal ] || fail "new warehouse: not in WAL mode"
echo "ok: disk full: exit 1, warehouse named, rolled back, still readable (also a new one)"
