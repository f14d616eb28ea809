#!/usr/bin/env bash
# make soak: scenarios S1–S4 and S6 run long, >= 10^8 hand-outs in total by default.
#
#   stress/soak.sh [BUILD_DIR [TSAN_BUILD_DIR]]
#
# Environment (all optional):
#   SOAK_HANDOUTS  total hand-outs (default 100000000); S2 takes whatever
#                  S1, S3, S4 and S6 leave (S1, S3 and S4 derive every index,
#                  so they are ~30x slower per hand-out than S2's churn)
#   SOAK_SEED      seed for every scenario (default: random, printed)
#   SOAK_S1_ROUNDS / SOAK_S3_ROUNDS / SOAK_S4_UNITS / SOAK_S6_UNITS   their shares
#                  (20 / 50 / 50 / 100; an S6 unit is 100,000 hand-outs)
#   SOAK_TSAN_SCALE  with a TSan build dir: iterations of each scenario there (default 4)
# Prints one summary line per scenario, then totals and the machine; exit 1
# on any violation or ThreadSanitizer report.
set -euo pipefail

build=${1:-build}
tsan_build=${2:-}
handouts=${SOAK_HANDOUTS:-100000000}
seed=${SOAK_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
s1=${SOAK_S1_ROUNDS:-20}
s3=${SOAK_S3_ROUNDS:-50}
s4=${SOAK_S4_UNITS:-50}
s6=${SOAK_S6_UNITS:-100}
rest=$(( handouts - s1 * 10000 - s3 * 2048 - s4 * 20000 - s6 * 100000 ))
s2=$(( rest > 0 ? (rest + 49999) / 50000 : 1 ))

exe=$build/stress/addrpool-stress
[ -x "$exe" ] || { echo "soak: $exe not built (make build first)" >&2; exit 2; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "soak: seed $seed, target $handouts hand-outs (S1 x$s1, S2 x$s2, S3 x$s3, S4 x$s4, S6 x$s6)"
start=$(date +%s)
status=0
run() {  # dir scenario iterations
    "$1/stress/addrpool-stress" --scenario "$2" --seed "$seed" --iterations "$3" 2>&1 | tee -a "$log" || status=1
}
run "$build" S1 "$s1"
run "$build" S2 "$s2"
run "$build" S3 "$s3"
run "$build" S4 "$s4"
run "$build" S6 "$s6"
if [ -n "$tsan_build" ]; then
    scale=${SOAK_TSAN_SCALE:-4}
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}
    for s in S1 S2 S3 S4 S6; do run "$tsan_build" "$s" "$scale"; done
fi
end=$(date +%s)

ops=$(awk '/ (ok|FAILED): operations/ {gsub(",","",$4); s+=$4} END {print s+0}' "$log")
hand=$(awk '/ (ok|FAILED): operations/ {gsub(",","",$6); s+=$6} END {print s+0}' "$log")
dups=$(awk '/ (ok|FAILED): operations/ {gsub(",","",$8); s+=$8} END {print s+0}' "$log")
tsan=$(grep -c "WARNING: ThreadSanitizer" "$log" || true)
fails=$(grep -c " FAILED: operations" "$log" || true)
echo "soak totals: operations $ops, hand-outs $hand, duplicates $dups, violations $fails, ThreadSanitizer reports $tsan, wall $(( end - start )) s"
echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%MZ)"
[ "$status" -eq 0 ] && [ "$fails" -eq 0 ] && [ "$tsan" -eq 0 ]
