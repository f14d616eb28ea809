// Hand-out and return: the C shims over AddressPool::reserve,
// release_reservation and sweep_expired_reservations.
#include "capi/capi.hpp"

#include <chrono>

using namespace addrpool;
using namespace addrpool::detail::capi;

namespace {

// The common tail of the three hand-outs, after their outputs were cleared
// and checked.
addrpool_status hand_out(AddressPool& pool, const KeySource& keys, bool add_to_state, std::uint32_t* index,
                         std::uint64_t* ticket, char* address) {
    auto r = pool.reserve(keys, add_to_state);
    if (!r) return fail(r.error());
    return report_reservation(pool, *r, index, ticket, address);
}

void clear_hand_out(std::uint32_t* index, std::uint64_t* ticket, char* address, std::size_t address_len) noexcept {
    if (index != nullptr) *index = 0;
    if (ticket != nullptr) *ticket = 0;
    if (address != nullptr && address_len > 0) address[0] = '\0';
}

}  // namespace

namespace addrpool::detail::capi {

addrpool_status report_reservation(AddressPool& pool, const Reservation& r, std::uint32_t* index,
                                   std::uint64_t* ticket, char* address) {
    if (address != nullptr) {
        try {
            if (!write_address(r.address.to_string(), address)) {
                (void)pool.release_reservation(r);
                return fail(ADDRPOOL_E_INTERNAL, "internal error: an address is longer than ADDRPOOL_ADDRESS_MAX");
            }
        } catch (...) {  // encoding allocates
            (void)pool.release_reservation(r);
            throw;
        }
    }
    if (index != nullptr) *index = r.index;
    if (ticket != nullptr) *ticket = r.ticket;
    return ADDRPOOL_OK;
}

}  // namespace addrpool::detail::capi

extern "C" {

addrpool_status addrpool_reserve(addrpool_pool* pool, uint32_t* index, uint64_t* ticket, char* address,
                                 size_t address_len) {
    return guard([&] {
        clear_hand_out(index, ticket, address, address_len);
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(index);
        ADDRPOOL_REQUIRE(ticket);
        ADDRPOOL_TRY(check_address_buffer(address, address_len, false, "address"));
        return hand_out(pool->pool, pool->keys, true, index, ticket, address);
    });
}

addrpool_status addrpool_reserve_with(addrpool_pool* pool, const addrpool_key_source* keys, bool add_to_state,
                                      uint32_t* index, uint64_t* ticket, char* address, size_t address_len) {
    return guard([&] {
        clear_hand_out(index, ticket, address, address_len);
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(keys);
        ADDRPOOL_REQUIRE(index);
        ADDRPOOL_REQUIRE(ticket);
        ADDRPOOL_TRY(check_address_buffer(address, address_len, false, "address"));
        ADDRPOOL_TRY(check_keys_fit_cached(*keys, *pool));
        return hand_out(pool->pool, keys->keys, add_to_state, index, ticket, address);
    });
}

addrpool_status addrpool_next_unused_and_reserve(addrpool_pool* pool, const addrpool_key_source* keys,
                                                 bool add_to_state, char* address, size_t address_len) {
    return guard([&] {
        clear_hand_out(nullptr, nullptr, address, address_len);
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(keys);
        ADDRPOOL_TRY(check_address_buffer(address, address_len, true, "address"));
        ADDRPOOL_TRY(check_keys_fit_cached(*keys, *pool));
        return hand_out(pool->pool, keys->keys, add_to_state, nullptr, nullptr, address);
    });
}

addrpool_status addrpool_release(addrpool_pool* pool, uint32_t index, uint64_t ticket, bool* released) {
    return guard([&] {
        if (released != nullptr) *released = false;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(released);
        ADDRPOOL_TRY(check_index(index));
        // The ticket is opaque here: the pool alone knows what it encodes.
        Reservation r{index, Address{}, ticket};
        *released = pool->pool.release_reservation(r);
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_release_index(addrpool_pool* pool, uint32_t index, bool* released) {
    return guard([&] {
        if (released != nullptr) *released = false;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(released);
        ADDRPOOL_TRY(check_index(index));
        *released = pool->pool.release_reservation(index);
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_sweep(addrpool_pool* pool, uint64_t ttl_ms, size_t* freed) {
    return guard([&] {
        if (freed != nullptr) *freed = 0;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(freed);
        *freed = pool->pool.sweep_expired_reservations(clamped_ms(ttl_ms));  // beyond 292 years: never expires
        return ADDRPOOL_OK;
    });
}

}  // extern "C"
