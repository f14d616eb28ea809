/* The wallet-set C ABI (addrpool_wallets_*), from C11: registration and
 * handles, hand-outs per chain, one block matched across accounts (windows
 * widening), sweep, incremental saves and load with a key callback, every
 * error each function documents, the struct layout, and threads released
 * together that find and hand out while another adds and removes.
 * Includes only <addrpool/addrpool.h>, harness.h and C / POSIX headers. */
#define _GNU_SOURCE 1

#include <addrpool/addrpool.h>

#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Accounts 0 and 1 of harness.h's MNEMONIC; INTERNAL_0 is account 0's first
 * change address. */
static const char *const INTERNAL_0 = "yNwHG9D2rnrJRQ8j7TG6xnWfbr8D634HeM";

/* Key sources of accounts 0 and 1 (from the mnemonic once: PBKDF2). */
static addrpool_key_source *keys[2];

static addrpool_wallets_account *account(unsigned n, uint32_t gap) {
    char path[32];
    snprintf(path, sizeof path, "m/44'/1'/%u'", n);
    addrpool_wallets_account *a = NULL;
    EXPECT(addrpool_wallets_account_new(keys[n], path, ADDRPOOL_TESTNET, gap, NULL, &a), ADDRPOOL_OK);
    return a;
}

/* The script of index i of `chain` of account n, into s (25 bytes). */
static size_t script_of(unsigned n, addrpool_pool_type chain, uint32_t i, uint8_t *s) {
    char addr[ADDRPOOL_ADDRESS_MAX];
    EXPECT(addrpool_key_source_derive_address(keys[n], chain, i, ADDRPOOL_TESTNET, ADDRPOOL_FORMAT_BASE58CHECK, addr,
                                              sizeof addr),
           ADDRPOOL_OK);
    size_t len = 0;
    EXPECT(addrpool_wallets_address_script(addr, s, ADDRPOOL_SCRIPT_MAX, &len), ADDRPOOL_OK);
    return len;
}

/* Matches a block of one output paying index i of `chain` of account n. */
static addrpool_status mark_one(addrpool_wallets *set, unsigned n, addrpool_pool_type chain, uint32_t i,
                                addrpool_wallets_match **m, size_t *count) {
    uint8_t s[ADDRPOOL_SCRIPT_MAX];
    size_t len = script_of(n, chain, i, s);
    const uint8_t *scripts[1] = {s};
    return addrpool_wallets_mark_scripts_used(set, scripts, &len, 1, m, count);
}

TEST(the_match_struct_has_the_documented_layout) {
    CHECK(sizeof(addrpool_wallets_match) == 32 && _Alignof(addrpool_wallets_match) == 8);
    CHECK(offsetof(addrpool_wallets_match, position) == 0);
    CHECK(offsetof(addrpool_wallets_match, wallet) == 8);
    CHECK(offsetof(addrpool_wallets_match, account) == 16);
    CHECK(offsetof(addrpool_wallets_match, chain) == 20);
    CHECK(offsetof(addrpool_wallets_match, index) == 24);
    CHECK(offsetof(addrpool_wallets_match, newly_used) == 28);
}

