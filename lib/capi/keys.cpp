// Key sources and address parsing: the C shims over KeySource::from_* and
// Address::parse.
#include "capi/capi.hpp"

using namespace addrpool;
using namespace addrpool::detail::capi;

namespace {

// The common shape of the two extended-key constructors.
template <class Make>
addrpool_status key_source_from_text(const char* text, const char* name, addrpool_key_source** out, Make make) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        if (text == nullptr) return null_arg(name);
        KeySource keys = KeySource::none();
        ADDRPOOL_TRY(take(make(std::string_view(text)), keys));
        return new_key_source(std::move(keys), out);
    });
}

// The common shape of the two account constructors (mnemonic, seed):
// `secret` is only checked for NULL here; `make` derives the account.
template <class Make>
addrpool_status key_source_on_account(const void* secret, const char* secret_name, const addrpool_network& network,
                                      const char* account_path, addrpool_key_source** out, Make make) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        if (secret == nullptr) return null_arg(secret_name);
        ADDRPOOL_REQUIRE(account_path);
        Network net;
        ADDRPOOL_TRY(to_network(network, net));
        DerivationPath account;
        ADDRPOOL_TRY(to_path(account_path, account));
        KeySource keys = KeySource::none();
        ADDRPOOL_TRY(take(make(net, account), keys));
        return new_key_source(std::move(keys), out);
    });
}

}  // namespace

extern "C" {

addrpool_status addrpool_key_source_from_xprv(const char* account_xprv, addrpool_key_source** out) {
    return key_source_from_text(account_xprv, "account_xprv", out,
                                [](std::string_view t) { return KeySource::from_xprv(t); });
}

addrpool_status addrpool_key_source_from_xpub(const char* account_xpub, addrpool_key_source** out) {
    return key_source_from_text(account_xpub, "account_xpub", out,
                                [](std::string_view t) { return KeySource::from_xpub(t); });
}

addrpool_status addrpool_key_source_from_mnemonic(const char* mnemonic, const char* passphrase,
                                                  addrpool_network network, const char* account_path,
                                                  addrpool_key_source** out) {
    return key_source_on_account(mnemonic, "mnemonic", network, account_path, out,
                                 [&](Network net, const DerivationPath& account) {
                                     const std::string_view pass =
                                         passphrase != nullptr ? passphrase : std::string_view();
                                     return KeySource::from_mnemonic(mnemonic, pass, net, account);
                                 });
}

addrpool_status addrpool_key_source_from_seed(const uint8_t* seed, size_t seed_len, addrpool_network network,
                                              const char* account_path, addrpool_key_source** out) {
    return key_source_on_account(seed, "seed", network, account_path, out,
                                 [&](Network net, const DerivationPath& account) {
                                     const Seed s(std::span<const std::uint8_t>(seed, seed_len));  // wiped on return
                                     return KeySource::from_seed(s, net, account);
                                 });
}

addrpool_status addrpool_key_source_none(addrpool_key_source** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        return new_key_source(KeySource::none(), out);
    });
}

addrpool_status addrpool_key_source_clone(const addrpool_key_source* source, addrpool_key_source** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        ADDRPOOL_REQUIRE(source);
        return new_key_source(source->keys, out);
    });
}

void addrpool_key_source_free(addrpool_key_source* source) {
    delete source;  // ~KeySource is noexcept; the last copy wipes the key (~ExtendedPrivKey)
}

addrpool_status addrpool_key_source_kind(const addrpool_key_source* source, addrpool_key_kind* kind) {
    return guard([&] {
        if (kind != nullptr) *kind = ADDRPOOL_KEY_NONE;
        ADDRPOOL_REQUIRE(source);
        ADDRPOOL_REQUIRE(kind);
        if (source->keys.can_derive()) *kind = source->keys.is_watch_only() ? ADDRPOOL_KEY_PUBLIC : ADDRPOOL_KEY_PRIVATE;
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_key_source_network(const addrpool_key_source* source, addrpool_network* network,
                                            bool* known) {
    return guard([&] {
        if (network != nullptr) *network = ADDRPOOL_MAINNET;
        if (known != nullptr) *known = false;
        ADDRPOOL_REQUIRE(source);
        ADDRPOOL_REQUIRE(network);
        ADDRPOOL_REQUIRE(known);
        if (const auto n = source->keys.network()) {
            *network = static_cast<addrpool_network>(static_cast<int>(*n));
            *known = true;
        }
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_key_source_account_xpub(const addrpool_key_source* source, char* buf, size_t buf_len,
                                                 size_t* required) {
    return guard([&] {
        clear_string_out(buf, buf_len, required);
        ADDRPOOL_REQUIRE(source);
        const auto key = source->keys.account_public_key();
        if (!key) return fail(ADDRPOOL_E_NO_KEY_SOURCE, "the key source holds no key");
        return write_string(key->to_string(), buf, buf_len, required);
    });
}

addrpool_status addrpool_key_source_derive_address(const addrpool_key_source* source, addrpool_pool_type type,
                                                   uint32_t index, addrpool_network network,
                                                   addrpool_address_format format, char* address,
                                                   size_t address_len) {
    return guard([&] {
        ADDRPOOL_TRY(check_address_buffer(address, address_len, true, "address"));
        ADDRPOOL_REQUIRE(source);
        PoolType t;
        Network net;
        AddressFormat f;
        ADDRPOOL_TRY(to_pool_type(type, t));
        ADDRPOOL_TRY(to_network(network, net));
        ADDRPOOL_TRY(to_format(format, f));
        if (const auto n = source->keys.network(); n && !same_encoding(*n, net)) {
            return fail(ADDRPOOL_E_NETWORK_MISMATCH, "the key source's key belongs to another network family");
        }
        Hash160 hash{};
        ADDRPOOL_TRY(take(source->keys.derive_hash160(t, index), hash));
        if (!write_address(Address(net, AddressKind::p2pkh, hash, f).to_string(), address)) {
            return fail(ADDRPOOL_E_INTERNAL, "internal error: an address is longer than ADDRPOOL_ADDRESS_MAX");
        }
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_address_parse(const char* text, addrpool_network network, char* canonical,
                                       size_t canonical_len) {
    return guard([&] {
        ADDRPOOL_TRY(check_address_buffer(canonical, canonical_len, false, "canonical"));
        ADDRPOOL_REQUIRE(text);
        Network net;
        ADDRPOOL_TRY(to_network(network, net));
        const auto a = Address::parse(text, net);
        if (!a) return fail(a.error());
        if (canonical != nullptr && !write_address(a->to_string(), canonical)) {
            return fail(ADDRPOOL_E_INTERNAL, "internal error: an address is longer than ADDRPOOL_ADDRESS_MAX");
        }
        return ADDRPOOL_OK;
    });
}

}  // extern "C"
