// WalletSet benchmarks (issue 13), linked into addrpool-bench beside
// bench.cpp and registered before main() runs. Every ratio in the report is
// between benchmarks of one run (bench/run.sh writes them to
// bench/results/wallet.json); medians of repetitions.
//
//   wallet_match/set/accounts:A/threads:T
//       one block of kBlock P2PKH scripts, 1% paying the set's addresses,
//       matched by WalletSet::mark_scripts_used, against a set of A accounts
//       (1 or kAccounts); T threads each match the whole block. Items: scripts.
//   wallet_match/mutex_map/threads:T
//       the baseline: the same block against a std::mutex + std::unordered_map
//       holding every address the kAccounts set indexes (hash160 → account,
//       chain, index); a hit is marked used in its pool, as the set does.
//   wallet_handout/set/threads:8, wallet_handout/shared_mutex_map/threads:8
//       find (wallet, account) among kAccounts at random, reserve a receive
//       address, release it: WalletSet::find vs a std::shared_mutex + std::map
//       registry of the same accounts. Items: hand-outs.
//   wallet_find/set, wallet_find/shared_mutex_map (threads:8)
//       the same without the hand-out: the registries' own cost.
//   wallet_memory/accounts:N
//       N accounts with distinct xpubs in a fresh set: heap (mallinfo2) and
//       RSS growth per account as added (nothing derived) and after the first
//       sync derived each pool's gap window (20 per chain); the script
//       index's share; a KeySource's bytes alone.
//
// `--smoke` (stripped by bench.cpp's main, seen here in /proc/self/cmdline)
// shrinks every size so that `meson test bench-smoke` runs these in seconds.
#include <addrpool/addrpool.hpp>

#include "wallet/set_impl.hpp"

#include "pool/pool_impl.hpp"

#include <benchmark/benchmark.h>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

using namespace addrpool;

namespace {

bool smoke() {
    static const bool on = [] {
        std::ifstream in("/proc/self/cmdline", std::ios::binary);
        const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return cmdline.find(std::string("--smoke\0", 8)) != std::string::npos;
    }();
    return on;
}

struct Sizes {
    std::uint32_t accounts;         // the large set
    std::uint32_t block;            // scripts per block
    std::uint32_t memory_accounts;  // wallet_memory
};
const Sizes& sizes() {
    static const Sizes full{10'000, 10'000, 100'000};
    static const Sizes small{200, 1'000, 1'000};
    return smoke() ? small : full;
}

constexpr std::uint32_t kGap = 20;

std::string wallet_name(std::uint32_t n) { return "wallet-" + std::to_string(n); }

// Runs f(i) for i in [0, n) on every hardware thread.
template <class F>
void parallel_for(std::uint32_t n, F&& f) {
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::atomic<std::uint32_t> next{0};  // relaxed: a work counter; results are read after join()
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            for (std::uint32_t i = next.fetch_add(1, std::memory_order_relaxed); i < n;
                 i = next.fetch_add(1, std::memory_order_relaxed)) {
                f(i);
            }
        });
    }
    for (auto& t : pool) t.join();
}

// n distinct account xpubs: m/44'/1'/i' of the test mnemonic (the private
// hardened steps are cheap; each public key is one EC multiplication).
std::vector<KeySource> account_keys(std::uint32_t n) {
    auto seed = mnemonic_to_seed(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "");
    auto master = ExtendedPrivKey::from_seed(*seed, Network::testnet);
    std::vector<std::optional<KeySource>> keys(n);
    parallel_for(n, [&](std::uint32_t i) {
        auto acct = master->derive(DerivationPath({44 | hardened_bit, 1 | hardened_bit, i | hardened_bit}));
        keys[i] = KeySource::from_public(acct->to_public());
    });
    std::vector<KeySource> out;
    out.reserve(n);
    for (auto& k : keys) out.push_back(std::move(*k));
    return out;
}

std::shared_ptr<Account> make_account(const KeySource& k, std::uint32_t i) {
    auto a = Account::bip44(k, DerivationPath({44 | hardened_bit, 1 | hardened_bit, i | hardened_bit}),
                            Network::testnet, kGap);
    if (!a) std::abort();
    return *a;
}

std::vector<std::uint8_t> script(const Hash160& h) { return Address(Network::testnet, AddressKind::p2pkh, h).script_pubkey(); }

std::optional<Hash160> p2pkh(const std::vector<std::uint8_t>& s) {
    if (s.size() != 25 || s[0] != 0x76 || s[1] != 0xa9 || s[2] != 0x14 || s[23] != 0x88 || s[24] != 0xac) return std::nullopt;
    Hash160 h;
    std::memcpy(h.data(), s.data() + 3, 20);
    return h;
}

