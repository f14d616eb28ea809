// libFuzzer target: ExtendedPrivKey::parse. Oracle: an accepted key prints
// back as the same string (Base58Check is canonical) and its public half
// parses as an xpub/tpub.
#include <addrpool/addrpool.hpp>

#include "fuzz_check.hpp"

using namespace addrpool;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const std::string owned = fuzz_encoded_text(data, size);  // see fuzz_check.hpp: checksum fix-up
    const std::string_view text = owned;
    auto key = ExtendedPrivKey::parse(text);
    if (!key) {
        FUZZ_CHECK(!key.error().message.empty());
        return 0;
    }
    FUZZ_CHECK(key->to_string() == text);
    auto pub = ExtendedPubKey::parse(key->to_public().to_string());
    FUZZ_CHECK(pub);
    FUZZ_CHECK(*pub == key->to_public());
    return 0;
}
