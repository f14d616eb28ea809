// addrpool-pg — one account's address pool shared by many processes and
// hosts through PostgreSQL (library addrpool-pg, pkg-config addrpool-pg).
//
// AddressPool keeps its promises inside one process. SharedPool keeps the
// same ones across every process and host that opens the same pool_id on the
// same database: each index is Unused, Reserved or Used in one row of
// addrpool_address, and every operation is one SQL statement (one round
// trip, one transaction) against it; only a hand-out that finds no free
// address derived yet adds a query and an insert first:
//
//     Unused ──reserve──▶ Reserved ──mark used──▶ Used
//        ▲                   │
//        └──release / sweep──┘
//
// - A hand-out is one statement: it locks the lowest free row that no
//   concurrent transaction is claiming (FOR UPDATE SKIP LOCKED over a partial
//   index of free rows), checks the gap policy, and reserves it with a ticket
//   from a database sequence. It never retries against other callers. When
//   no other hand-out is in flight it takes the lowest free index, so the
//   indices handed out leave no holes once callers are quiet.
// - Time is the database server's: reservation times and TTL sweeps use the
//   server clock, so clock skew between hosts cannot free a live reservation
//   (a step of the server's own wall clock shifts every reservation's age).
//   A host that dies holding reservations loses them at the TTL (to whoever
//   sweeps), like an abandoned hand-out.
// - Used is durable: a mark is committed (synchronous commit) before mark_*
//   returns; a connection whose default is synchronous_commit = off gets
//   on (local, remote_write and remote_apply stay as configured). Reservations are committed rows too (they survive a server
//   restart, so a live holder keeps its index), but they are not part of the
//   pool's durable state: the view addrpool_durable_state, the export of a
//   pool, holds index, hash160 and used only (docs/api.md, "The schema").
// - Derivation stays on the clients: each caller's KeySource derives the
//   addresses ahead of the hand-out frontier, outside the hand-out statement,
//   and inserts them with ON CONFLICT DO NOTHING. Every host derives the same
//   bytes; a host with another key is refused by open().
//
// Conventions for every member function below:
// - Thread safety: every member function may be called concurrently with any
//   other on the same object, from any number of threads, without an external
//   lock, except the move operations and the destructor. Any number of
//   objects, in any number of processes and hosts, may share one pool; an
//   object belongs to the process that opened it (a child of fork() opens
//   its own: libpq connections cannot be shared across processes).
// - Progress: every call is blocking. It takes one of the object's
//   `connections` libpq connections (waiting while all are busy), sends its
//   statement and waits for the reply: at most statement_timeout on the
//   server, plus 2 s for a reply lost in the network, plus connect_timeout
//   when it must (re)connect.
// - Consistency: each call is one transaction (READ COMMITTED, set on every
//   connection whatever the server's or role's default; a proxy must keep
//   sessions, docs/api.md), so single-
//   index operations are linearizable, and stats() and scan_window_end() are
//   consistent snapshots even while others write.
// - Faults: a lost connection, a server that is down or restarting, or a
//   timeout gives Errc::backend_unavailable; the message never contains a
//   password (conninfo secrets are removed from every message). The broken
//   connection is dropped and the next call reconnects; idle connections that
//   the server closed (e.g. across a restart) are noticed and replaced before
//   use, so only calls in flight at the moment of the fault, and calls made
//   while the server cannot be reached, fail. A statement
//   either committed or did not, and a failed call cannot tell which: a
//   hand-out whose commit reply was lost holds a reservation nobody knows
//   of, which a sweep frees at its TTL; a mark or release may have happened.
// - Results: fallible calls return Result<T>; a call that fails changes
//   nothing in the pool except as the previous point says.
#ifndef ADDRPOOL_PG_HPP
#define ADDRPOOL_PG_HPP

#include <addrpool/address.hpp>
#include <addrpool/export.hpp>
#include <addrpool/key_source.hpp>
#include <addrpool/keys.hpp>
#include <addrpool/network.hpp>
#include <addrpool/pool.hpp>
#include <addrpool/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace addrpool::pg {

