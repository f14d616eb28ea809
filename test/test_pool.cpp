// AddressPool behaviour, one TEST_CASE per semantic of the pool issue.
#include <addrpool/addrpool.hpp>

#include "json.hpp"
#include "test_support.hpp"
#include "pool/pool_impl.hpp"
#include "pool/slot.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <latch>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace addrpool;
using namespace std::chrono_literals;

namespace {

constexpr const char* kMnemonic =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

// The BIP44 testnet account 0 key of the test mnemonic.
ExtendedPrivKey account_key(Network net = Network::testnet, std::uint32_t account = 0) {
    auto seed = mnemonic_to_seed(kMnemonic, "");
    REQUIRE(seed);
    auto root = ExtendedPrivKey::from_seed(*seed, net);
    REQUIRE(root);
    const std::uint32_t coin = bip44_coin_type(net);
    auto acct = root->derive(DerivationPath({44 | hardened_bit, coin | hardened_bit, account | hardened_bit}));
    REQUIRE(acct);
    return *acct;
}

KeySource private_source(Network net = Network::testnet) { return KeySource::from_private(account_key(net)); }
KeySource public_source(Network net = Network::testnet) { return KeySource::from_public(account_key(net).to_public()); }

DerivationPath path(const char* text) {
    auto p = DerivationPath::parse(text);
    REQUIRE(p);
    return *p;
}

// A clock the test moves by hand.
struct ManualClock {
    std::shared_ptr<std::atomic<std::int64_t>> ns = std::make_shared<std::atomic<std::int64_t>>(1'000'000'000);
    std::function<std::chrono::steady_clock::time_point()> fn() const {
        auto p = ns;
        return [p] { return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(p->load())); };
    }
    void advance(std::chrono::nanoseconds d) const { ns->fetch_add(d.count()); }
};

AddressPool external_pool(std::uint32_t gap = 20, PoolOptions opts = {}) {
    return AddressPool(path("m/44'/1'/0'/0"), PoolType::external, gap, Network::testnet, std::move(opts));
}

// Independent reference: the address at m/44'/1'/0'/chain/i via ExtendedPrivKey::derive.
Address reference_address(std::uint32_t chain, std::uint32_t i, AddressFormat f = AddressFormat::base58check) {
    auto k = account_key().derive(DerivationPath({chain, i}));
    REQUIRE(k);
    return Address::from_pubkey(Network::testnet, k->public_key(), f);
}

}  // namespace

// ---- 1. sequential semantics ------------------------------------------------

TEST_CASE("sequential hand-outs return the lowest free index and reserve it", "[pool][sequential]") {
    auto pool = external_pool();
    auto ks = private_source();
    for (std::uint32_t i = 0; i < 5; ++i) {
        auto r = pool.reserve(ks, true);
        REQUIRE(r);
        CHECK(r->index == i);
        CHECK(pool.state(i) == AddressState::reserved);
        CHECK(r->address == reference_address(0, i));
    }
    auto a = pool.next_unused_and_reserve(ks, true);
    REQUIRE(a);
    CHECK(*a == reference_address(0, 5));
    CHECK(pool.stats().reserved == 6);
}

TEST_CASE("the documented first three testnet receive addresses come out of the pool", "[pool][sequential]") {
    auto pool = external_pool();
    auto ks = private_source();
    const char* expected[] = {"yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt", "yfd64jEpzzTLrHnR1wq3iiYXh68AiU8mcw",
                              "yTGFWr27HBYsb8tkLbGdxLxuKbspamdbnG"};
    for (const char* e : expected) {
        auto a = pool.next_unused_and_reserve(ks, true);
        REQUIRE(a);
        CHECK(a->to_string() == e);
    }
}

TEST_CASE("tickets are unique within the pool, also across re-reservations of one index", "[pool][sequential]") {
    auto pool = external_pool();
    auto ks = private_source();
    std::set<std::uint64_t> tickets;
    for (int round = 0; round < 50; ++round) {
        auto r = pool.reserve(ks, false);
        REQUIRE(r);
        CHECK(r->index == 0);
        CHECK(tickets.insert(r->ticket).second);
        CHECK(pool.release_reservation(*r));
    }
    auto a = pool.reserve(ks, false);
    auto b = pool.reserve(ks, false);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->ticket != b->ticket);
}

TEST_CASE("a reservation records the pool clock's time", "[pool][sequential][ttl]") {
    ManualClock clock;
    PoolOptions opts;
    opts.clock = clock.fn();
    auto pool = external_pool(20, opts);
    auto ks = private_source();
    REQUIRE(pool.reserve(ks, true));
    clock.advance(10s);
    REQUIRE(pool.reserve(ks, true));
    clock.advance(5s);
    // Index 0 is 15 s old, index 1 is 5 s old.
    CHECK(pool.sweep_expired_reservations(10s) == 1);
    CHECK(pool.state(0) == AddressState::unused);
    CHECK(pool.state(1) == AddressState::reserved);
}

TEST_CASE("add_to_state materializes; without it the index is reserved but not generated", "[pool][sequential]") {
    auto pool = external_pool();
    auto ks = private_source();
    auto hidden = pool.reserve(ks, false);
    REQUIRE(hidden);
    CHECK(pool.state(0) == AddressState::reserved);
    CHECK_FALSE(pool.index_of(hidden->address));
    CHECK_FALSE(pool.address_at(0));
    CHECK(pool.stats().generated == 0);
    CHECK(pool.stats().reserved == 1);
    CHECK(pool.all_addresses().empty());

    auto shown = pool.reserve(ks, true);
    REQUIRE(shown);
    CHECK(shown->index == 1);
    CHECK(pool.index_of(shown->address) == 1u);
    CHECK(pool.address_at(1) == shown->address);
    CHECK(pool.stats().generated == 1);
    CHECK(pool.all_addresses() == std::vector<Address>{shown->address});
}

TEST_CASE("with KeySource::none and nothing derived the hand-out fails with no_key_source", "[pool][errors]") {
    auto pool = external_pool();
    auto r = pool.reserve(KeySource::none(), true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::no_key_source);
    CHECK(pool.stats().reserved == 0);
    CHECK_FALSE(KeySource::none().can_derive());
    CHECK(KeySource::none().is_watch_only());
    CHECK(public_source().is_watch_only());
    CHECK_FALSE(private_source().is_watch_only());
}

TEST_CASE("derived indices are handed out without any key; the next underived one needs a key",
          "[pool][derivation]") {
    PoolOptions opts;
    opts.lookahead = 8;
    auto pool = external_pool(20, opts);
    REQUIRE(pool.reserve(private_source(), true));  // derives 0 and the lookahead batch 1..8
    for (std::uint32_t i = 1; i <= 8; ++i) {
        auto r = pool.reserve(KeySource::none(), true);
        REQUIRE(r);
        CHECK(r->index == i);
        CHECK(r->address == reference_address(0, i));
    }
    auto r = pool.reserve(KeySource::none(), true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::no_key_source);
}

