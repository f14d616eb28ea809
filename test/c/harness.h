/* The C tests' tiny harness, shared by test_c_api.c (whose main also runs
 * test_sync.c's tests) and test_wallets.c; harness.c defines the state and
 * keys below and is linked into both programs.
 *
 * CHECK(cond) counts a failure; EXPECT(call, status) checks a call's status
 * and that its last-error message is "" exactly on success, and records the
 * status in `produced` (test_c_api.c's last check: every status code was
 * produced by some test). EXPECT and CHECK are for the main thread only:
 * `produced` is not atomic, so threads collect statuses and the main thread
 * checks them. */
#ifndef ADDRPOOL_TEST_C_HARNESS_H
#define ADDRPOOL_TEST_C_HARNESS_H

#include <addrpool/addrpool.h>

#include <stdatomic.h>
#include <stdio.h>

/* Keys and addresses (defined in harness.c): the BIP44 "abandon ... about"
 * testnet account m/44'/1'/0' and its first receive addresses, BIP32 vector
 * 1's master tpub, and a key at depth 255. */
extern const char *const MNEMONIC;
extern const char *const ACCOUNT_PATH;
extern const char *const ACCOUNT_TPRV;
extern const char *const ACCOUNT_TPUB;
extern const char *const MASTER_TPUB;
extern const char *const KEY_DEPTH_255;
extern const char *const EXTERNAL_0;
extern const char *const EXTERNAL_1;
extern const char *const EXTERNAL_2;

extern atomic_int failures;
extern int produced[ADDRPOOL_E_INTERNAL + 1];
extern char tmpdir[256]; /* a fresh directory, removed at exit */

void expect_status(addrpool_status got, addrpool_status want, const char *what, const char *file, int line);

#define CHECK(cond)                                                                                   \
    do {                                                                                              \
        if (!(cond)) {                                                                                \
            fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: \"%s\"\n", __FILE__, __LINE__, #cond, \
                    addrpool_last_error());                                                           \
            atomic_fetch_add(&failures, 1);                                                           \
        }                                                                                             \
    } while (0)

/* The call returns `want`; its message is "" exactly on success. */
#define EXPECT(call, want) expect_status((call), (want), #call, __FILE__, __LINE__)

#define TEST(name) static void name(void)
#define RUN(name)                                      \
    do {                                               \
        const int before = atomic_load(&failures);     \
        name();                                        \
        printf("%s %s\n", atomic_load(&failures) == before ? "ok  " : "FAIL", #name); \
    } while (0)

/* test_sync.c: the start-up and sync tests, run by test_c_api.c's main. */
void run_sync_tests(void);

#endif /* ADDRPOOL_TEST_C_HARNESS_H */
