// SharedPool::open (schema, registration, refusals) and faults: timeouts,
// lost connections, server restarts, unreachable servers, secrets.
#include "pg_catch.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <thread>
#include <vector>

using namespace addrpool;
using namespace addrpool::pgtest;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPassword = "Pa55-never-in-a-message";

Result<pg::SharedPool> open_at(const std::string& conn, const std::string& id, pg::SharedPoolOptions o = {},
                               std::uint32_t gap = 20, const KeySource& ks = private_source()) {
    return pg::SharedPool::open(conn, id, receive_path(), PoolType::external, gap, Network::testnet, ks, o);
}

// The conninfo with a password in it (trust authentication ignores it; the
// point is that it never shows up in an error message).
std::string conninfo_with_password() { return conninfo() + " password=" + kPassword; }

void check_no_secret(const Error& e) {
    INFO(e.message);
    CHECK(e.message.find(kPassword) == std::string::npos);
    CHECK(e.message.find("Pa55") == std::string::npos);
}

// A fresh database on the test server, dropped at the end.
struct TempDatabase {
    std::string name;
    explicit TempDatabase(const char* base) : name(std::string(base) + "_" + std::to_string(::getpid())) {
        Sql(conninfo()).exec("CREATE DATABASE " + name);
    }
    ~TempDatabase() { Sql(conninfo()).exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); }
    std::string conninfo_of() const { return conninfo() + " dbname=" + name; }
};

// Waits (no fixed sleep) until the server shows an addrpool-pg backend
// waiting on a lock; returns its pid.
std::string wait_for_blocked_backend(Sql& sql) {
    for (int i = 0; i < 2000; ++i) {
        const std::string pid = sql.scalar(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'addrpool-pg' AND wait_event_type = 'Lock'");
        if (!pid.empty()) return pid;
        std::this_thread::sleep_for(5ms);
    }
    FAIL("no addrpool-pg backend ever waited on the lock");
    return {};
}

}  // namespace

TEST_CASE("open creates the schema and many processes opening at once on a fresh database all succeed",
          "[pg][open]") {
    TempDatabase db("addrpool_open_race");
    constexpr int kOpeners = 8;
    std::vector<std::optional<Error>> errors(kOpeners);
    std::latch start(kOpeners);
    std::vector<std::thread> ts;
    for (int t = 0; t < kOpeners; ++t) {
        ts.emplace_back([&, t] {
            start.arrive_and_wait();
            // Half of them register the same pool at the same moment.
            auto p = open_at(db.conninfo_of(), t % 2 ? "shared" : "pool-" + std::to_string(t));
            if (!p) errors[t] = p.error();
        });
    }
    for (auto& t : ts) t.join();
    for (const auto& e : errors) {
        if (e) FAIL_CHECK(errc_name(e->code) << ": " << e->message);
    }
    Sql sql(db.conninfo_of());
    CHECK(sql.scalar("SELECT count(*) FROM addrpool_pool") == std::to_string(kOpeners / 2 + 1));
    CHECK(sql.scalar("SELECT string_agg(version::text, ',') FROM addrpool_schema") == "1");
}

TEST_CASE("open refuses an existing pool with another key, base path, type, gap limit or network", "[pg][open]") {
    const std::string id = fresh_id("refuse");
    const KeySource ks = private_source();
    REQUIRE(ok(open_at(conninfo(), id)));
    REQUIRE(ok(open_at(conninfo(), id)));  // the same parameters: fine
    const auto refused = [&](Result<pg::SharedPool> r, const char* what) {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
        INFO(r.error().message);
        CHECK(r.error().message.find(what) != std::string::npos);
    };
    refused(open_at(conninfo(), id, {}, 20, KeySource::from_private(other_account_key())), "another account key");
    refused(open_at(conninfo(), id, {}, 21), "gap limit");
    const auto base1 = DerivationPath({44 | hardened_bit, 1 | hardened_bit, 0 | hardened_bit, 1});
    refused(pg::SharedPool::open(conninfo(), id, DerivationPath({0}), PoolType::external, 20, Network::testnet, ks),
            "base path");
    refused(pg::SharedPool::open(conninfo(), id, base1, PoolType::internal, 20, Network::testnet, ks), "pool type");
    refused(pg::SharedPool::open(conninfo(), id, receive_path(), PoolType::external, 20, Network::devnet, ks),
            "network");
}

