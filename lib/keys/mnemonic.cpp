// BIP39 (English): mnemonic validation, mnemonic → seed, entropy → mnemonic,
// and the Seed value type.
//
// Input rules (a choice BIP39 leaves open):
// - Words are separated by one or more ASCII spaces; leading and trailing
//   spaces are ignored. Tabs, newlines and any other character outside a–z
//   make the mnemonic invalid (invalid_mnemonic, naming the word's position),
//   so there is exactly one way to split a mnemonic and no look-alike
//   Unicode space slips through.
// - The PBKDF2 password is the canonical form: the words joined by single
//   spaces. The same words therefore give the same wallet however they were
//   spaced; for singly-spaced input this is the text BIP39 hashes.
// - The passphrase is used as the UTF-8 bytes given, without NFKD
//   normalization (that needs Unicode tables this library does not carry).
//   ASCII passphrases, and any already in NFKD form, match BIP39 exactly.
//
// Every buffer that held words, word indices, entropy, passphrase or seed is
// wiped with cleanse() before it is released. Error messages name positions
// and counts, never words.
#include <addrpool/keys.hpp>

#include "keys/crypto.hpp"

#include <algorithm>
#include <array>
#include <iterator>

namespace addrpool {
namespace {

static constexpr std::string_view kWords[] = {
#include "bip39_english.inc"
};
static_assert(std::size(kWords) == 2048, "the BIP39 list has 2048 words");
static_assert(std::is_sorted(std::begin(kWords), std::end(kWords)), "lookups binary-search the list");

constexpr std::size_t kMaxWords = 24;
constexpr std::size_t kMaxEntropy = 32;
constexpr std::uint32_t kPbkdf2Rounds = 2048;

// Wipes a fixed buffer on scope exit, on every return path.
template <class T>
struct Wiper {
    T& buf;
    ~Wiper() { detail::cleanse(buf.data(), buf.size() * sizeof(buf[0])); }
};
template <class T>
Wiper(T&) -> Wiper<T>;

struct StringWiper {
    std::string& s;
    ~StringWiper() {
        if (!s.empty()) detail::cleanse(s.data(), s.size());
    }
};

bool is_valid_word_count(std::size_t n) noexcept { return n >= 12 && n <= 24 && n % 3 == 0; }

// Splits on ASCII spaces. Returns the count, which may exceed kMaxWords (the
// excess words are counted but not stored).
std::size_t split_words(std::string_view text, std::array<std::string_view, kMaxWords>& out) noexcept {
    std::size_t count = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == ' ') { ++i; continue; }
        const std::size_t start = i;
        while (i < text.size() && text[i] != ' ') ++i;
        if (count < kMaxWords) out[count] = text.substr(start, i - start);
        ++count;
    }
    return count;
}

std::string position(std::size_t index0) { return "word " + std::to_string(index0 + 1); }

// Checks the mnemonic and recovers its entropy. On success entropy[0..len)
// holds it; the caller wipes `entropy`.
Result<void> decode_mnemonic(std::string_view text, std::array<std::string_view, kMaxWords>& words,
                             std::size_t& word_count, std::array<std::uint8_t, kMaxEntropy + 1>& entropy,
                             std::size_t& entropy_len) {
    word_count = split_words(text, words);
    if (!is_valid_word_count(word_count))
        return make_error(Errc::invalid_mnemonic, "mnemonic has " + std::to_string(word_count) +
                                                      " words; BIP39 needs 12, 15, 18, 21 or 24");

    std::array<std::uint16_t, kMaxWords> indices{};
    Wiper wipe_indices{indices};
    for (std::size_t w = 0; w < word_count; ++w) {
        const std::string_view word = words[w];
        if (!std::all_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
            return make_error(Errc::invalid_mnemonic,
                              position(w) + " contains a character other than a-z or an ASCII space");
        const auto it = std::lower_bound(std::begin(kWords), std::end(kWords), word);
        if (it == std::end(kWords) || *it != word)
            return make_error(Errc::invalid_mnemonic, position(w) + " is not in the BIP39 English list");
        indices[w] = static_cast<std::uint16_t>(it - std::begin(kWords));
    }

    // 11 bits per word: ENT bits of entropy followed by ENT/32 checksum bits.
    const std::size_t total_bits = word_count * 11;
    const std::size_t checksum_bits = total_bits / 33;
    entropy_len = (total_bits - checksum_bits) / 8;
    std::fill(entropy.begin(), entropy.end(), std::uint8_t{0});
    for (std::size_t bit = 0; bit < total_bits; ++bit) {
        const unsigned v = (indices[bit / 11] >> (10 - bit % 11)) & 1u;
        if (v) entropy[bit / 8] = static_cast<std::uint8_t>(entropy[bit / 8] | (0x80u >> (bit % 8)));
    }

    const detail::Bytes32 digest = detail::sha256(std::span<const std::uint8_t>(entropy.data(), entropy_len));
    const unsigned mask = (0xffu << (8 - checksum_bits)) & 0xffu;
    const bool ok = (digest[0] & mask) == (entropy[entropy_len] & mask);
    entropy[entropy_len] = 0;  // the checksum bits are not entropy
    if (!ok) return make_error(Errc::mnemonic_checksum, "mnemonic checksum does not match");
    return {};
}

}  // namespace

