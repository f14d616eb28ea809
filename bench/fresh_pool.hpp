// Fresh pools with many derived indices, without deriving them each time
// (bench.cpp's churn/stream families and callgrind_probe.cpp's churn modes).
//
// fresh_pool_file(addresses, m): a version-1 pool file holding the real
// addresses 1..m-1 of the external chain — not index 0 — with gap limit m.
// load_fresh_pool(file, keys): loads it (a loaded entry is published as it
// is: no EC math), then maintain_gap_limit derives index 0 (the only index
// of [0, gap limit) the file lacks) and, like every derive_range that starts
// at or below the pool's derived_end, records [0, m) as derived. With
// lookahead 20 (as the other benchmark pools) a hand-out starts a refill
// only once the frontier passes m - 11. The hand-out then runs the code a
// pool that derived [0, m) itself runs, lookahead check included, for about
// 0.5 µs per index instead of 25 µs.
#ifndef ADDRPOOL_BENCH_FRESH_POOL_HPP
#define ADDRPOOL_BENCH_FRESH_POOL_HPP

#include <addrpool/addrpool.hpp>

#include "persist/codec.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>

namespace addrpool::bench {

inline std::string fresh_pool_file(std::span<const Address> addresses, std::uint32_t m,
                                   const DerivationPath& base_path) {
    if (addresses.size() < m) std::abort();
    detail::codec::PoolFile f;
    f.network = Network::testnet;
    f.type = PoolType::external;
    f.format = AddressFormat::base58check;
    f.gap_limit = m;
    f.base_path = base_path.components();
    f.entries.reserve(m);
    for (std::uint32_t i = 1; i < m; ++i) f.entries.push_back({i, addresses[i].hash160(), false});
    return detail::codec::encode(f);
}

inline std::unique_ptr<AddressPool> load_fresh_pool(const std::string& file, const KeySource& keys) {
    PoolOptions o;
    o.lookahead = 20;
    auto p = AddressPool::deserialize(file, std::move(o));
    if (!p) {
        std::fprintf(stderr, "fresh pool: %s\n", p.error().message.c_str());
        std::abort();
    }
    auto pool = std::make_unique<AddressPool>(std::move(*p));
    auto added = pool->maintain_gap_limit(keys);
    if (!added || added->size() != 1) {
        std::fprintf(stderr, "fresh pool: maintain_gap_limit did not derive index 0 alone\n");
        std::abort();
    }
    return pool;
}

}  // namespace addrpool::bench

#endif  // ADDRPOOL_BENCH_FRESH_POOL_HPP