TEST_CASE("a key source of another account is refused by a pool bound to its first key", "[pool][errors]") {
    auto pool = external_pool();
    REQUIRE(pool.reserve(private_source(), true));
    auto other = KeySource::from_private(account_key(Network::testnet, 1));
    PoolOptions opts;
    auto r = pool.generate_addresses(50, other, true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_argument);
}

// ---- 2. concurrency ------------------------------------------------------------

TEST_CASE("two callers released together get two different addresses", "[pool][concurrency]") {
    for (int round = 0; round < 200; ++round) {
        auto pool = external_pool();
        auto ks = private_source();
        REQUIRE(pool.generate_addresses(4, ks, false));  // pre-derived: both take the lock-free path
        std::latch go(2);
        Result<Reservation> got[2] = {make_error(Errc::invalid_argument, ""), make_error(Errc::invalid_argument, "")};
        std::thread t[2];
        for (int k = 0; k < 2; ++k) {
            t[k] = std::thread([&, k] {
                go.arrive_and_wait();
                got[k] = pool.reserve(ks, true);
            });
        }
        for (auto& th : t) th.join();
        REQUIRE(got[0]);
        REQUIRE(got[1]);
        REQUIRE(got[0]->address != got[1]->address);
        REQUIRE(std::set<std::uint32_t>{got[0]->index, got[1]->index} == std::set<std::uint32_t>{0, 1});
    }
}

TEST_CASE("N concurrent hand-outs on a fresh pool yield exactly indices 0..N-1 (no holes)", "[pool][concurrency]") {
    constexpr int kThreads = 8;
    constexpr int kPerThread = 250;
    for (std::uint32_t lookahead : {1u, 64u}) {
        PoolOptions opts;
        opts.lookahead = lookahead;
        auto pool = external_pool(20, opts);
        auto ks = public_source();
        std::latch go(kThreads);
        std::vector<std::vector<Reservation>> got(kThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                go.arrive_and_wait();
                for (int k = 0; k < kPerThread; ++k) {
                    auto r = pool.reserve(ks, true);
                    if (r) got[t].push_back(*r);
                }
            });
        }
        for (auto& th : threads) th.join();
        std::vector<std::uint32_t> idx;
        std::set<std::string> addrs;
        for (auto& v : got) {
            for (auto& r : v) {
                idx.push_back(r.index);
                addrs.insert(r.address.to_string());
                REQUIRE(pool.address_at(r.index) == r.address);
            }
        }
        std::sort(idx.begin(), idx.end());
        REQUIRE(idx.size() == kThreads * kPerThread);
        for (std::uint32_t i = 0; i < idx.size(); ++i) REQUIRE(idx[i] == i);
        CHECK(addrs.size() == idx.size());
        CHECK(pool.stats().reserved == kThreads * kPerThread);
        // Spot-check the derivation against the independent path.
        CHECK(pool.address_at(0) == reference_address(0, 0));
        CHECK(pool.address_at(1999) == reference_address(0, 1999));
    }
}

