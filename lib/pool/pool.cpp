// The lock-free address pool. The slot state machine is in slot.hpp, the
// cursor hint protocol (H1)–(H3) in hint.hpp; this file is the segmented
// array, derivation/lookahead and the whole-pool operations. docs/design.md
// carries the long-form argument.
//
// Atomic operations on shared cursors are numbered (H1)–(H3), (T1)/(T2),
// (D2)/(D3), (R1)/(R2), (A1)/(A2), (C0)/(C2) and each names its partner.
#include "pool/pool_impl.hpp"

#include "keys/crypto.hpp"
#include "pool/hint.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>

namespace addrpool {

using detail::Slot;
using detail::kMaxIndex;
namespace slot = detail::slot;
namespace hint = detail::hint;

// ===========================================================================
// Segmented slot array and lookup index
// ===========================================================================

namespace detail {

SlotArray::~SlotArray() {
    for (auto& seg : segments_) delete[] seg.load(boost::memory_order_relaxed);  // relaxed: no concurrent users in a destructor
}

Slot& SlotArray::ensure(std::uint32_t i) {
    if (i >= kMaxIndex) std::abort();  // a caller bug: every index is checked against 2^31 first
    const unsigned k = segment_of(i);
    // (A1) acquire: pairs with (A2), so a segment seen is fully initialized.
    Slot* seg = segments_[k].load(boost::memory_order_acquire);
    if (seg == nullptr) {
        Slot* fresh = new Slot[segment_size(k)];  // every word 0 = unused; may throw bad_alloc (nothing published)
        Slot* expected = nullptr;
        // (A2) release: publishes the initialized segment to (A1) and find();
        // acquire on failure: we adopt the winner's segment and read its slots.
        if (segments_[k].compare_exchange_strong(expected, fresh, boost::memory_order_acq_rel,
                                                 boost::memory_order_acquire)) {
            seg = fresh;
        } else {
            delete[] fresh;
            seg = expected;
        }
    }
    return seg[position(k, i - segment_base(k))];
}

void LookupIndex::insert(const Hash160& h, std::uint32_t index) {
    Shard& s = shard(h);
    LockGuard lock(s.mutex);
    s.map.emplace(h, index);
}

std::optional<std::uint32_t> LookupIndex::find(const Hash160& h) const {
    Shard& s = shard(h);
    LockGuard lock(s.mutex);
    auto it = s.map.find(h);
    if (it == s.map.end()) return std::nullopt;
    return it->second;
}

void LookupIndex::clear() {
    for (auto& s : shards_) {
        LockGuard lock(s.mutex);
        s.map.clear();
    }
}

}  // namespace detail

// ===========================================================================
// AddressPool::Impl helpers
// ===========================================================================

AddressPool::Impl::Impl(DerivationPath base_path_, PoolType type_, std::uint32_t gap_limit_, Network network_,
                        PoolOptions options_)
    : base_path(std::move(base_path_)),
      type(type_),
      gap_limit(gap_limit_),
      network(network_),
      options(std::move(options_)),
      lookahead(std::min(options.lookahead != 0 ? options.lookahead : gap_limit_, detail::kMaxLookahead)) {
    epoch = options.clock ? options.clock() : std::chrono::steady_clock::now();
}

namespace {
std::chrono::nanoseconds since(const AddressPool::Impl& p) {
    const auto now = p.options.clock ? p.options.clock() : std::chrono::steady_clock::now();
    const auto d = std::chrono::duration_cast<std::chrono::nanoseconds>(now - p.epoch);
    return d.count() < 0 ? std::chrono::nanoseconds(0) : d;
}
}  // namespace

std::uint64_t AddressPool::Impl::now_ms_floor() const {
    return static_cast<std::uint64_t>(since(*this).count() / 1'000'000);
}

std::uint64_t AddressPool::Impl::now_ms_ceil() const {
    const auto ns = static_cast<std::uint64_t>(since(*this).count());
    return ns / 1'000'000 + (ns % 1'000'000 != 0 ? 1 : 0);  // no overflow near the top of the range
}

void AddressPool::Impl::raise(boost::atomic<std::uint32_t>& counter, std::uint32_t v) noexcept {
    // (T1) acq_rel: release pairs with the acquire loads of touched_end in
    // scans (T2), so a scan bounded by the new value also sees the segment and
    // publication this thread made before raising it. (used_end is read
    // relaxed: it is only a bound, see outside_gap().)
    std::uint32_t cur = counter.load(boost::memory_order_relaxed);  // relaxed: the CAS re-validates
    while (cur < v && !counter.compare_exchange_weak(cur, v, boost::memory_order_acq_rel, boost::memory_order_relaxed)) {
    }
}

// (H2), lib/hint.hpp: after a slot transition to unused (S2/S3/S4/S8).
void AddressPool::Impl::lower_hint(std::uint32_t i) noexcept { hint::lower(this->hint, i); }

void AddressPool::Impl::publish(std::uint32_t i, const Hash160& h) {
    Slot& s = slots.ensure(i);
    raise(touched_end, i + 1);  // before any claim of i can make its word non-zero
    if (s.derived()) return;    // (D3) already published by someone
    // Every deriver of i stores the same bytes and registers the same entry,
    // so no writer needs electing and no deriver returns before its index is
    // fully published.
    s.store_hash(h);
    lookup.insert(h, i);  // idempotent
    // (D2) release: publishes the hash stored above to every (D3) that sees kDerived.
    s.meta.fetch_or(Slot::kDerived, boost::memory_order_release);
}

void detail::LookupIndex::reserve(std::size_t n) {
    for (auto& sh : shards_) {
        LockGuard lock(sh.mutex);
        sh.map.reserve(n / kShards + 1);
    }
}

namespace {

// The hash of a published slot, if any.
std::optional<Hash160> published_hash(const Slot* s) {
    if (s == nullptr || !s->derived()) return std::nullopt;
    return s->load_hash();
}

// The lowest derived index, if any (used to check a key source against a loaded pool).
std::optional<std::uint32_t> first_derived(const AddressPool::Impl& p) {
    const std::uint32_t end = p.touched_end.load(boost::memory_order_acquire);  // (T2) acquire: pairs with (T1)
    for (std::uint32_t i = 0; i < end; ++i) {
        if (published_hash(p.slots.find(i))) return i;
    }
    return std::nullopt;
}

}  // namespace

// ===========================================================================
// Derivation (slow path) and the hand-out scan
// ===========================================================================

namespace {

using Impl = AddressPool::Impl;

// Binds the pool to the first key source it derives with (public key and
// chain code), and refuses a different account key afterwards: mixing keys
// would publish addresses of another wallet under this pool's indices.
Result<void> check_account(Impl& p, const KeySource& ks) {
    const ExtendedPubKey account = *ks.account_public_key();
    const std::pair<PubKeyBytes, ChainCode> key{account.public_key(), account.chain_code()};
    detail::LockGuard lock(p.account_mutex);
    if (p.account_key) {
        if (*p.account_key == key) return {};
        return make_error(Errc::invalid_argument, "the key source holds a different account key than this pool's");
    }
    // A pool loaded from a file has hashes but no key: check one of them.
    if (auto i = first_derived(p)) {
        auto h = ks.derive_hash160(p.type, *i);
        if (!h) return std::move(h).error();
        if (*h != *published_hash(p.slots.find(*i))) {
            return make_error(Errc::invalid_argument,
                              "the key source does not derive this pool's addresses (index " + std::to_string(*i) + ")");
        }
    }
    p.account_key = key;
    return {};
}

// Derives index i if no other thread is deriving it. Returns its hash when
// it is (or was already) published, nullopt when another thread holds
// kDeriving for it, or an error (then kDeriving is left clear for others).
Result<std::optional<Hash160>> derive_if_free(Impl& p, const KeySource& ks, std::uint32_t i) {
    if (!ks.can_derive()) {
        return make_error(Errc::no_key_source, "index " + std::to_string(i) +
                                                   " is not derived yet and the key source cannot derive");
    }
    if (p.type == PoolType::absent_hardened && ks.is_watch_only()) {
        return make_error(Errc::hardened_from_public, "an absent_hardened pool needs a private key source");
    }
    if (auto ok = check_account(p, ks); !ok) return std::move(ok).error();
    Slot& s = p.slots.ensure(i);
    if (s.derived()) return std::optional<Hash160>(s.load_hash());  // (D3)
    // relaxed: kDeriving only elects who computes; the result is published by (D2).
    const std::uint32_t prior = s.meta.fetch_or(Slot::kDeriving, boost::memory_order_relaxed);
    if (prior & Slot::kDeriving) {
        if (s.derived()) return std::optional<Hash160>(s.load_hash());  // (D3)
        return std::optional<Hash160>();  // busy: someone else computes it
    }
    // Ours. If anything below fails (an invalid child, bad_alloc), give the
    // index back so a waiter can derive it.
    struct GiveBack {
        Slot& slot;
        bool armed = true;
        ~GiveBack() {
            // relaxed: as the fetch_or above.
            if (armed) slot.meta.fetch_and(~Slot::kDeriving, boost::memory_order_relaxed);
        }
    } give_back{s};
    auto h = ks.derive_hash160(p.type, i);
    if (!h) return std::move(h).error();
    p.publish(i, *h);
    give_back.armed = false;  // kDerived is set: kDeriving may stay
    return std::optional<Hash160>(*h);
}

// While another thread derives `busy`, derive one index ahead of it that
// nobody derives yet (so two threads never compute the same key and the
// waiter's time is not lost). False if there was nothing to do.
bool help_ahead(Impl& p, const KeySource& ks, std::uint32_t busy) {
    const std::uint64_t end = std::min<std::uint64_t>(std::uint64_t{busy} + 1 + std::max(p.lookahead, 1u) + 4, kMaxIndex);
    for (std::uint64_t j = std::uint64_t{busy} + 1; j < end; ++j) {
        const auto jj = static_cast<std::uint32_t>(j);
        const Slot* s = p.slots.find(jj);
        if (s != nullptr && (s->derived() ||
                             (s->meta.load(boost::memory_order_relaxed) & Slot::kDeriving))) {  // relaxed: a hint
            continue;
        }
        auto r = derive_if_free(p, ks, jj);
        if (!r) return false;
        if (*r) return true;
    }
    return false;
}

// The hash of index i, derived by this thread or, if another thread is
// deriving it right now, by that one (this thread helps ahead meanwhile).
Result<Hash160> derive_index(Impl& p, const KeySource& ks, std::uint32_t i) {
    for (;;) {
        auto r = derive_if_free(p, ks, i);
        if (!r) return std::move(r).error();
        if (*r) return **r;
        if (!help_ahead(p, ks, i)) std::this_thread::yield();
    }
}

// The hash of index i, deriving and publishing it if needed.
Result<Hash160> hash_at(Impl& p, const KeySource& ks, std::uint32_t i) {
    if (auto h = published_hash(p.slots.find(i))) return *h;
    return derive_index(p, ks, i);
}

Error gap_error(const Impl& p, std::uint32_t i) {
    return make_error(Errc::gap_limit_reached, "index " + std::to_string(i) + " is outside the gap window (gap limit " +
                                                   std::to_string(p.gap_limit) + ")");
}

bool outside_gap(const Impl& p, std::uint32_t i) {
    if (p.options.gap_policy != GapPolicy::error) return false;
    // relaxed: used_end only grows (between resets), so a stale value only
    // makes this check stricter, never lets an index through early.
    const std::uint64_t bound = std::uint64_t{p.used_end.load(boost::memory_order_relaxed)} + p.gap_limit;
    return i >= bound;
}

// Positions at the first unused index >= i, deriving it if needed. On
// success `w` holds the word seen (unused) and `hash` its address hash.
Result<Slot*> find_unused(Impl& p, const KeySource& ks, std::uint32_t& i, slot::Word& w, Hash160& hash) {
    for (;; ++i) {
        if (i >= kMaxIndex) {
            return make_error(Errc::index_out_of_range, "every index below 2^31 is used or reserved");
        }
        Slot* s = p.slots.find(i);
        w = s ? slot::load(s->word) : 0;
        if (!slot::is_unused(w)) continue;
        if (outside_gap(p, i)) return gap_error(p, i);
        if (auto h = published_hash(s)) {
            hash = *h;
            return s;
        }
        auto h = derive_index(p, ks, i);  // slow path: EC math
        if (!h) return std::move(h).error();
        hash = *h;
        s = p.slots.find(i);
        w = slot::load(s->word);
        if (slot::is_unused(w)) return s;
    }
}

// After a claim of index i: if fewer than lookahead/2 derived indices are
// left ahead, the one thread that wins `refilling` derives the next batch.
// Best effort and noexcept: it runs after the caller's claim succeeded, so a
// failure (an invalid child, out of memory) must neither undo nor fail the
// hand-out; a later hand-out derives what is missing itself.
bool maybe_refill(Impl& p, const KeySource& ks, std::uint32_t i) noexcept {
    if (p.lookahead == 0 || !ks.can_derive()) return false;
    // relaxed: only a trigger; the refiller re-reads it after (R1).
    const std::uint64_t have = p.derived_end.load(boost::memory_order_relaxed);
    if (std::uint64_t{i} + 1 + p.lookahead / 2 < have) return false;
    // (R1) acquire: pairs with (R2) of the previous refiller, so we see its derived_end.
    if (p.refilling.exchange(true, boost::memory_order_acquire)) return false;
    const std::uint32_t from = std::max(p.derived_end.load(boost::memory_order_relaxed), i + 1);
    const std::uint32_t to =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{i} + 1 + p.lookahead, kMaxIndex));
    std::uint32_t j = from;
    try {
        for (; j < to; ++j) {
            if (published_hash(p.slots.find(j))) continue;
            if (!derive_if_free(p, ks, j)) break;  // busy (someone else derives j) is fine: go on
        }
    } catch (...) {  // std::bad_alloc: stop here, the hand-out already succeeded
    }
    // relaxed: read only by refill triggers, ordered by (R1)/(R2).
    p.derived_end.store(std::max(j, p.derived_end.load(boost::memory_order_relaxed)), boost::memory_order_relaxed);
    // (R2) release: pairs with (R1).
    p.refilling.store(false, boost::memory_order_release);
    return true;
}

