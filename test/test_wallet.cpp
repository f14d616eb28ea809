// Accounts and the WalletSet (issue 13): registration, lock-free reads,
// block matching across accounts, the watched windows. Saves are in
// test_wallet_persist.cpp, the internals (epochs, index, manifest) in
// test_wallet_internals.cpp.
#include "wallet_support.hpp"

#include <algorithm>
#include <atomic>
#include <latch>
#include <set>
#include <thread>

using namespace wallet_test;
using namespace std::chrono_literals;

namespace {

std::vector<std::vector<std::uint8_t>> block(std::initializer_list<std::vector<std::uint8_t>> scripts) {
    return std::vector<std::vector<std::uint8_t>>(scripts);
}

std::vector<WalletMatch> sync(WalletSet& set, const std::vector<std::vector<std::uint8_t>>& scripts) {
    auto r = set.mark_scripts_used(scripts);
    if (!r) FAIL(errc_name(r.error().code) << ": " << r.error().message);
    return std::move(r).value();
}

}  // namespace

TEST_CASE("Account::bip44 makes the account's two BIP44 pools", "[wallet]") {
    auto a = make_account(0, 7);
    CHECK(a->external().base_path() == *DerivationPath::parse("m/44'/1'/0'/0"));
    CHECK(a->internal().base_path() == *DerivationPath::parse("m/44'/1'/0'/1"));
    CHECK(a->external().type() == PoolType::external);
    CHECK(a->internal().type() == PoolType::internal);
    CHECK(a->external().gap_limit() == 7);
    CHECK(a->internal().gap_limit() == 7);
    CHECK(a->external().stats().generated == 0);  // derives nothing
    auto r = a->next_receive_address();
    REQUIRE(r);
    CHECK(r->index == 0);
    CHECK(r->address.hash160() == *account_keys(0).derive_hash160(PoolType::external, 0));
    auto c = a->next_change_address();
    REQUIRE(c);
    CHECK(c->address.hash160() == *account_keys(0).derive_hash160(PoolType::internal, 0));
    CHECK(a->internal().state(0) == AddressState::reserved);
    CHECK(a->keys().account_public_key() == account_keys(0).account_public_key());
}

TEST_CASE("Account::bip44 refuses a path, network or gap limit that contradicts the key", "[wallet]") {
    auto gap0 = Account::bip44(account_keys(0), account_path(0), Network::testnet, 0);
    REQUIRE(!gap0);
    CHECK(gap0.error().code == Errc::invalid_argument);
    auto depth = Account::bip44(account_keys(0), *DerivationPath::parse("m/44'/1'"), Network::testnet);
    REQUIRE(!depth);
    CHECK(depth.error().code == Errc::invalid_argument);
    auto child = Account::bip44(account_keys(0), account_path(1), Network::testnet);
    REQUIRE(!child);
    CHECK(child.error().code == Errc::invalid_argument);
    auto net = Account::bip44(account_keys(0), account_path(0), Network::mainnet);
    REQUIRE(!net);
    CHECK(net.error().code == Errc::invalid_argument);
    auto deep = Account::bip44(KeySource::none(), DerivationPath(std::vector<std::uint32_t>(254, 1)), Network::testnet);
    REQUIRE(!deep);
    CHECK(deep.error().code == Errc::invalid_argument);
    // A path relative to the key ("m"): the key's depth counts. Depth 253
    // + 2 levels = 255 is the deepest allowed.
    auto seed = mnemonic_to_seed(kMnemonic, "");
    REQUIRE(seed);
    auto master = ExtendedPrivKey::from_seed(*seed, Network::testnet);
    REQUIRE(master);
    for (std::size_t levels : {253u, 254u}) {
        auto key = master->derive(DerivationPath(std::vector<std::uint32_t>(levels, 1)));
        REQUIRE(key);
        auto relative = Account::bip44(KeySource::from_public(key->to_public()), *DerivationPath::parse("m"), Network::testnet);
        CAPTURE(levels);
        CHECK(static_cast<bool>(relative) == (levels == 253));
        if (!relative) CHECK(relative.error().code == Errc::invalid_argument);
    }
    // No key at all: allowed (hands out only what it derived).
    auto none = Account::bip44(KeySource::none(), account_path(0), Network::testnet);
    REQUIRE(none);
    auto r = (*none)->next_receive_address();
    REQUIRE(!r);
    CHECK(r.error().code == Errc::no_key_source);
}

