// Start-up and sync of a payment service that keeps its own database: replay
// the used indices, restore the open invoices' hand-outs, sync blocks with
// mark_scripts_used, save; then restart from the saved file. Built and run by
// the tests; docs/api.md includes it verbatim.
#include <addrpool/addrpool.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

using namespace addrpool;
using namespace std::chrono_literals;

static int fail(const char* what, const Error& e) {
    std::fprintf(stderr, "%s: %s (%s)\n", what, e.message.c_str(), errc_name(e.code));
    return 1;
}

// What the service's database held when it stopped.
struct OpenInvoice {
    std::uint32_t index;
    std::chrono::milliseconds age;  // now - created_at
};
const std::vector<std::uint32_t> kUsedInDb = {0, 1, 2, 4, 7};
const std::vector<OpenInvoice> kOpenInDb = {{3, 20min}, {5, 2min}};

int main() {
    // A watch-only service: the account xpub of m/44'/1'/0'.
    auto source = KeySource::from_extended_key(
        "tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba",
        Network::testnet);
    if (!source) return fail("xpub", source.error());
    const KeySource keys = *source;
    PoolOptions options;
    options.derive_threads = 0;  // large windows derive on every core (the default)
    AddressPool pool(*DerivationPath::parse("m/44'/1'/0'/0"), PoolType::external, 20, Network::testnet, options);

    // 1. Replay "used". mark_index_used(i, keys) derives index i first; the
    //    one-argument mark_index_used(i) knows only derived indices, so on a
    //    fresh pool it would change nothing.
    for (std::uint32_t i : kUsedInDb) {
        if (auto r = pool.mark_index_used(i, keys); !r) return fail("replay", r.error());
    }

    // 2. Restore the hand-outs of the open invoices, as old as they are: each
    //    gets a fresh ticket, counts in the gap window, and expires by its age.
    std::map<std::uint32_t, Reservation> open;
    for (const OpenInvoice& inv : kOpenInDb) {
        auto r = pool.restore_reservation(inv.index, inv.age, keys);
        if (!r) return fail("restore", r.error());  // index_unavailable: the DB contradicts itself
        open.emplace(inv.index, *r);
    }

    // 3. New customers get the lowest index neither used nor promised.
    auto fresh = pool.reserve(keys, /*add_to_state=*/true);
    if (!fresh) return fail("reserve", fresh.error());
    std::printf("after the replay the next hand-out is index %u\n", fresh->index);  // 6

    // 4. A block arrives: its outputs' scripts, ours among others'. Here it is
    //    made up: invoice 3 is paid, and so are index 25 and index 40 (a second
    //    wallet on the same seed). 40 lies past the window [0, 28) until the
    //    payment to 25 widens it to [0, 46); it is found although it comes first.
    auto script_of = [&](std::uint32_t i) {
        return Address(Network::testnet, AddressKind::p2pkh, *keys.derive_hash160(PoolType::external, i))
            .script_pubkey();
    };
    const std::vector<std::vector<std::uint8_t>> block = {
        script_of(40), {0x6a, 0x02, 0xbe, 0xef} /* OP_RETURN */, script_of(3), script_of(25)};
    auto matches = pool.mark_scripts_used(block, keys);
    if (!matches) return fail("sync", matches.error());
    for (const ScriptMatch& m : *matches) {
        std::printf("output %zu pays index %u%s\n", m.position, m.index, m.newly_used ? "" : " (again)");
        open.erase(m.index);  // a paid invoice is closed; its index is used now
    }

    // 5. Periodically: unpaid hand-outs older than the invoice lifetime expire
    //    (restored ones by their age), and the durable state is saved.
    pool.sweep_expired_reservations(30min);
    const auto file = std::filesystem::temp_directory_path() / ("startup-sync-" + std::to_string(::getpid()) + ".pool");
    if (auto ok = pool.save(file); !ok) return fail("save", ok.error());

    // The next start can load that file instead of replaying the database.
    // Reservations are not in it: restore the invoices still open; a ticket
    // from before the restart frees nothing in the new pool.
    auto again = AddressPool::load(file, options);
    std::filesystem::remove(file);
    if (!again) return fail("load", again.error());
    for (const auto& [index, before] : open) {
        auto r = again->restore_reservation(index, 2min, keys);
        if (!r) return fail("restore after load", r.error());
    }
    const bool stale_ticket_refused = !again->release_reservation(open.at(5));
    const PoolStats s = again->stats();
    std::printf("reloaded: %u used, %u reserved, window end %u, stale ticket refused %d\n", s.used, s.reserved,
                again->scan_window_end(), stale_ticket_refused);
    const bool ok = fresh->index == 6 && matches->size() == 3 && open.size() == 1 && s.used == 8 && s.reserved == 1 &&
                    again->scan_window_end() == 61 && stale_ticket_refused;
    return ok ? 0 : 1;
}
