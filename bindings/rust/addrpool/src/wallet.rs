//! [`WalletSet`], [`Account`] and [`WalletMatch`]: every account of a
//! service in one set (the C ABI's `addrpool_wallets_*`, C++'s
//! `<addrpool/wallet.hpp>`).
use std::any::Any;
use std::ffi::CStr;
use std::fmt;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

use addrpool_sys as sys;

use crate::address::Address;
use crate::error::{check, expect_ok, Error, ErrorCode};
use crate::key_source::KeySource;
use crate::pool::Reservation;
use crate::text::CText;
use crate::types::{AddressState, Network, PoolOptions, PoolStats, PoolType};

/// The C handle of an account; freed once, when the last [`Account`] clone
/// is dropped.
struct AccountHandle(NonNull<sys::addrpool_wallets_account>);

// SAFETY: addrpool.h: every function taking an account handle may run
// concurrently from any thread; addrpool_wallets_account_free runs once, in
// Drop, when no other reference exists.
unsafe impl Send for AccountHandle {}
unsafe impl Sync for AccountHandle {}

impl Drop for AccountHandle {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful constructor or find, and this is its only free.
        unsafe { sys::addrpool_wallets_account_free(self.0.as_ptr()) }
    }
}

/// A BIP44-style account: a receive pool (`External`, account/0/i) and a
/// change pool (`Internal`, account/1/i) over one [`KeySource`]. Hand-outs
/// are lock-free and never give two callers the same index. Cheap to clone
/// (clones are the same account); `Send + Sync`. An account lives while a
/// clone or a [`WalletSet`] holds it: one removed from its set stays usable.
///
/// ```
/// use addrpool::{Account, KeySource, Network};
/// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
/// let account = Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?;
/// let r = account.next_receive_address()?;
/// assert_eq!((r.index, r.address.as_str()), (0, "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt"));
/// assert_eq!(account.next_change_address()?.address.as_str(), "yNwHG9D2rnrJRQ8j7TG6xnWfbr8D634HeM");
/// # Ok::<(), addrpool::Error>(())
/// ```
#[derive(Clone)]
pub struct Account {
    handle: Arc<AccountHandle>,
    network: Network,
}

fn chain_raw(chain: PoolType) -> Result<sys::addrpool_pool_type, Error> {
    match chain {
        PoolType::External | PoolType::Internal => Ok(chain.raw()),
        _ => Err(Error::new(ErrorCode::InvalidArgument, "an account's chains are External and Internal")),
    }
}

impl Account {
    /// A new account at `account_path` (its full path, e.g. "m/44'/1'/0'"),
    /// with default pool options. Derives nothing. `keys` is shared, not
    /// copied.
    ///
    /// Errors: `InvalidPath` (also for a NUL byte in the path);
    /// `InvalidArgument` (the path or network contradicts the key, the
    /// addresses would be deeper than 255, `gap_limit` 0 or above
    /// [`MAX_GAP_LIMIT`](crate::MAX_GAP_LIMIT)).
    ///
    /// ```
    /// use addrpool::{Account, ErrorCode, KeySource, Network};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let wrong = Account::bip44(&keys, "m/44'/1'/7'", Network::Testnet, 20).unwrap_err();
    /// assert_eq!(wrong.code(), ErrorCode::InvalidArgument);
    /// assert!(Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 0).is_err());
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn bip44(keys: &KeySource, account_path: &str, network: Network, gap_limit: u32) -> Result<Account, Error> {
        Account::bip44_with_options(keys, account_path, network, gap_limit, &PoolOptions::default())
    }