TEST_CASE("concurrent churn never gives one index to two live holders", "[pool][concurrency]") {
    constexpr int kThreads = 4;
    auto pool = external_pool();
    auto ks = private_source();
    REQUIRE(pool.generate_addresses(64, ks, false));
    std::vector<std::atomic<int>> owner(4096);
    for (auto& o : owner) o.store(-1);
    std::atomic<int> violations{0};
    std::barrier sync(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            sync.arrive_and_wait();
            std::vector<Reservation> mine;
            for (int k = 0; k < 3000; ++k) {
                if (mine.size() < 4 && (k % 3 != 2)) {
                    auto r = pool.reserve(ks, k % 2 == 0);
                    if (!r) continue;
                    int expected = -1;
                    if (!owner[r->index].compare_exchange_strong(expected, t)) violations.fetch_add(1);
                    mine.push_back(*r);
                } else if (!mine.empty()) {
                    Reservation r = mine.back();
                    mine.pop_back();
                    owner[r.index].store(-1);  // give up ownership before the release
                    if (!pool.release_reservation(r)) violations.fetch_add(1);
                }
            }
            for (auto& r : mine) {
                owner[r.index].store(-1);
                (void)pool.release_reservation(r);
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(violations.load() == 0);
    CHECK(pool.stats().reserved == 0);
}

// ---- 3. release ----------------------------------------------------------------

TEST_CASE("release_reservation by index is true only on a change and idempotent", "[pool][release]") {
    auto pool = external_pool();
    auto ks = private_source();
    REQUIRE(pool.reserve(ks, true));
    CHECK(pool.release_reservation(0u));
    CHECK_FALSE(pool.release_reservation(0u));   // already unused
    CHECK_FALSE(pool.release_reservation(999u));  // unknown
    REQUIRE(pool.reserve(ks, true));
    REQUIRE(pool.mark_index_used(0));
    CHECK_FALSE(pool.release_reservation(0u));  // used
    CHECK(pool.state(0) == AddressState::used);
}

TEST_CASE("a released index is handed out again before any higher one", "[pool][release]") {
    auto pool = external_pool();
    auto ks = private_source();
    for (int i = 0; i < 6; ++i) REQUIRE(pool.reserve(ks, true));
    CHECK(pool.release_reservation(4u));
    CHECK(pool.release_reservation(2u));
    auto a = pool.reserve(ks, true);
    auto b = pool.reserve(ks, true);
    auto c = pool.reserve(ks, true);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(c);
    CHECK(a->index == 2);
    CHECK(b->index == 4);
    CHECK(c->index == 6);
}

// A release parks its index in the free index's spare when the spare is
// empty, else sets its free bits (free_index.hpp (F7)); a hand-out takes
// whichever of the two, or the frontier, is lowest (F8). Against a plain set
// of free indices, in random release orders across two leaf lines: every
// hand-out and every next_unused gives the lowest free index.
TEST_CASE("the spare and the free bits together always give the lowest free index", "[pool][release]") {
    const std::uint64_t seed = addrpool_test::test_seed("spare and free bits");
    std::mt19937_64 rng(seed);
    auto pool = external_pool();
    auto ks = private_source();
    constexpr std::uint32_t kHeld = 600;  // leaf lines of 512: the free bits span two
    std::map<std::uint32_t, Reservation> held;
    std::map<std::uint32_t, Address> address;
    for (std::uint32_t i = 0; i < kHeld; ++i) {
        auto r = pool.reserve(ks, true);
        REQUIRE(r);
        REQUIRE(r->index == i);
        address.emplace(i, r->address);
        held.emplace(i, *r);
    }
    std::set<std::uint32_t> free;  // the reference
    std::uint32_t next_fresh = kHeld;
    for (int round = 0; round < 300; ++round) {
        INFO("round " << round << ", seed " << seed);
        // Release a few held reservations, in random order, by ticket or by index.
        const auto k = std::uniform_int_distribution<std::size_t>(1, 6)(rng);
        for (std::size_t n = 0; n < k && !held.empty(); ++n) {
            auto it = std::next(held.begin(), static_cast<std::ptrdiff_t>(
                                                  std::uniform_int_distribution<std::size_t>(0, held.size() - 1)(rng)));
            const bool by_ticket = (rng() & 1) != 0;
            REQUIRE((by_ticket ? pool.release_reservation(it->second) : pool.release_reservation(it->first)));
            free.insert(it->first);
            held.erase(it);
        }
        const std::uint32_t lowest = free.empty() ? next_fresh : *free.begin();
        auto peek = pool.next_unused(ks, false);
        REQUIRE(peek);
        if (lowest < next_fresh) CHECK(*peek == address.at(lowest));
        // Take some back: each the lowest free index at that moment.
        const auto m = std::uniform_int_distribution<std::size_t>(0, k + 1)(rng);
        for (std::size_t n = 0; n < m; ++n) {
            auto r = pool.reserve(ks, true);
            REQUIRE(r);
            const std::uint32_t want = free.empty() ? next_fresh : *free.begin();
            CHECK(r->index == want);
            if (free.erase(r->index) == 0) {
                REQUIRE(r->index == next_fresh);
                ++next_fresh;
                address.emplace(r->index, r->address);
            }
            held.emplace(r->index, *r);
        }
    }
    // Nothing lost: every index below the frontier is held or comes back, lowest first.
    for (std::uint32_t want : std::vector<std::uint32_t>(free.begin(), free.end())) {
        auto r = pool.reserve(ks, true);
        REQUIRE(r);
        CHECK(r->index == want);
    }
    CHECK(pool.stats().reserved == next_fresh);
}

TEST_CASE("release with a stale ticket leaves the new holder's reservation alone", "[pool][release]") {
    auto pool = external_pool();
    auto ks = private_source();
    auto first = pool.reserve(ks, true);
    REQUIRE(first);
    CHECK(pool.release_reservation(*first));
    auto second = pool.reserve(ks, true);
    REQUIRE(second);
    REQUIRE(second->index == first->index);
    CHECK(second->ticket != first->ticket);
    CHECK_FALSE(pool.release_reservation(*first));  // the late second release
    CHECK(pool.state(second->index) == AddressState::reserved);
    CHECK(pool.release_reservation(*second));
    CHECK_FALSE(pool.release_reservation(*second));  // a double release
}

TEST_CASE("a reservation whose ticket names another index is not released", "[pool][release]") {
    auto pool = external_pool();
    auto ks = private_source();
    auto r = pool.reserve(ks, true);
    REQUIRE(r);
    Reservation forged = *r;
    forged.index = r->index + 1;
    CHECK_FALSE(pool.release_reservation(forged));
    CHECK(pool.state(r->index) == AddressState::reserved);
}

// ---- 4. mark used --------------------------------------------------------------

TEST_CASE("marking a reserved address used completes the lifecycle", "[pool][used]") {
    auto pool = external_pool();
    auto ks = private_source();
    auto r = pool.reserve(ks, true);
    REQUIRE(r);
    CHECK(pool.mark_used(r->address));
    CHECK(pool.state(r->index) == AddressState::used);
    CHECK_FALSE(pool.release_reservation(*r));
    CHECK_FALSE(pool.release_reservation(r->index));
    CHECK_FALSE(pool.mark_used(r->address));  // no change
    CHECK(pool.used_addresses() == std::vector<Address>{r->address});
    auto next = pool.reserve(ks, true);
    REQUIRE(next);
    CHECK(next->index == 1);
}

TEST_CASE("mark_index_used and mark_script_used move any known state to used", "[pool][used]") {
    auto pool = external_pool();
    auto ks = private_source();
    REQUIRE(pool.maintain_gap_limit(ks));  // 0..19 generated, unused
    CHECK(pool.mark_index_used(3));        // unused → used
    CHECK_FALSE(pool.mark_index_used(3));
    auto a5 = pool.address_at(5);
    REQUIRE(a5);
    CHECK(pool.mark_script_used(a5->script_pubkey()));
    CHECK_FALSE(pool.mark_script_used(a5->script_pubkey()));
    CHECK(pool.index_of_script(a5->script_pubkey()) == 5u);
    CHECK(pool.state(5) == AddressState::used);
    auto hidden = pool.reserve(ks, false);  // reserved, not generated: still known
    REQUIRE(hidden);
    CHECK(pool.mark_index_used(hidden->index));
    CHECK(pool.address_at(hidden->index) == hidden->address);  // used entries are materialized
    CHECK(pool.stats().highest_used == 5u);
}

TEST_CASE("marking an unknown address, script or index used changes nothing", "[pool][used]") {
    auto pool = external_pool();
    auto ks = private_source();
    REQUIRE(pool.maintain_gap_limit(ks));
    const Address stranger = reference_address(1, 0);  // the internal chain: not in this pool
    CHECK_FALSE(pool.mark_used(stranger));
    CHECK_FALSE(pool.mark_script_used(stranger.script_pubkey()));
    CHECK_FALSE(pool.mark_index_used(5000));
    const std::uint8_t junk[] = {0x51};
    CHECK_FALSE(pool.mark_script_used(junk));
    CHECK(pool.stats().used == 0);
}

TEST_CASE("used is terminal until reset_usage, which frees used and reserved alike", "[pool][used]") {
    auto pool = external_pool();
    auto ks = private_source();
    for (int i = 0; i < 4; ++i) REQUIRE(pool.reserve(ks, true));
    REQUIRE(pool.mark_index_used(1));
    REQUIRE(pool.mark_index_used(2));
    CHECK(pool.sweep_expired_reservations(0ns) == 2);  // frees 0 and 3, not the used ones
    CHECK(pool.state(1) == AddressState::used);
    pool.reset_usage();
    auto st = pool.stats();
    CHECK(st.used == 0);
    CHECK(st.reserved == 0);
    CHECK(st.generated == 4);
    CHECK_FALSE(st.highest_used);
    auto r = pool.reserve(ks, true);
    REQUIRE(r);
    CHECK(r->index == 0);
}

// ---- 5. TTL sweep --------------------------------------------------------------

TEST_CASE("sweep frees reservations exactly at their ttl, not a nanosecond before", "[pool][ttl]") {
    ManualClock clock;
    PoolOptions opts;
    opts.clock = clock.fn();
    auto pool = external_pool(20, opts);
    auto ks = private_source();
    REQUIRE(pool.reserve(ks, true));
    clock.advance(60s - 1ns);
    CHECK(pool.sweep_expired_reservations(60s) == 0);
    CHECK(pool.state(0) == AddressState::reserved);
    clock.advance(1ns);
    CHECK(pool.sweep_expired_reservations(60s) == 1);
    CHECK(pool.state(0) == AddressState::unused);
    CHECK(pool.sweep_expired_reservations(60s) == 0);
}

TEST_CASE("sweep returns how many it freed and leaves used and fresh entries alone", "[pool][ttl]") {
    ManualClock clock;
    PoolOptions opts;
    opts.clock = clock.fn();
    auto pool = external_pool(20, opts);
    auto ks = private_source();
    for (int i = 0; i < 5; ++i) REQUIRE(pool.reserve(ks, true));
    REQUIRE(pool.mark_index_used(0));
    clock.advance(2min);
    for (int i = 0; i < 3; ++i) REQUIRE(pool.reserve(ks, true));  // 5, 6, 7: fresh
    CHECK(pool.sweep_expired_reservations(1min) == 4);              // 1..4
    CHECK(pool.state(0) == AddressState::used);
    for (std::uint32_t i = 5; i < 8; ++i) CHECK(pool.state(i) == AddressState::reserved);
    auto r = pool.reserve(ks, true);
    REQUIRE(r);
    CHECK(r->index == 1);  // freed indices come back first
}

TEST_CASE("a sweep that examined an old reservation never frees its re-reservation", "[pool][ttl]") {
    // The race, replayed step by step on one slot word: the sweep loads the
    // word of an expired reservation; meanwhile it is released and re-taken;
    // the sweep's CAS must fail.
    boost::atomic<detail::slot::Word> word{0};
    namespace slot = detail::slot;
    slot::Word w = 0;
    REQUIRE(slot::try_claim(word, w, /*stamp_ms=*/1, false));
    const slot::Word seen_by_sweep = slot::load(word);
    REQUIRE(slot::release(word));
    slot::Word w2 = slot::load(word);
    REQUIRE(slot::try_claim(word, w2, /*stamp_ms=*/1, false));  // same stamp even: only the ticket differs
    CHECK_FALSE(slot::sweep_one(word, seen_by_sweep));
    CHECK(slot::is_reserved(slot::load(word)));
}

TEST_CASE("a sweep racing re-reservations on a real pool frees only expired ones", "[pool][ttl][concurrency]") {
    ManualClock clock;
    PoolOptions opts;
    opts.clock = clock.fn();
    auto pool = external_pool(20, opts);
    auto ks = private_source();
    REQUIRE(pool.generate_addresses(200, ks, false));
    for (int i = 0; i < 100; ++i) REQUIRE(pool.reserve(ks, true));
    clock.advance(10min);  // the first 100 are expired
    std::latch go(2);
    std::vector<Reservation> fresh;
    std::size_t freed = 0;
    std::thread sweeper([&] {
        go.arrive_and_wait();
        freed = pool.sweep_expired_reservations(5min);
    });
    std::thread taker([&] {
        go.arrive_and_wait();
        for (int i = 0; i < 100; ++i) {
            auto r = pool.reserve(ks, true);
            if (r) fresh.push_back(*r);
        }
    });
    sweeper.join();
    taker.join();
    // Every reservation taken during the sweep is stamped now (age 0 < 5 min): none was freed.
    for (auto& r : fresh) CHECK(pool.state(r.index) == AddressState::reserved);
    CHECK(freed == 100);
    CHECK(pool.stats().reserved == fresh.size());
}

// ---- 6. gap window -------------------------------------------------------------

TEST_CASE("scan_window_end is max(highest used, highest reserved) + 1 + gap limit", "[pool][gap]") {
    auto pool = external_pool(20);
    auto ks = private_source();
    CHECK(pool.scan_window_end() == 20);
    for (int i = 0; i < 3; ++i) REQUIRE(pool.reserve(ks, true));
    CHECK(pool.scan_window_end() == 23);  // highest reserved 2
    REQUIRE(pool.mark_index_used(1));
    CHECK(pool.scan_window_end() == 23);
    REQUIRE(pool.release_reservation(2u));
    CHECK(pool.scan_window_end() == 22);  // highest used 1, highest reserved 0
    REQUIRE(pool.release_reservation(0u));
    CHECK(pool.scan_window_end() == 22);
    auto st = pool.stats();
    CHECK(st.highest_used == 1u);
    CHECK_FALSE(st.highest_reserved);
}

TEST_CASE("maintain_gap_limit generates up to the scan window and reports what it added", "[pool][gap]") {
    auto pool = external_pool(5);
    auto ks = public_source();
    auto added = pool.maintain_gap_limit(ks);
    REQUIRE(added);
    CHECK(added->size() == 5);
    CHECK(pool.stats().generated == 5);
    REQUIRE(pool.mark_index_used(3));
    added = pool.maintain_gap_limit(ks);
    REQUIRE(added);
    CHECK(added->size() == 4);  // 5..8
    CHECK(pool.stats().highest_generated == 8u);
    CHECK(pool.all_addresses().size() == 9);
    added = pool.maintain_gap_limit(ks);
    REQUIRE(added);
    CHECK(added->empty());
}

TEST_CASE("GapPolicy::error stops hand-outs exactly at the gap boundary", "[pool][gap]") {
    PoolOptions opts;
    opts.gap_policy = GapPolicy::error;
    auto pool = external_pool(3, opts);
    auto ks = private_source();
    for (std::uint32_t i = 0; i < 3; ++i) {
        auto r = pool.reserve(ks, true);
        REQUIRE(r);
        CHECK(r->index == i);
    }
    auto over = pool.reserve(ks, true);  // index 3 >= 0 + 3
    REQUIRE_FALSE(over);
    CHECK(over.error().code == Errc::gap_limit_reached);
    CHECK(pool.stats().reserved == 3);
    REQUIRE(pool.mark_index_used(0));  // window: (0 + 1) + 3 = 4
    auto r3 = pool.reserve(ks, true);
    REQUIRE(r3);
    CHECK(r3->index == 3);
    auto r4 = pool.reserve(ks, true);
    REQUIRE_FALSE(r4);
    CHECK(r4.error().code == Errc::gap_limit_reached);
    auto peek = pool.next_unused(ks, false);
    REQUIRE_FALSE(peek);
    CHECK(peek.error().code == Errc::gap_limit_reached);
}

TEST_CASE("GapPolicy::unbounded hands out past the gap limit", "[pool][gap]") {
    auto pool = external_pool(2);
    auto ks = private_source();
    for (std::uint32_t i = 0; i < 10; ++i) {
        auto r = pool.reserve(ks, true);
        REQUIRE(r);
        CHECK(r->index == i);
    }
}

// ---- parity API ----------------------------------------------------------------

TEST_CASE("next_unused reserves nothing and skips used and reserved indices", "[pool][parity]") {
    auto pool = external_pool();
    auto ks = private_source();
    auto a = pool.next_unused(ks, false);
    auto b = pool.next_unused(ks, false);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a == *b);
    CHECK(pool.stats().reserved == 0);
    CHECK(pool.stats().generated == 0);
    REQUIRE(pool.reserve(ks, true));   // 0
    REQUIRE(pool.reserve(ks, true));   // 1
    REQUIRE(pool.mark_index_used(1));  // used
    auto c = pool.next_unused(ks, true);
    REQUIRE(c);
    CHECK(*c == reference_address(0, 2));
    CHECK(pool.index_of(*c) == 2u);  // add_to_state materialized it
    auto many = pool.next_unused_multiple(3, ks, false);
    REQUIRE(many);
    CHECK(*many == std::vector<Address>{reference_address(0, 2), reference_address(0, 3), reference_address(0, 4)});
}

TEST_CASE("generate_addresses continues after the highest generated index", "[pool][parity]") {
    auto pool = external_pool();
    auto ks = public_source();
    auto first = pool.generate_addresses(3, ks, true);
    REQUIRE(first);
    auto second = pool.generate_addresses(2, ks, true);
    REQUIRE(second);
    CHECK((*second)[0] == reference_address(0, 3));
    CHECK((*second)[1] == reference_address(0, 4));
    auto dry = pool.generate_addresses(2, ks, false);
    REQUIRE(dry);
    CHECK((*dry)[0] == reference_address(0, 5));
    CHECK(pool.stats().generated == 5);
    auto too_many = pool.generate_addresses(5'000'000, ks, true);
    REQUIRE_FALSE(too_many);
    CHECK(too_many.error().code == Errc::invalid_argument);
}

TEST_CASE("labels belong to generated addresses", "[pool][parity]") {
    auto pool = external_pool();
    auto ks = private_source();
    auto r = pool.reserve(ks, true);
    REQUIRE(r);
    CHECK(pool.set_label(r->address, "invoice 17"));
    CHECK(pool.label(r->address) == std::string("invoice 17"));
    CHECK_FALSE(pool.set_label(reference_address(0, 40), "nope"));
    CHECK_FALSE(pool.label(reference_address(0, 40)));
}

TEST_CASE("prune_unused drops the unused tail beyond the gap window and nothing inside it", "[pool][parity]") {
    auto pool = external_pool(10);
    auto ks = private_source();
    REQUIRE(pool.maintain_gap_limit(ks));  // 0..9
    REQUIRE(pool.mark_index_used(2));
    auto r = pool.reserve(ks, true);  // 0
    REQUIRE(r);
    REQUIRE(pool.maintain_gap_limit(ks));  // up to 2 + 1 + 10 = 13
    CHECK(pool.stats().generated == 13);
    CHECK(pool.prune_unused() == 0);  // everything generated is inside the window
    REQUIRE(pool.generate_addresses(5, ks, true));  // 13..17, beyond the window
    CHECK(pool.prune_unused() == 5);
    auto st = pool.stats();
    CHECK(st.generated == 13);
    CHECK(pool.state(0) == AddressState::reserved);
    CHECK(pool.state(2) == AddressState::used);
    CHECK(pool.address_at(12));  // inside the window: kept
    CHECK_FALSE(pool.address_at(13));
}

TEST_CASE("prune keeps the gap window watched (gap 4, index 3 used, 4..7 generated)", "[pool][parity]") {
    auto pool = external_pool(4);
    auto ks = private_source();
    REQUIRE(pool.generate_addresses(8, ks, true));  // 0..7
    REQUIRE(pool.mark_index_used(3));
    CHECK(pool.scan_window_end() == 8);
    CHECK(pool.prune_unused() == 0);
    // A payment to index 7 is still recognised.
    CHECK(pool.mark_used(reference_address(0, 7)));
}

// ---- 9. pool types and the shared vectors --------------------------------------

TEST_CASE("pool addresses equal the shared BIP44 vectors for both chains, networks and wallets",
          "[pool][vectors]") {
    const auto doc = testjson::Value::parse_file(testjson::data_path("dash_bip44.json"));
    for (const auto& wallet : doc["wallets"].array()) {
        auto seed = mnemonic_to_seed(wallet["mnemonic"].str(), wallet["passphrase"].str());
        REQUIRE(seed);
        for (const auto& [net_name, net] : wallet["networks"].object()) {
            const Network network = net_name == "mainnet" ? Network::mainnet : Network::testnet;
            auto root = ExtendedPrivKey::from_seed(*seed, network);
            REQUIRE(root);
            for (const auto& account : net["accounts"].array()) {
                auto acct = root->derive(path(account["path"].str().c_str()));
                REQUIRE(acct);
                for (const char* chain : {"external_chain", "internal_chain"}) {
                    if (!account.has(chain)) continue;
                    const PoolType type = std::string(chain) == "external_chain" ? PoolType::external : PoolType::internal;
                    for (bool use_public : {false, true}) {
                        auto ks = use_public ? KeySource::from_public(acct->to_public()) : KeySource::from_private(*acct);
                        AddressPool pool(path(account[chain]["path"].str().c_str()), type, 20, network);
                        for (const auto& a : account[chain]["addresses"].array()) {
                            auto r = pool.reserve(ks, true);
                            REQUIRE(r);
                            CHECK(r->index == a["index"].u64());
                            CHECK(r->address.to_string() == a["address"].str());
                            CHECK(testjson::hex(r->address.hash160()) == a["hash160_hex"].str());
                            CHECK(pool.path_of(r->index).to_string() == a["path"].str());
                        }
                    }
                }
            }
        }
    }
}

TEST_CASE("absent pools below a DIP-17 key give the DIP-18 platform addresses", "[pool][vectors]") {
    const auto doc = testjson::Value::parse_file(testjson::data_path("dash_bip44.json"));
    for (const auto& wallet : doc["wallets"].array()) {
        for (const auto& [net_name, net] : wallet["networks"].object()) {
            if (!net.has("platform_dip17")) continue;
            const Network network = net_name == "mainnet" ? Network::mainnet : Network::testnet;
            const auto& dip17 = net["platform_dip17"];
            auto key = ExtendedPrivKey::parse(dip17["ext_prv"].str());
            REQUIRE(key);
            for (auto format : {AddressFormat::platform, AddressFormat::base58check}) {
                PoolOptions opts;
                opts.format = format;
                AddressPool pool(path(dip17["path"].str().c_str()), PoolType::absent, 20, network, opts);
                auto ks = KeySource::from_public(key->to_public());
                for (const auto& k : dip17["keys"].array()) {
                    auto r = pool.reserve(ks, true);
                    REQUIRE(r);
                    CHECK(r->index == k["index"].u64());
                    CHECK(r->address.to_string() == (format == AddressFormat::platform
                                                          ? k["platform_address_dip18"].str()
                                                          : k["p2pkh_encoding_not_a_platform_address"].str()));
                    CHECK(pool.path_of(r->index).to_string() == k["path"].str());
                }
            }
        }
    }
}

TEST_CASE("absent_hardened pools derive hardened children and refuse a public key", "[pool][types]") {
    const auto acct = account_key();
    AddressPool pool(path("m/44'/1'/0'"), PoolType::absent_hardened, 5, Network::testnet);
    auto r = pool.reserve(KeySource::from_private(acct), true);
    REQUIRE(r);
    auto child = acct.derive_child(0 | hardened_bit);
    REQUIRE(child);
    CHECK(r->address == Address::from_pubkey(Network::testnet, child->public_key()));
    CHECK(pool.path_of(0).to_string() == "m/44'/1'/0'/0'");

    AddressPool watch(path("m/44'/1'/0'"), PoolType::absent_hardened, 5, Network::testnet);
    auto refused = watch.reserve(KeySource::from_public(acct.to_public()), true);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == Errc::hardened_from_public);
}