struct SharedPoolOptions {
    // Addresses kept derived ahead in the database, above the highest index
    // handed out; 0 = gap_limit (at least 1, at most 65536). A value above
    // 65536 is refused by open() (invalid_argument).
    std::uint32_t lookahead = 0;
    // unbounded, or error: a hand-out fails with gap_limit_reached when the
    // lowest free index is >= (highest used + 1) + gap_limit (>= gap_limit
    // when nothing is used), checked inside the hand-out statement.
    GapPolicy gap_policy = GapPolicy::unbounded;
    // libpq connections this object keeps (opened on demand, 1..256): the
    // number of its calls that can be in flight at once.
    unsigned connections = 4;
    // The server's statement_timeout for every statement (>= 1 ms); a
    // statement that runs longer fails with backend_unavailable. Also the
    // connect_timeout (rounded up to whole seconds, at least 2) unless the
    // conninfo names one.
    std::chrono::milliseconds statement_timeout{5000};
};

class ADDRPOOL_EXPORT SharedPool {
public:
    // Connects, creates the schema if missing (idempotent, safe when many
    // processes start at once: creation runs under a transaction-scoped
    // advisory lock), and registers pool `pool_id` with its base path, type,
    // gap limit, network and the identity of key_source's account key
    // (fingerprint + hash160 of the chain code). Opening an existing pool_id
    // with another key, base path, type, gap limit or network fails with
    // invalid_argument; KeySource::none() may open an existing pool (it then
    // hands out only addresses already derived) but cannot create one.
    // The pool_id is the pool: two pool_ids registered with the same account
    // key, type and network are two pools over the same addresses, and each
    // hands them out on its own (nothing in the schema refuses the second
    // registration). Give each chain of an account one pool_id.
    //
    // conninfo: any libpq connection string or URI ("host=/run/postgresql
    // dbname=wallet", "postgresql://app@db.internal/wallet"). The tables go
    // into the first schema of the connection's search_path.
    // Errors: invalid_argument (empty pool_id, longer than 200 bytes or
    // holding a NUL byte, options out of range, gap_limit >= 2^31, a
    // malformed conninfo or one holding a NUL byte — the
    // message does not repeat it —, the mismatches above, a new pool with a
    // key source that has no account key); the errors of
    // key_source.check_pool(base_path, type, network); backend_unavailable
    // (cannot connect, authentication failed, timeout, or the server refused
    // a statement); unsupported_format (the database holds an addrpool schema
    // of another version). Blocking: several round trips.
    static Result<SharedPool> open(const std::string& conninfo, const std::string& pool_id,
                                   DerivationPath base_path, PoolType type, std::uint32_t gap_limit,
                                   Network network, const KeySource& key_source, SharedPoolOptions options = {});

    // Closes the connections (in-flight calls must have returned).
    ~SharedPool();
    SharedPool(SharedPool&&) noexcept;
    SharedPool& operator=(SharedPool&&) noexcept;
    SharedPool(const SharedPool&) = delete;
    SharedPool& operator=(const SharedPool&) = delete;

    // ---- hand-out ---------------------------------------------------------

