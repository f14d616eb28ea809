// The ownership checker: a shadow array of owner ids, one per index, and a
// small ring of recent events per index for the violation report.
//
// Every shadow access is relaxed on purpose: the checker must not add
// happens-before edges between pool users, or it would hide from
// ThreadSanitizer an ordering the pool forgot. Detection needs only the
// single modification order of each shadow word, plus the pool's own
// ordering: a holder clears its shadow *before* its release, the release CAS
// synchronizes-with the next claim of that slot, so the next holder's shadow
// CAS can never read the old owner — unless the pool lost that edge, which is
// then reported too (a holder seen still holding).
#ifndef ADDRPOOL_STRESS_CHECKER_HPP
#define ADDRPOOL_STRESS_CHECKER_HPP

#include "common.hpp"

#include "pool/slot.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cinttypes>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

namespace stress {

enum class Ev : std::uint8_t {
    reserve = 1,     // successful hand-out (gen = the ticket's generation)
    give_up = 2,     // holder cleared its shadow, about to release
    release_ix = 3,  // release by index returned
    release_tk = 4,  // release by ticket returned
    mark = 5,        // marked used
    abandon = 6,     // left reserved for the sweeper
    takeover = 7,    // took an abandoned, provably expirable reservation
    stale = 8,       // late second release by ticket
    clash = 9,       // the duplicate itself
};

inline const char* ev_name(Ev e) {
    switch (e) {
        case Ev::reserve: return "reserve";
        case Ev::give_up: return "give-up";
        case Ev::release_ix: return "release(index)";
        case Ev::release_tk: return "release(ticket)";
        case Ev::mark: return "mark-used";
        case Ev::abandon: return "abandon";
        case Ev::takeover: return "take-over-abandoned";
        case Ev::stale: return "stale-release(ticket)";
        case Ev::clash: return "CLASH";
    }
    return "?";
}

// Owner ids in the shadow word.
inline constexpr std::uint64_t kFree = 0;
inline constexpr std::uint64_t kUsedMark = ~std::uint64_t{0};
inline constexpr std::uint64_t kAbandonedBit = std::uint64_t{1} << 62;
// A ticket's generation (lib/pool/slot.hpp: the low kGenBits bits).
inline std::uint32_t ticket_gen(std::uint64_t ticket) { return addrpool::detail::slot::ticket_gen(ticket); }
// A holder: (thread + 1) << 32 | ticket generation.
inline std::uint64_t holder_id(unsigned thread, std::uint64_t ticket) {
    return (std::uint64_t{thread} + 1) << 32 | ticket_gen(ticket);
}
inline std::uint64_t abandoned_id(std::uint64_t epoch) { return kAbandonedBit | epoch; }

class Checker {
public:
    explicit Checker(std::size_t capacity)
        : capacity_(capacity),
          owner_(new std::atomic<std::uint64_t>[capacity]),
          ledger_(new std::atomic<std::uint32_t>[capacity]),
          rings_(new Ring[capacity]) {
        for (std::size_t i = 0; i < capacity; ++i) {
            owner_[i].store(kFree, std::memory_order_relaxed);
            ledger_[i].store(0, std::memory_order_relaxed);
        }
    }

    std::size_t capacity() const { return capacity_; }
    bool in_range(std::uint32_t i) const { return i < capacity_; }

    // Packs (global sequence, event, thread, ticket generation) into one word,
    // so a ring entry is written with one relaxed store.
    void note(std::uint32_t i, Ev e, unsigned thread, std::uint64_t ticket) {
        if (i >= capacity_) return;
        const std::uint64_t seq = seq_.fetch_add(1, std::memory_order_relaxed) & 0xffffffu;
        const std::uint64_t v = seq << 40 | std::uint64_t(e) << 32 | std::uint64_t(thread & 0xff) << 24 |
                                ticket_gen(ticket);
        Ring& r = rings_[i];
        const unsigned k = r.next.fetch_add(1, std::memory_order_relaxed) % kRing;
        r.e[k].store(v, std::memory_order_relaxed);
    }

