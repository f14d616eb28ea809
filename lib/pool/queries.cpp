// Queries and whole-pool operations of AddressPool: state, lookups, the gap
// window, stats and address lists, the Rust key-wallet parity calls
// (next_unused*, generate_addresses, maintain_gap_limit), labels, prune and
// reset. Every scan goes through SlotArray::for_each / highest, bounded by
// touched_end read with (T2), and costs what is allocated.
#include "pool/derivation.hpp"
#include "pool/pool_impl.hpp"

#include "pool/free_index.hpp"
#include "pool/used_prefix.hpp"

#include <algorithm>
#include <string>

namespace addrpool {

using detail::Hot;
using detail::kMaxIndex;
using detail::Slot;
namespace slot = detail::slot;
namespace free_index = detail::free_index;
using Impl = AddressPool::Impl;

namespace {

// (T2) acquire: pairs with the release CAS (T1) that raised touched_end, so
// every block below it that was published is seen.
std::uint32_t touched_end(const Hot& h) { return h.touched_end.load(boost::memory_order_acquire); }

// max(highest used, highest reserved) + 1, or 0 when neither exists.
std::uint32_t taken_end(const Impl& p) {
    const Hot* h = p.hot_or_null();
    if (h == nullptr) return 0;
    // relaxed: a lower bound for the scan; the scan reads the slots themselves
    // (so a mark whose used_end raise is still in flight counts).
    const std::uint32_t used_end = h->used_end.load(boost::memory_order_relaxed);
    const auto top =
        h->slots.highest(used_end, touched_end(*h), [](const Slot& s) { return !slot::is_unused(slot::load(s.word)); });
    return top ? *top + 1 : used_end;
}

std::uint32_t window_end(const Impl& p) {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{taken_end(p)} + p.gap_limit, kMaxIndex));
}

template <class Pred>
std::vector<Address> collect(const Impl& p, Pred pred) {
    std::vector<Address> out;
    const Hot* h = p.hot_or_null();
    if (h == nullptr) return out;
    h->slots.for_each(0, touched_end(*h), [&](std::uint32_t, const Slot& s) {
        const slot::Word w = slot::load(s.word);
        if (!slot::is_generated(w) || !pred(w)) return;
        if (auto hash = detail::published_hash(s)) out.push_back(p.address_from(*hash));
    });
    return out;
}

bool outside_gap(const Impl& p, const Hot& h, std::uint32_t i) {
    if (p.options.gap_policy != GapPolicy::error) return false;
    // relaxed: used_end only grows (between resets); a stale value is stricter.
    return std::uint64_t{i} >= std::uint64_t{h.used_end.load(boost::memory_order_relaxed)} + p.gap_limit;
}

// The lowest index at or above the free index's lower bound that is unused,
// deriving it if needed; nothing is reserved or changed. Every unused index
// below the frontier has its free bit set or is parked in the spare
// (free_index.hpp (I)), so no unused index lies below min(lowest free bit,
// spare, frontier) — a stale bit only makes the scan start early.
template <class Accept>
Result<void> scan_unused(Impl& p, const KeySource& ks, Accept&& accept) {
    Hot& h = p.hot();
    auto st = h.free_store();
    const std::uint64_t f = free_index::frontier(st);
    detail::SlotArray::FreeStore::Path where{};  // unused here
    const std::uint32_t b = free_index::lowest<detail::FreeGeometry>(st, f, where);
    const std::uint64_t sp = free_index::spare(st);  // 0, or the parked index + 1
    const std::uint64_t start = free_index::spare_is_lowest(sp, b, f) ? sp - 1 : b != free_index::kNone ? b : f;
    for (std::uint64_t i = start;; ++i) {
        if (i >= kMaxIndex) return make_error(Errc::index_out_of_range, "every index below 2^31 is used or reserved");
        const auto ii = static_cast<std::uint32_t>(i);
        const std::optional<Slot> s = p.find_slot(ii);
        if (s && !slot::is_unused(slot::load(s->word))) continue;
        if (outside_gap(p, h, ii)) {
            return make_error(Errc::gap_limit_reached,
                              "index " + std::to_string(i) + " is outside the gap window (gap limit " +
                                  std::to_string(p.gap_limit) + ")");
        }
        auto hash = detail::hash_at(p, ks, ii);
        if (!hash) return std::move(hash).error();
        if (!slot::is_unused(slot::load(h.slots.find(ii)->word))) continue;  // taken while we derived
        if (accept(ii, *hash)) return {};
    }
}

}  // namespace

