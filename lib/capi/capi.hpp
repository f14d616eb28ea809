// The C ABI's shared machinery: the handle types, the status/last-error
// plumbing and guard(), and the argument translators every shim uses.
//
// Each entry point (status.cpp, keys.cpp, pools.cpp, handout.cpp, queries.cpp,
// persistence.cpp, sync.cpp) is one shim: guard() { clear outputs; translate arguments;
// call the C++ API; translate the result }. Policy — which key text is which
// key, what a pool's base path must be, whether a key fits a pool — lives in
// the C++ API (KeySource::from_*, pool_base_path, KeySource::check_pool), not
// here.
#ifndef ADDRPOOL_CAPI_CAPI_HPP
#define ADDRPOOL_CAPI_CAPI_HPP

#include <addrpool/addrpool.h>
#include <addrpool/addrpool.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <atomic>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

// The handles. A pool owns its AddressPool and its own key material (the
// source addrpool_reserve derives with; KeySource::none() for keyless pools).
struct addrpool_pool {
    addrpool::AddressPool pool;
    addrpool::KeySource keys;
    // Unique for the process's life (a pool freed and another made at the
    // same address get different ids): see addrpool_key_source::fits.
    std::uint64_t id = next_id();

    static std::uint64_t next_id() noexcept {
        static std::atomic<std::uint64_t> counter{1};
        return counter.fetch_add(1, std::memory_order_relaxed);  // relaxed: only uniqueness matters
    }
};

// A key source handle: one shared, immutable KeySource (clones share it).
struct addrpool_key_source {
    addrpool::KeySource keys;
    // The id of the last pool this source was found to fit
    // (KeySource::check_pool): a hand-out from the same pool again skips the
    // check. relaxed: the check is a pure function of immutable data (the
    // key, the pool's configuration), so a stale value only costs a re-check.
    mutable std::atomic<std::uint64_t> fits{0};
};

namespace addrpool::detail::capi {

inline constexpr std::uint32_t max_index = 0x80000000u;  // indices are < 2^31
inline constexpr std::uint32_t max_gap_limit = ADDRPOOL_MAX_GAP_LIMIT;
inline constexpr std::uint32_t max_lookahead = ADDRPOOL_MAX_LOOKAHEAD;
static_assert(max_lookahead == addrpool::max_lookahead, "the C and C++ lookahead caps are one value");

// ---- status and the thread-local message (status.cpp) ----------------------

void clear_last_error() noexcept;
addrpool_status fail(addrpool_status s, std::string_view message) noexcept;
addrpool_status fail(const Error& e) noexcept;
addrpool_status null_arg(const char* name) noexcept;

// Runs body (returning addrpool_status, having set the message itself on
// failure); clears the message first so a success leaves "". A C++
// exception becomes a status: std::bad_alloc, and std::length_error (a
// container asked for more than it can ever hold: an absurd count) ->
// OUT_OF_MEMORY, anything else -> INTERNAL (what() could echo an argument,
// so it is not reported).
template <class F>
addrpool_status guard(F&& body) noexcept {
    clear_last_error();
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return fail(ADDRPOOL_E_OUT_OF_MEMORY, "out of memory");
    } catch (const std::length_error&) {
        return fail(ADDRPOOL_E_OUT_OF_MEMORY, "out of memory: a size larger than can ever be allocated");
    } catch (const std::exception&) {
        return fail(ADDRPOOL_E_INTERNAL, "internal error: unexpected C++ exception");
    } catch (...) {
        return fail(ADDRPOOL_E_INTERNAL, "internal error: unexpected exception");
    }
}

