// Deriving a pool's addresses: binding, single-index derivation with one
// deriver per index, the bounded lookahead refill and bulk derivation on
// several threads. See derivation.hpp.
#include "pool/derivation.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace addrpool::detail {

namespace {

// The lowest derived index of a pool, if any (to check a key source against
// a pool loaded from a file, whose hashes came without a key).
std::optional<std::uint32_t> first_derived(const Impl& p) {
    const Hot* h = p.hot_or_null();
    if (h == nullptr) return std::nullopt;
    std::optional<std::uint32_t> found;
    // (T2) acquire: pairs with (T1), so every slot below is allocated or skipped.
    const std::uint32_t end = h->touched_end.load(boost::memory_order_acquire);
    h->slots.for_each(0, end, [&](std::uint32_t i, const Slot& s) {
        if (!found && s.derived()) found = i;
    });
    return found;
}

}  // namespace

Result<void> check_account(Impl& p, const KeySource& ks) {
    const ExtendedPubKey account = *ks.account_public_key();
    // (B1) acquire: pairs with the release CAS (B2): the bound key's bytes
    // are visible.
    if (const Impl::BoundKey* bound = p.bound_key.load(boost::memory_order_acquire)) {
        if (bound->key == account.public_key() && bound->chain_code == account.chain_code()) return {};
        return make_error(Errc::invalid_argument, "the key source holds a different account key than this pool's");
    }
    if (auto ok = ks.check_pool(p.base_path, p.type, p.network); !ok) return std::move(ok).error();
    // A pool loaded from a file has hashes but no key: check one of them.
    if (auto i = first_derived(p)) {
        auto h = ks.derive_hash160(p.type, *i);
        if (!h) return std::move(h).error();
        if (*h != *published_hash(p.find_slot(*i))) {
            return make_error(Errc::invalid_argument,
                              "the key source does not derive this pool's addresses (index " + std::to_string(*i) + ")");
        }
    }
    auto fresh = std::make_unique<Impl::BoundKey>(Impl::BoundKey{account.public_key(), account.chain_code()});
    const Impl::BoundKey* expected = nullptr;
    // (B2) acq_rel: release publishes the key's bytes to (B1); acquire on
    // failure reads the winner's. Two first derivations with different keys
    // race here: one binds, the other compares against it.
    if (p.bound_key.compare_exchange_strong(expected, fresh.get(), boost::memory_order_acq_rel,
                                            boost::memory_order_acquire)) {
        fresh.release();  // owned by the pool (~Impl)
        return {};
    }
    if (expected->key == account.public_key() && expected->chain_code == account.chain_code()) return {};
    return make_error(Errc::invalid_argument, "the key source holds a different account key than this pool's");
}

bool is_derived(const Impl& p, std::uint32_t i) noexcept {
    const std::optional<Slot> s = p.find_slot(i);
    return s && s->derived();  // (D3)
}

std::optional<std::uint32_t> derived_index_of(const Impl& p, const Hash160& h) {
    if (const IndexSink* sink = p.sink_or_null()) {
        if (auto i = sink->find(h)) return i;  // everything derived since (and before) the attach
    }
    const LookupIndex* lookup = p.lookup_or_null();
    if (lookup == nullptr) return std::nullopt;
    return lookup->find(h);
}

std::optional<std::uint32_t> derived_index_of(const Impl& p, const Address& address) {
    if (address.kind() != AddressKind::p2pkh || !same_encoding(address.network(), p.network)) return std::nullopt;
    return derived_index_of(p, address.hash160());
}

