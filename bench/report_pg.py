#!/usr/bin/env python3
"""docs/performance.md's section on addrpool-pg, from bench/results/pg.json.

bench/report.py calls section_text() for the {{pg_section}} of
bench/performance.md.in; run alone, this prints the section. Standard
library only.
"""
import argparse
import json
import os
import sys

TARGETS = {"throughput_32": 3.0, "throughput_1": 1.0, "p99_32": 1.0 / 3.0}


def _rate(v):
    return "n/a" if v is None else f"{v:,.0f}/s"


def _us(v):
    if v is None:
        return "n/a"
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} µs"


def _x(v):
    return "n/a" if v is None else f"{v:.2f}×"


def _median(values):
    v = sorted(values)
    if not v:
        return None
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def _series(data):
    out = {}
    for s in data.get("series", []):
        out[(s["design"], s["connections"])] = s
    return out


def section(results_dir):
    """The section's markdown lines (without the markers)."""
    path = os.path.join(results_dir, "pg.json")
    w = []
    w.append("## Shared pool through PostgreSQL (addrpool-pg)")
    w.append("")
    if not os.path.exists(path):
        w.append("Not measured yet: `make bench` runs `addrpool-pg-bench` (bench/pg_bench.cpp) when libpq is found.")
        return w
    with open(path) as f:
        data = json.load(f)
    series = _series(data)
    conns = sorted({c for (_, c) in series})
    w.append(
        "`pg::SharedPool` against the NBXplorer approach, both on one throwaway PostgreSQL server started for the "
        "run (`scripts/pg-cluster --durable`: fsync and synchronous_commit on, as in production), in the same "
        "process, on the same pre-derived addresses inserted anew for every repetition after a `VACUUM ANALYZE`; "
        "the two designs alternate which runs first. Each measurement is C client threads with one connection each "
        "(SharedPool: one object with `connections` = C) handing out in a closed loop for "
        f"{data.get('seconds', '?')} s after a warm-up; every hand-out is timed. Rates and latencies are medians of "
        f"{data.get('repetitions', '?')} repetitions (`bench/results/pg.json`); a ratio is the median of the "
        "ratios of the repetitions' back-to-back pairs."
    )
    w.append("")
    w.append(
        "- **addrpool-pg**: one statement per hand-out: `FOR UPDATE SKIP LOCKED` over the partial index of free "
        "rows, the reservation with a ticket from a sequence and the server's clock, one round trip, one commit."
    )
    w.append(
        "- **NBXplorer approach**: `SELECT … WHERE used IS FALSE ORDER BY idx LIMIT 1`, then `UPDATE … SET used = "
        "true WHERE … AND used IS FALSE`; when the UPDATE changed no row (another caller won) it starts over. Two "
        "round trips per attempt; every caller aims at the same row."
    )
    w.append(
        "- **in-process** `AddressPool` (reserve + release pairs, pre-derived, as many threads): the scale of a "
        "hand-out without a database."
    )
    w.append("")
    w.append(f"Server: {data.get('server', '?')}; fsync {data.get('fsync', '?')}, synchronous_commit "
             f"{data.get('synchronous_commit', '?')}. Load average before / after the run: "
             f"{data.get('loadavg_before', '?')} / {data.get('loadavg_after', '?')} (a shared 2-CPU machine: the "
             "server and every client thread share the same two CPUs).")
    w.append("")
    w.append("| connections | addrpool-pg | NBXplorer | ratio (ours / NBX) | addrpool-pg p50 / p99 | "
             "NBXplorer p50 / p99 | p99 ratio (NBX / ours) | NBX retries per hand-out | in-process |")
    w.append("|---|---|---|---|---|---|---|---|---|")
    ratios = {}
    for c in conns:
        ours = series.get(("addrpool-pg", c), {}).get("median", {})
        nbx = series.get(("nbxplorer", c), {}).get("median", {})
        local = series.get(("in-process", c), {}).get("median", {})
        # Ratios of the repetitions' pairs (run back to back), then their
        # median: the machine's load drifts less within a pair than across
        # the run.
        pairs = list(zip(series.get(("addrpool-pg", c), {}).get("repetitions", []),
                         series.get(("nbxplorer", c), {}).get("repetitions", [])))
        r = _median([a["per_s"] / b["per_s"] for a, b in pairs if a.get("per_s") and b.get("per_s")])
        p = _median([b["p99_us"] / a["p99_us"] for a, b in pairs if a.get("p99_us") and b.get("p99_us")])
        ratios[c] = (r, p, ours, nbx)
        w.append(f"| {c} | {_rate(ours.get('per_s'))} | {_rate(nbx.get('per_s'))} | {_x(r)} | "
                 f"{_us(ours.get('p50_us'))} / {_us(ours.get('p99_us'))} | "
                 f"{_us(nbx.get('p50_us'))} / {_us(nbx.get('p99_us'))} | {_x(p)} | "
                 f"{nbx.get('retries_per_handout', 0):.2f} | {_rate(local.get('per_s'))} |")
    w.append("")
    w.append("| target | measured | status |")
    w.append("|---|---|---|")

    def status(ok):
        return "n/a" if ok is None else ("met" if ok else "**missed**")

    r32 = ratios.get(32, (None, None, {}, {}))
    r1 = ratios.get(1, (None, None, {}, {}))
    ok32 = None if r32[0] is None else r32[0] >= TARGETS["throughput_32"]
    ok1 = None if r1[0] is None else r1[0] >= TARGETS["throughput_1"]
    okp = None if r32[1] is None else r32[1] >= 1 / TARGETS["p99_32"]
    w.append(f"| 32 connections: ≥ 3× the NBXplorer approach's hand-outs per second | {_x(r32[0])} | {status(ok32)} |")
    w.append(f"| 1 connection: ≥ 1.0× | {_x(r1[0])} | {status(ok1)} |")
    w.append(f"| 32 connections: p99 ≤ one third of the NBXplorer approach's (p99 ratio ≥ 3×) | "
             f"{_us(r32[2].get('p99_us'))} vs {_us(r32[3].get('p99_us'))} ({_x(r32[1])}) | {status(okp)} |")
    w.append("")
    w.append(
        "Why the gap grows with connections: with the NBXplorer approach every caller selects the same lowest "
        "unused row; one UPDATE wins, the others wait for its row lock until it commits, find `used` already true, "
        "and start over, so hand-outs leave one at a time per commit (the retries column counts the lost UPDATEs). "
        "SKIP LOCKED sends each concurrent hand-out to the next free row instead, so C hand-outs commit together "
        "(one WAL flush for many, group commit). At 1 connection nothing competes: the difference is one round "
        "trip and one statement against two, under a commit flush that dominates both."
    )
    one = list(zip(series.get(("addrpool-pg", 1), {}).get("repetitions", []),
                   series.get(("nbxplorer", 1), {}).get("repetitions", [])))
    one = sorted(a["per_s"] / b["per_s"] for a, b in one if a.get("per_s") and b.get("per_s"))
    if one:
        w.append("")
        w.append(f"At 1 connection the repetitions' ratios ran from {one[0]:.2f}× to {one[-1]:.2f}×: both designs "
                 "wait for one WAL flush per hand-out, which dominates, so the 1.0× target is decided by a few "
                 "percent (addrpool-pg saves the SELECT's round trip, and spends it on a heavier row: the reserved "
                 "index, the ticket, the row lock of SKIP LOCKED). A run can land on either side; the table shows "
                 "this run's.")
    missed = [name for name, ok in (("32 connections throughput", ok32), ("1 connection throughput", ok1),
                                     ("32 connections p99", okp)) if ok is False]
    if missed:
        w.append("")
        w.append(
            "**Missed in this run: " + ", ".join(missed) + ".** The machine is a shared 2-CPU virtual machine; the "
            "server, both clients and other engineers' builds compete for the same two CPUs and one disk, and each "
            "hand-out waits for a WAL flush (fsync on). At 1 connection both designs are bound by that flush, so "
            "their ratio sits near 1.0 and the noise of the flush decides its side; see the repetitions in "
            "`bench/results/pg.json`."
        )
    return w


def section_text(results_dir):
    """The section as one string (the template's {{pg_section}})."""
    return "\n".join(section(results_dir))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", default="bench/results")
    args = ap.parse_args()
    print(section_text(args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
