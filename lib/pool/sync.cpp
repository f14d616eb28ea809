// Block sync: AddressPool::mark_scripts_used. The window is derived and
// materialized first; every P2PKH script costs one lookup; scripts not found
// wait in a map that the indices derived by each widening of the window are
// looked up in, so a payment past the window is found wherever it sits in
// the batch.
#include "pool/derivation.hpp"
#include "pool/pool_impl.hpp"

#include <algorithm>
#include <unordered_map>

namespace addrpool {

namespace slot = detail::slot;
using Impl = AddressPool::Impl;

namespace {

// Marks index i used (it is derived); one ScriptMatch per position, in order.
void mark_matched(Impl& p, std::uint32_t i, const std::vector<std::size_t>& positions, std::vector<ScriptMatch>& out) {
    detail::Hot& h = p.hot();
    const bool changed = slot::mark_used(h.slots.find(i)->word, /*require_known=*/false);  // (S5)
    if (changed) Impl::raise(h.used_end, i + 1);
    for (std::size_t k = 0; k < positions.size(); ++k) out.push_back(ScriptMatch{positions[k], i, changed && k == 0});
}

}  // namespace

Result<std::vector<ScriptMatch>> AddressPool::mark_scripts_used(std::span<const std::vector<std::uint8_t>> scripts,
                                                                const KeySource& key_source) {
    Impl& p = *impl_;
    // The window as it stands, derived and materialized, before any mark.
    // `derived_to` is read first: if another thread widens the window while
    // maintain_gap_limit runs, the widening loop below derives (or finds
    // derived) and looks up everything from here on — read after, it could
    // skip indices nobody derived yet.
    std::uint32_t derived_to = scan_window_end();
    if (auto w = maintain_gap_limit(key_source); !w) return std::move(w).error();

    // P2PKH scripts of this pool's network, grouped by hash160 (a script may
    // repeat), positions in increasing order.
    std::unordered_map<Hash160, std::vector<std::size_t>, detail::Hash160Hash> waiting;
    for (std::size_t pos = 0; pos < scripts.size(); ++pos) {
        auto a = Address::from_script(scripts[pos], p.network);
        if (!a || a->kind() != AddressKind::p2pkh) continue;
        waiting[a->hash160()].push_back(pos);
    }
    std::vector<ScriptMatch> out;
    // First pass: one lookup per distinct hash.
    {
        std::vector<std::pair<std::uint32_t, std::vector<std::size_t>>> found;
        for (auto it = waiting.begin(); it != waiting.end();) {
            if (auto i = detail::derived_index_of(p, it->first)) {
                found.emplace_back(*i, std::move(it->second));
                it = waiting.erase(it);
            } else {
                ++it;
            }
        }
        // In position order, so a repeated index is newly used at its first position.
        std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.second[0] < b.second[0]; });
        for (const auto& [i, positions] : found) mark_matched(p, i, positions, out);
    }
    // Each widening of the window: derive and materialize the new indices,
    // then look them up among the scripts still waiting.
    for (;;) {
        const std::uint32_t end = scan_window_end();
        if (end <= derived_to) break;
        auto hashes = detail::derive_range(p, key_source, derived_to, end);
        if (!hashes) return std::move(hashes).error();
        std::vector<std::pair<std::uint32_t, std::vector<std::size_t>>> found;
        for (std::uint32_t j = derived_to; j < end; ++j) {
            (void)slot::materialize(p.find_slot(j)->word, /*only_if_unused=*/false);  // (S6)
            auto it = waiting.find((*hashes)[j - derived_to]);
            if (it == waiting.end()) continue;
            found.emplace_back(j, std::move(it->second));
            waiting.erase(it);
        }
        derived_to = end;
        std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.second[0] < b.second[0]; });
        for (const auto& [i, positions] : found) mark_matched(p, i, positions, out);
    }
    std::sort(out.begin(), out.end(), [](const ScriptMatch& a, const ScriptMatch& b) { return a.position < b.position; });
    return out;
}

}  // namespace addrpool
