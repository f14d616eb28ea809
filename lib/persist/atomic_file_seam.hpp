// Internal: the POSIX calls lib/persist/atomic_file.cpp makes on its write and
// read paths, as one replaceable table: the seam for fault injection
// (test/test_persist_save.cpp makes each step fail with ENOSPC, EIO, EINTR or a
// short write). The stale-temporary cleanup is best effort and calls POSIX
// directly.
//
// Not synchronized: replace the table only while no save or load runs (a
// test does it before starting its threads and restores it after joining).
#ifndef ADDRPOOL_LIB_PERSIST_ATOMIC_FILE_SEAM_HPP
#define ADDRPOOL_LIB_PERSIST_ATOMIC_FILE_SEAM_HPP

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>

namespace addrpool::detail::atomic_file {

struct Syscalls {
    int (*open)(const char* path, int flags, mode_t mode);  // temporary (O_CREAT), directory (O_DIRECTORY), read
    ssize_t (*write)(int fd, const void* buf, std::size_t n);
    ssize_t (*read)(int fd, void* buf, std::size_t n);
    int (*fsync)(int fd);  // the temporary, then the directory
    int (*rename)(const char* from, const char* to);
    int (*unlink)(const char* path);
    int (*flock)(int fd, int operation);
    int (*fstat)(int fd, struct stat* st);
    int (*stat)(const char* path, struct stat* st);
};

// The calls themselves.
Syscalls real_syscalls() noexcept;
// The table in use: real_syscalls() unless a test replaced it.
Syscalls& syscalls() noexcept;

}  // namespace addrpool::detail::atomic_file

#endif  // ADDRPOOL_LIB_PERSIST_ATOMIC_FILE_SEAM_HPP
