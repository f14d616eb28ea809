// addrpool-model: deliberately broken protocols, each the pool's policy
// bundle (world.hpp Sound) with one rule switched off. The checker must find
// a schedule that breaks each (meson: model-catches-*); a mutant it does not
// catch would show a blind spot of the model.
#ifndef ADDRPOOL_STRESS_MODEL_MUTANTS_HPP
#define ADDRPOOL_STRESS_MODEL_MUTANTS_HPP

#include "world.hpp"

namespace model::mutants {

// 1: the claim is a load followed by a store, not a CAS.
struct LoadStoreClaim {
    template <class A>
    static bool claim(A& word, slot::Word& expected, std::uint64_t stamp_ms, bool materialize) {
        word.store(slot::claimed(expected, stamp_ms, materialize));
        return true;
    }
};
struct BrokenClaim : Sound {
    using Claim = LoadStoreClaim;
};
// 2: release by ticket ignores the ticket.
struct TicketIgnored : Sound {
    static constexpr bool ticket_checked = false;
};
// 3: a summary bit is cleared without checking that its child is empty (F6).
struct ClearWithoutCheck : Sound {
    struct Free : free_index::Sound {
        static constexpr bool check_child_before_clear = false;
    };
};
// 4: a release sets the summary bits before its leaf bit (F1).
struct SummaryBeforeLeaf : Sound {
    struct Free : free_index::Sound {
        static constexpr bool leaf_before_summary = false;
    };
};
// 5: a claim ignores the sweep announcement (no C2).
struct ClaimIgnoresSweep : Sound {
    struct Announce : announce::Checked {
        static constexpr bool check = false;
    };
};
// 6: the sweep does not announce itself (no C0).
struct SweepNotAnnounced : Sound {
    struct Announce : announce::Checked {
        static constexpr bool sweep_announces = false;
    };
};
// 7: the claim checks the announcement once, and not again after re-stamping
// (the pool's code until the model found the schedule that defeats it).
struct SingleSweepCheck : Sound {
    struct Announce : announce::Checked {
        static constexpr int max_rechecks = 0;
    };
};
// 8: the claim checks the announcement at most twice.
struct BoundedSweepChecks : Sound {
    struct Announce : announce::Checked {
        static constexpr int max_rechecks = 1;
    };
};
// 9: a release does not make its slot findable (no F1).
struct ReleaseWithoutBit : Sound {
    static constexpr bool release_marks_free = false;
};
// 10: setting a summary bit that is already set leaves the word unchanged
// (no version bump): a clearer's CAS from a stale value succeeds (ABA).
struct NoVersionBump : Sound {
    struct Free : free_index::Sound {
        static constexpr bool bump_version = false;
    };
};
// 11: the root grows without setting the old root's bit in the new root (F5).
struct GrowWithoutBit : Sound {
    struct Free : free_index::Sound {
        static constexpr bool grow_sets_old_root = false;
    };
};
// 12: the sweep raises the used prefix whatever the epoch (P2).
struct PrefixIgnoresEpoch : Sound {
    struct Prefix : used_prefix::Sound {
        static constexpr bool raise_checks_epoch = false;
    };
};
// 13: reset_usage restarts the prefix (new epoch, bound 0) before it frees
// the slots — the order a relaxed epoch allows a weakly ordered CPU to show.
struct PrefixRestartFirst : Sound {
    static constexpr bool reset_frees_before_restart = false;
};
// 14: reset_usage zeroes the bound without a new epoch (P3).
struct PrefixWithoutEpoch : Sound {
    struct Prefix : used_prefix::Sound {
        static constexpr bool restart_bumps_epoch = false;
    };
};

// 15: a release sets the levels up to the root it read first and never
// reads the root again (F1): a root that grew meanwhile, and a descent that
// cleared the new root's bit 0 before the release set the old root's word,
// hide the freed index.
struct NoRootReread : Sound {
    struct Free : free_index::Sound {
        static constexpr bool reread_root = false;
    };
};
// 16: a hand-out never looks in the spare (F8): a parked index is skipped.
struct SpareIgnored : Sound {
    struct Free : free_index::Sound {
        static constexpr bool read_spare = false;
    };
};
// 17: a release parks by a plain store when it read the spare empty (F7):
// two releases that both read it empty lose one index.
struct ParkByStore : Sound {
    struct Free : free_index::Sound {
        static constexpr bool park_by_cas = false;
    };
};
// 18: a hand-out takes the spare's index without comparing it with the
// bitmap's candidate (F8): a lower free index is skipped.
struct SpareFirst : Sound {
    struct Free : free_index::Sound {
        static constexpr bool spare_compared = false;
    };
};

inline constexpr int kCount = 18;

}  // namespace model::mutants

#endif  // ADDRPOOL_STRESS_MODEL_MUTANTS_HPP
