// The cross-process stress program's ledger: every worker process appends
// what it did, with CLOCK_MONOTONIC times (one clock for every process on
// the host), to its own file; the parent reads them all after the run and
// checks them against each other and against the database.
//
// A record is written with one write(2) of 40 bytes to a file opened
// O_APPEND: a hand-out after reserve returned (so a holding starts no
// earlier than the ledger says), the end of a holding before the call that
// ends it is sent (so it ends no later than the ledger says), results after
// their call. A worker killed with SIGKILL loses at most the record of the
// call it was in, which only makes the check see less, never see something
// that did not happen.
#ifndef ADDRPOOL_TEST_PG_STRESS_LEDGER_HPP
#define ADDRPOOL_TEST_PG_STRESS_LEDGER_HPP

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace addrpool::pgstress {

enum class Kind : std::uint8_t {
    reserved = 1,       // reserve returned (index, ticket); t0 call start, t1 return
    ending = 2,         // written before the call that ends a holding (extra: the Op); t0
    released = 3,       // that call (a release by ticket or index) returned true; t0 start, t1 return
    release_false = 4,  // ... returned false: the holder's reservation was gone
    marked = 5,         // that call (mark_index_used / mark_used) returned true: used, durably
    mark_false = 6,     // ... returned false
    end_unknown = 7,    // that call failed with backend_unavailable: outcome unknown
    swept = 8,          // a sweep freed `extra` reservations
    unavailable = 9,    // a reserve or sweep failed with backend_unavailable
};

// How a holding ends (Record::extra of an `ending` record).
enum class Op : std::uint8_t { release_ticket = 1, release_index = 2, mark_index = 3, mark_address = 4, abandon = 5 };

struct Record {
    Kind kind;
    std::uint8_t pad = 0;
    std::uint16_t worker = 0;  // the worker process's number
    std::uint32_t index = 0;
    std::uint64_t ticket = 0;
    std::int64_t t0 = 0;  // CLOCK_MONOTONIC ns: call start (for ends: the moment the holding ends)
    std::int64_t t1 = 0;  // CLOCK_MONOTONIC ns: return
    std::uint64_t extra = 0;
};
static_assert(sizeof(Record) == 40);

std::int64_t monotonic_ns();

// Appends records to one worker's ledger file.
class LedgerWriter {
public:
    explicit LedgerWriter(const std::string& path);
    ~LedgerWriter();
    LedgerWriter(const LedgerWriter&) = delete;
    LedgerWriter& operator=(const LedgerWriter&) = delete;
    void append(const Record& r);  // thread-safe: one write(2) per record

private:
    int fd_ = -1;
};

// Reads one ledger file (a trailing partial record, from a kill, is ignored).
std::vector<Record> read_ledger(const std::string& path);

// What the parent knows: which worker was killed and when.
struct RunFacts {
    std::map<std::uint16_t, std::int64_t> killed_at;  // worker → CLOCK_MONOTONIC ns of the SIGKILL
    std::int64_t ttl_ns = 0;                           // the sweeps' TTL
    std::set<std::uint32_t> used_in_db;                // every index used in the database after the run
};

struct CheckResult {
    std::uint64_t handouts = 0, releases = 0, marks = 0, abandoned = 0, unknown_ends = 0, swept = 0, unavailable = 0;
    std::uint64_t holdings = 0, killed_holdings = 0, long_holdings = 0;
    std::uint64_t excused = 0;  // holdings an untargeted call of an expired holding may have hit
    std::vector<std::string> violations;
};

// The checks of the ledger: never two live holders of one index (a holding
// is live from its reserve's return to the start of the call that ends it,
// or the kill of its process; a holding as old as the TTL may have been
// swept and is not counted live past that), no index handed out after a
// used mark of it returned, tickets unique, a live holding's release or mark
// never finds it gone, and every used mark that returned true is in the
// database. Excused: a holding that a release by index or a used mark of
// another, possibly expired holding of the same index may have hit while it
// ran (those calls act on whoever holds the index: that is their contract).
CheckResult check_ledger(const std::vector<Record>& records, const RunFacts& facts);

}  // namespace addrpool::pgstress

#endif  // ADDRPOOL_TEST_PG_STRESS_LEDGER_HPP
