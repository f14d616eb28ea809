// Internal: deriving a pool's addresses — off the hand-out's hot path.
//
// Who computes: the first thread to set a slot's kDeriving (a relaxed
// fetch_or) derives that index; one that finds it set does not compute the
// same key again — while it waits for kDerived it derives indices ahead that
// nobody derives (help_ahead), and yields only when there is nothing left to
// help with. A deriver that fails (an invalid child, out of memory) clears
// kDeriving again, so a waiter takes over.
//
// Publication (D2)/(D3): the deriver stores the hash, registers it in the
// lookup index and sets kDerived with a release fetch_or; readers load meta
// with acquire before reading the hash. An index is fully published before
// any thread can claim and return it.
//
// Lookahead (R1)/(R2): a hand-out that finds fewer than lookahead/2 derived
// indices ahead of the frontier, and wins the refill flag, derives the next
// at most kRefillBatch of them before it reads the clock and claims — so no
// hand-out waits for more than a bounded batch, and its stamp is not aged by
// the refill.
#ifndef ADDRPOOL_LIB_POOL_DERIVATION_HPP
#define ADDRPOOL_LIB_POOL_DERIVATION_HPP

#include "pool/pool_impl.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace addrpool::detail {

using Impl = AddressPool::Impl;

// Derivations one refilling hand-out does at most.
inline constexpr std::uint32_t kRefillBatch = 32;

// Binds the pool to the first key source it derives with — after checking
// that the pool's base path, type and network agree with it
// (KeySource::check_pool) — and refuses another account key afterwards
// (invalid_argument): mixing keys would publish another wallet's addresses
// under this pool's indices. A pool loaded from a file re-derives one stored
// entry to check the first key source. Lock-free once bound (a load and a
// compare); the first binding derives one key for a loaded pool.
Result<void> check_account(Impl& p, const KeySource& ks);

// The hash of index i: published already, or derived by this thread, or —
// if another thread is deriving it right now — by that one (this thread
// helps ahead meanwhile). Errors: no_key_source, hardened_from_public,
// invalid_child, invalid_argument (another account's key), index_out_of_range.
Result<Hash160> hash_at(Impl& p, const KeySource& ks, std::uint32_t i);

// True if index i is published (derived): a hand-out may claim it without a key.
bool is_derived(const Impl& p, std::uint32_t i) noexcept;

// The derived index holding this address (format ignored: a pool's P2PKH and
// platform renderings of one key are one entry), or nullopt. Blocking (a
// lookup shard mutex).
std::optional<std::uint32_t> derived_index_of(const Impl& p, const Address& address);
std::optional<std::uint32_t> derived_index_of(const Impl& p, const Hash160& h);

// Before a hand-out reads its clock: if fewer than lookahead/2 derived
// indices are left above `frontier` and this thread wins the refill flag,
// derive up to kRefillBatch of them. Best effort and noexcept: a failure (no
// key, an invalid child, out of memory) leaves the rest to later hand-outs,
// which derive what they need themselves.
void refill(Impl& p, const KeySource& ks, std::uint64_t frontier) noexcept;
inline void maybe_refill(Impl& p, const Hot& h, const KeySource& ks, std::uint64_t frontier) noexcept {
    // relaxed: only a trigger; the refiller re-reads it after (R1).
    const std::uint64_t have = h.derived_end.load(boost::memory_order_relaxed);
    // frontier + 1 + lookahead / 2 >= have, with both below 2^32 (no overflow).
    if (static_cast<std::int64_t>(have - frontier) <= p.refill_margin) refill(p, ks, frontier);
}

// The hashes of [from, to), in order, deriving what is missing — on
// options.derive_threads threads (0 = hardware concurrency) when the range
// is large. Fails without side effects visible in the durable state (indices
// derived before a failure stay derived, not generated).
Result<std::vector<Hash160>> derive_range(Impl& p, const KeySource& ks, std::uint32_t from, std::uint32_t to);

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_POOL_DERIVATION_HPP