AddressState AddressPool::state(std::uint32_t index) const {
    const std::optional<Slot> s = impl_->find_slot(index);
    return static_cast<AddressState>(slot::state(s ? slot::load(s->word) : 0));
}

std::optional<Address> AddressPool::address_at(std::uint32_t index) const {
    const std::optional<Slot> s = impl_->find_slot(index);
    if (!s || !slot::is_generated(slot::load(s->word))) return std::nullopt;
    auto h = detail::published_hash(s);
    if (!h) return std::nullopt;
    return impl_->address_from(*h);
}

std::optional<std::uint32_t> AddressPool::index_of(const Address& address) const {
    auto i = detail::derived_index_of(*impl_, address);
    if (!i) return std::nullopt;
    const std::optional<Slot> s = impl_->find_slot(*i);
    if (!s || !slot::is_generated(slot::load(s->word))) return std::nullopt;
    return i;
}

std::optional<std::uint32_t> AddressPool::index_of_script(std::span<const std::uint8_t> script_pubkey) const {
    auto a = Address::from_script(script_pubkey, impl_->network);
    if (!a) return std::nullopt;
    return index_of(*a);
}

DerivationPath AddressPool::path_of(std::uint32_t index) const {
    return impl_->base_path.child(impl_->type == PoolType::absent_hardened ? (index | hardened_bit) : index);
}

std::uint32_t AddressPool::scan_window_end() const { return window_end(*impl_); }

PoolStats AddressPool::stats() const {
    PoolStats st;
    st.gap_limit = impl_->gap_limit;
    const Hot* h = impl_->hot_or_null();
    if (h == nullptr) return st;
    h->slots.for_each(0, touched_end(*h), [&](std::uint32_t i, const Slot& s) {
        const slot::Word w = slot::load(s.word);
        const bool g = slot::is_generated(w);
        if (g) {
            ++st.generated;
            st.highest_generated = i;
        }
        if (slot::is_used(w)) {
            ++st.used;
            st.highest_used = i;
        } else if (slot::is_reserved(w)) {
            ++st.reserved;
            st.highest_reserved = i;
        } else if (g) {
            ++st.unused;
        }
    });
    return st;
}

Result<Address> AddressPool::next_unused(const KeySource& key_source, bool add_to_state) {
    Impl& p = *impl_;
    for (;;) {
        std::optional<Address> found;
        bool retry = false;
        auto r = scan_unused(p, key_source, [&](std::uint32_t i, const Hash160& hash) {
            const Slot s = *p.find_slot(i);
            // materialize() is false when the entry was generated already or
            // stopped being unused; only the latter sends us round again.
            if (add_to_state && !slot::materialize(s.word, /*only_if_unused=*/true) &&
                !slot::is_unused(slot::load(s.word))) {
                retry = true;
                return true;
            }
            found = p.address_from(hash);
            return true;
        });
        if (!r) return std::move(r).error();
        if (!retry) return std::move(*found);
    }
}

Result<std::vector<Address>> AddressPool::next_unused_multiple(std::size_t count, const KeySource& key_source,
                                                               bool add_to_state) {
    if (count > (std::size_t{1} << 20)) return make_error(Errc::invalid_argument, "count is above 2^20");
    std::vector<Address> out;
    if (count == 0) return out;
    Impl& p = *impl_;
    std::vector<std::uint32_t> picked;
    out.reserve(count);
    picked.reserve(count);
    auto r = scan_unused(p, key_source, [&](std::uint32_t i, const Hash160& hash) {
        picked.push_back(i);
        out.push_back(p.address_from(hash));
        return out.size() == count;
    });
    if (!r) return std::move(r).error();
    if (add_to_state) {
        for (std::uint32_t i : picked) (void)slot::materialize(p.find_slot(i)->word, /*only_if_unused=*/true);
    }
    return out;
}

