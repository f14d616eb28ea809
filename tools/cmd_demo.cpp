// `addrpool demo`: the main job. Many tasks hand out receive addresses from
// one pool at once, then the pool's lifecycle (release, TTL sweep, mark
// used) is walked through, printing the pool's counters after each step.
#include "cli.hpp"

#include <addrpool/addrpool.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace addrpool::cli {
namespace {

constexpr std::string_view kDefaultMnemonic =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

constexpr std::array<OptionSpec, 11> kOptions = {{
    {"mnemonic", true},
    {"passphrase", true},
    {"xpub", true},
    {"network", true},
    {"account", true},
    {"tasks", true},
    {"threads", true},
    {"gap-limit", true},
    {"wallets", true},
    {"dir", true},
    {"help", false},
}};

constexpr std::string_view kHelp =
    "Usage: addrpool demo [--mnemonic WORDS [--passphrase P] | --xpub KEY] [--network NET]\n"
    "                     [--account N] [--tasks N] [--threads N] [--gap-limit N]\n"
    "       addrpool demo --wallets N [--mnemonic WORDS [--passphrase P]] [--network NET] [--tasks N]\n"
    "                     [--threads N] [--gap-limit N] [--dir DIR]\n"
    "\n"
    "Runs the pool's main job: N tasks on a worker pool, released at once, each reserve one\n"
    "receive address from one shared pool (BIP44 account, external chain). Prints the number of\n"
    "distinct addresses, the index range, the first three addresses and the stats; then releases\n"
    "half, sweeps expired reservations on a demo clock, marks some used, and prints the counts and\n"
    "scan_window_end() after each step.\n"
    "\n"
    "With --wallets N: N wallets (BIP44 accounts 0..N-1 of the mnemonic) in one WalletSet; the tasks\n"
    "reserve from wallets spread over all of them; a synthetic block pays some hand-outs and is synced\n"
    "with one mark_scripts_used; the set is saved (twice: the second save writes only what changed)\n"
    "and reloaded, and the reloaded set's stats are compared with the saved ones.\n"
    "\n"
    "Options:\n"
    "  --mnemonic WORDS   BIP39 English mnemonic (default: the 'abandon … about' test mnemonic)\n"
    "  --passphrase P     BIP39 passphrase (default: empty)\n"
    "  --xpub KEY         account-level xpub/tpub (m/44'/coin'/account') instead of a mnemonic\n"
    "  --network NET      mainnet, testnet (default), devnet or regtest\n"
    "  --account N        BIP44 account with --mnemonic (default 0)\n"
    "  --tasks N          number of tasks, 1..1000000 (default 10000)\n"
    "  --threads N        worker threads, 1..1024 (default 4 x hardware threads)\n"
    "  --gap-limit N      the pool's gap limit, 1..100000 (default 20)\n"
    "  --wallets N        the wallet-set demo with N wallets, 1..100000\n"
    "  --dir DIR          with --wallets: save the set in DIR (default: a temporary directory, removed)\n"
    "  --help             this text\n";

// A number in [lo, hi].
std::optional<std::uint32_t> parse_u32(std::string_view s, std::uint32_t lo, std::uint32_t hi) {
    auto v = parse_number(s, hi);
    if (!v || *v < lo) return std::nullopt;
    return v;
}

// The demo's clock: moved by hand so the TTL step is reproducible.
struct DemoClock {
    std::shared_ptr<std::atomic<std::int64_t>> ns = std::make_shared<std::atomic<std::int64_t>>(0);
    std::function<std::chrono::steady_clock::time_point()> fn() const {
        auto p = ns;
        return [p] { return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(p->load())); };
    }
    void advance(std::chrono::nanoseconds d) const { ns->fetch_add(d.count()); }
};

std::string opt_index(const std::optional<std::uint32_t>& v) { return v ? std::to_string(*v) : "none"; }

std::string stats_line(const AddressPool& pool) {
    const PoolStats s = pool.stats();
    return "generated=" + std::to_string(s.generated) + " used=" + std::to_string(s.used) +
           " reserved=" + std::to_string(s.reserved) + " unused=" + std::to_string(s.unused) +
           " highest_used=" + opt_index(s.highest_used) + " highest_reserved=" + opt_index(s.highest_reserved) +
           " highest_generated=" + opt_index(s.highest_generated) + " gap_limit=" + std::to_string(s.gap_limit) +
           " scan_window_end=" + std::to_string(pool.scan_window_end()) + "\n";
}

}  // namespace