TEST_CASE("add, find, remove and size follow the registrations", "[wallet]") {
    WalletSet set;
    CHECK(set.size() == 0);
    CHECK(set.find("w", 0) == nullptr);
    auto a0 = make_account(0), a1 = make_account(1);
    CHECK(set.add("w", 0, a0));
    CHECK(set.add("w", 1, a1));
    CHECK(set.size() == 2);
    CHECK(set.find("w", 0) == a0);
    CHECK(set.find("w", 1) == a1);
    CHECK(set.find("w", 2) == nullptr);
    CHECK(set.find("v", 0) == nullptr);
    CHECK(!set.add("w", 0, make_account(2)));  // the key is taken
    CHECK(!set.add("x", 5, a0));               // already registered under another key
    CHECK(!set.add("x", 5, nullptr));
    CHECK(set.size() == 2);
    CHECK(set.remove("w", 0));
    CHECK(!set.remove("w", 0));
    CHECK(set.find("w", 0) == nullptr);
    CHECK(set.size() == 1);
    // Removed, it may come back, under any key.
    CHECK(set.add("x", 5, a0));
    CHECK(set.find("x", 5) == a0);
    // Many registrations across the registry's shards.
    CHECK(set.size() == 2);
    std::vector<std::shared_ptr<Account>> keep;
    for (std::uint32_t i = 0; i < 500; ++i) {
        keep.push_back(make_account(3, 20));
        REQUIRE(set.add("bulk-" + std::to_string(i), i, keep.back()));
    }
    CHECK(set.size() == 502);
    for (std::uint32_t i = 0; i < 500; i += 3) CHECK(set.find("bulk-" + std::to_string(i), i) == keep[i]);
    for (std::uint32_t i = 0; i < 500; i += 2) CHECK(set.remove("bulk-" + std::to_string(i), i));
    for (std::uint32_t i = 0; i < 500; ++i) CHECK((set.find("bulk-" + std::to_string(i), i) != nullptr) == (i % 2 == 1));
    CHECK(set.size() == 252);
}

TEST_CASE("an account joins one set in its life", "[wallet]") {
    auto a = make_account(0);
    WalletSet s1, s2;
    REQUIRE(s1.add("w", 0, a));
    CHECK(!s2.add("w", 0, a));
    REQUIRE(s1.remove("w", 0));
    CHECK(!s2.add("w", 0, a));  // still s1's pools' index
    CHECK(s1.add("w", 0, a));
}

TEST_CASE("a removed account stays valid and usable for whoever holds it", "[wallet]") {
    WalletSet set;
    std::shared_ptr<Account> held;
    {
        auto a = make_account(0);
        REQUIRE(set.add("w", 0, a));
        held = set.find("w", 0);
    }
    auto r1 = held->next_receive_address();
    REQUIRE(set.remove("w", 0));
    // The set's references are gone; ours keeps the account alive.
    auto r2 = held->next_receive_address();
    REQUIRE(r1);
    REQUIRE(r2);
    CHECK(r2->index == r1->index + 1);
    CHECK(held->external().mark_used(r2->address));  // its own lookups still work
    CHECK(held->external().index_of(r1->address) == r1->index);
    // The set no longer matches it.
    CHECK(sync(set, block({script_of(0, PoolType::external, r1->index)})).empty());
}