TEST(accounts_hand_out_their_receive_and_change_addresses) {
    addrpool_wallets_account *a = account(0, 20);
    uint32_t index = 9;
    uint64_t ticket = 0;
    char addr[ADDRPOOL_ADDRESS_MAX];
    EXPECT(addrpool_wallets_account_reserve(a, ADDRPOOL_EXTERNAL, &index, &ticket, addr, sizeof addr), ADDRPOOL_OK);
    CHECK(index == 0 && strcmp(addr, EXTERNAL_0) == 0);
    EXPECT(addrpool_wallets_account_reserve(a, ADDRPOOL_EXTERNAL, &index, &ticket, NULL, 0), ADDRPOOL_OK);
    CHECK(index == 1);
    EXPECT(addrpool_wallets_account_reserve(a, ADDRPOOL_INTERNAL, &index, &ticket, addr, sizeof addr), ADDRPOOL_OK);
    CHECK(index == 0 && strcmp(addr, INTERNAL_0) == 0);
    bool released = false;
    EXPECT(addrpool_wallets_account_release(a, ADDRPOOL_INTERNAL, 0, ticket + 1, &released), ADDRPOOL_OK);
    CHECK(!released); /* another ticket */
    EXPECT(addrpool_wallets_account_release(a, ADDRPOOL_INTERNAL, 0, ticket, &released), ADDRPOOL_OK);
    CHECK(released);
    addrpool_pool_stats st;
    EXPECT(addrpool_wallets_account_stats(a, ADDRPOOL_EXTERNAL, &st), ADDRPOOL_OK);
    CHECK(st.reserved == 2 && st.highest_reserved == 1 && st.gap_limit == 20);
    uint32_t end = 0;
    EXPECT(addrpool_wallets_account_scan_window_end(a, ADDRPOOL_EXTERNAL, &end), ADDRPOOL_OK);
    CHECK(end == 22);
    addrpool_address_state state = ADDRPOOL_STATE_USED;
    EXPECT(addrpool_wallets_account_state(a, ADDRPOOL_INTERNAL, 0, &state), ADDRPOOL_OK);
    CHECK(state == ADDRPOOL_STATE_UNUSED);

    /* Errors: the chain, the index, the buffer, NULLs; outputs cleared. */
    EXPECT(addrpool_wallets_account_reserve(a, ADDRPOOL_ABSENT, &index, &ticket, NULL, 0),
           ADDRPOOL_E_INVALID_ARGUMENT);
    CHECK(index == 0 && ticket == 0);
    EXPECT(addrpool_wallets_account_reserve(a, (addrpool_pool_type)7, &index, &ticket, NULL, 0),
           ADDRPOOL_E_INVALID_ARGUMENT);
    EXPECT(addrpool_wallets_account_reserve(a, ADDRPOOL_EXTERNAL, &index, &ticket, addr, 10),
           ADDRPOOL_E_BUFFER_TOO_SMALL);
    CHECK(addr[0] == '\0');
    EXPECT(addrpool_wallets_account_reserve(NULL, ADDRPOOL_EXTERNAL, &index, &ticket, NULL, 0),
           ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_account_reserve(a, ADDRPOOL_EXTERNAL, NULL, &ticket, NULL, 0), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_account_release(a, ADDRPOOL_EXTERNAL, 0x80000000u, 1, &released),
           ADDRPOOL_E_INDEX_OUT_OF_RANGE);
    EXPECT(addrpool_wallets_account_state(a, ADDRPOOL_EXTERNAL, 0x80000000u, &state), ADDRPOOL_E_INDEX_OUT_OF_RANGE);
    EXPECT(addrpool_wallets_account_stats(a, ADDRPOOL_ABSENT_HARDENED, &st), ADDRPOOL_E_INVALID_ARGUMENT);
    CHECK(st.highest_used == -1 && st.generated == 0);
    EXPECT(addrpool_wallets_account_scan_window_end(NULL, ADDRPOOL_EXTERNAL, &end), ADDRPOOL_E_NULL_ARGUMENT);
    addrpool_network net = ADDRPOOL_MAINNET;
    uint32_t gap = 0;
    addrpool_address_format format = ADDRPOOL_FORMAT_PLATFORM;
    EXPECT(addrpool_wallets_account_describe(a, &net, &gap, &format), ADDRPOOL_OK);
    CHECK(net == ADDRPOOL_TESTNET && gap == 20 && format == ADDRPOOL_FORMAT_BASE58CHECK);
    EXPECT(addrpool_wallets_account_describe(a, NULL, NULL, NULL), ADDRPOOL_OK);
    EXPECT(addrpool_wallets_account_describe(NULL, &net, &gap, &format), ADDRPOOL_E_NULL_ARGUMENT);
    CHECK(gap == 0);
    addrpool_wallets_account_free(a);
    addrpool_wallets_account_free(NULL);
}

TEST(account_new_checks_path_network_gap_and_key) {
    addrpool_wallets_account *a = (addrpool_wallets_account *)&a;
    EXPECT(addrpool_wallets_account_new(keys[0], "m/44'/1'/0'", ADDRPOOL_TESTNET, 0, NULL, &a),
           ADDRPOOL_E_INVALID_ARGUMENT);
    CHECK(a == NULL);
    EXPECT(addrpool_wallets_account_new(keys[0], "m/44'/1'/0'", ADDRPOOL_TESTNET, ADDRPOOL_MAX_GAP_LIMIT + 1, NULL, &a),
           ADDRPOOL_E_INVALID_ARGUMENT);
    EXPECT(addrpool_wallets_account_new(keys[0], "m/44'/1'/1'", ADDRPOOL_TESTNET, 20, NULL, &a),
           ADDRPOOL_E_INVALID_ARGUMENT); /* another account's path */
    EXPECT(addrpool_wallets_account_new(keys[0], "m/44'/1'/0'", ADDRPOOL_MAINNET, 20, NULL, &a),
           ADDRPOOL_E_INVALID_ARGUMENT); /* another network family */
    EXPECT(addrpool_wallets_account_new(keys[0], "m/44'/1'/0'", (addrpool_network)9, 20, NULL, &a),
           ADDRPOOL_E_INVALID_ARGUMENT);
    EXPECT(addrpool_wallets_account_new(keys[0], "44'/1'/0'", ADDRPOOL_TESTNET, 20, NULL, &a), ADDRPOOL_E_INVALID_PATH);
    EXPECT(addrpool_wallets_account_new(NULL, "m/44'/1'/0'", ADDRPOOL_TESTNET, 20, NULL, &a),
           ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_account_new(keys[0], NULL, ADDRPOOL_TESTNET, 20, NULL, &a), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_account_new(keys[0], "m/44'/1'/0'", ADDRPOOL_TESTNET, 20, NULL, NULL),
           ADDRPOOL_E_NULL_ARGUMENT);
    addrpool_pool_options o;
    EXPECT(addrpool_pool_options_init(&o), ADDRPOOL_OK);
    o.lookahead = ADDRPOOL_MAX_LOOKAHEAD + 1;
    EXPECT(addrpool_wallets_account_new(keys[0], "m/44'/1'/0'", ADDRPOOL_TESTNET, 20, &o, &a),
           ADDRPOOL_E_INVALID_ARGUMENT);
    /* A depth-255 key under a relative account path ("m"): its addresses
     * would be at depth 257. Refused, like a pool on that key. */
    addrpool_key_source *deep = NULL;
    EXPECT(addrpool_key_source_from_xprv(KEY_DEPTH_255, &deep), ADDRPOOL_OK);
    a = (addrpool_wallets_account *)&a;
    EXPECT(addrpool_wallets_account_new(deep, "m", ADDRPOOL_TESTNET, 20, NULL, &a), ADDRPOOL_E_INVALID_ARGUMENT);
    CHECK(a == NULL);
    CHECK(strstr(addrpool_last_error(), "deeper than 255") != NULL);
    addrpool_key_source_free(deep);
    /* A NONE source makes an account that cannot derive. */
    addrpool_key_source *none = NULL;
    EXPECT(addrpool_key_source_none(&none), ADDRPOOL_OK);
    EXPECT(addrpool_wallets_account_new(none, "m/44'/1'/0'", ADDRPOOL_TESTNET, 20, NULL, &a), ADDRPOOL_OK);
    uint32_t index;
    uint64_t ticket;
    EXPECT(addrpool_wallets_account_reserve(a, ADDRPOOL_EXTERNAL, &index, &ticket, NULL, 0), ADDRPOOL_E_NO_KEY_SOURCE);
    addrpool_wallets_account_free(a);
    addrpool_key_source_free(none);
}

