"""The churn and streaming part of docs/performance.md (issue 11).

bench/report.py calls into this module; it reads bench/results/churn.json
(the churn/ and stream/ families, written by bench/run.sh's second run),
the churn and hand-out entries of callgrind.json and the per-function
instruction listings callgrind_<mode>.txt, and returns tables, target rows,
template values and the churn plot. Standard library only.
"""
import os
import re

from report import Results, fmt_ns, fmt_rate, fmt_x, gnuplot, ratio, table

CHURN_N = [1000, 10000, 100000]
THREADS = [1, 2, 8]
# (key in the results, label): addrpool and its lock baselines, (f) for
# churn and (c) for streaming, each with steady_clock (the verdicts' baseline:
# a wallet behind a mutex reads it) and with the pool's coarse clock.
CHURN_DESIGNS = [("addrpool", "addrpool"), ("mutex_heap", "(f) steady"), ("mutex_heap_coarse", "(f) coarse")]
STREAM_DESIGNS = [("addrpool", "addrpool"), ("mutex_cursor", "(c) steady"), ("mutex_cursor_coarse", "(c) coarse")]
CHURN_TARGET = 1.0
SCALING_TARGET = 2.0
STREAM_TARGETS = {1: 0.67, 2: 1.0, 8: 1.0}
INSTRUCTION_TARGET = 250


# ---- reading --------------------------------------------------------------------

def load(results_dir):
    """The churn/stream results, or None when churn.json is missing."""
    path = os.path.join(results_dir, "churn.json")
    return Results(path) if os.path.exists(path) else None


def collect(cr, cg, results_dir):
    """Every median the churn sections use."""
    def bench(family, key, args):
        return cr.find(rf"{family}/{key}/{args}/iterations:\d+/manual_time") if cr else None

    def counters(b, names):
        return {k: (b.get(k) if b else None) for k in names}

    def per_op(mode):
        e = cg.get(mode)
        return e["instructions"] / e["count"] if e and e.get("count") and e.get("instructions") else None

    churn_fields = ("ns_per_step", "ns_per_step_per_thread", "cpu_ns_per_step", "items_per_second", "highest_index",
                    "steps_per_run")
    stream_fields = ("ns_per_handout", "ns_per_handout_per_thread", "cpu_ns_per_handout", "items_per_second",
                     "handouts_per_run")
    n = {
        "have": cr is not None,
        "churn": {(k, m, w): counters(bench("churn", k, f"n:{m}/threads:{w}"), churn_fields)
                  for k, _ in CHURN_DESIGNS for m in CHURN_N for w in THREADS},
        # (g): the harness around a design that does next to nothing (one thread).
        "floor": {m: counters(bench("churn", "floor", f"n:{m}/threads:1"), churn_fields) for m in CHURN_N},
        "stream": {(k, w): counters(bench("stream", k, f"threads:{w}"), stream_fields)
                   for k, _ in STREAM_DESIGNS for w in THREADS},
        "errors": sorted(set(f"{name}: {msg}" for name, msg in (cr.errors.items() if cr else []))),
        "runs": sum(1 for name in (cr.median if cr else {}) if name.startswith(("churn/", "stream/"))),
        "cg": {mode: per_op(mode) for mode in (
            "handout", "handout_mutex_cursor", "handout_mutex_cursor_coarse",
            "churn_step_n1000", "churn_step_mutex_heap_n1000", "churn_step_mutex_heap_coarse_n1000",
            "churn_step_n100000", "churn_step_mutex_heap_n100000", "churn_step_mutex_heap_coarse_n100000")},
        "profile": {mode: read_annotate(os.path.join(results_dir, f"callgrind_{mode}.txt"), cg.get(mode, {}).get("count"))
                    for mode in ("handout", "churn_step_n1000", "churn_step_n100000")},
    }
    return n


# ---- callgrind_annotate listings ------------------------------------------------