Hash160 foreign_hash(std::uint32_t i) {
    Hash160 h{};
    std::uint64_t x = (std::uint64_t{i} + 1) * 0x9e3779b97f4a7c15ull;
    for (auto& b : h) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ull;
        b = static_cast<std::uint8_t>(x >> 56);
    }
    return h;
}

// Every hash a pool has derived, with its index (the set's index holds
// exactly these: white-box, through the pool's slots).
template <class F>
void derived_hashes(AddressPool& pool, F&& visit) {
    const AddressPool::Impl& p = detail::PoolAccess::impl(pool);
    const detail::Hot* h = p.hot_or_null();
    if (h == nullptr) return;
    const std::uint32_t end = h->touched_end.load(boost::memory_order_acquire);  // (T2), pool_impl.hpp
    h->slots.for_each(0, end, [&](std::uint32_t i, const detail::Slot& s) {
        if (s.derived()) visit(i, s.load_hash());
    });
}

// ---- the shared world: a large set, a one-account set, a block ---------------------------------

struct World {
    std::vector<KeySource> keys;
    std::vector<std::shared_ptr<Account>> accounts;
    WalletSet big, one;
    std::vector<std::vector<std::uint8_t>> block_big, block_one;

    World() {
        const Sizes& z = sizes();
        keys = account_keys(z.accounts);
        for (std::uint32_t i = 0; i < z.accounts; ++i) {
            accounts.push_back(make_account(keys[i], i));
            if (!big.add(wallet_name(i), i, accounts.back())) std::abort();
        }
        auto lone = make_account(keys[0], 0);
        if (!one.add(wallet_name(0), 0, lone)) std::abort();
        // 1% ours. Large set: index < gap of a pseudo-random account and
        // chain; one account: indices 0, 1, 2, ... of its receive chain (the
        // warm-up sync below widens the window over them, in order).
        const std::uint32_t ours = z.block / 100;
        const std::uint32_t every = z.block / ours;
        for (std::uint32_t k = 0; k < z.block; ++k) {
            if (k % every == every / 2) {
                const std::uint32_t j = k / every;
                const std::uint32_t n = static_cast<std::uint32_t>(foreign_hash(j)[0] * 257u + foreign_hash(j)[1]) % z.accounts;
                const auto chain = static_cast<PoolType>(j % 2);
                block_big.push_back(script(*keys[n].derive_hash160(chain, j % kGap)));
                block_one.push_back(script(*keys[0].derive_hash160(PoolType::external, j)));
            } else {
                block_big.push_back(script(foreign_hash(k)));
                block_one.push_back(block_big.back());
            }
        }
        // Warm-up: the first syncs derive every window (in parallel) and mark
        // the block's payments; from then on a sync is pure matching.
        if (!big.mark_scripts_used(block_big) || !one.mark_scripts_used(block_one)) std::abort();
        if (!big.mark_scripts_used(block_big) || !one.mark_scripts_used(block_one)) std::abort();
    }
};

World& world() {
    static World w;
    return w;
}

void BM_MatchSet(benchmark::State& st) {
    World& w = world();
    const bool large = st.range(0) != 1;
    WalletSet& set = large ? w.big : w.one;
    const auto& block = large ? w.block_big : w.block_one;
    std::size_t matched = 0;
    for (auto _ : st) {
        auto m = set.mark_scripts_used(block);
        if (!m) {
            st.SkipWithError("mark_scripts_used failed");
            break;
        }
        matched = m->size();
        benchmark::DoNotOptimize(m->data());
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * block.size()));
    st.counters["matched"] = static_cast<double>(matched);
}

// The baseline index: every address the large set indexes.
struct MutexMap {
    struct Target {
        Account* account;
        PoolType chain;
        std::uint32_t index;
    };
    std::mutex mutex;
    std::unordered_map<Hash160, Target, detail::Hash160Hash> map;

    explicit MutexMap(World& w) {
        for (std::size_t n = 0; n < w.accounts.size(); ++n) {
            Account& a = *w.accounts[n];
            derived_hashes(a.external(), [&](std::uint32_t i, const Hash160& h) { map.emplace(h, Target{&a, PoolType::external, i}); });
            derived_hashes(a.internal(), [&](std::uint32_t i, const Hash160& h) { map.emplace(h, Target{&a, PoolType::internal, i}); });
        }
    }
};

MutexMap& mutex_map() {
    static MutexMap m(world());
    return m;
}

