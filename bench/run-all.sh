#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every benchmark in turn; docs/PERFORMANCE.md quotes their output.
# usage: bench/run-all.sh   (B names the build directory, default build)
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
for b in gpugen ingest attrib agg report export; do
	echo "== bench/$b.sh"
	sh "$dir/$b.sh"
	echo
done