FUNC_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+([^:\s][^:]*):(.*?)(?:\s+\[[^\]]*\])?\s*$")
SOURCE_HEADER = re.compile(r"^-- Auto-annotated source: (.*)$")
SOURCE_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s{2}(.*)$")
LINE_MARK = re.compile(r"^-- line (\d+) -+$")
CALL_LINE = re.compile(r"^\s*(?:[\d,]+\s+\([^)]*\)\s+)?=>")


def short_function(f):
    """'void addrpool::detail::free_index::clear_up<…>(…)' -> 'free_index::clear_up'."""
    f = f.strip()
    depth, head = 0, f
    for pos, ch in enumerate(f):  # the name ends at the first top-level parameter list
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "(" and depth == 0:
            head = f[:pos]
            break
    depth, out = 0, []
    for ch in head:  # drop template arguments
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    words = "".join(out).split()
    name = words[-1] if words else f
    for prefix in ("addrpool::detail::", "addrpool::bench::", "addrpool::"):
        name = name.replace(prefix, "")
    return name.split("@@")[0]


def read_annotate(path, count):
    """Instructions per operation by function (self cost, inlined code
    included) and by source file, with each file's costliest lines."""
    if not count or not os.path.exists(path):
        return None
    by_function, by_file, lines = {}, {}, {}
    section, current_file, line_no = "head", None, None
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            raw = raw.rstrip("\n")
            if raw.startswith("Ir") and "file:function" in raw:
                section = "functions"
                continue
            m = SOURCE_HEADER.match(raw)
            if m:
                section, current_file, line_no = "source", os.path.basename(m.group(1)), None
                continue
            if section == "functions":
                m = FUNC_LINE.match(raw)
                if m:
                    ir = int(m.group(1).replace(",", "")) / count
                    fn = short_function(m.group(3))
                    by_function[fn] = by_function.get(fn, 0) + ir
                    base = os.path.basename(m.group(2))
                    by_file[base] = by_file.get(base, 0) + ir
            elif section == "source":
                # Chunks of source lines between "-- line N --" markers (an
                # opening and a closing one each); call lines start with "=>".
                m = LINE_MARK.match(raw)
                if m:
                    line_no = int(m.group(1)) if line_no is None else None
                    continue
                if line_no is None or CALL_LINE.match(raw):
                    continue
                m = SOURCE_LINE.match(raw)
                if m and m.group(2).strip() == "events annotated":
                    break
                if m:
                    lines.setdefault(current_file, []).append(
                        (int(m.group(1).replace(",", "")) / count, line_no, m.group(2).strip()))
                if m or raw.lstrip().startswith("."):
                    line_no += 1
    for v in lines.values():
        v.sort(key=lambda t: -t[0])
    return {"functions": by_function, "files": by_file, "lines": lines}


def profile_tables(n):
    """The hand-out by source file, the churn step by function."""
    ho = n["profile"]["handout"]
    c1, c2 = n["profile"]["churn_step_n1000"], n["profile"]["churn_step_n100000"]
    out = {}
    if ho:
        rows = []
        for f, ir in sorted(ho["files"].items(), key=lambda t: -t[1])[:12]:
            top = ho["lines"].get(f, [])[:1]
            where = f"{top[0][1]}: `{shorten(top[0][2])}` ({top[0][0]:.0f})" if top else ""
            rows.append([f"`{f}`", f"{ir:.0f}", where])
        out["handout_profile_table"] = table(["source file (inlined code counted where written)",
                                              "instructions per hand-out", "costliest line (instructions)"], rows)
    if c1:
        names = sorted(set(c1["functions"]) | set((c2 or {}).get("functions", {})),
                       key=lambda k: -(c1["functions"].get(k, 0) + (c2 or {}).get("functions", {}).get(k, 0)))
        rows = [[f"`{k}`", f"{c1['functions'].get(k, 0):.0f}",
                 f"{c2['functions'].get(k, 0):.0f}" if c2 else "n/a"] for k in names[:14]]
        out["churn_profile_table"] = table(["function (self, with what is inlined into it)", "N = 1,000", "N = 100,000"],
                                           rows)
    return out


