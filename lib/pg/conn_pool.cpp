// The connections of one SharedPool: lease, give back, reconnect on demand.
#include "pg/conn_pool.hpp"

#include "common/finally.hpp"

namespace addrpool::pg::detail {

Lease::~Lease() {
    if (conn_) pool_->give_back(std::move(conn_));
}

Result<Lease> ConnPool::acquire() {
    std::vector<std::unique_ptr<Conn>> dead;  // closed after the mutex is released
    dead.reserve(capacity_);  // before the count changes: push_back below cannot throw
    {
        LockGuard lock(m_);
        for (;;) {
            while (!idle_.empty()) {
                std::unique_ptr<Conn> c = std::move(idle_.back());
                idle_.pop_back();
                // A connection the server closed while it was idle (a restart,
                // pg_terminate_backend) is replaced now, not failed on.
                if (c->still_usable()) return Lease(*this, std::move(c));
                dead.push_back(std::move(c));
                --open_;
            }
            if (open_ < capacity_) break;
            returned_.wait(m_);
        }
        ++open_;  // this place is ours while we connect
    }
    dead.clear();
    // The place goes back unless a connection fills it: also when connecting
    // throws (std::bad_alloc), or the pool would lose it for good.
    bool filled = false;
    const addrpool::detail::Finally give_place_back([&] {
        if (filled) return;
        {
            LockGuard lock(m_);
            --open_;
        }
        returned_.notify_one();
    });
    auto made = Conn::connect(settings_);
    if (made) {
        if (auto p = (*made)->prepare(statements_); !p) made = std::move(p).error();
    }
    if (!made) return std::move(made).error();
    filled = true;
    return Lease(*this, std::move(*made));
}

void ConnPool::adopt(std::unique_ptr<Conn> conn) {
    {
        LockGuard lock(m_);
        ++open_;
    }
    give_back(std::move(conn));
}

void ConnPool::give_back(std::unique_ptr<Conn> conn) {
    std::unique_ptr<Conn> dead;
    {
        LockGuard lock(m_);
        if (conn->usable()) {
            idle_.push_back(std::move(conn));
        } else {
            dead = std::move(conn);
            --open_;
        }
    }
    returned_.notify_one();
}

}  // namespace addrpool::pg::detail
