// addrpool-pg-stress: one SharedPool used by several processes with several
// threads each (issue 15, item 7). Hand-outs with releases (by ticket and by
// index), used marks (by index and by address), abandoned reservations and
// TTL sweeps; midway one worker process is killed with SIGKILL (a
// replacement takes over its remaining hand-outs) and the server is restarted
// with `pg_ctl restart -m immediate`. Then it checks the ledger the workers
// wrote (stress_ledger.hpp), the used marks against the database, and that
// hand-outs once quiet fill the free indices from the lowest, leaving no hole.
//
//   scripts/pg-cluster -- addrpool-pg-stress [--seed N] [--handouts N] [--processes N]
//                                            [--threads N] [--ttl-ms N] [--no-faults] [--mutant 1|2]
//
// Defaults: 100,000 hand-outs, 4 processes x 8 threads, TTL 2000 ms, a
// random seed (printed, with the command line that replays it). Exit 0 when
// every check passes, 1 on a violation, 2 on bad usage. --mutant runs a
// deliberately broken worker, to show that the checks catch it; with
// --expect-violations the exit status is 0 only when they did.
#include "pg_test_util.hpp"
#include "stress_ledger.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <latch>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace addrpool;
using namespace addrpool::pgstress;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxWorkers = 64;

struct Config {
    std::uint64_t seed = 0;
    std::uint64_t handouts = 100'000;
    unsigned processes = 4;
    unsigned threads = 8;
    std::int64_t ttl_ms = 2000;
    bool faults = true;
    // A deliberately broken worker the checks must catch: 1 sweeps with TTL 0
    // (frees live reservations), 2 releases instead of marking used but
    // records the mark.
    int mutant = 0;
    // Exit 0 only if the checks found a violation (for the mutants' tests).
    bool expect_violations = false;
    // worker mode
    int worker = -1;
    std::uint64_t quota = 0;
    std::string dir;
};

std::string pool_id(const Config& c) { return "stress-" + std::to_string(c.seed); }

