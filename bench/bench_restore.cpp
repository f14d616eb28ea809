// addrpool-bench, restore speed (issue 12, item 9): a wallet restored from
// its seed derives its whole window at once. generate_addresses and
// maintain_gap_limit of 20,000 addresses on one thread (derive_threads = 1)
// against derive_threads = 0 (every hardware thread):
//
//   restore/generate_addresses/derive_threads:T/process_time/real_time
//       generate_addresses(20,000) on a fresh pool
//   restore/maintain_gap_limit/derive_threads:T/process_time/real_time
//       maintain_gap_limit() with gap limit 20,000
//
// Wall-clock time (the work is spread over threads) and the process's CPU
// time (every thread's: equal on 1 and N threads when no work is
// duplicated), one fresh pool per iteration. Each iteration's addresses are
// compared, untimed, with one single-threaded derivation made before the
// first: a difference is an error, not a number. Counters: addresses, threads (the effective
// derive_threads), same_addresses (1). bench/report_restore.py renders them.
//
// Registered at static initialization, beside bench.cpp's families; `--smoke`
// (bench.cpp's flag, read here from /proc/self/cmdline) shrinks the count to
// 1,000 so that `meson test bench-smoke` stays quick.
#include <addrpool/addrpool.hpp>

#include <benchmark/benchmark.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace addrpool;

namespace {

// The flag bench.cpp strips before Google Benchmark parses the rest.
bool smoke_requested() {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t start = 0;
    while (start < cmdline.size()) {
        const std::size_t end = cmdline.find('\0', start);
        const std::string arg = cmdline.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (arg == "--smoke") return true;
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return false;
}

std::uint32_t restore_count() {
    static const std::uint32_t n = smoke_requested() ? 1'000 : 20'000;
    return n;
}

const KeySource& watch_only_keys() {
    // The BIP44 testnet account m/44'/1'/0' of the "abandon ... about"
    // mnemonic, as a watch-only service holds it.
    static const KeySource keys = *KeySource::from_xpub(
        "tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba",
        Network::testnet);
    return keys;
}

const DerivationPath& receive_path() {
    static const DerivationPath path = *DerivationPath::parse("m/44'/1'/0'/0");
    return path;
}

// The addresses 0..count-1, derived on one thread, once.
const std::vector<Address>& reference() {
    static const std::vector<Address> ref = [] {
        PoolOptions o;
        o.derive_threads = 1;
        AddressPool pool(receive_path(), PoolType::external, 20, Network::testnet, o);
        auto r = pool.generate_addresses(restore_count(), watch_only_keys(), false);
        return r ? std::move(*r) : std::vector<Address>();
    }();
    return ref;
}

enum class Op { generate, maintain };

template <Op op>
void BM_Restore(benchmark::State& st) {
    const auto threads = static_cast<unsigned>(st.range(0));
    const std::uint32_t n = restore_count();
    if (reference().size() != n) {
        st.SkipWithError("the single-threaded reference derivation failed");
        return;
    }
    PoolOptions o;
    o.derive_threads = threads;
    for (auto _ : st) {
        auto pool = std::make_unique<AddressPool>(receive_path(), PoolType::external, op == Op::maintain ? n : 20,
                                                  Network::testnet, o);
        auto got = op == Op::generate ? pool->generate_addresses(n, watch_only_keys(), true)
                                      : pool->maintain_gap_limit(watch_only_keys());
        st.PauseTiming();
        const bool same = got && *got == reference();
        pool.reset();
        st.ResumeTiming();
        if (!same) {
            st.SkipWithError(got ? "the addresses differ from the single-threaded derivation"
                                 : got.error().message.c_str());
            return;
        }
    }
    const unsigned hw = std::thread::hardware_concurrency();
    st.counters["addresses"] = n;
    st.counters["threads"] = threads != 0 ? threads : (hw != 0 ? hw : 1);
    st.counters["same_addresses"] = 1;
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) * n);
}

// derive_threads 1 and 0 (the hardware's thread count: the default).
BENCHMARK_TEMPLATE(BM_Restore, Op::generate)
    ->Name("restore/generate_addresses")
    ->ArgName("derive_threads")
    ->Arg(1)
    ->Arg(0)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Restore, Op::maintain)
    ->Name("restore/maintain_gap_limit")
    ->ArgName("derive_threads")
    ->Arg(1)
    ->Arg(0)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
