// Internal: where a pool's per-index state lives — slots and the free-index
// words (free_index.hpp) — allocated on demand, published once, never moved,
// freed only by the destructor. A Slot (a handle on one index's words) stays
// valid for the pool's life, so no reclamation scheme is needed.
//
// Geometry:
//   small segments  segment 0 = [0, 32), segment k >= 1 = [2^(k+4), 2^(k+5)),
//                   k = 1..11: twelve segments cover [0, 2^16). A pool that
//                   derived 20 addresses owns one 1 KiB segment.
//   chunks          chunk c >= 1 = [c·2^16, (c+1)·2^16), found through a
//                   directory of 2^15 pointers allocated (with the level 2..4
//                   summary words) when the first index >= 2^16 is touched.
//                   Touching index 2^31 - 1 costs that directory (about
//                   290 KiB of address space) and one chunk (about 2 MiB),
//                   not a 32 GiB segment.
//   a block         (a segment or a chunk) of n indices holds n state words
//                   (8 bytes each, a dense array), then n infos (SlotInfo:
//                   hash and derivation flags, 24 bytes each), then the leaf
//                   lines of the free bits that cover only its indices, then
//                   the level-1 summary words that do, then (at base >= 512)
//                   its touched bits (see below). The state words are
//                   what a release or a claim touches at random: dense, so
//                   100,000 of them take 800 KB (a 1 MiB L2 holds them,
//                   the benchmark host's 512 KiB per core does not: see
//                   docs/design.md), and the hash is read only by the
//                   hand-out that returns it, with plain loads. Leaf line 0
//                   and word 0 of every summary level cover several small
//                   segments and live in the pool's hot block (FreeCore).
// Blocks of 64 KiB and more are anonymous mappings: their pages cost memory
// only once touched. A block's words are used as zero-initialized atomics
// straight from zeroed memory (no constructor runs over a mapping, which
// would touch every page); boost::atomic of an integer or pointer is
// exactly its value's bytes (asserted in slot_array.cpp). Exactly one thread allocates a given block (the one that
// moves its directory entry from null to kAllocating, (A1)); the others wait
// for its publication (A2) — allocation happens only on the derivation path,
// never in a hand-out of a derived index.
//
// Walks (for_each, highest) cost what was touched, not what was allocated:
// a block at base >= 512 ends with one touched bit per leaf line (512
// indices), on a line pair of its own after everything else, set by
// ensure() (A4) before it returns the slot; a walk visits only the lines
// whose bit it reads set (A5). A pool file whose entries lie 2^16 apart
// allocates a chunk per entry, and its walks visit 512 slots per entry, not
// 2^16. The segments below 512 (512 indices in all) have no bits and are
// walked whole. (A4) and (A5) are relaxed: before any write to a slot's
// word or info, an operation that happens before the write read the bit of
// its line set or set it — the writer's own ensure() of the index, the walk
// in which the writer found the slot, or the publisher's ensure() when the
// writer learned the index from its publication ((D3), or a chain of
// acquire operations from a thread that did). So a walk's load of the bit
// that such a write happens before (the write happened before the walk, or
// before an acquire load the walk made earlier) reads it set too:
// coherence, and bits are never cleared. A line whose bit a walk reads
// clear holds no write that happens before that load: skipping it is what
// the walk would do had it read every slot of the line as zero, which it
// could have. That is the safe direction for the sweep too: a skipped slot
// is never freed, and the sweep's Dekker pairing (announce.hpp) matters
// only for a slot the sweep sees claimed. The one walk that must find slots
// through a seq_cst pairing instead of happens-before, the backfill of an
// index sink (pool.cpp, (I1)/(I2)), has a seq_cst fence on each side (I3):
// the publisher's after its ensure(), the walk's before its loads.
//
// Inside a block, offsets are 8-way interleaved (offset o in lane o % 8, at
// position lane · n/8 + (o / 8 + 8 · lane) mod n/8, in both arrays): in a
// block of 128 indices or more the consecutive indices that concurrent
// hand-outs claim at the same moment have their words on different 128-byte
// line pairs, each lane is still a sequential stream for a single thread's
// prefetcher, and the skew of one line of words per lane keeps the eight
// hot words out of one L1 set. Every atomic is naturally aligned, so none
// straddles two lines (an info, 24 bytes, may span two; it is read once per
// hand-out).
#ifndef ADDRPOOL_LIB_POOL_SLOT_ARRAY_HPP
#define ADDRPOOL_LIB_POOL_SLOT_ARRAY_HPP

