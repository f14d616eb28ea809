// addrpool — the lock-free address pool.
//
// One AddressPool holds the addresses of one chain of one account (e.g. the
// external receive chain m/44'/1'/0'/0). Each index is in exactly one state:
//
//     Unused ──reserve──▶ Reserved ──mark used──▶ Used
//        ▲                   │
//        └──release / sweep──┘              (reset_usage: anything ▶ Unused)
//
// Independently of that state an index may be *generated* (materialized): it
// then appears in lookups (index_of, mark_used by address, all_addresses…),
// in stats().generated and in the durable state (serialize/save). Used is
// durable; Reserved is ephemeral: it is never serialized and is gone after a
// restart.
//
// Conventions for every member function below:
// - Thread safety: every function may be called concurrently with any other
//   on the same pool, from any number of threads, without an external lock,
//   except the constructor, destructor, move operations and deserialize/load.
// - Progress: "lock-free" means no mutex and no waiting on another thread;
//   "blocking" means it may take an internal mutex (never held across EC math
//   performed on behalf of another thread, never taken by the hot path).
// - Consistency: single-index operations (reserve, release, mark used,
//   state) are linearizable. Whole-pool reads (stats, the address lists,
//   scan_window_end, serialize) are consistent snapshots only while no writer
//   runs concurrently (quiescent consistency); under concurrency each slot is
//   read atomically, but different slots at slightly different moments.
// - Results: fallible calls return Result<T>; a failed call changes nothing
//   (in particular a failed hand-out holds no reservation).
#ifndef ADDRPOOL_POOL_HPP
#define ADDRPOOL_POOL_HPP

#include <addrpool/export.hpp>
#include <addrpool/address.hpp>
#include <addrpool/key_source.hpp>
#include <addrpool/keys.hpp>
#include <addrpool/network.hpp>
#include <addrpool/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace addrpool {

enum class AddressState : std::uint8_t { unused = 0, reserved = 1, used = 2 };

// unbounded: hand out any index. error: a hand-out that would pick an index
// >= (highest_used + 1) + gap_limit (>= gap_limit when nothing is used) fails
// with Errc::gap_limit_reached, so a wallet restored from the seed with this
// gap limit still finds every address it handed out.
enum class GapPolicy : std::uint8_t { unbounded = 0, error = 1 };

// The most addresses a pool keeps derived ahead of its hand-out frontier:
// PoolOptions::lookahead, or the gap limit it defaults to, is clamped to it.
// The C ABI's ADDRPOOL_MAX_LOOKAHEAD has the same value.
inline constexpr std::uint32_t max_lookahead = 1u << 16;

struct PoolOptions {
    // The pool's clock (reservation times, TTL sweeps). Called on the
    // hand-out path: it must be thread-safe and cheap, and monotonic (never
    // earlier than a reading another thread already got). A clock that goes
    // back breaks the sweep's promise: a fresh reservation stamped after the
    // jump can look old to a sweep that read the clock before it, and be
    // freed while held.
    // Empty = the system's monotonic clock (steady_clock's): sweeps read it
    // exactly; hand-outs stamp with its coarse variant (CLOCK_MONOTONIC_COARSE,
    // a few ns instead of tens) plus that clock's resolution (typically
    // 1-4 ms), so a stamp is never earlier than the hand-out and a
    // reservation may be freed up to that resolution late.
    std::function<std::chrono::steady_clock::time_point()> clock;
    // Addresses kept derived ahead of the hand-out frontier; 0 = gap_limit.
    // Clamped to max_lookahead. A hand-out derives at most 32 of them (the
    // refill batch; see reserve()), before it reads the clock; the lookahead fills up over
    // several hand-outs.
    std::uint32_t lookahead = 0;
    GapPolicy gap_policy = GapPolicy::unbounded;
    AddressFormat format = AddressFormat::base58check;
    // Threads generate_addresses and maintain_gap_limit derive large counts
    // on (more than 256 addresses); 0 = std::thread::hardware_concurrency().
    unsigned derive_threads = 0;
};

// A live hand-out. `ticket` identifies this very hand-out: it changes every
// time the index is reserved again (for 2^21 re-reservations of one index),
// it carries a tag drawn from the index and a random nonce of the pool
// object, so a ticket of another index, of another pool, or of this pool
// before a restart (load/deserialize) never releases anything (up to a 2^-43
// chance). release_reservation(const Reservation&) checks it. `reserved_at`
// is the pool clock's time of the hand-out, as stamped (the time a sweep
// measures the reservation's age from; whole milliseconds).
struct Reservation {
    std::uint32_t index;
    Address address;
    std::uint64_t ticket;
    std::chrono::steady_clock::time_point reserved_at{};
};