    /// As [`bip44`](Account::bip44), with options for both pools, e.g.
    /// `derive_threads` for the threads that derive the account's scan
    /// windows and block-sync ranges.
    ///
    /// Errors: those of [`bip44`](Account::bip44), and `InvalidArgument` for
    /// a lookahead above [`MAX_LOOKAHEAD`](crate::MAX_LOOKAHEAD) or
    /// `derive_threads` above [`MAX_DERIVE_THREADS`](crate::MAX_DERIVE_THREADS).
    ///
    /// ```
    /// use addrpool::{Account, AddressFormat, KeySource, Network, PoolOptions};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let o = PoolOptions { format: AddressFormat::Platform, derive_threads: 2, ..PoolOptions::default() };
    /// let account = Account::bip44_with_options(&keys, "m/44'/1'/0'", Network::Testnet, 20, &o)?;
    /// assert!(account.next_receive_address()?.address.as_str().starts_with("tdash1k"));
    /// let too_many = PoolOptions { derive_threads: addrpool::MAX_DERIVE_THREADS + 1, ..PoolOptions::default() };
    /// let e = Account::bip44_with_options(&keys, "m/44'/1'/0'", Network::Testnet, 20, &too_many).unwrap_err();
    /// assert_eq!(e.code(), addrpool::ErrorCode::InvalidArgument);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn bip44_with_options(
        keys: &KeySource,
        account_path: &str,
        network: Network,
        gap_limit: u32,
        options: &PoolOptions,
    ) -> Result<Account, Error> {
        let path = CText::new(account_path, ErrorCode::InvalidPath, "the account path")?;
        let o = options.raw_ex();
        let mut raw: *mut sys::addrpool_wallets_account = std::ptr::null_mut();
        // SAFETY: a live key source, a NUL-terminated path, valid options and out pointer.
        check(unsafe {
            sys::addrpool_wallets_account_new_ex(keys.raw(), path.as_ptr(), network.raw(), gap_limit, &o, &mut raw)
        })?;
        Account::adopt(raw)
    }

    fn adopt(raw: *mut sys::addrpool_wallets_account) -> Result<Account, Error> {
        let raw = match NonNull::new(raw) {
            Some(p) => p,
            None => return Err(Error::new(ErrorCode::Internal, "the library returned no account")),
        };
        let handle = Arc::new(AccountHandle(raw));
        let mut net: sys::addrpool_network = sys::ADDRPOOL_MAINNET;
        // SAFETY: a live account and a valid out pointer (the others may be NULL).
        check(unsafe {
            sys::addrpool_wallets_account_describe(
                handle.0.as_ptr(),
                &mut net,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        })?;
        Ok(Account { handle, network: Network::from_raw(net) })
    }

    fn raw(&self) -> *mut sys::addrpool_wallets_account {
        self.handle.0.as_ptr()
    }

    fn hand_out(&self, chain: PoolType) -> Result<Reservation, Error> {
        Reservation::from_c(self.network, |index, ticket, buf, len| {
            // SAFETY: a live account, valid out pointers, a buffer of
            // ADDRPOOL_ADDRESS_MAX bytes (from_c).
            unsafe { sys::addrpool_wallets_account_reserve(self.raw(), chain.raw(), index, ticket, buf, len) }
        })
    }

    /// Reserves the lowest free receive address (external chain): as
    /// [`AddressPool::reserve`](crate::AddressPool::reserve) with the
    /// account's key source, materialized. Lock-free when the index is
    /// derived.
    ///
    /// ```
    /// use addrpool::{Account, KeySource, Network};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let account = Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?;
    /// assert_eq!(account.next_receive_address()?.address.as_str(), "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt");
    /// assert_eq!(account.next_receive_address()?.address.as_str(), "yfd64jEpzzTLrHnR1wq3iiYXh68AiU8mcw");
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn next_receive_address(&self) -> Result<Reservation, Error> {
        self.hand_out(PoolType::External)
    }

    /// Reserves the lowest free change address (internal chain).
    ///
    /// ```
    /// use addrpool::{Account, KeySource, Network};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let account = Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?;
    /// assert_eq!(account.next_change_address()?.index, 0);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn next_change_address(&self) -> Result<Reservation, Error> {
        self.hand_out(PoolType::Internal)
    }

    /// Returns a hand-out of `chain` (only if it is still reserved by that
    /// very hand-out: the ticket). True only if it changed something; false
    /// also for a chain other than `External`/`Internal`. Lock-free.
    ///
    /// ```
    /// use addrpool::{Account, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let account = Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?;
    /// let r = account.next_receive_address()?;
    /// assert!(!account.release(PoolType::Internal, &r));
    /// assert!(account.release(PoolType::External, &r));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn release(&self, chain: PoolType, reservation: &Reservation) -> bool {
        let chain = match chain_raw(chain) {
            Ok(c) => c,
            Err(_) => return false,
        };
        let mut released = false;
        // SAFETY: a live account and a valid out pointer.
        let status = unsafe {
            sys::addrpool_wallets_account_release(
                self.raw(),
                chain,
                reservation.index,
                reservation.ticket,
                &mut released,
            )
        };
        status == sys::ADDRPOOL_OK && released
    }

    /// The counters of `chain`. Errors: `InvalidArgument` for a chain other
    /// than `External`/`Internal`. Lock-free.
    ///
    /// ```
    /// use addrpool::{Account, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let account = Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?;
    /// account.next_change_address()?;
    /// assert_eq!(account.stats(PoolType::Internal)?.reserved, 1);
    /// assert_eq!(account.stats(PoolType::External)?.reserved, 0);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn stats(&self, chain: PoolType) -> Result<PoolStats, Error> {
        let chain = chain_raw(chain)?;
        let mut s = sys::addrpool_pool_stats::default();
        // SAFETY: a live account and a writable stats struct.
        check(unsafe { sys::addrpool_wallets_account_stats(self.raw(), chain, &mut s) })?;
        Ok(PoolStats::from_raw(&s))
    }

    /// The scan window end of `chain`: max(highest used, highest reserved) +
    /// 1 + gap limit. Errors: `InvalidArgument` (chain). Lock-free.
    ///
    /// ```
    /// use addrpool::{Account, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let account = Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?;
    /// assert_eq!(account.scan_window_end(PoolType::External)?, 20);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn scan_window_end(&self, chain: PoolType) -> Result<u32, Error> {
        let chain = chain_raw(chain)?;
        let mut end = 0u32;
        // SAFETY: a live account and a valid out pointer.
        check(unsafe { sys::addrpool_wallets_account_scan_window_end(self.raw(), chain, &mut end) })?;
        Ok(end)
    }

    /// The state of an index of `chain` (`Unused` for a chain other than
    /// `External`/`Internal` or an index ≥ 2^31). Lock-free.
    ///
    /// ```
    /// use addrpool::{Account, AddressState, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let account = Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?;
    /// account.next_receive_address()?;
    /// assert_eq!(account.state(PoolType::External, 0), AddressState::Reserved);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn state(&self, chain: PoolType, index: u32) -> AddressState {
        let chain = match chain_raw(chain) {
            Ok(c) => c,
            Err(_) => return AddressState::Unused,
        };
        let mut state: sys::addrpool_address_state = sys::ADDRPOOL_STATE_UNUSED;
        // SAFETY: a live account and a valid out pointer.
        let status = unsafe { sys::addrpool_wallets_account_state(self.raw(), chain, index, &mut state) };
        if status == sys::ADDRPOOL_OK {
            AddressState::from_raw(state)
        } else {
            AddressState::Unused
        }
    }

    /// The account's network.
    ///
    /// ```
    /// use addrpool::{Account, KeySource, Network};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// assert_eq!(Account::bip44(&keys, "m/44'/1'/0'", Network::Regtest, 20)?.network(), Network::Regtest);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn network(&self) -> Network {
        self.network
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account").field("network", &self.network).finish_non_exhaustive()
    }
}

