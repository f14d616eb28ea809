// SharedPool's helpers: registration, derivation ahead, statement plumbing.
#include "pg/shared_pool_impl.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

namespace addrpool::pg {

using namespace detail;

std::string to_hex(const Hash160& h) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(h.size() * 2);
    for (std::uint8_t b : h) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 15]);
    }
    return out;
}

namespace {

// Rows derived and inserted per statement by derive_through: a few hundred
// milliseconds of insert on a loaded machine, far below any sensible
// statement_timeout (the capped batch, 65,536 rows in one statement, took
// 2-10 s here).
constexpr std::int64_t kInsertChunk = 4096;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<KeyIdentity> identity_of(const KeySource& ks) {
    auto pk = ks.account_public_key();
    if (!pk) return std::nullopt;
    return KeyIdentity{pk->fingerprint(), hash160(pk->chain_code())};
}

std::string fingerprint_text(std::uint32_t f) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", f);
    return buf;
}

}  // namespace

bool from_bytea_text(std::string_view text, Hash160& out) {
    return text.size() == 42 && text[0] == '\\' && text[1] == 'x' && from_hex(text.substr(2), out);
}

bool from_hex(std::string_view text, Hash160& out) {
    if (text.size() != out.size() * 2) return false;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
}

Result<void> SharedPool::Impl::register_pool(Conn& conn, const std::string& pool_id, const KeySource& key_source) {
    const std::string path = base_path.to_string();
    const std::string type_s = std::to_string(static_cast<int>(type));
    const std::string net_s = std::to_string(static_cast<int>(network));
    const auto mine = identity_of(key_source);
    if (mine) {
        const std::string fp = std::to_string(mine->fingerprint);
        const std::string cc = "\\x" + to_hex(mine->chain_code_hash);
        const char* params[] = {pool_id.c_str(), path.c_str(), type_s.c_str(), gap_text.c_str(),
                                net_s.c_str(),   fp.c_str(),   cc.c_str()};
        // Waits for a concurrent registration of the same pool_id, then does nothing.
        auto r = conn.exec_once("register pool",
                                "INSERT INTO addrpool_pool (pool_id, base_path, pool_type, gap_limit, network,\n"
                                "                           key_fingerprint, chain_code_hash)\n"
                                "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (pool_id) DO NOTHING",
                                params);
        if (!r) return std::move(r).error();
    }
    const char* id_param[] = {pool_id.c_str()};
    auto r = conn.exec_once("register pool",
                            "SELECT pool, base_path, pool_type, gap_limit, network, key_fingerprint,\n"
                            "       encode(chain_code_hash, 'hex')\n"
                            "  FROM addrpool_pool WHERE pool_id = $1",
                            id_param);
    if (!r) return std::move(r).error();
    if (r->rows() != 1) {
        return make_error(Errc::invalid_argument, "pool '" + pool_id +
                                                      "' does not exist, and a key source without an account key "
                                                      "cannot create it");
    }
    KeyIdentity theirs;
    const auto fp = r->int64(0, 5);
    if (!r->int64(0, 0) || !fp || !from_hex(r->text(0, 6), theirs.chain_code_hash)) return malformed("register pool");
    theirs.fingerprint = static_cast<std::uint32_t>(*fp);
    std::vector<std::string> diffs;
    if (r->text(0, 1) != path) diffs.push_back("base path " + std::string(r->text(0, 1)) + ", not " + path);
    if (r->text(0, 2) != type_s) diffs.push_back("pool type " + std::string(r->text(0, 2)) + ", not " + type_s);
    if (r->text(0, 3) != gap_text) diffs.push_back("gap limit " + std::string(r->text(0, 3)) + ", not " + gap_text);
    if (r->text(0, 4) != net_s) diffs.push_back("network " + std::string(r->text(0, 4)) + ", not " + net_s);
    if (mine && !(*mine == theirs)) {
        diffs.push_back("another account key (fingerprint " + fingerprint_text(theirs.fingerprint) + ", not " +
                        fingerprint_text(mine->fingerprint) +
                        (theirs.fingerprint == mine->fingerprint ? ", and another chain code)" : ")"));
    }
    if (!diffs.empty()) {
        std::string msg = "pool '" + pool_id + "' is registered with ";
        for (std::size_t i = 0; i < diffs.size(); ++i) msg += (i ? "; " : "") + diffs[i];
        return make_error(Errc::invalid_argument, std::move(msg));
    }
    pool_key = std::string(r->text(0, 0));
    identity = theirs;
    return {};
}

