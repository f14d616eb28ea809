// addrpool-model: the pool's lock-free protocols — slot transitions
// (slot.hpp), the free index (free_index.hpp), the sweep announcement
// (announce.hpp) and the used prefix (used_prefix.hpp), composed by the
// pool's own hand-out and sweep loops (handout.hpp, sweep.hpp) — checked
// under every interleaving of their atomic steps on <= 4 slots and 2-3
// threads (world.hpp, configs.cpp), against the specification in spec.hpp.
//
//   addrpool-model [--random N [--seed S] | --preemptions K] [--limit N] [--config NAME] [--two-threads]
//                  [--skip-config NAME] [--mutant 1..18 [--expect-violation]] [--replay "THREAD THREAD ..."]
// Default: every interleaving of every exhaustive configuration.
// --preemptions K: every interleaving with at most K preemptions (a switch
//   away from a thread that could go on), for every configuration, the
//   larger ones too; most concurrency bugs need only a few.
// --random N: N seeded random schedules per configuration (all of them).
// --skip-config NAME: leave that configuration out (the TSan pass leaves
//   out the one whose every interleaving takes minutes there).
// --mutant M: run a deliberately broken protocol (mutants.hpp) instead.
// --expect-violation: exit 0 only if the checker reported a violation (the
//   model-catches-* tests; as stress/'s --expect-failure).
// --replay: with --config, run the one schedule a violation report printed
//   (the thread of each step) and trace every atomic operation.
// Exit 0: every execution correct; 1: a violation (schedule and history
// printed); 2: bad arguments. With --expect-violation, 0 and 1 swap.
#include "configs.hpp"
#include "explore.hpp"
#include "mutants.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace model;

struct Args {
    std::uint64_t random_n = 0, seed = 0, limit = 50'000'000;
    int preemptions = -1;
    bool two_threads_only = false;
    bool expect_violation = false;
    std::string only;
    std::string skip;
    std::vector<int> replay;  // --replay "t t t ...": one schedule, traced
};

template <class P>
bool run_all(const Args& a) {
    bool ok = true;
    std::uint64_t total = 0;
    for (const Config& c : configs()) {
        if (!a.only.empty() && a.only != c.name) continue;
        if (a.skip == c.name) continue;
        if (a.two_threads_only && c.threads.size() > 2) continue;
        // The larger configurations run bounded or random; named explicitly, up to --limit.
        if (!a.random_n && a.preemptions < 0 && !c.exhaustive && a.only.empty()) continue;
        const auto t0 = std::chrono::steady_clock::now();
        const Outcome out = !a.replay.empty() ? replay<P>(c, a.replay)
                            : a.random_n    ? explore_random<P>(c, a.random_n, a.seed)
                                            : explore_all<P>(c, a.limit, a.preemptions);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        total += out.executions;
        if (a.random_n) {
            std::printf("model %-30s random schedules %llu (seed %llu), %.2f s: %s\n", c.name,
                        static_cast<unsigned long long>(out.executions), static_cast<unsigned long long>(a.seed), secs,
                        out.failure.empty() ? "ok" : "VIOLATION");
        } else {
            const std::string bound =
                a.preemptions >= 0 ? " with <= " + std::to_string(a.preemptions) + " preemptions" : std::string();
            std::printf("model %-30s interleavings %llu (%s%s), %.2f s: %s\n", c.name,
                        static_cast<unsigned long long>(out.executions),
                        out.complete ? "all" : (out.failure.empty() ? "LIMIT reached, not all" : "stopped at the violation"),
                        out.complete ? bound.c_str() : "", secs, out.failure.empty() ? "ok" : "VIOLATION");
        }
        if (c.announce) {
            std::printf("      %llu of them with a claim lost to a sweep and started over (C2)\n",
                        static_cast<unsigned long long>(out.with_lost_claim));
        }
        if (!out.failure.empty()) {
            std::printf("%s", out.failure.c_str());
            ok = false;
            break;
        }
        std::fflush(stdout);
    }
    std::printf("model total executions %llu: %s\n", static_cast<unsigned long long>(total), ok ? "ok" : "FAILED");
    return ok;
}