struct Claimed {
    std::uint32_t index;
    std::uint64_t ticket;
    Hash160 hash;
    std::uint64_t stamp_ms;
};

Result<Claimed> claim(Impl& p, const KeySource& ks, bool add_to_state) {
    for (;;) {  // restarts only if a sweep freed our claim before we could return it (C2)
        const hint::Word h0 = hint::start(p.hint);  // (H1), lib/hint.hpp
        std::uint32_t i = hint::index(h0);
        bool lost = false;
        for (; !lost; ++i) {
            slot::Word w = 0;
            Hash160 hash;
            auto found = find_unused(p, ks, i, w, hash);
            if (!found) return std::move(found).error();
            Slot* s = *found;
            // The reservation's time: read now, after any derivation or wait
            // in find_unused, right before the claim.
            std::uint64_t stamp = p.now_ms_ceil();
            for (;;) {
                if (slot::try_claim(s->word, w, stamp, add_to_state)) break;
                if (!slot::is_unused(w)) break;  // taken by another thread: try the next index
                // still unused (only its G bit changed): retry the same index
            }
            if (!slot::is_unused(w)) continue;
            // Claimed (try_claim left `w` at the unused word it replaced).
            const std::uint32_t g = slot::next_gen(slot::gen(w));
            // (H3): past i, only if no slot became unused since h0.
            hint::advance(p.hint, h0, i);
            // The refill (if this thread wins it) runs before the checks below,
            // so that nothing slow sits between them and the return.
            if (maybe_refill(p, ks, i)) {
                // The batch took time: stamp the reservation with the time it
                // is really handed out. (S1') is seq_cst: it is then the write
                // of the Dekker pair below, like the claim (S1) otherwise.
                const std::uint64_t fresh = p.now_ms_ceil();
                if (fresh > stamp) {
                    if (!slot::restamp(s->word, g, fresh)) {
                        lost = true;  // freed (by a sweep) while we refilled: start over
                        continue;
                    }
                    stamp = fresh;
                }
            }
            // (C2), lib/slot.hpp: a sweep that announced a reading after our
            // stamp might take our reservation for an old one: re-stamp it
            // (again, while sweeps keep announcing) before returning it.
            if (!slot::settle_stamp(p.sweep_now, s->word, g, stamp, [&p] { return p.now_ms_ceil(); })) {
                lost = true;  // a sweep freed it first; we returned nothing, so start over
                continue;
            }
            return Claimed{i, slot::make_ticket(g, i), hash, stamp};
        }
    }
}

}  // namespace