Result<void> SharedPool::Impl::derive_through(const KeySource& key_source, std::int64_t db_top, std::int64_t target,
                                              std::uint64_t epoch) {
    addrpool::detail::LockGuard lock(derive_m);
    // relaxed: every write of derive_epoch happens under derive_m, held here.
    const bool others_inserted = derive_epoch.load(std::memory_order_relaxed) != epoch;
    const std::int64_t from = (others_inserted ? std::max(db_top, known_top) : db_top) + 1;
    if (from > target) return {};  // another thread derived them meanwhile
    // A key source with another account key would insert other addresses
    // (ON CONFLICT keeps the table's, so the next index would be wrong).
    if (auto mine = identity_of(key_source); mine && !(*mine == identity)) {
        return make_error(Errc::invalid_argument, "the key source holds another account key than pool's (fingerprint " +
                                                      fingerprint_text(mine->fingerprint) + ", not " +
                                                      fingerprint_text(identity.fingerprint) + ")");
    }
    // In chunks of kInsertChunk rows, each derived and then inserted by one
    // statement: a large batch (up to 65,536 rows) never has to fit into one
    // statement_timeout, and the rows of a chunk are free for hand-outs as
    // soon as it lands. Chunks go in index order, so a chunk that fails
    // leaves no hole: the rows before it stay, and the next round goes on.
    for (std::int64_t begin = from; begin <= target;) {
        // A derivation or backend error after rows landed is the next
        // round's to report: the caller hands out from those rows.
        const auto failed = [&](Error e) -> Result<void> {
            if (begin == from) return e;
            return {};
        };
        const std::int64_t chunk_end = std::min(target + 1, begin + kInsertChunk);
        // The EC math runs here, with no connection leased and no statement
        // open. One bytea in hex form: substring() of a bytea is O(1), of a
        // long text O(offset) in a multi-byte encoding.
        std::string hashes = "\\x";
        hashes.reserve(2 + static_cast<std::size_t>(chunk_end - begin) * 40);
        std::int64_t end = begin;
        std::optional<Error> derive_error;
        for (; end < chunk_end; ++end) {
            auto h = key_source.derive_hash160(type, static_cast<std::uint32_t>(end));
            if (!h) {
                derive_error = std::move(h).error();  // insert what was derived first
                break;
            }
            hashes += to_hex(*h);
        }
        if (end == begin) return failed(std::move(*derive_error));
        const std::string first = std::to_string(begin);
        const std::string count = std::to_string(end - begin);
        auto r = run(insert_derived, {pool_key.c_str(), first.c_str(), hashes.c_str(), count.c_str()});
        if (!r) return failed(std::move(r).error());
        if (r->rows() != 1) return failed(malformed("insert derived"));
        // Reported whether or not earlier chunks landed: no later round
        // would look at these rows again.
        if (r->int64(0, 1).value_or(0) != 0) {
            return make_error(Errc::invalid_argument,
                              "the key source derives other addresses than the pool holds at indices " + first + ".." +
                                  std::to_string(end - 1));
        }
        // The chunk's rows are committed: recorded now, so that nothing
        // thrown by a later chunk (std::bad_alloc) leaves them unrecorded.
        known_top = std::max(known_top, end - 1);
        note_top(end - 1);
        // release: pairs with epoch_now()'s acquire load.
        derive_epoch.fetch_add(1, std::memory_order_release);
        if (derive_error) return {};  // the next round reports it
        begin = end;
    }
    return {};
}

void SharedPool::Impl::refill_after(const KeySource& key_source, std::uint32_t index) noexcept {
    const std::int64_t mark = std::max<std::int64_t>(1, lookahead / 2);
    // relaxed: see frontier_hint.
    if (frontier_hint.load(std::memory_order_relaxed) - std::int64_t{index} >= mark) return;
    // relaxed: the flag only keeps a second refill from starting; everything
    // a refill reads or writes is guarded by derive_m or is the database's.
    if (refilling.test_and_set(std::memory_order_relaxed)) return;
    try {
        const std::uint64_t epoch = epoch_now();
        if (auto f = run(frontier, {pool_key.c_str()}); f && f->rows() == 1) {
            const std::int64_t top = f->int64(0, 0).value_or(-1);
            note_top(top);
            if (top - std::int64_t{index} < mark) {
                const std::int64_t target = std::min<std::int64_t>(std::int64_t{index} + lookahead, kMaxIndex - 1);
                (void)derive_through(key_source, top, target, epoch);
            }
        }
    } catch (...) {  // std::bad_alloc: the next hand-out that needs the rows derives them
    }
    refilling.clear(std::memory_order_relaxed);  // relaxed: as test_and_set above; reached however the refill ended
}

Result<Rows> SharedPool::Impl::run(Stmt s, std::span<const char* const> params) {
    auto lease = conns.acquire();
    if (!lease) return std::move(lease).error();
    return (*lease)->exec(statements()[s], params);
}

Result<bool> SharedPool::Impl::changed(Stmt s, std::initializer_list<const char*> params) {
    auto r = run(s, params);
    if (!r) return std::move(r).error();
    return r->affected() != 0;
}

Error SharedPool::Impl::malformed(std::string_view what) const {
    return make_error(Errc::backend_unavailable,
                      std::string(what) + ": the database's reply does not have the expected shape "
                                          "(was the addrpool schema changed by hand?)");
}

}  // namespace addrpool::pg
