// callgrind-probe: instruction counts that a noisy machine cannot disturb.
// bench/run.sh runs it as
//   valgrind --tool=callgrind --instr-atstart=no callgrind-probe MODE COUNT
// and divides the total by COUNT. Instrumentation is on only around the
// measured calls (CALLGRIND_START/STOP_INSTRUMENTATION), after a warm-up, so
// setup, lazy binding and first-use initialisation are not counted.
//
// MODE: handout            addrpool reserve() streaming over fresh indices
//                          derived ahead (the frontier path; no release, no
//                          refill, no derivation: KeySource::none(), so a
//                          hand-out that needed one would abort the probe)
//       handout_mutex_cursor[_coarse]  baseline (c) reserve() (bench/baselines.hpp),
//                          steady_clock or the pool's coarse clock
//       derive             addrpool's route: ckd_pub_hash160 + Base58Check
//       derive_xprv_path   the Rust key-wallet's route: [0, i] from the xprv
//
// Churn steps: `callgrind-probe MODE COUNT N FILE`, FILE written beforehand
// (natively, derivation is slow under valgrind) by `callgrind-probe export
// M FILE` (bench/fresh_pool.hpp: the real addresses of [1, M)):
//       churn_step         N reservations outstanding, then COUNT times:
//                          release a random one by its ticket and reserve
//                          (addrpool, hand-outs with KeySource::none())
//       churn_step_mutex_heap[_coarse]  the same steps on baseline (f)
//
// Also, without callgrind: `callgrind-probe cold THREADS COUNT` hands out
// COUNT addresses from a lookahead-1 pool on THREADS threads; run.sh runs it
// under bench/derivation_counter.c (LD_PRELOAD) to count derivations per hand-out.
#include <addrpool/addrpool.hpp>

#include "baselines.hpp"
#include "crew.hpp"
#include "fresh_pool.hpp"
#include "keys/derive.hpp"

#if defined(ADDRPOOL_HAVE_CALLGRIND)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace addrpool;

namespace {

constexpr const char* kMnemonic =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

DerivationPath account_path() { return DerivationPath({44 | hardened_bit, 1 | hardened_bit, 0 | hardened_bit}); }

// The pools' key source, made the way a user makes it.
KeySource account_source() {
    auto keys = KeySource::from_mnemonic(kMnemonic, "", Network::testnet, account_path());
    if (!keys) std::abort();
    return *keys;
}

// The account xprv itself, for the derive_xprv_path route (a KeySource does
// not hand out its key).
ExtendedPrivKey account_key() {
    auto seed = mnemonic_to_seed(kMnemonic, "");
    auto root = ExtendedPrivKey::from_seed(*seed, Network::testnet);
    auto acct = root->derive(account_path());
    if (!acct) std::abort();
    return *acct;
}

volatile std::uint8_t g_sink;  // keeps results alive without I/O inside the measured region

}  // namespace

static int cold(int threads, std::uint32_t count, const KeySource& keys) {
    PoolOptions o;
    o.lookahead = 1;
    AddressPool pool(pool_base_path(account_path(), PoolType::external), PoolType::external, 20, Network::testnet,
                     std::move(o));
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            const std::uint32_t mine = count / static_cast<std::uint32_t>(threads) +
                                       (static_cast<std::uint32_t>(t) < count % static_cast<std::uint32_t>(threads));
            for (std::uint32_t i = 0; i < mine; ++i) {
                if (!pool.reserve(keys, true)) std::abort();
            }
        });
    }
    for (auto& t : ts) t.join();
    std::printf("handouts=%u\n", count);
    return 0;
}

// `export M FILE`: the fresh-pool file of [1, M) (bench/fresh_pool.hpp).
static int export_file(std::uint32_t m, const char* path) {
    AddressPool pool(pool_base_path(account_path(), PoolType::external), PoolType::external, 20, Network::testnet);
    auto addrs = pool.generate_addresses(m, account_source(), false);
    if (!addrs) return 2;
    std::ofstream out(path, std::ios::binary);
    out << bench::fresh_pool_file(*addrs, m, pool_base_path(account_path(), PoolType::external));
    return out ? 0 : 2;
}

// One churn step on design d: release a random held reservation by its
// ticket, take a new one in its place.
template <class D>
void churn_step(D& d, std::vector<Reservation>& held, bench::Rng& rng) {
    Reservation& h = held[rng.below(static_cast<std::uint32_t>(held.size()))];
    if (!d.release(h)) std::abort();
    auto r = d.reserve();
    if (!r) std::abort();
    g_sink = r->address.hash160()[0];
    h = std::move(*r);
}