#include <addrpool/keys.hpp>

#include "pool/free_index.hpp"

#include <boost/atomic.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <algorithm>

namespace addrpool::detail {

inline constexpr std::uint32_t kMaxIndex = 0x80000000u;  // indices are < 2^31
// Two cache lines: the adjacent-line prefetcher on x86-64 pulls lines in
// pairs, so words written by different threads sit 128 bytes apart.
inline constexpr std::size_t kFalseSharingRange = 128;

using FreeGeometry = free_index::PoolGeometry;
using FreeGeo = free_index::Geometry<FreeGeometry>;
using AtomicWord = boost::atomic<std::uint64_t>;

// What a block keeps of one index besides its state word: the hash160 and
// the derivation flags. 24 bytes; the words of a block sit in their own dense
// array before these (see the layout at the top), so the words a release or
// a claim touches at random are 8 bytes apart, as dense as a plain array of
// states.
struct SlotInfo {
    // The hash160, as three atomics (8 + 8 + 4 bytes) so racing derivers may
    // store it concurrently. relaxed stores and loads: the values are
    // identical and ordered for readers by kDerived (D2)/(D3).
    AtomicWord hash_a{0};
    AtomicWord hash_b{0};
    boost::atomic<std::uint32_t> hash_c{0};
    // Derivation: kDeriving elects the one thread that computes the key (so
    // no EC operation is done twice; others wait for it or help ahead);
    // kDerived is then set (release) after the hash is stored, and readers
    // acquire-load it before reading the hash. Publication itself is
    // idempotent (identical bytes, idempotent lookup insert), and a deriver
    // has published before it returns: no caller ever holds an index whose
    // address the pool cannot show yet.
    boost::atomic<std::uint32_t> meta{0};
};
static_assert(sizeof(SlotInfo) == 24 && alignof(SlotInfo) == 8, "an index's info is 24 bytes, 8 per word");

// One index, as a handle: its state word (slot.hpp) and its info, each in
// its block's array at the same position. Copied freely; valid for the
// pool's life (blocks never move).
class Slot {
public:
    Slot(AtomicWord& w, SlotInfo& i) noexcept : word(w), info_(&i) {}

    AtomicWord& word;  // the state machine word, slot.hpp
    // kDerived | kDeriving (SlotInfo::meta).
    boost::atomic<std::uint32_t>& meta() const noexcept { return info_->meta; }

    static constexpr std::uint32_t kDerived = 1;
    static constexpr std::uint32_t kDeriving = 2;
    // Bytes per index: the word and the info.
    static constexpr std::size_t kBytes = sizeof(AtomicWord) + sizeof(SlotInfo);

