// Internal: the free-index protocol — where a hand-out finds the lowest free
// index in O(log N) word reads whatever the order of releases, sweeps and
// resets. Every operation on its words is defined here and nowhere else; the
// hand-out loop (handout.hpp), the sweep loop (sweep.hpp) and the pool call
// these functions, and the exhaustive model (stress/model/) runs the very
// same code over its stepping atomic with a small geometry.
//
// The slot word (slot.hpp) stays the only truth about an index. This
// structure only says where to look. Terms used below:
//
//   free        index i is free while its slot word is Unused.
//   entry       what names a free index for hand-outs: the frontier, a leaf
//               bit, or the spare (below). An entry may be stale (name an
//               index that is no longer free); see "Stale entries".
//   token       a hand-out holds a token for i from the RMW that took i's
//               entry — (F3) a leaf bit, (F4) the frontier, (F8) the spare —
//               until its claim (S1) of slot i succeeds or fails. A token is
//               the right to try the claim, nothing more: mutual exclusion
//               is the claim's (see "Exclusion").
//
// The words:
//
//   frontier F   one 64-bit word: no index >= F was ever taken through the
//                frontier. A hand-out takes index f = F by moving F from f
//                to f + 1 (F4).
//   free bits    a hierarchical bitmap of indices that may be free. Level 0:
//                leaf lines of 2^kLineBits indices (words of 64 bits, plain
//                bits). Levels 1..kMaxLevel: summary words, one bit per
//                child (a leaf line, or a summary word of the level below):
//
//     63                 32 31                  0
//     +--------------------+--------------------+
//     |  version           |  child bits        |
//     +--------------------+--------------------+
//
//                The root level R (1..kMaxLevel) is held in the word
//                s.root(); the root word is word 0 of level R. R grows (F5)
//                when a free bit is set for an index the root word does not
//                cover, and never shrinks, so a small pool's hand-out reads
//                few levels.
//   spare S      one 64-bit word: 0, or i + 1 for one free index i that a
//                release parked there (F7) instead of setting its bits. In a
//                payment server's steady state ("one release, one hand-out")
//                the hand-out finds the released index in S and takes it with
//                one CAS (F8), and neither touches the bitmap's summaries.
//                Only releases park; a sweep or a reset, which free many, set
//                bits (F1).
//
// Operations. Every operation the arguments below order is seq_cst, so
// they all sit in one total order; the exceptions are set_summary's first
// load and its CAS's failure order (relaxed: the value only feeds the next
// CAS attempt, which re-validates it). On x86-64 a seq_cst load is a plain
// load and every RMW is a locked instruction anyway.
//   (F0) frontier(): a hand-out's load of F; its value f is (F2)'s limit and
//        (F4)'s expected value.
//   (F1) mark_free(i): after a transition made slot i unused (a sweep, a
//        reset, a hand-out undoing its claim, or a release that could not
//        park (F7)): make the root cover i (F5) and read R; set i's leaf
//        bit (fetch_or); then every summary bit above it, level by level
//        up to R, each by a CAS that also adds 1 to the word's version —
//        also when the bit is already set; then read R again and go on
//        with the levels it grew by, until a re-read finds no new level.
//   (F2) lowest(limit): descend from the root word, taking the lowest set
//        bit at each level; the leaf line's lowest set bit is the candidate
//        if it is below `limit` (the f of (F0)). A summary bit whose child
//        turned out empty is cleared (F6) and the descent restarts.
//   (F3) take(b): fetch_and clears b's leaf bit; the thread whose fetch_and
//        found the bit set holds a token for b. If b's line became empty it
//        clears the summary bits above (F6).
//   (F4) take_frontier(f): CAS F from f to f + 1: a token for f.
//   (F5) grow the root: set bit 0 of word 0 of level R + 1 (the old root
//        word's range, conservatively), then CAS s.root() from R to R + 1.
//   (F6) clear_up(level, i): v <- load the summary word w; load the child;
//        only if the child is empty, CAS w from v to v without the bit;
//        repeat with the parent while a word becomes empty. Each call uses
//        one value of R, read by its caller.
//   (F7) mark_released(i): after a release made slot i unused: load S; if
//        it is 0, CAS it from 0 to i + 1 (park); if S was taken, or the CAS
//        failed, mark_free(i) (F1).
//   (F8) a hand-out loads S after its descent (F2); if S holds j + 1 and j
//        is below both the bitmap's candidate and the frontier it read, it
//        CASes S from j + 1 to 0: the thread whose CAS succeeded holds a
//        token for j; a failed CAS sends it back to (F0).
//
// Invariant (I): every free index below F is in S, or has its leaf bit set
// and every summary bit above it set up to the root word — except while the
// transition that freed it has not returned yet (its park or mark_free is
// in flight), and while a hand-out holds a token for it.
//
// Exclusion (never two live holders of one index) does not rest on this
// structure: an index is reserved only by the claim (S1), a CAS from the
// exact Unused word the claimer loaded; of any number of claimers of one
// free index exactly one succeeds, and a failed claim spends the token (the
// hand-out starts over). Tokens only keep claimers from colliding.
//
// Stale entries. An entry goes stale when its index is taken by another
// route while the entry remains: restore_reservation (S1 on a named index,
// with no token), a used mark (S5, with no token), or a claim through
// another entry of the same index — a frontier take (F4) of an index that
// was parked or had its bits set while it was at or above F (after a
// restore, or a reset, above the frontier), or a token from the bitmap
// while S names the index (a restore took it, and its release parked it,
// while the token holder stalled), or the reverse. The entry stays behind,
// and a release of the index later adds a second one: so one index can be
// in S and in the bitmap at once, and two hand-outs can hold tokens for it.
// A stale entry costs the hand-out that takes it one failed claim and a
// restart, and is gone after that; while S is stale, releases set bits
// instead of parking. Every leaf bit and every park is made by one freeing
// (a release, a sweep, a reset, a hand-out's undo) and consumed by at most
// one token, so failed claims on stale entries never outnumber freeings,
// whatever made the entries stale. A summary bit can be stale too (its
// child empty): a mark_free whose index is taken before its summary CASes
// land leaves at most one per level, (F5) sets bit 0 over the old root's
// range whether or not it holds a bit, and a clear_up that stops at an old
// R leaves the levels above; a descent that meets one clears it (F6).
//
// A token holder sees the slot free. The transition that freed slot i
// (S2/S3/S4/S8, acq_rel) is sequenced before the RMW that made i's entry
// (the leaf fetch_or of (F1), or the park CAS of (F7)); the token's RMW
// ((F3)'s fetch_and, (F8)'s CAS; seq_cst, so acquire) reads that write or a
// later one in the same word's modification order (RMWs continue a release
// sequence), so the transition happens-before the holder's load of the slot
// word (handout.hpp, before (S1)), which sees Unused or a later state. The
// frontier (F4) carries no such edge and needs none: a slot at or above F
// was never taken through the frontier, and one that a restore or a used
// mark took and a release, sweep or reset freed again has an entry once
// that freeing returns (before that, (I)'s exception covers it); so a
// holder that loads an old Reserved or Used word spends its token, and the
// index is found through its entry on a later round.
//
// No lost bit. Leaf level: a leaf bit is cleared only by a token's take
// (F3); its setter (F1) ran after the slot became free, so a setter and the
// take of the same setting are ordered (the take reads the fetch_or). Summary
// level: a clear (F6) of bit c in word w read w = v, then found the child
// empty, then replaced exactly v. A setter (F1) of a bit below c changed the
// child, then changed w (the version moves even when c was set already). In
// the single total order of these seq_cst operations: if the setter's CAS on
// w comes before the clearer's load of w, the clearer's load of the child
// comes after the setter's change of the child and sees it (or a later
// state, reached only after every bit below was taken by tokens and each
// child was legitimately cleared); otherwise the setter's CAS on w comes
// after the clearer's load, so either the clearer's CAS fails (w is no
// longer v) or the setter sets c again after it. The same holds at every
// level, by induction from the leaves up: a level-k bit stands for "some
// bit set in the child word of level k - 1". Versions are 32 bits: a
// clearer would have to stall across 2^32 sets of one word for its CAS to
// succeed on a stale value. Root growth: a setter sets the levels up to the
// R it read, then reads R again (seq_cst) and goes on while R is higher, so
// each of its CASes precedes a root read that returned that level or a
// higher one; a grower set bit 0 of the new root word before publishing the
// new R, and a clearer that reads the new R (before any load of its words)
// and clears that bit must, in the total order, load the old root word after
// the last root read of any setter that stopped at the old level, so after
// that setter's CAS on it — it sees that bit. A clear_up uses the R its
// caller read: R only grows, so an old value only makes it stop early,
// leaving a stale bit for a descent.
//
// The spare loses nothing and hides nothing. Parking is a CAS from 0, so no
// park overwrites another's index, and only a token (F8) empties S, so an
// index leaves S only to be claimed (or, stale, to have its claim fail).
// ABA: a take of S that succeeds after j was taken and parked again reads
// the latest park (S is written only by RMWs): its token is for that
// freeing.
//
// No holes — what a hand-out returns. Let i be free from the start of a
// hand-out H to its end, with no other hand-out holding a token for i in
// that time, and let the
// transition that freed i have returned before H started (so i has its
// entry, by (I)). Then H returns i or a lower index (or fails with an
// error on a candidate at or below i: the gap bound, a derivation error on
// the frontier index). Each round of H reads
// f (F0), descends (F2) and reads S (F8): if i >= f, the frontier f <= i is
// a candidate; if i has its bits, they stay set throughout (only a token
// clears a leaf bit; a summary bit is cleared only over an empty child) and
// the descent's candidate b is <= i; if i is in S, S still holds i + 1 (only
// a token for i could empty it) and H compares i with b and f. H takes the
// lowest of the three and returns it if its take and claim succeed; else
// it starts a new round, for which the same holds. H returns nothing above
// i. A free index whose token another hand-out holds may be passed over:
// that hand-out claims it, unless a restore or used mark takes it first
// (then it is not free). The model (stress/model/spec.hpp) checks exactly
// this form on every execution it explores — with a small geometry (two
// levels, one index per leaf line, two children per word: world.hpp), so
// roots at level 3 and more, the descent's stale-word branch above level 2
// and multi-word leaf lines are argued here, not model-checked; one
// thread at a time, test/test_free_index.cpp runs them in a five-level
// geometry against a reference (and catches the mutants a single thread
// can show: no bit 0 on growth, no child re-check, the spare ignored or
// taken without comparing).
//
// GapPolicy::error. The hand-out checks the gap bound on its one candidate,
// before taking it (handout.hpp); the bound is monotone in the index (i <
// used_end + gap_limit). The candidate is <= every free index as above, so
// a refusal means every such index is outside the bound as well — the bound
// the hand-out read: used_end is loaded relaxed and only grows between
// resets, so a value older than a concurrent used mark is smaller, and only
// makes the check stricter.
//
// Cost: O(log N). N here is the highest index ever marked free: the root
// level R is fixed by it (R <= kMaxLevel = 5). A hand-out round reads F, R,
// one word per level, at most the 8 words of one leaf line, and S; a round
// that meets no stale entry and no concurrent change is the whole hand-out.
// Beyond that, each stale entry or stale summary bit a hand-out meets costs
// it a failed claim or a clear, and a restart, once; failed claims never
// outnumber freeings (above), and stale summary bits are at most a few per
// operation, so the extra work is O(log N) amortized per operation whatever
// the release order. The frontier passes each index once in the pool's
// life: one it passes while taken (restored or used at or above F) costs
// one failed claim, once. A reloaded pool's F starts past its used prefix
// (durable.cpp), so only used indices above the first unused one are
// passed that way. Restarts forced by concurrent hand-outs are the price of
// lock-freedom (next paragraph).
//
// Progress: lock-free. A take or strong CAS fails only because another
// thread changed the word (compare_exchange_weak may also fail spuriously
// on LL/SC machines, a finite number of times). A descent restarts after
// meeting a summary bit over an empty child: its clear then succeeds, or
// fails because another thread set a bit below or cleared the same bit —
// either way some thread made a step. A hand-out restarts after a failed
// take (another hand-out took the entry), a failed claim (the entry was
// stale: bounded by freeings, above) or a claim lost to a sweep (C2). A
// park that fails sets the bits instead and does not retry. (A hand-out
// whose frontier index is not derived yet derives it: that path is
// blocking, and outside this structure.)
//
// Odds and ends. No memory reclamation is needed: the words are allocated
// with their blocks and never move or are freed while the pool lives
// (slot_array.hpp), so a pointer to a word never dangles. Indices are below
// 2^31: F stops there (the hand-out refuses (F4) at the index limit), i + 1
// fits in S, kNone and kEmptyLine are above every index, and level 5
// covers 2^34. A summary word's version is its top 32 bits: adding 1 wraps
// out of bit 63 and never touches the child bits. Leaf words have no
// version: a leaf bit is cleared only by a take's unconditional fetch_and,
// which hands the token to exactly one thread.
#ifndef ADDRPOOL_LIB_POOL_FREE_INDEX_HPP
#define ADDRPOOL_LIB_POOL_FREE_INDEX_HPP