Result<std::vector<Address>> AddressPool::generate_addresses(std::uint32_t count, const KeySource& key_source,
                                                             bool add_to_state) {
    if (count > (1u << 20)) return make_error(Errc::invalid_argument, "count is above 2^20");
    Impl& p = *impl_;
    // One past the highest generated index.
    std::uint32_t from = 0;
    if (const Hot* h = p.hot_or_null()) {
        const auto top =
            h->slots.highest(0, touched_end(*h), [](const Slot& s) { return slot::is_generated(slot::load(s.word)); });
        from = top ? *top + 1 : 0;
    }
    if (std::uint64_t{from} + count > kMaxIndex) {
        return make_error(Errc::index_out_of_range, "generating that many would pass index 2^31");
    }
    auto hashes = detail::derive_range(p, key_source, from, from + count);
    if (!hashes) return std::move(hashes).error();
    std::vector<Address> out;
    out.reserve(count);
    for (std::uint32_t k = 0; k < count; ++k) {
        if (add_to_state) (void)slot::materialize(p.find_slot(from + k)->word, /*only_if_unused=*/false);
        out.push_back(p.address_from((*hashes)[k]));
    }
    return out;
}

Result<std::vector<Address>> AddressPool::maintain_gap_limit(const KeySource& key_source) {
    Impl& p = *impl_;
    const std::uint32_t end = window_end(p);
    // The first index below the window that is not generated: everything
    // below it is, so only [from, end) can need work.
    std::uint32_t from = 0;
    while (from < end) {
        const std::optional<Slot> s = p.find_slot(from);
        if (!s || !slot::is_generated(slot::load(s->word))) break;
        ++from;
    }
    // Derive everything first, so a failure leaves the durable state alone.
    auto hashes = detail::derive_range(p, key_source, from, end);
    if (!hashes) return std::move(hashes).error();
    std::vector<Address> added;
    for (std::uint32_t j = from; j < end; ++j) {
        if (slot::materialize(p.find_slot(j)->word, /*only_if_unused=*/false)) {
            added.push_back(p.address_from((*hashes)[j - from]));
        }
    }
    return added;
}

std::vector<Address> AddressPool::all_addresses() const {
    return collect(*impl_, [](slot::Word) { return true; });
}
std::vector<Address> AddressPool::used_addresses() const {
    return collect(*impl_, [](slot::Word w) { return slot::is_used(w); });
}
std::vector<Address> AddressPool::unused_addresses() const {
    return collect(*impl_, [](slot::Word w) { return slot::is_unused(w); });
}

bool AddressPool::set_label(const Address& address, std::string text) {
    auto i = index_of(address);
    if (!i) return false;
    Impl::Labels& l = impl_->labels();
    detail::LockGuard lock(l.mutex);
    l.map[*i] = std::move(text);
    return true;
}

std::optional<std::string> AddressPool::label(const Address& address) const {
    auto i = index_of(address);
    if (!i) return std::nullopt;
    const Impl::Labels* l = impl_->labels_or_null();
    if (l == nullptr) return std::nullopt;
    detail::LockGuard lock(l->mutex);
    auto it = l->map.find(*i);
    if (it == l->map.end()) return std::nullopt;
    return it->second;
}

std::uint32_t AddressPool::prune_unused() {
    const Impl& p = *impl_;
    const Hot* h = p.hot_or_null();
    if (h == nullptr) return 0;
    // Never below the scan window: a payment to any index a restore from the
    // seed would watch must stay recognised.
    std::uint32_t dropped = 0;
    h->slots.for_each(window_end(p), touched_end(*h), [&](std::uint32_t, const Slot& s) {
        if (slot::unmaterialize_unused(s.word)) ++dropped;  // (S7)
    });
    return dropped;
}

void AddressPool::reset_usage() {
    Impl& p = *impl_;
    Hot* h = p.hot_or_null();
    if (h == nullptr) return;
    auto st = h->free_store();
    h->slots.for_each(0, touched_end(*h), [&](std::uint32_t i, const Slot& s) {
        if (slot::reset(s.word)) free_index::mark_free<detail::FreeGeometry>(st, i);  // (S8), then (F1)
    });
    // relaxed: reset_usage is documented as not concurrent with marks; the
    // prefix restart below is the release that sweeps pair with.
    h->used_end.store(0, boost::memory_order_relaxed);
    detail::used_prefix::restart(h->used_prefix);  // (P3): after the slots were freed
}

}  // namespace addrpool
