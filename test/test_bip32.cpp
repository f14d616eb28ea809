// BIP32: the published vectors 1-4, the invalid keys of vector 5, the
// dashcore-lib pitfall, and every error code the key classes produce.
#include <addrpool/keys.hpp>

#include "keys/base58.hpp"
#include "keys/crypto.hpp"
#include "keys/derive.hpp"
#include "json.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <vector>

using namespace addrpool;

namespace {

const testjson::Value& bip32_data() {
    static const testjson::Value v = testjson::Value::parse_file(testjson::data_path("bip32.json"));
    return v;
}

std::string hex32(std::uint32_t v) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", v);
    return buf;
}

template <class T>
T must(Result<T> r) {
    if (!r) FAIL("unexpected error: " << errc_name(r.error().code) << ": " << r.error().message);
    return std::move(r).value();
}

DerivationPath path(std::string_view text) { return must(DerivationPath::parse(text)); }

// Checks every field of one chain step of a vector against the key derived
// privately from the root, its public half, and both parsed strings.
void check_chain_step(const ExtendedPrivKey& root, const testjson::Value& step) {
    const std::string& p = step["path"].str();
    INFO("path " << p);
    const ExtendedPrivKey prv = must(root.derive(path(p)));
    const ExtendedPubKey pub = prv.to_public();

    CHECK(prv.to_string() == step["ext_prv"].str());
    CHECK(pub.to_string() == step["ext_pub"].str());
    CHECK(prv.depth() == step["depth"].u64());
    CHECK(pub.depth() == step["depth"].u64());
    CHECK(prv.child_number() == step["child_index"].u64());
    CHECK(pub.child_number() == step["child_index"].u64());
    CHECK(((prv.child_number() & hardened_bit) != 0) == step["hardened"].boolean());
    CHECK(hex32(prv.parent_fingerprint()) == step["parent_fingerprint_hex"].str());
    CHECK(hex32(pub.parent_fingerprint()) == step["parent_fingerprint_hex"].str());
    CHECK(hex32(prv.fingerprint()) == step["fingerprint_hex"].str());
    CHECK(hex32(pub.fingerprint()) == step["fingerprint_hex"].str());
    CHECK(testjson::hex(prv.chain_code()) == step["chain_code_hex"].str());
    CHECK(testjson::hex(pub.chain_code()) == step["chain_code_hex"].str());
    CHECK(testjson::hex(prv.secret()) == step["private_key_hex"].str());
    CHECK(testjson::hex(prv.public_key()) == step["public_key_hex"].str());
    CHECK(testjson::hex(pub.public_key()) == step["public_key_hex"].str());

    const ExtendedPrivKey parsed_prv = must(ExtendedPrivKey::parse(step["ext_prv"].str()));
    CHECK(parsed_prv.to_string() == step["ext_prv"].str());
    CHECK(parsed_prv.network() == Network::mainnet);
    CHECK(parsed_prv.depth() == prv.depth());
    CHECK(parsed_prv.child_number() == prv.child_number());
    CHECK(parsed_prv.parent_fingerprint() == prv.parent_fingerprint());
    const ExtendedPubKey parsed_pub = must(ExtendedPubKey::parse(step["ext_pub"].str()));
    CHECK(parsed_pub == pub);
    CHECK(parsed_pub.to_string() == step["ext_pub"].str());
}

