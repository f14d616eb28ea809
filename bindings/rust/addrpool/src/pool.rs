//! [`AddressPool`] and [`Reservation`].
use std::fmt;
use std::path::Path;
use std::ptr::NonNull;
use std::time::Duration;

use addrpool_sys as sys;

use crate::address::Address;
use crate::error::{check, expect_ok, Error, ErrorCode};
use crate::guard::ReservationGuard;
use crate::key_source::KeySource;
use crate::text::{read_string, AddressBuf, CText};
use crate::types::{AddressFormat, AddressState, Network, PoolOptions, PoolStats, PoolType};

/// A live hand-out: the index, its address and the ticket that tells this
/// hand-out from a later one of the same index. The ticket is opaque:
/// compare it and pass it back ([`AddressPool::release`]), never decode it.
///
/// ```
/// use addrpool::{AddressPool, KeySource, Network, PoolType};
/// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
/// let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?;
/// let r = pool.reserve(&keys, true)?;
/// assert_eq!((r.index, r.address.as_str()), (0, "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt"));
/// assert!(pool.release(&r));
/// # Ok::<(), addrpool::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reservation {
    /// The index below the pool's base path.
    pub index: u32,
    /// The address at that index.
    pub address: Address,
    /// This hand-out's ticket (opaque).
    pub ticket: u64,
}

impl Reservation {
    /// A hand-out through the C ABI: `call` gets the out-parameters every
    /// reserving call shares (the index, the ticket, and an address buffer of
    /// `ADDRPOOL_ADDRESS_MAX` bytes as pointer and length) and returns the
    /// call's status.
    pub(crate) fn from_c<F>(network: Network, call: F) -> Result<Reservation, Error>
    where
        F: FnOnce(&mut u32, &mut u64, *mut std::os::raw::c_char, usize) -> sys::addrpool_status,
    {
        let mut buf = AddressBuf::new();
        let (mut index, mut ticket) = (0u32, 0u64);
        let (ptr, len) = (buf.as_mut_ptr(), buf.len());
        check(call(&mut index, &mut ticket, ptr, len))?;
        Ok(Reservation { index, address: Address::from_library(buf.text(), network), ticket })
    }
}

/// The addresses of one chain of one account (e.g. the receive chain
/// m/44'/1'/0'/0), handed out to any number of threads without a lock:
/// concurrent hand-outs always get distinct indices, the lowest free one
/// first. Each index is `Unused → Reserved → Used`; reservations are
/// ephemeral (never saved), "used" is durable ([`save`](AddressPool::save)).
///
/// `Send + Sync`: share it by reference (`std::thread::scope`) or in an
/// `Arc`. Every method may run concurrently with every other; dropping it
/// frees the pool (the borrow checker keeps that after the last use).
/// Hand-outs take the [`KeySource`] to derive with and whether to
/// materialize the address (`add_to_state`) per call.
///
/// ```
/// use addrpool::{AddressPool, KeySource, Network, PoolType};
/// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
/// let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?;
/// let got: Vec<u32> = std::thread::scope(|s| {
///     let hs: Vec<_> = (0..4).map(|_| s.spawn(|| pool.reserve(&keys, true).unwrap().index)).collect();
///     hs.into_iter().map(|h| h.join().unwrap()).collect()
/// });
/// let mut sorted = got.clone();
/// sorted.sort();
/// assert_eq!(sorted, vec![0, 1, 2, 3]);
/// # Ok::<(), addrpool::Error>(())
/// ```
pub struct AddressPool {
    raw: NonNull<sys::addrpool_pool>,
    network: Network,
}

// SAFETY: addrpool.h: every function taking a pool may run concurrently with
// every other on the same pool from any thread, except addrpool_pool_free,
// which runs once, in Drop, when no borrow is left.
unsafe impl Send for AddressPool {}
unsafe impl Sync for AddressPool {}

