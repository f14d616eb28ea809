#!/bin/sh
# addrpool as a meson subproject: an outside project with
# subprojects/addrpool (a link to this source tree) gets the library through
# dependency('addrpool'), which must be the subproject's
# meson.override_dependency. Configured with -Daddrpool:tests=false
# -Daddrpool:benchmarks=false, the subproject must not look for Catch2 or
# Google Benchmark, nor define any test-only target. The consumer builds only
# what it needs (the library and its program) and runs a hand-out.
#   test/subproject_test.sh <source root>
set -eu
src=$(cd "$1" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/addrpool-subproject.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

say() { printf 'subproject test: %s\n' "$*"; }
die() { printf 'subproject test: FAIL: %s\n' "$*" >&2; exit 1; }

mkdir -p "$tmp/consumer/subprojects"
ln -s "$src" "$tmp/consumer/subprojects/addrpool"
cp "$src/docs/examples/quickstart.cpp" "$tmp/consumer/"
cat >"$tmp/consumer/meson.build" <<'EOF_MESON'
project('consumer', 'cpp', default_options : ['cpp_std=c++20'])
subproject('addrpool')
addrpool_dep = dependency('addrpool')
assert(addrpool_dep.type_name() == 'internal',
  'dependency(\'addrpool\') is not the subproject\'s meson.override_dependency')
executable('quickstart', 'quickstart.cpp', dependencies : addrpool_dep)
EOF_MESON

# plain: no optimization or debug info, the fastest build of the library.
meson setup "$tmp/build" "$tmp/consumer" --buildtype=plain \
    -Daddrpool:tests=false -Daddrpool:benchmarks=false >"$tmp/setup.log" 2>&1 ||
    { cat "$tmp/setup.log" >&2; die "meson setup of the consumer failed"; }

# Nothing test-only was looked up or defined.
if grep -qi 'dependency catch2\|dependency benchmark' "$tmp/setup.log"; then
    grep -i 'dependency catch2\|dependency benchmark' "$tmp/setup.log" >&2
    die "the subproject looked for Catch2 or Google Benchmark with tests=false benchmarks=false"
fi
meson introspect --targets "$tmp/build" | python3 -c '
import json, sys
names = sorted(t["name"] for t in json.load(sys.stdin))
test_only = [n for n in names if n.startswith(("test-", "catch-", "addrpool-stress", "addrpool-model",
                                               "addrpool-bench", "stress-", "example-", "readme"))]
if test_only:
    sys.exit("test-only targets defined: " + ", ".join(test_only))
if "quickstart" not in names:
    sys.exit("the consumer target is missing")
' || die "the subproject build is not free of test-only targets"

meson compile -C "$tmp/build" quickstart >"$tmp/compile.log" 2>&1 ||
    { cat "$tmp/compile.log" >&2; die "building the consumer failed"; }
out=$("$tmp/build/quickstart") || die "the consumer exited with an error"
printf '%s\n' "$out" | grep -qx 'reserved 0 yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt' || die "unexpected output: $out"
printf '%s\n' "$out" | grep -qx 'reserved 2 yTGFWr27HBYsb8tkLbGdxLxuKbspamdbnG' || die "unexpected output: $out"
say "the consumer ran: $(printf '%s' "$out" | tail -n 1)"
say "PASS"
