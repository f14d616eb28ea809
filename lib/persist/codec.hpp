// Internal: the addrpool file format (version 1). codec::encode and
// codec::parse are its only writer and reader in the library; the benchmark's
// synthetic file goes through encode too. (test/test_persist.cpp keeps an
// independent writer on purpose, as a cross-check of this description.)
// AddressPool::serialize/deserialize (bridge.cpp) are encode/parse plus the
// pool's durable state (lib/pool/durable.hpp); the fuzz target calls parse
// directly.
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
// canonical: parse accepts exactly the bytes encode produces for some
// PoolFile, so parse(b) succeeding implies encode(parse(b)) == b.
//
// The file holds hash160s, not public keys: an address is its hash160 here.
// The "address matches its key" check happens when a KeySource is first used
// with a loaded pool (the pool re-derives its first entry and refuses a key
// source that gives another hash: Errc::invalid_argument); at parse time two
// entries with the same hash160 are rejected as inconsistent_data.
#ifndef ADDRPOOL_LIB_PERSIST_CODEC_HPP
#define ADDRPOOL_LIB_PERSIST_CODEC_HPP

#include <addrpool/pool.hpp>

#include "pool/durable.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace addrpool::detail::codec {

inline constexpr std::uint16_t kFormatVersion = 1;

// The pool's durable entry is the file's entry, field for field.
using PoolFileEntry = DurableEntry;

struct PoolFile {
    Network network = Network::mainnet;
    PoolType type = PoolType::external;
    AddressFormat format = AddressFormat::base58check;
    std::uint32_t gap_limit = 0;
    std::vector<std::uint32_t> base_path;  // at most 255 components
    // The highest used entry's index. Derived data: parse fills it after
    // checking the stored field against the entries; encode ignores it and
    // writes what the entries say.
    std::optional<std::uint32_t> highest_used;
    std::vector<PoolFileEntry> entries;                         // strictly increasing index, each < 2^31
    std::vector<std::pair<std::uint32_t, std::string>> labels;  // strictly increasing index

    friend bool operator==(const PoolFile&, const PoolFile&) = default;
};

// The file for `f`. Labels whose index is not an entry's are not written (a
// pool keeps the label of an entry it pruned; the file does not), and a
// label longer than 2^32 - 1 bytes is cut there. Preconditions: entries in
// strictly increasing index order below 2^31, at most 255 base path
// components, labels in increasing index order; a violation is a caller bug
// and aborts (rather than write a file that parse would refuse). Entries
// with the same hash160 are the caller's to avoid (parse refuses them).
// Allocates once, exactly the file's size.
std::string encode(const PoolFile& f);

// Validates everything (structure, checksum, consistency). Errors: truncated,
// bad_magic, unsupported_format, corrupt_data, inconsistent_data; messages
// name the field and its byte offset. Never throws for any input (only
// std::bad_alloc, as everywhere). Allocates in proportion to bytes.size()
// only: vectors are sized by what the checksummed content can hold (an
// entry takes at least 22 bytes), never by a field's value.
Result<PoolFile> parse(std::string_view bytes);

}  // namespace addrpool::detail::codec

#endif  // ADDRPOOL_LIB_PERSIST_CODEC_HPP
