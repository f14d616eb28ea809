#!/bin/sh
# addrpool-pg as an outside program sees it: installs the meson build into a
# temporary DESTDIR, checks that pg.hpp and addrpool-pg.pc are there, builds
# docs/examples/shared_pool.cpp from outside the tree with
# `pkg-config addrpool-pg` (shared, then with the static archives),
# and runs both against the server scripts/pg-cluster started.
#   test/pg/install_pg_test.sh <meson build root> <source root>
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/addrpool-pg-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
dest="$tmp/dest"

say() { printf 'install-pg test: %s\n' "$*"; }
die() { printf 'install-pg test: FAIL: %s\n' "$*" >&2; exit 1; }

. "$src/test/install_tree.sh"
install_tree "$build" "$dest" "$tmp/install.log"
for f in "$dest$includedir/addrpool/pg.hpp" "$root_lib/pkgconfig/addrpool-pg.pc" "$root_lib/libaddrpool-pg.a"; do
    [ -f "$f" ] || die "not installed: ${f#"$dest"}"
done
ls "$root_lib"/libaddrpool-pg.so* >/dev/null 2>&1 || die "not installed: $libdir/libaddrpool-pg.so"
say "installed pg.hpp, libaddrpool-pg.so, libaddrpool-pg.a and addrpool-pg.pc"
# The dynamic symbol table holds addrpool::pg:: only (hidden visibility,
# lib/pg/exports.map); the soname carries the ABI number.
so=$(ls "$root_lib"/libaddrpool-pg.so.*.*.* | head -n 1)
others=$(nm -D --defined-only "$so" | c++filt | awk '$2 ~ /^[TtWwVvDdBbRr]$/' | grep -v ' addrpool::pg::' || true)
[ -z "$others" ] || die "libaddrpool-pg.so exports more than addrpool::pg::$(printf '\n%s' "$others" | head -n 5)"
readelf -d "$so" | grep -q 'SONAME.*libaddrpool-pg\.so\.0\]' || die "libaddrpool-pg.so's soname is not libaddrpool-pg.so.0"
say "exports addrpool::pg:: only; soname libaddrpool-pg.so.0"

system_pc=$(pkg-config --variable pc_path pkg-config) || die "pkg-config cannot tell its search path"
export PKG_CONFIG_PATH="$root_lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
export PKG_CONFIG_LIBDIR="$root_lib/pkgconfig:$system_pc"
cflags=$(pkg-config --cflags addrpool-pg) || die "pkg-config --cflags addrpool-pg failed"
libs=$(pkg-config --libs addrpool-pg) || die "pkg-config --libs addrpool-pg failed"
say "pkg-config --cflags --libs addrpool-pg: $cflags $libs"

mkdir "$tmp/outside"
cp "$src/docs/examples/shared_pool.cpp" "$tmp/outside/"
cd "$tmp/outside"
cxx=${CXX:-c++}
check_output() {  # $1 = program, $2 = label
    out=$(LD_LIBRARY_PATH="$root_lib" "$1" "$ADDRPOOL_PG_CONNINFO") || die "$2 exited with an error"
    printf '%s\n' "$out" | grep -q '^reserved [0-9]* y[1-9A-HJ-NP-Za-km-z]* ticket [0-9]*$' || die "$2: unexpected output: $out"
    say "$2 ran: $(printf '%s' "$out" | head -n 1)"
}
# shellcheck disable=SC2086  # flags are word lists
$cxx -std=c++20 shared_pool.cpp -o shared-pool $cflags $libs || die "building against addrpool-pg failed"
check_output ./shared-pool "shared build"

# Our two archives, their private dependencies, and libpq shared: Debian's
# libpq-dev has no static pgcommon/pgport, so a fully static libpq is not an
# option there.
core_static=$(pkg-config --static --libs addrpool) || die "pkg-config --static --libs addrpool failed"
core_static=$(printf '%s\n' "$core_static" | sed "s#-laddrpool#$root_lib/libaddrpool.a#")
pq_libs=$(pkg-config --libs libpq) || die "pkg-config --libs libpq failed"
static_libs="$root_lib/libaddrpool-pg.a $core_static $pq_libs"
# shellcheck disable=SC2086
$cxx -std=c++20 shared_pool.cpp -o shared-pool-static $cflags $static_libs || die "static link failed"
if readelf -d shared-pool-static | grep -q 'libaddrpool'; then die "the static program needs a libaddrpool*.so"; fi
check_output ./shared-pool-static "static build"
say "PASS"
