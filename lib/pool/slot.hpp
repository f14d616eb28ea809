// Internal: the per-index state machine. Every legal transition of a slot
// word is defined here and nowhere else; the pool (lib/pool/*.cpp, and the
// hand-out and sweep loops in handout.hpp and sweep.hpp) calls these
// functions, and the exhaustive model (stress/model/) runs the very same code
// over a deterministic atomic type.
//
// Slot word, 64 bits (one boost::atomic<uint64_t>, always lock-free):
//
//   63                              24 23                 3   2   1 0
//   +---------------------------------+--------------------+---+-----+
//   |  stamp: reservation time, 40 b  |  gen: 21 bits      | G |state|
//   +---------------------------------+--------------------+---+-----+
//
//   state  0 unused, 1 reserved, 2 used (3 never occurs)
//   G      generated (materialized): visible to lookups and persisted
//   gen    bumped by every claim; the ticket of a reservation carries it
//          (make_ticket), so a stale ticket never matches a newer
//          reservation of the same index (until gen wraps after 2^21 claims)
//   stamp  milliseconds since the pool's epoch, rounded up, saturating;
//          meaningful only while state == reserved (0 otherwise)
//
// Transitions (who, atomic used):
//   claim          Unused → Reserved     hand-out        CAS (try_claim)
//   release        Reserved → Unused     holder / anyone CAS (release)
//   release ticket Reserved(g) → Unused  holder          CAS, only if gen == g
//   sweep          Reserved(w) → Unused  sweeper         CAS, only from the exact word w
//   mark used      any → Used, G set     sync side       CAS loop (mark_used)
//   materialize    G set, state kept     next_unused/generate  CAS loop
//   unmaterialize  Unused+G → Unused     prune_unused    CAS
//   reset          any → Unused, G kept  reset_usage     CAS loop
//
// Orderings: slot words carry no payload besides themselves, so mutual
// exclusion follows from the single modification order of each word. Every
// successful transition is nevertheless at least acq_rel and every load at
// least acquire, so that a thread observing a transition also observes what
// its author did before it (chiefly: a used mark (S5) is seen by a later
// snapshot). The claim (S1), the restamp (S1') and the sweep's load (S9) are
// seq_cst, for the store-load pairing with a sweep's announcement
// (announce.hpp (C0)/(C2)). On x86-64 none of this costs more than relaxed
// RMWs and loads.
//
// Tickets: a reservation's ticket is (tag << 21) | gen, where tag is 43 bits
// the pool derives from the index and a random nonce drawn when the pool
// object is made (pool_impl.hpp, ticket_tag). A release by ticket checks both
// halves: a ticket of another index, of another pool or of this pool before a
// reload carries another tag (equal by chance with probability 2^-43), and a
// ticket of an earlier reservation of the same index another generation.
#ifndef ADDRPOOL_LIB_SLOT_HPP
#define ADDRPOOL_LIB_SLOT_HPP

#include <boost/atomic.hpp>

#include <cstdint>
#include <optional>

