// addrpool-pg-demo (`make demo-postgres`): the main job across processes.
// Four processes, each with eight threads, released at once, hand out 10,000
// receive addresses from one pool shared through PostgreSQL (pg::SharedPool);
// the parent gathers what each got and prints the distinct count and the
// index range, like `addrpool demo`.
//
//   addrpool-pg-demo [--processes N] [--threads N] [--addresses N] [--pool-id ID]
//
// The server is the one ADDRPOOL_PG_CONNINFO names (scripts/pg-cluster sets
// it to a throwaway cluster). Exit 0 on success, 1 when the work failed, 2
// on bad usage; errors go to stderr as one line.
#include <addrpool/addrpool.hpp>
#include <addrpool/pg.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace addrpool;

namespace {

constexpr const char* kMnemonic =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

struct Config {
    unsigned processes = 4;
    unsigned threads = 8;
    unsigned addresses = 10'000;
    std::string pool_id = "demo";
    int worker = -1;  // worker mode: this process's number
    unsigned quota = 0;
};

int fail(const std::string& msg) {
    std::fprintf(stderr, "addrpool-pg-demo: %s\n", msg.c_str());
    return 1;
}

std::string conninfo() {
    const char* c = std::getenv("ADDRPOOL_PG_CONNINFO");
    return c ? c : "";
}

KeySource demo_key() {
    auto seed = mnemonic_to_seed(kMnemonic, "");
    auto root = seed ? ExtendedPrivKey::from_seed(*seed, Network::testnet) : Result<ExtendedPrivKey>(seed.error());
    auto acct = root ? root->derive(DerivationPath({44 | hardened_bit, 1 | hardened_bit, hardened_bit}))
                     : Result<ExtendedPrivKey>(root.error());
    if (!acct) {
        fail("cannot derive the demo key: " + acct.error().message);
        std::exit(1);
    }
    return KeySource::from_private(*acct);
}

const DerivationPath kBase({44 | hardened_bit, 1 | hardened_bit, hardened_bit, 0});

Result<pg::SharedPool> open_pool(const Config& c, const KeySource& ks) {
    pg::SharedPoolOptions o;
    o.connections = c.threads;
    o.lookahead = 256;  // fewer, larger derivation batches under a storm
    return pg::SharedPool::open(conninfo(), c.pool_id, kBase, PoolType::external, 20, Network::testnet, ks, o);
}

// A worker: opens the pool, says "ready" on stdout, waits for the go byte on
// stdin, hands out its quota with its threads, then prints
// "elapsed <ns>" and one "index ticket address" line per hand-out.
int run_worker(const Config& c) {
    const KeySource ks = demo_key();
    auto pool = open_pool(c, ks);
    if (!pool) return fail("open: " + pool.error().message);
    std::fputs("ready\n", stdout);
    std::fflush(stdout);
    char go = 0;
    if (::read(0, &go, 1) != 1) return fail("no go signal");
    std::vector<Reservation> got(c.quota);
    std::atomic<unsigned> next{0};
    std::atomic<unsigned> failures{0};
    std::string first_error;
    std::latch start(c.threads + 1);
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < c.threads; ++t) {
        ts.emplace_back([&] {
            start.arrive_and_wait();
            for (;;) {
                const unsigned k = next.fetch_add(1, std::memory_order_relaxed);  // work distribution only
                if (k >= c.quota) return;
                auto r = pool->reserve(ks, true);
                if (r) {
                    got[k] = *r;
                } else if (failures.fetch_add(1, std::memory_order_relaxed) == 0) {
                    // relaxed: exactly one thread sees 0 and writes first_error;
                    // the join below makes it visible.
                    first_error = r.error().message;
                }
            }
        });
    }
    const auto t0 = std::chrono::steady_clock::now();
    start.arrive_and_wait();
    for (auto& t : ts) t.join();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    if (failures.load() != 0) return fail(std::to_string(failures.load()) + " hand-outs failed: " + first_error);
    std::string out = "elapsed " + std::to_string(ns) + "\n";
    for (const auto& r : got) {
        out += std::to_string(r.index) + " " + std::to_string(r.ticket) + " " + r.address.to_string() + "\n";
    }
    return std::fwrite(out.data(), 1, out.size(), stdout) == out.size() && std::fflush(stdout) == 0 ? 0 : 1;
}

struct Child {
    pid_t pid = -1;
    int to = -1;     // its stdin
    FILE* from = nullptr;  // its stdout
};

Child spawn(const Config& c, unsigned k, unsigned quota) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) return {};
    std::vector<std::string> args = {"/proc/self/exe", "--worker",  std::to_string(k), "--quota", std::to_string(quota),
                                     "--threads",      std::to_string(c.threads), "--pool-id", c.pool_id};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
        ::execv("/proc/self/exe", argv.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    return {pid, in[1], ::fdopen(out[0], "r")};
}

std::string opt(const std::optional<std::uint32_t>& v) { return v ? std::to_string(*v) : "none"; }