// ===========================================================================
// AddressPool
// ===========================================================================

AddressPool::AddressPool(DerivationPath base_path, PoolType type, std::uint32_t gap_limit, Network network,
                         PoolOptions options)
    : impl_(std::make_unique<Impl>(std::move(base_path), type, gap_limit, network, std::move(options))) {}

AddressPool::AddressPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AddressPool::~AddressPool() = default;
AddressPool::AddressPool(AddressPool&&) noexcept = default;
AddressPool& AddressPool::operator=(AddressPool&&) noexcept = default;

Network AddressPool::network() const noexcept { return impl_->network; }
PoolType AddressPool::type() const noexcept { return impl_->type; }
std::uint32_t AddressPool::gap_limit() const noexcept { return impl_->gap_limit; }
const DerivationPath& AddressPool::base_path() const noexcept { return impl_->base_path; }
AddressFormat AddressPool::format() const noexcept { return impl_->options.format; }

Result<Reservation> AddressPool::reserve(const KeySource& key_source, bool add_to_state) {
    auto c = claim(*impl_, key_source, add_to_state);
    if (!c) return std::move(c).error();
    return Reservation{c->index, impl_->address_from(c->hash), c->ticket,
                       impl_->epoch + std::chrono::milliseconds(c->stamp_ms)};
}

