// The free-index protocol (lib/pool/free_index.hpp) and the hand-out loop
// (lib/pool/handout.hpp) over a deep, tiny geometry: two indices per leaf
// word, two words per leaf line, two children per summary word, five levels
// (128 indices). Roots at levels 3 to 5, stale summary words above level 2
// (the root growth's conservative bit 0) and multi-word leaf lines — which
// the exhaustive model's two-level geometry never reaches — run here, one
// operation at a time, against a reference: every hand-out must return the
// lowest free index, and at rest invariant (I) must hold. Releases, sweeps,
// used marks, restores and resets in random order (seeded, replayable) also
// make the stale entries the header describes.
#include <addrpool/result.hpp>

#include "pool/announce.hpp"
#include "pool/free_index.hpp"
#include "pool/handout.hpp"
#include "pool/slot.hpp"
#include "test_support.hpp"

#include <boost/atomic.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

namespace {

namespace fi = addrpool::detail::free_index;
namespace slot = addrpool::detail::slot;
using Word = std::uint64_t;
using A = boost::atomic<Word>;

struct DeepGeometry {
    static constexpr unsigned kWordBits = 1;
    static constexpr unsigned kLineWordsBits = 1;
    static constexpr unsigned kFanBits = 1;
    static constexpr unsigned kMaxLevel = 5;
};
using Geo = fi::Geometry<DeepGeometry>;
constexpr std::uint32_t kIndices = std::uint32_t{1} << Geo::cover_bits(DeepGeometry::kMaxLevel);  // 128
static_assert(kIndices == 128 && Geo::kLineWords == 2);

// The words, in plain arrays (the pool keeps them in its segmented blocks).
struct Store {
    struct Path {
        A* line = nullptr;
        A* l1 = nullptr;
    };
    std::array<A, kIndices / 2> leaf;                                          // 32 lines of 2 words
    std::array<std::array<A, kIndices / 8>, DeepGeometry::kMaxLevel + 1> sum;  // sum[level][word], levels 1..5
    A root_{1};
    A frontier_{0};
    A spare_{0};

    Store() {
        for (auto& w : leaf) w.store(0);
        for (auto& level : sum) {
            for (auto& w : level) w.store(0);
        }
    }
    Path at(std::uint32_t i) { return {&leaf[Geo::line_of(i) * Geo::kLineWords], &sum[1][Geo::word_at(1, i)]}; }
    A& summary(unsigned level, std::uint32_t w) { return sum.at(level).at(w); }
    A& root() { return root_; }
    A& frontier() { return frontier_; }
    A& spare() { return spare_; }
    static void on_token(std::uint32_t) noexcept {}
};

// The hand-out loop's environment: every index derived, no gap bound, a
// clock that stands still, no sweep announcing.
struct Env {
    using Geometry = DeepGeometry;
    using FreePolicy = fi::Sound;
    using AnnouncePolicy = addrpool::detail::announce::Checked;
    using ClaimPolicy = slot::CasClaim;
    Store& st;
    std::array<A, kIndices>& words;
    A& sweep;
    Store& store() { return st; }
    A& slot(std::uint32_t i) { return words.at(i); }
    A& sweep_now() { return sweep; }
    static std::uint64_t now_ms() { return 1; }
    static std::uint64_t index_limit() { return kIndices; }
    static bool within_gap(std::uint32_t) { return true; }
    static addrpool::Result<bool> prepare(std::uint32_t) { return true; }
    static addrpool::Error gap_error(std::uint32_t) {
        return addrpool::make_error(addrpool::Errc::gap_limit_reached, "gap");
    }
    static addrpool::Error full_error() { return addrpool::make_error(addrpool::Errc::index_out_of_range, "full"); }
    template <class Path>
    static void candidate(std::uint32_t, const Path&) noexcept {}
    static void on_token_spent(std::uint32_t, bool) noexcept {}
    static void on_lost(std::uint32_t, std::uint32_t) noexcept {}
};

enum class Ref { free, reserved, used };

}  // namespace