void check_vector(const testjson::Value& vector) {
    INFO(vector["name"].str());
    const auto seed = testjson::unhex(vector["seed_hex"].str());
    const ExtendedPrivKey root = must(ExtendedPrivKey::from_seed(seed, Network::mainnet));
    const auto& chains = vector["chains"].array();
    REQUIRE(!chains.empty());
    for (const auto& step : chains) check_chain_step(root, step);

    // Step by step with derive_child gives the same chain as whole paths.
    ExtendedPrivKey key = root;
    for (std::size_t i = 1; i < chains.size(); ++i) {
        const DerivationPath full = path(chains[i]["path"].str());
        key = must(key.derive_child(full.components().back()));
        CHECK(key.to_string() == chains[i]["ext_prv"].str());
    }

    for (const auto& check : vector["public_derivation_checks"].array()) {
        const ExtendedPubKey parent = must(ExtendedPubKey::parse(check["parent_ext_pub"].str()));
        const auto index = static_cast<std::uint32_t>(check["child_index"].u64());
        CHECK(must(parent.derive_child(index)).to_string() == check["child_ext_pub"].str());
    }
}

}  // namespace

TEST_CASE("BIP32 test vectors 1 to 3 reproduce every chain step", "[bip32]") {
    const auto& vectors = bip32_data()["vectors"].array();
    REQUIRE(vectors.size() == 3);
    for (const auto& v : vectors) check_vector(v);
}

TEST_CASE("BIP32 test vector 4 (leading-zero retention) reproduces every chain step", "[bip32]") {
    const auto& vectors = bip32_data()["extra_vectors"].array();
    REQUIRE(vectors.size() == 1);
    check_vector(vectors[0]);
}

TEST_CASE("the hardened child of vector 3 keeps the parent key's leading zero byte", "[bip32]") {
    const auto& pitfall = bip32_data()["pitfalls"][0];
    const auto seed = testjson::unhex(bip32_data()["vectors"][2]["seed_hex"].str());
    const ExtendedPrivKey root = must(ExtendedPrivKey::from_seed(seed, Network::mainnet));
    CHECK(root.secret()[0] == 0x00);  // the case the pitfall is about
    const std::string derived = must(root.derive(path(pitfall["path"].str()))).to_string();
    CHECK(derived == pitfall["compliant_ext_prv"].str());
    CHECK(derived != pitfall["noncompliant_ext_prv_from_dashcore_derive"].str());
}

TEST_CASE("each invalid key of BIP32 vector 5 is rejected with its specific error", "[bip32]") {
    const std::map<std::string, Errc> by_reason = {
        {"pubkey version / prvkey mismatch", Errc::key_type_mismatch},
        {"prvkey version / pubkey mismatch", Errc::key_type_mismatch},
        {"invalid pubkey prefix 04", Errc::invalid_public_key},
        {"invalid prvkey prefix 04", Errc::invalid_private_key},
        {"invalid pubkey prefix 01", Errc::invalid_public_key},
        {"invalid prvkey prefix 01", Errc::invalid_private_key},
        {"zero depth with non-zero parent fingerprint", Errc::invalid_key_metadata},
        {"zero depth with non-zero index", Errc::invalid_key_metadata},
        {"unknown extended key version", Errc::unknown_version},
        {"private key 0 not in 1..n-1", Errc::invalid_private_key},
        {"private key n not in 1..n-1", Errc::invalid_private_key},
        {"invalid pubkey 020000000000000000000000000000000000000000000000000000000000000007",
         Errc::invalid_public_key},
        {"invalid checksum", Errc::bad_checksum},
    };
    const auto& keys = bip32_data()["invalid_extended_keys"]["keys"].array();
    REQUIRE(keys.size() == 16);
    for (const auto& k : keys) {
        const std::string& text = k["ext_key"].str();
        const std::string& reason = k["reason"].str();
        INFO(reason << ": " << text);
        REQUIRE(by_reason.count(reason) == 1);
        const Errc expected = by_reason.at(reason);
        const bool pub_version = text.rfind("xpub", 0) == 0;
        const bool prv_version = text.rfind("xprv", 0) == 0;
        if (pub_version || !prv_version) {
            auto r = ExtendedPubKey::parse(text);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == expected);
            CHECK(r.error().message.find(text) == std::string::npos);
        }
        if (prv_version || !pub_version) {
            auto r = ExtendedPrivKey::parse(text);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == expected);
            CHECK(r.error().message.find(text) == std::string::npos);
        }
    }
}

