// Helpers shared by the persistence tests (test_persist.cpp,
// test_persist_save.cpp): the test account, a pool, a throw-away directory.
#ifndef ADDRPOOL_TEST_PERSIST_SUPPORT_HPP
#define ADDRPOOL_TEST_PERSIST_SUPPORT_HPP

#include <addrpool/addrpool.hpp>

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
struct TempDir {
    fs::path dir;
    TempDir() {
        std::random_device rd;
        dir = fs::temp_directory_path() / ("addrpool-persist-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        fs::create_directories(dir);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }
};

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

}  // namespace persist_test

#endif  // ADDRPOOL_TEST_PERSIST_SUPPORT_HPP
