// Base58 / Base58Check. Both conversions are quadratic in the input length,
// which is fine for inputs of at most ~111 characters (an extended key);
// encoding, on every hand-out that renders an address, works five digits at
// a time.
#include "keys/base58.hpp"

#include "common/finally.hpp"
#include "keys/crypto.hpp"

#include <algorithm>
#include <array>
#include <utility>

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

// base58_encode works in limbs of 58^5, the largest power of 58 below 2^30:
// a limb shifted by 32 bits plus a carry fits 64 bits, and every step
// divides by this constant (a multiplication, not a division instruction).
constexpr unsigned kDigitsPerLimb = 5;
constexpr std::uint64_t kLimbBase = std::uint64_t{58} * 58 * 58 * 58 * 58;
static_assert(kLimbBase < (std::uint64_t{1} << 30));

// The wipe matters: base58check_decode carries extended private keys.
void wipe(std::vector<std::uint8_t>& v) noexcept {
    if (!v.empty()) cleanse(v.data(), v.size());
}

}  // namespace

std::string base58_encode(std::span<const std::uint8_t> data) {
    std::size_t zeros = 0;
    while (zeros < data.size() && data[zeros] == 0) ++zeros;
    const std::span<const std::uint8_t> rest = data.subspan(zeros);

    // The number in base 58^5, least significant limb first: n bytes make
    // fewer than 1.37 n + 1 digits, five per limb.
    const std::size_t max_limbs = (rest.size() * 137 / 100 + 1) / kDigitsPerLimb + 2;
    std::array<std::uint32_t, 64> local;  // inputs up to ~230 bytes; an extended key is 82
    std::vector<std::uint32_t> large;
    std::uint32_t* limbs = local.data();
    if (max_limbs > local.size()) {
        large.resize(max_limbs);
        limbs = large.data();
    }
    std::size_t used = 0;
    // Extended private keys pass through here: the limbs are wiped.
    const Finally wipe_limbs([&] { cleanse(limbs, used * sizeof(std::uint32_t)); });
    // The input, big-endian, in chunks of 4 bytes after a first chunk of
    // size % 4: limbs = limbs * 256^width + chunk.
    std::size_t pos = 0;
    while (pos < rest.size()) {
        const std::size_t width = pos == 0 && rest.size() % 4 != 0 ? rest.size() % 4 : 4;
        std::uint64_t carry = 0;
        for (std::size_t k = 0; k < width; ++k) carry = (carry << 8) | rest[pos + k];
        pos += width;
        const unsigned shift = static_cast<unsigned>(8 * width);
        for (std::size_t i = 0; i < used; ++i) {
            // limb < 2^30, so v < 2^62 + 2^33: no overflow.
            const std::uint64_t v = (std::uint64_t{limbs[i]} << shift) + carry;
            limbs[i] = static_cast<std::uint32_t>(v % kLimbBase);
            carry = v / kLimbBase;
        }
        while (carry != 0) {
            limbs[used++] = static_cast<std::uint32_t>(carry % kLimbBase);
            carry /= kLimbBase;
        }
    }

    // Every limb but the top one is exactly five digits ('1' is digit 0);
    // the top one has no leading zero digits.
    std::size_t digits = used == 0 ? 0 : (used - 1) * kDigitsPerLimb;
    if (used != 0) {
        for (std::uint32_t top = limbs[used - 1]; top != 0; top /= 58) ++digits;
    }
    std::string out(zeros + digits, '1');
    std::size_t at = out.size();
    for (std::size_t i = 0; i < used; ++i) {
        std::uint32_t limb = limbs[i];
        if (i + 1 < used) {
            for (unsigned k = 0; k < kDigitsPerLimb; ++k, limb /= 58) out[--at] = kAlphabet[limb % 58];
        } else {
            for (; limb != 0; limb /= 58) out[--at] = kAlphabet[limb % 58];
        }
    }
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
    const Bytes32 check = sha256d(payload);
    std::array<std::uint8_t, 128> local;  // an address is 25 bytes with its checksum, an extended key 82
    std::vector<std::uint8_t> large;
    std::uint8_t* buf = local.data();
    if (payload.size() + 4 > local.size()) {
        large.resize(payload.size() + 4);
        buf = large.data();
    }
    const Finally wipe_buf([&] { cleanse(buf, payload.size() + 4); });
    std::copy(payload.begin(), payload.end(), buf);
    std::copy(check.begin(), check.begin() + 4, buf + payload.size());
    return base58_encode(std::span<const std::uint8_t>(buf, payload.size() + 4));
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
