// Issue 12: a pool a wallet can restart and sync. Cold-start replay
// (mark_index_used with a key source), a block's scripts (mark_scripts_used),
// prune keeping the gap window, tickets that never release anything in
// another pool or after a reload, restored hand-outs (restore_reservation),
// and bulk derivation on several threads (PoolOptions::derive_threads).
// Saves and hostile files are tested in test_persist*.cpp.
//
// Randomized tests print their seed on stderr; ADDRPOOL_TEST_SEED=<n>
// replays one.
#include <addrpool/addrpool.hpp>

#include "persist_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace addrpool;
using namespace std::chrono_literals;
using persist_test::account_key;
using persist_test::external_pool;
using persist_test::path;
using persist_test::private_source;
using persist_test::TempDir;
using persist_test::test_seed;

namespace {

using Script = std::vector<std::uint8_t>;

KeySource public_source() { return KeySource::from_public(account_key().to_public()); }

// The BIP44 key of another account (m/44'/1'/1') or of the mainnet wallet
// (m/44'/5'/0') of the same mnemonic: keys that are not this pool's.
ExtendedPrivKey other_key(Network net, std::uint32_t account) {
    auto seed = mnemonic_to_seed(persist_test::kMnemonic, "");
    REQUIRE(seed);
    auto root = ExtendedPrivKey::from_seed(*seed, net);
    REQUIRE(root);
    auto acct = root->derive(
        DerivationPath({44 | hardened_bit, bip44_coin_type(net) | hardened_bit, account | hardened_bit}));
    REQUIRE(acct);
    return *acct;
}

// The receive address at index i, derived without any pool.
Address address_of(const KeySource& ks, std::uint32_t i, Network net = Network::testnet) {
    auto h = ks.derive_hash160(PoolType::external, i);
    REQUIRE(h);
    return Address(net, AddressKind::p2pkh, *h);
}

Script p2pkh_script(const KeySource& ks, std::uint32_t i) { return address_of(ks, i).script_pubkey(); }

// Manual clock, as in test_pool.cpp: the test moves it.
struct ManualClock {
    std::shared_ptr<std::atomic<std::int64_t>> ns = std::make_shared<std::atomic<std::int64_t>>(1'000'000'000);
    std::function<std::chrono::steady_clock::time_point()> fn() const {
        auto p = ns;
        return [p] { return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(p->load())); };
    }
    void advance(std::chrono::nanoseconds d) const { ns->fetch_add(d.count()); }
    std::chrono::steady_clock::time_point now() const { return fn()(); }
};

PoolOptions with_clock(const ManualClock& c) {
    PoolOptions o;
    o.clock = c.fn();
    return o;
}

PoolOptions with_threads(unsigned n) {
    PoolOptions o;
    o.derive_threads = n;
    return o;
}

// The index of one hand-out (which must succeed).
std::uint32_t hand_out(AddressPool& pool, const KeySource& ks) {
    auto r = pool.reserve(ks, true);
    REQUIRE(r);
    return r->index;
}

std::vector<std::uint32_t> generated_indices(const AddressPool& pool, std::uint32_t below) {
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = 0; i < below; ++i) {
        if (pool.address_at(i)) out.push_back(i);
    }
    return out;
}

}  // namespace

// ==== 1. cold start: mark_index_used(index, key_source) ===============================

TEST_CASE("a cold start replays 200 used indices on a fresh pool and the hand-outs skip exactly those",
          "[restart][replay]") {
    const std::uint64_t seed = test_seed("cold-start replay");
    INFO("replay with ADDRPOOL_TEST_SEED=" << seed);
    std::mt19937_64 rng(seed);
    constexpr std::uint32_t kRange = 500, kUsed = 200;
    std::vector<std::uint32_t> all(kRange);
    for (std::uint32_t i = 0; i < kRange; ++i) all[i] = i;
    std::shuffle(all.begin(), all.end(), rng);
    const std::vector<std::uint32_t> replay(all.begin(), all.begin() + kUsed);  // the wallet DB, in its order
    const std::set<std::uint32_t> used(replay.begin(), replay.end());

    auto pool = external_pool(20);
    const KeySource ks = public_source();  // a watch-only service replays too

    // The one-argument overload knows only derived indices: on a fresh pool
    // it changes nothing (the old recipe's failure, kept as documented).
    CHECK_FALSE(pool.mark_index_used(replay[0]));
    CHECK(pool.state(replay[0]) == AddressState::unused);

    for (std::uint32_t i : replay) {
        auto r = pool.mark_index_used(i, ks);
        REQUIRE(r);
        REQUIRE(*r);  // became used by this call
    }
    for (std::uint32_t i : replay) {
        auto r = pool.mark_index_used(i, ks);
        REQUIRE(r);
        REQUIRE_FALSE(*r);  // already used
    }
    const PoolStats st = pool.stats();
    CHECK(st.used == kUsed);
    CHECK(st.generated == kUsed);  // each replayed index is materialized, nothing else
    CHECK(st.highest_used == *used.rbegin());
    CHECK(pool.scan_window_end() == *used.rbegin() + 1 + 20);
    for (std::uint32_t i : {replay.front(), replay.back()}) CHECK(pool.address_at(i) == address_of(ks, i));

    // An index the replay did not name is still unknown to the old overload.
    const std::uint32_t not_replayed = all[kUsed];
    CHECK_FALSE(pool.mark_index_used(not_replayed));
    CHECK_FALSE(pool.mark_index_used(5000));
    CHECK(pool.state(not_replayed) == AddressState::unused);
    CHECK(pool.state(5000) == AddressState::unused);

    // The hand-outs: every index of [0, 500) that is not used, in order.
    std::vector<std::uint32_t> expected;
    for (std::uint32_t i = 0; i < kRange; ++i) {
        if (!used.count(i)) expected.push_back(i);
    }
    for (std::uint32_t want : expected) {
        auto r = pool.reserve(ks, true);
        REQUIRE(r);
        REQUIRE(r->index == want);
        REQUIRE(r->address == address_of(ks, want));
    }
    auto next = pool.reserve(ks, true);
    REQUIRE(next);
    CHECK(next->index == kRange);
}

