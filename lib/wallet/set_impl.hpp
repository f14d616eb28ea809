// Internal: what a WalletSet is made of, and how an Account belongs to one.
//
//   WalletSetImpl   the registry (registry.hpp), the writer and save
//                   mutexes, the save bookkeeping, and a shared Core
//   Core            the script index (script_index.hpp) and the dirty stack;
//                   shared by the set and by every account that ever joined
//                   it (their pools write into the index for as long as they
//                   live, even after the set is gone)
//   Binding         one per Account (made with it): which Core it joined,
//                   its current registration, the window it has derived and
//                   indexed per chain and its dirty-stack state. It outlives the account by one grace period
//                   (ebr.hpp), because index entries and the dirty stack
//                   point to it.
//   PoolSink        the IndexSink (lib/pool/index_sink.hpp) attached to each
//                   of an account's two pools: the pool's derived hashes go
//                   into the Core's index under (binding, chain).
//
// Protocols (numbered atomic operations and their partners):
//   (B1) add() claims a binding for its Core with a CAS null → core
//        (acq_rel); the winner then stores the owning core_owner, under the
//        set's writer mutex. Readers of `core` (acquire) use the raw Core*:
//        the claiming set keeps the Core alive until core_owner holds it.
//   (N1) add() publishes the binding's registration (node) with a seq_cst
//        store after the registry insert; remove() clears it (seq_cst) after
//        the registry erase and before retiring the node. Readers (the sync)
//        load it seq_cst inside an ebr::Guard (a root load of ebr.hpp).
//   (W1) watched_end[c]: every index of chain c below it is derived (and so
//        indexed). Raised (release, monotone) by the sync after deriving;
//        loaded acquire by a sync deciding what to derive, relaxed by a
//        hand-out or sink deciding whether to queue the account (a stale,
//        lower value only queues it once too often).
//   The dirty stack (Treiber stack of bindings; `queued` says who owns the
//   link):
//   (D1) push: CAS queued kIdle → kQueued (acq_rel; only the winner pushes),
//        then link next_dirty and CAS the head (release: publishes the link;
//        successive pushes form a release sequence).
//   (D2) take: exchange the head with null (acquire: pairs with (D1), so the
//        links of the whole stack are visible); for each binding, read
//        next_dirty first, then CAS queued kQueued → kIdle (acq_rel) — from
//        then on it may be pushed again; a failed CAS finds kDying: the
//        taker retires it.
//   (D3) ~Account: exchange queued with kDying (acq_rel): kIdle → the
//        account retires its binding itself; kQueued → the stack owns it: a
//        later take retires it, or ~Core (which runs only when no binding
//        references the Core any more) deletes it.
//   (D4)/(D5) the watch's store-buffer pair. A hand-out writes its claim
//        (the pool's slot CAS, after the publication that raised the pool's
//        touched_end), and add() writes node (N1); each then reads `queued`
//        (a hand-out also `core`) to decide whether to queue the binding. A
//        sync settles `queued` (D2), then reads node and the pools' windows.
//        Acquire/release alone would let both sides read the old values (the
//        binding left idle, its window short of the new hand-out, a payment
//        to that window missed by every later sync). So each side has a
//        seq_cst fence between its write and its read: (D4) in hand_out
//        (after the claim, before `core` and `queued`) and in add() (after
//        (N1), before mark_dirty); (D5) in the sync, after its settles and
//        before its node and window reads. By the fences' order, either the
//        publisher reads the settled kIdle and queues the binding again, or
//        the sync reads the claim or the node.
#ifndef ADDRPOOL_LIB_WALLET_SET_IMPL_HPP
#define ADDRPOOL_LIB_WALLET_SET_IMPL_HPP

#include <addrpool/wallet.hpp>

#include "common/thread_annotations.hpp"
#include "pool/index_sink.hpp"
#include "wallet/registry.hpp"
#include "wallet/script_index.hpp"

#include <boost/atomic.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace addrpool::detail {

// The chains of an account: 0 external, 1 internal (PoolType's values).
inline constexpr unsigned kChains = 2;

struct Core;

// What the last save of the set to its directory wrote for one registration
// (WalletSetImpl::saved, by Node::id).
struct SavedAccount {
    std::uint64_t file_id = 0;                // 0: never saved; names its files
    std::array<std::uint64_t, kChains> gen{};   // generation of each chain's file
    std::array<std::uint64_t, kChains> digest{};  // digest of what that file holds
};

struct Binding {
    static constexpr std::uint32_t kIdle = 0, kQueued = 1, kDying = 2;

