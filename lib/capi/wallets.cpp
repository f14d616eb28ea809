// Wallet sets: the C shims over WalletSet and Account (<addrpool/wallet.hpp>).
// Each is guard() { clear outputs; translate arguments; call the C++ API;
// translate the result }, like the pool shims.
#include "capi/capi.hpp"

#include <addrpool/wallet.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>

// A set handle owns its WalletSet; an account handle is one shared reference.
struct addrpool_wallets {
    addrpool::WalletSet set;
};
struct addrpool_wallets_account {
    std::shared_ptr<addrpool::Account> account;
};

using namespace addrpool;
using namespace addrpool::detail::capi;

namespace {

// EXTERNAL or INTERNAL, as the account's pool. Enum by reference: see raw().
addrpool_status to_chain(const addrpool_pool_type& in, unsigned& out) {
    const long long v = raw(in);
    if (v != ADDRPOOL_EXTERNAL && v != ADDRPOOL_INTERNAL) {
        return fail(ADDRPOOL_E_INVALID_ARGUMENT, "chain must be ADDRPOOL_EXTERNAL or ADDRPOOL_INTERNAL");
    }
    out = static_cast<unsigned>(v);
    return ADDRPOOL_OK;
}

AddressPool& pool_of(const addrpool_wallets_account& a, unsigned chain) {
    return chain == 0 ? a.account->external() : a.account->internal();
}

addrpool_status new_account_handle(std::shared_ptr<Account> a, addrpool_wallets_account** out) {
    *out = new addrpool_wallets_account{std::move(a)};
    return ADDRPOOL_OK;
}

// addrpool_wallets_account_new(_ex): the same checks in the same order;
// `to_options` translates the caller's options struct.
template <class ToOptions>
addrpool_status new_account(const addrpool_key_source* keys, const char* account_path, addrpool_network network,
                            std::uint32_t gap_limit, addrpool_wallets_account** out, ToOptions to_options) {
    ADDRPOOL_REQUIRE(out);
    *out = nullptr;
    ADDRPOOL_REQUIRE(keys);
    ADDRPOOL_REQUIRE(account_path);
    Network net = Network::mainnet;
    ADDRPOOL_TRY(to_network(network, net));
    if (gap_limit == 0) return fail(ADDRPOOL_E_INVALID_ARGUMENT, "the gap limit must be at least 1");
    ADDRPOOL_TRY(check_gap_limit(gap_limit));
    PoolOptions opts;
    ADDRPOOL_TRY(to_options(opts));
    DerivationPath path;
    ADDRPOOL_TRY(to_path(account_path, path));
    std::shared_ptr<Account> a;
    ADDRPOOL_TRY(take(Account::bip44(keys->keys, std::move(path), net, gap_limit, std::move(opts)), a));
    return new_account_handle(std::move(a), out);
}

}  // namespace

extern "C" {

addrpool_status addrpool_wallets_new(addrpool_wallets** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        *out = new addrpool_wallets{};
        return ADDRPOOL_OK;
    });
}

void addrpool_wallets_free(addrpool_wallets* set) { delete set; }

addrpool_status addrpool_wallets_account_new(const addrpool_key_source* keys, const char* account_path,
                                             addrpool_network network, uint32_t gap_limit,
                                             const addrpool_pool_options* options, addrpool_wallets_account** out) {
    return guard([&] {
        return new_account(keys, account_path, network, gap_limit, out, from_options(options));
    });
}

addrpool_status addrpool_wallets_account_new_ex(const addrpool_key_source* keys, const char* account_path,
                                                addrpool_network network, uint32_t gap_limit,
                                                const addrpool_pool_options_ex* options,
                                                addrpool_wallets_account** out) {
    return guard([&] {
        return new_account(keys, account_path, network, gap_limit, out, from_options(options));
    });
}

void addrpool_wallets_account_free(addrpool_wallets_account* account) { delete account; }

