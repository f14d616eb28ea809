// addrpool — BIP32 / BIP39 keys and derivation paths.
//
// Conventions for every function in this header:
// - Fallible calls return Result<T>; on failure no partial object is returned.
// - Error messages never contain private keys, chain codes, seeds or mnemonic
//   words: they name the position or field that was wrong.
// - Objects holding secrets (Seed, ExtendedPrivKey) wipe them with
//   OPENSSL_cleanse when destroyed or overwritten.
// - Thread safety: all functions are reentrant; const member functions may be
//   called concurrently on one object. Key derivation uses one secp256k1
//   context, created and randomized on first use, shared read-only.
// - Progress: none of these functions takes a lock (the first call's
//   context creation goes through a function-local static).
#ifndef ADDRPOOL_KEYS_HPP
#define ADDRPOOL_KEYS_HPP

#include <addrpool/export.hpp>
#include <addrpool/network.hpp>
#include <addrpool/result.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace addrpool {

inline constexpr std::uint32_t hardened_bit = 0x80000000u;

using Hash160 = std::array<std::uint8_t, 20>;
using PubKeyBytes = std::array<std::uint8_t, 33>;  // compressed SEC1
using ChainCode = std::array<std::uint8_t, 32>;

// A BIP32 derivation path: "m", "m/44'/5'/0'/0", "m/0h/1".
class ADDRPOOL_EXPORT DerivationPath {
public:
    DerivationPath() = default;  // "m"
    explicit DerivationPath(std::vector<std::uint32_t> components) : components_(std::move(components)) {}

    // Parses "m[/c]*" where c is a decimal index, optionally followed by ' or h
    // (or H) for hardened. Returns Errc::invalid_path for: a missing leading "m",
    // an empty component ("m//1", trailing "/"), non-digits, leading '+'/'-', an
    // index >= 2^31 (hardened or not: write it as the hardened form instead), or
    // more than 255 components.
    static Result<DerivationPath> parse(std::string_view text);

    // "m/44'/5'/0'/0"; hardened components use the apostrophe.
    std::string to_string() const;

    const std::vector<std::uint32_t>& components() const noexcept { return components_; }
    bool empty() const noexcept { return components_.empty(); }
    std::size_t size() const noexcept { return components_.size(); }

    // This path with one more component.
    DerivationPath child(std::uint32_t index) const;

    friend bool operator==(const DerivationPath&, const DerivationPath&) = default;

private:
    std::vector<std::uint32_t> components_;
};

// Up to 64 bytes of BIP32 seed (BIP32 accepts 16..64), wiped on destruction.
// Copies, moves and destruction wipe the storage they leave.
class ADDRPOOL_EXPORT Seed {
public:
    Seed() = default;
    // Copies `bytes`. More than 64 bytes gives an empty seed, which
    // ExtendedPrivKey::from_seed rejects as invalid_seed; so does a seed
    // shorter than 16 bytes. Never throws.
    explicit Seed(std::span<const std::uint8_t> bytes);
    Seed(const Seed&);
    Seed& operator=(const Seed&);
    Seed(Seed&&) noexcept;
    Seed& operator=(Seed&&) noexcept;
    ~Seed();

    std::span<const std::uint8_t> bytes() const noexcept { return {data_.data(), size_}; }
    std::size_t size() const noexcept { return size_; }

private:
    void wipe() noexcept;
    std::array<std::uint8_t, 64> data_{};
    std::size_t size_ = 0;
};

// BIP39 English: validates the mnemonic (12/15/18/21/24 words separated by
// single or repeated ASCII spaces; every word in the list; checksum) and
// returns PBKDF2-HMAC-SHA512(mnemonic, "mnemonic" + passphrase, 2048) — 64 bytes.
// The passphrase is used byte for byte (UTF-8): BIP39 asks for NFKD
// normalization, which this library does not do, so a caller with a
// non-ASCII passphrase must pass it NFKD-normalized (ASCII already is) or get
// a seed that differs from other wallets'. Thread-safe, reentrant; blocking
// (2048 PBKDF2 rounds, milliseconds).
// Errors: invalid_mnemonic (word count, unknown word: the message gives its
// 1-based position, not the word), mnemonic_checksum.
ADDRPOOL_EXPORT Result<Seed> mnemonic_to_seed(std::string_view words, std::string_view passphrase = {});

// Only the validation part of mnemonic_to_seed (cheap: no PBKDF2).
ADDRPOOL_EXPORT Result<void> validate_mnemonic(std::string_view words);

// Entropy (16/20/24/28/32 bytes) to its BIP39 English mnemonic.
// Errors: invalid_argument for any other length.
ADDRPOOL_EXPORT Result<std::string> entropy_to_mnemonic(std::span<const std::uint8_t> entropy);

// The 2048-word BIP39 English list, in order.
ADDRPOOL_EXPORT std::span<const std::string_view> bip39_english_wordlist() noexcept;

class ExtendedPubKey;

