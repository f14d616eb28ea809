// The stress ledger: writing, reading, and the checks (see stress_ledger.hpp).
#include "stress_ledger.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <unordered_map>

namespace addrpool::pgstress {

std::int64_t monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

LedgerWriter::LedgerWriter(const std::string& path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("ledger " + path + ": " + std::strerror(errno));
}

LedgerWriter::~LedgerWriter() {
    if (fd_ >= 0) ::close(fd_);
}

void LedgerWriter::append(const Record& r) {
    // One write per record: O_APPEND makes concurrent appends land whole.
    const ssize_t n = ::write(fd_, &r, sizeof r);
    if (n != static_cast<ssize_t>(sizeof r)) throw std::runtime_error("ledger write failed");
}

std::vector<Record> read_ledger(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<Record> out;
    Record r{};
    while (in.read(reinterpret_cast<char*>(&r), sizeof r)) out.push_back(r);
    return out;
}

namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

struct Holding {
    std::uint32_t index = 0;
    std::uint16_t worker = 0;
    std::uint64_t ticket = 0;
    std::int64_t s = 0, r = 0;  // reserve call start, return
    std::int64_t e = kNever;    // the holding ends: its ending record, or the kill
    std::int64_t done = kNever; // the call that ended it returned (e for abandon and kill)
    bool ended = false, killed = false;
    Op op = Op::abandon;
    Kind result = Kind::ending;  // the ending call's result record (ending = none)
    bool tainted = false;        // an untargeted call of another holder may have hit it
    // Live (provably still holding its reservation) on [r, live_end): until
    // it ended, and not past s + ttl, from when a sweep may free it.
    std::int64_t live_end(std::int64_t ttl) const noexcept { return std::min(e, s + ttl); }
    // Its ending call acts on the index, not on its own ticket (release by
    // index, mark by index or address) and may have run (true or unknown).
    bool untargeted() const noexcept {
        return (op == Op::release_index || op == Op::mark_index || op == Op::mark_address) &&
               (result == Kind::released || result == Kind::marked || result == Kind::end_unknown);
    }
};

std::string describe(const Holding& h) {
    return "ticket " + std::to_string(h.ticket) + " (worker " + std::to_string(h.worker) + ", reserve " +
           std::to_string(h.s) + ".." + std::to_string(h.r) + ", end " + std::to_string(h.e) + " ns)";
}

}  // namespace

CheckResult check_ledger(const std::vector<Record>& records, const RunFacts& facts) {
    CheckResult out;
    const std::int64_t ttl = facts.ttl_ns;
    const auto violation = [&](std::string v) {
        if (out.violations.size() < 50) out.violations.push_back(std::move(v));
        else if (out.violations.size() == 50) out.violations.push_back("(more violations not listed)");
    };
    std::unordered_map<std::uint64_t, Holding> by_ticket;
    for (const Record& rec : records) {
        if (rec.kind == Kind::reserved) {
            ++out.handouts;
            Holding h;
            h.index = rec.index;
            h.worker = rec.worker;
            h.ticket = rec.ticket;
            h.s = rec.t0;
            h.r = rec.t1;
            if (!by_ticket.emplace(rec.ticket, h).second) {
                violation("ticket " + std::to_string(rec.ticket) + " was handed out twice");
            }
        } else if (rec.kind == Kind::swept) {
            out.swept += rec.extra;
        } else if (rec.kind == Kind::unavailable) {
            ++out.unavailable;
        }
    }
    // Used marks that returned true: index → the mark's return time.
    std::unordered_map<std::uint32_t, std::int64_t> marked_at;
    for (const Record& rec : records) {
        if (rec.kind == Kind::reserved || rec.kind == Kind::swept || rec.kind == Kind::unavailable) continue;
        auto it = by_ticket.find(rec.ticket);
        if (it == by_ticket.end()) {
            violation("an end of ticket " + std::to_string(rec.ticket) + " without its hand-out in the ledger");
            continue;
        }
        Holding& h = it->second;
        if (rec.kind == Kind::ending) {
            h.e = h.done = rec.t0;
            h.ended = true;
            h.op = static_cast<Op>(rec.extra);
            if (h.op == Op::abandon) ++out.abandoned;
            continue;
        }
        h.result = rec.kind;
        h.done = rec.t1;
        if (rec.kind == Kind::released) ++out.releases;
        if (rec.kind == Kind::end_unknown) ++out.unknown_ends;
        if (rec.kind == Kind::marked) {
            ++out.marks;
            marked_at.emplace(rec.index, rec.t1);
        }
    }
    // Holdings the ledger never ended: their process was killed (they end at
    // the kill), or the worker broke its promise to end every holding.
    std::unordered_map<std::uint32_t, std::vector<Holding*>> by_index;
    for (auto& [ticket, h] : by_ticket) {
        ++out.holdings;
        if (!h.ended) {
            auto k = facts.killed_at.find(h.worker);
            if (k == facts.killed_at.end()) {
                violation("holding " + describe(h) + " was never ended by its (not killed) worker");
                continue;
            }
            h.e = h.done = k->second;
            h.killed = true;
            ++out.killed_holdings;
        }
        if (h.e - h.s >= ttl / 2) ++out.long_holdings;
        by_index[h.index].push_back(&h);
    }
    // Release by index and mark act on whoever holds the index when they
    // run. From a holder whose own reservation may be gone by then (it may
    // have expired: the call returned after s + ttl; or it was hit itself),
    // such a call may free or mark another holder's reservation: that is
    // the calls' contract, not a fault of the pool. Taint every holding such
    // a call may have hit, to a fixed point.
    for (bool changed = true; changed;) {
        changed = false;
        for (auto& [index, hs] : by_index) {
            for (Holding* x : hs) {
                if (!x->untargeted() || !(x->tainted || x->done >= x->s + ttl)) continue;
                for (Holding* h : hs) {
                    if (h == x || h->tainted) continue;
                    if (x->e < h->done && h->r < x->done) {  // x's call ran while h held the index
                        h->tainted = true;
                        changed = true;
                    }
                }
            }
        }
    }
    for (auto& [index, hs] : by_index) {
        std::sort(hs.begin(), hs.end(), [](const Holding* a, const Holding* b) { return a->r < b->r; });
        const Holding* latest = nullptr;  // the earlier holding that stays live the longest
        for (const Holding* h : hs) {
            if (h->tainted) ++out.excused;
            // Its release or mark found the reservation gone while it was live.
            if ((h->result == Kind::release_false || h->result == Kind::mark_false) && h->done < h->s + ttl &&
                !h->tainted) {
                violation("index " + std::to_string(index) + ": the live holder " + describe(*h) +
                          " found its reservation gone at its " +
                          (h->result == Kind::mark_false ? "mark" : "release"));
            }
            if (latest != nullptr && h->r < latest->live_end(ttl) && !latest->tainted) {
                violation("index " + std::to_string(index) + " had two live holders: " + describe(*latest) + " and " +
                          describe(*h));
            }
            if (latest == nullptr || h->live_end(ttl) > latest->live_end(ttl)) latest = h;
            // No hand-out may begin after a used mark of the index returned.
            auto m = marked_at.find(index);
            if (m != marked_at.end() && h->s > m->second) {
                violation("index " + std::to_string(index) + " was handed out again (" + describe(*h) +
                          ") after it was marked used");
            }
        }
    }
    for (const auto& [index, at] : marked_at) {
        if (!facts.used_in_db.count(index)) {
            violation("the used mark of index " + std::to_string(index) + " returned true but is not in the database");
        }
    }
    return out;
}

}  // namespace addrpool::pgstress
