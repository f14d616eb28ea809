#!/bin/sh
# Installs a meson build into a temporary DESTDIR and checks it the way a
# distribution and an outside project would:
#   - the files: headers (version.h generated), libaddrpool.so with its
#     soname, libaddrpool.a, addrpool.pc, the CMake package, bin/addrpool;
#   - the shared library exports only the API: nm -D lists nothing in
#     addrpool::detail and nothing outside addrpool:: and addrpool_*, and
#     every out-of-line function of the public namespace is exported;
#   - addrpool.pc has no absolute library path; programs built from outside
#     the source tree with pkg-config run a hand-out: the C++ API
#     (docs/examples/quickstart.cpp), the C ABI (docs/examples/quickstart.c),
#     the latter also linked statically with `pkg-config --static` alone;
#   - an outside CMake project, find_package(addrpool CONFIG REQUIRED) and
#     addrpool::addrpool without setting a C++ standard itself, builds and
#     runs the same hand-out; a request for an incompatible version fails.
#   test/install_test.sh <meson build root> <source root>
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/addrpool-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
dest="$tmp/dest"

say() { printf 'install test: %s\n' "$*"; }
die() { printf 'install test: FAIL: %s\n' "$*" >&2; exit 1; }

. "$src/test/install_tree.sh"
install_tree "$build" "$dest" "$tmp/install.log"

