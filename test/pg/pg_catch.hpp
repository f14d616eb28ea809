// Catch2 helpers shared by the addrpool-pg test files.
#ifndef ADDRPOOL_TEST_PG_CATCH_HPP
#define ADDRPOOL_TEST_PG_CATCH_HPP

#include "pg_test_util.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <string>
#include <utility>

namespace addrpool::pgtest {

// REQUIRE(ok(r)) fails with the error's code and message.
template <class T>
bool ok(const Result<T>& r) {
    if (!r) UNSCOPED_INFO(errc_name(r.error().code) << ": " << r.error().message);
    return r.has_value();
}

// The value, or a failed test naming the error.
template <class T>
T val(Result<T> r) {
    REQUIRE(ok(r));
    return std::move(*r);
}

inline KeySource private_source() { return KeySource::from_private(account_key()); }
inline KeySource public_source() { return KeySource::from_public(account_key().to_public()); }

// A pool id no other test case uses (the test cases share one database).
inline std::string fresh_id(const char* name) {
    static std::atomic<int> n{0};
    return std::string(name) + "-" + std::to_string(n.fetch_add(1)) + "-" + std::to_string(::getpid());
}

}  // namespace addrpool::pgtest

#endif  // ADDRPOOL_TEST_PG_CATCH_HPP
