#!/bin/sh
# A fresh crate outside the source tree, depending on bindings/rust/addrpool
# by path, built against an *installed* libaddrpool (meson install into a
# temporary DESTDIR, found with pkg-config as a downstream build would), run
# once linked to the shared library and once with ADDRPOOL_STATIC=1.
#   bindings/rust/outside_crate_test.sh <meson build root> <source root>
# Registered as the meson test 'rust-outside-crate' (test/c/meson.build);
# exits 77 (meson: skipped) when no cargo is installed.
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/addrpool-rust-outside.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
dest="$tmp/dest"

say() { printf 'rust outside crate: %s\n' "$*"; }
die() { printf 'rust outside crate: FAIL: %s\n' "$*" >&2; exit 1; }

if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || { echo "skipped: cargo not found"; exit 77; }

. "$src/test/install_tree.sh"
install_tree "$build" "$dest" "$tmp/install.log"

# pkg-config sees the DESTDIR as a sysroot (as test/install_test.sh does).
system_pc=$(pkg-config --variable pc_path pkg-config) || die "pkg-config cannot tell its search path"
export PKG_CONFIG_PATH="$root_lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
export PKG_CONFIG_LIBDIR="$root_lib/pkgconfig:$system_pc"
unset ADDRPOOL_LIB_DIR ADDRPOOL_STATIC

mkdir -p "$tmp/outside/src"
cat >"$tmp/outside/Cargo.toml" <<TOML
[package]
name = "wallet-service"
version = "0.1.0"
edition = "2021"

[dependencies]
addrpool = { path = "$src/bindings/rust/addrpool" }
TOML
cat >"$tmp/outside/src/main.rs" <<'RUST'
// A downstream wallet using exactly the issue's surface.
use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use addrpool::{Address, AddressPool, AddressState, ErrorCode, KeySource, Network, PoolType};

const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys = KeySource::from_mnemonic(WORDS, "", Network::Testnet, "m/44'/1'/0'")?;
    let xpub = KeySource::from_xpub(&keys.account_xpub().unwrap())?;
    let pool = Arc::new(AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?);

    let barrier = Arc::new(Barrier::new(1000));
    let threads: Vec<_> = (0..1000)
        .map(|n| {
            let (pool, barrier) = (Arc::clone(&pool), Arc::clone(&barrier));
            let keys = if n % 2 == 0 { keys.clone() } else { xpub.clone() };
            std::thread::spawn(move || {
                barrier.wait();
                pool.next_unused_and_reserve(&keys, true)
            })
        })
        .collect();
    let mut got = HashSet::new();
    for t in threads {
        assert!(got.insert(t.join().unwrap()?), "an address was handed out twice");
    }
    assert_eq!(pool.scan_window_end(), 1000 + 20);

    {
        let guard = pool.reserve_guard(&keys)?;
        assert_eq!(guard.index, 1000);
    }
    assert_eq!(pool.state(1000), AddressState::Unused);
    let r = pool.reserve(&keys, true)?;
    assert!(pool.release(&r) && !pool.release(&r));
    assert_eq!(pool.sweep_expired_reservations(Duration::ZERO), 1000);
    let first = Address::parse("yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt", Network::Testnet)?;
    assert!(pool.mark_used(&first) && pool.mark_index_used(1));

    let path = std::env::temp_dir().join(format!("wallet-service-{}.pool", std::process::id()));
    pool.save(&path)?;
    let loaded = AddressPool::load(&path)?;
    std::fs::remove_file(&path)?;
    assert_eq!(loaded.state(1), AddressState::Used);
    assert_eq!(AddressPool::deserialize(&pool.serialize())?.stats().used, 2);
    assert_eq!(loaded.next_unused_and_reserve(&KeySource::none(), true)?.to_string(), "yTGFWr27HBYsb8tkLbGdxLxuKbspamdbnG");

    let e = KeySource::from_xprv("tprv-nonsense").unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidEncoding);
    println!("1000 threads, distinct; error prints as: {}", e);
    Ok(())
}
RUST
cd "$tmp/outside"
export CARGO_TARGET_DIR="$tmp/target"

cargo build --offline --quiet 2>"$tmp/cargo.log" || { cat "$tmp/cargo.log" >&2; die "building against the installed shared library failed"; }
out=$(LD_LIBRARY_PATH="$root_lib" "$CARGO_TARGET_DIR/debug/wallet-service") || die "the shared-library build failed to run"
say "shared: $out"
readelf -d "$CARGO_TARGET_DIR/debug/wallet-service" | grep -q 'libaddrpool\.so' || die "the program does not link libaddrpool.so"

ADDRPOOL_STATIC=1 cargo build --offline --quiet 2>"$tmp/cargo.log" ||
    { cat "$tmp/cargo.log" >&2; die "building with ADDRPOOL_STATIC=1 failed"; }
if readelf -d "$CARGO_TARGET_DIR/debug/wallet-service" | grep -q 'libaddrpool'; then
    die "the ADDRPOOL_STATIC=1 program still needs libaddrpool.so"
fi
out=$("$CARGO_TARGET_DIR/debug/wallet-service") || die "the static build failed to run"
say "static: $out"
say "PASS"
