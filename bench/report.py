#!/usr/bin/env python3
"""Regenerates docs/performance.md and its plots from bench/results/.

Reads latest.json (Google Benchmark JSON, aggregates of repetitions: the
median is used everywhere), derive.json (the derivation routes and the
restore benchmarks, interleaved; latest.json's derive/ rows when it is
absent), churn.json (the churn/ and stream/ families, see report_churn.py),
callgrind.json, callgrind_*.txt, cold_derivations.json, machine.json and
wallet.json, all written by bench/run.sh, and restore.json if neither
latest.json nor derive.json holds the restore benchmarks
(bench/report_restore.py). This script only computes: the
numbers, the tables, the target verdicts and which explanations apply. The
prose is bench/performance.md.in, a Markdown template this script fills (its
first comment explains the syntax). Standard library only; the plots are
drawn by gnuplot.

    bench/report.py [--results DIR] [--doc FILE] [--img DIR] [--template FILE] [--no-plots]

--no-plots keeps the existing plots (and refers to them if they exist), so the
document can be regenerated from committed results without gnuplot.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import report_churn  # the churn and streaming sections (issue 11)
import report_wallet  # the wallet-set section (issue 13)
import report_restore  # bench/report_restore.py: the restore-speed section

DESIGNS = [
    ("addrpool", "(e) addrpool"),
    ("bridge_table", "(a) bridge table"),
    ("locked_scan", "(b) locked scan"),
    ("mutex_cursor", "(c) mutex + cursor"),
    ("wallet_lock", "(d) wallet lock"),
]
BASELINES = DESIGNS[1:]
LABEL = dict(DESIGNS)
THREADS = [1, 2, 4, 8, 16]
OUTSTANDING = [0, 1000, 10000, 100000]
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
HERE = os.path.dirname(os.path.abspath(__file__))


# ---- reading the results ------------------------------------------------------------

class Results:
    """Medians of a Google Benchmark JSON file (or the single run of a benchmark
    without repetitions), by run name; errors by run name. missing_ok: a
    missing file reads as no results instead of an error."""

    def __init__(self, path, missing_ok=False):
        self.context = {}
        self.median = {}
        self.errors = {}
        if missing_ok and not os.path.exists(path):
            return
        with open(path) as f:
            data = json.load(f)
        self.context = data.get("context", {})
        for b in data.get("benchmarks", []):
            name = b.get("run_name", b["name"])
            if b.get("error_occurred"):
                self.errors[name] = b.get("error_message", "error")
            if b.get("aggregate_name", "median") == "median" and not b.get("error_occurred"):
                self.median[name] = b

    def find(self, pattern):
        rx = re.compile(pattern + "$")
        for name, b in self.median.items():
            if rx.match(name):
                return b
        return None

    def error(self, pattern):
        rx = re.compile(pattern + "$")
        for name, msg in self.errors.items():
            if rx.match(name):
                return msg
        return None

    def ns(self, pattern, field="cpu_time"):
        b = self.find(pattern)
        if b is None:
            return None
        return b[field] * UNIT_NS[b.get("time_unit", "ns")]

    def value(self, pattern, key):
        b = self.find(pattern)
        return None if b is None else b.get(key)


def load_json(path):
    """The JSON object at path, or {} when the file does not exist."""
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


# ---- formatting ---------------------------------------------------------------------

def fmt_ns(v):
    if v is None:
        return "n/a"
    if v >= 1e9:
        return f"{v / 1e9:.2f} s"
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.1f} µs"
    return f"{v:.1f} ns"


def fmt_rate(v):
    if v is None:
        return "n/a"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M/s"
    if v >= 1e3:
        return f"{v / 1e3:.1f} k/s"
    return f"{v:.0f} /s"


def fmt_x(v):
    if v is None:
        return "n/a"
    if v >= 100:
        return f"{v:,.0f}×"
    return f"{v:.2f}×"


def ratio(num, den):
    if num is None or den is None or den == 0:
        return None
    return num / den


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


# ---- plots --------------------------------------------------------------------------

def gnuplot(script, img_dir):
    if shutil.which("gnuplot") is None:
        print("report.py: gnuplot not found; plots not regenerated", file=sys.stderr)
        return False
    done = subprocess.run(["gnuplot"], input=script, text=True, cwd=img_dir)
    if done.returncode != 0:  # e.g. a filtered run left a plot without data
        print("report.py: gnuplot failed; plot not regenerated", file=sys.stderr)
    return done.returncode == 0


def write_plot_data(r, tmp):
    # Throughput vs threads (reserve + release pairs per second, log scale).
    with open(os.path.join(tmp, "throughput.dat"), "w") as f:
        for t in THREADS:
            row = [str(t)]
            for key, _ in DESIGNS:
                v = r.value(rf"throughput/{key}/real_time/threads:{t}", "items_per_second")
                row.append("NaN" if v is None else f"{v / 1e6:.6g}")
            f.write(" ".join(row) + "\n")
    # Latency vs outstanding reservations (positions 0..3 for N = 0, 1k, 10k, 100k).
    with open(os.path.join(tmp, "latency.dat"), "w") as f:
        for pos, n in enumerate(OUTSTANDING):
            row = [str(pos)]
            for key, _ in DESIGNS:
                v = r.ns(rf"latency/{key}/{n}")
                row.append("NaN" if v is None else f"{v:.6g}")
            f.write(" ".join(row) + "\n")


def plots(r, img_dir, tmp):
    """Draws throughput.png and latency.png; True when both were drawn."""
    os.makedirs(img_dir, exist_ok=True)
    write_plot_data(r, tmp)
    styles = "\n".join(f"set style line {i + 1} lw 2 pt {i + 5} ps 1.2" for i in range(len(DESIGNS)))
    cols = ", \\\n  ".join(
        f"'{{dat}}' using 1:{i + 2} with linespoints ls {i + 1} title '{label}'" for i, (_, label) in enumerate(DESIGNS))
    tput = f"""
