// The lock-free address pool: lifecycle, the clock, hand-out, release,
// sweep, used marks and restored reservations. The protocols live in their
// own headers — slot.hpp (state word), free_index.hpp (where the lowest
// free index is), announce.hpp (sweep announcement), used_prefix.hpp — and
// compose in handout.hpp and sweep.hpp, which this file instantiates with
// the pool's environment. Queries and whole-pool operations are in
// queries.cpp, derivation in derivation.cpp. docs/design.md carries the
// long-form argument.
#include "pool/derivation.hpp"
#include "pool/handout.hpp"
#include "pool/pool_impl.hpp"
#include "pool/sweep.hpp"

#include <time.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>

namespace addrpool {

using detail::kMaxIndex;
using detail::Slot;
namespace slot = detail::slot;
namespace free_index = detail::free_index;

// ===========================================================================
// Impl: lifecycle, hot block, clock, tickets, publication
// ===========================================================================

namespace {

// The pool's epoch lies this long before its creation, so that a hand-out
// restored at start-up can carry its real age (restore_reservation): stamps
// count from the epoch and cannot be negative. 2^38 ms is 8.7 years; the
// 40-bit stamp saturates 26 years after the pool's creation.
constexpr std::chrono::milliseconds kEpochBefore{std::int64_t{1} << 38};

std::uint64_t random_nonce() {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
}

std::int64_t coarse_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// How far CLOCK_MONOTONIC_COARSE may lag behind CLOCK_MONOTONIC.
std::int64_t coarse_resolution_ns() noexcept {
    static const std::int64_t res = [] {
        timespec ts{};
        if (::clock_getres(CLOCK_MONOTONIC_COARSE, &ts) != 0) return std::int64_t{10'000'000};
        return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
    }();
    return res;
}

std::uint64_t ceil_ms(std::int64_t ns) noexcept {
    if (ns <= 0) return 0;
    // ns < 2^63: the sum cannot wrap.
    return (static_cast<std::uint64_t>(ns) + 999'999) / 1'000'000;
}

}  // namespace

AddressPool::Impl::Impl(DerivationPath base_path_, PoolType type_, std::uint32_t gap_limit_, Network network_,
                        PoolOptions options_)
    : base_path(std::move(base_path_)),
      type(type_),
      gap_limit(gap_limit_),
      network(network_),
      options(std::move(options_)),
      lookahead(std::min(options.lookahead != 0 ? options.lookahead : gap_limit_, max_lookahead)),
      refill_margin(lookahead != 0 ? std::int64_t{1} + lookahead / 2 : std::numeric_limits<std::int64_t>::min()),
      epoch((options.clock ? options.clock() : std::chrono::steady_clock::now()) - kEpochBefore),
      nonce(random_nonce()),
      coarse_offset_ns(coarse_resolution_ns() -
                       std::chrono::duration_cast<std::chrono::nanoseconds>(epoch.time_since_epoch()).count()) {}

AddressPool::Impl::~Impl() {
    // relaxed: no concurrent users in a destructor.
    delete hot_ptr.load(boost::memory_order_relaxed);
    delete lookup_ptr.load(boost::memory_order_relaxed);
    delete sink_ptr.load(boost::memory_order_relaxed);
    delete bound_key.load(boost::memory_order_relaxed);       // relaxed: as above
    delete labels_ptr.load(boost::memory_order_relaxed);      // relaxed: as above
    delete save_order_ptr.load(boost::memory_order_relaxed);  // relaxed: as above
}

namespace {
// (K1)/(K2): made by the first thread that needs it; a thread that loses the
// race frees its copy and uses the winner's.
template <class T>
T& make_once(boost::atomic<T*>& slot_ptr) {
    T* cur = slot_ptr.load(boost::memory_order_acquire);  // (K1) acquire: pairs with (K2)
    if (cur != nullptr) return *cur;
    auto* fresh = new T();
    // (K2) acq_rel: release publishes the constructed object; acquire on
    // failure adopts the winner's.
    if (slot_ptr.compare_exchange_strong(cur, fresh, boost::memory_order_acq_rel, boost::memory_order_acquire)) {
        return *fresh;
    }
    delete fresh;
    return *cur;
}
}  // namespace

detail::Hot& AddressPool::Impl::make_hot() { return make_once(hot_ptr); }
detail::LookupIndex& AddressPool::Impl::lookup() { return make_once(lookup_ptr); }
AddressPool::Impl::Labels& AddressPool::Impl::labels() { return make_once(labels_ptr); }
detail::SaveOrder& AddressPool::Impl::save_order() { return make_once(save_order_ptr); }

namespace {
// A stamp from PoolOptions::clock (out of line: the hand-out's common path
// is the default clock).
[[gnu::noinline]] std::uint64_t option_clock_stamp(const AddressPool::Impl& p) {
    return ceil_ms(std::chrono::duration_cast<std::chrono::nanoseconds>(p.options.clock() - p.epoch).count());
}
}  // namespace

std::uint64_t AddressPool::Impl::stamp_ms() const {
    if (options.clock) [[unlikely]] return option_clock_stamp(*this);
    // The coarse clock lags the monotonic clock by at most its resolution:
    // adding it (coarse_offset_ns) keeps every stamp at or after the true
    // time of the hand-out, so a reservation is never freed before it is ttl old.
    return ceil_ms(coarse_ns() + coarse_offset_ns);
}

std::uint64_t AddressPool::Impl::now_ms_floor() const {
    const auto now = options.clock ? options.clock() : std::chrono::steady_clock::now();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - epoch).count();
    return ns <= 0 ? 0 : static_cast<std::uint64_t>(ns) / 1'000'000;
}

std::uint64_t AddressPool::Impl::now_ms_ceil() const {
    const auto now = options.clock ? options.clock() : std::chrono::steady_clock::now();
    const std::uint64_t fine = ceil_ms(std::chrono::duration_cast<std::chrono::nanoseconds>(now - epoch).count());
    // With the default clock, stamps run ahead of the fine clock by up to the
    // coarse resolution: every stamp taken before this call is <= this.
    return options.clock ? fine : std::max(fine, stamp_ms());
}

std::uint64_t AddressPool::Impl::ticket_tag(std::uint32_t i) const noexcept {
    // nonce's high 43 bits XOR (i · an odd constant) mod 2^43: distinct
    // indices get distinct tags within a pool (multiplication by an odd
    // number is a bijection mod 2^43, and i < 2^31), and another pool's (or
    // a reloaded pool's) nonce gives every index another tag but by chance.
    constexpr std::uint64_t kTagMask = (std::uint64_t{1} << slot::kTagBits) - 1;
    return ((nonce >> slot::kGenBits) ^ (std::uint64_t{i} * 0x9e3779b97f4a7c15ull)) & kTagMask;
}

void AddressPool::Impl::raise(boost::atomic<std::uint32_t>& counter, std::uint32_t v) noexcept {
    // (T1) acq_rel: release pairs with the acquire loads of touched_end in
    // scans (T2), so a scan bounded by the new value also sees the block and
    // publication this thread made before raising it.
    std::uint32_t cur = counter.load(boost::memory_order_relaxed);  // relaxed: the CAS re-validates
    while (cur < v && !counter.compare_exchange_weak(cur, v, boost::memory_order_acq_rel, boost::memory_order_relaxed)) {
    }
}

void AddressPool::Impl::publish(std::uint32_t i, const Hash160& h) {
    detail::Hot& hb = hot();
    const Slot s = hb.slots.ensure(i);
    raise(hb.touched_end, i + 1);  // before any claim of i can make its word non-zero
    if (s.derived()) return;       // (D3) already published by someone
    // Every deriver of i stores the same bytes and registers the same entry,
    // so no writer needs electing and no deriver returns before its index is
    // fully published: registered (the sink or the lookup index) before
    // kDerived, so whoever sees kDerived can look the address up.
    s.store_hash(h);
    detail::IndexSink* sink = sink_or_null();  // (I2)
    if (sink != nullptr) sink->insert(h, i);   // idempotent
    else lookup().insert(h, i);                 // idempotent
    // (I3) seq_cst fence: pairs with backfill_sink's. What this thread wrote
    // or read before it to reach slot i (the block pointer, the line's
    // touched bit, touched_end) is then seen by a backfill whose attach (I1)
    // the re-check below misses: those are relaxed or acquire/release
    // accesses, which the seq_cst pairing of (D2) and (I1)/(I2) alone does
    // not order against the backfill's walk.
    boost::atomic_thread_fence(boost::memory_order_seq_cst);
    // (D2) release: publishes the hash stored above to every (D3) that sees
    // kDerived. seq_cst: also the write of the Dekker pair with
    // attach_sink's scan (I1), before the re-check below.
    s.meta().fetch_or(Slot::kDerived, boost::memory_order_seq_cst);
    // A sink attached after we looked (and whose backfill may have read our
    // slot before kDerived): register there too.
    if (sink == nullptr) {
        if (detail::IndexSink* late = sink_or_null()) late->insert(h, i);  // (I2)
    }
}

void AddressPool::Impl::attach_sink(std::unique_ptr<detail::IndexSink> sink) noexcept {
    detail::IndexSink* expected = nullptr;
    // (I1) seq_cst: the write of the Dekker pair with publish(): either a
    // deriver's re-check (I2) after its kDerived sees the sink, or the scan
    // of backfill_sink(), after this CAS, sees its kDerived — each entry
    // reaches the sink.
    if (!sink_ptr.compare_exchange_strong(expected, sink.get(), boost::memory_order_seq_cst,
                                          boost::memory_order_seq_cst)) {
        std::abort();  // attached twice: a caller bug (lib/wallet attaches once per pool)
    }
    (void)sink.release();  // owned by the pool from here (~Impl)
}

void AddressPool::Impl::backfill_sink() const {
    // The sink's attach (I1) happened before this call: in this thread, or
    // (a retry) in one whose add released the set's writer mutex we hold now.
    detail::IndexSink* k = sink_or_null();
    if (k == nullptr) std::abort();  // a caller bug: no sink attached
    // (I3) seq_cst fence: pairs with publish()'s. A publisher whose re-check
    // (I2) came before our attach (I1) in the seq_cst order fenced before it:
    // the walk below reads touched_end, the block pointers and the touched
    // bits at least as new as that publisher saw them, so it reaches the slot.
    boost::atomic_thread_fence(boost::memory_order_seq_cst);
    const detail::Hot* h = hot_or_null();
    if (h == nullptr) return;
    const std::uint32_t end = h->touched_end.load(boost::memory_order_acquire);  // (T2) acquire: pairs with (T1)
    h->slots.for_each(0, end, [&](std::uint32_t i, const Slot& s) {
        // seq_cst: the read of the Dekker pair with publish()'s (D2).
        if (s.meta().load(boost::memory_order_seq_cst) & Slot::kDerived) k->insert(s.load_hash(), i);
    });
}

// ===========================================================================
// The environments of the hand-out and sweep loops (handout.hpp, sweep.hpp)
// ===========================================================================

namespace {

using detail::Hot;
using Impl = AddressPool::Impl;

struct PoolEnv {
    using Geometry = detail::FreeGeometry;
    using FreePolicy = free_index::Sound;
    using AnnouncePolicy = detail::announce::Checked;
    using PrefixPolicy = detail::used_prefix::Sound;
    using ClaimPolicy = slot::CasClaim;

