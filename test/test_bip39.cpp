// BIP39 English: word list, entropy → mnemonic, mnemonic → seed, validation
// errors, and that error messages never carry the words or passphrase.
#include <catch2/catch.hpp>

#include "json.hpp"

#include <addrpool/keys.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace addrpool;
using testjson::hex;
using testjson::unhex;

namespace {

const testjson::Value& bip39_vectors() {
    static const testjson::Value v = testjson::Value::parse_file(testjson::data_path("bip39.json"));
    return v;
}

std::vector<std::string> split(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

// The letters-only tokens of the fixed wording of the BIP39 error messages.
// A message made only of these and numbers cannot be echoing input words.
const std::set<std::string> kMessageVocabulary = {
    "mnemonic", "has", "words", "BIP", "needs", "or", "word", "contains", "a", "character", "other", "than",
    "z", "an", "ASCII", "space", "is", "not", "in", "the", "English", "list", "checksum", "does", "match"};

void check_message_leaks_nothing(const std::string& message, const std::vector<std::string>& secrets) {
    INFO(message);
    CHECK_FALSE(message.empty());
    std::string token;
    auto flush = [&] {
        if (!token.empty()) CHECK(kMessageVocabulary.count(token) == 1);
        token.clear();
    };
    for (const char c : message) {
        if (std::isalpha(static_cast<unsigned char>(c))) token += c;
        else flush();
    }
    flush();
    for (const auto& s : secrets) {
        // A secret equal to a vocabulary word ("word") is covered by the token check.
        if (kMessageVocabulary.count(s) == 0) CHECK(message.find(s) == std::string::npos);
    }
}

}  // namespace

TEST_CASE("the compiled-in word list is the 2048-word sorted BIP39 English list", "[bip39]") {
    const auto list = bip39_english_wordlist();
    REQUIRE(list.size() == 2048);
    CHECK(list.front() == "abandon");
    CHECK(list[1] == "ability");
    CHECK(list[3] == "about");
    CHECK(list.back() == "zoo");
    CHECK(std::is_sorted(list.begin(), list.end()));
    CHECK(std::adjacent_find(list.begin(), list.end()) == list.end());
    for (const auto w : list) {
        INFO(w);
        CHECK(w.size() >= 3);
        CHECK(w.size() <= 8);
        CHECK(std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
    }
}

TEST_CASE("entropy_to_mnemonic reproduces all eight BIP39 vectors", "[bip39]") {
    const auto& vectors = bip39_vectors()["vectors"].array();
    REQUIRE(vectors.size() == 8);
    for (const auto& v : vectors) {
        INFO(v["mnemonic"].str());
        auto m = entropy_to_mnemonic(unhex(v["entropy_hex"].str()));
        REQUIRE(m);
        CHECK(*m == v["mnemonic"].str());
        CHECK(split(*m).size() == v["words"].u64());
    }
}

TEST_CASE("mnemonic_to_seed reproduces all eight BIP39 seeds with passphrase TREZOR", "[bip39]") {
    for (const auto& v : bip39_vectors()["vectors"].array()) {
        INFO(v["mnemonic"].str());
        REQUIRE(v["passphrase"].str() == "TREZOR");
        CHECK(validate_mnemonic(v["mnemonic"].str()));
        auto seed = mnemonic_to_seed(v["mnemonic"].str(), v["passphrase"].str());
        REQUIRE(seed);
        CHECK(seed->size() == 64);
        CHECK(hex(seed->bytes()) == v["seed_hex"].str());
    }
}

TEST_CASE("mnemonic_to_seed with an empty passphrase matches the dash_bip44.json wallet seed", "[bip39]") {
    const auto dash = testjson::Value::parse_file(testjson::data_path("dash_bip44.json"));
    for (const auto& w : dash["wallets"].array()) {
        INFO(w["label"].str());
        auto seed = mnemonic_to_seed(w["mnemonic"].str(), w["passphrase"].str());
        REQUIRE(seed);
        CHECK(hex(seed->bytes()) == w["seed_hex"].str());
    }
}

TEST_CASE("repeated, leading and trailing spaces give the same seed as single spaces", "[bip39]") {
    const auto& v = bip39_vectors()["vectors"][3];
    const auto words = split(v["mnemonic"].str());
    std::string spaced = "  ";
    for (const auto& w : words) spaced += w + "   ";
    REQUIRE(validate_mnemonic(spaced));
    auto seed = mnemonic_to_seed(spaced, "TREZOR");
    REQUIRE(seed);
    CHECK(hex(seed->bytes()) == v["seed_hex"].str());
}

TEST_CASE("entropy_to_mnemonic round-trips through validation for every entropy length", "[bip39]") {
    for (std::size_t len : {16u, 20u, 24u, 28u, 32u}) {
        std::vector<std::uint8_t> entropy(len);
        for (std::size_t i = 0; i < len; ++i) entropy[i] = static_cast<std::uint8_t>(i * 37 + len);
        auto m = entropy_to_mnemonic(entropy);
        REQUIRE(m);
        CHECK(split(*m).size() == len * 3 / 4);
        CHECK(validate_mnemonic(*m));
    }
}

TEST_CASE("entropy_to_mnemonic rejects lengths other than 16/20/24/28/32 bytes as invalid_argument", "[bip39]") {
    for (std::size_t len : {0u, 1u, 4u, 12u, 15u, 17u, 31u, 33u, 64u}) {
        INFO(len);
        auto r = entropy_to_mnemonic(std::vector<std::uint8_t>(len, 0));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
    }
}

TEST_CASE("each kind of bad mnemonic is rejected with its own error code", "[bip39][errors]") {
    const std::string good = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                             "abandon about";
    REQUIRE(validate_mnemonic(good));
    auto words = split(good);
    auto with = [&](std::size_t i, const std::string& w) {
        auto copy = words;
        copy[i] = w;
        return join(copy);
    };
    struct Bad {
        const char* what;
        std::string text;
        Errc expected;
    };
    const std::vector<Bad> table = {
        {"empty", "", Errc::invalid_mnemonic},
        {"only spaces", "    ", Errc::invalid_mnemonic},
        {"11 words", join(std::vector<std::string>(words.begin(), words.end() - 1)), Errc::invalid_mnemonic},
        {"13 words", good + " abandon", Errc::invalid_mnemonic},
        {"25 words", join(std::vector<std::string>(25, "abandon")), Errc::invalid_mnemonic},
        {"unknown word", with(2, "abandonx"), Errc::invalid_mnemonic},
        {"prefix of a word", with(2, "aban"), Errc::invalid_mnemonic},
        {"uppercase word", with(0, "Abandon"), Errc::invalid_mnemonic},
        {"tab separator", "abandon\tabandon abandon abandon abandon abandon abandon abandon abandon abandon "
                          "abandon about", Errc::invalid_mnemonic},
        {"newline at the end", good + "\n", Errc::invalid_mnemonic},
        {"non-breaking space", "abandon\xc2\xa0" "abandon abandon abandon abandon abandon abandon abandon abandon "
                               "abandon abandon about", Errc::invalid_mnemonic},
        {"bad checksum: abandon x12", join(std::vector<std::string>(12, "abandon")), Errc::mnemonic_checksum},
        {"bad checksum: last word changed", with(11, "above"), Errc::mnemonic_checksum},
        {"bad checksum: first and last word swapped", "about " + join(std::vector<std::string>(11, "abandon")),
         Errc::mnemonic_checksum},
    };
    for (const auto& b : table) {
        INFO(b.what);
        auto r = validate_mnemonic(b.text);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == b.expected);
        auto s = mnemonic_to_seed(b.text, "TREZOR");
        REQUIRE_FALSE(s);
        CHECK(s.error().code == b.expected);
    }
}

TEST_CASE("an unknown word is reported by its 1-based position", "[bip39][errors]") {
    auto words = split(bip39_vectors()["vectors"][1]["mnemonic"].str());
    words[2] = "notaword";
    auto r = validate_mnemonic(join(words));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_mnemonic);
    CHECK(r.error().message.find("word 3 ") != std::string::npos);
    CHECK(r.error().message.find("notaword") == std::string::npos);
}

