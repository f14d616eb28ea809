// BENCHMARK BASELINES — reproductions of other designs, NOT part of addrpool.
//
// Each class reproduces a way of handing out reserved addresses that
// wallets use today (or could), so that addrpool can be measured against it
// in the same process, on the same pre-derived addresses and with the same
// clock reads. They exist only for bench/; nothing in lib/ uses them.
//
//   (a) BridgeTable   one process-global mutex around
//                     unordered_map<(wallet, account), unordered_map<index, reserved_at>>;
//                     each hand-out builds the set of reserved indices of the
//                     account and scans from index 0, skipping used (from the
//                     account's own pool state) and reserved indices — the
//                     stopgap downstream Rust wallets run today.
//   (b) LockedScan    a mutex around an ordered map index → {available,
//                     reserved, used}; each hand-out scans from 0 to the highest
//                     generated index for the first available one — the
//                     algorithm the Rust key-wallet merged for its reserved state.
//   (c) MutexCursor   a mutex, a vector of state words (addrpool's own layout)
//                     and a lowest-free cursor; the same work per call as the
//                     pool (clock read, ticket, address copy) — the best a lock
//                     can do when releases come back in order (and for
//                     streaming over fresh indices).
//   (f) MutexHeap     a mutex and a min-heap of released indices: the lowest
//                     free index in O(log N) whatever the release order — the
//                     textbook lock for churn. Same work per call as (c).
//   (g) Floor         no lock, no state word, no clock: a LIFO of released
//                     indices and a copy of the index's address — the least
//                     a design can do per churn step, one thread only. Not a
//                     competitor: it shows what the harness and the memory
//                     system charge any design at each N.
//   (c) and (f) take the clock as a parameter: SteadyStamp (steady_clock, what
//   a locked wallet reads) or CoarseStamp (the pool's default clock).
//   (d) WalletLocked  addrpool itself behind one wallet-wide mutex held across
//                     every call — what a pool with `&mut self` methods forces
//                     on its callers.
//   (e) PoolDesign    addrpool, called directly (the thing being measured).
//
// Every design has the same interface, so one benchmark template drives all:
//   reserve() → Result<Reservation>, release(r), mark_used(i), sweep(ttl),
//   prefill(n) (n outstanding reservations at indices 0..n-1), reset()
// ((f) and (g), built for the churn and streaming families only, have no mark_used or
// sweep). Baselines return the same Result<Reservation> as the pool, so result
// construction costs the same everywhere.
#ifndef ADDRPOOL_BENCH_BASELINES_HPP
#define ADDRPOOL_BENCH_BASELINES_HPP

#include <addrpool/addrpool.hpp>

#include "pool/slot.hpp"  // (c) reuses the pool's word layout so its per-call work matches

#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace addrpool::bench {

using Clock = std::chrono::steady_clock;

inline Error exhausted() { return make_error(Errc::index_out_of_range, "every pre-derived address is taken"); }