    void store_hash(const Hash160& h) const noexcept {
        std::uint64_t a, b;
        std::uint32_t c;
        std::memcpy(&a, h.data(), 8);
        std::memcpy(&b, h.data() + 8, 8);
        std::memcpy(&c, h.data() + 16, 4);
        info_->hash_a.store(a, boost::memory_order_relaxed);  // relaxed: see SlotInfo
        info_->hash_b.store(b, boost::memory_order_relaxed);  // relaxed: see SlotInfo
        info_->hash_c.store(c, boost::memory_order_relaxed);  // relaxed: see SlotInfo
    }
    Hash160 load_hash() const noexcept {
        const std::uint64_t a = info_->hash_a.load(boost::memory_order_relaxed);  // relaxed: see SlotInfo
        const std::uint64_t b = info_->hash_b.load(boost::memory_order_relaxed);  // relaxed: see SlotInfo
        const std::uint32_t c = info_->hash_c.load(boost::memory_order_relaxed);  // relaxed: see SlotInfo
        Hash160 h;
        std::memcpy(h.data(), &a, 8);
        std::memcpy(h.data() + 8, &b, 8);
        std::memcpy(h.data() + 16, &c, 4);
        return h;
    }
    // (D3) acquire: pairs with the release fetch_or (D2) in publication, so
    // the hash stored before it is visible.
    bool derived() const noexcept { return (meta().load(boost::memory_order_acquire) & kDerived) != 0; }
    // Starts loading the info's lines (a hint, no access): a hand-out calls it
    // before its take and claim, so that the hash it returns arrives while
    // they run instead of after them. Both ends: a quarter of the infos
    // (24 bytes at a 24-byte stride) straddle two lines.
    void prefetch_info() const noexcept {
        __builtin_prefetch(info_);
        __builtin_prefetch(reinterpret_cast<const unsigned char*>(info_) + sizeof(SlotInfo) - 1);
    }

private:
    SlotInfo* info_;
};
static_assert(boost::atomic<std::uint32_t>::is_always_lock_free);
static_assert(AtomicWord::is_always_lock_free, "hot-path words must be lock-free 64-bit atomics");

// The free-index words that cover several small segments (leaf line 0 and
// word 0 of every summary level), the root level, the spare and the
// frontier: part of the pool's hot block, each group on its own line pair.
// The spare shares the summaries' line: every hand-out reads both.
struct alignas(kFalseSharingRange) FreeCore {
    alignas(kFalseSharingRange) AtomicWord frontier{0};                           // written by fresh hand-outs
    alignas(kFalseSharingRange) std::array<AtomicWord, FreeGeo::kLineWords> leaf0{};  // indices [0, 512)
    alignas(kFalseSharingRange) std::array<AtomicWord, FreeGeo::kMaxLevel + 1> summary0{};  // [0] unused
    AtomicWord root{1};
    AtomicWord spare{0};  // (F7)/(F8): 0, or a parked free index + 1
};

class SlotArray {
public:
    static constexpr unsigned kFirstBits = 5;   // segment 0 = [0, 32)
    static constexpr unsigned kSmallBits = 16;  // small segments cover [0, 2^16)
    static constexpr unsigned kSmallSegments = kSmallBits - kFirstBits + 1;  // 12
    static constexpr unsigned kChunkBits = 16;
    static constexpr std::uint32_t kChunks = std::uint32_t{1} << (31 - kChunkBits);  // 32768; chunk 0 unused

