// S2 churn: T threads doing a random mix of reserve, release by ticket,
// release by index, late (stale) release by ticket, mark used by index and
// by address, abandoning a reservation to the sweeper, sweep with a 2 ms TTL
// on an injected clock that the threads advance, next_unused, stats and
// scan_window_end — under the ownership checker (checker.hpp).
//
// Why a sweep cannot fool the checker (the lease protocol):
// A holder's shadow claim must never be taken away behind its back, yet the
// sweeper may free any reservation old enough. So the injected clock (ticks,
// in ms; TTL = 2 ticks) only moves when no *held* reservation can expire:
//  - A session (a few reservations by one thread, each released or marked
//    before the session ends) registers at the current tick e: increment
//    active[e % 4], then re-read the clock; if it moved, unregister and retry.
//  - The clock moves c → c+1 only if active[(c-1) % 4] == 0 (read, then CAS).
//    Seq_cst on both sides (Dekker): a session registered at e keeps the
//    clock at <= e+1 until it ends. Every reservation it takes carries a
//    stamp >= e (the pool reads its clock after our registration), and the
//    sweep frees only stamps <= now - 2 <= e - 1: held reservations are
//    immune, so every shadow claim is still valid when its holder gives it up.
//  - To exercise the sweep, a holder may *abandon* a reservation: its shadow
//    becomes "abandoned at epoch e", the pool keeps it reserved. Whoever is
//    handed that index next may take the shadow over only if the clock
//    already reads >= e + 2 — the earliest a sweep could have freed it (the
//    sweep's clock read happens-before its free, which happens-before the new
//    claim). Otherwise it is a duplicate: the index was handed out while its
//    abandoned reservation could not yet have expired.
// The lease counters do add happens-before edges between sessions; S1 and
// S3, which have no such synchronization, cover that for ThreadSanitizer.
#ifndef ADDRPOOL_STRESS_S2_HPP
#define ADDRPOOL_STRESS_S2_HPP

#include "checker.hpp"
#include "lease_clock.hpp"
#include "pool/slot.hpp"

#include <array>
#include <latch>
#include <sstream>
#include <thread>

