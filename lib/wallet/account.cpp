// Account: construction (bip44), hand-outs that tell the set when their
// window outruns what it watches, and leaving the set's index on
// destruction. Also the Core's dirty stack and the pools' index sink.
// Protocol numbers refer to set_impl.hpp.
#include "wallet/ebr.hpp"
#include "wallet/set_impl.hpp"

#include "pool/pool_impl.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace addrpool {

using detail::Binding;
using detail::Core;

static_assert(boost::atomic<Core*>::is_always_lock_free && boost::atomic<std::uint32_t>::is_always_lock_free,
              "a binding's words must be lock-free atomics");

Result<std::shared_ptr<Account>> Account::bip44(KeySource keys, DerivationPath account_path, Network network,
                                                std::uint32_t gap_limit, PoolOptions options) {
    if (gap_limit == 0) return make_error(Errc::invalid_argument, "the gap limit must be at least 1");
    // The depth is the path's, or the key's where the path is relative
    // ("m/0" on a depth-254 key): check_pool compares the two only for an
    // absolute path.
    const std::optional<ExtendedPubKey> key = keys.account_public_key();
    const std::size_t key_depth = key ? key->depth() : 0;
    if (std::max(account_path.size(), key_depth) + levels_below_account(PoolType::external) > 255) {
        return make_error(Errc::invalid_argument, "the account's addresses would be deeper than 255");
    }
    const DerivationPath external = pool_base_path(account_path, PoolType::external);
    const DerivationPath internal = pool_base_path(account_path, PoolType::internal);
    if (auto ok = keys.check_pool(external, PoolType::external, network); !ok) return std::move(ok).error();
    if (auto ok = keys.check_pool(internal, PoolType::internal, network); !ok) return std::move(ok).error();
    return detail::WalletAccess::make(std::move(keys), AddressPool(external, PoolType::external, gap_limit, network, options),
                                      AddressPool(internal, PoolType::internal, gap_limit, network, options));
}

Account::Account(Token, KeySource keys, AddressPool external, AddressPool internal)
    : keys_(std::move(keys)), external_(std::move(external)), internal_(std::move(internal)), binding_(new Binding()) {}

namespace {

// Removes every entry a pool of `b` put in the index: each derived index
// (publication registers before it sets kDerived, and the backfill copied
// in what was derived before the attach, so the entries are among the
// derived slots; erasing one never there is a no-op).
void leave_index(detail::ScriptIndex& index, Binding& b, const AddressPool& pool, unsigned chain) {
    const AddressPool::Impl& p = detail::PoolAccess::impl(pool);
    const detail::Hot* h = p.hot_or_null();
    if (h == nullptr) return;
    // (T2) acquire: pairs with (T1) (pool_impl.hpp): every published block below is seen.
    const std::uint32_t end = h->touched_end.load(boost::memory_order_acquire);
    h->slots.for_each(0, end, [&](std::uint32_t, const detail::Slot& s) {
        if (s.derived()) index.erase(s.load_hash(), &b, chain);  // (D3) of lib/pool: derived() is an acquire
    });
}

}  // namespace

Account::~Account() {
    Binding* b = binding_;
    Core* core = b->core.load(boost::memory_order_acquire);  // (B1) acquire
    if (core == nullptr) {  // never joined a set: nothing else knows the binding
        delete b;
        return;
    }
    // Nobody can use this account any more: its pools derive nothing now.
    leave_index(core->index, *b, external_, 0);
    leave_index(core->index, *b, internal_, 1);
    const std::shared_ptr<Core> keep = std::move(b->core_owner);  // released last: ~Core may need the stack
    // (D3) acq_rel: kIdle → ours to retire; kQueued → the dirty stack owns it.
    if (b->queued.exchange(Binding::kDying, boost::memory_order_acq_rel) == Binding::kIdle) detail::retire_binding(b);
}

const KeySource& Account::keys() const noexcept { return keys_; }
AddressPool& Account::external() noexcept { return external_; }
AddressPool& Account::internal() noexcept { return internal_; }

Result<Reservation> Account::next_receive_address() { return hand_out(external_, 0); }
Result<Reservation> Account::next_change_address() { return hand_out(internal_, 1); }