TEST_CASE("mark_index_used with a key source reports each error and changes nothing", "[restart][replay][errors]") {
    auto pool = external_pool(20);
    auto out_of_range = pool.mark_index_used(0x80000000u, private_source());
    REQUIRE_FALSE(out_of_range);
    CHECK(out_of_range.error().code == Errc::index_out_of_range);

    auto no_key = pool.mark_index_used(3, KeySource::none());
    REQUIRE_FALSE(no_key);
    CHECK(no_key.error().code == Errc::no_key_source);
    CHECK(pool.state(3) == AddressState::unused);
    CHECK(pool.stats().generated == 0);

    REQUIRE(pool.mark_index_used(3, private_source()));  // binds the pool to account 0
    auto other = pool.mark_index_used(4, KeySource::from_private(other_key(Network::testnet, 1)));
    REQUIRE_FALSE(other);
    CHECK(other.error().code == Errc::invalid_argument);
    CHECK(pool.state(4) == AddressState::unused);
    CHECK_FALSE(pool.address_at(4));

    // A derived index needs no key.
    auto again = pool.mark_index_used(3, KeySource::none());
    REQUIRE(again);
    CHECK_FALSE(*again);

    AddressPool hardened(path("m/44'/1'/0'"), PoolType::absent_hardened, 20, Network::testnet);
    auto from_public = hardened.mark_index_used(0, public_source());
    REQUIRE_FALSE(from_public);
    CHECK(from_public.error().code == Errc::hardened_from_public);
    CHECK(hardened.stats().used == 0);
}

TEST_CASE("a replayed reserved index completes the hand-out: a later release by ticket is false",
          "[restart][replay]") {
    auto pool = external_pool(20);
    auto r = pool.reserve(private_source(), true);
    REQUIRE(r);
    auto m = pool.mark_index_used(r->index, KeySource::none());
    REQUIRE(m);
    CHECK(*m);
    CHECK_FALSE(pool.release_reservation(*r));
    CHECK(pool.state(r->index) == AddressState::used);
}

// ==== 2. a block's scripts: mark_scripts_used ==========================================

namespace {

struct Block {
    std::vector<Script> scripts;
    std::map<std::size_t, std::uint32_t> ours;  // position -> index, for every P2PKH script of this account
};

// What mark_scripts_used must report, computed without the pool: the window
// grows from the indices used before the batch until it contains no further
// index of the batch; every position paying an index inside it matches, and
// an index is newly used at its first position unless it was used before.
std::vector<ScriptMatch> expected_matches(const Block& b, const std::set<std::uint32_t>& used_before,
                                          std::uint32_t gap) {
    std::set<std::uint32_t> used = used_before;
    for (bool grew = true; grew;) {
        grew = false;
        const std::uint32_t end = (used.empty() ? 0 : *used.rbegin() + 1) + gap;
        for (const auto& [pos, i] : b.ours) {
            if (i < end && used.insert(i).second) grew = true;
        }
    }
    std::vector<ScriptMatch> out;
    std::set<std::uint32_t> seen;
    for (const auto& [pos, i] : b.ours) {
        if (!used.count(i)) continue;
        const bool first = seen.insert(i).second;
        out.push_back(ScriptMatch{pos, i, first && !used_before.count(i)});
    }
    return out;
}

void require_same(const std::vector<ScriptMatch>& got, const std::vector<ScriptMatch>& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
        INFO("match " << k << ": position " << want[k].position << ", index " << want[k].index);
        REQUIRE(got[k].position == want[k].position);
        REQUIRE(got[k].index == want[k].index);
        REQUIRE(got[k].newly_used == want[k].newly_used);
    }
}

// 1,000 scripts: payments to this account's indices `paid` at the given
// positions; the rest is chain noise — P2SH scripts carrying the hash160 of
// our own addresses, P2PKH scripts of the mainnet wallet of the same
// mnemonic and of another account, random P2PKH hashes, and scripts of no
// standard form.
Block make_block(const std::vector<std::pair<std::size_t, std::uint32_t>>& paid, std::mt19937_64& rng) {
    constexpr std::size_t kSize = 1000;
    const KeySource ours = public_source();
    const KeySource mainnet = KeySource::from_private(other_key(Network::mainnet, 0));
    const KeySource account1 = KeySource::from_private(other_key(Network::testnet, 1));
    Block b;
    b.scripts.resize(kSize);
    for (std::size_t pos = 0; pos < kSize; ++pos) {
        const std::uint32_t i = static_cast<std::uint32_t>(pos % 100);
        switch (pos % 5) {
            case 0: {  // P2SH with the hash of our address i: not a payment to it
                b.scripts[pos] = Address(Network::testnet, AddressKind::p2sh, address_of(ours, i).hash160()).script_pubkey();
                break;
            }
            case 1: b.scripts[pos] = p2pkh_script(mainnet, i); break;
            case 2: b.scripts[pos] = p2pkh_script(account1, i); break;
            case 3: {
                Hash160 h{};
                for (auto& byte : h) byte = static_cast<std::uint8_t>(rng());
                b.scripts[pos] = Address(Network::testnet, AddressKind::p2pkh, h).script_pubkey();
                break;
            }
            default: {  // OP_RETURN, empty, a truncated P2PKH
                const int k = static_cast<int>(rng() % 3);
                if (k == 0) b.scripts[pos] = {0x6a, 0x04, 1, 2, 3, 4};
                if (k == 2) {
                    b.scripts[pos] = p2pkh_script(ours, i);
                    b.scripts[pos].pop_back();
                }
                break;
            }
        }
    }
    for (const auto& [pos, i] : paid) {
        b.scripts[pos] = p2pkh_script(ours, i);
        b.ours[pos] = i;
    }
    return b;
}