addrpool_status addrpool_wallets_add(addrpool_wallets* set, const char* wallet, uint32_t account_number,
                                     const addrpool_wallets_account* account, bool* added) {
    return guard([&] {
        if (added != nullptr) *added = false;
        ADDRPOOL_REQUIRE(set);
        ADDRPOOL_REQUIRE(wallet);
        ADDRPOOL_REQUIRE(account);
        ADDRPOOL_REQUIRE(added);
        *added = set->set.add(wallet, account_number, account->account);
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_remove(addrpool_wallets* set, const char* wallet, uint32_t account_number,
                                        bool* removed) {
    return guard([&] {
        if (removed != nullptr) *removed = false;
        ADDRPOOL_REQUIRE(set);
        ADDRPOOL_REQUIRE(wallet);
        ADDRPOOL_REQUIRE(removed);
        *removed = set->set.remove(wallet, account_number);
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_find(const addrpool_wallets* set, const char* wallet, uint32_t account_number,
                                      addrpool_wallets_account** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        ADDRPOOL_REQUIRE(set);
        ADDRPOOL_REQUIRE(wallet);
        std::shared_ptr<Account> a = set->set.find(wallet, account_number);
        if (!a) return ADDRPOOL_OK;
        return new_account_handle(std::move(a), out);
    });
}

addrpool_status addrpool_wallets_size(const addrpool_wallets* set, size_t* size) {
    return guard([&] {
        if (size != nullptr) *size = 0;
        ADDRPOOL_REQUIRE(set);
        ADDRPOOL_REQUIRE(size);
        *size = set->set.size();
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_account_describe(const addrpool_wallets_account* account, addrpool_network* network,
                                                  uint32_t* gap_limit, addrpool_address_format* format) {
    return guard([&] {
        if (network != nullptr) *network = ADDRPOOL_MAINNET;
        if (gap_limit != nullptr) *gap_limit = 0;
        if (format != nullptr) *format = ADDRPOOL_FORMAT_BASE58CHECK;
        ADDRPOOL_REQUIRE(account);
        const AddressPool& p = account->account->external();
        if (network != nullptr) *network = static_cast<addrpool_network>(p.network());
        if (gap_limit != nullptr) *gap_limit = p.gap_limit();
        if (format != nullptr) *format = static_cast<addrpool_address_format>(p.format());
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_account_reserve(addrpool_wallets_account* account, addrpool_pool_type chain,
                                                 uint32_t* index, uint64_t* ticket, char* address,
                                                 size_t address_len) {
    return guard([&] {
        if (index != nullptr) *index = 0;
        if (ticket != nullptr) *ticket = 0;
        if (address != nullptr && address_len > 0) address[0] = '\0';
        ADDRPOOL_REQUIRE(account);
        ADDRPOOL_REQUIRE(index);
        ADDRPOOL_REQUIRE(ticket);
        unsigned c = 0;
        ADDRPOOL_TRY(to_chain(chain, c));
        ADDRPOOL_TRY(check_address_buffer(address, address_len, false, "address"));
        auto r = c == 0 ? account->account->next_receive_address() : account->account->next_change_address();
        if (!r) return fail(r.error());
        if (address != nullptr) {
            try {
                if (!write_address(r->address.to_string(), address)) {
                    (void)pool_of(*account, c).release_reservation(*r);
                    return fail(ADDRPOOL_E_INTERNAL, "internal error: an address is longer than ADDRPOOL_ADDRESS_MAX");
                }
            } catch (...) {  // encoding allocates: a failed call holds nothing
                (void)pool_of(*account, c).release_reservation(*r);
                throw;
            }
        }
        *index = r->index;
        *ticket = r->ticket;
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_account_release(addrpool_wallets_account* account, addrpool_pool_type chain,
                                                 uint32_t index, uint64_t ticket, bool* released) {
    return guard([&] {
        if (released != nullptr) *released = false;
        ADDRPOOL_REQUIRE(account);
        ADDRPOOL_REQUIRE(released);
        unsigned c = 0;
        ADDRPOOL_TRY(to_chain(chain, c));
        ADDRPOOL_TRY(check_index(index));
        *released = pool_of(*account, c).release_reservation(Reservation{index, Address{}, ticket});
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_account_stats(const addrpool_wallets_account* account, addrpool_pool_type chain,
                                               addrpool_pool_stats* out) {
    return guard([&] {
        if (out != nullptr) *out = addrpool_pool_stats{0, 0, 0, 0, 0, -1, -1, -1};
        ADDRPOOL_REQUIRE(account);
        ADDRPOOL_REQUIRE(out);
        unsigned c = 0;
        ADDRPOOL_TRY(to_chain(chain, c));
        *out = to_c_stats(pool_of(*account, c).stats());
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_account_scan_window_end(const addrpool_wallets_account* account,
                                                         addrpool_pool_type chain, uint32_t* end) {
    return guard([&] {
        if (end != nullptr) *end = 0;
        ADDRPOOL_REQUIRE(account);
        ADDRPOOL_REQUIRE(end);
        unsigned c = 0;
        ADDRPOOL_TRY(to_chain(chain, c));
        *end = pool_of(*account, c).scan_window_end();
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_account_state(const addrpool_wallets_account* account, addrpool_pool_type chain,
                                               uint32_t index, addrpool_address_state* state) {
    return guard([&] {
        if (state != nullptr) *state = ADDRPOOL_STATE_UNUSED;
        ADDRPOOL_REQUIRE(account);
        ADDRPOOL_REQUIRE(state);
        unsigned c = 0;
        ADDRPOOL_TRY(to_chain(chain, c));
        ADDRPOOL_TRY(check_index(index));
        *state = static_cast<addrpool_address_state>(pool_of(*account, c).state(index));
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_mark_scripts_used(addrpool_wallets* set, const uint8_t* const* scripts,
                                                   const size_t* script_lens, size_t count,
                                                   addrpool_wallets_match** matches, size_t* match_count) {
    return guard([&] {
        if (matches != nullptr) *matches = nullptr;
        if (match_count != nullptr) *match_count = 0;
        ADDRPOOL_REQUIRE(set);
        ADDRPOOL_REQUIRE(matches);
        ADDRPOOL_REQUIRE(match_count);
        if (count != 0) {
            ADDRPOOL_REQUIRE(scripts);
            ADDRPOOL_REQUIRE(script_lens);
        }
        std::vector<std::vector<std::uint8_t>> block(count);
        for (std::size_t i = 0; i < count; ++i) {
            if (script_lens[i] == 0) continue;
            if (scripts[i] == nullptr) return fail(ADDRPOOL_E_NULL_ARGUMENT, "scripts[i] is NULL with a length");
            block[i].assign(scripts[i], scripts[i] + script_lens[i]);
        }
        auto r = set->set.mark_scripts_used(block);
        if (!r) return fail(r.error());
        if (r->empty()) return ADDRPOOL_OK;
        // One buffer: the array, then the wallet names.
        std::size_t bytes = r->size() * sizeof(addrpool_wallets_match);
        for (const WalletMatch& m : *r) bytes += m.wallet.size() + 1;
        auto* buf = static_cast<unsigned char*>(std::malloc(bytes));
        if (buf == nullptr) return fail(ADDRPOOL_E_OUT_OF_MEMORY, "out of memory");
        auto* out = reinterpret_cast<addrpool_wallets_match*>(buf);
        char* names = reinterpret_cast<char*>(buf + r->size() * sizeof(addrpool_wallets_match));
        for (std::size_t i = 0; i < r->size(); ++i) {
            const WalletMatch& m = (*r)[i];
            std::memcpy(names, m.wallet.c_str(), m.wallet.size() + 1);
            out[i] = addrpool_wallets_match{m.position, names, m.account,
                                            m.chain == PoolType::external ? ADDRPOOL_EXTERNAL : ADDRPOOL_INTERNAL,
                                            m.index, m.newly_used};
            names += m.wallet.size() + 1;
        }
        *matches = out;
        *match_count = r->size();
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_address_script(const char* address, uint8_t* script, size_t script_len,
                                                size_t* len) {
    return guard([&] {
        if (len != nullptr) *len = 0;
        ADDRPOOL_REQUIRE(address);
        ADDRPOOL_REQUIRE(script);
        ADDRPOOL_REQUIRE(len);
        if (script_len < ADDRPOOL_SCRIPT_MAX) {
            return fail(ADDRPOOL_E_BUFFER_TOO_SMALL, "the script buffer is shorter than ADDRPOOL_SCRIPT_MAX");
        }
        Address a;
        ADDRPOOL_TRY(take(Address::parse(address), a));
        const std::vector<std::uint8_t> s = a.script_pubkey();
        std::memcpy(script, s.data(), s.size());
        *len = s.size();
        return ADDRPOOL_OK;
    });
}

void addrpool_wallets_matches_free(addrpool_wallets_match* matches) { std::free(matches); }

addrpool_status addrpool_wallets_sweep(addrpool_wallets* set, uint64_t ttl_ms, size_t* freed) {
    return guard([&] {
        if (freed != nullptr) *freed = 0;
        ADDRPOOL_REQUIRE(set);
        ADDRPOOL_REQUIRE(freed);
        // Clamped as in addrpool_sweep: about 292 years is "never expires".
        constexpr std::uint64_t max_ms = (static_cast<std::uint64_t>(INT64_MAX) - 999'999u) / 1'000'000u;
        const auto ttl = std::chrono::nanoseconds(std::chrono::milliseconds(ttl_ms > max_ms ? max_ms : ttl_ms));
        *freed = set->set.sweep_expired_reservations(ttl);
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_save(addrpool_wallets* set, const char* dir, size_t* written) {
    return guard([&] {
        if (written != nullptr) *written = 0;
        ADDRPOOL_REQUIRE(set);
        ADDRPOOL_REQUIRE(dir);
        auto r = set->set.save(std::filesystem::path(dir));
        if (!r) return fail(r.error());
        if (written != nullptr) *written = *r;
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_wallets_load(const char* dir, addrpool_wallets_keys_fn keys, void* context,
                                      const addrpool_pool_options* options, addrpool_wallets** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        ADDRPOOL_REQUIRE(dir);
        if (keys == nullptr) return null_arg("keys");
        PoolOptions opts;
        ADDRPOOL_TRY(to_pool_options(options, opts));
        auto r = WalletSet::load(
            std::filesystem::path(dir),
            [&](std::string_view wallet, std::uint32_t account) {
                const std::string name(wallet);
                const addrpool_key_source* ks = keys(context, name.c_str(), account);
                return ks != nullptr ? ks->keys : KeySource::none();
            },
            std::move(opts));
        if (!r) return fail(r.error());
        *out = new addrpool_wallets{std::move(*r)};
        return ADDRPOOL_OK;
    });
}

}  // extern "C"