TEST_CASE("internal pools derive chain 1", "[pool][types]") {
    AddressPool pool(path("m/44'/1'/0'/1"), PoolType::internal, 5, Network::testnet);
    auto r = pool.reserve(public_source(), true);
    REQUIRE(r);
    CHECK(r->address == reference_address(1, 0));
}

// ---- 10. shape -----------------------------------------------------------------

TEST_CASE("per-index state stays within 16 bytes and the slot word is a lock-free 64-bit atomic", "[pool][shape]") {
    using detail::Slot;
    using detail::SlotArray;
    CHECK(sizeof(detail::AtomicWord) + sizeof(detail::SlotInfo::meta) <= 16);
    CHECK(sizeof(detail::AtomicWord) == 8);  // the dense word array: 8 bytes per index
    CHECK(sizeof(detail::SlotInfo) == 24);   // hash160 and flags beside it
    CHECK(Slot::kBytes == 32);
    CHECK(boost::atomic<std::uint64_t>::is_always_lock_free);
    // Small segments: [0, 32), then [2^(k+4), 2^(k+5)) up to 2^16.
    CHECK(SlotArray::segment_of(0) == 0);
    CHECK(SlotArray::segment_of(31) == 0);
    CHECK(SlotArray::segment_of(32) == 1);
    CHECK(SlotArray::segment_of(64) == 2);
    CHECK(SlotArray::segment_of(65535) == SlotArray::kSmallSegments - 1);
    for (std::uint32_t i : {0u, 1u, 31u, 32u, 63u, 64u, 1023u, 1024u, 32768u, 65535u}) {
        const unsigned k = SlotArray::segment_of(i);
        CHECK(i >= SlotArray::segment_base(k));
        CHECK(i - SlotArray::segment_base(k) < SlotArray::segment_size(k));
    }
}

