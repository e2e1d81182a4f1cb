#!/bin/sh
# SPDX-License-Identifier: MIT
# gpu-pipeline with LAKE_DIR: after its last hour it exports the warehouse
# to the Iceberg tables (gpuexport), which then hold exactly the
# warehouse's samples; a second run adds the new hours as one snapshot.
# shellcheck source-path=SCRIPTDIR source=pipeline-lib.inc
. "$(dirname "$0")/pipeline-lib.inc"
setup
need gpuexport sqlite3
/usr/bin/python3 -c 'import avro' 2>/dev/null ||
	{ echo "skip: python3-avro is needed (scripts/install-deps.sh --lake)"; exit 77; }
LAKE_DIR=$T/lake
export LAKE_DIR
reads() {
	/usr/bin/python3 "$top/tests/lake/check_table.py" "$LAKE_DIR/gpu_usage_fact"
}

bash "$PIPELINE" --mode demo --backfill 2026-11-27T10 2026-11-27T11 \
	>/dev/null 2>"$T/err" || fail "backfill exited $?: $(cat "$T/err")"
grep -q 'step export ok' "$LOG_DIR"/*.log || fail "no export step in the log"
n=$(sqlite3 "$GPUUSAGE_DB" "SELECT count(*) FROM gpu_usage_fact")
[ "$(reads)" = "2 $n" ] || fail "lake reads '$(reads)', warehouse has $n rows"

bash "$PIPELINE" --mode demo --backfill 2026-11-27T12 2026-11-27T12 \
	>/dev/null 2>"$T/err" || fail "second run exited $?: $(cat "$T/err")"
n=$(sqlite3 "$GPUUSAGE_DB" "SELECT count(*) FROM gpu_usage_fact")
[ "$(reads)" = "3 $n" ] || fail "lake reads '$(reads)', warehouse has $n rows"
[ -s "$LAKE_DIR/hourly/metadata/version-hint.text" ] || fail "no hourly table"
echo "ok"