// The same block in another order (positions follow their scripts).
Block permuted(const Block& b, std::mt19937_64& rng) {
    std::vector<std::size_t> perm(b.scripts.size());
    for (std::size_t k = 0; k < perm.size(); ++k) perm[k] = k;
    std::shuffle(perm.begin(), perm.end(), rng);
    Block out;
    out.scripts.resize(perm.size());
    for (std::size_t to = 0; to < perm.size(); ++to) {
        out.scripts[to] = b.scripts[perm[to]];
        if (auto it = b.ours.find(perm[to]); it != b.ours.end()) out.ours[to] = it->second;
    }
    return out;
}

// Gap 20, index 7 used before the block. Window [0, 28). The payment to 15
// widens it to 36, 30 to 51, 45 to 66, 60 to 81, 80 to 101; 150 stays
// outside. 60 sits before 45, 45 before 30, 30 before 15 (each before the
// payment that widens the window to it); 55 and 80 sit after theirs; 3 is
// paid twice, 7 again.
const std::vector<std::pair<std::size_t, std::uint32_t>> kPayments = {
    {40, 60}, {140, 45}, {260, 30}, {377, 15}, {401, 3}, {512, 3}, {623, 7}, {734, 150}, {845, 55}, {956, 80},
};

}  // namespace

TEST_CASE("a block of 1,000 scripts marks every payment in the widening window, wherever it sits, with positions",
          "[sync][scripts]") {
    const std::uint64_t seed = test_seed("block of 1,000 scripts");
    INFO("replay with ADDRPOOL_TEST_SEED=" << seed);
    std::mt19937_64 rng(seed);
    const Block designed = make_block(kPayments, rng);
    const Block shuffled = permuted(designed, rng);
    const KeySource ks = public_source();
    for (const Block* block : {&designed, &shuffled}) {
        INFO((block == &designed ? "the designed order" : "a shuffled order"));
        auto pool = external_pool(20);
        REQUIRE(pool.mark_index_used(7, ks));
        const std::set<std::uint32_t> before{7};
        const auto want = expected_matches(*block, before, 20);
        // The model reaches 80 through 15, 30, 45, 60 and leaves 150 out.
        REQUIRE(want.size() == 9);

        auto got = pool.mark_scripts_used(block->scripts, ks);
        REQUIRE(got);
        require_same(*got, want);

        for (std::uint32_t i : {3u, 7u, 15u, 30u, 45u, 55u, 60u, 80u}) CHECK(pool.state(i) == AddressState::used);
        CHECK(pool.state(150) == AddressState::unused);
        CHECK(pool.state(5) == AddressState::unused);  // its hash came only in a P2SH script
        CHECK(pool.stats().used == 8);
        CHECK(pool.scan_window_end() == 80 + 1 + 20);
        // The window is materialized, and nothing beyond it.
        CHECK(generated_indices(pool, 200).size() == 101);
        CHECK(pool.address_at(100) == address_of(ks, 100));

        // The same block again: the same matches, none newly used.
        auto again = pool.mark_scripts_used(block->scripts, ks);
        REQUIRE(again);
        REQUIRE(again->size() == want.size());
        for (std::size_t k = 0; k < want.size(); ++k) {
            CHECK(((*again)[k].position == want[k].position && (*again)[k].index == want[k].index));
            CHECK_FALSE((*again)[k].newly_used);
        }
    }
}

TEST_CASE("mark_scripts_used of an empty batch derives the window and nothing else", "[sync][scripts]") {
    auto pool = external_pool(20);
    REQUIRE(pool.mark_index_used(4, private_source()));
    auto got = pool.mark_scripts_used({}, private_source());
    REQUIRE(got);
    CHECK(got->empty());
    CHECK(generated_indices(pool, 100) == [] {
        std::vector<std::uint32_t> v(25);
        for (std::uint32_t i = 0; i < 25; ++i) v[i] = i;
        return v;
    }());
}

TEST_CASE("mark_scripts_used that cannot derive marks nothing, or keeps the marks made before the failure",
          "[sync][scripts][errors]") {
    const KeySource ks = private_source();
    const std::vector<Script> pays3 = {p2pkh_script(ks, 3)};

    auto fresh = external_pool(20);
    auto r = fresh.mark_scripts_used(pays3, KeySource::none());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::no_key_source);
    CHECK(fresh.stats().used == 0);
    CHECK(fresh.stats().generated == 0);

    // A pool loaded without a key holds its window [0, 20): scripts not
    // ours need no key; a payment that widens the window needs one.
    auto saved = external_pool(20);
    REQUIRE(saved.maintain_gap_limit(ks));
    auto loaded = AddressPool::deserialize(saved.serialize());
    REQUIRE(loaded);
    const std::vector<Script> noise = {p2pkh_script(KeySource::from_private(other_key(Network::testnet, 1)), 3)};
    auto none_ours = loaded->mark_scripts_used(noise, KeySource::none());
    REQUIRE(none_ours);
    CHECK(none_ours->empty());
    auto widening = loaded->mark_scripts_used(pays3, KeySource::none());
    REQUIRE_FALSE(widening);
    CHECK(widening.error().code == Errc::no_key_source);
    CHECK(loaded->state(3) == AddressState::used);  // a fact about the chain: kept
    // With the key the same block completes.
    auto done = loaded->mark_scripts_used(pays3, ks);
    REQUIRE(done);
    REQUIRE(done->size() == 1);
    CHECK(((*done)[0].index == 3 && !(*done)[0].newly_used));
    CHECK(loaded->address_at(23) == address_of(ks, 23));
}

