// Helpers for the WalletSet tests: accounts of the test mnemonic, the
// scripts of their addresses, a replayable seed and a throw-away directory.
#ifndef ADDRPOOL_TEST_WALLET_SUPPORT_HPP
#define ADDRPOOL_TEST_WALLET_SUPPORT_HPP

#include <addrpool/addrpool.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace wallet_test {

using namespace addrpool;
namespace fs = std::filesystem;

inline constexpr const char* kMnemonic =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

inline DerivationPath account_path(std::uint32_t account) {
    return DerivationPath({44 | hardened_bit, 1 | hardened_bit, account | hardened_bit});
}

// The xpub key source of testnet account m/44'/1'/n' of the test mnemonic,
// cached (the private derivations are cheap, the public key is not).
inline KeySource account_keys(std::uint32_t n) {
    static std::mutex m;
    static std::map<std::uint32_t, KeySource> cache;
    static const ExtendedPrivKey master = [] {
        auto seed = mnemonic_to_seed(kMnemonic, "");
        if (!seed) std::abort();
        auto root = ExtendedPrivKey::from_seed(*seed, Network::testnet);
        if (!root) std::abort();
        return *root;
    }();
    std::lock_guard<std::mutex> lock(m);
    auto it = cache.find(n);
    if (it != cache.end()) return it->second;
    auto acct = master.derive(account_path(n));
    if (!acct) std::abort();
    return cache.emplace(n, KeySource::from_public(acct->to_public())).first->second;
}

inline std::shared_ptr<Account> make_account(std::uint32_t n, std::uint32_t gap = 20, PoolOptions options = {}) {
    auto a = Account::bip44(account_keys(n), account_path(n), Network::testnet, gap, std::move(options));
    REQUIRE(a);
    return *a;
}

// The P2PKH script of index i of chain `chain` of account n.
inline std::vector<std::uint8_t> script_of(std::uint32_t n, PoolType chain, std::uint32_t i) {
    auto h = account_keys(n).derive_hash160(chain, i);
    if (!h) std::abort();
    return Address(Network::testnet, AddressKind::p2pkh, *h).script_pubkey();
}

inline std::vector<std::uint8_t> foreign_script(std::uint8_t tag) {
    Hash160 h{};
    h.fill(tag);
    return Address(Network::testnet, AddressKind::p2pkh, h).script_pubkey();
}

// ADDRPOOL_TEST_SEED replays a randomized test; otherwise a fresh seed,
// printed at once (a sanitizer report may end the process first).
inline std::uint64_t test_seed(const char* test) {
    std::uint64_t seed = 0;
    if (const char* s = std::getenv("ADDRPOOL_TEST_SEED")) {
        seed = std::strtoull(s, nullptr, 10);
    } else {
        std::random_device rd;
        seed = (std::uint64_t{rd()} << 32) | rd();
    }
    std::fprintf(stderr, "%s: replay with ADDRPOOL_TEST_SEED=%llu\n", test, static_cast<unsigned long long>(seed));
    return seed;
}

struct TempDir {
    fs::path dir;
    TempDir() {
        std::random_device rd;
        dir = fs::temp_directory_path() / ("addrpool-wallet-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        fs::create_directories(dir);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace wallet_test

#endif  // ADDRPOOL_TEST_WALLET_SUPPORT_HPP
