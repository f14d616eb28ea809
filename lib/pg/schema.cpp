// The schema of addrpool-pg and its statements.
//
// One row per derived index in addrpool_address: hash160 (derived by the
// clients), state (0 unused, 1 reserved, 2 used), ticket and reserved_at
// (only while reserved), generated (part of the durable state). Three partial
// indexes keep each state's rows apart, so a hand-out reads only free rows,
// a sweep only reserved ones, and the gap check finds the highest used index
// at the end of a small index. addrpool_hash maps hash160 back to the index.
#include "pg/schema.hpp"

#include <string>

namespace addrpool::pg::detail {

namespace {

// Serializes schema creation between processes: pg_advisory_xact_lock's key
// (an arbitrary constant, "addrpool" in ASCII).
#define ADDRPOOL_PG_SCHEMA_LOCK "7017280452245743724"

constexpr const char* kCreateSchema =
    "BEGIN;\n"
    "SELECT pg_advisory_xact_lock(" ADDRPOOL_PG_SCHEMA_LOCK ");\n"
    "CREATE TABLE IF NOT EXISTS addrpool_schema (version integer NOT NULL);\n"
    "INSERT INTO addrpool_schema (version) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM addrpool_schema);\n"
    // Tickets: unique across every host and server restart (a sequence never
    // hands out a value twice, even after a crash).
    "CREATE SEQUENCE IF NOT EXISTS addrpool_ticket AS bigint;\n"
    "CREATE TABLE IF NOT EXISTS addrpool_pool (\n"
    "  pool serial PRIMARY KEY,\n"
    "  pool_id text NOT NULL UNIQUE,\n"
    "  base_path text NOT NULL,\n"
    "  pool_type smallint NOT NULL,\n"
    "  gap_limit integer NOT NULL CHECK (gap_limit >= 0),\n"
    "  network smallint NOT NULL,\n"
    "  key_fingerprint bigint NOT NULL,\n"
    "  chain_code_hash bytea NOT NULL,\n"
    "  created_at timestamptz NOT NULL DEFAULT now());\n"
    // The hot table: every call updates one row of it. No foreign key and
    // no CHECK constraint (the library is its only writer): each costs
    // every UPDATE measurable time (docs/performance.md), and so would an
    // index on hash160, which lives in addrpool_hash instead.
    "CREATE TABLE IF NOT EXISTS addrpool_address (\n"
    "  pool integer NOT NULL,\n"
    "  idx integer NOT NULL,\n"
    "  hash160 bytea NOT NULL,\n"
    "  state smallint NOT NULL DEFAULT 0,\n"
    "  generated boolean NOT NULL DEFAULT false,\n"
    "  ticket bigint,\n"
    "  reserved_at timestamptz,\n"
    "  PRIMARY KEY (pool, idx));\n"
    "CREATE INDEX IF NOT EXISTS addrpool_address_free ON addrpool_address (pool, idx) WHERE state = 0;\n"
    "CREATE INDEX IF NOT EXISTS addrpool_address_reserved ON addrpool_address (pool, idx) WHERE state = 1;\n"
    "CREATE INDEX IF NOT EXISTS addrpool_address_used ON addrpool_address (pool, idx) WHERE state = 2;\n"
    // hash160 → index, for mark_used(Address): written once per derived
    // index, in the statement that inserts its addrpool_address row.
    "CREATE TABLE IF NOT EXISTS addrpool_hash (\n"
    "  pool integer NOT NULL,\n"
    "  hash160 bytea NOT NULL,\n"
    "  idx integer NOT NULL,\n"
    "  PRIMARY KEY (pool, hash160));\n"
    // The pool's durable state, as AddressPool::serialize holds it: what to
    // export or back up. No reservation, ticket or time is in it.
    "CREATE OR REPLACE VIEW addrpool_durable_state AS\n"
    "  SELECT p.pool_id, a.idx, a.hash160, a.state = 2 AS used\n"
    "    FROM addrpool_address a JOIN addrpool_pool p USING (pool)\n"
    "   WHERE a.generated OR a.state = 2;\n"
    "COMMIT;\n";

// The hand-out: one statement. The subquery locks the lowest free row that
// no concurrent transaction holds (SKIP LOCKED: it never waits for, and never
// retries against, another caller); the UPDATE reserves that row with a
// fresh ticket and the server's clock at the claim (clock_timestamp(), not
// the statement's start: a statement that waited must not stamp the past).
// No row comes back when nothing is free; the caller then asks
// addrpool_frontier why.
#define ADDRPOOL_PG_HANDOUT(GAP_CONDITION)                                                       \
    "UPDATE addrpool_address\n"                                                                  \
    "   SET state = 1, ticket = nextval('addrpool_ticket'), reserved_at = clock_timestamp(),\n"  \
    "       generated = generated OR $2::boolean\n"                                              \
    " WHERE pool = $1 AND idx = (\n"                                                             \
    "   SELECT idx FROM addrpool_address\n"                                                      \
    "    WHERE pool = $1 AND state = 0" GAP_CONDITION "\n"                                       \
    "    ORDER BY idx LIMIT 1\n"                                                                 \
    "    FOR UPDATE SKIP LOCKED)\n"                                                              \
    "RETURNING idx, hash160, ticket"

const std::array<Statement, kStatementCount> kStatements = {{
    {"addrpool_handout", ADDRPOOL_PG_HANDOUT("")},
    // GapPolicy::error, enforced in the same statement: only indices below
    // (highest used + 1) + gap_limit qualify (an index condition, so the scan
    // stops at the bound).
    {"addrpool_handout_gap",
     ADDRPOOL_PG_HANDOUT("\n      AND idx < (SELECT coalesce(max(idx) + 1, 0) FROM addrpool_address\n"
                         "                  WHERE pool = $1 AND state = 2)::bigint + $3::bigint")},
    {"addrpool_frontier",
     "SELECT (SELECT max(idx) FROM addrpool_address WHERE pool = $1),\n"
     "       (SELECT max(idx) FROM addrpool_address WHERE pool = $1 AND state = 2)"},
    {"addrpool_insert_derived",
     "WITH new AS (\n"
     "  SELECT $2::integer + g AS idx, substring($3::bytea FROM g * 20 + 1 FOR 20) AS h\n"
     "    FROM generate_series(0, $4::integer - 1) AS g),\n"
     "ins AS (\n"
     "  INSERT INTO addrpool_address (pool, idx, hash160)\n"
     "  SELECT $1::integer, idx, h FROM new ORDER BY idx\n"
     "  ON CONFLICT (pool, idx) DO NOTHING RETURNING idx, hash160),\n"
     "ins_hash AS (\n"
     "  INSERT INTO addrpool_hash (pool, hash160, idx)\n"
     "  SELECT $1::integer, hash160, idx FROM ins\n"
     "  ON CONFLICT (pool, hash160) DO NOTHING RETURNING 1)\n"
     "SELECT (SELECT count(*) FROM ins),\n"
     "       (SELECT count(*) FROM new JOIN addrpool_address a\n"
     "          ON a.pool = $1 AND a.idx = new.idx AND a.hash160 <> new.h)"},
    {"addrpool_release_index",
     "UPDATE addrpool_address SET state = 0, ticket = NULL, reserved_at = NULL\n"
     " WHERE pool = $1 AND idx = $2 AND state = 1"},
    {"addrpool_release_ticket",
     "UPDATE addrpool_address SET state = 0, ticket = NULL, reserved_at = NULL\n"
     " WHERE pool = $1 AND idx = $2 AND state = 1 AND ticket = $3"},
    // now() is the start of the sweep's transaction: its one clock reading.
    {"addrpool_sweep",
     "UPDATE addrpool_address SET state = 0, ticket = NULL, reserved_at = NULL\n"
     " WHERE pool = $1 AND state = 1 AND reserved_at <= now() - $2::bigint * interval '1 microsecond'"},
    {"addrpool_mark_index",
     "UPDATE addrpool_address SET state = 2, ticket = NULL, reserved_at = NULL, generated = true\n"
     " WHERE pool = $1 AND idx = $2 AND state <> 2 AND (generated OR state = 1)"},
    {"addrpool_mark_hash",
     "UPDATE addrpool_address SET state = 2, ticket = NULL, reserved_at = NULL, generated = true\n"
     " WHERE pool = $1 AND idx = (SELECT idx FROM addrpool_hash WHERE pool = $1 AND hash160 = $2::bytea)\n"
     "   AND state <> 2 AND (generated OR state = 1)"},
    {"addrpool_state", "SELECT state FROM addrpool_address WHERE pool = $1 AND idx = $2"},
    {"addrpool_window",
     "SELECT (SELECT max(idx) FROM addrpool_address WHERE pool = $1 AND state = 2),\n"
     "       (SELECT max(idx) FROM addrpool_address WHERE pool = $1 AND state = 1)"},
    {"addrpool_stats",
     "SELECT count(*) FILTER (WHERE generated),\n"
     "       count(*) FILTER (WHERE state = 2),\n"
     "       count(*) FILTER (WHERE state = 1),\n"
     "       count(*) FILTER (WHERE generated AND state = 0),\n"
     "       max(idx) FILTER (WHERE state = 2),\n"
     "       max(idx) FILTER (WHERE state = 1),\n"
     "       max(idx) FILTER (WHERE generated)\n"
     "  FROM addrpool_address WHERE pool = $1"},
}};

#undef ADDRPOOL_PG_HANDOUT

// The version found, or nullopt when the schema table does not exist.
Result<std::optional<std::int64_t>> schema_version(Conn& conn) {
    auto exists = conn.exec_once("schema check", "SELECT to_regclass('addrpool_schema') IS NOT NULL", {});
    if (!exists) return std::move(exists).error();
    if (exists->text(0, 0) != "t") return std::optional<std::int64_t>();
    auto r = conn.exec_once("schema check", "SELECT min(version) FROM addrpool_schema", {});
    if (!r) return std::move(r).error();
    return std::optional<std::int64_t>(r->int64(0, 0).value_or(-1));
}

}  // namespace

const std::array<Statement, kStatementCount>& statements() { return kStatements; }

Result<void> ensure_schema(Conn& conn) {
    auto v = schema_version(conn);
    if (!v) return std::move(v).error();
    if (!*v) {
        if (auto r = conn.exec_script(kCreateSchema); !r) {
            // A failed script leaves its transaction aborted; end it.
            (void)conn.exec_script("ROLLBACK");
            return std::move(r).error();
        }
        v = schema_version(conn);
        if (!v) return std::move(v).error();
    }
    if (!*v || **v != kSchemaVersion) {
        return make_error(Errc::unsupported_format,
                          "the database holds addrpool schema version " + (*v ? std::to_string(**v) : std::string("?")) +
                              "; this build uses version " + std::to_string(kSchemaVersion));
    }
    return {};
}

}  // namespace addrpool::pg::detail