TEST_CASE("two threads syncing one block at once find every payment between them; each index is newly used once",
          "[sync][scripts][concurrency]") {
    const std::uint64_t seed = test_seed("concurrent block sync");
    INFO("replay with ADDRPOOL_TEST_SEED=" << seed);
    std::mt19937_64 rng(seed);
    const Block designed = make_block(kPayments, rng);
    const Block orders[2] = {permuted(designed, rng), permuted(designed, rng)};
    const KeySource ks = public_source();
    const std::set<std::uint32_t> paid{3, 7, 15, 30, 45, 55, 60, 80};  // what the model reaches
    for (int round = 0; round < 5; ++round) {
        auto pool = external_pool(20);
        REQUIRE(pool.mark_index_used(7, ks));
        std::latch go(2);
        std::optional<Result<std::vector<ScriptMatch>>> got[2];
        std::thread t[2];
        for (int k = 0; k < 2; ++k) {
            t[k] = std::thread([&, k] {
                go.arrive_and_wait();
                got[k].emplace(pool.mark_scripts_used(orders[k].scripts, ks));
            });
        }
        for (auto& th : t) th.join();
        std::map<std::uint32_t, int> newly;  // index -> how many reports said newly used
        std::set<std::uint32_t> found;
        for (int k = 0; k < 2; ++k) {
            REQUIRE(*got[k]);
            // Every report is right: in position order, the position pays that
            // index, the index is one the block reaches.
            std::size_t last = 0;
            for (const ScriptMatch& m : **got[k]) {
                REQUIRE((m.position >= last || &m == &(**got[k]).front()));
                last = m.position;
                REQUIRE(orders[k].ours.count(m.position) == 1);
                REQUIRE(orders[k].ours.at(m.position) == m.index);
                REQUIRE(paid.count(m.index) == 1);
                found.insert(m.index);
                if (m.newly_used) ++newly[m.index];
            }
        }
        // Between them the two calls find every payment (each one alone
        // does too: see the regression test below), and exactly one
        // report per index says it became used.
        CHECK(found == paid);
        CHECK(newly == std::map<std::uint32_t, int>{{3, 1}, {15, 1}, {30, 1}, {45, 1}, {55, 1}, {60, 1}, {80, 1}});
        CHECK(pool.stats().used == 8);
    }
}

// Regression test for a bug this test found in mark_scripts_used (fixed in
// lib/pool/sync.cpp): after its first maintain_gap_limit the call took
// derived_to = scan_window_end() anew, so when another thread widened the
// window while maintain_gap_limit derived (a hand-out, a restore, a used
// mark, another block's sync), the indices between what this call derived
// and the new window end were looked up neither in the first pass (not
// derived yet) nor in the widening loop (which starts at derived_to): a
// payment there was missed. The call now reads the window end before
// maintain_gap_limit.
//
// The test makes that interleaving happen: the restore runs once index 0 is
// derived (maintain_gap_limit has read its window) and is known to finish
// before maintain_gap_limit's last materialization; a round where it did not
// is retried.
TEST_CASE("a payment that a concurrent widening of the window brings in is found by the block sync",
          "[sync][scripts][concurrency]") {
    constexpr std::uint32_t kGap = 4000;  // a window that takes a while to derive on one thread
    const KeySource ks = public_source();
    const std::vector<Script> block = {p2pkh_script(ks, 10), p2pkh_script(ks, kGap + 5)};
    bool conclusive = false;
    for (int round = 0; round < 10 && !conclusive; ++round) {
        AddressPool pool(path("m/44'/1'/0'/0"), PoolType::external, kGap, Network::testnet, with_threads(1));
        std::optional<Result<std::vector<ScriptMatch>>> synced;
        std::thread sync([&] { synced.emplace(pool.mark_scripts_used(block, ks)); });
        // Index 0 derived: maintain_gap_limit has read the window [0, 4000).
        while (!pool.next_unused(KeySource::none(), false)) std::this_thread::yield();
        auto restored = pool.restore_reservation(20, 0s, ks);  // the window becomes [0, 4021)
        // Still deriving or materializing: the sync reads the window after this.
        conclusive = restored && !pool.address_at(kGap - 1);
        sync.join();
        REQUIRE(*synced);
        if (!conclusive) continue;
        const auto& got = **synced;
        CHECK(got.size() == 2);
        CHECK(pool.state(kGap + 5) == AddressState::used);
        CHECK(pool.address_at(kGap + 20));  // the window [0, 4021) is materialized
    }
    REQUIRE(conclusive);  // (else the interleaving never happened: nothing was tested)
}

// ==== 3. prune keeps the window ======================================================

TEST_CASE("prune keeps every index below scan_window_end, whether used marks, hand-outs, restores or a block set it",
          "[prune]") {
    const KeySource ks = private_source();
    auto pool = external_pool(5);
    auto expect_window_kept = [&](std::uint32_t dropped_expected) {
        const std::uint32_t end = pool.scan_window_end();
        const auto before = generated_indices(pool, 200);
        CHECK(pool.prune_unused() == dropped_expected);
        const auto after = generated_indices(pool, 200);
        std::vector<std::uint32_t> kept;
        for (std::uint32_t i : before) {
            if (i < end) kept.push_back(i);
        }
        CHECK(after == kept);
    };
    REQUIRE(pool.generate_addresses(30, ks, true));  // 0..29
    expect_window_kept(25);                           // nothing used: the window is [0, 5)

    auto restored = pool.restore_reservation(12, 0s, ks);  // window [0, 18)
    REQUIRE(restored);
    REQUIRE(pool.maintain_gap_limit(ks));
    REQUIRE(pool.generate_addresses(10, ks, true));  // 18..27
    expect_window_kept(10);
    CHECK(pool.address_at(17));

    REQUIRE(pool.mark_index_used(20, ks));  // window [0, 26)
    REQUIRE(pool.release_reservation(*restored));
    REQUIRE(pool.maintain_gap_limit(ks));
    expect_window_kept(0);

    // A block pays 25: the window becomes [0, 31), materialized; prune keeps it.
    auto block = pool.mark_scripts_used(std::vector<Script>{p2pkh_script(ks, 25)}, ks);
    REQUIRE(block);
    REQUIRE(block->size() == 1);
    REQUIRE(pool.generate_addresses(4, ks, true));  // 31..34
    expect_window_kept(4);
    CHECK(pool.scan_window_end() == 31);
    CHECK(pool.mark_used(address_of(ks, 30)));  // the last index of the window is still recognised
}