TEST_CASE("touching index 2^31 - 1 allocates one chunk, not a segment of 2^30 slots", "[pool][shape]") {
    // A pool that derives only its last possible index: the slot array maps
    // a chunk directory and one 2^16-slot chunk (about 2.3 MiB), all zero pages.
    auto pool = external_pool();
    auto ks = public_source();
    auto r = pool.mark_index_used(0x7fffffffu, ks);
    REQUIRE(r);
    CHECK(*r);
    CHECK(pool.state(0x7fffffffu) == AddressState::used);
    CHECK(pool.address_at(0x7fffffffu) == reference_address(0, 0x7fffffffu));
    CHECK(pool.stats().used == 1);
    CHECK(pool.sweep_expired_reservations(0ns) == 0);  // walks what is allocated only
}

TEST_CASE("walks visit the touched leaf lines of a block, not the whole block", "[pool][shape][sparse]") {
    using detail::Slot;
    using detail::SlotArray;
    // A sparse pool file allocates a 2^16-slot chunk per entry: its walks
    // (serialize, stats, the sweep) visit the 512-index leaf lines that
    // ensure() touched, not every slot of every chunk.
    std::vector<std::uint32_t> idx = {0, 700, 40000, (1u << 16) + 511, (1u << 16) + 512, 0x7fffffffu};
    for (std::uint32_t k = 1; k <= 64; ++k) idx.push_back(k << 16);
    std::sort(idx.begin(), idx.end());
    SlotArray a;
    for (std::uint32_t i : idx) a.ensure(i).word.store(i + 1, boost::memory_order_relaxed);  // relaxed: one thread
    (void)a.ensure((3u << 16) + 2000);  // touched, never written: visited all the same
    std::set<std::uint32_t> lines;  // the leaf lines touched at or above 512
    for (std::uint32_t i : idx) {
        if (i >= 512) lines.insert(i >> 9);
    }
    lines.insert(((3u << 16) + 2000) >> 9);
    REQUIRE(lines.size() == 69);  // 2^16, 2^16 + 511 and 2^16 + 512 are in two lines

    const auto written = [](const Slot& s) { return s.word.load(boost::memory_order_relaxed) != 0; };  // relaxed: one thread
    std::size_t visits = 0;
    std::vector<std::uint32_t> found;
    a.for_each(0, detail::kMaxIndex, [&](std::uint32_t i, const Slot& s) {
        ++visits;
        if (!written(s)) return;
        CHECK(s.word.load(boost::memory_order_relaxed) == i + 1);  // relaxed: one thread
        found.push_back(i);
    });
    CHECK(found == idx);
    // Segment 0 (32 slots, below 512: walked whole), then 512 per touched
    // line — not 2^16 per chunk (4.3 million here).
    CHECK(visits == 32 + 512 * lines.size());

    std::size_t asked = 0;
    CHECK_FALSE(a.highest(0, detail::kMaxIndex, [&](const Slot&) {
        ++asked;
        return false;
    }));
    CHECK(asked == visits);
    CHECK(a.highest(0, detail::kMaxIndex, written) == 0x7fffffffu);
    CHECK(a.highest(0, 0x7fffffffu, written) == 64u << 16);
    CHECK(a.highest(0, 2u << 16, written) == (1u << 16) + 512);
    CHECK(a.highest(0, (1u << 16) + 511, written) == 1u << 16);
    CHECK(a.highest((1u << 16) + 1, (1u << 16) + 511, written) == std::nullopt);
    CHECK(a.highest(1, 40000, written) == 700u);

    // Bounds inside a line: from and end cut it, the next line is whole.
    visits = 0;
    found.clear();
    a.for_each((1u << 16) + 1, (1u << 16) + 600, [&](std::uint32_t i, const Slot& s) {
        ++visits;
        if (written(s)) found.push_back(i);
    });
    CHECK(found == std::vector<std::uint32_t>{(1u << 16) + 511, (1u << 16) + 512});
    CHECK(visits == 511 + 88);
}

