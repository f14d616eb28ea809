// `addrpool demo --wallets N`: the main job at service scale. N wallets (one
// BIP44 account each) in one WalletSet; tasks released at once each reserve a
// receive address from a pseudo-random wallet; a synthetic block pays some of
// the hand-outs (and an address past a window, opened by another payment
// later in the block) and is synced with one mark_scripts_used; the set is
// saved, changed, saved again (incrementally), reloaded, and the reloaded
// set's stats are compared with the saved ones.
#include "cli.hpp"

#include <addrpool/addrpool.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <latch>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace addrpool::cli {
namespace {

std::string wallet_name(std::uint32_t n) { return "wallet-" + std::to_string(n); }

// The durable totals of a set's accounts (reservations are not durable).
struct Totals {
    std::size_t wallets = 0, generated = 0, used = 0, reserved = 0;
    std::string line() const {
        return "wallets=" + std::to_string(wallets) + " generated=" + std::to_string(generated) +
               " used=" + std::to_string(used) + " reserved=" + std::to_string(reserved);
    }
    std::string durable() const {
        return "wallets=" + std::to_string(wallets) + " generated=" + std::to_string(generated) +
               " used=" + std::to_string(used);
    }
};

Totals totals(const WalletSet& set, std::uint32_t wallets) {
    Totals t;
    for (std::uint32_t n = 0; n < wallets; ++n) {
        auto a = set.find(wallet_name(n), n);
        if (!a) continue;
        ++t.wallets;
        for (AddressPool* p : {&a->external(), &a->internal()}) {
            const PoolStats s = p->stats();
            t.generated += s.generated;
            t.used += s.used;
            t.reserved += s.reserved;
        }
    }
    return t;
}

std::string ms_since(std::chrono::steady_clock::time_point t0) {
    return std::to_string(
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()) +
           " ms";
}

// Task i's wallet: a fixed pseudo-random spread (splitmix64), so the number
// of hand-outs per wallet does not depend on the threads' timing.
std::uint32_t wallet_of_task(std::uint32_t i, std::uint32_t wallets) {
    std::uint64_t x = std::uint64_t{i} + 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return static_cast<std::uint32_t>((x ^ (x >> 31)) % wallets);
}

// Why `dir` cannot hold the set, or nothing: it must be a writable
// directory, or be missing below one (WalletSet::save creates the missing
// levels, each made durable; nothing is created here).
std::optional<std::string> check_dir(const std::filesystem::path& dir) {
    // The messages do not repeat the path (cli.hpp: never an option's value).
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::absolute(dir, ec);
    if (ec) return "cannot inspect it: " + ec.message();
    for (std::filesystem::path p = target;; p = p.parent_path()) {
        const auto st = std::filesystem::status(p, ec);
        if (std::filesystem::exists(st)) {
            if (!std::filesystem::is_directory(st)) {
                return p == target ? "it exists and is not a directory" : "a parent of it is not a directory";
            }
            if (::access(p.c_str(), W_OK | X_OK) != 0) {
                return p == target ? "the directory is not writable" : "it cannot be created: a parent is not writable";
            }
            return std::nullopt;
        }
        if (ec && ec != std::errc::no_such_file_or_directory) return "cannot inspect it: " + ec.message();
        if (p == p.parent_path()) return "cannot inspect it: no part of the path exists";
    }
}

// Removes `dir` (if set) and everything in it when destroyed.
struct RemoveOnExit {
    std::filesystem::path dir;
    RemoveOnExit() = default;
    RemoveOnExit(const RemoveOnExit&) = delete;
    RemoveOnExit& operator=(const RemoveOnExit&) = delete;
    ~RemoveOnExit() {
        if (dir.empty()) return;
        std::error_code ec;  // best effort: nothing to report to once the demo is done
        std::filesystem::remove_all(dir, ec);
    }
};

}  // namespace

