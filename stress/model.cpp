// addrpool-model: the slot protocol of lib/slot.hpp checked under every
// interleaving of its atomic steps, on ≤ 4 slots and 2–3 threads.
//
// The very functions the pool runs (slot::try_claim, release,
// release_ticket, sweep_one, mark_used, load) are instantiated over
// StepAtomic, whose every operation first yields to a deterministic
// scheduler. Model threads are fibers (ucontext) on one OS thread, so a
// switch is cheap and every execution is exactly reproducible from its list
// of scheduling choices. Exhaustive mode enumerates all choice sequences
// (stateless DFS, each execution replayed from the start); random mode draws
// seeded schedules. The claim mirrors the pool's scan: slots in order from
// where it starts, load, try_claim, retry while the slot stays unused. In the
// "hint-*" configurations it starts where the cursor hint says and moves the
// hint as the pool does, and every release and sweep lowers it — the very
// functions of lib/hint.hpp (start, advance, lower) over the same stepping
// atomic; the other configurations scan from slot 0 without a hint.
// In the "announce-*" configurations time runs (the clock reads the global
// step count), claims are stamped when they read it, and the sweep
// announcement of pool.cpp is mirrored: the sweep publishes its clock
// reading before scanning (C0, slot::announce_sweep); a claim that sees an
// announcement later than its stamp re-stamps its reservation before
// returning it, re-checking after each re-stamp, or, if the sweep freed it
// first, starts over (C2, slot::settle_stamp) — the pool's own functions
// over the stepping atomic. The sweep scans with slot::load_for_sweep (S9).
//
// Each execution's history is checked against the sequential specification:
//  - linearizability (Wing & Gong search over the real-time order): claim
//    takes an unused slot and bumps its generation; release by index frees
//    only a reserved slot; release by ticket only while the generation
//    matches (a late second release never frees another holder); the sweep
//    frees, slot by slot, only reservations whose stamp + ttl <= now (every
//    reservation taken during the run is stamped now, so the sweep must never
//    free one); mark used turns any known slot used. The linearization must
//    also end in the actual final slot words.
//  - no holes: a claim that returns slot i (or "full") saw every lower slot
//    taken at some step inside its own interval, so a released slot is
//    reusable. (Not "the lowest unused slot at one instant": a scan may pass
//    slot 0 while it is reserved and claim slot 2 after slot 0 was freed and
//    slot 1 taken.) With the hint, one exception, the hint's real promise: a
//    claim may skip a slot freed by a release or sweep that had not returned
//    (not yet lowered the hint) when the claim began; once it has returned,
//    every claim that starts later must find that slot.
//  - hint at rest: after all threads finish, the hint's index is at or
//    below the lowest unused slot, so the next hand-out cannot skip it.
//  - sweep announcement: a sweep never frees a reservation that a claim
//    returned after the sweep announced itself (a reservation taken while
//    the sweep runs is never freed by it); one it frees was returned before
//    the announcement, or never returned (that claim started over). In
//    these configurations stamps move (re-stamps), so the specification
//    ignores them and a sweep's result is checked only for the generation
//    it freed.
// Compare-exchange-weak never fails spuriously here (a spurious failure only
// re-runs the same loop iteration).
//
//   addrpool-model [--random N [--seed S] | --preemptions K] [--limit N] [--config NAME] [--two-threads]
//                  [--mutant 1..8]
// --preemptions K: every interleaving with at most K preemptions (a switch
// away from a thread that could go on), for every configuration including
// the random-only ones; most concurrency bugs need only a few.
// Exit 0: every execution correct; 1: a violation (schedule and history printed).
#include "pool/hint.hpp"
#include "pool/slot.hpp"

#include <ucontext.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#define MODEL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MODEL_TSAN 1
#endif
#endif

#ifdef MODEL_TSAN
// ThreadSanitizer must be told about stack switches, or its shadow call
// stack and happens-before state go wrong.
extern "C" {
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
}
#endif

