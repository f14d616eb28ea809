//! The small value types: networks, pool types, states, options, stats.
use std::fmt;

use addrpool_sys as sys;

/// The most addresses a pool keeps derived ahead ([`PoolOptions::lookahead`]).
///
/// ```
/// assert_eq!(addrpool::MAX_LOOKAHEAD, 65536);
/// ```
pub const MAX_LOOKAHEAD: u32 = sys::ADDRPOOL_MAX_LOOKAHEAD;

/// The largest gap limit a pool can have here (2^20). Independent of the
/// lookahead: a larger gap limit still derives at most [`MAX_LOOKAHEAD`] ahead.
///
/// ```
/// assert_eq!(addrpool::MAX_GAP_LIMIT, 1 << 20);
/// ```
pub const MAX_GAP_LIMIT: u32 = sys::ADDRPOOL_MAX_GAP_LIMIT;

/// A Dash network. Testnet, devnet and regtest share every encoding
/// (`y…` addresses, `tprv`/`tpub` keys); they differ only in the chain.
///
/// ```
/// use addrpool::Network;
/// assert_eq!(Network::Regtest.to_string(), "regtest");
/// assert!(Network::Devnet.same_encoding(Network::Testnet));
/// assert!(!Network::Mainnet.same_encoding(Network::Testnet));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Network {
    /// Dash mainnet (`X…` addresses, xprv/xpub, BIP44 coin 5).
    Mainnet,
    /// Dash testnet (`y…` addresses, tprv/tpub, BIP44 coin 1).
    Testnet,
    /// A Dash devnet (encoded as testnet).
    Devnet,
    /// Dash regtest (encoded as testnet).
    Regtest,
}

impl Network {
    /// Whether addresses and keys of the two networks are spelled alike.
    ///
    /// ```
    /// assert!(addrpool::Network::Regtest.same_encoding(addrpool::Network::Devnet));
    /// ```
    pub fn same_encoding(self, other: Network) -> bool {
        (self == Network::Mainnet) == (other == Network::Mainnet)
    }

    /// "mainnet", "testnet", "devnet" or "regtest".
    ///
    /// ```
    /// assert_eq!(addrpool::Network::Mainnet.name(), "mainnet");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Testnet => "testnet",
            Network::Devnet => "devnet",
            Network::Regtest => "regtest",
        }
    }

    pub(crate) fn raw(self) -> sys::addrpool_network {
        match self {
            Network::Mainnet => sys::ADDRPOOL_MAINNET,
            Network::Testnet => sys::ADDRPOOL_TESTNET,
            Network::Devnet => sys::ADDRPOOL_DEVNET,
            Network::Regtest => sys::ADDRPOOL_REGTEST,
        }
    }

    pub(crate) fn from_raw(raw: sys::addrpool_network) -> Network {
        match raw {
            sys::ADDRPOOL_TESTNET => Network::Testnet,
            sys::ADDRPOOL_DEVNET => Network::Devnet,
            sys::ADDRPOOL_REGTEST => Network::Regtest,
            _ => Network::Mainnet,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a pool's addresses sit below the account key: `External` =
/// account/0/i (receive), `Internal` = account/1/i (change), `Absent` =
/// account/i, `AbsentHardened` = account/i' (needs a private key).
///
/// ```
/// assert_ne!(addrpool::PoolType::External, addrpool::PoolType::Internal);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolType {
    /// account/0/i: receive addresses.
    External,
    /// account/1/i: change addresses.
    Internal,
    /// account/i (e.g. DIP-17 platform payment keys).
    Absent,
    /// account/i' (hardened; needs a private key source).
    AbsentHardened,
}

impl PoolType {
    pub(crate) fn raw(self) -> sys::addrpool_pool_type {
        match self {
            PoolType::External => sys::ADDRPOOL_EXTERNAL,
            PoolType::Internal => sys::ADDRPOOL_INTERNAL,
            PoolType::Absent => sys::ADDRPOOL_ABSENT,
            PoolType::AbsentHardened => sys::ADDRPOOL_ABSENT_HARDENED,
        }
    }

    pub(crate) fn from_raw(raw: sys::addrpool_pool_type) -> PoolType {
        match raw {
            sys::ADDRPOOL_INTERNAL => PoolType::Internal,
            sys::ADDRPOOL_ABSENT => PoolType::Absent,
            sys::ADDRPOOL_ABSENT_HARDENED => PoolType::AbsentHardened,
            _ => PoolType::External,
        }
    }
}

/// The state of one index: `Unused → Reserved → Used`.
///
/// ```
/// use addrpool::{AddressPool, AddressState, Network, PoolType};
/// let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet).unwrap();
/// assert_eq!(pool.state(0), AddressState::Unused);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressState {
    /// Neither handed out nor seen on chain.
    Unused,
    /// Handed out and not yet used or returned (never saved).
    Reserved,
    /// Seen on chain or completed (durable).
    Used,
}

impl AddressState {
    pub(crate) fn from_raw(raw: sys::addrpool_address_state) -> AddressState {
        match raw {
            sys::ADDRPOOL_STATE_RESERVED => AddressState::Reserved,
            sys::ADDRPOOL_STATE_USED => AddressState::Used,
            _ => AddressState::Unused,
        }
    }
}

