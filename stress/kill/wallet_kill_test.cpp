// Kill test for WalletSet saves (issue 13 item 4): a forked child loads the
// set directory (if any), then loops: registers or removes an account now
// and then, syncs a small block paying random addresses of its accounts'
// windows, announcing each event ("+ n", "- n", "u n c i") before the save,
// saves, and only then acknowledges ("S"). The parent SIGKILLs the child
// after a random delay, loads the directory and checks that it is exactly
// the state after the last acknowledged save, or the state after every
// announced event (the save in flight committed) — never a mix, never a lost
// used mark — and that the next child goes on from it. At the end a save
// from the parent must leave only the manifest and the named pool files.
//
// Usage: stress-kill-wallets [--seed N] [--kills N]   (env ADDRPOOL_KILLS
// sets the default number of kills, 100; --kills wins). The seed is printed;
// with it the delays and the child's choices replay (the interleaving with
// the kernel does not).
#include <addrpool/addrpool.hpp>

#include "kill_support.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace addrpool;
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kAccounts = 12;  // account numbers 0..11; the child keeps about 6 registered
constexpr std::uint32_t kGap = 6;

std::vector<KeySource> g_keys;  // per account number, made in the parent (children inherit them)

std::string wallet_of(std::uint32_t n) { return "w" + std::to_string(n); }

using kill_support::child_fail;
using kill_support::say;

std::shared_ptr<Account> new_account(std::uint32_t n) {
    auto a = Account::bip44(g_keys[n], DerivationPath({44 | hardened_bit, 1 | hardened_bit, n | hardened_bit}),
                            Network::testnet, kGap);
    if (!a) std::abort();
    return *a;
}

[[noreturn]] void child(const fs::path& dir, int out, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    WalletSet set;
    if (fs::exists(dir / "wallets.manifest")) {
        auto loaded = WalletSet::load(dir, [](std::string_view, std::uint32_t n) { return g_keys[n]; });
        if (!loaded) child_fail(out, std::string("load: ") + errc_name(loaded.error().code) + ": " + loaded.error().message);
        set = std::move(*loaded);
    }
    for (;;) {
        std::string events;
        // Now and then a registration changes.
        if (rng() % 4 == 0) {
            const auto n = static_cast<std::uint32_t>(rng() % kAccounts);
            if (set.find(wallet_of(n), n)) {
                if (!set.remove(wallet_of(n), n)) child_fail(out, "remove");
                events += "- " + std::to_string(n) + "\n";
            } else {
                if (!set.add(wallet_of(n), n, new_account(n))) child_fail(out, "add");
                events += "+ " + std::to_string(n) + "\n";
            }
        }
        // A block paying 1..3 addresses inside registered accounts' windows.
        std::vector<std::vector<std::uint8_t>> block;
        for (int k = 0, tries = 0; k < 1 + static_cast<int>(rng() % 3) && tries < 50; ++tries) {
            const auto n = static_cast<std::uint32_t>(rng() % kAccounts);
            auto a = set.find(wallet_of(n), n);
            if (!a) continue;
            const auto chain = static_cast<PoolType>(rng() % 2);
            AddressPool& pool = chain == PoolType::external ? a->external() : a->internal();
            const auto i = static_cast<std::uint32_t>(rng() % pool.scan_window_end());
            auto h = g_keys[n].derive_hash160(chain, i);
            if (!h) child_fail(out, "derive");
            block.push_back(Address(Network::testnet, AddressKind::p2pkh, *h).script_pubkey());
            ++k;
        }
        auto matches = set.mark_scripts_used(block);
        if (!matches) child_fail(out, "sync: " + matches.error().message);
        for (const WalletMatch& m : *matches) {
            events += "u " + std::to_string(m.account) + " " + std::to_string(static_cast<int>(m.chain)) + " " +
                      std::to_string(m.index) + "\n";
        }
        say(out, events);
        auto saved = set.save(dir);
        if (!saved) child_fail(out, "save: " + saved.error().message);
        say(out, "S\n");
    }
}

// The durable state: "a n" per registered account, "u n c i" per used index.
using State = std::set<std::string>;

void apply(State& s, const std::string& line) {
    if (line[0] == '+') {
        s.insert("a " + line.substr(2));
    } else if (line[0] == '-') {
        const std::string n = line.substr(2);
        s.erase("a " + n);
        for (auto it = s.begin(); it != s.end();) {
            it = it->rfind("u " + n + " ", 0) == 0 ? s.erase(it) : std::next(it);
        }
    } else if (line[0] == 'u') {
        s.insert(line);
    }
}

State state_of(const WalletSet& set) {
    State s;
    for (std::uint32_t n = 0; n < kAccounts; ++n) {
        auto a = set.find(wallet_of(n), n);
        if (!a) continue;
        s.insert("a " + std::to_string(n));
        for (int c = 0; c < 2; ++c) {
            const AddressPool& p = c == 0 ? a->external() : a->internal();
            for (const Address& addr : p.used_addresses()) {
                s.insert("u " + std::to_string(n) + " " + std::to_string(c) + " " + std::to_string(*p.index_of(addr)));
            }
            if (p.stats().reserved != 0) s.insert("reserved!");
        }
    }
    return s;
}

