// Persistence: AddressPool::serialize / deserialize / save / load.
//
// The format is described in persist.hpp. Durable: which indices are
// generated (with their hash160), which are used, labels, and the pool's
// configuration. Ephemeral, never written: reservations, tickets, times.
#include "persist/persist.hpp"

#include "keys/crypto.hpp"
#include "pool/pool_impl.hpp"
#include "pool/slot.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>

namespace addrpool {

using detail::kMaxIndex;
using detail::Slot;
namespace slot = detail::slot;

namespace {

constexpr std::array<char, 8> kMagic = {'A', 'D', 'D', 'R', 'P', 'O', 'O', 'L'};
constexpr std::size_t kVersionOffset = 8;
constexpr std::size_t kLengthOffset = 10;
constexpr std::size_t kConfigOffset = 18;
constexpr std::size_t kTrailerSize = 32;
// Smallest file: fixed header (26) + highest used (4) + count (4) + trailer.
constexpr std::size_t kMinFileSize = 26 + 4 + 4 + kTrailerSize;
// Smallest entry: 1-byte varint + hash160 + flags.
constexpr std::size_t kMinEntrySize = 1 + 20 + 1;

constexpr std::uint8_t kFlagUsed = 1;
constexpr std::uint8_t kFlagLabelled = 2;

// ---- writing -------------------------------------------------------------

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }
void put_u16(std::string& out, std::uint16_t v) {
    put_u8(out, static_cast<std::uint8_t>(v >> 8));
    put_u8(out, static_cast<std::uint8_t>(v));
}
void put_u32(std::string& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) put_u8(out, static_cast<std::uint8_t>(v >> s));
}
void put_u64_at(std::string& out, std::size_t at, std::uint64_t v) {
    for (int k = 0; k < 8; ++k) out[at + static_cast<std::size_t>(k)] = static_cast<char>(v >> (56 - 8 * k));
}
void put_u32_at(std::string& out, std::size_t at, std::uint32_t v) {
    for (int k = 0; k < 4; ++k) out[at + static_cast<std::size_t>(k)] = static_cast<char>(v >> (24 - 8 * k));
}
void put_varint(std::string& out, std::uint32_t v) {
    while (v >= 0x80) {
        put_u8(out, static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    put_u8(out, static_cast<std::uint8_t>(v));
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// ---- reading ---------------------------------------------------------------

// A bounds-checked cursor over the checksummed content. Running off its end
// is inconsistent_data: the checksum matched, so the file is what was
// written, and its fields contradict its length.
class Reader {
public:
    explicit Reader(std::string_view content) : data_(content) {}
    std::size_t offset() const noexcept { return pos_; }
    std::size_t left() const noexcept { return data_.size() - pos_; }

    bool u8(std::uint8_t& v) {
        if (left() < 1) return false;
        v = static_cast<std::uint8_t>(data_[pos_++]);
        return true;
    }
    bool u32(std::uint32_t& v) {
        if (left() < 4) return false;
        v = detail::get_be32(reinterpret_cast<const std::uint8_t*>(data_.data() + pos_));
        pos_ += 4;
        return true;
    }
    bool bytes(std::uint8_t* out, std::size_t n) {
        if (left() < n) return false;
        std::memcpy(out, data_.data() + pos_, n);
        pos_ += n;
        return true;
    }
    bool text(std::string& out, std::size_t n) {
        if (left() < n) return false;
        out.assign(data_.substr(pos_, n));
        pos_ += n;
        return true;
    }
    // Minimal unsigned LEB128 of at most 32 bits. Sets `canonical` false for
    // an over-long or oversized encoding (the caller reports it).
    bool varint(std::uint32_t& v, bool& canonical) {
        std::uint64_t acc = 0;
        canonical = true;
        for (unsigned k = 0; k < 5; ++k) {
            std::uint8_t b = 0;
            if (!u8(b)) return false;
            acc |= std::uint64_t{b & 0x7fu} << (7 * k);
            if ((b & 0x80) == 0) {
                // A last byte of 0 after the first is an over-long encoding.
                if ((k > 0 && b == 0) || acc > 0xffffffffu) canonical = false;
                v = static_cast<std::uint32_t>(acc);
                return true;
            }
        }
        canonical = false;  // continuation bit on the fifth byte
        return true;
    }

private:
    std::string_view data_;
    std::size_t pos_ = 0;
};

Error inconsistent(std::size_t offset, const std::string& what) {
    return make_error(Errc::inconsistent_data, what + " (at byte offset " + std::to_string(offset) + ")");
}
Error runs_out(std::size_t offset, const char* field) {
    return inconsistent(offset, std::string(field) + " runs past the end of the checksummed content");
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// The published hash of a generated slot. Every slot is published (D2) by
// the thread that derived it before that thread can materialize it, and the
// acquire load of the word that showed G orders this read after that.
Hash160 hash_of_generated(const Slot& s) {
    if (!s.derived()) std::abort();  // (D3) a generated slot is always published: a pool bug otherwise
    return s.load_hash();
}

// Single-threaded initialization of a loaded slot, before the pool exists for
// anyone else: generation 0, no stamp, generated, used or unused (never
// reserved). relaxed: the new pool reaches other threads only through the
// caller's own synchronization (thread start, mutex, ...), which orders it.
void init_loaded_word(Slot& s, bool used) {
    s.word.store(slot::loaded(used), boost::memory_order_relaxed);
}

}  // namespace

// ===========================================================================
// parse_pool_file: every check, before any pool is built
// ===========================================================================

Result<detail::PoolFile> detail::parse_pool_file(std::string_view bytes) {
    // Magic and version first, so a foreign or newer file says so.
    const std::string_view magic(kMagic.data(), kMagic.size());
    if (bytes.size() < magic.size()) {
        if (magic.substr(0, bytes.size()) == bytes) {
            return make_error(Errc::truncated, "the file ends inside the magic (" + std::to_string(bytes.size()) +
                                                   " bytes)");
        }
        return make_error(Errc::bad_magic, "not an addrpool file (the first bytes are not \"ADDRPOOL\")");
    }
    if (bytes.substr(0, magic.size()) != magic) {
        return make_error(Errc::bad_magic, "not an addrpool file (the first 8 bytes are not \"ADDRPOOL\")");
    }
    if (bytes.size() < kLengthOffset) {
        return make_error(Errc::truncated, "the file ends inside the format version (offset 8)");
    }
    const auto* u = reinterpret_cast<const std::uint8_t*>(bytes.data());
    const std::uint16_t version = static_cast<std::uint16_t>((u[kVersionOffset] << 8) | u[kVersionOffset + 1]);
    if (version != kFormatVersion) {
        return make_error(Errc::unsupported_format, "format version " + std::to_string(version) +
                                                        " (offset 8); this build reads version " +
                                                        std::to_string(kFormatVersion));
    }
    if (bytes.size() < kConfigOffset) {
        return make_error(Errc::truncated, "the file ends inside the length field (offset 10)");
    }
    std::uint64_t declared = 0;
    for (std::size_t k = 0; k < 8; ++k) declared = (declared << 8) | u[kLengthOffset + k];
    if (bytes.size() < declared) {
        return make_error(Errc::truncated, "the file is " + std::to_string(bytes.size()) +
                                               " bytes long but its header (offset 10) says " +
                                               std::to_string(declared));
    }
    if (declared < kMinFileSize) {
        return make_error(Errc::corrupt_data, "the length field (offset 10) says " + std::to_string(declared) +
                                                  " bytes, below the smallest possible file (" +
                                                  std::to_string(kMinFileSize) + ")");
    }
    const std::size_t length = static_cast<std::size_t>(declared);
    const std::string_view content = bytes.substr(0, length - kTrailerSize);
    const Bytes32 sum = sha256(as_bytes(content));
    if (std::memcmp(sum.data(), bytes.data() + content.size(), kTrailerSize) != 0) {
        return make_error(Errc::corrupt_data, "SHA-256 checksum mismatch (trailer at offset " +
                                                  std::to_string(content.size()) + ")");
    }
    if (bytes.size() > length) {
        return inconsistent(length, std::to_string(bytes.size() - length) + " trailing bytes after the checksum");
    }

    // The content is exactly what some writer produced; now it must make sense.
    Reader r(content.substr(kConfigOffset));
    const auto at = [&r] { return kConfigOffset + r.offset(); };
    PoolFile f;
    std::uint8_t network = 0, type = 0, format = 0, path_len = 0;
    if (!r.u8(network)) return runs_out(at(), "network");
    if (network > static_cast<std::uint8_t>(Network::regtest)) {
        return inconsistent(at() - 1, "unknown network " + std::to_string(network));
    }
    if (!r.u8(type)) return runs_out(at(), "pool type");
    if (type > static_cast<std::uint8_t>(PoolType::absent_hardened)) {
        return inconsistent(at() - 1, "unknown pool type " + std::to_string(type));
    }
    if (!r.u8(format)) return runs_out(at(), "address format");
    if (format > static_cast<std::uint8_t>(AddressFormat::platform)) {
        return inconsistent(at() - 1, "unknown address format " + std::to_string(format));
    }
    f.network = static_cast<Network>(network);
    f.type = static_cast<PoolType>(type);
    f.format = static_cast<AddressFormat>(format);
    if (!r.u32(f.gap_limit)) return runs_out(at(), "gap limit");
    if (!r.u8(path_len)) return runs_out(at(), "base path length");
    f.base_path.resize(path_len);
    for (auto& c : f.base_path) {
        if (!r.u32(c)) return runs_out(at(), "base path component");
    }
    std::uint32_t used_end = 0, count = 0;
    if (!r.u32(used_end)) return runs_out(at(), "highest used");
    const std::size_t used_end_at = at() - 4;
    if (used_end > kMaxIndex) {
        return inconsistent(used_end_at, "highest used index " + std::to_string(used_end - 1) + " is not below 2^31");
    }
    if (!r.u32(count)) return runs_out(at(), "entry count");
    if (count > r.left() / kMinEntrySize) {
        return inconsistent(at() - 4, std::to_string(count) + " entries cannot fit in the " +
                                          std::to_string(r.left()) + " bytes left");
    }
    f.entries.reserve(count);

    std::uint32_t seen_used_end = 0;
    for (std::uint32_t n = 0; n < count; ++n) {
        const std::size_t entry_at = at();
        std::uint32_t delta = 0;
        bool canonical = true;
        if (!r.varint(delta, canonical)) return runs_out(entry_at, "entry index");
        if (!canonical) return inconsistent(entry_at, "entry " + std::to_string(n) + ": non-canonical index varint");
        std::uint64_t index = delta;
        if (n > 0) {
            if (delta == 0) {
                return inconsistent(entry_at, "entry " + std::to_string(n) + ": duplicate index " +
                                                  std::to_string(f.entries.back().index));
            }
            index += f.entries.back().index;
        }
        if (index >= kMaxIndex) {
            return inconsistent(entry_at, "entry " + std::to_string(n) + ": index " + std::to_string(index) +
                                              " is not below 2^31");
        }
        PoolFileEntry e{static_cast<std::uint32_t>(index), {}, false};
        if (!r.bytes(e.hash.data(), e.hash.size())) return runs_out(at(), "entry hash160");
        std::uint8_t flags = 0;
        if (!r.u8(flags)) return runs_out(at(), "entry flags");
        if ((flags & ~(kFlagUsed | kFlagLabelled)) != 0) {
            return inconsistent(at() - 1, "entry " + std::to_string(n) + ": unknown flag bits " +
                                              std::to_string(flags));
        }
        e.used = (flags & kFlagUsed) != 0;
        if (e.used) seen_used_end = e.index + 1;
        if (flags & kFlagLabelled) {
            const std::size_t len_at = at();
            std::uint32_t len = 0;
            if (!r.varint(len, canonical)) return runs_out(len_at, "label length");
            if (!canonical) return inconsistent(len_at, "entry " + std::to_string(n) + ": non-canonical label length");
            std::string label;
            if (!r.text(label, len)) return runs_out(len_at, "label");
            f.labels.emplace_back(e.index, std::move(label));
        }
        f.entries.push_back(e);
    }
    if (r.left() != 0) {
        return inconsistent(at(), std::to_string(r.left()) + " bytes after the last entry");
    }
    if (used_end != seen_used_end) {
        return inconsistent(used_end_at, "highest used + 1 is " + std::to_string(used_end) + " but the entries say " +
                                             std::to_string(seen_used_end));
    }
    if (used_end != 0) f.highest_used = used_end - 1;

    // Two indices with one hash160 cannot come from one key (probability
    // 2^-160): the lookup index would also map the address to one of them only.
    // Sorting 8-byte prefixes keeps this cheap for a million entries.
    std::vector<std::pair<std::uint64_t, std::uint32_t>> keys;
    keys.reserve(f.entries.size());
    for (std::uint32_t n = 0; n < f.entries.size(); ++n) {
        std::uint64_t k = 0;
        for (std::size_t b = 0; b < 8; ++b) k = (k << 8) | f.entries[n].hash[b];
        keys.emplace_back(k, n);
    }
    std::sort(keys.begin(), keys.end());
    for (std::size_t k = 1; k < keys.size(); ++k) {
        if (keys[k].first != keys[k - 1].first) continue;
        // Equal prefixes: compare every pair in this run (runs are tiny).
        for (std::size_t j = k; j > 0 && keys[j - 1].first == keys[k].first; --j) {
            const auto& a = f.entries[keys[j - 1].second];
            const auto& b = f.entries[keys[k].second];
            if (a.hash == b.hash) {
                return make_error(Errc::inconsistent_data, "indices " + std::to_string(std::min(a.index, b.index)) +
                                                               " and " + std::to_string(std::max(a.index, b.index)) +
                                                               " have the same hash160");
            }
        }
    }
    return f;
}

// ===========================================================================
// AddressPool
// ===========================================================================

std::string AddressPool::serialize() const {
    const Impl& p = *impl_;
    std::map<std::uint32_t, std::string> labels;
    {
        detail::LockGuard lock(p.label_mutex);
        labels = p.labels;
    }

    std::string out;
    out.append(kMagic.data(), kMagic.size());
    put_u16(out, detail::kFormatVersion);
    out.append(8, '\0');  // total length, patched below
    put_u8(out, static_cast<std::uint8_t>(p.network));
    put_u8(out, static_cast<std::uint8_t>(p.type));
    put_u8(out, static_cast<std::uint8_t>(p.options.format));
    put_u32(out, p.gap_limit);
    const auto& comps = p.base_path.components();
    put_u8(out, static_cast<std::uint8_t>(comps.size()));  // DerivationPath: at most 255
    for (std::uint32_t c : comps) put_u32(out, c);
    const std::size_t used_end_at = out.size();
    put_u32(out, 0);  // highest used + 1, patched below
    const std::size_t count_at = out.size();
    put_u32(out, 0);  // entry count, patched below

    // (T2') acquire: pairs with the release CAS (T1) that raised touched_end,
    // so every slot below `end` is allocated. A used mark that completed
    // before this call began was made on a published slot, whose publish()
    // raised touched_end first: it is below `end`.
    const detail::Hot* hot = p.hot_or_null();
    const std::uint32_t end = hot == nullptr ? 0 : hot->touched_end.load(boost::memory_order_acquire);
    out.reserve(out.size() + std::size_t{end} * 23 + kTrailerSize);
    std::uint32_t count = 0, used_end = 0, prev = 0;
    auto label = labels.begin();
    if (hot != nullptr) hot->slots.for_each(0, end, [&](std::uint32_t i, const Slot& s) {
        // acquire: pairs with the release of every transition (S1)..(S8); in
        // particular with mark_used's CAS (S5), so a mark that happened
        // before this load is seen.
        const slot::Word w = slot::load(s.word);
        if (!slot::is_generated(w)) return;
        const Hash160 h = hash_of_generated(s);
        put_varint(out, count == 0 ? i : i - prev);
        out.append(reinterpret_cast<const char*>(h.data()), h.size());
        while (label != labels.end() && label->first < i) ++label;
        const bool labelled = label != labels.end() && label->first == i;
        const bool used = slot::is_used(w);  // reserved is written as unused
        put_u8(out, static_cast<std::uint8_t>((used ? kFlagUsed : 0) | (labelled ? kFlagLabelled : 0)));
        if (labelled) {
            // Labels above 4 GiB cannot be written; none exist in practice.
            const std::size_t n = std::min<std::size_t>(label->second.size(), 0xffffffffu);
            put_varint(out, static_cast<std::uint32_t>(n));
            out.append(label->second, 0, n);
        }
        if (used) used_end = i + 1;
        prev = i;
        ++count;
    });
    put_u32_at(out, used_end_at, used_end);
    put_u32_at(out, count_at, count);
    put_u64_at(out, kLengthOffset, out.size() + kTrailerSize);
    const detail::Bytes32 sum = detail::sha256(as_bytes(out));
    out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
    return out;
}

// The file's address format wins over options.format: it is durable state.
Result<AddressPool> AddressPool::deserialize(std::string_view bytes, PoolOptions options) {
    auto parsed = detail::parse_pool_file(bytes);
    if (!parsed) return std::move(parsed).error();
    detail::PoolFile& f = *parsed;
    options.format = f.format;
    auto impl = std::make_unique<Impl>(DerivationPath(std::move(f.base_path)), f.type, f.gap_limit, f.network,
                                       std::move(options));
    // Single-threaded: nobody else can see `impl` yet.
    impl->lookup().reserve(f.entries.size());  // one allocation instead of repeated rehashing
    for (const auto& e : f.entries) {
        impl->publish(e.index, e.hash);  // allocates the slot, raises touched_end, registers the hash
        init_loaded_word(*impl->find_slot(e.index), e.used);
    }
    if (f.highest_used) Impl::raise(impl->hot().used_end, *f.highest_used + 1);
    {
        detail::LockGuard lock(impl->label_mutex);  // uncontended; keeps the GUARDED_BY contract checkable
        for (auto& [i, text] : f.labels) impl->labels.emplace_hint(impl->labels.end(), i, std::move(text));
    }
    return AddressPool(std::move(impl));
}

namespace {

// Writes all of `data` to fd, retrying short writes and EINTR. 0 or errno.
int write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

int fsync_retry(int fd) {
    while (::fsync(fd) != 0) {
        if (errno != EINTR) return errno;
    }
    return 0;
}

Error io_error(const std::string& what, const std::filesystem::path& p, int err) {
    return make_error(Errc::io_error, what + " '" + p.string() + "': " + errno_text(err));
}

std::string random_suffix() {
    std::random_device rd;
    const std::uint64_t v = (std::uint64_t{rd()} << 32) ^ rd();
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(16, '0');
    for (std::size_t k = 0; k < 16; ++k) s[k] = kHex[(v >> (4 * k)) & 0xf];
    return s;
}

// ---- temporary files --------------------------------------------------------
//
// save() writes "<name>.tmp-<pid>-<16 hex>" beside the target and holds an
// exclusive flock on it from creation until after the rename. After a
// successful save, the leftovers of earlier saves of the same target whose
// writer died mid-write (SIGKILL, power loss) are removed. A file is removed
// only if (1) its name has exactly that form, (2) it is a regular file owned
// by this user, (3) its pid names no process here (our own pid counts as
// gone: a restarted container's pid 1 reuses a dead one's), and (4) its
// flock can be taken — every live writer on this kernel holds its own, in
// this process or in another pid namespace sharing the directory. The
// cleaner unlinks only while holding that lock, so a writer that finds its
// file unlinked once it has the lock (nlink 0: a cleaner got in between its
// create and its flock) simply starts over with a new name.

constexpr long kPidLimit = 4'194'304;  // PID_MAX_LIMIT on 64-bit Linux: every pid is below

// The pid in "<base><pid>-<16 hex>", or 0 if `name` has any other form.
long temp_writer(const std::string& name, const std::string& base) {
    if (name.size() <= base.size() || name.compare(0, base.size(), base) != 0) return 0;
    std::size_t k = base.size();
    long pid = 0;
    const std::size_t digits_start = k;
    while (k < name.size() && name[k] >= '0' && name[k] <= '9' && k - digits_start < 7) {
        pid = pid * 10 + (name[k++] - '0');
    }
    if (k == digits_start || name[digits_start] == '0' || pid >= kPidLimit) return 0;
    if (k >= name.size() || name[k] != '-' || name.size() - (k + 1) != 16) return 0;
    for (std::size_t j = k + 1; j < name.size(); ++j) {
        const char c = name[j];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return pid;
}

// False while `pid` names another live process here (or one we may not
// signal). Our own pid: true, and the flock decides.
bool writer_gone(long pid) {
    if (pid == static_cast<long>(::getpid())) return true;
    return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// A file descriptor closed when it goes out of scope (or is reset), so no
// return path can leak it. Errors of that close() are not reported: every
// caller has fsynced what it wrote, or only read.
struct Fd {
    int fd;
    explicit Fd(int f) : fd(f) {}
    ~Fd() { reset(); }
    void reset(int f = -1) noexcept {
        if (fd >= 0) ::close(fd);
        fd = f;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

// Removes `name` in `dir` if it is a regular file of ours whose flock is
// free, and still the same file when unlinked.
void remove_if_unlocked(int dfd, const std::string& name) {
    struct stat st {};
    if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != ::geteuid()) {
        return;  // a symlink, directory, FIFO, device or someone else's file
    }
    const Fd f(::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat opened {};
    if (f.fd < 0 || ::fstat(f.fd, &opened) != 0 || opened.st_ino != st.st_ino || opened.st_dev != st.st_dev) return;
    if (::flock(f.fd, LOCK_EX | LOCK_NB) != 0) return;  // a live writer holds it (or no flock here)
    struct stat again {};
    if (::fstatat(dfd, name.c_str(), &again, AT_SYMLINK_NOFOLLOW) == 0 && again.st_ino == st.st_ino &&
        again.st_dev == st.st_dev) {
        ::unlinkat(dfd, name.c_str(), 0);
    }
}  // closing the fd releases the flock

// Best effort after a successful save: never fails it.
void remove_stale_temporaries(const std::filesystem::path& path, const std::filesystem::path& dir) noexcept {
    try {
        const std::string base = path.filename().string() + ".tmp-";
        const Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (d.fd < 0) return;
        std::error_code ec;
        for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            const long pid = temp_writer(name, base);
            if (pid != 0 && writer_gone(pid)) remove_if_unlocked(d.fd, name);
        }
    } catch (...) {  // bad_alloc: leftovers wait for the next save
    }
}

}  // namespace

Result<void> AddressPool::save(const std::filesystem::path& path) const {
    const std::string data = serialize();
    std::filesystem::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    const std::string prefix = path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-";

    std::filesystem::path tmp;
    Fd f(-1);  // held (with its flock) until after the rename
    for (int attempt = 0;; ++attempt) {
        tmp = dir / (prefix + random_suffix());
        // 0600: labels and the address list are private to the wallet's owner.
        f.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (f.fd < 0) return io_error("cannot create temporary file", tmp, errno);
        // Held until after the rename: tells cleaners (other saves of this
        // path, here or in another pid namespace) that this writer is alive.
        // Best effort: where flock is unsupported no cleaner removes anything.
        while (::flock(f.fd, LOCK_EX) != 0 && errno == EINTR) {
        }
        struct stat st {};
        if (::fstat(f.fd, &st) != 0 || st.st_nlink != 0) break;
        // A cleaner unlinked it before we locked it: take a new name.
        if (attempt == 3) {
            return make_error(Errc::io_error, "cannot keep a temporary file beside '" + path.string() +
                                                  "': concurrent cleaners removed it four times");
        }
    }
    int err = write_all(f.fd, data);
    const char* step = "cannot write";
    if (err == 0) {
        err = fsync_retry(f.fd);
        step = "cannot fsync";
    }
    if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) {
        err = errno;
        ::unlink(tmp.c_str());
        return io_error("cannot rename the temporary file over", path, err);
    }
    if (err != 0) {
        ::unlink(tmp.c_str());
        return io_error(step, tmp, err);
    }
    f.reset();  // after the rename: releases the flock
    // The rename is durable only once the directory entry is.
    const Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.fd < 0) return io_error("saved, but cannot open the directory to fsync it:", dir, errno);
    err = fsync_retry(d.fd);
    if (err != 0) return io_error("saved, but cannot fsync the directory", dir, err);
    remove_stale_temporaries(path, dir);
    return {};
}

Result<AddressPool> AddressPool::load(const std::filesystem::path& path, PoolOptions options) {
    Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (f.fd < 0) return io_error("cannot open", path, errno);
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) {
        const int err = errno;  // before anything else can change it
        return io_error("cannot stat", path, err);
    }
    if (!S_ISREG(st.st_mode)) return make_error(Errc::io_error, "'" + path.string() + "' is not a regular file");
    std::string data;
    data.reserve(static_cast<std::size_t>(st.st_size));
    std::array<char, 1 << 16> buf;
    for (;;) {
        const ssize_t n = ::read(f.fd, buf.data(), buf.size());
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            return io_error("cannot read", path, err);
        }
        data.append(buf.data(), static_cast<std::size_t>(n));
    }
    f.reset();
    return deserialize(data, std::move(options));
}

}  // namespace addrpool