// One match of AddressPool::mark_scripts_used.
struct ScriptMatch {
    std::size_t position;  // index into the scripts passed in
    std::uint32_t index;   // the pool index the script pays
    bool newly_used;       // false if the index was used already
};

struct PoolStats {
    std::uint32_t generated = 0;  // materialized entries
    std::uint32_t used = 0;
    std::uint32_t reserved = 0;   // all reservations, materialized or not
    std::uint32_t unused = 0;     // generated - used - reserved(generated)
    std::optional<std::uint32_t> highest_used;
    std::optional<std::uint32_t> highest_reserved;  // highest index reserved right now
    std::optional<std::uint32_t> highest_generated;
    std::uint32_t gap_limit = 0;
};

namespace detail {
struct PoolAccess;  // lib/wallet: a WalletSet reaches its pools' internals through it
}  // namespace detail

class ADDRPOOL_EXPORT AddressPool {
public:
    // base_path: the full path of the addresses' parent (e.g. m/44'/1'/0'/0),
    // used only to report each address's path (path_of). Derivation is
    // relative to the account key of the KeySource passed to each call.
    // Does not derive anything and cannot fail.
    AddressPool(DerivationPath base_path, PoolType type, std::uint32_t gap_limit, Network network,
                PoolOptions options = {});
    ~AddressPool();
    AddressPool(AddressPool&&) noexcept;
    AddressPool& operator=(AddressPool&&) noexcept;
    AddressPool(const AddressPool&) = delete;
    AddressPool& operator=(const AddressPool&) = delete;

    // ---- hand-out ---------------------------------------------------------

    // Reserves the lowest index that is neither used nor reserved and returns
    // its address. The reservation carries the pool clock's time and a fresh
    // ticket. add_to_state = true also materializes the address (lookups,
    // stats().generated, durable state); false reserves without materializing.
    // Errors: gap_limit_reached (GapPolicy::error), no_key_source (the index
    // is not derived yet and key_source cannot derive), hardened_from_public,
    // invalid_child, index_out_of_range (all 2^31 indices taken), and
    // invalid_argument if the pool must derive and key_source holds another
    // account key (public key or chain code) than the one it derived with
    // before. An index that is already derived is handed out whatever the
    // key source (KeySource::none() included): it needs no key.
    // Lock-free when the chosen index is already derived and this call does
    // not run the refill (below): one clock read, a
    // descent of the free-index bitmap (O(log N) word reads whatever the
    // order of earlier releases) and a read of the index the last release
    // may have parked, one token RMW (the frontier, a free bit or the parked
    // index) and the claim CAS; no mutex, no allocation, no EC math. Otherwise the
    // calling thread derives the index itself (blocking briefly on the
    // account-binding mutex and one shard mutex of the lookup index), or, if
    // another thread is deriving that very index, waits for it while deriving
    // indices further ahead.
    // Refill: when fewer than lookahead / 2 derived indices are left above
    // the frontier, the one hand-out that wins the pool's refill flag (the
    // others skip it and stay lock-free) first derives at most 32 indices
    // ahead, before it reads the clock. That call is blocking like a
    // derivation (EC math, a lookup shard mutex, perhaps a block allocation),
    // bounded by the 32. A service that keeps deriving ahead itself
    // (generate_addresses, maintain_gap_limit) more than lookahead / 2 beyond
    // the frontier keeps every hand-out off this path.
    // Throws only std::bad_alloc or what PoolOptions::clock throws, and never
    // leaves anything reserved when it throws (a claim already made is undone).
    Result<Address> next_unused_and_reserve(const KeySource& key_source, bool add_to_state);

    // As next_unused_and_reserve, also returning the index and ticket.
    Result<Reservation> reserve(const KeySource& key_source, bool add_to_state);

    // Reserved → Unused. True only if it changed something (false for used,
    // unused or unknown indices); idempotent. Lock-free: the state CAS, then
    // the index is parked for the next hand-out (one CAS) or, if another is
    // parked, its free bits are set (O(log N) RMWs). Once it returns, every
    // hand-out that starts can find the index.
    bool release_reservation(std::uint32_t index);

    // As above, but only if the index is still reserved by *this* hand-out
    // (ticket match): a late second release, after the index went to someone
    // else, returns false and leaves the new holder alone. Lock-free.
    bool release_reservation(const Reservation& reservation);