def shorten(code, width=70):
    code = re.sub(r"\s*//.*$", "", code)
    return code if len(code) <= width else code[:width - 1] + "…"


# ---- tables ---------------------------------------------------------------------

def churn_rows(n):
    c = n["churn"]
    rows = []
    for m in CHURN_N:
        for w in THREADS:
            a, s, k = c[("addrpool", m, w)], c[("mutex_heap", m, w)], c[("mutex_heap_coarse", m, w)]
            rows.append([f"{m:,}", str(w),
                         fmt_ns(a["ns_per_step_per_thread"]), fmt_ns(s["ns_per_step_per_thread"]),
                         fmt_ns(k["ns_per_step_per_thread"]),
                         fmt_rate(a["items_per_second"]), fmt_rate(s["items_per_second"]),
                         fmt_x(ratio(s["ns_per_step"], a["ns_per_step"])), fmt_x(ratio(k["ns_per_step"], a["ns_per_step"])),
                         " / ".join(fmt_ns(x["cpu_ns_per_step"]) for x in (a, s, k))])
    return table(["N", "W", "addrpool ns/step per thread", "(f) steady", "(f) coarse", "addrpool steps/s",
                  "(f) steady steps/s", "addrpool vs (f) steady", "addrpool vs (f) coarse",
                  "CPU ns/step: addrpool / (f) steady / (f) coarse"], rows)


def scaling_rows(n):
    c = n["churn"]
    rows = []
    for w in THREADS:
        row = [str(w)]
        for k, _ in CHURN_DESIGNS:
            lo, hi = c[(k, 1000, w)]["ns_per_step"], c[(k, 100000, w)]["ns_per_step"]
            row += [fmt_ns(lo), fmt_ns(hi), fmt_x(ratio(hi, lo))]
        rows.append(row)
    header = ["W"]
    for _, label in CHURN_DESIGNS:
        header += [f"{label} N = 1k", f"{label} N = 100k", f"{label} 100k / 1k"]
    return table(header, rows)


def floor_note(n):
    """One sentence on (g), the floor, beside addrpool and (f) at W = 1."""
    f = n["floor"]
    if any(f[m]["ns_per_step"] is None for m in CHURN_N):
        return "(g), the floor, was not measured in this run."
    c = n["churn"]
    def per_n(key):
        return " / ".join(fmt_ns(key(m)) for m in CHURN_N)
    fg = ratio(f[100000]["ns_per_step"], f[1000]["ns_per_step"])
    return ("(g), the floor — the same harness, one thread, around a design with no lock, no clock and no state word "
            "(a stack of released indices and a copy of the index's address) — took "
            f"{per_n(lambda m: f[m]['ns_per_step'])} per step at N = 1k / 10k / 100k in this run "
            f"(100k / 1k {fmt_x(fg)}; growth {fmt_ns(f[100000]['ns_per_step'] - f[1000]['ns_per_step'])}), "
            f"against addrpool's {per_n(lambda m: c[('addrpool', m, 1)]['ns_per_step'])} "
            f"and (f) steady's {per_n(lambda m: c[('mutex_heap', m, 1)]['ns_per_step'])} at W = 1.")


def stream_rows(n):
    s = n["stream"]
    rows = []
    for w in THREADS:
        a, c, k = s[("addrpool", w)], s[("mutex_cursor", w)], s[("mutex_cursor_coarse", w)]
        rows.append([str(w), fmt_ns(a["ns_per_handout"]), fmt_ns(c["ns_per_handout"]), fmt_ns(k["ns_per_handout"]),
                     fmt_rate(a["items_per_second"]),
                     fmt_x(ratio(c["ns_per_handout"], a["ns_per_handout"])),
                     fmt_x(ratio(k["ns_per_handout"], a["ns_per_handout"])),
                     " / ".join(fmt_ns(x["cpu_ns_per_handout"]) for x in (a, c, k))])
    return table(["W", "addrpool ns/hand-out", "(c) steady", "(c) coarse", "addrpool hand-outs/s",
                  "addrpool vs (c) steady", "addrpool vs (c) coarse",
                  "CPU ns/hand-out: addrpool / (c) steady / (c) coarse"], rows)


