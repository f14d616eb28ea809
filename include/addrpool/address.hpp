// addrpool — Dash addresses: P2PKH / P2SH in Base58Check and DIP-18 platform
// (bech32m) encodings.
//
// An Address is a small value type (23 bytes): network, kind, format and the
// 20-byte hash. Encoding to text happens only in to_string(). All functions
// are reentrant and lock-free; none allocates except to_string() and
// script_pubkey().
#ifndef ADDRPOOL_ADDRESS_HPP
#define ADDRPOOL_ADDRESS_HPP

#include <addrpool/export.hpp>
#include <addrpool/keys.hpp>
#include <addrpool/network.hpp>
#include <addrpool/result.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace addrpool {

enum class AddressKind : std::uint8_t { p2pkh = 0, p2sh = 1 };

// How an address is written: Base58Check (X…/y…, 7…/8…) or DIP-18 bech32m
// platform encoding (dash1k…/tdash1k… for P2PKH, dash1s…/tdash1s… for P2SH).
// Either format writes either kind (AddressKind). The values are those of the
// C ABI's addrpool_address_format.
enum class AddressFormat : std::uint8_t { base58check = 0, platform = 1 };

class ADDRPOOL_EXPORT Address {
public:
    // An all-zero mainnet P2PKH address; exists so containers can hold Address.
    Address() = default;
    Address(Network network, AddressKind kind, const Hash160& hash,
            AddressFormat format = AddressFormat::base58check) noexcept
        : hash_(hash), network_(network), kind_(kind), format_(format) {}

    // P2PKH address of a compressed public key.
    static Address from_pubkey(Network network, std::span<const std::uint8_t, 33> pubkey,
                               AddressFormat format = AddressFormat::base58check);

    // Parses either encoding.
    // Base58Check: version 0x4c (P2PKH) / 0x10 (P2SH) → mainnet, 0x8c / 0x13 →
    // testnet. bech32m: HRP "dash" → mainnet, "tdash" → testnet; payload = type
    // byte 0xb0 (P2PKH) or 0x80 (P2SH) + 20-byte hash; lowercase only.
    // Errors: invalid_encoding (bad characters, mixed case, wrong length, bad
    // padding), bad_checksum (including a valid plain-bech32 checksum, which
    // DIP-18 does not allow), unknown_version (other version byte, HRP or type byte).
    static Result<Address> parse(std::string_view text);

    // As parse, and also requires the address to belong to `network`'s
    // encoding family; the result reports `network`. Error: network_mismatch.
    static Result<Address> parse(std::string_view text, Network network);

    std::string to_string() const;

    // P2PKH: OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG (25 bytes);
    // P2SH: OP_HASH160 <20> OP_EQUAL (23 bytes).
    std::vector<std::uint8_t> script_pubkey() const;

    // Recognizes the two script templates above. Errors: invalid_argument.
    static Result<Address> from_script(std::span<const std::uint8_t> script, Network network,
                                       AddressFormat format = AddressFormat::base58check);

    Network network() const noexcept { return network_; }
    AddressKind kind() const noexcept { return kind_; }
    AddressFormat format() const noexcept { return format_; }
    const Hash160& hash160() const noexcept { return hash_; }

    Address with_format(AddressFormat f) const noexcept { return Address(network_, kind_, hash_, f); }

    // Equal when hash, kind and format match and the networks share an
    // encoding (a testnet and a regtest address with the same hash are the
    // same string, hence equal).
    friend bool operator==(const Address& a, const Address& b) noexcept {
        return a.hash_ == b.hash_ && a.kind_ == b.kind_ && a.format_ == b.format_ &&
               same_encoding(a.network_, b.network_);
    }

private:
    Hash160 hash_{};
    Network network_ = Network::mainnet;
    AddressKind kind_ = AddressKind::p2pkh;
    AddressFormat format_ = AddressFormat::base58check;
};

}  // namespace addrpool

#endif  // ADDRPOOL_ADDRESS_HPP
