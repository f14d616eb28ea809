// Internal: the sweep loop — how the protocols compose into "free every
// reservation at least ttl old". The pool (pool.cpp) and the exhaustive
// model (stress/model/) instantiate this very template, each with its own
// environment.
//
// One sweep, with `now` read once by the caller:
//   1. announce `now` (C0) before looking at any slot;
//   2. start above the used prefix (P1) and walk every existing slot in
//      index order, loading each with (S9);
//   3. while the slots seen are used and contiguous from the prefix's
//      bound, raise the bound (P2);
//   4. for a reserved word whose stamp + ttl <= now, one CAS from exactly
//      that word (S4) — never retried, so a reservation taken or re-taken
//      behind the sweep's back is never freed by it — and, right after a
//      success, mark the index free (F1), so it is findable before the
//      sweep moves on.
//
// Environment (Env) interface:
//   types   Geometry, FreePolicy, PrefixPolicy, AnnouncePolicy, Store
//   Store& store(); A& sweep_now(); A& prefix();
//   template <class F> void for_each_slot(std::uint32_t from, F&& visit):
//       calls visit(i, word) for every existing slot i >= from, increasing
//   void on_announced(); void on_freed(std::uint32_t i, slot::Word freed);
//                                     observation hooks for the model
#ifndef ADDRPOOL_LIB_POOL_SWEEP_HPP
#define ADDRPOOL_LIB_POOL_SWEEP_HPP

#include "pool/announce.hpp"
#include "pool/free_index.hpp"
#include "pool/slot.hpp"
#include "pool/used_prefix.hpp"

#include <cstddef>
#include <cstdint>

namespace addrpool::detail::sweep {

template <class Env>
std::size_t run(Env& env, std::uint64_t now, std::uint64_t ttl_ms) {
    using G = typename Env::Geometry;
    using FP = typename Env::FreePolicy;
    using PP = typename Env::PrefixPolicy;
    using AP = typename Env::AnnouncePolicy;
    if constexpr (AP::sweep_announces) announce::announce_sweep(env.sweep_now(), now);  // (C0): before scanning
    env.on_announced();
    const used_prefix::Word from = used_prefix::start(env.prefix());  // (P1)
    // The run of used slots from the prefix's bound: raised once, when it ends.
    std::uint32_t contiguous = used_prefix::bound(from);
    bool in_run = true;
    const auto end_run = [&] {
        if (in_run && contiguous > used_prefix::bound(from)) used_prefix::raise<PP>(env.prefix(), from, contiguous);  // (P2)
        in_run = false;
    };
    std::size_t freed = 0;
    env.for_each_slot(used_prefix::bound(from), [&](std::uint32_t i, auto& word) {
        const slot::Word w = slot::load_for_sweep(word);  // (S9)
        if (in_run) {
            if (i == contiguous && slot::is_used(w)) {
                contiguous = i + 1;
                return;
            }
            end_run();
        }
        if (!slot::is_reserved(w) || slot::stamp(w) + ttl_ms > now) return;
        if (slot::sweep_one(word, w)) {  // (S4)
            ++freed;
            free_index::mark_free<G, FP>(env.store(), i);  // (F1)
            env.on_freed(i, w);
        }
    });
    end_run();
    return freed;
}

}  // namespace addrpool::detail::sweep

#endif  // ADDRPOOL_LIB_POOL_SWEEP_HPP
