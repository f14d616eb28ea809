// The C ABI (include/addrpool/addrpool.h) over the C++ API.
//
// Every entry point runs its body through guard(), which turns a C++
// exception into a status (std::bad_alloc -> OUT_OF_MEMORY, anything else
// -> INTERNAL) and records the thread-local message. The message buffer is a
// fixed char array: recording an error never allocates, so reporting an
// out-of-memory failure cannot itself fail.
#include <addrpool/addrpool.h>
#include <addrpool/addrpool.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

using namespace addrpool;

struct addrpool_pool {
    AddressPool pool;
    KeySource keys;
};

namespace {

static_assert(ADDRPOOL_E_INVALID_ARGUMENT == static_cast<int>(Errc::invalid_argument));
static_assert(ADDRPOOL_E_INVALID_CHILD == static_cast<int>(Errc::invalid_child));
static_assert(ADDRPOOL_E_INCONSISTENT_DATA == static_cast<int>(Errc::inconsistent_data));
static_assert(ADDRPOOL_E_BACKEND_UNAVAILABLE == static_cast<int>(Errc::backend_unavailable));
static_assert(static_cast<int>(ADDRPOOL_MAINNET) == static_cast<int>(Network::mainnet));
static_assert(static_cast<int>(ADDRPOOL_REGTEST) == static_cast<int>(Network::regtest));
static_assert(static_cast<int>(ADDRPOOL_ABSENT_HARDENED) == static_cast<int>(PoolType::absent_hardened));
static_assert(static_cast<int>(ADDRPOOL_STATE_USED) == static_cast<int>(AddressState::used));

constexpr std::uint32_t kMaxIndex = 0x80000000u;
constexpr std::uint32_t kMaxGapLimit = 1u << 20;  // also the lookahead cap: one refill derives this many

// The last error of this thread. Plain chars: trivially destructible, no
// allocation, valid for the thread's lifetime.
thread_local char t_last_error[256] = "";

void set_message(std::string_view m) noexcept {
    const std::size_t n = m.size() < sizeof t_last_error - 1 ? m.size() : sizeof t_last_error - 1;
    std::memcpy(t_last_error, m.data(), n);
    t_last_error[n] = '\0';
}

addrpool_status fail(addrpool_status s, std::string_view message) noexcept {
    set_message(message);
    return s;
}

addrpool_status fail(const Error& e) noexcept {
    set_message(e.message);
    return static_cast<addrpool_status>(static_cast<int>(e.code));
}

// Runs body (returning addrpool_status, having set the message itself on
// failure); clears the message first so a success leaves "".
template <class F>
addrpool_status guard(F&& body) noexcept {
    t_last_error[0] = '\0';
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return fail(ADDRPOOL_E_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception&) {
        // what() of a standard exception could echo an argument; keep it out.
        return fail(ADDRPOOL_E_INTERNAL, "internal error: unexpected C++ exception");
    } catch (...) {
        return fail(ADDRPOOL_E_INTERNAL, "internal error: unexpected exception");
    }
}

addrpool_status null_arg(const char* name) noexcept {
    char buf[96];
    std::string_view prefix = "argument '";
    std::size_t n = 0;
    auto put = [&](std::string_view s) {
        for (char c : s) {
            if (n + 1 < sizeof buf) buf[n++] = c;
        }
    };
    put(prefix);
    put(name);
    put("' is NULL");
    return fail(ADDRPOOL_E_NULL_ARGUMENT, std::string_view(buf, n));
}

#define ADDRPOOL_REQUIRE(p) \
    do {                    \
        if ((p) == nullptr) return null_arg(#p); \
    } while (0)

// The value of a C enum argument, read as its underlying integer. A C
// caller may pass any int; in C++ loading an enum object that holds a value
// outside the enum's range is undefined (UBSan's -fsanitize=enum reports it),
// so enum arguments are bound by reference and copied out as bytes until
// they are validated.
template <class E>
long long raw(const E& e) noexcept {
    std::underlying_type_t<E> v;
    std::memcpy(&v, &e, sizeof v);
    return static_cast<long long>(v);
}

bool valid_network(const addrpool_network& n) { return raw(n) >= 0 && raw(n) <= ADDRPOOL_REGTEST; }
bool valid_type(const addrpool_pool_type& t) { return raw(t) >= 0 && raw(t) <= ADDRPOOL_ABSENT_HARDENED; }

addrpool_status check_index(std::uint32_t index) noexcept {
    if (index >= kMaxIndex) return fail(ADDRPOOL_E_INDEX_OUT_OF_RANGE, "index is not below 2^31");
    return ADDRPOOL_OK;
}

// Options resolved into C++ form; the enum checks live here.
addrpool_status to_pool_options(const addrpool_pool_options* in, PoolOptions& out) {
    if (in == nullptr) return ADDRPOOL_OK;
    if (in->lookahead > kMaxGapLimit) return fail(ADDRPOOL_E_INVALID_ARGUMENT, "lookahead is above 2^20");
    if (raw(in->gap_policy) != ADDRPOOL_GAP_UNBOUNDED && raw(in->gap_policy) != ADDRPOOL_GAP_ERROR) {
        return fail(ADDRPOOL_E_INVALID_ARGUMENT, "gap_policy is not an addrpool_gap_policy value");
    }
    if (raw(in->format) != ADDRPOOL_FORMAT_P2PKH && raw(in->format) != ADDRPOOL_FORMAT_PLATFORM) {
        return fail(ADDRPOOL_E_INVALID_ARGUMENT, "format is not an addrpool_address_format value");
    }
    out.lookahead = in->lookahead;
    out.gap_policy = in->gap_policy == ADDRPOOL_GAP_ERROR ? GapPolicy::error : GapPolicy::unbounded;
    out.format = in->format == ADDRPOOL_FORMAT_PLATFORM ? AddressFormat::platform : AddressFormat::base58check;
    return ADDRPOOL_OK;
}

addrpool_status check_common(const addrpool_network& network, const addrpool_pool_type& type,
                             std::uint32_t gap_limit) {
    if (!valid_network(network)) return fail(ADDRPOOL_E_INVALID_ARGUMENT, "network is not an addrpool_network value");
    if (!valid_type(type)) return fail(ADDRPOOL_E_INVALID_ARGUMENT, "type is not an addrpool_pool_type value");
    if (gap_limit > kMaxGapLimit) return fail(ADDRPOOL_E_INVALID_ARGUMENT, "gap_limit is above 2^20");
    return ADDRPOOL_OK;
}

DerivationPath base_path_for(const DerivationPath& account, PoolType t) { return pool_base_path(account, t); }

// An account key as a KeySource, checked against the network, the pool
// type and the depth limit.
addrpool_status key_source_from_text(const char* text, Network network, PoolType type, KeySource& out,
                                     std::uint8_t& depth, std::uint32_t& child_number) {
    const std::string_view sv(text);
    auto priv = ExtendedPrivKey::parse(sv);
    if (priv) {
        if (!same_encoding(priv->network(), network)) {
            return fail(ADDRPOOL_E_NETWORK_MISMATCH, "the account key belongs to another network family");
        }
        depth = priv->depth();
        child_number = priv->child_number();
        if (depth + levels_below_account(type) > 255) {
            return fail(ADDRPOOL_E_DEPTH_EXCEEDED, "the pool's addresses would be deeper than 255");
        }
        out = KeySource::from_private(priv->with_network(network));
        return ADDRPOOL_OK;
    }
    if (priv.error().code != Errc::key_type_mismatch) return fail(priv.error());
    // A public version (or public data under a private version): read it as
    // a public key, which reports the right error for the latter.
    auto pub = ExtendedPubKey::parse(sv);
    if (!pub) return fail(pub.error());
    if (!same_encoding(pub->network(), network)) {
        return fail(ADDRPOOL_E_NETWORK_MISMATCH, "the account key belongs to another network family");
    }
    if (type == PoolType::absent_hardened) {
        return fail(ADDRPOOL_E_HARDENED_FROM_PUBLIC, "an absent_hardened pool needs a private account key");
    }
    depth = pub->depth();
    child_number = pub->child_number();
    if (depth + levels_below_account(type) > 255) {
        return fail(ADDRPOOL_E_DEPTH_EXCEEDED, "the pool's addresses would be deeper than 255");
    }
    out = KeySource::from_public(pub->with_network(network));
    return ADDRPOOL_OK;
}

addrpool_status make_pool(DerivationPath base, PoolType type, std::uint32_t gap_limit, Network network,
                          PoolOptions options, KeySource keys, addrpool_pool** out) {
    *out = new addrpool_pool{AddressPool(std::move(base), type, gap_limit, network, std::move(options)),
                             std::move(keys)};
    return ADDRPOOL_OK;
}

// The common tail of the seed and mnemonic constructors.
addrpool_status pool_from_seed(const Seed& seed, const char* account_path, const addrpool_network& network,
                               const addrpool_pool_type& type, std::uint32_t gap_limit,
                               const addrpool_pool_options* options, addrpool_pool** out) {
    const auto net = static_cast<Network>(network);
    const auto t = static_cast<PoolType>(type);
    PoolOptions opts;
    if (auto s = to_pool_options(options, opts); s != ADDRPOOL_OK) return s;
    auto path = DerivationPath::parse(account_path);
    if (!path) return fail(path.error());
    if (path->size() + levels_below_account(t) > 255) {
        return fail(ADDRPOOL_E_DEPTH_EXCEEDED, "the pool's addresses would be deeper than 255");
    }
    auto master = ExtendedPrivKey::from_seed(seed, net);
    if (!master) return fail(master.error());
    auto account = master->derive(*path);
    if (!account) return fail(account.error());
    return make_pool(base_path_for(*path, t), t, gap_limit, net, std::move(opts),
                     KeySource::from_private(std::move(*account)), out);
}

addrpool_status write_string(const std::string& s, char* buf, std::size_t buf_len, std::size_t* required) {
    const std::size_t need = s.size() + 1;
    if (buf == nullptr) {
        if (buf_len != 0) return null_arg("buf");
        if (required == nullptr) return null_arg("required");
        *required = need;
        return ADDRPOOL_OK;
    }
    if (required != nullptr) *required = need;
    if (buf_len < need) {
        if (buf_len > 0) buf[0] = '\0';
        return fail(ADDRPOOL_E_BUFFER_TOO_SMALL, "the buffer is too small; *required gives the size");
    }
    std::memcpy(buf, s.c_str(), need);
    return ADDRPOOL_OK;
}

// Shared by the two string getters: clear the outputs, validate.
addrpool_status begin_string_out(const addrpool_pool* pool, std::uint32_t index, char* buf, std::size_t buf_len,
                                 std::size_t* required) {
    if (required != nullptr) *required = 0;
    if (buf != nullptr && buf_len > 0) buf[0] = '\0';
    ADDRPOOL_REQUIRE(pool);
    return check_index(index);
}

// Enum arguments by reference: see raw().
addrpool_status pool_new_impl(const char* account_key, const char* account_path, const addrpool_network& network,
                              const addrpool_pool_type& type, std::uint32_t gap_limit,
                              const addrpool_pool_options* options, addrpool_pool** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        ADDRPOOL_REQUIRE(account_key);
        if (auto s = check_common(network, type, gap_limit); s != ADDRPOOL_OK) return s;
        PoolOptions opts;
        if (auto s = to_pool_options(options, opts); s != ADDRPOOL_OK) return s;
        const auto net = static_cast<Network>(network);
        const auto t = static_cast<PoolType>(type);
        DerivationPath account;  // "m": relative to the account key
        if (account_path != nullptr) {
            auto p = DerivationPath::parse(account_path);
            if (!p) return fail(p.error());
            account = std::move(*p);
        }
        KeySource keys = KeySource::none();
        std::uint8_t depth = 0;
        std::uint32_t child = 0;
        if (auto s = key_source_from_text(account_key, net, t, keys, depth, child); s != ADDRPOOL_OK) return s;
        if (account_path != nullptr &&
            (account.size() != depth || (depth > 0 && account.components().back() != child))) {
            return fail(ADDRPOOL_E_INVALID_ARGUMENT, "account_path does not match the account key's depth and child number");
        }
        return make_pool(base_path_for(account, t), t, gap_limit, net, std::move(opts), std::move(keys), out);
    });
}

