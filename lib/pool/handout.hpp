// Internal: the hand-out loop — how the protocols compose into "reserve the
// lowest free index". The pool (pool.cpp) and the exhaustive model
// (stress/model/) instantiate this very template, each with its own
// environment; the atomic type, the clock and the mutants are the
// environment's.
//
// One hand-out:
//   1. read the clock once (the stamp; read again only after a derivation
//      or a wait, which the environment's prepare() reports);
//   2. read the frontier (F0), look for the lowest free bit below it (F2),
//      then read the spare (F8);
//   3. the lowest of the three: the spare's index j (below the bit and the
//      frontier): check the gap bound, take j's token (F8); or a free bit
//      b: check the gap bound, take b's token (F3); or, neither: check the
//      bound and the index range, let the environment make the frontier
//      index f claimable (derive it: the slow path), take f's token (F4);
//   4. claim the slot from Unused (S1); if it is taken (used, or reserved
//      through restore_reservation) the token is spent and we start over;
//   5. settle the stamp against sweep announcements (C2); a sweep that
//      freed the claim first sends us back to 2 (we returned nothing). The
//      clock may be read again here: if it throws, the claim is released
//      before the exception leaves (a failed hand-out holds nothing).
// Step 4's CAS is what decides: a token is only the right to try it, and
// a stale entry can give two hand-outs a token for one index
// (free_index.hpp, "Stale entries"); the claim races with those and with
// the transitions that make a slot taken (mark used, restore) or — after
// the claim — free it again.
//
// Environment (Env) interface:
//   types   Geometry, FreePolicy, AnnouncePolicy, ClaimPolicy (slot::CasClaim), Store
//   Store& store();                   the free-index words (free_index.hpp)
//   A& slot(std::uint32_t i);         slot i's word; exists for every index
//                                     below the frontier and for one that
//                                     prepare() made ready
//   A& sweep_now();                   the announcement word (announce.hpp)
//   std::uint64_t now_ms();           the clock for stamps, in ms, rounded up
//   std::uint64_t index_limit();      one past the highest index (2^31)
//   bool within_gap(std::uint32_t i); false: GapPolicy::error refuses i
//   Result<bool> prepare(std::uint32_t f);  make frontier index f claimable:
//                                     true = ready now, false = it took time
//                                     (derived, waited): re-read the clock
//                                     and look again; an error fails the
//                                     hand-out with nothing reserved
//   Error gap_error(std::uint32_t i); Error full_error();
//   void candidate(std::uint32_t b, const Path& where);
//                                     the bitmap found b (at `where`, its
//                                     positions) and the take (F3) comes
//                                     next: a hint with no effect on the
//                                     protocol (the pool finds b's slot
//                                     through `where` and starts loading
//                                     its hash)
//   void on_token_spent(std::uint32_t i, bool claimed);
//   void on_lost(std::uint32_t i, std::uint32_t gen);
//                                     observation hooks for the model (empty
//                                     inline functions in the pool)
#ifndef ADDRPOOL_LIB_POOL_HANDOUT_HPP
#define ADDRPOOL_LIB_POOL_HANDOUT_HPP

#include <addrpool/result.hpp>

#include "pool/announce.hpp"
#include "pool/free_index.hpp"
#include "pool/slot.hpp"

#include <cstdint>

namespace addrpool::detail::handout {

struct Claimed {
    std::uint32_t index;
    std::uint32_t gen;    // the reservation's generation (its ticket's low bits)
    std::uint64_t stamp;  // its stamp, after any re-stamp (C2)
};

// `first_frontier`: the frontier (F0) the caller read at the start of this
// hand-out, used by the first round instead of a fresh read; null: read it.
template <class Env>
Result<Claimed> claim(Env& env, bool add_to_state, const std::uint64_t* first_frontier = nullptr) {
    using G = typename Env::Geometry;
    using FP = typename Env::FreePolicy;
    using AP = typename Env::AnnouncePolicy;
    using CP = typename Env::ClaimPolicy;
    std::uint64_t stamp = env.now_ms();
    for (bool first = true;; first = false) {
        std::uint64_t f = first && first_frontier != nullptr ? *first_frontier : free_index::frontier(env.store());  // (F0)
        decltype(env.store().at(0)) where;  // b's positions: lowest() fills them when it finds b
        const std::uint32_t b = free_index::lowest<G, FP>(env.store(), f, where);  // (F2)
        const std::uint64_t sp = free_index::spare<FP>(env.store());  // (F8): 0 or j + 1
        std::uint32_t i;
        if (free_index::spare_is_lowest<FP>(sp, b, f)) {
            const auto j = static_cast<std::uint32_t>(sp - 1);
            if (!env.within_gap(j)) return env.gap_error(j);
            if (!free_index::take_spare(env.store(), sp)) continue;  // (F8) taken, or another index parked
            i = j;
        } else if (b != free_index::kNone) {
            if (!env.within_gap(b)) return env.gap_error(b);
            env.candidate(b, where);  // a hint before the take: b is most likely ours
            if (!free_index::take<G, FP>(env.store(), b, where)) continue;  // (F3) another hand-out took it
            i = b;
        } else {
            if (f >= env.index_limit()) return env.full_error();
            const auto fi = static_cast<std::uint32_t>(f);
            if (!env.within_gap(fi)) return env.gap_error(fi);
            auto ready = env.prepare(fi);
            if (!ready) return std::move(ready).error();
            if (!*ready) {
                stamp = env.now_ms();  // derived or waited: the hand-out starts now
                continue;
            }
            if (!free_index::take_frontier(env.store(), f)) continue;  // (F4) another hand-out took it
            i = fi;
        }
        auto& word = env.slot(i);
        // acquire (slot::load): the token's RMW read the write that made i's
        // entry, so this load sees the transition that freed i, or a later
        // one (free_index.hpp, "A token holder sees the slot free").
        slot::Word w = slot::load(word);
        bool claimed = false;
        while (slot::is_unused(w)) {  // a failed CAS that leaves it unused changed only G: retry
            if (CP::claim(word, w, stamp, add_to_state)) {  // (S1)
                claimed = true;
                break;
            }
        }
        env.on_token_spent(i, claimed);
        if (!claimed) continue;  // taken meanwhile: the slot is not free, the token is spent
        // try_claim left `w` at the unused word it replaced.
        const std::uint32_t g = slot::next_gen(slot::gen(w));
        // (C2): a sweep that announced a reading after our stamp might take
        // our reservation for an old one: re-stamp it before returning it.
        bool settled;
        try {
            settled = announce::settle_stamp<AP>(env.sweep_now(), word, g, stamp, [&env] { return env.now_ms(); });
        } catch (...) {
            // The clock threw after the claim: undo it, so that a failed
            // hand-out holds nothing (S3, then (F1) as every release does).
            if (slot::release_ticket(word, g)) free_index::mark_free<G, FP>(env.store(), i);
            throw;
        }
        if (!settled) {
            env.on_lost(i, g);
            continue;  // a sweep freed it first (and marked it free): we returned nothing
        }
        return Claimed{i, g, stamp};
    }
}

}  // namespace addrpool::detail::handout

#endif  // ADDRPOOL_LIB_POOL_HANDOUT_HPP
