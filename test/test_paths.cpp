// DerivationPath: parsing, printing, and the exact error for each bad form.
#include <addrpool/keys.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace addrpool;

TEST_CASE("paths parse to their components and print back in apostrophe form", "[paths]") {
    struct Case {
        std::string text;
        std::vector<std::uint32_t> components;
        std::string printed;
    };
    const std::vector<Case> cases = {
        {"m", {}, "m"},
        {"m/0", {0}, "m/0"},
        {"m/44'/5'/0'/0/7", {hardened_bit | 44, hardened_bit | 5, hardened_bit, 0, 7}, "m/44'/5'/0'/0/7"},
        {"m/0h/1H/2'", {hardened_bit, hardened_bit | 1, hardened_bit | 2}, "m/0'/1'/2'"},
        {"m/2147483647", {0x7FFFFFFFu}, "m/2147483647"},
        {"m/2147483647'", {0xFFFFFFFFu}, "m/2147483647'"},
        {"m/007", {7}, "m/7"},
        {"m/9'/5'/17'/0'/0'/3", {hardened_bit | 9, hardened_bit | 5, hardened_bit | 17, hardened_bit, hardened_bit, 3},
         "m/9'/5'/17'/0'/0'/3"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        auto p = DerivationPath::parse(c.text);
        REQUIRE(p);
        CHECK(p->components() == c.components);
        CHECK(p->size() == c.components.size());
        CHECK(p->empty() == c.components.empty());
        CHECK(p->to_string() == c.printed);
        auto again = DerivationPath::parse(p->to_string());
        REQUIRE(again);
        CHECK(*again == *p);
    }
}

TEST_CASE("malformed paths are invalid_path", "[paths]") {
    const std::vector<std::string> bad = {
        "",            // missing m
        "0/1",         // missing m
        "M/0",         // upper-case M is not the root marker
        "/0",          // missing m
        "m/",          // trailing slash
        "m/0/",        // trailing slash
        "m//1",        // empty component
        "m/'",         // marker without digits
        "m/a",         // non-digit
        "m/1a",        // trailing junk
        "m/1''",       // doubled marker
        "m/1 ",        // whitespace
        " m/1",        // whitespace
        "m/+1",        // sign
        "m/-1",        // sign
        "m/0x10",      // hex
        "m1",          // no separator
        "mm/1",        // no separator
        "m/2147483648",          // 2^31 without marker
        "m/2147483648'",         // 2^31 with marker
        "m/4294967295",          // 2^32 - 1
        "m/99999999999999999999999999", // would overflow 64 bits
        std::string("m/1\0", 4), // embedded NUL
    };
    for (const auto& text : bad) {
        INFO('"' << text << '"');
        auto p = DerivationPath::parse(text);
        REQUIRE_FALSE(p);
        CHECK(p.error().code == Errc::invalid_path);
        CHECK_FALSE(p.error().message.empty());
    }
}

TEST_CASE("a path of 255 components parses and one of 256 is invalid_path", "[paths]") {
    std::string text = "m";
    for (int i = 0; i < 255; ++i) text += "/1";
    auto ok = DerivationPath::parse(text);
    REQUIRE(ok);
    CHECK(ok->size() == 255);
    auto bad = DerivationPath::parse(text + "/1");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::invalid_path);
}

TEST_CASE("child appends one component and leaves the parent unchanged", "[paths]") {
    const DerivationPath base = DerivationPath::parse("m/44'/1'").value();
    const DerivationPath c = base.child(hardened_bit).child(0);
    CHECK(c.to_string() == "m/44'/1'/0'/0");
    CHECK(base.to_string() == "m/44'/1'");
    CHECK(DerivationPath().to_string() == "m");
    CHECK(DerivationPath() == DerivationPath::parse("m").value());
}
