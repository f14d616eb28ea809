// Internal: BIP32 child key derivation (CKDpriv / CKDpub) on raw parts.
//
// Shared by keys.cpp (ExtendedPrivKey / ExtendedPubKey) and by the address
// pool, whose per-address cost is one ckd_pub_hash160 call: one HMAC-SHA512,
// one multiplication of the generator, one point addition (point_add_tweak),
// one serialization and one hash160. The
// parent is parsed once into a ChainKey so that no call re-parses it.
//
// All functions are reentrant, take no lock and may run concurrently on the
// same (const) parent: they only read the shared secp256k1 context.
#ifndef ADDRPOOL_LIB_DERIVE_HPP
#define ADDRPOOL_LIB_DERIVE_HPP

#include <addrpool/keys.hpp>
#include <addrpool/result.hpp>

#include <secp256k1.h>

#include <array>
#include <cstdint>
#include <span>

namespace addrpool::detail {

// A public parent, parsed once, for repeated CKDpub.
struct ChainKey {
    secp256k1_pubkey point;  // parsed form of key
    PubKeyBytes key;         // compressed SEC1
    ChainCode chain_code;
};

// Parses a compressed public key. Errors: invalid_public_key.
[[nodiscard]] Result<ChainKey> make_chain_key(const PubKeyBytes& key, const ChainCode& chain_code);

// out = point + tweak·G, tweak a 32-byte big-endian scalar: BIP32's
// point(IL) + K_par. Returns false, out unspecified, when tweak >= n or the
// sum is the point at infinity (the cases where
// secp256k1_ec_pubkey_tweak_add fails, and with the same result otherwise).
[[nodiscard]] bool point_add_tweak(const secp256k1_pubkey& point, const std::uint8_t* tweak,
                                   secp256k1_pubkey& out) noexcept;

// CKDpub. Errors: hardened_from_public (index >= 2^31), invalid_child.
[[nodiscard]] Result<ChainKey> ckd_pub(const ChainKey& parent, std::uint32_t index);

// CKDpub, returning only hash160 of the child's compressed public key (the
// pool's hot path). Errors as ckd_pub.
[[nodiscard]] Result<Hash160> ckd_pub_hash160(const ChainKey& parent, std::uint32_t index);

// A private parent: secret and chain code, wiped when destroyed or
// overwritten. Moving out of one wipes the source, so only live copies hold
// the secret.
struct PrivChainKey {
    std::array<std::uint8_t, 32> secret{};
    ChainCode chain_code{};

    PrivChainKey() = default;
    PrivChainKey(const PrivChainKey&) = default;
    PrivChainKey& operator=(const PrivChainKey&) = default;
    PrivChainKey(PrivChainKey&& other) noexcept;
    PrivChainKey& operator=(PrivChainKey&& other) noexcept;
    ~PrivChainKey();

    void wipe() noexcept;
};

// CKDpriv, hardened or not. Errors: invalid_child.
[[nodiscard]] Result<PrivChainKey> ckd_priv(const PrivChainKey& parent, std::uint32_t index);

// The compressed public key of a secret. Errors: invalid_private_key (zero or
// not below the group order).
[[nodiscard]] Result<PubKeyBytes> public_key_of(std::span<const std::uint8_t, 32> secret);

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_DERIVE_HPP
