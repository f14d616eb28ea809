// addrpool-pg-bench (issue 15, item 9): hand-outs per second and latency of
// pg::SharedPool against the NBXplorer approach, on the same PostgreSQL
// server in the same run, at 1, 8 and 32 client connections; plus the
// in-process AddressPool with as many threads, for scale.
//
//   scripts/pg-cluster --durable -- addrpool-pg-bench [--seconds S] [--repetitions R]
//                                                      [--connections 1,8,32] [--out FILE] [--smoke]
//
// The NBXplorer approach (its PostgreSQL backend's way of handing out an
// unused script): a table of (code, descriptor, idx, script, used) with a
// partial index of the unused rows; a hand-out is
//   SELECT idx, script ... WHERE used IS FALSE ORDER BY idx LIMIT 1
// then
//   UPDATE ... SET used = true WHERE ... AND idx = $ AND used IS FALSE
// retried from the SELECT when the UPDATE changed no row (another caller
// won). Both statements are prepared, in autocommit, like SharedPool's one.
//
// Each measurement: C threads, each with its own connection (SharedPool: one
// object with `connections` = C), a warm-up, then S seconds of hand-outs in
// a closed loop, every hand-out timed. Each repetition uses fresh rows (the
// same pre-derived addresses inserted anew) after a VACUUM ANALYZE, and the
// two designs alternate which goes first. Medians over the repetitions go to
// the JSON file (bench/report_pg.py turns it into docs/performance.md's
// section).
#include <addrpool/addrpool.hpp>
#include <addrpool/pg.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <latch>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace addrpool;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kMnemonic =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

struct Options {
    double seconds = 3.0;
    double warmup = 0.5;
    unsigned repetitions = 5;
    std::vector<unsigned> connections = {1, 8, 32};
    unsigned rows = 60'000;
    std::string out;
    bool smoke = false;
};

std::string conninfo() {
    const char* c = std::getenv("ADDRPOOL_PG_CONNINFO");
    if (c == nullptr || *c == '\0') throw std::runtime_error("ADDRPOOL_PG_CONNINFO is not set (run under scripts/pg-cluster)");
    return c;
}

// A plain libpq connection for setup and for the NBXplorer client.
class Conn {
public:
    Conn() {
        const std::string ci = conninfo();
        const char* kw[] = {"dbname", "application_name", nullptr};
        const char* val[] = {ci.c_str(), "addrpool-pg-bench", nullptr};
        c_ = PQconnectdbParams(kw, val, 1);
        if (PQstatus(c_) != CONNECTION_OK) throw std::runtime_error(std::string("connect: ") + PQerrorMessage(c_));
        PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
    }
    ~Conn() { PQfinish(c_); }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    PGconn* get() const { return c_; }

    // Runs SQL (with text parameters); returns the first value of the first
    // row ("" if none) and the affected-row count.
    std::string run(const char* sql, std::vector<std::string> params = {}, std::uint64_t* affected = nullptr) {
        std::vector<const char*> p;
        for (auto& s : params) p.push_back(s.c_str());
        PGresult* r = PQexecParams(c_, sql, static_cast<int>(p.size()), nullptr, p.data(), nullptr, nullptr, 0);
        return finish(r, sql, affected);
    }
    void prepare(const char* name, const char* sql) {
        PGresult* r = PQprepare(c_, name, sql, 0, nullptr);
        finish(r, sql, nullptr);
    }
    std::string exec_prepared(const char* name, const std::vector<const char*>& p, std::uint64_t* affected) {
        PGresult* r = PQexecPrepared(c_, name, static_cast<int>(p.size()), p.data(), nullptr, nullptr, 0);
        return finish(r, name, affected);
    }

private:
    std::string finish(PGresult* r, const char* what, std::uint64_t* affected) {
        const auto st = PQresultStatus(r);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            std::string m = PQresultErrorMessage(r);
            PQclear(r);
            throw std::runtime_error(std::string(what) + ": " + m);
        }
        std::string v = PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "";
        if (affected) *affected = std::strtoull(PQcmdTuples(r), nullptr, 10);
        PQclear(r);
        return v;
    }
    PGconn* c_ = nullptr;
};

KeySource bench_key() {
    auto seed = mnemonic_to_seed(kMnemonic, "");
    if (!seed) throw std::runtime_error("seed");
    auto root = ExtendedPrivKey::from_seed(*seed, Network::testnet);
    if (!root) throw std::runtime_error("root key");
    auto acct = root->derive(DerivationPath({44 | hardened_bit, 1 | hardened_bit, hardened_bit}));
    if (!acct) throw std::runtime_error("account key");
    return KeySource::from_private(*acct);
}

