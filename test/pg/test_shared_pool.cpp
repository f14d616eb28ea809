// SharedPool against a real PostgreSQL server (scripts/pg-cluster starts a
// throwaway one): the in-process pool's semantics, one TEST_CASE each.
#include "pg_catch.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace addrpool;
using namespace addrpool::pgtest;
using namespace std::chrono_literals;

namespace {

pg::SharedPool open_pool(const std::string& id, std::uint32_t gap = 20, pg::SharedPoolOptions opts = {},
                         const KeySource& ks = private_source()) {
    auto p = pg::SharedPool::open(conninfo(), id, receive_path(), PoolType::external, gap, Network::testnet, ks, opts);
    if (!p) FAIL("open: " << p.error().message);
    return std::move(*p);
}

std::uint32_t must_reserve(pg::SharedPool& p, const KeySource& ks, bool add = true) {
    auto r = p.reserve(ks, add);
    if (!r) FAIL("reserve: " << errc_name(r.error().code) << ": " << r.error().message);
    return r->index;
}

}  // namespace

TEST_CASE("hand-outs take the lowest free index with the addresses the in-process pool derives", "[pg][handout]") {
    const KeySource ks = private_source();
    auto shared = open_pool(fresh_id("lowest"));
    AddressPool local(receive_path(), PoolType::external, 20, Network::testnet);
    for (std::uint32_t i = 0; i < 45; ++i) {  // past the lookahead twice
        auto r = shared.reserve(ks);
        REQUIRE(ok(r));
        CHECK(r->index == i);
        auto l = local.reserve(ks, true);
        REQUIRE(ok(l));
        CHECK(r->address == l->address);
    }
    auto a0 = Address::parse("yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt");
    REQUIRE(ok(a0));
    CHECK(val(shared.mark_used(*a0)));
    CHECK(val(shared.state(0)) == AddressState::used);
}

TEST_CASE("next_unused_and_reserve returns the reserved address", "[pg][handout]") {
    const KeySource ks = private_source();
    auto p = open_pool(fresh_id("next"));
    auto a = p.next_unused_and_reserve(ks, true);
    REQUIRE(ok(a));
    CHECK(a->to_string() == "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt");
    CHECK(val(p.state(0)) == AddressState::reserved);
}

TEST_CASE("tickets come from one sequence: unique across pools and re-reservations", "[pg][handout]") {
    const KeySource ks = private_source();
    auto a = open_pool(fresh_id("tickets-a"));
    auto b = open_pool(fresh_id("tickets-b"));
    std::set<std::uint64_t> seen;
    std::uint64_t last = 0;
    for (int k = 0; k < 20; ++k) {
        auto& p = k % 2 ? a : b;
        auto r = p.reserve(ks);
        REQUIRE(ok(r));
        CHECK(r->ticket > last);
        last = r->ticket;
        CHECK(seen.insert(r->ticket).second);
        REQUIRE(val(p.release_reservation(*r)));  // the same index again next time
    }
}

TEST_CASE("reserved_at is this host's steady time from just before the hand-out was sent", "[pg][handout]") {
    const KeySource ks = private_source();
    auto p = open_pool(fresh_id("stamp"));
    const auto before = std::chrono::steady_clock::now();
    auto r = p.reserve(ks);
    const auto after = std::chrono::steady_clock::now();
    REQUIRE(ok(r));
    // Read by this host during the call, before the statement that reserved.
    CHECK(r->reserved_at >= before);
    CHECK(r->reserved_at <= after);
}