std::uint64_t parse_u64(const char* s, const char* what) { return kill_support::parse_u64("stress-kill-wallets", s, what); }

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t seed = std::random_device{}();
    std::uint64_t kills = 100;
    if (const char* env = std::getenv("ADDRPOOL_KILLS"); env != nullptr && *env != '\0') kills = parse_u64(env, "ADDRPOOL_KILLS");
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--seed" && i + 1 < argc) {
            seed = parse_u64(argv[++i], "--seed");
        } else if (a == "--kills" && i + 1 < argc) {
            kills = parse_u64(argv[++i], "--kills");
        } else {
            std::fprintf(stderr, "usage: stress-kill-wallets [--seed N] [--kills N]\n");
            return 2;
        }
    }
    std::printf("wallet kill test: seed %llu, %llu kills (replay: --seed %llu)\n", static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(kills), static_cast<unsigned long long>(seed));
    std::fflush(stdout);

    auto master_seed = mnemonic_to_seed(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "");
    if (!master_seed) return 1;
    auto master = ExtendedPrivKey::from_seed(*master_seed, Network::testnet);
    if (!master) return 1;
    for (std::uint32_t n = 0; n < kAccounts; ++n) {
        auto acct = master->derive(DerivationPath({44 | hardened_bit, 1 | hardened_bit, n | hardened_bit}));
        if (!acct) return 1;
        g_keys.push_back(KeySource::from_public(acct->to_public()));
    }

    std::string templ = (fs::temp_directory_path() / "addrpool-kill-wallets-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const fs::path dir = fs::path(templ) / "set";

    std::mt19937_64 rng(seed);
    int failures = 0, loads = 0, committed_in_flight = 0;
    std::size_t acked_saves = 0;
    State current;  // what the directory holds, as of the last check
    auto fail = [&](int round, const std::string& what) {
        ++failures;
        std::fprintf(stderr, "FAIL round %d: %s\n", round, what.c_str());
    };
    const auto started = std::chrono::steady_clock::now();
    for (int round = 0; round < static_cast<int>(kills) && failures <= 20; ++round) {
        const std::uint64_t child_seed = rng();
        const auto delay = std::chrono::microseconds(rng() % 8 == 0 ? rng() % 500 : rng() % 50'000);
        const auto killed = kill_support::run_and_kill(delay, [&](int out) { child(dir, out, child_seed); });
        if (!killed) return 1;
        const int status = killed->status;
        const std::string& text = killed->text;
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
            fail(round, "the child ended before the kill (status " + std::to_string(status) + ")");
        }
        // Replay the child's announcements: `done` after each "S", `all` after everything.
        State done = current, all = current;
        for (std::size_t pos = 0; pos < text.size();) {
            const std::size_t nl = text.find('\n', pos);
            if (nl == std::string::npos) break;  // a line cut by the kill is not an announcement
            const std::string line = text.substr(pos, nl - pos);
            pos = nl + 1;
            if (line == "S") {
                done = all;
                ++acked_saves;
            } else if (line.size() > 2 && line[0] == 'E') {
                fail(round, "child: " + line.substr(2));
            } else if (!line.empty()) {
                apply(all, line);
            }
        }
        if (!fs::exists(dir / "wallets.manifest")) {
            if (!done.empty()) fail(round, "no manifest after an acknowledged save");
            continue;
        }
        auto set = WalletSet::load(dir, [](std::string_view, std::uint32_t n) { return g_keys[n]; });
        ++loads;
        if (!set) {
            fail(round, std::string("load: ") + errc_name(set.error().code) + ": " + set.error().message);
            continue;
        }
        const State got = state_of(*set);
        if (got == done) {
            current = done;
        } else if (got == all) {
            current = all;
            ++committed_in_flight;
        } else {
            std::string diff;
            for (const auto& s : done) {
                if (!got.count(s)) diff += " missing(" + s + ")";
            }
            for (const auto& s : got) {
                if (!done.count(s) && !all.count(s)) diff += " unexpected(" + s + ")";
            }
            fail(round, "the directory holds neither the acknowledged state nor the announced one:" + diff);
            current = got;
        }
    }
    // A final save from here leaves only what the manifest names.
    std::size_t stray = 0;
    if (fs::exists(dir / "wallets.manifest")) {
        auto set = WalletSet::load(dir, [](std::string_view, std::uint32_t n) { return g_keys[n]; });
        if (!set) {
            fail(-1, "final load: " + set.error().message);
        } else {
            // One change (a new account), so the save writes its pools and a
            // manifest, and removes what killed saves left behind.
            std::uint32_t n = 0;
            while (n < kAccounts && set->find(wallet_of(n), n)) ++n;
            if (n == kAccounts) {
                (void)set->remove(wallet_of(0), 0);
                n = 0;
            }
            if (!set->add(wallet_of(n), n, new_account(n))) fail(-1, "final add");
            if (auto s = set->save(dir); !s || *s != 2) fail(-1, "final save: " + (s ? std::to_string(*s) + " files" : s.error().message));
            for (const auto& e : fs::directory_iterator(dir)) {
                const std::string name = e.path().filename().string();
                if (name != "wallets.manifest" && e.path().extension() != ".pool") ++stray;
            }
            std::size_t pools = 0;
            for (const auto& e : fs::directory_iterator(dir)) pools += e.path().extension() == ".pool" ? 1 : 0;
            if (pools != 2 * set->size()) fail(-1, std::to_string(pools) + " pool files for " + std::to_string(set->size()) + " accounts");
            if (stray != 0) fail(-1, std::to_string(stray) + " stray files after the final save");
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("kills %llu, loads %d, failures %d; %zu saves acknowledged, %d killed saves had committed; %.1f s\n",
                static_cast<unsigned long long>(kills), loads, failures, acked_saves, committed_in_flight, secs);
    std::error_code ec;
    fs::remove_all(templ, ec);
    return failures == 0 ? 0 : 1;
}