TEST_CASE("KeySource::none() opens an existing pool but cannot create one", "[pg][open]") {
    const std::string id = fresh_id("none-open");
    auto created = open_at(conninfo(), fresh_id("none-missing"), {}, 20, KeySource::none());
    REQUIRE_FALSE(created);
    CHECK(created.error().code == Errc::invalid_argument);
    REQUIRE(ok(open_at(conninfo(), id)));
    CHECK(open_at(conninfo(), id, {}, 20, KeySource::none()));
}

TEST_CASE("open rejects arguments out of range with invalid_argument", "[pg][open]") {
    const auto bad = [](Result<pg::SharedPool> r) {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
    };
    pg::SharedPoolOptions o;
    bad(open_at(conninfo(), ""));
    bad(open_at(conninfo(), std::string(201, 'x')));
    bad(open_at(conninfo(), fresh_id("gap"), o, 0x80000000u));
    o.connections = 0;
    bad(open_at(conninfo(), fresh_id("conn"), o));
    o = {};
    o.statement_timeout = 0ms;
    bad(open_at(conninfo(), fresh_id("timeout"), o));
    o = {};
    o.lookahead = 65537;
    bad(open_at(conninfo(), fresh_id("lookahead"), o));
    // libpq takes C strings: a NUL byte would cut the text short there.
    bad(open_at(conninfo(), fresh_id("nul") + std::string(1, '\0') + "b"));
    bad(open_at(conninfo() + std::string(1, '\0') + " dbname=elsewhere", fresh_id("nul-conninfo")));
    // A key for the other network family: the key source's own check.
    auto mainnet = KeySource::from_private(account_key(Network::mainnet));
    auto r = pg::SharedPool::open(conninfo(), fresh_id("family"), receive_path(), PoolType::external, 20,
                                  Network::testnet, mainnet);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_argument);
}

TEST_CASE("a malformed conninfo is refused without repeating it", "[pg][open][secrets]") {
    for (const std::string& text : {std::string("host=/tmp password=") + kPassword + " junk",
                                   std::string("postgresql://u:") + kPassword + "@/db?bogus_option=1",
                                   std::string("password='") + kPassword}) {
        auto r = open_at(text, fresh_id("malformed"));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
        check_no_secret(r.error());
    }
}

TEST_CASE("an unreachable server gives backend_unavailable without the password", "[pg][faults][secrets]") {
    for (const std::string& text : {std::string("host=/nonexistent-addrpool-dir password=") + kPassword,
                                   std::string("postgresql://app:") + kPassword + "@%2Fnonexistent-addrpool-dir/db",
                                   conninfo() + " dbname=no_such_database_" + kPassword + " password=" + kPassword}) {
        auto r = open_at(text, fresh_id("unreachable"));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::backend_unavailable);
        check_no_secret(r.error());
    }
}

TEST_CASE("a database with another schema version is refused with unsupported_format", "[pg][open]") {
    TempDatabase db("addrpool_schema_v99");
    Sql(db.conninfo_of()).exec("CREATE TABLE addrpool_schema (version integer NOT NULL); "
                               "INSERT INTO addrpool_schema VALUES (99)");
    auto r = open_at(db.conninfo_of(), "p");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::unsupported_format);
}

