// Internal: thin wrappers over OpenSSL libcrypto 3 and the shared secp256k1
// context. No hash, MAC or KDF is implemented here by hand.
#ifndef ADDRPOOL_LIB_CRYPTO_HPP
#define ADDRPOOL_LIB_CRYPTO_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

struct secp256k1_context_struct;

namespace addrpool::detail {

using Bytes32 = std::array<std::uint8_t, 32>;
using Bytes64 = std::array<std::uint8_t, 64>;
using Bytes20 = std::array<std::uint8_t, 20>;

Bytes32 sha256(std::span<const std::uint8_t> data) noexcept;
Bytes32 sha256d(std::span<const std::uint8_t> data) noexcept;  // SHA256(SHA256(x))
Bytes20 ripemd160(std::span<const std::uint8_t> data) noexcept;
Bytes20 hash160(std::span<const std::uint8_t> data) noexcept;   // RIPEMD160(SHA256(x))

// HMAC-SHA512(key, data1 || data2).
Bytes64 hmac_sha512(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data1,
                    std::span<const std::uint8_t> data2 = {}) noexcept;

// PBKDF2-HMAC-SHA512; out.size() bytes of output.
void pbkdf2_hmac_sha512(std::span<const std::uint8_t> password, std::span<const std::uint8_t> salt,
                        std::uint32_t iterations, std::span<std::uint8_t> out) noexcept;

// Overwrites memory in a way the optimizer cannot drop (OPENSSL_cleanse).
void cleanse(void* p, std::size_t n) noexcept;

// The process-wide secp256k1 context (sign + verify), created and randomized
// once on first use (a function-local static: thread-safe initialization),
// then only read: libsecp256k1 documents concurrent read-only use of one
// context as safe.
const secp256k1_context_struct* secp_context() noexcept;

// Big-endian helpers.
inline void put_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}
inline std::uint32_t get_be32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

}  // namespace addrpool::detail

#endif
