// WalletSet::save and WalletSet::load: a directory of pool files plus a
// manifest (manifest.hpp).
//
// Save, under the set's save mutex:
//   1. Read the directory's manifest. The save is incremental when it is the
//      one this set wrote there last (same set id and generation, same
//      directory); otherwise every pool is written.
//   2. For each registered account and chain: a digest of the pool's durable
//      state (generated entries with their used flags, labels); a pool whose
//      digest differs from its last saved one (or every pool, if not
//      incremental) is serialized into a new file named with this save's
//      generation: temporary, fsync, rename. No file the current manifest
//      names is touched.
//   3. One fsync of the directory, then the new manifest through
//      atomic_file::write_file (temporary, fsync, rename over the old one,
//      directory fsync): the commit point.
//   4. Only then the set's bookkeeping moves to the new generation, and pool
//      files (and temporaries of killed saves) that the new manifest does not
//      name are removed (also by a save that had nothing to write).
// A crash before the manifest's rename leaves the old manifest, whose files
// are all still there (whole: each was renamed into place after its fsync);
// after it, the new manifest, whose files were fsynced and their names made
// durable before it. Either way `load` reads one whole set.
//
// The digest and the file come from one snapshot of the pool (its entries,
// then its labels), so the digest a save records is always that of the file
// it wrote: a pool whose state comes back to a recorded digest (a mark,
// reset_usage, the same mark again) is skipped only when its file holds that
// state.
#include "wallet/ebr.hpp"
#include "wallet/manifest.hpp"
#include "wallet/set_impl.hpp"

#include "keys/crypto.hpp"
#include "persist/atomic_file.hpp"
#include "persist/bridge.hpp"
#include "pool/durable.hpp"
#include "pool/pool_impl.hpp"

#include <unistd.h>

#include <cstring>
#include <random>
#include <set>
#include <system_error>