def instruction_rows(n):
    cg = n["cg"]
    def cell(v):
        return "n/a" if v is None else f"{v:.0f}"
    rows = [["streaming hand-out", cell(cg["handout"]), cell(cg["handout_mutex_cursor"]),
             cell(cg["handout_mutex_cursor_coarse"])]]
    for m in (1000, 100000):
        rows.append([f"churn step, N = {m:,}", cell(cg[f"churn_step_n{m}"]), cell(cg[f"churn_step_mutex_heap_n{m}"]),
                     cell(cg[f"churn_step_mutex_heap_coarse_n{m}"])])
    return table(["operation", "addrpool", "lock baseline, steady_clock", "lock baseline, coarse clock"], rows)


# ---- targets --------------------------------------------------------------------

def check(targets, n):
    """Adds the churn and streaming rows to the report's Targets; returns the verdicts."""
    c, s, cg = n["churn"], n["stream"], n["cg"]
    v = {}
    ratios = {(m, w): ratio(c[("mutex_heap", m, w)]["ns_per_step"], c[("addrpool", m, w)]["ns_per_step"])
              for m in CHURN_N for w in THREADS}
    known = {k: r for k, r in ratios.items() if r is not None}
    if known:
        met = sum(1 for r in known.values() if r >= CHURN_TARGET)
        (lm, lw), low = min(known.items(), key=lambda t: t[1])
        measured = f"met at {met} of {len(known)} (N, W); lowest {fmt_x(low)} at N = {lm:,}, W = {lw}"
        ok = met == len(known) and len(known) == len(ratios)
        v["churn_ok"] = targets.add("churn: ≥ 1.0× (f) mutex + min-heap (steady_clock) at every N and W", measured, ok,
                                    "" if ok else f"({len(ratios) - met} configurations below 1.0×)")
    else:
        v["churn_ok"] = targets.add("churn: ≥ 1.0× (f) mutex + min-heap (steady_clock) at every N and W", "n/a", None)
    growth = {w: ratio(c[("addrpool", 100000, w)]["ns_per_step"], c[("addrpool", 1000, w)]["ns_per_step"])
              for w in THREADS}
    g = {w: r for w, r in growth.items() if r is not None}
    if g:
        worst_w = max(g, key=g.get)
        ok = len(g) == len(THREADS) and all(r <= SCALING_TARGET for r in g.values())
        v["scaling_ok"] = targets.add(
            "churn: cost per step at N = 100,000 within 2× of N = 1,000 (each W)",
            ", ".join(f"W={w}: {fmt_x(r)}" for w, r in sorted(g.items())), ok,
            "" if ok else f"(worst W = {worst_w}: {fmt_x(g[worst_w])})")
    else:
        v["scaling_ok"] = targets.add("churn: cost per step at N = 100,000 within 2× of N = 1,000 (each W)", "n/a", None)
    violations = [e for e in n["errors"] if "VIOLATION" in e]
    v["violations_ok"] = targets.add(
        "churn and streaming: zero ownership violations",
        f"{len(violations)} in {n['runs']} configurations" if n["have"] else "n/a",
        None if not n["have"] else not violations, "" if not violations else f"({violations[0][:120]})")
    v["stream_ok"] = True
    for w, want in STREAM_TARGETS.items():
        r = ratio(s[("mutex_cursor", w)]["ns_per_handout"], s[("addrpool", w)]["ns_per_handout"])
        rk = ratio(s[("mutex_cursor_coarse", w)]["ns_per_handout"], s[("addrpool", w)]["ns_per_handout"])
        ok = targets.add(f"streaming, {w} thread{'s' if w > 1 else ''}: ≥ {want:.2f}× (c) mutex + cursor (steady_clock)",
                         f"{fmt_x(r)} ({fmt_x(rk)} against (c) with the coarse clock)",
                         None if r is None else r >= want,
                         "" if r is None else f"({r / want:.2f} of the target)")
        v["stream_ok"] = v["stream_ok"] and ok is not False
    ins = cg["handout"]
    v["instructions_ok"] = targets.add(f"streaming: ≤ {INSTRUCTION_TARGET} instructions per hand-out (callgrind)",
                                       "n/a" if ins is None else f"{ins:.0f}",
                                       None if ins is None else ins <= INSTRUCTION_TARGET,
                                       "" if ins is None else f"(by {ins - INSTRUCTION_TARGET:.0f})")
    v["missed_churn"] = v["churn_ok"] is False
    v["missed_scaling"] = v["scaling_ok"] is False
    v["missed_stream"] = not v["stream_ok"] or v["instructions_ok"] is False
    v["churn_violations"] = v["violations_ok"] is False
    return v


