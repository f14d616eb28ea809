// The pool's durable state for persistence (contract in durable.hpp),
// against the slot array (slot_array.hpp), the slot words (slot.hpp), the
// lookup index and the label map.
#include "pool/durable.hpp"

#include "pool/pool_impl.hpp"
#include "pool/slot.hpp"

#include <cstdlib>

namespace addrpool::detail {

std::vector<DurableEntry> durable_entries(const AddressPool::Impl& p) {
    std::vector<DurableEntry> out;
    const Hot* h = p.hot_or_null();
    if (h == nullptr) return out;
    // (T2) acquire: pairs with the release CAS (T1) that raised touched_end,
    // so every block below `end` that holds a slot is seen. A used mark that
    // completed before this call began was made on a published slot, whose
    // publication raised touched_end first: it is below `end`.
    const std::uint32_t end = h->touched_end.load(boost::memory_order_acquire);
    // The walk costs what is allocated (blocks never allocated are skipped),
    // and the vector grows with the entries found: never in proportion to
    // `end`, which one entry near 2^31 makes huge.
    h->slots.for_each(0, end, [&](std::uint32_t i, const Slot& s) {
        // acquire: pairs with the release of every transition (S1)..(S8); in
        // particular with mark_used's CAS (S5), so a mark that happened
        // before this load is seen.
        const slot::Word w = slot::load(s.word);
        if (!slot::is_generated(w)) return;
        // (D3) a generated slot is always published first: a pool bug otherwise.
        if (!s.derived()) std::abort();
        out.push_back({i, s.load_hash(), slot::is_used(w)});  // reserved is listed as unused
    });
    return out;
}

DurableLabels durable_labels(const AddressPool::Impl& p) {
    const AddressPool::Impl::Labels* l = p.labels_or_null();
    if (l == nullptr) return {};
    LockGuard lock(l->mutex);
    return DurableLabels(l->map.begin(), l->map.end());
}

Result<void> load_durable(AddressPool::Impl& p, std::span<const DurableEntry> entries,
                          std::optional<std::uint32_t> highest_used, DurableLabels labels) {
    try {
        if (!entries.empty()) p.lookup().reserve(entries.size());  // one allocation instead of rehashing
        // The frontier (free_index.hpp (F4)) starts past the used prefix:
        // every index below it is used, so none needs a free entry (I), and
        // the first hand-outs do not pass the used indices one failed claim
        // at a time. Entries come in strictly increasing index order (the
        // precondition in durable.hpp), so once an entry is not the next
        // used index, no later one is.
        std::uint32_t prefix = 0;
        for (const auto& e : entries) {
            p.publish(e.index, e.hash);  // allocates the slot's block, raises touched_end, registers the hash
            // relaxed: `p` reaches other threads only through the caller's own
            // synchronization (thread start, mutex, ...), which orders it.
            p.find_slot(e.index)->word.store(slot::loaded(e.used), boost::memory_order_relaxed);
            if (e.index == prefix && e.used) ++prefix;
        }
        if (highest_used) AddressPool::Impl::raise(p.hot().used_end, *highest_used + 1);
        // relaxed: as the word stores above.
        if (prefix != 0) p.hot().free.frontier.store(prefix, boost::memory_order_relaxed);
    } catch (const std::bad_alloc&) {
        return make_error(Errc::io_error, "not enough memory or address space to hold the pool's " +
                                              std::to_string(entries.size()) + " entries");
    }
    if (labels.empty()) return {};
    AddressPool::Impl::Labels& l = p.labels();
    LockGuard lock(l.mutex);  // uncontended; keeps the GUARDED_BY contract checkable
    for (auto& [i, text] : labels) l.map.emplace_hint(l.map.end(), i, std::move(text));
    return {};
}

}  // namespace addrpool::detail
