// The set-wide script index: writers (insert, erase, rebuild). Layout and
// protocol in script_index.hpp; readers are the templates there.
#include "wallet/script_index.hpp"

#include "wallet/ebr.hpp"

#include <algorithm>
#include <new>

namespace addrpool::detail {

static_assert(boost::atomic<std::uint64_t>::is_always_lock_free, "bucket words must be lock-free 64-bit atomics");
static_assert(sizeof(boost::atomic<std::uint64_t>) == 8, "a bucket word is its value's 8 bytes");

ScriptIndex::Table* ScriptIndex::Table::make(std::uint32_t live) {
    // Room for 1.5 × live entries at 0.6 of the buckets: live fills 0.4.
    const std::uint64_t want = std::max<std::uint64_t>(16, (std::uint64_t{live} * 5 + 1) / 2);
    if (want > 0x7fffffffu) throw std::bad_alloc();
    const auto buckets = static_cast<std::uint32_t>(want);
    const auto capacity = static_cast<std::uint32_t>(std::uint64_t{buckets} * 3 / 5);
    const std::uint32_t blocks = (capacity + 63) / 64;  // 512 bits per 64 entry slots
    void* mem = ::operator new(bytes(buckets, capacity, blocks), std::align_val_t{64});
    auto* t = new (mem) Table{buckets, capacity, blocks};
    // Zeroed words are empty buckets and clear filter bits: boost::atomic of
    // uint64_t is exactly its value's bytes (asserted above), used here as in
    // slot_array.cpp.
    std::memset(t->base() + sizeof(Table), 0, entry_offset(buckets, blocks) - sizeof(Table));
    return t;
}

void ScriptIndex::Table::add_to_filter(const Hash160& h) noexcept {
    auto* b = const_cast<boost::atomic<std::uint64_t>*>(block_of(h));
    const std::uint32_t y = filter_bits(h);
    for (unsigned k = 0; k < 3; ++k) {
        const unsigned pos = (y >> (9 * k)) & 511;
        b[pos >> 6].fetch_or(std::uint64_t{1} << (pos & 63), boost::memory_order_relaxed);  // (F1) relaxed: see the header
    }
}

void ScriptIndex::Table::destroy(void* t) noexcept { ::operator delete(t, std::align_val_t{64}); }

ScriptIndex::~ScriptIndex() {
    for (Shard& s : shards_) {
        Table::destroy(s.table.load(boost::memory_order_relaxed));  // relaxed: no concurrent user
    }
}

ScriptIndex::Table* ScriptIndex::rebuild(Shard& s, std::uint32_t extra) {
    Table* old = s.table.load(boost::memory_order_relaxed);  // relaxed: written only under this mutex
    Table* t = Table::make(s.live + extra);
    // The live entries, in bucket order, into fresh slots (no erased ones).
    std::uint32_t n = 0;
    if (old != nullptr) {
        for (std::uint32_t i = 0; i < old->buckets; ++i) {
            const std::uint64_t w = old->bucket()[i].load(boost::memory_order_relaxed);  // relaxed: our own writes
            if (w == 0 || (w & 0xffffffffu) == kTomb) continue;
            const IndexEntry& e = old->entry()[(w & 0xffffffffu) - 1];
            t->entry()[n] = e;
            std::uint32_t pos = position(e.hash, t->buckets);
            // relaxed: `t` is not published yet; (X3) publishes everything.
            while (t->bucket()[pos].load(boost::memory_order_relaxed) != 0) pos = pos + 1 == t->buckets ? 0 : pos + 1;
            t->bucket()[pos].store(fingerprint(e.hash) | (n + 1), boost::memory_order_relaxed);
            t->add_to_filter(e.hash);
            ++n;
        }
    }
    // (X3) seq_cst: publishes the filled table to (X4); an unlink (U) for ebr.hpp.
    s.table.store(t, boost::memory_order_seq_cst);
    s.appended = n;
    s.live = n;
    s.erased = 0;
    if (old != nullptr) ebr::retire(old, &Table::destroy);
    return t;
}

bool ScriptIndex::insert(const Hash160& h, Binding* b, unsigned chain, std::uint32_t index) {
    Shard& s = shards_[shard_of(h)];
    const std::uint32_t ci = IndexEntry::pack(chain, index);
    const std::uint64_t fp = fingerprint(h);
    bool rebuilt = false;
    {
        LockGuard lock(s.mutex);
        Table* t = s.table.load(boost::memory_order_relaxed);  // relaxed: written only under this mutex
        if (t == nullptr || s.appended == t->capacity) {
            rebuilt = t != nullptr;  // a first table retires nothing
            t = rebuild(s, 1);
        }
        boost::atomic<std::uint64_t>* bk = t->bucket();
        std::uint32_t pos = position(h, t->buckets);
        std::uint32_t reuse = t->buckets;  // the first erased bucket on the way, if any
        for (;;) {
            const std::uint64_t w = bk[pos].load(boost::memory_order_relaxed);  // relaxed: our own writes
            if (w == 0) break;
            const std::uint64_t slot = w & 0xffffffffu;
            if (slot == kTomb) {
                if (reuse == t->buckets) reuse = pos;
            } else if ((w & ~std::uint64_t{0xffffffffu}) == fp) {
                const IndexEntry& e = t->entry()[slot - 1];
                if (e.hash == h && e.binding == b && e.chain_index == ci) return rebuilt;  // already there
            }
            pos = pos + 1 == t->buckets ? 0 : pos + 1;
        }
        const std::uint32_t n = s.appended++;
        t->entry()[n] = IndexEntry{h, ci, b};  // plain: unreachable until (X1)
        t->add_to_filter(h);                   // (F1), before (X1)
        if (reuse != t->buckets) {
            pos = reuse;
            --s.erased;
        }
        // (X1) release: publishes the entry written above to (X2).
        bk[pos].store(fp | (n + 1), boost::memory_order_release);
        ++s.live;
    }
    return rebuilt;
}

void ScriptIndex::erase(const Hash160& h, const Binding* b, unsigned chain) noexcept {
    Shard& s = shards_[shard_of(h)];
    const std::uint64_t fp = fingerprint(h);
    LockGuard lock(s.mutex);
    Table* t = s.table.load(boost::memory_order_relaxed);  // relaxed: written only under this mutex
    if (t == nullptr) return;
    boost::atomic<std::uint64_t>* bk = t->bucket();
    for (std::uint32_t pos = position(h, t->buckets);; pos = pos + 1 == t->buckets ? 0 : pos + 1) {
        const std::uint64_t w = bk[pos].load(boost::memory_order_relaxed);  // relaxed: our own writes
        if (w == 0) return;
        const std::uint64_t slot = w & 0xffffffffu;
        if (slot == kTomb || (w & ~std::uint64_t{0xffffffffu}) != fp) continue;
        const IndexEntry& e = t->entry()[slot - 1];
        if (e.hash != h || e.binding != b || e.chain() != chain) continue;
        // relaxed: publishes nothing; a reader that still sees the old word
        // reads an entry that stays intact in this table (see the header).
        bk[pos].store(kTomb, boost::memory_order_relaxed);
        --s.live;
        ++s.erased;
        break;
    }
    // Mostly erased: shrink (best effort; the old table is retired and freed
    // by a later collect, not here: erase runs inside deleters).
    if (s.erased >= 64 && s.erased > s.live) {
        try {
            (void)rebuild(s, 0);
        } catch (...) {  // std::bad_alloc: keep the table as it is
        }
    }
}

std::size_t ScriptIndex::size() const {
    std::size_t n = 0;
    for (const Shard& s : shards_) {
        LockGuard lock(s.mutex);
        n += s.live;
    }
    return n;
}

std::size_t ScriptIndex::memory_bytes() const {
    std::size_t n = 0;
    for (const Shard& s : shards_) {
        LockGuard lock(s.mutex);
        const Table* t = s.table.load(boost::memory_order_relaxed);  // relaxed: under the writers' mutex
        if (t != nullptr) n += t->bytes();
    }
    return n;
}

}  // namespace addrpool::detail