TEST_CASE("the free index over five levels: every hand-out takes the lowest free index, whatever frees or takes them",
          "[pool][free-index]") {
    const std::uint64_t seed = addrpool_test::test_seed("free index, deep geometry");
    std::mt19937_64 rng(seed);
    unsigned max_root = 1;
    int stale_claims = 0;  // hand-outs whose frontier passed a taken index
    // Rounds on fresh words: each grows the root from level 1 to 5 as its
    // frontier moves up.
    for (int round = 0; round < 25; ++round) {
        Store st;
        std::array<A, kIndices> words;
        for (auto& w : words) w.store(0);
        A sweep{0};
        Env env{st, words, sweep};
        std::vector<Ref> ref(kIndices, Ref::free);

        // A random index in state `want` below `end`, or -1. Used marks and
        // restores stay near the frontier, so that the root grows a level at a
        // time as the frontier moves up (and each growth meets whatever the
        // descents left of the level below), instead of jumping to the top.
        auto pick = [&](Ref want, std::uint32_t end = kIndices) -> std::int64_t {
            std::vector<std::uint32_t> c;
            for (std::uint32_t i = 0; i < end && i < kIndices; ++i) {
                if (ref[i] == want) c.push_back(i);
            }
            if (c.empty()) return -1;
            return c[std::uniform_int_distribution<std::size_t>(0, c.size() - 1)(rng)];
        };
        auto lowest_free = [&]() -> std::int64_t {
            for (std::uint32_t i = 0; i < kIndices; ++i) {
                if (ref[i] == Ref::free) return i;
            }
            return -1;
        };
        // One hand-out through the real loop: the lowest free index, or
        // "full" when none is left (then false).
        auto hand_out = [&]() -> bool {
            const std::int64_t want = lowest_free();
            auto c = addrpool::detail::handout::claim(env, true);
            if (want < 0) {
                REQUIRE_FALSE(c);
                return false;
            }
            REQUIRE(c);
            REQUIRE(c->index == static_cast<std::uint32_t>(want));
            ref[c->index] = Ref::reserved;
            return true;
        };
        // (I) at rest: every free index below F is in S, or has its leaf bit
        // and every summary bit above it set, up to a root that covers it.
        auto check_invariant = [&] {
            const Word f = st.frontier_.load();
            const Word s = st.spare_.load();
            const auto r = static_cast<unsigned>(st.root_.load());
            for (std::uint32_t i = 0; i < f && i < kIndices; ++i) {
                if (ref[i] != Ref::free || s == Word{i} + 1) continue;
                INFO("free index " << i << " below the frontier " << f);
                const auto p = st.at(i);
                REQUIRE((p.line[Geo::word_in_line(i)].load() & Geo::leaf_bit(i)) != 0);
                REQUIRE((std::uint64_t{i} >> Geo::cover_bits(r)) == 0);
                for (unsigned level = 1; level <= r; ++level) {
                    REQUIRE((st.summary(level, Geo::word_at(level, i)).load() & Geo::child_bit(level, i)) != 0);
                }
            }
        };

        for (int step = 0; step < 2000; ++step) {
            INFO("round " << round << ", step " << step << ", seed " << seed);
            // Blocks of 100 steps alternate between taking (mostly hand-outs:
            // the frontier moves up, the root grows) and freeing (mostly
            // releases and sweeps: many free bits below the frontier, which a
            // later growth must keep findable).
            const bool taking = (step / 100) % 2 == 0;
            static constexpr std::array<int, 5> kTaking{70, 80, 88, 92, 96};
            static constexpr std::array<int, 5> kFreeing{10, 45, 75, 85, 93};
            const std::array<int, 5>& until = taking ? kTaking : kFreeing;
            const int op = std::uniform_int_distribution<int>(0, 99)(rng);
            if (op < until[0]) {  // a hand-out
                const Word f_before = st.frontier_.load();
                if (!hand_out()) continue;
                if (st.frontier_.load() > f_before + 1) ++stale_claims;  // it passed a taken frontier index
            } else if (op < until[1]) {  // a release: parks, or sets bits (F7)
                const std::int64_t i = pick(Ref::reserved);
                if (i < 0) continue;
                REQUIRE(slot::release(words[i]));
                fi::mark_released<DeepGeometry, Env::FreePolicy>(st, static_cast<std::uint32_t>(i),
                                                                 [&] { return st.at(static_cast<std::uint32_t>(i)); });
                ref[i] = Ref::free;
            } else if (op < until[2]) {  // a sweep's free: sets bits (F1)
                const std::int64_t i = pick(Ref::reserved);
                if (i < 0) continue;
                REQUIRE(slot::sweep_one(words[i], slot::load(words[i])));
                fi::mark_free<DeepGeometry, Env::FreePolicy>(st, static_cast<std::uint32_t>(i));
                ref[i] = Ref::free;
            } else if (op < until[3]) {  // a used mark of a free index: leaves its entry stale
                const std::int64_t i = pick(Ref::free, static_cast<std::uint32_t>(st.frontier_.load()) + 4);
                if (i < 0) continue;
                REQUIRE(slot::mark_used(words[i], false));
                ref[i] = Ref::used;
            } else if (op < until[4]) {  // a restore of a free index (S1 by name, no token)
                const std::int64_t i = pick(Ref::free, static_cast<std::uint32_t>(st.frontier_.load()) + 4);
                if (i < 0) continue;
                Word w = slot::load(words[i]);
                REQUIRE(slot::try_claim(words[i], w, 1, true));
                ref[i] = Ref::reserved;
            } else {  // a reset of a used index: sets bits (F1), wherever it is
                const std::int64_t i = pick(Ref::used);
                if (i < 0) continue;
                REQUIRE(slot::reset(words[i]));
                fi::mark_free<DeepGeometry, Env::FreePolicy>(st, static_cast<std::uint32_t>(i));
                ref[i] = Ref::free;
            }
            check_invariant();
            max_root = std::max(max_root, static_cast<unsigned>(st.root_.load()));
        }
        // Nothing lost: the free indices come back lowest first, then "full".
        while (hand_out()) {
        }
    }
    // The runs reached the deep levels and the stale paths they are here for.
    CHECK(max_root == DeepGeometry::kMaxLevel);
    CHECK(stale_claims > 0);
}

TEST_CASE("a root that grows keeps the free bits below the old root findable", "[pool][free-index]") {
    // Free bits under a level-1 root, then a free far above: the root grows
    // to level 5 (F5), and the descent must still find the low bits first.
    Store st;
    std::array<A, kIndices> words;
    for (auto& w : words) w.store(slot::claimed(0, 1, true));  // all reserved
    st.frontier_.store(kIndices);                              // all taken through the frontier
    A sweep{0};
    Env env{st, words, sweep};
    for (std::uint32_t i : {5u, 3u, 6u, 100u}) {  // 100, last, grows the root from 1 to 5
        REQUIRE(slot::release(words[i]));
        fi::mark_free<DeepGeometry, Env::FreePolicy>(st, i);
    }
    CHECK(st.root_.load() == DeepGeometry::kMaxLevel);
    for (std::uint32_t want : {3u, 5u, 6u, 100u}) {
        auto c = addrpool::detail::handout::claim(env, true);
        REQUIRE(c);
        CHECK(c->index == want);
    }
    auto none = addrpool::detail::handout::claim(env, true);
    CHECK_FALSE(none);
}