void BM_MatchMutexMap(benchmark::State& st) {
    World& w = world();
    MutexMap& mm = mutex_map();
    std::size_t matched = 0;
    for (auto _ : st) {
        std::vector<WalletMatch> out;
        for (std::size_t pos = 0; pos < w.block_big.size(); ++pos) {
            const auto h = p2pkh(w.block_big[pos]);
            if (!h) continue;
            std::optional<MutexMap::Target> t;
            {
                std::lock_guard<std::mutex> lock(mm.mutex);
                auto it = mm.map.find(*h);
                if (it != mm.map.end()) t = it->second;
            }
            if (!t) continue;
            AddressPool& pool = t->chain == PoolType::external ? t->account->external() : t->account->internal();
            auto changed = pool.mark_index_used(t->index, t->account->keys());
            out.push_back(WalletMatch{pos, {}, 0, t->chain, t->index, changed && *changed});
        }
        matched = out.size();
        benchmark::DoNotOptimize(out.data());
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * w.block_big.size()));
    st.counters["matched"] = static_cast<double>(matched);
}

// ---- find + reserve ---------------------------------------------------------------------------

struct SharedMutexRegistry {
    std::shared_mutex mutex;
    std::map<std::pair<std::string, std::uint32_t>, std::shared_ptr<Account>> map;
    explicit SharedMutexRegistry(World& w) {
        for (std::uint32_t n = 0; n < w.accounts.size(); ++n) map.emplace(std::make_pair(wallet_name(n), n), w.accounts[n]);
    }
    std::shared_ptr<Account> find(const std::string& wallet, std::uint32_t n) {
        std::shared_lock lock(mutex);
        auto it = map.find({wallet, n});
        return it == map.end() ? nullptr : it->second;
    }
};

SharedMutexRegistry& registry() {
    static SharedMutexRegistry r(world());
    return r;
}

// The names, made once: the benchmark measures the lookup, not to_string.
const std::vector<std::string>& names() {
    static const std::vector<std::string> n = [] {
        std::vector<std::string> v;
        for (std::uint32_t i = 0; i < sizes().accounts; ++i) v.push_back(wallet_name(i));
        return v;
    }();
    return n;
}

// Each thread's own xorshift* sequence of account numbers in [0, count).
class RandomAccount {
public:
    RandomAccount(int thread, std::size_t count)
        : x_(0x2545f4914f6cdd1dull * (static_cast<std::uint64_t>(thread) + 1)), count_(static_cast<std::uint32_t>(count)) {}
    std::uint32_t next() {
        x_ ^= x_ >> 12;
        x_ ^= x_ << 25;
        x_ ^= x_ >> 27;
        return static_cast<std::uint32_t>((x_ * 0x2545f4914f6cdd1dull >> 32) % count_);
    }

private:
    std::uint64_t x_;
    std::uint32_t count_;
};

template <bool kSet>
void BM_FindReserve(benchmark::State& st) {
    World& w = world();
    if constexpr (!kSet) (void)registry();
    const auto& nm = names();
    RandomAccount pick(st.thread_index(), nm.size());
    for (auto _ : st) {
        const std::uint32_t n = pick.next();
        std::shared_ptr<Account> a = kSet ? w.big.find(nm[n], n) : registry().find(nm[n], n);
        auto r = a->next_receive_address();
        if (!r) {
            st.SkipWithError("hand-out failed");
            break;
        }
        (void)a->external().release_reservation(*r);
    }
    st.SetItemsProcessed(st.iterations());
}

// Find alone (no hand-out): the registries' own cost.
template <bool kSet>
void BM_Find(benchmark::State& st) {
    World& w = world();
    if constexpr (!kSet) (void)registry();
    const auto& nm = names();
    RandomAccount pick(st.thread_index(), nm.size());
    for (auto _ : st) {
        const std::uint32_t n = pick.next();
        std::shared_ptr<Account> a = kSet ? w.big.find(nm[n], n) : registry().find(nm[n], n);
        benchmark::DoNotOptimize(a.get());
    }
    st.SetItemsProcessed(st.iterations());
}

// ---- memory per account -----------------------------------------------------------------------

