// Temporary: persistence is being implemented (issue "Durable used,
// ephemeral reserved"); until then these report io_error.
#include "pool_impl.hpp"

namespace addrpool {
std::string AddressPool::serialize() const { return {}; }
Result<AddressPool> AddressPool::deserialize(std::string_view, PoolOptions) {
    return make_error(Errc::unsupported_format, "persistence is not implemented yet");
}
Result<void> AddressPool::save(const std::filesystem::path&) const {
    return make_error(Errc::io_error, "persistence is not implemented yet");
}
Result<AddressPool> AddressPool::load(const std::filesystem::path&, PoolOptions) {
    return make_error(Errc::io_error, "persistence is not implemented yet");
}
}  // namespace addrpool