TEST_CASE("mark_scripts_used matches one block against every account", "[wallet][sync]") {
    WalletSet set;
    std::vector<std::shared_ptr<Account>> accounts;
    for (std::uint32_t n = 0; n < 4; ++n) {
        accounts.push_back(make_account(n));
        REQUIRE(set.add("wallet-" + std::to_string(n % 2), n, accounts.back()));
    }
    const auto scripts = block({
        foreign_script(1),
        script_of(2, PoolType::external, 3),
        script_of(0, PoolType::internal, 0),
        Address(Network::testnet, AddressKind::p2sh, *account_keys(1).derive_hash160(PoolType::external, 0))
            .script_pubkey(),  // P2SH of an account's hash: not a payment to it
        script_of(2, PoolType::external, 3),  // twice
        std::vector<std::uint8_t>{0x6a, 0x01, 0x00},  // OP_RETURN
        script_of(3, PoolType::external, 19),  // the window's last index
        script_of(3, PoolType::external, 45),  // far outside any window
    });
    const auto m = sync(set, scripts);
    REQUIRE(m.size() == 4);
    CHECK(m[0].position == 1);
    CHECK(m[0].wallet == "wallet-0");
    CHECK(m[0].account == 2);
    CHECK(m[0].chain == PoolType::external);
    CHECK(m[0].index == 3);
    CHECK(m[0].newly_used);
    CHECK(m[1].position == 2);
    CHECK(m[1].chain == PoolType::internal);
    CHECK(m[1].account == 0);
    CHECK(m[1].index == 0);
    CHECK(m[2].position == 4);
    CHECK(!m[2].newly_used);  // the second payment of the same address
    CHECK(m[3].position == 6);
    CHECK(m[3].wallet == "wallet-1");
    CHECK(m[3].index == 19);
    CHECK(accounts[2]->external().state(3) == AddressState::used);
    CHECK(accounts[0]->internal().state(0) == AddressState::used);
    CHECK(accounts[3]->external().state(19) == AddressState::used);
    CHECK(accounts[3]->external().state(45) == AddressState::unused);
    // Marked durably (generated), and the same block again changes nothing.
    CHECK(accounts[2]->external().stats().used == 1);
    const auto again = sync(set, scripts);
    REQUIRE(again.size() == 4);
    for (const auto& x : again) CHECK(!x.newly_used);
}

TEST_CASE("windows widen across the whole batch and every account", "[wallet][sync]") {
    WalletSet set;
    auto a = make_account(0, 5);
    auto b = make_account(1, 5);
    REQUIRE(set.add("a", 0, a));
    REQUIRE(set.add("b", 1, b));
    // A chain of payments, each just inside the window the previous one
    // opens, listed last-first, interleaved with another account's.
    const auto scripts = block({
        script_of(0, PoolType::external, 16),
        script_of(1, PoolType::internal, 9),
        script_of(0, PoolType::external, 11),
        script_of(0, PoolType::external, 6),
        script_of(1, PoolType::internal, 4),
        script_of(0, PoolType::external, 1),
        script_of(0, PoolType::external, 23),  // beyond the window 16 opens (22)
    });
    const auto m = sync(set, scripts);
    std::vector<std::uint32_t> found;
    for (const auto& x : m) found.push_back(static_cast<std::uint32_t>(x.position));
    CHECK(found == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5});
    for (const auto& x : m) CHECK(x.newly_used);
    CHECK(a->external().scan_window_end() == 22);
    CHECK(b->internal().scan_window_end() == 15);
    CHECK(a->external().state(23) == AddressState::unused);
    // The next block finds 23: the window reached it.
    const auto next = sync(set, block({script_of(0, PoolType::external, 21)}));
    REQUIRE(next.size() == 1);
    const auto last = sync(set, block({script_of(0, PoolType::external, 23)}));
    REQUIRE(last.size() == 1);
    CHECK(last[0].index == 23);
}