int demo_wallets(const WalletDemoArgs& args) {
    const std::uint32_t n_wallets = args.wallets;
    auto seed = mnemonic_to_seed(args.mnemonic.value, args.passphrase.value);
    if (!seed) return usage_error("--mnemonic: " + seed.error().message);
    auto master = ExtendedPrivKey::from_seed(*seed, args.network);
    if (!master) return usage_error("cannot derive the master key: " + master.error().message);
    // Bad input is refused before any work: --dir must be a writable
    // directory, or one the save can create.
    if (!args.dir.empty()) {
        if (auto err = check_dir(args.dir)) return usage_error("--dir: " + *err);
    }

    std::string out;
    out += "addrpool demo: " + std::string(network_name(args.network)) + ", " + std::to_string(n_wallets) +
           " wallets (BIP44 accounts 0.." + std::to_string(n_wallets - 1) + " of the " + args.key_desc +
           "), gap limit " + std::to_string(args.gap) + "\n";

    // ---- step 1: register every wallet ----
    auto t0 = std::chrono::steady_clock::now();
    WalletSet set;
    std::vector<KeySource> keys;
    keys.reserve(n_wallets);
    const std::uint32_t coin = bip44_coin_type(args.network) | hardened_bit;
    for (std::uint32_t n = 0; n < n_wallets; ++n) {
        const DerivationPath path({44 | hardened_bit, coin, n | hardened_bit});
        auto acct_key = master->derive(path);
        if (!acct_key) return usage_error("cannot derive account " + std::to_string(n) + ": " + acct_key.error().message);
        keys.push_back(KeySource::from_private(std::move(*acct_key)));
        auto a = Account::bip44(keys.back(), path, args.network, args.gap);
        if (!a || !set.add(wallet_name(n), n, *a)) {
            std::fputs("addrpool: cannot register a wallet\n", stderr);
            return exit_failure;
        }
    }
    out += "step 1: registered " + std::to_string(set.size()) + " wallets in one set (" + ms_since(t0) +
           ", nothing derived yet)\n";

    // ---- step 2: the hand-out storm across wallets ----
    const std::uint32_t tasks = args.tasks;
    std::vector<std::optional<Reservation>> results(tasks);
    std::atomic<std::uint32_t> next_task{0};
    std::atomic<std::uint32_t> failures{0};
    std::latch start(args.threads + 1);
    std::vector<std::thread> workers;
    workers.reserve(args.threads);
    for (std::uint32_t t = 0; t < args.threads; ++t) {
        workers.emplace_back([&] {
            start.arrive_and_wait();
            for (;;) {
                const std::uint32_t task = next_task.fetch_add(1, std::memory_order_relaxed);  // work distribution only
                if (task >= tasks) return;
                const std::uint32_t n = wallet_of_task(task, n_wallets);
                const std::shared_ptr<Account> a = set.find(wallet_name(n), n);  // lock-free
                auto r = a ? a->next_receive_address() : Result<Reservation>(make_error(Errc::invalid_argument, "gone"));
                if (r) results[task] = *r;
                else failures.fetch_add(1, std::memory_order_relaxed);  // a count, read after join
            }
        });
    }
    t0 = std::chrono::steady_clock::now();
    start.arrive_and_wait();
    for (auto& w : workers) w.join();
    if (failures.load() != 0) {
        std::fputs(("addrpool: " + std::to_string(failures.load()) + " hand-outs failed\n").c_str(), stderr);
        return exit_failure;
    }
    std::map<std::uint32_t, std::vector<std::uint32_t>> per_wallet;
    std::set<std::pair<std::uint32_t, std::uint32_t>> distinct;
    for (std::uint32_t i = 0; i < tasks; ++i) {
        const std::uint32_t n = wallet_of_task(i, n_wallets);
        per_wallet[n].push_back(results[i]->index);
        distinct.insert({n, results[i]->index});
    }
    bool contiguous = true;
    for (auto& [n, idx] : per_wallet) {
        std::sort(idx.begin(), idx.end());
        for (std::uint32_t k = 0; k < idx.size(); ++k) contiguous = contiguous && idx[k] == k;
    }
    out += "step 2: " + std::to_string(tasks) + " tasks on " + std::to_string(args.threads) +
           " worker threads, released at once, each find a wallet (lock-free) and reserve a receive address\n";
    out += "  distinct (wallet, index) pairs: " + std::to_string(distinct.size()) + " of " + std::to_string(tasks) +
           " across " + std::to_string(per_wallet.size()) + " wallets\n";
    out += std::string("  every wallet's indices: ") +
           (contiguous ? "0..k-1, each exactly once\n" : "NOT contiguous\n");
    out += "  wall time: " + ms_since(t0) + "\n";
    out += "  stats: " + totals(set, n_wallets).line() + "\n";

    // ---- step 3: one block, one sync ----
    // Every tenth hand-out is paid, next to an output that is someone
    // else's; wallet 0 is also paid at index w + gap - 1 (past its window
    // w), first, and at w - 1, last, which widens the window over it.
    const std::uint32_t w0 = set.find(wallet_name(0), 0)->external().scan_window_end();
    auto pays = [&](std::uint32_t n, std::uint32_t index) {
        auto h = keys[n].derive_hash160(PoolType::external, index);
        return Address(args.network, AddressKind::p2pkh, *h).script_pubkey();
    };
    std::vector<std::vector<std::uint8_t>> block;
    const std::uint32_t far = w0 + args.gap - 1;
    block.push_back(pays(0, far));
    std::size_t paid = 0;
    for (std::uint32_t i = 0; i < tasks; i += 10) {
        block.push_back(results[i]->address.script_pubkey());
        ++paid;
        Hash160 foreign{};
        for (std::size_t b = 0; b < foreign.size(); ++b) foreign[b] = static_cast<std::uint8_t>(i * 31 + b * 7 + 1);
        block.push_back(Address(args.network, AddressKind::p2pkh, foreign).script_pubkey());
    }
    block.push_back(pays(0, w0 - 1));
    t0 = std::chrono::steady_clock::now();
    auto matches = set.mark_scripts_used(block);
    if (!matches) {
        std::fputs(("addrpool: sync failed: " + matches.error().message + "\n").c_str(), stderr);
        return exit_failure;
    }
    std::size_t newly = 0;
    bool past_window = false;
    for (const WalletMatch& m : *matches) {
        newly += m.newly_used ? 1 : 0;
        past_window = past_window || (m.position == 0 && m.wallet == wallet_name(0) && m.index == far);
    }
    out += "step 3: a block of " + std::to_string(block.size()) + " outputs (" + std::to_string(paid) +
           " pay hand-outs, 2 pay wallet-0 at " + std::to_string(far) + " and " + std::to_string(w0 - 1) +
           ", the rest are not ours), synced with one mark_scripts_used\n";
    out += "  matched " + std::to_string(matches->size()) + " outputs, " + std::to_string(newly) +
           " newly used; the payment past wallet-0's window (first in the block) " +
           (past_window ? "was found\n" : "was NOT found\n");
    out += "  sync time (the first sync also derives every wallet's window): " + ms_since(t0) + "\n";
    const std::size_t swept = set.sweep_expired_reservations(std::chrono::nanoseconds(0));
    out += "  swept " + std::to_string(swept) + " unpaid reservations\n";
    const Totals before = totals(set, n_wallets);
    out += "  stats: " + before.line() + "\n";

    // ---- step 4: save, change one wallet, save again, reload ----
    std::filesystem::path dir = args.dir;
    RemoveOnExit temporary;  // the temporary directory goes on every path out
    if (dir.empty()) {
        std::error_code ec;
        const std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
        std::string templ = (tmp / "addrpool-demo-XXXXXX").string();
        if (ec || ::mkdtemp(templ.data()) == nullptr) {
            std::fputs("addrpool: cannot create a temporary directory\n", stderr);
            return exit_failure;
        }
        dir = templ;
        temporary.dir = dir;
    }
    auto first = set.save(dir);
    if (!first) {
        std::fputs(("addrpool: save failed: " + first.error().message + "\n").c_str(), stderr);
        return exit_failure;
    }
    // Task 1's address: step 3 paid every tenth task, not this one (with
    // --tasks 1 there is only task 0, paid already: nothing to rewrite).
    const std::vector<std::vector<std::uint8_t>> next_block = {results[tasks >= 2 ? 1 : 0]->address.script_pubkey()};
    auto more = set.mark_scripts_used(next_block);
    auto second = set.save(dir);
    if (!more || !second) {
        std::fputs("addrpool: the second save failed\n", stderr);
        return exit_failure;
    }
    const Totals saved = totals(set, n_wallets);
    out += "step 4: saved the set: " + std::to_string(*first) + " pool files; one more payment, saved again: " +
           std::to_string(*second) + " pool file(s) rewritten\n";
    auto reloaded = WalletSet::load(dir, [&](std::string_view, std::uint32_t n) { return keys[n]; });
    if (!reloaded) {
        std::fputs(("addrpool: load failed: " + reloaded.error().message + "\n").c_str(), stderr);
        return exit_failure;
    }
    const Totals after = totals(*reloaded, n_wallets);
    out += "  saved:    " + saved.durable() + "\n";
    out += "  reloaded: " + after.durable() + "\n";
    out += std::string("  the reloaded set ") + (after.durable() == saved.durable() ? "matches" : "DIFFERS") + "\n";
    return write_stdout(out);
}

}  // namespace addrpool::cli
