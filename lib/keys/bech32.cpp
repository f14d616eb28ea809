// bech32m (BIP350) for DIP-18 platform addresses.
#include "keys/bech32.hpp"

#include <array>

namespace addrpool::detail {
namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

constexpr std::array<std::int8_t, 128> make_rev_table() {
    std::array<std::int8_t, 128> t{};
    for (auto& v : t) v = -1;
    for (std::size_t i = 0; i < kCharset.size(); ++i)
        t[static_cast<unsigned char>(kCharset[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto kRev = make_rev_table();

// One step of the BIP173 checksum over a 5-bit value.
constexpr std::uint32_t polymod_step(std::uint32_t chk, std::uint8_t v) noexcept {
    constexpr std::array<std::uint32_t, 5> kGenerator = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    const std::uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (unsigned i = 0; i < 5; ++i) chk ^= (0u - ((top >> i) & 1)) & kGenerator[i];  // no data-dependent branch
    return chk;
}

std::uint32_t polymod(std::span<const std::uint8_t> values, std::uint32_t chk = 1) noexcept {
    for (const std::uint8_t v : values) chk = polymod_step(chk, v);
    return chk;
}

// The checksum state after the HRP's expansion (its high bits, 0, its low bits).
std::uint32_t polymod_hrp(std::string_view hrp) noexcept {
    std::uint32_t chk = 1;
    for (const char c : hrp) chk = polymod_step(chk, static_cast<std::uint8_t>(static_cast<unsigned char>(c) >> 5));
    chk = polymod_step(chk, 0);
    for (const char c : hrp) chk = polymod_step(chk, static_cast<std::uint8_t>(static_cast<unsigned char>(c) & 31));
    return chk;
}

}  // namespace

bool convert_bits(std::span<const std::uint8_t> in, unsigned from_bits, unsigned to_bits, bool pad,
                  std::vector<std::uint8_t>& out) {
    std::uint32_t acc = 0;
    unsigned bits = 0;
    const std::uint32_t maxv = (1u << to_bits) - 1;
    for (const std::uint8_t v : in) {
        if ((v >> from_bits) != 0) return false;
        acc = ((acc << from_bits) | v) & 0xffffff;  // only the low bits are ever needed
        bits += from_bits;
        while (bits >= to_bits) {
            bits -= to_bits;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & maxv));
        }
    }
    if (pad) {
        if (bits > 0) out.push_back(static_cast<std::uint8_t>((acc << (to_bits - bits)) & maxv));
    } else if (bits >= from_bits || ((acc << (to_bits - bits)) & maxv) != 0) {
        return false;
    }
    return true;
}

std::string bech32m_encode(std::string_view hrp, std::span<const std::uint8_t> values) {
    std::uint32_t chk = polymod(values, polymod_hrp(hrp));
    for (unsigned i = 0; i < 6; ++i) chk = polymod_step(chk, 0);
    const std::uint32_t mod = chk ^ kBech32mConst;

    std::string out;
    out.reserve(hrp.size() + 1 + values.size() + 6);
    out.append(hrp);
    out.push_back('1');
    for (const std::uint8_t v : values) out.push_back(kCharset[v & 31]);
    for (unsigned i = 0; i < 6; ++i) out.push_back(kCharset[(mod >> (5 * (5 - i))) & 31]);
    return out;
}

Result<Bech32Data> bech32m_decode(std::string_view text) {
    if (text.empty()) return make_error(Errc::invalid_encoding, "empty bech32m string");
    if (text.size() > kBech32MaxLength)
        return make_error(Errc::invalid_encoding, "bech32m string longer than 90 characters");
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 33 || c > 126)
            return make_error(Errc::invalid_encoding, "character " + std::to_string(i + 1) + " is not printable ASCII");
        // DIP-18 allows lowercase only, so all-uppercase is rejected as well as mixed case.
        if (c >= 'A' && c <= 'Z')
            return make_error(Errc::invalid_encoding,
                              "character " + std::to_string(i + 1) + " is uppercase; DIP-18 addresses are lowercase");
    }
    const std::size_t sep = text.rfind('1');
    if (sep == std::string_view::npos || sep == 0)
        return make_error(Errc::invalid_encoding, "bech32m string has no human-readable part");
    if (text.size() - sep - 1 < 6)
        return make_error(Errc::invalid_encoding, "bech32m data part shorter than its checksum");

    Bech32Data result;
    result.hrp.assign(text.substr(0, sep));
    std::vector<std::uint8_t> values;
    values.reserve(text.size() - sep - 1);
    for (std::size_t i = sep + 1; i < text.size(); ++i) {
        const int v = kRev[static_cast<unsigned char>(text[i]) & 127];
        if (v < 0)
            return make_error(Errc::invalid_encoding,
                              "character " + std::to_string(i + 1) + " is not in the bech32 alphabet");
        values.push_back(static_cast<std::uint8_t>(v));
    }

    const std::uint32_t mod = polymod(values, polymod_hrp(result.hrp));
    if (mod == kBech32Const)
        return make_error(Errc::bad_checksum, "bech32 (BIP173) checksum; DIP-18 requires bech32m");
    if (mod != kBech32mConst) return make_error(Errc::bad_checksum, "bech32m checksum mismatch");

    values.resize(values.size() - 6);
    result.values = std::move(values);
    return result;
}

std::string bech32m_encode_bytes(std::string_view hrp, std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> values;
    values.reserve((payload.size() * 8 + 4) / 5);
    convert_bits(payload, 8, 5, true, values);  // cannot fail: every byte fits 8 bits
    return bech32m_encode(hrp, values);
}

Result<Bech32Bytes> bech32m_decode_bytes(std::string_view text) {
    auto decoded = bech32m_decode(text);
    if (!decoded) return std::move(decoded).error();
    Bech32Bytes out;
    out.hrp = std::move(decoded->hrp);
    if (!convert_bits(decoded->values, 5, 8, false, out.payload))
        return make_error(Errc::invalid_encoding, "bech32m data has invalid padding");
    return out;
}

}  // namespace addrpool::detail