const DerivationPath kBase({44 | hardened_bit, 1 | hardened_bit, hardened_bit, 0});

struct Sample {
    std::uint64_t handouts = 0;
    std::uint64_t retries = 0;  // NBXplorer: UPDATEs that lost to another caller
    double per_s = 0, p50_us = 0, p99_us = 0, max_us = 0;
};

// Runs `threads` workers: each calls setup(t) once, then handout(t) in a
// loop — untimed during the warm-up, timed for `seconds` — until time is up.
// handout returns false when it could not hand out (rows exhausted).
template <class Handout>
Sample closed_loop(unsigned threads, double warmup, double seconds, Handout handout) {
    std::vector<std::vector<std::uint32_t>> lat_ns(threads);
    std::atomic<int> phase{0};  // 0 warm-up, 1 timed, 2 stop
    std::atomic<bool> exhausted{false};
    std::latch start(threads + 1);
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            lat_ns[t].reserve(1 << 16);
            start.arrive_and_wait();
            for (;;) {
                // acquire: pairs with the release stores below (the phase
                // switches), so a hand-out started after the switch counts.
                const int ph = phase.load(std::memory_order_acquire);
                if (ph == 2) return;
                const auto t0 = Clock::now();
                if (!handout(t)) {
                    exhausted.store(true, std::memory_order_relaxed);  // relaxed: read after join
                    return;
                }
                const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
                if (ph == 1 && phase.load(std::memory_order_acquire) == 1) {  // acquire: as above
                    lat_ns[t].push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(ns, UINT32_MAX)));
                }
            }
        });
    }
    start.arrive_and_wait();
    std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
    phase.store(1, std::memory_order_release);  // release: pairs with the workers' acquire loads
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    phase.store(2, std::memory_order_release);  // release: as above
    const auto elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& t : ts) t.join();
    if (exhausted.load()) throw std::runtime_error("the pre-derived rows ran out: raise --rows");
    std::vector<std::uint32_t> all;
    for (auto& v : lat_ns) all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end());
    Sample s;
    s.handouts = all.size();
    s.per_s = static_cast<double>(all.size()) / elapsed;
    if (!all.empty()) {
        s.p50_us = all[all.size() / 2] / 1e3;
        s.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)] / 1e3;
        s.max_us = all.back() / 1e3;
    }
    return s;
}

// ---- the designs ------------------------------------------------------------

struct Fixture {
    Options opt;
    KeySource ks = bench_key();
    std::string hex = "\\x";  // the pre-derived hash160s of indices 0..rows-1: one bytea
    Conn admin;
    int run_no = 0;

    void vacuum() { admin.run("VACUUM ANALYZE"); }

    Sample shared_pool(unsigned c) {
        const std::string id = "bench-" + std::to_string(++run_no);
        pg::SharedPoolOptions o;
        o.connections = c;
        o.lookahead = 1000;
        auto p = pg::SharedPool::open(conninfo(), id, kBase, PoolType::external, 20, Network::testnet, ks, o);
        if (!p) throw std::runtime_error("open: " + p.error().message);
        admin.run("INSERT INTO addrpool_address (pool, idx, hash160)\n"
                  "SELECT (SELECT pool FROM addrpool_pool WHERE pool_id = $1), g,\n"
                  "       substring($2::bytea FROM g * 20 + 1 FOR 20)\n"
                  "  FROM generate_series(0, $3::integer - 1) AS g",
                  {id, hex, std::to_string(opt.rows)});
        vacuum();
        pg::SharedPool& pool = *p;
        return closed_loop(c, opt.warmup, opt.seconds, [&](unsigned) { return pool.reserve(ks, true).has_value(); });
    }

