// S6 churn with many outstanding: W workers hold N reservations between
// them and keep releasing a random one — by ticket, by index, or by
// abandoning it to a sweeper thread that sweeps with a 2 ms TTL on an
// injected clock — and taking a new one. Checked:
//  - ownership (checker.hpp): a shadow owner per index and the ticket
//    ledger, so two live holders of an index, or one ticket handed out
//    twice, are caught online; a release of a live reservation must succeed,
//    a stale second release by ticket must not;
//  - no holes (holes.hpp), offline after each round from the threads' logs:
//    no hand-out returns an index above one that was free from before the
//    hand-out started until after it returned;
//  - quiescent end of round: nothing reserved after the last sweep.
// A template over the pool type: the toy pools of broken_pool.hpp (a lost
// update; a release that forgets to make its index findable) run through
// the same checks and must be caught.
//
// Sweeps and held reservations: the lease clock (lease_clock.hpp), TTL 8
// ticks. Each held reservation is registered at the epoch e the clock read
// before its hand-out and keeps the clock at <= e + 7 until it is released,
// so a sweep frees only abandoned reservations. A worker whose reservations pin the
// clock (epoch <= now - 7) releases those first 3 times in 4, so the
// clock — and the sweeps — keep moving while N stay outstanding. An abandoned
// reservation taken at epoch e may be taken over by its next holder once
// the clock reads >= e + 8 (as in S2). The sweep that certainly freed it,
// for the no-holes check, is the first one that started after its hand-out
// returned with a clock reading >= its stamp + 8 (the stamp is at most
// e + 7: the clock stayed there while the reservation was leased).
#ifndef ADDRPOOL_STRESS_S6_HPP
#define ADDRPOOL_STRESS_S6_HPP

#include "checker.hpp"
#include "holes.hpp"
#include "lease_clock.hpp"
#include "pool/slot.hpp"

#include <algorithm>
#include <latch>
#include <sstream>
#include <thread>