TEST_CASE("a sparse pool keeps its counts, sweeps its reservations and saves the same bytes after a load",
          "[pool][sparse]") {
    ManualClock clock;
    PoolOptions opts;
    opts.clock = clock.fn();
    auto pool = external_pool(20, opts);
    auto ks = public_source();
    // Entries 2^16 and more apart (a chunk each), two chunks with entries in
    // neighbouring leaf lines, a small segment above 512, and the ends.
    const std::vector<std::uint32_t> used = {0, 3u << 16, (5u << 16) + 511, 32767u << 16};
    const std::vector<std::uint32_t> unused = {700, (5u << 16) + 512, 1000u << 16, 0x7fffffffu};
    const std::vector<std::uint32_t> old = {2u << 16, (5u << 16) + 513, 30000u << 16};  // reserved an hour ago
    const std::uint32_t fresh = (9u << 16) + 100;                                      // reserved now
    for (std::uint32_t i : used) REQUIRE(pool.mark_index_used(i, ks));
    for (std::uint32_t i : unused) {
        REQUIRE(pool.restore_reservation(i, 0ns, ks));  // materialized...
        REQUIRE(pool.release_reservation(i));            // ...then unused
    }
    for (std::uint32_t i : old) REQUIRE(pool.restore_reservation(i, 1h, ks));
    REQUIRE(pool.restore_reservation(fresh, 0ns, ks));

    auto st = pool.stats();
    CHECK(st.generated == 12);
    CHECK(st.used == 4);
    CHECK(st.reserved == 4);
    CHECK(st.unused == 4);
    CHECK(st.highest_used == 32767u << 16);
    CHECK(st.highest_reserved == 30000u << 16);
    CHECK(st.highest_generated == 0x7fffffffu);
    CHECK(pool.scan_window_end() == (32767u << 16) + 1 + 20);
    CHECK(pool.used_addresses().size() == 4);
    CHECK(pool.unused_addresses().size() == 4);
    const auto all = pool.all_addresses();
    REQUIRE(all.size() == 12);
    CHECK(all.front() == reference_address(0, 0));
    CHECK(all.back() == reference_address(0, 0x7fffffffu));
    CHECK(pool.address_at(30000u << 16) == reference_address(0, 30000u << 16));

    const std::string bytes = pool.serialize();
    auto back = AddressPool::deserialize(bytes, opts);
    REQUIRE(back);
    CHECK(back->serialize() == bytes);
    const auto bst = back->stats();
    CHECK(bst.generated == 12);
    CHECK(bst.used == 4);
    CHECK(bst.reserved == 0);  // reservations are not durable
    CHECK(bst.unused == 8);
    CHECK(bst.highest_used == 32767u << 16);
    CHECK(bst.highest_generated == 0x7fffffffu);
    CHECK(back->all_addresses() == all);
    for (std::uint32_t i : used) CHECK(back->state(i) == AddressState::used);
    for (std::uint32_t i : unused) CHECK(back->state(i) == AddressState::unused);
    for (std::uint32_t i : old) CHECK(back->state(i) == AddressState::unused);

    // The sweep finds the hour-old reservations in their chunks and leaves
    // the fresh one; the durable state does not change.
    CHECK(pool.sweep_expired_reservations(30min) == old.size());
    for (std::uint32_t i : old) CHECK(pool.state(i) == AddressState::unused);
    CHECK(pool.state(fresh) == AddressState::reserved);
    st = pool.stats();
    CHECK(st.reserved == 1);
    CHECK(st.highest_reserved == fresh);
    CHECK(st.unused == 7);
    CHECK(pool.serialize() == bytes);
    clock.advance(1h);
    CHECK(pool.sweep_expired_reservations(30min) == 1);
    CHECK(pool.stats().reserved == 0);
}

