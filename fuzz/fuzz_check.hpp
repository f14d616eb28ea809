// Shared by the fuzz targets: a check that aborts (so libFuzzer records the
// input) with a message, in every build mode (assert() may be compiled out).
#ifndef ADDRPOOL_FUZZ_CHECK_HPP
#define ADDRPOOL_FUZZ_CHECK_HPP

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "keys/base58.hpp"
#include "keys/bech32.hpp"

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

// Checksum fix-up for the text targets (xprv, xpub, address). A random
// mutation of an encoded key almost never keeps its checksum valid, so the
// checks behind the checksum would be reached only through seeds. Inputs that
// start with a byte no valid text starts with are payloads instead:
//   0xff <payload>           → Base58Check(payload), correct checksum;
//   0xfe <h> <payload>       → bech32m(hrp[h % 4], payload), correct checksum.
// Anything else is the text itself.
inline constexpr unsigned char kFixupBase58 = 0xff;
inline constexpr unsigned char kFixupBech32m = 0xfe;

inline std::string fuzz_encoded_text(const unsigned char* data, std::size_t size) {
    if (size >= 1 && data[0] == kFixupBase58) {
        return addrpool::detail::base58check_encode({data + 1, size - 1});
    }
    if (size >= 2 && data[0] == kFixupBech32m) {
        static constexpr const char* kHrp[4] = {"dash", "tdash", "xdash", "bc"};
        return addrpool::detail::bech32m_encode_bytes(kHrp[data[1] % 4], {data + 2, size - 2});
    }
    return std::string(fuzz_text(data, size));
}

#endif
