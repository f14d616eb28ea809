// addrpool — accounts and wallets: every pool of a service in one set.
//
// An Account is a BIP44-style account: a receive (external) and a change
// (internal) AddressPool over one KeySource. A WalletSet holds any number of
// accounts, each registered under (wallet, account number), and gives a
// wallet service three things a pool alone cannot:
//   - one script index for the whole set (hash160 → wallet, account, chain,
//     index), so matching a block costs one lookup per script whatever the
//     number of accounts (mark_scripts_used), and the set keeps every index
//     below each pool's scan_window_end() derived and indexed;
//   - lock-free reads: find() and the hand-outs of an account never wait for
//     add/remove (the registry is read through copy-on-write snapshots
//     reclaimed by epochs; lib/wallet/ebr.hpp and registry.hpp carry the
//     argument);
//   - incremental, crash-safe saves of the whole set to one directory.
//
// Conventions (as in pool.hpp): every member function may be called from any
// number of threads at once unless its entry says otherwise; "lock-free"
// means no mutex and no waiting for another thread; "blocking" means it may
// take a short internal mutex or do I/O; a fallible call returns Result<T>.
//
// The script index. An account's pools are attached to the set's index when
// the account is first added (attach: every hash the pools derived before is
// copied in; from then on each derived hash goes there, and the pools' own
// per-pool lookup index is never made). A pool of a set keeps answering its
// own lookups (index_of, mark_used by address or script) through the set's
// index, also after the account was removed. An account joins at most one
// WalletSet in its life (it may be removed and added again to that set).
//
// The watched windows. Before a mark_scripts_used matches anything, every
// index below each pool's scan_window_end() is derived (and so indexed) —
// for every pool whose window may have moved since the set last looked:
// accounts added since, accounts that handed out through
// next_receive_address / next_change_address past the watched range, pools
// that derived an index past it (a pool's lookahead refill: hand-outs made
// directly on external() / internal() are seen this way), and every account a
// mark_scripts_used marked. Used marks made directly on a pool
// (AddressPool::mark_used, mark_index_used) are not seen until then: sync
// through the set. Indices are derived, not materialized: the window's
// addresses appear in lookups, not in the pools' generated state or files.
// A pool whose key source cannot derive (KeySource::none(), a watch-only
// restore) is watched over what it has derived.
#ifndef ADDRPOOL_WALLET_HPP
#define ADDRPOOL_WALLET_HPP

#include <addrpool/export.hpp>
#include <addrpool/key_source.hpp>
#include <addrpool/keys.hpp>
#include <addrpool/network.hpp>
#include <addrpool/pool.hpp>
#include <addrpool/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace addrpool {

namespace detail {
struct Binding;        // lib/wallet/binding.hpp: an account's membership of a set
struct WalletAccess;   // lib/wallet: the one friend that reaches both classes' internals
struct WalletSetImpl;  // lib/wallet/set_impl.hpp
}  // namespace detail

class ADDRPOOL_EXPORT Account {
public:
    // A BIP44-style account: an external pool (account key / 0 / i) and an
    // internal pool (account key / 1 / i). account_path is the account's full
    // path (e.g. m/44'/1'/0'); the pools' base paths are account_path/0 and
    // account_path/1. gap_limit applies to both; `options` to both pools.
    // Derives nothing. Errors: invalid_argument when the path contradicts the
    // key (depth, child number, the account path a seed/mnemonic source
    // remembers, network family: KeySource::check_pool), when the addresses
    // would be deeper than 255, or when gap_limit is 0. KeySource::none() is
    // accepted (an account that hands out only what it derived already).
    // Throws only std::bad_alloc. Reentrant; blocking (allocation).
    static Result<std::shared_ptr<Account>> bip44(KeySource keys, DerivationPath account_path, Network network,
                                                  std::uint32_t gap_limit = 20, PoolOptions options = {});

    // The account's key material. Lock-free.
    const KeySource& keys() const noexcept;
    // The two pools: every AddressPool operation is available on them, with
    // keys() as the key source. Lock-free.
    AddressPool& external() noexcept;
    AddressPool& internal() noexcept;

    // external().reserve(keys(), true) and internal().reserve(keys(), true):
    // the errors, thread safety and progress of AddressPool::reserve. In a
    // set, a hand-out whose scan window passes what the set watches queues
    // the account for the next sync's window watch (one CAS and one lock-free
    // push, the first time only).
    Result<Reservation> next_receive_address();
    Result<Reservation> next_change_address();

    // Threads still holding a shared_ptr keep the account alive; the last
    // one to drop it destroys it. In a set, its entries leave the set's
    // script index then (blocking: one index shard mutex per entry).
    ~Account();
    Account(const Account&) = delete;
    Account& operator=(const Account&) = delete;

private:
    struct Token {
        explicit Token() = default;
    };

public:
    // Internal (bip44 and WalletSet::load); Token keeps it so.
    Account(Token, KeySource keys, AddressPool external, AddressPool internal);

private:
    friend struct detail::WalletAccess;
    Result<Reservation> hand_out(AddressPool& pool, unsigned chain);

    KeySource keys_;
    AddressPool external_;
    AddressPool internal_;
    detail::Binding* binding_;  // owned; outlives the account by one grace period (ebr.hpp)
};

// One match of WalletSet::mark_scripts_used.
struct WalletMatch {
    std::size_t position;  // index into the scripts passed in
    std::string wallet;
    std::uint32_t account;
    PoolType chain;  // external or internal
    std::uint32_t index;
    bool newly_used;  // false if the index was used already
};

