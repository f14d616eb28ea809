//! [`Error`] and [`ErrorCode`]: what every fallible call returns.
use std::ffi::CStr;
use std::fmt;

use addrpool_sys as sys;

/// Why a call failed: one variant per C++ `addrpool::Errc` (same names in
/// CamelCase, same numbers), then the four the C ABI adds.
///
/// ```
/// use addrpool::{ErrorCode, KeySource};
/// let e = KeySource::from_xpub("tpub-not-a-key").unwrap_err();
/// assert_eq!(e.code(), ErrorCode::InvalidEncoding);
/// assert_eq!(e.code().name(), "invalid_encoding");
/// assert_eq!(e.code().status(), 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// An argument outside its documented range.
    InvalidArgument,
    /// Not Base58 / bech32m, mixed case, wrong payload length.
    InvalidEncoding,
    /// Base58Check or bech32m checksum mismatch.
    BadChecksum,
    /// Version bytes / HRP / type byte that Dash does not define.
    UnknownVersion,
    /// Well formed, but for another network.
    NetworkMismatch,
    /// Derivation path syntax or range.
    InvalidPath,
    /// Word count, or a word not in the BIP39 English list.
    InvalidMnemonic,
    /// Every word valid, checksum wrong.
    MnemonicChecksum,
    /// Seed length outside 16..64 bytes.
    InvalidSeed,
    /// A public version with private data or the reverse.
    KeyTypeMismatch,
    /// Bad prefix, or not a point on secp256k1.
    InvalidPublicKey,
    /// Bad prefix, zero, or not below the group order.
    InvalidPrivateKey,
    /// Depth 0 with a parent fingerprint or child number.
    InvalidKeyMetadata,
    /// Hardened derivation needs a private key.
    HardenedFromPublic,
    /// Derivation hit an invalid child (probability below 2^-127).
    InvalidChild,
    /// A key would be deeper than 255.
    DepthExceeded,
    /// The pool must derive but the key source holds no key.
    NoKeySource,
    /// [`GapPolicy::Error`](crate::GapPolicy::Error) and the gap window is full.
    GapLimitReached,
    /// An index at or above 2^31, or all 2^31 indices taken.
    IndexOutOfRange,
    /// The file system refused (the message carries the system's reason).
    IoError,
    /// Serialized data ends early.
    Truncated,
    /// Not an addrpool file.
    BadMagic,
    /// A format version this library cannot read.
    UnsupportedFormat,
    /// Content checksum mismatch.
    CorruptData,
    /// Checksum fine, content contradicts itself.
    InconsistentData,
    /// The index asked for is already used or reserved.
    IndexUnavailable,
    /// A shared pool's database is unreachable or timed out.
    BackendUnavailable,
    /// C ABI only: a required pointer was NULL (a bug in these bindings).
    NullArgument,
    /// C ABI only: an output buffer was too small (a bug in these bindings).
    BufferTooSmall,
    /// C ABI only: an allocation failed inside the library; nothing changed.
    OutOfMemory,
    /// C ABI only: a bug in addrpool, or a status this crate does not know.
    Internal,
}