TEST_CASE("a payment found by widening is reported for every account that shares the address", "[wallet][sync]") {
    // Two accounts of one key (a watch-only copy beside the wallet, say):
    // index 10 is inside both windows (gap 20); 25 only enters them once 10
    // is used, and the index also knows 25 for neither. The first widening
    // must not keep the script from the second.
    WalletSet set;
    auto a = make_account(0);
    auto b = make_account(0);
    REQUIRE(set.add("alice", 0, a));
    REQUIRE(set.add("bob", 0, b));
    const auto m = sync(set, block({script_of(0, PoolType::external, 10), script_of(0, PoolType::external, 25)}));
    std::multiset<std::pair<std::string, std::uint32_t>> seen;
    for (const auto& x : m) {
        CHECK(x.newly_used);
        seen.emplace(x.wallet, x.index);
    }
    CHECK(seen == std::multiset<std::pair<std::string, std::uint32_t>>{{"alice", 10}, {"alice", 25}, {"bob", 10}, {"bob", 25}});
    CHECK(a->external().state(25) == AddressState::used);
    CHECK(b->external().state(25) == AddressState::used);
    CHECK(a->external().scan_window_end() == 46);
    CHECK(b->external().scan_window_end() == 46);
    // Matched again: reported for each, once, as a payment seen before.
    const auto again = sync(set, block({script_of(0, PoolType::external, 25)}));
    REQUIRE(again.size() == 2);
    for (const auto& x : again) CHECK_FALSE(x.newly_used);
}

TEST_CASE("the set watches windows that hand-outs moved", "[wallet][sync]") {
    // Lookahead 1: the pools derive only what they hand out, so the window's
    // tail is derived by the set's watch alone.
    PoolOptions one;
    one.lookahead = 1;
    WalletSet set;
    auto a = make_account(0, 10, one);
    REQUIRE(set.add("w", 0, a));
    CHECK(sync(set, {}).empty());  // the first sync derives the windows
    for (int i = 0; i < 30; ++i) REQUIRE(a->next_receive_address());
    CHECK(a->external().scan_window_end() == 40);
    const auto m = sync(set, block({script_of(0, PoolType::external, 39)}));
    REQUIRE(m.size() == 1);
    CHECK(m[0].index == 39);
    // Hand-outs made directly on the pool are seen through its derivations.
    auto b = make_account(1, 10, one);
    REQUIRE(set.add("w", 1, b));
    CHECK(sync(set, {}).empty());
    for (int i = 0; i < 25; ++i) REQUIRE(b->internal().reserve(b->keys(), true));
    const auto d = sync(set, block({script_of(1, PoolType::internal, b->internal().scan_window_end() - 1)}));
    REQUIRE(d.size() == 1);
}

TEST_CASE("an account is indexed with what it derived before it joined", "[wallet][sync]") {
    auto a = make_account(0, 3);
    std::vector<Reservation> before;
    for (int i = 0; i < 12; ++i) before.push_back(*a->next_receive_address());
    WalletSet set;
    REQUIRE(set.add("w", 0, a));
    // Index 11 is handed out (and derived); the window is 15.
    const auto m = sync(set, block({before[11].address.script_pubkey(), script_of(0, PoolType::external, 14)}));
    REQUIRE(m.size() == 2);
    CHECK(m[0].index == 11);
    CHECK(m[1].index == 14);
}

TEST_CASE("a pool of a set answers its own lookups through the set's index", "[wallet][sync]") {
    WalletSet set;
    auto a = make_account(0);
    REQUIRE(set.add("w", 0, a));
    auto r = a->next_receive_address();
    REQUIRE(r);
    CHECK(a->external().index_of(r->address) == r->index);
    CHECK(a->external().index_of_script(r->address.script_pubkey()) == r->index);
    CHECK(!a->internal().index_of(r->address));  // the other chain does not claim it
    CHECK(a->external().mark_script_used(r->address.script_pubkey()));
    CHECK(a->external().state(r->index) == AddressState::used);
    auto other = make_account(1);
    REQUIRE(set.add("w", 1, other));
    CHECK(!other->external().index_of(r->address));  // nor does another account
}

