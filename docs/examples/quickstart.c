/* The C ABI in one page: a receive pool from a BIP39 mnemonic, three
 * hand-outs, then completion (used), return (release) and expiry (sweep).
 * Built and run by the tests; docs/api.md includes it verbatim. */
#include <addrpool/addrpool.h>

#include <stdio.h>

/* Every function returns a status; the message is thread-local. */
#define TRY(call)                                                                                  \
    do {                                                                                           \
        addrpool_status st_ = (call);                                                              \
        if (st_ != ADDRPOOL_OK) {                                                                  \
            fprintf(stderr, "%s: %s: %s\n", #call, addrpool_status_name(st_), addrpool_last_error()); \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

int main(void) {
    const char *words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                        "abandon about";
    addrpool_pool *pool = NULL;
    uint32_t index[3];
    uint64_t ticket[3];
    char address[3][ADDRPOOL_ADDRESS_MAX];
    bool changed = false, released = false;
    size_t freed = 0;
    addrpool_pool_stats stats;

    /* Account m/44'/1'/0' on testnet; this pool is its external chain /0. */
    TRY(addrpool_pool_new_from_mnemonic(words, "", "m/44'/1'/0'", ADDRPOOL_TESTNET, ADDRPOOL_EXTERNAL, 20, &pool));

    for (int i = 0; i < 3; ++i) {
        TRY(addrpool_reserve(pool, &index[i], &ticket[i], address[i], sizeof address[i]));
        printf("reserved %u %s\n", (unsigned)index[i], address[i]);
    }
    TRY(addrpool_mark_used(pool, address[0], &changed));  /* the payment arrived */
    TRY(addrpool_release(pool, index[1], ticket[1], &released)); /* checkout cancelled */
    TRY(addrpool_sweep(pool, 30u * 60u * 1000u, &freed)); /* expire after 30 minutes */
    TRY(addrpool_stats(pool, &stats));
    printf("used %u reserved %u freed %zu changed %d released %d\n", (unsigned)stats.used,
           (unsigned)stats.reserved, freed, (int)changed, (int)released);
    addrpool_pool_free(pool);
    return 0;
fail:
    addrpool_pool_free(pool); /* NULL is fine */
    return 1;
}
