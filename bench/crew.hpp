// Benchmark harness pieces for the churn and streaming families (bench.cpp):
// the thread's CPU clock, a crew of worker threads started together for each
// timed run, a cheap per-thread random generator, and the ownership table the
// churn checks.
#ifndef ADDRPOOL_BENCH_CREW_HPP
#define ADDRPOOL_BENCH_CREW_HPP

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace addrpool::bench {

// The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), in ns.
inline std::int64_t thread_cpu_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// W threads that run one job at a time. run(job) wakes them all, each calls
// job(t) once, and run returns when the last one has finished: the wall time
// from the wake-up to that moment (so the cost of waking W threads, tens of
// µs, is in every run of every design alike; runs last milliseconds) and the
// CPU time the workers spent in job (CLOCK_THREAD_CPUTIME_ID, summed).
class Crew {
public:
    struct Times {
        std::int64_t wall_ns = 0;
        std::int64_t cpu_ns = 0;
    };

    explicit Crew(unsigned threads) : n_(threads) {
        threads_.reserve(threads);
        for (unsigned t = 0; t < threads; ++t) threads_.emplace_back([this, t] { loop(t); });
    }
    Crew(const Crew&) = delete;
    Crew& operator=(const Crew&) = delete;
    ~Crew() {
        stop_ = true;  // published by the release increment below
        // release: the workers' acquire wait sees stop_.
        round_.fetch_add(1, std::memory_order_release);
        round_.notify_all();
        for (auto& t : threads_) t.join();
    }

    unsigned size() const { return n_; }

    Times run(const std::function<void(unsigned)>& job) {
        job_ = &job;
        done_.store(0, std::memory_order_relaxed);  // relaxed: published by the release increment below
        cpu_ns_.store(0, std::memory_order_relaxed);
        const auto start = std::chrono::steady_clock::now();
        // release: pairs with the workers' acquire wait, which then see job_.
        round_.fetch_add(1, std::memory_order_release);
        round_.notify_all();
        // acquire: pairs with each worker's release increment, so its
        // results (and cpu_ns_) are visible after the loop.
        for (unsigned d; (d = done_.load(std::memory_order_acquire)) != n_;) done_.wait(d, std::memory_order_acquire);
        const auto end = std::chrono::steady_clock::now();
        return {std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count(),
                cpu_ns_.load(std::memory_order_relaxed)};  // relaxed: ordered by the acquire above
    }

private:
    void loop(unsigned t) {
        unsigned seen = 0;
        for (;;) {
            round_.wait(seen, std::memory_order_acquire);  // acquire: pairs with run()'s / ~Crew's release increment
            seen = round_.load(std::memory_order_acquire);  // acquire: as above
            if (stop_) return;
            const std::int64_t c0 = thread_cpu_ns();
            (*job_)(t);
            cpu_ns_.fetch_add(thread_cpu_ns() - c0, std::memory_order_relaxed);  // relaxed: published by the release below
            // release: pairs with run()'s acquire load of done_.
            if (done_.fetch_add(1, std::memory_order_release) + 1 == n_) done_.notify_one();
        }
    }

    const unsigned n_;
    std::vector<std::thread> threads_;
    std::atomic<unsigned> round_{0};
    std::atomic<unsigned> done_{0};
    std::atomic<std::int64_t> cpu_ns_{0};
    const std::function<void(unsigned)>* job_ = nullptr;  // written before the release increment of round_
    bool stop_ = false;                                   // likewise
};

// splitmix64, and an index below n by a multiply-shift (no division in
// the timed loop).
struct Rng {
    std::uint64_t s;
    explicit Rng(std::uint64_t seed) : s(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(((next() >> 32) * n) >> 32); }
};

// Who holds each index (0 = nobody, t + 1 = worker t). A holder gives an
// index up before releasing it and takes it after its hand-out returned, so
// in a correct design (whose release synchronizes with the next claim of
// the index) take() always finds 0 and give_up() always finds the caller.
// Relaxed loads and stores, no RMW, one byte per index (workers < 255): the
// check must cost the designs little and the same. At N = 100,000 a table
// of 4-byte entries (440 KB) competed with the designs' own words for the
// L2 (512 KiB per core here): in a simulation of these caches (callgrind,
// the churn step of bench.cpp) bytes save every design about half an L2
// miss per step (3.69 -> 3.21 for addrpool, 3.77 -> 3.29 for the mutex +
// min-heap). It catches a second live holder whenever the two hand-outs do
// not return within the few nanoseconds between a load and a store here.
// (stress/ checks the pool with CAS-exact ownership and a ticket ledger.)
class OwnerTable {
public:
    explicit OwnerTable(std::uint32_t capacity)
        : n_(capacity), owner_(new std::atomic<std::uint8_t>[capacity]) {
        for (std::uint32_t i = 0; i < capacity; ++i) owner_[i].store(0, std::memory_order_relaxed);
    }
    std::uint32_t capacity() const { return n_; }
    // The holder found (0 on success, or kOutOfRange).
    std::uint32_t take(std::uint32_t i, unsigned t) {
        if (i >= n_) return kOutOfRange;
        const std::uint32_t cur = owner_[i].load(std::memory_order_relaxed);                       // relaxed: see above
        if (cur == 0) owner_[i].store(static_cast<std::uint8_t>(t + 1), std::memory_order_relaxed);  // relaxed: see above
        return cur;
    }
    bool give_up(std::uint32_t i, unsigned t) {
        if (i >= n_ || owner_[i].load(std::memory_order_relaxed) != t + 1) return false;  // relaxed: see above
        owner_[i].store(0, std::memory_order_relaxed);                                   // relaxed: see above
        return true;
    }
    static constexpr std::uint32_t kOutOfRange = ~std::uint32_t{0};
    static constexpr unsigned kMaxWorkers = 254;  // t + 1 fits a byte

private:
    std::uint32_t n_;
    std::unique_ptr<std::atomic<std::uint8_t>[]> owner_;
};

// The first violation a run found (the benchmark then fails).
class Violations {
public:
    void report(std::string what) {
        std::lock_guard<std::mutex> lock(m_);
        if (text_.empty()) text_ = std::move(what);
        failed_.store(true, std::memory_order_relaxed);  // relaxed: a flag; the text is read under the mutex
    }
    bool failed() const { return failed_.load(std::memory_order_relaxed); }  // relaxed: as above
    std::string text() const {
        std::lock_guard<std::mutex> lock(m_);
        return text_;
    }

private:
    mutable std::mutex m_;  // guards text_
    std::string text_;
    std::atomic<bool> failed_{false};
};

}  // namespace addrpool::bench

#endif  // ADDRPOOL_BENCH_CREW_HPP
