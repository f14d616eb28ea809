//! WalletSet and Account through the safe API: threads released together
//! (a seeded order, printed, replayable with ADDRPOOL_TEST_SEED), one block
//! across accounts, a save and a load with keys from a closure.
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::Duration;

use addrpool::{Account, AddressState, ErrorCode, KeySource, Network, PoolOptions, PoolType, WalletSet};

const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn keys(n: u32) -> KeySource {
    KeySource::from_mnemonic(WORDS, "", Network::Testnet, &format!("m/44'/1'/{}'", n)).unwrap()
}

fn account(keys: &KeySource, n: u32, gap: u32) -> Account {
    Account::bip44(keys, &format!("m/44'/1'/{}'", n), Network::Testnet, gap).unwrap()
}

fn seed() -> u64 {
    let s = std::env::var("ADDRPOOL_TEST_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    eprintln!("replay with ADDRPOOL_TEST_SEED={}", s);
    s
}

/// xorshift64*: a seeded sequence without a registry crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn threads_find_and_hand_out_while_another_adds_and_removes() {
    let seed = seed();
    let ks = [keys(0), keys(1)];
    let accounts: Vec<Account> = (0..16).map(|n| account(&ks[n % 2], (n % 2) as u32, 20)).collect();
    let set = WalletSet::new();
    for (n, a) in accounts.iter().enumerate().step_by(2) {
        assert!(set.add(&format!("w{}", n), n as u32, a).unwrap());
    }
    let readers = 6;
    let start = Barrier::new(readers + 1);
    let stop = AtomicBool::new(false);
    let got = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..readers {
            let (set, start, stop, got) = (&set, &start, &stop, &got);
            s.spawn(move || {
                let mut rng = Rng(seed.wrapping_add(t as u64 + 1) | 1);
                let mut mine = Vec::new();
                start.wait();
                while !stop.load(Ordering::Relaxed) {
                    // Relaxed: a stop flag; the results travel through the mutex.
                    let n = (rng.next() % 16) as u32;
                    if let Some(a) = set.find(&format!("w{}", n), n) {
                        if let Ok(r) = a.next_receive_address() {
                            mine.push((n, r.index));
                        }
                    }
                }
                got.lock().unwrap().extend(mine);
            });
        }
        let (set, start, stop, accounts) = (&set, &start, &stop, &accounts);
        s.spawn(move || {
            let mut rng = Rng(seed ^ 0x5a5a_5a5a | 1);
            start.wait();
            for _ in 0..300 {
                let n = (rng.next() % 16) as u32;
                let name = format!("w{}", n);
                if !set.remove(&name, n) {
                    assert!(set.add(&name, n, &accounts[n as usize]).unwrap());
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
    });
    let got = got.into_inner().unwrap();
    let distinct: HashSet<_> = got.iter().collect();
    assert_eq!(distinct.len(), got.len(), "an (account, index) was handed out twice");
    let mut per: BTreeMap<u32, u32> = BTreeMap::new();
    for (n, _) in &got {
        *per.entry(*n).or_default() += 1;
    }
    for (n, a) in accounts.iter().enumerate() {
        assert_eq!(a.stats(PoolType::External).unwrap().reserved, per.get(&(n as u32)).copied().unwrap_or(0));
    }
}

#[test]
fn a_block_is_matched_across_accounts_saved_and_loaded_back() {
    let ks = [keys(0), keys(1)];
    let set = WalletSet::new();
    let a0 = account(&ks[0], 0, 5);
    let a1 = account(&ks[1], 1, 5);
    assert!(set.add("alice", 0, &a0).unwrap());
    assert!(set.add("bob", 1, &a1).unwrap());
    let pay = |k: &KeySource, chain, i| k.derive_address(chain, i, Network::Testnet).unwrap().script_pubkey().unwrap();
    let block = vec![
        pay(&ks[1], PoolType::Internal, 7), // past bob's change window until 3 is paid
        pay(&ks[0], PoolType::External, 2),
        vec![0x6a, 0x00],
        pay(&ks[1], PoolType::Internal, 3),
    ];
    let m = set.mark_scripts_used(&block).unwrap();
    let seen: Vec<_> = m.iter().map(|x| (x.position, x.wallet.as_str(), x.chain, x.index, x.newly_used)).collect();
    assert_eq!(
        seen,
        vec![
            (0, "bob", PoolType::Internal, 7, true),
            (1, "alice", PoolType::External, 2, true),
            (3, "bob", PoolType::Internal, 3, true),
        ]
    );
    assert_eq!(a1.state(PoolType::Internal, 7), AddressState::Used);
    assert_eq!(a1.scan_window_end(PoolType::Internal).unwrap(), 13);
    assert_eq!(a0.stats(PoolType::Absent).unwrap_err().code(), ErrorCode::InvalidArgument);
    a0.next_receive_address().unwrap();
    assert_eq!(set.sweep_expired_reservations(Duration::ZERO), 1);

    let dir = std::env::temp_dir().join(format!("addrpool-rust-wallets-{}", std::process::id()));
    assert_eq!(set.save(&dir).unwrap(), 4);
    assert_eq!(set.save(&dir).unwrap(), 0);
    let calls = std::cell::Cell::new(0);
    let back = WalletSet::load(&dir, |wallet, n| {
        calls.set(calls.get() + 1);
        assert_eq!(wallet, if n == 0 { "alice" } else { "bob" });
        Some(ks[n as usize].clone())
    })
    .unwrap();
    assert_eq!((back.len(), calls.get()), (2, 2));
    let b1 = back.find("bob", 1).unwrap();
    assert_eq!(b1.state(PoolType::Internal, 3), AddressState::Used);
    assert_eq!(b1.stats(PoolType::Internal).unwrap().used, 2);
    // A panic in the callback stops the load and reaches the caller.
    let caught = std::panic::catch_unwind(|| WalletSet::load(&dir, |_, _| panic!("no keys today")));
    assert!(caught.is_err());
    // Keys that do not fit their account.
    let wrong = WalletSet::load(&dir, |_, n| Some(ks[(n as usize + 1) % 2].clone())).err().unwrap();
    assert_eq!(wrong.code(), ErrorCode::InvalidArgument);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_account_derives_its_windows_on_the_threads_its_options_name() {
    // A 300-address window (more than 256: derived on derive_threads
    // threads) must match a block paying index 299 on either chain, with 1
    // thread and with 2, and the addresses handed out must agree. (No call
    // reports derive_threads back: this checks that both settings derive
    // right, not which one the pools got.)
    let ks = keys(0);
    let pay = |chain, i| ks.derive_address(chain, i, Network::Testnet).unwrap().script_pubkey().unwrap();
    let block = vec![pay(PoolType::External, 299), pay(PoolType::Internal, 299)];
    let mut handed_out = Vec::new();
    for threads in [1u32, 2] {
        let o = PoolOptions { derive_threads: threads, ..PoolOptions::default() };
        let a = Account::bip44_with_options(&ks, "m/44'/1'/0'", Network::Testnet, 300, &o).unwrap();
        let set = WalletSet::new();
        assert!(set.add("shop", 0, &a).unwrap());
        let m = set.mark_scripts_used(&block).unwrap();
        let seen: Vec<_> = m.iter().map(|x| (x.position, x.chain, x.index, x.newly_used)).collect();
        assert_eq!(
            seen,
            vec![(0, PoolType::External, 299, true), (1, PoolType::Internal, 299, true)],
            "threads {}",
            threads
        );
        handed_out.push((a.next_receive_address().unwrap().address, a.next_change_address().unwrap().address));
    }
    assert_eq!(handed_out[0], handed_out[1]);
}
