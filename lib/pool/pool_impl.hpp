// Internal: AddressPool's representation. Shared by the pool's sources
// (lib/pool/*.cpp), the persistence bridge (through durable.hpp) and
// white-box tests.
//
// A pool is a small immutable configuration plus a hot block (Hot), made by
// the first operation that changes state, so a pool that never derived
// anything costs only its configuration. The hot block holds every shared
// word of the hand-out protocols, each group on its own line pair:
//   free      frontier, leaf line 0, summary words 0, root (free_index.hpp)
//   sweep     the announcement word (announce.hpp), the used-prefix word
//             (used_prefix.hpp), used_end (gap bound)
//   derive    derived_end and the refill flag (derivation.cpp), touched_end
//   slots     the slot array (slot_array.hpp)
#ifndef ADDRPOOL_LIB_POOL_POOL_IMPL_HPP
#define ADDRPOOL_LIB_POOL_POOL_IMPL_HPP

#include <addrpool/pool.hpp>

#include "common/thread_annotations.hpp"
#include "pool/durable.hpp"
#include "pool/index_sink.hpp"
#include "pool/lookup.hpp"
#include "pool/slot.hpp"
#include "pool/slot_array.hpp"

#include <boost/atomic.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace addrpool {

namespace detail {

struct Hot {
    FreeCore free;
    alignas(kFalseSharingRange) AtomicWord sweep_now{0};  // (C0)/(C2), announce.hpp
    AtomicWord used_prefix{0};                            // (P1)..(P3), used_prefix.hpp
    // highest_used + 1 (0 = none). Monotone except reset_usage.
    boost::atomic<std::uint32_t> used_end{0};
    // Lookahead: every index below derived_end is derived; the refill
    // elects one thread to derive the next batch (R1)/(R2).
    alignas(kFalseSharingRange) boost::atomic<std::uint32_t> derived_end{0};
    boost::atomic<bool> refilling{false};
    // 1 + highest index ever derived or touched; bounds every scan (T1)/(T2). Monotone.
    boost::atomic<std::uint32_t> touched_end{0};
    SlotArray slots;

    SlotArray::FreeStore free_store() noexcept { return {slots, free}; }
};

}  // namespace detail

struct AddressPool::Impl {
    Impl(DerivationPath base_path, PoolType type, std::uint32_t gap_limit, Network network, PoolOptions options);
    ~Impl();

    // ---- configuration (immutable) ----
    DerivationPath base_path;
    PoolType type;
    std::uint32_t gap_limit;
    Network network;
    PoolOptions options;
    std::uint32_t lookahead;  // resolved: options.lookahead or gap_limit, capped at max_lookahead
    // maybe_refill() refills when derived_end - frontier <= refill_margin:
    // 1 + lookahead / 2, or INT64_MIN (never) without a lookahead. One
    // subtraction and one comparison on every hand-out.
    std::int64_t refill_margin;
    std::chrono::steady_clock::time_point epoch;  // stamps count from here: 2^38 ms before creation (pool.cpp)
    std::uint64_t nonce;  // random per pool object: the tag of its tickets
    std::int64_t coarse_offset_ns;  // default clock: coarse resolution - epoch, in ns (stamp_ms)

    // ---- state ----
    // The hot block: null until the first state change (see the top).
    // (K1)/(K2): made by whoever needs it first, published by CAS.
    boost::atomic<detail::Hot*> hot_ptr{nullptr};
    // hash160 -> index of every derived index (lookup.hpp), made by the
    // first derivation of a pool with no sink.
    boost::atomic<detail::LookupIndex*> lookup_ptr{nullptr};
    // The set-wide index this pool registers its derived hashes in instead
    // (index_sink.hpp), owned by the pool; null for a pool on its own.
    // (I1)/(I2): attached once, see attach_sink().
    boost::atomic<detail::IndexSink*> sink_ptr{nullptr};

    // The account key (public key and chain code) this pool derives from,
    // bound once, by CAS, on first derivation (derivation.cpp check_account).
    struct BoundKey {
        PubKeyBytes key;
        ChainCode chain_code;
    };
    boost::atomic<const BoundKey*> bound_key{nullptr};