namespace addrpool {

using detail::LockGuard;
using detail::Node;
using detail::PoolAccess;
using detail::WalletAccess;
namespace ebr = detail::ebr;
namespace manifest = detail::manifest;
namespace fs = std::filesystem;

namespace {

// One snapshot of a pool's durable state.
struct PoolSnapshot {
    std::vector<detail::DurableEntry> entries;
    detail::DurableLabels labels;
    explicit PoolSnapshot(const AddressPool& pool)
        : entries(detail::durable_entries(PoolAccess::impl(pool))),
          labels(detail::durable_labels(PoolAccess::impl(pool))) {}
};

// SHA-256 (first 8 bytes) of a snapshot but the hashes, which follow from
// the indices.
std::uint64_t pool_digest(const PoolSnapshot& snap) {
    const auto& entries = snap.entries;
    const auto& labels = snap.labels;
    std::string bytes;
    bytes.reserve(entries.size() * 5 + 16);
    auto put32 = [&](std::uint32_t v) {
        std::uint8_t b[4];
        detail::put_be32(b, v);
        bytes.append(reinterpret_cast<const char*>(b), 4);
    };
    put32(static_cast<std::uint32_t>(entries.size()));
    for (const auto& e : entries) {
        put32(e.index);
        bytes += e.used ? '\1' : '\0';
    }
    put32(static_cast<std::uint32_t>(labels.size()));
    for (const auto& [i, text] : labels) {
        put32(i);
        put32(static_cast<std::uint32_t>(text.size()));
        bytes += text;
    }
    const detail::Bytes32 sum = detail::sha256({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    std::uint64_t d;
    std::memcpy(&d, sum.data(), sizeof d);
    return d;
}

std::string dir_key(const fs::path& dir) {
    std::error_code ec;
    const fs::path c = fs::weakly_canonical(dir, ec);
    return ec ? fs::absolute(dir, ec).lexically_normal().string() : c.string();
}

std::uint64_t random_id() {
    std::random_device rd;
    std::uint64_t v = 0;
    while (v == 0) v = (std::uint64_t{rd()} << 32) ^ rd();
    return v;
}

Error with_context(std::string context, Error e) {
    e.message = context + ": " + e.message;
    return e;
}

// One registration, as a save sees it.
struct Entry {
    std::shared_ptr<Account> acct;
    std::uint64_t id;
    manifest::Account record;
    detail::SavedAccount saved;  // what it will be after this save
};

// Removes what no manifest names any more. Best effort.
void remove_unnamed(const fs::path& dir, const std::set<std::string>& named) noexcept {
    try {
        std::error_code ec;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (manifest::is_pool_file_or_temporary(name) && named.count(name) == 0) {
                std::error_code rm;
                fs::remove(it->path(), rm);
            }
        }
    } catch (...) {  // std::bad_alloc: the next save tries again
    }
}

}  // namespace

Result<std::size_t> WalletSet::save(const fs::path& dir) {
    detail::WalletSetImpl& s = *impl_;
    LockGuard lock(s.save_mutex);
    // A directory this save creates is made durable with it.
    if (auto made = detail::atomic_file::create_directories(dir); !made) return std::move(made).error();
    const std::string key = dir_key(dir);
    const fs::path manifest_path = dir / manifest::kFileName;

    // 1. What the directory holds.
    std::optional<manifest::Manifest> current;
    if (auto text = detail::atomic_file::read_file(manifest_path)) {
        if (auto m = manifest::parse(*text)) current = std::move(*m);
    }
    // No committed save here yet: the directory's own entry is made durable
    // now (an earlier save may have created it and failed before its
    // parent's fsync).
    if (!current) {
        if (auto synced = detail::atomic_file::sync_directory_entry(dir); !synced) return std::move(synced).error();
    }
    if (s.set_id == 0) s.set_id = random_id();
    const bool incremental = current && current->set_id == s.set_id && current->generation == s.saved_generation &&
                             key == s.saved_dir;
    const std::uint64_t gen = std::max(current ? current->generation : 0, s.saved_generation) + 1;
    std::uint64_t next_file_id = std::max(current ? current->next_file_id : 1, s.next_file_id);
    if (gen >= manifest::kCounterLimit) {
        return make_error(Errc::inconsistent_data, "the manifest's generation is at its limit: save to a new directory");
    }
    // 2. The registrations and their count of changes, as one pair: add and
    // remove change both under `writer`. (A count read apart from the
    // snapshot could call a snapshot without a just-removed account
    // "unchanged", and the clean-up below would then delete files the
    // manifest on disk still names.)
    std::vector<Entry> entries;
    std::uint64_t changes;
    {
        LockGuard registry_writers(s.writer);
        ebr::Guard guard;
        // relaxed: written under `writer`, which we hold.
        changes = s.changes.load(boost::memory_order_relaxed);
        entries.reserve(size());
        s.registry.for_each([&](const Node& n) {
            entries.push_back(Entry{n.acct, n.id, manifest::Account{n.wallet, n.account, 0, {}}, {}});
        });
    }
    if (next_file_id + entries.size() >= manifest::kCounterLimit) {
        return make_error(Errc::inconsistent_data, "the manifest's file ids are at their limit: save to a new directory");
    }
    // Then the changed pools.
    std::size_t written = 0;
    std::optional<detail::atomic_file::PendingFile> last;
    for (Entry& e : entries) {
        if (auto it = s.saved.find(e.id); it != s.saved.end()) e.saved = it->second;
        if (e.saved.file_id == 0) e.saved.file_id = next_file_id++;
        next_file_id = std::max(next_file_id, e.saved.file_id + 1);
        if (!incremental) e.saved.gen = {0, 0};  // this directory gets every pool
        for (unsigned c = 0; c < detail::kChains; ++c) {
            const AddressPool& pool = WalletAccess::pool(*e.acct, c);
            PoolSnapshot snap(pool);
            const std::uint64_t digest = pool_digest(snap);
            if (e.saved.gen[c] != 0 && digest == e.saved.digest[c]) continue;
            const fs::path file = dir / manifest::pool_file(e.saved.file_id, c, gen);
            auto pending = detail::atomic_file::PendingFile::create(
                file, detail::serialize_snapshot(pool, std::move(snap.entries), std::move(snap.labels)));
            if (!pending) return std::move(pending).error();
            if (auto renamed = pending->rename_over_target(); !renamed) return std::move(renamed).error();
            last.emplace(std::move(*pending));
            e.saved.gen[c] = gen;
            e.saved.digest[c] = digest;
            ++written;
        }
        e.record.file_id = e.saved.file_id;
        e.record.gen = e.saved.gen;
    }
    std::set<std::string> named;
    for (const Entry& e : entries) {
        for (unsigned c = 0; c < detail::kChains; ++c) named.insert(manifest::pool_file(e.record.file_id, c, e.record.gen[c]));
    }
    if (incremental && written == 0 && changes == s.saved_changes) {
        // What killed saves left behind; never a file the manifest on disk
        // names (the same set here, but the commit point decides).
        for (const manifest::Account& a : current->accounts) {
            for (unsigned c = 0; c < detail::kChains; ++c) named.insert(manifest::pool_file(a.file_id, c, a.gen[c]));
        }
        remove_unnamed(dir, named);
        return std::size_t{0};
    }

    // 3. The pool files' names durable, then the manifest: the commit point.
    if (last) {
        if (auto synced = last->sync_directory(); !synced) {
            return with_context("the new pool files (the manifest is not written)", std::move(synced).error());
        }
    }
    manifest::Manifest m{s.set_id, gen, next_file_id, {}};
    m.accounts.reserve(entries.size());
    for (const Entry& e : entries) m.accounts.push_back(e.record);
    if (auto w = detail::atomic_file::write_file(manifest_path, manifest::encode(m)); !w) {
        return with_context("manifest", std::move(w).error());
    }

    // 4. Committed.
    s.saved.clear();  // only the registrations this manifest lists
    for (const Entry& e : entries) s.saved.emplace(e.id, e.saved);
    s.saved_dir = key;
    s.saved_generation = gen;
    s.saved_changes = changes;
    s.next_file_id = next_file_id;
    remove_unnamed(dir, named);
    return written;
}

namespace {

// The account of a manifest record from its two pool files.
Result<std::shared_ptr<Account>> load_account(const fs::path& dir, const manifest::Account& r,
                                              const std::function<KeySource(std::string_view, std::uint32_t)>& keys,
                                              const PoolOptions& options) {
    const std::string who = "wallet \"" + r.wallet + "\" account " + std::to_string(r.account);
    std::optional<AddressPool> pools[detail::kChains];
    for (unsigned c = 0; c < detail::kChains; ++c) {
        const fs::path file = dir / manifest::pool_file(r.file_id, c, r.gen[c]);
        auto p = AddressPool::load(file, options);
        if (!p) return with_context(who + ", " + file.filename().string(), std::move(p).error());
        pools[c].emplace(std::move(*p));
    }
    AddressPool& ext = *pools[0];
    AddressPool& in = *pools[1];
    const auto& path = ext.base_path().components();
    const bool paired = ext.type() == PoolType::external && in.type() == PoolType::internal &&
                        ext.network() == in.network() && ext.gap_limit() == in.gap_limit() && !path.empty() &&
                        path.back() == 0 && in.base_path().components().size() == path.size() &&
                        std::equal(path.begin(), path.end() - 1, in.base_path().components().begin()) &&
                        in.base_path().components().back() == 1;
    if (!paired) {
        return make_error(Errc::inconsistent_data, who + ": its two pool files are not the external and internal "
                                                         "chains of one account");
    }
    KeySource ks = keys(r.wallet, r.account);
    for (unsigned c = 0; c < detail::kChains; ++c) {
        const AddressPool& p = *pools[c];
        if (auto ok = ks.check_pool(p.base_path(), p.type(), p.network()); !ok) {
            return with_context(who, std::move(ok).error());
        }
    }
    return WalletAccess::make(std::move(ks), std::move(ext), std::move(in));
}

}  // namespace

Result<WalletSet> WalletSet::load(const fs::path& dir,
                                  std::function<KeySource(std::string_view wallet, std::uint32_t account)> keys,
                                  PoolOptions options) {
    if (!keys) return make_error(Errc::invalid_argument, "no key callback");
    const fs::path manifest_path = dir / manifest::kFileName;
    auto text = detail::atomic_file::read_file(manifest_path);
    if (!text) return std::move(text).error();
    auto m = manifest::parse(*text);
    if (!m) return with_context("'" + manifest_path.string() + "'", std::move(m).error());
    WalletSet set;
    detail::WalletSetImpl& s = *set.impl_;
    for (const manifest::Account& r : m->accounts) {
        auto acct = load_account(dir, r, keys, options);
        if (!acct) return std::move(acct).error();
        detail::SavedAccount saved{r.file_id, r.gen, {}};
        for (unsigned c = 0; c < detail::kChains; ++c) saved.digest[c] = pool_digest(PoolSnapshot(WalletAccess::pool(**acct, c)));
        if (!set.add(r.wallet, r.account, *acct)) {
            return make_error(Errc::inconsistent_data, "the manifest lists wallet \"" + r.wallet + "\" account " +
                                                           std::to_string(r.account) + " twice");
        }
        ebr::Guard guard;
        const std::uint64_t id = s.registry.find(r.wallet, r.account)->id;
        LockGuard lock(s.save_mutex);  // nobody else knows the set yet: uncontended
        s.saved.emplace(id, saved);
    }
    LockGuard lock(s.save_mutex);
    s.set_id = m->set_id;
    s.saved_dir = dir_key(dir);
    s.saved_generation = m->generation;
    s.saved_changes = s.changes.load(boost::memory_order_relaxed);  // relaxed: nobody else knows the set yet
    s.next_file_id = m->next_file_id;
    return set;
}

}  // namespace addrpool