    boost::atomic<Core*> core{nullptr};  // (B1)
    std::shared_ptr<Core> core_owner;    // written once by the claiming add; moved out by ~Account
    boost::atomic<const Node*> node{nullptr};  // (N1)
    std::array<boost::atomic<std::uint32_t>, kChains> watched_end{};  // (W1)
    boost::atomic<std::uint32_t> queued{kIdle};  // (D1)..(D3)
    // The pools' earlier hashes are in the claiming set's index (their
    // sinks' backfill finished). Under that set's `writer` only: an add
    // whose backfill threw leaves it false, and the next add retries.
    bool backfilled = false;
    Binding* next_dirty = nullptr;  // (D1)/(D2)
};

// Frees a binding after a grace period (ebr::retire).
void retire_binding(Binding* b) noexcept;

struct Core {
    ScriptIndex index;
    boost::atomic<Binding*> dirty{nullptr};  // (D1)/(D2)

    Core() = default;
    ~Core();  // deletes the dying bindings still on the dirty stack (D3)
    Core(const Core&) = delete;
    Core& operator=(const Core&) = delete;

    // (D1): queues the binding for the next sync's window watch, once.
    // Lock-free.
    void mark_dirty(Binding& b) noexcept;
    // (D2): takes the whole stack (acquire exchange). The caller then walks
    // it (next_dirty), settling each binding before using it, or gives
    // the unsettled rest back with requeue(). Call inside an ebr::Guard,
    // which keeps the bindings valid.
    Binding* take_dirty() noexcept {
        return dirty.exchange(nullptr, boost::memory_order_acquire);  // (D2) acquire: pairs with (D1)
    }
    // (D2): kQueued → kIdle (true: the caller may use it; it may be queued
    // again from now on), or false for a dying binding, which this retires.
    // Read b.next_dirty before calling it: a new push rewrites it.
    static bool settle(Binding& b) noexcept;
    // Pushes a taken, unsettled chain back (a sync that could not finish).
    void requeue(Binding* chain) noexcept;
};

// The IndexSink of one pool of an account: see the top.
class PoolSink final : public IndexSink {
public:
    PoolSink(Binding& b, unsigned chain) noexcept : b_(b), chain_(chain) {}
    void insert(const Hash160& h, std::uint32_t index) override;
    std::optional<std::uint32_t> find(const Hash160& h) const override;

private:
    Binding& b_;
    unsigned chain_;
};

struct WalletSetImpl {
    std::shared_ptr<Core> core = std::make_shared<Core>();
    Registry registry;
    boost::atomic<std::size_t> count{0};  // relaxed: a statistic, changed under `writer`
    Mutex writer;                          // add / remove (registry writers); save's snapshot
    // Held by a sync while it derives the windows of queued accounts, so a
    // sync that starts meanwhile matches only after those windows are
    // indexed (sync.cpp). Never taken by hand-outs, find, add or remove.
    Mutex watch;
    // Saves. `changes` counts registry changes (add/remove), so a save knows
    // whether the manifest must be rewritten.
    boost::atomic<std::uint64_t> changes{0};
    Mutex save_mutex;
    std::uint64_t set_id GUARDED_BY(save_mutex) = 0;  // random, made on the first save unless loaded
    std::string saved_dir GUARDED_BY(save_mutex);      // the directory of the last save (or load)
    std::uint64_t saved_generation GUARDED_BY(save_mutex) = 0;
    std::uint64_t saved_changes GUARDED_BY(save_mutex) = 0;
    std::uint64_t next_file_id GUARDED_BY(save_mutex) = 1;
    // Per registration (Node::id: never reused, so a removed and re-added
    // account, or a new account at a freed address, starts afresh).
    std::unordered_map<std::uint64_t, SavedAccount> saved GUARDED_BY(save_mutex);
    std::uint64_t next_node_id GUARDED_BY(writer) = 1;
};

// The one friend of Account and WalletSet inside the library.
struct WalletAccess {
    static Binding& binding(Account& a) noexcept { return *a.binding_; }
    static WalletSetImpl& impl(WalletSet& s) noexcept { return *s.impl_; }
    static const WalletSetImpl& impl(const WalletSet& s) noexcept { return *s.impl_; }
    static std::shared_ptr<Account> make(KeySource keys, AddressPool external, AddressPool internal) {
        return std::make_shared<Account>(Account::Token{}, std::move(keys), std::move(external), std::move(internal));
    }
    static AddressPool& pool(Account& a, unsigned chain) noexcept { return chain == 0 ? a.external_ : a.internal_; }
};

// The one friend of AddressPool in lib/wallet (pool.hpp).
struct PoolAccess {
    static AddressPool::Impl& impl(AddressPool& p) noexcept { return *p.impl_; }
    static const AddressPool::Impl& impl(const AddressPool& p) noexcept { return *p.impl_; }
};

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_WALLET_SET_IMPL_HPP
