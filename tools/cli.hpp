// The addrpool command-line tool: its subcommand table and the small pieces
// every subcommand shares (option scanning, the one-line error convention).
//
// Conventions for every subcommand:
// - Results go to stdout only after everything has been computed, so a
//   failing run writes nothing there.
// - Bad input: exactly one line "addrpool: ..." on stderr, exit code 2. The
//   line names the option that was wrong, never its value (values may be
//   mnemonics or private keys).
#ifndef ADDRPOOL_TOOLS_CLI_HPP
#define ADDRPOOL_TOOLS_CLI_HPP

#include <addrpool/network.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace addrpool::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  // input was fine, the work failed (e.g. stdout closed)
inline constexpr int exit_usage = 2;    // bad input

// A subcommand receives its own name as argv[0].
using CommandMain = int (*)(int argc, char** argv);

struct Command {
    std::string_view name;
    std::string_view summary;  // one line for `addrpool --help`
    CommandMain run;
};

int cmd_derive(int argc, char** argv);
int cmd_demo(int argc, char** argv);

// A string holding a secret (a mnemonic, a passphrase): its bytes are
// overwritten when it is destroyed. Assign it once, straight from the
// original (value.assign(view)): a temporary std::string, or a reallocation,
// would leave a copy behind.
struct SecretString {
    std::string value;
    SecretString() = default;
    SecretString(const SecretString&) = delete;
    SecretString& operator=(const SecretString&) = delete;
    ~SecretString() {
        // Through a volatile pointer, so the stores are not dropped as dead.
        volatile char* p = value.data();
        for (std::size_t i = 0; i < value.size(); ++i) p[i] = 0;
    }
};

// `addrpool demo --wallets N` (cmd_demo_wallets.cpp), with cmd_demo's
// options already parsed and checked (all but --dir and the mnemonic).
struct WalletDemoArgs {
    SecretString mnemonic, passphrase;
    std::string key_desc, dir;
    Network network = Network::testnet;
    std::uint32_t wallets = 0, tasks = 0, threads = 0, gap = 0;
};
int demo_wallets(const WalletDemoArgs& args);

// Prints "addrpool: <message>" as one line on stderr; returns exit_usage.
inline int usage_error(std::string_view message) {
    std::string line = "addrpool: ";
    line.append(message);
    line += '\n';
    std::fputs(line.c_str(), stderr);
    return exit_usage;
}

// Writes text to stdout in one piece; exit_failure when stdout refuses.
inline int write_stdout(std::string_view text) {
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
        std::fputs("addrpool: cannot write to stdout\n", stderr);
        return exit_failure;
    }
    return exit_ok;
}

// One option a subcommand accepts: "--name VALUE", "--name=VALUE", or a flag.
struct OptionSpec {
    std::string_view name;  // without the leading "--"
    bool takes_value;
};

struct ParsedOption {
    std::string_view name;
    std::optional<std::string_view> value;
};

// Scans argv[1..argc) against specs. Rejects unknown options, missing or
// unexpected values, repeated options and positional arguments; the error
// string names the option or the argument's position, never a value.
inline std::optional<std::string> scan_options(int argc, char** argv, std::span<const OptionSpec> specs,
                                               std::vector<ParsedOption>& out) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg.size() < 3 || arg.substr(0, 2) != "--") {
            if (arg == "-h") {
                out.push_back({"help", std::nullopt});
                continue;
            }
            // Not echoed: an unquoted mnemonic lands here word by word.
            return "unexpected argument " + std::to_string(i) + " (quote values that contain spaces)";
        }
        const std::size_t eq = arg.find('=');
        const std::string_view name = arg.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2);
        const OptionSpec* spec = nullptr;
        for (const auto& s : specs) {
            if (s.name == name) spec = &s;
        }
        if (spec == nullptr) {
            const bool printable = name.size() <= 32 && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") ==
                                                           std::string_view::npos;
            return printable ? "unknown option --" + std::string(name) : std::string("unknown option");
        }
        for (const auto& seen : out) {
            if (seen.name == spec->name) return "--" + std::string(name) + " given more than once";
        }
        std::optional<std::string_view> value;
        if (eq != std::string_view::npos) {
            if (!spec->takes_value) return "--" + std::string(name) + " takes no value";
            value = arg.substr(eq + 1);
        } else if (spec->takes_value) {
            if (i + 1 >= argc) return "--" + std::string(name) + " needs a value";
            value = std::string_view(argv[++i]);
        }
        out.push_back({spec->name, value});
    }
    return std::nullopt;
}

// "mainnet", "testnet", "devnet" or "regtest".
inline std::optional<Network> parse_network(std::string_view s) {
    if (s == "mainnet") return Network::mainnet;
    if (s == "testnet") return Network::testnet;
    if (s == "devnet") return Network::devnet;
    if (s == "regtest") return Network::regtest;
    return std::nullopt;
}

// Decimal digits only (no sign, no spaces), value <= limit.
inline std::optional<std::uint32_t> parse_number(std::string_view s, std::uint32_t limit) {
    if (s.empty() || s.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > limit) return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

inline std::optional<std::string_view> find_option(const std::vector<ParsedOption>& options, std::string_view name) {
    for (const auto& o : options) {
        if (o.name == name) return o.value.value_or(std::string_view());
    }
    return std::nullopt;
}

}  // namespace addrpool::cli

#endif  // ADDRPOOL_TOOLS_CLI_HPP
