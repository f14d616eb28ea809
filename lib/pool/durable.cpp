// The pool's durable state for persistence (contract in durable.hpp),
// against today's slot array: segments, slot words (slot.hpp), the lookup
// index and the label map.
#include "pool/durable.hpp"

#include "pool/pool_impl.hpp"
#include "pool/slot.hpp"

#include <algorithm>
#include <cstdlib>

namespace addrpool::detail {

namespace {

// The published hash of a generated slot. Every slot is published (D2) by
// the thread that derived it before that thread can materialize it, and the
// acquire load of the word that showed G orders this read after that.
Hash160 hash_of_generated(const Slot& s) {
    if (!s.derived()) std::abort();  // (D3) a generated slot is always published: a pool bug otherwise
    return s.load_hash();
}

}  // namespace

std::vector<DurableEntry> durable_entries(const AddressPool::Impl& p) {
    // (T2') acquire: pairs with the release CAS (T1) that raised touched_end,
    // so every slot below `end` is allocated. A used mark that completed
    // before this call began was made on a published slot, whose publish()
    // raised touched_end first: it is below `end`.
    const std::uint32_t end = p.touched_end.load(boost::memory_order_acquire);
    // Room for every allocated slot below `end` (a bound on the entries, in
    // proportion to the memory the slots already take; never by `end` alone,
    // which one entry near 2^31 makes huge).
    std::size_t allocated = 0;
    for (unsigned k = 0; end != 0 && k <= SlotArray::segment_of(end - 1); ++k) {
        if (p.slots.find(SlotArray::segment_base(k)) != nullptr) allocated += SlotArray::segment_size(k);
    }
    std::vector<DurableEntry> out;
    out.reserve(std::min<std::size_t>(allocated, end));
    for (std::uint32_t i = 0; i < end; ++i) {
        const Slot* s = p.slots.find(i);
        if (s == nullptr) {
            // Unallocated segment: nothing in it was ever touched.
            const unsigned k = SlotArray::segment_of(i);
            i = SlotArray::segment_base(k) + SlotArray::segment_size(k) - 1;
            continue;
        }
        // acquire: pairs with the release of every transition (S1)..(S8); in
        // particular with mark_used's CAS (S5), so a mark that happened
        // before this load is seen.
        const slot::Word w = slot::load(s->word);
        if (!slot::is_generated(w)) continue;
        out.push_back({i, hash_of_generated(*s), slot::is_used(w)});  // reserved is listed as unused
    }
    return out;
}

DurableLabels durable_labels(const AddressPool::Impl& p) {
    LockGuard lock(p.label_mutex);
    return DurableLabels(p.labels.begin(), p.labels.end());
}

Result<void> load_durable(AddressPool::Impl& p, std::span<const DurableEntry> entries,
                          std::optional<std::uint32_t> highest_used, DurableLabels labels) {
    p.lookup.reserve(entries.size());  // one allocation instead of repeated rehashing
    for (const auto& e : entries) {
        p.publish(e.index, e.hash);  // allocates the slot, raises touched_end, registers the hash
        // relaxed: `p` reaches other threads only through the caller's own
        // synchronization (thread start, mutex, ...), which orders it.
        p.slots.find(e.index)->word.store(slot::loaded(e.used), boost::memory_order_relaxed);
    }
    if (highest_used) AddressPool::Impl::raise(p.used_end, *highest_used + 1);
    LockGuard lock(p.label_mutex);  // uncontended; keeps the GUARDED_BY contract checkable
    for (auto& [i, text] : labels) p.labels.emplace_hint(p.labels.end(), i, std::move(text));
    return {};
}

}  // namespace addrpool::detail