TEST_CASE("add_to_state decides whether the hand-out joins the durable state", "[pg][handout]") {
    const KeySource ks = private_source();
    const std::string id = fresh_id("state");
    auto p = open_pool(id);
    must_reserve(p, ks, true);   // 0
    must_reserve(p, ks, false);  // 1
    auto s = p.stats();
    REQUIRE(ok(s));
    CHECK(s->generated == 1);
    CHECK(s->reserved == 2);
    CHECK(s->highest_generated == std::optional<std::uint32_t>(0));
    // The export holds the generated index, as not used, and nothing of the
    // reservation (no column of it exists there).
    Sql sql(conninfo());
    CHECK(sql.scalar("SELECT string_agg(idx::text || ':' || used::text, ',' ORDER BY idx) FROM addrpool_durable_state "
                     "WHERE pool_id = " + quote(id)) == "0:false");
    CHECK(sql.scalar("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                     "WHERE table_name = 'addrpool_durable_state'") == "pool_id,idx,hash160,used");
}

TEST_CASE("release by index frees it and the next hand-out takes it before any higher one", "[pg][release]") {
    const KeySource ks = private_source();
    auto p = open_pool(fresh_id("release"));
    for (int i = 0; i < 5; ++i) must_reserve(p, ks);
    CHECK(val(p.release_reservation(3u)));
    CHECK_FALSE(val(p.release_reservation(3u)));   // idempotent
    CHECK_FALSE(val(p.release_reservation(40u)));  // derived ahead, never reserved
    CHECK_FALSE(val(p.release_reservation(0x80000000u)));
    CHECK(val(p.state(3)) == AddressState::unused);
    CHECK(must_reserve(p, ks) == 3);
    CHECK(must_reserve(p, ks) == 5);
}

TEST_CASE("release with a stale ticket leaves the new holder's reservation alone", "[pg][release]") {
    const KeySource ks = private_source();
    auto p = open_pool(fresh_id("stale"));
    auto first = p.reserve(ks);
    REQUIRE(ok(first));
    REQUIRE(val(p.release_reservation(*first)));
    auto second = p.reserve(ks);
    REQUIRE(ok(second));
    REQUIRE(second->index == first->index);
    CHECK_FALSE(val(p.release_reservation(*first)));
    CHECK(val(p.state(second->index)) == AddressState::reserved);
    Reservation foreign = *second;
    foreign.ticket = ~std::uint64_t{0};
    CHECK_FALSE(val(p.release_reservation(foreign)));
    CHECK(val(p.release_reservation(*second)));
}

TEST_CASE("marking a reserved index used completes the hand-out; a later release is false", "[pg][used]") {
    const KeySource ks = private_source();
    auto p = open_pool(fresh_id("mark"));
    auto r = p.reserve(ks, false);
    REQUIRE(ok(r));
    CHECK(val(p.mark_index_used(r->index)));
    CHECK_FALSE(val(p.mark_index_used(r->index)));
    CHECK_FALSE(val(p.release_reservation(*r)));
    CHECK(val(p.state(r->index)) == AddressState::used);
    auto s = p.stats();
    REQUIRE(ok(s));
    CHECK(s->generated == 1);  // a used index is in the durable state
    // Unknown (derived ahead, never handed out), out of range, foreign addresses.
    CHECK_FALSE(val(p.mark_index_used(7)));
    CHECK_FALSE(val(p.mark_index_used(0x80000000u)));
    auto mainnet = Address(Network::mainnet, AddressKind::p2pkh, r->address.hash160());
    CHECK_FALSE(val(p.mark_used(mainnet)));
    auto p2sh = Address(Network::testnet, AddressKind::p2sh, r->address.hash160());
    CHECK_FALSE(val(p.mark_used(p2sh)));
    CHECK_FALSE(val(p.mark_used(Address(Network::testnet, AddressKind::p2pkh, Hash160{}))));
}

TEST_CASE("a released index handed out with add_to_state stays markable by address", "[pg][used]") {
    const KeySource ks = private_source();
    auto p = open_pool(fresh_id("mark-released"));
    auto r = p.reserve(ks, true);
    REQUIRE(ok(r));
    REQUIRE(val(p.release_reservation(*r)));
    CHECK(val(p.mark_used(r->address)));  // generated, unused → used
    CHECK(val(p.state(r->index)) == AddressState::used);
}

TEST_CASE("stats and scan_window_end agree with the in-process pool after the same operations", "[pg][stats]") {
    const KeySource ks = private_source();
    auto p = open_pool(fresh_id("stats"), 5);
    AddressPool local(receive_path(), PoolType::external, 5, Network::testnet);
    const auto same = [&] {
        auto s = p.stats();
        REQUIRE(ok(s));
        const PoolStats l = local.stats();
        CHECK(s->generated == l.generated);
        CHECK(s->used == l.used);
        CHECK(s->reserved == l.reserved);
        CHECK(s->unused == l.unused);
        CHECK(s->highest_used == l.highest_used);
        CHECK(s->highest_reserved == l.highest_reserved);
        CHECK(s->highest_generated == l.highest_generated);
        CHECK(s->gap_limit == l.gap_limit);
        CHECK(val(p.scan_window_end()) == local.scan_window_end());
    };
    same();  // empty: gap_limit
    std::vector<Reservation> mine, theirs;
    for (int i = 0; i < 8; ++i) {
        const bool add = i % 3 != 0;
        auto a = p.reserve(ks, add);
        auto b = local.reserve(ks, add);
        REQUIRE(ok(a));
        REQUIRE(ok(b));
        REQUIRE(a->index == b->index);
        mine.push_back(*a);
        theirs.push_back(*b);
    }
    same();
    for (int i : {1, 4, 7}) {
        CHECK(val(p.release_reservation(mine[i])) == local.release_reservation(theirs[i]));
    }
    same();  // the window counts the reserved index 6 above the released 7
    for (std::uint32_t i : {2u, 5u}) CHECK(val(p.mark_index_used(i)) == local.mark_index_used(i));
    same();
}

TEST_CASE("GapPolicy::error fails at (highest used + 1) + gap_limit; a used mark opens the window", "[pg][gap]") {
    const KeySource ks = private_source();
    pg::SharedPoolOptions o;
    o.gap_policy = GapPolicy::error;
    auto p = open_pool(fresh_id("gap"), 3, o);
    for (std::uint32_t i = 0; i < 3; ++i) CHECK(must_reserve(p, ks) == i);
    auto full = p.reserve(ks);
    REQUIRE_FALSE(full);
    CHECK(full.error().code == Errc::gap_limit_reached);
    CHECK(val(p.scan_window_end()) == 2 + 1 + 3);  // reserved indices count
    REQUIRE(val(p.mark_index_used(1)));
    CHECK(must_reserve(p, ks) == 3);
    CHECK(must_reserve(p, ks) == 4);
    auto again = p.reserve(ks);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == Errc::gap_limit_reached);
    // A release below the bound is handed out again.
    REQUIRE(val(p.release_reservation(0u)));
    CHECK(must_reserve(p, ks) == 0);
}

TEST_CASE("a sweep frees only reservations older than the TTL at the server clock", "[pg][sweep]") {
    const KeySource ks = private_source();
    const std::string id = fresh_id("sweep");
    auto p = open_pool(id);
    for (int i = 0; i < 4; ++i) must_reserve(p, ks);
    // Age two reservations on the server (its clock is the only one used).
    Sql sql(conninfo());
    sql.exec("UPDATE addrpool_address SET reserved_at = now() - interval '10 minutes' WHERE idx IN (1, 2) AND pool = "
             "(SELECT pool FROM addrpool_pool WHERE pool_id = " + quote(id) + ")");
    CHECK(val(p.sweep_expired_reservations(15min)) == 0);
    CHECK(val(p.sweep_expired_reservations(10min + 1s)) == 0);
    CHECK(val(p.sweep_expired_reservations(5min)) == 2);
    CHECK(val(p.state(1)) == AddressState::unused);
    CHECK(val(p.state(2)) == AddressState::unused);
    CHECK(val(p.state(3)) == AddressState::reserved);
    CHECK(val(p.sweep_expired_reservations(1h)) == 0);
    // ttl 0: every reservation stamped before the sweep.
    CHECK(val(p.sweep_expired_reservations(0ns)) == 2);
    CHECK(val(p.stats()).reserved == 0);
    CHECK(must_reserve(p, ks) == 0);
}

TEST_CASE("a sweep with a TTL near nanoseconds::max() frees nothing younger", "[pg][sweep]") {
    // The TTL in microseconds, rounded up, must not overflow (it freed every
    // reservation when it wrapped negative).
    const KeySource ks = private_source();
    auto p = open_pool(fresh_id("sweep-max"));
    const std::uint32_t held = must_reserve(p, ks);
    for (const auto ttl : {std::chrono::nanoseconds::max(), std::chrono::nanoseconds::max() - 500ns,
                           std::chrono::nanoseconds(std::chrono::hours(24 * 365 * 200))}) {
        CHECK(val(p.sweep_expired_reservations(ttl)) == 0);
    }
    CHECK(val(p.state(held)) == AddressState::reserved);
    CHECK(must_reserve(p, ks) == held + 1);
}

TEST_CASE("the lookahead that defaults to the gap limit is capped at 65536", "[pg][keys]") {
    // Uncapped, the first hand-out of a pool with a huge gap limit tried to
    // derive (and insert) the whole gap in one batch. The capped batch goes
    // in chunks of 4,096 rows, each well within the default 5 s
    // statement_timeout (in one statement it took 2-10 s here).
    const KeySource ks = private_source();
    const std::string id = fresh_id("huge-gap");
    auto p = open_pool(id, 1'000'000);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(must_reserve(p, ks) == 0);
    Sql sql(conninfo());
    const std::string rows = sql.scalar("SELECT count(*) FROM addrpool_address WHERE pool = (SELECT pool FROM addrpool_pool "
                                       "WHERE pool_id = " + quote(id) + ")");
    INFO("derived in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
    CHECK(std::stoul(rows) == 65536);  // the capped batch, every chunk landed
}

TEST_CASE("hand-outs run at READ COMMITTED whatever the database's default isolation", "[pg][concurrency]") {
    // Under REPEATABLE READ, concurrent hand-outs failed with serialization
    // errors (SQLSTATE 40001); every connection now sets its own level.
    Sql sql(conninfo());
    const std::string db = sql.scalar("SELECT current_database()");
    sql.exec("ALTER DATABASE \"" + db + "\" SET default_transaction_isolation = 'repeatable read'");
    struct Reset {
        Sql& sql;
        std::string db;
        ~Reset() { sql.exec("ALTER DATABASE \"" + db + "\" RESET default_transaction_isolation"); }
    } reset{sql, db};
    const KeySource ks = private_source();
    pg::SharedPoolOptions o;
    o.connections = 4;
    auto p = open_pool(fresh_id("isolation"), 20, o);
    constexpr int kThreads = 6, kEach = 30;
    std::atomic<int> failures{0};
    std::set<std::uint32_t> seen;
    std::mutex seen_mutex;
    std::latch start(kThreads);
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t) {
        ts.emplace_back([&] {
            start.arrive_and_wait();
            for (int k = 0; k < kEach; ++k) {
                auto r = p.reserve(ks);
                if (!r) {
                    failures.fetch_add(1);
                    continue;
                }
                std::lock_guard<std::mutex> lock(seen_mutex);
                seen.insert(r->index);
                (void)p.release_reservation(*r);
            }
        });
    }
    for (auto& t : ts) t.join();
    CHECK(failures.load() == 0);
    CHECK(!seen.empty());
}

TEST_CASE("a used mark is never swept or released", "[pg][sweep]") {
    const KeySource ks = private_source();
    auto p = open_pool(fresh_id("sweep-used"));
    auto r = p.reserve(ks);
    REQUIRE(ok(r));
    REQUIRE(val(p.mark_index_used(r->index)));
    CHECK(val(p.sweep_expired_reservations(-1s)) == 0);
    CHECK_FALSE(val(p.release_reservation(r->index)));
    CHECK(val(p.state(r->index)) == AddressState::used);
}

TEST_CASE("many threads on one object get distinct indices 0..N-1", "[pg][concurrency]") {
    const KeySource ks = private_source();
    pg::SharedPoolOptions o;
    o.connections = 4;
    auto p = open_pool(fresh_id("threads"), 20, o);
    constexpr int kThreads = 8, kEach = 40;
    std::vector<std::vector<std::uint32_t>> got(kThreads);
    std::atomic<int> failures{0};
    std::latch start(kThreads);
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t) {
        ts.emplace_back([&, t] {
            start.arrive_and_wait();
            for (int k = 0; k < kEach; ++k) {
                auto r = p.reserve(ks);
                if (r) got[t].push_back(r->index);
                else failures.fetch_add(1);
            }
        });
    }
    for (auto& t : ts) t.join();
    REQUIRE(failures.load() == 0);
    std::vector<std::uint32_t> all;
    for (auto& g : got) all.insert(all.end(), g.begin(), g.end());
    std::sort(all.begin(), all.end());
    REQUIRE(all.size() == kThreads * kEach);
    for (std::uint32_t i = 0; i < all.size(); ++i) REQUIRE(all[i] == i);
}

