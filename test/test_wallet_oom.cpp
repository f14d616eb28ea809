// WalletSet::add when memory runs out half-way: its own executable, since it
// replaces the global aligned operator new (the script index's tables are
// its only aligned allocations here) to make one of them fail on demand.
#include "wallet_support.hpp"

#include <atomic>
#include <new>

namespace {

// > 0: the aligned allocations to let through before one fails; 0: off.
std::atomic<int> g_fail_after{0};

}  // namespace

void* operator new(std::size_t n, std::align_val_t a) {
    // relaxed: set and cleared by the one test thread around its calls.
    if (const int k = g_fail_after.load(std::memory_order_relaxed); k > 0) {
        g_fail_after.store(k - 1, std::memory_order_relaxed);
        if (k == 1) throw std::bad_alloc();
    }
    const auto align = static_cast<std::size_t>(a);
    void* p = std::aligned_alloc(align, (n + align - 1) / align * align);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace wallet_test;

TEST_CASE("an add that runs out of memory while indexing completes when tried again", "[wallet][oom]") {
    // The account derived addresses on both chains before it joins, so add
    // copies them into the set's index; the first index table fails. The
    // account must not end up registered with half its addresses indexed:
    // after the throw it is not in the set, and a second add indexes both
    // chains.
    auto a = make_account(0);
    const KeySource& ks = a->keys();
    REQUIRE(a->external().generate_addresses(5, ks, true));
    REQUIRE(a->internal().generate_addresses(8, ks, true));
    WalletSet set;
    g_fail_after.store(1, std::memory_order_relaxed);
    bool threw = false;
    try {
        (void)set.add("alice", 0, a);
    } catch (const std::bad_alloc&) {
        threw = true;
    }
    const bool injected = g_fail_after.load(std::memory_order_relaxed) == 0;
    g_fail_after.store(0, std::memory_order_relaxed);
    REQUIRE(injected);  // the index did allocate, so the failure hit it
    CHECK(threw);
    CHECK(set.size() == 0);
    CHECK(set.find("alice", 0) == nullptr);
    REQUIRE(set.add("alice", 0, a));
    CHECK(set.size() == 1);
    const auto m = set.mark_scripts_used(std::vector<std::vector<std::uint8_t>>{
        script_of(0, PoolType::external, 0), script_of(0, PoolType::internal, 0), script_of(0, PoolType::internal, 7)});
    REQUIRE(m);
    CHECK(m->size() == 3);
}