const CODES: [(ErrorCode, i32); 31] = [
    (ErrorCode::InvalidArgument, sys::ADDRPOOL_E_INVALID_ARGUMENT),
    (ErrorCode::InvalidEncoding, sys::ADDRPOOL_E_INVALID_ENCODING),
    (ErrorCode::BadChecksum, sys::ADDRPOOL_E_BAD_CHECKSUM),
    (ErrorCode::UnknownVersion, sys::ADDRPOOL_E_UNKNOWN_VERSION),
    (ErrorCode::NetworkMismatch, sys::ADDRPOOL_E_NETWORK_MISMATCH),
    (ErrorCode::InvalidPath, sys::ADDRPOOL_E_INVALID_PATH),
    (ErrorCode::InvalidMnemonic, sys::ADDRPOOL_E_INVALID_MNEMONIC),
    (ErrorCode::MnemonicChecksum, sys::ADDRPOOL_E_MNEMONIC_CHECKSUM),
    (ErrorCode::InvalidSeed, sys::ADDRPOOL_E_INVALID_SEED),
    (ErrorCode::KeyTypeMismatch, sys::ADDRPOOL_E_KEY_TYPE_MISMATCH),
    (ErrorCode::InvalidPublicKey, sys::ADDRPOOL_E_INVALID_PUBLIC_KEY),
    (ErrorCode::InvalidPrivateKey, sys::ADDRPOOL_E_INVALID_PRIVATE_KEY),
    (ErrorCode::InvalidKeyMetadata, sys::ADDRPOOL_E_INVALID_KEY_METADATA),
    (ErrorCode::HardenedFromPublic, sys::ADDRPOOL_E_HARDENED_FROM_PUBLIC),
    (ErrorCode::InvalidChild, sys::ADDRPOOL_E_INVALID_CHILD),
    (ErrorCode::DepthExceeded, sys::ADDRPOOL_E_DEPTH_EXCEEDED),
    (ErrorCode::NoKeySource, sys::ADDRPOOL_E_NO_KEY_SOURCE),
    (ErrorCode::GapLimitReached, sys::ADDRPOOL_E_GAP_LIMIT_REACHED),
    (ErrorCode::IndexOutOfRange, sys::ADDRPOOL_E_INDEX_OUT_OF_RANGE),
    (ErrorCode::IoError, sys::ADDRPOOL_E_IO_ERROR),
    (ErrorCode::Truncated, sys::ADDRPOOL_E_TRUNCATED),
    (ErrorCode::BadMagic, sys::ADDRPOOL_E_BAD_MAGIC),
    (ErrorCode::UnsupportedFormat, sys::ADDRPOOL_E_UNSUPPORTED_FORMAT),
    (ErrorCode::CorruptData, sys::ADDRPOOL_E_CORRUPT_DATA),
    (ErrorCode::InconsistentData, sys::ADDRPOOL_E_INCONSISTENT_DATA),
    (ErrorCode::IndexUnavailable, sys::ADDRPOOL_E_INDEX_UNAVAILABLE),
    (ErrorCode::BackendUnavailable, sys::ADDRPOOL_E_BACKEND_UNAVAILABLE),
    (ErrorCode::NullArgument, sys::ADDRPOOL_E_NULL_ARGUMENT),
    (ErrorCode::BufferTooSmall, sys::ADDRPOOL_E_BUFFER_TOO_SMALL),
    (ErrorCode::OutOfMemory, sys::ADDRPOOL_E_OUT_OF_MEMORY),
    (ErrorCode::Internal, sys::ADDRPOOL_E_INTERNAL),
];

impl ErrorCode {
    /// Every code, in status order.
    ///
    /// ```
    /// assert_eq!(addrpool::ErrorCode::ALL.len(), 31);
    /// assert_eq!(addrpool::ErrorCode::ALL[0], addrpool::ErrorCode::InvalidArgument);
    /// ```
    pub const ALL: [ErrorCode; 31] = {
        let mut all = [ErrorCode::Internal; 31];
        let mut i = 0;
        while i < 31 {
            all[i] = CODES[i].0;
            i += 1;
        }
        all
    };

    /// The C status (`addrpool_status`): 1..27 as `addrpool::Errc`, 100..103
    /// for the C-only codes.
    ///
    /// ```
    /// assert_eq!(addrpool::ErrorCode::NetworkMismatch.status(), 5);
    /// assert_eq!(addrpool::ErrorCode::OutOfMemory.status(), 102);
    /// ```
    pub fn status(self) -> i32 {
        CODES.iter().find(|(c, _)| *c == self).map(|(_, s)| *s).unwrap_or(sys::ADDRPOOL_E_INTERNAL)
    }

    /// The code of a C status; `None` for `ADDRPOOL_OK` and for values that
    /// are not statuses.
    ///
    /// ```
    /// use addrpool::ErrorCode;
    /// assert_eq!(ErrorCode::from_status(3), Some(ErrorCode::BadChecksum));
    /// assert_eq!(ErrorCode::from_status(0), None);
    /// ```
    pub fn from_status(status: i32) -> Option<ErrorCode> {
        CODES.iter().find(|(_, s)| *s == status).map(|(c, _)| *c)
    }

