/* The start-up and sync calls of the C ABI, from C11: replaying used indices
 * (addrpool_mark_index_used_with), syncing a block's scripts
 * (addrpool_mark_scripts_used), restoring open hand-outs
 * (addrpool_restore_reservation), tickets across pools and reloads, and the
 * options with derive_threads (addrpool_pool_options_ex and its
 * constructors). Linked into test-c-api, whose main runs run_sync_tests();
 * the statuses produced here count in its "every status produced" check. */
#define _GNU_SOURCE 1

#include <addrpool/addrpool.h>

#include "harness.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool contains_text(const char *haystack, const char *needle) { return strstr(haystack, needle) != NULL; }

/* ---- scripts, built from addresses without the library ------------------ */

static const char BASE58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* A Base58Check address -> its 25 bytes (version, hash160, checksum). */
static bool base58_decode25(const char *text, unsigned char out[25]) {
    unsigned char buf[25] = {0};
    for (const char *c = text; *c != '\0'; ++c) {
        const char *d = strchr(BASE58, *c);
        if (d == NULL) return false;
        unsigned carry = (unsigned)(d - BASE58);
        for (int i = 24; i >= 0; --i) {
            carry += 58u * buf[i];
            buf[i] = (unsigned char)carry;
            carry >>= 8;
        }
        if (carry != 0) return false;
    }
    memcpy(out, buf, sizeof buf);
    return true;
}

typedef struct {
    unsigned char bytes[25];
    size_t len;
} script;

/* The receive address at `index` of the key source's account. */
static void address_of(const addrpool_key_source *keys, uint32_t index, char out[ADDRPOOL_ADDRESS_MAX]) {
    EXPECT(addrpool_key_source_derive_address(keys, ADDRPOOL_EXTERNAL, index, ADDRPOOL_TESTNET,
                                              ADDRPOOL_FORMAT_BASE58CHECK, out, ADDRPOOL_ADDRESS_MAX),
           ADDRPOOL_OK);
}

/* OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG, or for p2sh
 * OP_HASH160 <20> OP_EQUAL, over the hash160 of address `index`. */
static script script_of(const addrpool_key_source *keys, uint32_t index, bool p2sh) {
    char addr[ADDRPOOL_ADDRESS_MAX];
    address_of(keys, index, addr);
    unsigned char raw[25];
    CHECK(base58_decode25(addr, raw));
    script s;
    memset(&s, 0, sizeof s);
    if (p2sh) {
        s.bytes[0] = 0xa9;
        s.bytes[1] = 0x14;
        memcpy(s.bytes + 2, raw + 1, 20);
        s.bytes[22] = 0x87;
        s.len = 23;
    } else {
        s.bytes[0] = 0x76;
        s.bytes[1] = 0xa9;
        s.bytes[2] = 0x14;
        memcpy(s.bytes + 3, raw + 1, 20);
        s.bytes[23] = 0x88;
        s.bytes[24] = 0xac;
        s.len = 25;
    }
    return s;
}

static addrpool_key_source *account_keys(void) {
    addrpool_key_source *keys = NULL;
    EXPECT(addrpool_key_source_from_xprv(ACCOUNT_TPRV, &keys), ADDRPOOL_OK);
    return keys;
}

static addrpool_pool *keyless_receive_pool(uint32_t gap_limit) {
    addrpool_pool *p = NULL;
    EXPECT(addrpool_pool_new_keyless("m/44'/1'/0'/0", ADDRPOOL_EXTERNAL, gap_limit, ADDRPOOL_TESTNET, NULL, &p),
           ADDRPOOL_OK);
    return p;
}

static addrpool_address_state state_of(const addrpool_pool *p, uint32_t index) {
    addrpool_address_state st = ADDRPOOL_STATE_UNUSED;
    EXPECT(addrpool_state(p, index, &st), ADDRPOOL_OK);
    return st;
}

static uint32_t window_end(const addrpool_pool *p) {
    uint32_t end = 0;
    EXPECT(addrpool_scan_window_end(p, &end), ADDRPOOL_OK);
    return end;
}

/* ---- tests -------------------------------------------------------------------- */

