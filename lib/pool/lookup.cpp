#include "pool/lookup.hpp"

namespace addrpool::detail {

void LookupIndex::insert(const Hash160& h, std::uint32_t index) {
    Shard& s = shard(h);
    LockGuard lock(s.mutex);
    s.map.emplace(h, index);
}

std::optional<std::uint32_t> LookupIndex::find(const Hash160& h) const {
    Shard& s = shard(h);
    LockGuard lock(s.mutex);
    auto it = s.map.find(h);
    if (it == s.map.end()) return std::nullopt;
    return it->second;
}

void LookupIndex::reserve(std::size_t n) {
    for (auto& sh : shards_) {
        LockGuard lock(sh.mutex);
        sh.map.reserve(n / kShards + 1);
    }
}

}  // namespace addrpool::detail
