// addrpool-stress: scenarios S1–S6 against the lock-free AddressPool.
//
//   addrpool-stress [--scenario S1|S2|S3|S4|S5|S6|all] [--seed N] [--iterations N]
//                   [--threads N] [--thread-per-task] [--broken-pool | --skipping-pool [--expect-failure]]
//                   [--strict-mark | --lenient-mark]
//
// --iterations (or ADDRPOOL_STRESS_ITERS) scales every scenario: S1 rounds of
// 10,000 hand-outs, S2 blocks of 50,000 hand-outs, S3 rounds of 4 × 512,
// S4 blocks of 20,000 hand-outs, S5 blocks of 20 snapshots, S6 blocks of
// 100,000 hand-outs.
// --broken-pool runs S1, S2 and S6 against a toy pool that hands an index
// out twice; --skipping-pool runs S6 against one that leaves holes
// (broken_pool.hpp).
// Exit: 0 all invariants held; 1 a violation (the first one is described);
// 2 bad usage or setup. With --expect-failure: 0 only if the toy's bug was
// caught (duplicates for --broken-pool, holes for --skipping-pool).
#include "common.hpp"

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

namespace {

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "addrpool-stress: %s\n"
                 "usage: addrpool-stress [--scenario S1..S6|all] [--seed N] [--iterations N] [--threads N]\n"
                 "                       [--thread-per-task] [--broken-pool | --skipping-pool] [--expect-failure]\n"
                 "                       [--strict-mark | --lenient-mark]\n",
                 why);
    std::exit(2);
}

std::uint64_t number(const char* s) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s, &end, 0);
    if (end == s || *end != '\0') usage("not a number");
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    stress::Options o;
    std::string scenario = "all";
    bool expect_failure = false;
    bool have_seed = false;
    if (const char* e = std::getenv("ADDRPOOL_STRESS_ITERS")) o.iterations = number(e);
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage("missing value");
            return argv[++i];
        };
        if (a == "--scenario") scenario = value();
        else if (a == "--seed") o.seed = number(value()), have_seed = true;
        else if (a == "--iterations") o.iterations = number(value());
        else if (a == "--threads") o.threads = static_cast<unsigned>(number(value()));
        else if (a == "--thread-per-task") o.thread_per_task = true;
        else if (a == "--broken-pool") o.broken_pool = true;
        else if (a == "--skipping-pool") o.skipping_pool = true;
        else if (a == "--strict-mark") o.strict_mark = true;
        else if (a == "--lenient-mark") o.strict_mark = false;  // diagnosis: count, retry, report
        else if (a == "--expect-failure") expect_failure = true;
        else usage(("unknown argument " + a).c_str());
    }
    if (o.iterations == 0) usage("--iterations must be >= 1");
    if (o.broken_pool && o.threads == 1) usage("--broken-pool needs at least 2 threads: its race needs two claimers");
    if (o.broken_pool && o.skipping_pool) usage("--broken-pool and --skipping-pool exclude each other");
    if (!have_seed) o.seed = std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32);

    using Run = stress::Summary (*)(const stress::Options&);
    const std::pair<const char*, Run> all[] = {{"S1", stress::run_s1}, {"S2", stress::run_s2},
                                               {"S3", stress::run_s3}, {"S4", stress::run_s4},
                                               {"S5", stress::run_s5}, {"S6", stress::run_s6}};
    bool any = false, ok = true;
    std::uint64_t duplicates = 0, holes = 0;
    for (const auto& [name, run] : all) {
        if (scenario != "all" && scenario != name) continue;
        const bool s6 = std::strcmp(name, "S6") == 0;
        if (o.broken_pool && std::strcmp(name, "S1") != 0 && std::strcmp(name, "S2") != 0 && !s6) continue;
        if (o.skipping_pool && !s6) continue;
        any = true;
        std::printf("%s: seed %llu (replay with --scenario %s --seed %llu --iterations %llu)\n", name,
                    static_cast<unsigned long long>(o.seed), name, static_cast<unsigned long long>(o.seed),
                    static_cast<unsigned long long>(o.iterations));
        std::fflush(stdout);
        const stress::Stopwatch clock;
        const stress::Summary s = run(o);
        std::printf("%s %s: operations %llu, hand-outs %llu, duplicates %llu, wall %.2f s%s%s\n", name,
                    s.skipped ? "SKIPPED" : (s.ok ? "ok" : "FAILED"), static_cast<unsigned long long>(s.operations),
                    static_cast<unsigned long long>(s.handouts), static_cast<unsigned long long>(s.duplicates),
                    clock.seconds(), s.note.empty() ? "" : " — ", s.note.c_str());
        std::fflush(stdout);
        ok = ok && s.ok;
        duplicates += s.duplicates;
        holes += s.holes;
    }
    if (!any) usage("no such scenario");
    if (expect_failure) {
        const char* what = o.skipping_pool ? "holes" : "duplicates";
        const bool caught = o.skipping_pool ? holes != 0 : duplicates != 0;
        std::printf("expect-failure: the checker %s %s%s\n", caught ? "reported" : "found NO", what,
                    caught ? ", as it must" : " in a broken pool");
        return caught ? 0 : 1;
    }
    return ok ? 0 : 1;
}