namespace stress {

struct S2Params {
    static constexpr std::uint64_t kUnit = 50'000;          // hand-outs per --iterations step
    static constexpr std::uint64_t kPerRound = 65'536;      // hand-outs per fresh pool (bounds memory)
    static constexpr std::size_t kCapacity = kPerRound + 4096;  // index <= hand-outs so far (no holes)
    static constexpr std::size_t kCheckedAddresses = 2048;  // reference addresses compared
    static constexpr std::uint64_t kTtlTicks = 2;
};
// The ticket ledger (checker.hpp) compares generations: within one round an
// index is claimed at most once per hand-out, so fewer hand-outs than
// generations means no wrap.
static_assert(S2Params::kPerRound < (std::uint64_t{1} << addrpool::detail::slot::kGenBits) - 1,
              "a round could wrap an index's ticket generation");

using S2Clock = LeaseClock<S2Params::kTtlTicks>;  // lease_clock.hpp

// Diagnosis only, after a failed mark: how many more calls until it succeeds.
template <class Pool>
long retry_mark(Pool& pool, bool by_index, const Reservation& r) {
    return retry_until_true([&] { return by_index ? pool.mark_index_used(r.index) : pool.mark_used(r.address); });
}

template <class MakePool>
Summary s2(const Options& o, MakePool make_pool) {
    Summary sum{"S2", 0, 0, 0, true, false, {}};
    const unsigned threads = o.threads ? o.threads : 8;
    const std::uint64_t total = S2Params::kUnit * o.iterations;
    const std::vector<Address>& ref = reference(S2Params::kCheckedAddresses);
    const Wallet& w = wallet();
    const auto base = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    const auto ttl = std::chrono::milliseconds(S2Params::kTtlTicks);
    Failure failure;
    std::uint64_t sweeps_freed = 0;
    std::uint64_t marks_false = 0;  // see --strict-mark
    sum.note = std::to_string(threads) + " threads";
    if (o.broken_pool) sum.note += ", BROKEN toy pool";

    for (std::uint64_t done = 0, round = 0; done < total && !failure.failed(); ++round) {
        const std::uint64_t budget = std::min(S2Params::kPerRound, total - done);
        S2Clock clock;
        PoolOptions opts;
        opts.clock = [&clock, base] { return base + std::chrono::milliseconds(clock.now()); };
        auto pool = make_pool(opts);
        Checker chk(S2Params::kCapacity);
        std::atomic<std::uint64_t> handed{0};  // relaxed: a budget counter only
        std::vector<std::uint64_t> ops(threads), freed(threads), mark_false(threads);
        std::latch go(1);

        auto worker = [&](unsigned t) {
            Rng rng(o.seed + round, t);
            go.wait();
            auto fail = [&](std::uint32_t i, const std::string& what) {
                std::ostringstream s;
                s << "round " << round << ", thread " << t << ", index " << i << ": " << what
                  << "\n  recent events on index " << i << ":\n" << chk.history(i);
                failure.report(s.str());
            };
            std::array<Reservation, 3> held{};
            while (!failure.stop()) {
                const std::uint32_t pick = rng.below(100);
                ++ops[t];
                if (pick < 4) {
                    freed[t] += pool->sweep_expired_reservations(ttl);
                    continue;
                }
                if (pick < 14) {
                    clock.try_advance();
                    continue;
                }
                if (pick < 16) {
                    auto a = pool->next_unused(rng.below(2) ? w.xpub : w.xprv, false);
                    if (!a) fail(0, "next_unused failed: " + a.error().message);
                    continue;
                }
                if (pick < 17) {
                    (void)pool->stats();
                    continue;
                }
                if (pick < 19) {
                    if (pool->scan_window_end() < 20) fail(0, "scan_window_end() below the gap limit");
                    continue;
                }
                // A session: take 1..3 reservations under one lease, then end each.
                const std::uint64_t epoch = clock.begin_session();
                const unsigned want = 1 + rng.below(3);
                unsigned have = 0;
                bool out_of_budget = false;
                for (; have < want && !failure.stop(); ++have) {
                    if (handed.fetch_add(1, std::memory_order_relaxed) >= budget) {
                        out_of_budget = true;
                        break;
                    }
                    auto r = pool->reserve(rng.below(2) ? w.xpub : w.xprv, rng.below(2) != 0);
                    ++ops[t];
                    if (!r) {
                        fail(0, "reserve failed: " + r.error().message);
                        break;
                    }
                    const std::uint32_t i = r->index;
                    if (!chk.in_range(i)) {
                        fail(i, "index beyond every hand-out so far (a hole below it)");
                        break;
                    }
                    const auto gen = ticket_gen(r->ticket);
                    if (!chk.first_handout(i, gen)) {
                        chk.note(i, Ev::clash, t, r->ticket);
                        std::ostringstream s;
                        s << "DUPLICATE: ticket 0x" << std::hex << r->ticket << std::dec << " (gen " << gen
                          << ") handed to thread " << t << ", but gen " << chk.last_handout(i)
                          << " of this index was handed out already";
                        fail(i, s.str());
                        break;
                    }
                    const std::uint64_t me = holder_id(t, r->ticket);
                    const std::uint64_t prev = chk.claim(i, me, [&](std::uint64_t e) {
                        return clock.now() >= e + S2Params::kTtlTicks;
                    });
                    if (prev != kFree) {
                        chk.note(i, Ev::clash, t, r->ticket);
                        std::ostringstream s;
                        s << "DUPLICATE: handed to thread " << t << " (ticket 0x" << std::hex << r->ticket << std::dec
                          << ", gen " << ticket_gen(r->ticket) << ") while owned by " << Checker::describe_owner(prev)
                          << "; clock " << clock.now();
                        fail(i, s.str());
                        break;
                    }
                    chk.note(i, Ev::reserve, t, r->ticket);
                    if (i < ref.size() && !(r->address == ref[i])) {
                        fail(i, "address " + r->address.to_string() + " is not the sequential derivation " +
                                    ref[i].to_string());
                        break;
                    }
                    held[have] = *r;
                }
                // End every reservation of the session while the lease holds.
                for (unsigned k = 0; k < have && !failure.stop(); ++k) {
                    const Reservation& r = held[k];
                    const std::uint32_t i = r.index;
                    const std::uint64_t me = holder_id(t, r.ticket);
                    const std::uint32_t act = rng.below(100);
                    const std::uint64_t to =
                        act < 2 ? kUsedMark : act < 12 ? abandoned_id(epoch) : kFree;
                    // Give the shadow up first: from the pool's release on, someone else may hold i.
                    if (!chk.give_up(i, me, to)) {
                        fail(i, "thread " + std::to_string(t) + " lost reservation gen " +
                                    std::to_string(ticket_gen(r.ticket)) + " while holding it (now owned by " +
                                    Checker::describe_owner(chk.owner(i)) + ")");
                        break;
                    }
                    ++ops[t];
                    if (act < 2) {
                        chk.note(i, Ev::mark, t, r.ticket);
                        const bool ok = act == 0 ? pool->mark_index_used(i) : pool->mark_used(r.address);
                        if (!ok) {
                            // A pool bug (fixed in 35bd9b7: a hand-out returned an index whose
                            // hash another thread was still publishing). Strict by default;
                            // --lenient-mark counts, retries and reports instead, for diagnosis.
                            const long k = retry_mark(*pool, act == 0, r);
                            ++mark_false[t];
                            if (o.strict_mark || k < 0) {
                                const std::string what =
                                    std::string(act == 0 ? "mark_index_used" : "mark_used(address)") +
                                    " of the caller's own live reservation returned false (gen " +
                                    std::to_string(ticket_gen(r.ticket)) + "); retried with yields, it " +
                                    (k < 0 ? std::string("still returned false after 5 s of retries")
                                           : "returned true after " + std::to_string(k) + " more calls");
                                if (o.strict_mark) fail(i, what);
                                else std::fprintf(stderr, "S2 note: index %u: %s\n", i, what.c_str());
                            }
                            if (k < 0 && !o.strict_mark) (void)chk.give_up(i, kUsedMark, abandoned_id(epoch));
                        }
                    } else if (act < 12) {
                        chk.note(i, Ev::abandon, t, r.ticket);
                    } else if (act < 50) {
                        chk.note(i, Ev::release_ix, t, r.ticket);
                        if (!pool->release_reservation(i)) fail(i, "release by index of a live reservation returned false");
                    } else {
                        chk.note(i, Ev::release_tk, t, r.ticket);
                        if (!pool->release_reservation(r)) fail(i, "release by ticket of a live reservation returned false");
                        if (act >= 85) {
                            // A late second release: must not free whoever holds i now.
                            chk.note(i, Ev::stale, t, r.ticket);
                            if (pool->release_reservation(r)) fail(i, "a stale ticket released a reservation");
                        }
                    }
                }
                clock.end_session(epoch);
                if (out_of_budget) break;
            }
        };
        std::vector<std::thread> pool_threads;
        for (unsigned t = 0; t < threads; ++t) pool_threads.emplace_back(worker, t);
        go.count_down();
        for (auto& th : pool_threads) th.join();
        const std::uint64_t round_handouts = std::min(handed.load(), budget);
        done += round_handouts;
        sum.handouts += round_handouts;
        for (unsigned t = 0; t < threads; ++t) {
            sum.operations += ops[t], sweeps_freed += freed[t], marks_false += mark_false[t];
        }
        if (failure.failed()) break;

        // Quiescent: every abandoned reservation expires at once; then no
        // reservation is left and exactly the shadow-used indices are used.
        clock.ticks.fetch_add(S2Params::kTtlTicks + 1);
        sweeps_freed += pool->sweep_expired_reservations(ttl);
        const PoolStats st = pool->stats();
        std::uint32_t used = 0;
        for (std::uint32_t i = 0; i < chk.capacity(); ++i) used += chk.owner(i) == kUsedMark;
        if (st.reserved != 0 || st.used != used) {
            failure.report("round " + std::to_string(round) + " end: stats() reserved " +
                           std::to_string(st.reserved) + " (expected 0), used " + std::to_string(st.used) +
                           " (expected " + std::to_string(used) + ")");
        }
    }
    if (marks_false) sum.note += "; KNOWN POOL BUG: " + std::to_string(marks_false) + " marks of a live reservation returned false";
    if (failure.failed()) {
        sum.ok = false;
        if (failure.text().find("DUPLICATE") != std::string::npos) sum.duplicates = 1;
        sum.note += "; swept " + std::to_string(sweeps_freed) + "; FIRST VIOLATION: " + failure.text();
    } else {
        sum.note += "; swept " + std::to_string(sweeps_freed);
    }
    return sum;
}

}  // namespace stress

#endif  // ADDRPOOL_STRESS_S2_HPP
