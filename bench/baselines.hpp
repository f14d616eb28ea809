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
//                     can do.
//   (d) WalletLocked  addrpool itself behind one wallet-wide mutex held across
//                     every call — what a pool with `&mut self` methods forces
//                     on its callers.
//   (e) PoolDesign    addrpool, called directly (the thing being measured).
//
// Every design has the same interface, so one benchmark template drives all:
//   reserve() → Result<Reservation>, release(r), mark_used(i), sweep(ttl),
//   prefill(n) (n outstanding reservations at indices 0..n-1), reset().
// Baselines return the same Result<Reservation> as the pool, so result
// construction costs the same everywhere.
#ifndef ADDRPOOL_BENCH_BASELINES_HPP
#define ADDRPOOL_BENCH_BASELINES_HPP

#include <addrpool/addrpool.hpp>

#include "pool/slot.hpp"  // (c) reuses the pool's word layout so its per-call work matches

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
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
// (c) Mutex + lowest-free cursor (baseline reproduction: the best a lock can do)
// ---------------------------------------------------------------------------
// Same per-call work as the pool: one clock read (outside the lock, as the
// pool reads it before its claim), a word in the pool's layout (state,
// generation, stamp), a ticket, and a copy of the pre-derived address.
class MutexCursor {
public:
    explicit MutexCursor(std::span<const Address> addresses)
        : addresses_(addresses), words_(addresses.size(), 0), epoch_(Clock::now()) {}

    Result<Reservation> reserve() {
        const std::uint64_t stamp = ms_ceil(Clock::now(), epoch_);
        std::lock_guard<std::mutex> lock(m_);
        std::uint32_t i = cursor_;
        const auto n = static_cast<std::uint32_t>(words_.size());
        while (i < n && !detail::slot::is_unused(words_[i])) ++i;
        if (i == n) return exhausted();
        const std::uint64_t w = detail::slot::claimed(words_[i], stamp, true);
        words_[i] = w;
        cursor_ = i + 1;
        return Reservation{i, addresses_[i], detail::slot::make_ticket(detail::slot::gen(w), i)};
    }

    bool release(const Reservation& r) {
        std::lock_guard<std::mutex> lock(m_);
        std::uint64_t& w = words_[r.index];
        if (!detail::slot::is_reserved(w) || detail::slot::gen(w) != detail::slot::ticket_gen(r.ticket)) return false;
        w = detail::slot::released(w);
        cursor_ = std::min(cursor_, r.index);
        return true;
    }

    bool mark_used(std::uint32_t index) {
        std::lock_guard<std::mutex> lock(m_);
        std::uint64_t& w = words_[index];
        if (detail::slot::is_used(w)) return false;
        w = detail::slot::marked_used(w);
        return true;
    }

    std::size_t sweep(std::chrono::nanoseconds ttl) {
        const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - epoch_).count();
        const bool everything = ttl.count() <= 0;
        const std::uint64_t now = everything ? static_cast<std::uint64_t>((now_ns + 999'999) / 1'000'000)
                                             : static_cast<std::uint64_t>(now_ns / 1'000'000);
        const std::uint64_t ttl_ms = everything ? 0 : static_cast<std::uint64_t>((ttl.count() + 999'999) / 1'000'000);
        std::lock_guard<std::mutex> lock(m_);
        std::size_t freed = 0;
        for (std::uint32_t i = 0; i < words_.size(); ++i) {
            std::uint64_t& w = words_[i];
            if (detail::slot::is_reserved(w) && detail::slot::stamp(w) + ttl_ms <= now) {
                w = detail::slot::released(w);
                cursor_ = std::min(cursor_, i);
                ++freed;
            }
        }
        return freed;
    }

    void prefill(std::uint32_t n) {
        for (std::uint32_t i = 0; i < n; ++i) (void)reserve();
    }

    void reset() {
        std::lock_guard<std::mutex> lock(m_);
        std::fill(words_.begin(), words_.end(), 0);
        cursor_ = 0;
    }

private:
    std::span<const Address> addresses_;  // pre-derived, read-only
    std::mutex m_;                         // guards words_ and cursor_
    std::vector<std::uint64_t> words_;
    std::uint32_t cursor_ = 0;  // every index below is used or reserved
    Clock::time_point epoch_;
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