Result<Address> AddressPool::next_unused_and_reserve(const KeySource& key_source, bool add_to_state) {
    auto c = claim(*impl_, key_source, add_to_state);
    if (!c) return std::move(c).error();
    return impl_->address_from(c->hash);
}

bool AddressPool::release_reservation(std::uint32_t index) {
    Slot* s = impl_->slots.find(index);
    if (s == nullptr || !slot::release(s->word)) return false;
    impl_->lower_hint(index);
    return true;
}

bool AddressPool::release_reservation(const Reservation& reservation) {
    if (slot::ticket_index(reservation.ticket) != reservation.index) return false;
    Slot* s = impl_->slots.find(reservation.index);
    if (s == nullptr || !slot::release_ticket(s->word, slot::ticket_gen(reservation.ticket))) return false;
    impl_->lower_hint(reservation.index);
    return true;
}

std::size_t AddressPool::sweep_expired_reservations(std::chrono::nanoseconds ttl) {
    Impl& p = *impl_;
    // Stamps are rounded up and `now` down, so a reservation is never freed
    // before it is ttl old. ttl <= 0 means "everything taken before this
    // sweep read the clock": compare against `now` rounded up instead (a
    // reservation taken in that same millisecond may be freed too).
    const bool everything = ttl.count() <= 0;
    // Clamped like the stamps (slot::kStampMax): a saturated stamp must not
    // look old to a reading beyond the stamp range.
    const std::uint64_t now = std::min(everything ? p.now_ms_ceil() : p.now_ms_floor(), slot::kStampMax);
    const auto ttl_ns = static_cast<std::uint64_t>(everything ? 0 : ttl.count());
    const std::uint64_t ttl_ms = ttl_ns / 1'000'000 + (ttl_ns % 1'000'000 != 0 ? 1 : 0);  // rounded up, no overflow
    slot::announce_sweep(p.sweep_now, now);  // (C0), lib/slot.hpp: before scanning
    const std::uint32_t end = p.touched_end.load(boost::memory_order_acquire);  // (T2) acquire: pairs with (T1)
    // relaxed: a lower bound, raised below only by CAS within the same reset epoch.
    const std::uint64_t prefix_word = p.used_prefix.load(boost::memory_order_relaxed);
    std::uint32_t i = static_cast<std::uint32_t>(prefix_word);
    // Skip (and remember) the run of used indices at the bottom: they never
    // change again until reset_usage, so later sweeps start above them.
    bool prefix = true;
    std::size_t freed = 0;
    std::uint32_t lowest_freed = kMaxIndex;
    for (; i < end; ++i) {
        Slot* s = p.slots.find(i);
        const slot::Word w = s ? slot::load_for_sweep(s->word) : 0;  // (S9)
        if (prefix) {
            if (slot::is_used(w)) {
                // Raise the bound only within the epoch we read: a reset_usage
                // since then (new epoch) may have freed these indices.
                std::uint64_t cur = prefix_word;
                // relaxed: the bound carries no data; its CAS orders nothing else.
                while ((cur >> 32) == (prefix_word >> 32) && static_cast<std::uint32_t>(cur) < i + 1 &&
                       !p.used_prefix.compare_exchange_weak(cur, (cur & ~std::uint64_t{0xffffffff}) | (i + 1),
                                                            boost::memory_order_relaxed, boost::memory_order_relaxed)) {
                }
                continue;
            }
            prefix = false;
        }
        if (!slot::is_reserved(w) || slot::stamp(w) + ttl_ms > now) continue;
        if (slot::sweep_one(s->word, w)) {
            ++freed;
            lowest_freed = std::min(lowest_freed, i);
        }
    }
    // One hint update for the whole sweep: a hand-out that moved the hint
    // past a freed index meanwhile is undone by the min, and the version
    // bump stops any that started before it (H2).
    if (freed != 0) p.lower_hint(lowest_freed);
    return freed;
}

