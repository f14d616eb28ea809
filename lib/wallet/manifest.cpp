// The manifest of a saved WalletSet: writer and strict reader (format in
// manifest.hpp).
#include "wallet/manifest.hpp"

#include "keys/crypto.hpp"

#include <charconv>
#include <set>
#include <utility>

namespace addrpool::detail::manifest {

namespace {

constexpr std::string_view kMagic = "addrpool-wallets ";
constexpr char kHex[] = "0123456789abcdef";

std::string hex(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

std::string hex16(std::uint64_t v) {
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kHex[v & 15];
    return out;
}

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::optional<std::string> unhex(std::string_view s) {
    if (s.size() % 2 != 0) return std::nullopt;
    std::string out;
    out.reserve(s.size() / 2);
    for (std::size_t i = 0; i < s.size(); i += 2) {
        const int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
    }
    return out;
}

// A decimal (or, with base 16, exactly 16 lowercase hex digits) number.
template <class T>
std::optional<T> number(std::string_view s, int base = 10) {
    if (s.empty() || (base == 16 && s.size() != 16)) return std::nullopt;
    if (base == 10 && s.size() > 1 && s[0] == '0') return std::nullopt;  // one spelling per number
    for (char c : s) {
        if (base == 16 ? hex_digit(c) < 0 : (c < '0' || c > '9')) return std::nullopt;
    }
    T v{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos <= line.size()) {
        const std::size_t sp = line.find(' ', pos);
        out.push_back(line.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos));
        if (sp == std::string_view::npos) break;
        pos = sp + 1;
    }
    return out;
}

Error bad(std::size_t line, const std::string& what) {
    return make_error(Errc::inconsistent_data, "manifest line " + std::to_string(line) + ": " + what);
}

}  // namespace

std::string encode(const Manifest& m) {
    std::string out;
    out.reserve(128 + m.accounts.size() * 80);
    out += std::string(kMagic) + std::to_string(kFormatVersion) + "\n";
    out += "set " + hex16(m.set_id) + "\n";
    out += "generation " + std::to_string(m.generation) + "\n";
    out += "next-file " + std::to_string(m.next_file_id) + "\n";
    out += "accounts " + std::to_string(m.accounts.size()) + "\n";
    for (const Account& a : m.accounts) {
        const auto* w = reinterpret_cast<const std::uint8_t*>(a.wallet.data());
        out += "a x" + hex({w, a.wallet.size()}) + " " + std::to_string(a.account) + " " + std::to_string(a.file_id) +
               " " + std::to_string(a.gen[0]) + " " + std::to_string(a.gen[1]) + "\n";
    }
    const Bytes32 sum = sha256({reinterpret_cast<const std::uint8_t*>(out.data()), out.size()});
    out += "sha256 " + hex(sum) + "\n";
    return out;
}

Result<Manifest> parse(std::string_view text) {
    if (text.substr(0, kMagic.size()) != kMagic) {
        return make_error(Errc::bad_magic, "not an addrpool wallet manifest");
    }
    const std::size_t first_nl = text.find('\n');
    if (first_nl == std::string_view::npos) return make_error(Errc::truncated, "the manifest ends in its first line");
    const auto version = number<std::uint32_t>(text.substr(kMagic.size(), first_nl - kMagic.size()));
    if (!version || *version != kFormatVersion) {
        return make_error(Errc::unsupported_format, "manifest format version " +
                                                        std::string(text.substr(kMagic.size(), first_nl - kMagic.size())) +
                                                        " is not supported (this build reads version 1)");
    }
    // The checksum line is the last line; it covers every byte before it.
    if (text.back() != '\n') return make_error(Errc::truncated, "the manifest does not end with a complete line");
    const std::size_t sum_at = text.rfind("\nsha256 ", text.size() - 1);
    if (sum_at == std::string_view::npos) return make_error(Errc::truncated, "the manifest has no checksum line");
    const std::string_view body = text.substr(0, sum_at + 1);
    const std::string_view sum_hex = text.substr(sum_at + 8, text.size() - 1 - (sum_at + 8));
    const Bytes32 sum = sha256({reinterpret_cast<const std::uint8_t*>(body.data()), body.size()});
    if (sum_hex != hex(sum)) return make_error(Errc::corrupt_data, "the manifest's checksum does not match its content");

    Manifest m;
    std::vector<std::string_view> lines;
    for (std::size_t pos = 0; pos < body.size();) {
        const std::size_t nl = body.find('\n', pos);
        lines.push_back(body.substr(pos, nl - pos));
        pos = nl + 1;
    }
    auto header = [&](std::size_t i, std::string_view key, int base) -> std::optional<std::uint64_t> {
        if (i >= lines.size()) return std::nullopt;
        const auto f = fields(lines[i]);
        if (f.size() != 2 || f[0] != key) return std::nullopt;
        return number<std::uint64_t>(f[1], base);
    };
    const auto set_id = header(1, "set", 16);
    const auto generation = header(2, "generation", 10);
    const auto next_file = header(3, "next-file", 10);
    const auto count = header(4, "accounts", 10);
    if (!set_id || !generation || !next_file || !count) return bad(2, "malformed header");
    if (lines.size() != 5 + *count) return bad(5, "the account count does not match the records");
    // A save counts both up and stops below the limit (manifest.hpp).
    if (*generation >= kCounterLimit) return bad(3, "generation out of range");
    if (*next_file >= kCounterLimit) return bad(4, "next-file out of range");
    m.set_id = *set_id;
    m.generation = *generation;
    m.next_file_id = *next_file;
    std::set<std::pair<std::string, std::uint32_t>> keys;
    std::set<std::uint64_t> files;
    for (std::size_t i = 5; i < lines.size(); ++i) {
        const auto f = fields(lines[i]);
        if (f.size() != 6 || f[0] != "a" || f[1].empty() || f[1][0] != 'x') return bad(i + 1, "malformed account record");
        auto wallet = unhex(f[1].substr(1));
        const auto account = number<std::uint32_t>(f[2]);
        const auto file_id = number<std::uint64_t>(f[3]);
        const auto gen_e = number<std::uint64_t>(f[4]);
        const auto gen_i = number<std::uint64_t>(f[5]);
        if (!wallet || !account || !file_id || !gen_e || !gen_i) return bad(i + 1, "malformed account record");
        if (*file_id == 0 || *file_id >= m.next_file_id) return bad(i + 1, "file id out of range");
        if (*gen_e == 0 || *gen_i == 0 || *gen_e > m.generation || *gen_i > m.generation) {
            return bad(i + 1, "file generation out of range");
        }
        if (!keys.emplace(*wallet, *account).second) return bad(i + 1, "the (wallet, account) is listed twice");
        if (!files.insert(*file_id).second) return bad(i + 1, "the file id is listed twice");
        m.accounts.push_back(Account{std::move(*wallet), *account, *file_id, {*gen_e, *gen_i}});
    }
    return m;
}

std::string pool_file(std::uint64_t file_id, unsigned chain, std::uint64_t gen) {
    return hex16(file_id) + (chain == 0 ? "-e-" : "-i-") + std::to_string(gen) + ".pool";
}

bool is_pool_file_or_temporary(std::string_view name) {
    // <16 hex>-<e|i>-<decimal>.pool[.tmp-...]
    if (name.size() < 16 + 3 + 1 + 5) return false;
    for (std::size_t i = 0; i < 16; ++i) {
        if (hex_digit(name[i]) < 0) return false;
    }
    if (name[16] != '-' || (name[17] != 'e' && name[17] != 'i') || name[18] != '-') return false;
    std::size_t i = 19;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
    if (i == 19) return false;
    const std::string_view rest = name.substr(i);
    return rest == ".pool" || rest.substr(0, 10) == ".pool.tmp-";
}

}  // namespace addrpool::detail::manifest
