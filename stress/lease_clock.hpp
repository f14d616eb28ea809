// The injected clock of S2 and S6 and its leases: ticks (in ms) that move
// only while no *held* reservation can expire, so a sweep with a TTL of
// kTtl ticks frees only what a holder abandoned. See s2.hpp for the argument.
//  - A holder registers at the current tick e before it reserves: increment
//    active[e % B], then re-read the clock; if it moved, unregister and retry.
//  - The clock moves c → c+1 only if active[(c + 1 - kTtl) % B] == 0 (read,
//    then CAS). Seq_cst on both sides (Dekker): a registration at e keeps
//    the clock at <= e + kTtl - 1 until it ends, and a reservation taken
//    under it has a stamp >= e, so the sweep (which frees stamps <= now -
//    kTtl) never frees it. Registrations live at kTtl epochs at most at once
//    (c + 1 - kTtl .. c), so B = 2·kTtl buckets never mix two of them.
#ifndef ADDRPOOL_STRESS_LEASE_CLOCK_HPP
#define ADDRPOOL_STRESS_LEASE_CLOCK_HPP

#include <array>
#include <atomic>
#include <cstdint>

namespace stress {

template <unsigned kTtl>
struct LeaseClock {
    static_assert(kTtl >= 1 && (kTtl & (kTtl - 1)) == 0, "a power of two, so the buckets wrap with the ticks");
    static constexpr std::uint64_t kTtlTicks = kTtl;
    static constexpr std::uint64_t kMask = 2 * kTtl - 1;  // B - 1
    std::atomic<std::uint64_t> ticks{0};
    std::array<std::atomic<std::uint32_t>, 2 * kTtl> active{};

    std::uint64_t now() const { return ticks.load(std::memory_order_seq_cst); }
    std::uint64_t begin_session() {
        for (;;) {
            const std::uint64_t e = ticks.load(std::memory_order_seq_cst);
            active[e & kMask].fetch_add(1, std::memory_order_seq_cst);
            if (ticks.load(std::memory_order_seq_cst) == e) return e;
            active[e & kMask].fetch_sub(1, std::memory_order_seq_cst);
        }
    }
    void end_session(std::uint64_t e) { active[e & kMask].fetch_sub(1, std::memory_order_seq_cst); }
    bool try_advance() {
        std::uint64_t c = ticks.load(std::memory_order_seq_cst);
        if (active[(c + 1 - kTtl) & kMask].load(std::memory_order_seq_cst) != 0) return false;
        return ticks.compare_exchange_strong(c, c + 1, std::memory_order_seq_cst);
    }
};

}  // namespace stress

#endif  // ADDRPOOL_STRESS_LEASE_CLOCK_HPP