TEST_CASE("sweep_expired_reservations sweeps every pool of every account", "[wallet]") {
    WalletSet set;
    std::vector<std::shared_ptr<Account>> accounts;
    for (std::uint32_t n = 0; n < 3; ++n) {
        accounts.push_back(make_account(n));
        REQUIRE(set.add("w", n, accounts.back()));
    }
    for (auto& a : accounts) {
        REQUIRE(a->next_receive_address());
        REQUIRE(a->next_receive_address());
        REQUIRE(a->next_change_address());
    }
    CHECK(set.sweep_expired_reservations(1h) == 0);
    CHECK(set.sweep_expired_reservations(0ns) == 9);
    for (auto& a : accounts) CHECK(a->external().stats().reserved == 0);
}

TEST_CASE("a sync reports a derivation error naming the account", "[wallet][sync]") {
    // Saved with account 0's key, loaded with another account's xpub
    // relabelled as m/44'/1'/0' (an xpub does not know its parents, so the
    // path check passes): the first derivation compares hashes and refuses.
    auto a = make_account(0, 4);
    REQUIRE(a->next_receive_address());  // index 0 generated: in the file
    TempDir tmp;
    {
        WalletSet one;
        REQUIRE(one.add("w", 0, a));
        REQUIRE(one.save(tmp.dir));
    }
    auto loaded = WalletSet::load(tmp.dir, [](std::string_view, std::uint32_t) {
        auto other = account_keys(1).account_public_key();
        auto relabelled = ExtendedPubKey::from_parts(other->public_key(), other->chain_code(), Network::testnet, 3,
                                                     other->parent_fingerprint(), 0 | hardened_bit);
        if (!relabelled) std::abort();
        return KeySource::from_public(*relabelled);
    });
    REQUIRE(loaded);
    auto r = loaded->mark_scripts_used(block({foreign_script(9)}));
    REQUIRE(!r);
    CHECK(r.error().code == Errc::invalid_argument);
    CHECK(r.error().message.find("wallet \"w\" account 0 (external)") != std::string::npos);
    // It stays queued: the next sync reports it again rather than skip the window.
    auto again = loaded->mark_scripts_used(block({foreign_script(9)}));
    REQUIRE(!again);
    CHECK(again.error().code == Errc::invalid_argument);
}

TEST_CASE("a watch-only account is watched over what it derived", "[wallet][sync]") {
    auto a = Account::bip44(KeySource::none(), account_path(0), Network::testnet, 5);
    REQUIRE(a);
    WalletSet set;
    REQUIRE(set.add("w", 0, *a));
    CHECK(sync(set, block({script_of(0, PoolType::external, 0)})).empty());  // nothing derived: nothing to match
}

// ---- concurrency -------------------------------------------------------------------

