// S3 derivation race, S4 gap policy, S5 snapshot under load (real pool only).
#include "common.hpp"

#include <algorithm>
#include <chrono>
#include <latch>
#include <memory>
#include <sstream>
#include <thread>

namespace stress {

namespace {

std::unique_ptr<AddressPool> make_pool(std::uint32_t gap_limit, PoolOptions opts = {}) {
    return std::make_unique<AddressPool>(pool_path(), PoolType::external, gap_limit, Network::testnet, std::move(opts));
}

void raise_max(std::atomic<std::uint32_t>& a, std::uint32_t v) {
    std::uint32_t cur = a.load(std::memory_order_seq_cst);
    while (cur < v && !a.compare_exchange_weak(cur, v, std::memory_order_seq_cst)) {
    }
}

}  // namespace

// S3: a fresh pool (nothing derived) with lookahead 1 or the default
// (= gap limit), xprv or xpub: 64+ threads released together, each reserving
// 8 times, half of them also asking next_unused (which derives without
// reserving). Every index is derived by whichever thread gets there first;
// every returned address must still be the sequential derivation.
Summary run_s3(const Options& o) {
    Summary sum{"S3", 0, 0, 0, true, false, {}};
    const unsigned threads = std::max(o.threads ? o.threads : 64u, 2u);
    constexpr unsigned kPer = 8;
    const std::uint32_t n = threads * kPer;
    const std::vector<Address>& ref = reference(n + 64);
    const Wallet& w = wallet();
    sum.note = std::to_string(threads) + " threads, lookahead 1 and default, xprv and xpub";
    std::ostringstream err;
    for (std::uint64_t round = 0; round < o.iterations && sum.ok; ++round) {
        for (int cfg = 0; cfg < 4 && sum.ok; ++cfg) {
            PoolOptions opts;
            opts.lookahead = (cfg & 1) ? 1 : 0;
            const KeySource& ks = (cfg & 2) ? w.xpub : w.xprv;
            auto pool = make_pool(20, opts);
            std::vector<Reservation> got(n);
            std::vector<std::string> errors(threads);
            std::vector<std::optional<Address>> peeked(threads);
            std::latch go(threads);
            std::vector<std::thread> ts;
            for (unsigned t = 0; t < threads; ++t) {
                ts.emplace_back([&, t] {
                    go.arrive_and_wait();  // all threads start together
                    for (unsigned k = 0; k < kPer; ++k) {
                        if (k == 2 && (t & 1)) {
                            auto a = pool->next_unused(ks, (t & 2) != 0);
                            if (!a) errors[t] = "next_unused: " + a.error().message;
                            else peeked[t] = *a;
                        }
                        auto r = pool->reserve(ks, ((t + k) & 1) != 0);
                        if (!r) {
                            errors[t] = "reserve: " + r.error().message;
                            return;
                        }
                        got[t * kPer + k] = *r;
                    }
                });
            }
            for (auto& th : ts) th.join();
            sum.operations += n + threads / 2;
            sum.handouts += n;
            for (unsigned t = 0; t < threads && sum.ok; ++t) {
                if (!errors[t].empty()) {
                    err << "config " << cfg << ": thread " << t << ": " << errors[t];
                    sum.ok = false;
                }
            }
            std::vector<std::uint32_t> seen(n, ~0u);
            for (std::uint32_t k = 0; k < n && sum.ok; ++k) {
                const Reservation& r = got[k];
                if (r.index >= n) {
                    err << "config " << cfg << ": index " << r.index << " beyond the " << n << " hand-outs (a hole)";
                    sum.ok = false;
                } else if (seen[r.index] != ~0u) {
                    ++sum.duplicates;
                    err << "config " << cfg << ": index " << r.index << " handed out twice: tickets 0x" << std::hex
                        << got[seen[r.index]].ticket << " and 0x" << r.ticket << std::dec;
                    sum.ok = false;
                } else if (!(r.address == ref[r.index])) {
                    err << "config " << cfg << ": index " << r.index << " has address " << r.address.to_string()
                        << ", sequential derivation gives " << ref[r.index].to_string();
                    sum.ok = false;
                }
                seen[r.index] = k;
            }
            for (unsigned t = 0; t < threads && sum.ok; ++t) {
                if (!peeked[t]) continue;
                auto i = std::find(ref.begin(), ref.end(), *peeked[t]);
                if (i == ref.end()) {
                    err << "config " << cfg << ": next_unused gave " << peeked[t]->to_string()
                        << ", not a sequential derivation of any index";
                    sum.ok = false;
                }
            }
            // Quiescent: materialized entries read back the same addresses.
            for (std::uint32_t i = 0; i < n && sum.ok; ++i) {
                if (auto a = pool->address_at(i); a && !(*a == ref[i])) {
                    err << "config " << cfg << ": address_at(" << i << ") = " << a->to_string();
                    sum.ok = false;
                }
                if (auto j = pool->index_of(ref[i]); j && *j != i) {
                    err << "config " << cfg << ": index_of(address " << i << ") = " << *j;
                    sum.ok = false;
                }
            }
            if (sum.ok && pool->stats().reserved != n) {
                err << "config " << cfg << ": stats().reserved = " << pool->stats().reserved << ", expected " << n;
                sum.ok = false;
            }
        }
    }
    if (!sum.ok) sum.note += "; FIRST VIOLATION: " + err.str();
    return sum;
}

// S4: GapPolicy::error, gap limit 8. Threads hand out; a thread whose
// hand-out fails with gap_limit_reached marks the lowest outstanding
// reservation used (moving the window); some hand-outs are released.
//
// The exact check. Let U be the largest (index + 1) of every mark_used call
// that had *begun* before a hand-out returned (each marker raises U before
// calling mark_index_used; the hand-out reads U after reserve() returns).
// The pool can only have seen used marks whose calls had begun, so its
// highest_used + 1 at the hand-out was <= U, and a correct pool hands out
// index i only if i < U + gap_limit. Violation: i >= U + gap_limit.
// (A bound from marks *completed before the hand-out began* would be
// unsound: a mark finishing during the hand-out legitimately widens it.)
Summary run_s4(const Options& o) {
    Summary sum{"S4", 0, 0, 0, true, false, {}};
    const unsigned threads = o.threads ? o.threads : 8;
    constexpr std::uint32_t kGap = 8;
    const std::uint64_t total = 20'000 * o.iterations;
    const Wallet& w = wallet();
    sum.note = std::to_string(threads) + " threads, gap limit " + std::to_string(kGap);
    Failure failure;
    constexpr std::uint64_t kPerRound = 50'000;
    for (std::uint64_t done = 0, round = 0; done < total && !failure.failed(); ++round) {
        const std::uint64_t budget = std::min(kPerRound, total - done);
        PoolOptions opts;
        opts.gap_policy = GapPolicy::error;
        auto pool = make_pool(kGap, opts);
        // outstanding[i]: 1 = handed out and held, waiting to be marked; taken
        // (exchanged to 2) by exactly one marker.
        const std::size_t cap = budget + kGap + 1;
        std::unique_ptr<std::atomic<std::uint8_t>[]> outstanding(new std::atomic<std::uint8_t>[cap]);
        for (std::size_t i = 0; i < cap; ++i) outstanding[i].store(0, std::memory_order_relaxed);
        std::atomic<std::uint32_t> begun_end{0};  // U above
        std::atomic<std::uint32_t> low{0};        // no outstanding index below (a hint for markers)
        std::atomic<std::uint64_t> handed{0};
        std::vector<std::uint64_t> ops(threads), handouts(threads);
        std::latch go(1);
        auto worker = [&](unsigned t) {
            Rng rng(o.seed + round, t);
            go.wait();
            std::uint64_t idle = 0;  // consecutive rounds with nothing to mark
            std::chrono::steady_clock::time_point idle_since;
            while (!failure.stop() && handed.load(std::memory_order_relaxed) < budget) {
                ++ops[t];
                auto r = pool->reserve(rng.below(2) ? w.xpub : w.xprv, rng.below(2) != 0);
                const std::uint32_t u = begun_end.load(std::memory_order_seq_cst);
                if (r) {
                    idle = 0;
                    ++handouts[t];
                    handed.fetch_add(1, std::memory_order_relaxed);
                    if (r->index >= u + kGap || r->index >= cap) {
                        std::ostringstream s;
                        s << "round " << round << ", thread " << t << ": handed out index " << r->index
                          << " (ticket 0x" << std::hex << r->ticket << std::dec << ") but every used mark begun so far "
                          << "ends at " << u << ", so the window ends at " << u + kGap;
                        failure.report(s.str());
                        return;
                    }
                    if (rng.below(4) == 0) {
                        if (!pool->release_reservation(*r)) failure.report("release of a live reservation failed");
                    } else {
                        outstanding[r->index].store(1, std::memory_order_seq_cst);
                    }
                    continue;
                }
                if (r.error().code != Errc::gap_limit_reached) {
                    failure.report("reserve failed: " + r.error().message);
                    return;
                }
                // Window full: mark an outstanding reservation used (usually the
                // lowest, sometimes a random one above it).
                const std::uint32_t hi = std::min<std::uint32_t>(u + kGap, static_cast<std::uint32_t>(cap));
                std::uint32_t from = low.load(std::memory_order_relaxed);
                if (rng.below(4) == 0 && hi > from) from += rng.below(hi - from);
                bool marked = false;
                for (std::uint32_t i = from; i < hi && !marked; ++i) {
                    std::uint8_t one = 1;
                    if (!outstanding[i].compare_exchange_strong(one, 2, std::memory_order_seq_cst)) continue;
                    raise_max(begun_end, i + 1);
                    if (!pool->mark_index_used(i)) {
                        failure.report("mark_index_used of a live reservation returned false");
                    }
                    marked = true;
                    // Used is final, so the run of 2s at the bottom only grows.
                    std::uint32_t l = low.load(std::memory_order_relaxed);
                    while (l < cap && outstanding[l].load(std::memory_order_relaxed) == 2) ++l;
                    raise_max(low, l);
                }
                if (!marked) {
                    // Nothing to mark (released, or others marking): let them move.
                    // A deadline, not a spin count: a preempted holder may stall
                    // the others for a while on a loaded machine.
                    if (idle++ == 0) idle_since = std::chrono::steady_clock::now();
                    if (idle % 4096 == 0 && std::chrono::steady_clock::now() - idle_since > std::chrono::seconds(60)) {
                        failure.report("no progress for 60 s: the window never moved");
                    }
                    std::this_thread::yield();
                } else {
                    idle = 0;
                }
            }
        };
        std::vector<std::thread> ts;
        for (unsigned t = 0; t < threads; ++t) ts.emplace_back(worker, t);
        go.count_down();
        for (auto& th : ts) th.join();
        for (unsigned t = 0; t < threads; ++t) sum.operations += ops[t], sum.handouts += handouts[t];
        done += handed.load();
        if (failure.failed()) break;
        const PoolStats st = pool->stats();
        const std::uint32_t u = begun_end.load();
        if ((st.highest_used ? *st.highest_used + 1 : 0) != u) {
            failure.report("round end: highest_used + 1 = " +
                           std::to_string(st.highest_used ? *st.highest_used + 1 : 0) + ", marks end at " +
                           std::to_string(u));
        } else if (st.highest_reserved && *st.highest_reserved >= u + kGap) {
            failure.report("round end: a reservation at " + std::to_string(*st.highest_reserved) +
                           " lies beyond the window end " + std::to_string(u + kGap));
        }
    }
    if (failure.failed()) {
        sum.ok = false;
        sum.note += "; FIRST VIOLATION: " + failure.text();
    }
    return sum;
}

// S5: serialize while S2-style churn with marks runs. Every loaded snapshot
// holds no reservation and every used mark that completed before the
// snapshot began. Skipped (exit 0) while persistence is the stub.
Summary run_s5(const Options& o) {
    Summary sum{"S5", 0, 0, 0, true, false, {}};
    const Wallet& w = wallet();
    {
        // Detect the stub: a pool with one used mark serializes to nothing
        // and does not load back.
        auto probe = make_pool(20);
        auto r = probe->reserve(w.xprv, true);
        if (!r || !probe->mark_index_used(r->index)) {
            sum.ok = false;
            sum.note = "probe pool: reserve/mark failed";
            return sum;
        }
        const std::string bytes = probe->serialize();
        auto back = AddressPool::deserialize(bytes);
        if (bytes.empty() && !back) {
            sum.skipped = true;
            sum.note = "skipped: persistence not available (" + back.error().message + ")";
            return sum;
        }
        if (!back || back->state(r->index) != AddressState::used) {
            sum.ok = false;
            sum.note = "single-threaded round trip failed: " + (back ? std::string("used mark lost") : back.error().message);
            return sum;
        }
    }
    const unsigned threads = o.threads ? o.threads : 4;
    const std::uint64_t snapshots = 20 * o.iterations;
    constexpr std::uint32_t kCap = 1 << 16;
    Failure failure;
    auto pool = make_pool(20);
    std::unique_ptr<std::atomic<std::uint8_t>[]> completed(new std::atomic<std::uint8_t>[kCap]);
    for (std::uint32_t i = 0; i < kCap; ++i) completed[i].store(0, std::memory_order_relaxed);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> progress{0};  // relaxed: only paces the snapshots
    std::vector<std::uint64_t> ops(threads + 1);
    std::latch go(1);
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            Rng rng(o.seed, t);
            go.wait();
            while (!stop.load(std::memory_order_relaxed) && !failure.stop()) {
                ++ops[t];
                progress.fetch_add(1, std::memory_order_relaxed);
                auto r = pool->reserve(rng.below(2) ? w.xpub : w.xprv, rng.below(2) != 0);
                if (!r) return failure.report("reserve failed: " + r.error().message);
                if (r->index >= kCap) {  // the checked range is full: end the churn
                    (void)pool->release_reservation(*r);
                    return stop.store(true, std::memory_order_relaxed);
                }
                if (rng.below(8) == 0) {
                    if (!pool->mark_index_used(r->index)) {
                        return failure.report("mark of a live reservation returned false");
                    }
                    // release: a snapshot that sees this flag began after the mark completed.
                    completed[r->index].store(1, std::memory_order_release);
                } else if (!pool->release_reservation(*r)) {
                    return failure.report("release of a live reservation failed");
                }
            }
        });
    }
    ts.emplace_back([&] {
        go.wait();
        for (std::uint64_t s = 0; s < snapshots && !failure.stop(); ++s) {
            // Let the churn move on between snapshots (no sleeping: wait for work done).
            const std::uint64_t p0 = progress.load(std::memory_order_relaxed);
            while (progress.load(std::memory_order_relaxed) < p0 + 500 && !stop.load(std::memory_order_relaxed) &&
                   !failure.stop()) {
                std::this_thread::yield();
            }
            std::vector<std::uint32_t> before;
            for (std::uint32_t i = 0; i < kCap; ++i) {
                if (completed[i].load(std::memory_order_acquire)) before.push_back(i);
            }
            const std::string bytes = pool->serialize();
            ++ops[threads];
            auto back = AddressPool::deserialize(bytes);
            if (!back) return failure.report("snapshot " + std::to_string(s) + " does not load: " + back.error().message);
            if (back->stats().reserved != 0) return failure.report("snapshot " + std::to_string(s) + " holds reservations");
            for (std::uint32_t i : before) {
                if (back->state(i) != AddressState::used) {
                    return failure.report("snapshot " + std::to_string(s) + " lost the used mark of index " +
                                          std::to_string(i) + ", completed before the snapshot began");
                }
            }
        }
        stop.store(true, std::memory_order_relaxed);
    });
    go.count_down();
    for (auto& th : ts) th.join();
    for (auto n : ops) sum.operations += n;
    sum.handouts = sum.operations - ops[threads];
    sum.note = std::to_string(threads) + " churn threads, " + std::to_string(snapshots) + " snapshots";
    if (failure.failed()) {
        sum.ok = false;
        sum.note += "; FIRST VIOLATION: " + failure.text();
    }
    return sum;
}

}  // namespace stress
