// The no-holes check of S6, run after a round from the threads' logs.
//
// What the pool promises (include/addrpool/pool.hpp, lib/pool/free_index.hpp):
// once a release or sweep that freed index j has returned, every hand-out
// that starts afterwards returns j or a lower free index. Under concurrency
// a hand-out may skip j only if j's release had not returned when the
// hand-out started, or if another hand-out took j meanwhile. A fresh index
// (never handed out) is free from the start.
//
// Every operation is bracketed by ticks of one seq_cst counter, taken after
// a release or sweep returned and before / after a hand-out; tick a < tick b
// means the operation behind a happened before the one behind b. For each
// index j the reservations are ordered by generation (the pool gives each
// hand-out of j a larger one), which gives j's free intervals [a, b):
//   a  0 (fresh), or the tick after the release of the previous reservation
//      returned, or after the first sweep that certainly freed it returned;
//   b  the start tick of the next hand-out of j (infinity if none).
// A hand-out that started at s, returned at e and gave index x is a HOLE if
// some j < x has a free interval with a < s and b > e: j was free from
// before the hand-out began until after it returned, and nobody was even
// trying to take it.
//
// Cost: intervals and hand-outs sorted by start, a max segment tree over
// the indices (b of j's latest interval whose a has passed), and for each
// hand-out a leftmost-j-below-x query: O((H + I) log capacity).
#ifndef ADDRPOOL_STRESS_HOLES_HPP
#define ADDRPOOL_STRESS_HOLES_HPP

#include <algorithm>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace stress {

struct HandoutRec {
    std::uint64_t start, end;  // ticks before the call and after it returned
    std::uint32_t index, gen;
    unsigned thread;
};

// Reservation (index, gen) ended, and index was free, from tick `at` on.
struct FreeRec {
    std::uint64_t at;
    std::uint32_t index, gen;
    const char* how;  // "release(ticket)", "release(index)", "sweep"
};

struct HoleReport {
    std::uint64_t holes = 0;
    std::string first;  // the hand-out with the lowest start tick that skipped an index
};

class HoleFinder {
public:
    explicit HoleFinder(std::uint32_t capacity) : n_(std::max<std::uint32_t>(capacity, 1)), tree_(2 * size(), 0) {}

    HoleReport run(std::vector<HandoutRec> handouts, const std::vector<FreeRec>& frees) {
        constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
        // Reservations of each index in generation order.
        std::sort(handouts.begin(), handouts.end(), [](const HandoutRec& x, const HandoutRec& y) {
            return x.index != y.index ? x.index < y.index : x.gen < y.gen;
        });
        std::unordered_map<std::uint64_t, const FreeRec*> freed;  // (index, gen) -> its free record
        for (const FreeRec& f : frees) freed.emplace(key(f.index, f.gen), &f);
        std::vector<Interval> iv;
        iv.reserve(handouts.size() + n_);
        std::vector<bool> touched(n_, false);
        for (std::size_t k = 0; k < handouts.size(); ++k) {
            const HandoutRec& h = handouts[k];
            if (h.index >= n_) continue;
            const bool first = k == 0 || handouts[k - 1].index != h.index;
            if (first) iv.push_back({0, h.start, h.index, nullptr}), touched[h.index] = true;
            const bool last = k + 1 == handouts.size() || handouts[k + 1].index != h.index;
            auto it = freed.find(key(h.index, h.gen));
            if (it == freed.end()) continue;  // still held, or freed at an unknown moment
            iv.push_back({it->second->at, last ? kNever : handouts[k + 1].start, h.index, it->second});
        }
        for (std::uint32_t j = 0; j < n_; ++j) {
            if (!touched[j]) iv.push_back({0, kNever, j, nullptr});  // fresh throughout
        }
        std::sort(iv.begin(), iv.end(), [](const Interval& x, const Interval& y) { return x.a < y.a; });
        std::sort(handouts.begin(), handouts.end(),
                  [](const HandoutRec& x, const HandoutRec& y) { return x.start < y.start; });

        HoleReport rep;
        std::vector<const Interval*> current(n_, nullptr);
        std::size_t next = 0;
        for (const HandoutRec& h : handouts) {
            for (; next < iv.size() && iv[next].a < h.start; ++next) {
                set(iv[next].j, iv[next].b);
                current[iv[next].j] = &iv[next];
            }
            const std::uint32_t j = leftmost_above(std::min(h.index, n_), h.end);
            if (j == kNone) continue;
            if (++rep.holes == 1) {
                const Interval& f = *current[j];
                std::ostringstream s;
                s << "HOLE: thread " << h.thread << "'s hand-out (ticks " << h.start << ".." << h.end
                  << ") returned index " << h.index << " (gen " << h.gen << "), but index " << j
                  << " was free throughout it: ";
                if (f.freed == nullptr) s << "never handed out before";
                else s << "freed by " << f.freed->how << " of gen " << f.freed->gen << ", known at tick " << f.a;
                s << ", next handed out " << (f.b == kNever ? std::string("never") : "at tick " + std::to_string(f.b));
                rep.first = s.str();
            }
        }
        return rep;
    }

private:
    struct Interval {
        std::uint64_t a, b;
        std::uint32_t j;
        const FreeRec* freed;  // null: fresh
    };
    static constexpr std::uint32_t kNone = ~std::uint32_t{0};
    static std::uint64_t key(std::uint32_t index, std::uint32_t gen) { return std::uint64_t{index} << 32 | gen; }

    std::uint32_t size() const {
        std::uint32_t s = 1;
        while (s < n_) s <<= 1;
        return s;
    }
    // tree_[size + j] = b of j's current interval (0: none yet); inner nodes: max.
    void set(std::uint32_t j, std::uint64_t b) {
        std::uint32_t p = size() + j;
        tree_[p] = b;
        for (p >>= 1; p >= 1; p >>= 1) tree_[p] = std::max(tree_[2 * p], tree_[2 * p + 1]);
    }
    // The lowest j < limit whose value is > e, or kNone.
    std::uint32_t leftmost_above(std::uint32_t limit, std::uint64_t e) const {
        return descend(1, 0, size(), limit, e);
    }
    std::uint32_t descend(std::uint32_t node, std::uint32_t lo, std::uint32_t hi, std::uint32_t limit,
                          std::uint64_t e) const {
        if (lo >= limit || tree_[node] <= e) return kNone;
        if (hi - lo == 1) return lo;
        const std::uint32_t mid = lo + (hi - lo) / 2;
        const std::uint32_t left = descend(2 * node, lo, mid, limit, e);
        return left != kNone ? left : descend(2 * node + 1, mid, hi, limit, e);
    }

    std::uint32_t n_;
    std::vector<std::uint64_t> tree_;
};

}  // namespace stress

#endif  // ADDRPOOL_STRESS_HOLES_HPP