namespace {

namespace slot = addrpool::detail::slot;
namespace hint = addrpool::detail::hint;
using Word = slot::Word;

constexpr std::uint64_t kNow = 10;  // stamp of every claim during a run, and the sweep's "now"
constexpr std::uint64_t kTtl = 10;  // so only stamp-0 (pre-existing) reservations are expired
// Announce configurations: the clock is the step count and the TTL one step,
// so the sweep may free any reservation stamped before its clock reading —
// including ones whose claim is still running, which is the race C0/C2 close.
constexpr std::uint64_t kAnnounceTtl = 1;
constexpr int kMaxThreads = 3;
constexpr int kMaxSlots = 4;

class Scheduler;
Scheduler* g_sched = nullptr;
// --mutant: a deliberately broken protocol, to show the checker catches it.
//   1: claim as load-then-store (no CAS); 2: release by ticket ignores the ticket;
//   3: the hint moves forward whatever its version; 4: lowering the hint
//   does not bump its version; 5: a claim ignores the sweep announcement
//   (no C2); 6: the sweep does not announce itself (no C0); 7: the claim
//   checks the announcement once and does not re-check after re-stamping;
//   8: the claim checks it at most twice.
int g_mutant = 0;

// ---- the stepping atomic ----------------------------------------------------

void step();  // yields to the scheduler; returns when this thread may do one atomic op

struct StepAtomic {
    Word v = 0;
    Word load(boost::memory_order) const {
        step();
        return v;
    }
    void store(Word d, boost::memory_order) {
        step();
        v = d;
    }
    bool compare_exchange_strong(Word& expected, Word desired, boost::memory_order, boost::memory_order) {
        step();
        if (v == expected) {
            v = desired;
            return true;
        }
        expected = v;
        return false;
    }
    bool compare_exchange_weak(Word& e, Word d, boost::memory_order s, boost::memory_order f) {
        return compare_exchange_strong(e, d, s, f);
    }
};

// ---- programs and histories ---------------------------------------------------

enum class Op { claim, release_index, release_ticket, stale_release, sweep, mark_held, mark_index };
struct Instr {
    Op op;
    int arg = 0;  // holding number (k-th successful claim of this thread) or slot index
};
struct Config {
    const char* name;
    bool hint;        // scan from the cursor hint and maintain it (lib/hint.hpp)
    bool announce;    // running clock, sweep announcement (C0) and claim re-stamp (C2)
    bool exhaustive;  // false: too many interleavings, random schedules only
    int slots;
    std::vector<Word> initial;
    std::vector<std::vector<Instr>> threads;
};

// One completed operation (a sweep contributes one entry per slot).
struct Event {
    Op op;
    int thread;
    int slot;          // -1 for a claim that found nothing
    std::uint32_t gen; // claim: the ticket's generation; release_ticket: the ticket's
    bool result;
    int first, last;   // steps of its first and last atomic operation
    // Announce configurations only:
    bool lost = false;        // claim: a sweep freed it before it returned; it started over
    int announced = -1;       // sweep: the step of its announcement (C0)
    std::uint64_t stamp = 0;  // claim: its stamp (after any re-stamp); sweep: the stamp it examined
    std::uint64_t at = 0;     // sweep: its clock reading
    int scan_from = 0;        // claim: the slot its (last) scan started at (the hint's index)
};

Word abandoned_word() { return slot::claimed(0, /*stamp=*/0, /*materialize=*/true); }  // gen 1, stamp 0

// ---- scheduler ---------------------------------------------------------------

class Scheduler {
public:
    explicit Scheduler(const Config& c) : cfg_(c), n_(static_cast<int>(c.threads.size())) {
        for (int t = 0; t < n_; ++t) prepare(fibers_[t], t);
#ifdef MODEL_TSAN
        main_tsan_ = __tsan_get_current_fiber();
#endif
    }
    ~Scheduler() {
#ifdef MODEL_TSAN
        for (int t = 0; t < n_; ++t) __tsan_destroy_fiber(fibers_[t].tsan);
#endif
    }

    // Runs one execution. choose(k) picks among k runnable threads.
    // max_preemptions >= 0 bounds how often a thread that could go on is
    // switched away from (preemption bounding, as in CHESS): with the bound
    // spent, the running thread continues until it finishes; switches after
    // a thread finished are free.
    void run(const std::function<int(int)>& choose, int max_preemptions = -1) {
        for (int i = 0; i < cfg_.slots; ++i) words_[i].v = cfg_.initial[static_cast<std::size_t>(i)];
        hint_.v = 0;
        sweep_now_.v = 0;
        history_.clear();
        states_.clear();
        step_no_ = -1;
        for (int t = 0; t < n_; ++t) fibers_[t].done = false;
        // Let every thread run its local code up to its first atomic step.
        for (int t = 0; t < n_; ++t) resume(t);
        int runnable[kMaxThreads];
        int last = -1, preemptions = 0;
        for (;;) {
            int k = 0;
            for (int t = 0; t < n_; ++t) {
                if (!fibers_[t].done) runnable[k++] = t;
            }
            if (k == 0) break;
            const bool last_runnable = last >= 0 && !fibers_[last].done;
            int t;
            if (k == 1) {
                t = runnable[0];
            } else if (last_runnable && max_preemptions >= 0 && preemptions >= max_preemptions) {
                t = last;  // budget spent: no choice here
            } else {
                t = runnable[choose(k)];
            }
            if (last_runnable && t != last) ++preemptions;
            last = t;
            ++step_no_;
            resume(t);  // exactly one atomic op of t, then its local code up to the next
            std::array<Word, kMaxSlots> s{};
            for (int i = 0; i < cfg_.slots; ++i) s[static_cast<std::size_t>(i)] = words_[i].v;
            states_.push_back(s);
        }
    }

    // Called by StepAtomic from a model thread.
    void yield_from_thread() {
        const int t = current_;
        switch_to_main(t);
        // Resumed: this op is step step_no_.
        if (op_first_[t] < 0) op_first_[t] = step_no_;
        op_last_[t] = step_no_;
    }