    // Labels of generated entries, made by the first set_label.
    struct Labels {
        mutable detail::Mutex mutex;
        std::map<std::uint32_t, std::string> map GUARDED_BY(mutex);
    };
    boost::atomic<Labels*> labels_ptr{nullptr};
    Labels& labels();
    const Labels* labels_or_null() const noexcept {
        return labels_ptr.load(boost::memory_order_acquire);  // (K3) acquire: pairs with (K2)
    }

    // Ordering of concurrent save() calls (durable.hpp, lib/persist/bridge.cpp),
    // made by the first save.
    boost::atomic<detail::SaveOrder*> save_order_ptr{nullptr};
    detail::SaveOrder& save_order();

    // Attaches the set-wide index: from now on every derived hash goes to
    // `sink`. Once per pool (a second attach aborts); thread-safe against
    // concurrent derivations (the Dekker pairing (I1)/(I2) with publish(), and the fences (I3)).
    void attach_sink(std::unique_ptr<detail::IndexSink> sink) noexcept;
    // Then: copies every hash derived before the attach into the sink.
    // Idempotent (so is the sink's insert); throws only std::bad_alloc, and
    // may then be called again. Requires an attached sink.
    void backfill_sink() const;
    detail::IndexSink* sink_or_null() const noexcept {
        return sink_ptr.load(boost::memory_order_seq_cst);  // (I2) seq_cst: see attach_sink
    }

    // ---- helpers ----
    detail::Hot* hot_or_null() const noexcept {
        return hot_ptr.load(boost::memory_order_acquire);  // (K3) acquire: pairs with (K2)
    }
    // The hot block, made if needed. Throws std::bad_alloc.
    detail::Hot& hot() {
        detail::Hot* h = hot_or_null();
        return h != nullptr ? *h : make_hot();
    }
    detail::Hot& make_hot();
    detail::LookupIndex& lookup();
    const detail::LookupIndex* lookup_or_null() const noexcept {
        return lookup_ptr.load(boost::memory_order_acquire);  // (K3) acquire: pairs with (K2)
    }
    // The slot of index i if its block exists.
    std::optional<detail::Slot> find_slot(std::uint32_t i) const noexcept {
        const detail::Hot* h = hot_or_null();
        if (h == nullptr) return std::nullopt;
        return h->slots.find(i);
    }

    // The clock: stamps (rounded up) and sweep readings (rounded down), in
    // milliseconds since `epoch`. With the default clock, stamps come from
    // the coarse monotonic clock plus its resolution (cheap, never early);
    // see PoolOptions::clock.
    std::uint64_t stamp_ms() const;
    std::uint64_t now_ms_floor() const;
    std::uint64_t now_ms_ceil() const;
    std::chrono::steady_clock::time_point time_of(std::uint64_t ms) const noexcept {
        return epoch + std::chrono::milliseconds(ms);
    }

    Address address_from(const Hash160& h) const { return Address(network, AddressKind::p2pkh, h, options.format); }
    // The ticket of generation g of index i.
    std::uint64_t ticket(std::uint32_t i, std::uint32_t g) const noexcept {
        return detail::slot::make_ticket(g, ticket_tag(i));
    }
    std::uint64_t ticket_tag(std::uint32_t i) const noexcept;  // pool.cpp

    // Publishes a derived hash for index i once (every deriver computed the
    // same bytes). Registers it in the lookup index. Requires the slot.
    void publish(std::uint32_t i, const Hash160& h);
    // Raises a monotone counter to at least v (T1).
    static void raise(boost::atomic<std::uint32_t>& counter, std::uint32_t v) noexcept;
};

namespace detail {

// The published hash of a slot, if any (D3).
inline std::optional<Hash160> published_hash(const Slot& s) {
    if (!s.derived()) return std::nullopt;
    return s.load_hash();
}
inline std::optional<Hash160> published_hash(const std::optional<Slot>& s) {
    return s ? published_hash(*s) : std::nullopt;
}

}  // namespace detail

}  // namespace addrpool

#endif  // ADDRPOOL_LIB_POOL_POOL_IMPL_HPP
