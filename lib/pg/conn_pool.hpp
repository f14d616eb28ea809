// Internal: the connections of one SharedPool. A call leases one for the
// duration of its statement; at most `capacity` exist, opened on demand.
#ifndef ADDRPOOL_LIB_PG_CONN_POOL_HPP
#define ADDRPOOL_LIB_PG_CONN_POOL_HPP

#include "common/thread_annotations.hpp"
#include "pg/conn.hpp"

#include <condition_variable>
#include <memory>
#include <span>
#include <vector>

namespace addrpool::pg::detail {

using addrpool::detail::LockGuard;
using addrpool::detail::Mutex;

class ConnPool;

// A leased connection; returns it to the pool when destroyed (a broken one
// is closed instead, and its place is free for a new connection).
class Lease {
public:
    Lease(ConnPool& pool, std::unique_ptr<Conn> conn) noexcept : pool_(&pool), conn_(std::move(conn)) {}
    ~Lease();
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    Conn& operator*() const noexcept { return *conn_; }
    Conn* operator->() const noexcept { return conn_.get(); }

private:
    ConnPool* pool_;
    std::unique_ptr<Conn> conn_;
};

class ConnPool {
public:
    // `settings` and `statements` must outlive the pool.
    ConnPool(const ConnSettings& settings, std::span<const Statement> statements, unsigned capacity)
        : settings_(settings), statements_(statements), capacity_(capacity) {}

    // An idle connection that is still usable (the most recently returned
    // one), else a new one once fewer than `capacity` exist; waits while all
    // are leased. A new connection is made and prepared outside the mutex.
    // Errors: backend_unavailable (cannot connect; nothing is leased then).
    Result<Lease> acquire() EXCLUDES(m_);

    // Hands a connection made elsewhere (by open(), prepared) to the pool.
    void adopt(std::unique_ptr<Conn> conn) EXCLUDES(m_);

private:
    friend class Lease;
    void give_back(std::unique_ptr<Conn> conn) EXCLUDES(m_);

    const ConnSettings& settings_;
    const std::span<const Statement> statements_;
    const unsigned capacity_;
    Mutex m_;
    // Waiters for a lease: signalled when a connection is returned or closed.
    std::condition_variable_any returned_;
    std::vector<std::unique_ptr<Conn>> idle_ GUARDED_BY(m_);
    unsigned open_ GUARDED_BY(m_) = 0;  // idle + leased + being connected
};

}  // namespace addrpool::pg::detail

#endif  // ADDRPOOL_LIB_PG_CONN_POOL_HPP