/// One match of [`WalletSet::mark_scripts_used`].
///
/// ```
/// use addrpool::{PoolType, WalletMatch};
/// let m = WalletMatch { position: 3, wallet: "shop".into(), account: 0, chain: PoolType::External, index: 7, newly_used: true };
/// assert_eq!(m.clone(), m);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WalletMatch {
    /// Index into the scripts passed in.
    pub position: usize,
    /// The wallet the account is registered under.
    pub wallet: String,
    /// Its account number.
    pub account: u32,
    /// `External` or `Internal`.
    pub chain: PoolType,
    /// The index the script pays.
    pub index: u32,
    /// False if the index was used already.
    pub newly_used: bool,
}

/// Every account of a service in one set, under (wallet, account number),
/// with one script index for all their pools: [`find`](WalletSet::find) is
/// lock-free (never waits for `add`/`remove`), and
/// [`mark_scripts_used`](WalletSet::mark_scripts_used) matches a whole block
/// with one lookup per output whatever the number of accounts. Saves are
/// incremental and crash-safe. `Send + Sync`: share it by reference or in
/// an `Arc`.
///
/// ```
/// use addrpool::{Account, KeySource, Network, WalletSet};
/// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
/// let set = WalletSet::new();
/// assert!(set.add("shop", 0, &Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?)?);
/// let r = set.find("shop", 0).unwrap().next_receive_address()?;
/// let block = vec![r.address.script_pubkey()?];
/// let matches = set.mark_scripts_used(&block)?;
/// assert_eq!((matches[0].wallet.as_str(), matches[0].index), ("shop", 0));
/// # Ok::<(), addrpool::Error>(())
/// ```
pub struct WalletSet {
    raw: NonNull<sys::addrpool_wallets>,
}