TEST_CASE("two objects, as two hosts with an xprv and its xpub, share one pool", "[pg][concurrency]") {
    const std::string id = fresh_id("hosts");
    const KeySource priv = private_source(), pub = public_source();
    auto a = open_pool(id, 20, {}, priv);
    auto b = open_pool(id, 20, {}, pub);
    std::vector<std::uint32_t> ia, ib;
    std::latch start(2);
    std::thread ta([&] {
        start.arrive_and_wait();
        for (int k = 0; k < 60; ++k) ia.push_back(must_reserve(a, priv));
    });
    std::thread tb([&] {
        start.arrive_and_wait();
        for (int k = 0; k < 60; ++k) ib.push_back(must_reserve(b, pub));
    });
    ta.join();
    tb.join();
    std::set<std::uint32_t> all(ia.begin(), ia.end());
    all.insert(ib.begin(), ib.end());
    CHECK(all.size() == 120);
    CHECK(*all.rbegin() == 119);
    // Both derived into the same rows: the addresses are the in-process pool's.
    AddressPool local(receive_path(), PoolType::external, 20, Network::testnet);
    for (std::uint32_t i = 0; i < 120; ++i) REQUIRE(ok(local.reserve(priv, true)));
    Sql sql(conninfo());
    const auto rows = sql.query("SELECT idx, encode(hash160, 'hex') FROM addrpool_address WHERE pool = (SELECT pool "
                                "FROM addrpool_pool WHERE pool_id = " + quote(id) + ") AND idx < 120 ORDER BY idx");
    REQUIRE(rows.size() == 120);
    for (const auto& row : rows) {
        const auto i = static_cast<std::uint32_t>(std::stoul(row[0]));
        std::string hex;
        const Address a = *local.address_at(i);
        for (std::uint8_t byte : a.hash160()) {
            static constexpr char d[] = "0123456789abcdef";
            hex += d[byte >> 4];
            hex += d[byte & 15];
        }
        CHECK(row[1] == hex);
    }
}

