// addrpool derive: addresses PATH/N .. PATH/(N+K-1) of a mnemonic, xprv or
// xpub. The key at PATH is derived once and held as the account key of a
// KeySource; each address then costs one KeySource::derive_hash160 of an
// absent pool (index directly below the key): one public child derivation,
// the same fast path the pool uses.
#include "cli.hpp"

#include <addrpool/address.hpp>
#include <addrpool/key_source.hpp>
#include <addrpool/keys.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace addrpool::cli {
namespace {

constexpr std::uint32_t max_count = 1'000'000;

constexpr std::array<OptionSpec, 10> derive_options = {{
    {"mnemonic", true},
    {"passphrase", true},
    {"xprv", true},
    {"xpub", true},
    {"network", true},
    {"path", true},
    {"from", true},
    {"count", true},
    {"format", true},
    {"help", false},
}};

constexpr std::string_view derive_help =
    "Usage: addrpool derive (--mnemonic WORDS [--passphrase P] | --xprv KEY | --xpub KEY)\n"
    "                       --network NETWORK --path PATH [--from N] [--count K] [--format FORMAT]\n"
    "\n"
    "Prints K lines \"INDEX ADDRESS\" for the keys PATH/N .. PATH/(N+K-1).\n"
    "\n"
    "Key source (exactly one):\n"
    "  --mnemonic WORDS   BIP39 English mnemonic (quote it); PATH is absolute from\n"
    "                     the root, e.g. \"m/44'/1'/0'/0\"\n"
    "  --passphrase P     BIP39 passphrase (only with --mnemonic; default empty)\n"
    "  --xprv KEY         extended private key (xprv/tprv); PATH is relative to it,\n"
    "                     written from m, e.g. \"m/0\"\n"
    "  --xpub KEY         extended public key (xpub/tpub); PATH is relative to it and\n"
    "                     must not contain hardened components\n"
    "\n"
    "Options:\n"
    "  --network NETWORK  mainnet, testnet, devnet or regtest (required); an xprv/xpub\n"
    "                     must use the same encoding (xprv/xpub: mainnet, tprv/tpub: the others)\n"
    "  --path PATH        derivation path (required): m[/INDEX[']...], ' or h marks hardened\n"
    "  --from N           first non-hardened index, 0 .. 2^31-1 (default 0)\n"
    "  --count K          number of addresses, 1 .. 1000000 (default 10); N+K-1 must stay below 2^31\n"
    "  --format FORMAT    p2pkh (X.../y..., default) or platform (DIP-18 dash1k.../tdash1k...)\n"
    "  --help, -h         show this help and exit\n"
    "\n"
    "Every option also accepts the form --option=VALUE.\n"
    "Exit status: 0 on success; 2 on bad input, with one line on stderr that never\n"
    "repeats a mnemonic or key; 1 on other failures.\n";

std::string key_error(std::string_view option, const Error& e) {
    // keys.cpp messages never hold key material (keys.hpp contract).
    return std::string(option) + ": " + e.message + " (" + errc_name(e.code) + ")";
}

// The key at PATH, below an xprv or xpub, as a KeySource; or an error line.
struct SourceOrError {
    std::optional<KeySource> source;
    std::string error;
};

template <class Key>
SourceOrError source_at(const Key& key, const DerivationPath& path, std::string_view option) {
    auto derived = key.derive(path);
    if (!derived) {
        if (derived.error().code == Errc::hardened_from_public) {
            return {std::nullopt, "--path has a hardened component, which --xpub cannot derive"};
        }
        return {std::nullopt, key_error(option, derived.error())};
    }
    if constexpr (std::is_same_v<Key, ExtendedPubKey>) return {KeySource::from_public(*derived), {}};
    else return {KeySource::from_public(derived->to_public()), {}};
}

}  // namespace