// Milliseconds since `epoch`, rounded up, as addrpool stamps reservations.
inline std::uint64_t ms_ceil(Clock::time_point now, Clock::time_point epoch) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - epoch).count();
    return ns <= 0 ? 0 : static_cast<std::uint64_t>((ns + 999'999) / 1'000'000);
}

// ---------------------------------------------------------------------------
// (a) Bridge table (baseline reproduction)
// ---------------------------------------------------------------------------
class BridgeTable {
public:
    using WalletId = std::array<std::uint8_t, 32>;
    struct AccountKey {
        WalletId wallet;
        std::uint32_t account;
        friend bool operator==(const AccountKey&, const AccountKey&) = default;
    };
    struct AccountKeyHash {
        std::size_t operator()(const AccountKey& k) const noexcept {
            std::size_t h = k.account;
            for (auto b : k.wallet) h = h * 131 + b;
            return h;
        }
    };

    // `addresses`: the account's pre-derived addresses. A few other
    // wallets/accounts share the table, as in a multi-wallet service.
    explicit BridgeTable(std::span<const Address> addresses, std::uint32_t wallets = 4) {
        for (std::uint32_t w = 0; w < wallets; ++w) {
            AccountKey k{};
            k.wallet[0] = static_cast<std::uint8_t>(w + 1);
            k.account = 0;
            auto& pool = pools_[k];
            pool.addresses.assign(addresses.begin(), addresses.end());
            pool.used.assign(addresses.size(), 0);
            reserved_[k];
            if (w == 0) key_ = k;
        }
    }

    Result<Reservation> reserve() {
        const auto now = Clock::now();
        std::lock_guard<std::mutex> lock(m_);
        auto& reserved = reserved_[key_];
        // The stopgap rebuilds the reserved set on every call.
        std::unordered_set<std::uint32_t> taken;
        taken.reserve(reserved.size());
        for (const auto& entry : reserved) taken.insert(entry.first);
        const AccountPool& pool = pools_.find(key_)->second;
        for (std::uint32_t i = 0; i < pool.addresses.size(); ++i) {
            if (pool.used[i] || taken.count(i) != 0) continue;
            reserved.emplace(i, now);
            return Reservation{i, pool.addresses[i], i};  // no tickets in this design
        }
        return exhausted();
    }

    bool release(const Reservation& r) {
        std::lock_guard<std::mutex> lock(m_);
        return reserved_[key_].erase(r.index) != 0;
    }

    bool mark_used(std::uint32_t index) {
        std::lock_guard<std::mutex> lock(m_);
        auto& pool = pools_.find(key_)->second;
        if (index >= pool.used.size() || pool.used[index]) return false;
        pool.used[index] = 1;
        reserved_[key_].erase(index);
        return true;
    }

    std::size_t sweep(std::chrono::nanoseconds ttl) {
        const auto now = Clock::now();
        std::lock_guard<std::mutex> lock(m_);
        std::size_t freed = 0;
        for (auto& [key, reserved] : reserved_) {
            freed += std::erase_if(reserved, [&](const auto& e) { return now - e.second >= ttl; });
        }
        return freed;
    }

    void prefill(std::uint32_t n) {
        const auto now = Clock::now();
        std::lock_guard<std::mutex> lock(m_);
        auto& reserved = reserved_[key_];
        for (std::uint32_t i = 0; i < n; ++i) reserved.emplace(i, now);
    }

    void reset() {
        std::lock_guard<std::mutex> lock(m_);
        for (auto& [key, reserved] : reserved_) reserved.clear();
        for (auto& [key, pool] : pools_) std::fill(pool.used.begin(), pool.used.end(), 0);
    }

private:
    struct AccountPool {  // the wallet's own pool state (addresses, used flags)
        std::vector<Address> addresses;
        std::vector<std::uint8_t> used;
    };
    std::mutex m_;  // the process-global bridge lock; guards everything below
    std::unordered_map<AccountKey, std::unordered_map<std::uint32_t, Clock::time_point>, AccountKeyHash> reserved_;
    std::unordered_map<AccountKey, AccountPool, AccountKeyHash> pools_;
    AccountKey key_{};
};

// ---------------------------------------------------------------------------
// (b) Locked scan over an ordered map (baseline reproduction)
// ---------------------------------------------------------------------------
class LockedScan {
public:
    explicit LockedScan(std::span<const Address> addresses) {
        for (std::uint32_t i = 0; i < addresses.size(); ++i) infos_.emplace(i, Info{addresses[i], State::available, {}});
    }

    Result<Reservation> reserve() {
        const auto now = Clock::now();
        std::lock_guard<std::mutex> lock(m_);
        for (auto& [i, info] : infos_) {  // from 0 to the highest generated
            if (info.state != State::available) continue;
            info.state = State::reserved;
            info.reserved_at = now;
            return Reservation{i, info.address, i};  // no tickets in this design
        }
        return exhausted();
    }

    bool release(const Reservation& r) {
        std::lock_guard<std::mutex> lock(m_);
        auto it = infos_.find(r.index);
        if (it == infos_.end() || it->second.state != State::reserved) return false;
        it->second.state = State::available;
        return true;
    }

    bool mark_used(std::uint32_t index) {
        std::lock_guard<std::mutex> lock(m_);
        auto it = infos_.find(index);
        if (it == infos_.end() || it->second.state == State::used) return false;
        it->second.state = State::used;
        return true;
    }

    std::size_t sweep(std::chrono::nanoseconds ttl) {
        const auto now = Clock::now();
        std::lock_guard<std::mutex> lock(m_);
        std::size_t freed = 0;
        for (auto& [i, info] : infos_) {
            if (info.state == State::reserved && now - info.reserved_at >= ttl) {
                info.state = State::available;
                ++freed;
            }
        }
        return freed;
    }

    void prefill(std::uint32_t n) {
        const auto now = Clock::now();
        std::lock_guard<std::mutex> lock(m_);
        for (auto it = infos_.begin(); it != infos_.end() && it->first < n; ++it) {
            it->second.state = State::reserved;
            it->second.reserved_at = now;
        }
    }

    void reset() {
        std::lock_guard<std::mutex> lock(m_);
        for (auto& [i, info] : infos_) info.state = State::available;
    }

private:
    enum class State : std::uint8_t { available, reserved, used };
    struct Info {
        Address address;
        State state;
        Clock::time_point reserved_at;
    };
    std::mutex m_;                          // guards infos_
    std::map<std::uint32_t, Info> infos_;  // index → state
};

// ---------------------------------------------------------------------------
// The clock read of a hand-out, for (c) and (f)
// ---------------------------------------------------------------------------
// SteadyStamp: std::chrono::steady_clock::now() (~25 ns on the benchmark
// machine), what a wallet behind a mutex reads — the measurement.
// CoarseStamp: the pool's default clock, CLOCK_MONOTONIC_COARSE plus its
// resolution (~7 ns; lib/pool/pool.cpp stamp_ms), so the report can show
// each baseline ratio with either clock and a reader can tell the lock's
// cost from the clock's. Both give milliseconds since `epoch`, rounded up.
struct SteadyStamp {
    static constexpr const char* kName = "steady";
    Clock::time_point epoch;
    explicit SteadyStamp(Clock::time_point e) : epoch(e) {}
    std::uint64_t now_ms() const { return ms_ceil(Clock::now(), epoch); }
};

struct CoarseStamp {
    static constexpr const char* kName = "coarse";
    std::int64_t offset_ns;  // coarse resolution - epoch, as the pool's coarse_offset_ns
    explicit CoarseStamp(Clock::time_point e)
        : offset_ns(resolution_ns() - std::chrono::duration_cast<std::chrono::nanoseconds>(e.time_since_epoch()).count()) {}
    std::uint64_t now_ms() const {
        timespec ts{};
        ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        const std::int64_t ns = std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec + offset_ns;
        return ns <= 0 ? 0 : static_cast<std::uint64_t>((ns + 999'999) / 1'000'000);
    }
    static std::int64_t resolution_ns() {
        timespec ts{};
        if (::clock_getres(CLOCK_MONOTONIC_COARSE, &ts) != 0) return 10'000'000;
        return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
    }
};

// The per-index state of the lock baselines (c) and (f), in addrpool's word
// layout (state, generation, stamp), and the work a hand-out does on it
// besides finding the index: the word, a ticket tagged like the pool's (a
// multiply and an XOR with a per-object nonce), the reservation time and a
// copy of the pre-derived address. Release checks the ticket (tag and
// generation) like the pool's release_reservation(const Reservation&).
// Not synchronized: the owner calls it under its mutex.
class LockedWords {
public:
    explicit LockedWords(std::span<const Address> addresses)
        : addresses_(addresses), words_(addresses.size(), 0), epoch_(Clock::now()) {}

    std::uint32_t size() const { return static_cast<std::uint32_t>(words_.size()); }
    Clock::time_point epoch() const { return epoch_; }
    bool is_unused(std::uint32_t i) const { return detail::slot::is_unused(words_[i]); }

    Reservation take(std::uint32_t i, std::uint64_t stamp) {
        const std::uint64_t w = detail::slot::claimed(words_[i], stamp, true);
        words_[i] = w;
        return Reservation{i, addresses_[i], detail::slot::make_ticket(detail::slot::gen(w), tag(i)),
                           epoch_ + std::chrono::milliseconds(stamp)};
    }
    bool give_back(const Reservation& r) {
        if (r.index >= words_.size() || detail::slot::ticket_tag(r.ticket) != tag(r.index)) return false;
        std::uint64_t& w = words_[r.index];
        if (!detail::slot::is_reserved(w) || detail::slot::gen(w) != detail::slot::ticket_gen(r.ticket)) return false;
        w = detail::slot::released(w);
        return true;
    }
    bool mark_used(std::uint32_t index) {
        std::uint64_t& w = words_[index];
        if (detail::slot::is_used(w)) return false;
        w = detail::slot::marked_used(w);
        return true;
    }
    // ttl_ms / now as the pool's sweep rounds them; calls freed(i) per freed index.
    template <class F>
    std::size_t sweep(std::uint64_t now, std::uint64_t ttl_ms, F&& freed) {
        std::size_t n = 0;
        for (std::uint32_t i = 0; i < words_.size(); ++i) {
            std::uint64_t& w = words_[i];
            if (detail::slot::is_reserved(w) && detail::slot::stamp(w) + ttl_ms <= now) {
                w = detail::slot::released(w);
                freed(i);
                ++n;
            }
        }
        return n;
    }
    void reset() { std::fill(words_.begin(), words_.end(), 0); }

private:
    std::uint64_t tag(std::uint32_t i) const {
        constexpr std::uint64_t kTagMask = (std::uint64_t{1} << detail::slot::kTagBits) - 1;
        return ((kNonce >> detail::slot::kGenBits) ^ (std::uint64_t{i} * 0x9e3779b97f4a7c15ull)) & kTagMask;
    }
    static constexpr std::uint64_t kNonce = 0x5deece66d2545f49ull;

    std::span<const Address> addresses_;  // pre-derived, read-only
    std::vector<std::uint64_t> words_;
    Clock::time_point epoch_;
};

// ---------------------------------------------------------------------------
// (c) Mutex + lowest-free cursor (baseline reproduction: the best a lock can do)
// ---------------------------------------------------------------------------
// Same per-call work as the pool: one clock read (outside the lock, as the
// pool reads it before its claim) and LockedWords::take. The cursor only
// moves down on a release, so a release in random order makes the next
// hand-outs scan: the fair lock for streaming and for the pairs of the
// latency/throughput families, not for churn (see (f)).
template <class Stamp>
class BasicMutexCursor {
public:
    explicit BasicMutexCursor(std::span<const Address> addresses) : s_(addresses), stamp_(s_.epoch()) {}

    Result<Reservation> reserve() {
        const std::uint64_t stamp = stamp_.now_ms();
        std::lock_guard<std::mutex> lock(m_);
        std::uint32_t i = cursor_;
        const std::uint32_t n = s_.size();
        while (i < n && !s_.is_unused(i)) ++i;
        if (i == n) return exhausted();
        cursor_ = i + 1;
        return s_.take(i, stamp);
    }

    bool release(const Reservation& r) {
        std::lock_guard<std::mutex> lock(m_);
        if (!s_.give_back(r)) return false;
        cursor_ = std::min(cursor_, r.index);
        return true;
    }

    bool mark_used(std::uint32_t index) {
        std::lock_guard<std::mutex> lock(m_);
        return s_.mark_used(index);
    }

    std::size_t sweep(std::chrono::nanoseconds ttl) {
        const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - s_.epoch()).count();
        const bool everything = ttl.count() <= 0;
        const std::uint64_t now = everything ? static_cast<std::uint64_t>((now_ns + 999'999) / 1'000'000)
                                             : static_cast<std::uint64_t>(now_ns / 1'000'000);
        const std::uint64_t ttl_ms = everything ? 0 : static_cast<std::uint64_t>((ttl.count() + 999'999) / 1'000'000);
        std::lock_guard<std::mutex> lock(m_);
        return s_.sweep(now, ttl_ms, [this](std::uint32_t i) { cursor_ = std::min(cursor_, i); });
    }

    void prefill(std::uint32_t n) {
        for (std::uint32_t i = 0; i < n; ++i) (void)reserve();
    }

    void reset() {
        std::lock_guard<std::mutex> lock(m_);
        s_.reset();
        cursor_ = 0;
    }

private:
    std::mutex m_;       // guards s_ and cursor_
    LockedWords s_;
    Stamp stamp_;
    std::uint32_t cursor_ = 0;  // every index below is used or reserved
};
using MutexCursor = BasicMutexCursor<SteadyStamp>;

// ---------------------------------------------------------------------------
// (f) Mutex + min-heap of free indices (baseline: the textbook lock for churn)
// ---------------------------------------------------------------------------
// The lowest free index in O(log N) whatever the release order: released
// indices go into a binary min-heap, fresh ones come from a cursor that only
// grows (every heap entry is below it). Per call the same work as (c).
template <class Stamp>
class MutexHeap {
public:
    explicit MutexHeap(std::span<const Address> addresses) : s_(addresses), stamp_(s_.epoch()) {
        heap_.reserve(addresses.size());
    }

    Result<Reservation> reserve() {
        const std::uint64_t stamp = stamp_.now_ms();
        std::lock_guard<std::mutex> lock(m_);
        std::uint32_t i;
        if (!heap_.empty()) {
            std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
            i = heap_.back();
            heap_.pop_back();
        } else {
            if (fresh_ == s_.size()) return exhausted();
            i = fresh_++;
        }
        return s_.take(i, stamp);
    }

    bool release(const Reservation& r) {
        std::lock_guard<std::mutex> lock(m_);
        if (!s_.give_back(r)) return false;
        heap_.push_back(r.index);
        std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
        return true;
    }

    void prefill(std::uint32_t n) {
        for (std::uint32_t i = 0; i < n; ++i) (void)reserve();
    }

    void reset() {
        std::lock_guard<std::mutex> lock(m_);
        s_.reset();
        heap_.clear();
        fresh_ = 0;
    }

private:
    std::mutex m_;  // guards everything below
    LockedWords s_;
    Stamp stamp_;
    std::vector<std::uint32_t> heap_;  // released indices, a min-heap; all below fresh_
    std::uint32_t fresh_ = 0;          // no index at or above was ever handed out
};

// ---------------------------------------------------------------------------
// (g) The floor of a churn step (one thread; not a lowest-free design)
// ---------------------------------------------------------------------------
class Floor {
public:
    explicit Floor(std::span<const Address> addresses) : a_(addresses) { free_.reserve(addresses.size()); }

    Result<Reservation> reserve() {
        std::uint32_t i;
        if (!free_.empty()) {
            i = free_.back();
            free_.pop_back();
        } else {
            if (fresh_ == a_.size()) return exhausted();
            i = fresh_++;
        }
        return Reservation{i, a_[i], i, {}};  // the ticket is the index: the harness only passes it back
    }
    bool release(const Reservation& r) {
        if (r.index >= fresh_ || r.ticket != r.index) return false;
        free_.push_back(r.index);
        return true;
    }
    void prefill(std::uint32_t n) {
        for (std::uint32_t i = 0; i < n; ++i) (void)reserve();
    }

private:
    std::span<const Address> a_;
    std::vector<std::uint32_t> free_;  // released indices, the last one on top
    std::uint32_t fresh_ = 0;          // no index at or above was ever handed out
};

// ---------------------------------------------------------------------------
// (e) addrpool, and (d) addrpool behind one wallet-wide mutex (baseline)
// ---------------------------------------------------------------------------
class PoolDesign {
public:
    PoolDesign(AddressPool& pool, KeySource keys) : pool_(pool), keys_(std::move(keys)) {}

    Result<Reservation> reserve() { return pool_.reserve(keys_, true); }
    bool release(const Reservation& r) { return pool_.release_reservation(r); }
    bool mark_used(std::uint32_t index) { return pool_.mark_index_used(index); }
    std::size_t sweep(std::chrono::nanoseconds ttl) { return pool_.sweep_expired_reservations(ttl); }
    void prefill(std::uint32_t n) {
        for (std::uint32_t i = 0; i < n; ++i) (void)reserve();
    }
    void reset() { pool_.reset_usage(); }

    AddressPool& pool() { return pool_; }
    const KeySource& keys() const { return keys_; }

private:
    AddressPool& pool_;
    KeySource keys_;
};

// (d) Baseline: every call holds the wallet lock, as a `&mut self` API forces.
class WalletLocked {
public:
    WalletLocked(AddressPool& pool, KeySource keys) : inner_(pool, std::move(keys)) {}

    Result<Reservation> reserve() {
        std::lock_guard<std::mutex> lock(m_);
        return inner_.reserve();
    }
    bool release(const Reservation& r) {
        std::lock_guard<std::mutex> lock(m_);
        return inner_.release(r);
    }
    bool mark_used(std::uint32_t index) {
        std::lock_guard<std::mutex> lock(m_);
        return inner_.mark_used(index);
    }
    std::size_t sweep(std::chrono::nanoseconds ttl) {
        std::lock_guard<std::mutex> lock(m_);
        return inner_.sweep(ttl);
    }
    void prefill(std::uint32_t n) {
        for (std::uint32_t i = 0; i < n; ++i) (void)reserve();
    }
    void reset() {
        std::lock_guard<std::mutex> lock(m_);
        inner_.reset();
    }
    // Any other wallet operation (e.g. the lookahead refill) under the same lock.
    template <class F>
    auto locked(F&& f) {
        std::lock_guard<std::mutex> lock(m_);
        return f(inner_.pool(), inner_.keys());
    }

private:
    std::mutex m_;  // the wallet lock; guards every call into inner_
    PoolDesign inner_;
};

}  // namespace addrpool::bench

#endif  // ADDRPOOL_BENCH_BASELINES_HPP
