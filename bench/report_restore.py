"""The restore-speed part of docs/performance.md (issue 12, item 9).

bench/bench_restore.cpp measures generate_addresses and maintain_gap_limit of
20,000 addresses with PoolOptions::derive_threads = 1 and = 0 (every hardware
thread). Its results are read from derive.json, where a full `make bench`
runs them with the derivation routes, repetitions interleaved at random (from
latest.json in runs before that), otherwise from restore.json in the same
directory: a run of those benchmarks alone,

    build-bench/bench/addrpool-bench --benchmark_filter='^restore/' \\
        --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \\
        --benchmark_out=bench/results/restore.json --benchmark_out_format=json

report.py imports this module and passes itself in as `fmt` (Results,
ratio, table, fmt_ns, fmt_x), so the formatting stays in one place.
"""
import os

TARGET = 1.7
OPS = (
    ("generate_addresses", "`generate_addresses(N)`, fresh pool"),
    ("maintain_gap_limit", "`maintain_gap_limit()`, gap limit N"),
)
THREADS = (1, 0)  # derive_threads: one thread, then the default (the hardware's count)


def results(r, rd, results_dir, fmt):
    """(the Results holding the restore benchmarks, where they came from), or
    (None, None). r: latest.json's; rd: derive.json's (empty when absent)."""
    name = r"restore/generate_addresses/derive_threads:1/process_time/real_time"
    for cand, source in ((r, "latest.json"), (rd, "derive.json")):
        if cand.find(name) is not None:
            return cand, source
    path = os.path.join(results_dir, "restore.json")
    if os.path.exists(path):
        return fmt.Results(path), "restore.json"
    return None, None


def collect(rr):
    """Per (operation, derive_threads): wall-clock median and the counters."""
    n = {}
    for op, _ in OPS:
        for t in THREADS:
            name = rf"restore/{op}/derive_threads:{t}/process_time/real_time"
            n[(op, t)] = {key: None if rr is None else rr.value(name, key)
                          for key in ("threads", "addresses", "same_addresses")}
            n[(op, t)]["ns"] = None if rr is None else rr.ns(name, "real_time")
            n[(op, t)]["cpu_ns"] = None if rr is None else rr.ns(name, "cpu_time")  # every thread's
    return n


def speedup(n, op, fmt):
    return fmt.ratio(n[(op, 1)]["ns"], n[(op, 0)]["ns"])


def add_targets(targets, n, fmt):
    """One row per operation in report.py's target table; True if one is missed."""
    missed = False
    for op, _ in OPS:
        s = speedup(n, op, fmt)
        many = n[(op, 0)]
        ok = None if s is None else (s >= TARGET and many["same_addresses"] == 1)
        count = f"{many['addresses']:,.0f}" if many["addresses"] else "20,000"
        threads = f"{many['threads']:.0f}" if many["threads"] else "all"
        targets.add(f"restore: `{op}` of {count} addresses on {threads} threads ≥ {TARGET}× faster than on 1, "
                    "same addresses", fmt.fmt_x(s), ok, "" if s is None else f"({s / TARGET:.2f} of the target)")
        missed = missed or ok is False
    return missed


def values(rr, source, n, fmt):
    """The template's restore_* values."""
    v = {"have_restore": rr is not None}
    rows = []
    for op, label in OPS:
        one, many = n[(op, 1)], n[(op, 0)]
        count = f"{many['addresses']:,.0f}" if many["addresses"] else "?"
        rows.append([label.replace("N", count), fmt.fmt_ns(one["ns"]),
                     f"{fmt.fmt_ns(many['ns'])} ({many['threads']:.0f} threads)" if many["threads"] else "n/a",
                     fmt.fmt_x(speedup(n, op, fmt)),
                     f"{fmt.fmt_ns(one['cpu_ns'])} / {fmt.fmt_ns(many['cpu_ns'])}",
                     "yes" if many["same_addresses"] == 1 and one["same_addresses"] == 1 else "n/a"])
    v["restore_table"] = fmt.table(["operation", "1 thread", "derive_threads = 0", "speed-up (wall clock)",
                                    "CPU, all threads: 1 / N", "same addresses"], rows)
    first = n[(OPS[0][0], 0)]
    v["restore_count"] = f"{first['addresses']:,.0f}" if first["addresses"] else "20,000"
    v["restore_threads"] = f"{first['threads']:.0f}" if first["threads"] else "?"
    speedups = [speedup(n, op, fmt) for op, _ in OPS]
    v["restore_speedups"] = " and ".join(fmt.fmt_x(s) for s in speedups)
    v["restore_missed"] = any(s is not None and s < TARGET for s in speedups)
    work = [fmt.ratio(n[(op, 0)]["cpu_ns"], n[(op, 1)]["cpu_ns"]) for op, _ in OPS]
    v["restore_work"] = " and ".join(fmt.fmt_x(w) for w in work)
    v["restore_bound"] = " and ".join(
        fmt.fmt_x(fmt.ratio(n[(op, 1)]["ns"], n[(op, 1)]["cpu_ns"])) for op, _ in OPS)
    if rr is None:
        v["restore_source"] = ""
        v["restore_load"] = ""
    else:
        ctx = rr.context
        load = " ".join(f"{x:.2f}" for x in ctx.get("load_avg", []))
        v["restore_load"] = load or "?"
        if source == "latest.json":
            v["restore_source"] = "the run above"
        elif source == "derive.json":
            v["restore_source"] = ("the derivation run (`bench/results/derive.json`: the restore and derivation "
                                   "benchmarks, their repetitions interleaved at random)")
        else:
            v["restore_source"] = (f"a run of these benchmarks alone (`bench/results/restore.json`, "
                                   f"{ctx.get('date', '?')}, {ctx.get('num_cpus', '?')} CPUs, "
                                   f"load average {load or '?'} when it started)")
    return v