#include <boost/atomic.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace addrpool::detail::free_index {

using Word = std::uint64_t;

inline constexpr Word kVersionUnit = Word{1} << 32;
inline constexpr Word kBitsMask = 0xffffffffu;
inline constexpr std::uint32_t kNone = 0xffffffffu;

// The pool's geometry: 64-bit leaf words, 8 per leaf line (one cache line,
// 512 indices), 32 children per summary word; level 5 covers 2^34 >= 2^31.
struct PoolGeometry {
    static constexpr unsigned kWordBits = 6;
    static constexpr unsigned kLineWordsBits = 3;
    static constexpr unsigned kFanBits = 5;
    static constexpr unsigned kMaxLevel = 5;
};
static_assert(PoolGeometry::kWordBits + PoolGeometry::kLineWordsBits + PoolGeometry::kFanBits * PoolGeometry::kMaxLevel >=
                  31,
              "the top level must cover every index below 2^31");

// Policies: the pool uses Sound; the model's mutants switch one rule off.
struct Sound {
    static constexpr bool check_child_before_clear = true;  // (F6) re-check the child
    static constexpr bool leaf_before_summary = true;       // (F1) leaf bit first
    static constexpr bool bump_version = true;              // (F1) version + 1 on every set
    static constexpr bool grow_sets_old_root = true;        // (F5) bit 0 before the new root is published
    static constexpr bool reread_root = true;               // (F1) follow a root that grew meanwhile
    static constexpr bool read_spare = true;                // (F8) a hand-out looks in S
    static constexpr bool park_by_cas = true;               // (F7) park only into an empty S, by CAS
    static constexpr bool spare_compared = true;            // (F8) take S's index only if it is the lowest
};

