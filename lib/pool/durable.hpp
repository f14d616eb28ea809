// Internal: the pool's durable state, as persistence sees it. This is the
// whole interface between the pool (lib/pool/) and the pool file
// (lib/persist/bridge.cpp): persistence never touches slot words, the slot
// array or the lookup index itself. Durable: which indices are generated
// (with their hash160), which of those are used, and the labels. Ephemeral,
// never here: reservations, tickets, times.
//
// Contract for whoever re-implements durable.cpp against a new pool layout:
//   - durable_entries lists every generated index once, in increasing index
//     order; a used mark that completed before the call began is in it
//     (snapshot semantics: it may run concurrently with every operation);
//     a reserved index is listed as unused.
//   - load_durable fills a pool that no other thread can see yet; it may
//     refuse state it cannot hold with a clear error, but must never allocate
//     memory out of proportion to entries.size() (issue 12 item 7: a file of a
//     few entries at indices near 2^31 loads, or is refused, under 64 MiB of
//     address space).
#ifndef ADDRPOOL_LIB_POOL_DURABLE_HPP
#define ADDRPOOL_LIB_POOL_DURABLE_HPP

#include <addrpool/pool.hpp>

#include "common/thread_annotations.hpp"

#include <boost/atomic.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace addrpool::detail {

// One generated index. Also the file's entry (lib/persist/codec.hpp), so a
// snapshot moves into the codec without a copy.
struct DurableEntry {
    std::uint32_t index;
    Hash160 hash;
    bool used;

    friend bool operator==(const DurableEntry&, const DurableEntry&) = default;
};

using DurableLabels = std::vector<std::pair<std::uint32_t, std::string>>;  // increasing index

// Every generated entry in increasing index order: one acquire load of each
// index's state, so a used mark that completed before the call began is in
// it. Lock-free (apart from allocating the vector); may run concurrently
// with every other operation.
std::vector<DurableEntry> durable_entries(const AddressPool::Impl& pool);

// Every label, in increasing index order. May include labels of indices that
// are no longer generated (prune_unused keeps labels); the codec drops those.
// Blocking (the label mutex); may run concurrently with every operation.
DurableLabels durable_labels(const AddressPool::Impl& pool);

// Fills `pool`, new and not yet visible to any other thread, with loaded
// state: each entry generated with its hash160, used or unused (never
// reserved), highest used as given, and the labels. Preconditions (the codec
// checks them in every file it accepts): entries in strictly increasing
// index order below 2^31 with distinct hash160s; highest_used is the highest
// used entry's index (nullopt if none is used); every label's index is an
// entry's. Errors: none today (a pool layout that cannot hold some state may
// refuse it with a clear error instead of allocating for it). Throws only
// std::bad_alloc. Not thread-safe (single-threaded initialization).
Result<void> load_durable(AddressPool::Impl& pool, std::span<const DurableEntry> entries,
                          std::optional<std::uint32_t> highest_used, DurableLabels labels);

// Per-pool bookkeeping of save() (lib/persist/bridge.cpp gives it meaning;
// the pool only holds it, as AddressPool::Impl::save_order): a sequence
// number per save, taken before it serializes, and per target file the
// newest sequence number renamed over it, so that an older snapshot never
// replaces a newer one.
struct SaveOrder {
    boost::atomic<std::uint64_t> started{0};  // sequence numbers handed to save() calls
    Mutex mutex;                              // the critical section around the rename
    // Target identity (from lib/persist/atomic_file.hpp) → newest sequence
    // number renamed over it.
    std::map<std::string, std::uint64_t> renamed GUARDED_BY(mutex);
};

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_POOL_DURABLE_HPP
