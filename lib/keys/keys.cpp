// DerivationPath, ExtendedPrivKey and ExtendedPubKey (BIP32). The derivation
// arithmetic lives in derive.cpp, shared with the address pool.
#include <addrpool/keys.hpp>

#include "keys/base58.hpp"
#include "keys/crypto.hpp"
#include "keys/derive.hpp"

#include <cstring>
#include <utility>

namespace addrpool {
namespace {

constexpr std::uint32_t kVersionXprv = 0x0488ADE4;
constexpr std::uint32_t kVersionXpub = 0x0488B21E;
constexpr std::uint32_t kVersionTprv = 0x04358394;
constexpr std::uint32_t kVersionTpub = 0x043587CF;

constexpr std::size_t kPayloadSize = 78;
constexpr std::size_t kMaxPathComponents = 255;

std::uint32_t version_for(Network n, bool is_private) noexcept {
    if (is_mainnet(n)) return is_private ? kVersionXprv : kVersionXpub;
    return is_private ? kVersionTprv : kVersionTpub;
}

// A decoded 78-byte payload, wiped on every exit since it may hold a secret.
struct Payload {
    std::array<std::uint8_t, kPayloadSize> bytes{};
    Payload() = default;
    Payload(const Payload&) = delete;
    Payload& operator=(const Payload&) = delete;
    ~Payload() { detail::cleanse(bytes.data(), bytes.size()); }

    std::uint32_t version() const noexcept { return detail::get_be32(&bytes[0]); }
    std::uint8_t depth() const noexcept { return bytes[4]; }
    std::uint32_t parent_fingerprint() const noexcept { return detail::get_be32(&bytes[5]); }
    std::uint32_t child_number() const noexcept { return detail::get_be32(&bytes[9]); }
    const std::uint8_t* chain_code() const noexcept { return &bytes[13]; }
    const std::uint8_t* key() const noexcept { return &bytes[45]; }  // 33 bytes
};

struct Header {
    Network network;
    bool is_private;
};

// The steps common to both parsers: Base58Check, length, version. The
// messages are our own so that no decoder message can echo key text.
Result<Header> decode_payload(std::string_view text, Payload& out) {
    auto decoded = detail::base58check_decode(text);
    if (!decoded) {
        if (decoded.error().code == Errc::bad_checksum) {
            return make_error(Errc::bad_checksum, "extended key checksum does not match");
        }
        return make_error(Errc::invalid_encoding, "extended key is not valid Base58");
    }
    std::vector<std::uint8_t>& bytes = *decoded;
    const bool right_size = bytes.size() == kPayloadSize;
    if (right_size) std::memcpy(out.bytes.data(), bytes.data(), kPayloadSize);
    detail::cleanse(bytes.data(), bytes.size());
    if (!right_size) return make_error(Errc::invalid_encoding, "extended key payload is not 78 bytes");

    switch (out.version()) {
        case kVersionXprv: return Header{Network::mainnet, true};
        case kVersionXpub: return Header{Network::mainnet, false};
        case kVersionTprv: return Header{Network::testnet, true};
        case kVersionTpub: return Header{Network::testnet, false};
        default: return make_error(Errc::unknown_version, "extended key version is not xprv, xpub, tprv or tpub");
    }
}

Result<void> check_metadata(const Payload& p) {
    if (p.depth() == 0 && p.parent_fingerprint() != 0) {
        return make_error(Errc::invalid_key_metadata, "depth 0 key with a non-zero parent fingerprint");
    }
    if (p.depth() == 0 && p.child_number() != 0) {
        return make_error(Errc::invalid_key_metadata, "depth 0 key with a non-zero child number");
    }
    return {};
}

void serialize_header(std::array<std::uint8_t, kPayloadSize>& out, std::uint32_t version, std::uint8_t depth,
                      std::uint32_t parent_fingerprint, std::uint32_t child_number, const ChainCode& chain_code) {
    detail::put_be32(&out[0], version);
    out[4] = depth;
    detail::put_be32(&out[5], parent_fingerprint);
    detail::put_be32(&out[9], child_number);
    std::memcpy(&out[13], chain_code.data(), chain_code.size());
}

std::uint32_t fingerprint_of(const PubKeyBytes& key) {
    const Hash160 h = detail::hash160(key);
    return detail::get_be32(h.data());
}

Error depth_error() { return make_error(Errc::depth_exceeded, "derived key would be deeper than 255"); }

}  // namespace

// ---------------------------------------------------------------- DerivationPath

Result<DerivationPath> DerivationPath::parse(std::string_view text) {
    if (text.empty() || text[0] != 'm') return make_error(Errc::invalid_path, "path does not start with 'm'");
    std::vector<std::uint32_t> components;
    std::size_t pos = 1;
    while (pos < text.size()) {
        const std::size_t number = components.size() + 1;  // 1-based, for messages
        if (text[pos] != '/') {
            return make_error(Errc::invalid_path, "expected '/' before component " + std::to_string(number));
        }
        ++pos;
        std::uint64_t value = 0;
        std::size_t digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            value = value * 10 + static_cast<std::uint64_t>(text[pos] - '0');
            // Stop early so that a long digit run cannot overflow value.
            if (value >= hardened_bit) {
                return make_error(Errc::invalid_path, "component " + std::to_string(number) + " is 2^31 or more");
            }
            ++digits;
            ++pos;
        }
        if (digits == 0) {
            return make_error(Errc::invalid_path, "component " + std::to_string(number) + " is not a decimal index");
        }
        auto index = static_cast<std::uint32_t>(value);
        if (pos < text.size() && (text[pos] == '\'' || text[pos] == 'h' || text[pos] == 'H')) {
            index |= hardened_bit;
            ++pos;
        }
        if (pos < text.size() && text[pos] != '/') {
            return make_error(Errc::invalid_path, "component " + std::to_string(number) + " has trailing characters");
        }
        if (components.size() == kMaxPathComponents) {
            return make_error(Errc::invalid_path, "path has more than 255 components");
        }
        components.push_back(index);
    }
    return DerivationPath(std::move(components));
}