set terminal pngcairo size 900,540 font 'DejaVu Sans,11'
set output '{os.path.abspath(os.path.join(img_dir, 'throughput.png'))}'
{styles}
set title 'Hand-out throughput (reserve + release pairs, 1k outstanding; machine: {r.context.get('num_cpus', '?')} cores)'
set xlabel 'threads'
set ylabel 'million pairs per second (log)'
set logscale x 2
set logscale y
set xtics (1, 2, 4, 8, 16)
set xrange [0.8:20]
set format y '%g'
set key outside right
set grid
plot {cols.replace('{dat}', os.path.join(tmp, 'throughput.dat'))}
"""
    lat = f"""
set terminal pngcairo size 900,540 font 'DejaVu Sans,11'
set output '{os.path.abspath(os.path.join(img_dir, 'latency.png'))}'
{styles}
set title 'Single-thread hand-out latency (reserve + release of the next index)'
set xlabel 'outstanding reservations'
set ylabel 'ns per hand-out (log)'
set logscale y
set xtics ('0' 0, '1k' 1, '10k' 2, '100k' 3)
set xrange [-0.2:3.2]
set format y '%g'
set key outside right
set grid
plot {cols.replace('{dat}', os.path.join(tmp, 'latency.dat'))}
"""
    return gnuplot(tput, img_dir) and gnuplot(lat, img_dir)


# ---- the numbers --------------------------------------------------------------------

def collect(r, cg, rd=None):
    """Every median the document uses, keyed by what it measures."""
    def cg_per_op(mode):
        e = cg.get(mode)
        if not e or not e.get("count") or not e.get("instructions"):
            return None
        return e["instructions"] / e["count"]

    rderive = rd if rd is not None and rd.find(r"derive/.*") else r
    paired = rderive.find(r"derive/paired") or {}
    n = {
        "lat": {(k, m): r.ns(rf"latency/{k}/{m}") for k, _ in DESIGNS for m in OUTSTANDING},
        "tput": {(k, t): r.value(rf"throughput/{k}/real_time/threads:{t}", "items_per_second")
                 for k, _ in DESIGNS for t in THREADS},
        "handout": {k: r.ns(rf"handout/{k}") for k in ("addrpool", "mutex_cursor", "wallet_lock")},
        "cold": {(k, t): r.value(rf"cold/{k}/real_time/threads:{t}", "items_per_second")
                 for k in ("addrpool", "wallet_lock") for t in (1, 2)},
        "ahead": {k: {p: r.value(rf"derive_ahead/{k}/iterations:\d+/real_time", p)
                      for p in ("p50_ns", "p99_ns", "p999_ns", "max_ns", "requests")}
                  for k in ("addrpool", "wallet_lock")},
        "bulk": {(op, k): r.value(rf"bulk_{op}/{k}/\d+", "items_per_second")
                 for op in ("mark_used", "release", "sweep") for k, _ in DESIGNS},
        "by_address": r.value(r"bulk_mark_used_by_address/addrpool/\d+", "items_per_second"),
        "derive": {k: rderive.ns(rf"derive/{k}") for k in ("addrpool_cached", "keywallet_xprv_path", "xpub_path", "floor")},
        "derive_interleaved": rderive is not r,
        "derive_paired": paired.get("ratio"),
        "derive_paired_ns": (paired.get("addrpool_ns"), paired.get("keywallet_ns")),
        "derive_reps": (rderive.find(r"derive/addrpool_cached") or {}).get("repetitions"),
        "mem": {k: r.find(rf"memory/{k}/iterations:1") for k in ("addrpool", "bridge_table", "locked_scan", "mutex_cursor")},
        "load": r.find(r"persist/load"),
        "save": r.find(r"persist/save"),
        "refill": r.find(r"refill_overhead/addrpool"),
        "cg_handout": cg_per_op("handout"),
        "cg_mutex_cursor": cg_per_op("handout_mutex_cursor"),
        "cg_derive": cg_per_op("derive"),
        "cg_xprv_path": cg_per_op("derive_xprv_path"),
    }
    return n


class Targets:
    """The performance targets: each row's measurement and verdict."""

    def __init__(self):
        self.rows = []

    def add(self, text, measured, ok, missed_by=""):
        """ok: True (met), False (missed) or None (not measured). Returns ok."""
        status = "n/a (not measured)" if ok is None else ("met" if ok else f"**missed** {missed_by}".rstrip())
        self.rows.append((text, measured, status))
        return ok


