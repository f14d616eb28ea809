// Migrating a wallet service from a process-global reservation table
// (std::mutex + map<(wallet, account), map<index, reserved_at>>) to one
// AddressPool per (wallet, account, chain). Built and run by the tests;
// docs/api.md includes it verbatim.
#include <addrpool/addrpool.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

using namespace addrpool;

using WalletId = std::uint64_t;

// What the side table held per (wallet, account) now lives in the pools:
// reserved_at is the reservation's time (sweep), "used" is durable state.
struct Account {
    KeySource keys;
    AddressPool receive;  // m/44'/coin'/account'/0
    AddressPool change;   // m/44'/coin'/account'/1
};

class Wallets {
public:
    // Registration is rare: it takes the map's lock exclusively. Accounts are
    // held by shared_ptr: a hand-out copies the pointer under a shared lock
    // and reserves with no lock at all, and registering an account again
    // replaces the map's entry while calls still using the old one keep it
    // alive (a raw pointer would dangle).
    // Errors: the account xpub's parse errors, network_mismatch, and
    // invalid_argument if account_path is not the xpub's own path.
    Result<void> add(WalletId wallet, std::uint32_t account, std::string_view account_xpub,
                     const DerivationPath& account_path, Network network) {
        auto keys = KeySource::from_extended_key(account_xpub, network);
        if (!keys) return std::move(keys).error();
        const DerivationPath receive = pool_base_path(account_path, PoolType::external);
        const DerivationPath change = pool_base_path(account_path, PoolType::internal);
        if (auto ok = keys->check_pool(receive, PoolType::external, network); !ok) return ok;
        auto a = std::make_shared<Account>(Account{*keys, AddressPool(receive, PoolType::external, 20, network),
                                                   AddressPool(change, PoolType::internal, 20, network)});
        std::unique_lock lock(map_mutex_);
        accounts_.insert_or_assign({wallet, account}, std::move(a));
        return {};
    }

    // Was: lock the global mutex, scan the side table for the lowest index
    // that is neither reserved nor used, insert (index, now), unlock.
    Result<Reservation> next_receive_address(WalletId wallet, std::uint32_t account) {
        const std::shared_ptr<Account> a = find(wallet, account);
        if (a == nullptr) return make_error(Errc::invalid_argument, "unknown wallet or account");
        return a->receive.reserve(a->keys, /*add_to_state=*/true);
    }

    // Was: lock, erase from the side table, mark used in the wallet DB.
    bool on_payment_seen(WalletId wallet, std::uint32_t account, const Address& address) {
        const std::shared_ptr<Account> a = find(wallet, account);
        return a != nullptr && a->receive.mark_used(address);
    }

    // Was: lock, erase the entry if it is still ours. The ticket does the
    // "still ours" part without a lock.
    bool on_checkout_cancelled(WalletId wallet, std::uint32_t account, const Reservation& r) {
        const std::shared_ptr<Account> a = find(wallet, account);
        return a != nullptr && a->receive.release_reservation(r);
    }

    // Was: lock, walk every table, erase entries older than ttl.
    std::size_t expire(std::chrono::nanoseconds ttl) {
        std::shared_lock lock(map_mutex_);
        std::size_t freed = 0;
        for (auto& [key, a] : accounts_) {
            freed += a->receive.sweep_expired_reservations(ttl) + a->change.sweep_expired_reservations(ttl);
        }
        return freed;
    }

private:
    std::shared_ptr<Account> find(WalletId wallet, std::uint32_t account) {
        std::shared_lock lock(map_mutex_);
        auto it = accounts_.find({wallet, account});
        return it == accounts_.end() ? nullptr : it->second;
    }

    std::shared_mutex map_mutex_;  // guards the map's shape only, never a hand-out
    std::map<std::pair<WalletId, std::uint32_t>, std::shared_ptr<Account>> accounts_;
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
        if (!wallets.add(/*wallet=*/7, account, xpubs.back(), *path, Network::testnet)) return 1;
    }
    // An xpub registered under another account's path is refused.
    const bool wrong_path_refused = !wallets.add(8, 1, xpubs[0], *DerivationPath::parse("m/44'/1'/1'"), Network::testnet);

    // Four request threads per account, each taking 25 addresses.
    std::vector<std::thread> threads;
    std::vector<std::vector<Reservation>> got(8);
    for (std::size_t t = 0; t < got.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                auto r = wallets.next_receive_address(7, static_cast<std::uint32_t>(t % 2));
                if (r) got[t].push_back(*r);
            }
        });
    }
    for (auto& th : threads) th.join();
    std::set<std::pair<std::uint32_t, std::uint32_t>> distinct;  // (account, index)
    for (std::size_t t = 0; t < got.size(); ++t) {
        for (const auto& r : got[t]) distinct.insert({static_cast<std::uint32_t>(t % 2), r.index});
    }
    const bool paid = wallets.on_payment_seen(7, 0, got[0][0].address);
    const bool cancelled = wallets.on_checkout_cancelled(7, 0, got[0][1]);
    const std::size_t expired = wallets.expire(std::chrono::nanoseconds(0));
    std::printf("%zu distinct (account, index) pairs; paid %d cancelled %d expired %zu wrong path refused %d\n",
                distinct.size(), paid, cancelled, expired, wrong_path_refused);
    return distinct.size() == 200 && paid && cancelled && expired == 198 && wrong_path_refused ? 0 : 1;
}