template <class G>
struct Geometry {
    static constexpr unsigned kLineBits = G::kWordBits + G::kLineWordsBits;
    static constexpr unsigned kLineWords = 1u << G::kLineWordsBits;
    static constexpr unsigned kMaxLevel = G::kMaxLevel;
    static_assert(G::kFanBits <= 5, "child bits must fit the low 32 bits of a summary word");

    // log2 of the indices one unit of `level` covers (level 0: a leaf line).
    static constexpr unsigned cover_bits(unsigned level) noexcept { return kLineBits + G::kFanBits * level; }
    static constexpr std::uint64_t cover(unsigned level) noexcept { return std::uint64_t{1} << cover_bits(level); }
    static constexpr std::uint32_t line_of(std::uint32_t i) noexcept { return i >> kLineBits; }
    static constexpr unsigned word_in_line(std::uint32_t i) noexcept {
        return (i >> G::kWordBits) & ((1u << G::kLineWordsBits) - 1);
    }
    static constexpr Word leaf_bit(std::uint32_t i) noexcept { return Word{1} << (i & ((1u << G::kWordBits) - 1)); }
    // The word of `level` (>= 1) that covers index i, and i's child bit in it.
    static constexpr std::uint32_t word_at(unsigned level, std::uint32_t i) noexcept {
        return static_cast<std::uint32_t>(std::uint64_t{i} >> cover_bits(level));
    }
    static constexpr Word child_bit(unsigned level, std::uint32_t i) noexcept {
        return Word{1} << ((std::uint64_t{i} >> cover_bits(level - 1)) & ((1u << G::kFanBits) - 1));
    }
};