bool AddressPool::mark_index_used(std::uint32_t index) {
    Slot* s = impl_->slots.find(index);
    if (s == nullptr) return false;
    // Materializing needs the address: every known slot has it published.
    if (!published_hash(s)) return false;
    if (!slot::mark_used(s->word, /*require_known=*/true)) return false;
    Impl::raise(impl_->used_end, index + 1);
    return true;
}

bool AddressPool::mark_used(const Address& address) {
    if (address.kind() != AddressKind::p2pkh || !same_encoding(address.network(), impl_->network)) return false;
    auto i = impl_->lookup.find(address.hash160());
    return i && mark_index_used(*i);
}

bool AddressPool::mark_script_used(std::span<const std::uint8_t> script_pubkey) {
    auto a = Address::from_script(script_pubkey, impl_->network);
    return a && mark_used(*a);
}

AddressState AddressPool::state(std::uint32_t index) const {
    const Slot* s = impl_->slots.find(index);
    const slot::Word w = s ? slot::load(s->word) : 0;
    return static_cast<AddressState>(slot::state(w));
}

std::optional<Address> AddressPool::address_at(std::uint32_t index) const {
    const Slot* s = impl_->slots.find(index);
    if (s == nullptr || !slot::is_generated(slot::load(s->word))) return std::nullopt;
    auto h = published_hash(s);
    if (!h) return std::nullopt;
    return impl_->address_from(*h);
}

