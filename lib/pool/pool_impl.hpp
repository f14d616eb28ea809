// Internal: AddressPool's representation. Shared by pool.cpp (the pool
// itself), durable.cpp (its durable state for persistence) and white-box
// tests.
#ifndef ADDRPOOL_LIB_POOL_IMPL_HPP
#define ADDRPOOL_LIB_POOL_IMPL_HPP

#include <addrpool/pool.hpp>

#include "keys/derive.hpp"
#include "pool/durable.hpp"
#include "pool/slot.hpp"
#include "common/thread_annotations.hpp"

#include <boost/atomic.hpp>

#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace addrpool {

namespace detail {

// Size of a cache line pair: the adjacent-line prefetcher on x86-64 pulls
// lines in pairs, so hot counters written by different threads sit 128
// bytes apart (as crossbeam's CachePadded does).
inline constexpr std::size_t kFalseSharingRange = 128;

inline constexpr std::uint32_t kMaxIndex = 0x80000000u;  // indices are < 2^31
inline constexpr std::uint32_t kMaxLookahead = 1u << 16;  // bounds one refill batch

// One index. 32 bytes: 12 bytes of state (word + meta) and the address hash.
struct Slot {
    boost::atomic<std::uint64_t> word{0};  // the state machine word, see slot.hpp
    // Derivation: kDeriving elects the one thread that computes the key (so
    // no EC operation is done twice; others wait for it or help ahead);
    // kDerived is then set (release) after the hash is stored, and readers
    // acquire-load it before reading the hash. Publication itself is
    // idempotent (identical bytes, idempotent lookup insert), and a deriver
    // has published before it returns: no caller ever holds an index whose
    // address the pool cannot show yet.
    boost::atomic<std::uint32_t> meta{0};
    // The hash160, as five 32-bit atomics so racing derivers may store it
    // concurrently. relaxed stores and loads: the values are identical and
    // ordered for readers by kDerived (D2)/(D3).
    boost::atomic<std::uint32_t> hash_words[5]{{0}, {0}, {0}, {0}, {0}};

    static constexpr std::uint32_t kDerived = 1;
    // Set (fetch_or) by the one thread that computes this index's key, so
    // that no EC operation is done twice; cleared again if it fails.
    static constexpr std::uint32_t kDeriving = 2;

    void store_hash(const Hash160& h) noexcept {
        for (std::size_t k = 0; k < 5; ++k) {
            std::uint32_t v;
            std::memcpy(&v, h.data() + 4 * k, 4);
            hash_words[k].store(v, boost::memory_order_relaxed);  // relaxed: see above
        }
    }
    Hash160 load_hash() const noexcept {
        Hash160 h;
        for (std::size_t k = 0; k < 5; ++k) {
            const std::uint32_t v = hash_words[k].load(boost::memory_order_relaxed);  // relaxed: see above
            std::memcpy(h.data() + 4 * k, &v, 4);
        }
        return h;
    }
    // (D3) acquire: pairs with the release fetch_or (D2) in publish(), so the
    // hash stored before it is visible.
    bool derived() const noexcept { return (meta.load(boost::memory_order_acquire) & kDerived) != 0; }
};
static_assert(sizeof(Slot) == 32, "a slot is 32 bytes");
static_assert(boost::atomic<std::uint32_t>::is_always_lock_free);

// Segmented slot array: segment 0 holds indices [0, 1024), segment k >= 1
// holds [2^(k+9), 2^(k+10)). Segments are allocated on demand, published
// once with a release CAS into the directory, never moved, freed only by the
// destructor. 22 segments cover all 2^31 indices.
class SlotArray {
public:
    static constexpr unsigned kFirstBits = 10;
    static constexpr unsigned kSegments = 32 - kFirstBits;  // 22

    SlotArray() = default;
    SlotArray(const SlotArray&) = delete;
    SlotArray& operator=(const SlotArray&) = delete;
    ~SlotArray();

    static constexpr unsigned segment_of(std::uint32_t i) noexcept {
        return i < (1u << kFirstBits) ? 0u : static_cast<unsigned>(std::bit_width(i)) - kFirstBits;
    }
    static constexpr std::uint32_t segment_base(unsigned k) noexcept { return k == 0 ? 0u : 1u << (k + kFirstBits - 1); }
    static constexpr std::uint32_t segment_size(unsigned k) noexcept {
        return k == 0 ? 1u << kFirstBits : 1u << (k + kFirstBits - 1);
    }
    // Where offset `off` of segment k lives: 8-way interleaved, so that the
    // 8 consecutive indices that concurrent hand-outs claim at once sit in 8
    // different 128-byte line pairs instead of sharing lines (false sharing).
    static constexpr std::uint32_t kInterleave = 8;
    // Each lane is also rotated by two slots (64 bytes) per lane, so that the
    // 8 hot slots, size/8 * 32 bytes apart (a multiple of 4 KiB), do not all
    // map to one L1 cache set.
    static constexpr std::uint32_t position(unsigned k, std::uint32_t off) noexcept {
        const std::uint32_t lane_size = segment_size(k) / kInterleave;  // a power of two >= 128
        const std::uint32_t lane = off % kInterleave;
        return lane * lane_size + ((off / kInterleave + 2 * lane) & (lane_size - 1));
    }