TEST_CASE("an xpub given to the private parser, or an xprv to the public one, is key_type_mismatch", "[bip32]") {
    const auto& step = bip32_data()["vectors"][0]["chains"][1];
    auto as_prv = ExtendedPrivKey::parse(step["ext_pub"].str());
    REQUIRE_FALSE(as_prv);
    CHECK(as_prv.error().code == Errc::key_type_mismatch);
    auto as_pub = ExtendedPubKey::parse(step["ext_prv"].str());
    REQUIRE_FALSE(as_pub);
    CHECK(as_pub.error().code == Errc::key_type_mismatch);
}

TEST_CASE("malformed Base58 or a wrong payload length is invalid_encoding", "[bip32]") {
    const std::string good = bip32_data()["vectors"][0]["chains"][0]["ext_pub"].str();
    for (const std::string& text : {std::string(), good.substr(0, 40) + "0" + good.substr(41), std::string("xpub"),
                                    good + "1", good.substr(0, good.size() - 1) + "I"}) {
        INFO(text);
        auto r = ExtendedPubKey::parse(text);
        REQUIRE_FALSE(r);
        CHECK((r.error().code == Errc::invalid_encoding || r.error().code == Errc::bad_checksum));
    }
    // A well-checksummed payload of the wrong length.
    std::vector<std::uint8_t> short_payload(77, 0x01);
    auto r = ExtendedPubKey::parse(detail::base58check_encode(short_payload));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_encoding);
    auto r2 = ExtendedPubKey::parse(good.substr(0, 20) + "0" + good.substr(21));
    REQUIRE_FALSE(r2);
    CHECK(r2.error().code == Errc::invalid_encoding);
}

TEST_CASE("a corrupted xprv is rejected without its text or secret in the message", "[bip32][secrets]") {
    const auto& step = bip32_data()["vectors"][0]["chains"][2];
    const std::string good = step["ext_prv"].str();
    const std::string secret_hex = step["private_key_hex"].str();
    std::string corrupted = good;
    corrupted[60] = corrupted[60] == 'a' ? 'b' : 'a';
    for (const std::string& text : {corrupted, good.substr(0, 50) + "0" + good.substr(51), good + "2"}) {
        auto r = ExtendedPrivKey::parse(text);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find(text) == std::string::npos);
        CHECK(r.error().message.find(good.substr(4, 20)) == std::string::npos);
        CHECK(r.error().message.find(secret_hex.substr(0, 8)) == std::string::npos);
    }
    auto as_pub = ExtendedPubKey::parse(good);
    REQUIRE_FALSE(as_pub);
    CHECK(as_pub.error().message.find(good) == std::string::npos);
}

TEST_CASE("a hardened child of a public key is hardened_from_public", "[bip32]") {
    const ExtendedPubKey pub =
        must(ExtendedPubKey::parse(bip32_data()["vectors"][0]["chains"][0]["ext_pub"].str()));
    auto r = pub.derive_child(hardened_bit);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::hardened_from_public);
    auto r2 = pub.derive(path("m/0/1/2'"));
    REQUIRE_FALSE(r2);
    CHECK(r2.error().code == Errc::hardened_from_public);
    auto r3 = pub.derive_child(0xFFFFFFFFu);
    REQUIRE_FALSE(r3);
    CHECK(r3.error().code == Errc::hardened_from_public);
}

TEST_CASE("public derivation of a non-hardened path equals the private path's public half", "[bip32]") {
    const auto seed = testjson::unhex(bip32_data()["vectors"][1]["seed_hex"].str());
    const ExtendedPrivKey root = must(ExtendedPrivKey::from_seed(seed, Network::mainnet));
    const DerivationPath p = path("m/0/1/2/2147483647");
    CHECK(must(root.to_public().derive(p)) == must(root.derive(p)).to_public());
    CHECK(must(root.to_public().derive(DerivationPath())) == root.to_public());
}

