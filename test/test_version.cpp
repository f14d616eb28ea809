// The version macros, addrpool_version() and the export macros, seen from a
// program linked with the shared library (the way an outside user sees them).
#include <addrpool/addrpool.h>
#include <addrpool/addrpool.hpp>
#include <addrpool/version.h>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#ifndef ADDRPOOL_EXPECTED_VERSION
#error "test/meson.build passes meson.project_version() as ADDRPOOL_EXPECTED_VERSION"
#endif

#define ADDRPOOL_TEST_STR2(x) #x
#define ADDRPOOL_TEST_STR(x) ADDRPOOL_TEST_STR2(x)

TEST_CASE("the version macros spell the project version meson was given", "[version]") {
    const std::string parts = std::to_string(ADDRPOOL_VERSION_MAJOR) + "." + std::to_string(ADDRPOOL_VERSION_MINOR) +
                              "." + std::to_string(ADDRPOOL_VERSION_PATCH);
    CHECK(parts == ADDRPOOL_EXPECTED_VERSION);
    CHECK(std::string_view(ADDRPOOL_VERSION_STRING) == ADDRPOOL_EXPECTED_VERSION);
}

TEST_CASE("the version macros are integer constants usable in #if", "[version]") {
#if ADDRPOOL_VERSION_MAJOR < 0 || ADDRPOOL_VERSION_MINOR < 0 || ADDRPOOL_VERSION_PATCH < 0
    FAIL("a negative version component");
#endif
    static_assert(ADDRPOOL_VERSION_MAJOR >= 0 && ADDRPOOL_VERSION_MINOR >= 0 && ADDRPOOL_VERSION_PATCH >= 0);
    SUCCEED();
}

TEST_CASE("addrpool_version() of the loaded library equals the headers' version", "[version]") {
    const char* v = addrpool_version();
    REQUIRE(v != nullptr);
    CHECK(std::string_view(v) == ADDRPOOL_VERSION_STRING);
    CHECK(addrpool_version() == v);  // a static string, the same every call
}

TEST_CASE("the C++ export macro and the C ABI's macro are the same attribute", "[version]") {
    CHECK(std::string_view(ADDRPOOL_TEST_STR(ADDRPOOL_EXPORT)) == ADDRPOOL_TEST_STR(ADDRPOOL_API));
    CHECK(std::string_view(ADDRPOOL_TEST_STR(ADDRPOOL_EXPORT)) != "");  // g++ and clang: the visibility attribute
}