TEST(the_sync_structs_have_the_documented_layout) {
    CHECK(sizeof(addrpool_script_match) == 16 && _Alignof(addrpool_script_match) == 8);
    CHECK(offsetof(addrpool_script_match, position) == 0);
    CHECK(offsetof(addrpool_script_match, index) == 8);
    CHECK(offsetof(addrpool_script_match, newly_used) == 12);
    CHECK(sizeof(addrpool_pool_options_ex) == 20 && _Alignof(addrpool_pool_options_ex) == 4);
    CHECK(offsetof(addrpool_pool_options_ex, size) == 0);
    CHECK(offsetof(addrpool_pool_options_ex, lookahead) == 4);
    CHECK(offsetof(addrpool_pool_options_ex, gap_policy) == 8);
    CHECK(offsetof(addrpool_pool_options_ex, format) == 12);
    CHECK(offsetof(addrpool_pool_options_ex, derive_threads) == 16);
    CHECK(ADDRPOOL_MAX_DERIVE_THREADS == 256);
}

TEST(mark_index_used_with_replays_a_wallet_database_on_a_fresh_pool) {
    addrpool_pool *p = NULL;
    EXPECT(addrpool_pool_new(ACCOUNT_TPRV, ACCOUNT_PATH, ADDRPOOL_TESTNET, ADDRPOOL_EXTERNAL, 20, NULL, &p),
           ADDRPOOL_OK);
    bool changed = true;
    /* The old call knows only derived indices: a fresh pool has none. */
    EXPECT(addrpool_mark_index_used(p, 1, &changed), ADDRPOOL_OK);
    CHECK(!changed);
    static const uint32_t db_used[] = {40, 0, 3, 1};
    for (size_t k = 0; k < sizeof db_used / sizeof db_used[0]; ++k) {
        changed = false;
        EXPECT(addrpool_mark_index_used_with(p, NULL, db_used[k], &changed), ADDRPOOL_OK);
        CHECK(changed);
    }
    EXPECT(addrpool_mark_index_used_with(p, NULL, 3, &changed), ADDRPOOL_OK);
    CHECK(!changed); /* already used */
    CHECK(state_of(p, 40) == ADDRPOOL_STATE_USED && state_of(p, 2) == ADDRPOOL_STATE_UNUSED);
    CHECK(window_end(p) == 40 + 1 + 20);
    char addr[ADDRPOOL_ADDRESS_MAX];
    EXPECT(addrpool_address_at(p, 1, addr, sizeof addr, NULL), ADDRPOOL_OK);
    CHECK(strcmp(addr, EXTERNAL_1) == 0);

    /* The hand-outs skip the replayed indices. */
    uint32_t index = 0;
    uint64_t ticket = 0;
    EXPECT(addrpool_reserve(p, &index, &ticket, addr, sizeof addr), ADDRPOOL_OK);
    CHECK(index == 2 && strcmp(addr, EXTERNAL_2) == 0);
    EXPECT(addrpool_reserve(p, &index, &ticket, NULL, 0), ADDRPOOL_OK);
    CHECK(index == 4);

    /* Outputs are cleared before each failure. */
    changed = true;
    EXPECT(addrpool_mark_index_used_with(p, NULL, 0x80000000u, &changed), ADDRPOOL_E_INDEX_OUT_OF_RANGE);
    CHECK(!changed);
    EXPECT(addrpool_mark_index_used_with(p, NULL, 5, NULL), ADDRPOOL_E_NULL_ARGUMENT);
    changed = true;
    EXPECT(addrpool_mark_index_used_with(NULL, NULL, 5, &changed), ADDRPOOL_E_NULL_ARGUMENT);
    CHECK(!changed);
    addrpool_pool_free(p);

    /* A keyless pool derives with a key source; without one it cannot. */
    addrpool_pool *keyless = keyless_receive_pool(20);
    addrpool_key_source *keys = account_keys();
    changed = true;
    EXPECT(addrpool_mark_index_used_with(keyless, NULL, 7, &changed), ADDRPOOL_E_NO_KEY_SOURCE);
    CHECK(!changed && state_of(keyless, 7) == ADDRPOOL_STATE_UNUSED);
    EXPECT(addrpool_mark_index_used_with(keyless, keys, 7, &changed), ADDRPOOL_OK);
    CHECK(changed && state_of(keyless, 7) == ADDRPOOL_STATE_USED);
    addrpool_key_source_free(keys);
    addrpool_pool_free(keyless);
}

