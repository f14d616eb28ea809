// Internal: the used-prefix protocol. A wallet's lowest indices are mostly
// used for good; the sweep skips that prefix instead of reading it on every
// run. Every operation on the prefix word is defined here and nowhere else;
// the sweep loop (sweep.hpp) and reset_usage call these functions, and the
// exhaustive model (stress/model/) runs them over its stepping atomic.
//
// Prefix word, 64 bits:
//
//   63                 32 31                  0
//   +--------------------+--------------------+
//   |  epoch             |  bound             |
//   +--------------------+--------------------+
//
//   bound  every index below it is used (a lower bound the sweep raises)
//   epoch  bumped by every reset_usage, which makes used indices unused
//
// Invariant (U): outside a running reset_usage, every slot below bound is
// used. Used is terminal except for reset_usage, so a sweep that saw slot i
// used may raise the bound past i — but only within the epoch it read: a
// reset since then may have freed i.
//
// Operations:
//   (P1) start: the word a sweep begins from (acquire).
//   (P2) raise: bound -> to, by CAS, only while the epoch is the one the
//        sweep read at (P1) and the bound is lower.
//   (P3) restart: after reset_usage freed its slots: epoch + 1, bound 0
//        (release).
//
// Orderings: (P3) is a release and (P1) an acquire. A sweep that reads the
// new epoch therefore also sees every slot the reset freed before (P3), and
// cannot raise the new epoch's bound over one of them on the strength of a
// stale Used word. A sweep that read the old epoch fails its (P2) CAS once
// (P3) has happened. (With a relaxed epoch, as in an earlier version, a
// sweep on a weakly ordered CPU could see the new epoch yet an old Used
// word, raise the bound over an index the reset had just freed, and no
// sweep would ever look at that index again.) The exhaustive model checks
// the protocol's logic under every interleaving; its mutant that bumps the
// epoch before freeing the slots shows the schedule the acquire/release
// pairing excludes on real hardware.
#ifndef ADDRPOOL_LIB_POOL_USED_PREFIX_HPP
#define ADDRPOOL_LIB_POOL_USED_PREFIX_HPP

#include <boost/atomic.hpp>

#include <cstdint>

namespace addrpool::detail::used_prefix {

using Word = std::uint64_t;

constexpr std::uint32_t bound(Word p) noexcept { return static_cast<std::uint32_t>(p); }
constexpr std::uint32_t epoch(Word p) noexcept { return static_cast<std::uint32_t>(p >> 32); }
constexpr Word make(std::uint32_t epoch_value, std::uint32_t bound_value) noexcept {
    return Word{epoch_value} << 32 | bound_value;
}

// Policies: the pool uses Sound; the model's mutants switch one rule off.
struct Sound {
    static constexpr bool raise_checks_epoch = true;  // (P2) only within the epoch read at (P1)
    static constexpr bool restart_bumps_epoch = true; // (P3) a new epoch, not just bound 0
};

// (P1) The prefix word a sweep starts from; it may skip every index below
// bound(result).
template <class A>
Word start(const A& prefix) noexcept {
    // acquire: pairs with (P3): a sweep that reads a reset's epoch sees the
    // slots that reset freed.
    return prefix.load(boost::memory_order_acquire);
}

// (P2) After the sweep that started from `from` saw every slot below `to`
// used: raise the bound to `to`, within the same epoch only.
template <class P = Sound, class A>
void raise(A& prefix, Word from, std::uint32_t to) noexcept {
    Word cur = prefix.load(boost::memory_order_relaxed);  // relaxed: the CAS re-validates
    while ((!P::raise_checks_epoch || epoch(cur) == epoch(from)) && bound(cur) < to) {
        // relaxed: the bound publishes no data (a reader only skips slots it
        // would find used); the epoch check is on the value the CAS replaces.
        if (prefix.compare_exchange_weak(cur, make(epoch(cur), to), boost::memory_order_relaxed,
                                         boost::memory_order_relaxed)) {
            return;
        }
    }
}

// (P3) After reset_usage made its slots unused: a new epoch with bound 0.
template <class P = Sound, class A>
void restart(A& prefix) noexcept {
    Word cur = prefix.load(boost::memory_order_relaxed);  // relaxed: the CAS re-validates
    // release: pairs with (P1), see the top.
    while (!prefix.compare_exchange_weak(cur, make(epoch(cur) + (P::restart_bumps_epoch ? 1 : 0), 0),
                                         boost::memory_order_release, boost::memory_order_relaxed)) {
    }
}

}  // namespace addrpool::detail::used_prefix

#endif  // ADDRPOOL_LIB_POOL_USED_PREFIX_HPP