def check_targets(n, more=None):
    """The target table and the verdicts the explanations depend on.
    more(targets): adds further rows (another module's) and returns its verdicts."""
    t = Targets()
    lat, tput, cold = n["lat"], n["tput"], n["cold"]
    ra = ratio(lat[("bridge_table", 10000)], lat[("addrpool", 10000)])
    rb = ratio(lat[("locked_scan", 10000)], lat[("addrpool", 10000)])
    t.add("10k outstanding, 1 thread: ≥ 100× (a)", fmt_x(ra), None if ra is None else ra >= 100,
          "" if ra is None else f"({ra / 100:.2f} of the target)")
    t.add("10k outstanding, 1 thread: ≥ 20× (b)", fmt_x(rb), None if rb is None else rb >= 20,
          "" if rb is None else f"({rb / 20:.2f} of the target)")
    rc1 = ratio(tput[("addrpool", 1)], tput[("mutex_cursor", 1)])
    ok_c1 = t.add("1 thread: within 1.5× of (c) (throughput ratio ≥ 0.67)", fmt_x(rc1),
                  None if rc1 is None else rc1 >= 1 / 1.5,
                  "" if rc1 is None else f"(addrpool is {1 / rc1:.2f}× slower; allowed 1.5×)")
    rc2 = ratio(tput[("addrpool", 2)], tput[("mutex_cursor", 2)])
    rc8 = ratio(tput[("addrpool", 8)], tput[("mutex_cursor", 8)])
    ok_c2 = t.add("2 threads: ≥ 1.0× (c)", fmt_x(rc2), None if rc2 is None else rc2 >= 1.0,
                  "" if rc2 is None else f"(short by {(1 - rc2) * 100:.0f}%)")
    ok_c8 = t.add("8 threads: ≥ 1.0× (c)", fmt_x(rc8), None if rc8 is None else rc8 >= 1.0,
                  "" if rc8 is None else f"(short by {(1 - rc8) * 100:.0f}%)")
    rcold = ratio(cold[("addrpool", 2)], cold[("wallet_lock", 2)])
    ok_cold = t.add("cold pool (lookahead 1), 2 threads: ≥ 1.6× (d)", fmt_x(rcold),
                    None if rcold is None else rcold >= 1.6,
                    "" if rcold is None else f"({rcold / 1.6:.2f} of the target)")
    ahead = n["ahead"]
    rp99 = ratio(ahead["wallet_lock"]["p99_ns"], ahead["addrpool"]["p99_ns"])
    t.add("p99 while deriving ahead: ≥ 10× better than (d)", fmt_x(rp99), None if rp99 is None else rp99 >= 10)
    h = n["handout"]["addrpool"]
    t.add("1-thread hand-out median ≤ 100 ns (pre-derived)", fmt_ns(h), None if h is None else h <= 100,
          "" if h is None else f"(by {h - 100:.0f} ns)")
    derive = n["derive"]
    # The paired run (derive/paired: the two routes alternating within each
    # iteration, median of its repetitions) decides when present; the ratio
    # of the separate routes' medians is shown beside it.
    rsep = ratio(derive["keywallet_xprv_path"], derive["addrpool_cached"])
    rpair = n["derive_paired"]
    rkw = rpair if rpair is not None else rsep
    rfl = ratio(derive["addrpool_cached"], derive["floor"])
    shown = (fmt_x(rsep) if rpair is None
             else f"{fmt_x(rpair)} paired ({fmt_x(rsep)} from the separate medians)")
    t.add("derivation: ≥ 3.5× the key-wallet private path", shown, None if rkw is None else rkw >= 3.5,
          "" if rkw is None else f"({rkw / 3.5:.2f} of the target)")
    t.add("derivation: within 1.3× of the floor", f"{fmt_x(rfl)} of the floor", None if rfl is None else rfl <= 1.3)
    state = n["mem"]["addrpool"]["state_bytes_per_index"] if n["mem"]["addrpool"] else None
    t.add("≤ 16 bytes of state per index", "n/a" if state is None else f"{state:.0f} B",
          None if state is None else state <= 16)
    missed_restore = report_restore.add_targets(t, n["restore"], sys.modules[__name__])
    verdicts = {
        "missed_mutex_cursor": False in (ok_c1, ok_c2, ok_c8),
        "missed_cold": ok_cold is False,
        "missed_restore": missed_restore,
        "missed_derivation": rkw is not None and rkw < 3.5,
        "derivation_ratio": fmt_x(rkw),
    }
    if more is not None:
        verdicts.update(more(t))
    return table(["target", "measured", "status"], t.rows), verdicts


