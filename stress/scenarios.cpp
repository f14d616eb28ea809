// Instantiates the templated scenarios for the real pool and the broken toy.
#include "broken_pool.hpp"
#include "s1.hpp"
#include "s2.hpp"

#include <memory>

namespace stress {

namespace {

auto real_pool(std::uint32_t gap_limit = 20) {
    return [gap_limit](PoolOptions opts) {
        return std::make_unique<AddressPool>(pool_path(), PoolType::external, gap_limit, Network::testnet,
                                             std::move(opts));
    };
}

// The toy holds a fixed table: n addresses.
auto broken_pool(std::size_t n) {
    return [n](PoolOptions opts) { return std::make_unique<BrokenPool>(reference(n), std::move(opts)); };
}

}  // namespace

Summary run_s1(const Options& o) { return o.broken_pool ? s1(o, broken_pool(10000)) : s1(o, real_pool()); }

Summary run_s2(const Options& o) {
    return o.broken_pool ? s2(o, broken_pool(4096)) : s2(o, real_pool());
}

}  // namespace stress
