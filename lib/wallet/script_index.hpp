// Internal: the one script index of a WalletSet: hash160 → (binding of an
// account, chain, index), shared by every pool of the set (each pool writes
// through its own IndexSink adapter, sink.hpp). Matching a block costs one
// probe per script whatever the number of accounts.
//
// Layout: 64 shards (by the hash's last byte), each an open-addressing
// table with linear probing, in one allocation: a bucket array of 64-bit
// words and an entry array.
//   bucket word   0 = empty; kTomb (low half all ones) = erased;
//                 else (fingerprint << 32) | (entry slot + 1), the
//                 fingerprint being hash bytes 8..11
//   entry         {hash160, chain << 31 | index, binding}: 32 bytes,
//                 appended, never rewritten while the table is in use
// In front of the buckets, a blocked Bloom filter (8 bits per entry slot,
// three bits in one 64-byte block per hash): a script that is not the set's
// — nearly every one — is settled by one cache line that, for a set of
// 10,000 accounts, fits in L2; erasures leave their bits (a rebuild clears
// them). A table holds at most 0.6 × its buckets in entries (live or
// erased), so every probe ends at an empty bucket; when its entry array is full the shard
// is rebuilt into a new table sized for 1.5× the live entries (grow, or
// shrink after many erasures) and the old one retired (ebr.hpp).
// Bytes per entry: 27.8 × buckets / live = 46 (full) to 70 (just rebuilt).
//
// Protocol (numbered operations and their partners):
//   Writers (insert, erase, rebuild) hold the shard's mutex.
//   (X1) insert writes the entry (plain stores: no reader can reach its slot
//        yet), then publishes its bucket word with a release store;
//   (X2) a reader acquire-loads bucket words: one that sees (X1)'s word sees
//        the entry. An erased bucket becomes kTomb (relaxed: nothing is
//        published; a reader that still sees the old word reads an entry
//        that stays intact in this table), and insert may reuse a kTomb
//        bucket for a new entry (a new slot: (X1) again).
//   (X3) a rebuild fills a new table, then publishes it with a seq_cst store
//        of the shard's table pointer (a release: its content is visible to
//        (X4)), and retires the old one;
//   (X4) readers load the table pointer seq_cst inside an ebr::Guard (the
//        root load (R) of ebr.hpp), so a retired table outlives them.
//   (F1) insert sets the filter bits (relaxed fetch_or) before (X1); (F2) a
//        reader tests them (relaxed loads) before probing. Relaxed is enough:
//        an insert that happens-before a lookup (through whatever ordered
//        them: the watch mutex, a join, (X1)/(X2) of a later entry…) has its
//        bits visible by coherence; a concurrent insert may be missed, which
//        linearizes it after the lookup. A rebuild fills the new filter
//        before (X3).
// Readers (find, find_batch) are lock-free and wait-free in the probe length.
#ifndef ADDRPOOL_LIB_WALLET_SCRIPT_INDEX_HPP
#define ADDRPOOL_LIB_WALLET_SCRIPT_INDEX_HPP

#include <addrpool/keys.hpp>

#include "common/thread_annotations.hpp"

#include <boost/atomic.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace addrpool::detail {

struct Binding;

// One index of one pool of one account.
struct IndexEntry {
    Hash160 hash;
    std::uint32_t chain_index;  // chain << 31 | index (indices are < 2^31)
    Binding* binding;

    std::uint32_t index() const noexcept { return chain_index & 0x7fffffffu; }
    unsigned chain() const noexcept { return chain_index >> 31; }
    static std::uint32_t pack(unsigned chain, std::uint32_t index) noexcept {
        return (std::uint32_t{chain} << 31) | index;
    }
};
static_assert(sizeof(IndexEntry) == 32, "an index entry is 32 bytes");

class ScriptIndex {
public:
    ScriptIndex() = default;
    ~ScriptIndex();  // requires no concurrent user
    ScriptIndex(const ScriptIndex&) = delete;
    ScriptIndex& operator=(const ScriptIndex&) = delete;