int cmd_demo(int argc, char** argv) {
    std::vector<ParsedOption> opts;
    if (auto err = scan_options(argc, argv, kOptions, opts)) return usage_error(*err);
    if (find_option(opts, "help")) {
        if (opts.size() != 1) return usage_error("demo: --help takes no other options");
        return write_stdout(kHelp);
    }

    const auto mnemonic_opt = find_option(opts, "mnemonic");
    const auto xpub_opt = find_option(opts, "xpub");
    if (mnemonic_opt && xpub_opt) return usage_error("give either --mnemonic or --xpub, not both");
    if (xpub_opt && find_option(opts, "passphrase")) return usage_error("--passphrase goes with --mnemonic");
    if (xpub_opt && find_option(opts, "account")) return usage_error("--account goes with --mnemonic");

    Network network = Network::testnet;
    if (auto v = find_option(opts, "network")) {
        auto n = parse_network(*v);
        if (!n) return usage_error("--network must be mainnet, testnet, devnet or regtest");
        network = *n;
    }
    std::uint32_t account = 0, tasks = 10000, gap = 20;
    std::uint32_t threads = std::max(1u, std::thread::hardware_concurrency()) * 4;
    if (auto v = find_option(opts, "account")) {
        auto n = parse_u32(*v, 0, hardened_bit - 1);
        if (!n) return usage_error("--account must be a number below 2^31");
        account = *n;
    }
    if (auto v = find_option(opts, "tasks")) {
        auto n = parse_u32(*v, 1, 1'000'000);
        if (!n) return usage_error("--tasks must be a number from 1 to 1000000");
        tasks = *n;
    }
    if (auto v = find_option(opts, "threads")) {
        auto n = parse_u32(*v, 1, 1024);
        if (!n) return usage_error("--threads must be a number from 1 to 1024");
        threads = *n;
    }
    if (auto v = find_option(opts, "gap-limit")) {
        auto n = parse_u32(*v, 1, 100'000);
        if (!n) return usage_error("--gap-limit must be a number from 1 to 100000");
        gap = *n;
    }

    if (find_option(opts, "dir") && !find_option(opts, "wallets")) return usage_error("--dir goes with --wallets");
    if (auto v = find_option(opts, "wallets")) {
        auto n = parse_u32(*v, 1, 100'000);
        if (!n) return usage_error("--wallets must be a number from 1 to 100000");
        if (xpub_opt) return usage_error("--wallets needs a mnemonic (one xpub is one account)");
        if (find_option(opts, "account")) return usage_error("--account does not go with --wallets");
        WalletDemoArgs w;
        const std::string_view words = mnemonic_opt ? *mnemonic_opt : kDefaultMnemonic;
        const std::string_view passphrase = find_option(opts, "passphrase").value_or("");
        w.mnemonic.value.assign(words.data(), words.size());
        w.passphrase.value.assign(passphrase.data(), passphrase.size());
        w.key_desc = mnemonic_opt ? "given mnemonic" : "built-in test mnemonic 'abandon ... about'";
        if (auto d = find_option(opts, "dir")) {
            if (d->empty()) return usage_error("--dir must not be empty");
            w.dir = std::string(*d);
        }
        w.network = network;
        w.wallets = *n;
        w.tasks = tasks;
        w.threads = threads;
        w.gap = gap;
        return demo_wallets(w);
    }

    // The pool is the external chain of account m/44'/coin'/account'; with
    // an xpub, the external chain below that key (a path relative to it: the
    // key's own account number is whatever it is).
    const DerivationPath account_path(
        {44 | hardened_bit, bip44_coin_type(network) | hardened_bit, account | hardened_bit});
    const DerivationPath base = pool_base_path(xpub_opt ? DerivationPath() : account_path, PoolType::external);
    std::optional<KeySource> source;
    std::string key_desc;
    if (xpub_opt) {
        auto ks = KeySource::from_xpub(*xpub_opt, network);
        if (!ks) {
            if (ks.error().code == Errc::network_mismatch) {
                return usage_error("--xpub is for another network than --network");
            }
            return usage_error("--xpub: " + ks.error().message);
        }
        if (const unsigned depth = ks->account_public_key()->depth(); depth != 3) {
            return usage_error("--xpub must be an account key (depth 3, m/44'/coin'/account'), not depth " +
                               std::to_string(depth));
        }
        source = std::move(*ks);
        key_desc = "account xpub (watch-only)";
    } else {
        const std::string_view words = mnemonic_opt ? *mnemonic_opt : kDefaultMnemonic;
        auto ks = KeySource::from_mnemonic(words, find_option(opts, "passphrase").value_or(""), network, account_path);
        if (!ks) {
            const Errc code = ks.error().code;
            if (code == Errc::invalid_mnemonic || code == Errc::mnemonic_checksum) {
                return usage_error("--mnemonic: " + ks.error().message);
            }
            return usage_error("cannot derive the account key: " + ks.error().message);
        }
        source = std::move(*ks);
        key_desc = mnemonic_opt ? "mnemonic (given)" : "mnemonic (built-in test mnemonic 'abandon ... about')";
    }

    DemoClock clock;
    PoolOptions options;
    options.clock = clock.fn();
    AddressPool pool(base, PoolType::external, gap, network, options);

    std::string out;
    out += "addrpool demo: " + std::string(network_name(network)) + ", key: " + key_desc + "\n";
    out += "pool: " + (xpub_opt ? std::string("<xpub>/0") : base.to_string()) + " (external), gap limit " +
           std::to_string(gap) + "\n";
    out += "step 1: " + std::to_string(tasks) + " tasks on " + std::to_string(threads) +
           " worker threads, released at once, each reserve one address\n";

    // ---- step 1: the hand-out storm ----
    std::vector<std::optional<Reservation>> results(tasks);
    std::atomic<std::uint32_t> next_task{0};
    std::atomic<std::uint32_t> failures{0};
    std::latch start(threads + 1);
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (std::uint32_t t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            start.arrive_and_wait();
            for (;;) {
                const std::uint32_t task = next_task.fetch_add(1, std::memory_order_relaxed);  // work distribution only
                if (task >= tasks) return;
                auto r = pool.reserve(*source, /*add_to_state=*/true);
                if (r) results[task] = *r;
                else failures.fetch_add(1, std::memory_order_relaxed);  // a count, read after join
            }
        });
    }
    const auto t0 = std::chrono::steady_clock::now();
    start.arrive_and_wait();
    for (auto& w : workers) w.join();
    const auto elapsed = std::chrono::steady_clock::now() - t0;

    if (failures.load() != 0) {
        std::fputs(("addrpool: " + std::to_string(failures.load()) + " hand-outs failed\n").c_str(), stderr);
        return exit_failure;
    }
    std::set<std::string> distinct;
    std::vector<std::uint32_t> indices;
    indices.reserve(tasks);
    for (const auto& r : results) {
        distinct.insert(r->address.to_string());
        indices.push_back(r->index);
    }
    std::sort(indices.begin(), indices.end());
    bool contiguous = true;
    for (std::uint32_t i = 0; i < indices.size(); ++i) contiguous = contiguous && indices[i] == i;
    out += "  distinct addresses: " + std::to_string(distinct.size()) + " of " + std::to_string(tasks) + "\n";
    out += "  index range: " + std::to_string(indices.front()) + ".." + std::to_string(indices.back()) +
           (contiguous ? " (every index exactly once)\n" : " (NOT contiguous)\n");
    out += "  first addresses:";
    for (std::uint32_t i = 0; i < std::min<std::uint32_t>(3, tasks); ++i) {
        out += " " + std::to_string(i) + ":" + pool.address_at(i)->to_string();
    }
    out += "\n  wall time: " +
           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()) + " ms\n";
    out += "  stats: " + stats_line(pool);

    // ---- step 2: release half (every odd task gives its address back, by ticket) ----
    std::size_t released = 0;
    for (std::uint32_t t = 1; t < tasks; t += 2) released += pool.release_reservation(*results[t]) ? 1 : 0;
    out += "step 2: released " + std::to_string(released) + " reservations by ticket\n";
    out += "  stats: " + stats_line(pool);

    // ---- step 3: time passes; new customers arrive; the old reservations expire ----
    clock.advance(std::chrono::minutes(20));
    const std::uint32_t fresh_count = std::min<std::uint32_t>(tasks / 10 + 1, tasks);
    std::vector<Reservation> fresh;
    for (std::uint32_t k = 0; k < fresh_count; ++k) {
        auto r = pool.reserve(*source, true);
        if (r) fresh.push_back(*r);
    }
    out += "step 3: demo clock +20 min, " + std::to_string(fresh.size()) +
           " new reservations (released indices are handed out first: lowest index " +
           (fresh.empty() ? std::string("none") : std::to_string(fresh.front().index)) + ")\n";
    clock.advance(std::chrono::minutes(10));
    const std::size_t swept = pool.sweep_expired_reservations(std::chrono::minutes(15));
    out += "step 4: demo clock +10 min, sweep with TTL 15 min freed " + std::to_string(swept) +
           " abandoned reservations (the " + std::to_string(fresh.size()) + " new ones are 10 min old and stay)\n";
    out += "  stats: " + stats_line(pool);

    // ---- step 5: payments seen on chain ----
    std::size_t marked = 0;
    for (std::size_t k = 0; k < fresh.size(); k += 4) marked += pool.mark_used(fresh[k].address) ? 1 : 0;
    out += "step 5: payments seen for " + std::to_string(marked) + " addresses: marked used\n";
    out += "  stats: " + stats_line(pool);
    const std::size_t late = pool.release_reservation(fresh.front()) ? 1 : 0;
    out += "  a late release of a paid address changes nothing: released " + std::to_string(late) + "\n";
    return write_stdout(out);
}

}  // namespace addrpool::cli
