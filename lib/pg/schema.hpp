// Internal: the database schema of addrpool-pg and every statement it runs.
// docs/api.md ("The schema") is the long form.
#ifndef ADDRPOOL_LIB_PG_SCHEMA_HPP
#define ADDRPOOL_LIB_PG_SCHEMA_HPP

#include "pg/conn.hpp"

#include <array>
#include <cstdint>

namespace addrpool::pg::detail {

// The schema version this build creates and understands (table addrpool_schema).
inline constexpr std::int32_t kSchemaVersion = 1;

// The values of addrpool_address.state.
inline constexpr int kUnused = 0;
inline constexpr int kReserved = 1;
inline constexpr int kUsed = 2;

// Creates the schema if it is missing, or checks its version. Safe when many
// processes do it at once: creation runs in one transaction under a
// transaction-scoped advisory lock, so the second creator waits and then
// finds every object there. Errors: backend_unavailable, unsupported_format.
Result<void> ensure_schema(Conn& conn);

// The prepared statements, by role. Parameters are text; $1 is always the
// pool's integer key (addrpool_pool.pool).
enum Stmt : std::size_t {
    // $2 add_to_state. Zero rows (nothing free) or one: idx, hash160 (bytea
    // text form), ticket.
    handout_unbounded,
    // As handout_unbounded, $3 gap_limit: only below (highest used + 1) + gap_limit.
    handout_gap,
    // One row: the highest derived index, the highest used index (NULLs for none).
    frontier,
    // $2 first index, $3 the hash160s (one bytea, \\x + hex), $4 count. One row:
    // rows inserted, rows that existed with other bytes.
    insert_derived,
    release_index,   // $2 idx
    release_ticket,  // $2 idx, $3 ticket
    sweep,           // $2 ttl in µs
    mark_index,      // $2 idx
    mark_hash,       // $2 hash160 (bytea text form)
    state_of,        // $2 idx; zero or one row: state
    window,          // one row: highest used, highest reserved
    stats,           // one row: generated, used, reserved, unused, highest used/reserved/generated
    kStatementCount,
};

const std::array<Statement, kStatementCount>& statements();

}  // namespace addrpool::pg::detail

#endif  // ADDRPOOL_LIB_PG_SCHEMA_HPP
