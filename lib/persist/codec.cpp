// The file codec: encode and parse, the format's only writer and reader
// (layout in codec.hpp).
#include "persist/codec.hpp"

#include "keys/crypto.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

namespace addrpool::detail::codec {

namespace {

constexpr std::array<char, 8> kMagic = {'A', 'D', 'D', 'R', 'P', 'O', 'O', 'L'};
constexpr std::size_t kVersionOffset = 8;
constexpr std::size_t kLengthOffset = 10;
constexpr std::size_t kConfigOffset = 18;
constexpr std::size_t kTrailerSize = 32;
// Smallest file: fixed header (26) + highest used (4) + count (4) + trailer.
constexpr std::size_t kMinFileSize = 26 + 4 + 4 + kTrailerSize;
// Smallest entry: 1-byte varint + hash160 + flags.
constexpr std::size_t kMinEntrySize = 1 + 20 + 1;
constexpr std::uint32_t kIndexLimit = 0x80000000u;  // indices are < 2^31

constexpr std::uint8_t kFlagUsed = 1;
constexpr std::uint8_t kFlagLabelled = 2;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// ---- writing ---------------------------------------------------------------

std::size_t varint_size(std::uint32_t v) {
    std::size_t n = 1;
    for (; v >= 0x80; v >>= 7) ++n;
    return n;
}

class Writer {
public:
    explicit Writer(std::size_t size) { out_.reserve(size); }
    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u16(std::uint16_t v) {
        u8(static_cast<std::uint8_t>(v >> 8));
        u8(static_cast<std::uint8_t>(v));
    }
    void u32(std::uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) u8(static_cast<std::uint8_t>(v >> s));
    }
    void u64(std::uint64_t v) {
        for (int s = 56; s >= 0; s -= 8) u8(static_cast<std::uint8_t>(v >> s));
    }
    void varint(std::uint32_t v) {
        for (; v >= 0x80; v >>= 7) u8(static_cast<std::uint8_t>(v | 0x80));
        u8(static_cast<std::uint8_t>(v));
    }
    void bytes(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
    std::string& str() { return out_; }

private:
    std::string out_;
};

// The label written for entry `index`, advancing `label` past labels of
// indices that are not entries; nullptr if the entry has none.
using Labels = std::vector<std::pair<std::uint32_t, std::string>>;
const std::string* label_of(std::uint32_t index, Labels::const_iterator& label, Labels::const_iterator end) {
    while (label != end && label->first < index) ++label;
    return label != end && label->first == index ? &label->second : nullptr;
}

// Labels above 4 GiB cannot be written; none exist in practice.
std::uint32_t label_size(const std::string& s) {
    return static_cast<std::uint32_t>(std::min<std::size_t>(s.size(), 0xffffffffu));
}

// ---- reading ---------------------------------------------------------------

// A bounds-checked cursor over the checksummed content. Running off its end
// is inconsistent_data: the checksum matched, so the file is what was
// written, and its fields contradict its length.
class Reader {
public:
    explicit Reader(std::string_view content) : data_(content) {}
    std::size_t offset() const noexcept { return pos_; }
    std::size_t left() const noexcept { return data_.size() - pos_; }