#define ADDRPOOL_REQUIRE(p) \
    do {                    \
        if ((p) == nullptr) return ::addrpool::detail::capi::null_arg(#p); \
    } while (0)

// Early return of a non-OK status: ADDRPOOL_TRY(to_network(n, net));
#define ADDRPOOL_TRY(expr)                                          \
    do {                                                            \
        if (const addrpool_status s_ = (expr); s_ != ADDRPOOL_OK) return s_; \
    } while (0)

// The value of a C enum argument, read as its underlying integer. A C caller
// may pass any int; in C++ loading an enum object that holds a value outside
// the enum's range is undefined (UBSan's -fsanitize=enum reports it), so
// enum arguments are bound by reference and copied out as bytes until they
// are validated.
template <class E>
long long raw(const E& e) noexcept {
    std::underlying_type_t<E> v;
    std::memcpy(&v, &e, sizeof v);
    return static_cast<long long>(v);
}

// ---- argument translation (convert.cpp) ------------------------------------
// Each returns ADDRPOOL_OK with `out` set, or an error with the message set.

addrpool_status to_network(const addrpool_network& in, Network& out);
addrpool_status to_pool_type(const addrpool_pool_type& in, PoolType& out);
addrpool_status check_gap_limit(std::uint32_t gap_limit);
addrpool_status check_index(std::uint32_t index);
addrpool_status to_format(const addrpool_address_format& in, AddressFormat& out);
// NULL options = the defaults.
addrpool_status to_pool_options(const addrpool_pool_options* in, PoolOptions& out);
// NULL options = the defaults; an unknown size or derive_threads above
// ADDRPOOL_MAX_DERIVE_THREADS is INVALID_ARGUMENT.
addrpool_status to_pool_options_ex(const addrpool_pool_options_ex* in, PoolOptions& out);
// The translator of the caller's options struct that to_pool_args,
// new_keyless_pool and the account constructors take.
inline auto from_options(const addrpool_pool_options* options) {
    return [options](PoolOptions& o) { return to_pool_options(options, o); };
}
inline auto from_options(const addrpool_pool_options_ex* options) {
    return [options](PoolOptions& o) { return to_pool_options_ex(options, o); };
}
addrpool_status to_path(const char* text, DerivationPath& out);
// A pool's stats as the C struct (an absent highest_* is -1).
addrpool_pool_stats to_c_stats(const PoolStats& s) noexcept;

// A Result's value into `out`, or its error as the status.
template <class T>
addrpool_status take(Result<T>&& r, T& out) {
    if (!r) return fail(r.error());
    out = std::move(*r);
    return ADDRPOOL_OK;
}
inline addrpool_status take(const Result<void>& r) { return r ? ADDRPOOL_OK : fail(r.error()); }

// A pool's addresses are account depth + levels_below_account(type) deep;
// BIP32 allows 255. (KeySource::check_pool does not check this yet: see the
// report of the C ABI split.)
addrpool_status check_depth(std::size_t account_depth, PoolType type);
// Whether `keys` may derive for `pool`: its depth fits, and
// KeySource::check_pool(base path, type, network).
addrpool_status check_keys_fit(const KeySource& keys, const AddressPool& pool);
// As check_keys_fit, skipped when this key source fitted this very pool last time.
addrpool_status check_keys_fit_cached(const addrpool_key_source& keys, const addrpool_pool& pool);

// ---- results out (convert.cpp) ----------------------------------------------

// (buf, buf_len, required) as addrpool.h describes at the top.
addrpool_status write_string(const std::string& s, char* buf, std::size_t buf_len, std::size_t* required);
// Clears the outputs of a (buf, buf_len, required) getter.
void clear_string_out(char* buf, std::size_t buf_len, std::size_t* required) noexcept;
// An address buffer (`name` in messages) of at least ADDRPOOL_ADDRESS_MAX:
// NULL with length 0 is fine unless required; NULL with a length is
// NULL_ARGUMENT; shorter is BUFFER_TOO_SMALL. Clears buf[0] first.
addrpool_status check_address_buffer(char* buf, std::size_t len, bool required, const char* name);
// False (nothing written) if the text does not fit ADDRPOOL_ADDRESS_MAX: a bug.
bool write_address(const std::string& text, char* address) noexcept;

// A new pool handle (the allocation is the only step that can fail).
addrpool_status new_pool(AddressPool pool, KeySource keys, addrpool_pool** out);

addrpool_status new_key_source(KeySource keys, addrpool_key_source** out);

// The arguments every pool constructor shares, translated in the order the
// constructors document: network, type, gap limit, then the options, which
// `to_options(PoolOptions&)` translates from the caller's options struct
// (addrpool_pool_options or addrpool_pool_options_ex).
struct PoolArgs {
    Network network = Network::mainnet;
    PoolType type = PoolType::external;
    PoolOptions options;
};
// Enum arguments by reference: see raw().
template <class ToOptions>
addrpool_status to_pool_args(const addrpool_network& network, const addrpool_pool_type& type, std::uint32_t gap_limit,
                             ToOptions to_options, PoolArgs& out) {
    ADDRPOOL_TRY(to_network(network, out.network));
    ADDRPOOL_TRY(to_pool_type(type, out.type));
    ADDRPOOL_TRY(check_gap_limit(gap_limit));
    return to_options(out.options);
}

// addrpool_pool_new_keyless and addrpool_pool_new_keyless_ex: a pool at
// `base_path` with no key source, after the checks in the order both
// document (out, base_path, then to_pool_args, then the path).
template <class ToOptions>
addrpool_status new_keyless_pool(const char* base_path, const addrpool_pool_type& type, std::uint32_t gap_limit,
                                 const addrpool_network& network, addrpool_pool** out, ToOptions to_options) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        ADDRPOOL_REQUIRE(base_path);
        PoolArgs args;
        ADDRPOOL_TRY(to_pool_args(network, type, gap_limit, to_options, args));
        DerivationPath base;
        ADDRPOOL_TRY(to_path(base_path, base));
        return new_pool(AddressPool(std::move(base), args.type, gap_limit, args.network, std::move(args.options)),
                        KeySource::none(), out);
    });
}

// Milliseconds as the signed 64-bit nanoseconds the C++ API takes, clamped
// so the conversion cannot overflow (about 292 years: "forever").
std::chrono::nanoseconds clamped_ms(std::uint64_t ms) noexcept;

// ---- shared tails (handout.cpp, persistence.cpp) -----------------------------

// Reports a reservation through the hand-out outputs (each may be NULL): the
// address is written first, and if that fails the reservation is returned
// (by ticket), so a failed call holds nothing.
addrpool_status report_reservation(AddressPool& pool, const Reservation& r, std::uint32_t* index,
                                   std::uint64_t* ticket, char* address);
// addrpool_load / addrpool_deserialize after their NULL checks, with options.
addrpool_status load_pool(const char* path, const char* account_key, PoolOptions options, addrpool_pool** out);
addrpool_status deserialize_pool(const std::uint8_t* bytes, std::size_t len, PoolOptions options,
                                 addrpool_pool** out);

}  // namespace addrpool::detail::capi

#endif  // ADDRPOOL_CAPI_CAPI_HPP