/* _ex: its options reach both pools (the format shows it) and are checked
 * like addrpool_pool_new_keyless_ex's. With derive_threads 2 the account's
 * 300-address windows (more than 256) derive on two threads, and a block
 * paying index 299 must match: a wrong parallel derivation would not. No
 * call reports derive_threads back, so this does not show it arrived. */
TEST(account_new_ex_gives_both_pools_its_options) {
    addrpool_pool_options_ex o;
    EXPECT(addrpool_pool_options_ex_init(&o), ADDRPOOL_OK);
    o.format = ADDRPOOL_FORMAT_PLATFORM;
    o.derive_threads = 2;
    addrpool_wallets_account *a = NULL;
    EXPECT(addrpool_wallets_account_new_ex(keys[0], "m/44'/1'/0'", ADDRPOOL_TESTNET, 300, &o, &a), ADDRPOOL_OK);
    addrpool_network net = ADDRPOOL_MAINNET;
    uint32_t gap = 0;
    addrpool_address_format format = ADDRPOOL_FORMAT_BASE58CHECK;
    EXPECT(addrpool_wallets_account_describe(a, &net, &gap, &format), ADDRPOOL_OK);
    CHECK(net == ADDRPOOL_TESTNET && gap == 300 && format == ADDRPOOL_FORMAT_PLATFORM);
    char addr[ADDRPOOL_ADDRESS_MAX];
    uint32_t index = 1;
    uint64_t ticket = 0;
    EXPECT(addrpool_wallets_account_reserve(a, ADDRPOOL_EXTERNAL, &index, &ticket, addr, sizeof addr), ADDRPOOL_OK);
    CHECK(index == 0 && strncmp(addr, "tdash1k", 7) == 0);
    EXPECT(addrpool_wallets_account_reserve(a, ADDRPOOL_INTERNAL, &index, &ticket, addr, sizeof addr), ADDRPOOL_OK);
    CHECK(index == 0 && strncmp(addr, "tdash1k", 7) == 0);

    addrpool_wallets *set = NULL;
    EXPECT(addrpool_wallets_new(&set), ADDRPOOL_OK);
    bool added = false;
    EXPECT(addrpool_wallets_add(set, "shop", 0, a, &added), ADDRPOOL_OK);
    CHECK(added);
    addrpool_wallets_match *m = NULL;
    size_t n = 0;
    EXPECT(mark_one(set, 0, ADDRPOOL_EXTERNAL, 299, &m, &n), ADDRPOOL_OK);
    CHECK(n == 1 && m != NULL && m[0].index == 299 && m[0].newly_used);
    addrpool_wallets_matches_free(m);
    addrpool_wallets_free(set);
    addrpool_wallets_account_free(a);

    /* NULL options: the defaults. */
    EXPECT(addrpool_wallets_account_new_ex(keys[0], "m/44'/1'/0'", ADDRPOOL_TESTNET, 20, NULL, &a), ADDRPOOL_OK);
    EXPECT(addrpool_wallets_account_describe(a, NULL, NULL, &format), ADDRPOOL_OK);
    CHECK(format == ADDRPOOL_FORMAT_BASE58CHECK);
    addrpool_wallets_account_free(a);
    /* Checked: derive_threads, size, lookahead, and what account_new checks. */
    a = (addrpool_wallets_account *)&a;
    o.derive_threads = ADDRPOOL_MAX_DERIVE_THREADS + 1;
    EXPECT(addrpool_wallets_account_new_ex(keys[0], "m/44'/1'/0'", ADDRPOOL_TESTNET, 20, &o, &a),
           ADDRPOOL_E_INVALID_ARGUMENT);
    CHECK(a == NULL);
    EXPECT(addrpool_pool_options_ex_init(&o), ADDRPOOL_OK);
    o.size = sizeof o + 4;
    EXPECT(addrpool_wallets_account_new_ex(keys[0], "m/44'/1'/0'", ADDRPOOL_TESTNET, 20, &o, &a),
           ADDRPOOL_E_INVALID_ARGUMENT);
    EXPECT(addrpool_pool_options_ex_init(&o), ADDRPOOL_OK);
    o.lookahead = ADDRPOOL_MAX_LOOKAHEAD + 1;
    EXPECT(addrpool_wallets_account_new_ex(keys[0], "m/44'/1'/0'", ADDRPOOL_TESTNET, 20, &o, &a),
           ADDRPOOL_E_INVALID_ARGUMENT);
    EXPECT(addrpool_wallets_account_new_ex(keys[0], "m/44'/1'/1'", ADDRPOOL_TESTNET, 20, NULL, &a),
           ADDRPOOL_E_INVALID_ARGUMENT); /* another account's path */
    EXPECT(addrpool_wallets_account_new_ex(keys[0], "m/44'/1'/0'", ADDRPOOL_TESTNET, 0, NULL, &a),
           ADDRPOOL_E_INVALID_ARGUMENT);
    EXPECT(addrpool_wallets_account_new_ex(NULL, "m/44'/1'/0'", ADDRPOOL_TESTNET, 20, NULL, &a),
           ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_account_new_ex(keys[0], "m/44'/1'/0'", ADDRPOOL_TESTNET, 20, NULL, NULL),
           ADDRPOOL_E_NULL_ARGUMENT);
}