// SAFETY: addrpool.h: every function taking a set may run concurrently with
// every other from any thread, except addrpool_wallets_free, which runs once,
// in Drop, when no borrow is left.
unsafe impl Send for WalletSet {}
unsafe impl Sync for WalletSet {}

impl Drop for WalletSet {
    fn drop(&mut self) {
        // SAFETY: the set came from a successful constructor and this is its only free.
        unsafe { sys::addrpool_wallets_free(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for WalletSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletSet").field("len", &self.len()).finish()
    }
}

impl Default for WalletSet {
    fn default() -> WalletSet {
        WalletSet::new()
    }
}

fn wallet_text(wallet: &str) -> Result<CText, Error> {
    CText::new(wallet, ErrorCode::InvalidArgument, "the wallet name")
}

fn adopt_set(raw: *mut sys::addrpool_wallets) -> Result<WalletSet, Error> {
    match NonNull::new(raw) {
        Some(raw) => Ok(WalletSet { raw }),
        None => Err(Error::new(ErrorCode::Internal, "the library returned no set")),
    }
}

/// What the load callback trampoline works with.
struct LoadContext<'a> {
    keys: &'a mut dyn FnMut(&str, u32) -> Option<KeySource>,
    last: Option<KeySource>, // alive until the library has taken its reference
    panic: Option<Box<dyn Any + Send>>,
}

// Not `unsafe fn`: its body's unsafe blocks say what each relies on (the
// pointer coerces to the C type's `unsafe extern "C" fn`).
extern "C" fn keys_trampoline(
    context: *mut c_void,
    wallet: *const c_char,
    account: u32,
) -> *const sys::addrpool_key_source {
    // SAFETY: `context` is the LoadContext WalletSet::load passed for this call.
    let ctx = unsafe { &mut *(context as *mut LoadContext) };
    if ctx.panic.is_some() {
        return std::ptr::null();
    }
    // SAFETY: the library passes a NUL-terminated name valid during the call.
    let name = unsafe { CStr::from_ptr(wallet) }.to_string_lossy().into_owned();
    let keys = &mut *ctx.keys;
    match catch_unwind(AssertUnwindSafe(|| keys(&name, account))) {
        Ok(found) => {
            ctx.last = found;
            ctx.last.as_ref().map_or(std::ptr::null(), |k| k.raw())
        }
        Err(payload) => {
            ctx.panic = Some(payload); // re-raised once load returns
            std::ptr::null()
        }
    }
}

impl WalletSet {
    /// A new, empty set.
    ///
    /// # Panics
    ///
    /// Only if the library cannot allocate it (out of memory).
    ///
    /// ```
    /// assert_eq!(addrpool::WalletSet::new().len(), 0);
    /// ```
    pub fn new() -> WalletSet {
        let mut raw: *mut sys::addrpool_wallets = std::ptr::null_mut();
        // SAFETY: a valid out pointer.
        expect_ok(unsafe { sys::addrpool_wallets_new(&mut raw) }, "addrpool_wallets_new");
        adopt_set(raw).expect("addrpool_wallets_new returned no set")
    }

