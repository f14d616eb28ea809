#!/bin/sh
# make bench: build addrpool-bench in release mode, run every benchmark with
# repetitions, count instructions under callgrind, and regenerate
# docs/performance.md (bench/report.py fills bench/performance.md.in) and its
# plots from the results.
#
#   bench/run.sh [BUILD_DIR]        (default build-bench)
#
# Environment: BENCH_REPETITIONS (5), BENCH_MIN_TIME (0.3 s per repetition,
# a plain number: Google Benchmark 1.7.1), BENCH_FILTER (every pool
# benchmark: all but wallet_*), BENCH_WALLET_FILTER (^wallet_), JOBS (nproc).
set -eu

cd "$(dirname "$0")/.."
build=${1:-build-bench}
reps=${BENCH_REPETITIONS:-5}
min_time=${BENCH_MIN_TIME:-0.3}
filter=${BENCH_FILTER:--^wallet_}
jobs=${JOBS:-$(nproc)}
results=bench/results

# (g++ 12's false -Wrestrict in release builds is handled in meson.build.)
cxx=${CXX:-c++}
setup_args=""
if [ ! -f "$build/build.ninja" ]; then
  # -Dwerror=true as in every build `make` sets up (not a meson.build default).
  meson setup "$build" --buildtype=release -Dbenchmarks=true -Dwerror=true $setup_args
fi
meson compile -C "$build" -j "$jobs" bench/addrpool-bench bench/callgrind-probe bench/tweak-counter

mkdir -p "$results"

# The machine, recorded next to the numbers it produced.
python3 - "$results/machine.json" "$build" "$($cxx --version | head -n 1)" <<'EOF'
import json, os, platform, subprocess, sys, time
out, build, compiler = sys.argv[1], sys.argv[2], sys.argv[3]
model = "unknown"
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
def pkg(name):
    try:
        return subprocess.run(["pkg-config", "--modversion", name], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
opts = {}
try:
    with open(os.path.join(build, "meson-info", "intro-buildoptions.json")) as f:
        opts = {o["name"]: o["value"] for o in json.load(f) if o["name"] in ("buildtype", "cpp_args", "b_ndebug")}
except OSError:
    pass
json.dump({
    "nproc": os.cpu_count(),
    "cpu_model": model,
    "kernel": platform.release(),
    "compiler": compiler,
    "libsecp256k1": pkg("libsecp256k1"),
    "google_benchmark": pkg("benchmark"),
    "build_options": opts,
    "loadavg_before": open("/proc/loadavg").read().split()[:3],
    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
}, open(out, "w"), indent=2)
EOF

# The pool benchmarks (the wallet-set ones run on their own, below).
"$build/bench/addrpool-bench" \
  --benchmark_filter="$filter" \
  --benchmark_repetitions="$reps" \
  --benchmark_report_aggregates_only=true \
  --benchmark_min_time="$min_time" \
  --benchmark_out="$results/latest.json" \
  --benchmark_out_format=json

# The wallet-set benchmarks (bench/bench_wallet.cpp) into wallet.json, their
# repetitions interleaved at random so that a change in the machine's load
# hits the set and its baselines alike. The memory benchmark (100,000
# accounts, one repetition) dominates: about a minute on 2 CPUs.
"$build/bench/addrpool-bench" \
  --benchmark_filter="${BENCH_WALLET_FILTER:-^wallet_}" \
  --benchmark_repetitions="$reps" \
  --benchmark_report_aggregates_only=true \
  --benchmark_enable_random_interleaving=true \
  --benchmark_min_time="$min_time" \
  --benchmark_out="$results/wallet.json" \
  --benchmark_out_format=json

# The load while it ran (a shared machine: read with the numbers).
python3 - "$results/machine.json" <<'EOF2'
import json, sys
m = json.load(open(sys.argv[1]))
m["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
json.dump(m, open(sys.argv[1], "w"), indent=2)
EOF2

# Instruction counts: each mode runs COUNT operations with instrumentation on
# only around them; the total divided by COUNT is per operation.
if command -v valgrind >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  printf '{' > "$results/callgrind.json"
  sep=""
  for spec in handout:1000 handout_mutex_cursor:1000 derive:20 derive_xprv_path:20; do
    mode=${spec%%:*}
    count=${spec#*:}
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/$mode.out" \
      "$build/bench/callgrind-probe" "$mode" "$count" >/dev/null 2>"$tmp/$mode.log"
    total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$tmp/$mode.out")
    printf '%s"%s": {"instructions": %s, "count": %s}' "$sep" "$mode" "${total:-0}" "$count" >> "$results/callgrind.json"
    sep=", "
  done
  printf '}\n' >> "$results/callgrind.json"
else
  echo "run.sh: valgrind not found; instruction counts not measured" >&2
  echo '{}' > "$results/callgrind.json"
fi

# Derivations per cold hand-out (lookahead 1): calls of
# secp256k1_ec_pubkey_tweak_add counted by an LD_PRELOAD shim, minus the
# setup's own (a run with 0 hand-outs). More than 1 per hand-out = duplicated work.
shim="$PWD/$build/bench/libtweak-counter.so"
count_calls() {
  LD_PRELOAD="$shim" "$build/bench/callgrind-probe" cold "$1" "$2" 2>&1 | sed -n 's/^tweak_add_calls=//p'
}
printf '{' > "$results/cold_derivations.json"
sep=""
for t in 1 2; do
  base=$(count_calls "$t" 0)
  calls=$(count_calls "$t" 4000)
  printf '%s"%s": {"handouts": 4000, "derivations": %s}' "$sep" "$t" "$(( ${calls:-0} - ${base:-0} ))" \
    >> "$results/cold_derivations.json"
  sep=", "
done
printf '}\n' >> "$results/cold_derivations.json"

python3 bench/report.py --results "$results" --doc docs/performance.md --img docs/img
