#include "common.hpp"

#include <cstdlib>
#include <thread>

namespace stress {

namespace {
constexpr const char* kMnemonic =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

template <class T>
T must(Result<T> r, const char* what) {
    if (!r) {
        std::fprintf(stderr, "setup failed: %s: %s\n", what, r.error().message.c_str());
        std::exit(2);
    }
    return std::move(r).value();
}
}  // namespace

DerivationPath account_path() { return must(DerivationPath::parse("m/44'/1'/0'"), "path"); }

DerivationPath pool_path() { return pool_base_path(account_path(), PoolType::external); }

const Wallet& wallet() {
    static const Wallet w = [] {
        KeySource xprv = must(KeySource::from_mnemonic(kMnemonic, "", Network::testnet, account_path()), "from_mnemonic");
        const ExtendedPubKey account = *xprv.account_public_key();
        KeySource xpub = KeySource::from_public(account);
        ExtendedPubKey chain = must(account.derive_child(0), "chain");
        return Wallet{std::move(xprv), std::move(xpub), std::move(chain)};
    }();
    return w;
}

const std::vector<Address>& reference(std::size_t n) {
    static std::vector<Address> ref;
    const Wallet& w = wallet();
    while (ref.size() < n) {
        const auto child = must(w.chain.derive_child(static_cast<std::uint32_t>(ref.size())), "derive_child");
        ref.push_back(Address::from_pubkey(Network::testnet, child.public_key()));
    }
    return ref;
}

unsigned hardware_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 2 : n;
}

}  // namespace stress