    /// Registers `account` under (`wallet`, `account_number`). `Ok(false)` if
    /// that key is taken, or the account is registered in this set already,
    /// or belongs to another set (an account joins one set in its life; it
    /// may be removed and added again). Derives nothing. Never blocks
    /// [`find`](WalletSet::find) or hand-outs.
    ///
    /// Errors: `InvalidArgument` for a NUL byte in `wallet`.
    ///
    /// ```
    /// use addrpool::{Account, KeySource, Network, WalletSet};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let account = Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?;
    /// let set = WalletSet::new();
    /// assert!(set.add("shop", 0, &account)?);
    /// assert!(!set.add("shop", 0, &account)?);
    /// assert!(!WalletSet::new().add("elsewhere", 0, &account)?);
    /// assert!(set.add("bad\0name", 1, &account).is_err());
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn add(&self, wallet: &str, account_number: u32, account: &Account) -> Result<bool, Error> {
        let wallet = wallet_text(wallet)?;
        let mut added = false;
        // SAFETY: a live set and account, a NUL-terminated name, a valid out pointer.
        check(unsafe {
            sys::addrpool_wallets_add(self.raw.as_ptr(), wallet.as_ptr(), account_number, account.raw(), &mut added)
        })?;
        Ok(added)
    }

    /// Unregisters (`wallet`, `account_number`); false if absent (or the name
    /// holds a NUL byte). Clones of the account stay usable.
    ///
    /// ```
    /// use addrpool::{Account, KeySource, Network, WalletSet};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let set = WalletSet::new();
    /// set.add("shop", 0, &Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?)?;
    /// let held = set.find("shop", 0).unwrap();
    /// assert!(set.remove("shop", 0));
    /// assert!(!set.remove("shop", 0));
    /// assert!(held.next_receive_address().is_ok());
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn remove(&self, wallet: &str, account_number: u32) -> bool {
        let wallet = match wallet_text(wallet) {
            Ok(w) => w,
            Err(_) => return false,
        };
        let mut removed = false;
        // SAFETY: a live set, a NUL-terminated name, a valid out pointer.
        let status =
            unsafe { sys::addrpool_wallets_remove(self.raw.as_ptr(), wallet.as_ptr(), account_number, &mut removed) };
        status == sys::ADDRPOOL_OK && removed
    }

    /// The account registered under (`wallet`, `account_number`), if any.
    /// Lock-free apart from allocating the handle: never waits for
    /// `add`/`remove` or another reader.
    ///
    /// # Panics
    ///
    /// Only if the library cannot allocate the handle (out of memory).
    ///
    /// ```
    /// use addrpool::WalletSet;
    /// assert!(WalletSet::new().find("nobody", 0).is_none());
    /// ```
    pub fn find(&self, wallet: &str, account_number: u32) -> Option<Account> {
        let wallet = wallet_text(wallet).ok()?;
        let mut raw: *mut sys::addrpool_wallets_account = std::ptr::null_mut();
        // SAFETY: a live set, a NUL-terminated name, a valid out pointer.
        let status =
            unsafe { sys::addrpool_wallets_find(self.raw.as_ptr(), wallet.as_ptr(), account_number, &mut raw) };
        expect_ok(status, "addrpool_wallets_find");
        if raw.is_null() {
            return None;
        }
        Some(Account::adopt(raw).expect("a found account describes itself"))
    }

    /// How many accounts are registered. Lock-free.
    ///
    /// ```
    /// assert_eq!(addrpool::WalletSet::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        let mut n = 0usize;
        // SAFETY: a live set and a valid out pointer.
        expect_ok(unsafe { sys::addrpool_wallets_size(self.raw.as_ptr(), &mut n) }, "addrpool_wallets_size");
        n
    }

