// Start-up and sync: the C shims over AddressPool::mark_index_used(index,
// key_source), mark_scripts_used and restore_reservation, and the
// addrpool_pool_options_ex constructors (PoolOptions::derive_threads).
#include "capi/capi.hpp"

#include <string>
#include <vector>

using namespace addrpool;
using namespace addrpool::detail::capi;

namespace {

// The key source a call derives with: `keys`, checked against the pool, or
// the pool's own (checked when the pool was made).
addrpool_status keys_for(const addrpool_pool& pool, const addrpool_key_source* keys, const KeySource*& out) {
    if (keys == nullptr) {
        out = &pool.keys;
        return ADDRPOOL_OK;
    }
    ADDRPOOL_TRY(check_keys_fit(keys->keys, pool.pool));
    out = &keys->keys;
    return ADDRPOOL_OK;
}

}  // namespace

extern "C" {

addrpool_status addrpool_mark_index_used_with(addrpool_pool* pool, const addrpool_key_source* keys, uint32_t index,
                                              bool* changed) {
    return guard([&] {
        if (changed != nullptr) *changed = false;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(changed);
        ADDRPOOL_TRY(check_index(index));
        const KeySource* ks = nullptr;
        ADDRPOOL_TRY(keys_for(*pool, keys, ks));
        return take(pool->pool.mark_index_used(index, *ks), *changed);
    });
}

addrpool_status addrpool_mark_scripts_used(addrpool_pool* pool, const addrpool_key_source* keys,
                                           const uint8_t* const* scripts, const size_t* script_lens, size_t count,
                                           addrpool_script_match* matches, size_t matches_len,
                                           size_t* match_count) {
    return guard([&] {
        if (match_count != nullptr) *match_count = 0;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(match_count);
        if (count > 0) {
            ADDRPOOL_REQUIRE(scripts);
            ADDRPOOL_REQUIRE(script_lens);
            ADDRPOOL_REQUIRE(matches);
        }
        if (matches_len < count) {
            return fail(ADDRPOOL_E_BUFFER_TOO_SMALL, "matches has fewer entries than count (one per script)");
        }
        const KeySource* ks = nullptr;
        ADDRPOOL_TRY(keys_for(*pool, keys, ks));
        std::vector<std::vector<std::uint8_t>> batch;
        batch.reserve(count);
        for (std::size_t k = 0; k < count; ++k) {
            if (scripts[k] == nullptr && script_lens[k] != 0) {
                return fail(ADDRPOOL_E_NULL_ARGUMENT, "scripts[" + std::to_string(k) + "] is NULL but its length is not 0");
            }
            batch.emplace_back(scripts[k], scripts[k] + script_lens[k]);
        }
        auto found = pool->pool.mark_scripts_used(batch, *ks);
        if (!found) return fail(found.error());
        for (std::size_t k = 0; k < found->size(); ++k) {
            const ScriptMatch& m = (*found)[k];
            matches[k] = addrpool_script_match{m.position, m.index, m.newly_used};
        }
        *match_count = found->size();
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_restore_reservation(addrpool_pool* pool, const addrpool_key_source* keys, uint32_t index,
                                             uint64_t age_ms, uint64_t* ticket, char* address, size_t address_len) {
    return guard([&] {
        if (ticket != nullptr) *ticket = 0;
        if (address != nullptr && address_len > 0) address[0] = '\0';
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(ticket);
        ADDRPOOL_TRY(check_address_buffer(address, address_len, false, "address"));
        ADDRPOOL_TRY(check_index(index));
        const KeySource* ks = nullptr;
        ADDRPOOL_TRY(keys_for(*pool, keys, ks));
        auto r = pool->pool.restore_reservation(index, clamped_ms(age_ms), *ks);
        if (!r) return fail(r.error());
        return report_reservation(pool->pool, *r, nullptr, ticket, address);
    });
}

addrpool_status addrpool_pool_options_ex_init(addrpool_pool_options_ex* options) {
    return guard([&] {
        ADDRPOOL_REQUIRE(options);
        addrpool_pool_options base{};
        ADDRPOOL_TRY(addrpool_pool_options_init(&base));
        options->size = sizeof *options;
        options->lookahead = base.lookahead;
        options->gap_policy = base.gap_policy;
        options->format = base.format;
        options->derive_threads = 0;  // PoolOptions' default: the hardware's thread count
        return ADDRPOOL_OK;
    });
}

addrpool_status addrpool_pool_new_keyless_ex(const char* base_path, addrpool_pool_type type, uint32_t gap_limit,
                                             addrpool_network network, const addrpool_pool_options_ex* options,
                                             addrpool_pool** out) {
    return new_keyless_pool(base_path, type, gap_limit, network, out, from_options(options));
}

addrpool_status addrpool_load_ex(const char* path, const char* account_key, const addrpool_pool_options_ex* options,
                                 addrpool_pool** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        ADDRPOOL_REQUIRE(path);
        PoolOptions o;
        ADDRPOOL_TRY(to_pool_options_ex(options, o));
        return load_pool(path, account_key, std::move(o), out);
    });
}

addrpool_status addrpool_deserialize_ex(const uint8_t* bytes, size_t len, const addrpool_pool_options_ex* options,
                                        addrpool_pool** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        if (bytes == nullptr && len != 0) return null_arg("bytes");
        PoolOptions o;
        ADDRPOOL_TRY(to_pool_options_ex(options, o));
        return deserialize_pool(bytes, len, std::move(o), out);
    });
}

}  // extern "C"