std::optional<std::uint32_t> AddressPool::index_of(const Address& address) const {
    if (address.kind() != AddressKind::p2pkh || !same_encoding(address.network(), impl_->network)) return std::nullopt;
    auto i = impl_->lookup.find(address.hash160());
    if (!i) return std::nullopt;
    const Slot* s = impl_->slots.find(*i);
    if (s == nullptr || !slot::is_generated(slot::load(s->word))) return std::nullopt;
    return i;
}

std::optional<std::uint32_t> AddressPool::index_of_script(std::span<const std::uint8_t> script_pubkey) const {
    auto a = Address::from_script(script_pubkey, impl_->network);
    if (!a) return std::nullopt;
    return index_of(*a);
}

DerivationPath AddressPool::path_of(std::uint32_t index) const {
    return impl_->base_path.child(impl_->type == PoolType::absent_hardened ? (index | hardened_bit) : index);
}

namespace {

// The highest index at or above `floor` that is reserved or used, scanning
// down from the top (so a mark whose used_end raise is still pending counts).
// The highest index at or above `floor` whose word satisfies `pred`,
// scanning down from the top of the touched range.
template <class Pred>
std::optional<std::uint32_t> highest_where(const Impl& p, std::uint32_t floor, Pred pred) {
    std::uint32_t i = p.touched_end.load(boost::memory_order_acquire);  // (T2) acquire: pairs with (T1)
    while (i > floor) {
        --i;
        const Slot* s = p.slots.find(i);
        if (s != nullptr && pred(slot::load(s->word))) return i;
    }
    return std::nullopt;
}

std::optional<std::uint32_t> highest_taken_above(const Impl& p, std::uint32_t floor) {
    return highest_where(p, floor, [](slot::Word w) { return !slot::is_unused(w); });
}

// max(highest used, highest reserved) + 1, or 0 when neither exists.
std::uint32_t taken_end(const Impl& p) {
    // relaxed: a lower bound for the scan; the scan reads the slots themselves.
    const std::uint32_t used_end = p.used_end.load(boost::memory_order_relaxed);
    const auto top = highest_taken_above(p, used_end);
    return top ? *top + 1 : used_end;
}

std::uint32_t window_end(const Impl& p) {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{taken_end(p)} + p.gap_limit, kMaxIndex));
}

