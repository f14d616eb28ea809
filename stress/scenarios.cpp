// Instantiates the templated scenarios for the real pool and the broken toy.
#include "broken_pool.hpp"
#include "s1.hpp"
#include "s2.hpp"
#include "s6.hpp"

#include <memory>

namespace stress {

namespace {

auto real_pool(std::uint32_t gap_limit = 20) {
    return [gap_limit](PoolOptions opts) {
        return std::make_unique<AddressPool>(pool_path(), PoolType::external, gap_limit, Network::testnet,
                                             std::move(opts));
    };
}

// The toys hold a fixed table: n addresses.
template <class Toy = BrokenPool>
auto broken_pool(std::size_t n) {
    return [n](PoolOptions opts) { return std::make_unique<Toy>(reference(n), std::move(opts)); };
}

}  // namespace

Summary run_s1(const Options& o) { return o.broken_pool ? s1(o, broken_pool(10000)) : s1(o, real_pool()); }

Summary run_s2(const Options& o) {
    return o.broken_pool ? s2(o, broken_pool(4096)) : s2(o, real_pool());
}

Summary run_s6(const Options& o) {
    // Room for the outstanding reservations and what the toys' bugs add on top.
    const std::size_t n = 8 * S6Params::kOutstanding;
    if (o.broken_pool) return s6(o, broken_pool(n));
    if (o.skipping_pool) return s6(o, broken_pool<SkippingPool>(n));
    return s6(o, real_pool());
}

}  // namespace stress
