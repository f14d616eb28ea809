// The WalletSet's internals, white-box: epoch-based reclamation (ebr.hpp),
// the set-wide script index (script_index.hpp) and the manifest
// (manifest.hpp).
#include "wallet_support.hpp"

#include "wallet/ebr.hpp"
#include "wallet/manifest.hpp"
#include "wallet/script_index.hpp"

#include <atomic>
#include <latch>
#include <thread>

using namespace wallet_test;
namespace ebr = addrpool::detail::ebr;
using addrpool::detail::IndexEntry;
using addrpool::detail::ScriptIndex;

namespace {

struct Counted {
    static std::atomic<int> alive;
    Counted() { alive.fetch_add(1); }
    ~Counted() { alive.fetch_sub(1); }
};
std::atomic<int> Counted::alive{0};

Hash160 hash_of(std::uint64_t n) {
    Hash160 h{};
    // Spread n over every byte the index uses (position, fingerprint, shard).
    std::uint64_t x = n * 0x9e3779b97f4a7c15ull + 1;
    for (std::size_t i = 0; i < h.size(); ++i) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ull;
        h[i] = static_cast<std::uint8_t>(x >> 56);
    }
    return h;
}

// Fake bindings: the index only compares their addresses.
addrpool::detail::Binding* fake(std::uintptr_t n) { return reinterpret_cast<addrpool::detail::Binding*>(n * 64); }

std::vector<IndexEntry> lookup(const ScriptIndex& index, const Hash160& h) {
    std::vector<IndexEntry> out;
    ebr::Guard guard;
    index.find(h, [&](const IndexEntry& e) { out.push_back(e); });
    return out;
}

}  // namespace

TEST_CASE("a retired object is freed only after every guard that could see it ended", "[wallet][ebr]") {
    ebr::collect(4);  // whatever earlier tests left
    Counted::alive = 0;
    std::latch entered(1), retired(1);
    std::thread reader([&] {
        ebr::Guard guard;
        entered.count_down();
        retired.wait();
        // Still inside: a collect now must not free the object.
    });
    entered.wait();
    auto* obj = new Counted();
    ebr::retire(obj);
    for (int i = 0; i < 5; ++i) ebr::collect(4);
    CHECK(Counted::alive.load() == 1);  // the reader's guard holds it
    retired.count_down();
    reader.join();
    for (int i = 0; i < 3 && Counted::alive.load() != 0; ++i) ebr::collect(4);
    CHECK(Counted::alive.load() == 0);
}

TEST_CASE("a nested guard's end does not end the outer section", "[wallet][ebr]") {
    ebr::collect(4);
    Counted::alive = 0;
    std::latch inside(1), checked(1);
    std::thread reader([&] {
        ebr::Guard outer;
        {
            ebr::Guard nested;
        }
        inside.count_down();
        checked.wait();
    });
    inside.wait();
    ebr::retire(new Counted());
    for (int i = 0; i < 5; ++i) ebr::collect(4);
    CHECK(Counted::alive.load() == 1);
    checked.count_down();
    reader.join();
    for (int i = 0; i < 3 && Counted::alive.load() != 0; ++i) ebr::collect(4);
    CHECK(Counted::alive.load() == 0);
    CHECK(ebr::pending() == 0);
}

namespace {
// A thread_local whose destructor takes a guard. Constructed before the
// thread's first guard, it is destroyed after the thread's record was given
// back at exit, so its guard acquires a record again.
struct GuardAtExit {
    ~GuardAtExit() { ebr::Guard late; }
};
thread_local GuardAtExit t_guard_at_exit;
}  // namespace

