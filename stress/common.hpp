// Shared pieces of addrpool-stress: the test wallet, the reference
// derivation, options, the first-violation report and the summary line.
#ifndef ADDRPOOL_STRESS_COMMON_HPP
#define ADDRPOOL_STRESS_COMMON_HPP

#include <addrpool/addrpool.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace stress {

using namespace addrpool;

// ThreadSanitizer allows at most 8128 live threads and slows everything
// ~10x; scenarios shrink their thread-per-task mode under it.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kUnderTsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kUnderTsan = true;
#else
inline constexpr bool kUnderTsan = false;
#endif
#else
inline constexpr bool kUnderTsan = false;
#endif

struct Options {
    std::uint64_t seed = 0;
    std::uint64_t iterations = 1;  // scale factor; each scenario says what one unit is
    unsigned threads = 0;          // 0 = the scenario's default
    bool thread_per_task = false;  // S1: one std::thread per task instead of a worker pool
    bool broken_pool = false;      // run S1/S2/S6 against the deliberately broken toy pool (a lost update)
    bool skipping_pool = false;    // run S6 against the toy pool whose releases are sometimes not findable
    bool strict_mark = true;       // S2: a false mark of a live reservation is a violation (--lenient-mark: count and retry instead)
};

// The BIP39 test wallet, m/44'/1'/0' on testnet, as both key sources.
struct Wallet {
    KeySource xprv;
    KeySource xpub;
    ExtendedPubKey chain;  // m/44'/1'/0'/0, the external chain
};
const Wallet& wallet();
DerivationPath account_path();  // m/44'/1'/0'
DerivationPath pool_path();     // m/44'/1'/0'/0, the external chain

// Addresses 0..n-1 of the external chain, derived sequentially with the
// public API (ExtendedPubKey::derive_child), independent of the pool.
// Call single-threaded before a run; later reads are read-only.
const std::vector<Address>& reference(std::size_t n);

// The first violated invariant of a run. Every thread checks `stop()` and
// winds down once a violation is recorded, so the report is the first one.
class Failure {
public:
    bool stop() const noexcept { return failed_.load(std::memory_order_relaxed); }
    void report(const std::string& what) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (failed_.load(std::memory_order_relaxed)) return;
        text_ = what;
        failed_.store(true, std::memory_order_relaxed);
    }
    bool failed() const noexcept { return stop(); }
    std::string text() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return text_;
    }

private:
    // relaxed: only a "wind down" signal; the text is read under the mutex.
    std::atomic<bool> failed_{false};
    mutable std::mutex mutex_;
    std::string text_;
};

struct Summary {
    std::string scenario;
    std::uint64_t operations = 0;
    std::uint64_t handouts = 0;
    std::uint64_t duplicates = 0;
    bool ok = true;
    bool skipped = false;
    std::string note;
    std::uint64_t holes = 0;  // S6: hand-outs that skipped a free index
};

class Stopwatch {
public:
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// splitmix64: a per-thread generator derived from (seed, thread), so every
// thread's choices replay from the printed seed.
struct Rng {
    std::uint64_t s;
    explicit Rng(std::uint64_t seed, std::uint64_t stream = 0) : s(seed ^ (0x9e3779b97f4a7c15ull * (stream + 1))) {}
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
};

unsigned hardware_threads();

// Retries f() (yielding) until it returns true: the number of extra calls it
// took, or -1 if it still failed after 5 s. Only for S2 --lenient-mark, which
// diagnoses marks of live reservations that return false (the publication
// bug fixed in 35bd9b7; strict by default since).
template <class F>
long retry_until_true(F f) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (long k = 1;; ++k) {
        if (f()) return k;
        if (std::chrono::steady_clock::now() > deadline) return -1;
        std::this_thread::yield();
    }
}

Summary run_s1(const Options& o);
Summary run_s2(const Options& o);
Summary run_s3(const Options& o);
Summary run_s4(const Options& o);
Summary run_s5(const Options& o);
Summary run_s6(const Options& o);

}  // namespace stress

#endif  // ADDRPOOL_STRESS_COMMON_HPP
