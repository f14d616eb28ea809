//! The safe API end to end: key sources of every kind, errors with useful
//! messages (and no secrets), tickets, sweep, persistence, address parsing.
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use addrpool::{
    Address, AddressFormat, AddressPool, AddressState, ErrorCode, GapPolicy, KeyKind, KeySource, Network, PoolOptions,
    PoolType, MAX_LOOKAHEAD,
};

const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const TPRV: &str =
    "tprv8fPDJN9UQqg6pFsQsrVxTwHZmXLvHpfGGcsCA9rtnatUgVtBKxhtFeqiyaYKSWydunKpjhvgJf6PwTwgirwuCbFq8YKgpQiaVJf3JCrNmkR";
const TPUB: &str =
    "tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba";
const MASTER_XPRV: &str =
    "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
const RECEIVE: [&str; 3] =
    ["yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt", "yfd64jEpzzTLrHnR1wq3iiYXh68AiU8mcw", "yTGFWr27HBYsb8tkLbGdxLxuKbspamdbnG"];
const CHANGE_0: &str = "yNwHG9D2rnrJRQ8j7TG6xnWfbr8D634HeM";

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn the_types_are_send_and_sync_where_the_issue_says() {
    assert_send_sync::<AddressPool>();
    assert_send_sync::<KeySource>();
    assert_send_sync::<addrpool::Error>();
    assert_send_sync::<Address>();
    assert_send_sync::<addrpool::ReservationGuard<'static>>();
}

#[test]
fn key_sources_of_every_kind_hand_out_the_bip44_receive_addresses() {
    let sources = [
        ("xprv", KeySource::from_xprv(TPRV).unwrap(), KeyKind::Private),
        ("xpub", KeySource::from_xpub(TPUB).unwrap(), KeyKind::Public),
        ("mnemonic", KeySource::from_mnemonic(WORDS, "", Network::Testnet, "m/44'/1'/0'").unwrap(), KeyKind::Private),
    ];
    for (name, keys, kind) in &sources {
        assert_eq!(keys.kind(), *kind, "{}", name);
        assert_eq!(keys.network(), Some(Network::Testnet), "{}", name);
        assert_eq!(keys.account_xpub().as_deref(), Some(TPUB), "{}", name);
        for base in ["m/44'/1'/0'/0", "m/0"] {
            let pool = AddressPool::new(base, PoolType::External, 20, Network::Testnet).unwrap();
            for want in RECEIVE {
                assert_eq!(pool.next_unused_and_reserve(keys, true).unwrap().as_str(), want, "{} on {}", name, base);
            }
        }
        let change = AddressPool::new("m/44'/1'/0'/1", PoolType::Internal, 20, Network::Regtest).unwrap();
        let r = change.reserve(keys, true).unwrap();
        assert_eq!((r.index, r.address.as_str(), r.address.network()), (0, CHANGE_0, Network::Regtest));
    }
    // A passphrase changes the wallet.
    let other = KeySource::from_mnemonic(WORDS, "TREZOR", Network::Testnet, "m/44'/1'/0'").unwrap();
    assert_ne!(other.account_xpub().as_deref(), Some(TPUB));

    // none(): only what is derived already.
    let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 20, Network::Testnet).unwrap();
    let none = KeySource::none();
    assert_eq!(none.kind(), KeyKind::None);
    let e = pool.reserve(&none, true).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NoKeySource);
    assert_eq!(pool.stats().reserved, 0);
    pool.reserve(&sources[1].1, true).unwrap(); // derives the lookahead
    let r = pool.reserve(&none, true).unwrap();
    assert_eq!((r.index, r.address.as_str()), (1, RECEIVE[1]));
}

