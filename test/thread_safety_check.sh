#!/bin/sh
# clang's static lock checking (-Wthread-safety) over the library sources
# that hold a mutex: every member GUARDED_BY a detail::Mutex must only be
# touched with it held. g++ ignores the annotations, so this runs clang in
# syntax-only mode (seconds), whatever compiler built the rest.
#   thread_safety_check.sh <source-root>
set -eu
root="$1"
cxx=""
for c in clang++-14 clang++; do
  if command -v "$c" >/dev/null 2>&1; then cxx="$c"; break; fi
done
if [ -z "$cxx" ]; then
  echo "clang++ not found (scripts/install-deps installs clang-14)" >&2
  exit 1
fi
n=0
# lib/pg (addrpool-pg) and lib/wallet hold mutexes too; lib/pg's sources need
# no libpq header.
for f in pool/pool.cpp pool/durable.cpp persist/bridge.cpp pg/conn_pool.cpp pg/shared_pool_impl.cpp \
         wallet/ebr.cpp wallet/script_index.cpp wallet/wallet_set.cpp wallet/sync.cpp wallet/persist.cpp; do
  [ -f "$root/lib/$f" ] || continue
  "$cxx" -std=c++20 -fsyntax-only -Wthread-safety -Wthread-safety-beta -Werror \
    -I"$root/include" -I"$root/lib" "$root/lib/$f"
  echo "ok: lib/$f"
  n=$((n + 1))
done
echo "$n passed, 0 failed"