    bool u8(std::uint8_t& v) {
        if (left() < 1) return false;
        v = static_cast<std::uint8_t>(data_[pos_++]);
        return true;
    }
    bool u32(std::uint32_t& v) {
        if (left() < 4) return false;
        v = get_be32(reinterpret_cast<const std::uint8_t*>(data_.data() + pos_));
        pos_ += 4;
        return true;
    }
    bool bytes(std::uint8_t* out, std::size_t n) {
        if (left() < n) return false;
        std::memcpy(out, data_.data() + pos_, n);
        pos_ += n;
        return true;
    }
    bool text(std::string& out, std::size_t n) {
        if (left() < n) return false;  // before allocating: n is bounded by the file
        out.assign(data_.substr(pos_, n));
        pos_ += n;
        return true;
    }
    // Minimal unsigned LEB128 of at most 32 bits. Sets `canonical` false for
    // an over-long or oversized encoding (the caller reports it).
    bool varint(std::uint32_t& v, bool& canonical) {
        std::uint64_t acc = 0;
        canonical = true;
        for (unsigned k = 0; k < 5; ++k) {
            std::uint8_t b = 0;
            if (!u8(b)) return false;
            acc |= std::uint64_t{b & 0x7fu} << (7 * k);
            if ((b & 0x80) == 0) {
                // A last byte of 0 after the first is an over-long encoding.
                if ((k > 0 && b == 0) || acc > 0xffffffffu) canonical = false;
                v = static_cast<std::uint32_t>(acc);
                return true;
            }
        }
        canonical = false;  // continuation bit on the fifth byte
        return true;
    }

private:
    std::string_view data_;
    std::size_t pos_ = 0;
};

Error inconsistent(std::size_t offset, const std::string& what) {
    return make_error(Errc::inconsistent_data, what + " (at byte offset " + std::to_string(offset) + ")");
}
Error runs_out(std::size_t offset, const char* field) {
    return inconsistent(offset, std::string(field) + " runs past the end of the checksummed content");
}

// Magic, version, length and checksum: the checksummed content of `bytes`
// (trailer excluded), or why there is none.
Result<std::string_view> checked_content(std::string_view bytes) {
    // Magic and version first, so a foreign or newer file says so.
    const std::string_view magic(kMagic.data(), kMagic.size());
    if (bytes.size() < magic.size()) {
        if (magic.substr(0, bytes.size()) == bytes) {
            return make_error(Errc::truncated, "the file ends inside the magic (" + std::to_string(bytes.size()) +
                                                   " bytes)");
        }
        return make_error(Errc::bad_magic, "not an addrpool file (the first bytes are not \"ADDRPOOL\")");
    }
    if (bytes.substr(0, magic.size()) != magic) {
        return make_error(Errc::bad_magic, "not an addrpool file (the first 8 bytes are not \"ADDRPOOL\")");
    }
    if (bytes.size() < kLengthOffset) {
        return make_error(Errc::truncated, "the file ends inside the format version (offset 8)");
    }
    const auto* u = reinterpret_cast<const std::uint8_t*>(bytes.data());
    const std::uint16_t version = static_cast<std::uint16_t>((u[kVersionOffset] << 8) | u[kVersionOffset + 1]);
    if (version != kFormatVersion) {
        return make_error(Errc::unsupported_format, "format version " + std::to_string(version) +
                                                        " (offset 8); this build reads version " +
                                                        std::to_string(kFormatVersion));
    }
    if (bytes.size() < kConfigOffset) {
        return make_error(Errc::truncated, "the file ends inside the length field (offset 10)");
    }
    std::uint64_t declared = 0;
    for (std::size_t k = 0; k < 8; ++k) declared = (declared << 8) | u[kLengthOffset + k];
    if (bytes.size() < declared) {
        return make_error(Errc::truncated, "the file is " + std::to_string(bytes.size()) +
                                               " bytes long but its header (offset 10) says " +
                                               std::to_string(declared));
    }
    if (declared < kMinFileSize) {
        return make_error(Errc::corrupt_data, "the length field (offset 10) says " + std::to_string(declared) +
                                                  " bytes, below the smallest possible file (" +
                                                  std::to_string(kMinFileSize) + ")");
    }
    const std::size_t length = static_cast<std::size_t>(declared);
    const std::string_view content = bytes.substr(0, length - kTrailerSize);
    const Bytes32 sum = sha256(as_bytes(content));
    if (std::memcmp(sum.data(), bytes.data() + content.size(), kTrailerSize) != 0) {
        return make_error(Errc::corrupt_data, "SHA-256 checksum mismatch (trailer at offset " +
                                                  std::to_string(content.size()) + ")");
    }
    if (bytes.size() > length) {
        return inconsistent(length, std::to_string(bytes.size() - length) + " trailing bytes after the checksum");
    }
    return content;
}

// Two indices with one hash160 cannot come from one key (probability
// 2^-160): the lookup index would also map the address to one of them only.
// Sorting 8-byte prefixes keeps this cheap for a million entries.
Result<void> check_distinct_hashes(const std::vector<PoolFileEntry>& entries) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> keys;  // 16 bytes per entry (>= 22 in the file)
    keys.reserve(entries.size());
    for (std::uint32_t n = 0; n < entries.size(); ++n) {
        std::uint64_t k = 0;
        for (std::size_t b = 0; b < 8; ++b) k = (k << 8) | entries[n].hash[b];
        keys.emplace_back(k, n);
    }
    std::sort(keys.begin(), keys.end());
    for (std::size_t k = 1; k < keys.size(); ++k) {
        if (keys[k].first != keys[k - 1].first) continue;
        // Equal prefixes: compare every pair in this run (runs are tiny).
        for (std::size_t j = k; j > 0 && keys[j - 1].first == keys[k].first; --j) {
            const auto& a = entries[keys[j - 1].second];
            const auto& b = entries[keys[k].second];
            if (a.hash == b.hash) {
                return make_error(Errc::inconsistent_data, "indices " + std::to_string(std::min(a.index, b.index)) +
                                                               " and " + std::to_string(std::max(a.index, b.index)) +
                                                               " have the same hash160");
            }
        }
    }
    return {};
}

}  // namespace

