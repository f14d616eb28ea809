// addrpool-bench: addrpool against reproductions of today's workarounds
// (bench/baselines.hpp), all in one process, on the same pre-derived
// addresses. docs/performance.md explains each method; bench/report.py turns
// the JSON output into that page.
//
// Families (the name's first component; the second is the design):
//   latency/D/N          reserve + release of the next index, N outstanding, 1 thread
//   handout/D            hand-out only (releases batched outside the timer), 1 thread
//   throughput/D         reserve + release per thread, 1k outstanding, 1..16 threads
//   cold/D               lookahead 1: every hand-out derives, 1 and 2 threads
//   derive_ahead/D       paced hand-outs while a refill derives 20 every 2 ms; p50/p99/p99.9
//   bulk_{mark_used,release,sweep}/D/N   one operation over N reservations
//   refill_overhead      generate_addresses(0) on the pre-derived pool (its scan for the highest generated)
//   derive/ROUTE         cost of one address by four derivation routes
//   derive/paired        addrpool's route and the key-wallet's timed in alternation (their ratio)
//   memory/D             bytes per index: heap + resident anonymous mappings (counters, one iteration)
//   persist/{load,save}  1M generated addresses through deserialize/serialize
//   churn/D/n:N/threads:W  N outstanding; W threads each release a random reservation
//                        they hold (by ticket) and take a new one; ownership checked
//   stream/D/threads:W   back-to-back hand-outs of fresh pre-derived indices, no releases
//
// churn/ and stream/ compare addrpool with (f) mutex + min-heap and (c) mutex +
// cursor, each with steady_clock and with the pool's coarse clock (…_coarse);
// churn/floor/…/threads:1 is (g), the harness around a design that does next
// to nothing, for what the harness and the memory system cost at each N.
// An ownership violation in them fails the run: the benchmark reports it as
// an error and the process exits 1.
//
// `--smoke` (our flag, stripped before Google Benchmark sees the rest) shrinks
// every size so that `meson test bench-smoke` runs each family in seconds.
#include <addrpool/addrpool.hpp>

#include "baselines.hpp"
#include "crew.hpp"
#include "fresh_pool.hpp"
#include "keys/crypto.hpp"
#include "keys/derive.hpp"
#include "persist/codec.hpp"
#include "pool/pool_impl.hpp"

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <secp256k1.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

using namespace addrpool;
using namespace addrpool::bench;
using namespace std::chrono_literals;