#[test]
fn a_key_source_that_contradicts_the_pool_is_refused_with_the_reason() {
    let keys = KeySource::from_xpub(TPUB).unwrap();
    let cases = [
        ("m/44'/1'/1'/0", PoolType::External, Network::Testnet, "child number"),
        ("m/44'/1'/0'/1", PoolType::External, Network::Testnet, "/0"),
        ("m/44'/1'/0'/0", PoolType::External, Network::Mainnet, "mainnet"),
    ];
    for (base, t, net, words) in cases {
        let pool = AddressPool::new(base, t, 20, net).unwrap();
        let e = pool.next_unused_and_reserve(&keys, true).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{}", e);
        assert!(e.to_string().contains(words), "{:?} lacks {:?}", e.to_string(), words);
        assert_eq!(pool.stats().reserved, 0);
    }
    let hardened = AddressPool::new("m/44'/1'/0'", PoolType::AbsentHardened, 20, Network::Testnet).unwrap();
    assert_eq!(hardened.reserve(&keys, true).unwrap_err().code(), ErrorCode::HardenedFromPublic);
    let private = KeySource::from_xprv(TPRV).unwrap();
    let r = hardened.reserve(&private, true).unwrap();
    assert_eq!(r.address, private.derive_address(PoolType::AbsentHardened, 0, Network::Testnet).unwrap());
    assert_eq!(hardened.path_of(r.index).unwrap(), "m/44'/1'/0'/0'");
}

#[test]
fn errors_print_a_useful_message_and_never_the_secret() {
    let e = KeySource::from_xprv(TPUB).unwrap_err();
    assert_eq!(e.code(), ErrorCode::KeyTypeMismatch);
    assert!(e.to_string().contains("key_type_mismatch") && e.message().len() > 10, "{}", e);

    let e = KeySource::from_xpub(TPRV).unwrap_err();
    assert!(!e.to_string().contains(&TPRV[4..30]), "{}", e);

    let bad_word = WORDS.replacen("abandon", "zzsecret", 2);
    let e = KeySource::from_mnemonic(&bad_word, "", Network::Testnet, "m/44'/1'/0'").unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidMnemonic);
    assert!(!e.to_string().contains("zzsecret") && !e.to_string().contains("abandon"), "{}", e);
    assert!(e.message().contains('1'), "names the position: {}", e);
    assert_eq!(format!("{:?}", e.code()), "InvalidMnemonic");

    let e = KeySource::from_mnemonic(WORDS, "", Network::Testnet, "44'/1'").unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidPath);
    let e = KeySource::from_seed(&[1; 8], Network::Testnet, "m/0'").unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidSeed);

    // NUL bytes are errors, not panics, and name the argument.
    let e = KeySource::from_mnemonic(WORDS, "pass\0word", Network::Testnet, "m/0'").unwrap_err();
    assert_eq!((e.code(), e.message()), (ErrorCode::InvalidArgument, "the passphrase contains a NUL byte"));
    assert_eq!(KeySource::from_xprv("tprv\0").unwrap_err().code(), ErrorCode::InvalidEncoding);
    assert_eq!(Address::parse("y\0", Network::Testnet).unwrap_err().code(), ErrorCode::InvalidEncoding);
    assert_eq!(
        AddressPool::new("m/0\0", PoolType::External, 20, Network::Testnet).unwrap_err().code(),
        ErrorCode::InvalidPath
    );
    let e = AddressPool::load(std::path::Path::new("/tmp/a\0b")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::IoError);

    // Debug of a key source shows no key.
    let shown = format!("{:?}", KeySource::from_xprv(TPRV).unwrap());
    assert!(shown.contains("Private") && !shown.contains("tprv"), "{}", shown);
    // A boxed error works with `?` in a main returning Box<dyn Error>.
    let boxed: Box<dyn std::error::Error + Send + Sync> = KeySource::from_xpub("nope").unwrap_err().into();
    assert!(boxed.to_string().ends_with("(invalid_encoding)"), "{}", boxed);
}

