// KeySource: account key material, immutable after construction and shared
// by every copy. Derivation of one address is one public child derivation
// from a cached chain key (or one private one for absent_hardened pools).
#include <addrpool/key_source.hpp>

#include "keys/crypto.hpp"
#include "keys/derive.hpp"

#include <algorithm>
#include <string>

namespace addrpool {

namespace {
inline constexpr std::uint32_t kMaxIndex = 0x80000000u;  // indices are < 2^31
}  // namespace

// Account key material, immutable after construction; shared by KeySource copies.
struct KeySource::Impl {
    std::optional<ExtendedPrivKey> account_priv;  // wiped by its destructor
    std::optional<ExtendedPubKey> account_pub;
    std::optional<DerivationPath> account_path;  // known for seed/mnemonic sources
    // Parsed public keys, cached once: the account key and its chains 0 and 1.
    // std::nullopt if that chain is invalid (probability < 2^-127) — then
    // deriving from it reports chain_error.
    std::optional<detail::ChainKey> account;
    std::optional<detail::ChainKey> chain[2];
    Errc chain_error[2] = {Errc::invalid_child, Errc::invalid_child};
};

namespace {

void fill_public(KeySource::Impl& impl, const ExtendedPubKey& pub) {
    impl.account_pub = pub;
    auto account = detail::make_chain_key(pub.public_key(), pub.chain_code());
    if (!account) {
        impl.chain_error[0] = impl.chain_error[1] = account.error().code;
        return;
    }
    impl.account = *account;
    for (std::uint32_t c = 0; c < 2; ++c) {
        auto chain = detail::ckd_pub(*account, c);
        if (chain) impl.chain[c] = *chain;
        else impl.chain_error[c] = chain.error().code;
    }
}

}  // namespace

KeySource KeySource::from_private(ExtendedPrivKey account_key) {
    auto impl = std::make_shared<Impl>();
    const ExtendedPubKey pub = account_key.to_public();
    impl->account_priv.emplace(std::move(account_key));
    fill_public(*impl, pub);
    return KeySource(std::move(impl));
}

KeySource KeySource::from_public(ExtendedPubKey account_key) {
    auto impl = std::make_shared<Impl>();
    fill_public(*impl, account_key);
    return KeySource(std::move(impl));
}

Result<KeySource> KeySource::from_xprv(std::string_view text, Network network) {
    auto key = ExtendedPrivKey::parse(text);
    if (!key) return std::move(key).error();
    if (!same_encoding(key->network(), network)) {
        return make_error(Errc::network_mismatch, "the account key is for " + std::string(network_name(key->network())) +
                                                      ", not " + std::string(network_name(network)));
    }
    return from_private(key->with_network(network));
}

Result<KeySource> KeySource::from_xpub(std::string_view text, Network network) {
    auto key = ExtendedPubKey::parse(text);
    if (!key) return std::move(key).error();
    if (!same_encoding(key->network(), network)) {
        return make_error(Errc::network_mismatch, "the account key is for " + std::string(network_name(key->network())) +
                                                      ", not " + std::string(network_name(network)));
    }
    return from_public(key->with_network(network));
}

Result<KeySource> KeySource::from_xprv(std::string_view text) {
    auto key = ExtendedPrivKey::parse(text);
    if (!key) return std::move(key).error();
    return from_private(std::move(*key));
}

Result<KeySource> KeySource::from_xpub(std::string_view text) {
    auto key = ExtendedPubKey::parse(text);
    if (!key) return std::move(key).error();
    return from_public(std::move(*key));
}

Result<KeySource> KeySource::from_extended_key(std::string_view text, Network network) {
    auto priv = from_xprv(text, network);
    if (priv || priv.error().code != Errc::key_type_mismatch) return priv;
    // A public version (or public data under a private version): read it as
    // a public key, which reports the right error for the latter.
    return from_xpub(text, network);
}

Result<KeySource> KeySource::from_seed(const Seed& seed, Network network, const DerivationPath& account_path) {
    auto master = ExtendedPrivKey::from_seed(seed, network);
    if (!master) return std::move(master).error();
    auto account = master->derive(account_path);
    if (!account) return std::move(account).error();
    KeySource ks = from_private(std::move(*account));
    // The Impl was just made and is not shared yet: complete it.
    const_cast<Impl&>(*ks.impl_).account_path = account_path;
    return ks;
}

Result<KeySource> KeySource::from_mnemonic(std::string_view words, std::string_view passphrase, Network network,
                                           const DerivationPath& account_path) {
    if (account_path.size() > 255) return make_error(Errc::depth_exceeded, "the account path is deeper than 255");
    auto seed = mnemonic_to_seed(words, passphrase);  // validates before PBKDF2
    if (!seed) return std::move(seed).error();
    return from_seed(*seed, network, account_path);
}

std::optional<Network> KeySource::network() const noexcept {
    if (!impl_ || !impl_->account_pub) return std::nullopt;
    return impl_->account_pub->network();
}

std::optional<DerivationPath> KeySource::account_path() const {
    if (!impl_) return std::nullopt;
    return impl_->account_path;
}

Result<void> KeySource::check_pool(const DerivationPath& base_path, PoolType type, Network network) const {
    if (!impl_ || !impl_->account_pub) return {};
    const ExtendedPubKey& key = *impl_->account_pub;
    if (!same_encoding(key.network(), network)) {
        return make_error(Errc::invalid_argument, "the pool is for " + std::string(network_name(network)) +
                                                      " but its key source is a " +
                                                      std::string(network_name(key.network())) + " key");
    }
    if (type == PoolType::absent_hardened && !impl_->account_priv) {
        return make_error(Errc::hardened_from_public, "an absent_hardened pool needs a private key source");
    }
    const auto& c = base_path.components();
    const std::size_t chain_levels = levels_below_account(type) - 1;  // 1 for external/internal, 0 otherwise
    const std::size_t depth = key.depth();
    const bool relative = c.size() == chain_levels;
    if (!relative && c.size() != depth + chain_levels) {
        return make_error(Errc::invalid_argument,
                          "the base path " + base_path.to_string() + " has " + std::to_string(c.size()) +
                              " components; a pool of this type on a depth-" + std::to_string(depth) +
                              " account key needs " + std::to_string(depth + chain_levels) + " (or " +
                              std::to_string(chain_levels) + " relative to the key)");
    }
    if (chain_levels == 1) {
        const std::uint32_t want = type == PoolType::internal ? 1u : 0u;
        if (c.back() != want) {
            return make_error(Errc::invalid_argument, "the base path " + base_path.to_string() + " of an " +
                                                          (want ? "internal" : "external") + " pool must end in /" +
                                                          std::to_string(want));
        }
    }
    if (!relative && depth > 0 && c[depth - 1] != key.child_number()) {
        return make_error(Errc::invalid_argument, "the base path " + base_path.to_string() +
                                                      " does not pass through the account key (its child number differs)");
    }
    if (!relative && impl_->account_path && pool_base_path(*impl_->account_path, type) != base_path) {
        return make_error(Errc::invalid_argument, "the base path " + base_path.to_string() + " is not below the account " +
                                                      impl_->account_path->to_string() + " of the key source");
    }
    return {};
}

DerivationPath pool_base_path(const DerivationPath& account_path, PoolType type) {
    if (type == PoolType::external) return account_path.child(0);
    if (type == PoolType::internal) return account_path.child(1);
    return account_path;
}

KeySource KeySource::none() {
    static const std::shared_ptr<const Impl> empty = std::make_shared<const Impl>();
    return KeySource(empty);
}

bool KeySource::can_derive() const noexcept { return impl_ && impl_->account_pub.has_value(); }
bool KeySource::is_watch_only() const noexcept { return !impl_ || !impl_->account_priv.has_value(); }

std::optional<ExtendedPubKey> KeySource::account_public_key() const {
    if (!impl_) return std::nullopt;
    return impl_->account_pub;
}

Result<Hash160> KeySource::derive_hash160(PoolType type, std::uint32_t index) const {
    if (index >= kMaxIndex) {
        return make_error(Errc::index_out_of_range, "address index " + std::to_string(index) + " is not below 2^31");
    }
    if (!can_derive()) return make_error(Errc::no_key_source, "the key source holds no key to derive from");
    switch (type) {
        case PoolType::external:
        case PoolType::internal: {
            const auto c = static_cast<std::size_t>(type == PoolType::internal);
            if (!impl_->chain[c]) {
                return make_error(impl_->chain_error[c], "chain " + std::to_string(c) + " of the account key is invalid");
            }
            return detail::ckd_pub_hash160(*impl_->chain[c], index);
        }
        case PoolType::absent:
            if (!impl_->account) return make_error(impl_->chain_error[0], "the account key is invalid");
            return detail::ckd_pub_hash160(*impl_->account, index);
        case PoolType::absent_hardened: {
            if (!impl_->account_priv) {
                return make_error(Errc::hardened_from_public,
                                  "an absent_hardened pool needs a private key source; this one is public");
            }
            detail::PrivChainKey parent;
            const auto secret = impl_->account_priv->secret();
            std::copy(secret.begin(), secret.end(), parent.secret.begin());
            parent.chain_code = impl_->account_priv->chain_code();
            auto child = detail::ckd_priv(parent, index | hardened_bit);
            if (!child) return std::move(child).error();
            auto pub = detail::public_key_of(child->secret);
            if (!pub) return std::move(pub).error();
            return hash160(*pub);
        }
    }
    return make_error(Errc::invalid_argument, "unknown pool type");
}

}  // namespace addrpool
