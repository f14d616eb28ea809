// The bridge between pool and file: AddressPool::serialize / deserialize /
// save / load. The pool's side is lib/pool/durable.hpp (its durable state),
// the format is the codec (codec.hpp), the file system is atomic_file.hpp;
// this file only composes them and orders concurrent saves.
#include "persist/bridge.hpp"

#include "persist/atomic_file.hpp"
#include "persist/codec.hpp"
#include "pool/durable.hpp"
#include "pool/pool_impl.hpp"

#include <stdexcept>

namespace addrpool {

namespace {

// The format stores up to 255 base path components, as deep as BIP32 goes
// (a longer base path names addresses no key can derive).
constexpr std::size_t kMaxBasePath = 255;
constexpr const char* kBasePathTooLong = "the base path has more than 255 components: the file format, like BIP32, stops at 255";

}  // namespace

std::string detail::serialize_snapshot(const AddressPool& pool, std::vector<DurableEntry> entries,
                                       DurableLabels labels) {
    if (pool.base_path().size() > kMaxBasePath) throw std::length_error(kBasePathTooLong);
    codec::PoolFile f;
    f.network = pool.network();
    f.type = pool.type();
    f.format = pool.format();
    f.gap_limit = pool.gap_limit();
    f.base_path = pool.base_path().components();
    f.labels = std::move(labels);
    f.entries = std::move(entries);  // highest used follows from them
    return codec::encode(f);
}

std::string AddressPool::serialize() const {
    detail::DurableLabels labels = detail::durable_labels(*impl_);
    return detail::serialize_snapshot(*this, detail::durable_entries(*impl_), std::move(labels));
}

// The file's address format wins over options.format: it is durable state.
Result<AddressPool> AddressPool::deserialize(std::string_view bytes, PoolOptions options) {
    auto parsed = detail::codec::parse(bytes);
    if (!parsed) return std::move(parsed).error();
    detail::codec::PoolFile& f = *parsed;
    options.format = f.format;
    AddressPool pool(DerivationPath(std::move(f.base_path)), f.type, f.gap_limit, f.network, std::move(options));
    // Single-threaded: nobody else can see `pool` yet.
    auto loaded = detail::load_durable(*pool.impl_, f.entries, f.highest_used, std::move(f.labels));
    if (!loaded) return std::move(loaded).error();
    return pool;
}

// Ordering of concurrent saves (issue 12 item 6). Without it two saves of one
// pool to one path could finish in the wrong order: the older snapshot,
// renamed last, would replace the newer one and a used mark would vanish
// from the file. So each save takes a sequence number before it serializes,
// and the rename happens in a short per-pool critical section that records,
// per target, the newest sequence number renamed there; a save whose
// snapshot is older than that removes its temporary instead and succeeds
// (the file already holds a newer snapshot of the same pool). Hence, per
// target, renames happen in increasing sequence order, and a save that
// returns success leaves the file holding its own snapshot or a newer one:
// every used mark that completed before it began is in the file. Writing
// and fsyncing stay outside the critical section, so saves still overlap;
// only the rename is serialized. (A queue that lets only the newest waiting
// save write would save I/O but make a save wait for others' fsyncs.) Saves
// of different pools, or from other processes, are not ordered: between
// those the last rename wins.
Result<void> AddressPool::save(const std::filesystem::path& path) const {
    if (base_path().size() > kMaxBasePath) return make_error(Errc::invalid_argument, kBasePathTooLong);
    detail::SaveOrder& order = impl_->save_order();
    // acq_rel: the release half makes everything this thread did before
    // (e.g. a used mark) visible to every save that takes a higher number
    // (its acquire half reads this value or a later one in the release
    // sequence), so that save's snapshot holds it.
    const std::uint64_t seq = order.started.fetch_add(1, boost::memory_order_acq_rel) + 1;
    const std::string data = serialize();
    auto pending = detail::atomic_file::PendingFile::create(path, data);
    if (!pending) return std::move(pending).error();
    {
        detail::LockGuard lock(order.mutex);
        std::uint64_t& newest = order.renamed[pending->target_id()];
        if (newest > seq) {
            pending->discard();  // a newer snapshot of this pool is already in place
        } else {
            if (auto renamed = pending->rename_over_target(); !renamed) return renamed;
            newest = seq;
        }
    }
    return pending->sync_directory();
}

Result<AddressPool> AddressPool::load(const std::filesystem::path& path, PoolOptions options) {
    auto data = detail::atomic_file::read_file(path);
    if (!data) return std::move(data).error();
    return deserialize(*data, std::move(options));
}

}  // namespace addrpool