bool run_mutant(int m, const Args& a) {
    namespace mu = model::mutants;
    switch (m) {
        case 0: return run_all<Sound>(a);
        case 1: return run_all<mu::BrokenClaim>(a);
        case 2: return run_all<mu::TicketIgnored>(a);
        case 3: return run_all<mu::ClearWithoutCheck>(a);
        case 4: return run_all<mu::SummaryBeforeLeaf>(a);
        case 5: return run_all<mu::ClaimIgnoresSweep>(a);
        case 6: return run_all<mu::SweepNotAnnounced>(a);
        case 7: return run_all<mu::SingleSweepCheck>(a);
        case 8: return run_all<mu::BoundedSweepChecks>(a);
        case 9: return run_all<mu::ReleaseWithoutBit>(a);
        case 10: return run_all<mu::NoVersionBump>(a);
        case 11: return run_all<mu::GrowWithoutBit>(a);
        case 12: return run_all<mu::PrefixIgnoresEpoch>(a);
        case 13: return run_all<mu::PrefixRestartFirst>(a);
        case 14: return run_all<mu::PrefixWithoutEpoch>(a);
        case 15: return run_all<mu::NoRootReread>(a);
        case 16: return run_all<mu::SpareIgnored>(a);
        case 17: return run_all<mu::ParkByStore>(a);
        case 18: return run_all<mu::SpareFirst>(a);
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    int mutant = 0;
    bool have_seed = false;
    for (int i = 1; i < argc; ++i) {
        const std::string s = argv[i];
        auto value = [&]() -> std::uint64_t {
            if (i + 1 >= argc) std::exit(2);
            return std::strtoull(argv[++i], nullptr, 0);
        };
        if (s == "--random") a.random_n = value();
        else if (s == "--seed") a.seed = value(), have_seed = true;
        else if (s == "--limit") a.limit = value();
        else if (s == "--preemptions") {
            const std::uint64_t k = value();
            if (k > 64) {
                std::fprintf(stderr, "addrpool-model: --preemptions must be 0..64\n");
                return 2;
            }
            a.preemptions = static_cast<int>(k);
        } else if (s == "--mutant") {
            const std::uint64_t m = value();
            if (m < 1 || m > static_cast<std::uint64_t>(mutants::kCount)) {
                std::fprintf(stderr, "addrpool-model: --mutant must be 1..%d\n", mutants::kCount);
                return 2;
            }
            mutant = static_cast<int>(m);
        } else if (s == "--two-threads") a.two_threads_only = true;
        else if (s == "--expect-violation") a.expect_violation = true;
        else if (s == "--config" && i + 1 < argc) a.only = argv[++i];
        else if (s == "--skip-config" && i + 1 < argc) a.skip = argv[++i];
        else if (s == "--replay" && i + 1 < argc) {
            std::istringstream in(argv[++i]);
            for (int t; in >> t;) a.replay.push_back(t);
        }
        else {
            std::fprintf(stderr,
                         "usage: addrpool-model [--random N [--seed S] | --preemptions K] [--limit N] [--config NAME] "
                         "[--two-threads] [--skip-config NAME] [--mutant 1..%d [--expect-violation]]\n",
                         mutants::kCount);
            return 2;
        }
    }
    // A misspelt name would otherwise run everything, or nothing, and pass.
    for (const std::string* name : {&a.only, &a.skip}) {
        if (name->empty()) continue;
        bool known = false;
        for (const Config& c : configs()) known = known || *name == c.name;
        if (!known) {
            std::fprintf(stderr, "addrpool-model: no configuration named '%s'\n", name->c_str());
            return 2;
        }
    }
    if (a.random_n && a.preemptions >= 0) {
        std::fprintf(stderr, "addrpool-model: --random and --preemptions are alternatives\n");
        return 2;
    }
    if (!have_seed) a.seed = std::random_device{}();
    if (mutant != 0) std::printf("model: MUTANT %d (a deliberately broken protocol; a violation is expected)\n", mutant);
    const bool correct = run_mutant(mutant, a);
    if (a.expect_violation) {
        std::printf("expect-violation: the checker %s\n",
                    correct ? "found NO violation in a protocol that must have one" : "reported a violation, as it must");
        return correct ? 1 : 0;
    }
    return correct ? 0 : 1;
}