    Impl& p;
    Hot& h;
    detail::SlotArray::FreeStore st;

    PoolEnv(Impl& pool, Hot& hot) : p(pool), h(hot), st(hot.free_store()) {}
    detail::SlotArray::FreeStore& store() { return st; }
    detail::AtomicWord& sweep_now() { return h.sweep_now; }
    detail::AtomicWord& prefix() { return h.used_prefix; }
    detail::AtomicWord& slot(std::uint32_t i) { return h.slots.find(i)->word; }
};

struct HandoutEnv : PoolEnv {
    const KeySource& ks;
    // The slot last looked up: prepare() (a frontier index) or candidate()
    // (a free bit) finds the slot, the claim then uses it, and reserve()
    // reads its hash — one lookup, not three.
    // The claim's last slot(i) is for the index it returns, so reserve()
    // takes `last` as it is.
    std::optional<Slot> last;
    std::uint32_t last_index = kMaxIndex;  // no index: `last` is not set
    HandoutEnv(Impl& pool, Hot& hot, const KeySource& key_source) : PoolEnv(pool, hot), ks(key_source) {}

    // `block`: i's block if the caller has it (data null: look it up).
    const Slot& slot_of(std::uint32_t i, const detail::SlotArray::Block& block = {nullptr, 0, 0}) {
        if (last_index != i) {
            last.emplace(block.data != nullptr ? detail::SlotArray::slot_of(block, i) : *h.slots.find(i));
            last_index = i;
            last->prefetch_info();  // the hash reserve() returns if this claim succeeds
        }
        return *last;
    }
    detail::AtomicWord& slot(std::uint32_t i) { return slot_of(i).word; }
    // Before the take (F3) and its clears: the hash's load overlaps them.
    // The free index looked b's block up already (unless b < 512).
    void candidate(std::uint32_t b, const detail::SlotArray::FreeStore::Path& where) { slot_of(b, where.block); }