class ADDRPOOL_EXPORT WalletSet {
public:
    // An empty set. Throws only std::bad_alloc.
    WalletSet();
    // Destroying a set drops its references to the accounts; accounts held
    // elsewhere stay usable on their own (their pools keep answering lookups).
    // No other call on this set may be running or start afterwards.
    ~WalletSet();
    WalletSet(WalletSet&&) noexcept;
    WalletSet& operator=(WalletSet&&) noexcept;
    WalletSet(const WalletSet&) = delete;
    WalletSet& operator=(const WalletSet&) = delete;

    // Registers account_ptr under (wallet, account). false if (wallet,
    // account) is already present, if account_ptr is null, already
    // registered in this set (under any key), or belongs to another
    // WalletSet (an account joins one set in its life; it may be removed
    // and added again). The first add attaches the account's pools to the
    // set's script index (copying in what they derived before); it derives
    // nothing: the account's windows are derived before the next
    // mark_scripts_used. Safe while other threads use the set: blocking
    // (registry writers take one mutex), never blocks readers (find,
    // hand-outs). Throws only std::bad_alloc: the account is then not
    // registered, though its first add may have bound it to this set
    // (another set's add returns false for it); an add that tries again
    // completes the registration.
    bool add(std::string wallet, std::uint32_t account, std::shared_ptr<Account> account_ptr);
    // Unregisters (wallet, account). false if absent. Threads still holding
    // the Account keep it alive (shared_ptr) and may go on handing out from
    // it; the set no longer matches its scripts. Blocking like add; never
    // blocks readers.
    bool remove(std::string_view wallet, std::uint32_t account);
    // The account registered under (wallet, account), or null. Lock-free:
    // never waits for add/remove or for another reader (an epoch
    // announcement on a per-thread record, a snapshot probe and a shared_ptr
    // copy). A thread's first call on any set allocates its record (once;
    // std::bad_alloc is the only exception).
    std::shared_ptr<Account> find(std::string_view wallet, std::uint32_t account) const;
    // How many accounts are registered. Lock-free.
    std::size_t size() const;

    // One call per block: every script that pays any address of any account
    // in the set (a P2PKH script of an index inside its pool's scan window)
    // is marked used (Any → Used, as AddressPool::mark_scripts_used) and
    // reported, in increasing position order (a script that appears twice is
    // reported twice, the later with newly_used false; a script paying two
    // accounts that share an address is reported for each). Windows widen
    // as in AddressPool::mark_scripts_used, across the whole batch and every
    // account: each newly used index moves its pool's window, whose new
    // indices are derived and matched against every script of the batch,
    // wherever it is (each script reported once per pool). One lookup per script in the set's
    // index, whatever the number of accounts. Errors: a derivation error of
    // an account whose key source can derive (invalid_argument: a loaded
    // account given another account's key; invalid_child), naming the
    // wallet and account: nothing is marked when it happens before the
    // matching, marks made before a later one stay. Thread-safe (also
    // against hand-outs and other syncs); blocking (derivation, index shard
    // mutexes when deriving).
    Result<std::vector<WalletMatch>> mark_scripts_used(std::span<const std::vector<std::uint8_t>> scripts);

    // sweep_expired_reservations(ttl) on every pool of every registered
    // account; returns how many it freed. Lock-free (as the pools' sweeps).
    std::size_t sweep_expired_reservations(std::chrono::nanoseconds ttl);

    // Crash-safe store in a directory (created if missing). Returns how many
    // pool files it wrote: only pools changed since the previous save of this
    // set to this directory (used marks, generated addresses, labels:
    // detected by a 64-bit digest of each pool's durable state), every pool
    // on the first save to a directory; then a manifest (the registrations
    // and their files) is renamed into place last, so a crash at any point
    // leaves either the old or the new set, whole. Pool files are written
    // under new names (never over a file the current manifest names) and
    // fsynced before the manifest; files no longer named are removed after.
    // Nothing is written when nothing changed (returns 0). Reservations and
    // keys are never stored. A directory the save creates is made durable
    // with it. Errors: io_error (the message names the file and step; the
    // directory still holds the previous save, whole — except when only the
    // last step, the directory's fsync after the manifest's rename, failed:
    // the message then starts "manifest: saved, but", the directory holds
    // the new save, and a crash before the next successful save may bring
    // the previous one back; either is whole); inconsistent_data
    // (the directory's manifest counts 2^62 saves or files: nothing written).
    // Concurrent saves of one set are serialized; saves of different sets
    // (or processes) to one directory are not supported. Every used mark
    // that completed before the call began is in the saved set. Blocking.
    Result<std::size_t> save(const std::filesystem::path& dir);

    // The set saved in `dir`. Keys are not stored: `keys` gives each
    // account's KeySource back (KeySource::none() for a watch-only restore
    // of what was generated); it is called once per account, on this thread.
    // `options` applies to every pool (the files' address formats win).
    // Every loaded index that was not used is unused. Errors: io_error
    // (missing manifest or pool file), the pool file errors of
    // AddressPool::load, bad_magic, unsupported_format, truncated,
    // corrupt_data (manifest checksum), inconsistent_data (a manifest or a
    // pair of pool files that contradict themselves), invalid_argument (a key
    // source that does not fit its account: KeySource::check_pool; the
    // message names wallet and account). Reentrant; blocking.
    static Result<WalletSet> load(const std::filesystem::path& dir,
                                  std::function<KeySource(std::string_view wallet, std::uint32_t account)> keys,
                                  PoolOptions options = {});

private:
    friend struct detail::WalletAccess;
    std::unique_ptr<detail::WalletSetImpl> impl_;
};

}  // namespace addrpool

#endif  // ADDRPOOL_WALLET_HPP
