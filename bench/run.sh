#!/bin/sh
# make bench: build addrpool-bench in release mode, run every benchmark with
# repetitions, count instructions under callgrind, and regenerate
# docs/performance.md (bench/report.py fills bench/performance.md.in) and its
# plots from the results; then addrpool-pg's benchmark against the NBXplorer
# approach (its own section of that document).
#
#   bench/run.sh [BUILD_DIR]        (default build-bench)
#
# Four runs of addrpool-bench: every pool family but derive/, restore/,
# churn/ and stream/ (results in bench/results/latest.json); the derivation
# routes and the restore on 1 and 2 threads (derive/, restore/:
# derive.json); the wallet-set benchmarks (bench/bench_wallet.cpp, wallet_*:
# wallet.json); then churn/ and stream/ (churn.json). The last three
# interleave their repetitions at random, so a change in the machine's
# load during the run hits every design and configuration alike: their
# targets are ratios between designs of one run.
#
# Environment: BENCH_REPETITIONS (5), BENCH_MIN_TIME (0.3 s per repetition,
# a plain number: Google Benchmark 1.7.1), BENCH_FILTER (the first run's
# families), BENCH_DERIVE_REPETITIONS (the second's repetitions, 10: its
# ratios are targets), BENCH_WALLET_FILTER (the third's), BENCH_CHURN_FILTER
# (the fourth's), JOBS (nproc), BENCH_ONLY=churn (only the churn run and the
# instruction counts of the hand-out and the churn step) or BENCH_ONLY=wallet
# (only the wallet run); the other runs' results are kept.
set -eu

cd "$(dirname "$0")/.."
build=${1:-build-bench}
reps=${BENCH_REPETITIONS:-5}
min_time=${BENCH_MIN_TIME:-0.3}
filter=${BENCH_FILTER:--^(derive/|restore/|churn/|stream/|wallet_)}
derive_reps=${BENCH_DERIVE_REPETITIONS:-10}
wallet_filter=${BENCH_WALLET_FILTER:-^wallet_}
churn_filter=${BENCH_CHURN_FILTER:-^(churn|stream)/}
only=${BENCH_ONLY:-all}
jobs=${JOBS:-$(nproc)}
results=bench/results
case "$only" in all|churn|wallet) ;; *) echo "run.sh: BENCH_ONLY must be all, churn or wallet" >&2; exit 2 ;; esac

# (g++ 12's false -Wrestrict in release builds is handled in meson.build.)
cxx=${CXX:-c++}
setup_args=""
if [ ! -f "$build/build.ninja" ]; then
  # -Dwerror=true as in every build `make` sets up (not a meson.build default).
  # -g: line numbers for the callgrind listings; g++ and clang generate the
  # same code with and without it (and NDEBUG stays defined: still "release").
  meson setup "$build" --buildtype=release -Dbenchmarks=true -Dwerror=true -Dcpp_args=-g $setup_args
fi
meson compile -C "$build" -j "$jobs" bench/addrpool-bench bench/callgrind-probe bench/derivation-counter

mkdir -p "$results"

