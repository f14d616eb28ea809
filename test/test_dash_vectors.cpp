// Every entry of test/data/dash_bip44.json: root keys from the mnemonic,
// BIP44 accounts and chains, each address derived privately from the root and
// publicly from the account xpub (and through detail::ckd_pub_hash160, the
// pool's fast path), DIP-17 platform keys with their DIP-18 encodings.
#include <addrpool/address.hpp>
#include <addrpool/keys.hpp>

#include "keys/derive.hpp"
#include "json.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace addrpool;

namespace {

const testjson::Value& dash_data() {
    static const testjson::Value v = testjson::Value::parse_file(testjson::data_path("dash_bip44.json"));
    return v;
}

template <class T>
T must(Result<T> r) {
    if (!r) FAIL("unexpected error: " << errc_name(r.error().code) << ": " << r.error().message);
    return std::move(r).value();
}

DerivationPath path(std::string_view text) { return must(DerivationPath::parse(text)); }

Network network_named(const std::string& name) {
    REQUIRE((name == "mainnet" || name == "testnet"));
    return name == "mainnet" ? Network::mainnet : Network::testnet;
}

ExtendedPrivKey root_of(const testjson::Value& wallet, Network network) {
    const Seed seed = must(mnemonic_to_seed(wallet["mnemonic"].str(), wallet["passphrase"].str()));
    CHECK(testjson::hex(seed.bytes()) == wallet["seed_hex"].str());
    return must(ExtendedPrivKey::from_seed(seed, network));
}

// One chain (external or internal) of one account: its xpub, and every
// address along three routes that must agree.
void check_chain(const ExtendedPrivKey& root, const ExtendedPubKey& account, const testjson::Value& chain,
                 std::uint32_t chain_index, Network network) {
    INFO("chain " << chain["path"].str());
    const ExtendedPubKey chain_pub = must(account.derive_child(chain_index));
    CHECK(chain_pub.to_string() == chain["ext_pub"].str());
    CHECK(must(root.derive(path(chain["path"].str()))).to_public() == chain_pub);
    const detail::ChainKey fast = must(detail::make_chain_key(chain_pub.public_key(), chain_pub.chain_code()));

    std::size_t checked = 0;
    for (const char* list : {"addresses", "extra_addresses"}) {
        if (!chain.has(list)) continue;
        for (const auto& a : chain[list].array()) {
            const std::string& p = a["path"].str();
            INFO("address " << p);
            const auto index = static_cast<std::uint32_t>(a["index"].u64());
            CHECK(path(p) == path(chain["path"].str()).child(index));

            const ExtendedPrivKey priv = must(root.derive(path(p)));
            const ExtendedPubKey pub = must(chain_pub.derive_child(index));
            CHECK(testjson::hex(priv.public_key()) == a["pubkey_hex"].str());
            CHECK(testjson::hex(pub.public_key()) == a["pubkey_hex"].str());
            CHECK(must(account.derive(path("m").child(chain_index).child(index))) == pub);

            const Hash160 h = must(detail::ckd_pub_hash160(fast, index));
            CHECK(testjson::hex(h) == a["hash160_hex"].str());
            CHECK(hash160(pub.public_key()) == h);
            CHECK(Address::from_pubkey(network, pub.public_key()).to_string() == a["address"].str());
            CHECK(Address(network, AddressKind::p2pkh, h).to_string() == a["address"].str());
            ++checked;
        }
    }
    CHECK(checked == chain["addresses"].size() + (chain.has("extra_addresses") ? chain["extra_addresses"].size() : 0));
}

void check_platform(const ExtendedPrivKey& root, const testjson::Value& platform, Network network) {
    INFO("platform " << platform["path"].str());
    const ExtendedPrivKey key = must(root.derive(path(platform["path"].str())));
    CHECK(key.to_string() == platform["ext_prv"].str());
    CHECK(key.to_public().to_string() == platform["ext_pub"].str());
    const ExtendedPubKey pub = must(ExtendedPubKey::parse(platform["ext_pub"].str()));
    const detail::ChainKey fast = must(detail::make_chain_key(pub.public_key(), pub.chain_code()));
    REQUIRE(platform["keys"].size() > 0);
    for (const auto& k : platform["keys"].array()) {
        INFO("key " << k["path"].str());
        const auto index = static_cast<std::uint32_t>(k["index"].u64());
        const ExtendedPrivKey priv = must(root.derive(path(k["path"].str())));
        CHECK(testjson::hex(priv.public_key()) == k["pubkey_hex"].str());
        CHECK(testjson::hex(must(pub.derive_child(index)).public_key()) == k["pubkey_hex"].str());
        const Hash160 h = must(detail::ckd_pub_hash160(fast, index));
        CHECK(testjson::hex(h) == k["hash160_hex"].str());
        CHECK(Address(network, AddressKind::p2pkh, h).to_string() == k["p2pkh_encoding_not_a_platform_address"].str());
        CHECK(Address(network, AddressKind::p2pkh, h, AddressFormat::platform).to_string() ==
              k["platform_address_dip18"].str());
    }
}

}  // namespace