# ---- the tables ---------------------------------------------------------------------

def machine_table(r, machine):
    rows = [
        ("date", machine.get("date", r.context.get("date", "?"))),
        ("CPU", f"{machine.get('cpu_model', '?')}, {machine.get('nproc', r.context.get('num_cpus', '?'))} logical CPUs, "
                f"{r.context.get('mhz_per_cpu', '?')} MHz"),
        ("kernel", machine.get("kernel", "?")),
        ("compiler", machine.get("compiler", "?")),
        ("build", json.dumps(machine.get("build_options", {}))),
        ("libsecp256k1 / Google Benchmark", f"{machine.get('libsecp256k1', '?')} / {machine.get('google_benchmark', '?')}"),
        ("load average before / after the run", " ".join(machine.get("loadavg_before", [])) + " / " +
         " ".join(machine.get("loadavg_after", []))),
        ("load average before / after the churn and streaming run",
         " ".join(machine.get("churn_loadavg_before", [])) + " / " + " ".join(machine.get("churn_loadavg_after", [])) +
         (f" ({machine['churn_date']})" if machine.get("churn_date") else "")),
        ("repetitions", "see `bench/run.sh` (default 5 × 0.3 s per benchmark)"),
    ]
    return table(["", ""], rows)


def versus_header(first):
    return [first] + [label for _, label in DESIGNS] + [f"addrpool vs {label[:3]}" for _, label in BASELINES]


