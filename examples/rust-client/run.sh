#!/bin/sh
# Builds the Rust client against a meson build dir's libaddrpool and runs it.
#   examples/rust-client/run.sh <meson build root> <source root>
# Registered as the meson test 'rust-client' (test/c/meson.build). Exits 77
# (meson: skipped) when cargo is not installed.
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

export ADDRPOOL_LIB_DIR="$build/lib"
export CARGO_TARGET_DIR="$build/examples/rust-client-target"
cargo build --offline --release --quiet --manifest-path "$src/examples/rust-client/Cargo.toml"
# build.rs also sets the rpath; LD_LIBRARY_PATH makes the choice explicit.
LD_LIBRARY_PATH="$ADDRPOOL_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$CARGO_TARGET_DIR/release/addrpool-rust-client"