/// `Unbounded` hands out any index; `Error` refuses a hand-out at or beyond
/// highest used + 1 + gap limit ([`ErrorCode::GapLimitReached`](crate::ErrorCode::GapLimitReached)),
/// so a wallet restored from the seed with this gap limit finds every address.
///
/// ```
/// assert_eq!(addrpool::GapPolicy::default(), addrpool::GapPolicy::Unbounded);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum GapPolicy {
    /// Hand out any index.
    #[default]
    Unbounded,
    /// Refuse hand-outs outside the gap window.
    Error,
}

/// How addresses are written: `Base58Check` (`X…` / `y…`) or DIP-18
/// `Platform` bech32m (`dash1k…` / `tdash1k…`).
///
/// ```
/// assert_eq!(addrpool::AddressFormat::default(), addrpool::AddressFormat::Base58Check);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AddressFormat {
    /// Base58Check: `X…` (mainnet) / `y…` (test networks).
    #[default]
    Base58Check,
    /// DIP-18 bech32m: `dash1k…` / `tdash1k…`.
    Platform,
}

impl AddressFormat {
    pub(crate) fn raw(self) -> sys::addrpool_address_format {
        match self {
            AddressFormat::Base58Check => sys::ADDRPOOL_FORMAT_BASE58CHECK,
            AddressFormat::Platform => sys::ADDRPOOL_FORMAT_PLATFORM,
        }
    }
}

/// The most threads [`PoolOptions::derive_threads`] may name.
///
/// ```
/// assert_eq!(addrpool::MAX_DERIVE_THREADS, 256);
/// ```
pub const MAX_DERIVE_THREADS: u32 = sys::ADDRPOOL_MAX_DERIVE_THREADS;

/// Optional pool settings for [`AddressPool::with_options`](crate::AddressPool::with_options),
/// [`load_with_options`](crate::AddressPool::load_with_options) and
/// [`deserialize_with_options`](crate::AddressPool::deserialize_with_options).
///
/// ```
/// use addrpool::{AddressFormat, GapPolicy, PoolOptions};
/// let o = PoolOptions { gap_policy: GapPolicy::Error, ..PoolOptions::default() };
/// assert_eq!((o.lookahead, o.format, o.derive_threads), (0, AddressFormat::Base58Check, 0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PoolOptions {
    /// Addresses kept derived ahead of the hand-out frontier; 0 = the gap
    /// limit (at most [`MAX_LOOKAHEAD`], which is also the largest value).
    pub lookahead: u32,
    /// What a hand-out beyond the gap window does.
    pub gap_policy: GapPolicy,
    /// How the pool writes its addresses (a loaded pool keeps its file's).
    pub format: AddressFormat,
    /// Threads that derive large counts (a window or block sync of more than
    /// 256 addresses); 0 = the hardware's thread count; at most
    /// [`MAX_DERIVE_THREADS`].
    pub derive_threads: u32,
}

impl PoolOptions {
    pub(crate) fn raw_ex(&self) -> sys::addrpool_pool_options_ex {
        sys::addrpool_pool_options_ex {
            size: std::mem::size_of::<sys::addrpool_pool_options_ex>() as u32,
            lookahead: self.lookahead,
            gap_policy: match self.gap_policy {
                GapPolicy::Unbounded => sys::ADDRPOOL_GAP_UNBOUNDED,
                GapPolicy::Error => sys::ADDRPOOL_GAP_ERROR,
            },
            format: self.format.raw(),
            derive_threads: self.derive_threads,
        }
    }
}

/// Counters and high-water marks of a pool ([`AddressPool::stats`](crate::AddressPool::stats)):
/// exact while no other thread changes the pool.
///
/// ```
/// use addrpool::{AddressPool, Network, PoolType};
/// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet).unwrap();
/// let s = pool.stats();
/// assert_eq!((s.generated, s.gap_limit, s.highest_used), (0, 20, None));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Materialized entries (known to lookups and the saved state).
    pub generated: u32,
    /// Used indices.
    pub used: u32,
    /// All reservations, materialized or not.
    pub reserved: u32,
    /// Generated, neither used nor reserved.
    pub unused: u32,
    /// The gap limit the pool was made with.
    pub gap_limit: u32,
    /// The highest used index, if any.
    pub highest_used: Option<u32>,
    /// The highest index reserved right now, if any.
    pub highest_reserved: Option<u32>,
    /// The highest materialized index, if any.
    pub highest_generated: Option<u32>,
}

impl PoolStats {
    pub(crate) fn from_raw(s: &sys::addrpool_pool_stats) -> PoolStats {
        let opt = |v: i64| if v < 0 { None } else { Some(v as u32) };
        PoolStats {
            generated: s.generated,
            used: s.used,
            reserved: s.reserved,
            unused: s.unused,
            gap_limit: s.gap_limit,
            highest_used: opt(s.highest_used),
            highest_reserved: opt(s.highest_reserved),
            highest_generated: opt(s.highest_generated),
        }
    }
}
