// Crash-safe file replacement and whole-file reads (atomic_file.hpp). Every
// POSIX call on the write and read paths goes through syscalls()
// (atomic_file_seam.hpp), so tests can inject faults at each step.
#include "persist/atomic_file.hpp"

#include "persist/atomic_file_seam.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <random>
#include <system_error>

namespace addrpool::detail::atomic_file {

Syscalls real_syscalls() noexcept {
    return Syscalls{
        [](const char* p, int flags, mode_t mode) { return ::open(p, flags, mode); },
        ::write,
        ::read,
        ::fsync,
        ::rename,
        ::unlink,
        ::flock,
        [](int fd, struct stat* st) { return ::fstat(fd, st); },
        [](const char* p, struct stat* st) { return ::stat(p, st); },
    };
}

Syscalls& syscalls() noexcept {
    static Syscalls table = real_syscalls();
    return table;
}

namespace {

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

Error io_error(const std::string& what, const std::filesystem::path& p, int err) {
    return make_error(Errc::io_error, what + " '" + p.string() + "': " + errno_text(err));
}

// Runs `call` until it does not fail with EINTR: 0 or errno.
template <class F>
int retry_eintr(F call) {
    while (call() < 0) {
        if (errno != EINTR) return errno;
    }
    return 0;
}

// Opens with EINTR retried: the fd, or -1 with errno set.
int open_retry(const char* path, int flags, mode_t mode = 0) {
    for (;;) {
        const int fd = syscalls().open(path, flags, mode);
        if (fd >= 0 || errno != EINTR) return fd;
    }
}

// Writes all of `data` to fd, retrying short writes and EINTR. 0 or errno.
int write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = syscalls().write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return EIO;  // no progress on a regular file: do not spin
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

std::string random_suffix() {
    std::random_device rd;
    const std::uint64_t v = (std::uint64_t{rd()} << 32) ^ rd();
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(16, '0');
    for (std::size_t k = 0; k < 16; ++k) s[k] = kHex[(v >> (4 * k)) & 0xf];
    return s;
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
    int release() noexcept {
        const int f = fd;
        fd = -1;
        return f;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

// ---- stale temporaries (step 6; rules in atomic_file.hpp) --------------------

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

// Best effort: never fails the write.
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
    } catch (...) {  // bad_alloc: leftovers wait for the next write
    }
}

}  // namespace

// ===========================================================================
// PendingFile
// ===========================================================================

PendingFile::PendingFile(std::filesystem::path target, std::filesystem::path dir, std::filesystem::path tmp, int fd,
                         std::string target_id) noexcept
    : target_(std::move(target)),
      dir_(std::move(dir)),
      tmp_(std::move(tmp)),
      fd_(fd),
      target_id_(std::move(target_id)) {}

PendingFile::PendingFile(PendingFile&& o) noexcept
    : target_(std::move(o.target_)),
      dir_(std::move(o.dir_)),
      tmp_(std::move(o.tmp_)),
      fd_(o.fd_),
      target_id_(std::move(o.target_id_)),
      state_(o.state_) {
    o.fd_ = -1;
    o.state_ = State::done;  // the moved-from object owns nothing
}

PendingFile::~PendingFile() {
    if (state_ == State::pending) discard();
    close_fd();
}

void PendingFile::close_fd() noexcept {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
    fd_ = -1;
}

Result<PendingFile> PendingFile::create(const std::filesystem::path& target, std::string_view data) {
    std::filesystem::path dir = target.parent_path();
    if (dir.empty()) dir = ".";
    const std::string prefix = target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-";

    // Step 1: create and lock.
    std::filesystem::path tmp;
    Fd f(-1);  // held (with its flock) until after the rename
    for (int attempt = 0;; ++attempt) {
        tmp = dir / (prefix + random_suffix());
        // 0600: the content may be private to the owner (labels, addresses).
        f.reset(open_retry(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (f.fd < 0) {
            const int err = errno;  // before anything else can change it
            return io_error("cannot create the temporary file", tmp, err);
        }
        // Held until after the rename: tells cleaners (other writers of this
        // target, here or in another pid namespace) that this writer is
        // alive. Best effort: where flock is unsupported no cleaner removes
        // anything.
        (void)retry_eintr([&] { return syscalls().flock(f.fd, LOCK_EX); });
        struct stat st {};
        if (syscalls().fstat(f.fd, &st) != 0 || st.st_nlink != 0) break;
        // A cleaner unlinked it before we locked it: take a new name.
        if (attempt == 3) {
            return make_error(Errc::io_error, "cannot keep a temporary file beside '" + target.string() +
                                                  "': concurrent cleaners removed it four times");
        }
    }
    const auto fail = [&](const char* step, int err) {
        syscalls().unlink(tmp.c_str());
        return io_error(step, tmp, err);
    };
    struct stat dst {};
    if (syscalls().stat(dir.c_str(), &dst) != 0) {
        const int err = errno;
        return fail("cannot stat the directory of the temporary file", err);
    }
    std::string id = std::to_string(dst.st_dev) + ":" + std::to_string(dst.st_ino) + "/" + target.filename().string();

    // Steps 2 and 3.
    if (const int err = write_all(f.fd, data); err != 0) return fail("cannot write the temporary file", err);
    if (const int err = retry_eintr([&] { return syscalls().fsync(f.fd); }); err != 0) {
        return fail("cannot fsync the temporary file", err);
    }
    return PendingFile(target, std::move(dir), std::move(tmp), f.release(), std::move(id));
}

Result<void> PendingFile::rename_over_target() {
    if (state_ != State::pending) std::abort();  // a caller bug
    const int err = retry_eintr([&] { return syscalls().rename(tmp_.c_str(), target_.c_str()); });
    if (err != 0) {
        discard();
        return io_error("cannot rename the temporary file over", target_, err);
    }
    state_ = State::renamed;
    close_fd();  // after the rename: releases the flock
    return {};
}

void PendingFile::discard() noexcept {
    if (state_ != State::pending) return;
    syscalls().unlink(tmp_.c_str());  // while still flock-ed: no cleaner races for it
    state_ = State::discarded;
    close_fd();
}

namespace {

// Opens directory `dir` and fsyncs it. The errors read "<prefix>cannot open
// <what> to fsync it:" and "<prefix>cannot fsync <what>", naming `dir`.
Result<void> fsync_directory(const std::filesystem::path& dir, const std::string& prefix, const std::string& what) {
    const Fd d(open_retry(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.fd < 0) {
        const int err = errno;
        return io_error(prefix + "cannot open " + what + " to fsync it:", dir, err);
    }
    if (const int err = retry_eintr([&] { return syscalls().fsync(d.fd); }); err != 0) {
        return io_error(prefix + "cannot fsync " + what, dir, err);
    }
    return {};
}

}  // namespace

Result<void> PendingFile::sync_directory() {
    if (state_ != State::renamed && state_ != State::discarded) std::abort();  // a caller bug
    const bool renamed = state_ == State::renamed;
    state_ = State::done;
    // The rename (ours, or the newer one that made us discard) is durable
    // only once the directory entry is.
    if (auto synced = fsync_directory(dir_, renamed ? "saved, but " : "a newer save is in place, but ", "the directory");
        !synced) {
        return synced;
    }
    remove_stale_temporaries(target_, dir_);
    return {};
}

// ===========================================================================
// create_directories
// ===========================================================================

namespace {

// fsyncs the directory that holds `path`'s entry. `prefix` starts the
// error's text: "created, but " or "".
Result<void> sync_entry(const std::filesystem::path& path, const std::string& prefix) {
    return fsync_directory(path.has_parent_path() ? path.parent_path() : std::filesystem::path("."), prefix,
                           "the parent directory");
}

}  // namespace

Result<void> sync_directory_entry(const std::filesystem::path& dir) { return sync_entry(dir, ""); }

Result<void> create_directories(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> missing;  // deepest first
    for (std::filesystem::path p = dir; !p.empty(); p = p.parent_path()) {
        std::error_code ec;
        if (std::filesystem::exists(p, ec) || ec) break;  // an error: mkdir below names it
        missing.push_back(p);
        if (p == p.parent_path()) break;  // the root
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0777) != 0 && errno != EEXIST) {
            const int err = errno;
            return io_error("cannot create the directory", *it, err);
        }
        // The new entry is durable once its parent directory is.
        if (auto synced = sync_entry(*it, "created, but "); !synced) return synced;
    }
    if (std::error_code ec; !std::filesystem::is_directory(dir, ec)) {
        return io_error("not a directory:", dir, ec ? ec.value() : ENOTDIR);
    }
    return {};
}

// ===========================================================================
// write_file, read_file
// ===========================================================================

Result<void> write_file(const std::filesystem::path& path, std::string_view data) {
    auto pending = PendingFile::create(path, data);
    if (!pending) return std::move(pending).error();
    if (auto renamed = pending->rename_over_target(); !renamed) return renamed;
    return pending->sync_directory();
}

Result<std::string> read_file(const std::filesystem::path& path) {
    // O_NONBLOCK: a FIFO or device opens at once (and is refused below)
    // instead of blocking the open; reads of a regular file ignore it.
    Fd f(open_retry(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (f.fd < 0) {
        const int err = errno;
        return io_error("cannot open", path, err);
    }
    struct stat st {};
    if (syscalls().fstat(f.fd, &st) != 0) {
        const int err = errno;
        return io_error("cannot stat", path, err);
    }
    if (!S_ISREG(st.st_mode)) return make_error(Errc::io_error, "'" + path.string() + "' is not a regular file");
    std::string data;
    data.reserve(static_cast<std::size_t>(st.st_size));  // the file's own size
    std::array<char, 1 << 16> buf;
    for (;;) {
        const ssize_t n = syscalls().read(f.fd, buf.data(), buf.size());
        if (n == 0) break;
        if (n < 0) {
            const int err = errno;
            if (err == EINTR) continue;
            return io_error("cannot read", path, err);
        }
        data.append(buf.data(), static_cast<std::size_t>(n));
    }
    return data;
}

}  // namespace addrpool::detail::atomic_file
