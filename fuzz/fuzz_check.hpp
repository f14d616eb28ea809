// Shared by the fuzz targets: a check that aborts (so libFuzzer records the
// input) with a message, in every build mode (assert() may be compiled out).
#ifndef ADDRPOOL_FUZZ_CHECK_HPP
#define ADDRPOOL_FUZZ_CHECK_HPP

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                 \
        }                                                                                 \
    } while (0)

inline std::string_view fuzz_text(const unsigned char* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

#endif