TEST(a_set_registers_finds_and_removes_accounts_and_handles_outlive_it) {
    addrpool_wallets *set = NULL;
    EXPECT(addrpool_wallets_new(&set), ADDRPOOL_OK);
    addrpool_wallets_account *a0 = account(0, 20), *a1 = account(1, 20);
    bool added = false, removed = false;
    EXPECT(addrpool_wallets_add(set, "shop", 0, a0, &added), ADDRPOOL_OK);
    CHECK(added);
    EXPECT(addrpool_wallets_add(set, "shop", 1, a1, &added), ADDRPOOL_OK);
    CHECK(added);
    EXPECT(addrpool_wallets_add(set, "shop", 0, a1, &added), ADDRPOOL_OK);
    CHECK(!added); /* the key is taken */
    EXPECT(addrpool_wallets_add(set, "other", 9, a0, &added), ADDRPOOL_OK);
    CHECK(!added); /* registered already */
    size_t size = 0;
    EXPECT(addrpool_wallets_size(set, &size), ADDRPOOL_OK);
    CHECK(size == 2);
    addrpool_wallets_account *found = NULL;
    EXPECT(addrpool_wallets_find(set, "shop", 1, &found), ADDRPOOL_OK);
    CHECK(found != NULL);
    uint32_t index = 9;
    uint64_t ticket = 0;
    /* The found handle and a1 are one account: hand-outs continue. */
    EXPECT(addrpool_wallets_account_reserve(a1, ADDRPOOL_EXTERNAL, &index, &ticket, NULL, 0), ADDRPOOL_OK);
    EXPECT(addrpool_wallets_account_reserve(found, ADDRPOOL_EXTERNAL, &index, &ticket, NULL, 0), ADDRPOOL_OK);
    CHECK(index == 1);
    addrpool_wallets_account *none = (addrpool_wallets_account *)&none;
    EXPECT(addrpool_wallets_find(set, "shop", 7, &none), ADDRPOOL_OK);
    CHECK(none == NULL);
    EXPECT(addrpool_wallets_remove(set, "shop", 1, &removed), ADDRPOOL_OK);
    CHECK(removed);
    EXPECT(addrpool_wallets_remove(set, "shop", 1, &removed), ADDRPOOL_OK);
    CHECK(!removed);
    /* Another set refuses an account that joined this one. */
    addrpool_wallets *other = NULL;
    EXPECT(addrpool_wallets_new(&other), ADDRPOOL_OK);
    EXPECT(addrpool_wallets_add(other, "shop", 1, a1, &added), ADDRPOOL_OK);
    CHECK(!added);
    addrpool_wallets_free(other);
    addrpool_wallets_free(set); /* the handles live on */
    EXPECT(addrpool_wallets_account_reserve(found, ADDRPOOL_EXTERNAL, &index, &ticket, NULL, 0), ADDRPOOL_OK);
    CHECK(index == 2);
    EXPECT(addrpool_wallets_account_reserve(a0, ADDRPOOL_INTERNAL, &index, &ticket, NULL, 0), ADDRPOOL_OK);
    addrpool_wallets_account_free(found);
    addrpool_wallets_account_free(a1);
    addrpool_wallets_account_free(a0);
    addrpool_wallets_free(NULL);

    EXPECT(addrpool_wallets_new(NULL), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_add(NULL, "w", 0, NULL, &added), ADDRPOOL_E_NULL_ARGUMENT);
    CHECK(!added);
    EXPECT(addrpool_wallets_remove(NULL, "w", 0, &removed), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_find(NULL, "w", 0, &found), ADDRPOOL_E_NULL_ARGUMENT);
    CHECK(found == NULL);
    EXPECT(addrpool_wallets_size(NULL, &size), ADDRPOOL_E_NULL_ARGUMENT);
    CHECK(size == 0);
}