    std::uint64_t now_ms() const { return p.stamp_ms(); }
    static std::uint64_t index_limit() { return kMaxIndex; }
    bool within_gap(std::uint32_t i) const {
        if (p.options.gap_policy != GapPolicy::error) return true;
        // relaxed: used_end only grows (between resets), so a stale value only
        // makes this check stricter, never lets an index through early.
        return std::uint64_t{i} < std::uint64_t{h.used_end.load(boost::memory_order_relaxed)} + p.gap_limit;
    }
    // The frontier index is claimable once derived; deriving it takes time.
    Result<bool> prepare(std::uint32_t f) {
        const std::optional<Slot> s = h.slots.find(f);
        if (s && s->derived()) {  // (D3)
            last.emplace(*s);
            last_index = f;
            return true;
        }
        auto hash = detail::hash_at(p, ks, f);  // slow path: EC math, or waiting for another deriver
        if (!hash) return std::move(hash).error();
        return false;
    }
    Error gap_error(std::uint32_t i) const {
        return make_error(Errc::gap_limit_reached, "index " + std::to_string(i) +
                                                       " is outside the gap window (gap limit " +
                                                       std::to_string(p.gap_limit) + ")");
    }
    static Error full_error() {
        return make_error(Errc::index_out_of_range, "every index below 2^31 is used or reserved");
    }
    static void on_token_spent(std::uint32_t, bool) noexcept {}
    static void on_lost(std::uint32_t, std::uint32_t) noexcept {}
};

struct SweepEnv : PoolEnv {
    using PoolEnv::PoolEnv;
    template <class F>
    void for_each_slot(std::uint32_t from, F&& visit) {
        const std::uint32_t end = h.touched_end.load(boost::memory_order_acquire);  // (T2) acquire: pairs with (T1)
        h.slots.for_each(from, end, [&](std::uint32_t i, const Slot& s) { visit(i, s.word); });
    }
    static void on_announced() noexcept {}
    static void on_freed(std::uint32_t, slot::Word) noexcept {}
};

// A release: `release` (S2 or S3) on index i's slot word; if it freed the
// slot, makes i findable: parked in the spare, or its free bits (F7). One
// block lookup serves both. Inlined into the releases (a call cost 5
// instructions a churn step).
template <class Release>
[[gnu::always_inline]] inline bool release_and_free(const Impl& p, std::uint32_t i, Release release) {
    Hot* h = p.hot_or_null();
    if (h == nullptr) return false;  // nothing was ever reserved
    const detail::SlotArray::Block b = h->slots.block_of(i);
    if (b.data == nullptr) return false;  // never allocated (or i >= 2^31): never reserved
    if (!release(detail::SlotArray::slot_of(b, i).word)) return false;
    auto st = h->free_store();
    free_index::mark_released<detail::FreeGeometry>(st, i, [&] { return st.at(i, b); });
    return true;
}

}  // namespace

// ===========================================================================
// AddressPool: lifecycle and configuration
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

// ===========================================================================
// Hand-out
// ===========================================================================

Result<Reservation> AddressPool::reserve(const KeySource& key_source, bool add_to_state) {
    Impl& p = *impl_;
    Hot& h = p.hot();
    HandoutEnv env(p, h, key_source);
    // Before the clock is read: a bounded batch of derivations, if due.
    const std::uint64_t f = free_index::frontier(env.store());  // (F0), for the refill and the claim's first round
    detail::maybe_refill(p, h, key_source, f);
    auto c = detail::handout::claim(env, add_to_state, &f);
    if (!c) return std::move(c).error();
    const Slot& s = *env.last;  // the slot of the claim's last env.slot(i): c->index
    if (!s.derived()) std::abort();  // (D3): every claimable index is published first; a pool bug otherwise
    return Reservation{c->index, p.address_from(s.load_hash()), p.ticket(c->index, c->gen), p.time_of(c->stamp)};
}

Result<Address> AddressPool::next_unused_and_reserve(const KeySource& key_source, bool add_to_state) {
    auto r = reserve(key_source, add_to_state);
    if (!r) return std::move(r).error();
    return std::move(r->address);
}

Result<Reservation> AddressPool::restore_reservation(std::uint32_t index, std::chrono::nanoseconds age,
                                                     const KeySource& key_source) {
    Impl& p = *impl_;
    if (index >= kMaxIndex) {
        return make_error(Errc::index_out_of_range, "index " + std::to_string(index) + " is not below 2^31");
    }
    auto hash = detail::hash_at(p, key_source, index);  // derives and publishes it if needed
    if (!hash) return std::move(hash).error();
    Hot& h = p.hot();
    const std::uint64_t age_ms = age.count() <= 0 ? 0 : static_cast<std::uint64_t>(age.count()) / 1'000'000;
    const std::uint64_t now = p.now_ms_floor();
    const std::uint64_t stamp = now > age_ms ? now - age_ms : 0;
    detail::AtomicWord& word = h.slots.find(index)->word;
    slot::Word w = slot::load(word);
    // (S1) from Unused only. No (C2) settle: the reservation is meant to look
    // `age` old, and a sweep with ttl <= age may free it at once.
    while (slot::is_unused(w)) {
        if (slot::try_claim(word, w, stamp, /*materialize=*/true)) {
            const std::uint32_t g = slot::next_gen(slot::gen(w));
            return Reservation{index, p.address_from(*hash), p.ticket(index, g), p.time_of(stamp)};
        }
    }
    return make_error(Errc::index_unavailable, "index " + std::to_string(index) + " is already " +
                                                   (slot::is_used(w) ? "used" : "reserved"));
}

// ===========================================================================
// Release and sweep
// ===========================================================================

bool AddressPool::release_reservation(std::uint32_t index) {
    return release_and_free(*impl_, index, [](detail::AtomicWord& w) { return slot::release(w); });  // (S2)
}

bool AddressPool::release_reservation(const Reservation& reservation) {
    const Impl& p = *impl_;
    if (reservation.index >= kMaxIndex || slot::ticket_tag(reservation.ticket) != p.ticket_tag(reservation.index)) {
        return false;  // a ticket of another index, another pool, or this pool before a reload
    }
    const std::uint32_t gen = slot::ticket_gen(reservation.ticket);
    return release_and_free(p, reservation.index,
                                 [gen](detail::AtomicWord& w) { return slot::release_ticket(w, gen); });  // (S3)
}

std::size_t AddressPool::sweep_expired_reservations(std::chrono::nanoseconds ttl) {
    Impl& p = *impl_;
    Hot* h = p.hot_or_null();
    if (h == nullptr) return 0;  // nothing was ever reserved
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
    SweepEnv env(p, *h);
    return detail::sweep::run(env, now, ttl_ms);
}

// ===========================================================================
// Used marks
// ===========================================================================

bool AddressPool::mark_index_used(std::uint32_t index) {
    const std::optional<Slot> s = impl_->find_slot(index);
    // Materializing needs the address: every known slot has it published.
    if (!s || !s->derived()) return false;
    if (!slot::mark_used(s->word, /*require_known=*/true)) return false;  // (S5)
    Impl::raise(impl_->hot_or_null()->used_end, index + 1);
    return true;
}

Result<bool> AddressPool::mark_index_used(std::uint32_t index, const KeySource& key_source) {
    Impl& p = *impl_;
    if (index >= kMaxIndex) {
        return make_error(Errc::index_out_of_range, "index " + std::to_string(index) + " is not below 2^31");
    }
    auto hash = detail::hash_at(p, key_source, index);  // derives and publishes it if needed
    if (!hash) return std::move(hash).error();
    Hot& h = p.hot();
    const bool changed = slot::mark_used(h.slots.find(index)->word, /*require_known=*/false);  // (S5)
    if (changed) Impl::raise(h.used_end, index + 1);
    return changed;
}

bool AddressPool::mark_used(const Address& address) {
    // Any derived index (generated or reserved): mark_index_used refuses the rest.
    auto i = detail::derived_index_of(*impl_, address);
    return i && mark_index_used(*i);
}

bool AddressPool::mark_script_used(std::span<const std::uint8_t> script_pubkey) {
    auto a = Address::from_script(script_pubkey, impl_->network);
    return a && mark_used(*a);
}

}  // namespace addrpool
