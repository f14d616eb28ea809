// Argument and result translation shared by the C ABI's shims.
#include "capi/capi.hpp"

#include <string>

namespace addrpool::detail::capi {

addrpool_status to_network(const addrpool_network& in, Network& out) {
    if (raw(in) < ADDRPOOL_MAINNET || raw(in) > ADDRPOOL_REGTEST) {
        return fail(ADDRPOOL_E_INVALID_ARGUMENT, "network is not an addrpool_network value");
    }
    out = static_cast<Network>(raw(in));
    return ADDRPOOL_OK;
}

addrpool_status to_pool_type(const addrpool_pool_type& in, PoolType& out) {
    if (raw(in) < ADDRPOOL_EXTERNAL || raw(in) > ADDRPOOL_ABSENT_HARDENED) {
        return fail(ADDRPOOL_E_INVALID_ARGUMENT, "type is not an addrpool_pool_type value");
    }
    out = static_cast<PoolType>(raw(in));
    return ADDRPOOL_OK;
}

addrpool_status check_gap_limit(std::uint32_t gap_limit) {
    if (gap_limit > max_gap_limit) return fail(ADDRPOOL_E_INVALID_ARGUMENT, "gap_limit is above 2^20");
    return ADDRPOOL_OK;
}

addrpool_status check_index(std::uint32_t index) {
    if (index >= max_index) return fail(ADDRPOOL_E_INDEX_OUT_OF_RANGE, "index is not below 2^31");
    return ADDRPOOL_OK;
}

addrpool_status to_pool_options(const addrpool_pool_options* in, PoolOptions& out) {
    if (in == nullptr) return ADDRPOOL_OK;
    if (in->lookahead > max_lookahead) {
        return fail(ADDRPOOL_E_INVALID_ARGUMENT, "lookahead is above ADDRPOOL_MAX_LOOKAHEAD (65536)");
    }
    if (raw(in->gap_policy) != ADDRPOOL_GAP_UNBOUNDED && raw(in->gap_policy) != ADDRPOOL_GAP_ERROR) {
        return fail(ADDRPOOL_E_INVALID_ARGUMENT, "gap_policy is not an addrpool_gap_policy value");
    }
    ADDRPOOL_TRY(to_format(in->format, out.format));
    out.lookahead = in->lookahead;
    out.gap_policy = in->gap_policy == ADDRPOOL_GAP_ERROR ? GapPolicy::error : GapPolicy::unbounded;
    return ADDRPOOL_OK;
}

// The enum fields are copied as bytes into the older struct (see raw()) and
// checked there.
addrpool_status to_pool_options_ex(const addrpool_pool_options_ex* in, PoolOptions& out) {
    if (in == nullptr) return ADDRPOOL_OK;
    if (in->size != sizeof(addrpool_pool_options_ex)) {
        return fail(ADDRPOOL_E_INVALID_ARGUMENT,
                    "options->size is not sizeof(addrpool_pool_options_ex) of this library "
                    "(not initialized with addrpool_pool_options_ex_init, or from a newer header)");
    }
    if (in->derive_threads > ADDRPOOL_MAX_DERIVE_THREADS) {
        return fail(ADDRPOOL_E_INVALID_ARGUMENT, "derive_threads is above ADDRPOOL_MAX_DERIVE_THREADS (256)");
    }
    addrpool_pool_options base{};
    base.lookahead = in->lookahead;
    std::memcpy(&base.gap_policy, &in->gap_policy, sizeof base.gap_policy);
    std::memcpy(&base.format, &in->format, sizeof base.format);
    ADDRPOOL_TRY(to_pool_options(&base, out));
    out.derive_threads = in->derive_threads;
    return ADDRPOOL_OK;
}

addrpool_status to_format(const addrpool_address_format& in, AddressFormat& out) {
    if (raw(in) != ADDRPOOL_FORMAT_BASE58CHECK && raw(in) != ADDRPOOL_FORMAT_PLATFORM) {
        return fail(ADDRPOOL_E_INVALID_ARGUMENT, "format is not an addrpool_address_format value");
    }
    // Base58Check is the C++ default format.
    out = in == ADDRPOOL_FORMAT_PLATFORM ? AddressFormat::platform : PoolOptions{}.format;
    return ADDRPOOL_OK;
}

addrpool_status to_path(const char* text, DerivationPath& out) { return take(DerivationPath::parse(text), out); }

addrpool_status check_depth(std::size_t account_depth, PoolType type) {
    if (account_depth + levels_below_account(type) > 255) {
        return fail(ADDRPOOL_E_DEPTH_EXCEEDED, "the pool's addresses would be deeper than 255");
    }
    return ADDRPOOL_OK;
}

addrpool_status check_keys_fit(const KeySource& keys, const AddressPool& pool) {
    if (const auto key = keys.account_public_key()) ADDRPOOL_TRY(check_depth(key->depth(), pool.type()));
    return take(keys.check_pool(pool.base_path(), pool.type(), pool.network()));
}

addrpool_status check_keys_fit_cached(const addrpool_key_source& keys, const addrpool_pool& pool) {
    if (keys.fits.load(std::memory_order_relaxed) == pool.id) return ADDRPOOL_OK;  // relaxed: see capi.hpp
    ADDRPOOL_TRY(check_keys_fit(keys.keys, pool.pool));
    keys.fits.store(pool.id, std::memory_order_relaxed);  // relaxed: see capi.hpp
    return ADDRPOOL_OK;
}

void clear_string_out(char* buf, std::size_t buf_len, std::size_t* required) noexcept {
    if (required != nullptr) *required = 0;
    if (buf != nullptr && buf_len > 0) buf[0] = '\0';
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

addrpool_status check_address_buffer(char* buf, std::size_t len, bool required, const char* name) {
    if (buf != nullptr && len > 0) buf[0] = '\0';
    if (buf == nullptr) {
        if (required || len != 0) return null_arg(name);
        return ADDRPOOL_OK;
    }
    if (len < ADDRPOOL_ADDRESS_MAX) {
        return fail(ADDRPOOL_E_BUFFER_TOO_SMALL, "the address buffer is shorter than ADDRPOOL_ADDRESS_MAX");
    }
    return ADDRPOOL_OK;
}

bool write_address(const std::string& text, char* address) noexcept {
    if (text.size() + 1 > ADDRPOOL_ADDRESS_MAX) return false;
    std::memcpy(address, text.c_str(), text.size() + 1);
    return true;
}

addrpool_status new_pool(AddressPool pool, KeySource keys, addrpool_pool** out) {
    *out = new addrpool_pool{std::move(pool), std::move(keys)};
    return ADDRPOOL_OK;
}

std::chrono::nanoseconds clamped_ms(std::uint64_t ms) noexcept {
    constexpr std::uint64_t max_ms = (static_cast<std::uint64_t>(INT64_MAX) - 999'999u) / 1'000'000u;
    return std::chrono::nanoseconds(std::chrono::milliseconds(ms > max_ms ? max_ms : ms));
}

addrpool_status new_key_source(KeySource keys, addrpool_key_source** out) {
    *out = new addrpool_key_source{std::move(keys)};
    return ADDRPOOL_OK;
}

addrpool_pool_stats to_c_stats(const PoolStats& s) noexcept {
    auto opt = [](const std::optional<std::uint32_t>& v) -> std::int64_t { return v ? std::int64_t{*v} : -1; };
    return addrpool_pool_stats{s.generated,        s.used,
                               s.reserved,         s.unused,
                               s.gap_limit,        opt(s.highest_used),
                               opt(s.highest_reserved), opt(s.highest_generated)};
}

}  // namespace addrpool::detail::capi
