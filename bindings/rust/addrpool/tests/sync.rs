//! Start-up and sync through the safe API: a cold-start replay, a block with
//! payments past the window, restored hand-outs and their tickets across a
//! reload, and derive threads giving the same addresses.
use std::sync::Barrier;
use std::time::Duration;

use addrpool::{AddressPool, AddressState, ErrorCode, KeySource, Network, PoolOptions, PoolType, ScriptMatch};

const TPUB: &str =
    "tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba";
const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn keys() -> KeySource {
    KeySource::from_xpub(TPUB).unwrap()
}

fn receive_pool(gap_limit: u32) -> AddressPool {
    AddressPool::new("m/44'/1'/0'/0", PoolType::External, gap_limit, Network::Testnet).unwrap()
}

/// The P2PKH script (or, with `p2sh`, the P2SH script over the same hash) of
/// receive address `index`, from its Base58Check text.
fn script(index: u32, p2sh: bool) -> Vec<u8> {
    let text = keys().derive_address(PoolType::External, index, Network::Testnet).unwrap().to_string();
    let mut raw = [0u8; 25];
    for c in text.bytes() {
        let mut carry = BASE58.iter().position(|&b| b == c).unwrap() as u32;
        for byte in raw.iter_mut().rev() {
            carry += 58 * u32::from(*byte);
            *byte = carry as u8;
            carry >>= 8;
        }
        assert_eq!(carry, 0);
    }
    let hash = &raw[1..21];
    if p2sh {
        [&[0xa9, 0x14][..], hash, &[0x87][..]].concat()
    } else {
        [&[0x76, 0xa9, 0x14][..], hash, &[0x88, 0xac][..]].concat()
    }
}

#[test]
fn a_cold_start_replays_the_used_indices_and_the_hand_outs_skip_them() {
    let pool = receive_pool(20);
    let keys = keys();
    let used: Vec<u32> = (0..100).map(|k| (k * 37) % 250).collect(); // 100 distinct indices below 250
    for &i in &used {
        assert!(pool.mark_index_used_with(i, &keys).unwrap());
    }
    assert_eq!(pool.stats().used, 100);
    let mut expected: Vec<u32> = (0..250).filter(|i| !used.contains(i)).collect();
    expected.truncate(30);
    let got: Vec<u32> = (0..30).map(|_| pool.reserve(&keys, true).unwrap().index).collect();
    assert_eq!(got, expected);
    assert_eq!(pool.mark_index_used_with(1 << 31, &keys).unwrap_err().code(), ErrorCode::IndexOutOfRange);
    assert_eq!(pool.mark_index_used_with(300, &KeySource::none()).unwrap_err().code(), ErrorCode::NoKeySource);
    assert_eq!(pool.state(300), AddressState::Unused);
}

#[test]
fn a_block_finds_payments_past_the_window_before_and_after_the_one_that_widens_it() {
    let pool = receive_pool(5);
    // Window [0, 5): 3 widens it to 9, 8 to 14, 13 to 19; 20 stays out.
    let block = vec![
        script(1, true),
        script(8, false),
        vec![0x6a],
        Vec::new(),
        script(3, false),
        script(13, false),
        script(20, false),
        script(3, false),
    ];
    let found = pool.mark_scripts_used(&block, &keys()).unwrap();
    assert_eq!(
        found,
        vec![
            ScriptMatch { position: 1, index: 8, newly_used: true },
            ScriptMatch { position: 4, index: 3, newly_used: true },
            ScriptMatch { position: 5, index: 13, newly_used: true },
            ScriptMatch { position: 7, index: 3, newly_used: false },
        ]
    );
    assert_eq!((pool.state(1), pool.state(20)), (AddressState::Unused, AddressState::Unused));
    assert_eq!(pool.scan_window_end(), 19);
    // Borrowed slices work as well as owned scripts.
    let slices: Vec<&[u8]> = block.iter().map(|s| s.as_slice()).collect();
    assert!(pool.mark_scripts_used(&slices, &keys()).unwrap().iter().all(|m| !m.newly_used));
    assert_eq!(
        receive_pool(5).mark_scripts_used(&block, &KeySource::none()).unwrap_err().code(),
        ErrorCode::NoKeySource
    );
}

#[test]
fn a_restored_hand_out_outlives_a_restart_and_the_old_ticket_frees_nothing() {
    let keys = keys();
    let before = receive_pool(20);
    let promised = before.reserve(&keys, true).unwrap();
    let after = AddressPool::deserialize(&before.serialize()).unwrap();
    let restored = after.restore_reservation(promised.index, Duration::from_secs(60), &keys).unwrap();
    assert_eq!(restored.address, promised.address);
    assert_ne!(restored.ticket, promised.ticket);
    assert!(!after.release(&promised)); // the late release from before the restart
    assert_eq!(after.state(promised.index), AddressState::Reserved);
    assert_eq!(after.sweep_expired_reservations(Duration::from_secs(3600)), 0); // ttl above the age
    assert_eq!(after.reserve(&keys, true).unwrap().index, 1);
    assert!(after.release(&restored));
    assert_eq!(after.restore_reservation(1, Duration::ZERO, &keys).unwrap_err().code(), ErrorCode::IndexUnavailable);
}

#[test]
fn concurrent_restores_of_one_index_have_one_winner() {
    let pool = receive_pool(20);
    let keys = keys();
    for index in [0u32, 9, 33] {
        let barrier = Barrier::new(4);
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        pool.restore_reservation(index, Duration::ZERO, &keys)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| e.code() == ErrorCode::IndexUnavailable));
    }
}

#[test]
fn derive_threads_give_the_same_addresses_and_are_checked() {
    let keys = keys();
    let window = |threads: u32| {
        let o = PoolOptions { derive_threads: threads, ..PoolOptions::default() };
        let pool = AddressPool::with_options("m/44'/1'/0'/0", PoolType::External, 600, Network::Testnet, &o).unwrap();
        pool.mark_scripts_used::<Vec<u8>>(&[], &keys).unwrap();
        (0..600).map(|i| pool.address_at(i).unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(window(1), window(4));
    let too_many = PoolOptions { derive_threads: addrpool::MAX_DERIVE_THREADS + 1, ..PoolOptions::default() };
    let e = AddressPool::with_options("m/0", PoolType::External, 20, Network::Testnet, &too_many).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
}