// The shared progress counters (hand-outs per worker), in a file every
// process maps.
std::uint64_t* map_progress(const std::string& dir, bool create) {
    const std::string path = dir + "/progress";
    const int fd = ::open(path.c_str(), O_RDWR | (create ? O_CREAT : 0) | O_CLOEXEC, 0600);
    if (fd < 0 || (create && ::ftruncate(fd, kMaxWorkers * 8) != 0)) throw std::runtime_error("progress file");
    void* p = ::mmap(nullptr, kMaxWorkers * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw std::runtime_error("mmap progress");
    return static_cast<std::uint64_t*>(p);
}

// relaxed: a progress count read by the parent to time the faults; no other
// data is published through it.
std::uint64_t load_progress(std::uint64_t* p, std::size_t k) {
    return std::atomic_ref<std::uint64_t>(p[k]).load(std::memory_order_relaxed);
}

Result<pg::SharedPool> open_retrying(const Config& c, const KeySource& ks) {
    pg::SharedPoolOptions o;
    o.connections = c.threads;
    for (int attempt = 0;; ++attempt) {
        auto p = pg::SharedPool::open(pgtest::conninfo(), pool_id(c), pgtest::receive_path(), PoolType::external, 20,
                                      Network::testnet, ks, o);
        // The server may be restarting: keep trying for a minute.
        if (p || p.error().code != Errc::backend_unavailable || attempt >= 600) return p;
        std::this_thread::sleep_for(100ms);
    }
}

// ---- a worker process -------------------------------------------------------

int run_worker(const Config& c) {
    const KeySource ks = KeySource::from_private(pgtest::account_key());
    auto opened = open_retrying(c, ks);
    if (!opened) {
        std::cerr << "worker " << c.worker << ": open: " << opened.error().message << "\n";
        return 3;
    }
    pg::SharedPool& pool = *opened;
    LedgerWriter ledger(c.dir + "/ledger-" + std::to_string(c.worker));
    std::uint64_t* progress = map_progress(c.dir, false);
    std::atomic<std::int64_t> quota{static_cast<std::int64_t>(c.quota)};
    std::atomic<int> fatal{0};
    const auto w = static_cast<std::uint16_t>(c.worker);
    std::latch start(c.threads);
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < c.threads; ++t) {
        ts.emplace_back([&, t] {
            std::mt19937_64 rng(c.seed ^ (std::uint64_t{w} << 32) ^ (t * 0x9e3779b97f4a7c15ull));
            std::vector<std::pair<Reservation, std::int64_t>> held;  // with its reserve call's start
            const auto backoff = [&] { std::this_thread::sleep_for(std::chrono::milliseconds(1 + rng() % 20)); };
            start.arrive_and_wait();
            for (;;) {
                // relaxed: a work counter; hand-outs are counted exactly by the ledger.
                const bool more = quota.load(std::memory_order_relaxed) > 0;
                if (!more && held.empty()) return;
                if (more && (held.empty() || (held.size() < 4 && rng() % 2 == 0))) {
                    if (quota.fetch_sub(1, std::memory_order_relaxed) <= 0) {  // relaxed: as above
                        quota.fetch_add(1, std::memory_order_relaxed);
                        continue;
                    }
                    const std::int64_t t0 = monotonic_ns();
                    auto r = pool.reserve(ks, rng() % 4 != 0);
                    const std::int64_t t1 = monotonic_ns();
                    if (!r) {
                        quota.fetch_add(1, std::memory_order_relaxed);  // relaxed: as above
                        if (r.error().code != Errc::backend_unavailable) {
                            std::cerr << "worker " << w << ": reserve: " << r.error().message << "\n";
                            fatal.store(1);
                            return;
                        }
                        ledger.append({Kind::unavailable, 0, w, 0, 0, t0, t1, 0});
                        backoff();
                        continue;
                    }
                    ledger.append({Kind::reserved, 0, w, r->index, r->ticket, t0, t1, 0});
                    // relaxed: see load_progress.
                    std::atomic_ref<std::uint64_t>(progress[c.worker]).fetch_add(1, std::memory_order_relaxed);
                    held.emplace_back(*r, t0);
                    continue;
                }
                if (rng() % 64 == 0) {
                    const std::int64_t t0 = monotonic_ns();
                    auto s = pool.sweep_expired_reservations(c.mutant == 1 ? 0ms : std::chrono::milliseconds(c.ttl_ms));
                    const std::int64_t t1 = monotonic_ns();
                    if (s) ledger.append({Kind::swept, 0, w, 0, 0, t0, t1, *s});
                    else ledger.append({Kind::unavailable, 0, w, 0, 0, t0, t1, 0});
                }
                const std::size_t i = rng() % held.size();
                const Reservation h = held[i].first;
                const std::int64_t age = monotonic_ns() - held[i].second;
                held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
                const unsigned roll = rng() % 100;
                Op op = roll < 45   ? Op::release_ticket
                        : roll < 55 ? Op::release_index
                        : roll < 75 ? Op::mark_index
                        : roll < 92 ? Op::mark_address
                                    : Op::abandon;
                // A holding this old may have been swept and handed on: a
                // release by index or a mark would act on the next holder
                // (their contract). Give it back by ticket instead, so the
                // check rarely has to excuse anything.
                if (age > c.ttl_ms * 250'000 && op != Op::abandon) op = Op::release_ticket;
                const std::int64_t t0 = monotonic_ns();
                ledger.append({Kind::ending, 0, w, h.index, h.ticket, t0, t0, static_cast<std::uint64_t>(op)});
                if (op == Op::abandon) continue;
                const bool mark = op == Op::mark_index || op == Op::mark_address;
                Result<bool> r = false;
                if (c.mutant == 2 && mark) {
                    r = pool.release_reservation(h);  // recorded as a mark that never happened
                } else {
                    switch (op) {
                    case Op::release_ticket: r = pool.release_reservation(h); break;
                    case Op::release_index: r = pool.release_reservation(h.index); break;
                    case Op::mark_index: r = pool.mark_index_used(h.index); break;
                    default: r = pool.mark_used(h.address); break;
                    }
                }
                const std::int64_t t1 = monotonic_ns();
                const Kind k = !r    ? Kind::end_unknown
                               : *r  ? (mark ? Kind::marked : Kind::released)
                                     : (mark ? Kind::mark_false : Kind::release_false);
                ledger.append({k, 0, w, h.index, h.ticket, t0, t1, 0});
                if (!r) backoff();
            }
        });
    }
    for (auto& t : ts) t.join();
    return fatal.load() ? 1 : 0;
}

// ---- the parent -------------------------------------------------------------

pid_t spawn(const Config& c, int worker, std::uint64_t quota) {
    std::vector<std::string> args = {"/proc/self/exe",        "--worker",  std::to_string(worker),
                                     "--quota",               std::to_string(quota),
                                     "--dir",                 c.dir,
                                     "--seed",                std::to_string(c.seed),
                                     "--threads",             std::to_string(c.threads),
                                     "--ttl-ms",              std::to_string(c.ttl_ms),
                                     "--mutant",              std::to_string(c.mutant)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execv("/proc/self/exe", argv.data());
        ::_exit(127);
    }
    if (pid < 0) throw std::runtime_error("fork failed");
    return pid;
}

// After a stall: the server log's tail and, where gdb is installed, every
// worker thread's stack, on stdout.
void diagnose_stall(const std::vector<pid_t>& pids) {
    if (const char* dir = std::getenv("ADDRPOOL_PG_DIR")) {
        std::cout << "  server log (tail):" << std::endl;
        (void)std::system(("tail -n 30 " + std::string(dir) + "/server.log").c_str());
    }
    if (std::system("command -v gdb >/dev/null 2>&1") != 0) return;
    for (pid_t pid : pids) {
        std::cout << "  worker pid " << pid << ":" << std::endl;
        (void)std::system(("gdb -p " + std::to_string(pid) +
                           " -batch -ex 'thread apply all bt 12' 2>/dev/null | grep -E '^(Thread|#)'")
                              .c_str());
    }
}

int run_parent(Config c) {
    std::cout.setf(std::ios::unitbuf);  // every line reaches the log at once, also before a kill
    if (c.seed == 0) c.seed = std::random_device{}() | 1;
    std::cout << "addrpool-pg-stress: seed " << c.seed << " (replay: addrpool-pg-stress --seed " << c.seed
              << " --handouts " << c.handouts << " --processes " << c.processes << " --threads " << c.threads
              << " --ttl-ms " << c.ttl_ms << (c.faults ? "" : " --no-faults")
              << (c.mutant ? " --mutant " + std::to_string(c.mutant) : std::string()) << ")\n";
    char tmpl[] = "/tmp/addrpool-pg-stress.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    c.dir = tmpl;
    std::uint64_t* progress = map_progress(c.dir, true);

    struct Worker { pid_t pid; std::uint64_t quota; bool running; };
    std::vector<Worker> workers;
    for (unsigned k = 0; k < c.processes; ++k) {
        const std::uint64_t q = c.handouts / c.processes + (k == 0 ? c.handouts % c.processes : 0);
        workers.push_back({spawn(c, static_cast<int>(k), q), q, true});
    }
    RunFacts facts;
    facts.ttl_ns = c.ttl_ms * 1'000'000 - 100'000'000;  // less a margin for server vs. host clock
    bool killed = false, restarted = false, failed = false;
    const auto t_start = std::chrono::steady_clock::now();
    std::uint64_t last_total = 0;
    auto last_change = t_start;
    int stalls = 0;
    for (;;) {
        std::uint64_t total = 0;
        for (std::size_t k = 0; k < workers.size(); ++k) total += load_progress(progress, k);
        const auto now = std::chrono::steady_clock::now();
        if (total != last_total) {
            last_total = total;
            last_change = now;
            stalls = 0;
        } else if (now - last_change >= 15s) {
            // A stall shows in the log (a test that times out says why).
            std::cout << "  no hand-out for 15 s at " << total << "; per worker:";
            for (std::size_t k = 0; k < workers.size(); ++k) std::cout << " " << load_progress(progress, k);
            std::cout << std::endl;
            last_change = now;
            if (++stalls == 8) {  // two minutes: give up with what the workers were doing
                std::vector<pid_t> pids;
                for (const auto& w : workers) {
                    if (w.running) pids.push_back(w.pid);
                }
                diagnose_stall(pids);
                for (auto& w : workers) {
                    if (w.running) ::kill(w.pid, SIGKILL);
                }
                std::cout << "  VIOLATION: no progress for two minutes (stack traces above, if gdb is installed); "
                          << "the ledgers are kept in " << c.dir << "\n";
                return 1;
            }
        }
        if (c.faults && !killed && total >= c.handouts * 4 / 10) {
            const std::int64_t at = monotonic_ns();
            ::kill(workers[0].pid, SIGKILL);
            int st = 0;
            ::waitpid(workers[0].pid, &st, 0);
            workers[0].running = false;
            facts.killed_at[0] = at;
            const std::uint64_t done = load_progress(progress, 0);
            const std::uint64_t left = workers[0].quota > done ? workers[0].quota - done : 0;
            std::cout << "  SIGKILL worker 0 (pid " << workers[0].pid << ") at " << total << " hand-outs; worker "
                      << workers.size() << " takes over its remaining " << left << "\n";
            workers.push_back({spawn(c, static_cast<int>(workers.size()), left), left, true});
            killed = true;
        }
        if (c.faults && !restarted && total >= c.handouts * 6 / 10) {
            const auto t0 = std::chrono::steady_clock::now();
            pgtest::restart_server();
            std::cout << "  server restart (pg_ctl restart -m immediate) at " << total << " hand-outs: "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
                      << " ms\n";
            restarted = true;
        }
        bool any = false;
        for (std::size_t k = 0; k < workers.size(); ++k) {
            if (!workers[k].running) continue;
            int st = 0;
            const pid_t r = ::waitpid(workers[k].pid, &st, WNOHANG);
            if (r == 0) {
                any = true;
                continue;
            }
            workers[k].running = false;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                std::cout << "  worker " << k << " failed (status " << st << ")\n";
                failed = true;
            }
        }
        if (!any) break;
        std::this_thread::sleep_for(10ms);  // polling the workers' progress, not waiting for an outcome
    }
    const auto elapsed = std::chrono::steady_clock::now() - t_start;

    // Quiet now. Free what the dead and the abandoning left behind.
    const KeySource ks = KeySource::from_private(pgtest::account_key());
    auto opened = open_retrying(c, ks);
    if (!opened) throw std::runtime_error("open after the run: " + opened.error().message);
    pg::SharedPool& pool = *opened;
    const std::size_t freed = pool.sweep_expired_reservations(0ns).value();
    pgtest::Sql sql(pgtest::conninfo());
    const std::string key = "(SELECT pool FROM addrpool_pool WHERE pool_id = " + pgtest::quote(pool_id(c)) + ")";
    for (const auto& row : sql.query("SELECT idx FROM addrpool_address WHERE state = 2 AND pool = " + key)) {
        facts.used_in_db.insert(static_cast<std::uint32_t>(std::stoul(row[0])));
    }
    std::vector<Record> all;
    for (std::size_t k = 0; k < workers.size(); ++k) {
        auto part = read_ledger(c.dir + "/ledger-" + std::to_string(k));
        all.insert(all.end(), part.begin(), part.end());
    }
    CheckResult res = check_ledger(all, facts);
    if (failed) res.violations.push_back("a worker process failed");
    if (res.handouts < c.handouts) {
        res.violations.push_back("only " + std::to_string(res.handouts) + " hand-outs recorded of " +
                                 std::to_string(c.handouts));
    }

    // No holes once quiet: the free indices below the highest used one are
    // handed out next, lowest first, and then the taken indices are 0..n-1.
    std::vector<std::uint32_t> free_below;
    for (const auto& row : sql.query("SELECT idx FROM addrpool_address WHERE state = 0 AND pool = " + key +
                                     " AND idx < (SELECT max(idx) FROM addrpool_address WHERE state = 2 AND pool = " +
                                     key + ") ORDER BY idx")) {
        free_below.push_back(static_cast<std::uint32_t>(std::stoul(row[0])));
    }
    if (sql.scalar("SELECT count(*) FROM addrpool_address WHERE state = 1 AND pool = " + key) != "0") {
        res.violations.push_back("reservations left after sweep(0) in a quiet pool");
    }
    for (std::uint32_t expect : free_below) {
        auto r = pool.reserve(ks);
        if (!r || r->index != expect) {
            res.violations.push_back("once quiet, the hand-out gave " + (r ? std::to_string(r->index) : r.error().message) +
                                     ", not the lowest free index " + std::to_string(expect));
            break;
        }
    }
    const std::string holes = sql.scalar(
        "SELECT count(*) FROM addrpool_address WHERE state = 0 AND pool = " + key +
        " AND idx < (SELECT max(idx) FROM addrpool_address WHERE state <> 0 AND pool = " + key + ")");
    if (holes != "0") res.violations.push_back(holes + " free indices below a taken one after the quiet hand-outs");

    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
    std::cout << "  " << c.processes << " processes x " << c.threads << " threads, TTL " << c.ttl_ms << " ms, "
              << ms << " ms (" << (ms ? res.handouts * 1000 / static_cast<std::uint64_t>(ms) : 0) << " hand-outs/s)\n"
              << "  hand-outs " << res.handouts << ", releases " << res.releases << ", used marks " << res.marks
              << ", abandoned " << res.abandoned << ", swept " << res.swept << " (+" << freed
              << " by the final sweep), outcome unknown " << res.unknown_ends << ", backend_unavailable "
              << res.unavailable << "\n"
              << "  holdings checked " << res.holdings << " (ended by the kill: " << res.killed_holdings
              << ", as old as TTL/2: " << res.long_holdings << ", excused (an expired holder's release by index or mark "
              << "ran while they held the index): " << res.excused << "); used marks in the database " << facts.used_in_db.size() << "\n"
              << "  quiet: " << free_below.size() << " free indices below the highest used one handed out lowest first; "
              << "holes left: " << holes << "\n";
    for (const auto& v : res.violations) std::cout << "  VIOLATION: " << v << "\n";
    std::cout << "  violations: " << res.violations.size() << "\n";
    if (res.violations.empty() || c.expect_violations) {
        std::filesystem::remove_all(c.dir);
    } else {
        std::cout << "  the ledgers are kept in " << c.dir << " (40-byte records, stress_ledger.hpp)\n";
    }
    if (c.expect_violations) {
        // Only the ledger checks may fail: a worker that crashed is no catch.
        const bool caught = !res.violations.empty() && !failed;
        std::cout << (caught ? "  expected violations: caught\n" : "  expected violations: NOT caught\n");
        return caught ? 0 : 1;
    }
    return res.violations.empty() ? 0 : 1;
}