#[test]
fn tickets_are_distinct_and_a_stale_one_changes_nothing() {
    let keys = KeySource::from_xpub(TPUB).unwrap();
    let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet).unwrap();
    let mut tickets = HashSet::new();
    let first = pool.reserve(&keys, true).unwrap();
    tickets.insert(first.ticket);
    assert!(pool.release(&first));
    for _ in 0..50 {
        let r = pool.reserve(&keys, true).unwrap();
        assert_eq!(r.index, 0);
        assert!(tickets.insert(r.ticket), "a ticket came back");
        assert!(!pool.release(&first), "a stale ticket released someone else's reservation");
        assert!(pool.release(&r));
    }
    // By index: whoever holds it.
    let r = pool.reserve(&keys, true).unwrap();
    assert!(pool.release_reservation(r.index));
    assert!(!pool.release_reservation(r.index));
    assert!(!pool.release_reservation(u32::MAX));
}

#[test]
fn sweep_frees_only_what_is_old_enough() {
    let keys = KeySource::from_xpub(TPUB).unwrap();
    let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet).unwrap();
    for _ in 0..3 {
        pool.reserve(&keys, true).unwrap();
    }
    assert!(pool.mark_index_used(1));
    assert_eq!(pool.sweep_expired_reservations(Duration::from_secs(3600)), 0);
    assert_eq!(pool.sweep_expired_reservations(Duration::MAX), 0, "saturates: never expires");
    // The sleep is a lower bound on the age of 0 and 2, nothing more: a
    // reservation taken after it may or may not be 2 ms old at the sweep.
    // The default clock stamps a hand-out up to its coarse resolution (a few
    // ms) late, so the sleep leaves a wide margin over the 2 ms TTL.
    std::thread::sleep(Duration::from_millis(30));
    pool.reserve(&keys, true).unwrap();
    let freed = pool.sweep_expired_reservations(Duration::from_nanos(1_500_000)); // rounded up to 2 ms
    assert!(freed == 2 || freed == 3, "0 and 2 are at least 30 ms old: freed {}", freed);
    assert_eq!(pool.state(0), AddressState::Unused);
    assert_eq!(pool.state(1), AddressState::Used);
    assert_eq!(pool.sweep_expired_reservations(Duration::ZERO), 3 - freed);
    assert_eq!(pool.stats().reserved, 0);
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("addrpool-rust-{}-{}", std::process::id(), name))
}

#[test]
fn save_load_serialize_and_deserialize_keep_used_marks_not_reservations() {
    let keys = KeySource::from_xprv(TPRV).unwrap();
    let pool = AddressPool::new("m/44'/1'/0'/0", PoolType::External, 5, Network::Testnet).unwrap();
    for _ in 0..4 {
        pool.reserve(&keys, true).unwrap();
    }
    assert!(pool.mark_used(&Address::parse(RECEIVE[1], Network::Testnet).unwrap()));
    let path = temp_path("save.pool");
    pool.save(&path).unwrap();
    let bytes = pool.serialize();
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "serialize gives the saved bytes");

    for copy in [AddressPool::load(&path).unwrap(), AddressPool::deserialize(&bytes).unwrap()] {
        assert_eq!(copy.network(), Network::Testnet);
        assert_eq!((copy.pool_type(), copy.gap_limit(), copy.base_path()), (PoolType::External, 5, pool.base_path()));
        let s = copy.stats();
        assert_eq!((s.used, s.highest_used, s.reserved), (1, Some(1), 0));
        assert_eq!(copy.state(0), AddressState::Unused, "reservations are not saved");
        assert_eq!(copy.index_of(&Address::parse(RECEIVE[2], Network::Testnet).unwrap()), Some(2));
        // Hand-outs continue with a key source, skipping the used index.
        let got: Vec<u32> = (0..6).map(|_| copy.reserve(&keys, true).unwrap().index).collect();
        assert_eq!(got, vec![0, 2, 3, 4, 5, 6]);
    }
    std::fs::remove_file(&path).unwrap();

    let e = AddressPool::deserialize(&bytes[..bytes.len() / 2]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Truncated);
    let mut corrupt = bytes.clone();
    let n = corrupt.len();
    corrupt[n - 5] ^= 1;
    assert_eq!(AddressPool::deserialize(&corrupt).unwrap_err().code(), ErrorCode::CorruptData);
    assert_eq!(AddressPool::deserialize(b"not an addrpool file at all").unwrap_err().code(), ErrorCode::BadMagic);
    let e = pool.save(std::path::Path::new("/nonexistent-dir/pool")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::IoError);
    assert!(!e.message().is_empty());
}