    Sample nbxplorer(unsigned c) {
        const std::string descriptor = "bench-" + std::to_string(++run_no);
        admin.run("INSERT INTO nbx_scripts (code, descriptor, idx, script)\n"
                  "SELECT 'DASH', $1, g, '\\x76a914'::bytea || substring($2::bytea FROM g * 20 + 1 FOR 20) || '\\x88ac'::bytea\n"
                  "  FROM generate_series(0, $3::integer - 1) AS g",
                  {descriptor, hex, std::to_string(opt.rows)});
        vacuum();
        std::vector<std::unique_ptr<Conn>> conns;
        for (unsigned t = 0; t < c; ++t) {
            conns.push_back(std::make_unique<Conn>());
            conns.back()->prepare("nbx_select",
                                  "SELECT idx, script FROM nbx_scripts\n"
                                  " WHERE code = $1 AND descriptor = $2 AND used IS FALSE ORDER BY idx LIMIT 1");
            conns.back()->prepare("nbx_update",
                                  "UPDATE nbx_scripts SET used = true\n"
                                  " WHERE code = $1 AND descriptor = $2 AND idx = $3 AND used IS FALSE");
        }
        std::atomic<std::uint64_t> retries{0};
        Sample s = closed_loop(c, opt.warmup, opt.seconds, [&](unsigned t) {
            Conn& conn = *conns[t];
            for (;;) {
                const std::string idx = conn.exec_prepared("nbx_select", {"DASH", descriptor.c_str()}, nullptr);
                if (idx.empty()) return false;
                std::uint64_t n = 0;
                conn.exec_prepared("nbx_update", {"DASH", descriptor.c_str(), idx.c_str()}, &n);
                if (n == 1) return true;
                retries.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count read after join
            }
        });
        s.retries = retries.load();
        return s;
    }
};

