// Saving and loading files (issue 5, issue 12 items 6–8): atomic replacement
// and stale temporaries, every fault at every step of save (through the seam
// in lib/persist/atomic_file_seam.hpp), the order of concurrent saves, and
// loading a hostile file under an address-space limit.
#include <addrpool/addrpool.hpp>

#include "persist/atomic_file.hpp"
#include "persist/atomic_file_seam.hpp"
#include "persist/codec.hpp"
#include "persist_support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define ADDRPOOL_UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define ADDRPOOL_UNDER_SANITIZER 1
#endif
#endif
#ifndef ADDRPOOL_UNDER_SANITIZER
#define ADDRPOOL_UNDER_SANITIZER 0
#endif

extern char** environ;

using namespace persist_test;
namespace seam = addrpool::detail::atomic_file;

namespace {

AddressPool loaded(const fs::path& file) {
    auto back = AddressPool::load(file);
    if (!back) FAIL(errc_name(back.error().code) << ": " << back.error().message);
    return std::move(back).value();
}

// ---- the seam: faults at each step of save ---------------------------------------

enum class Step { create, write, fsync_file, rename, open_dir, fsync_dir, read };

// What the hooked calls do. Set by the test thread before it starts a save
// (or the threads that save); read by the saving threads.
struct Plan {
    std::optional<Step> step;   // the step whose calls fail
    int err = 0;                // with this errno
    int times = 0;              // this many calls (then they pass)
    std::size_t max_write = 0;  // short writes: at most 1 + (call % max_write) bytes (0: whole)
    // The ordering tests: the first fsync of a temporary file counts `reached`
    // down, then waits for `release`.
    std::latch* reached = nullptr;
    std::latch* release = nullptr;
};
Plan g_plan;
std::atomic<int> g_injected{0};     // faults injected so far
std::atomic<int> g_writes{0};       // write() calls so far
std::atomic<int> g_file_fsyncs{0};  // fsyncs of temporary files so far
const seam::Syscalls g_real = seam::real_syscalls();

bool inject(Step s) {
    if (!g_plan.step || *g_plan.step != s) return false;
    // Faults are injected by one saving thread at a time; the test reads the
    // counter after that save returned.
    if (g_injected.load() >= g_plan.times) return false;
    g_injected.fetch_add(1);
    errno = g_plan.err;
    return true;
}

bool is_directory(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

int hooked_open(const char* p, int flags, mode_t mode) {
    if ((flags & O_CREAT) != 0 && inject(Step::create)) return -1;
    if ((flags & O_DIRECTORY) != 0 && inject(Step::open_dir)) return -1;
    return g_real.open(p, flags, mode);
}
ssize_t hooked_write(int fd, const void* buf, std::size_t n) {
    const int call = g_writes.fetch_add(1);
    if (inject(Step::write)) return -1;
    if (g_plan.max_write != 0) n = std::min(n, 1 + static_cast<std::size_t>(call) % g_plan.max_write);
    return g_real.write(fd, buf, n);
}
ssize_t hooked_read(int fd, void* buf, std::size_t n) {
    if (inject(Step::read)) return -1;
    return g_real.read(fd, buf, n);
}
int hooked_fsync(int fd) {
    const bool dir = is_directory(fd);
    if (!dir && g_plan.reached != nullptr && g_file_fsyncs.fetch_add(1) == 0) {
        g_plan.reached->count_down();
        g_plan.release->wait();
    }
    if (inject(dir ? Step::fsync_dir : Step::fsync_file)) return -1;
    return g_real.fsync(fd);
}
int hooked_rename(const char* from, const char* to) {
    if (inject(Step::rename)) return -1;
    return g_real.rename(from, to);
}

// Installs the hooked table for its scope with `plan`, and restores the real
// one. Construct and destroy it while no save or load runs.
struct ScopedSeam {
    explicit ScopedSeam(Plan plan) {
        g_plan = plan;
        g_injected = 0;
        g_writes = 0;
        g_file_fsyncs = 0;
        seam::Syscalls t = g_real;
        t.open = hooked_open;
        t.write = hooked_write;
        t.read = hooked_read;
        t.fsync = hooked_fsync;
        t.rename = hooked_rename;
        seam::syscalls() = t;
    }
    ~ScopedSeam() {
        seam::syscalls() = g_real;
        g_plan = Plan{};
    }
    ScopedSeam(const ScopedSeam&) = delete;
    ScopedSeam& operator=(const ScopedSeam&) = delete;
};

struct StepCase {
    Step step;
    const char* phrase;  // in the error message
    bool renamed;        // the step comes after the rename: the file holds the new save
};
const StepCase kSteps[] = {
    {Step::create, "cannot create the temporary file", false},
    {Step::write, "cannot write the temporary file", false},
    {Step::fsync_file, "cannot fsync the temporary file", false},
    {Step::rename, "cannot rename the temporary file", false},
    {Step::open_dir, "saved, but cannot open the directory", true},
    {Step::fsync_dir, "saved, but cannot fsync the directory", true},
};

// A pool with three generated entries, saved once to `file` (the previous
// file of each fault case), then index 1 marked used: its next save differs.
AddressPool saved_pool(const fs::path& file) {
    auto pool = external_pool();
    REQUIRE(pool.generate_addresses(3, private_source(), true));
    REQUIRE(pool.save(file));
    REQUIRE(pool.mark_index_used(1));
    return pool;
}

}  // namespace

// ---- save / load ------------------------------------------------------------

TEST_CASE("save replaces the file and leaves no temporary file behind", "[persist][save]") {
    TempDir tmp;
    auto pool = external_pool();
    REQUIRE(pool.generate_addresses(3, private_source(), true));
    const fs::path file = tmp.dir / "pool.bin";
    REQUIRE(pool.save(file));
    CHECK(pool.mark_index_used(1));
    REQUIRE(pool.save(file));
    CHECK(tmp.entries() == std::vector<std::string>{"pool.bin"});
    CHECK(read_file(file) == pool.serialize());
    CHECK((fs::status(file).permissions() & fs::perms::others_read) == fs::perms::none);
    auto back = AddressPool::load(file);
    REQUIRE(back);
    CHECK(back->state(1) == AddressState::used);
}

TEST_CASE("a base path the format cannot hold is refused, not written half", "[persist][save]") {
    // 255 components is the deepest a path (and the format) goes; the pool
    // constructor cannot fail, so a 256-component base path reaches save.
    TempDir tmp;
    for (std::size_t n : {255u, 256u}) {
        AddressPool pool(DerivationPath(std::vector<std::uint32_t>(n, 1)), PoolType::external, 20, Network::testnet);
        const fs::path file = tmp.dir / ("pool-" + std::to_string(n) + ".bin");
        auto saved = pool.save(file);
        CAPTURE(n);
        if (n == 255) {
            REQUIRE(saved);
            auto back = AddressPool::load(file);
            REQUIRE(back);
            CHECK(back->base_path() == pool.base_path());
        } else {
            REQUIRE(!saved);
            CHECK(saved.error().code == Errc::invalid_argument);
            CHECK(!fs::exists(file));
            CHECK_THROWS_AS(pool.serialize(), std::length_error);
        }
    }
    CHECK(tmp.entries() == std::vector<std::string>{"pool-255.bin"});
}

TEST_CASE("save removes leftovers of dead writers and nothing else", "[persist][save]") {
    TempDir tmp;
    const std::string me = std::to_string(::getpid());
    auto touch = [&](const std::string& name) { std::ofstream(tmp.dir / name) << "partial"; };
    // Removed: our own pid with its flock free (a previous process that had
    // our pid, e.g. a restarted container's pid 1).
    const std::string own_leftover = "pool.bin.tmp-" + me + "-0123456789abcdef";
    // Kept: our pid but locked (a live writer in another pid namespace
    // would hold its flock the same way).
    const std::string locked = "pool.bin.tmp-" + me + "-fedcba9876543210";
    // Kept: not the exact form save() writes, or not a regular file.
    const std::vector<std::string> foreign = {
        "pool.bin.tmp-2024-05-01",                          // a dated backup
        "pool.bin.tmp-" + me + "-0123456789ABCDEF",          // upper-case hex
        "pool.bin.tmp-" + me + "-0123456789abcde",           // 15 hex digits
        "pool.bin.tmp-0" + me + "-0123456789abcdef",         // leading zero
        "pool.bin.tmp-4294967296-0123456789abcdef",          // pid beyond any pid_max
        "other.bin.tmp-" + me + "-0123456789abcdef",         // another target
    };
    for (const auto& n : foreign) touch(n);
    touch(own_leftover);
    touch(locked);
    const std::string dir_name = "pool.bin.tmp-" + me + "-00000000000000aa";
    fs::create_directory(tmp.dir / dir_name);
    const std::string link_name = "pool.bin.tmp-" + me + "-00000000000000bb";
    fs::create_symlink(tmp.dir / own_leftover, tmp.dir / link_name);
    const int held = ::open((tmp.dir / locked).c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(held >= 0);
    REQUIRE(::flock(held, LOCK_EX) == 0);

    // A pid that names no process here: a child that exited and was reaped.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) ::_exit(0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    const bool child_gone = ::kill(child, 0) != 0 && errno == ESRCH;  // false only if the pid was reused at once
    const std::string dead = "pool.bin.tmp-" + std::to_string(child) + "-0123456789abcdef";
    touch(dead);

    auto pool = external_pool();
    REQUIRE(pool.save(tmp.dir / "pool.bin"));
    ::close(held);

    std::vector<std::string> want = foreign;
    want.insert(want.end(), {"pool.bin", locked, dir_name, link_name});
    if (!child_gone) want.push_back(dead);
    std::sort(want.begin(), want.end());
    CHECK(tmp.entries() == want);
    CHECK(fs::is_directory(tmp.dir / dir_name));
}

TEST_CASE("save to a relative path writes into the current directory", "[persist][save]") {
    TempDir tmp;
    const fs::path old = fs::current_path();
    fs::current_path(tmp.dir);
    auto pool = external_pool();
    auto saved = pool.save("relative.bin");
    fs::current_path(old);
    REQUIRE(saved);
    CHECK(tmp.entries() == std::vector<std::string>{"relative.bin"});
}

TEST_CASE("loading a missing file or a directory is io_error", "[persist][io]") {
    TempDir tmp;
    auto missing = AddressPool::load(tmp.dir / "nope.bin");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == Errc::io_error);
    CHECK(missing.error().message.find("nope.bin") != std::string::npos);
    auto dir = AddressPool::load(tmp.dir);
    REQUIRE_FALSE(dir);
    CHECK(dir.error().code == Errc::io_error);
}

TEST_CASE("loading a damaged file reports the format error, not io_error", "[persist][io]") {
    TempDir tmp;
    std::string bytes = external_pool().serialize();
    bytes.back() = static_cast<char>(bytes.back() ^ 1);
    std::ofstream(tmp.dir / "bad.bin", std::ios::binary) << bytes;
    auto r = AddressPool::load(tmp.dir / "bad.bin");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::corrupt_data);
}