TEST_CASE("point_add_tweak agrees with secp256k1_ec_pubkey_tweak_add, edge scalars included", "[bip32]") {
    // CKDpub adds IL·G by a generator multiplication and a point addition;
    // the library's tweak_add is the reference. K = 3·G.
    const auto* ctx = detail::secp_context();
    std::array<std::uint8_t, 32> three{};
    three[31] = 3;
    secp256k1_pubkey k;
    REQUIRE(secp256k1_ec_pubkey_create(ctx, &k, three.data()) == 1);
    auto scalar = [](const std::string& hex) {
        const auto b = testjson::unhex(hex);
        REQUIRE(b.size() == 32);
        std::array<std::uint8_t, 32> out{};
        std::copy(b.begin(), b.end(), out.begin());
        return out;
    };
    auto same_point = [&](const secp256k1_pubkey& a, const secp256k1_pubkey& b) {
        std::array<std::uint8_t, 33> sa{}, sb{};
        std::size_t la = sa.size(), lb = sb.size();
        REQUIRE(secp256k1_ec_pubkey_serialize(ctx, sa.data(), &la, &a, SECP256K1_EC_COMPRESSED) == 1);
        REQUIRE(secp256k1_ec_pubkey_serialize(ctx, sb.data(), &lb, &b, SECP256K1_EC_COMPRESSED) == 1);
        return sa == sb;
    };
    const std::string n = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
    struct Case {
        std::string tweak;
        bool valid;
    };
    const Case cases[] = {
        {"0000000000000000000000000000000000000000000000000000000000000000", true},   // K itself
        {"0000000000000000000000000000000000000000000000000000000000000001", true},
        {"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", true},   // n - 1: 2·G
        {"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd036413e", false},  // n - 3: infinity
        {n, false},                                                                     // n: out of range
        {"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364142", false},  // n + 1
        {"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", false},
        {"7b3b9d4e0c1f2a8e5d6c4b3a29180f0e1d2c3b4a5968778695a4b3c2d1e0f102", true},
        {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true},
    };
    for (const Case& c : cases) {
        INFO("tweak " << c.tweak);
        const auto t = scalar(c.tweak);
        secp256k1_pubkey ref = k, got;
        const bool ref_ok = secp256k1_ec_pubkey_tweak_add(ctx, &ref, t.data()) == 1;
        REQUIRE(ref_ok == c.valid);
        CHECK(detail::point_add_tweak(k, t.data(), got) == c.valid);
        if (c.valid) CHECK(same_point(got, ref));
    }
}

TEST_CASE("seeds outside 16..64 bytes are invalid_seed", "[bip32]") {
    const std::vector<std::uint8_t> too_short(15, 1), shortest(16, 1), longest(64, 1), too_long(65, 1);
    for (const auto* bad : {&too_short, &too_long}) {
        auto r = ExtendedPrivKey::from_seed(*bad, Network::mainnet);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_seed);
    }
    CHECK(ExtendedPrivKey::from_seed(shortest, Network::mainnet));
    CHECK(ExtendedPrivKey::from_seed(longest, Network::mainnet));
    CHECK_FALSE(ExtendedPrivKey::from_seed(std::span<const std::uint8_t>(), Network::mainnet));
}

