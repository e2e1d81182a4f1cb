#!/bin/sh
# SPDX-License-Identifier: MIT
# gpuexport's Iceberg tables read back by DuckDB, hyparquet, parquet-wasm,
# avsc, avrocat, python3-avro and icebird (tests/lake/lake.test.mjs):
# first export, idempotent re-run, append, overwrite of a late day, time
# travel, another codec. Skips (77) without node or the binaries; a reader
# that is missing is skipped by the test itself with a message.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
dir="$top/tests/lake"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1
then
	echo "skip: node and npm are needed"
	exit 77
fi
for t in gpugen gpuingest gpuexport sqlite3; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "skip: $t is not built or installed"
		exit 77
	fi
done
if [ ! -d "$dir/node_modules" ]; then
	echo "installing the lake's readers into tests/lake"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) ||
		echo "warning: cannot install the npm readers (offline?)"
fi
# The Parquet unit test's files, for the readers to check too.
unit="$top/${B:-build}/tests/test_lake_parquet"
if [ -x "$unit" ]; then
	LAKE_UNIT_FILES=$(mktemp -d)
	trap 'rm -rf "$LAKE_UNIT_FILES"' EXIT INT TERM
	export LAKE_UNIT_FILES
	LAKE_TEST_DIR=$LAKE_UNIT_FILES "$unit" >/dev/null 2>&1 ||
		echo "warning: $unit failed"
fi
cd "$dir" && node lake.test.mjs