    // Where a block of n slots at `base` keeps its parts: its state words at
    // offset 0, then its infos, then the leaf lines (a block at base >= 512:
    // n / 512 of them), then the level-1 words (a block at base >= 2^14:
    // n / 2^14 of them), then the touched bits (a block at base >= 512).
    static constexpr std::size_t info_offset(std::uint32_t n) noexcept { return std::size_t{n} * sizeof(AtomicWord); }
    static constexpr std::size_t leaf_offset(std::uint32_t n) noexcept { return std::size_t{n} * Slot::kBytes; }
    // For a block at base >= 2^14 (which holds all n / 512 leaf lines).
    static constexpr std::size_t l1_offset(std::uint32_t n) noexcept {
        return leaf_offset(n) + std::size_t{n >> FreeGeo::kLineBits} * FreeGeo::kLineWords * sizeof(AtomicWord);
    }
    // A block at base >= 512 ends with its touched bits, one per leaf line
    // ((A4)/(A5), see the top), from the start of a line pair: ensure()
    // writes them, so they stay off the line of the level-1 words that
    // hand-outs write.
    static constexpr std::size_t touched_offset(std::uint32_t base, std::uint32_t n) noexcept {
        const std::uint32_t l1 = base >= FreeGeo::cover(1) ? static_cast<std::uint32_t>(n / FreeGeo::cover(1)) : 0;
        const std::size_t end = l1_offset(n) + std::size_t{l1} * sizeof(AtomicWord);
        return (end + kFalseSharingRange - 1) / kFalseSharingRange * kFalseSharingRange;
    }
    static constexpr std::uint32_t touched_words(std::uint32_t n) noexcept {
        return ((n >> FreeGeo::kLineBits) + 63) / 64;
    }
    static constexpr std::size_t block_bytes(std::uint32_t base, std::uint32_t n) noexcept {
        if (base < (1u << FreeGeo::kLineBits)) return leaf_offset(n);  // no leaf lines, no touched bits
        return touched_offset(base, n) + std::size_t{touched_words(n)} * sizeof(AtomicWord);
    }
    static constexpr unsigned segment_of(std::uint32_t i) noexcept {
        return i < (1u << kFirstBits) ? 0u : static_cast<unsigned>(std::bit_width(i)) - kFirstBits;
    }
    static constexpr std::uint32_t segment_base(unsigned k) noexcept {
        return k == 0 ? 0u : 1u << (k + kFirstBits - 1);
    }
    static constexpr std::uint32_t segment_size(unsigned k) noexcept {
        return k == 0 ? 1u << kFirstBits : 1u << (k + kFirstBits - 1);
    }
    // Offset `off` of a block of n slots (n a power of two >= 32): see the top.
    static constexpr std::uint32_t position(std::uint32_t n, std::uint32_t off) noexcept {
        constexpr std::uint32_t kInterleave = 8;
        const std::uint32_t lane_size = n / kInterleave;
        const std::uint32_t lane = off % kInterleave;
        return lane * lane_size + ((off / kInterleave + kInterleave * lane) & (lane_size - 1));
    }

    SlotArray() = default;
    SlotArray(const SlotArray&) = delete;
    SlotArray& operator=(const SlotArray&) = delete;
    ~SlotArray();

    // A block: `size` indices from `base`, at `data` (null: never allocated,
    // or being allocated right now).
    struct Block {
        unsigned char* data;
        std::uint32_t base, size;
    };
    // The block that holds index i (data null if it was never allocated, or
    // if i >= 2^31). Lock-free: one or two acquire loads.
    Block block_of(std::uint32_t i) const noexcept {
        if (i < (1u << kSmallBits)) {
            const unsigned k = segment_of(i);
            unsigned char* p = small_[k].load(boost::memory_order_acquire);  // (A3) acquire: pairs with (A2)
            return {p == allocating() ? nullptr : p, segment_base(k), segment_size(k)};
        }
        return chunk_of(i);
    }
    // Index i's slot in its block b (b.data not null).
    static Slot slot_of(const Block& b, std::uint32_t i) noexcept {
        return slot_in(b.data, b.size, position(b.size, i - b.base));
    }
    // The slot, or nothing if its block was never allocated. Lock-free.
    std::optional<Slot> find(std::uint32_t i) const noexcept {
        const Block b = block_of(i);
        if (b.data == nullptr) return std::nullopt;
        return slot_of(b, i);
    }
    // The slot, allocating its block if needed (blocking while another
    // thread allocates that block), with its leaf line's touched bit set
    // (A4): the only way a slot comes into existence for the walks.
    // Requires i < 2^31. Throws std::bad_alloc when memory or address space
    // runs out (nothing is published then).
    Slot ensure(std::uint32_t i);

    // The slot at position `pos` of a block of n slots at `data`: its word
    // in the block's word array, its info in the info array after it.
    static Slot slot_in(unsigned char* data, std::uint32_t n, std::uint32_t pos) noexcept {
        return Slot(reinterpret_cast<AtomicWord*>(data)[pos],
                    reinterpret_cast<SlotInfo*>(data + info_offset(n))[pos]);
    }