    const std::vector<Event>& history() const { return history_; }
    const std::vector<std::array<Word, kMaxSlots>>& states() const { return states_; }
    Word final_word(int i) const { return words_[i].v; }
    Word final_hint() const { return hint_.v; }

private:
    static constexpr std::size_t kStack = 64 * 1024;
    struct Fiber {
        ucontext_t ctx;
        std::unique_ptr<char[]> stack;
        bool done = false;
        void* tsan = nullptr;
    };

    // Separate and not inlined: getcontext returns twice, which must not
    // touch the caller's loop variables (-Wclobbered).
    [[gnu::noinline]] static void prepare(Fiber& f, int t) {
        f.stack.reset(new char[kStack]);
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack.get();
        f.ctx.uc_stack.ss_size = kStack;
        f.ctx.uc_link = nullptr;
        makecontext(&f.ctx, reinterpret_cast<void (*)()>(&Scheduler::entry), 1, t);
#ifdef MODEL_TSAN
        f.tsan = __tsan_create_fiber(0);
#endif
    }

    static void entry(int t) {
        // A fiber never returns: after its program it parks, and the next
        // execution resumes it from the top of the loop.
        for (;;) {
            g_sched->program(t);
            g_sched->fibers_[t].done = true;
            g_sched->switch_to_main(t);
        }
    }

    void resume(int t) {
        current_ = t;
#ifdef MODEL_TSAN
        __tsan_switch_to_fiber(fibers_[t].tsan, 0);
#endif
        swapcontext(&main_, &fibers_[t].ctx);
    }
    void switch_to_main(int t) {
#ifdef MODEL_TSAN
        __tsan_switch_to_fiber(main_tsan_, 0);
#endif
        swapcontext(&fibers_[t].ctx, &main_);
    }

    void begin_op(int t) { op_first_[t] = -1; }
    void end_op(int t, Op op, int slot_index, std::uint32_t gen, bool result) {
        history_.push_back(Event{op, t, slot_index, gen, result, op_first_[t], op_last_[t]});
    }

