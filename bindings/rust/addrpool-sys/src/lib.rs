//! Raw declarations of the addrpool C ABI, one for one with
//! `include/addrpool/addrpool.h` (the reference for every function's
//! arguments, errors, thread safety and progress guarantee).
//!
//! Everything here is `unsafe` to call; the `addrpool` crate is the safe
//! API over it. C enums are `c_int` type aliases with constants (a C enum may
//! hold any int, a Rust enum may not), `bool` is C's `_Bool`, `size_t` is
//! `usize`.
//!
//! Linking: see `build.rs` (`ADDRPOOL_LIB_DIR`, pkg-config, `ADDRPOOL_STATIC=1`).
//!
//! ```
//! use std::ffi::CStr;
//! // SAFETY: addrpool_status_name returns a static NUL-terminated string.
//! let name = unsafe { CStr::from_ptr(addrpool_sys::addrpool_status_name(addrpool_sys::ADDRPOOL_E_BAD_CHECKSUM)) };
//! assert_eq!(name.to_str().unwrap(), "bad_checksum");
//! ```
#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
use std::os::raw::{c_char, c_int, c_void};

/// Bytes an address buffer needs, NUL included.
pub const ADDRPOOL_ADDRESS_MAX: usize = 64;
/// The most addresses a pool keeps derived ahead.
pub const ADDRPOOL_MAX_LOOKAHEAD: u32 = 65536;
/// The largest gap limit the C ABI creates or loads pools with (2^20).
pub const ADDRPOOL_MAX_GAP_LIMIT: u32 = 1048576;
/// The most threads `addrpool_pool_options_ex.derive_threads` may name.
pub const ADDRPOOL_MAX_DERIVE_THREADS: u32 = 256;

/// `addrpool_status`: 0 = OK; 1..27 mirror `addrpool::Errc`; 100.. are C-only.
pub type addrpool_status = c_int;
pub const ADDRPOOL_OK: addrpool_status = 0;
pub const ADDRPOOL_E_INVALID_ARGUMENT: addrpool_status = 1;
pub const ADDRPOOL_E_INVALID_ENCODING: addrpool_status = 2;
pub const ADDRPOOL_E_BAD_CHECKSUM: addrpool_status = 3;
pub const ADDRPOOL_E_UNKNOWN_VERSION: addrpool_status = 4;
pub const ADDRPOOL_E_NETWORK_MISMATCH: addrpool_status = 5;
pub const ADDRPOOL_E_INVALID_PATH: addrpool_status = 6;
pub const ADDRPOOL_E_INVALID_MNEMONIC: addrpool_status = 7;
pub const ADDRPOOL_E_MNEMONIC_CHECKSUM: addrpool_status = 8;
pub const ADDRPOOL_E_INVALID_SEED: addrpool_status = 9;
pub const ADDRPOOL_E_KEY_TYPE_MISMATCH: addrpool_status = 10;
pub const ADDRPOOL_E_INVALID_PUBLIC_KEY: addrpool_status = 11;
pub const ADDRPOOL_E_INVALID_PRIVATE_KEY: addrpool_status = 12;
pub const ADDRPOOL_E_INVALID_KEY_METADATA: addrpool_status = 13;
pub const ADDRPOOL_E_HARDENED_FROM_PUBLIC: addrpool_status = 14;
pub const ADDRPOOL_E_INVALID_CHILD: addrpool_status = 15;
pub const ADDRPOOL_E_DEPTH_EXCEEDED: addrpool_status = 16;
pub const ADDRPOOL_E_NO_KEY_SOURCE: addrpool_status = 17;
pub const ADDRPOOL_E_GAP_LIMIT_REACHED: addrpool_status = 18;
pub const ADDRPOOL_E_INDEX_OUT_OF_RANGE: addrpool_status = 19;
pub const ADDRPOOL_E_IO_ERROR: addrpool_status = 20;
pub const ADDRPOOL_E_TRUNCATED: addrpool_status = 21;
pub const ADDRPOOL_E_BAD_MAGIC: addrpool_status = 22;
pub const ADDRPOOL_E_UNSUPPORTED_FORMAT: addrpool_status = 23;
pub const ADDRPOOL_E_CORRUPT_DATA: addrpool_status = 24;
pub const ADDRPOOL_E_INCONSISTENT_DATA: addrpool_status = 25;
pub const ADDRPOOL_E_INDEX_UNAVAILABLE: addrpool_status = 26;
pub const ADDRPOOL_E_BACKEND_UNAVAILABLE: addrpool_status = 27;
pub const ADDRPOOL_E_NULL_ARGUMENT: addrpool_status = 100;
pub const ADDRPOOL_E_BUFFER_TOO_SMALL: addrpool_status = 101;
pub const ADDRPOOL_E_OUT_OF_MEMORY: addrpool_status = 102;
pub const ADDRPOOL_E_INTERNAL: addrpool_status = 103;

