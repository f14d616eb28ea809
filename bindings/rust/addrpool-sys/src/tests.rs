//! Layout of every struct, and the declarations against addrpool.h itself.
use super::*;
use std::collections::BTreeMap;
use std::ffi::CStr;
use std::mem::{align_of, size_of, MaybeUninit};
use std::ptr::addr_of;

/// Offset of a field, without `offset_of!` (Rust 1.77).
macro_rules! offset {
    ($ty:ty, $field:ident) => {{
        let value = MaybeUninit::<$ty>::uninit();
        let base = value.as_ptr();
        // SAFETY: addr_of! computes the field's address without reading it.
        let field = unsafe { addr_of!((*base).$field) };
        field as usize - base as usize
    }};
}

#[test]
fn pool_stats_has_the_layout_addrpool_h_documents() {
    // The same numbers test_c_api.c checks with sizeof/offsetof.
    assert_eq!((size_of::<addrpool_pool_stats>(), align_of::<addrpool_pool_stats>()), (48, 8));
    assert_eq!(offset!(addrpool_pool_stats, generated), 0);
    assert_eq!(offset!(addrpool_pool_stats, used), 4);
    assert_eq!(offset!(addrpool_pool_stats, reserved), 8);
    assert_eq!(offset!(addrpool_pool_stats, unused), 12);
    assert_eq!(offset!(addrpool_pool_stats, gap_limit), 16);
    assert_eq!(offset!(addrpool_pool_stats, highest_used), 24);
    assert_eq!(offset!(addrpool_pool_stats, highest_reserved), 32);
    assert_eq!(offset!(addrpool_pool_stats, highest_generated), 40);
}

#[test]
fn pool_options_has_the_layout_addrpool_h_documents() {
    assert_eq!((size_of::<addrpool_pool_options>(), align_of::<addrpool_pool_options>()), (12, 4));
    assert_eq!(offset!(addrpool_pool_options, lookahead), 0);
    assert_eq!(offset!(addrpool_pool_options, gap_policy), 4);
    assert_eq!(offset!(addrpool_pool_options, format), 8);
    // C enums are int-sized (their _ENUM_MAX members make them so).
    assert_eq!(size_of::<addrpool_status>(), 4);
}

#[test]
fn wallets_match_has_the_layout_addrpool_h_documents() {
    // The same numbers test_wallets.c checks with sizeof/offsetof.
    assert_eq!((size_of::<addrpool_wallets_match>(), align_of::<addrpool_wallets_match>()), (32, 8));
    assert_eq!(offset!(addrpool_wallets_match, position), 0);
    assert_eq!(offset!(addrpool_wallets_match, wallet), 8);
    assert_eq!(offset!(addrpool_wallets_match, account), 16);
    assert_eq!(offset!(addrpool_wallets_match, chain), 20);
    assert_eq!(offset!(addrpool_wallets_match, index), 24);
    assert_eq!(offset!(addrpool_wallets_match, newly_used), 28);
}

#[test]
fn the_sync_structs_have_the_layout_addrpool_h_documents() {
    // The same numbers test_sync.c checks with sizeof/offsetof.
    assert_eq!((size_of::<addrpool_script_match>(), align_of::<addrpool_script_match>()), (16, 8));
    assert_eq!(offset!(addrpool_script_match, position), 0);
    assert_eq!(offset!(addrpool_script_match, index), 8);
    assert_eq!(offset!(addrpool_script_match, newly_used), 12);
    assert_eq!((size_of::<addrpool_pool_options_ex>(), align_of::<addrpool_pool_options_ex>()), (20, 4));
    assert_eq!(offset!(addrpool_pool_options_ex, size), 0);
    assert_eq!(offset!(addrpool_pool_options_ex, lookahead), 4);
    assert_eq!(offset!(addrpool_pool_options_ex, gap_policy), 8);
    assert_eq!(offset!(addrpool_pool_options_ex, format), 12);
    assert_eq!(offset!(addrpool_pool_options_ex, derive_threads), 16);

    let mut o = addrpool_pool_options_ex { size: 0, lookahead: 7, gap_policy: 9, format: 9, derive_threads: 3 };
    // SAFETY: a valid, writable options struct.
    assert_eq!(unsafe { addrpool_pool_options_ex_init(&mut o) }, ADDRPOOL_OK);
    assert_eq!(o, addrpool_pool_options_ex { size: 20, ..addrpool_pool_options_ex::default() });
}

