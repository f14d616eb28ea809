#!/bin/sh
# Builds the libFuzzer targets (clang 14, ASan+UBSan) and runs each for a
# bounded time on a copy of its seed corpus (the repository's corpus is never
# written to). `make fuzz` calls this with build-fuzz.
#
#   fuzz/run.sh [BUILD_DIR]         default build-fuzz
#   FUZZ_SECONDS=60                 seconds per target
#   FUZZ_TARGETS="deserialize xprv"   a subset (default: all six)
#   FUZZ_RUNS=N                     also stop each target after N executions
#   FUZZ_JOBS=1                     compile jobs
#
# Prints per target: executions, exec/s, corpus size, and any crash file.
# Exits 1 if any target found a crash, leak or sanitizer report.
set -eu

cd "$(dirname "$0")/.."
BUILD=${1:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"deserialize xprv xpub path address mnemonic"}
JOBS=${FUZZ_JOBS:-1}
RUNS=${FUZZ_RUNS:+-runs=$FUZZ_RUNS}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

if [ ! -f "$BUILD/build.ninja" ]; then
    CC=clang CXX=clang++ meson setup "$BUILD" --buildtype=debugoptimized -Dfuzzing=true -Dtests=false \
        -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true
fi
names=""
for t in $TARGETS; do names="$names fuzz/fuzz-$t"; done
# shellcheck disable=SC2086
meson compile -C "$BUILD" -j "$JOBS" $names

WORK="$BUILD/fuzz-work"
failed=0
printf '%-12s %12s %9s %8s %7s  %s\n' target executions exec/s corpus seconds result
for t in $TARGETS; do
    corpus="$WORK/corpus/$t"
    rm -rf "$corpus"
    mkdir -p "$corpus" "$WORK/artifacts"
    cp fuzz/corpus/"$t"/* "$corpus"/
    log="$WORK/$t.log"
    start=$(date +%s)
    # shellcheck disable=SC2086
    if "$BUILD/fuzz/fuzz-$t" -max_total_time="$SECONDS_EACH" $RUNS -print_final_stats=1 -timeout=10 \
        -artifact_prefix="$WORK/artifacts/$t-" "$corpus" >"$log" 2>&1; then
        result=ok
    else
        result="FAILED (see $log and $WORK/artifacts/)"
        failed=1
    fi
    secs=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    files=$(find "$corpus" -type f | wc -l)
    printf '%-12s %12s %9s %8s %7s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$files" "$secs" "$result"
done
exit "$failed"
