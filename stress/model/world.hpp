// addrpool-model: the model's pool. A handful of slots and the free-index,
// announcement and used-prefix words, all StepAtomics; the thread programs
// run the pool's own code over them: the hand-out loop (handout.hpp) and the
// sweep loop (sweep.hpp) instantiated with the environments below, and the
// slot transitions (slot.hpp) and free-index operations (free_index.hpp) the
// pool calls for releases, marks and resets.
//
// The policy bundle P selects the protocols' policies: Sound is the pool's
// code; each mutant (mutants.hpp) switches one rule off, and the checker must
// find a schedule that breaks it.
#ifndef ADDRPOOL_STRESS_MODEL_WORLD_HPP
#define ADDRPOOL_STRESS_MODEL_WORLD_HPP

#include "scheduler.hpp"
#include "spec.hpp"

#include "pool/announce.hpp"
#include "pool/free_index.hpp"
#include "pool/handout.hpp"
#include "pool/slot.hpp"
#include "pool/sweep.hpp"
#include "pool/used_prefix.hpp"

#include <array>
#include <functional>
#include <utility>
#include <vector>

namespace model {

namespace slot = addrpool::detail::slot;
namespace free_index = addrpool::detail::free_index;
namespace announce = addrpool::detail::announce;
namespace used_prefix = addrpool::detail::used_prefix;

// One free bit per leaf word, one word per leaf line, two children per
// summary word: slots 0..3 need levels 1 and 2, so the root grows (F5) when
// slot 2 or 3 is freed, and every protocol step is a scheduling point.
struct ModelGeometry {
    static constexpr unsigned kWordBits = 0;
    static constexpr unsigned kLineWordsBits = 0;
    static constexpr unsigned kFanBits = 1;
    static constexpr unsigned kMaxLevel = 2;
};

// The pool's policies.
struct Sound {
    using Free = free_index::Sound;
    using Announce = announce::Checked;
    using Prefix = used_prefix::Sound;
    using Claim = slot::CasClaim;
    static constexpr bool ticket_checked = true;              // release by ticket compares generations
    static constexpr bool release_marks_free = true;          // a release makes its slot findable (F1)
    static constexpr bool reset_frees_before_restart = true;  // reset_usage: slots first, then (P3)
};

template <class P>
class World {
public:
    explicit World(const Config& c)
        : cfg_(c),
          sched_(static_cast<int>(c.threads.size()), [this](int t) { program(t); }, [this] { record(); }) {
        g_name_of = [this](const void* o) { return name_of(o); };
    }
    ~World() { g_name_of = nullptr; }
    World(const World&) = delete;
    World& operator=(const World&) = delete;

    std::string name_of(const void* o) const {
        for (int i = 0; i < kMaxSlots; ++i) {
            if (o == &words_[i]) return "slot " + std::to_string(i);
            if (o == &leaf_[i]) return "leaf " + std::to_string(i);
        }
        if (o == &l1_[0]) return "L1[0]";
        if (o == &l1_[1]) return "L1[1]";
        if (o == &l2_) return "L2[0]";
        if (o == &root_) return "root";
        if (o == &frontier_) return "frontier";
        if (o == &spare_) return "spare";
        if (o == &sweep_now_) return "sweep_now";
        if (o == &prefix_) return "prefix";
        if (o == &clock_) return "clock";
        if (o == &boundaries_) return "(op bound)";
        return "?";
    }

    // Ends the running execution after the current choice (explore.hpp).
    void abandon() noexcept { sched_.abort(); }

    // Runs one execution and returns what happened.
    Execution run(const Chooser& choose, int max_preemptions) {
        reset_state();
        x_ = Execution{};
        sched_.run(choose, max_preemptions);
        for (int i = 0; i < cfg_.slots; ++i) x_.final_words[static_cast<std::size_t>(i)] = words_[i].v;
        for (int i = 0; i < kMaxSlots; ++i) x_.final_free.leaf[static_cast<std::size_t>(i)] = leaf_[i].v;
        x_.final_free.l1 = {l1_[0].v, l1_[1].v};
        x_.final_free.l2 = l2_.v;
        x_.final_free.root = root_.v;
        x_.final_free.frontier = frontier_.v;
        x_.final_free.spare = spare_.v;
        x_.final_prefix = prefix_.v;
        return std::move(x_);
    }

private:
    using Geo = free_index::Geometry<ModelGeometry>;