// The in-process pool, pre-derived, the same closed loop (for scale).
Sample in_process(const KeySource& ks, unsigned threads, const Options& opt) {
    AddressPool pool(kBase, PoolType::external, 20, Network::testnet);
    const std::uint32_t n = opt.smoke ? 2'000 : 200'000;
    if (!pool.generate_addresses(n, ks, true)) throw std::runtime_error("generate_addresses");
    // Hand-outs and releases, so the pre-derived range never runs out.
    return closed_loop(threads, opt.warmup / 5, opt.seconds / 3, [&](unsigned) {
        auto r = pool.reserve(ks, true);
        return r && pool.release_reservation(*r);
    });
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string sample_json(const Sample& s) {
    std::ostringstream o;
    o << "{\"handouts\": " << s.handouts << ", \"per_s\": " << s.per_s << ", \"p50_us\": " << s.p50_us
      << ", \"p99_us\": " << s.p99_us << ", \"max_us\": " << s.max_us << ", \"retries\": " << s.retries << "}";
    return o.str();
}

std::string series_json(const std::string& design, unsigned c, const std::vector<Sample>& reps) {
    std::vector<double> per_s, p50, p99, retries;
    for (const auto& s : reps) {
        per_s.push_back(s.per_s);
        p50.push_back(s.p50_us);
        p99.push_back(s.p99_us);
        retries.push_back(static_cast<double>(s.retries) / std::max<double>(1, static_cast<double>(s.handouts)));
    }
    std::ostringstream o;
    o << "    {\"design\": \"" << design << "\", \"connections\": " << c << ", \"median\": {\"per_s\": " << median(per_s)
      << ", \"p50_us\": " << median(p50) << ", \"p99_us\": " << median(p99)
      << ", \"retries_per_handout\": " << median(retries) << "}, \"repetitions\": [";
    for (std::size_t i = 0; i < reps.size(); ++i) o << (i ? ", " : "") << sample_json(reps[i]);
    o << "]}";
    return o.str();
}

std::string loadavg() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

int run(Options opt) {
    const std::string load_before = loadavg();
    Fixture f;
    f.opt = opt;
    // Pre-derive once: every design and repetition gets the same addresses.
    for (std::uint32_t i = 0; i < opt.rows; ++i) {
        auto h = f.ks.derive_hash160(PoolType::external, i);
        if (!h) throw std::runtime_error("derive");
        static constexpr char d[] = "0123456789abcdef";
        for (std::uint8_t b : *h) f.hex += {d[b >> 4], d[b & 15]};
    }
    {
        // The schema: SharedPool creates its own; the NBXplorer table here.
        auto p = pg::SharedPool::open(conninfo(), "bench-schema", kBase, PoolType::external, 20, Network::testnet, f.ks);
        if (!p) throw std::runtime_error("open: " + p.error().message);
    }
    f.admin.run("CREATE TABLE IF NOT EXISTS nbx_scripts (code text NOT NULL, descriptor text NOT NULL, idx integer NOT NULL,\n"
                "  script bytea NOT NULL, used boolean NOT NULL DEFAULT false, PRIMARY KEY (code, descriptor, idx))");
    f.admin.run("CREATE INDEX IF NOT EXISTS nbx_scripts_unused ON nbx_scripts (code, descriptor, idx) WHERE used IS FALSE");
    const std::string server = f.admin.run("SELECT version()");
    const std::string fsync = f.admin.run("SHOW fsync");
    const std::string sync_commit = f.admin.run("SHOW synchronous_commit");

    std::vector<std::string> series;
    for (unsigned c : opt.connections) {
        std::vector<Sample> ours, theirs;
        for (unsigned r = 0; r < opt.repetitions; ++r) {
            // Alternate which design runs first.
            if (r % 2 == 0) {
                ours.push_back(f.shared_pool(c));
                theirs.push_back(f.nbxplorer(c));
            } else {
                theirs.push_back(f.nbxplorer(c));
                ours.push_back(f.shared_pool(c));
            }
            std::printf("connections %u, repetition %u: addrpool-pg %.0f/s p99 %.0f us | nbxplorer %.0f/s p99 %.0f us "
                        "(%.2f retries per hand-out)\n",
                        c, r + 1, ours.back().per_s, ours.back().p99_us, theirs.back().per_s, theirs.back().p99_us,
                        static_cast<double>(theirs.back().retries) / std::max<double>(1, theirs.back().handouts));
            std::fflush(stdout);
        }
        std::vector<Sample> local;
        for (unsigned r = 0; r < opt.repetitions; ++r) local.push_back(in_process(f.ks, c, opt));
        std::printf("connections %u: in-process AddressPool %.0f/s (reserve + release pairs)\n", c,
                    median([&] {
                        std::vector<double> v;
                        for (auto& s : local) v.push_back(s.per_s);
                        return v;
                    }()));
        series.push_back(series_json("addrpool-pg", c, ours));
        series.push_back(series_json("nbxplorer", c, theirs));
        series.push_back(series_json("in-process", c, local));
    }
    if (!opt.out.empty()) {
        std::ofstream o(opt.out);
        o << "{\n  \"server\": \"" << server << "\",\n  \"fsync\": \"" << fsync << "\",\n  \"synchronous_commit\": \""
          << sync_commit << "\",\n  \"seconds\": " << opt.seconds << ",\n  \"repetitions\": " << opt.repetitions
          << ",\n  \"rows\": " << opt.rows << ",\n  \"loadavg_before\": \"" << load_before
          << "\",\n  \"loadavg_after\": \"" << loadavg() << "\",\n  \"series\": [\n";
        for (std::size_t i = 0; i < series.size(); ++i) o << series[i] << (i + 1 < series.size() ? ",\n" : "\n");
        o << "  ]\n}\n";
        if (!o) throw std::runtime_error("cannot write " + opt.out);
        std::printf("wrote %s\n", opt.out.c_str());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (a == "--smoke") {
            opt.smoke = true;
            opt.seconds = 0.2;
            opt.warmup = 0.05;
            opt.repetitions = 1;
            opt.connections = {1, 4};
            opt.rows = 5'000;
        } else if (a == "--seconds" && v) {
            opt.seconds = std::atof(argv[++i]);
        } else if (a == "--repetitions" && v) {
            opt.repetitions = static_cast<unsigned>(std::atoi(argv[++i]));
        } else if (a == "--rows" && v) {
            opt.rows = static_cast<unsigned>(std::atoi(argv[++i]));
        } else if (a == "--out" && v) {
            opt.out = argv[++i];
        } else if (a == "--connections" && v) {
            opt.connections.clear();
            std::stringstream in(argv[++i]);
            for (std::string n; std::getline(in, n, ',');) opt.connections.push_back(static_cast<unsigned>(std::atoi(n.c_str())));
        } else {
            std::fprintf(stderr, "usage: addrpool-pg-bench [--seconds S] [--repetitions R] [--connections 1,8,32] "
                                 "[--rows N] [--out FILE] [--smoke]\n");
            return 2;
        }
    }
    if (opt.seconds <= 0 || opt.repetitions < 1 || opt.connections.empty() || opt.rows < 100 ||
        std::any_of(opt.connections.begin(), opt.connections.end(), [](unsigned c) { return c < 1 || c > 100; })) {
        std::fprintf(stderr, "addrpool-pg-bench: arguments out of range\n");
        return 2;
    }
    try {
        return run(opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "addrpool-pg-bench: %s\n", e.what());
        return 1;
    }
}