namespace stress {

struct S6Params {
    static constexpr std::uint64_t kUnit = 100'000;        // hand-outs per --iterations step
    static constexpr std::uint64_t kPerRound = 100'000;    // hand-outs per fresh pool
    static constexpr std::uint32_t kOutstanding = 2'048;   // reservations held at once, all workers together
    static constexpr std::size_t kCheckedAddresses = 2'048;  // reference addresses compared
    // A long TTL: a held reservation must be renewed within kTtlTicks - 1
    // ticks, so the clock can move that far between two renewals of all N.
    static constexpr unsigned kTtlTicks = 8;
    static constexpr std::uint32_t kAbandonPercent = 5;    // ended by the sweeper
    static constexpr std::uint32_t kByTicketPercent = 50;  // released by ticket (the rest: by index)
};
static_assert(S6Params::kPerRound < (std::uint64_t{1} << addrpool::detail::slot::kGenBits) - 1,
              "a round could wrap an index's ticket generation");

struct S6Log {
    std::vector<HandoutRec> handouts;
    std::vector<FreeRec> releases;
    struct Abandoned {
        std::uint32_t index, gen;
        std::uint64_t handout_end;  // the tick after its hand-out returned
        std::uint64_t stamp_bound;  // its stamp is at most this
    };
    std::vector<Abandoned> abandoned;
};

struct SweepRec {
    std::uint64_t start, end, clock;  // ticks around the call; the clock read just before it
};

// The first sweep that certainly freed an abandoned reservation (see the
// top), as a free record; false if no sweep of the round did.
inline bool freed_by_sweep(const std::vector<SweepRec>& sweeps, const S6Log::Abandoned& a, FreeRec& out) {
    // Sweeps run one after another: start ticks and clock readings both grow.
    const auto after = std::partition_point(sweeps.begin(), sweeps.end(),
                                            [&](const SweepRec& s) { return s.start <= a.handout_end; });
    const auto old_enough = std::partition_point(sweeps.begin(), sweeps.end(), [&](const SweepRec& s) {
        return s.clock < a.stamp_bound + S6Params::kTtlTicks;
    });
    const auto it = std::max(after, old_enough);
    if (it == sweeps.end()) return false;
    out = FreeRec{it->end, a.index, a.gen, "sweep"};
    return true;
}

template <class MakePool>
Summary s6(const Options& o, MakePool make_pool) {
    Summary sum{"S6", 0, 0, 0, true, false, {}};
    const unsigned workers = o.threads ? o.threads : 4;
    const std::uint64_t total = S6Params::kUnit * o.iterations;
    const std::uint32_t per_worker = std::max<std::uint32_t>(1, S6Params::kOutstanding / workers);
    const std::vector<Address>& ref = reference(S6Params::kCheckedAddresses);
    const Wallet& w = wallet();
    const auto base = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    const auto ttl = std::chrono::milliseconds(S6Params::kTtlTicks);
    Failure failure;
    std::uint64_t sweeps_freed = 0, sweeps_run = 0, ticks_moved = 0, freed_at_end = 0;
    sum.note = std::to_string(workers) + " workers + 1 sweeper, " + std::to_string(per_worker * workers) +
               " outstanding";
    if (o.broken_pool) sum.note += ", BROKEN toy pool";
    if (o.skipping_pool) sum.note += ", SKIPPING toy pool";

    for (std::uint64_t done = 0, round = 0; done < total && !failure.failed(); ++round) {
        const std::uint64_t budget = std::min(S6Params::kPerRound, total - done);
        LeaseClock<S6Params::kTtlTicks> clock;
        PoolOptions opts;
        opts.clock = [&clock, base] { return base + std::chrono::milliseconds(clock.now()); };
        auto pool = make_pool(opts);
        const std::uint32_t capacity = static_cast<std::uint32_t>(budget) + per_worker * workers + 64;
        Checker chk(capacity);
        std::atomic<std::uint64_t> ticks{1};       // seq_cst event ticks (see holes.hpp); 0 = "before the round"
        std::atomic<std::uint64_t> handed{0};      // relaxed: a budget counter only
        std::atomic<unsigned> running{workers};    // relaxed: only ends the sweeper's loop
        std::vector<S6Log> logs(workers);
        std::vector<SweepRec> sweeps;
        std::vector<std::uint64_t> ops(workers + 1);
        std::latch go(1);
        auto tick = [&ticks] { return ticks.fetch_add(1, std::memory_order_seq_cst); };

        auto worker = [&](unsigned t) {
            Rng rng(o.seed + round, t);
            S6Log& log = logs[t];
            struct Held {
                Reservation r;
                std::uint64_t epoch;        // its lease
                std::uint64_t handout_end;  // the tick after its hand-out returned
            };
            std::vector<Held> held;
            held.reserve(per_worker);
            auto fail = [&](std::uint32_t i, const std::string& what) {
                std::ostringstream s;
                s << "round " << round << ", thread " << t << ", index " << i << ": " << what
                  << "\n  recent events on index " << i << ":\n" << chk.history(i);
                failure.report(s.str());
            };
            // A hand-out into `h`, leased. False: out of budget or a violation.
            auto take = [&](Held& h) -> bool {
                if (handed.fetch_add(1, std::memory_order_relaxed) >= budget) return false;
                const std::uint64_t epoch = clock.begin_session();
                const std::uint64_t start = tick();
                auto r = pool->reserve(rng.below(2) ? w.xpub : w.xprv, rng.below(2) != 0);
                const std::uint64_t end = tick();
                ++ops[t];
                if (!r) {
                    clock.end_session(epoch);
                    fail(0, "reserve failed: " + r.error().message);
                    return false;
                }
                const std::uint32_t i = r->index;
                const std::uint32_t gen = ticket_gen(r->ticket);
                if (!chk.in_range(i)) {
                    fail(i, "index beyond every hand-out so far (a hole below it)");
                    return false;
                }
                if (!chk.first_handout(i, gen)) {
                    chk.note(i, Ev::clash, t, r->ticket);
                    fail(i, "DUPLICATE: ticket gen " + std::to_string(gen) + " handed out again (gen " +
                                std::to_string(chk.last_handout(i)) + " was handed out already)");
                    return false;
                }
                const std::uint64_t prev = chk.claim(i, holder_id(t, r->ticket), [&](std::uint64_t e) {
                    return clock.now() >= e + S6Params::kTtlTicks;
                });
                if (prev != kFree) {
                    chk.note(i, Ev::clash, t, r->ticket);
                    fail(i, "DUPLICATE: handed out (gen " + std::to_string(gen) + ") while owned by " +
                                Checker::describe_owner(prev) + "; clock " + std::to_string(clock.now()));
                    return false;
                }
                chk.note(i, Ev::reserve, t, r->ticket);
                if (i < ref.size() && !(r->address == ref[i])) {
                    fail(i, "address " + r->address.to_string() + " is not the sequential derivation " +
                                ref[i].to_string());
                    return false;
                }
                log.handouts.push_back({start, end, i, gen, t});
                h = Held{std::move(*r), epoch, end};
                return true;
            };
            // Ends `h`: abandon it to the sweeper, or release it by ticket or by index.
            auto finish = [&](const Held& h, std::uint32_t act) -> bool {
                const std::uint32_t i = h.r.index;
                const std::uint32_t gen = ticket_gen(h.r.ticket);
                const bool abandon = act < S6Params::kAbandonPercent;
                // Give the shadow up first: from the pool's release on, someone else may hold i.
                if (!chk.give_up(i, holder_id(t, h.r.ticket), abandon ? abandoned_id(h.epoch) : kFree)) {
                    fail(i, "lost reservation gen " + std::to_string(gen) + " while holding it (now owned by " +
                                Checker::describe_owner(chk.owner(i)) + ")");
                    return false;
                }
                ++ops[t];
                if (abandon) {
                    chk.note(i, Ev::abandon, t, h.r.ticket);
                    // Its stamp is <= epoch + kTtl - 1: the clock stayed there while it was leased.
                    log.abandoned.push_back({i, gen, h.handout_end, h.epoch + S6Params::kTtlTicks - 1});
                    clock.end_session(h.epoch);
                    return true;
                }
                const bool by_ticket = act < S6Params::kAbandonPercent + S6Params::kByTicketPercent;
                chk.note(i, by_ticket ? Ev::release_tk : Ev::release_ix, t, h.r.ticket);
                const bool ok = by_ticket ? pool->release_reservation(h.r) : pool->release_reservation(i);
                const std::uint64_t at = tick();
                clock.end_session(h.epoch);  // after the release: until then no sweep may free it
                if (!ok) {
                    fail(i, std::string("release by ") + (by_ticket ? "ticket" : "index") +
                                " of a live reservation returned false");
                    return false;
                }
                log.releases.push_back({at, i, gen, by_ticket ? "release(ticket)" : "release(index)"});
                if (by_ticket && act % 4 == 0) {  // a late second release must not free the next holder
                    chk.note(i, Ev::stale, t, h.r.ticket);
                    ++ops[t];
                    if (pool->release_reservation(h.r)) {
                        fail(i, "a stale ticket released a reservation");
                        return false;
                    }
                }
                return true;
            };

            go.wait();
            bool more = true;
            while (more && held.size() < per_worker && !failure.stop()) {
                Held h;
                more = take(h);
                if (more) held.push_back(std::move(h));
            }
            std::uint64_t seen = clock.now();
            // held[0, old): the reservations that keep the clock from moving
            // past `seen` (registered at seen + 1 - kTtl or earlier).
            std::size_t old = 0;
            auto sort_old = [&] {
                old = static_cast<std::size_t>(
                    std::partition(held.begin(), held.end(), [&](const Held& h) { return h.epoch + S6Params::kTtlTicks <= seen + 1; }) -
                    held.begin());
            };
            sort_old();
            while (more && !held.empty() && !failure.stop()) {
                if (const std::uint64_t c = clock.now(); c != seen) seen = c, sort_old();
                // A worker that pins nothing moves the clock too (the sweeper
                // may be starved of CPU) or, if others still pin it, yields
                // now and then to let them catch up (2 CPUs, more threads).
                if (old == 0 && rng.below(8) == 0 && !clock.try_advance()) std::this_thread::yield();
                auto p = static_cast<std::size_t>(old > 0 && rng.below(4) != 0
                                                      ? rng.below(static_cast<std::uint32_t>(old))
                                                      : rng.below(static_cast<std::uint32_t>(held.size())));
                if (p < old) std::swap(held[p], held[old - 1]), p = --old;  // it leaves the pinning part
                if (!finish(held[p], rng.below(100))) break;
                more = take(held[p]);
                if (!more) held.erase(held.begin() + static_cast<std::ptrdiff_t>(p));  // ended, not replaced
            }
            // Out of budget: release what is left (a violation: leave it, the round is over).
            for (const Held& h : held) {
                if (failure.stop()) break;
                (void)finish(h, S6Params::kAbandonPercent);  // by ticket
            }
            running.fetch_sub(1, std::memory_order_relaxed);
        };
        auto sweeper = [&] {
            go.wait();
            while (running.load(std::memory_order_relaxed) != 0 && !failure.stop()) {
                clock.try_advance();
                const std::uint64_t start = tick();
                const std::uint64_t c = clock.now();
                sweeps_freed += pool->sweep_expired_reservations(ttl);
                sweeps.push_back({start, tick(), c});
                ++ops[workers];
                std::this_thread::yield();
            }
        };
        std::vector<std::thread> ts;
        for (unsigned t = 0; t < workers; ++t) ts.emplace_back(worker, t);
        ts.emplace_back(sweeper);
        go.count_down();
        for (auto& th : ts) th.join();
        const std::uint64_t round_handouts = std::min(handed.load(), budget);
        done += round_handouts;
        sum.handouts += round_handouts;
        sweeps_run += sweeps.size();
        ticks_moved += clock.now();
        for (auto n : ops) sum.operations += n;

        // No holes — checked even after a violation stopped the round early:
        // every record logged is complete.
        std::vector<HandoutRec> handouts;
        std::vector<FreeRec> frees;
        for (const S6Log& l : logs) {
            handouts.insert(handouts.end(), l.handouts.begin(), l.handouts.end());
            frees.insert(frees.end(), l.releases.begin(), l.releases.end());
            for (const auto& a : l.abandoned) {
                FreeRec f{};
                if (freed_by_sweep(sweeps, a, f)) frees.push_back(f);
            }
        }
        const HoleReport holes = HoleFinder(capacity).run(std::move(handouts), frees);
        if (holes.holes != 0) {
            sum.holes += holes.holes;
            const std::string what = "round " + std::to_string(round) + ": " + std::to_string(holes.holes) +
                                     " hand-outs skipped a free index; the first: " + holes.first;
            if (failure.failed()) sum.note += "; " + what;  // besides the violation that stopped the round
            failure.report(what);
        }
        if (failure.failed()) break;

        // Quiescent: every abandoned reservation expires at once.
        clock.ticks.fetch_add(S6Params::kTtlTicks + 1);
        freed_at_end += pool->sweep_expired_reservations(ttl);
        if (const PoolStats st = pool->stats(); st.reserved != 0) {
            failure.report("round " + std::to_string(round) + " end: stats().reserved = " +
                           std::to_string(st.reserved) + " after every reservation was released or swept");
        }
    }
    sum.note += "; " + std::to_string(sweeps_run) + " sweeps during the churn freed " + std::to_string(sweeps_freed) +
                " (the last sweep of each round " + std::to_string(freed_at_end) + "), clock moved " +
                std::to_string(ticks_moved) + " ticks";
    if (failure.failed()) {
        sum.ok = false;
        if (failure.text().find("DUPLICATE") != std::string::npos) sum.duplicates = 1;
        sum.note += "; FIRST VIOLATION: " + failure.text();
    }
    return sum;
}

}  // namespace stress

#endif  // ADDRPOOL_STRESS_S6_HPP
