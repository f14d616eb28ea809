// Dash addresses: Base58Check P2PKH / P2SH, DIP-18 platform (bech32m),
// scripts, and the exact error for each kind of bad input.
#include <catch2/catch.hpp>

#include "keys/base58.hpp"
#include "keys/bech32.hpp"
#include "json.hpp"

#include <addrpool/address.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

using namespace addrpool;
using testjson::hex;
using testjson::unhex;

namespace {

const testjson::Value& dash_vectors() {
    static const testjson::Value v = testjson::Value::parse_file(testjson::data_path("dash_bip44.json"));
    return v;
}

Hash160 to_hash(const std::string& h) {
    const auto b = unhex(h);
    REQUIRE(b.size() == 20);
    Hash160 out{};
    std::copy(b.begin(), b.end(), out.begin());
    return out;
}

Network network_of(const std::string& name) { return name == "mainnet" ? Network::mainnet : Network::testnet; }

std::vector<std::uint8_t> payload(std::uint8_t first, const Hash160& h, std::size_t hash_len = 20) {
    std::vector<std::uint8_t> p(1 + hash_len, 0);
    p[0] = first;
    std::copy(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(hash_len, 20)), p.begin() + 1);
    return p;
}

// Replaces the bech32m checksum of `text` by the plain bech32 (BIP173) one.
// Both checksums are polymod(...) XOR the constant, so they differ by exactly
// 0x2bc830a3 ^ 1 spread over the six checksum characters.
std::string with_bech32_checksum(const std::string& text) {
    static const std::string charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    const std::uint32_t diff = 0x2bc830a3u ^ 1u;
    std::string out = text;
    for (std::size_t i = 0; i < 6; ++i) {
        char& c = out[out.size() - 6 + i];
        const auto v = static_cast<std::uint32_t>(charset.find(c));
        c = charset[(v ^ (diff >> (5 * (5 - i)))) & 31];
    }
    return out;
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// Every P2PKH address listed in dash_bip44.json with its hash160 and pubkey.
struct Listed {
    Network network;
    std::string hash160_hex, pubkey_hex, address;
};

std::vector<Listed> listed_addresses() {
    std::vector<Listed> out;
    for (const auto& wallet : dash_vectors()["wallets"].array())
        for (const auto& [net_name, net] : wallet["networks"].object())
            for (const auto& account : net["accounts"].array())
                for (const char* chain : {"external_chain", "internal_chain"}) {
                    if (!account.has(chain)) continue;  // second accounts list external addresses only
                    for (const auto& a : account[chain]["addresses"].array())
                        out.push_back({network_of(net_name), a["hash160_hex"].str(), a["pubkey_hex"].str(),
                                       a["address"].str()});
                }
    return out;
}

}  // namespace

TEST_CASE("every P2PKH address in dash_bip44.json is the Base58Check encoding of its hash160 and parses back",
          "[address]") {
    const auto listed = listed_addresses();
    REQUIRE(listed.size() == 140);
    for (const auto& l : listed) {
        INFO(l.address);
        const Address a(l.network, AddressKind::p2pkh, to_hash(l.hash160_hex));
        CHECK(a.to_string() == l.address);
        CHECK(l.address[0] == (is_mainnet(l.network) ? 'X' : 'y'));

        auto parsed = Address::parse(l.address);
        REQUIRE(parsed);
        CHECK(parsed->network() == l.network);
        CHECK(parsed->kind() == AddressKind::p2pkh);
        CHECK(parsed->format() == AddressFormat::base58check);
        CHECK(hex(parsed->hash160()) == l.hash160_hex);
        CHECK(*parsed == a);
    }
}

TEST_CASE("from_pubkey gives the listed address for every public key in dash_bip44.json", "[address]") {
    for (const auto& l : listed_addresses()) {
        INFO(l.address);
        const auto pub = unhex(l.pubkey_hex);
        REQUIRE(pub.size() == 33);
        CHECK(hex(hash160(pub)) == l.hash160_hex);
        const Address a = Address::from_pubkey(l.network, std::span<const std::uint8_t, 33>(pub.data(), 33));
        CHECK(a.to_string() == l.address);
        CHECK(a.kind() == AddressKind::p2pkh);
    }
}