std::size_t heap_bytes() {
    const struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

std::size_t rss_bytes() {
    std::ifstream in("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    in >> size >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

void BM_Memory(benchmark::State& st) {
    const std::uint32_t n = sizes().memory_accounts;
    auto seed = mnemonic_to_seed(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "");
    auto master = ExtendedPrivKey::from_seed(*seed, Network::testnet);
    // The account xpubs a service receives (their text or parsed key is the
    // service's, not the account's cost): made before the first reading.
    std::vector<std::optional<ExtendedPubKey>> xpubs(n);
    parallel_for(n, [&](std::uint32_t i) {
        xpubs[i] = master->derive(DerivationPath({44 | hardened_bit, 1 | hardened_bit, i | hardened_bit}))->to_public();
    });
    for (auto _ : st) {
        // KeySource alone, on a tenth of the accounts.
        const std::uint32_t m = std::max<std::uint32_t>(1, n / 10);
        std::vector<KeySource> sources;
        sources.reserve(m);
        ::malloc_trim(0);
        std::size_t h = heap_bytes();
        for (std::uint32_t i = 0; i < m; ++i) sources.push_back(KeySource::from_public(*xpubs[i]));
        const double key_source = static_cast<double>(heap_bytes() - h) / m;
        sources.clear();
        sources.shrink_to_fit();

        ::malloc_trim(0);
        const std::size_t heap0 = heap_bytes(), rss0 = rss_bytes();
        // On this thread only: a worker thread's malloc arena and cache would
        // count in the readings.
        std::vector<std::shared_ptr<Account>> made(n);
        for (std::uint32_t i = 0; i < n; ++i) made[i] = make_account(KeySource::from_public(*xpubs[i]), i);
        const std::size_t heap_accounts = heap_bytes() - n * sizeof(std::shared_ptr<Account>);  // not the vector
        std::size_t heap_added = 0, heap_derived = 0, rss_added = 0, rss_derived = 0, index_derived = 0, lookups = 0;
        {
            WalletSet set;
            for (std::uint32_t i = 0; i < n; ++i) {
                if (!set.add(wallet_name(i), i, made[i])) std::abort();
            }
            made.clear();  // the set holds the only references now
            made.shrink_to_fit();
            heap_added = heap_bytes();
            rss_added = rss_bytes();
            // The first sync derives (and indexes) every pool's gap window.
            if (!set.mark_scripts_used(std::vector<std::vector<std::uint8_t>>{})) std::abort();
            heap_derived = heap_bytes();
            rss_derived = rss_bytes();
            index_derived = detail::WalletAccess::impl(set).core->index.memory_bytes();
            for (std::uint32_t i = 0; i < n; ++i) {
                auto a = set.find(wallet_name(i), i);
                for (AddressPool* p : {&a->external(), &a->internal()}) {
                    lookups += detail::PoolAccess::impl(*p).lookup_or_null() != nullptr ? 1 : 0;
                }
            }
            st.counters["derived_per_chain"] =
                detail::WalletAccess::binding(*set.find(wallet_name(0), 0)).watched_end[0].load();
        }
        auto per = [&](std::size_t bytes, std::size_t base) {
            return (static_cast<double>(bytes) - static_cast<double>(base)) / n;
        };
        st.counters["key_source_bytes"] = key_source;
        st.counters["account_bytes"] = per(heap_accounts, heap0);
        st.counters["heap_bytes_per_account_derived_0"] = per(heap_added, heap0);
        st.counters["heap_bytes_per_account_derived_20"] = per(heap_derived, heap0);
        st.counters["rss_bytes_per_account_derived_0"] = per(rss_added, rss0);
        st.counters["rss_bytes_per_account_derived_20"] = per(rss_derived, rss0);
        st.counters["index_bytes_per_account_derived_20"] = static_cast<double>(index_derived) / n;
        st.counters["pool_lookup_indices"] = static_cast<double>(lookups);  // pools with their own index: 0
        st.counters["accounts"] = n;
    }
    st.counters["sizeof_account"] = sizeof(Account);
    st.counters["sizeof_pool_impl"] = sizeof(AddressPool::Impl);
    st.counters["sizeof_hot"] = sizeof(detail::Hot);
    st.counters["sizeof_binding"] = sizeof(detail::Binding);
    st.counters["sizeof_node"] = sizeof(detail::Node);
}

struct Register {
    Register() {
        for (int t : {1, 2}) {
            benchmark::RegisterBenchmark("wallet_match/set", BM_MatchSet)
                ->ArgName("accounts")->Arg(1)->Arg(sizes().accounts)->Threads(t)->UseRealTime();
            benchmark::RegisterBenchmark("wallet_match/mutex_map", BM_MatchMutexMap)->Threads(t)->UseRealTime();
        }
        benchmark::RegisterBenchmark("wallet_handout/set", BM_FindReserve<true>)->Threads(8)->UseRealTime();
        benchmark::RegisterBenchmark("wallet_handout/shared_mutex_map", BM_FindReserve<false>)->Threads(8)->UseRealTime();
        benchmark::RegisterBenchmark("wallet_find/set", BM_Find<true>)->Threads(8)->UseRealTime();
        benchmark::RegisterBenchmark("wallet_find/shared_mutex_map", BM_Find<false>)->Threads(8)->UseRealTime();
        benchmark::RegisterBenchmark("wallet_memory", BM_Memory)
            ->ArgName("accounts")->Arg(sizes().memory_accounts)->Iterations(1)->Repetitions(1)
            ->Unit(benchmark::kMillisecond);
    }
} g_register;

}  // namespace