TEST_CASE("a guard taken by a thread_local destructor at thread exit gives its record back", "[wallet][ebr]") {
    std::latch ready(1), finish(1);
    std::thread t([&] {
        (void)&t_guard_at_exit;  // constructed before the first guard: destroyed after the record's release
        { ebr::Guard first; }
        ready.count_down();
        finish.wait();
    });
    ready.wait();
    const std::size_t held = ebr::owned_records();  // the thread's record among them
    finish.count_down();
    t.join();
    INFO("records held while the thread ran: " << held);
    CHECK(ebr::owned_records() == held - 1);
}

TEST_CASE("the script index finds, refuses duplicates, erases and grows", "[wallet][index]") {
    ScriptIndex index;
    CHECK(lookup(index, hash_of(1)).empty());
    index.insert(hash_of(1), fake(1), 0, 5);
    index.insert(hash_of(1), fake(1), 0, 5);  // idempotent
    index.insert(hash_of(1), fake(2), 1, 7);  // the same address in another account
    CHECK(index.size() == 2);
    auto found = lookup(index, hash_of(1));
    REQUIRE(found.size() == 2);
    CHECK(found[0].index() + found[1].index() == 12);
    index.erase(hash_of(1), fake(1), 0);
    found = lookup(index, hash_of(1));
    REQUIRE(found.size() == 1);
    CHECK(found[0].binding == fake(2));
    CHECK(found[0].chain() == 1);
    CHECK(found[0].index() == 7);
    // Growth through many rebuilds, then every entry found, erased ones not.
    constexpr std::uint32_t kN = 20000;
    for (std::uint32_t i = 0; i < kN; ++i) index.insert(hash_of(1000 + i), fake(3 + i % 5), i % 2, i);
    CHECK(index.size() == kN + 1);
    // Bytes per entry: the tables stay within the documented bound (70 B per
    // live entry just after a rebuild, plus a minimal table per shard).
    CHECK(index.memory_bytes() <= 70 * index.size() + 64 * 500);
    for (std::uint32_t i = 0; i < kN; i += 3) index.erase(hash_of(1000 + i), fake(3 + i % 5), i % 2);
    std::uint32_t bad = 0;
    for (std::uint32_t i = 0; i < kN; ++i) {
        const auto f = lookup(index, hash_of(1000 + i));
        const bool want = i % 3 != 0;
        if (f.size() != (want ? 1u : 0u) || (want && (f[0].index() != i || f[0].binding != fake(3 + i % 5)))) ++bad;
    }
    CHECK(bad == 0);
    CHECK(lookup(index, hash_of(999'999)).empty());
    ebr::collect(4);
}

TEST_CASE("the script index answers readers while writers insert and rebuild", "[wallet][index][threads]") {
    const std::uint64_t seed = test_seed("script index readers");
    INFO("seed " << seed);
    ScriptIndex index;
    constexpr std::uint32_t kPerWriter = 4000;
    constexpr int kWriters = 2, kReaders = 3;
    std::latch go(kWriters + kReaders);
    std::atomic<std::uint32_t> published[kWriters];
    for (auto& p : published) p.store(0);
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
        threads.emplace_back([&, w] {
            go.arrive_and_wait();
            for (std::uint32_t i = 0; i < kPerWriter; ++i) {
                index.insert(hash_of(std::uint64_t(w) << 32 | i), fake(1 + w), 0, i);
                published[w].store(i + 1, std::memory_order_release);  // release: pairs with the readers' acquire
            }
        });
    }
    for (int r = 0; r < kReaders; ++r) {
        threads.emplace_back([&, r] {
            std::mt19937_64 rng(seed + static_cast<std::uint64_t>(r));
            go.arrive_and_wait();
            for (int k = 0; k < 20000; ++k) {
                const int w = static_cast<int>(rng() % kWriters);
                const std::uint32_t n = published[w].load(std::memory_order_acquire);  // acquire: pairs with the release
                if (n == 0) continue;
                const std::uint32_t i = static_cast<std::uint32_t>(rng() % n);
                const auto f = lookup(index, hash_of(std::uint64_t(w) << 32 | i));
                if (f.size() != 1 || f[0].index() != i || f[0].binding != fake(1 + w)) wrong.fetch_add(1);
                if (!lookup(index, hash_of(std::uint64_t(7) << 32 | i)).empty()) wrong.fetch_add(1);
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(wrong.load() == 0);
    CHECK(index.size() == kWriters * kPerWriter);
    ebr::collect(4);
}

TEST_CASE("the manifest round-trips and refuses what it does not recognise", "[wallet][manifest]") {
    namespace manifest = addrpool::detail::manifest;
    manifest::Manifest m{0x0123456789abcdefull, 7, 12, {}};
    m.accounts.push_back({"alice", 0, 3, {7, 2}});
    m.accounts.push_back({std::string("with space\nand\0nul", 18), 4000000000u, 11, {1, 1}});
    m.accounts.push_back({"", 1, 1, {5, 6}});
    const std::string text = manifest::encode(m);
    auto back = manifest::parse(text);
    REQUIRE(back);
    CHECK(*back == m);

    auto code = [](const std::string& t) {
        auto r = manifest::parse(t);
        return r ? Errc{} : r.error().code;
    };
    CHECK(code("") == Errc::bad_magic);
    CHECK(code("ADDRPOOL") == Errc::bad_magic);
    CHECK(code("addrpool-wallets 2\n") == Errc::unsupported_format);
    CHECK(code(text.substr(0, text.size() - 1)) == Errc::truncated);
    CHECK(code(text.substr(0, text.find("sha256"))) == Errc::truncated);
    std::string flipped = text;
    flipped[40] ^= 1;
    CHECK(code(flipped) == Errc::corrupt_data);
    // Well-formed and checksummed, but contradictory.
    auto with = [&](manifest::Manifest x) { return code(manifest::encode(x)); };
    manifest::Manifest twice = m;
    twice.accounts.push_back(m.accounts[0]);
    twice.accounts.back().file_id = 2;
    CHECK(with(twice) == Errc::inconsistent_data);
    manifest::Manifest same_file = m;
    same_file.accounts[1].file_id = 3;
    CHECK(with(same_file) == Errc::inconsistent_data);
    manifest::Manifest future = m;
    future.accounts[0].gen[0] = 8;
    CHECK(with(future) == Errc::inconsistent_data);
    manifest::Manifest file_range = m;
    file_range.accounts[0].file_id = 12;
    CHECK(with(file_range) == Errc::inconsistent_data);
    // Counters the next save would wrap (to 0: a manifest load refuses).
    for (const std::uint64_t big : {std::uint64_t{1} << 62, ~std::uint64_t{0}}) {
        manifest::Manifest late = m;
        late.generation = big;
        CHECK(with(late) == Errc::inconsistent_data);
        manifest::Manifest many = m;
        many.next_file_id = big;
        CHECK(with(many) == Errc::inconsistent_data);
    }
    manifest::Manifest old = m;
    old.generation = (std::uint64_t{1} << 62) - 1;
    old.next_file_id = (std::uint64_t{1} << 62) - 1;
    CHECK(manifest::parse(manifest::encode(old)));

    CHECK(manifest::pool_file(3, 0, 7) == "0000000000000003-e-7.pool");
    CHECK(manifest::pool_file(255, 1, 12) == "00000000000000ff-i-12.pool");
    CHECK(manifest::is_pool_file_or_temporary("0000000000000003-e-7.pool"));
    CHECK(manifest::is_pool_file_or_temporary("0000000000000003-i-7.pool.tmp-123-abcdef"));
    CHECK(!manifest::is_pool_file_or_temporary("wallets.manifest"));
    CHECK(!manifest::is_pool_file_or_temporary("0000000000000003-x-7.pool"));
    CHECK(!manifest::is_pool_file_or_temporary("0000000000000003-e-.pool"));
    CHECK(!manifest::is_pool_file_or_temporary("notes.pool"));
}
