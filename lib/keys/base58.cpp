// Base58 / Base58Check. Quadratic big-number conversion is fine here: inputs
// are at most ~111 characters (an extended key).
#include "keys/base58.hpp"

#include "keys/crypto.hpp"

#include <algorithm>
#include <array>

namespace addrpool::detail {
namespace {

constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

// Character → digit value, -1 outside the alphabet.
constexpr std::array<std::int8_t, 256> make_digit_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (std::size_t i = 0; i < kAlphabet.size(); ++i)
        t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto kDigit = make_digit_table();

// The wipe matters: base58check_decode carries extended private keys.
void wipe(std::vector<std::uint8_t>& v) noexcept {
    if (!v.empty()) cleanse(v.data(), v.size());
}

}  // namespace

std::string base58_encode(std::span<const std::uint8_t> data) {
    std::size_t zeros = 0;
    while (zeros < data.size() && data[zeros] == 0) ++zeros;

    // Base-58 digits, least significant first; log(256)/log(58) < 1.37.
    std::vector<std::uint8_t> digits;
    digits.reserve((data.size() - zeros) * 138 / 100 + 1);
    for (std::size_t i = zeros; i < data.size(); ++i) {
        unsigned carry = data[i];
        for (auto& d : digits) {
            carry += static_cast<unsigned>(d) << 8;
            d = static_cast<std::uint8_t>(carry % 58);
            carry /= 58;
        }
        while (carry > 0) {
            digits.push_back(static_cast<std::uint8_t>(carry % 58));
            carry /= 58;
        }
    }

    std::string out(zeros, '1');
    out.reserve(zeros + digits.size());
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(kAlphabet[*it]);
    wipe(digits);
    return out;
}

Result<std::vector<std::uint8_t>> base58_decode(std::string_view text) {
    if (text.empty()) return make_error(Errc::invalid_encoding, "empty Base58 string");
    if (text.size() > kBase58MaxDecodeLength)
        return make_error(Errc::invalid_encoding, "Base58 string longer than " +
                                                      std::to_string(kBase58MaxDecodeLength) + " characters");

    std::size_t zeros = 0;
    while (zeros < text.size() && text[zeros] == '1') ++zeros;

    // Bytes, least significant first.
    std::vector<std::uint8_t> bytes;
    bytes.reserve(text.size() * 733 / 1000 + 1);
    for (std::size_t i = zeros; i < text.size(); ++i) {
        const int digit = kDigit[static_cast<unsigned char>(text[i])];
        if (digit < 0) {
            wipe(bytes);
            return make_error(Errc::invalid_encoding,
                              "character " + std::to_string(i + 1) + " is not in the Base58 alphabet");
        }
        unsigned carry = static_cast<unsigned>(digit);
        for (auto& b : bytes) {
            carry += static_cast<unsigned>(b) * 58;
            b = static_cast<std::uint8_t>(carry & 0xff);
            carry >>= 8;
        }
        while (carry > 0) {
            bytes.push_back(static_cast<std::uint8_t>(carry & 0xff));
            carry >>= 8;
        }
    }

    std::vector<std::uint8_t> out(zeros + bytes.size(), 0);
    std::reverse_copy(bytes.begin(), bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(zeros));
    wipe(bytes);
    return out;
}

std::string base58check_encode(std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> buf(payload.begin(), payload.end());
    const Bytes32 check = sha256d(payload);
    buf.insert(buf.end(), check.begin(), check.begin() + 4);
    std::string out = base58_encode(buf);
    wipe(buf);
    return out;
}

Result<std::vector<std::uint8_t>> base58check_decode(std::string_view text) {
    auto decoded = base58_decode(text);
    if (!decoded) return std::move(decoded).error();
    std::vector<std::uint8_t> raw = std::move(decoded).value();
    if (raw.size() < 4) {
        wipe(raw);
        return make_error(Errc::invalid_encoding, "Base58Check data shorter than its 4-byte checksum");
    }
    const std::size_t n = raw.size() - 4;
    const Bytes32 check = sha256d(std::span<const std::uint8_t>(raw.data(), n));
    if (!std::equal(check.begin(), check.begin() + 4, raw.begin() + static_cast<std::ptrdiff_t>(n))) {
        wipe(raw);
        return make_error(Errc::bad_checksum, "Base58Check checksum mismatch");
    }
    std::vector<std::uint8_t> payload(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(n));
    wipe(raw);
    return payload;
}

}  // namespace addrpool::detail