    // Registers index `index` of chain `chain` of `b` under h. Idempotent for
    // an equal entry. Blocking (one shard mutex); throws only std::bad_alloc,
    // and then changes nothing. Returns true if it rebuilt the shard (and so
    // retired the old table: the caller should ebr::collect() once it holds
    // no lock).
    bool insert(const Hash160& h, Binding* b, unsigned chain, std::uint32_t index);
    // Removes the entry of (h, b, chain), if present. Blocking (one shard mutex).
    void erase(const Hash160& h, const Binding* b, unsigned chain) noexcept;

    // Calls visit(const IndexEntry&) for every entry under h. Lock-free; the
    // caller holds an ebr::Guard (the entries and bindings it sees stay valid
    // while it does).
    template <class F>
    void find(const Hash160& h, F&& visit) const;
    // find() for each hs[k], calling visit(k, entry), in order of k, with the
    // buckets of later hashes prefetched (a large index misses the cache on
    // nearly every probe: this overlaps the misses).
    template <class F>
    void find_batch(std::span<const Hash160> hs, F&& visit) const;

    // Live entries and bytes held by the tables (quiescent snapshots; tests
    // and benchmarks). Blocking (every shard mutex in turn).
    std::size_t size() const;
    std::size_t memory_bytes() const;

private:
    static constexpr unsigned kShardBits = 6;
    static constexpr std::size_t kShards = std::size_t{1} << kShardBits;
    static constexpr std::uint64_t kTomb = 0xffffffffu;

    struct Table {
        std::uint32_t buckets;   // bucket count
        std::uint32_t capacity;  // entry slots: 0.6 × buckets
        std::uint32_t blocks;    // filter blocks (512 bits each): 8 bits per entry slot
        std::uint32_t unused_ = 0;

        // header | bucket words | (to 64 bytes) filter blocks | entries
        static std::size_t filter_offset(std::uint32_t buckets) noexcept {
            return (sizeof(Table) + std::size_t{buckets} * 8 + 63) & ~std::size_t{63};
        }
        static std::size_t entry_offset(std::uint32_t buckets, std::uint32_t blocks) noexcept {
            return filter_offset(buckets) + std::size_t{blocks} * 64;
        }
        static std::size_t bytes(std::uint32_t buckets, std::uint32_t capacity, std::uint32_t blocks) noexcept {
            return entry_offset(buckets, blocks) + std::size_t{capacity} * sizeof(IndexEntry);
        }
        std::size_t bytes() const noexcept { return bytes(buckets, capacity, blocks); }
        unsigned char* base() noexcept { return reinterpret_cast<unsigned char*>(this); }
        const unsigned char* base() const noexcept { return reinterpret_cast<const unsigned char*>(this); }
        boost::atomic<std::uint64_t>* bucket() noexcept { return reinterpret_cast<boost::atomic<std::uint64_t>*>(this + 1); }
        const boost::atomic<std::uint64_t>* bucket() const noexcept {
            return reinterpret_cast<const boost::atomic<std::uint64_t>*>(this + 1);
        }
        boost::atomic<std::uint64_t>* filter() noexcept {
            return reinterpret_cast<boost::atomic<std::uint64_t>*>(base() + filter_offset(buckets));
        }
        const boost::atomic<std::uint64_t>* filter() const noexcept {
            return reinterpret_cast<const boost::atomic<std::uint64_t>*>(base() + filter_offset(buckets));
        }
        IndexEntry* entry() noexcept { return reinterpret_cast<IndexEntry*>(base() + entry_offset(buckets, blocks)); }
        const IndexEntry* entry() const noexcept {
            return reinterpret_cast<const IndexEntry*>(base() + entry_offset(buckets, blocks));
        }
        // The filter's block for h (8 words), and the three bits h sets in it.
        const boost::atomic<std::uint64_t>* block_of(const Hash160& h) const noexcept {
            std::uint32_t x;
            std::memcpy(&x, h.data() + 12, 4);
            return filter() + ((std::uint64_t{x} * blocks) >> 32) * 8;
        }
        static std::uint32_t filter_bits(const Hash160& h) noexcept {
            std::uint32_t y;
            std::memcpy(&y, h.data() + 4, 4);
            return y;  // three 9-bit positions in the block: bits 0-8, 9-17, 18-26
        }
        // (F2) relaxed: see the header comment.
        bool may_contain(const Hash160& h) const noexcept {
            const boost::atomic<std::uint64_t>* b = block_of(h);
            const std::uint32_t y = filter_bits(h);
            for (unsigned k = 0; k < 3; ++k) {
                const unsigned pos = (y >> (9 * k)) & 511;
                if ((b[pos >> 6].load(boost::memory_order_relaxed) & (std::uint64_t{1} << (pos & 63))) == 0) return false;
            }
            return true;
        }
        void add_to_filter(const Hash160& h) noexcept;  // (F1)
        static Table* make(std::uint32_t live);  // zeroed buckets and filter, room for 1.5 × live (at least 9)
        static void destroy(void* t) noexcept;
    };
    static_assert(sizeof(Table) == 16 && alignof(IndexEntry) == 8, "buckets follow the header, 8-byte aligned");