// The words live in a Store, which maps positions to atomics (the pool's
// segmented storage, or the model's small arrays):
//   Path at(std::uint32_t i)                  the positions that cover index
//                                              i, resolved once: p.line (A*,
//                                              i's leaf line of kLineWords
//                                              words) and p.l1 (A*, i's
//                                              level-1 word)
//   A& summary(unsigned level, std::uint32_t w)  word w of level `level`
//   A& root()                                  the root level, 1..kMaxLevel
//   A& frontier()                              F
//   A& spare()                                 S
//   void on_token(std::uint32_t i)             called right after this thread
//                                              took i's token (F3)/(F4)/(F8): an
//                                              observation hook for the model
// Every position the protocol reaches exists: a bit is set only for an
// index whose slot exists, and its store (with the leaf line and summary
// words that cover it) is allocated with the slot. Each operation resolves
// its positions once (one at() per index it touches). R is read once per
// round: (F1) reads it again after its summary sets (and again while it
// grew), a descent again on each restart.

// The leaf line's words, loaded in order up to the first non-zero one
// (unrolled: a line is one cache line). Returns its position in the line,
// with its value in `v`, or kLineWords if every word is zero. Always
// inlined: lowest() uses it twice, and g++ 12 then calls it, at 16 to 19
// instructions a churn step (callgrind).
template <class A, std::size_t... K>
[[gnu::always_inline]] inline unsigned first_nonzero(A* words, Word& v, std::index_sequence<K...>) {
    unsigned k = sizeof...(K);
    // seq_cst: reads (F1)'s leaf fetch_or and (F3)'s fetch_and, in the total
    // order of the arguments at the top.
    (void)(... || ((v = words[K].load(boost::memory_order_seq_cst)) != 0 && (k = K, true)));
    return k;
}
// True if every word of the leaf line is zero (all eight loaded, unrolled).
// (Always inlined, as first_nonzero.)
template <class A, std::size_t... K>
[[gnu::always_inline]] inline bool line_empty(A* words, std::index_sequence<K...>) {
    // seq_cst: (F6)'s load of the child, after the parent's load (the Dekker
    // pair with (F1), whose leaf fetch_or it reads).
    return (... | words[K].load(boost::memory_order_seq_cst)) == 0;
}
template <class G, class A>
[[gnu::always_inline]] inline unsigned first_nonzero(A* words, Word& v) {
    return first_nonzero(words, v, std::make_index_sequence<Geometry<G>::kLineWords>{});
}

