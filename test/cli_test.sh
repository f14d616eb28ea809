#!/bin/sh
# Tests of the addrpool CLI: the documented example, equal output from every
# key source, DIP-18 platform output, and the bad-input contract (exit 2,
# empty stdout, exactly one stderr line, no secret echoed).
# Usage: cli_test.sh PATH-TO-addrpool
# Expected values are the vectors of test/data/dash_bip44.json (wallet
# "abandon-about-12-words-empty-passphrase", testnet), written inline.
set -u

BIN=${1:?usage: cli_test.sh PATH-TO-addrpool}
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

M='abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
ACCOUNT_TPRV='tprv8fPDJN9UQqg6pFsQsrVxTwHZmXLvHpfGGcsCA9rtnatUgVtBKxhtFeqiyaYKSWydunKpjhvgJf6PwTwgirwuCbFq8YKgpQiaVJf3JCrNmkR'
ACCOUNT_TPUB='tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba'
PLATFORM_TPUB='tpubDG6jayPw9wTbuddgGK7nU9Nb3YbpDNst2PKSRsEbwpoJLW8pavG6JjgSgwwBVUj2G9CvL3F3QKDYk6BinC4YwaYQ48dmGCdkrz5K17BviFA'
# One character changed: the checksum fails.
BAD_TPRV='tprv8fPDJN9UQqg6pFsQsrVxTwHZmXLvHpfGGcsCA9rtnatUgVtBKxhtFeqiyaYKSWydunKpjhvgJf6PwTwgirwuCbFq8YKgpQiaVJf3JCrNmkS'
PASS='s3cret-passphrase'

EXAMPLE='0 yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt
1 yfd64jEpzzTLrHnR1wq3iiYXh68AiU8mcw
2 yTGFWr27HBYsb8tkLbGdxLxuKbspamdbnG'
PLATFORM='0 tdash1kzfj6fvrpza60u6m9u2nhzkthey68v7cqg2u9ymk
1 tdash1kr0e6hye826gmdfz07tkege2myu9dsytyu0ws8c7
2 tdash1kq25a5qwj6lqfe6q6wxrx46qlmd4ymgn9yyxpyau'

passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$*"; }

# run ARGS...: runs the binary, leaving stdout/stderr in files and $rc.
run() {
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
}

# ok NAME EXPECTED-STDOUT ARGS...: exit 0, exact stdout, empty stderr.
ok() {
    name=$1 expected=$2
    shift 2
    run "$@"
    if [ "$rc" -ne 0 ]; then fail "$name: exit $rc: $(cat "$TMP/err")"; return; fi
    if [ -s "$TMP/err" ]; then fail "$name: stderr not empty: $(cat "$TMP/err")"; return; fi
    if [ "$(cat "$TMP/out")" != "$expected" ]; then
        fail "$name: stdout differs"; printf '%s\n' "--- got:" "$(cat "$TMP/out")" "--- expected:" "$expected"
        return
    fi
    pass
}

# bad NAME ARGS...: exit 2, empty stdout, one "addrpool: " line on stderr,
# and none of the secrets used in this file appears there.
bad() {
    name=$1
    shift
    run "$@"
    if [ "$rc" -ne 2 ]; then fail "$name: exit $rc, expected 2"; return; fi
    if [ -s "$TMP/out" ]; then fail "$name: stdout not empty"; return; fi
    lines=$(wc -l <"$TMP/err" | tr -d ' ')
    if [ "$lines" != 1 ]; then fail "$name: $lines stderr lines: $(cat "$TMP/err")"; return; fi
    case $(cat "$TMP/err") in
        "addrpool: "*) ;;
        *) fail "$name: stderr does not start with 'addrpool: '"; return ;;
    esac
    for secret in "$M" abandon about "$ACCOUNT_TPRV" "$BAD_TPRV" tprv8fPDJN9UQ "$PASS" hamster; do
        if grep -qF -- "$secret" "$TMP/err"; then fail "$name: stderr echoes a secret"; return; fi
    done
    pass
}

# --- The documented example, and the same addresses from every key source.
ok "example" "$EXAMPLE" derive --mnemonic "$M" --network testnet --path "m/44'/1'/0'/0" --count 3
ok "example, --opt=value" "$EXAMPLE" derive --mnemonic="$M" --network=testnet --path="m/44'/1'/0'/0" --count=3
ok "example, h marker" "$EXAMPLE" derive --mnemonic "$M" --network testnet --path "m/44h/1H/0'/0" --count 3
ok "example, explicit defaults" "$EXAMPLE" derive --count 3 --from 0 --format p2pkh --passphrase '' \
    --path "m/44'/1'/0'/0" --network testnet --mnemonic "$M"
ok "account xpub" "$EXAMPLE" derive --xpub "$ACCOUNT_TPUB" --network testnet --path m/0 --count 3
ok "account xprv" "$EXAMPLE" derive --xprv "$ACCOUNT_TPRV" --network testnet --path m/0 --count 3
ok "regtest" "$EXAMPLE" derive --xpub "$ACCOUNT_TPUB" --network regtest --path m/0 --count 3
ok "devnet" "$EXAMPLE" derive --mnemonic "$M" --network devnet --path "m/44'/1'/0'/0" --count 3