    // Free-index store (free_index.hpp) over this array and `core`. Every
    // position asked for exists (see the contract there). Inline: each
    // operation resolves the block of the index it touches once.
    class FreeStore {
    public:
        struct Path {
            AtomicWord* line;  // the index's leaf line
            AtomicWord* l1;    // the level-1 word that covers it
            // The index's block, where at() looked it up (an index >= 512);
            // data null for an index whose leaf line is in the core. The
            // pool finds the index's slot through it (slot_of) instead of
            // looking the block up again.
            Block block;
        };
        FreeStore(const SlotArray& a, FreeCore& c) noexcept : array_(a), core_(c) {}
        Path at(std::uint32_t i) const noexcept {
            if (i < (1u << FreeGeo::kLineBits)) return {core_.leaf0.data(), &core_.summary0[1], {nullptr, 0, 0}};
            return at(i, array_.block_of(i));
        }
        // The positions of index i in its block b (b.data not null), which
        // the caller looked up: the block's own leaf lines and level-1 words
        // (see info_offset() and the offsets after it), or the core's.
        Path at(std::uint32_t i, const Block& b) const noexcept {
            if (i < (1u << FreeGeo::kLineBits)) return {core_.leaf0.data(), &core_.summary0[1], b};
            const std::uint32_t off = i - b.base;
            AtomicWord* line = reinterpret_cast<AtomicWord*>(b.data + leaf_offset(b.size)) +
                               std::size_t{off >> FreeGeo::kLineBits} * FreeGeo::kLineWords;
            if (i < FreeGeo::cover(1)) return {line, &core_.summary0[1], b};
            return {line, reinterpret_cast<AtomicWord*>(b.data + l1_offset(b.size)) + (off >> FreeGeo::cover_bits(1)),
                    b};
        }
        AtomicWord& summary(unsigned level, std::uint32_t w) const noexcept {
            if (w == 0) return core_.summary0[level];
            if (level == 1) return *at(static_cast<std::uint32_t>(w * FreeGeo::cover(1))).l1;
            return upper_summary(level, w);
        }
        AtomicWord& root() const noexcept { return core_.root; }
        AtomicWord& frontier() const noexcept { return core_.frontier; }
        AtomicWord& spare() const noexcept { return core_.spare; }
        static void on_token(std::uint32_t) noexcept {}

    private:
        // Word w >= 1 of level 2..4: only pools past index 2^19 reach them.
        AtomicWord& upper_summary(unsigned level, std::uint32_t w) const noexcept;
        const SlotArray& array_;
        FreeCore& core_;
    };

    // Calls visit(i, slot) for every touched slot with from <= i < end, in
    // index order: every slot of a leaf line whose touched bit it reads set
    // (A5), and every slot of the segments below 512. Skips blocks never
    // allocated and lines never touched: costs what was touched.
    template <class F>
    void for_each(std::uint32_t from, std::uint32_t end, F&& visit) const;

    // The highest touched index i with floor <= i < end for which
    // pred(slot) holds, scanning down; skips what for_each skips.
    template <class F>
    std::optional<std::uint32_t> highest(std::uint32_t floor, std::uint32_t end, F&& pred) const;

private:
    static constexpr std::uint32_t kLineMask = (1u << FreeGeo::kLineBits) - 1;

    // Whether a walk visits the leaf line of index i in block b (b.data not
    // null): a segment below 512 always, a line of another block if its
    // touched bit is set.
    static bool touched(const Block& b, std::uint32_t i) noexcept {
        if (b.base <= kLineMask) return true;
        const std::uint32_t line = (i - b.base) >> FreeGeo::kLineBits;
        const auto* words = reinterpret_cast<const AtomicWord*>(b.data + touched_offset(b.base, b.size));
        // (A5) relaxed: a write the walk must see brings (A4) with it (see the top).
        return ((words[line / 64].load(boost::memory_order_relaxed) >> (line % 64)) & 1) != 0;
    }
    // (A4): sets the touched bit of index i's leaf line in block b.
    static void touch(const Block& b, std::uint32_t i) noexcept;

