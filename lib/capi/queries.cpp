// The sync side (mark used) and the queries: C shims over the AddressPool
// members of the same names.
#include "capi/capi.hpp"

#include <optional>

using namespace addrpool;
using namespace addrpool::detail::capi;

extern "C" {

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
        ADDRPOOL_TRY(check_index(index));
        *changed = pool->pool.mark_index_used(index);
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_stats(const addrpool_pool* pool, addrpool_pool_stats* out) {
    return guard([&] {
        if (out != nullptr) *out = addrpool_pool_stats{0, 0, 0, 0, 0, -1, -1, -1};
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(out);
        *out = to_c_stats(pool->pool.stats());
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
        ADDRPOOL_TRY(check_index(index));
        *state = static_cast<addrpool_address_state>(static_cast<int>(pool->pool.state(index)));
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_address_at(const addrpool_pool* pool, uint32_t index, char* buf, size_t buf_len,
                                    size_t* required) {
    return guard([&] {
        clear_string_out(buf, buf_len, required);
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_TRY(check_index(index));
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
        clear_string_out(buf, buf_len, required);
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_TRY(check_index(index));
        return write_string(pool->pool.path_of(index).to_string(), buf, buf_len, required);
    });
}

addrpool_status addrpool_pool_describe(const addrpool_pool* pool, addrpool_network* network, addrpool_pool_type* type,
                                       uint32_t* gap_limit, addrpool_address_format* format) {
    return guard([&] {
        if (network != nullptr) *network = ADDRPOOL_MAINNET;
        if (type != nullptr) *type = ADDRPOOL_EXTERNAL;
        if (gap_limit != nullptr) *gap_limit = 0;
        if (format != nullptr) *format = ADDRPOOL_FORMAT_BASE58CHECK;
        ADDRPOOL_REQUIRE(pool);
        const AddressPool& p = pool->pool;
        if (network != nullptr) *network = static_cast<addrpool_network>(static_cast<int>(p.network()));
        if (type != nullptr) *type = static_cast<addrpool_pool_type>(static_cast<int>(p.type()));
        if (gap_limit != nullptr) *gap_limit = p.gap_limit();
        if (format != nullptr) {
            *format = p.format() == AddressFormat::platform ? ADDRPOOL_FORMAT_PLATFORM : ADDRPOOL_FORMAT_BASE58CHECK;
        }
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_base_path(const addrpool_pool* pool, char* buf, size_t buf_len, size_t* required) {
    return guard([&] {
        clear_string_out(buf, buf_len, required);
        ADDRPOOL_REQUIRE(pool);
        return write_string(pool->pool.base_path().to_string(), buf, buf_len, required);
    });
}

}  // extern "C"