// ==== 4. tickets across pools and reloads =============================================

TEST_CASE("a ticket from one pool releases nothing in a second pool of the same account", "[tickets]") {
    const KeySource ks = private_source();
    auto first = external_pool(20);
    auto second = external_pool(20);
    std::vector<Reservation> a, b;
    for (int k = 0; k < 200; ++k) {
        auto ra = first.reserve(ks, true);
        auto rb = second.reserve(ks, true);
        REQUIRE((ra && rb));
        REQUIRE(ra->index == rb->index);
        a.push_back(*ra);
        b.push_back(*rb);
    }
    for (std::size_t k = 0; k < a.size(); ++k) {
        CHECK(a[k].ticket != b[k].ticket);
        CHECK_FALSE(second.release_reservation(a[k]));
        CHECK(second.state(a[k].index) == AddressState::reserved);
    }
    for (std::size_t k = 0; k < a.size(); ++k) CHECK(second.release_reservation(b[k]));
    CHECK(second.stats().reserved == 0);
    CHECK(first.stats().reserved == 200);
}

TEST_CASE("a ticket from before a reload (deserialize, load) releases nothing in the reloaded pool", "[tickets]") {
    const KeySource ks = private_source();
    TempDir tmp;
    auto original = external_pool(20);
    std::vector<Reservation> old;
    for (int k = 0; k < 50; ++k) {
        auto r = original.reserve(ks, true);
        REQUIRE(r);
        old.push_back(*r);
    }
    REQUIRE(original.save(tmp.dir / "pool.bin"));
    auto from_bytes = AddressPool::deserialize(original.serialize());
    auto from_file = AddressPool::load(tmp.dir / "pool.bin");
    REQUIRE((from_bytes && from_file));
    for (AddressPool* reloaded : {&*from_bytes, &*from_file}) {
        // The restart hands the same indices out again (reservations are not
        // durable), some as restored invoices, the rest anew.
        std::vector<Reservation> fresh;
        for (int k = 0; k < 50; ++k) {
            auto r = k % 2 == 0 ? reloaded->restore_reservation(static_cast<std::uint32_t>(k), 1s, ks)
                                : reloaded->reserve(ks, true);
            REQUIRE(r);
            REQUIRE(r->index == static_cast<std::uint32_t>(k));
            fresh.push_back(*r);
        }
        // A client releasing late with a ticket from before the restart frees nothing.
        for (const Reservation& r : old) {
            CHECK_FALSE(reloaded->release_reservation(r));
            CHECK(reloaded->state(r.index) == AddressState::reserved);
        }
        for (const Reservation& r : fresh) CHECK(reloaded->release_reservation(r));
    }
}

TEST_CASE("after a reload, hand-outs take the lowest unused indices: the gaps between used ones, then above",
          "[restart][reload]") {
    // The reloaded pool's frontier starts past the used prefix (durable.cpp);
    // every unused index above it must still be found, in order, and a
    // reset must make the prefix's indices findable again.
    const KeySource ks = private_source();
    TempDir tmp;
    auto original = external_pool(20);
    REQUIRE(original.generate_addresses(300, ks, true));
    std::set<std::uint32_t> used;
    for (std::uint32_t i = 0; i < 100; ++i) used.insert(i);
    for (std::uint32_t i = 120; i < 200; ++i) used.insert(i);
    used.insert(250);
    for (std::uint32_t i : used) REQUIRE(original.mark_index_used(i));
    REQUIRE(original.save(tmp.dir / "pool.bin"));
    auto from_bytes = AddressPool::deserialize(original.serialize());
    auto from_file = AddressPool::load(tmp.dir / "pool.bin");
    REQUIRE((from_bytes && from_file));
    for (AddressPool* reloaded : {&*from_bytes, &*from_file}) {
        std::vector<std::uint32_t> want;
        for (std::uint32_t i = 0; want.size() < 150; ++i) {
            if (!used.count(i)) want.push_back(i);
        }
        std::vector<std::uint32_t> got;
        for (std::size_t k = 0; k < want.size(); ++k) got.push_back(hand_out(*reloaded, ks));
        CHECK(got == want);  // 100..119, 200..249, 251..
        // A restore above the frontier, released, goes back to the hand-outs.
        const std::uint32_t far = want.back() + 10;
        auto restored = reloaded->restore_reservation(far, 1s, ks);
        REQUIRE(restored);
        REQUIRE(reloaded->release_reservation(*restored));
        for (std::uint32_t i = want.back() + 1; i <= far; ++i) CHECK(hand_out(*reloaded, ks) == i);
        // reset_usage frees the used prefix too: the next hand-out is index 0.
        reloaded->reset_usage();
        CHECK(hand_out(*reloaded, ks) == 0);
    }
}

// ==== 5. restored hand-outs: restore_reservation ======================================

TEST_CASE("restore_reservation reserves exactly that index, materialized, with a fresh ticket", "[restore]") {
    const KeySource ks = public_source();
    auto pool = external_pool(20);
    // An earlier hand-out of index 7 in this pool, returned.
    for (int k = 0; k < 8; ++k) REQUIRE(pool.reserve(ks, false));
    const Reservation earlier = *pool.reserve(ks, false);  // 8
    REQUIRE(earlier.index == 8);
    for (std::uint32_t i = 0; i <= 8; ++i) REQUIRE(pool.release_reservation(i));

    auto r = pool.restore_reservation(8, 0s, ks);
    REQUIRE(r);
    CHECK(r->index == 8);
    CHECK(r->address == address_of(ks, 8));
    CHECK(r->ticket != earlier.ticket);
    CHECK(pool.state(8) == AddressState::reserved);
    CHECK(pool.address_at(8) == address_of(ks, 8));  // materialized
    CHECK(pool.index_of(r->address) == 8u);
    const PoolStats st = pool.stats();
    CHECK(st.reserved == 1);
    CHECK(st.highest_reserved == 8u);
    CHECK(pool.scan_window_end() == 8 + 1 + 20);  // counts in the gap window

    // Hand-outs skip it.
    std::vector<std::uint32_t> got;
    for (int k = 0; k < 10; ++k) got.push_back(hand_out(pool, ks));
    CHECK(got == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 9, 10});

    CHECK_FALSE(pool.release_reservation(earlier));  // the earlier ticket is stale
    CHECK(pool.state(8) == AddressState::reserved);
    CHECK(pool.release_reservation(*r));

    // Reservations are not durable: the restored entry reloads unused.
    auto reloaded = AddressPool::deserialize(pool.serialize());
    REQUIRE(reloaded);
    CHECK(reloaded->state(8) == AddressState::unused);
    CHECK(reloaded->address_at(8) == address_of(ks, 8));
}