std::string DerivationPath::to_string() const {
    std::string out = "m";
    for (const std::uint32_t c : components_) {
        out += '/';
        out += std::to_string(c & ~hardened_bit);
        if ((c & hardened_bit) != 0) out += '\'';
    }
    return out;
}

DerivationPath DerivationPath::child(std::uint32_t index) const {
    DerivationPath out = *this;
    out.components_.push_back(index);
    return out;
}

// ---------------------------------------------------------------- ExtendedPrivKey

Result<ExtendedPrivKey> ExtendedPrivKey::from_seed(std::span<const std::uint8_t> seed, Network network) {
    if (seed.size() < 16 || seed.size() > 64) {
        return make_error(Errc::invalid_seed, "seed length is outside 16..64 bytes");
    }
    static constexpr char kSeedHmacKey[] = "Bitcoin seed";
    const std::span<const std::uint8_t> key(reinterpret_cast<const std::uint8_t*>(kSeedHmacKey), sizeof(kSeedHmacKey) - 1);
    detail::Bytes64 i = detail::hmac_sha512(key, seed);
    ExtendedPrivKey out;
    std::memcpy(out.secret_.data(), i.data(), 32);
    std::memcpy(out.chain_code_.data(), i.data() + 32, 32);
    detail::cleanse(i.data(), i.size());
    out.network_ = network;
    if (!detail::public_key_of(out.secret_)) {
        return make_error(Errc::invalid_child, "seed gives an invalid master key");
    }
    return out;
}

Result<ExtendedPrivKey> ExtendedPrivKey::parse(std::string_view text) {
    Payload p;
    auto header = decode_payload(text, p);
    if (!header) return std::move(header).error();
    if (!header->is_private) {
        return make_error(Errc::key_type_mismatch, "public extended key where a private one is required");
    }
    const std::uint8_t prefix = p.key()[0];
    if (prefix == 0x02 || prefix == 0x03) {
        return make_error(Errc::key_type_mismatch, "private version with public key data");
    }
    if (prefix != 0x00) return make_error(Errc::invalid_private_key, "private key data does not start with 0x00");
    if (!detail::public_key_of(std::span<const std::uint8_t, 32>(p.key() + 1, 32))) {
        return make_error(Errc::invalid_private_key, "private key is zero or not below the group order");
    }
    if (auto meta = check_metadata(p); !meta) return std::move(meta).error();

    ExtendedPrivKey out;
    out.network_ = header->network;
    out.depth_ = p.depth();
    out.parent_fingerprint_ = p.parent_fingerprint();
    out.child_number_ = p.child_number();
    std::memcpy(out.chain_code_.data(), p.chain_code(), 32);
    std::memcpy(out.secret_.data(), p.key() + 1, 32);
    return out;
}

