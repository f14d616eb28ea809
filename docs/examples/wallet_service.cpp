// The service pattern: every account of every wallet in one WalletSet —
// register, hand out from many threads, sync each block with one call, sweep
// abandoned checkouts, save incrementally, and restore after a restart. Built
// and run by the tests; docs/api.md includes it verbatim.
#include <addrpool/addrpool.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace addrpool;
using namespace std::chrono_literals;

int main() {
    const char* words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                        "abandon about";
    // The service knows each account's xpub (here: accounts 0..3 of the test mnemonic).
    std::map<std::uint32_t, std::string> xpubs;
    for (std::uint32_t n = 0; n < 4; ++n) {
        auto ks = KeySource::from_mnemonic(words, "", Network::testnet,
                                           *DerivationPath::parse("m/44'/1'/" + std::to_string(n) + "'"));
        if (!ks) return 1;
        xpubs[n] = ks->account_public_key()->to_string();
    }
    auto account_of = [&](std::uint32_t n) {
        auto keys = KeySource::from_xpub(xpubs[n], Network::testnet);
        return Account::bip44(*keys, *DerivationPath::parse("m/44'/1'/" + std::to_string(n) + "'"),
                              Network::testnet, /*gap_limit=*/20);
    };

    // 1. Register: two wallets with two accounts each.
    WalletSet set;
    for (std::uint32_t n = 0; n < 4; ++n) {
        auto a = account_of(n);
        if (!a || !set.add(n < 2 ? "shop-a" : "shop-b", n, *a)) return 1;
    }

    // 2. Hand out: request threads find the account (lock-free) and reserve.
    std::vector<std::vector<Reservation>> handed(4);
    std::vector<std::thread> threads;
    for (std::uint32_t n = 0; n < 4; ++n) {
        threads.emplace_back([&, n] {
            const std::shared_ptr<Account> a = set.find(n < 2 ? "shop-a" : "shop-b", n);
            for (int i = 0; i < 10; ++i) {
                if (auto r = a->next_receive_address()) handed[n].push_back(*r);
            }
        });
    }
    for (auto& t : threads) t.join();

    // 3. Sync a block: one call for all its outputs, whatever the number of
    // accounts. This block pays a checkout, sends change to shop-b's account
    // 3, pays shop-a's account 1 at index 25 — and at index 40, which is past
    // that account's window until the payment to 25 widens it: it is found
    // wherever it sits in the block. One output is someone else's.
    auto pays = [&](std::uint32_t n, PoolType chain, std::uint32_t index) {
        auto h = KeySource::from_xpub(xpubs[n], Network::testnet)->derive_hash160(chain, index);
        return Address(Network::testnet, AddressKind::p2pkh, *h).script_pubkey();
    };
    const std::vector<std::vector<std::uint8_t>> block = {
        pays(1, PoolType::external, 40),
        handed[0][3].address.script_pubkey(),
        Address(Network::testnet, AddressKind::p2pkh, Hash160{}).script_pubkey(),
        pays(3, PoolType::internal, 0),
        pays(1, PoolType::external, 25),
    };
    auto matches = set.mark_scripts_used(block);
    if (!matches) return 1;
    for (const WalletMatch& m : *matches) {
        std::printf("output %zu pays %s/%u %s index %u\n", m.position, m.wallet.c_str(), m.account,
                    m.chain == PoolType::external ? "receive" : "change", m.index);
    }

    // 4. Sweep: checkouts abandoned for longer than the TTL go back to the
    // pools (here every one still open: ttl 0).
    const std::size_t swept = set.sweep_expired_reservations(0ns);

    // 5. Save: the first save writes every pool, later ones only the pools
    // that changed (here: the next block pays one checkout of shop-b).
    const auto dir = std::filesystem::temp_directory_path() / ("addrpool-service-" + std::to_string(::getpid()));
    auto first = set.save(dir);
    const std::vector<std::vector<std::uint8_t>> next_block = {handed[3][0].address.script_pubkey()};
    auto next = set.mark_scripts_used(next_block);
    auto second = set.save(dir);
    if (!first || !next || !second) return 1;

    // 6. Restart: keys come back from the service's own store.
    auto restored = WalletSet::load(dir, [&](std::string_view, std::uint32_t n) {
        return *KeySource::from_xpub(xpubs[n], Network::testnet);
    });
    if (!restored) return 1;
    const bool kept = restored->size() == 4 &&
                      restored->find("shop-a", 0)->external().state(handed[0][3].index) == AddressState::used;
    std::filesystem::remove_all(dir);

    std::printf("%zu matches, %zu swept, saves wrote %zu then %zu pool files, restored %d\n", matches->size(), swept,
                *first, *second, kept);
    return matches->size() == 4 && swept == 39 && *first == 8 && *second == 1 && kept ? 0 : 1;
}
