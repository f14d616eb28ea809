//! [`KeySource`]: the account key a hand-out derives with.
use std::fmt;
use std::ptr::NonNull;
use std::sync::Arc;

use addrpool_sys as sys;

use crate::address::Address;
use crate::error::{check, expect_ok, Error, ErrorCode};
use crate::text::{read_string, AddressBuf, CText};
use crate::types::{AddressFormat, Network, PoolType};

/// What a [`KeySource`] holds.
///
/// ```
/// assert_eq!(addrpool::KeySource::none().kind(), addrpool::KeyKind::None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// No key: hands out only addresses a pool already derived.
    None,
    /// An account xpub: every pool type but [`PoolType::AbsentHardened`].
    Public,
    /// An account xprv (also from a mnemonic or seed): every pool type.
    Private,
}

/// The C handle; freed once, when the last [`KeySource`] clone is dropped.
struct Handle(NonNull<sys::addrpool_key_source>);

// SAFETY: addrpool.h: a key source is immutable, and every function taking
// one may run concurrently from any thread; addrpool_key_source_free runs
// once, in Drop, when no other reference exists.
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful constructor and this is
        // its only free; the library wipes a private key here.
        unsafe { sys::addrpool_key_source_free(self.0.as_ptr()) }
    }
}

/// Account key material for hand-outs: from an xprv, an xpub, a mnemonic
/// (+ passphrase, network, account path) or nothing. Immutable; cheap to
/// clone (clones share one key, wiped when the last one is dropped);
/// `Send + Sync`, so one source serves any number of threads and pools.
///
/// ```
/// use addrpool::{AddressPool, KeySource, Network, PoolType};
/// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
/// let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?;
/// let address = pool.next_unused_and_reserve(&keys, true)?;
/// assert_eq!(address.to_string(), "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt");
/// # Ok::<(), addrpool::Error>(())
/// ```
#[derive(Clone)]
pub struct KeySource {
    handle: Arc<Handle>,
}

fn make<F>(create: F) -> Result<KeySource, Error>
where
    F: FnOnce(*mut *mut sys::addrpool_key_source) -> sys::addrpool_status,
{
    let mut raw: *mut sys::addrpool_key_source = std::ptr::null_mut();
    check(create(&mut raw))?;
    match NonNull::new(raw) {
        Some(p) => Ok(KeySource { handle: Arc::new(Handle(p)) }),
        None => Err(Error::new(ErrorCode::Internal, "the library returned no key source")),
    }
}