Result<ExtendedPrivKey> ExtendedPrivKey::derive(const DerivationPath& path) const {
    if (depth_ + path.size() > 255) return depth_error();
    ExtendedPrivKey key = *this;
    for (const std::uint32_t index : path.components()) {
        auto next = key.derive_child(index);
        if (!next) return std::move(next).error();
        key = std::move(*next);
    }
    return key;
}

Result<ExtendedPrivKey> ExtendedPrivKey::derive_child(std::uint32_t index) const {
    if (depth_ == 255) return depth_error();
    detail::PrivChainKey parent;
    parent.secret = secret_;
    parent.chain_code = chain_code_;
    auto child = detail::ckd_priv(parent, index);
    if (!child) return std::move(child).error();

    ExtendedPrivKey out;
    out.secret_ = child->secret;
    out.chain_code_ = child->chain_code;
    out.network_ = network_;
    out.depth_ = static_cast<std::uint8_t>(depth_ + 1);
    out.parent_fingerprint_ = fingerprint();
    out.child_number_ = index;
    return out;
}

ExtendedPubKey ExtendedPrivKey::to_public() const {
    ExtendedPubKey out;
    out.key_ = public_key();
    out.chain_code_ = chain_code_;
    out.parent_fingerprint_ = parent_fingerprint_;
    out.child_number_ = child_number_;
    out.depth_ = depth_;
    out.network_ = network_;
    return out;
}

std::string ExtendedPrivKey::to_string() const {
    std::array<std::uint8_t, kPayloadSize> bytes{};
    serialize_header(bytes, version_for(network_, true), depth_, parent_fingerprint_, child_number_, chain_code_);
    bytes[45] = 0x00;
    std::memcpy(&bytes[46], secret_.data(), 32);
    std::string out = detail::base58check_encode(bytes);
    detail::cleanse(bytes.data(), bytes.size());
    return out;
}

std::uint32_t ExtendedPrivKey::fingerprint() const { return fingerprint_of(public_key()); }

PubKeyBytes ExtendedPrivKey::public_key() const {
    // Every constructor checks the secret, so this cannot fail.
    auto key = detail::public_key_of(secret_);
    return key ? *key : PubKeyBytes{};
}

ExtendedPrivKey ExtendedPrivKey::with_network(Network n) const {
    ExtendedPrivKey out = *this;
    out.network_ = n;
    return out;
}

ExtendedPrivKey::ExtendedPrivKey(const ExtendedPrivKey& o)
    : secret_(o.secret_), chain_code_(o.chain_code_), parent_fingerprint_(o.parent_fingerprint_),
      child_number_(o.child_number_), depth_(o.depth_), network_(o.network_) {}

ExtendedPrivKey& ExtendedPrivKey::operator=(const ExtendedPrivKey& o) {
    if (this != &o) {
        secret_ = o.secret_;
        chain_code_ = o.chain_code_;
        parent_fingerprint_ = o.parent_fingerprint_;
        child_number_ = o.child_number_;
        depth_ = o.depth_;
        network_ = o.network_;
    }
    return *this;
}

ExtendedPrivKey::ExtendedPrivKey(ExtendedPrivKey&& o) noexcept : ExtendedPrivKey(std::as_const(o)) { o.wipe(); }

ExtendedPrivKey& ExtendedPrivKey::operator=(ExtendedPrivKey&& o) noexcept {
    if (this != &o) {
        *this = std::as_const(o);
        o.wipe();
    }
    return *this;
}

ExtendedPrivKey::~ExtendedPrivKey() { wipe(); }

void ExtendedPrivKey::wipe() noexcept {
    detail::cleanse(secret_.data(), secret_.size());
    detail::cleanse(chain_code_.data(), chain_code_.size());
}

