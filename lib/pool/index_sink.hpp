// Internal: where a pool registers the hash160 of every index it derives.
// A pool on its own keeps a lookup index of its own (lookup.hpp); a pool
// whose account belongs to a WalletSet is attached to the set's one script
// index instead (lib/wallet/), so matching a block costs one lookup per
// script whatever the number of pools, and an idle pool carries no index.
#ifndef ADDRPOOL_LIB_POOL_INDEX_SINK_HPP
#define ADDRPOOL_LIB_POOL_INDEX_SINK_HPP

#include <addrpool/keys.hpp>

#include <cstdint>
#include <optional>

namespace addrpool::detail {

class IndexSink {
public:
    virtual ~IndexSink() = default;
    // Registers that this pool's index `index` has hash `h`. Called once per
    // derived index, possibly more than once for one (racing derivers, a
    // deriver and the backfill, a backfill retried), possibly from several threads at
    // once: idempotent and thread-safe. May block briefly; may throw
    // std::bad_alloc.
    virtual void insert(const Hash160& h, std::uint32_t index) = 0;
    // This pool's index holding `h`, if registered. Thread-safe.
    virtual std::optional<std::uint32_t> find(const Hash160& h) const = 0;
};

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_POOL_INDEX_SINK_HPP