template <class Pred>
std::vector<Address> collect(const Impl& p, Pred pred) {
    std::vector<Address> out;
    const std::uint32_t end = p.touched_end.load(boost::memory_order_acquire);  // (T2) acquire: pairs with (T1)
    for (std::uint32_t i = 0; i < end; ++i) {
        const Slot* s = p.slots.find(i);
        if (s == nullptr) continue;
        const slot::Word w = slot::load(s->word);
        if (!slot::is_generated(w) || !pred(w)) continue;
        if (auto h = published_hash(s)) out.push_back(p.address_from(*h));
    }
    return out;
}

}  // namespace

std::uint32_t AddressPool::scan_window_end() const { return window_end(*impl_); }

PoolStats AddressPool::stats() const {
    const Impl& p = *impl_;
    PoolStats st;
    st.gap_limit = p.gap_limit;
    const std::uint32_t end = p.touched_end.load(boost::memory_order_acquire);  // (T2) acquire: pairs with (T1)
    for (std::uint32_t i = 0; i < end; ++i) {
        const Slot* s = p.slots.find(i);
        if (s == nullptr) continue;
        const slot::Word w = slot::load(s->word);
        const bool g = slot::is_generated(w);
        if (g) {
            ++st.generated;
            st.highest_generated = i;
        }
        if (slot::is_used(w)) {
            ++st.used;
            st.highest_used = i;
        } else if (slot::is_reserved(w)) {
            ++st.reserved;
            st.highest_reserved = i;
        } else if (g) {
            ++st.unused;
        }
    }
    return st;
}

Result<Address> AddressPool::next_unused(const KeySource& key_source, bool add_to_state) {
    Impl& p = *impl_;
    std::uint32_t i = hint::index(hint::start(p.hint));  // (H1) as in claim()
    for (;; ++i) {
        slot::Word w = 0;
        Hash160 hash;
        auto found = find_unused(p, key_source, i, w, hash);
        if (!found) return std::move(found).error();
        // materialize() is false when the entry was generated already or
        // stopped being unused; only the latter sends us to the next index.
        if (add_to_state && !slot::materialize((*found)->word, /*only_if_unused=*/true) &&
            !slot::is_unused(slot::load((*found)->word))) {
            continue;
        }
        return p.address_from(hash);
    }
}

Result<std::vector<Address>> AddressPool::next_unused_multiple(std::size_t count, const KeySource& key_source,
                                                               bool add_to_state) {
    if (count > (std::size_t{1} << 20)) return make_error(Errc::invalid_argument, "count is above 2^20");
    Impl& p = *impl_;
    std::vector<std::pair<Slot*, Hash160>> picked;
    picked.reserve(count);
    std::uint32_t i = hint::index(hint::start(p.hint));  // (H1) as in claim()
    for (; picked.size() < count; ++i) {
        slot::Word w = 0;
        Hash160 hash;
        auto found = find_unused(p, key_source, i, w, hash);
        if (!found) return std::move(found).error();
        picked.emplace_back(*found, hash);
    }
    std::vector<Address> out;
    out.reserve(count);
    for (auto& [s, hash] : picked) {
        if (add_to_state) (void)slot::materialize(s->word, /*only_if_unused=*/true);
        out.push_back(p.address_from(hash));
    }
    return out;
}

namespace {

// Derives [from, to) (without materializing); fails without side effects
// visible in the durable state.
Result<std::vector<Hash160>> derive_range(Impl& p, const KeySource& ks, std::uint32_t from, std::uint32_t to) {
    std::vector<Hash160> hashes;
    hashes.reserve(to - from);
    for (std::uint32_t j = from; j < to; ++j) {
        auto h = hash_at(p, ks, j);
        if (!h) return std::move(h).error();
        hashes.push_back(*h);
    }
    return hashes;
}

}  // namespace

