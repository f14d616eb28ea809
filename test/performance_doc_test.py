#!/usr/bin/env python3
"""docs/performance.md is what bench/report.py makes of bench/results/ and
bench/performance.md.in, and every branch of the template renders.

1. Regenerates the document from the committed results (keeping the
   committed plots) and requires it to equal docs/performance.md, so the
   template, the script and the document cannot drift apart; and "None in
   this run." must appear exactly when no target is reported missed.
2. Renders doctored results in which addrpool misses its targets against
   (c), the cold pool duplicates derivations, the churn and streaming runs
   miss theirs and one churn run reports an ownership violation, and the
   restore benchmarks' multi-threaded runs are made as slow as the
   single-threaded ones, and the paired derivation ratio is halved: the explanations of those misses must appear,
   "None in this run." must not.
3. Renders without callgrind.json, cold_derivations.json and churn.json,
   and without any restore benchmark (in none of latest.json, derive.json,
   restore.json): the sections that need them must be left out, not fail.
Usage: performance_doc_test.py <source root>
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

root = pathlib.Path(sys.argv[1]).resolve()
report = root / "bench" / "report.py"
committed = root / "bench" / "results"
failures = []


def run(results, doc):
    done = subprocess.run([sys.executable, str(report), "--results", str(results), "--doc", str(doc),
                           "--img", str(root / "docs" / "img"), "--no-plots"], capture_output=True, text=True)
    if done.returncode != 0:
        failures.append(f"report.py failed on {results}:\n{done.stderr}")
        return ""
    return doc.read_text(encoding="utf-8")


def expect(cond, what):
    if not cond:
        failures.append(what)


RESTORE_FILES = ("latest.json", "derive.json", "restore.json")


def slow_restore(results):
    """The restore benchmarks on every thread made as slow as on one."""
    for name in RESTORE_FILES:
        path = results / name
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        one = {b["name"].replace("derive_threads:1", "derive_threads:0"): b["real_time"]
               for b in data["benchmarks"] if b["name"].startswith("restore/") and "derive_threads:1" in b["name"]}
        for b in data["benchmarks"]:
            if b["name"] in one:
                b["real_time"] = one[b["name"]]
        path.write_text(json.dumps(data))


def without_restore(results):
    """No restore benchmark anywhere."""
    for name in RESTORE_FILES:
        path = results / name
        if name == "restore.json":
            path.unlink(missing_ok=True)
        elif path.exists():
            data = json.loads(path.read_text())
            data["benchmarks"] = [b for b in data["benchmarks"] if not b["name"].startswith("restore/")]
            path.write_text(json.dumps(data))


with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)

    # 1. The committed document is the committed results, rendered.
    regenerated = run(committed, tmp / "regenerated.md")
    expect(regenerated == (root / "docs" / "performance.md").read_text(encoding="utf-8"),
           "docs/performance.md differs from bench/report.py's output for bench/results/ "
           "(run: python3 bench/report.py --no-plots)")
    expect(("None in this run." in regenerated) == ("**missed**" not in regenerated),
           "'None in this run.' must appear exactly when no target is missed")

    # 2. Missed targets: addrpool's throughput cut to a tenth, and twice the derivations.
    missed = tmp / "missed"
    shutil.copytree(committed, missed)
    latest = json.loads((missed / "latest.json").read_text())
    for b in latest["benchmarks"]:
        if b["name"].startswith("throughput/addrpool/") and "items_per_second" in b:
            b["items_per_second"] /= 10
    (missed / "latest.json").write_text(json.dumps(latest))
    (missed / "cold_derivations.json").write_text(json.dumps(
        {"1": {"handouts": 4000, "derivations": 4001}, "2": {"handouts": 4000, "derivations": 8000}}))
    # The cold target must be missed too: the wallet lock made 100x faster.
    for b in latest["benchmarks"]:
        if b["name"].startswith("cold/wallet_lock/") and "items_per_second" in b:
            b["items_per_second"] *= 100
    (missed / "latest.json").write_text(json.dumps(latest))
    # Churn and streaming: addrpool ten times slower, and one violation.
    churn = json.loads((missed / "churn.json").read_text())
    for b in churn["benchmarks"]:
        if b["name"].startswith(("churn/addrpool/", "stream/addrpool/")):
            for k in ("ns_per_step", "ns_per_step_per_thread", "ns_per_handout", "ns_per_handout_per_thread"):
                if k in b:
                    b[k] *= 10
    churn["benchmarks"].append({"name": "churn/mutex_heap/n:1000/threads:2/iterations:16/manual_time",
                                "run_name": "churn/mutex_heap/n:1000/threads:2/iterations:16/manual_time",
                                "error_occurred": True, "error_message": "OWNERSHIP VIOLATION: doctored"})
    (missed / "churn.json").write_text(json.dumps(churn))
    slow_restore(missed)
    # The paired derivation ratio halved: it decides the key-wallet target.
    derive = json.loads((missed / "derive.json").read_text())
    for b in derive["benchmarks"]:
        if b["name"].startswith("derive/paired") and "ratio" in b:
            b["ratio"] /= 2
    (missed / "derive.json").write_text(json.dumps(derive))
    text = run(missed, tmp / "missed.md")
    expect("**missed**" in text, "doctored results: no target reported missed")
    expect("**Restore speed.**" in text and "**Missed.** Speed-up 1.00× and 1.00×" in text,
           "doctored results: the restore-speed explanation is missing")
    expect("a miss there is the routes' own cost" in text,
           "doctored results: a missed paired ratio is explained as noise")
    expect("**Derivation against the key-wallet private path.**" in text and
           re.search(r"\| derivation: ≥ 3\.5× the key-wallet private path \| [0-9.]+× paired \(.*\| \*\*missed\*\*", text),
           "doctored results: a halved paired derivation ratio is not reported missed")
    expect("**Against (c) mutex + cursor.**" in text, "doctored results: the (c) explanation is missing")
    expect("**Cold pool vs (d).**" in text, "doctored results: the cold-pool explanation is missing")
    expect("EC work was duplicated" in text, "doctored results: 2.00 derivations per hand-out not explained")
    expect("**Churn vs (f) mutex + min-heap.**" in text, "doctored results: the churn explanation is missing")
    expect("**Streaming vs (c) mutex + cursor.**" in text, "doctored results: the streaming explanation is missing")
    expect("**Ownership violations**" in text, "doctored results: the ownership violation is not reported")
    expect("None in this run." not in text, "doctored results: 'None in this run.' despite missed targets")
    expect("{{" not in text and "{%" not in text and "{#" not in text, "doctored results: template syntax left over")

    # 3. Optional inputs missing.
    sparse = tmp / "sparse"
    shutil.copytree(committed, sparse)
    (sparse / "callgrind.json").unlink()
    (sparse / "cold_derivations.json").unlink()
    (sparse / "churn.json").unlink()
    for f in sparse.glob("callgrind_*.txt"):
        f.unlink()
    without_restore(sparse)
    text = run(sparse, tmp / "sparse.md")
    expect("holds no restore benchmarks" in text, "sparse results: the restore section claims numbers")
    expect(text.startswith("# Performance"), "sparse results: no document")
    expect("Instructions (callgrind" not in text, "sparse results: callgrind numbers without callgrind.json")
    expect("Derivations per addrpool cold hand-out" not in text, "sparse results: derivation counts without their file")
    expect("Not measured in this run (no `bench/results/churn.json`" in text, "sparse results: churn section not marked")

for f in failures:
    print("FAIL:", f)
print(f"performance_doc_test: {len(failures)} failures")
sys.exit(1 if failures else 0)
