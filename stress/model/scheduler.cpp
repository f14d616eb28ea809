#include "scheduler.hpp"

#include <cstdint>
#include <cstdio>
#include <string>

#if defined(__SANITIZE_THREAD__)
#define MODEL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MODEL_TSAN 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define MODEL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MODEL_ASAN 1
#endif
#endif

// The fast switch: save the callee-saved registers on the current stack,
// swap stack pointers, restore. swapcontext also saves and restores the
// signal mask with two system calls per switch, which dominated the model's
// run time. AddressSanitizer tracks stacks through swapcontext, so it keeps
// the portable switch.
#if defined(__x86_64__) && !defined(MODEL_ASAN)
#define MODEL_FAST_SWITCH 1
extern "C" void addrpool_model_switch(void** save_sp, void* load_sp);
asm(R"(
    .text
    .globl addrpool_model_switch
    .type addrpool_model_switch, @function
addrpool_model_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size addrpool_model_switch, .-addrpool_model_switch
    .section .note.GNU-stack,"",@progbits
    .text
)");
#endif

#ifdef MODEL_TSAN
// ThreadSanitizer must be told about stack switches, or its shadow call
// stack and happens-before state go wrong.
extern "C" {
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
}
#endif

namespace model {

namespace {
Scheduler* g_sched = nullptr;  // the one scheduler running (the model is single-threaded)
int g_starting = 0;            // the thread a fresh fast-switch fiber belongs to
}

void step(Pending op) { g_sched->yield_from_thread(op); }

bool g_trace = false;
std::function<std::string(const void*)> g_name_of;

void trace(const void* object, const char* what, std::uint64_t before, std::uint64_t after) {
    std::printf("    step %3d thread %d %-9s %-12s 0x%llx -> 0x%llx\n", g_sched->step_no(), g_sched->current(), what,
                g_name_of ? g_name_of(object).c_str() : "?", static_cast<unsigned long long>(before),
                static_cast<unsigned long long>(after));
}

Scheduler::Scheduler(int threads, std::function<void(int)> program, std::function<void()> after_step)
    : n_(threads), program_(std::move(program)), after_step_(std::move(after_step)) {
    g_sched = this;
    for (int t = 0; t < n_; ++t) prepare(fibers_[t], t);
#ifdef MODEL_TSAN
    main_tsan_ = __tsan_get_current_fiber();
#endif
}

Scheduler::~Scheduler() {
#ifdef MODEL_TSAN
    for (int t = 0; t < n_; ++t) __tsan_destroy_fiber(fibers_[t].tsan);
#endif
    if (g_sched == this) g_sched = nullptr;
}

void Scheduler::prepare(Fiber& f, int t) {
    if (!f.stack) f.stack.reset(new char[kStack]);
#ifdef MODEL_FAST_SWITCH
    // A frame addrpool_model_switch can "return" into fast_entry from: six
    // zero registers, then the entry's address, then a slot that makes the
    // stack 16-byte aligned as at a call (rsp % 16 == 8 on entry).
    auto top = reinterpret_cast<std::uintptr_t>(f.stack.get() + kStack) & ~std::uintptr_t{15};
    auto* frame = reinterpret_cast<void**>(top) - 8;
    for (int k = 0; k < 6; ++k) frame[k] = nullptr;
    frame[6] = reinterpret_cast<void*>(&Scheduler::fast_entry);
    frame[7] = nullptr;
    f.sp = frame;
    (void)t;
#else
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack.get();
    f.ctx.uc_stack.ss_size = kStack;
    f.ctx.uc_link = nullptr;
    makecontext(&f.ctx, reinterpret_cast<void (*)()>(&Scheduler::entry), 1, t);
#endif
#ifdef MODEL_TSAN
    f.tsan = __tsan_create_fiber(0);
#endif
}

void Scheduler::discard(int t) {
#ifdef MODEL_TSAN
    __tsan_destroy_fiber(fibers_[t].tsan);
#endif
    prepare(fibers_[t], t);
    fibers_[t].done = true;
}

void Scheduler::fast_entry() { entry(g_starting); }

void Scheduler::entry(int t) {
    // A fiber never returns: after its program it parks, and the next
    // execution resumes it from the top of the loop.
    for (;;) {
        g_sched->program_(t);
        g_sched->fibers_[t].done = true;
        g_sched->switch_to_main(t);
    }
}

void Scheduler::run(const Chooser& choose, int max_preemptions) {
    g_sched = this;
    step_no_ = -1;
    aborting_ = aborted_ = false;
    for (int t = 0; t < n_; ++t) fibers_[t].done = false;
    // Let every thread run its local code up to its first atomic step.
    for (int t = 0; t < n_; ++t) resume(t);
    int runnable[kMaxThreads];
    int last = -1, preemptions = 0;
    for (;;) {
        int k = 0;
        for (int t = 0; t < n_; ++t) {
            if (!fibers_[t].done) runnable[k++] = t;
        }
        if (k == 0) break;
        const bool last_runnable = last >= 0 && !fibers_[last].done;
        int t;
        if (last_runnable && max_preemptions >= 0 && preemptions >= max_preemptions) {
            t = last;  // budget spent: no choice here
        } else {
            // Also with one runnable thread: the explorer's sleep sets follow every step.
            t = runnable[choose(runnable, k, pending_)];
            if (aborting_) {
                aborted_ = true;
                for (int u = 0; u < n_; ++u) {
                    if (!fibers_[u].done) discard(u);
                }
                break;
            }
        }
        if (last_runnable && t != last) ++preemptions;
        last = t;
        ++step_no_;
        resume(t);  // exactly one atomic op of t, then its local code up to the next
        after_step_();
    }
}

void Scheduler::yield_from_thread(Pending op) {
    const int t = current_;
    pending_[t] = op;
    switch_to_main(t);
    // Resumed: this op is step step_no_.
    if (op_first_[t] < 0) op_first_[t] = step_no_;
    op_last_[t] = step_no_;
}

void Scheduler::resume(int t) {
    current_ = t;
#ifdef MODEL_TSAN
    __tsan_switch_to_fiber(fibers_[t].tsan, 0);
#endif
#ifdef MODEL_FAST_SWITCH
    g_starting = t;
    addrpool_model_switch(&main_sp_, fibers_[t].sp);
#else
    swapcontext(&main_, &fibers_[t].ctx);
#endif
}

void Scheduler::switch_to_main(int t) {
#ifdef MODEL_TSAN
    __tsan_switch_to_fiber(main_tsan_, 0);
#endif
#ifdef MODEL_FAST_SWITCH
    addrpool_model_switch(&fibers_[t].sp, main_sp_);
#else
    swapcontext(&fibers_[t].ctx, &main_);
#endif
}

}  // namespace model