#[test]
fn addresses_parse_compare_and_hash_by_their_text() {
    let a = Address::parse(RECEIVE[0], Network::Testnet).unwrap();
    let b = Address::parse(RECEIVE[0], Network::Devnet).unwrap();
    assert_eq!(a, b);
    let set: HashSet<Address> = [a.clone(), b.clone()].into_iter().collect();
    assert_eq!(set.len(), 1);
    assert_eq!(a.to_string(), RECEIVE[0]);
    assert!(format!("{:?}", b).contains("devnet"));
    assert_eq!(Address::parse("8eRUv6F6pmr7sCiCXf3UoopN4GdSSt6SgR", Network::Testnet).unwrap().as_str().len(), 34);
    let cases = [
        ("XoJA8qE3N2Y3jMLEtZ3vcN42qseZ8LvFf5", Network::Testnet, ErrorCode::NetworkMismatch),
        ("yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnju", Network::Testnet, ErrorCode::BadChecksum),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", Network::Mainnet, ErrorCode::UnknownVersion),
        ("yRd4FhXfVGHX0OIl", Network::Testnet, ErrorCode::InvalidEncoding),
        ("", Network::Testnet, ErrorCode::InvalidEncoding),
    ];
    for (text, net, code) in cases {
        let e = Address::parse(text, net).unwrap_err();
        assert_eq!(e.code(), code, "{:?}: {}", text, e);
    }
    // DIP-18: the platform spelling of the same key is a different string.
    let keys = KeySource::from_xpub(TPUB).unwrap();
    let platform = keys.derive_address_in(PoolType::External, 0, Network::Testnet, AddressFormat::Platform).unwrap();
    assert_eq!(Address::parse(platform.as_str(), Network::Regtest).unwrap(), platform);
    assert_ne!(platform, a);
}

#[test]
fn options_set_the_format_the_gap_policy_and_the_lookahead_cap() {
    let keys = KeySource::from_xpub(TPUB).unwrap();
    let o = PoolOptions {
        gap_policy: GapPolicy::Error,
        format: AddressFormat::Platform,
        lookahead: 4,
        ..PoolOptions::default()
    };
    let pool = AddressPool::with_options("m/44'/1'/0'/0", PoolType::External, 2, Network::Testnet, &o).unwrap();
    let a = pool.next_unused_and_reserve(&keys, true).unwrap();
    assert!(a.as_str().starts_with("tdash1k"), "{}", a);
    pool.reserve(&keys, true).unwrap();
    assert_eq!(pool.reserve(&keys, true).unwrap_err().code(), ErrorCode::GapLimitReached);
    // Either spelling marks the entry used.
    assert!(pool.mark_used(&Address::parse(RECEIVE[0], Network::Testnet).unwrap()));
    assert_eq!(pool.reserve(&keys, true).unwrap().index, 2);

    let too_far = PoolOptions { lookahead: MAX_LOOKAHEAD + 1, ..PoolOptions::default() };
    let e = AddressPool::with_options("m/0", PoolType::External, 20, Network::Testnet, &too_far).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    let e = AddressPool::new("m/0", PoolType::External, addrpool::MAX_GAP_LIMIT + 1, Network::Testnet).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
}

#[test]
fn a_mainnet_wallet_works_the_same() {
    let keys = KeySource::from_xprv(MASTER_XPRV).unwrap();
    assert_eq!(keys.network(), Some(Network::Mainnet));
    let pool = AddressPool::new("m", PoolType::Absent, 20, Network::Mainnet).unwrap();
    let a = pool.next_unused_and_reserve(&keys, true).unwrap();
    assert!(a.as_str().starts_with('X'), "{}", a);
    assert_eq!(a, keys.derive_address(PoolType::Absent, 0, Network::Mainnet).unwrap());
    assert_eq!(
        keys.derive_address(PoolType::Absent, 0, Network::Testnet).unwrap_err().code(),
        ErrorCode::NetworkMismatch
    );
}