TEST_CASE("from_pubkey with the platform format gives the DIP-18 address of each DIP-17 key", "[address][dip18]") {
    std::size_t checked = 0;
    for (const auto& wallet : dash_vectors()["wallets"].array())
        for (const auto& [net_name, net] : wallet["networks"].object()) {
            if (!net.has("platform_dip17")) continue;
            for (const auto& k : net["platform_dip17"]["keys"].array()) {
                const auto pub = unhex(k["pubkey_hex"].str());
                REQUIRE(pub.size() == 33);
                const std::span<const std::uint8_t, 33> span(pub.data(), 33);
                const Network n = network_of(net_name);
                INFO(k["platform_address_dip18"].str());
                CHECK(Address::from_pubkey(n, span, AddressFormat::platform).to_string() ==
                      k["platform_address_dip18"].str());
                CHECK(Address::from_pubkey(n, span).to_string() == k["p2pkh_encoding_not_a_platform_address"].str());
                auto parsed = Address::parse(k["platform_address_dip18"].str(), n);
                REQUIRE(parsed);
                CHECK(hex(parsed->hash160()) == k["hash160_hex"].str());
                CHECK(parsed->format() == AddressFormat::platform);
                ++checked;
            }
        }
    CHECK(checked >= 20);
}

TEST_CASE("the DIP-18 reference vectors encode and parse on both networks", "[address][dip18]") {
    const auto& ref = dash_vectors()["dip17_dip18_reference_vectors"];
    struct Case {
        const char* key;
        AddressKind kind;
        char letter;
    };
    std::size_t checked = 0;
    for (const Case c : {Case{"dip18_p2pkh", AddressKind::p2pkh, 'k'}, Case{"dip18_p2sh", AddressKind::p2sh, 's'}}) {
        for (const auto& v : ref[c.key].array()) {
            const Hash160 h = to_hash(v["hash160_hex"].str());
            for (const Network n : {Network::mainnet, Network::testnet}) {
                const std::string expected = v[is_mainnet(n) ? "mainnet" : "testnet"].str();
                INFO(expected);
                const Address a(n, c.kind, h, AddressFormat::platform);
                CHECK(a.to_string() == expected);
                CHECK(expected.substr(0, is_mainnet(n) ? 6 : 7) ==
                      std::string(is_mainnet(n) ? "dash1" : "tdash1") + c.letter);

                auto parsed = Address::parse(expected);
                REQUIRE(parsed);
                CHECK(parsed->network() == n);
                CHECK(parsed->kind() == c.kind);
                CHECK(parsed->format() == AddressFormat::platform);
                CHECK(parsed->hash160() == h);
                CHECK(*parsed == a);
                CHECK(parsed->to_string() == expected);
                ++checked;
            }
        }
    }
    CHECK(checked == 8);
}

TEST_CASE("P2SH addresses use version 0x10 on mainnet and 0x13 on the test networks", "[address]") {
    const Hash160 h = to_hash("43fa183cf3fb6e9e7dc62b692aeb4fc8d8045636");
    const Address main(Network::mainnet, AddressKind::p2sh, h);
    const Address test(Network::testnet, AddressKind::p2sh, h);
    CHECK(main.to_string() == detail::base58check_encode(payload(0x10, h)));
    CHECK(test.to_string() == detail::base58check_encode(payload(0x13, h)));
    CHECK(main.to_string()[0] == '7');
    CHECK(test.to_string()[0] == '8');
    for (const Address& a : {main, test}) {
        auto parsed = Address::parse(a.to_string());
        REQUIRE(parsed);
        CHECK(parsed->kind() == AddressKind::p2sh);
        CHECK(*parsed == a);
    }
}

TEST_CASE("script_pubkey writes the P2PKH and P2SH templates and from_script reads them back", "[address][script]") {
    const Hash160 h = to_hash("8a4f58c222cd5544c527bc66925652baa70b5e80");
    const Address p2pkh(Network::mainnet, AddressKind::p2pkh, h);
    const Address p2sh(Network::testnet, AddressKind::p2sh, h, AddressFormat::platform);
    CHECK(hex(p2pkh.script_pubkey()) == "76a914" + hex(h) + "88ac");
    CHECK(hex(p2sh.script_pubkey()) == "a914" + hex(h) + "87");

    for (const Address& a : {p2pkh, p2sh}) {
        auto back = Address::from_script(a.script_pubkey(), a.network(), a.format());
        REQUIRE(back);
        CHECK(*back == a);
        CHECK(back->network() == a.network());
    }
}

TEST_CASE("from_script rejects anything but the two templates as invalid_argument", "[address][script]") {
    const Hash160 h = to_hash("8a4f58c222cd5544c527bc66925652baa70b5e80");
    const auto good = Address(Network::mainnet, AddressKind::p2pkh, h).script_pubkey();
    std::vector<std::vector<std::uint8_t>> bad = {{}, {0x76}, std::vector<std::uint8_t>(good.begin(), good.end() - 1)};
    for (std::size_t i : {0u, 1u, 2u, 23u, 24u}) {
        auto s = good;
        s[i] ^= 0xff;
        bad.push_back(s);
    }
    auto longer = good;
    longer.push_back(0x00);
    bad.push_back(longer);
    auto p2sh = Address(Network::mainnet, AddressKind::p2sh, h).script_pubkey();
    p2sh.back() = 0x88;  // OP_EQUALVERIFY instead of OP_EQUAL
    bad.push_back(p2sh);
    for (const auto& s : bad) {
        INFO(hex(s));
        auto r = Address::from_script(s, Network::mainnet);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
    }
}