def latency_table(n):
    lat = n["lat"]
    rows = []
    for m in OUTSTANDING:
        row = [f"{m:,}"] + [fmt_ns(lat[(k, m)]) for k, _ in DESIGNS]
        row += [fmt_x(ratio(lat[(k, m)], lat[("addrpool", m)])) for k, _ in BASELINES]
        rows.append(row)
    return table(versus_header("outstanding"), rows)


def handout_table(n):
    h = n["handout"]
    rows = [[LABEL[k], fmt_ns(h[k]), fmt_x(ratio(h[k], h["addrpool"]))]
            for k in ("addrpool", "mutex_cursor", "wallet_lock")]
    return table(["design", "median per hand-out", "its time / addrpool's"], rows)


def throughput_table(n):
    tput = n["tput"]
    rows = []
    for t in THREADS:
        row = [str(t)] + [fmt_rate(tput[(k, t)]) for k, _ in DESIGNS]
        row += [fmt_x(ratio(tput[("addrpool", t)], tput[(k, t)])) for k, _ in BASELINES]
        rows.append(row)
    return table(versus_header("threads"), rows)


def cold_table(n):
    cold = n["cold"]
    rows = [[str(t), fmt_rate(cold[("addrpool", t)]), fmt_rate(cold[("wallet_lock", t)]),
             fmt_x(ratio(cold[("addrpool", t)], cold[("wallet_lock", t)]))] for t in (1, 2)]
    return table(["threads", "addrpool", "(d) wallet lock", "ratio"], rows)


def derive_ahead_table(n):
    ahead = n["ahead"]
    rows = []
    for p, name in (("p50_ns", "p50"), ("p99_ns", "p99"), ("p999_ns", "p99.9"), ("max_ns", "max")):
        a, d = ahead["addrpool"][p], ahead["wallet_lock"][p]
        rows.append([name, fmt_ns(a), fmt_ns(d), fmt_x(ratio(d, a))])
    return table(["percentile", "addrpool", "(d) wallet lock", "(d) / addrpool"], rows)


def bulk_table(n):
    bulk = n["bulk"]
    rows = []
    for op in ("mark_used", "release", "sweep"):
        row = [op.replace("_", " ")] + [fmt_rate(bulk[(op, k)]) for k, _ in DESIGNS]
        row += [fmt_x(ratio(bulk[(op, "addrpool")], bulk[(op, k)])) for k, _ in BASELINES]
        rows.append(row)
    return table(versus_header("operation"), rows)


def derive_table(n):
    derive = n["derive"]
    rows = [[name, fmt_ns(derive[k]), fmt_x(ratio(derive[k], derive["addrpool_cached"]))]
            for k, name in (("addrpool_cached", "addrpool (cached chain key)"),
                            ("keywallet_xprv_path", "key-wallet: xprv [0, i]"),
                            ("xpub_path", "xpub [0, i]"), ("floor", "floor"))]
    return table(["route", "median per address (CPU)", "its time / addrpool's"], rows)


MEMORY_NOTES = {
    "addrpool": "slot array only (state + hash), every slot written; lookup index not included",
    "bridge_table": "one account: addresses + used flags + a reservation entry per index",
    "locked_scan": "map node per index (address, state, time)",
    "mutex_cursor": "state word + address per index",
}