// ---------------------------------------------------------------- ExtendedPubKey

Result<ExtendedPubKey> ExtendedPubKey::parse(std::string_view text) {
    Payload p;
    auto header = decode_payload(text, p);
    if (!header) return std::move(header).error();
    if (header->is_private) {
        return make_error(Errc::key_type_mismatch, "private extended key where a public one is required");
    }
    if (p.key()[0] == 0x00) return make_error(Errc::key_type_mismatch, "public version with private key data");
    PubKeyBytes key{};
    std::memcpy(key.data(), p.key(), key.size());
    ChainCode chain_code{};
    std::memcpy(chain_code.data(), p.chain_code(), chain_code.size());
    auto parsed = detail::make_chain_key(key, chain_code);
    if (!parsed) return std::move(parsed).error();
    if (auto meta = check_metadata(p); !meta) return std::move(meta).error();

    ExtendedPubKey out;
    out.key_ = key;
    out.chain_code_ = chain_code;
    out.network_ = header->network;
    out.depth_ = p.depth();
    out.parent_fingerprint_ = p.parent_fingerprint();
    out.child_number_ = p.child_number();
    return out;
}

Result<ExtendedPubKey> ExtendedPubKey::from_parts(const PubKeyBytes& key, const ChainCode& chain_code,
                                                  Network network, std::uint8_t depth,
                                                  std::uint32_t parent_fingerprint, std::uint32_t child_number) {
    auto parsed = detail::make_chain_key(key, chain_code);
    if (!parsed) return std::move(parsed).error();
    // The same rule parse() applies, so every key has a valid serialization.
    if (depth == 0 && parent_fingerprint != 0) {
        return make_error(Errc::invalid_key_metadata, "depth 0 key with a non-zero parent fingerprint");
    }
    if (depth == 0 && child_number != 0) {
        return make_error(Errc::invalid_key_metadata, "depth 0 key with a non-zero child number");
    }
    ExtendedPubKey out;
    out.key_ = key;
    out.chain_code_ = chain_code;
    out.network_ = network;
    out.depth_ = depth;
    out.parent_fingerprint_ = parent_fingerprint;
    out.child_number_ = child_number;
    return out;
}

Result<ExtendedPubKey> ExtendedPubKey::derive(const DerivationPath& path) const {
    for (const std::uint32_t index : path.components()) {
        if (index >= hardened_bit) {
            return make_error(Errc::hardened_from_public, "a hardened child cannot be derived from a public key");
        }
    }
    if (depth_ + path.size() > 255) return depth_error();
    ExtendedPubKey key = *this;
    for (const std::uint32_t index : path.components()) {
        auto next = key.derive_child(index);
        if (!next) return std::move(next).error();
        key = *next;
    }
    return key;
}

Result<ExtendedPubKey> ExtendedPubKey::derive_child(std::uint32_t index) const {
    if (index >= hardened_bit) {
        return make_error(Errc::hardened_from_public, "a hardened child cannot be derived from a public key");
    }
    if (depth_ == 255) return depth_error();
    auto parent = detail::make_chain_key(key_, chain_code_);
    if (!parent) return std::move(parent).error();
    auto child = detail::ckd_pub(*parent, index);
    if (!child) return std::move(child).error();
    ExtendedPubKey out;
    out.key_ = child->key;
    out.chain_code_ = child->chain_code;
    out.network_ = network_;
    out.depth_ = static_cast<std::uint8_t>(depth_ + 1);
    out.parent_fingerprint_ = fingerprint();
    out.child_number_ = index;
    return out;
}

std::string ExtendedPubKey::to_string() const {
    std::array<std::uint8_t, kPayloadSize> bytes{};
    serialize_header(bytes, version_for(network_, false), depth_, parent_fingerprint_, child_number_, chain_code_);
    std::memcpy(&bytes[45], key_.data(), key_.size());
    return detail::base58check_encode(bytes);
}

std::uint32_t ExtendedPubKey::fingerprint() const { return fingerprint_of(key_); }

ExtendedPubKey ExtendedPubKey::with_network(Network n) const {
    ExtendedPubKey out = *this;
    out.network_ = n;
    return out;
}

}  // namespace addrpool