    struct Store {
        World* w;
        struct Path {
            StepAtomic* line;
            StepAtomic* l1;
        };
        Path at(std::uint32_t i) const { return {&w->leaf_[Geo::line_of(i)], &w->l1_[Geo::word_at(1, i)]}; }
        StepAtomic& summary(unsigned level, std::uint32_t i) const { return level == 1 ? w->l1_[i] : w->l2_; }
        StepAtomic& root() const { return w->root_; }
        StepAtomic& frontier() const { return w->frontier_; }
        StepAtomic& spare() const { return w->spare_; }
        // The token RMW was this thread's last step.
        void on_token(std::uint32_t i) const {
            const int t = w->sched_.current();
            w->x_.tokens.push_back(Token{t, static_cast<int>(i), w->sched_.op_last(t), -1});
        }
    };

    struct ClaimEnv {
        using Geometry = ModelGeometry;
        using FreePolicy = typename P::Free;
        using AnnouncePolicy = typename P::Announce;
        using ClaimPolicy = typename P::Claim;
        World& w;
        int t;
        Store st{&w};
        Store& store() { return st; }
        StepAtomic& slot(std::uint32_t i) { return w.words_[i]; }
        StepAtomic& sweep_now() { return w.sweep_now_; }
        std::uint64_t now_ms() { return w.cfg_.announce ? w.now() : kNow; }
        std::uint64_t index_limit() const { return static_cast<std::uint64_t>(w.cfg_.slots); }
        static bool within_gap(std::uint32_t) { return true; }
        static addrpool::Result<bool> prepare(std::uint32_t) { return true; }  // every model slot is derived
        template <class Path>
        static void candidate(std::uint32_t, const Path&) noexcept {}  // a hint only: nothing to model
        static addrpool::Error gap_error(std::uint32_t) { return addrpool::make_error(addrpool::Errc::gap_limit_reached, ""); }
        static addrpool::Error full_error() { return addrpool::make_error(addrpool::Errc::index_out_of_range, ""); }
        void on_token_spent(std::uint32_t i, bool) {
            for (auto it = w.x_.tokens.rbegin(); it != w.x_.tokens.rend(); ++it) {
                if (it->thread == t && it->slot == static_cast<int>(i) && it->to < 0) {
                    it->to = w.sched_.op_last(t);
                    break;
                }
            }
        }
        void on_lost(std::uint32_t i, std::uint32_t g) {  // a sweep freed the claim first: it starts over
            w.end_op(t, Op::claim, static_cast<int>(i), g, true);
            w.x_.history.back().lost = true;
            w.begin_op(t);
        }
    };

    struct SweepEnv {
        using Geometry = ModelGeometry;
        using FreePolicy = typename P::Free;
        using AnnouncePolicy = typename P::Announce;
        using PrefixPolicy = typename P::Prefix;
        World& w;
        int t;
        std::uint64_t at;
        int announced = -1;
        int freed_gen = -1;
        Store st{&w};
        Store& store() { return st; }
        StepAtomic& sweep_now() { return w.sweep_now_; }
        StepAtomic& prefix() { return w.prefix_; }
        void on_announced() { announced = w.sched_.op_last(t); }
        void on_freed(std::uint32_t, slot::Word freed) { freed_gen = static_cast<int>(slot::gen(freed)); }
        template <class F>
        void for_each_slot(std::uint32_t from, F&& visit) {
            for (int i = static_cast<int>(from); i < w.cfg_.slots; ++i) {
                w.begin_op(t);
                freed_gen = -1;
                visit(static_cast<std::uint32_t>(i), w.words_[i]);
                w.end_op(t, Op::sweep, i, freed_gen < 0 ? 0 : static_cast<std::uint32_t>(freed_gen), freed_gen >= 0);
                w.x_.history.back().announced = announced;
                w.x_.history.back().at = at;
            }
        }
    };