namespace {

// ---- sizes ------------------------------------------------------------------

bool g_smoke = false;

struct Sizes {
    std::vector<std::int64_t> outstanding;  // latency/…/N
    std::uint32_t throughput_outstanding;   // reservations held while threads hand out
    std::uint32_t bulk;                     // bulk_* over this many reservations
    std::uint32_t memory_indices;           // memory/… per this many indices
    std::uint32_t persist_entries;          // persist/… file size
    std::int64_t paced_requests;            // derive_ahead iterations
    std::vector<std::int64_t> churn_n;      // churn/…: reservations outstanding
    std::vector<std::int64_t> churn_threads;  // churn/… and stream/…: threads
    std::uint32_t churn_steps_per_run;      // churn: steps of all threads in one run (one GB iteration)
    std::int64_t churn_runs;                // churn: runs per repetition
    std::uint32_t stream_handouts;          // stream: hand-outs of all threads in one run (a fresh design each)
    std::int64_t stream_runs;               // stream: runs per repetition
};

const Sizes& sizes() {
    static const Sizes full{{0, 1'000, 10'000, 100'000}, 1'000, 100'000, 1'000'000, 1'000'000, 20'000,
                            {1'000, 10'000, 100'000}, {1, 2, 8}, 1u << 16, 16, 1u << 17, 4};
    static const Sizes smoke{{0, 1'000}, 100, 1'000, 10'000, 10'000, 50,
                             {1'000}, {1, 2, 8}, 1u << 10, 1, 1u << 12, 1};
    return g_smoke ? smoke : full;
}

// churn: indices a design may hand out with n outstanding. Above n only by
// the lowest-free races of concurrent threads (a hand-out may take a fresh
// index while a release is still in flight); churn/… reports the highest
// index it saw (highest_index).
std::uint32_t churn_capacity(std::int64_t n) {
    return static_cast<std::uint32_t>(n + std::max<std::int64_t>(n / 8, 4096));
}

constexpr std::size_t kHandoutBatch = 1024;  // handout/: releases happen every this many, untimed
constexpr std::uint32_t kMaxThreads = 16;
static_assert(kMaxThreads <= OwnerTable::kMaxWorkers, "a churn worker's id fits the owner table's byte");
constexpr auto kPace = 50us;                 // derive_ahead: a request every 50 µs (or later: sleep slack)
constexpr auto kRefillEvery = 2ms;
constexpr std::uint32_t kRefillBatch = 20;

// ---- keys and the shared, pre-derived world ------------------------------------

constexpr const char* kMnemonic =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

DerivationPath account_path() { return DerivationPath({44 | hardened_bit, 1 | hardened_bit, 0 | hardened_bit}); }

DerivationPath base_path() { return pool_base_path(account_path(), PoolType::external); }

// The pools' key source, made the way a user makes it.
KeySource account_source() {
    auto keys = KeySource::from_mnemonic(kMnemonic, "", Network::testnet, account_path());
    if (!keys) std::abort();
    return *keys;
}

const KeySource& world_keys() {
    static const KeySource k = account_source();
    return k;
}

// The account xprv itself, for the derivation routes below that measure
// ExtendedPrivKey / ExtendedPubKey (a KeySource does not hand out its key).
ExtendedPrivKey account_key() {
    auto seed = mnemonic_to_seed(kMnemonic, "");
    auto root = ExtendedPrivKey::from_seed(*seed, Network::testnet);
    auto acct = root->derive(account_path());
    if (!acct) std::abort();
    return *acct;
}

AddressPool make_pool(PoolOptions options = {}) {
    return AddressPool(base_path(), PoolType::external, 20, Network::testnet, std::move(options));
}

// One pre-derived pool and the same addresses handed to every baseline. Built
// once (deriving ~100k addresses takes seconds) and reset between benchmarks.
struct World {
    KeySource keys = account_source();
    AddressPool pool = make_pool();
    std::vector<Address> addresses;
    std::unique_ptr<BridgeTable> a;
    std::unique_ptr<LockedScan> b;
    std::unique_ptr<MutexCursor> c;
    std::unique_ptr<WalletLocked> d;
    std::unique_ptr<PoolDesign> e;

    World() {
        const auto& s = sizes();
        const std::int64_t max_n = *std::max_element(s.outstanding.begin(), s.outstanding.end());
        // Room for the largest N, the bulk runs, a hand-out batch and the
        // pool's lookahead window beyond the last hand-out.
        const auto count = static_cast<std::uint32_t>(
            std::max<std::int64_t>({max_n, s.bulk, s.throughput_outstanding}) + kHandoutBatch + 2 * kMaxThreads + 64);
        auto derived = pool.generate_addresses(count, keys, false);
        if (!derived) {
            std::fprintf(stderr, "pre-derivation failed: %s\n", derived.error().message.c_str());
            std::abort();
        }
        addresses = std::move(*derived);
        a = std::make_unique<BridgeTable>(addresses);
        b = std::make_unique<LockedScan>(addresses);
        c = std::make_unique<MutexCursor>(addresses);
        d = std::make_unique<WalletLocked>(pool, keys);
        e = std::make_unique<PoolDesign>(pool, keys);
    }
};

World& world() {
    static World w;
    return w;
}

template <class D>
D& design();
template <> BridgeTable& design<BridgeTable>() { return *world().a; }
template <> LockedScan& design<LockedScan>() { return *world().b; }
template <> MutexCursor& design<MutexCursor>() { return *world().c; }
template <> WalletLocked& design<WalletLocked>() { return *world().d; }
template <> PoolDesign& design<PoolDesign>() { return *world().e; }

template <class D> constexpr const char* kName = "";
template <> constexpr const char* kName<BridgeTable> = "bridge_table";
template <> constexpr const char* kName<LockedScan> = "locked_scan";
template <> constexpr const char* kName<MutexCursor> = "mutex_cursor";
template <> constexpr const char* kName<WalletLocked> = "wallet_lock";
template <> constexpr const char* kName<PoolDesign> = "addrpool";

// n outstanding reservations at 0..n-1, returned for later release. The
// scanning baselines (a)/(b) would need O(n²) to get there through their
// own hand-out, so they are filled directly into the same state.
template <class D>
std::vector<Reservation> hold(D& d, std::uint32_t n) {
    std::vector<Reservation> held;
    held.reserve(n);
    if constexpr (std::is_same_v<D, BridgeTable> || std::is_same_v<D, LockedScan>) {
        d.prefill(n);
        for (std::uint32_t i = 0; i < n; ++i) held.push_back(Reservation{i, world().addresses[i], i});
    } else {
        for (std::uint32_t i = 0; i < n; ++i) {
            auto r = d.reserve();
            if (!r || r->index != i) std::abort();  // the pool must hand out 0..n-1 in order
            held.push_back(*r);
        }
    }
    return held;
}

// ---- latency / handout / throughput -------------------------------------------------

// reserve + release of the next index with N outstanding: a steady state
// that stays at exactly N, so every design is measured at the N it claims.
template <class D>
void BM_Latency(benchmark::State& st) {
    D& d = design<D>();
    d.reset();
    (void)hold(d, static_cast<std::uint32_t>(st.range(0)));
    for (auto _ : st) {
        auto r = d.reserve();
        if (!r) {
            st.SkipWithError(r.error().message.c_str());
            break;
        }
        benchmark::DoNotOptimize(r->address);
        d.release(*r);
    }
    st.SetItemsProcessed(st.iterations());
    d.reset();
}

// The hand-out alone. Releases would be part of a pair; here they run in
// batches of kHandoutBatch with the timer paused (cost of pausing / 1024 is
// well under 1 ns). Indices drift over 0..1023, which is O(1) work for the
// designs measured here (no scan from 0).
template <class D>
void BM_Handout(benchmark::State& st) {
    D& d = design<D>();
    d.reset();
    std::vector<Reservation> held(kHandoutBatch);
    std::size_t k = 0;
    for (auto _ : st) {
        auto r = d.reserve();
        if (!r) {
            st.SkipWithError(r.error().message.c_str());
            break;
        }
        held[k++] = *r;
        if (k == kHandoutBatch) {
            st.PauseTiming();
            for (auto& h : held) d.release(h);
            k = 0;
            st.ResumeTiming();
        }
    }
    st.SetItemsProcessed(st.iterations());
    d.reset();
}

// Every thread: reserve, then release its own reservation, with a
// background of throughput_outstanding reservations that nobody releases.
template <class D>
void BM_Throughput(benchmark::State& st) {
    D& d = design<D>();
    if (st.thread_index() == 0) {  // the others wait at the loop's start barrier
        d.reset();
        (void)hold(d, sizes().throughput_outstanding);
    }
    for (auto _ : st) {
        auto r = d.reserve();
        if (!r) {
            st.SkipWithError(r.error().message.c_str());
            break;
        }
        benchmark::DoNotOptimize(r->address);
        d.release(*r);
    }
    st.SetItemsProcessed(st.iterations());
}

// ---- cold pool ------------------------------------------------------------------------

// lookahead 1: every hand-out derives (its own index or the next one). A
// fresh pool per run; the previous one is destroyed at the next setup, when
// no thread of the previous run can touch it any more.
struct ColdState {
    std::unique_ptr<AddressPool> pool;
    std::unique_ptr<PoolDesign> e;
    std::unique_ptr<WalletLocked> d;
};
ColdState g_cold;

template <class D>
void BM_Cold(benchmark::State& st) {
    if (st.thread_index() == 0) {
        g_cold = {};
        PoolOptions o;
        o.lookahead = 1;
        g_cold.pool = std::make_unique<AddressPool>(make_pool(std::move(o)));
        g_cold.e = std::make_unique<PoolDesign>(*g_cold.pool, world().keys);
        g_cold.d = std::make_unique<WalletLocked>(*g_cold.pool, world().keys);
    }
    for (auto _ : st) {
        D* d = nullptr;
        if constexpr (std::is_same_v<D, PoolDesign>) d = g_cold.e.get();
        else d = g_cold.d.get();
        auto r = d->reserve();  // kept: the next hand-out needs a fresh index
        if (!r) {
            st.SkipWithError(r.error().message.c_str());
            break;
        }
        benchmark::DoNotOptimize(r->address);
    }
    st.SetItemsProcessed(st.iterations());
}

// ---- latency percentiles while a refill derives ahead -------------------------------

// One requester issues a hand-out about every kPace (sleeping in between, as
// a service waiting for requests does), timing each call with steady_clock
// into a preallocated vector, then releases it. Another thread calls
// generate_addresses(20) every 2 ms: directly for addrpool, under the wallet
// lock for (d). Per-call timing ignores the time a blocked requester would
// have queued further requests (coordinated omission), which flatters (d):
// its percentiles here are a lower bound, and so is the ratio.
template <class D>
void BM_DeriveAhead(benchmark::State& st) {
    AddressPool pool = make_pool();
    const KeySource& keys = world().keys;
    PoolDesign direct(pool, keys);
    WalletLocked locked(pool, keys);
    (void)pool.generate_addresses(2 * kRefillBatch, keys, true);  // the first batch, before timing

    std::vector<std::int64_t> lat(static_cast<std::size_t>(st.max_iterations));
    std::atomic<bool> stop{false};
    std::thread refiller([&] {
        auto next = Clock::now();
        // relaxed: a stop flag; the join below orders everything else
        while (!stop.load(std::memory_order_relaxed)) {
            next += kRefillEvery;
            std::this_thread::sleep_until(next);
            if constexpr (std::is_same_v<D, WalletLocked>) {
                (void)locked.locked([](AddressPool& p, const KeySource& k) {
                    return p.generate_addresses(kRefillBatch, k, true);
                });
            } else {
                (void)pool.generate_addresses(kRefillBatch, keys, true);
            }
        }
    });

    std::size_t k = 0;
    auto arrival = Clock::now();
    for (auto _ : st) {
        arrival += kPace;
        std::this_thread::sleep_until(arrival);
        const auto start = Clock::now();
        Result<Reservation> r = [&] {
            if constexpr (std::is_same_v<D, WalletLocked>) return locked.reserve();
            else return direct.reserve();
        }();
        const auto done = Clock::now();
        if (!r) {
            st.SkipWithError(r.error().message.c_str());
            break;
        }
        lat[k++] = std::chrono::duration_cast<std::chrono::nanoseconds>(done - start).count();
        if constexpr (std::is_same_v<D, WalletLocked>) locked.release(*r);
        else direct.release(*r);
    }
    stop.store(true, std::memory_order_relaxed);
    refiller.join();

    lat.resize(k);
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
        if (lat.empty()) return 0.0;
        const auto i = std::min(lat.size() - 1, static_cast<std::size_t>(p * static_cast<double>(lat.size())));
        return static_cast<double>(lat[i]);
    };
    st.counters["p50_ns"] = pct(0.50);
    st.counters["p99_ns"] = pct(0.99);
    st.counters["p999_ns"] = pct(0.999);
    st.counters["max_ns"] = lat.empty() ? 0.0 : static_cast<double>(lat.back());
    st.counters["requests"] = static_cast<double>(k);
}

// ---- bulk operations over N reservations --------------------------------------------

enum class Bulk { mark_used, release, sweep };

template <class D, Bulk op>
void BM_Bulk(benchmark::State& st) {
    D& d = design<D>();
    const auto n = static_cast<std::uint32_t>(st.range(0));
    for (auto _ : st) {
        st.PauseTiming();
        d.reset();
        const auto held = hold(d, n);
        std::this_thread::sleep_for(1ms);  // every stamp strictly in the past, for sweep(0)
        st.ResumeTiming();
        std::size_t changed = 0;
        if constexpr (op == Bulk::mark_used) {
            for (const auto& r : held) changed += d.mark_used(r.index);
        } else if constexpr (op == Bulk::release) {
            for (const auto& r : held) changed += d.release(r);
        } else {
            changed = d.sweep(0ns);
        }
        if (changed != n) {
            st.SkipWithError("a bulk operation did not change every reservation");
            break;
        }
    }
    st.SetItemsProcessed(st.iterations() * n);
    d.reset();
}

// addrpool's sync side marks by address (hash160 → index lookup, sharded mutex).
void BM_BulkMarkUsedByAddress(benchmark::State& st) {
    PoolDesign& d = design<PoolDesign>();
    const auto n = static_cast<std::uint32_t>(st.range(0));
    for (auto _ : st) {
        st.PauseTiming();
        d.reset();
        const auto held = hold(d, n);
        st.ResumeTiming();
        std::size_t changed = 0;
        for (const auto& r : held) changed += d.pool().mark_used(r.address);
        if (changed != n) {
            st.SkipWithError("mark_used(address) did not change every reservation");
            break;
        }
    }
    st.SetItemsProcessed(st.iterations() * n);
    d.reset();
}

// generate_addresses(0): everything a refill call costs besides deriving.
// It finds "the highest generated index" by scanning the touched slots down
// from the top (SlotArray::highest); the shared pre-derived pool has none
// generated, so this scans every touched slot and grows with the pool.
// Reported so the lead can see that fixed cost.
void BM_RefillOverhead(benchmark::State& st) {
    World& w = world();
    for (auto _ : st) {
        auto r = w.pool.generate_addresses(0, w.keys, false);
        benchmark::DoNotOptimize(r);
    }
    st.counters["touched_indices"] = static_cast<double>(w.addresses.size());
}

// ---- derivation routes ------------------------------------------------------------------

// The external chain's key m/…/0, parsed once: addrpool's route starts here.
detail::ChainKey cached_chain_key() {
    const ExtendedPubKey acct = account_key().to_public();
    auto account = detail::make_chain_key(acct.public_key(), acct.chain_code());
    return *detail::ckd_pub(*account, 0);
}

// addrpool's route for index i: one CKDpub + hash160, Base58Check.
void derive_cached(const detail::ChainKey& chain, std::uint32_t i) {
    auto h = detail::ckd_pub_hash160(chain, i);
    std::string s = Address(Network::testnet, AddressKind::p2pkh, *h).to_string();
    benchmark::DoNotOptimize(s.data());
}

// The key-wallet's route for index i: [0, i] privately from the account
// xprv, then the public key, Base58Check.
void derive_private_path(const ExtendedPrivKey& acct, std::uint32_t i) {
    auto child = acct.derive(DerivationPath({0, i}));
    const PubKeyBytes pub = child->public_key();
    std::string s = Address::from_pubkey(Network::testnet, pub).to_string();
    benchmark::DoNotOptimize(s.data());
}

// addrpool: chain key parsed once, one CKDpub + hash160 per address, Base58Check.
void BM_DeriveCached(benchmark::State& st) {
    const detail::ChainKey chain = cached_chain_key();
    std::uint32_t i = 0;
    for (auto _ : st) derive_cached(chain, i++);
    st.SetItemsProcessed(st.iterations());
}

// The Rust key-wallet: [0, i] privately from the account xprv, then the public key.
void BM_DerivePrivatePath(benchmark::State& st) {
    const ExtendedPrivKey acct = account_key();
    std::uint32_t i = 0;
    for (auto _ : st) derive_private_path(acct, i++);
    st.SetItemsProcessed(st.iterations());
}

// The two routes paired: each iteration times 4 addresses by addrpool's
// route and 1 by the key-wallet's (about 200 µs each) back to back, in an
// order that alternates, on the thread's CPU clock. A change in the machine's
// load lasting longer than a pair hits both routes alike, which the separate
// derive/ benchmarks (repetitions of 0.3 s, interleaved) cannot promise.
// Counters: CPU ns per address of each route and their ratio over the run.
void BM_DerivePaired(benchmark::State& st) {
    constexpr int kCached = 4;
    const detail::ChainKey chain = cached_chain_key();
    const ExtendedPrivKey acct = account_key();
    std::uint32_t i = 0;
    std::int64_t cached_ns = 0, private_ns = 0;
    auto time_cached = [&] {
        const std::int64_t t0 = thread_cpu_ns();
        for (int k = 0; k < kCached; ++k) derive_cached(chain, i++);
        cached_ns += thread_cpu_ns() - t0;
    };
    auto time_private = [&] {
        const std::int64_t t0 = thread_cpu_ns();
        derive_private_path(acct, i++);
        private_ns += thread_cpu_ns() - t0;
    };
    bool cached_first = true;
    for (auto _ : st) {
        if (cached_first) {
            time_cached();
            time_private();
        } else {
            time_private();
            time_cached();
        }
        cached_first = !cached_first;
    }
    const auto pairs = static_cast<double>(st.iterations());
    if (pairs == 0) return;
    const double c = static_cast<double>(cached_ns) / (pairs * kCached);
    const double p = static_cast<double>(private_ns) / pairs;
    st.counters["addrpool_ns"] = c;
    st.counters["keywallet_ns"] = p;
    st.counters["ratio"] = p / c;
}

// [0, i] publicly from the account xpub on every call (no cached chain key).
void BM_DerivePublicPath(benchmark::State& st) {
    const ExtendedPubKey acct = account_key().to_public();
    std::uint32_t i = 0;
    for (auto _ : st) {
        auto child = acct.derive(DerivationPath({0, i++}));
        std::string s = Address::from_pubkey(Network::testnet, child->public_key()).to_string();
        benchmark::DoNotOptimize(s.data());
    }
    st.SetItemsProcessed(st.iterations());
}

// The floor: the EC work no route can avoid — a fixed tweak times G, one
// point addition (lib/keys/derive.cpp, point_add_tweak: the cheapest way
// libsecp256k1 offers), serialize, hash160, Base58Check. No HMAC, no parsing.
void BM_DeriveFloor(benchmark::State& st) {
    const ExtendedPubKey acct = account_key().to_public();
    const auto* ctx = detail::secp_context();
    secp256k1_pubkey base;
    if (!secp256k1_ec_pubkey_parse(ctx, &base, acct.public_key().data(), acct.public_key().size())) std::abort();
    const detail::Bytes32 tweak = detail::sha256(std::span<const std::uint8_t>(acct.chain_code()));
    for (auto _ : st) {
        secp256k1_pubkey p;
        if (!detail::point_add_tweak(base, tweak.data(), p)) std::abort();
        PubKeyBytes key{};
        std::size_t len = key.size();
        secp256k1_ec_pubkey_serialize(ctx, key.data(), &len, &p, SECP256K1_EC_COMPRESSED);
        std::string s = Address(Network::testnet, AddressKind::p2pkh, hash160(key)).to_string();
        benchmark::DoNotOptimize(s.data());
    }
    st.SetItemsProcessed(st.iterations());
}

// ---- memory --------------------------------------------------------------------------------

// Resident bytes of the process's anonymous mappings other than the brk
// heap (/proc/self/smaps): the pool's large blocks (lib/pool/slot_array.cpp
// maps blocks of 64 KiB and more, committed only where touched), malloc's
// own large chunks and thread arenas.
std::size_t anonymous_resident_bytes() {
    std::FILE* f = std::fopen("/proc/self/smaps", "r");
    if (f == nullptr) return 0;
    std::size_t total = 0;
    bool anonymous = false;
    char line[512];
    while (std::fgets(line, sizeof line, f) != nullptr) {
        unsigned long long kb = 0;
        if (std::sscanf(line, "Rss: %llu kB", &kb) == 1) {
            if (anonymous) total += kb * 1024;
            continue;
        }
        // A mapping's header: "start-end perms offset dev inode [path]".
        char range[64], perms[8], offset[32], dev[16];
        unsigned long long inode = 0;
        int used = 0;
        if (std::sscanf(line, "%63s %7s %31s %15s %llu %n", range, perms, offset, dev, &inode, &used) == 5 &&
            std::strchr(range, '-') != nullptr) {
            anonymous = inode == 0 && line[used] == '\0';  // no path ("%n" after the space skipped the newline)
        }
    }
    std::fclose(f);
    return total;
}

// Memory in use: the bytes malloc handed out from its brk heap (glibc
// mallinfo2) plus the resident pages of anonymous mappings (see above:
// malloc's large chunks are counted there, once). Deltas of it measure what
// a structure costs whether it lives on the heap or in its own mappings.
std::size_t memory_bytes() {
    const struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + anonymous_resident_bytes();
}

// Synthetic, distinct addresses: memory and persistence need many entries,
// not real keys (neither re-derives anything).
Hash160 synthetic_hash(std::uint32_t i) {
    std::uint64_t x = i * 0x9E3779B97F4A7C15ull;
    Hash160 h{};
    for (std::size_t k = 0; k < 16; ++k) {
        x ^= x >> 29;
        x *= 0xBF58476D1CE4E5B9ull;
        h[k] = static_cast<std::uint8_t>(x >> 56);
    }
    detail::put_be32(h.data() + 16, i);  // distinct by construction
    return h;
}

std::vector<Address> synthetic_addresses(std::uint32_t n) {
    std::vector<Address> out;
    out.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) out.emplace_back(Network::testnet, AddressKind::p2pkh, synthetic_hash(i));
    return out;
}

void report_memory(benchmark::State& st, double total_bytes, std::uint32_t n) {
    st.counters["bytes_per_index"] = total_bytes / n;
    st.counters["indices"] = n;
}

// State words of addrpool: the slot's word and publication flag (the rest of
// a slot is the address hash). Memory measured for a slot array of n
// indices with every slot's word and flags written (as deriving and
// reserving each would): its large blocks are mappings that cost memory
// only where touched.
void BM_MemoryPool(benchmark::State& st) {
    const std::uint32_t n = sizes().memory_indices;
    for (auto _ : st) {
        const std::size_t before = memory_bytes();
        auto arr = std::make_unique<detail::SlotArray>();
        for (std::uint32_t i = 0; i < n; ++i) {
            const detail::Slot slot = arr->ensure(i);
            slot.meta().store(detail::Slot::kDerived, boost::memory_order_relaxed);  // relaxed: one thread
            slot.word.store(1, boost::memory_order_relaxed);                        // relaxed: one thread
        }
        report_memory(st, static_cast<double>(memory_bytes() - before), n);
    }
    st.counters["state_bytes_per_index"] =
        static_cast<double>(sizeof(detail::AtomicWord) + sizeof(detail::SlotInfo::meta));
    st.counters["slot_bytes_per_index"] = static_cast<double>(detail::Slot::kBytes);
    st.counters["address_value_bytes"] = static_cast<double>(sizeof(Address));
}

// Baselines: memory for n generated addresses, all reserved (their worst case).
template <class D>
void BM_MemoryBaseline(benchmark::State& st) {
    const std::uint32_t n = sizes().memory_indices;
    const auto addrs = synthetic_addresses(n);
    for (auto _ : st) {
        const std::size_t before = memory_bytes();
        auto d = [&] {
            if constexpr (std::is_same_v<D, BridgeTable>) return std::make_unique<D>(addrs, 1);  // one account
            else return std::make_unique<D>(addrs);
        }();
        d->prefill(n);
        double bytes = static_cast<double>(memory_bytes() - before);
        if constexpr (std::is_same_v<D, MutexCursor>) bytes += static_cast<double>(n * sizeof(Address));  // its span's storage
        report_memory(st, bytes, n);
    }
}

// ---- persistence at scale ----------------------------------------------------------------------

// A version-1 pool file with n synthetic entries, most of them used, written
// through the codec (lib/persist/codec.hpp) because deriving 1M real keys
// would take minutes. Used: indices < 90% of n except every 7th.
std::string synthetic_pool_file(std::uint32_t n) {
    detail::codec::PoolFile f;
    f.network = Network::testnet;
    f.type = PoolType::external;
    f.format = AddressFormat::base58check;
    f.gap_limit = 20;
    f.base_path = base_path().components();
    f.entries.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) f.entries.push_back({i, synthetic_hash(i), i < n / 10 * 9 && i % 7 != 0});
    return detail::codec::encode(f);
}

const std::string& persist_file() {
    static const std::string f = synthetic_pool_file(sizes().persist_entries);
    return f;
}

void BM_PersistLoad(benchmark::State& st) {
    const std::string& file = persist_file();
    const std::uint32_t n = sizes().persist_entries;
    double bytes_per_address = 0;
    for (auto _ : st) {
        const std::size_t before = memory_bytes();
        auto pool = AddressPool::deserialize(file);
        if (!pool) {
            st.SkipWithError(("not measured yet: deserialize failed: " + pool.error().message).c_str());
            break;
        }
        bytes_per_address = static_cast<double>(memory_bytes() - before) / n;
        st.PauseTiming();
        pool = Result<AddressPool>(Error{Errc::invalid_argument, ""});  // destroy outside the timer
        st.ResumeTiming();
    }
    st.counters["file_bytes_per_address"] = static_cast<double>(file.size()) / n;
    st.counters["bytes_per_materialized_address"] = bytes_per_address;
    st.counters["entries"] = n;
}

void BM_PersistSave(benchmark::State& st) {
    auto pool = AddressPool::deserialize(persist_file());
    const std::uint32_t n = sizes().persist_entries;
    if (!pool) {
        st.SkipWithError(("not measured yet: deserialize failed: " + pool.error().message).c_str());
        return;
    }
    std::size_t bytes = 0;
    for (auto _ : st) {
        const std::string s = pool->serialize();
        bytes = s.size();
        benchmark::DoNotOptimize(s.data());
    }
    if (bytes == 0) {
        st.SkipWithError("not measured yet: serialize returned nothing");
        return;
    }
    st.counters["file_bytes_per_address"] = static_cast<double>(bytes) / n;
    st.counters["entries"] = n;
}

// ---- churn and streaming (issue 11) ---------------------------------------------------------------
//
// Both families run their threads in a Crew (crew.hpp): each Google
// Benchmark iteration is one run, timed from the crew's wake-up to its last
// thread's finish (UseManualTime). Every design gets a fresh instance per
// repetition (churn) or per run (streaming), over the same real addresses.

// The real addresses 0..table_size()-1 of the external chain, derived once
// (a throwaway pool) and shared by every fresh pool and baseline below.
std::uint32_t table_size() { return std::max(sizes().stream_handouts, churn_capacity(sizes().churn_n.back())) + 64; }

const std::vector<Address>& table() {
    static const std::vector<Address> t = [] {
        AddressPool tmp = make_pool();
        auto a = tmp.generate_addresses(table_size(), world_keys(), false);
        if (!a) {
            std::fprintf(stderr, "pre-derivation failed: %s\n", a.error().message.c_str());
            std::abort();
        }
        return std::move(*a);
    }();
    return t;
}

// A fresh pool in which [0, m) is derived (fresh_pool.hpp); one file per m.
std::unique_ptr<AddressPool> fresh_pool(std::uint32_t m) {
    static std::map<std::uint32_t, std::string> files;
    std::string& f = files[m];
    if (f.empty()) f = fresh_pool_file(table(), m, base_path());
    return load_fresh_pool(f, world_keys());
}

// One fresh design over m indices. addrpool hands out with KeySource::none():
// an index that was not derived ahead fails the hand-out (the run reports
// it) instead of putting EC math into the timed region.
template <class D>
struct Fresh {
    std::unique_ptr<AddressPool> pool;  // addrpool only
    std::unique_ptr<D> d;
    explicit Fresh(std::uint32_t m) {
        if constexpr (std::is_same_v<D, PoolDesign>) {
            pool = fresh_pool(m);
            d = std::make_unique<PoolDesign>(*pool, KeySource::none());
        } else {
            d = std::make_unique<D>(std::span<const Address>(table()).first(m));
        }
    }
};

using MutexHeapSteady = MutexHeap<SteadyStamp>;
using MutexHeapCoarse = MutexHeap<CoarseStamp>;
using MutexCursorCoarse = BasicMutexCursor<CoarseStamp>;
template <> constexpr const char* kName<MutexHeapSteady> = "mutex_heap";
template <> constexpr const char* kName<MutexHeapCoarse> = "mutex_heap_coarse";
template <> constexpr const char* kName<MutexCursorCoarse> = "mutex_cursor_coarse";
template <> constexpr const char* kName<Floor> = "floor";

bool g_violation = false;  // a churn or streaming run broke ownership: main exits 1

template <class D>
std::string violation_text(const char* what, unsigned t, std::uint32_t index, const Result<Reservation>* r = nullptr) {
    std::string s = std::string(kName<D>) + ": thread " + std::to_string(t) + ", index " + std::to_string(index) +
                    ": " + what;
    if (r != nullptr && !*r) s += ": " + r->error().message;
    return s;
}

// What a churn thread keeps of each reservation it holds: what a release
// by ticket needs. (Keeping the whole Reservation, address included, would
// add a cache miss per step at N = 100,000 to every design alike.)
struct Held {
    std::uint32_t index;
    std::uint64_t ticket;
};

// One thread's part of a churn run: `steps` times, release a random
// reservation it holds (by its ticket) and take a new one.
template <class D>
void churn_steps(D& d, OwnerTable& owners, Violations& v, std::vector<Held>& held, Rng& rng, unsigned t,
                 std::uint32_t steps, std::uint32_t& max_index) {
    const auto n = static_cast<std::uint32_t>(held.size());
    for (std::uint32_t s = 0; s < steps; ++s) {
        Held& h = held[rng.below(n)];
        if (!owners.give_up(h.index, t)) return v.report(violation_text<D>("a reservation of this thread was lost", t, h.index));
        if (!d.release(Reservation{h.index, Address{}, h.ticket})) {
            return v.report(violation_text<D>("release by ticket of a live reservation failed", t, h.index));
        }
        auto r = d.reserve();
        if (!r) return v.report(violation_text<D>("hand-out failed", t, h.index, &r));
        benchmark::DoNotOptimize(r->address);
        if (owners.take(r->index, t) != 0) {
            return v.report(violation_text<D>("handed out while another thread holds it (or beyond the pre-derived range)",
                                              t, r->index));
        }
        max_index = std::max(max_index, r->index);
        h = Held{r->index, r->ticket};
    }
}

// N reservations outstanding (taken first: indices 0..N-1, dealt to the W
// threads at random), then each GB iteration is one run in which each thread
// does churn_steps_per_run / W steps. Ownership is checked throughout and
// every reservation is accounted for at the end.
template <class D>
void BM_Churn(benchmark::State& st) {
    const auto n = static_cast<std::uint32_t>(st.range(0));
    const auto w = static_cast<unsigned>(st.range(1));
    const std::uint32_t m = churn_capacity(n);
    Fresh<D> f(m);
    D& d = *f.d;
    OwnerTable owners(m);
    Violations v;
    std::vector<Reservation> all = hold(d, n);
    Rng deal(0x5eed0000 + n * 16 + w);
    for (std::uint32_t i = n; i > 1; --i) std::swap(all[i - 1], all[deal.below(i)]);  // Fisher-Yates
    std::vector<std::vector<Held>> held(w);
    for (std::uint32_t i = 0; i < n; ++i) {
        (void)owners.take(all[i].index, i % w);
        held[i % w].push_back(Held{all[i].index, all[i].ticket});
    }
    std::vector<Rng> rng;
    for (unsigned t = 0; t < w; ++t) rng.emplace_back(0xc0ffee00 + t);
    std::vector<std::uint32_t> max_index(w, n - 1);
    const std::uint32_t steps = sizes().churn_steps_per_run / w;
    Crew crew(w);
    const std::function<void(unsigned)> job = [&](unsigned t) {
        churn_steps(d, owners, v, held[t], rng[t], t, steps, max_index[t]);
    };
    Crew::Times total;
    std::int64_t runs = 0;
    for (auto _ : st) {
        const Crew::Times one = crew.run(job);
        st.SetIterationTime(static_cast<double>(one.wall_ns) * 1e-9);
        total.wall_ns += one.wall_ns;
        total.cpu_ns += one.cpu_ns;
        ++runs;
        if (v.failed()) break;
    }
    // Quiescent: the reservations held are exactly N distinct ones, each releasable once.
    std::uint32_t released = 0;
    for (unsigned t = 0; t < w && !v.failed(); ++t) {
        for (const Held& h : held[t]) {
            if (!owners.give_up(h.index, t) || !d.release(Reservation{h.index, Address{}, h.ticket})) {
                v.report(violation_text<D>("after the runs: a reservation held is not live", t, h.index));
                break;
            }
            ++released;
        }
    }
    if (v.failed()) {
        g_violation = true;
        st.SkipWithError(("OWNERSHIP VIOLATION: " + v.text()).c_str());
        return;
    }
    const std::uint32_t highest = *std::max_element(max_index.begin(), max_index.end());
    if (highest + 64 >= m) {  // a pool's refill trigger (lookahead 20) could have fired: not the churn measured
        st.SkipWithError(("index " + std::to_string(highest) + " came within 64 of the pre-derived range " +
                          std::to_string(m) + ": raise churn_capacity()").c_str());
        return;
    }
    const double per_thread = static_cast<double>(runs) * steps;
    const double all_steps = per_thread * w;
    st.SetItemsProcessed(static_cast<std::int64_t>(all_steps));
    st.counters["ns_per_step"] = static_cast<double>(total.wall_ns) / all_steps;
    st.counters["ns_per_step_per_thread"] = static_cast<double>(total.wall_ns) / per_thread;
    st.counters["cpu_ns_per_step"] = static_cast<double>(total.cpu_ns) / all_steps;
    st.counters["highest_index"] = highest;
    st.counters["released_at_end"] = released;
    st.counters["steps_per_run"] = steps * w;
}

// Back-to-back hand-outs of fresh, pre-derived indices, no releases: each GB
// iteration builds a fresh design (untimed), then the W threads take
// stream_handouts / W each. The indices taken must be exactly 0..B-1.
template <class D>
void BM_Stream(benchmark::State& st) {
    const auto w = static_cast<unsigned>(st.range(0));
    const std::uint32_t per_thread = sizes().stream_handouts / w;
    const std::uint32_t b = per_thread * w;
    Crew crew(w);
    Violations v;
    std::vector<std::vector<std::uint32_t>> got(w, std::vector<std::uint32_t>(per_thread));
    std::unique_ptr<Fresh<D>> f;
    const std::function<void(unsigned)> job = [&](unsigned t) {
        D& d = *f->d;
        std::uint32_t* out = got[t].data();
        for (std::uint32_t k = 0; k < per_thread; ++k) {
            auto r = d.reserve();
            if (!r) return v.report(violation_text<D>("hand-out failed", t, k, &r));
            benchmark::DoNotOptimize(r->address);
            out[k] = r->index;
        }
    };
    Crew::Times total;
    std::int64_t runs = 0;
    std::vector<std::uint8_t> seen(b);
    for (auto _ : st) {
        f.reset();
        f = std::make_unique<Fresh<D>>(b + 64);
        const Crew::Times one = crew.run(job);
        st.SetIterationTime(static_cast<double>(one.wall_ns) * 1e-9);
        total.wall_ns += one.wall_ns;
        total.cpu_ns += one.cpu_ns;
        ++runs;
        // No index twice, none skipped: exactly 0..B-1 (untimed).
        std::fill(seen.begin(), seen.end(), 0);
        for (unsigned t = 0; t < w && !v.failed(); ++t) {
            for (std::uint32_t i : got[t]) {
                if (i >= b || seen[i]++ != 0) {
                    v.report(violation_text<D>(i >= b ? "beyond the B indices (a hole below)" : "handed out twice", t, i));
                    break;
                }
            }
        }
        if (v.failed()) break;
    }
    if (v.failed()) {
        g_violation = true;
        st.SkipWithError(("OWNERSHIP VIOLATION: " + v.text()).c_str());
        return;
    }
    const double all = static_cast<double>(runs) * b;
    st.SetItemsProcessed(static_cast<std::int64_t>(all));
    st.counters["ns_per_handout"] = static_cast<double>(total.wall_ns) / all;
    st.counters["ns_per_handout_per_thread"] = static_cast<double>(total.wall_ns) / (static_cast<double>(runs) * per_thread);
    st.counters["cpu_ns_per_handout"] = static_cast<double>(total.cpu_ns) / all;
    st.counters["handouts_per_run"] = b;
}

template <class D>
void register_churn(std::int64_t n, std::int64_t threads) {
    benchmark::RegisterBenchmark((std::string("churn/") + kName<D>).c_str(), BM_Churn<D>)
        ->ArgNames({"n", "threads"})
        ->Args({n, threads})
        ->UseManualTime()
        ->Iterations(sizes().churn_runs);
}

template <class D>
void register_stream(std::int64_t threads) {
    benchmark::RegisterBenchmark((std::string("stream/") + kName<D>).c_str(), BM_Stream<D>)
        ->ArgNames({"threads"})
        ->Arg(threads)
        ->UseManualTime()
        ->Iterations(sizes().stream_runs);
}

// ---- registration --------------------------------------------------------------------------------

template <class D>
void register_design() {
    const std::string name = kName<D>;
    auto* lat = benchmark::RegisterBenchmark(("latency/" + name).c_str(), BM_Latency<D>);
    for (auto n : sizes().outstanding) lat->Arg(n);
    for (std::uint32_t t = 1; t <= kMaxThreads; t *= 2) {
        benchmark::RegisterBenchmark(("throughput/" + name).c_str(), BM_Throughput<D>)->Threads(static_cast<int>(t))->UseRealTime();
    }
    const auto bulk = static_cast<std::int64_t>(sizes().bulk);
    benchmark::RegisterBenchmark(("bulk_mark_used/" + name).c_str(), BM_Bulk<D, Bulk::mark_used>)->Arg(bulk);
    benchmark::RegisterBenchmark(("bulk_release/" + name).c_str(), BM_Bulk<D, Bulk::release>)->Arg(bulk);
    benchmark::RegisterBenchmark(("bulk_sweep/" + name).c_str(), BM_Bulk<D, Bulk::sweep>)->Arg(bulk);
}

void register_all() {
    register_design<PoolDesign>();
    register_design<BridgeTable>();
    register_design<LockedScan>();
    register_design<MutexCursor>();
    register_design<WalletLocked>();

    benchmark::RegisterBenchmark("handout/addrpool", BM_Handout<PoolDesign>);
    benchmark::RegisterBenchmark("handout/mutex_cursor", BM_Handout<MutexCursor>);
    benchmark::RegisterBenchmark("handout/wallet_lock", BM_Handout<WalletLocked>);

    for (int t : {1, 2}) {
        benchmark::RegisterBenchmark("cold/addrpool", BM_Cold<PoolDesign>)->Threads(t)->UseRealTime();
        benchmark::RegisterBenchmark("cold/wallet_lock", BM_Cold<WalletLocked>)->Threads(t)->UseRealTime();
    }

    const std::int64_t paced = sizes().paced_requests;
    benchmark::RegisterBenchmark("derive_ahead/addrpool", BM_DeriveAhead<PoolDesign>)->Iterations(paced)->UseRealTime();
    benchmark::RegisterBenchmark("derive_ahead/wallet_lock", BM_DeriveAhead<WalletLocked>)->Iterations(paced)->UseRealTime();

    benchmark::RegisterBenchmark("bulk_mark_used_by_address/addrpool", BM_BulkMarkUsedByAddress)
        ->Arg(static_cast<std::int64_t>(sizes().bulk));

    benchmark::RegisterBenchmark("refill_overhead/addrpool", BM_RefillOverhead);

    benchmark::RegisterBenchmark("derive/addrpool_cached", BM_DeriveCached);
    benchmark::RegisterBenchmark("derive/keywallet_xprv_path", BM_DerivePrivatePath);
    benchmark::RegisterBenchmark("derive/xpub_path", BM_DerivePublicPath);
    benchmark::RegisterBenchmark("derive/floor", BM_DeriveFloor);
    benchmark::RegisterBenchmark("derive/paired", BM_DerivePaired);

    benchmark::RegisterBenchmark("memory/addrpool", BM_MemoryPool)->Iterations(1);
    benchmark::RegisterBenchmark("memory/bridge_table", BM_MemoryBaseline<BridgeTable>)->Iterations(1);
    benchmark::RegisterBenchmark("memory/locked_scan", BM_MemoryBaseline<LockedScan>)->Iterations(1);
    benchmark::RegisterBenchmark("memory/mutex_cursor", BM_MemoryBaseline<MutexCursor>)->Iterations(1);

    benchmark::RegisterBenchmark("persist/load", BM_PersistLoad)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("persist/save", BM_PersistSave)->Unit(benchmark::kMillisecond);

    // Designs interleaved per configuration: a change in the machine's load
    // shifts the numbers of one configuration alike.
    for (auto n : sizes().churn_n) {
        for (auto t : sizes().churn_threads) {
            register_churn<PoolDesign>(n, t);
            register_churn<MutexHeapSteady>(n, t);
            register_churn<MutexHeapCoarse>(n, t);
            if (t == 1) register_churn<Floor>(n, t);  // one thread only: (g) has no lock
        }
    }
    for (auto t : sizes().churn_threads) {
        register_stream<PoolDesign>(t);
        register_stream<MutexCursor>(t);
        register_stream<MutexCursorCoarse>(t);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--smoke") == 0) g_smoke = true;
        else args.push_back(argv[i]);
    }
    int n = static_cast<int>(args.size());
    register_all();
    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
    benchmark::AddCustomContext("addrpool.smoke", g_smoke ? "true" : "false");
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (g_violation) std::fprintf(stderr, "addrpool-bench: OWNERSHIP VIOLATION in a churn or streaming run (see above)\n");
    return g_violation ? 1 : 0;
}