    // The slot, or nullptr if its segment was never allocated. Lock-free.
    Slot* find(std::uint32_t i) const noexcept {
        if (i >= kMaxIndex) return nullptr;  // no such index (and no such segment)
        const unsigned k = segment_of(i);
        // acquire: pairs with the release CAS in ensure(), so the segment's
        // zero-initialized slots are visible before its pointer is.
        Slot* seg = segments_[k].load(boost::memory_order_acquire);
        return seg == nullptr ? nullptr : seg + position(k, i - segment_base(k));
    }
    // The slot, allocating its segment if needed (lock-free: racing
    // allocators CAS, the loser frees its copy). Requires i < 2^31. Throws
    // std::bad_alloc when memory runs out (nothing is published then).
    Slot& ensure(std::uint32_t i);

private:
    mutable std::array<boost::atomic<Slot*>, kSegments> segments_{};
};

// hash160 → index for every derived slot, sharded to keep lookups off one
// mutex. Not on the hand-out hot path: written when a slot is derived.
class LookupIndex {
public:
    void insert(const Hash160& h, std::uint32_t index);
    std::optional<std::uint32_t> find(const Hash160& h) const;
    void clear();
    void reserve(std::size_t n);  // room for n entries (bulk load)

private:
    struct HashOf {
        std::size_t operator()(const Hash160& h) const noexcept {
            std::size_t v = 0;
            for (int i = 0; i < 8; ++i) v = (v << 8) | h[static_cast<std::size_t>(i)];  // hash160 is uniform already
            return v;
        }
    };
    struct Shard {
        mutable Mutex mutex;
        std::unordered_map<Hash160, std::uint32_t, HashOf> map GUARDED_BY(mutex);
    };
    static constexpr std::size_t kShards = 16;
    Shard& shard(const Hash160& h) const noexcept { return shards_[h[19] % kShards]; }
    mutable std::array<Shard, kShards> shards_;
};

}  // namespace detail

struct AddressPool::Impl {
    Impl(DerivationPath base_path, PoolType type, std::uint32_t gap_limit, Network network, PoolOptions options);

    // ---- configuration (immutable) ----
    DerivationPath base_path;
    PoolType type;
    std::uint32_t gap_limit;
    Network network;
    PoolOptions options;
    std::uint32_t lookahead;  // resolved: options.lookahead or gap_limit, capped at kMaxLookahead
    std::chrono::steady_clock::time_point epoch;

    // ---- per-index state ----
    detail::SlotArray slots;
    detail::LookupIndex lookup;

    // ---- shared cursors, each on its own line pair ----
    // (H) Cursor hint (lib/hint.hpp): low 32 bits = lowest index that may be
    // unused, high 32 bits = version, bumped by every release and once per
    // sweep or reset that made slots unused.
    alignas(detail::kFalseSharingRange) boost::atomic<std::uint64_t> hint{0};
    // 1 + highest index ever derived or touched; bounds every scan. Monotone.
    alignas(detail::kFalseSharingRange) boost::atomic<std::uint32_t> touched_end{0};
    // highest_used + 1 (0 = none). Monotone except reset_usage.
    boost::atomic<std::uint32_t> used_end{0};
    // Low 32 bits: every index below is used (a lower bound the sweep keeps);
    // high 32 bits: an epoch bumped by reset_usage, so a sweep that started
    // before a reset cannot raise the bound over indices the reset freed.
    boost::atomic<std::uint64_t> used_prefix{0};
    // The clock reading (ms, rounded down) of the latest sweep, announced
    // before it scans; see claim() (C2) and the sweep (C0).
    alignas(detail::kFalseSharingRange) boost::atomic<std::uint64_t> sweep_now{0};
    // Lookahead: indices below derived_end are derived (or being published);
    // refilling elects the one thread that derives the next batch.
    alignas(detail::kFalseSharingRange) boost::atomic<std::uint32_t> derived_end{0};
    boost::atomic<bool> refilling{false};

    // The account key (public key and chain code) this pool derives from,
    // bound on first derivation.
    detail::Mutex account_mutex;
    std::optional<std::pair<PubKeyBytes, ChainCode>> account_key GUARDED_BY(account_mutex);

    // Labels of generated entries.
    mutable detail::Mutex label_mutex;
    std::map<std::uint32_t, std::string> labels GUARDED_BY(label_mutex);

    // Ordering of concurrent save() calls (durable.hpp, lib/persist/bridge.cpp).
    mutable detail::SaveOrder save_order;

    // ---- helpers used by pool.cpp and durable.cpp ----
    std::uint64_t now_ms_floor() const;
    std::uint64_t now_ms_ceil() const;
    Address address_from(const Hash160& h) const { return Address(network, AddressKind::p2pkh, h, options.format); }
    // Publishes a derived hash for index i once (first writer wins; every
    // writer computed the same bytes). Registers it in the lookup index.
    void publish(std::uint32_t i, const Hash160& h);
    // Raises a monotone counter to at least v.
    static void raise(boost::atomic<std::uint32_t>& counter, std::uint32_t v) noexcept;
    // Lowers the cursor hint to at most i and bumps its version (H2).
    void lower_hint(std::uint32_t i) noexcept;
};

}  // namespace addrpool

#endif  // ADDRPOOL_LIB_POOL_IMPL_HPP