    void reset_state() {
        for (int i = 0; i < kMaxSlots; ++i) {
            words_[i].v = i < cfg_.slots ? cfg_.initial[static_cast<std::size_t>(i)] : 0;
            leaf_[i].v = 0;
        }
        l1_[0].v = l1_[1].v = l2_.v = 0;
        root_.v = 1;
        frontier_.v = cfg_.frontier;
        spare_.v = cfg_.spare_free ? 0 : kSpareHeld + 1;
        sweep_now_.v = 0;
        prefix_.v = 0;
        clock_.v = 0;
        boundaries_.v = 0;
        // Unused slots below the initial frontier start findable (invariant (I)).
        for (int j = 0; j < static_cast<int>(cfg_.frontier) && j < cfg_.slots; ++j) {
            if (!slot::is_unused(words_[j].v)) continue;
            leaf_[j].v = 1;
            if (j >= 2) root_.v = 2;
        }
        for (int j = 0; j < static_cast<int>(cfg_.frontier) && j < cfg_.slots; ++j) {
            if (!slot::is_unused(words_[j].v)) continue;
            l1_[j >> 1].v |= Word{1} << (j & 1);
            if (root_.v == 2) l2_.v |= Word{1} << (j >> 1);
        }
        if (root_.v == 2 && (l1_[0].v & free_index::kBitsMask) != 0) l2_.v |= 1;
    }

    void record() {
        std::array<Word, kMaxSlots> s{};
        for (int i = 0; i < cfg_.slots; ++i) s[static_cast<std::size_t>(i)] = words_[i].v;
        x_.states.push_back(s);
    }

    // An operation's invocation and response are steps of their own, on one
    // shared object: the explorer's sleep sets then keep every real-time
    // order of operations (which linearizability and the no-holes rule
    // depend on) while commuting the independent steps inside them.
    void begin_op(int t) {
        sched_.begin_op(t);
        boundaries_.fetch_add(1);
    }
    void end_op(int t, Op op, int slot_index, std::uint32_t gen, bool result) {
        const int before_response = sched_.op_last(t);
        boundaries_.fetch_add(1);
        x_.history.push_back(Event{op, t, slot_index, gen, result, sched_.op_first(t), sched_.op_last(t)});
        x_.history.back().settled = before_response;
    }

    // The running clock of the announce configurations: a logical clock
    // that every reading advances, so every reading after another's is
    // larger (monotonic), and a reading is a scheduling point that depends
    // only on other readings (partial-order reduction can commute it with
    // everything else).
    std::uint64_t now() { return clock_.fetch_add(1) + 1; }

    void mark_free(int i) {
        Store st{this};
        free_index::mark_free<ModelGeometry, typename P::Free>(st, static_cast<std::uint32_t>(i));  // (F1)
    }
    // What the pool's releases do (pool.cpp): park, or set the bits (F7).
    void mark_released(int i) {
        Store st{this};
        const auto u = static_cast<std::uint32_t>(i);
        free_index::mark_released<ModelGeometry, typename P::Free>(st, u, [&] { return st.at(u); });
    }

