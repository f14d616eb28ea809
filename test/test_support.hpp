// Helpers every group of tests needs the same: a replayable seed and a
// throw-away directory. persist_support.hpp and wallet_support.hpp bring
// them into their namespaces.
#ifndef ADDRPOOL_TEST_TEST_SUPPORT_HPP
#define ADDRPOOL_TEST_TEST_SUPPORT_HPP

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <vector>

namespace addrpool_test {

// ADDRPOOL_TEST_SEED replays a randomized test; otherwise a fresh seed,
// printed on stderr at once (a sanitizer report may end the process before
// Catch2 prints anything).
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

// A fresh directory under the system's temporary directory, named
// <prefix>-<pid>-<random>, removed with everything in it on destruction.
class TempDir {
public:
    explicit TempDir(const char* prefix = "addrpool-test") {
        std::random_device rd;
        dir = std::filesystem::temp_directory_path() /
              (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        std::filesystem::create_directories(dir);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    // The names of the directory's entries, sorted.
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

    std::filesystem::path dir;
};

}  // namespace addrpool_test

#endif  // ADDRPOOL_TEST_TEST_SUPPORT_HPP
