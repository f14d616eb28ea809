// Internal: Base58 and Base58Check (Bitcoin alphabet), as used by Dash
// addresses and BIP32 extended keys.
#ifndef ADDRPOOL_LIB_BASE58_HPP
#define ADDRPOOL_LIB_BASE58_HPP

#include <addrpool/result.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace addrpool::detail {

// Plain Base58; leading zero bytes become leading '1's.
std::string base58_encode(std::span<const std::uint8_t> data);

// Decoding is quadratic, so text longer than this is refused up front; the
// longest real input, an extended key, is 111 characters.
inline constexpr std::size_t kBase58MaxDecodeLength = 512;

// Errors: invalid_encoding (empty, longer than kBase58MaxDecodeLength, or a
// character outside the alphabet).
Result<std::vector<std::uint8_t>> base58_decode(std::string_view text);

// payload || first 4 bytes of SHA256d(payload), Base58-encoded.
std::string base58check_encode(std::span<const std::uint8_t> payload);

// Returns the payload without its checksum. Errors: invalid_encoding (empty,
// too long, non-alphabet character, fewer than 4 bytes), bad_checksum. The decoded
// buffers are wiped, since callers pass xprv strings through here.
Result<std::vector<std::uint8_t>> base58check_decode(std::string_view text);

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_BASE58_HPP
