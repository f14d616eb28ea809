//! Strings across the C boundary: NUL-terminated copies in (wiped when they
//! hold secrets), buffers out.
use std::ffi::CStr;
use std::os::raw::c_char;
use std::path::Path;
use std::sync::atomic::{compiler_fence, Ordering};

use addrpool_sys as sys;

use crate::error::{check, Error, ErrorCode};

/// A NUL-terminated copy of a Rust string for one C call. A secret copy
/// (key text, mnemonic, passphrase) is overwritten with zeros when dropped,
/// also when it is refused for holding a NUL byte.
pub(crate) struct CText {
    bytes: Vec<u8>,
    secret: bool,
}

impl CText {
    /// `code` and `what` name the argument in the error for an interior NUL
    /// (which a C string cannot carry).
    pub(crate) fn new(text: &str, code: ErrorCode, what: &str) -> Result<CText, Error> {
        CText::from_bytes(text.as_bytes(), false, code, what)
    }

    pub(crate) fn secret(text: &str, code: ErrorCode, what: &str) -> Result<CText, Error> {
        CText::from_bytes(text.as_bytes(), true, code, what)
    }

    pub(crate) fn path(path: &Path) -> Result<CText, Error> {
        #[cfg(unix)]
        let bytes = {
            use std::os::unix::ffi::OsStrExt;
            path.as_os_str().as_bytes()
        };
        #[cfg(not(unix))]
        let bytes = match path.to_str() {
            Some(s) => s.as_bytes(),
            None => return Err(Error::new(ErrorCode::IoError, "the path is not valid UTF-8")),
        };
        CText::from_bytes(bytes, false, ErrorCode::IoError, "the path")
    }

    fn from_bytes(text: &[u8], secret: bool, code: ErrorCode, what: &str) -> Result<CText, Error> {
        // Capacity first, so no reallocation leaves an unwiped copy behind.
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text);
        let mut out = CText { bytes, secret };
        if text.contains(&0) {
            return Err(Error::new(code, format!("{} contains a NUL byte", what)));
            // `out` is wiped
        }
        out.bytes.push(0);
        Ok(out)
    }

    pub(crate) fn as_ptr(&self) -> *const c_char {
        self.bytes.as_ptr().cast()
    }
}

impl Drop for CText {
    fn drop(&mut self) {
        if self.secret {
            wipe(&mut self.bytes);
        }
    }
}

/// Overwrites `bytes` with zeros in a way the compiler may not elide.
pub(crate) fn wipe(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        // SAFETY: `b` is a valid, exclusive reference to one byte.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    compiler_fence(Ordering::SeqCst);
}

/// A buffer for one address, as the hand-outs and parse write it.
pub(crate) struct AddressBuf([c_char; sys::ADDRPOOL_ADDRESS_MAX]);

impl AddressBuf {
    pub(crate) fn new() -> AddressBuf {
        AddressBuf([0; sys::ADDRPOOL_ADDRESS_MAX])
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut c_char {
        self.0.as_mut_ptr()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The NUL-terminated text the library wrote (always ASCII).
    pub(crate) fn text(&self) -> String {
        // SAFETY: the buffer is NUL-terminated: zero-filled at creation and
        // written by the library with a NUL within ADDRPOOL_ADDRESS_MAX.
        unsafe { CStr::from_ptr(self.0.as_ptr()) }.to_string_lossy().into_owned()
    }
}

/// A string from a `(buf, buf_len, required)` getter of the C ABI.
pub(crate) fn read_string<F>(mut get: F) -> Result<String, Error>
where
    F: FnMut(*mut c_char, usize, *mut usize) -> sys::addrpool_status,
{
    let mut buf: Vec<c_char> = vec![0; 128];
    loop {
        let mut required = 0usize;
        let status = get(buf.as_mut_ptr(), buf.len(), &mut required);
        if status == sys::ADDRPOOL_E_BUFFER_TOO_SMALL && required > buf.len() {
            buf.resize(required, 0);
            continue;
        }
        check(status)?;
        // SAFETY: on success the library wrote a NUL-terminated string.
        return Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_zeroes_every_byte() {
        let mut v = b"tprv8fPDJN9UQqg6pFsQsrVxTwHZmXLvHpfGGcsCA9rtnatUgVtBKxhtFeqiyaYK".to_vec();
        wipe(&mut v);
        assert!(v.iter().all(|&b| b == 0));
    }

    #[test]
    fn a_nul_byte_is_an_error_naming_the_argument_not_a_panic() {
        let e = CText::secret("abandon\0about", ErrorCode::InvalidMnemonic, "the mnemonic").err().unwrap();
        assert_eq!(e.code(), ErrorCode::InvalidMnemonic);
        assert_eq!(e.message(), "the mnemonic contains a NUL byte");
        let ok = CText::new("m/0", ErrorCode::InvalidPath, "the path").unwrap();
        // SAFETY: CText is NUL-terminated.
        assert_eq!(unsafe { CStr::from_ptr(ok.as_ptr()) }.to_str().unwrap(), "m/0");
    }
}
