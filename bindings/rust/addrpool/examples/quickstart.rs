//! The Rust API in one page: a key source from a mnemonic, a receive pool,
//! hand-outs from several threads, a guard that releases itself, then
//! completion (used), expiry (sweep) and persistence. `cargo run --example
//! quickstart`; docs/api.md includes it verbatim.
use std::collections::HashSet;
use std::time::Duration;

use addrpool::{AddressPool, Error, KeySource, Network, PoolType};

fn main() -> Result<(), Error> {
    let words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    // The account's key material (an xprv or a watch-only xpub work too).
    let keys = KeySource::from_mnemonic(words, "", Network::Testnet, "m/44'/1'/0'")?;
    // Its receive chain m/44'/1'/0'/0 with a gap limit of 20.
    let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet)?;

    // Any number of threads hand out from one pool, without a lock.
    let addresses: Vec<String> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8).map(|_| s.spawn(|| pool.next_unused_and_reserve(&keys, true))).collect();
        threads.into_iter().map(|t| t.join().unwrap().map(|a| a.to_string())).collect::<Result<_, Error>>()
    })?;
    let distinct: HashSet<&String> = addresses.iter().collect();
    println!("8 threads got {} distinct addresses", distinct.len());

    // A checkout that may fail halfway: the guard returns the address
    // unless it is kept or marked used.
    {
        let checkout = pool.reserve_guard(&keys)?;
        println!("reserved {} {}", checkout.index, checkout.address);
        // ... an early return or `?` here releases it
        checkout.mark_used(); // the payment arrived
    }

    // Everything else older than 30 minutes expires (nothing yet).
    let freed = pool.sweep_expired_reservations(Duration::from_secs(30 * 60));

    // Used marks are durable; reservations are not.
    let copy = AddressPool::deserialize(&pool.serialize())?;
    let s = copy.stats();
    println!("freed {}; the copy has {} used, {} reserved", freed, s.used, s.reserved);
    Ok(())
}
