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
    constexpr bool kParks = true, kHeld = false;  // the spare starts empty, or held (spec.hpp)
    return {
        // ---- slots and the frontier ----
        {"claim-release-2x2", kPlain, kAll, 2, {U, U}, 0,
         {{{O::claim}, {O::release_ticket, 0}}, {{O::claim}, {O::claim}}}, kHeld},
        {"stale-ticket-2x2", kPlain, kAll, 2, {U, U}, 0,
         {{{O::claim}, {O::release_ticket, 0}, {O::stale_release, 0}}, {{O::claim}}}, kHeld},
        {"sweep-vs-reclaim-2x2", kPlain, kAll, 2, {A, U}, 0,
         {{{O::sweep}}, {{O::claim}, {O::release_ticket, 0}}}, kHeld},
        {"mark-used-2x3", kPlain, kAll, 3, {U, G, U}, 0,
         {{{O::claim}, {O::mark_held, 0}}, {{O::claim}, {O::release_index, 0}}}, kHeld},
        {"restore-vs-claim-2x2", kPlain, kAll, 2, {U, U}, 0,
         {{{O::restore, 0}, {O::release_ticket, 0}}, {{O::claim}, {O::claim}}}, kHeld},
        // ---- the free bits (below the frontier) ----
        {"release-vs-claim-2x2", kPlain, kAll, 2, {R, R}, 2,
         {{{O::release_slot, 0}, {O::release_slot, 1}}, {{O::claim}}}, kHeld},
        {"grow-root-2x4", kPlain, kAll, 4, {R, R, R, R}, 4,
         {{{O::release_slot, 3}}, {{O::release_slot, 0}, {O::claim}}}, kHeld},
        {"grow-vs-clear-2x4", kPlain, kAll, 4, {R, R, R, R}, 4,
         {{{O::release_slot, 0}, {O::claim}}, {{O::release_slot, 2}, {O::claim}}}, kHeld},
        {"clear-vs-set-2x4", kPlain, kBounded, 4, {R, R, R, R}, 4,
         {{{O::release_slot, 2}, {O::claim}}, {{O::release_slot, 3}, {O::claim}}}, kHeld},
        {"taken-bit-2x2", kPlain, kAll, 2, {R, R}, 2,
         {{{O::release_slot, 0}, {O::mark_index, 0}}, {{O::claim}, {O::release_slot, 1}}}, kHeld},
        // ---- the spare (F7)/(F8) ----
        {"park-vs-claims-2x2", kPlain, kAll, 2, {R, R}, 2,
         {{{O::release_slot, 1}, {O::release_slot, 0}}, {{O::claim}, {O::claim}}}, kParks},
        {"two-parks-2x3", kPlain, kAll, 3, {R, R, R}, 3,
         {{{O::release_slot, 0}, {O::claim}}, {{O::release_slot, 1}, {O::claim}}}, kParks},
        {"park-claim-release-2x2", kPlain, kAll, 2, {U, U}, 0,
         {{{O::claim}, {O::release_ticket, 0}, {O::claim}}, {{O::claim}, {O::release_index, 0}}}, kParks},
        // ---- stale entries (free_index.hpp): a restore above the frontier,
        // released, parks an index at F; the frontier take of it leaves S
        // naming a reserved index, which a later claim takes and spends ----
        {"stale-spare-2x2", kPlain, kAll, 2, {U, U}, 0,
         {{{O::restore, 1}, {O::release_ticket, 0}}, {{O::claim}, {O::claim}, {O::claim}}}, kParks},
        // A reset above the frontier sets bits there; frontier takes leave
        // them stale below the new frontier.
        {"stale-bits-reset-2x2", kPlain, kAll, 2, {X, X}, 0,
         {{{O::reset}}, {{O::claim}, {O::claim}, {O::claim}}}, kParks},
        // ---- the used prefix ----
        {"prefix-sweep-vs-reset-2x2", kPlain, kAll, 2, {X, X}, 2,
         {{{O::sweep}}, {{O::reset}}}, kHeld},
        // ---- the sweep announcement, with a running clock ----
        {"announce-claims-vs-sweep-2x2", kAnnounce, kAll, 2, {A, U}, 0,
         {{{O::sweep}}, {{O::claim}, {O::claim}}}, kHeld},
        {"announce-sweep-vs-claims-2x2", kAnnounce, kAll, 2, {U, U}, 0,
         {{{O::claim}, {O::release_ticket, 0}}, {{O::sweep}}}, kHeld},
        {"announce-two-sweeps-3x1", kAnnounce, kAll, 1, {U}, 0,
         {{{O::sweep}}, {{O::sweep}}, {{O::claim}}}, kHeld},
        // ---- larger: preemption-bounded or random schedules only ----
        {"three-claimers-3x3", kPlain, kBounded, 3, {U, U, U}, 0,
         {{{O::claim}, {O::release_ticket, 0}}, {{O::claim}, {O::release_index, 0}}, {{O::claim}, {O::mark_held, 0}}}, kHeld},
        {"free-everything-3x4", kPlain, kBounded, 4, {R, R, R, R}, 4,
         {{{O::release_slot, 1}, {O::claim}},
          {{O::release_slot, 3}, {O::claim}, {O::release_ticket, 0}},
          {{O::release_slot, 0}, {O::claim}}}, kHeld},
        {"everything-3x4", kPlain, kBounded, 4, {A, U, G, U}, 0,
         {{{O::claim}, {O::claim}, {O::release_ticket, 0}, {O::stale_release, 0}},
          {{O::sweep}, {O::claim}, {O::release_index, 0}},
          {{O::claim}, {O::mark_held, 0}, {O::mark_index, 2}}}, kHeld},
        {"prefix-everything-3x3", kPlain, kBounded, 3, {X, X, R}, 3,
         {{{O::sweep}, {O::claim}}, {{O::reset}}, {{O::release_slot, 2}, {O::sweep}}}, kHeld},
        {"announce-three-sweeps-3x1", kAnnounce, kBounded, 1, {U}, 0,
         {{{O::sweep}, {O::sweep}}, {{O::sweep}}, {{O::claim}}}, kHeld},
        {"announce-two-sweeps-3x2", kAnnounce, kBounded, 2, {A, U}, 0,
         {{{O::sweep}}, {{O::sweep}}, {{O::claim}, {O::claim}}}, kHeld},
        {"park-everything-3x4", kPlain, kBounded, 4, {R, R, R, R}, 4,
         {{{O::release_slot, 3}, {O::claim}},
          {{O::release_slot, 1}, {O::claim}, {O::release_ticket, 0}},
          {{O::release_slot, 0}, {O::claim}}}, kParks},
        // One index in S and in the bitmap at once (a stale park, then a
        // release that finds S taken), and claimers on both entries.
        {"stale-entries-3x3", kPlain, kBounded, 3, {U, U, U}, 0,
         {{{O::restore, 1}, {O::release_ticket, 0}, {O::claim}},
          {{O::claim}, {O::claim}, {O::release_ticket, 1}},
          {{O::claim}}}, kParks},
        {"announce-free-everything-3x3", kAnnounce, kBounded, 3, {A, U, U}, 0,
         {{{O::claim}, {O::release_ticket, 0}, {O::claim}}, {{O::sweep}, {O::claim}}, {{O::claim}, {O::release_index, 0}}}, kHeld},
    };
}

}  // namespace model
