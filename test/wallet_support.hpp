// Helpers for the WalletSet tests: accounts of the test mnemonic, the
// scripts of their addresses, a replayable seed and a throw-away directory.
#ifndef ADDRPOOL_TEST_WALLET_SUPPORT_HPP
#define ADDRPOOL_TEST_WALLET_SUPPORT_HPP

#include <addrpool/addrpool.hpp>

#include "test_support.hpp"

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

using addrpool_test::test_seed;

// A throw-away directory named addrpool-wallet-<pid>-<random>.
struct TempDir : addrpool_test::TempDir {
    TempDir() : addrpool_test::TempDir("addrpool-wallet") {}
};

}  // namespace wallet_test

#endif  // ADDRPOOL_TEST_WALLET_SUPPORT_HPP
