// libFuzzer target: DerivationPath::parse. Oracle: to_string() parses back to
// the same path (the text itself may differ: "h" prints as "'").
#include <addrpool/addrpool.hpp>

#include "fuzz_check.hpp"

using namespace addrpool;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    auto path = DerivationPath::parse(fuzz_text(data, size));
    if (!path) {
        FUZZ_CHECK(path.error().code == Errc::invalid_path);
        return 0;
    }
    FUZZ_CHECK(path->size() <= 255);
    auto again = DerivationPath::parse(path->to_string());
    FUZZ_CHECK(again);
    FUZZ_CHECK(*again == *path);
    return 0;
}
