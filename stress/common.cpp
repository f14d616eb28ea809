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

DerivationPath pool_path() { return must(DerivationPath::parse("m/44'/1'/0'/0"), "path"); }

const Wallet& wallet() {
    static const Wallet w = [] {
        const Seed seed = must(mnemonic_to_seed(kMnemonic, ""), "mnemonic_to_seed");
        const ExtendedPrivKey master = must(ExtendedPrivKey::from_seed(seed, Network::testnet), "from_seed");
        ExtendedPrivKey account = must(master.derive(must(DerivationPath::parse("m/44'/1'/0'"), "path")), "derive");
        ExtendedPubKey chain = must(account.to_public().derive_child(0), "chain");
        KeySource xprv = KeySource::from_private(account);
        KeySource xpub = KeySource::from_public(account.to_public());
        return Wallet{std::move(account), std::move(xprv), std::move(xpub), std::move(chain)};
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
