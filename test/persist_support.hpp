// Helpers shared by the persistence tests (test_persist.cpp,
// test_persist_save.cpp): the test account, a pool, a throw-away directory.
#ifndef ADDRPOOL_TEST_PERSIST_SUPPORT_HPP
#define ADDRPOOL_TEST_PERSIST_SUPPORT_HPP

#include <addrpool/addrpool.hpp>

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace persist_test {

using namespace addrpool;
namespace fs = std::filesystem;

inline constexpr const char* kMnemonic =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

// m/44'/1'/0' of the test mnemonic (PBKDF2 once per process).
inline const ExtendedPrivKey& account_key() {
    static const ExtendedPrivKey key = [] {
        auto seed = mnemonic_to_seed(kMnemonic, "");
        if (!seed) std::abort();
        auto root = ExtendedPrivKey::from_seed(*seed, Network::testnet);
        if (!root) std::abort();
        auto acct = root->derive(*DerivationPath::parse("m/44'/1'/0'"));
        if (!acct) std::abort();
        return *acct;
    }();
    return key;
}

inline KeySource private_source() { return KeySource::from_private(account_key()); }

inline DerivationPath path(const char* text) {
    auto p = DerivationPath::parse(text);
    REQUIRE(p);
    return *p;
}

inline AddressPool external_pool(std::uint32_t gap = 20, PoolOptions opts = {}) {
    return AddressPool(path("m/44'/1'/0'/0"), PoolType::external, gap, Network::testnet, std::move(opts));
}

// A fresh directory under the system temp dir, removed at scope exit.
// A throw-away directory named addrpool-persist-<pid>-<random>.
struct TempDir : addrpool_test::TempDir {
    TempDir() : addrpool_test::TempDir("addrpool-persist") {}
};
using addrpool_test::test_seed;

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

}  // namespace persist_test

#endif  // ADDRPOOL_TEST_PERSIST_SUPPORT_HPP
