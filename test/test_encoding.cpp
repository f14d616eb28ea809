// Base58 / Base58Check / bech32m (white box, through lib/*.hpp) and the names
// of error codes and networks.
#include <catch2/catch.hpp>

#include "keys/base58.hpp"
#include "keys/bech32.hpp"
#include "keys/crypto.hpp"
#include "json.hpp"
#include "test_support.hpp"

#include <addrpool/network.hpp>
#include <addrpool/result.hpp>

#include <random>
#include <set>
#include <thread>
#include <string>
#include <vector>

using namespace addrpool;
using testjson::hex;
using testjson::unhex;

namespace {

// From Bitcoin Core's src/test/data/base58_encode_decode.json.
const std::vector<std::pair<std::string, std::string>> kBase58Vectors = {
    {"", ""},
    {"61", "2g"},
    {"626262", "a3gV"},
    {"636363", "aPEr"},
    {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
    {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
    {"516b6fcd0f", "ABnLTmg"},
    {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
    {"572e4794", "3EFU7m"},
    {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
    {"10c8511e", "Rt5zm"},
    {"00000000000000000000", "1111111111"},
};

// BIP350 valid bech32m strings that are lowercase (DIP-18 rejects uppercase).
const std::vector<std::string> kBip350Valid = {
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
};

}  // namespace

TEST_CASE("Base58 encodes and decodes the Bitcoin Core vectors", "[encoding][base58]") {
    for (const auto& [h, text] : kBase58Vectors) {
        INFO(h);
        const auto bytes = unhex(h);
        CHECK(detail::base58_encode(bytes) == text);
        if (text.empty()) continue;  // empty text is rejected by decode
        auto decoded = detail::base58_decode(text);
        REQUIRE(decoded);
        CHECK(hex(*decoded) == h);
    }
}

namespace {

// Base58 by its definition: the big-endian number divided by 58 until it is
// zero, one digit per division, then a '1' per leading zero byte. The
// library encodes five digits at a time.
std::string base58_by_definition(std::vector<std::uint8_t> n) {
    static constexpr char kAlphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    std::size_t zeros = 0;
    while (zeros < n.size() && n[zeros] == 0) ++zeros;
    std::string reversed;
    for (;;) {
        bool nonzero = false;
        unsigned rem = 0;
        for (std::uint8_t& b : n) {
            const unsigned cur = rem * 256 + b;
            b = static_cast<std::uint8_t>(cur / 58);
            rem = cur % 58;
            nonzero = nonzero || b != 0;
        }
        if (!nonzero && rem == 0) break;
        reversed.push_back(kAlphabet[rem]);
        if (!nonzero) break;
    }
    return std::string(zeros, '1') + std::string(reversed.rbegin(), reversed.rend());
}

}  // namespace

TEST_CASE("Base58 encoding agrees with the definition at every length, and decodes back", "[encoding][base58]") {
    std::mt19937_64 rng(addrpool_test::test_seed("base58 against its definition"));
    // Up to 300 bytes: past the encoder's on-stack limbs (about 230 bytes).
    for (std::size_t len = 0; len <= 300; ++len) {
        for (int round = 0; round < 4; ++round) {
            std::vector<std::uint8_t> bytes(len);
            for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
            if (round == 1) std::fill(bytes.begin(), bytes.end(), 0xff);  // the longest text for its length
            if (round == 2 && len > 0) std::fill(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(rng() % len), 0);
            if (round == 3 && len > 0) bytes[len - 1] = 0;
            INFO("length " << len << ", round " << round << ": " << hex(bytes));
            const std::string text = detail::base58_encode(bytes);
            REQUIRE(text == base58_by_definition(bytes));
            if (text.empty()) continue;
            auto decoded = detail::base58_decode(text);
            REQUIRE(decoded);
            CHECK(*decoded == bytes);
        }
    }
}

// The digests reuse one context per thread; a thread_local destructor that
// runs after those contexts were freed must still get right digests.
TEST_CASE("SHA-256 and RIPEMD-160 are right on any thread, also in its exit destructors", "[encoding][crypto]") {
    const std::vector<std::uint8_t> abc = {'a', 'b', 'c'};
    const std::string sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";  // FIPS 180-2
    const std::string ripemd = "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc";                          // RIPEMD-160 paper
    CHECK(hex(detail::sha256(abc)) == sha);
    CHECK(hex(detail::ripemd160(abc)) == ripemd);
    CHECK(detail::sha256d(abc) == detail::sha256(detail::sha256(abc)));
    CHECK(detail::hash160(abc) == detail::ripemd160(detail::sha256(abc)));

    struct Late {
        const std::vector<std::uint8_t>* input = nullptr;
        std::string* sha = nullptr;
        std::string* ripemd = nullptr;
        ~Late() {
            if (input == nullptr) return;
            *sha = hex(detail::sha256(*input));
            *ripemd = hex(detail::ripemd160(*input));
        }
    };
    std::string early_sha, early_ripemd, late_sha, late_ripemd;
    std::thread t([&] {
        thread_local Late late;  // constructed before the digest contexts, so destroyed after them
        late.sha = &late_sha;
        late.ripemd = &late_ripemd;
        late.input = &abc;
        early_sha = hex(detail::sha256(abc));
        early_ripemd = hex(detail::ripemd160(abc));
    });
    t.join();
    CHECK(early_sha == sha);
    CHECK(early_ripemd == ripemd);
    CHECK(late_sha == sha);
    CHECK(late_ripemd == ripemd);
}

TEST_CASE("Base58 decoding rejects empty or over-long text and characters outside the alphabet", "[encoding][base58]") {
    for (const std::string& bad : std::vector<std::string>{"", "0", "O", "I", "l", "2g0", "a3g V", "+", "\xc3\xa9",
                                  std::string(detail::kBase58MaxDecodeLength + 1, '2')}) {
        INFO(bad);
        auto r = detail::base58_decode(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_encoding);
    }
}

TEST_CASE("Base58Check round-trips a payload and appends a 4-byte checksum", "[encoding][base58]") {
    const std::vector<std::vector<std::uint8_t>> payloads = {
        {}, {0}, {0, 0, 1}, unhex("4c8a4f58c222cd5544c527bc66925652baa70b5e80"), std::vector<std::uint8_t>(78, 0xab)};
    for (const auto& p : payloads) {
        const std::string text = detail::base58check_encode(p);
        auto raw = detail::base58_decode(text);
        REQUIRE(raw);
        CHECK(raw->size() == p.size() + 4);
        auto back = detail::base58check_decode(text);
        REQUIRE(back);
        CHECK(*back == p);
    }
    // A known Dash address (test/data/dash_bip44.json, m/44'/5'/0'/0/0).
    CHECK(detail::base58check_encode(unhex("4c8a4f58c222cd5544c527bc66925652baa70b5e80")) ==
          "XoJA8qE3N2Y3jMLEtZ3vcN42qseZ8LvFf5");
}

TEST_CASE("Base58Check decoding reports bad_checksum for a changed character and invalid_encoding for short data",
          "[encoding][base58]") {
    const std::string good = "XoJA8qE3N2Y3jMLEtZ3vcN42qseZ8LvFf5";
    for (std::size_t i = 1; i < good.size(); ++i) {
        std::string bad = good;
        bad[i] = bad[i] == 'z' ? 'y' : 'z';
        INFO(bad);
        auto r = detail::base58check_decode(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::bad_checksum);
    }
    // Three bytes cannot even hold the checksum.
    auto r = detail::base58check_decode(detail::base58_encode(std::vector<std::uint8_t>{1, 2, 3}));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_encoding);
    auto e = detail::base58check_decode("");
    REQUIRE_FALSE(e);
    CHECK(e.error().code == Errc::invalid_encoding);
}

TEST_CASE("bech32m decodes the lowercase BIP350 valid vectors and re-encodes them", "[encoding][bech32]") {
    for (const auto& s : kBip350Valid) {
        INFO(s);
        auto d = detail::bech32m_decode(s);
        REQUIRE(d);
        CHECK(detail::bech32m_encode(d->hrp, d->values) == s);
    }
}

TEST_CASE("bech32m accepts exactly 90 characters and rejects 91", "[encoding][bech32]") {
    const std::string s90 = detail::bech32m_encode("a", std::vector<std::uint8_t>(82, 7));
    REQUIRE(s90.size() == 90);
    CHECK(detail::bech32m_decode(s90));
    const std::string s91 = detail::bech32m_encode("ab", std::vector<std::uint8_t>(82, 7));
    REQUIRE(s91.size() == 91);
    auto r = detail::bech32m_decode(s91);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_encoding);
}

TEST_CASE("bech32m decoding rejects the BIP350 invalid vectors and any uppercase as invalid_encoding",
          "[encoding][bech32]") {
    const std::vector<std::string> bad = {
        std::string("\x20") + "1xj0phk",  // HRP character out of range
        std::string("\x7f") + "1g6xzxy",
        std::string("\x80") + "1vctc34",
        "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",  // > 90
        "qyrz8wqd2c9m",   // no separator
        "1qyrz8wqd2c9m",  // empty HRP
        "y1b0jsk6g",      // 'b' is not in the data charset
        "lt1igcx5c0",     // 'i'
        "in1muywd",       // data shorter than the checksum
        "mm1crxm3i",
        "au1s5cgom",
        "16plkw9",
        "1p2gdwpf",
        "A1LQFN3A",       // valid BIP350, but DIP-18 allows lowercase only
        "M1VUXWEZ",
        "abcdef1L7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",  // mixed case
        "",
    };
    for (const auto& s : bad) {
        INFO(s);
        auto r = detail::bech32m_decode(s);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_encoding);
    }
}

TEST_CASE("bech32m decoding reports bad_checksum for BIP173 bech32 strings and changed characters",
          "[encoding][bech32]") {
    // Valid BIP173 (bech32, constant 1) strings: DIP-18 does not accept them.
    for (const std::string s : {"a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "?1ezyfcl"}) {
        INFO(s);
        auto r = detail::bech32m_decode(s);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::bad_checksum);
    }
    const std::string good = "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx";
    for (std::size_t i = 7; i < good.size(); ++i) {
        std::string bad = good;
        bad[i] = bad[i] == 'q' ? 'p' : 'q';
        INFO(bad);
        auto r = detail::bech32m_decode(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::bad_checksum);
    }
}

TEST_CASE("convert_bits regroups 8-bit bytes into 5-bit values and back, checking the padding",
          "[encoding][bech32]") {
    const auto bytes = unhex("b0f7da0a2b5cbd4ff6bb2c4d89b67d2f3ffeec0525");
    std::vector<std::uint8_t> five;
    REQUIRE(detail::convert_bits(bytes, 8, 5, true, five));
    CHECK(five.size() == 34);  // 168 bits → 34 groups, 2 padding bits
    std::vector<std::uint8_t> back;
    REQUIRE(detail::convert_bits(five, 5, 8, false, back));
    CHECK(back == bytes);

    auto nonzero_pad = five;
    nonzero_pad.back() |= 1;
    back.clear();
    CHECK_FALSE(detail::convert_bits(nonzero_pad, 5, 8, false, back));

    auto extra_group = five;
    extra_group.push_back(0);  // 5 more bits: a whole unused group
    back.clear();
    CHECK_FALSE(detail::convert_bits(extra_group, 5, 8, false, back));

    const std::vector<std::uint8_t> too_wide = {32};
    back.clear();
    CHECK_FALSE(detail::convert_bits(too_wide, 5, 8, false, back));
}

TEST_CASE("bech32m byte decoding rejects non-zero padding as invalid_encoding", "[encoding][bech32]") {
    std::vector<std::uint8_t> five;
    REQUIRE(detail::convert_bits(unhex("b0f7da0a2b5cbd4ff6bb2c4d89b67d2f3ffeec0525"), 8, 5, true, five));
    five.back() |= 1;
    const std::string text = detail::bech32m_encode("dash", five);
    REQUIRE(detail::bech32m_decode(text));  // the checksum is fine
    auto r = detail::bech32m_decode_bytes(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_encoding);
}

TEST_CASE("errc_name gives every error code a distinct non-empty name and 'unknown' otherwise", "[errors]") {
    std::set<std::string> names;
    for (int v = 1; v <= 25; ++v) {
        const std::string name = errc_name(static_cast<Errc>(v));
        INFO(v);
        CHECK_FALSE(name.empty());
        CHECK(name != "unknown");
        names.insert(name);
    }
    CHECK(names.size() == 25);
    CHECK(std::string(errc_name(Errc::bad_checksum)) == "bad_checksum");
    CHECK(std::string(errc_name(Errc::inconsistent_data)) == "inconsistent_data");
    CHECK(std::string(errc_name(static_cast<Errc>(0))) == "unknown");
    CHECK(std::string(errc_name(static_cast<Errc>(999))) == "unknown");
}

TEST_CASE("network_name names the four networks", "[errors]") {
    CHECK(network_name(Network::mainnet) == "mainnet");
    CHECK(network_name(Network::testnet) == "testnet");
    CHECK(network_name(Network::devnet) == "devnet");
    CHECK(network_name(Network::regtest) == "regtest");
}