TEST_CASE("test networks serialize as tprv/tpub and parse back as testnet", "[bip32]") {
    const auto seed = testjson::unhex(bip32_data()["vectors"][0]["seed_hex"].str());
    for (const Network n : {Network::testnet, Network::devnet, Network::regtest}) {
        const ExtendedPrivKey root = must(ExtendedPrivKey::from_seed(seed, n));
        const std::string prv = root.to_string(), pub = root.to_public().to_string();
        CHECK(prv.rfind("tprv", 0) == 0);
        CHECK(pub.rfind("tpub", 0) == 0);
        CHECK(must(ExtendedPrivKey::parse(prv)).network() == Network::testnet);
        CHECK(must(ExtendedPubKey::parse(pub)).network() == Network::testnet);
        CHECK(must(ExtendedPrivKey::parse(prv)).with_network(n).to_string() == prv);
        CHECK(root.with_network(Network::mainnet).to_string() == bip32_data()["vectors"][0]["chains"][0]["ext_prv"].str());
        CHECK(root.to_public().with_network(Network::mainnet).to_string() ==
              bip32_data()["vectors"][0]["chains"][0]["ext_pub"].str());
        CHECK(must(root.derive_child(7)).network() == n);
    }
}

TEST_CASE("keys deeper than 255 are depth_exceeded", "[bip32]") {
    const auto seed = testjson::unhex(bip32_data()["vectors"][0]["seed_hex"].str());
    const ExtendedPrivKey root = must(ExtendedPrivKey::from_seed(seed, Network::mainnet));
    const ExtendedPubKey pub = root.to_public();
    const ExtendedPubKey deep =
        must(ExtendedPubKey::from_parts(pub.public_key(), pub.chain_code(), Network::mainnet, 255, 1, 1));
    auto r = deep.derive_child(0);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::depth_exceeded);
    auto r2 = pub.derive(DerivationPath(std::vector<std::uint32_t>(256, 0)));
    REQUIRE_FALSE(r2);
    CHECK(r2.error().code == Errc::depth_exceeded);
    auto r3 = root.derive(DerivationPath(std::vector<std::uint32_t>(256, 0)));
    REQUIRE_FALSE(r3);
    CHECK(r3.error().code == Errc::depth_exceeded);
    CHECK(must(deep.derive(DerivationPath())).depth() == 255);
}

TEST_CASE("from_parts rejects a key that is not a compressed point as invalid_public_key", "[bip32]") {
    PubKeyBytes bad{};
    bad[0] = 0x02;
    bad[32] = 0x07;  // x = 7 has no point on secp256k1
    auto r = ExtendedPubKey::from_parts(bad, ChainCode{}, Network::mainnet);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_public_key);
    PubKeyBytes uncompressed_prefix{};
    uncompressed_prefix[0] = 0x04;
    auto r2 = ExtendedPubKey::from_parts(uncompressed_prefix, ChainCode{}, Network::mainnet);
    REQUIRE_FALSE(r2);
    CHECK(r2.error().code == Errc::invalid_public_key);
}

TEST_CASE("from_parts rejects depth 0 metadata that parse rejects, and its keys round-trip", "[bip32]") {
    const auto seed = testjson::unhex(bip32_data()["vectors"][0]["seed_hex"].str());
    const ExtendedPubKey pub = must(ExtendedPrivKey::from_seed(seed, Network::mainnet)).to_public();
    auto fp = ExtendedPubKey::from_parts(pub.public_key(), pub.chain_code(), Network::mainnet, 0, 1, 0);
    REQUIRE_FALSE(fp);
    CHECK(fp.error().code == Errc::invalid_key_metadata);
    auto cn = ExtendedPubKey::from_parts(pub.public_key(), pub.chain_code(), Network::mainnet, 0, 0, 5);
    REQUIRE_FALSE(cn);
    CHECK(cn.error().code == Errc::invalid_key_metadata);
    // Whatever from_parts accepts serializes to a string parse accepts back.
    for (const auto& [depth, fpr, child] : {std::tuple<std::uint8_t, std::uint32_t, std::uint32_t>{0, 0, 0},
                                            {1, 0xdeadbeef, 0x80000000}, {255, 1, 1}}) {
        const ExtendedPubKey k =
            must(ExtendedPubKey::from_parts(pub.public_key(), pub.chain_code(), Network::mainnet, depth, fpr, child));
        CHECK(must(ExtendedPubKey::parse(k.to_string())).to_string() == k.to_string());
    }
}

