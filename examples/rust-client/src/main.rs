//! A Rust wallet using addrpool through its C ABI (include/addrpool/addrpool.h):
//! 10,000 OS threads, released together by a barrier, each reserve one
//! receive address from one shared pool; the addresses must be distinct and
//! sit at indices 0..=9999. Then the hand-outs are completed (mark used),
//! returned (release with the ticket, release by index) and the rest expire
//! (sweep), all through the ABI.
//!
//! Only the declarations this program uses are written out below; they follow
//! addrpool.h exactly (C enums are `c_int`, `bool` is C's `_Bool`, `size_t` is
//! `usize`).

use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};
use std::sync::{Arc, Barrier};
use std::thread;

type Status = c_int;
const ADDRPOOL_OK: Status = 0;
const ADDRPOOL_E_BUFFER_TOO_SMALL: Status = 101;
const ADDRPOOL_ADDRESS_MAX: usize = 64;
const ADDRPOOL_TESTNET: c_int = 1;
const ADDRPOOL_EXTERNAL: c_int = 0;

/// The opaque `addrpool_pool`.
#[repr(C)]
struct RawPool {
    _private: [u8; 0],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct PoolStats {
    generated: u32,
    used: u32,
    reserved: u32,
    unused: u32,
    gap_limit: u32,
    highest_used: i64,
    highest_reserved: i64,
    highest_generated: i64,
}

extern "C" {
    fn addrpool_pool_new_from_mnemonic(
        mnemonic: *const c_char,
        passphrase: *const c_char,
        account_path: *const c_char,
        network: c_int,
        pool_type: c_int,
        gap_limit: u32,
        out: *mut *mut RawPool,
    ) -> Status;
    fn addrpool_pool_free(pool: *mut RawPool);
    fn addrpool_reserve(
        pool: *mut RawPool,
        index: *mut u32,
        ticket: *mut u64,
        address: *mut c_char,
        address_len: usize,
    ) -> Status;
    fn addrpool_release(pool: *mut RawPool, index: u32, ticket: u64, released: *mut bool) -> Status;
    fn addrpool_release_index(pool: *mut RawPool, index: u32, released: *mut bool) -> Status;
    fn addrpool_sweep(pool: *mut RawPool, ttl_ms: u64, freed: *mut usize) -> Status;
    fn addrpool_mark_used(pool: *mut RawPool, address: *const c_char, changed: *mut bool) -> Status;
    fn addrpool_mark_index_used(pool: *mut RawPool, index: u32, changed: *mut bool) -> Status;
    fn addrpool_stats(pool: *const RawPool, out: *mut PoolStats) -> Status;
    fn addrpool_last_error() -> *const c_char;
    fn addrpool_status_name(status: Status) -> *const c_char;
}

/// An error from the C ABI: the status name and the thread-local message.
#[derive(Debug)]
struct Error {
    name: String,
    message: String,
}

/// Turns a status into a Result, reading the message on the calling thread
/// (it is thread-local, so it must be read before this thread calls again).
fn check(status: Status) -> Result<(), Error> {
    if status == ADDRPOOL_OK {
        return Ok(());
    }
    // SAFETY: both return static / thread-local NUL-terminated strings, never NULL.
    unsafe {
        Err(Error {
            name: CStr::from_ptr(addrpool_status_name(status)).to_string_lossy().into_owned(),
            message: CStr::from_ptr(addrpool_last_error()).to_string_lossy().into_owned(),
        })
    }
}

/// The pool handle. addrpool.h documents every function taking a pool as
/// callable concurrently from any thread (except addrpool_pool_free, which
/// Drop runs once, when the last Arc is gone), so sharing it is sound.
struct Pool(*mut RawPool);
unsafe impl Send for Pool {}
unsafe impl Sync for Pool {}

struct Reservation {
    index: u32,
    ticket: u64,
    address: String,
}

impl Pool {
    fn from_mnemonic(mnemonic: &str, account_path: &str, gap_limit: u32) -> Result<Pool, Error> {
        let m = CString::new(mnemonic).expect("no NUL in the mnemonic");
        let p = CString::new(account_path).expect("no NUL in the path");
        let mut raw: *mut RawPool = std::ptr::null_mut();
        // SAFETY: valid C strings and out pointer; passphrase NULL means "".
        check(unsafe {
            addrpool_pool_new_from_mnemonic(
                m.as_ptr(),
                std::ptr::null(),
                p.as_ptr(),
                ADDRPOOL_TESTNET,
                ADDRPOOL_EXTERNAL,
                gap_limit,
                &mut raw,
            )
        })?;
        Ok(Pool(raw))
    }

    fn reserve(&self) -> Result<Reservation, Error> {
        let (mut index, mut ticket) = (0u32, 0u64);
        let mut buf = [0 as c_char; ADDRPOOL_ADDRESS_MAX];
        // SAFETY: the buffer holds ADDRPOOL_ADDRESS_MAX bytes.
        check(unsafe { addrpool_reserve(self.0, &mut index, &mut ticket, buf.as_mut_ptr(), buf.len()) })?;
        // SAFETY: on success the buffer holds a NUL-terminated address.
        let address = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned();
        Ok(Reservation { index, ticket, address })
    }

    fn release(&self, r: &Reservation) -> Result<bool, Error> {
        let mut released = false;
        check(unsafe { addrpool_release(self.0, r.index, r.ticket, &mut released) })?;
        Ok(released)
    }

    fn release_index(&self, index: u32) -> Result<bool, Error> {
        let mut released = false;
        check(unsafe { addrpool_release_index(self.0, index, &mut released) })?;
        Ok(released)
    }

