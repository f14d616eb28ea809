// Migrating a wallet service from a process-global reservation table
// (std::mutex + map<(wallet, account), map<index, reserved_at>>) to a
// WalletSet: one Account (a receive and a change pool) per (wallet,
// account), all in one lock-free set with one script index. Built and run by
// the tests; docs/api.md includes it verbatim.
#include <addrpool/addrpool.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

using namespace addrpool;

class Wallets {
public:
    // Was: insert a table under the global mutex. Now: an Account over the
    // account's xpub, registered in the set (never blocks a hand-out).
    // Errors: the xpub's parse errors, network_mismatch, and
    // invalid_argument if account_path is not the xpub's own path; false
    // (no error) if (wallet, account) is registered already.
    Result<bool> add(const std::string& wallet, std::uint32_t account, std::string_view account_xpub,
                     const DerivationPath& account_path, Network network) {
        auto keys = KeySource::from_extended_key(account_xpub, network);
        if (!keys) return std::move(keys).error();
        auto a = Account::bip44(std::move(*keys), account_path, network, /*gap_limit=*/20);
        if (!a) return std::move(a).error();
        return set_.add(wallet, account, std::move(*a));
    }

    // Was: lock the global mutex, scan the side table for the lowest index
    // that is neither reserved nor used, insert (index, now), unlock. Now: a
    // lock-free find, then the pool's lock-free hand-out. The shared_ptr
    // keeps the account valid even if another thread removes it meanwhile
    // (the old code's raw pointer into the map did not).
    Result<Reservation> next_receive_address(const std::string& wallet, std::uint32_t account) {
        const std::shared_ptr<Account> a = set_.find(wallet, account);
        if (!a) return make_error(Errc::invalid_argument, "unknown wallet or account");
        return a->next_receive_address();
    }

    // Was: for each output, lock, find the wallet, erase from the side
    // table, mark used in the wallet DB. Now: one call per block, one index
    // probe per output whatever the number of wallets.
    Result<std::vector<WalletMatch>> on_block(std::span<const std::vector<std::uint8_t>> output_scripts) {
        return set_.mark_scripts_used(output_scripts);
    }

    // Was: lock, erase the entry if it is still ours. The ticket does the
    // "still ours" part without a lock.
    bool on_checkout_cancelled(const std::string& wallet, std::uint32_t account, const Reservation& r) {
        const std::shared_ptr<Account> a = set_.find(wallet, account);
        return a && a->external().release_reservation(r);
    }

    // Was: lock, walk every table, erase entries older than ttl.
    std::size_t expire(std::chrono::nanoseconds ttl) { return set_.sweep_expired_reservations(ttl); }

    // Was: erase the wallet's table (and hope no request still used it).
    bool close(const std::string& wallet, std::uint32_t account) { return set_.remove(wallet, account); }

private:
    WalletSet set_;
};

int main() {
    const char* words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                        "abandon about";
    Wallets wallets;
    std::vector<std::string> xpubs;
    for (std::uint32_t account = 0; account < 2; ++account) {
        auto path = DerivationPath::parse("m/44'/1'/" + std::to_string(account) + "'");
        if (!path) return 1;
        // The service is given each account's xpub; here it comes from the test mnemonic.
        auto from_words = KeySource::from_mnemonic(words, "", Network::testnet, *path);
        if (!from_words) return 1;
        xpubs.push_back(from_words->account_public_key()->to_string());
        auto added = wallets.add("7", account, xpubs.back(), *path, Network::testnet);
        if (!added || !*added) return 1;
    }
    // An xpub registered under another account's path is refused.
    const bool wrong_path_refused =
        !wallets.add("8", 1, xpubs[0], *DerivationPath::parse("m/44'/1'/1'"), Network::testnet);

    // Four request threads per account, each taking 25 addresses, while a
    // fifth registers and closes another wallet again and again.
    std::vector<std::thread> threads;
    std::vector<std::vector<Reservation>> got(8);
    for (std::size_t t = 0; t < got.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                auto r = wallets.next_receive_address("7", static_cast<std::uint32_t>(t % 2));
                if (r) got[t].push_back(*r);
            }
        });
    }
    threads.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
            (void)wallets.add("9", 0, xpubs[0], *DerivationPath::parse("m/44'/1'/0'"), Network::testnet);
            (void)wallets.close("9", 0);
        }
    });
    for (auto& th : threads) th.join();
    std::set<std::pair<std::uint32_t, std::uint32_t>> distinct;  // (account, index)
    for (std::size_t t = 0; t < got.size(); ++t) {
        for (const auto& r : got[t]) distinct.insert({static_cast<std::uint32_t>(t % 2), r.index});
    }
    // A block paying one of the hand-outs, next to an output that is not ours.
    const std::vector<std::vector<std::uint8_t>> block = {
        Address(Network::testnet, AddressKind::p2pkh, Hash160{}).script_pubkey(),
        got[0][0].address.script_pubkey(),
    };
    auto matches = wallets.on_block(block);
    const bool paid = matches && matches->size() == 1 && (*matches)[0].position == 1 && (*matches)[0].newly_used;
    const bool cancelled = wallets.on_checkout_cancelled("7", 0, got[0][1]);
    const std::size_t expired = wallets.expire(std::chrono::nanoseconds(0));
    std::printf("%zu distinct (account, index) pairs; paid %d cancelled %d expired %zu wrong path refused %d\n",
                distinct.size(), paid, cancelled, expired, wrong_path_refused);
    return distinct.size() == 200 && paid && cancelled && expired == 198 && wrong_path_refused ? 0 : 1;
}