namespace addrpool::detail::slot {

using Word = std::uint64_t;

inline constexpr Word kStateMask = 0x3;
inline constexpr Word kUnused = 0;
inline constexpr Word kReserved = 1;
inline constexpr Word kUsed = 2;
inline constexpr Word kGenerated = Word{1} << 2;
inline constexpr unsigned kGenShift = 3;
inline constexpr unsigned kGenBits = 21;
inline constexpr Word kGenMask = ((Word{1} << kGenBits) - 1) << kGenShift;
inline constexpr unsigned kStampShift = 24;
inline constexpr unsigned kStampBits = 40;
inline constexpr Word kStampMax = (Word{1} << kStampBits) - 1;
inline constexpr Word kStampMask = kStampMax << kStampShift;

constexpr Word state(Word w) noexcept { return w & kStateMask; }
constexpr bool is_unused(Word w) noexcept { return state(w) == kUnused; }
constexpr bool is_reserved(Word w) noexcept { return state(w) == kReserved; }
constexpr bool is_used(Word w) noexcept { return state(w) == kUsed; }
constexpr bool is_generated(Word w) noexcept { return (w & kGenerated) != 0; }
constexpr std::uint32_t gen(Word w) noexcept { return static_cast<std::uint32_t>((w & kGenMask) >> kGenShift); }
constexpr std::uint64_t stamp(Word w) noexcept { return (w & kStampMask) >> kStampShift; }
// "Known" to the pool: generated, or holding a reservation or a used mark.
constexpr bool is_known(Word w) noexcept { return is_generated(w) || !is_unused(w); }

inline constexpr unsigned kTagBits = 64 - kGenBits;  // 43
constexpr std::uint64_t make_ticket(std::uint32_t gen_value, std::uint64_t tag) noexcept {
    return (tag << kGenBits) | (gen_value & ((1u << kGenBits) - 1));
}
constexpr std::uint32_t ticket_gen(std::uint64_t ticket) noexcept {
    return static_cast<std::uint32_t>(ticket & ((1u << kGenBits) - 1));
}
constexpr std::uint64_t ticket_tag(std::uint64_t ticket) noexcept { return ticket >> kGenBits; }

// ---- pure transitions (word → word) ---------------------------------------

// Next generation number; 0 is never used, so ticket 0 never matches.
constexpr std::uint32_t next_gen(std::uint32_t g) noexcept {
    const std::uint32_t n = (g + 1) & ((1u << kGenBits) - 1);
    return n == 0 ? 1 : n;
}

constexpr Word claimed(Word unused_word, std::uint64_t stamp_ms, bool materialize) noexcept {
    const Word g = Word{next_gen(gen(unused_word))} << kGenShift;
    const Word s = (stamp_ms > kStampMax ? kStampMax : stamp_ms) << kStampShift;
    return s | g | (unused_word & kGenerated) | (materialize ? kGenerated : 0) | kReserved;
}
// Back to unused: generation and G kept, stamp cleared.
constexpr Word released(Word w) noexcept { return (w & (kGenMask | kGenerated)) | kUnused; }
constexpr Word marked_used(Word w) noexcept { return (w & kGenMask) | kGenerated | kUsed; }
constexpr Word materialized(Word w) noexcept { return w | kGenerated; }
// The word of an entry loaded from a pool file: generated, used or unused,
// never reserved (reservations are not durable), generation 0, no stamp.
constexpr Word loaded(bool used) noexcept { return kGenerated | (used ? kUsed : kUnused); }

// ---- atomic operations, generic over the atomic type ----------------------
//
// A is boost::atomic<Word> in the pool and a stepping atomic in the model
// checker; both accept boost::memory_order arguments.

// (S1) The hand-out's claim: Unused → Reserved. `expected` is the word the
// caller loaded and found unused; on failure it holds the current word.
// seq_cst on success: besides acq_rel's pairing with the transition it
// replaces ((S2)/(S3)/(S4)/(S8) made the slot unused) and with later acquire
// loads of this word, it takes part in the store-load (Dekker) pairing with a
// sweep's announcement (announce.hpp (C0)/(C2)): either the sweep's load (S9)
// misses this claim, or the claimer sees the announcement. Same instruction
// as acq_rel on x86-64.
template <class A>
bool try_claim(A& word, Word& expected, std::uint64_t stamp_ms, bool materialize) noexcept {
    return word.compare_exchange_strong(expected, claimed(expected, stamp_ms, materialize),
                                        boost::memory_order_seq_cst, boost::memory_order_acquire);
}

// The claim as a policy of the hand-out loop (handout.hpp): the pool uses
// this CAS; the model's "broken claim" mutant a load followed by a store.
struct CasClaim {
    template <class A>
    static bool claim(A& word, Word& expected, std::uint64_t stamp_ms, bool materialize) noexcept {
        return try_claim(word, expected, stamp_ms, materialize);
    }
};

// (S1') restamp: the claimer of generation `g` moves its own reservation's
// stamp to `stamp_ms` before returning it. False if the reservation is gone
// (freed by a sweep, released by index or marked used meanwhile).
template <class A>
bool restamp(A& word, std::uint32_t g, std::uint64_t stamp_ms) noexcept {
    Word w = word.load(boost::memory_order_acquire);  // acquire: pairs with (S1)
    const Word s = (stamp_ms > kStampMax ? kStampMax : stamp_ms) << kStampShift;
    while (is_reserved(w) && gen(w) == g) {
        // seq_cst: like (S1), the write side of the Dekker pairing with a
        // sweep (announce.hpp (C0)/(C2)); a sweep's CAS (S4) from the old word fails.
        if (word.compare_exchange_weak(w, (w & ~kStampMask) | s, boost::memory_order_seq_cst,
                                       boost::memory_order_acquire)) {
            return true;
        }
    }
    return false;
}

// (S2) release by index: Reserved → Unused. True if this call freed it.
// acq_rel: pairs with the claim (S1) it undoes and with the next claim (S1).
template <class A>
bool release(A& word) noexcept {
    Word w = word.load(boost::memory_order_acquire);  // acquire: pairs with (S1)
    while (is_reserved(w)) {
        if (word.compare_exchange_weak(w, released(w), boost::memory_order_acq_rel, boost::memory_order_acquire)) {
            return true;
        }
    }
    return false;
}

// (S3) release by ticket: as (S2) but only while the generation matches.
template <class A>
bool release_ticket(A& word, std::uint32_t ticket_generation) noexcept {
    Word w = word.load(boost::memory_order_acquire);  // acquire: pairs with (S1)
    while (is_reserved(w) && gen(w) == ticket_generation) {
        if (word.compare_exchange_weak(w, released(w), boost::memory_order_acq_rel, boost::memory_order_acquire)) {
            return true;
        }
    }
    return false;
}

// (S4) sweep: frees the reservation only if the word is still exactly
// `observed` (same generation, same stamp). A CAS failure means the slot was
// released, used or re-claimed meanwhile: the sweep never retries it, so a
// reservation taken while it runs is never freed by it.
template <class A>
bool sweep_one(A& word, Word observed) noexcept {
    if (!is_reserved(observed)) return false;
    return word.compare_exchange_strong(observed, released(observed), boost::memory_order_acq_rel,
                                        boost::memory_order_relaxed);  // relaxed: the failed value is discarded
}

// (S5) mark used: any → Used (and generated). True only on a change. With
// require_known, refuses (false) a slot that is neither generated nor
// reserved — decided on the same word the CAS replaces.
template <class A>
bool mark_used(A& word, bool require_known) noexcept {
    Word w = word.load(boost::memory_order_acquire);  // acquire: pairs with (S1)/(S5)
    while (!is_used(w)) {
        if (require_known && !is_known(w)) return false;
        // acq_rel like every transition; a used mark that completed before a
        // snapshot began is in it by happens-before plus coherence of this word.
        if (word.compare_exchange_weak(w, marked_used(w), boost::memory_order_acq_rel, boost::memory_order_acquire)) {
            return true;
        }
    }
    return false;
}

// (S6) materialize: set G, keep the state. True if this call set it.
// If `only_if_unused`, gives up (false) as soon as the slot is not unused.
template <class A>
bool materialize(A& word, bool only_if_unused) noexcept {
    Word w = word.load(boost::memory_order_acquire);  // acquire: pairs with (S1)/(S2)
    while (!is_generated(w)) {
        if (only_if_unused && !is_unused(w)) return false;
        if (word.compare_exchange_weak(w, materialized(w), boost::memory_order_acq_rel, boost::memory_order_acquire)) {
            return true;
        }
    }
    return false;
}

// (S7) unmaterialize: Unused+G → Unused. Only from unused, never from
// reserved or used.
template <class A>
bool unmaterialize_unused(A& word) noexcept {
    Word w = word.load(boost::memory_order_acquire);  // acquire: pairs with (S1)/(S5)
    while (is_unused(w) && is_generated(w)) {
        if (word.compare_exchange_weak(w, w & ~kGenerated, boost::memory_order_acq_rel, boost::memory_order_acquire)) {
            return true;
        }
    }
    return false;
}

// (S8) reset: any → Unused, G and generation kept. True if it changed.
template <class A>
bool reset(A& word) noexcept {
    Word w = word.load(boost::memory_order_acquire);  // acquire: pairs with (S1)/(S5)
    while (!is_unused(w)) {
        if (word.compare_exchange_weak(w, released(w), boost::memory_order_acq_rel, boost::memory_order_acquire)) {
            return true;
        }
    }
    return false;
}

// Loads for queries. acquire: pairs with every transition above.
template <class A>
Word load(const A& word) noexcept {
    return word.load(boost::memory_order_acquire);
}

// (S9) The sweep's load: seq_cst, for the Dekker pairing described at (S1).
template <class A>
Word load_for_sweep(const A& word) noexcept {
    return word.load(boost::memory_order_seq_cst);
}

static_assert(boost::atomic<Word>::is_always_lock_free, "slot words must be lock-free 64-bit atomics");
static_assert(sizeof(boost::atomic<Word>) == 8, "slot words must stay 64 bits (TSan cannot see 16-byte atomics)");

}  // namespace addrpool::detail::slot

#endif  // ADDRPOOL_LIB_SLOT_HPP
