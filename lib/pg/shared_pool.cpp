// SharedPool: the in-process pool's contract, kept by PostgreSQL.
//
// Each call leases a connection and runs one prepared statement
// (lib/pg/schema.cpp); the database's row locks and MVCC do what the slot
// CAS does in lib/pool. What stays here: deriving addresses ahead of the
// hand-out frontier with the caller's KeySource, and the open() checks.
#include "pg/shared_pool_impl.hpp"

#include <algorithm>
#include <limits>

namespace addrpool::pg {

using namespace detail;

namespace {

constexpr std::uint32_t kMaxLookahead = 65536;
constexpr unsigned kMaxConnections = 256;
constexpr std::size_t kMaxPoolIdLength = 200;

std::string index_text(std::uint32_t i) { return std::to_string(i); }

}  // namespace

SharedPool::SharedPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SharedPool::~SharedPool() = default;
SharedPool::SharedPool(SharedPool&&) noexcept = default;
SharedPool& SharedPool::operator=(SharedPool&&) noexcept = default;

Result<SharedPool> SharedPool::open(const std::string& conninfo, const std::string& pool_id, DerivationPath base_path,
                                    PoolType type, std::uint32_t gap_limit, Network network,
                                    const KeySource& key_source, SharedPoolOptions options) {
    if (pool_id.empty() || pool_id.size() > kMaxPoolIdLength) {
        return make_error(Errc::invalid_argument, "pool_id must be 1 to 200 bytes long");
    }
    // libpq takes C strings: "a\0b" would open pool "a".
    if (pool_id.find('\0') != std::string::npos) {
        return make_error(Errc::invalid_argument, "pool_id must not contain a NUL byte");
    }
    if (gap_limit >= kMaxIndex) return make_error(Errc::invalid_argument, "gap_limit must be below 2^31");
    if (options.connections == 0 || options.connections > kMaxConnections) {
        return make_error(Errc::invalid_argument, "options.connections must be 1 to 256");
    }
    if (options.statement_timeout.count() < 1 || options.statement_timeout > std::chrono::hours(24)) {
        return make_error(Errc::invalid_argument, "options.statement_timeout must be 1 ms to 24 h");
    }
    if (options.lookahead > kMaxLookahead) {
        return make_error(Errc::invalid_argument, "options.lookahead must be at most 65536");
    }
    if (auto c = key_source.check_pool(base_path, type, network); !c) return std::move(c).error();

    auto settings = ConnSettings::parse(conninfo, options.statement_timeout);
    if (!settings) return std::move(settings).error();
    auto impl = std::make_unique<Impl>(std::move(*settings), options);
    impl->base_path = std::move(base_path);
    impl->type = type;
    impl->gap_limit = gap_limit;
    impl->network = network;
    impl->policy = options.gap_policy;
    impl->lookahead = std::clamp<std::uint32_t>(options.lookahead != 0 ? options.lookahead : gap_limit, 1, kMaxLookahead);
    impl->batch = std::max<std::uint32_t>(impl->lookahead, options.connections);
    impl->gap_text = std::to_string(gap_limit);

    auto conn = Conn::connect(impl->settings);
    if (!conn) return std::move(conn).error();
    if (auto s = ensure_schema(**conn); !s) return std::move(s).error();
    if (auto r = impl->register_pool(**conn, pool_id, key_source); !r) return std::move(r).error();
    if (auto p = (*conn)->prepare(statements()); !p) return std::move(p).error();
    impl->conns.adopt(std::move(*conn));
    return SharedPool(std::move(impl));
}

// ---- hand-out ---------------------------------------------------------------

Result<Reservation> SharedPool::reserve(const KeySource& key_source, bool add_to_state) {
    Impl& p = *impl_;
    const bool gap = p.policy == GapPolicy::error;
    const char* params[3] = {p.pool_key.c_str(), add_to_state ? "t" : "f", p.gap_text.c_str()};
    for (;;) {
        // reserved_at is the local time the statement leaves: at or before
        // the server's stamp, so reserved_at + ttl is the earliest moment a
        // sweep with that ttl may free the reservation.
        const auto sent = std::chrono::steady_clock::now();
        auto r = p.run(gap ? handout_gap : handout_unbounded, std::span<const char* const>(params, gap ? 3 : 2));
        if (!r) return std::move(r).error();
        if (r->rows() == 1) {
            Hash160 hash{};
            const auto idx = r->int64(0, 0);
            const auto ticket = r->int64(0, 2);
            if (!idx || !ticket || *idx < 0 || *idx >= kMaxIndex || !from_bytea_text(r->text(0, 1), hash)) {
                return p.malformed("hand-out");
            }
            Reservation res{static_cast<std::uint32_t>(*idx), p.address_from(hash), static_cast<std::uint64_t>(*ticket),
                            sent};
            p.refill_after(key_source, res.index);
            return res;
        }
        if (r->rows() != 0) return p.malformed("hand-out");
        // Nothing free (below the bound) that no one else is claiming. Either
        // the derived rows ran out (derive more, then hand out again: each
        // round adds rows, so the rounds end), or the gap window is full.
        const std::uint64_t epoch = p.epoch_now();
        auto f = p.run(frontier, {p.pool_key.c_str()});
        if (!f) return std::move(f).error();
        if (f->rows() != 1) return p.malformed("frontier");
        const std::int64_t top = f->int64(0, 0).value_or(-1);  // highest derived index, -1 for none
        p.note_top(top);
        if (gap) {
            const auto hu = f->int64(0, 1);
            const std::int64_t bound = (hu ? *hu + 1 : 0) + std::int64_t{p.gap_limit};
            if (top + 1 >= bound) {
                return make_error(Errc::gap_limit_reached,
                                  "every index below " + std::to_string(bound) +
                                      " (highest used + 1 + gap limit) is reserved or used");
            }
        }
        if (top + 1 >= kMaxIndex) {
            return make_error(Errc::index_out_of_range, "every index below 2^31 is reserved or used");
        }
        const std::int64_t target = std::min<std::int64_t>(top + p.batch, kMaxIndex - 1);
        if (auto d = p.derive_through(key_source, top, target, epoch); !d) return std::move(d).error();
    }
}

Result<Address> SharedPool::next_unused_and_reserve(const KeySource& key_source, bool add_to_state) {
    auto r = reserve(key_source, add_to_state);
    if (!r) return std::move(r).error();
    return r->address;
}

Result<bool> SharedPool::release_reservation(std::uint32_t index) {
    if (index >= kMaxIndex) return false;
    const std::string i = index_text(index);
    return impl_->changed(release_index, {impl_->pool_key.c_str(), i.c_str()});
}

Result<bool> SharedPool::release_reservation(const Reservation& reservation) {
    if (reservation.index >= kMaxIndex ||
        reservation.ticket > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return false;  // never a ticket of this pool
    }
    const std::string i = index_text(reservation.index);
    const std::string t = std::to_string(reservation.ticket);
    return impl_->changed(release_ticket, {impl_->pool_key.c_str(), i.c_str(), t.c_str()});
}

Result<std::size_t> SharedPool::sweep_expired_reservations(std::chrono::nanoseconds ttl) {
    // Rounded up to whole microseconds (the server's resolution), so a
    // reservation is never freed before it is ttl old.
    // Unsigned: ttl near nanoseconds::max() must not overflow.
    const auto ns = static_cast<std::uint64_t>(ttl.count());
    const std::uint64_t us = ttl.count() <= 0 ? 0 : ns / 1000 + (ns % 1000 != 0 ? 1 : 0);
    const std::string t = std::to_string(us);
    auto r = impl_->run(sweep, {impl_->pool_key.c_str(), t.c_str()});
    if (!r) return std::move(r).error();
    return static_cast<std::size_t>(r->affected());
}

// ---- sync side --------------------------------------------------------------

Result<bool> SharedPool::mark_index_used(std::uint32_t index) {
    if (index >= kMaxIndex) return false;
    const std::string i = index_text(index);
    return impl_->changed(mark_index, {impl_->pool_key.c_str(), i.c_str()});
}

Result<bool> SharedPool::mark_used(const Address& address) {
    if (address.kind() != AddressKind::p2pkh || !same_encoding(address.network(), impl_->network)) return false;
    const std::string h = "\\x" + to_hex(address.hash160());
    return impl_->changed(mark_hash, {impl_->pool_key.c_str(), h.c_str()});
}

// ---- queries ----------------------------------------------------------------

Result<AddressState> SharedPool::state(std::uint32_t index) {
    if (index >= kMaxIndex) return AddressState::unused;
    const std::string i = index_text(index);
    auto r = impl_->run(state_of, {impl_->pool_key.c_str(), i.c_str()});
    if (!r) return std::move(r).error();
    if (r->rows() == 0) return AddressState::unused;
    const auto s = r->int64(0, 0);
    if (!s || *s < kUnused || *s > kUsed) return impl_->malformed("state");
    return static_cast<AddressState>(*s);
}

Result<std::uint32_t> SharedPool::scan_window_end() {
    auto r = impl_->run(window, {impl_->pool_key.c_str()});
    if (!r) return std::move(r).error();
    if (r->rows() != 1) return impl_->malformed("scan_window_end");
    const std::int64_t hu = r->int64(0, 0).value_or(-1);
    const std::int64_t hr = r->int64(0, 1).value_or(-1);
    const std::int64_t end = std::max(hu, hr) + 1 + std::int64_t{impl_->gap_limit};
    return static_cast<std::uint32_t>(std::min<std::int64_t>(end, kMaxIndex));
}

Result<PoolStats> SharedPool::stats() {
    auto r = impl_->run(Stmt::stats, {impl_->pool_key.c_str()});
    if (!r) return std::move(r).error();
    if (r->rows() != 1) return impl_->malformed("stats");
    const auto count = [&](int col) { return static_cast<std::uint32_t>(r->int64(0, col).value_or(0)); };
    const auto highest = [&](int col) -> std::optional<std::uint32_t> {
        auto v = r->int64(0, col);
        if (!v) return std::nullopt;
        return static_cast<std::uint32_t>(*v);
    };
    PoolStats s;
    s.generated = count(0);
    s.used = count(1);
    s.reserved = count(2);
    s.unused = count(3);
    s.highest_used = highest(4);
    s.highest_reserved = highest(5);
    s.highest_generated = highest(6);
    s.gap_limit = impl_->gap_limit;
    return s;
}

}  // namespace addrpool::pg