Result<std::vector<Address>> AddressPool::generate_addresses(std::uint32_t count, const KeySource& key_source,
                                                             bool add_to_state) {
    if (count > (1u << 20)) return make_error(Errc::invalid_argument, "count is above 2^20");
    Impl& p = *impl_;
    // One past the highest generated index (not a full stats() pass).
    const auto top = highest_where(p, 0, [](slot::Word w) { return slot::is_generated(w); });
    const std::uint32_t from = top ? *top + 1 : 0;
    if (std::uint64_t{from} + count > kMaxIndex) {
        return make_error(Errc::index_out_of_range, "generating that many would pass index 2^31");
    }
    auto hashes = derive_range(p, key_source, from, from + count);
    if (!hashes) return std::move(hashes).error();
    std::vector<Address> out;
    out.reserve(count);
    for (std::uint32_t k = 0; k < count; ++k) {
        if (add_to_state) (void)slot::materialize(p.slots.ensure(from + k).word, /*only_if_unused=*/false);
        out.push_back(p.address_from((*hashes)[k]));
    }
    return out;
}

Result<std::vector<Address>> AddressPool::maintain_gap_limit(const KeySource& key_source) {
    Impl& p = *impl_;
    const std::uint32_t end = window_end(p);
    // Derive everything first, so a failure leaves the durable state alone.
    auto hashes = derive_range(p, key_source, 0, end);
    if (!hashes) return std::move(hashes).error();
    std::vector<Address> added;
    for (std::uint32_t j = 0; j < end; ++j) {
        if (slot::materialize(p.slots.ensure(j).word, /*only_if_unused=*/false)) {
            added.push_back(p.address_from((*hashes)[j]));
        }
    }
    return added;
}

std::vector<Address> AddressPool::all_addresses() const {
    return collect(*impl_, [](slot::Word) { return true; });
}
std::vector<Address> AddressPool::used_addresses() const {
    return collect(*impl_, [](slot::Word w) { return slot::is_used(w); });
}
std::vector<Address> AddressPool::unused_addresses() const {
    return collect(*impl_, [](slot::Word w) { return slot::is_unused(w); });
}

bool AddressPool::set_label(const Address& address, std::string text) {
    auto i = index_of(address);
    if (!i) return false;
    detail::LockGuard lock(impl_->label_mutex);
    impl_->labels[*i] = std::move(text);
    return true;
}

std::optional<std::string> AddressPool::label(const Address& address) const {
    auto i = index_of(address);
    if (!i) return std::nullopt;
    detail::LockGuard lock(impl_->label_mutex);
    auto it = impl_->labels.find(*i);
    if (it == impl_->labels.end()) return std::nullopt;
    return it->second;
}

std::uint32_t AddressPool::prune_unused() {
    Impl& p = *impl_;
    const std::uint32_t from = taken_end(p);
    const std::uint32_t end = p.touched_end.load(boost::memory_order_acquire);  // (T2) acquire: pairs with (T1)
    std::uint32_t dropped = 0;
    for (std::uint32_t i = from; i < end; ++i) {
        Slot* s = p.slots.find(i);
        if (s != nullptr && slot::unmaterialize_unused(s->word)) ++dropped;
    }
    return dropped;
}

void AddressPool::reset_usage() {
    Impl& p = *impl_;
    const std::uint32_t end = p.touched_end.load(boost::memory_order_acquire);  // (T2) acquire: pairs with (T1)
    for (std::uint32_t i = 0; i < end; ++i) {
        if (Slot* s = p.slots.find(i)) (void)slot::reset(s->word);
    }
    // relaxed: reset_usage is documented as not concurrent with marks; the
    // hint below is published with release (H2).
    p.used_end.store(0, boost::memory_order_relaxed);
    // New epoch, bound 0: a sweep that read the old epoch can no longer raise it.
    std::uint64_t cur = p.used_prefix.load(boost::memory_order_relaxed);  // relaxed: the CAS re-validates
    while (!p.used_prefix.compare_exchange_weak(cur, ((cur >> 32) + 1) << 32, boost::memory_order_relaxed,
                                                boost::memory_order_relaxed)) {
    }
    p.lower_hint(0);
}

}  // namespace addrpool