namespace {

// Derives index i if no other thread is deriving it. Returns its hash when
// it is (or was already) published, nullopt when another thread holds
// kDeriving for it, or an error (then kDeriving is left clear for others).
Result<std::optional<Hash160>> derive_if_free(Impl& p, const KeySource& ks, std::uint32_t i) {
    if (i >= kMaxIndex) {
        return make_error(Errc::index_out_of_range, "address index " + std::to_string(i) + " is not below 2^31");
    }
    if (!ks.can_derive()) {
        return make_error(Errc::no_key_source, "index " + std::to_string(i) +
                                                   " is not derived yet and the key source cannot derive");
    }
    if (p.type == PoolType::absent_hardened && ks.is_watch_only()) {
        return make_error(Errc::hardened_from_public, "an absent_hardened pool needs a private key source");
    }
    if (auto ok = check_account(p, ks); !ok) return std::move(ok).error();
    const Slot s = p.hot().slots.ensure(i);
    if (s.derived()) return std::optional<Hash160>(s.load_hash());  // (D3)
    // relaxed: kDeriving only elects who computes; the result is published by (D2).
    const std::uint32_t prior = s.meta().fetch_or(Slot::kDeriving, boost::memory_order_relaxed);
    if (prior & Slot::kDeriving) {
        if (s.derived()) return std::optional<Hash160>(s.load_hash());  // (D3)
        return std::optional<Hash160>();  // busy: someone else computes it
    }
    // Ours. If anything below fails (an invalid child, bad_alloc), give the
    // index back so a waiter can derive it.
    struct GiveBack {
        const Slot slot;
        bool armed = true;
        ~GiveBack() {
            // relaxed: as the fetch_or above.
            if (armed) slot.meta().fetch_and(~Slot::kDeriving, boost::memory_order_relaxed);
        }
    } give_back{s};
    auto h = ks.derive_hash160(p.type, i);
    if (!h) return std::move(h).error();
    p.publish(i, *h);
    give_back.armed = false;  // kDerived is set: kDeriving may stay
    return std::optional<Hash160>(*h);
}

// While another thread derives `busy`, derive one index ahead of it that
// nobody derives yet (so two threads never compute the same key and the
// waiter's time is not lost). False if there was nothing to do.
bool help_ahead(Impl& p, const KeySource& ks, std::uint32_t busy) {
    const std::uint64_t end =
        std::min<std::uint64_t>(std::uint64_t{busy} + 1 + std::max(p.lookahead, 1u) + 4, kMaxIndex);
    for (std::uint64_t j = std::uint64_t{busy} + 1; j < end; ++j) {
        const auto jj = static_cast<std::uint32_t>(j);
        const std::optional<Slot> s = p.find_slot(jj);
        if (s &&
            (s->derived() || (s->meta().load(boost::memory_order_relaxed) & Slot::kDeriving))) {  // relaxed: a hint
            continue;
        }
        auto r = derive_if_free(p, ks, jj);
        if (!r) return false;
        if (*r) return true;
    }
    return false;
}

}  // namespace

Result<Hash160> hash_at(Impl& p, const KeySource& ks, std::uint32_t i) {
    if (auto h = published_hash(p.find_slot(i))) return *h;
    for (;;) {
        auto r = derive_if_free(p, ks, i);
        if (!r) return std::move(r).error();
        if (*r) return **r;
        if (!help_ahead(p, ks, i)) std::this_thread::yield();
    }
}

void refill(Impl& p, const KeySource& ks, std::uint64_t frontier) noexcept {
    Hot& h = *p.hot_or_null();  // the caller made it
    if (!ks.can_derive()) return;
    // Read before exchanging: a hand-out that finds a refill running goes on
    // without touching the flag's line with a write.
    if (h.refilling.load(boost::memory_order_relaxed)) return;  // relaxed: a hint; (R1) decides
    // (R1) acquire: pairs with (R2) of the previous refiller, so we see its derived_end.
    if (h.refilling.exchange(true, boost::memory_order_acquire)) return;
    const std::uint64_t from = std::max<std::uint64_t>(h.derived_end.load(boost::memory_order_relaxed), frontier);
    const std::uint64_t to = std::min<std::uint64_t>({frontier + 1 + p.lookahead, from + kRefillBatch, kMaxIndex});
    std::uint64_t j = from;
    try {
        for (; j < to; ++j) {
            const auto jj = static_cast<std::uint32_t>(j);
            if (is_derived(p, jj)) continue;
            if (!derive_if_free(p, ks, jj)) break;  // busy (someone else derives j) is fine: go on
        }
    } catch (...) {  // std::bad_alloc: stop here; hand-outs derive what they need
    }
    // relaxed: read only by refill triggers, ordered by (R1)/(R2).
    const std::uint32_t reached = static_cast<std::uint32_t>(j);
    if (reached > h.derived_end.load(boost::memory_order_relaxed)) {
        h.derived_end.store(reached, boost::memory_order_relaxed);
    }
    // (R2) release: pairs with (R1).
    h.refilling.store(false, boost::memory_order_release);
}