    // The thread's program, over the real slot functions.
    void program(int t) {
        std::vector<std::pair<int, std::uint32_t>> held;  // (slot, gen) of each successful claim
        for (const Instr& in : cfg_.threads[static_cast<std::size_t>(t)]) {
            const bool needs_holding = in.op == Op::release_index || in.op == Op::release_ticket ||
                                       in.op == Op::stale_release || in.op == Op::mark_held;
            if (needs_holding && (in.arg >= static_cast<int>(held.size()) || held[static_cast<std::size_t>(in.arg)].first < 0)) {
                continue;  // that claim found nothing: skip
            }
            switch (in.op) {
                case Op::claim: {
                    begin_op(t);
                    int got = -1;
                    std::uint32_t g = 0;
                    std::uint64_t last_stamp = 0;
                    int scan_from = 0;
                    for (;;) {  // restarts only when a sweep freed the claim before it returned (C2)
                        got = -1;
                        std::uint64_t stamp = kNow;
                        const Word h0 = cfg_.hint ? hint::start(hint_) : 0;
                        scan_from = static_cast<int>(hint::index(h0));
                        for (int i = static_cast<int>(hint::index(h0)); i < cfg_.slots && got < 0; ++i) {
                            Word w = slot::load(words_[i]);
                            // Read once per slot found unused, right before its claim, as the pool does.
                            if (cfg_.announce && slot::is_unused(w)) stamp = now();
                            while (slot::is_unused(w)) {
                                if (g_mutant == 1) {  // broken: the slot may have changed since the load
                                    words_[i].store(slot::claimed(w, stamp, false), boost::memory_order_release);
                                    got = i;
                                    g = slot::next_gen(slot::gen(w));
                                    break;
                                }
                                if (slot::try_claim(words_[i], w, stamp, false)) {
                                    got = i;
                                    g = slot::next_gen(slot::gen(w));
                                    break;
                                }
                            }
                        }
                        if (cfg_.hint && got >= 0) advance_hint(h0, static_cast<std::uint32_t>(got));
                        // (C2): slot::settle_stamp, as pool.cpp claim() calls it.
                        if (got >= 0 && cfg_.announce && g_mutant != 5 &&
                            !(g_mutant == 7 || g_mutant == 8 ? settle_bounded(words_[got], g, stamp, g_mutant - 6)
                                            : slot::settle_stamp(sweep_now_, words_[got], g, stamp, [this] { return now(); }))) {
                            end_op(t, Op::claim, got, g, true);
                            history_.back().lost = true;
                            history_.back().scan_from = scan_from;
                            begin_op(t);
                            continue;
                        }
                        last_stamp = stamp;
                        break;
                    }
                    held.emplace_back(got, g);
                    end_op(t, Op::claim, got, g, got >= 0);
                    history_.back().stamp = last_stamp;
                    history_.back().scan_from = scan_from;
                    break;
                }
                case Op::release_index: {
                    const int i = held[static_cast<std::size_t>(in.arg)].first;
                    begin_op(t);
                    const bool r = slot::release(words_[i]);
                    if (r) lower_hint(static_cast<std::uint32_t>(i));
                    end_op(t, Op::release_index, i, 0, r);
                    break;
                }
                case Op::release_ticket:
                case Op::stale_release: {
                    const auto [i, g] = held[static_cast<std::size_t>(in.arg)];
                    begin_op(t);
                    const bool r = g_mutant == 2 ? slot::release(words_[i]) : slot::release_ticket(words_[i], g);
                    if (r) lower_hint(static_cast<std::uint32_t>(i));
                    end_op(t, in.op, i, g, r);
                    break;
                }
                case Op::sweep: {
                    // As AddressPool::sweep_expired_reservations, slot by slot,
                    // then one lower() to the lowest slot it freed. A freeing
                    // event's interval ends with that lower(): until then the
                    // sweep of that slot has not returned.
                    std::vector<std::size_t> freed;
                    int lowest = -1;
                    const std::uint64_t ttl = cfg_.announce ? kAnnounceTtl : kTtl;
                    std::uint64_t at = kNow;
                    int announced = -1;  // the step the sweep began (its clock read, then its announcement)
                    if (cfg_.announce) {
                        begin_op(t);
                        at = now();
                        announced = op_last_[t];
                    }
                    if (cfg_.announce && g_mutant != 6) {
                        slot::announce_sweep(sweep_now_, at);  // (C0), as pool.cpp's sweep calls it
                        announced = op_last_[t];
                    }
                    for (int i = 0; i < cfg_.slots; ++i) {
                        begin_op(t);
                        const Word w = cfg_.announce ? slot::load_for_sweep(words_[i]) : slot::load(words_[i]);
                        bool r = false;
                        if (slot::is_reserved(w) && slot::stamp(w) + ttl <= at) r = slot::sweep_one(words_[i], w);
                        end_op(t, Op::sweep, i, r ? slot::gen(w) : 0, r);
                        history_.back().announced = announced < 0 ? history_.back().first : announced;
                        history_.back().stamp = slot::is_reserved(w) ? slot::stamp(w) : 0;
                        history_.back().at = at;
                        if (r) {
                            freed.push_back(history_.size() - 1);
                            if (lowest < 0) lowest = i;
                        }
                    }
                    if (lowest >= 0 && cfg_.hint) {
                        begin_op(t);
                        lower_hint(static_cast<std::uint32_t>(lowest));
                        for (std::size_t k : freed) history_[k].last = op_last_[t];
                    }
                    break;
                }
                case Op::mark_held:
                case Op::mark_index: {
                    const int i = in.op == Op::mark_held ? held[static_cast<std::size_t>(in.arg)].first : in.arg;
                    begin_op(t);
                    const bool r = slot::mark_used(words_[i], /*require_known=*/true);
                    end_op(t, Op::mark_index, i, 0, r);
                    break;
                }
            }
        }
    }

    // The running clock of the announce configurations. Reading it is a
    // scheduling point of its own (time passes between any two steps), and it
    // returns that step's number: monotonic, in real-time order, and every
    // reading after another's is larger.
    std::uint64_t now() {
        step();
        return static_cast<std::uint64_t>(step_no_ + 1);
    }

    // --mutant 7 / 8: (C2) checked at most once / twice, not until it holds
    // (7 is the pool's code until the model found the schedule that defeats it).
    bool settle_bounded(StepAtomic& word, std::uint32_t g, std::uint64_t& stamp, int checks) {
        for (int k = 0; k < checks; ++k) {
            if (sweep_now_.load(boost::memory_order_seq_cst) <= stamp) return true;
            stamp = now();
            if (!slot::restamp(word, g, stamp)) return false;
        }
        return true;
    }

    // hint::advance / hint::lower, or their --mutant 3 / 4 breakages (the
    // stepping atomic is sequentially consistent whatever order is named).
    void advance_hint(Word h0, std::uint32_t claimed) {
        if (g_mutant != 3) return hint::advance(hint_, h0, claimed);
        Word cur = hint_.load(boost::memory_order_relaxed);  // broken: ignores the version
        while (hint::index(cur) < claimed + 1 &&
               !hint_.compare_exchange_weak(cur, hint::make(hint::version(cur), claimed + 1), boost::memory_order_acq_rel,
                                            boost::memory_order_relaxed)) {
        }
    }
    void lower_hint(std::uint32_t i) {
        if (!cfg_.hint) return;
        if (g_mutant != 4) return hint::lower(hint_, i);
        Word cur = hint_.load(boost::memory_order_relaxed);  // broken: keeps the version
        while (!hint_.compare_exchange_weak(cur, hint::make(hint::version(cur), std::min(hint::index(cur), i)),
                                            boost::memory_order_acq_rel, boost::memory_order_relaxed)) {
        }
    }