// (F6) at one level: clears `bit` in summary word w if the child it stands
// for is empty (child_empty(), called after w was loaded). Returns false if
// the bit was clear already or the child is not empty; true if this thread
// cleared it, with `v` the word's value before its CAS. Never clears a bit
// whose child is not empty at the moment its CAS replaces the value it read
// before checking the child (see the argument at the top).
template <class P, class A, class Empty>
[[gnu::always_inline]] inline bool clear_bit(A& w, Word bit, Empty child_empty, Word& v) {
    // seq_cst: the load of the Dekker pair with (F1)'s CAS; the child is
    // loaded after it.
    v = w.load(boost::memory_order_seq_cst);
    for (;;) {
        if ((v & bit) == 0) return false;                               // already clear
        if (P::check_child_before_clear && !child_empty()) return false;  // the child has a bit
        // seq_cst: replaces exactly the value read before the child was
        // found empty; fails if any setter (F1) touched the word since. On
        // failure `v` is the word's current value, read seq_cst: it stands
        // for a fresh load of the pair, and the child is checked again.
        if (w.compare_exchange_weak(v, v & ~bit, boost::memory_order_seq_cst, boost::memory_order_seq_cst)) return true;
    }
}

// (F6) Clears the bit of i's child in its level-`level` word if that child is
// empty, then the parent's bit if the word became empty, and so on up to
// level `root` (a root level this thread read: the root only grows, so an
// old value only stops the clearing early, leaving a stale bit that a
// descent clears). `p`: the positions that cover i; `level` is 1 or more
// (the caller found the child at level - 1 empty).
template <class G, class P = Sound, class Store, class Path>
void clear_up(Store& s, const Path& p, std::uint32_t i, unsigned level, unsigned root) {
    using Geo = Geometry<G>;
    using A = std::remove_pointer_t<decltype(p.line)>;
    // The child's word; nullptr: the leaf line.
    A* child = level == 1 ? nullptr : level == 2 ? p.l1 : &s.summary(level - 1, Geo::word_at(level - 1, i));
    for (; level <= root; ++level) {
        A& w = level == 1 ? *p.l1 : s.summary(level, Geo::word_at(level, i));
        const Word bit = Geo::child_bit(level, i);
        Word v = 0;
        const bool cleared = clear_bit<P>(
            w, bit,
            [&] {
                return child == nullptr ? line_empty(p.line, std::make_index_sequence<Geo::kLineWords>{})
                                        // seq_cst: (F6)'s child load, after the parent's;
                                        // reads the child's set_summary CAS (F1)
                                        : (child->load(boost::memory_order_seq_cst) & kBitsMask) == 0;
            },
            v);
        if (!cleared || ((v & ~bit) & kBitsMask) != 0) return;  // done, or other children remain
        child = &w;
    }
}

// Sets `bit` in summary word w, moving its version (F1).
template <class P = Sound, class A>
void set_summary(A& w, Word bit) {
    Word v = w.load(boost::memory_order_relaxed);  // relaxed: the CAS re-validates
    // seq_cst: the write of the Dekker pair with (F6)'s load of this word,
    // after this thread's write of the child. relaxed on failure: the value
    // only feeds the next attempt, which re-validates it.
    while (!w.compare_exchange_weak(v, (v | bit) + (P::bump_version ? kVersionUnit : 0), boost::memory_order_seq_cst,
                                    boost::memory_order_relaxed)) {
    }
}

// (F5) Makes the root cover index i; returns the root level it read last
// (one that covers i).
template <class G, class P = Sound, class Store>
unsigned ensure_root_covers(Store& s, std::uint32_t i) {
    using Geo = Geometry<G>;
    for (;;) {
        // seq_cst: reads other growers' root CAS below; in the total order
        // with the setters' and clearers' reads of R (the root argument).
        Word r = s.root().load(boost::memory_order_seq_cst);
        if (r >= G::kMaxLevel || (std::uint64_t{i} >> Geo::cover_bits(static_cast<unsigned>(r))) == 0) {
            return static_cast<unsigned>(r);
        }
        // Bit 0 of the next level's word 0 stands for the whole old root:
        // set it before the new root is published, so no bit below the old
        // root is hidden by the growth.
        if (P::grow_sets_old_root) set_summary<P>(s.summary(static_cast<unsigned>(r) + 1, 0), Word{1});
        // seq_cst: publishes the new root level; fails harmlessly if another
        // thread grew it first.
        s.root().compare_exchange_strong(r, r + 1, boost::memory_order_seq_cst, boost::memory_order_seq_cst);
    }
}