TEST_CASE("parse with a network accepts its encoding family and reports that network", "[address]") {
    const Hash160 h = to_hash("3a2d4145a4f098523b3e8127f1da87cfc55b8e79");
    const std::string y = Address(Network::testnet, AddressKind::p2pkh, h).to_string();
    CHECK(y == "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt");
    for (const Network n : {Network::testnet, Network::devnet, Network::regtest}) {
        auto r = Address::parse(y, n);
        REQUIRE(r);
        CHECK(r->network() == n);
    }
    const std::string platform = Address(Network::regtest, AddressKind::p2pkh, h, AddressFormat::platform).to_string();
    CHECK(platform.rfind("tdash1k", 0) == 0);
    auto r = Address::parse(platform, Network::devnet);
    REQUIRE(r);
    CHECK(r->network() == Network::devnet);
    // Testnet and regtest addresses with one hash are the same string, hence equal.
    CHECK(Address(Network::testnet, AddressKind::p2pkh, h) == Address(Network::regtest, AddressKind::p2pkh, h));
    CHECK_FALSE(Address(Network::mainnet, AddressKind::p2pkh, h) == Address(Network::testnet, AddressKind::p2pkh, h));
}

TEST_CASE("a bech32m address with one character changed is rejected as bad_checksum", "[address][dip18]") {
    const std::string good = "dash1krma5z3ttj75la4m93xcndna9ullamq9y5e9n5rs";
    for (std::size_t i = 5; i < good.size(); ++i) {
        std::string bad = good;
        bad[i] = bad[i] == 'q' ? 'p' : 'q';
        INFO(bad);
        auto r = Address::parse(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::bad_checksum);
    }
}