    const Config& cfg_;
    int n_;
    Fiber fibers_[kMaxThreads];
    ucontext_t main_{};
    void* main_tsan_ = nullptr;
    int current_ = 0;
    int step_no_ = -1;
    int op_first_[kMaxThreads] = {};
    int op_last_[kMaxThreads] = {};
    StepAtomic words_[kMaxSlots];
    StepAtomic hint_;
    StepAtomic sweep_now_;  // the latest sweep's clock reading (pool.cpp sweep_now)
    std::vector<Event> history_;
    std::vector<std::array<Word, kMaxSlots>> states_;  // words after each step
};

void step() { g_sched->yield_from_thread(); }

// ---- the sequential specification ---------------------------------------------

struct SpecSlot {
    Word state = slot::kUnused;
    std::uint32_t gen = 0;
    bool generated = false;
    std::uint64_t stamp = 0;
    bool operator==(const SpecSlot&) const = default;
};
using Spec = std::array<SpecSlot, kMaxSlots>;

// Set by check() for the configuration at hand: with a running clock, stamps
// move by re-stamps the specification does not model, so it ignores them.
bool g_spec_ignores_stamps = false;

SpecSlot spec_of(Word w) {
    const bool keep = slot::is_reserved(w) && !g_spec_ignores_stamps;
    return SpecSlot{slot::state(w), slot::gen(w), slot::is_generated(w), keep ? slot::stamp(w) : 0};
}

// Applies e to s if its result is what the spec says; false otherwise.
bool apply(Spec& s, const Event& e) {
    if (e.slot < 0) return true;  // "full": checked by the no-holes rule instead
    SpecSlot& x = s[static_cast<std::size_t>(e.slot)];
    const bool reserved = x.state == slot::kReserved;
    switch (e.op) {
        case Op::claim:
            if (x.state != slot::kUnused || slot::next_gen(x.gen) != e.gen) return false;
            x.state = slot::kReserved, x.gen = e.gen, x.stamp = g_spec_ignores_stamps ? 0 : kNow;
            return true;
        case Op::release_index:
            if (e.result != reserved) return false;
            if (e.result) x.state = slot::kUnused, x.stamp = 0;
            return true;
        case Op::release_ticket:
        case Op::stale_release: {
            const bool want = reserved && x.gen == e.gen;
            if (e.result != want) return false;
            if (want) x.state = slot::kUnused, x.stamp = 0;
            return true;
        }
        case Op::sweep: {
            if (g_spec_ignores_stamps) {  // freed: exactly the generation it examined (e.gen)
                if (!e.result) return true;
                if (!reserved || x.gen != e.gen) return false;
                x.state = slot::kUnused;
                return true;
            }
            const bool expired = reserved && x.stamp + kTtl <= kNow;
            if (e.result != expired) return false;
            if (expired) x.state = slot::kUnused, x.stamp = 0;
            return true;
        }
        case Op::mark_held:
        case Op::mark_index: {
            const bool want = x.state != slot::kUsed && (x.generated || x.state != slot::kUnused);
            if (e.result != want) return false;
            if (want) x.state = slot::kUsed, x.generated = true, x.stamp = 0;
            return true;
        }
    }
    return false;
}

// Wing & Gong: is there an order of the events, respecting real time, in
// which every result matches the spec and which ends in `final`?
bool linearizable(const std::vector<Event>& h, Spec s, const Spec& final, std::uint32_t done) {
    if (done == (1u << h.size()) - 1) return s == final;
    for (std::size_t a = 0; a < h.size(); ++a) {
        if (done & (1u << a)) continue;
        bool minimal = true;  // no pending event finished before a began
        for (std::size_t b = 0; b < h.size() && minimal; ++b) {
            if (b != a && !(done & (1u << b)) && h[b].last < h[a].first) minimal = false;
        }
        if (!minimal) continue;
        Spec next = s;
        if (apply(next, h[a]) && linearizable(h, next, final, done | (1u << a))) return true;
    }
    return false;
}

const char* op_name(Op op) {
    switch (op) {
        case Op::claim: return "claim";
        case Op::release_index: return "release(index)";
        case Op::release_ticket: return "release(ticket)";
        case Op::stale_release: return "stale release(ticket)";
        case Op::sweep: return "sweep";
        case Op::mark_held:
        case Op::mark_index: return "mark used";
    }
    return "?";
}

std::string describe(const Scheduler& s, const std::vector<int>& choices, const Config& c) {
    std::ostringstream o;
    o << "  schedule (choice per step):";
    for (int x : choices) o << ' ' << x;
    o << "\n  history:\n";
    for (const Event& e : s.history()) {
        o << "    thread " << e.thread << " " << op_name(e.op) << " slot " << e.slot << " gen " << e.gen << " -> "
          << (e.result ? "true" : "false") << (e.lost ? " (lost to a sweep, started over)" : "") << "  steps ["
          << e.first << ", " << e.last << "]";
        if (e.op == Op::sweep && c.announce) {
            o << " clock " << e.at << ", announced at step " << e.announced << ", examined stamp " << e.stamp;
        }
        if (e.op == Op::claim && c.announce && e.result) o << " stamp " << e.stamp;
        o << "\n";
    }
    o << "  final words:";
    for (int i = 0; i < c.slots; ++i) o << " 0x" << std::hex << s.final_word(i) << std::dec;
    if (c.hint) o << "; hint index " << hint::index(s.final_hint()) << " version " << hint::version(s.final_hint());
    o << "\n";
    return o.str();
}

// Checks one execution; returns an empty string if it is correct.
std::string check(const Scheduler& s, const Config& c) {
    const auto& h = s.history();
    if (h.size() > 31) return "history too long for the checker";
    g_spec_ignores_stamps = c.announce;
    // A sweep frees no reservation returned after it announced itself.
    for (const Event& f : h) {
        if (!c.announce || f.op != Op::sweep || !f.result) continue;
        for (const Event& e : h) {
            if (e.op == Op::claim && !e.lost && e.result && e.slot == f.slot && e.gen == f.gen && e.last > f.announced) {
                return "sweep by thread " + std::to_string(f.thread) + " freed slot " + std::to_string(f.slot) +
                       " gen " + std::to_string(f.gen) + ", which thread " + std::to_string(e.thread) +
                       " was handed at step " + std::to_string(e.last) + ", after the sweep announced itself at step " +
                       std::to_string(f.announced);
            }
        }
    }
    Spec init{}, final{};
    for (int i = 0; i < c.slots; ++i) {
        init[static_cast<std::size_t>(i)] = spec_of(c.initial[static_cast<std::size_t>(i)]);
        final[static_cast<std::size_t>(i)] = spec_of(s.final_word(i));
    }
    // No holes: every slot below the one a claim took was taken at some step
    // of that claim.
    auto is_free_of = [](const Event& f, int j) {
        return f.slot == j && f.result &&
               (f.op == Op::release_index || f.op == Op::release_ticket || f.op == Op::stale_release ||
                f.op == Op::sweep);
    };
    for (const Event& e : h) {
        if (e.op != Op::claim) continue;
        const int upto = e.slot < 0 ? c.slots : e.slot;
        for (int j = 0; j < upto; ++j) {
            bool taken = false;
            for (int st = e.first; st <= e.last && !taken; ++st) {
                taken = !slot::is_unused(s.states()[static_cast<std::size_t>(st)][static_cast<std::size_t>(j)]);
            }
            // j was unused throughout the claim, so no free of j happened
            // inside it: an overlapping free made j unused before the claim
            // began and had not returned yet. Only a slot below where the
            // claim's scan started can be excused: one it scanned, it saw.
            for (std::size_t k = 0; k < h.size() && !taken && c.hint && j < e.scan_from; ++k) {
                taken = is_free_of(h[k], j) && h[k].first <= e.last && h[k].last >= e.first;
            }
            if (!taken) {
                return "claim by thread " + std::to_string(e.thread) + " skipped slot " + std::to_string(j) +
                       ", unused throughout the claim";
            }
        }
    }
    if (!linearizable(h, init, final, 0)) return "history is not linearizable to the sequential specification";
    if (c.hint) {
        int lowest_unused = c.slots;
        for (int i = c.slots - 1; i >= 0; --i) {
            if (slot::is_unused(s.final_word(i))) lowest_unused = i;
        }
        if (static_cast<int>(hint::index(s.final_hint())) > lowest_unused) {
            return "at rest the hint is at " + std::to_string(hint::index(s.final_hint())) + ", above unused slot " +
                   std::to_string(lowest_unused);
        }
    }
    return {};
}

// ---- configurations --------------------------------------------------------------

std::vector<Config> configs() {
    const Word U = 0, G = slot::kGenerated, A = abandoned_word();
    using O = Op;
    constexpr bool kHint = true, kNoHint = false, kAll = true, kRandomOnly = false;
    constexpr bool kAnnounce = true, kNoAnnounce = false;
    return {
        {"claim-release-2x2", kNoHint, kNoAnnounce, kAll, 2, {U, U},
         {{{O::claim}, {O::release_ticket, 0}, {O::claim}}, {{O::claim}, {O::release_index, 0}, {O::claim}}}},
        {"stale-ticket-2x2", kNoHint, kNoAnnounce, kAll, 2, {U, U},
         {{{O::claim}, {O::release_ticket, 0}, {O::stale_release, 0}}, {{O::claim}, {O::claim}}}},
        {"sweep-vs-reclaim-2x2", kNoHint, kNoAnnounce, kAll, 2, {A, U},
         {{{O::sweep}}, {{O::claim}, {O::release_ticket, 0}, {O::claim}, {O::release_index, 1}}}},
        {"mark-used-2x3", kNoHint, kNoAnnounce, kAll, 3, {U, G, U},
         {{{O::claim}, {O::mark_held, 0}, {O::claim}}, {{O::claim}, {O::release_index, 0}, {O::mark_index, 1}}}},
        {"three-claimers-3x3", kNoHint, kNoAnnounce, kAll, 3, {U, U, U},
         {{{O::claim}, {O::release_ticket, 0}}, {{O::claim}, {O::release_index, 0}}, {{O::claim}, {O::mark_held, 0}}}},
        {"sweep-mark-release-3x4", kNoHint, kNoAnnounce, kAll, 4, {U, A, G, U},
         {{{O::claim}, {O::release_ticket, 0}}, {{O::sweep}}, {{O::claim}, {O::mark_held, 0}}}},
        {"everything-3x4", kNoHint, kNoAnnounce, kRandomOnly, 4, {A, U, G, U},
         {{{O::claim}, {O::claim}, {O::release_ticket, 0}, {O::stale_release, 0}},
          {{O::sweep}, {O::claim}, {O::release_index, 0}},
          {{O::claim}, {O::mark_held, 0}, {O::mark_index, 2}}}},
        // The same protocol with the cursor hint (lib/hint.hpp). Each hint
        // operation adds steps, and interleavings grow as binomials in them,
        // so these programs are shorter.
        {"hint-claim-vs-release-2x3", kHint, kNoAnnounce, kAll, 3, {U, U, U},
         {{{O::claim}, {O::release_ticket, 0}}, {{O::claim}, {O::claim}}}},
        {"hint-release-between-claims-2x2", kHint, kNoAnnounce, kAll, 2, {U, U},
         {{{O::claim}, {O::release_index, 0}}, {{O::claim}, {O::claim}, {O::release_ticket, 1}}}},
        {"hint-stale-ticket-2x2", kHint, kNoAnnounce, kAll, 2, {U, U},
         {{{O::claim}, {O::release_ticket, 0}, {O::stale_release, 0}}, {{O::claim}, {O::claim}}}},
        {"hint-sweep-vs-claims-2x3", kHint, kNoAnnounce, kAll, 3, {A, U, U},
         {{{O::sweep}}, {{O::claim}, {O::claim}, {O::release_index, 1}}}},
        {"hint-sweep-frees-two-2x3", kHint, kNoAnnounce, kAll, 3, {A, A, U},
         {{{O::sweep}}, {{O::claim}, {O::claim}}}},
        {"hint-mark-used-2x3", kHint, kNoAnnounce, kAll, 3, {U, G, U},
         {{{O::claim}, {O::mark_held, 0}}, {{O::claim}, {O::release_index, 0}, {O::claim}}}},
        {"hint-three-claimers-3x3", kHint, kNoAnnounce, kRandomOnly, 3, {U, U, U},
         {{{O::claim}, {O::release_ticket, 0}}, {{O::claim}, {O::release_index, 0}}, {{O::claim}, {O::claim}}}},
        {"hint-everything-3x4", kHint, kNoAnnounce, kRandomOnly, 4, {A, U, G, U},
         {{{O::claim}, {O::claim}, {O::release_ticket, 0}, {O::stale_release, 0}},
          {{O::sweep}, {O::claim}, {O::release_index, 0}},
          {{O::claim}, {O::mark_held, 0}, {O::mark_index, 2}}}},
        // The sweep announcement (C0/C2) with a running clock, TTL one step.
        {"announce-claims-vs-sweep-2x2", kNoHint, kAnnounce, kAll, 2, {A, U},
         {{{O::sweep}}, {{O::claim}, {O::claim}}}},
        {"announce-sweep-vs-claims-2x2", kNoHint, kAnnounce, kAll, 2, {U, U},
         {{{O::claim}, {O::claim}, {O::release_ticket, 1}}, {{O::sweep}}}},
        {"announce-release-vs-sweep-2x2", kNoHint, kAnnounce, kAll, 2, {U, U},
         {{{O::claim}, {O::release_ticket, 0}, {O::claim}}, {{O::sweep}}}},
        {"announce-two-sweeps-3x1", kNoHint, kAnnounce, kAll, 1, {U},
         {{{O::sweep}}, {{O::sweep}}, {{O::claim}}}},
        {"announce-three-sweeps-3x1", kNoHint, kAnnounce, kRandomOnly, 1, {U},
         {{{O::sweep}, {O::sweep}}, {{O::sweep}}, {{O::claim}}}},
        {"announce-two-sweeps-3x2", kNoHint, kAnnounce, kRandomOnly, 2, {A, U},
         {{{O::sweep}}, {{O::sweep}}, {{O::claim}, {O::claim}}}},
        {"announce-hint-everything-3x3", kHint, kAnnounce, kRandomOnly, 3, {A, U, U},
         {{{O::claim}, {O::release_ticket, 0}, {O::claim}},
          {{O::sweep}, {O::claim}},
          {{O::claim}, {O::release_index, 0}}}},
    };
}

struct Outcome {
    std::uint64_t executions = 0;
    std::uint64_t with_lost_claim = 0;  // executions in which a sweep beat a claim to its return (C2 restart)
    bool complete = false;
    std::string failure;
};

bool lost_claim(const Scheduler& s) {
    for (const Event& e : s.history()) {
        if (e.lost) return true;
    }
    return false;
}

// Exhaustive DFS over scheduling choices, up to `limit` executions.
Outcome explore_all(const Config& c, std::uint64_t limit, int max_preemptions) {
    Scheduler s(c);
    g_sched = &s;
    Outcome out;
    std::vector<std::pair<int, int>> path;  // (chosen, count) at each real choice
    for (;;) {
        std::size_t depth = 0;
        s.run([&](int k) {
            if (depth < path.size()) return path[depth++].first;
            path.emplace_back(0, k);
            ++depth;
            return 0;
        }, max_preemptions);
        ++out.executions;
        out.with_lost_claim += lost_claim(s);
        if (auto f = check(s, c); !f.empty()) {
            std::vector<int> ch;
            for (auto& p : path) ch.push_back(p.first);
            out.failure = f + "\n" + describe(s, ch, c);
            return out;
        }
        while (!path.empty() && path.back().first + 1 >= path.back().second) path.pop_back();
        if (path.empty()) {
            out.complete = true;
            return out;
        }
        ++path.back().first;
        if (out.executions >= limit) return out;
    }
}

Outcome explore_random(const Config& c, std::uint64_t n, std::uint64_t seed) {
    Scheduler s(c);
    g_sched = &s;
    Outcome out;
    std::mt19937_64 rng(seed);
    std::vector<int> ch;
    for (std::uint64_t k = 0; k < n; ++k) {
        ch.clear();
        s.run([&](int m) {
            const int x = static_cast<int>(rng() % static_cast<std::uint64_t>(m));
            ch.push_back(x);
            return x;
        });
        ++out.executions;
        out.with_lost_claim += lost_claim(s);
        if (auto f = check(s, c); !f.empty()) {
            out.failure = f + "\n" + describe(s, ch, c);
            return out;
        }
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t random_n = 0, seed = 0, limit = 20'000'000;
    int preemptions = -1;  // --preemptions K: exhaustive up to K preemptions, random-only configurations too
    bool have_seed = false, two_threads_only = false;
    std::string only;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::uint64_t {
            if (i + 1 >= argc) std::exit(2);
            return std::strtoull(argv[++i], nullptr, 0);
        };
        if (a == "--random") random_n = value();
        else if (a == "--seed") seed = value(), have_seed = true;
        else if (a == "--limit") limit = value();
        else if (a == "--preemptions") {
            const std::uint64_t k = value();
            if (k > 64) {
                std::fprintf(stderr, "addrpool-model: --preemptions must be 0..64\n");
                return 2;
            }
            preemptions = static_cast<int>(k);
        }
        else if (a == "--mutant") g_mutant = static_cast<int>(value());
        else if (a == "--two-threads") two_threads_only = true;
        else if (a == "--config" && i + 1 < argc) only = argv[++i];
        else {
            std::fprintf(stderr,
                         "usage: addrpool-model [--random N [--seed S] | --preemptions K] [--limit N] [--config NAME] [--two-threads] "
                         "[--mutant 1..8]\n");
            return 2;
        }
    }
    if (random_n && preemptions >= 0) {
        std::fprintf(stderr, "addrpool-model: --random and --preemptions are alternatives\n");
        return 2;
    }
    if (!have_seed) seed = std::random_device{}();
    bool ok = true;
    std::uint64_t total = 0;
    for (const Config& c : configs()) {
        if (!only.empty() && only != c.name) continue;
        if (two_threads_only && c.threads.size() > 2) continue;
        // Random-only configurations run in random mode; named explicitly, up to --limit.
        if (!random_n && preemptions < 0 && !c.exhaustive && only.empty()) continue;
        const auto t0 = std::chrono::steady_clock::now();
        Outcome out;
        if (random_n) out = explore_random(c, random_n, seed);
        else out = explore_all(c, limit, preemptions);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        total += out.executions;
        if (random_n) {
            std::printf("model %-24s random schedules %llu (seed %llu), %.2f s: %s\n", c.name,
                        static_cast<unsigned long long>(out.executions), static_cast<unsigned long long>(seed), secs,
                        out.failure.empty() ? "ok" : "VIOLATION");
        } else {
            const std::string bound =
                preemptions >= 0 ? " with <= " + std::to_string(preemptions) + " preemptions" : std::string();
            std::printf("model %-24s interleavings %llu (%s%s), %.2f s: %s\n", c.name,
                        static_cast<unsigned long long>(out.executions),
                        out.complete ? "all" : (out.failure.empty() ? "LIMIT reached, not all" : "stopped at the violation"),
                        out.complete ? bound.c_str() : "", secs, out.failure.empty() ? "ok" : "VIOLATION");
        }
        if (c.announce) {
            std::printf("      %llu of them with a claim lost to the sweep and started over (C2)\n",
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
    return ok ? 0 : 1;
}