TEST_CASE("a restored index far ahead widens the window; maintain_gap_limit fills up to it", "[restore]") {
    const KeySource ks = private_source();
    auto pool = external_pool(20);
    auto r = pool.restore_reservation(50, 5s, ks);
    REQUIRE(r);
    CHECK(pool.scan_window_end() == 71);
    auto added = pool.maintain_gap_limit(ks);
    REQUIRE(added);
    CHECK(added->size() == 70);  // 0..70 but 50, which the restore materialized
    CHECK(pool.stats().generated == 71);
}

TEST_CASE("a restored hand-out is as old as its age: a sweep frees it exactly when ttl <= age",
          "[restore][ttl]") {
    ManualClock clock;
    const auto t0 = clock.now();
    auto pool = external_pool(20, with_clock(clock));
    const KeySource ks = private_source();
    clock.advance(10min);  // the server has run ten minutes since the pool was made

    auto r = pool.restore_reservation(3, 5min, ks);  // an invoice from five minutes ago
    REQUIRE(r);
    CHECK(r->reserved_at == t0 + 5min);
    auto fresh = pool.reserve(ks, true);  // index 0, just now
    REQUIRE(fresh);
    CHECK(fresh->reserved_at == t0 + 10min);

    CHECK(pool.sweep_expired_reservations(5min + 1ms) == 0);
    CHECK(pool.state(3) == AddressState::reserved);
    CHECK(pool.sweep_expired_reservations(5min) == 1);
    CHECK(pool.state(3) == AddressState::unused);
    CHECK(pool.state(0) == AddressState::reserved);

    // Again, and the clock moves on: a millisecond later ttl = age + 1 ms frees it.
    auto again = pool.restore_reservation(3, 5min, ks);
    REQUIRE(again);
    CHECK(again->ticket != r->ticket);
    CHECK(pool.sweep_expired_reservations(5min + 1ms) == 0);
    clock.advance(1ms);
    CHECK(pool.sweep_expired_reservations(5min + 1ms) == 1);
    CHECK_FALSE(pool.release_reservation(*again));  // swept: its ticket frees nothing

    // Age 0: a hand-out made now.
    auto now = pool.restore_reservation(5, 0s, ks);
    REQUIRE(now);
    CHECK(now->reserved_at == t0 + 10min + 1ms);
    CHECK(pool.sweep_expired_reservations(1ms) == 1);  // index 0, exactly 1 ms old
    CHECK(pool.state(0) == AddressState::unused);
    CHECK(pool.state(5) == AddressState::reserved);
}

// Regression test for a bug this test found in restore_reservation (fixed
// in lib/pool/pool.cpp): stamps were unsigned milliseconds since the pool's
// creation, and a restore computed `now > age ? now - age : 0`, so a pool
// made at start-up and given the open invoices at once clamped every age
// beyond its uptime to its creation: an invoice from an hour ago looked as
// old as the pool, and a 30-minute sweep did not free it. The epoch now lies
// 2^38 ms before the pool's creation.
TEST_CASE("a hand-out restored at start-up with an age beyond the pool's uptime is freed by a sweep with ttl <= age",
          "[restore][ttl]") {
    ManualClock clock;
    const auto t0 = clock.now();
    auto pool = external_pool(20, with_clock(clock));
    auto r = pool.restore_reservation(3, 1h, private_source());  // made an hour before the restart
    REQUIRE(r);
    CHECK(r->reserved_at == t0 - 1h);
    CHECK(pool.sweep_expired_reservations(30min) == 1);
}

TEST_CASE("restore_reservation refuses used and reserved indices with index_unavailable, and reports each error",
          "[restore][errors]") {
    const KeySource ks = private_source();
    auto pool = external_pool(20);
    REQUIRE(pool.mark_index_used(5, ks));
    auto used = pool.restore_reservation(5, 0s, ks);
    REQUIRE_FALSE(used);
    CHECK(used.error().code == Errc::index_unavailable);
    CHECK(used.error().message.find("used") != std::string::npos);
    CHECK(pool.state(5) == AddressState::used);

    auto handed = pool.reserve(ks, true);  // 0
    REQUIRE(handed);
    auto held = pool.restore_reservation(handed->index, 0s, ks);
    REQUIRE_FALSE(held);
    CHECK(held.error().code == Errc::index_unavailable);
    CHECK(held.error().message.find("reserved") != std::string::npos);
    CHECK(pool.release_reservation(*handed));  // the holder's ticket still works

    auto first = pool.restore_reservation(9, 0s, ks);
    REQUIRE(first);
    auto twice = pool.restore_reservation(9, 0s, ks);
    REQUIRE_FALSE(twice);
    CHECK(twice.error().code == Errc::index_unavailable);
    CHECK(pool.release_reservation(*first));

    auto far = pool.restore_reservation(0x80000000u, 0s, ks);
    REQUIRE_FALSE(far);
    CHECK(far.error().code == Errc::index_out_of_range);

    auto no_key = pool.restore_reservation(40, 0s, KeySource::none());
    REQUIRE_FALSE(no_key);
    CHECK(no_key.error().code == Errc::no_key_source);
    CHECK(pool.state(40) == AddressState::unused);
    auto derived = pool.restore_reservation(9, 0s, KeySource::none());  // derived already: no key needed
    REQUIRE(derived);

    auto other = pool.restore_reservation(41, 0s, KeySource::from_private(other_key(Network::testnet, 1)));
    REQUIRE_FALSE(other);
    CHECK(other.error().code == Errc::invalid_argument);
    CHECK(pool.state(41) == AddressState::unused);

    AddressPool hardened(path("m/44'/1'/0'"), PoolType::absent_hardened, 20, Network::testnet);
    auto from_public = hardened.restore_reservation(0, 0s, public_source());
    REQUIRE_FALSE(from_public);
    CHECK(from_public.error().code == Errc::hardened_from_public);
    CHECK(hardened.stats().reserved == 0);
}

