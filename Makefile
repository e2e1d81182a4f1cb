# SPDX-License-Identifier: MIT
# gpuusage: one GNU Makefile for the core library, the tools and the tests.
#
# CC, CFLAGS, CPPFLAGS, LDFLAGS, PREFIX, BINDIR, MANDIR and DESTDIR are the
# user's: the project's own flags live in GPU_* variables, so that flags
# given on the command line add to them (make CPPFLAGS=-DX, make CFLAGS=-O0).
# WERROR=1 turns warnings into errors (CI). make never installs packages:
# scripts/install-deps.sh does (see README.md).

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
PKGDATADIR ?= $(DATADIR)/gpuusage
CC         ?= cc
CFLAGS     ?= -O2 -g
B          ?= build
.DEFAULT_GOAL := all

GPU_CPPFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude \
                -DGPU_VERSION='"$(VERSION)"'
GPU_WARN   := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wformat=2 -Wvla
ifeq ($(WERROR),1)
GPU_WARN   += -Werror
endif

# Goals that need no library.
NODEPS_GOALS := clean format help uninstall
hash := \#
ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
DEPS_OK := $(shell pkg-config --exists libcjson sqlite3 libzstd && \
	echo '$(hash)include <csv.h>' | $(CC) $(CPPFLAGS) -E - >/dev/null 2>&1 && \
	echo '$(hash)include <snappy-c.h>' | $(CC) $(CPPFLAGS) -E - >/dev/null 2>&1 && \
	echo yes)
ifneq ($(DEPS_OK),yes)
$(error missing build dependencies (libcjson, sqlite3, libzstd, libcsv and libsnappy, found with pkg-config, <csv.h> and <snappy-c.h>): install them with scripts/install-deps.sh)
endif
ifneq ($(filter check check-unit check-asan,$(MAKECMDGOALS)),)
ifneq ($(shell pkg-config --exists cmocka && echo yes),yes)
$(error missing test dependency cmocka: install it with scripts/install-deps.sh)
endif
endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags libcjson sqlite3 2>/dev/null)
# SQLite is linked from its archive where the system has one (Debian's
# libsqlite3-dev does). The shared library binds all its symbols at start
# (1.2 million of the 4.2 million instructions a warm query ran before
# its first row) and calls its own functions through the PLT: a load of
# 5M rows took 1.15 times as long with it (docs/PERFORMANCE.md, the
# twenty-second round). SQLITE_STATIC=0 links the shared library, as a
# system without the archive does. Either way it is the system's SQLite:
# a SQLite update reaches the tools at their next build.
SQLITE_STATIC ?= 1
SQLITE_A   := $(if $(filter 1,$(SQLITE_STATIC)),$(wildcard $(shell \
	pkg-config --variable=libdir sqlite3 2>/dev/null)/libsqlite3.a))
SQLITE_LIBS := $(if $(SQLITE_A),$(SQLITE_A) $(filter-out -lsqlite3,$(shell \
	pkg-config --static --libs-only-l sqlite3 2>/dev/null)) -ldl,$(shell \
	pkg-config --libs sqlite3 2>/dev/null))
PKG_LIBS   := $(shell pkg-config --libs libcjson 2>/dev/null) $(SQLITE_LIBS) \
              -lcsv -lm -pthread
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
# The lake library (Parquet, Avro, Iceberg) and what it links: only
# gpuexport and the lake's unit tests use it.
LAKE_LIBS  := $(shell pkg-config --libs libzstd 2>/dev/null || echo -lzstd) \
              -lsnappy