/// `addrpool_network`.
pub type addrpool_network = c_int;
pub const ADDRPOOL_MAINNET: addrpool_network = 0;
pub const ADDRPOOL_TESTNET: addrpool_network = 1;
pub const ADDRPOOL_DEVNET: addrpool_network = 2;
pub const ADDRPOOL_REGTEST: addrpool_network = 3;

/// `addrpool_pool_type`.
pub type addrpool_pool_type = c_int;
pub const ADDRPOOL_EXTERNAL: addrpool_pool_type = 0;
pub const ADDRPOOL_INTERNAL: addrpool_pool_type = 1;
pub const ADDRPOOL_ABSENT: addrpool_pool_type = 2;
pub const ADDRPOOL_ABSENT_HARDENED: addrpool_pool_type = 3;

/// `addrpool_gap_policy`.
pub type addrpool_gap_policy = c_int;
pub const ADDRPOOL_GAP_UNBOUNDED: addrpool_gap_policy = 0;
pub const ADDRPOOL_GAP_ERROR: addrpool_gap_policy = 1;

/// `addrpool_address_format`.
pub type addrpool_address_format = c_int;
pub const ADDRPOOL_FORMAT_BASE58CHECK: addrpool_address_format = 0;
/// Deprecated alias of [`ADDRPOOL_FORMAT_BASE58CHECK`] (as in addrpool.h).
pub const ADDRPOOL_FORMAT_P2PKH: addrpool_address_format = ADDRPOOL_FORMAT_BASE58CHECK;
pub const ADDRPOOL_FORMAT_PLATFORM: addrpool_address_format = 1;

/// `addrpool_address_state`.
pub type addrpool_address_state = c_int;
pub const ADDRPOOL_STATE_UNUSED: addrpool_address_state = 0;
pub const ADDRPOOL_STATE_RESERVED: addrpool_address_state = 1;
pub const ADDRPOOL_STATE_USED: addrpool_address_state = 2;

/// `addrpool_key_kind`.
pub type addrpool_key_kind = c_int;
pub const ADDRPOOL_KEY_NONE: addrpool_key_kind = 0;
pub const ADDRPOOL_KEY_PUBLIC: addrpool_key_kind = 1;
pub const ADDRPOOL_KEY_PRIVATE: addrpool_key_kind = 2;

/// `addrpool_pool_stats`: counters and high-water marks (-1 = none).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct addrpool_pool_stats {
    pub generated: u32,
    pub used: u32,
    pub reserved: u32,
    pub unused: u32,
    pub gap_limit: u32,
    pub highest_used: i64,
    pub highest_reserved: i64,
    pub highest_generated: i64,
}

/// `addrpool_pool_options`: fill with [`addrpool_pool_options_init`] first.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct addrpool_pool_options {
    pub lookahead: u32,
    pub gap_policy: addrpool_gap_policy,
    pub format: addrpool_address_format,
}

