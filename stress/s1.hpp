// S1 ten thousand at once: 10,000 tasks, all released by one latch, each
// reserving once on a fresh pool. A template over the pool type so the
// broken toy pool runs through the very same checks.
#ifndef ADDRPOOL_STRESS_S1_HPP
#define ADDRPOOL_STRESS_S1_HPP

#include "common.hpp"

#include <algorithm>
#include <cinttypes>
#include <latch>
#include <map>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace stress {

template <class MakePool>
Summary s1(const Options& o, MakePool make_pool) {
    Summary sum{"S1", 0, 0, 0, true, false, {}};
    // One std::thread per task: TSan caps live threads at 8128, so under it
    // the mode runs 4,000 tasks (still one latch, every thread live at once).
    const std::uint32_t n = (o.thread_per_task && kUnderTsan) ? 4000 : 10000;
    const unsigned workers = o.threads ? o.threads : 4 * hardware_threads();
    const std::uint64_t rounds = o.iterations;
    const std::vector<Address>& ref = reference(n);
    const Wallet& w = wallet();
    sum.note = o.thread_per_task ? "thread per task" : std::to_string(workers) + " workers";
    if (o.broken_pool) sum.note += ", BROKEN toy pool";

    for (std::uint64_t round = 0; round < rounds && sum.ok; ++round) {
        auto pool = make_pool(PoolOptions{});
        std::vector<std::optional<Reservation>> got(n);  // task k writes only got[k]
        std::vector<std::string> errors(n);
        std::latch go(1);
        auto task = [&](std::uint32_t k) {
            // Alternate key sources and add_to_state: both must give the same addresses.
            auto r = pool->reserve((k & 1) ? w.xpub : w.xprv, (k & 2) != 0);
            if (r) got[k] = *r;
            else errors[k] = r.error().message;
        };
        std::vector<std::thread> threads;
        // Outlives every worker (declared before the joins below).
        std::atomic<std::uint32_t> next{0};  // relaxed: only hands out task numbers
        if (o.thread_per_task) {
            threads.reserve(n);
            for (std::uint32_t k = 0; k < n; ++k) threads.emplace_back([&, k] { go.wait(); task(k); });
        } else {
            for (unsigned t = 0; t < workers; ++t) {
                threads.emplace_back([&] {
                    go.wait();
                    for (std::uint32_t k; (k = next.fetch_add(1, std::memory_order_relaxed)) < n;) task(k);
                });
            }
        }
        go.count_down();  // every task starts from here
        for (auto& t : threads) t.join();
        sum.operations += n;
        sum.handouts += n;

        // Checks, in order of how telling they are.
        std::ostringstream err;
        std::map<std::uint32_t, std::uint32_t> holder;  // index -> first task holding it
        for (std::uint32_t k = 0; k < n && sum.ok; ++k) {
            if (!got[k]) {
                err << "round " << round << ": task " << k << " failed: " << errors[k];
                sum.ok = false;
                break;
            }
            const Reservation& r = *got[k];
            auto [it, fresh] = holder.emplace(r.index, k);
            if (!fresh) {
                ++sum.duplicates;
                if (sum.duplicates == 1) {
                    const Reservation& o1 = *got[it->second];
                    err << "round " << round << ": index " << r.index << " handed out twice: task " << it->second
                        << " (ticket 0x" << std::hex << o1.ticket << ") and task " << std::dec << k << " (ticket 0x"
                        << std::hex << r.ticket << std::dec << "); history: both reserved once after the latch";
                }
            }
        }
        if (sum.duplicates) sum.ok = false;
        if (sum.ok) {
            // Distinct indices: exactly 0..n-1 iff the largest is n-1.
            if (holder.size() != n || holder.rbegin()->first != n - 1) {
                err << "round " << round << ": indices are not exactly 0.." << n - 1;
                sum.ok = false;
            }
        }
        for (std::uint32_t k = 0; k < n && sum.ok; ++k) {
            const Reservation& r = *got[k];
            if (!(r.address == ref[r.index])) {
                err << "round " << round << ": task " << k << " got index " << r.index << " with address "
                    << r.address.to_string() << ", sequential derivation gives " << ref[r.index].to_string();
                sum.ok = false;
            }
        }
        if (sum.ok) {
            std::unordered_map<std::uint64_t, std::uint32_t> tickets;
            for (std::uint32_t k = 0; k < n && sum.ok; ++k) {
                if (!tickets.emplace(got[k]->ticket, k).second) {
                    err << "round " << round << ": ticket 0x" << std::hex << got[k]->ticket << std::dec
                        << " given to tasks " << tickets[got[k]->ticket] << " and " << k;
                    sum.ok = false;
                }
            }
        }
        if (sum.ok) {
            const PoolStats st = pool->stats();
            if (st.reserved != n) {
                err << "round " << round << ": stats().reserved == " << st.reserved << ", expected " << n;
                sum.ok = false;
            }
        }
        if (!sum.ok) sum.note += "; FIRST VIOLATION: " + err.str();
    }
    return sum;
}

}  // namespace stress

#endif  // ADDRPOOL_STRESS_S1_HPP
