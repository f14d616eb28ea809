// Internal: SharedPool's state. One per SharedPool object (one per process
// or host using the pool); the pool itself lives in the database.
#ifndef ADDRPOOL_LIB_PG_SHARED_POOL_IMPL_HPP
#define ADDRPOOL_LIB_PG_SHARED_POOL_IMPL_HPP

#include <addrpool/pg.hpp>

#include "common/thread_annotations.hpp"
#include "pg/conn_pool.hpp"
#include "pg/schema.hpp"

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace addrpool::pg {

inline constexpr std::int64_t kMaxIndex = std::int64_t{1} << 31;  // exclusive

// hash160 as 40 lowercase hex digits, and back (false unless exactly that);
// from_bytea_text reads bytea's text form ("\\x" + 40 hex digits).
std::string to_hex(const Hash160& h);
bool from_hex(std::string_view text, Hash160& out);
bool from_bytea_text(std::string_view text, Hash160& out);

// The identity of an account key the pool registers: fingerprint and the
// hash160 of the chain code (not the key itself: the table never holds
// anything that would reveal the account's addresses).
struct KeyIdentity {
    std::uint32_t fingerprint = 0;
    Hash160 chain_code_hash{};
    friend bool operator==(const KeyIdentity&, const KeyIdentity&) = default;
};

struct SharedPool::Impl {
    Impl(detail::ConnSettings s, const SharedPoolOptions& o)
        : settings(std::move(s)), conns(settings, detail::statements(), o.connections) {}

    // ---- fixed after open() ----
    detail::ConnSettings settings;
    detail::ConnPool conns;  // refers to settings: declared after it
    std::string pool_key;    // addrpool_pool.pool, as the text parameter $1
    DerivationPath base_path;
    PoolType type = PoolType::external;
    std::uint32_t gap_limit = 0;
    std::string gap_text;
    Network network = Network::mainnet;
    GapPolicy policy = GapPolicy::unbounded;
    std::uint32_t lookahead = 1;  // kept derived above each hand-out
    std::uint32_t batch = 1;      // derived at once when none is free: max(lookahead, connections)
    KeyIdentity identity;         // the registered account key

    // ---- derivation ahead of the frontier ----
    // One derivation (EC math + insert) at a time per object: a second
    // thread that needs rows waits and then usually finds them there.
    addrpool::detail::Mutex derive_m;
    // The highest index this object inserted (committed). A batch starts
    // right above the table's highest index as the caller's statement saw
    // it, or above known_top when another thread of this object inserted
    // since (so two threads queued here do not derive the same rows). Either
    // way the derived rows stay one contiguous range: a hand-out only ever
    // derives above the highest row, and a row missing below it would never
    // be handed out.
    std::int64_t known_top GUARDED_BY(derive_m) = -1;
    // Bumped after every insert of derived rows (under derive_m). A caller
    // reads it before its hand-out statement: unchanged at derive time means
    // no insert of this object happened since, so the statement's view of
    // the table's highest index is the truth (also if rows were deleted by
    // hand below known_top).
    std::atomic<std::uint64_t> derive_epoch{0};
    // Set while a thread refills after its hand-out, so that others return
    // at once instead of queueing on derive_m behind it.
    std::atomic_flag refilling = ATOMIC_FLAG_INIT;
    // An index known to exist in the table (the library never deletes
    // rows): the highest this object inserted or saw. Only decides whether
    // a hand-out checks the frontier; a stale or too high value costs a
    // derivation later, never a wrong hand-out.
    std::atomic<std::int64_t> frontier_hint{-1};
    void note_top(std::int64_t top) noexcept {
        // relaxed: a monotonic hint (see frontier_hint), no data hangs on it.
        std::int64_t seen = frontier_hint.load(std::memory_order_relaxed);
        while (seen < top && !frontier_hint.compare_exchange_weak(seen, top, std::memory_order_relaxed)) {
        }
    }

    // Registers the pool (or checks it against the registered one) and sets
    // pool_key and identity. Errors: invalid_argument, backend_unavailable.
    Result<void> register_pool(detail::Conn& conn, const std::string& pool_id, const KeySource& key_source);

    // Derives [base + 1, target] with key_source and inserts it (ON CONFLICT
    // DO NOTHING: another host may have done the same); base is db_top (the
    // highest index the caller's statement saw), or max(db_top, known_top)
    // when derive_epoch moved past `epoch` (the value the caller read before
    // that statement). Nothing to do when the range is empty. Derives and
    // inserts in chunks of kInsertChunk (4,096) rows, in index order; each chunk
    // that lands is recorded (known_top, frontier_hint, derive_epoch) at
    // once. Errors: invalid_argument (another account key than the pool's,
    // or bytes that differ from the table's: also after earlier chunks
    // landed); the derivation errors of KeySource::derive_hash160 and
    // backend_unavailable only when no row landed (after some did, success:
    // the caller hands out from them, and the next call meets the error).
    // Throws only std::bad_alloc.
    Result<void> derive_through(const KeySource& key_source, std::int64_t db_top, std::int64_t target,
                                std::uint64_t epoch) EXCLUDES(derive_m);

    // After a hand-out of `index`: keeps `lookahead` rows derived above it,
    // refilling once fewer than half remain (by frontier_hint, then by the
    // table). One thread at a time; best effort: a failure (std::bad_alloc
    // included) shows at the next hand-out that needs the rows, never in the
    // hand-out that called this, whose reservation is committed already.
    void refill_after(const KeySource& key_source, std::uint32_t index) noexcept EXCLUDES(derive_m);
    // derive_epoch, read before a statement that reads the table's top.
    std::uint64_t epoch_now() const noexcept {
        // acquire: pairs with the release increment in derive_through, so a
        // value read here was bumped after that insert committed.
        return derive_epoch.load(std::memory_order_acquire);
    }

    // One prepared statement on a leased connection.
    Result<detail::Rows> run(detail::Stmt s, std::span<const char* const> params);
    Result<detail::Rows> run(detail::Stmt s, std::initializer_list<const char*> params) {
        return run(s, std::span<const char* const>(params.begin(), params.size()));
    }
    // run() for an UPDATE of at most one row: whether it changed one.
    Result<bool> changed(detail::Stmt s, std::initializer_list<const char*> params);
    // A reply that does not have the shape the statement gives.
    Error malformed(std::string_view what) const;

    Address address_from(const Hash160& h) const { return Address(network, AddressKind::p2pkh, h); }
};

}  // namespace addrpool::pg

#endif  // ADDRPOOL_LIB_PG_SHARED_POOL_IMPL_HPP
