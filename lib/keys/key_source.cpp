// KeySource: account key material, immutable after construction and shared
// by every copy. Derivation of one address is one public child derivation
// from a cached chain key (or one private one for absent_hardened pools).
#include <addrpool/key_source.hpp>

#include "keys/crypto.hpp"
#include "keys/derive.hpp"

#include <boost/atomic.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <string>

namespace addrpool {

namespace {
inline constexpr std::uint32_t kMaxIndex = 0x80000000u;  // indices are < 2^31
}  // namespace

// Account key material, immutable after construction and shared by
// KeySource copies — except the parsed chain keys, cached on first use. A
// source that never derives (a registered account whose pools derived
// nothing yet) costs about 150 bytes.
struct KeySource::Impl {
    std::unique_ptr<const ExtendedPrivKey> account_priv;  // wiped by its destructor; null: watch-only
    std::optional<ExtendedPubKey> account_pub;
    std::unique_ptr<const DerivationPath> account_path;  // known for seed/mnemonic sources
    // Parsed public keys, made by the first derivation that needs them:
    // [0] chain 0, [1] chain 1, [2] the account key itself. (P1)/(P2): the
    // first thread to finish publishes its copy by CAS; a loser frees its own.
    mutable std::array<boost::atomic<const detail::ChainKey*>, 3> parsed{};

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        for (auto& p : parsed) delete p.load(boost::memory_order_relaxed);  // relaxed: no concurrent users
    }
};

namespace {

// The parsed key `which` ([0]/[1] chain 0/1, [2] the account key) of a source
// that can derive. Errors: invalid_public_key / invalid_child (probability
// < 2^-127; not cached, so every call reports it). Lock-free.
Result<const detail::ChainKey*> parsed_key(const KeySource::Impl& impl, unsigned which) {
    // (P1) acquire: pairs with the release CAS (P2): the key's bytes are visible.
    if (const detail::ChainKey* k = impl.parsed[which].load(boost::memory_order_acquire)) return k;
    Result<detail::ChainKey> made = make_error(Errc::invalid_child, "");
    if (which == 2) {
        made = detail::make_chain_key(impl.account_pub->public_key(), impl.account_pub->chain_code());
    } else {
        auto account = parsed_key(impl, 2);
        if (!account) return std::move(account).error();
        made = detail::ckd_pub(**account, which);
    }
    if (!made) {
        return make_error(made.error().code, which == 2 ? "the account key is invalid"
                                                        : "chain " + std::to_string(which) + " of the account key is invalid");
    }
    auto fresh = std::make_unique<const detail::ChainKey>(*made);
    const detail::ChainKey* expected = nullptr;
    // (P2) acq_rel: release publishes the key to (P1); acquire on failure reads the winner's.
    if (impl.parsed[which].compare_exchange_strong(expected, fresh.get(), boost::memory_order_acq_rel,
                                                   boost::memory_order_acquire)) {
        return fresh.release();
    }
    return expected;
}

}  // namespace

KeySource KeySource::from_private(ExtendedPrivKey account_key) {
    auto impl = std::make_shared<Impl>();
    impl->account_pub = account_key.to_public();
    impl->account_priv = std::make_unique<const ExtendedPrivKey>(std::move(account_key));
    return KeySource(std::move(impl));
}

KeySource KeySource::from_public(ExtendedPubKey account_key) {
    auto impl = std::make_shared<Impl>();
    impl->account_pub = std::move(account_key);
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
    const_cast<Impl&>(*ks.impl_).account_path = std::make_unique<const DerivationPath>(account_path);
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
    if (!impl_->account_path) return std::nullopt;
    return *impl_->account_path;
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
    // base_path == pool_base_path(account_path, type), compared in place (no allocation:
    // the C ABI checks every hand-out's key source).
    const auto below_account = [&](const DerivationPath& account) {
        const auto& a = account.components();
        return c.size() == a.size() + chain_levels && std::equal(a.begin(), a.end(), c.begin());
    };
    if (!relative && impl_->account_path && !below_account(*impl_->account_path)) {
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
bool KeySource::is_watch_only() const noexcept { return !impl_ || !impl_->account_priv; }

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
            auto chain = parsed_key(*impl_, type == PoolType::internal ? 1u : 0u);
            if (!chain) return std::move(chain).error();
            return detail::ckd_pub_hash160(**chain, index);
        }
        case PoolType::absent: {
            auto account = parsed_key(*impl_, 2);
            if (!account) return std::move(account).error();
            return detail::ckd_pub_hash160(**account, index);
        }
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
