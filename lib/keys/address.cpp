// Dash addresses: Base58Check P2PKH/P2SH and DIP-18 bech32m platform encoding.
#include <addrpool/address.hpp>

#include "keys/base58.hpp"
#include "keys/bech32.hpp"
#include "keys/crypto.hpp"

#include <algorithm>
#include <array>

namespace addrpool {
namespace {

constexpr std::uint8_t kP2pkhMain = 0x4c;  // X…
constexpr std::uint8_t kP2pkhTest = 0x8c;  // y…
constexpr std::uint8_t kP2shMain = 0x10;   // 7…
constexpr std::uint8_t kP2shTest = 0x13;   // 8…
constexpr std::string_view kHrpMain = "dash";
constexpr std::string_view kHrpTest = "tdash";
constexpr std::uint8_t kTypeP2pkh = 0xb0;  // DIP-18 type bytes
constexpr std::uint8_t kTypeP2sh = 0x80;

// Script opcodes.
constexpr std::uint8_t kOpDup = 0x76;
constexpr std::uint8_t kOpHash160 = 0xa9;
constexpr std::uint8_t kOpEqual = 0x87;
constexpr std::uint8_t kOpEqualVerify = 0x88;
constexpr std::uint8_t kOpCheckSig = 0xac;
constexpr std::uint8_t kPush20 = 0x14;

std::uint8_t version_byte(Network n, AddressKind k) noexcept {
    if (k == AddressKind::p2pkh) return is_mainnet(n) ? kP2pkhMain : kP2pkhTest;
    return is_mainnet(n) ? kP2shMain : kP2shTest;
}

Hash160 hash_from(const std::uint8_t* p) noexcept {
    Hash160 h;
    std::copy(p, p + h.size(), h.begin());
    return h;
}

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               const auto lx = (x >= 'A' && x <= 'Z') ? static_cast<char>(x - 'A' + 'a') : x;
               return lx == y;
           });
}

Result<Address> parse_platform(std::string_view text) {
    auto decoded = detail::bech32m_decode_bytes(text);
    if (!decoded) return std::move(decoded).error();
    Network network;
    if (decoded->hrp == kHrpMain) network = Network::mainnet;
    else if (decoded->hrp == kHrpTest) network = Network::testnet;
    else return make_error(Errc::unknown_version, "bech32m human-readable part is not a Dash one");

    const auto& payload = decoded->payload;
    if (payload.size() != 21)
        return make_error(Errc::invalid_encoding,
                          "platform address payload is " + std::to_string(payload.size()) + " bytes, not 21");
    AddressKind kind;
    if (payload[0] == kTypeP2pkh) kind = AddressKind::p2pkh;
    else if (payload[0] == kTypeP2sh) kind = AddressKind::p2sh;
    else return make_error(Errc::unknown_version, "platform address type byte is not a DIP-18 one");
    return Address(network, kind, hash_from(payload.data() + 1), AddressFormat::platform);
}

Result<Address> parse_base58(std::string_view text) {
    auto decoded = detail::base58check_decode(text);
    if (!decoded) return std::move(decoded).error();
    const auto& payload = *decoded;
    if (payload.size() != 21)
        return make_error(Errc::invalid_encoding,
                          "address payload is " + std::to_string(payload.size()) + " bytes, not 21");
    Network network = Network::mainnet;
    AddressKind kind = AddressKind::p2pkh;
    switch (payload[0]) {
        case kP2pkhMain: break;
        case kP2pkhTest: network = Network::testnet; break;
        case kP2shMain: kind = AddressKind::p2sh; break;
        case kP2shTest: network = Network::testnet; kind = AddressKind::p2sh; break;
        default: return make_error(Errc::unknown_version, "address version byte is not a Dash one");
    }
    return Address(network, kind, hash_from(payload.data() + 1), AddressFormat::base58check);
}

}  // namespace

Address Address::from_pubkey(Network network, std::span<const std::uint8_t, 33> pubkey, AddressFormat format) {
    return Address(network, AddressKind::p2pkh, detail::hash160(pubkey), format);
}

Result<Address> Address::parse(std::string_view text) {
    if (text.empty()) return make_error(Errc::invalid_encoding, "empty address");
    // No valid address is longer (bech32m's own limit; Base58 ones are 34).
    if (text.size() > detail::kBech32MaxLength)
        return make_error(Errc::invalid_encoding, "address longer than 90 characters");

    // A Dash HRP in any case means the text was meant as bech32m, so its
    // errors (uppercase, checksum) are the ones worth reporting.
    const std::size_t sep = text.rfind('1');
    if (sep != std::string_view::npos) {
        const std::string_view hrp = text.substr(0, sep);
        if (ascii_iequals(hrp, kHrpMain) || ascii_iequals(hrp, kHrpTest)) return parse_platform(text);
        // Well-formed bech32m under another HRP: a foreign address, not garbage.
        if (detail::bech32m_decode(text)) return parse_platform(text);
    }
    return parse_base58(text);
}

Result<Address> Address::parse(std::string_view text, Network network) {
    auto parsed = parse(text);
    if (!parsed) return parsed;
    if (!same_encoding(parsed->network(), network))
        return make_error(Errc::network_mismatch, std::string("address is for ") +
                                                      (is_mainnet(parsed->network()) ? "mainnet" : "a test network") +
                                                      ", not " + std::string(network_name(network)));
    return Address(network, parsed->kind(), parsed->hash160(), parsed->format());
}

std::string Address::to_string() const {
    if (format_ == AddressFormat::platform) {
        std::array<std::uint8_t, 21> payload{};
        payload[0] = kind_ == AddressKind::p2pkh ? kTypeP2pkh : kTypeP2sh;
        std::copy(hash_.begin(), hash_.end(), payload.begin() + 1);
        return detail::bech32m_encode_bytes(is_mainnet(network_) ? kHrpMain : kHrpTest, payload);
    }
    std::array<std::uint8_t, 21> payload{};
    payload[0] = version_byte(network_, kind_);
    std::copy(hash_.begin(), hash_.end(), payload.begin() + 1);
    return detail::base58check_encode(payload);
}

std::vector<std::uint8_t> Address::script_pubkey() const {
    std::vector<std::uint8_t> s;
    if (kind_ == AddressKind::p2pkh) {
        s.reserve(25);
        s.insert(s.end(), {kOpDup, kOpHash160, kPush20});
        s.insert(s.end(), hash_.begin(), hash_.end());
        s.insert(s.end(), {kOpEqualVerify, kOpCheckSig});
    } else {
        s.reserve(23);
        s.insert(s.end(), {kOpHash160, kPush20});
        s.insert(s.end(), hash_.begin(), hash_.end());
        s.push_back(kOpEqual);
    }
    return s;
}

Result<Address> Address::from_script(std::span<const std::uint8_t> script, Network network, AddressFormat format) {
    if (script.size() == 25 && script[0] == kOpDup && script[1] == kOpHash160 && script[2] == kPush20 &&
        script[23] == kOpEqualVerify && script[24] == kOpCheckSig)
        return Address(network, AddressKind::p2pkh, hash_from(script.data() + 3), format);
    if (script.size() == 23 && script[0] == kOpHash160 && script[1] == kPush20 && script[22] == kOpEqual)
        return Address(network, AddressKind::p2sh, hash_from(script.data() + 2), format);
    return make_error(Errc::invalid_argument, "script is neither P2PKH nor P2SH");
}

}  // namespace addrpool
