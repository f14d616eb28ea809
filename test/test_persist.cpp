// Persistence (issue 5): durable "used", ephemeral "reserved"; the file
// format and its codec, files written by earlier code, the corruption table,
// and snapshots under concurrency. Saving to disk (atomic replacement, faults,
// the order of concurrent saves) is in test_persist_save.cpp.
#include <addrpool/addrpool.hpp>

#include "keys/crypto.hpp"
#include "persist/codec.hpp"
#include "persist_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace persist_test;

namespace {

AddressPool roundtrip(const AddressPool& pool, PoolOptions opts = {}) {
    auto loaded = AddressPool::deserialize(pool.serialize(), std::move(opts));
    if (!loaded) FAIL(errc_name(loaded.error().code) << ": " << loaded.error().message);
    return std::move(loaded).value();
}

std::string sha256_of(std::string_view s) {
    const auto d = detail::sha256({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// An independent writer of format version 1, written from the layout in
// lib/persist/codec.hpp. Deliberately not codec::encode: it cross-checks the
// codec against the documented layout, and writes what encode never would.
struct FileBuilder {
    std::string magic = "ADDRPOOL";
    std::uint16_t version = 1;
    std::uint8_t network = 1, type = 0, format = 0;
    std::uint32_t gap_limit = 20;
    std::vector<std::uint32_t> base_path{44 | hardened_bit, 1 | hardened_bit, hardened_bit, 0};
    std::uint32_t used_end = 0;  // highest used + 1
    std::optional<std::uint32_t> count;  // default: entries.size()
    std::string entries;                 // raw entry bytes
    std::uint32_t n_entries = 0;
    std::string extra_content;  // after the entries, under the checksum
    std::string extra_after;    // after the checksum
    std::optional<std::uint64_t> length;  // default: the real length

    static std::string varint(std::uint64_t v) {
        std::string s;
        while (v >= 0x80) {
            s.push_back(static_cast<char>((v & 0x7f) | 0x80));
            v >>= 7;
        }
        s.push_back(static_cast<char>(v));
        return s;
    }
    static void u32(std::string& o, std::uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) o.push_back(static_cast<char>(v >> s));
    }
    FileBuilder& entry(std::string index_varint, const Hash160& h, std::uint8_t flags, std::string label_part = {}) {
        entries += index_varint;
        entries.append(reinterpret_cast<const char*>(h.data()), h.size());
        entries.push_back(static_cast<char>(flags));
        entries += label_part;
        ++n_entries;
        return *this;
    }
    std::string bytes() const {
        std::string o = magic;
        o.push_back(static_cast<char>(version >> 8));
        o.push_back(static_cast<char>(version));
        o.append(8, '\0');
        o.push_back(static_cast<char>(network));
        o.push_back(static_cast<char>(type));
        o.push_back(static_cast<char>(format));
        u32(o, gap_limit);
        o.push_back(static_cast<char>(base_path.size()));
        for (auto c : base_path) u32(o, c);
        u32(o, used_end);
        u32(o, count.value_or(n_entries));
        o += entries;
        o += extra_content;
        const std::uint64_t len = length.value_or(o.size() + 32);
        for (int k = 0; k < 8; ++k) o[10 + static_cast<std::size_t>(k)] = static_cast<char>(len >> (56 - 8 * k));
        o += sha256_of(o);
        o += extra_after;
        return o;
    }
};

Hash160 fake_hash(std::uint32_t n) {
    Hash160 h{};
    for (std::size_t k = 0; k < h.size(); ++k) h[k] = static_cast<std::uint8_t>(n * 31 + k * 7 + 1);
    h[0] = static_cast<std::uint8_t>(n >> 8);
    h[1] = static_cast<std::uint8_t>(n);
    return h;
}

// Three entries: 0 (used), 1 (labelled "ab"), 5; highest used 0.
FileBuilder small_file() {
    FileBuilder b;
    b.used_end = 1;
    b.entry(FileBuilder::varint(0), fake_hash(0), 1);
    b.entry(FileBuilder::varint(1), fake_hash(1), 2, FileBuilder::varint(2) + "ab");
    b.entry(FileBuilder::varint(4), fake_hash(5), 0);
    return b;
}

Errc code_of(std::string_view bytes) {
    auto r = AddressPool::deserialize(bytes);
    REQUIRE_FALSE(r);
    CHECK_FALSE(r.error().message.empty());
    return r.error().code;
}

}  // namespace

// ---- round trip ---------------------------------------------------------------

TEST_CASE("a round trip keeps network, type, gap limit, base path and format for every enum value",
          "[persist][roundtrip]") {
    const Network nets[] = {Network::mainnet, Network::testnet, Network::devnet, Network::regtest};
    const PoolType types[] = {PoolType::external, PoolType::internal, PoolType::absent, PoolType::absent_hardened};
    const AddressFormat formats[] = {AddressFormat::base58check, AddressFormat::platform};
    for (auto net : nets) {
        for (auto type : types) {
            for (auto fmt : formats) {
                PoolOptions opts;
                opts.format = fmt;
                AddressPool pool(path("m/9'/1'/17'/0'/0'"), type, 1234567, net, opts);
                auto back = roundtrip(pool);
                CHECK(back.network() == net);
                CHECK(back.type() == type);
                CHECK(back.format() == fmt);
                CHECK(back.gap_limit() == 1234567);
                CHECK(back.base_path() == pool.base_path());
                CHECK(back.stats().generated == 0);
                CHECK_FALSE(back.stats().highest_used);
            }
        }
    }
    // The empty base path "m" too.
    AddressPool root(DerivationPath(), PoolType::absent, 0, Network::mainnet);
    CHECK(roundtrip(root).base_path().empty());
}

TEST_CASE("a round trip keeps every generated entry, its address, used mark, label and highest used",
          "[persist][roundtrip]") {
    auto pool = external_pool();
    auto ks = private_source();
    auto addrs = pool.generate_addresses(12, ks, true);
    REQUIRE(addrs);
    CHECK(pool.mark_index_used(2));
    CHECK(pool.mark_used((*addrs)[7]));
    CHECK(pool.set_label((*addrs)[3], "rent"));
    CHECK(pool.set_label((*addrs)[7], std::string("bin\0ary\xff", 8)));
    CHECK(pool.set_label((*addrs)[9], ""));

    auto back = roundtrip(pool);
    CHECK(back.all_addresses() == pool.all_addresses());
    CHECK(back.used_addresses() == pool.used_addresses());
    for (std::uint32_t i = 0; i < 12; ++i) {
        CHECK(back.state(i) == pool.state(i));
        CHECK(back.address_at(i) == pool.address_at(i));
        CHECK(back.label((*addrs)[i]) == pool.label((*addrs)[i]));
        CHECK(back.index_of((*addrs)[i]) == i);
    }
    CHECK(back.label((*addrs)[7]) == std::string("bin\0ary\xff", 8));
    CHECK(back.label((*addrs)[9]) == std::string());
    CHECK_FALSE(back.label((*addrs)[0]));
    const auto a = pool.stats(), b = back.stats();
    CHECK(b.generated == a.generated);
    CHECK(b.used == 2);
    CHECK(b.highest_used == 7u);
    CHECK(b.highest_generated == 11u);
    CHECK(b.reserved == 0);
    CHECK(back.scan_window_end() == pool.scan_window_end());
}

TEST_CASE("a platform-format pool loads with its format even if the options ask for another",
          "[persist][roundtrip]") {
    PoolOptions opts;
    opts.format = AddressFormat::platform;
    auto pool = external_pool(20, opts);
    REQUIRE(pool.generate_addresses(2, private_source(), true));
    PoolOptions other;
    other.format = AddressFormat::base58check;
    auto back = roundtrip(pool, other);
    CHECK(back.format() == AddressFormat::platform);
    CHECK(back.all_addresses() == pool.all_addresses());
    CHECK(back.address_at(1)->to_string().rfind("tdash1k", 0) == 0);
}

TEST_CASE("reserve 5, save, load: nothing is reserved and those indices are unused", "[persist][reserved]") {
    TempDir tmp;
    auto pool = external_pool();
    auto ks = private_source();
    for (std::uint32_t i = 0; i < 5; ++i) REQUIRE(pool.reserve(ks, true));
    auto hidden = pool.reserve(ks, false);  // reserved without materializing: not durable at all
    REQUIRE(hidden);
    REQUIRE(pool.stats().reserved == 6);
    REQUIRE(pool.save(tmp.dir / "pool.bin"));

    auto back = AddressPool::load(tmp.dir / "pool.bin");
    REQUIRE(back);
    const auto st = back->stats();
    CHECK(st.reserved == 0);
    CHECK_FALSE(st.highest_reserved);
    CHECK(st.generated == 5);
    CHECK(st.unused == 5);
    for (std::uint32_t i = 0; i < 6; ++i) CHECK(back->state(i) == AddressState::unused);
    CHECK_FALSE(back->address_at(hidden->index));
    CHECK(back->unused_addresses().size() == 5);
    // The freed indices are handed out again, lowest first, without a key.
    auto again = back->reserve(KeySource::none(), true);
    REQUIRE(again);
    CHECK(again->index == 0);
}

TEST_CASE("used marks survive a save and load, whichever way they were made", "[persist][used]") {
    TempDir tmp;
    auto pool = external_pool();
    auto ks = private_source();
    auto r = pool.reserve(ks, true);  // reserved → used
    REQUIRE(r);
    auto addrs = pool.generate_addresses(6, ks, true);
    REQUIRE(addrs);
    CHECK(pool.mark_used(r->address));
    CHECK(pool.mark_index_used(3));
    CHECK(pool.mark_script_used((*addrs)[5].script_pubkey()));  // index 6
    REQUIRE(pool.save(tmp.dir / "pool.bin"));
    auto back = AddressPool::load(tmp.dir / "pool.bin");
    REQUIRE(back);
    std::set<std::uint32_t> used;
    for (std::uint32_t i = 0; i < 7; ++i) {
        if (back->state(i) == AddressState::used) used.insert(i);
    }
    CHECK(used == std::set<std::uint32_t>{0, 3, 6});
    CHECK(back->stats().highest_used == 6u);
    // Used stays terminal after load: the hand-out skips it.
    auto next = back->reserve(KeySource::none(), true);
    REQUIRE(next);
    CHECK(next->index == 1);
}

TEST_CASE("labels survive; a label of an entry no longer generated is not saved", "[persist][labels]") {
    auto pool = external_pool(1);  // gap limit 1: the window ends right after the highest used index
    auto ks = private_source();
    auto addrs = pool.generate_addresses(5, ks, true);
    REQUIRE(addrs);
    CHECK(pool.set_label((*addrs)[1], "one"));
    CHECK(pool.set_label((*addrs)[4], "four"));
    CHECK(pool.mark_index_used(2));
    CHECK(pool.scan_window_end() == 4);
    CHECK(pool.prune_unused() == 1);  // drops 4 (the unused tail beyond the window)
    auto back = roundtrip(pool);
    CHECK(back.label((*addrs)[1]) == std::string("one"));
    CHECK_FALSE(back.address_at(4));
    CHECK_FALSE(back.label((*addrs)[4]));
    CHECK(back.stats().generated == 4);
}

TEST_CASE("the same durable state gives the same bytes, whatever order built it", "[persist][deterministic]") {
    auto ks = private_source();
    auto a = external_pool();
    auto addrs = a.generate_addresses(8, ks, true);
    REQUIRE(addrs);
    CHECK(a.mark_index_used(2));
    CHECK(a.mark_index_used(6));
    CHECK(a.set_label((*addrs)[1], "x"));
    CHECK(a.set_label((*addrs)[6], "y"));

    // b: hand-outs, releases and marks in another order, labels first-to-last
    // reversed, and one reservation still held (reservations are not durable).
    auto b = external_pool();
    std::vector<Reservation> held;
    for (int i = 0; i < 8; ++i) {
        auto r = b.reserve(ks, true);
        REQUIRE(r);
        held.push_back(*r);
    }
    CHECK(b.set_label((*addrs)[6], "y"));
    CHECK(b.set_label((*addrs)[1], "x"));
    CHECK(b.mark_used((*addrs)[6]));
    for (auto& r : held) {
        if (r.index != 6 && r.index != 5) (void)b.release_reservation(r);
    }
    CHECK(b.mark_index_used(2));
    CHECK(b.state(5) == AddressState::reserved);

    const std::string bytes = a.serialize();
    CHECK(b.serialize() == bytes);
    CHECK(a.serialize() == bytes);
    CHECK(roundtrip(a).serialize() == bytes);
}

TEST_CASE("10,000 entries take at most 64 bytes each (22 without labels)", "[persist][size]") {
    FileBuilder f;
    f.used_end = 5000;
    for (std::uint32_t i = 0; i < 10'000; ++i) {
        f.entry(FileBuilder::varint(i == 0 ? 0 : 1), fake_hash(i), i < 5000 ? 1 : 0);
    }
    auto pool = AddressPool::deserialize(f.bytes());
    REQUIRE(pool);
    const std::string bytes = pool->serialize();
    CHECK(bytes == f.bytes());
    CHECK(bytes.size() <= 10'000u * 64);
    CHECK(bytes.size() <= 10'000u * 22 + 100);
    CHECK(pool->stats().used == 5000);
}

// ---- the format, as documented in lib/persist/codec.hpp -----------------------

TEST_CASE("the documented layout is what the library writes and reads", "[persist][format]") {
    const std::string bytes = small_file().bytes();
    auto pool = AddressPool::deserialize(bytes);
    REQUIRE(pool);
    CHECK(pool->serialize() == bytes);
    CHECK(pool->state(0) == AddressState::used);
    CHECK(pool->state(1) == AddressState::unused);
    CHECK(pool->address_at(5));
    CHECK_FALSE(pool->address_at(2));
    CHECK(pool->label(*pool->address_at(1)) == std::string("ab"));
    CHECK(pool->stats().highest_used == 0u);
    CHECK(pool->base_path() == path("m/44'/1'/0'/0"));
}

// ---- the codec (lib/persist/codec.hpp) ---------------------------------------------

TEST_CASE("encode writes what the independent writer writes, and parse gives back what encode was given",
          "[persist][codec]") {
    detail::codec::PoolFile f;
    f.network = Network::testnet;
    f.type = PoolType::external;
    f.format = AddressFormat::base58check;
    f.gap_limit = 20;
    f.base_path = {44 | hardened_bit, 1 | hardened_bit, hardened_bit, 0};
    f.entries = {{0, fake_hash(0), true}, {1, fake_hash(1), false}, {5, fake_hash(5), false}};
    f.labels = {{1, "ab"}};
    f.highest_used = 0;
    const std::string bytes = detail::codec::encode(f);
    CHECK(bytes == small_file().bytes());
    auto back = detail::codec::parse(bytes);
    REQUIRE(back);
    CHECK(*back == f);
}

TEST_CASE("encode writes highest used from the entries and leaves out labels of indices that are not entries",
          "[persist][codec]") {
    const std::uint32_t top = 0x7fffffffu;  // the highest index there is
    detail::codec::PoolFile f;
    f.network = Network::regtest;
    f.type = PoolType::absent_hardened;
    f.format = AddressFormat::platform;
    f.gap_limit = 0xffffffffu;
    f.base_path = std::vector<std::uint32_t>(255, hardened_bit | 7);  // the longest base path
    f.entries = {{3, fake_hash(3), true}, {700, fake_hash(700), false}, {top, fake_hash(9), true}};
    const std::string long_label(300, 'x');  // a two-byte length varint
    f.labels = {{1, "pruned"}, {3, "three"}, {5, "pruned too"}, {top, long_label}};
    f.highest_used = 99;  // ignored by encode
    const std::string bytes = detail::codec::encode(f);
    auto back = detail::codec::parse(bytes);
    REQUIRE(back);
    CHECK(back->highest_used == top);
    CHECK(back->entries == f.entries);
    CHECK(back->labels == decltype(f.labels){{3, "three"}, {top, long_label}});
    CHECK(back->base_path == f.base_path);
    CHECK(back->gap_limit == 0xffffffffu);
    CHECK(detail::codec::encode(*back) == bytes);
    // Nothing used, nothing generated: the smallest file.
    detail::codec::PoolFile empty;
    const std::string small = detail::codec::encode(empty);
    CHECK(small.size() == 66);
    auto parsed = detail::codec::parse(small);
    REQUIRE(parsed);
    CHECK(*parsed == empty);
}

TEST_CASE("files written before the codec existed load and re-encode to the same bytes", "[persist][format]") {
    // test/data/pool-v1-*.bin were written by the persistence code of commit
    // e82bfe0 (a testnet pool: 30 generated, 0, 3, 7 and 22 used, index 1
    // reserved, three labels, then prune_unused; and an empty platform pool).
    const std::string bytes = read_file(fs::path(ADDRPOOL_TEST_DATA) / "pool-v1-testnet.bin");
    REQUIRE(bytes.size() == 603);
    auto parsed = detail::codec::parse(bytes);
    REQUIRE(parsed);
    CHECK(detail::codec::encode(*parsed) == bytes);
    auto pool = AddressPool::deserialize(bytes);
    REQUIRE(pool);
    CHECK(pool->serialize() == bytes);
    auto fresh = external_pool();
    auto expected = fresh.generate_addresses(23, private_source(), true);
    REQUIRE(expected);
    CHECK(pool->all_addresses() == *expected);
    std::set<std::uint32_t> used;
    for (std::uint32_t i = 0; i < 23; ++i) {
        if (pool->state(i) == AddressState::used) used.insert(i);
    }
    CHECK(used == std::set<std::uint32_t>{0, 3, 7, 22});
    CHECK(pool->label((*expected)[3]) == std::string("rent"));
    CHECK(pool->label((*expected)[12]) == std::string("bin\0ary\xff", 8));
    CHECK(pool->label((*expected)[20]) == std::string());
    CHECK(pool->stats().reserved == 0);

    const std::string empty = read_file(fs::path(ADDRPOOL_TEST_DATA) / "pool-v1-empty-platform.bin");
    auto root = AddressPool::deserialize(empty);
    REQUIRE(root);
    CHECK(root->format() == AddressFormat::platform);
    CHECK(root->type() == PoolType::absent);
    CHECK(root->network() == Network::mainnet);
    CHECK(root->base_path().empty());
    CHECK(root->serialize() == empty);
}

TEST_CASE("every whole-file seed of the deserialize fuzz corpus that parses re-encodes to the same bytes",
          "[persist][format]") {
    // raw-* seeds: a mode byte (even: the rest is the file as given), then a file.
    const fs::path corpus = fs::path(ADDRPOOL_TEST_DATA) / ".." / ".." / "fuzz" / "corpus" / "deserialize";
    int accepted = 0;
    for (const auto& e : fs::directory_iterator(corpus)) {
        if (e.path().filename().string().rfind("raw-", 0) != 0) continue;
        const std::string seed = read_file(e.path());
        REQUIRE_FALSE(seed.empty());
        REQUIRE((seed[0] & 1) == 0);
        const std::string file = seed.substr(1);
        INFO(e.path().filename().string());
        auto parsed = detail::codec::parse(file);
        if (!parsed) continue;
        ++accepted;
        CHECK(detail::codec::encode(*parsed) == file);
        if (!parsed->entries.empty() && parsed->entries.back().index >= (1u << 16)) continue;  // as the fuzz target
        auto pool = AddressPool::deserialize(file);
        REQUIRE(pool);
        CHECK(pool->serialize() == file);
    }
    CHECK(accepted >= 3);
}

// ---- the corruption table -------------------------------------------------------

TEST_CASE("every flipped byte of a small file is an error naming the field it hits", "[persist][corruption]") {
    const std::string good = small_file().bytes();
    REQUIRE(AddressPool::deserialize(good));
    for (std::uint8_t mask : {std::uint8_t{0xff}, std::uint8_t{0x01}, std::uint8_t{0x80}}) {
        for (std::size_t off = 0; off < good.size(); ++off) {
            std::string bad = good;
            bad[off] = static_cast<char>(bad[off] ^ static_cast<char>(mask));
            INFO("offset " << off << " mask " << int(mask));
            Errc expected = Errc::corrupt_data;
            if (off < 8) {
                expected = Errc::bad_magic;
            } else if (off < 10) {
                expected = Errc::unsupported_format;
            } else if (off < 18) {
                std::uint64_t declared = 0;
                for (std::size_t k = 10; k < 18; ++k) declared = (declared << 8) | static_cast<std::uint8_t>(bad[k]);
                if (declared > bad.size()) expected = Errc::truncated;  // the header claims more than there is
            }
            CHECK(code_of(bad) == expected);
        }
    }
}

TEST_CASE("every truncation of a small file is reported as truncated", "[persist][corruption]") {
    const std::string good = small_file().bytes();
    for (std::size_t len = 0; len < good.size(); ++len) {
        INFO("length " << len);
        CHECK(code_of(good.substr(0, len)) == Errc::truncated);
    }
}

TEST_CASE("a file that is not an addrpool file is bad_magic", "[persist][corruption]") {
    CHECK(code_of("{\"pool\": 1}") == Errc::bad_magic);
    CHECK(code_of("ADDR") == Errc::truncated);  // a prefix of the magic: cut short
    CHECK(code_of("XDDR") == Errc::bad_magic);
    auto b = small_file();
    b.magic = "ADDRPOOM";
    CHECK(code_of(b.bytes()) == Errc::bad_magic);
}

TEST_CASE("an unknown format version is unsupported_format, even with a valid checksum", "[persist][corruption]") {
    for (std::uint16_t v : {std::uint16_t{0}, std::uint16_t{2}, std::uint16_t{0x100}, std::uint16_t{0xffff}}) {
        auto b = small_file();
        b.version = v;
        INFO("version " << v);
        CHECK(code_of(b.bytes()) == Errc::unsupported_format);
    }
}

TEST_CASE("content that contradicts itself under a valid checksum is inconsistent_data", "[persist][corruption]") {
    using B = FileBuilder;
    struct Case {
        const char* what;
        FileBuilder file;
    };
    std::vector<Case> cases;
    auto add = [&](const char* what, auto edit) {
        FileBuilder b = small_file();
        edit(b);
        cases.push_back({what, b});
    };
    add("unknown network", [](B& b) { b.network = 4; });
    add("unknown pool type", [](B& b) { b.type = 4; });
    add("unknown address format", [](B& b) { b.format = 2; });
    add("highest used too high", [](B& b) { b.used_end = 6; });
    add("highest used missing", [](B& b) { b.used_end = 0; });
    add("highest used beyond 2^31", [](B& b) { b.used_end = 0x80000001u; });
    add("more entries than fit", [](B& b) { b.count = 4; });
    add("fewer entries than written", [](B& b) { b.count = 2; });
    add("bytes after the last entry", [](B& b) { b.extra_content = "x"; });
    add("trailing bytes after the checksum", [](B& b) { b.extra_after = "x"; });
    add("label past the end", [](B& b) {
        b = FileBuilder();
        b.entry(B::varint(0), fake_hash(0), 2, B::varint(1000) + "ab");
    });
    add("index 2^31", [](B& b) {
        b = FileBuilder();
        b.entry(B::varint(0x80000000u), fake_hash(0), 0);
    });
    add("index beyond 2^31 by delta", [](B& b) {
        b = FileBuilder();
        b.entry(B::varint(0x7fffffffu), fake_hash(0), 0).entry(B::varint(1), fake_hash(1), 0);
    });
    add("index varint above 32 bits", [](B& b) {
        b = FileBuilder();
        b.entry(B::varint(0x100000000ull), fake_hash(0), 0);
    });
    add("duplicate index", [](B& b) {
        b = FileBuilder();
        b.entry(B::varint(3), fake_hash(0), 0).entry(B::varint(0), fake_hash(1), 0);
    });
    add("non-canonical index varint", [](B& b) {
        b = FileBuilder();
        b.entry(std::string("\x81\x00", 2), fake_hash(0), 0);
    });
    add("non-canonical label length", [](B& b) {
        b = FileBuilder();
        b.entry(B::varint(0), fake_hash(0), 2, std::string("\x80\x00", 2));
    });
    add("unknown flag bits", [](B& b) {
        b = FileBuilder();
        b.entry(B::varint(0), fake_hash(0), 4);
    });
    add("two indices with one hash160", [](B& b) {
        b = FileBuilder();
        b.entry(B::varint(0), fake_hash(7), 0).entry(B::varint(9), fake_hash(7), 0);
    });
    add("length field pointing inside the content", [](B& b) { b.length = 70; });

    for (const auto& c : cases) {
        INFO(c.what);
        auto r = AddressPool::deserialize(c.file.bytes());
        REQUIRE_FALSE(r);
        // A shortened length field makes the checksum land elsewhere.
        const Errc want = std::string(c.what).rfind("length field", 0) == 0 ? Errc::corrupt_data : Errc::inconsistent_data;
        CHECK(r.error().code == want);
        CHECK_FALSE(r.error().message.empty());
    }
}

TEST_CASE("error messages name the offset of what is wrong", "[persist][corruption]") {
    auto b = small_file();
    b.network = 9;
    auto r = AddressPool::deserialize(b.bytes());
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("network") != std::string::npos);
    CHECK(r.error().message.find("offset 18") != std::string::npos);
}

// ---- after load ---------------------------------------------------------------

TEST_CASE("after load a key source continues at highest generated + 1 with a fresh pool's addresses",
          "[persist][keys]") {
    auto ks = private_source();
    auto pool = external_pool();
    REQUIRE(pool.generate_addresses(10, ks, true));
    for (std::uint32_t i = 0; i < 10; ++i) CHECK(pool.mark_index_used(i));
    auto back = roundtrip(pool);

    auto fresh = external_pool();
    auto expected = fresh.generate_addresses(15, ks, true);
    REQUIRE(expected);

    auto r = back.reserve(ks, true);
    REQUIRE(r);
    CHECK(r->index == 10);
    CHECK(r->address == (*expected)[10]);
    auto more = back.generate_addresses(4, ks, true);
    REQUIRE(more);
    CHECK(*more == std::vector<Address>(expected->begin() + 11, expected->end()));
}

TEST_CASE("after load a key source of another account is refused", "[persist][keys]") {
    auto pool = external_pool();
    REQUIRE(pool.generate_addresses(2, private_source(), true));
    CHECK(pool.mark_index_used(0));
    CHECK(pool.mark_index_used(1));
    auto back = roundtrip(pool);
    auto other = account_key().derive_child(hardened_bit | 7);  // some other account-level key
    REQUIRE(other);
    auto r = back.reserve(KeySource::from_private(*other), true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_argument);
}

TEST_CASE("after load without a key source the pool serves only its generated addresses", "[persist][keys]") {
    auto pool = external_pool();
    REQUIRE(pool.generate_addresses(5, private_source(), true));
    CHECK(pool.mark_index_used(1));
    CHECK(pool.mark_index_used(3));
    auto back = roundtrip(pool);
    std::vector<std::uint32_t> got;
    for (;;) {
        auto r = back.reserve(KeySource::none(), true);
        if (!r) {
            CHECK(r.error().code == Errc::no_key_source);
            break;
        }
        got.push_back(r->index);
        CHECK(r->address == *pool.address_at(r->index));
    }
    CHECK(got == std::vector<std::uint32_t>{0, 2, 4});
}

// ---- concurrency --------------------------------------------------------------

TEST_CASE("a snapshot taken during reserve/release/mark-used holds every earlier mark and no reservation",
          "[persist][concurrency]") {
    constexpr std::uint32_t kSize = 1000;
    auto pool = external_pool();
    REQUIRE(pool.generate_addresses(kSize, private_source(), true));
    // done[i]: set (release) after mark_index_used(i) returned true.
    std::vector<std::atomic<bool>> done(kSize);
    std::vector<std::atomic<bool>> marked(kSize);  // set before the mark is attempted
    std::latch start(3);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> ops{0};  // relaxed: a progress counter only, orders nothing
    auto worker = [&](unsigned seed) {
        std::mt19937 rng(seed);
        start.arrive_and_wait();
        // relaxed: only ends the loop; join() orders everything after it.
        while (!stop.load(std::memory_order_relaxed)) {
            ops.fetch_add(1, std::memory_order_relaxed);
            auto r = pool.reserve(KeySource::none(), true);
            if (!r) {  // every index used or reserved
                std::this_thread::yield();
                continue;
            }
            if (rng() % 20 == 0) {
                marked[r->index].store(true, std::memory_order_relaxed);
                if (pool.mark_index_used(r->index)) done[r->index].store(true, std::memory_order_release);
            } else {
                (void)pool.release_reservation(*r);
            }
        }
    };
    std::thread t1(worker, 1), t2(worker, 2);
    start.arrive_and_wait();
    std::size_t snapshots = 0;
    for (int round = 0; round < 40; ++round) {
        std::set<std::uint32_t> before;
        for (std::uint32_t i = 0; i < kSize; ++i) {
            if (done[i].load(std::memory_order_acquire)) before.insert(i);  // acquire: pairs with the worker's release
        }
        const std::string bytes = pool.serialize();
        auto snap = AddressPool::deserialize(bytes);
        REQUIRE(snap);
        ++snapshots;
        const auto st = snap->stats();
        CHECK(st.reserved == 0);
        CHECK(st.generated == kSize);
        for (std::uint32_t i : before) CHECK(snap->state(i) == AddressState::used);
        for (std::uint32_t i = 0; i < kSize; ++i) {
            const auto s = snap->state(i);
            CHECK(s != AddressState::reserved);
            if (s == AddressState::used) CHECK(marked[i].load(std::memory_order_relaxed));
        }
        // Let the churn move on between snapshots: wait for work done, not for time.
        const std::uint64_t seen = ops.load(std::memory_order_relaxed);
        while (ops.load(std::memory_order_relaxed) < seen + 200) std::this_thread::yield();
    }
    stop.store(true);
    t1.join();
    t2.join();
    CHECK(snapshots == 40);
    // Quiescent now: the snapshot is exact.
    auto final_snap = roundtrip(pool);
    for (std::uint32_t i = 0; i < kSize; ++i) {
        CHECK((final_snap.state(i) == AddressState::used) == (pool.state(i) == AddressState::used));
    }
}