    // Frees every reservation whose age at the pool clock is >= ttl (the
    // clock is read once, when the sweep starts). Times are kept in whole
    // milliseconds, rounded so that a reservation is never freed before it is
    // ttl old (exact for clocks that move in whole milliseconds; up to 2 ms
    // late otherwise). ttl <= 0 frees every reservation taken before the
    // sweep read the clock, to the millisecond. A reservation taken or
    // re-taken while the sweep runs — after the sweep announced its clock
    // reading, which it does before scanning — is never freed by it (for
    // ttl >= 1 ms): a hand-out that sees the announcement re-stamps its
    // reservation before returning it, and the sweep frees only the exact
    // (state, ticket, time) word it examined.
    // Each index is findable by hand-outs as soon as the sweep freed it.
    // Returns how many it freed. Cost: the allocated range between the lowest
    // non-used index and the highest derived one, not every index ever
    // generated. Lock-free.
    std::size_t sweep_expired_reservations(std::chrono::nanoseconds ttl);

    // Restores a hand-out made before a restart (e.g. from a payment
    // server's table of open invoices): reserves exactly `index` (deriving it
    // if needed, materialized) as if it had been handed out `age` ago — a
    // sweep with ttl <= age frees it, also right after the pool was made
    // (ages up to 8.7 years are kept exactly; an older one counts as that) —
    // with a fresh ticket. It counts in the
    // gap window like any reservation. Errors: index_unavailable (the index
    // is used or already reserved), index_out_of_range, no_key_source,
    // hardened_from_public, invalid_child, invalid_argument (another
    // account's key). Lock-free when the index is derived; blocking like a
    // derivation otherwise.
    Result<Reservation> restore_reservation(std::uint32_t index, std::chrono::nanoseconds age,
                                            const KeySource& key_source);

    // ---- sync side --------------------------------------------------------

    // Any state → Used (materializing the entry); Reserved → Used completes a
    // hand-out, and a later release returns false. True only on a change;
    // false for an address / index / script the pool does not know (known =
    // generated, reserved or used). mark_index_used is lock-free; the two
    // lookups take a shard mutex of the lookup index (blocking, short).
    bool mark_used(const Address& address);
    bool mark_index_used(std::uint32_t index);
    bool mark_script_used(std::span<const std::uint8_t> script_pubkey);

    // For a cold start from a wallet database: derives and materializes the
    // index if needed and marks it used. True if it became used by this
    // call, false if it already was. Errors: index_out_of_range,
    // no_key_source, hardened_from_public, invalid_child, invalid_argument
    // (another account's key); nothing changes on error. Blocking like a
    // derivation when the index is not derived yet; lock-free otherwise.
    Result<bool> mark_index_used(std::uint32_t index, const KeySource& key_source);

    // One block's outputs: every script (any order, any mix of ours and not
    // ours) that is the P2PKH script of an index of this pool inside the
    // scan window is marked used and reported with its position in
    // `scripts`, in increasing position order (a script that appears twice
    // is reported twice; the later one has newly_used false). Before the
    // matching, and again after each newly used index, the scan window is
    // derived and materialized forward (maintain_gap_limit), so a script of
    // the batch that falls in the widened window is found too, wherever it
    // is in the batch. Scripts that are not ours cost one hash lookup each.
    // Errors: the derivation errors of maintain_gap_limit; nothing is
    // marked when the first derivation fails (marks made before a later
    // failure stay: each is a fact about the chain). Blocking (lookup shard
    // mutexes; derivation).
    Result<std::vector<ScriptMatch>> mark_scripts_used(std::span<const std::vector<std::uint8_t>> scripts,
                                                       const KeySource& key_source);

    // ---- queries ----------------------------------------------------------

    // State of any index (unused for indices the pool never saw). Lock-free.
    AddressState state(std::uint32_t index) const;
    // The address at a generated index; nullopt otherwise. Lock-free.
    std::optional<Address> address_at(std::uint32_t index) const;
    // The generated index holding this address / script (format ignored:
    // a pool's P2PKH and platform renderings of one key are the same entry).
    // Blocking (shard mutex).
    std::optional<std::uint32_t> index_of(const Address& address) const;
    std::optional<std::uint32_t> index_of_script(std::span<const std::uint8_t> script_pubkey) const;
    // Full derivation path of an index: base_path/index (hardened for absent_hardened).
    DerivationPath path_of(std::uint32_t index) const;

    // max(highest_used, highest_reserved) + 1 + gap_limit, or gap_limit when
    // neither exists (exclusive; saturates at 2^31). Lock-free.
    std::uint32_t scan_window_end() const;
    PoolStats stats() const;  // O(indices touched); lock-free

    Network network() const noexcept;
    PoolType type() const noexcept;
    std::uint32_t gap_limit() const noexcept;
    const DerivationPath& base_path() const noexcept;
    AddressFormat format() const noexcept;

    // ---- parity with the Rust key-wallet AddressPool -----------------------

