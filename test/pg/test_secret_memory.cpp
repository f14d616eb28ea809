// A conninfo password must not outlive SharedPool::open in memory the C++
// heap gives back: every operator delete during the call is checked for the
// password's bytes. (Its own executable: it replaces the global operator
// new and delete.) No server is needed: the connection fails, after the conninfo
// was parsed and copied. libpq's own copies live in malloc'd memory and are
// libpq's to manage; they are not checked here.
#include <addrpool/pg.hpp>

#include <malloc.h>
#include <string.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace {

// 8 bytes: short enough for a std::string to keep it inside the object
// (no heap buffer of its own), where only the holder can wipe it.
constexpr char kPassword[] = "Sekr3tPw";
std::atomic<bool> watching{false};
std::atomic<int> found{0};

void check_freed(void* p) noexcept {
    // relaxed: set and read by the one thread that runs the check.
    if (p == nullptr || !watching.load(std::memory_order_relaxed)) return;
    // All but the first byte: moving a short string zeroes the source's
    // first byte (libstdc++ without optimization), and leaves the rest.
    if (::memmem(p, ::malloc_usable_size(p), kPassword + 1, sizeof kPassword - 2) != nullptr) {
        found.fetch_add(1, std::memory_order_relaxed);  // a count, read after the call
    }
}

}  // namespace

// new and delete both replaced, over malloc and free, so that the check can
// ask malloc how large each block is (and sanitizers see matching pairs).
// Every block starts zeroed, so that what a freed block holds was written
// through operator new's callers, not left by an earlier malloc user (libpq
// frees its own copies of the conninfo unwiped).
void* operator new(std::size_t n) {
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        std::memset(p, 0, ::malloc_usable_size(p));
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    check_freed(p);
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    check_freed(p);
    std::free(p);
}

int main() {
    using namespace addrpool;
    // Many keywords, so that any container grown while parsing them would
    // move the password's string at least once.
    const std::string conninfo = std::string("host=/nonexistent-addrpool-socket-dir user=u password=") + kPassword +
                                 " dbname=d port=5999 connect_timeout=2 application_name=t sslmode=disable"
                                 " keepalives=1 keepalives_idle=30 options=-cwork_mem=4MB target_session_attrs=any";
    const auto keys = KeySource::none();
    watching.store(true, std::memory_order_relaxed);  // relaxed: this thread only
    auto pool = pg::SharedPool::open(conninfo, "secret-memory", DerivationPath({44 | hardened_bit, 1 | hardened_bit,
                                                                               hardened_bit, 0}),
                                     PoolType::external, 20, Network::testnet, keys);
    watching.store(false, std::memory_order_relaxed);
    if (pool) {
        std::fputs("FAIL: open succeeded against a socket directory that does not exist\n", stderr);
        return 1;
    }
    if (pool.error().message.find(kPassword) != std::string::npos) {
        std::fputs("FAIL: the error message holds the password\n", stderr);
        return 1;
    }
    const int n = found.load(std::memory_order_relaxed);
    if (n != 0) {
        std::fprintf(stderr, "FAIL: %d block(s) given back to the heap still held the password\n", n);
        return 1;
    }
    std::printf("ok: open failed as expected (%s); no freed block held the password\n",
                errc_name(pool.error().code));
    return 0;
}