TEST_CASE("a seed longer than 64 bytes is empty and from_seed rejects it", "[bip39][bip32]") {
    const std::vector<std::uint8_t> long_bytes(65, 0x42);
    const Seed s(long_bytes);
    CHECK(s.size() == 0);
    auto r = ExtendedPrivKey::from_seed(s, Network::mainnet);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_seed);
    CHECK(Seed(std::span(long_bytes).first(64)).size() == 64);
}

TEST_CASE("copies keep the secret and a moved-from private key is wiped", "[bip32][secrets]") {
    const auto seed = testjson::unhex(bip32_data()["vectors"][0]["seed_hex"].str());
    ExtendedPrivKey a = must(ExtendedPrivKey::from_seed(seed, Network::mainnet));
    const std::string text = a.to_string();
    ExtendedPrivKey b = a;
    CHECK(b.to_string() == text);
    ExtendedPrivKey c = std::move(a);
    CHECK(c.to_string() == text);
    const std::array<std::uint8_t, 32> zero{};
    CHECK(std::equal(a.secret().begin(), a.secret().end(), zero.begin()));  // NOLINT: checking the moved-from state
    b = std::move(c);
    CHECK(b.to_string() == text);
    CHECK(std::equal(c.secret().begin(), c.secret().end(), zero.begin()));  // NOLINT
}

TEST_CASE("the detail derivation functions agree with the key classes", "[bip32][derive]") {
    const auto seed = testjson::unhex(bip32_data()["vectors"][0]["seed_hex"].str());
    const ExtendedPrivKey root = must(ExtendedPrivKey::from_seed(seed, Network::mainnet));
    detail::PrivChainKey k;
    std::copy(root.secret().begin(), root.secret().end(), k.secret.begin());
    k.chain_code = root.chain_code();
    for (const std::uint32_t index : {0u, 1u, hardened_bit, hardened_bit + 5}) {
        const detail::PrivChainKey child = must(detail::ckd_priv(k, index));
        const ExtendedPrivKey expected = must(root.derive_child(index));
        CHECK(std::equal(child.secret.begin(), child.secret.end(), expected.secret().begin()));
        CHECK(child.chain_code == expected.chain_code());
        CHECK(must(detail::public_key_of(child.secret)) == expected.public_key());
    }
    const detail::ChainKey parent = must(detail::make_chain_key(root.public_key(), root.chain_code()));
    for (const std::uint32_t index : {0u, 1u, 1000u, hardened_bit - 1}) {
        const ExtendedPubKey expected = must(root.to_public().derive_child(index));
        const detail::ChainKey child = must(detail::ckd_pub(parent, index));
        CHECK(child.key == expected.public_key());
        CHECK(child.chain_code == expected.chain_code());
        CHECK(must(detail::ckd_pub_hash160(parent, index)) == detail::hash160(expected.public_key()));
    }
    auto hardened = detail::ckd_pub_hash160(parent, hardened_bit);
    REQUIRE_FALSE(hardened);
    CHECK(hardened.error().code == Errc::hardened_from_public);
    auto hardened2 = detail::ckd_pub(parent, hardened_bit);
    REQUIRE_FALSE(hardened2);
    CHECK(hardened2.error().code == Errc::hardened_from_public);

    PubKeyBytes bad{};
    bad[0] = 0x05;
    auto r = detail::make_chain_key(bad, ChainCode{});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_public_key);

    const std::array<std::uint8_t, 32> zero{};
    auto z = detail::public_key_of(zero);
    REQUIRE_FALSE(z);
    CHECK(z.error().code == Errc::invalid_private_key);

    detail::PrivChainKey moved = std::move(k);
    CHECK(k.secret == zero);  // NOLINT: checking the moved-from state
    CHECK(k.chain_code == ChainCode{});
    CHECK(moved.secret != zero);
}
