# furet — full-text search for French. Plain GNU make, C11.
#
#   make                 build/furet, build/libfuret.{a,so}, build/examples/*
#   make test            cmocka suites + CLI tests on a real index
#   make check           test with -Werror under ASan+UBSan, then the CLI tests
#                        under valgrind, the fuzz-corpus replay and the thread
#                        suites under ThreadSanitizer (what CI runs)
#   make tsan            the thread suites under ThreadSanitizer
#   make fuzz T=NAME     one libFuzzer target (clang), see below
#   make bench           indexing speed, memory and size on the scale corpus
#                        (../shared/data) -> build/bench/results.md; with
#                        BENCH_PEERS=piaf|scale, against the peers too
#   make search Q='...'  install what is missing, build, index corpus/ into
#                        index/ when missing or stale, answer the query
#   make install         furet, furet.h, libfuret.{a,so}, furet.pc, furet(1)
#                        and the bash completion under PREFIX (/usr/local),
#                        staged under DESTDIR when given; make uninstall
#
# Missing Debian packages are installed by .ci/deps when run as root; otherwise
# it prints the apt-get command to run.

CC ?= cc
B ?= build
VERSION := 0.1.0
SOMAJOR := 0
OPT ?= -O2
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# make V=1 shows the full compiler command lines.
ifeq ($(V),1)
AT :=
say = @true
else
AT := @
say = @echo "  $(1)	$(2)"
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wvla -Wformat=2
CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g $(OPT) \
	$(WARN) -Iinclude -Isrc $(EXTRA_CFLAGS)
LDFLAGS := $(EXTRA_LDFLAGS)
DEP_LIBS := -licui18n -licuuc -licudata -lstemmer -llmdb -lzstd -llz4 -lm -lpthread
CLI_LIBS := -ljansson

