// Internal: AddressPool::serialize from a snapshot the caller already took,
// for a caller that needs the snapshot itself too (WalletSet::save digests
// exactly what it writes).
#ifndef ADDRPOOL_LIB_PERSIST_BRIDGE_HPP
#define ADDRPOOL_LIB_PERSIST_BRIDGE_HPP

#include <addrpool/pool.hpp>

#include "pool/durable.hpp"

#include <string>
#include <vector>

namespace addrpool::detail {

// The bytes AddressPool::serialize writes for `pool`'s settings with these
// entries and labels (durable_entries / durable_labels of the same pool).
// Throws std::length_error for a base path of more than 255 components and
// std::bad_alloc; nothing else.
std::string serialize_snapshot(const AddressPool& pool, std::vector<DurableEntry> entries, DurableLabels labels);

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_PERSIST_BRIDGE_HPP