def memory_table(n):
    rows = [[LABEL[k], f"{mem_per_index(n['mem'][k]):.1f}", MEMORY_NOTES[k]]
            for k in ("addrpool", "bridge_table", "locked_scan", "mutex_cursor") if n["mem"][k]]
    return table(["design", "bytes per index, every index reserved", "what it holds"], rows)


def mem_per_index(b):
    """Memory per index of a memory/ result (results before issue 11 counted the heap only)."""
    return b.get("bytes_per_index", b.get("heap_bytes_per_index"))


def persistence_table(r, n):
    rows = [
        ["file bytes per address", f"{n['load']['file_bytes_per_address']:.2f} B"],
        ["`deserialize` (parse, verify, build the pool), median", fmt_ns(r.ns(r"persist/load", "real_time"))],
        ["`serialize`, median", fmt_ns(r.ns(r"persist/save", "real_time"))],
    ]
    return table(["", ""], rows)


# ---- the template's values ----------------------------------------------------------

def section_values(r, n, coldd):
    """The values of the measurement sections (everything but the targets)."""
    v = {}
    ho, hc = n["cg_handout"], n["cg_mutex_cursor"]
    v["have_handout_instructions"] = bool(ho and hc)
    v["handout_instructions"] = f"{ho:.0f}" if ho else "n/a"
    v["mutex_cursor_instructions"] = f"{hc:.0f}" if hc else "n/a"
    v["have_cold_derivations"] = bool(coldd)
    v["cold_derivations"] = ", ".join(f"{t} thread{'s' if t != '1' else ''}: {c['derivations'] / c['handouts']:.4f}"
                                      for t, c in sorted(coldd.items()))
    req = n["ahead"]["addrpool"]["requests"]
    v["have_requests"] = bool(req)
    v["requests"] = f"{req:,.0f}" if req else ""
    bulk_run = r.find(r"bulk_release/addrpool/(\d+)")
    v["have_bulk_size"] = bulk_run is not None
    v["bulk_size"] = f"{int(bulk_run['run_name'].rsplit('/', 1)[1]):,}" if bulk_run else ""
    v["have_by_address"] = bool(n["by_address"])
    v["by_address"] = fmt_rate(n["by_address"])
    d, dx = n["cg_derive"], n["cg_xprv_path"]
    v["derive_interleaved"] = n["derive_interleaved"]
    paired = n["derive_paired"]
    v["have_derive_paired"] = paired is not None
    v["paired_ratio"] = fmt_x(paired)
    v["paired_addrpool"] = fmt_ns(n["derive_paired_ns"][0])
    v["paired_keywallet"] = fmt_ns(n["derive_paired_ns"][1])
    v["derive_repetitions"] = f"{n['derive_reps']}" if n["derive_reps"] else "several"
    v["have_derive_instructions"] = bool(d)
    v["derive_instructions"] = f"{d:,.0f}" if d else ""
    v["xprv_path_instructions"] = f"{dx:,.0f}" if dx else "n/a"
    v["xprv_path_instruction_ratio"] = fmt_x(ratio(dx, d))
    m = n["mem"]["addrpool"]
    v["have_slot_memory"] = bool(m)
    if m:
        v.update(state_bytes=f"{m['state_bytes_per_index']:.0f}", slot_bytes=f"{m['slot_bytes_per_index']:.0f}",
                 slot_indices=f"{m['indices']:,.0f}", slot_memory_bytes=f"{mem_per_index(m):.1f}",
                 address_bytes=f"{m['address_value_bytes']:.0f}")
    load, save = n["load"], n["save"]
    v["have_load"] = bool(load)
    v["load_entries"] = f"{load['entries']:,.0f}" if load else ""
    v["materialized_bytes"] = (f"{load.get('bytes_per_materialized_address', load.get('heap_bytes_per_materialized_address')):.1f}"
                               if load else "")
    v["have_persistence"] = bool(load and save)
    v["persistence_table"] = persistence_table(r, n) if load and save else ""
    v["persistence_error"] = r.error(r"persist/load") or r.error(r"persist/save") or "no result"
    return v


