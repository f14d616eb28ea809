// addrpool: subcommand dispatcher. Each subcommand lives in its own
// cmd_<name>.cpp and is listed once in `commands` below.
#include "cli.hpp"

#include <array>
#include <cstdio>
#include <new>
#include <string>
#include <string_view>

namespace {

using addrpool::cli::Command;

constexpr std::array commands = {
    Command{"demo", "the main job: many tasks reserve addresses from one pool at once, then its lifecycle",
            addrpool::cli::cmd_demo},
    Command{"derive", "print Dash addresses of a BIP32 key or mnemonic along a path", addrpool::cli::cmd_derive},
};

const Command* find_command(std::string_view name) {
    for (const auto& c : commands) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

int print_help() {
    std::string text =
        "Usage: addrpool COMMAND [OPTIONS]\n"
        "       addrpool help [COMMAND]\n"
        "       addrpool --help\n"
        "\n"
        "Commands:\n";
    for (const auto& c : commands) {
        text += "  ";
        text += c.name;
        text.append(c.name.size() < 10 ? 10 - c.name.size() : 1, ' ');
        text += c.summary;
        text += '\n';
    }
    text +=
        "\n"
        "Run 'addrpool COMMAND --help' for a command's options.\n"
        "Exit status: 0 on success, 2 on bad input (one line on stderr), 1 on other failures.\n";
    return addrpool::cli::write_stdout(text);
}

}  // namespace

// The dispatcher: a subcommand, help, or a usage error.
static int run(int argc, char** argv) {
    if (argc < 2) return addrpool::cli::usage_error("missing command (try 'addrpool --help')");
    const std::string_view first = argv[1];
    if (first == "--help" || first == "-h") {
        if (argc > 2) return addrpool::cli::usage_error("--help takes no arguments");
        return print_help();
    }
    if (first == "help") {
        if (argc == 2) return print_help();
        if (argc > 3) return addrpool::cli::usage_error("help takes at most one command name");
        const Command* c = find_command(argv[2]);
        if (c == nullptr) return addrpool::cli::usage_error("unknown command (try 'addrpool --help')");
        char help_flag[] = "--help";
        char* sub_argv[] = {argv[2], help_flag, nullptr};
        return c->run(2, sub_argv);
    }
    const Command* c = find_command(first);
    if (c == nullptr) {
        // Not echoed: a mistyped invocation may start with a secret.
        return addrpool::cli::usage_error("unknown command (try 'addrpool --help')");
    }
    return c->run(argc - 1, argv + 1);
}

// Every subcommand reports its own errors; an exception that still escapes
// (memory exhausted, a bug) is one line on stderr and exit 1, after the
// destructors ran (temporary directories removed, secrets wiped), which
// std::terminate would skip.
int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::bad_alloc&) {
        std::fputs("addrpool: out of memory\n", stderr);
    } catch (...) {
        std::fputs("addrpool: internal error: an unexpected exception\n", stderr);
    }
    return addrpool::cli::exit_failure;
}
