// callgrind-probe: instruction counts that a noisy machine cannot disturb.
// bench/run.sh runs it as
//   valgrind --tool=callgrind --instr-atstart=no callgrind-probe MODE COUNT
// and divides the total by COUNT. Instrumentation is on only around the
// measured calls (CALLGRIND_START/STOP_INSTRUMENTATION), after a warm-up, so
// setup, lazy binding and first-use initialisation are not counted.
//
// MODE: handout            addrpool reserve(), the address pre-derived
//       handout_mutex_cursor baseline (c) reserve() (bench/baselines.hpp)
//       derive             addrpool's route: ckd_pub_hash160 + Base58Check
//       derive_xprv_path   the Rust key-wallet's route: [0, i] from the xprv
//
// Also, without callgrind: `callgrind-probe cold THREADS COUNT` hands out
// COUNT addresses from a lookahead-1 pool on THREADS threads; run.sh runs it
// under bench/tweak_counter.c (LD_PRELOAD) to count derivations per hand-out.
#include <addrpool/addrpool.hpp>

#include "baselines.hpp"
#include "keys/derive.hpp"

#if defined(ADDRPOOL_HAVE_CALLGRIND)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include <cstdio>
#include <cstdlib>
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

int main(int argc, char** argv) {
    if (argc == 4 && std::string_view(argv[1]) == "cold") {
        const KeySource keys = account_source();
        return cold(std::atoi(argv[2]), static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10)), keys);
    }
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s handout|handout_mutex_cursor|derive|derive_xprv_path COUNT\n"
                             "       %s cold THREADS COUNT\n", argv[0], argv[0]);
        return 2;
    }
    const std::string_view mode = argv[1];
    const auto count = static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10));
    const ExtendedPrivKey acct = account_key();
    const KeySource keys = account_source();

    if (mode == "handout" || mode == "handout_mutex_cursor") {
        AddressPool pool(pool_base_path(account_path(), PoolType::external), PoolType::external, 20,
                         Network::testnet);
        // Pre-derived far beyond the measured hand-outs and the lookahead.
        auto addrs = pool.generate_addresses(2 * count + 200, keys, false);
        bench::MutexCursor cursor(*addrs);
        const bool use_pool = mode == "handout";
        for (int i = 0; i < 50; ++i) {  // warm-up: lazy binding, first refill
            auto r = use_pool ? pool.reserve(keys, true) : cursor.reserve();
            g_sink = r->address.hash160()[0];
        }
        CALLGRIND_START_INSTRUMENTATION;
        for (std::uint32_t i = 0; i < count; ++i) {
            auto r = use_pool ? pool.reserve(keys, true) : cursor.reserve();
            g_sink = r->address.hash160()[0];
        }
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