TEST(one_block_is_matched_across_accounts_with_widening_windows) {
    addrpool_wallets *set = NULL;
    EXPECT(addrpool_wallets_new(&set), ADDRPOOL_OK);
    addrpool_wallets_account *a0 = account(0, 5), *a1 = account(1, 5);
    bool added;
    EXPECT(addrpool_wallets_add(set, "alice", 0, a0, &added), ADDRPOOL_OK);
    EXPECT(addrpool_wallets_add(set, "bob", 1, a1, &added), ADDRPOOL_OK);
    /* alice/0 external 8 (outside the window until 4 is paid, later in the
     * block), an output that is not ours, bob/1 change 2, alice/0 external 4. */
    uint8_t s[4][ADDRPOOL_SCRIPT_MAX];
    size_t len[4];
    len[0] = script_of(0, ADDRPOOL_EXTERNAL, 8, s[0]);
    EXPECT(addrpool_wallets_address_script("8eRUv6F6pmr7sCiCXf3UoopN4GdSSt6SgR", s[1], sizeof s[1], &len[1]),
           ADDRPOOL_OK); /* a P2SH output */
    CHECK(len[1] == 23);
    len[2] = script_of(1, ADDRPOOL_INTERNAL, 2, s[2]);
    len[3] = script_of(0, ADDRPOOL_EXTERNAL, 4, s[3]);
    const uint8_t *scripts[4] = {s[0], s[1], s[2], s[3]};
    addrpool_wallets_match *m = NULL;
    size_t n = 0;
    EXPECT(addrpool_wallets_mark_scripts_used(set, scripts, len, 4, &m, &n), ADDRPOOL_OK);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(m[0].position == 0 && strcmp(m[0].wallet, "alice") == 0 && m[0].account == 0);
        CHECK(m[0].chain == ADDRPOOL_EXTERNAL && m[0].index == 8 && m[0].newly_used);
        CHECK(m[1].position == 2 && strcmp(m[1].wallet, "bob") == 0 && m[1].chain == ADDRPOOL_INTERNAL &&
              m[1].index == 2);
        CHECK(m[2].position == 3 && m[2].index == 4);
    }
    addrpool_wallets_matches_free(m);
    addrpool_address_state state;
    EXPECT(addrpool_wallets_account_state(a0, ADDRPOOL_EXTERNAL, 8, &state), ADDRPOOL_OK);
    CHECK(state == ADDRPOOL_STATE_USED);
    /* Again: nothing new; an empty block; no match: NULL and 0. */
    EXPECT(addrpool_wallets_mark_scripts_used(set, scripts, len, 4, &m, &n), ADDRPOOL_OK);
    CHECK(n == 3 && !m[0].newly_used && !m[2].newly_used);
    addrpool_wallets_matches_free(m);
    EXPECT(addrpool_wallets_mark_scripts_used(set, NULL, NULL, 0, &m, &n), ADDRPOOL_OK);
    CHECK(m == NULL && n == 0);
    EXPECT(addrpool_wallets_mark_scripts_used(set, &scripts[1], &len[1], 1, &m, &n), ADDRPOOL_OK);
    CHECK(m == NULL && n == 0);
    /* Errors. */
    const uint8_t *null_script[1] = {NULL};
    size_t one = 1, zero = 0;
    EXPECT(addrpool_wallets_mark_scripts_used(set, null_script, &one, 1, &m, &n), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_mark_scripts_used(set, null_script, &zero, 1, &m, &n), ADDRPOOL_OK);
    EXPECT(addrpool_wallets_mark_scripts_used(set, NULL, len, 4, &m, &n), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_mark_scripts_used(NULL, scripts, len, 4, &m, &n), ADDRPOOL_E_NULL_ARGUMENT);
    CHECK(m == NULL && n == 0);
    /* A count no allocation can hold: refused before any script is read. */
    EXPECT(addrpool_wallets_mark_scripts_used(set, scripts, len, SIZE_MAX, &m, &n), ADDRPOOL_E_OUT_OF_MEMORY);
    CHECK(m == NULL && n == 0);
    EXPECT(addrpool_wallets_mark_scripts_used(set, scripts, len, 4, NULL, &n), ADDRPOOL_E_NULL_ARGUMENT);
    addrpool_wallets_matches_free(NULL);
    /* The sweep. */
    uint32_t index;
    uint64_t ticket;
    EXPECT(addrpool_wallets_account_reserve(a1, ADDRPOOL_EXTERNAL, &index, &ticket, NULL, 0), ADDRPOOL_OK);
    size_t freed = 9;
    EXPECT(addrpool_wallets_sweep(set, 3600000, &freed), ADDRPOOL_OK);
    CHECK(freed == 0);
    EXPECT(addrpool_wallets_sweep(set, 0, &freed), ADDRPOOL_OK);
    CHECK(freed == 1);
    EXPECT(addrpool_wallets_sweep(NULL, 0, &freed), ADDRPOOL_E_NULL_ARGUMENT);
    CHECK(freed == 0);
    addrpool_wallets_account_free(a0);
    addrpool_wallets_account_free(a1);
    addrpool_wallets_free(set);
}