TEST_CASE("saving into a missing directory is io_error and leaves nothing behind", "[persist][io]") {
    TempDir tmp;
    auto pool = external_pool();
    auto r = pool.save(tmp.dir / "missing" / "pool.bin");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::io_error);
    CHECK(r.error().message.find("No such file or directory") != std::string::npos);
    CHECK(tmp.entries().empty());
}

TEST_CASE("saving over a directory is io_error and removes its temporary file", "[persist][io]") {
    TempDir tmp;
    fs::create_directory(tmp.dir / "taken");
    fs::create_directory(tmp.dir / "taken" / "inside");  // a non-empty directory cannot be replaced
    auto r = external_pool().save(tmp.dir / "taken");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::io_error);
    CHECK(tmp.entries() == std::vector<std::string>{"taken"});
}

// ---- the atomic-file module on its own --------------------------------------------

TEST_CASE("write_file replaces a file whole with any bytes, and read_file reads them back", "[persist][atomic-file]") {
    TempDir tmp;
    const fs::path file = tmp.dir / "data";
    const std::string bytes("not a pool file\0\xff", 17);
    REQUIRE(seam::write_file(file, bytes));
    REQUIRE(seam::write_file(file, ""));  // replaced: now empty
    auto empty = seam::read_file(file);
    REQUIRE(empty);
    CHECK(empty->empty());
    REQUIRE(seam::write_file(file, bytes));
    auto back = seam::read_file(file);
    REQUIRE(back);
    CHECK(*back == bytes);
    CHECK(tmp.entries() == std::vector<std::string>{"data"});
    CHECK((fs::status(file).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
}

TEST_CASE("read_file refuses a FIFO at once instead of waiting for a writer", "[persist][atomic-file][io]") {
    TempDir tmp;
    const fs::path fifo = tmp.dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto r = seam::read_file(fifo);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::io_error);
    CHECK(r.error().message.find("not a regular file") != std::string::npos);
    auto pool = AddressPool::load(fifo);
    REQUIRE_FALSE(pool);
    CHECK(pool.error().code == Errc::io_error);
}

// ---- faults at each step of save (issue 12 item 8) ------------------------------

TEST_CASE("ENOSPC or EIO at any step of save is io_error naming the step; the previous file stays whole; "
          "no temporary is left",
          "[persist][save][faults]") {
    for (const int err : {ENOSPC, EIO}) {
        for (const StepCase& c : kSteps) {
            INFO(c.phrase << " / " << std::strerror(err));
            TempDir tmp;
            const fs::path file = tmp.dir / "pool.bin";
            auto pool = saved_pool(file);
            const std::string before = read_file(file);
            const std::string after = pool.serialize();
            REQUIRE(before != after);
            {
                Plan plan;
                plan.step = c.step;
                plan.err = err;
                plan.times = 1000;  // the step keeps failing: a second attempt would fail too
                ScopedSeam seam_in_use(plan);
                auto r = pool.save(file);
                REQUIRE_FALSE(r);
                CHECK(r.error().code == Errc::io_error);
                CHECK(r.error().message.find(c.phrase) != std::string::npos);
                CHECK(r.error().message.find(std::strerror(err)) != std::string::npos);
                CHECK(g_injected == 1);  // reported at once, not retried
            }
            CHECK(read_file(file) == (c.renamed ? after : before));
            CHECK(tmp.entries() == std::vector<std::string>{"pool.bin"});
            // Once the fault is gone the same pool saves again.
            REQUIRE(pool.save(file));
            CHECK(read_file(file) == after);
        }
    }
}

TEST_CASE("EINTR at any step of save is retried and the save succeeds", "[persist][save][faults]") {
    for (const StepCase& c : kSteps) {
        INFO(c.phrase);
        TempDir tmp;
        const fs::path file = tmp.dir / "pool.bin";
        auto pool = saved_pool(file);
        {
            Plan plan;
            plan.step = c.step;
            plan.err = EINTR;
            plan.times = 3;
            ScopedSeam seam_in_use(plan);
            REQUIRE(pool.save(file));
            CHECK(g_injected == 3);
        }
        CHECK(read_file(file) == pool.serialize());
        CHECK(tmp.entries() == std::vector<std::string>{"pool.bin"});
    }
}

TEST_CASE("short writes, with EINTR between them, still write the whole file", "[persist][save][faults]") {
    TempDir tmp;
    const fs::path file = tmp.dir / "pool.bin";
    auto pool = saved_pool(file);
    REQUIRE(pool.set_label(*pool.address_at(2), std::string(500, 'L')));
    const std::string want = pool.serialize();
    {
        Plan plan;
        plan.step = Step::write;
        plan.err = EINTR;
        plan.times = 5;
        plan.max_write = 7;  // 1, 2, ..., 7, 1, 2, ... bytes per call
        ScopedSeam seam_in_use(plan);
        REQUIRE(pool.save(file));
        CHECK(g_injected == 5);
        CHECK(static_cast<std::size_t>(g_writes.load()) >= want.size() / 4);  // the writes were short
    }
    CHECK(read_file(file) == want);
    CHECK(tmp.entries() == std::vector<std::string>{"pool.bin"});
    CHECK(loaded(file).label(*pool.address_at(2)) == std::string(500, 'L'));
}

TEST_CASE("load retries EINTR on read and reports EIO as io_error", "[persist][io][faults]") {
    TempDir tmp;
    const fs::path file = tmp.dir / "pool.bin";
    auto pool = saved_pool(file);
    const std::string bytes = read_file(file);
    Plan plan;
    plan.step = Step::read;
    plan.err = EINTR;
    plan.times = 2;
    {
        ScopedSeam seam_in_use(plan);
        auto back = AddressPool::load(file);
        REQUIRE(back);
        CHECK(back->serialize() == bytes);
        CHECK(g_injected == 2);
    }
    plan.err = EIO;
    {
        ScopedSeam seam_in_use(plan);
        auto back = AddressPool::load(file);
        REQUIRE_FALSE(back);
        CHECK(back.error().code == Errc::io_error);
        CHECK(back.error().message.find("cannot read") != std::string::npos);
        CHECK(back.error().message.find(std::strerror(EIO)) != std::string::npos);
    }
}

// ---- the order of concurrent saves (issue 12 item 6) --------------------------------

// Save A serializes, then waits before its fsync; meanwhile index 5 is marked
// and save B (a newer snapshot) is renamed over `b_path`; then A continues.
// Returns A's result.
Result<void> older_save_finishing_last(AddressPool& pool, const fs::path& a_path, const fs::path& b_path) {
    std::latch reached(1), release(1);
    Plan plan;
    plan.reached = &reached;
    plan.release = &release;
    ScopedSeam seam_in_use(plan);
    std::optional<Result<void>> older;
    std::thread a([&] {
        older = pool.save(a_path);
        // A failed before its fsync (the test fails below): do not leave the
        // main thread waiting, nor hold B's fsync.
        if (g_file_fsyncs.exchange(1) == 0) reached.count_down();
    });
    reached.wait();  // A has its snapshot (index 5 unused) and waits in its first fsync
    CHECK(pool.mark_index_used(5));
    auto newer = pool.save(b_path);  // the second fsync of a temporary: not held
    release.count_down();
    a.join();
    REQUIRE(newer);
    REQUIRE(older);
    return std::move(*older);
}

TEST_CASE("a save whose snapshot is older than the one already renamed succeeds and leaves the newer file",
          "[persist][save][order]") {
    TempDir tmp;
    auto pool = external_pool();
    REQUIRE(pool.generate_addresses(10, private_source(), true));
    const fs::path file = tmp.dir / "pool.bin";
    SECTION("the same path") {
        REQUIRE(older_save_finishing_last(pool, file, file));
    }
    SECTION("another spelling of the same path") {
        REQUIRE(older_save_finishing_last(pool, tmp.dir / "." / "pool.bin", file));
    }
    CHECK(loaded(file).state(5) == AddressState::used);
    CHECK(read_file(file) == pool.serialize());
    CHECK(tmp.entries() == std::vector<std::string>{"pool.bin"});  // the older save removed its temporary
}

TEST_CASE("saves to different files are ordered separately", "[persist][save][order]") {
    TempDir tmp;
    auto pool = external_pool();
    REQUIRE(pool.generate_addresses(10, private_source(), true));
    REQUIRE(older_save_finishing_last(pool, tmp.dir / "a.bin", tmp.dir / "b.bin"));
    CHECK(loaded(tmp.dir / "a.bin").state(5) == AddressState::unused);  // A's own, older snapshot
    CHECK(loaded(tmp.dir / "b.bin").state(5) == AddressState::used);
    CHECK(tmp.entries() == std::vector<std::string>{"a.bin", "b.bin"});
}

TEST_CASE("concurrent saves and used marks: every save leaves a file holding each mark that completed before it "
          "began",
          "[persist][save][order][concurrency]") {
    const std::uint64_t seed = test_seed("concurrent saves and used marks");
    INFO("replay with ADDRPOOL_TEST_SEED=" << seed);
    constexpr int kMarkers = 2, kSavers = 3, kSaves = 6;
    constexpr std::uint32_t kMarksPerSave = 6;  // each marker's pace
    constexpr std::uint32_t kSize = kMarkers * kSavers * kSaves * kMarksPerSave + 32;
    TempDir tmp;
    const fs::path file = tmp.dir / "pool.bin";
    auto pool = external_pool();
    REQUIRE(pool.generate_addresses(kSize, private_source(), true));

    // One logical clock orders mark completions and save starts: stamps are
    // taken with seq_cst fetch_add (a single total order), a mark's after
    // mark_index_used returned, a save's before save() is called. A mark
    // stamped below a save's stamp completed before that save began.
    std::atomic<std::uint64_t> clock{1};
    std::vector<std::atomic<std::uint64_t>> done_at(kSize);  // 0: not marked (yet)
    std::atomic<int> saves_done{0};
    std::atomic<int> savers_left{kSavers};
    std::vector<std::vector<std::string>> problems(kMarkers + kSavers);  // one per thread: Catch2 is not thread-safe
    std::vector<std::uint64_t> began(kSavers * kSaves, 0);
    std::latch start(kMarkers + kSavers);

    std::vector<std::uint32_t> order(kSize);
    for (std::uint32_t i = 0; i < kSize; ++i) order[i] = i;
    std::mt19937_64 shuffle_rng(seed);
    std::shuffle(order.begin(), order.end(), shuffle_rng);

    auto marker = [&](int t) {
        start.arrive_and_wait();
        std::uint32_t marked = 0;
        for (std::size_t k = static_cast<std::size_t>(t); k < order.size(); k += kMarkers) {
            const std::uint32_t i = order[k];
            if (!pool.mark_index_used(i)) {
                problems[static_cast<std::size_t>(t)].push_back("mark_index_used(" + std::to_string(i) + ") false");
                continue;
            }
            done_at[i].store(clock.fetch_add(1));  // seq_cst: see the clock comment
            ++marked;
            // Pace: a few marks per completed save, so marks interleave with
            // every save (waiting for work done, not for time).
            while (saves_done.load() * kMarksPerSave < marked && savers_left.load() > 0) std::this_thread::yield();
        }
    };
    auto saver = [&](int s) {
        std::mt19937_64 rng(seed + 1000 + static_cast<std::uint64_t>(s));
        auto& mine = problems[static_cast<std::size_t>(kMarkers + s)];
        start.arrive_and_wait();
        for (int j = 0; j < kSaves; ++j) {
            // Two spellings of one target, chosen by the seed.
            const fs::path target = rng() % 2 == 0 ? file : tmp.dir / "." / "pool.bin";
            const std::uint64_t stamp = clock.fetch_add(1);  // seq_cst: see the clock comment
            began[static_cast<std::size_t>(s * kSaves + j)] = stamp;
            auto r = pool.save(target);
            saves_done.fetch_add(1);
            if (!r) {
                mine.push_back("save: " + r.error().message);
                continue;
            }
            auto back = AddressPool::load(file);
            if (!back) {
                mine.push_back("load: " + back.error().message);
                continue;
            }
            for (std::uint32_t i = 0; i < kSize; ++i) {
                const std::uint64_t d = done_at[i].load();
                if (d != 0 && d < stamp && back->state(i) != AddressState::used) {
                    mine.push_back("save stamped " + std::to_string(stamp) + ": index " + std::to_string(i) +
                                   " (marked at " + std::to_string(d) + ") is not used in the file");
                }
            }
        }
        savers_left.fetch_sub(1);
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kMarkers; ++t) threads.emplace_back(marker, t);
    for (int s = 0; s < kSavers; ++s) threads.emplace_back(saver, s);
    for (auto& t : threads) t.join();

    for (const auto& list : problems) {
        for (std::size_t k = 0; k < list.size() && k < 5; ++k) FAIL_CHECK(list[k]);
    }
    // After every save returned: the file holds every mark stamped before
    // the last save began, and only marked indices.
    const std::uint64_t last_began = *std::max_element(began.begin(), began.end());
    const auto back = loaded(file);
    std::uint32_t before_last = 0;
    for (std::uint32_t i = 0; i < kSize; ++i) {
        const std::uint64_t d = done_at[i].load();
        if (d != 0 && d < last_began) {
            ++before_last;
            CHECK(back.state(i) == AddressState::used);
        }
        if (back.state(i) == AddressState::used) CHECK(d != 0);
    }
    CHECK(before_last > 0);
    CHECK(tmp.entries() == std::vector<std::string>{"pool.bin"});
}

// ---- a hostile file under an address-space limit (issue 12 item 7) ----------------

namespace {

constexpr rlim_t kAddressSpace = 64u << 20;  // 64 MiB
constexpr std::uint32_t kTop = 0x7fffffffu;    // 2^31 - 1

// A valid, checksummed file of four entries, three of them near 2^31.
std::string far_entries_file() {
    detail::codec::PoolFile f;
    f.network = Network::testnet;
    f.base_path = {44 | hardened_bit, 1 | hardened_bit, hardened_bit, 0};
    f.gap_limit = 20;
    auto hash = [](std::uint32_t n) {
        Hash160 h{};
        for (std::size_t k = 0; k < h.size(); ++k) h[k] = static_cast<std::uint8_t>(n >> (k % 4 * 8)) ^ static_cast<std::uint8_t>(k);
        return h;
    };
    f.entries = {{7, hash(7), false}, {(1u << 30) + 1, hash(2), true}, {kTop - 1, hash(3), true}, {kTop, hash(4), false}};
    f.labels = {{(1u << 30) + 1, "far"}};
    return detail::codec::encode(f);
}

// Runs this test binary's hidden test "[address-space-child]" in a new
// process with ADDRPOOL_AS_FILE and ADDRPOOL_AS_MODE set: a fresh process
// (not a fork of this one, whose threads and heaps may already exceed the
// limit) that sets RLIMIT_AS itself. Returns its wait status; `output` gets
// what it printed.
int run_child(const fs::path& file, const std::string& mode, const fs::path& out, std::string& output) {
    const std::string exe = fs::read_symlink("/proc/self/exe").string();
    std::vector<std::string> env_strings = {"ADDRPOOL_AS_FILE=" + file.string(), "ADDRPOOL_AS_MODE=" + mode};
    for (char** e = environ; *e != nullptr; ++e) {
        if (std::strncmp(*e, "ADDRPOOL_AS_", 12) != 0) env_strings.emplace_back(*e);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string arg0 = exe, arg1 = "[address-space-child]";
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    output = read_file(out);
    return status;
}

void check_in_child(const char* mode) {
    if (ADDRPOOL_UNDER_SANITIZER) {
        WARN("skipped under a sanitizer: its runtime reserves terabytes of address space and cannot run under "
             "RLIMIT_AS");
        return;
    }
    TempDir tmp;
    const fs::path file = tmp.dir / "far.bin";
    write_file(file, far_entries_file());
    std::string output;
    const int status = run_child(file, mode, tmp.dir / "child.out", output);
    INFO("child output:\n" << output);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(output.find("All tests passed") != std::string::npos);  // it ran the child test, and it passed
}

}  // namespace

TEST_CASE("(child process of the address-space tests)", "[.][address-space-child]") {
    const char* file = std::getenv("ADDRPOOL_AS_FILE");
    const char* mode_env = std::getenv("ADDRPOOL_AS_MODE");
    REQUIRE(file != nullptr);
    REQUIRE(mode_env != nullptr);
    const std::string mode = mode_env;
    const std::string expected = far_entries_file();
    const struct rlimit lim {kAddressSpace, kAddressSpace};
    REQUIRE(::setrlimit(RLIMIT_AS, &lim) == 0);
    try {
        if (mode == "parse") {
            auto bytes = seam::read_file(file);
            REQUIRE(bytes);
            auto parsed = detail::codec::parse(*bytes);
            REQUIRE(parsed);
            CHECK(parsed->entries.size() == 4);
            CHECK(detail::codec::encode(*parsed) == expected);
            return;
        }
        auto pool = AddressPool::load(file);
        if (!pool) {  // refused: allowed, with a clear error
            std::printf("refused: %s: %s\n", errc_name(pool.error().code), pool.error().message.c_str());
            CHECK(pool.error().code != Errc::io_error);
            CHECK_FALSE(pool.error().message.empty());
            return;
        }
        std::printf("loaded\n");
        CHECK(pool->state(7) == AddressState::unused);
        CHECK(pool->state(kTop - 1) == AddressState::used);
        CHECK(pool->state(kTop) == AddressState::unused);
        CHECK(pool->state(8) == AddressState::unused);
        REQUIRE(pool->address_at((1u << 30) + 1));
        CHECK(pool->label(*pool->address_at((1u << 30) + 1)) == std::string("far"));
        CHECK(pool->index_of(*pool->address_at(kTop)) == kTop);
        CHECK(pool->serialize() == expected);
    } catch (const std::bad_alloc&) {
        FAIL("ran out of the " << (kAddressSpace >> 20) << " MiB of address space");
    }
}

TEST_CASE("the codec reads a file with entries near 2^31 in 64 MiB of address space", "[persist][address-space]") {
    check_in_child("parse");
}

// The slot array allocates in proportion to what is used (2^16-slot chunks
// above 2^16), not to the highest index.
TEST_CASE("a file with entries near 2^31 loads, or is refused with a clear error, in 64 MiB of address space",
          "[persist][address-space]") {
    check_in_child("load");
}