    /// The stable lowercase name, as the C ABI's `addrpool_status_name` and
    /// C++'s `errc_name` give it.
    ///
    /// ```
    /// assert_eq!(addrpool::ErrorCode::GapLimitReached.name(), "gap_limit_reached");
    /// ```
    pub fn name(self) -> &'static str {
        // SAFETY: addrpool_status_name returns a static NUL-terminated ASCII
        // string for any input and touches no other state.
        let name = unsafe { CStr::from_ptr(sys::addrpool_status_name(self.status())) };
        name.to_str().unwrap_or("unknown")
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed call: its [`ErrorCode`] and a one-line English message that
/// names what was wrong (a field, a word's position) and never contains
/// secret material (keys, mnemonic words, passphrases, seeds).
///
/// `Display` prints the message and the code's name:
///
/// ```
/// use addrpool::{ErrorCode, KeySource, Network};
/// let words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon";
/// let e = KeySource::from_mnemonic(words, "", Network::Testnet, "m/44'/1'/0'").unwrap_err();
/// assert_eq!(e.code(), ErrorCode::MnemonicChecksum);
/// assert!(e.to_string().ends_with("(mnemonic_checksum)"), "{}", e);
/// assert!(!e.message().contains("abandon"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
}

impl Error {
    /// An error of your own, e.g. for a lookup that failed before any pool
    /// was asked.
    ///
    /// ```
    /// let e = addrpool::Error::new(addrpool::ErrorCode::InvalidArgument, "unknown wallet 7");
    /// assert_eq!(e.to_string(), "unknown wallet 7 (invalid_argument)");
    /// ```
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }

    /// Why the call failed.
    ///
    /// ```
    /// use addrpool::{Address, ErrorCode, Network};
    /// let e = Address::parse("yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnju", Network::Testnet).unwrap_err();
    /// assert_eq!(e.code(), ErrorCode::BadChecksum);
    /// ```
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message alone (without the code's name).
    ///
    /// ```
    /// use addrpool::{Address, Network};
    /// let e = Address::parse("XoJA8qE3N2Y3jMLEtZ3vcN42qseZ8LvFf5", Network::Testnet).unwrap_err();
    /// assert!(!e.message().is_empty());
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.code.name())
        } else {
            write!(f, "{} ({})", self.message, self.code.name())
        }
    }
}

impl std::error::Error for Error {}

/// `Ok(())` for `ADDRPOOL_OK`, else the error with this thread's message.
/// Must run right after the call, on the same thread (the message is
/// thread-local and the next call replaces it).
pub(crate) fn check(status: sys::addrpool_status) -> Result<(), Error> {
    if status == sys::ADDRPOOL_OK {
        return Ok(());
    }
    // SAFETY: addrpool_last_error never returns NULL; the string stays
    // valid until this thread's next addrpool call, and is copied here.
    let message = unsafe { CStr::from_ptr(sys::addrpool_last_error()) }.to_string_lossy().into_owned();
    match ErrorCode::from_status(status) {
        Some(code) => Err(Error { code, message }),
        None => Err(Error {
            code: ErrorCode::Internal,
            message: format!("status {} unknown to this version of the addrpool crate: {}", status, message),
        }),
    }
}

/// For the few calls that can fail only by running out of memory (or by a
/// library bug): Rust's own allocation failures abort; these panic.
pub(crate) fn expect_ok(status: sys::addrpool_status, what: &str) {
    if let Err(e) = check(status) {
        panic!("addrpool: {} failed: {}", what, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_has_the_c_name_spelled_in_snake_case() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_status(code.status()), Some(code));
            let camel: String = code.name().split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect();
            assert_eq!(format!("{:?}", code), camel);
        }
        assert_eq!(ErrorCode::from_status(28), None);
        assert_eq!(ErrorCode::from_status(-1), None);
    }

    #[test]
    fn an_unknown_status_is_an_internal_error_naming_it() {
        let e = check(4242).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Internal);
        assert!(e.message().contains("4242"));
    }

    #[test]
    fn errors_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<Error>();
        let e: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::new(ErrorCode::IoError, "disk"));
        assert_eq!(e.to_string(), "disk (io_error)");
    }
}