ALL_CFLAGS  = $(GPU_CPPFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(GPU_WARN) -pthread \
              $(CFLAGS)
ALL_LDFLAGS = $(CFLAGS) $(LDFLAGS)

ALL_TOOLS  := gpugen gpuingest gpuagg gpubill gpureport gpucollect gpuexport
# Tools are built as their sources land.
TOOLS      := $(foreach t,$(ALL_TOOLS),$(if $(wildcard src/$(t).c),$(t)))
CORE_SRC   := $(wildcard src/core/*.c)
CORE_OBJ   := $(CORE_SRC:src/core/%.c=$(B)/core/%.o)
LIB        := $(B)/libgpucore.a
LAKE_SRC   := $(wildcard src/lake/*.c)
LAKE_OBJ   := $(LAKE_SRC:src/lake/%.c=$(B)/lake/%.o)
LAKE_LIB   := $(B)/liblake.a
BINS       := $(TOOLS:%=$(B)/%)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# Shell completions, generated from the built tools' option tables.
COMPLETIONS := $(B)/completions/gpuusage.bash $(B)/completions/_gpuusage
BROWSER_TEST := tests/e2e/gpureport-browser.sh
E2E_TESTS  := $(filter-out $(BROWSER_TEST),$(wildcard tests/e2e/*.sh))
# A tool is src/<tool>.c plus any src/<tool>-<part>.c.
tool_src    = $(wildcard src/$(1).c src/$(1)-*.c)
tool_obj    = $(patsubst src/%.c,$(B)/obj/%.o,$(call tool_src,$(1)))
# The unit test of a tool's part, tests/unit/test_<tool>-<part>.c, also
# links src/<tool>-<part>.c; a core module's test only the library.
test_part   = $(patsubst src/%.c,$(B)/obj/%.o,$(wildcard src/$(1).c))
# gpuexport alone links the lake library.
tool_lib    = $(if $(filter gpuexport,$(1)),$(LAKE_LIB))
tool_libs   = $(if $(filter gpuexport,$(1)),$(LAKE_LIBS))

.SECONDARY:

.PHONY: all demo help check check-unit check-golden check-e2e check-browser \
        check-asan check-valgrind bench bench-soak install uninstall clean format fuzz

all: $(LIB) $(LAKE_LIB) $(BINS) $(COMPLETIONS)

demo: all
	B=$(B) scripts/demo.sh

help:
	@echo 'Targets (GNU make; B=DIR builds in DIR instead of build/):'
	@echo '  all             the core library, the tools and their shell'
	@echo '                  completions (default)'
	@echo '  demo            build, run a 24-hour demo pipeline, print a summary'
	@echo '  check           every test: check-unit, check-golden, check-e2e,'
	@echo '                  check-browser, one after the other'
	@echo '  check-unit      the cmocka unit tests (tests/unit/)'
	@echo '  check-golden    the golden cases of the tools (tests/golden/)'
	@echo '  check-e2e       the end-to-end scripts (tests/e2e/)'
	@echo '  check-browser   the report in headless Chromium (skipped without)'
	@echo '  check-asan      check, built in build-asan/ with ASan and UBSan'
	@echo '  check-valgrind  the golden cases under valgrind'
	@echo '  fuzz            each tests/fuzz/ target for FUZZ_SECONDS (20)'
	@echo '  bench           the benchmarks of bench/ (BENCH_SIZES, BENCH_RUNS)'
	@echo '  bench-soak      the soak of bench/soak.sh (SOAK_SAMPLES) and its plot'
	@echo '  install         install the tools, gpu-pipeline, the man pages, the'
	@echo '                  bash and zsh completions and, under PKGDATADIR,'
	@echo '                  the systemd units, cron line, Slurm prolog/epilog'
	@echo '                  and sample configuration (PREFIX, BINDIR, MANDIR,'
	@echo '                  DATADIR, BASHCOMPDIR, ZSHCOMPDIR, PKGDATADIR, DESTDIR)'
	@echo '  uninstall       remove what install installed'
	@echo '  format          clang-format the C sources'
	@echo '  clean           remove build/ and build-asan/'
	@echo 'Variables: CC, CFLAGS, CPPFLAGS and LDFLAGS add to the project flags;'
	@echo 'WERROR=1 makes warnings errors. SQLITE_STATIC=0 links the shared SQLite'
	@echo 'library instead of its archive. Dependencies: scripts/install-deps.sh.'

$(B)/core/%.o: src/core/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isrc -MMD -MP -c $< -o $@

$(B)/lake/%.o: src/lake/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isrc -MMD -MP -c $< -o $@

$(LAKE_LIB): $(LAKE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB): $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

.SECONDEXPANSION:
$(BINS): $(B)/%: $$(call tool_obj,%) $$(call tool_lib,%) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call tool_obj,$*) \
	  $(call tool_lib,$*) $(LIB) $(PKG_LIBS) $(call tool_libs,$*)

# Both completions come from one run of the generator: a pattern rule with
# two targets makes one recipe for both (in any GNU make).
$(B)/completions/%.bash $(B)/completions/_%: $(BINS) scripts/gpu-pipeline \
    scripts/gen-completions.sh
	scripts/gen-completions.sh $(B) $(B)/completions

$(B)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isrc -Wno-missing-prototypes -MMD -MP -c $< -o $@

# The lake's tests (tests/unit/test_lake_*.c) also link the lake library.
$(B)/tests/test_lake_%: $(B)/tests/test_lake_%.o $(LAKE_LIB) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LAKE_LIB) $(LIB) $(PKG_LIBS) \
	  $(LAKE_LIBS) $(CMOCKA_LIBS)

# tests/unit/test_<tool>.c also links the tool's parts src/<tool>-*.c (not
# its main()); tests/unit/test_<tool>-<part>.c links that part (test_part).
tool_part_obj = $(patsubst src/%.c,$(B)/obj/%.o,$(wildcard src/$(1)-*.c))
$(B)/tests/test_%: $(B)/tests/test_%.o $$(call tool_part_obj,$$*) \
    $$(if $$(findstring -,$$*),$$(call test_part,$$*)) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(call tool_part_obj,$*) \
	  $(if $(findstring -,$*),$(call test_part,$*)) $(LIB) $(PKG_LIBS) \
	  $(CMOCKA_LIBS)

# The test suites; check runs them one after another, so that their
# reports stay apart.
RUN_UNIT    = scripts/run-unit.sh $(UNIT_BINS)
RUN_GOLDEN  = B=$(B) tests/golden.sh
RUN_E2E     = B=$(B) scripts/check-extra.sh $(E2E_TESTS)
RUN_BROWSER = B=$(B) SUITE=browser scripts/check-extra.sh $(BROWSER_TEST)

check: all $(UNIT_BINS)
	@$(RUN_UNIT)
	@$(RUN_GOLDEN)
	@$(RUN_E2E)
	@$(RUN_BROWSER)

check-unit: $(UNIT_BINS)
	@$(RUN_UNIT)

check-golden: all
	@$(RUN_GOLDEN)

check-e2e: all
	@$(RUN_E2E)

check-browser: all
	@$(RUN_BROWSER)

check-asan:
	$(MAKE) B=build-asan CC=$(CC) \
	  CFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1' \
	  LDFLAGS='-fsanitize=address,undefined' check

check-valgrind: all
	B=$(B) GOLDEN_WRAP='valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite' tests/golden.sh

# The reader's own throughput, without a tool around it.
$(B)/readbench: bench/readbench.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

$(B)/rowcost: bench/rowcost.c
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(PKG_LIBS)

# make bench: every benchmark (bench/run-all.sh; BENCH_SIZES, BENCH_RUNS,
# see docs/PERFORMANCE.md); make bench-soak: the hourly-batch soak
# (SOAK_SAMPLES, default 50 million) and its plot. Their peers come from
# scripts/install-deps.sh --bench.
bench: all $(B)/readbench $(B)/rowcost
	B=$(B) bench/run-all.sh

bench-soak: all
	B=$(B) bench/soak.sh
	bench/soak-plot.sh

# What install puts under PKGDATADIR, beside the binaries, man pages and
# completions: the deployment files of docs/DEPLOY.md, to copy from there.
UNITS      := $(wildcard scripts/*.service scripts/*.timer)
SLURM      := scripts/slurm/prolog scripts/slurm/epilog
SAMPLES    := data/gpu-pipeline.conf data/rates.conf $(wildcard data/*.csv)
# The units and the cron line name the binaries by their installed path.
subst_bindir = sed 's|/usr/local/bin/|$(BINDIR)/|g'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
	  $(DESTDIR)$(PKGDATADIR)/systemd $(DESTDIR)$(PKGDATADIR)/slurm \
	  $(DESTDIR)$(PKGDATADIR)/examples
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 755 scripts/gpu-pipeline $(DESTDIR)$(BINDIR)
	install -m 644 $(wildcard docs/*.1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(B)/completions/gpuusage.bash \
	  $(DESTDIR)$(BASHCOMPDIR)/gpuusage
	for t in $(TOOLS) gpu-pipeline; do \
	  ln -sf gpuusage $(DESTDIR)$(BASHCOMPDIR)/$$t || exit 1; done
	install -m 644 $(B)/completions/_gpuusage $(DESTDIR)$(ZSHCOMPDIR)
	for f in $(UNITS); do \
	  $(subst_bindir) $$f >$(DESTDIR)$(PKGDATADIR)/systemd/$${f##*/} && \
	  chmod 644 $(DESTDIR)$(PKGDATADIR)/systemd/$${f##*/} || exit 1; done
	$(subst_bindir) scripts/gpu-pipeline.cron \
	  >$(DESTDIR)$(PKGDATADIR)/gpu-pipeline.cron
	chmod 644 $(DESTDIR)$(PKGDATADIR)/gpu-pipeline.cron
	install -m 755 $(SLURM) $(DESTDIR)$(PKGDATADIR)/slurm
	install -m 644 $(SAMPLES) $(DESTDIR)$(PKGDATADIR)/examples

# Removes every file install can put, then the folders of PKGDATADIR
# (the shared ones, bin/ and share/man/ among them, stay).
uninstall:
	rm -f $(ALL_TOOLS:%=$(DESTDIR)$(BINDIR)/%) $(DESTDIR)$(BINDIR)/gpu-pipeline
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard docs/*.1)))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/gpuusage \
	  $(ALL_TOOLS:%=$(DESTDIR)$(BASHCOMPDIR)/%) \
	  $(DESTDIR)$(BASHCOMPDIR)/gpu-pipeline $(DESTDIR)$(ZSHCOMPDIR)/_gpuusage
	rm -f $(addprefix $(DESTDIR)$(PKGDATADIR)/systemd/,$(notdir $(UNITS))) \
	  $(DESTDIR)$(PKGDATADIR)/gpu-pipeline.cron \
	  $(addprefix $(DESTDIR)$(PKGDATADIR)/slurm/,$(notdir $(SLURM))) \
	  $(addprefix $(DESTDIR)$(PKGDATADIR)/examples/,$(notdir $(SAMPLES)))
	-rmdir $(DESTDIR)$(PKGDATADIR)/systemd $(DESTDIR)$(PKGDATADIR)/slurm \
	  $(DESTDIR)$(PKGDATADIR)/examples $(DESTDIR)$(PKGDATADIR) 2>/dev/null

format:
	clang-format -i $(wildcard include/gpu/*.h src/*.c src/*.h src/core/*.c \
	  src/lake/*.c src/lake/*.h tests/unit/*.c)

# The libFuzzer targets of tests/fuzz/, FUZZ_SECONDS each (clang; skipped
# with a message when it lacks libFuzzer).
FUZZ_SECONDS ?= 20
fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-fuzz

-include $(wildcard $(B)/core/*.d $(B)/lake/*.d $(B)/obj/*.d $(B)/tests/*.d)
