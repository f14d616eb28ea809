// addrpool-model: the deterministic scheduler. Model threads are fibers
// (ucontext) on one OS thread; every operation on a StepAtomic first yields
// to the scheduler, which picks the thread that performs the next atomic
// step. An execution is therefore exactly reproducible from its list of
// scheduling choices, and the explorer (explore.hpp) can enumerate them all.
//
// StepAtomic is sequentially consistent whatever order is named: the model
// checks the protocols' logic under every interleaving; their memory
// orderings are argued in the protocol headers.
#ifndef ADDRPOOL_STRESS_MODEL_SCHEDULER_HPP
#define ADDRPOOL_STRESS_MODEL_SCHEDULER_HPP

#include <boost/atomic.hpp>

#include <ucontext.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace model {

inline constexpr int kMaxThreads = 3;

// The atomic operation a thread is about to perform: which object, and
// whether it may write it. Two pending operations are independent (their
// order does not matter) unless they touch one object and one may write.
struct Pending {
    const void* object = nullptr;
    bool write = false;
};
inline bool dependent(const Pending& a, const Pending& b) { return a.object == b.object && (a.write || b.write); }

// Yields to the scheduler; returns when this thread may do `op`.
void step(Pending op);
// --replay tracing: every atomic operation, with its value before and after.
void trace(const void* object, const char* what, std::uint64_t before, std::uint64_t after);
extern bool g_trace;
extern std::function<std::string(const void*)> g_name_of;  // names objects in the trace

struct StepAtomic {
    using Word = std::uint64_t;
    Word v = 0;
    Word load(boost::memory_order = boost::memory_order_seq_cst) const {
        step({this, false});
        if (g_trace) trace(this, "load", v, v);
        return v;
    }
    void store(Word d, boost::memory_order = boost::memory_order_seq_cst) {
        step({this, true});
        if (g_trace) trace(this, "store", v, d);
        v = d;
    }
    bool compare_exchange_strong(Word& expected, Word desired, boost::memory_order = boost::memory_order_seq_cst,
                                 boost::memory_order = boost::memory_order_seq_cst) {
        step({this, true});
        if (v == expected) {
            if (g_trace) trace(this, "cas ok", v, desired);
            v = desired;
            return true;
        }
        if (g_trace) trace(this, "cas fail", v, v);
        expected = v;
        return false;
    }
    // Never fails spuriously here: a spurious failure only re-runs the same
    // loop iteration.
    bool compare_exchange_weak(Word& e, Word d, boost::memory_order s = boost::memory_order_seq_cst,
                               boost::memory_order f = boost::memory_order_seq_cst) {
        return compare_exchange_strong(e, d, s, f);
    }
    Word fetch_or(Word x, boost::memory_order = boost::memory_order_seq_cst) {
        step({this, true});
        const Word old = v;
        v |= x;
        if (g_trace) trace(this, "fetch_or", old, v);
        return old;
    }
    Word fetch_and(Word x, boost::memory_order = boost::memory_order_seq_cst) {
        step({this, true});
        const Word old = v;
        v &= x;
        if (g_trace) trace(this, "fetch_and", old, v);
        return old;
    }
    Word fetch_add(Word x, boost::memory_order = boost::memory_order_seq_cst) {
        step({this, true});
        const Word old = v;
        v += x;
        if (g_trace) trace(this, "fetch_add", old, v);
        return old;
    }
};

// The choice at one step: the runnable threads (in increasing order) and
// every thread's pending operation; returns a position in `runnable`.
using Chooser = std::function<int(const int* runnable, int k, const Pending* pending)>;

class Scheduler {
public:
    // program(t) runs thread t's operations; after_step() is called after
    // every atomic step (to record the world's state).
    Scheduler(int threads, std::function<void(int)> program, std::function<void()> after_step);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Runs one execution. choose(...) picks among the runnable threads; it
    // may call abort() to end the execution early: the unfinished threads'
    // stacks are then discarded without unwinding, so a thread program must
    // own nothing that needs a destructor (world.hpp keeps its state in the
    // World, and fixed-size arrays on the stack).
    // max_preemptions >= 0 bounds how often a thread that could go on is
    // switched away from (preemption bounding, as in CHESS): with the bound
    // spent, the running thread continues until it finishes; switches after
    // a thread finished are free.
    void run(const Chooser& choose, int max_preemptions = -1);

    // The step being performed (0-based), valid inside a thread.
    int step_no() const noexcept { return step_no_; }
    int current() const noexcept { return current_; }
    void yield_from_thread(Pending op);
    // Ends the current execution after this choice: run() unwinds every
    // unfinished thread and returns. Call from the chooser only.
    void abort() noexcept { aborting_ = true; }
    bool aborted() const noexcept { return aborted_; }

    // Per-thread operation bounds: begin_op(t) starts a new operation; its
    // first and last atomic steps are then op_first(t) / op_last(t).
    void begin_op(int t) noexcept { op_first_[t] = -1; }
    int op_first(int t) const noexcept { return op_first_[t]; }
    int op_last(int t) const noexcept { return op_last_[t]; }

private:
    static constexpr std::size_t kStack = 256 * 1024;
    struct Fiber {
        ucontext_t ctx;      // the portable switch
        void* sp = nullptr;  // the fast x86-64 switch: the saved stack pointer
        std::unique_ptr<char[]> stack;
        bool done = false;
        void* tsan = nullptr;
    };
    [[gnu::noinline]] static void prepare(Fiber& f, int t);
    void discard(int t);  // a fresh stack for thread t, its old one abandoned
    static void entry(int t);
    static void fast_entry();
    void resume(int t);
    void switch_to_main(int t);

    int n_;
    std::function<void(int)> program_;
    std::function<void()> after_step_;
    Fiber fibers_[kMaxThreads];
    // The main stack's saved state: the portable switch uses main_, the fast
    // one main_sp_; main_tsan_ is ThreadSanitizer's handle for it. Which are
    // used depends on the build (scheduler.cpp), hence maybe_unused.
    [[maybe_unused]] ucontext_t main_{};
    [[maybe_unused]] void* main_tsan_ = nullptr;
    [[maybe_unused]] void* main_sp_ = nullptr;
    int current_ = 0;
    int step_no_ = -1;
    bool aborting_ = false;
    bool aborted_ = false;
    int op_first_[kMaxThreads] = {};
    int op_last_[kMaxThreads] = {};
    Pending pending_[kMaxThreads] = {};
};

}  // namespace model

#endif  // ADDRPOOL_STRESS_MODEL_SCHEDULER_HPP