TEST_CASE("every Dash BIP44 wallet vector derives its root, accounts, chains and addresses", "[dash]") {
    const auto& wallets = dash_data()["wallets"].array();
    REQUIRE(wallets.size() == 2);
    for (const auto& wallet : wallets) {
        INFO("wallet " << wallet["label"].str());
        REQUIRE(wallet["networks"].size() == 2);
        for (const auto& [name, net] : wallet["networks"].object()) {
            INFO("network " << name);
            const Network network = network_named(name);
            const ExtendedPrivKey root = root_of(wallet, network);
            CHECK(root.to_string() == net["root_ext_prv"].str());
            CHECK(root.to_public().to_string() == net["root_ext_pub"].str());
            CHECK(net["coin_type"].u64() == bip44_coin_type(network));

            REQUIRE(net["accounts"].size() == 2);
            for (const auto& account : net["accounts"].array()) {
                INFO("account " << account["path"].str());
                const DerivationPath account_path = path(account["path"].str());
                CHECK(account_path == path("m/44'").child(hardened_bit | bip44_coin_type(network))
                                          .child(hardened_bit | static_cast<std::uint32_t>(account["account"].u64())));
                const ExtendedPrivKey account_prv = must(root.derive(account_path));
                CHECK(account_prv.to_string() == account["ext_prv"].str());
                CHECK(account_prv.to_public().to_string() == account["ext_pub"].str());
                const ExtendedPubKey account_pub = must(ExtendedPubKey::parse(account["ext_pub"].str()));
                CHECK(account_pub.network() == network);
                CHECK(must(ExtendedPrivKey::parse(account["ext_prv"].str())).to_public() == account_pub);

                check_chain(root, account_pub, account["external_chain"], 0, network);
                if (account.has("internal_chain")) check_chain(root, account_pub, account["internal_chain"], 1, network);
            }
            check_platform(root, net["platform_dip17"], network);
        }
    }
}

TEST_CASE("devnet and regtest derive the same keys and addresses as testnet", "[dash]") {
    const auto& wallet = dash_data()["wallets"][0];
    const auto& net = wallet["networks"]["testnet"];
    const auto& first = net["accounts"][0]["external_chain"]["addresses"][0];
    for (const Network n : {Network::devnet, Network::regtest}) {
        const ExtendedPrivKey root = root_of(wallet, n);
        CHECK(root.to_string() == net["root_ext_prv"].str());
        const ExtendedPrivKey key = must(root.derive(path(first["path"].str())));
        CHECK(Address::from_pubkey(n, key.public_key()).to_string() == first["address"].str());
    }
}

TEST_CASE("the DIP-17 reference keys and DIP-18 reference encodings are reproduced", "[dash][dip17]") {
    const auto& ref = dash_data()["dip17_dip18_reference_vectors"];
    const Seed seed = must(mnemonic_to_seed(ref["mnemonic"].str(), ref["passphrase"].str()));
    const ExtendedPrivKey root = must(ExtendedPrivKey::from_seed(seed, Network::mainnet));
    REQUIRE(ref["dip17"].size() == 3);
    for (const auto& k : ref["dip17"].array()) {
        INFO(k["path"].str());
        const ExtendedPrivKey key = must(root.derive(path(k["path"].str())));
        CHECK(testjson::hex(key.secret()) == k["private_key_hex"].str());
        CHECK(testjson::hex(key.public_key()) == k["pubkey_hex"].str());
        CHECK(testjson::hex(hash160(key.public_key())) == k["hash160_hex"].str());
        // The public route from the last hardened level agrees.
        const DerivationPath full = path(k["path"].str());
        std::vector<std::uint32_t> parent_components(full.components().begin(), full.components().end() - 1);
        const ExtendedPubKey parent = must(root.derive(DerivationPath(parent_components))).to_public();
        const detail::ChainKey fast = must(detail::make_chain_key(parent.public_key(), parent.chain_code()));
        CHECK(testjson::hex(must(detail::ckd_pub_hash160(fast, full.components().back()))) == k["hash160_hex"].str());
    }
    for (const char* kind_name : {"dip18_p2pkh", "dip18_p2sh"}) {
        const AddressKind kind = std::string(kind_name) == "dip18_p2pkh" ? AddressKind::p2pkh : AddressKind::p2sh;
        for (const auto& v : ref[kind_name].array()) {
            const auto bytes = testjson::unhex(v["hash160_hex"].str());
            Hash160 h{};
            REQUIRE(bytes.size() == h.size());
            std::copy(bytes.begin(), bytes.end(), h.begin());
            CHECK(Address(Network::mainnet, kind, h, AddressFormat::platform).to_string() == v["mainnet"].str());
            CHECK(Address(Network::testnet, kind, h, AddressFormat::platform).to_string() == v["testnet"].str());
        }
    }
}