TEST_CASE("a restored index that is released or swept goes back to the hand-outs with no hole and no repeat",
          "[restore]") {
    const KeySource ks = private_source();
    for (bool by_sweep : {false, true}) {
        auto pool = external_pool(20);
        auto r = pool.restore_reservation(5, 1s, ks);
        REQUIRE(r);
        if (by_sweep) {
            REQUIRE(pool.sweep_expired_reservations(0s) == 1);
        } else {
            REQUIRE(pool.release_reservation(*r));
        }
        std::vector<std::uint32_t> got;
        for (int k = 0; k < 12; ++k) got.push_back(hand_out(pool, ks));
        CHECK(got == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    }
}

TEST_CASE("concurrent restores of one index: exactly one wins, the others get index_unavailable",
          "[restore][concurrency]") {
    const std::uint64_t seed = test_seed("concurrent restores of one index");
    INFO("replay with ADDRPOOL_TEST_SEED=" << seed);
    std::mt19937_64 rng(seed);
    constexpr int kThreads = 6;
    const KeySource ks = private_source();
    for (int round = 0; round < 40; ++round) {
        auto pool = external_pool(20);
        const auto index = static_cast<std::uint32_t>(rng() % 64);
        // Every other round the index is underived: the restorers also race to derive it.
        if (round % 2 == 0) REQUIRE(pool.generate_addresses(64, ks, false));
        std::latch go(kThreads);
        std::vector<std::optional<Result<Reservation>>> got(kThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                go.arrive_and_wait();
                got[static_cast<std::size_t>(t)].emplace(pool.restore_reservation(index, 1s, ks));
            });
        }
        for (auto& th : threads) th.join();
        int wins = 0;
        std::optional<Reservation> winner;
        for (const auto& g : got) {
            if (*g) {
                ++wins;
                winner = **g;
            } else {
                REQUIRE(g->error().code == Errc::index_unavailable);
            }
        }
        REQUIRE(wins == 1);
        REQUIRE(winner->index == index);
        REQUIRE(winner->address == address_of(ks, index));
        REQUIRE(pool.stats().reserved == 1);
        REQUIRE(pool.release_reservation(*winner));
    }
}

