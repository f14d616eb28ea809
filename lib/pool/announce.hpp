// Internal: the sweep announcement protocol (C0)/(C2). Every operation on
// the announcement word is defined here and nowhere else; the sweep loop
// (sweep.hpp) and the hand-out loop (handout.hpp) call these functions, and
// the exhaustive model (stress/model/) runs them over its stepping atomic.
//
// The race it closes: a hand-out reads the clock, then claims a slot; a
// sweep that read a later clock reading and examines the slot after the
// claim would take the fresh reservation for an old one. So a sweep
// publishes its clock reading before it scans (C0), and a hand-out, after
// its claim, re-stamps its reservation while the latest announcement is
// later than its stamp (C2). With the seq_cst claim and re-stamp
// (slot.hpp (S1)/(S1')) and the sweep's seq_cst load (S9) this is a
// store-load (Dekker) pairing: either the sweep's scan does not see the old
// stamp, or the hand-out sees the announcement. Hence a reservation returned
// after a sweep announced itself is never freed by that sweep (for ttl >=
// one clock tick).
//
// Announcement word, 64 bits: the latest announced clock reading in the
// pool's milliseconds (a max; concurrent sweeps never lower it).
#ifndef ADDRPOOL_LIB_POOL_ANNOUNCE_HPP
#define ADDRPOOL_LIB_POOL_ANNOUNCE_HPP

#include "pool/slot.hpp"

#include <boost/atomic.hpp>

#include <cstdint>

namespace addrpool::detail::announce {

// (C0) Raises `sweep_now` to `now` (a max: concurrent sweeps never lower it).
template <class A>
void announce_sweep(A& sweep_now, std::uint64_t now) noexcept {
    std::uint64_t cur = sweep_now.load(boost::memory_order_relaxed);  // relaxed: the CAS re-validates
    // seq_cst: the write of the Dekker pair with (C2)'s load, before this
    // sweep's scan loads (S9).
    while (cur < now &&
           !sweep_now.compare_exchange_weak(cur, now, boost::memory_order_seq_cst, boost::memory_order_relaxed)) {
    }
}

// Policies for the model's mutants; the pool uses Checked.
struct Checked {
    static constexpr bool sweep_announces = true;  // false: mutant "the sweep does not announce itself" (no C0)
    static constexpr bool check = true;            // false: mutant "claim ignores the announcement" (no C2)
    static constexpr int max_rechecks = -1;        // >= 0: mutant "re-check at most this many times"
};

// (C2) After the claim of generation `g` of `word` stamped `stamp`: while a
// sweep has announced a reading later than the stamp, re-stamp with a fresh
// `clock()` (at least the reading it saw announced, so the loop ends even if
// the clock went back), and check again — a sweep may announce itself while
// we re-stamp, with a reading later than the new stamp (the exhaustive model
// found that schedule when the check ran once). False if a sweep freed the
// reservation first: the caller returned nothing and starts over. Loops only
// while new sweeps keep announcing later readings (lock-free).
template <class Policy = Checked, class A, class Clock>
bool settle_stamp(const A& sweep_now, A& word, std::uint32_t g, std::uint64_t& stamp, Clock&& clock) {
    if constexpr (!Policy::check) return true;
    for (int rechecks = 0;; ++rechecks) {
        if (Policy::max_rechecks >= 0 && rechecks > Policy::max_rechecks) return true;
        // seq_cst: the read of the Dekker pair with (C0), after our seq_cst
        // write of the word ((S1) or (S1')).
        const std::uint64_t seen = sweep_now.load(boost::memory_order_seq_cst);
        if (seen <= stamp) return true;
        // Never below what we saw announced, even with a clock that went back.
        const std::uint64_t reading = clock();
        const std::uint64_t fresh = reading > seen ? reading : seen;
        if (!slot::restamp(word, g, fresh)) return false;
        stamp = fresh;
    }
}

}  // namespace addrpool::detail::announce

#endif  // ADDRPOOL_LIB_POOL_ANNOUNCE_HPP
