//! The downstream bridge: a Rust wallet service's "give me a fresh receive
//! address", before addrpool and after, with the same signature.
//!
//! Before, the service kept a process-global
//! `Mutex<HashMap<(wallet, account), HashMap<index, reserved_at>>>` beside
//! key-wallet's pool: every hand-out of every wallet took that one lock and
//! scanned for the lowest index that was neither used on chain nor in the
//! table. After, the pool itself reserves: the bridge is one line,
//! `pool.next_unused_and_reserve(&key_source, add_to_state)`, and the table,
//! its lock and its expiry loop are gone (the reservation's time lives in the
//! pool, `sweep_expired_reservations` expires it, a ticket makes a late
//! release harmless).
//!
//! Run: `cargo run --example bridge` (both bridges, 8 threads each, must hand
//! out the same distinct addresses).
use std::collections::{HashMap, HashSet};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use addrpool::{Address, AddressPool, Error, KeySource, Network, PoolType};

type WalletId = u64;
type AccountIndex = u32;

/// One account of one wallet, as the service holds it.
pub struct Account {
    wallet: WalletId,
    index: AccountIndex,
    network: Network,
    key_source: KeySource,
    /// Before: key-wallet's view of the receive chain (indices used on chain).
    used_on_chain: Mutex<HashSet<u32>>,
    /// After: the receive chain's pool (used marks and reservations).
    pool: AddressPool,
}

mod before {
    use super::*;

    /// The side table every hand-out of every wallet serialized on (its type
    /// spelled out, as the service had it).
    #[allow(clippy::type_complexity)]
    static RESERVED: Mutex<Option<HashMap<(WalletId, AccountIndex), HashMap<u32, Instant>>>> = Mutex::new(None);

    pub fn next_receive_address(account: &Account, add_to_state: bool) -> Result<Address, Error> {
        let mut table = RESERVED.lock().unwrap();
        let reserved = table.get_or_insert_with(HashMap::new).entry((account.wallet, account.index)).or_default();
        let used = account.used_on_chain.lock().unwrap();
        let mut index = 0;
        while used.contains(&index) || reserved.contains_key(&index) {
            index += 1; // O(hand-outs) under the global lock
        }
        reserved.insert(index, Instant::now());
        let _ = add_to_state; // key-wallet would record the address in its pool here
        account.key_source.derive_address(PoolType::External, index, account.network)
    }

    /// The timer's expiry: every wallet's table, under the same lock.
    pub fn expire(ttl: Duration) -> usize {
        let mut table = RESERVED.lock().unwrap();
        let now = Instant::now();
        let mut freed = 0;
        for reserved in table.get_or_insert_with(HashMap::new).values_mut() {
            let before = reserved.len();
            reserved.retain(|_, at| now.duration_since(*at) < ttl);
            freed += before - reserved.len();
        }
        freed
    }
}

mod after {
    use super::*;

    pub fn next_receive_address(account: &Account, add_to_state: bool) -> Result<Address, Error> {
        account.pool.next_unused_and_reserve(&account.key_source, add_to_state)
    }

    /// The timer's expiry: per pool, lock-free.
    pub fn expire(accounts: &[Account], ttl: Duration) -> usize {
        accounts.iter().map(|a| a.pool.sweep_expired_reservations(ttl)).sum()
    }
}

const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn accounts(network: Network) -> Result<Vec<Account>, Error> {
    let mut out = Vec::new();
    for (wallet, index) in [(1u64, 0u32), (1, 1), (2, 0)] {
        let path = format!("m/44'/1'/{}'", index);
        let key_source = KeySource::from_mnemonic(WORDS, if wallet == 1 { "" } else { "second" }, network, &path)?;
        let pool = AddressPool::new(&format!("{}/0", path), PoolType::External, 20, network)?;
        out.push(Account { wallet, index, network, key_source, used_on_chain: Mutex::new(HashSet::new()), pool });
    }
    Ok(out)
}

/// 8 threads, released together, each take 25 addresses of every account
/// through `bridge`; returns every address handed out, per account.
fn hand_out(accounts: &[Account], bridge: fn(&Account, bool) -> Result<Address, Error>) -> Vec<Vec<Address>> {
    let barrier = Barrier::new(8);
    let per_thread: Vec<Vec<(usize, Address)>> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let mut got = Vec::new();
                    for _ in 0..25 {
                        for (n, account) in accounts.iter().enumerate() {
                            got.push((n, bridge(account, true).expect("hand-out failed")));
                        }
                    }
                    got
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let mut out = vec![Vec::new(); accounts.len()];
    for (n, a) in per_thread.into_iter().flatten() {
        out[n].push(a);
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let old = accounts(Network::Testnet)?;
    let new = accounts(Network::Testnet)?;
    let before = hand_out(&old, before::next_receive_address);
    let after = hand_out(&new, after::next_receive_address);
    for n in 0..old.len() {
        let b: HashSet<&Address> = before[n].iter().collect();
        let a: HashSet<&Address> = after[n].iter().collect();
        assert_eq!(b.len(), 200, "the old bridge handed out an address twice");
        assert_eq!(a.len(), 200, "the new bridge handed out an address twice");
        assert_eq!(a, b, "both bridges hand out indices 0..200 of the account");
    }
    // A cancelled checkout: before, erase from the table (if still ours);
    // after, release by ticket (reserve instead of next_unused_and_reserve
    // when the ticket is needed) or let the sweep expire it.
    let r = new[0].pool.reserve(&new[0].key_source, true)?;
    assert!(new[0].pool.release(&r));
    let expired_before = before::expire(Duration::ZERO);
    let expired_after = after::expire(&new, Duration::ZERO);
    assert_eq!((expired_before, expired_after), (600, 600));
    println!(
        "bridge: 3 accounts x 200 hand-outs from 8 threads, before and after: the same distinct addresses \
         (first {}); expired {} / {}",
        after[0].iter().min_by_key(|a| new[0].pool.index_of(a)).unwrap(),
        expired_before,
        expired_after
    );
    Ok(())
}
