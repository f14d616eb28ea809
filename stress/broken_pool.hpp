// Deliberately broken toy pools, for one purpose: showing that the stress
// checkers catch them. Each has the interface subset the scenarios use and
// reuses the real slot transitions (lib/slot.hpp) for everything but its bug.
//
// BrokenPool hands one index to two holders: its claim is a load followed
// by a plain store instead of a CAS — the classic lost-update race.
// The race is not left to the scheduler: the first claimer waits inside its
// window (between load and store) until a second claimer has loaded the
// same word, so every fresh toy pool hands index 0 out twice with the same
// ticket, on every run. Later claims race freely, so the violation a run
// reports first may be another, natural duplicate.
//
// SkippingPool leaves holes: its claims are exact (CAS), but a hand-out
// scans up from a hint of the lowest free index, and every 8th release (and
// every sweep) forgets to lower the hint: the index freed stays free while
// later hand-outs return higher ones, until another release lowers the hint
// below it. Never two holders; S6's no-holes check must catch it.
#ifndef ADDRPOOL_STRESS_BROKEN_POOL_HPP
#define ADDRPOOL_STRESS_BROKEN_POOL_HPP

#include "common.hpp"

#include "pool/slot.hpp"

#include <boost/atomic.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <unordered_map>

namespace stress {

// What both toys do right: a fixed table of n words over the reference
// addresses (so only the toy's bug can be wrong), the clock, release, mark,
// sweep and the queries.
class ToyPool {
public:
    using Word = addrpool::detail::slot::Word;

    ToyPool(const std::vector<Address>& reference, PoolOptions options)
        : words_(new boost::atomic<Word>[reference.size()]), ref_(reference), options_(std::move(options)) {
        for (std::size_t i = 0; i < ref_.size(); ++i) {
            words_[i].store(0, boost::memory_order_relaxed);
            by_hash_.emplace(key(ref_[i]), static_cast<std::uint32_t>(i));
        }
        epoch_ = now();
    }