// (F1) Makes index i findable: called after a transition made slot i unused,
// before the operation that made it returns. Always inlined into the
// release: the call cost about 8 instructions a churn step (callgrind).
// `p`: i's positions (s.at(i)), which the caller may have resolved already.
template <class G, class P = Sound, class Store, class Path>
[[gnu::always_inline]] inline void mark_free(Store& s, std::uint32_t i, const Path& p) {
    using Geo = Geometry<G>;
    unsigned root = ensure_root_covers<G, P>(s, i);
    auto& leaf = p.line[Geo::word_in_line(i)];
    // seq_cst: the child write of the Dekker pair with (F6); comes before
    // the summary CASes below.
    if (P::leaf_before_summary) leaf.fetch_or(Geo::leaf_bit(i), boost::memory_order_seq_cst);
    // Level by level up to the root read above (level 1, within every root,
    // first); then the root is read again and a root that grew meanwhile is
    // followed up (F5), until a re-read finds no new level: every CAS here
    // precedes a root read that returned its level or a higher one.
    set_summary<P>(*p.l1, Geo::child_bit(1, i));
    for (unsigned level = 2;;) {
        for (; level <= root; ++level) set_summary<P>(s.summary(level, Geo::word_at(level, i)), Geo::child_bit(level, i));
        if (!P::reread_root) break;
        // seq_cst: reads (F5)'s root CAS; the re-read of the root argument.
        const auto now = static_cast<unsigned>(s.root().load(boost::memory_order_seq_cst));
        if (now == root) break;
        root = now;
    }
    // Mutant only (leaf after the summaries); seq_cst as the fetch_or above.
    if (!P::leaf_before_summary) leaf.fetch_or(Geo::leaf_bit(i), boost::memory_order_seq_cst);
}
template <class G, class P = Sound, class Store>
[[gnu::always_inline]] inline void mark_free(Store& s, std::uint32_t i) {
    mark_free<G, P>(s, i, s.at(i));
}

// lowest_in_line(): the leaf line it was sent to has no bit set.
inline constexpr std::uint32_t kEmptyLine = kNone - 1;

// (F2) The descent's last step: `bits`, the child bits of the level-1 word
// that covers the indices from `base`, name the lowest leaf line with a
// free bit. Returns that line's lowest set bit if it is below `limit`;
// kNone if the line or the bit is at or past `limit`; kEmptyLine if the line
// is empty (its level-1 bit is stale: `line_base`, its first index, is for
// the clear). `p` is left at the line's positions (s.at() of line_base),
// unless kNone came from the line's own index.
template <class G, class Store, class Path>
[[gnu::always_inline]] inline std::uint32_t lowest_in_line(Store& s, std::uint64_t base, Word bits,
                                                           std::uint64_t limit, Path& p, std::uint64_t& line_base) {
    using Geo = Geometry<G>;
    line_base = base + (std::uint64_t{static_cast<unsigned>(std::countr_zero(bits))} << Geo::cover_bits(0));
    if (line_base >= limit) return kNone;
    p = s.at(static_cast<std::uint32_t>(line_base));
    Word v = 0;
    const unsigned k = first_nonzero<G>(p.line, v);  // seq_cst loads: see first_nonzero
    if (k == Geo::kLineWords) return kEmptyLine;
    const std::uint64_t i = line_base + (std::uint64_t{k} << G::kWordBits) + static_cast<unsigned>(std::countr_zero(v));
    return i < limit ? static_cast<std::uint32_t>(i) : kNone;
}