Result<Reservation> Account::hand_out(AddressPool& pool, unsigned chain) {
    auto r = pool.reserve(keys_, /*add_to_state=*/true);
    if (!r) return r;
    // The window now reaches at least index + 1 + gap limit. (W1) relaxed: a
    // stale, lower watched end only queues the account once too often; a
    // value at or above it is a fact (every index below it is indexed).
    if (std::uint64_t{r->index} + 1 + pool.gap_limit() > binding_->watched_end[chain].load(boost::memory_order_relaxed)) {
        // (D4) seq_cst fence: our claim before it, our reads of `core` and
        // `queued` after it; pairs with a sync's (D5) (set_impl.hpp).
        boost::atomic_thread_fence(boost::memory_order_seq_cst);
        if (Core* core = binding_->core.load(boost::memory_order_acquire)) core->mark_dirty(*binding_);  // (B1) acquire
    }
    return r;
}

namespace detail {

void retire_binding(Binding* b) noexcept { ebr::retire(b); }

void Core::mark_dirty(Binding& b) noexcept {
    // relaxed: a hint, the CAS decides. When the caller is hand_out or add()
    // (after their (D4) fence), a queued value means a settle (D2) whose (D5)
    // fence is still to come. The other callers (the sink, a sync's retry)
    // queue work that no sync has to see at once: a derivation or a widening
    // that is tried again at the next trigger.
    if (b.queued.load(boost::memory_order_relaxed) != Binding::kIdle) return;
    std::uint32_t expected = Binding::kIdle;
    // (D1) acq_rel: pairs with (D2)'s CAS back to kIdle, so our link write
    // below comes after the taker's read of the old one.
    if (!b.queued.compare_exchange_strong(expected, Binding::kQueued, boost::memory_order_acq_rel,
                                          boost::memory_order_relaxed)) {  // relaxed: someone else queued it
        return;
    }
    Binding* head = dirty.load(boost::memory_order_relaxed);  // relaxed: the CAS re-validates
    do {
        b.next_dirty = head;
        // (D1) release: publishes the link to (D2)'s acquire exchange.
    } while (!dirty.compare_exchange_weak(head, &b, boost::memory_order_release, boost::memory_order_relaxed));
}

bool Core::settle(Binding& b) noexcept {
    std::uint32_t expected = Binding::kQueued;
    // (D2) acq_rel: after it the binding may be pushed again (D1) or die (D3).
    if (b.queued.compare_exchange_strong(expected, Binding::kIdle, boost::memory_order_acq_rel,
                                         boost::memory_order_acquire)) {
        return true;
    }
    retire_binding(&b);  // kDying: its account is gone and left it to the stack (D3)
    return false;
}

void Core::requeue(Binding* chain) noexcept {
    if (chain == nullptr) return;
    Binding* tail = chain;
    while (tail->next_dirty != nullptr) tail = tail->next_dirty;
    Binding* head = dirty.load(boost::memory_order_relaxed);  // relaxed: the CAS re-validates
    do {
        tail->next_dirty = head;
        // (D1) release: as a push, for the whole chain.
    } while (!dirty.compare_exchange_weak(head, chain, boost::memory_order_release, boost::memory_order_relaxed));
}

Core::~Core() {
    // Only bindings whose accounts are gone can still be here (a live
    // account's binding owns a reference to this Core): delete them (D3).
    Binding* b = dirty.load(boost::memory_order_relaxed);  // relaxed: no concurrent user
    while (b != nullptr) {
        Binding* next = b->next_dirty;
        if (b->queued.load(boost::memory_order_relaxed) == Binding::kDying) delete b;  // relaxed: as above
        b = next;
    }
}

void PoolSink::insert(const Hash160& h, std::uint32_t index) {
    // (B1) acquire: the sink is attached after the claim, so the Core is set.
    Core& core = *b_.core.load(boost::memory_order_acquire);
    if (core.index.insert(h, &b_, chain_, index)) ebr::collect();
    // An index past the watched window: the pool is deriving ahead (its
    // lookahead), so its window has moved. (W1) relaxed: see hand_out.
    if (index >= b_.watched_end[chain_].load(boost::memory_order_relaxed)) core.mark_dirty(b_);
}

std::optional<std::uint32_t> PoolSink::find(const Hash160& h) const {
    const Core& core = *b_.core.load(boost::memory_order_acquire);  // (B1) acquire
    std::optional<std::uint32_t> out;
    ebr::Guard guard;
    core.index.find(h, [&](const IndexEntry& e) {
        if (e.binding == &b_ && e.chain() == chain_) out = e.index();
    });
    return out;
}

}  // namespace detail

}  // namespace addrpool
