// Dash networks: their names (the encoding constants live with the encodings
// that use them: address.cpp, keys.cpp).
#include <addrpool/network.hpp>

namespace addrpool {

std::string_view network_name(Network n) noexcept {
    switch (n) {
        case Network::mainnet: return "mainnet";
        case Network::testnet: return "testnet";
        case Network::devnet: return "devnet";
        case Network::regtest: return "regtest";
    }
    return "unknown";
}

}  // namespace addrpool