TEST_CASE("restores racing hand-outs never give one index to two holders, and hand-outs skip restored indices",
          "[restore][concurrency]") {
    const std::uint64_t seed = test_seed("restores racing hand-outs");
    INFO("replay with ADDRPOOL_TEST_SEED=" << seed);
    std::mt19937_64 rng(seed);
    constexpr int kRestorers = 2, kReservers = 2, kPerThread = 150;
    const KeySource ks = private_source();
    auto pool = external_pool(20);
    // Each restorer asks for indices drawn from [0, 400), some asked twice.
    std::vector<std::vector<std::uint32_t>> wanted(kRestorers);
    for (auto& w : wanted) {
        for (int k = 0; k < kPerThread; ++k) w.push_back(static_cast<std::uint32_t>(rng() % 400));
    }
    std::vector<std::vector<Reservation>> won(kRestorers + kReservers);
    std::vector<std::vector<std::uint32_t>> refused(kRestorers);
    std::vector<int> other_errors(kRestorers + kReservers, 0);
    std::latch go(kRestorers + kReservers);
    std::vector<std::thread> threads;
    for (int t = 0; t < kRestorers; ++t) {
        threads.emplace_back([&, t] {
            const auto ti = static_cast<std::size_t>(t);
            go.arrive_and_wait();
            for (std::uint32_t i : wanted[ti]) {
                auto r = pool.restore_reservation(i, 1s, ks);
                if (r) won[ti].push_back(*r);
                else if (r.error().code == Errc::index_unavailable) refused[ti].push_back(i);
                else ++other_errors[ti];
            }
        });
    }
    for (int t = kRestorers; t < kRestorers + kReservers; ++t) {
        threads.emplace_back([&, t] {
            const auto ti = static_cast<std::size_t>(t);
            go.arrive_and_wait();
            for (int k = 0; k < kPerThread; ++k) {
                auto r = pool.reserve(ks, true);
                if (r) won[ti].push_back(*r);
                else ++other_errors[ti];
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(std::all_of(other_errors.begin(), other_errors.end(), [](int n) { return n == 0; }));
    // Nothing was released: every index has at most one holder.
    std::set<std::uint32_t> held;
    for (const auto& v : won) {
        for (const Reservation& r : v) {
            REQUIRE(held.insert(r.index).second);
            REQUIRE(pool.state(r.index) == AddressState::reserved);
        }
    }
    // A refused restore's index is held by someone.
    for (const auto& v : refused) {
        for (std::uint32_t i : v) REQUIRE(held.count(i) == 1);
    }
    CHECK(pool.stats().reserved == held.size());
    // Hand-outs took the lowest indices nobody held: below the highest
    // hand-out, every index is held (restored or handed out).
    std::uint32_t top_handout = 0;
    for (int t = kRestorers; t < kRestorers + kReservers; ++t) {
        for (const Reservation& r : won[static_cast<std::size_t>(t)]) top_handout = std::max(top_handout, r.index);
    }
    for (std::uint32_t i = 0; i <= top_handout; ++i) REQUIRE(held.count(i) == 1);
}

// ==== 9. bulk derivation on several threads =============================================

TEST_CASE("generate_addresses and maintain_gap_limit give the same addresses on one thread and on several",
          "[derive-threads]") {
    const KeySource ks = public_source();
    constexpr std::uint32_t kCount = 1200;
    auto one = external_pool(20, with_threads(1));
    auto reference = one.generate_addresses(kCount, ks, true);
    REQUIRE(reference);
    REQUIRE(reference->size() == kCount);
    for (std::uint32_t i : {0u, 1u, 599u, kCount - 1}) CHECK((*reference)[i] == address_of(ks, i));

    for (unsigned threads : {2u, 4u, 0u}) {
        INFO("derive_threads = " << threads);
        auto pool = external_pool(20, with_threads(threads));
        // Some indices derived already, none materialized (a restore returned
        // and pruned, hand-outs without add_to_state, their lookahead): the
        // workers find them published and skip nothing.
        auto restored = pool.restore_reservation(700, 0s, ks);
        REQUIRE(restored);
        REQUIRE(pool.release_reservation(*restored));
        REQUIRE(pool.prune_unused() == 1);
        for (int k = 0; k < 3; ++k) REQUIRE(pool.reserve(ks, false));
        auto got = pool.generate_addresses(kCount, ks, true);
        REQUIRE(got);
        CHECK(*got == *reference);
        CHECK(pool.stats().generated == kCount);

        // maintain_gap_limit of a wide window: the same addresses again.
        AddressPool wide(path("m/44'/1'/0'/0"), PoolType::external, kCount, Network::testnet, with_threads(threads));
        auto window = wide.maintain_gap_limit(ks);
        REQUIRE(window);
        CHECK(*window == *reference);
    }
}

TEST_CASE("bulk derivation on several threads fails cleanly and leaves the pool usable", "[derive-threads][errors]") {
    const KeySource ks = private_source();
    auto pool = external_pool(20, with_threads(4));
    auto none = pool.generate_addresses(1000, KeySource::none(), true);
    REQUIRE_FALSE(none);
    CHECK(none.error().code == Errc::no_key_source);
    CHECK(pool.stats().generated == 0);

    AddressPool wide(path("m/44'/1'/0'/0"), PoolType::external, 1000, Network::testnet, with_threads(4));
    auto window = wide.maintain_gap_limit(KeySource::none());
    REQUIRE_FALSE(window);
    CHECK(window.error().code == Errc::no_key_source);
    CHECK(wide.stats().generated == 0);

    REQUIRE(pool.generate_addresses(10, ks, true));  // binds account 0
    auto other = pool.generate_addresses(1000, KeySource::from_private(other_key(Network::testnet, 1)), true);
    REQUIRE_FALSE(other);
    CHECK(other.error().code == Errc::invalid_argument);
    CHECK(pool.stats().generated == 10);

    // A loaded pool without a key: its entries are there, nothing beyond.
    auto loaded = AddressPool::deserialize(pool.serialize(), with_threads(4));
    REQUIRE(loaded);
    auto beyond = loaded->generate_addresses(1000, KeySource::none(), true);
    REQUIRE_FALSE(beyond);
    CHECK(beyond.error().code == Errc::no_key_source);
    CHECK(loaded->stats().generated == 10);

    // Still usable, with the right key.
    auto ok = pool.generate_addresses(1000, ks, true);
    REQUIRE(ok);
    CHECK(ok->front() == address_of(ks, 10));
    CHECK(ok->back() == address_of(ks, 1009));
}

TEST_CASE("bulk derivations on several threads racing hand-outs publish each index once, with its own address",
          "[derive-threads][concurrency]") {
    const KeySource ks = public_source();
    // generate_addresses starts after the highest generated index, which the
    // racing calls move: it may reach 1000 + 200 + 1500.
    auto reference = external_pool(20, with_threads(1)).generate_addresses(3000, ks, false);
    REQUIRE(reference);
    for (int round = 0; round < 2; ++round) {
        AddressPool pool(path("m/44'/1'/0'/0"), PoolType::external, 1000, Network::testnet, with_threads(3));
        std::latch go(4);
        std::optional<Result<std::vector<Address>>> generated, window;
        std::vector<Reservation> handed[2];
        std::thread gen([&] {
            go.arrive_and_wait();
            generated.emplace(pool.generate_addresses(1500, ks, true));
        });
        std::thread maintain([&] {
            go.arrive_and_wait();
            window.emplace(pool.maintain_gap_limit(ks));
        });
        std::thread reservers[2];
        for (int k = 0; k < 2; ++k) {
            reservers[k] = std::thread([&, k] {
                go.arrive_and_wait();
                for (int n = 0; n < 100; ++n) {
                    auto r = pool.reserve(ks, true);
                    if (r) handed[k].push_back(*r);
                }
            });
        }
        gen.join();
        maintain.join();
        for (auto& t : reservers) t.join();
        REQUIRE(*generated);
        REQUIRE(*window);
        REQUIRE(handed[0].size() + handed[1].size() == 200);
        for (const auto& v : handed) {
            for (const Reservation& r : v) REQUIRE(r.address == (*reference)[r.index]);
        }
        // generate_addresses' run is contiguous, wherever it started.
        const auto& g = **generated;
        REQUIRE(g.size() == 1500);
        const auto start = std::find(reference->begin(), reference->end(), g.front());
        REQUIRE(start != reference->end());
        const auto from = static_cast<std::size_t>(start - reference->begin());
        REQUIRE(from + g.size() <= reference->size());
        for (std::size_t k = 0; k < g.size(); ++k) REQUIRE(g[k] == (*reference)[from + k]);
        for (std::uint32_t i = 0; i < 3000; ++i) {
            if (auto a = pool.address_at(i)) REQUIRE(*a == (*reference)[i]);
        }
        CHECK(pool.stats().reserved == 200);
    }
}
