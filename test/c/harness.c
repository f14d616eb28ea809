/* The C tests' harness state and shared keys (declared in harness.h),
 * linked into test-c-api (with test_sync.c) and test-c-wallets. */
#include "harness.h"

#include <addrpool/addrpool.h>

#include <stdatomic.h>
#include <stdio.h>

/* ---- keys and addresses (BIP32 vector 1 re-versioned for testnet; the
 * BIP44 "abandon ... about" wallet of test/data/dash_bip44.json) ---------- */

const char *const MNEMONIC =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const char *const ACCOUNT_PATH = "m/44'/1'/0'";
const char *const ACCOUNT_TPRV =
    "tprv8fPDJN9UQqg6pFsQsrVxTwHZmXLvHpfGGcsCA9rtnatUgVtBKxhtFeqiyaYKSWydunKpjhvgJf6PwTwgirwuCbFq8YKgpQiaVJf3JCrNmkR";
const char *const ACCOUNT_TPUB =
    "tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba";
const char *const EXTERNAL_0 = "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt";
const char *const EXTERNAL_1 = "yfd64jEpzzTLrHnR1wq3iiYXh68AiU8mcw";
const char *const EXTERNAL_2 = "yTGFWr27HBYsb8tkLbGdxLxuKbspamdbnG";

/* BIP32 vector 1 master key (depth 0), public; a key at depth 255. */
const char *const MASTER_TPUB =
    "tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp";
const char *const KEY_DEPTH_255 =
    "tprvGqWw9gfCtpSYi8CMmHQjnjT1EJFXH4fHGwRR4PUcBPE6TyFbeqJJ7uoA4W1KbMQn3X5L8zLfxdQirK2nqKERAq82vTaeZJno1cDRTGDwwBr";

/* ---- the harness ---- */

atomic_int failures;
int produced[ADDRPOOL_E_INTERNAL + 1];
char tmpdir[256];

void expect_status(addrpool_status got, addrpool_status want, const char *what, const char *file, int line) {
    const char *msg = addrpool_last_error();
    if (got != want) {
        fprintf(stderr, "%s:%d: %s returned %s (%d), expected %s (%d); last error: \"%s\"\n", file, line, what,
                addrpool_status_name(got), (int)got, addrpool_status_name(want), (int)want, msg);
        atomic_fetch_add(&failures, 1);
        return;
    }
    if ((got == ADDRPOOL_OK) != (msg[0] == '\0')) {
        fprintf(stderr, "%s:%d: %s: status %s but last error \"%s\"\n", file, line, what, addrpool_status_name(got),
                msg);
        atomic_fetch_add(&failures, 1);
    }
    if ((int)got >= 0 && (int)got <= ADDRPOOL_E_INTERNAL) produced[got] = 1;
}
