// Internal: hash160 -> index for every derived index of a pool, sharded to
// keep lookups off one mutex. Not on the hand-out path: written when an
// index is derived, read by mark_used / index_of and the sync side.
#ifndef ADDRPOOL_LIB_POOL_LOOKUP_HPP
#define ADDRPOOL_LIB_POOL_LOOKUP_HPP

#include <addrpool/keys.hpp>

#include "common/thread_annotations.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace addrpool::detail {

// hash160 is uniform already: its first bytes are a good hash.
struct Hash160Hash {
    std::size_t operator()(const Hash160& h) const noexcept {
        std::size_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | h[static_cast<std::size_t>(i)];
        return v;
    }
};

class LookupIndex {
public:
    // Idempotent. Blocking (one shard mutex), may throw std::bad_alloc.
    void insert(const Hash160& h, std::uint32_t index);
    std::optional<std::uint32_t> find(const Hash160& h) const;
    void reserve(std::size_t n);  // room for n entries (bulk load)

private:
    struct Shard {
        mutable Mutex mutex;
        std::unordered_map<Hash160, std::uint32_t, Hash160Hash> map GUARDED_BY(mutex);
    };
    static constexpr std::size_t kShards = 16;
    Shard& shard(const Hash160& h) const noexcept { return shards_[h[19] % kShards]; }
    mutable std::array<Shard, kShards> shards_;
};

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_POOL_LOOKUP_HPP