// ---- Seed -----------------------------------------------------------------

// The constructor cannot report an error; over-long input yields an empty
// Seed, which ExtendedPrivKey::from_seed rejects as invalid_seed, rather than
// silently truncating key material.
Seed::Seed(std::span<const std::uint8_t> bytes) {
    if (bytes.size() > data_.size()) return;
    std::copy(bytes.begin(), bytes.end(), data_.begin());
    size_ = bytes.size();
}

Seed::Seed(const Seed& o) : data_(o.data_), size_(o.size_) {}

Seed& Seed::operator=(const Seed& o) {
    if (this != &o) {
        wipe();
        data_ = o.data_;
        size_ = o.size_;
    }
    return *this;
}

// A moved-from Seed is wiped so the secret lives in one place only.
Seed::Seed(Seed&& o) noexcept : data_(o.data_), size_(o.size_) { o.wipe(); }

Seed& Seed::operator=(Seed&& o) noexcept {
    if (this != &o) {
        wipe();
        data_ = o.data_;
        size_ = o.size_;
        o.wipe();
    }
    return *this;
}

Seed::~Seed() { wipe(); }

void Seed::wipe() noexcept {
    detail::cleanse(data_.data(), data_.size());
    size_ = 0;
}

// ---- BIP39 ----------------------------------------------------------------

Result<void> validate_mnemonic(std::string_view words) {
    std::array<std::string_view, kMaxWords> split{};
    std::size_t count = 0;
    std::array<std::uint8_t, kMaxEntropy + 1> entropy{};
    Wiper wipe_entropy{entropy};
    std::size_t len = 0;
    return decode_mnemonic(words, split, count, entropy, len);
}

Result<Seed> mnemonic_to_seed(std::string_view words, std::string_view passphrase) {
    std::array<std::string_view, kMaxWords> split{};
    std::size_t count = 0;
    std::array<std::uint8_t, kMaxEntropy + 1> entropy{};
    Wiper wipe_entropy{entropy};
    std::size_t len = 0;
    if (auto r = decode_mnemonic(words, split, count, entropy, len); !r) return std::move(r).error();

    // Reserved up front so no reallocation leaves an unwiped copy behind.
    std::string password;
    StringWiper wipe_password{password};
    password.reserve(words.size());
    for (std::size_t w = 0; w < count; ++w) {
        if (w) password.push_back(' ');
        password.append(split[w]);
    }
    constexpr std::string_view kSaltPrefix = "mnemonic";
    std::string salt;
    StringWiper wipe_salt{salt};
    salt.reserve(kSaltPrefix.size() + passphrase.size());
    salt.append(kSaltPrefix).append(passphrase);

    std::array<std::uint8_t, 64> out{};
    Wiper wipe_out{out};
    detail::pbkdf2_hmac_sha512(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(password.data()), password.size()),
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(salt.data()), salt.size()),
        kPbkdf2Rounds, out);
    return Seed(out);
}

Result<std::string> entropy_to_mnemonic(std::span<const std::uint8_t> entropy) {
    const std::size_t len = entropy.size();
    if (len < 16 || len > kMaxEntropy || len % 4 != 0)
        return make_error(Errc::invalid_argument,
                          "entropy is " + std::to_string(len) + " bytes; BIP39 needs 16, 20, 24, 28 or 32");

    // entropy || first checksum byte; only ENT/32 bits of that byte are used.
    std::array<std::uint8_t, kMaxEntropy + 1> buf{};
    Wiper wipe_buf{buf};
    std::copy(entropy.begin(), entropy.end(), buf.begin());
    buf[len] = detail::sha256(entropy)[0];

    const std::size_t word_count = (len * 8 + len / 4) / 11;
    std::string out;
    out.reserve(word_count * 9);  // longest word is 8 letters; no reallocation copies
    for (std::size_t w = 0; w < word_count; ++w) {
        unsigned index = 0;
        for (std::size_t b = w * 11; b < w * 11 + 11; ++b) index = (index << 1) | ((buf[b / 8] >> (7 - b % 8)) & 1u);
        if (w) out.push_back(' ');
        out.append(kWords[index]);
    }
    return out;
}

std::span<const std::string_view> bip39_english_wordlist() noexcept { return kWords; }

}  // namespace addrpool
