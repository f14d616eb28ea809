#!/bin/sh
# `addrpool demo`: the main job's promises, checked on its output.
#   demo_test.sh <path-to-addrpool>
set -u
bin="$1"
err=$(mktemp "${TMPDIR:-/tmp}/addrpool-demo-err.XXXXXX")
trap 'rm -f "$err"' EXIT
pass=0
fail=0
check() {  # check NAME COMMAND...
  name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}
out=$("$bin" demo --threads 8)
rc=$?
check "demo exits 0" [ "$rc" -eq 0 ]
check "10000 distinct addresses" sh -c 'printf "%s\n" "$1" | grep -qx "  distinct addresses: 10000 of 10000"' _ "$out"
check "indices 0..9999 exactly once" sh -c 'printf "%s\n" "$1" | grep -qx "  index range: 0..9999 (every index exactly once)"' _ "$out"
check "first address is the vector's" sh -c 'printf "%s\n" "$1" | grep -q "0:yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt 1:yfd64jEpzzTLrHnR1wq3iiYXh68AiU8mcw 2:yTGFWr27HBYsb8tkLbGdxLxuKbspamdbnG"' _ "$out"
check "half released" sh -c 'printf "%s\n" "$1" | grep -q "released 5000 reservations by ticket"' _ "$out"
check "sweep frees the abandoned ones" sh -c 'printf "%s\n" "$1" | grep -q "freed 5000 abandoned reservations"' _ "$out"
check "late release is refused" sh -c 'printf "%s\n" "$1" | grep -q "released 0$"' _ "$out"

# A watch-only run from the account tpub gives the same addresses.
tpub=tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba
out2=$("$bin" demo --xpub "$tpub" --tasks 300 --threads 3)
check "xpub demo exits 0" [ $? -eq 0 ]
check "xpub demo: same first addresses" sh -c 'printf "%s\n" "$1" | grep -q "0:yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt"' _ "$out2"
# Another account's tpub (m/44'/1'/1'): its own addresses, not a refusal.
tpub1=tpubDC5FSnBiZDMmkoat4aZFfbJdEthnPqJ1jXZcKWJNKC4yJanLA55dRW5qKJRRvAo1SwaXeUx2ayUQyVJ6eCbABbBB8Wn3T7dAuVJRnZgntVC
out4=$("$bin" demo --xpub "$tpub1" --tasks 100 --threads 2)
check "account-1 xpub demo exits 0" [ $? -eq 0 ]
check "account-1 xpub demo: its first addresses" sh -c 'printf "%s\n" "$1" | grep -q "0:yhHtmuL5BdUqrWRzzBjbiCwGs39qreLYjD 1:ySjY4rCpTyre6fp1y2YFpCUzrpgmSPbVLA"' _ "$out4"
check "account-1 xpub demo: 100 distinct addresses" sh -c 'printf "%s\n" "$1" | grep -qx "  distinct addresses: 100 of 100"' _ "$out4"
# One task: nothing for the second payment to pay but task 0 again. Without
# --dir the set goes to a temporary directory (under TMPDIR), removed after.
tmpd=$(mktemp -d "${TMPDIR:-/tmp}/addrpool-demo-tmpdir.XXXXXX")
out5=$(TMPDIR="$tmpd" "$bin" demo --wallets 1 --tasks 1 --threads 1)
check "wallets demo with one task exits 0" [ $? -eq 0 ]
check "wallets demo with one task: the reloaded set matches" sh -c 'printf "%s\n" "$1" | grep -qx "  the reloaded set matches"' _ "$out5"
check "wallets demo: its temporary directory is removed" [ -z "$(ls -A "$tmpd")" ]
rmdir "$tmpd"

# The wallet-set demo: distinct hand-outs across wallets, one sync that finds
# a payment past a window, an incremental second save, a reload that matches.
wdir=$(mktemp -d "${TMPDIR:-/tmp}/addrpool-demo-wallets.XXXXXX")
trap 'rm -f "$err"; rm -rf "$wdir"' EXIT
out3=$("$bin" demo --wallets 40 --tasks 2000 --threads 6 --gap-limit 10 --dir "$wdir/set")
check "wallets demo exits 0" [ $? -eq 0 ]
check "wallets: 2000 distinct (wallet, index) pairs" sh -c 'printf "%s\n" "$1" | grep -qx "  distinct (wallet, index) pairs: 2000 of 2000 across 40 wallets"' _ "$out3"
check "wallets: every wallet's indices contiguous" sh -c 'printf "%s\n" "$1" | grep -qx "  every wallet.s indices: 0..k-1, each exactly once"' _ "$out3"
check "wallets: one sync matches every payment" sh -c 'printf "%s\n" "$1" | grep -q "matched 202 outputs, 202 newly used; the payment past wallet-0.s window (first in the block) was found"' _ "$out3"
check "wallets: the first save writes every pool" sh -c 'printf "%s\n" "$1" | grep -q "saved the set: 80 pool files; one more payment, saved again: 1 pool file(s) rewritten"' _ "$out3"
check "wallets: the reloaded set matches" sh -c 'printf "%s\n" "$1" | grep -qx "  the reloaded set matches"' _ "$out3"
saved=$(printf "%s\n" "$out3" | sed -n 's/^  saved: *//p')
reloaded=$(printf "%s\n" "$out3" | sed -n 's/^  reloaded: *//p')
check "wallets: same durable stats after the reload" sh -c '[ -n "$1" ] && [ "$1" = "$2" ]' _ "$saved" "$reloaded"
check "wallets: the directory holds the manifest and 80 pool files" [ "$(ls "$wdir/set" | wc -l)" -eq 81 ]

# Bad input: exit 2, nothing on stdout, one line on stderr.
for args in "--tasks 0" "--threads x" "--network moon" "--xpub nope" "--mnemonic 'abandon abandon'" "--bogus" \
            "--wallets 0" "--wallets x" "--wallets 3 --xpub $tpub" "--wallets 3 --account 1" "--dir /tmp/x" \
            "--wallets 2 --mnemonic 'abandon abandon'" "--help --tasks 5" \
            "--wallets 2 --dir '$err'" "--wallets 2 --dir '$err/set'" "--wallets 2 --dir ''" \
            "--xpub tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp"; do
  eval "set -- $args"
  so=$("$bin" demo "$@" 2>"$err")
  rc=$?
  lines=$(wc -l <"$err")
  check "demo $args: exit 2" [ "$rc" -eq 2 ]
  check "demo $args: empty stdout" [ -z "$so" ]
  check "demo $args: one stderr line" [ "$lines" -eq 1 ]
done
# Bad input with a --dir that does not exist yet: nothing is created.
"$bin" demo --wallets 2 --mnemonic 'abandon abandon' --dir "$wdir/not-made" 2>/dev/null
check "bad mnemonic with --dir: exit 2" [ $? -eq 2 ]
check "bad mnemonic with --dir: the directory is not created" [ ! -e "$wdir/not-made" ]
# No usable temporary directory: one line on stderr, exit 1 (not an abort).
so=$(TMPDIR=/nonexistent-addrpool-tmp "$bin" demo --wallets 1 --tasks 1 --threads 1 2>"$err")
rc=$?
check "no temporary directory: exit 1" [ "$rc" -eq 1 ]
check "no temporary directory: empty stdout" [ -z "$so" ]
check "no temporary directory: one stderr line" [ "$(wc -l <"$err")" -eq 1 ]

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