/// `addrpool_pool_options_ex`: fill with [`addrpool_pool_options_ex_init`]
/// first (it sets `size`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct addrpool_pool_options_ex {
    pub size: u32,
    pub lookahead: u32,
    pub gap_policy: addrpool_gap_policy,
    pub format: addrpool_address_format,
    pub derive_threads: u32,
}

/// `addrpool_script_match`: one match of [`addrpool_mark_scripts_used`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct addrpool_script_match {
    pub position: usize,
    pub index: u32,
    pub newly_used: bool,
}

/// The opaque `addrpool_pool`.
#[repr(C)]
pub struct addrpool_pool {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// The opaque `addrpool_key_source`.
#[repr(C)]
pub struct addrpool_key_source {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Bytes a script buffer of [`addrpool_wallets_address_script`] needs.
pub const ADDRPOOL_SCRIPT_MAX: usize = 25;

/// The opaque `addrpool_wallets` (a set of accounts).
#[repr(C)]
pub struct addrpool_wallets {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// The opaque `addrpool_wallets_account` (a shared handle to an account).
#[repr(C)]
pub struct addrpool_wallets_account {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `addrpool_wallets_match`: one match of [`addrpool_wallets_mark_scripts_used`];
/// `wallet` points into the array's own buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct addrpool_wallets_match {
    pub position: usize,
    pub wallet: *const c_char,
    pub account: u32,
    pub chain: addrpool_pool_type,
    pub index: u32,
    pub newly_used: bool,
}

/// `addrpool_wallets_keys_fn`: the key source of an account being loaded, or NULL.
pub type addrpool_wallets_keys_fn = Option<
    unsafe extern "C" fn(context: *mut c_void, wallet: *const c_char, account: u32) -> *const addrpool_key_source,
>;

extern "C" {
    // ---- diagnostics
    pub fn addrpool_last_error() -> *const c_char;
    pub fn addrpool_status_name(status: addrpool_status) -> *const c_char;
    pub fn addrpool_version() -> *const c_char;

    // ---- creating and destroying pools
    pub fn addrpool_pool_options_init(options: *mut addrpool_pool_options) -> addrpool_status;
    pub fn addrpool_pool_new_from_key(
        account_key: *const c_char,
        network: addrpool_network,
        pool_type: addrpool_pool_type,
        gap_limit: u32,
        out: *mut *mut addrpool_pool,
    ) -> addrpool_status;
    pub fn addrpool_pool_new(
        account_key: *const c_char,
        account_path: *const c_char,
        network: addrpool_network,
        pool_type: addrpool_pool_type,
        gap_limit: u32,
        options: *const addrpool_pool_options,
        out: *mut *mut addrpool_pool,
    ) -> addrpool_status;
    pub fn addrpool_pool_new_from_mnemonic(
        mnemonic: *const c_char,
        passphrase: *const c_char,
        account_path: *const c_char,
        network: addrpool_network,
        pool_type: addrpool_pool_type,
        gap_limit: u32,
        out: *mut *mut addrpool_pool,
    ) -> addrpool_status;
    pub fn addrpool_pool_new_from_mnemonic_ex(
        mnemonic: *const c_char,
        passphrase: *const c_char,
        account_path: *const c_char,
        network: addrpool_network,
        pool_type: addrpool_pool_type,
        gap_limit: u32,
        options: *const addrpool_pool_options,
        out: *mut *mut addrpool_pool,
    ) -> addrpool_status;
    pub fn addrpool_pool_new_from_seed(
        seed: *const u8,
        seed_len: usize,
        account_path: *const c_char,
        network: addrpool_network,
        pool_type: addrpool_pool_type,
        gap_limit: u32,
        options: *const addrpool_pool_options,
        out: *mut *mut addrpool_pool,
    ) -> addrpool_status;
    pub fn addrpool_pool_new_keyless(
        base_path: *const c_char,
        pool_type: addrpool_pool_type,
        gap_limit: u32,
        network: addrpool_network,
        options: *const addrpool_pool_options,
        out: *mut *mut addrpool_pool,
    ) -> addrpool_status;
    pub fn addrpool_pool_free(pool: *mut addrpool_pool);

    // ---- key sources
    pub fn addrpool_key_source_from_xprv(
        account_xprv: *const c_char,
        out: *mut *mut addrpool_key_source,
    ) -> addrpool_status;
    pub fn addrpool_key_source_from_xpub(
        account_xpub: *const c_char,
        out: *mut *mut addrpool_key_source,
    ) -> addrpool_status;
    pub fn addrpool_key_source_from_mnemonic(
        mnemonic: *const c_char,
        passphrase: *const c_char,
        network: addrpool_network,
        account_path: *const c_char,
        out: *mut *mut addrpool_key_source,
    ) -> addrpool_status;
    pub fn addrpool_key_source_from_seed(
        seed: *const u8,
        seed_len: usize,
        network: addrpool_network,
        account_path: *const c_char,
        out: *mut *mut addrpool_key_source,
    ) -> addrpool_status;
    pub fn addrpool_key_source_none(out: *mut *mut addrpool_key_source) -> addrpool_status;
    pub fn addrpool_key_source_clone(
        source: *const addrpool_key_source,
        out: *mut *mut addrpool_key_source,
    ) -> addrpool_status;
    pub fn addrpool_key_source_free(source: *mut addrpool_key_source);
    pub fn addrpool_key_source_kind(
        source: *const addrpool_key_source,
        kind: *mut addrpool_key_kind,
    ) -> addrpool_status;
    pub fn addrpool_key_source_network(
        source: *const addrpool_key_source,
        network: *mut addrpool_network,
        known: *mut bool,
    ) -> addrpool_status;
    pub fn addrpool_key_source_account_xpub(
        source: *const addrpool_key_source,
        buf: *mut c_char,
        buf_len: usize,
        required: *mut usize,
    ) -> addrpool_status;
    pub fn addrpool_key_source_derive_address(
        source: *const addrpool_key_source,
        pool_type: addrpool_pool_type,
        index: u32,
        network: addrpool_network,
        format: addrpool_address_format,
        address: *mut c_char,
        address_len: usize,
    ) -> addrpool_status;

    // ---- hand-out
    pub fn addrpool_reserve(
        pool: *mut addrpool_pool,
        index: *mut u32,
        ticket: *mut u64,
        address: *mut c_char,
        address_len: usize,
    ) -> addrpool_status;
    pub fn addrpool_reserve_with(
        pool: *mut addrpool_pool,
        keys: *const addrpool_key_source,
        add_to_state: bool,
        index: *mut u32,
        ticket: *mut u64,
        address: *mut c_char,
        address_len: usize,
    ) -> addrpool_status;
    pub fn addrpool_next_unused_and_reserve(
        pool: *mut addrpool_pool,
        keys: *const addrpool_key_source,
        add_to_state: bool,
        address: *mut c_char,
        address_len: usize,
    ) -> addrpool_status;
    pub fn addrpool_release(pool: *mut addrpool_pool, index: u32, ticket: u64, released: *mut bool) -> addrpool_status;
    pub fn addrpool_release_index(pool: *mut addrpool_pool, index: u32, released: *mut bool) -> addrpool_status;
    pub fn addrpool_sweep(pool: *mut addrpool_pool, ttl_ms: u64, freed: *mut usize) -> addrpool_status;

    // ---- sync side
    pub fn addrpool_mark_used(pool: *mut addrpool_pool, address: *const c_char, changed: *mut bool) -> addrpool_status;
    pub fn addrpool_mark_index_used(pool: *mut addrpool_pool, index: u32, changed: *mut bool) -> addrpool_status;

    // ---- start-up and sync
    pub fn addrpool_mark_index_used_with(
        pool: *mut addrpool_pool,
        keys: *const addrpool_key_source,
        index: u32,
        changed: *mut bool,
    ) -> addrpool_status;
    pub fn addrpool_mark_scripts_used(
        pool: *mut addrpool_pool,
        keys: *const addrpool_key_source,
        scripts: *const *const u8,
        script_lens: *const usize,
        count: usize,
        matches: *mut addrpool_script_match,
        matches_len: usize,
        match_count: *mut usize,
    ) -> addrpool_status;
    pub fn addrpool_restore_reservation(
        pool: *mut addrpool_pool,
        keys: *const addrpool_key_source,
        index: u32,
        age_ms: u64,
        ticket: *mut u64,
        address: *mut c_char,
        address_len: usize,
    ) -> addrpool_status;
    pub fn addrpool_pool_options_ex_init(options: *mut addrpool_pool_options_ex) -> addrpool_status;
    pub fn addrpool_pool_new_keyless_ex(
        base_path: *const c_char,
        pool_type: addrpool_pool_type,
        gap_limit: u32,
        network: addrpool_network,
        options: *const addrpool_pool_options_ex,
        out: *mut *mut addrpool_pool,
    ) -> addrpool_status;
    pub fn addrpool_load_ex(
        path: *const c_char,
        account_key: *const c_char,
        options: *const addrpool_pool_options_ex,
        out: *mut *mut addrpool_pool,
    ) -> addrpool_status;
    pub fn addrpool_deserialize_ex(
        bytes: *const u8,
        len: usize,
        options: *const addrpool_pool_options_ex,
        out: *mut *mut addrpool_pool,
    ) -> addrpool_status;

    // ---- queries
    pub fn addrpool_stats(pool: *const addrpool_pool, out: *mut addrpool_pool_stats) -> addrpool_status;
    pub fn addrpool_scan_window_end(pool: *const addrpool_pool, end: *mut u32) -> addrpool_status;
    pub fn addrpool_state(
        pool: *const addrpool_pool,
        index: u32,
        state: *mut addrpool_address_state,
    ) -> addrpool_status;
    pub fn addrpool_address_at(
        pool: *const addrpool_pool,
        index: u32,
        buf: *mut c_char,
        buf_len: usize,
        required: *mut usize,
    ) -> addrpool_status;
    pub fn addrpool_index_of(
        pool: *const addrpool_pool,
        address: *const c_char,
        index: *mut u32,
        found: *mut bool,
    ) -> addrpool_status;
    pub fn addrpool_path_of(
        pool: *const addrpool_pool,
        index: u32,
        buf: *mut c_char,
        buf_len: usize,
        required: *mut usize,
    ) -> addrpool_status;
    pub fn addrpool_pool_describe(
        pool: *const addrpool_pool,
        network: *mut addrpool_network,
        pool_type: *mut addrpool_pool_type,
        gap_limit: *mut u32,
        format: *mut addrpool_address_format,
    ) -> addrpool_status;
    pub fn addrpool_base_path(
        pool: *const addrpool_pool,
        buf: *mut c_char,
        buf_len: usize,
        required: *mut usize,
    ) -> addrpool_status;

    // ---- addresses
    pub fn addrpool_address_parse(
        text: *const c_char,
        network: addrpool_network,
        canonical: *mut c_char,
        canonical_len: usize,
    ) -> addrpool_status;

    // ---- persistence
    pub fn addrpool_save(pool: *const addrpool_pool, path: *const c_char) -> addrpool_status;
    pub fn addrpool_load(
        path: *const c_char,
        account_key: *const c_char,
        out: *mut *mut addrpool_pool,
    ) -> addrpool_status;
    pub fn addrpool_serialize(pool: *const addrpool_pool, bytes: *mut *mut u8, len: *mut usize) -> addrpool_status;
    pub fn addrpool_bytes_free(bytes: *mut u8);
    pub fn addrpool_deserialize(bytes: *const u8, len: usize, out: *mut *mut addrpool_pool) -> addrpool_status;
    // ---- wallet sets
    pub fn addrpool_wallets_new(out: *mut *mut addrpool_wallets) -> addrpool_status;
    pub fn addrpool_wallets_free(set: *mut addrpool_wallets);
    pub fn addrpool_wallets_account_new(
        keys: *const addrpool_key_source,
        account_path: *const c_char,
        network: addrpool_network,
        gap_limit: u32,
        options: *const addrpool_pool_options,
        out: *mut *mut addrpool_wallets_account,
    ) -> addrpool_status;
    pub fn addrpool_wallets_account_new_ex(
        keys: *const addrpool_key_source,
        account_path: *const c_char,
        network: addrpool_network,
        gap_limit: u32,
        options: *const addrpool_pool_options_ex,
        out: *mut *mut addrpool_wallets_account,
    ) -> addrpool_status;
    pub fn addrpool_wallets_account_free(account: *mut addrpool_wallets_account);
    pub fn addrpool_wallets_add(
        set: *mut addrpool_wallets,
        wallet: *const c_char,
        account_number: u32,
        account: *const addrpool_wallets_account,
        added: *mut bool,
    ) -> addrpool_status;
    pub fn addrpool_wallets_remove(
        set: *mut addrpool_wallets,
        wallet: *const c_char,
        account_number: u32,
        removed: *mut bool,
    ) -> addrpool_status;
    pub fn addrpool_wallets_find(
        set: *const addrpool_wallets,
        wallet: *const c_char,
        account_number: u32,
        out: *mut *mut addrpool_wallets_account,
    ) -> addrpool_status;
    pub fn addrpool_wallets_size(set: *const addrpool_wallets, size: *mut usize) -> addrpool_status;
    pub fn addrpool_wallets_account_describe(
        account: *const addrpool_wallets_account,
        network: *mut addrpool_network,
        gap_limit: *mut u32,
        format: *mut addrpool_address_format,
    ) -> addrpool_status;
    pub fn addrpool_wallets_account_reserve(
        account: *mut addrpool_wallets_account,
        chain: addrpool_pool_type,
        index: *mut u32,
        ticket: *mut u64,
        address: *mut c_char,
        address_len: usize,
    ) -> addrpool_status;
    pub fn addrpool_wallets_account_release(
        account: *mut addrpool_wallets_account,
        chain: addrpool_pool_type,
        index: u32,
        ticket: u64,
        released: *mut bool,
    ) -> addrpool_status;
    pub fn addrpool_wallets_account_stats(
        account: *const addrpool_wallets_account,
        chain: addrpool_pool_type,
        out: *mut addrpool_pool_stats,
    ) -> addrpool_status;
    pub fn addrpool_wallets_account_scan_window_end(
        account: *const addrpool_wallets_account,
        chain: addrpool_pool_type,
        end: *mut u32,
    ) -> addrpool_status;
    pub fn addrpool_wallets_account_state(
        account: *const addrpool_wallets_account,
        chain: addrpool_pool_type,
        index: u32,
        state: *mut addrpool_address_state,
    ) -> addrpool_status;
    pub fn addrpool_wallets_mark_scripts_used(
        set: *mut addrpool_wallets,
        scripts: *const *const u8,
        script_lens: *const usize,
        count: usize,
        matches: *mut *mut addrpool_wallets_match,
        match_count: *mut usize,
    ) -> addrpool_status;
    pub fn addrpool_wallets_address_script(
        address: *const c_char,
        script: *mut u8,
        script_len: usize,
        len: *mut usize,
    ) -> addrpool_status;
    pub fn addrpool_wallets_matches_free(matches: *mut addrpool_wallets_match);
    pub fn addrpool_wallets_sweep(set: *mut addrpool_wallets, ttl_ms: u64, freed: *mut usize) -> addrpool_status;
    pub fn addrpool_wallets_save(
        set: *mut addrpool_wallets,
        dir: *const c_char,
        written: *mut usize,
    ) -> addrpool_status;
    pub fn addrpool_wallets_load(
        dir: *const c_char,
        keys: addrpool_wallets_keys_fn,
        context: *mut c_void,
        options: *const addrpool_pool_options,
        out: *mut *mut addrpool_wallets,
    ) -> addrpool_status;
}

#[cfg(test)]
mod tests;
