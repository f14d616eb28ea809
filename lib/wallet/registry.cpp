// A WalletSet's registrations: copy-on-write shard snapshots. The protocol is
// in registry.hpp.
#include "wallet/registry.hpp"

#include "wallet/ebr.hpp"

#include <functional>
#include <new>

namespace addrpool::detail {

static_assert(boost::atomic<void*>::is_always_lock_free, "snapshot pointers must be lock-free atomics");

std::uint64_t Registry::key_hash(std::string_view wallet, std::uint32_t account) noexcept {
    // The string's hash, then the account number mixed in (splitmix64's
    // finalizer), so every bit of both reaches the top bits the shard uses.
    std::uint64_t x = std::hash<std::string_view>{}(wallet) ^ (std::uint64_t{account} * 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

Registry::Snapshot* Registry::Snapshot::make(std::uint32_t count) {
    void* mem = ::operator new(sizeof(Snapshot) + std::size_t{count} * sizeof(Item));
    return new (mem) Snapshot{count};
}

void Registry::Snapshot::destroy(void* s) noexcept { ::operator delete(s); }

Registry::~Registry() {
    for (auto& shard : shards_) {
        Snapshot* s = shard.load(boost::memory_order_relaxed);  // relaxed: no concurrent user
        if (s == nullptr) continue;
        for (std::uint32_t i = 0; i < s->count; ++i) delete s->items()[i].node;
        Snapshot::destroy(s);
    }
}

const Node* Registry::find(std::string_view wallet, std::uint32_t account) const noexcept {
    const std::uint64_t h = key_hash(wallet, account);
    const Snapshot* s = shards_[shard_of(h)].load(boost::memory_order_seq_cst);  // (G2) seq_cst: a root load (R)
    if (s == nullptr) return nullptr;
    for (std::uint32_t i = 0; i < s->count; ++i) {
        const Item& it = s->items()[i];
        if (it.hash == h && it.node->account == account && it.node->wallet == wallet) return it.node;
    }
    return nullptr;
}

void Registry::publish(std::size_t shard, Snapshot* old, Snapshot* fresh) noexcept {
    // (G1) seq_cst: publishes the filled snapshot to (G2); the unlink (U) of `old`.
    shards_[shard].store(fresh, boost::memory_order_seq_cst);
    if (old != nullptr) ebr::retire(old, &Snapshot::destroy);
}

bool Registry::insert(std::unique_ptr<Node>& node) {
    const std::uint64_t h = key_hash(node->wallet, node->account);
    const std::size_t k = shard_of(h);
    Snapshot* old = shards_[k].load(boost::memory_order_relaxed);  // relaxed: writers are serialized by the caller
    const std::uint32_t n = old == nullptr ? 0 : old->count;
    for (std::uint32_t i = 0; i < n; ++i) {
        const Item& it = old->items()[i];
        if (it.hash == h && it.node->account == node->account && it.node->wallet == node->wallet) return false;
    }
    Snapshot* fresh = Snapshot::make(n + 1);
    for (std::uint32_t i = 0; i < n; ++i) fresh->items()[i] = old->items()[i];
    fresh->items()[n] = Item{h, node.release()};
    publish(k, old, fresh);
    return true;
}

Node* Registry::erase(std::string_view wallet, std::uint32_t account) {
    const std::uint64_t h = key_hash(wallet, account);
    const std::size_t k = shard_of(h);
    Snapshot* old = shards_[k].load(boost::memory_order_relaxed);  // relaxed: writers are serialized by the caller
    if (old == nullptr) return nullptr;
    std::uint32_t at = old->count;
    for (std::uint32_t i = 0; i < old->count; ++i) {
        const Item& it = old->items()[i];
        if (it.hash == h && it.node->account == account && it.node->wallet == wallet) at = i;
    }
    if (at == old->count) return nullptr;
    Node* node = old->items()[at].node;
    Snapshot* fresh = nullptr;
    if (old->count > 1) {
        fresh = Snapshot::make(old->count - 1);
        std::uint32_t j = 0;
        for (std::uint32_t i = 0; i < old->count; ++i) {
            if (i != at) fresh->items()[j++] = old->items()[i];
        }
    }
    publish(k, old, fresh);
    return node;
}

}  // namespace addrpool::detail
