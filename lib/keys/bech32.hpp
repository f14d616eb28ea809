// Internal: bech32m (BIP350) as DIP-18 uses it: lowercase only, at most 90
// characters, no witness version — the data part is the 8-bit payload
// regrouped into 5-bit values with zero padding.
#ifndef ADDRPOOL_LIB_BECH32_HPP
#define ADDRPOOL_LIB_BECH32_HPP

#include <addrpool/result.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace addrpool::detail {

inline constexpr std::uint32_t kBech32Const = 1;             // BIP173
inline constexpr std::uint32_t kBech32mConst = 0x2bc830a3;   // BIP350
inline constexpr std::size_t kBech32MaxLength = 90;

struct Bech32Data {
    std::string hrp;
    std::vector<std::uint8_t> values;  // 5-bit values, checksum removed
};

// Regroups bits: from_bits-wide values into to_bits-wide ones. With `pad`,
// leftover bits are zero-padded; without, more than from_bits-1 leftover bits
// or non-zero leftover bits fail. Returns false on a value wider than from_bits.
bool convert_bits(std::span<const std::uint8_t> in, unsigned from_bits, unsigned to_bits, bool pad,
                  std::vector<std::uint8_t>& out);

// hrp must be lowercase ASCII 33..126 and values 5-bit; the caller's duty.
std::string bech32m_encode(std::string_view hrp, std::span<const std::uint8_t> values);

// Errors: invalid_encoding (too long, any uppercase letter, characters outside
// 33..126 or the data charset, missing separator or HRP, data too short),
// bad_checksum (mismatch, and also a valid plain-bech32 checksum).
Result<Bech32Data> bech32m_decode(std::string_view text);

// 8-bit payload → hrp + "1" + bech32m data.
std::string bech32m_encode_bytes(std::string_view hrp, std::span<const std::uint8_t> payload);

struct Bech32Bytes {
    std::string hrp;
    std::vector<std::uint8_t> payload;  // 8-bit
};

// As bech32m_decode, then 5→8 bits. Extra error: invalid_encoding for bad padding.
Result<Bech32Bytes> bech32m_decode_bytes(std::string_view text);

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_BECH32_HPP
