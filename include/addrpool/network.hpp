// addrpool — Dash networks and their constants.
#ifndef ADDRPOOL_NETWORK_HPP
#define ADDRPOOL_NETWORK_HPP

#include <addrpool/export.hpp>
#include <cstdint>
#include <string_view>

namespace addrpool {

// testnet, devnet and regtest share every encoding constant (y… addresses,
// tprv/tpub, HRP "tdash"); they differ only in which chain a wallet talks to.
enum class Network : std::uint8_t { mainnet = 0, testnet = 1, devnet = 2, regtest = 3 };

constexpr bool is_mainnet(Network n) noexcept { return n == Network::mainnet; }

// True when two networks share all encodings (mainnet vs. the three test networks).
constexpr bool same_encoding(Network a, Network b) noexcept { return is_mainnet(a) == is_mainnet(b); }

// "mainnet", "testnet", "devnet", "regtest".
ADDRPOOL_EXPORT std::string_view network_name(Network n) noexcept;

// BIP44 coin type: 5 on mainnet, 1 on the test networks.
constexpr std::uint32_t bip44_coin_type(Network n) noexcept { return is_mainnet(n) ? 5u : 1u; }

}  // namespace addrpool

#endif  // ADDRPOOL_NETWORK_HPP
