#!/bin/sh
# Installs a meson build into a temporary DESTDIR and builds two programs
# from outside the source tree against it with pkg-config: the C++ API
# (docs/examples/quickstart.cpp) and the C ABI (docs/examples/quickstart.c),
# the latter also linked with the static library. Runs them and checks their
# output.
#   test/install_test.sh <meson build root> <source root>
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/addrpool-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
dest="$tmp/dest"

say() { printf 'install test: %s\n' "$*"; }
die() { printf 'install test: FAIL: %s\n' "$*" >&2; exit 1; }

# Reuse the build's objects: meson test has already built everything.
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; die "meson install failed"; }

# prefix / libdir / bindir / includedir as configured.
eval "$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
for k in ("prefix", "libdir", "bindir", "includedir"):
    print("%s=%s" % (k, opts[k]))
')"
case $libdir in /*) ;; *) libdir="$prefix/$libdir" ;; esac
case $bindir in /*) ;; *) bindir="$prefix/$bindir" ;; esac
case $includedir in /*) ;; *) includedir="$prefix/$includedir" ;; esac
root_lib="$dest$libdir"

for f in "$dest$includedir/addrpool/addrpool.h" "$dest$includedir/addrpool/addrpool.hpp" \
         "$dest$includedir/addrpool/pool.hpp" "$dest$includedir/addrpool/keys.hpp" \
         "$dest$includedir/addrpool/address.hpp" "$dest$includedir/addrpool/result.hpp" \
         "$dest$includedir/addrpool/network.hpp" "$root_lib/pkgconfig/addrpool.pc" \
         "$root_lib/libaddrpool.a"; do
    [ -f "$f" ] || die "not installed: ${f#"$dest"}"
done
ls "$root_lib"/libaddrpool.so* >/dev/null 2>&1 || die "not installed: $libdir/libaddrpool.so"
[ -x "$dest$bindir/addrpool" ] || die "not installed: $bindir/addrpool"
LD_LIBRARY_PATH="$root_lib" "$dest$bindir/addrpool" --help >/dev/null || die "the installed CLI does not run"
say "installed headers, libaddrpool.so, libaddrpool.a, addrpool.pc and bin/addrpool under $prefix"

# pkg-config against the DESTDIR: the sysroot prefixes -I and -L.
# The system's own search path, whatever the architecture: the library's
# dependencies (libsecp256k1, libcrypto) are found there. Read before the
# sysroot is set, which would prefix it.
system_pc=$(pkg-config --variable pc_path pkg-config) || die "pkg-config cannot tell its search path"
export PKG_CONFIG_PATH="$root_lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
export PKG_CONFIG_LIBDIR="$root_lib/pkgconfig:$system_pc"
cflags=$(pkg-config --cflags addrpool) || die "pkg-config --cflags failed"
libs=$(pkg-config --libs addrpool) || die "pkg-config --libs failed"
say "pkg-config --cflags --libs addrpool: $cflags $libs"

# Outside the source tree: copies of the guide's examples.
mkdir "$tmp/outside"
cp "$src/docs/examples/quickstart.cpp" "$src/docs/examples/quickstart.c" "$tmp/outside/"
cd "$tmp/outside"
cxx=${CXX:-c++}
cc=${CC:-cc}

check_output() {  # $1 = program, $2 = label
    out=$(LD_LIBRARY_PATH="$root_lib" "$1") || die "$2 exited with an error"
    printf '%s\n' "$out" | grep -qx 'reserved 0 yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt' || die "$2: unexpected output: $out"
    printf '%s\n' "$out" | grep -qx 'reserved 2 yTGFWr27HBYsb8tkLbGdxLxuKbspamdbnG' || die "$2: unexpected output: $out"
    say "$2 ran: $(printf '%s' "$out" | tail -n 1)"
}

# shellcheck disable=SC2086  # flags are word lists
$cxx -std=c++20 quickstart.cpp -o quickstart-cpp $cflags $libs || die "building the C++ program failed"
check_output ./quickstart-cpp "C++ program (shared)"
# shellcheck disable=SC2086
$cc -std=c11 quickstart.c -o quickstart-c $cflags $libs || die "building the C program failed"
check_output ./quickstart-c "C program (shared)"

# Static: the archive instead of the shared library, plus Libs.private and
# Requires.private from --static. A C program also needs the C++ runtime.
static_libs=$(pkg-config --static --libs addrpool) || die "pkg-config --static --libs failed"
static_libs=$(printf '%s\n' "$static_libs" | sed "s#-laddrpool#$root_lib/libaddrpool.a#")
# shellcheck disable=SC2086
if $cc -std=c11 quickstart.c -o quickstart-c-static $cflags $static_libs 2>"$tmp/static.log"; then
    say "static link works with pkg-config --static alone"
else
    grep -q 'undefined reference to .*std::\|__cxa_\|__gxx_personality\|operator new' "$tmp/static.log" ||
        { cat "$tmp/static.log" >&2; die "static link of the C program failed"; }
    say "NOTE: addrpool.pc's Libs.private lacks -lstdc++; a C program linking libaddrpool.a adds it itself"
    # shellcheck disable=SC2086
    $cc -std=c11 quickstart.c -o quickstart-c-static $cflags $static_libs -lstdc++ ||
        die "static link of the C program failed even with -lstdc++"
fi
if readelf -d quickstart-c-static | grep -q 'libaddrpool'; then die "the static program needs libaddrpool.so"; fi
check_output ./quickstart-c-static "C program (static libaddrpool.a)"
say "PASS"