def explanation_values(r, n, coldd, verdicts):
    """The values the missed-target explanations and the maintainers' notes use."""
    v = dict(verdicts)
    v["any_missed"] = any(verdicts.get(k) for k in ("missed_mutex_cursor", "missed_cold", "missed_churn",
                                                      "missed_scaling", "missed_stream", "churn_violations",
                                                      "missed_restore", "missed_derivation"))
    cpu1 = r.ns(r"throughput/addrpool/real_time/threads:1")
    cpu2 = r.ns(r"throughput/addrpool/real_time/threads:2")
    ccpu2 = r.ns(r"throughput/mutex_cursor/real_time/threads:2")
    v["have_contended_cpu"] = bool(cpu1 and cpu2 and ccpu2)
    v.update(addrpool_cpu_1=fmt_ns(cpu1), addrpool_cpu_2=fmt_ns(cpu2), mutex_cursor_cpu_2=fmt_ns(ccpu2))
    locked, free = n["tput"][("wallet_lock", 2)], n["tput"][("addrpool", 2)]
    v["wallet_lock_outruns"] = bool(locked and free and locked > free)
    p1, p2 = n["cold"][("addrpool", 1)], n["cold"][("addrpool", 2)]
    v.update(cold_rate_1=fmt_rate(p1), cold_rate_2=fmt_rate(p2), cold_scaling=fmt_x(ratio(p2, p1)))
    c2 = coldd.get("2")
    per = c2["derivations"] / c2["handouts"] if c2 and c2.get("handouts") else None
    v["have_cold_per_handout"] = per is not None
    v["cold_duplicates"] = per is not None and per >= 1.1
    v["cold_per_handout"] = "" if per is None else (f"{per:.2f}" if per >= 1.1 else f"{per:.4f}")
    v["cold_derivations_2"] = f"{c2['derivations']:,}" if c2 else ""
    v["cold_handouts_2"] = f"{c2['handouts']:,}" if c2 else ""
    sweep, sweep_c = n["bulk"][("sweep", "addrpool")], n["bulk"][("sweep", "mutex_cursor")]
    v["have_sweep"] = bool(sweep and sweep_c)
    v.update(sweep_rate=fmt_rate(sweep), sweep_rate_mutex_cursor=fmt_rate(sweep_c))
    by_index = n["bulk"][("mark_used", "addrpool")]
    v["have_mark_by_address"] = bool(n["by_address"] and by_index)
    v["mark_by_index"] = fmt_rate(by_index)
    ro = n["refill"]
    v["have_refill"] = bool(ro)
    v["refill_time"] = fmt_ns(ro["cpu_time"] * UNIT_NS[ro.get("time_unit", "ns")]) if ro else ""
    v["refill_touched"] = f"{ro.get('touched_indices', 0):,.0f}" if ro else ""
    return v


# ---- the template -------------------------------------------------------------------

TOKEN = re.compile(r"\{%\s*(if\s+(not\s+)?(\w+)|else|endif)\s*%\}|\{\{\s*(\w+)\s*\}\}")


def render(template, values):
    """Fills the template: {{name}}, {% if [not] name %} ... {% else %} ... {% endif %}, {# comments #}.

    A tag or comment alone on its line takes the line with it. Unknown names
    and unbalanced tags are errors, so the template and this script cannot
    drift apart silently."""
    text = re.sub(r"^[ \t]*\{#.*?#\}[ \t]*\n", "", template, flags=re.S | re.M)
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    text = re.sub(r"^[ \t]*(\{%[^%]*%\})[ \t]*\n", r"\1", text, flags=re.M)

    def lookup(name):
        if name not in values:
            raise KeyError(f"performance.md.in uses {name!r}, which report.py does not define")
        return values[name]

    out = []
    stack = []  # per open if: [condition, in the else branch]
    pos = 0

    def emitting():
        return all(cond != in_else for cond, in_else in stack)

    for m in TOKEN.finditer(text):
        if emitting():
            out.append(text[pos:m.start()])
        pos = m.end()
        if m.group(4):
            if emitting():
                out.append(str(lookup(m.group(4))))
        elif m.group(3):
            cond = bool(lookup(m.group(3)))
            stack.append([not cond if m.group(2) else cond, False])
        elif m.group(1) == "else":
            if not stack or stack[-1][1]:
                raise ValueError("performance.md.in: {% else %} without {% if %}")
            stack[-1][1] = True
        else:
            if not stack:
                raise ValueError("performance.md.in: {% endif %} without {% if %}")
            stack.pop()
    if stack:
        raise ValueError("performance.md.in: an {% if %} is not closed")
    out.append(text[pos:])
    return "".join(out)