TEST_CASE("an index already derived is handed out to KeySource::none(); the next one needs a key", "[pg][keys]") {
    const KeySource ks = private_source();
    const std::string id = fresh_id("none");
    pg::SharedPoolOptions o;
    o.lookahead = 3;
    auto p = open_pool(id, 20, o);
    CHECK(must_reserve(p, ks) == 0);  // derives 0..2 (at least `connections` = 4: 0..3)
    auto watch = open_pool(id, 20, o, KeySource::none());
    std::uint32_t handed = 1;
    for (;; ++handed) {
        auto r = watch.reserve(KeySource::none());
        if (!r) {
            CHECK(r.error().code == Errc::no_key_source);
            break;
        }
        CHECK(r->index == handed);
    }
    CHECK(handed >= 3);
}

TEST_CASE("a key source of another account is refused when it must derive", "[pg][keys]") {
    auto p = open_pool(fresh_id("other-key"), 20);
    auto r = p.reserve(KeySource::from_private(other_account_key()));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_argument);
    CHECK(val(p.stats()).reserved == 0);
}

TEST_CASE("an absent_hardened pool derives with the private key only", "[pg][keys]") {
    const std::string id = fresh_id("hardened");
    const KeySource priv = private_source(), pub = public_source();
    // "m": the index is the component right below the account key.
    auto refused = pg::SharedPool::open(conninfo(), id, DerivationPath(), PoolType::absent_hardened, 5, Network::testnet, pub);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == Errc::hardened_from_public);
    auto p = pg::SharedPool::open(conninfo(), id, DerivationPath(), PoolType::absent_hardened, 5, Network::testnet, priv);
    REQUIRE(ok(p));
    CHECK(val(p->reserve(priv)).index == 0);
    // The public half of the same key is the same account: it gets the rows
    // derived ahead, then cannot derive the next one.
    int handed = 0;
    for (; handed < 50; ++handed) {
        auto r = p->reserve(pub);
        if (!r) {
            CHECK(r.error().code == Errc::hardened_from_public);
            break;
        }
    }
    CHECK(handed < 50);
}

