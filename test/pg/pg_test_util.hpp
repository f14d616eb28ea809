// Shared by the addrpool-pg tests, the stress program and the demo: the
// throwaway cluster's coordinates (set by scripts/pg-cluster), the test
// keys, and a plain libpq connection for looking at and tampering with the
// tables from outside the library.
#ifndef ADDRPOOL_TEST_PG_UTIL_HPP
#define ADDRPOOL_TEST_PG_UTIL_HPP

#include <addrpool/addrpool.hpp>
#include <addrpool/pg.hpp>

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace addrpool::pgtest {

inline constexpr const char* kMnemonic =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

// ADDRPOOL_PG_CONNINFO, or a clear failure: these programs run under
// scripts/pg-cluster (meson test does that), or against a server you name.
inline std::string conninfo() {
    const char* c = std::getenv("ADDRPOOL_PG_CONNINFO");
    if (c == nullptr || *c == '\0') {
        throw std::runtime_error(
            "ADDRPOOL_PG_CONNINFO is not set: run under scripts/pg-cluster -- <program>, or set it to a server");
    }
    return c;
}

// Restarts the server with pg_ctl restart -m immediate (scripts/pg-cluster).
inline void restart_server() {
    const char* r = std::getenv("ADDRPOOL_PG_RESTART");
    if (r == nullptr || *r == '\0') throw std::runtime_error("ADDRPOOL_PG_RESTART is not set (run under scripts/pg-cluster)");
    if (std::system(r) != 0) throw std::runtime_error("the server restart failed");
}

// The BIP44 account key (m/44'/coin'/account') of the test mnemonic.
inline ExtendedPrivKey account_key(Network net = Network::testnet, std::uint32_t account = 0) {
    auto seed = mnemonic_to_seed(kMnemonic, "");
    if (!seed) throw std::runtime_error("seed");
    auto root = ExtendedPrivKey::from_seed(*seed, net);
    if (!root) throw std::runtime_error("root key");
    const std::uint32_t coin = bip44_coin_type(net);
    auto acct = root->derive(DerivationPath({44 | hardened_bit, coin | hardened_bit, account | hardened_bit}));
    if (!acct) throw std::runtime_error("account key");
    return *acct;
}

// An unrelated account key at the same path (the test mnemonic with a
// passphrase): another wallet.
inline ExtendedPrivKey other_account_key(Network net = Network::testnet) {
    auto seed = mnemonic_to_seed(kMnemonic, "another wallet");
    if (!seed) throw std::runtime_error("seed");
    auto root = ExtendedPrivKey::from_seed(*seed, net);
    if (!root) throw std::runtime_error("root key");
    const std::uint32_t coin = bip44_coin_type(net);
    auto acct = root->derive(DerivationPath({44 | hardened_bit, coin | hardened_bit, hardened_bit}));
    if (!acct) throw std::runtime_error("account key");
    return *acct;
}

inline DerivationPath receive_path(Network net = Network::testnet, std::uint32_t account = 0) {
    return DerivationPath({44 | hardened_bit, bip44_coin_type(net) | hardened_bit, account | hardened_bit, 0});
}

// A plain libpq connection (not the library's): SQL from outside.
class Sql {
public:
    explicit Sql(const std::string& conninfo, const char* application_name = "addrpool-test") {
        // connect_timeout: a server that does not answer fails the test, not hangs it.
        const char* kw[] = {"dbname", "application_name", "connect_timeout", nullptr};
        const char* val[] = {conninfo.c_str(), application_name, "30", nullptr};
        c_ = PQconnectdbParams(kw, val, /*expand_dbname=*/1);
        if (PQstatus(c_) != CONNECTION_OK) {
            std::string m = PQerrorMessage(c_);
            PQfinish(c_);
            throw std::runtime_error("test connection: " + m);
        }
        PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
    }
    ~Sql() { PQfinish(c_); }
    Sql(const Sql&) = delete;
    Sql& operator=(const Sql&) = delete;

    // Runs `sql`; returns every row, each value as text ("" for NULL). Throws on error.
    std::vector<std::vector<std::string>> query(const std::string& sql) {
        PGresult* r = PQexec(c_, sql.c_str());
        const auto st = PQresultStatus(r);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            std::string m = PQresultErrorMessage(r);
            PQclear(r);
            throw std::runtime_error("SQL failed: " + sql + ": " + m);
        }
        std::vector<std::vector<std::string>> rows;
        for (int i = 0; i < PQntuples(r); ++i) {
            rows.emplace_back();
            for (int j = 0; j < PQnfields(r); ++j) rows.back().emplace_back(PQgetvalue(r, i, j));
        }
        PQclear(r);
        return rows;
    }
    void exec(const std::string& sql) { (void)query(sql); }
    // The first value of the first row ("" when there is none).
    std::string scalar(const std::string& sql) {
        auto rows = query(sql);
        return rows.empty() || rows[0].empty() ? std::string() : rows[0][0];
    }

private:
    PGconn* c_ = nullptr;
};

// SQL text literal.
inline std::string quote(const std::string& s) {
    std::string out = "'";
    for (char ch : s) {
        if (ch == '\'') out += '\'';
        out += ch;
    }
    return out + "'";
}

}  // namespace addrpool::pgtest

#endif  // ADDRPOOL_TEST_PG_UTIL_HPP
