// Internal: a WalletSet's registrations, (wallet, account number) → Node,
// read lock-free.
//
// 4096 shards by a hash of the key; each shard is an immutable snapshot (an
// array of {key hash, Node*}) published through one atomic pointer.
// Writers (insert, erase, clear) are serialized by the caller (the set's
// writer mutex) and replace a shard's snapshot copy-on-write: O(accounts in
// that shard), about 25 at 100,000 accounts. Nodes never move.
//
// Protocol:
//   (G1) a writer builds the new snapshot completely, then publishes it with
//        a seq_cst store (a release: its content is visible to (G2); and an
//        unlink (U) of the old snapshot, ebr.hpp), then retires the old
//        snapshot — and, for erase, the caller retires the node once it has
//        also cleared the binding's pointer to it (binding.hpp (N1)).
//   (G2) readers load a shard's snapshot seq_cst inside an ebr::Guard (a
//        root load (R) of ebr.hpp): the snapshot and every node in it stay
//        valid until the guard ends.
// A reader never waits: one load, a scan of about 25 items comparing 64-bit
// hashes, then the node's key.
#ifndef ADDRPOOL_LIB_WALLET_REGISTRY_HPP
#define ADDRPOOL_LIB_WALLET_REGISTRY_HPP

#include <addrpool/wallet.hpp>

#include <boost/atomic.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace addrpool::detail {

// One registration. Immutable once published; freed through ebr::retire.
struct Node {
    std::string wallet;
    std::uint32_t account;
    std::shared_ptr<Account> acct;
    Binding* binding;  // acct's binding (acct keeps it alive)
    std::uint64_t id;  // unique in its set, never reused (the save bookkeeping's key)
};

class Registry {
public:
    static constexpr unsigned kShardBits = 12;

    Registry() = default;
    ~Registry();  // frees every snapshot and node: requires no concurrent user
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    static std::uint64_t key_hash(std::string_view wallet, std::uint32_t account) noexcept;

    // The node of (wallet, account), or null. Lock-free; inside an ebr::Guard.
    const Node* find(std::string_view wallet, std::uint32_t account) const noexcept;

    // Writers: the caller serializes them. insert takes ownership of `node`
    // (false, and nothing taken, if its key is present); erase unlinks the
    // node and returns it (null if absent) for the caller to retire. Both
    // throw only std::bad_alloc, before changing anything.
    bool insert(std::unique_ptr<Node>& node);
    Node* erase(std::string_view wallet, std::uint32_t account);

    // visit(const Node&) for every node. Inside an ebr::Guard; lock-free.
    // Concurrent writers: each shard is read at one moment.
    template <class F>
    void for_each(F&& visit) const;

private:
    static constexpr std::size_t kShards = std::size_t{1} << kShardBits;

    struct Item {
        std::uint64_t hash;
        Node* node;
    };
    struct alignas(Item) Snapshot {
        std::uint32_t count;
        Item* items() noexcept { return reinterpret_cast<Item*>(this + 1); }
        const Item* items() const noexcept { return reinterpret_cast<const Item*>(this + 1); }
        static Snapshot* make(std::uint32_t count);  // items uninitialized
        static void destroy(void* s) noexcept;
    };
    static_assert(sizeof(Snapshot) == sizeof(Item::hash), "items follow the count, aligned");

    static std::size_t shard_of(std::uint64_t hash) noexcept { return hash >> (64 - kShardBits); }
    // (G1): publishes `fresh` in place of `old` and retires `old`.
    void publish(std::size_t shard, Snapshot* old, Snapshot* fresh) noexcept;

    std::array<boost::atomic<Snapshot*>, kShards> shards_{};
};

template <class F>
void Registry::for_each(F&& visit) const {
    for (const auto& shard : shards_) {
        const Snapshot* s = shard.load(boost::memory_order_seq_cst);  // (G2) seq_cst: a root load (R), ebr.hpp
        if (s == nullptr) continue;
        for (std::uint32_t i = 0; i < s->count; ++i) visit(static_cast<const Node&>(*s->items()[i].node));
    }
}

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_WALLET_REGISTRY_HPP
