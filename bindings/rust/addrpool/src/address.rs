//! [`Address`]: a validated Dash address.
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use addrpool_sys as sys;

use crate::error::{check, Error, ErrorCode};
use crate::text::{AddressBuf, CText};
use crate::types::Network;

/// A Dash address (P2PKH or P2SH; Base58Check or DIP-18 bech32m), in its
/// canonical text, with the network it was parsed or handed out for.
///
/// Equality, ordering and hashing are by text: testnet, devnet and regtest
/// spell an address alike, so the same text is the same address (as in the
/// C++ library).
///
/// ```
/// use addrpool::{Address, Network};
/// let a = Address::parse("yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt", Network::Testnet)?;
/// let b = Address::parse("yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt", Network::Regtest)?;
/// assert_eq!(a, b);
/// assert_eq!(format!("{}", a), "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt");
/// # Ok::<(), addrpool::Error>(())
/// ```
#[derive(Clone)]
pub struct Address {
    text: String,
    network: Network,
}

impl Address {
    /// Checks that `text` is an address of `network`'s encoding family and
    /// returns it.
    ///
    /// Errors: `InvalidEncoding` (not Base58/bech32m, mixed case, wrong
    /// length), `BadChecksum`, `UnknownVersion` (e.g. a Bitcoin address),
    /// `NetworkMismatch` (a mainnet address for a test network or the
    /// reverse).
    ///
    /// ```
    /// use addrpool::{Address, ErrorCode, Network};
    /// assert!(Address::parse("XoJA8qE3N2Y3jMLEtZ3vcN42qseZ8LvFf5", Network::Mainnet).is_ok());
    /// let e = Address::parse("XoJA8qE3N2Y3jMLEtZ3vcN42qseZ8LvFf5", Network::Testnet).unwrap_err();
    /// assert_eq!(e.code(), ErrorCode::NetworkMismatch);
    /// ```
    pub fn parse(text: &str, network: Network) -> Result<Address, Error> {
        let c = CText::new(text, ErrorCode::InvalidEncoding, "the address")?;
        let mut buf = AddressBuf::new();
        // SAFETY: a NUL-terminated string and a buffer of ADDRPOOL_ADDRESS_MAX bytes.
        check(unsafe { sys::addrpool_address_parse(c.as_ptr(), network.raw(), buf.as_mut_ptr(), buf.len()) })?;
        Ok(Address { text: buf.text(), network })
    }

    /// The canonical text.
    ///
    /// ```
    /// let a = addrpool::Address::parse("yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt", addrpool::Network::Devnet)?;
    /// assert_eq!(a.as_str().len(), 34);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The network it was parsed or handed out for.
    ///
    /// ```
    /// let a = addrpool::Address::parse("yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt", addrpool::Network::Devnet)?;
    /// assert_eq!(a.network(), addrpool::Network::Devnet);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn network(&self) -> Network {
        self.network
    }

    /// An address the library wrote (hand-out, derivation): already canonical.
    pub(crate) fn from_library(text: String, network: Network) -> Address {
        Address { text, network }
    }
}

impl PartialEq for Address {
    fn eq(&self, other: &Address) -> bool {
        self.text == other.text
    }
}

impl Eq for Address {}

impl Hash for Address {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state)
    }
}

impl PartialOrd for Address {
    fn partial_cmp(&self, other: &Address) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Address {
    fn cmp(&self, other: &Address) -> Ordering {
        self.text.cmp(&other.text)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({:?}, {})", self.text, self.network)
    }
}

impl AsRef<str> for Address {
    fn as_ref(&self) -> &str {
        &self.text
    }
}
