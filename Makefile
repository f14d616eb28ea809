# A thin wrapper over meson. Every target installs what it is missing first
# (scripts/install-deps), so each works as root on a fresh Debian 12 machine.

BUILD      ?= build
TSAN_BUILD ?= build-tsan
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
BENCH_BUILD ?= build-bench
MESON      ?= meson
JOBS       ?= $(shell nproc)

# halt_on_error: the first report fails the test, so no report can scroll by unseen.
export TSAN_OPTIONS ?= halt_on_error=1 second_deadlock_stack=1
export ASAN_OPTIONS ?= detect_leaks=1 abort_on_error=1
export UBSAN_OPTIONS ?= halt_on_error=1 print_stacktrace=1

.PHONY: all deps build demo demo-postgres test test-plain test-tsan asan install clean
# One target at a time even under `make -j`: the plain and TSan suites each
# use every core, and each starts 10,000-thread tests.
.NOTPARALLEL:

all: build

deps:
	@scripts/install-deps core

# meson setup only when the build dir is new; reconfigure happens by itself.
# -Dwerror=true here, not in meson.build: our builds and CI treat warnings as
# errors, a plain `meson setup` elsewhere (a newer compiler) does not.
WERROR     := -Dwerror=true

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized $(WERROR)

$(TSAN_BUILD)/build.ninja:
	$(MESON) setup $(TSAN_BUILD) --buildtype=debugoptimized -Db_sanitize=thread $(WERROR)

$(ASAN_BUILD)/build.ninja:
	$(MESON) setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false $(WERROR)

build: deps $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD) -j $(JOBS)

# The main job on its embedded default (see README). Builds only the CLI.
demo: deps $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD) -j $(JOBS) tools/addrpool:executable
	./$(BUILD)/tools/addrpool demo

# The main job across processes: a throwaway PostgreSQL cluster (as the
# postgres user, Unix socket only, removed afterwards) and 4 processes that
# hand out 10,000 addresses from one pool shared through it (addrpool-pg).
demo-postgres: deps $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD) -j $(JOBS) tools/addrpool-pg-demo:executable
	scripts/pg-cluster -- ./$(BUILD)/tools/addrpool-pg-demo

# Every suite in the plain build, then again under ThreadSanitizer.
test: test-plain test-tsan
	@scripts/test-summary $(BUILD) $(TSAN_BUILD)

test-plain: build
	$(MESON) test -C $(BUILD) --print-errorlogs --num-processes $(JOBS)

test-tsan: deps $(TSAN_BUILD)/build.ninja
	$(MESON) compile -C $(TSAN_BUILD) -j $(JOBS)
	$(MESON) test -C $(TSAN_BUILD) --print-errorlogs --num-processes $(JOBS) --no-suite slow-under-tsan

asan: deps $(ASAN_BUILD)/build.ninja
	$(MESON) compile -C $(ASAN_BUILD) -j $(JOBS)
	$(MESON) test -C $(ASAN_BUILD) --print-errorlogs --num-processes $(JOBS) --no-suite slow-under-tsan

install: build
	$(MESON) install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(TSAN_BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(BENCH_BUILD)

# ---- opt-in suites (not part of `make test`) ----

.PHONY: soak fuzz bench bench-pg

# S1–S4 and S6 long (>= 10^8 hand-outs in total); see docs/reliability.md.
soak: build
	stress/soak.sh $(BUILD)

# libFuzzer targets under clang 14 with ASan+UBSan, each for a bounded time.
fuzz:
	@scripts/install-deps core fuzz
	fuzz/run.sh $(FUZZ_BUILD)

# Benchmarks against the baselines; regenerates docs/performance.md and the plots.
bench:
	@scripts/install-deps core bench
	bench/run.sh $(BENCH_BUILD)

# Only addrpool-pg's benchmark (bench/pg_bench.cpp) and its section of
# docs/performance.md; `make bench` runs it too.
bench-pg:
	@scripts/install-deps core
	@[ -f $(BENCH_BUILD)/build.ninja ] || $(MESON) setup $(BENCH_BUILD) --buildtype=release -Dbenchmarks=true $(WERROR)
	$(MESON) compile -C $(BENCH_BUILD) -j $(JOBS) bench/addrpool-pg-bench
	scripts/pg-cluster --durable -- ./$(BENCH_BUILD)/bench/addrpool-pg-bench --out bench/results/pg.json
	python3 bench/report.py --no-plots
