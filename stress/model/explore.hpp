// addrpool-model: the explorer — every schedule (stateless DFS over the
// scheduling choices, each execution replayed from the start, with sleep
// sets: a thread whose next operation commutes with the one just explored
// from the same state is not tried again there, so one execution per
// equivalence class of interleavings is enough), every schedule with at most
// K preemptions (CHESS), or seeded random schedules.
#ifndef ADDRPOOL_STRESS_MODEL_EXPLORE_HPP
#define ADDRPOOL_STRESS_MODEL_EXPLORE_HPP

#include "spec.hpp"
#include "world.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace model {

struct Outcome {
    std::uint64_t executions = 0;       // executions run and checked
    std::uint64_t pruned = 0;           // executions cut short as redundant (sleep-set blocked)
    std::uint64_t with_lost_claim = 0;  // executions in which a sweep beat a claim to its return (C2 restart)
    bool complete = false;
    std::string failure;
};

inline bool lost_claim(const Execution& x) {
    for (const Event& e : x.history) {
        if (e.lost) return true;
    }
    return false;
}

namespace detail {

// One scheduling decision on the current DFS path.
struct Node {
    int runnable[kMaxThreads];
    int k;
    Pending pending[kMaxThreads];
    unsigned sleep;  // threads not to try here (their next op commutes with what was tried)
    unsigned done;   // threads already tried here
    int chosen;      // the thread being explored
};

inline int position(const int* runnable, int k, int thread) {
    for (int i = 0; i < k; ++i) {
        if (runnable[i] == thread) return i;
    }
    return 0;
}

// The next thread to try at n, or -1.
inline int next_candidate(const Node& n) {
    for (int i = 0; i < n.k; ++i) {
        const int t = n.runnable[i];
        if (((n.sleep | n.done) & (1u << t)) == 0) return t;
    }
    return -1;
}

}  // namespace detail

// Every schedule (with at most max_preemptions preemptions if >= 0), up to
// `limit` executions. Sleep sets only without a preemption bound (the two
// reductions do not compose soundly in this simple form).
template <class P>
Outcome explore_all(const Config& c, std::uint64_t limit, int max_preemptions) {
    using detail::Node;
    World<P> world(c);
    Outcome out;
    const bool sleep_sets = max_preemptions < 0;
    std::vector<Node> path;
    for (;;) {
        std::size_t depth = 0;
        bool blocked = false;
        const Execution x = world.run(
            [&](const int* runnable, int k, const Pending* pending) {
                if (depth < path.size()) {
                    const Node& n = path[depth++];
                    return detail::position(runnable, k, n.chosen);
                }
                Node n{};
                n.k = k;
                for (int i = 0; i < k; ++i) n.runnable[i] = runnable[i];
                for (int t = 0; t < kMaxThreads; ++t) n.pending[t] = pending[t];
                if (sleep_sets && !path.empty()) {
                    // A thread asleep or tried at the parent stays asleep here
                    // if its next op commutes with the op the parent ran.
                    const Node& p = path.back();
                    const unsigned carry = p.sleep | p.done;
                    for (int t = 0; t < kMaxThreads; ++t) {
                        if ((carry & (1u << t)) && !dependent(p.pending[t], p.pending[p.chosen])) n.sleep |= 1u << t;
                    }
                }
                const int t = detail::next_candidate(n);
                if (t < 0) {  // every runnable thread is asleep: an equivalent execution was explored
                    blocked = true;
                    world.abandon();
                    return 0;
                }
                n.chosen = t;
                path.push_back(n);
                ++depth;
                return detail::position(runnable, k, t);
            },
            max_preemptions);
        if (blocked) {
            ++out.pruned;
        } else {
            ++out.executions;
            out.with_lost_claim += lost_claim(x);
            if (auto f = check(x, c); !f.empty()) {
                std::vector<int> ch;
                for (const Node& n : path) ch.push_back(n.chosen);
                out.failure = f + "\n" + describe(x, ch, c);
                return out;
            }
        }
        while (!path.empty()) {
            Node& n = path.back();
            n.done |= 1u << n.chosen;
            const int t = detail::next_candidate(n);
            if (t >= 0) {
                n.chosen = t;
                break;
            }
            path.pop_back();
        }
        if (path.empty()) {
            out.complete = true;
            return out;
        }
        if (out.executions + out.pruned >= limit) return out;
    }
}

// One schedule, given as the thread chosen at each step, traced.
template <class P>
Outcome replay(const Config& c, const std::vector<int>& threads) {
    World<P> world(c);
    Outcome out;
    std::size_t at = 0;
    g_trace = true;
    const Execution x = world.run(
        [&](const int* runnable, int k, const Pending*) {
            const int want = at < threads.size() ? threads[at] : runnable[0];
            ++at;
            return detail::position(runnable, k, want);
        },
        -1);
    g_trace = false;
    out.executions = 1;
    if (auto f = check(x, c); !f.empty()) out.failure = f + "\n" + describe(x, threads, c);
    return out;
}

template <class P>
Outcome explore_random(const Config& c, std::uint64_t n, std::uint64_t seed) {
    World<P> world(c);
    Outcome out;
    std::mt19937_64 rng(seed);
    std::vector<int> ch;
    for (std::uint64_t k = 0; k < n; ++k) {
        ch.clear();
        const Execution x = world.run(
            [&](const int* runnable, int m, const Pending*) {
                const int v = static_cast<int>(rng() % static_cast<std::uint64_t>(m));
                ch.push_back(runnable[v]);
                return v;
            },
            -1);
        ++out.executions;
        out.with_lost_claim += lost_claim(x);
        if (auto f = check(x, c); !f.empty()) {
            out.failure = f + "\n" + describe(x, ch, c);
            return out;
        }
    }
    return out;
}

}  // namespace model

#endif  // ADDRPOOL_STRESS_MODEL_EXPLORE_HPP
