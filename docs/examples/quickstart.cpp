// The C++ API in one page: a receive pool from a BIP39 mnemonic, hand-outs
// from several threads, then completion (used), return (release) and expiry
// (sweep). Built and run by the tests; docs/api.md includes it verbatim.
#include <addrpool/addrpool.hpp>

#include <chrono>
#include <cstdio>
#include <set>
#include <thread>
#include <vector>

using namespace addrpool;

static int fail(const char* what, const Error& e) {
    std::fprintf(stderr, "%s: %s (%s)\n", what, e.message.c_str(), errc_name(e.code));
    return 1;
}

int main() {
    const char* words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                        "abandon about";
    // Every fallible call returns Result<T>: check, then use the value.
    auto account_path = DerivationPath::parse("m/44'/1'/0'");
    if (!account_path) return fail("path", account_path.error());
    // The key material of account m/44'/1'/0' (shared, immutable; an account
    // xpub or xprv works as well: KeySource::from_extended_key).
    auto source = KeySource::from_mnemonic(words, /*passphrase=*/"", Network::testnet, *account_path);
    if (!source) return fail("mnemonic", source.error());
    const KeySource keys = *source;

    // The pool of the account's external chain m/44'/1'/0'/0, gap limit 20.
    const DerivationPath base = pool_base_path(*account_path, PoolType::external);
    // A base path that contradicts the key (another account, chain or network)
    // is refused here, with a message naming the contradiction.
    if (auto ok = keys.check_pool(base, PoolType::external, Network::testnet); !ok) return fail("pool", ok.error());
    AddressPool pool(base, PoolType::external, 20, Network::testnet);

    // Hand out three addresses: the lowest free index each time.
    std::vector<Reservation> held;
    for (int i = 0; i < 3; ++i) {
        auto r = pool.reserve(keys, /*add_to_state=*/true);
        if (!r) return fail("reserve", r.error());
        std::printf("reserved %u %s\n", r->index, r->address.to_string().c_str());
        held.push_back(*r);
    }

    // Any number of threads may share the pool without a lock.
    std::vector<std::thread> threads;
    std::vector<std::uint32_t> got(8);
    for (std::size_t t = 0; t < got.size(); ++t) {
        threads.emplace_back([&, t] {
            auto r = pool.reserve(keys, true);
            got[t] = r ? r->index : 0;
        });
    }
    for (auto& th : threads) th.join();
    std::printf("8 threads got %zu distinct indices\n", std::set<std::uint32_t>(got.begin(), got.end()).size());

    // The payment to the first address arrived: used, for good.
    pool.mark_used(held[0].address);
    // The second checkout was cancelled: return it (the ticket makes a late,
    // second release harmless once the index went to someone else).
    pool.release_reservation(held[1]);
    // Everything else older than 30 minutes expires (nothing here yet).
    const std::size_t freed = pool.sweep_expired_reservations(std::chrono::minutes(30));

    const PoolStats s = pool.stats();
    std::printf("used %u reserved %u freed %zu scan window end %u\n", s.used, s.reserved, freed,
                pool.scan_window_end());
    return 0;
}