template <class D>
int churn_on(D& d, std::uint32_t count, std::uint32_t n) {
    std::vector<Reservation> held;
    for (std::uint32_t i = 0; i < n; ++i) {
        auto r = d.reserve();
        if (!r || r->index != i) std::abort();
        held.push_back(std::move(*r));
    }
    bench::Rng rng(0xc0ffee00);
    for (std::uint32_t i = 0; i < 2000; ++i) churn_step(d, held, rng);  // warm-up: steady state
    CALLGRIND_START_INSTRUMENTATION;
    for (std::uint32_t i = 0; i < count; ++i) churn_step(d, held, rng);
    CALLGRIND_STOP_INSTRUMENTATION;
    return 0;
}

static int churn(std::string_view mode, std::uint32_t count, std::uint32_t n, const char* path) {
    std::ifstream in(path, std::ios::binary);
    const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto pool = bench::load_fresh_pool(file, account_source());
    if (mode == "churn_step") {
        bench::PoolDesign d(*pool, KeySource::none());
        return churn_on(d, count, n);
    }
    const std::vector<Address> addrs = pool->all_addresses();
    if (mode == "churn_step_mutex_heap") {
        bench::MutexHeap<bench::SteadyStamp> d(addrs);
        return churn_on(d, count, n);
    }
    if (mode == "churn_step_mutex_heap_coarse") {
        bench::MutexHeap<bench::CoarseStamp> d(addrs);
        return churn_on(d, count, n);
    }
    std::fprintf(stderr, "unknown mode %.*s\n", static_cast<int>(mode.size()), mode.data());
    return 2;
}

int main(int argc, char** argv) {
    const std::string_view first = argc > 1 ? argv[1] : "";
    if (argc == 4 && first == "cold") {
        const KeySource keys = account_source();
        return cold(std::atoi(argv[2]), static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10)), keys);
    }
    if (argc == 4 && first == "export") return export_file(static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10)), argv[3]);
    if (argc == 5 && first.starts_with("churn_step")) {
        return churn(first, static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10)),
                     static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10)), argv[4]);
    }
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s handout|handout_mutex_cursor[_coarse]|derive|derive_xprv_path COUNT\n"
                             "       %s churn_step|churn_step_mutex_heap[_coarse] COUNT N FILE\n"
                             "       %s export M FILE\n"
                             "       %s cold THREADS COUNT\n", argv[0], argv[0], argv[0], argv[0]);
        return 2;
    }
    const std::string_view mode = argv[1];
    const auto count = static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10));
    const ExtendedPrivKey acct = account_key();
    const KeySource keys = account_source();

    if (mode == "handout" || mode == "handout_mutex_cursor" || mode == "handout_mutex_cursor_coarse") {
        AddressPool pool(pool_base_path(account_path(), PoolType::external), PoolType::external, 20,
                         Network::testnet);
        // Derived far beyond the measured hand-outs and the lookahead (the
        // pool's derived_end is 2 * count + 200: no refill is due).
        auto addrs = pool.generate_addresses(2 * count + 200, keys, false);
        bench::MutexCursor cursor(*addrs);
        bench::BasicMutexCursor<bench::CoarseStamp> coarse(*addrs);
        const KeySource none = KeySource::none();
        const int which = mode == "handout" ? 0 : mode == "handout_mutex_cursor" ? 1 : 2;
        auto one = [&] {
            auto r = which == 0 ? pool.reserve(none, true) : which == 1 ? cursor.reserve() : coarse.reserve();
            if (!r) std::abort();
            g_sink = r->address.hash160()[0];
        };
        for (int i = 0; i < 50; ++i) one();  // warm-up: lazy binding, first touches
        CALLGRIND_START_INSTRUMENTATION;
        for (std::uint32_t i = 0; i < count; ++i) one();
        CALLGRIND_STOP_INSTRUMENTATION;
        return 0;
    }
    if (mode == "derive" || mode == "derive_xprv_path") {
        const ExtendedPubKey pub = acct.to_public();
        auto account = detail::make_chain_key(pub.public_key(), pub.chain_code());
        auto chain = detail::ckd_pub(*account, 0);
        const bool cached = mode == "derive";
        auto one = [&](std::uint32_t i) {
            std::string s;
            if (cached) {
                s = Address(Network::testnet, AddressKind::p2pkh, *detail::ckd_pub_hash160(*chain, i)).to_string();
            } else {
                auto child = acct.derive(DerivationPath({0, i}));
                s = Address::from_pubkey(Network::testnet, child->public_key()).to_string();
            }
            g_sink = static_cast<std::uint8_t>(s[1]);
        };
        for (std::uint32_t i = 0; i < 5; ++i) one(1000 + i);  // warm-up
        CALLGRIND_START_INSTRUMENTATION;
        for (std::uint32_t i = 0; i < count; ++i) one(i);
        CALLGRIND_STOP_INSTRUMENTATION;
        return 0;
    }
    std::fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