    // Reserves the lowest free index (neither used nor reserved, and not
    // being claimed by a concurrent transaction) in one statement and returns
    // it with a ticket from the database sequence addrpool_ticket (unique
    // across every host and server restart) and reserved_at. add_to_state =
    // true also makes the index part of the pool's durable state (stats()
    // .generated, addrpool_durable_state); false reserves only.
    //
    // reserved_at: this host's steady_clock reading taken just before the
    // hand-out statement was sent, so at or before the server's own stamp
    // (its clock_timestamp() when the row was claimed): reserved_at + ttl is
    // the earliest moment a sweep with that ttl may free the reservation, a
    // safe deadline for the holder. Sweeps never use it: they compare the
    // server's stamp with the server's clock.
    //
    // When no free index is derived yet, the calling thread derives the
    // next max(lookahead, connections) addresses with key_source, inserts
    // them (4,096 rows per statement, so no statement has to insert a whole
    // batch within statement_timeout), and hands out again; when the hand-out leaves fewer than half the
    // lookahead derived above it, the calling thread tops the lookahead up
    // after its hand-out (one thread per object at a time, with no
    // connection held during the EC math). An index that is already derived is
    // handed out whatever the key source (KeySource::none() included).
    // Errors: gap_limit_reached (GapPolicy::error); no_key_source,
    // hardened_from_public, invalid_child (key_source must derive and
    // cannot); invalid_argument (key_source must derive and holds another
    // account key than the pool's); index_out_of_range (all 2^31 indices
    // taken); backend_unavailable. Blocking: one round trip, plus the
    // derivation and its insert when the lookahead runs low.
    Result<Reservation> reserve(const KeySource& key_source, bool add_to_state = true);

    // As reserve, returning only the address.
    Result<Address> next_unused_and_reserve(const KeySource& key_source, bool add_to_state);

    // Reserved → Unused. True only if it changed something (false for used,
    // unused or unknown indices, and for index >= 2^31 without a round trip);
    // idempotent. Errors: backend_unavailable. Blocking: one round trip.
    Result<bool> release_reservation(std::uint32_t index);

    // As above, but only if the index is still reserved by this very hand-out
    // (ticket match): a late second release, after the index went to someone
    // else, returns false and leaves the new holder alone.
    Result<bool> release_reservation(const Reservation& reservation);

    // Frees every reservation of this pool whose age at the server clock is
    // >= ttl: reserved at or before the server's now() (the start of the
    // sweep's transaction) minus ttl, rounded up to whole microseconds, so no
    // reservation is freed before it is ttl old. ttl <= 0 frees every
    // reservation stamped before the sweep began. Returns how many it freed.
    // Errors: backend_unavailable. Blocking: one statement over the pool's
    // reserved rows (a partial index holds only those).
    Result<std::size_t> sweep_expired_reservations(std::chrono::nanoseconds ttl);

    // ---- sync side --------------------------------------------------------

    // Unused (handed out with add_to_state or marked before), Reserved → Used,
    // committed durably before returning. True only on a change; false for
    // an index that is already used, for one that is neither reserved nor in
    // the durable state (as AddressPool: "known" = generated, reserved or
    // used), and for index >= 2^31 without a round trip. Reserved → Used
    // completes a hand-out: a later release returns false.
    // Errors: backend_unavailable. Blocking: one round trip.
    Result<bool> mark_index_used(std::uint32_t index);

    // As mark_index_used, for the index holding this address (found by
    // hash160; the format is ignored). False, without a round trip, for a
    // P2SH address or one of another network family.
    Result<bool> mark_used(const Address& address);

    // ---- queries ----------------------------------------------------------

    // State of any index (unused for indices never derived, and for
    // index >= 2^31 without a round trip). Errors: backend_unavailable.
    // Blocking: one round trip.
    Result<AddressState> state(std::uint32_t index);

    // max(highest used, highest reserved) + 1 + gap_limit, or gap_limit when
    // neither exists (exclusive; saturates at 2^31), from one snapshot.
    // Errors: backend_unavailable. Blocking: one round trip.
    Result<std::uint32_t> scan_window_end();

    // The counters of AddressPool::stats(), from one snapshot: generated =
    // indices in the durable state (handed out with add_to_state or marked
    // used); addresses derived ahead but never handed out are not counted.
    // Errors: backend_unavailable. Blocking: one statement over the pool's
    // rows (linear in the indices derived).
    Result<PoolStats> stats();

    struct ADDRPOOL_NO_EXPORT Impl;  // lib/pg/shared_pool_impl.hpp; not exported

private:
    explicit SharedPool(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace addrpool::pg

#endif  // ADDRPOOL_PG_HPP