#[test]
fn the_library_fills_the_structs_it_is_given() {
    let mut o = addrpool_pool_options { lookahead: 7, gap_policy: 9, format: 9 };
    // SAFETY: a valid, writable options struct.
    assert_eq!(unsafe { addrpool_pool_options_init(&mut o) }, ADDRPOOL_OK);
    assert_eq!(o, addrpool_pool_options { lookahead: 0, gap_policy: ADDRPOOL_GAP_UNBOUNDED, format: 0 });

    let mut pool: *mut addrpool_pool = std::ptr::null_mut();
    let base = b"m/0\0";
    // SAFETY: a NUL-terminated path and a valid out pointer.
    let st = unsafe {
        addrpool_pool_new_keyless(base.as_ptr().cast(), ADDRPOOL_INTERNAL, 33, ADDRPOOL_REGTEST, &o, &mut pool)
    };
    assert_eq!(st, ADDRPOOL_OK);
    let mut s = addrpool_pool_stats::default();
    // SAFETY: a live pool and a writable stats struct.
    assert_eq!(unsafe { addrpool_stats(pool, &mut s) }, ADDRPOOL_OK);
    assert_eq!((s.gap_limit, s.generated, s.highest_used, s.highest_generated), (33, 0, -1, -1));
    // SAFETY: the pool is freed once, with no call running on it.
    unsafe { addrpool_pool_free(pool) };

    // A failure sets the thread-local message.
    // SAFETY: NULL out pointer is a documented error, not UB.
    let st = unsafe { addrpool_key_source_none(std::ptr::null_mut()) };
    assert_eq!(st, ADDRPOOL_E_NULL_ARGUMENT);
    // SAFETY: addrpool_last_error never returns NULL.
    let message = unsafe { CStr::from_ptr(addrpool_last_error()) };
    assert!(message.to_str().unwrap().contains("out"), "{:?}", message);
}

/// The header: `ADDRPOOL_HEADER`, or the one in this source tree.
fn header() -> String {
    let path = std::env::var("ADDRPOOL_HEADER")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../include/addrpool/addrpool.h").to_string());
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {} ({}); set ADDRPOOL_HEADER to addrpool.h", path, e))
}

/// `name value` pairs of `#define ADDRPOOL_X value` and `ADDRPOOL_X = value,`.
fn header_constants(h: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in h.lines() {
        let line = line.trim();
        let (name, value) = if let Some(rest) = line.strip_prefix("#define ") {
            let mut parts = rest.split_whitespace();
            match (parts.next(), parts.next()) {
                (Some(n), Some(v)) => (n, v),
                _ => continue,
            }
        } else if line.starts_with("ADDRPOOL_") && line.contains(" = ") {
            let mut parts = line.splitn(2, " = ");
            let n = parts.next().unwrap();
            let v = parts.next().unwrap().split(&[',', ' '][..]).next().unwrap();
            (n, v)
        } else {
            continue;
        };
        if !name.starts_with("ADDRPOOL_") || name.ends_with("_ENUM_MAX") || value.starts_with("__") {
            continue;
        }
        out.insert(name.to_string(), value.to_string());
    }
    out
}

/// Function names declared with ADDRPOOL_API.
fn header_functions(h: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in h.split("ADDRPOOL_API ").skip(1) {
        let decl = chunk.split('(').next().unwrap();
        let name = decl.rsplit(&[' ', '*'][..]).next().unwrap();
        if name.starts_with("addrpool_") {
            out.push(name.to_string());
        }
    }
    out.sort();
    out
}

#[test]
fn every_function_and_constant_of_addrpool_h_is_declared_here_with_its_value() {
    let h = header();
    let rs = include_str!("lib.rs");
    let mut declared: Vec<String> =
        rs.split("pub fn ").skip(1).map(|c| c.split('(').next().unwrap().trim().to_string()).collect();
    declared.sort();
    let functions = header_functions(&h);
    assert!(functions.len() > 40, "parsed only {:?}", functions);
    assert_eq!(functions, declared, "addrpool.h and addrpool-sys declare different functions");

    let mut rust_consts = BTreeMap::new();
    for chunk in rs.split("pub const ").skip(1) {
        let name = chunk.split(':').next().unwrap().trim().to_string();
        let value = chunk.split('=').nth(1).unwrap().split(';').next().unwrap().trim().to_string();
        rust_consts.insert(name, value);
    }
    let consts = header_constants(&h);
    assert!(consts.len() > 50, "parsed only {:?}", consts);
    assert_eq!(
        consts.keys().collect::<Vec<_>>(),
        rust_consts.keys().collect::<Vec<_>>(),
        "addrpool.h and addrpool-sys define different constants"
    );
    for (name, value) in &consts {
        assert_eq!(value, &rust_consts[name], "{} differs", name);
    }
}
