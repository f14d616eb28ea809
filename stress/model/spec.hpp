// addrpool-model: what an execution must satisfy — the specification the
// explorer checks every execution against.
//
//  - Linearizability (Wing & Gong search over the real-time order) against
//    the sequential slot specification: a claim takes an unused slot and
//    bumps its generation; release by index frees only a reserved slot;
//    release by ticket only while the generation matches (a late second
//    release never frees another holder); the sweep frees, slot by slot,
//    only reservations whose stamp + ttl <= now; mark used turns any known
//    slot used; reset turns any slot unused; restore reserves exactly its
//    slot if it is unused. The linearization must end in the actual final
//    slot words.
//  - No holes: a claim that returns slot i (or "full") saw every lower slot
//    unavailable at some step inside its own interval — taken (reserved or
//    used), or held as a token by another hand-out between its token RMW and
//    its claim CAS (handout.hpp) — unless the release, sweep or reset that
//    last freed that slot had not returned when the claim began (its free
//    bits were still being set: free_index.hpp (I)).
//  - At rest (every thread done): every unused slot below the frontier has
//    its free bit and every summary bit above it set, up to a root that
//    covers it, or is the index parked in the spare (free_index.hpp (I));
//    every slot below the used prefix's bound is used (used_prefix.hpp (U)).
//  - Sweep announcement: a sweep never frees a reservation whose claim
//    checked for announcements (C2) after the sweep announced itself
//    (announce.hpp). (A claim that checked before the announcement claimed
//    before it, with a stamp read earlier still: if that stamp is ttl old at
//    the sweep's reading, the sweep may free it — a hand-out stalled for a
//    TTL between its clock read and its return is an expired hand-out.)
#ifndef ADDRPOOL_STRESS_MODEL_SPEC_HPP
#define ADDRPOOL_STRESS_MODEL_SPEC_HPP

#include "pool/slot.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace model {

using Word = addrpool::detail::slot::Word;
inline constexpr int kMaxSlots = 4;
// Without a running clock: every claim is stamped kNow and the sweep reads
// kNow with a ttl of kTtl, so only stamp-0 (pre-existing) reservations expire.
inline constexpr std::uint64_t kNow = 10;
inline constexpr std::uint64_t kTtl = 10;
// With a running clock (the step count) and a TTL of one step, a sweep may
// free any reservation stamped before its reading — including one whose claim
// is still running, which is the race the announcement closes.
inline constexpr std::uint64_t kAnnounceTtl = 1;

enum class Op { claim, release_index, release_ticket, stale_release, release_slot, sweep, mark_held, mark_index, reset, restore };

struct Instr {
    Op op;
    int arg = 0;  // the holding number (k-th successful claim of this thread) or a slot index
};

struct Config {
    const char* name;
    bool announce;    // running clock, sweep announcement (C0) and claim re-stamp (C2)
    bool exhaustive;  // false: too many interleavings for every one; preemption-bounded or random
    int slots;
    std::vector<Word> initial;
    std::uint32_t frontier;  // initial frontier; its unused slots below start with their free bits set
    std::vector<std::vector<Instr>> threads;
    // The spare (free_index.hpp (F7)/(F8)) starts empty: releases park. Else
    // it starts holding kSpareHeld, an index above every slot and the
    // frontier (so never the lowest): releases find it taken and set free
    // bits, the path the configurations about the bitmap need.
    bool spare_free;
};

// The index the spare holds in a configuration whose spare is not free.
inline constexpr Word kSpareHeld = kMaxSlots;

// One completed operation (a sweep contributes one entry per slot it examined).
struct Event {
    Op op;
    int thread;
    int slot;            // -1 for a claim that found nothing
    std::uint32_t gen;   // claim / restore: the generation it took; release_ticket, sweep: the one it names / freed
    bool result;
    int first, last;     // steps of its first and last atomic operation
    bool lost = false;   // claim: a sweep freed it before it returned; it started over
    int announced = -1;  // sweep: the step of its announcement (C0)
    int settled = -1;    // the last step before its response: a claim's last check of the announcement (C2)
    std::uint64_t stamp = 0;  // claim: its stamp (after any re-stamp)
    std::uint64_t at = 0;     // sweep: its clock reading
};

// A hand-out's token (free_index.hpp (F3)/(F4)): held over steps [from, to].
struct Token {
    int thread, slot, from, to;
};

// The free-index words of the model's geometry (world.hpp).
struct FreeWords {
    std::array<Word, kMaxSlots> leaf{};
    std::array<Word, 2> l1{};
    Word l2 = 0, root = 0, frontier = 0;
    Word spare = 0;  // 0, or a parked index + 1
};

struct Execution {
    std::vector<Event> history;
    std::vector<Token> tokens;
    std::vector<std::array<Word, kMaxSlots>> states;  // slot words after each step
    std::array<Word, kMaxSlots> final_words{};
    FreeWords final_free;
    Word final_prefix = 0;
};

// Empty if the execution satisfies the specification; else what it violates.
std::string check(const Execution& x, const Config& c);
// The schedule, the history and the final state, for a report.
std::string describe(const Execution& x, const std::vector<int>& choices, const Config& c);

}  // namespace model

#endif  // ADDRPOOL_STRESS_MODEL_SPEC_HPP
