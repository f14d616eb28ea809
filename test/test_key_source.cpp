// KeySource from the texts a user has, and its check of a pool's base path.
#include <addrpool/addrpool.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace addrpool;

namespace {

constexpr const char* kMnemonic =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

DerivationPath path(const char* text) {
    auto p = DerivationPath::parse(text);
    REQUIRE(p);
    return *p;
}

ExtendedPrivKey account(Network net, const char* account_path) {
    auto seed = mnemonic_to_seed(kMnemonic, "");
    REQUIRE(seed);
    auto root = ExtendedPrivKey::from_seed(*seed, net);
    REQUIRE(root);
    auto acct = root->derive(path(account_path));
    REQUIRE(acct);
    return *acct;
}

}  // namespace

TEST_CASE("a mnemonic source derives what the account key derives and remembers its path", "[key_source]") {
    auto ks = KeySource::from_mnemonic(kMnemonic, "", Network::testnet, path("m/44'/1'/0'"));
    REQUIRE(ks);
    const auto direct = KeySource::from_private(account(Network::testnet, "m/44'/1'/0'"));
    for (std::uint32_t i : {0u, 1u, 19u}) {
        auto a = ks->derive_hash160(PoolType::external, i);
        auto b = direct.derive_hash160(PoolType::external, i);
        REQUIRE(a);
        REQUIRE(b);
        CHECK(*a == *b);
    }
    REQUIRE(ks->account_path());
    CHECK(ks->account_path()->to_string() == "m/44'/1'/0'");
    CHECK(ks->network() == Network::testnet);
    CHECK_FALSE(ks->is_watch_only());
}

TEST_CASE("xprv and xpub texts give sources for their network family only", "[key_source]") {
    const auto priv = account(Network::testnet, "m/44'/1'/0'");
    const std::string tprv = priv.to_string();
    const std::string tpub = priv.to_public().to_string();

    auto from_tprv = KeySource::from_xprv(tprv, Network::regtest);  // test networks share tprv
    REQUIRE(from_tprv);
    CHECK(from_tprv->network() == Network::regtest);
    CHECK_FALSE(from_tprv->account_path());

    auto wrong = KeySource::from_xprv(tprv, Network::mainnet);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == Errc::network_mismatch);
    CHECK(wrong.error().message.find(tprv) == std::string::npos);  // no secret in the message

    auto pub_as_priv = KeySource::from_xprv(tpub, Network::testnet);
    REQUIRE_FALSE(pub_as_priv);
    CHECK(pub_as_priv.error().code == Errc::key_type_mismatch);

    auto from_tpub = KeySource::from_xpub(tpub, Network::testnet);
    REQUIRE(from_tpub);
    CHECK(from_tpub->is_watch_only());

    auto either_priv = KeySource::from_extended_key(tprv, Network::testnet);
    auto either_pub = KeySource::from_extended_key(tpub, Network::testnet);
    REQUIRE(either_priv);
    REQUIRE(either_pub);
    CHECK_FALSE(either_priv->is_watch_only());
    CHECK(either_pub->is_watch_only());
    CHECK(*either_priv->derive_hash160(PoolType::internal, 3) == *either_pub->derive_hash160(PoolType::internal, 3));

    auto garbage = KeySource::from_extended_key("tprv0OIl", Network::testnet);  // not Base58
    REQUIRE_FALSE(garbage);
    CHECK(garbage.error().code == Errc::invalid_encoding);
}