int run_parent(const Config& c) {
    if (conninfo().empty()) return fail("ADDRPOOL_PG_CONNINFO is not set (make demo-postgres sets it)");
    std::vector<Child> kids;
    for (unsigned k = 0; k < c.processes; ++k) {
        const unsigned quota = c.addresses / c.processes + (k < c.addresses % c.processes ? 1 : 0);
        kids.push_back(spawn(c, k, quota));
        if (kids.back().pid < 0 || kids.back().from == nullptr) return fail("cannot start a worker process");
    }
    // Every worker has opened the pool (the first creates the schema, all at
    // once); then all are released together.
    char line[256];
    for (auto& k : kids) {
        if (!std::fgets(line, sizeof line, k.from) || std::strcmp(line, "ready\n") != 0) {
            return fail("a worker process could not open the pool");
        }
    }
    for (auto& k : kids) {
        if (::write(k.to, "g", 1) != 1) return fail("cannot release a worker");
        ::close(k.to);
    }
    std::set<std::string> distinct;
    std::set<std::uint64_t> tickets;
    std::vector<std::uint32_t> indices;
    std::vector<std::string> by_index(c.addresses);
    std::int64_t slowest = 0;
    std::string per_process;
    for (auto& k : kids) {
        std::size_t n = 0;
        while (std::fgets(line, sizeof line, k.from)) {
            std::istringstream in(line);
            std::string a, b, addr;
            in >> a >> b >> addr;
            if (a == "elapsed") {
                slowest = std::max<std::int64_t>(slowest, std::stoll(b));
                continue;
            }
            const auto idx = static_cast<std::uint32_t>(std::stoul(a));
            indices.push_back(idx);
            tickets.insert(std::stoull(b));
            distinct.insert(addr);
            if (idx < by_index.size()) by_index[idx] = addr;
            ++n;
        }
        std::fclose(k.from);
        int st = 0;
        ::waitpid(k.pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return fail("a worker process failed");
        per_process += (per_process.empty() ? "" : " ") + std::to_string(n);
    }
    if (indices.size() != c.addresses) return fail("the workers reported " + std::to_string(indices.size()) + " hand-outs");
    std::sort(indices.begin(), indices.end());
    bool contiguous = true;
    for (std::uint32_t i = 0; i < indices.size(); ++i) contiguous = contiguous && indices[i] == i;

    const KeySource ks = demo_key();
    Config parent = c;
    parent.threads = 1;
    auto pool = open_pool(parent, ks);
    if (!pool) return fail("open: " + pool.error().message);
    auto s = pool->stats();
    if (!s) return fail("stats: " + s.error().message);
    std::string out;
    out += "addrpool demo-postgres: testnet, key: mnemonic (built-in test mnemonic 'abandon ... about')\n";
    out += "pool '" + c.pool_id + "': " + kBase.to_string() + " (external), gap limit 20, shared through PostgreSQL\n";
    out += "step 1: " + std::to_string(c.processes) + " processes x " + std::to_string(c.threads) +
           " threads, released at once, hand out " + std::to_string(c.addresses) + " addresses from one shared pool\n";
    out += "  distinct addresses: " + std::to_string(distinct.size()) + " of " + std::to_string(c.addresses) + "\n";
    out += "  distinct tickets: " + std::to_string(tickets.size()) + " of " + std::to_string(c.addresses) + "\n";
    out += "  index range: " + std::to_string(indices.front()) + ".." + std::to_string(indices.back()) +
           (contiguous ? " (every index exactly once)\n" : " (NOT contiguous)\n");
    out += "  hand-outs per process: " + per_process + "\n";
    out += "  first addresses:";
    for (std::uint32_t i = 0; i < std::min(3u, c.addresses); ++i) out += " " + std::to_string(i) + ":" + by_index[i];
    out += "\n  wall time: " + std::to_string(slowest / 1'000'000) + " ms (slowest process)\n";
    out += "  stats: generated=" + std::to_string(s->generated) + " used=" + std::to_string(s->used) +
           " reserved=" + std::to_string(s->reserved) + " unused=" + std::to_string(s->unused) +
           " highest_reserved=" + opt(s->highest_reserved) + " highest_generated=" + opt(s->highest_generated) + "\n";
    std::fputs(out.c_str(), stdout);
    return distinct.size() == c.addresses && contiguous ? 0 : 1;
}

bool number(const char* s, unsigned lo, unsigned hi, unsigned& out) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(s, &end, 10);
    if (end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) return false;
    out = static_cast<unsigned>(v);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Config c;
    for (int i = 1; i < argc; i += 2) {  // every option takes a value
        const std::string a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        unsigned n = 0;
        bool good = v != nullptr;
        if (a == "--processes") good = good && number(v, 1, 64, c.processes);
        else if (a == "--threads") good = good && number(v, 1, 64, c.threads);
        else if (a == "--addresses") good = good && number(v, 1, 1'000'000, c.addresses);
        else if (a == "--quota") good = good && number(v, 0, 1'000'000, c.quota);
        else if (a == "--worker") good = good && number(v, 0, 64, n), c.worker = static_cast<int>(n);
        else if (a == "--pool-id") good = good && (c.pool_id = v, !c.pool_id.empty());
        else good = false;
        if (!good) {
            std::fputs("addrpool-pg-demo: usage: addrpool-pg-demo [--processes N] [--threads N] [--addresses N] "
                       "[--pool-id ID]\n",
                       stderr);
            return 2;
        }
    }
    if (c.addresses < c.processes) {
        std::fputs("addrpool-pg-demo: --addresses must be at least --processes\n", stderr);
        return 2;
    }
    return c.worker >= 0 ? run_worker(c) : run_parent(c);
}