    // The thread's program: the pool's operations, in its own words.
    void program(int t) {
        // (slot, gen) of each claim; -1: found nothing. A fixed array: an
        // abandoned execution discards this stack without destructors.
        struct Held {
            int first;  // slot
            std::uint32_t second;  // gen
        };
        std::array<Held, 8> held_store{};
        std::size_t held_count = 0;
        struct HeldView {
            std::array<Held, 8>& a;
            std::size_t& n;
            std::size_t size() const { return n; }
            Held& operator[](std::size_t i) { return a[i]; }
            void emplace_back(int s, std::uint32_t g) { a[n++] = Held{s, g}; }
        } held{held_store, held_count};
        for (const Instr& in : cfg_.threads[static_cast<std::size_t>(t)]) {
            const bool needs_holding = in.op == Op::release_index || in.op == Op::release_ticket ||
                                       in.op == Op::stale_release || in.op == Op::mark_held;
            if (needs_holding &&
                (in.arg >= static_cast<int>(held.size()) || held[static_cast<std::size_t>(in.arg)].first < 0)) {
                continue;  // that claim found nothing: skip
            }
            switch (in.op) {
                case Op::claim: {
                    begin_op(t);
                    ClaimEnv env{*this, t};
                    auto r = addrpool::detail::handout::claim(env, /*add_to_state=*/false);
                    if (r) {
                        held.emplace_back(static_cast<int>(r->index), r->gen);
                        end_op(t, Op::claim, static_cast<int>(r->index), r->gen, true);
                        x_.history.back().stamp = r->stamp;
                    } else {
                        held.emplace_back(-1, 0);
                        end_op(t, Op::claim, -1, 0, false);
                    }
                    break;
                }
                case Op::release_index:
                case Op::release_slot: {
                    const int i = in.op == Op::release_slot ? in.arg : held[static_cast<std::size_t>(in.arg)].first;
                    begin_op(t);
                    const bool r = slot::release(words_[i]);  // (S2)
                    if (r && P::release_marks_free) mark_released(i);
                    end_op(t, in.op, i, 0, r);
                    break;
                }
                case Op::release_ticket:
                case Op::stale_release: {
                    const auto [i, g] = held[static_cast<std::size_t>(in.arg)];
                    begin_op(t);
                    const bool r = P::ticket_checked ? slot::release_ticket(words_[i], g) : slot::release(words_[i]);  // (S3)
                    if (r && P::release_marks_free) mark_released(i);
                    end_op(t, in.op, i, g, r);
                    break;
                }
                case Op::sweep: {
                    SweepEnv env{*this, t, 0};
                    sched_.begin_op(t);
                    env.at = cfg_.announce ? now() : kNow;
                    env.announced = sched_.op_last(t);
                    addrpool::detail::sweep::run(env, env.at, cfg_.announce ? kAnnounceTtl : kTtl);
                    break;
                }
                case Op::mark_held:
                case Op::mark_index: {
                    const int i = in.op == Op::mark_held ? held[static_cast<std::size_t>(in.arg)].first : in.arg;
                    begin_op(t);
                    const bool r = slot::mark_used(words_[i], /*require_known=*/true);  // (S5)
                    end_op(t, Op::mark_index, i, 0, r);
                    break;
                }
                case Op::reset: {  // AddressPool::reset_usage
                    if (!P::reset_frees_before_restart) used_prefix::restart<typename P::Prefix>(prefix_);  // (P3) too early
                    for (int i = 0; i < cfg_.slots; ++i) {
                        begin_op(t);
                        const bool r = slot::reset(words_[i]);  // (S8)
                        if (r) mark_free(i);
                        end_op(t, Op::reset, i, 0, r);
                    }
                    if (P::reset_frees_before_restart) used_prefix::restart<typename P::Prefix>(prefix_);  // (P3)
                    break;
                }
                case Op::restore: {  // AddressPool::restore_reservation: exactly this slot, stamped long ago
                    const int i = in.arg;
                    begin_op(t);
                    slot::Word w = slot::load(words_[i]);
                    bool ok = false;
                    while (slot::is_unused(w) && !ok) ok = slot::try_claim(words_[i], w, /*stamp=*/0, true);  // (S1)
                    const std::uint32_t g = ok ? slot::next_gen(slot::gen(w)) : 0;
                    held.emplace_back(ok ? i : -1, g);
                    end_op(t, Op::restore, i, g, ok);
                    x_.history.back().stamp = 0;
                    break;
                }
            }
        }
    }

    const Config& cfg_;
    Scheduler sched_;
    Execution x_;
    StepAtomic words_[kMaxSlots];
    StepAtomic leaf_[kMaxSlots];
    StepAtomic l1_[2];
    StepAtomic l2_;
    StepAtomic root_;
    StepAtomic frontier_;
    StepAtomic spare_;  // (F7)/(F8)
    StepAtomic sweep_now_;
    StepAtomic prefix_;
    StepAtomic clock_;
    StepAtomic boundaries_;  // invocations and responses (begin_op / end_op)
};

}  // namespace model

#endif  // ADDRPOOL_STRESS_MODEL_WORLD_HPP
