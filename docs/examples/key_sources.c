/* The C ABI with key sources: one immutable key source shared by every
 * hand-out, a pool made without a key, hand-outs that pass the source and
 * add_to_state per call, and the pool's state through memory (serialize /
 * deserialize) instead of a file. Built and run by the tests; docs/api.md
 * includes it verbatim. */
#include <addrpool/addrpool.h>

#include <stdio.h>

#define TRY(call)                                                                                  \
    do {                                                                                           \
        addrpool_status st_ = (call);                                                              \
        if (st_ != ADDRPOOL_OK) {                                                                  \
            fprintf(stderr, "%s: %s: %s\n", #call, addrpool_status_name(st_), addrpool_last_error()); \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

int main(void) {
    const char *tpub = "tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba";
    addrpool_key_source *keys = NULL;
    addrpool_pool *pool = NULL, *copy = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char address[ADDRPOOL_ADDRESS_MAX];
    uint32_t index;
    uint64_t ticket;
    bool released = false;

    /* Account m/44'/1'/0' (watch-only); any number of threads may share it. */
    TRY(addrpool_key_source_from_xpub(tpub, &keys));
    /* Its receive chain, as a pool without key material. */
    TRY(addrpool_pool_new_keyless("m/44'/1'/0'/0", ADDRPOOL_EXTERNAL, 20, ADDRPOOL_TESTNET, NULL, &pool));

    TRY(addrpool_next_unused_and_reserve(pool, keys, true, address, sizeof address));
    printf("reserved %s\n", address);
    TRY(addrpool_reserve_with(pool, keys, true, &index, &ticket, address, sizeof address));
    printf("reserved %u %s\n", (unsigned)index, address);
    TRY(addrpool_release(pool, index, ticket, &released)); /* the checkout was cancelled */

    /* The durable state in memory: one snapshot, in the file format. */
    TRY(addrpool_serialize(pool, &bytes, &len));
    TRY(addrpool_deserialize(bytes, len, &copy));
    TRY(addrpool_reserve_with(copy, keys, true, &index, &ticket, address, sizeof address));
    printf("the copy (%zu bytes, no reservations) hands out %u %s; released %d\n", len, (unsigned)index, address,
           (int)released);

    addrpool_bytes_free(bytes);
    addrpool_pool_free(copy);
    addrpool_pool_free(pool);
    addrpool_key_source_free(keys);
    return 0;
fail:
    addrpool_bytes_free(bytes); /* NULL is fine for all four */
    addrpool_pool_free(copy);
    addrpool_pool_free(pool);
    addrpool_key_source_free(keys);
    return 1;
}
