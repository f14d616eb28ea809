// Internal: the cursor hint protocol. Every operation on the hint is defined
// here and nowhere else; pool.cpp calls these functions, and the exhaustive
// model (stress/model.cpp) runs the very same code over its deterministic
// atomic type, together with the slot transitions of slot.hpp.
//
// Hint word, 64 bits (one boost::atomic<uint64_t>):
//
//   63                 32 31                  0
//   +--------------------+--------------------+
//   |  version           |  index             |
//   +--------------------+--------------------+
//
//   index    every slot below it is taken (reserved or used), except slots
//            whose un-taking transition has not yet reached lower() — see (N)
//   version  bumped by every lower(): after every release, and once per sweep
//            or reset for all the slots it made unused; wraps mod 2^32
//
// The no-holes argument (N): a hand-out scans upward from index(start()).
// It may skip a slot below that index only if the slot was taken when the
// hint was written. A slot that became unused since then was followed by a
// lower() to at most its index, which (a) is ordered before any start() that
// reads it (H2 → H1), so later hand-outs scan from at or below that slot, and
// (b) bumped the version, so a hand-out that read the hint before the lower()
// cannot move it back up past the freed slot (H3 moves only a hint whose
// version is still the one it started from). Hence once a release or sweep
// has returned, the next hand-out that starts finds the slot it freed.
//
// Operations:
//   start    (H1) acquire load: where a hand-out begins scanning
//   advance  (H3) after claiming slot i: index → i + 1, only if the version
//            is unchanged since start() and the index is still below i + 1
//   lower    (H2) after making slot i unused: index → min(index, i), version + 1
#ifndef ADDRPOOL_LIB_HINT_HPP
#define ADDRPOOL_LIB_HINT_HPP

#include <boost/atomic.hpp>

#include <algorithm>
#include <cstdint>

namespace addrpool::detail::hint {

using Word = std::uint64_t;

constexpr std::uint32_t index(Word h) noexcept { return static_cast<std::uint32_t>(h); }
constexpr std::uint32_t version(Word h) noexcept { return static_cast<std::uint32_t>(h >> 32); }
constexpr Word make(std::uint32_t version, std::uint32_t index) noexcept { return Word{version} << 32 | index; }

// Templates over the atomic type so that the model can step them.

// (H1) The word a hand-out starts from; scan from index(result).
template <class Atomic>
Word start(const Atomic& hint) noexcept {
    // acquire: pairs with (H2)/(H3): having read a hint, a hand-out also sees
    // the slot transitions its writer made before publishing it. (H3 is a
    // read-modify-write, so it continues the release sequence of an earlier
    // H2: an H1 that reads an H3 value still synchronizes with that H2.)
    return hint.load(boost::memory_order_acquire);
}

// (H3) After a hand-out that started from `from` claimed slot `claimed`:
// move the index past it, but only while the version is the one it started
// from — then no slot became unused since its scan began, so every slot
// below claimed + 1 is still taken.
template <class Atomic>
void advance(Atomic& hint, Word from, std::uint32_t claimed) noexcept {
    const std::uint32_t past = claimed + 1;
    // relaxed: only decides whether a CAS is needed; the CAS re-validates.
    Word cur = hint.load(boost::memory_order_relaxed);
    // acq_rel: the release half pairs with (H1) of later hand-outs. The
    // acquire half pairs with the (H2)/(H3) whose value it replaces; nothing
    // here relies on it (the release sequence through this RMW already
    // carries an earlier H2 to later H1s); same instruction on x86-64.
    while (version(cur) == version(from) && index(cur) < past &&
           !hint.compare_exchange_weak(cur, make(version(cur), past), boost::memory_order_acq_rel,
                                       boost::memory_order_relaxed)) {
    }
}

// (H2) After a transition made slot i unused (release, sweep, reset).
template <class Atomic>
void lower(Atomic& hint, std::uint32_t i) noexcept {
    Word cur = hint.load(boost::memory_order_relaxed);  // relaxed: the CAS re-validates
    // acq_rel: the release half pairs with (H1): a hand-out that reads this
    // hint also sees the slot transition to unused sequenced before this
    // call. The acquire half (pairing with the H2/H3 it replaces) is not
    // relied on. The version bump makes any hand-out that started earlier
    // fail its forward move (H3), so the freed slot cannot be skipped over.
    while (!hint.compare_exchange_weak(cur, make(version(cur) + 1, std::min(index(cur), i)),
                                       boost::memory_order_acq_rel, boost::memory_order_relaxed)) {
    }
}

}  // namespace addrpool::detail::hint

#endif  // ADDRPOOL_LIB_HINT_HPP
