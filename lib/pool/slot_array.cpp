// The segmented slot array: allocation with one allocator per block, and the
// free-index store's mapping of positions to words. See slot_array.hpp.
#include "pool/slot_array.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <new>
#include <thread>

namespace addrpool::detail {

namespace {

// Blocks of this size and more are anonymous mappings (zero pages, committed
// only when touched); smaller ones come from the heap, zeroed.
constexpr std::size_t kMapThreshold = std::size_t{64} << 10;

unsigned char* const kAllocating = reinterpret_cast<unsigned char*>(std::uintptr_t{1});  // SlotArray::allocating()

unsigned char* allocate_zeroed(std::size_t bytes) {
    if (bytes >= kMapThreshold) {
        void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        return static_cast<unsigned char*>(p);
    }
    void* p = ::operator new(bytes, std::align_val_t{kFalseSharingRange});
    std::memset(p, 0, bytes);  // every slot word 0 = unused, every free bit clear
    return static_cast<unsigned char*>(p);
}

void free_block(unsigned char* p, std::size_t bytes) noexcept {
    if (p == nullptr || p == kAllocating) return;
    if (bytes >= kMapThreshold) {
        ::munmap(p, bytes);
    } else {
        ::operator delete(p, std::align_val_t{kFalseSharingRange});
    }
}

// (A1)/(A2) for one directory entry: returns the published block, allocating
// it if this thread is the one that moves the entry from null.
template <class Alloc>
unsigned char* ensure_entry(boost::atomic<unsigned char*>& entry, Alloc&& alloc) {
    for (;;) {
        // (A3) acquire: pairs with (A2), so a block seen is fully initialized.
        unsigned char* cur = entry.load(boost::memory_order_acquire);
        if (cur != nullptr && cur != kAllocating) return cur;
        if (cur == nullptr) {
            // (A1) relaxed: only elects the allocator; the block is published by (A2).
            if (entry.compare_exchange_strong(cur, kAllocating, boost::memory_order_relaxed,
                                              boost::memory_order_relaxed)) {
                unsigned char* fresh = nullptr;
                try {
                    fresh = alloc();
                } catch (...) {
                    entry.store(nullptr, boost::memory_order_relaxed);  // relaxed: nothing was published
                    throw;
                }
                // (A2) release: publishes the zeroed block to (A3) and find().
                entry.store(fresh, boost::memory_order_release);
                return fresh;
            }
            continue;
        }
        // Another thread allocates this block: its allocation is a bounded
        // memset or mmap, so wait for it (the derivation path may block).
        std::this_thread::yield();
    }
}

}  // namespace

static_assert(FreeGeometry::kMaxLevel == 5, "BigDirectory holds levels 2..4; level 5 is one word");
// Blocks are used as atomics straight from zeroed memory (slot_array.hpp).
static_assert(sizeof(AtomicWord) == 8 && sizeof(boost::atomic<unsigned char*>) == sizeof(void*) &&
                  sizeof(boost::atomic<std::uint32_t>) == 4,
              "an atomic is exactly its value's bytes");

SlotArray::~SlotArray() {
    // relaxed throughout: no concurrent users in a destructor.
    for (unsigned k = 0; k < kSmallSegments; ++k) {
        free_block(small_[k].load(boost::memory_order_relaxed),
                   block_bytes(segment_base(k), segment_size(k)));
    }
    if (auto* d = reinterpret_cast<BigDirectory*>(big_.load(boost::memory_order_relaxed))) {  // relaxed: as above
        const std::size_t chunk_bytes = block_bytes(1u << kChunkBits, 1u << kChunkBits);
        for (auto& c : d->chunks) free_block(c.load(boost::memory_order_relaxed), chunk_bytes);  // relaxed: as above
        free_block(reinterpret_cast<unsigned char*>(d), sizeof(BigDirectory));
    }
}

void SlotArray::touch(const Block& b, std::uint32_t i) noexcept {
    if (b.base <= kLineMask) return;  // a segment below 512: walked whole
    const std::uint32_t line = (i - b.base) >> FreeGeo::kLineBits;
    AtomicWord& word = reinterpret_cast<AtomicWord*>(b.data + touched_offset(b.base, b.size))[line / 64];
    const std::uint64_t bit = std::uint64_t{1} << (line % 64);
    // Loaded first, so that the ensure() of every derivation and publication
    // does not write the line: the bit is set once per leaf line. relaxed:
    // read set here, it is read set by every walk that must see what the
    // caller writes next (coherence, see (A4)/(A5) in slot_array.hpp); read
    // clear, the fetch_or sets it.
    if ((word.load(boost::memory_order_relaxed) & bit) != 0) return;
    // (A4) relaxed: a walk must see the bit only where it must see a write
    // to the line's slots, each of which happens after this (see the top).
    word.fetch_or(bit, boost::memory_order_relaxed);
}

Slot SlotArray::ensure(std::uint32_t i) {
    if (i >= kMaxIndex) std::abort();  // a caller bug: every index is checked against 2^31 first
    if (i < (1u << kSmallBits)) {
        const unsigned k = segment_of(i);
        const std::size_t bytes = block_bytes(segment_base(k), segment_size(k));
        unsigned char* p = ensure_entry(small_[k], [&] { return allocate_zeroed(bytes); });
        touch({p, segment_base(k), segment_size(k)}, i);  // (A4), before the slot is returned
        return slot_in(p, segment_size(k), position(segment_size(k), i - segment_base(k)));
    }
    // (A1)/(A2) for the directory too: allocated like a block, once.
    auto* d = reinterpret_cast<BigDirectory*>(
        ensure_entry(big_, [] { return allocate_zeroed(sizeof(BigDirectory)); }));
    const std::uint32_t c = i >> kChunkBits;
    const std::uint32_t base = c << kChunkBits;
    const std::size_t bytes = block_bytes(base, 1u << kChunkBits);
    unsigned char* p = ensure_entry(d->chunks[c], [&] { return allocate_zeroed(bytes); });
    touch({p, base, 1u << kChunkBits}, i);  // (A4), before the slot is returned
    return slot_in(p, 1u << kChunkBits, position(1u << kChunkBits, i - base));
}

AtomicWord& SlotArray::FreeStore::upper_summary(unsigned level, std::uint32_t w) const noexcept {
    // Levels 2..4 (level 5 has only word 0): a word w >= 1 covers indices
    // >= 2^19, so some chunk exists and with it the directory.
    BigDirectory* d = const_cast<BigDirectory*>(array_.big());
    if (level == 2) return d->l2[w];
    if (level == 3) return d->l3[w];
    return d->l4[w];
}

}  // namespace addrpool::detail