# Every public header in the source tree, plus the generated version.h.
for h in "$src"/include/addrpool/*.h "$src"/include/addrpool/*.hpp; do
    f="$dest$includedir/addrpool/$(basename "$h")"
    [ -f "$f" ] || die "not installed: ${f#"$dest"}"
done
for f in "$dest$includedir/addrpool/version.h" "$root_lib/pkgconfig/addrpool.pc" "$root_lib/libaddrpool.a" \
         "$root_lib/cmake/addrpool/addrpoolConfig.cmake" "$root_lib/cmake/addrpool/addrpoolConfigVersion.cmake"; do
    [ -f "$f" ] || die "not installed: ${f#"$dest"}"
done
ls "$root_lib"/libaddrpool.so* >/dev/null 2>&1 || die "not installed: $libdir/libaddrpool.so"
[ -x "$dest$bindir/addrpool" ] || die "not installed: $bindir/addrpool"
LD_LIBRARY_PATH="$root_lib" "$dest$bindir/addrpool" --help >/dev/null || die "the installed CLI does not run"
say "installed headers, libaddrpool.so, libaddrpool.a, addrpool.pc, the CMake package and bin/addrpool under $prefix"

# The soname is libaddrpool.so.<soversion>, and the link chain is complete.
soname=$(readelf -d "$root_lib/libaddrpool.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
case $soname in libaddrpool.so.[0-9]*) ;; *) die "unexpected soname '$soname'" ;; esac
[ -e "$root_lib/$soname" ] || die "$soname (the soname) is not installed"
say "soname $soname"

# The dynamic symbol table: the API and nothing else.
nm -D --defined-only -C "$root_lib/libaddrpool.so" | cut -c20- | sort -u >"$tmp/dynamic.txt"
[ -s "$tmp/dynamic.txt" ] || die "nm -D lists no symbol"
if grep -q 'addrpool::detail' "$tmp/dynamic.txt"; then
    grep 'addrpool::detail' "$tmp/dynamic.txt" | head -n 5 >&2
    die "libaddrpool.so exports addrpool::detail symbols"
fi
if grep -v '^addrpool::\|^addrpool_' "$tmp/dynamic.txt" >"$tmp/foreign.txt"; then
    head -n 5 "$tmp/foreign.txt" >&2
    die "libaddrpool.so exports $(wc -l <"$tmp/foreign.txt") symbols outside addrpool:: and addrpool_*"
fi
grep -qx 'addrpool_version' "$tmp/dynamic.txt" || die "addrpool_version is not exported"
# ... and the whole API: every out-of-line function of namespace addrpool in
# the archive (outside detail and the classes' hidden Impl) is exported.
nm -C --defined-only "$root_lib/libaddrpool.a" 2>/dev/null | awk '$2 == "T"' | cut -c20- |
    grep '^addrpool' | grep -v '^addrpool::detail::\|::Impl::' | sort -u >"$tmp/api.txt"
[ -s "$tmp/api.txt" ] || die "nm lists no API function in libaddrpool.a"
if comm -23 "$tmp/api.txt" "$tmp/dynamic.txt" | grep . >"$tmp/unexported.txt"; then
    head -n 5 "$tmp/unexported.txt" >&2
    die "$(wc -l <"$tmp/unexported.txt") API functions are not exported (ADDRPOOL_EXPORT missing?)"
fi
say "libaddrpool.so exports $(wc -l <"$tmp/dynamic.txt") symbols, all addrpool:: or addrpool_*, none in detail"

# pkg-config against the DESTDIR: the sysroot prefixes -I and -L.
# The system's own search path, whatever the architecture: the library's
# dependencies (libsecp256k1, libcrypto) are found there. Read before the
# sysroot is set, which would prefix it.
system_pc=$(pkg-config --variable pc_path pkg-config) || die "pkg-config cannot tell its search path"
export PKG_CONFIG_PATH="$root_lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
export PKG_CONFIG_LIBDIR="$root_lib/pkgconfig:$system_pc"
# No absolute library path: everything is -L${libdir} -laddrpool or -lNAME.
if grep '^Libs' "$root_lib/pkgconfig/addrpool.pc" | grep -q '[[:space:]]/'; then
    grep '^Libs' "$root_lib/pkgconfig/addrpool.pc" >&2
    die "addrpool.pc names a library by absolute path"
fi
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
# Requires.private from --static, and nothing else: that must be enough for
# a C program (the C++ runtime comes from Libs.private).
static_libs=$(pkg-config --static --libs addrpool) || die "pkg-config --static --libs failed"
static_libs=$(printf '%s\n' "$static_libs" | sed "s#-laddrpool#$root_lib/libaddrpool.a#")
# shellcheck disable=SC2086
$cc -std=c11 quickstart.c -o quickstart-c-static $cflags $static_libs ||
    die "static link of the C program with pkg-config --static alone failed"
if readelf -d quickstart-c-static | grep -q 'libaddrpool'; then die "the static program needs libaddrpool.so"; fi
check_output ./quickstart-c-static "C program (static libaddrpool.a)"

# addrpool_version() of the installed library equals the installed version.h.
cat >version.c <<'EOF_C'
#include <addrpool/addrpool.h>
#include <addrpool/version.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    printf("%s\n", addrpool_version());
    return strcmp(addrpool_version(), ADDRPOOL_VERSION_STRING) == 0 ? 0 : 1;
}
EOF_C
# shellcheck disable=SC2086
$cc -std=c11 version.c -o version-c $cflags $libs || die "building the version program failed"
version=$(LD_LIBRARY_PATH="$root_lib" ./version-c) || die "addrpool_version() differs from version.h: $version"
say "addrpool_version() = $version"

# CMake, from a clean prefix: the package must carry the include directory,
# the library and the C++20 requirement by itself (no CMAKE_CXX_STANDARD).
command -v cmake >/dev/null 2>&1 || die "cmake not found (scripts/install-deps core installs it)"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
mkdir "$tmp/cmake-project"
cp "$src/docs/examples/quickstart.cpp" "$tmp/cmake-project/"
cat >"$tmp/cmake-project/CMakeLists.txt" <<'EOF_CMAKE'
cmake_minimum_required(VERSION 3.16)
project(addrpool_consumer LANGUAGES CXX)
find_package(addrpool 0.1 CONFIG REQUIRED)
add_executable(quickstart quickstart.cpp)
target_link_libraries(quickstart PRIVATE addrpool::addrpool)
EOF_CMAKE
cmake -S "$tmp/cmake-project" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$dest$prefix" \
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; die "cmake could not configure the consumer"; }
cmake --build "$tmp/cmake-build" >>"$tmp/cmake.log" 2>&1 ||
    { cat "$tmp/cmake.log" >&2; die "cmake could not build the consumer"; }
check_output "$tmp/cmake-build/quickstart" "CMake program (find_package, addrpool::addrpool)"
# A request the installed version does not meet must fail.
sed 's/find_package(addrpool 0.1 CONFIG REQUIRED)/find_package(addrpool 1.0 CONFIG REQUIRED)/' \
    "$tmp/cmake-project/CMakeLists.txt" >"$tmp/cmake-project/CMakeLists.txt.new"
mv "$tmp/cmake-project/CMakeLists.txt.new" "$tmp/cmake-project/CMakeLists.txt"
if cmake -S "$tmp/cmake-project" -B "$tmp/cmake-build-1.0" -DCMAKE_PREFIX_PATH="$dest$prefix" \
    >"$tmp/cmake-1.0.log" 2>&1; then
    die "find_package(addrpool 1.0) accepted version $version"
fi
grep -q 'compatible with requested version' "$tmp/cmake-1.0.log" || { cat "$tmp/cmake-1.0.log" >&2; die "find_package(addrpool 1.0) failed for another reason"; }
say "find_package(addrpool 1.0) refuses $version, as it should"
say "PASS"
