// addrpool — KeySource: the account key a pool derives its addresses from.
#ifndef ADDRPOOL_KEY_SOURCE_HPP
#define ADDRPOOL_KEY_SOURCE_HPP

#include <addrpool/keys.hpp>
#include <addrpool/network.hpp>
#include <addrpool/result.hpp>

#include <cstdint>
#include <memory>
#include <optional>

namespace addrpool {

// Where a pool's addresses sit below the account key held by its KeySource:
// external = [0, i], internal = [1, i], absent = [i] (DIP-17 platform payment
// keys: the key at m/9'/coin'/17'/account'/key_class'), absent_hardened = [i'].
enum class PoolType : std::uint8_t { external = 0, internal = 1, absent = 2, absent_hardened = 3 };

// The key material a pool derives from. Cheap to copy (shared, immutable
// state); copies share the cached chain-level keys, so each address costs one
// public child derivation whether the source is an xprv or an xpub.
// All member functions are thread-safe and lock-free.
class KeySource {
public:
    // An account-level private key (e.g. m/44'/1'/0'). Can derive every pool
    // type. The secret is wiped when the last copy is destroyed.
    static KeySource from_private(ExtendedPrivKey account_key);
    // An account-level public key. Cannot derive absent_hardened pools.
    static KeySource from_public(ExtendedPubKey account_key);
    // No key: the pool can only hand out addresses it already derived
    // (e.g. after load()); anything else fails with Errc::no_key_source.
    static KeySource none();

    bool can_derive() const noexcept;
    bool is_watch_only() const noexcept;  // true for from_public and none()

    // The account-level public key, if any.
    std::optional<ExtendedPubKey> account_public_key() const;

    // hash160 of the public key at `index` of a pool of `type` below this
    // source's account key. Errors: no_key_source, hardened_from_public,
    // index_out_of_range (index >= 2^31), invalid_child.
    Result<Hash160> derive_hash160(PoolType type, std::uint32_t index) const;

    struct Impl;

private:
    explicit KeySource(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

}  // namespace addrpool

#endif  // ADDRPOOL_KEY_SOURCE_HPP