TEST_CASE("the slot word keeps state, generated flag, generation and stamp apart", "[pool][shape]") {
    namespace slot = detail::slot;
    const slot::Word w = slot::claimed(0, slot::kStampMax + 5, true);
    CHECK(slot::is_reserved(w));
    CHECK(slot::is_generated(w));
    CHECK(slot::gen(w) == 1);
    CHECK(slot::stamp(w) == slot::kStampMax);  // saturates
    const slot::Word r = slot::released(w);
    CHECK(slot::is_unused(r));
    CHECK(slot::gen(r) == 1);
    CHECK(slot::stamp(r) == 0);
    CHECK(slot::is_generated(r));
    CHECK(slot::next_gen((1u << slot::kGenBits) - 1) == 1);  // wraps past 0
    const slot::Word u = slot::marked_used(w);
    CHECK(slot::is_used(u));
    CHECK(slot::is_generated(u));
}

TEST_CASE("the pool can be moved and keeps its state", "[pool]") {
    auto pool = external_pool();
    auto ks = private_source();
    REQUIRE(pool.reserve(ks, true));
    AddressPool moved = std::move(pool);
    CHECK(moved.state(0) == AddressState::reserved);
    auto r = moved.reserve(ks, true);
    REQUIRE(r);
    CHECK(r->index == 1);
}

// ---- regressions from the concurrency review -----------------------------------

TEST_CASE("indices at or above 2^31 are unknown to every query and change", "[pool][errors]") {
    auto pool = external_pool();
    REQUIRE(pool.reserve(private_source(), true));
    for (std::uint32_t i : {0x80000000u, 0x80000001u, 0xffffffffu}) {
        CHECK(pool.state(i) == AddressState::unused);
        CHECK_FALSE(pool.address_at(i));
        CHECK_FALSE(pool.release_reservation(i));
        CHECK_FALSE(pool.mark_index_used(i));
        CHECK_FALSE(pool.release_reservation(Reservation{i, Address(), detail::slot::make_ticket(1, i)}));
    }
}

TEST_CASE("a holder can always mark its own fresh reservation used, even when derivers race", "[pool][concurrency]") {
    // Lookahead 1: every hand-out races other threads deriving the same
    // indices; a reservation must be fully published when it is returned.
    constexpr int kThreads = 8;
    for (int round = 0; round < 20; ++round) {
        PoolOptions opts;
        opts.lookahead = 1;
        auto pool = external_pool(0, opts);
        auto ks = public_source();
        std::atomic<int> failures{0};
        std::latch go(kThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&] {
                go.arrive_and_wait();
                for (int k = 0; k < 25; ++k) {
                    auto r = pool.reserve(ks, true);
                    if (!r || pool.address_at(r->index) != r->address || pool.index_of(r->address) != r->index ||
                        !pool.mark_index_used(r->index)) {
                        failures.fetch_add(1);
                    }
                }
            });
        }
        for (auto& th : threads) th.join();
        REQUIRE(failures.load() == 0);
        REQUIRE(pool.stats().used == kThreads * 25);
    }
}

TEST_CASE("a key source with the same public key but another chain code is refused", "[pool][errors]") {
    const auto acct = account_key().to_public();
    ChainCode other = acct.chain_code();
    other[0] ^= 1;
    auto forged = ExtendedPubKey::from_parts(acct.public_key(), other, Network::testnet, acct.depth(),
                                             acct.parent_fingerprint(), acct.child_number());
    REQUIRE(forged);
    auto pool = external_pool();
    REQUIRE(pool.reserve(KeySource::from_public(acct), true));
    auto r = pool.generate_addresses(50, KeySource::from_public(*forged), true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_argument);
    CHECK(pool.stats().generated == 1);
}

TEST_CASE("the largest ttl means never expire and does not overflow", "[pool][ttl]") {
    auto pool = external_pool();
    REQUIRE(pool.reserve(private_source(), true));
    CHECK(pool.sweep_expired_reservations(std::chrono::nanoseconds::max()) == 0);
    CHECK(pool.sweep_expired_reservations(std::chrono::nanoseconds::min()) == 1);  // <= 0: everything
}

