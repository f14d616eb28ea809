#!/bin/sh
# The Rust crates' tests against a meson build tree's libaddrpool:
#   bindings/rust/run_tests.sh <meson build root> <source root>
# unit tests, doc-tests, the 10,000-thread and guard tests (cargo test), the
# examples (bridge, quickstart), and the check that every public item has a doc example.
# Where a Debian cargo (/usr/bin/cargo, Rust 1.63 on Debian 12) sits beside
# a newer one on the PATH, everything is also built with it. Registered as
# the meson test 'rust-crates' (test/c/meson.build); exits 77 (meson:
# skipped) when no cargo is installed (scripts/install-deps installs one).
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)

if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "skipped: cargo not found"
    exit 77
fi

manifest="$src/bindings/rust/Cargo.toml"
export ADDRPOOL_LIB_DIR="$build/lib"
export ADDRPOOL_HEADER="$src/include/addrpool/addrpool.h"
export LD_LIBRARY_PATH="$ADDRPOOL_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Target dirs in the build tree: nothing is written into the source tree
# (Cargo.lock is committed; --locked refuses to change it).
export CARGO_TARGET_DIR="$build/bindings/rust-target"

echo "== $(cargo --version), $(rustc --version)"
cargo test --offline --locked --manifest-path "$manifest" --workspace
cargo run --offline --locked --quiet --manifest-path "$manifest" -p addrpool --example bridge
cargo run --offline --locked --quiet --manifest-path "$manifest" -p addrpool --example quickstart
python3 "$src/bindings/rust/check_doc_examples.py" "$src/bindings/rust"

if [ -x /usr/bin/cargo ] && [ "$(/usr/bin/cargo --version)" != "$(cargo --version)" ]; then
    echo "== also with $(/usr/bin/cargo --version) (Debian's toolchain)"
    CARGO_TARGET_DIR="$build/bindings/rust-target-debian" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
        /usr/bin/cargo build --offline --locked --manifest-path "$manifest" --workspace --all-targets
fi
echo "rust crates: PASS"