int cmd_derive(int argc, char** argv) {
    std::vector<ParsedOption> options;
    if (auto err = scan_options(argc, argv, derive_options, options)) return usage_error("derive: " + *err);
    if (find_option(options, "help")) {
        if (options.size() != 1) return usage_error("derive: --help takes no other options");
        return write_stdout(derive_help);
    }

    const auto mnemonic = find_option(options, "mnemonic");
    const auto passphrase = find_option(options, "passphrase");
    const auto xprv = find_option(options, "xprv");
    const auto xpub = find_option(options, "xpub");
    const int sources = int{mnemonic.has_value()} + int{xprv.has_value()} + int{xpub.has_value()};
    if (sources == 0) return usage_error("derive: one of --mnemonic, --xprv or --xpub is required");
    if (sources > 1) return usage_error("derive: give only one of --mnemonic, --xprv and --xpub");
    if (passphrase && !mnemonic) return usage_error("derive: --passphrase needs --mnemonic");

    const auto network_text = find_option(options, "network");
    if (!network_text) return usage_error("derive: --network is required");
    const auto network = parse_network(*network_text);
    if (!network) return usage_error("derive: --network must be mainnet, testnet, devnet or regtest");

    const auto path_text = find_option(options, "path");
    if (!path_text) return usage_error("derive: --path is required");
    auto path = DerivationPath::parse(*path_text);
    if (!path) return usage_error("derive: --path: " + path.error().message);

    std::uint32_t from = 0;
    if (const auto text = find_option(options, "from")) {
        const auto v = parse_number(*text, hardened_bit - 1);
        if (!v) return usage_error("derive: --from must be a decimal index from 0 to 2147483647");
        from = *v;
    }
    std::uint32_t count = 10;
    if (const auto text = find_option(options, "count")) {
        const auto v = parse_number(*text, max_count);
        if (!v || *v == 0) return usage_error("derive: --count must be a number from 1 to 1000000");
        count = *v;
    }
    if (std::uint64_t{from} + count > hardened_bit) {
        return usage_error("derive: --from + --count reaches hardened indices (2^31 and above)");
    }

    AddressFormat format = AddressFormat::base58check;
    if (const auto text = find_option(options, "format")) {
        if (*text == "p2pkh") format = AddressFormat::base58check;
        else if (*text == "platform") format = AddressFormat::platform;
        else return usage_error("derive: --format must be p2pkh or platform");
    }

    SourceOrError at_path;
    if (mnemonic) {
        // PATH is absolute: the mnemonic's key at PATH is an "account" key.
        auto ks = KeySource::from_mnemonic(*mnemonic, passphrase.value_or(std::string_view()), *network, *path);
        if (!ks) {
            const Errc code = ks.error().code;
            if (code == Errc::invalid_mnemonic || code == Errc::mnemonic_checksum) {
                return usage_error("derive: --mnemonic: " + ks.error().message);
            }
            return usage_error("derive: " + key_error("--mnemonic", ks.error()));
        }
        at_path.source = std::move(*ks);
    } else if (xprv) {
        auto key = ExtendedPrivKey::parse(*xprv);
        if (!key) return usage_error("derive: " + key_error("--xprv", key.error()));
        if (!same_encoding(key->network(), *network)) {
            return usage_error("derive: --xprv is not a key for --network " + std::string(network_name(*network)));
        }
        at_path = source_at(key->with_network(*network), *path, "--xprv");
    } else {
        auto key = ExtendedPubKey::parse(*xpub);
        if (!key) return usage_error("derive: " + key_error("--xpub", key.error()));
        if (!same_encoding(key->network(), *network)) {
            return usage_error("derive: --xpub is not a key for --network " + std::string(network_name(*network)));
        }
        at_path = source_at(key->with_network(*network), *path, "--xpub");
    }
    if (!at_path.source) return usage_error("derive: " + at_path.error);
    // The addresses are one level below the key at PATH: at most depth 255.
    if (const auto key = at_path.source->account_public_key(); key && key->depth() >= 255) {
        return usage_error("derive: the addresses would be deeper than 255 (the key at --path is at depth " +
                           std::to_string(key->depth()) + ")");
    }

    // Built in full before anything is printed: a failure leaves stdout empty.
    std::string out;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t index = from + i;
        auto h = at_path.source->derive_hash160(PoolType::absent, index);
        if (!h) {
            // Probability below 2^-127 per index; BIP32 says to skip such an index.
            std::fputs(("addrpool: derive: index " + std::to_string(index) + " has no valid key\n").c_str(), stderr);
            return exit_failure;
        }
        out += std::to_string(index);
        out += ' ';
        out += Address(*network, AddressKind::p2pkh, *h, format).to_string();
        out += '\n';
    }
    return write_stdout(out);
}

}  // namespace addrpool::cli
