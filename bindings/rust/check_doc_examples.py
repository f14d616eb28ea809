#!/usr/bin/env python3
"""Every public item of the safe crate carries a doc example (a doc-test).

Scans bindings/rust/addrpool/src/*.rs for `pub fn|struct|enum|const|type|trait`
(not `pub(crate)`) and checks that the doc comment right above each (attributes
may sit in between) contains a ``` block, which `cargo test` runs as a
doc-test. rustdoc's own lint for this (missing_doc_code_examples) is
nightly-only.
Usage: check_doc_examples.py <bindings/rust dir>
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1]) / "addrpool" / "src"
item = re.compile(r"^\s*pub (?:fn|struct|enum|const|type|trait) (\w+)")
missing, checked = [], 0
for path in sorted(root.glob("*.rs")):
    lines = path.read_text().splitlines()
    for n, line in enumerate(lines):
        m = item.match(line)
        if not m:
            continue
        checked += 1
        doc = []
        k = n - 1
        while k >= 0 and (lines[k].strip().startswith("///") or lines[k].strip().startswith("#[")):
            doc.append(lines[k])
            k -= 1
        if not any("```" in d for d in doc):
            missing.append(f"{path.name}:{n + 1}: pub {m.group(1)} has no doc example")
for e in missing:
    print(e, file=sys.stderr)
print(f"doc examples: {checked} public items checked, {len(missing)} without an example")
sys.exit(1 if missing or checked < 40 else 0)