# ---- the plot -------------------------------------------------------------------

def plot(n, img_dir, tmp):
    """churn.png: ns per step against N, per design and W. True when drawn."""
    if not n["have"]:
        return False
    dat = os.path.join(tmp, "churn.dat")
    cols = []
    with open(dat, "w") as f:
        for pos, m in enumerate(CHURN_N):
            row = [str(pos)]
            for k, _ in CHURN_DESIGNS:
                for w in THREADS:
                    v = n["churn"][(k, m, w)]["ns_per_step"]
                    row.append("NaN" if v is None else f"{v:.6g}")
            f.write(" ".join(row) + "\n")
    col = 2
    for d, (_, label) in enumerate(CHURN_DESIGNS):
        for t, w in enumerate(THREADS):
            cols.append(f"'{dat}' using 1:{col} with linespoints lw 2 dt {d + 1} lc {t + 1} pt {d + 5} "
                        f"title '{label}, W = {w}'")
            col += 1
    script = f"""
set terminal pngcairo size 900,540 font 'DejaVu Sans,11'
set output '{os.path.abspath(os.path.join(img_dir, 'churn.png'))}'
set title 'Churn: release a random reservation + take a new one (wall time per step, all threads)'
set xlabel 'reservations outstanding'
set ylabel 'ns per step (log)'
set logscale y
set xtics ('1k' 0, '10k' 1, '100k' 2)
set xrange [-0.2:2.2]
set format y '%g'
set key outside right
set grid
plot {', '.join(cols)}
"""
    os.makedirs(img_dir, exist_ok=True)
    return gnuplot(script, img_dir)


# ---- template values ------------------------------------------------------------

def values(n, machine, have_plot):
    v = {"have_churn": n["have"], "have_churn_plot": have_plot and n["have"]}
    steps = n["churn"][("addrpool", 1000, 1)]["steps_per_run"]
    handouts = n["stream"][("addrpool", 1)]["handouts_per_run"]
    v["churn_steps"] = f"{steps:,.0f}" if steps else "n/a"
    v["stream_handouts"] = f"{handouts:,.0f}" if handouts else "B"
    if not n["have"]:
        return {**v, "churn_table": "", "scaling_table": "", "stream_table": "", "instruction_table": "",
                "handout_profile_table": "", "churn_profile_table": "", "have_handout_profile": False,
                "have_churn_instructions": False,
                "have_churn_profile": False, "churn_load": "", "churn_errors": "", "have_churn_errors": False,
                "floor_note": "",
                "highest_index_note": ""}
    v["churn_table"] = churn_rows(n)
    v["scaling_table"] = scaling_rows(n)
    v["floor_note"] = floor_note(n)
    v["stream_table"] = stream_rows(n)
    v["instruction_table"] = instruction_rows(n)
    v["have_churn_instructions"] = any(x is not None for x in n["cg"].values())
    prof = profile_tables(n)
    v["have_handout_profile"] = "handout_profile_table" in prof
    v["have_churn_profile"] = "churn_profile_table" in prof
    v["handout_profile_table"] = prof.get("handout_profile_table", "")
    v["churn_profile_table"] = prof.get("churn_profile_table", "")
    before, after = machine.get("churn_loadavg_before"), machine.get("churn_loadavg_after")
    v["churn_load"] = (" ".join(before) + " / " + " ".join(after)) if before and after else "not recorded"
    v["have_churn_errors"] = bool(n["errors"])
    v["churn_errors"] = "; ".join(n["errors"])
    creep = [(m, w, n["churn"][("addrpool", m, w)]["highest_index"]) for m in CHURN_N for w in THREADS]
    creep = [(m, w, h) for m, w, h in creep if h is not None and h > m - 1]
    v["highest_index_note"] = ("; ".join(f"N = {m:,}, W = {w}: {h:,.0f}" for m, w, h in creep)
                               if creep else "none above N − 1")
    return v


