// addrpool — KeySource: the account key a pool derives its addresses from.
#ifndef ADDRPOOL_KEY_SOURCE_HPP
#define ADDRPOOL_KEY_SOURCE_HPP

#include <addrpool/export.hpp>
#include <addrpool/keys.hpp>
#include <addrpool/network.hpp>
#include <addrpool/result.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace addrpool {

// Where a pool's addresses sit below the account key held by its KeySource:
// external = [0, i], internal = [1, i], absent = [i] (DIP-17 platform payment
// keys: the key at m/9'/coin'/17'/account'/key_class'), absent_hardened = [i'].
enum class PoolType : std::uint8_t { external = 0, internal = 1, absent = 2, absent_hardened = 3 };

// The base path of a pool of `type` on the account at `account_path`:
// account_path/0 (external), account_path/1 (internal), account_path itself
// (absent, absent_hardened: the index is the last component). Cannot fail.
ADDRPOOL_EXPORT DerivationPath pool_base_path(const DerivationPath& account_path, PoolType type);

// How many path components a pool of `type` adds below the account key to
// reach an address: 2 (chain and index) or 1 (index).
constexpr unsigned levels_below_account(PoolType type) noexcept {
    return type == PoolType::external || type == PoolType::internal ? 2u : 1u;
}

// The key material a pool derives from. Cheap to copy (shared, immutable
// state); copies share the cached chain-level keys, so each address costs one
// public child derivation whether the source is an xprv or an xpub.
// All member functions are thread-safe and lock-free.
class ADDRPOOL_EXPORT KeySource {
public:
    // An account-level private key (e.g. m/44'/1'/0'). Can derive every pool
    // type. The secret is wiped when the last copy is destroyed.
    static KeySource from_private(ExtendedPrivKey account_key);
    // An account-level public key. Cannot derive absent_hardened pools.
    static KeySource from_public(ExtendedPubKey account_key);
    // No key: the pool can only hand out addresses it already derived
    // (e.g. after load()); anything else fails with Errc::no_key_source.
    static KeySource none();

    // ---- from the texts a user has ----------------------------------------
    // Each checks what it can before any expensive step, and never puts a
    // secret in an error message. The network is the one the pool will use:
    // testnet, devnet and regtest share tprv/tpub, so a tprv is accepted for
    // any of them and labelled with `network`.

    // An account xprv ("xprv…" on mainnet, "tprv…" on the test networks).
    // Errors: the parse errors of ExtendedPrivKey::parse (a public key gives
    // key_type_mismatch), network_mismatch (the other network family).
    static Result<KeySource> from_xprv(std::string_view account_xprv, Network network);
    // An account xpub ("xpub…"/"tpub…"). Errors: the parse errors of
    // ExtendedPubKey::parse, network_mismatch.
    static Result<KeySource> from_xpub(std::string_view account_xpub, Network network);
    // As the two above, for the network the key's version bytes name:
    // xprv/xpub → mainnet, tprv/tpub → testnet (the test networks share
    // them; a pool on devnet or regtest accepts such a source, see
    // check_pool). For callers that hold only the text, e.g. the C ABI's
    // addrpool_key_source_from_xprv. Errors: the parse errors only.
    static Result<KeySource> from_xprv(std::string_view account_xprv);
    static Result<KeySource> from_xpub(std::string_view account_xpub);
    // Either of the two above, whichever the text is.
    static Result<KeySource> from_extended_key(std::string_view account_key, Network network);
    // The account at `account_path` below the master key of a BIP39 mnemonic
    // (+ passphrase, used byte for byte, see mnemonic_to_seed). The account
    // path is remembered (account_path()). Blocking: 2048 PBKDF2 rounds plus
    // one private derivation per path component. Errors: invalid_mnemonic,
    // mnemonic_checksum, invalid_child, depth_exceeded.
    static Result<KeySource> from_mnemonic(std::string_view words, std::string_view passphrase, Network network,
                                           const DerivationPath& account_path);
    // As from_mnemonic, from a BIP32 seed. Errors: invalid_seed, invalid_child,
    // depth_exceeded.
    static Result<KeySource> from_seed(const Seed& seed, Network network, const DerivationPath& account_path);

    // ---- what the source knows about its account key -----------------------

    // The network the key was made for (nullopt for none()).
    std::optional<Network> network() const noexcept;
    // The account key's full path when the source was made from a seed or
    // mnemonic; nullopt for extended keys (their text holds only the depth
    // and the last child number) and for none().
    std::optional<DerivationPath> account_path() const;

    // Whether a pool with this base path, type and network may derive from
    // this source. The base path is either the full path (as pool_base_path
    // gives it: as many components as the account key's depth plus the
    // chain, whose component at the key's depth equals the key's child
    // number, and equal to pool_base_path(account_path(), type) when the
    // account path is known) or the path relative to the account key ("m/0",
    // "m/1", or "m" for absent pools). Errors: invalid_argument naming the
    // contradiction (depth, child number, chain component, network family);
    // hardened_from_public for an absent_hardened pool on a public source.
    // Success for none() (it derives nothing). Lock-free.
    Result<void> check_pool(const DerivationPath& base_path, PoolType type, Network network) const;

    bool can_derive() const noexcept;
    bool is_watch_only() const noexcept;  // true for from_public and none()

    // The account-level public key, if any.
    std::optional<ExtendedPubKey> account_public_key() const;

    // hash160 of the public key at `index` of a pool of `type` below this
    // source's account key. Errors: no_key_source, hardened_from_public,
    // index_out_of_range (index >= 2^31), invalid_child.
    Result<Hash160> derive_hash160(PoolType type, std::uint32_t index) const;

    struct ADDRPOOL_NO_EXPORT Impl;  // lib/keys/key_source.cpp; not exported

private:
    explicit KeySource(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

}  // namespace addrpool

#endif  // ADDRPOOL_KEY_SOURCE_HPP