    // The chunk directory and the summary words of levels 2..4 other than
    // word 0 (which lives in FreeCore). Level 5 has only word 0.
    struct BigDirectory {
        static constexpr std::uint32_t kL2 = static_cast<std::uint32_t>((std::uint64_t{1} << 31) / FreeGeo::cover(2));  // 4096
        static constexpr std::uint32_t kL3 = static_cast<std::uint32_t>((std::uint64_t{1} << 31) / FreeGeo::cover(3));  // 128
        static constexpr std::uint32_t kL4 = static_cast<std::uint32_t>((std::uint64_t{1} << 31) / FreeGeo::cover(4));  // 4
        std::array<boost::atomic<unsigned char*>, kChunks> chunks;
        std::array<AtomicWord, kL2> l2;
        std::array<AtomicWord, kL3> l3;
        std::array<AtomicWord, kL4> l4;
    };

    Block chunk_of(std::uint32_t i) const noexcept {
        if (i >= kMaxIndex) return {nullptr, i, 1};  // no such index
        const std::uint32_t c = i >> kChunkBits;
        const BigDirectory* d = big();
        unsigned char* p = d == nullptr ? nullptr : d->chunks[c].load(boost::memory_order_acquire);  // (A3)
        return {p == allocating() ? nullptr : p, c << kChunkBits, 1u << kChunkBits};
    }
    const BigDirectory* big() const noexcept {
        // (A3) acquire: pairs with (A2) in ensure(): the directory's zeroed words are visible.
        unsigned char* d = big_.load(boost::memory_order_acquire);
        return d == nullptr || d == allocating() ? nullptr : reinterpret_cast<const BigDirectory*>(d);
    }
    // A directory entry that a thread is allocating right now (A1).
    static unsigned char* allocating() noexcept { return reinterpret_cast<unsigned char*>(std::uintptr_t{1}); }

    // (A1)/(A2): null, kAllocating, or the published block.
    mutable std::array<boost::atomic<unsigned char*>, kSmallSegments> small_{};
    mutable boost::atomic<unsigned char*> big_{nullptr};  // a BigDirectory, as (A1)/(A2) handle entries
};

template <class F>
void SlotArray::for_each(std::uint32_t from, std::uint32_t end, F&& visit) const {
    std::uint32_t i = from;
    while (i < end && i < kMaxIndex) {
        const Block b = block_of(i);
        const std::uint64_t block_end = std::uint64_t{b.base} + b.size;
        const auto stop = static_cast<std::uint32_t>(std::min<std::uint64_t>(block_end, end));
        if (b.data != nullptr) {
            while (i < stop) {
                // The rest of i's leaf line (below 512: of its block).
                const std::uint32_t next = std::min(stop, (i | kLineMask) + 1);
                if (touched(b, i)) {
                    for (; i < next; ++i) visit(i, slot_of(b, i));
                }
                i = next;
            }
        }
        i = static_cast<std::uint32_t>(std::min<std::uint64_t>(block_end, kMaxIndex));
    }
}

template <class F>
std::optional<std::uint32_t> SlotArray::highest(std::uint32_t floor, std::uint32_t end, F&& pred) const {
    std::uint32_t i = std::min(end, kMaxIndex);
    while (i > floor) {
        const Block b = block_of(i - 1);
        const std::uint32_t stop = std::max(b.base, floor);
        if (b.data != nullptr) {
            while (i > stop) {
                // Down to the start of i - 1's leaf line (below 512: of its block).
                const std::uint32_t next = std::max(stop, (i - 1) & ~kLineMask);
                if (touched(b, i - 1)) {
                    for (; i > next; --i) {
                        if (pred(slot_of(b, i - 1))) return i - 1;
                    }
                }
                i = next;
            }
        }
        i = stop;
    }
    return std::nullopt;
}

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_POOL_SLOT_ARRAY_HPP
