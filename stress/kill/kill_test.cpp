// Kill test (issue 5, crash safety): a forked child loads the pool file (if
// any), then loops: reserve an index, announce it ("I n"), mark it used,
// sometimes label it or hold a reservation, save, and only after save()
// returned acknowledge every index it marked ("A n"). The parent SIGKILLs the
// child after a random delay, then loads the file and checks:
//   - load succeeds (before the first save the file may be missing);
//   - the used set contains every acknowledged index, and only announced ones;
//   - it contains every index of the previous load (the file is the old or the
//     new state, never something older);
//   - nothing is reserved.
//
// Usage: stress-kill [--seed N] [--kills N]   (env ADDRPOOL_KILLS sets the
// default number of kills, 200; --kills wins over it). The seed is printed;
// with it the kill delays and the child's choices replay (the interleaving
// with the kernel does not).
#include <addrpool/addrpool.hpp>

#include "kill_support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>

using namespace addrpool;
namespace fs = std::filesystem;

namespace {

using kill_support::child_fail;
using kill_support::say;

[[noreturn]] void child(const fs::path& file, const KeySource& ks, int out, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::optional<AddressPool> pool;
    if (fs::exists(file)) {
        auto loaded = AddressPool::load(file);
        if (!loaded) child_fail(out, std::string("child load: ") + errc_name(loaded.error().code) + ": " +
                                         loaded.error().message);
        pool.emplace(std::move(loaded).value());
    } else {
        pool.emplace(pool_base_path(*ks.account_path(), PoolType::external), PoolType::external, 20, Network::testnet);
    }
    std::vector<Reservation> held;
    for (;;) {
        // Mark 1..3 indices used, then save once.
        std::string acks;
        const int marks = 1 + static_cast<int>(rng() % 3);
        for (int m = 0; m < marks; ++m) {
            auto r = pool->reserve(ks, true);
            if (!r) child_fail(out, "reserve: " + r.error().message);
            say(out, "I " + std::to_string(r->index) + "\n");
            if (!pool->mark_index_used(r->index)) child_fail(out, "mark_index_used refused a fresh reservation");
            if (rng() % 4 == 0 && !pool->set_label(r->address, "k" + std::to_string(r->index))) {
                child_fail(out, "set_label");
            }
            acks += "A " + std::to_string(r->index) + "\n";
        }
        // Reservations in the file would be a bug: keep a few live across saves.
        if (rng() % 2 == 0) {
            auto r = pool->reserve(ks, true);
            if (!r) child_fail(out, "reserve: " + r.error().message);
            held.push_back(*r);
        }
        if (held.size() > 3) {
            (void)pool->release_reservation(held.front());
            held.erase(held.begin());
        }
        auto saved = pool->save(file);
        if (!saved) child_fail(out, "save: " + saved.error().message);
        say(out, acks);
    }
}

struct Totals {
    int kills = 0, loads = 0, missing = 0, failures = 0, temp_files = 0;
    std::size_t acked = 0, final_used = 0;
};

void fail(Totals& t, int round, const std::string& what) {
    ++t.failures;
    std::fprintf(stderr, "FAIL round %d: %s\n", round, what.c_str());
}

std::uint64_t parse_u64(const char* s, const char* what) { return kill_support::parse_u64("stress-kill", s, what); }

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t seed = std::random_device{}();
    std::uint64_t kills = 200;
    if (const char* env = std::getenv("ADDRPOOL_KILLS"); env != nullptr && *env != '\0') {
        kills = parse_u64(env, "ADDRPOOL_KILLS");
    }
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--seed" && i + 1 < argc) {
            seed = parse_u64(argv[++i], "--seed");
        } else if (a == "--kills" && i + 1 < argc) {
            kills = parse_u64(argv[++i], "--kills");
        } else {
            std::fprintf(stderr, "usage: stress-kill [--seed N] [--kills N]\n");
            return 2;
        }
    }
    std::printf("kill test: seed %llu, %llu kills (replay: --seed %llu)\n", static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(kills), static_cast<unsigned long long>(seed));
    std::fflush(stdout);

    // Keys once, in the parent (PBKDF2); every child inherits them.
    auto keys = KeySource::from_mnemonic(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "",
        Network::testnet, *DerivationPath::parse("m/44'/1'/0'"));
    if (!keys) return 1;
    const KeySource ks = *keys;

    std::string templ = (fs::temp_directory_path() / "addrpool-kill-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const fs::path dir = templ;
    const fs::path file = dir / "pool.bin";

    std::mt19937_64 rng(seed);
    Totals t;
    std::set<std::uint32_t> announced, acked, previous;
    std::set<std::string> temp_seen;  // temporary files left by killed saves
    const auto started = std::chrono::steady_clock::now();
    for (int round = 0; round < static_cast<int>(kills) && t.failures <= 20; ++round) {
        const std::uint64_t child_seed = rng();
        // A save takes ~1-30 ms (two fsyncs): mostly within a few saves, sometimes
        // almost at once (during the child's start or load).
        const auto delay = std::chrono::microseconds(rng() % 8 == 0 ? rng() % 500 : rng() % 60'000);
        const auto killed = kill_support::run_and_kill(delay, [&](int out) { child(file, ks, out, child_seed); });
        if (!killed) return 1;
        const int status = killed->status;
        const std::string& text = killed->text;
        ++t.kills;
        for (std::size_t pos = 0; pos < text.size();) {
            const std::size_t nl = text.find('\n', pos);
            const std::string line = text.substr(pos, nl - pos);
            pos = nl == std::string::npos ? text.size() : nl + 1;
            if (line.size() > 2 && line[0] == 'I') announced.insert(static_cast<std::uint32_t>(std::stoul(line.substr(2))));
            else if (line.size() > 2 && line[0] == 'A') acked.insert(static_cast<std::uint32_t>(std::stoul(line.substr(2))));
            else if (line.size() > 2 && line[0] == 'E') fail(t, round, "child: " + line.substr(2));
        }
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
            fail(t, round, "the child ended before the kill (status " + std::to_string(status) + ")");
        }

        // A crash may leave the save's temporary file; the next child's
        // successful save must remove it (checked at the end).
        for (const auto& e : fs::directory_iterator(dir)) {
            const std::string name = e.path().filename().string();
            if (name.rfind("pool.bin.tmp-", 0) == 0) temp_seen.insert(name);
        }

        if (!fs::exists(file)) {
            ++t.missing;
            if (!acked.empty()) fail(t, round, "the file is missing after an acknowledged save");
            continue;
        }
        auto pool = AddressPool::load(file);
        ++t.loads;
        if (!pool) {
            fail(t, round, std::string("load: ") + errc_name(pool.error().code) + ": " + pool.error().message);
            continue;
        }
        std::set<std::uint32_t> used;
        const auto st = pool->stats();
        const std::uint32_t end = st.highest_generated ? *st.highest_generated + 1 : 0;
        for (std::uint32_t i = 0; i < end; ++i) {
            if (pool->state(i) == AddressState::used) used.insert(i);
        }
        if (st.reserved != 0) fail(t, round, std::to_string(st.reserved) + " reserved entries after load");
        for (std::uint32_t i : acked) {
            if (!used.count(i)) fail(t, round, "acknowledged index " + std::to_string(i) + " is not used");
        }
        for (std::uint32_t i : used) {
            if (!announced.count(i)) fail(t, round, "index " + std::to_string(i) + " is used but was never marked");
        }
        for (std::uint32_t i : previous) {
            if (!used.count(i)) fail(t, round, "index " + std::to_string(i) + " was used in the previous load");
        }
        previous = std::move(used);
    }
    // Every child is dead and reaped. One more save, from this process, must
    // leave no temporary file whose writer is gone (a pid reused meanwhile by
    // a live process keeps its file: that one is skipped, not failed).
    t.temp_files = static_cast<int>(temp_seen.size());
    int temp_left = 0;
    // Stale = its writer is dead both before and after the save. A pid reused
    // by a short-lived process exactly during the save would make the save
    // keep that file (correctly: it looked alive); so a file still there is
    // given one more save before it counts as a failure.
    auto stale_temporaries = [&] {
        std::set<std::string> stale;
        for (const auto& e : fs::directory_iterator(dir)) {
            const std::string name = e.path().filename().string();
            if (name.rfind("pool.bin.tmp-", 0) != 0) continue;
            const long writer = std::strtol(name.c_str() + std::strlen("pool.bin.tmp-"), nullptr, 10);
            if (writer > 0 && ::kill(static_cast<pid_t>(writer), 0) != 0 && errno == ESRCH) stale.insert(name);
        }
        return stale;
    };
    if (fs::exists(file)) {
        auto last = AddressPool::load(file);
        std::set<std::string> left = stale_temporaries();
        for (int attempt = 0; attempt < 2 && !left.empty(); ++attempt) {
            auto saved = last ? last->save(file) : Result<void>(last.error());
            if (!saved) fail(t, -1, std::string("final save: ") + saved.error().message);
            std::set<std::string> still;
            for (const std::string& name : stale_temporaries()) {
                if (left.count(name)) still.insert(name);
            }
            left = std::move(still);
        }
        for (const std::string& name : left) {
            ++temp_left;
            fail(t, -1, "two saves left the stale temporary file " + name + " of a dead writer");
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    t.acked = acked.size();
    t.final_used = previous.size();
    std::printf("kills %d, loads %d (file not yet written: %d), failures %d; %zu indices acknowledged, "
                "%zu used in the last load, %d temporary files left by killed saves (%d of them still there after "
                "the final save); %.1f s\n",
                t.kills, t.loads, t.missing, t.failures, t.acked, t.final_used, t.temp_files, temp_left, secs);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return t.failures == 0 ? 0 : 1;
}