TEST(address_script_gives_the_output_script_and_names_bad_input) {
    uint8_t s[ADDRPOOL_SCRIPT_MAX];
    size_t len = 9;
    EXPECT(addrpool_wallets_address_script(EXTERNAL_1, s, sizeof s, &len), ADDRPOOL_OK);
    CHECK(len == 25 && s[0] == 0x76 && s[1] == 0xa9 && s[2] == 0x14 && s[23] == 0x88 && s[24] == 0xac);
    EXPECT(addrpool_wallets_address_script(EXTERNAL_1, s, 24, &len), ADDRPOOL_E_BUFFER_TOO_SMALL);
    CHECK(len == 0);
    EXPECT(addrpool_wallets_address_script("not an address", s, sizeof s, &len), ADDRPOOL_E_INVALID_ENCODING);
    EXPECT(addrpool_wallets_address_script("yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjT", s, sizeof s, &len),
           ADDRPOOL_E_BAD_CHECKSUM);
    EXPECT(addrpool_wallets_address_script("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", s, sizeof s, &len),
           ADDRPOOL_E_UNKNOWN_VERSION);
    EXPECT(addrpool_wallets_address_script(NULL, s, sizeof s, &len), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_address_script(EXTERNAL_1, NULL, sizeof s, &len), ADDRPOOL_E_NULL_ARGUMENT);
}

/* The load callback: the account's key source, or NULL (watch-only). */
struct key_context {
    int calls;
    bool watch_only;
    bool wrong;
};
static const addrpool_key_source *keys_for(void *context, const char *wallet, uint32_t account_number) {
    struct key_context *c = context;
    ++c->calls;
    CHECK(strcmp(wallet, "shop") == 0 || strcmp(wallet, "a wallet") == 0);
    if (c->watch_only) return NULL;
    if (c->wrong) return keys[(account_number + 1) % 2];
    return account_number < 2 ? keys[account_number] : NULL;
}

