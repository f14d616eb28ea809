// Internal: the addrpool file format (version 1), parsed without building a
// pool. AddressPool::deserialize is parse_pool_file + a single-threaded build;
// the fuzz target calls parse_pool_file directly so that it can skip building
// pools whose (legitimate) size would exceed the fuzzer's memory limit.
//
// Layout (integers big-endian; varint = unsigned LEB128, minimal, <= 5 bytes):
//
//   offset  size  field
//   0       8     magic "ADDRPOOL"
//   8       2     format version (1)
//   10      8     total file length in bytes, trailer included
//   18      1     network (0..3)
//   19      1     pool type (0..3)
//   20      1     address format (0..1)
//   21      4     gap limit
//   25      1     base path length n
//   26      4n    base path components
//   ..      4     highest used + 1 (0 = nothing used)
//   ..      4     entry count
//   ..            entries, in increasing index order:
//                   varint  index (first entry) / index - previous index (>= 1)
//                   20      hash160
//                   1       flags: bit 0 used, bit 1 labelled (others 0)
//                   varint  label length, then the label bytes (if labelled)
//   L-32    32    SHA-256 of bytes [0, L-32)
//
// Nothing about reservations (state, ticket, time) is stored. The encoding is
// canonical: parse_pool_file accepts exactly the bytes serialize() produces
// for some state, so deserialize(b) succeeding implies serialize() == b.
//
// The file holds hash160s, not public keys: an address is its hash160 here.
// The "address matches its key" check happens when a KeySource is first used
// with a loaded pool (the pool re-derives its first entry and refuses a key
// source that gives another hash: Errc::invalid_argument); at load time two
// entries with the same hash160 are rejected as inconsistent_data.
#ifndef ADDRPOOL_LIB_PERSIST_HPP
#define ADDRPOOL_LIB_PERSIST_HPP

#include <addrpool/pool.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace addrpool::detail {

inline constexpr std::uint16_t kFormatVersion = 1;

struct PoolFileEntry {
    std::uint32_t index;
    Hash160 hash;
    bool used;
};

struct PoolFile {
    Network network = Network::mainnet;
    PoolType type = PoolType::external;
    AddressFormat format = AddressFormat::base58check;
    std::uint32_t gap_limit = 0;
    std::vector<std::uint32_t> base_path;
    std::optional<std::uint32_t> highest_used;
    std::vector<PoolFileEntry> entries;                         // increasing index
    std::vector<std::pair<std::uint32_t, std::string>> labels;  // increasing index
};

// Validates everything (structure, checksum, consistency). Errors: truncated,
// bad_magic, unsupported_format, corrupt_data, inconsistent_data; messages
// name the field and its byte offset. Never throws for any input (only
// std::bad_alloc, as everywhere).
Result<PoolFile> parse_pool_file(std::string_view bytes);

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_PERSIST_HPP
