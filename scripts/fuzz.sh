#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the fuzz targets of tests/fuzz/ with clang's libFuzzer, ASan and
# UBSan in build-fuzz/, then run each for SECONDS (default 20) from its seed
# corpus tests/fuzz/corpus/TARGET (new inputs go to a scratch folder, not
# into the repository). A crash stops with exit 1 and keeps the input in
# build-fuzz/crash-TARGET-*. Without a clang that links -fsanitize=fuzzer,
# says so and exits 0. Usage: scripts/fuzz.sh [SECONDS [TARGET...]]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-20}
[ $# -gt 0 ] && shift
FUZZ_CC=${FUZZ_CC:-clang}
B=build-fuzz
mkdir -p "$B"
if ! printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$B/probe.c" ||
	! "$FUZZ_CC" -fsanitize=fuzzer "$B/probe.c" -o "$B/probe" 2>/dev/null; then
	echo "fuzz: skipped: $FUZZ_CC cannot link -fsanitize=fuzzer (libFuzzer)"
	exit 0
fi
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
make --no-print-directory -s CC="$FUZZ_CC" B="$B" \
	CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $san" "$B/libgpucore.a"
cflags="-std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc -O1 -g $san \
	-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -Werror \
	$(pkg-config --cflags libcjson sqlite3)"
libs="$(pkg-config --libs libcjson sqlite3) -lcsv -lm -pthread"
targets=${*:-$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')}
for t in $targets; do
	extra=
	[ "$t" = fuzz_bill_input ] && extra=src/gpubill-input.c
	# shellcheck disable=SC2086
	"$FUZZ_CC" $cflags -fsanitize=fuzzer "tests/fuzz/$t.c" $extra \
		"$B/libgpucore.a" $libs -o "$B/$t"
done
status=0
for t in $targets; do
	work=$(mktemp -d)
	seeds=tests/fuzz/corpus/${t#fuzz_}
	[ -d "$seeds" ] || seeds=
	printf 'fuzz: %s for %ss ... ' "$t" "$secs"
	# shellcheck disable=SC2086
	if "$B/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -artifact_prefix="$B/crash-$t-" \
		"$work" $seeds >"$B/$t.log" 2>&1; then
		echo "ok ($(grep -o 'Done [0-9]* runs' "$B/$t.log" || echo done))"
	else
		echo "FAILED (see $B/$t.log)"
		tail -n 30 "$B/$t.log"
		status=1
	fi
	rm -rf "$work"
done
exit $status
