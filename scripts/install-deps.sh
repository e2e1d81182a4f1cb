#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages gpuusage needs to build and test, if missing.
# With --browser, also Chromium for the report's browser test; with
# --lake, the Avro readers that check gpuexport's Iceberg table (the npm
# readers are installed by `npm ci` in tests/lake); with --bench, the
# tools `make bench` compares against (DuckDB comes from `npm ci` in bench/).
# libzstd and libsnappy: gpuexport's Parquet codecs (ZSTD, SNAPPY).
set -eu
pkgs="libcsv-dev libcjson-dev libsqlite3-dev libcmocka-dev pkg-config sqlite3 gcc make time libzstd-dev libsnappy-dev"
missing=""
need_node=""
bench=""
for opt in "$@"; do
	case $opt in
	--browser) pkgs="$pkgs chromium"; need_node=1 ;;
	--lake) pkgs="$pkgs avro-bin python3-avro"; need_node=1 ;;
	--bench) pkgs="$pkgs datamash miller python3-pandas gnuplot-nox hyperfine sqlite3 time"; need_node=1; bench=1 ;;
	*) echo "install-deps: unknown option '$opt'" >&2; exit 2 ;;
	esac
done
if [ -n "$need_node" ]; then
	# Node.js may come from elsewhere than Debian (with npm inside it):
	# only ask apt for what is not on PATH at all.
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing" >&2
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq >&2
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq $missing >&2
fi
# DuckDB for make bench: the version pinned in bench/package-lock.json.
if [ -n "$bench" ] && [ ! -d "$(dirname "$0")/../bench/node_modules/@duckdb/node-api" ]; then
	echo "install-deps: npm ci in bench/" >&2
	(cd "$(dirname "$0")/../bench" && npm ci --no-audit --no-fund >&2)
fi