impl Drop for AddressPool {
    fn drop(&mut self) {
        // SAFETY: the pool came from a successful constructor and this is its only free.
        unsafe { sys::addrpool_pool_free(self.raw.as_ptr()) }
    }
}

/// A pool from a constructor's out pointer.
pub(crate) fn adopt<F>(create: F) -> Result<AddressPool, Error>
where
    F: FnOnce(*mut *mut sys::addrpool_pool) -> sys::addrpool_status,
{
    let mut raw: *mut sys::addrpool_pool = std::ptr::null_mut();
    check(create(&mut raw))?;
    let raw = match NonNull::new(raw) {
        Some(p) => p,
        None => return Err(Error::new(ErrorCode::Internal, "the library returned no pool")),
    };
    let mut pool = AddressPool { raw, network: Network::Mainnet };
    pool.network = pool.describe().network;
    Ok(pool)
}

/// A pool's settings, as addrpool_pool_describe reports them.
struct Described {
    network: Network,
    pool_type: PoolType,
    gap_limit: u32,
    format: AddressFormat,
}

impl AddressPool {
    /// A pool without key material, with default options.
    ///
    /// `base_path` is the full path of the addresses' parent, e.g.
    /// "m/44'/1'/0'/0" for the receive chain of account m/44'/1'/0' (account/0
    /// `External`, account/1 `Internal`, the account itself for the `Absent`
    /// types), or the path relative to the account key ("m/0", "m/1", "m").
    /// Every hand-out checks its key source against it.
    ///
    /// Errors: `InvalidPath`; `InvalidArgument` (gap limit above
    /// [`MAX_GAP_LIMIT`](crate::MAX_GAP_LIMIT)).
    ///
    /// ```
    /// use addrpool::{AddressPool, Network, PoolType};
    /// let pool = AddressPool::new("m/44'/1'/0'/1", PoolType::Internal, 20, Network::Testnet)?;
    /// assert_eq!(pool.path_of(5).unwrap(), "m/44'/1'/0'/1/5");
    /// assert!(AddressPool::new("m/44'/x", PoolType::Internal, 20, Network::Testnet).is_err());
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn new(base_path: &str, pool_type: PoolType, gap_limit: u32, network: Network) -> Result<AddressPool, Error> {
        AddressPool::with_options(base_path, pool_type, gap_limit, network, &PoolOptions::default())
    }