# ---- main ---------------------------------------------------------------------------

def pg_section(results_dir):
    """addrpool-pg's section (bench/report_pg.py, from pg.json)."""
    sys.path.insert(0, HERE)
    import report_pg  # noqa: E402  (a sibling module, found through HERE)
    return report_pg.section_text(results_dir)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default="bench/results")
    ap.add_argument("--doc", default="docs/performance.md")
    ap.add_argument("--img", default="docs/img")
    ap.add_argument("--template", default=os.path.join(HERE, "performance.md.in"))
    ap.add_argument("--no-plots", action="store_true", help="keep the existing plots")
    return ap.parse_args()


def main():
    args = parse_args()
    r = Results(os.path.join(args.results, "latest.json"))
    machine = load_json(os.path.join(args.results, "machine.json"))
    coldd = load_json(os.path.join(args.results, "cold_derivations.json"))
    cg = load_json(os.path.join(args.results, "callgrind.json"))

    nc = report_churn.collect(report_churn.load(args.results), cg, args.results)

    if args.no_plots:
        have = {p: os.path.exists(os.path.join(args.img, p)) for p in ("latency.png", "throughput.png", "churn.png")}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            drawn = plots(r, args.img, tmp)
            have = {"latency.png": drawn, "throughput.png": drawn, "churn.png": report_churn.plot(nc, args.img, tmp)}

    rd = Results(os.path.join(args.results, "derive.json"), missing_ok=True)
    n = collect(r, cg, rd)
    restore_results, restore_source = report_restore.results(r, rd, args.results, sys.modules[__name__])
    n["restore"] = report_restore.collect(restore_results)
    targets, verdicts = check_targets(n, lambda t: report_churn.check(t, nc))
    values = {
        "nproc": machine.get("nproc", r.context.get("num_cpus", "?")),
        "machine_table": machine_table(r, machine),
        "targets_table": targets,
        "latency_table": latency_table(n),
        "handout_table": handout_table(n),
        "throughput_table": throughput_table(n),
        "cold_table": cold_table(n),
        "derive_ahead_table": derive_ahead_table(n),
        "bulk_table": bulk_table(n),
        "derive_table": derive_table(n),
        "memory_table": memory_table(n),
        "have_latency_plot": have["latency.png"],
        "have_throughput_plot": have["throughput.png"],
    }
    values.update(section_values(r, n, coldd))
    values.update(report_restore.values(restore_results, restore_source, n["restore"], sys.modules[__name__]))
    values.update(explanation_values(r, n, coldd, verdicts))
    values["pg_section"] = pg_section(args.results)
    values.update(report_churn.values(nc, machine, have["churn.png"]))
    values.update(report_churn.explanation_values(nc, r.context))
    values.update(report_wallet.values(args.results))

    with open(args.template, encoding="utf-8") as f:
        doc = render(f.read(), values)
    os.makedirs(os.path.dirname(args.doc) or ".", exist_ok=True)
    with open(args.doc, "w", encoding="utf-8") as f:
        f.write(doc)
    drew = not args.no_plots and have["latency.png"]
    print(f"report.py: wrote {args.doc}" + (f" and {args.img}/*.png" if drew else ""))


if __name__ == "__main__":
    main()