addrpool_status mnemonic_impl(const char* mnemonic, const char* passphrase, const char* account_path,
                              const addrpool_network& network, const addrpool_pool_type& type,
                              std::uint32_t gap_limit, const addrpool_pool_options* options, addrpool_pool** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        ADDRPOOL_REQUIRE(mnemonic);
        ADDRPOOL_REQUIRE(account_path);
        if (auto s = check_common(network, type, gap_limit); s != ADDRPOOL_OK) return s;
        // Cheap checks before PBKDF2.
        PoolOptions unused;
        if (auto s = to_pool_options(options, unused); s != ADDRPOOL_OK) return s;
        if (auto p = DerivationPath::parse(account_path); !p) return fail(p.error());
        auto seed = mnemonic_to_seed(mnemonic, passphrase != nullptr ? std::string_view(passphrase) : std::string_view());
        if (!seed) return fail(seed.error());
        return pool_from_seed(*seed, account_path, network, type, gap_limit, options, out);
    });
}

}  // namespace

extern "C" {

const char* addrpool_last_error(void) { return t_last_error; }

const char* addrpool_status_name(addrpool_status status) {
    const long long v = raw(status);
    if (v == ADDRPOOL_OK) return "ok";
    if (v >= ADDRPOOL_E_INVALID_ARGUMENT && v <= ADDRPOOL_E_BACKEND_UNAVAILABLE) return errc_name(static_cast<Errc>(v));
    switch (v) {
        case ADDRPOOL_E_NULL_ARGUMENT: return "null_argument";
        case ADDRPOOL_E_BUFFER_TOO_SMALL: return "buffer_too_small";
        case ADDRPOOL_E_OUT_OF_MEMORY: return "out_of_memory";
        case ADDRPOOL_E_INTERNAL: return "internal";
        default: return "unknown";
    }
}

addrpool_status addrpool_pool_options_init(addrpool_pool_options* options) {
    return guard([&] {
        ADDRPOOL_REQUIRE(options);
        options->lookahead = 0;
        options->gap_policy = ADDRPOOL_GAP_UNBOUNDED;
        options->format = ADDRPOOL_FORMAT_P2PKH;
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
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        ADDRPOOL_REQUIRE(seed);
        ADDRPOOL_REQUIRE(account_path);
        if (auto s = check_common(network, type, gap_limit); s != ADDRPOOL_OK) return s;
        if (seed_len < 16 || seed_len > 64) return fail(ADDRPOOL_E_INVALID_SEED, "seed length is outside 16..64 bytes");
        const Seed s(std::span<const std::uint8_t>(seed, seed_len));
        return pool_from_seed(s, account_path, network, type, gap_limit, options, out);
    });
}

void addrpool_pool_free(addrpool_pool* pool) {
    delete pool;  // ~AddressPool and ~KeySource are noexcept; the key is wiped by ~ExtendedPrivKey
}

addrpool_status addrpool_reserve(addrpool_pool* pool, uint32_t* index, uint64_t* ticket, char* address,
                                 size_t address_len) {
    return guard([&] {
        if (index != nullptr) *index = 0;
        if (ticket != nullptr) *ticket = 0;
        if (address != nullptr && address_len > 0) address[0] = '\0';
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(index);
        ADDRPOOL_REQUIRE(ticket);
        if (address == nullptr && address_len != 0) return null_arg("address");
        if (address != nullptr && address_len < ADDRPOOL_ADDRESS_MAX) {
            return fail(ADDRPOOL_E_BUFFER_TOO_SMALL, "address_len is below ADDRPOOL_ADDRESS_MAX");
        }
        auto r = pool->pool.reserve(pool->keys, true);
        if (!r) return fail(r.error());
        if (address != nullptr) {
            // Encoding allocates: if it fails, give the index back so a
            // failed call holds no reservation.
            try {
                const std::string text = r->address.to_string();
                if (text.size() + 1 > address_len) {
                    (void)pool->pool.release_reservation(*r);
                    return fail(ADDRPOOL_E_INTERNAL, "internal error: an address is longer than ADDRPOOL_ADDRESS_MAX");
                }
                std::memcpy(address, text.c_str(), text.size() + 1);
            } catch (...) {
                (void)pool->pool.release_reservation(*r);
                throw;
            }
        }
        *index = r->index;
        *ticket = r->ticket;
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_release(addrpool_pool* pool, uint32_t index, uint64_t ticket, bool* released) {
    return guard([&] {
        if (released != nullptr) *released = false;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(released);
        if (auto s = check_index(index); s != ADDRPOOL_OK) return s;
        *released = pool->pool.release_reservation(Reservation{index, Address{}, ticket});
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_release_index(addrpool_pool* pool, uint32_t index, bool* released) {
    return guard([&] {
        if (released != nullptr) *released = false;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(released);
        if (auto s = check_index(index); s != ADDRPOOL_OK) return s;
        *released = pool->pool.release_reservation(index);
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_sweep(addrpool_pool* pool, uint64_t ttl_ms, size_t* freed) {
    return guard([&] {
        if (freed != nullptr) *freed = 0;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(freed);
        // nanoseconds is a signed 64-bit count: clamp so that converting the
        // milliseconds cannot overflow it (about 292 years: never expires).
        constexpr std::uint64_t max_ms = (static_cast<std::uint64_t>(INT64_MAX) - 999'999u) / 1'000'000u;
        const auto ttl = std::chrono::nanoseconds(std::chrono::milliseconds(ttl_ms > max_ms ? max_ms : ttl_ms));
        *freed = pool->pool.sweep_expired_reservations(ttl);
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_mark_used(addrpool_pool* pool, const char* address, bool* changed) {
    return guard([&] {
        if (changed != nullptr) *changed = false;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(address);
        ADDRPOOL_REQUIRE(changed);
        auto a = Address::parse(address, pool->pool.network());
        if (!a) return fail(a.error());
        *changed = pool->pool.mark_used(*a);
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_mark_index_used(addrpool_pool* pool, uint32_t index, bool* changed) {
    return guard([&] {
        if (changed != nullptr) *changed = false;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(changed);
        if (auto s = check_index(index); s != ADDRPOOL_OK) return s;
        *changed = pool->pool.mark_index_used(index);
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_stats(const addrpool_pool* pool, addrpool_pool_stats* out) {
    return guard([&] {
        if (out != nullptr) *out = addrpool_pool_stats{0, 0, 0, 0, 0, -1, -1, -1};
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(out);
        const PoolStats s = pool->pool.stats();
        auto opt = [](const std::optional<std::uint32_t>& v) -> std::int64_t { return v ? std::int64_t{*v} : -1; };
        *out = addrpool_pool_stats{s.generated,        s.used,
                                   s.reserved,         s.unused,
                                   s.gap_limit,        opt(s.highest_used),
                                   opt(s.highest_reserved), opt(s.highest_generated)};
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_scan_window_end(const addrpool_pool* pool, uint32_t* end) {
    return guard([&] {
        if (end != nullptr) *end = 0;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(end);
        *end = pool->pool.scan_window_end();
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_state(const addrpool_pool* pool, uint32_t index, addrpool_address_state* state) {
    return guard([&] {
        if (state != nullptr) *state = ADDRPOOL_STATE_UNUSED;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(state);
        if (auto s = check_index(index); s != ADDRPOOL_OK) return s;
        *state = static_cast<addrpool_address_state>(static_cast<int>(pool->pool.state(index)));
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_address_at(const addrpool_pool* pool, uint32_t index, char* buf, size_t buf_len,
                                    size_t* required) {
    return guard([&] {
        if (auto s = begin_string_out(pool, index, buf, buf_len, required); s != ADDRPOOL_OK) return s;
        const auto a = pool->pool.address_at(index);
        if (!a) return fail(ADDRPOOL_E_INVALID_ARGUMENT, "the index is not generated");
        return write_string(a->to_string(), buf, buf_len, required);
    });
}

addrpool_status addrpool_index_of(const addrpool_pool* pool, const char* address, uint32_t* index, bool* found) {
    return guard([&] {
        if (index != nullptr) *index = 0;
        if (found != nullptr) *found = false;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(address);
        ADDRPOOL_REQUIRE(index);
        ADDRPOOL_REQUIRE(found);
        auto a = Address::parse(address, pool->pool.network());
        if (!a) return fail(a.error());
        if (const auto i = pool->pool.index_of(*a)) {
            *index = *i;
            *found = true;
        }
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_path_of(const addrpool_pool* pool, uint32_t index, char* buf, size_t buf_len,
                                 size_t* required) {
    return guard([&] {
        if (auto s = begin_string_out(pool, index, buf, buf_len, required); s != ADDRPOOL_OK) return s;
        return write_string(pool->pool.path_of(index).to_string(), buf, buf_len, required);
    });
}

addrpool_status addrpool_save(const addrpool_pool* pool, const char* path) {
    return guard([&] {
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(path);
        auto r = pool->pool.save(std::filesystem::path(path));
        if (!r) return fail(r.error());
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_load(const char* path, const char* account_key, addrpool_pool** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        ADDRPOOL_REQUIRE(path);
        auto loaded = AddressPool::load(std::filesystem::path(path));
        if (!loaded) return fail(loaded.error());
        if (loaded->gap_limit() > kMaxGapLimit) {
            // The lookahead would derive that many addresses at once.
            return fail(ADDRPOOL_E_INVALID_ARGUMENT, "the file's gap limit is above 2^20, the C API's maximum");
        }
        KeySource keys = KeySource::none();
        if (account_key != nullptr) {
            std::uint8_t depth = 0;
            std::uint32_t child = 0;
            if (auto s = key_source_from_text(account_key, loaded->network(), loaded->type(), keys, depth, child);
                s != ADDRPOOL_OK) {
                return s;
            }
        }
        *out = new addrpool_pool{std::move(*loaded), std::move(keys)};
        return ADDRPOOL_OK;
    });
}

}  // extern "C"
