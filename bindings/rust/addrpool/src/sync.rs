//! Start-up and sync: replaying used indices, syncing a block's scripts,
//! restoring open hand-outs after a restart, and loading with options
//! (derive threads). The C ABI's "start-up and sync" section.
use std::path::Path;
use std::time::Duration;

use addrpool_sys as sys;

use crate::error::{check, Error};
use crate::key_source::KeySource;
use crate::pool::{adopt, AddressPool, Reservation};
use crate::text::CText;
use crate::types::PoolOptions;

/// One match of [`AddressPool::mark_scripts_used`]: the script at
/// `position` in the batch pays the pool's `index`; `newly_used` is false if
/// the index was used already (before the batch, or at an earlier position).
///
/// ```
/// let m = addrpool::ScriptMatch { position: 4, index: 3, newly_used: true };
/// assert_eq!((m.position, m.index), (4, 3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScriptMatch {
    /// The position of the script in the batch.
    pub position: usize,
    /// The pool index the script pays.
    pub index: u32,
    /// Whether this match made the index used.
    pub newly_used: bool,
}

impl AddressPool {
    /// Marks `index` used, deriving and materializing it first if the pool
    /// has not (a cold start from a wallet database that keeps "used"
    /// itself; [`mark_index_used`](AddressPool::mark_index_used) knows only
    /// derived indices). `Ok(true)` if it became used by this call,
    /// `Ok(false)` if it already was.
    ///
    /// Errors: `IndexOutOfRange` (≥ 2^31); `InvalidArgument` (the key source
    /// contradicts the pool, or is another account's key than the pool
    /// derived with before); `HardenedFromPublic`; `DepthExceeded`;
    /// `NoKeySource`. On error nothing changed.
    ///
    /// Lock-free when the index is derived; otherwise one derivation.
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?;
    /// assert!(!pool.mark_index_used(0)); // a fresh pool has derived nothing
    /// for used in [0, 1, 3] {
    ///     assert!(pool.mark_index_used_with(used, &keys)?); // replayed from the wallet DB
    /// }
    /// assert!(!pool.mark_index_used_with(3, &keys)?);
    /// assert_eq!(pool.reserve(&keys, true)?.index, 2); // hand-outs skip them
    /// assert_eq!(pool.reserve(&keys, true)?.index, 4);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn mark_index_used_with(&self, index: u32, key_source: &KeySource) -> Result<bool, Error> {
        let mut changed = false;
        // SAFETY: a live pool and key source, a valid out pointer.
        check(unsafe { sys::addrpool_mark_index_used_with(self.raw_pool(), key_source.raw(), index, &mut changed) })?;
        Ok(changed)
    }

    /// Syncs one block: every script that is the P2PKH script of an index of
    /// this pool inside the scan window is marked used and reported, in
    /// increasing position order. Scripts come in any order and may be
    /// anything (P2SH, other wallets' payments, OP_RETURN); the window is
    /// derived first and again after each newly used index, so a payment just
    /// past the window is found wherever it sits in the batch. A script that
    /// appears twice is reported twice, `newly_used` only the first time. An
    /// empty batch only derives and materializes the window.
    ///
    /// Errors: `InvalidArgument`, `HardenedFromPublic`, `DepthExceeded` (the
    /// key source contradicts the pool); `NoKeySource` (the window needs
    /// deriving and the key source cannot). Nothing is marked when the first
    /// derivation fails; marks made before a later failure stay (facts about
    /// the chain) and are reported by the next sync of the block.
    ///
    /// Blocking (lookups, derivations on several threads when many are due).
    ///
    /// ```
    /// use addrpool::{AddressPool, AddressState, KeySource, Network, PoolType, ScriptMatch};
    /// let hex = |s: &str| (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect::<Vec<u8>>();
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 5, Network::Testnet)?;
    /// let block = vec![
    ///     hex("76a91425ddfcd593563950f2fa2cebe2a85ab6886c9c9b88ac"), // pays index 8: past the window [0, 5)
    ///     hex("6a02beef"),                                           // OP_RETURN
    ///     hex("76a914628d3ddd3a9413983a0f5ad854fb1c0f8791cd5288ac"), // pays index 3: the window grows to 9
    /// ];
    /// let found = pool.mark_scripts_used(&block, &keys)?;
    /// assert_eq!(found, vec![
    ///     ScriptMatch { position: 0, index: 8, newly_used: true },
    ///     ScriptMatch { position: 2, index: 3, newly_used: true },
    /// ]);
    /// assert_eq!(pool.state(8), AddressState::Used);
    /// assert_eq!(pool.scan_window_end(), 14);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn mark_scripts_used<S: AsRef<[u8]>>(
        &self,
        scripts: &[S],
        key_source: &KeySource,
    ) -> Result<Vec<ScriptMatch>, Error> {
        let ptrs: Vec<*const u8> = scripts.iter().map(|s| s.as_ref().as_ptr()).collect();
        let lens: Vec<usize> = scripts.iter().map(|s| s.as_ref().len()).collect();
        let mut raw = vec![sys::addrpool_script_match::default(); scripts.len()];
        let mut count = 0usize;
        // SAFETY: a live pool and key source; `ptrs[k]` points at `lens[k]`
        // readable bytes (borrowed from `scripts` for the call); `raw` has
        // one entry per script, as the call requires.
        check(unsafe {
            sys::addrpool_mark_scripts_used(
                self.raw_pool(),
                key_source.raw(),
                ptrs.as_ptr(),
                lens.as_ptr(),
                scripts.len(),
                raw.as_mut_ptr(),
                raw.len(),
                &mut count,
            )
        })?;
        raw.truncate(count);
        Ok(raw
            .into_iter()
            .map(|m| ScriptMatch { position: m.position, index: m.index, newly_used: m.newly_used })
            .collect())
    }

    /// Restores a hand-out made before a restart (a payment server's open
    /// invoice): reserves exactly `index` (deriving it if needed) as if it
    /// had been handed out `age` ago — a
    /// [`sweep_expired_reservations`](AddressPool::sweep_expired_reservations)
    /// with a ttl ≤ `age` frees it — with a fresh ticket: a ticket from
    /// before the restart releases nothing. It counts in the gap window;
    /// hand-outs skip it. `age` is taken in whole milliseconds, rounded down;
    /// ages up to about 8.7 years (2^38 ms) plus the pool's own age are kept
    /// exactly, an older one counts as that.
    ///
    /// Errors: `IndexUnavailable` (the index is used or already reserved);
    /// `IndexOutOfRange`; `InvalidArgument`, `HardenedFromPublic`,
    /// `DepthExceeded` (the key source contradicts the pool); `NoKeySource`.
    /// On error nothing is reserved. Of concurrent restores of one index
    /// exactly one succeeds.
    ///
    /// ```
    /// use std::time::Duration;
    /// use addrpool::{AddressPool, AddressState, ErrorCode, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?;
    /// let invoice = pool.restore_reservation(2, Duration::from_secs(600), &keys)?;
    /// assert_eq!(invoice.address.as_str(), "yTGFWr27HBYsb8tkLbGdxLxuKbspamdbnG");
    /// assert_eq!(pool.state(2), AddressState::Reserved);
    /// let again = pool.restore_reservation(2, Duration::ZERO, &keys).unwrap_err();
    /// assert_eq!(again.code(), ErrorCode::IndexUnavailable);
    /// let next: Vec<u32> = (0..3).map(|_| pool.reserve(&keys, true).unwrap().index).collect();
    /// assert_eq!(next, vec![0, 1, 3]);
    /// assert!(pool.release(&invoice));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn restore_reservation(&self, index: u32, age: Duration, key_source: &KeySource) -> Result<Reservation, Error> {
        let age_ms = u64::try_from(age.as_millis()).unwrap_or(u64::MAX);
        Reservation::from_c(self.network(), |out_index, ticket, buf, len| {
            // The index asked for: the C call has no index out-parameter.
            *out_index = index;
            // SAFETY: a live pool and key source, a valid out pointer, a
            // buffer of ADDRPOOL_ADDRESS_MAX bytes (from_c).
            unsafe {
                sys::addrpool_restore_reservation(self.raw_pool(), key_source.raw(), index, age_ms, ticket, buf, len)
            }
        })
    }

    /// As [`deserialize`](AddressPool::deserialize), with options (the
    /// bytes' address format wins over `options.format`).
    ///
    /// Errors: those of `deserialize`; `InvalidArgument` for options out of
    /// range (as [`with_options`](AddressPool::with_options)).
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolOptions, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?;
    /// pool.mark_index_used_with(4, &keys)?;
    /// let o = PoolOptions { derive_threads: 2, ..PoolOptions::default() };
    /// let copy = AddressPool::deserialize_with_options(&pool.serialize(), &o)?;
    /// assert_eq!(copy.stats().used, 1);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn deserialize_with_options(bytes: &[u8], options: &PoolOptions) -> Result<AddressPool, Error> {
        let options = options.raw_ex();
        // SAFETY: bytes.len() readable bytes, a valid options struct and out pointer.
        adopt(|out| unsafe { sys::addrpool_deserialize_ex(bytes.as_ptr(), bytes.len(), &options, out) })
    }

    /// As [`load`](AddressPool::load), with options (as
    /// [`deserialize_with_options`](AddressPool::deserialize_with_options)).
    ///
    /// Errors: those of `load`; `InvalidArgument` for options out of range.
    ///
    /// ```
    /// use addrpool::{AddressPool, ErrorCode, PoolOptions, MAX_DERIVE_THREADS};
    /// let too_many = PoolOptions { derive_threads: MAX_DERIVE_THREADS + 1, ..PoolOptions::default() };
    /// let e = AddressPool::load_with_options(std::path::Path::new("/nonexistent/pool"), &too_many).unwrap_err();
    /// assert_eq!(e.code(), ErrorCode::InvalidArgument);
    /// ```
    pub fn load_with_options(path: &Path, options: &PoolOptions) -> Result<AddressPool, Error> {
        let path = CText::path(path)?;
        let options = options.raw_ex();
        // SAFETY: a NUL-terminated path, NULL account key (none), a valid
        // options struct and out pointer.
        adopt(|out| unsafe { sys::addrpool_load_ex(path.as_ptr(), std::ptr::null(), &options, out) })
    }
}