// A BIP32 extended private key. Holds the 32-byte secret and chain code; both
// wiped on destruction.
class ADDRPOOL_EXPORT ExtendedPrivKey {
public:
    // Master key from a seed (HMAC-SHA512 with key "Bitcoin seed").
    // Errors: invalid_seed (length outside 16..64), invalid_child (IL out of range).
    static Result<ExtendedPrivKey> from_seed(std::span<const std::uint8_t> seed, Network network);
    static Result<ExtendedPrivKey> from_seed(const Seed& seed, Network network) {
        return from_seed(seed.bytes(), network);
    }

    // Parses "xprv…" (mainnet) or "tprv…" (testnet; the key reports
    // Network::testnet). Errors, in the order they are checked: invalid_encoding
    // (non-Base58 character, payload not 78 bytes), bad_checksum,
    // unknown_version (not xprv/tprv/xpub/tpub), key_type_mismatch (a public
    // version, or a public key payload under a private version),
    // invalid_private_key (prefix not 0x00, zero, >= n), invalid_key_metadata
    // (depth 0 with a non-zero parent fingerprint or child number).
    static Result<ExtendedPrivKey> parse(std::string_view text);

    // Derives along path (relative: "m" means this key). Hardened and normal
    // components allowed. Errors: invalid_child, depth_exceeded.
    Result<ExtendedPrivKey> derive(const DerivationPath& path) const;
    Result<ExtendedPrivKey> derive_child(std::uint32_t index) const;

    ExtendedPubKey to_public() const;

    // Base58Check serialization with this key's network version bytes.
    // The result holds the secret: callers should not log it.
    std::string to_string() const;

    Network network() const noexcept { return network_; }
    std::uint8_t depth() const noexcept { return depth_; }
    std::uint32_t child_number() const noexcept { return child_number_; }
    std::uint32_t parent_fingerprint() const noexcept { return parent_fingerprint_; }
    std::uint32_t fingerprint() const;  // first 4 bytes of hash160(pubkey), big-endian
    const ChainCode& chain_code() const noexcept { return chain_code_; }
    std::span<const std::uint8_t, 32> secret() const noexcept { return std::span<const std::uint8_t, 32>(secret_); }
    PubKeyBytes public_key() const;

    // Same key material reported for another network with the same encoding
    // family, or re-labelled for a different one (e.g. a tprv used on regtest).
    ExtendedPrivKey with_network(Network n) const;

    ExtendedPrivKey(const ExtendedPrivKey&);
    ExtendedPrivKey& operator=(const ExtendedPrivKey&);
    ExtendedPrivKey(ExtendedPrivKey&&) noexcept;
    ExtendedPrivKey& operator=(ExtendedPrivKey&&) noexcept;
    ~ExtendedPrivKey();

private:
    ExtendedPrivKey() = default;
    void wipe() noexcept;
    std::array<std::uint8_t, 32> secret_{};
    ChainCode chain_code_{};
    std::uint32_t parent_fingerprint_ = 0;
    std::uint32_t child_number_ = 0;
    std::uint8_t depth_ = 0;
    Network network_ = Network::mainnet;
};

// A BIP32 extended public key.
class ADDRPOOL_EXPORT ExtendedPubKey {
public:
    // Parses "xpub…"/"tpub…". Errors as ExtendedPrivKey::parse, with
    // key_type_mismatch for a private version or private key data, and
    // invalid_public_key for a bad prefix or a point not on the curve.
    static Result<ExtendedPubKey> parse(std::string_view text);

    // Builds a key from its parts. Errors: invalid_public_key (not a
    // compressed point on the curve), invalid_key_metadata (depth 0 with a
    // non-zero parent fingerprint or child number, as parse() rejects).
    static Result<ExtendedPubKey> from_parts(const PubKeyBytes& key, const ChainCode& chain_code, Network network,
                                             std::uint8_t depth = 0, std::uint32_t parent_fingerprint = 0,
                                             std::uint32_t child_number = 0);

    // Public derivation (CKDpub). Errors: hardened_from_public (any hardened
    // component), invalid_child, depth_exceeded.
    Result<ExtendedPubKey> derive(const DerivationPath& path) const;
    Result<ExtendedPubKey> derive_child(std::uint32_t index) const;

    std::string to_string() const;

    Network network() const noexcept { return network_; }
    std::uint8_t depth() const noexcept { return depth_; }
    std::uint32_t child_number() const noexcept { return child_number_; }
    std::uint32_t parent_fingerprint() const noexcept { return parent_fingerprint_; }
    std::uint32_t fingerprint() const;
    const ChainCode& chain_code() const noexcept { return chain_code_; }
    const PubKeyBytes& public_key() const noexcept { return key_; }
    ExtendedPubKey with_network(Network n) const;

    friend bool operator==(const ExtendedPubKey&, const ExtendedPubKey&) = default;

private:
    friend class ExtendedPrivKey;
    ExtendedPubKey() = default;
    PubKeyBytes key_{};
    ChainCode chain_code_{};
    std::uint32_t parent_fingerprint_ = 0;
    std::uint32_t child_number_ = 0;
    std::uint8_t depth_ = 0;
    Network network_ = Network::mainnet;
};

// RIPEMD160(SHA256(data)) — the hash behind every P2PKH address.
ADDRPOOL_EXPORT Hash160 hash160(std::span<const std::uint8_t> data);

}  // namespace addrpool

#endif  // ADDRPOOL_KEYS_HPP
