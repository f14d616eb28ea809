// Creating and destroying pools: the C shims over KeySource::from_*,
// pool_base_path, KeySource::check_pool and the AddressPool constructor.
#include "capi/capi.hpp"

using namespace addrpool;
using namespace addrpool::detail::capi;

namespace {

// A pool on the account at `account` that `keys` holds, after the C++
// policy's check that the key fits it.
addrpool_status new_checked_pool(const DerivationPath& account, PoolArgs args, std::uint32_t gap_limit, KeySource keys,
                                 addrpool_pool** out) {
    AddressPool pool(pool_base_path(account, args.type), args.type, gap_limit, args.network, std::move(args.options));
    ADDRPOOL_TRY(check_keys_fit(keys, pool));
    return new_pool(std::move(pool), std::move(keys), out);
}

addrpool_status pool_new_impl(const char* account_key, const char* account_path, const addrpool_network& network,
                              const addrpool_pool_type& type, std::uint32_t gap_limit,
                              const addrpool_pool_options* options, addrpool_pool** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        ADDRPOOL_REQUIRE(account_key);
        PoolArgs args;
        ADDRPOOL_TRY(to_pool_args(network, type, gap_limit, from_options(options), args));
        DerivationPath account;  // "m": paths relative to the account key
        if (account_path != nullptr) ADDRPOOL_TRY(to_path(account_path, account));
        KeySource keys = KeySource::none();
        ADDRPOOL_TRY(take(KeySource::from_extended_key(account_key, args.network), keys));
        // A non-NULL account_path is the full path, also when it is "m" (which
        // check_pool would read as relative to a deeper key).
        if (account_path != nullptr && account.size() != keys.account_public_key()->depth()) {
            return fail(ADDRPOOL_E_INVALID_ARGUMENT, "account_path does not have as many components as the key's depth");
        }
        return new_checked_pool(account, std::move(args), gap_limit, std::move(keys), out);
    });
}

// The pools on an account below a master secret (a mnemonic or a seed):
// `secret` is only checked for NULL here; `make` turns it into the account's
// KeySource. The cheap checks come first: a bad path costs no PBKDF2.
template <class Make>
addrpool_status account_pool(const void* secret, const char* secret_name, const char* account_path,
                             const addrpool_network& network, const addrpool_pool_type& type, std::uint32_t gap_limit,
                             const addrpool_pool_options* options, addrpool_pool** out, Make make) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        if (secret == nullptr) return null_arg(secret_name);
        ADDRPOOL_REQUIRE(account_path);
        PoolArgs args;
        ADDRPOOL_TRY(to_pool_args(network, type, gap_limit, from_options(options), args));
        DerivationPath account;
        ADDRPOOL_TRY(to_path(account_path, account));
        ADDRPOOL_TRY(check_depth(account.size(), args.type));
        KeySource keys = KeySource::none();
        ADDRPOOL_TRY(take(make(args.network, account), keys));
        return new_checked_pool(account, std::move(args), gap_limit, std::move(keys), out);
    });
}

addrpool_status mnemonic_impl(const char* mnemonic, const char* passphrase, const char* account_path,
                              const addrpool_network& network, const addrpool_pool_type& type,
                              std::uint32_t gap_limit, const addrpool_pool_options* options, addrpool_pool** out) {
    return account_pool(mnemonic, "mnemonic", account_path, network, type, gap_limit, options, out,
                        [&](Network net, const DerivationPath& account) {
                            const std::string_view pass = passphrase != nullptr ? passphrase : std::string_view();
                            return KeySource::from_mnemonic(mnemonic, pass, net, account);
                        });
}

}  // namespace

extern "C" {

addrpool_status addrpool_pool_options_init(addrpool_pool_options* options) {
    return guard([&] {
        ADDRPOOL_REQUIRE(options);
        options->lookahead = 0;
        options->gap_policy = ADDRPOOL_GAP_UNBOUNDED;
        options->format = ADDRPOOL_FORMAT_BASE58CHECK;
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_pool_new_from_key(const char* account_key, addrpool_network network,
                                           addrpool_pool_type type, uint32_t gap_limit, addrpool_pool** out) {
    return pool_new_impl(account_key, nullptr, network, type, gap_limit, nullptr, out);
}

addrpool_status addrpool_pool_new(const char* account_key, const char* account_path, addrpool_network network,
                                  addrpool_pool_type type, uint32_t gap_limit, const addrpool_pool_options* options,
                                  addrpool_pool** out) {
    return pool_new_impl(account_key, account_path, network, type, gap_limit, options, out);
}

addrpool_status addrpool_pool_new_from_mnemonic(const char* mnemonic, const char* passphrase,
                                                const char* account_path, addrpool_network network,
                                                addrpool_pool_type type, uint32_t gap_limit, addrpool_pool** out) {
    return mnemonic_impl(mnemonic, passphrase, account_path, network, type, gap_limit, nullptr, out);
}

addrpool_status addrpool_pool_new_from_mnemonic_ex(const char* mnemonic, const char* passphrase,
                                                   const char* account_path, addrpool_network network,
                                                   addrpool_pool_type type, uint32_t gap_limit,
                                                   const addrpool_pool_options* options, addrpool_pool** out) {
    return mnemonic_impl(mnemonic, passphrase, account_path, network, type, gap_limit, options, out);
}

addrpool_status addrpool_pool_new_from_seed(const uint8_t* seed, size_t seed_len, const char* account_path,
                                            addrpool_network network, addrpool_pool_type type, uint32_t gap_limit,
                                            const addrpool_pool_options* options, addrpool_pool** out) {
    return account_pool(seed, "seed", account_path, network, type, gap_limit, options, out,
                        [&](Network net, const DerivationPath& account) {
                            const Seed s(std::span<const std::uint8_t>(seed, seed_len));  // wiped on return
                            return KeySource::from_seed(s, net, account);
                        });
}

addrpool_status addrpool_pool_new_keyless(const char* base_path, addrpool_pool_type type, uint32_t gap_limit,
                                          addrpool_network network, const addrpool_pool_options* options,
                                          addrpool_pool** out) {
    return new_keyless_pool(base_path, type, gap_limit, network, out, from_options(options));
}

void addrpool_pool_free(addrpool_pool* pool) {
    delete pool;  // ~AddressPool and ~KeySource are noexcept; the key is wiped by ~ExtendedPrivKey
}

}  // extern "C"
