//! Lock-free HD-wallet address hand-out (Dash): the safe Rust API over
//! libaddrpool's C ABI (`addrpool-sys`).
//!
//! One [`AddressPool`] holds the addresses of one chain of one account and
//! hands them out to any number of threads at once without ever giving two
//! callers the same one: each index is `Unused → Reserved → Used`;
//! [`next_unused_and_reserve`](AddressPool::next_unused_and_reserve) reserves
//! the lowest free index atomically; [`release`](AddressPool::release) and
//! [`sweep_expired_reservations`](AddressPool::sweep_expired_reservations)
//! give addresses back; reservations are never saved, "used" is. A
//! [`KeySource`] (xprv, xpub, mnemonic, or none) is passed per hand-out.
//!
//! ```
//! use std::time::Duration;
//! use addrpool::{AddressPool, KeySource, Network, PoolType};
//!
//! let words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
//! let keys = KeySource::from_mnemonic(words, "", Network::Testnet, "m/44'/1'/0'")?;
//! let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?;
//!
//! let address = pool.next_unused_and_reserve(&keys, true)?;   // from any thread
//! assert_eq!(address.to_string(), "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt");
//! pool.mark_used(&address);                                    // the payment arrived
//! let abandoned = pool.reserve(&keys, true)?;
//! pool.release(&abandoned);                                    // the checkout was cancelled
//! pool.sweep_expired_reservations(Duration::from_secs(30 * 60)); // periodically
//! # Ok::<(), addrpool::Error>(())
//! ```
//!
//! Linking: `addrpool-sys` finds libaddrpool with `pkg-config`, or in
//! `ADDRPOOL_LIB_DIR`; `ADDRPOOL_STATIC=1` links it statically. At run time
//! a shared libaddrpool must be on the loader's path (a system libdir, or
//! `LD_LIBRARY_PATH`).
//!
//! Errors are [`Error`]s: an [`ErrorCode`] and a message that never contains
//! keys, mnemonic words, passphrases or seeds. Strings with a NUL byte (which
//! C cannot take) are errors too, never panics. Copies of secrets this crate
//! makes to call C are wiped after the call.
#![warn(missing_docs)]
#![allow(clippy::new_ret_no_self)]

mod address;
mod error;
mod guard;
mod key_source;
mod pool;
mod sync;
mod text;
mod types;
mod wallet;

pub use address::Address;
pub use error::{Error, ErrorCode};
pub use guard::ReservationGuard;
pub use key_source::{KeyKind, KeySource};
pub use pool::{AddressPool, Reservation};
pub use sync::ScriptMatch;
pub use types::{
    AddressFormat, AddressState, GapPolicy, Network, PoolOptions, PoolStats, PoolType, MAX_DERIVE_THREADS,
    MAX_GAP_LIMIT, MAX_LOOKAHEAD,
};
pub use wallet::{Account, WalletMatch, WalletSet};

/// The version of the addrpool library this crate is linked against
/// (`addrpool_version()`), e.g. `"0.1.0"`.
///
/// ```
/// let v = addrpool::version();
/// assert_eq!(v.split('.').count(), 3);
/// ```
pub fn version() -> &'static str {
    // SAFETY: addrpool_version returns a static NUL-terminated ASCII string.
    unsafe { std::ffi::CStr::from_ptr(addrpool_sys::addrpool_version()) }.to_str().unwrap_or("unknown")
}