TEST_CASE("after reset_usage the sweep no longer skips indices that were once a used prefix", "[pool][ttl]") {
    auto pool = external_pool();
    auto ks = private_source();
    for (int i = 0; i < 4; ++i) REQUIRE(pool.reserve(ks, true));
    for (std::uint32_t i = 0; i < 4; ++i) REQUIRE(pool.mark_index_used(i));
    CHECK(pool.sweep_expired_reservations(0ns) == 0);  // learns the used prefix 0..3
    pool.reset_usage();
    auto r = pool.reserve(ks, true);
    REQUIRE(r);
    REQUIRE(r->index == 0);
    CHECK(pool.sweep_expired_reservations(0ns) == 1);
    CHECK(pool.state(0) == AddressState::unused);
}

TEST_CASE("the interleaved slot layout is a bijection and spreads neighbours over line pairs", "[pool][shape]") {
    using detail::SlotArray;
    for (std::uint32_t n : {32u, 64u, 128u, 1024u, 65536u}) {
        std::vector<bool> seen(n, false);
        for (std::uint32_t off = 0; off < n; ++off) {
            const std::uint32_t pos = SlotArray::position(n, off);
            REQUIRE(pos < n);
            REQUIRE_FALSE(seen[pos]);
            seen[pos] = true;
        }
        if (n < 128) continue;  // a lane of a small segment is shorter than a line pair
        for (std::uint32_t base : {0u, 8u, n - 8}) {
            // 8 consecutive offsets have their words (8 bytes each) in 8
            // different 128-byte line pairs...
            std::set<std::uint32_t> pairs;
            // ...and in 8 different L1 sets (64-byte lines, 4 KiB per way).
            std::set<std::uint32_t> sets;
            for (std::uint32_t off = base; off < base + 8; ++off) {
                const std::uint32_t byte = SlotArray::position(n, off) * 8;
                pairs.insert(byte / 128);
                sets.insert((byte / 64) % 64);
            }
            CHECK(pairs.size() == 8);
            CHECK(sets.size() == 8);
        }
    }
}

TEST_CASE("a reservation freed by a sweep before its hand-out returned is never returned", "[pool][ttl][concurrency]") {
    // Deterministic replay of a review finding, on the hand-out's own clock
    // read: the hand-out reads its stamp; right then (inside that clock
    // call) the clock jumps 10 minutes, and another thread sweeps and
    // reserves index 0. The first hand-out claims with its old stamp, sees
    // the sweep's announcement (C2), re-stamps — and must never return an
    // index that another caller holds.
    std::atomic<std::int64_t> now_ns{0};
    std::atomic<std::thread::id> hooked{};
    std::atomic<int> hooked_calls{0};
    AddressPool* pool_ptr = nullptr;
    const KeySource ks = private_source();
    std::optional<Reservation> other;
    std::size_t swept = 0;
    PoolOptions opts;
    opts.lookahead = 64;
    opts.clock = [&] {
        const std::int64_t reading = now_ns.load();  // the hand-out's stamp is this, read before the jump
        if (std::this_thread::get_id() == hooked.load() && hooked_calls.fetch_add(1) == 0) {
            now_ns.fetch_add(std::chrono::nanoseconds(10min).count());
            std::thread t([&] {
                swept = pool_ptr->sweep_expired_reservations(1min);
                auto r = pool_ptr->reserve(ks, true);
                if (r) other = *r;
            });
            t.join();
        }
        return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(reading));
    };
    auto pool = external_pool(20, opts);
    pool_ptr = &pool;
    REQUIRE(pool.generate_addresses(4, ks, false));  // derived: the hand-out reads its clock first thing
    std::optional<Reservation> mine;
    std::thread a([&] {
        hooked.store(std::this_thread::get_id());
        auto r = pool.reserve(ks, true);
        if (r) mine = *r;
    });
    a.join();
    REQUIRE(hooked_calls.load() >= 2);  // the hook ran, and the hand-out re-stamped (C2)
    REQUIRE(swept == 0);
    REQUIRE(other);
    REQUIRE(mine);
    CHECK(other->index == 0);
    CHECK(mine->index == 1);
    // Its stamp is the re-stamped one: a sweep of everything older than a
    // minute leaves it alone.
    CHECK(pool.sweep_expired_reservations(1min) == 0);
    CHECK(mine->reserved_at >= std::chrono::steady_clock::time_point(10min));
    CHECK(pool.release_reservation(*mine));
    CHECK(pool.release_reservation(*other));
}

TEST_CASE("a clock that throws after the claim leaves nothing reserved", "[pool][ttl]") {
    // The hand-out's first clock read (its stamp) lets another thread sweep
    // with a later reading, so the hand-out must read the clock again after
    // its claim (C2) — and that read throws.
    std::atomic<std::int64_t> now_ns{0};
    std::atomic<std::thread::id> hooked{};
    std::atomic<int> calls{0};
    AddressPool* pool_ptr = nullptr;
    PoolOptions opts;
    opts.clock = [&] {
        const std::int64_t reading = now_ns.load();
        if (std::this_thread::get_id() == hooked.load()) {
            const int call = calls.fetch_add(1);
            if (call == 0) {
                now_ns.fetch_add(std::chrono::nanoseconds(1h).count());
                std::thread t([&] { (void)pool_ptr->sweep_expired_reservations(1min); });
                t.join();
            } else {
                throw std::runtime_error("clock failure");
            }
        }
        return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(reading));
    };
    auto pool = external_pool(20, opts);
    pool_ptr = &pool;
    const KeySource ks = private_source();
    REQUIRE(pool.generate_addresses(4, ks, false));
    bool threw = false;
    std::thread a([&] {
        hooked.store(std::this_thread::get_id());
        try {
            (void)pool.reserve(ks, true);
        } catch (const std::runtime_error&) {
            threw = true;
        }
    });
    a.join();
    REQUIRE(threw);
    REQUIRE(calls.load() == 2);
    CHECK(pool.state(0) == AddressState::unused);
    CHECK(pool.stats().reserved == 0);
    auto r = pool.reserve(ks, true);  // index 0 is findable again
    REQUIRE(r);
    CHECK(r->index == 0);
}

TEST_CASE("a hand-out restored right after the pool was made keeps its age", "[pool][ttl][restore]") {
    ManualClock clock;
    PoolOptions opts;
    opts.clock = clock.fn();
    auto pool = external_pool(20, opts);
    auto ks = private_source();
    auto r = pool.restore_reservation(3, 10min, ks);
    REQUIRE(r);
    CHECK(r->index == 3);
    CHECK(pool.sweep_expired_reservations(11min) == 0);
    CHECK(pool.sweep_expired_reservations(10min) == 1);
    CHECK(pool.state(3) == AddressState::unused);
}