LIB_SRC := $(sort $(wildcard src/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
EX_SRC := $(sort $(wildcard examples/*.c))

LIB_OBJ := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
CLI_OBJ := $(CLI_SRC:src/cli/%.c=$(B)/obj/cli/%.o)
CLI_LIB_OBJ := $(filter-out $(B)/obj/cli/main.o,$(CLI_OBJ))
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
EX_BIN := $(EX_SRC:examples/%.c=$(B)/examples/%)

SO_REAL := libfuret.so.$(VERSION)
SO_NAME := libfuret.so.$(SOMAJOR)
DEPS_OK := $(B)/.deps-ok

all: $(B)/furet $(B)/libfuret.a $(B)/libfuret.so $(EX_BIN) $(B)/bench/furet_peer $(B)/bench/query_bench

$(DEPS_OK): .ci/deps
	@mkdir -p $(B)
	@sh .ci/deps
	@touch $@

$(B)/obj/%.o: src/%.c $(wildcard src/*.h) include/furet.h | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(AT)$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -DFURET_BUILDING -c $< -o $@

$(B)/obj/cli/%.o: src/cli/%.c $(wildcard src/cli/*.h) $(wildcard src/*.h) include/furet.h | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(AT)$(CC) $(CFLAGS) -c $< -o $@

$(B)/libfuret.a: $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(AT)ar rcs $@ $^

$(B)/$(SO_REAL): $(LIB_OBJ)
	$(call say,LD,$@)
	$(AT)$(CC) -shared -Wl,-soname,$(SO_NAME) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(B)/libfuret.so: $(B)/$(SO_REAL)
	$(AT)ln -sf $(SO_REAL) $(B)/$(SO_NAME)
	$(AT)ln -sf $(SO_REAL) $@

$(B)/furet: $(CLI_OBJ) $(B)/libfuret.a
	$(call say,LD,$@)
	$(AT)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libfuret.a $(CLI_LIBS) $(DEP_LIBS)

# Examples link the shared library, as a program using the installed one would.
$(B)/examples/%: examples/%.c include/furet.h $(B)/libfuret.so
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(AT)$(CC) -std=c11 -g $(OPT) $(WARN) -Iinclude $(EXTRA_CFLAGS) $(LDFLAGS) \
		-o $@ $< -L$(B) -Wl,-rpath,'$$ORIGIN/..' -lfuret

# furet as an external engine of ../shared/bench/peers (see bench/).
$(B)/bench/furet_peer: bench/furet_peer.c include/furet.h $(B)/libfuret.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(AT)$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -g $(OPT) $(WARN) -Iinclude \
		$(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libfuret.a -ljansson $(DEP_LIBS)

# Query latency and QPS with 1..N threads: build/bench/query_bench INDEX Q.tsv [K [THREADS]]
$(B)/bench/query_bench: bench/query_bench.c include/furet.h $(B)/libfuret.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(AT)$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -g $(OPT) $(WARN) -Iinclude \
		$(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libfuret.a $(DEP_LIBS)

# The analyzer alone, for throughput: zstd -dc FILE.jsonl.zst | build/bench/analyze_bench
$(B)/bench/analyze_bench: bench/analyze_bench.c $(B)/libfuret.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(AT)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libfuret.a -ljansson $(DEP_LIBS)

# Unit suites see the internal headers and link the static library.
$(B)/tests/%: tests/%.c tests/testutil.h $(B)/libfuret.a $(CLI_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(AT)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -Isrc/cli -o $@ $< $(CLI_LIB_OBJ) $(B)/libfuret.a \
		-lcmocka $(CLI_LIBS) $(DEP_LIBS)

$(B)/tests/jsoncheck: tests/jsoncheck.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(AT)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -ljansson

test: all $(TEST_BIN) $(B)/tests/jsoncheck
	@sh tests/run.sh $(B)

# Not part of test: benchmarks report figures, never assert times.
bench: all $(B)/bench/analyze_bench $(B)/bench/query_bench
	sh bench/index_bench.sh $(B)

# make check (what CI runs): warnings are errors; every suite and script of
# make test (hostile.sh included) under ASan + UBSan; the CLI tests under
# valgrind; the fuzz corpora replayed; the thread suites under TSan.
check:
	@sh .ci/deps check
	$(MAKE) B=build/asan OPT=-O1 \
		EXTRA_CFLAGS="-Werror -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" test
	$(MAKE) B=build/vg EXTRA_CFLAGS=-Werror all build/vg/tests/jsoncheck
	FURET_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
		sh tests/cli.sh build/vg
	sh fuzz/replay.sh build/asan
	$(MAKE) tsan

# make tsan: the thread suites (four searching threads on one handle while
# a thread, then another process, commits; the writer's analysis threads)
# under ThreadSanitizer, with no
# suppression (liblmdb is not instrumented; its cross-process locks in
# lock.mdb are invisible to TSan, and it reports nothing there).
TSAN_SUITES := test_threads test_index test_parallel
tsan:
	$(MAKE) B=build/tsan OPT=-O1 \
		EXTRA_CFLAGS="-Werror -fsanitize=thread -fno-omit-frame-pointer" \
		EXTRA_LDFLAGS="-fsanitize=thread" $(TSAN_SUITES:%=build/tsan/tests/%)
	@for t in $(TSAN_SUITES); do \
		TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
			build/tsan/tests/$$t || exit 1; \
	done

# make fuzz T=analyzer SECONDS=60: run one libFuzzer target (clang) on its
# corpus; new inputs land in fuzz/corpus/T, crashers in build/fuzz/.
# Targets: analyzer, query, parse, block, positions, jsonl, index (fuzz/fuzz_T.c).
# stderr of the target itself is closed (-close_fd_mask=2): the JSONL reader
# names every bad line there; libFuzzer and the sanitizers still report.
T ?= analyzer
SECONDS ?= 60
FUZZ_EXTRA_jsonl := -Isrc/cli src/cli/ingest.c src/cli/jsonflat.c src/cli/safe.c src/cli/progress.c -ljansson
fuzz:
	$(MAKE) B=build/fuzz CC=clang OPT=-O1 \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" build/fuzz/libfuret.a
	clang -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -Iinclude -Isrc \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o build/fuzz/fuzz_$(T) fuzz/fuzz_$(T).c \
		$(FUZZ_EXTRA_$(T)) build/fuzz/libfuret.a $(DEP_LIBS)
	mkdir -p build/fuzz/artifacts
	build/fuzz/fuzz_$(T) -max_total_time=$(SECONDS) -max_len=4096 -close_fd_mask=2 \
		-artifact_prefix=build/fuzz/artifacts/ fuzz/corpus/$(T)

# The main job: answer a question about corpus/.
Q ?= Qui finance POP School ?
INDEX ?= index
CORPUS_FILES := $(shell find corpus -type f -not -name README.md 2>/dev/null)

$(INDEX)/data.mdb: $(B)/furet $(CORPUS_FILES)
	@echo "  INDEX	corpus/ -> $(INDEX)/"
	$(AT)$(B)/furet index -q -i $(INDEX) --rebuild corpus

search: $(INDEX)/data.mdb
	@$(B)/furet search -i $(INDEX) -- "$(Q)"

# The shared library is installed as libfuret.so.VERSION with its soname
# link (libfuret.so.0, what programs load) and the development link
# (libfuret.so, what -lfuret finds). furet.pc is written here, with the
# paths of this PREFIX: installing elsewhere later writes it again.
install: $(B)/furet $(B)/libfuret.a $(B)/libfuret.so
	$(call say,INSTALL,$(DESTDIR)$(PREFIX))
	$(AT)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR)
	$(AT)install -m 755 $(B)/furet $(DESTDIR)$(BINDIR)/furet
	$(AT)install -m 644 include/furet.h $(DESTDIR)$(INCLUDEDIR)/furet.h
	$(AT)install -m 644 $(B)/libfuret.a $(DESTDIR)$(LIBDIR)/libfuret.a
	$(AT)install -m 755 $(B)/$(SO_REAL) $(DESTDIR)$(LIBDIR)/$(SO_REAL)
	$(AT)ln -sf $(SO_REAL) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	$(AT)ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/libfuret.so
	$(AT)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		furet.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/furet.pc
	$(AT)install -m 644 doc/furet.1 $(DESTDIR)$(MANDIR)/man1/furet.1
	$(AT)install -m 644 completion/furet.bash $(DESTDIR)$(BASHCOMPDIR)/furet

uninstall:
	$(call say,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(AT)rm -f $(DESTDIR)$(BINDIR)/furet $(DESTDIR)$(INCLUDEDIR)/furet.h \
		$(DESTDIR)$(LIBDIR)/libfuret.a $(DESTDIR)$(LIBDIR)/$(SO_REAL) \
		$(DESTDIR)$(LIBDIR)/$(SO_NAME) $(DESTDIR)$(LIBDIR)/libfuret.so \
		$(DESTDIR)$(LIBDIR)/pkgconfig/furet.pc \
		$(DESTDIR)$(MANDIR)/man1/furet.1 $(DESTDIR)$(BASHCOMPDIR)/furet

format:
	clang-format -i src/*.c src/*.h src/cli/*.c src/cli/*.h include/furet.h tests/*.c examples/*.c

clean:
	rm -rf build

.PHONY: all test check tsan bench fuzz search install uninstall format clean