TEST(the_sync_calls_refuse_a_key_source_that_contradicts_the_pool) {
    addrpool_key_source *tpub = NULL, *master_tpub = NULL, *deep = NULL;
    EXPECT(addrpool_key_source_from_xpub(ACCOUNT_TPUB, &tpub), ADDRPOOL_OK);
    EXPECT(addrpool_key_source_from_xpub(MASTER_TPUB, &master_tpub), ADDRPOOL_OK);
    EXPECT(addrpool_key_source_from_xprv(KEY_DEPTH_255, &deep), ADDRPOOL_OK);
    struct {
        const char *base;
        addrpool_pool_type type;
        const addrpool_key_source *keys;
        addrpool_status want;
    } cases[] = {
        {"m/44'/1'/1'/0", ADDRPOOL_EXTERNAL, tpub, ADDRPOOL_E_INVALID_ARGUMENT}, /* another account's path */
        {"m", ADDRPOOL_ABSENT_HARDENED, master_tpub, ADDRPOOL_E_HARDENED_FROM_PUBLIC},
        {"m", ADDRPOOL_ABSENT, deep, ADDRPOOL_E_DEPTH_EXCEEDED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        addrpool_pool *p = NULL;
        EXPECT(addrpool_pool_new_keyless(cases[i].base, cases[i].type, 20, ADDRPOOL_TESTNET, NULL, &p), ADDRPOOL_OK);
        bool changed = true;
        EXPECT(addrpool_mark_index_used_with(p, cases[i].keys, 0, &changed), cases[i].want);
        CHECK(!changed);
        uint64_t ticket = 1;
        char addr[ADDRPOOL_ADDRESS_MAX] = "x";
        EXPECT(addrpool_restore_reservation(p, cases[i].keys, 0, 0, &ticket, addr, sizeof addr), cases[i].want);
        CHECK(ticket == 0 && addr[0] == '\0');
        size_t n = 1;
        EXPECT(addrpool_mark_scripts_used(p, cases[i].keys, NULL, NULL, 0, NULL, 0, &n), cases[i].want);
        CHECK(n == 0);
        addrpool_pool_stats s;
        EXPECT(addrpool_stats(p, &s), ADDRPOOL_OK);
        CHECK(s.generated == 0 && s.used == 0 && s.reserved == 0);
        addrpool_pool_free(p);
    }
    /* Another account's key, after the pool derived with its own. */
    addrpool_pool *p = NULL;
    EXPECT(addrpool_pool_new_keyless("m/0", ADDRPOOL_EXTERNAL, 20, ADDRPOOL_TESTNET, NULL, &p), ADDRPOOL_OK);
    bool changed = false;
    EXPECT(addrpool_mark_index_used_with(p, tpub, 0, &changed), ADDRPOOL_OK);
    EXPECT(addrpool_mark_index_used_with(p, master_tpub, 1, &changed), ADDRPOOL_E_INVALID_ARGUMENT);
    CHECK(state_of(p, 1) == ADDRPOOL_STATE_UNUSED);
    addrpool_pool_free(p);
    addrpool_key_source_free(tpub);
    addrpool_key_source_free(master_tpub);
    addrpool_key_source_free(deep);
}

TEST(mark_scripts_used_finds_payments_past_the_window_wherever_they_sit_and_reports_positions) {
    addrpool_key_source *keys = account_keys();
    addrpool_pool *p = keyless_receive_pool(5);
    /* Window [0, 5). 3 widens it to 9, 8 to 14, 13 to 19; 20 stays out.
     * 8 sits before 3; 13 after 8; 3 is paid twice; index 1's hash comes in
     * a P2SH script, which pays no address of this pool. */
    const script s_p2sh1 = script_of(keys, 1, true), s8 = script_of(keys, 8, false), s3 = script_of(keys, 3, false),
                 s13 = script_of(keys, 13, false), s20 = script_of(keys, 20, false);
    static const unsigned char op_return[] = {0x6a, 0x02, 0xbe, 0xef};
    const uint8_t *scripts[] = {s_p2sh1.bytes, s8.bytes, op_return, NULL, s3.bytes, s13.bytes, s20.bytes, s3.bytes};
    const size_t lens[] = {s_p2sh1.len, s8.len, sizeof op_return, 0, s3.len, s13.len, s20.len, s3.len};
    enum { kCount = sizeof lens / sizeof lens[0] };
    addrpool_script_match m[kCount];
    size_t n = 99;
    EXPECT(addrpool_mark_scripts_used(p, keys, scripts, lens, kCount, m, kCount, &n), ADDRPOOL_OK);
    CHECK(n == 4);
    if (n == 4) {
        CHECK(m[0].position == 1 && m[0].index == 8 && m[0].newly_used);
        CHECK(m[1].position == 4 && m[1].index == 3 && m[1].newly_used);
        CHECK(m[2].position == 5 && m[2].index == 13 && m[2].newly_used);
        CHECK(m[3].position == 7 && m[3].index == 3 && !m[3].newly_used);
    }
    CHECK(state_of(p, 1) == ADDRPOOL_STATE_UNUSED && state_of(p, 20) == ADDRPOOL_STATE_UNUSED);
    CHECK(state_of(p, 13) == ADDRPOOL_STATE_USED);
    CHECK(window_end(p) == 19);
    addrpool_pool_stats s;
    EXPECT(addrpool_stats(p, &s), ADDRPOOL_OK);
    CHECK(s.used == 3 && s.generated == 19); /* the window is materialized */

    /* The same block again: every match, none newly used. */
    EXPECT(addrpool_mark_scripts_used(p, keys, scripts, lens, kCount, m, kCount, &n), ADDRPOOL_OK);
    CHECK(n == 4 && !m[0].newly_used && !m[1].newly_used && !m[2].newly_used);

    /* Errors, each before anything is marked. */
    addrpool_pool *fresh = keyless_receive_pool(5);
    n = 99;
    EXPECT(addrpool_mark_scripts_used(fresh, keys, scripts, lens, kCount, m, kCount - 1, &n),
           ADDRPOOL_E_BUFFER_TOO_SMALL);
    CHECK(n == 0);
    EXPECT(addrpool_mark_scripts_used(fresh, keys, scripts, lens, kCount, m, kCount, NULL), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_mark_scripts_used(fresh, keys, NULL, lens, kCount, m, kCount, &n), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_mark_scripts_used(fresh, keys, scripts, NULL, kCount, m, kCount, &n), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_mark_scripts_used(fresh, keys, scripts, lens, kCount, NULL, kCount, &n), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_mark_scripts_used(NULL, keys, scripts, lens, kCount, m, kCount, &n), ADDRPOOL_E_NULL_ARGUMENT);
    /* A count no allocation can hold: refused before any script is read. */
    n = 99;
    EXPECT(addrpool_mark_scripts_used(fresh, keys, scripts, lens, SIZE_MAX, m, SIZE_MAX, &n), ADDRPOOL_E_OUT_OF_MEMORY);
    CHECK(n == 0);
    const size_t bad_lens[] = {s_p2sh1.len, s8.len, sizeof op_return, 25, s3.len, s13.len, s20.len, s3.len};
    EXPECT(addrpool_mark_scripts_used(fresh, keys, scripts, bad_lens, kCount, m, kCount, &n),
           ADDRPOOL_E_NULL_ARGUMENT); /* scripts[3] is NULL with a length */
    CHECK(contains_text(addrpool_last_error(), "scripts[3]"));
    EXPECT(addrpool_mark_scripts_used(fresh, NULL, scripts, lens, kCount, m, kCount, &n), ADDRPOOL_E_NO_KEY_SOURCE);
    CHECK(n == 0);
    EXPECT(addrpool_stats(fresh, &s), ADDRPOOL_OK);
    CHECK(s.used == 0 && s.generated == 0);
    /* count 0 derives and materializes the window only. */
    EXPECT(addrpool_mark_scripts_used(fresh, keys, NULL, NULL, 0, NULL, 0, &n), ADDRPOOL_OK);
    EXPECT(addrpool_stats(fresh, &s), ADDRPOOL_OK);
    CHECK(n == 0 && s.generated == 5 && s.used == 0);
    addrpool_pool_free(fresh);
    addrpool_pool_free(p);
    addrpool_key_source_free(keys);
}

TEST(restore_reservation_reserves_exactly_that_index_with_a_fresh_ticket) {
    addrpool_key_source *keys = account_keys();
    addrpool_pool *p = keyless_receive_pool(20);
    uint64_t ticket = 1;
    char addr[ADDRPOOL_ADDRESS_MAX], want[ADDRPOOL_ADDRESS_MAX];
    EXPECT(addrpool_restore_reservation(p, keys, 7, 60000, &ticket, addr, sizeof addr), ADDRPOOL_OK);
    address_of(keys, 7, want);
    CHECK(ticket != 0 && strcmp(addr, want) == 0);
    CHECK(state_of(p, 7) == ADDRPOOL_STATE_RESERVED);
    CHECK(window_end(p) == 7 + 1 + 20);
    char at[ADDRPOOL_ADDRESS_MAX];
    EXPECT(addrpool_address_at(p, 7, at, sizeof at, NULL), ADDRPOOL_OK); /* materialized */
    CHECK(strcmp(at, want) == 0);

    /* Hand-outs skip it. */
    uint32_t index = 0;
    uint64_t t = 0;
    for (uint32_t want_index = 0; want_index < 7; ++want_index) {
        EXPECT(addrpool_reserve_with(p, keys, true, &index, &t, NULL, 0), ADDRPOOL_OK);
        CHECK(index == want_index);
    }
    EXPECT(addrpool_reserve_with(p, keys, true, &index, &t, NULL, 0), ADDRPOOL_OK);
    CHECK(index == 8);

    /* Used or reserved indices are unavailable; nothing changes. */
    uint64_t other = 1;
    EXPECT(addrpool_restore_reservation(p, keys, 7, 0, &other, NULL, 0), ADDRPOOL_E_INDEX_UNAVAILABLE);
    CHECK(other == 0 && contains_text(addrpool_last_error(), "reserved"));
    EXPECT(addrpool_restore_reservation(p, keys, 3, 0, &other, NULL, 0), ADDRPOOL_E_INDEX_UNAVAILABLE);
    bool changed = false;
    EXPECT(addrpool_mark_index_used_with(p, keys, 30, &changed), ADDRPOOL_OK);
    EXPECT(addrpool_restore_reservation(p, keys, 30, 0, &other, NULL, 0), ADDRPOOL_E_INDEX_UNAVAILABLE);
    CHECK(contains_text(addrpool_last_error(), "used"));
    CHECK(state_of(p, 30) == ADDRPOOL_STATE_USED);

    /* A sweep with a ttl above the age leaves it; its ticket releases it. */
    size_t freed = 1;
    EXPECT(addrpool_sweep(p, 3600 * 1000, &freed), ADDRPOOL_OK);
    CHECK(freed == 0);
    bool released = false;
    EXPECT(addrpool_release(p, 7, ticket, &released), ADDRPOOL_OK);
    CHECK(released);
    EXPECT(addrpool_release(p, 7, ticket, &released), ADDRPOOL_OK);
    CHECK(!released);

    /* Restored again: a fresh ticket, and the first one is stale. */
    uint64_t again = 0;
    EXPECT(addrpool_restore_reservation(p, keys, 7, 0, &again, NULL, 0), ADDRPOOL_OK);
    CHECK(again != 0 && again != ticket);
    EXPECT(addrpool_release(p, 7, ticket, &released), ADDRPOOL_OK);
    CHECK(!released && state_of(p, 7) == ADDRPOOL_STATE_RESERVED);

    /* Errors; outputs cleared first, nothing reserved. */
    other = 1;
    addr[0] = 'x';
    EXPECT(addrpool_restore_reservation(p, keys, 40, 0, &other, addr, ADDRPOOL_ADDRESS_MAX - 1),
           ADDRPOOL_E_BUFFER_TOO_SMALL);
    CHECK(other == 0 && addr[0] == '\0' && state_of(p, 40) == ADDRPOOL_STATE_UNUSED);
    EXPECT(addrpool_restore_reservation(p, keys, 40, 0, &other, NULL, 5), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_restore_reservation(p, keys, 40, 0, NULL, NULL, 0), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_restore_reservation(NULL, keys, 40, 0, &other, NULL, 0), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_restore_reservation(p, keys, 0x80000000u, 0, &other, NULL, 0), ADDRPOOL_E_INDEX_OUT_OF_RANGE);
    EXPECT(addrpool_restore_reservation(p, NULL, 40, 0, &other, NULL, 0), ADDRPOOL_E_NO_KEY_SOURCE);
    CHECK(other == 0 && state_of(p, 40) == ADDRPOOL_STATE_UNUSED);
    /* Ages beyond 292 years are clamped, not an overflow. */
    EXPECT(addrpool_restore_reservation(p, keys, 41, UINT64_MAX, &other, NULL, 0), ADDRPOOL_OK);
    CHECK(state_of(p, 41) == ADDRPOOL_STATE_RESERVED);
    addrpool_pool_free(p);
    addrpool_key_source_free(keys);
}

TEST(a_ticket_from_another_pool_or_from_before_a_reload_releases_nothing) {
    addrpool_key_source *keys = account_keys();
    addrpool_pool *first = keyless_receive_pool(20), *second = keyless_receive_pool(20);
    uint32_t index = 0, i2 = 0;
    uint64_t old_ticket = 0, ticket2 = 0;
    EXPECT(addrpool_reserve_with(first, keys, true, &index, &old_ticket, NULL, 0), ADDRPOOL_OK);
    EXPECT(addrpool_reserve_with(second, keys, true, &i2, &ticket2, NULL, 0), ADDRPOOL_OK);
    CHECK(index == 0 && i2 == 0 && old_ticket != ticket2);
    bool released = true;
    EXPECT(addrpool_release(second, 0, old_ticket, &released), ADDRPOOL_OK);
    CHECK(!released && state_of(second, 0) == ADDRPOOL_STATE_RESERVED);

    /* The restart: the open hand-out is restored in the reloaded pool; the
     * client's late release with the ticket from before frees nothing. */
    uint8_t *bytes = NULL;
    size_t len = 0;
    EXPECT(addrpool_serialize(first, &bytes, &len), ADDRPOOL_OK);
    addrpool_pool *reloaded = NULL;
    EXPECT(addrpool_deserialize(bytes, len, &reloaded), ADDRPOOL_OK);
    addrpool_bytes_free(bytes);
    uint64_t restored = 0;
    EXPECT(addrpool_restore_reservation(reloaded, keys, 0, 1000, &restored, NULL, 0), ADDRPOOL_OK);
    EXPECT(addrpool_release(reloaded, 0, old_ticket, &released), ADDRPOOL_OK);
    CHECK(!released && state_of(reloaded, 0) == ADDRPOOL_STATE_RESERVED);
    EXPECT(addrpool_release(reloaded, 0, restored, &released), ADDRPOOL_OK);
    CHECK(released);
    addrpool_pool_free(reloaded);
    addrpool_pool_free(second);
    addrpool_pool_free(first);
    addrpool_key_source_free(keys);
}

enum { kRestorers = 6, kRounds = 20 };

struct restorer {
    addrpool_pool *pool;
    pthread_barrier_t *barrier;
    uint32_t index;
    addrpool_status status;
    uint64_t ticket;
};

static void *restore_one(void *arg) {
    struct restorer *r = arg;
    pthread_barrier_wait(r->barrier);
    r->status = addrpool_restore_reservation(r->pool, NULL, r->index, 0, &r->ticket, NULL, 0);
    return NULL;
}

TEST(concurrent_restores_of_one_index_have_exactly_one_winner) {
    addrpool_pool *p = NULL;
    EXPECT(addrpool_pool_new(ACCOUNT_TPRV, ACCOUNT_PATH, ADDRPOOL_TESTNET, ADDRPOOL_EXTERNAL, 20, NULL, &p),
           ADDRPOOL_OK);
    for (int round = 0; round < kRounds; ++round) {
        pthread_barrier_t barrier;
        CHECK(pthread_barrier_init(&barrier, NULL, kRestorers) == 0);
        struct restorer workers[kRestorers];
        pthread_t threads[kRestorers];
        const uint32_t index = (uint32_t)(round * 7 % 50); /* underived the first time, derived later */
        for (int t = 0; t < kRestorers; ++t) {
            workers[t] = (struct restorer){p, &barrier, index, ADDRPOOL_E_INTERNAL, 0};
            CHECK(pthread_create(&threads[t], NULL, restore_one, &workers[t]) == 0);
        }
        for (int t = 0; t < kRestorers; ++t) CHECK(pthread_join(threads[t], NULL) == 0);
        pthread_barrier_destroy(&barrier);
        int wins = 0;
        uint64_t winner = 0;
        for (int t = 0; t < kRestorers; ++t) {
            if (workers[t].status == ADDRPOOL_OK) {
                ++wins;
                winner = workers[t].ticket;
            } else {
                CHECK(workers[t].status == ADDRPOOL_E_INDEX_UNAVAILABLE && workers[t].ticket == 0);
            }
        }
        CHECK(wins == 1);
        bool released = false;
        EXPECT(addrpool_release(p, index, winner, &released), ADDRPOOL_OK);
        CHECK(released);
    }
    addrpool_pool_free(p);
}

TEST(options_ex_carry_derive_threads_and_are_checked) {
    addrpool_pool_options_ex o;
    memset(&o, 0xff, sizeof o);
    EXPECT(addrpool_pool_options_ex_init(&o), ADDRPOOL_OK);
    CHECK(o.size == sizeof o && o.lookahead == 0 && o.gap_policy == ADDRPOOL_GAP_UNBOUNDED &&
          o.format == ADDRPOOL_FORMAT_BASE58CHECK && o.derive_threads == 0);
    EXPECT(addrpool_pool_options_ex_init(NULL), ADDRPOOL_E_NULL_ARGUMENT);

    /* The same window derived on 1 and on 4 threads (600 > 256 addresses). */
    addrpool_key_source *keys = account_keys();
    enum { kGap = 600 };
    addrpool_pool *pools[2] = {NULL, NULL};
    const uint32_t threads[2] = {1, 4};
    for (int k = 0; k < 2; ++k) {
        o.derive_threads = threads[k];
        EXPECT(addrpool_pool_new_keyless_ex("m/44'/1'/0'/0", ADDRPOOL_EXTERNAL, kGap, ADDRPOOL_TESTNET, &o, &pools[k]),
               ADDRPOOL_OK);
        size_t n = 1;
        EXPECT(addrpool_mark_scripts_used(pools[k], keys, NULL, NULL, 0, NULL, 0, &n), ADDRPOOL_OK);
    }
    int differ = 0;
    for (uint32_t i = 0; i < kGap; ++i) {
        char a[ADDRPOOL_ADDRESS_MAX], b[ADDRPOOL_ADDRESS_MAX];
        EXPECT(addrpool_address_at(pools[0], i, a, sizeof a, NULL), ADDRPOOL_OK);
        EXPECT(addrpool_address_at(pools[1], i, b, sizeof b, NULL), ADDRPOOL_OK);
        if (strcmp(a, b) != 0) ++differ;
        if (i == 2) CHECK(strcmp(a, EXTERNAL_2) == 0);
    }
    CHECK(differ == 0);

    /* Loading with options: bytes and a file. */
    uint8_t *bytes = NULL;
    size_t len = 0;
    EXPECT(addrpool_serialize(pools[1], &bytes, &len), ADDRPOOL_OK);
    addrpool_pool *copy = NULL;
    o.derive_threads = 2;
    EXPECT(addrpool_deserialize_ex(bytes, len, &o, &copy), ADDRPOOL_OK);
    addrpool_pool_stats s;
    EXPECT(addrpool_stats(copy, &s), ADDRPOOL_OK);
    CHECK(s.generated == kGap);
    addrpool_pool_free(copy);
    EXPECT(addrpool_deserialize_ex(bytes, len, NULL, &copy), ADDRPOOL_OK);
    addrpool_pool_free(copy);
    EXPECT(addrpool_deserialize_ex(NULL, 3, &o, &copy), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_deserialize_ex(bytes, 3, &o, &copy), ADDRPOOL_E_TRUNCATED);
    CHECK(copy == NULL);
    addrpool_bytes_free(bytes);

    char file[400];
    snprintf(file, sizeof file, "%s/sync-ex.pool", tmpdir);
    EXPECT(addrpool_save(pools[0], file), ADDRPOOL_OK);
    addrpool_pool *loaded = NULL;
    EXPECT(addrpool_load_ex(file, ACCOUNT_TPRV, &o, &loaded), ADDRPOOL_OK);
    bool changed = false;
    EXPECT(addrpool_mark_index_used_with(loaded, NULL, kGap + 100, &changed), ADDRPOOL_OK); /* its own key */
    CHECK(changed);
    addrpool_pool_free(loaded);
    char missing[420];
    snprintf(missing, sizeof missing, "%s/no-such.pool", tmpdir);
    EXPECT(addrpool_load_ex(missing, NULL, &o, &loaded), ADDRPOOL_E_IO_ERROR);
    EXPECT(addrpool_load_ex(NULL, NULL, &o, &loaded), ADDRPOOL_E_NULL_ARGUMENT);
    CHECK(loaded == NULL);

    /* Bad options are refused before anything else happens. */
    addrpool_pool_options_ex bad = o;
    bad.size = 0; /* not initialized */
    addrpool_pool *none = (addrpool_pool *)&bad;
    EXPECT(addrpool_pool_new_keyless_ex("m/0", ADDRPOOL_EXTERNAL, 20, ADDRPOOL_TESTNET, &bad, &none),
           ADDRPOOL_E_INVALID_ARGUMENT);
    CHECK(none == NULL);
    bad.size = sizeof bad + 4; /* a newer header's */
    EXPECT(addrpool_load_ex(file, NULL, &bad, &loaded), ADDRPOOL_E_INVALID_ARGUMENT);
    bad = o;
    bad.derive_threads = ADDRPOOL_MAX_DERIVE_THREADS + 1;
    EXPECT(addrpool_deserialize_ex(NULL, 0, &bad, &copy), ADDRPOOL_E_INVALID_ARGUMENT);
    CHECK(contains_text(addrpool_last_error(), "derive_threads"));
    bad = o;
    bad.gap_policy = (addrpool_gap_policy)7;
    EXPECT(addrpool_pool_new_keyless_ex("m/0", ADDRPOOL_EXTERNAL, 20, ADDRPOOL_TESTNET, &bad, &none),
           ADDRPOOL_E_INVALID_ARGUMENT);
    bad = o;
    bad.lookahead = ADDRPOOL_MAX_LOOKAHEAD + 1;
    EXPECT(addrpool_pool_new_keyless_ex("m/0", ADDRPOOL_EXTERNAL, 20, ADDRPOOL_TESTNET, &bad, &none),
           ADDRPOOL_E_INVALID_ARGUMENT);
    EXPECT(addrpool_pool_new_keyless_ex("m/x", ADDRPOOL_EXTERNAL, 20, ADDRPOOL_TESTNET, &o, &none),
           ADDRPOOL_E_INVALID_PATH);
    EXPECT(addrpool_pool_new_keyless_ex("m/0", ADDRPOOL_EXTERNAL, ADDRPOOL_MAX_GAP_LIMIT + 1, ADDRPOOL_TESTNET, &o,
                                        &none),
           ADDRPOOL_E_INVALID_ARGUMENT);
    EXPECT(addrpool_pool_new_keyless_ex("m/0", ADDRPOOL_EXTERNAL, 20, ADDRPOOL_TESTNET, NULL, NULL),
           ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_pool_new_keyless_ex("m/0", ADDRPOOL_EXTERNAL, 20, ADDRPOOL_TESTNET, NULL, &none), ADDRPOOL_OK);
    addrpool_pool_free(none);
    addrpool_pool_free(pools[0]);
    addrpool_pool_free(pools[1]);
    addrpool_key_source_free(keys);
}

void run_sync_tests(void) {
    RUN(the_sync_structs_have_the_documented_layout);
    RUN(mark_index_used_with_replays_a_wallet_database_on_a_fresh_pool);
    RUN(the_sync_calls_refuse_a_key_source_that_contradicts_the_pool);
    RUN(mark_scripts_used_finds_payments_past_the_window_wherever_they_sit_and_reports_positions);
    RUN(restore_reservation_reserves_exactly_that_index_with_a_fresh_ticket);
    RUN(a_ticket_from_another_pool_or_from_before_a_reload_releases_nothing);
    RUN(concurrent_restores_of_one_index_have_exactly_one_winner);
    RUN(options_ex_carry_derive_threads_and_are_checked);
}