    struct alignas(128) Shard {
        mutable Mutex mutex;
        boost::atomic<Table*> table{nullptr};  // (X3)/(X4)
        std::uint32_t appended GUARDED_BY(mutex) = 0;  // entry slots used in `table`
        std::uint32_t live GUARDED_BY(mutex) = 0;
        std::uint32_t erased GUARDED_BY(mutex) = 0;
    };

    static unsigned shard_of(const Hash160& h) noexcept { return h[19] & (kShards - 1); }
    static std::uint32_t position(const Hash160& h, std::uint32_t buckets) noexcept {
        std::uint32_t x;
        std::memcpy(&x, h.data(), 4);
        return static_cast<std::uint32_t>((std::uint64_t{x} * buckets) >> 32);
    }
    static std::uint64_t fingerprint(const Hash160& h) noexcept {
        std::uint32_t f;
        std::memcpy(&f, h.data() + 8, 4);
        return std::uint64_t{f} << 32;
    }
    // A new table with the shard's live entries and room for more; the old
    // one is retired. Throws only std::bad_alloc (nothing changed then).
    Table* rebuild(Shard& s, std::uint32_t extra) REQUIRES(s.mutex);

    std::array<Shard, kShards> shards_;
};

template <class F>
void ScriptIndex::find(const Hash160& h, F&& visit) const {
    const Shard& s = shards_[shard_of(h)];
    const Table* t = s.table.load(boost::memory_order_seq_cst);  // (X4) seq_cst: a root load (R), ebr.hpp
    if (t == nullptr || !t->may_contain(h)) return;
    const std::uint64_t fp = fingerprint(h);
    const boost::atomic<std::uint64_t>* b = t->bucket();
    for (std::uint32_t pos = position(h, t->buckets);;) {
        const std::uint64_t w = b[pos].load(boost::memory_order_acquire);  // (X2) acquire: pairs with (X1)
        if (w == 0) return;
        const std::uint64_t slot = w & 0xffffffffu;
        if (slot != kTomb && (w & ~std::uint64_t{0xffffffffu}) == fp) {
            const IndexEntry& e = t->entry()[slot - 1];
            if (e.hash == h) visit(e);
        }
        if (++pos == t->buckets) pos = 0;
    }
}

template <class F>
void ScriptIndex::find_batch(std::span<const Hash160> hs, F&& visit) const {
    constexpr std::size_t kAhead = 16;
    auto prefetch = [&](const Hash160& h) {
        const Table* t = shards_[shard_of(h)].table.load(boost::memory_order_seq_cst);  // (X4), as in find()
        if (t != nullptr) __builtin_prefetch(t->block_of(h));  // the filter decides for most scripts
    };
    for (std::size_t k = 0; k < hs.size() && k < kAhead; ++k) prefetch(hs[k]);
    for (std::size_t k = 0; k < hs.size(); ++k) {
        if (k + kAhead < hs.size()) prefetch(hs[k + kAhead]);
        find(hs[k], [&](const IndexEntry& e) { visit(k, e); });
    }
}

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_WALLET_SCRIPT_INDEX_HPP
