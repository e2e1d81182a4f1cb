# SPDX-License-Identifier: MIT
# gpuusage: one GNU Makefile for the core library, the tools and the tests.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
CC         ?= cc
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wformat=2 -Wvla
CPPFLAGS   += -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude \
              -DGPU_VERSION='"$(VERSION)"'
B          ?= build
.DEFAULT_GOAL := all

DEPS_OK := $(shell pkg-config --exists libcjson sqlite3 cmocka libzstd && \
	test -f /usr/include/csv.h && test -f /usr/include/snappy-c.h && \
	echo yes)
ifneq ($(DEPS_OK),yes)
ifneq ($(filter clean format,$(MAKECMDGOALS)),)
else
$(info installing missing build dependencies...)
$(shell scripts/install-deps.sh >&2)
endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags libcjson sqlite3 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs libcjson sqlite3 2>/dev/null) -lcsv -lm -pthread
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
# The lake library (Parquet, Avro, Iceberg) and what it links: only
# gpuexport and the lake's unit tests use it.
LAKE_LIBS  := $(shell pkg-config --libs libzstd 2>/dev/null || echo -lzstd) \
              -lsnappy

ALL_CFLAGS := $(CPPFLAGS) $(PKG_CFLAGS) $(WARN) -pthread $(CFLAGS)

ALL_TOOLS  := gpugen gpuingest gpuagg gpubill gpureport gpuexport
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
# A tool is src/<tool>.c plus any src/<tool>-<part>.c.
tool_src    = $(wildcard src/$(1).c src/$(1)-*.c)
tool_obj    = $(patsubst src/%.c,$(B)/obj/%.o,$(call tool_src,$(1)))
# gpuexport alone links the lake library.
tool_lib    = $(if $(filter gpuexport,$(1)),$(LAKE_LIB))
tool_libs   = $(if $(filter gpuexport,$(1)),$(LAKE_LIBS))

demo: all
	B=$(B) scripts/demo.sh

.SECONDARY:

.PHONY: demo all check check-unit check-golden check-browser check-asan \
        check-valgrind bench install uninstall clean format deps

all: $(LIB) $(LAKE_LIB) $(BINS)

deps:
	scripts/install-deps.sh

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
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(call tool_obj,$*) \
	  $(call tool_lib,$*) $(LIB) $(PKG_LIBS) $(call tool_libs,$*)

$(B)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isrc -Wno-missing-prototypes -MMD -MP -c $< -o $@

# The lake's tests (tests/unit/test_lake_*.c) also link the lake library.
$(B)/tests/test_lake_%: $(B)/tests/test_lake_%.o $(LAKE_LIB) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LAKE_LIB) $(LIB) $(PKG_LIBS) \
	  $(LAKE_LIBS) $(CMOCKA_LIBS)

$(B)/tests/test_%: $(B)/tests/test_%.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) $(CMOCKA_LIBS)

check: all $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)
	@B=$(B) tests/golden.sh
	@B=$(B) scripts/check-extra.sh

check-asan:
	$(MAKE) B=build-asan CC=$(CC) \
	  CFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1' \
	  LDFLAGS='-fsanitize=address,undefined' check

check-valgrind: all
	B=$(B) GOLDEN_WRAP='valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite' tests/golden.sh

# The reader's own throughput, without a tool around it.
$(B)/readbench: bench/readbench.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

bench: all $(B)/readbench
	B=$(B) bench/run-all.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 755 scripts/gpu-pipeline $(DESTDIR)$(BINDIR)
	install -m 644 $(wildcard docs/*.1) $(DESTDIR)$(MANDIR)/man1

uninstall:
	rm -f $(ALL_TOOLS:%=$(DESTDIR)$(BINDIR)/%) $(DESTDIR)$(BINDIR)/gpu-pipeline
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard docs/*.1)))

format:
	clang-format -i $(wildcard include/gpu/*.h src/*.c src/*.h src/core/*.c \
	  src/lake/*.c src/lake/*.h tests/unit/*.c)

clean:
	rm -rf build build-asan

-include $(wildcard $(B)/core/*.d $(B)/lake/*.d $(B)/obj/*.d $(B)/tests/*.d)