TEST_CASE("a statement past statement_timeout gives backend_unavailable; the next call works", "[pg][faults]") {
    const KeySource ks = private_source();
    pg::SharedPoolOptions o;
    o.statement_timeout = 300ms;
    o.connections = 1;
    auto p = open_at(conninfo_with_password(), fresh_id("timeout"), o);
    REQUIRE(ok(p));
    REQUIRE(ok(p->reserve(ks)));
    Sql locker(conninfo());
    locker.exec("BEGIN; LOCK TABLE addrpool_address IN ACCESS EXCLUSIVE MODE");
    auto r = p->reserve(ks);
    locker.exec("ROLLBACK");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::backend_unavailable);
    CHECK(r.error().message.find("timed out") != std::string::npos);
    check_no_secret(r.error());
    auto next = p->reserve(ks);
    REQUIRE(ok(next));
    CHECK(next->index == 1);  // the timed-out statement reserved nothing
}

TEST_CASE("a connection lost mid-statement gives backend_unavailable without the password; the next call "
          "reconnects",
          "[pg][faults][secrets]") {
    const KeySource ks = private_source();
    pg::SharedPoolOptions o;
    o.connections = 1;
    auto p = open_at(conninfo_with_password(), fresh_id("killed"), o);
    REQUIRE(ok(p));
    REQUIRE(ok(p->reserve(ks)));
    Sql locker(conninfo());
    locker.exec("BEGIN; LOCK TABLE addrpool_address IN ACCESS EXCLUSIVE MODE");
    auto pending = std::async(std::launch::async, [&] { return p->reserve(ks); });
    const std::string pid = wait_for_blocked_backend(locker);
    Sql(conninfo()).exec("SELECT pg_terminate_backend(" + pid + ")");
    auto r = pending.get();
    locker.exec("ROLLBACK");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::backend_unavailable);
    check_no_secret(r.error());
    auto next = p->reserve(ks);
    REQUIRE(ok(next));
    CHECK(next->index == 1);
}

TEST_CASE("idle connections the server closed are replaced before use", "[pg][faults]") {
    const KeySource ks = private_source();
    pg::SharedPoolOptions o;
    o.connections = 3;
    const std::string id = fresh_id("idle-killed");
    auto p = open_at(conninfo(), id, o);
    REQUIRE(ok(p));
    REQUIRE(ok(p->reserve(ks)));
    Sql sql(conninfo());
    sql.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'addrpool-pg'");
    // Terminated backends exit before the server forgets them: wait for that,
    // so their sockets are closed when the pool looks.
    for (int i = 0; i < 2000 && sql.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                           "'addrpool-pg'") != "0";
         ++i) {
        std::this_thread::sleep_for(5ms);
    }
    for (std::uint32_t i = 1; i < 4; ++i) {
        auto r = p->reserve(ks);
        REQUIRE(ok(r));
        CHECK(r->index == i);
    }
}

TEST_CASE("across a server crash and restart: used marks and reservations survive, tickets keep growing, calls "
          "reconnect",
          "[pg][faults][restart]") {
    const KeySource ks = private_source();
    pg::SharedPoolOptions o;
    o.connections = 2;
    auto p = open_at(conninfo(), fresh_id("restart"), o);
    REQUIRE(ok(p));
    auto r0 = p->reserve(ks);
    auto r1 = p->reserve(ks);
    REQUIRE(ok(r0));
    REQUIRE(ok(r1));
    REQUIRE(val(p->mark_index_used(r0->index)));
    restart_server();  // pg_ctl restart -m immediate: no checkpoint, crash recovery
    auto s0 = p->state(r0->index);
    REQUIRE(ok(s0));
    CHECK(*s0 == AddressState::used);
    CHECK(val(p->state(r1->index)) == AddressState::reserved);  // the live holder keeps its index
    auto r2 = p->reserve(ks);
    REQUIRE(ok(r2));
    CHECK(r2->index == 2);
    CHECK(r2->ticket > r1->ticket);
    CHECK(val(p->release_reservation(*r1)));
}
