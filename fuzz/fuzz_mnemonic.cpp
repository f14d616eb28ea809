// libFuzzer target: BIP39 mnemonic validation (validate_mnemonic: the whole
// check of mnemonic_to_seed without its 2048 PBKDF2 rounds). Oracle: only the
// documented codes.
#include <addrpool/addrpool.hpp>

#include "fuzz_check.hpp"

using namespace addrpool;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    auto ok = validate_mnemonic(fuzz_text(data, size));
    if (!ok) {
        FUZZ_CHECK(ok.error().code == Errc::invalid_mnemonic || ok.error().code == Errc::mnemonic_checksum);
        FUZZ_CHECK(!ok.error().message.empty());
    }
    return 0;
}
