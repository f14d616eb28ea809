// Persistence: the C shims over AddressPool::save/load/serialize/deserialize.
#include "capi/capi.hpp"

#include <cstdlib>
#include <filesystem>

using namespace addrpool;
using namespace addrpool::detail::capi;

namespace {

// Pools this ABI makes have gap limits up to ADDRPOOL_MAX_GAP_LIMIT; a file
// with a larger one is refused rather than accepted with a gap window the
// caller could not have asked for.
addrpool_status check_loaded(const AddressPool& pool) {
    if (pool.gap_limit() > max_gap_limit) {
        return fail(ADDRPOOL_E_INVALID_ARGUMENT, "the file's gap limit is above 2^20, the C API's maximum");
    }
    return ADDRPOOL_OK;
}

}  // namespace

namespace addrpool::detail::capi {

addrpool_status load_pool(const char* path, const char* account_key, PoolOptions options, addrpool_pool** out) {
    auto loaded = AddressPool::load(std::filesystem::path(path), std::move(options));
    if (!loaded) return fail(loaded.error());
    ADDRPOOL_TRY(check_loaded(*loaded));
    KeySource keys = KeySource::none();
    if (account_key != nullptr) {
        ADDRPOOL_TRY(take(KeySource::from_extended_key(account_key, loaded->network()), keys));
        ADDRPOOL_TRY(check_depth(keys.account_public_key()->depth(), loaded->type()));
        // Checked against the path relative to the key (network family,
        // a private key for absent_hardened), not the file's base path:
        // addrpool.h promises that a key of another account is reported
        // by the first derivation.
        const PoolType t = loaded->type();
        ADDRPOOL_TRY(take(keys.check_pool(pool_base_path(DerivationPath{}, t), t, loaded->network())));
    }
    return new_pool(std::move(*loaded), std::move(keys), out);
}

addrpool_status deserialize_pool(const std::uint8_t* bytes, std::size_t len, PoolOptions options,
                                 addrpool_pool** out) {
    const std::string_view view(bytes != nullptr ? reinterpret_cast<const char*>(bytes) : "", len);
    auto loaded = AddressPool::deserialize(view, std::move(options));
    if (!loaded) return fail(loaded.error());
    ADDRPOOL_TRY(check_loaded(*loaded));
    return new_pool(std::move(*loaded), KeySource::none(), out);
}

}  // namespace addrpool::detail::capi

extern "C" {

addrpool_status addrpool_save(const addrpool_pool* pool, const char* path) {
    return guard([&] {
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(path);
        return take(pool->pool.save(std::filesystem::path(path)));
    });
}

addrpool_status addrpool_load(const char* path, const char* account_key, addrpool_pool** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        ADDRPOOL_REQUIRE(path);
        return load_pool(path, account_key, PoolOptions{}, out);
    });
}

addrpool_status addrpool_serialize(const addrpool_pool* pool, uint8_t** bytes, size_t* len) {
    return guard([&] {
        if (bytes != nullptr) *bytes = nullptr;
        if (len != nullptr) *len = 0;
        ADDRPOOL_REQUIRE(pool);
        ADDRPOOL_REQUIRE(bytes);
        ADDRPOOL_REQUIRE(len);
        const std::string s = pool->pool.serialize();
        auto* buf = static_cast<std::uint8_t*>(std::malloc(s.empty() ? 1 : s.size()));
        if (buf == nullptr) return fail(ADDRPOOL_E_OUT_OF_MEMORY, "out of memory");
        std::memcpy(buf, s.data(), s.size());
        *bytes = buf;
        *len = s.size();
        return ADDRPOOL_OK;
    });
}

void addrpool_bytes_free(uint8_t* bytes) { std::free(bytes); }

addrpool_status addrpool_deserialize(const uint8_t* bytes, size_t len, addrpool_pool** out) {
    return guard([&] {
        ADDRPOOL_REQUIRE(out);
        *out = nullptr;
        if (bytes == nullptr && len != 0) return null_arg("bytes");
        return deserialize_pool(bytes, len, PoolOptions{}, out);
    });
}

}  // extern "C"