namespace {

// Ranges at least this long are split over several threads.
constexpr std::uint32_t kParallelThreshold = 256;
// Indices a worker takes at a time.
constexpr std::uint32_t kParallelGrain = 64;

unsigned derive_threads(const Impl& p, std::uint32_t count) {
    unsigned n = p.options.derive_threads != 0 ? p.options.derive_threads : std::thread::hardware_concurrency();
    if (n == 0) n = 1;
    return std::min<unsigned>(n, std::max<std::uint32_t>(1, count / kParallelGrain));
}

}  // namespace

Result<std::vector<Hash160>> derive_range(Impl& p, const KeySource& ks, std::uint32_t from, std::uint32_t to) {
    const std::uint32_t count = to - from;
    const unsigned threads = count >= kParallelThreshold ? derive_threads(p, count) : 1;
    if (threads > 1) {
        // Workers take kParallelGrain indices at a time from a shared counter
        // and publish them (each index once: derive_if_free elects); the
        // hashes are read back in order below.
        std::atomic<std::uint32_t> next{from};   // relaxed: a work counter; results are published by (D2)
        std::atomic<bool> failed{false};          // relaxed: a stop flag; the error itself is under the mutex
        std::mutex error_mutex;
        std::optional<Error> first_error;
        std::exception_ptr thrown;
        auto work = [&] {
            try {
                while (!failed.load(std::memory_order_relaxed)) {  // relaxed: a stop hint; join() orders the rest
                    // relaxed: hands out disjoint ranges; the hashes are published by (D2).
                    const std::uint32_t start = next.fetch_add(kParallelGrain, std::memory_order_relaxed);
                    if (start >= to) return;
                    const std::uint32_t stop = std::min(to, start + kParallelGrain);
                    for (std::uint32_t j = start; j < stop; ++j) {
                        auto h = hash_at(p, ks, j);
                        if (!h) {
                            std::lock_guard<std::mutex> lock(error_mutex);
                            if (!first_error) first_error = std::move(h).error();
                            failed.store(true, std::memory_order_relaxed);  // relaxed: a stop hint
                            return;
                        }
                    }
                }
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!thrown) thrown = std::current_exception();
                failed.store(true, std::memory_order_relaxed);  // relaxed: a stop hint
            }
        };
        std::vector<std::thread> helpers;
        helpers.reserve(threads - 1);
        try {
            for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(work);
        } catch (...) {  // could not start a thread: the others (and we) do the work
        }
        work();
        for (auto& t : helpers) t.join();  // join() synchronizes: every publication is visible
        if (thrown) std::rethrow_exception(thrown);
        if (first_error) return std::move(*first_error);
    }
    std::vector<Hash160> hashes;
    hashes.reserve(count);
    for (std::uint32_t j = from; j < to; ++j) {
        auto h = hash_at(p, ks, j);  // published by the workers: a load each
        if (!h) return std::move(h).error();
        hashes.push_back(*h);
    }
    // Everything in [from, to) is derived: the refill need not look there.
    Hot& hot = p.hot();
    if (from <= hot.derived_end.load(boost::memory_order_relaxed)) {  // relaxed: a trigger only, as in maybe_refill
        Impl::raise(hot.derived_end, to);
    }
    return hashes;
}

}  // namespace addrpool::detail
