// Internal: clang thread-safety annotations (-Wthread-safety) and an
// annotated mutex. Under g++ the macros expand to nothing. Every mutex in the
// library is a detail::Mutex and every member it protects is GUARDED_BY it,
// so `make test` can have clang check the locking statically
// (test/thread_safety_check.sh).
#ifndef ADDRPOOL_LIB_THREAD_ANNOTATIONS_HPP
#define ADDRPOOL_LIB_THREAD_ANNOTATIONS_HPP

#include <mutex>

#if defined(__clang__)
#define ADDRPOOL_TSA(x) __attribute__((x))
#else
#define ADDRPOOL_TSA(x)
#endif

#define CAPABILITY(x) ADDRPOOL_TSA(capability(x))
#define SCOPED_CAPABILITY ADDRPOOL_TSA(scoped_lockable)
#define GUARDED_BY(x) ADDRPOOL_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) ADDRPOOL_TSA(pt_guarded_by(x))
#define REQUIRES(...) ADDRPOOL_TSA(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) ADDRPOOL_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) ADDRPOOL_TSA(release_capability(__VA_ARGS__))
#define EXCLUDES(...) ADDRPOOL_TSA(locks_excluded(__VA_ARGS__))

namespace addrpool::detail {

class CAPABILITY("mutex") Mutex {
public:
    void lock() ACQUIRE() { m_.lock(); }
    void unlock() RELEASE() { m_.unlock(); }

private:
    std::mutex m_;
};

class SCOPED_CAPABILITY LockGuard {
public:
    explicit LockGuard(Mutex& m) ACQUIRE(m) : m_(m) { m_.lock(); }
    ~LockGuard() RELEASE() { m_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    Mutex& m_;
};

}  // namespace addrpool::detail

#endif