// ===========================================================================
// encode
// ===========================================================================

std::string encode(const PoolFile& f) {
    if (f.base_path.size() > 0xff) std::abort();  // precondition (codec.hpp): a caller bug
    // Pass 1: the exact size, and the preconditions.
    std::size_t size = 26 + 4 * f.base_path.size() + 4 + 4 + kTrailerSize;
    std::uint32_t used_end = 0, count = 0;
    auto label = f.labels.begin();
    for (std::size_t n = 0; n < f.entries.size(); ++n) {
        const PoolFileEntry& e = f.entries[n];
        if (e.index >= kIndexLimit || (n > 0 && e.index <= f.entries[n - 1].index)) std::abort();  // precondition
        size += varint_size(n == 0 ? e.index : e.index - f.entries[n - 1].index) + 20 + 1;
        if (const std::string* text = label_of(e.index, label, f.labels.end())) {
            size += varint_size(label_size(*text)) + label_size(*text);
        }
        if (e.used) used_end = e.index + 1;
        ++count;
    }
    for (std::size_t n = 1; n < f.labels.size(); ++n) {
        if (f.labels[n].first <= f.labels[n - 1].first) std::abort();  // precondition
    }

    // Pass 2: the bytes.
    Writer w(size);
    w.bytes(kMagic.data(), kMagic.size());
    w.u16(kFormatVersion);
    w.u64(size);
    w.u8(static_cast<std::uint8_t>(f.network));
    w.u8(static_cast<std::uint8_t>(f.type));
    w.u8(static_cast<std::uint8_t>(f.format));
    w.u32(f.gap_limit);
    w.u8(static_cast<std::uint8_t>(f.base_path.size()));
    for (std::uint32_t c : f.base_path) w.u32(c);
    w.u32(used_end);
    w.u32(count);
    label = f.labels.begin();
    std::uint32_t prev = 0;
    for (const PoolFileEntry& e : f.entries) {
        w.varint(e.index - prev);  // the first entry: prev = 0, so its index
        w.bytes(e.hash.data(), e.hash.size());
        const std::string* text = label_of(e.index, label, f.labels.end());
        w.u8(static_cast<std::uint8_t>((e.used ? kFlagUsed : 0) | (text != nullptr ? kFlagLabelled : 0)));
        if (text != nullptr) {
            w.varint(label_size(*text));
            w.bytes(text->data(), label_size(*text));
        }
        prev = e.index;
    }
    const Bytes32 sum = sha256(as_bytes(w.str()));
    w.bytes(sum.data(), sum.size());
    if (w.str().size() != size) std::abort();  // the two passes disagree: a codec bug
    return std::move(w.str());
}

// ===========================================================================
// parse: every check, before any pool is built
// ===========================================================================