impl KeySource {
    /// An account xprv ("xprv…" on mainnet, "tprv…" on the test networks),
    /// e.g. of m/44'/1'/0'. The key is copied into the library (and wiped
    /// there with the last clone); this call's own copy is wiped too.
    ///
    /// Errors: the key's parse errors ([`ErrorCode::InvalidEncoding`],
    /// `BadChecksum`, `UnknownVersion`, `KeyTypeMismatch` for an xpub,
    /// `InvalidPrivateKey`, `InvalidKeyMetadata`). Messages never contain
    /// the key.
    ///
    /// ```
    /// let keys = addrpool::KeySource::from_xprv("tprv8fPDJN9UQqg6pFsQsrVxTwHZmXLvHpfGGcsCA9rtnatUgVtBKxhtFeqiyaYKSWydunKpjhvgJf6PwTwgirwuCbFq8YKgpQiaVJf3JCrNmkR")?;
    /// assert!(!keys.is_watch_only());
    /// assert_eq!(keys.network(), Some(addrpool::Network::Testnet));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn from_xprv(account_xprv: &str) -> Result<KeySource, Error> {
        let text = CText::secret(account_xprv, ErrorCode::InvalidEncoding, "the key")?;
        // SAFETY: a NUL-terminated string and a valid out pointer.
        make(|out| unsafe { sys::addrpool_key_source_from_xprv(text.as_ptr(), out) })
    }

    /// An account xpub ("xpub…" / "tpub…"): watch-only.
    ///
    /// Errors: as [`from_xprv`](KeySource::from_xprv), with `KeyTypeMismatch`
    /// for an xprv and `InvalidPublicKey` for a bad point.
    ///
    /// ```
    /// let keys = addrpool::KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// assert!(keys.is_watch_only());
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn from_xpub(account_xpub: &str) -> Result<KeySource, Error> {
        let text = CText::new(account_xpub, ErrorCode::InvalidEncoding, "the key")?;
        // SAFETY: a NUL-terminated string and a valid out pointer.
        make(|out| unsafe { sys::addrpool_key_source_from_xpub(text.as_ptr(), out) })
    }

    /// The account at `account_path` (e.g. "m/44'/1'/0'") below a BIP39
    /// mnemonic's master key for `network`. The passphrase is used byte for
    /// byte (pass it NFKD-normalized; ASCII already is). The source remembers
    /// the account path, so a hand-out checks a pool's full base path against
    /// it. Blocking: 2048 PBKDF2 rounds (milliseconds). Copies of the words
    /// and passphrase made here and in the library are wiped.
    ///
    /// Errors: `InvalidPath`; `InvalidMnemonic` (the message gives the
    /// position of a bad word, never the word); `MnemonicChecksum`;
    /// `InvalidArgument` (a NUL byte in the passphrase).
    ///
    /// ```
    /// use addrpool::{KeySource, Network};
    /// let words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    /// let keys = KeySource::from_mnemonic(words, "", Network::Testnet, "m/44'/1'/0'")?;
    /// assert_eq!(keys.account_xpub().unwrap(), "tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba");
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn from_mnemonic(
        words: &str,
        passphrase: &str,
        network: Network,
        account_path: &str,
    ) -> Result<KeySource, Error> {
        let words = CText::secret(words, ErrorCode::InvalidMnemonic, "the mnemonic")?;
        let passphrase = CText::secret(passphrase, ErrorCode::InvalidArgument, "the passphrase")?;
        let path = CText::new(account_path, ErrorCode::InvalidPath, "the account path")?;
        // SAFETY: NUL-terminated strings and a valid out pointer.
        make(|out| unsafe {
            sys::addrpool_key_source_from_mnemonic(
                words.as_ptr(),
                passphrase.as_ptr(),
                network.raw(),
                path.as_ptr(),
                out,
            )
        })
    }

    /// As [`from_mnemonic`](KeySource::from_mnemonic), from a BIP32 seed of
    /// 16..64 bytes (else `InvalidSeed`). The library keeps no copy of it.
    ///
    /// ```
    /// use addrpool::{KeySource, Network};
    /// let keys = KeySource::from_seed(&[7u8; 32], Network::Mainnet, "m/44'/5'/0'")?;
    /// assert_eq!(keys.network(), Some(Network::Mainnet));
    /// assert!(KeySource::from_seed(&[7u8; 15], Network::Mainnet, "m/44'/5'/0'").is_err());
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn from_seed(seed: &[u8], network: Network, account_path: &str) -> Result<KeySource, Error> {
        let path = CText::new(account_path, ErrorCode::InvalidPath, "the account path")?;
        // SAFETY: seed.len() readable bytes (a dangling but non-NULL pointer
        // for an empty slice, never read), a NUL-terminated path, an out pointer.
        make(|out| unsafe {
            sys::addrpool_key_source_from_seed(seed.as_ptr(), seed.len(), network.raw(), path.as_ptr(), out)
        })
    }

    /// A source without a key: a hand-out with it succeeds only where the
    /// index is already derived, else [`ErrorCode::NoKeySource`].
    ///
    /// # Panics
    ///
    /// Only if the library cannot allocate the handle (out of memory).
    ///
    /// ```
    /// let none = addrpool::KeySource::none();
    /// assert!(!none.can_derive());
    /// assert_eq!(none.network(), None);
    /// ```
    pub fn none() -> KeySource {
        let mut raw: *mut sys::addrpool_key_source = std::ptr::null_mut();
        // SAFETY: a valid out pointer.
        expect_ok(unsafe { sys::addrpool_key_source_none(&mut raw) }, "addrpool_key_source_none");
        KeySource { handle: Arc::new(Handle(NonNull::new(raw).expect("addrpool_key_source_none gave NULL"))) }
    }

    /// What the source holds.
    ///
    /// ```
    /// use addrpool::{KeyKind, KeySource};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// assert_eq!(keys.kind(), KeyKind::Public);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn kind(&self) -> KeyKind {
        let mut kind: sys::addrpool_key_kind = sys::ADDRPOOL_KEY_NONE;
        // SAFETY: a live handle and a valid out pointer.
        expect_ok(unsafe { sys::addrpool_key_source_kind(self.raw(), &mut kind) }, "addrpool_key_source_kind");
        match kind {
            sys::ADDRPOOL_KEY_PUBLIC => KeyKind::Public,
            sys::ADDRPOOL_KEY_PRIVATE => KeyKind::Private,
            _ => KeyKind::None,
        }
    }

    /// True unless the source holds a private key.
    ///
    /// ```
    /// assert!(addrpool::KeySource::none().is_watch_only());
    /// ```
    pub fn is_watch_only(&self) -> bool {
        self.kind() != KeyKind::Private
    }

    /// True if the source holds a key (public or private).
    ///
    /// ```
    /// assert!(!addrpool::KeySource::none().can_derive());
    /// ```
    pub fn can_derive(&self) -> bool {
        self.kind() != KeyKind::None
    }

    /// The network the key was made for: from the version bytes for
    /// xprv/xpub (`Mainnet` or `Testnet`; a testnet source serves devnet and
    /// regtest pools too), as given for a mnemonic or seed; `None` for
    /// [`none`](KeySource::none).
    ///
    /// ```
    /// use addrpool::{KeySource, Network};
    /// let words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    /// assert_eq!(KeySource::from_mnemonic(words, "", Network::Regtest, "m/0'")?.network(), Some(Network::Regtest));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn network(&self) -> Option<Network> {
        let mut network: sys::addrpool_network = sys::ADDRPOOL_MAINNET;
        let mut known = false;
        // SAFETY: a live handle and valid out pointers.
        expect_ok(
            unsafe { sys::addrpool_key_source_network(self.raw(), &mut network, &mut known) },
            "addrpool_key_source_network",
        );
        if known {
            Some(Network::from_raw(network))
        } else {
            None
        }
    }

    /// The account key's public half ("xpub…" / "tpub…"), e.g. for a
    /// watch-only copy elsewhere; `None` for [`none`](KeySource::none).
    /// Never the private key.
    ///
    /// ```
    /// let keys = addrpool::KeySource::from_xprv("tprv8fPDJN9UQqg6pFsQsrVxTwHZmXLvHpfGGcsCA9rtnatUgVtBKxhtFeqiyaYKSWydunKpjhvgJf6PwTwgirwuCbFq8YKgpQiaVJf3JCrNmkR")?;
    /// assert!(keys.account_xpub().unwrap().starts_with("tpub"));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn account_xpub(&self) -> Option<String> {
        // SAFETY: a live handle; read_string passes a buffer of buf_len bytes.
        read_string(|buf, len, required| unsafe {
            sys::addrpool_key_source_account_xpub(self.raw(), buf, len, required)
        })
        .ok()
    }

    /// The Base58Check address at `index` of a `pool_type` pool below this
    /// account key, without a pool (a pool's hand-out of that index gives
    /// the same address). `network` must be of the key's family.
    ///
    /// Errors: `NoKeySource`, `HardenedFromPublic`, `NetworkMismatch`,
    /// `IndexOutOfRange` (index ≥ 2^31), `InvalidChild`.
    ///
    /// ```
    /// use addrpool::{KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let a = keys.derive_address(PoolType::External, 1, Network::Testnet)?;
    /// assert_eq!(a.as_str(), "yfd64jEpzzTLrHnR1wq3iiYXh68AiU8mcw");
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn derive_address(&self, pool_type: PoolType, index: u32, network: Network) -> Result<Address, Error> {
        self.derive_address_in(pool_type, index, network, AddressFormat::Base58Check)
    }

    /// As [`derive_address`](KeySource::derive_address), in `format`.
    ///
    /// ```
    /// use addrpool::{AddressFormat, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let a = keys.derive_address_in(PoolType::External, 0, Network::Testnet, AddressFormat::Platform)?;
    /// assert!(a.as_str().starts_with("tdash1k"));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn derive_address_in(
        &self,
        pool_type: PoolType,
        index: u32,
        network: Network,
        format: AddressFormat,
    ) -> Result<Address, Error> {
        let mut buf = AddressBuf::new();
        // SAFETY: a live handle and a buffer of ADDRPOOL_ADDRESS_MAX bytes.
        check(unsafe {
            sys::addrpool_key_source_derive_address(
                self.raw(),
                pool_type.raw(),
                index,
                network.raw(),
                format.raw(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        })?;
        Ok(Address::from_library(buf.text(), network))
    }

    pub(crate) fn raw(&self) -> *const sys::addrpool_key_source {
        self.handle.0.as_ptr()
    }
}

/// Shows the kind and network only, never key material.
impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySource").field("kind", &self.kind()).field("network", &self.network()).finish()
    }
}