TEST_CASE("rows derived ahead and deleted by hand are derived again, without a hole", "[pg][keys]") {
    const KeySource ks = private_source();
    const std::string id = fresh_id("deleted");
    auto p = open_pool(id);
    CHECK(must_reserve(p, ks) == 0);  // derives ahead
    Sql sql(conninfo());
    sql.exec("DELETE FROM addrpool_address WHERE idx > 0 AND pool = (SELECT pool FROM addrpool_pool WHERE pool_id = " +
             quote(id) + ")");
    for (std::uint32_t i = 1; i < 30; ++i) CHECK(must_reserve(p, ks) == i);
}

TEST_CASE("index_out_of_range once the derived range ends at 2^31 - 1 with nothing free", "[pg][errors]") {
    const KeySource ks = private_source();
    const std::string id = fresh_id("end");
    auto p = open_pool(id);
    Sql sql(conninfo());
    // The last index exists and is used (put there by hand: deriving 2^31
    // rows is not a test); nothing is free.
    sql.exec("INSERT INTO addrpool_address (pool, idx, hash160, state, generated) SELECT pool, 2147483647, "
             "decode(repeat('00', 20), 'hex'), 2, true FROM addrpool_pool WHERE pool_id = " + quote(id));
    auto r = p.reserve(ks);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::index_out_of_range);
    CHECK(val(p.scan_window_end()) == 0x80000000u);  // saturates
}
