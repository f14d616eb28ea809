// One receive pool shared by every process and host of a service, through
// PostgreSQL (addrpool-pg). Run it as often and in as many places as you
// like against the same database: no two hand-outs get the same address.
// Built and run by the tests against a throwaway server; docs/api.md
// includes it verbatim.
//
//   ./shared_pool "host=/run/postgresql dbname=wallet"
#include <addrpool/addrpool.hpp>
#include <addrpool/pg.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace addrpool;

static int fail(const char* what, const Error& e) {
    std::fprintf(stderr, "%s: %s (%s)\n", what, e.message.c_str(), errc_name(e.code));
    return 1;
}

int main(int argc, char** argv) {
    const char* conninfo = argc > 1 ? argv[1] : std::getenv("ADDRPOOL_PG_CONNINFO");
    if (conninfo == nullptr) {
        std::fprintf(stderr, "usage: shared_pool CONNINFO\n");
        return 2;
    }
    // Watch-only is enough to hand out receive addresses: the account xpub.
    auto xpub = ExtendedPubKey::parse("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGk"
                                      "MD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba");
    if (!xpub) return fail("xpub", xpub.error());
    const KeySource keys = KeySource::from_public(*xpub);
    auto base = DerivationPath::parse("m/44'/1'/0'/0");
    if (!base) return fail("path", base.error());

    // Connects, creates the tables if this is the first process ever, and
    // registers (or checks) pool "shop-receive" with this key's identity.
    pg::SharedPoolOptions options;
    options.connections = 4;  // calls in flight at once from this process
    auto pool = pg::SharedPool::open(conninfo, "shop-receive", *base, PoolType::external, 20, Network::testnet,
                                     keys, options);
    if (!pool) return fail("open", pool.error());

    // One statement per hand-out: the lowest free index, a ticket, the
    // server's time.
    auto r = pool->reserve(keys);
    if (!r) return fail("reserve", r.error());
    std::printf("reserved %u %s ticket %llu\n", r->index, r->address.to_string().c_str(),
                static_cast<unsigned long long>(r->ticket));

    // Paid: used, committed before mark_used returns. (A cancelled checkout
    // would call release_reservation(*r) instead.)
    auto marked = pool->mark_used(r->address);
    if (!marked) return fail("mark_used", marked.error());

    // Any process may sweep: reservations older than 30 minutes by the
    // server's clock go back to the pool.
    auto freed = pool->sweep_expired_reservations(std::chrono::minutes(30));
    if (!freed) return fail("sweep", freed.error());

    auto s = pool->stats();
    if (!s) return fail("stats", s.error());
    std::printf("used %u reserved %u freed %zu\n", s->used, s->reserved, *freed);
    return 0;
}