    /// Whether no account is registered.
    ///
    /// ```
    /// assert!(addrpool::WalletSet::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One block: every script that pays any address of any account in the
    /// set (a P2PKH script inside its pool's scan window) is marked used and
    /// reported in increasing position order; windows widen across the whole
    /// batch and every account. One lookup per script whatever the number
    /// of accounts.
    ///
    /// Errors: `InvalidArgument` (an account given another account's key:
    /// the message names it), `InvalidChild`.
    ///
    /// ```
    /// use addrpool::{Account, KeySource, Network, PoolType, WalletSet};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let set = WalletSet::new();
    /// set.add("shop", 0, &Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 5)?)?;
    /// // Index 8 is outside the window until index 4, later in the block, is paid.
    /// let pay = |i| keys.derive_address(PoolType::External, i, Network::Testnet).unwrap().script_pubkey().unwrap();
    /// let matches = set.mark_scripts_used(&[pay(8), vec![0x6a], pay(4)])?;
    /// let found: Vec<_> = matches.iter().map(|m| (m.position, m.index)).collect();
    /// assert_eq!(found, vec![(0, 8), (2, 4)]);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn mark_scripts_used<S: AsRef<[u8]>>(&self, scripts: &[S]) -> Result<Vec<WalletMatch>, Error> {
        let ptrs: Vec<*const u8> = scripts.iter().map(|s| s.as_ref().as_ptr()).collect();
        let lens: Vec<usize> = scripts.iter().map(|s| s.as_ref().len()).collect();
        let mut matches: *mut sys::addrpool_wallets_match = std::ptr::null_mut();
        let mut count = 0usize;
        // SAFETY: a live set; `count` script pointers and lengths that stay
        // valid during the call; valid out pointers.
        check(unsafe {
            sys::addrpool_wallets_mark_scripts_used(
                self.raw.as_ptr(),
                ptrs.as_ptr(),
                lens.as_ptr(),
                scripts.len(),
                &mut matches,
                &mut count,
            )
        })?;
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            // SAFETY: the library returned `count` matches in one buffer;
            // each wallet name is NUL-terminated inside it.
            let m = unsafe { &*matches.add(i) };
            let wallet = unsafe { CStr::from_ptr(m.wallet) }.to_string_lossy().into_owned();
            out.push(WalletMatch {
                position: m.position,
                wallet,
                account: m.account,
                chain: PoolType::from_raw(m.chain),
                index: m.index,
                newly_used: m.newly_used,
            });
        }
        // SAFETY: the buffer came from this call and is freed once.
        unsafe { sys::addrpool_wallets_matches_free(matches) };
        Ok(out)
    }

    /// Frees every reservation at least `ttl` old in every pool of every
    /// account; returns how many. Lock-free.
    ///
    /// ```
    /// use std::time::Duration;
    /// use addrpool::{Account, KeySource, Network, WalletSet};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let set = WalletSet::new();
    /// let account = Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?;
    /// set.add("shop", 0, &account)?;
    /// account.next_receive_address()?;
    /// assert_eq!(set.sweep_expired_reservations(Duration::from_secs(3600)), 0);
    /// assert_eq!(set.sweep_expired_reservations(Duration::ZERO), 1);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn sweep_expired_reservations(&self, ttl: Duration) -> usize {
        let ms = ttl.as_nanos().saturating_add(999_999) / 1_000_000;
        let ms = if ms > u64::MAX as u128 { u64::MAX } else { ms as u64 };
        let mut freed = 0usize;
        // SAFETY: a live set and a valid out pointer.
        expect_ok(unsafe { sys::addrpool_wallets_sweep(self.raw.as_ptr(), ms, &mut freed) }, "addrpool_wallets_sweep");
        freed
    }

    /// Crash-safe, incremental save into the directory `dir` (created if
    /// missing): returns how many pool files it wrote — only the pools that
    /// changed since this set's previous save to `dir` — then renames a
    /// manifest into place, so a crash leaves the old or the new set, whole.
    ///
    /// Errors: `IoError` (the directory still holds the previous save).
    ///
    /// ```
    /// use addrpool::{Account, KeySource, Network, WalletSet};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let dir = std::env::temp_dir().join(format!("addrpool-doc-save-{}", std::process::id()));
    /// let set = WalletSet::new();
    /// let account = Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?;
    /// set.add("shop", 0, &account)?;
    /// assert_eq!(set.save(&dir)?, 2);
    /// assert_eq!(set.save(&dir)?, 0);
    /// account.next_receive_address()?;  // materializes index 0: durable
    /// assert_eq!(set.save(&dir)?, 1);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn save(&self, dir: &Path) -> Result<usize, Error> {
        let dir = CText::path(dir)?;
        let mut written = 0usize;
        // SAFETY: a live set, a NUL-terminated path, a valid out pointer.
        check(unsafe { sys::addrpool_wallets_save(self.raw.as_ptr(), dir.as_ptr(), &mut written) })?;
        Ok(written)
    }

    /// The set [`save`](WalletSet::save) wrote in `dir`. `keys` gives each
    /// account's key source back (`None`: watch-only, the account hands out
    /// and matches only what its files hold); it is called once per account,
    /// on this thread. A panic in `keys` stops the load and is re-raised.
    ///
    /// Errors: `IoError` (missing manifest or pool file), `BadMagic`,
    /// `UnsupportedFormat`, `Truncated`, `CorruptData`, `InconsistentData`,
    /// `InvalidArgument` (a key source that does not fit its account).
    ///
    /// ```
    /// use addrpool::{Account, ErrorCode, KeySource, Network, WalletSet};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let dir = std::env::temp_dir().join(format!("addrpool-doc-load-{}", std::process::id()));
    /// let set = WalletSet::new();
    /// set.add("shop", 0, &Account::bip44(&keys, "m/44'/1'/0'", Network::Testnet, 20)?)?;
    /// set.save(&dir)?;
    /// let back = WalletSet::load(&dir, |wallet, account| {
    ///     assert_eq!((wallet, account), ("shop", 0));
    ///     Some(keys.clone())
    /// })?;
    /// assert_eq!(back.len(), 1);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// let missing = WalletSet::load(&dir, |_, _| None).err().unwrap();
    /// assert_eq!(missing.code(), ErrorCode::IoError);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn load<F>(dir: &Path, mut keys: F) -> Result<WalletSet, Error>
    where
        F: FnMut(&str, u32) -> Option<KeySource>,
    {
        let dir = CText::path(dir)?;
        let mut ctx = LoadContext { keys: &mut keys, last: None, panic: None };
        let mut raw: *mut sys::addrpool_wallets = std::ptr::null_mut();
        // SAFETY: a NUL-terminated path; the trampoline and its context live
        // for the whole call (the library calls it only during it); NULL
        // options (defaults); a valid out pointer.
        let status = unsafe {
            sys::addrpool_wallets_load(
                dir.as_ptr(),
                Some(keys_trampoline),
                &mut ctx as *mut LoadContext as *mut c_void,
                std::ptr::null(),
                &mut raw,
            )
        };
        let result = check(status);
        if let Some(payload) = ctx.panic.take() {
            if !raw.is_null() {
                // SAFETY: a set from this call, freed once, before unwinding.
                unsafe { sys::addrpool_wallets_free(raw) };
            }
            resume_unwind(payload);
        }
        result?;
        adopt_set(raw)
    }
}

impl Address {
    /// The output script that pays this address (P2PKH: 25 bytes; P2SH: 23),
    /// e.g. to build a block's outputs for [`WalletSet::mark_scripts_used`].
    ///
    /// Errors: those of parsing the address (never for an address this crate
    /// made).
    ///
    /// ```
    /// use addrpool::{Address, Network};
    /// let a = Address::parse("yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt", Network::Testnet)?;
    /// let s = a.script_pubkey()?;
    /// assert_eq!((s.len(), s[0], s[1], s[24]), (25, 0x76, 0xa9, 0xac));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn script_pubkey(&self) -> Result<Vec<u8>, Error> {
        let text = CText::new(self.as_str(), ErrorCode::InvalidEncoding, "the address")?;
        let mut buf = [0u8; sys::ADDRPOOL_SCRIPT_MAX];
        let mut len = 0usize;
        // SAFETY: a NUL-terminated address, a buffer of ADDRPOOL_SCRIPT_MAX bytes, a valid out pointer.
        check(unsafe { sys::addrpool_wallets_address_script(text.as_ptr(), buf.as_mut_ptr(), buf.len(), &mut len) })?;
        Ok(buf[..len].to_vec())
    }
}