    bool release_reservation(std::uint32_t i) {
        return i < ref_.size() && addrpool::detail::slot::release(words_[i]);
    }
    bool release_reservation(const Reservation& r) {
        namespace slot = addrpool::detail::slot;
        return r.index < ref_.size() && slot::release_ticket(words_[r.index], slot::ticket_gen(r.ticket));
    }
    bool mark_index_used(std::uint32_t i) {
        return i < ref_.size() && addrpool::detail::slot::mark_used(words_[i], /*require_known=*/true);
    }
    bool mark_used(const Address& a) {
        auto it = by_hash_.find(key(a));
        return it != by_hash_.end() && mark_index_used(it->second);
    }
    std::size_t sweep_expired_reservations(std::chrono::nanoseconds ttl) {
        namespace slot = addrpool::detail::slot;
        const std::uint64_t now = now_ms(false);
        const std::uint64_t ttl_ms = static_cast<std::uint64_t>((ttl.count() + 999'999) / 1'000'000);
        std::size_t freed = 0;
        for (std::uint32_t i = 0; i < ref_.size(); ++i) {
            const Word w = slot::load(words_[i]);
            if (slot::is_reserved(w) && slot::stamp(w) + ttl_ms <= now && slot::sweep_one(words_[i], w)) ++freed;
        }
        return freed;
    }
    Result<Address> next_unused(const KeySource&, bool) {
        for (std::uint32_t i = 0; i < ref_.size(); ++i) {
            if (addrpool::detail::slot::is_unused(addrpool::detail::slot::load(words_[i]))) return ref_[i];
        }
        return exhausted();
    }
    AddressState state(std::uint32_t i) const {
        namespace slot = addrpool::detail::slot;
        return i < ref_.size() ? static_cast<AddressState>(slot::state(slot::load(words_[i]))) : AddressState::unused;
    }
    std::uint32_t scan_window_end() const { return static_cast<std::uint32_t>(ref_.size()); }
    PoolStats stats() const {
        namespace slot = addrpool::detail::slot;
        PoolStats st;
        for (std::uint32_t i = 0; i < ref_.size(); ++i) {
            const Word w = slot::load(words_[i]);
            if (slot::is_used(w)) ++st.used, st.highest_used = i;
            else if (slot::is_reserved(w)) ++st.reserved, st.highest_reserved = i;
        }
        return st;
    }

protected:
    static Error exhausted() { return make_error(Errc::index_out_of_range, "toy pool exhausted"); }
    std::uint64_t now_ms(bool ceil) const {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now() - epoch_).count();
        return static_cast<std::uint64_t>((ns + (ceil ? 999'999 : 0)) / 1'000'000);
    }
    std::uint32_t size() const { return static_cast<std::uint32_t>(ref_.size()); }
    Reservation reservation(std::uint32_t i, Word claimed) const {
        namespace slot = addrpool::detail::slot;
        return Reservation{i, ref_[i], slot::make_ticket(slot::gen(claimed), i)};
    }

    std::unique_ptr<boost::atomic<Word>[]> words_;

private:
    static std::uint64_t key(const Address& a) {
        std::uint64_t k = 0;
        for (int i = 0; i < 8; ++i) k = k << 8 | a.hash160()[static_cast<std::size_t>(i)];
        return k;
    }
    std::chrono::steady_clock::time_point now() const {
        return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
    }

    const std::vector<Address>& ref_;
    PoolOptions options_;
    std::unordered_map<std::uint64_t, std::uint32_t> by_hash_;
    std::chrono::steady_clock::time_point epoch_;
};

class BrokenPool : public ToyPool {
public:
    using ToyPool::ToyPool;

    Result<Reservation> reserve(const KeySource&, bool add_to_state) {
        namespace slot = addrpool::detail::slot;
        const std::uint64_t stamp = now_ms(/*ceil=*/true);
        for (std::uint32_t i = 0; i < size(); ++i) {
            // seq_cst with the rendezvous below: a word stored after the
            // second arrival cannot be what the first two claimers load.
            const Word w = words_[i].load(boost::memory_order_seq_cst);
            if (!slot::is_unused(w)) continue;
            // THE BUG: another thread may claim i between this load and the
            // store below. The rendezvous makes that happen at least once.
            meet_in_window();
            const Word c = slot::claimed(w, stamp, add_to_state);
            words_[i].store(c, boost::memory_order_seq_cst);
            return reservation(i, c);
        }
        return exhausted();
    }

private:
    // The first arrival waits until a second one has loaded its word too.
    // Nothing is stored before the second arrival, so both loaded index 0
    // unused. The wait is bounded so that a caller with a single thread
    // fails its expect-failure check instead of hanging.
    void meet_in_window() {
        // seq_cst: pairs with the loads and stores in reserve() (see there).
        const unsigned n = arrivals_.fetch_add(1, std::memory_order_seq_cst) + 1;
        if (n != 1) return;
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        // seq_cst: reads the second arrival's fetch_add above.
        while (arrivals_.load(std::memory_order_seq_cst) < 2 && std::chrono::steady_clock::now() < give_up) {
            std::this_thread::yield();
        }
    }

    std::atomic<unsigned> arrivals_{0};
};

class SkippingPool : public ToyPool {
public:
    using ToyPool::ToyPool;

    Result<Reservation> reserve(const KeySource&, bool add_to_state) {
        namespace slot = addrpool::detail::slot;
        const std::uint64_t stamp = now_ms(/*ceil=*/true);
        // seq_cst on the hint throughout: a toy, kept simple.
        std::uint32_t from = hint_.load(std::memory_order_seq_cst);
        for (std::uint32_t i = from; i < size(); ++i) {
            Word w = slot::load(words_[i]);
            while (slot::is_unused(w)) {
                if (slot::try_claim(words_[i], w, stamp, add_to_state)) {
                    // Past i, unless a release lowered the hint meanwhile.
                    hint_.compare_exchange_strong(from, i + 1, std::memory_order_seq_cst);
                    return reservation(i, slot::claimed(w, stamp, add_to_state));
                }
            }
        }
        return exhausted();
    }
    bool release_reservation(std::uint32_t i) { return ToyPool::release_reservation(i) && freed(i); }
    bool release_reservation(const Reservation& r) { return ToyPool::release_reservation(r) && freed(r.index); }
    // (ToyPool's sweep does not lower the hint: THE BUG, too.)

private:
    bool freed(std::uint32_t i) {
        // relaxed: only counts releases.
        if (releases_.fetch_add(1, std::memory_order_relaxed) % 8 == 7) return true;  // THE BUG: not findable
        std::uint32_t h = hint_.load(std::memory_order_seq_cst);
        while (i < h && !hint_.compare_exchange_weak(h, i, std::memory_order_seq_cst)) {
        }
        return true;
    }

    std::atomic<std::uint32_t> hint_{0};  // every index below is taken, but for those the bug forgot
    std::atomic<std::uint64_t> releases_{0};
};

}  // namespace stress

#endif  // ADDRPOOL_STRESS_BROKEN_POOL_HPP