TEST_CASE("each kind of bad address input is rejected with its own error code", "[address][errors]") {
    const Hash160 h = to_hash("f7da0a2b5cbd4ff6bb2c4d89b67d2f3ffeec0525");
    const std::string x = "XyHMwJRVW9h3pori7cQjyaFR7aJiQhapKX";  // valid, mainnet P2PKH
    const std::string y = "yZjeGEm8Hc34iD8gVP7HDNWtHj2PJQ4QtL";  // valid, testnet P2PKH
    const std::string dash = "dash1krma5z3ttj75la4m93xcndna9ullamq9y5e9n5rs";
    const std::string tdash = "tdash1krma5z3ttj75la4m93xcndna9ullamq9y5fzq2j7";
    // The helper turns BIP350's "a" vector into BIP173's.
    REQUIRE(with_bech32_checksum("a1lqfn3a") == "a12uel5l");
    REQUIRE(Address::parse(x));
    REQUIRE(Address::parse(y));
    REQUIRE(Address::parse(dash));
    REQUIRE(Address::parse(tdash));

    auto replace = [](std::string s, std::size_t i, char c) {
        s[i] = c;
        return s;
    };
    std::string last_changed = x;
    last_changed.back() = last_changed.back() == 'z' ? 'y' : 'z';
    std::string mixed = dash;
    mixed[10] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[10])));
    std::string bad_padding;
    {
        std::vector<std::uint8_t> five;
        REQUIRE(detail::convert_bits(payload(0xb0, h), 8, 5, true, five));
        five.back() |= 1;
        bad_padding = detail::bech32m_encode("dash", five);
    }
    std::string too_long = detail::bech32m_encode_bytes("dash", std::vector<std::uint8_t>(60, 0xb0));

    struct Bad {
        const char* what;
        std::string text;
        Errc expected;
    };
    const std::vector<Bad> table = {
        {"empty", "", Errc::invalid_encoding},
        {"a megabyte of Base58", std::string(1 << 20, 'z'), Errc::invalid_encoding},
        {"Base58: '0' is not in the alphabet", replace(x, 5, '0'), Errc::invalid_encoding},
        {"Base58: 'l' is not in the alphabet", replace(x, 5, 'l'), Errc::invalid_encoding},
        {"Base58: a space", x + " ", Errc::invalid_encoding},
        {"Base58Check: last character changed", last_changed, Errc::bad_checksum},
        {"Base58Check: Bitcoin P2PKH version 0x00", detail::base58check_encode(payload(0x00, h)), Errc::unknown_version},
        {"Base58Check: Bitcoin P2SH version 0x05", detail::base58check_encode(payload(0x05, h)), Errc::unknown_version},
        {"Base58Check: Bitcoin testnet version 0x6f", detail::base58check_encode(payload(0x6f, h)),
         Errc::unknown_version},
        {"Base58Check: 19-byte hash", detail::base58check_encode(payload(0x4c, h, 19)), Errc::invalid_encoding},
        {"Base58Check: 21-byte hash", detail::base58check_encode(payload(0x4c, h, 21)), Errc::invalid_encoding},
        {"Base58Check: version byte only", detail::base58check_encode(std::vector<std::uint8_t>{0x4c}),
         Errc::invalid_encoding},
        {"bech32m: mixed case", mixed, Errc::invalid_encoding},
        {"bech32m: all uppercase", upper(dash), Errc::invalid_encoding},
        {"bech32m: all uppercase testnet", upper(tdash), Errc::invalid_encoding},
        {"bech32m: plain bech32 checksum", with_bech32_checksum(dash), Errc::bad_checksum},
        {"bech32m: plain bech32 checksum testnet", with_bech32_checksum(tdash), Errc::bad_checksum},
        {"bech32m: 'b' in the data part", replace(dash, 8, 'b'), Errc::invalid_encoding},
        {"bech32m: non-zero padding", bad_padding, Errc::invalid_encoding},
        {"bech32m: longer than 90", too_long, Errc::invalid_encoding},
        {"bech32m: HRP 'xdash'", detail::bech32m_encode_bytes("xdash", payload(0xb0, h)), Errc::unknown_version},
        {"bech32m: HRP 'bc'", detail::bech32m_encode_bytes("bc", payload(0xb0, h)), Errc::unknown_version},
        {"bech32m: type byte 0x00", detail::bech32m_encode_bytes("dash", payload(0x00, h)), Errc::unknown_version},
        {"bech32m: type byte 0xb1", detail::bech32m_encode_bytes("tdash", payload(0xb1, h)), Errc::unknown_version},
        {"bech32m: hash only, no type byte", detail::bech32m_encode_bytes("dash", h), Errc::invalid_encoding},
        {"bech32m: 19-byte hash", detail::bech32m_encode_bytes("dash", payload(0xb0, h, 19)), Errc::invalid_encoding},
        {"bech32m: 21-byte hash", detail::bech32m_encode_bytes("dash", payload(0xb0, h, 21)), Errc::invalid_encoding},
        {"bech32m: empty data", detail::bech32m_encode("dash", std::vector<std::uint8_t>{}), Errc::invalid_encoding},
    };
    REQUIRE(too_long.size() > 90);
    for (const auto& b : table) {
        INFO(b.what << ": '" << b.text << "'");
        auto r = Address::parse(b.text);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == b.expected);
        CHECK_FALSE(r.error().message.empty());
        // The network-checking overload reports the same problem.
        auto rn = Address::parse(b.text, Network::mainnet);
        REQUIRE_FALSE(rn);
        CHECK(rn.error().code == b.expected);
    }
}

TEST_CASE("parse with the wrong network family is network_mismatch", "[address][errors]") {
    const std::string x = "XyHMwJRVW9h3pori7cQjyaFR7aJiQhapKX";
    const std::string y = "yZjeGEm8Hc34iD8gVP7HDNWtHj2PJQ4QtL";
    const std::string dash = "dash1krma5z3ttj75la4m93xcndna9ullamq9y5e9n5rs";
    const std::string tdash_p2sh = "tdash1sppl5xpu70aka8nacc4kj2htflydspzkxc8jtru5";
    struct Case {
        std::string text;
        Network network;
    };
    for (const auto& c : {Case{x, Network::testnet}, Case{x, Network::regtest}, Case{x, Network::devnet},
                          Case{y, Network::mainnet}, Case{dash, Network::testnet}, Case{tdash_p2sh, Network::mainnet}}) {
        INFO(c.text << " on " << network_name(c.network));
        auto r = Address::parse(c.text, c.network);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::network_mismatch);
    }
}

TEST_CASE("a default Address is the all-zero mainnet P2PKH address", "[address]") {
    const Address a;
    CHECK(a.network() == Network::mainnet);
    CHECK(a.kind() == AddressKind::p2pkh);
    CHECK(a.format() == AddressFormat::base58check);
    CHECK(a.hash160() == Hash160{});
    auto parsed = Address::parse(a.to_string());
    REQUIRE(parsed);
    CHECK(*parsed == a);
    CHECK(a.with_format(AddressFormat::platform).to_string().rfind("dash1k", 0) == 0);
}
