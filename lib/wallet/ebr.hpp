// Internal: epoch-based reclamation — how a WalletSet frees what lock-free
// readers may still be reading (registry snapshots and nodes, script-index
// tables, account bindings) without making them wait or count references.
//
// One process-wide domain. Every thread that reads gets a Record (reused
// after the thread exits) and announces, for the duration of a read-side
// critical section (a Guard), the global epoch it saw. A writer that unlinks
// an object retires it with the epoch it reads after the unlink; the object
// is freed once the epoch has advanced twice past that value, and the epoch
// advances only when every active record announces the current one.
//
// The protocol (numbered operations and their partners; all seq_cst unless
// said, so that they sit in one total order S):
//   (E1) Guard entry: announce e = the epoch read last, then re-read the
//        epoch (E2); repeat until the two agree. After it, the reader's
//        root loads (R) — the pointers it starts from: a registry shard, an
//        index table, a binding's node — are seq_cst loads after (E1) in S.
//   (E3) Guard exit: the record back to quiescent, release: everything the
//        reader did in the section happens-before a reclaimer that reads
//        the quiescent value (A1) (or the record's next announcement).
//   (U)  Unlink: a writer replaces a root pointer (seq_cst store/exchange).
//   (T)  Retire: after (U), the writer reads the epoch g and files the
//        object under g.
//   (A1) Advance: the reclaimer reads every record; if each is quiescent or
//        announces the current epoch c, it CASes the epoch c → c+1 (A2).
//        Objects filed under g <= epoch - 2 are freed.
// Why a reader never sees freed memory: a reader that can reach object X
// loaded its root (R) before X's unlink (U) in S (a later load would see the
// new pointer). Its announcement (E1) of e precedes (R), and (E2) read e
// after (E1), so the epoch was e when (U) came, and the g read at (T) is
// >= e. Freeing X needs the epoch to reach g + 2 >= e + 2, hence an advance
// e+1 → e+2, which needs this record quiescent or announcing e+1 — i.e. the
// reader has left the section (E3), whose release pairs with the (A1) load
// that saw it, so the reader's reads of X happen-before the free.
//
// Progress: Guard entry/exit are lock-free (two to four atomic operations on
// the thread's own record; (E1) loops only while the epoch moves). retire()
// takes the domain's list mutex (writers only); collect() frees what it can
// and never waits: a stalled reader delays reclamation, not anyone's work.
// Deleters run in collect(), outside every lock of the domain, on whichever
// thread collects; they may retire more objects and must not need a lock the
// collecting thread holds (collect() is called with no lock held).
//
// Guards nest (a per-thread depth): only the outermost touches the record.
#ifndef ADDRPOOL_LIB_WALLET_EBR_HPP
#define ADDRPOOL_LIB_WALLET_EBR_HPP

#include <cstddef>
#include <cstdint>

namespace addrpool::detail::ebr {

// The per-thread announcement, on its own cache-line pair.
struct Record;

// A read-side critical section of the calling thread. Cheap; nestable.
// Throws std::bad_alloc only when the thread's first Guard cannot allocate
// its record.
class Guard {
public:
    Guard();
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

private:
    void* thread_;  // the calling thread's state (ebr.cpp): one TLS lookup per guard
};

// Files `object` to be freed by deleter(object) once no reader can hold it.
// Call after unlinking it (U). Thread-safe; blocking (a short mutex). If
// the list cannot grow (std::bad_alloc) the object is leaked, never freed
// early.
void retire(void* object, void (*deleter)(void*)) noexcept;

template <class T>
void retire(T* object) noexcept {
    retire(static_cast<void*>(object), [](void* p) { delete static_cast<T*>(p); });
}

// Advances the epoch as far as the readers allow (at most `rounds` times)
// and runs the deleters of everything that became safe. Call with no lock
// held. Returns how many objects it freed. Never waits for a reader.
std::size_t collect(int rounds = 2);

// Objects filed and not freed yet (tests, diagnostics).
std::size_t pending();

// Records held by a thread right now (tests, diagnostics): a thread's record
// goes back when the thread exits, also after a guard that a thread_local
// destructor took at exit.
std::size_t owned_records();

}  // namespace addrpool::detail::ebr

#endif  // ADDRPOOL_LIB_WALLET_EBR_HPP
