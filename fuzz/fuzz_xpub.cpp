// libFuzzer target: ExtendedPubKey::parse. Oracle: an accepted key prints
// back as the same string, and a non-hardened child derives without error
// (or with invalid_child, probability < 2^-127).
#include <addrpool/addrpool.hpp>

#include "fuzz_check.hpp"

using namespace addrpool;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const std::string owned = fuzz_encoded_text(data, size);  // see fuzz_check.hpp: checksum fix-up
    const std::string_view text = owned;
    auto key = ExtendedPubKey::parse(text);
    if (!key) {
        FUZZ_CHECK(!key.error().message.empty());
        return 0;
    }
    FUZZ_CHECK(key->to_string() == text);
    auto child = key->derive_child(0);
    FUZZ_CHECK(child || child.error().code == Errc::invalid_child || child.error().code == Errc::depth_exceeded);
    return 0;
}