bool parse_u64(const char* s, std::uint64_t& out) {
    char* end = nullptr;
    errno = 0;
    out = std::strtoull(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && s[0] != '-';
}

}  // namespace

int main(int argc, char** argv) {
    Config c;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        std::uint64_t v = 0;
        const bool has = i + 1 < argc;
        if (a == "--no-faults") {
            c.faults = false;
        } else if (a == "--expect-violations") {
            c.expect_violations = true;
        } else if (a == "--dir" && has) {
            c.dir = argv[++i];
        } else if (has && parse_u64(argv[i + 1], v) &&
                   (a == "--seed" || a == "--handouts" || a == "--processes" || a == "--threads" ||
                    a == "--ttl-ms" || a == "--worker" || a == "--quota" || a == "--mutant")) {
            ++i;
            if (a == "--seed") c.seed = v;
            if (a == "--handouts") c.handouts = v;
            if (a == "--processes") c.processes = static_cast<unsigned>(v);
            if (a == "--threads") c.threads = static_cast<unsigned>(v);
            if (a == "--ttl-ms") c.ttl_ms = static_cast<std::int64_t>(v);
            if (a == "--worker") c.worker = static_cast<int>(v);
            if (a == "--quota") c.quota = v;
            if (a == "--mutant") c.mutant = static_cast<int>(v);
        } else {
            std::cerr << "usage: addrpool-pg-stress [--seed N] [--handouts N] [--processes N] [--threads N] "
                         "[--ttl-ms N] [--no-faults] [--mutant 1|2] [--expect-violations]\n";
            return 2;
        }
    }
    if (c.processes < 1 || c.processes + 1 > kMaxWorkers || c.threads < 1 || c.threads > 64 || c.ttl_ms < 500 ||
        c.handouts < c.processes || c.mutant < 0 || c.mutant > 2) {
        std::cerr << "addrpool-pg-stress: --processes 1..63, --threads 1..64, --ttl-ms >= 500, --handouts >= processes\n";
        return 2;
    }
    try {
        return c.worker >= 0 ? run_worker(c) : run_parent(c);
    } catch (const std::exception& e) {
        std::cerr << "addrpool-pg-stress: " << e.what() << "\n";
        return 1;
    }
}
