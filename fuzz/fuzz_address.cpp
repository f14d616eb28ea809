// libFuzzer target: Address::parse, Base58Check and DIP-18 bech32m. Oracle:
// an accepted address prints back as the same string, and the network-bound
// parse agrees with the free one.
#include <addrpool/addrpool.hpp>

#include "fuzz_check.hpp"

using namespace addrpool;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const std::string owned = fuzz_encoded_text(data, size);  // see fuzz_check.hpp: checksum fix-up
    const std::string_view text = owned;
    auto addr = Address::parse(text);
    auto main_net = Address::parse(text, Network::mainnet);
    auto test_net = Address::parse(text, Network::testnet);
    if (!addr) {
        FUZZ_CHECK(!addr.error().message.empty());
        FUZZ_CHECK(!main_net && !test_net);
        return 0;
    }
    FUZZ_CHECK(addr->to_string() == text);
    FUZZ_CHECK(bool(main_net) == is_mainnet(addr->network()));
    FUZZ_CHECK(bool(test_net) != is_mainnet(addr->network()));
    FUZZ_CHECK((main_net ? *main_net : *test_net) == *addr);
    auto from_script = Address::from_script(addr->script_pubkey(), addr->network(), addr->format());
    FUZZ_CHECK(from_script);
    FUZZ_CHECK(*from_script == *addr);
    return 0;
}