TEST_CASE("xprv and xpub texts without a network take it from their version bytes", "[key_source]") {
    const auto tpriv = account(Network::testnet, "m/44'/1'/0'");
    const auto xpriv = account(Network::mainnet, "m/44'/5'/0'");

    auto t = KeySource::from_xprv(tpriv.to_string());
    REQUIRE(t);
    CHECK(t->network() == Network::testnet);
    CHECK_FALSE(t->is_watch_only());
    // The same source as with an explicit network: same keys below it.
    auto explicit_net = KeySource::from_xprv(tpriv.to_string(), Network::testnet);
    REQUIRE(explicit_net);
    CHECK(*t->derive_hash160(PoolType::external, 7) == *explicit_net->derive_hash160(PoolType::external, 7));
    // A test-network source fits a regtest pool; a mainnet one does not.
    CHECK(t->check_pool(path("m/44'/1'/0'/0"), PoolType::external, Network::regtest));
    CHECK_FALSE(t->check_pool(path("m/44'/1'/0'/0"), PoolType::external, Network::mainnet));

    auto x = KeySource::from_xpub(xpriv.to_public().to_string());
    REQUIRE(x);
    CHECK(x->network() == Network::mainnet);
    CHECK(x->is_watch_only());
    CHECK(*x->derive_hash160(PoolType::internal, 2) ==
          *KeySource::from_private(xpriv).derive_hash160(PoolType::internal, 2));

    auto pub_as_priv = KeySource::from_xprv(tpriv.to_public().to_string());
    REQUIRE_FALSE(pub_as_priv);
    CHECK(pub_as_priv.error().code == Errc::key_type_mismatch);
    auto priv_as_pub = KeySource::from_xpub(tpriv.to_string());
    REQUIRE_FALSE(priv_as_pub);
    CHECK(priv_as_pub.error().code == Errc::key_type_mismatch);
    CHECK(priv_as_pub.error().message.find(tpriv.to_string().substr(20, 16)) == std::string::npos);
    auto garbage = KeySource::from_xpub("xpub0OIl");
    REQUIRE_FALSE(garbage);
    CHECK(garbage.error().code == Errc::invalid_encoding);
}

TEST_CASE("a bad mnemonic is refused before any key is made", "[key_source]") {
    auto r = KeySource::from_mnemonic("abandon abandon", "", Network::testnet, path("m/44'/1'/0'"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_mnemonic);
}

TEST_CASE("check_pool accepts full and relative base paths that agree with the key", "[key_source]") {
    auto ks = KeySource::from_mnemonic(kMnemonic, "", Network::testnet, path("m/44'/1'/0'"));
    REQUIRE(ks);
    CHECK(ks->check_pool(path("m/44'/1'/0'/0"), PoolType::external, Network::testnet));
    CHECK(ks->check_pool(path("m/44'/1'/0'/1"), PoolType::internal, Network::devnet));
    CHECK(ks->check_pool(path("m/0"), PoolType::external, Network::testnet));
    CHECK(ks->check_pool(path("m"), PoolType::absent, Network::testnet));
    CHECK(ks->check_pool(path("m/44'/1'/0'"), PoolType::absent_hardened, Network::testnet));
    CHECK(KeySource::none().check_pool(path("m/7/7/7"), PoolType::external, Network::mainnet));
    CHECK(pool_base_path(path("m/44'/1'/0'"), PoolType::internal).to_string() == "m/44'/1'/0'/1");
}

TEST_CASE("check_pool names each contradiction between a base path and its key", "[key_source]") {
    auto ks = KeySource::from_mnemonic(kMnemonic, "", Network::testnet, path("m/44'/1'/0'"));
    REQUIRE(ks);
    struct Case {
        const char* base;
        PoolType type;
        Network net;
        Errc code;
        const char* says;
    } cases[] = {
        {"m/44'/1'/0'/0", PoolType::external, Network::mainnet, Errc::invalid_argument, "testnet key"},
        {"m/44'/1'/0'/0/0", PoolType::external, Network::testnet, Errc::invalid_argument, "components"},
        {"m/44'/1'/0'", PoolType::external, Network::testnet, Errc::invalid_argument, "components"},
        {"m/44'/1'/0'/1", PoolType::external, Network::testnet, Errc::invalid_argument, "must end in /0"},
        {"m/44'/1'/1'/0", PoolType::external, Network::testnet, Errc::invalid_argument, "child number"},
        {"m/44'/5'/0'/0", PoolType::external, Network::testnet, Errc::invalid_argument, "not below the account"},
    };
    for (const auto& c : cases) {
        INFO(c.base);
        auto r = ks->check_pool(path(c.base), c.type, c.net);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == c.code);
        CHECK(r.error().message.find(c.says) != std::string::npos);
    }
    const auto watch = KeySource::from_public(account(Network::testnet, "m/44'/1'/0'").to_public());
    auto hardened = watch.check_pool(path("m/44'/1'/0'"), PoolType::absent_hardened, Network::testnet);
    REQUIRE_FALSE(hardened);
    CHECK(hardened.error().code == Errc::hardened_from_public);
}
