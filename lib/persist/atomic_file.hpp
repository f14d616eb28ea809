// Internal: crash-safe replacement of a whole file, and reading one back.
// Knows nothing of pools: bytes in, bytes out.
//
// Writing a target `path`:
//   1. create  `<path>.tmp-<pid>-<16 hex>` beside it (O_EXCL, mode 0600) and
//              take an exclusive flock on it (held until after the rename);
//   2. write   all the bytes (short writes and EINTR retried);
//   3. fsync   the temporary file;
//   4. rename  it over the target;
//   5. fsync   the directory (open it, fsync it), so the rename is durable;
//   6. remove  stale temporaries of the same target left by dead writers.
// A failure at steps 1–4 is Errc::io_error naming the step, the temporary is
// removed and the target is untouched (its previous content, whole); at step
// 5 the target already holds the new content ("saved, but ..."). Step 6
// never fails. EINTR is retried at every step.
//
// Stale temporaries: a file is removed only if (1) its name has exactly the
// form above for this target, (2) it is a regular file owned by this user,
// (3) its pid names no process here (our own pid counts as gone: a restarted
// container's pid 1 reuses a dead one's), and (4) its flock can be taken —
// every live writer on this kernel holds its own, in this process or in
// another pid namespace sharing the directory. The cleaner unlinks only while
// holding that lock, so a writer that finds its file unlinked once it has the
// lock (nlink 0: a cleaner got in between its create and its flock) starts
// over with a new name (four times at most, then io_error).
//
// PendingFile splits steps 1–3, 4 and 5–6 so that a caller can decide, in
// its own critical section, whether the finished temporary replaces the
// target at all (AddressPool::save skips a snapshot older than the one
// already renamed there). write_file does all six in a row.
#ifndef ADDRPOOL_LIB_PERSIST_ATOMIC_FILE_HPP
#define ADDRPOOL_LIB_PERSIST_ATOMIC_FILE_HPP

#include <addrpool/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace addrpool::detail::atomic_file {

// A complete, fsynced temporary file beside its target, waiting to replace it.
// Its destructor removes the temporary unless it was renamed. Not thread-safe
// (one owner); different PendingFiles may be used concurrently, also for one
// target.
class PendingFile {
public:
    // Steps 1–3. Errors: io_error (nothing is left behind).
    static Result<PendingFile> create(const std::filesystem::path& target, std::string_view data);

    // The target's identity, the same for every spelling of its path: the
    // device and inode of its directory (when the temporary was created) and
    // its file name.
    const std::string& target_id() const noexcept { return target_id_; }

    // Step 4. Errors: io_error (the temporary is removed, the target intact).
    Result<void> rename_over_target();
    // Instead of step 4: removes the temporary; the target is not touched.
    void discard() noexcept;
    // Steps 5–6, after rename_over_target() succeeded or discard(). Errors:
    // io_error when the directory cannot be opened or fsynced (after a
    // rename, the target holds the new content).
    Result<void> sync_directory();

    PendingFile(PendingFile&& other) noexcept;
    PendingFile& operator=(PendingFile&&) = delete;
    PendingFile(const PendingFile&) = delete;
    PendingFile& operator=(const PendingFile&) = delete;
    ~PendingFile();

private:
    enum class State { pending, renamed, discarded, done };
    PendingFile(std::filesystem::path target, std::filesystem::path dir, std::filesystem::path tmp, int fd,
                std::string target_id) noexcept;
    void close_fd() noexcept;

    std::filesystem::path target_, dir_, tmp_;
    int fd_;  // the temporary, flock-ed until renamed or discarded
    std::string target_id_;
    State state_ = State::pending;
};

// Creates `dir` and every missing parent, each new entry made durable (its
// parent directory fsynced), so that files committed inside a directory this
// made survive a power loss with it. An existing directory is left alone.
// Errors: io_error naming the directory or the step (also when `dir` exists
// and is not a directory).
Result<void> create_directories(const std::filesystem::path& dir);
// fsyncs the directory that holds `dir`'s entry (its parent), for a caller
// that cannot tell whether an earlier create_directories got that far.
// Errors: io_error.
Result<void> sync_directory_entry(const std::filesystem::path& dir);

// Steps 1–6 for `data`. Errors: io_error, as above. Blocking.
Result<void> write_file(const std::filesystem::path& path, std::string_view data);

// The whole content of a regular file. Errors: io_error (cannot open, stat or
// read it, or it is not a regular file: a FIFO or device is refused without
// waiting for a writer). Allocates the file's size. Blocking.
Result<std::string> read_file(const std::filesystem::path& path);

}  // namespace addrpool::detail::atomic_file

#endif  // ADDRPOOL_LIB_PERSIST_ATOMIC_FILE_HPP
