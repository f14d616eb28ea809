#!/bin/sh
# `make demo-postgres` (addrpool-pg-demo), checked on its output. Runs under
# scripts/pg-cluster, like the make target.
#   demo_pg_test.sh <path-to-addrpool-pg-demo>
set -u
bin="$1"
err=$(mktemp "${TMPDIR:-/tmp}/addrpool-pg-demo-err.XXXXXX")
trap 'rm -f "$err"' EXIT
pass=0
fail=0
check() {  # check NAME COMMAND...
  name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}
has() { printf '%s\n' "$out" | grep -q "$1"; }
out=$("$bin")
rc=$?
printf '%s\n' "$out"
check "demo exits 0" [ "$rc" -eq 0 ]
check "10000 distinct addresses" has "^  distinct addresses: 10000 of 10000$"
check "10000 distinct tickets" has "^  distinct tickets: 10000 of 10000$"
check "indices 0..9999 exactly once" has "^  index range: 0..9999 (every index exactly once)$"
check "four processes took part" sh -c 'printf "%s\n" "$1" | grep -Eq "^  hand-outs per process: [0-9]+ [0-9]+ [0-9]+ [0-9]+$"' _ "$out"
check "first addresses are the vector's" has "0:yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt 1:yfd64jEpzzTLrHnR1wq3iiYXh68AiU8mcw 2:yTGFWr27HBYsb8tkLbGdxLxuKbspamdbnG"
check "all reserved in the database" has "reserved=10000 .*highest_reserved=9999"

# A second run on the same pool continues where the first stopped.
out=$("$bin" --processes 2 --threads 3 --addresses 100)
check "second run exits 1 (indices 10000.. are not 0..99)" [ $? -eq 1 ]
check "second run: 100 distinct" has "^  distinct addresses: 100 of 100$"
check "second run continues at 10000" has "^  index range: 10000..10099 (NOT contiguous)$"

# Bad usage: exit 2, one line on stderr.
for args in "--processes 0" "--threads x" "--bogus"; do
  # shellcheck disable=SC2086  # word splitting of the argument list is intended
  so=$("$bin" $args 2>"$err")
  rc=$?
  check "$args: exit 2" [ "$rc" -eq 2 ]
  check "$args: empty stdout" [ -z "$so" ]
  check "$args: one stderr line" [ "$(wc -l <"$err")" -eq 1 ]
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