// (F2) The descent, when the root word has a bit set (see lowest()).
template <class G, class P = Sound, class Store, class Path>
std::uint32_t lowest_descend(Store& s, std::uint64_t limit, unsigned root, Path& where) {
    using Geo = Geometry<G>;
    for (bool first = true;; first = false) {
        // seq_cst: reads (F5)'s root CAS (a restart reads R again).
        if (!first) root = static_cast<unsigned>(s.root().load(boost::memory_order_seq_cst));
        std::uint64_t base = 0;  // first index covered by the current word
        unsigned level = root;
        for (; level >= 2; --level) {
            // seq_cst: a descent that starts after a mark_free returned sees
            // its bits (the setter's CASes precede it in the total order).
            const Word bits = s.summary(level, Geo::word_at(level, static_cast<std::uint32_t>(base)))
                                  .load(boost::memory_order_seq_cst) &
                              kBitsMask;
            if (bits == 0) break;
            base += std::uint64_t{static_cast<unsigned>(std::countr_zero(bits))} << Geo::cover_bits(level - 1);
            if (base >= limit) return kNone;  // every set bit below here is at or past the limit
        }
        if (level >= 2) {  // an empty word at `level`
            if (level == root) return kNone;
            // The parent's bit promised a non-empty child: it is stale.
            // clear_up from level 3 up reads only summary words, not the
            // leaf line or level-1 word of a Path: b's block (the first
            // index of an empty word) may never have been allocated, so
            // no s.at(b) is made for it.
            const auto b = static_cast<std::uint32_t>(base);
            clear_up<G, P>(s, decltype(s.at(b)){}, b, level + 1, root);
            continue;
        }
        // Level 1, then the leaf line below it.
        const auto p = s.at(static_cast<std::uint32_t>(base));
        const Word bits = p.l1->load(boost::memory_order_seq_cst) & kBitsMask;  // seq_cst: as above
        if (bits != 0) {
            std::uint64_t line_base = 0;
            const std::uint32_t i = lowest_in_line<G>(s, base, bits, limit, where, line_base);
            if (i != kEmptyLine) return i;
            // The line is empty: its level-1 bit is stale.
            clear_up<G, P>(s, where, static_cast<std::uint32_t>(line_base), 1, root);
        } else {
            if (root == 1) return kNone;
            // The level-2 bit is stale.
            clear_up<G, P>(s, p, static_cast<std::uint32_t>(base), 2, root);
        }
    }
}

// (F2) The lowest index below `limit` whose free bit is set, or kNone; then
// `where` holds its positions (s.at() of it), for take() (after kNone it is
// scratch). An empty bitmap (a
// pool nobody released into) costs two loads.
template <class G, class P = Sound, class Store, class Path>
inline std::uint32_t lowest(Store& s, std::uint64_t limit, Path& where) {
    // seq_cst: reads (F5)'s root CAS.
    const auto root = static_cast<unsigned>(s.root().load(boost::memory_order_seq_cst));
    // seq_cst: as in the descent.
    const Word top = s.summary(root, 0).load(boost::memory_order_seq_cst) & kBitsMask;
    if (top == 0) return kNone;
    if (root <= 2) {
        // A root at level 1 or 2 (pools below 2^19 indices): the descent's
        // first round runs here, inline (no call on the common path), with
        // `top` standing for its load of the root word: the same as a descent
        // whose load came right after this one, with no other thread's step
        // between. A stale bit (an empty child) is left to the descent, which
        // clears it.
        using Geo = Geometry<G>;
        Word bits = top;  // the level-1 word's bits
        std::uint64_t base = 0;
        if (root == 2) {
            base = std::uint64_t{static_cast<unsigned>(std::countr_zero(top))} << Geo::cover_bits(1);
            if (base >= limit) return kNone;
            // seq_cst: as in the descent.
            bits = s.at(static_cast<std::uint32_t>(base)).l1->load(boost::memory_order_seq_cst) & kBitsMask;
        }
        if (bits != 0) {
            std::uint64_t line_base = 0;
            const std::uint32_t i = lowest_in_line<G>(s, base, bits, limit, where, line_base);
            if (i != kEmptyLine) return i;
        }
    }
    return lowest_descend<G, P>(s, limit, root, where);
}

// (F3) Takes index b's free bit; `p`: b's positions, as lowest() left them.
// True if this thread cleared it: then it alone may claim slot b from the
// bitmap (or find it taken and move on). Always inlined into the hand-out
// (g++ 12 would call it once the level-1 clear below is inline).
template <class G, class P = Sound, class Store, class Path>
[[gnu::always_inline]] inline bool take(Store& s, std::uint32_t b, const Path& p) {
    using Geo = Geometry<G>;
    const Word bit = Geo::leaf_bit(b);
    // seq_cst: reads (F1)'s fetch_or of this bit, so the transition that
    // freed slot b happens-before this thread's load of b's slot word (see
    // "A token holder sees the slot free"); also orders the clear against
    // (F6)'s loads of this line.
    const Word old = p.line[Geo::word_in_line(b)].fetch_and(~bit, boost::memory_order_seq_cst);
    if ((old & bit) == 0) return false;  // another hand-out took it
    s.on_token(b);
    if ((old & ~bit) != 0) return true;  // other bits remain in our word
    // Our word is empty: (F6) from level 1, which checks the whole line.
    // seq_cst: reads (F5)'s root CAS.
    const auto root = static_cast<unsigned>(s.root().load(boost::memory_order_seq_cst));
    if (root > 2) {
        clear_up<G, P>(s, p, b, 1, root);
        return true;
    }
    // A root at level 1 or 2: clear_up's levels, inline (the call cost
    // about 40 instructions a churn step).
    Word v = 0;
    if (!clear_bit<P>(
            *p.l1, Geo::child_bit(1, b),
            [&] { return line_empty(p.line, std::make_index_sequence<Geo::kLineWords>{}); }, v) ||
        root == 1 || ((v & ~Geo::child_bit(1, b)) & kBitsMask) != 0) {
        return true;  // done, or other lines remain
    }
    (void)clear_bit<P>(
        s.summary(2, Geo::word_at(2, b)), Geo::child_bit(2, b),
        // seq_cst: (F6)'s child load, after the parent's; reads (F1)'s CAS on it
        [&] { return (p.l1->load(boost::memory_order_seq_cst) & kBitsMask) == 0; }, v);
    return true;
}