    // After a successful hand-out of i: claim the shadow. Returns the owner
    // found (kFree on success). `may_take_abandoned(epoch)` decides whether an
    // abandoned reservation could have expired by now (see S2).
    template <class MayTake>
    std::uint64_t claim(std::uint32_t i, std::uint64_t me, MayTake may_take_abandoned) {
        std::uint64_t cur = kFree;
        for (;;) {
            if (owner_[i].compare_exchange_strong(cur, me, std::memory_order_relaxed)) return kFree;
            if ((cur & kAbandonedBit) && cur != kUsedMark && may_take_abandoned(cur & ~kAbandonedBit)) continue;
            return cur;
        }
    }
    // The ticket ledger, called on every successful hand-out of i before
    // claim(): true iff `gen` is newer than every generation of i handed out
    // so far. A pool gives each claim of an index a fresh, larger generation
    // (lib/slot.hpp next_gen; no wrap inside one checker's lifetime), so the
    // same ticket handed out twice is a duplicate even when the two holders
    // never overlap — which the shadow alone can miss (a fast holder may give
    // its shadow up before the other one claims it). Relaxed is enough: in a
    // correct pool the record of generation g happens-before the claim of
    // g+1, so this RMW reads g or later. Release path: record → give-up →
    // the release CAS → the next claim CAS. Sweep path (an abandoned
    // reservation): record → session end → the clock advance that reads it
    // → the sweeper's clock read → its sweep CAS → the next claim CAS; that
    // chain runs through S2's seq_cst lease clock, which must stay seq_cst
    // for this argument (and for the take-over rule). Catching the same
    // generation twice needs no ordering at all. Generations do not wrap
    // within one checker (see the static_assert in s2.hpp).
    bool first_handout(std::uint32_t i, std::uint32_t gen) {
        std::uint32_t cur = ledger_[i].load(std::memory_order_relaxed);
        while (cur < gen && !ledger_[i].compare_exchange_weak(cur, gen, std::memory_order_relaxed)) {
        }
        return cur < gen;
    }
    std::uint32_t last_handout(std::uint32_t i) const { return ledger_[i].load(std::memory_order_relaxed); }

    // Holder gives up i (before releasing it or marking it used). False if
    // it no longer owned it — itself a violation.
    bool give_up(std::uint32_t i, std::uint64_t me, std::uint64_t to = kFree) {
        std::uint64_t cur = me;
        return owner_[i].compare_exchange_strong(cur, to, std::memory_order_relaxed);
    }
    std::uint64_t owner(std::uint32_t i) const { return owner_[i].load(std::memory_order_relaxed); }

    static std::string describe_owner(std::uint64_t o) {
        std::ostringstream s;
        if (o == kFree) s << "nobody";
        else if (o == kUsedMark) s << "USED (marked used earlier)";
        else if (o & kAbandonedBit) s << "an abandoned reservation taken at clock epoch " << (o & ~kAbandonedBit);
        else s << "thread " << ((o >> 32) - 1) << " ticket gen " << (o & 0xffffffffu);
        return s.str();
    }

    // The recent events of index i, oldest first.
    std::string history(std::uint32_t i) const {
        if (i >= capacity_) return "  (index beyond the checker's range)\n";
        std::array<std::uint64_t, kRing> v{};
        for (unsigned k = 0; k < kRing; ++k) v[k] = rings_[i].e[k].load(std::memory_order_relaxed);
        std::sort(v.begin(), v.end());
        std::ostringstream s;
        for (std::uint64_t x : v) {
            if (x == 0) continue;
            s << "    #" << (x >> 40) << " thread " << ((x >> 24) & 0xff) << " " << ev_name(Ev((x >> 32) & 0xff))
              << " gen " << (x & 0x1fffff) << "\n";
        }
        return s.str();
    }

private:
    static constexpr unsigned kRing = 8;
    struct Ring {
        std::atomic<unsigned> next{0};
        std::array<std::atomic<std::uint64_t>, kRing> e{};
    };
    std::size_t capacity_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> owner_;
    std::unique_ptr<std::atomic<std::uint32_t>[]> ledger_;  // highest generation handed out, per index
    std::unique_ptr<Ring[]> rings_;
    std::atomic<std::uint64_t> seq_{1};
};

}  // namespace stress

#endif  // ADDRPOOL_STRESS_CHECKER_HPP