def explanation_values(n, context):
    """Numbers the missed-target explanations quote. context: Google Benchmark's."""
    c, cg = n["churn"], n["cg"]
    v = {}
    l2 = [x.get("size") for x in context.get("caches", []) if x.get("level") == 2 and x.get("type") == "Unified"]
    v["l2_cache"] = f"{l2[0] // 1024:,} KiB" if l2 and l2[0] else "unknown"
    a1, s1, k1 = (c[(k, 1000, 1)]["cpu_ns_per_step"] for k in ("addrpool", "mutex_heap", "mutex_heap_coarse"))
    v["churn_cpu_addrpool_1k"], v["churn_cpu_heap_1k"], v["churn_cpu_heap_coarse_1k"] = fmt_ns(a1), fmt_ns(s1), fmt_ns(k1)
    def ins(key):
        x = cg.get(key)
        return "n/a" if x is None else f"{x:.0f}"
    v["churn_ins_1k"], v["churn_ins_heap_1k"] = ins("churn_step_n1000"), ins("churn_step_mutex_heap_n1000")
    v["churn_ins_100k"], v["churn_ins_heap_100k"] = ins("churn_step_n100000"), ins("churn_step_mutex_heap_n100000")
    hg = {w: ratio(c[("mutex_heap", 100000, w)]["ns_per_step"], c[("mutex_heap", 1000, w)]["ns_per_step"])
          for w in THREADS}
    ag = {w: ratio(c[("addrpool", 100000, w)]["ns_per_step"], c[("addrpool", 1000, w)]["ns_per_step"])
          for w in THREADS}
    v["scaling_pairs"] = ", ".join(f"W = {w}: addrpool {fmt_x(ag[w])}, (f) {fmt_x(hg[w])}" for w in THREADS)
    cpu_a = ratio(c[("addrpool", 100000, 1)]["cpu_ns_per_step"], c[("addrpool", 1000, 1)]["cpu_ns_per_step"])
    v["scaling_cpu_1"] = fmt_x(cpu_a)
    growth = ratio(cg.get("churn_step_n100000"), cg.get("churn_step_n1000"))
    v["ins_growth"] = fmt_x(growth)
    # Memory rather than work: the time grows at least twice as much as the instructions.
    v["scaling_is_memory"] = growth is not None and cpu_a is not None and cpu_a >= 2 * growth
    v["handout_ins"], v["cursor_ins"], v["cursor_coarse_ins"] = ins("handout"), ins("handout_mutex_cursor"), ins(
        "handout_mutex_cursor_coarse")
    prof = n["profile"]["churn_step_n1000"]
    top = sorted(prof["functions"].items(), key=lambda t: -t[1])[:4] if prof else []
    v["churn_top_functions"] = ", ".join(f"`{k}` {x:.0f}" for k, x in top) if top else "n/a"
    return v