Result<PoolFile> parse(std::string_view bytes) {
    auto checked = checked_content(bytes);
    if (!checked) return std::move(checked).error();

    // The content is exactly what some writer produced; now it must make sense.
    Reader r(checked->substr(kConfigOffset));
    const auto at = [&r] { return kConfigOffset + r.offset(); };
    PoolFile f;
    std::uint8_t network = 0, type = 0, format = 0, path_len = 0;
    if (!r.u8(network)) return runs_out(at(), "network");
    if (network > static_cast<std::uint8_t>(Network::regtest)) {
        return inconsistent(at() - 1, "unknown network " + std::to_string(network));
    }
    if (!r.u8(type)) return runs_out(at(), "pool type");
    if (type > static_cast<std::uint8_t>(PoolType::absent_hardened)) {
        return inconsistent(at() - 1, "unknown pool type " + std::to_string(type));
    }
    if (!r.u8(format)) return runs_out(at(), "address format");
    if (format > static_cast<std::uint8_t>(AddressFormat::platform)) {
        return inconsistent(at() - 1, "unknown address format " + std::to_string(format));
    }
    f.network = static_cast<Network>(network);
    f.type = static_cast<PoolType>(type);
    f.format = static_cast<AddressFormat>(format);
    if (!r.u32(f.gap_limit)) return runs_out(at(), "gap limit");
    if (!r.u8(path_len)) return runs_out(at(), "base path length");
    f.base_path.resize(path_len);  // at most 255
    for (auto& c : f.base_path) {
        if (!r.u32(c)) return runs_out(at(), "base path component");
    }
    std::uint32_t used_end = 0, count = 0;
    if (!r.u32(used_end)) return runs_out(at(), "highest used");
    const std::size_t used_end_at = at() - 4;
    if (used_end > kIndexLimit) {
        return inconsistent(used_end_at, "highest used index " + std::to_string(used_end - 1) + " is not below 2^31");
    }
    if (!r.u32(count)) return runs_out(at(), "entry count");
    if (count > r.left() / kMinEntrySize) {  // before reserving: the count must fit in the file
        return inconsistent(at() - 4, std::to_string(count) + " entries cannot fit in the " +
                                          std::to_string(r.left()) + " bytes left");
    }
    f.entries.reserve(count);

    std::uint32_t seen_used_end = 0;
    for (std::uint32_t n = 0; n < count; ++n) {
        const std::size_t entry_at = at();
        std::uint32_t delta = 0;
        bool canonical = true;
        if (!r.varint(delta, canonical)) return runs_out(entry_at, "entry index");
        if (!canonical) return inconsistent(entry_at, "entry " + std::to_string(n) + ": non-canonical index varint");
        std::uint64_t index = delta;
        if (n > 0) {
            if (delta == 0) {
                return inconsistent(entry_at, "entry " + std::to_string(n) + ": duplicate index " +
                                                  std::to_string(f.entries.back().index));
            }
            index += f.entries.back().index;
        }
        if (index >= kIndexLimit) {
            return inconsistent(entry_at, "entry " + std::to_string(n) + ": index " + std::to_string(index) +
                                              " is not below 2^31");
        }
        PoolFileEntry e{static_cast<std::uint32_t>(index), {}, false};
        if (!r.bytes(e.hash.data(), e.hash.size())) return runs_out(at(), "entry hash160");
        std::uint8_t flags = 0;
        if (!r.u8(flags)) return runs_out(at(), "entry flags");
        if ((flags & ~(kFlagUsed | kFlagLabelled)) != 0) {
            return inconsistent(at() - 1, "entry " + std::to_string(n) + ": unknown flag bits " +
                                              std::to_string(flags));
        }
        e.used = (flags & kFlagUsed) != 0;
        if (e.used) seen_used_end = e.index + 1;
        if (flags & kFlagLabelled) {
            const std::size_t len_at = at();
            std::uint32_t len = 0;
            if (!r.varint(len, canonical)) return runs_out(len_at, "label length");
            if (!canonical) return inconsistent(len_at, "entry " + std::to_string(n) + ": non-canonical label length");
            std::string label;
            if (!r.text(label, len)) return runs_out(len_at, "label");
            f.labels.emplace_back(e.index, std::move(label));
        }
        f.entries.push_back(e);
    }
    if (r.left() != 0) {
        return inconsistent(at(), std::to_string(r.left()) + " bytes after the last entry");
    }
    if (used_end != seen_used_end) {
        return inconsistent(used_end_at, "highest used + 1 is " + std::to_string(used_end) + " but the entries say " +
                                             std::to_string(seen_used_end));
    }
    if (used_end != 0) f.highest_used = used_end - 1;
    if (auto distinct = check_distinct_hashes(f.entries); !distinct) return std::move(distinct).error();
    return f;
}

}  // namespace addrpool::detail::codec
