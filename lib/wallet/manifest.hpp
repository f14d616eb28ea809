// Internal: the manifest of a saved WalletSet (the file `wallets.manifest`
// in its directory) and the names of its pool files.
//
// Text, one record per line, every number decimal unless said:
//
//   addrpool-wallets 1                      magic and format version
//   set <16 hex>                            the set's random identity
//   generation <n>                          the save that wrote this manifest
//   next-file <n>                           the next unused file id
//   accounts <count>
//   a x<hex of wallet bytes> <account> <file id> <gen external> <gen internal>
//   ...                                     (count lines)
//   sha256 <64 hex>                         of every byte before this line
//
// An account's pools are the pool files (AddressPool::save's format)
// `<file id as 16 hex>-e-<gen>.pool` and `...-i-<gen>.pool`. A save writes
// each changed pool under the save's generation (a name no manifest in the
// directory uses yet), so the previous manifest's files are never
// overwritten, then renames the new manifest over the old one.
#ifndef ADDRPOOL_LIB_WALLET_MANIFEST_HPP
#define ADDRPOOL_LIB_WALLET_MANIFEST_HPP

#include <addrpool/result.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace addrpool::detail::manifest {

inline constexpr std::string_view kFileName = "wallets.manifest";
inline constexpr std::uint32_t kFormatVersion = 1;

struct Account {
    std::string wallet;
    std::uint32_t account = 0;
    std::uint64_t file_id = 0;          // >= 1
    std::array<std::uint64_t, 2> gen{};  // per chain, each >= 1

    friend bool operator==(const Account&, const Account&) = default;
};

// The generation and next file id stay below this (parse refuses more, save
// refuses to get there): far beyond any number of saves, and no counter wraps.
inline constexpr std::uint64_t kCounterLimit = std::uint64_t{1} << 62;

struct Manifest {
    std::uint64_t set_id = 0;
    std::uint64_t generation = 0;    // >= every account's gen
    std::uint64_t next_file_id = 1;  // > every account's file id
    std::vector<Account> accounts;

    friend bool operator==(const Manifest&, const Manifest&) = default;
};

std::string encode(const Manifest& m);

// Errors: bad_magic (not a manifest), unsupported_format (another
// version), truncated (no checksum line, or the text ends early),
// corrupt_data (checksum mismatch), inconsistent_data (a malformed or
// contradictory record: bad number or hex, count mismatch, a repeated
// (wallet, account) or file id, a generation above the manifest's, a file id
// not below next-file). Messages name the line.
Result<Manifest> parse(std::string_view text);

// `<file id as 16 hex>-<e|i>-<gen>.pool`.
std::string pool_file(std::uint64_t file_id, unsigned chain, std::uint64_t gen);
// True for a name a save of a set may have made or left: a pool file, or a
// temporary of one (`<pool file>.tmp-...`).
bool is_pool_file_or_temporary(std::string_view name);

}  // namespace addrpool::detail::manifest

#endif  // ADDRPOOL_LIB_WALLET_MANIFEST_HPP