    /// As [`new`](AddressPool::new), with options (lookahead, gap policy,
    /// address format, derive threads).
    ///
    /// Errors: as `new`, and `InvalidArgument` for a lookahead above
    /// [`MAX_LOOKAHEAD`](crate::MAX_LOOKAHEAD) or derive threads above
    /// [`MAX_DERIVE_THREADS`](crate::MAX_DERIVE_THREADS).
    ///
    /// ```
    /// use addrpool::{AddressFormat, AddressPool, Network, PoolOptions, PoolType};
    /// let o = PoolOptions { format: AddressFormat::Platform, ..PoolOptions::default() };
    /// let pool = AddressPool::with_options("m/0", PoolType::External, 20, Network::Testnet, &o)?;
    /// assert_eq!(pool.format(), AddressFormat::Platform);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn with_options(
        base_path: &str,
        pool_type: PoolType,
        gap_limit: u32,
        network: Network,
        options: &PoolOptions,
    ) -> Result<AddressPool, Error> {
        let path = CText::new(base_path, ErrorCode::InvalidPath, "the base path")?;
        let options = options.raw_ex();
        // SAFETY: a NUL-terminated path, a valid options struct and out pointer.
        adopt(|out| unsafe {
            sys::addrpool_pool_new_keyless_ex(path.as_ptr(), pool_type.raw(), gap_limit, network.raw(), &options, out)
        })
    }

    /// Reserves the lowest index that is neither used nor reserved and
    /// returns its address. `key_source` derives the address if it is not
    /// derived yet ([`KeySource::none`] works for indices already derived);
    /// `add_to_state` also materializes it (lookups, [`mark_used`](AddressPool::mark_used),
    /// the saved state). To return this hand-out later, use
    /// [`reserve`](AddressPool::reserve), which also gives the ticket.
    ///
    /// Errors: `InvalidArgument` (the key source contradicts the pool: its
    /// network, depth, child number or account path — the message says which —
    /// or it is another account's key than the pool derived with before);
    /// `HardenedFromPublic`; `DepthExceeded`; `NoKeySource`;
    /// `GapLimitReached`; `IndexOutOfRange` (all 2^31 indices taken). On any
    /// error nothing is reserved.
    ///
    /// Lock-free when the index is already derived (the usual case).
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    /// let keys = KeySource::from_mnemonic(words, "", Network::Testnet, "m/44'/1'/0'")?;
    /// let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?;
    /// assert_eq!(pool.next_unused_and_reserve(&keys, true)?.as_str(), "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt");
    /// assert_eq!(pool.next_unused_and_reserve(&keys, true)?.as_str(), "yfd64jEpzzTLrHnR1wq3iiYXh68AiU8mcw");
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn next_unused_and_reserve(&self, key_source: &KeySource, add_to_state: bool) -> Result<Address, Error> {
        let mut buf = AddressBuf::new();
        // SAFETY: a live pool and key source, a buffer of ADDRPOOL_ADDRESS_MAX bytes.
        check(unsafe {
            sys::addrpool_next_unused_and_reserve(
                self.raw.as_ptr(),
                key_source.raw(),
                add_to_state,
                buf.as_mut_ptr(),
                buf.len(),
            )
        })?;
        Ok(Address::from_library(buf.text(), self.network))
    }

    /// As [`next_unused_and_reserve`](AddressPool::next_unused_and_reserve),
    /// returning the index and ticket too.
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// let a = pool.reserve(&keys, true)?;
    /// let b = pool.reserve(&keys, false)?; // reserved, not materialized
    /// assert_eq!((a.index, b.index), (0, 1));
    /// assert_ne!(a.ticket, b.ticket);
    /// assert_eq!(pool.address_at(1), None);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn reserve(&self, key_source: &KeySource, add_to_state: bool) -> Result<Reservation, Error> {
        Reservation::from_c(self.network, |index, ticket, buf, len| {
            // SAFETY: a live pool and key source, valid out pointers, a buffer
            // of ADDRPOOL_ADDRESS_MAX bytes (from_c).
            unsafe {
                sys::addrpool_reserve_with(self.raw.as_ptr(), key_source.raw(), add_to_state, index, ticket, buf, len)
            }
        })
    }

    /// A materialized hand-out in a [`ReservationGuard`], which returns it
    /// (by ticket) when dropped unless [`keep`](ReservationGuard::keep) or
    /// [`mark_used`](ReservationGuard::mark_used) was called: the release an
    /// early return or a cancelled `.await` would otherwise forget.
    ///
    /// ```
    /// use addrpool::{AddressPool, AddressState, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// {
    ///     let g = pool.reserve_guard(&keys)?;
    ///     assert_eq!(pool.state(g.index), AddressState::Reserved);
    /// } // dropped: released
    /// assert_eq!(pool.state(0), AddressState::Unused);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn reserve_guard(&self, key_source: &KeySource) -> Result<ReservationGuard<'_>, Error> {
        Ok(ReservationGuard::new(self, self.reserve(key_source, true)?))
    }

    /// Returns a reservation by index, whoever holds it: Reserved → Unused.
    /// True only if it changed something (false for used, unused or unknown
    /// indices, and for indices ≥ 2^31). Idempotent; lock-free.
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// let a = pool.next_unused_and_reserve(&keys, true)?;
    /// assert!(pool.release_reservation(0));
    /// assert!(!pool.release_reservation(0));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn release_reservation(&self, index: u32) -> bool {
        let mut released = false;
        // SAFETY: a live pool and a valid out pointer.
        let status = unsafe { sys::addrpool_release_index(self.raw.as_ptr(), index, &mut released) };
        status == sys::ADDRPOOL_OK && released
    }

    /// Returns this hand-out, only if its index is still reserved by it
    /// (ticket match): a late second release, after the index was swept and
    /// handed to someone else, returns false and leaves the new holder alone.
    /// Lock-free.
    ///
    /// ```
    /// use std::time::Duration;
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// let first = pool.reserve(&keys, true)?;
    /// pool.sweep_expired_reservations(Duration::ZERO);  // expired
    /// let second = pool.reserve(&keys, true)?;         // the same index again
    /// assert_eq!(first.index, second.index);
    /// assert!(!pool.release(&first));                   // stale: the new holder keeps it
    /// assert!(pool.release(&second));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn release(&self, reservation: &Reservation) -> bool {
        let mut released = false;
        // SAFETY: a live pool and a valid out pointer.
        let status =
            unsafe { sys::addrpool_release(self.raw.as_ptr(), reservation.index, reservation.ticket, &mut released) };
        status == sys::ADDRPOOL_OK && released
    }

    /// Frees every reservation at least `ttl` old (its age read at the pool's
    /// steady clock when the sweep starts; `ttl` rounded up to whole
    /// milliseconds, so nothing is freed early) and returns how many.
    /// `Duration::ZERO` frees every reservation taken before the sweep began.
    /// Lock-free.
    ///
    /// ```
    /// use std::time::Duration;
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// pool.reserve(&keys, true)?;
    /// assert_eq!(pool.sweep_expired_reservations(Duration::from_secs(3600)), 0);
    /// assert_eq!(pool.sweep_expired_reservations(Duration::ZERO), 1);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn sweep_expired_reservations(&self, ttl: Duration) -> usize {
        let mut freed = 0usize;
        // SAFETY: a live pool and a valid out pointer.
        expect_ok(unsafe { sys::addrpool_sweep(self.raw.as_ptr(), ttl_millis(ttl), &mut freed) }, "addrpool_sweep");
        freed
    }

    /// Marks the address used (seen on chain): any state → Used; a
    /// reservation of it is complete (a later release returns false). True
    /// only on a change; false for an address this pool does not know (never
    /// materialized, another chain, a P2SH address, another network family).
    ///
    /// ```
    /// use addrpool::{AddressPool, AddressState, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// let r = pool.reserve(&keys, true)?;
    /// assert!(pool.mark_used(&r.address));
    /// assert_eq!(pool.state(r.index), AddressState::Used);
    /// assert!(!pool.release(&r));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn mark_used(&self, address: &Address) -> bool {
        let text = match CText::new(address.as_str(), ErrorCode::InvalidEncoding, "the address") {
            Ok(t) => t,
            Err(_) => return false,
        };
        let mut changed = false;
        // SAFETY: a live pool, a NUL-terminated address, a valid out pointer.
        let status = unsafe { sys::addrpool_mark_used(self.raw.as_ptr(), text.as_ptr(), &mut changed) };
        status == sys::ADDRPOOL_OK && changed
    }

    /// As [`mark_used`](AddressPool::mark_used), by index (false for indices
    /// the pool never saw, and for indices ≥ 2^31). Lock-free.
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// pool.reserve(&keys, true)?;
    /// assert!(pool.mark_index_used(0));
    /// assert_eq!(pool.next_unused_and_reserve(&keys, true)?, keys.derive_address(PoolType::External, 1, Network::Testnet)?);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn mark_index_used(&self, index: u32) -> bool {
        let mut changed = false;
        // SAFETY: a live pool and a valid out pointer.
        let status = unsafe { sys::addrpool_mark_index_used(self.raw.as_ptr(), index, &mut changed) };
        status == sys::ADDRPOOL_OK && changed
    }

    /// The state of any index (`Unused` for indices never seen and for
    /// indices ≥ 2^31). Lock-free.
    ///
    /// ```
    /// use addrpool::{AddressPool, AddressState, Network, PoolType};
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// assert_eq!(pool.state(u32::MAX), AddressState::Unused);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn state(&self, index: u32) -> AddressState {
        let mut state: sys::addrpool_address_state = sys::ADDRPOOL_STATE_UNUSED;
        // SAFETY: a live pool and a valid out pointer.
        let status = unsafe { sys::addrpool_state(self.raw.as_ptr(), index, &mut state) };
        if status == sys::ADDRPOOL_OK {
            AddressState::from_raw(state)
        } else {
            AddressState::Unused
        }
    }

    /// max(highest used, highest reserved) + 1 + gap limit, or the gap limit
    /// when neither exists (exclusive; at most 2^31): the indices a wallet
    /// should watch on chain. Lock-free.
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// assert_eq!(pool.scan_window_end(), 20);
    /// pool.reserve(&keys, true)?;
    /// assert_eq!(pool.scan_window_end(), 21);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn scan_window_end(&self) -> u32 {
        let mut end = 0u32;
        // SAFETY: a live pool and a valid out pointer.
        expect_ok(unsafe { sys::addrpool_scan_window_end(self.raw.as_ptr(), &mut end) }, "addrpool_scan_window_end");
        end
    }

    /// The durable state (network, base path, type, gap limit, format, every
    /// materialized address with its used flag), in the versioned, checksummed
    /// format [`save`](AddressPool::save) writes. Never reservations or keys.
    /// One snapshot; may run concurrently with hand-outs.
    ///
    /// # Panics
    ///
    /// Only if the library cannot allocate the buffer (out of memory).
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?;
    /// let r = pool.reserve(&keys, true)?;
    /// pool.mark_used(&r.address);
    /// let copy = AddressPool::deserialize(&pool.serialize())?;
    /// assert_eq!(copy.stats().used, 1);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn serialize(&self) -> Vec<u8> {
        let mut bytes: *mut u8 = std::ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: a live pool and valid out pointers.
        expect_ok(unsafe { sys::addrpool_serialize(self.raw.as_ptr(), &mut bytes, &mut len) }, "addrpool_serialize");
        // SAFETY: on success `bytes` holds `len` bytes the library allocated;
        // they are copied, then freed once, with addrpool_bytes_free.
        unsafe {
            let out = std::slice::from_raw_parts(bytes, len).to_vec();
            sys::addrpool_bytes_free(bytes);
            out
        }
    }

    /// A pool from [`serialize`](AddressPool::serialize)'s bytes (or a saved
    /// file's), with no key material: hand-outs bring their key source.
    /// Every index that was not used is unused.
    ///
    /// Errors: `Truncated`, `BadMagic`, `UnsupportedFormat`, `CorruptData`,
    /// `InconsistentData`, `InvalidArgument` (a gap limit above
    /// [`MAX_GAP_LIMIT`](crate::MAX_GAP_LIMIT)).
    ///
    /// ```
    /// use addrpool::{AddressPool, ErrorCode};
    /// assert_eq!(AddressPool::deserialize(b"").unwrap_err().code(), ErrorCode::Truncated);
    /// ```
    pub fn deserialize(bytes: &[u8]) -> Result<AddressPool, Error> {
        // SAFETY: bytes.len() readable bytes and a valid out pointer.
        adopt(|out| unsafe { sys::addrpool_deserialize(bytes.as_ptr(), bytes.len(), out) })
    }

    /// Writes the durable state to `path` crash-safely (temporary file,
    /// fsync, rename, directory fsync); on error `path` keeps its previous
    /// content. Blocking.
    ///
    /// Errors: `IoError` (the message carries the system's reason).
    ///
    /// ```
    /// use addrpool::{AddressPool, Network, PoolType};
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// let path = std::env::temp_dir().join(format!("addrpool-doc-{}.pool", std::process::id()));
    /// pool.save(&path)?;
    /// assert_eq!(AddressPool::load(&path)?.gap_limit(), 20);
    /// std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let path = CText::path(path)?;
        // SAFETY: a live pool and a NUL-terminated path.
        check(unsafe { sys::addrpool_save(self.raw.as_ptr(), path.as_ptr()) })
    }

    /// Reads a pool [`save`](AddressPool::save) wrote, with no key material
    /// (as [`deserialize`](AddressPool::deserialize)).
    ///
    /// Errors: `IoError` and those of `deserialize`.
    ///
    /// ```
    /// use addrpool::{AddressPool, ErrorCode};
    /// let e = AddressPool::load(std::path::Path::new("/nonexistent/pool")).unwrap_err();
    /// assert_eq!(e.code(), ErrorCode::IoError);
    /// ```
    pub fn load(path: &Path) -> Result<AddressPool, Error> {
        let path = CText::path(path)?;
        // SAFETY: a NUL-terminated path, NULL account key (none), an out pointer.
        adopt(|out| unsafe { sys::addrpool_load(path.as_ptr(), std::ptr::null(), out) })
    }

    /// Counters and high-water marks (exact while nothing else changes the
    /// pool). Lock-free.
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// pool.reserve(&keys, true)?;
    /// assert_eq!((pool.stats().reserved, pool.stats().highest_reserved), (1, Some(0)));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn stats(&self) -> PoolStats {
        let mut s = sys::addrpool_pool_stats::default();
        // SAFETY: a live pool and a valid out pointer.
        expect_ok(unsafe { sys::addrpool_stats(self.raw.as_ptr(), &mut s) }, "addrpool_stats");
        PoolStats::from_raw(&s)
    }

    /// The address at a materialized index, in the pool's format.
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// let a = pool.next_unused_and_reserve(&keys, true)?;
    /// assert_eq!(pool.address_at(0), Some(a));
    /// assert_eq!(pool.address_at(7), None);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn address_at(&self, index: u32) -> Option<Address> {
        // SAFETY: a live pool; read_string passes a buffer of buf_len bytes.
        let text = read_string(|buf, len, required| unsafe {
            sys::addrpool_address_at(self.raw.as_ptr(), index, buf, len, required)
        })
        .ok()?;
        Some(Address::from_library(text, self.network))
    }

    /// The materialized index holding `address` (either encoding).
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// let r = pool.reserve(&keys, true)?;
    /// assert_eq!(pool.index_of(&r.address), Some(r.index));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn index_of(&self, address: &Address) -> Option<u32> {
        let text = CText::new(address.as_str(), ErrorCode::InvalidEncoding, "the address").ok()?;
        let (mut index, mut found) = (0u32, false);
        // SAFETY: a live pool, a NUL-terminated address, valid out pointers.
        let status = unsafe { sys::addrpool_index_of(self.raw.as_ptr(), text.as_ptr(), &mut index, &mut found) };
        if status == sys::ADDRPOOL_OK && found {
            Some(index)
        } else {
            None
        }
    }

    /// The full derivation path of an index (base path/index; hardened for
    /// `AbsentHardened`); `None` for indices ≥ 2^31.
    ///
    /// ```
    /// use addrpool::{AddressPool, Network, PoolType};
    /// let pool = AddressPool::new("m/44'/1'/0'", PoolType::AbsentHardened, 20, Network::Testnet)?;
    /// assert_eq!(pool.path_of(3).unwrap(), "m/44'/1'/0'/3'");
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn path_of(&self, index: u32) -> Option<String> {
        // SAFETY: a live pool; read_string passes a buffer of buf_len bytes.
        read_string(|buf, len, required| unsafe { sys::addrpool_path_of(self.raw.as_ptr(), index, buf, len, required) })
            .ok()
    }

    /// The base path the pool was made with.
    ///
    /// ```
    /// use addrpool::{AddressPool, Network, PoolType};
    /// let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?;
    /// assert_eq!(pool.base_path(), "m/44'/1'/0'/0");
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn base_path(&self) -> String {
        // SAFETY: a live pool; read_string passes a buffer of buf_len bytes.
        read_string(|buf, len, required| unsafe { sys::addrpool_base_path(self.raw.as_ptr(), buf, len, required) })
            .unwrap_or_else(|e| panic!("addrpool: addrpool_base_path failed: {}", e))
    }

    /// The pool's network.
    ///
    /// ```
    /// use addrpool::{AddressPool, Network, PoolType};
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Devnet)?;
    /// assert_eq!(pool.network(), Network::Devnet);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn network(&self) -> Network {
        self.network
    }

    /// The pool's type.
    ///
    /// ```
    /// use addrpool::{AddressPool, Network, PoolType};
    /// let pool = AddressPool::new("m", PoolType::Absent, 20, Network::Testnet)?;
    /// assert_eq!(pool.pool_type(), PoolType::Absent);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn pool_type(&self) -> PoolType {
        self.describe().pool_type
    }

    /// The pool's gap limit.
    ///
    /// ```
    /// use addrpool::{AddressPool, Network, PoolType};
    /// let pool = AddressPool::new("m/0", PoolType::External, 50, Network::Testnet)?;
    /// assert_eq!(pool.gap_limit(), 50);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn gap_limit(&self) -> u32 {
        self.describe().gap_limit
    }

    /// The format the pool writes addresses in.
    ///
    /// ```
    /// use addrpool::{AddressFormat, AddressPool, Network, PoolType};
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// assert_eq!(pool.format(), AddressFormat::Base58Check);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn format(&self) -> AddressFormat {
        self.describe().format
    }

    /// The C handle, for the other modules of this crate.
    pub(crate) fn raw_pool(&self) -> *mut sys::addrpool_pool {
        self.raw.as_ptr()
    }

    fn describe(&self) -> Described {
        let mut network: sys::addrpool_network = sys::ADDRPOOL_MAINNET;
        let mut pool_type: sys::addrpool_pool_type = sys::ADDRPOOL_EXTERNAL;
        let mut gap_limit = 0u32;
        let mut format: sys::addrpool_address_format = sys::ADDRPOOL_FORMAT_BASE58CHECK;
        // SAFETY: a live pool and valid out pointers.
        expect_ok(
            unsafe {
                sys::addrpool_pool_describe(
                    self.raw.as_ptr(),
                    &mut network,
                    &mut pool_type,
                    &mut gap_limit,
                    &mut format,
                )
            },
            "addrpool_pool_describe",
        );
        Described {
            network: Network::from_raw(network),
            pool_type: PoolType::from_raw(pool_type),
            gap_limit,
            format: if format == sys::ADDRPOOL_FORMAT_PLATFORM {
                AddressFormat::Platform
            } else {
                AddressFormat::Base58Check
            },
        }
    }
}

impl fmt::Debug for AddressPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddressPool")
            .field("base_path", &self.base_path())
            .field("type", &self.pool_type())
            .field("network", &self.network)
            .field("gap_limit", &self.gap_limit())
            .finish()
    }
}

/// A TTL in whole milliseconds, rounded up (a reservation is never freed
/// before it is `ttl` old), saturating at u64::MAX ("never expires").
fn ttl_millis(ttl: Duration) -> u64 {
    let whole = ttl.as_millis();
    let ms = if ttl.subsec_nanos() % 1_000_000 != 0 { whole + 1 } else { whole };
    if ms > u128::from(u64::MAX) {
        u64::MAX
    } else {
        ms as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ttl_is_rounded_up_to_whole_milliseconds_and_saturates() {
        assert_eq!(ttl_millis(Duration::ZERO), 0);
        assert_eq!(ttl_millis(Duration::from_nanos(1)), 1);
        assert_eq!(ttl_millis(Duration::from_millis(1)), 1);
        assert_eq!(ttl_millis(Duration::from_nanos(1_500_000)), 2);
        assert_eq!(ttl_millis(Duration::from_secs(1800)), 1_800_000);
        assert_eq!(ttl_millis(Duration::MAX), u64::MAX);
    }
}