TEST(saves_are_incremental_and_load_takes_keys_from_a_callback) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s/set", tmpdir);
    addrpool_wallets *set = NULL;
    EXPECT(addrpool_wallets_new(&set), ADDRPOOL_OK);
    addrpool_wallets_account *a0 = account(0, 20), *a1 = account(1, 20);
    bool added;
    EXPECT(addrpool_wallets_add(set, "shop", 0, a0, &added), ADDRPOOL_OK);
    EXPECT(addrpool_wallets_add(set, "a wallet", 1, a1, &added), ADDRPOOL_OK);
    uint32_t index;
    uint64_t ticket;
    EXPECT(addrpool_wallets_account_reserve(a0, ADDRPOOL_EXTERNAL, &index, &ticket, NULL, 0), ADDRPOOL_OK);
    size_t written = 99;
    EXPECT(addrpool_wallets_save(set, dir, &written), ADDRPOOL_OK);
    CHECK(written == 4);
    EXPECT(addrpool_wallets_save(set, dir, &written), ADDRPOOL_OK);
    CHECK(written == 0);
    addrpool_wallets_match *m = NULL;
    size_t n = 0;
    EXPECT(mark_one(set, 1, ADDRPOOL_INTERNAL, 3, &m, &n), ADDRPOOL_OK);
    CHECK(n == 1);
    addrpool_wallets_matches_free(m);
    EXPECT(addrpool_wallets_save(set, dir, NULL), ADDRPOOL_OK);
    EXPECT(addrpool_wallets_save(set, dir, &written), ADDRPOOL_OK);
    CHECK(written == 0);

    struct key_context ctx = {0, false, false};
    addrpool_wallets *back = NULL;
    EXPECT(addrpool_wallets_load(dir, keys_for, &ctx, NULL, &back), ADDRPOOL_OK);
    CHECK(ctx.calls == 2);
    size_t size = 0;
    EXPECT(addrpool_wallets_size(back, &size), ADDRPOOL_OK);
    CHECK(size == 2);
    addrpool_wallets_account *b1 = NULL;
    EXPECT(addrpool_wallets_find(back, "a wallet", 1, &b1), ADDRPOOL_OK);
    addrpool_address_state state;
    EXPECT(addrpool_wallets_account_state(b1, ADDRPOOL_INTERNAL, 3, &state), ADDRPOOL_OK);
    CHECK(state == ADDRPOOL_STATE_USED);
    addrpool_pool_stats st;
    EXPECT(addrpool_wallets_account_stats(b1, ADDRPOOL_INTERNAL, &st), ADDRPOOL_OK);
    CHECK(st.generated == 1 && st.used == 1 && st.reserved == 0);
    addrpool_wallets_account_free(b1);
    addrpool_wallets_free(back);

    /* Watch-only: no keys at all. */
    struct key_context watch = {0, true, false};
    EXPECT(addrpool_wallets_load(dir, keys_for, &watch, NULL, &back), ADDRPOOL_OK);
    addrpool_wallets_account *w0 = NULL;
    EXPECT(addrpool_wallets_find(back, "shop", 0, &w0), ADDRPOOL_OK);
    EXPECT(addrpool_wallets_account_reserve(w0, ADDRPOOL_EXTERNAL, &index, &ticket, NULL, 0), ADDRPOOL_OK);
    CHECK(index == 0); /* generated by the first save's hand-out */
    EXPECT(addrpool_wallets_account_reserve(w0, ADDRPOOL_EXTERNAL, &index, &ticket, NULL, 0),
           ADDRPOOL_E_NO_KEY_SOURCE);
    addrpool_wallets_account_free(w0);
    addrpool_wallets_free(back);

    /* Errors: keys that do not fit, a missing or damaged directory, NULLs. */
    struct key_context wrong = {0, false, true};
    back = (addrpool_wallets *)&back;
    EXPECT(addrpool_wallets_load(dir, keys_for, &wrong, NULL, &back), ADDRPOOL_E_INVALID_ARGUMENT);
    CHECK(back == NULL);
    CHECK(strstr(addrpool_last_error(), "account") != NULL);
    char missing[320];
    snprintf(missing, sizeof missing, "%s/missing", tmpdir);
    EXPECT(addrpool_wallets_load(missing, keys_for, &ctx, NULL, &back), ADDRPOOL_E_IO_ERROR);
    char manifest[320];
    snprintf(manifest, sizeof manifest, "%s/wallets.manifest", dir);
    FILE *f = fopen(manifest, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("not a manifest\n", f);
        fclose(f);
    }
    EXPECT(addrpool_wallets_load(dir, keys_for, &ctx, NULL, &back), ADDRPOOL_E_BAD_MAGIC);
    EXPECT(addrpool_wallets_load(dir, NULL, &ctx, NULL, &back), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_load(NULL, keys_for, &ctx, NULL, &back), ADDRPOOL_E_NULL_ARGUMENT);
    EXPECT(addrpool_wallets_load(dir, keys_for, &ctx, NULL, NULL), ADDRPOOL_E_NULL_ARGUMENT);
    addrpool_pool_options o;
    EXPECT(addrpool_pool_options_init(&o), ADDRPOOL_OK);
    o.gap_policy = (addrpool_gap_policy)5;
    EXPECT(addrpool_wallets_load(dir, keys_for, &ctx, &o, &back), ADDRPOOL_E_INVALID_ARGUMENT);
    /* The set rewrites the directory whole: it is no longer what it saved. */
    EXPECT(addrpool_wallets_save(set, dir, &written), ADDRPOOL_OK);
    CHECK(written == 4);
    EXPECT(addrpool_wallets_save(NULL, dir, &written), ADDRPOOL_E_NULL_ARGUMENT);
    CHECK(written == 0);
    EXPECT(addrpool_wallets_save(set, NULL, &written), ADDRPOOL_E_NULL_ARGUMENT);
    char file[320];
    snprintf(file, sizeof file, "%s/a-file", tmpdir);
    f = fopen(file, "wb");
    if (f != NULL) fclose(f);
    EXPECT(addrpool_wallets_save(set, file, &written), ADDRPOOL_E_IO_ERROR); /* not a directory */
    addrpool_wallets_account_free(a0);
    addrpool_wallets_account_free(a1);
    addrpool_wallets_free(set);
}

/* ---- threads released together ------------------------------------------ */

enum { READERS = 6, ROUNDS = 200, ACCOUNTS = 8 };
static addrpool_wallets *shared_set;
static addrpool_wallets_account *shared_accounts[ACCOUNTS];
static pthread_barrier_t start;
static atomic_bool stop;
static uint32_t got[READERS][4096];
static int got_n[READERS];

