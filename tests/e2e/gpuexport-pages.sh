#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuexport reads the facts straight from the table's pages (gpu/pages.h)
# and writes the same data files, byte for byte, as when every row goes
# through a statement (GPUUSAGE_PAGES=0): whole GPUs and MIG
# slices, one and three reader threads, an incremental export of a later
# ingest, a value of an unexpected type (the readers go on by statement
# from there), and a WAL whose frames a reader keeps out of the file (read
# by statement throughout).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.inc
. "$(dirname "$0")/lib.inc"
setup gpugen gpuingest gpuexport sqlite3 md5sum
cd "$T" || exit 1

gpugen -n 3 -g 4 -s 2026-11-01 -H 30 -S 3 -i 120 -j jobs.csv -o a.csv ||
	fail gpugen
gpugen -n 2 -g 2 -s 2026-11-01 -H 30 -S 4 -i 300 --mig 3g.40gb,2g.20gb,1g.10gb \
	-o mig.csv || fail "gpugen --mig"
gpugen -n 3 -g 4 -s 2026-11-02T06:00 -H 30 -S 5 -i 120 -o b.csv ||
	fail "gpugen, the second load"
gpuingest -q -d w.db -j jobs.csv a.csv mig.csv >/dev/null || fail gpuingest

# files DIR: each data file's partition and checksum, sorted.
files() {
	find "$1" -name '*.parquet' | while read -r f; do
		printf '%s %s\n' "$(basename "$(dirname "$f")")" \
			"$(md5sum <"$f" | cut -d' ' -f1)"
	done | sort
}
# export NAME MODE ARGS...: export the facts of NAME.db to NAME.lake,
# MODE 1 (pages, the default) or 0 (statements); -v's lines in NAME.err.
export_facts() {
	n=$1 m=$2
	shift 2
	GPUUSAGE_PAGES=$m gpuexport -v -d "$n.db" -l "$n.lake" \
		-t gpu_usage_fact "$@" >/dev/null 2>"$n.err" ||
		fail "gpuexport of $n: $(cat "$n.err")"
}
fresh() { # ARGS...: both ways, each from a fresh copy of w.db
	for m in 1 0; do
		rm -rf "p$m.db" "p$m.db-wal" "p$m.db-shm" "p$m.lake"
		cp w.db "p$m.db" || fail "cannot copy the warehouse"
		export_facts "p$m" "$m" "$@"
	done
}
same_files() { # LABEL: p1.lake and p0.lake hold the same data files
	files p1.lake >p1.files
	files p0.lake >p0.files
	[ -s p1.files ] && cmp -s p1.files p0.files
	check "$1: the same data files" $?
}
both() { # LABEL ARGS...: pages against statements, fresh copies of w.db
	label=$1
	shift
	fresh "$@"
	same_files "$label"
	grep -q "gpu_usage_fact: [1-9][0-9]* rows read from the pages of gpu_usage_fact_rows$" p1.err
	check "$label: every row read from the pages" $?
	grep -q "0 rows read from the pages.*(GPUUSAGE_PAGES=0)" p0.err
	check "$label: GPUUSAGE_PAGES=0 reads by statement" $?
}
both "one reader" -j 1
both "three readers" -j 3
both "one day" -j 2 --from 2026-11-02 --to 2026-11-03

# An incremental export of a later ingest (rows newer than the watermark).
for m in 1 0; do
	gpuingest -q -d "p$m.db" b.csv >/dev/null || fail "second gpuingest"
	export_facts "p$m" "$m" -j 2
done
same_files "incremental export"
grep -q "rows read from the pages of gpu_usage_fact_rows$" p1.err
check "incremental export: read from the pages" $?

# A power reading stored as text, as no tool stores it: the reader that
# meets it goes on by statement, after the rows it gave.
sqlite3 w.db "UPDATE gpu_usage_fact_rows SET power_w = 'n/a'
	WHERE ts_ms = (SELECT ts_ms FROM gpu_usage_fact_rows
		ORDER BY ts_ms LIMIT 1 OFFSET 5000)
	AND node_id = (SELECT min(node_id) FROM gpu_usage_fact_rows)
	AND gpu = 0 AND mig = ''" || fail "cannot store the odd value"
for j in 1 2; do
	fresh -j "$j"
	same_files "a text in a number column, -j $j"
	grep -q "[1-9][0-9]* rows read from the pages.*others by statement (a value of another type than its column's)" p1.err
	check "a text in a number column, -j $j: the rest by statement" $?
done

# Frames in the WAL that a reader keeps from being copied into the file:
# the file is not the snapshot, so no page is read.
rm -rf p1.db p1.db-wal p1.db-shm p1.lake p0.lake
cp w.db p1.db || fail "cannot copy the warehouse"
mkfifo cmd || fail mkfifo
sqlite3 p1.db <cmd >ready &
reader=$!
exec 3>cmd
echo "BEGIN; SELECT count(*) > 0 FROM gpu_usage_fact_rows;" >&3
i=0
while ! grep -q 1 ready 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
grep -q 1 ready || fail "the holding reader did not start"
sqlite3 p1.db "UPDATE gpu_usage_fact_rows SET temp_c = 41
	WHERE ts_ms = (SELECT min(ts_ms) FROM gpu_usage_fact_rows)" ||
	fail "cannot write the frames"
export_facts p1 1 -j 2
grep -q "0 rows read from the pages.*others by statement (frames in the WAL" p1.err
check "frames kept from the file: read by statement" $?
echo "COMMIT;" >&3
exec 3>&-
wait "$reader"
rm -f p0.db-wal p0.db-shm
cp w.db p0.db || fail "cannot copy the warehouse"
sqlite3 p0.db "UPDATE gpu_usage_fact_rows SET temp_c = 41
	WHERE ts_ms = (SELECT min(ts_ms) FROM gpu_usage_fact_rows)" ||
	fail "cannot write the frames"
export_facts p0 0 -j 2
same_files "frames kept from the file"
exit "$failed"