    // The lowest index neither used nor reserved; reserves nothing.
    // add_to_state materializes it. Errors as next_unused_and_reserve.
    Result<Address> next_unused(const KeySource& key_source, bool add_to_state);
    // The `count` lowest indices neither used nor reserved, in order;
    // reserves nothing. Errors as next_unused; invalid_argument for count > 2^20.
    Result<std::vector<Address>> next_unused_multiple(std::size_t count, const KeySource& key_source,
                                                      bool add_to_state);
    // Derives the `count` indices after the highest generated one (from 0 on
    // an empty pool); add_to_state materializes them. invalid_argument for
    // count > 2^20.
    Result<std::vector<Address>> generate_addresses(std::uint32_t count, const KeySource& key_source,
                                                    bool add_to_state);
    // Materializes every index below scan_window_end(); returns the ones it
    // added, in index order.
    Result<std::vector<Address>> maintain_gap_limit(const KeySource& key_source);

    std::vector<Address> all_addresses() const;     // generated, by index
    std::vector<Address> used_addresses() const;    // generated and used
    std::vector<Address> unused_addresses() const;  // generated, neither used nor reserved

    // Labels of generated addresses (durable). set_label returns false for an
    // address the pool has not generated. Blocking (label mutex).
    bool set_label(const Address& address, std::string label);
    std::optional<std::string> label(const Address& address) const;

    // Un-materializes generated entries that are unused and at or above
    // scan_window_end() (the unused tail beyond the gap window); never drops
    // an index inside the window, nor a used or reserved entry. Returns how
    // many it dropped. Lock-free. Run it when no thread hands out with
    // next_unused(…, true): an address shown by next_unused and then pruned
    // is no longer known to mark_used.
    std::uint32_t prune_unused();

    // For a rescan: every used and reserved index back to unused (entries
    // stay generated; outstanding tickets become stale). Lock-free; meant to
    // run while no other thread hands out or marks used.
    void reset_usage();

    // ---- persistence ------------------------------------------------------

    // The durable state (network, base path, type, gap limit, format, every
    // generated entry with its hash160, used flag and label, highest used) in
    // a versioned, checksummed binary format. Never includes reservations,
    // tickets or times. The same durable state always gives the same bytes.
    // May run concurrently with every other operation; the snapshot holds
    // every used mark that completed before it began. Throws
    // std::length_error for a base path of more than 255 components (the
    // format's limit and BIP32's: no key derives such a pool's addresses),
    // otherwise only std::bad_alloc.
    std::string serialize() const;
    // Errors: truncated, bad_magic, unsupported_format, corrupt_data,
    // inconsistent_data. Every loaded index that was not used is unused.
    static Result<AddressPool> deserialize(std::string_view bytes, PoolOptions options = {});
    // Crash-safe: writes a temporary file in the same directory, fsyncs it,
    // renames it over `path` and fsyncs the directory. The file is created
    // with mode 0600 (labels and addresses are the owner's business; umask
    // may only narrow it) whatever the mode of the file it replaces, and a
    // symbolic link at `path` is replaced by the file, not followed. Errors:
    // invalid_argument (a base path of more than 255 components, see
    // serialize; nothing is written), io_error; on
    // error `path` still holds the previous save, whole — except after the
    // two "saved, but ... directory" errors, when it holds this save (whose
    // directory entry may not be durable yet). The temporary file is
    // `<path>.tmp-<pid>-<16 hex>`, flock-ed by its writer until the rename;
    // a process killed mid-save leaves it behind, and the next successful
    // save of `path` removes each such file (exactly that name form, a
    // regular file of this user) whose pid names no other live process here
    // and whose flock is free — every live writer on this kernel holds its
    // own, in this process or another pid namespace. Nothing else is
    // touched. Where flock does not work nothing is removed; where it is
    // local to one host and the directory is shared across hosts, a remote
    // writer's file may be removed (it then fails with io_error; no file is
    // damaged). The error message names the failing step (create, write,
    // fsync, rename, directory fsync); EINTR and short writes are retried.
    // Thread-safe: concurrent saves of this pool to one file (one directory
    // and name, however the path spells them) are renamed in the order they
    // began; a save whose snapshot is older than one already renamed there
    // removes its temporary file and succeeds. So when save returns success,
    // the file holds this save's snapshot or a newer one of this pool: every
    // used mark that completed before the call began. Saves of different
    // pools or processes to one file are not ordered (the last rename wins).
    // Blocking.
    Result<void> save(const std::filesystem::path& path) const;
    // Reads `path` whole and deserializes it. Errors: io_error (cannot open or
    // read it, or not a regular file) and those of deserialize. Blocking.
    static Result<AddressPool> load(const std::filesystem::path& path, PoolOptions options = {});

    struct ADDRPOOL_NO_EXPORT Impl;  // lib/pool/pool_impl.hpp; not exported

private:
    friend struct detail::PoolAccess;
    explicit AddressPool(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace addrpool

#endif  // ADDRPOOL_POOL_HPP
