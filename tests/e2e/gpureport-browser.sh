#!/bin/sh
# SPDX-License-Identifier: MIT
# gpureport's page in headless Chromium (tests/browser/report.test.mjs):
# no console errors, no network, tiles and filters equal to gpuagg and
# gpubill. Skips (77) without Chromium, node or the project's binaries.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
dir="$top/tests/browser"
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
	echo "skip: no Chromium at $chromium"
	exit 77
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1
then
	echo "skip: node and npm are needed"
	exit 77
fi
for t in gpugen gpuingest gpuagg gpubill gpureport; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "skip: $t is not built"
		exit 77
	fi
done
if [ ! -d "$dir/node_modules/playwright-core" ]; then
	echo "installing playwright-core into tests/browser"
	if ! (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
		npm ci --no-audit --no-fund --loglevel=error); then
		echo "skip: cannot install playwright-core (offline?)"
		exit 77
	fi
fi
export CHROMIUM="$chromium"
cd "$dir" && exec node report.test.mjs
