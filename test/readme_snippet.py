#!/usr/bin/env python3
"""Turns README.md's first ```cpp block into a program that checks it.

The README's "Use" sketch must compile against the real headers and do what
its comments say: `#include` / `using` lines go to file scope, the rest
becomes main()'s body, and `show_to_customer` is defined to compare what it
is shown with the address the README's comment on that line promises.
Usage: readme_snippet.py README.md OUT.cpp
"""
import re
import sys

readme, out = sys.argv[1], sys.argv[2]
text = open(readme, encoding="utf-8").read()
m = re.search(r"^```cpp\n(.*?)^```$", text, re.S | re.M)
if not m:
    sys.exit("readme_snippet.py: README.md has no ```cpp block")
top, body, expected = [], [], None
for line in m.group(1).splitlines():
    if line.startswith("#include") or line.startswith("using namespace"):
        top.append(line)
        continue
    if "show_to_customer(" in line:
        c = re.search(r"//\s*([1-9A-HJ-NP-Za-km-z]{25,40})\s*$", line)
        if c:
            expected = c.group(1)
    body.append("    " + line if line else "")
if expected is None:
    sys.exit("readme_snippet.py: no `show_to_customer(...)  // <address>` line in the README's sketch")

program = "\n".join(
    ["// Generated from README.md by test/readme_snippet.py; do not edit.",
     "#include <cstdio>",
     "#include <string>"]
    + top
    + ["",
       "static int shown = 0, wrong = 0;",
       "static void show_to_customer(const std::string& address) {",
       "    ++shown;",
       f'    if (address != "{expected}") {{',
       f'        std::fprintf(stderr, "README sketch showed %s, its comment says {expected}\\n", address.c_str());',
       "        ++wrong;",
       "    }",
       "}",
       "",
       "int main() {"]
    + body
    + ['    if (shown != 1) std::fprintf(stderr, "README sketch showed %d addresses, expected 1\\n", shown);',
       "    return shown == 1 && wrong == 0 ? 0 : 1;",
       "}",
       ""])
open(out, "w", encoding="utf-8").write(program)