TEST_CASE("no mnemonic error message contains the words or the passphrase given", "[bip39][errors]") {
    const std::string passphrase = "TREZOR-secret-passphrase";
    for (const auto& v : bip39_vectors()["vectors"].array()) {
        const auto words = split(v["mnemonic"].str());
        std::vector<std::string> secrets = words;
        secrets.push_back(passphrase);
        secrets.push_back("zzqqxword");

        std::vector<std::string> bad;
        auto unknown = words;
        unknown[words.size() / 2] = "zzqqxword";
        bad.push_back(join(unknown));
        auto upper = words;
        upper[1][0] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[1][0])));
        bad.push_back(join(upper));
        bad.push_back(join(std::vector<std::string>(words.begin(), words.end() - 1)));
        auto swapped = words;
        std::swap(swapped.front(), swapped.back());
        if (swapped != words && !validate_mnemonic(join(swapped))) bad.push_back(join(swapped));
        auto changed_last = words;
        changed_last.back() = changed_last.back() == "zoo" ? "abandon" : "zoo";
        if (!validate_mnemonic(join(changed_last))) bad.push_back(join(changed_last));

        for (const auto& text : bad) {
            auto r = validate_mnemonic(text);
            REQUIRE_FALSE(r);
            check_message_leaks_nothing(r.error().message, secrets);
            auto s = mnemonic_to_seed(text, passphrase);
            REQUIRE_FALSE(s);
            check_message_leaks_nothing(s.error().message, secrets);
        }
    }
}

TEST_CASE("Seed copies and moves its bytes and rejects more than 64 bytes by staying empty", "[bip39][seed]") {
    std::vector<std::uint8_t> bytes(32);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i + 1);
    Seed a(bytes);
    CHECK(a.size() == 32);
    CHECK(std::equal(a.bytes().begin(), a.bytes().end(), bytes.begin(), bytes.end()));

    Seed b(a);
    CHECK(hex(b.bytes()) == hex(bytes));
    Seed c;
    CHECK(c.size() == 0);
    c = b;
    CHECK(hex(c.bytes()) == hex(bytes));

    Seed d(std::move(b));
    CHECK(hex(d.bytes()) == hex(bytes));
    CHECK(b.size() == 0);  // NOLINT(bugprone-use-after-move): moved-from is documented empty here
    Seed e;
    e = std::move(d);
    CHECK(hex(e.bytes()) == hex(bytes));
    CHECK(d.size() == 0);  // NOLINT(bugprone-use-after-move)

    CHECK(Seed(std::vector<std::uint8_t>(64, 1)).size() == 64);
    CHECK(Seed(std::vector<std::uint8_t>(65, 1)).size() == 0);
}