TEST_CASE("finds and hand-outs run while accounts are added and removed", "[wallet][threads]") {
    const std::uint64_t seed = test_seed("wallet add/remove/hand-out");
    INFO("seed " << seed);
    constexpr std::uint32_t kAccounts = 64;
    constexpr int kReaders = 6;
    constexpr int kRounds = 300;
    WalletSet set;
    std::vector<std::shared_ptr<Account>> pool;  // the accounts, by number
    for (std::uint32_t n = 0; n < kAccounts; ++n) pool.push_back(make_account(n % 8, 20));
    for (std::uint32_t n = 0; n < kAccounts; n += 2) REQUIRE(set.add("w" + std::to_string(n), n, pool[n]));

    std::latch go(kReaders + 2);
    std::atomic<bool> stop{false};
    std::atomic<int> wrong{0};
    std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> got(kReaders);  // (account, index)
    std::vector<std::thread> threads;
    for (int t = 0; t < kReaders; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937_64 rng(seed + static_cast<std::uint64_t>(t));
            go.arrive_and_wait();
            while (!stop.load(std::memory_order_relaxed)) {  // relaxed: a stop flag
                const std::uint32_t n = static_cast<std::uint32_t>(rng() % kAccounts);
                auto a = set.find("w" + std::to_string(n), n);
                if (!a) continue;
                if (a != pool[n]) wrong.fetch_add(1);
                auto r = a->next_receive_address();
                if (r) got[static_cast<std::size_t>(t)].push_back({n, r->index});
            }
        });
    }
    // A writer that flips registrations, and a syncer.
    threads.emplace_back([&] {
        std::mt19937_64 rng(seed ^ 0x5a5a);
        go.arrive_and_wait();
        for (int round = 0; round < kRounds; ++round) {
            const std::uint32_t n = static_cast<std::uint32_t>(rng() % kAccounts);
            if (!set.remove("w" + std::to_string(n), n)) (void)set.add("w" + std::to_string(n), n, pool[n]);
        }
        stop.store(true, std::memory_order_relaxed);  // relaxed: a stop flag
    });
    threads.emplace_back([&] {
        go.arrive_and_wait();
        while (!stop.load(std::memory_order_relaxed)) {  // relaxed: a stop flag
            auto r = set.mark_scripts_used(block({foreign_script(3)}));
            if (!r) wrong.fetch_add(1);
        }
    });
    for (auto& th : threads) th.join();
    CHECK(wrong.load() == 0);
    // No (account, index) was handed out twice.
    std::set<std::pair<std::uint32_t, std::uint32_t>> all;
    std::size_t total = 0;
    for (const auto& g : got) {
        total += g.size();
        all.insert(g.begin(), g.end());
    }
    CHECK(all.size() == total);
    // Every registered account's reservations are what its pool holds.
    std::map<std::uint32_t, std::uint32_t> per;
    for (const auto& [n, i] : all) ++per[n];
    for (std::uint32_t n = 0; n < kAccounts; ++n) CHECK(pool[n]->external().stats().reserved == per[n]);
}

TEST_CASE("concurrent syncs and hand-outs mark every payment once", "[wallet][threads][sync]") {
    const std::uint64_t seed = test_seed("wallet concurrent syncs");
    INFO("seed " << seed);
    constexpr std::uint32_t kAccounts = 8;
    WalletSet set;
    std::vector<std::shared_ptr<Account>> accounts;
    for (std::uint32_t n = 0; n < kAccounts; ++n) {
        accounts.push_back(make_account(n, 10));
        REQUIRE(set.add("w", n, accounts.back()));
    }
    // Two blocks, each paying a disjoint half of the first 10 indices of
    // every account's external chain, in a seeded order.
    std::mt19937_64 rng(seed);
    std::vector<std::vector<std::uint8_t>> blocks[2];
    for (std::uint32_t n = 0; n < kAccounts; ++n) {
        for (std::uint32_t i = 0; i < 10; ++i) blocks[i % 2].push_back(script_of(n, PoolType::external, i));
    }
    for (auto& b : blocks) std::shuffle(b.begin(), b.end(), rng);
    std::latch go(4);
    std::vector<WalletMatch> found[2];
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&, t] {
            go.arrive_and_wait();
            auto r = set.mark_scripts_used(blocks[t]);
            if (r) found[t] = std::move(*r);
            else errors.fetch_add(1);
        });
    }
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&, t] {
            go.arrive_and_wait();
            for (int k = 0; k < 20; ++k) (void)accounts[static_cast<std::size_t>(t + k) % kAccounts]->next_receive_address();
        });
    }
    for (auto& th : threads) th.join();
    REQUIRE(errors.load() == 0);
    CHECK(found[0].size() + found[1].size() == kAccounts * 10);
    std::size_t newly = 0;
    for (auto& f : found) {
        for (auto& m : f) newly += m.newly_used ? 1 : 0;
    }
    CHECK(newly == kAccounts * 10);
    for (auto& a : accounts) CHECK(a->external().stats().used == 10);
}
