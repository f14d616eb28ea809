//! ReservationGuard: a dropped guard frees, a kept one does not, and a late
//! release of a swept-and-re-reserved index leaves the new holder alone.
use std::time::Duration;

use addrpool::{AddressPool, AddressState, Error, ErrorCode, KeySource, Network, PoolType};

const TPUB: &str =
    "tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba";

fn setup() -> (AddressPool, KeySource) {
    let keys = KeySource::from_xpub(TPUB).unwrap();
    (AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet).unwrap(), keys)
}

#[test]
fn a_dropped_guard_frees_its_index_and_a_kept_one_does_not() {
    let (pool, keys) = setup();
    let g = pool.reserve_guard(&keys).unwrap();
    assert_eq!((g.index, g.address.as_str()), (0, "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt"));
    assert_eq!(pool.state(0), AddressState::Reserved);
    drop(g);
    assert_eq!(pool.state(0), AddressState::Unused);
    assert_eq!(pool.stats().reserved, 0);

    let kept = pool.reserve_guard(&keys).unwrap().keep();
    assert_eq!(kept.index, 0, "the freed index is handed out again");
    assert_eq!(pool.state(0), AddressState::Reserved);
    // The kept reservation is the caller's now: release works by its ticket.
    assert!(pool.release(&kept));
    assert!(!pool.release(&kept));
}

#[test]
fn a_guard_is_released_on_an_early_return_and_on_a_panic() {
    let (pool, keys) = setup();
    fn fails_halfway(pool: &AddressPool, keys: &KeySource) -> Result<u32, Error> {
        let g = pool.reserve_guard(keys)?;
        Err(Error::new(ErrorCode::InvalidArgument, format!("gave up on {}", g.index)))
    }
    assert_eq!(fails_halfway(&pool, &keys).unwrap_err().message(), "gave up on 0");
    assert_eq!(pool.state(0), AddressState::Unused);

    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _g = pool.reserve_guard(&keys).unwrap();
        panic!("the request handler crashed");
    }));
    assert!(caught.is_err());
    assert_eq!(pool.state(0), AddressState::Unused);
    assert_eq!(pool.stats().reserved, 0);
}

#[test]
fn a_late_release_of_a_swept_and_re_reserved_index_leaves_the_new_holder_alone() {
    let (pool, keys) = setup();
    let old = pool.reserve_guard(&keys).unwrap();
    assert_eq!(old.index, 0);
    // The checkout took too long: the sweep expires it, and index 0 goes to
    // the next customer.
    assert_eq!(pool.sweep_expired_reservations(Duration::ZERO), 1);
    let new = pool.reserve_guard(&keys).unwrap();
    assert_eq!(new.index, 0);
    assert_ne!(new.ticket, old.ticket);
    // The old guard is dropped late: its ticket is stale, nothing changes.
    drop(old);
    assert_eq!(pool.state(0), AddressState::Reserved);
    assert_eq!(pool.stats().reserved, 1);
    // An explicit late release says so.
    let newest_ticket = new.ticket;
    assert!(new.release());
    let again = pool.reserve(&keys, true).unwrap();
    assert_ne!(again.ticket, newest_ticket);
}

#[test]
fn mark_used_completes_the_hand_out_and_the_guard_no_longer_releases() {
    let (pool, keys) = setup();
    let g = pool.reserve_guard(&keys).unwrap();
    let address = g.address.clone();
    assert!(g.mark_used());
    assert_eq!(pool.state(0), AddressState::Used);
    assert!(!pool.mark_used(&address), "already used");
    // The next guard gets index 1: 0 stays used.
    let g = pool.reserve_guard(&keys).unwrap();
    assert_eq!(g.index, 1);
    assert_eq!(g.pool().stats().used, 1);
}

#[test]
fn guards_move_across_threads() {
    let (pool, keys) = setup();
    let g = pool.reserve_guard(&keys).unwrap();
    std::thread::scope(|s| {
        s.spawn(move || drop(g)); // released on another thread
    });
    assert_eq!(pool.state(0), AddressState::Unused);
}
