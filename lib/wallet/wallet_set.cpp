// WalletSet: lifecycle, registration (add/remove), lock-free find, size and
// the set-wide sweep. Matching is in sync.cpp, saving and loading in
// persist.cpp. Protocol numbers refer to set_impl.hpp, registry.hpp and
// ebr.hpp.
#include "wallet/ebr.hpp"
#include "wallet/set_impl.hpp"

#include "pool/pool_impl.hpp"

namespace addrpool {

using detail::Binding;
using detail::Core;
using detail::LockGuard;
using detail::Node;
using detail::WalletAccess;
namespace ebr = detail::ebr;

WalletSet::WalletSet() : impl_(std::make_unique<detail::WalletSetImpl>()) {}

WalletSet::~WalletSet() {
    if (!impl_) return;  // moved from
    {
        // No call on this set runs any more: the accounts forget their
        // registrations, and the registry frees its nodes directly.
        ebr::Guard guard;
        impl_->registry.for_each([](const Node& n) {
            n.binding->node.store(nullptr, boost::memory_order_seq_cst);  // (N1) seq_cst
        });
    }
    impl_.reset();
    ebr::collect();  // what the set retired, if no reader holds it
}

WalletSet::WalletSet(WalletSet&&) noexcept = default;
WalletSet& WalletSet::operator=(WalletSet&& other) noexcept {
    if (this != &other) {
        WalletSet gone(std::move(*this));
        impl_ = std::move(other.impl_);
    }
    return *this;
}

namespace {

void attach(AddressPool& pool, std::unique_ptr<detail::PoolSink> sink) noexcept {
    detail::PoolAccess::impl(pool).attach_sink(std::move(sink));
}

}  // namespace

bool WalletSet::add(std::string wallet, std::uint32_t account, std::shared_ptr<Account> account_ptr) {
    if (!account_ptr) return false;
    detail::WalletSetImpl& s = *impl_;
    Binding& b = WalletAccess::binding(*account_ptr);
    // Everything that can throw comes before the first change.
    auto external_sink = std::make_unique<detail::PoolSink>(b, 0);
    auto internal_sink = std::make_unique<detail::PoolSink>(b, 1);
    Node* raw = nullptr;
    auto node = std::make_unique<Node>(Node{std::move(wallet), account, account_ptr, &b, 0});
    {
        LockGuard lock(s.writer);
        if (s.registry.find(node->wallet, account) != nullptr) return false;  // writers see the latest snapshot
        if (b.node.load(boost::memory_order_relaxed) != nullptr) return false;  // relaxed: written under `writer` only
        Core* expected = nullptr;
        // (B1) acq_rel: claims the binding for this set; acquire on failure
        // reads which set has it.
        if (b.core.compare_exchange_strong(expected, s.core.get(), boost::memory_order_acq_rel,
                                           boost::memory_order_acquire)) {
            b.core_owner = s.core;
            // From here every hash the pools derive goes to the set's index.
            attach(WalletAccess::pool(*account_ptr, 0), std::move(external_sink));
            attach(WalletAccess::pool(*account_ptr, 1), std::move(internal_sink));
        } else if (expected != s.core.get()) {
            return false;  // it joined another set
        }
        // What they derived before is copied in. This may throw
        // (std::bad_alloc): the account is then bound to this set but not
        // registered, and an add that tries again finishes the copy.
        if (!b.backfilled) {
            detail::PoolAccess::impl(WalletAccess::pool(*account_ptr, 0)).backfill_sink();
            detail::PoolAccess::impl(WalletAccess::pool(*account_ptr, 1)).backfill_sink();
            b.backfilled = true;
        }
        node->id = s.next_node_id++;
        raw = node.get();
        if (!s.registry.insert(node)) return false;  // (G1) (cannot fail: checked above)
        b.node.store(raw, boost::memory_order_seq_cst);  // (N1) seq_cst
        s.count.fetch_add(1, boost::memory_order_relaxed);    // relaxed: a statistic
        // relaxed: written and read (by save) under `writer` only.
        s.changes.fetch_add(1, boost::memory_order_relaxed);
        // (D4) seq_cst fence: the (N1) store above before mark_dirty's read
        // of `queued`; pairs with a sync's (D5) (set_impl.hpp), so a binding
        // re-added while still queued is seen registered by the settling sync.
        boost::atomic_thread_fence(boost::memory_order_seq_cst);
        s.core->mark_dirty(b);  // its windows are derived before the next sync
    }
    ebr::collect();
    return true;
}

bool WalletSet::remove(std::string_view wallet, std::uint32_t account) {
    detail::WalletSetImpl& s = *impl_;
    {
        LockGuard lock(s.writer);
        Node* node = s.registry.erase(wallet, account);  // (G1)
        if (node == nullptr) return false;
        node->binding->node.store(nullptr, boost::memory_order_seq_cst);  // (N1) seq_cst: the unlink (U)
        s.count.fetch_sub(1, boost::memory_order_relaxed);    // relaxed: a statistic
        s.changes.fetch_add(1, boost::memory_order_relaxed);  // relaxed: under `writer`, see add()
        ebr::retire(node);  // its shared_ptr goes when no reader can hold the node
    }
    ebr::collect();
    return true;
}

std::shared_ptr<Account> WalletSet::find(std::string_view wallet, std::uint32_t account) const {
    ebr::Guard guard;
    const Node* n = impl_->registry.find(wallet, account);
    return n != nullptr ? n->acct : nullptr;
}

std::size_t WalletSet::size() const { return impl_->count.load(boost::memory_order_relaxed); }  // relaxed: a statistic

std::size_t WalletSet::sweep_expired_reservations(std::chrono::nanoseconds ttl) {
    std::size_t freed = 0;
    ebr::Guard guard;
    impl_->registry.for_each([&](const Node& n) {
        freed += n.acct->external().sweep_expired_reservations(ttl) + n.acct->internal().sweep_expired_reservations(ttl);
    });
    return freed;
}

}  // namespace addrpool
