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