// (F4) Takes frontier index f (the value the caller read); on failure `f`
// holds the current frontier.
template <class Store>
bool take_frontier(Store& s, std::uint64_t& f) {
    // seq_cst: its counterparts are the hand-outs' (F0) loads and other
    // (F4) CASes: F orders the frontier tokens among themselves and carries
    // no data (the slot it names is claimed afterwards, by (S1)); seq_cst
    // costs nothing over acq_rel here (a locked RMW).
    if (!s.frontier().compare_exchange_strong(f, f + 1, boost::memory_order_seq_cst, boost::memory_order_seq_cst)) {
        return false;
    }
    s.on_token(static_cast<std::uint32_t>(f));
    return true;
}

// (F7) After a release made slot i unused: parks i in the spare if it is
// empty, else sets its free bits (F1). `path_of()` returns i's positions
// (s.at(i)); it is called only if the bits are set. Always inlined into the
// releases.
template <class G, class P = Sound, class Store, class PathOf>
[[gnu::always_inline]] inline void mark_released(Store& s, std::uint32_t i, PathOf path_of) {
    auto& spare = s.spare();
    // seq_cst: reads the (F8) CAS that emptied S. It only decides whether to
    // try the park (the CAS re-validates; a stale value sends i to the bits,
    // which is always correct); seq_cst keeps it in the single total order
    // the argument above uses, at no cost (a plain load on x86-64).
    Word v = spare.load(boost::memory_order_seq_cst);
    if (v == 0) {
        if (!P::park_by_cas) {
            spare.store(Word{i} + 1, boost::memory_order_seq_cst);  // seq_cst: as the CAS below (mutant only)
            return;
        }
        // seq_cst: makes i findable; pairs with the hand-outs' load and CAS of S (F8).
        if (spare.compare_exchange_strong(v, Word{i} + 1, boost::memory_order_seq_cst, boost::memory_order_seq_cst)) {
            return;
        }
    }
    mark_free<G, P>(s, i, path_of());
}

// (F8) The spare a hand-out compares its candidates with: 0, or j + 1.
template <class P = Sound, class Store>
[[gnu::always_inline]] inline Word spare(Store& s) {
    if (!P::read_spare) return 0;
    // seq_cst: reads (F7)'s park CAS or (F8)'s emptying CAS; in the total
    // order with (F0) and (F2)'s loads (the no-holes argument).
    return s.spare().load(boost::memory_order_seq_cst);
}

// (F8) Whether the spare's index is a hand-out's lowest candidate: `sp` is
// the spare as read (0, or j + 1), `b` the bitmap's candidate (kNone: none),
// `f` the frontier the hand-out read. j is taken only if it is below both.
template <class P = Sound>
[[gnu::always_inline]] inline bool spare_is_lowest(Word sp, std::uint32_t b, std::uint64_t f) {
    return sp != 0 && (!P::spare_compared || sp - 1 < (b != kNone ? std::uint64_t{b} : f));
}

// (F8) Takes the spare's index: `v` is the value the hand-out read (j + 1).
// True if this thread emptied S: then it alone may claim slot j.
template <class Store>
[[gnu::always_inline]] inline bool take_spare(Store& s, Word v) {
    // seq_cst: reads the park CAS (F7) that wrote v, so the release before
    // that park happens-before this thread's load of slot j (see "A token
    // holder sees the slot free").
    if (!s.spare().compare_exchange_strong(v, 0, boost::memory_order_seq_cst, boost::memory_order_seq_cst)) {
        return false;  // another hand-out took it, or another index is parked now
    }
    s.on_token(static_cast<std::uint32_t>(v - 1));
    return true;
}

// (F0) The frontier a hand-out compares the bitmap's candidate with.
template <class Store>
std::uint64_t frontier(Store& s) {
    // seq_cst: reads (F4)'s CAS; in the total order with (F2)'s loads and
    // (F8)'s load of S (the no-holes argument).
    return s.frontier().load(boost::memory_order_seq_cst);
}

}  // namespace addrpool::detail::free_index

#endif  // ADDRPOOL_LIB_POOL_FREE_INDEX_HPP