run derive --mnemonic "$M" --network testnet --path "m/44'/1'/0'/0"
mnemonic10=$(cat "$TMP/out")
ok "default count is 10, xpub equals mnemonic" "$mnemonic10" derive --xpub "$ACCOUNT_TPUB" --network testnet --path m/0
if [ "$(printf '%s\n' "$mnemonic10" | wc -l | tr -d ' ')" = 10 ]; then pass; else fail "default count is not 10"; fi
ok "--from" "9 yTMS4GQpdy28ta4SZysp1C7fnZy1oqyBzc" derive --xpub "$ACCOUNT_TPUB" --network testnet --path m/0 --from 9 --count 1
ok "last non-hardened index" "2147483647 ybJkzfEp8bPAeWxp8Chtp8VWB2kfoWVcZ2" \
    derive --xprv "$ACCOUNT_TPRV" --network testnet --path m/0 --from 2147483647 --count 1

# --- DIP-18 platform addresses of DIP-17 keys m/9'/1'/17'/0'/0'/i.
ok "platform from mnemonic" "$PLATFORM" derive --mnemonic "$M" --network testnet --path "m/9'/1'/17'/0'/0'" --count 3 --format platform
ok "platform from xpub" "$PLATFORM" derive --xpub "$PLATFORM_TPUB" --network testnet --path m --count 3 --format=platform

# --- Help.
for args in "--help" "help" "derive --help" "derive -h" "help derive"; do
    # shellcheck disable=SC2086 # word splitting of $args is intended
    run $args
    if [ "$rc" -eq 0 ] && [ -s "$TMP/out" ] && [ ! -s "$TMP/err" ]; then pass; else fail "'$args': exit $rc"; fi
done
run derive --help
for opt in --mnemonic --passphrase --xprv --xpub --network --path --from --count --format --help; do
    if grep -qF -- "$opt" "$TMP/out"; then pass; else fail "derive --help does not mention $opt"; fi
done

# --- Bad invocations.
P="m/44'/1'/0'/0"
bad "no command"
bad "unknown command" frobnicate
bad "mnemonic as a command" "$M"
bad "unknown option" derive --mnemonic "$M" --network testnet --path "$P" --bogus
bad "unknown option with a value" derive --mnemonic "$M" --network testnet --path "$P" --bogus="$M"
bad "missing value" derive --mnemonic "$M" --network testnet --path
bad "missing value (=)" derive --mnemonic "$M" --network testnet --path=
bad "repeated option" derive --mnemonic "$M" --network testnet --path "$P" --count 1 --count 2
bad "unquoted mnemonic" derive --mnemonic abandon abandon abandon --network testnet --path "$P"
bad "no key source" derive --network testnet --path "$P"
bad "mnemonic and xprv" derive --mnemonic "$M" --xprv "$ACCOUNT_TPRV" --network testnet --path m/0
bad "xprv and xpub" derive --xprv "$ACCOUNT_TPRV" --xpub "$ACCOUNT_TPUB" --network testnet --path m/0
bad "passphrase without mnemonic" derive --xprv "$ACCOUNT_TPRV" --passphrase "$PASS" --network testnet --path m/0
bad "missing network" derive --mnemonic "$M" --path "$P"
bad "bad network" derive --mnemonic "$M" --network moonnet --path "$P"
bad "missing path" derive --mnemonic "$M" --network testnet
bad "path without m" derive --mnemonic "$M" --network testnet --path "44'/1'/0'/0"
bad "path with trailing slash" derive --mnemonic "$M" --passphrase "$PASS" --network testnet --path "m/44'/"
bad "path index 2^31" derive --mnemonic "$M" --network testnet --path "m/2147483648"
bad "corrupted xprv" derive --xprv "$BAD_TPRV" --network testnet --path m/0
bad "xprv given as xpub" derive --xpub "$ACCOUNT_TPRV" --network testnet --path m/0
bad "xpub given as xprv" derive --xprv "$ACCOUNT_TPUB" --network testnet --path m/0
bad "garbage key" derive --xpub "not-a-key" --network testnet --path m/0
bad "tprv on mainnet" derive --xprv "$ACCOUNT_TPRV" --network mainnet --path m/0
bad "tpub on mainnet" derive --xpub "$ACCOUNT_TPUB" --network mainnet --path m/0
bad "mnemonic checksum" derive --mnemonic "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon" --network testnet --path "$P"
bad "mnemonic unknown word" derive --mnemonic "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon hamsterx" --network testnet --path "$P"
bad "mnemonic word count" derive --mnemonic "abandon about" --network testnet --path "$P"
bad "hardened path from xpub" derive --xpub "$ACCOUNT_TPUB" --network testnet --path "m/0'"
deep=$(printf '/0%.0s' $(seq 255))
bad "addresses at depth 256" derive --mnemonic "$M" --network testnet --path "m$deep" --count 1
bad "from past 2^31" derive --xpub "$ACCOUNT_TPUB" --network testnet --path m/0 --from 2147483648 --count 1
bad "from + count past 2^31" derive --xpub "$ACCOUNT_TPUB" --network testnet --path m/0 --from 2147483647 --count 2
bad "from negative" derive --xpub "$ACCOUNT_TPUB" --network testnet --path m/0 --from -1
bad "from not a number" derive --xpub "$ACCOUNT_TPUB" --network testnet --path m/0 --from 1x
bad "count zero" derive --mnemonic "$M" --network testnet --path "$P" --count 0
bad "count huge" derive --mnemonic "$M" --network testnet --path "$P" --count 1000001
bad "count overflow" derive --mnemonic "$M" --network testnet --path "$P" --count 99999999999999999999
bad "count plus sign" derive --mnemonic "$M" --network testnet --path "$P" --count +3
bad "bad format" derive --mnemonic "$M" --network testnet --path "$P" --format bech32
bad "help with a value" derive --help=yes
bad "help with other options" derive --help --mnemonic "$M"
bad "help of an unknown command" help frobnicate

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
