#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages gpuusage needs to build and test, if missing.
# With --browser, also Chromium for the report's browser test.
set -eu
pkgs="libcsv-dev libcjson-dev libsqlite3-dev libcmocka-dev pkg-config sqlite3 gcc make time"
missing=""
if [ "${1:-}" = "--browser" ]; then
	pkgs="$pkgs chromium"
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
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
# shellcheck disable=SC2086
$sudo apt-get install -y -qq $missing >&2
