//! 10,000 OS threads, released together by a barrier, hand out from one pool
//! with one shared key source: every index 0..10,000 exactly once.
use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;

use addrpool::{Address, AddressPool, KeySource, Network, PoolType, Reservation};

const THREADS: usize = 10_000;
const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

#[test]
fn ten_thousand_threads_get_distinct_addresses_at_indices_0_to_9999() {
    let keys = KeySource::from_mnemonic(WORDS, "", Network::Testnet, "m/44'/1'/0'").unwrap();
    let pool = Arc::new(AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet).unwrap());
    let barrier = Arc::new(Barrier::new(THREADS));
    let mut handles = Vec::with_capacity(THREADS);
    for n in 0..THREADS {
        let (pool, keys, barrier) = (Arc::clone(&pool), keys.clone(), Arc::clone(&barrier));
        let spawned = thread::Builder::new().stack_size(64 * 1024).spawn(move || {
            barrier.wait();
            // Half take the address only, half the whole reservation.
            if n % 2 == 0 {
                pool.next_unused_and_reserve(&keys, true).map(|a| (None, a))
            } else {
                pool.reserve(&keys, true).map(|r| (Some(r.ticket), r.address))
            }
        });
        handles.push(spawned.unwrap_or_else(|e| panic!("spawning thread {} failed: {} (ulimit -u?)", n, e)));
    }
    let mut addresses: Vec<Address> = Vec::with_capacity(THREADS);
    let mut tickets = HashSet::new();
    for h in handles {
        let (ticket, address) = h.join().expect("a hand-out thread panicked").expect("a hand-out failed");
        if let Some(t) = ticket {
            assert!(tickets.insert(t), "ticket {} handed out twice", t);
        }
        addresses.push(address);
    }

    let distinct: HashSet<&Address> = addresses.iter().collect();
    assert_eq!(distinct.len(), THREADS, "two threads got the same address");
    let mut indices: Vec<u32> =
        addresses.iter().map(|a| pool.index_of(a).expect("a hand-out not materialized")).collect();
    indices.sort_unstable();
    assert!(indices.iter().copied().eq(0..THREADS as u32), "the indices are not exactly 0..{}", THREADS);
    let s = pool.stats();
    assert_eq!((s.reserved, s.highest_reserved, s.used), (THREADS as u32, Some(THREADS as u32 - 1), 0));
    // Each address is the one the key derives at its index.
    for &i in &[0u32, 1, 4999, 9999] {
        let a = pool.address_at(i).unwrap();
        assert_eq!(a, keys.derive_address(PoolType::External, i, Network::Testnet).unwrap());
    }
    assert_eq!(pool.address_at(0).unwrap().as_str(), "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt");
}

#[test]
fn threads_releasing_and_reserving_again_never_share_an_index() {
    // 64 threads x 200 rounds: reserve, release every third by ticket and
    // reserve again; at the end every reservation held is distinct.
    let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba").unwrap();
    let pool = AddressPool::new("m/0", PoolType::External, 50, Network::Testnet).unwrap();
    let barrier = Barrier::new(64);
    let held: Vec<Vec<Reservation>> = thread::scope(|s| {
        let hs: Vec<_> = (0..64)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let mut mine = Vec::new();
                    for round in 0..200 {
                        let r = pool.reserve(&keys, true).unwrap();
                        if round % 3 == 2 {
                            assert!(pool.release(&r), "a fresh reservation could not be released");
                            mine.push(pool.reserve(&keys, false).unwrap());
                        } else {
                            mine.push(r);
                        }
                    }
                    mine
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut indices: Vec<u32> = held.iter().flatten().map(|r| r.index).collect();
    indices.sort_unstable();
    assert!(indices.iter().copied().eq(0..64 * 200), "held reservations are not exactly 0..12800");
    assert_eq!(pool.stats().reserved, 64 * 200);
}
