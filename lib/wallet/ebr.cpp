// Epoch-based reclamation: records, guards, retire and collect. The protocol
// and its argument are in ebr.hpp; the numbers below refer to it.
#include "wallet/ebr.hpp"

#include "common/thread_annotations.hpp"

#include <boost/atomic.hpp>

#include <utility>
#include <vector>

namespace addrpool::detail::ebr {

namespace {

// Record states: 0 = quiescent; otherwise (epoch << 1) | 1.
constexpr std::uint64_t kQuiescent = 0;
constexpr std::uint64_t active(std::uint64_t epoch) noexcept { return (epoch << 1) | 1; }
constexpr std::uint64_t epoch_of(std::uint64_t state) noexcept { return state >> 1; }

static_assert(boost::atomic<std::uint64_t>::is_always_lock_free, "epoch words must be lock-free 64-bit atomics");
static_assert(boost::atomic<Record*>::is_always_lock_free);
static_assert(boost::atomic<bool>::is_always_lock_free);

}  // namespace

struct alignas(128) Record {
    boost::atomic<std::uint64_t> state{kQuiescent};  // (E1)/(E3), read by (A1)
    boost::atomic<bool> owned{true};                 // held by a live thread (R1)/(R2)
    Record* next = nullptr;                          // the record list; immutable once pushed (R3)
};

namespace {

struct Retired {
    std::uint64_t epoch;
    void* object;
    void (*deleter)(void*);
};

struct Domain {
    alignas(128) boost::atomic<std::uint64_t> epoch{1};
    alignas(128) boost::atomic<Record*> records{nullptr};
    Mutex mutex;
    std::vector<Retired> retired GUARDED_BY(mutex);
};

Domain& domain() {
    // Never destroyed: threads that exit after main() may still release
    // their records into it, and retired objects stay reachable (not leaks).
    static Domain* d = new Domain();
    return *d;
}

Record* acquire_record(Domain& d) {
    // (R1) acquire on success: pairs with the release store (R2) of the
    // thread that gave the record up, so its last (E3) is visible to us.
    for (Record* r = d.records.load(boost::memory_order_acquire); r != nullptr; r = r->next) {  // (R3)
        bool expected = false;
        if (!r->owned.load(boost::memory_order_relaxed) &&  // relaxed: a hint; the CAS decides
            r->owned.compare_exchange_strong(expected, true, boost::memory_order_acquire,
                                             boost::memory_order_relaxed)) {
            return r;
        }
    }
    auto* r = new Record();
    Record* head = d.records.load(boost::memory_order_relaxed);  // relaxed: the CAS re-validates
    do {
        r->next = head;
        // (R3) release: publishes the record (and its next) to every list walk
        // (acquire load of `records`); failure reloads the head, relaxed since
        // only its value is used.
    } while (!d.records.compare_exchange_weak(head, r, boost::memory_order_release, boost::memory_order_relaxed));
    return r;
}

// The calling thread's record and guard depth: trivially constructible and
// destructible, so reaching it costs one TLS lookup and no initialization
// check; the record goes back to the list at thread exit through Releaser,
// which is touched only when the record is first acquired. `exiting`: the
// Releaser has run; a guard taken after that (by another thread_local's
// destructor) gives its record back itself when it ends.
struct ThreadState {
    Record* record;
    unsigned depth;
    bool exiting;
};
thread_local ThreadState t_state{nullptr, 0, false};

void give_back(ThreadState& t) noexcept {
    // (R2) release: the record's last quiescent store happens-before its
    // next owner's (R1).
    t.record->owned.store(false, boost::memory_order_release);
    t.record = nullptr;
}

struct Releaser {
    ~Releaser() {
        t_state.exiting = true;
        if (t_state.record != nullptr && t_state.depth == 0) give_back(t_state);
    }
};
thread_local Releaser t_releaser;

}  // namespace

Guard::Guard() : thread_(&t_state) {
    ThreadState& t = *static_cast<ThreadState*>(thread_);
    if (t.depth++ != 0) return;
    Domain& d = domain();
    if (t.record == nullptr) {
        try {
            // Registers its destructor for this thread (not once it has run).
            if (!t.exiting) (void)&t_releaser;
            t.record = acquire_record(d);
        } catch (...) {
            --t.depth;
            throw;
        }
    }
    // (E1)/(E2) seq_cst: see ebr.hpp. Loops only while writers advance the epoch.
    std::uint64_t e = d.epoch.load(boost::memory_order_seq_cst);
    for (;;) {
        t.record->state.store(active(e), boost::memory_order_seq_cst);  // (E1)
        const std::uint64_t again = d.epoch.load(boost::memory_order_seq_cst);  // (E2)
        if (again == e) break;
        e = again;
    }
}

Guard::~Guard() {
    ThreadState& t = *static_cast<ThreadState*>(thread_);
    if (--t.depth != 0) return;
    // (E3) release: the section's reads happen-before the reclaimer's (A1)
    // load that sees this value.
    t.record->state.store(kQuiescent, boost::memory_order_release);
    if (t.exiting) give_back(t);  // the Releaser has run: nobody else will
}

void retire(void* object, void (*deleter)(void*)) noexcept {
    Domain& d = domain();
    // (T) seq_cst: after the caller's unlink (U) in S.
    const std::uint64_t g = d.epoch.load(boost::memory_order_seq_cst);
    LockGuard lock(d.mutex);
    try {
        d.retired.push_back(Retired{g, object, deleter});
    } catch (...) {  // std::bad_alloc: leak the object rather than free it early
    }
}

namespace {

// (A1)/(A2): one advance if every active record announces the current epoch.
bool try_advance(Domain& d) {
    std::uint64_t c = d.epoch.load(boost::memory_order_seq_cst);  // seq_cst: (A1) reads the epoch in S, then the records
    for (const Record* r = d.records.load(boost::memory_order_acquire); r != nullptr; r = r->next) {  // (R3)
        // (A1) seq_cst (an acquire): pairs with (E3) and with (E1) of a later
        // section, so what the reader did before happens-before our frees.
        const std::uint64_t s = r->state.load(boost::memory_order_seq_cst);
        if (s != kQuiescent && epoch_of(s) != c) return false;
    }
    // (A2) seq_cst: a failed CAS means another reclaimer advanced: as good.
    d.epoch.compare_exchange_strong(c, c + 1, boost::memory_order_seq_cst, boost::memory_order_seq_cst);
    return true;
}

}  // namespace

std::size_t collect(int rounds) {
    Domain& d = domain();
    for (int i = 0; i < rounds; ++i) {
        if (!try_advance(d)) break;
    }
    const std::uint64_t now = d.epoch.load(boost::memory_order_seq_cst);  // seq_cst: after our (A2), or a newer one
    std::vector<Retired> ready;
    {
        LockGuard lock(d.mutex);
        try {
            ready.reserve(d.retired.size());
        } catch (...) {  // std::bad_alloc: free nothing this time
            return 0;
        }
        auto keep = d.retired.begin();
        for (auto it = d.retired.begin(); it != d.retired.end(); ++it) {
            if (it->epoch + 2 <= now) ready.push_back(*it);
            else *keep++ = *it;
        }
        d.retired.erase(keep, d.retired.end());
    }
    // Outside the mutex: a deleter may retire more (an account's binding).
    for (const Retired& r : ready) r.deleter(r.object);
    return ready.size();
}

std::size_t owned_records() {
    std::size_t n = 0;
    for (const Record* r = domain().records.load(boost::memory_order_acquire); r != nullptr; r = r->next) {  // (R3)
        n += r->owned.load(boost::memory_order_relaxed) ? 1 : 0;  // relaxed: a count for tests, no data read through it
    }
    return n;
}

std::size_t pending() {
    Domain& d = domain();
    LockGuard lock(d.mutex);
    return d.retired.size();
}

}  // namespace addrpool::detail::ebr