# The machine, recorded next to the numbers it produced; the load average
# before and after each run (a shared machine: read with the numbers).
# `loadavg KEY` adds the current one to machine.json under KEY.
loadavg() {
  python3 - "$results/machine.json" "$1" <<'EOF'
import json, os, sys, time
path, key = sys.argv[1], sys.argv[2]
m = json.load(open(path)) if os.path.exists(path) else {}
m[key] = open("/proc/loadavg").read().split()[:3]
if key == "churn_loadavg_before":
    m["churn_date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
json.dump(m, open(path, "w"), indent=2)
EOF
}
# `bench_run FILE FILTER REPS [FLAG...]`: one run of addrpool-bench over the
# benchmarks FILTER selects, the aggregates of REPS repetitions of each
# written to $results/FILE; FLAGs go to Google Benchmark as they are.
bench_run() {
  br_file=$1 br_filter=$2 br_reps=$3
  shift 3
  "$build/bench/addrpool-bench" \
    --benchmark_filter="$br_filter" \
    --benchmark_repetitions="$br_reps" \
    --benchmark_report_aggregates_only=true \
    --benchmark_out="$results/$br_file" \
    --benchmark_out_format=json \
    "$@"
}

if [ "$only" = all ]; then
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

  bench_run latest.json "$filter" "$reps" --benchmark_min_time="$min_time"
  loadavg loadavg_after

  # The derivation routes and the restore on 1 and 2 threads, their
  # repetitions interleaved at random: their targets are ratios between
  # benchmarks, which timed minutes apart moved with the machine's load
  # (derivation 2.80×-4.15×, restore 1.55×-2.12× for unchanged code).
  bench_run derive.json '^(derive|restore)/' "$derive_reps" \
    --benchmark_enable_random_interleaving=true --benchmark_min_time="$min_time"
fi

# The wallet-set benchmarks. The memory benchmark (100,000 accounts, one
# repetition) dominates: about a minute on 2 CPUs.
if [ "$only" = all ] || [ "$only" = wallet ]; then
  loadavg wallet_loadavg_before
  bench_run wallet.json "$wallet_filter" "$reps" \
    --benchmark_enable_random_interleaving=true --benchmark_min_time="$min_time"
  loadavg wallet_loadavg_after
fi
if [ "$only" = wallet ]; then
  python3 bench/report.py --results "$results" --doc docs/performance.md --img docs/img
  exit 0
fi

# churn/ and stream/ run a fixed number of iterations (their own sizes),
# so BENCH_MIN_TIME does not apply to them.
loadavg churn_loadavg_before
bench_run churn.json "$churn_filter" "$reps" --benchmark_enable_random_interleaving=true
loadavg churn_loadavg_after

# Instruction counts: each mode runs COUNT operations with instrumentation on
# only around them; the total divided by COUNT is per operation. The churn
# modes load a pool file written natively first (deriving under valgrind is
# slow). For the hand-out and the churn step of addrpool, the instructions
# per function (callgrind_annotate, exclusive) go to callgrind_MODE.txt.
if command -v valgrind >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  probe="$build/bench/callgrind-probe"
  specs="handout:1000 handout_mutex_cursor:1000 handout_mutex_cursor_coarse:1000"
  [ "$only" = all ] && specs="$specs derive:20 derive_xprv_path:20"
  for n in 1000 100000; do
    "$probe" export $((n + 4096)) "$tmp/pool-$n.bin"
    for m in churn_step churn_step_mutex_heap churn_step_mutex_heap_coarse; do
      specs="$specs $m:2000:$n"
    done
  done
  : > "$tmp/counts"
  for spec in $specs; do
    mode=${spec%%:*}
    rest=${spec#*:}
    count=${rest%%:*}
    n=${rest#*:}
    if [ "$n" = "$rest" ]; then key=$mode; set -- "$mode" "$count"
    else key="${mode}_n$n"; set -- "$mode" "$count" "$n" "$tmp/pool-$n.bin"; fi
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/$key.out" \
      "$probe" "$@" >/dev/null 2>"$tmp/$key.log"
    total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$tmp/$key.out")
    echo "$key ${total:-0} $count" >> "$tmp/counts"
    case "$key" in
      handout|churn_step_n*)
        callgrind_annotate --inclusive=no --threshold=100 --auto=yes --context=0 "$tmp/$key.out" \
          > "$results/callgrind_$key.txt" ;;
    esac
  done
  # Merged into callgrind.json: a churn-only run keeps the derivation counts.
  python3 - "$results/callgrind.json" "$tmp/counts" <<'EOF'
import json, os, sys
path, counts = sys.argv[1], sys.argv[2]
cg = json.load(open(path)) if os.path.exists(path) else {}
for line in open(counts):
    key, total, count = line.split()
    cg[key] = {"instructions": int(total), "count": int(count)}
json.dump(cg, open(path, "w"), indent=1, sort_keys=True)
open(path, "a").write("\n")
EOF
else
  echo "run.sh: valgrind not found; instruction counts not measured" >&2
  [ -f "$results/callgrind.json" ] || echo '{}' > "$results/callgrind.json"
fi

# Derivations per cold hand-out (lookahead 1): calls of
# secp256k1_ec_pubkey_combine (and tweak_add) counted by an LD_PRELOAD shim, minus the
# setup's own (a run with 0 hand-outs). More than 1 per hand-out = duplicated work.
if [ "$only" = all ]; then
  shim="$PWD/$build/bench/libderivation-counter.so"
  count_calls() {
    LD_PRELOAD="$shim" "$build/bench/callgrind-probe" cold "$1" "$2" 2>&1 | sed -n 's/^derivations=//p'
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
fi

python3 bench/report.py --results "$results" --doc docs/performance.md --img docs/img

# addrpool-pg against the NBXplorer approach on one durable throwaway
# PostgreSQL cluster (bench/pg_bench.cpp, issue 15); its section of
# docs/performance.md ({{pg_section}}, bench/report_pg.py) is rendered again.
# Only where libpq was found.
if grep -q 'addrpool-pg-bench' "$build/build.ninja"; then
  meson compile -C "$build" -j "$jobs" bench/addrpool-pg-bench
  scripts/pg-cluster --durable -- "$build/bench/addrpool-pg-bench" --out "$results/pg.json"
  python3 bench/report.py --results "$results" --doc docs/performance.md --img docs/img --no-plots
fi
