// WalletSet::mark_scripts_used: one block against every account of the set.
//
//   1. The watch: every account queued on the dirty stack (added, handed
//      out past its watched window, derived ahead, or marked by a sync) has
//      each pool's window [watched_end, scan_window_end()) derived — and so
//      indexed — under the set's watch mutex, on several threads when it is
//      a lot of work (the first sync after adding or loading many accounts).
//      A sync that starts meanwhile waits for that mutex, so it matches
//      against windows that are indexed. The derivations hold no epoch guard
//      (the work items hold the accounts), so the index can free the tables
//      it outgrows while a large first sync fills it.
//   2. One probe per P2PKH script in the set's index (prefetched in
//      batches); each hit of a registered account is marked used in its
//      pool, in position order.
//   3. Each newly used index widens its pool's window: the indices from the
//      window before the mark to the window after it are derived and looked
//      up among the batch's scripts (a map built only when the first window
//      widens; each script and pool is reported once), and so on until no
//      window moves.
#include "wallet/ebr.hpp"
#include "wallet/set_impl.hpp"

#include "pool/derivation.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

namespace addrpool {

using detail::Binding;
using detail::Core;
using detail::LockGuard;
using detail::Node;
using detail::PoolAccess;
using detail::WalletAccess;
namespace ebr = detail::ebr;

namespace {

// The hash160 a P2PKH script pays (OP_DUP OP_HASH160 <20> OP_EQUALVERIFY
// OP_CHECKSIG), whatever the network: the set may hold several.
std::optional<Hash160> p2pkh_hash(std::span<const std::uint8_t> s) noexcept {
    if (s.size() != 25 || s[0] != 0x76 || s[1] != 0xa9 || s[2] != 0x14 || s[23] != 0x88 || s[24] != 0xac) {
        return std::nullopt;
    }
    Hash160 h;
    std::memcpy(h.data(), s.data() + 3, h.size());
    return h;
}

Error account_error(const Node& n, unsigned chain, Error e) {
    e.message = "wallet \"" + n.wallet + "\" account " + std::to_string(n.account) +
                (chain == 0 ? " (external): " : " (internal): ") + e.message;
    return e;
}

// The hashes of [from, to) of one pool, deriving what is missing; raises the
// watched end to `to` (W1) when nothing below `from` is missing.
Result<std::vector<Hash160>> derive_window(Account& a, Binding& b, unsigned chain, std::uint32_t from,
                                           std::uint32_t to) {
    auto hashes = detail::derive_range(PoolAccess::impl(WalletAccess::pool(a, chain)), a.keys(), from, to);
    if (!hashes) return hashes;
    boost::atomic<std::uint32_t>& w = b.watched_end[chain];
    std::uint32_t cur = w.load(boost::memory_order_acquire);  // (W1) acquire
    // (W1) release: the derivations above happen-before a sync that reads
    // the raised value and skips them.
    while (from <= cur && cur < to && !w.compare_exchange_weak(cur, to, boost::memory_order_release,
                                                               boost::memory_order_acquire)) {
    }
    return hashes;
}

// A pool whose key source cannot derive is watched over what it derived.
bool skippable(const Error& e) noexcept { return e.code == Errc::no_key_source; }

// ---- 1. the watch --------------------------------------------------------------

struct WindowWork {
    std::shared_ptr<Account> acct;  // keeps the account (and its binding) alive without a guard
    Binding* binding;
    unsigned chain;
    std::uint32_t from, to;
    std::string wallet;  // for error messages
    std::uint32_t account;
};

Error work_error(const WindowWork& w, Error e) {
    e.message = "wallet \"" + w.wallet + "\" account " + std::to_string(w.account) +
                (w.chain == 0 ? " (external): " : " (internal): ") + e.message;
    return e;
}

// Runs every item, on up to hardware_concurrency threads when there are at
// least 256 indices to derive; re-queues the account of an item that failed
// (so the next sync tries again). The first error (in item order) wins.
// Holds no ebr::Guard: the index can reclaim the tables it outgrows while
// the windows fill it.
Result<void> derive_all(Core& core, const std::vector<WindowWork>& work) {
    std::uint64_t total = 0;
    for (const WindowWork& w : work) total += w.to - w.from;
    std::vector<std::optional<Error>> errors(work.size());
    std::vector<char> done(work.size(), 0);
    std::atomic<std::size_t> next{0};  // relaxed: a work counter; results are read after join()
    std::exception_ptr thrown;
    std::mutex thrown_mutex;
    auto run = [&] {
        try {
            for (std::size_t k = next.fetch_add(1, std::memory_order_relaxed); k < work.size();
                 k = next.fetch_add(1, std::memory_order_relaxed)) {
                const WindowWork& w = work[k];
                auto r = derive_window(*w.acct, *w.binding, w.chain, w.from, w.to);
                if (!r && !skippable(r.error())) errors[k] = work_error(w, std::move(r).error());
                done[k] = 1;
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(thrown_mutex);
            if (!thrown) thrown = std::current_exception();
        }
    };
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const unsigned threads = total >= 256 ? static_cast<unsigned>(std::min<std::uint64_t>(hw, work.size())) : 1;
    std::vector<std::thread> helpers;
    try {
        for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(run);
    } catch (...) {  // could not start a thread: the others (and we) do the work
    }
    run();
    for (auto& t : helpers) t.join();  // join() synchronizes: every result is visible
    for (std::size_t k = 0; k < work.size(); ++k) {
        if (errors[k] || !done[k]) core.mark_dirty(*work[k].binding);  // try again next time
    }
    if (thrown) std::rethrow_exception(thrown);
    for (auto& e : errors) {
        if (e) return std::move(*e);
    }
    return {};
}

// Step 1, under the watch mutex: the queued accounts' windows.
Result<void> watch_queued(detail::WalletSetImpl& s) {
    LockGuard lock(s.watch);
    Core& core = *s.core;
    std::vector<WindowWork> work;
    {
        ebr::Guard guard;  // the taken bindings and their nodes stay valid while we read them
        Binding* list = core.take_dirty();
        std::size_t n = 0;
        for (Binding* b = list; b != nullptr; b = b->next_dirty) ++n;
        std::vector<Binding*> settled;
        try {
            settled.reserve(n);
        } catch (...) {
            core.requeue(list);
            throw;
        }
        for (Binding* b = list; b != nullptr;) {
            Binding* next = b->next_dirty;  // before settle(): a new push rewrites it
            if (Core::settle(*b)) settled.push_back(b);
            b = next;
        }
        // (D5) seq_cst fence: after every settle (D2), before the node (N1)
        // and window reads below; pairs with a hand-out's or add()'s (D4)
        // (set_impl.hpp): one that still saw a binding queued made its claim
        // or node store before its fence, and these reads see it.
        boost::atomic_thread_fence(boost::memory_order_seq_cst);
        try {
            work.reserve(2 * settled.size());
            for (Binding* b : settled) {
                const Node* node = b->node.load(boost::memory_order_seq_cst);  // (N1) seq_cst: a root load (R)
                if (node == nullptr) continue;  // removed: no longer the set's to watch
                for (unsigned c = 0; c < detail::kChains; ++c) {
                    const std::uint32_t to = WalletAccess::pool(*node->acct, c).scan_window_end();
                    const std::uint32_t from = b->watched_end[c].load(boost::memory_order_acquire);  // (W1)
                    if (to > from) work.push_back(WindowWork{node->acct, b, c, from, to, node->wallet, node->account});
                }
            }
        } catch (...) {
            for (Binding* b : settled) core.mark_dirty(*b);  // try again next time
            throw;
        }
    }
    auto done = derive_all(core, work);
    work.clear();  // a removed account's last reference may go here: ~Account takes only index shard mutexes
    return done;
}

// ---- 2 and 3. matching ----------------------------------------------------------

class Matcher {
public:
    Matcher(std::span<const Hash160> hashes, std::span<const std::size_t> positions)
        : hashes_(hashes), positions_(positions) {}

    // A hit: marks (node's account, chain, index) used and reports it; a
    // change queues the pool's window for widening.
    void hit(std::size_t position, const Binding& b, unsigned chain, std::uint32_t index) {
        const Node* node = b.node.load(boost::memory_order_seq_cst);  // (N1) seq_cst: a root load (R)
        if (node == nullptr) return;  // removed: no longer the set's
        // Once per script and pool: the index and a widening (or two
        // widenings of one pool) may both find it. The index finds each
        // once, so until a window widens a list is enough (no allocation
        // per hit in the common block); build_waiting() turns it into a set.
        if (!waiting_built_) {
            index_hits_.push_back(Reported{position, &b, chain});
        } else if (!reported_.insert(Reported{position, &b, chain}).second) {
            return;
        }
        Account& a = *node->acct;
        AddressPool& pool = WalletAccess::pool(a, chain);
        const std::uint32_t before = pool.scan_window_end();
        auto changed = pool.mark_index_used(index, a.keys());  // derived already: cannot fail
        if (!changed) return;
        out_.push_back(WalletMatch{position, node->wallet, node->account, static_cast<PoolType>(chain), index, *changed});
        if (*changed) widen_.push_back(Widen{node, chain, before});
    }

    // Step 3. Errors: a derivation error (not no_key_source) of a pool.
    Result<void> widen() {
        while (!widen_.empty()) {
            const Widen w = widen_.back();
            widen_.pop_back();
            Account& a = *w.node->acct;
            Binding& b = *w.node->binding;
            const std::uint32_t to = WalletAccess::pool(a, w.chain).scan_window_end();
            const std::uint32_t from =
                std::min(w.before, b.watched_end[w.chain].load(boost::memory_order_acquire));  // (W1)
            if (to <= from) continue;
            auto hashes = derive_window(a, b, w.chain, from, to);
            if (!hashes) {
                if (skippable(hashes.error())) continue;
                return account_error(*w.node, w.chain, std::move(hashes).error());
            }
            if (!waiting_built_) build_waiting();
            for (std::uint32_t j = from; j < to; ++j) {
                auto it = waiting_.find((*hashes)[j - from]);
                if (it == waiting_.end()) continue;
                // Kept for the other pools' widenings: an address two
                // accounts share is reported for each. hit() reports each
                // (script, pool) once; it may grow widen_, not waiting_.
                for (std::size_t p : it->second) hit(p, b, w.chain, j);
            }
        }
        return {};
    }

    std::vector<WalletMatch> take() {
        std::stable_sort(out_.begin(), out_.end(),
                         [](const WalletMatch& x, const WalletMatch& y) { return x.position < y.position; });
        return std::move(out_);
    }

private:
    struct Widen {
        const Node* node;
        unsigned chain;
        std::uint32_t before;  // the window before the mark
    };

    // A (script position, pool) already reported.
    struct Reported {
        std::size_t position;
        const Binding* binding;
        unsigned chain;
        bool operator<(const Reported& o) const noexcept {
            return std::tie(position, binding, chain) < std::tie(o.position, o.binding, o.chain);
        }
    };

    // Every P2PKH script of the batch, by hash: also those the index
    // matched, since a widened window of another pool may hold them too.
    void build_waiting() {
        waiting_built_ = true;
        for (std::size_t k = 0; k < hashes_.size(); ++k) waiting_[hashes_[k]].push_back(positions_[k]);
        reported_.insert(index_hits_.begin(), index_hits_.end());
    }

    std::span<const Hash160> hashes_;
    std::span<const std::size_t> positions_;
    std::vector<WalletMatch> out_;
    std::vector<Widen> widen_;
    std::vector<Reported> index_hits_;  // reported before the first widening
    std::set<Reported> reported_;       // every report, from the first widening on
    bool waiting_built_ = false;
    std::unordered_map<Hash160, std::vector<std::size_t>, detail::Hash160Hash> waiting_;
};

}  // namespace

namespace {

// Steps 2 and 3, inside one ebr::Guard.
Result<std::vector<WalletMatch>> match(detail::WalletSetImpl& s, std::span<const std::vector<std::uint8_t>> scripts) {
    ebr::Guard guard;

    std::vector<Hash160> hashes;
    std::vector<std::size_t> positions;
    hashes.reserve(scripts.size());
    positions.reserve(scripts.size());
    for (std::size_t pos = 0; pos < scripts.size(); ++pos) {
        if (auto h = p2pkh_hash(scripts[pos])) {
            hashes.push_back(*h);
            positions.push_back(pos);
        }
    }
    Matcher m(hashes, positions);
    s.core->index.find_batch(hashes, [&](std::size_t k, const detail::IndexEntry& e) {
        m.hit(positions[k], *e.binding, e.chain(), e.index());
    });
    if (auto w = m.widen(); !w) return std::move(w).error();
    return m.take();
}

}  // namespace

Result<std::vector<WalletMatch>> WalletSet::mark_scripts_used(std::span<const std::vector<std::uint8_t>> scripts) {
    detail::WalletSetImpl& s = *impl_;
    if (auto watched = watch_queued(s); !watched) return std::move(watched).error();
    auto matched = match(s, scripts);
    ebr::collect();  // what the index retired while it grew, now that no guard of ours holds it
    return matched;
}

}  // namespace addrpool
