#include "spec.hpp"

#include "pool/used_prefix.hpp"

#include <sstream>

namespace model {

namespace {

namespace slot = addrpool::detail::slot;
namespace used_prefix = addrpool::detail::used_prefix;

struct SpecSlot {
    Word state = slot::kUnused;
    std::uint32_t gen = 0;
    bool generated = false;
    std::uint64_t stamp = 0;
    bool operator==(const SpecSlot&) const = default;
};
using Spec = std::array<SpecSlot, kMaxSlots>;

// With a running clock, stamps move by re-stamps the specification does not
// model, so it ignores them (the announcement rule checks what matters).
SpecSlot spec_of(Word w, bool ignore_stamps) {
    const bool keep = slot::is_reserved(w) && !ignore_stamps;
    return SpecSlot{slot::state(w), slot::gen(w), slot::is_generated(w), keep ? slot::stamp(w) : 0};
}

bool frees(const Event& e) {
    switch (e.op) {
        case Op::release_index:
        case Op::release_ticket:
        case Op::stale_release:
        case Op::release_slot:
        case Op::sweep:
        case Op::reset: return e.result;
        default: return false;
    }
}

// Applies e to s if its result is what the spec says; false otherwise.
bool apply(Spec& s, const Event& e, bool ignore_stamps) {
    if (e.slot < 0) return true;  // "full": checked by the no-holes rule instead
    SpecSlot& x = s[static_cast<std::size_t>(e.slot)];
    const bool reserved = x.state == slot::kReserved;
    switch (e.op) {
        case Op::claim:
        case Op::restore:
            if (!e.result) return e.op == Op::restore && x.state != slot::kUnused;
            if (x.state != slot::kUnused || slot::next_gen(x.gen) != e.gen) return false;
            x.state = slot::kReserved, x.gen = e.gen, x.stamp = ignore_stamps ? 0 : e.stamp;
            if (e.op == Op::restore) x.generated = true;  // a restored hand-out is materialized
            return true;
        case Op::release_index:
        case Op::release_slot:
            if (e.result != reserved) return false;
            if (e.result) x.state = slot::kUnused, x.stamp = 0;
            return true;
        case Op::release_ticket:
        case Op::stale_release: {
            const bool want = reserved && x.gen == e.gen;
            if (e.result != want) return false;
            if (want) x.state = slot::kUnused, x.stamp = 0;
            return true;
        }
        case Op::sweep: {
            if (ignore_stamps) {  // freed: exactly the generation it examined (e.gen)
                if (!e.result) return true;
                if (!reserved || x.gen != e.gen) return false;
                x.state = slot::kUnused;
                return true;
            }
            const bool expired = reserved && x.stamp + kTtl <= kNow;
            if (e.result != expired) return false;
            if (expired) x.state = slot::kUnused, x.stamp = 0;
            return true;
        }
        case Op::mark_held:
        case Op::mark_index: {
            const bool want = x.state != slot::kUsed && (x.generated || x.state != slot::kUnused);
            if (e.result != want) return false;
            if (want) x.state = slot::kUsed, x.generated = true, x.stamp = 0;
            return true;
        }
        case Op::reset: {
            if (e.result != (x.state != slot::kUnused)) return false;
            x.state = slot::kUnused, x.stamp = 0;
            return true;
        }
    }
    return false;
}

// Wing & Gong: is there an order of the events, respecting real time, in
// which every result matches the spec and which ends in `final`?
bool linearizable(const std::vector<Event>& h, Spec s, const Spec& final, std::uint64_t done, bool ignore_stamps) {
    if (done == (std::uint64_t{1} << h.size()) - 1) return s == final;
    for (std::size_t a = 0; a < h.size(); ++a) {
        if (done & (std::uint64_t{1} << a)) continue;
        bool minimal = true;  // no pending event finished before a began
        for (std::size_t b = 0; b < h.size() && minimal; ++b) {
            if (b != a && !(done & (std::uint64_t{1} << b)) && h[b].last < h[a].first) minimal = false;
        }
        if (!minimal) continue;
        Spec next = s;
        if (apply(next, h[a], ignore_stamps) &&
            linearizable(h, next, final, done | (std::uint64_t{1} << a), ignore_stamps)) {
            return true;
        }
    }
    return false;
}

const char* op_name(Op op) {
    switch (op) {
        case Op::claim: return "claim";
        case Op::release_index: return "release(index)";
        case Op::release_ticket: return "release(ticket)";
        case Op::stale_release: return "stale release(ticket)";
        case Op::release_slot: return "release(slot)";
        case Op::sweep: return "sweep";
        case Op::mark_held:
        case Op::mark_index: return "mark used";
        case Op::reset: return "reset";
        case Op::restore: return "restore";
    }
    return "?";
}

// The model geometry (world.hpp): one bit per leaf word, two children per
// summary word; level 1 word w covers slots 2w, 2w+1; level 2 covers all 4.
std::string free_bits_at_rest(const Execution& x, const Config& c) {
    const FreeWords& f = x.final_free;
    const auto limit = static_cast<int>(std::min<Word>(f.frontier, static_cast<Word>(c.slots)));
    for (int j = 0; j < limit; ++j) {
        if (!slot::is_unused(x.final_words[static_cast<std::size_t>(j)])) continue;
        if (f.spare == static_cast<Word>(j) + 1) continue;  // parked in the spare (F7)
        const std::string where = "at rest, unused slot " + std::to_string(j) + " below the frontier " +
                                  std::to_string(f.frontier) + ", not in the spare,";
        if ((f.leaf[static_cast<std::size_t>(j)] & 1) == 0) return where + " has no free bit";
        if ((Word{1} << f.root) <= static_cast<Word>(j)) return where + " is not covered by the root";
        if (f.root >= 1 && ((f.l1[static_cast<std::size_t>(j >> 1)] >> (j & 1)) & 1) == 0) {
            return where + " has its free bit but not the level-1 summary bit";
        }
        if (f.root >= 2 && ((f.l2 >> (j >> 1)) & 1) == 0) return where + " lacks the level-2 summary bit";
    }
    return {};
}

}  // namespace

std::string check(const Execution& x, const Config& c) {
    const auto& h = x.history;
    if (h.size() > 63) return "history too long for the checker";
    // A sweep frees no reservation returned after it announced itself.
    for (const Event& f : h) {
        if (!c.announce || f.op != Op::sweep || !f.result) continue;
        for (const Event& e : h) {
            if (e.op == Op::claim && !e.lost && e.result && e.slot == f.slot && e.gen == f.gen &&
                e.settled > f.announced) {
                return "sweep by thread " + std::to_string(f.thread) + " freed slot " + std::to_string(f.slot) +
                       " gen " + std::to_string(f.gen) + ", which thread " + std::to_string(e.thread) +
                       " checked for sweeps at step " + std::to_string(e.settled) +
                       " and returned, after the sweep announced itself at step " + std::to_string(f.announced);
            }
        }
    }
    // No holes.
    for (const Event& e : h) {
        if (e.op != Op::claim) continue;
        const int upto = e.slot < 0 ? c.slots : e.slot;
        for (int j = 0; j < upto; ++j) {
            bool unavailable = false;
            for (int st = e.first; st <= e.last && !unavailable; ++st) {
                unavailable = !slot::is_unused(x.states[static_cast<std::size_t>(st)][static_cast<std::size_t>(j)]);
                for (const Token& t : x.tokens) {
                    if (t.slot == j && t.thread != e.thread && t.from <= st && st <= t.to) unavailable = true;
                }
            }
            // Excused: the free of j overlapped the claim (its bits were not
            // all set when the claim began).
            for (const Event& f : h) {
                if (!unavailable && f.slot == j && frees(f) && f.first <= e.last && f.last >= e.first) unavailable = true;
            }
            if (!unavailable) {
                return "claim by thread " + std::to_string(e.thread) + " (steps " + std::to_string(e.first) + ".." +
                       std::to_string(e.last) + ") took " +
                       (e.slot < 0 ? std::string("nothing") : "slot " + std::to_string(e.slot)) + " but skipped slot " +
                       std::to_string(j) + ", free throughout and freed before the claim began";
            }
        }
    }
    Spec init{}, final{};
    for (int i = 0; i < c.slots; ++i) {
        init[static_cast<std::size_t>(i)] = spec_of(c.initial[static_cast<std::size_t>(i)], c.announce);
        final[static_cast<std::size_t>(i)] = spec_of(x.final_words[static_cast<std::size_t>(i)], c.announce);
    }
    if (!linearizable(h, init, final, 0, c.announce)) return "history is not linearizable to the sequential specification";
    if (auto f = free_bits_at_rest(x, c); !f.empty()) return f;
    const std::uint32_t bound = used_prefix::bound(x.final_prefix);
    for (std::uint32_t j = 0; j < bound; ++j) {
        if (j >= static_cast<std::uint32_t>(c.slots) || !slot::is_used(x.final_words[j])) {
            return "at rest the used prefix's bound is " + std::to_string(bound) + " but slot " + std::to_string(j) +
                   " is not used";
        }
    }
    return {};
}

std::string describe(const Execution& x, const std::vector<int>& choices, const Config& c) {
    std::ostringstream o;
    o << "  schedule (choice per step):";
    for (int ch : choices) o << ' ' << ch;
    o << "\n  history:\n";
    for (const Event& e : x.history) {
        o << "    thread " << e.thread << " " << op_name(e.op) << " slot " << e.slot << " gen " << e.gen << " -> "
          << (e.result ? "true" : "false") << (e.lost ? " (lost to a sweep, started over)" : "") << "  steps ["
          << e.first << ", " << e.last << "]";
        if (e.op == Op::sweep && c.announce) {
            o << " clock " << e.at << ", announced at step " << e.announced;
        }
        if (e.op == Op::claim && e.result) o << " stamp " << e.stamp;
        o << "\n";
    }
    o << "  tokens:";
    for (const Token& t : x.tokens) o << " [thread " << t.thread << " slot " << t.slot << " steps " << t.from << ".." << t.to << "]";
    o << "\n  final words:";
    for (int i = 0; i < c.slots; ++i) o << " 0x" << std::hex << x.final_words[static_cast<std::size_t>(i)] << std::dec;
    const FreeWords& f = x.final_free;
    o << "\n  free index: frontier " << f.frontier << ", root level " << f.root << ", leaf bits";
    for (int i = 0; i < c.slots; ++i) o << ' ' << f.leaf[static_cast<std::size_t>(i)];
    o << ", level 1 0x" << std::hex << f.l1[0] << " 0x" << f.l1[1] << ", level 2 0x" << f.l2 << std::dec
      << ", spare " << (f.spare == 0 ? std::string("empty") : "slot " + std::to_string(f.spare - 1));
    o << "\n  used prefix: epoch " << used_prefix::epoch(x.final_prefix) << " bound " << used_prefix::bound(x.final_prefix)
      << "\n";
    return o.str();
}

}  // namespace model
