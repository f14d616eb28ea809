// addrpool-model: the configurations — tiny programs whose every
// interleaving (or every one with few preemptions, or seeded random ones)
// the explorer runs. Interleavings grow as binomials in the number of atomic
// steps, and each pool operation is several steps (a claim: frontier, root,
// root word, token, slot load, claim CAS; a release: the slot CAS, then the
// free bits level by level), so the exhaustive programs are short.
#include "configs.hpp"

#include "pool/slot.hpp"

namespace model {

std::vector<Config> configs() {
    namespace slot = addrpool::detail::slot;
    const Word U = 0;                           // unused
    const Word G = slot::kGenerated;            // unused, generated
    const Word A = slot::claimed(0, 0, true);   // reserved long ago (stamp 0): an abandoned hand-out, gen 1
    const Word R = slot::claimed(0, kNow, true);  // reserved now (gen 1): a live hand-out
    const Word X = slot::marked_used(G);        // used
    using O = Op;
    constexpr bool kAll = true, kBounded = false;
    constexpr bool kAnnounce = true, kPlain = false;
    return {
        // ---- slots and the frontier ----
        {"claim-release-2x2", kPlain, kAll, 2, {U, U}, 0,
         {{{O::claim}, {O::release_ticket, 0}}, {{O::claim}, {O::claim}}}},
        {"stale-ticket-2x2", kPlain, kAll, 2, {U, U}, 0,
         {{{O::claim}, {O::release_ticket, 0}, {O::stale_release, 0}}, {{O::claim}}}},
        {"sweep-vs-reclaim-2x2", kPlain, kAll, 2, {A, U}, 0,
         {{{O::sweep}}, {{O::claim}, {O::release_ticket, 0}}}},
        {"mark-used-2x3", kPlain, kAll, 3, {U, G, U}, 0,
         {{{O::claim}, {O::mark_held, 0}}, {{O::claim}, {O::release_index, 0}}}},
        {"restore-vs-claim-2x2", kPlain, kAll, 2, {U, U}, 0,
         {{{O::restore, 0}, {O::release_ticket, 0}}, {{O::claim}, {O::claim}}}},
        // ---- the free bits (below the frontier) ----
        {"release-vs-claim-2x2", kPlain, kAll, 2, {R, R}, 2,
         {{{O::release_slot, 0}, {O::release_slot, 1}}, {{O::claim}}}},
        {"grow-root-2x4", kPlain, kAll, 4, {R, R, R, R}, 4,
         {{{O::release_slot, 3}}, {{O::release_slot, 0}, {O::claim}}}},
        {"grow-vs-clear-2x4", kPlain, kAll, 4, {R, R, R, R}, 4,
         {{{O::release_slot, 0}, {O::claim}}, {{O::release_slot, 2}, {O::claim}}}},
        {"clear-vs-set-2x4", kPlain, kBounded, 4, {R, R, R, R}, 4,
         {{{O::release_slot, 2}, {O::claim}}, {{O::release_slot, 3}, {O::claim}}}},
        {"taken-bit-2x2", kPlain, kAll, 2, {R, R}, 2,
         {{{O::release_slot, 0}, {O::mark_index, 0}}, {{O::claim}, {O::release_slot, 1}}}},
        // ---- the used prefix ----
        {"prefix-sweep-vs-reset-2x2", kPlain, kAll, 2, {X, X}, 2,
         {{{O::sweep}}, {{O::reset}}}},
        // ---- the sweep announcement, with a running clock ----
        {"announce-claims-vs-sweep-2x2", kAnnounce, kAll, 2, {A, U}, 0,
         {{{O::sweep}}, {{O::claim}, {O::claim}}}},
        {"announce-sweep-vs-claims-2x2", kAnnounce, kAll, 2, {U, U}, 0,
         {{{O::claim}, {O::release_ticket, 0}}, {{O::sweep}}}},
        {"announce-two-sweeps-3x1", kAnnounce, kAll, 1, {U}, 0,
         {{{O::sweep}}, {{O::sweep}}, {{O::claim}}}},
        // ---- larger: preemption-bounded or random schedules only ----
        {"three-claimers-3x3", kPlain, kBounded, 3, {U, U, U}, 0,
         {{{O::claim}, {O::release_ticket, 0}}, {{O::claim}, {O::release_index, 0}}, {{O::claim}, {O::mark_held, 0}}}},
        {"free-everything-3x4", kPlain, kBounded, 4, {R, R, R, R}, 4,
         {{{O::release_slot, 1}, {O::claim}},
          {{O::release_slot, 3}, {O::claim}, {O::release_ticket, 0}},
          {{O::release_slot, 0}, {O::claim}}}},
        {"everything-3x4", kPlain, kBounded, 4, {A, U, G, U}, 0,
         {{{O::claim}, {O::claim}, {O::release_ticket, 0}, {O::stale_release, 0}},
          {{O::sweep}, {O::claim}, {O::release_index, 0}},
          {{O::claim}, {O::mark_held, 0}, {O::mark_index, 2}}}},
        {"prefix-everything-3x3", kPlain, kBounded, 3, {X, X, R}, 3,
         {{{O::sweep}, {O::claim}}, {{O::reset}}, {{O::release_slot, 2}, {O::sweep}}}},
        {"announce-three-sweeps-3x1", kAnnounce, kBounded, 1, {U}, 0,
         {{{O::sweep}, {O::sweep}}, {{O::sweep}}, {{O::claim}}}},
        {"announce-two-sweeps-3x2", kAnnounce, kBounded, 2, {A, U}, 0,
         {{{O::sweep}}, {{O::sweep}}, {{O::claim}, {O::claim}}}},
        {"announce-free-everything-3x3", kAnnounce, kBounded, 3, {A, U, U}, 0,
         {{{O::claim}, {O::release_ticket, 0}, {O::claim}}, {{O::sweep}, {O::claim}}, {{O::claim}, {O::release_index, 0}}}},
    };
}

}  // namespace model
