#!/usr/bin/env python3
"""docs/api.md may not drift from code that compiles.

Every ```c / ```cpp / ```rust block in docs/api.md must be either
  - preceded by `<!-- example: PATH -->` and equal, byte for byte, to that
    file (docs/examples/NAME, which meson builds and runs as a test, or
    bindings/rust/addrpool/examples/NAME.rs, which the rust-crates test
    runs), or
  - preceded by `<!-- illustration -->` (code that is not ours to compile,
    e.g. the "before" side of the migration guide).
Every file in docs/examples/ must be included somewhere.
Usage: check_api_docs.py <source root>
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
doc = root / "docs" / "api.md"
text = doc.read_text()
errors = []
included = set()
block = re.compile(r"(?P<marker><!-- (?P<kind>example|illustration)(?:: (?P<path>\S+))? -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)^```$",
                   re.S | re.M)
for m in block.finditer(text):
    line = text.count("\n", 0, m.start()) + 1
    lang, body = m.group("lang"), m.group("body")
    if lang not in ("c", "cpp", "rust"):
        continue
    if m.group("marker") is None:
        errors.append(f"api.md:{line}: a ```{lang} block without an example/illustration marker")
        continue
    if m.group("kind") == "illustration":
        continue
    path = root / m.group("path")
    if not path.is_file():
        errors.append(f"api.md:{line}: {m.group('path')} does not exist")
        continue
    included.add(path.resolve())
    if path.read_text() != body:
        errors.append(f"api.md:{line}: the block differs from {m.group('path')} (copy the file in verbatim)")
for f in sorted((root / "docs" / "examples").iterdir()):
    if f.suffix in (".c", ".cpp") and f.resolve() not in included:
        errors.append(f"docs/examples/{f.name} is not included in docs/api.md")
for e in errors:
    print(e, file=sys.stderr)
print("api.md: %d example(s) checked, %s" % (len(included), "FAIL" if errors else "in sync"))
sys.exit(1 if errors else 0)