    fn sweep(&self, ttl_ms: u64) -> Result<usize, Error> {
        let mut freed = 0usize;
        check(unsafe { addrpool_sweep(self.0, ttl_ms, &mut freed) })?;
        Ok(freed)
    }

    fn mark_used(&self, address: &str) -> Result<bool, Error> {
        let a = CString::new(address).expect("no NUL in an address");
        let mut changed = false;
        check(unsafe { addrpool_mark_used(self.0, a.as_ptr(), &mut changed) })?;
        Ok(changed)
    }

    fn mark_index_used(&self, index: u32) -> Result<bool, Error> {
        let mut changed = false;
        check(unsafe { addrpool_mark_index_used(self.0, index, &mut changed) })?;
        Ok(changed)
    }

    fn stats(&self) -> Result<PoolStats, Error> {
        let mut s = PoolStats::default();
        check(unsafe { addrpool_stats(self.0, &mut s) })?;
        Ok(s)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: the last owner; no call on this pool can be running.
        unsafe { addrpool_pool_free(self.0) }
    }
}

const THREADS: usize = 10_000;
const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
// m/44'/1'/0'/0/0 of that mnemonic on testnet (test/data/dash_bip44.json).
const FIRST_ADDRESS: &str = "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = Arc::new(Pool::from_mnemonic(MNEMONIC, "m/44'/1'/0'", 20).map_err(|e| format!("{e:?}"))?);

    // Misuse is an error status, not a crash: a too-small buffer.
    let mut tiny = [0 as c_char; 8];
    let (mut i, mut t) = (0u32, 0u64);
    let st = unsafe { addrpool_reserve(pool.0, &mut i, &mut t, tiny.as_mut_ptr(), tiny.len()) };
    assert_eq!(st, ADDRPOOL_E_BUFFER_TOO_SMALL);
    let e = check(st).unwrap_err();
    assert_eq!(e.name, "buffer_too_small");
    assert!(!e.message.is_empty());

    // 10,000 OS threads with small stacks, released together.
    let barrier = Arc::new(Barrier::new(THREADS));
    let mut handles = Vec::with_capacity(THREADS);
    for n in 0..THREADS {
        let pool = Arc::clone(&pool);
        let barrier = Arc::clone(&barrier);
        let h = thread::Builder::new()
            .name(format!("reserver-{n}"))
            .stack_size(64 * 1024)
            .spawn(move || {
                barrier.wait();
                pool.reserve()
            })
            .map_err(|e| format!("spawning thread {n} of {THREADS} failed: {e} (check ulimit -u and memory)"))?;
        handles.push(h);
    }
    let mut reservations = Vec::with_capacity(THREADS);
    for h in handles {
        let r = h.join().map_err(|_| "a reserver thread panicked")?.map_err(|e| format!("reserve failed: {e:?}"))?;
        reservations.push(r);
    }

    // Distinct addresses at exactly 0..=9999.
    let distinct = reservations.iter().map(|r| r.address.as_str()).collect::<HashSet<&str>>().len();
    assert_eq!(distinct, THREADS, "addresses are not distinct");
    let tickets: HashSet<u64> = reservations.iter().map(|r| r.ticket).collect();
    assert_eq!(tickets.len(), THREADS, "tickets are not distinct");
    reservations.sort_by_key(|r| r.index);
    for (n, r) in reservations.iter().enumerate() {
        assert_eq!(r.index as usize, n, "indices are not 0..{THREADS}");
    }
    assert_eq!(reservations[0].address, FIRST_ADDRESS);
    let s = pool.stats().map_err(|e| format!("{e:?}"))?;
    assert_eq!((s.reserved, s.highest_reserved), (THREADS as u32, THREADS as i64 - 1));

    // Complete the first 100 hand-outs: the payment arrived.
    for r in &reservations[..100] {
        assert!(pool.mark_used(&r.address).map_err(|e| format!("{e:?}"))?);
    }
    // Return 100..5000 with their tickets; a second return changes nothing,
    // and a used address cannot be returned.
    for r in &reservations[100..5000] {
        assert!(pool.release(r).map_err(|e| format!("{e:?}"))?);
    }
    assert!(!pool.release(&reservations[100]).map_err(|e| format!("{e:?}"))?);
    assert!(!pool.release(&reservations[0]).map_err(|e| format!("{e:?}"))?);
    // Return 5000..6000 by index (an abandoned checkout).
    for r in &reservations[5000..6000] {
        assert!(pool.release_index(r.index).map_err(|e| format!("{e:?}"))?);
    }
    // Nothing is an hour old yet; with ttl 0 the other 4000 expire.
    assert_eq!(pool.sweep(3_600_000).map_err(|e| format!("{e:?}"))?, 0);
    let freed = pool.sweep(0).map_err(|e| format!("{e:?}"))?;
    assert_eq!(freed, 4000);
    // An address seen on chain that was never handed out in this session.
    assert!(pool.mark_index_used(200).map_err(|e| format!("{e:?}"))?);
    let next = pool.reserve().map_err(|e| format!("{e:?}"))?;
    assert_eq!(next.index, 100, "the lowest free index is handed out next");

    let s = pool.stats().map_err(|e| format!("{e:?}"))?;
    assert_eq!((s.used, s.reserved, s.highest_used), (101, 1, 200));
    println!(
        "rust-client: {THREADS} threads reserved {} distinct addresses at indices 0..{}; \
         marked 100 used, released 4900 by ticket and 1000 by index, swept {freed}; \
         next hand-out index {}; stats: generated {} used {} reserved {} highest_used {}",
        distinct,
        THREADS - 1,
        next.index,
        s.generated,
        s.used,
        s.reserved,
        s.highest_used
    );
    Ok(())
}