static void *reader(void *arg) {
    const int t = (int)(intptr_t)arg;
    unsigned seed = (unsigned)t * 7919u + 1;
    pthread_barrier_wait(&start);
    while (!atomic_load_explicit(&stop, memory_order_relaxed) && got_n[t] < 4096) { /* relaxed: a stop flag */
        const uint32_t n = (uint32_t)(rand_r(&seed) % ACCOUNTS);
        char name[16];
        snprintf(name, sizeof name, "w%u", n);
        addrpool_wallets_account *a = NULL;
        if (addrpool_wallets_find(shared_set, name, n, &a) != ADDRPOOL_OK) atomic_fetch_add(&failures, 1);
        if (a == NULL) continue;
        uint32_t index;
        uint64_t ticket;
        if (addrpool_wallets_account_reserve(a, ADDRPOOL_EXTERNAL, &index, &ticket, NULL, 0) == ADDRPOOL_OK) {
            got[t][got_n[t]++] = n << 16 | index;
        }
        addrpool_wallets_account_free(a);
    }
    return NULL;
}

static void *writer(void *arg) {
    (void)arg;
    unsigned seed = 12345;
    pthread_barrier_wait(&start);
    for (int r = 0; r < ROUNDS; ++r) {
        const uint32_t n = (uint32_t)(rand_r(&seed) % ACCOUNTS);
        char name[16];
        snprintf(name, sizeof name, "w%u", n);
        bool done = false;
        if (addrpool_wallets_remove(shared_set, name, n, &done) != ADDRPOOL_OK) atomic_fetch_add(&failures, 1);
        if (!done && (addrpool_wallets_add(shared_set, name, n, shared_accounts[n], &done) != ADDRPOOL_OK || !done)) {
            atomic_fetch_add(&failures, 1);
        }
    }
    atomic_store_explicit(&stop, true, memory_order_relaxed); /* relaxed: a stop flag */
    return NULL;
}

static int cmp_u32(const void *a, const void *b) {
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

TEST(finds_and_hand_outs_run_while_another_thread_adds_and_removes) {
    EXPECT(addrpool_wallets_new(&shared_set), ADDRPOOL_OK);
    for (unsigned n = 0; n < ACCOUNTS; ++n) shared_accounts[n] = account(n % 2, 20);
    pthread_barrier_init(&start, NULL, READERS + 1);
    pthread_t th[READERS + 1];
    for (int t = 0; t < READERS; ++t) pthread_create(&th[t], NULL, reader, (void *)(intptr_t)t);
    pthread_create(&th[READERS], NULL, writer, NULL);
    for (int t = 0; t <= READERS; ++t) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&start);
    /* No (account, index) handed out twice; each account holds what was handed out. */
    static uint32_t all[READERS * 4096];
    size_t total = 0;
    for (int t = 0; t < READERS; ++t) {
        for (int k = 0; k < got_n[t]; ++k) all[total++] = got[t][k];
    }
    qsort(all, total, sizeof all[0], cmp_u32);
    size_t dup = 0;
    for (size_t k = 1; k < total; ++k) dup += all[k] == all[k - 1];
    CHECK(dup == 0);
    uint32_t reserved = 0;
    for (unsigned n = 0; n < ACCOUNTS; ++n) {
        addrpool_pool_stats st;
        EXPECT(addrpool_wallets_account_stats(shared_accounts[n], ADDRPOOL_EXTERNAL, &st), ADDRPOOL_OK);
        reserved += st.reserved;
        addrpool_wallets_account_free(shared_accounts[n]);
    }
    CHECK(reserved == total);
    addrpool_wallets_free(shared_set);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "%s/addrpool-c-wallets-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    for (unsigned n = 0; n < 2; ++n) {
        char path[32];
        snprintf(path, sizeof path, "m/44'/1'/%u'", n);
        EXPECT(addrpool_key_source_from_mnemonic(MNEMONIC, NULL, ADDRPOOL_TESTNET, path, &keys[n]), ADDRPOOL_OK);
    }
    {
        /* Account 0's xpub is the one every other test of the C ABI uses. */
        char xpub[200];
        size_t required = 0;
        EXPECT(addrpool_key_source_account_xpub(keys[0], xpub, sizeof xpub, &required), ADDRPOOL_OK);
        CHECK(strcmp(xpub, ACCOUNT_TPUB) == 0);
    }
    RUN(the_match_struct_has_the_documented_layout);
    RUN(accounts_hand_out_their_receive_and_change_addresses);
    RUN(account_new_checks_path_network_gap_and_key);
    RUN(account_new_ex_gives_both_pools_its_options);
    RUN(a_set_registers_finds_and_removes_accounts_and_handles_outlive_it);
    RUN(one_block_is_matched_across_accounts_with_widening_windows);
    RUN(address_script_gives_the_output_script_and_names_bad_input);
    RUN(saves_are_incremental_and_load_takes_keys_from_a_callback);
    RUN(finds_and_hand_outs_run_while_another_thread_adds_and_removes);
    for (unsigned n = 0; n < 2; ++n) addrpool_key_source_free(keys[n]);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    const int f = atomic_load(&failures);
    printf("%s: %d failed check(s)\n", f == 0 ? "PASS" : "FAIL", f);
    return f == 0 ? 0 : 1;
}
